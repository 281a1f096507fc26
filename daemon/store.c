/*
 * store: see store.h. SQL is bound, never formatted: every value from the
 * wire goes in through sqlite3_bind_*().
 */
#include "store.h"

#include "hash.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "observation.h"
#include "schema.h"

static void set_error(char *err, size_t len, const char *fmt, ...)
{
	if (!err || !len)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

static int exec(sqlite3 *db, const char *sql, const char *path, char *err, size_t len)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	set_error(err, len, "%s: %s", path, msg ? msg : sqlite3_errmsg(db));
	sqlite3_free(msg);
	return -1;
}

/* PRAGMA user_version, or -1. */
static int user_version(sqlite3 *db)
{
	sqlite3_stmt *st;
	int version = -1;
	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return version;
}

/* Whether the database has any table at all (a version 0 that is not empty is not ours). */
static int has_tables(sqlite3 *db)
{
	sqlite3_stmt *st;
	int any = -1;
	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM sqlite_schema", -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		any = sqlite3_column_int(st, 0) > 0;
	sqlite3_finalize(st);
	return any;
}

int store_migrate(sqlite3 *db, const char *path, char *err, size_t err_len)
{
	/* Taken before reading the version, so that two processes do not both migrate. */
	if (exec(db, "BEGIN IMMEDIATE", path, err, err_len) != 0)
		return -1;
	int version = user_version(db);
	int tables = has_tables(db);
	if (version < 0 || tables < 0) {
		set_error(err, err_len, "%s: %s", path, sqlite3_errmsg(db));
		goto fail;
	}
	if (version > SCHEMA_VERSION) {
		set_error(err, err_len,
			  "%s: database version %d is newer than this trackwatch knows (%d); use a newer trackwatch",
			  path, version, SCHEMA_VERSION);
		goto fail;
	}
	if (version == 0 && tables) {
		set_error(err, err_len, "%s: not a trackwatch database (it has tables but no version)",
			  path);
		goto fail;
	}
	for (int v = version; v < SCHEMA_VERSION; v++) {
		if (exec(db, schema_migrations[v], path, err, err_len) != 0)
			goto fail;
		char sql[64];
		snprintf(sql, sizeof sql, "PRAGMA user_version = %d", v + 1);
		if (exec(db, sql, path, err, err_len) != 0)
			goto fail;
	}
	if (version == 0 &&
	    exec(db, "INSERT INTO meta(key, value) VALUES ('created_by', 'trackwatch')", path, err,
		 err_len) != 0)
		goto fail;
	return exec(db, "COMMIT", path, err, err_len);
fail:
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

/* Opens with the settings every connection uses. */
static sqlite3 *open_db(const char *path, int flags, char *err, size_t err_len)
{
	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(path, &db, flags, NULL);
	if (rc != SQLITE_OK) {
		set_error(err, err_len, "%s: %s", path,
			  db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_extended_result_codes(db, 1);
	/* The writer holds its transaction for up to a batch; readers wait for it. */
	sqlite3_busy_timeout(db, 5000);
	return db;
}

static sqlite3 *open_existing(const char *path, int writable, char *err, size_t err_len)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		set_error(err, err_len, "%s: %s", path, strerror(errno));
		return NULL;
	}
	sqlite3 *db = open_db(path, writable ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY, err,
			      err_len);
	if (!db)
		return NULL;
	int version = user_version(db);
	if (version < 0) {
		set_error(err, err_len, "%s: not a trackwatch database (%s)", path, sqlite3_errmsg(db));
		sqlite3_close(db);
		return NULL;
	}
	if (version == SCHEMA_VERSION)
		return db;
	if (version == 0) {
		set_error(err, err_len, "%s: not a trackwatch database", path);
		sqlite3_close(db);
		return NULL;
	}
	if (version > SCHEMA_VERSION) {
		set_error(err, err_len,
			  "%s: database version %d is newer than this trackwatch knows (%d); use a newer trackwatch",
			  path, version, SCHEMA_VERSION);
		sqlite3_close(db);
		return NULL;
	}
	/* An older version: upgrade it, then read. */
	if (!writable) {
		sqlite3_close(db);
		db = open_db(path, SQLITE_OPEN_READWRITE, err, err_len);
		if (!db)
			return NULL;
	}
	if (store_migrate(db, path, err, err_len) != 0) {
		sqlite3_close(db);
		return NULL;
	}
	return db;
}

sqlite3 *store_open_reader(const char *path, char *err, size_t err_len)
{
	return open_existing(path, 0, err, err_len);
}

sqlite3 *store_open_existing(const char *path, char *err, size_t err_len)
{
	return open_existing(path, 1, err, err_len);
}

/* ---- The writer ---------------------------------------------------------- */

enum { WAL_CHECKPOINT_PAGES = 128 }; /* see store_open() */

static int run_end(struct store *s, const struct store_run_end *end);

/*
 * Ids of stored strings, by string: an open-addressing table that is emptied
 * when it fills (the database still has every string; a miss costs a SELECT).
 */
enum { INTERN_SLOTS = 1 << 15, INTERN_MAX = INTERN_SLOTS / 2 };

struct intern_entry {
	char *text;
	int64_t id;
	uint64_t hash;
};

struct intern {
	struct intern_entry *slots;
	size_t count;
	/* A bit per slot in use: emptying the table visits those alone (most of
	   its pages are never touched). */
	uint64_t used[INTERN_SLOTS / 64];
	size_t last;      /* 1 + the slot asked for last (0: none): rows come in runs of one host */
	sqlite3_stmt *select, *insert;
};

enum intern_table { IT_HOSTS, IT_ENTITIES, IT_CATEGORIES, IT_LISTS, IT_RULES, IT_SETS, IT_SITES,
		    IT_KINDS, IT_COOKIE_NAMES, IT_COUNT };

static const struct {
	const char *table, *column;
} intern_names[IT_COUNT] = {
	{ "hosts", "name" }, { "entities", "name" }, { "categories", "name" }, { "lists", "name" },
	{ "rules", "text" }, { "sets", "names" }, { "sites", "name" }, { "kinds", "name" },
	{ "cookie_names", "name" },
};

/*
 * Devices seen, by key, with what must be written back at the next commit:
 * last_seen, and addresses with their times. Bounded like the strings.
 */
enum { DEVICE_SLOTS = 1 << 12, DEVICE_MAX = DEVICE_SLOTS / 2, DEVICE_ADDRESSES = 8,
       ADDRESS_TEXT = 48 };

struct device_address {
	char text[ADDRESS_TEXT];
	uint64_t first, last;
	uint8_t dirty;
};

struct device_entry {
	char *key;
	uint64_t hash;
	int64_t id;
	uint64_t last_seen;
	char *name;
	uint8_t dirty;
	uint8_t address_count;
	struct device_address addresses[DEVICE_ADDRESSES];
};

/* Visits whose `last` moved in this batch. */
enum { VISIT_DIRTY_MAX = 256 };

/*
 * Observation rows waiting to be inserted ROWS_PER_INSERT at a time (one
 * statement for many rows costs much less than a statement per row). Their
 * ids are given here, from the table's largest id read when the batch's
 * write transaction began, so that a hit can name its row at once.
 */
enum { ROWS_PER_INSERT = 32, OBSERVATION_COLUMNS = 13, HIT_COLUMNS = 8 };

struct pending_row {
	int64_t id, device, visit, site, kind, host;
	uint64_t ts, flow;
	uint16_t sport, dport;
	uint8_t proto;
	char server[48];
};

struct store {
	sqlite3 *db;
	char *path;
	struct store_options options;
	int64_t run;
	struct intern intern[IT_COUNT];
	struct device_entry *devices;
	size_t device_count;
	uint64_t device_used[DEVICE_SLOTS / 64]; /* a bit per slot of devices[] in use */
	struct device_entry *last_device; /* the latest found: rows come in runs of one device */
	struct {
		int64_t id;
		uint64_t last;
	} visits[VISIT_DIRTY_MAX];
	size_t visit_count;
	struct pending_row pending[ROWS_PER_INSERT];
	unsigned pending_count;
	/* Tracker hits waiting likewise (a row's hit is inserted with the next ROWS_PER_INSERT). */
	struct pending_hit {
		int64_t observation, entity, category, categories, list, lists, rule, cname;
	} pending_hits[ROWS_PER_INSERT];
	unsigned pending_hit_count;
	sqlite3_stmt *insert_hits;     /* ROWS_PER_INSERT hits */
	int64_t next_id;
	sqlite3_stmt *insert_rows;     /* ROWS_PER_INSERT rows */
	sqlite3_stmt *next_row_id;
	sqlite3_stmt *insert_cookie, *insert_consent, *insert_param;
	sqlite3_stmt *insert_observation, *insert_hit, *find_device, *insert_device,
		*update_device, *upsert_address, *insert_visit, *update_visit, *set_hostname;
	int in_batch;
	unsigned batch_rows;
	uint64_t first_ts, last_ts;    /* of the run's rows (0: none yet) */
	int failed;                    /* a statement failed: no more rows */
	uint64_t committed_rows, committed_hits; /* in the database for this run */
	uint64_t batch_started_ms;
	uint64_t next_retain_ms;
	struct store_stats stats;
	char error[STORE_ERROR_MAX];
};

/* The coarse clock (a few milliseconds' resolution, read without a system call): asked once a row. */
static uint64_t monotonic_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t wall_clock_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static uint64_t hash_text(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h ? h : 1;
}

/*
 * A string's hash for the tables of stored strings, eight bytes at a time
 * (the devices' table keeps hash_text(): its order is the order devices are
 * written back in).
 */
static uint64_t hash_string(const char *s)
{
	uint64_t h = hash_words(s, strlen(s), 1469598103934665603ULL);
	return h ? h : 1;
}

/*
 * A statement failed: the batch is rolled back whole (never committed in
 * part), and the store takes no more rows; store_run_end() can still mark
 * the run failed.
 */
static int fail(struct store *s, const char *what)
{
	snprintf(s->error, sizeof s->error, "%s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
	if (s->in_batch) {
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		s->in_batch = 0;
	}
	s->failed = 1;
	return -1;
}

static int prepare(struct store *s, const char *sql, sqlite3_stmt **st)
{
	if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL) != SQLITE_OK)
		return fail(s, "prepare");
	return 0;
}

