/*
 * trackwatch report: per device and site, the tracker hosts contacted, by
 * company, with first and last seen, the number of hits and the lists that
 * matched; and the runs that recorded them, as evidence. SQLite does the
 * grouping (one row per device, site and host) and the order (device, site,
 * company, host); this file takes the groups as they come and writes them
 * as text for people, JSON for scripts (a stable interface: trackwatch(1),
 * REPORT) or CSV for spreadsheets, holding at most one device (JSON) or one
 * company (text) at a time, so that a report of a year fits a router.
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
#include "syncing.h"

static void report_usage(FILE *out)
{
	fprintf(out,
"Usage: trackwatch report [OPTION]...\n"
"Print, per device and site, the tracker companies and hosts contacted: first\n"
"and last seen, hits, and the lists that matched.\n"
"\n"
"Options:\n"
"      --db FILE          the sensor's database (default: store.path of the\n"
"                         configuration, else " DB_DEFAULT_PATH ")\n"
"  -d, --device DEVICE    only this device: a MAC, an address, the device key or\n"
"                         a configured name\n"
"  -s, --site SITE        only this site (a host under it names it too)\n"
"      --since TIME       only hits from TIME on: 2026-11-29T04:39:50Z (with\n"
"                         optional .sss), 2026-11-29 (midnight UTC), or a time\n"
"                         ago: 30m, 2h, 7d\n"
"      --until TIME       only hits before TIME\n"
"  -f, --format FORMAT    text (default), json or csv\n"
"      --settle SECONDS   a consent decision read on the wire takes effect this\n"
"                         long before its first evidence (default 1)\n"
"  -h, --help             show this help and exit\n"
"\n"
"Per site, the consent decisions (read on the wire, or marked with trackwatch\n"
"consent mark) and what each phase saw: before_consent, after_accept,\n"
"after_reject, after_partial, with a verdict in words.\n"
"Times are UTC. Names from the wire are escaped (\\xNN). The JSON is described\n"
"in trackwatch(1), section REPORT.\n");
}

/* Bytes from the database, owned; p NULL for SQL NULL. */
struct text {
	char *p;
	size_t len;
};

static int text_copy(struct text *t, sqlite3_stmt *st, int col)
{
	size_t len;
	const char *s = db_column(st, col, &len);
	t->p = NULL;
	t->len = 0;
	if (!s)
		return 0;
	if (!(t->p = malloc(len + 1)))
		return -1;
	memcpy(t->p, s, len);
	t->p[len] = '\0';
	t->len = len;
	return 0;
}

static void text_free(struct text *t)
{
	free(t->p);
	t->p = NULL;
	t->len = 0;
}

static bool text_equal(const struct text *a, const struct text *b)
{
	if (!a->p || !b->p)
		return a->p == b->p;
	return a->len == b->len && memcmp(a->p, b->p, a->len) == 0;
}

/* One tracker host of a device on a site: a row of the grouping. */
struct tracker {
	int64_t device_id;
	struct text site, host, entity, category, cname;
	int64_t count, first, last;
	json_t *lists, *categories;  /* unions over the hits: sorted arrays of names */
};

static void tracker_free(struct tracker *t)
{
	text_free(&t->site);
	text_free(&t->host);
	text_free(&t->entity);
	text_free(&t->category);
	text_free(&t->cname);
	json_decref(t->lists);
	json_decref(t->categories);
	t->lists = t->categories = NULL;
}

struct device {
	int64_t id;
	struct text key, mac, name, hostname;
	struct text *addresses;
	size_t address_count, address_cap;
};

static void device_clear(struct device *d)
{
	text_free(&d->key);
	text_free(&d->mac);
	text_free(&d->name);
	text_free(&d->hostname);
	for (size_t a = 0; a < d->address_count; a++)
		text_free(&d->addresses[a]);
	d->address_count = 0;
}

struct run {
	int64_t id, file_bytes, started, ended, first_packet, last_packet;
	bool has_file_bytes, has_ended, has_first_packet, has_last_packet, live;
	int64_t packets, observations, hits, dropped;
	bool has_capture;
	int64_t capture_received, capture_dropped;
	struct text source, file_sha256, status, version, lists, config_sha256;
};

static void run_free(struct run *u)
{
	text_free(&u->source);
	text_free(&u->file_sha256);
	text_free(&u->status);
	text_free(&u->version);
	text_free(&u->lists);
	text_free(&u->config_sha256);
}

/* The report being written. */
struct report {
	const struct db_query *q;
	FILE *out;
	struct db_buf buf;
	struct db_sets *sets;
	json_t *unions;              /* group_concat's ids -> their union: groups share a few */
	sqlite3_stmt *device_st, *address_st;
	struct device device;        /* the device being written */
	bool in_device, in_site;
	struct text site;            /* the site being written */
	size_t devices, trackers;    /* written so far */
	long long hits;
	/* Text: the hosts of the company being written. */
	struct tracker *company;
	size_t company_count, company_cap;
	/* JSON: the device being written, its sites, and the trackers of its site. */
	json_t *device_json, *sites_json, *trackers_json;
	/* CSV: the device's addresses, escaped and joined by ";". */
	struct db_buf addresses;
	struct phases *phases;       /* consent decisions and what each phase saw */
	json_t *syncing;             /* identifier syncing, by device (cli/syncing.h) */
	bool failed;                 /* out of memory: the output is incomplete */
};

/* ---- Sets of names ------------------------------------------------------------ */

