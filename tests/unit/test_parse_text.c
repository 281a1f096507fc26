/*
 * Unit tests for blocklists/parse_text.c: hosts files, plain domain lists and
 * Adblock Plus filter syntax, each on small inline files, checked only through
 * the matcher's public API after matcher_finish(): which names and URLs the
 * rules then match, how many rules were taken, and which were left out, why
 * and from which line (matcher_list_info). Files that are not lists at all
 * (empty, only comments, binary, a single over-long line) must be errors
 * with a reason and a line. Every input is fed from a heap copy of exactly
 * its length, with no NUL after it, so that ASan sees any read past the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../blocklists/matcher.h"
#include "../../blocklists/parsers.h"

/* ---- helpers -------------------------------------------------------------- */

typedef int (*parser)(struct matcher *, int, const char *, size_t, struct parse_error *);

/* Parses `len` bytes of `text` as one list with `parse`; finishes the matcher when it succeeds. */
static struct matcher *load_n(parser parse, const char *text, size_t len, int *rc,
			      struct parse_error *err)
{
	struct matcher *m = matcher_new();
	assert_non_null(m);
	assert_int_equal(matcher_add_list(m, "test", "test.txt", LIST_ABP, "Tracking"), 0);
	char *copy = malloc(len ? len : 1);
	assert_non_null(copy);
	memcpy(copy, text, len);
	memset(err, 0, sizeof *err);
	*rc = parse(m, 0, copy, len, err);
	free(copy);
	if (*rc == 0)
		assert_int_equal(matcher_finish(m), 0);
	return m;
}

/* A list that must parse. */
static struct matcher *load_ok(parser parse, const char *text)
{
	int rc;
	struct parse_error err;
	struct matcher *m = load_n(parse, text, strlen(text), &rc, &err);
	if (rc != 0)
		fail_msg("parse failed: line %u: %s", err.line, err.reason);
	return m;
}

/* A file that must be an error: returns its error. */
static struct parse_error load_fail_n(parser parse, const char *text, size_t len)
{
	int rc;
	struct parse_error err;
	struct matcher *m = load_n(parse, text, len, &rc, &err);
	assert_int_equal(rc, -1);
	assert_true(err.reason[0] != '\0');
	matcher_free(m);
	return err;
}

static struct parse_error load_fail(parser parse, const char *text)
{
	return load_fail_n(parse, text, strlen(text));
}

static const struct list_info *info(const struct matcher *m)
{
	const struct list_info *l = matcher_list_info(m, 0);
	assert_non_null(l);
	return l;
}

/* The skip entry for `reason`, or NULL. */
static const struct list_skip *skip_of(const struct matcher *m, const char *reason)
{
	const struct list_info *l = info(m);
	for (unsigned i = 0; i < l->skip_reasons; i++)
		if (strcmp(l->skips[i].reason, reason) == 0)
			return &l->skips[i];
	return NULL;
}

/* Asserts that `reason` was counted `count` times, the first on `line`. */
static void assert_skip(const struct matcher *m, const char *reason, uint32_t count, uint32_t line)
{
	const struct list_skip *s = skip_of(m, reason);
	if (!s)
		fail_msg("no skip reason \"%s\"", reason);
	assert_int_equal(s->count, count);
	assert_int_equal(s->first_line, line);
}

/* The sum of the per-reason counts is the total. */
static void assert_skips_consistent(const struct matcher *m)
{
	const struct list_info *l = info(m);
	uint32_t sum = 0;
	for (unsigned i = 0; i < l->skip_reasons; i++)
		sum += l->skips[i].count;
	assert_int_equal(sum, l->skipped);
}

static struct match host_match(const struct matcher *m, const char *host, const char *site)
{
	struct match out;
	matcher_lookup_host(m, host, strlen(host), site, &out);
	return out;
}

static bool host_tracker(const struct matcher *m, const char *host, const char *site)
{
	return host_match(m, host, site).tracker;
}

static struct match url_match(const struct matcher *m, const char *url, const char *site, uint32_t type)
{
	struct match out;
	matcher_lookup_url(m, url, strlen(url), site, type, &out);
	return out;
}

static bool url_tracker(const struct matcher *m, const char *url, const char *site, uint32_t type)
{
	return url_match(m, url, site, type).tracker;
}

/* ---- hosts files ---------------------------------------------------------- */

