/*
 * reassembly: TCP stream reassembly, per direction of a flow, for the
 * dissectors that read a byte stream (TLS handshakes, HTTP/1 headers, DNS over
 * TCP). Takes segments as they arrive, gives the stream's bytes in order to a
 * callback, once each.
 *
 * Retransmitted bytes are dropped; where segments overlap, the first copy
 * wins (Suricata's default policy). Out-of-order segments wait in a bounded
 * list; when a stream's or the whole sensor's bound is reached, the stream
 * skips ahead to what it holds and reports the hole as a gap. A consumer says
 * how much it still wants: tcp_stream_skip() passes over bytes it does not
 * read (an HTTP body) without buffering them, tcp_stream_stop() ends the
 * stream for good (a TLS connection after its handshake).
 */
#ifndef TRACKWATCH_REASSEMBLY_H
#define TRACKWATCH_REASSEMBLY_H

#include <stddef.h>
#include <stdint.h>

struct tcp_segment;

struct tcp_reassembly_stats {
	uint64_t delivered;      /* bytes given to consumers (skipped ones included) */
	uint64_t retransmitted;  /* bytes seen before, dropped */
	uint64_t out_of_order;   /* segments that had to wait */
	uint64_t gaps;           /* holes skipped over */
	uint64_t gap_bytes;
	uint64_t pending_full;   /* times a bound forced a gap */
	uint64_t dropped;        /* out-of-order segments with no room even then */
	uint64_t implausible;    /* segments too far ahead to be this stream's */
};

/* Shared by all streams of one capture thread: bounds and counters. */
struct tcp_reassembly {
	size_t max_stream_pending;   /* bytes waiting out of order, per stream */
	size_t max_stream_segments;  /* segments waiting, per stream */
	size_t max_total_pending;    /* memory of waiting segments, headers included, all streams */
	size_t total_pending;
	struct tcp_reassembly_stats stats;
};

/*
 * What a waiting segment of `len` bytes costs the sensor-wide bound: its
 * bytes, its header and the allocator's own (about 16 bytes in glibc), so
 * that a flood of tiny segments is bounded as well as one of large ones.
 */
size_t tcp_segment_cost(size_t len);

/* Defaults: 64 KiB and 64 segments per stream, 32 MiB in all. */
void tcp_reassembly_init(struct tcp_reassembly *reassembly);

struct tcp_stream {
	uint32_t next_seq;        /* the next byte we will deliver */
	uint8_t started;          /* next_seq is known */
	uint8_t stopped;          /* the consumer wants nothing more */
	uint16_t pending_count;
	uint32_t pending_bytes;
	struct tcp_segment *pending; /* waiting, ordered by sequence number */
	uint64_t skip;            /* bytes to pass over before delivering again */
	uint64_t offset;          /* stream offset of next_seq (bytes delivered or skipped) */
};

/*
 * Receives stream bytes in order. `data` is NULL for a gap of `len` bytes
 * that will never be seen. The callback may call tcp_stream_skip() or
 * tcp_stream_stop() on its stream.
 */
typedef void (*tcp_deliver_fn)(void *context, const uint8_t *data, size_t len);

void tcp_stream_init(struct tcp_stream *stream);

/*
 * One segment of this direction: its sequence number, TCP flags (SYN moves
 * the start past the SYN's own sequence number) and payload.
 */
void tcp_stream_segment(struct tcp_reassembly *reassembly, struct tcp_stream *stream,
			uint32_t seq, uint8_t flags, const uint8_t *payload, size_t len,
			tcp_deliver_fn deliver, void *context);

/* Passes over the next `len` bytes of the stream without delivering them. */
void tcp_stream_skip(struct tcp_stream *stream, uint64_t len);

/* Ends the stream: nothing more is delivered or kept. */
void tcp_stream_stop(struct tcp_reassembly *reassembly, struct tcp_stream *stream);

/* Frees what the stream holds (also done by tcp_stream_stop()). */
void tcp_stream_free(struct tcp_reassembly *reassembly, struct tcp_stream *stream);

#endif