static int compare_names(const void *a, const void *b)
{
	return strcmp(json_string_value(*(json_t *const *)a), json_string_value(*(json_t *const *)b));
}

/* The strings of `all` sorted, without repeats, as a new array; NULL when out of memory. */
static json_t *sorted_names(const json_t *all)
{
	size_t n = json_array_size(all);
	json_t **sorted = n ? malloc(n * sizeof *sorted) : NULL;
	json_t *names = json_array();
	if ((n && !sorted) || !names)
		goto fail;
	for (size_t i = 0; i < n; i++)
		sorted[i] = json_array_get(all, i);
	if (n)
		qsort(sorted, n, sizeof *sorted, compare_names);
	for (size_t i = 0; i < n; i++)
		if ((i == 0 || compare_names(&sorted[i - 1], &sorted[i]) != 0) &&
		    json_array_append(names, sorted[i]) != 0)
			goto fail;
	free(sorted);
	return names;
fail:
	free(sorted);
	json_decref(names);
	return NULL;
}

/*
 * The union of the sets whose ids `ids` lists ("3,7": group_concat's), as a
 * sorted array without repeats (a new reference); NULL on an error.
 */
static json_t *union_of_sets(struct report *r, const char *ids)
{
	if (!ids)
		ids = "";
	json_t *names = json_object_get(r->unions, ids);
	if (names)
		return json_incref(names);
	json_t *all = json_array();
	if (!all)
		return NULL;
	for (const char *p = ids; *p;) {
		char *end;
		long long id = strtoll(p, &end, 10);
		if (end == p)
			break;
		json_t *set = db_sets_get(r->sets, id);
		if (!set || json_array_extend(all, set) != 0)
			goto done;
		p = *end == ',' ? end + 1 : end;
	}
	names = sorted_names(all);
	if (names && json_object_set(r->unions, ids, names) != 0) {
		json_decref(names);
		names = NULL;
	}
done:
	json_decref(all);
	return names;
}

/* ---- Reading ------------------------------------------------------------------ */

/*
 * The grouping, in SQL: one row per device, site and host, over the hits
 * the selection keeps, in two aggregates over the same rows (neither needs
 * an index on observations: both read the hits and look their
 * observations up by row id). `g` counts and unites; `latest` takes the
 * company, category and CNAME of the group's latest hit, by SQLite's rule
 * that with a single max() the other columns come from the row holding
 * the maximum (hits at the same microsecond: one of them). A CNAME is that
 * of the latest hit, else of any hit of the host.
 */
static const char tracker_sql_g[] =
	"WITH g AS (SELECT o.device_id AS device_id, o.site_id AS site_id, o.host_id AS host_id,"
	" count(*) AS n, min(o.ts) AS first, max(o.ts) AS last,"
	" group_concat(DISTINCT t.lists_id) AS lists_ids,"
	" group_concat(DISTINCT t.categories_id) AS categories_ids,"
	" max(t.cname_id) AS any_cname"
	" FROM hits t JOIN observations o ON o.id = t.observation_id WHERE o.kind_id NOT IN"
	" (SELECT id FROM kinds WHERE name IN ('cookie_sent', 'cookie_set', 'consent'))";
static const char tracker_sql_latest[] =
	" GROUP BY o.device_id, o.site_id, o.host_id),"
	" latest AS (SELECT o.device_id AS device_id, o.site_id AS site_id, o.host_id AS host_id,"
	" max(o.ts) AS last, t.entity_id AS entity_id, t.category_id AS category_id,"
	" t.cname_id AS cname_id"
	" FROM hits t JOIN observations o ON o.id = t.observation_id WHERE o.kind_id NOT IN"
	" (SELECT id FROM kinds WHERE name IN ('cookie_sent', 'cookie_set', 'consent'))";
static const char tracker_sql_tail[] =
	" GROUP BY o.device_id, o.site_id, o.host_id)"
	" SELECT g.device_id, s.name, h.name, g.n, g.first, g.last, g.lists_ids, g.categories_ids,"
	" e.name, c.name, ch.name"
	" FROM g"
	" JOIN latest l ON l.device_id = g.device_id AND l.host_id = g.host_id"
	"  AND l.site_id IS g.site_id"
	" JOIN devices d ON d.id = g.device_id"
	" JOIN hosts h ON h.id = g.host_id"
	" LEFT JOIN sites s ON s.id = g.site_id"
	" LEFT JOIN entities e ON e.id = l.entity_id"
	" LEFT JOIN categories c ON c.id = l.category_id"
	" LEFT JOIN hosts ch ON ch.id = coalesce(l.cname_id, g.any_cname)"
	" ORDER BY d.key, d.id, s.name IS NULL, s.name, e.name IS NULL, e.name, h.name, g.host_id";

static sqlite3_stmt *prepare_trackers(const struct db_query *q, sqlite3 *db)
{
	char sql[4096];
	snprintf(sql, sizeof sql, "%s", tracker_sql_g);
	if (db_query_where(q, sql, sizeof sql - sizeof tracker_sql_latest - sizeof tracker_sql_tail) < 0)
		return NULL;
	strcat(sql, tracker_sql_latest);
	if (db_query_where(q, sql, sizeof sql - sizeof tracker_sql_tail) < 0)
		return NULL;
	strcat(sql, tracker_sql_tail);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return NULL;
	if (db_query_bind(q, st) < 0) {
		sqlite3_finalize(st);
		return NULL;
	}
	return st;
}