static void test_hosts_lines(void **state)
{
	(void)state;
	struct matcher *m = load_ok(parse_hosts,
		"# a hosts file\n"                       /* 1 */
		"0.0.0.0 a.com b.com # c\n"              /* 2 */
		"127.0.0.1 localhost\n"                  /* 3 */
		"::1 ip6-localhost ip6-loopback\n"       /* 4 */
		"0.0.0.0\tc.com\r\n"                     /* 5 */
		"\t 0.0.0.0 \t d.com\t \r\n"             /* 6 */
		"\n"                                     /* 7 */
		"   # indented comment\n"                /* 8 */
		"fe80::1%lo0 zone.example\n"             /* 9 */
		"0.0.0.0 UPPER.Example\n"                /* 10 */
		"0.0.0.0 trailing.dot. localhost. 127.0.0.1.\n" /* 11 */
		"0.0.0.0 e.com");                        /* 12: no final newline */
	const struct list_info *l = info(m);
	assert_int_equal(l->rules, 8);
	assert_int_equal(l->skipped, 5);
	assert_skip(m, "local name", 4, 3);
	assert_skip(m, "address, not a name", 1, 11);
	assert_skips_consistent(m);

	struct match a = host_match(m, "a.com", NULL);
	assert_true(a.tracker);
	assert_int_equal(a.decided.list, 0);
	assert_string_equal(a.decided.text, "0.0.0.0 a.com b.com");
	assert_string_equal(a.decided.domain, "a.com");
	assert_false(a.decided.exception);
	assert_false(a.host_only);
	assert_int_equal(a.lists, 1);
	assert_string_equal(a.category, "Tracking");

	assert_true(host_tracker(m, "b.com", NULL));
	assert_true(host_tracker(m, "x.y.b.com", NULL));
	assert_false(host_tracker(m, "c", NULL));          /* from the comment */
	assert_true(host_tracker(m, "c.com", NULL));
	assert_string_equal(host_match(m, "c.com", NULL).decided.text, "0.0.0.0\tc.com");
	assert_true(host_tracker(m, "d.com", NULL));
	assert_true(host_tracker(m, "zone.example", NULL));
	assert_true(host_tracker(m, "upper.example", NULL));
	assert_true(host_tracker(m, "trailing.dot", NULL));
	assert_true(host_tracker(m, "e.com", NULL));
	assert_false(host_tracker(m, "localhost", NULL));
	assert_false(host_tracker(m, "ip6-localhost", NULL));
	assert_false(host_tracker(m, "com", NULL));
	assert_false(host_tracker(m, "aa.com", NULL));
	matcher_free(m);
}

static void test_hosts_odd_lines(void **state)
{
	(void)state;
	struct matcher *m = load_ok(parse_hosts,
		"only.name.example\n"                    /* 1: a name alone is taken */
		"0.0.0.0\n"                              /* 2: the address alone */
		"192.0.2.1\n"                            /* 3 */
		"a.example b.example\n"                  /* 4: no address first */
		"0.0.0.0 0.0.0.0\n"                      /* 5 */
		"0.0.0.0 192.0.2.7\n"                    /* 6 */
		"! a comment in a hosts file too\n"       /* 7 */
		"0.0.0.0 ok.example\n");                 /* 8 */
	const struct list_info *l = info(m);
	assert_int_equal(l->rules, 2);
	assert_true(host_tracker(m, "only.name.example", NULL));
	assert_true(host_tracker(m, "ok.example", NULL));
	assert_false(host_tracker(m, "a.example", NULL));
	assert_false(host_tracker(m, "b.example", NULL));
	assert_skip(m, "local name", 2, 2);
	assert_skip(m, "address, not a name", 2, 3);
	assert_skip(m, "no address before the names", 1, 4);
	assert_skips_consistent(m);
	matcher_free(m);
}

