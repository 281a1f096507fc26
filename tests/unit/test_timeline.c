/*
 * The timeline's reading of Referer and Origin (wire bytes) into sites and
 * visits (daemon/timeline.c; trackwatchd(8), SITES): the host of the header,
 * lower case and without its port, is the visit's only for a same-site
 * request from a site no list calls a tracker; a value without scheme://
 * ("Origin: null") names nothing; hostile values name nothing and break
 * nothing. Read back from the store.
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

#include "../../blocklists/parsers.h"
#include "../../daemon/timeline.h"

static char dir[] = "/tmp/tw-timeline-XXXXXX";
static char path[128];
static struct matcher *matcher;
static struct daemon_config config;

static int setup(void **state)
{
	(void)state;
	static int n;
	snprintf(path, sizeof path, "%s/t%d.db", dir, n++);
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

struct fixture {
	struct store *store;
	struct timeline *timeline;
	uint64_t ts;
};

static void open_fixture(struct fixture *f)
{
	struct store_options o;
	store_options_defaults(&o);
	char err[STORE_ERROR_MAX];
	f->store = store_open(path, &o, err, sizeof err);
	if (!f->store)
		fail_msg("%s", err);
	struct store_run run = { .source = "test", .file_bytes = -1, .version = "test" };
	assert_int_equal(store_run_begin(f->store, &run, err, sizeof err), 0);
	struct timeline_options t;
	timeline_options_defaults(&t);
	f->timeline = timeline_new(f->store, &config, &t);
	assert_non_null(f->timeline);
	timeline_set_matcher(f->timeline, matcher);
	f->ts = 1700000000000000ULL;
}

/* An observation of `kind` from 10.0.0.2 to `host` at 192.0.0.1:80, `gap_us` after the one before. */
static void observation(struct fixture *f, struct observation *obs, enum observation_kind kind,
			const char *host, uint64_t gap_us)
{
	memset(obs, 0, sizeof *obs);
	f->ts += gap_us;
	obs->ts_us = f->ts;
	obs->kind = kind;
	obs->ip_version = 4;
	obs->l4_proto = 6;
	obs->client_addr[0] = 10, obs->client_addr[3] = 2;
	obs->server_addr[0] = 192, obs->server_addr[3] = 1;
	obs->client_port = 50000;
	obs->server_port = 80;
	snprintf(obs->host, sizeof obs->host, "%s", host);
}

/* An HTTP request to `host` with these headers (NULL: none), `gap_ms` after the one before. */
static void request(struct fixture *f, const char *host, const char *referer, const char *origin,
		    unsigned gap_ms)
{
	struct observation obs;
	observation(f, &obs, OBS_HTTP_REQUEST, host, (uint64_t)gap_ms * 1000);
	obs.http_referer = referer;
	obs.http_origin = origin;
	assert_int_equal(timeline_observe(f->timeline, &obs), 0);
}

static void close_fixture(struct fixture *f)
{
	timeline_free(f->timeline);
	assert_int_equal(store_close(f->store), 0);
}

/* The rows of `sql` as "a|b" lines, each followed by '\n'. */
static void rows(const char *sql, char *out, size_t len)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	size_t used = 0;
	out[0] = '\0';
	while (sqlite3_step(st) == SQLITE_ROW) {
		for (int i = 0; i < sqlite3_column_count(st); i++) {
			const char *v = (const char *)sqlite3_column_text(st, i);
			used += (size_t)snprintf(out + used, len - used, "%s%s", i ? "|" : "",
						 v ? v : "NULL");
		}
		used += (size_t)snprintf(out + used, len - used, "\n");
	}
	sqlite3_finalize(st);
	sqlite3_close(db);
}

static const char visits_sql[] =
	"SELECT s.name, v.how, h.name FROM visits v JOIN sites s ON s.id = v.site_id"
	" JOIN hosts h ON h.id = v.host_id ORDER BY v.id";
static const char sites_sql[] = "SELECT host, coalesce(site, '-') FROM timeline ORDER BY id";

static void test_referer_begins_a_visit(void **state)
{
	(void)state;
	struct fixture f;
	open_fixture(&f);
	/* Same-site: the header's host, lower case and without its port, begins the visit. */
	request(&f, "www.news.example", "http://WWW.News.Example:8080/page?q=1", NULL, 0);
	/* Cross-site, a stylesheet's Referer: the visit stays, and it is the row's site. */
	request(&f, "fonts.gstatic.com", "https://fonts.googleapis.com/css", NULL, 100);
	/* A tracker's frame asking its own host: no visit of its own. */
	request(&f, "ads.tracker.example", "https://ads.tracker.example/frame", NULL, 100);
	/* Origin when there is no Referer. */
	request(&f, "api.shop.example", NULL, "https://shop.example", 100);
	close_fixture(&f);
	char got[1024];
	rows(visits_sql, got, sizeof got);
	assert_string_equal(got, "news.example|referer|www.news.example\n"
				 "shop.example|origin|shop.example\n");
	rows(sites_sql, got, sizeof got);
	assert_string_equal(got, "www.news.example|news.example\n"
				 "fonts.gstatic.com|news.example\n"
				 "ads.tracker.example|news.example\n"
				 "api.shop.example|shop.example\n");
}