/* The row `st` is on; 0, or -1 when out of memory. */
static int read_tracker(struct report *r, sqlite3_stmt *st, struct tracker *t)
{
	memset(t, 0, sizeof *t);
	t->device_id = sqlite3_column_int64(st, 0);
	t->count = sqlite3_column_int64(st, 3);
	t->first = sqlite3_column_int64(st, 4);
	t->last = sqlite3_column_int64(st, 5);
	if (text_copy(&t->site, st, 1) < 0 || text_copy(&t->host, st, 2) < 0 ||
	    text_copy(&t->entity, st, 8) < 0 || text_copy(&t->category, st, 9) < 0 ||
	    text_copy(&t->cname, st, 10) < 0 ||
	    !(t->lists = union_of_sets(r, (const char *)sqlite3_column_text(st, 6))) ||
	    !(t->categories = union_of_sets(r, (const char *)sqlite3_column_text(st, 7)))) {
		tracker_free(t);
		return -1;
	}
	return 0;
}

/* Device `id` into r->device: its names and addresses. 0, or -1. */
static int read_device(struct report *r, int64_t id)
{
	struct device *d = &r->device;
	device_clear(d);
	d->id = id;
	sqlite3_reset(r->device_st);
	sqlite3_bind_int64(r->device_st, 1, id);
	if (sqlite3_step(r->device_st) != SQLITE_ROW || text_copy(&d->key, r->device_st, 0) < 0 ||
	    text_copy(&d->mac, r->device_st, 1) < 0 || text_copy(&d->name, r->device_st, 2) < 0 ||
	    text_copy(&d->hostname, r->device_st, 3) < 0)
		return -1;
	sqlite3_reset(r->address_st);
	sqlite3_bind_int64(r->address_st, 1, id);
	int rc;
	while ((rc = sqlite3_step(r->address_st)) == SQLITE_ROW) {
		if (d->address_count == d->address_cap) {
			size_t cap = d->address_cap ? 2 * d->address_cap : 4;
			struct text *grown = realloc(d->addresses, cap * sizeof *grown);
			if (!grown)
				return -1;
			d->addresses = grown;
			d->address_cap = cap;
		}
		if (text_copy(&d->addresses[d->address_count], r->address_st, 0) < 0)
			return -1;
		d->address_count++;
	}
	return rc == SQLITE_DONE ? 0 : -1;
}

static sqlite3_stmt *prepare_runs(sqlite3 *db)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db,
			       "SELECT id, source, live, file_sha256, file_bytes, started, ended, first_packet,"
			       " last_packet, status, version, lists, config_sha256, packets, observations,"
			       " hits, dropped, capture_received, capture_dropped FROM runs ORDER BY id",
			       -1, &st, NULL) != SQLITE_OK)
		return NULL;
	return st;
}

static int read_run(sqlite3_stmt *st, struct run *u)
{
	memset(u, 0, sizeof *u);
	u->id = sqlite3_column_int64(st, 0);
	u->live = sqlite3_column_int(st, 2) != 0;
	u->has_file_bytes = sqlite3_column_type(st, 4) != SQLITE_NULL;
	u->file_bytes = sqlite3_column_int64(st, 4);
	u->started = sqlite3_column_int64(st, 5);
	u->has_ended = sqlite3_column_type(st, 6) != SQLITE_NULL;
	u->ended = sqlite3_column_int64(st, 6);
	u->has_first_packet = sqlite3_column_type(st, 7) != SQLITE_NULL;
	u->first_packet = sqlite3_column_int64(st, 7);
	u->has_last_packet = sqlite3_column_type(st, 8) != SQLITE_NULL;
	u->last_packet = sqlite3_column_int64(st, 8);
	u->packets = sqlite3_column_int64(st, 13);
	u->observations = sqlite3_column_int64(st, 14);
	u->hits = sqlite3_column_int64(st, 15);
	u->dropped = sqlite3_column_int64(st, 16);
	u->has_capture = sqlite3_column_type(st, 17) != SQLITE_NULL;
	u->capture_received = sqlite3_column_int64(st, 17);
	u->capture_dropped = sqlite3_column_int64(st, 18);
	if (text_copy(&u->source, st, 1) < 0 || text_copy(&u->file_sha256, st, 3) < 0 ||
	    text_copy(&u->status, st, 9) < 0 || text_copy(&u->version, st, 10) < 0 ||
	    text_copy(&u->lists, st, 11) < 0 || text_copy(&u->config_sha256, st, 12) < 0) {
		run_free(u);
		return -1;
	}
	return 0;
}

/* ---- JSON ---------------------------------------------------------------------- */

/*
 * The document is {"devices": [...], "runs": [...]}: each device, with its
 * sites and trackers, is built and written by jansson as soon as its last
 * row is read; only the punctuation between them is written here.
 */
static const size_t JSON_FLAGS = JSON_INDENT(2) | JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER;

static json_t *json_time(int64_t us)
{
	char buf[DB_TIME_MAX];
	db_format_time(us, buf);
	return json_string(buf);
}

static json_t *json_time_or_null(bool has, int64_t us)
{
	return has ? json_time(us) : json_null();
}

static json_t *wire(const struct text *t)
{
	return db_json_wire(t->p, t->len);
}

static json_t *text(const struct text *t)
{
	return db_json_text(t->p, t->len);
}

/* Sets a member; a NULL value or object (out of memory) fails the report. */
static void set(json_t *o, const char *key, json_t *value, bool *failed)
{
	if (!value || json_object_set_new(o, key, value) != 0)
		*failed = true;
}