static void test_hosts_bad_names(void **state)
{
	(void)state;
	char label63[64], label64[65], buf[1024];
	memset(label63, 'x', 63);
	label63[63] = '\0';
	memset(label64, 'y', 64);
	label64[64] = '\0';
	snprintf(buf, sizeof buf,
		 "0.0.0.0 a..b\n"                 /* 1 */
		 "0.0.0.0 %s.com\n"               /* 2 */
		 "0.0.0.0 %s.com\n"               /* 3: 64-byte label */
		 "0.0.0.0 ex\xc3\xa4mple.com\n"   /* 4: non-ASCII */
		 "0.0.0.0 .lead.com\n"            /* 5 */
		 "0.0.0.0 a.com/path\n"           /* 6 */
		 "0.0.0.0 sp ace.com\n"           /* 7: two fields: "sp" is a (single-label) name */
		 "0.0.0.0 under_score.com\n"      /* 8 */
		 "0.0.0.0 trail..\n",             /* 9 */
		 label63, label64);
	struct matcher *m = load_ok(parse_hosts, buf);
	const struct list_info *l = info(m);
	/* x...x.com, ace.com, under_score.com; "sp" has one label */
	assert_int_equal(l->rules, 3);
	assert_skip(m, "not a host name", 6, 1);
	assert_skip(m, "single-label name", 1, 7);
	assert_false(host_tracker(m, "sp", NULL));
	assert_skips_consistent(m);
	char name[128];
	snprintf(name, sizeof name, "%s.com", label63);
	assert_true(host_tracker(m, name, NULL));
	snprintf(name, sizeof name, "%s.com", label64);
	assert_false(host_tracker(m, name, NULL));
	assert_false(host_tracker(m, "b", NULL));
	assert_false(host_tracker(m, "a..b", NULL));
	assert_false(host_tracker(m, "ex\xc3\xa4mple.com", NULL));
	assert_true(host_tracker(m, "ace.com", NULL));
	assert_true(host_tracker(m, "under_score.com", NULL));
	matcher_free(m);

	/* A name longer than 253 bytes, made of valid labels. */
	char longname[300] = "0.0.0.0 ";
	size_t n = strlen(longname);
	while (n < 8 + 254) {
		memcpy(longname + n, "abcdefghi.", 10);
		n += 10;
	}
	memcpy(longname + n, "com\n0.0.0.0 fine.example\n", 26);
	m = load_ok(parse_hosts, longname);
	assert_int_equal(info(m)->rules, 1);
	assert_skip(m, "not a host name", 1, 1);
	matcher_free(m);
}

static void test_hosts_many_names(void **state)
{
	(void)state;
	/* A line with more names than any fixed field array: every name is taken. */
	char buf[4096] = "0.0.0.0";
	size_t n = strlen(buf);
	for (int i = 0; i < 100; i++)
		n += (size_t)snprintf(buf + n, sizeof buf - n, " n%d.example", i);
	snprintf(buf + n, sizeof buf - n, "\n");
	struct matcher *m = load_ok(parse_hosts, buf);
	assert_int_equal(info(m)->rules, 100);
	assert_int_equal(info(m)->skipped, 0);
	assert_true(host_tracker(m, "n0.example", NULL));
	assert_true(host_tracker(m, "n63.example", NULL));
	assert_true(host_tracker(m, "n64.example", NULL));
	assert_true(host_tracker(m, "n99.example", NULL));
	matcher_free(m);
}

static void test_not_lists(void **state)
{
	(void)state;
	parser parsers[] = { parse_hosts, parse_domains, parse_abp };
	for (size_t i = 0; i < sizeof parsers / sizeof parsers[0]; i++) {
		struct parse_error err = load_fail_n(parsers[i], "", 0);
		assert_string_equal(err.reason, "empty file");
		assert_int_equal(err.line, 0);

		if (parsers[i] == parse_abp)
			err = load_fail(parsers[i], "! comment\n\n   \n[Adblock Plus 2.0]\n! another\n");
		else
			err = load_fail(parsers[i], "# comment\n\n   \n# another\n! and this\n");
		assert_non_null(strstr(err.reason, "no rules"));
		assert_int_equal(err.line, 0);

		err = load_fail(parsers[i], "\n\n");
		assert_non_null(strstr(err.reason, "no rules"));

		/* A NUL byte: binary, whatever else the file holds; the line is named. */
		static const char binary[] = "0.0.0.0 a.com\n||b.com^\n\nc.com\0d.com\n";
		err = load_fail_n(parsers[i], binary, sizeof binary - 1);
		assert_int_equal(err.line, 4);
		assert_non_null(strstr(err.reason, "NUL"));
		err = load_fail_n(parsers[i], "\0", 1);
		assert_int_equal(err.line, 1);
	}
}

