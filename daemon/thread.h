/*
 * thread: a helper thread that takes no signals. SIGINT, SIGTERM, SIGUSR1
 * and SIGHUP are for the threads that handle them (the capture thread);
 * a thread that only builds, hashes or frees something must not receive
 * them in its place.
 */
#ifndef TRACKWATCH_THREAD_H
#define TRACKWATCH_THREAD_H

#include <pthread.h>
#include <signal.h>

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

#endif
