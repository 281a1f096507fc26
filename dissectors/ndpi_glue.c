/*
 * ndpi_glue: nDPI 4.2 behind a small interface (see ndpi_glue.h). nDPI's
 * per-flow state is large (about 1 KiB plus what its dissectors allocate), so
 * the pipeline frees it as soon as detection is over and keeps only a
 * struct dpi_label.
 */
#include "ndpi_glue.h"

#include "../daemon/arena.h"
#include "../daemon/thread.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ndpi_api.h>

/*
 * nDPI's start-up (its host automata and address trees, about 10 ms) runs
 * on a thread of its own, begun by dpi_engine_new(), or earlier by
 * dpi_engine_prestart(): the program meanwhile makes its database and opens
 * its capture, the lists load, and the first call that needs the engine
 * waits for it (ready()).
 */
struct dpi_engine {
	struct ndpi_detection_module_struct *ndpi;
	pthread_t starter;
	int starting;   /* the starter thread is running or not yet joined */
};

static struct ndpi_detection_module_struct *engine_start(void)
{
	/* Tor exit lists are for risk scoring, which we do not use. */
	struct ndpi_detection_module_struct *ndpi = ndpi_init_detection_module(ndpi_dont_load_tor_hosts);
	if (!ndpi)
		return NULL;
	NDPI_PROTOCOL_BITMASK all;
	NDPI_BITMASK_SET_ALL(all);
	ndpi_set_protocol_detection_bitmask2(ndpi, &all);
	ndpi_finalize_initialization(ndpi);
	return ndpi;
}

static void *starter_main(void *context)
{
	struct dpi_engine *engine = context;
	/* nDPI's tables grow this thread's arena by about 4 MiB (see daemon/arena.h). */
	arena_reserve(6 << 20);
	engine->ndpi = engine_start();
	return NULL;
}

/* Waits for the starter thread, if there is one still to join. */
static void starter_join(struct dpi_engine *engine)
{
	if (engine->starting) {
		pthread_join(engine->starter, NULL);
		engine->starting = 0;
	}
}

/* The engine, started: waits for the starter thread the first time. */
static struct ndpi_detection_module_struct *ready(struct dpi_engine *engine)
{
	/* `starting` first: while it is set, the starter thread writes `ndpi`. */
	if (engine->starting) {
		starter_join(engine);
		if (!engine->ndpi)
			engine->ndpi = engine_start(); /* once more, on this thread */
		if (!engine->ndpi) {
			fputs("nDPI: cannot start: out of memory\n", stderr);
			abort();
		}
	}
	return engine->ndpi;
}

struct dpi_flow {
	ndpi_protocol protocol; /* the latest answer */
	struct ndpi_flow_struct ndpi;
};

/* Begun by dpi_engine_prestart(), for the next dpi_engine_new(). */
static struct dpi_engine *prestarted;
static pthread_mutex_t prestart_lock = PTHREAD_MUTEX_INITIALIZER;

static struct dpi_engine *engine_new(void);

void dpi_engine_prestart(void)
{
	static int done;
	pthread_mutex_lock(&prestart_lock);
	if (!done) {
		done = 1;
		prestarted = engine_new();
	}
	pthread_mutex_unlock(&prestart_lock);
}

void dpi_engine_prestart_drop(void)
{
	pthread_mutex_lock(&prestart_lock);
	struct dpi_engine *engine = prestarted;
	prestarted = NULL;
	pthread_mutex_unlock(&prestart_lock);
	dpi_engine_free(engine);
}

struct dpi_engine *dpi_engine_new(void)
{
	pthread_mutex_lock(&prestart_lock);
	struct dpi_engine *engine = prestarted;
	prestarted = NULL;
	pthread_mutex_unlock(&prestart_lock);
	return engine ? engine : engine_new();
}