static void append(json_t *array, json_t *value, bool *failed)
{
	if (!value || json_array_append_new(array, value) != 0)
		*failed = true;
}

static json_t *json_tracker(const struct tracker *t, bool *failed)
{
	json_t *o = json_object();
	set(o, "host", wire(&t->host), failed);
	set(o, "entity", text(&t->entity), failed);
	set(o, "category", text(&t->category), failed);
	set(o, "categories", json_incref(t->categories), failed);
	set(o, "lists", json_incref(t->lists), failed);
	set(o, "first_seen", json_time(t->first), failed);
	set(o, "last_seen", json_time(t->last), failed);
	set(o, "count", json_integer(t->count), failed);
	set(o, "cname", wire(&t->cname), failed);
	return o;
}

static json_t *json_run(const struct run *u, bool *failed)
{
	json_t *o = json_object();
	set(o, "id", json_integer(u->id), failed);
	set(o, "source", text(&u->source), failed);
	set(o, "live", json_boolean(u->live), failed);
	set(o, "file_sha256", text(&u->file_sha256), failed);
	set(o, "file_bytes", u->has_file_bytes ? json_integer(u->file_bytes) : json_null(), failed);
	set(o, "started", json_time(u->started), failed);
	set(o, "ended", json_time_or_null(u->has_ended, u->ended), failed);
	set(o, "first_packet", json_time_or_null(u->has_first_packet, u->first_packet), failed);
	set(o, "last_packet", json_time_or_null(u->has_last_packet, u->last_packet), failed);
	set(o, "status", text(&u->status), failed);
	set(o, "version", text(&u->version), failed);
	/* The lists as the sensor recorded them; kept as text should the column not hold JSON. */
	json_t *lists = u->lists.p ? json_loadb(u->lists.p, u->lists.len, JSON_DECODE_ANY, NULL) : NULL;
	set(o, "lists", lists ? lists : text(&u->lists), failed);
	set(o, "config_sha256", text(&u->config_sha256), failed);
	set(o, "packets", json_integer(u->packets), failed);
	set(o, "observations", json_integer(u->observations), failed);
	set(o, "hits", json_integer(u->hits), failed);
	set(o, "dropped", json_integer(u->dropped), failed);
	set(o, "capture_received", u->has_capture ? json_integer(u->capture_received) : json_null(), failed);
	set(o, "capture_dropped", u->has_capture ? json_integer(u->capture_dropped) : json_null(), failed);
	return o;
}

static void json_device_begin(struct report *r)
{
	const struct device *d = &r->device;
	json_t *o = r->device_json = json_object(), *addresses = json_array();
	set(o, "device", wire(&d->key), &r->failed);
	set(o, "mac", wire(&d->mac), &r->failed);
	for (size_t a = 0; a < d->address_count && addresses; a++)
		append(addresses, wire(&d->addresses[a]), &r->failed);
	set(o, "addresses", addresses, &r->failed);
	set(o, "name", text(&d->name), &r->failed);
	set(o, "hostname", wire(&d->hostname), &r->failed);
	r->sites_json = json_array();
	set(o, "sites", json_incref(r->sites_json), &r->failed);
	set(o, "syncing", syncing_of(r->syncing, d->id), &r->failed);
}

static void json_site_begin(struct report *r)
{
	json_t *s = json_object();
	set(s, "site", wire(&r->site), &r->failed);
	r->trackers_json = json_array();
	set(s, "trackers", json_incref(r->trackers_json), &r->failed);
	set(s, "consent", phases_consent_json(r->phases, r->device.id, r->site.p), &r->failed);
	set(s, "phases", phases_sets_json(r->phases, r->device.id, r->site.p), &r->failed);
	char *verdict = phases_verdict(r->phases, r->device.id, r->site.p);
	/* Escaped already (wire bytes as \\xNN): printable ASCII. */
	set(s, "verdict", verdict ? json_string(verdict) : NULL, &r->failed);
	free(verdict);
	append(r->sites_json, s, &r->failed);
}

static void json_device_end(struct report *r)
{
	if (!r->failed) {
		fputs(r->devices ? ",\n" : "\n", r->out);
		json_dumpf(r->device_json, r->out, JSON_FLAGS);
	}
	json_decref(r->device_json);
	json_decref(r->sites_json);
	json_decref(r->trackers_json);
	r->device_json = r->sites_json = r->trackers_json = NULL;
}

static int json_runs(struct report *r, sqlite3_stmt *st)
{
	json_t *runs = json_array();
	int rc;
	struct run u;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && runs) {
		if (read_run(st, &u) < 0) {
			r->failed = true;
			break;
		}
		append(runs, json_run(&u, &r->failed), &r->failed);
		run_free(&u);
	}
	if (!runs)
		r->failed = true;
	fputs(r->devices ? "\n],\n\"runs\": " : "],\n\"runs\": ", r->out);
	if (!r->failed)
		json_dumpf(runs, r->out, JSON_FLAGS);
	fputs("}\n", r->out);
	json_decref(runs);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

/* ---- CSV ----------------------------------------------------------------------- */

static const char *const csv_columns[] = {
	"device", "mac", "name", "addresses", "site", "host", "entity", "category", "categories",
	"lists", "cname", "first_seen", "last_seen", "count",
};

static void csv_names(struct report *r, const json_t *names)
{
	if (db_join_names(&r->buf, names, ";"))
		db_csv_field(r->out, r->buf.data, r->buf.len);
}

