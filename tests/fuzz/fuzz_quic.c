/*
 * libFuzzer harness for dissectors/quic.c. Byte 0 picks the mode, the rest
 * is records of a 2-byte big-endian length and that many bytes (the last
 * takes what is left if it is cut short).
 *
 * Raw mode (bit 0x80 clear): each record is a datagram, fed as it is. Past
 * the AEAD tag a mutated Initial rarely gets, so this mode mostly exercises
 * headers, gQUIC (in the clear) and what comes before decryption.
 *
 * Sealed mode (bit 0x80 set): each record is the plaintext of an Initial,
 * which the harness protects as a client would (RFC 9001 5) for the
 * Destination Connection ID of RFC 9001 Appendix A, with the version picked
 * by the low bits of byte 0 and packet numbers 0, 1, 2... encoded in 1 to 4
 * bytes (bits 0x30); bit 0x40 puts two packets in each datagram. So the
 * frame parser, the CRYPTO reassembly and the hello parsers get the bytes.
 *
 * Besides ASan's and UBSan's checks, it aborts if what quic.h promises
 * breaks: an outcome in the enum, never "no memory" or "crypto error"; an
 * outcome that sticks without touching *out again, with the buffer freed;
 * *out untouched until an outcome that fills it, then strings that end
 * within their arrays and flags that agree; at most TLS_HANDSHAKE_MAX bytes
 * (and their bitmap) held; an end within QUIC_DATAGRAMS_MAX datagrams; and,
 * in sealed mode, no complaint about packets that are well formed and
 * authentic.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "../../dissectors/quic.h"

static const uint8_t DCID[8] = { 0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08 };

static const uint32_t versions[] = {
	QUIC_VERSION_1, QUIC_VERSION_2, 0xff00001d, QUIC_VERSION_MVFST_27,
	QUIC_VERSION_Q050, QUIC_VERSION_T051, 0xff00001b, QUIC_VERSION_MVFST_22,
};
enum { VERSION_COUNT = sizeof versions / sizeof versions[0] };

/* Derived once per version: the harness is one thread. */
static struct quic_initial_keys keys_cache[VERSION_COUNT];

static const struct quic_initial_keys *keys_for(size_t index)
{
	if (!keys_cache[index].valid &&
	    quic_initial_keys_derive(versions[index], DCID, sizeof DCID, &keys_cache[index]) != 0)
		abort();
	return &keys_cache[index];
}

static const size_t HELD_MAX = TLS_HANDSHAKE_MAX + (TLS_HANDSHAKE_MAX + 7) / 8;

static int is_flag(uint8_t v)
{
	return v == 0 || v == 1;
}

static void check_hello(const struct tls_hello *h, int gquic)
{
	const char *sni_end = memchr(h->sni, '\0', sizeof h->sni);
	const char *alpn_end = memchr(h->alpn, '\0', sizeof h->alpn);
	if (!sni_end || !alpn_end)
		abort();
	if (!is_flag(h->has_sni) || !is_flag(h->sni_invalid) || h->is_server)
		abort();
	if (h->has_sni != (sni_end != h->sni) || (h->has_sni && h->sni_invalid))
		abort();
	if (h->version_count > TLS_VERSIONS_MAX || h->ech_type < -1 || h->ech_type > 255)
		abort();
	/* A CHLO gives a name and nothing else. */
	if (gquic && (h->alpn[0] || h->version_count || h->extension_count || h->ech_offered ||
		      h->legacy_version))
		abort();
	volatile size_t sum = strlen(h->sni) + strlen(h->alpn);
	(void)sum;
}

static void poison(struct tls_hello *h)
{
	memset(h, 0x5a, sizeof *h);
}

static int is_poisoned(const struct tls_hello *h)
{
	struct tls_hello p;
	poison(&p);
	return memcmp(h, &p, sizeof p) == 0;
}

/* One datagram, from a heap copy of exactly its length; checks what it can. */
static enum quic_end feed(struct quic_reader *r, const uint8_t *data, size_t len)
{
	uint8_t *copy = NULL;
	if (len > 0) {
		copy = malloc(len);
		if (!copy)
			abort();
		memcpy(copy, data, len);
	}
	(void)quic_looks_like_initial(copy, len);
	int was_ended = r->end != QUIC_MORE;
	enum quic_end before = (enum quic_end)r->end;
	struct tls_hello h;
	poison(&h);
	enum quic_end end = quic_reader_feed(r, copy, len, &h);
	free(copy);
	if ((unsigned)end > QUIC_END_CRYPTO_ERROR || end == QUIC_END_NO_MEMORY ||
	    end == QUIC_END_CRYPTO_ERROR)
		abort();
	if (was_ended && (end != before || !is_poisoned(&h)))
		abort();
	if (quic_reader_held(r) > HELD_MAX || r->message_len > TLS_HANDSHAKE_MAX ||
	    (r->buffer && r->contiguous > r->buffer_size))
		abort();
	if (end != QUIC_MORE && (r->buffer || quic_reader_held(r) != 0))
		abort();
	if (!was_ended && (end == QUIC_DONE || end == QUIC_END_BAD_HELLO))
		check_hello(&h, quic_reader_is_gquic(r));
	else if (!is_poisoned(&h))
		abort();
	if (end == QUIC_MORE && r->datagrams >= QUIC_DATAGRAMS_MAX)
		abort();
	return end;
}

/* A QUIC varint in 2 bytes (the payloads here are under 16384 bytes). */
static size_t put_varint2(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)(0x40 | v >> 8);
	p[1] = (uint8_t)v;
	return 2;
}

