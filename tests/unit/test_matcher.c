/*
 * Unit tests for blocklists/matcher.c: what decides (matcher.h, top), checked
 * through the public API on small matchers built by hand with
 * matcher_add_*() (and parse_abp() where a rule is easier written as text).
 * The label walk and host canonicalisation; exceptions against blocks across
 * lists and levels; which rule and list are reported; party and "$domain="
 * conditions with the Public Suffix List; resource types and host-only
 * verdicts; companies, verdicts and categories; TDS CNAMEs and regex rules;
 * cookie lookups; limits (long and empty names, many labels, 64 lists, 16
 * skip reasons, adding after matcher_finish); and Adblock Plus pattern
 * details ('^', '*', '|', case) on URL lookups.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <pthread.h>

#include "../../blocklists/matcher.h"
#include "../../blocklists/parsers.h"

/* ---- helpers -------------------------------------------------------------- */

static const struct rule_options no_options = { 0 };

static struct matcher *new_matcher(void)
{
	struct matcher *m = matcher_new();
	assert_non_null(m);
	return m;
}

static int add_list(struct matcher *m, const char *name, enum list_format format, const char *category)
{
	int list = matcher_add_list(m, name, "test", format, category);
	assert_true(list >= 0);
	return list;
}

/* A host rule written as its name; `options` may be NULL. */
static void host_rule(struct matcher *m, int list, const char *host, const struct rule_options *options)
{
	assert_int_equal(matcher_add_host_rule(m, list, host, strlen(host), options ? options : &no_options,
					       host, strlen(host)), 0);
}

static void exception_rule(struct matcher *m, int list, const char *host)
{
	struct rule_options o = { .flags = RULE_EXCEPTION };
	char text[300];
	snprintf(text, sizeof text, "@@||%s^", host);
	assert_int_equal(matcher_add_host_rule(m, list, host, strlen(host), &o, text, strlen(text)), 0);
}

/* ABP text into `list`, which must parse. */
static void abp(struct matcher *m, int list, const char *text)
{
	size_t len = strlen(text);
	char *copy = malloc(len);
	assert_non_null(copy);
	memcpy(copy, text, len);
	struct parse_error err = { 0 };
	int rc = parse_abp(m, list, copy, len, &err);
	free(copy);
	if (rc != 0)
		fail_msg("parse_abp: line %u: %s", err.line, err.reason);
}

static void entity(struct matcher *m, int list, const char *domain, const char *name, const char *category,
		   int verdict)
{
	assert_int_equal(matcher_add_entity(m, list, domain, strlen(domain), name, category, verdict), 0);
}

static void finish(struct matcher *m)
{
	assert_int_equal(matcher_finish(m), 0);
}

static struct match host(const struct matcher *m, const char *name, const char *site)
{
	struct match out;
	matcher_lookup_host(m, name, strlen(name), site, &out);
	return out;
}

static bool is_host(const struct matcher *m, const char *name, const char *site)
{
	return host(m, name, site).tracker;
}

static struct match url(const struct matcher *m, const char *u, const char *site, uint32_t type)
{
	struct match out;
	matcher_lookup_url(m, u, strlen(u), site, type, &out);
	return out;
}

static bool is_url(const struct matcher *m, const char *u, const char *site, uint32_t type)
{
	return url(m, u, site, type).tracker;
}

/* ---- names ---------------------------------------------------------------- */

static void test_label_walk(void **state)
{
	(void)state;
	struct matcher *m = new_matcher();
	int l = add_list(m, "l", LIST_HOSTS, NULL);
	host_rule(m, l, "doubleclick.net", NULL);
	finish(m);

	struct match r = host(m, "a.b.doubleclick.net", NULL);
	assert_true(r.tracker);
	assert_string_equal(r.decided.domain, "doubleclick.net");
	assert_string_equal(r.decided.text, "doubleclick.net");
	assert_int_equal(r.decided.list, l);
	assert_true(is_host(m, "doubleclick.net", NULL));
	assert_false(is_host(m, "notdoubleclick.net", NULL));
	assert_false(is_host(m, "doubleclick.net.evil.com", NULL));
	assert_false(is_host(m, "ubleclick.net", NULL));
	assert_false(is_host(m, "net", NULL));
	assert_false(is_host(m, "doubleclick", NULL));
	assert_false(is_host(m, "doubleclick.network", NULL));
	r = host(m, "example.com", NULL);
	assert_false(r.tracker);
	assert_int_equal(r.decided.list, -1);
	assert_null(r.decided.text);
	assert_int_equal(r.lists, 0);
	assert_null(r.entity);
	assert_null(r.category);
	assert_int_equal(r.category_count, 0);
	assert_null(r.cname);
	matcher_free(m);
}

static void test_canonical_host(void **state)
{
	(void)state;
	struct matcher *m = new_matcher();
	int l = add_list(m, "l", LIST_HOSTS, NULL);
	host_rule(m, l, "Tracker.EXAMPLE.", NULL);
	host_rule(m, l, "::1", NULL);
	host_rule(m, l, "192.0.2.1", NULL);
	finish(m);

	static const char *const yes[] = {
		"tracker.example", "TRACKER.EXAMPLE", "a.Tracker.Example", "tracker.example.",
		"tracker.example:443", "tracker.example.:443", "x.tracker.example:8080", "tracker.example..",
		"[::1]:80", "[::1]", "::1", "192.0.2.1", "192.0.2.1:53",
	};
	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
		if (!is_host(m, yes[i], NULL))
			fail_msg("%s is not matched", yes[i]);
	static const char *const no[] = {
		"", ".", "..", ":443", "[", "[::1", "[]", "tracker.example.com", "::2", "192.0.2.10",
		"2.1", "tracker", "example",
	};
	for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
		struct match r = host(m, no[i], NULL);
		if (r.tracker)
			fail_msg("%s is matched", no[i]);
		assert_int_equal(r.decided.list, -1);
	}
	/* Lengths are given: bytes past them do not count. */
	struct match r;
	matcher_lookup_host(m, "tracker.example.com", 15, NULL, &r);
	assert_true(r.tracker);
	matcher_lookup_host(m, "tracker.example", 14, NULL, &r);
	assert_false(r.tracker);

	/* URLs: the host however written. */
	assert_true(is_url(m, "https://TRACKER.example:8443/x", NULL, 0));
	assert_true(is_url(m, "https://user:pw@tracker.example/x", NULL, 0));
	assert_true(is_url(m, "tracker.example/x", NULL, 0));
	assert_true(is_url(m, "https://tracker.example?x=1", NULL, 0));
	assert_true(is_url(m, "https://tracker.example#f", NULL, 0));
	assert_true(is_url(m, "http://[::1]:8080/x", NULL, 0));
	assert_false(is_url(m, "https://example.com/tracker.example", NULL, 0));
	assert_false(is_url(m, "https://", NULL, 0));
	assert_false(is_url(m, "", NULL, 0));
	matcher_free(m);
}

