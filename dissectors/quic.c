/*
 * quic: the client's hello out of the first datagrams of a QUIC flow. Three
 * wire formats lead to it. IETF long headers (v1, v2, the drafts, mvfst and
 * Google's Q050/T050/T051) are read packet by packet within a datagram:
 * Initial keys from the Destination Connection ID, header protection
 * removed, the payload authenticated and decrypted, then its frames read.
 * Google QUIC before Q050 sends its CHLO in the clear, behind a public header
 * (up to Q043) or a draft-17 style long header (Q046). Every path ends in one
 * place: the handshake bytes, reassembled by offset into a buffer that grows
 * as data comes (a bitmap beside it says which bytes have arrived, so frames
 * may come in any order and the first copy of a byte wins), parsed once a
 * whole message is there: by tls_parse_hello(), or as a CHLO tag map.
 *
 * The header formats, salts and labels are those of RFC 9000, RFC 9001,
 * RFC 9369 and the drafts; gQUIC's are not specified anywhere but in
 * Chromium, and we follow what Wireshark's packet-gquic.c reads, since tshark
 * is what we are checked against.
 */
#include "quic.h"

#include "hkdf.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <stdlib.h>
#include <string.h>

#include "cursor.h"

static const char *const end_names[] = {
	"more", "done", "not_quic", "version_negotiation", "unknown_version", "bad_packet",
	"decrypt_failed", "bad_frame", "connection_close", "too_long", "bad_hello", "no_hello",
	"no_memory", "crypto_error",
};

const char *quic_end_name(enum quic_end end)
{
	unsigned index = (unsigned)end;
	if (index >= sizeof end_names / sizeof end_names[0])
		return "unknown";
	return end_names[index];
}

/* What the flow's first datagram showed; later ones are read the same way. */
enum {
	KIND_NONE = 0,
	KIND_IETF,            /* long headers with Length fields, protected Initials */
	KIND_GQUIC_PUBLIC,    /* gQUIC public header, Q043 and before */
	KIND_GQUIC_LONG,      /* gQUIC Q046 long header */
};

enum {
	KEY_LEN = 16,
	IV_LEN = 12,
	TAG_LEN = 16,
	SAMPLE_LEN = 16,
	SECRET_LEN = 32,      /* SHA-256 */
	SALT_LEN = 20,
	GQUIC_HASH_LEN = 12,  /* the FNV-1a message authentication hash of null-encrypted packets */
};

/* ---- versions -------------------------------------------------------------- */

/*
 * Initial salts. RFC 9001 5.2 (v1; draft-33 and -34 already had it), RFC
 * 9369 3.3.1 (v2), draft-ietf-quic-tls-22, -23 (used through -28) and -29
 * (through -32) section 5.2; Google's from Wireshark's packet-quic.c
 * (quic_derive_initial_secrets), which also maps mvfst's 0xfaceb001 to
 * draft-22 and 0xfaceb002 and 0xfaceb00e to draft-27.
 */
static const uint8_t salt_v1[SALT_LEN] = {
	0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
	0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a,
};
static const uint8_t salt_v2[SALT_LEN] = {
	0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
	0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9,
};
static const uint8_t salt_draft_22[SALT_LEN] = {
	0x7f, 0xbc, 0xdb, 0x0e, 0x7c, 0x66, 0xbb, 0xe9, 0x19, 0x3a,
	0x96, 0xcd, 0x21, 0x51, 0x9e, 0xbd, 0x7a, 0x02, 0x64, 0x4a,
};
static const uint8_t salt_draft_23[SALT_LEN] = {
	0xc3, 0xee, 0xf7, 0x12, 0xc7, 0x2e, 0xbb, 0x5a, 0x11, 0xa7,
	0xd2, 0x43, 0x2b, 0xb4, 0x63, 0x65, 0xbe, 0xf9, 0xf5, 0x02,
};
static const uint8_t salt_draft_29[SALT_LEN] = {
	0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97,
	0x86, 0xf1, 0x9c, 0x61, 0x11, 0xe0, 0x43, 0x90, 0xa8, 0x99,
};
static const uint8_t salt_q050[SALT_LEN] = {
	0x50, 0x45, 0x74, 0xef, 0xd0, 0x66, 0xfe, 0x2f, 0x9d, 0x94,
	0x5c, 0xfc, 0xdb, 0xd3, 0xa7, 0xf0, 0xd3, 0xb5, 0x6b, 0x45,
};
static const uint8_t salt_t050[SALT_LEN] = {
	0x7f, 0xf5, 0x79, 0xe5, 0xac, 0xd0, 0x72, 0x91, 0x55, 0x80,
	0x30, 0x4c, 0x43, 0xa2, 0x36, 0x7c, 0x60, 0x48, 0x83, 0x10,
};
static const uint8_t salt_t051[SALT_LEN] = {
	0x7a, 0x4e, 0xde, 0xf4, 0xe7, 0xcc, 0xee, 0x5f, 0xa4, 0x50,
	0x6c, 0x19, 0x12, 0x4f, 0xc8, 0xcc, 0xda, 0x6e, 0x03, 0x3d,
};

/* How the Initials of one long-header version are built and what they carry. */
struct version_info {
	const uint8_t *salt;
	uint8_t v2;           /* RFC 9369: "quicv2" labels, Initial is packet type 0b01 */
	uint8_t gquic;        /* Q050, T050, T051: gQUIC frames (CRYPTO is type 0x08) */
	uint8_t chlo;         /* Q050: the CRYPTO stream holds a CHLO, not TLS */
};

