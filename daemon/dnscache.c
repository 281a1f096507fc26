/*
 * dnscache: a set-associative table of address -> name, eight ways per set.
 * See dnscache.h.
 */
#include "dnscache.h"

#include <stdlib.h>
#include <string.h>

/* Eight ways: with four, sets filled up at about a third of the entries. */
enum { WAYS = 8 };

struct dns_cache_entry {
	uint8_t addr[16];
	uint8_t addr_len;        /* 0: empty */
	uint64_t expires_us;
	char name[DNS_CACHE_NAME_MAX];
};

struct dns_cache {
	size_t sets;
	uint64_t seed;
	struct dns_cache_stats stats;
	struct dns_cache_entry entries[];
};

struct dns_cache *dns_cache_new(size_t entries, uint64_t seed)
{
	size_t sets = entries / WAYS + (entries % WAYS != 0);
	if (sets == 0)
		sets = 1;
	if (sets > SIZE_MAX / WAYS / sizeof(struct dns_cache_entry))
		return NULL;
	/* calloc: pages of entries never used are never touched. */
	struct dns_cache *cache = calloc(1, sizeof *cache + sets * WAYS * sizeof cache->entries[0]);
	if (!cache)
		return NULL;
	cache->sets = sets;
	cache->seed = seed;
	return cache;
}

void dns_cache_free(struct dns_cache *cache)
{
	free(cache);
}

/*
 * FNV-1a over the address, from a secret seed, then mixed: answers come from
 * the wire, and a seed the sender cannot guess keeps it from filling one set.
 */
static struct dns_cache_entry *set_of(struct dns_cache *cache, const uint8_t *addr,
				      size_t addr_len)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ cache->seed;
	for (size_t i = 0; i < addr_len; i++)
		h = (h ^ addr[i]) * 0x100000001b3ULL;
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 32;
	return &cache->entries[(h % cache->sets) * WAYS];
}

static int same_addr(const struct dns_cache_entry *e, const uint8_t *addr, size_t addr_len)
{
	return e->addr_len == addr_len && memcmp(e->addr, addr, addr_len) == 0;
}

void dns_cache_put(struct dns_cache *cache, const uint8_t *addr, size_t addr_len,
		   const char *name, uint32_t ttl, uint64_t now_us)
{
	if ((addr_len != 4 && addr_len != 16) || !name[0])
		return;
	cache->stats.puts++;
	if (ttl < DNS_CACHE_MIN_TTL_S)
		ttl = DNS_CACHE_MIN_TTL_S;
	if (ttl > DNS_CACHE_MAX_TTL_S)
		ttl = DNS_CACHE_MAX_TTL_S;
	struct dns_cache_entry *set = set_of(cache, addr, addr_len), *slot = NULL;
	for (int i = 0; i < WAYS && !slot; i++)
		if (same_addr(&set[i], addr, addr_len))
			slot = &set[i];
	/* Else an empty or expired way, else the one that expires first. */
	for (int i = 0; i < WAYS && !slot; i++)
		if (set[i].addr_len == 0 || set[i].expires_us <= now_us)
			slot = &set[i];
	if (!slot) {
		slot = &set[0];
		for (int i = 1; i < WAYS; i++)
			if (set[i].expires_us < slot->expires_us)
				slot = &set[i];
		cache->stats.replaced++;
	}
	memcpy(slot->addr, addr, addr_len);
	slot->addr_len = (uint8_t)addr_len;
	slot->expires_us = now_us + (uint64_t)ttl * 1000000;
	size_t len = strnlen(name, DNS_CACHE_NAME_MAX - 1);
	memcpy(slot->name, name, len);
	slot->name[len] = '\0';
}

const char *dns_cache_get(struct dns_cache *cache, const uint8_t *addr, size_t addr_len,
			  uint64_t now_us)
{
	if (addr_len == 4 || addr_len == 16) {
		struct dns_cache_entry *set = set_of(cache, addr, addr_len);
		for (int i = 0; i < WAYS; i++) {
			if (same_addr(&set[i], addr, addr_len) && set[i].expires_us > now_us) {
				cache->stats.hits++;
				return set[i].name;
			}
		}
	}
	cache->stats.misses++;
	return NULL;
}

const struct dns_cache_stats *dns_cache_stats(const struct dns_cache *cache)
{
	return &cache->stats;
}