static void test_long_lines(void **state)
{
	(void)state;
	parser parsers[] = { parse_hosts, parse_domains, parse_abp };
	const char *const rule[] = { "0.0.0.0 ", "", "||" };
	for (size_t i = 0; i < sizeof parsers / sizeof parsers[0]; i++) {
		/* Line 2 is one byte too long; line 3 is exactly the longest taken. */
		size_t cap = 3 * LIST_MAX_LINE + 100;
		char *buf = malloc(cap);
		assert_non_null(buf);
		size_t n = (size_t)snprintf(buf, cap, "%sfirst.example\n", rule[i]);
		size_t start = n;
		n += (size_t)snprintf(buf + n, cap - n, "%s", rule[i]);
		while (n - start < LIST_MAX_LINE + 1)
			buf[n++] = 'a';
		buf[n++] = '\n';
		start = n;
		n += (size_t)snprintf(buf + n, cap - n, "%sexact.example", rule[i]);
		/* Pad with blanks: trimmed, but they count toward the line's length. */
		while (n - start < LIST_MAX_LINE)
			buf[n++] = ' ';
		buf[n++] = '\n';
		n += (size_t)snprintf(buf + n, cap - n, "%slast.example", rule[i]);
		int rc;
		struct parse_error err;
		struct matcher *m = load_n(parsers[i], buf, n, &rc, &err);
		assert_int_equal(rc, 0);
		assert_int_equal(info(m)->rules, 3);
		assert_skip(m, "line too long", 1, 2);
		assert_true(host_tracker(m, "first.example", NULL));
		assert_true(host_tracker(m, "exact.example", NULL));
		assert_true(host_tracker(m, "last.example", NULL));
		matcher_free(m);

		/* A file of only an over-long line is no list. */
		n = 0;
		while (n < LIST_MAX_LINE + 10)
			buf[n++] = 'b';
		struct parse_error e = load_fail_n(parsers[i], buf, n);
		assert_int_equal(e.line, 1);
		assert_non_null(strstr(e.reason, "line too long"));
		free(buf);
	}
}

static void test_only_skipped(void **state)
{
	(void)state;
	struct parse_error err = load_fail(parse_hosts, "# x\n127.0.0.1 localhost\n::1 ip6-localhost\n");
	assert_int_equal(err.line, 2);
	assert_non_null(strstr(err.reason, "local name"));
	assert_non_null(strstr(err.reason, "2 skipped"));

	err = load_fail(parse_abp, "! x\n##.ad\nexample.com##.banner\n");
	assert_int_equal(err.line, 2);
	assert_non_null(strstr(err.reason, "cosmetic"));
}

/* ---- domain lists --------------------------------------------------------- */

static void test_domains(void **state)
{
	(void)state;
	struct matcher *m = load_ok(parse_domains,
		"# comment\n"                 /* 1 */
		"*.example.com\n"             /* 2 */
		"plain.org\n"                 /* 3 */
		"! also a comment\n"          /* 4 */
		"bad name.net\n"              /* 5 */
		"*.\n"                        /* 6 */
		"  spaced.net  \r\n"          /* 7 */
		"0.0.0.0 hosts.style\n"       /* 8 */
		"tail.example # comment\n"    /* 9 */
		"a..b\n"                      /* 10 */
		"127.0.0.1\n"                 /* 11 */
		"localhost\n"                 /* 12 */
		"last.org");                  /* 13 */
	const struct list_info *l = info(m);
	assert_int_equal(l->rules, 5);
	assert_skip(m, "more than one field", 2, 5);
	assert_skip(m, "not a host name", 2, 6);
	assert_skip(m, "address, not a name", 1, 11);
	assert_skip(m, "local name", 1, 12);
	assert_skips_consistent(m);
	assert_true(host_tracker(m, "a.example.com", NULL));
	assert_true(host_tracker(m, "example.com", NULL));
	assert_true(host_tracker(m, "plain.org", NULL));
	assert_true(host_tracker(m, "www.plain.org", NULL));
	assert_true(host_tracker(m, "spaced.net", NULL));
	assert_true(host_tracker(m, "tail.example", NULL));
	assert_true(host_tracker(m, "last.org", NULL));
	assert_false(host_tracker(m, "hosts.style", NULL));
	assert_false(host_tracker(m, "name.net", NULL));
	assert_false(host_tracker(m, "org", NULL));
	matcher_free(m);
}

/* ---- Adblock Plus --------------------------------------------------------- */

