/*
 * cookie: Cookie and Set-Cookie header values, as the HTTP/1 dissector hands
 * them over raw, into names, values and attributes for the observe stage;
 * and the two judgements made on them there: how long a cookie lives, and
 * whether its value looks like an identifier.
 *
 * Everything works on spans of the caller's bytes: nothing is copied or
 * allocated, every loop walks its span once, and no byte is assumed to end
 * anything (a NUL is data). The Set-Cookie and cookie-date algorithms are
 * the user agent's (RFC 6265 section 5, as draft-ietf-httpbis-rfc6265bis
 * updates it), so that what we report is what a browser would store.
 */
#include "cookie.h"
#include "../daemon/text.h"

#include <limits.h>
#include <pthread.h>
#include <string.h>

/* ---- bytes, without the locale ----------------------------------------- */

static inline bool is_wsp(uint8_t c)
{
	return c == ' ' || c == '\t';
}

/* The control characters that make a cookie invalid: CTLs but HTAB. */
static inline bool is_ctl(uint8_t c)
{
	return (c < 0x20 && c != '\t') || c == 0x7f;
}

static inline bool is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

static inline bool is_upper(uint8_t c)
{
	return c >= 'A' && c <= 'Z';
}

static inline bool is_lower(uint8_t c)
{
	return c >= 'a' && c <= 'z';
}

static inline uint8_t to_lower(uint8_t c)
{
	return is_upper(c) ? (uint8_t)(c + 32) : c;
}

static inline uint8_t byte_at(const char *p, size_t i)
{
	return (uint8_t)p[i];
}

static bool has_ctl(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (is_ctl(byte_at(p, i)))
			return true;
	return false;
}

/* [p, p+len) without the spaces and tabs around it; p kept when all is space. */
static struct cookie_span trim(const char *p, size_t len)
{
	while (len > 0 && is_wsp(byte_at(p, 0))) {
		p++;
		len--;
	}
	while (len > 0 && is_wsp(byte_at(p, len - 1)))
		len--;
	return (struct cookie_span){ p, len };
}

/* Where the first `c` is in [p, p+len), or len. */
static size_t find_byte(const char *p, size_t len, char c)
{
	size_t i = 0;
	while (i < len && p[i] != c)
		i++;
	return i;
}

/* Case-insensitive: does the span equal `word`, given in lower case? */
static bool equals_lower(struct cookie_span span, const char *word, size_t word_len)
{
	if (span.len != word_len)
		return false;
	for (size_t i = 0; i < word_len; i++)
		if (to_lower(byte_at(span.p, i)) != (uint8_t)word[i])
			return false;
	return true;
}

#define EQUALS(span, word) equals_lower((span), word, sizeof word - 1)

/* Counters saturate: a header of 4 GiB of ";=" must not wrap one. */
static void count_one(unsigned *counter)
{
	if (*counter != UINT_MAX)
		(*counter)++;
}

/* ---- Cookie ------------------------------------------------------------- */

enum crumb_kind { CRUMB_EMPTY, CRUMB_MALFORMED, CRUMB_COOKIE };

static enum crumb_kind parse_crumb(const char *p, size_t len, struct cookie_pair *pair)
{
	struct cookie_span crumb = trim(p, len);
	if (crumb.len == 0)
		return CRUMB_EMPTY;
	if (has_ctl(crumb.p, crumb.len))
		return CRUMB_MALFORMED;
	size_t equals = find_byte(crumb.p, crumb.len, '=');
	if (equals == crumb.len) {
		/* As browsers keep it: a cookie with an empty name. */
		pair->name = (struct cookie_span){ crumb.p, 0 };
		pair->value = crumb;
		pair->has_equals = false;
		return CRUMB_COOKIE;
	}
	pair->name = trim(crumb.p, equals);
	pair->value = trim(crumb.p + equals + 1, crumb.len - equals - 1);
	pair->has_equals = true;
	if (pair->name.len == 0 && pair->value.len == 0)
		return CRUMB_MALFORMED;
	return CRUMB_COOKIE;
}

