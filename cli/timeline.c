/*
 * trackwatch timeline: the observations the sensor stored, in time order,
 * one line (or JSON object, or CSV row) per observation, trackers marked
 * with their company and category. Rows are read and written one at a
 * time, so a timeline of millions of rows needs no more memory than one.
 */
#include "commands.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sqlite3.h>

#include "control.h"
#include "db.h"
#include "phases.h"

static void timeline_usage(FILE *out)
{
	fprintf(out,
"Usage: trackwatch timeline [OPTION]...\n"
"Print what the devices contacted, in time order, one observation per line,\n"
"trackers marked with their company and category.\n"
"\n"
"Options:\n"
"      --db FILE          the sensor's database (default: store.path of the\n"
"                         configuration, else " DB_DEFAULT_PATH ")\n"
"  -d, --device DEVICE    only this device: a MAC, an address, the device key or\n"
"                         a configured name\n"
"  -s, --site SITE        only this site (a host under it names it too)\n"
"      --since TIME       only from TIME on: 2026-11-29T04:39:50Z (with optional\n"
"                         .sss), 2026-11-29 (midnight UTC), or a time ago: 30m,\n"
"                         2h, 7d\n"
"      --until TIME       only before TIME\n"
"  -t, --trackers-only    only the observations of trackers\n"
"  -f, --format FORMAT    text (default), json or csv\n"
"      --settle SECONDS   a consent decision read on the wire takes effect this\n"
"                         long before its first evidence (default 1)\n"
"  -h, --help             show this help and exit\n"
"\n"
"Each event has its consent phase: before (consent), accept, reject or partial.\n"
"Times are UTC. Names from the wire are escaped (\\xNN). See trackwatch(1).\n");
}

/* One row of the timeline; strings are the database's bytes (NULL for SQL NULL). */
struct event {
	int64_t ts;
	const char *device, *name, *site, *kind, *host, *entity, *category, *rule, *cname, *server;
	size_t device_len, name_len, site_len, kind_len, host_len, entity_len, category_len, rule_len,
		cname_len, server_len;
	bool tracker;
	json_t *lists;           /* the names of hits.lists_id, borrowed; NULL when no hit */
	int64_t run;
	enum phase phase;        /* the consent phase at its time (cli/phases.h) */
	const char *cookie, *decision, *source; /* cookie_sent/cookie_set: its name; consent: the signal */
	size_t cookie_len, decision_len, source_len;
};

static const char *const csv_columns[] = {
	"ts", "device", "device_name", "site", "kind", "host", "tracker", "entity", "category",
	"lists", "rule", "cname", "server", "run", "phase", "cookie", "decision", "source",
};

/* Widths of the text columns; a longer value is shortened around "...". */
enum {
	TEXT_DEVICE = 17,          /* a MAC */
	TEXT_SITE = 22,
	TEXT_KIND = 12,            /* "http_request" */
	TEXT_PHASE = 7,            /* "partial" */
	TEXT_HOST = 80,
};

