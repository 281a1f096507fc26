/*
 * dnscache: the names devices resolved, by address. DNS, mDNS and LLMNR
 * answers (A and AAAA records) fill it; a flow that carries no name of its
 * own (Encrypted Client Hello, a bare address, a protocol we do not read) is
 * attributed to the name the device asked for before connecting.
 *
 * Keyed by the answered address alone, not by the asking device: a device
 * often asks over IPv4 and connects over IPv6, or through the router's
 * resolver. When several names resolve to one address (a CDN), the latest
 * answer wins, as it is the one a connection that follows was made for.
 *
 * Bounded: a fixed number of entries, set-associative; a full set loses its
 * entry closest to expiry. Nothing is allocated after dns_cache_new().
 */
#ifndef TRACKWATCH_DNSCACHE_H
#define TRACKWATCH_DNSCACHE_H

#include <stddef.h>
#include <stdint.h>

enum {
	DNS_CACHE_NAME_MAX = 256,        /* a name of up to 255 bytes and its NUL */
	DNS_CACHE_MIN_TTL_S = 600,       /* connections outlive short TTLs */
	DNS_CACHE_MAX_TTL_S = 86400,
};

struct dns_cache;

/*
 * A cache of `entries` names (rounded up to a multiple of 8); NULL when out
 * of memory. `seed` places addresses in sets: a secret random one where the
 * sender could aim answers at one set (live capture), a fixed one where runs
 * must give the same output (files).
 */
struct dns_cache *dns_cache_new(size_t entries, uint64_t seed);
void dns_cache_free(struct dns_cache *cache);

/*
 * `addr` (4 bytes for IPv4, 16 for IPv6) was given as an address of `name`
 * at `now_us`, to be kept for `ttl` seconds, clamped to the bounds above.
 * `name` is cut to DNS_CACHE_NAME_MAX - 1 bytes.
 */
void dns_cache_put(struct dns_cache *cache, const uint8_t *addr, size_t addr_len,
		   const char *name, uint32_t ttl, uint64_t now_us);

/* The latest name `addr` was given for and still valid at `now_us`, or NULL. */
const char *dns_cache_get(struct dns_cache *cache, const uint8_t *addr, size_t addr_len,
			  uint64_t now_us);

struct dns_cache_stats {
	uint64_t puts, hits, misses, replaced; /* replaced: a live entry lost for room */
};
const struct dns_cache_stats *dns_cache_stats(const struct dns_cache *cache);

#endif
