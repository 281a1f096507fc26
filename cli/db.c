/*
 * db: see db.h. The selection is turned into SQL as fixed fragments with
 * named parameters; every value (a device, a site, a time) is bound, never
 * formatted into the statement.
 */
#include "db.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../blocklists/matcher.h"
#include "../daemon/observation.h"
#include "../daemon/store.h"

/* ---- Times ---------------------------------------------------------------- */

int64_t db_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

/* The date of a day since 1970-01-01 (civil_from_days). */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* `n` decimal digits at *p into *out, moving *p on; -1 unless there are exactly n digits. */
static int digits(const char **p, int n, unsigned *out)
{
	unsigned v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -1;
		v = v * 10 + (unsigned)((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return 0;
}

static bool leap_year(unsigned y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int parse_iso(const char *p, int64_t *out_us)
{
	static const unsigned month_days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	unsigned y, mo, d, h = 0, mi = 0, s = 0, frac = 0;
	if (digits(&p, 4, &y) || *p++ != '-' || digits(&p, 2, &mo) || *p++ != '-' || digits(&p, 2, &d))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > month_days[mo - 1] + (mo == 2 && leap_year(y)))
		return -1;
	if (*p == 'T') {
		p++;
		if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi) || *p++ != ':' ||
		    digits(&p, 2, &s) || h > 23 || mi > 59 || s > 59)
			return -1;
		if (*p == '.') {
			p++;
			int n = 0;
			for (; isdigit((unsigned char)*p) && n < 6; n++, p++)
				frac = frac * 10 + (unsigned)(*p - '0');
			if (n == 0)
				return -1;
			for (; n < 6; n++)
				frac *= 10;
		}
		if (*p++ != 'Z')
			return -1;
	}
	if (*p != '\0')
		return -1;
	int64_t days = days_from_civil(y, mo, d);
	*out_us = ((days * 86400 + h * 3600 + mi * 60 + s) * 1000000) + frac;
	return 0;
}

int db_parse_seconds(const char *text, int64_t min_s, int64_t max_s, int64_t *out_us)
{
	int64_t whole = 0, fraction = 0;
	const char *p = text;
	if (!(*p >= '0' && *p <= '9'))
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (whole > (INT64_MAX / 1000000 - 9) / 10)
			return -1;
		whole = whole * 10 + (*p - '0');
	}
	if (*p == '.') {
		int digits = 0;
		for (p++; *p >= '0' && *p <= '9'; p++, digits++)
			if (digits < 6)
				fraction = fraction * 10 + (*p - '0');
		if (digits == 0 || digits > 6)
			return -1;
		for (; digits < 6; digits++)
			fraction *= 10;
	}
	if (*p || whole < min_s || whole > max_s || (whole == max_s && fraction))
		return -1;
	*out_us = whole * 1000000 + fraction;
	return 0;
}

int db_parse_time(const char *text, int64_t now_us, int64_t *out_us)
{
	size_t len = strlen(text);
	if (len >= 2 && strspn(text, "0123456789") == len - 1) {
		int64_t unit;
		switch (text[len - 1]) {
		case 's': unit = 1000000; break;
		case 'm': unit = 60 * (int64_t)1000000; break;
		case 'h': unit = 3600 * (int64_t)1000000; break;
		case 'd': unit = 86400 * (int64_t)1000000; break;
		case 'w': unit = 7 * 86400 * (int64_t)1000000; break;
		default: return -1;
		}
		errno = 0;
		char *end;
		unsigned long long n = strtoull(text, &end, 10);
		if (errno || end != text + len - 1 || n > (unsigned long long)(INT64_MAX / unit))
			return -1;
		*out_us = now_us - (int64_t)n * unit;
		return 0;
	}
	return parse_iso(text, out_us);
}

/* Floor division, for times before 1970. */
static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static void split_time(int64_t us, int64_t *y, unsigned *mo, unsigned *d, unsigned *h, unsigned *mi,
		       unsigned *s, unsigned *ms)
{
	int64_t msec = floor_div(us, 1000);
	int64_t sec = floor_div(msec, 1000);
	int64_t day = floor_div(sec, 86400);
	unsigned sod = (unsigned)(sec - day * 86400);
	*ms = (unsigned)(msec - sec * 1000);
	*h = sod / 3600;
	*mi = sod / 60 % 60;
	*s = sod % 60;
	civil_from_days(day, y, mo, d);
}

