/*
 * libFuzzer harness for dissectors/tls.c. The input is a chunk plan and a
 * stream: byte 0 modulo 8 is the number n of chunk-size bytes after it; the
 * rest is one direction of a TLS connection. The stream is fed to a client
 * reader and to a server reader in chunks of those sizes in turn (a size 0
 * is an empty feed, then one byte; n = 0 is one chunk), each chunk from a
 * heap copy of exactly its length, and also in one feed; tls_parse_hello()
 * is run on the stream and on the stream past a record header.
 *
 * Besides ASan's and UBSan's checks, it aborts if what tls.h promises breaks:
 * strings that end within their arrays, counts within bounds, flags that
 * agree with each other and with the direction, an outcome that does not
 * depend on how the stream was cut, an outcome that sticks without touching
 * *out again, a buffer freed at the outcome and never over TLS_HANDSHAKE_MAX,
 * and a reader that agrees with the one-shot parser on a one-record hello.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../dissectors/tls.h"

static int is_flag(uint8_t v)
{
	return v == 0 || v == 1;
}

static void check_hello(const struct tls_hello *h, int is_server)
{
	if (h->is_server != is_server)
		abort();
	const char *sni_end = memchr(h->sni, '\0', sizeof h->sni);
	const char *alpn_end = memchr(h->alpn, '\0', sizeof h->alpn);
	if (!sni_end || !alpn_end)
		abort();
	if (!is_flag(h->hello_retry) || !is_flag(h->has_sni) || !is_flag(h->sni_invalid) ||
	    !is_flag(h->alpn_truncated) || !is_flag(h->alpn_invalid) ||
	    !is_flag(h->versions_invalid) || !is_flag(h->ech_offered))
		abort();
	if (h->has_sni != (sni_end != h->sni) || (h->has_sni && h->sni_invalid))
		abort();
	if (h->alpn_invalid && (alpn_end != h->alpn || h->alpn_truncated))
		abort();
	if (h->version_count > TLS_VERSIONS_MAX || (h->versions_invalid && h->version_count))
		abort();
	for (unsigned i = 0; i < h->version_count; i++)
		if (tls_is_grease(h->versions[i]))
			abort();
	if (h->ech_type < -1 || h->ech_type > 255 || (h->ech_type >= 0 && !h->ech_offered))
		abort();
	/* Each extension takes at least 4 bytes of a message of at most 64 KiB. */
	if (h->extension_count > (TLS_HANDSHAKE_MAX - 4) / 4)
		abort();
	if (is_server) {
		if (h->has_sni || h->sni_invalid || h->version_count || h->ech_offered)
			abort();
	} else {
		if (h->hello_retry || h->cipher_suite || h->selected_version)
			abort();
	}
	/* Touch both texts whole so that ASan sees them. */
	volatile size_t sum = strlen(h->sni) + strlen(h->alpn);
	(void)sum;
}

static void check_equal(const struct tls_hello *a, const struct tls_hello *b)
{
	size_t stored = a->extension_count < TLS_EXTENSION_TYPES_MAX ? a->extension_count
								     : TLS_EXTENSION_TYPES_MAX;
	if (a->is_server != b->is_server || a->hello_retry != b->hello_retry ||
	    a->legacy_version != b->legacy_version || a->cipher_suite != b->cipher_suite ||
	    a->selected_version != b->selected_version || strcmp(a->sni, b->sni) != 0 ||
	    a->has_sni != b->has_sni || a->sni_invalid != b->sni_invalid ||
	    strcmp(a->alpn, b->alpn) != 0 || a->alpn_truncated != b->alpn_truncated ||
	    a->alpn_invalid != b->alpn_invalid || a->version_count != b->version_count ||
	    a->versions_invalid != b->versions_invalid || a->ech_offered != b->ech_offered ||
	    a->ech_type != b->ech_type || a->extension_count != b->extension_count ||
	    memcmp(a->versions, b->versions, a->version_count * sizeof a->versions[0]) != 0 ||
	    memcmp(a->extension_types, b->extension_types, stored * sizeof a->extension_types[0]))
		abort();
}

static int has_hello(enum tls_end end)
{
	return end == TLS_DONE || end == TLS_END_BAD_HELLO;
}

static enum tls_end feed(struct tls_reader *reader, const uint8_t *p, size_t n,
			 struct tls_hello *out)
{
	uint8_t *copy = NULL;
	if (n > 0) {
		copy = malloc(n);
		if (!copy)
			abort();
		memcpy(copy, p, n);
	}
	enum tls_end end = tls_reader_feed(reader, copy, n, out);
	free(copy);
	if ((unsigned)end > TLS_END_NO_MEMORY)
		abort();
	if (reader->buffer_size > TLS_HANDSHAKE_MAX || reader->record_left > TLS_RECORD_MAX)
		abort();
	if (end != TLS_MORE && reader->buffer)
		abort();
	return end;
}

