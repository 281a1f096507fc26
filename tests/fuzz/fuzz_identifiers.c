/*
 * libFuzzer harness for daemon/identifiers.c. The input is a 2-byte plan,
 * then bytes that go to each of the three redactors (Cookie, Set-Cookie,
 * query), with a fixed key, twice each:
 *   - with a cap of ident_redact_max(): it must all fit;
 *   - with a cap drawn from the plan (0 to the full length + 1).
 * Inputs and outputs live in heap buffers of exactly their size, so that
 * ASan sees any access past them. Besides ASan's and UBSan's checks, it
 * aborts when
 *   - the full output, read by the same rules as the input, does not have
 *     the same parts with the same bytes around each value, and each value
 *     empty where the input's is, raw where it is a consent parameter or a
 *     Set-Cookie attribute, and else exactly ident_hash() of the input's:
 *     no raw value can be left in it;
 *   - a capped output is not NUL-terminated within its cap, is not a prefix
 *     of the full output, does not end at a part boundary (the query's plain
 *     path alone may be cut anywhere), or leaves out a part that would have fit;
 *     or its status does not say whether it was cut.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../daemon/identifiers.h"

enum { COOKIE, SET_COOKIE, QUERY };

/* A part of a string: [start, end), its value [value_start, value_end). */
struct part {
	size_t start, end, value_start, value_end;
	int hashed; /* 0: the value is kept raw (consent parameter, attribute) */
};

static int blank(uint8_t c)
{
	return c == ' ' || c == '\t';
}

/* Cookie and Set-Cookie, as the header says: pieces split before each ';'. */
static size_t parse_pieces(const uint8_t *s, size_t len, int first_only, struct part *parts)
{
	size_t n = 0, start = 0;
	for (;;) {
		size_t piece = n == 0 ? 0 : start + 1;
		size_t end = piece;
		while (end < len && s[end] != ';')
			end++;
		struct part *p = &parts[n];
		p->start = start;
		p->end = end;
		p->hashed = n == 0 || !first_only;
		p->value_start = p->value_end = end;
		if (p->hashed) {
			size_t a = piece, b = end;
			while (a < b && blank(s[a]))
				a++;
			while (b > a && blank(s[b - 1]))
				b--;
			for (size_t i = a; i < b; i++)
				if (s[i] == '=') {
					a = i + 1;
					while (a < b && blank(s[a]))
						a++;
					break;
				}
			p->value_start = a;
			p->value_end = b;
		}
		n++;
		if (end == len)
			return n;
		start = end;
	}
}

static int consent_name(const uint8_t *s, size_t len)
{
	static const char *const names[] = { "gdpr", "gdpr_consent", "gcs", "gcd" };
	for (size_t i = 0; i < 4; i++)
		if (strlen(names[i]) == len && memcmp(s, names[i], len) == 0)
			return 1;
	return 0;
}

/*
 * Parameters from s[start] (the separator before the first) to `end`, split
 * before each `separator`.
 */
static size_t parse_parameters(const uint8_t *s, size_t start, size_t end, uint8_t separator,
			       struct part *parts)
{
	size_t n = 0;
	for (;;) {
		size_t part_end = start + 1;
		while (part_end < end && s[part_end] != separator)
			part_end++;
		size_t eq = start + 1;
		while (eq < part_end && s[eq] != '=')
			eq++;
		struct part *p = &parts[n++];
		p->start = start;
		p->end = part_end;
		p->value_end = part_end;
		if (eq < part_end) {
			p->value_start = eq + 1;
			p->hashed = !consent_name(s + start + 1, eq - start - 1);
		} else {
			p->value_start = start + 1;
			p->hashed = 1;
		}
		if (part_end == end)
			return n;
		start = part_end;
	}
}

/*
 * A request target: the plain path, its ';' parameters, the '&' parameters
 * after '?', then the fragment.
 */
static size_t parse_query(const uint8_t *s, size_t len, struct part *parts)
{
	size_t fragment = 0;
	while (fragment < len && s[fragment] != '#')
		fragment++;
	size_t path_end = 0;
	while (path_end < fragment && s[path_end] != '?')
		path_end++;
	size_t plain_end = 0;
	while (plain_end < path_end && s[plain_end] != ';')
		plain_end++;
	size_t n = 0;
	parts[n++] = (struct part){ 0, plain_end, plain_end, plain_end, 0 };
	if (plain_end < path_end)
		n += parse_parameters(s, plain_end, path_end, ';', parts + n);
	if (path_end < fragment)
		n += parse_parameters(s, path_end, fragment, '&', parts + n);
	if (fragment < len)
		parts[n++] = (struct part){ fragment, len, fragment + 1, len, 1 };
	return n;
}

static size_t parse(int which, const uint8_t *s, size_t len, struct part *parts)
{
	if (which == QUERY)
		return parse_query(s, len, parts);
	return parse_pieces(s, len, which == SET_COOKIE, parts);
}

