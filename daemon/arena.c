/* arena: see arena.h. */
#include "arena.h"

#include <stdlib.h>

/* Below glibc's smallest mmap threshold (128 KiB), so that the pieces come from the arena. */
enum { PIECE = 96 << 10, MAX_PIECES = 128 };

void arena_reserve(size_t bytes)
{
	void *pieces[MAX_PIECES];
	size_t n = 0;
	for (size_t got = 0; got < bytes && n < MAX_PIECES; got += PIECE) {
		pieces[n] = malloc(PIECE);
		if (!pieces[n])
			break;
		n++;
	}
	/* Given back in order: each merges with the one before, the last with the arena's top, which is trimmed once. */
	for (size_t i = 0; i < n; i++)
		free(pieces[i]);
}
