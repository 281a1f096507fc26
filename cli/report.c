/*
 * trackwatch report: per device and site, the tracker hosts contacted, by
 * company, with first and last seen, the number of hits and the lists that
 * matched; and the runs that recorded them, as evidence. SQLite does the
 * grouping (one row per device, site and host); this file names the rows
 * and writes them as text for people, JSON for scripts (a stable interface:
 * trackwatch(1), REPORT) or CSV for spreadsheets.
 */
#include "commands.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sqlite3.h>

#include "db.h"

static void report_usage(FILE *out)
{
	fprintf(out,
"Usage: trackwatch report [OPTION]...\n"
"Print, per device and site, the tracker companies and hosts contacted: first\n"
"and last seen, hits, and the lists that matched.\n"
"\n"
"Options:\n"
"      --db FILE          the sensor's database (default " DB_DEFAULT_PATH ")\n"
"  -d, --device DEVICE    only this device: a MAC, an address, the device key or\n"
"                         a configured name\n"
"  -s, --site SITE        only this site (a host under it names it too)\n"
"      --since TIME       only hits from TIME on: 2026-11-29T04:39:50Z (with\n"
"                         optional .sss), 2026-11-29 (midnight UTC), or a time\n"
"                         ago: 30m, 2h, 7d\n"
"      --until TIME       only hits before TIME\n"
"  -f, --format FORMAT    text (default), json or csv\n"
"  -h, --help             show this help and exit\n"
"\n"
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

static bool text_equal(const struct text *a, const struct text *b)
{
	if (!a->p || !b->p)
		return a->p == b->p;
	return a->len == b->len && memcmp(a->p, b->p, a->len) == 0;
}

/* One tracker host of a device on a site. */
struct tracker {
	int64_t device_id;
	struct text site, host, entity, category, cname;
	int64_t count, first, last;
	json_t *lists, *categories;  /* unions over the hits: sorted arrays of names */
};

struct device {
	int64_t id;
	struct text key, mac, name, hostname;
	struct text *addresses;
	size_t address_count;
};

struct run {
	int64_t id, file_bytes, started, ended, first_packet, last_packet;
	bool has_file_bytes, has_ended, has_first_packet, has_last_packet, live;
	int64_t packets, observations, hits, dropped;
	struct text source, file_sha256, status, version, lists, config_sha256;
};

struct report {
	struct tracker *trackers;
	size_t tracker_count, tracker_cap;
	struct device *devices;
	size_t device_count;
	struct run *runs;
	size_t run_count;
};

static void report_free(struct report *r)
{
	for (size_t i = 0; i < r->tracker_count; i++) {
		struct tracker *t = &r->trackers[i];
		free(t->site.p);
		free(t->host.p);
		free(t->entity.p);
		free(t->category.p);
		free(t->cname.p);
		json_decref(t->lists);
		json_decref(t->categories);
	}
	for (size_t i = 0; i < r->device_count; i++) {
		struct device *d = &r->devices[i];
		free(d->key.p);
		free(d->mac.p);
		free(d->name.p);
		free(d->hostname.p);
		for (size_t k = 0; k < d->address_count; k++)
			free(d->addresses[k].p);
		free(d->addresses);
	}
	for (size_t i = 0; i < r->run_count; i++) {
		struct run *u = &r->runs[i];
		free(u->source.p);
		free(u->file_sha256.p);
		free(u->status.p);
		free(u->version.p);
		free(u->lists.p);
		free(u->config_sha256.p);
	}
	free(r->trackers);
	free(r->devices);
	free(r->runs);
}

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
 * The union of the sets whose ids `ids` lists ("3,7": group_concat's), as
 * a sorted array without repeats; NULL on an error.
 */
static json_t *union_of_sets(struct db_sets *sets, const char *ids)
{
	json_t *all = json_array(), *names = NULL;
	if (!all)
		return NULL;
	for (const char *p = ids; p && *p;) {
		char *end;
		long long id = strtoll(p, &end, 10);
		if (end == p)
			break;
		json_t *set = db_sets_get(sets, id);
		if (!set || json_array_extend(all, set) != 0)
			goto done;
		p = *end == ',' ? end + 1 : end;
	}
	names = sorted_names(all);
done:
	json_decref(all);
	return names;
}

/*
 * The grouping, in SQL: one row per device, site and host, over the hits
 * the selection keeps. Company, category and CNAME are those of the group's
 * latest hit (the last by time, then by id), found through the index on
 * (device_id, ts); the CNAME of any hit when the latest has none.
 */
static const char tracker_sql_head[] =
	"WITH g AS (SELECT o.device_id AS device_id, o.site_id AS site_id, o.host_id AS host_id,"
	" count(*) AS n, min(o.ts) AS first, max(o.ts) AS last,"
	" group_concat(DISTINCT t.lists_id) AS lists_ids,"
	" group_concat(DISTINCT t.categories_id) AS categories_ids,"
	" max(t.cname_id) AS any_cname"
	" FROM observations o JOIN hits t ON t.observation_id = o.id WHERE 1";
static const char tracker_sql_tail[] =
	" GROUP BY o.device_id, o.site_id, o.host_id)"
	" SELECT g.device_id, s.name, h.name, g.n, g.first, g.last, g.lists_ids, g.categories_ids,"
	" e.name, c.name, ch.name"
	" FROM g"
	" JOIN devices d ON d.id = g.device_id"
	" JOIN hosts h ON h.id = g.host_id"
	" LEFT JOIN sites s ON s.id = g.site_id"
	" LEFT JOIN hits lt ON lt.observation_id ="
	"  (SELECT o2.id FROM observations o2 JOIN hits t2 ON t2.observation_id = o2.id"
	"   WHERE o2.device_id = g.device_id AND o2.ts = g.last AND o2.host_id = g.host_id"
	"   AND o2.site_id IS g.site_id ORDER BY o2.id DESC LIMIT 1)"
	" LEFT JOIN entities e ON e.id = lt.entity_id"
	" LEFT JOIN categories c ON c.id = lt.category_id"
	" LEFT JOIN hosts ch ON ch.id = coalesce(lt.cname_id, g.any_cname)"
	" ORDER BY d.key, d.id, s.name IS NULL, s.name, e.name IS NULL, e.name, h.name, g.host_id";

static int read_trackers(struct report *r, const struct db_query *q, sqlite3 *db, struct db_sets *sets)
{
	char sql[4096];
	snprintf(sql, sizeof sql, "%s", tracker_sql_head);
	if (db_query_where(q, sql, sizeof sql - sizeof tracker_sql_tail) < 0)
		return -1;
	strcat(sql, tracker_sql_tail);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	int rc = db_query_bind(q, st) == 0 ? SQLITE_OK : SQLITE_ERROR;
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		rc = SQLITE_NOMEM;
		if (r->tracker_count == r->tracker_cap) {
			size_t cap = r->tracker_cap ? 2 * r->tracker_cap : 64;
			struct tracker *grown = realloc(r->trackers, cap * sizeof *grown);
			if (!grown)
				break;
			r->trackers = grown;
			r->tracker_cap = cap;
		}
		struct tracker *t = &r->trackers[r->tracker_count++];
		memset(t, 0, sizeof *t);
		t->device_id = sqlite3_column_int64(st, 0);
		t->count = sqlite3_column_int64(st, 3);
		t->first = sqlite3_column_int64(st, 4);
		t->last = sqlite3_column_int64(st, 5);
		if (text_copy(&t->site, st, 1) < 0 || text_copy(&t->host, st, 2) < 0 ||
		    text_copy(&t->entity, st, 8) < 0 || text_copy(&t->category, st, 9) < 0 ||
		    text_copy(&t->cname, st, 10) < 0)
			break;
		if (!(t->lists = union_of_sets(sets, (const char *)sqlite3_column_text(st, 6))) ||
		    !(t->categories = union_of_sets(sets, (const char *)sqlite3_column_text(st, 7))))
			break;
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* The devices of the trackers, in their order (by key). */
static int read_devices(struct report *r, sqlite3 *db)
{
	sqlite3_stmt *dev = NULL, *addr = NULL;
	int status = -1;
	if (sqlite3_prepare_v2(db, "SELECT key, mac, name, hostname FROM devices WHERE id = ?", -1, &dev,
			       NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db,
			       "SELECT address FROM device_addresses WHERE device_id = ?"
			       " ORDER BY first_seen, address",
			       -1, &addr, NULL) != SQLITE_OK)
		goto done;
	if (r->tracker_count && !(r->devices = calloc(r->tracker_count, sizeof *r->devices)))
		goto done;
	for (size_t i = 0; i < r->tracker_count; i++) {
		int64_t id = r->trackers[i].device_id;
		if (r->device_count && r->devices[r->device_count - 1].id == id)
			continue;
		struct device *d = &r->devices[r->device_count++];
		d->id = id;
		sqlite3_reset(dev);
		sqlite3_bind_int64(dev, 1, id);
		if (sqlite3_step(dev) != SQLITE_ROW || text_copy(&d->key, dev, 0) < 0 ||
		    text_copy(&d->mac, dev, 1) < 0 || text_copy(&d->name, dev, 2) < 0 ||
		    text_copy(&d->hostname, dev, 3) < 0)
			goto done;
		sqlite3_reset(addr);
		sqlite3_bind_int64(addr, 1, id);
		int rc;
		size_t cap = 0;
		while ((rc = sqlite3_step(addr)) == SQLITE_ROW) {
			if (d->address_count == cap) {
				cap = cap ? 2 * cap : 4;
				struct text *grown = realloc(d->addresses, cap * sizeof *grown);
				if (!grown)
					goto done;
				d->addresses = grown;
			}
			if (text_copy(&d->addresses[d->address_count], addr, 0) < 0)
				goto done;
			d->address_count++;
		}
		if (rc != SQLITE_DONE)
			goto done;
	}
	status = 0;
done:
	sqlite3_finalize(dev);
	sqlite3_finalize(addr);
	return status;
}

static int read_runs(struct report *r, sqlite3 *db)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db,
			       "SELECT id, source, live, file_sha256, file_bytes, started, ended, first_packet,"
			       " last_packet, status, version, lists, config_sha256, packets, observations,"
			       " hits, dropped FROM runs ORDER BY id",
			       -1, &st, NULL) != SQLITE_OK)
		return -1;
	size_t cap = 0;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		rc = SQLITE_NOMEM;
		if (r->run_count == cap) {
			cap = cap ? 2 * cap : 8;
			struct run *grown = realloc(r->runs, cap * sizeof *grown);
			if (!grown)
				break;
			r->runs = grown;
		}
		struct run *u = &r->runs[r->run_count++];
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
		if (text_copy(&u->source, st, 1) < 0 || text_copy(&u->file_sha256, st, 3) < 0 ||
		    text_copy(&u->status, st, 9) < 0 || text_copy(&u->version, st, 10) < 0 ||
		    text_copy(&u->lists, st, 11) < 0 || text_copy(&u->config_sha256, st, 12) < 0)
			break;
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* ---- JSON ------------------------------------------------------------------ */

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

/* Sets a member; a NULL value (out of memory) fails the whole document. */
static void set(json_t *o, const char *key, json_t *value, bool *failed)
{
	if (!value || json_object_set_new(o, key, value) != 0)
		*failed = true;
}

static json_t *json_tracker(const struct tracker *t, bool *failed)
{
	json_t *o = json_object();
	if (!o) {
		*failed = true;
		return NULL;
	}
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
	if (!o) {
		*failed = true;
		return NULL;
	}
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
	return o;
}

static int print_json(const struct report *r, FILE *out)
{
	bool failed = false;
	json_t *doc = json_object(), *devices = json_array(), *runs = json_array();
	if (!doc || !devices || !runs) {
		json_decref(doc);
		json_decref(devices);
		json_decref(runs);
		return -1;
	}
	set(doc, "devices", devices, &failed);
	set(doc, "runs", runs, &failed);
	size_t i = 0;
	for (size_t k = 0; k < r->device_count && !failed; k++) {
		const struct device *d = &r->devices[k];
		json_t *o = json_object(), *addresses = json_array(), *sites = json_array();
		set(o, "device", wire(&d->key), &failed);
		set(o, "mac", wire(&d->mac), &failed);
		for (size_t a = 0; a < d->address_count && addresses; a++)
			if (json_array_append_new(addresses, wire(&d->addresses[a])) != 0)
				failed = true;
		set(o, "addresses", addresses, &failed);
		set(o, "name", text(&d->name), &failed);
		set(o, "hostname", wire(&d->hostname), &failed);
		set(o, "sites", sites, &failed);
		if (!o || json_array_append_new(devices, o) != 0)
			failed = true;
		/* This device's trackers, site by site. */
		while (i < r->tracker_count && r->trackers[i].device_id == d->id && !failed) {
			const struct text *site = &r->trackers[i].site;
			json_t *s = json_object(), *trackers = json_array();
			set(s, "site", wire(site), &failed);
			set(s, "trackers", trackers, &failed);
			if (!s || json_array_append_new(sites, s) != 0)
				failed = true;
			for (; i < r->tracker_count && r->trackers[i].device_id == d->id &&
			       text_equal(&r->trackers[i].site, site) && !failed;
			     i++)
				if (json_array_append_new(trackers, json_tracker(&r->trackers[i], &failed)) != 0)
					failed = true;
		}
	}
	for (size_t k = 0; k < r->run_count && !failed; k++)
		if (json_array_append_new(runs, json_run(&r->runs[k], &failed)) != 0)
			failed = true;
	if (!failed) {
		json_dumpf(doc, out, JSON_INDENT(2) | JSON_ENSURE_ASCII | JSON_PRESERVE_ORDER);
		putc('\n', out);
	}
	json_decref(doc);
	return failed ? -1 : 0;
}

/* ---- CSV ------------------------------------------------------------------- */

static const char *const csv_columns[] = {
	"device", "mac", "name", "addresses", "site", "host", "entity", "category", "categories",
	"lists", "cname", "first_seen", "last_seen", "count",
};

static void csv_names(FILE *out, struct db_buf *buf, const json_t *names)
{
	if (db_join_names(buf, names, ";"))
		db_csv_field(out, buf->data, buf->len);
}

/* A device's addresses, escaped and joined by ";", into `joined`; NULL when out of memory. */
static const char *join_addresses(struct db_buf *joined, const struct device *d)
{
	struct db_buf one = { 0 };
	size_t len = 0;
	for (size_t a = 0; a < d->address_count; a++) {
		if (!db_escape(&one, d->addresses[a].p, d->addresses[a].len, 1))
			break;
		size_t need = len + one.len + 2;
		if (need > joined->cap) {
			char *grown = realloc(joined->data, need);
			if (!grown) {
				joined->failed = true;
				break;
			}
			joined->data = grown;
			joined->cap = need;
		}
		if (a)
			joined->data[len++] = ';';
		memcpy(joined->data + len, one.data, one.len);
		len += one.len;
	}
	bool failed = one.failed || joined->failed;
	db_buf_free(&one);
	if (failed)
		return NULL;
	joined->len = len;
	return len ? joined->data : "";
}

static void print_csv(const struct report *r, FILE *out, struct db_buf *buf)
{
	for (size_t k = 0; k < sizeof csv_columns / sizeof csv_columns[0]; k++)
		fprintf(out, "%s%s", k ? "," : "", csv_columns[k]);
	fputs("\r\n", out);
	struct db_buf joined = { 0 };
	size_t i = 0;
	for (size_t k = 0; k < r->device_count; k++) {
		const struct device *d = &r->devices[k];
		const char *addresses = join_addresses(&joined, d);
		if (!addresses)
			buf->failed = true;
		for (; i < r->tracker_count && r->trackers[i].device_id == d->id; i++) {
			const struct tracker *t = &r->trackers[i];
			char first[DB_TIME_MAX], last[DB_TIME_MAX];
			db_csv_value(out, buf, d->key.p, d->key.len);
			putc(',', out);
			db_csv_value(out, buf, d->mac.p, d->mac.len);
			putc(',', out);
			db_csv_value(out, buf, d->name.p, d->name.len);
			putc(',', out);
			if (addresses)
				db_csv_field(out, addresses, joined.len);
			putc(',', out);
			db_csv_value(out, buf, t->site.p, t->site.len);
			putc(',', out);
			db_csv_value(out, buf, t->host.p, t->host.len);
			putc(',', out);
			db_csv_value(out, buf, t->entity.p, t->entity.len);
			putc(',', out);
			db_csv_value(out, buf, t->category.p, t->category.len);
			putc(',', out);
			csv_names(out, buf, t->categories);
			putc(',', out);
			csv_names(out, buf, t->lists);
			putc(',', out);
			db_csv_value(out, buf, t->cname.p, t->cname.len);
			db_format_time(t->first, first);
			db_format_time(t->last, last);
			fprintf(out, ",%s,%s,%lld\r\n", first, last, (long long)t->count);
		}
	}
	db_buf_free(&joined);
}

/* ---- Text ------------------------------------------------------------------ */

/*
 * Columns of a host line, 79 bytes in all: the host (indented 6), hits,
 * first and last seen. A longer host has the line to itself and its
 * numbers go on the next.
 */
enum { HOST_INDENT = 6, HOST_WIDTH = 24, HITS_WIDTH = 5, LINE_WIDTH = 80 };

/* "Alphabet (Advertising, Analytics; lists disconnect, easyprivacy)": a company's line. */
static void print_company(FILE *out, struct db_buf *buf, const struct tracker *from,
			  const struct tracker *to)
{
	/* The primary categories of its hosts, and the lists that matched any of them. */
	json_t *all_categories = json_array(), *all_lists = json_array();
	for (const struct tracker *t = from; t < to && all_categories && all_lists; t++) {
		if (t->category.p)
			json_array_append_new(all_categories, db_json_text(t->category.p, t->category.len));
		json_array_extend(all_lists, t->lists);
	}
	json_t *categories = all_categories ? sorted_names(all_categories) : NULL;
	json_t *lists = all_lists ? sorted_names(all_lists) : NULL;
	json_decref(all_categories);
	json_decref(all_lists);
	if (!categories || !lists)
		buf->failed = true;
	fputs("    ", out);
	if (from->entity.p)
		db_text_value(out, buf, from->entity.p, from->entity.len, 1, LINE_WIDTH - 4, 0);
	else
		fputs("(unknown company)", out);
	size_t ncat = json_array_size(categories), nlists = json_array_size(lists);
	if (ncat || nlists) {
		fputs(" (", out);
		if (ncat && db_join_names(buf, categories, ", "))
			fwrite(buf->data, 1, buf->len, out);
		if (ncat && nlists)
			fputs("; ", out);
		if (nlists && db_join_names(buf, lists, ", "))
			fprintf(out, "lists %s", buf->data);
		putc(')', out);
	}
	putc('\n', out);
	json_decref(categories);
	json_decref(lists);
}

static void print_host(FILE *out, struct db_buf *buf, const struct tracker *t)
{
	char first[DB_TIME_MAX], last[DB_TIME_MAX];
	db_format_time_text(t->first, first);
	db_format_time_text(t->last, last);
	const char *host = db_escape(buf, t->host.p, t->host.len, 0);
	if (!host)
		return;
	fprintf(out, "%*s", HOST_INDENT, "");
	if (buf->len <= HOST_WIDTH) {
		db_text_cell(out, host, buf->len, HOST_WIDTH, 1);
	} else {
		db_text_cell(out, host, buf->len, LINE_WIDTH - 1 - HOST_INDENT, 0);
		fprintf(out, "\n%*s", HOST_INDENT + HOST_WIDTH, "");
	}
	fprintf(out, "  %*lld  %s  %s\n", HITS_WIDTH, (long long)t->count, first, last);
	if (t->cname.p) {
		fprintf(out, "%*sCNAME ", HOST_INDENT + 2, "");
		db_text_value(out, buf, t->cname.p, t->cname.len, 0, LINE_WIDTH - 1 - HOST_INDENT - 8, 0);
		putc('\n', out);
	}
}

static void print_device(FILE *out, struct db_buf *buf, const struct device *d)
{
	fputs("Device ", out);
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

static void print_runs(FILE *out, struct db_buf *buf, const struct report *r)
{
	if (!r->run_count)
		return;
	fputs("\nRuns\n", out);
	for (size_t k = 0; k < r->run_count; k++) {
		const struct run *u = &r->runs[k];
		char started[DB_TIME_MAX], ended[DB_TIME_MAX];
		db_format_time_text(u->started, started);
		if (u->has_ended)
			db_format_time_text(u->ended, ended);
		fprintf(out, "  %-4lld ", (long long)u->id);
		db_text_value(out, buf, u->status.p, u->status.len, 0, 11, 1);
		fprintf(out, " %s to %s  trackwatchd ", started, u->has_ended ? ended : "(not ended)");
		db_text_value(out, buf, u->version.p, u->version.len, 1, 16, 0);
		fputs("\n       ", out);
		db_text_value(out, buf, u->source.p, u->source.len, 1, LINE_WIDTH - 8, 0);
		fprintf(out, "\n       %lld packets, %lld observations, %lld hits, %lld dropped\n",
			(long long)u->packets, (long long)u->observations, (long long)u->hits,
			(long long)u->dropped);
	}
}

static void print_text(const struct report *r, FILE *out, struct db_buf *buf)
{
	long long hits = 0;
	for (size_t i = 0; i < r->tracker_count; i++)
		hits += r->trackers[i].count;
	if (r->tracker_count == 0)
		fputs("No tracker hits match.\n", out);
	else
		fprintf(out, "%zu tracker host%s on %zu device%s, %lld hit%s (times UTC)\n",
			r->tracker_count, r->tracker_count == 1 ? "" : "s", r->device_count,
			r->device_count == 1 ? "" : "s", hits, hits == 1 ? "" : "s");
	size_t i = 0;
	for (size_t k = 0; k < r->device_count; k++) {
		const struct device *d = &r->devices[k];
		putc('\n', out);
		print_device(out, buf, d);
		while (i < r->tracker_count && r->trackers[i].device_id == d->id) {
			const struct tracker *site = &r->trackers[i];
			fputs("\n  ", out);
			if (site->site.p)
				db_text_value(out, buf, site->site.p, site->site.len, 0, LINE_WIDTH - 3, 0);
			else
				fputs("(unknown site)", out);
			fprintf(out, "\n    %-*s  %*s  %-19s  %s\n", HOST_INDENT + HOST_WIDTH - 4,
				"COMPANY / HOST", HITS_WIDTH, "HITS", "FIRST SEEN", "LAST SEEN");
			while (i < r->tracker_count && r->trackers[i].device_id == d->id &&
			       text_equal(&r->trackers[i].site, &site->site)) {
				/* One company: the rows sharing its name (sorted together). */
				size_t end = i + 1;
				while (end < r->tracker_count && r->trackers[end].device_id == d->id &&
				       text_equal(&r->trackers[end].site, &site->site) &&
				       text_equal(&r->trackers[end].entity, &r->trackers[i].entity))
					end++;
				print_company(out, buf, &r->trackers[i], &r->trackers[end]);
				for (; i < end; i++)
					print_host(out, buf, &r->trackers[i]);
			}
		}
	}
	print_runs(out, buf, r);
}

/* ---- The command ------------------------------------------------------------ */

static int report_run(const struct db_query *q, sqlite3 *db)
{
	struct report r = { 0 };
	struct db_buf buf = { 0 };
	int status = DB_EXIT_OK;
	struct db_sets *sets = db_sets_new(db);
	if (!sets || read_trackers(&r, q, db, sets) < 0 || read_devices(&r, db) < 0 ||
	    read_runs(&r, db) < 0) {
		status = db_error(q, db);
		goto done;
	}
	if (q->format == DB_FORMAT_JSON) {
		if (print_json(&r, stdout) < 0)
			buf.failed = true;
	} else if (q->format == DB_FORMAT_CSV) {
		print_csv(&r, stdout, &buf);
	} else {
		print_text(&r, stdout, &buf);
	}
	if (buf.failed) {
		fprintf(stderr, "trackwatch report: out of memory: the output is incomplete\n");
		status = DB_EXIT_FAIL;
	}
done:
	db_buf_free(&buf);
	db_sets_free(sets);
	report_free(&r);
	return status;
}

int cmd_report(int argc, char **argv, const char *config_path)
{
	/* The configuration will name the database (issue 7); --db and the default do for now. */
	(void)config_path;
	static const struct option options[] = {
		DB_QUERY_LONG_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct db_query q;
	db_query_init(&q, "report");
	int c;
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
		fprintf(stderr, "Try 'trackwatch report --help' for more information.\n");
		return DB_EXIT_USAGE;
	}
	if (optind < argc) {
		fprintf(stderr, "trackwatch report: unexpected argument '%s'\n", argv[optind]);
		fprintf(stderr, "Try 'trackwatch report --help' for more information.\n");
		return DB_EXIT_USAGE;
	}
	sqlite3 *db = db_query_open(&q);
	if (!db) {
		db_query_free(&q);
		return DB_EXIT_FAIL;
	}
	int status = report_run(&q, db);
	sqlite3_close(db);
	db_query_free(&q);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		perror("trackwatch report: standard output");
		status = DB_EXIT_FAIL;
	}
	return status;
}
