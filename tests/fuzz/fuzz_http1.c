/*
 * libFuzzer harness for dissectors/http1.c. The input is a 4-byte plan, then
 * one direction's bytes. The bytes go both to a request parser and to a
 * response parser (so each side sees both HTTP-like and foreign input), three
 * times each:
 *   - whole, in one piece (the request side tells the response sides of each
 *     request, for HEAD and CONNECT);
 *   - in pieces whose sizes the plan's PRNG draws (1 byte to 4 KiB), some of
 *     them replaced by gaps of the same length when the plan asks for gaps;
 *   - in the same pieces and gaps, but skipping what http1_parser_skip_hint()
 *     says, the way the reassembly layer would.
 * Besides ASan's and UBSan's checks, it aborts when a message breaks what
 * http1.h promises (pointers inside the parser's buffer, counts within their
 * bounds, a method of 1 to 16 letters, a status of 100 to 999), when an ended
 * parser still holds its buffer or hints at a skip, and when the cuts do not
 * agree: feeding and skipping must give the same messages and the same end,
 * and without gaps so must one piece and many.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../dissectors/http1.h"

struct run {
	struct http1_parser parser;
	uint64_t hash;                   /* of every field of every message, in order */
	size_t messages;
	struct http1_parser *tell[3];    /* response parsers to tell of each request */
};

static void hash_bytes(uint64_t *hash, const void *p, size_t len)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < len; i++) {
		*hash ^= b[i];
		*hash *= 0x100000001b3ULL;
	}
}

static void hash_u64(uint64_t *hash, uint64_t v)
{
	hash_bytes(hash, &v, sizeof v);
}

static void check_span(const struct run *run, const char *p, size_t len)
{
	if (!p) {
		if (len != 0)
			abort();
		return;
	}
	const char *buf = (const char *)run->parser.buf;
	size_t cap = run->parser.buf_cap;
	if (!buf || p < buf || len > cap || (size_t)(p - buf) > cap - len)
		abort();
	if (len > HTTP1_HEADER_MAX)
		abort();
	/* Touch every byte so that ASan sees it. */
	volatile uint8_t sum = 0;
	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + (uint8_t)p[i]);
	(void)sum;
}

static void hash_span(uint64_t *hash, const struct run *run, const char *p, size_t len)
{
	check_span(run, p, len);
	hash_u64(hash, len);
	if (len)
		hash_bytes(hash, p, len);
}

static int on_message(void *context, const struct http1_message *m)
{
	struct run *run = context;
	int is_request = run->parser.is_request;
	if (m->is_request != is_request)
		abort();
	if (is_request) {
		if (m->method_len < 1 || m->method_len > HTTP1_METHOD_MAX || m->target_len == 0 ||
		    m->status != 0)
			abort();
		/* A letter, then letters or '-' (M-SEARCH). */
		for (size_t i = 0; i < m->method_len; i++) {
			char c = m->method[i];
			if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (i > 0 && c == '-')))
				abort();
		}
		if (m->set_cookie_count != 0)
			abort();
	} else {
		if (m->method || m->method_len || m->target || m->target_len || m->status < 100 ||
		    m->status > 999 || m->cookie_count != 0)
			abort();
	}
	if (m->version_minor < 0 || m->version_minor > 9)
		abort();
	if (m->cookie_count > HTTP1_MAX_COOKIES || m->set_cookie_count > HTTP1_MAX_COOKIES)
		abort();
	if (m->headers_dropped > m->header_count ||
	    m->header_count - m->headers_dropped > HTTP1_MAX_HEADERS)
		abort();
	if ((unsigned)m->cookie_count + m->set_cookie_count + m->cookies_dropped > m->header_count)
		abort();
	if (m->chunked && m->body_length != 0)
		abort();
	if (m->body_length == HTTP1_BODY_UNTIL_CLOSE && is_request)
		abort();

	uint64_t *h = &run->hash;
	hash_u64(h, (uint64_t)m->status << 8 | (uint64_t)m->version_minor);
	hash_span(h, run, m->method, m->method_len);
	hash_span(h, run, m->target, m->target_len);
	hash_span(h, run, m->host.p, m->host.len);
	hash_span(h, run, m->referer.p, m->referer.len);
	hash_span(h, run, m->origin.p, m->origin.len);
	hash_span(h, run, m->user_agent.p, m->user_agent.len);
	hash_span(h, run, m->content_type.p, m->content_type.len);
	for (int i = 0; i < m->cookie_count; i++)
		hash_span(h, run, m->cookies[i].p, m->cookies[i].len);
	for (int i = 0; i < m->set_cookie_count; i++)
		hash_span(h, run, m->set_cookies[i].p, m->set_cookies[i].len);
	hash_u64(h, (uint64_t)m->cookies_dropped << 32 | (uint64_t)m->header_count << 16 |
			    m->headers_dropped);
	hash_u64(h, m->body_length);
	hash_u64(h, (uint64_t)m->chunked);
	run->messages++;
	for (int i = 0; i < 3; i++)
		if (run->tell[i])
			http1_parser_request_seen(run->tell[i], m);
	return 0;
}