/* Each version (or run of drafts) we read, and how. */
static const struct {
	uint32_t first, last;
	struct version_info info;
} versions[] = {
	{ QUIC_VERSION_1, QUIC_VERSION_1, { salt_v1, 0, 0, 0 } },
	{ QUIC_VERSION_2, QUIC_VERSION_2, { salt_v2, 1, 0, 0 } },
	{ QUIC_VERSION_DRAFT_27, 0xff00001c, { salt_draft_23, 0, 0, 0 } },  /* draft-27, -28 */
	{ 0xff00001d, 0xff000020, { salt_draft_29, 0, 0, 0 } },              /* draft-29 to -32 */
	{ 0xff000021, QUIC_VERSION_DRAFT_34, { salt_v1, 0, 0, 0 } },        /* draft-33, -34 */
	{ QUIC_VERSION_MVFST_22, QUIC_VERSION_MVFST_22, { salt_draft_22, 0, 0, 0 } },
	{ QUIC_VERSION_MVFST_27, QUIC_VERSION_MVFST_27, { salt_draft_23, 0, 0, 0 } },
	{ QUIC_VERSION_MVFST_EXP, QUIC_VERSION_MVFST_EXP, { salt_draft_23, 0, 0, 0 } },
	{ QUIC_VERSION_Q050, QUIC_VERSION_Q050, { salt_q050, 0, 1, 1 } },
	{ QUIC_VERSION_T050, QUIC_VERSION_T050, { salt_t050, 0, 1, 0 } },
	{ QUIC_VERSION_T051, QUIC_VERSION_T051, { salt_t051, 0, 1, 0 } },
};

static int version_info(uint32_t version, struct version_info *info)
{
	for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++) {
		if (version >= versions[i].first && version <= versions[i].last) {
			*info = versions[i].info;
			return 0;
		}
	}
	return -1;
}

/*
 * A gQUIC version tag "Q0nn" in the range Wireshark's heuristic takes for a
 * public header ("Q02x" to "Q04x"): its number nn, else -1.
 */
static int gquic_version_number(uint32_t version)
{
	unsigned q = version >> 24, zero = (version >> 16) & 0xff;
	unsigned tens = (version >> 8) & 0xff, ones = version & 0xff;
	if (q != 'Q' || zero != '0' || tens < '2' || tens > '4' || ones < '0' || ones > '9')
		return -1;
	return (int)((tens - '0') * 10 + (ones - '0'));
}

/* ---- reading ---------------------------------------------------------------- */

/* An unsigned integer of n bytes (at most 8), big- or little-endian. */
static int get_uint(struct cursor *c, size_t n, int big_endian, uint64_t *value)
{
	const uint8_t *p;
	if (n > 8 || get_bytes(c, n, &p) != 0)
		return -1;
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)p[big_endian ? i : n - 1 - i] << (8 * (n - 1 - i));
	*value = v;
	return 0;
}

/* RFC 9000 16: the two high bits of the first byte give the length, 1 to 8. */
static int get_varint(struct cursor *c, uint64_t *value)
{
	if (c->left < 1)
		return -1;
	size_t n = (size_t)1 << (c->p[0] >> 6);
	const uint8_t *p;
	if (get_bytes(c, n, &p) != 0)
		return -1;
	uint64_t v = p[0] & 0x3f;
	for (size_t i = 1; i < n; i++)
		v = v << 8 | p[i];
	*value = v;
	return 0;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static size_t get24(const uint8_t *p)
{
	return (size_t)p[0] << 16 | (size_t)p[1] << 8 | p[2];
}

static void hello_clear(struct tls_hello *hello)
{
	memset(hello, 0, sizeof *hello);
	hello->ech_type = -1;
}

/* ---- keys and packet protection (RFC 9001 5) ------------------------------ */

int quic_initial_keys_derive(uint32_t version, const uint8_t *dcid, size_t dcid_len,
			     struct quic_initial_keys *keys)
{
	struct version_info info;
	if (version_info(version, &info) != 0 || dcid_len > QUIC_CID_MAX)
		return -1;
	/* RFC 9001 5.2: SHA-256 and the version's salt; RFC 9369 3.3.1 for v2's labels. */
	uint8_t initial[SECRET_LEN], client[SECRET_LEN];
	uint8_t empty = 0;
	int err = hkdf_extract("SHA256", info.salt, SALT_LEN, dcid_len ? dcid : &empty, dcid_len,
			       initial, sizeof initial) ||
		  tls13_expand_label("SHA256", initial, SECRET_LEN, "client in", client, sizeof client) ||
		  tls13_expand_label("SHA256", client, SECRET_LEN, info.v2 ? "quicv2 key" : "quic key",
				     keys->key, KEY_LEN) ||
		  tls13_expand_label("SHA256", client, SECRET_LEN, info.v2 ? "quicv2 iv" : "quic iv",
				     keys->iv, IV_LEN) ||
		  tls13_expand_label("SHA256", client, SECRET_LEN, info.v2 ? "quicv2 hp" : "quic hp",
				     keys->hp, KEY_LEN);
	if (err)
		return -1;
	keys->version = version;
	keys->dcid_len = (uint8_t)dcid_len;
	if (dcid_len)
		memcpy(keys->dcid, dcid, dcid_len);
	keys->valid = 1;
	return 0;
}

/* RFC 9001 5.4.3: the header protection mask is AES-ECB of the sample. */
static int header_mask(const uint8_t hp[KEY_LEN], const uint8_t *sample, uint8_t mask[SAMPLE_LEN])
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int written = 0;
	int ok = ctx && EVP_EncryptInit_ex(ctx, EVP_aes_128_ecb(), NULL, hp, NULL) == 1 &&
		 EVP_CIPHER_CTX_set_padding(ctx, 0) == 1 &&
		 EVP_EncryptUpdate(ctx, mask, &written, sample, SAMPLE_LEN) == 1 &&
		 written == SAMPLE_LEN;
	EVP_CIPHER_CTX_free(ctx);
	return ok ? 0 : -1;
}

