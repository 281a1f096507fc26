/*
 * Unit tests for dissectors/http2.c. The truth for real traffic is tshark's:
 * tests/data/http2/NAME.h2 holds the decrypted bytes of one TLS connection
 * (both directions, in capture order), NAME.fields every header block that
 * tshark's HTTP/2 dissector decodes from the same capture, field by field
 * (tests/integration/make-http2-data.py writes both). Every block must come
 * out the same (names, values, order, stream, END_STREAM), however the bytes
 * are cut. Then hand-made connections, their header blocks made with
 * nghttp2's HPACK deflater or by hand: padding and priority, CONTINUATION
 * split at every byte, frames out of place, the bounds to the byte, table
 * size changes by SETTINGS in the right direction, PUSH_PROMISE, GOAWAY,
 * frames skipped, what is not HTTP/2.
 *
 * Every piece is fed from a heap copy of exactly its length, so that ASan
 * sees any read past it. Run from the repository's root (or set
 * HTTP2_TEST_DATA to a directory of NAME.h2 and NAME.fields files).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dirent.h>

#include <cmocka.h>
#include <nghttp2/nghttp2.h>

#include "../../dissectors/http2.h"

/* ---- bytes ---------------------------------------------------------------- */

/* A growing byte buffer, NUL-terminated so that it can also be text. */
struct buf {
	uint8_t *p;
	size_t len, cap;
};

static void buf_add(struct buf *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n + 1)
			cap *= 2;
		b->p = realloc(b->p, cap);
		assert_non_null(b->p);
		b->cap = cap;
	}
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void buf_byte(struct buf *b, uint8_t c)
{
	buf_add(b, &c, 1);
}

static void buf_fill(struct buf *b, uint8_t c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		buf_byte(b, c);
}

static void buf_printf(struct buf *b, const char *format, ...)
{
	char line[256];
	va_list ap;
	va_start(ap, format);
	int n = vsnprintf(line, sizeof line, format, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < sizeof line);
	buf_add(b, line, (size_t)n);
}

static void buf_free(struct buf *b)
{
	free(b->p);
	memset(b, 0, sizeof *b);
}

/* The escaping of make-http2-data.py: \\, and \xHH outside 0x20..0x7e. */
static void buf_escaped(struct buf *b, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\\')
			buf_add(b, "\\\\", 2);
		else if (p[i] >= 0x20 && p[i] <= 0x7e)
			buf_byte(b, p[i]);
		else
			buf_printf(b, "\\x%02x", p[i]);
	}
}

/* ---- frames ----------------------------------------------------------------- */

enum {
	T_DATA = 0, T_HEADERS = 1, T_PRIORITY = 2, T_RST_STREAM = 3, T_SETTINGS = 4,
	T_PUSH_PROMISE = 5, T_PING = 6, T_GOAWAY = 7, T_WINDOW_UPDATE = 8, T_CONTINUATION = 9,
	F_END_STREAM = 0x1, F_ACK = 0x1, F_END_HEADERS = 0x4, F_PADDED = 0x8, F_PRIORITY = 0x20,
};

static void frame(struct buf *b, uint32_t length, uint8_t type, uint8_t flags, uint32_t stream,
		  const void *payload, size_t payload_len)
{
	uint8_t h[9] = { (uint8_t)(length >> 16), (uint8_t)(length >> 8), (uint8_t)length, type, flags,
			 (uint8_t)(stream >> 24), (uint8_t)(stream >> 16), (uint8_t)(stream >> 8),
			 (uint8_t)stream };
	buf_add(b, h, sizeof h);
	buf_add(b, payload, payload_len);
}

static void simple_frame(struct buf *b, uint8_t type, uint8_t flags, uint32_t stream,
			 const void *payload, size_t len)
{
	frame(b, (uint32_t)len, type, flags, stream, payload, len);
}

/* A SETTINGS frame; table_size < 0: without SETTINGS_HEADER_TABLE_SIZE. */
static void settings(struct buf *b, long long table_size)
{
	uint8_t p[12] = { 0, 3, 0, 0, 0, 100 }; /* SETTINGS_MAX_CONCURRENT_STREAMS 100 */
	size_t n = 6;
	if (table_size >= 0) {
		uint8_t t[6] = { 0, 1, (uint8_t)(table_size >> 24), (uint8_t)(table_size >> 16),
				 (uint8_t)(table_size >> 8), (uint8_t)table_size };
		memcpy(p + 6, t, 6);
		n = 12;
	}
	simple_frame(b, T_SETTINGS, 0, 0, p, n);
}

static void client_start(struct buf *b, long long table_size)
{
	buf_add(b, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24);
	settings(b, table_size);
}

/* ---- HPACK ------------------------------------------------------------------ */

static nghttp2_nv nv(const char *name, const char *value)
{
	return (nghttp2_nv){ (uint8_t *)name, (uint8_t *)value, strlen(name), strlen(value),
			     NGHTTP2_NV_FLAG_NONE };
}

static void deflate(nghttp2_hd_deflater *deflater, struct buf *out, const nghttp2_nv *nva,
		    size_t n)
{
	size_t bound = nghttp2_hd_deflate_bound(deflater, nva, n);
	uint8_t *tmp = malloc(bound);
	assert_non_null(tmp);
	ssize_t rv = nghttp2_hd_deflate_hd(deflater, tmp, bound, nva, n);
	assert_true(rv >= 0);
	buf_add(out, tmp, (size_t)rv);
	free(tmp);
}

/* An HPACK integer with an N-bit prefix (RFC 7541 5.1) after the `first` bits. */
static void hpack_int(struct buf *b, uint8_t first, int prefix_bits, size_t value)
{
	size_t max = ((size_t)1 << prefix_bits) - 1;
	if (value < max) {
		buf_byte(b, (uint8_t)(first | value));
		return;
	}
	buf_byte(b, (uint8_t)(first | max));
	value -= max;
	while (value >= 128) {
		buf_byte(b, (uint8_t)(value % 128 + 128));
		value /= 128;
	}
	buf_byte(b, (uint8_t)value);
}

/* A literal field without indexing, new name, no Huffman: exactly sized. */
static void hpack_literal(struct buf *b, const char *name, uint8_t fill, size_t value_len)
{
	buf_byte(b, 0x00);
	hpack_int(b, 0, 7, strlen(name));
	buf_add(b, name, strlen(name));
	hpack_int(b, 0, 7, value_len);
	buf_fill(b, fill, value_len);
}

/* Its size on the wire. */
static size_t hpack_int_len(int prefix_bits, size_t value)
{
	struct buf b = { 0 };
	hpack_int(&b, 0, prefix_bits, value);
	size_t n = b.len;
	buf_free(&b);
	return n;
}

/* ---- recording messages ---------------------------------------------------- */

struct recorder {
	struct buf text[2];      /* [from_server], in the .fields format */
	size_t blocks, fields;
	size_t stop_after;       /* return nonzero on this message (1-based; 0: never) */
	struct http2_message last;
	char last_first_name[64];
};