/* Runs a statement that returns no rows, then resets it; 0 or -1. */
static int step_done(struct store *s, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : fail(s, what);
}

static void intern_clear(struct intern *in)
{
	for (size_t w = 0; in->count && w < INTERN_SLOTS / 64; w++) {
		for (uint64_t bits = in->used[w]; bits; bits &= bits - 1) {
			size_t i = w * 64 + (size_t)__builtin_ctzll(bits);
			free(in->slots[i].text);
			in->slots[i].text = NULL;
		}
		in->used[w] = 0;
	}
	in->count = 0;
	in->last = 0;
}

/* The id of `text` in table `t`, stored now if new; 0 for NULL; -1 on an error. */
static int64_t intern(struct store *s, enum intern_table t, const char *text)
{
	if (!text)
		return 0;
	struct intern *in = &s->intern[t];
	if (in->last && strcmp(in->slots[in->last - 1].text, text) == 0)
		return in->slots[in->last - 1].id;
	uint64_t h = hash_string(text);
	size_t i = h & (INTERN_SLOTS - 1);
	for (; in->slots[i].text; i = (i + 1) & (INTERN_SLOTS - 1)) {
		if (in->slots[i].hash == h && strcmp(in->slots[i].text, text) == 0) {
			in->last = i + 1;
			return in->slots[i].id;
		}
	}
	int64_t id = 0;
	sqlite3_bind_text(in->select, 1, text, -1, SQLITE_STATIC);
	int rc = sqlite3_step(in->select);
	if (rc == SQLITE_ROW)
		id = sqlite3_column_int64(in->select, 0);
	sqlite3_reset(in->select);
	sqlite3_clear_bindings(in->select);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return fail(s, intern_names[t].table);
	if (!id) {
		sqlite3_bind_text(in->insert, 1, text, -1, SQLITE_STATIC);
		if (step_done(s, in->insert, intern_names[t].table) != 0)
			return -1;
		id = sqlite3_last_insert_rowid(s->db);
	}
	if (in->count >= INTERN_MAX) {
		intern_clear(in);
		i = h & (INTERN_SLOTS - 1);
	}
	char *copy = strdup(text);
	if (copy) {
		in->slots[i].text = copy;
		in->used[i / 64] |= 1ULL << (i % 64);
		in->slots[i].hash = h;
		in->slots[i].id = id;
		in->count++;
		in->last = i + 1;
	}
	return id;
}