static struct ident_redaction redact(int which, const struct ident_key *key, const char *in,
				    size_t len, char *out, size_t cap)
{
	switch (which) {
	case COOKIE:
		return ident_redact_cookie(key, in, len, out, cap);
	case SET_COOKIE:
		return ident_redact_set_cookie(key, in, len, out, cap);
	default:
		return ident_redact_query(key, in, len, out, cap);
	}
}

static void check_full(int which, const struct ident_key *key, const uint8_t *in, size_t len,
		       const uint8_t *out, size_t out_len, struct part *in_parts,
		       struct part *out_parts)
{
	size_t n = parse(which, in, len, in_parts);
	size_t m = parse(which, out, out_len, out_parts);
	if (n != m)
		abort();
	for (size_t i = 0; i < n; i++) {
		const struct part *a = &in_parts[i], *b = &out_parts[i];
		size_t before = a->value_start - a->start, after = a->end - a->value_end;
		size_t value_len = a->value_end - a->value_start;
		size_t out_value_len = b->value_end - b->value_start;
		if (b->value_start - b->start != before || b->end - b->value_end != after ||
		    memcmp(in + a->start, out + b->start, before) != 0 ||
		    memcmp(in + a->value_end, out + b->value_end, after) != 0 || b->hashed != a->hashed)
			abort();
		if (value_len == 0 || !a->hashed) {
			if (out_value_len != value_len ||
			    memcmp(in + a->value_start, out + b->value_start, value_len) != 0)
				abort();
			continue;
		}
		char text[IDENT_HASH_TEXT];
		if (ident_hash(key, in + a->value_start, value_len, text) != 0)
			abort();
		if (out_value_len != IDENT_HASH_HEX ||
		    memcmp(out + b->value_start, text, IDENT_HASH_HEX) != 0)
			abort();
	}
}

static void check_capped(int which, const struct ident_key *key, const char *in, size_t len,
			 const char *full, size_t full_len, const struct part *full_parts,
			 size_t part_count, size_t cap)
{
	char *out = cap ? malloc(cap) : NULL;
	if (cap && !out)
		abort();
	struct ident_redaction r = redact(which, key, in, len, out, cap);
	if (cap == 0) {
		if (r.len != 0 || r.status != IDENT_TRUNCATED)
			abort();
		return;
	}
	if (r.len >= cap || out[r.len] != '\0' || memcmp(out, full, r.len) != 0)
		abort();
	if ((r.status == IDENT_COMPLETE) != (full_len < cap) || r.status == IDENT_FAILED)
		abort();
	if (r.status == IDENT_COMPLETE) {
		if (r.len != full_len)
			abort();
	} else {
		/* The first part not wholly written starts where the output ends... */
		size_t k = 0;
		while (k < part_count && full_parts[k].end <= r.len)
			k++;
		if (k == part_count)
			abort();
		if (which == QUERY && k == 0) {
			/* ...except a path cut anywhere, as far as fits. */
			if (r.len != cap - 1)
				abort();
		} else if (full_parts[k].start != r.len || full_parts[k].end <= cap - 1) {
			/* ...and would not have fitted. */
			abort();
		}
	}
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ident_key key;
	if (!key.id && ident_key_set(&key, "trackwatch fuzz key, 32 bytes..", 32) != 0)
		abort();
	unsigned plan = 0;
	if (size >= 2) {
		plan = (unsigned)data[0] << 8 | data[1];
		data += 2;
		size -= 2;
	}
	char *in = malloc(size ? size : 1);
	size_t max = ident_redact_max(size);
	char *full = malloc(max);
	struct part *in_parts = malloc((size + 2) * sizeof *in_parts);
	struct part *out_parts = malloc((max + 2) * sizeof *out_parts);
	if (!in || !full || !in_parts || !out_parts)
		abort();
	if (size)
		memcpy(in, data, size);
	for (int which = COOKIE; which <= QUERY; which++) {
		struct ident_redaction r = redact(which, &key, in, size, full, max);
		if (r.status != IDENT_COMPLETE || r.len >= max || full[r.len] != '\0')
			abort();
		check_full(which, &key, (const uint8_t *)in, size, (const uint8_t *)full, r.len,
			   in_parts, out_parts);
		/* A cap from the plan, different per redactor; small ones often. */
		unsigned draw = plan * (2u * (unsigned)which + 1u) + (unsigned)which;
		size_t cap = (draw & 1) ? (draw >> 1) % 40 : (draw >> 1) % (r.len + 2);
		check_capped(which, &key, in, size, full, r.len, out_parts,
			     parse(which, (const uint8_t *)full, r.len, out_parts), cap);
	}
	free(out_parts);
	free(in_parts);
	free(full);
	free(in);
	return 0;
}
