/*
 * cookie: the Cookie and Set-Cookie headers of HTTP (RFC 6265, section 5,
 * the algorithms user agents follow; and draft-ietf-httpbis-rfc6265bis for
 * SameSite and what browsers do today). Parsing is tolerant, as browsers
 * are, but nothing is dropped silently: every part that does not parse is
 * counted in `malformed`.
 *
 * Nothing here allocates. Spans point into the caller's header bytes, which
 * come from the wire: they may hold any byte, NUL included, and are never
 * NUL-terminated.
 */
#ifndef TRACKWATCH_COOKIE_H
#define TRACKWATCH_COOKIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cookie_span {
	const char *p;   /* NULL when absent */
	size_t len;
};

enum {
	/* 6265bis: a Set-Cookie whose name and value together are longer is ignored. */
	COOKIE_NAME_VALUE_MAX = 4096,
	/* 6265bis: an attribute whose value is longer is ignored (the cookie is kept). */
	COOKIE_ATTRIBUTE_VALUE_MAX = 1024,
};

/*
 * One cookie of a Cookie header: "name=value". Both spans point into the
 * header (never NULL, even when empty), spaces and tabs around them removed.
 */
struct cookie_pair {
	struct cookie_span name;   /* up to the first '='; may be empty ("=v" or "v") */
	struct cookie_span value;  /* after the first '=' ("a=b=c": "b=c"); quotes kept as sent */
	bool has_equals;           /* false for a crumb with no '=' ("v": name empty, value "v") */
};

/*
 * The cookies of the Cookie header values `headers[0..count)` (HTTP/1 sends
 * one header with "; " between cookies; HTTP/2 and HTTP/3 may send one field
 * per cookie, RFC 9113 8.2.3), in order, into out[0..max). Each value is cut
 * at every ';' into crumbs; a crumb never spans two values, and a span with
 * a NULL pointer is skipped. Empty crumbs ("a=1;; b=2", a trailing ";", only
 * spaces) are skipped and not counted. Malformed crumbs are skipped and
 * counted in *malformed: one holding a control character (0x00-0x1F but
 * HTAB, 0x7F; NUL included) and one with an empty name and an empty value
 * ("="). Good cookies past `max` are counted in *dropped. Both counters may
 * be NULL; they are set (not added to) by every call. Returns the number
 * written.
 */
size_t cookie_parse_list(const struct cookie_span *headers, size_t count,
			 struct cookie_pair *out, size_t max, unsigned *malformed,
			 unsigned *dropped);

enum cookie_same_site {
	COOKIE_SAME_SITE_UNSET = 0,   /* no attribute */
	COOKIE_SAME_SITE_NONE,
	COOKIE_SAME_SITE_LAX,
	COOKIE_SAME_SITE_STRICT,
	COOKIE_SAME_SITE_INVALID,     /* an attribute with another value (browsers: Lax by default) */
};

/*
 * One Set-Cookie header. Spans point into the header; attribute values are
 * at most COOKIE_ATTRIBUTE_VALUE_MAX bytes. When an attribute comes more
 * than once, the last one that parses wins (one that is ignored, such as an
 * Expires that is not a date, does not replace an earlier one).
 */
struct set_cookie {
	struct cookie_span name, value;  /* trimmed; no '=' in the pair: name empty, value all */
	struct cookie_span domain;       /* the last non-empty Domain value, trimmed, leading '.' and
					    case kept as sent; NULL: none (a host-only cookie) */
	struct cookie_span path;         /* the last Path value, trimmed, as sent (empty, or not starting
					    with '/': the browser uses the default path); NULL: none */
	bool has_max_age;
	int64_t max_age;                 /* seconds as sent, clamped to [INT64_MIN, INT64_MAX]
					    (add it to a time with care); <= 0 means delete */
	bool has_expires;
	int64_t expires;                 /* seconds since the epoch, from the cookie-date algorithm (RFC 6265 5.1.1) */
	bool secure, http_only, partitioned; /* the attribute is there (a value after it is ignored) */
	enum cookie_same_site same_site;
	/*
	 * Attributes ignored because they did not parse: an Expires that is no
	 * date, a Max-Age that is no integer, an empty Domain, a SameSite of
	 * another value (same_site is then COOKIE_SAME_SITE_INVALID), a value
	 * over COOKIE_ATTRIBUTE_VALUE_MAX, an attribute with a control character.
	 * An unknown attribute is not malformed; an empty one ("; ;", a trailing
	 * ";") is neither.
	 */
	unsigned malformed;
	unsigned unknown;                /* attributes with a name we do not know (kept by no browser, not an error) */
};