/* A piece of the associated data. */
struct piece {
	const uint8_t *p;
	size_t len;
};

/*
 * AEAD_AES_128_GCM open (RFC 9001 5.3). Returns 1 when the tag holds (and
 * `plain` has the plaintext), 0 when it does not, -1 when libcrypto fails.
 */
static int aead_open(const uint8_t key[KEY_LEN], const uint8_t nonce[IV_LEN],
		     const struct piece *aad, size_t aad_count, const uint8_t *cipher, size_t len,
		     const uint8_t tag[TAG_LEN], uint8_t *plain)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int written = 0, ok = -1;
	if (!ctx || len > INT32_MAX)
		goto out;
	if (EVP_DecryptInit_ex(ctx, EVP_aes_128_gcm(), NULL, key, nonce) != 1)
		goto out;
	for (size_t i = 0; i < aad_count; i++)
		if (aad[i].len > 0 &&
		    EVP_DecryptUpdate(ctx, NULL, &written, aad[i].p, (int)aad[i].len) != 1)
			goto out;
	if (len > 0 && EVP_DecryptUpdate(ctx, plain, &written, cipher, (int)len) != 1)
		goto out;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, (void *)tag) != 1)
		goto out;
	ok = EVP_DecryptFinal_ex(ctx, plain + len, &written) == 1;
out:
	EVP_CIPHER_CTX_free(ctx);
	return ok;
}

/* RFC 9000 A.3: the full packet number nearest the one expected. */
static uint64_t decode_packet_number(int64_t largest, uint64_t truncated, unsigned bits)
{
	uint64_t expected = (uint64_t)(largest + 1);
	uint64_t window = (uint64_t)1 << bits, half = window / 2, mask = window - 1;
	uint64_t candidate = (expected & ~mask) | truncated;
	if (candidate + half <= expected && candidate < ((uint64_t)1 << 62) - window)
		return candidate + window;
	if (candidate > expected + half && candidate >= window)
		return candidate - window;
	return candidate;
}

/*
 * Removes header protection with `keys` and opens the payload into `plain`.
 * The packet is `p`, `packet_len` bytes, its packet number at `pn_offset`
 * (the caller made sure the sample and a tag fit). Returns 1 with *plain_len
 * and *pn_len set, 0 if the keys do not authenticate it, -1 on a libcrypto
 * failure.
 */
static int open_packet(const struct quic_initial_keys *keys, const uint8_t *p, size_t pn_offset,
		       size_t packet_len, int64_t largest_pn, uint8_t *plain, size_t *plain_len,
		       size_t *pn_len, uint64_t *pn)
{
	uint8_t mask[SAMPLE_LEN];
	if (header_mask(keys->hp, p + pn_offset + 4, mask) != 0)
		return -1;
	/* Long header: the low four bits of the first byte are protected. */
	uint8_t first = (uint8_t)(p[0] ^ (mask[0] & 0x0f));
	size_t n = (size_t)(first & 0x03) + 1;
	uint8_t pn_bytes[4];
	uint64_t truncated = 0;
	for (size_t i = 0; i < n; i++) {
		pn_bytes[i] = (uint8_t)(p[pn_offset + i] ^ mask[1 + i]);
		truncated = truncated << 8 | pn_bytes[i];
	}
	uint64_t number = decode_packet_number(largest_pn, truncated, (unsigned)(8 * n));
	uint8_t nonce[IV_LEN];
	memcpy(nonce, keys->iv, IV_LEN);
	for (size_t i = 0; i < 8; i++)
		nonce[IV_LEN - 1 - i] ^= (uint8_t)(number >> (8 * i));
	struct piece aad[3] = { { &first, 1 }, { p + 1, pn_offset - 1 }, { pn_bytes, n } };
	size_t len = packet_len - pn_offset - n - TAG_LEN;
	int ok = aead_open(keys->key, nonce, aad, 3, p + pn_offset + n, len,
			   p + packet_len - TAG_LEN, plain);
	if (ok == 1) {
		*plain_len = len;
		*pn_len = n;
		*pn = number;
	}
	return ok;
}

/* ---- the CRYPTO stream ------------------------------------------------------ */

static size_t bitmap_bytes(size_t n)
{
	return (n + 7) / 8;
}

static int arrived(const struct quic_reader *r, size_t at)
{
	const uint8_t *bits = r->buffer + r->buffer_size;
	return bits[at >> 3] >> (at & 7) & 1;
}

/*
 * Room for bytes 0..need-1. The buffer doubles, but never past the message
 * (once its length is known) or TLS_HANDSHAKE_MAX: a frame far out costs its
 * offset, and no more.
 */
static int reserve(struct quic_reader *r, size_t need)
{
	if (need <= r->buffer_size)
		return 0;
	size_t cap = r->message_len ? r->message_len : TLS_HANDSHAKE_MAX;
	size_t size = r->buffer_size * 2;
	if (size < need)
		size = need;
	if (size > cap)
		size = cap;
	uint8_t *grown = malloc(size + bitmap_bytes(size));
	if (!grown)
		return -1;
	size_t old_bits = bitmap_bytes(r->buffer_size);
	if (r->buffer) {
		memcpy(grown, r->buffer, r->buffer_size);
		memcpy(grown + size, r->buffer + r->buffer_size, old_bits);
	}
	memset(grown + size + old_bits, 0, bitmap_bytes(size) - old_bits);
	free(r->buffer);
	r->buffer = grown;
	r->buffer_size = size;
	return 0;
}