/*
 * Writes a protected Initial carrying `payload` to `out` and returns its
 * length, or 0 if a libcrypto call failed (an abort: it must not).
 */
static size_t seal(size_t version_index, uint64_t pn, size_t pn_len, const uint8_t *payload,
		   size_t len, uint8_t *out)
{
	const struct quic_initial_keys *k = keys_for(version_index);
	uint32_t version = versions[version_index];
	int v2 = version == QUIC_VERSION_2;
	size_t n = 0;
	out[n++] = (uint8_t)(0xc0 | (v2 ? 1 : 0) << 4 | (pn_len - 1));
	out[n++] = (uint8_t)(version >> 24);
	out[n++] = (uint8_t)(version >> 16);
	out[n++] = (uint8_t)(version >> 8);
	out[n++] = (uint8_t)version;
	out[n++] = sizeof DCID;
	memcpy(out + n, DCID, sizeof DCID);
	n += sizeof DCID;
	out[n++] = 0; /* SCID */
	out[n++] = 0; /* token */
	n += put_varint2(out + n, pn_len + len + 16);
	size_t pn_offset = n;
	for (size_t i = 0; i < pn_len; i++)
		out[n++] = (uint8_t)(pn >> (8 * (pn_len - 1 - i)));
	size_t header_len = n;
	uint8_t nonce[12];
	memcpy(nonce, k->iv, 12);
	for (int i = 0; i < 8; i++)
		nonce[11 - i] ^= (uint8_t)(pn >> (8 * i));
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int written = 0;
	if (!ctx || EVP_EncryptInit_ex(ctx, EVP_aes_128_gcm(), NULL, k->key, nonce) != 1 ||
	    EVP_EncryptUpdate(ctx, NULL, &written, out, (int)header_len) != 1 ||
	    (len > 0 && EVP_EncryptUpdate(ctx, out + n, &written, payload, (int)len) != 1) ||
	    EVP_EncryptFinal_ex(ctx, out + n + len, &written) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, out + n + len) != 1)
		abort();
	EVP_CIPHER_CTX_free(ctx);
	n += len + 16;
	uint8_t mask[16];
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx || EVP_EncryptInit_ex(ctx, EVP_aes_128_ecb(), NULL, k->hp, NULL) != 1 ||
	    EVP_CIPHER_CTX_set_padding(ctx, 0) != 1 ||
	    EVP_EncryptUpdate(ctx, mask, &written, out + pn_offset + 4, 16) != 1)
		abort();
	EVP_CIPHER_CTX_free(ctx);
	out[0] ^= mask[0] & 0x0f;
	for (size_t i = 0; i < pn_len; i++)
		out[pn_offset + i] ^= mask[1 + i];
	return n;
}

/* The next record: its bytes and length; 0 when there are none left. */
static int next_record(const uint8_t **p, size_t *left, const uint8_t **record, size_t *len)
{
	if (*left == 0)
		return 0;
	size_t n = *left >= 2 ? (size_t)(*p)[0] << 8 | (*p)[1] : 0;
	size_t header = *left >= 2 ? 2 : *left;
	*p += header;
	*left -= header;
	if (n > *left)
		n = *left;
	*record = *p;
	*len = n;
	*p += n;
	*left -= n;
	return 1;
}

enum { PAYLOAD_MAX = 16000, PACKET_MAX = 1 + 4 + 1 + 8 + 1 + 1 + 2 + 4 + PAYLOAD_MAX + 16 };

static uint8_t datagram[2 * PACKET_MAX];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	uint8_t mode = data[0];
	const uint8_t *p = data + 1;
	size_t left = size - 1;
	struct quic_reader r;
	quic_reader_init(&r);
	enum quic_end end = QUIC_MORE;
	const uint8_t *record;
	size_t len, datagrams = 0;

	if (!(mode & 0x80)) {
		while (next_record(&p, &left, &record, &len)) {
			end = feed(&r, record, len);
			datagrams++;
		}
	} else {
		size_t version_index = (size_t)(mode & 0x0f) % VERSION_COUNT;
		size_t pn_len = (size_t)(mode >> 4 & 3) + 1;
		int coalesce = (mode & 0x40) != 0;
		uint64_t pn = 0;
		uint8_t payload[PAYLOAD_MAX];
		size_t used = 0, packets = 0;
		while (next_record(&p, &left, &record, &len)) {
			if (len > PAYLOAD_MAX)
				len = PAYLOAD_MAX;
			memcpy(payload, record, len);
			/* The header protection sample needs 4 bytes past the packet
			 * number: pad with zeros, which are PADDING frames. */
			while (len + pn_len < 4)
				payload[len++] = 0;
			used += seal(version_index, pn++, pn_len, payload, len, datagram + used);
			if (!coalesce || ++packets % 2 == 0 || left == 0) {
				if (!quic_looks_like_initial(datagram, used))
					abort();
				end = feed(&r, datagram, used);
				datagrams++;
				used = 0;
				/* Authentic, well-formed Initials: their headers never fail. */
				if (end == QUIC_END_NOT_QUIC || end == QUIC_END_BAD_PACKET ||
				    end == QUIC_END_DECRYPT_FAILED || end == QUIC_END_UNKNOWN_VERSION ||
				    end == QUIC_END_VERSION_NEGOTIATION)
					abort();
			}
		}
	}
	if (end == QUIC_MORE && datagrams >= QUIC_DATAGRAMS_MAX)
		abort();
	quic_reader_free(&r);
	return 0;
}
