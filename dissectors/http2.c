/*
 * http2: the header blocks of an HTTP/2 connection, read frame by frame from
 * each direction's decrypted bytes as they come, in pieces of any size. No
 * frame is buffered: a header block fragment goes to the direction's HPACK
 * inflater (nghttp2) byte range by byte range, the rest (DATA, PING, ...) is
 * passed over by its length. What is kept is the decoded fields of the
 * message being read, copied into a per-direction arena, since the inflater
 * hands out fields that live only until its next call.
 *
 * HPACK table sizes: the decoder of a direction accepts the largest
 * SETTINGS_HEADER_TABLE_SIZE the other endpoint announced, from when that
 * SETTINGS frame is read. A decrease is not enforced: a conforming encoder
 * signals it with a dynamic table size update in its next header block,
 * which the inflater applies (evicting) all the same, and a passive reader
 * cannot tell when the encoder saw the new value (the two directions' frames
 * cross on the wire), so enforcing it could fail header blocks that were
 * sent under the old one. An increase must be read before the blocks that
 * use it: the caller feeds the two directions in capture order.
 *
 * What http2.h leaves open, decided here: each side's first frame must be a
 * SETTINGS (RFC 9113 3.4), else HTTP2_END_BAD_FRAME, which tells a server
 * that is not speaking HTTP/2 at once; a push promise is given with
 * from_server 1 (its bytes are the server's) and push_promise 1; a callback
 * that returns nonzero ends the connection as HTTP2_END_STOPPED; a field's name and value point into the arena even
 * when empty, never NULL; one name or value is at most 64 KiB, nghttp2's own
 * bound (beyond it, HTTP2_END_HPACK).
 */
#include "http2.h"

#include <stdlib.h>
#include <string.h>

#include <nghttp2/nghttp2.h>

enum {
	FRAME_HEADERS = 0x1,
	FRAME_SETTINGS = 0x4,
	FRAME_PUSH_PROMISE = 0x5,
	FRAME_GOAWAY = 0x7,
	FRAME_CONTINUATION = 0x9,

	FLAG_END_STREAM = 0x1,
	FLAG_ACK = 0x1,
	FLAG_END_HEADERS = 0x4,
	FLAG_PADDED = 0x8,
	FLAG_PRIORITY = 0x20,

	SETTINGS_HEADER_TABLE_SIZE = 0x1,
	SETTING_LEN = 6,
	GOAWAY_MIN_LEN = 8,     /* last stream id, error code; then debug data */
	PRIORITY_LEN = 5,       /* HEADERS with PRIORITY: stream dependency, weight */
	PROMISED_ID_LEN = 4,

	/*
	 * The largest HPACK table a decoder accepts, whatever SETTINGS say (up to
	 * 2^32 - 1): the inflater keeps up to this much per direction. Browsers
	 * announce 65536; an encoder that signals more ends the connection
	 * (HTTP2_END_HPACK).
	 */
	TABLE_SIZE_MAX = 256 << 10,
	/*
	 * Decoded bytes (names and values) of one message. A header block of
	 * HTTP2_HEADER_BLOCK_MAX bytes decodes to more: Huffman codes are as
	 * short as 5 bits, and one byte can name a table entry of many bytes.
	 */
	MESSAGE_BYTES_MAX = 4 * HTTP2_HEADER_BLOCK_MAX,
	ARENA_INITIAL = 4096,
	ARENA_KEEP = 64 << 10,  /* a larger arena is freed once its message is given */
	FIELDS_INITIAL = 32,
};

static const uint8_t preface[HTTP2_PREFACE_LEN] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/* Where the reader stands in the payload of the current frame. */
enum phase {
	PH_PAD_LENGTH,    /* the Pad Length byte of a PADDED HEADERS or PUSH_PROMISE */
	PH_PREFIX,        /* HEADERS' priority fields, PUSH_PROMISE's promised stream id */
	PH_FRAGMENT,      /* header block fragment: to the inflater */
	PH_PADDING,       /* after the fragment, to the end of the frame */
	PH_SETTINGS,      /* SETTINGS parameters, 6 bytes each */
	PH_SKIP,          /* a frame not looked into */
};

