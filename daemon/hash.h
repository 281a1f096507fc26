/*
 * hash: the in-memory tables' string hash, eight bytes at a time (the
 * store's interned strings, the timeline's caches). Not for anything kept:
 * a table that writes rows back in its slots' order keeps its own.
 */
#ifndef TRACKWATCH_HASH_H
#define TRACKWATCH_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint64_t hash_words(const void *data, size_t len, uint64_t seed)
{
	const char *p = data;
	uint64_t h = seed ^ len * 0x9e3779b97f4a7c15ULL;
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		uint64_t w;
		memcpy(&w, p + i, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 29;
	}
	for (; i < len; i++)
		h = (h ^ (unsigned char)p[i]) * 1099511628211ULL;
	return h ^ (h >> 32);
}

#endif