static void print_text(FILE *out, struct db_buf *buf, const struct event *e)
{
	char ts[DB_TIME_MAX];
	db_format_time(e->ts, ts);
	fprintf(out, "%-24s  ", ts);
	/* The operator's name for the device when there is one: it is what people know it by. */
	if (e->name)
		db_text_value(out, buf, e->name, e->name_len, 1, TEXT_DEVICE, 1);
	else
		db_text_value(out, buf, e->device, e->device_len, 0, TEXT_DEVICE, 1);
	fputs("  ", out);
	db_text_value(out, buf, e->site, e->site_len, 0, TEXT_SITE, 1);
	fputs("  ", out);
	db_text_value(out, buf, e->kind, e->kind_len, 0, TEXT_KIND, 1);
	/* The phase in one word: before, accept, reject, partial. */
	const char *phase = phase_name(e->phase);
	const char *under = strchr(phase, '_');
	fprintf(out, "  %-*s  ", TEXT_PHASE, e->phase == PHASE_BEFORE ? "before" : under ? under + 1 : phase);
	db_text_value(out, buf, e->host, e->host_len, 0, TEXT_HOST, 0);
	if (e->cookie) {
		fputs("  cookie ", out);
		db_text_value(out, buf, e->cookie, e->cookie_len, 0, TEXT_HOST, 0);
	}
	if (e->decision) {
		fputs("  ", out);
		db_text_value(out, buf, e->decision, e->decision_len, 0, TEXT_HOST, 0);
		fputs(" by ", out);
		db_text_value(out, buf, e->source, e->source_len, 0, TEXT_HOST, 0);
	}
	if (e->tracker) {
		fputs("  [tracker", out);
		if (e->entity) {
			fputs(": ", out);
			db_text_value(out, buf, e->entity, e->entity_len, 1, SIZE_MAX, 0);
		}
		if (e->category) {
			fputs(e->entity ? ", " : ": ", out);
			db_text_value(out, buf, e->category, e->category_len, 1, SIZE_MAX, 0);
		}
		if (e->cname) {
			fputs("; CNAME ", out);
			db_text_value(out, buf, e->cname, e->cname_len, 0, TEXT_HOST, 0);
		}
		putc(']', out);
	}
	putc('\n', out);
}

static void print_csv(FILE *out, struct db_buf *buf, const struct event *e)
{
	char ts[DB_TIME_MAX];
	db_format_time(e->ts, ts);
	fprintf(out, "%s,", ts);
	db_csv_value(out, buf, e->device, e->device_len);
	putc(',', out);
	db_csv_value(out, buf, e->name, e->name_len);
	putc(',', out);
	db_csv_value(out, buf, e->site, e->site_len);
	putc(',', out);
	db_csv_value(out, buf, e->kind, e->kind_len);
	putc(',', out);
	db_csv_value(out, buf, e->host, e->host_len);
	fprintf(out, ",%s,", e->tracker ? "true" : "false");
	db_csv_value(out, buf, e->entity, e->entity_len);
	putc(',', out);
	db_csv_value(out, buf, e->category, e->category_len);
	putc(',', out);
	if (e->lists && db_join_names(buf, e->lists, ";"))
		db_csv_field(out, buf->data, buf->len);
	putc(',', out);
	db_csv_value(out, buf, e->rule, e->rule_len);
	putc(',', out);
	db_csv_value(out, buf, e->cname, e->cname_len);
	putc(',', out);
	db_csv_value(out, buf, e->server, e->server_len);
	fprintf(out, ",%lld,%s,", (long long)e->run, phase_name(e->phase));
	db_csv_value(out, buf, e->cookie, e->cookie_len);
	putc(',', out);
	db_csv_value(out, buf, e->decision, e->decision_len);
	putc(',', out);
	db_csv_value(out, buf, e->source, e->source_len);
	fputs("\r\n", out);
}

/* One event as a JSON object; -1 when out of memory. */
static int print_json(FILE *out, const struct event *e, bool first)
{
	char ts[DB_TIME_MAX];
	db_format_time(e->ts, ts);
	json_t *o = json_object();
	if (!o)
		return -1;
	int rc = 0;
	rc |= json_object_set_new(o, "ts", json_string(ts));
	rc |= json_object_set_new(o, "device", db_json_wire(e->device, e->device_len));
	rc |= json_object_set_new(o, "device_name", db_json_text(e->name, e->name_len));
	rc |= json_object_set_new(o, "site", db_json_wire(e->site, e->site_len));
	rc |= json_object_set_new(o, "kind", db_json_wire(e->kind, e->kind_len));
	rc |= json_object_set_new(o, "host", db_json_wire(e->host, e->host_len));
	rc |= json_object_set_new(o, "tracker", json_boolean(e->tracker));
	rc |= json_object_set_new(o, "entity", db_json_text(e->entity, e->entity_len));
	rc |= json_object_set_new(o, "category", db_json_text(e->category, e->category_len));
	rc |= json_object_set_new(o, "lists", e->lists ? json_incref(e->lists) : json_null());
	rc |= json_object_set_new(o, "rule", db_json_text(e->rule, e->rule_len));
	rc |= json_object_set_new(o, "cname", db_json_wire(e->cname, e->cname_len));
	rc |= json_object_set_new(o, "server", db_json_wire(e->server, e->server_len));
	rc |= json_object_set_new(o, "run", json_integer(e->run));
	rc |= json_object_set_new(o, "phase", json_string(phase_name(e->phase)));
	rc |= json_object_set_new(o, "cookie", db_json_wire(e->cookie, e->cookie_len));
	rc |= json_object_set_new(o, "decision", db_json_wire(e->decision, e->decision_len));
	rc |= json_object_set_new(o, "source", db_json_wire(e->source, e->source_len));
	/* Write errors show in ferror(stdout), checked at the end. */
	fputs(first ? "\n" : ",\n", out);
	if (rc == 0)
		json_dumpf(o, out, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER);
	json_decref(o);
	return rc == 0 ? 0 : -1;
}

