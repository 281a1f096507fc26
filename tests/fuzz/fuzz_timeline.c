/*
 * libFuzzer harness for the writer path: timeline_observe() (daemon/
 * timeline.c) on hostile observations, down to the rows store.c writes to
 * SQLite. Set up once: a matcher from small Adblock Plus lists, a store on a
 * temporary database (batches of 7 rows, so that commits happen mid-input,
 * or of 300 every other database), a run, and a timeline with configured
 * device names. Every input is a sequence
 * of observations (format below); each must be taken (a store error is a
 * bug: the store must never fail on what the wire sends), and each input
 * ends with a forced commit.
 *
 * Every CHECK_EVERY inputs or so (less often as the database grows), and
 * at exit, a read-only connection checks the database: PRAGMA
 * integrity_check, every hit's observation present, PRAGMA
 * foreign_key_check (the writer keeps the schema's references itself), and
 * as many observation and hit rows as the store counted. The database is
 * started afresh (with a new timeline) after ROTATE_ROWS rows so that the
 * checks stay fast.
 *
 * The state (store, timeline, caches) carries over from input to input, as
 * in the daemon: a crash found after many inputs may need the inputs before
 * it to reproduce.
 *
 * Input format, one record per observation until the input ends (missing
 * bytes read as 0):
 *
 *   kind      1 byte, modulo OBS_KIND_COUNT
 *   flags     1 byte: 0x01 client MAC, 0x02 IPv6, 0x04 Referer, 0x08 Origin,
 *             0x10 resolved, 0x20 CNAME chain, 0x40 UDP, 0x80 DNS qtype
 *   time      2 bytes big-endian: top 2 bits the unit, low 14 bits v:
 *             0 +v us, 1 +v ms, 2 +v s, 3 -v ms (v >= 0x3ff0: an extreme
 *             time from a table: 0, 1, INT64_MAX, 2^63, UINT64_MAX, ...)
 *   client    2 bytes: the device (v4 10.0.hi.lo, v6 fd00::hilo; with a
 *             MAC, 02:00:00:00:00:hi, so one MAC has many addresses)
 *   server    1 byte: 93.184.216.N or 2001:db8::N
 *   ports     1 byte client port (40000 + N), 1 byte server port
 *             (53, 80, 443, 8080, 5353, 3478, N, 0 by its low 3 bits)
 *   flow      1 byte
 *   host      a string (below), at most OBS_HOST_MAX - 1 bytes
 *   [qtype]   1 byte, with 0x80
 *   [referer] a string, with 0x04
 *   [origin]  a string, with 0x08
 *   [resolved] a string, with 0x10
 *   [chain]   1 byte count (modulo 17), then that many strings, with 0x20
 *
 * A string: a length byte L; L < 0xc0: L bytes follow; 0xc0..0xdf: entry
 * L - 0xc0 of the table of names and URLs below; 0xe0..0xfe: a byte of
 * length, then the bytes; 0xff: two bytes of length (big-endian), then the
 * bytes. The bytes are any (a NUL ends the string early, as in C).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "../../blocklists/matcher.h"
#include "../../blocklists/parsers.h"
#include "../../daemon/config.h"
#include "../../daemon/observation.h"
#include "../../daemon/store.h"
#include "../../daemon/timeline.h"

/*
 * A database lives for ROTATE_ROWS rows: long enough for the floods the
 * writer bounds its memory against (more than 2048 devices, more than
 * 16384 names of a kind) to happen. A check costs about a millisecond per
 * thousand rows, so it comes every CHECK_EVERY inputs while the database
 * is small and less often as it grows.
 */
enum { CHECK_EVERY = 256, CHECK_ROWS_PER_INPUT = 100, ROTATE_ROWS = 1000000, CHAIN_MAX = 16 };

/* Two lists, so hits carry sets of lists; names and categories with quotes and bytes JSON must escape. */
static const char list_tracking[] =
	"[Adblock Plus 2.0]\n"
	"! Title: fuzz_timeline\n"
	"||tracker.example^\n"
	"@@||allowed.tracker.example^\n"
	"||thirdparty.example^$third-party\n"
	"||onlyonshop.example^$domain=shop.example|~news.example.co.uk\n"
	"||ads.example.co.uk^$script\n"
	"||xn--caf-dma.example^\n"
	"||10.0.0.1^\n"
	"/pixel.gif?\n"
	"example.com##.banner\n";
