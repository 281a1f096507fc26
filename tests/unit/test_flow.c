/*
 * Unit tests for daemon/flow.c: flow lookup and orientation, counters, client
 * MACs, expiry, TCP close, the max_flows bound with LRU eviction, and the end callback.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../daemon/flow.h"

enum {
	TCP = 6, UDP = 17,
	SYN = DECODE_TCP_SYN, ACK = DECODE_TCP_ACK, FIN = DECODE_TCP_FIN, RST = DECODE_TCP_RST,
	PSH = DECODE_TCP_PSH,
};

#define SECONDS(s) ((uint64_t)(s) * 1000000u)
#define T0 SECONDS(1795927190)

static const struct flow_table_config default_config = {
	.max_flows = 1000,
	.tcp_timeout_us = SECONDS(300),
	.udp_timeout_us = SECONDS(60),
	.tcp_closed_timeout_us = SECONDS(10),
};

/* ---- packets -------------------------------------------------------------- */

static void set_ipv4(uint8_t addr[16], uint32_t a)
{
	memset(addr, 0, 16);
	addr[0] = (uint8_t)(a >> 24);
	addr[1] = (uint8_t)(a >> 16);
	addr[2] = (uint8_t)(a >> 8);
	addr[3] = (uint8_t)a;
}

/* An IPv4 packet as decode would give it: `len` bytes of IP. */
static struct decoded_packet packet(uint8_t proto, uint32_t src, uint16_t sport, uint32_t dst,
				    uint16_t dport, uint8_t flags, size_t len)
{
	struct decoded_packet p;
	memset(&p, 0, sizeof p);
	p.ip_version = 4;
	p.l4_proto = proto;
	set_ipv4(p.src_addr, src);
	set_ipv4(p.dst_addr, dst);
	p.src_port = sport;
	p.dst_port = dport;
	p.tcp_flags = proto == TCP ? flags : 0;
	p.l3_len = len;
	return p;
}

/* The same packet, the other way. */
static struct decoded_packet reverse(const struct decoded_packet *p, uint8_t flags, size_t len)
{
	struct decoded_packet r = *p;
	memcpy(r.src_addr, p->dst_addr, 16);
	memcpy(r.dst_addr, p->src_addr, 16);
	r.src_port = p->dst_port;
	r.dst_port = p->src_port;
	r.tcp_flags = flags;
	r.l3_len = len;
	memcpy(r.src_mac, p->dst_mac, 6);
	memcpy(r.dst_mac, p->src_mac, 6);
	return r;
}

enum {
	CLIENT = 0x0a000002, /* 10.0.0.2 */
	SERVER = 0x0a000001, /* 10.0.0.1: lower than the client */
	EPHEMERAL = 40000,
};

/* ---- the end callback ------------------------------------------------------ */

enum { MAX_IDS = 200000, LOG_SIZE = 16 };

struct recorder {
	uint64_t ends;
	uint64_t by_reason[4];
	uint8_t *ended;                 /* per flow id: ended once already */
	struct { uint64_t id; enum flow_end_reason reason; uint16_t client_port; } log[LOG_SIZE];
	size_t log_len;
};

static void on_end(void *context, struct flow *flow, enum flow_end_reason reason)
{
	struct recorder *r = context;
	assert_non_null(flow);
	assert_true(flow->id > 0 && flow->id < MAX_IDS);
	assert_int_equal(r->ended[flow->id], 0); /* once per flow */
	r->ended[flow->id] = 1;
	assert_true((unsigned)reason < 4);
	r->ends++;
	r->by_reason[reason]++;
	if (r->log_len < LOG_SIZE) {
		r->log[r->log_len].id = flow->id;
		r->log[r->log_len].reason = reason;
		r->log[r->log_len].client_port = flow_client_port(flow);
		r->log_len++;
	}
}

static int setup(void **state)
{
	struct recorder *r = calloc(1, sizeof *r);
	if (!r)
		return -1;
	r->ended = calloc(MAX_IDS, 1);
	if (!r->ended) {
		free(r);
		return -1;
	}
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	struct recorder *r = *state;
	free(r->ended);
	free(r);
	return 0;
}

static struct flow_table *new_table(struct recorder *r, const struct flow_table_config *config)
{
	struct flow_table *t = flow_table_new(config ? config : &default_config, on_end, r);
	assert_non_null(t);
	return t;
}

/* Looks a packet up, asserting the direction it is given. */
static struct flow *lookup(struct flow_table *t, const struct decoded_packet *p, uint64_t now,
			   enum flow_direction expected)
{
	enum flow_direction direction = (enum flow_direction)-1;
	struct flow *flow = flow_table_lookup(t, p, now, &direction);
	assert_non_null(flow);
	assert_int_equal(direction, expected);
	return flow;
}