static int timeline_run(struct db_query *q, sqlite3 *db, bool trackers_only, int64_t settle_us)
{
	char sql[2048] =
		"SELECT o.ts, d.key, d.name, s.name, k.name, h.name, t.observation_id IS NOT NULL,"
		" e.name, c.name, t.lists_id, r.text, ch.name, o.server, o.run_id, o.device_id,"
		" cn.name, cs.decision, cs.source"
		" FROM observations o"
		" JOIN devices d ON d.id = o.device_id"
		" JOIN kinds k ON k.id = o.kind_id"
		" JOIN hosts h ON h.id = o.host_id"
		" LEFT JOIN sites s ON s.id = o.site_id"
		" LEFT JOIN cookies ck ON ck.observation_id = o.id"
		" LEFT JOIN cookie_names cn ON cn.id = ck.name_id"
		" LEFT JOIN consent cs ON cs.observation_id = o.id";
	strcat(sql, trackers_only ? " JOIN hits t ON t.observation_id = o.id"
				  : " LEFT JOIN hits t ON t.observation_id = o.id");
	strcat(sql, " LEFT JOIN entities e ON e.id = t.entity_id"
		    " LEFT JOIN categories c ON c.id = t.category_id"
		    " LEFT JOIN rules r ON r.id = t.rule_id"
		    " LEFT JOIN hosts ch ON ch.id = t.cname_id"
		    " WHERE 1");
	if (db_query_where(q, sql, sizeof sql - 64) < 0)
		return DB_EXIT_FAIL;
	strcat(sql, " ORDER BY o.ts, o.id");

	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return db_error(q, db);
	struct db_sets *sets = db_sets_new(db);
	struct phases *phases = phases_load(db, settle_us);
	if (!sets || !phases || db_query_bind(q, st) < 0) {
		db_sets_free(sets);
		phases_free(phases);
		sqlite3_finalize(st);
		return db_error(q, db);
	}
	FILE *out = stdout;
	struct db_buf buf = { 0 };
	int rc, status = DB_EXIT_OK;
	size_t rows = 0;
	if (q->format == DB_FORMAT_CSV) {
		for (size_t i = 0; i < sizeof csv_columns / sizeof csv_columns[0]; i++)
			fprintf(out, "%s%s", i ? "," : "", csv_columns[i]);
		fputs("\r\n", out);
	} else if (q->format == DB_FORMAT_JSON) {
		putc('[', out);
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct event e = { 0 };
		e.ts = sqlite3_column_int64(st, 0);
		e.device = db_column(st, 1, &e.device_len);
		e.name = db_column(st, 2, &e.name_len);
		e.site = db_column(st, 3, &e.site_len);
		e.kind = db_column(st, 4, &e.kind_len);
		e.host = db_column(st, 5, &e.host_len);
		e.tracker = sqlite3_column_int(st, 6) != 0;
		e.entity = db_column(st, 7, &e.entity_len);
		e.category = db_column(st, 8, &e.category_len);
		if (e.tracker && !(e.lists = db_sets_get(sets, sqlite3_column_int64(st, 9)))) {
			rc = SQLITE_ERROR;
			break;
		}
		e.rule = db_column(st, 10, &e.rule_len);
		e.cname = db_column(st, 11, &e.cname_len);
		e.server = db_column(st, 12, &e.server_len);
		e.run = sqlite3_column_int64(st, 13);
		/* A contact inside a settle window is after the decision only when first (cli/phases.h). */
		bool near;
		e.phase = phases_is_contact(e.kind, e.kind_len)
				  ? phases_contact(phases, sqlite3_column_int64(st, 14),
						   (const char *)sqlite3_column_text(st, 3),
						   (const char *)sqlite3_column_text(st, 5), e.ts, &near)
				  : phases_at(phases, sqlite3_column_int64(st, 14),
					      (const char *)sqlite3_column_text(st, 3), e.ts, NULL);
		e.cookie = db_column(st, 15, &e.cookie_len);
		e.decision = db_column(st, 16, &e.decision_len);
		e.source = db_column(st, 17, &e.source_len);
		if (q->format == DB_FORMAT_TEXT) {
			if (rows == 0)
				fprintf(out, "%-24s  %-*s  %-*s  %-*s  %-*s  %s\n", "TIME", TEXT_DEVICE,
					"DEVICE", TEXT_SITE, "SITE", TEXT_KIND, "KIND", TEXT_PHASE, "PHASE",
					"HOST");
			print_text(out, &buf, &e);
		} else if (q->format == DB_FORMAT_CSV) {
			print_csv(out, &buf, &e);
		} else if (print_json(out, &e, rows == 0) < 0) {
			buf.failed = true;
		}
		rows++;
	}
	if (rc != SQLITE_DONE)
		status = db_error(q, db);
	if (q->format == DB_FORMAT_JSON)
		fputs(rows ? "\n]\n" : "]\n", out);
	else if (q->format == DB_FORMAT_TEXT && rows == 0 && status == DB_EXIT_OK)
		fputs("No observations match.\n", out);
	if (buf.failed) {
		fprintf(stderr, "trackwatch timeline: out of memory: the output is incomplete\n");
		status = DB_EXIT_FAIL;
	}
	db_buf_free(&buf);
	db_sets_free(sets);
	phases_free(phases);
	sqlite3_finalize(st);
	return status;
}

