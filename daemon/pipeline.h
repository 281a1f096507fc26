/*
 * pipeline: one capture thread's path from frame to observation. Takes
 * captured frames, runs them through decode, the flow table and nDPI, and
 * hands each observation to a sink. A pipeline owns its flow table and its
 * nDPI engine; it is not shared between threads.
 */
#ifndef TRACKWATCH_PIPELINE_H
#define TRACKWATCH_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "decode.h"
#include "flow.h"
#include "observation.h"
#include "reassembly.h"
#include "dnscache.h"

struct ident_key;

/* Receives each observation; returns 0, or -1 if it could not keep it. */
typedef int (*pipeline_sink_fn)(void *context, const struct observation *obs);

struct pipeline_config {
	struct flow_table_config flows;
	unsigned dpi_max_packets_tcp; /* give nDPI up after this many packets */
	unsigned dpi_max_packets_udp;
	/*
	 * What our readers may buffer (hellos, header blocks, DNS messages, QUIC
	 * CRYPTO data) and what out-of-order segments may hold, all flows
	 * together: 32 MiB each by default (small ones let a fuzzer reach them).
	 */
	size_t max_reader_bytes;
	size_t max_pending_bytes;
	/*
	 * The key identifiers (cookie values, URL query values) are hashed with
	 * before any observation carries them; NULL keeps them raw, for a lab
	 * (--keep-identifiers). Not owned: it outlives the pipeline.
	 */
	const struct ident_key *identifier_key;
	/*
	 * Seeds the resolved-name cache's placement: 0 for a random one (live
	 * capture: a sender cannot aim at one set), else this value, so that a
	 * file gives the same output in every run.
	 */
	uint64_t dns_cache_seed;
	/*
	 * A named flow whose client sends application data again after this
	 * long without any (1 s by default; 0: never) gives a `resumed`
	 * observation: its host is contacted again, over a connection kept
	 * open. HTTP/1 connections in plain text give their requests instead.
	 */
	uint64_t resume_pause_us;
	/*
	 * The consent rules each HTTP request and Set-Cookie is read with
	 * (daemon/consent.h), or NULL for none. Not owned.
	 */
	const struct consent_rules *consent_rules;
	/*
	 * TLS secrets (dissectors/keylog.h) to decrypt connections with, or NULL:
	 * TLS is then read to its hello only. Not owned; its keys may grow while
	 * the pipeline runs (pipeline_keys_added()).
	 */
	struct keylog *keylog;
	/*
	 * Whether the key log may still grow (live capture follows a browser's):
	 * a connection whose key is missing waits for it. Otherwise (a file run,
	 * its keys read whole) it is given up at once.
	 */
	int keylog_grows;
	/*
	 * Debug: a directory where each decrypted stream direction is written
	 * whole (FLOWID-client.bin, FLOWID-server.bin), to compare with tshark's
	 * `follow,tls,raw`; NULL for none. Never the key material.
	 */
	const char *tls_dump_dir;
};

/*
 * The defaults: 65536 flows, TCP idle 300 s, UDP 60 s, closed TCP 10 s. A
 * TCP flow whose handshake has carried no payload yet costs about 300 bytes
 * (its handshake is held back from nDPI, which has no state for it yet: 40
 * MiB peak when a SYN flood fills the table, bench/flood.sh); a flow nDPI
 * looks at about 1 KiB, up to 3 KiB once it has carried payload (nDPI's
 * buffers; tests/integration/hostile.sh); about 200 bytes after nDPI is done, plus about 150 bytes a direction while our readers read
 * its streams (an HTTP/1 connection about 100 more, and its hosts' names, to
 * pair responses with requests) and 200 while a QUIC reader reads it. On top
 * of the flows, at most 32 MiB of out-of-order segments (headers counted)
 * and 32 MiB in our readers' buffers (hellos, header blocks, DNS messages,
 * QUIC CRYPTO data), all flows together.
 */
void pipeline_config_defaults(struct pipeline_config *config);

