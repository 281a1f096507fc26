/*
 * Unit tests for dissectors/quic.c. First the published vectors: the client
 * Initial of RFC 9001 Appendix A and of RFC 9369 Appendix A (keys, header
 * protection, payload, and the reader's ClientHello out of the protected
 * packet). Then packets built here, with keys derived here through another
 * OpenSSL interface (EVP_PKEY_HKDF) and checked against those vectors, for
 * each case the reader must handle: truncations, CRYPTO data split, out of
 * order and overlapping, bounds, forged tags, coalesced packets, header
 * fields out of range, varints, versions, gQUIC. Last, real client
 * datagrams from tests/data. Every datagram is fed from a heap copy of
 * exactly its length, so that ASan sees any read past it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <pcap/pcap.h>

#define WIRE_BUF_SIZE 8192
#include "wire_buf.h"

#include "../../dissectors/quic.h"

/* ---- helpers -------------------------------------------------------------- */

/* Hex as the RFCs print it: pairs of digits, whitespace anywhere between. */
static void put_hex(struct buf *b, const char *hex)
{
	int high = -1;
	for (; *hex; hex++) {
		int v;
		if (*hex >= '0' && *hex <= '9')
			v = *hex - '0';
		else if (*hex >= 'a' && *hex <= 'f')
			v = *hex - 'a' + 10;
		else if (*hex >= 'A' && *hex <= 'F')
			v = *hex - 'A' + 10;
		else
			continue;
		if (high < 0) {
			high = v;
		} else {
			put8(b, (uint8_t)(high << 4 | v));
			high = -1;
		}
	}
	assert_int_equal(high, -1);
}

static void hex_to_buf(struct buf *b, const char *hex)
{
	b->len = 0;
	put_hex(b, hex);
}

/* A QUIC varint (RFC 9000 16) in `size` bytes (1, 2, 4 or 8), or the fewest. */
static void put_varint_n(struct buf *b, uint64_t v, size_t size)
{
	static const uint8_t prefix[9] = { 0, 0x00, 0x40, 0, 0x80, 0, 0, 0, 0xc0 };
	if (size == 0)
		size = v < 64 ? 1 : v < 16384 ? 2 : v < (1u << 30) ? 4 : 8;
	for (size_t i = 0; i < size; i++) {
		uint8_t byte = (uint8_t)(v >> (8 * (size - 1 - i)));
		put8(b, i == 0 ? (uint8_t)(byte | prefix[size]) : byte);
	}
}

static void put_varint(struct buf *b, uint64_t v)
{
	put_varint_n(b, v, 0);
}

static void put_crypto(struct buf *b, uint64_t offset, const void *data, size_t len)
{
	put8(b, 0x06);
	put_varint(b, offset);
	put_varint(b, len);
	put_mem(b, data, len);
}

/* Feeds from a heap copy of exactly `len` bytes. */
static enum quic_end feed(struct quic_reader *r, const uint8_t *data, size_t len,
			  struct tls_hello *out)
{
	uint8_t *copy = NULL;
	if (len > 0) {
		copy = malloc(len);
		assert_non_null(copy);
		memcpy(copy, data, len);
	}
	enum quic_end end = quic_reader_feed(r, copy, len, out);
	free(copy);
	return end;
}

static enum quic_end feed_buf(struct quic_reader *r, const struct buf *b, struct tls_hello *out)
{
	return feed(r, b->data, b->len, out);
}

/* The bound on what a reader holds: the buffer and its bitmap. */
static const size_t HELD_MAX = TLS_HANDSHAKE_MAX + TLS_HANDSHAKE_MAX / 8;

/* ---- keys, derived independently of the reader -------------------------- */

static const uint8_t SALT_V1[20] = {
	0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
	0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a,
};
static const uint8_t SALT_V2[20] = {
	0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
	0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9,
};

static void pkey_hkdf(int mode, const uint8_t *salt, size_t salt_len, const uint8_t *key,
		      size_t key_len, const uint8_t *info, size_t info_len, uint8_t *out,
		      size_t out_len)
{
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
	assert_non_null(ctx);
	uint8_t empty = 0;
	assert_int_equal(EVP_PKEY_derive_init(ctx), 1);
	assert_int_equal(EVP_PKEY_CTX_set_hkdf_md(ctx, EVP_sha256()), 1);
	assert_int_equal(EVP_PKEY_CTX_set_hkdf_mode(ctx, mode), 1);
	assert_int_equal(EVP_PKEY_CTX_set1_hkdf_key(ctx, key_len ? key : &empty, (int)key_len), 1);
	if (salt)
		assert_int_equal(EVP_PKEY_CTX_set1_hkdf_salt(ctx, salt, (int)salt_len), 1);
	if (info)
		assert_int_equal(EVP_PKEY_CTX_add1_hkdf_info(ctx, info, (int)info_len), 1);
	size_t len = out_len;
	assert_int_equal(EVP_PKEY_derive(ctx, out, &len), 1);
	assert_int_equal(len, out_len);
	EVP_PKEY_CTX_free(ctx);
}

static void expand_label(const uint8_t secret[32], const char *label, uint8_t *out, size_t len)
{
	uint8_t info[64];
	size_t n = 0, label_len = strlen(label);
	info[n++] = (uint8_t)(len >> 8);
	info[n++] = (uint8_t)len;
	info[n++] = (uint8_t)(6 + label_len);
	memcpy(info + n, "tls13 ", 6);
	n += 6;
	memcpy(info + n, label, label_len);
	n += label_len;
	info[n++] = 0;
	pkey_hkdf(EVP_PKEY_HKDEF_MODE_EXPAND_ONLY, NULL, 0, secret, 32, info, n, out, len);
}

/* RFC 9001 5.2 and 5.1, RFC 9369 3.3: v1 or v2 only. */
static void derive_client_keys(int v2, const uint8_t *dcid, size_t dcid_len,
			       struct quic_initial_keys *keys, uint8_t initial_out[32],
			       uint8_t client_out[32])
{
	uint8_t initial[32], client[32];
	pkey_hkdf(EVP_PKEY_HKDEF_MODE_EXTRACT_ONLY, v2 ? SALT_V2 : SALT_V1, 20, dcid, dcid_len,
		  NULL, 0, initial, 32);
	expand_label(initial, "client in", client, 32);
	memset(keys, 0, sizeof *keys);
	keys->version = v2 ? QUIC_VERSION_2 : QUIC_VERSION_1;
	expand_label(client, v2 ? "quicv2 key" : "quic key", keys->key, 16);
	expand_label(client, v2 ? "quicv2 iv" : "quic iv", keys->iv, 12);
	expand_label(client, v2 ? "quicv2 hp" : "quic hp", keys->hp, 16);
	keys->dcid_len = (uint8_t)dcid_len;
	memcpy(keys->dcid, dcid, dcid_len);
	keys->valid = 1;
	if (initial_out)
		memcpy(initial_out, initial, 32);
	if (client_out)
		memcpy(client_out, client, 32);
}

static void aes_ecb(const uint8_t key[16], const uint8_t in[16], uint8_t out[16])
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n = 0;
	assert_non_null(ctx);
	assert_int_equal(EVP_EncryptInit_ex(ctx, EVP_aes_128_ecb(), NULL, key, NULL), 1);
	EVP_CIPHER_CTX_set_padding(ctx, 0);
	assert_int_equal(EVP_EncryptUpdate(ctx, out, &n, in, 16), 1);
	assert_int_equal(n, 16);
	EVP_CIPHER_CTX_free(ctx);
}

/* AES-128-GCM seal or open in place; returns 1, or 0 when a tag does not hold. */
static int aes_gcm(int seal, const uint8_t key[16], const uint8_t nonce[12], const uint8_t *aad,
		   size_t aad_len, uint8_t *data, size_t len, uint8_t tag[16])
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n = 0, ok;
	assert_non_null(ctx);
	assert_int_equal(EVP_CipherInit_ex(ctx, EVP_aes_128_gcm(), NULL, key, nonce, seal), 1);
	assert_int_equal(EVP_CipherUpdate(ctx, NULL, &n, aad, (int)aad_len), 1);
	if (len > 0)
		assert_int_equal(EVP_CipherUpdate(ctx, data, &n, data, (int)len), 1);
	if (!seal)
		assert_int_equal(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, tag), 1);
	ok = EVP_CipherFinal_ex(ctx, data + len, &n) == 1;
	if (seal && ok)
		assert_int_equal(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, tag), 1);
	EVP_CIPHER_CTX_free(ctx);
	return ok;
}

/* ---- building Initial packets ------------------------------------------- */

static const uint8_t RFC_DCID[8] = { 0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08 };

struct packet_spec {
	uint32_t version;
	const uint8_t *dcid;
	size_t dcid_len;
	const uint8_t *scid;
	size_t scid_len;
	const uint8_t *token;
	size_t token_len;
	uint64_t pn;
	size_t pn_len;                          /* 1 to 4; 0 means 4 */
	int type;                               /* long header type bits; -1: Initial */
	const struct quic_initial_keys *keys;   /* NULL: quic_initial_keys_derive(version, dcid) */
	size_t length_size;                     /* bytes of the Length varint; 0 means 2 */
	uint8_t mask_out[5];                    /* the header protection mask used */
};

static int is_v2(uint32_t version)
{
	return version == QUIC_VERSION_2;
}

/*
 * Appends one protected long header packet (RFC 9001 5): the header, the
 * payload sealed with AEAD_AES_128_GCM, then header protection.
 */