static const char list_ads[] =
	"||doubleclick.net^\n"
	"||tracker.example^$third-party\n"
	"||ads.example.co.uk^\n"
	"@@||ok.doubleclick.net^\n";

/* The table strings may name (L = 0xc0 + index). */
static const char *const table[32] = {
	"tracker.example",
	"px.tracker.example",
	"www.shop.example",
	"shop.example",
	"metrics.shop.example",
	"shop.tracker.example",
	"ads.example.co.uk",
	"news.example.co.uk",
	"https://www.shop.example/basket?id=1",
	"https://news.example.co.uk:8443/a/b",
	"http://[2001:db8::1]:8080/",
	"https://10.0.0.1/",
	"HTTPS://WWW.SHOP.EXAMPLE",
	"allowed.tracker.example",
	"thirdparty.example",
	"onlyonshop.example",
	"co.uk",
	"example",
	"localhost",
	"192.0.2.1",
	"2001:db8::1",
	"",
	"tracker.example.",
	"TRACKER.EXAMPLE:443",
	"a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.tracker.example",
	"xn--caf-dma.example",
	"caf\xc3\xa9.example",
	"\xff\xfe\".example",
	"ad.doubleclick.net",
	"https://",
	"//shop.example/x",
	"null",
};

static const uint64_t extreme_times[16] = {
	0, 1, 999999, 1000000, INT64_MAX, (uint64_t)INT64_MAX + 1, UINT64_MAX, UINT64_MAX - 1,
	1700000000000000ULL, 253402300799999999ULL, 86400000000ULL, 1ULL << 32,
	(uint64_t)INT64_MAX - 2000000, UINT64_MAX - 30ULL * 60 * 1000000, 4102444800000000ULL, 2,
};

static const uint16_t server_ports[8] = { 53, 80, 443, 8080, 5353, 3478, 0xffff, 0 };

static char dir[] = "/tmp/fuzz_timeline.XXXXXX";
static char db_path[64];
static struct matcher *matcher;
static struct daemon_config config;
static struct store *store;
static struct timeline *timeline;
static uint64_t inputs, checked_at;

static char mac_match[] = "02:00:00:00:00:01", mac_name[] = "kitchen \"tablet\" \xe2\x98\x95";
static char addr_match[] = "10.0.0.7", addr_name[] = "test-laptop";
static struct device_name names[2];

static void die(const char *what, const char *why)
{
	fprintf(stderr, "fuzz_timeline: %s: %s\n", what, why);
	abort();
}

static void remove_db(void)
{
	static const char *const suffixes[] = { "", "-wal", "-shm", "-journal" };
	for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
		char p[80];
		snprintf(p, sizeof p, "%s%s", db_path, suffixes[i]);
		unlink(p);
	}
}

static void open_all(void)
{
	/*
	 * Small batches (commits mid-input) and, every other database, batches
	 * of more rows than one multi-row INSERT holds and than the visits a
	 * batch keeps to write back (store.c's ROWS_PER_INSERT, VISIT_DIRTY_MAX).
	 */
	static unsigned opened;
	struct store_options o = config.store;
	o.batch_rows = opened++ % 2 ? 300 : 7;
	char err[STORE_ERROR_MAX];
	store = store_open(db_path, &o, err, sizeof err);
	if (!store)
		die("store_open", err);
	struct store_run run = { .source = "fuzz", .live = 1, .file_bytes = -1,
				 .started_us = 1700000000000000ULL, .version = "fuzz",
				 .lists_json = "[]" };
	if (store_run_begin(store, &run, err, sizeof err) != 0)
		die("store_run_begin", err);
	struct timeline_options topt;
	timeline_options_defaults(&topt);
	timeline = timeline_new(store, &config, &topt);
	if (!timeline)
		die("timeline_new", "out of memory");
	timeline_set_matcher(timeline, matcher);
}

static void close_all(void)
{
	timeline_free(timeline);
	timeline = NULL;
	if (store_close(store) != 0)
		die("store_close", "failed");
	store = NULL;
}

static void check_database(void);

static void cleanup(void)
{
	if (store) {
		/* A last check, so that a run of one input (a reproducer) is checked too. */
		if (store_commit(store, 1) != 0)
			die("store_commit", store_error(store));
		check_database();
		close_all();
	}
	remove_db();
	rmdir(dir);
	matcher_free(matcher);
	matcher = NULL;
}

