/*
 * http1: HTTP/1 messages read from a byte stream fed in arbitrary pieces.
 * The header block is copied into a buffer of the parser's (grown on demand
 * up to HTTP1_HEADER_MAX, kept for the next message) until its empty line
 * has arrived, then read in one pass; bodies go through a small state
 * machine that never copies them. The start line is checked as it arrives,
 * so that another protocol on port 80 ends the direction after a few bytes
 * rather than after 64 KiB.
 *
 * Leniency follows what browsers and servers accept (RFC 9112): bare LF line
 * ends, empty lines before a message, obsolete line folding, a response
 * without a reason phrase. Strictness is where a wrong guess would lose the
 * message boundaries: Content-Length and chunk sizes.
 */
#include "http1.h"
#include "../daemon/text.h"

#include <stdlib.h>
#include <string.h>

enum state {
	ST_HEAD = 0,      /* reading a start line and header block into buf */
	ST_BODY,          /* passing over body_left bytes of a Content-Length body */
	ST_UNTIL_CLOSE,   /* a response body that runs to the end of the connection */
	ST_CHUNK_SIZE,    /* hex digits of a chunk-size line */
	ST_CHUNK_EXT,     /* the rest of a chunk-size line: extensions, CR */
	ST_CHUNK_DATA,    /* passing over body_left bytes of chunk data */
	ST_CHUNK_CR,      /* the CRLF after chunk data */
	ST_CHUNK_LF,
	ST_TRAILER_START, /* the start of a trailer line; an empty one ends the message */
	ST_TRAILER_CR,
	ST_TRAILER_LINE,
};

enum { BUF_INITIAL = 2048, SPARE_BUFFERS = 32 };

/*
 * Buffers of BUF_INITIAL bytes given back by parsers that ended, for the
 * next parser of the thread: a connection's streams come and go by the
 * thousand, and a 2 KiB block is more than the allocator keeps at hand.
 */
static _Thread_local struct {
	uint8_t *buf[SPARE_BUFFERS];
	unsigned count;
} spare;

static const char *const end_names[] = {
	"more", "not_http", "too_long", "bad_length", "gap", "upgrade", "bad_chunk",
	"stopped", "no_memory",
};

const char *http1_end_name(enum http1_end end)
{
	unsigned index = (unsigned)end;
	if (index >= sizeof end_names / sizeof end_names[0])
		return "unknown";
	return end_names[index];
}

void http1_parser_init(struct http1_parser *parser, int is_request_direction)
{
	memset(parser, 0, sizeof *parser);
	parser->is_request = is_request_direction ? 1 : 0;
	parser->state = ST_HEAD;
}

void http1_parser_free(struct http1_parser *parser)
{
	if (parser->buf && parser->buf_cap == BUF_INITIAL && spare.count < SPARE_BUFFERS)
		spare.buf[spare.count++] = parser->buf;
	else
		free(parser->buf);
	parser->buf = NULL;
	parser->buf_cap = parser->buf_len = 0;
}

/* Ends the direction for good; the buffer is no longer needed. */
static void set_end(struct http1_parser *parser, enum http1_end end)
{
	parser->end = (uint8_t)end;
	http1_parser_free(parser);
	parser->line_start = 0;
	parser->line_index = 0;
	parser->body_left = 0;
}

/*
 * Not HTTP. After a request that asked for an Upgrade, it is most likely the
 * upgraded protocol (WebSocket frames) that the server's 101 switched to.
 */
static void set_not_http(struct http1_parser *parser)
{
	set_end(parser, parser->upgrade_requested && parser->messages > 0 ? HTTP1_END_UPGRADE
									  : HTTP1_END_NOT_HTTP);
}

static void message_done(struct http1_parser *parser)
{
	parser->state = ST_HEAD;
	parser->body_left = 0;
}

/* ---- character classes, without the locale ------------------------------ */

