/*
 * decrypt: TLS application data to HTTP messages; see decrypt.h.
 */
#include "decrypt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum app_protocol { APP_UNKNOWN = 0, APP_HTTP1, APP_HTTP2, APP_OTHER };

/* Hosts of requests awaiting their response: by HTTP/2 stream, or in order for HTTP/1. */
enum { PENDING_MAX = 64, HOST_MAX = 256 };
struct pending {
	uint32_t stream_id;       /* HTTP/2; 0 free */
	char host[HOST_MAX];
};

struct decrypt_conn {
	struct tlsdec *tls;
	struct keylog *keylog;
	struct decrypt_stats *stats;
	enum tlsdec_end end;
	uint8_t protocol;         /* enum app_protocol */
	uint8_t counted_decrypted;
	uint8_t http1_done[2];    /* an HTTP/1 direction that ended */
	struct http1_parser http1[2];
	struct http2_conn *http2;
	enum http2_end http2_end;
	/*
	 * The hosts of requests awaiting their response (HTTP/1: in order; HTTP/2:
	 * by stream), made at the first message: a connection never decrypted
	 * costs nothing for them.
	 */
	struct pending *pending;
	uint64_t requests, responses;
	/* While feeding: where messages go. */
	decrypt_message_fn on_message;
	void *context;
	FILE *dump[2];
	const char *dump_dir;
	uint64_t id;
	uint8_t dump_tried[2];
};

/* The pending table, made when first needed; NULL when out of memory (hosts are then unknown). */
static struct pending *pending_table(struct decrypt_conn *conn)
{
	if (!conn->pending)
		conn->pending = calloc(PENDING_MAX, sizeof *conn->pending);
	return conn->pending;
}

static size_t find_key(void *context, const uint8_t client_random[KEYLOG_RANDOM_LEN],
		       enum keylog_label label, uint8_t out[KEYLOG_SECRET_MAX])
{
	struct decrypt_conn *conn = context;
	return keylog_lookup(conn->keylog, client_random, label, out);
}

/* ---- HTTP/2 header blocks as HTTP/1 messages ---- */

static int field_is(const struct http2_field *f, const char *name)
{
	size_t n = strlen(name);
	return f->name_len == n && memcmp(f->name, name, n) == 0;
}

static struct http1_span span_of(const struct http2_field *f)
{
	return (struct http1_span){ (const char *)f->value, f->value_len };
}

static void copy_host(char *out, const char *p, size_t len)
{
	if (len >= HOST_MAX)
		len = HOST_MAX - 1;
	memcpy(out, p, len);
	out[len] = '\0';
}

static int on_http2_message(void *context, const struct http2_message *h)
{
	struct decrypt_conn *conn = context;
	if (h->push_promise)
		return 0; /* what the server offers unasked is not a request the device made */
	struct http1_message m;
	memset(&m, 0, sizeof m);
	m.is_request = !h->from_server;
	m.version_minor = 1;
	int has_pseudo = 0;
	for (size_t i = 0; i < h->count; i++) {
		const struct http2_field *f = &h->fields[i];
		struct http1_span v = span_of(f);
		if (field_is(f, ":method")) {
			m.method = v.p;
			m.method_len = v.len;
			has_pseudo = 1;
		} else if (field_is(f, ":path")) {
			m.target = v.p;
			m.target_len = v.len;
		} else if (field_is(f, ":authority") || (field_is(f, "host") && !m.host.p)) {
			m.host = v;
		} else if (field_is(f, ":status")) {
			int status = 0;
			for (size_t k = 0; k < v.len && k < 4; k++)
				status = v.p[k] >= '0' && v.p[k] <= '9' ? status * 10 + (v.p[k] - '0') : -1000;
			m.status = v.len == 3 && status >= 100 ? status : 0;
			has_pseudo = m.status != 0;
		} else if (field_is(f, "referer")) {
			m.referer = v;
		} else if (field_is(f, "origin")) {
			m.origin = v;
		} else if (field_is(f, "user-agent")) {
			m.user_agent = v;
		} else if (field_is(f, "content-type")) {
			m.content_type = v;
		} else if (field_is(f, "cookie") && m.is_request) {
			if (m.cookie_count < HTTP1_MAX_COOKIES)
				m.cookies[m.cookie_count++] = v;
			else
				m.cookies_dropped++;
		} else if (field_is(f, "set-cookie") && !m.is_request) {
			if (m.set_cookie_count < HTTP1_MAX_COOKIES)
				m.set_cookies[m.set_cookie_count++] = v;
			else
				m.cookies_dropped++;
		}
		m.header_count = (uint16_t)(m.header_count < UINT16_MAX ? m.header_count + 1 : m.header_count);
	}
	/* Trailers (no pseudo-header): not a message of their own. */
	if (!has_pseudo || (m.is_request && !m.method))
		return 0;
	const char *request_host = NULL;
	struct pending *table = pending_table(conn), dummy = { 0 };
	struct pending *slot = table ? &table[h->stream_id % PENDING_MAX] : &dummy;
	if (m.is_request) {
		slot->stream_id = h->stream_id;
		copy_host(slot->host, m.host.p ? m.host.p : "", m.host.p ? m.host.len : 0);
	} else if (slot->stream_id == h->stream_id && slot->stream_id) {
		request_host = slot->host[0] ? slot->host : NULL;
		/* 1xx responses come before the final one, for the same request. */
		if (m.status >= 200)
			slot->stream_id = 0;
	}
	conn->stats->messages++;
	conn->on_message(conn->context, &m, request_host);
	return 0;
}