static void test_long_names(void **state)
{
	(void)state;
	struct matcher *m = new_matcher();
	int l = add_list(m, "l", LIST_HOSTS, NULL);
	assert_int_equal(matcher_add_host_rule(m, l, "", 0, &no_options, "", 0), -1);
	assert_int_equal(matcher_add_host_rule(m, l, ".", 1, &no_options, ".", 1), -1);
	assert_int_equal(matcher_add_entity(m, l, "", 0, "E", NULL, 1), -1);
	char name255[256], name256[257];
	memset(name255, 'a', 255);
	name255[255] = '\0';
	for (size_t i = 63; i < 255; i += 64)
		name255[i] = '.';
	memcpy(name256, "b", 1);
	memcpy(name256 + 1, name255, 256);
	assert_int_equal(strlen(name256), 256);
	host_rule(m, l, name255, NULL);
	assert_int_equal(matcher_add_host_rule(m, l, name256, 256, &no_options, "x", 1), -1);
	/* Single-letter labels: 128 in 255 bytes, the most a name can have. */
	char labels[300];
	size_t n = 0;
	for (int i = 0; i < 130; i++) {
		labels[n++] = 'a';
		labels[n++] = '.';
	}
	labels[--n] = '\0';   /* 259 bytes, 130 labels */
	host_rule(m, l, "a.a", NULL);
	finish(m);

	assert_int_equal(matcher_list_info(m, l)->rules, 2);
	assert_true(is_host(m, name255, NULL));
	assert_false(is_host(m, name256, NULL));
	struct match r = host(m, labels, NULL);
	assert_false(r.tracker);
	assert_int_equal(r.decided.list, -1);
	assert_true(is_host(m, labels + 4, NULL));   /* 255 bytes, 128 labels */
	assert_true(is_host(m, labels + 6, NULL));
	assert_true(is_url(m, "https://a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a/", NULL, 0));
	/* A name of only dots and a URL of only a long host. */
	char dots[300];
	memset(dots, '.', sizeof dots - 1);
	dots[sizeof dots - 1] = '\0';
	assert_false(is_host(m, dots, NULL));
	assert_false(is_host(m, dots + 100, NULL));
	char longurl[12000] = "https://";
	memset(longurl + 8, 'a', sizeof longurl - 9);
	longurl[sizeof longurl - 1] = '\0';
	assert_false(is_url(m, longurl, NULL, 0));
	matcher_free(m);
}

/* ---- filter rules --------------------------------------------------------- */

static void test_exceptions_win(void **state)
{
	(void)state;
	struct matcher *m = new_matcher();
	int l0 = add_list(m, "first", LIST_ABP, "Tracking");
	int l1 = add_list(m, "second", LIST_ABP, "Advertising");
	host_rule(m, l0, "ads.example", NULL);
	exception_rule(m, l1, "ok.ads.example");
	exception_rule(m, l0, "allowed.example");
	host_rule(m, l1, "sub.allowed.example", NULL);
	host_rule(m, l1, "both.example", NULL);
	exception_rule(m, l1, "both.example");
	finish(m);

	struct match r = host(m, "x.ok.ads.example", NULL);
	assert_false(r.tracker);
	assert_true(r.decided.exception);
	assert_int_equal(r.decided.list, l1);
	assert_string_equal(r.decided.text, "@@||ok.ads.example^");
	assert_string_equal(r.decided.domain, "ok.ads.example");
	assert_int_equal(r.lists, 3);
	assert_false(r.host_only);

	r = host(m, "sub.allowed.example", NULL);
	assert_false(r.tracker);
	assert_true(r.decided.exception);
	assert_int_equal(r.decided.list, l0);
	assert_string_equal(r.decided.domain, "allowed.example");
	assert_int_equal(r.lists, 3);

	r = host(m, "both.example", NULL);
	assert_false(r.tracker);
	assert_true(r.decided.exception);

	r = host(m, "ads.example", NULL);
	assert_true(r.tracker);
	assert_false(r.decided.exception);
	assert_int_equal(r.lists, 1);
	assert_string_equal(r.category, "Tracking");
	assert_false(is_host(m, "allowed.example", NULL));
	matcher_free(m);
}

static void test_decided_rule(void **state)
{
	(void)state;
	struct matcher *m = new_matcher();
	int l0 = add_list(m, "first", LIST_ABP, "Tracking");
	int l1 = add_list(m, "second", LIST_ABP, "Advertising");
	int l2 = add_list(m, "third", LIST_HOSTS, NULL);
	host_rule(m, l1, "ads.example.com", NULL);
	host_rule(m, l0, "example.com", NULL);
	host_rule(m, l1, "t.example", NULL);
	host_rule(m, l1, "a.t.example", NULL);
	host_rule(m, l2, "a.t.example", NULL);
	finish(m);

	/* The earliest list that decided, even with a less specific rule. */
	struct match r = host(m, "x.ads.example.com", NULL);
	assert_true(r.tracker);
	assert_int_equal(r.decided.list, l0);
	assert_string_equal(r.decided.domain, "example.com");
	assert_int_equal(r.lists, 3);
	assert_string_equal(r.category, "Tracking");
	assert_int_equal(r.category_count, 2);
	assert_string_equal(r.categories[1], "Advertising");

	/* Within a list, the most specific. */
	r = host(m, "b.a.t.example", NULL);
	assert_int_equal(r.decided.list, l1);
	assert_string_equal(r.decided.domain, "a.t.example");
	assert_int_equal(r.lists, 6);
	assert_string_equal(r.category, "Advertising");
	r = host(m, "b.t.example", NULL);
	assert_int_equal(r.decided.list, l1);
	assert_string_equal(r.decided.domain, "t.example");
	assert_int_equal(r.lists, 2);
	matcher_free(m);
}

