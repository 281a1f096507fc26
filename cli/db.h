/*
 * db: what the commands that read the store (timeline, report) share. The
 * options that select rows (--db, --device, --site, --since, --until,
 * --format) and their parsing; the selection turned into SQL with bound
 * parameters; times in and out; and the escaping every output format
 * applies to what came off the wire (trackwatch(1), OUTPUT).
 */
#ifndef TRACKWATCH_CLI_DB_H
#define TRACKWATCH_CLI_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>
#include <sqlite3.h>

#define DB_DEFAULT_PATH "/var/lib/trackwatch/trackwatch.db"

enum { DB_EXIT_OK = 0, DB_EXIT_FAIL = 1, DB_EXIT_USAGE = 2 };

enum db_format { DB_FORMAT_TEXT, DB_FORMAT_JSON, DB_FORMAT_CSV };

/* ---- Times ---------------------------------------------------------------- */

/* Microseconds since the epoch, now (wall clock). */
int64_t db_now_us(void);

/*
 * A --since/--until value: "2026-11-29T04:39:50Z" (seconds may carry 1 to 6
 * decimals), "2026-11-29" (midnight UTC), or a duration before `now_us`:
 * digits then s, m, h, d or w ("30m", "7d"). 0, or -1 when it is none of
 * these (or out of range).
 */
int db_parse_time(const char *text, int64_t now_us, int64_t *out_us);

/*
 * Seconds written in decimal with up to 6 decimals ("1", "0.5",
 * "1795927233.343"), within [min_s, max_s], into microseconds. 0, or -1.
 */
int db_parse_seconds(const char *text, int64_t min_s, int64_t max_s, int64_t *out_us);

/* "2026-11-29T04:39:50.597Z": UTC, truncated to the millisecond. */
enum { DB_TIME_MAX = 40 };
void db_format_time(int64_t us, char out[DB_TIME_MAX]);
/* "2026-11-29 04:39:50": the same to the second, for text meant for people. */
void db_format_time_text(int64_t us, char out[DB_TIME_MAX]);

/* ---- Names ---------------------------------------------------------------- */

/* A MAC address in any case, with ':' or '-', as the store writes it ("aa:bb:..."); 0 or -1. */
int db_normalize_mac(const char *text, char out[18]);
/* An IPv4 or IPv6 address in the form the store writes it (inet_ntop); 0 or -1. */
enum { DB_ADDRESS_MAX = 46 };
int db_normalize_address(const char *text, char out[DB_ADDRESS_MAX]);

/* ---- Escaping ------------------------------------------------------------- */

/*
 * A growing buffer for escaped text, reused from row to row. db_escape()
 * returns `len` bytes escaped as the sensor escapes wire bytes (printable
 * ASCII stays, anything else is \xNN; a space too unless keep_space), valid
 * until the next call; NULL when out of memory.
 */
struct db_buf {
	char *data;
	size_t cap;
	size_t len;
	bool failed;  /* out of memory once: the output is incomplete */
};
const char *db_escape(struct db_buf *buf, const char *in, size_t len, int keep_space);
void db_buf_free(struct db_buf *buf);

/* A JSON string for wire bytes (escaped), or for NULL json null; NULL when out of memory. */
json_t *db_json_wire(const char *in, size_t len);
/* A JSON string for text from a list or the configuration: kept when it is UTF-8, else escaped. */
json_t *db_json_text(const char *in, size_t len);

/*
 * One CSV field (RFC 4180) of already escaped text: a field that a
 * spreadsheet would read as a formula (it begins with '=', '+', '-', '@', a
 * tab or a CR) gets a leading "'"; one holding a comma, a double quote, CR
 * or LF is quoted, its quotes doubled.
 */
void db_csv_field(FILE *out, const char *text, size_t len);

/*
 * Text for people: `text` (escaped) in a column of `width` bytes, padded
 * with spaces when `pad`; a longer text keeps its beginning and its end
 * (where a host name's registrable domain is) around "...".
 */
void db_text_cell(FILE *out, const char *text, size_t len, size_t width, int pad);

