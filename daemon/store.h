/*
 * store: the SQLite timeline (DESIGN.md, "store"). One writer, on a thread
 * of its own, owns a struct store: it appends rows in batched transactions
 * (committed at STORE_BATCH_ROWS rows or STORE_BATCH_MS milliseconds,
 * whichever comes first) with prepared statements, in WAL mode, so that
 * readers (the trackwatch command, sqlite3) read while it writes and a
 * crash loses at most the batch not yet committed. The schema and its
 * migrations are in schema.c.
 *
 * Repeated strings (hosts, companies, categories, lists, rules, sets of
 * them) are stored once; the writer keeps their ids in memory, bounded.
 */
#ifndef TRACKWATCH_STORE_H
#define TRACKWATCH_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

enum { STORE_ERROR_MAX = 512 };

/*
 * Opens the database at `path` for reading, as the trackwatch command does:
 * a database of an older version is upgraded first (which needs write
 * access); one of a newer version, or a file that is not a trackwatch
 * database, is an error. Returns NULL with the reason in err.
 */
sqlite3 *store_open_reader(const char *path, char *err, size_t err_len);

/* The same for writing beside the sensor (trackwatch consent mark): the database must exist. */
sqlite3 *store_open_existing(const char *path, char *err, size_t err_len);

/*
 * Brings an open database to SCHEMA_VERSION in one transaction (a new,
 * empty database is created). Returns 0, or -1 with the reason in err.
 */
int store_migrate(sqlite3 *db, const char *path, char *err, size_t err_len);

/* ---- The writer ---------------------------------------------------------- */

struct store;

struct store_options {
	unsigned batch_rows;     /* commit after this many rows (default 16384) */
	unsigned batch_ms;       /* or this long after the batch's first row (default 1000) */
	unsigned max_days;       /* delete what is older (0: keep everything) */
};
void store_options_defaults(struct store_options *options);

/* Opens (creating or upgrading) the database for writing; NULL with the reason in err. */
struct store *store_open(const char *path, const struct store_options *options, char *err,
			 size_t err_len);

/*
 * The id of an earlier run that read a file with this SHA-256 (lower-case
 * hex), 0 when none, -1 on an error.
 */
int64_t store_find_file_run(struct store *s, const char *sha256_hex);

/*
 * Whether an earlier complete run read files of `bytes` bytes in all: only
 * then can a file be one read before, and its hash is needed before reading
 * (else it is taken beside the capture). 1, 0, or -1 on an error.
 */
int store_find_size_run(struct store *s, int64_t bytes);

/* A run's evidence, written when it begins (and updated when it ends). */
struct store_run {
	const char *source;      /* the files, or "interface NAME" */
	int live;
	const char *file_sha256; /* NULL for live capture or while not known */
	int64_t file_bytes;      /* -1 when not known */
	uint64_t started_us;     /* wall clock */
	const char *version;
	const char *lists_json;  /* [{name, format, path, sha256}] */
	const char *config_sha256; /* NULL without a configuration file */
};
/* Begins a run: returns 0, or -1 with the reason in err. */
int store_run_begin(struct store *s, const struct store_run *run, char *err, size_t err_len);

/* A run's end: status "complete", "interrupted" or "failed", with its counts. */
struct store_run_end {
	const char *status;
	uint64_t ended_us;
	uint64_t packets, dropped;
	const char *file_sha256; /* when known only now, else NULL */
	int64_t file_bytes;
	/* Live capture: the kernel's counters, all interfaces (has_capture 0: NULL, files). */
	int has_capture;
	uint64_t capture_received, capture_dropped;
};
int store_run_end(struct store *s, const struct store_run_end *end);

/*
 * Makes SQLite create the database's -wal and -shm files now, so that a
 * daemon about to give up root can give them to its user first. 0, or -1
 * with store_error().
 */
int store_open_files(struct store *s);

/*
 * A consent decision the operator marked (trackwatch consent mark through
 * the control socket), as the CLI writes one: device and site as given
 * (site may be NULL or ""). 0, or -1 with store_error().
 */