static void test_third_party(void **state)
{
	(void)state;
	struct matcher *m = new_matcher();
	int l = add_list(m, "l", LIST_ABP, NULL);
	struct rule_options third = { .party = PARTY_THIRD }, first = { .party = PARTY_FIRST };
	host_rule(m, l, "tp.example", &third);
	host_rule(m, l, "cdn.example.co.uk", &third);
	host_rule(m, l, "a.github.io", &third);
	host_rule(m, l, "fp.example", &first);
	host_rule(m, l, "10.0.3.4", &third);
	finish(m);

	assert_string_equal(matcher_registrable_domain("www.example.co.uk"), "example.co.uk");
	assert_string_equal(matcher_registrable_domain("a.github.io"), "a.github.io");
	assert_null(matcher_registrable_domain("github.io"));
	assert_null(matcher_registrable_domain("co.uk"));
	assert_null(matcher_registrable_domain("192.168.1.1"));
	assert_null(matcher_registrable_domain("10.0.3.4"));
	assert_null(matcher_registrable_domain("::1"));
	assert_null(matcher_registrable_domain("2001:db8::1"));

#define THIRD(h, site) matcher_third_party(h, strlen(h), site)
	assert_int_equal(THIRD("www.example.co.uk", "cdn.example.co.uk"), 0);
	assert_int_equal(THIRD("a.github.io", "b.github.io"), 1);
	assert_int_equal(THIRD("a.github.io", "x.a.github.io"), 0);
	assert_int_equal(THIRD("github.io", "github.io"), 0);
	assert_int_equal(THIRD("example.com", "WWW.EXAMPLE.COM:443"), 0);
	assert_int_equal(THIRD("EXAMPLE.com.", "www.example.com"), 0);
	assert_int_equal(THIRD("example.com", "example.org"), 1);
	assert_int_equal(THIRD("example.com", NULL), -1);
	assert_int_equal(THIRD("example.com", ""), -1);
	assert_int_equal(THIRD("", "example.com"), -1);
	/* Addresses: whole, not by their last two numbers. */
	assert_int_equal(THIRD("10.0.3.4", "192.168.3.4"), 1);
	assert_int_equal(THIRD("10.0.3.4", "10.0.3.4"), 0);
	assert_int_equal(THIRD("[::1]:443", "::1"), 0);
#undef THIRD
	/* A lookup reports it when a party rule needed it, and never without a site. */
	assert_int_equal(host(m, "example.com", NULL).third_party, -1);
	assert_int_equal(host(m, "example.com", "").third_party, -1);
	assert_int_equal(host(m, "cdn.example.co.uk", "www.example.co.uk").third_party, 0);
	assert_int_equal(host(m, "x.a.github.io", "b.github.io").third_party, 1);
	assert_int_equal(host(m, "10.0.3.4", "192.168.3.4").third_party, 1);

	assert_false(is_host(m, "cdn.example.co.uk", "www.example.co.uk"));
	assert_true(is_host(m, "cdn.example.co.uk", "www.example.com"));
	assert_true(is_host(m, "x.a.github.io", "b.github.io"));
	assert_false(is_host(m, "x.a.github.io", "a.github.io"));
	assert_true(is_host(m, "10.0.3.4", "192.168.3.4"));
	assert_false(is_host(m, "10.0.3.4", "10.0.3.4"));

	/* $third-party with no site: the contact counts. */
	struct match r = host(m, "tp.example", NULL);
	assert_true(r.tracker);
	assert_int_equal(r.third_party, -1);
	r = host(m, "tp.example", "news.example");
	assert_true(r.tracker);
	assert_int_equal(r.third_party, 1);
	r = host(m, "tp.example", "www.tp.example");
	assert_false(r.tracker);
	assert_int_equal(r.third_party, 0);
	assert_int_equal(r.lists, 0);

	/* $~third-party */
	assert_true(is_host(m, "fp.example", "fp.example"));
	assert_true(is_host(m, "x.fp.example", "www.fp.example"));
	assert_false(is_host(m, "fp.example", "news.example"));
	assert_true(is_host(m, "fp.example", NULL));
	assert_true(is_url(m, "https://fp.example/x", "fp.example", RT_SCRIPT));
	assert_false(is_url(m, "https://fp.example/x", "other.example", RT_SCRIPT));
	matcher_free(m);
}

static void test_domain_option(void **state)
{
	(void)state;
	struct matcher *m = new_matcher();
	int l = add_list(m, "l", LIST_ABP, NULL);
	static const char include[] = "a.com|~b.a.com|shop.*|";
	struct rule_options inc = { .domains = include, .domains_len = strlen(include) };
	host_rule(m, l, "inc.example", &inc);
	static const char exclude[] = "~x.com|~Y.COM";
	struct rule_options exc = { .domains = exclude, .domains_len = strlen(exclude) };
	host_rule(m, l, "exc.example", &exc);
	static const char empty[] = "|~|";
	struct rule_options emp = { .domains = empty, .domains_len = strlen(empty) };
	host_rule(m, l, "emp.example", &emp);
	finish(m);

	/* Sites to include: without a site the rule does not apply. */
	assert_false(is_host(m, "inc.example", NULL));
	assert_true(is_host(m, "inc.example", "a.com"));
	assert_true(is_host(m, "inc.example", "www.a.com"));
	assert_true(is_host(m, "inc.example", "A.COM."));
	assert_false(is_host(m, "inc.example", "b.a.com"));
	assert_false(is_host(m, "inc.example", "x.b.a.com"));
	assert_false(is_host(m, "inc.example", "aa.com"));
	assert_false(is_host(m, "inc.example", "a.com.evil"));
	/* "shop.*": any public suffix */
	assert_true(is_host(m, "inc.example", "shop.com"));
	assert_true(is_host(m, "inc.example", "www.shop.co.uk"));
	assert_true(is_host(m, "inc.example", "shop.de"));
	assert_false(is_host(m, "inc.example", "shopping.com"));
	assert_false(is_host(m, "inc.example", "myshop.com"));
	assert_false(is_host(m, "inc.example", "shop"));
	assert_false(is_host(m, "inc.example", "shop.example.com"));

	/* Sites to exclude only. */
	assert_true(is_host(m, "exc.example", NULL));
	assert_true(is_host(m, "exc.example", "z.com"));
	assert_false(is_host(m, "exc.example", "x.com"));
	assert_false(is_host(m, "exc.example", "www.y.com"));
	/* Nothing usable in "$domain=": no condition. */
	assert_true(is_host(m, "emp.example", NULL));
	assert_true(is_host(m, "emp.example", "z.com"));
	matcher_free(m);
}

static void test_types(void **state)
{
	(void)state;
	struct matcher *m = new_matcher();
	int l = add_list(m, "l", LIST_ABP, NULL);
	struct rule_options script = { .types = RT_SCRIPT };
	host_rule(m, l, "typed.example", &script);
	/* The same list: a rule for every type beats a typed one for the verdict's kind. */
	host_rule(m, l, "x.t.example", &script);
	host_rule(m, l, "t.example", NULL);
	/* URL rules with types, and a typed URL exception. */
	abp(m, l, "||u.example/ads/$script\n"
		  "||v.example^\n"
		  "@@||v.example/ok/$script\n"
		  "/generic/*$image\n");
	finish(m);

	struct match r = host(m, "typed.example", NULL);
	assert_true(r.tracker);
	assert_true(r.host_only);
	r = url(m, "https://typed.example/a.js", NULL, RT_SCRIPT);
	assert_true(r.tracker);
	assert_false(r.host_only);
	assert_false(is_url(m, "https://typed.example/a.png", NULL, RT_IMAGE));
	r = url(m, "https://typed.example/a", NULL, 0);
	assert_true(r.tracker);
	assert_true(r.host_only);

	r = host(m, "a.x.t.example", NULL);
	assert_true(r.tracker);
	assert_false(r.host_only);
	assert_string_equal(r.decided.domain, "t.example");

	r = url(m, "https://u.example/ads/1.js", NULL, RT_SCRIPT);
	assert_true(r.tracker);
	assert_false(r.host_only);
	assert_false(is_url(m, "https://u.example/ads/1.png", NULL, RT_IMAGE));
	r = url(m, "https://u.example/ads/1", NULL, 0);
	assert_true(r.tracker);
	assert_true(r.host_only);
	assert_false(is_host(m, "u.example", NULL));

	/* A typed exception clears only requests of its types. */
	assert_false(is_url(m, "https://v.example/ok/a.js", NULL, RT_SCRIPT));
	assert_true(is_url(m, "https://v.example/ok/a.png", NULL, RT_IMAGE));
	r = url(m, "https://v.example/ok/a", NULL, 0);
	assert_true(r.tracker);
	assert_false(r.host_only);
	assert_true(is_host(m, "v.example", NULL));

	assert_true(is_url(m, "https://w.example/generic/1.gif", NULL, RT_IMAGE));
	assert_false(is_url(m, "https://w.example/generic/1.gif", NULL, RT_SCRIPT));
	/* A typed pattern tied to no host says nothing of a request of unknown
	   type (else "$ping,third-party" would mark every URL). */
	assert_false(is_url(m, "https://w.example/generic/1.gif", NULL, 0));
	matcher_free(m);
}

/* ---- companies, categories ------------------------------------------------ */

