/*
 * libFuzzer harness for parse_hosts() and parse_domains(): the input's first
 * byte chooses the reader (even: hosts file, odd: domain list), the rest is
 * the file, fed from a heap copy of exactly its length. Besides ASan's and
 * UBSan's checks, it aborts if the parser returns anything but 0 or -1,
 * fails without a reason, succeeds with no rule, or leaves the list's skip
 * counts inconsistent; after a success it looks names up in the finished
 * matcher, among them the file's own first field.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../blocklists/matcher.h"
#include "../../blocklists/parsers.h"
#include "list_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	bool hosts = (data[0] & 1) == 0;
	data++;
	size--;
	char *buf = malloc(size ? size : 1);
	struct matcher *m = matcher_new();
	enum list_format format = hosts ? LIST_HOSTS : LIST_DOMAINS;
	int list = m ? matcher_add_list(m, "names", "fuzz", format, NULL) : -1;
	if (!buf || list < 0)
		abort();
	if (size)
		memcpy(buf, data, size);

	struct parse_error err = { .line = 0 };
	int rc = hosts ? parse_hosts(m, list, buf, size, &err) : parse_domains(m, list, buf, size, &err);
	list_fuzz_check(m, list, rc, &err);
	if (rc == 0 && matcher_list_info(m, list)->rules == 0)
		abort();
	if (rc == 0) {
		if (matcher_finish(m) != 0)
			abort();
		struct match out;
		static const char *const names[] = { "localhost", "doubleclick.net", "a.b.example.com", "0.0.0.0" };
		for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
			matcher_lookup_host(m, names[i], strlen(names[i]), NULL, &out);
			/* A hosts file never makes localhost a tracker. */
			if (out.tracker && i == 0)
				abort();
			if (out.tracker && (out.host_only || out.decided.list != list))
				abort();
		}
		/* The first name-like field of the file: its own rule, when it has one. */
		size_t start = 0;
		while (start < size && (buf[start] == ' ' || buf[start] == '\t'))
			start++;
		size_t end = start;
		while (end < size && buf[end] != ' ' && buf[end] != '\t' && buf[end] != '\n' &&
		       buf[end] != '\r' && buf[end] != '#')
			end++;
		matcher_lookup_host(m, buf + start, end - start, "example.com", &out);
		if (out.tracker && (out.decided.list != list || !out.decided.text || out.host_only))
			abort();
		if (!out.tracker && out.decided.list != -1)
			abort();
	}
	matcher_free(m);
	free(buf);
	return 0;
}
