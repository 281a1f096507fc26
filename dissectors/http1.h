/*
 * http1: a streaming HTTP/1.0 and HTTP/1.1 parser for the dissect stage, one
 * per direction of a TCP connection. The reassembly layer (daemon/
 * reassembly.h) feeds it the direction's bytes in order, in chunks of any
 * size (one byte at a time works as well as whole segments), and gaps as a
 * NULL pointer with a length. For each message it reports, once the header
 * block is complete and before the body, the start line and the headers that
 * name a site or carry tracking state: Host, Referer, Origin, User-Agent,
 * Content-Type, and every Cookie (requests) or Set-Cookie (responses) header,
 * raw (the cookie parsing is another module's job).
 *
 * Bodies are never buffered: they are passed over by Content-Length, by
 * chunked transfer coding, or to the end of the connection. The caller may
 * feed body bytes (they are discarded) or ask http1_parser_skip_hint() how
 * many bytes come next that the parser will not look at, skip them in the
 * reassembly (tcp_stream_skip()) and say so with http1_parser_skipped(); both
 * give the same result.
 *
 * Hostile input: a header block is at most HTTP1_HEADER_MAX bytes, at most
 * HTTP1_MAX_HEADERS headers and HTTP1_MAX_COOKIES cookie headers per message
 * are kept (the rest are counted), lengths and chunk sizes are checked for
 * overflow. Anything the parser cannot follow ends the direction for good,
 * with the reason: after garbage, a gap outside a body or a length it cannot
 * trust, nobody knows where the next message starts.
 */
#ifndef TRACKWATCH_HTTP1_H
#define TRACKWATCH_HTTP1_H

#include <stddef.h>
#include <stdint.h>

enum {
	/* Start line to the empty line that ends the header block, both included. */
	HTTP1_HEADER_MAX = 65536,
	HTTP1_MAX_HEADERS = 128,     /* header fields looked at per message */
	HTTP1_MAX_COOKIES = 64,      /* Cookie or Set-Cookie headers kept per message */
	HTTP1_METHOD_MAX = 16,       /* a longer "method" is not HTTP */
	HTTP1_CHUNK_LINE_MAX = 4096, /* a chunk-size line with its extensions */
	HTTP1_MAX_PENDING = 64,      /* requests awaiting a response (pipelining) */
};

/* body_length of a response that runs to the end of the connection. */
#define HTTP1_BODY_UNTIL_CLOSE UINT64_MAX

/* Why a direction ended; HTTP1_MORE while it goes on. Keep http1_end_name() in step. */
enum http1_end {
	HTTP1_MORE = 0,
	HTTP1_END_NOT_HTTP,     /* not an HTTP/1 start line (another protocol, garbage) */
	HTTP1_END_TOO_LONG,     /* header block or trailer over HTTP1_HEADER_MAX */
	HTTP1_END_BAD_LENGTH,   /* Content-Length not a number, or two that differ; or a
				   request with a Transfer-Encoding other than chunked */
	HTTP1_END_GAP,          /* bytes lost outside a body */
	HTTP1_END_UPGRADE,      /* CONNECT, 101 Switching Protocols, 2xx to CONNECT:
				   what follows is not HTTP */
	HTTP1_END_BAD_CHUNK,    /* a chunk-size line or chunk end that does not parse */
	HTTP1_END_STOPPED,      /* the message callback returned nonzero */
	HTTP1_END_NO_MEMORY,    /* the header buffer could not be allocated */
};

const char *http1_end_name(enum http1_end end);

/* A header value: raw bytes, not NUL-terminated; {NULL, 0} when absent. */
struct http1_span {
	const char *p;
	size_t len;
};

/*
 * One message, valid only during the callback: every pointer points into the
 * parser's buffer, which the next message reuses. Values have leading and
 * trailing spaces and tabs removed; an obsolete line fold (a line starting
 * with a space or tab) is part of the previous value, its line end turned to
 * spaces. When a header appears more than once, the first one is kept
 * (Cookie and Set-Cookie: all of them, in order, up to HTTP1_MAX_COOKIES).
 */