/* The same for `len` raw bytes, escaped first; NULL (SQL NULL) shows as "-". */
void db_text_value(FILE *out, struct db_buf *buf, const char *in, size_t len, int keep_space,
		   size_t width, int pad);

/* A CSV field of raw bytes, escaped first (keeping spaces); NULL is an empty field. */
void db_csv_value(FILE *out, struct db_buf *buf, const char *in, size_t len);

/* The names of a JSON array of strings, each escaped (keeping spaces), joined by `sep`; NULL when out of memory. */
const char *db_join_names(struct db_buf *buf, const json_t *names, const char *sep);

/* ---- Sets of names (sets.names: a JSON array of strings) ------------------- */

struct db_sets;
struct db_sets *db_sets_new(sqlite3 *db);
void db_sets_free(struct db_sets *sets);
/*
 * The names of set `id` (a JSON array of strings, borrowed: valid while
 * `sets` lives); an empty array for an unknown id or a value that is not
 * such an array. NULL on a database error or when out of memory.
 */
json_t *db_sets_get(struct db_sets *sets, int64_t id);

/* ---- The selection -------------------------------------------------------- */

struct db_query {
	const char *command;     /* "timeline", for messages */
	const char *path;        /* --db */
	const char *device;      /* --device, or NULL */
	const char *site;        /* --site, or NULL */
	bool has_since, has_until;
	int64_t since_us, until_us;
	enum db_format format;
	/* After db_query_resolve(): the ids --device and --site name, as JSON arrays. */
	char *device_ids, *site_ids;
};

void db_query_init(struct db_query *q, const char *command);
void db_query_free(struct db_query *q);

/*
 * The options every reading command shares: --db, --device (-d), --site
 * (-s), --since, --until, --format (-f). Their getopt values are below;
 * db_query_option() takes one: DB_EXIT_OK when it took it, DB_EXIT_USAGE
 * after printing why a value is bad, or -1 when `opt` is not one of these.
 */
enum { DB_OPT_DB = 0x100, DB_OPT_SINCE, DB_OPT_UNTIL };
#define DB_QUERY_SHORT_OPTIONS "d:s:f:"
#define DB_QUERY_LONG_OPTIONS \
	{ "db", required_argument, NULL, DB_OPT_DB }, \
	{ "device", required_argument, NULL, 'd' }, \
	{ "site", required_argument, NULL, 's' }, \
	{ "since", required_argument, NULL, DB_OPT_SINCE }, \
	{ "until", required_argument, NULL, DB_OPT_UNTIL }, \
	{ "format", required_argument, NULL, 'f' }
int db_query_option(struct db_query *q, int opt, const char *arg);

/*
 * Opens the database (store_open_reader) and finds the devices and sites
 * the query names. NULL with a message printed when the database cannot be
 * read or --device or --site names nothing in it (exit status 1).
 */
sqlite3 *db_query_open(struct db_query *q);

/*
 * After the options (getopt's optind): an argument left over is a usage
 * error; else the database is opened (db_query_open). DB_EXIT_OK with *db
 * set, or the exit status, the query freed.
 */
int db_query_start(struct db_query *q, int argc, char **argv, sqlite3 **db);

/* Closes the database, frees the query, and checks that standard output was written: the exit status. */
int db_query_finish(struct db_query *q, sqlite3 *db, int status);

/*
 * The conditions of the query on observations `o` (" AND o.ts >= :since"
 * ...), appended to `sql` (of `cap` bytes); the values are bound by
 * db_query_bind(). 0, or -1 when `sql` is too small.
 */
int db_query_where(const struct db_query *q, char *sql, size_t cap);
int db_query_bind(const struct db_query *q, sqlite3_stmt *st);

/* A column's bytes and length; NULL for SQL NULL. */
const char *db_column(sqlite3_stmt *st, int col, size_t *len);

/* Prints "trackwatch COMMAND: PATH: ERROR" for a failed statement; returns DB_EXIT_FAIL. */
int db_error(const struct db_query *q, sqlite3 *db);

#endif
