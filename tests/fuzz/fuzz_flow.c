/*
 * libFuzzer harness for the flow table: the input is a sequence of 6-byte
 * packet records over a tiny address space, so flows collide, close, expire
 * and get evicted. Aborts if the table breaks its bound or loses a flow.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../daemon/flow.h"

enum { MAX_FLOWS = 8 };

static uint64_t ended;

static void on_end(void *context, struct flow *flow, enum flow_end_reason reason)
{
	(void)context;
	(void)reason;
	if (!flow)
		abort();
	ended++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct flow_table_config config = {
		.max_flows = MAX_FLOWS,
		.tcp_timeout_us = 3000,
		.udp_timeout_us = 1000,
		.tcp_closed_timeout_us = 500,
	};
	ended = 0;
	struct flow_table *table = flow_table_new(&config, on_end, NULL);
	if (!table)
		return 0;
	uint64_t now = 1;
	for (size_t i = 0; i + 6 <= size; i += 6) {
		const uint8_t *r = data + i;
		struct decoded_packet packet;
		memset(&packet, 0, sizeof packet);
		packet.ip_version = r[0] & 1 ? 6 : 4;
		packet.l4_proto = r[0] & 2 ? 17 : 6;
		packet.src_addr[3] = r[1] & 3;
		packet.dst_addr[3] = (r[1] >> 2) & 3;
		packet.src_port = (uint16_t)(r[2] & 7) * 1000;
		packet.dst_port = (uint16_t)(r[3] & 7) * 1000;
		packet.tcp_flags = r[4] & 0x1f;
		packet.has_src_mac = r[0] & 4;
		packet.l3_len = r[5];
		now += r[5] * 10u;
		enum flow_direction direction;
		struct flow *flow = flow_table_lookup(table, &packet, now, &direction);
		if (!flow || (direction != FLOW_TO_SERVER && direction != FLOW_TO_CLIENT))
			abort();
		if (r[0] & 8)
			flow_table_expire(table, now);
		if (flow_table_stats(table)->active > MAX_FLOWS)
			abort();
	}
	const struct flow_table_stats stats = *flow_table_stats(table);
	flow_table_free(table);
	if (ended != stats.created)
		abort();
	return 0;
}
