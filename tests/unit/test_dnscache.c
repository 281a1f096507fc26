/* Unit tests for daemon/dnscache.c: the address -> resolved name cache. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "../../daemon/dnscache.h"

static const uint64_t S = 1000000; /* one second in microseconds */

static void test_put_get(void **state)
{
	(void)state;
	struct dns_cache *c = dns_cache_new(64, 1);
	assert_non_null(c);
	const uint8_t v4[4] = { 192, 0, 2, 1 };
	uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8 };
	v6[15] = 1;
	assert_null(dns_cache_get(c, v4, 4, 0));
	dns_cache_put(c, v4, 4, "news.example", 3600, 10 * S);
	dns_cache_put(c, v6, 16, "cdn.example", 3600, 10 * S);
	assert_string_equal(dns_cache_get(c, v4, 4, 11 * S), "news.example");
	assert_string_equal(dns_cache_get(c, v6, 16, 11 * S), "cdn.example");
	/* An IPv6 address whose first four bytes are an IPv4 address is another key. */
	uint8_t v6_like[16] = { 192, 0, 2, 1 };
	assert_null(dns_cache_get(c, v6_like, 16, 11 * S));
	/* The latest answer for an address wins. */
	dns_cache_put(c, v4, 4, "tracker.example", 3600, 12 * S);
	assert_string_equal(dns_cache_get(c, v4, 4, 13 * S), "tracker.example");
	assert_int_equal(dns_cache_stats(c)->puts, 3);
	assert_int_equal(dns_cache_stats(c)->hits, 3);
	dns_cache_free(c);
}

static void test_ttl_clamped(void **state)
{
	(void)state;
	struct dns_cache *c = dns_cache_new(16, 2);
	const uint8_t a[4] = { 10, 0, 0, 1 }, b[4] = { 10, 0, 0, 2 };
	/* A TTL of 0 is kept for the minimum: connections outlive short TTLs. */
	dns_cache_put(c, a, 4, "short.example", 0, 0);
	assert_non_null(dns_cache_get(c, a, 4, (DNS_CACHE_MIN_TTL_S - 1) * S));
	assert_null(dns_cache_get(c, a, 4, DNS_CACHE_MIN_TTL_S * S));
	/* A week is cut to the maximum. */
	dns_cache_put(c, b, 4, "long.example", 7 * 86400, 0);
	assert_non_null(dns_cache_get(c, b, 4, (DNS_CACHE_MAX_TTL_S - 1) * S));
	assert_null(dns_cache_get(c, b, 4, DNS_CACHE_MAX_TTL_S * S));
	dns_cache_free(c);
}

static void test_bad_input(void **state)
{
	(void)state;
	struct dns_cache *c = dns_cache_new(0, 3); /* rounded up to one set */
	assert_non_null(c);
	const uint8_t a[16] = { 1 };
	dns_cache_put(c, a, 5, "odd-length.example", 60, 0);
	dns_cache_put(c, a, 0, "empty.example", 60, 0);
	dns_cache_put(c, a, 4, "", 60, 0);
	assert_int_equal(dns_cache_stats(c)->puts, 0);
	assert_null(dns_cache_get(c, a, 5, 0));
	assert_null(dns_cache_get(c, a, 4, 0));
	/* A name of 300 bytes is cut to 255. */
	char name[301];
	memset(name, 'a', 300);
	name[300] = '\0';
	dns_cache_put(c, a, 4, name, 60, 0);
	const char *got = dns_cache_get(c, a, 4, 0);
	assert_non_null(got);
	assert_int_equal(strlen(got), DNS_CACHE_NAME_MAX - 1);
	assert_null(dns_cache_new(SIZE_MAX, 0));
	dns_cache_free(c);
}

/* A flood of answers never grows the cache: a full set loses the entry that expires first. */
static void test_bounded_under_flood(void **state)
{
	(void)state;
	enum { WAYS = 8 };
	struct dns_cache *c = dns_cache_new(WAYS, 4); /* one set */
	uint8_t addr[4] = { 198, 51, 100, 0 };
	for (unsigned i = 0; i < WAYS; i++) {
		addr[3] = (uint8_t)i;
		dns_cache_put(c, addr, 4, "kept.example", 700 + i * 100, 0);
	}
	assert_int_equal(dns_cache_stats(c)->replaced, 0);
	addr[3] = 200;
	dns_cache_put(c, addr, 4, "new.example", 3600, S);
	assert_int_equal(dns_cache_stats(c)->replaced, 1);
	addr[3] = 0; /* expired first: replaced */
	assert_null(dns_cache_get(c, addr, 4, 2 * S));
	for (unsigned i = 1; i < WAYS; i++) {
		addr[3] = (uint8_t)i;
		assert_string_equal(dns_cache_get(c, addr, 4, 2 * S), "kept.example");
	}
	for (unsigned i = 0; i < 100000; i++) {
		uint8_t flood[4] = { (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i, 7 };
		dns_cache_put(c, flood, 4, "flood.example", 60, 3 * S);
	}
	/* Short-lived flood answers take one way: the longer-lived entries stay. */
	addr[3] = 200;
	assert_string_equal(dns_cache_get(c, addr, 4, 4 * S), "new.example");
	addr[3] = WAYS - 1;
	assert_string_equal(dns_cache_get(c, addr, 4, 4 * S), "kept.example");
	assert_int_equal(dns_cache_stats(c)->replaced, 100001);
	dns_cache_free(c);
}

/* The same seed places addresses alike: a file gives the same output in every run. */
static void test_seeded_placement(void **state)
{
	(void)state;
	struct dns_cache *a = dns_cache_new(64, 42), *b = dns_cache_new(64, 42);
	for (unsigned i = 0; i < 5000; i++) {
		uint8_t addr[4] = { 10, (uint8_t)(i >> 8), (uint8_t)i, 1 };
		dns_cache_put(a, addr, 4, "x.example", 600, 0);
		dns_cache_put(b, addr, 4, "x.example", 600, 0);
	}
	assert_int_equal(dns_cache_stats(a)->replaced, dns_cache_stats(b)->replaced);
	for (unsigned i = 0; i < 5000; i++) {
		uint8_t addr[4] = { 10, (uint8_t)(i >> 8), (uint8_t)i, 1 };
		assert_int_equal(dns_cache_get(a, addr, 4, S) != NULL, dns_cache_get(b, addr, 4, S) != NULL);
	}
	dns_cache_free(a);
	dns_cache_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_get),
		cmocka_unit_test(test_ttl_clamped),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_bounded_under_flood),
		cmocka_unit_test(test_seeded_placement),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