static void test_abp_host_rules(void **state)
{
	(void)state;
	struct matcher *m = load_ok(parse_abp,
		"[Adblock Plus 2.0]\n"                       /* 1 */
		"! Title: test\n"                            /* 2 */
		"||ads.example^\n"                           /* 3 */
		"||tp.example^$third-party\n"                /* 4 */
		"||fp.example^$~third-party\n"               /* 5 */
		"||typed.example^$script,image\n"            /* 6 */
		"||nots.example^$~script\n"                  /* 7 */
		"||dom.example^$domain=a.com|~b.a.com\n"     /* 8 */
		"||UPPER.Example^\n"                         /* 9 */
		"||bare.example\n"                           /* 10 */
		"||piped.example^|\n");                      /* 11 */
	assert_int_equal(info(m)->rules, 9);
	assert_int_equal(info(m)->skipped, 0);

	struct match r = host_match(m, "ads.example", NULL);
	assert_true(r.tracker);
	assert_false(r.host_only);
	assert_string_equal(r.decided.text, "||ads.example^");
	assert_string_equal(r.decided.domain, "ads.example");
	assert_true(host_tracker(m, "x.ads.example", NULL));
	assert_false(host_tracker(m, "bads.example", NULL));
	assert_true(host_tracker(m, "upper.example", NULL));
	assert_true(host_tracker(m, "bare.example", NULL));
	assert_true(host_tracker(m, "piped.example", NULL));

	/* $third-party */
	assert_false(host_tracker(m, "tp.example", "www.tp.example"));
	assert_true(host_tracker(m, "cdn.tp.example", "news.example"));
	r = host_match(m, "tp.example", NULL);
	assert_true(r.tracker);
	assert_int_equal(r.third_party, -1);
	r = host_match(m, "tp.example", "news.example");
	assert_int_equal(r.third_party, 1);

	/* $~third-party */
	r = host_match(m, "fp.example", "fp.example");
	assert_true(r.tracker);
	assert_int_equal(r.third_party, 0);
	assert_false(host_tracker(m, "fp.example", "news.example"));
	assert_true(host_tracker(m, "fp.example", NULL));

	/* $script,image: a bare name cannot tell the type */
	r = host_match(m, "typed.example", NULL);
	assert_true(r.tracker);
	assert_true(r.host_only);
	r = url_match(m, "https://typed.example/a.js", NULL, RT_SCRIPT);
	assert_true(r.tracker);
	assert_false(r.host_only);
	assert_true(url_tracker(m, "https://typed.example/a.png", NULL, RT_IMAGE));
	assert_false(url_tracker(m, "https://typed.example/x", NULL, RT_XHR));

	/* $~script: every other type */
	assert_false(url_tracker(m, "https://nots.example/a.js", NULL, RT_SCRIPT));
	assert_true(url_tracker(m, "https://nots.example/a.png", NULL, RT_IMAGE));
	r = host_match(m, "nots.example", NULL);
	assert_true(r.tracker);
	assert_true(r.host_only);

	/* $domain=a.com|~b.a.com */
	assert_true(host_tracker(m, "dom.example", "a.com"));
	assert_true(host_tracker(m, "dom.example", "www.a.com"));
	assert_false(host_tracker(m, "dom.example", "b.a.com"));
	assert_false(host_tracker(m, "dom.example", "x.b.a.com"));
	assert_false(host_tracker(m, "dom.example", "c.com"));
	assert_false(host_tracker(m, "dom.example", "aa.com"));
	assert_false(host_tracker(m, "dom.example", NULL));
	matcher_free(m);
}

static void test_abp_exceptions(void **state)
{
	(void)state;
	struct matcher *m = load_ok(parse_abp,
		"||ads.example^\n"
		"@@||ok.ads.example^\n"
		"||t.example^\n"
		"@@||t.example^$script\n"
		"||gh.example^\n"
		"@@||gh.example/allowed/\n");
	assert_int_equal(info(m)->rules, 6);
	assert_true(host_tracker(m, "ads.example", NULL));
	struct match r = host_match(m, "ok.ads.example", NULL);
	assert_false(r.tracker);
	assert_true(r.decided.exception);
	assert_int_equal(r.decided.list, 0);
	assert_string_equal(r.decided.text, "@@||ok.ads.example^");
	assert_string_equal(r.decided.domain, "ok.ads.example");
	assert_int_equal(r.lists, 1);
	assert_false(host_tracker(m, "deep.ok.ads.example", NULL));

	/* An exception for scripts only does not clear the bare name. */
	r = host_match(m, "t.example", NULL);
	assert_true(r.tracker);
	assert_false(r.host_only);
	assert_string_equal(r.decided.text, "||t.example^");
	assert_false(url_tracker(m, "https://t.example/a.js", NULL, RT_SCRIPT));
	assert_true(url_tracker(m, "https://t.example/a.png", NULL, RT_IMAGE));
	assert_true(url_tracker(m, "https://t.example/a", NULL, 0));

	/* A URL exception: only for the URLs it matches. */
	assert_true(host_tracker(m, "gh.example", NULL));
	r = url_match(m, "https://gh.example/allowed/x", NULL, 0);
	assert_false(r.tracker);
	assert_true(r.decided.exception);
	assert_string_equal(r.decided.text, "@@||gh.example/allowed/");
	assert_true(url_tracker(m, "https://gh.example/other/x", NULL, 0));
	matcher_free(m);
}