static void put_packet(struct buf *b, struct packet_spec *s, const uint8_t *payload, size_t len)
{
	struct quic_initial_keys derived;
	const struct quic_initial_keys *keys = s->keys;
	if (!keys) {
		assert_int_equal(quic_initial_keys_derive(s->version, s->dcid, s->dcid_len, &derived), 0);
		keys = &derived;
	}
	size_t pn_len = s->pn_len ? s->pn_len : 4;
	int type = s->type >= 0 ? s->type : is_v2(s->version) ? 1 : 0;
	size_t start = b->len;
	put8(b, (uint8_t)(0xc0 | type << 4 | (pn_len - 1)));
	put32(b, s->version);
	put8(b, (uint8_t)s->dcid_len);
	put_mem(b, s->dcid, s->dcid_len);
	put8(b, (uint8_t)s->scid_len);
	put_mem(b, s->scid, s->scid_len);
	if (type == (is_v2(s->version) ? 1 : 0)) {
		put_varint(b, s->token_len);
		put_mem(b, s->token, s->token_len);
	}
	put_varint_n(b, pn_len + len + 16, s->length_size ? s->length_size : 2);
	size_t pn_offset = b->len;
	for (size_t i = 0; i < pn_len; i++)
		put8(b, (uint8_t)(s->pn >> (8 * (pn_len - 1 - i))));
	size_t header_len = b->len - start;
	put_mem(b, payload, len);
	uint8_t nonce[12], tag[16];
	memcpy(nonce, keys->iv, 12);
	for (int i = 0; i < 8; i++)
		nonce[11 - i] ^= (uint8_t)(s->pn >> (8 * i));
	assert_true(aes_gcm(1, keys->key, nonce, b->data + start, header_len, b->data + start + header_len,
			    len, tag));
	put_mem(b, tag, 16);
	uint8_t mask[16];
	assert_true(b->len >= pn_offset + 4 + 16);
	aes_ecb(keys->hp, b->data + pn_offset + 4, mask);
	b->data[start] ^= mask[0] & 0x0f;
	for (size_t i = 0; i < pn_len; i++)
		b->data[pn_offset + i] ^= mask[1 + i];
	memcpy(s->mask_out, mask, 5);
}

/* An Initial of `version` to the RFC's DCID with packet number `pn`. */
static void put_initial(struct buf *b, uint32_t version, uint64_t pn, const uint8_t *payload,
			size_t len)
{
	struct packet_spec s = { .version = version, .dcid = RFC_DCID, .dcid_len = 8, .pn = pn,
				 .type = -1 };
	put_packet(b, &s, payload, len);
}

/*
 * A ClientHello for `sni`, with a padding extension (21) of `padding` bytes
 * to make it as long as a test needs.
 */