static int on_message(void *context, const struct http2_message *m)
{
	struct recorder *r = context;
	assert_true(m->count <= HTTP2_FIELDS_MAX);
	assert_true(m->count == 0 || m->fields != NULL);
	assert_true(m->stream_id > 0 && m->stream_id <= 0x7fffffffu);
	assert_true(m->from_server == 0 || m->from_server == 1);
	if (m->push_promise)
		assert_true(m->from_server && !m->end_stream);
	struct buf *t = &r->text[m->from_server];
	buf_printf(t, "block %c %u %d %d %zu\n", m->from_server ? 's' : 'c', m->stream_id,
		   m->end_stream, m->push_promise, m->count);
	for (size_t i = 0; i < m->count; i++) {
		const struct http2_field *f = &m->fields[i];
		/* Never NULL, even when empty: an empty value is not an absent one. */
		assert_non_null(f->name);
		assert_non_null(f->value);
		buf_escaped(t, f->name, f->name_len);
		buf_byte(t, '\t');
		buf_escaped(t, f->value, f->value_len);
		buf_byte(t, '\n');
	}
	r->last = *m;
	r->last.fields = NULL;
	r->last_first_name[0] = '\0';
	if (m->count > 0 && m->fields[0].name_len < sizeof r->last_first_name) {
		memcpy(r->last_first_name, m->fields[0].name, m->fields[0].name_len);
		r->last_first_name[m->fields[0].name_len] = '\0';
	}
	r->blocks++;
	r->fields += m->count;
	return r->stop_after && r->blocks == r->stop_after;
}

static void recorder_free(struct recorder *r)
{
	buf_free(&r->text[0]);
	buf_free(&r->text[1]);
	memset(r, 0, sizeof *r);
}

/* Feeds one piece from a heap copy of exactly its length. */
static enum http2_end feed(struct http2_conn *conn, int from_server, const uint8_t *data,
			   size_t len, struct recorder *r)
{
	uint8_t *copy = malloc(len ? len : 1);
	assert_non_null(copy);
	if (len)
		memcpy(copy, data, len);
	enum http2_end end = http2_feed(conn, from_server, copy, len, on_message, r);
	free(copy);
	return end;
}

/* Feeds a direction's bytes in pieces of `piece` bytes (0: whole). */
static enum http2_end feed_pieces(struct http2_conn *conn, int from_server, const struct buf *b,
				  size_t piece, struct recorder *r)
{
	if (piece == 0)
		return feed(conn, from_server, b->p, b->len, r);
	enum http2_end end = HTTP2_MORE;
	for (size_t pos = 0; pos < b->len; pos += piece) {
		size_t n = b->len - pos < piece ? b->len - pos : piece;
		end = feed(conn, from_server, b->p + pos, n, r);
	}
	return end;
}

/*
 * A connection of two directions' bytes, client first then server, each
 * whole and in pieces of 1, 2, 3, 7 and 100 bytes: the same end, the same
 * messages. Returns the end; the recorder holds the messages of the whole feed.
 */
static enum http2_end run(const struct buf *client, const struct buf *server, struct recorder *r)
{
	static const size_t pieces[] = { 0, 1, 2, 3, 7, 100 };
	enum http2_end first = HTTP2_MORE;
	for (size_t i = 0; i < sizeof pieces / sizeof pieces[0]; i++) {
		struct recorder each = { .stop_after = r->stop_after };
		struct http2_conn *conn = http2_conn_new();
		assert_non_null(conn);
		enum http2_end end = feed_pieces(conn, 0, client, pieces[i], &each);
		if (end == HTTP2_MORE && server)
			end = feed_pieces(conn, 1, server, pieces[i], &each);
		/* Ended: stays ended, takes nothing more. */
		if (end != HTTP2_MORE) {
			size_t before = each.blocks;
			assert_int_equal(feed(conn, 1, (const uint8_t *)"\0\0\0\1\0\0\0\0\1x", 10, &each), end);
			assert_int_equal(feed(conn, 0, (const uint8_t *)"x", 1, &each), end);
			assert_int_equal(each.blocks, before);
		}
		http2_conn_free(conn);
		if (i == 0) {
			first = end;
			*r = each;
			continue;
		}
		assert_int_equal(end, first);
		assert_int_equal(each.blocks, r->blocks);
		for (int d = 0; d < 2; d++) {
			assert_int_equal(each.text[d].len, r->text[d].len);
			if (each.text[d].len)
				assert_string_equal(each.text[d].p, r->text[d].p);
		}
		recorder_free(&each);
	}
	return first;
}

/* ---- tshark's truth ----------------------------------------------------------- */

static const char *data_dir(void)
{
	const char *dir = getenv("HTTP2_TEST_DATA");
	return dir && dir[0] ? dir : "tests/data/http2";
}

static void read_file(const char *dir, const char *name, const char *suffix, struct buf *out)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s%s", dir, name, suffix);
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s (run from the repository's root)", path);
	uint8_t chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_add(out, chunk, n);
	fclose(f);
}

struct record {
	int from_server;
	const uint8_t *p;
	size_t len;
};

/* The records of a .h2 file: 'c' or 's', a 4-byte length, the bytes. */
static size_t parse_records(const struct buf *b, struct record *out, size_t max)
{
	size_t n = 0, pos = 0;
	while (pos < b->len) {
		assert_true(b->len - pos >= 5);
		assert_true(b->p[pos] == 'c' || b->p[pos] == 's');
		size_t len = (size_t)b->p[pos + 1] << 24 | (size_t)b->p[pos + 2] << 16 |
			     (size_t)b->p[pos + 3] << 8 | b->p[pos + 4];
		assert_true(len <= b->len - pos - 5);
		assert_true(n < max);
		out[n++] = (struct record){ b->p[pos] == 's', b->p + pos + 5, len };
		pos += 5 + len;
	}
	return n;
}

static uint32_t next_random(uint32_t *state)
{
	uint32_t x = *state;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *state = x;
}

/*
 * The records in capture order: mode 0 each whole, 1 byte by byte, 2 in
 * random pieces (1 to 64 bytes) that run across record boundaries within a
 * direction. (Not one whole direction after the other: a GOAWAY, which
 * Chrome and nghttp send when they close, ends the reading, and the other
 * side's last frames come before it only in capture order.)
 */