void store_options_defaults(struct store_options *options)
{
	options->batch_rows = 16384;
	options->batch_ms = 1000;
	options->max_days = 0;
}

static void free_devices(struct store *s)
{
	for (size_t w = 0; w < DEVICE_SLOTS / 64; w++) {
		for (uint64_t bits = s->device_used[w]; bits; bits &= bits - 1) {
			struct device_entry *d = &s->devices[w * 64 + (size_t)__builtin_ctzll(bits)];
			free(d->key);
			free(d->name);
			memset(d, 0, sizeof *d);
		}
		s->device_used[w] = 0;
	}
	s->device_count = 0;
}

/* Removes a database file and what SQLite keeps beside it. */
static void remove_database(const char *path)
{
	static const char *const suffixes[] = { "", "-journal", "-wal", "-shm" };
	char name[PATH_MAX + 16];
	for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++)
		if (snprintf(name, sizeof name, "%s%s", path, suffixes[i]) < (int)sizeof name)
			unlink(name);
}

/*
 * A database that does not exist yet is made whole under a name of its own
 * beside it, without syncing each step (its three transactions in rollback
 * mode would sync four times each), then synced once and moved into place
 * unless another process made one meanwhile (renameat2 RENAME_NOREPLACE):
 * the database appears complete or not at all, as before. Returns 1 when
 * made, 0 when not (it exists now, or the file system cannot: the caller
 * makes it the usual way), -1 when the schema could not be made (reason in
 * err, as the usual way gives it).
 */
static int create_database(const char *path, char *err, size_t err_len)
{
	char tmp[PATH_MAX + 64];
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	int n = snprintf(tmp, sizeof tmp, "%s.new-%ld-%lx", path, (long)getpid(),
			 (unsigned long)now.tv_nsec);
	if (n < 0 || (size_t)n >= sizeof tmp)
		return 0;
	sqlite3 *db = NULL;
	if (sqlite3_open_v2(tmp, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		sqlite3_close(db);
		remove_database(tmp);
		return 0;
	}
	int rc = exec(db, "PRAGMA synchronous = OFF", path, err, err_len) == 0 &&
		 exec(db, "PRAGMA auto_vacuum = INCREMENTAL", path, err, err_len) == 0 &&
		 store_migrate(db, path, err, err_len) == 0 &&
		 exec(db, "PRAGMA journal_mode = WAL", path, err, err_len) == 0 ? 1 : -1;
	if (sqlite3_close(db) != SQLITE_OK && rc == 1)
		rc = 0;
	int fd = rc == 1 ? open(tmp, O_RDONLY | O_CLOEXEC) : -1;
	if (rc == 1 && (fd < 0 || fsync(fd) != 0))
		rc = 0;
	if (fd >= 0)
		close(fd);
	if (rc == 1 && renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) != 0)
		rc = 0; /* made meanwhile (EEXIST), or no such rename here: the usual way */
	if (rc != 1) {
		remove_database(tmp);
		return rc;
	}
	/* The new name, durable too. */
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	if (!slash)
		snprintf(dir, sizeof dir, ".");
	else
		snprintf(dir, sizeof dir, "%.*s", slash == path ? 1 : (int)(slash - path), path);
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 1;
}