/* A field of the message being read: offsets into the arena, which may move as it grows. */
struct field_span {
	uint32_t name, name_len, value, value_len;
};

struct direction {
	nghttp2_hd_inflater *inflater;
	size_t preface_seen;          /* client: bytes of the preface matched so far */

	/* The current frame. */
	uint8_t header[HTTP2_FRAME_HEADER_LEN];
	size_t header_len;
	uint32_t length;
	uint8_t type, flags;
	uint32_t stream_id;
	uint32_t pos;                 /* payload bytes read */
	uint8_t phase;                /* enum phase */
	uint32_t fragment_end;        /* where the fragment ends (padding follows) */
	uint8_t small[SETTING_LEN];   /* a prefix or a SETTINGS parameter, as it arrives */
	size_t small_len, small_want;
	uint32_t setting_table_size;  /* SETTINGS_HEADER_TABLE_SIZE of this SETTINGS frame */
	int setting_has_table_size;

	/* The header block being read (from HEADERS or PUSH_PROMISE to END_HEADERS). */
	int in_block;
	uint32_t block_stream;        /* the stream its frames are on */
	uint32_t promised_stream;     /* PUSH_PROMISE */
	int block_push;
	int block_end_stream;
	size_t block_bytes;           /* fragment bytes, CONTINUATIONs included */

	/* Its decoded fields. */
	uint8_t *arena;
	size_t arena_len, arena_cap;
	struct field_span *spans;
	struct http2_field *fields;
	size_t count, fields_cap;

	/* This decoder's table size: applied, and the one to apply after the block. */
	uint32_t table_size;
	uint32_t table_size_wanted;
};

struct http2_conn {
	struct direction dir[2];      /* [from_server] */
	enum http2_end end;
	struct http2_stats stats;
};

static const char *const end_names[] = {
	"more", "not_http2", "bad_frame", "hpack", "too_big", "stopped", "no_memory",
};

const char *http2_end_name(enum http2_end end)
{
	unsigned index = (unsigned)end;
	if (index >= sizeof end_names / sizeof end_names[0])
		return "unknown";
	return end_names[index];
}

int http2_is_preface(const uint8_t *data, size_t len)
{
	size_t n = len < HTTP2_PREFACE_LEN ? len : HTTP2_PREFACE_LEN;
	return n == 0 || memcmp(data, preface, n) == 0;
}

static uint32_t get24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ---- the connection ------------------------------------------------------ */

static void direction_release(struct direction *d)
{
	if (d->inflater)
		nghttp2_hd_inflate_del(d->inflater);
	d->inflater = NULL;
	free(d->arena);
	free(d->spans);
	free(d->fields);
	d->arena = NULL;
	d->spans = NULL;
	d->fields = NULL;
	d->arena_len = d->arena_cap = 0;
	d->count = d->fields_cap = 0;
}

struct http2_conn *http2_conn_new(void)
{
	struct http2_conn *conn = calloc(1, sizeof *conn);
	if (!conn)
		return NULL;
	for (int i = 0; i < 2; i++) {
		if (nghttp2_hd_inflate_new(&conn->dir[i].inflater) != 0) {
			conn->dir[i].inflater = NULL;
			http2_conn_free(conn);
			return NULL;
		}
		conn->dir[i].table_size = conn->dir[i].table_size_wanted = HTTP2_DEFAULT_TABLE_SIZE;
	}
	return conn;
}

void http2_conn_free(struct http2_conn *conn)
{
	if (!conn)
		return;
	direction_release(&conn->dir[0]);
	direction_release(&conn->dir[1]);
	free(conn);
}

const struct http2_stats *http2_conn_stats(const struct http2_conn *conn)
{
	return &conn->stats;
}

/* Final: what the reader holds is no longer needed. */
static void set_end(struct http2_conn *conn, enum http2_end end)
{
	if (conn->end != HTTP2_MORE)
		return;
	conn->end = end;
	direction_release(&conn->dir[0]);
	direction_release(&conn->dir[1]);
}

/* ---- HPACK table size ---------------------------------------------------- */

