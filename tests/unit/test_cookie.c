/*
 * Unit tests for dissectors/cookie.c. Real headers first: the Cookie and
 * Set-Cookie headers of tests/data/browser-accept-http.pcap (a headless
 * Chromium session) and tests/data/jsonrpc.pcap, with the cookies tshark
 * lists for them (`tshark -r tests/data/browser-accept-http.pcap -Y http -T
 * fields -e http.cookie -e http.cookie_pair -e http.set_cookie`; tshark
 * joins a response's Set-Cookie headers with ',', they are separate here).
 * Then the edge cases of each function, the rules of the cookie-date
 * algorithm (RFC 6265 5.1.1) one by one, and the identifier heuristic on
 * real values.
 *
 * Every expected epoch value was computed independently when the test was
 * written, with GNU date: `date -u -d 'Wed, 21 Oct 2015 07:28:00 GMT' +%s`
 * (or `date -u -d '2069-11-06 08:49:37' +%s` where date cannot read the
 * text itself); the date string given with each is the one that was used.
 *
 * Every input is handed over in a heap copy of exactly its length, so that
 * ASan sees a read past it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../dissectors/cookie.h"

/* ---- helpers ------------------------------------------------------------ */

/* Heap copies of the inputs of one test, freed together. */
enum { MAX_COPIES = 256 };
static char *copies[MAX_COPIES];
static size_t copy_count;

static const char *copy_of(const char *s, size_t len)
{
	assert_true(copy_count < MAX_COPIES);
	char *p = malloc(len ? len : 1);
	assert_non_null(p);
	if (len)
		memcpy(p, s, len);
	copies[copy_count++] = p;
	return p;
}

static int free_copies(void **state)
{
	(void)state;
	for (size_t i = 0; i < copy_count; i++)
		free(copies[i]);
	copy_count = 0;
	return 0;
}

/* A span over a heap copy of the C string (its NUL not included). */
static struct cookie_span span_of(const char *s)
{
	size_t len = strlen(s);
	return (struct cookie_span){ copy_of(s, len), len };
}

#define assert_span(span, text) assert_span_bytes((span), (text), sizeof(text) - 1)

static void assert_span_bytes(struct cookie_span span, const char *text, size_t len)
{
	if (span.len != len || (len && memcmp(span.p, text, len) != 0)) {
		fail_msg("span \"%.*s\" (%zu bytes), expected \"%.*s\" (%zu bytes)", (int)span.len,
			 span.p ? span.p : "", span.len, (int)len, text, len);
	}
	assert_non_null(span.p);
}

/* The span lies inside [base, base+len). */
static void assert_inside(struct cookie_span span, const char *base, size_t len)
{
	assert_non_null(span.p);
	assert_true(span.p >= base && span.len <= len && (size_t)(span.p - base) <= len - span.len);
}

/* cookie_parse_list() on one header value. */
static size_t parse_one(const char *header, struct cookie_pair *out, size_t max,
			unsigned *malformed, unsigned *dropped)
{
	struct cookie_span span = span_of(header);
	size_t n = cookie_parse_list(&span, 1, out, max, malformed, dropped);
	for (size_t i = 0; i < n; i++) {
		assert_inside(out[i].name, span.p, span.len);
		assert_inside(out[i].value, span.p, span.len);
	}
	return n;
}

/* set_cookie_parse() on a heap copy of `len` bytes. */
static int parse_set_bytes(const char *header, size_t len, struct set_cookie *c)
{
	const char *copy = copy_of(header, len);
	int rc = set_cookie_parse(copy, len, c);
	if (c->name.p)
		assert_inside(c->name, copy, len);
	if (c->value.p)
		assert_inside(c->value, copy, len);
	if (c->domain.p)
		assert_inside(c->domain, copy, len);
	if (c->path.p)
		assert_inside(c->path, copy, len);
	return rc;
}

static int parse_set(const char *header, struct set_cookie *c)
{
	return parse_set_bytes(header, strlen(header), c);
}

static int parse_date_bytes(const char *text, size_t len, int64_t *out)
{
	return cookie_parse_date(copy_of(text, len), len, out);
}

static int64_t date_of(const char *text)
{
	int64_t t = INT64_C(0x7eadbeef);
	if (parse_date_bytes(text, strlen(text), &t) != 0)
		fail_msg("\"%s\" did not parse as a cookie-date", text);
	return t;
}

static void assert_no_date(const char *text)
{
	int64_t t = 12345;
	if (parse_date_bytes(text, strlen(text), &t) == 0)
		fail_msg("\"%s\" parsed as a cookie-date (%lld)", text, (long long)t);
	assert_int_equal(t, 12345); /* untouched */
}

static bool identifier_like(const char *value)
{
	size_t len = strlen(value);
	return cookie_value_identifier_like(copy_of(value, len), len);
}

/* ---- Cookie: real headers ----------------------------------------------- */

/* tshark's http.cookie_pair for each header: name=value. */
static void check_against_tshark(const char *header, const char *const *pairs, size_t count)
{
	struct cookie_pair out[32];
	unsigned malformed = 99, dropped = 99;
	size_t n = parse_one(header, out, 32, &malformed, &dropped);
	assert_int_equal(n, count);
	assert_int_equal(malformed, 0);
	assert_int_equal(dropped, 0);
	for (size_t i = 0; i < n; i++) {
		const char *want = pairs[i];
		const char *equals = strchr(want, '=');
		assert_non_null(equals);
		assert_true(out[i].has_equals);
		assert_span_bytes(out[i].name, want, (size_t)(equals - want));
		assert_span_bytes(out[i].value, equals + 1, strlen(equals + 1));
	}
}