struct store *store_open(const char *path, const struct store_options *options, char *err,
			 size_t err_len)
{
	struct store *s = calloc(1, sizeof *s);
	if (!s || !(s->path = strdup(path)) ||
	    !(s->devices = calloc(DEVICE_SLOTS, sizeof *s->devices))) {
		set_error(err, err_len, "%s: out of memory", path);
		goto fail;
	}
	s->options = *options;
	if (!s->options.batch_rows)
		s->options.batch_rows = 1;
	struct stat st;
	int made = stat(path, &st) != 0 && errno == ENOENT ? create_database(path, err, err_len) : 0;
	if (made < 0)
		goto fail;
	/* One thread at a time uses the writer's connection: no locking inside SQLite. */
	s->db = open_db(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, err,
			err_len);
	if (!s->db)
		goto fail;
	/*
	 * WAL: readers never block the writer, and a commit is one append. A
	 * crash (or SIGKILL) loses only what was not committed; NORMAL skips
	 * the fsync per commit, which WAL makes safe against corruption (a
	 * power cut may lose the last commits, never the database).
	 * Incremental auto-vacuum, set before the first table, lets retention
	 * give space back a little at a time. The version is checked (and the
	 * schema made) before anything else: a database that is not ours is
	 * left as it was.
	 *
	 * The WAL is copied back into the database (checkpointed) once it holds
	 * 128 pages (512 KiB), not SQLite's 1000: the writer's own commits then
	 * do it as they go, and the last commit and the close, which the run's
	 * end waits for, have little left to copy.
	 */
	if ((!made && exec(s->db, "PRAGMA auto_vacuum = INCREMENTAL", path, err, err_len) != 0) ||
	    store_migrate(s->db, path, err, err_len) != 0 ||
	    exec(s->db, "PRAGMA journal_mode = WAL", path, err, err_len) != 0 ||
	    exec(s->db, "PRAGMA synchronous = NORMAL", path, err, err_len) != 0 ||
	    exec(s->db, "PRAGMA cache_size = -32768", path, err, err_len) != 0)
		goto fail;
	sqlite3_wal_autocheckpoint(s->db, WAL_CHECKPOINT_PAGES);
	for (int t = 0; t < IT_COUNT; t++) {
		char sql[128];
		s->intern[t].slots = calloc(INTERN_SLOTS, sizeof *s->intern[t].slots);
		if (!s->intern[t].slots) {
			set_error(err, err_len, "%s: out of memory", path);
			goto fail;
		}
		snprintf(sql, sizeof sql, "SELECT id FROM %s WHERE %s = ?", intern_names[t].table,
			 intern_names[t].column);
		if (prepare(s, sql, &s->intern[t].select) != 0)
			goto fail_s;
		snprintf(sql, sizeof sql, "INSERT INTO %s(%s) VALUES (?)", intern_names[t].table,
			 intern_names[t].column);
		if (prepare(s, sql, &s->intern[t].insert) != 0)
			goto fail_s;
	}
	char rows_sql[ROWS_PER_INSERT * 32 + 256];
	size_t used = (size_t)snprintf(rows_sql, sizeof rows_sql,
		"INSERT INTO observations(id, run_id, ts, device_id, visit_id, site_id, kind_id,"
		" host_id, server, sport, dport, proto, flow) VALUES ");
	for (int i = 0; i < ROWS_PER_INSERT; i++)
		used += (size_t)snprintf(rows_sql + used, sizeof rows_sql - used,
					 "%s(?,?,?,?,?,?,?,?,?,?,?,?,?)", i ? "," : "");
	char hits_sql[ROWS_PER_INSERT * 24 + 256];
	used = (size_t)snprintf(hits_sql, sizeof hits_sql,
		"INSERT INTO hits(observation_id, entity_id, category_id, categories_id,"
		" list_id, lists_id, rule_id, cname_id) VALUES ");
	for (int i = 0; i < ROWS_PER_INSERT; i++)
		used += (size_t)snprintf(hits_sql + used, sizeof hits_sql - used, "%s(?,?,?,?,?,?,?,?)",
					 i ? "," : "");
	if (prepare(s, rows_sql, &s->insert_rows) != 0 ||
	    prepare(s, hits_sql, &s->insert_hits) != 0 ||
	    prepare(s, "SELECT coalesce(max(id), 0) + 1 FROM observations", &s->next_row_id) != 0 ||
	    prepare(s, "INSERT INTO observations(id, run_id, ts, device_id, visit_id, site_id, kind_id,"
		    " host_id, server, sport, dport, proto, flow) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
		    &s->insert_observation) != 0 ||
	    prepare(s, "INSERT INTO hits(observation_id, entity_id, category_id, categories_id,"
		    " list_id, lists_id, rule_id, cname_id) VALUES (?,?,?,?,?,?,?,?)",
		    &s->insert_hit) != 0 ||
	    prepare(s, "SELECT id FROM devices WHERE key = ?", &s->find_device) != 0 ||
	    prepare(s, "INSERT INTO devices(key, mac, name, first_seen, last_seen) VALUES (?,?,?,?,?)",
		    &s->insert_device) != 0 ||
	    prepare(s, "UPDATE devices SET last_seen = max(last_seen, ?2), name = ?3 WHERE id = ?1",
		    &s->update_device) != 0 ||
	    prepare(s, "INSERT INTO device_addresses(device_id, address, first_seen, last_seen)"
		    " VALUES (?,?,?,?) ON CONFLICT(device_id, address) DO UPDATE SET"
		    " last_seen = max(last_seen, excluded.last_seen),"
		    " first_seen = min(first_seen, excluded.first_seen)",
		    &s->upsert_address) != 0 ||
	    prepare(s, "INSERT INTO visits(run_id, device_id, site_id, started, last, how, host_id)"
		    " VALUES (?,?,?,?,?,?,?)", &s->insert_visit) != 0 ||
	    prepare(s, "UPDATE visits SET last = max(last, ?2) WHERE id = ?1", &s->update_visit) != 0 ||
	    prepare(s, "UPDATE devices SET hostname = ?2 WHERE id = ?1", &s->set_hostname) != 0 ||
	    prepare(s, "INSERT INTO cookies(observation_id, name_id, value, value_len, domain, path,"
		    " lifetime, same_site, flags, platform_id, category_id)"
		    " VALUES (?,?,?,?,?,?,?,?,?,?,?)", &s->insert_cookie) != 0 ||
	    prepare(s, "INSERT INTO consent(observation_id, decision, source, detail) VALUES (?,?,?,?)",
		    &s->insert_consent) != 0 ||
	    prepare(s, "INSERT INTO url_values(observation_id, name, value) VALUES (?,?,?)",
		    &s->insert_param) != 0)
		goto fail_s;
	s->next_retain_ms = 0;
	return s;
fail_s:
	set_error(err, err_len, "%s", s->error);
fail:
	if (s) {
		s->in_batch = 0;
		store_close(s);
	}
	return NULL;
}

static int begin_batch(struct store *s)
{
	if (s->in_batch)
		return 0;
	if (s->failed)
		return -1;
	/* IMMEDIATE: the write lock first, so that no other writer adds rows while ids are given. */
	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return fail(s, "begin");
	sqlite3_stmt *st = s->next_row_id;
	int rc = sqlite3_step(st);
	s->next_id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW) {
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return fail(s, "observations");
	}
	s->in_batch = 1;
	s->batch_rows = 0;
	s->batch_started_ms = monotonic_ms();
	return 0;
}

int64_t store_find_file_run(struct store *s, const char *sha256_hex)
{
	sqlite3_stmt *st;
	if (prepare(s, "SELECT id FROM runs WHERE file_sha256 = ? AND status = 'complete'"
		    " ORDER BY id LIMIT 1", &st) != 0)
		return -1;
	sqlite3_bind_text(st, 1, sha256_hex, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	int64_t id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return fail(s, "runs");
	return id;
}

int store_find_size_run(struct store *s, int64_t bytes)
{
	sqlite3_stmt *st;
	if (prepare(s, "SELECT 1 FROM runs WHERE file_bytes = ? AND status = 'complete' LIMIT 1",
		    &st) != 0)
		return -1;
	sqlite3_bind_int64(st, 1, bytes);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return fail(s, "runs");
	return rc == SQLITE_ROW;
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *text)
{
	if (text)
		sqlite3_bind_text(st, i, text, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

static void bind_id_or_null(sqlite3_stmt *st, int i, int64_t id)
{
	if (id > 0)
		sqlite3_bind_int64(st, i, id);
	else
		sqlite3_bind_null(st, i);
}

int store_run_begin(struct store *s, const struct store_run *run, char *err, size_t err_len)
{
	sqlite3_stmt *st;
	if (prepare(s, "INSERT INTO runs(source, live, file_sha256, file_bytes, started, version,"
		    " lists, config_sha256) VALUES (?,?,?,?,?,?,?,?)", &st) != 0) {
		set_error(err, err_len, "%s", s->error);
		return -1;
	}
	sqlite3_bind_text(st, 1, run->source, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, run->live);
	bind_text_or_null(st, 3, run->file_sha256);
	if (run->file_bytes >= 0)
		sqlite3_bind_int64(st, 4, run->file_bytes);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)run->started_us);
	sqlite3_bind_text(st, 6, run->version, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, run->lists_json ? run->lists_json : "[]", -1, SQLITE_STATIC);
	bind_text_or_null(st, 8, run->config_sha256);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		fail(s, "runs");
		set_error(err, err_len, "%s", s->error);
		return -1;
	}
	/* Committed at once: a run killed before its first batch still says it began. */
	s->run = sqlite3_last_insert_rowid(s->db);
	return 0;
}

