/*
 * The store (daemon/store.h): migrations from the previous schema version,
 * refusal of databases it does not know, batched commits visible to a
 * reader in WAL mode, strings stored once, hostile names stored byte for
 * byte with bound parameters, and retention.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../daemon/schema.h"
#include "../../daemon/store.h"

static char dir[] = "/tmp/tw-store-XXXXXX";
static char path[128];
static int counter;

static int setup(void **state)
{
	(void)state;
	snprintf(path, sizeof path, "%s/t%d.db", dir, counter++);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char p[160];
	unlink(path);
	snprintf(p, sizeof p, "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", path);
	unlink(p);
	return 0;
}

static sqlite3 *open_raw(void)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	return db;
}

static void exec_ok(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK)
		fail_msg("%s: %s", sql, msg ? msg : "?");
}

static int64_t scalar(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	int64_t v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static struct store *open_store(unsigned batch_rows, unsigned max_days)
{
	struct store_options o;
	store_options_defaults(&o);
	o.batch_rows = batch_rows;
	o.batch_ms = 3600 * 1000;
	o.max_days = max_days;
	char err[STORE_ERROR_MAX];
	struct store *s = store_open(path, &o, err, sizeof err);
	if (!s)
		fail_msg("%s", err);
	return s;
}

static void begin_run(struct store *s, int live)
{
	struct store_run run = { .source = "test", .live = live, .file_bytes = -1,
				 .started_us = 1000, .version = "test" };
	char err[STORE_ERROR_MAX];
	assert_int_equal(store_run_begin(s, &run, err, sizeof err), 0);
}

/* A database as version 1 wrote it, with a row in each table a report reads. */
static void make_version_1(void)
{
	sqlite3 *db = open_raw();
	exec_ok(db, schema_migrations[0]);
	exec_ok(db, "PRAGMA user_version = 1;"
		    "INSERT INTO meta VALUES ('created_by', 'trackwatch');"
		    "INSERT INTO runs(id, source, started, version) VALUES (1, 'old.pcap', 5, '0.0.9');"
		    "INSERT INTO kinds VALUES (1, 'tls_sni');"
		    "INSERT INTO hosts VALUES (1, 'www.google-analytics.com');"
		    "INSERT INTO entities VALUES (1, 'Google');"
		    "INSERT INTO sets VALUES (1, '[\"easyprivacy\"]');"
		    "INSERT INTO devices VALUES (1, '10.0.0.2', NULL, NULL, 10, 10);"
		    "INSERT INTO observations VALUES (1, 1, 10, 1, NULL, NULL, 1, 1, '192.0.2.1', 1, 443, 6, 1);"
		    "INSERT INTO hits VALUES (1, 1, NULL, 1, NULL, 1, NULL);");
	sqlite3_close(db);
}

static void test_upgrade_from_version_1(void **state)
{
	(void)state;
	make_version_1();
	struct store *s = open_store(100, 0);
	assert_int_equal(store_close(s), 0);
	sqlite3 *db = open_raw();
	assert_int_equal(scalar(db, "PRAGMA user_version"), SCHEMA_VERSION);
	/* The old row is kept, and the new columns are there (NULL for it). */
	assert_int_equal(scalar(db, "SELECT count(*) FROM timeline WHERE host = 'www.google-analytics.com'"
				    " AND entity = 'Google' AND tracker AND cname IS NULL"), 1);
	assert_int_equal(scalar(db, "SELECT count(*) FROM devices WHERE hostname IS NULL"), 1);
	/* Version 4: the capture's own losses, unknown (NULL) for the old run. */
	assert_int_equal(scalar(db, "SELECT count(*) FROM runs WHERE capture_received IS NULL"
				    " AND capture_dropped IS NULL"), 1);
	sqlite3_close(db);
	/* The reader upgrades too. */
	teardown(NULL);
	make_version_1();
	char err[STORE_ERROR_MAX];
	db = store_open_reader(path, err, sizeof err);
	assert_non_null(db);
	assert_int_equal(scalar(db, "PRAGMA user_version"), SCHEMA_VERSION);
	assert_int_equal(scalar(db, "SELECT count(*) FROM hits WHERE cname_id IS NULL"), 1);
	sqlite3_close(db);
}

static void test_refuses_unknown_databases(void **state)
{
	(void)state;
	sqlite3 *db = open_raw();
	exec_ok(db, "CREATE TABLE notes(x); PRAGMA user_version = 0;");
	sqlite3_close(db);
	char err[STORE_ERROR_MAX];
	struct store_options o;
	store_options_defaults(&o);
	assert_null(store_open(path, &o, err, sizeof err));
	assert_non_null(strstr(err, "not a trackwatch database"));
	assert_null(store_open_reader(path, err, sizeof err));
	assert_non_null(strstr(err, "not a trackwatch database"));
	/* Left as it was: still in its own journal mode, its table untouched. */
	db = open_raw();
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "delete");
	sqlite3_finalize(st);
	assert_int_equal(scalar(db, "SELECT count(*) FROM sqlite_schema"), 1);
	sqlite3_close(db);

	teardown(NULL);
	db = open_raw();
	exec_ok(db, "PRAGMA user_version = 99;");
	sqlite3_close(db);
	assert_null(store_open(path, &o, err, sizeof err));
	assert_non_null(strstr(err, "version 99 is newer"));
	assert_null(store_open_reader(path, err, sizeof err));
	assert_non_null(strstr(err, "version 99 is newer"));

	teardown(NULL);
	assert_null(store_open_reader(path, err, sizeof err)); /* missing */
	assert_non_null(strstr(err, path));
}

