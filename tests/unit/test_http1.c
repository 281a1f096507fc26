/*
 * Unit tests for dissectors/http1.c. The truth for real traffic is tshark's:
 * the plain-HTTP streams of tests/data/browser-accept-http.pcap (a headless
 * Chromium session), one file per direction in tests/data/http1/, must give
 * the requests (method, Host, target, Cookie headers) and responses (status,
 * Set-Cookie headers) that tshark's HTTP dissector lists in
 * tests/data/http1/browser-accept-http.tshark.tsv (see extract.py there).
 * Then hand-made edge cases: every way to cut a stream into pieces gives the
 * same messages, bare LF, folding, the header and cookie bounds, bodies by
 * length, chunks and to the end, HEAD, 1xx/204/304, gaps, the 64 KiB header
 * bound to the byte, bad lengths, CONNECT, 101, and what is not HTTP.
 *
 * Every piece is fed from a heap copy of exactly its length, so that ASan
 * sees any read past it. Run from the repository's root (or set
 * HTTP1_TEST_DATA to the directory of the stream files).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../dissectors/http1.h"

/* ---- recording messages ------------------------------------------------- */

/* A growing text. */
struct text {
	char *p;
	size_t len, cap;
};

static void text_add(struct text *t, const char *p, size_t n)
{
	if (t->len + n + 1 > t->cap) {
		size_t cap = t->cap ? t->cap : 4096;
		while (cap < t->len + n + 1)
			cap *= 2;
		t->p = realloc(t->p, cap);
		assert_non_null(t->p);
		t->cap = cap;
	}
	if (n)
		memcpy(t->p + t->len, p, n);
	t->len += n;
	t->p[t->len] = '\0';
}

static void text_printf(struct text *t, const char *format, ...)
{
	char line[256];
	va_list ap;
	va_start(ap, format);
	int n = vsnprintf(line, sizeof line, format, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < sizeof line);
	text_add(t, line, (size_t)n);
}

/* One message as the test keeps it: copies, since the message's strings die with the callback. */
struct seen {
	char method[32];
	char target[8192];
	char host[512];
	char referer[512];
	char origin[512];
	char user_agent[512];
	char content_type[512];
	char first_cookie[2048];
	char last_cookie[2048];
	int status, version_minor, chunked;
	int cookie_count, set_cookie_count, cookies_dropped, header_count, headers_dropped;
	uint64_t body_length;
};

enum { MAX_SEEN = 64 };

struct recorder {
	struct seen seen[MAX_SEEN];
	size_t count;
	struct text transcript;           /* every field of every message, in order */
	const struct http1_parser *parser; /* whose buffer the strings must be in */
	struct http1_parser *response_side; /* told of each request, when set */
	size_t stop_after;                /* return nonzero on this message (1-based; 0: never) */
};

static struct recorder *recorder_new(const struct http1_parser *parser)
{
	struct recorder *r = calloc(1, sizeof *r);
	assert_non_null(r);
	r->parser = parser;
	return r;
}

static void recorder_free(struct recorder *r)
{
	free(r->transcript.p);
	free(r);
}

static void copy_span(char *out, size_t size, const char *p, size_t len)
{
	assert_true(len < size);
	if (len)
		memcpy(out, p, len);
	out[len] = '\0';
}

static void check_in_buffer(const struct recorder *r, const char *p, size_t len)
{
	if (!p) {
		assert_int_equal(len, 0);
		return;
	}
	const char *buf = (const char *)r->parser->buf;
	assert_non_null(buf);
	assert_true(p >= buf && len <= r->parser->buf_cap && p - buf <= (ptrdiff_t)(r->parser->buf_cap - len));
}

static void transcribe(struct text *t, const char *name, const char *p, size_t len)
{
	text_printf(t, " %s=%zu:", name, len);
	text_add(t, p ? p : "", p ? len : 0);
}

static int on_message(void *context, const struct http1_message *m)
{
	struct recorder *r = context;
	const struct http1_span *spans[] = { &m->host, &m->referer, &m->origin, &m->user_agent,
					     &m->content_type };
	check_in_buffer(r, m->method, m->method_len);
	check_in_buffer(r, m->target, m->target_len);
	for (size_t i = 0; i < sizeof spans / sizeof spans[0]; i++)
		check_in_buffer(r, spans[i]->p, spans[i]->len);
	assert_true(m->cookie_count <= HTTP1_MAX_COOKIES);
	assert_true(m->set_cookie_count <= HTTP1_MAX_COOKIES);
	assert_true(m->is_request ? m->set_cookie_count == 0 : m->cookie_count == 0);
	for (int i = 0; i < m->cookie_count; i++)
		check_in_buffer(r, m->cookies[i].p, m->cookies[i].len);
	for (int i = 0; i < m->set_cookie_count; i++)
		check_in_buffer(r, m->set_cookies[i].p, m->set_cookies[i].len);

	struct text *t = &r->transcript;
	text_printf(t, "msg req=%d v=%d status=%d", m->is_request, m->version_minor, m->status);
	transcribe(t, "method", m->method, m->method_len);
	transcribe(t, "target", m->target, m->target_len);
	transcribe(t, "host", m->host.p, m->host.len);
	transcribe(t, "referer", m->referer.p, m->referer.len);
	transcribe(t, "origin", m->origin.p, m->origin.len);
	transcribe(t, "ua", m->user_agent.p, m->user_agent.len);
	transcribe(t, "ct", m->content_type.p, m->content_type.len);
	for (int i = 0; i < m->cookie_count; i++)
		transcribe(t, "cookie", m->cookies[i].p, m->cookies[i].len);
	for (int i = 0; i < m->set_cookie_count; i++)
		transcribe(t, "set-cookie", m->set_cookies[i].p, m->set_cookies[i].len);
	text_printf(t, " dropped=%d,%d headers=%d body=%llu chunked=%d\n", m->cookies_dropped,
		    m->headers_dropped, m->header_count, (unsigned long long)m->body_length,
		    m->chunked);

	if (r->count < MAX_SEEN) {
		struct seen *s = &r->seen[r->count];
		copy_span(s->method, sizeof s->method, m->method, m->method_len);
		copy_span(s->target, sizeof s->target, m->target, m->target_len);
		copy_span(s->host, sizeof s->host, m->host.p, m->host.len);
		copy_span(s->referer, sizeof s->referer, m->referer.p, m->referer.len);
		copy_span(s->origin, sizeof s->origin, m->origin.p, m->origin.len);
		copy_span(s->user_agent, sizeof s->user_agent, m->user_agent.p, m->user_agent.len);
		copy_span(s->content_type, sizeof s->content_type, m->content_type.p,
			  m->content_type.len);
		const struct http1_span *cookies = m->is_request ? m->cookies : m->set_cookies;
		int n = m->is_request ? m->cookie_count : m->set_cookie_count;
		if (n > 0) {
			copy_span(s->first_cookie, sizeof s->first_cookie, cookies[0].p, cookies[0].len);
			copy_span(s->last_cookie, sizeof s->last_cookie, cookies[n - 1].p,
				  cookies[n - 1].len);
		}
		s->status = m->status;
		s->version_minor = m->version_minor;
		s->chunked = m->chunked;
		s->cookie_count = m->cookie_count;
		s->set_cookie_count = m->set_cookie_count;
		s->cookies_dropped = m->cookies_dropped;
		s->header_count = m->header_count;
		s->headers_dropped = m->headers_dropped;
		s->body_length = m->body_length;
	}
	r->count++;
	if (r->response_side)
		http1_parser_request_seen(r->response_side, m);
	return r->stop_after && r->count == r->stop_after;
}