size_t cookie_parse_list(const struct cookie_span *headers, size_t count,
			 struct cookie_pair *out, size_t max, unsigned *malformed,
			 unsigned *dropped)
{
	size_t written = 0;
	unsigned bad = 0, extra = 0;
	for (size_t h = 0; headers && h < count; h++) {
		const char *p = headers[h].p;
		size_t left = p ? headers[h].len : 0;
		while (left > 0) {
			size_t end = find_byte(p, left, ';');
			struct cookie_pair pair;
			switch (parse_crumb(p, end, &pair)) {
			case CRUMB_EMPTY:
				break;
			case CRUMB_MALFORMED:
				count_one(&bad);
				break;
			case CRUMB_COOKIE:
				if (written < max && out)
					out[written++] = pair;
				else
					count_one(&extra);
				break;
			}
			/* Past the ';' (or the end): `left` shrinks on every turn. */
			size_t step = end < left ? end + 1 : left;
			p += step;
			left -= step;
		}
	}
	if (malformed)
		*malformed = bad;
	if (dropped)
		*dropped = extra;
	return written;
}

/* ---- cookie-date (RFC 6265 5.1.1) --------------------------------------- */

static bool is_date_delimiter(uint8_t c)
{
	return c == 0x09 || (c >= 0x20 && c <= 0x2f) || (c >= 0x3b && c <= 0x40) ||
	       (c >= 0x5b && c <= 0x60) || (c >= 0x7b && c <= 0x7e);
}

/*
 * The grammar's "min*maxDIGIT [ non-digit *OCTET ]" at the start of a token:
 * the value of the digits, their count in *used; -1 when there are fewer
 * than min or more than max digits before the token ends or a non-digit.
 */
static int leading_number(const uint8_t *t, size_t len, size_t min, size_t max, size_t *used)
{
	size_t n = 0;
	int value = 0;
	while (n < len && is_digit(t[n])) {
		if (n == max)
			return -1;
		value = value * 10 + (t[n] - '0');
		n++;
	}
	if (n < min)
		return -1;
	*used = n;
	return value;
}

/* hms-time [ non-digit *OCTET ], hms-time = 1*2DIGIT ":" 1*2DIGIT ":" 1*2DIGIT */
static bool parse_time_token(const uint8_t *t, size_t len, int fields[3])
{
	size_t pos = 0;
	for (int i = 0; i < 3; i++) {
		size_t used;
		int v = leading_number(t + pos, len - pos, 1, 2, &used);
		if (v < 0)
			return false;
		fields[i] = v;
		pos += used;
		if (i < 2) {
			if (pos >= len || t[pos] != ':')
				return false;
			pos++;
		}
	}
	return true;
}

/* month = ( "jan" / ... / "dec" ) *OCTET, case-insensitive: 1..12, or 0. */
static int parse_month_token(const uint8_t *t, size_t len)
{
	static const char names[] = "janfebmaraprmayjunjulaugsepoctnovdec";
	if (len < 3)
		return 0;
	for (int m = 0; m < 12; m++)
		if (to_lower(t[0]) == (uint8_t)names[3 * m] &&
		    to_lower(t[1]) == (uint8_t)names[3 * m + 1] &&
		    to_lower(t[2]) == (uint8_t)names[3 * m + 2])
			return m + 1;
	return 0;
}