static struct device_entry *device_find(struct store *s, const char *key, uint64_t h)
{
	size_t i = h & (DEVICE_SLOTS - 1);
	for (; s->devices[i].key; i = (i + 1) & (DEVICE_SLOTS - 1))
		if (s->devices[i].hash == h && strcmp(s->devices[i].key, key) == 0)
			return &s->devices[i];
	return &s->devices[i]; /* the empty slot */
}

/* Writes back a device's last_seen and addresses; 0 or -1. */
static int device_write(struct store *s, struct device_entry *d)
{
	if (!d->dirty)
		return 0;
	sqlite3_bind_int64(s->update_device, 1, d->id);
	sqlite3_bind_int64(s->update_device, 2, (sqlite3_int64)d->last_seen);
	bind_text_or_null(s->update_device, 3, d->name);
	if (step_done(s, s->update_device, "devices") != 0)
		return -1;
	for (unsigned i = 0; i < d->address_count; i++) {
		struct device_address *a = &d->addresses[i];
		if (!a->dirty)
			continue;
		sqlite3_bind_int64(s->upsert_address, 1, d->id);
		sqlite3_bind_text(s->upsert_address, 2, a->text, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s->upsert_address, 3, (sqlite3_int64)a->first);
		sqlite3_bind_int64(s->upsert_address, 4, (sqlite3_int64)a->last);
		if (step_done(s, s->upsert_address, "device_addresses") != 0)
			return -1;
		a->dirty = 0;
	}
	d->dirty = 0;
	return 0;
}

static int devices_write(struct store *s)
{
	for (size_t w = 0; w < DEVICE_SLOTS / 64; w++)
		for (uint64_t bits = s->device_used[w]; bits; bits &= bits - 1)
			if (device_write(s, &s->devices[w * 64 + (size_t)__builtin_ctzll(bits)]) != 0)
				return -1;
	return 0;
}

static int visits_write(struct store *s)
{
	for (size_t i = 0; i < s->visit_count; i++) {
		sqlite3_bind_int64(s->update_visit, 1, s->visits[i].id);
		sqlite3_bind_int64(s->update_visit, 2, (sqlite3_int64)s->visits[i].last);
		if (step_done(s, s->update_visit, "visits") != 0)
			return -1;
	}
	s->visit_count = 0;
	return 0;
}

int64_t store_device(struct store *s, const struct store_device *device, uint64_t ts_us)
{
	if (begin_batch(s) != 0)
		return -1;
	struct device_entry *d = s->last_device;
	uint64_t h = 0;
	if (!d || !d->key || strcmp(d->key, device->key) != 0) {
		h = hash_text(device->key);
		d = device_find(s, device->key, h);
	}
	if (!d->key) {
		if (s->device_count >= DEVICE_MAX) {
			/* Full (a flood of spoofed addresses): write back, forget, start again. */
			if (devices_write(s) != 0)
				return -1;
			free_devices(s);
			d = device_find(s, device->key, h);
		}
		int64_t id = 0;
		sqlite3_bind_text(s->find_device, 1, device->key, -1, SQLITE_STATIC);
		int rc = sqlite3_step(s->find_device);
		if (rc == SQLITE_ROW)
			id = sqlite3_column_int64(s->find_device, 0);
		sqlite3_reset(s->find_device);
		sqlite3_clear_bindings(s->find_device);
		if (rc != SQLITE_ROW && rc != SQLITE_DONE)
			return fail(s, "devices");
		if (!id) {
			sqlite3_bind_text(s->insert_device, 1, device->key, -1, SQLITE_STATIC);
			bind_text_or_null(s->insert_device, 2, device->mac);
			bind_text_or_null(s->insert_device, 3, device->name);
			sqlite3_bind_int64(s->insert_device, 4, (sqlite3_int64)ts_us);
			sqlite3_bind_int64(s->insert_device, 5, (sqlite3_int64)ts_us);
			if (step_done(s, s->insert_device, "devices") != 0)
				return -1;
			id = sqlite3_last_insert_rowid(s->db);
		}
		d->key = strdup(device->key);
		if (!d->key) {
			snprintf(s->error, sizeof s->error, "%s: out of memory", s->path);
			return -1;
		}
		s->device_used[(size_t)(d - s->devices) / 64] |= 1ULL << ((size_t)(d - s->devices) % 64);
		d->hash = h;
		d->id = id;
		d->name = device->name ? strdup(device->name) : NULL;
		d->dirty = 1;
		d->last_seen = ts_us;
		s->device_count++;
	}
	s->last_device = d;
	if (ts_us > d->last_seen) {
		d->last_seen = ts_us;
		d->dirty = 1;
	}
	if (device->name && (!d->name || strcmp(d->name, device->name) != 0)) {
		char *name = strdup(device->name);
		if (name) {
			free(d->name);
			d->name = name;
			d->dirty = 1;
		}
	}
	if (device->address) {
		unsigned i = 0;
		while (i < d->address_count && strcmp(d->addresses[i].text, device->address) != 0)
			i++;
		if (i == d->address_count) {
			if (i == DEVICE_ADDRESSES) {
				/* Many addresses (IPv6 privacy addresses): write back, keep the newest. */
				if (device_write(s, d) != 0)
					return -1;
				memmove(d->addresses, d->addresses + 1,
					(DEVICE_ADDRESSES - 1) * sizeof *d->addresses);
				i = DEVICE_ADDRESSES - 1;
			} else {
				d->address_count++;
			}
			snprintf(d->addresses[i].text, ADDRESS_TEXT, "%s", device->address);
			d->addresses[i].first = ts_us;
			d->addresses[i].last = ts_us;
			d->addresses[i].dirty = 1;
			d->dirty = 1;
		} else if (ts_us > d->addresses[i].last) {
			d->addresses[i].last = ts_us;
			d->addresses[i].dirty = 1;
			d->dirty = 1;
		}
	}
	return d->id;
}