/* ---- feeding ------------------------------------------------------------ */

/* Feeds one piece from a heap copy of exactly its length. */
static enum http1_end feed(struct http1_parser *p, const void *data, size_t len,
			   struct recorder *r)
{
	uint8_t *copy = malloc(len ? len : 1);
	assert_non_null(copy);
	if (len)
		memcpy(copy, data, len);
	enum http1_end end = http1_parser_feed(p, copy, len, on_message, r);
	free(copy);
	return end;
}

static enum http1_end feed_str(struct http1_parser *p, const char *s, struct recorder *r)
{
	return feed(p, s, strlen(s), r);
}

/*
 * Feeds `len` bytes in pieces of `piece` bytes (0: all at once). With
 * `use_skip`, bytes the parser says it will skip are not fed but skipped, as
 * the reassembly layer would.
 */
static enum http1_end feed_pieces(struct http1_parser *p, const uint8_t *data, size_t len,
				  size_t piece, int use_skip, struct recorder *r)
{
	enum http1_end end = HTTP1_MORE;
	size_t pos = 0;
	while (pos < len) {
		uint64_t hint = use_skip ? http1_parser_skip_hint(p) : 0;
		if (hint > 0) {
			size_t n = hint < len - pos ? (size_t)hint : len - pos;
			end = http1_parser_skipped(p, n);
			pos += n;
			continue;
		}
		size_t n = piece && piece < len - pos ? piece : len - pos;
		end = feed(p, data + pos, n, r);
		pos += n;
	}
	return end;
}

/* A whole run on a fresh parser: the transcript, and the end in *end. */
static struct recorder *run(int is_request, const uint8_t *data, size_t len, size_t piece,
			    int use_skip, enum http1_end *end, struct http1_parser *p)
{
	http1_parser_init(p, is_request);
	struct recorder *r = recorder_new(p);
	*end = feed_pieces(p, data, len, piece, use_skip, r);
	return r;
}

/*
 * The same messages and the same end, however the stream is cut: whole, 1
 * byte at a time, in two pieces at every offset, in 7-byte pieces with
 * skipping. Returns the whole run's recorder (the caller frees it).
 */
static struct recorder *check_every_split(int is_request, const char *stream,
					  enum http1_end want_end)
{
	const uint8_t *data = (const uint8_t *)stream;
	size_t len = strlen(stream);
	struct http1_parser whole;
	enum http1_end end;
	struct recorder *expect = run(is_request, data, len, 0, 0, &end, &whole);
	assert_int_equal(end, want_end);

	struct http1_parser p;
	struct recorder *r = run(is_request, data, len, 1, 0, &end, &p);
	assert_int_equal(end, want_end);
	assert_string_equal(r->transcript.p ? r->transcript.p : "",
			    expect->transcript.p ? expect->transcript.p : "");
	recorder_free(r);
	http1_parser_free(&p);

	r = run(is_request, data, len, 7, 1, &end, &p);
	assert_int_equal(end, want_end);
	assert_string_equal(r->transcript.p ? r->transcript.p : "",
			    expect->transcript.p ? expect->transcript.p : "");
	recorder_free(r);
	http1_parser_free(&p);

	for (size_t at = 0; at <= len; at++) {
		http1_parser_init(&p, is_request);
		r = recorder_new(&p);
		feed(&p, data, at, r);
		end = feed(&p, data + at, len - at, r);
		assert_int_equal(end, want_end);
		assert_string_equal(r->transcript.p ? r->transcript.p : "",
				    expect->transcript.p ? expect->transcript.p : "");
		recorder_free(r);
		http1_parser_free(&p);
	}
	http1_parser_free(&whole);
	return expect;
}

/* ---- the browser capture against tshark --------------------------------- */

static const char *data_dir(void)
{
	const char *dir = getenv("HTTP1_TEST_DATA");
	return dir ? dir : "tests/data/http1";
}

static uint8_t *read_file(const char *name, size_t *len)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", data_dir(), name);
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s (run from the repository's root)", path);
	uint8_t *data = malloc(1 << 20);
	assert_non_null(data);
	*len = fread(data, 1, 1 << 20, f);
	assert_true(*len < 1 << 20);
	fclose(f);
	return data;
}

/* One line of tshark's truth. */
struct truth {
	int is_request;
	int stream;
	char method[32];
	char host[256];
	char uri[8192];
	int status;
	int cookies; /* Cookie or Set-Cookie headers */
};