static void add_list(const char *name, const char *category, const char *text)
{
	int list = matcher_add_list(matcher, name, "fuzz", LIST_ABP, category);
	if (list < 0)
		die("matcher_add_list", name);
	size_t len = strlen(text);
	char *copy = malloc(len);
	if (!copy)
		die("malloc", "out of memory");
	memcpy(copy, text, len);
	struct parse_error err = { .line = 0 };
	if (parse_abp(matcher, list, copy, len, &err) != 0)
		die("parse_abp", err.reason);
	free(copy);
}

static void setup(void)
{
	matcher = matcher_new();
	if (!matcher)
		die("matcher_new", "out of memory");
	add_list("easyprivacy \"fuzz\"", "Tracking", list_tracking);
	add_list("ads\xc3\xa9", "Adver\xfftising", list_ads);
	if (matcher_finish(matcher) != 0)
		die("matcher_finish", "out of memory");

	config_defaults(&config);
	names[0] = (struct device_name){ mac_match, mac_name };
	names[1] = (struct device_name){ addr_match, addr_name };
	config.devices = names;
	config.device_count = 2;

	if (!mkdtemp(dir))
		die("mkdtemp", dir);
	snprintf(db_path, sizeof db_path, "%s/t.db", dir);
	open_all();
	atexit(cleanup);
}

/* ---- Reading the input ---- */

struct reader {
	const uint8_t *p;
	size_t n;
};

static unsigned byte(struct reader *r)
{
	if (!r->n)
		return 0;
	r->n--;
	return *r->p++;
}

static unsigned u16(struct reader *r)
{
	unsigned hi = byte(r);
	return hi << 8 | byte(r);
}

/* A string (format above) as a heap copy of its own size, so that ASan sees reads past it; at most `max` bytes. */
static char *text(struct reader *r, size_t max)
{
	unsigned l = byte(r);
	const char *from;
	size_t len;
	if (l >= 0xc0 && l < 0xe0) {
		from = table[l - 0xc0];
		len = strlen(from);
	} else {
		len = l < 0xc0 ? l : l < 0xff ? byte(r) : u16(r);
		if (len > r->n)
			len = r->n;
		from = (const char *)r->p;
		r->p += len;
		r->n -= len;
	}
	if (len > max)
		len = max;
	char *s = malloc(len + 1);
	if (!s)
		die("malloc", "out of memory");
	memcpy(s, from, len);
	s[len] = '\0';
	return s;
}

/* ---- Checks ---- */

static int64_t one_value(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		die(sql, sqlite3_errmsg(db));
	if (sqlite3_step(st) != SQLITE_ROW)
		die(sql, sqlite3_errmsg(db));
	int64_t v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void check_database(void)
{
	sqlite3 *db = NULL;
	if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
		die("sqlite3_open_v2", db ? sqlite3_errmsg(db) : "out of memory");
	sqlite3_busy_timeout(db, 5000);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) != SQLITE_OK)
		die("integrity_check", sqlite3_errmsg(db));
	if (sqlite3_step(st) != SQLITE_ROW || strcmp((const char *)sqlite3_column_text(st, 0), "ok") != 0)
		die("integrity_check", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);

	if (one_value(db, "SELECT count(*) FROM hits WHERE observation_id NOT IN"
			  " (SELECT id FROM observations)") != 0)
		die("hits", "a hit whose observation is not stored");

	if (sqlite3_prepare_v2(db, "PRAGMA foreign_key_check", -1, &st, NULL) != SQLITE_OK)
		die("foreign_key_check", sqlite3_errmsg(db));
	if (sqlite3_step(st) == SQLITE_ROW) {
		char what[256];
		snprintf(what, sizeof what, "table %s row %lld refers to a missing row of %s",
			 sqlite3_column_text(st, 0), (long long)sqlite3_column_int64(st, 1),
			 sqlite3_column_text(st, 2));
		die("foreign_key_check", what);
	}
	sqlite3_finalize(st);

	/* Every row the store took is committed (the input ended with a forced commit). */
	const struct store_stats *stats = store_stats(store);
	if ((uint64_t)one_value(db, "SELECT count(*) FROM observations") != stats->rows)
		die("observations", "the store counted a different number of rows");
	if ((uint64_t)one_value(db, "SELECT count(*) FROM hits") != stats->hits)
		die("hits", "the store counted a different number of hits");
	sqlite3_close(db);
}

