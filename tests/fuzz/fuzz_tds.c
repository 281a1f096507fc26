/*
 * libFuzzer harness for parse_tds(): the input is a Tracker Data Set, fed
 * from a heap copy of exactly its length. Besides ASan's and UBSan's
 * checks, it aborts if the parser returns anything but 0 or -1, fails
 * without a reason, or leaves the list's skip counts inconsistent; after a
 * success it looks up names and URLs (the regex rules run on these) in the
 * finished matcher.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../blocklists/matcher.h"
#include "../../blocklists/parsers.h"
#include "list_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);
	struct matcher *m = matcher_new();
	int list = m ? matcher_add_list(m, "tds", "fuzz", LIST_TDS, NULL) : -1;
	if (!buf || list < 0)
		abort();
	if (size)
		memcpy(buf, data, size);

	struct parse_error err = { .line = 0 };
	int rc = parse_tds(m, list, buf, size, &err);
	list_fuzz_check(m, list, rc, &err);
	if (rc == 0) {
		if (matcher_finish(m) != 0)
			abort();
		struct match out;
		static const char *const names[] = { "www.google-analytics.com", "metrics.shop.example",
						     "connect.facebook.net" };
		for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
			matcher_lookup_host(m, names[i], strlen(names[i]), NULL, &out);
		static const char *const urls[] = {
			"https://connect.facebook.net/en_US/fbevents.js",
			"https://www.tiktok.com/embed/v2/1",
			"https://a.example/b?c=d",
		};
		for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++)
			matcher_lookup_url(m, urls[i], strlen(urls[i]), "shop.example", RT_SCRIPT, &out);
		matcher_lookup_host(m, buf, size < 64 ? size : 64, NULL, &out);
	}
	matcher_free(m);
	free(buf);
	return 0;
}