static size_t read_truth(struct truth *truth, size_t max)
{
	size_t len;
	char *text = (char *)read_file("browser-accept-http.tshark.tsv", &len);
	text[len] = '\0';
	size_t n = 0;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		assert_true(n < max);
		struct truth *t = &truth[n++];
		memset(t, 0, sizeof *t);
		char *field[6] = { 0 };
		int count = 0;
		for (char *p = line; count < 6; count++) {
			field[count] = p;
			char *tab = strchr(p, '\t');
			if (!tab) {
				count++;
				break;
			}
			*tab = '\0';
			p = tab + 1;
		}
		t->is_request = strcmp(field[0], "req") == 0;
		t->stream = atoi(field[1]);
		if (t->is_request) {
			assert_int_equal(count, 6);
			snprintf(t->method, sizeof t->method, "%s", field[2]);
			snprintf(t->host, sizeof t->host, "%s", field[3]);
			snprintf(t->uri, sizeof t->uri, "%s", field[4]);
			t->cookies = atoi(field[5]);
		} else {
			assert_int_equal(count, 4);
			t->status = atoi(field[2]);
			t->cookies = atoi(field[3]);
		}
	}
	free(text);
	return n;
}

/* Parses both directions of one stream, by the given cut; checks them against tshark. */
static void check_stream(const struct truth *truth, size_t truth_count, int stream, size_t piece,
			 int use_skip, size_t *requests, size_t *responses)
{
	char name[64];
	size_t len;
	struct http1_parser req, resp;
	http1_parser_init(&req, 1);
	http1_parser_init(&resp, 0);
	struct recorder *rr = recorder_new(&req);
	struct recorder *rs = recorder_new(&resp);
	rr->response_side = &resp;

	snprintf(name, sizeof name, "browser-accept-http.%d.c2s", stream);
	uint8_t *data = read_file(name, &len);
	assert_int_equal(feed_pieces(&req, data, len, piece, use_skip, rr), HTTP1_MORE);
	free(data);
	snprintf(name, sizeof name, "browser-accept-http.%d.s2c", stream);
	data = read_file(name, &len);
	assert_int_equal(feed_pieces(&resp, data, len, piece, use_skip, rs), HTTP1_MORE);
	free(data);
	/* Every body was read to its end: the next byte would start a message. */
	assert_int_equal(http1_parser_skip_hint(&req), 0);
	assert_int_equal(http1_parser_skip_hint(&resp), 0);

	size_t i_req = 0, i_resp = 0;
	for (size_t i = 0; i < truth_count; i++) {
		const struct truth *t = &truth[i];
		if (t->stream != stream)
			continue;
		if (t->is_request) {
			assert_true(i_req < rr->count);
			const struct seen *s = &rr->seen[i_req++];
			assert_string_equal(s->method, t->method);
			assert_string_equal(s->host, t->host);
			assert_string_equal(s->target, t->uri);
			assert_int_equal(s->cookie_count + s->cookies_dropped, t->cookies);
			assert_int_equal(s->status, 0);
		} else {
			assert_true(i_resp < rs->count);
			const struct seen *s = &rs->seen[i_resp++];
			assert_int_equal(s->status, t->status);
			assert_int_equal(s->set_cookie_count + s->cookies_dropped, t->cookies);
			assert_string_equal(s->method, "");
		}
	}
	assert_int_equal(i_req, rr->count);
	assert_int_equal(i_resp, rs->count);
	*requests += rr->count;
	*responses += rs->count;
	recorder_free(rr);
	recorder_free(rs);
	http1_parser_free(&req);
	http1_parser_free(&resp);
}

static void test_browser_capture(void **state)
{
	(void)state;
	static struct truth truth[256];
	size_t n = read_truth(truth, 256);
	size_t want_requests = 0, want_responses = 0;
	int streams[64];
	size_t stream_count = 0;
	for (size_t i = 0; i < n; i++) {
		if (truth[i].is_request)
			want_requests++;
		else
			want_responses++;
		size_t j;
		for (j = 0; j < stream_count && streams[j] != truth[i].stream; j++)
			;
		if (j == stream_count) {
			assert_true(stream_count < 64);
			streams[stream_count++] = truth[i].stream;
		}
	}
	/* The capture's own numbers, so that an empty truth file cannot pass. */
	assert_int_equal(want_requests, 29);
	assert_int_equal(want_responses, 29);
	assert_int_equal(stream_count, 13);

	const struct { size_t piece; int use_skip; } cuts[] = { { 0, 0 }, { 1, 0 }, { 1460, 1 }, { 13, 1 } };
	for (size_t c = 0; c < sizeof cuts / sizeof cuts[0]; c++) {
		size_t requests = 0, responses = 0;
		for (size_t s = 0; s < stream_count; s++)
			check_stream(truth, n, streams[s], cuts[c].piece, cuts[c].use_skip, &requests,
				     &responses);
		assert_int_equal(requests, want_requests);
		assert_int_equal(responses, want_responses);
	}
}

/* ---- hand-made cases ---------------------------------------------------- */

static const char request_with_body[] =
	"POST /api/v2/pixel?x=1 HTTP/1.1\r\n"
	"Host: analytics.example\r\n"
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64)\r\n"
	"Referer: http://news.example/\r\n"
	"Origin: http://news.example\r\n"
	"Content-Type: application/json\r\n"
	"Cookie: a=1; b=2\r\n"
	"cookie: c=3\r\n"
	"Content-Length: 12\r\n"
	"\r\n"
	"{\"e\":\"page\"}"
	"GET /next HTTP/1.0\r\n"
	"HOST: second.example\r\n"
	"\r\n";

static void test_request_fields_and_splits(void **state)
{
	(void)state;
	struct recorder *r = check_every_split(1, request_with_body, HTTP1_MORE);
	assert_int_equal(r->count, 2);
	const struct seen *s = &r->seen[0];
	assert_string_equal(s->method, "POST");
	assert_string_equal(s->target, "/api/v2/pixel?x=1");
	assert_int_equal(s->version_minor, 1);
	assert_string_equal(s->host, "analytics.example");
	assert_string_equal(s->user_agent, "Mozilla/5.0 (X11; Linux x86_64)");
	assert_string_equal(s->referer, "http://news.example/");
	assert_string_equal(s->origin, "http://news.example");
	assert_string_equal(s->content_type, "application/json");
	assert_int_equal(s->cookie_count, 2);
	assert_string_equal(s->first_cookie, "a=1; b=2");
	assert_string_equal(s->last_cookie, "c=3");
	assert_int_equal(s->body_length, 12);
	assert_int_equal(s->header_count, 8);
	assert_int_equal(s->chunked, 0);
	s = &r->seen[1];
	assert_string_equal(s->method, "GET");
	assert_string_equal(s->target, "/next");
	assert_int_equal(s->version_minor, 0);
	assert_string_equal(s->host, "second.example");
	assert_int_equal(s->body_length, 0);
	recorder_free(r);
}