/* Feeds the stream by the plan; returns the outcome, *out as it gave it. */
static enum tls_end read_planned(const uint8_t *stream, size_t len, const uint8_t *plan,
				 size_t plan_len, int is_server, struct tls_hello *out)
{
	struct tls_reader reader;
	tls_reader_init(&reader, is_server);
	enum tls_end end = TLS_MORE;
	struct tls_hello poison;
	memset(&poison, 0x5a, sizeof poison);
	size_t pos = 0;
	for (size_t step = 0; pos < len; step++) {
		size_t n = len - pos;
		if (plan_len > 0) {
			uint8_t size = plan[step % plan_len];
			if (size == 0) {
				enum tls_end got = feed(&reader, NULL, 0, out);
				if (end == TLS_MORE ? got != TLS_MORE : got != end)
					abort();
				size = 1;
			}
			if (n > size)
				n = size;
		}
		enum tls_end got = feed(&reader, stream + pos, n, out);
		pos += n;
		if (end == TLS_MORE && got != TLS_MORE) {
			end = got;
			if (has_hello(end))
				check_hello(out, is_server);
			struct tls_hello kept = *out;
			*out = poison;
			/* Sticky, and *out left alone, for whatever comes after. */
			if (feed(&reader, stream, len, out) != end || feed(&reader, NULL, 0, out) != end)
				abort();
			if (memcmp(out, &poison, sizeof poison) != 0)
				abort();
			*out = kept;
		} else if (got != end) {
			abort();
		}
	}
	tls_reader_free(&reader);
	return end;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	size_t plan_len = data[0] % 8;
	if (size < 1 + plan_len)
		return 0;
	const uint8_t *plan = data + 1;
	size_t len = size - 1 - plan_len;
	uint8_t *stream = malloc(len ? len : 1);
	if (!stream)
		return 0;
	if (len > 0)
		memcpy(stream, data + 1 + plan_len, len);

	for (int is_server = 0; is_server <= 1; is_server++) {
		struct tls_hello planned, whole;
		enum tls_end end = read_planned(stream, len, plan, plan_len, is_server, &planned);
		/* How the stream is cut changes nothing. */
		if (read_planned(stream, len, NULL, 0, is_server, &whole) != end)
			abort();
		if (has_hello(end))
			check_equal(&planned, &whole);
		if (len > 0 && (end == TLS_END_SSLV2) != ((stream[0] & 0x80) != 0))
			abort();
	}

	/* One-shot, on the stream as a message and on what follows a record header. */
	for (size_t skip = 0; skip <= 5 && skip <= len; skip += 5) {
		struct tls_hello hello;
		enum tls_end end = tls_parse_hello(stream + skip, len - skip, &hello);
		if (end != TLS_MORE && end != TLS_DONE && end != TLS_END_BAD_HELLO &&
		    end != TLS_END_TOO_LONG)
			abort();
		if (has_hello(end))
			check_hello(&hello, hello.is_server);
		if (end == TLS_MORE && len - skip >= 4 && (stream[skip] == 1 || stream[skip] == 2) &&
		    ((size_t)stream[skip + 1] << 16 | (size_t)stream[skip + 2] << 8 |
		     stream[skip + 3]) <= len - skip - 4)
			abort();
	}

	/*
	 * A stream that is exactly one handshake record holding exactly one
	 * hello: the reader says what the one-shot parser says (a
	 * HelloRetryRequest alone leaves the reader wanting the real one).
	 */
	if (len >= 9 && stream[0] == TLS_CONTENT_HANDSHAKE && stream[1] == 3 &&
	    ((size_t)stream[3] << 8 | stream[4]) == len - 5 && len - 5 <= TLS_RECORD_MAX &&
	    (stream[5] == 1 || stream[5] == 2) &&
	    ((size_t)stream[6] << 16 | (size_t)stream[7] << 8 | stream[8]) == len - 9) {
		int is_server = stream[5] == 2;
		struct tls_hello one_shot, streamed;
		enum tls_end expect = tls_parse_hello(stream + 5, len - 5, &one_shot);
		if (expect == TLS_DONE && one_shot.hello_retry)
			expect = TLS_MORE;
		enum tls_end end = read_planned(stream, len, plan, plan_len, is_server, &streamed);
		if (end != expect)
			abort();
		if (has_hello(end))
			check_equal(&one_shot, &streamed);
	}
	free(stream);
	return 0;
}