/*
 * A TLS handshake message (RFC 8446 4): a ClientHello once bytes 0..N are in.
 * The client's Initial CRYPTO stream holds nothing else.
 */
static enum quic_end check_tls_hello(struct quic_reader *r, struct tls_hello *out)
{
	if (r->contiguous < TLS_HANDSHAKE_HEADER_LEN)
		return QUIC_MORE;
	if (r->buffer[0] != TLS_HANDSHAKE_CLIENT_HELLO) {
		hello_clear(out);
		return QUIC_END_BAD_HELLO;
	}
	size_t len = TLS_HANDSHAKE_HEADER_LEN + get24(r->buffer + 1);
	if (len > TLS_HANDSHAKE_MAX)
		return QUIC_END_TOO_LONG;
	r->message_len = len;
	if (r->contiguous < len)
		return QUIC_MORE;
	enum tls_end end = tls_parse_hello(r->buffer, len, out);
	return end == TLS_DONE ? QUIC_DONE : QUIC_END_BAD_HELLO;
}

/*
 * A gQUIC handshake message: tag "CHLO", a 2-byte count and 2 bytes of
 * padding, then per entry a tag and the end offset of its value (both
 * 4 bytes, offsets little-endian and not decreasing), then the values.
 * Only the server name is taken ("SNI\0"), checked as a TLS one is.
 */
static enum quic_end parse_chlo(const uint8_t *message, size_t entries, struct tls_hello *out)
{
	const uint8_t *values = message + 8 + 8 * entries;
	size_t values_len = entries ? le32(message + 8 + 8 * (entries - 1) + 4) : 0;
	uint32_t previous = 0;
	int seen_sni = 0;
	hello_clear(out);
	for (size_t i = 0; i < entries; i++) {
		const uint8_t *entry = message + 8 + 8 * i;
		uint32_t end = le32(entry + 4);
		if (end < previous || end > values_len)
			return QUIC_END_BAD_HELLO;
		if (memcmp(entry, "SNI\0", 4) == 0 && !seen_sni++) {
			const uint8_t *name = values + previous;
			size_t len = end - previous;
			if (len == 0 || len > TLS_SNI_MAX - 1 || memchr(name, '\0', len)) {
				out->sni_invalid = 1;
			} else {
				memcpy(out->sni, name, len);
				out->sni[len] = '\0';
				out->has_sni = 1;
			}
		}
		previous = end;
	}
	return QUIC_DONE;
}

static enum quic_end check_chlo(struct quic_reader *r, struct tls_hello *out)
{
	if (r->contiguous < 8)
		return QUIC_MORE;
	if (memcmp(r->buffer, "CHLO", 4) != 0) {
		hello_clear(out);
		return QUIC_END_BAD_HELLO;
	}
	size_t entries = (size_t)r->buffer[4] | (size_t)r->buffer[5] << 8;
	size_t header = 8 + 8 * entries;
	if (header > TLS_HANDSHAKE_MAX)
		return QUIC_END_TOO_LONG;
	if (r->contiguous < header)
		return QUIC_MORE;
	size_t values = entries ? le32(r->buffer + header - 4) : 0;
	if (values > TLS_HANDSHAKE_MAX - header)
		return QUIC_END_TOO_LONG;
	r->message_len = header + values;
	if (r->contiguous < r->message_len)
		return QUIC_MORE;
	return parse_chlo(r->buffer, entries, out);
}

/*
 * `len` bytes of the handshake stream at `offset`. Bytes already there stay
 * (the first copy wins: a retransmission may not rewrite what was read);
 * bytes past the message, once its length is known, are not kept.
 */
static enum quic_end add_crypto(struct quic_reader *r, uint64_t offset, const uint8_t *data,
				size_t len, struct tls_hello *out)
{
	if (offset > TLS_HANDSHAKE_MAX || len > TLS_HANDSHAKE_MAX - offset)
		return QUIC_END_TOO_LONG;
	size_t start = (size_t)offset, end = start + len;
	if (r->message_len && end > r->message_len)
		end = r->message_len > start ? r->message_len : start;
	if (end == start)
		return QUIC_MORE;
	if (reserve(r, end) != 0)
		return QUIC_END_NO_MEMORY;
	uint8_t *bits = r->buffer + r->buffer_size;
	for (size_t at = start; at < end; at++) {
		if (bits[at >> 3] >> (at & 7) & 1)
			continue;
		r->buffer[at] = data[at - start];
		bits[at >> 3] = (uint8_t)(bits[at >> 3] | 1u << (at & 7));
	}
	while (r->contiguous < r->buffer_size && arrived(r, r->contiguous))
		r->contiguous++;
	return r->gquic_hello ? check_chlo(r, out) : check_tls_hello(r, out);
}

/* ---- IETF frames (RFC 9000 19) ---------------------------------------------- */