static void test_skip_hint(void **state)
{
	(void)state;
	struct http1_parser p;
	http1_parser_init(&p, 1);
	struct recorder *r = recorder_new(&p);
	const char *head = strstr(request_with_body, "{");
	size_t head_len = (size_t)(head - request_with_body);
	assert_int_equal(feed(&p, request_with_body, head_len + 2, r), HTTP1_MORE);
	assert_int_equal(r->count, 1);
	assert_int_equal(http1_parser_skip_hint(&p), 10);
	assert_int_equal(http1_parser_skipped(&p, 10), HTTP1_MORE);
	assert_int_equal(http1_parser_skip_hint(&p), 0);
	assert_int_equal(feed_str(&p, head + 12, r), HTTP1_MORE);
	assert_int_equal(r->count, 2);
	/* Skipping more than the hint is a gap outside the body. */
	assert_int_equal(feed_str(&p, "POST / HTTP/1.1\r\nContent-Length: 3\r\n\r\n", r), HTTP1_MORE);
	assert_int_equal(http1_parser_skip_hint(&p), 3);
	assert_int_equal(http1_parser_skipped(&p, 4), HTTP1_END_GAP);
	assert_int_equal(http1_parser_skip_hint(&p), 0);
	assert_null(p.buf);
	recorder_free(r);
	http1_parser_free(&p);
}

static void test_bare_lf_and_blank_lines(void **state)
{
	(void)state;
	struct recorder *r = check_every_split(
		1,
		"\r\n\nGET /a HTTP/1.1\nHost: lf.example\nCookie: x=1\n\n"
		"GET /b HTTP/1.1\r\nHost: mixed.example\n\r\n",
		HTTP1_MORE);
	assert_int_equal(r->count, 2);
	assert_string_equal(r->seen[0].target, "/a");
	assert_string_equal(r->seen[0].host, "lf.example");
	assert_string_equal(r->seen[0].first_cookie, "x=1");
	assert_string_equal(r->seen[1].host, "mixed.example");
	recorder_free(r);

	r = check_every_split(0, "HTTP/1.1 204\nSet-Cookie: a=b\n\nHTTP/1.0 304 Not Modified\n\n",
			      HTTP1_MORE);
	assert_int_equal(r->count, 2);
	assert_int_equal(r->seen[0].status, 204);
	assert_string_equal(r->seen[0].first_cookie, "a=b");
	assert_int_equal(r->seen[1].status, 304);
	assert_int_equal(r->seen[1].version_minor, 0);
	recorder_free(r);
}

static void test_folded_header(void **state)
{
	(void)state;
	struct recorder *r = check_every_split(
		1,
		"GET / HTTP/1.1\r\n"
		" ignored: whitespace before the first header\r\n"
		"User-Agent: Old\r\n"
		"\tBrowser/1.0\r\n"
		"  (folded twice)\n"
		"Host:   fold.example  \r\n"
		"NoColonLine\r\n"
		"Bad Name: x\r\n"
		"\r\n",
		HTTP1_MORE);
	assert_int_equal(r->count, 1);
	assert_string_equal(r->seen[0].user_agent, "Old  \tBrowser/1.0    (folded twice)");
	assert_string_equal(r->seen[0].host, "fold.example");
	assert_int_equal(r->seen[0].header_count, 2);
	recorder_free(r);

	/* The first header folds too (a bug once: only later ones did). */
	r = check_every_split(1,
			      "GET / HTTP/1.1\r\n"
			      "Cookie: a=1;\r\n"
			      " b=2\r\n"
			      "Host: fold.example\r\n"
			      "\r\n",
			      HTTP1_MORE);
	assert_int_equal(r->count, 1);
	assert_string_equal(r->seen[0].first_cookie, "a=1;   b=2");
	assert_string_equal(r->seen[0].host, "fold.example");
	recorder_free(r);
}

/* A request with `headers` filler headers before Host, Cookie and Content-Length. */
static char *many_headers(int headers, int cookies)
{
	struct text t = { 0 };
	text_printf(&t, "GET /many HTTP/1.1\r\n");
	for (int i = 0; i < headers; i++)
		text_printf(&t, "X-Filler-%d: %d\r\n", i, i);
	for (int i = 0; i < cookies; i++)
		text_printf(&t, "Cookie: c%d=%d\r\n", i, i);
	text_printf(&t, "Host: late.example\r\nContent-Length: 4\r\n\r\nbodyGET /after HTTP/1.1\r\n\r\n");
	return t.p;
}

static void test_header_bounds(void **state)
{
	(void)state;
	/* 130 headers before Host: counted, Host not kept, Content-Length still read. */
	char *stream = many_headers(130, 0);
	struct recorder *r = check_every_split(1, stream, HTTP1_MORE);
	assert_int_equal(r->count, 2);
	assert_int_equal(r->seen[0].header_count, 132);
	assert_int_equal(r->seen[0].headers_dropped, 4);
	assert_string_equal(r->seen[0].host, "");
	assert_int_equal(r->seen[0].body_length, 4);
	assert_string_equal(r->seen[1].target, "/after");
	recorder_free(r);
	free(stream);

	/* 126 headers: Host is the 127th and kept, Content-Length the 128th. */
	stream = many_headers(126, 0);
	r = check_every_split(1, stream, HTTP1_MORE);
	assert_int_equal(r->seen[0].headers_dropped, 0);
	assert_string_equal(r->seen[0].host, "late.example");
	recorder_free(r);
	free(stream);

	/* 72 cookies: 64 kept in order, 8 counted. */
	stream = many_headers(0, 72);
	r = check_every_split(1, stream, HTTP1_MORE);
	assert_int_equal(r->count, 2);
	assert_int_equal(r->seen[0].cookie_count, 64);
	assert_int_equal(r->seen[0].cookies_dropped, 8);
	assert_string_equal(r->seen[0].first_cookie, "c0=0");
	assert_string_equal(r->seen[0].last_cookie, "c63=63");
	recorder_free(r);
	free(stream);

	/* Cookies past the 128th header count as dropped both ways. */
	stream = many_headers(127, 3);
	r = check_every_split(1, stream, HTTP1_MORE);
	assert_int_equal(r->seen[0].cookie_count, 1);
	assert_int_equal(r->seen[0].cookies_dropped, 2);
	assert_int_equal(r->seen[0].headers_dropped, 4);
	recorder_free(r);
	free(stream);
}