static void put_client_hello(struct buf *b, const char *sni, size_t padding)
{
	size_t sni_len = strlen(sni);
	size_t extensions = (4 + 2 + 3 + sni_len) + (4 + padding) + (4 + 3);
	size_t body = 2 + 32 + 1 + 2 + 2 + 2 + 2 + extensions;
	put8(b, TLS_HANDSHAKE_CLIENT_HELLO);
	put8(b, (uint8_t)(body >> 16));
	put16(b, (uint16_t)body);
	put16(b, 0x0303);
	put_fill(b, 0x11, 32);
	put8(b, 0);
	put16(b, 2);
	put16(b, 0x1301);
	put8(b, 1);
	put8(b, 0);
	put16(b, (uint16_t)extensions);
	put16(b, TLS_EXT_SERVER_NAME);
	put16(b, (uint16_t)(2 + 3 + sni_len));
	put16(b, (uint16_t)(3 + sni_len));
	put8(b, 0);
	put16(b, (uint16_t)sni_len);
	put_mem(b, sni, sni_len);
	put16(b, 21);
	put16(b, (uint16_t)padding);
	put_zeros(b, padding);
	put16(b, TLS_EXT_SUPPORTED_VERSIONS);
	put16(b, 3);
	put8(b, 2);
	put16(b, 0x0304);
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

/* After an outcome: sticky, *out untouched, nothing held. */
static void check_sticky(struct quic_reader *r, enum quic_end end)
{
	struct tls_hello h;
	poison(&h);
	uint8_t byte = 0xc0;
	assert_int_equal(feed(r, &byte, 1, &h), end);
	assert_int_equal(feed(r, NULL, 0, &h), end);
	assert_true(is_poisoned(&h));
	assert_int_equal(quic_reader_held(r), 0);
	assert_null(r->buffer);
}

/* ---- RFC 9001 Appendix A ------------------------------------------------- */

/* RFC 9001 A.2: the CRYPTO frame of the client Initial (PADDING follows, to 1162 bytes). */
static const char RFC9001_CRYPTO[] =
	"060040f1010000ed0303ebf8fa56f129 39b9584a3896472ec40bb863cfd3e868"
	"04fe3a47f06a2b69484c000004130113 02010000c000000010000e00000b6578"
	"616d706c652e636f6dff01000100000a 00080006001d00170018001000070005"
	"04616c706e0005000501000000000033 00260024001d00209370b2c9caa47fba"
	"baf4559fedba753de171fa71f50f1ce1 5d43e994ec74d748002b000302030400"
	"0d0010000e0403050306030203080408 050806002d00020101001c0002400100"
	"3900320408ffffffffffffffff050480 00ffff07048000ffff08011001048000"
	"75300901100f088394c8f03e51570806 048000ffff";

/* RFC 9001 A.2: the protected client Initial, 1200 bytes. */
static const char RFC9001_PACKET[] =
	"c000000001088394c8f03e5157080000 449e7b9aec34d1b1c98dd7689fb8ec11"
	"d242b123dc9bd8bab936b47d92ec356c 0bab7df5976d27cd449f63300099f399"
	"1c260ec4c60d17b31f8429157bb35a12 82a643a8d2262cad67500cadb8e7378c"
	"8eb7539ec4d4905fed1bee1fc8aafba1 7c750e2c7ace01e6005f80fcb7df6212"
	"30c83711b39343fa028cea7f7fb5ff89 eac2308249a02252155e2347b63d58c5"
	"457afd84d05dfffdb20392844ae81215 4682e9cf012f9021a6f0be17ddd0c208"
	"4dce25ff9b06cde535d0f920a2db1bf3 62c23e596d11a4f5a6cf3948838a3aec"
	"4e15daf8500a6ef69ec4e3feb6b1d98e 610ac8b7ec3faf6ad760b7bad1db4ba3"
	"485e8a94dc250ae3fdb41ed15fb6a8e5 eba0fc3dd60bc8e30c5c4287e53805db"
	"059ae0648db2f64264ed5e39be2e20d8 2df566da8dd5998ccabdae053060ae6c"
	"7b4378e846d29f37ed7b4ea9ec5d82e7 961b7f25a9323851f681d582363aa5f8"
	"9937f5a67258bf63ad6f1a0b1d96dbd4 faddfcefc5266ba6611722395c906556"
	"be52afe3f565636ad1b17d508b73d874 3eeb524be22b3dcbc2c7468d54119c74"
	"68449a13d8e3b95811a198f3491de3e7 fe942b330407abf82a4ed7c1b311663a"
	"c69890f4157015853d91e923037c227a 33cdd5ec281ca3f79c44546b9d90ca00"
	"f064c99e3dd97911d39fe9c5d0b23a22 9a234cb36186c4819e8b9c5927726632"
	"291d6a418211cc2962e20fe47feb3edf 330f2c603a9d48c0fcb5699dbfe58964"
	"25c5bac4aee82e57a85aaf4e2513e4f0 5796b07ba2ee47d80506f8d2c25e50fd"
	"14de71e6c418559302f939b0e1abd576 f279c4b2e0feb85c1f28ff18f58891ff"
	"ef132eef2fa09346aee33c28eb130ff2 8f5b766953334113211996d20011a198"
	"e3fc433f9f2541010ae17c1bf202580f 6047472fb36857fe843b19f5984009dd"
	"c324044e847a4f4a0ab34f719595de37 252d6235365e9b84392b061085349d73"
	"203a4a13e96f5432ec0fd4a1ee65accd d5e3904df54c1da510b0ff20dcc0c77f"
	"cb2c0e0eb605cb0504db87632cf3d8b4 dae6e705769d1de354270123cb11450e"
	"fc60ac47683d7b8d0f811365565fd98c 4c8eb936bcab8d069fc33bd801b03ade"
	"a2e1fbc5aa463d08ca19896d2bf59a07 1b851e6c239052172f296bfb5e724047"
	"90a2181014f3b94a4e97d117b4381303 68cc39dbb2d198065ae3986547926cd2"
	"162f40a29f0c3c8745c0f50fba3852e5 66d44575c29d39a03f0cda721984b6f4"
	"40591f355e12d439ff150aab7613499d bd49adabc8676eef023b15b65bfc5ca0"
	"6948109f23f350db82123535eb8a7433 bdabcb909271a6ecbcb58b936a88cd4e"
	"8f2e6ff5800175f113253d8fa9ca8885 c2f552e657dc603f252e1a8e308f76f0"
	"be79e2fb8f5d5fbbe2e30ecadd220723 c8c0aea8078cdfcb3868263ff8f09400"
	"54da48781893a7e49ad5aff4af300cd8 04a6b6279ab3ff3afb64491c85194aab"
	"760d58a606654f9f4400e8b38591356f bf6425aca26dc85244259ff2b19c41b9"
	"f96f3ca9ec1dde434da7d2d392b905dd f3d1f9af93d1af5950bd493f5aa731b4"
	"056df31bd267b6b90a079831aaf579be 0a39013137aac6d404f518cfd4684064"
	"7e78bfe706ca4cf5e9c5453e9f7cfd2b 8b4c8d169a44e55c88d4a9a7f9474241"
	"e221af44860018ab0856972e194cd934";

/* RFC 9001 A.3: the server's Initial, protected with the server's keys. */
static const char RFC9001_SERVER_PACKET[] =
	"cf000000010008f067a5502a4262b500 4075c0d95a482cd0991cd25b0aac406a"
	"5816b6394100f37a1c69797554780bb3 8cc5a99f5ede4cf73c3ec2493a1839b3"
	"dbcba3f6ea46c5b7684df3548e7ddeb9 c3bf9c73cc3f3bded74b562bfb19fb84"
	"022f8ef4cdd93795d77d06edbb7aaf2f 58891850abbdca3d20398c276456cbc4"
	"2158407dd074ee";

/* RFC 9369 A.2: the protected client Initial of QUIC version 2, 1200 bytes. */
static const char RFC9369_PACKET[] =
	"d76b3343cf088394c8f03e5157080000 449ea0c95e82ffe67b6abcdb4298b485"
	"dd04de806071bf03dceebfa162e75d6c 96058bdbfb127cdfcbf903388e99ad04"
	"9f9a3dd4425ae4d0992cfff18ecf0fdb 5a842d09747052f17ac2053d21f57c5d"
	"250f2c4f0e0202b70785b7946e992e58 a59ac52dea6774d4f03b55545243cf1a"
	"12834e3f249a78d395e0d18f4d766004 f1a2674802a747eaa901c3f10cda5500"
	"cb9122faa9f1df66c392079a1b40f0de 1c6054196a11cbea40afb6ef5253cd68"
	"18f6625efce3b6def6ba7e4b37a40f77 32e093daa7d52190935b8da58976ff33"
	"12ae50b187c1433c0f028edcc4c2838b 6a9bfc226ca4b4530e7a4ccee1bfa2a3"
	"d396ae5a3fb512384b2fdd851f784a65 e03f2c4fbe11a53c7777c023462239dd"
	"6f7521a3f6c7d5dd3ec9b3f233773d4b 46d23cc375eb198c63301c21801f6520"
	"bcfb7966fc49b393f0061d974a2706df 8c4a9449f11d7f3d2dcbb90c6b877045"
	"636e7c0c0fe4eb0f697545460c806910 d2c355f1d253bc9d2452aaa549e27a1f"
	"ac7cf4ed77f322e8fa894b6a83810a34 b361901751a6f5eb65a0326e07de7c12"
	"16ccce2d0193f958bb3850a833f7ae43 2b65bc5a53975c155aa4bcb4f7b2c4e5"
	"4df16efaf6ddea94e2c50b4cd1dfe060 17e0e9d02900cffe1935e0491d77ffb4"
	"fdf85290fdd893d577b1131a610ef6a5 c32b2ee0293617a37cbb08b847741c3b"
	"8017c25ca9052ca1079d8b78aebd4787 6d330a30f6a8c6d61dd1ab5589329de7"
	"14d19d61370f8149748c72f132f0fc99 f34d766c6938597040d8f9e2bb522ff9"
	"9c63a344d6a2ae8aa8e51b7b90a4a806 105fcbca31506c446151adfeceb51b91"
	"abfe43960977c87471cf9ad4074d30e1 0d6a7f03c63bd5d4317f68ff325ba3bd"
	"80bf4dc8b52a0ba031758022eb025cdd 770b44d6d6cf0670f4e990b22347a7db"
	"848265e3e5eb72dfe8299ad7481a4083 22cac55786e52f633b2fb6b614eaed18"
	"d703dd84045a274ae8bfa73379661388 d6991fe39b0d93debb41700b41f90a15"
	"c4d526250235ddcd6776fc77bc97e7a4 17ebcb31600d01e57f32162a8560cacc"
	"7e27a096d37a1a86952ec71bd89a3e9a 30a2a26162984d7740f81193e8238e61"
	"f6b5b984d4d3dfa033c1bb7e4f0037fe bf406d91c0dccf32acf423cfa1e70710"
	"10d3f270121b493ce85054ef58bada42 310138fe081adb04e2bd901f2f13458b"
	"3d6758158197107c14ebb193230cd115 7380aa79cae1374a7c1e5bbcb80ee23e"
	"06ebfde206bfb0fcbc0edc4ebec30966 1bdd908d532eb0c6adc38b7ca7331dce"
	"8dfce39ab71e7c32d318d136b6100671 a1ae6a6600e3899f31f0eed19e3417d1"
	"34b90c9058f8632c798d4490da498730 7cba922d61c39805d072b589bd52fdf1"
	"e86215c2d54e6670e07383a27bbffb5a ddf47d66aa85a0c6f9f32e59d85a44dd"
	"5d3b22dc2be80919b490437ae4f36a0a e55edf1d0b5cb4e9a3ecabee93dfc6e3"
	"8d209d0fa6536d27a5d6fbb17641cde2 7525d61093f1b28072d111b2b4ae5f89"
	"d5974ee12e5cf7d5da4d6a31123041f3 3e61407e76cffcdcfd7e19ba58cf4b53"
	"6f4c4938ae79324dc402894b44faf8af bab35282ab659d13c93f70412e85cb19"
	"9a37ddec600545473cfb5a05e08d0b20 9973b2172b4d21fb69745a262ccde96b"
	"a18b2faa745b6fe189cf772a9f84cbfc";

/* The A.2 payload: the CRYPTO frame, then PADDING to 1162 bytes. */
static void rfc_payload(struct buf *b)
{
	hex_to_buf(b, RFC9001_CRYPTO);
	put_zeros(b, 1162 - b->len);
}

static void check_rfc_hello(const struct tls_hello *h)
{
	assert_string_equal(h->sni, "example.com");
	assert_true(h->has_sni);
	assert_string_equal(h->alpn, "alpn");
	assert_int_equal(h->version_count, 1);
	assert_int_equal(h->versions[0], 0x0304);
	assert_int_equal(h->legacy_version, 0x0303);
	assert_false(h->is_server);
}

static void assert_hex_equal(const uint8_t *got, size_t len, const char *hex)
{
	struct buf want = { .len = 0 };
	put_hex(&want, hex);
	assert_int_equal(want.len, len);
	assert_memory_equal(got, want.data, len);
}

/* RFC 9001 A.1: the keys, from our derivation and from the reader's. */
static void test_rfc9001_keys(void **state)
{
	(void)state;
	struct quic_initial_keys mine, reader;
	uint8_t initial[32], client[32];
	derive_client_keys(0, RFC_DCID, 8, &mine, initial, client);
	assert_hex_equal(initial, 32, "7db5df06e7a69e432496adedb0085192"
				      "3595221596ae2ae9fb8115c1e9ed0a44");
	assert_hex_equal(client, 32, "c00cf151ca5be075ed0ebfb5c80323c4"
				     "2d6b7db67881289af4008f1f6c357aea");
	assert_hex_equal(mine.key, 16, "1f369613dd76d5467730efcbe3b1a22d");
	assert_hex_equal(mine.iv, 12, "fa044b2f42a3fd3b46fb255c");
	assert_hex_equal(mine.hp, 16, "9f50449e04a0e810283a1e9933adedd2");
	assert_int_equal(quic_initial_keys_derive(QUIC_VERSION_1, RFC_DCID, 8, &reader), 0);
	assert_memory_equal(reader.key, mine.key, 16);
	assert_memory_equal(reader.iv, mine.iv, 12);
	assert_memory_equal(reader.hp, mine.hp, 16);
	assert_int_equal(reader.dcid_len, 8);
	assert_int_equal(quic_initial_keys_derive(0x0a0a0a0a, RFC_DCID, 8, &reader), -1);
	assert_int_equal(quic_initial_keys_derive(QUIC_VERSION_1, RFC_DCID, 21, &reader), -1);
}

/*
 * RFC 9001 A.2: header protection and the protected packet, built here from
 * the unprotected header and payload; the payload, opened here; then the
 * reader on the RFC's packet.
 */
static void test_rfc9001_client_initial(void **state)
{
	(void)state;
	static struct buf payload, built, rfc, opened;
	rfc_payload(&payload);
	built.len = 0;
	struct quic_initial_keys keys;
	derive_client_keys(0, RFC_DCID, 8, &keys, NULL, NULL);
	struct packet_spec s = { .version = QUIC_VERSION_1, .dcid = RFC_DCID, .dcid_len = 8,
				 .pn = 2, .pn_len = 4, .type = -1, .keys = &keys };
	put_packet(&built, &s, payload.data, payload.len);
	hex_to_buf(&rfc, RFC9001_PACKET);
	assert_int_equal(rfc.len, 1200);
	/* A.2: the unprotected header, the sample, the mask, the protected header. */
	assert_hex_equal(built.data + 22, 16, "d1b1c98dd7689fb8ec11d242b123dc9b");
	assert_hex_equal(s.mask_out, 5, "437b9aec36");
	assert_hex_equal(built.data, 22, "c000000001088394c8f03e5157080000449e7b9aec34");
	assert_int_equal(built.len, 1200);
	assert_memory_equal(built.data, rfc.data, 1200);

	/* The payload, opened here: the CRYPTO frame and the padding. */
	opened.len = 0;
	put_mem(&opened, rfc.data + 22, 1200 - 22 - 16);
	uint8_t header[22], nonce[12], tag[16];
	hex_to_buf(&built, "c300000001088394c8f03e5157080000449e00000002");
	memcpy(header, built.data, 22);
	memcpy(nonce, keys.iv, 12);
	nonce[11] ^= 2;
	memcpy(tag, rfc.data + 1200 - 16, 16);
	assert_true(aes_gcm(0, keys.key, nonce, header, 22, opened.data, opened.len, tag));
	assert_int_equal(opened.len, payload.len);
	assert_memory_equal(opened.data, payload.data, payload.len);

	/* The reader, on the RFC's packet. */
	struct quic_reader r;
	struct tls_hello h;
	assert_int_equal(quic_looks_like_initial(rfc.data, rfc.len), 1);
	quic_reader_init(&r);
	assert_int_equal(feed_buf(&r, &rfc, &h), QUIC_DONE);
	check_rfc_hello(&h);
	assert_int_equal(quic_reader_version(&r), QUIC_VERSION_1);
	assert_false(quic_reader_is_gquic(&r));
	check_sticky(&r, QUIC_DONE);
	quic_reader_free(&r);
}

/* RFC 9001 A.3: the server's Initial is not protected with the client's keys. */
static void test_rfc9001_server_initial(void **state)
{
	(void)state;
	static struct buf server;
	hex_to_buf(&server, RFC9001_SERVER_PACKET);
	struct quic_reader r;
	struct tls_hello h;
	poison(&h);
	quic_reader_init(&r);
	assert_int_equal(feed_buf(&r, &server, &h), QUIC_END_DECRYPT_FAILED);
	assert_true(is_poisoned(&h));
	check_sticky(&r, QUIC_END_DECRYPT_FAILED);
	quic_reader_free(&r);
}

/* RFC 9369 A.1 and A.2: version 2 keys, packet type bits and packet. */
static void test_rfc9369_client_initial(void **state)
{
	(void)state;
	static struct buf payload, built, rfc;
	struct quic_initial_keys mine, reader;
	uint8_t initial[32], client[32];
	derive_client_keys(1, RFC_DCID, 8, &mine, initial, client);
	assert_hex_equal(initial, 32, "2062e8b3cd8d52092614b8071d0aa1fb"
				      "7c2e3ac193f78b280e72d8f5751f6aba");
	assert_hex_equal(client, 32, "14ec9d6eb9fd7af83bf5a668bc17a7e2"
				     "83766aade7ecd0891f70f9ff7f4bf47b");
	assert_hex_equal(mine.key, 16, "8b1a0bc121284290a29e0971b5cd045d");
	assert_hex_equal(mine.iv, 12, "91f73e2351d8fa91660e909f");
	assert_hex_equal(mine.hp, 16, "45b95e15235d6f45a6b19cbcb0294ba9");
	assert_int_equal(quic_initial_keys_derive(QUIC_VERSION_2, RFC_DCID, 8, &reader), 0);
	assert_memory_equal(reader.key, mine.key, 16);
	assert_memory_equal(reader.iv, mine.iv, 12);
	assert_memory_equal(reader.hp, mine.hp, 16);

	rfc_payload(&payload);
	built.len = 0;
	struct packet_spec s = { .version = QUIC_VERSION_2, .dcid = RFC_DCID, .dcid_len = 8,
				 .pn = 2, .pn_len = 4, .type = -1, .keys = &mine };
	put_packet(&built, &s, payload.data, payload.len);
	assert_hex_equal(built.data + 22, 16, "ffe67b6abcdb4298b485dd04de806071");
	assert_hex_equal(s.mask_out, 5, "94a0c95e80");
	assert_hex_equal(built.data, 22, "d76b3343cf088394c8f03e5157080000449ea0c95e82");
	hex_to_buf(&rfc, RFC9369_PACKET);
	assert_int_equal(rfc.len, 1200);
	assert_int_equal(built.len, 1200);
	assert_memory_equal(built.data, rfc.data, 1200);

	struct quic_reader r;
	struct tls_hello h;
	assert_int_equal(quic_looks_like_initial(rfc.data, rfc.len), 1);
	quic_reader_init(&r);
	assert_int_equal(feed_buf(&r, &rfc, &h), QUIC_DONE);
	check_rfc_hello(&h);
	assert_int_equal(quic_reader_version(&r), QUIC_VERSION_2);
	quic_reader_free(&r);

	/* In version 2 the v1 Initial type bits (0b00) are a Retry: not read. */
	built.len = 0;
	s.type = 0;
	put_packet(&built, &s, payload.data, payload.len);
	quic_reader_init(&r);
	assert_int_equal(feed_buf(&r, &built, &h), QUIC_MORE);
	quic_reader_free(&r);
}

/* ---- edge cases ------------------------------------------------------------ */

static void test_empty_datagrams(void **state)
{
	(void)state;
	struct quic_reader r;
	struct tls_hello h;
	poison(&h);
	quic_reader_init(&r);
	assert_int_equal(quic_reader_feed(&r, NULL, 0, &h), QUIC_MORE);
	assert_int_equal(quic_reader_feed(&r, NULL, 0, &h), QUIC_MORE);
	assert_int_equal(quic_reader_held(&r), 0);
	assert_true(is_poisoned(&h));
	/* Empty datagrams still count towards QUIC_DATAGRAMS_MAX. */
	for (int i = 2; i < QUIC_DATAGRAMS_MAX - 1; i++)
		assert_int_equal(quic_reader_feed(&r, NULL, 0, &h), QUIC_MORE);
	assert_int_equal(quic_reader_feed(&r, NULL, 0, &h), QUIC_END_NO_HELLO);
	check_sticky(&r, QUIC_END_NO_HELLO);
	quic_reader_free(&r);
	assert_int_equal(quic_looks_like_initial(NULL, 0), 0);
}

/* Every cut of the RFC packet: no crash, no DONE, *out untouched. */
static void test_truncations(void **state)
{
	(void)state;
	static struct buf rfc;
	hex_to_buf(&rfc, RFC9001_PACKET);
	for (size_t cut = 0; cut < rfc.len; cut++) {
		struct quic_reader r;
		struct tls_hello h;
		poison(&h);
		quic_reader_init(&r);
		enum quic_end end = feed(&r, rfc.data, cut, &h);
		if (cut == 0)
			assert_int_equal(end, QUIC_MORE);
		else if (cut < 5)
			assert_int_equal(end, QUIC_END_NOT_QUIC);
		else
			assert_int_equal(end, QUIC_END_BAD_PACKET);
		assert_true(is_poisoned(&h));
		assert_int_equal(quic_reader_held(&r), 0);
		quic_reader_free(&r);
	}
}

/* Cuts of the second of two Initials that carry one ClientHello. */
static void test_truncations_second_packet(void **state)
{
	(void)state;
	static struct buf hello, first_payload, second_payload, first, second;
	hello.len = 0;
	put_client_hello(&hello, "split.example", 1500);
	size_t half = hello.len / 2;
	first_payload.len = second_payload.len = first.len = second.len = 0;
	put_crypto(&first_payload, 0, hello.data, half);
	put_crypto(&second_payload, half, hello.data + half, hello.len - half);
	put_initial(&first, QUIC_VERSION_1, 0, first_payload.data, first_payload.len);
	put_initial(&second, QUIC_VERSION_1, 1, second_payload.data, second_payload.len);
	for (size_t cut = 0; cut <= second.len; cut++) {
		struct quic_reader r;
		struct tls_hello h;
		quic_reader_init(&r);
		assert_int_equal(feed_buf(&r, &first, &h), QUIC_MORE);
		poison(&h);
		enum quic_end end = feed(&r, second.data, cut, &h);
		if (cut == second.len) {
			assert_int_equal(end, QUIC_DONE);
			assert_string_equal(h.sni, "split.example");
		} else {
			assert_int_equal(end, cut == 0 ? QUIC_MORE : QUIC_END_BAD_PACKET);
			assert_true(is_poisoned(&h));
		}
		quic_reader_free(&r);
	}
}

/* A ClientHello in two CRYPTO frames in two packets, fed in both orders. */
static void test_crypto_split_both_orders(void **state)
{
	(void)state;
	static struct buf hello, p1, p2, d1, d2;
	hello.len = p1.len = p2.len = d1.len = d2.len = 0;
	put_client_hello(&hello, "two.example", 1800);
	size_t cut = 1000;
	put_crypto(&p1, 0, hello.data, cut);
	put_crypto(&p2, cut, hello.data + cut, hello.len - cut);
	put_initial(&d1, QUIC_VERSION_1, 0, p1.data, p1.len);
	put_initial(&d2, QUIC_VERSION_1, 1, p2.data, p2.len);
	for (int order = 0; order < 2; order++) {
		struct quic_reader r;
		struct tls_hello h;
		quic_reader_init(&r);
		assert_int_equal(feed_buf(&r, order ? &d2 : &d1, &h), QUIC_MORE);
		assert_true(quic_reader_held(&r) > 0);
		assert_true(quic_reader_held(&r) <= hello.len + hello.len / 8 + 1);
		assert_int_equal(feed_buf(&r, order ? &d1 : &d2, &h), QUIC_DONE);
		assert_string_equal(h.sni, "two.example");
		assert_int_equal(h.version_count, 1);
		assert_int_equal(quic_reader_held(&r), 0);
		quic_reader_free(&r);
	}
}

/*
 * Overlapping CRYPTO frames, out of order, in one packet; where copies
 * disagree the first wins (a later one is not allowed to rewrite it).
 */
static void test_crypto_overlaps(void **state)
{
	(void)state;
	static struct buf hello, payload, datagram, garbage;
	hello.len = payload.len = datagram.len = garbage.len = 0;
	put_client_hello(&hello, "overlap.example", 300);
	size_t n = hello.len;
	/* Tail first, then a middle overlapping both, then the head overlapping the middle. */
	put_crypto(&payload, 200, hello.data + 200, n - 200);
	put_crypto(&payload, 100, hello.data + 100, 150);
	put_crypto(&payload, 0, hello.data, 120);
	/* Then a copy of the name that disagrees: too late, ignored. */
	put_fill(&garbage, 'X', n);
	put_crypto(&payload, 0, garbage.data, n);
	put_initial(&datagram, QUIC_VERSION_1, 0, payload.data, payload.len);
	struct quic_reader r;
	struct tls_hello h;
	quic_reader_init(&r);
	assert_int_equal(feed_buf(&r, &datagram, &h), QUIC_DONE);
	assert_string_equal(h.sni, "overlap.example");
	quic_reader_free(&r);

	/* The disagreeing copy first: it is what the reader keeps, and it is no hello. */
	payload.len = datagram.len = 0;
	put_crypto(&payload, 50, garbage.data, 30);
	put_crypto(&payload, 0, hello.data, n);
	put_initial(&datagram, QUIC_VERSION_1, 0, payload.data, payload.len);
	quic_reader_init(&r);
	enum quic_end end = feed_buf(&r, &datagram, &h);
	assert_true(end == QUIC_END_BAD_HELLO || (end == QUIC_DONE && strcmp(h.sni, "overlap.example")));
	quic_reader_free(&r);
}

/* CRYPTO data at the bound, and past it. */
static void test_crypto_bound(void **state)
{
	(void)state;
	static const struct {
		uint64_t offset;
		size_t len;
		enum quic_end end;
	} cases[] = {
		{ TLS_HANDSHAKE_MAX - 1, 1, QUIC_MORE },
		{ TLS_HANDSHAKE_MAX, 0, QUIC_MORE },
		{ TLS_HANDSHAKE_MAX, 1, QUIC_END_TOO_LONG },
		{ TLS_HANDSHAKE_MAX - 10, 11, QUIC_END_TOO_LONG },
		{ (uint64_t)1 << 40, 1, QUIC_END_TOO_LONG },
		{ ((uint64_t)1 << 62) - 1, 1, QUIC_END_TOO_LONG },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		static struct buf payload, datagram;
		payload.len = datagram.len = 0;
		static const uint8_t data[16] = { 0x42 };
		put_crypto(&payload, cases[i].offset, data, cases[i].len);
		put_zeros(&payload, 20);
		put_initial(&datagram, QUIC_VERSION_1, 0, payload.data, payload.len);
		struct quic_reader r;
		struct tls_hello h;
		poison(&h);
		quic_reader_init(&r);
		assert_int_equal(feed_buf(&r, &datagram, &h), cases[i].end);
		assert_true(quic_reader_held(&r) <= HELD_MAX);
		assert_true(is_poisoned(&h));
		quic_reader_free(&r);
	}

	/* A hello whose header says it is longer than the bound. */
	static struct buf payload, datagram;
	payload.len = datagram.len = 0;
	const uint8_t header[4] = { TLS_HANDSHAKE_CLIENT_HELLO, 0x01, 0x00, 0x00 };
	put_crypto(&payload, 0, header, 4);
	put_zeros(&payload, 20);
	put_initial(&datagram, QUIC_VERSION_1, 0, payload.data, payload.len);
	struct quic_reader r;
	struct tls_hello h;
	quic_reader_init(&r);
	assert_int_equal(feed_buf(&r, &datagram, &h), QUIC_END_TOO_LONG);
	quic_reader_free(&r);

	/* A first message that is not a ClientHello. */
	payload.len = datagram.len = 0;
	const uint8_t server_hello[4] = { TLS_HANDSHAKE_SERVER_HELLO, 0, 0, 40 };
	put_crypto(&payload, 0, server_hello, 4);
	put_zeros(&payload, 20);
	put_initial(&datagram, QUIC_VERSION_1, 0, payload.data, payload.len);
	quic_reader_init(&r);
	poison(&h);
	assert_int_equal(feed_buf(&r, &datagram, &h), QUIC_END_BAD_HELLO);
	assert_false(h.has_sni);
	assert_string_equal(h.sni, "");
	quic_reader_free(&r);
}

/* A flipped bit anywhere the AEAD covers: the tag, the payload, the header. */
static void test_bad_tag(void **state)
{
	(void)state;
	static struct buf rfc;
	static const size_t positions[] = { 1199, 1190, 600, 30, 22, 6 };
	for (size_t i = 0; i < sizeof positions / sizeof positions[0]; i++) {
		hex_to_buf(&rfc, RFC9001_PACKET);
		rfc.data[positions[i]] ^= 0x01;
		struct quic_reader r;
		struct tls_hello h;
		poison(&h);
		quic_reader_init(&r);
		assert_int_equal(feed_buf(&r, &rfc, &h), QUIC_END_DECRYPT_FAILED);
		assert_true(is_poisoned(&h));
		check_sticky(&r, QUIC_END_DECRYPT_FAILED);
		quic_reader_free(&r);
	}
}

/*
 * Coalesced packets (RFC 9000 12.2): two Initials, each with half of the
 * hello, then a 0-RTT packet and zero padding, in one datagram; and an
 * Initial behind a 0-RTT packet, which ends the datagram unread.
 */
static void test_coalesced(void **state)
{
	(void)state;
	static struct buf hello, p1, p2, datagram, zero_rtt;
	hello.len = p1.len = p2.len = datagram.len = zero_rtt.len = 0;
	put_client_hello(&hello, "coalesced.example", 200);
	size_t cut = 90;
	put_crypto(&p1, 0, hello.data, cut);
	put_crypto(&p2, cut, hello.data + cut, hello.len - cut);
	put_fill(&zero_rtt, 0x01, 40);
	struct packet_spec rtt = { .version = QUIC_VERSION_1, .dcid = RFC_DCID, .dcid_len = 8,
				   .pn = 0, .type = 1 };
	for (int layout = 0; layout < 2; layout++) {
		datagram.len = 0;
		put_initial(&datagram, QUIC_VERSION_1, 0, p1.data, p1.len);
		if (layout == 0) {
			put_initial(&datagram, QUIC_VERSION_1, 1, p2.data, p2.len);
			put_packet(&datagram, &rtt, zero_rtt.data, zero_rtt.len);
			put_zeros(&datagram, 100);
		} else {
			put_packet(&datagram, &rtt, zero_rtt.data, zero_rtt.len);
			put_initial(&datagram, QUIC_VERSION_1, 1, p2.data, p2.len);
		}
		struct quic_reader r;
		struct tls_hello h;
		quic_reader_init(&r);
		enum quic_end end = feed_buf(&r, &datagram, &h);
		if (layout == 0) {
			assert_int_equal(end, QUIC_DONE);
			assert_string_equal(h.sni, "coalesced.example");
		} else {
			assert_int_equal(end, QUIC_MORE);
		}
		quic_reader_free(&r);
	}

	/*
	 * After a good first packet, what does not make a packet ends the
	 * datagram, not the reader: bytes that are no header, a long header of
	 * another version or cut short, an Initial to another connection ID
	 * (RFC 9000 12.2: ignored). The second half of the hello then comes.
	 */
	static const uint8_t other_cid[8] = { 9, 9, 9, 9, 9, 9, 9, 9 };
	static struct buf d2;
	d2.len = 0;
	put_initial(&d2, QUIC_VERSION_1, 2, p2.data, p2.len);
	for (int junk = 0; junk < 5; junk++) {
		datagram.len = 0;
		put_initial(&datagram, QUIC_VERSION_1, 0, p1.data, p1.len);
		if (junk == 0) {
			put_fill(&datagram, 0xff, 50);
		} else if (junk == 1) {
			put8(&datagram, 0xc0);
			put32(&datagram, 0x0a0a0a0a);
			put_zeros(&datagram, 40);
		} else if (junk == 2) {
			put_hex(&datagram, "c0 00000001 08 0102");
		} else if (junk == 3) {
			put_hex(&datagram, "c0 00000000");
		} else {
			struct packet_spec s = { .version = QUIC_VERSION_1, .dcid = other_cid,
						 .dcid_len = 8, .pn = 1, .type = -1 };
			/* It would end the reader if read: CONNECTION_CLOSE. */
			put_packet(&datagram, &s, (const uint8_t *)"\x1c\x00\x00\x00", 4);
		}
		struct quic_reader r;
		struct tls_hello h;
		quic_reader_init(&r);
		assert_int_equal(feed_buf(&r, &datagram, &h), QUIC_MORE);
		assert_int_equal(feed_buf(&r, &d2, &h), QUIC_DONE);
		assert_string_equal(h.sni, "coalesced.example");
		quic_reader_free(&r);
	}
}

/* A 0-RTT packet before the Initial (it can overtake it) is skipped. */
static void test_zero_rtt_first(void **state)
{
	(void)state;
	static struct buf hello, payload, zero_rtt, initial;
	hello.len = payload.len = zero_rtt.len = initial.len = 0;
	put_client_hello(&hello, "early.example", 10);
	put_crypto(&payload, 0, hello.data, hello.len);
	put_initial(&initial, QUIC_VERSION_1, 0, payload.data, payload.len);
	uint8_t junk[40];
	memset(junk, 7, sizeof junk);
	struct packet_spec rtt = { .version = QUIC_VERSION_1, .dcid = RFC_DCID, .dcid_len = 8,
				   .pn = 0, .type = 1 };
	put_packet(&zero_rtt, &rtt, junk, sizeof junk);
	assert_int_equal(quic_looks_like_initial(zero_rtt.data, zero_rtt.len), 1);
	struct quic_reader r;
	struct tls_hello h;
	quic_reader_init(&r);
	assert_int_equal(feed_buf(&r, &zero_rtt, &h), QUIC_MORE);
	/* A short header packet: skipped as well. */
	uint8_t short_header[30] = { 0x40 };
	assert_int_equal(feed(&r, short_header, sizeof short_header, &h), QUIC_MORE);
	assert_int_equal(feed_buf(&r, &initial, &h), QUIC_DONE);
	assert_string_equal(h.sni, "early.example");
	quic_reader_free(&r);
}

/*
 * The client's second Initial goes to the server's connection ID but keeps
 * the first Initial's keys (RFC 9001 5.2); after a Retry, its keys come from
 * the new DCID (RFC 9000 17.2.5.2). Both read.
 */
static void test_dcid_changes(void **state)
{
	(void)state;
	static struct buf hello, p1, p2, d1, d2;
	static const uint8_t server_cid[5] = { 1, 2, 3, 4, 5 };
	hello.len = p1.len = p2.len = 0;
	put_client_hello(&hello, "moved.example", 1500);
	size_t cut = 800;
	put_crypto(&p1, 0, hello.data, cut);
	put_crypto(&p2, cut, hello.data + cut, hello.len - cut);
	struct quic_initial_keys first_keys;
	assert_int_equal(quic_initial_keys_derive(QUIC_VERSION_1, RFC_DCID, 8, &first_keys), 0);
	for (int retry = 0; retry < 2; retry++) {
		d1.len = d2.len = 0;
		put_initial(&d1, QUIC_VERSION_1, 0, p1.data, p1.len);
		struct packet_spec s = { .version = QUIC_VERSION_1, .dcid = server_cid, .dcid_len = 5,
					 .pn = 1, .type = -1, .keys = retry ? NULL : &first_keys };
		put_packet(&d2, &s, p2.data, p2.len);
		struct quic_reader r;
		struct tls_hello h;
		quic_reader_init(&r);
		assert_int_equal(feed_buf(&r, &d1, &h), QUIC_MORE);
		assert_int_equal(feed_buf(&r, &d2, &h), QUIC_DONE);
		assert_string_equal(h.sni, "moved.example");
		quic_reader_free(&r);
	}
}

/* Header fields out of range. */
static void test_bad_headers(void **state)
{
	(void)state;
	static struct buf payload, datagram;
	static const uint8_t long_cid[21] = { 0 };
	payload.len = 0;
	put_zeros(&payload, 30);
	struct quic_initial_keys keys;
	assert_int_equal(quic_initial_keys_derive(QUIC_VERSION_1, RFC_DCID, 8, &keys), 0);
	struct quic_reader r;
	struct tls_hello h;

	/* A DCID, then an SCID, of 21 bytes. */
	for (int which = 0; which < 2; which++) {
		datagram.len = 0;
		struct packet_spec s = { .version = QUIC_VERSION_1, .dcid = which ? RFC_DCID : long_cid,
					 .dcid_len = which ? 8 : 21, .scid = long_cid,
					 .scid_len = which ? 21 : 0, .type = -1, .keys = &keys };
		put_packet(&datagram, &s, payload.data, payload.len);
		quic_reader_init(&r);
		assert_int_equal(feed_buf(&r, &datagram, &h), QUIC_END_BAD_PACKET);
		quic_reader_free(&r);
	}

	/* A token longer than the datagram. */
	datagram.len = 0;
	put8(&datagram, 0xc3);
	put32(&datagram, QUIC_VERSION_1);
	put8(&datagram, 8);
	put_mem(&datagram, RFC_DCID, 8);
	put8(&datagram, 0);
	put_varint(&datagram, 5000);
	put_zeros(&datagram, 100);
	quic_reader_init(&r);
	assert_int_equal(feed_buf(&r, &datagram, &h), QUIC_END_BAD_PACKET);
	quic_reader_free(&r);

	/* A Length too short for the header protection sample (19 < 4 + 16). */
	datagram.len = 0;
	put8(&datagram, 0xc3);
	put32(&datagram, QUIC_VERSION_1);
	put8(&datagram, 8);
	put_mem(&datagram, RFC_DCID, 8);
	put8(&datagram, 0);
	put_varint(&datagram, 0);
	put_varint(&datagram, 19);
	put_zeros(&datagram, 19);
	quic_reader_init(&r);
	assert_int_equal(feed_buf(&r, &datagram, &h), QUIC_END_BAD_PACKET);
	quic_reader_free(&r);

	/* A Length past the end of the datagram, by one byte. */
	datagram.len = 0;
	put_initial(&datagram, QUIC_VERSION_1, 0, payload.data, payload.len);
	datagram.data[8 + 7 + 1 + 1] = (uint8_t)(datagram.data[8 + 7 + 1 + 1] + 1);
	quic_reader_init(&r);
	assert_int_equal(feed_buf(&r, &datagram, &h), QUIC_END_BAD_PACKET);
	quic_reader_free(&r);

	/* A long header cut inside its version. */
	uint8_t cut[4] = { 0xc0, 0, 0, 0 };
	quic_reader_init(&r);
	assert_int_equal(feed(&r, cut, sizeof cut, &h), QUIC_END_NOT_QUIC);
	quic_reader_free(&r);
}

/* Varints at the edges of their encodings, in CRYPTO and ACK frames. */
static void test_varints(void **state)
{
	(void)state;
	static struct buf hello, payload, datagram;
	hello.len = 0;
	put_client_hello(&hello, "varint.example", 20);
	const size_t sizes[4] = { 1, 2, 4, 8 };
	for (int i = 0; i < 4; i++) {
		payload.len = datagram.len = 0;
		/* ACK with the largest values there are, one range, ECN counts. */
		put8(&payload, 0x03);
		put_varint_n(&payload, ((uint64_t)1 << 62) - 1, 8);
		put_varint_n(&payload, 63, 1);
		put_varint_n(&payload, 1, sizes[i]);
		put_varint_n(&payload, 16383, 2);
		put_varint_n(&payload, 0, sizes[i]);
		put_varint_n(&payload, 1073741823, 4);
		put_varint_n(&payload, 0, 8);
		put_varint_n(&payload, 64, 2);
		put_varint_n(&payload, 16384, 4);
		/* CRYPTO with offset and length in the same longer encoding. */
		put8(&payload, 0x06);
		put_varint_n(&payload, 0, sizes[i]);
		put_varint_n(&payload, hello.len, sizes[i] < 2 ? 2 : sizes[i]);
		put_mem(&payload, hello.data, hello.len);
		put_initial(&datagram, QUIC_VERSION_1, 0, payload.data, payload.len);
		struct quic_reader r;
		struct tls_hello h;
		quic_reader_init(&r);
		assert_int_equal(feed_buf(&r, &datagram, &h), QUIC_DONE);
		assert_string_equal(h.sni, "varint.example");
		quic_reader_free(&r);
	}

	/* Cut-short varints and an ACK whose range count runs past the packet. */
	static const char *const broken[] = {
		"06c0",                        /* CRYPTO offset: 8-byte varint cut short */
		"060040",                      /* CRYPTO length: 2-byte varint cut short */
		"0600 10 0102",                /* CRYPTO data: 16 announced, 2 there */
		"02 00 00 bfffffffffffffff",   /* ACK range count 2^62 - 1 (4-byte form: 0x3fffffff) */
		"03 01 01 00 00 01",           /* ACK_ECN with two of three ECN counts */
		"4006 00 01 00",               /* CRYPTO type in two bytes: not the shortest */
		"08 00 01 00",                 /* STREAM: not allowed in an Initial */
		"1d 00 00 00",                 /* CONNECTION_CLOSE (application): not allowed */
		"1e",                          /* HANDSHAKE_DONE: not allowed */
	};
	for (size_t i = 0; i < sizeof broken / sizeof broken[0]; i++) {
		payload.len = datagram.len = 0;
		put_hex(&payload, broken[i]);
		/* Padding cannot follow: the frame must run to the end. */
		while (payload.len < 4)
			put_hex(&payload, "00");
		put_initial(&datagram, QUIC_VERSION_1, 0, payload.data, payload.len);
		struct quic_reader r;
		struct tls_hello h;
		quic_reader_init(&r);
		enum quic_end end = feed_buf(&r, &datagram, &h);
		/* The ones cut short that were padded are read as other frames: still never DONE. */
		assert_true(end == QUIC_END_BAD_FRAME || end == QUIC_END_TOO_LONG || end == QUIC_MORE);
		if (i >= 5)
			assert_int_equal(end, QUIC_END_BAD_FRAME);
		quic_reader_free(&r);
	}
}

/* Frames that end the reader, and the one frame list that is not allowed: none. */
static void test_frames(void **state)
{
	(void)state;
	static struct buf payload, datagram;
	struct quic_reader r;
	struct tls_hello h;

	payload.len = datagram.len = 0;
	put_hex(&payload, "01 00 00 1c 0a 00 05 68656c6c6f");
	put_initial(&datagram, QUIC_VERSION_1, 0, payload.data, payload.len);
	quic_reader_init(&r);
	assert_int_equal(feed_buf(&r, &datagram, &h), QUIC_END_CONNECTION_CLOSE);
	check_sticky(&r, QUIC_END_CONNECTION_CLOSE);
	quic_reader_free(&r);

	/* No frames at all: 4 bytes of packet number, 16 of tag, nothing between. */
	datagram.len = 0;
	put_initial(&datagram, QUIC_VERSION_1, 0, NULL, 0);
	quic_reader_init(&r);
	assert_int_equal(feed_buf(&r, &datagram, &h), QUIC_END_BAD_FRAME);
	quic_reader_free(&r);

	/* PING and PADDING only, in many packets: the reader gives up in time. */
	payload.len = 0;
	put_hex(&payload, "01 00 00 00");
	quic_reader_init(&r);
	for (int i = 0; i < QUIC_DATAGRAMS_MAX; i++) {
		datagram.len = 0;
		put_initial(&datagram, QUIC_VERSION_1, (uint64_t)i, payload.data, payload.len);
		enum quic_end end = feed_buf(&r, &datagram, &h);
		assert_int_equal(end, i + 1 < QUIC_DATAGRAMS_MAX ? QUIC_MORE : QUIC_END_NO_HELLO);
	}
	quic_reader_free(&r);
}

/* Packet numbers of 1 to 4 bytes, and large ones that need the decoding of RFC 9000 A.3. */
static void test_packet_numbers(void **state)
{
	(void)state;
	static struct buf hello, p1, p2, d1, d2;
	hello.len = p1.len = p2.len = 0;
	put_client_hello(&hello, "numbers.example", 300);
	put_crypto(&p1, 0, hello.data, 100);
	put_crypto(&p2, 100, hello.data + 100, hello.len - 100);
	for (size_t pn_len = 1; pn_len <= 4; pn_len++) {
		d1.len = d2.len = 0;
		/* 0x1234 then 0x1235, the second sent in pn_len bytes: the reader must
		 * find 0x1235 from its low bytes and the first packet's number. */
		struct packet_spec s = { .version = QUIC_VERSION_1, .dcid = RFC_DCID, .dcid_len = 8,
					 .pn = 0x1234, .pn_len = 4, .type = -1 };
		put_packet(&d1, &s, p1.data, p1.len);
		s.pn = 0x1235;
		s.pn_len = pn_len;
		put_packet(&d2, &s, p2.data, p2.len);
		struct quic_reader r;
		struct tls_hello h;
		quic_reader_init(&r);
		assert_int_equal(feed_buf(&r, &d1, &h), QUIC_MORE);
		assert_int_equal(feed_buf(&r, &d2, &h), QUIC_DONE);
		assert_string_equal(h.sni, "numbers.example");
		quic_reader_free(&r);
	}
}

/* Unknown versions, version negotiation, and what is not QUIC at all. */
static void test_versions(void **state)
{
	(void)state;
	static struct buf datagram;
	struct quic_reader r;
	struct tls_hello h;
	static const struct {
		uint32_t version;
		enum quic_end end;
	} cases[] = {
		{ 0x0a0a0a0a, QUIC_END_UNKNOWN_VERSION },   /* reserved for negotiation */
		{ 0xff00001a, QUIC_END_UNKNOWN_VERSION },   /* draft-26 */
		{ 0xff000023, QUIC_END_UNKNOWN_VERSION },   /* no such draft */
		{ 0x709a50c4, QUIC_END_UNKNOWN_VERSION },   /* QUIC v2 draft codepoint */
		{ 0x00000000, QUIC_END_VERSION_NEGOTIATION },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		datagram.len = 0;
		put8(&datagram, 0xc0);
		put32(&datagram, cases[i].version);
		put8(&datagram, 8);
		put_mem(&datagram, RFC_DCID, 8);
		put8(&datagram, 0);
		put32(&datagram, QUIC_VERSION_1); /* a Version Negotiation packet lists versions */
		put_zeros(&datagram, 100);
		assert_int_equal(quic_looks_like_initial(datagram.data, datagram.len), 0);
		quic_reader_init(&r);
		poison(&h);
		assert_int_equal(feed_buf(&r, &datagram, &h), cases[i].end);
		assert_true(is_poisoned(&h));
		check_sticky(&r, cases[i].end);
		quic_reader_free(&r);
	}

	/* Not QUIC: a DNS query, a short header first. */
	static const uint8_t dns[] = { 0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 0 };
	assert_int_equal(quic_looks_like_initial(dns, sizeof dns), 0);
	quic_reader_init(&r);
	assert_int_equal(feed(&r, dns, sizeof dns, &h), QUIC_END_NOT_QUIC);
	quic_reader_free(&r);

	/*
	 * Each version we read, with its salt, labels and packet type: draft-27
	 * to -34, mvfst's, Google's T050 and T051 (gQUIC frames, CRYPTO type
	 * 0x08, TLS inside).
	 */
	static const uint32_t versions[] = {
		QUIC_VERSION_1, QUIC_VERSION_2, 0xff00001b, 0xff00001c, 0xff00001d, 0xff00001e,
		0xff00001f, 0xff000020, 0xff000021, 0xff000022, QUIC_VERSION_MVFST_22,
		QUIC_VERSION_MVFST_27, QUIC_VERSION_MVFST_EXP, QUIC_VERSION_T050, QUIC_VERSION_T051,
	};
	static struct buf hello, payload;
	hello.len = 0;
	put_client_hello(&hello, "version.example", 100);
	for (size_t i = 0; i < sizeof versions / sizeof versions[0]; i++) {
		int gquic = versions[i] == QUIC_VERSION_T050 || versions[i] == QUIC_VERSION_T051;
		payload.len = datagram.len = 0;
		if (gquic) {
			put8(&payload, 0x08);
			put_varint(&payload, 0);
			put_varint(&payload, hello.len);
			put_mem(&payload, hello.data, hello.len);
			put_zeros(&payload, 10);
		} else {
			put_crypto(&payload, 0, hello.data, hello.len);
		}
		put_initial(&datagram, versions[i], 0, payload.data, payload.len);
		assert_int_equal(quic_looks_like_initial(datagram.data, datagram.len), 1);
		quic_reader_init(&r);
		assert_int_equal(feed_buf(&r, &datagram, &h), QUIC_DONE);
		assert_string_equal(h.sni, "version.example");
		assert_int_equal(quic_reader_version(&r), versions[i]);
		assert_false(quic_reader_is_gquic(&r));
		quic_reader_free(&r);

		/* Keys of another version do not open it. */
		struct quic_initial_keys other;
		uint32_t wrong = versions[i] == QUIC_VERSION_1 ? QUIC_VERSION_2 : QUIC_VERSION_1;
		assert_int_equal(quic_initial_keys_derive(wrong, RFC_DCID, 8, &other), 0);
		datagram.len = 0;
		struct packet_spec s = { .version = versions[i], .dcid = RFC_DCID, .dcid_len = 8,
					 .type = -1, .keys = &other };
		put_packet(&datagram, &s, payload.data, payload.len);
		quic_reader_init(&r);
		enum quic_end end = feed_buf(&r, &datagram, &h);
		/* draft-33 and -34 share version 1's salt and labels. */
		if (versions[i] == 0xff000021 || versions[i] == 0xff000022)
			assert_int_equal(end, QUIC_DONE);
		else
			assert_int_equal(end, QUIC_END_DECRYPT_FAILED);
		quic_reader_free(&r);
	}
}

/* ---- gQUIC ------------------------------------------------------------------ */

/* A CHLO: tags with their end offsets (little-endian), then the values. */
static void put_chlo(struct buf *b, const char *sni, size_t padding)
{
	size_t sni_len = sni ? strlen(sni) : 0;
	size_t entries = sni ? 3 : 2;
	put_mem(b, "CHLO", 4);
	put8(b, (uint8_t)entries);
	put8(b, 0);
	put16(b, 0);
	put_mem(b, "PAD\0", 4);
	put_le32(b, (uint32_t)padding);
	if (sni) {
		put_mem(b, "SNI\0", 4);
		put_le32(b, (uint32_t)(padding + sni_len));
	}
	put_mem(b, "VER\0", 4);
	put_le32(b, (uint32_t)(padding + sni_len + 4));
	put_fill(b, '-', padding);
	put_mem(b, sni, sni_len);
	put_mem(b, "Q043", 4);
}

/*
 * A gQUIC public-header packet of version "Q0nn" in the clear: flags
 * (version, 8-byte CID, 1-byte packet number), CID, version, packet number,
 * the 12-byte hash, private flags before Q034, then a STREAM frame on stream
 * 1 at `offset` (integers little-endian before Q039) and PADDING.
 */
static void put_gquic_public(struct buf *b, int number, const uint8_t *data, size_t len,
			     uint16_t offset, int with_version)
{
	int big = number >= 39;
	put8(b, with_version ? 0x09 : 0x08);
	if (number < 33)
		b->data[b->len - 1] |= 0x0c;
	put_fill(b, 0xab, 8);
	if (with_version) {
		char tag[5];
		snprintf(tag, sizeof tag, "Q%03d", number);
		put_mem(b, tag, 4);
	}
	put8(b, 1);
	put_zeros(b, 12);
	if (number < 34)
		put8(b, 0);
	put8(b, 0x80 | 0x20 | 1 << 2); /* STREAM, data length, 2-byte offset, 1-byte id */
	put8(b, 1);
	put8(b, big ? (uint8_t)(offset >> 8) : (uint8_t)offset);
	put8(b, big ? (uint8_t)offset : (uint8_t)(offset >> 8));
	put8(b, big ? (uint8_t)(len >> 8) : (uint8_t)len);
	put8(b, big ? (uint8_t)len : (uint8_t)(len >> 8));
	put_mem(b, data, len);
	put_zeros(b, 30);
}

static void test_gquic_public(void **state)
{
	(void)state;
	static struct buf chlo, datagram;
	static const int numbers[] = { 24, 25, 30, 33, 35, 39, 43 };
	for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++) {
		chlo.len = datagram.len = 0;
		put_chlo(&chlo, "gquic.example", 100);
		put_gquic_public(&datagram, numbers[i], chlo.data, chlo.len, 0, 1);
		assert_int_equal(quic_looks_like_initial(datagram.data, datagram.len), 1);
		struct quic_reader r;
		struct tls_hello h;
		quic_reader_init(&r);
		assert_int_equal(feed_buf(&r, &datagram, &h), QUIC_DONE);
		assert_string_equal(h.sni, "gquic.example");
		assert_true(h.has_sni);
		assert_int_equal(h.ech_type, -1);
		assert_string_equal(h.alpn, "");
		assert_true(quic_reader_is_gquic(&r));
		assert_int_equal(quic_reader_version(&r),
				 0x51300000u | (uint32_t)('0' + numbers[i] / 10) << 8 |
					 (uint32_t)('0' + numbers[i] % 10));
		quic_reader_free(&r);
	}

	/* A CHLO over two packets, the second without the version flag, in both orders. */
	chlo.len = 0;
	put_chlo(&chlo, "two.gquic.example", 1500);
	static struct buf first, second;
	for (int order = 0; order < 2; order++) {
		first.len = second.len = 0;
		put_gquic_public(&first, 43, chlo.data, 1000, 0, 1);
		put_gquic_public(&second, 43, chlo.data + 1000, chlo.len - 1000, 1000, order == 1);
		struct quic_reader r;
		struct tls_hello h;
		quic_reader_init(&r);
		if (order == 0) {
			assert_int_equal(feed_buf(&r, &first, &h), QUIC_MORE);
			assert_int_equal(feed_buf(&r, &second, &h), QUIC_DONE);
		} else {
			assert_int_equal(feed_buf(&r, &second, &h), QUIC_MORE);
			assert_int_equal(feed_buf(&r, &first, &h), QUIC_DONE);
		}
		assert_string_equal(h.sni, "two.gquic.example");
		quic_reader_free(&r);
	}

	/* No SNI tag: done, and no name. Offsets that go backwards: a bad hello. */
	chlo.len = datagram.len = 0;
	put_chlo(&chlo, NULL, 10);
	put_gquic_public(&datagram, 43, chlo.data, chlo.len, 0, 1);
	struct quic_reader r;
	struct tls_hello h;
	quic_reader_init(&r);
	assert_int_equal(feed_buf(&r, &datagram, &h), QUIC_DONE);
	assert_false(h.has_sni);
	assert_false(h.sni_invalid);
	quic_reader_free(&r);

	chlo.len = datagram.len = 0;
	put_chlo(&chlo, "back.example", 10);
	chlo.data[8 + 4] = 50; /* PAD ends at 50, SNI at 10 + 12 */
	put_gquic_public(&datagram, 43, chlo.data, chlo.len, 0, 1);
	quic_reader_init(&r);
	assert_int_equal(feed_buf(&r, &datagram, &h), QUIC_END_BAD_HELLO);
	quic_reader_free(&r);

	/* A stream 1 that does not start with CHLO. */
	datagram.len = 0;
	put_gquic_public(&datagram, 43, (const uint8_t *)"SHLO\0\0\0\0", 8, 0, 1);
	quic_reader_init(&r);
	assert_int_equal(feed_buf(&r, &datagram, &h), QUIC_END_BAD_HELLO);
	quic_reader_free(&r);

	/* An SNI with a NUL in it: done, but the name is not taken. */
	chlo.len = datagram.len = 0;
	put_chlo(&chlo, "nul.example", 0);
	chlo.data[8 + 24 + 3] = 0;
	put_gquic_public(&datagram, 43, chlo.data, chlo.len, 0, 1);
	quic_reader_init(&r);
	assert_int_equal(feed_buf(&r, &datagram, &h), QUIC_DONE);
	assert_false(h.has_sni);
	assert_true(h.sni_invalid);
	quic_reader_free(&r);

	/* Every cut of a CHLO packet: never DONE. */
	chlo.len = datagram.len = 0;
	put_chlo(&chlo, "cut.example", 40);
	put_gquic_public(&datagram, 35, chlo.data, chlo.len, 0, 1);
	size_t frames_end = datagram.len - 30;
	for (size_t cut = 0; cut < frames_end; cut++) {
		quic_reader_init(&r);
		poison(&h);
		enum quic_end end = feed(&r, datagram.data, cut, &h);
		assert_int_not_equal(end, QUIC_DONE);
		if (end != QUIC_END_BAD_HELLO)
			assert_true(is_poisoned(&h));
		quic_reader_free(&r);
	}
}