static void test_cookie_capture(void **state)
{
	(void)state;
	/* browser-accept-http.pcap frame 267 */
	static const char header[] =
		"sessionid=221f6f8774001b07e8e4e929e31bbc5e; _ga=GA1.1.161761967.1795927229; "
		"_ga_NEWS0001=GS1.1.1795927229.1.1.1795927229.0.0.0; _ttp=sfcvolaa92jj296ozm7re; "
		"_tt_enable_cookie=1; __qca=P0-1461260186-1795927229165; "
		"s_vi=[CS]v1|0C39538326CF3906-B8B5D593F4DA0495[CE]; "
		"_fbp=fb.1.1795927229210.3447532729; "
		"_uetsid=0.08331354666147062|1a2b3c|2|fq6|0|1890; "
		"_uetvid=0.801874259051069|4d5e6f|1795927229221|1|1|bat.bing.com/p/insights/c/l";
	static const char *const pairs[] = {
		"sessionid=221f6f8774001b07e8e4e929e31bbc5e",
		"_ga=GA1.1.161761967.1795927229",
		"_ga_NEWS0001=GS1.1.1795927229.1.1.1795927229.0.0.0",
		"_ttp=sfcvolaa92jj296ozm7re",
		"_tt_enable_cookie=1",
		"__qca=P0-1461260186-1795927229165",
		"s_vi=[CS]v1|0C39538326CF3906-B8B5D593F4DA0495[CE]",
		"_fbp=fb.1.1795927229210.3447532729",
		"_uetsid=0.08331354666147062|1a2b3c|2|fq6|0|1890",
		"_uetvid=0.801874259051069|4d5e6f|1795927229221|1|1|bat.bing.com/p/insights/c/l",
	};
	check_against_tshark(header, pairs, sizeof pairs / sizeof pairs[0]);

	/* browser-accept-http.pcap frame 354 (after the consent click), shortened: the
	   OneTrust cookie has '=' and '&' inside its value, the Hotjar ones end in '='. */
	static const char after_consent[] =
		"OptanonAlertBoxClosed=2026-11-29T04:40:33.377Z; OptanonConsent=isGpcEnabled=0&"
		"datestamp=Sun%20Nov%2029%202026%2004%3A40%3A33%20GMT%2B0000%20(Coordinated%20Universal"
		"%20Time)&version=202409.1.0&browserGpcFlag=0&isIABGlobal=false&hosts=&consentId="
		"9894671753164742&interactionCount=1&isAnonUser=1&landingPath=NotLandingPage&groups="
		"C0001%3A1%2CC0002%3A1%2CC0003%3A1%2CC0004%3A1&intType=1&geolocation=DE%3BBY&"
		"AwaitingReconsent=false; _hjSessionUser_3456=eyJpZCI6IjAuOTA5NTI1MTQzMjA2ODcwMiIsImNy"
		"ZWF0ZWQiOjE3OTU5MjcyMzM0MDAsImV4aXN0aW5nIjpmYWxzZX0=";
	static const char *const after_pairs[] = {
		"OptanonAlertBoxClosed=2026-11-29T04:40:33.377Z",
		"OptanonConsent=isGpcEnabled=0&datestamp=Sun%20Nov%2029%202026%2004%3A40%3A33%20GMT"
		"%2B0000%20(Coordinated%20Universal%20Time)&version=202409.1.0&browserGpcFlag=0&"
		"isIABGlobal=false&hosts=&consentId=9894671753164742&interactionCount=1&isAnonUser=1&"
		"landingPath=NotLandingPage&groups=C0001%3A1%2CC0002%3A1%2CC0003%3A1%2CC0004%3A1&"
		"intType=1&geolocation=DE%3BBY&AwaitingReconsent=false",
		"_hjSessionUser_3456=eyJpZCI6IjAuOTA5NTI1MTQzMjA2ODcwMiIsImNyZWF0ZWQiOjE3OTU5MjcyMzM0"
		"MDAsImV4aXN0aW5nIjpmYWxzZX0=",
	};
	check_against_tshark(after_consent, after_pairs, 3);

	/* jsonrpc.pcap: PHP and Zabbix. */
	static const char zabbix[] =
		"PHPSESSID=hevg1p9b21l70jqd3od9pt0503; ui-tabs-1=4; ZBX_CONFIG=a%3A4%3A%7Bs%3A19%3A%22"
		"check_fields_result%22%3Bb%3A1%3Bs%3A4%3A%22step%22%3Bi%3A0%3Bs%3A5%3A%22agree%22%3Bb"
		"%3A0%3Bs%3A10%3A%22allowed_db%22%3Ba%3A1%3A%7Bs%3A5%3A%22MYSQL%22%3Bs%3A5%3A%22MySQL%22"
		"%3B%7D%7D; tab=4; zbx_sessionid=608917ce3dd5c681debca02b7757aba4";
	static const char *const zabbix_pairs[] = {
		"PHPSESSID=hevg1p9b21l70jqd3od9pt0503",
		"ui-tabs-1=4",
		"ZBX_CONFIG=a%3A4%3A%7Bs%3A19%3A%22check_fields_result%22%3Bb%3A1%3Bs%3A4%3A%22step"
		"%22%3Bi%3A0%3Bs%3A5%3A%22agree%22%3Bb%3A0%3Bs%3A10%3A%22allowed_db%22%3Ba%3A1%3A%7Bs"
		"%3A5%3A%22MYSQL%22%3Bs%3A5%3A%22MySQL%22%3B%7D%7D",
		"tab=4",
		"zbx_sessionid=608917ce3dd5c681debca02b7757aba4",
	};
	check_against_tshark(zabbix, zabbix_pairs, 5);
}

/* ---- Cookie: edge cases ------------------------------------------------- */

static void test_cookie_pairs(void **state)
{
	(void)state;
	struct cookie_pair out[8];
	unsigned malformed, dropped;

	assert_int_equal(parse_one("a=1; b=2", out, 8, &malformed, &dropped), 2);
	assert_span(out[0].name, "a");
	assert_span(out[0].value, "1");
	assert_span(out[1].name, "b");
	assert_span(out[1].value, "2");

	/* Spaces and tabs around names and values go, inside they stay. */
	assert_int_equal(parse_one(" \t a \t= 1 x\t;b\t=\t2 ", out, 8, &malformed, &dropped), 2);
	assert_span(out[0].name, "a");
	assert_span(out[0].value, "1 x");
	assert_span(out[1].name, "b");
	assert_span(out[1].value, "2");
	assert_int_equal(malformed, 0);

	/* Quotes are part of the value as sent; '=' after the first is value. */
	assert_int_equal(parse_one("q=\"x y\"; e=\"\"; a=b=c; d==", out, 8, &malformed, &dropped), 4);
	assert_span(out[0].value, "\"x y\"");
	assert_span(out[1].value, "\"\"");
	assert_span(out[2].name, "a");
	assert_span(out[2].value, "b=c");
	assert_span(out[3].name, "d");
	assert_span(out[3].value, "=");

	/* No '=': an empty name (browsers' nameless cookie). "=v": the same, with '='. */
	assert_int_equal(parse_one("justvalue; =v; n=", out, 8, &malformed, &dropped), 3);
	assert_span(out[0].name, "");
	assert_span(out[0].value, "justvalue");
	assert_false(out[0].has_equals);
	assert_span(out[1].name, "");
	assert_span(out[1].value, "v");
	assert_true(out[1].has_equals);
	assert_span(out[2].name, "n");
	assert_span(out[2].value, "");
	assert_true(out[2].has_equals);
	assert_int_equal(malformed, 0);

	/* Other bytes are data: ',', '\\', UTF-8, DEL's neighbour 0x80. */
	assert_int_equal(parse_one("a=x,y\\z; b=\xc3\xa9\x80", out, 8, &malformed, &dropped), 2);
	assert_span(out[0].value, "x,y\\z");
	assert_span(out[1].value, "\xc3\xa9\x80");
}

static void test_cookie_empty(void **state)
{
	(void)state;
	struct cookie_pair out[4];
	unsigned malformed = 7, dropped = 7;

	assert_int_equal(parse_one("", out, 4, &malformed, &dropped), 0);
	assert_int_equal(malformed, 0);
	assert_int_equal(dropped, 0);
	assert_int_equal(parse_one(" \t  ", out, 4, &malformed, &dropped), 0);
	assert_int_equal(malformed, 0);
	/* Empty crumbs are not malformed. */
	assert_int_equal(parse_one(";;; ; \t;", out, 4, &malformed, &dropped), 0);
	assert_int_equal(malformed, 0);
	assert_int_equal(parse_one("a=1;; b=2;", out, 4, &malformed, &dropped), 2);
	assert_int_equal(malformed, 0);
	assert_span(out[1].name, "b");

	/* No headers at all, NULL spans, NULL counters. */
	assert_int_equal(cookie_parse_list(NULL, 0, out, 4, &malformed, &dropped), 0);
	assert_int_equal(cookie_parse_list(NULL, 3, out, 4, NULL, NULL), 0);
	struct cookie_span absent[2] = { { NULL, 0 }, { NULL, 5 } };
	assert_int_equal(cookie_parse_list(absent, 2, out, 4, &malformed, &dropped), 0);
	assert_int_equal(malformed, 0);
	assert_int_equal(dropped, 0);
	struct cookie_span one = span_of("a=1");
	assert_int_equal(cookie_parse_list(&one, 1, out, 4, NULL, NULL), 1);
}