int store_add_consent_mark(struct store *s, int64_t ts_us, const char *device, const char *site,
			   const char *decision, int64_t created_us);

/* Where a device was, for one row. */
struct store_device {
	const char *key;         /* MAC text, or the address when the link has no MAC */
	const char *mac;         /* NULL without one */
	const char *address;     /* the client address of this row */
	const char *name;        /* the configured name, or NULL */
};

/* A tracker hit (strings valid during the call). */
struct store_hit {
	const char *entity, *category;  /* may be NULL */
	const char *categories_json;    /* JSON array of names */
	const char *list;               /* the list that decided, or NULL */
	const char *lists_json;         /* JSON array of list names */
	const char *rule;               /* or NULL */
	const char *cname;              /* the chain name that matched (cloaking), or NULL */
};

/* A cookie sent or set: the row's `cookies` entry (schema.c, migration 3). */
struct store_cookie {
	const char *name;
	const char *value;              /* the keyed hash, or the raw value when kept */
	uint32_t value_len;             /* bytes of the raw value */
	const char *domain, *path;      /* set: the attributes, or NULL */
	int64_t lifetime;               /* set: seconds (-1 session, 0 deletion) */
	int is_set;                     /* 1 cookie_set, 0 cookie_sent (lifetime NULL) */
	const char *same_site;          /* set: "Lax", ..., or NULL */
	unsigned flags;                 /* STORE_COOKIE_* */
	const char *platform, *category;/* the Open Cookie Database's, or NULL */
};

enum {
	STORE_COOKIE_SECURE = 1, STORE_COOKIE_HTTP_ONLY = 2, STORE_COOKIE_PARTITIONED = 4,
	STORE_COOKIE_IDENTIFIER_LIKE = 8, STORE_COOKIE_CONSENT = 16, STORE_COOKIE_IDENTIFIER = 32,
};

/* A consent signal: the row's `consent` entry. */
struct store_consent {
	const char *decision;           /* accept, reject, partial, no_decision */
	const char *source, *detail;
};

/* A query parameter of a request to a tracker (url_values). */
struct store_param {
	const char *name, *value;       /* as the observation's path has them (value hashed) */
	size_t name_len, value_len;
};
enum { STORE_PARAMS_MAX = 32 };

/* One row of the timeline. `host` may hold any byte but NUL. */
struct store_row {
	uint64_t ts_us;
	const char *kind;
	const char *host;
	const char *server;             /* server address text */
	uint16_t sport, dport;
	uint8_t proto;
	uint64_t flow;
	int64_t visit;                  /* store_visit()'s id, or 0 */
	const char *site;               /* the visit's site, or NULL */
	const struct store_hit *hit;    /* NULL when no list names it a tracker */
	const struct store_cookie *cookie;   /* cookie_sent, cookie_set; else NULL */
	const struct store_consent *consent; /* consent; else NULL */
	const struct store_param *params;    /* http_request to a tracker: its query's parameters */
	size_t param_count;
};

/* Returns the device's id for rows, creating or updating it; -1 on an error. */
int64_t store_device(struct store *s, const struct store_device *device, uint64_t ts_us);
/* The name a device gives itself (DHCP). */
int store_device_hostname(struct store *s, int64_t device, const char *hostname);

/* Begins a visit of `device` to `site`, started by `host`; its id, or -1. */
int64_t store_visit(struct store *s, int64_t device, const char *site, const char *host,
		    const char *how, uint64_t ts_us);

/* Appends one row (in the open batch); 0 or -1. */
int store_add(struct store *s, int64_t device, const struct store_row *row);

/* Commits the batch when it is due (rows or time), or now with `force`; 0 or -1. */
int store_commit(struct store *s, int force);

/* Deletes rows older than max_days, when due (hourly) or with `force`; 0 or -1. */
int store_retain(struct store *s, uint64_t now_us, int force);

/* Counts for the run's statistics. */
struct store_stats {
	uint64_t rows, hits, commits, visits;
};
const struct store_stats *store_stats(const struct store *s);

/* The last error's text. */
const char *store_error(const struct store *s);

/* Commits what is open and closes; 0 or -1. */
int store_close(struct store *s);

#endif