/* Q046: the draft-17 style long header, the CHLO in the clear. */
static void test_gquic_q046(void **state)
{
	(void)state;
	static struct buf chlo, datagram;
	chlo.len = datagram.len = 0;
	put_chlo(&chlo, "q46.example", 60);
	put8(&datagram, 0xc0);          /* long header, Initial, 1-byte packet number */
	put32(&datagram, QUIC_VERSION_Q046);
	put8(&datagram, 0x50);          /* DCID 5 + 3 bytes, no SCID */
	put_fill(&datagram, 0xcd, 8);
	put8(&datagram, 1);
	put_zeros(&datagram, 12);
	put8(&datagram, 0xa0);          /* STREAM, data length, no offset, 1-byte id */
	put8(&datagram, 1);
	put16(&datagram, (uint16_t)chlo.len);
	put_mem(&datagram, chlo.data, chlo.len);
	put_zeros(&datagram, 50);
	assert_int_equal(quic_looks_like_initial(datagram.data, datagram.len), 1);
	struct quic_reader r;
	struct tls_hello h;
	quic_reader_init(&r);
	assert_int_equal(feed_buf(&r, &datagram, &h), QUIC_DONE);
	assert_string_equal(h.sni, "q46.example");
	assert_true(quic_reader_is_gquic(&r));
	assert_int_equal(quic_reader_version(&r), QUIC_VERSION_Q046);
	quic_reader_free(&r);
}

