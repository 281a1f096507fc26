/*
 * progress: a progress line on standard error while capture files are read,
 * when standard error is a terminal: the share of the bytes read, the bytes,
 * the packets a second and the time left, redrawn four times a second and
 * only once a run has taken a second (a small file shows nothing). Cleared
 * at the end, so that the statistics print on a clean line.
 */
#ifndef TRACKWATCH_PROGRESS_H
#define TRACKWATCH_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct progress {
	FILE *out;               /* NULL: off */
	uint64_t total_bytes;    /* of all the files; 0 when not known (a pipe) */
	uint64_t started_us, next_us;
	bool drawn;
};

/* Off unless `out` is a terminal; `total_bytes` 0 shows bytes and rate only. */
void progress_init(struct progress *p, FILE *out, uint64_t total_bytes);
/* `bytes` read of all the files so far, `packets` so far: redraws when due. */
void progress_update(struct progress *p, uint64_t bytes, uint64_t packets);
/* Clears the line (when drawn). */
void progress_end(struct progress *p);

/* The line for these numbers into `out` (for the tests): 0..100 % etc. */
void progress_format(char *out, size_t size, uint64_t bytes, uint64_t total_bytes,
		     uint64_t packets, uint64_t elapsed_us);

#endif