static int64_t add(struct store *s, const char *host, uint64_t ts, const struct store_hit *hit)
{
	struct store_device dev = { "aa:bb:cc:dd:ee:ff", "aa:bb:cc:dd:ee:ff", "10.0.0.2", "laptop" };
	int64_t device = store_device(s, &dev, ts);
	assert_true(device > 0);
	struct store_row row = { .ts_us = ts, .kind = "tls_sni", .host = host, .server = "192.0.2.1",
				 .sport = 5000, .dport = 443, .proto = 6, .flow = 1, .hit = hit };
	assert_int_equal(store_add(s, device, &row), 0);
	return device;
}

static void test_batches_and_readers(void **state)
{
	(void)state;
	struct store *s = open_store(3, 0);
	begin_run(s, 0);
	for (int i = 0; i < 7; i++)
		add(s, "example.com", 100 + (uint64_t)i, NULL);
	/* Two batches of 3 are committed and a reader sees them; the 7th waits. */
	assert_int_equal(store_stats(s)->commits, 2);
	char err[STORE_ERROR_MAX];
	sqlite3 *reader = store_open_reader(path, err, sizeof err);
	assert_non_null(reader);
	assert_int_equal(scalar(reader, "SELECT count(*) FROM observations"), 6);
	assert_int_equal(store_commit(s, 1), 0);
	assert_int_equal(scalar(reader, "SELECT count(*) FROM observations"), 7);
	sqlite3_close(reader);
	struct store_run_end end = { .status = "complete", .ended_us = 2000, .packets = 9,
				     .file_bytes = -1 };
	assert_int_equal(store_run_end(s, &end), 0);
	assert_int_equal(store_close(s), 0);
	sqlite3 *db = open_raw();
	/* One host row for seven observations; the run's evidence is written. */
	assert_int_equal(scalar(db, "SELECT count(*) FROM hosts"), 1);
	assert_int_equal(scalar(db, "SELECT count(*) FROM runs WHERE status = 'complete' AND"
				    " observations = 7 AND packets = 9 AND first_packet = 100 AND"
				    " last_packet = 106"), 1);
	assert_int_equal(scalar(db, "SELECT count(*) FROM devices WHERE name = 'laptop' AND"
				    " first_seen = 100 AND last_seen = 106"), 1);
	assert_int_equal(scalar(db, "SELECT count(*) FROM device_addresses WHERE address = '10.0.0.2'"), 1);
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "ok");
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static void test_hostile_names_byte_for_byte(void **state)
{
	(void)state;
	char long_label[1100];
	memset(long_label, 'a', 1000);
	strcpy(long_label + 1000, ".example");
	const char *names[] = {
		"quote\".example'; DROP TABLE hosts; --",
		"ctl\n\r\x1b[31m.example",
		"\xff\xfe\xc3(.example",
		long_label,
	};
	struct store *s = open_store(100, 0);
	begin_run(s, 0);
	struct store_hit hit = { .entity = "Evil \"Co\"\x01", .category = "Ads",
				 .categories_json = "[\"Ads\"]", .list = "l",
				 .lists_json = "[\"l\"]", .rule = "||x^", .cname = names[2] };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		add(s, names[i], 10 + i, &hit);
	assert_int_equal(store_close(s), 0);
	sqlite3 *db = open_raw();
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		sqlite3_stmt *st;
		assert_int_equal(sqlite3_prepare_v2(db, "SELECT host, cname, entity FROM timeline WHERE ts = ?",
						    -1, &st, NULL), SQLITE_OK);
		sqlite3_bind_int64(st, 1, (sqlite3_int64)(10 + i));
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		assert_int_equal((size_t)sqlite3_column_bytes(st, 0), strlen(names[i]));
		assert_memory_equal(sqlite3_column_blob(st, 0), names[i], strlen(names[i]));
		assert_string_equal((const char *)sqlite3_column_text(st, 1), names[2]);
		assert_string_equal((const char *)sqlite3_column_text(st, 2), "Evil \"Co\"\x01");
		sqlite3_finalize(st);
	}
	/* The table named in the quote is still there. */
	assert_int_equal(scalar(db, "SELECT count(*) FROM hosts"), 4);
	sqlite3_close(db);
}

static void test_retention(void **state)
{
	(void)state;
	uint64_t day = 86400ULL * 1000000, now = 100 * day;
	struct store *s = open_store(100, 7);
	begin_run(s, 1); /* live: rows go by their own time */
	struct store_hit hit = { .categories_json = "[]", .lists_json = "[]" };
	add(s, "old.example", now - 8 * day, &hit);
	add(s, "new.example", now - 1 * day, &hit);
	assert_int_equal(store_retain(s, now, 1), 0);
	assert_int_equal(store_close(s), 0);
	sqlite3 *db = open_raw();
	assert_int_equal(scalar(db, "SELECT count(*) FROM observations"), 1);
	assert_int_equal(scalar(db, "SELECT count(*) FROM timeline WHERE host = 'new.example'"), 1);
	/* The old row's hit went with it, and the name nothing refers to any more. */
	assert_int_equal(scalar(db, "SELECT count(*) FROM hits"), 1);
	assert_int_equal(scalar(db, "SELECT count(*) FROM hosts WHERE name = 'old.example'"), 0);
	assert_int_equal(scalar(db, "SELECT count(*) FROM hosts WHERE name = 'new.example'"), 1);
	assert_int_equal(scalar(db, "SELECT count(*) FROM devices"), 1);
	sqlite3_close(db);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_upgrade_from_version_1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_unknown_databases, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batches_and_readers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_names_byte_for_byte, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retention, setup, teardown),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);
	rmdir(dir);
	return failed;
}
