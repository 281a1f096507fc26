/*
 * tls: the first hello of one direction of a TLS connection. Two layers, each
 * a small state machine so that a chunk may end anywhere: records (5-byte
 * header, body) carry the handshake stream, which is cut into messages
 * (4-byte header, body) that may span records. Only the hello message is
 * buffered, in a buffer of exactly its length, allocated when its header is
 * in and freed when the reader ends. The hello itself is parsed by the same
 * code as tls_parse_hello(), through a cursor that checks every length
 * against what holds it.
 */
#include "tls.h"

#include <stdlib.h>
#include <string.h>

#include "cursor.h"

static const char *const end_names[] = {
	"more", "done", "not_tls", "not_handshake", "bad_record", "bad_hello", "too_long",
	"sslv2", "no_memory",
};

const char *tls_end_name(enum tls_end end)
{
	unsigned index = (unsigned)end;
	if (index >= sizeof end_names / sizeof end_names[0])
		return "unknown";
	return end_names[index];
}

int tls_is_grease(uint16_t value)
{
	return (value & 0x0f0f) == 0x0a0a && (value >> 8) == (value & 0xff);
}

/* RFC 8446 4.1.3: a ServerHello with this random is a HelloRetryRequest. */
static const uint8_t hello_retry_random[32] = {
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
	0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
};

/* ---- reading a message -------------------------------------------------- */

static void hello_clear(struct tls_hello *hello, int is_server)
{
	memset(hello, 0, sizeof *hello);
	hello->is_server = (uint8_t)(is_server != 0);
	hello->ech_type = -1;
}

/*
 * server_name (RFC 6066 3): a list of (type, name). Every name type is read
 * as a 2-byte-length vector, as the RFC says implementations assume; the
 * first host_name (type 0) is the one. The name is checked before it is
 * copied, so the text is all of it or nothing.
 */
static void parse_server_name(struct cursor data, struct tls_hello *hello)
{
	struct cursor list;
	if (get_vector(&data, 2, &list) != 0 || data.left != 0 || list.left == 0)
		goto invalid;
	while (list.left > 0) {
		uint8_t name_type;
		struct cursor name;
		if (get8(&list, &name_type) != 0 || get_vector(&list, 2, &name) != 0)
			goto invalid;
		if (name_type != 0)
			continue;
		if (name.left == 0 || name.left > TLS_SNI_MAX - 1 || memchr(name.p, '\0', name.left))
			goto invalid;
		memcpy(hello->sni, name.p, name.left);
		hello->sni[name.left] = '\0';
		hello->has_sni = 1;
		return;
	}
	return; /* no host_name: nothing to say, nothing wrong */
invalid:
	hello->sni_invalid = 1;
}

/*
 * ALPN (RFC 7301 3.1): a list of 1-byte-length names, none empty. The whole
 * list is checked first, so that a malformed one gives no names rather than
 * some; then the names are joined while they fit, whole.
 */
static void parse_alpn(struct cursor data, struct tls_hello *hello)
{
	struct cursor list, check, name;
	if (get_vector(&data, 2, &list) != 0 || data.left != 0 || list.left == 0)
		goto invalid;
	check = list;
	while (check.left > 0) {
		if (get_vector(&check, 1, &name) != 0 || name.left == 0 ||
		    memchr(name.p, '\0', name.left))
			goto invalid;
	}
	size_t used = 0;
	while (get_vector(&list, 1, &name) == 0) {
		size_t comma = used > 0;
		if (comma + name.left > TLS_ALPN_TEXT_MAX - 1 - used) {
			hello->alpn_truncated = 1;
			break;
		}
		if (comma)
			hello->alpn[used++] = ',';
		memcpy(hello->alpn + used, name.p, name.left);
		used += name.left;
	}
	hello->alpn[used] = '\0';
	return;
invalid:
	hello->alpn[0] = '\0';
	hello->alpn_invalid = 1;
}

/*
 * supported_versions (RFC 8446 4.2.1): a ClientHello lists versions<2..254>,
 * a ServerHello (or HelloRetryRequest) names the one it selected.
 */
static void parse_supported_versions(struct cursor data, struct tls_hello *hello)
{
	if (hello->is_server) {
		uint16_t version;
		if (get16(&data, &version) != 0 || data.left != 0) {
			hello->versions_invalid = 1;
			return;
		}
		hello->selected_version = version;
		return;
	}
	struct cursor list;
	if (get_vector(&data, 1, &list) != 0 || data.left != 0 || list.left < 2 ||
	    list.left % 2 != 0) {
		hello->versions_invalid = 1;
		return;
	}
	uint16_t version;
	while (get16(&list, &version) == 0) {
		if (tls_is_grease(version) || hello->version_count >= TLS_VERSIONS_MAX)
			continue;
		hello->versions[hello->version_count++] = version;
	}
}

