/*
 * thread: a helper thread that takes no signals, and tables of a thread's own.
 *
 * A helper thread takes no signals. SIGINT, SIGTERM, SIGUSR1
 * and SIGHUP are for the threads that handle them (the capture thread);
 * a thread that only builds, hashes or frees something must not receive
 * them in its place.
 */
#ifndef TRACKWATCH_THREAD_H
#define TRACKWATCH_THREAD_H

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>

/* pthread_create() with every signal blocked in the new thread: 1 when it started, else 0. */
static inline int thread_start_quiet(pthread_t *thread, void *(*start)(void *), void *context)
{
	sigset_t all, previous;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &previous);
	int started = pthread_create(thread, NULL, start, context) == 0;
	pthread_sigmask(SIG_SETMASK, &previous, NULL);
	return started;
}

/*
 * A table each thread makes at its first use (zeroed), handed to `destroy`
 * when the thread ends: for caches too large to be thread-local arrays,
 * which every thread would zero at its start. Declared with
 * THREAD_TABLE_INIT(destroy); the key is made at the first call.
 */
struct thread_table {
	pthread_mutex_t lock;
	int state; /* 0: no key yet, 1: made, -1: could not be made */
	pthread_key_t key;
	void (*destroy)(void *);
};
#define THREAD_TABLE_INIT(destroy) { PTHREAD_MUTEX_INITIALIZER, 0, 0, (destroy) }

/* The calling thread's new table of `size` bytes, or NULL when it cannot be made. */
static inline void *thread_table_make(struct thread_table *t, size_t size)
{
	pthread_mutex_lock(&t->lock);
	if (t->state == 0)
		t->state = pthread_key_create(&t->key, t->destroy) == 0 ? 1 : -1;
	int ready = t->state == 1;
	pthread_mutex_unlock(&t->lock);
	void *table = ready ? calloc(1, size) : NULL;
	if (table && pthread_setspecific(t->key, table) != 0) {
		free(table);
		table = NULL;
	}
	return table;
}

#endif