static void test_cookie_malformed(void **state)
{
	(void)state;
	struct cookie_pair out[8];
	unsigned malformed, dropped;

	/* "=": empty name and empty value. */
	assert_int_equal(parse_one("=", out, 8, &malformed, &dropped), 0);
	assert_int_equal(malformed, 1);
	assert_int_equal(parse_one("a=1; = ; \t=\t; b=2", out, 8, &malformed, &dropped), 2);
	assert_int_equal(malformed, 2);
	assert_span(out[0].name, "a");
	assert_span(out[1].name, "b");

	/* Control characters: the crumb goes, the others stay. HTAB is not one. */
	assert_int_equal(parse_one("a=1\x01; b=2; c\x1f=3; d=\x7f; e=x\ty", out, 8, &malformed,
				   &dropped), 2);
	assert_int_equal(malformed, 3);
	assert_span(out[0].name, "b");
	assert_span(out[1].name, "e");
	assert_span(out[1].value, "x\ty");
	assert_int_equal(parse_one("a=1\r\n; b=2", out, 8, &malformed, &dropped), 1);
	assert_int_equal(malformed, 1);
	assert_span(out[0].name, "b");

	/* NUL bytes are data of known length, not an end. */
	static const char nul[] = "a=\0x; b=2; \0; c=3";
	struct cookie_span span = { copy_of(nul, sizeof nul - 1), sizeof nul - 1 };
	assert_int_equal(cookie_parse_list(&span, 1, out, 8, &malformed, &dropped), 2);
	assert_int_equal(malformed, 2);
	assert_span(out[0].name, "b");
	assert_span(out[1].name, "c");
	assert_span(out[1].value, "3");
}

static void test_cookie_max(void **state)
{
	(void)state;
	/* 40 cookies, 3 malformed and 2 empty among them. */
	char header[1024];
	size_t len = 0;
	for (int i = 0; i < 40; i++)
		len += (size_t)snprintf(header + len, sizeof header - len, "c%d=%d; ", i, i);
	len += (size_t)snprintf(header + len, sizeof header - len, "=; =; \x01; ;");
	struct cookie_pair out[32];
	unsigned malformed = 0, dropped = 0;
	assert_int_equal(parse_one(header, out, 32, &malformed, &dropped), 32);
	assert_int_equal(dropped, 8);
	assert_int_equal(malformed, 3);
	assert_span(out[31].name, "c31");
	assert_span(out[31].value, "31");

	/* max 0: everything dropped, out not touched (may be NULL). */
	assert_int_equal(parse_one(header, NULL, 0, &malformed, &dropped), 0);
	assert_int_equal(dropped, 40);
	assert_int_equal(malformed, 3);
	assert_int_equal(parse_one("a=1; b=2", out, 1, NULL, &dropped), 1);
	assert_int_equal(dropped, 1);
}

/* HTTP/2 and HTTP/3: one field per cookie, or several per field. */
static void test_cookie_http2_list(void **state)
{
	(void)state;
	struct cookie_span fields[6] = {
		span_of("sessionid=221f6f8774001b07e8e4e929e31bbc5e"),
		span_of("_ga=GA1.1.161761967.1795927229"),
		span_of("a=1; b=2"),
		span_of(""),
		span_of(" ; "),
		span_of("_ttp=sfcvolaa92jj296ozm7re"),
	};
	struct cookie_pair out[8];
	unsigned malformed = 9, dropped = 9;
	assert_int_equal(cookie_parse_list(fields, 6, out, 8, &malformed, &dropped), 5);
	assert_int_equal(malformed, 0);
	assert_int_equal(dropped, 0);
	assert_span(out[0].name, "sessionid");
	assert_span(out[1].value, "GA1.1.161761967.1795927229");
	assert_span(out[2].name, "a");
	assert_span(out[3].name, "b");
	assert_span(out[4].name, "_ttp");
	for (int i = 0; i < 5; i++)
		assert_true(out[i].has_equals);

	/* A crumb never runs from one field into the next. */
	struct cookie_span split[2] = { span_of("name"), span_of("=value") };
	assert_int_equal(cookie_parse_list(split, 2, out, 8, &malformed, &dropped), 2);
	assert_span(out[0].name, "");
	assert_span(out[0].value, "name");
	assert_false(out[0].has_equals);
	assert_span(out[1].name, "");
	assert_span(out[1].value, "value");

	/* The bound runs over all fields. */
	assert_int_equal(cookie_parse_list(fields, 6, out, 3, &malformed, &dropped), 3);
	assert_int_equal(dropped, 2);
}

/* ---- Set-Cookie: real headers ------------------------------------------- */

static void test_set_cookie_capture(void **state)
{
	(void)state;
	struct set_cookie c;

	/* browser-accept-http.pcap frame 38 */
	assert_int_equal(parse_set("sessionid=221f6f8774001b07e8e4e929e31bbc5e; Path=/; HttpOnly", &c), 0);
	assert_span(c.name, "sessionid");
	assert_span(c.value, "221f6f8774001b07e8e4e929e31bbc5e");
	assert_span(c.path, "/");
	assert_null(c.domain.p);
	assert_true(c.http_only);
	assert_false(c.secure);
	assert_false(c.has_max_age);
	assert_false(c.has_expires);
	assert_int_equal(c.same_site, COOKIE_SAME_SITE_UNSET);
	assert_int_equal(c.malformed, 0);
	assert_int_equal(c.unknown, 0);
	assert_int_equal(set_cookie_lifetime(&c, 1795927229), -1);

	/* frame 175; date -u -d 'Fri, 24 Dec 2027 04:40:29 GMT' +%s = 1829623229 */
	assert_int_equal(parse_set("_ttp=IFG7MPvzs_AmPQ8yYXe4iXtlVLRtXixs; Path=/; Domain=.tiktok.com; "
				   "Max-Age=33696000; Expires=Fri, 24 Dec 2027 04:40:29 GMT", &c), 0);
	assert_span(c.name, "_ttp");
	assert_span(c.value, "IFG7MPvzs_AmPQ8yYXe4iXtlVLRtXixs");
	assert_span(c.domain, ".tiktok.com");
	assert_span(c.path, "/");
	assert_true(c.has_max_age);
	assert_int_equal(c.max_age, 33696000);
	assert_true(c.has_expires);
	assert_int_equal(c.expires, 1829623229);
	assert_int_equal(c.malformed, 0);
	/* Max-Age wins; here both say the same from the response's time. */
	assert_int_equal(set_cookie_lifetime(&c, 1795927229), 33696000);
	assert_int_equal(1829623229 - 1795927229, 33696000);

	/* frame 215: brackets and '|' in the value; date -u -d 'Tue, 28 Nov 2028 04:40:29 GMT' +%s */
	assert_int_equal(parse_set("s_vi=[CS]v1|0C39538326CF3906-B8B5D593F4DA0495[CE]; Path=/; "
				   "Domain=.news.example; Max-Age=63072000; "
				   "Expires=Tue, 28 Nov 2028 04:40:29 GMT", &c), 0);
	assert_span(c.value, "[CS]v1|0C39538326CF3906-B8B5D593F4DA0495[CE]");
	assert_span(c.domain, ".news.example");
	assert_int_equal(c.max_age, 63072000);
	assert_int_equal(c.expires, 1858999229);

	/* frame 339, the first of two (tshark shows them joined by ','); 1829623233 is
	   date -u -d 'Fri, 24 Dec 2027 04:40:33 GMT' +%s */
	assert_int_equal(parse_set("IDE=HX_dgI_40vK9bcKnc9z33SUlBPFMTQEt; Path=/; Domain=.doubleclick.net; "
				   "Max-Age=33696000; Expires=Fri, 24 Dec 2027 04:40:33 GMT; HttpOnly", &c), 0);
	assert_span(c.name, "IDE");
	assert_span(c.domain, ".doubleclick.net");
	assert_int_equal(c.expires, 1829623233);
	assert_true(c.http_only);
	/* ... and the second; date -u -d 'Sun, 29 Nov 2026 04:55:33 GMT' +%s = 1795928133 */
	assert_int_equal(parse_set("test_cookie=CheckForPermission; Path=/; Domain=.doubleclick.net; "
				   "Max-Age=900; Expires=Sun, 29 Nov 2026 04:55:33 GMT", &c), 0);
	assert_span(c.value, "CheckForPermission");
	assert_int_equal(c.max_age, 900);
	assert_int_equal(c.expires, 1795928133);

	/* frame 341: a uuid from criteo */
	assert_int_equal(parse_set("uid=9322fc31-8efb-4779-bcb0-c07163a4db71; Path=/; Domain=.criteo.com; "
				   "Max-Age=33696000; Expires=Fri, 24 Dec 2027 04:40:33 GMT", &c), 0);
	assert_span(c.value, "9322fc31-8efb-4779-bcb0-c07163a4db71");
	assert_span(c.domain, ".criteo.com");

	/* browser-reject-http.pcap frame 289, the first of two: a decimal id;
	   date -u -d 'Sat, 27 Feb 2027 04:40:52 GMT' +%s = 1803703252 */
	assert_int_equal(parse_set("uuid2=3400336412483737628; Path=/; Domain=.adnxs.com; "
				   "Max-Age=7776000; Expires=Sat, 27 Feb 2027 04:40:52 GMT", &c), 0);
	assert_span(c.name, "uuid2");
	assert_span(c.value, "3400336412483737628");
	assert_span(c.domain, ".adnxs.com");
	assert_int_equal(c.max_age, 7776000);
	assert_int_equal(c.expires, 1803703252);
	assert_true(cookie_value_identifier_like(c.value.p, c.value.len));
	/* ... frame 226, the second of two: a timestamp, not an identifier. */
	assert_int_equal(parse_set("UIDR=1795927248; Path=/; Domain=.scorecardresearch.com; "
				   "Max-Age=63072000; Expires=Tue, 28 Nov 2028 04:40:48 GMT", &c), 0);
	assert_span(c.value, "1795927248");
	assert_false(cookie_value_identifier_like(c.value.p, c.value.len));

	/* jsonrpc.pcap: lower-case attribute, RFC 850 style date with '-';
	   date -u -d 'Fri, 30 Jan 2015 17:43:51 GMT' +%s = 1422639831 */
	assert_int_equal(parse_set("zbx_sessionid=608917ce3dd5c681debca02b7757aba4; "
				   "expires=Fri, 30-Jan-2015 17:43:51 GMT", &c), 0);
	assert_span(c.name, "zbx_sessionid");
	assert_true(c.has_expires);
	assert_int_equal(c.expires, 1422639831);
	assert_null(c.path.p);
	assert_int_equal(set_cookie_lifetime(&c, 1422639831 - 60), 60);
	assert_int_equal(set_cookie_lifetime(&c, 1795927229), 0); /* long gone: deletes */
}

