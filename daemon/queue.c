/*
 * queue: a ring of bytes. Each entry is an 8-byte length, then the entry,
 * padded to 8; an entry never wraps: if it does not fit before the end of the
 * ring, a length of WRAP sends the reader back to the start. The mutex guards
 * only the head and tail; entries are written and read outside it, in space
 * that only one side may touch at a time.
 *
 * An empty ring starts again at its beginning, and a writer that waits when
 * the ring is full goes back to it early, past its first MiB, when the
 * reader is near (see queue_push_reserve()): a reader that keeps up
 * then has both sides work in the same few pages. The wrap padding is
 * counted as used (room) until the reader passes it, but not as waiting to
 * be read (the reader's wake-up, queue_used()).
 *
 * The two sides wake each other in batches, not per entry: the reader is woken
 * when READER_BATCH bytes (at most an eighth of the ring) are waiting, or
 * after at most READER_NAP_MS, the writer when half of the ring is free.
 * Waking per entry would cost two context switches an entry; waking later
 * leaves the reader further behind, and what it has not read when the
 * writer is done is the run's last milliseconds.
 */
#include "queue.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { ALIGN = 8, READER_NAP_MS = 100, READER_BATCH = 256 << 10, EARLY_WRAP = 1 << 20 };
#define WRAP UINT64_MAX

struct queue {
	uint8_t *ring;
	size_t capacity;
	size_t head;      /* next entry to read */
	size_t tail;      /* where the next entry goes */
	size_t used;      /* bytes between head and tail, wrap padding included */
	size_t skipped;   /* of which wrap padding (bytes at the end of the ring left unused) */
	size_t reserved;  /* bytes taken by the entry being written (0: none) */
	size_t reserved_at;
	size_t popped;    /* bytes of the entry being read (0: none) */
	size_t popped_skip; /* of which wrap padding */
	int closed;
	int reader_waiting, writer_waiting;
	uint64_t dropped;
	pthread_mutex_t lock;
	pthread_cond_t not_empty;
	pthread_cond_t not_full;
};

static size_t padded(size_t size)
{
	return ALIGN + ((size + ALIGN - 1) & ~(size_t)(ALIGN - 1));
}

struct queue *queue_new(size_t capacity)
{
	capacity &= ~(size_t)(ALIGN - 1);
	if (capacity < 4 * ALIGN)
		return NULL;
	struct queue *queue = calloc(1, sizeof *queue);
	if (!queue)
		return NULL;
	queue->ring = malloc(capacity);
	if (!queue->ring) {
		free(queue);
		return NULL;
	}
	queue->capacity = capacity;
	pthread_mutex_init(&queue->lock, NULL);
	/* The reader's nap is timed on the monotonic clock: a stepped wall clock must not stall it. */
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&queue->not_empty, &attr);
	pthread_condattr_destroy(&attr);
	pthread_cond_init(&queue->not_full, NULL);
	return queue;
}

void queue_free(struct queue *queue)
{
	if (!queue)
		return;
	pthread_mutex_destroy(&queue->lock);
	pthread_cond_destroy(&queue->not_empty);
	pthread_cond_destroy(&queue->not_full);
	free(queue->ring);
	free(queue);
}

/* Bytes an entry of `need` bytes takes at the tail, counting a wrap. Locked. */
static size_t cost_at_tail(const struct queue *queue, size_t need)
{
	size_t to_end = queue->capacity - queue->tail;
	return need <= to_end ? need : to_end + need;
}

void *queue_push_reserve(struct queue *queue, size_t size, int wait)
{
	size_t need = padded(size);
	/* Room for the entry and a wrap marker, whatever the tail's position. */
	if (need > queue->capacity / 2) {
		pthread_mutex_lock(&queue->lock);
		queue->dropped++;
		pthread_mutex_unlock(&queue->lock);
		return NULL;
	}
	pthread_mutex_lock(&queue->lock);
	/*
	 * An empty ring starts again at its beginning: a reader that keeps up
	 * then works in the same few pages, still in the caches, instead of
	 * walking the whole ring (and faulting in each page of it once).
	 */
	if (queue->used == 0)
		queue->head = queue->tail = 0;
	while (!queue->closed && queue->used + cost_at_tail(queue, need) > queue->capacity) {
		if (!wait) {
			queue->dropped++;
			pthread_mutex_unlock(&queue->lock);
			return NULL;
		}
		queue->writer_waiting = 1;
		pthread_cond_wait(&queue->not_full, &queue->lock);
		queue->writer_waiting = 0;
	}
	if (queue->closed) {
		pthread_mutex_unlock(&queue->lock);
		return NULL;
	}
	size_t at = queue->tail;
	size_t cost = cost_at_tail(queue, need);
	/*
	 * Past EARLY_WRAP with the reader near (half of that behind at most):
	 * back to the start before the end, so that a reader that keeps up has
	 * the writer work in the same first MiB or so of the ring, in the
	 * caches, rather than walk (and fault in) all of it. Until the reader
	 * passes the wrap, the room is only the start of the ring it has left
	 * (half a MiB at least): so only for a writer that waits when the ring
	 * is full (a file run), never for one that would drop entries (live
	 * capture).
	 */
	if (wait && cost == need && at >= EARLY_WRAP && at > queue->head &&
	    at - queue->head <= EARLY_WRAP / 2 && queue->head >= need)
		cost = queue->capacity - at + need;
	pthread_mutex_unlock(&queue->lock);

	if (cost != need) {
		/* Not enough room before the end: mark the wrap, write at the start. */
		if (queue->capacity - at >= ALIGN) {
			uint64_t marker = WRAP;
			memcpy(queue->ring + at, &marker, sizeof marker);
		}
		at = 0;
	}
	uint64_t length = size;
	memcpy(queue->ring + at, &length, sizeof length);
	queue->reserved = cost;
	queue->reserved_at = at;
	return queue->ring + at + ALIGN;
}