/*
 * Q050: an IETF-style protected Initial with its own salt, gQUIC frames
 * inside (an ACK, then CRYPTO frames of type 0x08, out of order), a CHLO in
 * the CRYPTO stream.
 */
static void test_gquic_q050(void **state)
{
	(void)state;
	static struct buf chlo, payload, datagram;
	chlo.len = payload.len = datagram.len = 0;
	put_chlo(&chlo, "q50.example", 300);
	put_hex(&payload, "40 01 0000 05");  /* ACK: largest 1, delta time, first block 5, no timestamps */
	put8(&payload, 0);
	put8(&payload, 0x07);                /* PING */
	put8(&payload, 0x08);
	put_varint(&payload, 100);
	put_varint(&payload, chlo.len - 100);
	put_mem(&payload, chlo.data + 100, chlo.len - 100);
	put8(&payload, 0x08);
	put_varint(&payload, 0);
	put_varint(&payload, 100);
	put_mem(&payload, chlo.data, 100);
	put_zeros(&payload, 40);
	put_initial(&datagram, QUIC_VERSION_Q050, 0, payload.data, payload.len);
	assert_int_equal(quic_looks_like_initial(datagram.data, datagram.len), 1);
	struct quic_reader r;
	struct tls_hello h;
	quic_reader_init(&r);
	assert_int_equal(feed_buf(&r, &datagram, &h), QUIC_DONE);
	assert_string_equal(h.sni, "q50.example");
	assert_true(quic_reader_is_gquic(&r));
	quic_reader_free(&r);

	/* An IETF CRYPTO frame (0x06) is a gQUIC STOP_WAITING: not a hello. */
	payload.len = datagram.len = 0;
	put_crypto(&payload, 0, chlo.data, chlo.len);
	put_initial(&datagram, QUIC_VERSION_Q050, 0, payload.data, payload.len);
	quic_reader_init(&r);
	assert_int_not_equal(feed_buf(&r, &datagram, &h), QUIC_DONE);
	quic_reader_free(&r);
}