/* ---- Set-Cookie: the name-value pair ------------------------------------ */

static void test_set_cookie_pair(void **state)
{
	(void)state;
	struct set_cookie c;

	assert_int_equal(parse_set(" \t a \t= b c \t; Path=/", &c), 0);
	assert_span(c.name, "a");
	assert_span(c.value, "b c");
	assert_int_equal(parse_set("a=b=c", &c), 0);
	assert_span(c.name, "a");
	assert_span(c.value, "b=c");
	assert_int_equal(parse_set("a=\"quoted; value\"", &c), 0); /* ';' ends it, quotes or not */
	assert_span(c.value, "\"quoted");
	assert_int_equal(parse_set("a=\"x\"", &c), 0);
	assert_span(c.value, "\"x\"");
	assert_int_equal(parse_set("a=", &c), 0);
	assert_span(c.name, "a");
	assert_span(c.value, "");

	/* 6265bis: no '=' is a cookie with an empty name. */
	assert_int_equal(parse_set("nameless; Secure", &c), 0);
	assert_span(c.name, "");
	assert_span(c.value, "nameless");
	assert_true(c.secure);
	assert_int_equal(parse_set("=v", &c), 0);
	assert_span(c.name, "");
	assert_span(c.value, "v");

	/* Ignored as a whole: empty name and value; out still filled. */
	assert_int_equal(parse_set("", &c), -1);
	assert_int_equal(set_cookie_parse(NULL, 0, &c), -1);
	assert_int_equal(parse_set("   ", &c), -1);
	assert_int_equal(parse_set("=", &c), -1);
	assert_int_equal(parse_set(" = ; Path=/", &c), -1);
	assert_span(c.path, "/");
	/* A header of attributes only. */
	assert_int_equal(parse_set("; Secure", &c), -1);
	assert_true(c.secure);
	assert_int_equal(parse_set("; Secure; HttpOnly; Max-Age=5; Domain=x.example", &c), -1);
	assert_true(c.secure);
	assert_true(c.http_only);
	assert_int_equal(c.max_age, 5);
	assert_span(c.domain, "x.example");
}

static void test_set_cookie_control_characters(void **state)
{
	(void)state;
	struct set_cookie c;

	assert_int_equal(parse_set("a=b\x01", &c), -1);
	assert_span(c.name, "a");
	assert_int_equal(parse_set("a\x7f=b", &c), -1);
	assert_int_equal(parse_set("a=b\r\nSet-Cookie: x=y", &c), -1);
	static const char nul[] = "a=b\0c; Path=/";
	assert_int_equal(parse_set_bytes(nul, sizeof nul - 1, &c), -1);
	assert_span_bytes(c.value, "b\0c", 3);
	assert_span(c.path, "/");
	/* HTAB is whitespace, not a control character. */
	assert_int_equal(parse_set("a=b\tc\t; Path=/", &c), 0);
	assert_span(c.value, "b\tc");
	/* 6265bis: a control character anywhere in the header ignores it all; the
	   attribute that holds it is not taken. */
	static const char in_attribute[] = "a=b; Path=/x\0y; Secure";
	assert_int_equal(parse_set_bytes(in_attribute, sizeof in_attribute - 1, &c), -1);
	assert_null(c.path.p);
	assert_true(c.secure);
	assert_int_equal(c.malformed, 1);
	assert_int_equal(parse_set("a=b; Foo=\x1b[31m", &c), -1);
}

static void test_set_cookie_size_limits(void **state)
{
	(void)state;
	struct set_cookie c;
	char *h = malloc(COOKIE_NAME_VALUE_MAX + 2048);
	assert_non_null(h);

	/* name + value of 4096 bytes: kept; 4097: ignored. */
	memset(h, 'v', COOKIE_NAME_VALUE_MAX + 2);
	memcpy(h, "n=", 2);
	assert_int_equal(parse_set_bytes(h, COOKIE_NAME_VALUE_MAX + 1, &c), 0);
	assert_int_equal(c.name.len + c.value.len, COOKIE_NAME_VALUE_MAX);
	assert_int_equal(parse_set_bytes(h, COOKIE_NAME_VALUE_MAX + 2, &c), -1);
	assert_int_equal(c.value.len, COOKIE_NAME_VALUE_MAX);

	/* An attribute value of 1024 bytes is kept, of 1025 ignored (and counted); the
	   earlier Path stays. */
	size_t len = (size_t)sprintf(h, "a=b; Path=/first; Path=/");
	memset(h + len, 'p', COOKIE_ATTRIBUTE_VALUE_MAX - 1);
	len += COOKIE_ATTRIBUTE_VALUE_MAX - 1;
	assert_int_equal(parse_set_bytes(h, len, &c), 0);
	assert_int_equal(c.path.len, COOKIE_ATTRIBUTE_VALUE_MAX);
	assert_int_equal(c.malformed, 0);
	h[len++] = 'p';
	assert_int_equal(parse_set_bytes(h, len, &c), 0);
	assert_span(c.path, "/first");
	assert_int_equal(c.malformed, 1);
	/* The bound is on the trimmed value, and applies to unknown names too. */
	len = (size_t)sprintf(h, "a=b; X=");
	memset(h + len, 'x', COOKIE_ATTRIBUTE_VALUE_MAX + 1);
	len += COOKIE_ATTRIBUTE_VALUE_MAX + 1;
	assert_int_equal(parse_set_bytes(h, len, &c), 0);
	assert_int_equal(c.malformed, 1);
	assert_int_equal(c.unknown, 0);
	len = (size_t)sprintf(h, "a=b; Max-Age=   ");
	memset(h + len, '1', COOKIE_ATTRIBUTE_VALUE_MAX);
	len += COOKIE_ATTRIBUTE_VALUE_MAX;
	h[len++] = ' ';
	assert_int_equal(parse_set_bytes(h, len, &c), 0);
	assert_true(c.has_max_age);
	assert_int_equal(c.max_age, INT64_MAX);
	free(h);
}

