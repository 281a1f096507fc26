/*
 * pipeline: decode -> flow table -> dissect -> observations, for one capture
 * thread. Our own readers give the names and headers: DNS, mDNS and LLMNR
 * datagrams directly; QUIC clients' Initial packets; and both sides of TCP
 * connections (TLS hellos, HTTP/1 messages, DNS over TCP) through
 * reassembly, from their first payload until the reader wants no more. A
 * flow one of our readers takes is taken from nDPI too (dpi_hand_over()): its
 * state is freed and its label is nDPI's lookup of the name our reader gives.
 * The other flows nDPI gets until it has classified them and has nothing
 * more to extract (or a packet budget runs out); then its state is freed and
 * only a compact label stays with the flow. The addresses DNS answers give
 * are kept (dnscache.c) to attribute flows that name nothing.
 */
#include "pipeline.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

#include "../dissectors/cookie.h"
#include "../dissectors/dns.h"
#include "../dissectors/ndpi_glue.h"
#include "../dissectors/http1.h"
#include "../dissectors/quic.h"
#include "../dissectors/tls.h"
#include "arena.h"
#include "consent.h"
#include "decrypt.h"
#include "dnscache.h"
#include "identifiers.h"
#include "reassembly.h"

/*
 * One direction of a TCP connection, reassembled for our own parsers: the
 * client's (TLS ClientHello, HTTP/1 requests, DNS queries) and the server's
 * (ServerHello, HTTP/1 responses, DNS answers). A stream is made at the
 * connection's first payload and freed as soon as its parser has what it
 * wants (for TLS, the hello).
 */
enum stream_kind { STREAM_UNKNOWN = 0, STREAM_TLS, STREAM_HTTP, STREAM_DNS, STREAM_OTHER };

struct flow_dissect;

/*
 * A reader's buffered bytes (a TCP stream's, or a QUIC reader's): while it
 * holds some, it is in the pipeline's holders list, most recently fed first,
 * so that readers left hanging can be given up for room (make_room()).
 */
struct holder {
	struct holder *newer, *older;
	size_t bytes;             /* what the reader held when last asked */
	uint64_t fed_us;          /* packet time it was last fed */
	uint64_t holding_since_us;/* packet time it began to hold bytes */
	struct flow_dissect *owner;
	int8_t dir;               /* the stream's enum flow_direction; -1 for a QUIC reader */
};

struct stream {
	struct tcp_stream tcp;
	struct holder hold;
	uint8_t dir;              /* enum flow_direction: FLOW_TO_SERVER is the client's */
	uint8_t kind;             /* enum stream_kind */
	uint8_t resyncs;          /* HTTP/1: times reading started again after a fault */
	uint8_t hello_done;       /* TLS: the hello is read (or never will be); decryption may go on */
	uint32_t resync_left;     /* HTTP/1: bytes still searched for a message start; 0 when reading */
	union {
		struct tls_reader tls;
		struct http1_parser http;
		struct dns_tcp_reader dns;
	} reader;                 /* by kind */
};

/*
 * The Host of a connection's latest requests, so that a response (and its
 * Set-Cookie) is put with its site: the n-th final response answers the
 * n-th request. A response whose request is not known (more than
 * HTTP_HOSTS_MAX outstanding, or not read yet) or can no longer be paired
 * for sure (a message lost to a gap) gets no host, and the DNS names its
 * server instead (`resolved`): no host is better than a wrong one.
 *
 * Small (about 100 bytes and the names): a connection names one host, now
 * and then a few; it lives as long as the flow's HTTP streams, whose memory
 * counts per flow (like the streams' own), not against the readers' bound,
 * where a flood of unanswered requests would pin it.
 */
enum { HTTP_HOSTS_MAX = 8, HTTP_NAMES_MAX = 8, HTTP_NAME_NONE = 0xff };

struct http_hosts {
	uint64_t requests, responses; /* read so far; responses: final ones */
	uint8_t unpaired;             /* a message was lost: counts no longer pair */
	uint8_t name_count;
	uint8_t slot[HTTP_HOSTS_MAX]; /* by request, a ring: its host in names[], or NONE */
	char *names[HTTP_NAMES_MAX];  /* the connection's distinct hosts */
};

static void http_hosts_free(struct http_hosts *hosts)
{
	if (!hosts)
		return;
	for (uint8_t i = 0; i < hosts->name_count; i++)
		free(hosts->names[i]);
	free(hosts);
}

/*
 * A TCP handshake (SYN, SYN-ACK, ACK) held back from nDPI until the first
 * payload says whose the flow is: most are our readers' (TLS, HTTP/1), and
 * nDPI need never see them; the others get the handshake replayed first,
 * with its times, exactly as if it had been fed as it came. Records of
 * packet time, length and IP packet, in a buffer that grows with them.
 */
enum { HELD_PACKETS_MAX = 4, HELD_PACKET_MAX = 128 };

struct held_handshake {
	uint8_t count;
	uint16_t used;
	uint8_t data[];
};

/* What the dissect stage keeps per flow (flow.h leaves it opaque). */
struct flow_dissect {
	struct dpi_flow *dpi;  /* made at the first packet nDPI gets; NULL once detection is over */
	uint8_t dpi_done;      /* detection is over (or our readers took the flow) */
	uint8_t sniff_tries;   /* client payloads of a mid-connection capture none of ours */
	struct dpi_label label;
	uint16_t dpi_packets;
	uint8_t name_emitted;
	uint8_t payload_fed;   /* nDPI has had a TCP packet with payload */
	uint8_t stream_kind;   /* enum stream_kind: what the client's byte stream holds */
	uint8_t opened;        /* bit by enum flow_direction: that way's stream was made */
	struct stream *streams[2]; /* by enum flow_direction, while being read */
	char *name;            /* the flow's SNI or latest Host, for later observations */
	uint8_t named;         /* an observation with a host has been made of this flow */
	uint8_t saw_payload;   /* application data has been seen, either way */
	uint8_t settled;       /* nothing more can name the flow: see maybe_connection() */
	uint8_t own_label;     /* 1 + enum dpi_master: our readers took the flow from nDPI */
	uint8_t label_named;   /* and its label has been looked up by the name it gave */
	struct http_hosts *http;   /* an HTTP/1 connection's requests awaiting responses */
	struct quic_reader *quic;  /* a QUIC client's Initials, until its hello is read */
	struct holder quic_hold;   /* what the QUIC reader holds */
	struct held_handshake *held; /* a TCP handshake not yet given to nDPI */
	uint8_t quic_done;         /* the QUIC reader has had its say (or never will) */
	uint64_t client_data_us;   /* packet time of the client's latest new data; 0: none yet */
	uint32_t client_seq_end;   /* TCP: the end of the client's furthest data seen */
	uint8_t client_seq_known;
	struct decrypt_conn *tls;  /* with a key log: the connection decrypted (daemon/decrypt.h) */
	uint8_t tls_waiting;       /* it is in the pipeline's list of those waiting for a key */
	uint8_t tls_tried;         /* a decryptor was made for it (it may have ended since) */
	uint64_t tls_wait_since_us;/* packet time it began to wait for its key */
};

enum { HTTP_PATH_MAX = 8192, HTTP_VALUE_MAX = 1024, COOKIE_TEXT_MAX = 65536 };

/*
 * nDPI's label for a name our reader gave, by (protocol, name): the same
 * names come all the time, and nDPI's host matching walks an automaton.
 * Only a label found by the name is kept; one that depends on the server's
 * address is looked up each time.
 */
enum { NAME_LABELS = 1024, NAME_LABEL_MAX = 64 };

struct name_label_entry {
	uint8_t master;        /* 1 + enum dpi_master; 0: empty */
	uint8_t by_name;       /* the name matched: the label does not depend on the address */
	char name[NAME_LABEL_MAX];
	struct dpi_label label;
};

/* An HTTP/1 stream starts reading again at most this often, within this many bytes of a fault. */
enum { HTTP_RESYNC_MAX = 8, HTTP_RESYNC_BYTES = 1024 * 1024 };

/* A client seen from mid-connection is sniffed at up to this many payloads. */
enum { SNIFF_TRIES_MAX = 8 };

struct label_cache_entry {
	uint32_t key;
	uint8_t valid;
	char text[OBS_APP_MAX];
};

/*
 * Decryption's bounds: connections decrypted at once (each about 1 KiB
 * idle, up to 2 x TLSDEC_HOLD_MAX while it holds records), those waiting
 * for a key that may still come, and how long one waits.
 */
enum { DECRYPT_CONNS_MAX = 4096, DECRYPT_WAITING_MAX = 64 };
#define DECRYPT_WAIT_US (30ULL * 1000000)

struct pipeline {
	struct pipeline_config config;
	struct flow_table *flows;
	struct dpi_engine *dpi;
	pipeline_sink_fn sink;
	void *sink_context;
	uint64_t next_expiry_us;
	struct pipeline_stats stats;
	struct dns_record dns_record;    /* scratch for the DNS parser, one per thread */
	struct dns_answers *dns_answers; /* one response's answers, gathered */
	struct dns_cache *dns_cache;     /* address -> the name a device resolved it for */
	struct label_cache_entry label_cache[256];
	struct name_label_entry name_labels[NAME_LABELS];
	struct tcp_reassembly reassembly;
	struct tls_hello hello;           /* scratch for the TLS reader */
	size_t reader_bytes, max_reader_bytes; /* held by all streams' readers */
	struct holder *newest_holder, *oldest_holder; /* readers that hold bytes */
	/* Scratch for one HTTP message's values, bounded; what is longer is cut. */
	char http_path[HTTP_PATH_MAX], http_referer[HTTP_PATH_MAX];
	char http_origin[HTTP_VALUE_MAX], http_user_agent[HTTP_VALUE_MAX];
	char http_value[HTTP_VALUE_MAX];
	char cookie[COOKIE_TEXT_MAX];
	/*
	 * TLS decryption: its counters; the flows whose records wait for a key
	 * that may still come (live capture follows the key logs), at most
	 * DECRYPT_WAITING_MAX (each holds up to TLSDEC_HOLD_MAX a direction);
	 * `decrypting` while a decrypted message is read, so that its
	 * observations say so.
	 */
	struct decrypt_stats decrypt_stats;
	struct flow *tls_waiting[DECRYPT_WAITING_MAX];
	size_t tls_waiting_count;
	size_t decryptors;               /* decryptors in use */
	uint8_t decrypting;
};