/* Applies the wanted table size to a decoder that is between header blocks. */
static void apply_table_size(struct http2_conn *conn, struct direction *d)
{
	if (d->in_block || d->table_size_wanted == d->table_size)
		return;
	int rv = nghttp2_hd_inflate_change_table_size(d->inflater, d->table_size_wanted);
	if (rv != 0) {
		set_end(conn, rv == NGHTTP2_ERR_NOMEM ? HTTP2_END_NO_MEMORY : HTTP2_END_HPACK);
		return;
	}
	d->table_size = d->table_size_wanted;
	conn->stats.table_size_updates++;
}

/* The endpoint that sends `from_server` announced how much table its decoder has. */
static void settings_table_size(struct http2_conn *conn, int from_server, uint32_t size)
{
	struct direction *decoder = &conn->dir[!from_server];
	if (size > TABLE_SIZE_MAX)
		size = TABLE_SIZE_MAX;
	if (size <= decoder->table_size_wanted)
		return; /* decreases: see the top of the file */
	decoder->table_size_wanted = size;
	apply_table_size(conn, decoder);
}

/* ---- the message being read ----------------------------------------------- */

static void block_begin(struct direction *d, uint32_t stream_id, int push, int end_stream)
{
	d->in_block = 1;
	d->block_stream = stream_id;
	d->block_push = push;
	d->block_end_stream = end_stream;
	d->promised_stream = 0;
	d->block_bytes = 0;
	d->arena_len = 0;
	d->count = 0;
}

/* Room for `need` more arena bytes; 0, or why the connection ends. */
static enum http2_end arena_reserve(struct direction *d, size_t need)
{
	if (need > MESSAGE_BYTES_MAX - d->arena_len)
		return HTTP2_END_TOO_BIG;
	size_t want = d->arena_len + need;
	/* Allocated even for empty fields: the message's pointers point into it. */
	if (d->arena && want <= d->arena_cap)
		return HTTP2_MORE;
	size_t cap = d->arena_cap ? d->arena_cap : ARENA_INITIAL;
	while (cap < want)
		cap *= 2;
	if (cap > MESSAGE_BYTES_MAX)
		cap = MESSAGE_BYTES_MAX;
	uint8_t *arena = realloc(d->arena, cap);
	if (!arena)
		return HTTP2_END_NO_MEMORY;
	d->arena = arena;
	d->arena_cap = cap;
	return HTTP2_MORE;
}

/* A decoded field: copied, for the inflater's copy dies at its next call. */
static enum http2_end add_field(struct direction *d, const nghttp2_nv *nv)
{
	if (d->count >= HTTP2_FIELDS_MAX)
		return HTTP2_END_TOO_BIG;
	if (nv->namelen > MESSAGE_BYTES_MAX || nv->valuelen > MESSAGE_BYTES_MAX)
		return HTTP2_END_TOO_BIG;
	enum http2_end end = arena_reserve(d, nv->namelen + nv->valuelen);
	if (end != HTTP2_MORE)
		return end;
	if (d->count == d->fields_cap) {
		size_t cap = d->fields_cap ? d->fields_cap * 2 : FIELDS_INITIAL;
		if (cap > HTTP2_FIELDS_MAX)
			cap = HTTP2_FIELDS_MAX;
		struct field_span *spans = realloc(d->spans, cap * sizeof *spans);
		if (!spans)
			return HTTP2_END_NO_MEMORY;
		d->spans = spans;
		struct http2_field *fields = realloc(d->fields, cap * sizeof *fields);
		if (!fields)
			return HTTP2_END_NO_MEMORY;
		d->fields = fields;
		d->fields_cap = cap;
	}
	struct field_span *span = &d->spans[d->count++];
	span->name = (uint32_t)d->arena_len;
	span->name_len = (uint32_t)nv->namelen;
	if (nv->namelen)
		memcpy(d->arena + d->arena_len, nv->name, nv->namelen);
	d->arena_len += nv->namelen;
	span->value = (uint32_t)d->arena_len;
	span->value_len = (uint32_t)nv->valuelen;
	if (nv->valuelen)
		memcpy(d->arena + d->arena_len, nv->value, nv->valuelen);
	d->arena_len += nv->valuelen;
	return HTTP2_MORE;
}