static bool is_leap_year(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t year, int month)
{
	static const int days[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	return month == 2 && is_leap_year(year) ? 29 : days[month - 1];
}

/*
 * Days from 1970-01-01 to year-month-day of the proleptic Gregorian calendar,
 * for years from 1 on: the days of the whole years between (365 each, plus
 * the leap days: years divisible by 4 but not by 100, or by 400), of the
 * whole months before, and of the days before.
 */
static int64_t days_from_civil(int64_t year, int month, int day)
{
	/* Leap years in 1..y. */
#define LEAPS_THROUGH(y) ((y) / 4 - (y) / 100 + (y) / 400)
	static const int before_month[12] = { 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334 };
	int64_t days = (year - 1970) * 365 + (LEAPS_THROUGH(year - 1) - LEAPS_THROUGH(1969));
#undef LEAPS_THROUGH
	days += before_month[month - 1];
	if (month > 2 && is_leap_year(year))
		days++;
	return days + day - 1;
}

int cookie_parse_date(const char *text, size_t len, int64_t *out)
{
	bool found_time = false, found_day = false, found_month = false, found_year = false;
	int hms[3] = { 0, 0, 0 }, fields[3];
	int day = 0, month = 0, year = 0;
	const uint8_t *p = (const uint8_t *)text;
	if (!p)
		len = 0;
	size_t i = 0;
	while (i < len) {
		while (i < len && is_date_delimiter(p[i]))
			i++;
		size_t start = i;
		while (i < len && !is_date_delimiter(p[i]))
			i++;
		if (i == start)
			break;
		const uint8_t *t = p + start;
		size_t n = i - start, used;
		int v;
		if (!found_time && parse_time_token(t, n, fields)) {
			found_time = true;
			memcpy(hms, fields, sizeof hms);
		} else if (!found_day && (v = leading_number(t, n, 1, 2, &used)) >= 0) {
			found_day = true;
			day = v;
		} else if (!found_month && (v = parse_month_token(t, n)) > 0) {
			found_month = true;
			month = v;
		} else if (!found_year && (v = leading_number(t, n, 2, 4, &used)) >= 0) {
			found_year = true;
			year = v;
		}
	}
	if (year >= 70 && year <= 99)
		year += 1900;
	else if (year >= 0 && year <= 69)
		year += 2000;
	if (!found_time || !found_day || !found_month || !found_year)
		return -1;
	if (day < 1 || day > 31 || year < 1601 || hms[0] > 23 || hms[1] > 59 || hms[2] > 59)
		return -1;
	if (day > days_in_month(year, month))
		return -1;
	*out = days_from_civil(year, month, day) * 86400 + hms[0] * 3600 + hms[1] * 60 + hms[2];
	return 0;
}

/* ---- Set-Cookie ---------------------------------------------------------- */

/*
 * Max-Age (5.2.2): a digit or '-', then digits only; anything else is
 * ignored. Past the int64 range it is clamped, as browsers do.
 */
static bool parse_max_age(struct cookie_span value, int64_t *out)
{
	if (value.len == 0)
		return false;
	const uint8_t *p = (const uint8_t *)value.p;
	bool negative = p[0] == '-';
	if (!negative && !is_digit(p[0]))
		return false;
	size_t i = negative ? 1 : 0;
	if (i == value.len)
		return false; /* "-" alone is no integer */
	uint64_t magnitude = 0;
	const uint64_t limit = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	for (; i < value.len; i++) {
		if (!is_digit(p[i]))
			return false;
		unsigned digit = p[i] - '0';
		if (magnitude > (limit - digit) / 10)
			magnitude = limit; /* clamped; the digits are still checked */
		else
			magnitude = magnitude * 10 + digit;
	}
	if (negative)
		*out = magnitude == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)magnitude;
	else
		*out = (int64_t)magnitude;
	return true;
}

static enum cookie_same_site parse_same_site(struct cookie_span value)
{
	if (EQUALS(value, "none"))
		return COOKIE_SAME_SITE_NONE;
	if (EQUALS(value, "lax"))
		return COOKIE_SAME_SITE_LAX;
	if (EQUALS(value, "strict"))
		return COOKIE_SAME_SITE_STRICT;
	return COOKIE_SAME_SITE_INVALID;
}

/* One cookie-av (5.2 steps 4 to 7). Returns false when it holds a control character. */
static bool parse_attribute(const char *p, size_t len, struct set_cookie *out)
{
	struct cookie_span av = trim(p, len);
	if (av.len == 0)
		return true; /* "; ;" or a trailing ";": nothing there */
	if (has_ctl(av.p, av.len)) {
		count_one(&out->malformed);
		return false;
	}
	size_t equals = find_byte(av.p, av.len, '=');
	struct cookie_span name = trim(av.p, equals);
	struct cookie_span value = equals < av.len ? trim(av.p + equals + 1, av.len - equals - 1)
						   : (struct cookie_span){ av.p + av.len, 0 };
	if (value.len > COOKIE_ATTRIBUTE_VALUE_MAX) {
		count_one(&out->malformed);
		return true;
	}
	if (EQUALS(name, "expires")) {
		int64_t when;
		if (cookie_parse_date(value.p, value.len, &when) == 0) {
			out->has_expires = true;
			out->expires = when;
		} else {
			count_one(&out->malformed);
		}
	} else if (EQUALS(name, "max-age")) {
		int64_t seconds;
		if (parse_max_age(value, &seconds)) {
			out->has_max_age = true;
			out->max_age = seconds;
		} else {
			count_one(&out->malformed);
		}
	} else if (EQUALS(name, "domain")) {
		/* RFC 6265 5.2.3: an empty Domain is ignored (the cookie stays host-only). */
		if (value.len > 0)
			out->domain = value;
		else
			count_one(&out->malformed);
	} else if (EQUALS(name, "path")) {
		out->path = value;
	} else if (EQUALS(name, "secure")) {
		out->secure = true;
	} else if (EQUALS(name, "httponly")) {
		out->http_only = true;
	} else if (EQUALS(name, "partitioned")) {
		out->partitioned = true;
	} else if (EQUALS(name, "samesite")) {
		out->same_site = parse_same_site(value);
		if (out->same_site == COOKIE_SAME_SITE_INVALID)
			count_one(&out->malformed);
	} else {
		count_one(&out->unknown);
	}
	return true;
}

