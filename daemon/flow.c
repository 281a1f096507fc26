/*
 * flow: a chained hash table of bidirectional flows with three LRU lists
 * (open TCP, UDP, closed TCP). Packets come in time order, so moving a flow
 * to the tail of its list on every packet keeps each list ordered by last
 * activity: expiry looks only at list heads, eviction takes the oldest head.
 *
 * The hash is SipHash-1-3 under a random per-table key, so that traffic
 * crafted to collide on one bucket cannot turn lookups linear.
 */
#include "flow.h"

#include <stdlib.h>
#include <endian.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "arena.h"

enum { LRU_TCP = 0, LRU_UDP = 1, LRU_CLOSED = 2, LRU_COUNT = 3 };

struct lru_list {
	struct flow *head, *tail;
};

struct flow_table {
	struct flow_table_config config;
	struct flow **buckets;
	size_t bucket_mask;
	struct lru_list lru[LRU_COUNT];
	uint64_t seed[2];
	uint64_t next_id;
	flow_end_fn on_end;
	void *context;
	struct flow_table_stats stats;
	/* The flow of the latest packet: packets come in runs of one flow. */
	struct flow *last;
};

/*
 * SipHash-1-3 (Aumasson and Bernstein; the variant Rust and Python use for
 * their hash tables), over a byte string.
 */
static inline uint64_t rotl64(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

#define SIPROUND(v0, v1, v2, v3)                                                         \
	do {                                                                             \
		v0 += v1; v1 = rotl64(v1, 13); v1 ^= v0; v0 = rotl64(v0, 32);            \
		v2 += v3; v3 = rotl64(v3, 16); v3 ^= v2;                                 \
		v0 += v3; v3 = rotl64(v3, 21); v3 ^= v0;                                 \
		v2 += v1; v1 = rotl64(v1, 17); v1 ^= v2; v2 = rotl64(v2, 32);            \
	} while (0)

static inline uint64_t load_le64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, sizeof v);
	return le64toh(v);
}

static uint64_t siphash13(const uint64_t key[2], const uint8_t *data, size_t len)
{
	uint64_t v0 = 0x736f6d6570736575ULL ^ key[0];
	uint64_t v1 = 0x646f72616e646f6dULL ^ key[1];
	uint64_t v2 = 0x6c7967656e657261ULL ^ key[0];
	uint64_t v3 = 0x7465646279746573ULL ^ key[1];
	size_t full = len & ~(size_t)7;
	for (size_t i = 0; i < full; i += 8) {
		uint64_t m = load_le64(data + i);
		v3 ^= m;
		SIPROUND(v0, v1, v2, v3);
		v0 ^= m;
	}
	uint64_t last = (uint64_t)len << 56;
	for (size_t i = 0; i < (len & 7); i++)
		last |= (uint64_t)data[full + i] << (8 * i);
	v3 ^= last;
	SIPROUND(v0, v1, v2, v3);
	v0 ^= last;
	v2 ^= 0xff;
	for (int i = 0; i < 3; i++)
		SIPROUND(v0, v1, v2, v3);
	return v0 ^ v1 ^ v2 ^ v3;
}

uint64_t flow_table_hash(const struct flow_table *table, const struct flow_key *key)
{
	return siphash13(table->seed, (const uint8_t *)key, sizeof *key);
}

struct flow_table *flow_table_new(const struct flow_table_config *config,
				  flow_end_fn on_end, void *context)
{
	if (config->max_flows == 0)
		return NULL;
	struct flow_table *table = calloc(1, sizeof *table);
	if (!table)
		return NULL;
	table->config = *config;
	/* About one bucket per flow at the bound, a power of two. */
	size_t buckets = 1024;
	while (buckets < config->max_flows && buckets < ((size_t)1 << 30))
		buckets <<= 1;
	table->buckets = calloc(buckets, sizeof *table->buckets);
	if (!table->buckets) {
		free(table);
		return NULL;
	}
	table->bucket_mask = buckets - 1;
	if (getrandom(table->seed, sizeof table->seed, 0) != (ssize_t)sizeof table->seed) {
		/* No entropy source: fall back to something that still differs per run. */
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		table->seed[0] = (uint64_t)ts.tv_nsec * 0x9e3779b97f4a7c15ULL;
		table->seed[1] = (uint64_t)ts.tv_sec ^ (uint64_t)(uintptr_t)table;
	}
	table->on_end = on_end;
	table->context = context;
	table->next_id = 1;
	return table;
}

static void lru_unlink(struct flow_table *table, struct flow *flow)
{
	struct lru_list *list = &table->lru[flow->lru];
	if (flow->lru_prev)
		flow->lru_prev->lru_next = flow->lru_next;
	else
		list->head = flow->lru_next;
	if (flow->lru_next)
		flow->lru_next->lru_prev = flow->lru_prev;
	else
		list->tail = flow->lru_prev;
	flow->lru_prev = flow->lru_next = NULL;
}

static void lru_append(struct flow_table *table, struct flow *flow, uint8_t which)
{
	struct lru_list *list = &table->lru[which];
	flow->lru = which;
	flow->lru_next = NULL;
	flow->lru_prev = list->tail;
	if (list->tail)
		list->tail->lru_next = flow;
	else
		list->head = flow;
	list->tail = flow;
}