/*
 * Parses one Set-Cookie header value (the algorithm of RFC 6265 5.2 as
 * draft-ietf-httpbis-rfc6265bis has it): the name-value pair is what comes
 * before the first ';', split at its first '='; a pair without '=' is a
 * cookie with an empty name. Returns 0, or -1 when a user agent would ignore
 * the whole header: the name and value are both empty (an empty pair
 * included), the header holds a control character other than HTAB (in the
 * pair or in an attribute; NUL included), or name and value together are
 * longer than COOKIE_NAME_VALUE_MAX bytes. On -1 `out` is still filled as
 * far as the header parses, so that the caller may report what it ignored.
 * `header` may be NULL when `len` is 0.
 */
int set_cookie_parse(const char *header, size_t len, struct set_cookie *out);

/*
 * The cookie-date algorithm of RFC 6265 5.1.1 on `len` bytes: seconds since
 * the epoch into *out and 0, or -1 when the date does not parse (a time,
 * day of month, month and year not all found; day outside 1..31, a day the
 * month does not have, year before 1601 after the two-digit rule (70-99:
 * 19xx, 0-69: 20xx), hour over 23, minute or second over 59). The time is
 * UTC whatever zone the text names. Results lie in 1601-01-01 00:00:00 to
 * 9999-12-31 23:59:59.
 */
int cookie_parse_date(const char *text, size_t len, int64_t *out);

/*
 * How long the cookie lives from `now` (seconds since the epoch), in
 * seconds: Max-Age wins over Expires (5.3 step 3); -1 for a session cookie
 * (neither); 0 when it deletes the cookie (Max-Age <= 0, Expires not after
 * now). It is the lifetime the server asked for: the 400-day cap of today's
 * browsers (6265bis) is not applied. Saturates at INT64_MAX.
 */
int64_t set_cookie_lifetime(const struct set_cookie *cookie, int64_t now);

/*
 * Whether a cookie value looks like an identifier by its bytes alone: long
 * enough and random enough to single out one browser. The value is the raw
 * one, as sent, before any hashing; nothing is decoded except where said.
 * The rule (documented in trackwatchd(8), COOKIES): once one pair of
 * surrounding double quotes is removed, the value is identifier-like when
 * all of these hold:
 *   1. it is at least COOKIE_ID_MIN_LEN (8) bytes long;
 *   2. it is not a number: decimal digits only, below 2^32 ("20261129",
 *      "1795927229");
 *   3. it is not a timestamp: 10 or 13 decimal digits that are a time in
 *      seconds or milliseconds since the epoch within 2000-01-01 to
 *      2100-01-01 ("1795927229165");
 *   4. it is not an ISO 8601 date or time: "YYYY-MM-DD" (month 01-12, day
 *      01-31), optionally followed by 'T', 't' or a space and then only
 *      digits, ':', '.', ',', '+', '-', 'Z', 'z', spaces, and the escapes
 *      %3A, %2B, %20 ("2026-11-29T04:40:33.377Z");
 *   5. it is not an HTTP or JavaScript date: at most 128 bytes of letters,
 *      digits, spaces, ',', '-', ':', '+', '(', ')' and the escapes %20, %2C,
 *      %3A, %2B, %28, %29, which, unescaped, the cookie-date algorithm
 *      (cookie_parse_date()) accepts ("Mon, 03 Jan 2028 04:40:29 GMT",
 *      "Sun%20Nov%2029%202026%2004%3A40%3A33%20GMT%2B0000");
 *   6. it is not text: it has no decimal digit outside %XX escapes, and in
 *      each run of letters either all letters have one case or no two
 *      capitals are next to each other ("undefined", "necessary,analytics",
 *      "CheckForPermission", "de-DE,en-US" are text; booleans fall here or
 *      under rule 1);
 *   7. the Shannon entropy of the byte values of its first
 *      COOKIE_ID_SCAN_MAX (4096) bytes, in bits per byte, times the number
 *      of those bytes, is at least COOKIE_ID_MIN_BITS (28). So it takes at
 *      least 9 bytes, all different (28.5 bits); 16 bytes need at least 4
 *      different values ("0000000000000001" has 5.4 bits,
 *      "aaaabbbbccccdddd" 32, a uuid about 138, "GA1.1.161761967.1795927229"
 *      76).
 * Escapes are matched in either case (%3a as %3A). Letters, digits and
 * escapes are ASCII only: other bytes count as neither.
 */
enum { COOKIE_ID_MIN_LEN = 8, COOKIE_ID_MIN_BITS = 28, COOKIE_ID_SCAN_MAX = 4096 };
bool cookie_value_identifier_like(const char *value, size_t len);

#endif
