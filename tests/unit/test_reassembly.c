/*
 * Unit tests for daemon/reassembly.c: in-order delivery whatever the arrival
 * order, retransmissions and overlaps (first copy wins), gaps when a bound is
 * reached, skipping, stopping, sequence wrap-around, and a randomised check
 * that any shuffle of overlapping segments rebuilds the original stream.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../daemon/decode.h"
#include "../../daemon/reassembly.h"

/* What a consumer saw: the bytes, with each gap as that many '#'. */
struct sink {
	uint8_t out[1 << 20];
	size_t len;
	size_t gaps;
	size_t calls;
	struct tcp_reassembly *r;
	struct tcp_stream *stream;
	size_t stop_after;  /* stop the stream once this many bytes are out (0: never) */
};

static void deliver(void *context, const uint8_t *data, size_t len)
{
	struct sink *sink = context;
	assert_true(sink->len + len <= sizeof sink->out);
	if (data) {
		memcpy(sink->out + sink->len, data, len);
	} else {
		memset(sink->out + sink->len, '#', len);
		sink->gaps++;
	}
	sink->len += len;
	sink->calls++;
	if (sink->stop_after && sink->len >= sink->stop_after)
		tcp_stream_stop(sink->r, sink->stream);
}

static void segment(struct tcp_reassembly *r, struct tcp_stream *s, struct sink *sink,
		    uint32_t seq, const char *text)
{
	tcp_stream_segment(r, s, seq, DECODE_TCP_ACK, (const uint8_t *)text, strlen(text), deliver,
			   sink);
}

static struct sink *new_sink(struct tcp_reassembly *r, struct tcp_stream *s)
{
	struct sink *sink = calloc(1, sizeof *sink);
	assert_non_null(sink);
	sink->r = r;
	sink->stream = s;
	return sink;
}

static void assert_out(const struct sink *sink, const char *want)
{
	assert_int_equal(sink->len, strlen(want));
	assert_memory_equal(sink->out, want, sink->len);
}

static void test_in_order_after_syn(void **state)
{
	(void)state;
	struct tcp_reassembly r;
	tcp_reassembly_init(&r);
	struct tcp_stream s;
	tcp_stream_init(&s);
	struct sink *sink = new_sink(&r, &s);
	tcp_stream_segment(&r, &s, 1000, DECODE_TCP_SYN, NULL, 0, deliver, sink);
	segment(&r, &s, sink, 1001, "GET / HTTP/1.1\r\n");
	segment(&r, &s, sink, 1017, "Host: a\r\n\r\n");
	assert_out(sink, "GET / HTTP/1.1\r\nHost: a\r\n\r\n");
	assert_int_equal(s.offset, 27);
	assert_int_equal(r.stats.delivered, 27);
	assert_int_equal(r.total_pending, 0);
	free(sink);
}

static void test_out_of_order(void **state)
{
	(void)state;
	struct tcp_reassembly r;
	tcp_reassembly_init(&r);
	struct tcp_stream s;
	tcp_stream_init(&s);
	struct sink *sink = new_sink(&r, &s);
	tcp_stream_segment(&r, &s, 0, DECODE_TCP_SYN, NULL, 0, deliver, sink);
	segment(&r, &s, sink, 7, "ghi");
	segment(&r, &s, sink, 4, "def");
	assert_int_equal(sink->len, 0);
	assert_int_equal(r.total_pending, 2 * tcp_segment_cost(3));
	segment(&r, &s, sink, 1, "abc");
	assert_out(sink, "abcdefghi");
	assert_int_equal(r.stats.out_of_order, 2);
	assert_int_equal(r.total_pending, 0);
	assert_int_equal(s.pending_count, 0);
	free(sink);
}

static void test_retransmission_dropped(void **state)
{
	(void)state;
	struct tcp_reassembly r;
	tcp_reassembly_init(&r);
	struct tcp_stream s;
	tcp_stream_init(&s);
	struct sink *sink = new_sink(&r, &s);
	segment(&r, &s, sink, 50, "hello");
	segment(&r, &s, sink, 50, "hello");
	segment(&r, &s, sink, 52, "XYZw"); /* 3 old bytes, 1 new */
	assert_out(sink, "hellow");
	assert_int_equal(r.stats.retransmitted, 8);
	free(sink);
}