static struct dpi_engine *engine_new(void)
{
	struct dpi_engine *engine = calloc(1, sizeof *engine);
	if (!engine)
		return NULL;
	engine->starting = thread_start_quiet(&engine->starter, starter_main, engine);
	if (!engine->starting && !(engine->ndpi = engine_start())) {
		free(engine);
		return NULL;
	}
	return engine;
}

void dpi_engine_free(struct dpi_engine *engine)
{
	if (!engine)
		return;
	starter_join(engine);
	if (engine->ndpi)
		ndpi_exit_detection_module(engine->ndpi);
	free(engine);
}

void dpi_engine_settle(struct dpi_engine *engine)
{
	if (engine)
		starter_join(engine);
}

struct dpi_flow *dpi_flow_new(void)
{
	return arena_zalloc(sizeof(struct dpi_flow));
}

void dpi_flow_free(struct dpi_flow *flow)
{
	if (!flow)
		return;
	/* Frees what nDPI's dissectors hung off the flow, not the flow itself. */
	ndpi_free_flow_data(&flow->ndpi);
	free(flow);
}

int dpi_flow_classified(const struct dpi_flow *flow)
{
	return flow->protocol.app_protocol != NDPI_PROTOCOL_UNKNOWN ||
	       flow->protocol.master_protocol != NDPI_PROTOCOL_UNKNOWN;
}

int dpi_flow_process(struct dpi_engine *engine, struct dpi_flow *flow, const uint8_t *l3,
		     size_t l3_len, uint64_t time_ms)
{
	/* nDPI takes an unsigned short length; longer IP packets exist (jumbo, GRO). */
	unsigned short len = l3_len > 0xffff ? 0xffff : (unsigned short)l3_len;
	struct ndpi_detection_module_struct *ndpi = ready(engine);
	flow->protocol = ndpi_detection_process_packet(ndpi, &flow->ndpi, l3, len, time_ms);
	return dpi_flow_classified(flow) && !ndpi_extra_dissection_possible(ndpi, &flow->ndpi);
}

void dpi_flow_giveup(struct dpi_engine *engine, struct dpi_flow *flow)
{
	uint8_t guessed = 0;
	if (flow->protocol.app_protocol == NDPI_PROTOCOL_UNKNOWN &&
	    flow->protocol.master_protocol == NDPI_PROTOCOL_UNKNOWN)
		flow->protocol = ndpi_detection_giveup(ready(engine), &flow->ndpi, 1, &guessed);
}

void dpi_flow_label(const struct dpi_flow *flow, struct dpi_label *label)
{
	label->master = flow->protocol.master_protocol;
	label->app = flow->protocol.app_protocol;
	label->category = (uint16_t)flow->protocol.category;
}

static enum dpi_name_source name_source(uint16_t id)
{
	switch (id) {
	case NDPI_PROTOCOL_DNS: return DPI_NAME_DNS;
	case NDPI_PROTOCOL_MDNS: return DPI_NAME_MDNS;
	case NDPI_PROTOCOL_LLMNR: return DPI_NAME_LLMNR;
	case NDPI_PROTOCOL_TLS: return DPI_NAME_TLS;
	case NDPI_PROTOCOL_DTLS: return DPI_NAME_DTLS;
	case NDPI_PROTOCOL_QUIC: return DPI_NAME_QUIC;
	case NDPI_PROTOCOL_HTTP:
	case NDPI_PROTOCOL_HTTP_CONNECT:
	case NDPI_PROTOCOL_HTTP_PROXY: return DPI_NAME_HTTP;
	case NDPI_PROTOCOL_DHCP: return DPI_NAME_DHCP;
	case NDPI_PROTOCOL_NETBIOS: return DPI_NAME_NETBIOS;
	case NDPI_PROTOCOL_STUN: return DPI_NAME_STUN;
	default: return DPI_NAME_NONE;
	}
}