/* The device's addresses, escaped and joined by ";", into r->addresses. */
static void csv_device_begin(struct report *r)
{
	const struct device *d = &r->device;
	struct db_buf *joined = &r->addresses;
	size_t len = 0;
	for (size_t a = 0; a < d->address_count; a++) {
		if (!db_escape(&r->buf, d->addresses[a].p, d->addresses[a].len, 1))
			break;
		size_t need = len + r->buf.len + 2;
		if (need > joined->cap) {
			char *grown = realloc(joined->data, need);
			if (!grown) {
				r->failed = true;
				break;
			}
			joined->data = grown;
			joined->cap = need;
		}
		if (a)
			joined->data[len++] = ';';
		memcpy(joined->data + len, r->buf.data, r->buf.len);
		len += r->buf.len;
	}
	joined->len = len;
}

static void csv_tracker(struct report *r, const struct tracker *t)
{
	const struct device *d = &r->device;
	FILE *out = r->out;
	char first[DB_TIME_MAX], last[DB_TIME_MAX];
	db_csv_value(out, &r->buf, d->key.p, d->key.len);
	putc(',', out);
	db_csv_value(out, &r->buf, d->mac.p, d->mac.len);
	putc(',', out);
	db_csv_value(out, &r->buf, d->name.p, d->name.len);
	putc(',', out);
	db_csv_field(out, r->addresses.data, r->addresses.len);
	putc(',', out);
	db_csv_value(out, &r->buf, t->site.p, t->site.len);
	putc(',', out);
	db_csv_value(out, &r->buf, t->host.p, t->host.len);
	putc(',', out);
	db_csv_value(out, &r->buf, t->entity.p, t->entity.len);
	putc(',', out);
	db_csv_value(out, &r->buf, t->category.p, t->category.len);
	putc(',', out);
	csv_names(r, t->categories);
	putc(',', out);
	csv_names(r, t->lists);
	putc(',', out);
	db_csv_value(out, &r->buf, t->cname.p, t->cname.len);
	db_format_time(t->first, first);
	db_format_time(t->last, last);
	fprintf(out, ",%s,%s,%lld\r\n", first, last, (long long)t->count);
}

/* ---- Text ---------------------------------------------------------------------- */

/*
 * Columns of a host line, 79 bytes in all: the host (indented 6), hits,
 * first and last seen. A longer host has the line to itself and its
 * numbers go on the next.
 */
enum { HOST_INDENT = 6, HOST_WIDTH = 24, HITS_WIDTH = 5, LINE_WIDTH = 80, WRAP_INDENT = 10 };

static void text_device_begin(struct report *r)
{
	const struct device *d = &r->device;
	FILE *out = r->out;
	struct db_buf *buf = &r->buf;
	fputs("\nDevice ", out);
	db_text_value(out, buf, d->key.p, d->key.len, 0, LINE_WIDTH - 8, 0);
	if (d->name.p) {
		fputs(" (", out);
		db_text_value(out, buf, d->name.p, d->name.len, 1, LINE_WIDTH / 2, 0);
		putc(')', out);
	}
	putc('\n', out);
	if (d->mac.p && !text_equal(&d->mac, &d->key)) {
		fputs("  MAC ", out);
		db_text_value(out, buf, d->mac.p, d->mac.len, 0, LINE_WIDTH - 7, 0);
		putc('\n', out);
	}
	if (d->address_count) {
		fputs(d->address_count == 1 ? "  address " : "  addresses ", out);
		for (size_t a = 0; a < d->address_count; a++) {
			if (a)
				fputs(", ", out);
			db_text_value(out, buf, d->addresses[a].p, d->addresses[a].len, 0, DB_ADDRESS_MAX, 0);
		}
		putc('\n', out);
	}
	if (d->hostname.p) {
		fputs("  host name ", out);
		db_text_value(out, buf, d->hostname.p, d->hostname.len, 0, LINE_WIDTH - 13, 0);
		putc('\n', out);
	}
}

static void text_site_begin(struct report *r)
{
	fputs("\n  ", r->out);
	if (r->site.p)
		db_text_value(r->out, &r->buf, r->site.p, r->site.len, 0, LINE_WIDTH - 3, 0);
	else
		fputs("(unknown site)", r->out);
	fprintf(r->out, "\n    %-*s  %*s  %-19s  %s\n", HOST_INDENT + HOST_WIDTH - 4, "COMPANY / HOST",
		HITS_WIDTH, "HITS", "FIRST SEEN", "LAST SEEN");
}

/*
 * A line of escaped text, broken at spaces so that no part passes
 * LINE_WIDTH columns, continued with WRAP_INDENT spaces, deeper than a host
 * (a word longer than a line stays whole on its own line).
 */
static void text_wrapped(FILE *out, const char *line, size_t len)
{
	size_t at = 0;
	while (at < len && line[at] == ' ')
		at++;
	fwrite(line, 1, at, out); /* the line's own indentation */
	size_t col = at, start = at;
	while (at < len) {
		size_t end = at;
		while (end < len && line[end] != ' ')
			end++;
		size_t n = end - at;
		if (at > start && col + 1 + n > LINE_WIDTH) {
			fprintf(out, "\n%*s", WRAP_INDENT, "");
			col = WRAP_INDENT;
		} else if (at > start) {
			putc(' ', out);
			col++;
		}
		fwrite(line + at, 1, n, out);
		col += n;
		at = end;
		while (at < len && line[at] == ' ')
			at++;
	}
	putc('\n', out);
}