static void test_abp_skips(void **state)
{
	(void)state;
	struct matcher *m = load_ok(parse_abp,
		"[Adblock Plus 2.0]\n"                          /* 1 */
		"##.ad\n"                                       /* 2 */
		"example.com##.ad\n"                            /* 3 */
		"example.com#@#.ad\n"                           /* 4 */
		"! ||commented.example^\n"                      /* 5 */
		"/ads[0-9]+/\n"                                 /* 6 */
		"||csp.example^$csp=script-src 'none'\n"        /* 7 */
		"||unk.example^$frobnicate\n"                   /* 8 */
		"example.com$$script[data-src]\n"               /* 9 */
		"||rp.example^$removeparam=utm_source\n"        /* 10 */
		"/banner/*/img$script,third-party\n"            /* 11: a URL rule */
		"||ok.example^\n"                               /* 12 */
		"||none.example^$~all\n"                        /* 13 */
		"/track[a-z]+/$script\n"                        /* 14 */
		"example.org#?#div:has(.ad)\n"                  /* 15 */
		"||dom.example^$~domain=x.com\n"                /* 16 */
		"##.ad2\n");                                    /* 17 */
	const struct list_info *l = info(m);
	assert_int_equal(l->rules, 2);
	assert_skip(m, "cosmetic", 4, 2);
	assert_skip(m, "cosmetic exception", 1, 4);
	assert_skip(m, "regular expression", 2, 6);
	assert_skip(m, "option csp", 1, 7);
	assert_skip(m, "unknown option", 2, 8);
	assert_skip(m, "html filter", 1, 9);
	assert_skip(m, "option removeparam", 1, 10);
	assert_skip(m, "no resource type left", 1, 13);
	assert_int_equal(l->skipped, 13);
	assert_skips_consistent(m);
	assert_false(host_tracker(m, "commented.example", NULL));
	assert_false(host_tracker(m, "csp.example", NULL));
	assert_false(host_tracker(m, "unk.example", NULL));
	assert_false(host_tracker(m, "rp.example", NULL));
	assert_true(host_tracker(m, "ok.example", NULL));
	assert_false(url_tracker(m, "https://x.example/ads12/", NULL, 0));
	assert_true(url_tracker(m, "https://x.example/banner/1/img.js", "news.example", RT_SCRIPT));
	assert_false(url_tracker(m, "https://x.example/banner/1/img.js", "x.example", RT_SCRIPT));
	matcher_free(m);
}

