/*
 * libFuzzer harness for dissectors/http2.c. The input is a 4-byte plan, then
 * records: two bytes (the top bit: the server's direction; the other 15: a
 * length), then that many bytes of the direction (fewer at the end of the
 * input). Plan bit 0 prepends the client's connection preface, bit 1 an
 * empty SETTINGS frame to each direction, so that the fuzzer reaches the
 * frames sooner; the rest seeds the cuts.
 *
 * The records go, in order, to one connection three times: each record
 * whole; in pieces of 1 to 8 bytes; in pieces of 1 byte to 4 KiB. Besides
 * ASan's and UBSan's checks, it aborts when a message breaks what http2.h
 * promises (a stream id of 1 to 2^31 - 1, at most HTTP2_FIELDS_MAX fields,
 * a push promise only from the server, every byte readable), when an ended
 * connection still takes bytes or gives messages, and when the cuts do not
 * agree: the same messages, the same end, the same counts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../dissectors/http2.h"

enum { DECODED_MAX = 4 * HTTP2_HEADER_BLOCK_MAX }; /* http2.c's bound on a message's bytes */

struct run {
	struct http2_conn *conn;
	int from_server;          /* the direction being fed */
	uint64_t hash;            /* of every field of every message, in order */
	size_t messages;
	enum http2_end end;
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

static int on_message(void *context, const struct http2_message *m)
{
	struct run *run = context;
	if (m->stream_id == 0 || m->stream_id > 0x7fffffffu)
		abort();
	if (m->from_server != run->from_server)
		abort();
	if (m->push_promise && (!m->from_server || m->end_stream))
		abort();
	if ((m->push_promise | m->end_stream) & ~1)
		abort();
	if (m->count > HTTP2_FIELDS_MAX || (m->count > 0 && !m->fields))
		abort();
	size_t total = 0;
	uint64_t *h = &run->hash;
	hash_u64(h, (uint64_t)m->stream_id << 8 | (uint64_t)m->from_server << 2 |
			    (uint64_t)m->push_promise << 1 | (uint64_t)m->end_stream);
	hash_u64(h, m->count);
	for (size_t i = 0; i < m->count; i++) {
		const struct http2_field *f = &m->fields[i];
		if ((f->name_len && !f->name) || (f->value_len && !f->value))
			abort();
		total += f->name_len + f->value_len;
		if (total > DECODED_MAX)
			abort();
		hash_u64(h, f->name_len);
		hash_bytes(h, f->name, f->name_len);
		hash_u64(h, f->value_len);
		hash_bytes(h, f->value, f->value_len);
	}
	run->messages++;
	return 0;
}

/* Feeds a copy of exactly `len` bytes, so that ASan sees reads past them. */
static void feed_copy(struct run *run, int from_server, const uint8_t *data, size_t len)
{
	uint8_t *copy = malloc(len ? len : 1);
	if (!copy)
		abort();
	if (len)
		memcpy(copy, data, len);
	size_t before = run->messages;
	int ended = run->end != HTTP2_MORE;
	run->from_server = from_server;
	enum http2_end end = http2_feed(run->conn, from_server, copy, len, on_message, run);
	free(copy);
	if (end >= HTTP2_END_COUNT || (ended && (end != run->end || run->messages != before)))
		abort();
	run->end = end;
}

static uint32_t next_random(uint32_t *state)
{
	uint32_t x = *state;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *state = x;
}

static const uint8_t preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
static const uint8_t empty_settings[9] = { 0, 0, 0, 4, 0, 0, 0, 0, 0 };

/* max_piece 0: each record whole. */
static void feed_all(struct run *run, const uint8_t *data, size_t size, uint32_t plan,
		     size_t max_piece)
{
	run->conn = http2_conn_new();
	if (!run->conn)
		abort();
	run->hash = 0xcbf29ce484222325ULL;
	run->messages = 0;
	run->end = HTTP2_MORE;
	if (plan & 1)
		feed_copy(run, 0, preface, 24);
	if (plan & 2) {
		feed_copy(run, 0, empty_settings, sizeof empty_settings);
		feed_copy(run, 1, empty_settings, sizeof empty_settings);
	}
	uint32_t random = (plan >> 2) | 1;
	size_t pos = 0;
	while (pos + 2 <= size) {
		int from_server = data[pos] >> 7;
		size_t len = (size_t)(data[pos] & 0x7f) << 8 | data[pos + 1];
		pos += 2;
		if (len > size - pos)
			len = size - pos;
		const uint8_t *record = data + pos;
		pos += len;
		if (max_piece == 0) {
			feed_copy(run, from_server, record, len);
			continue;
		}
		for (size_t done = 0; done < len;) {
			size_t piece = 1 + next_random(&random) % max_piece;
			if (piece > len - done)
				piece = len - done;
			feed_copy(run, from_server, record + done, piece);
			done += piece;
		}
	}
	const struct http2_stats *stats = http2_conn_stats(run->conn);
	for (int d = 0; d < 2; d++)
		if (stats->header_blocks[d] > stats->frames[d])
			abort();
	if (stats->header_blocks[0] + stats->header_blocks[1] != run->messages)
		abort();
	if (stats->table_size_updates > stats->frames[0] + stats->frames[1])
		abort();
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
	static const size_t max_pieces[3] = { 0, 8, 4096 };
	struct run runs[3];
	struct http2_stats stats[3];
	for (int i = 0; i < 3; i++) {
		feed_all(&runs[i], data, size, plan, max_pieces[i]);
		stats[i] = *http2_conn_stats(runs[i].conn);
		http2_conn_free(runs[i].conn);
	}
	for (int i = 1; i < 3; i++) {
		if (runs[i].end != runs[0].end || runs[i].hash != runs[0].hash ||
		    runs[i].messages != runs[0].messages ||
		    memcmp(&stats[i], &stats[0], sizeof stats[0]) != 0)
			abort();
	}
	return 0;
}
