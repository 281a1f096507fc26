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
		cmocka_unit_test(test_full_drops_and_counts),
		cmocka_unit_test(test_close_drains),
		cmocka_unit_test(test_bad_capacity),
		cmocka_unit_test(test_two_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