static void test_abp_url_rules(void **state)
{
	(void)state;
	struct matcher *m = load_ok(parse_abp,
		"||github.com/_private/browser/stats\n"
		"||wikipedia.org/beacon/\n"
		"/fp_204?\n"
		"|https://x.example/\n"
		"&ad_type=\n"
		"||cdn*.example.com^\n"
		"||case.example/Ads/$match-case\n"
		"||nocase.example/Ads/\n"
		"||adservice.google.\n");
	assert_int_equal(info(m)->rules, 9);

	/* URL rules only: the bare names are no trackers. */
	struct match r = host_match(m, "github.com", NULL);
	assert_false(r.tracker);
	assert_int_equal(r.decided.list, -1);
	assert_int_equal(r.lists, 0);
	assert_false(host_tracker(m, "api.github.com", NULL));
	assert_false(host_tracker(m, "wikipedia.org", NULL));

	r = url_match(m, "https://github.com/_private/browser/stats", NULL, 0);
	assert_true(r.tracker);
	assert_string_equal(r.decided.text, "||github.com/_private/browser/stats");
	assert_int_equal(r.decided.list, 0);
	assert_int_equal(r.lists, 1);
	assert_true(url_tracker(m, "https://api.github.com/_private/browser/stats", NULL, RT_XHR));
	assert_true(url_tracker(m, "https://github.com/_private/browser/stats?x=1", NULL, 0));
	assert_true(url_tracker(m, "https://GitHub.COM/_private/browser/stats", NULL, 0));
	assert_false(url_tracker(m, "https://github.com/_private/browser/other", NULL, 0));
	assert_false(url_tracker(m, "https://github.com/x/_private/browser/stats", NULL, 0));
	assert_false(url_tracker(m, "https://notgithub.com/_private/browser/stats", NULL, 0));
	assert_false(url_tracker(m, "https://github.com.evil.example/_private/browser/stats", NULL, 0));

	assert_true(url_tracker(m, "https://en.wikipedia.org/beacon/event?a=1", NULL, RT_PING));
	assert_true(url_tracker(m, "https://wikipedia.org/beacon/", NULL, 0));
	assert_false(url_tracker(m, "https://en.wikipedia.org/wiki/Beacon", NULL, 0));
	assert_false(url_tracker(m, "https://en.wikipedia.org/beacon", NULL, 0));

	assert_true(url_tracker(m, "https://www.google.com/fp_204?x=1", NULL, 0));
	assert_true(url_tracker(m, "http://a.example/dir/fp_204?", NULL, 0));
	assert_false(url_tracker(m, "https://www.google.com/fp_2045", NULL, 0));
	assert_false(url_tracker(m, "https://www.google.com/fp_204", NULL, 0));

	assert_true(url_tracker(m, "https://x.example/a", NULL, 0));
	assert_false(url_tracker(m, "http://x.example/a", NULL, 0));
	assert_false(url_tracker(m, "https://y.example/?u=https://x.example/", NULL, 0));
	assert_false(url_tracker(m, "https://x.example.org/", NULL, 0));

	assert_true(url_tracker(m, "https://a.example/q?x=1&ad_type=banner", NULL, 0));
	assert_false(url_tracker(m, "https://a.example/q?x=1&ad_typ", NULL, 0));

	/* A generic pattern of the host alone decides bare names too (matcher.c). */
	r = host_match(m, "cdn1.example.com", NULL);
	assert_true(r.tracker);
	assert_string_equal(r.decided.text, "||cdn*.example.com^");
	assert_false(host_tracker(m, "example.com", NULL));
	assert_false(host_tracker(m, "cdn1.example.community", NULL));
	assert_true(url_tracker(m, "https://cdn1.example.com/x.js", NULL, 0));
	assert_true(url_tracker(m, "https://cdn.example.com", NULL, 0));
	assert_true(url_tracker(m, "https://www.cdn2.example.com/", NULL, 0));
	assert_false(url_tracker(m, "https://example.com/", NULL, 0));
	assert_false(url_tracker(m, "https://cdn1.example.community/", NULL, 0));
	assert_false(url_tracker(m, "https://xcdn1.example.com/", NULL, 0));

	/* "||name." is a prefix of names: any suffix follows. */
	assert_true(host_tracker(m, "adservice.google.com", NULL));
	assert_true(host_tracker(m, "x.adservice.google.co.uk", NULL));
	assert_false(host_tracker(m, "adservice.google", NULL));
	assert_false(host_tracker(m, "xadservice.google.com", NULL));
	assert_true(url_tracker(m, "https://adservice.google.de/ddm/x", NULL, 0));
	assert_false(url_tracker(m, "https://www.google.com/adservice.google.com", NULL, 0));

	assert_true(url_tracker(m, "https://case.example/Ads/1", NULL, 0));
	assert_false(url_tracker(m, "https://case.example/ads/1", NULL, 0));
	assert_true(url_tracker(m, "https://nocase.example/ads/1", NULL, 0));
	assert_true(url_tracker(m, "https://nocase.example/ADS/1", NULL, 0));
	matcher_free(m);
}

static void test_abp_popup(void **state)
{
	(void)state;
	struct matcher *m = load_ok(parse_abp, "||example.com^$popup\n");
	assert_int_equal(info(m)->rules, 1);
	assert_int_equal(info(m)->skipped, 0);
	/* A rule for one resource type: a bare name is reported as host-only. */
	struct match r = host_match(m, "example.com", NULL);
	assert_true(r.tracker);
	assert_true(r.host_only);
	assert_false(url_tracker(m, "https://example.com/", NULL, RT_SCRIPT));
	assert_false(url_tracker(m, "https://example.com/", NULL, RT_DOCUMENT));
	assert_true(url_tracker(m, "https://example.com/", NULL, RT_POPUP));
	matcher_free(m);
}