static void test_entities(void **state)
{
	(void)state;
	struct matcher *m = new_matcher();
	int l0 = add_list(m, "disconnect", LIST_DISCONNECT, NULL);
	int l1 = add_list(m, "tds", LIST_TDS, NULL);
	entity(m, l0, "google.com", "Google", NULL, -1);
	entity(m, l0, "doubleclick.net", "Google", "Advertising", 1);
	entity(m, l0, "example.com", "Parent Co", NULL, -1);
	entity(m, l0, "sub.example.com", "Child Co", NULL, -1);
	entity(m, l0, "content.example", "Content Co", "Content", 0);
	entity(m, l0, "same.example", "First Co", NULL, -1);
	entity(m, l1, "same.example", "Second Co", NULL, -1);
	entity(m, l0, "mixed.example", "Mixed Co", "Content", 0);
	entity(m, l1, "mixed.example", "Mixed Co", "Analytics", 1);
	entity(m, l1, "unnamed.example", NULL, "Analytics", 1);
	finish(m);

	struct match r = host(m, "ad.doubleclick.net", NULL);
	assert_true(r.tracker);
	assert_string_equal(r.entity, "Google");
	assert_string_equal(r.category, "Advertising");
	assert_int_equal(r.decided.list, l0);
	assert_string_equal(r.decided.domain, "doubleclick.net");
	assert_string_equal(r.decided.text, "doubleclick.net");
	assert_false(r.decided.exception);
	assert_int_equal(r.lists, 1);

	r = host(m, "www.google.com", NULL);
	assert_false(r.tracker);
	assert_string_equal(r.entity, "Google");
	assert_null(r.category);
	assert_int_equal(r.decided.list, -1);
	assert_int_equal(r.lists, 1);

	assert_string_equal(host(m, "a.sub.example.com", NULL).entity, "Child Co");
	assert_string_equal(host(m, "sub.example.com", NULL).entity, "Child Co");
	assert_string_equal(host(m, "x.example.com", NULL).entity, "Parent Co");
	assert_string_equal(host(m, "same.example", NULL).entity, "First Co");

	r = host(m, "cdn.content.example", NULL);
	assert_false(r.tracker);
	assert_string_equal(r.entity, "Content Co");
	assert_string_equal(r.category, "Content");
	assert_int_equal(r.decided.list, l0);
	assert_string_equal(r.decided.domain, "content.example");

	/* Any source that says "tracker" makes one. */
	r = host(m, "mixed.example", NULL);
	assert_true(r.tracker);
	assert_int_equal(r.decided.list, l1);
	assert_string_equal(r.category, "Analytics");
	assert_int_equal(r.category_count, 2);
	assert_string_equal(r.categories[1], "Content");
	assert_int_equal(r.lists, 3);

	r = host(m, "unnamed.example", NULL);
	assert_true(r.tracker);
	assert_null(r.entity);
	assert_string_equal(r.category, "Analytics");
	matcher_free(m);
}

static void test_categories(void **state)
{
	(void)state;
	struct matcher *m = new_matcher();
	int l0 = add_list(m, "easyprivacy", LIST_ABP, "Tracking");
	int l1 = add_list(m, "disconnect", LIST_DISCONNECT, NULL);
	host_rule(m, l0, "t.example", NULL);
	entity(m, l1, "t.example", "T Co", "Content", 0);
	entity(m, l1, "t.example", "T Co", "Analytics", 1);
	entity(m, l1, "t.example", "T Co", "Analytics", 0);   /* again: no new category */
	host_rule(m, l0, "cdn.example", NULL);
	entity(m, l1, "cdn.example", "CDN Co", "Content", 0);
	exception_rule(m, l0, "ok.example");
	entity(m, l1, "ok.example", "OK Co", "Advertising", 1);
	finish(m);

	/* Tracker by both: the entry's tracking category first, then the list's, then the rest. */
	struct match r = host(m, "t.example", NULL);
	assert_true(r.tracker);
	assert_int_equal(r.decided.list, l0);
	assert_string_equal(r.entity, "T Co");
	assert_string_equal(r.category, "Analytics");
	assert_int_equal(r.category_count, 3);
	assert_string_equal(r.categories[0], "Analytics");
	assert_string_equal(r.categories[1], "Tracking");
	assert_string_equal(r.categories[2], "Content");

	/* Tracker by the filter list alone; the company's category is no tracking one. */
	r = host(m, "cdn.example", NULL);
	assert_true(r.tracker);
	assert_int_equal(r.decided.list, l0);
	assert_string_equal(r.entity, "CDN Co");
	assert_string_equal(r.category, "Tracking");
	assert_int_equal(r.category_count, 2);
	assert_string_equal(r.categories[1], "Content");

	/* Filter exceptions do not override Disconnect. */
	r = host(m, "ok.example", NULL);
	assert_true(r.tracker);
	assert_int_equal(r.decided.list, l1);
	assert_string_equal(r.category, "Advertising");
	assert_int_equal(r.lists, 3);
	matcher_free(m);
}

/* ---- TDS: CNAMEs and regex rules ------------------------------------------ */

static void test_cname(void **state)
{
	(void)state;
	struct matcher *m = new_matcher();
	int l0 = add_list(m, "tds", LIST_TDS, NULL);
	int l1 = add_list(m, "easyprivacy", LIST_ABP, "Tracking");
	entity(m, l0, "tracker.net", "Tracker Inc", "Analytics", 1);
	assert_int_equal(matcher_add_cname(m, l0, "metrics.shop.example", 20, "shop.tracker.net", 16), 0);
	/* The first alias of a name stays. */
	assert_int_equal(matcher_add_cname(m, l0, "metrics.shop.example", 20, "other.example", 13), 0);
	assert_int_equal(matcher_add_cname(m, l0, "x.example", 9, "", 0), -1);
	assert_int_equal(matcher_add_cname(m, l0, "", 0, "tracker.net", 11), -1);
	host_rule(m, l1, "tracker2.net", NULL);
	assert_int_equal(matcher_add_cname(m, l0, "m2.shop.example", 15, "C.Tracker2.NET.", 15), 0);
	finish(m);

	struct match r = host(m, "metrics.shop.example", "shop.example");
	assert_true(r.tracker);
	assert_string_equal(r.cname, "shop.tracker.net");
	assert_string_equal(r.entity, "Tracker Inc");
	assert_string_equal(r.decided.domain, "tracker.net");
	assert_int_equal(r.decided.list, l0);
	assert_true(is_host(m, "METRICS.shop.example.", NULL));

	r = host(m, "m2.shop.example", NULL);
	assert_true(r.tracker);
	assert_string_equal(r.cname, "c.tracker2.net");
	assert_int_equal(r.decided.list, l1);
	assert_string_equal(r.category, "Tracking");

	/* Only the aliased name itself. */
	r = host(m, "shop.example", NULL);
	assert_false(r.tracker);
	assert_null(r.cname);
	r = host(m, "x.metrics.shop.example", NULL);
	assert_false(r.tracker);
	assert_null(r.cname);

	struct matcher_stats st;
	matcher_stats(m, &st);
	assert_int_equal(st.cnames, 2);
	matcher_free(m);
}