void db_format_time(int64_t us, char out[DB_TIME_MAX])
{
	int64_t y;
	unsigned mo, d, h, mi, s, ms;
	split_time(us, &y, &mo, &d, &h, &mi, &s, &ms);
	snprintf(out, DB_TIME_MAX, "%04lld-%02u-%02uT%02u:%02u:%02u.%03uZ", (long long)y, mo, d, h, mi,
		 s, ms);
}

void db_format_time_text(int64_t us, char out[DB_TIME_MAX])
{
	int64_t y;
	unsigned mo, d, h, mi, s, ms;
	split_time(us, &y, &mo, &d, &h, &mi, &s, &ms);
	snprintf(out, DB_TIME_MAX, "%04lld-%02u-%02u %02u:%02u:%02u", (long long)y, mo, d, h, mi, s);
}

/* ---- Names ---------------------------------------------------------------- */

int db_normalize_mac(const char *text, char out[18])
{
	if (strlen(text) != 17)
		return -1;
	char sep = text[2];
	if (sep != ':' && sep != '-')
		return -1;
	for (int i = 0; i < 17; i++) {
		unsigned char c = (unsigned char)text[i];
		if (i % 3 == 2) {
			if (c != (unsigned char)sep)
				return -1;
			out[i] = ':';
		} else {
			if (!isxdigit(c))
				return -1;
			out[i] = (char)tolower(c);
		}
	}
	out[17] = '\0';
	return 0;
}

int db_normalize_address(const char *text, char out[DB_ADDRESS_MAX])
{
	unsigned char addr[16];
	if (inet_pton(AF_INET, text, addr) == 1)
		return inet_ntop(AF_INET, addr, out, DB_ADDRESS_MAX) ? 0 : -1;
	if (inet_pton(AF_INET6, text, addr) == 1)
		return inet_ntop(AF_INET6, addr, out, DB_ADDRESS_MAX) ? 0 : -1;
	return -1;
}

/* Room for `need` bytes in the buffer; false (and marked failed) when out of memory. */
static bool reserve(struct db_buf *buf, size_t need)
{
	if (need <= buf->cap)
		return true;
	char *data = realloc(buf->data, need);
	if (!data) {
		buf->failed = true;
		return false;
	}
	buf->data = data;
	buf->cap = need;
	return true;
}

/* ---- Escaping ------------------------------------------------------------- */

const char *db_escape(struct db_buf *buf, const char *in, size_t len, int keep_space)
{
	if (len > (SIZE_MAX - 1) / 4) {
		buf->failed = true;
		return NULL;
	}
	if (!reserve(buf, 4 * len + 1))
		return NULL;
	buf->len = observation_escape_into(in ? in : "", in ? len : 0, buf->data, keep_space);
	return buf->data;
}

void db_buf_free(struct db_buf *buf)
{
	free(buf->data);
	buf->data = NULL;
	buf->cap = buf->len = 0;
}

json_t *db_json_wire(const char *in, size_t len)
{
	if (!in)
		return json_null();
	struct db_buf buf = { 0 };
	json_t *j = NULL;
	if (db_escape(&buf, in, len, 1))
		/* Escaped text is printable ASCII: no UTF-8 check needed. */
		j = json_stringn_nocheck(buf.data, buf.len);
	db_buf_free(&buf);
	return j;
}

json_t *db_json_text(const char *in, size_t len)
{
	if (!in)
		return json_null();
	json_t *j = memchr(in, '\0', len) ? NULL : json_stringn(in, len);
	return j ? j : db_json_wire(in, len);
}

void db_csv_field(FILE *out, const char *text, size_t len)
{
	bool formula = len > 0 && text[0] != '\0' && strchr("=+-@\t\r", text[0]) != NULL;
	bool quote = false;
	for (size_t i = 0; i < len && !quote; i++)
		quote = text[i] == ',' || text[i] == '"' || text[i] == '\r' || text[i] == '\n';
	if (quote)
		putc('"', out);
	if (formula)
		putc('\'', out);
	for (size_t i = 0; i < len; i++) {
		if (text[i] == '"')
			putc('"', out);
		putc(text[i], out);
	}
	if (quote)
		putc('"', out);
}

void db_text_cell(FILE *out, const char *text, size_t len, size_t width, int pad)
{
	if (len <= width) {
		fwrite(text, 1, len, out);
		for (size_t i = len; pad && i < width; i++)
			putc(' ', out);
		return;
	}
	if (width < 5) {
		fwrite(text, 1, width, out);
		return;
	}
	/* A third of the room for the beginning, the rest for the end. */
	size_t room = width - 3, head = room / 3, tail = room - head;
	fwrite(text, 1, head, out);
	fputs("...", out);
	fwrite(text + len - tail, 1, tail, out);
}