/*
 * The extension block. Every type is listed; the ones we decode are decoded
 * at their first appearance only (RFC 8446 4.2 forbids a second one, and a
 * second must not overwrite what the first said). An extension that runs
 * past the block ends the block: what came before it stays.
 */
static enum tls_end parse_extensions(struct cursor block, struct tls_hello *hello)
{
	int seen_sni = 0, seen_alpn = 0, seen_versions = 0;
	while (block.left > 0) {
		uint16_t type;
		struct cursor data;
		if (get16(&block, &type) != 0 || get_vector(&block, 2, &data) != 0)
			return TLS_END_BAD_HELLO;
		if (hello->extension_count < TLS_EXTENSION_TYPES_MAX)
			hello->extension_types[hello->extension_count] = type;
		/* At most 65532 / 4 extensions fit a message: no overflow. */
		hello->extension_count++;
		switch (type) {
		case TLS_EXT_SERVER_NAME:
			/* A server's is empty: it only says it used the name (RFC 6066 3). */
			if (!hello->is_server && !seen_sni++)
				parse_server_name(data, hello);
			break;
		case TLS_EXT_ALPN:
			if (!seen_alpn++)
				parse_alpn(data, hello);
			break;
		case TLS_EXT_SUPPORTED_VERSIONS:
			if (!seen_versions++)
				parse_supported_versions(data, hello);
			break;
		case TLS_EXT_ECH:
			/* A server's (in a HelloRetryRequest) is a confirmation, not an offer. */
			if (!hello->is_server && !hello->ech_offered) {
				hello->ech_offered = 1;
				if (data.left > 0)
					hello->ech_type = data.p[0];
			}
			break;
		default:
			break;
		}
	}
	return TLS_DONE;
}

/* What follows the compression: nothing (TLS 1.0 allows it), or the block. */
static enum tls_end parse_extension_block(struct cursor c, struct tls_hello *hello)
{
	struct cursor block;
	if (c.left == 0)
		return TLS_DONE;
	if (get_vector(&c, 2, &block) != 0)
		return TLS_END_BAD_HELLO;
	enum tls_end end = parse_extensions(block, hello);
	/* Bytes after the block: the message is malformed, but what it said stays. */
	if (end == TLS_DONE && c.left != 0)
		end = TLS_END_BAD_HELLO;
	return end;
}

/* RFC 8446 4.1.2, RFC 5246 7.4.1.2. */
static enum tls_end parse_client_hello(struct cursor c, struct tls_hello *hello)
{
	struct cursor session, suites, compression;
	if (get16(&c, &hello->legacy_version) != 0 || skip(&c, 32) != 0)
		return TLS_END_BAD_HELLO;
	if (get_vector(&c, 1, &session) != 0 || session.left > 32)
		return TLS_END_BAD_HELLO;
	if (get_vector(&c, 2, &suites) != 0 || suites.left < 2 || suites.left % 2 != 0)
		return TLS_END_BAD_HELLO;
	if (get_vector(&c, 1, &compression) != 0 || compression.left < 1)
		return TLS_END_BAD_HELLO;
	return parse_extension_block(c, hello);
}

/* RFC 8446 4.1.3, RFC 5246 7.4.1.3. */
static enum tls_end parse_server_hello(struct cursor c, struct tls_hello *hello)
{
	struct cursor session;
	uint8_t compression;
	if (get16(&c, &hello->legacy_version) != 0 || c.left < 32)
		return TLS_END_BAD_HELLO;
	hello->hello_retry = memcmp(c.p, hello_retry_random, 32) == 0;
	skip(&c, 32);
	if (get_vector(&c, 1, &session) != 0 || session.left > 32)
		return TLS_END_BAD_HELLO;
	if (get16(&c, &hello->cipher_suite) != 0 || get8(&c, &compression) != 0)
		return TLS_END_BAD_HELLO;
	return parse_extension_block(c, hello);
}

static size_t get24(const uint8_t *p)
{
	return (size_t)p[0] << 16 | (size_t)p[1] << 8 | p[2];
}