/* The one place a flow is freed. */
static void flow_end(struct flow_table *table, struct flow *flow, enum flow_end_reason reason)
{
	struct flow **link = &table->buckets[flow->hash & table->bucket_mask];
	while (*link != flow)
		link = &(*link)->hash_next;
	*link = flow->hash_next;
	if (table->last == flow)
		table->last = NULL;
	lru_unlink(table, flow);
	if (table->on_end)
		table->on_end(table->context, flow, reason);
	switch (reason) {
	case FLOW_END_IDLE: table->stats.expired++; break;
	case FLOW_END_CLOSED: table->stats.closed++; break;
	case FLOW_END_EVICTED: table->stats.evicted++; break;
	case FLOW_END_FLUSH: table->stats.flushed++; break;
	}
	table->stats.active--;
	free(flow);
}

void flow_table_flush(struct flow_table *table)
{
	for (int i = 0; i < LRU_COUNT; i++)
		while (table->lru[i].head)
			flow_end(table, table->lru[i].head, FLOW_END_FLUSH);
}

void flow_table_free(struct flow_table *table)
{
	if (!table)
		return;
	flow_table_flush(table);
	free(table->buckets);
	free(table);
}

static uint64_t list_timeout(const struct flow_table *table, int which)
{
	switch (which) {
	case LRU_TCP: return table->config.tcp_timeout_us;
	case LRU_UDP: return table->config.udp_timeout_us;
	default: return table->config.tcp_closed_timeout_us;
	}
}

void flow_table_expire(struct flow_table *table, uint64_t now_us)
{
	for (int i = 0; i < LRU_COUNT; i++) {
		uint64_t timeout = list_timeout(table, i);
		struct flow *flow;
		while ((flow = table->lru[i].head) && flow->last_us + timeout <= now_us)
			flow_end(table, flow, i == LRU_CLOSED ? FLOW_END_CLOSED : FLOW_END_IDLE);
	}
}

/* Ends the least recently used flow of all lists, to make room. */
static void evict_one(struct flow_table *table)
{
	struct flow *oldest = NULL;
	for (int i = 0; i < LRU_COUNT; i++) {
		struct flow *head = table->lru[i].head;
		if (head && (!oldest || head->last_us < oldest->last_us))
			oldest = head;
	}
	if (oldest)
		flow_end(table, oldest, FLOW_END_EVICTED);
}

static void make_key(const struct decoded_packet *packet, struct flow_key *key, int *src_is_lo)
{
	memset(key, 0, sizeof *key);
	int order = memcmp(packet->src_addr, packet->dst_addr, 16);
	int lo = order < 0 || (order == 0 && packet->src_port <= packet->dst_port);
	if (lo) {
		memcpy(key->addr_lo, packet->src_addr, 16);
		memcpy(key->addr_hi, packet->dst_addr, 16);
		key->port_lo = packet->src_port;
		key->port_hi = packet->dst_port;
	} else {
		memcpy(key->addr_lo, packet->dst_addr, 16);
		memcpy(key->addr_hi, packet->src_addr, 16);
		key->port_lo = packet->dst_port;
		key->port_hi = packet->src_port;
	}
	key->ip_version = packet->ip_version;
	key->l4_proto = packet->l4_proto;
	*src_is_lo = lo;
}

/*
 * Which side is the client of a new flow: the sender of a SYN, the receiver
 * of a SYN-ACK; without a handshake, the side with the higher (ephemeral)
 * port; with equal ports, the sender of the first packet.
 */
static int sender_is_client(const struct decoded_packet *packet)
{
	if (packet->l4_proto == 6 && (packet->tcp_flags & DECODE_TCP_SYN))
		return !(packet->tcp_flags & DECODE_TCP_ACK);
	if (packet->src_port != packet->dst_port)
		return packet->src_port > packet->dst_port;
	return 1;
}

static struct flow *find(struct flow_table *table, const struct flow_key *key, uint64_t hash)
{
	for (struct flow *flow = table->buckets[hash & table->bucket_mask]; flow;
	     flow = flow->hash_next)
		if (flow->hash == hash && memcmp(&flow->key, key, sizeof *key) == 0)
			return flow;
	return NULL;
}

static int tcp_closed(const struct flow *flow)
{
	return flow->rst_seen || (flow->fin_seen[0] && flow->fin_seen[1]);
}

/*
 * Whether the packet is of `flow`, and which way (*src_is_lo as make_key()
 * would set it): its key compared directly, without hashing.
 */
static int same_flow(const struct flow *flow, const struct decoded_packet *packet, int *src_is_lo)
{
	const struct flow_key *k = &flow->key;
	if (k->l4_proto != packet->l4_proto || k->ip_version != packet->ip_version)
		return 0;
	if (k->port_lo == packet->src_port && k->port_hi == packet->dst_port &&
	    memcmp(k->addr_lo, packet->src_addr, 16) == 0 && memcmp(k->addr_hi, packet->dst_addr, 16) == 0) {
		*src_is_lo = 1;
		return 1;
	}
	if (k->port_lo == packet->dst_port && k->port_hi == packet->src_port &&
	    memcmp(k->addr_lo, packet->dst_addr, 16) == 0 && memcmp(k->addr_hi, packet->src_addr, 16) == 0) {
		*src_is_lo = 0;
		return 1;
	}
	return 0;
}

