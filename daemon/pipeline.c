/*
 * pipeline: decode -> flow table -> nDPI -> observations, for one capture
 * thread. nDPI gets a flow's packets until it has classified the flow and
 * has nothing more to extract (or a packet budget runs out); then its state
 * is freed and only a compact label stays with the flow.
 */
#include "pipeline.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../dissectors/ndpi_glue.h"

/* What the dissect stage keeps per flow (flow.h leaves it opaque). */
struct flow_dissect {
	struct dpi_flow *dpi;  /* NULL once detection is over */
	struct dpi_label label;
	uint16_t dpi_packets;
	uint8_t name_emitted;
	uint8_t payload_fed;   /* nDPI has had a TCP packet with payload */
};

struct pipeline {
	struct pipeline_config config;
	struct flow_table *flows;
	struct dpi_engine *dpi;
	pipeline_sink_fn sink;
	void *sink_context;
	uint64_t next_expiry_us;
	struct pipeline_stats stats;
};

enum { EXPIRY_INTERVAL_US = 1000000 };

void pipeline_config_defaults(struct pipeline_config *config)
{
	memset(config, 0, sizeof *config);
	config->flows.max_flows = 65536;
	config->flows.tcp_timeout_us = 300ULL * 1000000;
	config->flows.udp_timeout_us = 60ULL * 1000000;
	config->flows.tcp_closed_timeout_us = 10ULL * 1000000;
	/* ndpiReader's budgets: enough for every name nDPI 4.2 extracts. */
	config->dpi_max_packets_tcp = 80;
	config->dpi_max_packets_udp = 24;
}

static enum observation_kind kind_of(const struct dpi_facts *facts, const struct flow *flow)
{
	uint16_t port = flow_server_port(flow);
	switch (facts->source) {
	case DPI_NAME_DNS:
		if (port != 53 && flow_client_port(flow) != 53)
			return OBS_OTHER_NAME;
		return facts->dns_is_query ? OBS_DNS_QUERY : OBS_DNS_ANSWER;
	case DPI_NAME_MDNS: return OBS_MDNS_QUERY;
	case DPI_NAME_LLMNR: return OBS_LLMNR_QUERY;
	case DPI_NAME_TLS: return OBS_TLS_SNI;
	case DPI_NAME_DTLS: return OBS_DTLS_SNI;
	case DPI_NAME_QUIC: return OBS_QUIC_SNI;
	case DPI_NAME_HTTP: return OBS_HTTP_REQUEST;
	case DPI_NAME_DHCP: return OBS_DHCP_HOSTNAME;
	case DPI_NAME_NETBIOS: return OBS_NETBIOS_NAME;
	case DPI_NAME_STUN: return OBS_STUN_REALM;
	default: return OBS_OTHER_NAME;
	}
}

/* Lower case; for HTTP, the Host header's port (and IPv6 brackets) removed. */
static void normalise_host(const char *in, int is_http, char *out, size_t len)
{
	size_t n = 0;
	const char *end = in + strlen(in);
	if (is_http) {
		if (in[0] == '[') {
			const char *close = strchr(in, ']');
			if (close) {
				in++;
				end = close;
			}
		} else {
			const char *colon = strrchr(in, ':');
			/* One colon followed by digits only is a port. */
			if (colon && colon == strchr(in, ':') && colon[1] &&
			    strspn(colon + 1, "0123456789") == strlen(colon + 1))
				end = colon;
		}
	}
	for (const char *p = in; p < end && n + 1 < len; p++)
		out[n++] = (char)tolower((unsigned char)*p);
	out[n] = '\0';
}

/*
 * nDPI 4.2 keeps an HTTP request's URL as the Host header (port included)
 * followed by the request target, and the host without the port: the path is
 * what follows the host and its port.
 */
static const char *http_path_of(const char *url, const char *host)
{
	if (!url)
		return NULL;
	size_t host_len = strlen(host);
	if (host_len && strncasecmp(url, host, host_len) == 0) {
		url += host_len;
		if (*url == ':')
			url += 1 + strspn(url + 1, "0123456789");
	}
	return url;
}

static void emit(struct pipeline *pipeline, struct flow *flow, uint64_t ts_us,
		 const struct dpi_facts *facts)
{
	struct flow_dissect *d = flow->dissect;
	struct observation obs;
	memset(&obs, 0, sizeof obs);
	obs.ts_us = ts_us;
	obs.kind = kind_of(facts, flow);
	obs.flow_id = flow->id;
	normalise_host(facts->host, obs.kind == OBS_HTTP_REQUEST, obs.host, sizeof obs.host);
	obs.ip_version = flow->key.ip_version;
	obs.l4_proto = flow->key.l4_proto;
	memcpy(obs.client_addr, flow_client_addr(flow), 16);
	memcpy(obs.server_addr, flow_server_addr(flow), 16);
	obs.client_port = flow_client_port(flow);
	obs.server_port = flow_server_port(flow);
	if (flow->has_client_mac) {
		obs.has_client_mac = 1;
		memcpy(obs.client_mac, flow->client_mac, 6);
	}
	dpi_label_name(pipeline->dpi, &d->label, obs.app, sizeof obs.app);
	obs.dns_qtype = facts->dns_qtype;
	if (obs.kind == OBS_HTTP_REQUEST) {
		obs.http_method = facts->http_method;
		obs.http_path = http_path_of(facts->http_url, facts->host);
	}
	pipeline->stats.observations[obs.kind]++;
	if (pipeline->sink(pipeline->sink_context, &obs) != 0)
		pipeline->stats.sink_errors++;
	d->name_emitted = 1;
}