/* Overlapping waiting segments: every byte keeps its first copy. */
static void test_overlap_first_copy_wins(void **state)
{
	(void)state;
	struct tcp_reassembly r;
	tcp_reassembly_init(&r);
	struct tcp_stream s;
	tcp_stream_init(&s);
	struct sink *sink = new_sink(&r, &s);
	tcp_stream_segment(&r, &s, 99, DECODE_TCP_SYN, NULL, 0, deliver, sink);
	segment(&r, &s, sink, 104, "XXXX");     /* 104..107 */
	segment(&r, &s, sink, 102, "YYYYYYYY"); /* 102..109: fills 102..103 and 108..109 */
	segment(&r, &s, sink, 110, "W");
	segment(&r, &s, sink, 100, "ZZZZ");     /* 100..103: 102..103 already held */
	assert_out(sink, "ZZYYXXXXYYW");
	free(sink);
}

static void test_gap_when_segments_bound_reached(void **state)
{
	(void)state;
	struct tcp_reassembly r;
	tcp_reassembly_init(&r);
	r.max_stream_segments = 2;
	struct tcp_stream s;
	tcp_stream_init(&s);
	struct sink *sink = new_sink(&r, &s);
	segment(&r, &s, sink, 0, "ab");
	segment(&r, &s, sink, 5, "fg");  /* hole 2..4 */
	segment(&r, &s, sink, 9, "jk");  /* hole 7..8 */
	segment(&r, &s, sink, 12, "mn"); /* a third waiting segment: no room */
	/* The first hole is given up; what followed it comes out, then the rest waits again. */
	assert_out(sink, "ab###fg");
	assert_int_equal(sink->gaps, 1);
	assert_int_equal(r.stats.gaps, 1);
	assert_int_equal(r.stats.gap_bytes, 3);
	assert_int_equal(r.stats.pending_full, 1);
	/* The gap made room: "mn" waits behind the hole at 11. */
	assert_int_equal(s.pending_count, 2);
	segment(&r, &s, sink, 7, "hi");
	assert_out(sink, "ab###fghijk");
	segment(&r, &s, sink, 11, "l");
	assert_out(sink, "ab###fghijklmn");
	assert_int_equal(r.total_pending, 0);
	free(sink);
}

static void test_gap_when_bytes_bound_reached(void **state)
{
	(void)state;
	struct tcp_reassembly r;
	tcp_reassembly_init(&r);
	r.max_stream_pending = 4;
	struct tcp_stream s;
	tcp_stream_init(&s);
	struct sink *sink = new_sink(&r, &s);
	segment(&r, &s, sink, 0, "a");
	segment(&r, &s, sink, 3, "defgh"); /* 5 bytes: more than the bound, nothing held */
	assert_out(sink, "a##defgh");
	assert_int_equal(r.total_pending, 0);
	free(sink);
}

static void test_total_bound_shared(void **state)
{
	(void)state;
	struct tcp_reassembly r;
	tcp_reassembly_init(&r);
	/* Room for a's five bytes, not for those and b's three. */
	r.max_total_pending = tcp_segment_cost(5) + tcp_segment_cost(3) - 1;
	struct tcp_stream a, b;
	tcp_stream_init(&a);
	tcp_stream_init(&b);
	struct sink *sa = new_sink(&r, &a), *sb = new_sink(&r, &b);
	segment(&r, &a, sa, 0, "x");
	segment(&r, &a, sa, 2, "12345"); /* a holds 5 */
	segment(&r, &b, sb, 0, "y");
	segment(&r, &b, sb, 2, "678");   /* 5 + 3 > 6: b gives up its hole */
	assert_out(sb, "y#678");
	assert_int_equal(r.total_pending, tcp_segment_cost(5));
	tcp_stream_free(&r, &a);
	assert_int_equal(r.total_pending, 0);
	free(sa);
	free(sb);
}