/* ---- One input ---- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!matcher)
		setup();
	if (store_stats(store)->rows >= ROTATE_ROWS) {
		check_database();
		close_all();
		remove_db();
		open_all();
	}
	struct reader r = { data, size };
	uint64_t ts = 1700000000000000ULL;
	while (r.n) {
		struct observation obs;
		memset(&obs, 0, sizeof obs);
		obs.kind = (enum observation_kind)(byte(&r) % OBS_KIND_COUNT);
		unsigned flags = byte(&r);
		unsigned t = u16(&r), v = t & 0x3fff;
		switch (t >> 14) {
		case 0: ts += v; break;
		case 1: ts += (uint64_t)v * 1000; break;
		case 2: ts += (uint64_t)v * 1000000; break;
		default:
			ts = v >= 0x3ff0 ? extreme_times[v - 0x3ff0] : ts - (uint64_t)v * 1000;
			break;
		}
		obs.ts_us = ts;
		unsigned client = u16(&r), server = byte(&r);
		obs.ip_version = flags & 0x02 ? 6 : 4;
		if (obs.ip_version == 4) {
			memcpy(obs.client_addr, (uint8_t[]){ 10, 0, (uint8_t)(client >> 8), (uint8_t)client }, 4);
			memcpy(obs.server_addr, (uint8_t[]){ 93, 184, 216, (uint8_t)server }, 4);
		} else {
			obs.client_addr[0] = 0xfd;
			obs.client_addr[14] = (uint8_t)(client >> 8);
			obs.client_addr[15] = (uint8_t)client;
			obs.server_addr[0] = 0x20;
			obs.server_addr[1] = 0x01;
			obs.server_addr[2] = 0x0d;
			obs.server_addr[3] = 0xb8;
			obs.server_addr[15] = (uint8_t)server;
		}
		if (flags & 0x01) {
			obs.has_client_mac = 1;
			memcpy(obs.client_mac, (uint8_t[]){ 2, 0, 0, 0, 0, (uint8_t)(client >> 8) }, 6);
		}
		obs.l4_proto = flags & 0x40 ? 17 : 6;
		obs.client_port = (uint16_t)(40000 + byte(&r));
		unsigned sp = byte(&r);
		obs.server_port = (sp & 7) == 6 ? (uint16_t)sp : server_ports[sp & 7];
		obs.flow_id = byte(&r);

		char *host = text(&r, OBS_HOST_MAX - 1);
		memcpy(obs.host, host, strlen(host) + 1);
		free(host);
		if (flags & 0x80)
			obs.dns_qtype = (uint16_t)byte(&r);
		char *referer = flags & 0x04 ? text(&r, SIZE_MAX) : NULL;
		char *origin = flags & 0x08 ? text(&r, SIZE_MAX) : NULL;
		char *resolved = flags & 0x10 ? text(&r, OBS_HOST_MAX - 1) : NULL;
		char *chain[CHAIN_MAX];
		unsigned chain_count = flags & 0x20 ? byte(&r) % (CHAIN_MAX + 1) : 0;
		for (unsigned i = 0; i < chain_count; i++)
			chain[i] = text(&r, OBS_HOST_MAX - 1);
		obs.http_referer = referer;
		obs.http_origin = origin;
		obs.resolved = resolved;
		obs.dns_chain_count = (uint8_t)chain_count;
		obs.dns_chain = chain_count ? (const char *const *)chain : NULL;

		struct store_stats before = *store_stats(store);
		if (timeline_observe(timeline, &obs) != 0)
			die("timeline_observe", store_error(store));
		const struct store_stats *after = store_stats(store);
		if (after->rows - before.rows > 1 || after->hits - before.hits > after->rows - before.rows)
			die("store_stats", "more than one row (or a hit without its row) for one observation");

		free(referer);
		free(origin);
		free(resolved);
		for (unsigned i = 0; i < chain_count; i++)
			free(chain[i]);
	}
	if (store_commit(store, 1) != 0)
		die("store_commit", store_error(store));
	uint64_t rows = store_stats(store)->rows;
	if (++inputs - checked_at >= CHECK_EVERY && inputs - checked_at >= rows / CHECK_ROWS_PER_INPUT) {
		check_database();
		checked_at = inputs;
	}
	return 0;
}
