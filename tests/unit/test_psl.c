/*
 * matcher_registrable_domain() walks the names itself, over its own memo of
 * libpsl's public-suffix answers: it must give what libpsl's own
 * psl_registrable_domain() gives (the independent truth here), for tricky
 * names and for every name under the suffixes that make them tricky, asked
 * twice so the second answer comes from the memo.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <libpsl.h>

#include "../../blocklists/matcher.h"

static void same_as_libpsl(const psl_ctx_t *psl, const char *name)
{
	const char *want = psl_registrable_domain(psl, name);
	for (int round = 0; round < 2; round++) {
		const char *got = matcher_registrable_domain(name);
		if (!want || !got) {
			if (want != got)
				fail_msg("%s: libpsl %s, matcher %s", name, want ? want : "NULL", got ? got : "NULL");
			continue;
		}
		/* Both point into `name`. */
		assert_ptr_equal(got, want);
	}
}

static void test_tricky_names(void **state)
{
	(void)state;
	psl_ctx_t *psl = psl_latest(NULL);
	assert_non_null(psl);
	static const char *const names[] = {
		"www.example.com", "example.com", "com", "co.uk", "www.bbc.co.uk", "bbc.co.uk",
		"a.b.github.io", "github.io", "bucket.s3.amazonaws.com", "s3.amazonaws.com",
		"x.s3.amazonaws.com", "amazonaws.com", "www.amazonaws.com", "forgot.his.name",
		"his.name", "a.forgot.his.name", "x.ck", "www.ck", "a.www.ck", "ck",
		"a.b.c.d.e.f.example.co.jp", "www.city.kawasaki.jp", "city.kawasaki.jp",
		"localhost", "a.localhost", "unknowntld", "a.unknowntld", "www.example.unknowntld",
		"xn--fiqs8s", "www.xn--fiqs8s", "a.blogspot.com", "blogspot.com",
		"cdn.jsdelivr.net", "a.herokuapp.com", "www.google-analytics.com",
	};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		same_as_libpsl(psl, names[i]);
	/* Addresses have no registrable domain (libpsl would cut "3.4" off "10.0.3.4"). */
	assert_null(matcher_registrable_domain("10.0.3.4"));
	assert_null(matcher_registrable_domain("2001:db8::1"));
	psl_free(psl);
}

/* Many names, more than the memo holds, over suffixes of every kind. */
static void test_many_names(void **state)
{
	(void)state;
	psl_ctx_t *psl = psl_latest(NULL);
	assert_non_null(psl);
	static const char *const suffixes[] = {
		"com", "co.uk", "github.io", "s3.amazonaws.com", "amazonaws.com", "his.name", "ck",
		"kawasaki.jp", "blogspot.com", "org", "de", "example",
	};
	char name[128];
	for (int i = 0; i < 20000; i++) {
		const char *suffix = suffixes[i % (sizeof suffixes / sizeof suffixes[0])];
		switch (i % 3) {
		case 0:
			snprintf(name, sizeof name, "n%d.%s", i, suffix);
			break;
		case 1:
			snprintf(name, sizeof name, "www.n%d.%s", i / 7, suffix);
			break;
		default:
			snprintf(name, sizeof name, "a%d.b.n%d.%s", i % 11, i / 13, suffix);
			break;
		}
		same_as_libpsl(psl, name);
	}
	psl_free(psl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tricky_names),
		cmocka_unit_test(test_many_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