static enum http2_end feed_records(const struct record *records, size_t n, int mode,
				   struct recorder *r, struct http2_stats *stats)
{
	struct http2_conn *conn = http2_conn_new();
	assert_non_null(conn);
	enum http2_end end = HTTP2_MORE;
	struct buf dir[2] = { { 0 }, { 0 } };
	uint32_t random = 0x9e3779b9u;
	for (size_t i = 0; i < n && end == HTTP2_MORE; i++) {
		const struct record *rec = &records[i];
		if (mode == 0) {
			end = feed(conn, rec->from_server, rec->p, rec->len, r);
		} else if (mode == 1) {
			for (size_t k = 0; k < rec->len && end == HTTP2_MORE; k++)
				end = feed(conn, rec->from_server, rec->p + k, 1, r);
		} else {
			buf_add(&dir[rec->from_server], rec->p, rec->len);
			/* Hold back a random tail: the next piece begins in this record and ends in a later one. */
			struct buf *d = &dir[rec->from_server];
			size_t pos = 0;
			while (end == HTTP2_MORE && d->len - pos > 64) {
				size_t piece = 1 + next_random(&random) % 64;
				end = feed(conn, rec->from_server, d->p + pos, piece, r);
				pos += piece;
			}
			memmove(d->p, d->p + pos, d->len - pos);
			d->len -= pos;
		}
	}
	for (int s = 0; s < 2; s++) {
		if (end == HTTP2_MORE && dir[s].len)
			end = feed(conn, s, dir[s].p, dir[s].len, r);
		buf_free(&dir[s]);
	}
	*stats = *http2_conn_stats(conn);
	http2_conn_free(conn);
	return end;
}

/* The expected text of one direction: the .fields lines of its blocks. */
static void expected_direction(const struct buf *fields, int from_server, struct buf *out,
			       size_t *blocks, size_t *count)
{
	const char *p = (const char *)fields->p;
	int keep = 0;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) + 1 : strlen(p);
		if (strncmp(p, "block ", 6) == 0) {
			keep = p[6] == (from_server ? 's' : 'c');
			if (keep) {
				(*blocks)++;
				unsigned stream, end_stream, push;
				size_t n;
				assert_int_equal(sscanf(p + 8, "%u %u %u %zu", &stream, &end_stream, &push, &n), 4);
				*count += n;
			}
		} else if (p[0] == '#') {
			keep = 0;
		}
		if (keep)
			buf_add(out, p, len);
		p += len;
	}
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static void check_capture(const char *dir, const char *name)
{
	struct buf h2 = { 0 }, fields = { 0 };
	read_file(dir, name, ".h2", &h2);
	read_file(dir, name, ".fields", &fields);
	enum { RECORDS_MAX = 4096 };
	struct record *records = calloc(RECORDS_MAX, sizeof *records);
	assert_non_null(records);
	size_t n = parse_records(&h2, records, RECORDS_MAX);

	struct buf expected[2] = { { 0 }, { 0 } };
	size_t blocks = 0, count = 0;
	for (int s = 0; s < 2; s++)
		expected_direction(&fields, s, &expected[s], &blocks, &count);
	assert_true(blocks > 0);

	for (int mode = 0; mode < 3; mode++) {
		struct recorder r = { 0 };
		struct http2_stats stats;
		enum http2_end end = feed_records(records, n, mode, &r, &stats);
		if (end != HTTP2_MORE)
			fail_msg("%s mode %d: ended %s", name, mode, http2_end_name(end));
		for (int s = 0; s < 2; s++) {
			const char *want = expected[s].len ? (const char *)expected[s].p : "";
			const char *got = r.text[s].len ? (const char *)r.text[s].p : "";
			if (strcmp(want, got) != 0) {
				fprintf(stderr, "%s mode %d %s: expected\n%s\ngot\n%s\n", name, mode,
					s ? "server" : "client", want, got);
				fail();
			}
		}
		assert_int_equal(r.blocks, blocks);
		assert_int_equal(r.fields, count);
		assert_int_equal(stats.header_blocks[0] + stats.header_blocks[1], blocks);
		if (mode == 0)
			printf("%s: %zu header blocks, %zu fields equal to tshark's (end %s, %llu+%llu frames, "
			       "%llu table size updates)\n", name, blocks, count, http2_end_name(end),
			       (unsigned long long)stats.frames[0], (unsigned long long)stats.frames[1],
			       (unsigned long long)stats.table_size_updates);
		recorder_free(&r);
	}
	buf_free(&expected[0]);
	buf_free(&expected[1]);
	free(records);
	buf_free(&h2);
	buf_free(&fields);
}

static void test_captures(void **state)
{
	(void)state;
	const char *dir = data_dir();
	DIR *d = opendir(dir);
	if (!d)
		fail_msg("cannot open %s (run from the repository's root)", dir);
	size_t checked = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (!ends_with(e->d_name, ".h2"))
			continue;
		char name[256];
		size_t len = strlen(e->d_name) - 3;
		assert_true(len < sizeof name);
		memcpy(name, e->d_name, len);
		name[len] = '\0';
		check_capture(dir, name);
		checked++;
	}
	closedir(d);
	assert_true(checked > 0);
}

/* Chrome announces a 65536-byte table: the server's decoder takes it. */
static void test_chrome_table_size(void **state)
{
	(void)state;
	struct buf h2 = { 0 };
	read_file("tests/data/http2", "chrome-accept-news", ".h2", &h2);
	struct record records[256];
	size_t n = parse_records(&h2, records, 256);
	struct recorder r = { 0 };
	struct http2_stats stats;
	feed_records(records, n, 0, &r, &stats);
	assert_int_equal(stats.table_size_updates, 1);
	recorder_free(&r);
	buf_free(&h2);
}

/* ---- hand-made connections --------------------------------------------------- */

/* A request block, deflated. */
static void request_block(nghttp2_hd_deflater *deflater, struct buf *out, const char *path)
{
	nghttp2_nv nva[] = {
		nv(":method", "GET"), nv(":scheme", "https"), nv(":authority", "example.com"),
		nv(":path", path), nv("cookie", "a=1"), nv("cookie", "b=2"),
		nv("user-agent", "test/1.0"),
	};
	deflate(deflater, out, nva, sizeof nva / sizeof nva[0]);
}

static const char *const request_text =
	"block c 1 1 0 7\n:method\tGET\n:scheme\thttps\n:authority\texample.com\n:path\t/a\n"
	"cookie\ta=1\ncookie\tb=2\nuser-agent\ttest/1.0\n";

static void test_headers_padded_priority(void **state)
{
	(void)state;
	static const uint8_t flag_sets[] = { 0, F_PADDED, F_PRIORITY, F_PADDED | F_PRIORITY };
	for (size_t i = 0; i < sizeof flag_sets; i++) {
		for (int pad = 0; pad < 3; pad++) {
			uint8_t flags = flag_sets[i];
			if (!(flags & F_PADDED) && pad > 0)
				continue;
			nghttp2_hd_deflater *deflater;
			assert_int_equal(nghttp2_hd_deflate_new(&deflater, 4096), 0);
			struct buf block = { 0 }, payload = { 0 }, client = { 0 };
			request_block(deflater, &block, "/a");
			size_t pad_len = pad == 0 ? 0 : pad == 1 ? 1 : 255;
			if (flags & F_PADDED)
				buf_byte(&payload, (uint8_t)pad_len);
			if (flags & F_PRIORITY)
				buf_add(&payload, "\x80\0\0\3\x10", 5); /* exclusive, on stream 3, weight 17 */
			buf_add(&payload, block.p, block.len);
			buf_fill(&payload, 0, (flags & F_PADDED) ? pad_len : 0);
			client_start(&client, -1);
			simple_frame(&client, T_HEADERS, (uint8_t)(flags | F_END_HEADERS | F_END_STREAM), 1,
				     payload.p, payload.len);
			struct recorder r = { 0 };
			assert_int_equal(run(&client, NULL, &r), HTTP2_MORE);
			assert_string_equal(r.text[0].p, request_text);
			recorder_free(&r);
			buf_free(&block);
			buf_free(&payload);
			buf_free(&client);
			nghttp2_hd_deflate_del(deflater);
		}
	}
}