void db_text_value(FILE *out, struct db_buf *buf, const char *in, size_t len, int keep_space,
		   size_t width, int pad)
{
	const char *text = in ? db_escape(buf, in, len, keep_space) : "-";
	if (text)
		db_text_cell(out, text, in ? buf->len : 1, width, pad);
}

void db_csv_value(FILE *out, struct db_buf *buf, const char *in, size_t len)
{
	if (in && db_escape(buf, in, len, 1))
		db_csv_field(out, buf->data, buf->len);
}

const char *db_join_names(struct db_buf *buf, const json_t *names, const char *sep)
{
	/* Each name grows at most fourfold, then the separators. */
	size_t need = 1, i, sep_len = strlen(sep);
	const json_t *v;
	json_array_foreach(names, i, v) {
		size_t n = json_string_length(v);
		if (n > (SIZE_MAX - need - sep_len) / 4) {
			buf->failed = true;
			return NULL;
		}
		need += 4 * n + sep_len;
	}
	if (!reserve(buf, need))
		return NULL;
	size_t len = 0;
	json_array_foreach(names, i, v) {
		if (i > 0) {
			memcpy(buf->data + len, sep, sep_len);
			len += sep_len;
		}
		len += observation_escape_into(json_string_value(v), json_string_length(v),
					       buf->data + len, 1);
	}
	buf->data[len] = '\0';
	buf->len = len;
	return buf->data;
}

/* ---- Sets ----------------------------------------------------------------- */

/* The sets read so far, by id, as a JSON object ("12": [...]): the table is small and much repeated. */
struct db_sets {
	sqlite3_stmt *st;
	json_t *cache;
};

struct db_sets *db_sets_new(sqlite3 *db)
{
	struct db_sets *sets = calloc(1, sizeof *sets);
	if (!sets)
		return NULL;
	sets->cache = json_object();
	if (!sets->cache ||
	    sqlite3_prepare_v2(db, "SELECT names FROM sets WHERE id = ?", -1, &sets->st, NULL) != SQLITE_OK) {
		db_sets_free(sets);
		return NULL;
	}
	return sets;
}

void db_sets_free(struct db_sets *sets)
{
	if (!sets)
		return;
	sqlite3_finalize(sets->st);
	json_decref(sets->cache);
	free(sets);
}

