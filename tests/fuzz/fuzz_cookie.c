/*
 * libFuzzer harness for dissectors/cookie.c. The first byte's low two bits
 * choose the function, the rest is its input:
 *   0  cookie_parse_list(): one more byte is the separator the rest is cut
 *      at into Cookie fields (up to MAX_FIELDS, the HTTP/2 form), one more
 *      is `max`; each field is its own heap copy of exactly its length;
 *   1  set_cookie_parse() on the rest, then set_cookie_lifetime() at
 *      several times;
 *   2  cookie_parse_date() on the rest;
 *   3  cookie_value_identifier_like() on the rest.
 * Besides ASan's and UBSan's checks, it aborts when a result breaks what
 * cookie.h promises: spans inside their input, trimmed, without control
 * characters, within their bounds; counts that add up; and when two ways to
 * the same answer disagree: the fields joined by ';' into one HTTP/1 header
 * give the same cookies as the fields; `max` changes what is written, not
 * what is counted; a Set-Cookie's pair alone gives the same name and value;
 * a parsed date printed by the C library's gmtime_r() parses to the same
 * time; a value not in quotes is judged the same in a pair of them.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../dissectors/cookie.h"

enum { MAX_FIELDS = 64, MAX_OUT = 512 };

/* 1601-01-01 00:00:00 and 9999-12-31 23:59:59 UTC (date -u -d ... +%s). */
#define FIRST_DATE INT64_C(-11644473600)
#define LAST_DATE INT64_C(253402300799)

static void check(int ok)
{
	if (!ok)
		abort();
}

static uint8_t *copy_of(const uint8_t *data, size_t len)
{
	uint8_t *p = malloc(len ? len : 1);
	check(p != NULL);
	if (len)
		memcpy(p, data, len);
	return p;
}

static int inside(struct cookie_span span, const char *base, size_t len)
{
	if (!span.p)
		return span.len == 0;
	return span.p >= base && span.len <= len && (size_t)(span.p - base) <= len - span.len;
}

static int is_ctl(uint8_t c)
{
	return (c < 0x20 && c != '\t') || c == 0x7f;
}

static int is_wsp(uint8_t c)
{
	return c == ' ' || c == '\t';
}

/* No `stop` byte, not starting or ending with a space or tab. */
static int clean(struct cookie_span span, int stop1, int stop2)
{
	const uint8_t *p = (const uint8_t *)span.p;
	for (size_t i = 0; i < span.len; i++)
		if (p[i] == stop1 || p[i] == stop2)
			return 0;
	return span.len == 0 || (!is_wsp(p[0]) && !is_wsp(p[span.len - 1]));
}

static int no_ctl(struct cookie_span span)
{
	for (size_t i = 0; i < span.len; i++)
		if (is_ctl((uint8_t)span.p[i]))
			return 0;
	return 1;
}

