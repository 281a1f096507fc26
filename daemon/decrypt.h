/*
 * decrypt: what the dissect stage does with a TLS connection when it has
 * keys (issue 8). The connection's bytes, both directions as TCP
 * reassembly gives them from its first byte, go to dissectors/tlsdec.c;
 * the application data it gives is read as HTTP/2 (ALPN h2, an old draft
 * such as h2-16, or the client connection preface) or HTTP/1 (the same
 * reader as plain HTTP). Each message is handed on as an http1_message (an
 * HTTP/2 header block converted: :method, :path, :authority, :status and
 * the fields the plain path reads, each `cookie` crumb as one Cookie
 * header), with, for a response, the host of the request it answers (by
 * stream for HTTP/2, in order for HTTP/1).
 *
 * Bounded: tlsdec holds at most TLSDEC_HOLD_MAX bytes a direction while a
 * key is awaited; the readers bound their buffers. Keys are wiped when the
 * connection is freed.
 */
#ifndef TRACKWATCH_DECRYPT_H
#define TRACKWATCH_DECRYPT_H

#include <stddef.h>
#include <stdint.h>

#include "../dissectors/http1.h"
#include "../dissectors/http2.h"
#include "../dissectors/keylog.h"
#include "../dissectors/tlsdec.h"

/* Counters of all connections, kept by the pipeline. */
struct decrypt_stats {
	uint64_t connections;              /* TLS connections given to a decryptor */
	uint64_t skipped;                  /* TLS connections not decrypted: too many at once */
	uint64_t ends[TLSDEC_END_COUNT];   /* how they ended (MORE: the flow ended first) */
	uint64_t decrypted;                /* connections with application data decrypted */
	uint64_t bytes;                    /* application data decrypted */
	uint64_t http1, http2;             /* connections read as HTTP/1, HTTP/2 */
	uint64_t http2_ends[HTTP2_END_COUNT];
	uint64_t messages;                 /* messages handed on */
	uint64_t dump_errors;              /* --dump-tls files that could not be written */
};

/*
 * A message of the connection. `request_host`: for a response, the host of
 * the request it answers, or NULL when not known. Called from within
 * decrypt_conn_feed() and decrypt_conn_retry().
 */
typedef void (*decrypt_message_fn)(void *context, const struct http1_message *message,
				   const char *request_host);

struct decrypt_conn;

/*
 * `dump_dir` (may be NULL): write each direction's application data to
 * DIR/ID-client.bin and DIR/ID-server.bin (debug).
 */
struct decrypt_conn *decrypt_conn_new(struct keylog *keylog, const char *dump_dir, uint64_t id,
				      struct decrypt_stats *stats);
/* Counts how it ended, wipes the keys, frees. NULL is fine. */
void decrypt_conn_free(struct decrypt_conn *conn);

/* The next bytes of one direction (NULL: a gap of `len` bytes, which ends it). */
enum tlsdec_end decrypt_conn_feed(struct decrypt_conn *conn, int from_server, const uint8_t *data,
				  size_t len, decrypt_message_fn on_message, void *context);
/* New keys: records held for them are tried again. */
enum tlsdec_end decrypt_conn_retry(struct decrypt_conn *conn, decrypt_message_fn on_message,
				   void *context);
/* Gives the connection up (no key will come): it ends as `why`, holding nothing. */
void decrypt_conn_give_up(struct decrypt_conn *conn, enum tlsdec_end why);

/* Whether records wait for a key. */
int decrypt_conn_waiting(const struct decrypt_conn *conn);

#endif