struct pipeline_stats {
	uint64_t packets;
	uint64_t bytes;      /* on the wire */
	uint64_t decode[DECODE_RESULT_COUNT];
	uint64_t observations[OBS_KIND_COUNT];
	uint64_t sink_errors;
	uint64_t dpi_flows;  /* flows given to nDPI */
	uint64_t dpi_packets;/* packets given to nDPI */
	uint64_t dpi_giveups;/* flows nDPI had not finished with when dropped */
	uint64_t dpi_handovers; /* flows taken from nDPI by our own readers (TLS, HTTP/1, DNS,
				   mDNS, LLMNR, QUIC) */
	uint64_t out_of_memory;
	uint64_t dns_messages;  /* DNS, mDNS and LLMNR messages parsed */
	uint64_t dns_errors[8]; /* by -enum dns_error: [1] short_header, [2] truncated, ... */
	uint64_t tls_ends[16];  /* client streams read as TLS, by enum tls_end */
	uint64_t tls_server_ends[16]; /* server streams read as TLS */
	uint64_t http_ends[16]; /* client streams read as HTTP/1 that ended, by enum http1_end */
	uint64_t http_response_ends[16]; /* server streams read as HTTP/1 that ended */
	uint64_t http_resyncs;  /* HTTP/1 streams read again at a message start after a fault */
	uint64_t quic_ends[16]; /* QUIC client flows read, by enum quic_end (0: flow ended first) */
	uint64_t reader_memory_full;    /* TCP streams and QUIC readers given up: readers held
					   too much in all */
	uint64_t dns_questions_dropped; /* questions past the first 32 of a message */
	uint64_t cookies_malformed;     /* parts of Cookie headers that did not parse */
	uint64_t cookies_dropped;       /* cookies past the first PIPELINE_COOKIES_MAX of a request */
	uint64_t set_cookies_ignored;   /* Set-Cookie headers a browser ignores (RFC 6265 5.2) */
	uint64_t cookie_headers_dropped; /* Cookie or Set-Cookie headers past HTTP1_MAX_COOKIES of a message */
	uint64_t header_fields_dropped;  /* header fields past HTTP1_MAX_HEADERS of a message: not read */
};

enum { PIPELINE_COOKIES_MAX = 128 }; /* cookies of one request read */

struct pipeline;

struct pipeline *pipeline_new(const struct pipeline_config *config, pipeline_sink_fn sink,
			      void *sink_context);
/* Ends every flow (emitting what they hold) and frees everything. */
void pipeline_free(struct pipeline *pipeline);

/* One captured frame of link type `dlt`, at `ts_us` microseconds since the epoch. */
void pipeline_packet(struct pipeline *pipeline, int dlt, uint64_t ts_us, const uint8_t *frame,
		     size_t caplen, size_t wirelen);

/* Expires idle flows at `now_us`; for live capture when no packets arrive. */
void pipeline_tick(struct pipeline *pipeline, uint64_t now_us);

/* Ends every flow, as at the end of a capture file. */
void pipeline_flush(struct pipeline *pipeline);

/* Waits for the threads of nDPI's engine: for a program about to end without pipeline_free(). */
void pipeline_settle(struct pipeline *pipeline);

const struct pipeline_stats *pipeline_stats(const struct pipeline *pipeline);

/*
 * Reads the requests and Set-Cookies that come next with `rules` (a reload).
 * The old rules may be freed on return: observations carry copies.
 */
void pipeline_set_consent_rules(struct pipeline *pipeline, const struct consent_rules *rules);

/* The key log has new secrets: connections waiting for theirs try again. */
void pipeline_keys_added(struct pipeline *pipeline);
const struct flow_table_stats *pipeline_flow_stats(const struct pipeline *pipeline);
const struct tcp_reassembly_stats *pipeline_reassembly_stats(const struct pipeline *pipeline);
const struct dns_cache_stats *pipeline_dns_cache_stats(const struct pipeline *pipeline);
const struct decrypt_stats *pipeline_decrypt_stats(const struct pipeline *pipeline);

#endif