static void test_regex_rules(void **state)
{
	(void)state;
	struct matcher *m = new_matcher();
	int l0 = add_list(m, "tds", LIST_TDS, NULL);
	int l1 = add_list(m, "tds2", LIST_TDS, NULL);
	entity(m, l0, "tds.example", "TDS Co", "Advertising", 1);
	struct rule_options ignore = { .flags = RULE_IGNORE }, block = { 0 };
	assert_int_equal(matcher_add_regex_rule(m, l0, "tds.example", 11, "tds\\.example/widget", &ignore,
						NULL, 0, 0), 0);
	assert_int_equal(matcher_add_regex_rule(m, l1, "tds.example", 11, "tds\\.example/other", &ignore,
						NULL, 0, 0), 0);
	entity(m, l0, "quiet.example", "Quiet", NULL, -1);
	assert_int_equal(matcher_add_regex_rule(m, l0, "quiet.example", 13, "quiet\\.example/px", &block,
						NULL, 0, 0), 0);
	/* "exceptions": types, sites. */
	assert_int_equal(matcher_add_regex_rule(m, l0, "quiet.example", 13, "quiet\\.example/img", &block,
						NULL, 0, RT_IMAGE), 0);
	static const char news[] = "news.example";
	assert_int_equal(matcher_add_regex_rule(m, l0, "quiet.example", 13, "quiet\\.example/site", &block,
						news, strlen(news), 0), 0);
	/* "options": only for these sites and types. */
	static const char shop[] = "shop.example";
	struct rule_options only = { .domains = shop, .domains_len = strlen(shop), .types = RT_SCRIPT };
	assert_int_equal(matcher_add_regex_rule(m, l0, "quiet.example", 13, "quiet\\.example/only", &only,
						NULL, 0, 0), 0);
	/* Does not compile: 1, and nothing is added. */
	assert_int_equal(matcher_add_regex_rule(m, l0, "quiet.example", 13, "quiet(", &block, NULL, 0, 0), 1);
	/* A back-reference would make regexec exponential: left out. */
	assert_int_equal(matcher_add_regex_rule(m, l0, "quiet.example", 13, "(.*)(.*)\\1\\2x", &block, NULL, 0, 0), 1);
	assert_int_equal(matcher_add_regex_rule(m, l0, "", 0, "x", &block, NULL, 0, 0), -1);
	finish(m);
	assert_int_equal(matcher_list_info(m, l0)->rules, 2 + 5);
	struct matcher_stats st;
	matcher_stats(m, &st);
	assert_int_equal(st.regex_rules, 6);

	/* An "ignore" rule overrides the default block of its own list. */
	struct match r = url(m, "https://tds.example/widget.js", NULL, RT_SCRIPT);
	assert_false(r.tracker);
	assert_string_equal(r.entity, "TDS Co");
	assert_true(r.lists & 1);
	assert_true(is_url(m, "https://tds.example/pixel", NULL, RT_IMAGE));
	assert_true(is_host(m, "tds.example", NULL));
	/* ... not another list's. */
	assert_true(is_url(m, "https://tds.example/other", NULL, 0));

	/* A block rule of a tracker with no default verdict. */
	r = url(m, "https://quiet.example/px?x=1", NULL, 0);
	assert_true(r.tracker);
	assert_string_equal(r.decided.text, "quiet\\.example/px");
	assert_string_equal(r.decided.domain, "quiet.example");
	assert_int_equal(r.decided.list, l0);
	assert_string_equal(r.entity, "Quiet");
	assert_true(is_url(m, "https://QUIET.example/PX", NULL, 0));
	assert_true(is_url(m, "https://cdn.quiet.example/px", NULL, 0));
	assert_false(is_url(m, "https://quiet.example/other", NULL, 0));
	assert_false(is_host(m, "quiet.example", NULL));
	/* Types and sites excepted. */
	assert_false(is_url(m, "https://quiet.example/img/1", NULL, RT_IMAGE));
	assert_true(is_url(m, "https://quiet.example/img/1", NULL, RT_SCRIPT));
	assert_true(is_url(m, "https://quiet.example/img/1", NULL, 0));
	assert_false(is_url(m, "https://quiet.example/site", "news.example", 0));
	assert_false(is_url(m, "https://quiet.example/site", "www.news.example", 0));
	assert_true(is_url(m, "https://quiet.example/site", "other.example", 0));
	assert_true(is_url(m, "https://quiet.example/site", NULL, 0));
	assert_true(is_url(m, "https://quiet.example/only", "www.shop.example", RT_SCRIPT));
	assert_true(is_url(m, "https://quiet.example/only", "shop.example", 0));
	assert_false(is_url(m, "https://quiet.example/only", "shop.example", RT_IMAGE));
	assert_false(is_url(m, "https://quiet.example/only", "other.example", RT_SCRIPT));
	assert_false(is_url(m, "https://quiet.example/only", NULL, RT_SCRIPT));
	matcher_free(m);
}

/* ---- cookies -------------------------------------------------------------- */

static void cookie(struct matcher *m, int list, const char *name, bool prefix, const char *platform)
{
	struct cookie_info c = { .name = name, .prefix = prefix, .platform = platform,
				 .category = "Analytics" };
	assert_int_equal(matcher_add_cookie(m, list, &c), 0);
}

static void test_cookies(void **state)
{
	(void)state;
	struct matcher *m = new_matcher();
	int l0 = add_list(m, "ocd", LIST_COOKIEDB, NULL);
	int l1 = add_list(m, "ocd2", LIST_COOKIEDB, NULL);
	cookie(m, l0, "_g", true, "G short");
	cookie(m, l0, "_ga", false, "Google Analytics");
	cookie(m, l0, "_ga_", true, "GA4");
	cookie(m, l1, "_ga", false, "Other");
	cookie(m, l1, "_ga_x", false, "Exact x");
	cookie(m, l1, "SID", false, "Google");
	cookie(m, l1, "ab", false, NULL);
	/* A new string right after "ab" in the matcher's storage: a NUL some bytes past it. */
	cookie(m, l1, "ab2", false, "Z");
	struct cookie_info empty = { .name = "" };
	assert_int_equal(matcher_add_cookie(m, l0, &empty), -1);
	assert_null(matcher_lookup_cookie(m, "_ga", 3));   /* not finished */
	finish(m);

	const struct cookie_info *c = matcher_lookup_cookie(m, "_ga", 3);
	assert_non_null(c);
	assert_string_equal(c->platform, "Google Analytics");
	assert_int_equal(c->list, l0);
	assert_false(c->prefix);
	assert_string_equal(c->category, "Analytics");
	assert_string_equal(c->domain, "");
	c = matcher_lookup_cookie(m, "_ga_ABC123", 10);
	assert_non_null(c);
	assert_string_equal(c->platform, "GA4");
	assert_true(c->prefix);
	assert_string_equal(matcher_lookup_cookie(m, "_ga_", 4)->platform, "GA4");
	assert_string_equal(matcher_lookup_cookie(m, "_ga_x", 5)->platform, "Exact x");
	assert_string_equal(matcher_lookup_cookie(m, "_ga_xy", 6)->platform, "GA4");
	assert_string_equal(matcher_lookup_cookie(m, "_gid", 4)->platform, "G short");
	assert_string_equal(matcher_lookup_cookie(m, "_g", 2)->platform, "G short");
	/* The length given, not the NUL. */
	assert_string_equal(matcher_lookup_cookie(m, "_gaXYZ", 3)->platform, "Google Analytics");
	assert_null(matcher_lookup_cookie(m, "_", 1));
	assert_null(matcher_lookup_cookie(m, "", 0));
	assert_null(matcher_lookup_cookie(m, "_GA", 3));
	assert_null(matcher_lookup_cookie(m, "sid", 3));
	assert_string_equal(matcher_lookup_cookie(m, "SID", 3)->platform, "Google");
	assert_null(matcher_lookup_cookie(m, "SIDX", 4));
	assert_null(matcher_lookup_cookie(m, "a", 1));
	assert_string_equal(matcher_lookup_cookie(m, "ab", 2)->platform, "");

	/* A name holding a NUL byte is not the name before it, whatever its hash. */
	for (int i = 0; i < 4096; i++) {
		char name[16] = { 'a', 'b', '\0', (char)(i & 0xff), (char)(i >> 8), 'z', 'z', 'z',
				  'z', 'z', 'z', 'z', 'z', 'z', 'z', 'z' };
		for (size_t len = 3; len <= sizeof name; len++)
			if (matcher_lookup_cookie(m, name, len))
				fail_msg("\"ab\\0...\" of %zu bytes matched", len);
	}
	matcher_free(m);
}