/* The same block in HEADERS + CONTINUATION cut at every byte, and in three frames. */
static void test_continuation_every_split(void **state)
{
	(void)state;
	nghttp2_hd_deflater *deflater;
	assert_int_equal(nghttp2_hd_deflate_new(&deflater, 4096), 0);
	struct buf block = { 0 };
	request_block(deflater, &block, "/a");
	nghttp2_hd_deflate_del(deflater);
	for (size_t cut = 0; cut <= block.len; cut++) {
		for (size_t cut2 = cut; cut2 <= block.len; cut2 += (cut2 == block.len ? 1 : 5)) {
			struct buf client = { 0 };
			client_start(&client, -1);
			simple_frame(&client, T_HEADERS, F_END_STREAM, 1, block.p, cut);
			int three = cut2 < block.len;
			simple_frame(&client, T_CONTINUATION, three ? 0 : F_END_HEADERS, 1, block.p + cut,
				     (three ? cut2 : block.len) - cut);
			if (three)
				simple_frame(&client, T_CONTINUATION, F_END_HEADERS, 1, block.p + cut2,
					     block.len - cut2);
			struct recorder r = { 0 };
			assert_int_equal(run(&client, NULL, &r), HTTP2_MORE);
			assert_string_equal(r.text[0].p, request_text);
			recorder_free(&r);
			buf_free(&client);
		}
	}
	buf_free(&block);
}

/* A CONTINUATION on another stream, or without a block, or any other frame inside a block. */
static void test_frames_out_of_place(void **state)
{
	(void)state;
	nghttp2_hd_deflater *deflater;
	assert_int_equal(nghttp2_hd_deflate_new(&deflater, 4096), 0);
	struct buf block = { 0 };
	request_block(deflater, &block, "/a");
	nghttp2_hd_deflate_del(deflater);
	static const uint8_t intruders[] = { T_DATA, T_HEADERS, T_PRIORITY, T_RST_STREAM, T_SETTINGS,
					     T_PING, T_GOAWAY, T_WINDOW_UPDATE, 0x0a, 0xff };
	for (size_t i = 0; i <= sizeof intruders; i++) {
		struct buf client = { 0 };
		client_start(&client, -1);
		simple_frame(&client, T_HEADERS, F_END_STREAM, 1, block.p, 10);
		if (i == sizeof intruders)
			simple_frame(&client, T_CONTINUATION, F_END_HEADERS, 3, block.p + 10, block.len - 10);
		else
			simple_frame(&client, intruders[i], 0, intruders[i] == T_SETTINGS ||
				     intruders[i] == T_PING || intruders[i] == T_GOAWAY ? 0 : 1,
				     "\0\0\0\0\0\0\0\0", 8);
		struct recorder r = { 0 };
		assert_int_equal(run(&client, NULL, &r), HTTP2_END_BAD_FRAME);
		assert_int_equal(r.blocks, 0);
		recorder_free(&r);
		buf_free(&client);
	}
	/* A CONTINUATION with no block open. */
	struct buf client = { 0 };
	client_start(&client, -1);
	simple_frame(&client, T_CONTINUATION, F_END_HEADERS, 1, block.p, block.len);
	struct recorder r = { 0 };
	assert_int_equal(run(&client, NULL, &r), HTTP2_END_BAD_FRAME);
	recorder_free(&r);
	buf_free(&client);
	buf_free(&block);
}

/* Malformed frames: each ends the connection as BAD_FRAME. */
static void test_bad_frames(void **state)
{
	(void)state;
	for (int c = 0; c < 11; c++) {
		struct buf client = { 0 };
		client_start(&client, -1);
		switch (c) {
		case 0: /* HEADERS on stream 0 */
			simple_frame(&client, T_HEADERS, F_END_HEADERS, 0, "\x82", 1);
			break;
		case 1: /* padding longer than the frame */
			simple_frame(&client, T_HEADERS, F_END_HEADERS | F_PADDED, 1, "\x02\x82", 2);
			break;
		case 2: /* PADDED and PRIORITY, too short for them */
			simple_frame(&client, T_HEADERS, F_END_HEADERS | F_PADDED | F_PRIORITY, 1,
				     "\0\0\0\0\0", 5);
			break;
		case 3: /* SETTINGS of 5 bytes */
			simple_frame(&client, T_SETTINGS, 0, 0, "\0\1\0\0\0", 5);
			break;
		case 4: /* SETTINGS ACK with parameters */
			simple_frame(&client, T_SETTINGS, F_ACK, 0, "\0\1\0\0\0\0", 6);
			break;
		case 5: /* SETTINGS on a stream */
			simple_frame(&client, T_SETTINGS, 0, 1, "", 0);
			break;
		case 6: /* GOAWAY shorter than 8 bytes */
			simple_frame(&client, T_GOAWAY, 0, 0, "\0\0\0\0", 4);
			break;
		case 7: /* a client's PUSH_PROMISE */
			simple_frame(&client, T_PUSH_PROMISE, F_END_HEADERS, 1, "\0\0\0\2\x82", 5);
			break;
		case 8: /* the first frame after the preface is not SETTINGS */
			client.len = 24;
			simple_frame(&client, T_PING, 0, 0, "\0\0\0\0\0\0\0\0", 8);
			break;
		case 9: /* ... or a SETTINGS ACK */
			client.len = 24;
			simple_frame(&client, T_SETTINGS, F_ACK, 0, "", 0);
			break;
		case 10: /* padding of exactly the rest: no room for the pad length byte */
			simple_frame(&client, T_HEADERS, F_END_HEADERS | F_PADDED, 1, "\x01\x82", 2);
			break;
		}
		struct recorder r = { 0 };
		enum http2_end end = run(&client, NULL, &r);
		if (c == 10) {
			/* A pad of 1 in a 2-byte payload: an empty fragment, valid. */
			assert_int_equal(end, HTTP2_MORE);
			assert_string_equal(r.text[0].p, "block c 1 0 0 0\n");
		} else if (end != HTTP2_END_BAD_FRAME) {
			fail_msg("case %d: %s", c, http2_end_name(end));
		}
		recorder_free(&r);
		buf_free(&client);
	}
	/* The server's first frame must be SETTINGS too. */
	struct buf client = { 0 }, server = { 0 };
	client_start(&client, -1);
	simple_frame(&server, T_HEADERS, F_END_HEADERS, 1, "\x88", 1);
	struct recorder r = { 0 };
	assert_int_equal(run(&client, &server, &r), HTTP2_END_BAD_FRAME);
	assert_int_equal(r.blocks, 0);
	recorder_free(&r);
	buf_free(&client);
	buf_free(&server);
}

