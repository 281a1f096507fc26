/*
 * Consent phases (cli/phases.c) on databases made here: the settle window,
 * no_decision, a change of mind, marks (exact, for the site the device was
 * on, for every site), consent per site, and what each phase saw.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>
#include <sqlite3.h>

#include "../../cli/db.h"
#include "../../cli/phases.h"
#include "../../daemon/store.h"

enum { S = 1000000 }; /* a second in microseconds */
static const int64_t T0 = 1795927228LL * S;

static sqlite3 *new_db(void)
{
	sqlite3 *db;
	char err[STORE_ERROR_MAX];
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	assert_int_equal(store_migrate(db, ":memory:", err, sizeof err), 0);
	assert_int_equal(sqlite3_exec(db,
		"INSERT INTO runs(id, source, started, version) VALUES (1, 'test', 0, 'test');"
		"INSERT INTO devices(id, key, first_seen, last_seen) VALUES (1, '10.0.0.2', 0, 0),"
		" (2, '10.0.0.3', 0, 0);"
		"INSERT INTO device_addresses VALUES (1, '10.0.0.2', 0, 0), (2, '10.0.0.3', 0, 0);"
		"INSERT INTO kinds(id, name) VALUES (1, 'http_request'), (2, 'consent'),"
		" (3, 'tls_sni'), (4, 'cookie_sent'), (5, 'dns_query');"
		"INSERT INTO sites(id, name) VALUES (1, 'news.example'), (2, 'shop.example');"
		"INSERT INTO entities(id, name) VALUES (1, 'Google'), (2, 'Meta');"
		"INSERT INTO sets(id, names) VALUES (1, '[]');"
		"INSERT INTO cookie_names(id, name) VALUES (1, '_ga');",
		NULL, NULL, NULL), SQLITE_OK);
	return db;
}

static int64_t host_id(sqlite3 *db, const char *host)
{
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO hosts(name) VALUES (?1)"
				" ON CONFLICT(name) DO UPDATE SET name = name RETURNING id", -1, &st, NULL),
			 SQLITE_OK);
	sqlite3_bind_text(st, 1, host, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	int64_t id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return id;
}

static int64_t next_id = 1;

/* An observation; `entity` (1 Google, 2 Meta; 0 none) makes it a tracker hit. */
static int64_t add(sqlite3 *db, int64_t device, int site, int kind, const char *host, int64_t ts,
		   int entity)
{
	int64_t id = next_id++;
	char sql[512];
	snprintf(sql, sizeof sql,
		 "INSERT INTO observations(id, run_id, ts, device_id, site_id, kind_id, host_id, server,"
		 " sport, dport, proto, flow) VALUES (%lld, 1, %lld, %lld, %s, %d, %lld, '192.0.2.1',"
		 " 1, 80, 6, 1)", (long long)id, (long long)ts, (long long)device,
		 site ? (site == 1 ? "1" : "2") : "NULL", kind, (long long)host_id(db, host));
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	if (entity) {
		snprintf(sql, sizeof sql, "INSERT INTO hits(observation_id, entity_id, categories_id,"
			 " lists_id) VALUES (%lld, %d, 1, 1)", (long long)id, entity);
		assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	}
	return id;
}

static void signal_from(sqlite3 *db, int64_t device, int site, int64_t ts, const char *decision,
			const char *source)
{
	int64_t id = add(db, device, site, 2, "news.example", ts, 0);
	char sql[256];
	snprintf(sql, sizeof sql, "INSERT INTO consent VALUES (%lld, '%s', '%s', 'groups')",
		 (long long)id, decision, source);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
}

static void signal_at(sqlite3 *db, int64_t device, int site, int64_t ts, const char *decision)
{
	signal_from(db, device, site, ts, decision, "onetrust:OptanonConsent");
}

static void mark_at(sqlite3 *db, const char *device, const char *site, int64_t ts,
		    const char *decision)
{
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO consent_marks(ts, device, site, decision,"
					    " created) VALUES (?, ?, ?, ?, 0)", -1, &st, NULL),
			 SQLITE_OK);
	sqlite3_bind_int64(st, 1, ts);
	sqlite3_bind_text(st, 2, device, -1, SQLITE_STATIC);
	if (site)
		sqlite3_bind_text(st, 3, site, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, decision, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
}