int cmd_timeline(int argc, char **argv, const char *config_path)
{
	/* The configuration will name the database (issue 7); --db and the default do for now. */
	enum { OPT_SETTLE = 0x200 };
	static const struct option options[] = {
		DB_QUERY_LONG_OPTIONS,
		{ "trackers-only", no_argument, NULL, 't' },
		{ "settle", required_argument, NULL, OPT_SETTLE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct db_query q;
	db_query_init(&q, "timeline");
	if (cli_paths(config_path, "trackwatch timeline", &q.path, NULL) != 0)
		return DB_EXIT_FAIL;
	bool trackers_only = false;
	int64_t settle_us = PHASES_DEFAULT_SETTLE_US;
	int c;
	/* getopt's messages name argv[0]: the command as the user typed it. */
	argv[0] = (char *)"trackwatch timeline";
	optind = 0;
	while ((c = getopt_long(argc, argv, DB_QUERY_SHORT_OPTIONS "th", options, NULL)) != -1) {
		int rc = db_query_option(&q, c, optarg);
		if (rc == DB_EXIT_USAGE)
			return rc;
		if (rc == DB_EXIT_OK)
			continue;
		switch (c) {
		case 't':
			trackers_only = true;
			break;
		case 'h':
			timeline_usage(stdout);
			return DB_EXIT_OK;
		case OPT_SETTLE:
			if (db_parse_seconds(optarg, 0, 3600, &settle_us) == 0)
				break;
			fprintf(stderr, "trackwatch timeline: bad --settle '%s': seconds from 0 to 3600\n",
				optarg);
			return DB_EXIT_USAGE;
		default:
			fprintf(stderr, "Try 'trackwatch timeline --help' for more information.\n");
			return DB_EXIT_USAGE;
		}
	}
	sqlite3 *db;
	int status = db_query_start(&q, argc, argv, &db);
	if (status != DB_EXIT_OK)
		return status;
	return db_query_finish(&q, db, timeline_run(&q, db, trackers_only, settle_us));
}
