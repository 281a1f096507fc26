/*
 * libFuzzer harness for parse_abp(): the input is an Adblock Plus filter
 * list, fed from a heap copy of exactly its length. Besides ASan's and
 * UBSan's checks, it aborts if the parser returns anything but 0 or -1,
 * fails without a reason, succeeds with no rule, or leaves the list's skip
 * counts inconsistent. After a success it finishes the matcher and looks up
 * fixed names and URLs, a name and a URL made of the input's first bytes
 * (so that the rules' own patterns meet text like theirs), and checks that
 * what a lookup reports holds together.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../blocklists/matcher.h"
#include "../../blocklists/parsers.h"
#include "list_fuzz.h"

static void check_match(const struct match *r)
{
	if (r->tracker && (r->decided.list != 0 || !r->decided.text || r->decided.exception))
		abort();
	if (!r->tracker && r->host_only)
		abort();
	if (r->decided.list >= 0 && (r->lists & 1) == 0)
		abort();
	if (r->lists & ~(uint64_t)1)
		abort();
	if (r->third_party < -1 || r->third_party > 1 || r->category_count > MATCH_MAX_CATEGORIES)
		abort();
	if (r->tracker && (!r->category || strcmp(r->category, "Tracking") != 0))
		abort();
	if (r->decided.text)
		(void)strlen(r->decided.text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);
	struct matcher *m = matcher_new();
	int list = m ? matcher_add_list(m, "abp", "fuzz", LIST_ABP, "Tracking") : -1;
	if (!buf || list < 0)
		abort();
	if (size)
		memcpy(buf, data, size);

	struct parse_error err = { .line = 0 };
	int rc = parse_abp(m, list, buf, size, &err);
	list_fuzz_check(m, list, rc, &err);
	if (rc == 0 && matcher_list_info(m, list)->rules == 0)
		abort();
	if (rc == 0) {
		if (matcher_finish(m) != 0)
			abort();
		struct match out;
		static const char *const names[] = { "www.google-analytics.com", "ads.example.com",
						     "EXAMPLE.COM.:443", "[::1]:80", "a.b.c.d.e.f.g" };
		for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
			matcher_lookup_host(m, names[i], strlen(names[i]), NULL, &out);
			check_match(&out);
			matcher_lookup_host(m, names[i], strlen(names[i]), "news.example.co.uk", &out);
			check_match(&out);
		}
		static const char *const urls[] = {
			"https://www.google-analytics.com/collect?v=1&tid=UA-1",
			"http://ads.example.com:8080/banner/ad.gif?x=1#f",
			"https://github.com/_private/browser/stats",
		};
		static const uint32_t types[] = { 0, RT_SCRIPT, RT_IMAGE, RT_XHR };
		for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
			matcher_lookup_url(m, urls[i], strlen(urls[i]), "example.com", types[i % 4], &out);
			check_match(&out);
		}
		/* The input's first bytes as a host, and as the path of a URL. */
		size_t n = size < 200 ? size : 200;
		char site[128];
		snprintf(site, sizeof site, "%.*s", (int)(n - n / 2), buf + n / 2);
		matcher_lookup_host(m, buf, n, site, &out);
		check_match(&out);
		char url[256 + 32];
		int len = snprintf(url, sizeof url, "https://%.*s/%.*s", (int)(n / 2), buf, (int)(n - n / 2), buf + n / 2);
		if (len > 0) {
			char *exact = malloc((size_t)len);
			if (!exact)
				abort();
			memcpy(exact, url, (size_t)len);   /* no NUL after it */
			matcher_lookup_url(m, exact, (size_t)len, NULL, size ? (uint32_t)1 << (data[0] % 13) : 0, &out);
			check_match(&out);
			free(exact);
		}
	}
	matcher_free(m);
	free(buf);
	return 0;
}