static int same_bytes(struct cookie_span a, struct cookie_span b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

/* ---- Cookie -------------------------------------------------------------- */

static void check_pairs(const struct cookie_pair *out, size_t n, const struct cookie_span *fields,
			size_t field_count)
{
	size_t field = 0;
	for (size_t i = 0; i < n; i++) {
		const struct cookie_pair *pair = &out[i];
		/* In order, each inside one field, name and value in the same one. */
		while (field < field_count && !inside(pair->name, fields[field].p, fields[field].len))
			field++;
		check(field < field_count);
		check(pair->name.p && pair->value.p);
		check(inside(pair->value, fields[field].p, fields[field].len));
		check(pair->name.p + pair->name.len <= pair->value.p);
		check(clean(pair->name, ';', '=') && no_ctl(pair->name));
		check(clean(pair->value, ';', -1) && no_ctl(pair->value));
		if (pair->has_equals)
			check(pair->name.len > 0 || pair->value.len > 0);
		else
			check(pair->name.len == 0 && pair->value.len > 0);
	}
}

static void fuzz_cookie_list(const uint8_t *data, size_t size)
{
	if (size < 2)
		return;
	uint8_t separator = data[0];
	size_t max = data[1] % 40;
	data += 2;
	size -= 2;

	struct cookie_span fields[MAX_FIELDS];
	size_t field_count = 0, start = 0;
	for (size_t i = 0; i <= size && field_count < MAX_FIELDS; i++) {
		if (i == size || (data[i] == separator && field_count < MAX_FIELDS - 1)) {
			fields[field_count].p = (const char *)copy_of(data + start, i - start);
			fields[field_count].len = i - start;
			field_count++;
			start = i + 1;
		}
	}

	static struct cookie_pair out[MAX_OUT], all[MAX_OUT], joined_out[MAX_OUT];
	unsigned malformed, dropped, all_malformed, all_dropped, joined_malformed, joined_dropped;
	size_t n = cookie_parse_list(fields, field_count, out, max, &malformed, &dropped);
	check(n <= max);
	check_pairs(out, n, fields, field_count);
	size_t n_all = cookie_parse_list(fields, field_count, all, MAX_OUT, &all_malformed,
					 &all_dropped);
	check_pairs(all, n_all, fields, field_count);
	/* `max` decides what is written, not what is counted. */
	check(malformed == all_malformed);
	check(n + dropped == n_all + all_dropped);
	for (size_t i = 0; i < n; i++)
		check(memcmp(&out[i], &all[i], sizeof out[i]) == 0);
	/* Crumbs and malformed ones together: no more than the ';'-separated pieces. */
	size_t pieces = 0;
	for (size_t f = 0; f < field_count; f++) {
		pieces++;
		for (size_t i = 0; i < fields[f].len; i++)
			pieces += fields[f].p[i] == ';';
	}
	check((size_t)all_malformed + n_all + all_dropped <= pieces);

	/* The same fields as one HTTP/1 header: the same cookies. */
	size_t joined_len = 0;
	for (size_t f = 0; f < field_count; f++)
		joined_len += fields[f].len + 1;
	char *joined = malloc(joined_len ? joined_len : 1);
	check(joined != NULL);
	size_t pos = 0;
	for (size_t f = 0; f < field_count; f++) {
		if (fields[f].len)
			memcpy(joined + pos, fields[f].p, fields[f].len);
		pos += fields[f].len;
		joined[pos++] = ';';
	}
	struct cookie_span one = { joined, joined_len };
	size_t n_joined = cookie_parse_list(&one, 1, joined_out, MAX_OUT, &joined_malformed,
					    &joined_dropped);
	check_pairs(joined_out, n_joined, &one, 1);
	check(n_joined == n_all && joined_dropped == all_dropped && joined_malformed == all_malformed);
	for (size_t i = 0; i < n_joined; i++) {
		check(same_bytes(joined_out[i].name, all[i].name));
		check(same_bytes(joined_out[i].value, all[i].value));
		check(joined_out[i].has_equals == all[i].has_equals);
	}
	free(joined);
	for (size_t f = 0; f < field_count; f++)
		free((void *)fields[f].p);
}

/* ---- Set-Cookie ---------------------------------------------------------- */

static void check_lifetime(const struct set_cookie *c, int64_t now)
{
	int64_t life = set_cookie_lifetime(c, now);
	if (c->has_max_age)
		check(life == (c->max_age > 0 ? c->max_age : 0));
	else if (c->has_expires)
		check(c->expires <= now ? life == 0 : life > 0 && (now < 0 || life == c->expires - now));
	else
		check(life == -1);
}

static void fuzz_set_cookie(const uint8_t *data, size_t size)
{
	const char *header = (const char *)copy_of(data, size);
	struct set_cookie c;
	int rc = set_cookie_parse(header, size, &c);
	check(rc == 0 || rc == -1);
	check(inside(c.name, header, size) && inside(c.value, header, size));
	check(inside(c.domain, header, size) && inside(c.path, header, size));
	check(clean(c.name, ';', '='));
	check(clean(c.value, ';', -1));
	check(!c.domain.p || (c.domain.len > 0 && c.domain.len <= COOKIE_ATTRIBUTE_VALUE_MAX &&
			      clean(c.domain, ';', -1) && no_ctl(c.domain)));
	check(!c.path.p || (c.path.len <= COOKIE_ATTRIBUTE_VALUE_MAX && clean(c.path, ';', -1) &&
			    no_ctl(c.path)));
	check(c.same_site <= COOKIE_SAME_SITE_INVALID);
	check(!c.has_expires || (c.expires >= FIRST_DATE && c.expires <= LAST_DATE));
	check(c.has_max_age || c.max_age == 0);
	check(c.has_expires || c.expires == 0);
	if (rc == 0) {
		check(c.name.len > 0 || c.value.len > 0);
		check(c.name.len + c.value.len <= COOKIE_NAME_VALUE_MAX);
		for (size_t i = 0; i < size; i++)
			check(!is_ctl((uint8_t)header[i]));
	}
	/* Attributes are separated by ';': no more of them than of those. */
	size_t semicolons = 0;
	for (size_t i = 0; i < size; i++)
		semicolons += header[i] == ';';
	check((size_t)c.malformed + c.unknown <= semicolons);

	/* The pair alone: the same name and value. */
	size_t pair_len = 0;
	while (pair_len < size && header[pair_len] != ';')
		pair_len++;
	struct set_cookie pair_only;
	int pair_rc = set_cookie_parse(header, pair_len, &pair_only);
	check(pair_only.name.p == c.name.p && pair_only.name.len == c.name.len);
	check(pair_only.value.p == c.value.p && pair_only.value.len == c.value.len);
	check(rc == -1 || pair_rc == 0);
	check(pair_only.malformed == 0 && pair_only.unknown == 0 && !pair_only.domain.p &&
	      !pair_only.path.p);

	static const int64_t nows[] = { INT64_MIN, -1, 0, 1795927229, INT64_MAX };
	for (size_t i = 0; i < sizeof nows / sizeof nows[0]; i++)
		check_lifetime(&c, nows[i]);
	if (c.has_expires) {
		check_lifetime(&c, c.expires - 1);
		check_lifetime(&c, c.expires);
		check_lifetime(&c, c.expires + 1);
	}
	free((void *)header);
}

/* ---- cookie-date --------------------------------------------------------- */

static void fuzz_date(const uint8_t *data, size_t size)
{
	const char *text = (const char *)copy_of(data, size);
	int64_t t = INT64_C(0x5a5a5a5a5a5a);
	int rc = cookie_parse_date(text, size, &t);
	free((void *)text);
	if (rc != 0) {
		check(rc == -1 && t == INT64_C(0x5a5a5a5a5a5a));
		return;
	}
	check(t >= FIRST_DATE && t <= LAST_DATE);
	/* The C library's calendar, printed in the form the RFC's servers send. */
	time_t when = (time_t)t;
	struct tm tm;
	check(gmtime_r(&when, &tm) != NULL);
	char printed[64];
	size_t n = strftime(printed, sizeof printed, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	check(n > 0);
	int64_t again;
	check(cookie_parse_date(printed, n, &again) == 0);
	check(again == t);
}

/* ---- identifier-like ----------------------------------------------------- */

static void fuzz_identifier(const uint8_t *data, size_t size)
{
	uint8_t *value = copy_of(data, size);
	bool like = cookie_value_identifier_like((const char *)value, size);
	free(value);
	if (size < COOKIE_ID_MIN_LEN)
		check(!like);
	/* One pair of quotes around a value that has none changes nothing: one
	   pair is removed (only one: "\"\"x\"\"" is judged as "\"x\""). */
	if (size >= 2 && data[0] == '"' && data[size - 1] == '"')
		return;
	uint8_t *quoted = malloc(size + 2);
	check(quoted != NULL);
	quoted[0] = '"';
	if (size)
		memcpy(quoted + 1, data, size);
	quoted[size + 1] = '"';
	check(cookie_value_identifier_like((const char *)quoted, size + 2) == like);
	free(quoted);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	switch (data[0] & 3) {
	case 0:
		fuzz_cookie_list(data + 1, size - 1);
		break;
	case 1:
		fuzz_set_cookie(data + 1, size - 1);
		break;
	case 2:
		fuzz_date(data + 1, size - 1);
		break;
	case 3:
		fuzz_identifier(data + 1, size - 1);
		break;
	}
	return 0;
}