/* A decision read on the wire takes effect one settle window before its first evidence. */
static void test_settle_window(void **state)
{
	(void)state;
	sqlite3 *db = new_db();
	add(db, 1, 1, 1, "news.example", T0 + 4 * S, 0);  /* the last request without it */
	signal_at(db, 1, 1, T0 + 10 * S, "no_decision"); /* a banner: no phase change */
	signal_at(db, 1, 1, T0 + 20 * S, "accept");
	signal_at(db, 1, 1, T0 + 21 * S, "accept");      /* the same decision again: no change */
	struct phases *p = phases_load(db, S);
	assert_non_null(p);
	bool near = true;
	assert_int_equal(phases_at(p, 1, "news.example", T0 + 12 * S, &near), PHASE_BEFORE);
	assert_false(near);
	assert_int_equal(phases_at(p, 1, "news.example", T0 + 19 * S - 1, NULL), PHASE_BEFORE);
	assert_int_equal(phases_at(p, 1, "news.example", T0 + 19 * S, &near), PHASE_ACCEPT);
	assert_true(near);
	assert_int_equal(phases_at(p, 1, "news.example", T0 + 20 * S, &near), PHASE_ACCEPT);
	assert_false(near);
	/* Consent is per site and per device. */
	assert_int_equal(phases_at(p, 1, "shop.example", T0 + 30 * S, NULL), PHASE_BEFORE);
	assert_int_equal(phases_at(p, 2, "news.example", T0 + 30 * S, NULL), PHASE_BEFORE);
	assert_int_equal(phases_at(p, 1, NULL, T0 + 30 * S, NULL), PHASE_BEFORE);
	/* The report's entries: the banner, then the decision with its evidence interval. */
	json_t *c = phases_consent_json(p, 1, "news.example");
	assert_int_equal(json_array_size(c), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(c, 0), "decision")),
			    "no_decision");
	json_t *d = json_array_get(c, 1);
	assert_string_equal(json_string_value(json_object_get(d, "decision")), "accept");
	assert_string_equal(json_string_value(json_object_get(d, "ts")), "2026-11-29T04:40:48.000Z");
	assert_string_equal(json_string_value(json_object_get(d, "effective")),
			    "2026-11-29T04:40:47.000Z");
	assert_string_equal(json_string_value(json_object_get(d, "last_without")),
			    "2026-11-29T04:40:32.000Z");
	assert_string_equal(json_string_value(json_object_get(d, "first_with")),
			    "2026-11-29T04:40:48.000Z");
	json_decref(c);
	phases_free(p);
	/* Another settle window moves the start. */
	p = phases_load(db, 0);
	assert_int_equal(phases_at(p, 1, "news.example", T0 + 19 * S, NULL), PHASE_BEFORE);
	phases_free(p);
	sqlite3_close(db);
}

/* A change of mind, and marks: exact time, the mark holding against a signal at its time. */
static void test_changes_and_marks(void **state)
{
	(void)state;
	sqlite3 *db = new_db();
	signal_at(db, 1, 1, T0 + 10 * S, "accept");
	signal_at(db, 1, 1, T0 + 30 * S, "reject");
	mark_at(db, "10.0.0.2", "news.example", T0 + 50 * S, "partial");
	signal_at(db, 1, 1, T0 + 51 * S, "reject"); /* still reject on the wire: no change */
	struct phases *p = phases_load(db, S);
	assert_non_null(p);
	assert_int_equal(phases_at(p, 1, "news.example", T0 + 20 * S, NULL), PHASE_ACCEPT);
	assert_int_equal(phases_at(p, 1, "news.example", T0 + 29 * S, NULL), PHASE_REJECT);
	assert_int_equal(phases_at(p, 1, "news.example", T0 + 50 * S - 1, NULL), PHASE_REJECT);
	assert_int_equal(phases_at(p, 1, "news.example", T0 + 50 * S, NULL), PHASE_PARTIAL);
	assert_int_equal(phases_decision_count(p, 1, "news.example"), 3);
	enum phase first;
	int64_t effective;
	const char *source;
	assert_true(phases_first_decision(p, 1, "news.example", &first, &effective, &source));
	assert_int_equal(first, PHASE_ACCEPT);
	assert_int_equal(effective, T0 + 9 * S);
	phases_free(p);
	sqlite3_close(db);
}

/* Two sources that disagree on every request: the stricter holds, whichever comes later. */
static void test_disagreeing_sources(void **state)
{
	(void)state;
	sqlite3 *db = new_db();
	for (int i = 0; i < 5; i++) {
		signal_from(db, 1, 1, T0 + (10 + i) * S, "reject", "onetrust:OptanonConsent");
		signal_from(db, 1, 1, T0 + (10 + i) * S + 50000, "accept", "tcf:euconsent-v2");
	}
	struct phases *p = phases_load(db, S);
	assert_non_null(p);
	assert_int_equal(phases_at(p, 1, "news.example", T0 + 30 * S, NULL), PHASE_REJECT);
	assert_int_equal(phases_at(p, 1, "news.example", T0 + 12 * S, NULL), PHASE_REJECT);
	/* One entry per source, not one per request. */
	assert_int_equal(phases_decision_count(p, 1, "news.example"), 2);
	phases_free(p);
	sqlite3_close(db);
}