/* ACK (0x02) and ACK with ECN counts (0x03), after the type. */
static int skip_ack(struct cursor *c, int ecn)
{
	uint64_t largest, delay, ranges, first, gap, length;
	if (get_varint(c, &largest) || get_varint(c, &delay) || get_varint(c, &ranges) ||
	    get_varint(c, &first))
		return -1;
	/* Each range takes at least two bytes: the loop ends with the packet. */
	for (uint64_t i = 0; i < ranges; i++)
		if (get_varint(c, &gap) || get_varint(c, &length))
			return -1;
	uint64_t count;
	for (int i = 0; ecn && i < 3; i++)
		if (get_varint(c, &count))
			return -1;
	return 0;
}

/*
 * The frames of an Initial. RFC 9000 12.4 allows PADDING, PING, ACK, CRYPTO
 * and CONNECTION_CLOSE of type 0x1c in it; anything else (or a type in a
 * longer encoding than needed) is a protocol violation, and so is a packet
 * with no frames.
 */
static enum quic_end read_ietf_frames(struct quic_reader *r, const uint8_t *p, size_t len,
				      struct tls_hello *out)
{
	struct cursor c = { p, len };
	if (len == 0)
		return QUIC_END_BAD_FRAME;
	while (c.left > 0) {
		uint8_t type = c.p[0];
		c.p++;
		c.left--;
		switch (type) {
		case 0x00: /* PADDING */
		case 0x01: /* PING */
			break;
		case 0x02: /* ACK */
		case 0x03:
			if (skip_ack(&c, type == 0x03) != 0)
				return QUIC_END_BAD_FRAME;
			break;
		case 0x06: { /* CRYPTO */
			uint64_t offset, length;
			const uint8_t *data;
			if (get_varint(&c, &offset) || get_varint(&c, &length) || length > c.left ||
			    get_bytes(&c, (size_t)length, &data))
				return QUIC_END_BAD_FRAME;
			enum quic_end end = add_crypto(r, offset, data, (size_t)length, out);
			if (end != QUIC_MORE)
				return end;
			break;
		}
		case 0x1c: /* CONNECTION_CLOSE */
			return QUIC_END_CONNECTION_CLOSE;
		default:
			return QUIC_END_BAD_FRAME;
		}
	}
	return QUIC_MORE;
}

/* ---- gQUIC frames ------------------------------------------------------------ */

/* The byte lengths the 2-bit fields of gQUIC ACK frames and public flags encode. */
static const size_t gquic_lengths[4] = { 1, 2, 4, 6 };

/*
 * A gQUIC ACK frame (type 01nullmm) after its type byte, in the layout of
 * its version: before Q034 with entropy, missing-packet ranges and revived
 * packets; from Q034 with ack blocks. Timestamps in both.
 */
static int skip_gquic_ack(struct cursor *c, uint8_t type, int number)
{
	size_t largest_len = gquic_lengths[type >> 2 & 3], block_len = gquic_lengths[type & 3];
	int more = (type & 0x20) != 0;
	uint8_t count, timestamps;
	if (number < 34) {
		if (skip(c, 1 + largest_len + 2) || get8(c, &timestamps))
			return -1;
		if (timestamps > 0 && skip(c, 1 + 4 + (size_t)(timestamps - 1) * 3))
			return -1;
		if (more) {
			if (get8(c, &count) || skip(c, (size_t)count * (block_len + 1)) ||
			    get8(c, &count) || skip(c, (size_t)count * largest_len))
				return -1;
		}
		return 0;
	}
	count = 0;
	if (skip(c, largest_len + 2) || (more && get8(c, &count)) ||
	    skip(c, block_len + (size_t)count * (1 + block_len)) || get8(c, &timestamps))
		return -1;
	if (timestamps > 0 && skip(c, 1 + 4 + (size_t)(timestamps - 1) * 3))
		return -1;
	return 0;
}

/*
 * The frames of a gQUIC packet of version `number` (Q050 and the T05x count
 * as 50): STREAM frames on stream 1 carry the handshake before Q050, CRYPTO
 * frames (0x08, IETF varints) from Q050. Integers are big-endian from Q039,
 * little-endian before. PADDING runs to the end of the packet. `pn_len` is
 * the packet number length of the packet, which STOP_WAITING repeats.
 */
