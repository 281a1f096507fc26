/*
 * arena: a thread's malloc arena grown once to a size it will need.
 *
 * glibc grows a thread's arena (not the main one) a page at a time, each
 * page with an mprotect() that, in a process with several threads, also
 * interrupts the others' cores to flush their TLBs: nDPI's start-up alone
 * made about a thousand of them. Taking and giving back `bytes` in pieces
 * just below the mmap threshold grows the arena one piece (24 pages) per
 * call; the pages given back are returned to the system (the arena is
 * trimmed) but stay writable, so that later growth up to that size costs
 * no mprotect(). Worth it only where growth comes a page at a time.
 */
#ifndef TRACKWATCH_ARENA_H
#define TRACKWATCH_ARENA_H

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

void arena_reserve(size_t bytes);

/*
 * calloc(1, size) for a small structure made and freed over and over (a
 * flow's, a stream's): malloc() and then zeroed. glibc's calloc() does not
 * take from the thread's cache of freed chunks (tcache) as malloc() does,
 * so each call went the allocator's slow way, and freed chunks piled up in
 * its fast bins for malloc_consolidate() to sort. The empty asm keeps the
 * compiler from turning the pair back into calloc().
 */
static inline void *arena_zalloc(size_t size)
{
	void *p = malloc(size);
	if (p) {
		__asm__ volatile("" : : "r"(p) : "memory");
		memset(p, 0, size);
	}
	return p;
}

#endif