enum tls_end tls_parse_hello(const uint8_t *message, size_t len, struct tls_hello *out)
{
	if (len < TLS_HANDSHAKE_HEADER_LEN)
		return TLS_MORE;
	uint8_t type = message[0];
	size_t body_len = get24(message + 1);
	if (type != TLS_HANDSHAKE_CLIENT_HELLO && type != TLS_HANDSHAKE_SERVER_HELLO) {
		hello_clear(out, 0);
		return TLS_END_BAD_HELLO;
	}
	if (body_len > TLS_HANDSHAKE_MAX - TLS_HANDSHAKE_HEADER_LEN)
		return TLS_END_TOO_LONG;
	if (body_len > len - TLS_HANDSHAKE_HEADER_LEN)
		return TLS_MORE;
	struct cursor body = { message + TLS_HANDSHAKE_HEADER_LEN, body_len };
	hello_clear(out, type == TLS_HANDSHAKE_SERVER_HELLO);
	if (type == TLS_HANDSHAKE_SERVER_HELLO)
		return parse_server_hello(body, out);
	return parse_client_hello(body, out);
}

/* ---- the streaming reader ----------------------------------------------- */

void tls_reader_init(struct tls_reader *reader, int is_server_direction)
{
	memset(reader, 0, sizeof *reader);
	reader->is_server = (uint8_t)(is_server_direction != 0);
	reader->end = TLS_MORE;
}

void tls_reader_free(struct tls_reader *reader)
{
	free(reader->buffer);
	reader->buffer = NULL;
	reader->buffer_size = 0;
}

/* The outcome is final: nothing more will be read, so the buffer can go. */
static enum tls_end finish(struct tls_reader *reader, enum tls_end end)
{
	reader->end = (uint8_t)end;
	tls_reader_free(reader);
	return end;
}

/*
 * A whole record header is in. The first one tells whether this is TLS at
 * all; after it, a header that is not TLS is a broken stream. Before the
 * hello only handshake records belong, except that after a HelloRetryRequest
 * the server may send a change_cipher_spec for middlebox compatibility
 * (RFC 8446 D.4), between messages, and a server may send an alert first.
 */
static enum tls_end check_record_header(struct tls_reader *reader)
{
	const uint8_t *h = reader->record;
	size_t length = (size_t)h[3] << 8 | h[4];
	int first = !reader->records;
	reader->records = 1;
	if (h[0] < TLS_CONTENT_CHANGE_CIPHER_SPEC || h[0] > TLS_CONTENT_HEARTBEAT || h[1] != 3)
		return first ? TLS_END_NOT_TLS : TLS_END_BAD_RECORD;
	if (length > TLS_RECORD_MAX)
		return TLS_END_BAD_RECORD;
	if (h[0] != TLS_CONTENT_HANDSHAKE &&
	    !(h[0] == TLS_CONTENT_CHANGE_CIPHER_SPEC && reader->saw_retry &&
	      reader->message_header_have == 0) &&
	    /* A server may warn before its hello (unrecognized_name, RFC 6066 3):
	     * one alert, two bytes, between messages; its body is passed over. */
	    !(h[0] == TLS_CONTENT_ALERT && reader->is_server && length == 2 &&
	      reader->message_header_have == 0))
		return TLS_END_NOT_HANDSHAKE;
	/* RFC 5246 6.2.1: no empty handshake (or change_cipher_spec) records. */
	if (length == 0)
		return TLS_END_BAD_RECORD;
	reader->record_left = (uint16_t)length;
	return TLS_MORE;
}

/* A message header is in: check it and make room for the whole message. */
/* The first allocation for a message: a ClientHello, post-quantum key share included, fits. */
enum { TLS_BUFFER_FIRST = 4096 };

static enum tls_end start_message(struct tls_reader *reader, struct tls_hello *out)
{
	uint8_t want = reader->is_server ? TLS_HANDSHAKE_SERVER_HELLO : TLS_HANDSHAKE_CLIENT_HELLO;
	size_t body_len = get24(reader->message_header + 1);
	if (reader->message_header[0] != want) {
		hello_clear(out, reader->is_server);
		out->hello_retry = reader->saw_retry;
		return TLS_END_BAD_HELLO;
	}
	if (body_len > TLS_HANDSHAKE_MAX - TLS_HANDSHAKE_HEADER_LEN)
		return TLS_END_TOO_LONG;
	reader->message_len = TLS_HANDSHAKE_HEADER_LEN + body_len;
	/*
	 * Room for what has come, not for what the header announces: a header
	 * claiming 64 KiB costs nothing until the bytes are sent (a flood of
	 * such headers must not hold 64 KiB per flow).
	 */
	size_t first = reader->message_len < TLS_BUFFER_FIRST ? reader->message_len : TLS_BUFFER_FIRST;
	if (reader->buffer_size < first) {
		/* Nothing in it to keep: the old message (a HelloRetryRequest) is read. */
		free(reader->buffer);
		reader->buffer_size = 0;
		reader->buffer = malloc(first);
		if (!reader->buffer)
			return TLS_END_NO_MEMORY;
		reader->buffer_size = first;
	}
	memcpy(reader->buffer, reader->message_header, TLS_HANDSHAKE_HEADER_LEN);
	reader->message_have = TLS_HANDSHAKE_HEADER_LEN;
	return TLS_MORE;
}

