/*
 * reassembly: in-order delivery of a TCP direction's bytes. Sequence numbers
 * are compared modulo 2^32 (RFC 9293 3.4): a is before b when (int32_t)(a - b)
 * is negative. Waiting segments never overlap each other: a new segment only
 * fills the holes between those already held, so the first copy of every
 * byte is the one delivered.
 */
#include "reassembly.h"

#include <stdlib.h>
#include <string.h>

#include "decode.h"

struct tcp_segment {
	struct tcp_segment *next;
	uint32_t seq;
	uint32_t len;
	uint8_t data[];
};

size_t tcp_segment_cost(size_t len)
{
	return sizeof(struct tcp_segment) + len + 16;
}

/* A segment further ahead than this is not this stream's (or is an attack). */
enum { IMPLAUSIBLE_AHEAD = 1u << 30 };

void tcp_reassembly_init(struct tcp_reassembly *reassembly)
{
	memset(reassembly, 0, sizeof *reassembly);
	reassembly->max_stream_pending = 64 * 1024;
	reassembly->max_stream_segments = 64;
	reassembly->max_total_pending = 32 * 1024 * 1024;
}

void tcp_stream_init(struct tcp_stream *stream)
{
	memset(stream, 0, sizeof *stream);
}

static int32_t seq_diff(uint32_t a, uint32_t b)
{
	return (int32_t)(a - b);
}

void tcp_stream_free(struct tcp_reassembly *reassembly, struct tcp_stream *stream)
{
	struct tcp_segment *segment = stream->pending;
	while (segment) {
		struct tcp_segment *next = segment->next;
		reassembly->total_pending -= tcp_segment_cost(segment->len);
		free(segment);
		segment = next;
	}
	stream->pending = NULL;
	stream->pending_bytes = 0;
	stream->pending_count = 0;
}

void tcp_stream_stop(struct tcp_reassembly *reassembly, struct tcp_stream *stream)
{
	stream->stopped = 1;
	tcp_stream_free(reassembly, stream);
}

void tcp_stream_skip(struct tcp_stream *stream, uint64_t len)
{
	stream->skip += len;
}

/* The next `len` bytes of the stream, at next_seq: skipped or delivered. */
static void consume(struct tcp_reassembly *reassembly, struct tcp_stream *stream,
		    const uint8_t *data, size_t len, tcp_deliver_fn deliver, void *context)
{
	stream->next_seq += (uint32_t)len;
	stream->offset += len;
	reassembly->stats.delivered += len;
	size_t skipped = stream->skip < len ? (size_t)stream->skip : len;
	stream->skip -= skipped;
	if (len > skipped && !stream->stopped)
		deliver(context, data + skipped, len - skipped);
}

/* A hole of `len` bytes that will not be filled: the consumer hears of it unless skipping. */
static void consume_gap(struct tcp_reassembly *reassembly, struct tcp_stream *stream, size_t len,
			tcp_deliver_fn deliver, void *context)
{
	stream->next_seq += (uint32_t)len;
	stream->offset += len;
	reassembly->stats.gaps++;
	reassembly->stats.gap_bytes += len;
	size_t skipped = stream->skip < len ? (size_t)stream->skip : len;
	stream->skip -= skipped;
	if (len > skipped && !stream->stopped)
		deliver(context, NULL, len - skipped);
}

/* Delivers the waiting segments that next_seq has reached. */
static void drain(struct tcp_reassembly *reassembly, struct tcp_stream *stream,
		  tcp_deliver_fn deliver, void *context)
{
	struct tcp_segment *segment;
	while (!stream->stopped && (segment = stream->pending) &&
	       seq_diff(segment->seq, stream->next_seq) <= 0) {
		stream->pending = segment->next;
		stream->pending_bytes -= segment->len;
		stream->pending_count--;
		reassembly->total_pending -= tcp_segment_cost(segment->len);
		uint32_t old = (uint32_t)-seq_diff(segment->seq, stream->next_seq);
		if (old < segment->len)
			consume(reassembly, stream, segment->data + old, segment->len - old, deliver,
				context);
		reassembly->stats.retransmitted += old < segment->len ? old : segment->len;
		free(segment);
	}
}