/* ---- Set-Cookie: attributes ---------------------------------------------- */

static void test_set_cookie_attribute_case(void **state)
{
	(void)state;
	struct set_cookie c;
	/* date -u -d 'Wed, 21 Oct 2015 07:28:00 GMT' +%s = 1445412480 */
	assert_int_equal(parse_set("a=b; SECURE; httponly; PaRtItIoNeD; pAtH=/x; DOMAIN=.Example.COM; "
				   "max-AGE=5; EXPIRES=Wed, 21 Oct 2015 07:28:00 GMT; samesite=none", &c), 0);
	assert_true(c.secure);
	assert_true(c.http_only);
	assert_true(c.partitioned);
	assert_span(c.path, "/x");
	assert_span(c.domain, ".Example.COM"); /* as sent: the dot and the case */
	assert_true(c.has_max_age);
	assert_int_equal(c.max_age, 5);
	assert_int_equal(c.expires, 1445412480);
	assert_int_equal(c.same_site, COOKIE_SAME_SITE_NONE);
	assert_int_equal(c.malformed, 0);
	assert_int_equal(c.unknown, 0);

	/* Spaces around attribute names, '=' and values. */
	assert_int_equal(parse_set("a=b;Path = /y ;\tDomain\t=\t x.example \t;  Secure  ", &c), 0);
	assert_span(c.path, "/y");
	assert_span(c.domain, "x.example");
	assert_true(c.secure);
	/* A value after a flag is ignored; the flag is set. */
	assert_int_equal(parse_set("a=b; Secure=no; HttpOnly=false; Partitioned=0", &c), 0);
	assert_true(c.secure);
	assert_true(c.http_only);
	assert_true(c.partitioned);
	assert_int_equal(c.malformed, 0);
	/* Names are matched whole. */
	assert_int_equal(parse_set("a=b; Securely; Path2=/; Max-Ages=1; Expire=x", &c), 0);
	assert_false(c.secure);
	assert_null(c.path.p);
	assert_false(c.has_max_age);
	assert_int_equal(c.unknown, 4);
	assert_int_equal(c.malformed, 0);
}

static void test_set_cookie_repeated(void **state)
{
	(void)state;
	struct set_cookie c;
	assert_int_equal(parse_set("a=b; Path=/a; Path=/b; Domain=one.example; Domain=two.example", &c), 0);
	assert_span(c.path, "/b");
	assert_span(c.domain, "two.example");
	assert_int_equal(parse_set("a=b; Max-Age=5; Max-Age=7", &c), 0);
	assert_int_equal(c.max_age, 7);
	/* An attribute that is ignored replaces nothing. */
	assert_int_equal(parse_set("a=b; Max-Age=5; Max-Age=x", &c), 0);
	assert_int_equal(c.max_age, 5);
	assert_int_equal(c.malformed, 1);
	assert_int_equal(parse_set("a=b; Expires=Wed, 21 Oct 2015 07:28:00 GMT; Expires=junk", &c), 0);
	assert_int_equal(c.expires, 1445412480);
	assert_int_equal(c.malformed, 1);
	assert_int_equal(parse_set("a=b; Domain=one.example; Domain=", &c), 0);
	assert_span(c.domain, "one.example");
	assert_int_equal(c.malformed, 1);
	/* An empty Path is a Path (the browser then uses the default path). */
	assert_int_equal(parse_set("a=b; Path=/a; Path=", &c), 0);
	assert_span(c.path, "");
	assert_int_equal(c.malformed, 0);
	/* SameSite: any value is taken, a bad one as "invalid" (browsers: Lax). */
	assert_int_equal(parse_set("a=b; SameSite=Lax; SameSite=bogus", &c), 0);
	assert_int_equal(c.same_site, COOKIE_SAME_SITE_INVALID);
	assert_int_equal(c.malformed, 1);
	assert_int_equal(parse_set("a=b; SameSite=bogus; SameSite=Strict", &c), 0);
	assert_int_equal(c.same_site, COOKIE_SAME_SITE_STRICT);
	assert_int_equal(c.malformed, 1);
}