/*
 * Header block bytes to the inflater; `final` at the end of the block. The
 * inflater returns after each field, which is copied before the next call.
 */
static void inflate(struct http2_conn *conn, struct direction *d, const uint8_t *in, size_t len,
		    int final)
{
	static const uint8_t nothing[1];
	if (len == 0)
		in = nothing; /* never a null pointer into the library */
	for (;;) {
		nghttp2_nv nv;
		int flags = 0;
		ssize_t rv = nghttp2_hd_inflate_hd2(d->inflater, &nv, &flags, in, len, final);
		if (rv < 0) {
			set_end(conn, rv == NGHTTP2_ERR_NOMEM ? HTTP2_END_NO_MEMORY : HTTP2_END_HPACK);
			return;
		}
		if ((size_t)rv > len) {
			set_end(conn, HTTP2_END_HPACK);
			return;
		}
		in += rv;
		len -= (size_t)rv;
		if (flags & NGHTTP2_HD_INFLATE_EMIT) {
			enum http2_end end = add_field(d, &nv);
			if (end != HTTP2_MORE) {
				set_end(conn, end);
				return;
			}
		}
		if (flags & NGHTTP2_HD_INFLATE_FINAL) {
			nghttp2_hd_inflate_end_headers(d->inflater);
			return;
		}
		if (!(flags & NGHTTP2_HD_INFLATE_EMIT) && len == 0) {
			/* All taken; at the end of the block, the inflater must have said FINAL. */
			if (final)
				set_end(conn, HTTP2_END_HPACK);
			return;
		}
	}
}

/* END_HEADERS: the block is complete; give it. */
static void block_end(struct http2_conn *conn, int from_server, http2_message_fn on_message,
		      void *context)
{
	struct direction *d = &conn->dir[from_server];
	inflate(conn, d, NULL, 0, 1);
	if (conn->end != HTTP2_MORE)
		return;
	for (size_t i = 0; i < d->count; i++) {
		const struct field_span *span = &d->spans[i];
		d->fields[i] = (struct http2_field){
			.name = d->arena + span->name,
			.name_len = span->name_len,
			.value = d->arena + span->value,
			.value_len = span->value_len,
		};
	}
	struct http2_message message = {
		.stream_id = d->block_push ? d->promised_stream : d->block_stream,
		.from_server = from_server,
		.push_promise = d->block_push,
		.end_stream = d->block_end_stream,
		.fields = d->count ? d->fields : NULL,
		.count = d->count,
	};
	d->in_block = 0;
	conn->stats.header_blocks[from_server]++;
	int stop = on_message && on_message(context, &message) != 0;
	d->count = 0;
	d->arena_len = 0;
	if (d->arena_cap > ARENA_KEEP) {
		free(d->arena);
		d->arena = NULL;
		d->arena_cap = 0;
	}
	if (stop) {
		set_end(conn, HTTP2_END_STOPPED);
		return;
	}
	/* A SETTINGS of the other side read while this block was open. */
	apply_table_size(conn, d);
}

/* ---- frames ---------------------------------------------------------------- */

/*
 * A frame header was read: check that the frame may come here, and set up
 * the reading of its payload.
 */