/* A mark without a site: the site of the device's visit then, else every site. */
static void test_mark_without_site(void **state)
{
	(void)state;
	sqlite3 *db = new_db();
	assert_int_equal(sqlite3_exec(db,
		"INSERT INTO visits(run_id, device_id, site_id, started, last, how, host_id)"
		" VALUES (1, 1, 2, 1795927228000000, 1795927300000000, 'navigation', 1)",
		NULL, NULL, NULL), SQLITE_OK);
	host_id(db, "shop.example");
	mark_at(db, "10.0.0.2", NULL, T0 + 5 * S, "reject");  /* on shop.example's visit */
	mark_at(db, "10.0.0.3", NULL, T0 + 5 * S, "accept");  /* device 2 has no visit: every site */
	mark_at(db, "nobody", NULL, T0, "accept");             /* names no device: nothing */
	struct phases *p = phases_load(db, S);
	assert_non_null(p);
	assert_int_equal(phases_at(p, 1, "shop.example", T0 + 6 * S, NULL), PHASE_REJECT);
	assert_int_equal(phases_at(p, 1, "news.example", T0 + 6 * S, NULL), PHASE_BEFORE);
	assert_int_equal(phases_at(p, 2, "news.example", T0 + 6 * S, NULL), PHASE_ACCEPT);
	assert_int_equal(phases_at(p, 2, NULL, T0 + 6 * S, NULL), PHASE_ACCEPT);
	assert_int_equal(phases_at(p, 2, "news.example", T0 + 4 * S, NULL), PHASE_BEFORE);
	phases_free(p);
	sqlite3_close(db);
}

static void assert_json(json_t *value, const char *want)
{
	char *text = json_dumps(value, JSON_COMPACT | JSON_ENCODE_ANY);
	assert_non_null(text);
	assert_string_equal(text, want);
	free(text);
}

/* What each phase saw: tracker contacts (not DNS lookups), companies, near_decision, cookies. */
static void test_collect(void **state)
{
	(void)state;
	sqlite3 *db = new_db();
	add(db, 1, 1, 3, "www.google-analytics.com", T0 + 1 * S, 1);
	add(db, 1, 1, 5, "dns.only.example", T0 + 2 * S, 2);           /* a lookup: not a contact */
	int64_t ck = add(db, 1, 1, 4, "www.google-analytics.com", T0 + 3 * S, 1);
	assert_int_equal(sqlite3_exec(db, "INSERT INTO cookies(observation_id, name_id, value,"
				      " value_len, flags) VALUES (last_insert_rowid(), 1, 'h', 20, 40)",
				      NULL, NULL, NULL), SQLITE_OK);
	(void)ck;
	add(db, 1, 1, 3, "connect.facebook.net", T0 + 9 * S + S / 2, 2); /* inside the window */
	/* Inside the window too, but contacted before it: stays before the decision, not near. */
	add(db, 1, 1, 3, "www.google-analytics.com", T0 + 9 * S + S / 4, 1);
	signal_at(db, 1, 1, T0 + 10 * S, "reject");
	add(db, 1, 1, 1, "www.google-analytics.com", T0 + 12 * S, 1);
	struct phases *p = phases_load(db, S);
	assert_non_null(p);
	struct db_query q;
	db_query_init(&q, "test");
	assert_int_equal(phases_collect(p, db, &q), 0);
	json_t *sets = phases_sets_json(p, 1, "news.example");
	assert_non_null(sets);
	json_t *before = json_object_get(sets, "before_consent");
	json_t *after = json_object_get(sets, "after_reject");
	assert_json(json_object_get(before, "tracker_hosts"), "[\"www.google-analytics.com\"]");
	assert_json(json_object_get(before, "cookies_sent"), "[\"_ga->www.google-analytics.com\"]");
	assert_json(json_object_get(before, "identifier_cookies"), "[\"_ga->www.google-analytics.com\"]");
	assert_json(json_object_get(after, "tracker_hosts"), "[\"connect.facebook.net\",\"www.google-analytics.com\"]");
	assert_json(json_object_get(after, "entities"), "[\"Google\",\"Meta\"]");
	assert_json(json_object_get(after, "near_decision"), "[\"connect.facebook.net\"]");
	/* Selecting from the window on (--since) changes no phase: GA was contacted before it. */
	struct phases *p2 = phases_load(db, S);
	struct db_query since;
	db_query_init(&since, "test");
	since.has_since = true;
	since.since_us = T0 + 9 * S;
	assert_int_equal(phases_collect(p2, db, &since), 0);
	json_t *sets2 = phases_sets_json(p2, 1, "news.example");
	assert_json(json_object_get(json_object_get(sets2, "after_reject"), "near_decision"),
		    "[\"connect.facebook.net\"]");
	assert_json(json_object_get(json_object_get(sets2, "before_consent"), "tracker_hosts"),
		    "[\"www.google-analytics.com\"]");
	json_decref(sets2);
	db_query_free(&since);
	phases_free(p2);
	char *verdict = phases_verdict(p, 1, "news.example");
	assert_string_equal(verdict,
			    "news.example: before any consent, 1 tracker host of 1 company was contacted"
			    " and 1 identifier cookie was set or sent; after reject (from"
			    " onetrust:OptanonConsent, 2026-11-29 04:40:37 UTC), 2 tracker hosts of 2"
			    " companies were contacted.");
	free(verdict);
	json_decref(sets);
	db_query_free(&q);
	phases_free(p);
	sqlite3_close(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_settle_window),
		cmocka_unit_test(test_changes_and_marks),
		cmocka_unit_test(test_disagreeing_sources),
		cmocka_unit_test(test_mark_without_site),
		cmocka_unit_test(test_collect),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