static void check_after(const struct run *run, enum http1_end end)
{
	if (end > HTTP1_END_NO_MEMORY || end == HTTP1_END_STOPPED)
		abort();
	if (end != (enum http1_end)run->parser.end)
		abort();
	if (end != HTTP1_MORE) {
		if (run->parser.buf || http1_parser_skip_hint(&run->parser) != 0)
			abort();
	}
	if (run->parser.buf_len > run->parser.buf_cap || run->parser.buf_cap > HTTP1_HEADER_MAX)
		abort();
	if (run->parser.pending_count > HTTP1_MAX_PENDING)
		abort();
}

/* Feeds a copy of exactly `len` bytes, so that ASan sees reads past them. */
static enum http1_end feed_copy(struct run *run, const uint8_t *data, size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);
	if (!copy)
		abort();
	memcpy(copy, data, len);
	enum http1_end end = http1_parser_feed(&run->parser, copy, len, on_message, run);
	free(copy);
	check_after(run, end);
	return end;
}

static uint32_t next_random(uint32_t *state)
{
	uint32_t x = *state;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *state = x;
}

/* The pieces, from the plan: sizes and which are gaps. */
static enum http1_end feed_plan(struct run *run, const uint8_t *data, size_t size, uint32_t plan,
				int use_skip, int *had_gap)
{
	uint32_t random = plan | 1;
	int gaps = (plan & 0x80000000u) != 0;
	unsigned max_shift = plan & 0xf;
	enum http1_end end = HTTP1_MORE;
	size_t pos = 0;
	*had_gap = 0;
	while (pos < size) {
		uint32_t r = next_random(&random);
		size_t piece = 1 + (size_t)(r >> 8) % ((size_t)1 << (max_shift % 13));
		if (piece > size - pos)
			piece = size - pos;
		int is_gap = gaps && (r & 0x1f) == 0;
		*had_gap |= is_gap;
		size_t done = 0;
		if (use_skip) {
			uint64_t hint = http1_parser_skip_hint(&run->parser);
			size_t skip = hint < piece ? (size_t)hint : piece;
			if (skip > 0) {
				end = http1_parser_skipped(&run->parser, skip);
				check_after(run, end);
				done = skip;
			}
		}
		if (done < piece) {
			if (is_gap) {
				end = http1_parser_feed(&run->parser, NULL, piece - done, on_message, run);
				check_after(run, end);
			} else {
				end = feed_copy(run, data + pos + done, piece - done);
			}
		}
		pos += piece;
	}
	return end;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t plan = 0;
	if (size >= 4) {
		plan = (uint32_t)data[0] << 24 | (uint32_t)data[1] << 16 | (uint32_t)data[2] << 8 |
		       data[3];
		data += 4;
		size -= 4;
	}
	static struct run req[3], resp[3];
	for (int i = 0; i < 3; i++) {
		memset(&req[i], 0, sizeof req[i]);
		memset(&resp[i], 0, sizeof resp[i]);
		http1_parser_init(&req[i].parser, 1);
		http1_parser_init(&resp[i].parser, 0);
		req[i].hash = resp[i].hash = 0xcbf29ce484222325ULL;
	}
	for (int i = 0; i < 3; i++)
		req[0].tell[i] = &resp[i].parser;

	enum http1_end end[2][3];
	int had_gap[2] = { 0, 0 };
	struct run *sides[2] = { req, resp };
	for (int s = 0; s < 2; s++) {
		struct run *r = sides[s];
		end[s][0] = feed_copy(&r[0], data, size);
		end[s][1] = feed_plan(&r[1], data, size, plan, 0, &had_gap[s]);
		end[s][2] = feed_plan(&r[2], data, size, plan, 1, &had_gap[s]);
		/* Feeding body bytes or skipping them: the same. */
		if (end[s][1] != end[s][2] || r[1].hash != r[2].hash || r[1].messages != r[2].messages)
			abort();
		/* Without gaps, the cut does not matter. */
		if (!had_gap[s] &&
		    (end[s][0] != end[s][1] || r[0].hash != r[1].hash || r[0].messages != r[1].messages))
			abort();
		for (int i = 0; i < 3; i++)
			http1_parser_free(&r[i].parser);
	}
	return 0;
}