static inline int is_alpha(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/*
 * A method is a token (RFC 9110 9.1). Registered methods are letters, and
 * '-' (SSDP's M-SEARCH); the other token characters are not accepted, so
 * that another protocol is told from HTTP within its first bytes.
 */
static inline int is_method_char(uint8_t c)
{
	return is_alpha(c) || c == '-';
}

static inline int is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

static inline int is_ows(uint8_t c)
{
	return c == ' ' || c == '\t';
}

static inline uint8_t lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

/* Case-insensitive: does [p, p+len) equal the lower-case `word`? */
static int equals_word(const uint8_t *p, size_t len, const char *word)
{
	size_t n = strlen(word);
	if (len != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (lower(p[i]) != (uint8_t)word[i])
			return 0;
	return 1;
}

static void trim(const uint8_t **p, size_t *len)
{
	while (*len > 0 && is_ows((*p)[0])) {
		(*p)++;
		(*len)--;
	}
	while (*len > 0 && is_ows((*p)[*len - 1]))
		(*len)--;
}

/* ---- the start line, as it arrives -------------------------------------- */

/*
 * Could buf[0..len) (the start line so far, its line end not included) begin
 * an HTTP/1 message of this direction? Looks at no more than the first 17
 * bytes, so that calling it on every piece costs nothing.
 */
static int start_prefix_ok(const struct http1_parser *parser, const uint8_t *line, size_t len)
{
	if (parser->is_request) {
		/* A method: a letter, then letters or '-', 1 to 16 of them in all. */
		size_t i;
		for (i = 0; i < len && i <= HTTP1_METHOD_MAX; i++) {
			if (is_alpha(line[i]) || (i > 0 && line[i] == '-'))
				continue;
			return line[i] == ' ' && i > 0;
		}
		return i <= HTTP1_METHOD_MAX;
	}
	static const char pattern[] = "HTTP/1.# ###"; /* # a digit */
	for (size_t i = 0; i < len && i < sizeof pattern - 1; i++) {
		if (pattern[i] == '#' ? !is_digit(line[i]) : line[i] != (uint8_t)pattern[i])
			return 0;
	}
	return 1;
}

/* Control bytes other than tab and the line end have no place in a start line. */
static int start_byte_bad(uint8_t c)
{
	return (c < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0x7f;
}

static int start_bytes_ok(const uint8_t *p, size_t len)
{
	const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
	size_t i = 0;
	/*
	 * Eight bytes at a time while none of them can be one (a long URL's
	 * bytes mostly): a word with no byte below 0x20 and none equal to 0x7f
	 * (the usual tests for a byte below n, and for a zero byte after XOR).
	 * A word that may have one is looked at byte by byte.
	 */
	for (; i + 8 <= len; i += 8) {
		uint64_t x;
		memcpy(&x, p + i, sizeof x);
		uint64_t del = x ^ (0x7f * ones);
		if (((x - 0x20 * ones) & ~x & highs) == 0 && ((del - ones) & ~del & highs) == 0)
			continue;
		for (size_t k = i; k < i + 8; k++)
			if (start_byte_bad(p[k]))
				return 0;
	}
	for (; i < len; i++)
		if (start_byte_bad(p[i]))
			return 0;
	return 1;
}

/* "HTTP/1.x" at p (len bytes available): x, or -1. */
static int parse_version(const uint8_t *p, size_t len)
{
	if (len < 8 || memcmp(p, "HTTP/1.", 7) != 0 || !is_digit(p[7]))
		return -1;
	return p[7] - '0';
}

/* The whole start line, line end removed. Fills the message; 0 if it is not HTTP/1. */
static int parse_start_line(const uint8_t *line, size_t len, int is_request,
			    struct http1_message *message)
{
	size_t pos = 0;
	if (is_request) {
		while (pos < len && (pos == 0 ? is_alpha(line[pos]) : is_method_char(line[pos])))
			pos++;
		if (pos == 0 || pos > HTTP1_METHOD_MAX || pos == len || line[pos] != ' ')
			return 0;
		message->method = (const char *)line;
		message->method_len = pos;
		while (pos < len && line[pos] == ' ')
			pos++;
		size_t target = pos;
		const uint8_t *space = memchr(line + pos, ' ', len - pos);
		pos = space ? (size_t)(space - line) : len;
		if (pos == target || pos == len)
			return 0;
		message->target = (const char *)line + target;
		message->target_len = pos - target;
		while (pos < len && line[pos] == ' ')
			pos++;
		message->version_minor = parse_version(line + pos, len - pos);
		if (message->version_minor < 0)
			return 0;
		pos += 8;
		while (pos < len && is_ows(line[pos]))
			pos++;
		return pos == len;
	}
	message->version_minor = parse_version(line, len);
	if (message->version_minor < 0)
		return 0;
	pos = 8;
	if (pos == len || line[pos] != ' ')
		return 0;
	while (pos < len && line[pos] == ' ')
		pos++;
	if (len - pos < 3 || !is_digit(line[pos]) || !is_digit(line[pos + 1]) ||
	    !is_digit(line[pos + 2]) || line[pos] == '0')
		return 0;
	message->status = (line[pos] - '0') * 100 + (line[pos + 1] - '0') * 10 + (line[pos + 2] - '0');
	pos += 3;
	/* The reason phrase, if any, after a space; some servers send none. */
	return pos == len || is_ows(line[pos]);
}

/* ---- the header block ---------------------------------------------------- */

struct framing {
	int has_length;      /* a Content-Length header */
	int length_seen;     /* ... with a number in it */
	int length_bad;      /* not a number, or two that differ */
	uint64_t length;
	int has_te;
	int te_chunked;      /* the last transfer coding is chunked */
	int upgrade;
};

/*
 * A Content-Length value: a number, or a list of the same number (RFC 9110
 * 8.6). UINT64_MAX itself is refused: it means "to the end" here.
 */
static void read_content_length(const uint8_t *p, size_t len, struct framing *framing)
{
	framing->has_length = 1;
	size_t pos = 0;
	do {
		size_t start = pos;
		while (pos < len && p[pos] != ',')
			pos++;
		const uint8_t *item = p + start;
		size_t item_len = pos - start;
		trim(&item, &item_len);
		if (item_len == 0) {
			framing->length_bad = 1;
			return;
		}
		uint64_t value = 0;
		for (size_t i = 0; i < item_len; i++) {
			uint64_t digit = (uint64_t)(item[i] - '0');
			if (!is_digit(item[i]) || value > (UINT64_MAX - 1 - digit) / 10) {
				framing->length_bad = 1;
				return;
			}
			value = value * 10 + digit;
		}
		if (framing->length_seen && framing->length != value) {
			framing->length_bad = 1;
			return;
		}
		framing->length_seen = 1;
		framing->length = value;
		pos++; /* past the comma, or past the end */
	} while (pos < len);
}

/* Transfer-Encoding: what counts is whether the last coding is chunked. */
static void read_transfer_encoding(const uint8_t *p, size_t len, struct framing *framing)
{
	const uint8_t *last = NULL;
	size_t last_len = 0;
	size_t pos = 0;
	while (pos < len) {
		size_t start = pos;
		while (pos < len && p[pos] != ',')
			pos++;
		const uint8_t *item = p + start;
		size_t item_len = pos - start;
		trim(&item, &item_len);
		if (item_len > 0) {
			last = item;
			last_len = item_len;
		}
		pos++;
	}
	if (!last)
		return;
	framing->has_te = 1;
	framing->te_chunked = equals_word(last, last_len, "chunked");
}

static void keep_first(struct http1_span *span, const uint8_t *value, size_t len)
{
	if (span->p)
		return;
	span->p = (const char *)value;
	span->len = len;
}

static void read_header(const uint8_t *name, size_t name_len, const uint8_t *value,
			size_t value_len, struct http1_message *message, struct framing *framing)
{
	int over = message->header_count > HTTP1_MAX_HEADERS;
	if (over)
		message->headers_dropped++;
	/* The framing headers are always read: skipping them would lose the next message. */
	if (equals_word(name, name_len, "content-length")) {
		read_content_length(value, value_len, framing);
		return;
	}
	if (equals_word(name, name_len, "transfer-encoding")) {
		read_transfer_encoding(value, value_len, framing);
		return;
	}
	int is_cookie = message->is_request ? equals_word(name, name_len, "cookie")
					    : equals_word(name, name_len, "set-cookie");
	if (over) {
		if (is_cookie)
			message->cookies_dropped++;
		return;
	}
	if (is_cookie) {
		uint8_t *count = message->is_request ? &message->cookie_count
						     : &message->set_cookie_count;
		struct http1_span *spans = message->is_request ? message->cookies
							       : message->set_cookies;
		if (*count >= HTTP1_MAX_COOKIES) {
			message->cookies_dropped++;
			return;
		}
		spans[*count].p = (const char *)value;
		spans[*count].len = value_len;
		(*count)++;
	} else if (equals_word(name, name_len, "host")) {
		keep_first(&message->host, value, value_len);
	} else if (equals_word(name, name_len, "referer")) {
		keep_first(&message->referer, value, value_len);
	} else if (equals_word(name, name_len, "origin")) {
		keep_first(&message->origin, value, value_len);
	} else if (equals_word(name, name_len, "user-agent")) {
		keep_first(&message->user_agent, value, value_len);
	} else if (equals_word(name, name_len, "content-type")) {
		keep_first(&message->content_type, value, value_len);
	} else if (equals_word(name, name_len, "upgrade")) {
		framing->upgrade = 1;
	}
}

/*
 * Obsolete line folding (RFC 9112 5.2): a header line that starts with a
 * space or tab continues the previous one. Turning the line end before it
 * into spaces makes the two one line, in place. It starts at the first
 * header: a line of whitespace right after the start line folds into
 * nothing, and process_block() skips it (RFC 9112 2.2).
 */
static void unfold(uint8_t *block, size_t len, size_t headers_start)
{
	size_t pos = headers_start;
	while (pos < len) {
		uint8_t *lf = memchr(block + pos, '\n', len - pos);
		if (!lf)
			return;
		size_t next = (size_t)(lf - block) + 1;
		if (next < len && is_ows(block[next])) {
			*lf = ' ';
			if (lf > block + pos && lf[-1] == '\r')
				lf[-1] = ' ';
		}
		pos = next;
	}
}

/* Pops the oldest request awaiting its response: 1 HEAD, 2 CONNECT, 0 other or unknown. */
static int pop_pending(struct http1_parser *parser)
{
	if (parser->pending_count == 0)
		return 0;
	int kind = (parser->pending_head & 1) ? 1 : (parser->pending_connect & 1) ? 2 : 0;
	parser->pending_head >>= 1;
	parser->pending_connect >>= 1;
	parser->pending_count--;
	return kind;
}

/* buf holds a complete header block: report the message, choose how its body ends. */
static void process_block(struct http1_parser *parser, http1_message_fn on_message,
			  void *context)
{
	uint8_t *block = parser->buf;
	size_t len = parser->buf_len;
	size_t block_len = len;

	/* Next message: the buffer is free again once the callback is over. */
	parser->buf_len = 0;
	parser->line_start = 0;
	parser->line_index = 0;

	struct http1_message message;
	memset(&message, 0, sizeof message);
	message.is_request = parser->is_request;

	uint8_t *lf = memchr(block, '\n', len);
	size_t line_len = (size_t)(lf - block);
	size_t headers_start = line_len + 1;
	if (line_len > 0 && block[line_len - 1] == '\r')
		line_len--;
	if (!parse_start_line(block, line_len, parser->is_request, &message)) {
		set_not_http(parser);
		return;
	}

	unfold(block, block_len, headers_start);
	struct framing framing;
	memset(&framing, 0, sizeof framing);
	size_t pos = headers_start;
	while (pos < block_len) {
		uint8_t *end = memchr(block + pos, '\n', block_len - pos);
		size_t next = (size_t)(end - block) + 1;
		const uint8_t *line = block + pos;
		size_t n = (size_t)(end - line);
		if (n > 0 && line[n - 1] == '\r')
			n--;
		pos = next;
		if (n == 0)
			break; /* the empty line that ends the block */
		if (is_ows(line[0]))
			continue; /* whitespace before the first header: ignored, not a fold */
		const uint8_t *colon = memchr(line, ':', n);
		if (!colon || colon == line)
			continue; /* not a header field: tolerated, as browsers do */
		size_t name_len = (size_t)(colon - line);
		if (memchr(line, ' ', name_len) || memchr(line, '\t', name_len))
			continue; /* "Name : value" is invalid (RFC 9112 5.1) */
		const uint8_t *value = colon + 1;
		size_t value_len = n - name_len - 1;
		trim(&value, &value_len);
		if (message.header_count < UINT16_MAX)
			message.header_count++;
		read_header(line, name_len, value, value_len, &message, &framing);
	}

	/* How the body ends (RFC 9112 6.3), and whether HTTP goes on after it. */
	enum http1_end end = HTTP1_MORE;
	enum state next = ST_HEAD;
	if (parser->is_request) {
		parser->upgrade_requested = (uint8_t)framing.upgrade;
		if (message.method_len == 7 && memcmp(message.method, "CONNECT", 7) == 0) {
			end = HTTP1_END_UPGRADE;
		} else if (framing.has_te) {
			/* A request body must be chunked when it has a transfer coding. */
			if (framing.te_chunked)
				next = ST_CHUNK_SIZE;
			else
				end = HTTP1_END_BAD_LENGTH;
		} else if (framing.has_length) {
			if (framing.length_bad)
				end = HTTP1_END_BAD_LENGTH;
			else if (framing.length > 0)
				next = ST_BODY;
		}
	} else if (message.status == 101) {
		end = HTTP1_END_UPGRADE;
	} else if (message.status < 200) {
		/* 100 Continue, 103 Early Hints: the final response is still to come. */
	} else {
		int request = pop_pending(parser);
		if (request == 2 && message.status < 300) {
			end = HTTP1_END_UPGRADE; /* a tunnel */
		} else if (request == 1 || message.status == 204 || message.status == 304) {
			/* No body, whatever the headers say. */
		} else if (framing.has_te) {
			next = framing.te_chunked ? ST_CHUNK_SIZE : ST_UNTIL_CLOSE;
		} else if (framing.has_length) {
			if (framing.length_bad)
				end = HTTP1_END_BAD_LENGTH;
			else if (framing.length > 0)
				next = ST_BODY;
		} else {
			next = ST_UNTIL_CLOSE;
		}
	}
	if (next == ST_BODY)
		message.body_length = framing.length;
	else if (next == ST_UNTIL_CLOSE)
		message.body_length = HTTP1_BODY_UNTIL_CLOSE;
	message.chunked = next == ST_CHUNK_SIZE;

	parser->messages++;
	/* The message is reported even when its framing ends the direction: its
	 * host and cookies were on the wire all the same. */
	if (on_message && on_message(context, &message) != 0) {
		set_end(parser, HTTP1_END_STOPPED);
		return;
	}
	if (end != HTTP1_MORE) {
		set_end(parser, end);
		return;
	}
	parser->state = (uint8_t)next;
	parser->body_left = next == ST_BODY ? framing.length : 0;
	parser->chunk_size = 0;
	parser->chunk_digits = 0;
	parser->line_len = 0;
}

static int reserve(struct http1_parser *parser, size_t need)
{
	if (need <= parser->buf_cap)
		return 1;
	size_t cap = parser->buf_cap ? parser->buf_cap : BUF_INITIAL;
	while (cap < need)
		cap *= 2;
	if (cap > HTTP1_HEADER_MAX)
		cap = HTTP1_HEADER_MAX;
	if (!parser->buf && cap == BUF_INITIAL && spare.count) {
		parser->buf = spare.buf[--spare.count];
		parser->buf_cap = cap;
		return 1;
	}
	uint8_t *buf = realloc(parser->buf, cap);
	if (!buf)
		return 0;
	parser->buf = buf;
	parser->buf_cap = cap;
	return 1;
}

/*
 * Takes bytes of a start line and header block, a line at a time; returns
 * how many it used (all of them unless the block completed or the direction
 * ended).
 */
static size_t feed_head(struct http1_parser *parser, const uint8_t *data, size_t len,
			http1_message_fn on_message, void *context)
{
	size_t pos = 0;
	while (pos < len) {
		if (parser->buf_len == 0) {
			/* Empty lines before a message (RFC 9112 2.2), e.g. after a body. */
			while (pos < len && (data[pos] == '\r' || data[pos] == '\n'))
				pos++;
			if (pos == len)
				break;
		}
		const uint8_t *lf = memchr(data + pos, '\n', len - pos);
		size_t take = lf ? (size_t)(lf - (data + pos)) + 1 : len - pos;
		size_t room = HTTP1_HEADER_MAX - parser->buf_len;
		size_t fits = take < room ? take : room;
		if (!reserve(parser, parser->buf_len + fits)) {
			set_end(parser, HTTP1_END_NO_MEMORY);
			return pos;
		}
		if (fits > 0)
			memcpy(parser->buf + parser->buf_len, data + pos, fits);
		/*
		 * The start line is checked on what fits, before the length, so that
		 * the reason does not depend on how the bytes were cut into pieces.
		 */
		if (parser->line_index == 0 &&
		    (!start_bytes_ok(data + pos, fits) ||
		     !start_prefix_ok(parser, parser->buf, parser->buf_len + fits))) {
			set_not_http(parser);
			return pos;
		}
		if (fits < take) {
			set_end(parser, HTTP1_END_TOO_LONG);
			return pos;
		}
		parser->buf_len += take;
		pos += take;
		if (!lf)
			break;
		size_t line_len = parser->buf_len - 1 - parser->line_start;
		if (line_len > 0 && parser->buf[parser->buf_len - 2] == '\r')
			line_len--;
		if (line_len == 0 && parser->line_index > 0) {
			process_block(parser, on_message, context);
			return pos;
		}
		parser->line_start = parser->buf_len;
		parser->line_index++;
	}
	return pos;
}

/* One byte of chunked framing (not chunk data). */
static void chunk_byte(struct http1_parser *parser, uint8_t c)
{
	switch (parser->state) {
	case ST_CHUNK_SIZE: {
		int digit = hex_digit_value((unsigned char)c);
		if (digit >= 0) {
			/* 2^60 bytes is more than any connection will carry. */
			if (parser->chunk_size >> 56) {
				set_end(parser, HTTP1_END_BAD_CHUNK);
				return;
			}
			parser->chunk_size = parser->chunk_size << 4 | (uint64_t)digit;
			parser->chunk_digits = 1;
			break;
		}
		if (!parser->chunk_digits) {
			set_end(parser, HTTP1_END_BAD_CHUNK);
			return;
		}
		if (c == '\n')
			goto line_done;
		if (c != ';' && c != '\r' && !is_ows(c)) {
			set_end(parser, HTTP1_END_BAD_CHUNK);
			return;
		}
		parser->state = ST_CHUNK_EXT;
		break;
	}
	case ST_CHUNK_EXT:
		if (c == '\n')
			goto line_done;
		break;
	case ST_CHUNK_CR:
	case ST_CHUNK_LF:
		/* CRLF after the data, or a bare LF. */
		if (c == '\r' && parser->state == ST_CHUNK_CR) {
			parser->state = ST_CHUNK_LF;
			return;
		}
		if (c != '\n') {
			set_end(parser, HTTP1_END_BAD_CHUNK);
			return;
		}
		parser->state = ST_CHUNK_SIZE;
		parser->chunk_size = 0;
		parser->chunk_digits = 0;
		parser->line_len = 0;
		return;
	case ST_TRAILER_START:
		if (c == '\n') {
			message_done(parser);
			return;
		}
		parser->state = c == '\r' ? ST_TRAILER_CR : ST_TRAILER_LINE;
		break;
	case ST_TRAILER_CR:
		if (c == '\n') {
			message_done(parser);
			return;
		}
		parser->state = ST_TRAILER_LINE;
		break;
	case ST_TRAILER_LINE:
		if (c == '\n')
			parser->state = ST_TRAILER_START;
		break;
	default:
		break;
	}
	/* Bytes of a chunk-size line, or of the whole trailer. */
	uint32_t limit = parser->state >= ST_TRAILER_START ? HTTP1_HEADER_MAX : HTTP1_CHUNK_LINE_MAX;
	if (++parser->line_len > limit)
		set_end(parser, parser->state >= ST_TRAILER_START ? HTTP1_END_TOO_LONG
								  : HTTP1_END_BAD_CHUNK);
	return;

line_done:
	if (parser->chunk_size == 0) {
		parser->state = ST_TRAILER_START;
		parser->line_len = 0;
		return;
	}
	parser->state = ST_CHUNK_DATA;
	parser->body_left = parser->chunk_size;
}

/* Passes over up to `n` body or chunk-data bytes; returns how many. */
static uint64_t pass_over(struct http1_parser *parser, uint64_t n)
{
	if (parser->state == ST_UNTIL_CLOSE)
		return n;
	uint64_t used = n < parser->body_left ? n : parser->body_left;
	parser->body_left -= used;
	if (parser->body_left == 0) {
		if (parser->state == ST_BODY)
			message_done(parser);
		else
			parser->state = ST_CHUNK_CR;
	}
	return used;
}

/* `n` bytes that will not be seen: fine inside a body, the end elsewhere. */
static enum http1_end gap(struct http1_parser *parser, uint64_t n)
{
	if (parser->end != HTTP1_MORE || n == 0 || parser->state == ST_UNTIL_CLOSE)
		return (enum http1_end)parser->end;
	if ((parser->state == ST_BODY || parser->state == ST_CHUNK_DATA) && n <= parser->body_left) {
		pass_over(parser, n);
		return HTTP1_MORE;
	}
	set_end(parser, HTTP1_END_GAP);
	return HTTP1_END_GAP;
}

enum http1_end http1_parser_feed(struct http1_parser *parser, const uint8_t *data, size_t len,
				 http1_message_fn on_message, void *context)
{
	if (parser->end != HTTP1_MORE)
		return (enum http1_end)parser->end;
	if (!data)
		return gap(parser, len);
	size_t pos = 0;
	while (pos < len && parser->end == HTTP1_MORE) {
		switch (parser->state) {
		case ST_HEAD:
			pos += feed_head(parser, data + pos, len - pos, on_message, context);
			break;
		case ST_UNTIL_CLOSE:
			pos = len;
			break;
		case ST_BODY:
		case ST_CHUNK_DATA:
			pos += (size_t)pass_over(parser, len - pos);
			break;
		case ST_CHUNK_EXT:
		case ST_TRAILER_LINE: {
			/* Most of a line: find its end at once rather than byte by byte. */
			const uint8_t *lf = memchr(data + pos, '\n', len - pos);
			size_t run = lf ? (size_t)(lf - (data + pos)) : len - pos;
			uint32_t limit = parser->state == ST_TRAILER_LINE ? HTTP1_HEADER_MAX
									 : HTTP1_CHUNK_LINE_MAX;
			if (run > limit - parser->line_len) {
				set_end(parser, parser->state == ST_TRAILER_LINE ? HTTP1_END_TOO_LONG
										 : HTTP1_END_BAD_CHUNK);
				break;
			}
			parser->line_len += (uint32_t)run;
			pos += run;
			if (pos < len)
				chunk_byte(parser, data[pos++]);
			break;
		}
		default:
			chunk_byte(parser, data[pos++]);
			break;
		}
	}
	return (enum http1_end)parser->end;
}

uint64_t http1_parser_skip_hint(const struct http1_parser *parser)
{
	if (parser->end != HTTP1_MORE)
		return 0;
	if (parser->state == ST_UNTIL_CLOSE)
		return HTTP1_BODY_UNTIL_CLOSE;
	if (parser->state == ST_BODY || parser->state == ST_CHUNK_DATA)
		return parser->body_left;
	return 0;
}

enum http1_end http1_parser_skipped(struct http1_parser *parser, uint64_t n)
{
	return gap(parser, n);
}

void http1_parser_request_seen(struct http1_parser *response_parser,
			       const struct http1_message *request)
{
	if (!request->is_request || response_parser->pending_count >= HTTP1_MAX_PENDING)
		return;
	uint64_t bit = (uint64_t)1 << response_parser->pending_count;
	if (request->method_len == 4 && memcmp(request->method, "HEAD", 4) == 0)
		response_parser->pending_head |= bit;
	else if (request->method_len == 7 && memcmp(request->method, "CONNECT", 7) == 0)
		response_parser->pending_connect |= bit;
	response_parser->pending_count++;
}