/* A header block of HTTP2_HEADER_BLOCK_MAX bytes is read; one more byte ends the connection. */
static void test_block_bound(void **state)
{
	(void)state;
	for (int over = 0; over < 2; over++) {
		for (int padded = 0; padded < 2; padded++) {
			/* 63 fields of 4000 bytes, then one that fills the block to the byte. */
			struct buf block = { 0 };
			buf_byte(&block, 0x82); /* :method GET */
			for (int i = 0; i < 63; i++)
				hpack_literal(&block, "x-fill", 'a', 4000);
			size_t rest = HTTP2_HEADER_BLOCK_MAX + (size_t)over - block.len;
			/* 0x00, name length, "x-last", value length (3 bytes for these sizes), value */
			size_t value_len = rest - 1 - 1 - 6 - hpack_int_len(7, rest);
			assert_int_equal(hpack_int_len(7, value_len), hpack_int_len(7, rest));
			hpack_literal(&block, "x-last", 'b', value_len);
			assert_int_equal(block.len, HTTP2_HEADER_BLOCK_MAX + (size_t)over);

			/* In frames of 16384 bytes; padding is not part of the block. */
			struct buf client = { 0 };
			client_start(&client, -1);
			size_t pos = 0;
			while (pos < block.len) {
				size_t n = block.len - pos < 16000 ? block.len - pos : 16000;
				uint8_t type = pos == 0 ? T_HEADERS : T_CONTINUATION;
				uint8_t flags = pos + n == block.len ? F_END_HEADERS : 0;
				if (padded && type == T_HEADERS) {
					struct buf payload = { 0 };
					buf_byte(&payload, 200);
					buf_add(&payload, block.p + pos, n);
					buf_fill(&payload, 0, 200);
					simple_frame(&client, type, flags | F_PADDED, 1, payload.p, payload.len);
					buf_free(&payload);
				} else {
					simple_frame(&client, type, flags, 1, block.p + pos, n);
				}
				pos += n;
			}
			struct recorder r = { 0 };
			struct http2_conn *conn = http2_conn_new();
			assert_non_null(conn);
			enum http2_end end = feed_pieces(conn, 0, &client, 1000, &r);
			http2_conn_free(conn);
			if (over) {
				assert_int_equal(end, HTTP2_END_TOO_BIG);
				assert_int_equal(r.blocks, 0);
			} else {
				assert_int_equal(end, HTTP2_MORE);
				assert_int_equal(r.blocks, 1);
				assert_int_equal(r.fields, 65);
			}
			recorder_free(&r);
			buf_free(&client);
			buf_free(&block);
		}
	}
}

/* HTTP2_FIELDS_MAX fields are read; one more ends the connection. */
static void test_fields_bound(void **state)
{
	(void)state;
	for (int over = 0; over < 2; over++) {
		struct buf block = { 0 }, client = { 0 };
		buf_fill(&block, 0x82, HTTP2_FIELDS_MAX + (size_t)over); /* :method GET, indexed */
		client_start(&client, -1);
		simple_frame(&client, T_HEADERS, F_END_HEADERS, 1, block.p, block.len);
		struct recorder r = { 0 };
		enum http2_end end = run(&client, NULL, &r);
		assert_int_equal(end, over ? HTTP2_END_TOO_BIG : HTTP2_MORE);
		assert_int_equal(r.fields, over ? 0 : HTTP2_FIELDS_MAX);
		recorder_free(&r);
		buf_free(&block);
		buf_free(&client);
	}
}

/*
 * The decoded message is bounded too: a few bytes that name a large table
 * entry again and again decode to much more than the block.
 */
static void test_decoded_bound(void **state)
{
	(void)state;
	for (int refs = 16; refs <= 20; refs += 4) {
		nghttp2_hd_deflater *deflater;
		assert_int_equal(nghttp2_hd_deflate_new(&deflater, 200000), 0);
		assert_int_equal(nghttp2_hd_deflate_change_table_size(deflater, 200000), 0);
		struct buf client = { 0 }, server = { 0 }, block = { 0 };
		client_start(&client, 200000);
		settings(&server, -1);
		/* An entry of 64000 random-ish bytes (Huffman does not shrink them much). */
		char *big = malloc(64001);
		assert_non_null(big);
		for (int i = 0; i < 64000; i++)
			big[i] = (char)('!' + (i * 7919) % 90);
		big[64000] = '\0';
		nghttp2_nv first[] = { nv(":status", "200"), nv("x-big", big) };
		deflate(deflater, &block, first, 2);
		simple_frame(&server, T_HEADERS, F_END_HEADERS, 1, block.p, block.len);
		block.len = 0;
		buf_byte(&block, 0x88); /* :status 200 */
		for (int i = 0; i < refs; i++)
			buf_byte(&block, 0x80 | 62); /* the newest dynamic entry: x-big */
		simple_frame(&server, T_HEADERS, F_END_HEADERS, 3, block.p, block.len);
		struct recorder r = { 0 };
		enum http2_end end = run(&client, &server, &r);
		/* 16 x 64005 bytes fit in 1 MiB; 20 do not. */
		assert_int_equal(end, refs == 16 ? HTTP2_MORE : HTTP2_END_TOO_BIG);
		assert_int_equal(r.blocks, refs == 16 ? 2 : 1);
		recorder_free(&r);
		free(big);
		buf_free(&client);
		buf_free(&server);
		buf_free(&block);
		nghttp2_hd_deflate_del(deflater);
	}
}

/*
 * The server's encoder uses a 65536-byte table: its blocks decode only when
 * the *client* announced that much (SETTINGS_HEADER_TABLE_SIZE), whichever
 * way the bytes are cut, and even when the client's SETTINGS is read in the
 * middle of a server's header block.
 */