/* A request whose header block is exactly `size` bytes, then another request. */
static void check_block_size(size_t size, enum http1_end want, size_t want_messages)
{
	static const char start[] = "GET / HTTP/1.1\r\nX-Pad: ";
	static const char end[] = "\r\n\r\n";
	static const char next[] = "GET /next HTTP/1.1\r\n\r\n";
	size_t len = size + sizeof next - 1;
	char *stream = malloc(len + 1);
	assert_non_null(stream);
	memcpy(stream, start, sizeof start - 1);
	memset(stream + sizeof start - 1, 'p', size - (sizeof start - 1) - (sizeof end - 1));
	memcpy(stream + size - (sizeof end - 1), end, sizeof end - 1);
	memcpy(stream + size, next, sizeof next);

	size_t pieces[] = { 0, 1, 1000, 65535 };
	for (size_t i = 0; i < sizeof pieces / sizeof pieces[0]; i++) {
		struct http1_parser p;
		enum http1_end got;
		struct recorder *r = run(1, (const uint8_t *)stream, len, pieces[i], 0, &got, &p);
		assert_int_equal(got, want);
		assert_int_equal(r->count, want_messages);
		if (want == HTTP1_END_TOO_LONG)
			assert_null(p.buf); /* the buffer goes with the direction */
		recorder_free(r);
		http1_parser_free(&p);
	}
	free(stream);
}

static void test_header_block_limit(void **state)
{
	(void)state;
	check_block_size(HTTP1_HEADER_MAX, HTTP1_MORE, 2);
	check_block_size(HTTP1_HEADER_MAX + 1, HTTP1_END_TOO_LONG, 0);
	/* With bare LF the last line is shorter: the bound counts bytes, not lines. */
	struct http1_parser p;
	http1_parser_init(&p, 0);
	struct recorder *r = recorder_new(&p);
	assert_int_equal(feed_str(&p, "HTTP/1.1 200 OK\r\nX: ", r), HTTP1_MORE);
	char *pad = malloc(HTTP1_HEADER_MAX);
	assert_non_null(pad);
	memset(pad, 'q', HTTP1_HEADER_MAX);
	assert_int_equal(feed(&p, pad, HTTP1_HEADER_MAX, r), HTTP1_END_TOO_LONG);
	assert_int_equal(r->count, 0);
	free(pad);
	recorder_free(r);
	http1_parser_free(&p);
}

static const char chunked_response[] =
	"HTTP/1.1 200 OK\r\n"
	"Transfer-Encoding: gzip, Chunked\r\n"
	"Set-Cookie: id=1; Path=/\r\n"
	"Set-Cookie: other=2\r\n"
	"\r\n"
	"5;name=value;q=\"quoted\"\r\nhello\r\n"
	"0000A \r\n0123456789\r\n"
	"1a\nabcdefghijklmnopqrstuvwxyz\n"
	"0;last\r\n"
	"Trailer-One: x\r\n"
	"Server-Timing: y\n"
	"\r\n"
	"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nSet-Cookie: third=3\r\n\r\nabc"
	"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";

static void test_chunked(void **state)
{
	(void)state;
	struct recorder *r = check_every_split(0, chunked_response, HTTP1_MORE);
	assert_int_equal(r->count, 3);
	assert_int_equal(r->seen[0].status, 200);
	assert_int_equal(r->seen[0].chunked, 1);
	assert_int_equal(r->seen[0].set_cookie_count, 2);
	assert_string_equal(r->seen[0].first_cookie, "id=1; Path=/");
	assert_string_equal(r->seen[0].last_cookie, "other=2");
	assert_int_equal(r->seen[1].body_length, 3);
	assert_string_equal(r->seen[1].first_cookie, "third=3");
	assert_int_equal(r->seen[2].status, 404);
	recorder_free(r);

	/* A chunked request body, then a pipelined request. */
	r = check_every_split(1,
			      "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
			      "3\r\nabc\r\n0\r\n\r\n"
			      "GET /d HTTP/1.1\r\n\r\n",
			      HTTP1_MORE);
	assert_int_equal(r->count, 2);
	assert_int_equal(r->seen[0].chunked, 1);
	assert_string_equal(r->seen[1].target, "/d");
	recorder_free(r);

	/* Broken chunk framing ends the direction after the message. */
	const char *bad[] = {
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\rX",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3-\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		r = check_every_split(0, bad[i], HTTP1_END_BAD_CHUNK);
		assert_int_equal(r->count, 1);
		recorder_free(r);
	}
	/* The largest size we take: 2^60 - 1. */
	r = check_every_split(
		0, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffff\r\n",
		HTTP1_MORE);
	recorder_free(r);
}