static enum quic_end read_gquic_frames(struct quic_reader *r, const uint8_t *p, size_t len,
				       int number, size_t pn_len, struct tls_hello *out)
{
	struct cursor c = { p, len };
	int big = number >= 39;
	while (c.left > 0) {
		uint8_t type;
		get8(&c, &type);
		if (type & 0x80) { /* STREAM: 1fdooosss */
			size_t id_len = (size_t)(type & 0x03) + 1;
			size_t offset_len = type >> 2 & 7 ? (size_t)(type >> 2 & 7) + 1 : 0;
			uint64_t id, offset = 0, data_len;
			const uint8_t *data;
			if (get_uint(&c, id_len, big, &id) || get_uint(&c, offset_len, big, &offset))
				return QUIC_END_BAD_FRAME;
			if (type & 0x20) {
				if (get_uint(&c, 2, big, &data_len))
					return QUIC_END_BAD_FRAME;
			} else {
				data_len = c.left;
			}
			if (get_bytes(&c, (size_t)data_len, &data))
				return QUIC_END_BAD_FRAME;
			if (id == 1 && number < 50) {
				enum quic_end end = add_crypto(r, offset, data, (size_t)data_len, out);
				if (end != QUIC_MORE)
					return end;
			}
			continue;
		}
		if (type & 0x40) {
			if (skip_gquic_ack(&c, type, number) != 0)
				return QUIC_END_BAD_FRAME;
			continue;
		}
		switch (type) {
		case 0x00: /* PADDING: the rest of the packet */
			return QUIC_MORE;
		case 0x01: /* RST_STREAM: stream, byte offset, error */
			if (skip(&c, 4 + 8 + 4))
				return QUIC_END_BAD_FRAME;
			break;
		case 0x02: /* CONNECTION_CLOSE */
			return QUIC_END_CONNECTION_CLOSE;
		case 0x03: { /* GOAWAY: error, last good stream, reason */
			uint64_t reason;
			if (skip(&c, 4 + 4) || get_uint(&c, 2, big, &reason) || skip(&c, (size_t)reason))
				return QUIC_END_BAD_FRAME;
			break;
		}
		case 0x04: /* WINDOW_UPDATE: stream, byte offset */
			if (skip(&c, 4 + 8))
				return QUIC_END_BAD_FRAME;
			break;
		case 0x05: /* BLOCKED: stream */
			if (skip(&c, 4))
				return QUIC_END_BAD_FRAME;
			break;
		case 0x06: /* STOP_WAITING: entropy before Q034, least unacked delta */
			if (skip(&c, (number < 34 ? 1 : 0) + pn_len))
				return QUIC_END_BAD_FRAME;
			break;
		case 0x07: /* PING */
			break;
		case 0x08: { /* CRYPTO, Q050 and after */
			uint64_t offset, length;
			const uint8_t *data;
			if (number < 50 || get_varint(&c, &offset) || get_varint(&c, &length) ||
			    length > c.left || get_bytes(&c, (size_t)length, &data))
				return QUIC_END_BAD_FRAME;
			enum quic_end end = add_crypto(r, offset, data, (size_t)length, out);
			if (end != QUIC_MORE)
				return end;
			break;
		}
		default: /* congestion feedback (001xxxxx) and unknown types */
			return QUIC_END_BAD_FRAME;
		}
	}
	return QUIC_MORE;
}

/* ---- IETF long header packets (RFC 9000 17.2, RFC 9369 3.2) ---------------- */

static int same_dcid(const struct quic_initial_keys *keys, uint32_t version, const uint8_t *dcid,
		     size_t dcid_len)
{
	return keys->valid && keys->version == version && keys->dcid_len == dcid_len &&
	       memcmp(keys->dcid, dcid, dcid_len) == 0;
}

/*
 * The keys for (version, dcid): a slot that has them, or slot 1 filled anew
 * (slot 0 holds the first Initial's and is never replaced). NULL when
 * libcrypto fails.
 */
static const struct quic_initial_keys *keys_for(struct quic_reader *r, uint32_t version,
						const uint8_t *dcid, size_t dcid_len)
{
	for (int i = 0; i < 2; i++)
		if (same_dcid(&r->keys[i], version, dcid, dcid_len))
			return &r->keys[i];
	struct quic_initial_keys *slot = r->keys[0].valid ? &r->keys[1] : &r->keys[0];
	if (quic_initial_keys_derive(version, dcid, dcid_len, slot) != 0) {
		slot->valid = 0;
		return NULL;
	}
	return slot;
}

/* The fields of a long header packet that the reader uses. */
struct long_header {
	uint32_t version;
	const uint8_t *dcid;
	size_t dcid_len;
	size_t pn_offset;             /* where the protected packet number starts */
	size_t packet_len;            /* up to the end of the tag */
};

/*
 * The header of an Initial at the start of `p`, `left` bytes to the end of
 * the datagram (at least 5: the version is read). Every field is checked
 * against what holds it, and the packet must hold the header protection
 * sample, 4 bytes past the packet number (RFC 9001 5.4.2), 16 long; which
 * also leaves room for the 16-byte tag after any packet number.
 */
static int parse_initial_header(const uint8_t *p, size_t left, struct long_header *h)
{
	struct cursor c = { p + 5, left - 5 };
	uint8_t dcid_len, scid_len;
	uint64_t token_len, length;
	h->version = be32(p + 1);
	if (get8(&c, &dcid_len) || dcid_len > QUIC_CID_MAX || get_bytes(&c, dcid_len, &h->dcid) ||
	    get8(&c, &scid_len) || scid_len > QUIC_CID_MAX || skip(&c, scid_len) ||
	    get_varint(&c, &token_len) || token_len > c.left || skip(&c, (size_t)token_len) ||
	    get_varint(&c, &length) || length > c.left || length < 4 + SAMPLE_LEN)
		return -1;
	h->dcid_len = dcid_len;
	h->pn_offset = (size_t)(c.p - p);
	h->packet_len = h->pn_offset + (size_t)length;
	return 0;
}

/*
 * One Initial packet whose header is read. The keys are those of the
 * client's first Initial (RFC 9001 5.2: they stay when the client switches
 * to the server's connection ID); failing them, those of this packet's own
 * DCID, which a client uses after a Retry (RFC 9000 17.2.5.2) or a version
 * change.
 */