static void assert_client(const struct flow *flow, uint32_t client, uint16_t client_port,
			  uint32_t server, uint16_t server_port)
{
	uint8_t c[16], s[16];
	set_ipv4(c, client);
	set_ipv4(s, server);
	assert_memory_equal(flow_client_addr(flow), c, 16);
	assert_memory_equal(flow_server_addr(flow), s, 16);
	assert_int_equal(flow_client_port(flow), client_port);
	assert_int_equal(flow_server_port(flow), server_port);
}

/* ---- tests ----------------------------------------------------------------- */

static void test_new_and_free(void **state)
{
	struct recorder *r = *state;
	struct flow_table_config config = default_config;
	config.max_flows = 0;
	assert_null(flow_table_new(&config, on_end, r));
	struct flow_table *t = new_table(r, NULL);
	const struct flow_table_stats *s = flow_table_stats(t);
	assert_int_equal(s->created, 0);
	assert_int_equal(s->active, 0);
	flow_table_free(t);
	flow_table_free(NULL);
	assert_int_equal(r->ends, 0);

	/* A table without a callback. */
	t = flow_table_new(&default_config, NULL, NULL);
	assert_non_null(t);
	struct decoded_packet p = packet(UDP, CLIENT, EPHEMERAL, SERVER, 53, 0, 60);
	enum flow_direction direction;
	assert_non_null(flow_table_lookup(t, &p, T0, &direction));
	flow_table_free(t);
}

static void test_both_directions_one_flow(void **state)
{
	struct recorder *r = *state;
	struct flow_table *t = new_table(r, NULL);
	struct decoded_packet syn = packet(TCP, CLIENT, EPHEMERAL, SERVER, 443, SYN, 60);
	struct decoded_packet synack = reverse(&syn, SYN | ACK, 60);
	struct decoded_packet ack = packet(TCP, CLIENT, EPHEMERAL, SERVER, 443, ACK, 52);

	struct flow *flow = lookup(t, &syn, T0, FLOW_TO_SERVER);
	uint64_t id = flow->id;
	assert_ptr_equal(lookup(t, &synack, T0 + 1, FLOW_TO_CLIENT), flow);
	assert_ptr_equal(lookup(t, &ack, T0 + 2, FLOW_TO_SERVER), flow);
	assert_int_equal(flow->id, id);
	assert_client(flow, CLIENT, EPHEMERAL, SERVER, 443);
	assert_int_equal(flow->key.l4_proto, TCP);
	assert_int_equal(flow->key.ip_version, 4);
	assert_int_equal(flow_table_stats(t)->created, 1);
	assert_int_equal(flow_table_stats(t)->active, 1);

	/* Same addresses and ports over UDP are another flow. */
	struct decoded_packet udp = packet(UDP, CLIENT, EPHEMERAL, SERVER, 443, 0, 60);
	assert_ptr_not_equal(lookup(t, &udp, T0 + 3, FLOW_TO_SERVER), flow);
	assert_int_equal(flow_table_stats(t)->active, 2);
	flow_table_free(t);
	assert_int_equal(r->ends, 2);
}

