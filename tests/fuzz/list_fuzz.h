/*
 * For the list parsers' fuzz harnesses: what every parser must leave behind,
 * whatever its input. Include after matcher.h and parsers.h.
 */
#ifndef TRACKWATCH_LIST_FUZZ_H
#define TRACKWATCH_LIST_FUZZ_H

#include <stdlib.h>
#include <string.h>

/*
 * Aborts unless the parser returned 0 or -1, a failure has a reason (a
 * terminated string), and the list's skips are consistent: at most 16
 * reasons, each named and counted, adding up to the total skipped.
 */
static inline void list_fuzz_check(const struct matcher *m, int list, int rc, const struct parse_error *err)
{
	if (rc != 0 && rc != -1)
		abort();
	if (rc == -1 && (err->reason[0] == '\0' || !memchr(err->reason, '\0', sizeof err->reason)))
		abort();
	const struct list_info *info = matcher_list_info(m, list);
	if (!info || info->skip_reasons > 16)
		abort();
	uint32_t sum = 0;
	for (unsigned i = 0; i < info->skip_reasons; i++) {
		if (!info->skips[i].reason || info->skips[i].count == 0)
			abort();
		sum += info->skips[i].count;
	}
	if (sum != info->skipped)
		abort();
}

#endif