/* Copies into a fixed-size header what it still lacks of `want` bytes; returns the bytes taken. */
static size_t fill_header(uint8_t *header, uint8_t *have, size_t want, const uint8_t *data,
			  size_t len)
{
	size_t n = want - *have;
	if (n > len)
		n = len;
	memcpy(header + *have, data, n);
	*have = (uint8_t)(*have + n);
	return n;
}

/*
 * `len` bytes of a handshake record's body. Returns TLS_MORE once all are
 * read, or the outcome as soon as there is one (the rest is not read).
 */
static enum tls_end read_handshake(struct tls_reader *reader, const uint8_t *data, size_t len,
				   struct tls_hello *out)
{
	size_t pos = 0;
	while (pos < len) {
		if (reader->message_header_have < TLS_HANDSHAKE_HEADER_LEN) {
			pos += fill_header(reader->message_header, &reader->message_header_have,
					   TLS_HANDSHAKE_HEADER_LEN, data + pos, len - pos);
			if (reader->message_header_have < TLS_HANDSHAKE_HEADER_LEN)
				return TLS_MORE;
			enum tls_end end = start_message(reader, out);
			if (end != TLS_MORE)
				return end;
		}
		size_t n = reader->message_len - reader->message_have;
		if (n > len - pos)
			n = len - pos;
		if (reader->message_have + n > reader->buffer_size) {
			size_t size = reader->buffer_size * 2;
			if (size < reader->message_have + n)
				size = reader->message_have + n;
			if (size > reader->message_len)
				size = reader->message_len;
			uint8_t *grown = realloc(reader->buffer, size);
			if (!grown)
				return TLS_END_NO_MEMORY;
			reader->buffer = grown;
			reader->buffer_size = size;
		}
		memcpy(reader->buffer + reader->message_have, data + pos, n);
		reader->message_have += n;
		pos += n;
		if (reader->message_have < reader->message_len)
			return TLS_MORE;

		/* Parsed aside: a HelloRetryRequest is not the answer, and *out is
		 * only written with the outcome. */
		struct tls_hello hello;
		hello_clear(&hello, reader->is_server);
		enum tls_end end = tls_parse_hello(reader->buffer, reader->message_len, &hello);
		if (end == TLS_DONE && hello.hello_retry && !reader->saw_retry) {
			/* RFC 8446 4.1.4: the real ServerHello comes after the client's second
			 * ClientHello. A second HelloRetryRequest is an error; reported below. */
			reader->saw_retry = 1;
			reader->message_header_have = 0;
			reader->message_have = 0;
			reader->message_len = 0;
			continue;
		}
		if (end == TLS_DONE && hello.hello_retry)
			end = TLS_END_BAD_HELLO;
		hello.hello_retry = (uint8_t)(hello.hello_retry | reader->saw_retry);
		*out = hello;
		return end;
	}
	return TLS_MORE;
}

enum tls_end tls_reader_feed(struct tls_reader *reader, const uint8_t *data, size_t len,
			     struct tls_hello *out)
{
	if (reader->end != TLS_MORE)
		return (enum tls_end)reader->end;
	if (len > 0 && !reader->started) {
		reader->started = 1;
		/* SSLv2's 2-byte record header has the high bit of its length set. */
		if (data[0] & 0x80)
			return finish(reader, TLS_END_SSLV2);
	}
	size_t pos = 0;
	while (pos < len) {
		if (reader->record_have < TLS_RECORD_HEADER_LEN) {
			pos += fill_header(reader->record, &reader->record_have, TLS_RECORD_HEADER_LEN,
					   data + pos, len - pos);
			if (reader->record_have < TLS_RECORD_HEADER_LEN)
				break;
			enum tls_end end = check_record_header(reader);
			if (end != TLS_MORE)
				return finish(reader, end);
			continue;
		}
		size_t n = reader->record_left;
		if (n > len - pos)
			n = len - pos;
		if (reader->record[0] == TLS_CONTENT_HANDSHAKE) {
			enum tls_end end = read_handshake(reader, data + pos, n, out);
			if (end != TLS_MORE)
				return finish(reader, end);
		} else if (reader->record[0] == TLS_CONTENT_ALERT && reader->record_left == 2 &&
			   n > 0 && data[pos] != 1) {
			/* Only a warning lets a hello follow: a fatal alert ends the connection. */
			return finish(reader, TLS_END_NOT_HANDSHAKE);
		}
		pos += n;
		reader->record_left = (uint16_t)(reader->record_left - n);
		if (reader->record_left == 0)
			reader->record_have = 0;
	}
	return TLS_MORE;
}