/* ---- HTTP/1 over TLS ---- */

static int on_http1_message(void *context, const struct http1_message *m)
{
	struct decrypt_conn *conn = context;
	const char *request_host = NULL;
	struct pending *table = pending_table(conn), dummy = { 0 };
	if (m->is_request) {
		struct pending *slot = table ? &table[conn->requests % PENDING_MAX] : &dummy;
		conn->requests++;
		slot->stream_id = 1;
		copy_host(slot->host, m->host.p ? m->host.p : "", m->host.p ? m->host.len : 0);
		http1_parser_request_seen(&conn->http1[1], m);
	} else if (conn->responses < conn->requests && conn->requests - conn->responses <= PENDING_MAX) {
		struct pending *slot = table ? &table[conn->responses % PENDING_MAX] : &dummy;
		request_host = slot->host[0] ? slot->host : NULL;
		if (m->status >= 200)
			conn->responses++;
	}
	conn->stats->messages++;
	conn->on_message(conn->context, m, request_host);
	return 0;
}

/* ---- Application data ---- */

static int alpn_is_h2(const char *alpn)
{
	return strcmp(alpn, "h2") == 0 || strncmp(alpn, "h2-", 3) == 0;
}

static void on_data(void *context, int from_server, const uint8_t *data, size_t len)
{
	struct decrypt_conn *conn = context;
	conn->stats->bytes += len;
	if (!conn->counted_decrypted) {
		conn->counted_decrypted = 1;
		conn->stats->decrypted++;
	}
	if (conn->dump_dir && !conn->dump_tried[from_server]) {
		/* Made at the first data: a connection never decrypted leaves no file. Plaintext: 0600. */
		conn->dump_tried[from_server] = 1;
		char name[4096];
		snprintf(name, sizeof name, "%s/%llu-%s.bin", conn->dump_dir, (unsigned long long)conn->id,
			 from_server ? "server" : "client");
		int fd = open(name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
		conn->dump[from_server] = fd >= 0 ? fdopen(fd, "wb") : NULL;
		if (!conn->dump[from_server]) {
			conn->stats->dump_errors++;
			if (fd >= 0)
				close(fd);
		}
	}
	if (conn->dump[from_server] && fwrite(data, 1, len, conn->dump[from_server]) != len) {
		conn->stats->dump_errors++;
		fclose(conn->dump[from_server]);
		conn->dump[from_server] = NULL;
	}
	if (conn->protocol == APP_UNKNOWN) {
		/* The client speaks first in both: ALPN says, else its first bytes do. */
		/* ALPN decides when there is one; else the whole connection preface. */
		const char *alpn = tlsdec_info(conn->tls)->alpn;
		if (alpn_is_h2(alpn) ||
		    (!alpn[0] && !from_server && len >= HTTP2_PREFACE_LEN && http2_is_preface(data, len)))
			conn->protocol = APP_HTTP2;
		else if (!from_server || alpn[0])
			conn->protocol = strcmp(alpn, "http/1.1") == 0 || strcmp(alpn, "http/1.0") == 0 ||
					 !alpn[0] ? APP_HTTP1 : APP_OTHER;
		if (conn->protocol == APP_HTTP2) {
			conn->stats->http2++;
			conn->http2 = http2_conn_new();
			if (!conn->http2) {
				conn->http2_end = HTTP2_END_NO_MEMORY;
				conn->protocol = APP_OTHER;
			}
		} else if (conn->protocol == APP_HTTP1) {
			conn->stats->http1++;
			http1_parser_init(&conn->http1[0], 1);
			http1_parser_init(&conn->http1[1], 0);
		}
	}
	if (conn->protocol == APP_HTTP2 && conn->http2_end == HTTP2_MORE) {
		conn->http2_end = http2_feed(conn->http2, from_server, data, len, on_http2_message, conn);
		if (conn->http2_end != HTTP2_MORE)
			conn->stats->http2_ends[conn->http2_end]++;
	} else if (conn->protocol == APP_HTTP1 && !conn->http1_done[from_server]) {
		if (http1_parser_feed(&conn->http1[from_server], data, len, on_http1_message, conn) !=
		    HTTP1_MORE)
			conn->http1_done[from_server] = 1;
	}
}

struct decrypt_conn *decrypt_conn_new(struct keylog *keylog, const char *dump_dir, uint64_t id,
				      struct decrypt_stats *stats)
{
	struct decrypt_conn *conn = calloc(1, sizeof *conn);
	if (!conn)
		return NULL;
	conn->keylog = keylog;
	conn->stats = stats;
	conn->tls = tlsdec_new(find_key, on_data, conn);
	if (!conn->tls) {
		free(conn);
		return NULL;
	}
	stats->connections++;
	conn->dump_dir = dump_dir;
	conn->id = id;
	return conn;
}

void decrypt_conn_free(struct decrypt_conn *conn)
{
	if (!conn)
		return;
	conn->stats->ends[conn->end]++;
	tlsdec_free(conn->tls);
	http2_conn_free(conn->http2);
	if (conn->protocol == APP_HTTP1) {
		http1_parser_free(&conn->http1[0]);
		http1_parser_free(&conn->http1[1]);
	}
	for (int dir = 0; dir < 2; dir++)
		if (conn->dump[dir] && fclose(conn->dump[dir]) != 0)
			conn->stats->dump_errors++;
	free(conn->pending);
	free(conn);
}

enum tlsdec_end decrypt_conn_feed(struct decrypt_conn *conn, int from_server, const uint8_t *data,
				  size_t len, decrypt_message_fn on_message, void *context)
{
	if (conn->end != TLSDEC_MORE)
		return conn->end;
	conn->on_message = on_message;
	conn->context = context;
	if (!data) {
		/* A hole in the records: nothing after it can be decrypted. */
		conn->end = TLSDEC_END_BAD_RECORD;
		return conn->end;
	}
	conn->end = tlsdec_feed(conn->tls, from_server, data, len);
	return conn->end;
}

enum tlsdec_end decrypt_conn_retry(struct decrypt_conn *conn, decrypt_message_fn on_message,
				   void *context)
{
	if (conn->end != TLSDEC_MORE)
		return conn->end;
	conn->on_message = on_message;
	conn->context = context;
	conn->end = tlsdec_retry(conn->tls);
	return conn->end;
}

void decrypt_conn_give_up(struct decrypt_conn *conn, enum tlsdec_end why)
{
	if (conn->end == TLSDEC_MORE)
		conn->end = why;
}

int decrypt_conn_waiting(const struct decrypt_conn *conn)
{
	return conn->end == TLSDEC_MORE && tlsdec_waiting(conn->tls);
}