void dpi_flow_facts(const struct dpi_flow *flow, struct dpi_facts *facts)
{
	memset(facts, 0, sizeof *facts);
	/* The master protocol (DNS of "DNS.Google") says which dissector ran. */
	enum dpi_name_source source = name_source(flow->protocol.master_protocol);
	if (source == DPI_NAME_NONE)
		source = name_source(flow->protocol.app_protocol);
	const struct ndpi_flow_struct *n = &flow->ndpi;
	facts->host = n->host_server_name;
	if (source == DPI_NAME_NONE && n->host_server_name[0])
		source = DPI_NAME_OTHER;
	facts->source = source;
	if (source == DPI_NAME_DNS || source == DPI_NAME_MDNS || source == DPI_NAME_LLMNR) {
		facts->dns_is_query = n->protos.dns.is_query;
		facts->dns_qtype = n->protos.dns.query_type;
	}
	if (source == DPI_NAME_HTTP && n->http.method != NDPI_HTTP_METHOD_UNKNOWN) {
		facts->http_method = ndpi_http_method2str(n->http.method);
		facts->http_url = n->http.url;
	}
}

void dpi_label_for_name(struct dpi_engine *engine, enum dpi_master master, const char *host,
			const uint8_t *server_addr, struct dpi_label *label)
{
	static const uint16_t masters[] = {
		[DPI_MASTER_TLS] = NDPI_PROTOCOL_TLS, [DPI_MASTER_HTTP] = NDPI_PROTOCOL_HTTP,
		[DPI_MASTER_DNS] = NDPI_PROTOCOL_DNS, [DPI_MASTER_MDNS] = NDPI_PROTOCOL_MDNS,
		[DPI_MASTER_LLMNR] = NDPI_PROTOCOL_LLMNR, [DPI_MASTER_QUIC] = NDPI_PROTOCOL_QUIC,
	};
	uint16_t id = masters[master];
	struct ndpi_detection_module_struct *ndpi = ready(engine);
	ndpi_protocol protocol = { .master_protocol = NDPI_PROTOCOL_UNKNOWN, .app_protocol = id };
	protocol.category = ndpi_get_proto_category(ndpi, protocol);
	uint16_t app = NDPI_PROTOCOL_UNKNOWN;
	ndpi_protocol_match_result match = { 0 };
	size_t len = host ? strlen(host) : 0;
	if (len && len < 0xffff) {
		/* nDPI's matcher takes a mutable string; it does not write to it. */
		int found = ndpi_match_string_subprotocol(ndpi, (char *)host, (u_int)len,
							  &match);
		if (found > NDPI_PROTOCOL_UNKNOWN && found != id)
			app = (uint16_t)found;
	}
	if (app == NDPI_PROTOCOL_UNKNOWN && server_addr) {
		struct in_addr addr;
		memcpy(&addr, server_addr, 4);
		uint16_t by_addr = ndpi_network_ptree_match(ndpi, &addr);
		if (by_addr != NDPI_PROTOCOL_UNKNOWN && by_addr != id)
			app = by_addr;
	}
	if (app != NDPI_PROTOCOL_UNKNOWN) {
		/* As nDPI writes it: the dissecting protocol, then the application. */
		protocol.master_protocol = id;
		protocol.app_protocol = app;
		protocol.category = ndpi_get_proto_category(ndpi, protocol);
	}
	label->master = protocol.master_protocol;
	label->app = protocol.app_protocol;
	label->category = (uint16_t)protocol.category;
}

const char *dpi_label_name(struct dpi_engine *engine, const struct dpi_label *label,
			   char *buf, size_t len)
{
	ndpi_protocol protocol = { .master_protocol = label->master, .app_protocol = label->app };
	unsigned bounded = len > 0xffff ? 0xffff : (unsigned)len;
	return ndpi_protocol2name(ready(engine), protocol, buf, bounded);
}

const char *dpi_category_name(struct dpi_engine *engine, const struct dpi_label *label)
{
	return ndpi_category_get_name(ready(engine), (ndpi_protocol_category_t)label->category);
}

const char *dpi_version(void)
{
	return ndpi_revision();
}