static void frame_begin(struct http2_conn *conn, int from_server)
{
	struct direction *d = &conn->dir[from_server];
	d->length = get24(d->header);
	d->type = d->header[3];
	d->flags = d->header[4];
	d->stream_id = get32(d->header + 5) & 0x7fffffffu;
	d->pos = 0;
	d->small_len = 0;
	d->phase = PH_SKIP;

	/* Each endpoint's preface ends with (or is) a SETTINGS frame: the first frame. */
	if (conn->stats.frames[from_server]++ == 0 &&
	    (d->type != FRAME_SETTINGS || (d->flags & FLAG_ACK))) {
		set_end(conn, HTTP2_END_BAD_FRAME);
		return;
	}
	/* Inside a header block, only its CONTINUATION frames may come (RFC 9113 6.10). */
	if (d->in_block != (d->type == FRAME_CONTINUATION) ||
	    (d->in_block && d->stream_id != d->block_stream)) {
		set_end(conn, HTTP2_END_BAD_FRAME);
		return;
	}

	uint32_t prefix = 0; /* payload bytes before the fragment */
	uint32_t padded = 0;  /* the Pad Length byte */
	switch (d->type) {
	case FRAME_HEADERS:
		padded = (d->flags & FLAG_PADDED) ? 1 : 0;
		prefix = (d->flags & FLAG_PRIORITY) ? PRIORITY_LEN : 0;
		if (d->stream_id == 0)
			break;
		block_begin(d, d->stream_id, 0, (d->flags & FLAG_END_STREAM) != 0);
		break;
	case FRAME_PUSH_PROMISE:
		/* Only a server promises; a promise is on the stream of the request it goes with. */
		padded = (d->flags & FLAG_PADDED) ? 1 : 0;
		prefix = PROMISED_ID_LEN;
		if (!from_server || d->stream_id == 0)
			break;
		block_begin(d, d->stream_id, 1, 0);
		break;
	case FRAME_CONTINUATION:
		break;
	case FRAME_SETTINGS:
		if (d->stream_id != 0 || ((d->flags & FLAG_ACK) ? d->length != 0
								: d->length % SETTING_LEN != 0)) {
			set_end(conn, HTTP2_END_BAD_FRAME);
			return;
		}
		d->setting_has_table_size = 0;
		d->phase = PH_SETTINGS;
		d->small_want = SETTING_LEN;
		return;
	case FRAME_GOAWAY:
		if (d->stream_id != 0 || d->length < GOAWAY_MIN_LEN)
			set_end(conn, HTTP2_END_BAD_FRAME);
		return;
	default:
		return; /* DATA, PRIORITY, RST_STREAM, PING, WINDOW_UPDATE, unknown: skipped */
	}

	/* HEADERS, PUSH_PROMISE, CONTINUATION: a header block fragment. */
	if (!d->in_block || d->length < padded + prefix) {
		set_end(conn, HTTP2_END_BAD_FRAME);
		return;
	}
	d->small_want = prefix;
	d->fragment_end = d->length;
	if (padded) {
		d->phase = PH_PAD_LENGTH;
		return;
	}
	if (d->length - prefix > HTTP2_HEADER_BLOCK_MAX - d->block_bytes) {
		set_end(conn, HTTP2_END_TOO_BIG);
		return;
	}
	d->block_bytes += d->length - prefix;
	d->phase = prefix ? PH_PREFIX : PH_FRAGMENT;
}

/* A complete SETTINGS parameter. */
static void setting(struct direction *d)
{
	uint16_t id = (uint16_t)(d->small[0] << 8 | d->small[1]);
	if (id == SETTINGS_HEADER_TABLE_SIZE) {
		/* The last one in a frame counts, as nghttp2 takes it. */
		d->setting_table_size = get32(d->small + 2);
		d->setting_has_table_size = 1;
	}
}

/* The whole payload was read. */
static void frame_end(struct http2_conn *conn, int from_server)
{
	struct direction *d = &conn->dir[from_server];
	d->header_len = 0;
	if (d->type == FRAME_SETTINGS && !(d->flags & FLAG_ACK) && d->setting_has_table_size)
		settings_table_size(conn, from_server, d->setting_table_size);
	else if (d->type == FRAME_GOAWAY)
		conn->stats.goaways[from_server]++; /* a graceful close: open streams carry on */
}

/*
 * Payload bytes of the current frame, up to its end; returns how many it
 * took. Called with no bytes too, for what happens at a position rather
 * than on a byte (the end of a fragment, of an empty frame).
 */