json_t *db_sets_get(struct db_sets *sets, int64_t id)
{
	char key[24];
	snprintf(key, sizeof key, "%lld", (long long)id);
	json_t *names = json_object_get(sets->cache, key);
	if (names)
		return names;
	sqlite3_reset(sets->st);
	sqlite3_bind_int64(sets->st, 1, id);
	int rc = sqlite3_step(sets->st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return NULL;
	json_t *parsed = NULL;
	size_t len;
	const char *text = rc == SQLITE_ROW ? db_column(sets->st, 0, &len) : NULL;
	if (text)
		parsed = json_loadb(text, len, JSON_DECODE_ANY, NULL);
	sqlite3_reset(sets->st);
	/* Only the strings of an array: anything else in a damaged row is left out. */
	names = json_array();
	if (!names) {
		json_decref(parsed);
		return NULL;
	}
	size_t i;
	json_t *v;
	if (json_is_array(parsed))
		json_array_foreach(parsed, i, v)
			if (json_is_string(v))
				json_array_append(names, v);
	json_decref(parsed);
	if (json_object_set_new(sets->cache, key, names) != 0)
		return NULL;
	return names;
}

/* ---- The selection -------------------------------------------------------- */

void db_query_init(struct db_query *q, const char *command)
{
	memset(q, 0, sizeof *q);
	q->command = command;
	q->path = DB_DEFAULT_PATH;
	q->format = DB_FORMAT_TEXT;
}

void db_query_free(struct db_query *q)
{
	free(q->device_ids);
	free(q->site_ids);
	q->device_ids = q->site_ids = NULL;
}

static int bad_value(const struct db_query *q, const char *option, const char *arg, const char *want)
{
	fprintf(stderr, "trackwatch %s: bad %s '%s' (want %s)\n", q->command, option, arg, want);
	fprintf(stderr, "Try 'trackwatch %s --help' for more information.\n", q->command);
	return DB_EXIT_USAGE;
}

int db_query_option(struct db_query *q, int opt, const char *arg)
{
	static const char time_forms[] =
		"2026-11-29T04:39:50Z, 2026-11-29T04:39:50.597Z, 2026-11-29, or a time ago such as 30m, 2h, 7d";
	int64_t t;
	switch (opt) {
	case DB_OPT_DB:
		if (!*arg)
			return bad_value(q, "--db", arg, "a path");
		q->path = arg;
		return DB_EXIT_OK;
	case 'd':
		if (!*arg)
			return bad_value(q, "--device", arg, "a MAC, an address or a device name");
		q->device = arg;
		return DB_EXIT_OK;
	case 's':
		if (!*arg)
			return bad_value(q, "--site", arg, "a site such as news.example");
		q->site = arg;
		return DB_EXIT_OK;
	case DB_OPT_SINCE:
	case DB_OPT_UNTIL:
		if (db_parse_time(arg, db_now_us(), &t) < 0)
			return bad_value(q, opt == DB_OPT_SINCE ? "--since" : "--until", arg, time_forms);
		if (opt == DB_OPT_SINCE) {
			q->has_since = true;
			q->since_us = t;
		} else {
			q->has_until = true;
			q->until_us = t;
		}
		return DB_EXIT_OK;
	case 'f':
		if (strcmp(arg, "text") == 0)
			q->format = DB_FORMAT_TEXT;
		else if (strcmp(arg, "json") == 0)
			q->format = DB_FORMAT_JSON;
		else if (strcmp(arg, "csv") == 0)
			q->format = DB_FORMAT_CSV;
		else
			return bad_value(q, "--format", arg, "text, json or csv");
		return DB_EXIT_OK;
	default:
		return -1;
	}
}

int db_error(const struct db_query *q, sqlite3 *db)
{
	fprintf(stderr, "trackwatch %s: %s: %s\n", q->command, q->path, sqlite3_errmsg(db));
	return DB_EXIT_FAIL;
}

/* The ids a statement gives in its first column, as a JSON array text (malloc'd); NULL on an error. */
static char *ids_json(sqlite3_stmt *st, size_t *count)
{
	json_t *ids = json_array();
	int rc;
	*count = 0;
	while (ids && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (json_array_append_new(ids, json_integer(sqlite3_column_int64(st, 0))) != 0)
			rc = SQLITE_NOMEM;
		(*count)++;
	}
	char *text = ids && rc == SQLITE_DONE ? json_dumps(ids, JSON_COMPACT) : NULL;
	json_decref(ids);
	return text;
}

/*
 * The devices --device names: its key, its MAC (any case, ':' or '-'), an
 * address it was seen with, or its configured name (any ASCII case). All
 * of them: a name or an address may have been several devices'.
 */
static int resolve_devices(struct db_query *q, sqlite3 *db, size_t *count)
{
	static const char sql[] =
		"SELECT id FROM devices WHERE key IN (:spec, :mac, :address) OR lower(mac) = :mac"
		" OR name = :spec COLLATE NOCASE"
		" UNION SELECT device_id FROM device_addresses WHERE address IN (:spec, :address)";
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	char mac[18], address[DB_ADDRESS_MAX];
	sqlite3_bind_text(st, sqlite3_bind_parameter_index(st, ":spec"), q->device, -1, SQLITE_STATIC);
	if (db_normalize_mac(q->device, mac) == 0)
		sqlite3_bind_text(st, sqlite3_bind_parameter_index(st, ":mac"), mac, -1, SQLITE_STATIC);
	if (db_normalize_address(q->device, address) == 0)
		sqlite3_bind_text(st, sqlite3_bind_parameter_index(st, ":address"), address, -1,
				  SQLITE_STATIC);
	q->device_ids = ids_json(st, count);
	sqlite3_finalize(st);
	return q->device_ids ? 0 : -1;
}

/*
 * The sites --site names: a site's name as given, in lower case without a
 * trailing dot, or the registrable domain of a host under it
 * ("www.news.example" for news.example).
 */
static int resolve_sites(struct db_query *q, sqlite3 *db, size_t *count)
{
	static const char sql[] = "SELECT id FROM sites WHERE name IN (:spec, :lower, :domain)";
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	char *lower = strdup(q->site);
	if (!lower) {
		sqlite3_finalize(st);
		return -1;
	}
	size_t len = strlen(lower);
	for (size_t i = 0; i < len; i++)
		lower[i] = (char)tolower((unsigned char)lower[i]);
	if (len > 1 && lower[len - 1] == '.')
		lower[--len] = '\0';
	const char *domain = matcher_registrable_domain(lower);
	sqlite3_bind_text(st, sqlite3_bind_parameter_index(st, ":spec"), q->site, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, sqlite3_bind_parameter_index(st, ":lower"), lower, -1, SQLITE_STATIC);
	if (domain)
		sqlite3_bind_text(st, sqlite3_bind_parameter_index(st, ":domain"), domain, -1, SQLITE_STATIC);
	q->site_ids = ids_json(st, count);
	sqlite3_finalize(st);
	free(lower);
	return q->site_ids ? 0 : -1;
}

int db_query_start(struct db_query *q, int argc, char **argv, sqlite3 **db)
{
	if (optind < argc) {
		fprintf(stderr, "trackwatch %s: unexpected argument '%s'\n", q->command, argv[optind]);
		fprintf(stderr, "Try 'trackwatch %s --help' for more information.\n", q->command);
		db_query_free(q);
		return DB_EXIT_USAGE;
	}
	*db = db_query_open(q);
	if (!*db) {
		db_query_free(q);
		return DB_EXIT_FAIL;
	}
	return DB_EXIT_OK;
}

int db_query_finish(struct db_query *q, sqlite3 *db, int status)
{
	sqlite3_close(db);
	db_query_free(q);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "trackwatch %s: standard output: %s\n", q->command, strerror(errno));
		status = DB_EXIT_FAIL;
	}
	return status;
}