/* An IPv6 flow, where addresses differ in their last bytes only. */
static void test_ipv6_flow(void **state)
{
	struct recorder *r = *state;
	struct flow_table *t = new_table(r, NULL);
	struct decoded_packet p = packet(UDP, 0, 50000, 0, 443, 0, 1200);
	p.ip_version = 6;
	static const uint8_t a[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 9 };
	static const uint8_t b[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
	memcpy(p.src_addr, a, 16);
	memcpy(p.dst_addr, b, 16);
	struct flow *flow = lookup(t, &p, T0, FLOW_TO_SERVER);
	struct decoded_packet back = reverse(&p, 0, 1200);
	assert_ptr_equal(lookup(t, &back, T0 + 1, FLOW_TO_CLIENT), flow);
	assert_memory_equal(flow_client_addr(flow), a, 16);
	assert_memory_equal(flow_server_addr(flow), b, 16);
	assert_int_equal(flow->key.ip_version, 6);
	flow_table_free(t);
}

static void test_syn_sender_is_client_with_lower_port(void **state)
{
	struct recorder *r = *state;
	struct flow_table *t = new_table(r, NULL);
	/* 10.0.0.2:22 opens a connection to 10.0.0.1:50000. */
	struct decoded_packet syn = packet(TCP, CLIENT, 22, SERVER, 50000, SYN, 60);
	struct flow *flow = lookup(t, &syn, T0, FLOW_TO_SERVER);
	assert_client(flow, CLIENT, 22, SERVER, 50000);
	struct decoded_packet synack = reverse(&syn, SYN | ACK, 60);
	assert_ptr_equal(lookup(t, &synack, T0 + 1, FLOW_TO_CLIENT), flow);
	flow_table_free(t);
}

static void test_synack_first_makes_receiver_client(void **state)
{
	struct recorder *r = *state;
	struct flow_table *t = new_table(r, NULL);
	/* The SYN was missed; the server 10.0.0.1:443 answers first. */
	struct decoded_packet synack = packet(TCP, SERVER, 443, CLIENT, EPHEMERAL, SYN | ACK, 60);
	struct flow *flow = lookup(t, &synack, T0, FLOW_TO_CLIENT);
	assert_client(flow, CLIENT, EPHEMERAL, SERVER, 443);
	/* Even when the receiver has the lower port. */
	synack = packet(TCP, SERVER, 50000, CLIENT, 25, SYN | ACK, 60);
	flow = lookup(t, &synack, T0, FLOW_TO_CLIENT);
	assert_client(flow, CLIENT, 25, SERVER, 50000);
	flow_table_free(t);
}

static void test_no_syn_higher_port_is_client(void **state)
{
	struct recorder *r = *state;
	struct flow_table *t = new_table(r, NULL);
	/* Mid-connection, the server's packet first. */
	struct decoded_packet p = packet(TCP, SERVER, 443, CLIENT, EPHEMERAL, PSH | ACK, 1500);
	struct flow *flow = lookup(t, &p, T0, FLOW_TO_CLIENT);
	assert_client(flow, CLIENT, EPHEMERAL, SERVER, 443);
	/* The client's packet first, the client having the lower address. */
	p = packet(TCP, SERVER, 51000, CLIENT, 993, ACK, 52);
	flow = lookup(t, &p, T0, FLOW_TO_SERVER);
	assert_client(flow, SERVER, 51000, CLIENT, 993);
	/* UDP likewise. */
	p = packet(UDP, CLIENT, 443, SERVER, 61000, 0, 1200);
	flow = lookup(t, &p, T0, FLOW_TO_CLIENT);
	assert_client(flow, SERVER, 61000, CLIENT, 443);
	flow_table_free(t);
}

static void test_equal_ports_first_sender_is_client(void **state)
{
	struct recorder *r = *state;
	struct flow_table *t = new_table(r, NULL);
	/* The higher address sends first... */
	struct decoded_packet p = packet(UDP, CLIENT, 5000, SERVER, 5000, 0, 100);
	struct flow *flow = lookup(t, &p, T0, FLOW_TO_SERVER);
	assert_client(flow, CLIENT, 5000, SERVER, 5000);
	struct decoded_packet back = reverse(&p, 0, 100);
	assert_ptr_equal(lookup(t, &back, T0 + 1, FLOW_TO_CLIENT), flow);
	/* ...or the lower one. */
	p = packet(UDP, SERVER, 123, CLIENT, 123, 0, 76);
	flow = lookup(t, &p, T0 + 2, FLOW_TO_SERVER);
	assert_client(flow, SERVER, 123, CLIENT, 123);
	back = reverse(&p, 0, 76);
	assert_ptr_equal(lookup(t, &back, T0 + 3, FLOW_TO_CLIENT), flow);
	flow_table_free(t);
}

static void test_dns_response_first(void **state)
{
	struct recorder *r = *state;
	struct flow_table *t = new_table(r, NULL);
	struct decoded_packet response = packet(UDP, SERVER, 53, CLIENT, 33000, 0, 120);
	struct flow *flow = lookup(t, &response, T0, FLOW_TO_CLIENT);
	assert_client(flow, CLIENT, 33000, SERVER, 53);
	struct decoded_packet query = reverse(&response, 0, 60);
	assert_ptr_equal(lookup(t, &query, T0 + 1, FLOW_TO_SERVER), flow);
	flow_table_free(t);
}

static void test_counters_per_direction(void **state)
{
	struct recorder *r = *state;
	struct flow_table *t = new_table(r, NULL);
	struct decoded_packet up = packet(TCP, CLIENT, EPHEMERAL, SERVER, 80, SYN, 60);
	struct flow *flow = lookup(t, &up, T0, FLOW_TO_SERVER);
	struct decoded_packet down = reverse(&up, SYN | ACK, 60);
	lookup(t, &down, T0 + 10, FLOW_TO_CLIENT);
	up.tcp_flags = ACK;
	up.l3_len = 400;
	lookup(t, &up, T0 + 20, FLOW_TO_SERVER);
	down.tcp_flags = ACK;
	down.l3_len = 1500;
	lookup(t, &down, T0 + 30, FLOW_TO_CLIENT);
	lookup(t, &down, T0 + 40, FLOW_TO_CLIENT);
	assert_int_equal(flow->packets[FLOW_TO_SERVER], 2);
	assert_int_equal(flow->bytes[FLOW_TO_SERVER], 460);
	assert_int_equal(flow->packets[FLOW_TO_CLIENT], 3);
	assert_int_equal(flow->bytes[FLOW_TO_CLIENT], 3060);
	assert_int_equal(flow->first_us, T0);
	assert_int_equal(flow->last_us, T0 + 40);
	assert_int_equal(flow->syn_seen, 1);
	flow_table_free(t);
}

static const uint8_t MAC_CLIENT[6] = { 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0x01 };
static const uint8_t MAC_ROUTER[6] = { 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xfe };

static void test_client_mac_from_source_to_server(void **state)
{
	struct recorder *r = *state;
	struct flow_table *t = new_table(r, NULL);
	struct decoded_packet p = packet(TCP, CLIENT, EPHEMERAL, SERVER, 443, SYN, 60);
	p.has_src_mac = p.has_dst_mac = 1;
	memcpy(p.src_mac, MAC_CLIENT, 6);
	memcpy(p.dst_mac, MAC_ROUTER, 6);
	struct flow *flow = lookup(t, &p, T0, FLOW_TO_SERVER);
	assert_int_equal(flow->has_client_mac, 1);
	assert_memory_equal(flow->client_mac, MAC_CLIENT, 6);
	flow_table_free(t);
}

static void test_client_mac_from_destination_to_client(void **state)
{
	struct recorder *r = *state;
	struct flow_table *t = new_table(r, NULL);
	struct decoded_packet p = packet(TCP, SERVER, 443, CLIENT, EPHEMERAL, SYN | ACK, 60);
	p.has_src_mac = p.has_dst_mac = 1;
	memcpy(p.src_mac, MAC_ROUTER, 6);
	memcpy(p.dst_mac, MAC_CLIENT, 6);
	struct flow *flow = lookup(t, &p, T0, FLOW_TO_CLIENT);
	assert_int_equal(flow->has_client_mac, 1);
	assert_memory_equal(flow->client_mac, MAC_CLIENT, 6);
	flow_table_free(t);
}

/* Cooked captures give the source MAC only: learnt from the client's packet. */
static void test_client_mac_source_only(void **state)
{
	struct recorder *r = *state;
	struct flow_table *t = new_table(r, NULL);
	struct decoded_packet down = packet(UDP, SERVER, 53, CLIENT, 33000, 0, 100);
	down.has_src_mac = 1;
	memcpy(down.src_mac, MAC_ROUTER, 6);
	struct flow *flow = lookup(t, &down, T0, FLOW_TO_CLIENT);
	assert_int_equal(flow->has_client_mac, 0); /* the router's MAC is not the client's */
	struct decoded_packet up = packet(UDP, CLIENT, 33000, SERVER, 53, 0, 60);
	up.has_src_mac = 1;
	memcpy(up.src_mac, MAC_CLIENT, 6);
	lookup(t, &up, T0 + 1, FLOW_TO_SERVER);
	assert_int_equal(flow->has_client_mac, 1);
	assert_memory_equal(flow->client_mac, MAC_CLIENT, 6);
	flow_table_free(t);
}

static void test_idle_expiry_tcp_udp(void **state)
{
	struct recorder *r = *state;
	struct flow_table *t = new_table(r, NULL);
	struct decoded_packet tcp = packet(TCP, CLIENT, EPHEMERAL, SERVER, 443, ACK, 52);
	struct decoded_packet udp = packet(UDP, CLIENT, EPHEMERAL, SERVER, 443, 0, 1200);
	uint64_t tcp_id = lookup(t, &tcp, T0, FLOW_TO_SERVER)->id;
	uint64_t udp_id = lookup(t, &udp, T0, FLOW_TO_SERVER)->id;

	flow_table_expire(t, T0 + default_config.udp_timeout_us - 1);
	assert_int_equal(r->ends, 0);
	flow_table_expire(t, T0 + default_config.udp_timeout_us);
	assert_int_equal(r->ends, 1);
	assert_int_equal(r->log[0].id, udp_id);
	assert_int_equal(r->log[0].reason, FLOW_END_IDLE);
	assert_int_equal(flow_table_stats(t)->active, 1);

	flow_table_expire(t, T0 + default_config.tcp_timeout_us - 1);
	assert_int_equal(r->ends, 1);
	flow_table_expire(t, T0 + default_config.tcp_timeout_us);
	assert_int_equal(r->ends, 2);
	assert_int_equal(r->log[1].id, tcp_id);
	assert_int_equal(r->log[1].reason, FLOW_END_IDLE);
	assert_int_equal(flow_table_stats(t)->expired, 2);
	assert_int_equal(flow_table_stats(t)->active, 0);
	flow_table_free(t);
	assert_int_equal(r->ends, 2);
}

/* A packet keeps a flow alive: the timeout runs from the last one. */
static void test_activity_postpones_expiry(void **state)
{
	struct recorder *r = *state;
	struct flow_table *t = new_table(r, NULL);
	struct decoded_packet a = packet(UDP, CLIENT, 40001, SERVER, 53, 0, 60);
	struct decoded_packet b = packet(UDP, CLIENT, 40002, SERVER, 53, 0, 60);
	lookup(t, &a, T0, FLOW_TO_SERVER);
	uint64_t b_id = lookup(t, &b, T0 + 1, FLOW_TO_SERVER)->id;
	struct decoded_packet a_back = reverse(&a, 0, 90);
	lookup(t, &a_back, T0 + SECONDS(30), FLOW_TO_CLIENT);
	flow_table_expire(t, T0 + 1 + default_config.udp_timeout_us);
	assert_int_equal(r->ends, 1);
	assert_int_equal(r->log[0].id, b_id);
	flow_table_expire(t, T0 + SECONDS(30) + default_config.udp_timeout_us - 1);
	assert_int_equal(r->ends, 1);
	flow_table_expire(t, T0 + SECONDS(30) + default_config.udp_timeout_us);
	assert_int_equal(r->ends, 2);
	flow_table_free(t);
}

/* A connection is set up and carries data; returns the flow. */
static struct flow *open_connection(struct flow_table *t, struct decoded_packet *up,
				    struct decoded_packet *down, uint64_t now)
{
	*up = packet(TCP, CLIENT, EPHEMERAL, SERVER, 443, SYN, 60);
	struct flow *flow = lookup(t, up, now, FLOW_TO_SERVER);
	*down = reverse(up, SYN | ACK, 60);
	lookup(t, down, now + 1, FLOW_TO_CLIENT);
	up->tcp_flags = ACK;
	lookup(t, up, now + 2, FLOW_TO_SERVER);
	return flow;
}

static void test_fin_both_ways_closes(void **state)
{
	struct recorder *r = *state;
	struct flow_table *t = new_table(r, NULL);
	struct decoded_packet up, down;
	struct flow *flow = open_connection(t, &up, &down, T0);
	uint64_t id = flow->id;

	up.tcp_flags = FIN | ACK;
	lookup(t, &up, T0 + 100, FLOW_TO_SERVER);
	flow_table_expire(t, T0 + 100 + default_config.tcp_closed_timeout_us);
	assert_int_equal(r->ends, 0); /* half closed: still open */

	down.tcp_flags = FIN | ACK;
	lookup(t, &down, T0 + 200, FLOW_TO_CLIENT);
	assert_int_equal(flow->fin_seen[FLOW_TO_SERVER], 1);
	assert_int_equal(flow->fin_seen[FLOW_TO_CLIENT], 1);
	up.tcp_flags = ACK;
	lookup(t, &up, T0 + 300, FLOW_TO_SERVER); /* the last ACK */
	flow_table_expire(t, T0 + 300 + default_config.tcp_closed_timeout_us - 1);
	assert_int_equal(r->ends, 0);
	flow_table_expire(t, T0 + 300 + default_config.tcp_closed_timeout_us);
	assert_int_equal(r->ends, 1);
	assert_int_equal(r->log[0].id, id);
	assert_int_equal(r->log[0].reason, FLOW_END_CLOSED);
	assert_int_equal(flow_table_stats(t)->closed, 1);
	assert_int_equal(flow_table_stats(t)->expired, 0);
	flow_table_free(t);
}

static void test_rst_closes(void **state)
{
	struct recorder *r = *state;
	struct flow_table *t = new_table(r, NULL);
	struct decoded_packet up, down;
	struct flow *flow = open_connection(t, &up, &down, T0);
	uint64_t id = flow->id;
	down.tcp_flags = RST;
	lookup(t, &down, T0 + 50, FLOW_TO_CLIENT);
	assert_int_equal(flow->rst_seen, 1);
	flow_table_expire(t, T0 + 50 + default_config.tcp_closed_timeout_us - 1);
	assert_int_equal(r->ends, 0);
	flow_table_expire(t, T0 + 50 + default_config.tcp_closed_timeout_us);
	assert_int_equal(r->ends, 1);
	assert_int_equal(r->log[0].id, id);
	assert_int_equal(r->log[0].reason, FLOW_END_CLOSED);
	flow_table_free(t);
}

static void test_new_syn_on_closed_flow(void **state)
{
	struct recorder *r = *state;
	struct flow_table *t = new_table(r, NULL);
	struct decoded_packet up, down;
	struct flow *flow = open_connection(t, &up, &down, T0);
	uint64_t old_id = flow->id;

	/* A retransmitted SYN on an open connection is the same flow. */
	up.tcp_flags = SYN;
	assert_int_equal(lookup(t, &up, T0 + 3, FLOW_TO_SERVER)->id, old_id);

	up.tcp_flags = RST;
	lookup(t, &up, T0 + 10, FLOW_TO_SERVER);
	up.tcp_flags = SYN; /* the port is reused at once */
	struct flow *fresh = lookup(t, &up, T0 + 20, FLOW_TO_SERVER);
	assert_true(fresh->id > old_id);
	assert_int_equal(fresh->packets[FLOW_TO_SERVER], 1);
	assert_int_equal(fresh->rst_seen, 0);
	assert_client(fresh, CLIENT, EPHEMERAL, SERVER, 443);
	assert_int_equal(r->ends, 1);
	assert_int_equal(r->log[0].id, old_id);
	assert_int_equal(r->log[0].reason, FLOW_END_CLOSED);
	assert_int_equal(flow_table_stats(t)->created, 2);
	assert_int_equal(flow_table_stats(t)->active, 1);
	flow_table_free(t);
	assert_int_equal(r->ends, 2);
}

static void test_max_flows_evicts_lru(void **state)
{
	struct recorder *r = *state;
	struct flow_table_config config = default_config;
	config.max_flows = 4;
	struct flow_table *t = new_table(r, &config);
	struct decoded_packet p[5];
	uint64_t id[5];
	for (int i = 0; i < 5; i++) /* TCP and UDP in turn: LRU across both lists */
		p[i] = packet(i % 2 ? UDP : TCP, CLIENT, (uint16_t)(41000 + i), SERVER, 443,
			      i % 2 ? 0 : SYN, 60);
	for (int i = 0; i < 4; i++)
		id[i] = lookup(t, &p[i], T0 + (uint64_t)i, FLOW_TO_SERVER)->id;
	/* The first flow is used again: the second is now the least recent. */
	struct decoded_packet back = reverse(&p[0], SYN | ACK, 60);
	lookup(t, &back, T0 + 10, FLOW_TO_CLIENT);
	assert_int_equal(r->ends, 0);

	id[4] = lookup(t, &p[4], T0 + 11, FLOW_TO_SERVER)->id;
	assert_int_equal(r->ends, 1);
	assert_int_equal(r->log[0].id, id[1]);
	assert_int_equal(r->log[0].reason, FLOW_END_EVICTED);
	assert_int_equal(r->log[0].client_port, 41001);
	const struct flow_table_stats *s = flow_table_stats(t);
	assert_int_equal(s->evicted, 1);
	assert_int_equal(s->active, 4);
	assert_int_equal(s->peak_active, 4);
	assert_int_equal(s->created, 5);

	/* The others are still there: looking them up creates nothing. */
	int others[] = { 0, 2, 3, 4 };
	for (int i = 0; i < 4; i++)
		assert_int_equal(lookup(t, &p[others[i]], T0 + 20, FLOW_TO_SERVER)->id,
				 id[others[i]]);
	assert_int_equal(s->created, 5);
	assert_int_equal(r->ends, 1);
	flow_table_free(t);
	assert_int_equal(r->ends, 5);
}

static void test_flush(void **state)
{
	struct recorder *r = *state;
	struct flow_table *t = new_table(r, NULL);
	struct decoded_packet up, down;
	open_connection(t, &up, &down, T0);
	down.tcp_flags = RST; /* one closed flow */
	lookup(t, &down, T0 + 5, FLOW_TO_CLIENT);
	struct decoded_packet tcp = packet(TCP, CLIENT, 40002, SERVER, 22, ACK, 52);
	struct decoded_packet udp = packet(UDP, CLIENT, 40003, SERVER, 53, 0, 60);
	lookup(t, &tcp, T0 + 6, FLOW_TO_SERVER);
	lookup(t, &udp, T0 + 7, FLOW_TO_SERVER);

	flow_table_flush(t);
	assert_int_equal(r->ends, 3);
	assert_int_equal(r->by_reason[FLOW_END_FLUSH], 3);
	const struct flow_table_stats *s = flow_table_stats(t);
	assert_int_equal(s->flushed, 3);
	assert_int_equal(s->active, 0);

	/* The table goes on after a flush. */
	struct flow *flow = lookup(t, &udp, T0 + 8, FLOW_TO_SERVER);
	assert_int_equal(flow->packets[FLOW_TO_SERVER], 1);
	assert_int_equal(s->active, 1);
	flow_table_free(t);
	assert_int_equal(r->ends, 4);
	assert_int_equal(r->by_reason[FLOW_END_FLUSH], 4);
}

/* Flows end in every way; each is ended exactly once (on_end asserts it). */
static void test_end_once_per_flow(void **state)
{
	struct recorder *r = *state;
	struct flow_table_config config = default_config;
	config.max_flows = 8;
	struct flow_table *t = new_table(r, &config);
	uint64_t now = T0;
	for (int i = 0; i < 40; i++) {
		uint8_t proto = i % 3 == 0 ? UDP : TCP;
		struct decoded_packet p = packet(proto, CLIENT, (uint16_t)(42000 + i % 20), SERVER,
						 443, SYN, 60);
		lookup(t, &p, now, FLOW_TO_SERVER);
		if (proto == TCP && i % 5 == 0) {
			struct decoded_packet rst = reverse(&p, RST, 40);
			lookup(t, &rst, now + 1, FLOW_TO_CLIENT);
		}
		now += SECONDS(7);
		flow_table_expire(t, now);
	}
	struct flow_table_stats s = *flow_table_stats(t); /* a copy: the table goes */
	assert_true(s.expired > 0 && s.closed > 0 && s.evicted > 0);
	assert_int_equal(r->ends + s.active, s.created);
	flow_table_free(t);
	assert_int_equal(r->ends, s.created);
	assert_int_equal(r->by_reason[FLOW_END_IDLE], s.expired);
	assert_int_equal(r->by_reason[FLOW_END_CLOSED], s.closed);
	assert_int_equal(r->by_reason[FLOW_END_EVICTED], s.evicted);
	assert_int_equal(r->by_reason[FLOW_END_FLUSH], s.active);
	for (uint64_t id = 1; id <= s.created; id++)
		assert_int_equal(r->ended[id], 1);
}

static void test_ids_unique_and_increasing(void **state)
{
	struct recorder *r = *state;
	struct flow_table_config config = default_config;
	config.max_flows = 50;
	struct flow_table *t = new_table(r, &config);
	uint64_t last = 0;
	for (int i = 0; i < 200; i++) { /* past the bound: ids are not reused */
		struct decoded_packet p = packet(UDP, CLIENT + (uint32_t)i, 5353, SERVER, 53, 0, 60);
		struct flow *flow = lookup(t, &p, T0 + (uint64_t)i, FLOW_TO_SERVER);
		assert_true(flow->id > last);
		last = flow->id;
	}
	assert_int_equal(flow_table_stats(t)->created, 200);
	flow_table_free(t);
	assert_int_equal(r->ends, 200); /* and the ids were distinct: on_end checks */
}

static void test_hash_seeded_per_table(void **state)
{
	struct recorder *r = *state;
	struct flow_table *a = new_table(r, NULL), *b = new_table(r, NULL);
	struct decoded_packet p = packet(TCP, CLIENT, EPHEMERAL, SERVER, 443, SYN, 60);
	struct flow *flow = lookup(a, &p, T0, FLOW_TO_SERVER);
	struct flow_key key = flow->key;
	assert_int_equal(flow_table_hash(a, &key), flow_table_hash(a, &key));
	assert_int_equal(flow_table_hash(a, &key), flow->hash);
	/* Different seeds: equal by chance once in 2^64. */
	assert_int_not_equal(flow_table_hash(a, &key), flow_table_hash(b, &key));
	struct flow_key other = key;
	other.port_hi++;
	assert_int_not_equal(flow_table_hash(a, &key), flow_table_hash(a, &other));
	flow_table_free(a);
	flow_table_free(b);
}

/* A small xorshift generator: the same packets on every run. */
static uint64_t next_random(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void test_stress_random(void **state)
{
	struct recorder *r = *state;
	struct flow_table_config config = {
		.max_flows = 1000,
		.tcp_timeout_us = SECONDS(20),
		.udp_timeout_us = SECONDS(5),
		.tcp_closed_timeout_us = SECONDS(1),
	};
	struct flow_table *t = new_table(r, &config);
	uint64_t seed = 0x9e3779b97f4a7c15ULL, now = T0;
	static const uint8_t flag_choices[] = { SYN, SYN | ACK, ACK, PSH | ACK, FIN | ACK, RST, 0 };
	for (int i = 0; i < 100000; i++) {
		uint64_t x = next_random(&seed);
		struct decoded_packet p = packet(x & 1 ? UDP : TCP, 0x0a000000 | (uint32_t)(x >> 1 & 63),
						 (uint16_t)(1024 + (x >> 7 & 31)),
						 0x0a000000 | (uint32_t)(x >> 12 & 63),
						 (uint16_t)(1024 + (x >> 18 & 31)),
						 flag_choices[(x >> 23) % sizeof flag_choices],
						 (size_t)(x >> 32 & 1023));
		if (x >> 40 & 1) {
			p.ip_version = 6;
			p.src_addr[15] = 1;
		}
		p.has_src_mac = x >> 41 & 1;
		p.has_dst_mac = x >> 42 & 1;
		now += x >> 44 & 1023;
		enum flow_direction direction;
		struct flow *flow = flow_table_lookup(t, &p, now, &direction);
		assert_non_null(flow);
		assert_true(direction == FLOW_TO_SERVER || direction == FLOW_TO_CLIENT);
		assert_true(flow_table_stats(t)->active <= config.max_flows);
		if (i % 97 == 0)
			flow_table_expire(t, now);
	}
	const struct flow_table_stats *s = flow_table_stats(t);
	assert_true(s->peak_active <= config.max_flows);
	assert_true(s->created > config.max_flows); /* the bound was tested */
	assert_true(s->evicted > 0);
	uint64_t created = s->created;
	assert_int_equal(r->ends + s->active, created);
	flow_table_free(t);
	assert_int_equal(r->ends, created);
}

/* A SYN with a new sequence number on an open flow: a new connection (a missed FIN, a reused port). */
static void test_new_isn_is_new_connection(void **state)
{
	(void)state;
	struct flow_table_config config = { .max_flows = 16, .tcp_timeout_us = 300000000,
					    .udp_timeout_us = 60000000,
					    .tcp_closed_timeout_us = 10000000 };
	struct flow_table *table = flow_table_new(&config, NULL, NULL);
	assert_non_null(table);
	struct decoded_packet syn;
	memset(&syn, 0, sizeof syn);
	syn.ip_version = 4;
	syn.l4_proto = 6;
	syn.src_addr[0] = 10;
	syn.src_addr[3] = 1;
	syn.dst_addr[0] = 10;
	syn.dst_addr[3] = 2;
	syn.src_port = 40001;
	syn.dst_port = 443;
	syn.tcp_flags = DECODE_TCP_SYN;
	syn.tcp_seq = 1000;
	enum flow_direction dir;
	struct flow *first = flow_table_lookup(table, &syn, 1, &dir);
	uint64_t first_id = first->id;
	/* The same SYN again (a retransmission): the same flow. */
	assert_int_equal(flow_table_lookup(table, &syn, 2, &dir)->id, first_id);
	/* A new sequence number: a new flow. */
	syn.tcp_seq = 900000;
	struct flow *second = flow_table_lookup(table, &syn, 3, &dir);
	assert_int_not_equal(second->id, first_id);
	assert_int_equal(flow_table_stats(table)->closed, 1);
	assert_int_equal(flow_table_stats(table)->active, 1);
	flow_table_free(table);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_isn_is_new_connection),
		cmocka_unit_test_setup_teardown(test_new_and_free, setup, teardown),
		cmocka_unit_test_setup_teardown(test_both_directions_one_flow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv6_flow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_syn_sender_is_client_with_lower_port, setup, teardown),
		cmocka_unit_test_setup_teardown(test_synack_first_makes_receiver_client, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_syn_higher_port_is_client, setup, teardown),
		cmocka_unit_test_setup_teardown(test_equal_ports_first_sender_is_client, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dns_response_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_counters_per_direction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_mac_from_source_to_server, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_mac_from_destination_to_client, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_mac_source_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_idle_expiry_tcp_udp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_activity_postpones_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fin_both_ways_closes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rst_closes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_new_syn_on_closed_flow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_max_flows_evicts_lru, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flush, setup, teardown),
		cmocka_unit_test_setup_teardown(test_end_once_per_flow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ids_unique_and_increasing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hash_seeded_per_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stress_random, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