static void test_skip(void **state)
{
	(void)state;
	struct tcp_reassembly r;
	tcp_reassembly_init(&r);
	struct tcp_stream s;
	tcp_stream_init(&s);
	struct sink *sink = new_sink(&r, &s);
	segment(&r, &s, sink, 0, "head");
	tcp_stream_skip(&s, 10);
	segment(&r, &s, sink, 4, "0123");      /* skipped */
	segment(&r, &s, sink, 12, "89");       /* out of order but inside the skip: no buffering */
	assert_int_equal(r.total_pending, 0);
	segment(&r, &s, sink, 8, "4567");      /* old now: dropped */
	segment(&r, &s, sink, 14, "tail");
	assert_out(sink, "headtail");
	assert_int_equal(s.offset, 18);
	free(sink);
}

/* A gap inside bytes being skipped is no news to the consumer. */
static void test_gap_inside_skip_not_reported(void **state)
{
	(void)state;
	struct tcp_reassembly r;
	tcp_reassembly_init(&r);
	r.max_stream_segments = 1;
	struct tcp_stream s;
	tcp_stream_init(&s);
	struct sink *sink = new_sink(&r, &s);
	segment(&r, &s, sink, 0, "a");
	tcp_stream_skip(&s, 3);
	segment(&r, &s, sink, 5, "f");
	segment(&r, &s, sink, 7, "h"); /* no room: the hole 1..4 is given up, inside the skip */
	assert_int_equal(sink->gaps, 1);
	assert_out(sink, "a#f");
	assert_int_equal(r.total_pending, tcp_segment_cost(1)); /* "h" waits behind the hole at 6 */
	tcp_stream_free(&r, &s);
	assert_int_equal(r.total_pending, 0);
	free(sink);
}

static void test_stop(void **state)
{
	(void)state;
	struct tcp_reassembly r;
	tcp_reassembly_init(&r);
	struct tcp_stream s;
	tcp_stream_init(&s);
	struct sink *sink = new_sink(&r, &s);
	sink->stop_after = 3;
	tcp_stream_segment(&r, &s, 3, DECODE_TCP_SYN, NULL, 0, deliver, sink);
	segment(&r, &s, sink, 10, "ghi");
	segment(&r, &s, sink, 7, "def");
	/* Delivered, and the consumer stops: what waited is dropped, never delivered. */
	segment(&r, &s, sink, 4, "abc");
	assert_out(sink, "abc");
	assert_int_equal(r.total_pending, 0);
	segment(&r, &s, sink, 7, "def");
	assert_out(sink, "abc");
	free(sink);
}

static void test_stop_frees(void **state)
{
	(void)state;
	struct tcp_reassembly r;
	tcp_reassembly_init(&r);
	struct tcp_stream s;
	tcp_stream_init(&s);
	struct sink *sink = new_sink(&r, &s);
	segment(&r, &s, sink, 0, "a");
	segment(&r, &s, sink, 5, "fgh");
	assert_int_equal(r.total_pending, tcp_segment_cost(3));
	tcp_stream_stop(&r, &s);
	assert_int_equal(r.total_pending, 0);
	segment(&r, &s, sink, 1, "bcde");
	assert_out(sink, "a");
	free(sink);
}

static void test_wrap_around(void **state)
{
	(void)state;
	struct tcp_reassembly r;
	tcp_reassembly_init(&r);
	struct tcp_stream s;
	tcp_stream_init(&s);
	struct sink *sink = new_sink(&r, &s);
	tcp_stream_segment(&r, &s, 0xfffffffd, DECODE_TCP_SYN, NULL, 0, deliver, sink);
	segment(&r, &s, sink, 0x00000001, "DEF"); /* past the wrap: out of order */
	segment(&r, &s, sink, 0xfffffffe, "ABC"); /* fffffffe, ffffffff, 0 */
	assert_out(sink, "ABCDEF");
	free(sink);
}

static void test_implausible_ignored(void **state)
{
	(void)state;
	struct tcp_reassembly r;
	tcp_reassembly_init(&r);
	struct tcp_stream s;
	tcp_stream_init(&s);
	struct sink *sink = new_sink(&r, &s);
	segment(&r, &s, sink, 0, "a");
	segment(&r, &s, sink, 0x60000000, "far");
	segment(&r, &s, sink, 1, "b");
	assert_out(sink, "ab");
	assert_int_equal(r.stats.implausible, 1);
	assert_int_equal(r.total_pending, 0);
	free(sink);
}