/* "Alphabet (Advertising, Analytics; lists disconnect, easyprivacy)": a company's line. */
static void text_company_line(struct report *r)
{
	/* The primary categories of its hosts, and the lists that matched any of them. */
	json_t *all_categories = json_array(), *all_lists = json_array();
	for (size_t i = 0; i < r->company_count && all_categories && all_lists; i++) {
		const struct tracker *t = &r->company[i];
		if (t->category.p)
			json_array_append_new(all_categories, db_json_text(t->category.p, t->category.len));
		json_array_extend(all_lists, t->lists);
	}
	json_t *categories = all_categories ? sorted_names(all_categories) : NULL;
	json_t *lists = all_lists ? sorted_names(all_lists) : NULL;
	json_decref(all_categories);
	json_decref(all_lists);
	if (!categories || !lists)
		r->failed = true;
	const struct tracker *first = &r->company[0];
	/* The line in memory first: it is wrapped at 80 columns when longer. */
	char *line = NULL;
	size_t line_len = 0;
	FILE *mem = open_memstream(&line, &line_len);
	if (!mem) {
		r->failed = true;
		json_decref(categories);
		json_decref(lists);
		return;
	}
	fputs("    ", mem);
	if (first->entity.p)
		db_text_value(mem, &r->buf, first->entity.p, first->entity.len, 1, LINE_WIDTH - 4, 0);
	else
		fputs("(unknown company)", mem);
	size_t ncat = json_array_size(categories), nlists = json_array_size(lists);
	if (ncat || nlists) {
		fputs(" (", mem);
		if (ncat && db_join_names(&r->buf, categories, ", "))
			fwrite(r->buf.data, 1, r->buf.len, mem);
		if (ncat && nlists)
			fputs("; ", mem);
		if (nlists && db_join_names(&r->buf, lists, ", "))
			fprintf(mem, "lists %s", r->buf.data);
		putc(')', mem);
	}
	if (fclose(mem) != 0 || !line) {
		r->failed = true;
	} else {
		text_wrapped(r->out, line, line_len);
		free(line);
	}
	json_decref(categories);
	json_decref(lists);
}

static void text_host(struct report *r, const struct tracker *t)
{
	FILE *out = r->out;
	char first[DB_TIME_MAX], last[DB_TIME_MAX];
	db_format_time_text(t->first, first);
	db_format_time_text(t->last, last);
	const char *host = db_escape(&r->buf, t->host.p, t->host.len, 0);
	if (!host)
		return;
	fprintf(out, "%*s", HOST_INDENT, "");
	if (r->buf.len <= HOST_WIDTH) {
		db_text_cell(out, host, r->buf.len, HOST_WIDTH, 1);
	} else {
		db_text_cell(out, host, r->buf.len, LINE_WIDTH - 1 - HOST_INDENT, 0);
		fprintf(out, "\n%*s", HOST_INDENT + HOST_WIDTH, "");
	}
	fprintf(out, "  %*lld  %s  %s\n", HITS_WIDTH, (long long)t->count, first, last);
	if (t->cname.p) {
		fprintf(out, "%*sCNAME ", HOST_INDENT + 2, "");
		db_text_value(out, &r->buf, t->cname.p, t->cname.len, 0, LINE_WIDTH - 1 - HOST_INDENT - 8, 0);
		putc('\n', out);
	}
}

/* Writes the company gathered so far, its line and its hosts, and lets it go. */
static void text_company_flush(struct report *r)
{
	if (!r->company_count)
		return;
	text_company_line(r);
	for (size_t i = 0; i < r->company_count; i++) {
		text_host(r, &r->company[i]);
		tracker_free(&r->company[i]);
	}
	r->company_count = 0;
}

/*
 * After a site's companies: its consent decisions, one line each, and the
 * verdict, a paragraph wrapped at 80 columns.
 */
static void text_site_end(struct report *r)
{
	if (!r->in_site)
		return;
	text_company_flush(r);
	json_t *consent = phases_consent_json(r->phases, r->device.id, r->site.p);
	size_t i;
	json_t *e;
	if (!consent) {
		r->failed = true;
		return;
	}
	if (json_array_size(consent))
		fputs("    Consent\n", r->out);
	json_array_foreach(consent, i, e) {
		const char *ts = json_string_value(json_object_get(e, "ts"));
		const char *decision = json_string_value(json_object_get(e, "decision"));
		const char *source = json_string_value(json_object_get(e, "source"));
		const char *detail = json_string_value(json_object_get(e, "detail"));
		char *line = NULL;
		if (asprintf(&line, "      %.10s %.12s  %s  %s: %s", ts ? ts : "", ts ? ts + 11 : "",
			     decision ? decision : "", source ? source : "", detail ? detail : "") < 0) {
			r->failed = true;
			break;
		}
		text_wrapped(r->out, line, strlen(line));
		free(line);
	}
	json_decref(consent);
	char *verdict = phases_verdict(r->phases, r->device.id, r->site.p);
	if (!verdict) {
		r->failed = true;
		return;
	}
	char *line = NULL;
	if (asprintf(&line, "    %s", verdict) >= 0) {
		text_wrapped(r->out, line, strlen(line));
		free(line);
	} else {
		r->failed = true;
	}
	free(verdict);
}