static enum quic_end read_initial(struct quic_reader *r, const uint8_t *p,
				  const struct long_header *h, const struct version_info *info,
				  struct tls_hello *out)
{
	uint8_t *plain = malloc(h->packet_len - h->pn_offset);
	if (!plain)
		return QUIC_END_NO_MEMORY;
	size_t plain_len = 0, pn_len = 0;
	uint64_t pn = 0;
	int opened = 0, tried_own = 0;
	const struct quic_initial_keys *keys;
	if (r->keys[0].valid) {
		/* keys_for() may write slot 1, never slot 0: the DCID read stays put. */
		keys = keys_for(r, h->version, r->keys[0].dcid, r->keys[0].dcid_len);
		opened = keys ? open_packet(keys, p, h->pn_offset, h->packet_len, r->largest_pn,
					    plain, &plain_len, &pn_len, &pn)
			      : -1;
		tried_own = r->keys[0].dcid_len == h->dcid_len &&
			    memcmp(r->keys[0].dcid, h->dcid, h->dcid_len) == 0;
	}
	if (opened == 0 && !tried_own) {
		keys = keys_for(r, h->version, h->dcid, h->dcid_len);
		opened = keys ? open_packet(keys, p, h->pn_offset, h->packet_len, r->largest_pn,
					    plain, &plain_len, &pn_len, &pn)
			      : -1;
	}
	enum quic_end end;
	if (opened < 0) {
		end = QUIC_END_CRYPTO_ERROR;
	} else if (opened == 0) {
		end = QUIC_END_DECRYPT_FAILED;
	} else {
		if ((int64_t)pn > r->largest_pn)
			r->largest_pn = (int64_t)pn;
		if (!r->version) {
			r->version = h->version;
			r->gquic_hello = info->chlo;
		}
		end = info->gquic ? read_gquic_frames(r, plain, plain_len, 50, pn_len, out)
				  : read_ietf_frames(r, plain, plain_len, out);
	}
	free(plain);
	return end;
}

/*
 * A datagram of an IETF flow: its packets in turn, walked by their Length
 * fields, up to the end, a short header, or a packet other than an Initial
 * (the Initial comes first when packets are coalesced: RFC 9000 12.2). The
 * first packet says what the datagram is: if its header does not hold
 * together, the reader ends. What follows a packet is only read as far as
 * it makes sense: zeros some clients pad the datagram with, bytes that are
 * no packet, or a packet to another connection ID (which RFC 9000 12.2 says
 * to ignore) end the datagram, not the reader.
 */
static enum quic_end read_ietf_datagram(struct quic_reader *r, const uint8_t *d, size_t len,
					struct tls_hello *out)
{
	struct long_header first = { 0 };
	size_t pos = 0;
	while (pos < len) {
		const uint8_t *p = d + pos;
		size_t left = len - pos;
		int is_first = pos == 0;
		struct long_header h;
		struct version_info info;
		enum quic_end problem = QUIC_MORE;
		if (!(p[0] & 0x80))
			break;
		if (left < 5)
			problem = QUIC_END_BAD_PACKET;
		else if (be32(p + 1) == QUIC_VERSION_NEGOTIATION)
			problem = QUIC_END_VERSION_NEGOTIATION;
		else if (version_info(be32(p + 1), &info) != 0)
			problem = QUIC_END_UNKNOWN_VERSION;
		else if ((p[0] >> 4 & 3) != (info.v2 ? 1u : 0u))
			break;
		else if (parse_initial_header(p, left, &h) != 0)
			problem = QUIC_END_BAD_PACKET;
		if (problem != QUIC_MORE)
			return is_first ? problem : QUIC_MORE;
		if (is_first)
			first = h;
		else if (h.dcid_len != first.dcid_len || memcmp(h.dcid, first.dcid, h.dcid_len) != 0)
			break;
		enum quic_end end = read_initial(r, p, &h, &info, out);
		if (end != QUIC_MORE)
			return end;
		pos += h.packet_len;
	}
	return QUIC_MORE;
}

/* ---- gQUIC headers -------------------------------------------------------------- */

/*
 * A gQUIC public header (Wireshark's dissect_gquic_common): flags; a CID of
 * 8 bytes when 0x08 is set (before Q033 the two bits 0x0c give 0, 1, 4 or
 * 8 bytes); the version when 0x01 is set; the packet number (1, 2, 4 or 6
 * bytes by 0x30); then, in a packet in the clear, the 12-byte hash and,
 * before Q034, a private flags byte. A client sends no diversification
 * nonce; a public reset (0x02) carries no frames.
 */
static size_t gquic_cid_len(uint8_t flags, int number)
{
	static const size_t before_q033[4] = { 0, 1, 4, 8 };
	if (number < 33)
		return before_q033[flags >> 2 & 3];
	return flags & 0x08 ? 8 : 0;
}

static enum quic_end read_gquic_public(struct quic_reader *r, const uint8_t *d, size_t len,
				       struct tls_hello *out)
{
	uint8_t flags = d[0];
	if (flags & 0x82)
		return QUIC_MORE;
	uint32_t version = r->version;
	int number;
	size_t cid_len;
	if (flags & 0x01) {
		/*
		 * The version follows the CID, whose length depends on the
		 * version: read it where Q033 and later put it, and again where
		 * an older version would, if that is what it says.
		 */
		cid_len = flags & 0x08 ? 8 : 0;
		if (len < 1 + cid_len + 4)
			return QUIC_END_BAD_PACKET;
		version = be32(d + 1 + cid_len);
		number = gquic_version_number(version);
		if (number >= 0 && number < 33 && gquic_cid_len(flags, number) != cid_len) {
			cid_len = gquic_cid_len(flags, number);
			if (len < 1 + cid_len + 4)
				return QUIC_END_BAD_PACKET;
			version = be32(d + 1 + cid_len);
			number = gquic_version_number(version);
			if (number >= 33)
				number = -1; /* the two readings disagree */
		}
		if (number < 0)
			return r->version ? QUIC_END_UNKNOWN_VERSION : QUIC_END_NOT_QUIC;
	} else {
		number = gquic_version_number(r->version);
		if (number < 0)
			return QUIC_END_NOT_QUIC;
		cid_len = gquic_cid_len(flags, number);
	}
	size_t pn_len = gquic_lengths[flags >> 4 & 3];
	struct cursor c = { d + 1, len - 1 };
	if (skip(&c, cid_len) || ((flags & 0x01) && skip(&c, 4)) || skip(&c, pn_len) ||
	    skip(&c, GQUIC_HASH_LEN) || (number < 34 && skip(&c, 1)))
		return QUIC_END_BAD_PACKET;
	if (!r->version) {
		r->version = version;
		r->gquic_hello = 1;
	}
	return read_gquic_frames(r, c.p, c.left, number, pn_len, out);
}

