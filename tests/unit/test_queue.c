/*
 * Unit tests for daemon/queue.c: entries come out whole and in order across
 * the ring's wrap, a full queue drops (and counts) or waits, closing drains,
 * and a producer and a consumer thread agree on every byte.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../daemon/queue.h"

/* Pushes an entry of `size` bytes, each byte (seed + index). */
static int push(struct queue *queue, size_t size, uint8_t seed, int wait)
{
	uint8_t *slot = queue_push_reserve(queue, size, wait);
	if (!slot)
		return -1;
	for (size_t i = 0; i < size; i++)
		slot[i] = (uint8_t)(seed + i);
	queue_push_commit(queue);
	return 0;
}

static void pop_expect(struct queue *queue, size_t size, uint8_t seed)
{
	size_t got;
	uint8_t *entry = queue_pop(queue, &got);
	assert_non_null(entry);
	assert_int_equal(got, size);
	for (size_t i = 0; i < size; i++)
		assert_int_equal(entry[i], (uint8_t)(seed + i));
	queue_pop_release(queue);
}

static void test_fifo_and_sizes(void **state)
{
	(void)state;
	struct queue *queue = queue_new(4096);
	assert_non_null(queue);
	static const size_t sizes[] = { 0, 1, 7, 8, 9, 100, 1000 };
	for (size_t i = 0; i < 7; i++)
		assert_int_equal(push(queue, sizes[i], (uint8_t)i, 0), 0);
	for (size_t i = 0; i < 7; i++)
		pop_expect(queue, sizes[i], (uint8_t)i);
	queue_free(queue);
}

/* Many entries of awkward sizes through a small ring: every wrap position. */
static void test_wrap_around(void **state)
{
	(void)state;
	struct queue *queue = queue_new(256);
	for (unsigned round = 0; round < 2000; round++) {
		size_t a = round % 61, b = (round * 7) % 53;
		assert_int_equal(push(queue, a, (uint8_t)round, 0), 0);
		assert_int_equal(push(queue, b, (uint8_t)(round + 1), 0), 0);
		pop_expect(queue, a, (uint8_t)round);
		pop_expect(queue, b, (uint8_t)(round + 1));
	}
	assert_int_equal(queue_dropped(queue), 0);
	queue_free(queue);
}

/*
 * A reader that keeps up (one entry behind): past the first MiB, the writer
 * goes back to the start of a large ring instead of walking all of it; the
 * entries still come out whole and in order, and the queue's count of
 * bytes waiting is right again once the reader has caught up.
 */
static void test_early_wrap(void **state)
{
	(void)state;
	enum { CAPACITY = 16 << 20, SIZE = 1000 };
	struct queue *queue = queue_new(CAPACITY);
	assert_non_null(queue);
	uint8_t *first = NULL, *lowest = NULL, *highest = NULL;
	unsigned again_at_start = 0;
	for (unsigned i = 0; i < 20000; i++) {
		uint8_t *slot = queue_push_reserve(queue, SIZE, 1);
		assert_non_null(slot);
		for (size_t k = 0; k < SIZE; k++)
			slot[k] = (uint8_t)(i + k);
		queue_push_commit(queue);
		if (!first)
			first = lowest = highest = slot;
		else if (slot == first)
			again_at_start++;
		if (slot < lowest)
			lowest = slot;
		if (slot > highest)
			highest = slot;
		if (i > 0)
			pop_expect(queue, SIZE, (uint8_t)(i - 1));
	}
	assert_true(again_at_start >= 10);
	/* Never far past the first MiB (plus an entry and its header). */
	assert_true((size_t)(highest - lowest) < (1u << 20) + 2 * (SIZE + 16));
	size_t got;
	assert_non_null(queue_pop(queue, &got));
	queue_pop_release(queue);
	assert_int_equal(queue_used(queue), 0);
	queue_free(queue);
}

/*
 * The reader keeps up (one entry behind), then stops: a writer that drops
 * when the ring is full (live capture) still has the whole ring, and one
 * that waits has at least the start of the ring the reader left; what
 * queue_used() says waiting is what was pushed, never the wrap's padding.
 */
