/*
 * libFuzzer harness for parse_disconnect(): the input is services.json, then
 * (after the first NUL byte, when there is one) entities.json. Each is fed
 * from a heap copy of exactly its length. Besides ASan's and UBSan's checks,
 * it aborts if the parser returns anything but 0 or -1, fails without a
 * reason, or leaves the list's skip counts inconsistent; after a success it
 * looks a few names up in the finished matcher.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../blocklists/matcher.h"
#include "../../blocklists/parsers.h"
#include "list_fuzz.h"

static char *copy(const uint8_t *data, size_t len)
{
	char *p = malloc(len ? len : 1);
	if (p && len)
		memcpy(p, data, len);
	return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	size_t slen = nul ? (size_t)(nul - data) : size;
	char *services = copy(data, slen);
	char *entities = nul ? copy(nul + 1, size - slen - 1) : NULL;
	size_t elen = nul ? size - slen - 1 : 0;
	struct matcher *m = matcher_new();
	int list = m ? matcher_add_list(m, "disconnect", "fuzz", LIST_DISCONNECT, NULL) : -1;
	if (!services || (nul && !entities) || list < 0)
		abort();

	struct parse_error err = { .line = 0 };
	int rc = parse_disconnect(m, list, services, slen, entities, elen, NULL, &err);
	list_fuzz_check(m, list, rc, &err);
	if (rc == 0) {
		if (matcher_finish(m) != 0)
			abort();
		static const char *const names[] = { "doubleclick.net", "www.google-analytics.com",
						     "cookielaw.org", "a.b.c.example" };
		struct match out;
		for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
			matcher_lookup_host(m, names[i], strlen(names[i]), NULL, &out);
		/* A name from the input itself. */
		matcher_lookup_host(m, services, slen < 64 ? slen : 64, "example.com", &out);
	}
	matcher_free(m);
	free(services);
	free(entities);
	return 0;
}