static void test_table_size_direction(void **state)
{
	(void)state;
	for (int c = 0; c < 5; c++) {
		nghttp2_hd_deflater *deflater;
		assert_int_equal(nghttp2_hd_deflate_new(&deflater, 65536), 0);
		assert_int_equal(nghttp2_hd_deflate_change_table_size(deflater, 65536), 0);
		struct buf client = { 0 }, server = { 0 }, block = { 0 };
		/*
		 * 0: the client announces 65536; 1: nobody does; 2: the server does
		 * (the wrong direction); 3: the client announces 65536 while the
		 * server's first block (which does not need it) is open; 4: the
		 * client announces 2^32 - 1, more than the reader keeps.
		 */
		client_start(&client, c == 0 ? 65536 : c == 4 ? 0xffffffffLL : -1);
		settings(&server, c == 2 ? 65536 : -1);
		struct recorder r = { 0 };
		struct http2_conn *conn = http2_conn_new();
		assert_non_null(conn);
		assert_int_equal(feed(conn, 0, client.p, client.len, &r), HTTP2_MORE);
		if (c == 3) {
			/* A block by hand with no table size update, open on stream 1. */
			simple_frame(&server, T_HEADERS, 0, 1, "\x88", 1);
			assert_int_equal(feed(conn, 1, server.p, server.len, &r), HTTP2_MORE);
			server.len = 0;
			client.len = 0;
			settings(&client, 65536);
			assert_int_equal(feed(conn, 0, client.p, client.len, &r), HTTP2_MORE);
			/* A literal without indexing: the deflater's table is not touched. */
			simple_frame(&server, T_CONTINUATION, F_END_HEADERS, 1, "\x00\x01x\x01y", 5);
			assert_int_equal(feed(conn, 1, server.p, server.len, &r), HTTP2_MORE);
			assert_int_equal(r.blocks, 1);
			server.len = 0;
		}
		/* A value that fits 65536 but not 4096, inserted, then named again by index. */
		char big[20001];
		memset(big, 'v', 20000);
		big[20000] = '\0';
		nghttp2_nv first[] = { nv(":status", "200"), nv("x-big", big) };
		deflate(deflater, &block, first, 2);
		simple_frame(&server, T_HEADERS, F_END_HEADERS, 3, block.p, block.len);
		block.len = 0;
		nghttp2_nv second[] = { nv(":status", "200"), nv("x-big", big), nv("set-cookie", "id=1") };
		deflate(deflater, &block, second, 3);
		simple_frame(&server, T_HEADERS, F_END_HEADERS | F_END_STREAM, 5, block.p, block.len);
		enum http2_end end = feed(conn, 1, server.p, server.len, &r);
		const struct http2_stats *stats = http2_conn_stats(conn);
		if (c == 0 || c == 3 || c == 4) {
			assert_int_equal(end, HTTP2_MORE);
			assert_int_equal(r.blocks, c == 3 ? 3 : 2);
			assert_int_equal(stats->table_size_updates, 1);
			assert_string_equal(r.last_first_name, ":status");
			assert_int_equal(r.last.count, 3);
			assert_int_equal(r.last.end_stream, 1);
		} else {
			assert_int_equal(end, HTTP2_END_HPACK);
			assert_int_equal(r.blocks, 0);
			assert_int_equal(stats->table_size_updates, c == 2 ? 1 : 0);
		}
		http2_conn_free(conn);
		/* Cut differently, the same. */
		if (c != 3) {
			struct recorder again = { 0 };
			assert_int_equal(run(&client, &server, &again), end);
			assert_int_equal(again.blocks, r.blocks);
			recorder_free(&again);
		}
		recorder_free(&r);
		buf_free(&client);
		buf_free(&server);
		buf_free(&block);
		nghttp2_hd_deflate_del(deflater);
	}
}

/* The cap on the table: an encoder may go up to it, not beyond. */
static void test_table_size_cap(void **state)
{
	(void)state;
	size_t cap = 0;
	/* Find it: the largest update accepted after SETTINGS 2^32 - 1. */
	for (int beyond = 0; beyond < 2; beyond++) {
		struct buf client = { 0 }, server = { 0 }, block = { 0 };
		client_start(&client, 0xffffffffLL);
		settings(&server, -1);
		size_t size = (256u << 10) + (size_t)beyond;
		hpack_int(&block, 0x20, 5, size); /* dynamic table size update */
		buf_byte(&block, 0x88);
		simple_frame(&server, T_HEADERS, F_END_HEADERS, 1, block.p, block.len);
		struct recorder r = { 0 };
		enum http2_end end = run(&client, &server, &r);
		assert_int_equal(end, beyond ? HTTP2_END_HPACK : HTTP2_MORE);
		if (!beyond)
			cap = size;
		recorder_free(&r);
		buf_free(&client);
		buf_free(&server);
		buf_free(&block);
	}
	assert_int_equal(cap, 256u << 10);
}

/* A decrease is left to the encoder's own table size update, which the decoder follows. */
static void test_table_size_decrease(void **state)
{
	(void)state;
	nghttp2_hd_deflater *deflater;
	assert_int_equal(nghttp2_hd_deflate_new(&deflater, 4096), 0);
	struct buf client = { 0 }, server = { 0 }, block = { 0 };
	client_start(&client, -1);
	settings(&server, -1);
	nghttp2_nv first[] = { nv(":status", "200"), nv("x-a", "one") };
	deflate(deflater, &block, first, 2);
	simple_frame(&server, T_HEADERS, F_END_HEADERS, 1, block.p, block.len);
	/* The client shrinks the table to 0; the server's ACK; its next block starts with an update to 0. */
	settings(&client, 0);
	simple_frame(&server, T_SETTINGS, F_ACK, 0, "", 0);
	assert_int_equal(nghttp2_hd_deflate_change_table_size(deflater, 0), 0);
	block.len = 0;
	nghttp2_nv second[] = { nv(":status", "204"), nv("x-a", "one") };
	deflate(deflater, &block, second, 2);
	assert_int_equal(block.p[0], 0x20); /* the update */
	simple_frame(&server, T_HEADERS, F_END_HEADERS | F_END_STREAM, 3, block.p, block.len);
	struct recorder r = { 0 };
	assert_int_equal(run(&client, &server, &r), HTTP2_MORE);
	assert_string_equal(r.text[1].p, "block s 1 0 0 2\n:status\t200\nx-a\tone\n"
					 "block s 3 1 0 2\n:status\t204\nx-a\tone\n");
	recorder_free(&r);
	/* After the update to 0, the old entry is gone: naming it is an HPACK error. */
	block.len = 0;
	buf_byte(&block, 0x80 | 62);
	simple_frame(&server, T_HEADERS, F_END_HEADERS, 5, block.p, block.len);
	assert_int_equal(run(&client, &server, &r), HTTP2_END_HPACK);
	recorder_free(&r);
	buf_free(&client);
	buf_free(&server);
	buf_free(&block);
	nghttp2_hd_deflate_del(deflater);
}

static void test_bad_preface(void **state)
{
	(void)state;
	static const char preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
	assert_true(http2_is_preface((const uint8_t *)preface, 24));
	assert_true(http2_is_preface((const uint8_t *)preface, 5));
	assert_true(http2_is_preface((const uint8_t *)"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\nxyz", 27));
	assert_true(http2_is_preface((const uint8_t *)"", 0));
	assert_false(http2_is_preface((const uint8_t *)"GET / HTTP/1.1\r\n", 16));
	assert_false(http2_is_preface((const uint8_t *)"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\r", 24));
	/* A wrong byte at every position of the preface. */
	for (size_t i = 0; i < 24; i++) {
		struct buf client = { 0 };
		client_start(&client, -1);
		client.p[i] ^= 0x20;
		struct recorder r = { 0 };
		assert_int_equal(run(&client, NULL, &r), HTTP2_END_NOT_HTTP2);
		recorder_free(&r);
		buf_free(&client);
	}
	struct buf client = { 0 };
	buf_add(&client, "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n", 37);
	struct recorder r = { 0 };
	assert_int_equal(run(&client, NULL, &r), HTTP2_END_NOT_HTTP2);
	recorder_free(&r);
	buf_free(&client);
}

