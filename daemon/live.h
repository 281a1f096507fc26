/*
 * live: capture on several interfaces at once. Each interface is a source
 * that is open or waiting to be opened again: one that cannot be opened, or
 * whose capture fails (the interface went away), is retried after 1 s, then
 * 2, 4, ... up to 60 s, and its failures are logged without ending the
 * daemon. The kernel's counters (pcap_stats) are kept across reopenings.
 */
#ifndef TRACKWATCH_LIVE_H
#define TRACKWATCH_LIVE_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>

#include "capture.h"

enum { LIVE_SOURCES_MAX = 64, LIVE_RETRY_MAX_S = 60, LIVE_BATCH = 256, LIVE_DRAIN_ROUNDS = 4096 };

struct live_source {
	char *name;
	struct capture *capture;     /* NULL while waiting to be opened again */
	int fd;                      /* its descriptor to poll (made non-blocking once, at opening) */
	uint64_t retry_at_us;        /* when closed: the next attempt */
	unsigned backoff_s;
	unsigned failures;           /* attempts that failed since it last worked */
	char error[CAPTURE_ERROR_MAX]; /* the last failure, "" when none */
	/*
	 * pcap_stats, summed over the handles and kept in 64 bits: the kernel's
	 * counters are 32-bit and wrap (in about 3 hours at 370,000 packets a
	 * second), so they are sampled (live_sample(), twice a second) and the
	 * differences added.
	 */
	uint64_t received, dropped, if_dropped;
	uint32_t last_received, last_dropped, last_if_dropped; /* the open handle's, as last read */
	uint64_t frames;             /* frames read, all handles */
};

struct live {
	struct live_source sources[LIVE_SOURCES_MAX];
	size_t count;
	char *filter;                /* BPF filter of every source, or NULL */
	int slot_of[LIVE_SOURCES_MAX]; /* poll descriptors -> sources (live_pollfds) */
};

/* Sets up the sources (nothing opened yet); 0, or -1 out of memory. */
int live_init(struct live *live, char *const *names, size_t count, const char *filter);

/*
 * Opens the sources that are due (all of them the first time), logging
 * each failure and each recovery. `now_us` is the wall clock. Returns how
 * many are open.
 */
size_t live_open_due(struct live *live, uint64_t now_us);

/* Adds each open source's descriptor to `fds`; returns how many. */
size_t live_pollfds(struct live *live, struct pollfd *fds);

/*
 * Reads what the polled sources have (at most LIVE_BATCH frames each).
 * A source whose read fails is closed and retried. Returns the frames read.
 */
size_t live_dispatch(struct live *live, const struct pollfd *fds, size_t count,
		     capture_frame_fn on_frame, void *context, uint64_t now_us);

/*
 * At the end: reads what the kernel already holds for each open source
 * (packets it counted as received), at most LIVE_DRAIN_ROUNDS batches each,
 * so that a stop loses nothing the kernel took in. Returns the frames read.
 */
size_t live_drain(struct live *live, capture_frame_fn on_frame, void *context);

/* Reads every open handle's counters into the 64-bit totals (call often enough: see above). */
void live_sample(struct live *live);

/* The counters of a source, its open handle's included. */
void live_counters(struct live *live, size_t i, uint64_t *received, uint64_t *dropped,
		   uint64_t *if_dropped);

/* The soonest retry of a closed source, or UINT64_MAX when all are open. */
uint64_t live_next_retry(const struct live *live);

void live_free(struct live *live);

#endif