/*
 * A Q046 packet (Wireshark's dissect_gquic_q046): a long header of the
 * draft-17 shape, packet type in 0x30 (Initial 0), packet number length in
 * 0x03, the version, one byte of two CID lengths (n + 3 bytes, or none for
 * 0), the CIDs, the packet number; then the 12-byte hash and the frames.
 * Short headers, and long ones other than Initial, are encrypted: skipped.
 */
static enum quic_end read_gquic_long(struct quic_reader *r, const uint8_t *d, size_t len,
				     struct tls_hello *out)
{
	if (!(d[0] & 0x80))
		return QUIC_MORE;
	if (len < 6)
		return QUIC_END_BAD_PACKET;
	uint32_t version = be32(d + 1);
	if (version == QUIC_VERSION_NEGOTIATION)
		return QUIC_END_VERSION_NEGOTIATION;
	if (version != QUIC_VERSION_Q046)
		return QUIC_END_UNKNOWN_VERSION;
	if ((d[0] >> 4 & 3) != 0)
		return QUIC_MORE;
	size_t dcid_len = d[5] >> 4 ? (size_t)(d[5] >> 4) + 3 : 0;
	size_t scid_len = d[5] & 0x0f ? (size_t)(d[5] & 0x0f) + 3 : 0;
	size_t pn_len = (size_t)(d[0] & 0x03) + 1;
	struct cursor c = { d + 6, len - 6 };
	if (skip(&c, dcid_len) || skip(&c, scid_len) || skip(&c, pn_len) || skip(&c, GQUIC_HASH_LEN))
		return QUIC_END_BAD_PACKET;
	if (!r->version) {
		r->version = version;
		r->gquic_hello = 1;
	}
	return read_gquic_frames(r, c.p, c.left, 46, pn_len, out);
}

/* ---- the reader ---------------------------------------------------------------- */

void quic_reader_init(struct quic_reader *reader)
{
	memset(reader, 0, sizeof *reader);
	reader->end = QUIC_MORE;
	reader->largest_pn = -1;
}

void quic_reader_free(struct quic_reader *reader)
{
	free(reader->buffer);
	reader->buffer = NULL;
	reader->buffer_size = 0;
}

size_t quic_reader_held(const struct quic_reader *reader)
{
	return reader->buffer ? reader->buffer_size + bitmap_bytes(reader->buffer_size) : 0;
}

uint32_t quic_reader_version(const struct quic_reader *reader)
{
	return reader->version;
}

int quic_reader_is_gquic(const struct quic_reader *reader)
{
	return reader->gquic_hello;
}

/* The outcome is final: nothing more will be read, so the buffer can go. */
static enum quic_end finish(struct quic_reader *reader, enum quic_end end)
{
	reader->end = (uint8_t)end;
	quic_reader_free(reader);
	/* The keys are of no further use, and need not linger in memory. */
	memset(reader->keys, 0, sizeof reader->keys);
	return end;
}

/* A gQUIC public header with a version: flags 0x01 and 0x08, "Q02x" to "Q04x". */
static int gquic_public_start(const uint8_t *d, size_t len)
{
	return len >= 13 && (d[0] & 0x89) == 0x09 && gquic_version_number(be32(d + 9)) >= 0;
}

enum quic_end quic_reader_feed(struct quic_reader *reader, const uint8_t *datagram, size_t len,
			       struct tls_hello *out)
{
	if (reader->end != QUIC_MORE)
		return (enum quic_end)reader->end;
	reader->datagrams++;
	enum quic_end end = QUIC_MORE;
	if (len > 0 && reader->kind == KIND_NONE) {
		if ((datagram[0] & 0x80) && len >= 5)
			reader->kind = be32(datagram + 1) == QUIC_VERSION_Q046 ? KIND_GQUIC_LONG
									      : KIND_IETF;
		else if (gquic_public_start(datagram, len))
			reader->kind = KIND_GQUIC_PUBLIC;
		else
			return finish(reader, QUIC_END_NOT_QUIC);
	}
	if (len > 0) {
		switch (reader->kind) {
		case KIND_IETF:
			end = read_ietf_datagram(reader, datagram, len, out);
			break;
		case KIND_GQUIC_PUBLIC:
			end = read_gquic_public(reader, datagram, len, out);
			break;
		case KIND_GQUIC_LONG:
			end = read_gquic_long(reader, datagram, len, out);
			break;
		}
	}
	if (end == QUIC_MORE && reader->datagrams >= QUIC_DATAGRAMS_MAX)
		end = QUIC_END_NO_HELLO;
	if (end != QUIC_MORE)
		return finish(reader, end);
	return QUIC_MORE;
}

int quic_looks_like_initial(const uint8_t *datagram, size_t len)
{
	struct version_info info;
	if (len < 5)
		return 0;
	if (datagram[0] & 0x80) {
		uint32_t version = be32(datagram + 1);
		if (!(datagram[0] & 0x40))
			return 0;
		return version == QUIC_VERSION_Q046 || version_info(version, &info) == 0;
	}
	return gquic_public_start(datagram, len);
}