static void test_reader_stops(void **state)
{
	(void)state;
	enum { CAPACITY = 16 << 20, SIZE = 1000, ENTRY = SIZE + 8 + 0 };
	for (int wait = 0; wait < 2; wait++) {
		struct queue *queue = queue_new(CAPACITY);
		assert_non_null(queue);
		for (unsigned i = 0; i < 3000; i++) {
			assert_int_equal(push(queue, SIZE, (uint8_t)i, wait), 0);
			if (i > 0)
				pop_expect(queue, SIZE, (uint8_t)(i - 1));
		}
		size_t pushed = 0;
		while (queue_push_reserve(queue, SIZE, 0)) {
			queue_push_commit(queue);
			pushed++;
			/* Waiting: the entries, padded to 8, with their lengths. */
			assert_int_equal(queue_used(queue), (pushed + 1) * (8 + ((SIZE + 7) & ~7u)));
		}
		if (wait)
			assert_true(pushed * SIZE >= (512u << 10));
		else
			assert_true(pushed * SIZE >= CAPACITY / 2 + (CAPACITY / 4));
		queue_free(queue);
	}
}

static void test_full_drops_and_counts(void **state)
{
	(void)state;
	struct queue *queue = queue_new(256);
	int pushed = 0;
	while (push(queue, 24, 1, 0) == 0)
		pushed++;
	/* 32 bytes an entry (8 of length, 24 of data) in 256 bytes. */
	assert_int_equal(pushed, 8);
	assert_int_equal(queue_dropped(queue), 1);
	/* Larger than half the ring: never fits, always dropped. */
	pop_expect(queue, 24, 1);
	assert_null(queue_push_reserve(queue, 200, 0));
	assert_int_equal(queue_dropped(queue), 2);
	queue_free(queue);
}

static void test_close_drains(void **state)
{
	(void)state;
	struct queue *queue = queue_new(1024);
	assert_int_equal(push(queue, 10, 3, 0), 0);
	assert_int_equal(push(queue, 20, 4, 0), 0);
	queue_close(queue);
	assert_null(queue_push_reserve(queue, 10, 1)); /* closed: no waiting */
	pop_expect(queue, 10, 3);
	pop_expect(queue, 20, 4);
	size_t size;
	assert_null(queue_pop(queue, &size));
	queue_free(queue);
}

static void test_bad_capacity(void **state)
{
	(void)state;
	assert_null(queue_new(0));
	assert_null(queue_new(16));
}

enum { STRESS_ENTRIES = 200000 };

static void *producer(void *context)
{
	struct queue *queue = context;
	for (unsigned i = 0; i < STRESS_ENTRIES; i++)
		if (push(queue, i % 300, (uint8_t)i, 1) != 0)
			return (void *)1;
	queue_close(queue);
	return NULL;
}

/* A waiting producer and a consumer on a small ring: nothing lost, nothing reordered. */
static void test_two_threads(void **state)
{
	(void)state;
	struct queue *queue = queue_new(4096);
	pthread_t thread;
	assert_int_equal(pthread_create(&thread, NULL, producer, queue), 0);
	unsigned count = 0;
	size_t size;
	uint8_t *entry;
	while ((entry = queue_pop(queue, &size))) {
		assert_int_equal(size, count % 300);
		for (size_t i = 0; i < size; i++)
			assert_int_equal(entry[i], (uint8_t)(count + i));
		queue_pop_release(queue);
		count++;
	}
	void *result;
	pthread_join(thread, &result);
	assert_null(result);
	assert_int_equal(count, STRESS_ENTRIES);
	assert_int_equal(queue_dropped(queue), 0);
	queue_free(queue);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fifo_and_sizes),
		cmocka_unit_test(test_wrap_around),
		cmocka_unit_test(test_early_wrap),
		cmocka_unit_test(test_reader_stops),
		cmocka_unit_test(test_full_drops_and_counts),
		cmocka_unit_test(test_close_drains),
		cmocka_unit_test(test_bad_capacity),
		cmocka_unit_test(test_two_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