static void test_garbage_hpack(void **state)
{
	(void)state;
	static const struct {
		const char *block;
		size_t len;
	} cases[] = {
		{ "\x80", 1 },                   /* index 0 */
		{ "\xff\xff\xff\xff\x0f", 5 },   /* an index far beyond the tables */
		{ "\xbe", 1 },                   /* index 62: the dynamic table is empty */
		{ "\x82\x40\x05" "ab", 5 },      /* a literal name longer than the block */
		{ "\x3f\xe1\xff\x03", 4 },       /* a table size update beyond 4096 */
		{ "\x82\x3f\x01", 3 },           /* a table size update after a field */
		{ "\x00\x81\xff\x01" "v", 5 },   /* Huffman with the EOS symbol */
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct buf client = { 0 };
		client_start(&client, -1);
		simple_frame(&client, T_HEADERS, F_END_HEADERS, 1, cases[i].block, cases[i].len);
		struct recorder r = { 0 };
		enum http2_end end = run(&client, NULL, &r);
		if (end != HTTP2_END_HPACK)
			fail_msg("case %zu: %s", i, http2_end_name(end));
		assert_int_equal(r.blocks, 0);
		recorder_free(&r);
		buf_free(&client);
	}
}

/*
 * A GOAWAY is read to its end (with its debug data) and counted; it starts a
 * graceful close, so what comes after it is still read (nginx answers the
 * last request after its GOAWAY).
 */
static void test_goaway(void **state)
{
	(void)state;
	nghttp2_hd_deflater *deflater;
	assert_int_equal(nghttp2_hd_deflate_new(&deflater, 4096), 0);
	struct buf client = { 0 }, block = { 0 };
	client_start(&client, -1);
	request_block(deflater, &block, "/a");
	simple_frame(&client, T_HEADERS, F_END_HEADERS | F_END_STREAM, 1, block.p, block.len);
	simple_frame(&client, T_GOAWAY, 0, 0, "\0\0\0\0\0\0\0\0bye", 11);
	size_t goaway_end = client.len;
	block.len = 0;
	request_block(deflater, &block, "/b");
	simple_frame(&client, T_HEADERS, F_END_HEADERS | F_END_STREAM, 3, block.p, block.len);

	struct http2_conn *conn = http2_conn_new();
	assert_non_null(conn);
	struct recorder r = { 0 };
	/* One byte short of the GOAWAY's end: still reading. */
	assert_int_equal(feed(conn, 0, client.p, goaway_end - 1, &r), HTTP2_MORE);
	assert_int_equal(http2_conn_stats(conn)->goaways[0], 0);
	assert_int_equal(feed(conn, 0, client.p + goaway_end - 1, 1, &r), HTTP2_MORE);
	assert_int_equal(http2_conn_stats(conn)->goaways[0], 1);
	assert_int_equal(feed(conn, 0, client.p + goaway_end, client.len - goaway_end, &r),
			 HTTP2_MORE);
	/* The request before the GOAWAY, then the one after it. */
	assert_memory_equal(r.text[0].p, request_text, strlen(request_text));
	assert_non_null(strstr((const char *)r.text[0].p, ":path\t/b"));
	http2_conn_free(conn);
	recorder_free(&r);
	assert_int_equal(run(&client, NULL, &r), HTTP2_MORE);
	assert_int_equal(r.blocks, 2);
	recorder_free(&r);
	buf_free(&client);
	buf_free(&block);
	nghttp2_hd_deflate_del(deflater);
}

/* DATA, PRIORITY, RST_STREAM, PING, WINDOW_UPDATE, SETTINGS ACK and unknown types: passed over. */
static void test_frames_skipped(void **state)
{
	(void)state;
	nghttp2_hd_deflater *deflater;
	assert_int_equal(nghttp2_hd_deflate_new(&deflater, 4096), 0);
	struct buf client = { 0 }, block = { 0 }, big = { 0 };
	client_start(&client, -1);
	simple_frame(&client, T_SETTINGS, F_ACK, 0, "", 0);
	simple_frame(&client, T_WINDOW_UPDATE, 0, 0, "\0\0\x10\0", 4);
	simple_frame(&client, T_PRIORITY, 0, 3, "\0\0\0\1\x10", 5);
	simple_frame(&client, 0x0a, 0, 0, "\0\3abc", 5);           /* ALTSVC */
	simple_frame(&client, 0xfb, 0xff, 7, "whatever", 8);        /* unknown */
	simple_frame(&client, 0x10, 0, 1, "", 0);                   /* unknown, empty */
	simple_frame(&client, T_PING, 0, 0, "\x82\x82\x82\x82\x82\x82\x82\x82", 8);
	request_block(deflater, &block, "/a");
	simple_frame(&client, T_HEADERS, F_END_HEADERS, 1, block.p, block.len);
	/* A DATA frame of the largest length, which looks like a header block inside. */
	buf_fill(&big, 0x82, (1u << 24) - 1);
	simple_frame(&client, T_DATA, F_END_STREAM, 1, big.p, big.len);
	simple_frame(&client, T_RST_STREAM, 0, 1, "\0\0\0\x08", 4);
	buf_free(&big);
	struct http2_conn *conn = http2_conn_new();
	assert_non_null(conn);
	struct recorder r = { 0 };
	assert_int_equal(feed_pieces(conn, 0, &client, 65536, &r), HTTP2_MORE);
	/* END_STREAM was on the DATA frame, not on HEADERS. */
	assert_string_equal(r.text[0].p, "block c 1 0 0 7\n:method\tGET\n:scheme\thttps\n"
					 ":authority\texample.com\n:path\t/a\ncookie\ta=1\n"
					 "cookie\tb=2\nuser-agent\ttest/1.0\n");
	assert_int_equal(http2_conn_stats(conn)->frames[0], 11);
	http2_conn_free(conn);
	recorder_free(&r);
	buf_free(&client);
	buf_free(&block);
	nghttp2_hd_deflate_del(deflater);
}

/*
 * A PUSH_PROMISE (padded, continued) is a request of the promised stream;
 * its block is part of the server's HPACK state: the response after it names
 * an entry the promise added.
 */