static void test_set_cookie_max_age(void **state)
{
	(void)state;
	static const struct {
		const char *value;
		bool parses;
		int64_t seconds;
	} cases[] = {
		{ "0", true, 0 },
		{ "1", true, 1 },
		{ "007", true, 7 },
		{ "-1", true, -1 },
		{ "-0", true, 0 },
		{ "  42  ", true, 42 },
		{ "9223372036854775807", true, INT64_MAX },
		{ "9223372036854775808", true, INT64_MAX },
		{ "99999999999999999999999999999999", true, INT64_MAX },
		{ "-9223372036854775808", true, INT64_MIN },
		{ "-9223372036854775809", true, INT64_MIN },
		{ "-99999999999999999999999999999999", true, INT64_MIN },
		{ "+5", false, 0 },
		{ "5a", false, 0 },
		{ "99999999999999999999999x", false, 0 },
		{ "", false, 0 },
		{ "-", false, 0 },
		{ "--1", false, 0 },
		{ "5.0", false, 0 },
		{ "1e3", false, 0 },
		{ "5 5", false, 0 },
		{ "50,399", false, 0 },
		{ "\"5\"", false, 0 },
		{ "0x10", false, 0 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char header[128];
		snprintf(header, sizeof header, "a=b; Max-Age=%s", cases[i].value);
		struct set_cookie c;
		assert_int_equal(parse_set(header, &c), 0);
		if (c.has_max_age != cases[i].parses)
			fail_msg("Max-Age=%s: has_max_age %d", cases[i].value, c.has_max_age);
		assert_int_equal(c.malformed, cases[i].parses ? 0 : 1);
		if (cases[i].parses) {
			assert_int_equal(c.max_age, cases[i].seconds);
			assert_int_equal(set_cookie_lifetime(&c, 1795927229),
					 cases[i].seconds > 0 ? cases[i].seconds : 0);
		} else {
			assert_int_equal(set_cookie_lifetime(&c, 1795927229), -1);
		}
	}
	/* "Max-Age" with no '=' at all. */
	struct set_cookie c;
	assert_int_equal(parse_set("a=b; Max-Age", &c), 0);
	assert_false(c.has_max_age);
	assert_int_equal(c.malformed, 1);
}

static void test_set_cookie_domain_path(void **state)
{
	(void)state;
	struct set_cookie c;
	assert_int_equal(parse_set("a=b; Domain=.Example.COM", &c), 0);
	assert_span(c.domain, ".Example.COM");
	assert_int_equal(parse_set("a=b; Domain=  .x.example  ", &c), 0);
	assert_span(c.domain, ".x.example");
	/* Empty Domain: ignored (host-only), counted. */
	assert_int_equal(parse_set("a=b; Domain=", &c), 0);
	assert_null(c.domain.p);
	assert_int_equal(c.malformed, 1);
	assert_int_equal(parse_set("a=b; Domain", &c), 0);
	assert_null(c.domain.p);
	assert_int_equal(c.malformed, 1);
	assert_int_equal(parse_set("a=b; Domain= \t ", &c), 0);
	assert_null(c.domain.p);
	/* A Domain of only a dot is not empty as sent: the browser then has "". */
	assert_int_equal(parse_set("a=b; Domain=.", &c), 0);
	assert_span(c.domain, ".");
	/* Path as sent, '/'-less too. */
	assert_int_equal(parse_set("a=b; Path=relative/x", &c), 0);
	assert_span(c.path, "relative/x");
	assert_int_equal(parse_set("a=b; Path", &c), 0);
	assert_span(c.path, "");
	assert_int_equal(parse_set("a=b; Path=/a=b", &c), 0);
	assert_span(c.path, "/a=b");
}

static void test_set_cookie_same_site(void **state)
{
	(void)state;
	static const struct {
		const char *header;
		enum cookie_same_site same_site;
		unsigned malformed;
	} cases[] = {
		{ "a=b", COOKIE_SAME_SITE_UNSET, 0 },
		{ "a=b; SameSite=none", COOKIE_SAME_SITE_NONE, 0 },
		{ "a=b; SameSite=None", COOKIE_SAME_SITE_NONE, 0 },
		{ "a=b; SameSite=lax", COOKIE_SAME_SITE_LAX, 0 },
		{ "a=b; samesite=LAX", COOKIE_SAME_SITE_LAX, 0 },
		{ "a=b; SameSite=STRICT", COOKIE_SAME_SITE_STRICT, 0 },
		{ "a=b; SAMESITE = Strict ", COOKIE_SAME_SITE_STRICT, 0 },
		{ "a=b; SameSite=bogus", COOKIE_SAME_SITE_INVALID, 1 },
		{ "a=b; SameSite=", COOKIE_SAME_SITE_INVALID, 1 },
		{ "a=b; SameSite", COOKIE_SAME_SITE_INVALID, 1 },
		{ "a=b; SameSite=Lax2", COOKIE_SAME_SITE_INVALID, 1 },
		{ "a=b; SameSite=\"Lax\"", COOKIE_SAME_SITE_INVALID, 1 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct set_cookie c;
		assert_int_equal(parse_set(cases[i].header, &c), 0);
		if (c.same_site != cases[i].same_site || c.malformed != cases[i].malformed)
			fail_msg("%s: same_site %d malformed %u", cases[i].header, c.same_site,
				 c.malformed);
	}
	struct set_cookie c;
	assert_int_equal(parse_set("__Host-id=1; Secure; Path=/; SameSite=None; Partitioned", &c), 0);
	assert_true(c.partitioned);
	assert_true(c.secure);
	assert_int_equal(c.same_site, COOKIE_SAME_SITE_NONE);
	assert_int_equal(parse_set("a=b; Secure", &c), 0);
	assert_false(c.partitioned);
}

static void test_set_cookie_unknown_and_empty(void **state)
{
	(void)state;
	struct set_cookie c;
	assert_int_equal(parse_set("a=b; Foo=bar; Comment=x; Version=1; Priority=High", &c), 0);
	assert_int_equal(c.unknown, 4);
	assert_int_equal(c.malformed, 0);
	/* An attribute with an empty name is unknown. */
	assert_int_equal(parse_set("a=b; =foo; =", &c), 0);
	assert_int_equal(c.unknown, 2);
	/* Empty attributes are nothing at all: a trailing ';' is common. */
	assert_int_equal(parse_set("a=b;;; ; \t;", &c), 0);
	assert_int_equal(c.unknown, 0);
	assert_int_equal(c.malformed, 0);
	assert_int_equal(parse_set("a=b; Path=/;", &c), 0);
	assert_span(c.path, "/");
	assert_int_equal(c.unknown, 0);
	/* Set-Cookie is not folded on ',': the Expires date holds one. */
	assert_int_equal(parse_set("a=b; Expires=Wed, 21 Oct 2015 07:28:00 GMT, c=d", &c), 0);
	assert_int_equal(c.expires, 1445412480);
}

static void test_set_cookie_expires(void **state)
{
	(void)state;
	struct set_cookie c;
	assert_int_equal(parse_set("a=b; Expires=Thu, 01 Jan 1970 00:00:00 GMT", &c), 0);
	assert_true(c.has_expires);
	assert_int_equal(c.expires, 0);
	assert_int_equal(set_cookie_lifetime(&c, 1795927229), 0);
	assert_int_equal(parse_set("a=b; Expires=", &c), 0);
	assert_false(c.has_expires);
	assert_int_equal(c.malformed, 1);
	assert_int_equal(parse_set("a=b; Expires=tomorrow", &c), 0);
	assert_false(c.has_expires);
	assert_int_equal(c.malformed, 1);
	assert_int_equal(parse_set("a=b; Expires=Wed, 30 Feb 2015 07:28:00 GMT", &c), 0);
	assert_false(c.has_expires);
	assert_int_equal(c.malformed, 1);
}

static void test_set_cookie_lifetime(void **state)
{
	(void)state;
	struct set_cookie c;
	const int64_t now = 1795927229; /* the capture's time */

	assert_int_equal(parse_set("a=b", &c), 0);
	assert_int_equal(set_cookie_lifetime(&c, now), -1);
	/* Max-Age wins over Expires, whatever their order. */
	assert_int_equal(parse_set("a=b; Max-Age=60; Expires=Thu, 01 Jan 1970 00:00:01 GMT", &c), 0);
	assert_int_equal(set_cookie_lifetime(&c, now), 60);
	assert_int_equal(parse_set("a=b; Expires=Thu, 01 Jan 1970 00:00:01 GMT; Max-Age=60", &c), 0);
	assert_int_equal(set_cookie_lifetime(&c, now), 60);
	assert_int_equal(parse_set("a=b; Max-Age=0; Expires=Fri, 24 Dec 2027 04:40:29 GMT", &c), 0);
	assert_int_equal(set_cookie_lifetime(&c, now), 0);
	assert_int_equal(parse_set("a=b; Max-Age=-5", &c), 0);
	assert_int_equal(set_cookie_lifetime(&c, now), 0);
	/* Expires: relative to now; not after now deletes. 1829623229 as above. */
	assert_int_equal(parse_set("a=b; Expires=Fri, 24 Dec 2027 04:40:29 GMT", &c), 0);
	assert_int_equal(set_cookie_lifetime(&c, now), 1829623229 - now);
	assert_int_equal(set_cookie_lifetime(&c, 1829623229), 0);
	assert_int_equal(set_cookie_lifetime(&c, 1829623228), 1);
	/* No overflow for any `now`. */
	assert_int_equal(set_cookie_lifetime(&c, INT64_MIN), INT64_MAX);
	assert_int_equal(set_cookie_lifetime(&c, INT64_MAX), 0);
	assert_int_equal(set_cookie_lifetime(&c, -1000), 1829623229 + 1000);
	/* Not capped at 400 days: the server's request is what we report. */
	assert_int_equal(parse_set("a=b; Max-Age=63072000", &c), 0);
	assert_int_equal(set_cookie_lifetime(&c, now), 63072000);
	assert_int_equal(parse_set("a=b; Max-Age=99999999999999999999", &c), 0);
	assert_int_equal(set_cookie_lifetime(&c, now), INT64_MAX);
}

/* ---- cookie-date --------------------------------------------------------- */

static void test_date_real_world(void **state)
{
	(void)state;
	/* Expected values: date -u -d '<the date in the comment>' +%s, run by hand. */
	static const struct {
		const char *text;
		int64_t epoch;
	} cases[] = {
		/* 'Wed, 21 Oct 2015 07:28:00 GMT' (RFC 7231 IMF-fixdate) */
		{ "Wed, 21 Oct 2015 07:28:00 GMT", 1445412480 },
		/* 'Mon, 03 Jan 2028 04:40:29 GMT' */
		{ "Mon, 03 Jan 2028 04:40:29 GMT", 1830487229 },
		/* 'Sun, 06 Nov 1994 08:49:37 GMT': RFC 850 and asctime forms of the same */
		{ "Sunday, 06-Nov-94 08:49:37 GMT", 784111777 },
		{ "Sun Nov  6 08:49:37 1994", 784111777 },
		{ "Sun, 06 Nov 1994 08:49:37 GMT", 784111777 },
		/* 'Thu, 01 Jan 1970 00:00:01 GMT' */
		{ "Thu, 01-Jan-1970 00:00:01 GMT", 1 },
		{ "Thu, 01 Jan 1970 00:00:00 GMT", 0 },
		/* 'Fri, 30 Jan 2015 17:43:51 GMT' (jsonrpc.pcap) */
		{ "Fri, 30-Jan-2015 17:43:51 GMT", 1422639831 },
		/* 'Fri, 24 Dec 2027 04:40:29 GMT' (browser-accept-http.pcap) */
		{ "Fri, 24 Dec 2027 04:40:29 GMT", 1829623229 },
		/* 'Tue, 28 Nov 2028 04:40:29 GMT' */
		{ "Tue, 28 Nov 2028 04:40:29 GMT", 1858999229 },
		/* '1969-12-31 23:59:59': before the epoch */
		{ "Wed, 31 Dec 1969 23:59:59 GMT", -1 },
		/* '2000-02-29 00:00:00': a leap day of a year divisible by 400 */
		{ "Tue, 29 Feb 2000 00:00:00 GMT", 951782400 },
		/* '2024-02-29 00:00:00' */
		{ "Thu, 29 Feb 2024 00:00:00 GMT", 1709164800 },
		/* '2100-03-01 00:00:00': after the 29th of February 2100 that is not */
		{ "Mon, 01 Mar 2100 00:00:00 GMT", 4107542400 },
		/* '1900-03-01 00:00:00' */
		{ "Thu, 01 Mar 1900 00:00:00 GMT", -2203891200 },
		/* '1601-01-01 00:00:00': the first year allowed */
		{ "Mon, 01 Jan 1601 00:00:00 GMT", INT64_C(-11644473600) },
		/* '9999-12-31 23:59:59': the last four-digit year */
		{ "Fri, 31 Dec 9999 23:59:59 GMT", INT64_C(253402300799) },
		/* '2069-11-06 08:49:37' and '1970-11-06 08:49:37': the two-digit year rule */
		{ "Wed, 06-Nov-69 08:49:37 GMT", INT64_C(3150953377) },
		{ "Fri, 06-Nov-70 08:49:37 GMT", 26729377 },
		/* '2000-11-06 08:49:37', '1999-11-06 08:49:37' */
		{ "Mon, 06-Nov-00 08:49:37 GMT", 973500577 },
		{ "Sat, 06-Nov-99 08:49:37 GMT", 941878177 },
		/* The weekday is not checked; the zone is not read: always UTC. */
		{ "Xyz, 21 Oct 2015 07:28:00 GMT", 1445412480 },
		{ "Wed, 21 Oct 2015 07:28:00 +0200", 1445412480 },
		{ "Wed, 21 Oct 2015 07:28:00 PST", 1445412480 },
		/* Odd but real: no weekday, other orders, long month names, lower case,
		   single-digit time fields, no seconds' leading zero, odd delimiters. */
		{ "21 Oct 2015 07:28:00", 1445412480 },
		{ "2015 Oct 21 07:28:00", 1445412480 },
		{ "07:28:00 21 October 2015", 1445412480 },
		{ "wed, 21 oct 2015 07:28:00 gmt", 1445412480 },
		{ "WED, 21 OCT 2015 07:28:00 GMT", 1445412480 },
		{ "Wed,21-Oct-2015 7:28:0 GMT", 1445412480 },
		{ "Wed;21/Oct/2015|07:28:00", 1445412480 },
		{ "Wednesday, 21-October-2015 07:28:00 UTC", 1445412480 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int64_t t = date_of(cases[i].text);
		if (t != cases[i].epoch)
			fail_msg("\"%s\": %lld, expected %lld", cases[i].text, (long long)t,
				 (long long)cases[i].epoch);
	}
}

static void test_date_rules(void **state)
{
	(void)state;
	/* Each token takes the first production it matches that is not yet found,
	   in the order time, day of month, month, year. 1994-11-01 08:49:37 is
	   783679777 (date -u -d '1994-11-01 08:49:37' +%s). */
	assert_int_equal(date_of("1 2 Nov 1994 08:49:37"), 783679777);
	/* A second time: "10:00:01" is a day of month (1*2DIGIT, then a non-digit);
	   '1994-11-10 10:00:00' is 784461600. */
	assert_int_equal(date_of("Nov 1994 10:00:00 10:00:01"), 784461600);
	/* The first year wins: 94 then 1995. */
	assert_int_equal(date_of("06 Nov 94 1995 08:49:37"), 784111777);
	/* Trailing non-digits are allowed after each number, and a month is any
	   token that starts with one. */
	assert_int_equal(date_of("06th Novembre 1994AD 08:49:37Z"), 784111777);
	assert_int_equal(date_of("06 Nov 1994 08:49:37:99"), 784111777);
	/* Years of 3 digits, and leading zeros: the value decides (094 is 94). */
	assert_int_equal(date_of("06 Nov 094 08:49:37"), 784111777);
	assert_int_equal(date_of("06 Nov 0070 08:49:37"), 26729377);
	/* NUL and other controls are not delimiters: "1994\0" is a year with a tail. */
	static const char nul[] = "Sun, 06 Nov 1994\0 08:49:37 GMT";
	int64_t t = 0;
	assert_int_equal(parse_date_bytes(nul, sizeof nul - 1, &t), 0);
	assert_int_equal(t, 784111777);
	/* ... and inside a number it ends the digits: "19\09" is the year 19, 2019
	   ('2019-11-06 08:49:37' is 1573030177). */
	static const char nul2[] = "06 Nov 19\09 08:49:37";
	assert_int_equal(parse_date_bytes(nul2, sizeof nul2 - 1, &t), 0);
	assert_int_equal(t, 1573030177);

	/* Missing parts. */
	assert_no_date("");
	assert_no_date("   ");
	assert_no_date(",;-/");
	assert_no_date("06 Nov 1994");
	assert_no_date("Nov 1994 08:49:37");
	assert_no_date("06 1994 08:49:37");
	assert_no_date("06 Nov 08:49:37");
	/* Out of range. */
	assert_no_date("00 Nov 1994 08:49:37");
	assert_no_date("32 Nov 1994 08:49:37");
	assert_no_date("24 Nov 1994 24:00:00");
	assert_no_date("24 Nov 1994 23:60:00");
	assert_no_date("24 Nov 1994 23:59:60"); /* no leap seconds */
	assert_no_date("31 Dec 1600 23:59:59");
	assert_no_date("01 Jan 1000 00:00:00");
	/* Days a month does not have. */
	assert_no_date("30 Feb 2000 00:00:00");
	assert_no_date("29 Feb 1900 00:00:00");
	assert_no_date("29 Feb 2023 00:00:00");
	assert_no_date("31 Apr 2023 00:00:00");
	assert_no_date("31 Nov 2023 00:00:00");
	assert_int_equal(date_of("31 Dec 2023 00:00:00") - date_of("30 Dec 2023 00:00:00"), 86400);
	/* Tokens that match nothing: too many digits. */
	assert_no_date("006 Nov 1994 08:49:37");    /* then 1994 is no day either */
	assert_no_date("06 Nov 19945 08:49:37");
	assert_no_date("06 Nov 1994 008:49:37");
	assert_no_date("06 Nov 1994 08:49:377");
	assert_no_date("06 Nov 1994 08:49");
	assert_no_date("06 Nov 1994 08::37");
	assert_no_date("06 No 1994 08:49:37");
	/* Junk and identifiers. */
	assert_no_date("junk");
	assert_no_date("GA1.1.161761967.1795927229");
	assert_no_date("1795927229");
	assert_no_date("2026-11-29T04:40:33.377Z"); /* "29T04:40:33" is no time, and no month */
	assert_no_date("Infinity");
	assert_no_date("0");
	assert_no_date("-1");
	assert_int_equal(cookie_parse_date(NULL, 0, &t), -1);
}

/* The calendar arithmetic, day by day over four centuries, against its own
   increments: every date parses and is 86400 seconds after the day before. */
static void test_date_every_day(void **state)
{
	(void)state;
	static const char *const months[12] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
						"Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	int64_t previous = date_of("31 Dec 1899 00:00:00");
	for (int year = 1900; year < 2300; year++) {
		for (int month = 0; month < 12; month++) {
			for (int day = 1; day <= 31; day++) {
				char text[64];
				int64_t t;
				int len = snprintf(text, sizeof text, "%02d %s %04d 00:00:00", day,
						   months[month], year);
				int rc = cookie_parse_date(text, (size_t)len, &t);
				bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
				int days = month == 1 ? (leap ? 29 : 28)
					   : (month == 3 || month == 5 || month == 8 || month == 10) ? 30
					   : 31;
				if (day > days) {
					assert_int_equal(rc, -1);
					continue;
				}
				assert_int_equal(rc, 0);
				assert_int_equal(t - previous, 86400);
				previous = t;
			}
		}
	}
	/* date -u -d '2300-01-01' +%s = 10413792000 */
	assert_int_equal(previous + 86400, INT64_C(10413792000));
}

/* ---- identifier-like values --------------------------------------------- */

static void test_identifier_like(void **state)
{
	(void)state;
	static const char *const identifiers[] = {
		"GA1.1.161761967.1795927229",                       /* _ga */
		"GS1.1.1795927229.1.1.1795927229.0.0.0",            /* _ga_<id>, session */
		"fb.1.1795927229210.3447532729",                    /* _fbp */
		"sfcvolaa92jj296ozm7re",                            /* _ttp (first party) */
		"IFG7MPvzs_AmPQ8yYXe4iXtlVLRtXixs",                 /* _ttp (tiktok.com) */
		"dVBw9BrUdFZQHmrEYAbUBF8iBrTKAqqx",
		"HX_dgI_40vK9bcKnc9z33SUlBPFMTQEt",                 /* IDE */
		"P0-1461260186-1795927229165",                      /* __qca */
		"0.801874259051069|4d5e6f|1795927229221|1|1|bat.bing.com/p/insights/c/l", /* _uetvid */
		"0.08331354666147062|1a2b3c|2|fq6|0|1890",          /* _uetsid */
		"[CS]v1|0C39538326CF3906-B8B5D593F4DA0495[CE]",     /* s_vi */
		"9322fc31-8efb-4779-bcb0-c07163a4db71",             /* uid, a uuid */
		"46a75cd6-a01a3-6c116",                             /* mc */
		"221f6f8774001b07e8e4e929e31bbc5e",                 /* sessionid, hex */
		"\"221f6f8774001b07e8e4e929e31bbc5e\"",             /* quoted */
		"hevg1p9b21l70jqd3od9pt0503",                       /* PHPSESSID */
		"48bd83ad1a4a2d63c7657c65facdfd2a",                 /* UID */
		"9894671753164742",                                 /* a decimal consent id */
		"3400336412483737628",                              /* uuid2 (adnxs.com) */
		"qk6d1piX1m3j_cqplpovfW6ZzPvxJdEp",                 /* anj (adnxs.com) */
		"0.9095251432068702",                               /* Math.random() */
		"eyJpZCI6IjAuOTA5NTI1MTQzMjA2ODcwMiIsImNyZWF0ZWQiOjE3OTU5MjcyMzM0MDAsImV4aXN0aW5nIjpmYWxzZX0=",
		"CQudL-OQudL-OAcABBENBZEoAP_gAEPgAAYgIzAAgAAEAAAAAAAAAIAAAAAAAAAAAAAAAA", /* a TC string */
		"abcdefgh1",                                        /* 9 different bytes: 28.5 bits */
		"4294967297123",                                    /* 13 digits, not a time in range */
	};
	for (size_t i = 0; i < sizeof identifiers / sizeof identifiers[0]; i++)
		if (!identifier_like(identifiers[i]))
			fail_msg("\"%s\" should look like an identifier", identifiers[i]);

	static const char *const others[] = {
		"", "0", "1", "de", "yes", "true", "false", "en-US", "\"\"", "\"12345678\"",
		"undefined", "necessary", "CheckForPermission", "de-DE,en-US",
		"necessary%3Atrue%2Cstatistics%3Afalse", "Accept All Cookies",
		"1795927229",                                       /* an epoch */
		"1795927229165",                                    /* in milliseconds */
		"4294967295",                                       /* 2^32 - 1 */
		"20261129",
		"2026-11-29",
		"2026-11-29T04:40:33.377Z",
		"2026-11-29 04:40:33+01:00",
		"2026-11-29T04%3A40%3A33.377Z",
		"Mon, 03 Jan 2028 04:40:29 GMT",
		"Sun Nov 29 2026 04:40:33 GMT+0000 (Coordinated Universal Time)",
		"Sun%20Nov%2029%202026%2004%3A40%3A33%20GMT%2B0000%20(Coordinated%20Universal%20Time)",
		"0000000000000001",                                 /* 5.4 bits */
		"aaaabbbbccccddde",
		"a1b2c3d4",                                         /* 8 bytes: 24 bits at most */
		"12345678",
		"123456789",                                        /* a number below 2^32 */
	};
	for (size_t i = 0; i < sizeof others / sizeof others[0]; i++)
		if (identifier_like(others[i]))
			fail_msg("\"%s\" should not look like an identifier", others[i]);

	/* A lone quote is not a pair of them; a NUL is a byte like any other. */
	assert_true(identifier_like("\"221f6f8774001b07e8e4e929e31bbc5e"));
	static const char nul[] = "221f6f87\0" "74001b07e8e4";
	assert_true(cookie_value_identifier_like(copy_of(nul, sizeof nul - 1), sizeof nul - 1));
	assert_false(cookie_value_identifier_like(NULL, 0));
	/* Only the first COOKIE_ID_SCAN_MAX bytes are weighed. */
	char *long_value = malloc(COOKIE_ID_SCAN_MAX + 64);
	assert_non_null(long_value);
	memset(long_value, 'A', COOKIE_ID_SCAN_MAX);
	memcpy(long_value + COOKIE_ID_SCAN_MAX, "221f6f8774001b07e8e4e929e31bbc5e", 32);
	assert_false(cookie_value_identifier_like(long_value, COOKIE_ID_SCAN_MAX + 32));
	memcpy(long_value, "221f6f8774001b07e8e4e929e31bbc5e", 32);
	assert_true(cookie_value_identifier_like(long_value, COOKIE_ID_SCAN_MAX + 32));
	free(long_value);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_cookie_capture, free_copies),
		cmocka_unit_test_teardown(test_cookie_pairs, free_copies),
		cmocka_unit_test_teardown(test_cookie_empty, free_copies),
		cmocka_unit_test_teardown(test_cookie_malformed, free_copies),
		cmocka_unit_test_teardown(test_cookie_max, free_copies),
		cmocka_unit_test_teardown(test_cookie_http2_list, free_copies),
		cmocka_unit_test_teardown(test_set_cookie_capture, free_copies),
		cmocka_unit_test_teardown(test_set_cookie_pair, free_copies),
		cmocka_unit_test_teardown(test_set_cookie_control_characters, free_copies),
		cmocka_unit_test_teardown(test_set_cookie_size_limits, free_copies),
		cmocka_unit_test_teardown(test_set_cookie_attribute_case, free_copies),
		cmocka_unit_test_teardown(test_set_cookie_repeated, free_copies),
		cmocka_unit_test_teardown(test_set_cookie_max_age, free_copies),
		cmocka_unit_test_teardown(test_set_cookie_domain_path, free_copies),
		cmocka_unit_test_teardown(test_set_cookie_same_site, free_copies),
		cmocka_unit_test_teardown(test_set_cookie_unknown_and_empty, free_copies),
		cmocka_unit_test_teardown(test_set_cookie_expires, free_copies),
		cmocka_unit_test_teardown(test_set_cookie_lifetime, free_copies),
		cmocka_unit_test_teardown(test_date_real_world, free_copies),
		cmocka_unit_test_teardown(test_date_rules, free_copies),
		cmocka_unit_test_teardown(test_date_every_day, free_copies),
		cmocka_unit_test_teardown(test_identifier_like, free_copies),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