int store_device_hostname(struct store *s, int64_t device, const char *hostname)
{
	if (begin_batch(s) != 0)
		return -1;
	sqlite3_bind_int64(s->set_hostname, 1, device);
	sqlite3_bind_text(s->set_hostname, 2, hostname, -1, SQLITE_STATIC);
	return step_done(s, s->set_hostname, "devices");
}

int64_t store_visit(struct store *s, int64_t device, const char *site, const char *host,
		    const char *how, uint64_t ts_us)
{
	if (begin_batch(s) != 0)
		return -1;
	int64_t site_id = intern(s, IT_SITES, site), host_id = intern(s, IT_HOSTS, host);
	if (site_id < 0 || host_id < 0)
		return -1;
	sqlite3_stmt *st = s->insert_visit;
	sqlite3_bind_int64(st, 1, s->run);
	sqlite3_bind_int64(st, 2, device);
	sqlite3_bind_int64(st, 3, site_id);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)ts_us);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)ts_us);
	sqlite3_bind_text(st, 6, how, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, host_id);
	if (step_done(s, st, "visits") != 0)
		return -1;
	s->stats.visits++;
	return sqlite3_last_insert_rowid(s->db);
}

static int visit_touch(struct store *s, int64_t visit, uint64_t ts_us)
{
	for (size_t i = s->visit_count; i-- > 0;) {
		if (s->visits[i].id == visit) {
			if (ts_us > s->visits[i].last)
				s->visits[i].last = ts_us;
			return 0;
		}
	}
	if (s->visit_count == VISIT_DIRTY_MAX && visits_write(s) != 0)
		return -1;
	s->visits[s->visit_count].id = visit;
	s->visits[s->visit_count].last = ts_us;
	s->visit_count++;
	return 0;
}

/* Binds one pending row's columns from parameter `at` (1-based). */
static void bind_row(struct store *s, sqlite3_stmt *st, int at, const struct pending_row *r)
{
	sqlite3_bind_int64(st, at, r->id);
	sqlite3_bind_int64(st, at + 1, s->run);
	sqlite3_bind_int64(st, at + 2, (sqlite3_int64)r->ts);
	sqlite3_bind_int64(st, at + 3, r->device);
	bind_id_or_null(st, at + 4, r->visit);
	bind_id_or_null(st, at + 5, r->site);
	sqlite3_bind_int64(st, at + 6, r->kind);
	sqlite3_bind_int64(st, at + 7, r->host);
	sqlite3_bind_text(st, at + 8, r->server, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, at + 9, r->sport);
	sqlite3_bind_int(st, at + 10, r->dport);
	sqlite3_bind_int(st, at + 11, r->proto);
	sqlite3_bind_int64(st, at + 12, (sqlite3_int64)r->flow);
}

static void bind_hit(sqlite3_stmt *st, int at, const struct pending_hit *h)
{
	sqlite3_bind_int64(st, at, h->observation);
	bind_id_or_null(st, at + 1, h->entity);
	bind_id_or_null(st, at + 2, h->category);
	sqlite3_bind_int64(st, at + 3, h->categories);
	bind_id_or_null(st, at + 4, h->list);
	sqlite3_bind_int64(st, at + 5, h->lists);
	bind_id_or_null(st, at + 6, h->rule);
	bind_id_or_null(st, at + 7, h->cname);
}

/* Inserts the pending hits: in one statement when there are ROWS_PER_INSERT. */
static int flush_hits(struct store *s)
{
	if (s->pending_hit_count == ROWS_PER_INSERT) {
		for (unsigned i = 0; i < ROWS_PER_INSERT; i++)
			bind_hit(s->insert_hits, 1 + (int)i * HIT_COLUMNS, &s->pending_hits[i]);
		if (step_done(s, s->insert_hits, "hits") != 0)
			return -1;
	} else {
		for (unsigned i = 0; i < s->pending_hit_count; i++) {
			bind_hit(s->insert_hit, 1, &s->pending_hits[i]);
			if (step_done(s, s->insert_hit, "hits") != 0)
				return -1;
		}
	}
	s->pending_hit_count = 0;
	return 0;
}

/* Inserts the pending rows: in one statement when there are ROWS_PER_INSERT. */
static int flush_rows(struct store *s)
{
	if (s->pending_count == ROWS_PER_INSERT) {
		for (unsigned i = 0; i < ROWS_PER_INSERT; i++)
			bind_row(s, s->insert_rows, 1 + (int)i * OBSERVATION_COLUMNS, &s->pending[i]);
		if (step_done(s, s->insert_rows, "observations") != 0)
			return -1;
	} else {
		for (unsigned i = 0; i < s->pending_count; i++) {
			bind_row(s, s->insert_observation, 1, &s->pending[i]);
			if (step_done(s, s->insert_observation, "observations") != 0)
				return -1;
		}
	}
	s->pending_count = 0;
	return 0;
}

static int add_cookie(struct store *s, int64_t observation, const struct store_cookie *c)
{
	int64_t name = intern(s, IT_COOKIE_NAMES, c->name ? c->name : "");
	int64_t platform = intern(s, IT_ENTITIES, c->platform);
	int64_t category = intern(s, IT_CATEGORIES, c->category);
	if (name < 0 || platform < 0 || category < 0)
		return -1;
	sqlite3_stmt *st = s->insert_cookie;
	sqlite3_bind_int64(st, 1, observation);
	sqlite3_bind_int64(st, 2, name);
	sqlite3_bind_text(st, 3, c->value ? c->value : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, c->value_len);
	bind_text_or_null(st, 5, c->domain);
	bind_text_or_null(st, 6, c->path);
	if (c->is_set)
		sqlite3_bind_int64(st, 7, c->lifetime);
	else
		sqlite3_bind_null(st, 7);
	bind_text_or_null(st, 8, c->same_site);
	sqlite3_bind_int64(st, 9, c->flags);
	bind_id_or_null(st, 10, platform);
	bind_id_or_null(st, 11, category);
	return step_done(s, st, "cookies");
}