/* Emits the flow's name once nDPI has one (or an HTTP request without Host). */
static void maybe_emit(struct pipeline *pipeline, struct flow *flow, uint64_t ts_us)
{
	struct flow_dissect *d = flow->dissect;
	if (d->name_emitted || !d->dpi)
		return;
	struct dpi_facts facts;
	dpi_flow_facts(d->dpi, &facts);
	if (facts.host[0] || facts.http_method) {
		dpi_flow_label(d->dpi, &d->label);
		emit(pipeline, flow, ts_us, &facts);
	}
}

static void finish_dpi(struct pipeline *pipeline, struct flow *flow, uint64_t ts_us, int gave_up)
{
	struct flow_dissect *d = flow->dissect;
	if (gave_up) {
		dpi_flow_giveup(pipeline->dpi, d->dpi);
		pipeline->stats.dpi_giveups++;
	}
	dpi_flow_label(d->dpi, &d->label);
	maybe_emit(pipeline, flow, ts_us);
	dpi_flow_free(d->dpi);
	d->dpi = NULL;
}

static void on_flow_end(void *context, struct flow *flow, enum flow_end_reason reason)
{
	struct pipeline *pipeline = context;
	(void)reason;
	if (!flow->dissect)
		return;
	if (flow->dissect->dpi)
		finish_dpi(pipeline, flow, flow->last_us, 1);
	free(flow->dissect);
	flow->dissect = NULL;
}

struct pipeline *pipeline_new(const struct pipeline_config *config, pipeline_sink_fn sink,
			      void *sink_context)
{
	struct pipeline *pipeline = calloc(1, sizeof *pipeline);
	if (!pipeline)
		return NULL;
	pipeline->config = *config;
	pipeline->sink = sink;
	pipeline->sink_context = sink_context;
	pipeline->dpi = dpi_engine_new();
	pipeline->flows = flow_table_new(&config->flows, on_flow_end, pipeline);
	if (!pipeline->dpi || !pipeline->flows) {
		pipeline_free(pipeline);
		return NULL;
	}
	return pipeline;
}

void pipeline_free(struct pipeline *pipeline)
{
	if (!pipeline)
		return;
	/* Flows first: ending them uses the engine. */
	flow_table_free(pipeline->flows);
	dpi_engine_free(pipeline->dpi);
	free(pipeline);
}

void pipeline_packet(struct pipeline *pipeline, int dlt, uint64_t ts_us, const uint8_t *frame,
		     size_t caplen, size_t wirelen)
{
	struct pipeline_stats *stats = &pipeline->stats;
	stats->packets++;
	stats->bytes += wirelen;

	struct decoded_packet packet;
	enum decode_result result = decode_packet(dlt, frame, caplen, wirelen, &packet);
	stats->decode[result]++;
	if (result != DECODE_OK)
		return;

	if (ts_us >= pipeline->next_expiry_us) {
		flow_table_expire(pipeline->flows, ts_us);
		pipeline->next_expiry_us = ts_us + EXPIRY_INTERVAL_US;
	}

	enum flow_direction direction;
	struct flow *flow = flow_table_lookup(pipeline->flows, &packet, ts_us, &direction);
	if (!flow) {
		stats->out_of_memory++;
		return;
	}
	struct flow_dissect *d = flow->dissect;
	if (!d) {
		d = flow->dissect = calloc(1, sizeof *d);
		if (!d) {
			stats->out_of_memory++;
			return;
		}
		d->dpi = dpi_flow_new();
		if (!d->dpi) {
			stats->out_of_memory++;
			return;
		}
		stats->dpi_flows++;
	}
	if (!d->dpi)
		return; /* detection over: nothing more to do for this packet */
	/*
	 * A bare TCP ACK after the handshake carries nothing nDPI dissects; the
	 * handshake itself (up to the first payload) it does use, to track the
	 * connection's sequence numbers.
	 */
	if (packet.l4_proto == 6 && packet.payload_len == 0 && d->payload_fed &&
	    !(packet.tcp_flags & (DECODE_TCP_SYN | DECODE_TCP_FIN | DECODE_TCP_RST)))
		return;
	if (packet.payload_len)
		d->payload_fed = 1;
	stats->dpi_packets++;

	int done = dpi_flow_process(pipeline->dpi, d->dpi, packet.l3, packet.l3_len, ts_us / 1000);
	d->dpi_packets++;
	maybe_emit(pipeline, flow, ts_us);
	/*
	 * Once nDPI has classified the flow and given its name, what it could
	 * still extract (certificates, DNS answers, HTTP responses) is not used:
	 * stop here rather than feed it the rest of the handshake.
	 */
	if (d->name_emitted && dpi_flow_classified(d->dpi))
		done = 1;
	unsigned budget = packet.l4_proto == 6 ? pipeline->config.dpi_max_packets_tcp
					       : pipeline->config.dpi_max_packets_udp;
	if (done)
		finish_dpi(pipeline, flow, ts_us, 0);
	else if (d->dpi_packets >= budget)
		finish_dpi(pipeline, flow, ts_us, 1);
}

void pipeline_tick(struct pipeline *pipeline, uint64_t now_us)
{
	flow_table_expire(pipeline->flows, now_us);
	pipeline->next_expiry_us = now_us + EXPIRY_INTERVAL_US;
}

void pipeline_flush(struct pipeline *pipeline)
{
	flow_table_flush(pipeline->flows);
	pipeline->next_expiry_us = 0;
}

const struct pipeline_stats *pipeline_stats(const struct pipeline *pipeline)
{
	return &pipeline->stats;
}

const struct flow_table_stats *pipeline_flow_stats(const struct pipeline *pipeline)
{
	return flow_table_stats(pipeline->flows);
}