/* ---- limits --------------------------------------------------------------- */

static void test_lists_limit(void **state)
{
	(void)state;
	struct matcher *m = new_matcher();
	char name[16];
	for (int i = 0; i < MATCHER_MAX_LISTS; i++) {
		snprintf(name, sizeof name, "list%d", i);
		assert_int_equal(matcher_add_list(m, name, "p", LIST_HOSTS, NULL), i);
	}
	assert_int_equal(matcher_add_list(m, "one too many", "p", LIST_HOSTS, NULL), -1);
	assert_int_equal(matcher_list_count(m), MATCHER_MAX_LISTS);
	host_rule(m, MATCHER_MAX_LISTS - 1, "last.example", NULL);
	host_rule(m, 0, "first.example", NULL);
	assert_int_equal(matcher_add_host_rule(m, MATCHER_MAX_LISTS, "x.example", 9, &no_options, "x", 1), -1);
	assert_int_equal(matcher_add_host_rule(m, -1, "x.example", 9, &no_options, "x", 1), -1);
	assert_null(matcher_list_info(m, -1));
	assert_null(matcher_list_info(m, MATCHER_MAX_LISTS));
	assert_string_equal(matcher_list_info(m, 5)->name, "list5");
	assert_string_equal(matcher_list_info(m, 5)->path, "p");
	finish(m);

	struct match r = host(m, "a.last.example", NULL);
	assert_true(r.tracker);
	assert_int_equal(r.decided.list, MATCHER_MAX_LISTS - 1);
	assert_true(r.lists == 1ULL << 63);
	assert_int_equal(host(m, "first.example", NULL).lists, 1);
	matcher_free(m);
}

static void test_after_finish(void **state)
{
	(void)state;
	struct matcher *m = new_matcher();
	int l = add_list(m, "l", LIST_TDS, NULL);
	host_rule(m, l, "a.example", NULL);
	finish(m);
	finish(m);   /* again: no effect */
	struct rule_options o = { 0 };
	struct cookie_info c = { .name = "x" };
	assert_int_equal(matcher_add_list(m, "late", "p", LIST_ABP, NULL), -1);
	assert_int_equal(matcher_add_host_rule(m, l, "b.example", 9, &o, "b", 1), -1);
	assert_int_equal(matcher_add_url_rule(m, l, "b.example", 9, "/x", 2, &o, "b", 1), -1);
	assert_int_equal(matcher_add_url_rule(m, l, NULL, 0, "/x", 2, &o, "b", 1), -1);
	assert_int_equal(matcher_add_entity(m, l, "b.example", 9, "B", NULL, 1), -1);
	assert_int_equal(matcher_add_cname(m, l, "b.example", 9, "a.example", 9), -1);
	assert_int_equal(matcher_add_regex_rule(m, l, "b.example", 9, "b", &o, NULL, 0, 0), -1);
	assert_int_equal(matcher_add_cookie(m, l, &c), -1);
	assert_int_equal(matcher_list_count(m), 1);
	assert_int_equal(matcher_list_info(m, l)->rules, 1);
	assert_false(is_host(m, "b.example", NULL));
	assert_true(is_host(m, "a.example", NULL));
	matcher_free(m);
	matcher_free(NULL);
}

static void test_skip_reasons(void **state)
{
	(void)state;
	struct matcher *m = new_matcher();
	int l = add_list(m, "l", LIST_ABP, NULL);
	char reason[32];
	matcher_skip(m, l, "r0", 1);
	for (int i = 0; i < 17; i++) {
		snprintf(reason, sizeof reason, "r%d", i);
		matcher_skip(m, l, reason, (unsigned)(10 + i));
	}
	matcher_skip(m, l, "r3", 99);
	matcher_skip(m, l, "r16", 100);
	matcher_skip(m, l, "another", 101);
	matcher_skip(m, -1, "nowhere", 1);
	matcher_skip(m, 7, "nowhere", 1);
	const struct list_info *info = matcher_list_info(m, l);
	assert_int_equal(info->skipped, 21);
	assert_int_equal(info->skip_reasons, 16);
	assert_string_equal(info->skips[0].reason, "r0");
	assert_int_equal(info->skips[0].count, 2);
	assert_int_equal(info->skips[0].first_line, 1);
	assert_string_equal(info->skips[3].reason, "r3");
	assert_int_equal(info->skips[3].count, 2);
	assert_int_equal(info->skips[3].first_line, 13);
	assert_string_equal(info->skips[14].reason, "r14");
	assert_int_equal(info->skips[14].count, 1);
	/* The last slot gathers the reasons beyond. */
	assert_string_equal(info->skips[15].reason, "other reasons");
	assert_int_equal(info->skips[15].count, 4);
	uint32_t sum = 0;
	for (unsigned i = 0; i < info->skip_reasons; i++)
		sum += info->skips[i].count;
	assert_int_equal(sum, info->skipped);
	/* The reason is copied. */
	snprintf(reason, sizeof reason, "changed");
	assert_string_equal(info->skips[5].reason, "r5");
	matcher_free(m);
}

/* ---- Adblock Plus patterns on URLs ---------------------------------------- */