/* The device's identifier syncing: each value, and where it was seen (every part escaped). */
static void text_syncing(struct report *r)
{
	json_t *list = syncing_of(r->syncing, r->device.id);
	size_t i, k;
	json_t *v, *seen;
	if (json_array_size(list))
		fputs("\n  Identifier syncing (one value at several companies)\n", r->out);
	json_array_foreach(list, i, v) {
		/* The JSON strings hold wire bytes escaped already; company names are kept UTF-8. */
		/* Escaped already when loaded (cli/syncing.c): printed as it is, cut to the line. */
		const char *value = json_string_value(json_object_get(v, "value"));
		fprintf(r->out, "    value %.*s\n", LINE_WIDTH - 11, value ? value : "");
		json_array_foreach(json_object_get(v, "seen"), k, seen) {
			const char *as = json_string_value(json_object_get(seen, "as"));
			const char *name = json_string_value(json_object_get(seen, "name"));
			const char *host = json_string_value(json_object_get(seen, "host"));
			const char *entity = json_string_value(json_object_get(seen, "entity"));
			const char *first = json_string_value(json_object_get(seen, "first_seen"));
			char *line = NULL;
			const char *e = entity ? db_escape(&r->buf, entity, strlen(entity), 1) : "?";
			if (!e || asprintf(&line, "      %s %s at %s (%s), first %.10s %.8s", as ? as : "",
					   name ? name : "", host ? host : "", e, first ? first : "",
					   first && strlen(first) > 11 ? first + 11 : "") < 0) {
				r->failed = true;
				break;
			}
			text_wrapped(r->out, line, strlen(line));
			free(line);
		}
	}
	json_decref(list);
}

/* Takes the tracker (its strings and arrays) into the company being gathered. */
static void text_tracker(struct report *r, struct tracker *t)
{
	if (r->company_count && !text_equal(&r->company[0].entity, &t->entity))
		text_company_flush(r);
	if (r->company_count == r->company_cap) {
		size_t cap = r->company_cap ? 2 * r->company_cap : 16;
		struct tracker *grown = realloc(r->company, cap * sizeof *grown);
		if (!grown) {
			r->failed = true;
			tracker_free(t);
			return;
		}
		r->company = grown;
		r->company_cap = cap;
	}
	r->company[r->company_count++] = *t;
	memset(t, 0, sizeof *t);
}

static int text_runs(struct report *r, sqlite3_stmt *st)
{
	FILE *out = r->out;
	struct run u;
	int rc;
	bool any = false;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (read_run(st, &u) < 0) {
			r->failed = true;
			break;
		}
		if (!any)
			fputs("\nRuns\n", out);
		any = true;
		char started[DB_TIME_MAX], ended[DB_TIME_MAX];
		db_format_time_text(u.started, started);
		if (u.has_ended)
			db_format_time_text(u.ended, ended);
		fprintf(out, "  %-4lld ", (long long)u.id);
		db_text_value(out, &r->buf, u.status.p, u.status.len, 0, 11, 1);
		fprintf(out, " %s to %s  trackwatchd ", started, u.has_ended ? ended : "(not ended)");
		db_text_value(out, &r->buf, u.version.p, u.version.len, 1, 12, 0);
		fputs("\n       ", out);
		db_text_value(out, &r->buf, u.source.p, u.source.len, 1, LINE_WIDTH - 8, 0);
		fprintf(out, "\n       %lld packets, %lld observations, %lld hits, %lld dropped\n",
			(long long)u.packets, (long long)u.observations, (long long)u.hits,
			(long long)u.dropped);
		if (u.has_capture)
			fprintf(out, "       capture: %lld packets received, %lld dropped by the kernel"
				" or the interface\n", (long long)u.capture_received,
				(long long)u.capture_dropped);
		run_free(&u);
	}
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

/* ---- The report, row by row ---------------------------------------------------- */

static void device_end(struct report *r)
{
	if (!r->in_device)
		return;
	if (r->q->format == DB_FORMAT_TEXT) {
		text_site_end(r);
		text_syncing(r);
	} else if (r->q->format == DB_FORMAT_JSON) {
		json_device_end(r);
	}
	r->in_device = r->in_site = false;
	r->devices++;
}

static int device_begin(struct report *r, int64_t id)
{
	if (read_device(r, id) < 0)
		return -1;
	r->in_device = true;
	if (r->q->format == DB_FORMAT_TEXT)
		text_device_begin(r);
	else if (r->q->format == DB_FORMAT_JSON)
		json_device_begin(r);
	else
		csv_device_begin(r);
	return 0;
}

/* A new site of the device: `t`'s. */
static void site_begin(struct report *r, struct tracker *t)
{
	if (r->q->format == DB_FORMAT_TEXT)
		text_site_end(r);
	text_free(&r->site);
	if (t->site.p) {
		if (!(r->site.p = malloc(t->site.len + 1))) {
			r->failed = true;
			return;
		}
		memcpy(r->site.p, t->site.p, t->site.len + 1);
		r->site.len = t->site.len;
	}
	r->in_site = true;
	if (r->q->format == DB_FORMAT_TEXT) {
		text_site_begin(r);
	} else if (r->q->format == DB_FORMAT_JSON) {
		json_decref(r->trackers_json);
		json_site_begin(r);
	}
}

static void add_tracker(struct report *r, struct tracker *t)
{
	r->trackers++;
	r->hits += t->count;
	if (r->q->format == DB_FORMAT_TEXT) {
		text_tracker(r, t);
		return;
	}
	if (r->q->format == DB_FORMAT_JSON)
		append(r->trackers_json, json_tracker(t, &r->failed), &r->failed);
	else
		csv_tracker(r, t);
	tracker_free(t);
}

