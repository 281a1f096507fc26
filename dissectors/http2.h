/*
 * http2: the header blocks of an HTTP/2 connection (RFC 9113), read from its
 * decrypted bytes, both directions, for the dissect stage (issue 8).
 *
 * The client's direction must begin with the connection preface
 * ("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"); then both are frames. Read: HEADERS
 * (PADDED and PRIORITY flags) with their CONTINUATION frames, SETTINGS (for
 * SETTINGS_HEADER_TABLE_SIZE), PUSH_PROMISE (its header block is decoded to
 * keep the HPACK state, then given as a request of the promised stream),
 * GOAWAY; DATA and the others are skipped by their length. Header blocks are
 * decoded with nghttp2's HPACK inflater (nghttp2_hd_inflate_hd2), one per
 * direction; a direction's decoder table size follows the
 * SETTINGS_HEADER_TABLE_SIZE that the *other* direction's endpoint sent (the
 * decoder's owner announces what the encoder may use: Chrome sends 65536),
 * applied when that SETTINGS frame is read, as the RFC orders.
 *
 * Each complete header block is given to a callback as a message: the
 * stream, whether it is a request (client's direction, or a push promise)
 * and its fields in order, pseudo-headers included. Chrome sends one
 * `cookie` field per crumb (RFC 9113 8.2.3): they are given as they come.
 *
 * Hostile input: a frame longer than the largest SETTINGS_MAX_FRAME_SIZE
 * (2^24 - 1) is refused; a header block is at most HTTP2_HEADER_BLOCK_MAX
 * bytes and HTTP2_FIELDS_MAX fields (beyond it the connection ends, counted);
 * an HPACK error ends the connection (the decoder's state is lost); a
 * CONTINUATION on another stream, or any other frame in the middle of a
 * header block, ends it.
 */
#ifndef TRACKWATCH_HTTP2_H
#define TRACKWATCH_HTTP2_H

#include <stddef.h>
#include <stdint.h>

enum {
	HTTP2_PREFACE_LEN = 24,
	HTTP2_FRAME_HEADER_LEN = 9,
	HTTP2_HEADER_BLOCK_MAX = 256 << 10,  /* bytes of one header block, CONTINUATIONs included */
	HTTP2_FIELDS_MAX = 512,              /* fields of one message */
	HTTP2_DEFAULT_TABLE_SIZE = 4096,
};

/* Where a connection's reader stands; keep http2_end_name() in step. Anything but MORE is final. */
enum http2_end {
	HTTP2_MORE = 0,
	HTTP2_END_NOT_HTTP2,      /* the client's first bytes are not the preface */
	HTTP2_END_BAD_FRAME,      /* a frame that does not parse, or out of place (a CONTINUATION
				     on another stream ...) */
	HTTP2_END_HPACK,          /* the HPACK decoder failed */
	HTTP2_END_TOO_BIG,        /* a header block or message over the bounds */
	HTTP2_END_STOPPED,        /* the callback returned nonzero */
	HTTP2_END_NO_MEMORY,
	HTTP2_END_COUNT,
};
const char *http2_end_name(enum http2_end end);

struct http2_field {
	const uint8_t *name;      /* lower case as HPACK carries it; not NUL-terminated */
	size_t name_len;
	const uint8_t *value;
	size_t value_len;
};

struct http2_message {
	uint32_t stream_id;
	int from_server;          /* 1: a response (or trailers) from the server */
	int push_promise;         /* 1: a request the server promised (stream_id is the promised one) */
	int end_stream;           /* the HEADERS frame ended the stream (no body) */
	const struct http2_field *fields;
	size_t count;
};

/* A complete header block. The fields are valid during the call only. Return 0 (non-zero stops). */
typedef int (*http2_message_fn)(void *context, const struct http2_message *message);

struct http2_stats {
	uint64_t frames[2];       /* [from_server] */
	uint64_t header_blocks[2];
	uint64_t table_size_updates;  /* SETTINGS_HEADER_TABLE_SIZE applied */
	uint64_t goaways[2];          /* GOAWAY frames read */
};

struct http2_conn;

struct http2_conn *http2_conn_new(void);
void http2_conn_free(struct http2_conn *conn);

/* The next decrypted bytes of one direction (chunks of any size). */
enum http2_end http2_feed(struct http2_conn *conn, int from_server, const uint8_t *data, size_t len,
			  http2_message_fn on_message, void *context);

const struct http2_stats *http2_conn_stats(const struct http2_conn *conn);

/* Whether `data` begins with (or is a prefix of) the client connection preface. */
int http2_is_preface(const uint8_t *data, size_t len);

#endif