sqlite3 *db_query_open(struct db_query *q)
{
	char err[STORE_ERROR_MAX];
	sqlite3 *db = store_open_reader(q->path, err, sizeof err);
	if (!db) {
		fprintf(stderr, "trackwatch %s: %s\n", q->command, err);
		return NULL;
	}
	size_t count;
	if (q->device) {
		if (resolve_devices(q, db, &count) < 0)
			goto db_failed;
		if (count == 0) {
			struct db_buf buf = { 0 };
			const char *shown = db_escape(&buf, q->device, strlen(q->device), 1);
			fprintf(stderr,
				"trackwatch %s: no device in %s matches '%s' (give a MAC, an address, "
				"a device key or a configured name)\n",
				q->command, q->path, shown ? shown : "?");
			db_buf_free(&buf);
			goto fail;
		}
	}
	if (q->site) {
		if (resolve_sites(q, db, &count) < 0)
			goto db_failed;
		if (count == 0) {
			struct db_buf buf = { 0 };
			const char *shown = db_escape(&buf, q->site, strlen(q->site), 1);
			fprintf(stderr, "trackwatch %s: no site in %s matches '%s'\n", q->command, q->path,
				shown ? shown : "?");
			db_buf_free(&buf);
			goto fail;
		}
	}
	return db;
db_failed:
	db_error(q, db);
fail:
	sqlite3_close(db);
	return NULL;
}

int db_query_where(const struct db_query *q, char *sql, size_t cap)
{
	size_t len = strlen(sql);
	const char *parts[] = {
		q->has_since ? " AND o.ts >= :since" : "",
		q->has_until ? " AND o.ts < :until" : "",
		q->device_ids ? " AND o.device_id IN (SELECT value FROM json_each(:devices))" : "",
		q->site_ids ? " AND o.site_id IN (SELECT value FROM json_each(:sites))" : "",
	};
	for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
		size_t n = strlen(parts[i]);
		if (len + n >= cap)
			return -1;
		memcpy(sql + len, parts[i], n + 1);
		len += n;
	}
	return 0;
}

int db_query_bind(const struct db_query *q, sqlite3_stmt *st)
{
	int rc = SQLITE_OK, i;
	if (q->has_since && (i = sqlite3_bind_parameter_index(st, ":since")) > 0)
		rc |= sqlite3_bind_int64(st, i, q->since_us);
	if (q->has_until && (i = sqlite3_bind_parameter_index(st, ":until")) > 0)
		rc |= sqlite3_bind_int64(st, i, q->until_us);
	if (q->device_ids && (i = sqlite3_bind_parameter_index(st, ":devices")) > 0)
		rc |= sqlite3_bind_text(st, i, q->device_ids, -1, SQLITE_STATIC);
	if (q->site_ids && (i = sqlite3_bind_parameter_index(st, ":sites")) > 0)
		rc |= sqlite3_bind_text(st, i, q->site_ids, -1, SQLITE_STATIC);
	return rc == SQLITE_OK ? 0 : -1;
}

const char *db_column(sqlite3_stmt *st, int col, size_t *len)
{
	/* Text first, then its length: the order SQLite's documentation asks for. */
	const char *text = (const char *)sqlite3_column_text(st, col);
	*len = text ? (size_t)sqlite3_column_bytes(st, col) : 0;
	return text;
}