static void test_abp_line_forms(void **state)
{
	(void)state;
	/* CRLF, blanks around rules, no final newline, '!' after blanks. */
	struct matcher *m = load_ok(parse_abp,
		"! header\r\n"
		"  ||one.example^  \r\n"
		"\t! indented comment\r\n"
		"\r\n"
		"||two.example^$third-party,script\r\n"
		"@@||ok.one.example^\r\n"
		"||three.example^");
	assert_int_equal(info(m)->rules, 4);
	assert_int_equal(info(m)->skipped, 0);
	assert_true(host_tracker(m, "one.example", NULL));
	assert_false(host_tracker(m, "ok.one.example", NULL));
	assert_true(url_tracker(m, "https://two.example/a.js", "site.example", RT_SCRIPT));
	assert_false(url_tracker(m, "https://two.example/a.js", "two.example", RT_SCRIPT));
	assert_true(host_tracker(m, "three.example", NULL));
	assert_string_equal(host_match(m, "one.example", NULL).decided.text, "||one.example^");
	matcher_free(m);
}

/* $important blocks win over exceptions (uBlock Origin's meaning); option names ignore case. */
static void test_abp_important_and_case(void **state)
{
	(void)state;
	struct matcher *m = load_ok(parse_abp,
		"||imp.example^$important\n"
		"@@||imp.example^\n"
		"||plain.example^\n"
		"@@||plain.example^\n"
		"||typed.example^$Script,THIRD-PARTY\n");
	struct match r;
	matcher_lookup_host(m, "a.imp.example", 13, NULL, &r);
	assert_true(r.tracker);
	assert_string_equal(r.decided.text, "||imp.example^$important");
	assert_false(r.decided.exception);
	matcher_lookup_host(m, "a.plain.example", 15, NULL, &r);
	assert_false(r.tracker);
	assert_true(r.decided.exception);
	assert_int_equal(info(m)->skipped, 0);
	assert_true(url_tracker(m, "https://typed.example/a.js", "site.example", RT_SCRIPT));
	assert_false(url_tracker(m, "https://typed.example/a.png", "site.example", RT_IMAGE));
	assert_false(url_tracker(m, "https://typed.example/a.js", "typed.example", RT_SCRIPT));
	matcher_free(m);
}

/*
 * From a review: $important on URL rules and host patterns wins over
 * exceptions too; "$all" restricts nothing; "$domain=" naming no site is
 * left out rather than widened to every site; a hostile unanchored pattern
 * against a long URL is matched in one pass.
 */
static void test_abp_review_fixes(void **state)
{
	(void)state;
	struct matcher *m = load_ok(parse_abp,
		"||imp2.example/ads$important\n"
		"@@||imp2.example^\n"
		"||cdn*.imp3.example^$important\n"
		"@@||cdn1.imp3.example^\n"
		"||all.example^$all\n"
		"||nosite.example^$domain=~\n"
		"a*aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab\n");
	assert_true(url_tracker(m, "https://imp2.example/ads", NULL, RT_SCRIPT));
	assert_false(url_tracker(m, "https://imp2.example/other", NULL, RT_SCRIPT));
	assert_true(host_tracker(m, "cdn1.imp3.example", NULL));
	struct match r;
	matcher_lookup_host(m, "x.all.example", 13, NULL, &r);
	assert_true(r.tracker);
	assert_false(r.host_only);
	assert_false(host_tracker(m, "nosite.example", NULL));
	assert_skip(m, "empty domain option", 1, 6);
	/* 239 empty labels before a listed name: the labels at the end still count. */
	char many[256];
	memset(many, '.', 240);
	strcpy(many + 240, "x.all.example");
	assert_true(host_tracker(m, many, NULL));
	static char long_url[8200] = "https://long.example/";
	memset(long_url + strlen(long_url), 'a', sizeof long_url - 1 - strlen(long_url));
	assert_false(url_tracker(m, long_url, NULL, RT_IMAGE));
	matcher_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hosts_lines),
		cmocka_unit_test(test_hosts_odd_lines),
		cmocka_unit_test(test_hosts_bad_names),
		cmocka_unit_test(test_abp_important_and_case),
		cmocka_unit_test(test_abp_review_fixes),
		cmocka_unit_test(test_hosts_many_names),
		cmocka_unit_test(test_not_lists),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_only_skipped),
		cmocka_unit_test(test_domains),
		cmocka_unit_test(test_abp_host_rules),
		cmocka_unit_test(test_abp_exceptions),
		cmocka_unit_test(test_abp_skips),
		cmocka_unit_test(test_abp_url_rules),
		cmocka_unit_test(test_abp_popup),
		cmocka_unit_test(test_abp_line_forms),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
