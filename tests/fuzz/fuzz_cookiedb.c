/*
 * libFuzzer harness for parse_cookiedb(): the input is an Open Cookie
 * Database CSV, fed from a heap copy of exactly its length (not
 * NUL-terminated). Besides ASan's and UBSan's checks, it aborts if the
 * parser returns anything but 0 or -1, fails without a reason, leaves the
 * skip counts inconsistent, or a cookie it took has an empty name or misses
 * a field; after a success it looks a few cookie names up.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../blocklists/matcher.h"
#include "../../blocklists/parsers.h"
#include "list_fuzz.h"

static void check_cookie(const struct cookie_info *c)
{
	if (c && (!c->name || !*c->name || !c->platform || !c->category || !c->domain ||
		  !c->retention || !c->controller))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);
	struct matcher *m = matcher_new();
	int list = m ? matcher_add_list(m, "cookiedb", "fuzz", LIST_COOKIEDB, NULL) : -1;
	if (!buf || list < 0)
		abort();
	if (size)
		memcpy(buf, data, size);

	struct parse_error err = { .line = 0 };
	int rc = parse_cookiedb(m, list, buf, size, &err);
	list_fuzz_check(m, list, rc, &err);
	if (rc == 0) {
		if (matcher_finish(m) != 0)
			abort();
		static const char *const names[] = { "_ga", "_ga_XYZ", "_fbp", "OptanonConsent", "x" };
		for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
			check_cookie(matcher_lookup_cookie(m, names[i], strlen(names[i])));
		/* Names taken from the input: the bytes after each comma. */
		for (size_t i = 0; i + 1 < size; i++) {
			if (buf[i] != ',')
				continue;
			size_t n = 1;
			while (i + n < size && n < 32 && buf[i + n] != ',' && buf[i + n] != '\n')
				n++;
			check_cookie(matcher_lookup_cookie(m, buf + i + 1, n - 1));
		}
	}
	matcher_free(m);
	free(buf);
	return 0;
}
