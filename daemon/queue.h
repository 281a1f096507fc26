/*
 * queue: a bounded single-producer, single-consumer queue of variable-size
 * entries, between a capture thread and the thread that writes its output
 * (so that a slow disk or pipe, or the cost of formatting JSON, does not hold
 * up capture). Entries are copied in once and read in place.
 *
 * When the queue is full, queue_push() either waits (reading files: nothing
 * is lost) or drops the entry and counts it (live capture: the wire does not
 * wait).
 */
#ifndef TRACKWATCH_QUEUE_H
#define TRACKWATCH_QUEUE_H

#include <stddef.h>
#include <stdint.h>

struct queue;

/* A queue of `capacity` bytes (entries take their size rounded up to 8, plus 8). */
struct queue *queue_new(size_t capacity);
void queue_free(struct queue *queue);

/*
 * Reserves room for an entry of `size` bytes and returns where to write it,
 * or NULL if it cannot be had: the entry is larger than the queue, the queue
 * is closed, or it is full and `wait` is 0 (then it is counted as dropped).
 * Commit the entry with queue_push_commit().
 */
void *queue_push_reserve(struct queue *queue, size_t size, int wait);
void queue_push_commit(struct queue *queue);

/* No more entries: the consumer drains what is there, then sees the end. */
void queue_close(struct queue *queue);

/*
 * Waits for the next entry and returns it (valid, and the reader's to change,
 * until queue_pop_release()), with its size in *size; NULL once the queue is
 * closed and empty.
 */
void *queue_pop(struct queue *queue, size_t *size);
/*
 * The same, waiting at most `timeout_ms` milliseconds (forever when
 * negative): NULL with *timed_out set when none came in time, so that the
 * reader can do timed work (commit a batch) while traffic is quiet.
 */
void *queue_pop_timed(struct queue *queue, size_t *size, int timeout_ms, int *timed_out);
void queue_pop_release(struct queue *queue);

uint64_t queue_dropped(const struct queue *queue);

/* Bytes the entries waiting take now (for `trackwatch status`). */
size_t queue_used(struct queue *queue);

#endif
