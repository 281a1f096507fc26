/*
 * parsers: one reader per list format, each turning a whole file's bytes
 * into rules of one list of a matcher (matcher.h). They take hostile input:
 * a binary file, a truncated JSON document, a line of 100 MB or an empty
 * file gives an error or a count of skipped rules, never a crash.
 *
 * A parser returns 0 when the file is a list of its format (rules it could
 * not use are counted with matcher_skip(), by reason), or -1 when it is not
 * one at all, with `err` saying where and why; the caller then keeps the
 * old matcher. Out of memory is also -1 ("out of memory").
 */
#ifndef TRACKWATCH_PARSERS_H
#define TRACKWATCH_PARSERS_H

#include <stddef.h>

#include "matcher.h"

struct parse_error {
	unsigned line;             /* 1-based; 0 when the error has no line */
	char reason[200];
};

/* The longest line a line-based parser takes; longer lines are skipped ("line too long"). */
enum { LIST_MAX_LINE = 8192 };

/* Hosts file ("0.0.0.0 a.com b.com", comments with '#'), and plain domain lists (one name per line). */
int parse_hosts(struct matcher *m, int list, const char *buf, size_t len, struct parse_error *err);
int parse_domains(struct matcher *m, int list, const char *buf, size_t len, struct parse_error *err);

/* Adblock Plus / EasyList filter syntax. */
int parse_abp(struct matcher *m, int list, const char *buf, size_t len, struct parse_error *err);

/*
 * Disconnect's services.json (categories → entities → domains) and, when
 * `entities` is not NULL, entities.json (entity → properties, resources).
 * Categories in `not_tracking` (NULL-terminated; NULL = the default,
 * "Content" and "ConsentManagers") give entity and category but no verdict.
 */
int parse_disconnect(struct matcher *m, int list, const char *services, size_t services_len,
		     const char *entities, size_t entities_len, const char *const *not_tracking,
		     struct parse_error *err);

/* DuckDuckGo's Tracker Data Set (tracker-blocklists web/v6 JSON). */
int parse_tds(struct matcher *m, int list, const char *buf, size_t len, struct parse_error *err);

/* The Open Cookie Database CSV. */
int parse_cookiedb(struct matcher *m, int list, const char *buf, size_t len, struct parse_error *err);

/* Formats "reason" into err (line may be 0); returns -1 for `return parse_fail(...)`. */
int parse_fail(struct parse_error *err, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