static void test_syn_with_data(void **state)
{
	(void)state;
	struct tcp_reassembly r;
	tcp_reassembly_init(&r);
	struct tcp_stream s;
	tcp_stream_init(&s);
	struct sink *sink = new_sink(&r, &s);
	tcp_stream_segment(&r, &s, 500, DECODE_TCP_SYN, (const uint8_t *)"fast", 4, deliver, sink);
	segment(&r, &s, sink, 505, "open");
	assert_out(sink, "fastopen");
	free(sink);
}

/*
 * Random segments (overlapping, duplicated, shuffled) of a random stream,
 * with room enough to wait: the stream comes out exactly, once.
 */
static void test_random_rebuild(void **state)
{
	(void)state;
	srand(12345);
	enum { LEN = 20000, SEGMENTS = 3000 };
	static uint8_t stream_bytes[LEN];
	for (size_t i = 0; i < LEN; i++)
		stream_bytes[i] = (uint8_t)rand();
	for (int round = 0; round < 20; round++) {
		struct tcp_reassembly r;
		tcp_reassembly_init(&r);
		r.max_stream_pending = LEN;
		r.max_stream_segments = SEGMENTS * 4;
		struct tcp_stream s;
		tcp_stream_init(&s);
		struct sink *sink = new_sink(&r, &s);
		uint32_t isn = (uint32_t)rand() * 2654435761u;
		tcp_stream_segment(&r, &s, isn, DECODE_TCP_SYN, NULL, 0, deliver, sink);
		/* Cover the stream with random pieces, then shuffle them. */
		size_t starts[SEGMENTS + 64], lens[SEGMENTS + 64], n = 0;
		for (size_t at = 0; at < LEN && n < SEGMENTS + 64;) {
			size_t len = 1 + (size_t)rand() % 60;
			if (at + len > LEN)
				len = LEN - at;
			starts[n] = at;
			lens[n++] = len;
			/* Next piece starts a little before, at or after this one's end. */
			size_t back = (size_t)rand() % 8;
			at = at + len > back + 1 ? at + len - back : at + len;
			if (at <= starts[n - 1])
				at = starts[n - 1] + 1;
		}
		assert_true(starts[n - 1] + lens[n - 1] == LEN);
		for (size_t i = n - 1; i > 0; i--) {
			size_t j = (size_t)rand() % (i + 1);
			size_t t = starts[i]; starts[i] = starts[j]; starts[j] = t;
			t = lens[i]; lens[i] = lens[j]; lens[j] = t;
		}
		for (size_t i = 0; i < n; i++) {
			tcp_stream_segment(&r, &s, isn + 1 + (uint32_t)starts[i], DECODE_TCP_ACK,
					   stream_bytes + starts[i], lens[i], deliver, sink);
			if (rand() % 10 == 0) /* and a duplicate now and then */
				tcp_stream_segment(&r, &s, isn + 1 + (uint32_t)starts[i], DECODE_TCP_ACK,
						   stream_bytes + starts[i], lens[i], deliver, sink);
		}
		assert_int_equal(sink->gaps, 0);
		assert_int_equal(sink->len, LEN);
		assert_memory_equal(sink->out, stream_bytes, LEN);
		assert_int_equal(r.total_pending, 0);
		free(sink);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order_after_syn),
		cmocka_unit_test(test_out_of_order),
		cmocka_unit_test(test_retransmission_dropped),
		cmocka_unit_test(test_overlap_first_copy_wins),
		cmocka_unit_test(test_gap_when_segments_bound_reached),
		cmocka_unit_test(test_gap_when_bytes_bound_reached),
		cmocka_unit_test(test_total_bound_shared),
		cmocka_unit_test(test_skip),
		cmocka_unit_test(test_gap_inside_skip_not_reported),
		cmocka_unit_test(test_stop),
		cmocka_unit_test(test_stop_frees),
		cmocka_unit_test(test_wrap_around),
		cmocka_unit_test(test_implausible_ignored),
		cmocka_unit_test(test_syn_with_data),
		cmocka_unit_test(test_random_rebuild),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