void queue_push_commit(struct queue *queue)
{
	pthread_mutex_lock(&queue->lock);
	queue->used += queue->reserved;
	size_t entry = padded(*(uint64_t *)(void *)(queue->ring + queue->reserved_at));
	queue->skipped += queue->reserved - entry;
	queue->tail = queue->reserved_at + entry;
	if (queue->tail == queue->capacity)
		queue->tail = 0;
	queue->reserved = 0;
	if (queue->reader_waiting && queue->used - queue->skipped >=
					     (queue->capacity / 8 < READER_BATCH ? queue->capacity / 8 : READER_BATCH))
		pthread_cond_signal(&queue->not_empty);
	pthread_mutex_unlock(&queue->lock);
}

void queue_close(struct queue *queue)
{
	pthread_mutex_lock(&queue->lock);
	queue->closed = 1;
	pthread_cond_broadcast(&queue->not_empty);
	pthread_cond_broadcast(&queue->not_full);
	pthread_mutex_unlock(&queue->lock);
}

/* Waits up to `timeout_ms` (forever when negative) for an entry; sets *timed_out when it gave up. */
void *queue_pop_timed(struct queue *queue, size_t *size, int timeout_ms, int *timed_out)
{
	struct timespec deadline;
	int have_deadline = 0;
	if (timed_out)
		*timed_out = 0;
	pthread_mutex_lock(&queue->lock);
	while (queue->used == 0 && !queue->closed) {
		/* The deadline is read from the clock only when there is something to wait for. */
		if (!have_deadline) {
			have_deadline = 1;
			clock_gettime(CLOCK_MONOTONIC, &deadline);
			if (timeout_ms >= 0) {
				deadline.tv_sec += timeout_ms / 1000;
				deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
				if (deadline.tv_nsec >= 1000000000L) {
					deadline.tv_sec++;
					deadline.tv_nsec -= 1000000000L;
				}
			}
		}
		/* A nap, not a wait for a signal: a trickle of entries is still written soon. */
		struct timespec until;
		clock_gettime(CLOCK_MONOTONIC, &until);
		if (timeout_ms >= 0 && (until.tv_sec > deadline.tv_sec ||
					(until.tv_sec == deadline.tv_sec && until.tv_nsec >= deadline.tv_nsec))) {
			if (timed_out)
				*timed_out = 1;
			break;
		}
		until.tv_nsec += READER_NAP_MS * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		if (timeout_ms >= 0 && (until.tv_sec > deadline.tv_sec ||
					(until.tv_sec == deadline.tv_sec && until.tv_nsec > deadline.tv_nsec)))
			until = deadline;
		queue->reader_waiting = 1;
		pthread_cond_timedwait(&queue->not_empty, &queue->lock, &until);
		queue->reader_waiting = 0;
	}
	if (queue->used == 0) {
		pthread_mutex_unlock(&queue->lock);
		return NULL;
	}
	size_t at = queue->head;
	pthread_mutex_unlock(&queue->lock);

	size_t skipped = 0;
	uint64_t length = WRAP;
	if (queue->capacity - at >= ALIGN)
		memcpy(&length, queue->ring + at, sizeof length);
	if (length == WRAP) {
		skipped = queue->capacity - at;
		at = 0;
		memcpy(&length, queue->ring, sizeof length);
	}
	queue->popped = skipped + padded((size_t)length);
	queue->popped_skip = skipped;
	*size = (size_t)length;
	return queue->ring + at + ALIGN;
}

void *queue_pop(struct queue *queue, size_t *size)
{
	return queue_pop_timed(queue, size, -1, NULL);
}

void queue_pop_release(struct queue *queue)
{
	pthread_mutex_lock(&queue->lock);
	queue->head = (queue->head + queue->popped) % queue->capacity;
	queue->used -= queue->popped;
	queue->skipped -= queue->popped_skip;
	queue->popped = 0;
	queue->popped_skip = 0;
	if (queue->writer_waiting && queue->used <= queue->capacity / 2)
		pthread_cond_signal(&queue->not_full);
	pthread_mutex_unlock(&queue->lock);
}

uint64_t queue_dropped(const struct queue *queue)
{
	struct queue *q = (struct queue *)queue;
	pthread_mutex_lock(&q->lock);
	uint64_t dropped = q->dropped;
	pthread_mutex_unlock(&q->lock);
	return dropped;
}

size_t queue_used(struct queue *queue)
{
	pthread_mutex_lock(&queue->lock);
	size_t used = queue->used - queue->skipped;
	pthread_mutex_unlock(&queue->lock);
	return used;
}