int store_add(struct store *s, int64_t device, const struct store_row *row)
{
	if (begin_batch(s) != 0)
		return -1;
	int64_t kind = intern(s, IT_KINDS, row->kind), host = intern(s, IT_HOSTS, row->host);
	int64_t site = intern(s, IT_SITES, row->site);
	if (kind < 0 || host < 0 || site < 0)
		return -1;
	struct pending_row *r = &s->pending[s->pending_count++];
	r->id = s->next_id++;
	r->ts = row->ts_us;
	if (!s->first_ts || row->ts_us < s->first_ts)
		s->first_ts = row->ts_us;
	if (row->ts_us > s->last_ts)
		s->last_ts = row->ts_us;
	r->device = device;
	r->visit = row->visit;
	r->site = site;
	r->kind = kind;
	r->host = host;
	const char *server = row->server ? row->server : "";
	size_t server_len = strnlen(server, sizeof r->server - 1); /* cut as snprintf would */
	memcpy(r->server, server, server_len);
	r->server[server_len] = '\0';
	r->sport = row->sport;
	r->dport = row->dport;
	r->proto = row->proto;
	r->flow = row->flow;
	int64_t observation = r->id;
	if (s->pending_count == ROWS_PER_INSERT && flush_rows(s) != 0)
		return -1;
	s->stats.rows++;
	s->batch_rows++;
	if (row->visit > 0 && visit_touch(s, row->visit, row->ts_us) != 0)
		return -1;
	if (row->hit) {
		const struct store_hit *hit = row->hit;
		int64_t entity = intern(s, IT_ENTITIES, hit->entity);
		int64_t category = intern(s, IT_CATEGORIES, hit->category);
		int64_t categories = intern(s, IT_SETS, hit->categories_json ? hit->categories_json : "[]");
		int64_t list = intern(s, IT_LISTS, hit->list);
		int64_t lists = intern(s, IT_SETS, hit->lists_json ? hit->lists_json : "[]");
		int64_t rule = intern(s, IT_RULES, hit->rule);
		int64_t cname = intern(s, IT_HOSTS, hit->cname);
		if (entity < 0 || category < 0 || categories < 0 || list < 0 || lists < 0 || rule < 0 ||
		    cname < 0)
			return -1;
		s->pending_hits[s->pending_hit_count++] = (struct pending_hit){
			observation, entity, category, categories, list, lists, rule, cname };
		if (s->pending_hit_count == ROWS_PER_INSERT && flush_hits(s) != 0)
			return -1;
		s->stats.hits++;
	}
	if (row->cookie && add_cookie(s, observation, row->cookie) != 0)
		return -1;
	for (size_t i = 0; i < row->param_count && i < STORE_PARAMS_MAX; i++) {
		sqlite3_stmt *st = s->insert_param;
		sqlite3_bind_int64(st, 1, observation);
		sqlite3_bind_text(st, 2, row->params[i].name, (int)row->params[i].name_len, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, row->params[i].value, (int)row->params[i].value_len,
				  SQLITE_STATIC);
		if (step_done(s, st, "url_values") != 0)
			return -1;
	}
	if (row->consent) {
		sqlite3_stmt *st = s->insert_consent;
		sqlite3_bind_int64(st, 1, observation);
		sqlite3_bind_text(st, 2, row->consent->decision, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, row->consent->source ? row->consent->source : "", -1,
				  SQLITE_STATIC);
		sqlite3_bind_text(st, 4, row->consent->detail ? row->consent->detail : "", -1,
				  SQLITE_STATIC);
		if (step_done(s, st, "consent") != 0)
			return -1;
	}
	return store_commit(s, 0);
}

int store_commit(struct store *s, int force)
{
	if (!s->in_batch)
		return 0;
	if (!force && s->batch_rows < s->options.batch_rows &&
	    monotonic_ms() - s->batch_started_ms < s->options.batch_ms)
		return 0;
	if (flush_rows(s) != 0 || flush_hits(s) != 0 || devices_write(s) != 0 || visits_write(s) != 0)
		return -1;
	if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		return fail(s, "commit");
	s->in_batch = 0;
	s->stats.commits++;
	s->committed_rows = s->stats.rows;
	s->committed_hits = s->stats.hits;
	/* Retention, when it is due (hourly), between batches. */
	return store_retain(s, wall_clock_us(), 0);
}

int store_run_end(struct store *s, const struct store_run_end *end)
{
	/*
	 * The run's last commits leave the WAL as it is: closing the store
	 * copies it back (checkpoints) anyway, and one copy is enough.
	 */
	sqlite3_wal_autocheckpoint(s->db, 0);
	int rc = run_end(s, end);
	sqlite3_wal_autocheckpoint(s->db, WAL_CHECKPOINT_PAGES);
	return rc;
}

static int run_end(struct store *s, const struct store_run_end *end)
{
	if (!s->failed && store_commit(s, 1) != 0)
		return -1;
	/* After a failure the rows of the last batch are gone: the run is failed, with what it has. */
	struct store_run_end failed = *end;
	if (s->failed) {
		failed.status = "failed";
		end = &failed;
	}
	sqlite3_stmt *st;
	if (prepare(s, "UPDATE runs SET status = ?2, ended = ?3, packets = ?4, dropped = ?5,"
		    " observations = ?6, hits = ?7,"
		    " first_packet = ?10, last_packet = ?11,"
		    " file_sha256 = coalesce(?8, file_sha256),"
		    " file_bytes = coalesce(?9, file_bytes),"
		    " capture_received = ?12, capture_dropped = ?13 WHERE id = ?1", &st) != 0)
		return -1;
	sqlite3_bind_int64(st, 1, s->run);
	sqlite3_bind_text(st, 2, end->status, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)end->ended_us);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)end->packets);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)end->dropped);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)s->committed_rows);
	sqlite3_bind_int64(st, 7, (sqlite3_int64)s->committed_hits);
	bind_text_or_null(st, 8, end->file_sha256);
	if (end->file_bytes >= 0)
		sqlite3_bind_int64(st, 9, end->file_bytes);
	if (s->first_ts) {
		sqlite3_bind_int64(st, 10, (sqlite3_int64)s->first_ts);
		sqlite3_bind_int64(st, 11, (sqlite3_int64)s->last_ts);
	}
	if (end->has_capture) {
		sqlite3_bind_int64(st, 12, (sqlite3_int64)end->capture_received);
		sqlite3_bind_int64(st, 13, (sqlite3_int64)end->capture_dropped);
	}
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : fail(s, "runs");
}