int set_cookie_parse(const char *header, size_t len, struct set_cookie *out)
{
	memset(out, 0, sizeof *out);
	if (!header)
		len = 0;
	bool ignored = false;

	size_t pair_len = find_byte(header, len, ';');
	if (has_ctl(header, pair_len))
		ignored = true;
	size_t equals = find_byte(header, pair_len, '=');
	if (equals == pair_len) {
		/* 6265bis: no '=' is a cookie with an empty name. */
		out->value = trim(header, pair_len);
		out->name = (struct cookie_span){ out->value.p, 0 };
	} else {
		out->name = trim(header, equals);
		out->value = trim(header + equals + 1, pair_len - equals - 1);
	}
	if (out->name.len == 0 && out->value.len == 0)
		ignored = true;
	if (out->name.len + out->value.len > COOKIE_NAME_VALUE_MAX)
		ignored = true;

	/* The attributes: after each ';' up to the next. */
	size_t pos = pair_len;
	while (pos < len) {
		pos++; /* the ';' */
		size_t end = pos + find_byte(header + pos, len - pos, ';');
		if (!parse_attribute(header + pos, end - pos, out))
			ignored = true;
		pos = end;
	}
	return ignored ? -1 : 0;
}

int64_t set_cookie_lifetime(const struct set_cookie *cookie, int64_t now)
{
	if (cookie->has_max_age)
		return cookie->max_age > 0 ? cookie->max_age : 0;
	if (!cookie->has_expires)
		return -1;
	if (cookie->expires <= now)
		return 0;
	/* expires > now: the difference is positive, but may not fit. */
	if (now < 0 && cookie->expires > INT64_MAX + now)
		return INT64_MAX;
	return cookie->expires - now;
}

/* ---- identifier-like values --------------------------------------------- */

/* A %XX escape at p[i] (len bytes in all): the byte it stands for, or -1. */
static int escape_at(const uint8_t *p, size_t len, size_t i)
{
	if (p[i] != '%' || len - i < 3)
		return -1;
	int high = hex_digit_value((unsigned char)p[i + 1]), low = hex_digit_value((unsigned char)p[i + 2]);
	if (high < 0 || low < 0)
		return -1;
	return high << 4 | low;
}

/* Rules 2 and 3 of cookie.h: a small number, or an epoch in seconds or milliseconds. */
static bool is_number_or_timestamp(const uint8_t *p, size_t len)
{
	if (len > 19)
		return false; /* more digits than any rule here looks at */
	uint64_t value = 0;
	for (size_t i = 0; i < len; i++) {
		if (!is_digit(p[i]))
			return false;
		value = value * 10 + (p[i] - '0');
	}
	if (value < (UINT64_C(1) << 32))
		return true;
	/* 2000-01-01 and 2100-01-01 in seconds since the epoch. */
	const uint64_t from = 946684800, to = 4102444800;
	if (len == 10)
		return value >= from && value < to;
	if (len == 13)
		return value >= from * 1000 && value < to * 1000;
	return false;
}

static bool two_digits(const uint8_t *p, int min, int max)
{
	if (!is_digit(p[0]) || !is_digit(p[1]))
		return false;
	int v = (p[0] - '0') * 10 + (p[1] - '0');
	return v >= min && v <= max;
}

/* Rule 4: YYYY-MM-DD, then optionally a time with a zone. */
static bool is_iso_date(const uint8_t *p, size_t len)
{
	if (len < 10)
		return false;
	for (size_t i = 0; i < 4; i++)
		if (!is_digit(p[i]))
			return false;
	if (p[4] != '-' || !two_digits(p + 5, 1, 12) || p[7] != '-' || !two_digits(p + 8, 1, 31))
		return false;
	if (len == 10)
		return true;
	if (p[10] != 'T' && p[10] != 't' && p[10] != ' ')
		return false;
	for (size_t i = 11; i < len; i++) {
		uint8_t c = p[i];
		if (is_digit(c) || c == ':' || c == '.' || c == ',' || c == '+' || c == '-' ||
		    c == 'Z' || c == 'z' || c == ' ')
			continue;
		int e = escape_at(p, len, i);
		if (e == ':' || e == '+' || e == ' ') {
			i += 2;
			continue;
		}
		return false;
	}
	return true;
}