enum { EXPIRY_INTERVAL_US = 1000000, DNS_CACHE_ENTRIES = 8192 };

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
	config->max_reader_bytes = 32 * 1024 * 1024;
	config->max_pending_bytes = 32 * 1024 * 1024;
	config->resume_pause_us = 1000000;
}

static enum observation_kind kind_of(const struct dpi_facts *facts, const struct flow *flow)
{
	uint16_t port = flow_server_port(flow);
	switch (facts->source) {
	case DPI_NAME_DNS:
		/* DNS over TCP that our reader did not take (no port 53): the name of its query. */
		if (port != 53 && flow_client_port(flow) != 53)
			return OBS_OTHER_NAME;
		return OBS_DNS_QUERY;
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

/* Copies as much of `src` as fits, always terminated (printf is slow for this). */
static void copy_string(char *dst, size_t size, const char *src)
{
	size_t len = strnlen(src, size - 1);
	memcpy(dst, src, len);
	dst[len] = '\0';
}

/*
 * nDPI's label for a (master, app) pair, from a small direct-mapped cache:
 * ndpi_protocol2name() formats with printf, and observations ask for the same
 * few labels all the time.
 */
static void label_text(struct pipeline *pipeline, const struct dpi_label *label, char *out,
		       size_t size)
{
	uint32_t key = (uint32_t)label->master << 16 | label->app;
	struct label_cache_entry *e = &pipeline->label_cache[(key * 2654435761u) >> 24];
	if (!e->valid || e->key != key) {
		dpi_label_name(pipeline->dpi, label, e->text, sizeof e->text);
		e->key = key;
		e->valid = 1;
	}
	copy_string(out, size, e->text);
}

/* The name later observations of a flow carry: its SNI, or its latest Host. */
static void flow_name_set(struct flow_dissect *d, const char *name)
{
	if (!name[0] || (d->name && strcmp(d->name, name) == 0))
		return;
	char *copy = strdup(name);
	if (!copy)
		return; /* the old name stays: a later observation may say less */
	free(d->name);
	d->name = copy;
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

/*
 * DNS, mDNS and LLMNR over UDP, by port: our own parser (dissectors/dns.c)
 * reads every question and answer of every message.
 */
enum dns_port_kind { DNS_PORT_NONE, DNS_PORT_DNS, DNS_PORT_MDNS, DNS_PORT_LLMNR };

static enum dns_port_kind dns_port_kind(const struct flow *flow)
{
	if (flow->key.l4_proto != 17)
		return DNS_PORT_NONE;
	uint16_t lo = flow->key.port_lo, hi = flow->key.port_hi;
	if (lo == 53 || hi == 53)
		return DNS_PORT_DNS;
	if (lo == 5353 || hi == 5353)
		return DNS_PORT_MDNS;
	if (lo == 5355 || hi == 5355)
		return DNS_PORT_LLMNR;
	return DNS_PORT_NONE;
}

static void label_by_name(struct pipeline *pipeline, struct flow *flow, const char *host);
static void replay_held(struct pipeline *pipeline, struct flow *flow);
static void dpi_hand_over(struct pipeline *pipeline, struct flow *flow, enum dpi_master master);

/* The fields every observation of a flow shares. */
static void observation_init(struct pipeline *pipeline, const struct flow *flow, uint64_t ts_us,
			     enum observation_kind kind, struct observation *obs)
{
	struct flow_dissect *d = flow->dissect;
	memset(obs, 0, sizeof *obs);
	obs->ts_us = ts_us;
	obs->kind = kind;
	obs->flow_id = flow->id;
	obs->ip_version = flow->key.ip_version;
	obs->l4_proto = flow->key.l4_proto;
	memcpy(obs->client_addr, flow_client_addr(flow), 16);
	memcpy(obs->server_addr, flow_server_addr(flow), 16);
	obs->client_port = flow_client_port(flow);
	obs->server_port = flow_server_port(flow);
	obs->has_client_mac = flow->has_client_mac;
	memcpy(obs->client_mac, flow->client_mac, 6);
	obs->decrypted = pipeline->decrypting;
	if (d->dpi)
		dpi_flow_label(d->dpi, &d->label);
	label_text(pipeline, &d->label, obs->app, sizeof obs->app);
}

/* The name a device resolved the flow's server address for, or NULL. */
static const char *resolved_name(struct pipeline *pipeline, const struct flow *flow,
				 uint64_t ts_us)
{
	/* A name server's own address is not what its clients asked for. */
	if (dns_port_kind(flow) != DNS_PORT_NONE || flow_server_port(flow) == 53)
		return NULL;
	return dns_cache_get(pipeline->dns_cache, flow_server_addr(flow),
			     flow->key.ip_version == 4 ? 4 : 16, ts_us);
}

static void observation_emit(struct pipeline *pipeline, struct flow *flow,
			     struct observation *obs)
{
	if (!obs->host[0] && !obs->resolved)
		obs->resolved = resolved_name(pipeline, flow, obs->ts_us);
	/* Named, or attributed through the DNS: no `connection` observation needed. */
	if (obs->host[0] || obs->resolved)
		flow->dissect->named = 1;
	pipeline->stats.observations[obs->kind]++;
	if (pipeline->sink(pipeline->sink_context, obs) != 0)
		pipeline->stats.sink_errors++;
}

/*
 * The answer section of one response, gathered for a single observation.
 * Bounded: at most DNS_ANSWERS_MAX records and DNS_ARENA_SIZE bytes of text;
 * what does not fit is counted as dropped.
 */
enum { DNS_ANSWERS_MAX = 64, DNS_ARENA_SIZE = 16384, DNS_CHAIN_MAX = 16, DNS_QUESTIONS_MAX = 32 };

struct dns_answers {
	struct observation_dns_record records[DNS_ANSWERS_MAX];
	uint16_t count, dropped;
	char arena[DNS_ARENA_SIZE];
	size_t arena_used;
	const char *chain[DNS_CHAIN_MAX];
	char qname[OBS_HOST_MAX];
};

struct dns_context {
	struct pipeline *pipeline;
	struct flow *flow;
	uint64_t ts_us;
	enum dns_port_kind port_kind;
	struct dns_answers *answers;
	unsigned questions;
};

/* A lower-cased copy in the arena, or NULL when it is full. */
static const char *arena_copy(struct dns_answers *answers, const char *text)
{
	size_t len = strlen(text);
	if (len + 1 > DNS_ARENA_SIZE - answers->arena_used)
		return NULL;
	char *copy = answers->arena + answers->arena_used;
	for (size_t i = 0; i < len; i++)
		copy[i] = (char)tolower((unsigned char)text[i]);
	copy[len] = '\0';
	answers->arena_used += len + 1;
	return copy;
}

static int on_dns_record(void *context, const struct dns_header *header,
			 const struct dns_record *record)
{
	struct dns_context *c = context;
	static const enum observation_kind query_kinds[] = {
		[DNS_PORT_DNS] = OBS_DNS_QUERY, [DNS_PORT_MDNS] = OBS_MDNS_QUERY,
		[DNS_PORT_LLMNR] = OBS_LLMNR_QUERY,
	};
	struct dns_answers *answers = c->answers;
	if (header->is_response) {
		if (record->section == DNS_QUESTION && answers->qname[0] == '\0')
			normalise_host(record->name, 0, answers->qname, sizeof answers->qname);
		if (record->section != DNS_ANSWER)
			return 0;
		/* The name the device asked for, for the flows to the addresses it was given. */
		if (record->addr_len == 4 || record->addr_len == 16)
			dns_cache_put(c->pipeline->dns_cache, record->addr, record->addr_len,
				      answers->qname[0] ? answers->qname : record->name, record->ttl,
				      c->ts_us);
		char data[DNS_NAME_TEXT_MAX];
		if (record->addr_len)
			observation_addr_text(record->addr_len == 4 ? 4 : 6, record->addr, data,
					      sizeof data);
		else
			copy_string(data, sizeof data, record->target);
		const char *name = NULL, *copy = NULL;
		if (answers->count < DNS_ANSWERS_MAX && (name = arena_copy(answers, record->name)) &&
		    (copy = arena_copy(answers, data))) {
			struct observation_dns_record *r = &answers->records[answers->count++];
			r->name = name;
			r->data = copy;
			r->type = record->type;
			r->ttl = record->ttl;
			r->ech = record->svc_has_ech;
		} else {
			answers->dropped++;
		}
		return 0;
	}
	if (record->section != DNS_QUESTION)
		return 0;
	/* Real queries ask one question (mDNS a few): a crafted one may ask hundreds. */
	if (++c->questions > DNS_QUESTIONS_MAX) {
		c->pipeline->stats.dns_questions_dropped++;
		return 0;
	}
	struct observation obs;
	char qname[OBS_HOST_MAX];
	normalise_host(record->name, 0, qname, sizeof qname);
	label_by_name(c->pipeline, c->flow, qname);
	observation_init(c->pipeline, c->flow, c->ts_us, query_kinds[c->port_kind], &obs);
	memcpy(obs.host, qname, sizeof obs.host);
	obs.dns_qtype = record->type;
	observation_emit(c->pipeline, c->flow, &obs);
	return 0;
}

/* Follows CNAME records from the question: the chain a tracker may hide behind. */
static uint8_t dns_chain(struct dns_answers *answers)
{
	uint8_t count = 0;
	answers->chain[count++] = answers->qname;
	while (count < DNS_CHAIN_MAX) {
		const char *next = NULL;
		for (size_t i = 0; i < answers->count && !next; i++) {
			const struct observation_dns_record *r = &answers->records[i];
			if (r->type == DNS_TYPE_CNAME && r->data[0] &&
			    strcmp(r->name, answers->chain[count - 1]) == 0)
				next = r->data;
		}
		for (uint8_t i = 0; next && i < count; i++)
			if (strcmp(answers->chain[i], next) == 0)
				next = NULL; /* a CNAME loop: stop where it closes */
		if (!next)
			break;
		answers->chain[count++] = next;
	}
	return count > 1 ? count : 0;
}

/* One DNS message, from a UDP datagram or a TCP stream: its questions and its answer. */
static void dns_message(struct pipeline *pipeline, struct flow *flow, uint64_t ts_us,
			enum dns_port_kind port_kind, const uint8_t *message, size_t len)
{
	static const enum observation_kind answer_kinds[] = {
		[DNS_PORT_DNS] = OBS_DNS_ANSWER, [DNS_PORT_MDNS] = OBS_MDNS_ANSWER,
		[DNS_PORT_LLMNR] = OBS_LLMNR_ANSWER,
	};
	struct dns_answers *answers = pipeline->dns_answers;
	answers->count = answers->dropped = 0;
	answers->arena_used = 0;
	answers->qname[0] = '\0';
	struct dns_context context = {
		.pipeline = pipeline, .flow = flow, .ts_us = ts_us,
		.port_kind = port_kind, .answers = answers,
	};
	struct dns_header header;
	enum dns_error error = dns_parse(message, len, &header, &pipeline->dns_record,
					 on_dns_record, &context);
	pipeline->stats.dns_messages++;
	if (error != DNS_OK)
		pipeline->stats.dns_errors[-error]++;
	/* Whatever of a response could be read, including an empty answer (NXDOMAIN). */
	if (!header.is_response || (answers->qname[0] == '\0' && answers->count == 0))
		return;
	struct observation obs;
	label_by_name(pipeline, flow, answers->qname);
	observation_init(pipeline, flow, ts_us, answer_kinds[context.port_kind], &obs);
	if (answers->qname[0])
		copy_string(obs.host, sizeof obs.host, answers->qname);
	else
		copy_string(obs.host, sizeof obs.host, answers->records[0].name);
	obs.dns_rcode = header.rcode;
	obs.dns_answers = answers->records;
	obs.dns_answer_count = answers->count;
	obs.dns_answers_dropped = answers->dropped;
	if (answers->qname[0]) {
		obs.dns_chain_count = dns_chain(answers);
		obs.dns_chain = answers->chain;
	}
	observation_emit(pipeline, flow, &obs);
}

/* Keeps the first question's name, to label the flow by. */
static int first_question(void *context, const struct dns_header *header,
			  const struct dns_record *record)
{
	char *name = context;
	(void)header;
	if (record->section == DNS_QUESTION && !name[0])
		normalise_host(record->name, 0, name, OBS_HOST_MAX);
	return 0;
}

/*
 * A datagram on a DNS, mDNS or LLMNR port that reads as a whole DNS message
 * takes the flow from nDPI; anything else on those ports (a VPN on port 53)
 * stays nDPI's to classify.
 */
static void dns_hand_over(struct pipeline *pipeline, struct flow *flow,
			  enum dns_port_kind port_kind, const struct decoded_packet *packet)
{
	char name[OBS_HOST_MAX] = "";
	struct dns_header header;
	if (dns_parse(packet->payload, packet->payload_len, &header, &pipeline->dns_record,
		      first_question, name) != DNS_OK)
		return;
	dpi_hand_over(pipeline, flow, port_kind == DNS_PORT_DNS    ? DPI_MASTER_DNS
				    : port_kind == DNS_PORT_MDNS ? DPI_MASTER_MDNS
								 : DPI_MASTER_LLMNR);
	label_by_name(pipeline, flow, name);
}

static void dissect_dns(struct pipeline *pipeline, struct flow *flow,
			const struct decoded_packet *packet, uint64_t ts_us)
{
	dns_message(pipeline, flow, ts_us, dns_port_kind(flow), packet->payload,
		    packet->payload_len);
}

static void emit(struct pipeline *pipeline, struct flow *flow, uint64_t ts_us,
		 const struct dpi_facts *facts)
{
	struct observation obs;
	observation_init(pipeline, flow, ts_us, kind_of(facts, flow), &obs);
	normalise_host(facts->host, obs.kind == OBS_HTTP_REQUEST, obs.host, sizeof obs.host);
	obs.dns_qtype = facts->dns_qtype;
	if (obs.kind == OBS_HTTP_REQUEST) {
		obs.http_method = facts->http_method;
		obs.http_path = http_path_of(facts->http_url, facts->host);
	}
	observation_emit(pipeline, flow, &obs);
	flow->dissect->name_emitted = 1;
	if (obs.kind == OBS_TLS_SNI || obs.kind == OBS_QUIC_SNI || obs.kind == OBS_DTLS_SNI ||
	    obs.kind == OBS_HTTP_REQUEST)
		flow_name_set(flow->dissect, obs.host);
}

/* Emits the flow's name once nDPI has one (or an HTTP request without Host). */
static void maybe_emit(struct pipeline *pipeline, struct flow *flow, uint64_t ts_us)
{
	struct flow_dissect *d = flow->dissect;
	if (d->name_emitted || !d->dpi)
		return;
	struct dpi_facts facts;
	dpi_flow_facts(d->dpi, &facts);
	if (!facts.host[0] && !facts.http_method)
		return;
	/* Our own parsers report the names of these flows; nDPI's one is dropped. */
	if (((facts.source == DPI_NAME_DNS || facts.source == DPI_NAME_MDNS ||
	      facts.source == DPI_NAME_LLMNR) && dns_port_kind(flow) != DNS_PORT_NONE) ||
	    (facts.source == DPI_NAME_TLS && d->stream_kind == STREAM_TLS) ||
	    (facts.source == DPI_NAME_HTTP && d->stream_kind == STREAM_HTTP) ||
	    (facts.source == DPI_NAME_DNS && d->stream_kind == STREAM_DNS)) {
		d->name_emitted = 1;
		return;
	}
	/*
	 * The stream's start has not arrived yet: our reader may give the name.
	 * Asked again at the next packet; if the start never comes, nDPI's stands.
	 */
	if ((facts.source == DPI_NAME_TLS || facts.source == DPI_NAME_HTTP) &&
	    d->streams[FLOW_TO_SERVER] && d->stream_kind == STREAM_UNKNOWN)
		return;
	emit(pipeline, flow, ts_us, &facts);
}

/*
 * Our readers take the flow from nDPI: they dissect what nDPI's TLS, HTTP
 * and DNS dissectors would (better, and across segments), so nDPI's state is
 * freed (its TLS dissector alone buffers up to 16 KiB a flow) and it sees no
 * more packets. The flow's label is then nDPI's lookup of the name our
 * reader gives (label_by_name()), or of the server's address until then.
 */
static void dpi_hand_over(struct pipeline *pipeline, struct flow *flow, enum dpi_master master)
{
	struct flow_dissect *d = flow->dissect;
	/* nDPI done already: its label stands. */
	if (d->own_label || d->dpi_done)
		return;
	d->dpi_done = 1;
	dpi_flow_free(d->dpi);
	d->dpi = NULL;
	free(d->held);
	d->held = NULL;
	pipeline->stats.dpi_handovers++;
	d->own_label = (uint8_t)(1 + master);
	d->name_emitted = 1; /* nDPI's name, if it had one, is one our reader gives */
	dpi_label_for_name(pipeline->dpi, master, NULL,
			   flow->key.ip_version == 4 ? flow_server_addr(flow) : NULL, &d->label);
}

/* The label of a flow our readers took over, by the first name it gives. */
static void label_by_name(struct pipeline *pipeline, struct flow *flow, const char *host)
{
	struct flow_dissect *d = flow->dissect;
	if (!d->own_label || d->label_named || !host[0])
		return;
	d->label_named = 1;
	enum dpi_master master = (enum dpi_master)(d->own_label - 1);
	const uint8_t *addr = flow->key.ip_version == 4 ? flow_server_addr(flow) : NULL;
	size_t len = strlen(host);
	struct name_label_entry *e = NULL;
	if (len < NAME_LABEL_MAX) {
		uint64_t h = 0xcbf29ce484222325ULL ^ d->own_label;
		for (size_t i = 0; i < len; i++)
			h = (h ^ (unsigned char)host[i]) * 0x100000001b3ULL;
		e = &pipeline->name_labels[(h ^ h >> 29) % NAME_LABELS];
		if (e->master == d->own_label && strcmp(e->name, host) == 0) {
			if (e->by_name)
				d->label = e->label;
			else /* no name of nDPI's lists: its address lists may know the server */
				dpi_label_for_name(pipeline->dpi, master, NULL, addr, &d->label);
			return;
		}
	}
	dpi_label_for_name(pipeline->dpi, master, host, NULL, &d->label);
	int by_name = d->label.master != 0;
	if (!by_name)
		dpi_label_for_name(pipeline->dpi, master, NULL, addr, &d->label);
	if (e) {
		e->master = d->own_label;
		e->by_name = (uint8_t)by_name;
		memcpy(e->name, host, len + 1);
		if (by_name)
			e->label = d->label;
	}
}

/*
 * A flow that named nothing, once nothing more can name it (nDPI is done and
 * the client's stream read): one `connection` observation when a device
 * resolved its server's address, so that the contact is not lost.
 */
static void maybe_connection(struct pipeline *pipeline, struct flow *flow, uint64_t ts_us,
			     int at_end)
{
	struct flow_dissect *d = flow->dissect;
	if (d->settled || !d->dpi_done || d->streams[FLOW_TO_SERVER] || d->streams[FLOW_TO_CLIENT] ||
	    !d->saw_payload)
		return;
	/* A server whose reply we read (a ServerHello, a response) may still name it. */
	if (!at_end && d->stream_kind != STREAM_UNKNOWN && d->stream_kind != STREAM_OTHER &&
	    !(d->opened & (1u << FLOW_TO_CLIENT)))
		return;
	d->settled = 1;
	const char *resolved;
	if (d->named || !(resolved = resolved_name(pipeline, flow, ts_us)))
		return;
	struct observation obs;
	observation_init(pipeline, flow, ts_us, OBS_CONNECTION, &obs);
	obs.resolved = resolved;
	observation_emit(pipeline, flow, &obs);
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
	d->dpi_done = 1;
	maybe_connection(pipeline, flow, ts_us, 0);
}

/* The holders list: readers that hold bytes, most recently fed first. */
static void holder_unlink(struct pipeline *pipeline, struct holder *h)
{
	if (!h->bytes)
		return; /* not in the list */
	if (h->newer)
		h->newer->older = h->older;
	else
		pipeline->newest_holder = h->older;
	if (h->older)
		h->older->newer = h->newer;
	else
		pipeline->oldest_holder = h->newer;
	h->newer = h->older = NULL;
}

/* Says what a reader holds now, and makes it the most recently fed holder. */
static void holder_update(struct pipeline *pipeline, struct holder *h, size_t now, uint64_t ts_us)
{
	if (now && !h->bytes)
		h->holding_since_us = ts_us;
	h->fed_us = ts_us;
	holder_unlink(pipeline, h);
	pipeline->reader_bytes = pipeline->reader_bytes - h->bytes + now;
	h->bytes = now;
	if (!now)
		return;
	h->older = pipeline->newest_holder;
	if (h->older)
		h->older->newer = h;
	else
		pipeline->oldest_holder = h;
	pipeline->newest_holder = h;
}

static void stream_free(struct pipeline *pipeline, struct flow_dissect *d,
			enum flow_direction dir)
{
	struct stream *stream = d->streams[dir];
	if (!stream)
		return;
	holder_update(pipeline, &stream->hold, 0, stream->hold.fed_us);
	tcp_stream_free(&pipeline->reassembly, &stream->tcp);
	/* A handshake the connection ended before it was read (a stopped stream is counted already). */
	if (stream->kind == STREAM_TLS && stream->reader.tls.end == TLS_MORE && !stream->tcp.stopped)
		(dir == FLOW_TO_CLIENT ? pipeline->stats.tls_server_ends
				       : pipeline->stats.tls_ends)[TLS_MORE]++;
	if (stream->kind == STREAM_TLS)
		tls_reader_free(&stream->reader.tls);
	else if (stream->kind == STREAM_HTTP)
		http1_parser_free(&stream->reader.http);
	else if (stream->kind == STREAM_DNS)
		dns_tcp_reader_free(&stream->reader.dns);
	free(stream);
	d->streams[dir] = NULL;
	/* Responses are put with their requests' hosts only while both sides are read. */
	if (!d->streams[FLOW_TO_SERVER] && !d->streams[FLOW_TO_CLIENT] && d->http) {
		http_hosts_free(d->http);
		d->http = NULL;
	}
}

static void quic_free(struct pipeline *pipeline, struct flow_dissect *d)
{
	if (!d->quic)
		return;
	if (!d->quic_done)
		pipeline->stats.quic_ends[QUIC_MORE]++; /* the flow ended before its hello */
	holder_update(pipeline, &d->quic_hold, 0, d->quic_hold.fed_us);
	quic_reader_free(d->quic);
	free(d->quic);
	d->quic = NULL;
	d->quic_done = 1;
}

/* Out of the waiting list (it got its key, or is given up). */
static void waiting_remove(struct pipeline *pipeline, struct flow *flow)
{
	for (size_t i = 0; i < pipeline->tls_waiting_count; i++)
		if (pipeline->tls_waiting[i] == flow) {
			pipeline->tls_waiting[i] = pipeline->tls_waiting[--pipeline->tls_waiting_count];
			break;
		}
	flow->dissect->tls_waiting = 0;
}

/* The flow's decryptor is done with: keys wiped, out of the waiting list. */
static void decrypt_end(struct pipeline *pipeline, struct flow *flow)
{
	struct flow_dissect *d = flow->dissect;
	if (d->tls_waiting)
		waiting_remove(pipeline, flow);
	if (d->tls)
		pipeline->decryptors--;
	decrypt_conn_free(d->tls);
	d->tls = NULL;
}

/* Gives a waiting connection up: no key came in time, or room was needed. */
static void waiting_give_up(struct pipeline *pipeline, struct flow *flow)
{
	decrypt_conn_give_up(flow->dissect->tls, TLSDEC_END_NO_KEY);
	decrypt_end(pipeline, flow);
}

static void on_flow_end(void *context, struct flow *flow, enum flow_end_reason reason)
{
	struct pipeline *pipeline = context;
	(void)reason;
	if (!flow->dissect)
		return;
	/* A handshake never followed by payload: nDPI gets it now, as it would have. */
	replay_held(pipeline, flow);
	if (flow->dissect->dpi)
		finish_dpi(pipeline, flow, flow->last_us, 1);
	flow->dissect->dpi_done = 1;
	stream_free(pipeline, flow->dissect, FLOW_TO_SERVER);
	stream_free(pipeline, flow->dissect, FLOW_TO_CLIENT);
	decrypt_end(pipeline, flow);
	quic_free(pipeline, flow->dissect);
	maybe_connection(pipeline, flow, flow->last_us, 1);
	free(flow->dissect->name);
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
	pipeline->dns_answers = malloc(sizeof *pipeline->dns_answers);
	uint64_t seed = config->dns_cache_seed;
	if (!seed && getrandom(&seed, sizeof seed, 0) != (ssize_t)sizeof seed) {
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		seed = (uint64_t)now.tv_nsec * 0x9e3779b97f4a7c15ULL ^ (uint64_t)(uintptr_t)pipeline;
	}
	pipeline->dns_cache = dns_cache_new(DNS_CACHE_ENTRIES, seed);
	tcp_reassembly_init(&pipeline->reassembly);
	pipeline->reassembly.max_total_pending = config->max_pending_bytes;
	pipeline->max_reader_bytes = config->max_reader_bytes;
	pipeline->flows = flow_table_new(&config->flows, on_flow_end, pipeline);
	if (!pipeline->dpi || !pipeline->flows || !pipeline->dns_answers || !pipeline->dns_cache) {
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
	free(pipeline->dns_answers);
	dns_cache_free(pipeline->dns_cache);
	free(pipeline);
}

/* ---- TCP streams: reassembly, our own TLS, HTTP/1 and DNS readers ---- */

struct stream_context {
	struct pipeline *pipeline;
	struct flow *flow;
	struct stream *stream; /* NULL for a datagram (SSDP) */
	uint64_t ts_us;
	const char *request_host; /* a decrypted response: the host of its request, or NULL */
};

/*
 * What a stream's first bytes say it holds: a TLS handshake record (22,
 * version 3.x; from a server, an alert may come first); from the client, an
 * HTTP/1 request (a method of capital letters and '-', then a space); from
 * the server, an HTTP/1 status line. The readers make sure.
 */
static enum stream_kind sniff(const uint8_t *data, size_t len, enum flow_direction dir)
{
	if (len >= 2 && data[0] == TLS_CONTENT_HANDSHAKE && data[1] == 3)
		return STREAM_TLS;
	/* A server may warn before its hello (http_ipv6.pcap frame 94): the reader passes over it. */
	if (dir == FLOW_TO_CLIENT && len >= 2 && data[0] == TLS_CONTENT_ALERT && data[1] == 3)
		return STREAM_TLS;
	if (dir == FLOW_TO_CLIENT) {
		static const char status_line[] = "HTTP/1.";
		size_t n = len < sizeof status_line - 1 ? len : sizeof status_line - 1;
		return n && memcmp(data, status_line, n) == 0 ? STREAM_HTTP : STREAM_OTHER;
	}
	size_t i = 0;
	while (i < len && i <= HTTP1_METHOD_MAX &&
	       ((data[i] >= 'A' && data[i] <= 'Z') || (i > 0 && data[i] == '-')))
		i++;
	if (i > 0 && (i == len || (i < len && data[i] == ' ')))
		return STREAM_HTTP;
	return STREAM_OTHER;
}

static void emit_hello(struct stream_context *c, const struct tls_hello *hello)
{
	struct observation obs;
	struct flow_dissect *d = c->flow->dissect;
	if (!hello->is_server) {
		if (!hello->has_sni)
			return;
		char sni[OBS_HOST_MAX];
		normalise_host(hello->sni, 0, sni, sizeof sni);
		label_by_name(c->pipeline, c->flow, sni);
		observation_init(c->pipeline, c->flow, c->ts_us, OBS_TLS_SNI, &obs);
		memcpy(obs.host, sni, sizeof obs.host);
		obs.tls_versions = hello->versions;
		obs.tls_version_count = hello->version_count;
		obs.tls_ech = hello->ech_offered;
		flow_name_set(d, obs.host);
	} else {
		observation_init(c->pipeline, c->flow, c->ts_us, OBS_TLS_SERVER_HELLO, &obs);
		copy_string(obs.host, sizeof obs.host, d->name ? d->name : "");
		obs.tls_version = hello->selected_version ? hello->selected_version
							  : hello->legacy_version;
		obs.tls_cipher = hello->cipher_suite;
	}
	obs.tls_alpn = hello->alpn[0] ? hello->alpn : NULL;
	observation_emit(c->pipeline, c->flow, &obs);
}

/* Copies a header value into a NUL-terminated buffer, cut to fit; NULL when absent. */
static const char *span_text(struct http1_span span, char *buf, size_t size)
{
	if (!span.p)
		return NULL;
	size_t len = span.len < size - 1 ? span.len : size - 1;
	if (len)
		memcpy(buf, span.p, len);
	buf[len] = '\0';
	return buf;
}

/*
 * The length of a value that holds NUL bytes, for the observation's
 * text_len[] (0 for the others, which end at their NUL): no byte from the
 * wire is lost to a C string.
 */
static uint32_t text_len(const char *text, size_t len)
{
	return text && memchr(text, '\0', len) ? (uint32_t)len : 0;
}

/* As span_text(), with the length of the copy in *len. */
static const char *span_bytes(struct http1_span span, char *buf, size_t size, uint32_t *len)
{
	const char *text = span_text(span, buf, size);
	size_t n = span.len < size - 1 ? span.len : size - 1;
	*len = text_len(text, n);
	return text;
}

/*
 * A value as observations carry it: with its identifiers (query values,
 * cookie values) replaced by keyed hashes, unless the operator keeps them.
 */
enum redact_kind { REDACT_NONE, REDACT_URL };

static const char *redact(struct pipeline *pipeline, enum redact_kind kind,
			  struct http1_span span, char *out, size_t cap, uint32_t *len)
{
	const struct ident_key *key = pipeline->config.identifier_key;
	*len = 0;
	if (!span.p)
		return NULL;
	if (!key || kind == REDACT_NONE)
		return span_bytes(span, out, cap, len);
	struct ident_redaction done = ident_redact_query(key, span.p, span.len, out, cap);
	*len = text_len(out, done.len);
	return out;
}

/* A cookie value as observations carry it: a keyed hash, unless identifiers are kept. */
static const char *cookie_value(struct pipeline *pipeline, struct cookie_span value, char *out,
				size_t cap, uint32_t *len)
{
	const struct ident_key *key = pipeline->config.identifier_key;
	struct http1_span span = { value.p ? value.p : "", value.len };
	if (!key)
		return span_bytes(span, out, cap, len);
	*len = 0;
	ident_hash(key, span.p, span.len, out);
	return out;
}

static uint8_t saturate8(unsigned n)
{
	return n > 255 ? 255 : (uint8_t)n;
}

/* One `consent` observation per signal, with the message's host. */
static void emit_consent(struct stream_context *c, const char host[OBS_HOST_MAX],
			 const struct consent_signal *signals, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		struct observation consent;
		observation_init(c->pipeline, c->flow, c->ts_us, OBS_CONSENT, &consent);
		memcpy(consent.host, host, sizeof consent.host);
		consent.consent_decision = (uint8_t)signals[i].decision;
		consent.consent_source = signals[i].source;
		consent.consent_detail = signals[i].detail;
		observation_emit(c->pipeline, c->flow, &consent);
	}
}

/*
 * One observation per cookie of a request (cookie_sent), then the consent
 * signals the rules read in the request's URL and cookies.
 */
static void emit_request_cookies(struct stream_context *c, const struct observation *request,
				 const struct http1_message *m)
{
	struct pipeline *pipeline = c->pipeline;
	struct cookie_span headers[HTTP1_MAX_COOKIES];
	for (size_t i = 0; i < m->cookie_count; i++)
		headers[i] = (struct cookie_span){ m->cookies[i].p, m->cookies[i].len };
	struct cookie_pair pairs[PIPELINE_COOKIES_MAX];
	unsigned malformed = 0, dropped = 0;
	size_t n = cookie_parse_list(headers, m->cookie_count, pairs, PIPELINE_COOKIES_MAX,
				     &malformed, &dropped);
	pipeline->stats.cookies_malformed += malformed;
	pipeline->stats.cookies_dropped += dropped;
	pipeline->stats.cookie_headers_dropped += m->cookies_dropped;
	pipeline->stats.header_fields_dropped += m->headers_dropped;
	const struct consent_rules *rules = pipeline->config.consent_rules;
	for (size_t i = 0; i < n; i++) {
		struct observation cookie;
		observation_init(pipeline, c->flow, c->ts_us, OBS_COOKIE_SENT, &cookie);
		memcpy(cookie.host, request->host, sizeof cookie.host);
		char name[COOKIE_NAME_VALUE_MAX + 1];
		struct http1_span name_span = { pairs[i].name.p ? pairs[i].name.p : "", pairs[i].name.len };
		cookie.cookie_name = span_bytes(name_span, name, sizeof name,
						&cookie.text_len[OBS_TEXT_COOKIE_NAME]);
		cookie.cookie = cookie_value(pipeline, pairs[i].value, pipeline->cookie,
					     COOKIE_TEXT_MAX, &cookie.text_len[OBS_TEXT_COOKIE]);
		cookie.cookie_value_len = (uint32_t)pairs[i].value.len;
		cookie.cookie_lifetime = -1;
		cookie.cookie_malformed = saturate8(malformed);
		if (cookie_value_identifier_like(pairs[i].value.p, pairs[i].value.len))
			cookie.cookie_flags |= OBS_COOKIE_IDENTIFIER_LIKE;
		if (rules && consent_is_consent_cookie(rules, pairs[i].name.p, pairs[i].name.len))
			cookie.cookie_flags |= OBS_COOKIE_CONSENT;
		observation_emit(pipeline, c->flow, &cookie);
	}
	if (!rules)
		return;
	struct consent_request creq = {
		.host = request->host, .host_len = strlen(request->host),
		.target = m->target, .target_len = m->target_len,
		.cookies = pairs, .cookie_count = n,
	};
	struct consent_signal signals[8];
	emit_consent(c, request->host, signals, consent_evaluate_request(rules, &creq, signals, 8));
}

/* One observation per Set-Cookie header of a response (cookie_set), and its consent signal. */
static void emit_set_cookies(struct stream_context *c, const struct observation *response,
			     const struct http1_message *m)
{
	struct pipeline *pipeline = c->pipeline;
	const struct consent_rules *rules = pipeline->config.consent_rules;
	pipeline->stats.cookie_headers_dropped += m->cookies_dropped;
	pipeline->stats.header_fields_dropped += m->headers_dropped;
	for (size_t i = 0; i < m->set_cookie_count; i++) {
		struct set_cookie sc;
		if (set_cookie_parse(m->set_cookies[i].p, m->set_cookies[i].len, &sc) != 0) {
			pipeline->stats.set_cookies_ignored++;
			continue;
		}
		pipeline->stats.cookies_malformed += sc.malformed;
		struct observation cookie;
		observation_init(pipeline, c->flow, c->ts_us, OBS_COOKIE_SET, &cookie);
		memcpy(cookie.host, response->host, sizeof cookie.host);
		cookie.http_status = response->http_status;
		char name[COOKIE_NAME_VALUE_MAX + 1], domain[COOKIE_ATTRIBUTE_VALUE_MAX + 1],
			path[COOKIE_ATTRIBUTE_VALUE_MAX + 1];
		uint32_t ignored;
		cookie.cookie_name = span_bytes((struct http1_span){ sc.name.p ? sc.name.p : "", sc.name.len },
						name, sizeof name, &cookie.text_len[OBS_TEXT_COOKIE_NAME]);
		cookie.cookie = cookie_value(pipeline, sc.value, pipeline->cookie, COOKIE_TEXT_MAX,
					     &cookie.text_len[OBS_TEXT_COOKIE]);
		/* Domain and Path end at a NUL: they name a place, not an identifier. */
		if (sc.domain.p)
			cookie.cookie_domain = span_bytes((struct http1_span){ sc.domain.p, sc.domain.len },
							  domain, sizeof domain, &ignored);
		if (sc.path.p)
			cookie.cookie_path = span_bytes((struct http1_span){ sc.path.p, sc.path.len },
							path, sizeof path, &ignored);
		cookie.cookie_lifetime = set_cookie_lifetime(&sc, (int64_t)(c->ts_us / 1000000));
		cookie.cookie_value_len = (uint32_t)sc.value.len;
		cookie.cookie_same_site = (uint8_t)sc.same_site;
		cookie.cookie_malformed = saturate8(sc.malformed);
		cookie.cookie_flags = (sc.secure ? OBS_COOKIE_SECURE : 0) |
				      (sc.http_only ? OBS_COOKIE_HTTP_ONLY : 0) |
				      (sc.partitioned ? OBS_COOKIE_PARTITIONED : 0);
		if (cookie_value_identifier_like(sc.value.p, sc.value.len))
			cookie.cookie_flags |= OBS_COOKIE_IDENTIFIER_LIKE;
		if (rules && consent_is_consent_cookie(rules, sc.name.p, sc.name.len))
			cookie.cookie_flags |= OBS_COOKIE_CONSENT;
		observation_emit(pipeline, c->flow, &cookie);
		struct consent_signal signals[2];
		if (rules)
			emit_consent(c, response->host, signals,
				     consent_evaluate_set_cookie(rules, response->host,
								 strlen(response->host), &sc, signals, 2));
	}
}

static void http_request(struct stream_context *c, const struct http1_message *m)
{
	struct pipeline *pipeline = c->pipeline;
	struct flow_dissect *d = c->flow->dissect;
	struct observation obs;
	char host[OBS_HOST_MAX], method[HTTP1_METHOD_MAX + 1], name[OBS_HOST_MAX];
	const char *host_text = span_text(m->host, host, sizeof host);
	normalise_host(host_text ? host_text : "", 1, name, sizeof name);
	if (c->stream) {
		dpi_hand_over(pipeline, c->flow, DPI_MASTER_HTTP);
		label_by_name(pipeline, c->flow, name);
	}
	observation_init(pipeline, c->flow, c->ts_us, OBS_HTTP_REQUEST, &obs);
	memcpy(obs.host, name, sizeof obs.host);
	struct http1_span method_span = { m->method, m->method_len };
	obs.http_method = span_text(method_span, method, sizeof method);
	/* The target as sent, to 8 KiB: query strings can be long, never unbounded. */
	struct http1_span target = { m->target, m->target_len };
	obs.http_path = redact(pipeline, REDACT_URL, target, pipeline->http_path, HTTP_PATH_MAX,
			       &obs.text_len[OBS_TEXT_PATH]);
	obs.http_referer = redact(pipeline, REDACT_URL, m->referer, pipeline->http_referer,
				  HTTP_PATH_MAX, &obs.text_len[OBS_TEXT_REFERER]);
	obs.http_origin = span_bytes(m->origin, pipeline->http_origin, sizeof pipeline->http_origin,
				     &obs.text_len[OBS_TEXT_ORIGIN]);
	obs.http_user_agent = span_bytes(m->user_agent, pipeline->http_user_agent,
					 sizeof pipeline->http_user_agent,
					 &obs.text_len[OBS_TEXT_USER_AGENT]);
	observation_emit(pipeline, c->flow, &obs);
	emit_request_cookies(c, &obs, m);
	if (!c->stream)
		return;
	flow_name_set(d, obs.host);
	struct stream *reply = d->streams[FLOW_TO_CLIENT];
	if (reply && reply->kind == STREAM_HTTP)
		http1_parser_request_seen(&reply->reader.http, m);
	struct http_hosts *hosts = d->http;
	if (hosts) {
		uint8_t name = HTTP_NAME_NONE;
		for (uint8_t i = 0; i < hosts->name_count && name == HTTP_NAME_NONE; i++)
			if (strcmp(hosts->names[i], obs.host) == 0)
				name = i;
		if (name == HTTP_NAME_NONE && hosts->name_count < HTTP_NAMES_MAX &&
		    (hosts->names[hosts->name_count] = strdup(obs.host)))
			name = hosts->name_count++;
		hosts->slot[hosts->requests++ % HTTP_HOSTS_MAX] = name;
	}
}

static void http_response(struct stream_context *c, const struct http1_message *m)
{
	struct pipeline *pipeline = c->pipeline;
	struct http_hosts *hosts = c->flow->dissect->http;
	struct observation obs;
	observation_init(pipeline, c->flow, c->ts_us, OBS_HTTP_RESPONSE, &obs);
	if (hosts) {
		uint64_t n = hosts->responses;
		uint8_t name = hosts->slot[n % HTTP_HOSTS_MAX];
		if (!hosts->unpaired && n < hosts->requests && hosts->requests - n <= HTTP_HOSTS_MAX &&
		    name != HTTP_NAME_NONE)
			copy_string(obs.host, sizeof obs.host, hosts->names[name]);
		/* 1xx responses come before the final one and answer the same request. */
		if (m->status >= 200)
			hosts->responses++;
	}
	if (!obs.host[0] && c->request_host)
		copy_string(obs.host, sizeof obs.host, c->request_host);
	obs.http_status = (uint16_t)m->status;
	obs.http_content_type = span_bytes(m->content_type, pipeline->http_value,
					   sizeof pipeline->http_value,
					   &obs.text_len[OBS_TEXT_CONTENT_TYPE]);
	observation_emit(pipeline, c->flow, &obs);
	emit_set_cookies(c, &obs, m);
}

static int on_http_message(void *context, const struct http1_message *message)
{
	if (message->is_request)
		http_request(context, message);
	else
		http_response(context, message);
	return 0;
}

/*
 * SSDP (UPnP discovery, UDP port 1900): HTTP/1 requests (M-SEARCH, NOTIFY),
 * one whole message per datagram, read by the same HTTP/1 reader.
 */
static void dissect_ssdp(struct pipeline *pipeline, struct flow *flow,
			 const struct decoded_packet *packet, uint64_t ts_us)
{
	struct http1_parser parser;
	http1_parser_init(&parser, 1);
	struct stream_context context = { .pipeline = pipeline, .flow = flow, .ts_us = ts_us };
	http1_parser_feed(&parser, packet->payload, packet->payload_len, on_http_message, &context);
	http1_parser_free(&parser);
}

/* Makes the stream of one direction; with that direction's SYN seen, it starts there. */
static struct stream *stream_open(struct pipeline *pipeline, struct flow *flow,
				  enum flow_direction dir)
{
	struct flow_dissect *d = flow->dissect;
	d->opened |= (uint8_t)(1u << dir);
	struct stream *stream = arena_zalloc(sizeof *stream);
	if (!stream) {
		pipeline->stats.out_of_memory++;
		return NULL;
	}
	stream->dir = (uint8_t)dir;
	stream->hold.owner = d;
	stream->hold.dir = (int8_t)dir;
	tcp_stream_init(&stream->tcp);
	/* Segments that come out of order still line up. */
	if (flow->has_isn[dir])
		tcp_stream_segment(&pipeline->reassembly, &stream->tcp, flow->isn[dir],
				   DECODE_TCP_SYN, NULL, 0, NULL, NULL);
	d->streams[dir] = stream;
	return stream;
}

/*
 * Says what a stream holds and readies its reader; once the client's stream
 * is known to be one we read, our readers take the flow over from nDPI.
 */
static void stream_set_kind(struct pipeline *pipeline, struct flow *flow, struct stream *stream,
			    enum stream_kind kind)
{
	struct flow_dissect *d = flow->dissect;
	int from_server = stream->dir == FLOW_TO_CLIENT;
	stream->kind = (uint8_t)kind;
	if (kind == STREAM_TLS)
		tls_reader_init(&stream->reader.tls, from_server);
	else if (kind == STREAM_HTTP)
		http1_parser_init(&stream->reader.http, !from_server);
	else if (kind == STREAM_DNS)
		dns_tcp_reader_init(&stream->reader.dns);
	if (from_server)
		return;
	d->stream_kind = (uint8_t)kind;
	if (kind == STREAM_OTHER || kind == STREAM_UNKNOWN)
		return;
	/*
	 * A TLS record header and port 53 are sure enough to take the flow from
	 * nDPI now; capital letters and a space are not (SMTP, FTP, RTSP, SIP
	 * look alike): an HTTP flow is taken at its first request read.
	 */
	if (kind != STREAM_HTTP)
		dpi_hand_over(pipeline, flow, kind == STREAM_TLS ? DPI_MASTER_TLS : DPI_MASTER_DNS);
	if (kind == STREAM_HTTP && !d->http) {
		d->http = arena_zalloc(sizeof *d->http);
	}
	/*
	 * An HTTP/1 response reader must hear of every request (a HEAD's response
	 * has no body), so it is made now; TLS and DNS replies wait for their
	 * first payload, which is sniffed then.
	 */
	if (kind == STREAM_HTTP && !(d->opened & (1u << FLOW_TO_CLIENT))) {
		struct stream *reply = stream_open(pipeline, flow, FLOW_TO_CLIENT);
		if (reply)
			stream_set_kind(pipeline, flow, reply, kind);
	}
}

/* Bytes a stream's reader holds: they count against the sensor-wide bound. */
static size_t reader_bytes(const struct stream *stream)
{
	if (stream->kind == STREAM_TLS)
		return stream->reader.tls.buffer_size;
	if (stream->kind == STREAM_HTTP)
		return stream->reader.http.buf_cap;
	if (stream->kind == STREAM_DNS)
		return dns_tcp_reader_held(&stream->reader.dns);
	return 0;
}

/* A whole message of a DNS-over-TCP stream, either way. */
static void on_dns_tcp_message(void *context, const uint8_t *message, size_t len)
{
	struct stream_context *c = context;
	dns_message(c->pipeline, c->flow, c->ts_us, DNS_PORT_DNS, message, len);
}

/* ---- TLS decryption (with a key log) ---- */

/* A decrypted HTTP message: observations as for plain HTTP, marked decrypted. */
static void on_decrypted_message(void *context, const struct http1_message *m,
				 const char *request_host)
{
	struct stream_context *outer = context;
	/* No stream: the plain path's pairing and relabelling are not for it. */
	struct stream_context c = { .pipeline = outer->pipeline, .flow = outer->flow,
				    .ts_us = outer->ts_us };
	char name[OBS_HOST_MAX];
	if (!m->is_request && request_host) {
		normalise_host(request_host, 1, name, sizeof name);
		c.request_host = name;
	}
	outer->pipeline->decrypting = 1;
	on_http_message(&c, m);
	outer->pipeline->decrypting = 0;
}

/*
 * After the decryptor has been fed: one that ended is freed; one that waits
 * for a key is in the waiting list while the key log may still bring it
 * (else, or with the list full, it is given up). Returns 1 while it wants
 * more of the connection's bytes.
 */
static int decrypt_after(struct pipeline *pipeline, struct flow *flow, enum tlsdec_end end,
			 uint64_t ts_us)
{
	struct flow_dissect *d = flow->dissect;
	if (end == TLSDEC_MORE && decrypt_conn_waiting(d->tls)) {
		if (!pipeline->config.keylog_grows) {
			decrypt_conn_give_up(d->tls, TLSDEC_END_NO_KEY);
			end = TLSDEC_END_NO_KEY;
		} else if (!d->tls_waiting) {
			/*
			 * The list full (connections of other devices, or of apps that
			 * write no key log, wait in vain): the one that has waited
			 * longest makes room, not the newcomer, whose key is likelier
			 * to be on its way.
			 */
			if (pipeline->tls_waiting_count == DECRYPT_WAITING_MAX) {
				size_t oldest = 0;
				for (size_t i = 1; i < pipeline->tls_waiting_count; i++)
					if (pipeline->tls_waiting[i]->dissect->tls_wait_since_us <
					    pipeline->tls_waiting[oldest]->dissect->tls_wait_since_us)
						oldest = i;
				waiting_give_up(pipeline, pipeline->tls_waiting[oldest]);
			}
			pipeline->tls_waiting[pipeline->tls_waiting_count++] = flow;
			d->tls_waiting = 1;
			d->tls_wait_since_us = ts_us;
		}
	} else if (end == TLSDEC_MORE && d->tls_waiting) {
		waiting_remove(pipeline, flow);
	}
	if (end != TLSDEC_MORE) {
		decrypt_end(pipeline, flow);
		return 0;
	}
	return 1;
}

/* A TLS stream's bytes to the flow's decryptor (made at its first bytes); 1 while it wants more. */
static int decrypt_feed(struct stream_context *c, const uint8_t *data, size_t len)
{
	struct pipeline *pipeline = c->pipeline;
	struct flow_dissect *d = c->flow->dissect;
	if (!pipeline->config.keylog)
		return 0;
	if (!d->tls) {
		if (d->tls_tried)
			return 0;
		d->tls_tried = 1;
		if (pipeline->decryptors >= DECRYPT_CONNS_MAX) {
			pipeline->decrypt_stats.skipped++;
			return 0;
		}
		d->tls = decrypt_conn_new(pipeline->config.keylog, pipeline->config.tls_dump_dir,
					  c->flow->id, &pipeline->decrypt_stats);
		if (!d->tls) {
			pipeline->stats.out_of_memory++;
			return 0;
		}
		pipeline->decryptors++;
	}
	int from_server = c->stream->dir == FLOW_TO_CLIENT;
	enum tlsdec_end end = decrypt_conn_feed(d->tls, from_server, data, len, on_decrypted_message, c);
	return decrypt_after(pipeline, c->flow, end, c->ts_us);
}

void pipeline_keys_added(struct pipeline *pipeline)
{
	/* A copy: a connection that gets its key leaves the list. */
	struct flow *waiting[DECRYPT_WAITING_MAX];
	size_t count = pipeline->tls_waiting_count;
	memcpy(waiting, pipeline->tls_waiting, count * sizeof *waiting);
	for (size_t i = 0; i < count; i++) {
		struct flow *flow = waiting[i];
		if (!flow->dissect->tls || !flow->dissect->tls_waiting)
			continue;
		struct stream_context c = { .pipeline = pipeline, .flow = flow, .ts_us = flow->last_us };
		enum tlsdec_end end = decrypt_conn_retry(flow->dissect->tls, on_decrypted_message, &c);
		decrypt_after(pipeline, flow, end, flow->last_us);
	}
}

const struct decrypt_stats *pipeline_decrypt_stats(const struct pipeline *pipeline)
{
	return &pipeline->decrypt_stats;
}

/* Bytes of a stream, in order: sniffed once, then read by their reader. */
static void on_stream_bytes(void *context, const uint8_t *data, size_t len)
{
	struct stream_context *c = context;
	struct pipeline *pipeline = c->pipeline;
	struct stream *stream = c->stream;
	int from_server = stream->dir == FLOW_TO_CLIENT;
	if (stream->kind == STREAM_UNKNOWN)
		stream_set_kind(pipeline, c->flow, stream,
				data ? sniff(data, len, stream->dir) : STREAM_OTHER);
	switch (stream->kind) {
	case STREAM_TLS: {
		uint64_t *ends = from_server ? pipeline->stats.tls_server_ends
					     : pipeline->stats.tls_ends;
		if (!stream->hello_done && !data) {
			/* A hole in the handshake: nothing after it can be read. */
			ends[TLS_END_BAD_RECORD]++;
			stream->hello_done = 1;
		} else if (!stream->hello_done) {
			struct tls_hello *hello = &pipeline->hello;
			enum tls_end end = tls_reader_feed(&stream->reader.tls, data, len, hello);
			if (end != TLS_MORE) {
				ends[end]++;
				stream->hello_done = 1;
				if (end == TLS_DONE)
					emit_hello(c, hello);
			}
		}
		/*
		 * Without a key log, the handshake is all we read of a TLS
		 * connection; with one, the rest goes to the decryptor as long as it
		 * wants it.
		 */
		int decrypting = decrypt_feed(c, data, len);
		if (!stream->hello_done || decrypting)
			return;
		break;
	}
	case STREAM_DNS:
		if (!data || dns_tcp_reader_feed(&stream->reader.dns, data, len, on_dns_tcp_message,
						 c) != 0)
			break; /* a gap, or no memory: message boundaries are lost */
		return;
	case STREAM_HTTP: {
		if (stream->resync_left) {
			/*
			 * After garbage or a gap, a later segment that starts a message
			 * (as tshark finds one) starts reading again: a capture that began
			 * mid-body, or lost a packet, still shows the next messages.
			 */
			if (!data || sniff(data, len, stream->dir) != STREAM_HTTP) {
				if (len < stream->resync_left) {
					stream->resync_left -= (uint32_t)len;
					return;
				}
				break;
			}
			stream->resync_left = 0;
			http1_parser_init(&stream->reader.http, !from_server);
			pipeline->stats.http_resyncs++;
		}
		enum http1_end end = http1_parser_feed(&stream->reader.http, data, len,
						       on_http_message, c);
		if (end == HTTP1_MORE) {
			/* Bodies are passed over in the reassembly, without being delivered. */
			uint64_t skip = http1_parser_skip_hint(&stream->reader.http);
			if (skip == HTTP1_BODY_UNTIL_CLOSE)
				break;
			if (skip) {
				tcp_stream_skip(&stream->tcp, skip);
				http1_parser_skipped(&stream->reader.http, skip);
			}
			return;
		}
		(from_server ? pipeline->stats.http_response_ends : pipeline->stats.http_ends)[end]++;
		/* A message lost after some were read: requests and responses no longer pair. */
		struct http_hosts *hosts = c->flow->dissect->http;
		if (hosts && stream->reader.http.messages)
			hosts->unpaired = 1;
		if ((end == HTTP1_END_NOT_HTTP || end == HTTP1_END_GAP ||
		     end == HTTP1_END_BAD_CHUNK || end == HTTP1_END_TOO_LONG) &&
		    stream->resyncs < HTTP_RESYNC_MAX) {
			stream->resyncs++;
			stream->resync_left = HTTP_RESYNC_BYTES;
			http1_parser_free(&stream->reader.http);
			return;
		}
		break;
	}
	default:
		break;
	}
	tcp_stream_stop(&pipeline->reassembly, &stream->tcp);
}

/*
 * Before nDPI sees the packet: make a direction's stream at its first
 * payload and, when that payload starts the stream, say what the stream
 * holds, so that nDPI's name for the flow is known to be one our readers give.
 */
static void stream_first_payload(struct pipeline *pipeline, struct flow *flow,
				 const struct decoded_packet *packet, enum flow_direction dir)
{
	struct flow_dissect *d = flow->dissect;
	if ((d->opened & (1u << dir)) || packet->payload_len == 0)
		return;
	/* The server's stream is read only where the client's is one of ours (or not yet known). */
	if (dir == FLOW_TO_CLIENT && d->stream_kind == STREAM_OTHER)
		return;
	int starts = !flow->has_isn[dir] || packet->tcp_seq == flow->isn[dir] + 1 ||
		     (packet->tcp_flags & DECODE_TCP_SYN);
	int dns = flow_server_port(flow) == 53;
	/* What this payload holds, if it starts the stream (or nothing says it does not). */
	enum stream_kind kind = starts && !dns ? sniff(packet->payload, packet->payload_len, dir)
					       : STREAM_UNKNOWN;
	/*
	 * A server's first payload that is none of ours, while the client's kind
	 * is not known yet (a capture that began mid-response), is passed over
	 * without a stream: the client's next request may still show it is HTTP.
	 */
	if (dir == FLOW_TO_CLIENT && kind == STREAM_OTHER) {
		if (d->stream_kind != STREAM_UNKNOWN)
			d->opened |= (uint8_t)(1u << dir);
		return;
	}
	/*
	 * Likewise a client whose handshake was not seen (a capture that began
	 * mid-connection): its first bytes may be the middle of a request body,
	 * and one of its next few payloads may start a request.
	 */
	if (dir == FLOW_TO_SERVER && !flow->has_isn[dir] && kind == STREAM_OTHER &&
	    d->sniff_tries < SNIFF_TRIES_MAX) {
		d->sniff_tries++;
		return;
	}
	struct stream *stream = stream_open(pipeline, flow, dir);
	if (!stream) {
		if (dir == FLOW_TO_SERVER)
			d->stream_kind = STREAM_OTHER;
		return;
	}
	/* Sniffed now only if this payload starts the stream; else when its start arrives. */
	if (dns)
		stream_set_kind(pipeline, flow, stream, STREAM_DNS);
	else if (starts)
		stream_set_kind(pipeline, flow, stream, kind);
	if (stream->kind == STREAM_OTHER)
		stream_free(pipeline, d, dir);
}

/*
 * Brings what readers hold back under the bound by giving up streams that
 * hang: fed least recently, and idle for READER_IDLE_US or holding for
 * READER_HOLD_US (a real hello or header block comes in milliseconds). A
 * flood of streams left hanging on purpose must not blind the sensor to the
 * next connection's two-segment ClientHello; streams still being fed are
 * not taken, so that a burst of busy ones still finish. Returns whether the
 * bound holds; if not, the caller gives up its own stream.
 */
enum { READER_IDLE_US = 1000000, READER_HOLD_US = 10000000 };

static int make_room(struct pipeline *pipeline, const struct holder *keep, uint64_t now_us)
{
	while (pipeline->reader_bytes > pipeline->max_reader_bytes) {
		struct holder *victim = pipeline->oldest_holder;
		if (victim && victim == keep)
			victim = victim->newer;
		if (!victim)
			return 0;
		/* Packet times may go backwards (files read one after another): no time passed then. */
		uint64_t idle = now_us > victim->fed_us ? now_us - victim->fed_us : 0;
		uint64_t holding = now_us > victim->holding_since_us ? now_us - victim->holding_since_us : 0;
		if (idle < READER_IDLE_US && holding < READER_HOLD_US)
			return 0;
		pipeline->stats.reader_memory_full++;
		struct flow_dissect *owner = victim->owner;
		if (victim->dir < 0) {
			owner->quic_done = 1; /* counted above, not as unfinished */
			quic_free(pipeline, owner);
		} else {
			enum flow_direction dir = (enum flow_direction)victim->dir;
			tcp_stream_stop(&pipeline->reassembly, &owner->streams[dir]->tcp);
			stream_free(pipeline, owner, dir);
		}
	}
	return 1;
}

/* After nDPI: the segment goes through reassembly to the stream's reader. */
static void stream_segment(struct pipeline *pipeline, struct flow *flow,
			   const struct decoded_packet *packet, uint64_t ts_us,
			   enum flow_direction dir)
{
	struct flow_dissect *d = flow->dissect;
	struct stream *stream = d->streams[dir];
	struct stream_context context = {
		.pipeline = pipeline, .flow = flow, .stream = stream, .ts_us = ts_us,
	};
	tcp_stream_segment(&pipeline->reassembly, &stream->tcp, packet->tcp_seq, packet->tcp_flags,
			   packet->payload, packet->payload_len, on_stream_bytes, &context);
	/*
	 * Readers buffer what they need (a hello, a header block): their bytes,
	 * all streams together, stay under a bound, as waiting segments do.
	 */
	holder_update(pipeline, &stream->hold, stream->tcp.stopped ? 0 : reader_bytes(stream), ts_us);
	if (!make_room(pipeline, &stream->hold, ts_us)) {
		pipeline->stats.reader_memory_full++;
		tcp_stream_stop(&pipeline->reassembly, &stream->tcp);
	}
	if (stream->tcp.stopped) {
		stream_free(pipeline, d, dir);
		maybe_connection(pipeline, flow, ts_us, 0);
	}
}

/*
 * QUIC (IETF v1, v2 and drafts, Google QUIC): the client's Initial packets,
 * decrypted, their CRYPTO frames reassembled and the ClientHello read by our
 * own reader (dissectors/quic.c). A flow whose first client datagram looks
 * like a QUIC long header is taken from nDPI.
 */
static void dissect_quic(struct pipeline *pipeline, struct flow *flow,
			 const struct decoded_packet *packet, uint64_t ts_us)
{
	struct flow_dissect *d = flow->dissect;
	if (!d->quic) {
		if (!quic_looks_like_initial(packet->payload, packet->payload_len)) {
			d->quic_done = 1;
			return;
		}
		d->quic = malloc(sizeof *d->quic);
		if (!d->quic) {
			pipeline->stats.out_of_memory++;
			d->quic_done = 1;
			return;
		}
		quic_reader_init(d->quic);
		d->quic_hold.owner = d;
		d->quic_hold.dir = -1;
		dpi_hand_over(pipeline, flow, DPI_MASTER_QUIC);
	}
	struct tls_hello *hello = &pipeline->hello;
	enum quic_end end = quic_reader_feed(d->quic, packet->payload, packet->payload_len, hello);
	if (end == QUIC_MORE) {
		/* Its CRYPTO buffer counts against the readers' bound, as TCP readers' do. */
		size_t now = quic_reader_held(d->quic);
		holder_update(pipeline, &d->quic_hold, now, ts_us);
		if (!make_room(pipeline, &d->quic_hold, ts_us)) {
			pipeline->stats.reader_memory_full++;
			d->quic_done = 1; /* counted above, not as unfinished */
			quic_free(pipeline, d);
		}
		return;
	}
	pipeline->stats.quic_ends[end]++;
	d->quic_done = 1;
	if (end == QUIC_DONE && hello->has_sni) {
		char sni[OBS_HOST_MAX];
		normalise_host(hello->sni, 0, sni, sizeof sni);
		label_by_name(pipeline, flow, sni);
		struct observation obs;
		observation_init(pipeline, flow, ts_us, OBS_QUIC_SNI, &obs);
		memcpy(obs.host, sni, sizeof obs.host);
		obs.tls_alpn = hello->alpn[0] ? hello->alpn : NULL;
		obs.tls_versions = hello->versions;
		obs.tls_version_count = hello->version_count;
		obs.tls_ech = hello->ech_offered;
		observation_emit(pipeline, flow, &obs);
		flow_name_set(d, sni);
	}
	quic_free(pipeline, d);
}

/* nDPI: classification, and the names it extracts where we have no parser. */
/* One packet to nDPI; ends detection when nDPI is done or its budget is. */
static void dpi_feed(struct pipeline *pipeline, struct flow *flow, const uint8_t *l3,
		     size_t l3_len, uint64_t ts_us)
{
	struct flow_dissect *d = flow->dissect;
	if (!d->dpi) {
		/* Made at the first packet it gets: a flow our readers take at once costs none. */
		d->dpi = dpi_flow_new();
		if (!d->dpi) {
			pipeline->stats.out_of_memory++;
			d->dpi_done = 1;
			return;
		}
		pipeline->stats.dpi_flows++;
	}
	pipeline->stats.dpi_packets++;
	int done = dpi_flow_process(pipeline->dpi, d->dpi, l3, l3_len, ts_us / 1000);
	d->dpi_packets++;
	maybe_emit(pipeline, flow, ts_us);
	/*
	 * Once nDPI has classified the flow and given its name, what it could
	 * still extract (certificates, DNS answers, HTTP responses) is not used:
	 * stop here rather than feed it the rest of the handshake.
	 */
	if (d->name_emitted && dpi_flow_classified(d->dpi))
		done = 1;
	unsigned budget = flow->key.l4_proto == 6 ? pipeline->config.dpi_max_packets_tcp
						  : pipeline->config.dpi_max_packets_udp;
	if (done)
		finish_dpi(pipeline, flow, ts_us, 0);
	else if (d->dpi_packets >= budget)
		finish_dpi(pipeline, flow, ts_us, 1);
}

/* Holds a payload-less handshake packet back from nDPI; 0 when it does not fit. */
static int hold_packet(struct flow_dissect *d, const struct decoded_packet *p, uint64_t ts_us)
{
	struct held_handshake *held = d->held;
	if (p->l3_len > HELD_PACKET_MAX || (held && held->count == HELD_PACKETS_MAX))
		return 0;
	size_t used = held ? held->used : 0;
	size_t record = sizeof ts_us + sizeof(uint16_t) + p->l3_len;
	held = realloc(held, sizeof *held + used + record);
	if (!held)
		return 0; /* d->held is unchanged: it is fed now instead */
	if (!d->held)
		held->count = 0;
	uint8_t *at = held->data + used;
	uint16_t len = (uint16_t)p->l3_len;
	memcpy(at, &ts_us, sizeof ts_us);
	memcpy(at + sizeof ts_us, &len, sizeof len);
	memcpy(at + sizeof ts_us + sizeof len, p->l3, len);
	held->used = (uint16_t)(used + record);
	held->count++;
	d->held = held;
	return 1;
}

/* Gives nDPI the held handshake, in order, with its times. */
static void replay_held(struct pipeline *pipeline, struct flow *flow)
{
	struct flow_dissect *d = flow->dissect;
	struct held_handshake *held = d->held;
	d->held = NULL;
	size_t at = 0;
	for (uint8_t i = 0; held && i < held->count && !d->dpi_done; i++) {
		uint64_t ts_us;
		uint16_t len;
		memcpy(&ts_us, held->data + at, sizeof ts_us);
		memcpy(&len, held->data + at + sizeof ts_us, sizeof len);
		dpi_feed(pipeline, flow, held->data + at + sizeof ts_us + sizeof len, len, ts_us);
		at += sizeof ts_us + sizeof len + len;
	}
	free(held);
}

static void dissect_dpi(struct pipeline *pipeline, struct flow *flow,
			const struct decoded_packet *p, uint64_t ts_us)
{
	struct flow_dissect *d = flow->dissect;
	if (d->dpi_done)
		return; /* detection over: nothing more to do for this packet */
	if (p->l4_proto == 6) {
		/*
		 * A bare TCP ACK after the handshake carries nothing nDPI dissects;
		 * the handshake itself (up to the first payload) it does use, to
		 * track the connection's sequence numbers: it is held back until
		 * the first payload, in case our readers take the flow.
		 */
		if (p->payload_len == 0 && d->payload_fed &&
		    !(p->tcp_flags & (DECODE_TCP_SYN | DECODE_TCP_FIN | DECODE_TCP_RST)))
			return;
		if (p->payload_len == 0 && !d->payload_fed && hold_packet(d, p, ts_us))
			return;
		replay_held(pipeline, flow);
		if (d->dpi_done)
			return;
	}
	if (p->payload_len)
		d->payload_fed = 1;
	dpi_feed(pipeline, flow, p->l3, p->l3_len, ts_us);
}

/*
 * Whether a client packet carries data not seen before: for TCP, bytes past
 * the furthest the client has sent (a retransmission or a keep-alive probe,
 * which repeats the byte before, carries none).
 */
static int client_new_data(struct flow_dissect *d, const struct decoded_packet *p)
{
	if (p->l4_proto != 6)
		return 1;
	uint32_t end = p->tcp_seq + (uint32_t)p->payload_len;
	if (d->client_seq_known && (int32_t)(end - d->client_seq_end) <= 0)
		return 0;
	d->client_seq_end = end;
	d->client_seq_known = 1;
	return 1;
}

/*
 * Whether new data after a pause is the client using the connection again,
 * not only keeping it: on TLS, an application data record (an alert, such as
 * close_notify, is not); on QUIC, a packet larger than a bare PING or ACK.
 */
enum { QUIC_RESUME_MIN = 100 };

static int resume_worthy(const struct flow_dissect *d, const struct decoded_packet *p)
{
	if (d->stream_kind == STREAM_TLS)
		return p->payload_len >= 5 && p->payload[0] == 0x17 && p->payload[1] == 0x03;
	if (p->l4_proto == 17)
		return p->payload_len >= QUIC_RESUME_MIN;
	return 1;
}

/*
 * The client of a flow already named sends again after a pause: the name is
 * contacted again (a tracker reached over a connection kept open). Plain
 * HTTP/1 connections are left out: their requests say it, with more.
 */
static void flow_resumed(struct pipeline *pipeline, struct flow *flow, uint64_t ts_us)
{
	struct flow_dissect *d = flow->dissect;
	if (d->stream_kind == STREAM_HTTP || flow_server_port(flow) == 53)
		return;
	const char *name = d->name ? d->name : resolved_name(pipeline, flow, ts_us);
	if (!name)
		return;
	struct observation obs;
	observation_init(pipeline, flow, ts_us, OBS_RESUMED, &obs);
	copy_string(obs.host, sizeof obs.host, name);
	observation_emit(pipeline, flow, &obs);
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
		d = flow->dissect = arena_zalloc(sizeof *d);
		if (!d) {
			stats->out_of_memory++;
			return;
		}
	}
	/*
	 * A stream is opened (and what it holds sniffed) before nDPI sees the
	 * packet, so that a flow our reader takes is not dissected by nDPI too;
	 * it is read after, so that a flow nDPI keeps has nDPI's label on what
	 * our reader gives.
	 */
	if (packet.payload_len)
		d->saw_payload = 1;
	enum dns_port_kind dns_kind = dns_port_kind(flow);
	if (packet.payload_len && direction == FLOW_TO_SERVER && client_new_data(d, &packet)) {
		if (d->client_data_us && pipeline->config.resume_pause_us && dns_kind == DNS_PORT_NONE &&
		    ts_us > d->client_data_us &&
		    ts_us - d->client_data_us >= pipeline->config.resume_pause_us &&
		    resume_worthy(d, &packet))
			flow_resumed(pipeline, flow, ts_us);
		if (ts_us > d->client_data_us)
			d->client_data_us = ts_us;
	}
	if (dns_kind != DNS_PORT_NONE && packet.payload_len && !d->dpi_done && !d->own_label)
		dns_hand_over(pipeline, flow, dns_kind, &packet);
	int tcp = packet.l4_proto == 6;
	if (tcp)
		stream_first_payload(pipeline, flow, &packet, direction);
	/* A QUIC client's Initials are ours: nDPI need not decrypt them too. */
	if (packet.l4_proto == 17 && packet.payload_len && direction == FLOW_TO_SERVER &&
	    dns_kind == DNS_PORT_NONE && !d->quic_done)
		dissect_quic(pipeline, flow, &packet, ts_us);
	/*
	 * Except an HTTP client's first payload: read first, so that a request
	 * our reader reads in it takes the flow (dpi_hand_over()) before nDPI
	 * dissects the same request; one it does not read goes on to nDPI.
	 */
	if (tcp && direction == FLOW_TO_SERVER && d->stream_kind == STREAM_HTTP && !d->payload_fed &&
	    !d->dpi_done && d->streams[direction]) {
		stream_segment(pipeline, flow, &packet, ts_us, direction);
		dissect_dpi(pipeline, flow, &packet, ts_us);
	} else {
		dissect_dpi(pipeline, flow, &packet, ts_us);
		if (tcp && d->streams[direction])
			stream_segment(pipeline, flow, &packet, ts_us, direction);
	}
	if (packet.l4_proto == 17 && packet.payload_len && dns_kind != DNS_PORT_NONE)
		dissect_dns(pipeline, flow, &packet, ts_us);
	else if (packet.l4_proto == 17 && packet.payload_len &&
		 (flow->key.port_lo == 1900 || flow->key.port_hi == 1900))
		dissect_ssdp(pipeline, flow, &packet, ts_us);
}

void pipeline_tick(struct pipeline *pipeline, uint64_t now_us)
{
	/* A key that has not come in DECRYPT_WAIT_US will not: its records are let go. */
	for (size_t i = pipeline->tls_waiting_count; i-- > 0;) {
		struct flow *flow = pipeline->tls_waiting[i];
		if (now_us > flow->dissect->tls_wait_since_us + DECRYPT_WAIT_US)
			waiting_give_up(pipeline, flow);
	}
	flow_table_expire(pipeline->flows, now_us);
	pipeline->next_expiry_us = now_us + EXPIRY_INTERVAL_US;
}

void pipeline_flush(struct pipeline *pipeline)
{
	flow_table_flush(pipeline->flows);
	pipeline->next_expiry_us = 0;
}

void pipeline_settle(struct pipeline *pipeline)
{
	if (pipeline)
		dpi_engine_settle(pipeline->dpi);
}

const struct pipeline_stats *pipeline_stats(const struct pipeline *pipeline)
{
	return &pipeline->stats;
}

const struct tcp_reassembly_stats *pipeline_reassembly_stats(const struct pipeline *pipeline)
{
	return &pipeline->reassembly.stats;
}

const struct dns_cache_stats *pipeline_dns_cache_stats(const struct pipeline *pipeline)
{
	return dns_cache_stats(pipeline->dns_cache);
}

const struct flow_table_stats *pipeline_flow_stats(const struct pipeline *pipeline)
{
	return flow_table_stats(pipeline->flows);
}

void pipeline_set_consent_rules(struct pipeline *pipeline, const struct consent_rules *rules)
{
	pipeline->config.consent_rules = rules;
}