struct flow *flow_table_lookup(struct flow_table *table, const struct decoded_packet *packet,
			       uint64_t now_us, enum flow_direction *direction)
{
	struct flow_key key;
	int src_is_lo;
	uint64_t hash = 0;
	struct flow *flow = table->last;
	int have_key = 0;
	if (!flow || !same_flow(flow, packet, &src_is_lo)) {
		make_key(packet, &key, &src_is_lo);
		hash = flow_table_hash(table, &key);
		flow = find(table, &key, hash);
		have_key = 1;
	}
	int is_tcp = packet->l4_proto == 6;
	int fresh_syn = is_tcp && (packet->tcp_flags & (DECODE_TCP_SYN | DECODE_TCP_ACK)) == DECODE_TCP_SYN;

	/*
	 * A new SYN on a closed connection, or one whose sequence number is not
	 * the SYN this side sent before (a FIN or RST we missed, a port reused
	 * while the old flow idled), is a new connection.
	 */
	if (flow && fresh_syn) {
		enum flow_direction dir = (src_is_lo == flow->client_is_lo) ? FLOW_TO_SERVER
									    : FLOW_TO_CLIENT;
		if (tcp_closed(flow) || (flow->has_isn[dir] && flow->isn[dir] != packet->tcp_seq)) {
			flow_end(table, flow, FLOW_END_CLOSED);
			flow = NULL;
		}
	}
	if (!flow) {
		if (!have_key) { /* the latest flow, ended above: the same key again */
			make_key(packet, &key, &src_is_lo);
			hash = flow_table_hash(table, &key);
		}
		if (table->stats.active >= table->config.max_flows)
			evict_one(table);
		flow = arena_zalloc(sizeof *flow);
		if (!flow)
			return NULL;
		flow->key = key;
		flow->hash = hash;
		flow->id = table->next_id++;
		flow->first_us = now_us;
		int client = sender_is_client(packet);
		flow->client_is_lo = (uint8_t)(client ? src_is_lo : !src_is_lo);
		struct flow **bucket = &table->buckets[hash & table->bucket_mask];
		flow->hash_next = *bucket;
		*bucket = flow;
		lru_append(table, flow, is_tcp ? LRU_TCP : LRU_UDP);
		table->stats.created++;
		if (++table->stats.active > table->stats.peak_active)
			table->stats.peak_active = table->stats.active;
	} else if (table->lru[flow->lru].tail != flow) {
		/* To the tail (the most recent) of its list; a run of packets finds it there. */
		lru_unlink(table, flow);
		lru_append(table, flow, flow->lru);
	}

	enum flow_direction dir = (src_is_lo == flow->client_is_lo) ? FLOW_TO_SERVER : FLOW_TO_CLIENT;
	*direction = dir;
	if (now_us > flow->last_us)
		flow->last_us = now_us;
	flow->packets[dir]++;
	flow->bytes[dir] += packet->l3_len;

	if (!flow->has_client_mac) {
		if (dir == FLOW_TO_SERVER && packet->has_src_mac) {
			memcpy(flow->client_mac, packet->src_mac, 6);
			flow->has_client_mac = 1;
		} else if (dir == FLOW_TO_CLIENT && packet->has_dst_mac) {
			memcpy(flow->client_mac, packet->dst_mac, 6);
			flow->has_client_mac = 1;
		}
	}

	if (is_tcp) {
		if (packet->tcp_flags & DECODE_TCP_SYN) {
			flow->syn_seen = 1;
			if (!flow->has_isn[dir]) {
				flow->isn[dir] = packet->tcp_seq;
				flow->has_isn[dir] = 1;
			}
		}
		if (packet->tcp_flags & DECODE_TCP_FIN)
			flow->fin_seen[dir] = 1;
		if (packet->tcp_flags & DECODE_TCP_RST)
			flow->rst_seen = 1;
		if (flow->lru == LRU_TCP && tcp_closed(flow)) {
			lru_unlink(table, flow);
			lru_append(table, flow, LRU_CLOSED);
		}
	}
	table->last = flow;
	return flow;
}

const struct flow_table_stats *flow_table_stats(const struct flow_table *table)
{
	return &table->stats;
}

const uint8_t *flow_client_addr(const struct flow *flow)
{
	return flow->client_is_lo ? flow->key.addr_lo : flow->key.addr_hi;
}

const uint8_t *flow_server_addr(const struct flow *flow)
{
	return flow->client_is_lo ? flow->key.addr_hi : flow->key.addr_lo;
}

uint16_t flow_client_port(const struct flow *flow)
{
	return flow->client_is_lo ? flow->key.port_lo : flow->key.port_hi;
}

uint16_t flow_server_port(const struct flow *flow)
{
	return flow->client_is_lo ? flow->key.port_hi : flow->key.port_lo;
}