static void test_chunk_line_bounds(void **state)
{
	(void)state;
	struct http1_parser p;
	http1_parser_init(&p, 0);
	struct recorder *r = recorder_new(&p);
	assert_int_equal(feed_str(&p, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;", r),
			 HTTP1_MORE);
	char *ext = malloc(HTTP1_CHUNK_LINE_MAX);
	assert_non_null(ext);
	memset(ext, 'e', HTTP1_CHUNK_LINE_MAX);
	assert_int_equal(feed(&p, ext, HTTP1_CHUNK_LINE_MAX, r), HTTP1_END_BAD_CHUNK);
	free(ext);
	http1_parser_free(&p);

	/* A trailer that never ends is bounded like a header block. */
	http1_parser_init(&p, 0);
	assert_int_equal(feed_str(&p, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n", r),
			 HTTP1_MORE);
	for (int i = 0; i < 20000; i++) {
		enum http1_end end = feed_str(&p, "T: v\r\n", r);
		if (end != HTTP1_MORE) {
			assert_int_equal(end, HTTP1_END_TOO_LONG);
			assert_true(i * 6 >= HTTP1_HEADER_MAX - 6);
			break;
		}
		assert_true(i < 19999);
	}
	recorder_free(r);
	http1_parser_free(&p);
}

static void test_head_and_no_body(void **state)
{
	(void)state;
	/* The request side tells the response side which request was a HEAD. */
	struct http1_parser req, resp;
	http1_parser_init(&req, 1);
	http1_parser_init(&resp, 0);
	struct recorder *rr = recorder_new(&req);
	struct recorder *rs = recorder_new(&resp);
	rr->response_side = &resp;
	assert_int_equal(feed_str(&req, "GET /1 HTTP/1.1\r\n\r\nHEAD /2 HTTP/1.1\r\n\r\n"
					"GET /3 HTTP/1.1\r\n\r\n", rr),
			 HTTP1_MORE);
	assert_int_equal(rr->count, 3);
	assert_int_equal(feed_str(&resp,
				  "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
				  "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
				  "HTTP/1.1 100 Continue\r\n\r\n"
				  "HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n"
				  "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"
				  "HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n"
				  "HTTP/1.1 204 No Content\r\nContent-Length: 99\r\n\r\n"
				  "HTTP/1.1 200 OK\r\n\r\nto the end HTTP/1.1 200 OK\r\n\r\n",
				  rs),
			 HTTP1_MORE);
	assert_int_equal(rs->count, 8);
	assert_int_equal(rs->seen[1].body_length, 0);  /* HEAD */
	assert_int_equal(rs->seen[2].status, 100);
	assert_int_equal(rs->seen[3].status, 103);
	assert_int_equal(rs->seen[4].body_length, 3); /* the 1xx did not answer /3 */
	assert_int_equal(rs->seen[5].body_length, 0);
	assert_int_equal(rs->seen[6].body_length, 0);
	assert_int_equal(rs->seen[7].body_length, HTTP1_BODY_UNTIL_CLOSE);
	assert_int_equal(http1_parser_skip_hint(&resp), HTTP1_BODY_UNTIL_CLOSE);
	/* To the end: gaps and bytes alike are body. */
	assert_int_equal(http1_parser_feed(&resp, NULL, 1 << 20, on_message, rs), HTTP1_MORE);
	assert_int_equal(feed_str(&resp, "HTTP/1.1 200 OK\r\n\r\n", rs), HTTP1_MORE);
	assert_int_equal(http1_parser_skipped(&resp, UINT64_MAX), HTTP1_MORE);
	assert_int_equal(rs->count, 8);
	recorder_free(rr);
	recorder_free(rs);
	http1_parser_free(&req);
	http1_parser_free(&resp);

	/* Without the HEAD known, the same bytes would lose the next response. */
	struct recorder *r = check_every_split(
		0, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nHTTP/1.1 200 OK\r\n\r\n", HTTP1_MORE);
	assert_int_equal(r->count, 1);
	recorder_free(r);
}

static void test_gaps(void **state)
{
	(void)state;
	struct http1_parser p;
	http1_parser_init(&p, 1);
	struct recorder *r = recorder_new(&p);
	/* In a Content-Length body: the body gets shorter, parsing goes on. */
	assert_int_equal(feed_str(&p, "POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nab", r),
			 HTTP1_MORE);
	assert_int_equal(http1_parser_feed(&p, NULL, 5, on_message, r), HTTP1_MORE);
	assert_int_equal(http1_parser_skip_hint(&p), 3);
	assert_int_equal(http1_parser_feed(&p, NULL, 3, on_message, r), HTTP1_MORE);
	assert_int_equal(feed_str(&p, "GET /after-gap HTTP/1.1\r\n\r\n", r), HTTP1_MORE);
	assert_int_equal(r->count, 2);
	assert_string_equal(r->seen[1].target, "/after-gap");
	/* In chunk data too. */
	assert_int_equal(feed_str(&p, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n8\r\nab", r),
			 HTTP1_MORE);
	assert_int_equal(http1_parser_feed(&p, NULL, 6, on_message, r), HTTP1_MORE);
	assert_int_equal(feed_str(&p, "\r\n0\r\n\r\nGET /x HTTP/1.1\r\n\r\n", r), HTTP1_MORE);
	assert_int_equal(r->count, 4);
	/* Between messages: where would the next one start? */
	assert_int_equal(http1_parser_feed(&p, NULL, 1, on_message, r), HTTP1_END_GAP);
	assert_int_equal(feed_str(&p, "GET /lost HTTP/1.1\r\n\r\n", r), HTTP1_END_GAP);
	assert_int_equal(r->count, 4);
	http1_parser_free(&p);

	/* In a header block. */
	http1_parser_init(&p, 1);
	assert_int_equal(feed_str(&p, "GET / HTTP/1.1\r\nHost: a", r), HTTP1_MORE);
	assert_int_equal(http1_parser_feed(&p, NULL, 10, on_message, r), HTTP1_END_GAP);
	assert_null(p.buf);
	http1_parser_free(&p);

	/* Running past the body's end. */
	http1_parser_init(&p, 1);
	assert_int_equal(feed_str(&p, "POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\n", r), HTTP1_MORE);
	assert_int_equal(http1_parser_feed(&p, NULL, 5, on_message, r), HTTP1_END_GAP);
	http1_parser_free(&p);
	/* In chunk framing. */
	http1_parser_init(&p, 0);
	assert_int_equal(feed_str(&p, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", r),
			 HTTP1_MORE);
	assert_int_equal(http1_parser_feed(&p, NULL, 1, on_message, r), HTTP1_END_GAP);
	http1_parser_free(&p);
	/* A gap of zero bytes is nothing. */
	http1_parser_init(&p, 1);
	assert_int_equal(http1_parser_feed(&p, NULL, 0, on_message, r), HTTP1_MORE);
	recorder_free(r);
	http1_parser_free(&p);
}

static void test_content_length_errors(void **state)
{
	(void)state;
	const char *bad[] = {
		"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
		"POST / HTTP/1.1\r\nContent-Length: 18446744073709551615\r\n\r\n",
		"POST / HTTP/1.1\r\nContent-Length: 18446744073709551616\r\n\r\n",
		"POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n",
		"POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
		"POST / HTTP/1.1\r\nContent-Length: 5, 6\r\n\r\n",
		"POST / HTTP/1.1\r\nContent-Length: 0x10\r\n\r\n",
		"POST / HTTP/1.1\r\nContent-Length: 1 2\r\n\r\n",
		"POST / HTTP/1.1\r\nContent-Length:\r\n\r\n",
		"POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\n",
		"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct recorder *r = check_every_split(1, bad[i], HTTP1_END_BAD_LENGTH);
		assert_int_equal(r->count, 1); /* reported all the same */
		recorder_free(r);
	}
	struct recorder *r = check_every_split(0, "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
					       HTTP1_END_BAD_LENGTH);
	recorder_free(r);

	/* The same length twice, or as a list, is one length; the largest is fine. */
	r = check_every_split(1,
			      "POST / HTTP/1.1\r\nContent-Length: 3\r\ncontent-length: 003\r\n\r\nabc"
			      "POST / HTTP/1.1\r\nContent-Length: 2 , 2\r\n\r\nxy"
			      "POST / HTTP/1.1\r\nContent-Length: 18446744073709551614\r\n\r\n",
			      HTTP1_MORE);
	assert_int_equal(r->count, 3);
	assert_int_equal(r->seen[2].body_length, UINT64_MAX - 1);
	recorder_free(r);

	/* Chunked wins over Content-Length (RFC 9112 6.3). */
	r = check_every_split(
		1,
		"POST / HTTP/1.1\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
		"GET /z HTTP/1.1\r\n\r\n",
		HTTP1_MORE);
	assert_int_equal(r->count, 2);
	recorder_free(r);
}

static void test_upgrades(void **state)
{
	(void)state;
	struct recorder *r = check_every_split(
		1, "CONNECT tracker.example:443 HTTP/1.1\r\nHost: tracker.example:443\r\n\r\n\x16\x03\x01",
		HTTP1_END_UPGRADE);
	assert_int_equal(r->count, 1);
	assert_string_equal(r->seen[0].target, "tracker.example:443");
	recorder_free(r);

	r = check_every_split(0,
			      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x05hello",
			      HTTP1_END_UPGRADE);
	assert_int_equal(r->count, 1);
	recorder_free(r);

	/* After a request asking for an Upgrade, what is not HTTP is the new protocol. */
	r = check_every_split(1,
			      "GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
			      "\x81\x85\x01\x02\x03\x04hello",
			      HTTP1_END_UPGRADE);
	assert_int_equal(r->count, 1);
	recorder_free(r);

	/* A 2xx to a CONNECT starts a tunnel; a 407 does not. */
	struct http1_parser req, resp;
	http1_parser_init(&req, 1);
	http1_parser_init(&resp, 0);
	struct recorder *rr = recorder_new(&req);
	struct recorder *rs = recorder_new(&resp);
	rr->response_side = &resp;
	assert_int_equal(feed_str(&req, "CONNECT a:443 HTTP/1.1\r\n\r\n", rr), HTTP1_END_UPGRADE);
	assert_int_equal(feed_str(&resp, "HTTP/1.1 200 Connection established\r\n\r\n\x16\x03", rs),
			 HTTP1_END_UPGRADE);
	assert_int_equal(rs->count, 1);
	http1_parser_free(&resp);
	http1_parser_init(&resp, 0);
	http1_parser_request_seen(&resp, &(struct http1_message){ .is_request = 1, .method = "CONNECT",
								  .method_len = 7 });
	assert_int_equal(feed_str(&resp,
				  "HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n"
				  "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
				  rs),
			 HTTP1_MORE);
	assert_int_equal(rs->count, 3);
	recorder_free(rr);
	recorder_free(rs);
	http1_parser_free(&req);
	http1_parser_free(&resp);
}

static void test_not_http(void **state)
{
	(void)state;
	struct http1_parser p;
	/* Found within the first bytes, not after 64 KiB. */
	const struct {
		int is_request;
		const char *prefix;
		size_t len;
	} early[] = {
		{ 1, "\x16\x03\x01", 3 },             /* a TLS record */
		{ 1, "PRI", 3 },                      /* fine so far... */
		{ 1, "GETXXXXXXXXXXXXXXX", 18 },      /* 17 letters */
		{ 1, " GET", 4 },
		{ 1, "GET\t/", 5 },
		{ 1, "G3T / HTTP/1.1", 14 },
		{ 1, "-GET / HTTP/1.1", 15 },          /* '-' only after the first letter */
		{ 1, "GET /\x01", 6 },
		{ 0, "SSH-2.0", 7 },
		{ 0, "HTTP/2 200", 10 },
		{ 0, "HTTP/1.1 2x", 11 },
		{ 0, "HTTP/1.1  200", 13 },
	};
	for (size_t i = 0; i < sizeof early / sizeof early[0]; i++) {
		http1_parser_init(&p, early[i].is_request);
		struct recorder *r = recorder_new(&p);
		enum http1_end end = feed(&p, early[i].prefix, early[i].len, r);
		assert_int_equal(end, i == 1 ? HTTP1_MORE : HTTP1_END_NOT_HTTP);
		assert_int_equal(http1_end_name(end)[0], i == 1 ? 'm' : 'n');
		recorder_free(r);
		http1_parser_free(&p);
	}
	/* Whole lines that start well and are not HTTP/1. */
	const char *lines[] = {
		"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
		"GET /\r\n\r\n",
		"GET / HTTP/1.1 extra\r\n\r\n",
		"GET  HTTP/1.1\r\n\r\n",
		"GET / FTP/1.0\r\n\r\n",
		"hello world\n\n",
	};
	for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
		struct recorder *r = check_every_split(1, lines[i], HTTP1_END_NOT_HTTP);
		assert_int_equal(r->count, 0);
		recorder_free(r);
	}
	const char *status_lines[] = {
		"HTTP/1.1 099 Low\r\n\r\n",
		"HTTP/1.1 20\r\n\r\n",
		"HTTP/1.1 2000 OK\r\n\r\n",
		"HTTP/1.1\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof status_lines / sizeof status_lines[0]; i++) {
		struct recorder *r = check_every_split(0, status_lines[i], HTTP1_END_NOT_HTTP);
		recorder_free(r);
	}
	/* Garbage after good messages: those stay reported. */
	http1_parser_init(&p, 1);
	struct recorder *r = recorder_new(&p);
	assert_int_equal(feed(&p, "GET /1 HTTP/1.1\r\n\r\n\x00\x01", 21, r), HTTP1_END_NOT_HTTP);
	assert_int_equal(r->count, 1);
	/* Once ended, it stays ended. */
	assert_int_equal(feed_str(&p, "GET /2 HTTP/1.1\r\n\r\n", r), HTTP1_END_NOT_HTTP);
	assert_int_equal(http1_parser_skip_hint(&p), 0);
	assert_int_equal(r->count, 1);
	recorder_free(r);
	http1_parser_free(&p);
}

/*
 * A control byte in a long request line, at every place among the eight
 * bytes the start line is checked in at a time: not HTTP/1, except a tab
 * (allowed); with a letter there instead, a request.
 */
static void test_start_line_controls(void **state)
{
	(void)state;
	static const uint8_t controls[] = { 0x00, 0x01, 0x08, 0x0b, 0x0c, 0x0e, 0x1b, 0x1f, 0x7f, '\t', 'a' };
	for (size_t c = 0; c < sizeof controls; c++) {
		for (size_t at = 0; at < 24; at++) {
			char line[96];
			int n = snprintf(line, sizeof line, "GET /%s HTTP/1.1\r\nHost: x\r\n\r\n",
					 "0123456789abcdefghijklmnopqrstuvwxyz");
			assert_true(n > 0 && (size_t)n < sizeof line);
			line[5 + at] = (char)controls[c];
			struct http1_parser p;
			http1_parser_init(&p, 1);
			struct recorder *r = recorder_new(&p);
			enum http1_end end = feed(&p, line, (size_t)n, r);
			int allowed = controls[c] == '\t' || controls[c] == 'a';
			if (allowed) {
				assert_int_equal(end, HTTP1_MORE);
				assert_int_equal(r->count, 1);
			} else {
				assert_int_equal(end, HTTP1_END_NOT_HTTP);
				assert_int_equal(r->count, 0);
			}
			recorder_free(r);
			http1_parser_free(&p);
		}
	}
}

static void test_callback_stops(void **state)
{
	(void)state;
	struct http1_parser p;
	http1_parser_init(&p, 1);
	struct recorder *r = recorder_new(&p);
	r->stop_after = 2;
	assert_int_equal(feed_str(&p, "GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\nGET /3 HTTP/1.1\r\n\r\n",
				  r),
			 HTTP1_END_STOPPED);
	assert_int_equal(r->count, 2);
	recorder_free(r);
	http1_parser_free(&p);
	/* Freeing twice, or a parser that never allocated, is fine. */
	http1_parser_free(&p);
}

static void test_end_names(void **state)
{
	(void)state;
	assert_string_equal(http1_end_name(HTTP1_MORE), "more");
	assert_string_equal(http1_end_name(HTTP1_END_NOT_HTTP), "not_http");
	assert_string_equal(http1_end_name(HTTP1_END_TOO_LONG), "too_long");
	assert_string_equal(http1_end_name(HTTP1_END_BAD_LENGTH), "bad_length");
	assert_string_equal(http1_end_name(HTTP1_END_GAP), "gap");
	assert_string_equal(http1_end_name(HTTP1_END_UPGRADE), "upgrade");
	assert_string_equal(http1_end_name(HTTP1_END_BAD_CHUNK), "bad_chunk");
	assert_string_equal(http1_end_name(HTTP1_END_STOPPED), "stopped");
	assert_string_equal(http1_end_name(HTTP1_END_NO_MEMORY), "no_memory");
	assert_string_equal(http1_end_name((enum http1_end)99), "unknown");
}

/* SSDP's request methods (UDP port 1900): M-SEARCH has a '-' (RFC 9110 tokens allow it). */
static void test_ssdp_methods(void **state)
{
	(void)state;
	static const char m_search[] = "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n"
				       "MAN: \"ssdp:discover\"\r\nMX: 1\r\nST: ssdp:all\r\n\r\n";
	struct recorder *r = check_every_split(1, m_search, HTTP1_MORE);
	assert_int_equal(r->count, 1);
	assert_non_null(strstr(r->transcript.p, "method=8:M-SEARCH"));
	assert_non_null(strstr(r->transcript.p, "target=1:*"));
	assert_non_null(strstr(r->transcript.p, "host=20:239.255.255.250:1900"));
	recorder_free(r);
	static const char notify[] = "NOTIFY * HTTP/1.1\r\nHOST: [FF02::C]:1900\r\n"
				     "NTS: ssdp:alive\r\n\r\n";
	r = check_every_split(1, notify, HTTP1_MORE);
	assert_int_equal(r->count, 1);
	assert_non_null(strstr(r->transcript.p, "host=14:[FF02::C]:1900"));
	recorder_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_browser_capture),
		cmocka_unit_test(test_request_fields_and_splits),
		cmocka_unit_test(test_skip_hint),
		cmocka_unit_test(test_bare_lf_and_blank_lines),
		cmocka_unit_test(test_folded_header),
		cmocka_unit_test(test_header_bounds),
		cmocka_unit_test(test_header_block_limit),
		cmocka_unit_test(test_chunked),
		cmocka_unit_test(test_chunk_line_bounds),
		cmocka_unit_test(test_head_and_no_body),
		cmocka_unit_test(test_gaps),
		cmocka_unit_test(test_content_length_errors),
		cmocka_unit_test(test_upgrades),
		cmocka_unit_test(test_not_http),
		cmocka_unit_test(test_start_line_controls),
		cmocka_unit_test(test_ssdp_methods),
		cmocka_unit_test(test_callback_stops),
		cmocka_unit_test(test_end_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