int store_retain(struct store *s, uint64_t now_us, int force)
{
	if (!s->options.max_days)
		return 0;
	uint64_t now_ms = monotonic_ms();
	if (!force && now_ms < s->next_retain_ms)
		return 0;
	s->next_retain_ms = now_ms + 3600 * 1000; /* hourly */
	if (store_commit(s, 1) != 0)
		return -1;
	uint64_t cutoff = now_us - (uint64_t)s->options.max_days * 86400 * 1000000;
	/*
	 * A live run's rows go by their own time; a capture file's go with its
	 * run, by when it was read (an old capture read today stays its days).
	 * Then visits that no row is in any more. The writer keeps foreign keys
	 * itself (no cascades), so hits go first.
	 */
	static const char *const steps[] = {
		/* The rows that go, found once (a scan of observations), then each table's. */
		"DROP TABLE IF EXISTS temp.retain_gone",
		"DROP TABLE IF EXISTS temp.retain_file_devices",
		"CREATE TEMP TABLE retain_gone (id INTEGER PRIMARY KEY)",
		("INSERT INTO retain_gone SELECT o.id FROM observations o"
		 " JOIN runs r ON r.id = o.run_id WHERE CASE WHEN r.live THEN o.ts"
		 " ELSE coalesce(r.ended, r.started) END < ?1"),
		"DELETE FROM hits WHERE observation_id IN (SELECT id FROM retain_gone)",
		"DELETE FROM cookies WHERE observation_id IN (SELECT id FROM retain_gone)",
		"DELETE FROM url_values WHERE observation_id IN (SELECT id FROM retain_gone)",
		"DELETE FROM consent WHERE observation_id IN (SELECT id FROM retain_gone)",
		"DELETE FROM observations WHERE id IN (SELECT id FROM retain_gone)",
		/* By when they were made, not by their time: a mark on an old capture is as new as its run. */
		"DELETE FROM consent_marks WHERE created < ?1",
		("DELETE FROM visits WHERE last < ?1 AND id NOT IN"
		 " (SELECT visit_id FROM observations WHERE visit_id IS NOT NULL)"),
		/* Who was seen and what was contacted go too, once nothing refers to them; not
		   the addresses of a device a capture file's kept rows hold: marks find it by them. */
		"CREATE TEMP TABLE retain_file_devices (id INTEGER PRIMARY KEY)",
		("INSERT OR IGNORE INTO retain_file_devices SELECT o.device_id FROM observations o"
		 " JOIN runs r ON r.id = o.run_id WHERE NOT r.live"),
		("DELETE FROM device_addresses WHERE last_seen < ?1 AND device_id NOT IN"
		 " (SELECT id FROM retain_file_devices)"),
		("DELETE FROM devices WHERE last_seen < ?1 AND id NOT IN"
		 " (SELECT device_id FROM observations UNION SELECT device_id FROM visits"
		 " UNION SELECT device_id FROM device_addresses)"),
		("DELETE FROM hosts WHERE ?1 IS NOT NULL AND id NOT IN"
		 " (SELECT host_id FROM observations UNION SELECT host_id FROM visits"
		 " UNION SELECT cname_id FROM hits WHERE cname_id IS NOT NULL)"),
		("DELETE FROM sites WHERE ?1 IS NOT NULL AND id NOT IN"
		 " (SELECT site_id FROM observations WHERE site_id IS NOT NULL"
		 " UNION SELECT site_id FROM visits)"),
		"DROP TABLE temp.retain_gone",
		"DROP TABLE temp.retain_file_devices",
	};
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		sqlite3_stmt *st;
		if (prepare(s, steps[i], &st) != 0)
			return -1;
		sqlite3_bind_int64(st, 1, (sqlite3_int64)cutoff);
		int rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			return fail(s, "retention");
	}
	/* Ids this writer kept in memory may be gone: look them up again. */
	intern_clear(&s->intern[IT_HOSTS]);
	intern_clear(&s->intern[IT_SITES]);
	free_devices(s);
	/* Give a bounded number of free pages back to the file system each time. */
	if (sqlite3_exec(s->db, "PRAGMA incremental_vacuum(4096)", NULL, NULL, NULL) != SQLITE_OK)
		return fail(s, "vacuum");
	return 0;
}

const struct store_stats *store_stats(const struct store *s)
{
	return &s->stats;
}

const char *store_error(const struct store *s)
{
	return s->error;
}

int store_close(struct store *s)
{
	if (!s)
		return 0;
	int rc = 0;
	if (s->db && s->in_batch && !s->failed && store_commit(s, 1) != 0)
		rc = -1;
	for (int t = 0; t < IT_COUNT; t++) {
		if (s->intern[t].slots)
			intern_clear(&s->intern[t]);
		free(s->intern[t].slots);
		sqlite3_finalize(s->intern[t].select);
		sqlite3_finalize(s->intern[t].insert);
	}
	sqlite3_stmt *all[] = { s->insert_rows, s->insert_hits, s->next_row_id, s->insert_observation, s->insert_hit, s->find_device,
				s->insert_device, s->update_device, s->upsert_address,
				s->insert_visit, s->update_visit, s->set_hostname,
				s->insert_cookie, s->insert_consent, s->insert_param };
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		sqlite3_finalize(all[i]);
	if (s->devices)
		free_devices(s);
	free(s->devices);
	if (s->db && sqlite3_close(s->db) != SQLITE_OK)
		rc = -1;
	free(s->path);
	free(s);
	return rc;
}

int store_add_consent_mark(struct store *s, int64_t ts_us, const char *device, const char *site,
			   const char *decision, int64_t created_us)
{
	/* Rare (a person's click): prepared each time, inside the batch if one is open. */
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(s->db, "INSERT INTO consent_marks(ts, device, site, decision, created)"
			       " VALUES (?,?,?,?,?)", -1, &st, NULL) != SQLITE_OK)
		return fail(s, "consent mark");
	sqlite3_bind_int64(st, 1, ts_us);
	sqlite3_bind_text(st, 2, device, -1, SQLITE_STATIC);
	if (site && *site)
		sqlite3_bind_text(st, 3, site, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, decision, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, created_us);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : fail(s, "consent mark");
}

int store_open_files(struct store *s)
{
	/* A write transaction opens the WAL: SQLite makes -wal and -shm now, as this user. */
	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE; COMMIT;", NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(s->error, sizeof s->error, "%s: %s", s->path, sqlite3_errmsg(s->db));
		return -1;
	}
	return 0;
}