static size_t frame_payload(struct http2_conn *conn, int from_server, const uint8_t *data,
			    size_t len, http2_message_fn on_message, void *context)
{
	struct direction *d = &conn->dir[from_server];
	size_t used = 0;
	for (;;) {
		if (conn->end != HTTP2_MORE)
			return used;
		if (d->phase == PH_FRAGMENT && d->pos == d->fragment_end) {
			d->phase = PH_PADDING;
			if (d->flags & FLAG_END_HEADERS) {
				block_end(conn, from_server, on_message, context);
				continue;
			}
		}
		if (d->pos == d->length) {
			frame_end(conn, from_server);
			return used;
		}
		if (used == len)
			return used;

		size_t left = len - used;
		const uint8_t *p = data + used;
		size_t n;
		switch (d->phase) {
		case PH_PAD_LENGTH: {
			uint8_t pad = p[0];
			n = 1;
			/* Padding that does not fit the frame is an error (RFC 9113 6.2). */
			if ((uint32_t)pad + d->small_want > d->length - 1) {
				set_end(conn, HTTP2_END_BAD_FRAME);
				return used;
			}
			d->fragment_end = d->length - (uint32_t)pad;
			uint32_t fragment = d->fragment_end - 1 - (uint32_t)d->small_want;
			if (fragment > HTTP2_HEADER_BLOCK_MAX - d->block_bytes) {
				set_end(conn, HTTP2_END_TOO_BIG);
				return used;
			}
			d->block_bytes += fragment;
			d->phase = d->small_want ? PH_PREFIX : PH_FRAGMENT;
			break;
		}
		case PH_PREFIX:
			n = d->small_want - d->small_len;
			if (n > left)
				n = left;
			memcpy(d->small + d->small_len, p, n);
			d->small_len += n;
			if (d->small_len == d->small_want) {
				if (d->type == FRAME_PUSH_PROMISE) {
					d->promised_stream = get32(d->small) & 0x7fffffffu;
					if (d->promised_stream == 0) {
						set_end(conn, HTTP2_END_BAD_FRAME);
						return used;
					}
				}
				d->phase = PH_FRAGMENT;
			}
			break;
		case PH_FRAGMENT:
			n = d->fragment_end - d->pos;
			if (n > left)
				n = left;
			inflate(conn, d, p, n, 0);
			break;
		case PH_SETTINGS:
			n = SETTING_LEN - d->small_len;
			if (n > left)
				n = left;
			memcpy(d->small + d->small_len, p, n);
			d->small_len += n;
			if (d->small_len == SETTING_LEN) {
				setting(d);
				d->small_len = 0;
			}
			break;
		default: /* PH_PADDING, PH_SKIP */
			n = d->length - d->pos;
			if (n > left)
				n = left;
			break;
		}
		used += n;
		d->pos += (uint32_t)n;
	}
}

enum http2_end http2_feed(struct http2_conn *conn, int from_server, const uint8_t *data, size_t len,
			  http2_message_fn on_message, void *context)
{
	if (conn->end != HTTP2_MORE)
		return conn->end;
	if (!data) {
		/* Lost bytes: no frame boundary can be found again. */
		if (len > 0)
			set_end(conn, HTTP2_END_BAD_FRAME);
		return conn->end;
	}
	from_server = from_server ? 1 : 0;
	struct direction *d = &conn->dir[from_server];
	size_t pos = 0;
	if (!from_server && d->preface_seen < HTTP2_PREFACE_LEN) {
		size_t n = HTTP2_PREFACE_LEN - d->preface_seen;
		if (n > len)
			n = len;
		if (memcmp(data, preface + d->preface_seen, n) != 0) {
			set_end(conn, HTTP2_END_NOT_HTTP2);
			return conn->end;
		}
		d->preface_seen += n;
		pos = n;
	}
	while (pos < len && conn->end == HTTP2_MORE) {
		if (d->header_len < HTTP2_FRAME_HEADER_LEN) {
			size_t n = HTTP2_FRAME_HEADER_LEN - d->header_len;
			if (n > len - pos)
				n = len - pos;
			memcpy(d->header + d->header_len, data + pos, n);
			d->header_len += n;
			pos += n;
			if (d->header_len < HTTP2_FRAME_HEADER_LEN)
				break;
			frame_begin(conn, from_server);
			if (conn->end != HTTP2_MORE)
				break;
		}
		pos += frame_payload(conn, from_server, data + pos, len - pos, on_message, context);
	}
	return conn->end;
}