static void test_push_promise(void **state)
{
	(void)state;
	nghttp2_hd_deflater *server_deflater;
	assert_int_equal(nghttp2_hd_deflate_new(&server_deflater, 4096), 0);
	struct buf client = { 0 }, server = { 0 }, block = { 0 }, payload = { 0 };
	client_start(&client, -1);
	simple_frame(&client, T_HEADERS, F_END_HEADERS | F_END_STREAM, 1, "\x82\x87\x84\x41\x01x", 6);
	settings(&server, -1);
	nghttp2_nv promise[] = { nv(":method", "GET"), nv(":scheme", "https"),
				 nv(":authority", "x"), nv(":path", "/pushed.css"),
				 nv("x-token", "promised-value") };
	deflate(server_deflater, &block, promise, 5);
	buf_byte(&payload, 3);                  /* pad length */
	buf_add(&payload, "\x80\0\0\x02", 4);   /* reserved bit set, promised stream 2 */
	buf_add(&payload, block.p, 5);
	buf_fill(&payload, 0, 3);
	simple_frame(&server, T_PUSH_PROMISE, F_PADDED, 1, payload.p, payload.len);
	simple_frame(&server, T_CONTINUATION, F_END_HEADERS, 1, block.p + 5, block.len - 5);
	block.len = 0;
	nghttp2_nv response[] = { nv(":status", "200"), nv("x-token", "promised-value") };
	deflate(server_deflater, &block, response, 2);
	simple_frame(&server, T_HEADERS, F_END_HEADERS, 1, block.p, block.len);
	struct recorder r = { 0 };
	assert_int_equal(run(&client, &server, &r), HTTP2_MORE);
	assert_string_equal(r.text[1].p,
			    "block s 2 0 1 5\n:method\tGET\n:scheme\thttps\n:authority\tx\n"
			    ":path\t/pushed.css\nx-token\tpromised-value\n"
			    "block s 1 0 0 2\n:status\t200\nx-token\tpromised-value\n");
	recorder_free(&r);

	/* A promised stream 0 is an error. */
	buf_free(&server);
	settings(&server, -1);
	simple_frame(&server, T_PUSH_PROMISE, F_END_HEADERS, 1, "\0\0\0\0\x82", 5);
	assert_int_equal(run(&client, &server, &r), HTTP2_END_BAD_FRAME);
	recorder_free(&r);
	buf_free(&client);
	buf_free(&server);
	buf_free(&block);
	buf_free(&payload);
	nghttp2_hd_deflate_del(server_deflater);
}

/* An empty block, trailers, a field with an empty name and value. */
static void test_trailers_and_empty(void **state)
{
	(void)state;
	struct buf client = { 0 }, server = { 0 };
	client_start(&client, -1);
	simple_frame(&client, T_HEADERS, F_END_HEADERS, 1, "\x83\x87\x84\x41\x01x", 6);
	simple_frame(&client, T_DATA, 0, 1, "body", 4);
	simple_frame(&client, T_HEADERS, F_END_HEADERS | F_END_STREAM, 1, "", 0);
	settings(&server, -1);
	simple_frame(&server, T_HEADERS, F_END_HEADERS, 1, "\x88", 1);
	simple_frame(&server, T_HEADERS, F_END_HEADERS | F_END_STREAM, 1, "\x40\x02x-\x01y", 6);
	/* Found by fuzzing: a message whose only field is empty pointed into no arena. */
	simple_frame(&server, T_HEADERS, F_END_HEADERS, 3, "\x00\x00\x00", 3);
	struct recorder r = { 0 };
	assert_int_equal(run(&client, &server, &r), HTTP2_MORE);
	assert_string_equal(r.text[0].p, "block c 1 0 0 4\n:method\tPOST\n:scheme\thttps\n:path\t/\n"
					 ":authority\tx\nblock c 1 1 0 0\n");
	assert_string_equal(r.text[1].p, "block s 1 0 0 1\n:status\t200\nblock s 1 1 0 1\nx-\ty\n"
					 "block s 3 0 0 1\n\t\n");
	recorder_free(&r);
	buf_free(&client);
	buf_free(&server);

	/* The same as the first block of a direction, before any arena. */
	client_start(&client, -1);
	simple_frame(&client, T_HEADERS, F_END_HEADERS, 1, "\x00\x00\x00", 3);
	assert_int_equal(run(&client, NULL, &r), HTTP2_MORE);
	assert_string_equal(r.text[0].p, "block c 1 0 0 1\n\t\n");
	recorder_free(&r);
	buf_free(&client);
}

static void test_callback_stops(void **state)
{
	(void)state;
	struct buf client = { 0 };
	client_start(&client, -1);
	simple_frame(&client, T_HEADERS, F_END_HEADERS, 1, "\x82", 1);
	simple_frame(&client, T_HEADERS, F_END_HEADERS, 3, "\x82", 1);
	struct recorder r = { .stop_after = 1 };
	assert_int_equal(run(&client, NULL, &r), HTTP2_END_STOPPED);
	assert_int_equal(r.blocks, 1);
	recorder_free(&r);
	buf_free(&client);
	/* A NULL callback is allowed. */
	struct http2_conn *conn = http2_conn_new();
	assert_non_null(conn);
	assert_int_equal(http2_feed(conn, 0, (const uint8_t *)"", 0, NULL, NULL), HTTP2_MORE);
	client_start(&client, -1);
	simple_frame(&client, T_HEADERS, F_END_HEADERS, 1, "\x82", 1);
	assert_int_equal(http2_feed(conn, 0, client.p, client.len, NULL, NULL), HTTP2_MORE);
	assert_int_equal(http2_conn_stats(conn)->header_blocks[0], 1);
	/* Lost bytes: the frames cannot be followed. */
	assert_int_equal(http2_feed(conn, 1, NULL, 10, NULL, NULL), HTTP2_END_BAD_FRAME);
	http2_conn_free(conn);
	http2_conn_free(NULL);
	buf_free(&client);
}

static void test_end_names(void **state)
{
	(void)state;
	static const char *const names[] = { "more", "not_http2", "bad_frame", "hpack", "too_big",
					     "stopped", "no_memory" };
	assert_int_equal(sizeof names / sizeof names[0], HTTP2_END_COUNT);
	for (int i = 0; i < HTTP2_END_COUNT; i++)
		assert_string_equal(http2_end_name((enum http2_end)i), names[i]);
	assert_string_equal(http2_end_name(HTTP2_END_COUNT), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_captures),
		cmocka_unit_test(test_chrome_table_size),
		cmocka_unit_test(test_headers_padded_priority),
		cmocka_unit_test(test_continuation_every_split),
		cmocka_unit_test(test_frames_out_of_place),
		cmocka_unit_test(test_bad_frames),
		cmocka_unit_test(test_block_bound),
		cmocka_unit_test(test_fields_bound),
		cmocka_unit_test(test_decoded_bound),
		cmocka_unit_test(test_table_size_direction),
		cmocka_unit_test(test_table_size_cap),
		cmocka_unit_test(test_table_size_decrease),
		cmocka_unit_test(test_bad_preface),
		cmocka_unit_test(test_garbage_hpack),
		cmocka_unit_test(test_goaway),
		cmocka_unit_test(test_frames_skipped),
		cmocka_unit_test(test_push_promise),
		cmocka_unit_test(test_trailers_and_empty),
		cmocka_unit_test(test_callback_stops),
		cmocka_unit_test(test_end_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