static void test_headers_that_name_nothing(void **state)
{
	(void)state;
	char long_host[400];
	memset(long_host, 'a', sizeof long_host - 1);
	long_host[sizeof long_host - 1] = '\0';
	char long_url[420];
	snprintf(long_url, sizeof long_url, "http://%s/", long_host);
	const char *values[] = {
		"null",                 /* Origin of a sandboxed frame, a file: page */
		"news.example/page",    /* no scheme */
		"://news.example/",     /* no scheme name */
		"ht tp://news.example/", /* not a scheme */
		"http://",              /* no host */
		"http://:8080/",        /* a port, no host */
		"http://[]/",           /* an empty IPv6 literal */
		long_url,               /* a host longer than any name */
		"",
	};
	struct fixture f;
	open_fixture(&f);
	/* A tracker host, so that no navigation begins a visit either. */
	for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
		request(&f, "pixel.tracker.example", values[i], NULL, 10);
		request(&f, "pixel.tracker.example", NULL, values[i], 10);
	}
	close_fixture(&f);
	char got[4096];
	rows(visits_sql, got, sizeof got);
	assert_string_equal(got, "");
	rows("SELECT count(*) FROM sites", got, sizeof got);
	assert_string_equal(got, "0\n");
	rows("SELECT count(*) FROM timeline WHERE site IS NULL AND tracker", got, sizeof got);
	assert_string_equal(got, "18\n");
}

static void test_ipv6_literal(void **state)
{
	(void)state;
	struct fixture f;
	open_fixture(&f);
	request(&f, "2001:db8::1", "http://[2001:DB8::1]:8080/", NULL, 0);
	close_fixture(&f);
	char got[256];
	rows(visits_sql, got, sizeof got);
	assert_string_equal(got, "2001:db8::1|referer|2001:db8::1\n");
}

/* A cookie_sent of `name`=`value` to `host`, `gap_us` after the one before. */
static void cookie(struct fixture *f, const char *host, const char *name, const char *value,
		   unsigned gap_us)
{
	struct observation obs;
	observation(f, &obs, OBS_COOKIE_SENT, host, gap_us);
	obs.cookie_name = name;
	obs.cookie = value;
	assert_int_equal(timeline_observe(f->timeline, &obs), 0);
}

/* Rows stored for 6,000 cookies each sent twice within a second, their values made from `salt`. */
static long cookie_rows(const char *salt)
{
	struct fixture f;
	open_fixture(&f);
	char host[64], name[32], value[64];
	for (int round = 0; round < 2; round++)
		for (int i = 0; i < 6000; i++) {
			snprintf(host, sizeof host, "h%d.example", i % 97);
			snprintf(name, sizeof name, "c%d", i);
			snprintf(value, sizeof value, "%s-%d", salt, i);
			cookie(&f, host, name, value, 10);
		}
	close_fixture(&f);
	char out[64];
	rows("SELECT count(*) FROM observations", out, sizeof out);
	teardown(NULL);
	setup(NULL);
	return atol(out);
}

static void test_cookie_repeats_whatever_the_values(void **state)
{
	(void)state;
	/*
	 * Cookie values are keyed hashes, their key new with each database:
	 * which repeats are recognised (more cookies than the cache remembers)
	 * must not depend on them, or two runs of one capture keep different rows.
	 */
	long a = cookie_rows("x"), b = cookie_rows("yy"), c = cookie_rows("0123456789abcdef");
	assert_true(a >= 6000 && a < 12000);
	assert_int_equal(a, b);
	assert_int_equal(a, c);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	config_defaults(&config);
	matcher = matcher_new();
	int list = matcher_add_list(matcher, "test", "test", LIST_ABP, "Tracking");
	static const char rules[] = "||tracker.example^\n";
	struct parse_error err;
	if (!matcher || list < 0 || parse_abp(matcher, list, rules, sizeof rules - 1, &err) != 0 ||
	    matcher_finish(matcher) != 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_referer_begins_a_visit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_headers_that_name_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv6_literal, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cookie_repeats_whatever_the_values, setup, teardown),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);
	matcher_free(matcher);
	rmdir(dir);
	return failed;
}
