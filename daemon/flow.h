/*
 * flow: the flow table, third stage of the pipeline. Takes decoded packets,
 * gives the bidirectional flow each belongs to, oriented client -> server.
 * The table is the one owner of every flow: flows are created in
 * flow_table_lookup(), freed only in the table, and whoever attached state to
 * a flow (the dissectors) is told first through the end callback.
 *
 * Memory is bounded by max_flows; when full, the least recently used flow is
 * evicted. Idle flows expire on packet time, with separate timeouts for TCP,
 * UDP and TCP connections that have closed (FIN both ways or RST).
 */
#ifndef TRACKWATCH_FLOW_H
#define TRACKWATCH_FLOW_H

#include <stddef.h>
#include <stdint.h>

#include "decode.h"

/* Direction of a packet relative to the flow's client. */
enum flow_direction { FLOW_TO_SERVER = 0, FLOW_TO_CLIENT = 1 };

/* Why a flow ended, for the callback and the counters. */
enum flow_end_reason {
	FLOW_END_IDLE,      /* idle timeout */
	FLOW_END_CLOSED,    /* TCP closed, close timeout passed */
	FLOW_END_EVICTED,   /* table full: least recently used */
	FLOW_END_FLUSH,     /* end of input or shutdown */
};

/*
 * A canonical key: the lower (address, port) endpoint first, so both
 * directions of a flow have the same key.
 */
struct flow_key {
	uint8_t addr_lo[16], addr_hi[16];
	uint16_t port_lo, port_hi;
	uint8_t ip_version;
	uint8_t l4_proto;
	uint8_t pad[2]; /* zero: keys are hashed and compared as bytes */
};

struct flow_dissect; /* owned by the dissect stage, opaque here */

struct flow {
	struct flow_key key;
	uint64_t id;              /* unique within a run, in creation order */
	uint64_t first_us, last_us;
	uint64_t packets[2], bytes[2]; /* indexed by enum flow_direction */
	uint8_t client_is_lo;     /* client is the key's lo endpoint */
	uint8_t has_client_mac;
	uint8_t client_mac[6];
	uint8_t syn_seen, fin_seen[2], rst_seen;
	uint8_t has_isn[2];       /* a SYN was seen this way: isn[] holds its number */
	uint32_t isn[2];
	struct flow_dissect *dissect;

	/* table internals */
	struct flow *hash_next;
	struct flow *lru_prev, *lru_next;
	uint8_t lru;
	uint64_t hash;
};

struct flow_table_config {
	size_t max_flows;
	uint64_t tcp_timeout_us;
	uint64_t udp_timeout_us;
	uint64_t tcp_closed_timeout_us;
};

struct flow_table_stats {
	uint64_t created;
	uint64_t expired;
	uint64_t closed;
	uint64_t evicted;
	uint64_t flushed;
	size_t active;
	size_t peak_active;
};

typedef void (*flow_end_fn)(void *context, struct flow *flow, enum flow_end_reason reason);

struct flow_table;

/* Creates a table; `on_end` (may be NULL) is called before a flow is freed. */
struct flow_table *flow_table_new(const struct flow_table_config *config,
				  flow_end_fn on_end, void *context);
/* Ends every flow (FLOW_END_FLUSH) and frees the table. NULL is fine. */
void flow_table_free(struct flow_table *table);

/*
 * Finds or creates the flow of a decoded TCP/UDP packet seen at `now_us`,
 * updates its counters and TCP state, and says which way the packet goes.
 * Returns NULL only if memory runs out.
 */
struct flow *flow_table_lookup(struct flow_table *table, const struct decoded_packet *packet,
			       uint64_t now_us, enum flow_direction *direction);

/* Ends flows idle past their timeout at `now_us`. Cheap when nothing expires. */
void flow_table_expire(struct flow_table *table, uint64_t now_us);

/* Ends every flow, as at the end of a capture file. */
void flow_table_flush(struct flow_table *table);

const struct flow_table_stats *flow_table_stats(const struct flow_table *table);

/* The client's and server's address and port, from the canonical key. */
const uint8_t *flow_client_addr(const struct flow *flow);
const uint8_t *flow_server_addr(const struct flow *flow);
uint16_t flow_client_port(const struct flow *flow);
uint16_t flow_server_port(const struct flow *flow);

/* Exposed for tests: the keyed hash of a key under the table's seed. */
uint64_t flow_table_hash(const struct flow_table *table, const struct flow_key *key);

#endif