/* Rule 5: an HTTP or JavaScript date, perhaps escaped. */
static bool is_text_date(const uint8_t *p, size_t len)
{
	enum { DATE_TEXT_MAX = 128 };
	char plain[DATE_TEXT_MAX];
	size_t n = 0;
	if (len > DATE_TEXT_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		uint8_t c = p[i];
		if (is_upper(c) || is_lower(c) || is_digit(c) || c == ' ' || c == ',' || c == '-' ||
		    c == ':' || c == '+' || c == '(' || c == ')') {
			plain[n++] = (char)c;
			continue;
		}
		int e = escape_at(p, len, i);
		if (e == ' ' || e == ',' || e == ':' || e == '+' || e == '(' || e == ')') {
			plain[n++] = (char)e;
			i += 2;
			continue;
		}
		return false;
	}
	int64_t when;
	return cookie_parse_date(plain, n, &when) == 0;
}

/* Rule 6: words, not a random string. */
static bool is_text(const uint8_t *p, size_t len)
{
	bool run_upper = false, run_lower = false, adjacent_capitals = false;
	for (size_t i = 0; i <= len; i++) {
		uint8_t c = i < len ? p[i] : 0;
		if (is_upper(c) || is_lower(c)) {
			if (is_upper(c)) {
				if (run_upper && i > 0 && is_upper(p[i - 1]))
					adjacent_capitals = true;
				run_upper = true;
			} else {
				run_lower = true;
			}
			continue;
		}
		/* The end of a run of letters (or none). */
		if (run_upper && run_lower && adjacent_capitals)
			return false;
		run_upper = run_lower = adjacent_capitals = false;
		if (i == len)
			break;
		if (escape_at(p, len, i) >= 0) {
			i += 2; /* an escape separates, its hex digits are not digits */
			continue;
		}
		if (is_digit(c))
			return false;
	}
	return true;
}

/*
 * log2(x) in units of 2^-16, for 1 <= x < 2^31: the integer part from the
 * highest bit, then each bit of the fraction by squaring the mantissa (kept
 * as a number in [1, 2) with 30 bits after the point).
 */
static uint64_t log2_fixed(uint32_t x)
{
	uint64_t result = 0;
	int integer = 0;
	while ((x >> integer) > 1)
		integer++;
	result = (uint64_t)integer << 16;
	uint64_t mantissa = ((uint64_t)x << 30) >> integer;
	for (int bit = 15; bit >= 0; bit--) {
		mantissa = (mantissa * mantissa) >> 30;
		if (mantissa >= (UINT64_C(2) << 30)) {
			mantissa >>= 1;
			result |= UINT64_C(1) << bit;
		}
	}
	return result;
}

/*
 * Rule 7: n times the Shannon entropy of the byte frequencies, which is
 * n log2 n - sum(c log2 c) over the count c of each byte value.
 */
/* log2_fixed() of 0..LOG2_TABLE - 1, made once: most values are short, and their counts small. */
enum { LOG2_TABLE = 257 };
static uint64_t log2_table[LOG2_TABLE];
static pthread_once_t log2_once = PTHREAD_ONCE_INIT;

static void log2_table_init(void)
{
	for (uint32_t x = 1; x < LOG2_TABLE; x++)
		log2_table[x] = log2_fixed(x);
}

static uint64_t log2_of(uint32_t x)
{
	return x < LOG2_TABLE ? log2_table[x] : log2_fixed(x);
}

/* (Each byte value's count is taken once, at its first place, then cleared.) */
static bool enough_entropy(const uint8_t *p, size_t len)
{
	pthread_once(&log2_once, log2_table_init);
	uint32_t counts[256];
	size_t n = len < COOKIE_ID_SCAN_MAX ? len : COOKIE_ID_SCAN_MAX;
	for (size_t i = 0; i < n; i++)
		counts[p[i]] = 0;
	for (size_t i = 0; i < n; i++)
		counts[p[i]]++;
	uint64_t total = (uint64_t)n * log2_of((uint32_t)n);
	uint64_t concentrated = 0;
	for (size_t i = 0; i < n; i++) {
		uint32_t c = counts[p[i]];
		if (c > 1)
			concentrated += (uint64_t)c * log2_of(c);
		counts[p[i]] = 0;
	}
	return total > concentrated && total - concentrated >= (uint64_t)COOKIE_ID_MIN_BITS << 16;
}

bool cookie_value_identifier_like(const char *value, size_t len)
{
	const uint8_t *p = (const uint8_t *)value;
	if (!p)
		return false;
	if (len >= 2 && p[0] == '"' && p[len - 1] == '"') {
		p++;
		len -= 2;
	}
	if (len < COOKIE_ID_MIN_LEN)
		return false;
	if (is_number_or_timestamp(p, len) || is_iso_date(p, len) || is_text_date(p, len) ||
	    is_text(p, len))
		return false;
	return enough_entropy(p, len);
}
