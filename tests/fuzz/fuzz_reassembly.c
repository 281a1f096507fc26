/*
 * libFuzzer harness for TCP reassembly: the input is a series of 8-byte
 * commands on one stream with small bounds (segments at fuzz-chosen offsets
 * and lengths, skips, stops), all cut from one known byte stream. Whatever
 * the order, every byte delivered must be the stream's byte at that offset,
 * offsets only grow, and memory accounting returns to zero.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../daemon/decode.h"
#include "../../daemon/reassembly.h"

static uint8_t stream_byte(uint64_t offset)
{
	return (uint8_t)(offset * 131 + (offset >> 8) * 7 + 3);
}

struct check {
	uint64_t offset; /* stream offset of the next delivered byte */
	struct tcp_reassembly *r;
	struct tcp_stream *s;
	int stop_at_call;
	int calls;
};

static void deliver(void *context, const uint8_t *data, size_t len)
{
	struct check *c = context;
	/* Skipped bytes move the stream on without a call: catch up from it. */
	uint64_t start = c->s->offset - len;
	if (start < c->offset)
		abort(); /* delivered twice */
	c->offset = start;
	for (size_t i = 0; data && i < len; i++)
		if (data[i] != stream_byte(c->offset + i))
			abort();
	c->offset += len;
	if (++c->calls == c->stop_at_call)
		tcp_stream_stop(c->r, c->s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tcp_reassembly r;
	tcp_reassembly_init(&r);
	r.max_stream_pending = 512;
	r.max_stream_segments = 8;
	r.max_total_pending = 1024;
	struct tcp_stream s;
	tcp_stream_init(&s);
	struct check c = { .r = &r, .s = &s, .stop_at_call = size > 0 ? data[0] : 0 };
	uint32_t isn = 0xfffff000u; /* near the wrap */
	uint8_t buf[300];
	tcp_stream_segment(&r, &s, isn, DECODE_TCP_SYN, NULL, 0, deliver, &c);
	for (size_t i = 1; i + 8 <= size; i += 8) {
		const uint8_t *op = data + i;
		uint32_t offset = (uint32_t)op[1] << 8 | op[2];
		size_t len = (size_t)op[3] % sizeof buf;
		switch (op[0] % 4) {
		case 0:
		case 1:
			for (size_t k = 0; k < len; k++)
				buf[k] = stream_byte(offset + k);
			tcp_stream_segment(&r, &s, isn + 1 + offset, DECODE_TCP_ACK, buf, len, deliver, &c);
			break;
		case 2:
			tcp_stream_skip(&s, op[4]);
			break;
		case 3:
			/*
			 * Garbage from at least 2^30 away from where the stream is, ahead or
			 * (past 2^31) behind: never this stream's bytes, never delivered.
			 */
			memset(buf, 0xee, len);
			tcp_stream_segment(&r, &s, s.next_seq + ((uint32_t)(op[4] | 0x40) << 24 | offset),
					   DECODE_TCP_ACK, buf, len, deliver, &c);
			break;
		}
		if (r.total_pending > r.max_total_pending || s.pending_bytes > r.max_stream_pending ||
		    s.pending_count > r.max_stream_segments)
			abort();
	}
	tcp_stream_free(&r, &s);
	if (r.total_pending != 0)
		abort();
	return 0;
}