/* ---- real traffic ----------------------------------------------------------- */

static int hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * tests/data/quic-client-datagrams.txt: client datagrams of four flows from
 * nDPI's captures, each with the name tshark shows for it.
 */
static void test_real_datagrams(void **state)
{
	(void)state;
	FILE *f = fopen("tests/data/quic-client-datagrams.txt", "r");
	assert_non_null(f);
	static char line[8192];
	static uint8_t datagram[4096];
	struct quic_reader r;
	struct tls_hello h;
	char sni[256] = "";
	int flows = 0, in_flow = 0;
	enum quic_end end = QUIC_MORE;
	while (fgets(line, sizeof line, f)) {
		if (line[0] == '#')
			continue;
		if (strncmp(line, "flow ", 5) == 0) {
			if (in_flow) {
				assert_int_equal(end, QUIC_DONE);
				assert_string_equal(h.sni, sni);
				quic_reader_free(&r);
			}
			const char *name = strstr(line, "sni=");
			assert_non_null(name);
			snprintf(sni, sizeof sni, "%.*s", (int)strcspn(name + 4, "\r\n"), name + 4);
			quic_reader_init(&r);
			in_flow = 1;
			flows++;
			end = QUIC_MORE;
			continue;
		}
		size_t len = 0;
		for (char *p = line; hex_value(p[0]) >= 0 && hex_value(p[1]) >= 0; p += 2) {
			assert_true(len < sizeof datagram);
			datagram[len++] = (uint8_t)(hex_value(p[0]) << 4 | hex_value(p[1]));
		}
		if (len == 0)
			continue;
		assert_true(in_flow);
		if (end == QUIC_MORE) {
			assert_int_equal(quic_looks_like_initial(datagram, len), 1);
			end = feed(&r, datagram, len, &h);
		}
	}
	fclose(f);
	assert_true(in_flow);
	assert_int_equal(end, QUIC_DONE);
	assert_string_equal(h.sni, sni);
	quic_reader_free(&r);
	assert_int_equal(flows, 4);
}