struct http1_message {
	int is_request;
	const char *method;          /* requests: as sent, letters and '-' only */
	size_t method_len;
	const char *target;          /* requests: the request-target, with its query, as sent */
	size_t target_len;
	int version_minor;           /* HTTP/1.x: x (the major version is always 1) */
	int status;                  /* responses: 100..999; requests: 0 */
	struct http1_span host, referer, origin, user_agent, content_type;
	struct http1_span cookies[HTTP1_MAX_COOKIES];     /* requests: Cookie */
	struct http1_span set_cookies[HTTP1_MAX_COOKIES]; /* responses: Set-Cookie */
	uint8_t cookie_count, set_cookie_count;
	uint16_t cookies_dropped;    /* Cookie or Set-Cookie headers not kept */
	uint16_t header_count;       /* header fields, kept or not */
	uint16_t headers_dropped;    /* fields after the first HTTP1_MAX_HEADERS: not looked
					at, except Content-Length and Transfer-Encoding, which
					the framing needs */
	/*
	 * The body that follows: Content-Length bytes, 0 when there is none or it
	 * is chunked, HTTP1_BODY_UNTIL_CLOSE for a response with neither length
	 * nor chunking.
	 */
	uint64_t body_length;
	int chunked;
};

/* Called once per message, in order; a nonzero return ends the direction. */
typedef int (*http1_message_fn)(void *context, const struct http1_message *message);

/* Per direction; embed it in the flow. Fields are the parser's own. */
struct http1_parser {
	uint8_t is_request;
	uint8_t state;
	uint8_t end;                 /* enum http1_end */
	uint8_t upgrade_requested;   /* the last request asked for Upgrade */
	uint8_t chunk_digits;
	uint8_t pending_count;       /* responses: requests not yet answered */
	uint64_t pending_head;       /* bit i: the i-th of them is a HEAD */
	uint64_t pending_connect;    /* bit i: the i-th of them is a CONNECT */
	uint8_t *buf;                /* the header block being read; NULL until needed */
	size_t buf_len, buf_cap;
	size_t line_start;           /* in buf: where the line being read starts */
	uint32_t line_index;         /* its number in the block: 0 is the start line */
	uint32_t line_len;           /* chunk-size line or trailer bytes so far */
	uint64_t body_left;          /* bytes of body or chunk data still to pass over */
	uint64_t chunk_size;
	uint64_t messages;           /* messages reported */
};

/* is_request_direction: 1 for client to server (requests), 0 for responses. */
void http1_parser_init(struct http1_parser *parser, int is_request_direction);

/*
 * Feeds the next `len` bytes of the direction; `data` NULL is a gap of `len`
 * unseen bytes (inside a body it only shortens the body; elsewhere it ends
 * the direction). Calls `on_message` (may be NULL) for every message whose
 * header block completes, in order. Returns HTTP1_MORE, or why the direction
 * ended; once ended, it ignores what it is fed and returns the same reason.
 */
enum http1_end http1_parser_feed(struct http1_parser *parser, const uint8_t *data, size_t len,
				 http1_message_fn on_message, void *context);

/*
 * How many of the next bytes the parser will pass over without looking at
 * them (body or chunk data); 0 when it needs to see the next byte.
 * HTTP1_BODY_UNTIL_CLOSE (UINT64_MAX) when everything to the end of the
 * connection is body: the caller may stop the stream.
 */
uint64_t http1_parser_skip_hint(const struct http1_parser *parser);

/*
 * The caller passed over the next `n` bytes without feeding them; n should
 * be at most the hint (beyond it, it is a gap). Returns as http1_parser_feed().
 */
enum http1_end http1_parser_skipped(struct http1_parser *parser, uint64_t n);

/*
 * On the response side: a request of this connection was seen (call it from
 * the request side's callback). The response side keeps, in order, up to
 * HTTP1_MAX_PENDING requests awaiting their response, to know which response
 * answers a HEAD (no body, whatever its Content-Length says) or a CONNECT (a
 * 2xx starts a tunnel). With no request seen, a response is taken to answer
 * neither.
 */
void http1_parser_request_seen(struct http1_parser *response_parser,
			       const struct http1_message *request);

/* Frees the buffer (also done when the direction ends); the parser may then be reused after init. */
void http1_parser_free(struct http1_parser *parser);

#endif