/* Inserts [seq, seq + len) into the waiting list, filling only its holes. */
static int store(struct tcp_reassembly *reassembly, struct tcp_stream *stream, uint32_t seq,
		 const uint8_t *data, size_t len)
{
	uint32_t cur = seq, end = seq + (uint32_t)len;
	struct tcp_segment **link = &stream->pending;
	while (seq_diff(cur, end) < 0) {
		while (*link && seq_diff((*link)->seq + (*link)->len, cur) <= 0)
			link = &(*link)->next;
		struct tcp_segment *held = *link;
		uint32_t piece_end = end;
		if (held && seq_diff(held->seq, cur) <= 0) {
			cur = held->seq + held->len; /* held bytes win */
			link = &held->next;
			continue;
		}
		if (held && seq_diff(held->seq, end) < 0)
			piece_end = held->seq;
		uint32_t piece = piece_end - cur;
		if (stream->pending_bytes + piece > reassembly->max_stream_pending ||
		    stream->pending_count >= reassembly->max_stream_segments ||
		    reassembly->total_pending + tcp_segment_cost(piece) > reassembly->max_total_pending)
			return -1;
		struct tcp_segment *segment = malloc(sizeof *segment + piece);
		if (!segment)
			return -1;
		segment->seq = cur;
		segment->len = piece;
		memcpy(segment->data, data + (cur - seq), piece);
		segment->next = held;
		*link = segment;
		link = &segment->next;
		stream->pending_bytes += piece;
		stream->pending_count++;
		reassembly->total_pending += tcp_segment_cost(piece);
		cur = piece_end;
	}
	return 0;
}

void tcp_stream_segment(struct tcp_reassembly *reassembly, struct tcp_stream *stream,
			uint32_t seq, uint8_t flags, const uint8_t *payload, size_t len,
			tcp_deliver_fn deliver, void *context)
{
	if (stream->stopped)
		return;
	if (flags & DECODE_TCP_SYN) {
		/* Data on a SYN (TCP Fast Open) starts after the SYN's own number. */
		seq += 1;
		if (!stream->started) {
			stream->next_seq = seq;
			stream->started = 1;
		}
	}
	if (len == 0)
		return;
	if (!stream->started) {
		/* Mid-stream start: the first segment seen begins the stream. */
		stream->next_seq = seq;
		stream->started = 1;
	}
	int32_t ahead = seq_diff(seq, stream->next_seq);
	if (ahead < 0) {
		uint32_t old = (uint32_t)-(int64_t)ahead;
		if (old >= len) {
			reassembly->stats.retransmitted += len;
			return;
		}
		reassembly->stats.retransmitted += old;
		payload += old;
		len -= old;
		seq = stream->next_seq;
		ahead = 0;
	}
	if ((uint32_t)ahead >= IMPLAUSIBLE_AHEAD) {
		reassembly->stats.implausible++;
		return;
	}
	if (ahead > 0 && stream->skip >= (uint64_t)ahead + len) {
		/*
		 * The hole and this segment are all bytes the consumer passes over:
		 * move past them now rather than hold the segment.
		 */
		stream->skip -= (uint64_t)ahead + len;
		stream->next_seq = seq + (uint32_t)len;
		stream->offset += (uint64_t)ahead + len;
		reassembly->stats.delivered += len;
		drain(reassembly, stream, deliver, context);
		return;
	}
	if (ahead > 0) {
		reassembly->stats.out_of_order++;
		if (store(reassembly, stream, seq, payload, len) == 0)
			return;
		/*
		 * No room to wait: give up on the hole before the first byte we hold
		 * (or before this segment), and go on from there.
		 */
		reassembly->stats.pending_full++;
		uint32_t resume = stream->pending && seq_diff(stream->pending->seq, seq) < 0
					  ? stream->pending->seq : seq;
		consume_gap(reassembly, stream, (uint32_t)seq_diff(resume, stream->next_seq), deliver,
			    context);
		drain(reassembly, stream, deliver, context);
		if (stream->stopped)
			return;
		ahead = seq_diff(seq, stream->next_seq);
		if (ahead > 0) {
			/*
			 * Still no room (other holes wait, or the sensor-wide bound): this
			 * segment is lost rather than what was held; its hole becomes a gap
			 * in turn.
			 */
			if (store(reassembly, stream, seq, payload, len) != 0)
				reassembly->stats.dropped++;
			return;
		}
		/* Behind next_seq now if held bytes covered its start: the loop trims that. */
	}
	/*
	 * In order now. Where it overlaps bytes already held, the held copy came
	 * first and wins: deliver up to them, let them out, and go on with what
	 * is left of this segment past them.
	 */
	while (len > 0 && !stream->stopped) {
		int32_t behind = seq_diff(stream->next_seq, seq);
		if (behind > 0) {
			if ((uint32_t)behind >= len)
				break;
			reassembly->stats.retransmitted += (uint32_t)behind;
			payload += behind;
			len -= (uint32_t)behind;
			seq = stream->next_seq;
		}
		/* Held segments are all ahead of next_seq (drain() saw to that). */
		struct tcp_segment *held = stream->pending;
		size_t part = len;
		if (held && seq_diff(held->seq, seq + (uint32_t)len) < 0)
			part = (uint32_t)seq_diff(held->seq, seq);
		consume(reassembly, stream, payload, part, deliver, context);
		payload += part;
		len -= part;
		seq += (uint32_t)part;
		drain(reassembly, stream, deliver, context);
	}
	drain(reassembly, stream, deliver, context);
}