static void test_abp_patterns(void **state)
{
	(void)state;
	struct matcher *m = new_matcher();
	int l = add_list(m, "l", LIST_ABP, NULL);
	abp(m, l,
	    "/track^\n"
	    "^ad^\n"
	    "||bt.example/x*y*z\n"
	    "||bt.example/a*ab\n"
	    "ad*banner*.gif\n"
	    ".swf|\n"
	    "||e.example/x.js|\n"
	    "/AdServer/*\n"
	    "/CaseOnly/*$match-case\n"
	    "/regex/\n"
	    "||sep.example^ads\n"
	    "|http://start.example/\n"
	    "Pix*TAG=\n"
	    "/Mc*Star/x$match-case\n"
	    "xyz/q^\n"
	    "*-beacon-\n"
	    "||Mc*Host.example^$match-case\n");
	finish(m);

	/* '^': a separator or the end, not a letter, digit, '.', '-', '_' or '%'. */
	assert_true(is_url(m, "https://a.example/track", NULL, 0));
	assert_true(is_url(m, "https://a.example/track?x", NULL, 0));
	assert_true(is_url(m, "https://a.example/track/", NULL, 0));
	assert_true(is_url(m, "https://a.example/track:1", NULL, 0));
	assert_true(is_url(m, "https://a.example/track&", NULL, 0));
	assert_false(is_url(m, "https://a.example/track.js", NULL, 0));
	assert_false(is_url(m, "https://a.example/track-1", NULL, 0));
	assert_false(is_url(m, "https://a.example/track_x", NULL, 0));
	assert_false(is_url(m, "https://a.example/track%20", NULL, 0));
	assert_false(is_url(m, "https://a.example/trackx", NULL, 0));
	assert_false(is_url(m, "https://a.example/track9", NULL, 0));
	assert_true(is_url(m, "https://x.example/ad/", NULL, 0));
	assert_true(is_url(m, "https://x.example/ad", NULL, 0));
	assert_true(is_url(m, "https://x.example/q?ad=1", NULL, 0));
	assert_false(is_url(m, "https://x.example/bad/", NULL, 0));
	assert_false(is_url(m, "https://x.example/ads/", NULL, 0));

	/* '*' with back-tracking. */
	assert_true(is_url(m, "https://bt.example/xyz", NULL, 0));
	assert_true(is_url(m, "https://bt.example/x1y2y3z", NULL, 0));
	assert_true(is_url(m, "https://bt.example/xzyyyz", NULL, 0));
	assert_false(is_url(m, "https://bt.example/xzy", NULL, 0));
	assert_true(is_url(m, "https://bt.example/aaab", NULL, 0));
	assert_true(is_url(m, "https://bt.example/abab", NULL, 0));
	assert_false(is_url(m, "https://bt.example/aba", NULL, 0));
	assert_true(is_url(m, "https://w.example/adv/banner/1.gif", NULL, 0));
	assert_true(is_url(m, "https://w.example/ad/banner.gif?x", NULL, 0));
	assert_false(is_url(m, "https://w.example/adv/1.gif?banner", NULL, 0));

	/* '|' at the end: the URL ends there. */
	assert_true(is_url(m, "https://f.example/a.swf", NULL, 0));
	assert_false(is_url(m, "https://f.example/a.swf?x", NULL, 0));
	assert_true(is_url(m, "https://e.example/x.js", NULL, 0));
	assert_true(is_url(m, "https://sub.e.example/x.js", NULL, 0));
	assert_false(is_url(m, "https://e.example/x.jsx", NULL, 0));
	assert_false(is_url(m, "https://e.example/x.js?1", NULL, 0));
	/* '|' at the start. */
	assert_true(is_url(m, "http://start.example/a", NULL, 0));
	assert_false(is_url(m, "https://start.example/a", NULL, 0));
	assert_false(is_url(m, "http://x.example/?http://start.example/", NULL, 0));

	/* Case: ignored unless $match-case. */
	assert_true(is_url(m, "https://g.example/adserver/x", NULL, 0));
	assert_true(is_url(m, "https://g.example/ADSERVER/x", NULL, 0));
	assert_true(is_url(m, "https://g.example/CaseOnly/x", NULL, 0));
	assert_false(is_url(m, "https://g.example/caseonly/x", NULL, 0));
	assert_false(is_url(m, "https://g.example/CASEONLY/x", NULL, 0));
	/* After a '*' the text is searched for the next literal: in any case
	   unless $match-case, and past occurrences that lead nowhere. */
	assert_true(is_url(m, "https://h.example/pIx?a=1&tag=2", NULL, 0));
	assert_true(is_url(m, "https://h.example/PIX/tag/pix?TAG=", NULL, 0));
	assert_false(is_url(m, "https://h.example/pix/tag", NULL, 0));
	assert_true(is_url(m, "https://h.example/Mc/x/Star/x", NULL, 0));
	assert_true(is_url(m, "https://h.example/Mc/star/Star/x", NULL, 0));
	assert_false(is_url(m, "https://h.example/Mc/x/star/x", NULL, 0));
	assert_false(is_url(m, "https://h.example/mc/x/Star/x", NULL, 0));
	assert_true(is_url(m, "https://h.example/xyzxyz/q", NULL, 0));
	assert_true(is_url(m, "https://h.example/XYZ/xyz/Q?1", NULL, 0));
	assert_false(is_url(m, "https://h.example/xyz/qq", NULL, 0));
	assert_true(is_url(m, "https://h.example/a-BEACON-b", NULL, 0));
	assert_false(is_url(m, "https://h.example/a-beacon", NULL, 0));
	/* A host-only $match-case pattern still decides bare names (which are in lower case). */
	assert_true(is_host(m, "mc1.mchost.example", NULL));
	assert_true(is_host(m, "MC1.McHost.Example", NULL));
	assert_false(is_host(m, "mc1.other.example", NULL));

	/* "/regex/" is a regular expression: left out. */
	assert_false(is_url(m, "https://g.example/regex/", NULL, 0));
	assert_int_equal(matcher_list_info(m, l)->skipped, 1);

	/* A host anchor then '^': right after the host. */
	assert_true(is_url(m, "https://sep.example/ads", NULL, 0));
	assert_true(is_url(m, "https://www.sep.example/ads/1", NULL, 0));
	assert_false(is_url(m, "https://sep.example/x/ads", NULL, 0));
	assert_false(is_url(m, "https://sep.example.com/ads", NULL, 0));
	assert_false(is_host(m, "sep.example", NULL));
	matcher_free(m);
}

/* ---- threads -------------------------------------------------------------- */

struct thread_arg {
	const struct matcher *m;
	int errors;
};

static void *lookup_thread(void *p)
{
	struct thread_arg *a = p;
	for (int i = 0; i < 2000; i++) {
		struct match r;
		matcher_lookup_host(a->m, "x.tp.example", 12, "news.example.co.uk", &r);
		if (!r.tracker || r.third_party != 1)
			a->errors |= 1;
		matcher_lookup_host(a->m, "x.tp.example", 12, "www.tp.example", &r);
		if (r.tracker || r.third_party != 0)
			a->errors |= 2;
		matcher_lookup_url(a->m, "https://q.example/ads/x", 23, NULL, RT_SCRIPT, &r);
		if (!r.tracker)
			a->errors |= 4;
		if (matcher_third_party("a.b.example.co.uk", 17, "example.co.uk") != 0 ||
		    matcher_third_party("a.github.io", 11, "b.github.io") != 1)
			a->errors |= 8;
	}
	return NULL;
}

static void test_threads(void **state)
{
	(void)state;
	struct matcher *m = new_matcher();
	int l = add_list(m, "l", LIST_ABP, NULL);
	abp(m, l, "||tp.example^$third-party\n/ads/*$script\n");
	finish(m);
	pthread_t threads[4];
	struct thread_arg args[4];
	for (int i = 0; i < 4; i++) {
		args[i] = (struct thread_arg){ m, 0 };
		assert_int_equal(pthread_create(&threads[i], NULL, lookup_thread, &args[i]), 0);
	}
	int joined = 0, errors = 0;
	for (int i = 0; i < 4; i++) {
		joined += pthread_join(threads[i], NULL) == 0;
		errors += args[i].errors;
	}
	assert_int_equal(joined, 4);
	assert_int_equal(errors, 0);
	matcher_free(m);
}

/* ---- snapshots (the lists' cache) ------------------------------------------ */

/* What a snapshot's lookups answer, to compare a matcher read back with the one written. */
struct snap_answers {
	int tracker[4], host_only[4];
	uint64_t lists[4];
	char entity[4][32];
	char cname[32];
	char cookie[2][16];
};

static const char *const snap_names[] = { "ads.example.com", "a.tracker.test", "x.y.cloak.test", "example.org" };
static const char *const snap_urls[] = { "https://example.org/pixel.gif?id=1", "https://news.example/collect?tid=1",
					 "https://pixel.test/tr/abc", "https://cdn2.tracker.test/x" };