/*
 * The QUIC captures of tests/data, through libpcap: per UDP flow, the
 * datagrams of the side whose first datagram looks like an Initial. A
 * minimal decoder: Ethernet, Linux cooked v1 and v2; IPv4 and IPv6 without
 * extension headers; that is what these captures hold.
 */
struct pcap_flow {
	uint8_t key[36];
	struct quic_reader reader;
	int done;
};

static void read_capture(const char *path, const char *const *want, size_t want_count)
{
	char errbuf[PCAP_ERRBUF_SIZE];
	pcap_t *pcap = pcap_open_offline(path, errbuf);
	assert_non_null(pcap);
	int link = pcap_datalink(pcap);
	static struct pcap_flow flows[16];
	size_t flow_count = 0, found = 0;
	struct pcap_pkthdr *header;
	const u_char *packet;
	while (pcap_next_ex(pcap, &header, &packet) == 1) {
		size_t len = header->caplen, off;
		unsigned ethertype;
		if (link == DLT_EN10MB) {
			off = 14;
			ethertype = (unsigned)packet[12] << 8 | packet[13];
		} else if (link == DLT_LINUX_SLL) {
			off = 16;
			ethertype = (unsigned)packet[14] << 8 | packet[15];
		} else {
			assert_int_equal(link, DLT_LINUX_SLL2);
			off = 20;
			ethertype = (unsigned)packet[0] << 8 | packet[1];
		}
		uint8_t key[36] = { 0 }, reverse[36] = { 0 };
		size_t addr_len;
		if (ethertype == 0x0800 && len >= off + 20 && packet[off + 9] == 17) {
			addr_len = 4;
			memcpy(key, packet + off + 12, 8);
			off += (size_t)(packet[off] & 0x0f) * 4;
		} else if (ethertype == 0x86dd && len >= off + 40 && packet[off + 6] == 17) {
			addr_len = 16;
			memcpy(key, packet + off + 8, 32);
			off += 40;
		} else {
			continue;
		}
		if (len < off + 8)
			continue;
		memcpy(key + 2 * addr_len, packet + off, 4);
		memcpy(reverse, key + addr_len, addr_len);
		memcpy(reverse + addr_len, key, addr_len);
		memcpy(reverse + 2 * addr_len, key + 2 * addr_len + 2, 2);
		memcpy(reverse + 2 * addr_len + 2, key + 2 * addr_len, 2);
		const uint8_t *payload = packet + off + 8;
		size_t payload_len = len - off - 8;
		struct pcap_flow *flow = NULL;
		int reverse_known = 0;
		for (size_t i = 0; i < flow_count; i++) {
			if (memcmp(flows[i].key, key, sizeof key) == 0)
				flow = &flows[i];
			if (memcmp(flows[i].key, reverse, sizeof key) == 0)
				reverse_known = 1;
		}
		if (!flow) {
			if (reverse_known || !quic_looks_like_initial(payload, payload_len))
				continue;
			assert_true(flow_count < sizeof flows / sizeof flows[0]);
			flow = &flows[flow_count++];
			memcpy(flow->key, key, sizeof key);
			quic_reader_init(&flow->reader);
			flow->done = 0;
		}
		if (flow->done)
			continue;
		struct tls_hello h;
		enum quic_end end = feed(&flow->reader, payload, payload_len, &h);
		if (end == QUIC_MORE)
			continue;
		flow->done = 1;
		assert_int_equal(end, QUIC_DONE);
		assert_true(found < want_count);
		assert_string_equal(h.sni, want[found]);
		found++;
	}
	pcap_close(pcap);
	assert_int_equal(found, want_count);
	for (size_t i = 0; i < flow_count; i++) {
		assert_true(flows[i].done);
		quic_reader_free(&flows[i].reader);
	}
}