static int report_write(struct report *r, sqlite3 *db)
{
	sqlite3_stmt *trackers = prepare_trackers(r->q, db), *runs = prepare_runs(db);
	int status = -1, rc = SQLITE_DONE;
	if (!trackers || !runs ||
	    sqlite3_prepare_v2(db, "SELECT key, mac, name, hostname FROM devices WHERE id = ?", -1,
			       &r->device_st, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db,
			       "SELECT address FROM device_addresses WHERE device_id = ?"
			       " ORDER BY first_seen, address",
			       -1, &r->address_st, NULL) != SQLITE_OK)
		goto done;
	if (r->q->format == DB_FORMAT_JSON) {
		fputs("{\"devices\": [", r->out);
	} else if (r->q->format == DB_FORMAT_CSV) {
		for (size_t k = 0; k < sizeof csv_columns / sizeof csv_columns[0]; k++)
			fprintf(r->out, "%s%s", k ? "," : "", csv_columns[k]);
		fputs("\r\n", r->out);
	} else {
		fputs("Trackers contacted, by device, site and company (times UTC)\n", r->out);
	}
	while (!r->failed && (rc = sqlite3_step(trackers)) == SQLITE_ROW) {
		struct tracker t;
		if (read_tracker(r, trackers, &t) < 0) {
			r->failed = true;
			break;
		}
		if (!r->in_device || t.device_id != r->device.id) {
			device_end(r);
			if (device_begin(r, t.device_id) < 0) {
				tracker_free(&t);
				goto done;
			}
		}
		if (!r->in_site || !text_equal(&t.site, &r->site))
			site_begin(r, &t);
		add_tracker(r, &t);
	}
	if (!r->failed && rc != SQLITE_DONE)
		goto done;
	device_end(r);
	if (r->q->format == DB_FORMAT_JSON) {
		if (json_runs(r, runs) < 0)
			goto done;
	} else if (r->q->format == DB_FORMAT_TEXT) {
		if (r->trackers == 0)
			fputs("\nNo tracker hits match.\n", r->out);
		else
			fprintf(r->out, "\n%zu tracker host%s on %zu device%s, %lld hit%s\n", r->trackers,
				r->trackers == 1 ? "" : "s", r->devices, r->devices == 1 ? "" : "s", r->hits,
				r->hits == 1 ? "" : "s");
		if (text_runs(r, runs) < 0)
			goto done;
	}
	status = 0;
done:
	sqlite3_finalize(trackers);
	sqlite3_finalize(runs);
	sqlite3_finalize(r->device_st);
	sqlite3_finalize(r->address_st);
	return status;
}

static int report_run(const struct db_query *q, sqlite3 *db, int64_t settle_us)
{
	struct report r = { .q = q, .out = stdout };
	int status = DB_EXIT_OK;
	r.sets = db_sets_new(db);
	r.unions = json_object();
	r.phases = phases_load(db, settle_us);
	r.syncing = syncing_load(db, q);
	if (!r.sets || !r.unions || !r.phases || !r.syncing || phases_collect(r.phases, db, q) < 0 ||
	    report_write(&r, db) < 0)
		status = db_error(q, db);
	if (r.failed || r.buf.failed || r.addresses.failed) {
		fprintf(stderr, "trackwatch report: out of memory: the output is incomplete\n");
		status = DB_EXIT_FAIL;
	}
	for (size_t i = 0; i < r.company_count; i++)
		tracker_free(&r.company[i]);
	free(r.company);
	json_decref(r.device_json);
	json_decref(r.sites_json);
	json_decref(r.trackers_json);
	device_clear(&r.device);
	free(r.device.addresses);
	text_free(&r.site);
	db_buf_free(&r.addresses);
	db_buf_free(&r.buf);
	json_decref(r.unions);
	db_sets_free(r.sets);
	phases_free(r.phases);
	json_decref(r.syncing);
	return status;
}

int cmd_report(int argc, char **argv, const char *config_path)
{
	/* The configuration will name the database (issue 7); --db and the default do for now. */
	enum { OPT_SETTLE = 0x200 };
	static const struct option options[] = {
		DB_QUERY_LONG_OPTIONS,
		{ "settle", required_argument, NULL, OPT_SETTLE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct db_query q;
	db_query_init(&q, "report");
	if (cli_paths(config_path, "trackwatch report", &q.path, NULL) != 0)
		return DB_EXIT_FAIL;
	int64_t settle_us = PHASES_DEFAULT_SETTLE_US;
	int c;
	/* getopt's messages name argv[0]: the command as the user typed it. */
	argv[0] = (char *)"trackwatch report";
	optind = 0;
	while ((c = getopt_long(argc, argv, DB_QUERY_SHORT_OPTIONS "h", options, NULL)) != -1) {
		int rc = db_query_option(&q, c, optarg);
		if (rc == DB_EXIT_USAGE)
			return rc;
		if (rc == DB_EXIT_OK)
			continue;
		if (c == 'h') {
			report_usage(stdout);
			return DB_EXIT_OK;
		}
		if (c == OPT_SETTLE && db_parse_seconds(optarg, 0, 3600, &settle_us) == 0)
			continue;
		if (c == OPT_SETTLE)
			fprintf(stderr, "trackwatch report: bad --settle '%s': seconds from 0 to 3600,"
				" e.g. 1 or 0.5\n", optarg);
		fprintf(stderr, "Try 'trackwatch report --help' for more information.\n");
		return DB_EXIT_USAGE;
	}
	sqlite3 *db;
	int status = db_query_start(&q, argc, argv, &db);
	if (status != DB_EXIT_OK)
		return status;
	return db_query_finish(&q, db, report_run(&q, db, settle_us));
}