static void snap_ask(const struct matcher *m, struct snap_answers *a)
{
	memset(a, 0, sizeof *a);
	struct match out;
	for (int i = 0; i < 4; i++) {
		matcher_lookup_host(m, snap_names[i], strlen(snap_names[i]), NULL, &out);
		a->tracker[i] = out.tracker;
		a->lists[i] = out.lists;
		snprintf(a->entity[i], sizeof a->entity[i], "%s", out.entity ? out.entity : "");
		if (i == 2)
			snprintf(a->cname, sizeof a->cname, "%s", out.cname ? out.cname : "");
		matcher_lookup_url(m, snap_urls[i], strlen(snap_urls[i]), "news.example", 0, &out);
		a->tracker[i] |= out.tracker << 1;
		a->host_only[i] = out.host_only;
		a->lists[i] |= out.lists << 8;
	}
	const struct cookie_info *c = matcher_lookup_cookie(m, "_ga_XYZ", 7);
	snprintf(a->cookie[0], sizeof a->cookie[0], "%s", c ? c->name : "");
	c = matcher_lookup_cookie(m, "_fbp", 4);
	snprintf(a->cookie[1], sizeof a->cookie[1], "%s", c ? c->name : "");
}

/* A block of exactly `size` bytes, as the lists' cache reads one. */
static void *snap_copy(const void *snapshot, size_t size)
{
	void *block = NULL;
	assert_int_equal(posix_memalign(&block, 64, size), 0);
	memcpy(block, snapshot, size);
	return block;
}

/*
 * A snapshot reads back as the matcher it was written from (its answers the
 * same); cut short, or with any word of its first 32 KiB or last 8 KiB (its
 * header and every array of this small matcher but the domain table) set to
 * all ones, to one or to 64 more, it is refused or answers without reading
 * outside itself (AddressSanitizer would stop the test); damage to its magic
 * or its size is always refused. The matcher has every kind of thing a
 * snapshot holds, a TDS tracker with no owner and expressions among them.
 */
static void test_snapshot(void **state)
{
	(void)state;
	struct matcher *m = new_matcher();
	int l0 = add_list(m, "abp", LIST_ABP, "Advertising");
	int l1 = add_list(m, "entities", LIST_DISCONNECT, NULL);
	int l2 = add_list(m, "tds", LIST_TDS, NULL);
	abp(m, l0, "||ads.example.com^\n||example.org/pixel.gif$image\n/collect?tid=$domain=news.example\n"
		   "@@||cdn.tracker.test/a.js\n/tr/$third-party\n||cdn*.tracker.test^$third-party\n");
	entity(m, l1, "tracker.test", "Tracker Inc.", "Analytics", 1);
	/* A TDS tracker with no owner (an entity with no name) and two expressions. */
	static const char tds[] =
		"{\"trackers\": {\"pixel.test\": {\"domain\": \"pixel.test\", \"default\": \"ignore\", \"rules\": ["
		"{\"rule\": \"pixel\\\\.test/tr/[a-z]+\", \"options\": {\"domains\": [\"news.example\"]}},"
		"{\"rule\": \"pixel\\\\.test/px\", \"exceptions\": {\"domains\": [\"other.example\"]}}]}},"
		"\"entities\": {}, \"domains\": {}}";
	struct parse_error err = { 0 };
	assert_int_equal(parse_tds(m, l2, tds, strlen(tds), &err), 0);
	assert_int_equal(matcher_add_cname(m, l1, "x.y.cloak.test", 14, "a.tracker.test", 14), 0);
	struct cookie_info ga = { .name = "_ga_", .prefix = true, .platform = "Google Analytics" };
	struct cookie_info fbp = { .name = "_fbp", .platform = "Meta" };
	assert_int_equal(matcher_add_cookie(m, l1, &ga), 0);
	assert_int_equal(matcher_add_cookie(m, l1, &fbp), 0);
	assert_int_equal(matcher_finish(m), 0);
	struct matcher_stats stats;
	matcher_stats(m, &stats);
	assert_int_equal(stats.regex_rules, 2);
	struct snap_answers want, got;
	snap_ask(m, &want);
	assert_true(want.tracker[0] && want.tracker[1]);
	assert_true(want.tracker[2] & 2); /* the TDS expression, on news.example */
	assert_true(want.tracker[3] & 2); /* the host pattern ||cdn*.tracker.test^ */
	assert_string_equal(want.cname, "a.tracker.test");
	assert_string_equal(want.cookie[0], "_ga_");

	void *snapshot = NULL;
	size_t size = matcher_snapshot(m, &snapshot);
	assert_true(size > 0 && size % 64 == 0);
	struct matcher *back = matcher_from_snapshot(snap_copy(snapshot, size), size);
	assert_non_null(back);
	snap_ask(back, &got);
	assert_memory_equal(&got, &want, sizeof want);
	assert_int_equal(matcher_snapshot(back, &(void *){ NULL }), 0); /* a snapshot's matcher makes none */
	matcher_free(back);

	assert_null(matcher_from_snapshot(snap_copy(snapshot, size), size - 64));
	assert_null(matcher_from_snapshot(snap_copy(snapshot, size), 8));

	/*
	 * The header and the arrays before the domain table (its 512 KiB of
	 * slots and the filter are plain numbers), and the end: the cookie
	 * table, the prefixes and the strings.
	 */
	size_t words = size / 8, head = (32 << 10) / 8, tail = (8 << 10) / 8, refused = 0;
	for (size_t w = 0; w < words; w++) {
		if (w == head && words > head + tail)
			w = words - tail;
		/*
		 * All ones in every word; one as well in every word not zero, and
		 * every eighth zero one (most zero words are the header's unused
		 * list slots); and 64 more in every word not zero (an array's
		 * offset moved onto the next one's).
		 */
		for (int kind = 0; kind < 3; kind++) {
			uint8_t *block = snap_copy(snapshot, size);
			uint64_t old;
			memcpy(&old, block + w * 8, 8);
			uint64_t v = kind == 0 ? UINT64_MAX : kind == 1 ? 1 : old + 64;
			if ((kind == 1 && old == 0 && w % 8) || (kind == 2 && old == 0)) {
				free(block);
				continue;
			}
			if (old == v)
				v = 2;
			memcpy(block + w * 8, &v, 8);
			struct matcher *d = matcher_from_snapshot(block, size);
			if (!d) {
				refused++;
				continue;
			}
			assert_true(w >= 2); /* the magic and the size are checked first */
			snap_ask(d, &got);
			matcher_free(d);
		}
	}
	assert_true(refused > 0);
	free(snapshot);
	matcher_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_label_walk),
		cmocka_unit_test(test_canonical_host),
		cmocka_unit_test(test_long_names),
		cmocka_unit_test(test_exceptions_win),
		cmocka_unit_test(test_decided_rule),
		cmocka_unit_test(test_third_party),
		cmocka_unit_test(test_domain_option),
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_entities),
		cmocka_unit_test(test_categories),
		cmocka_unit_test(test_cname),
		cmocka_unit_test(test_regex_rules),
		cmocka_unit_test(test_cookies),
		cmocka_unit_test(test_lists_limit),
		cmocka_unit_test(test_after_finish),
		cmocka_unit_test(test_skip_reasons),
		cmocka_unit_test(test_abp_patterns),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_snapshot),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