static void test_real_captures(void **state)
{
	(void)state;
	/* What tshark 4.0 shows: tls.handshake.extensions_server_name. */
	static const char *const v2[] = { "test" };
	read_capture("tests/data/quic-v2.pcapng", v2, 1);
	/* A draft-28 flow, then Chrome's: two 0-RTT packets overtake its Initial,
	 * whose CRYPTO frames come out of order. */
	static const char *const zero_rtt[] = { "abcd", "ssl.gstatic.com" };
	read_capture("tests/data/quic_0RTT.pcap", zero_rtt, 2);
}

static void test_end_names(void **state)
{
	(void)state;
	assert_string_equal(quic_end_name(QUIC_MORE), "more");
	assert_string_equal(quic_end_name(QUIC_DONE), "done");
	assert_string_equal(quic_end_name(QUIC_END_DECRYPT_FAILED), "decrypt_failed");
	assert_string_equal(quic_end_name(QUIC_END_CRYPTO_ERROR), "crypto_error");
	assert_string_equal(quic_end_name((enum quic_end)200), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc9001_keys),
		cmocka_unit_test(test_rfc9001_client_initial),
		cmocka_unit_test(test_rfc9001_server_initial),
		cmocka_unit_test(test_rfc9369_client_initial),
		cmocka_unit_test(test_empty_datagrams),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_truncations_second_packet),
		cmocka_unit_test(test_crypto_split_both_orders),
		cmocka_unit_test(test_crypto_overlaps),
		cmocka_unit_test(test_crypto_bound),
		cmocka_unit_test(test_bad_tag),
		cmocka_unit_test(test_coalesced),
		cmocka_unit_test(test_zero_rtt_first),
		cmocka_unit_test(test_dcid_changes),
		cmocka_unit_test(test_bad_headers),
		cmocka_unit_test(test_varints),
		cmocka_unit_test(test_frames),
		cmocka_unit_test(test_packet_numbers),
		cmocka_unit_test(test_versions),
		cmocka_unit_test(test_gquic_public),
		cmocka_unit_test(test_gquic_q046),
		cmocka_unit_test(test_gquic_q050),
		cmocka_unit_test(test_real_datagrams),
		cmocka_unit_test(test_real_captures),
		cmocka_unit_test(test_end_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
