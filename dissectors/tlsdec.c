/*
 * tlsdec: decrypts one TLS connection with secrets from the key log, for the
 * dissect stage. Each side's bytes go into its own buffer; whole records are
 * read from its front while they can be: in the clear until the side's keys
 * change, then opened with them. A record whose keys are not known yet (the
 * key log is late, or they hang on the other side's hello) stays in the
 * buffer, and the buffer is the hold bound. Handshake messages are cut from
 * the records' plaintext, kept only when we read them (hellos,
 * EncryptedExtensions, KeyUpdate), and counted past otherwise.
 *
 * All cryptography goes through OpenSSL 3's EVP: EVP_CIPHER (AES-GCM, AES-CCM,
 * ChaCha20-Poly1305, AES-CBC), EVP_MAC "HMAC", EVP_KDF "HKDF" (expand only,
 * for HKDF-Expand-Label) and "TLS1-PRF" (the TLS 1.0-1.2 key block).
 *
 * Left out: TLS 1.3 0-RTT data (its records are passed over, see
 * read_record()); TLS 1.2 renegotiation (a second change_cipher_spec ends
 * the decryptor as unsupported); SSL 3.0, TLS compression, and the suites
 * not in the table below; an SSLv2-format ClientHello (not TLS records).
 */
#include "tlsdec.h"

#include "hkdf.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "cursor.h"
#include "tls.h"

static const char *const end_names[] = {
	"more", "not_tls", "no_key", "unsupported", "auth_failed", "bad_record", "no_memory",
};

_Static_assert(sizeof end_names / sizeof end_names[0] == TLSDEC_END_COUNT,
	       "tlsdec_end_name() out of step with enum tlsdec_end");

const char *tlsdec_end_name(enum tlsdec_end end)
{
	unsigned index = (unsigned)end;
	if (index >= sizeof end_names / sizeof end_names[0])
		return "unknown";
	return end_names[index];
}

/* ---- what is negotiated ---------------------------------------------------- */

enum {
	VERSION_TLS10 = 0x0301,
	VERSION_TLS11 = 0x0302,
	VERSION_TLS12 = 0x0303,
	VERSION_TLS13 = 0x0304,
};

/* Handshake message types (RFC 8446 4, RFC 5246 7.4) and extensions we read. */
enum {
	HANDSHAKE_CLIENT_HELLO = 1,
	HANDSHAKE_SERVER_HELLO = 2,
	HANDSHAKE_ENCRYPTED_EXTENSIONS = 8,
	HANDSHAKE_FINISHED = 20,
	HANDSHAKE_KEY_UPDATE = 24,
	EXT_ENCRYPT_THEN_MAC = 22,    /* RFC 7366 */
	EXT_EARLY_DATA = 42,
};

enum protection { AEAD_GCM, AEAD_CCM, AEAD_CHACHA, BLOCK_CBC };

struct suite {
	uint16_t id;
	uint8_t tls13;
	uint8_t protection;           /* enum protection */
	uint8_t key_len;
	uint8_t mac_len;              /* CBC: the HMAC's length; 0 for AEAD */
	uint8_t hash_len;             /* TLS 1.3: the traffic secrets' length */
	const char *cipher;           /* EVP_CIPHER_fetch() name */
	const char *digest;           /* TLS 1.3: HKDF's hash; TLS 1.2: the PRF's */
	const char *mac_digest;       /* CBC: HMAC's hash */
};

/*
 * The suites we decrypt (IANA TLS cipher suite registry). CBC suites with
 * SHA-1 are TLS 1.0-1.2; those with SHA-256/384 and the AEAD suites are TLS
 * 1.2 only. Not here (ended as unsupported): TLS_AES_128_CCM_8_SHA256, the
 * TLS 1.2 CCM suites (RFC 6655), 3DES, RC4, CAMELLIA, ARIA, NULL ciphers.
 */
static const struct suite suites[] = {
	{ 0x1301, 1, AEAD_GCM, 16, 0, 32, "AES-128-GCM", "SHA256", NULL },
	{ 0x1302, 1, AEAD_GCM, 32, 0, 48, "AES-256-GCM", "SHA384", NULL },
	{ 0x1303, 1, AEAD_CHACHA, 32, 0, 32, "ChaCha20-Poly1305", "SHA256", NULL },
	{ 0x1304, 1, AEAD_CCM, 16, 0, 32, "AES-128-CCM", "SHA256", NULL },
	/* AES-GCM (RFC 5288, RFC 5289) */
	{ 0x009c, 0, AEAD_GCM, 16, 0, 0, "AES-128-GCM", "SHA256", NULL },
	{ 0x009d, 0, AEAD_GCM, 32, 0, 0, "AES-256-GCM", "SHA384", NULL },
	{ 0x009e, 0, AEAD_GCM, 16, 0, 0, "AES-128-GCM", "SHA256", NULL },
	{ 0x009f, 0, AEAD_GCM, 32, 0, 0, "AES-256-GCM", "SHA384", NULL },
	{ 0xc02b, 0, AEAD_GCM, 16, 0, 0, "AES-128-GCM", "SHA256", NULL },
	{ 0xc02c, 0, AEAD_GCM, 32, 0, 0, "AES-256-GCM", "SHA384", NULL },
	{ 0xc02f, 0, AEAD_GCM, 16, 0, 0, "AES-128-GCM", "SHA256", NULL },
	{ 0xc030, 0, AEAD_GCM, 32, 0, 0, "AES-256-GCM", "SHA384", NULL },
	/* ChaCha20-Poly1305 (RFC 7905) */
	{ 0xcca8, 0, AEAD_CHACHA, 32, 0, 0, "ChaCha20-Poly1305", "SHA256", NULL },
	{ 0xcca9, 0, AEAD_CHACHA, 32, 0, 0, "ChaCha20-Poly1305", "SHA256", NULL },
	{ 0xccaa, 0, AEAD_CHACHA, 32, 0, 0, "ChaCha20-Poly1305", "SHA256", NULL },
	/* AES-CBC with HMAC-SHA1 (RFC 5246, RFC 4492) */
	{ 0x002f, 0, BLOCK_CBC, 16, 20, 0, "AES-128-CBC", "SHA256", "SHA1" },
	{ 0x0033, 0, BLOCK_CBC, 16, 20, 0, "AES-128-CBC", "SHA256", "SHA1" },
	{ 0x0035, 0, BLOCK_CBC, 32, 20, 0, "AES-256-CBC", "SHA256", "SHA1" },
	{ 0x0039, 0, BLOCK_CBC, 32, 20, 0, "AES-256-CBC", "SHA256", "SHA1" },
	{ 0xc009, 0, BLOCK_CBC, 16, 20, 0, "AES-128-CBC", "SHA256", "SHA1" },
	{ 0xc00a, 0, BLOCK_CBC, 32, 20, 0, "AES-256-CBC", "SHA256", "SHA1" },
	{ 0xc013, 0, BLOCK_CBC, 16, 20, 0, "AES-128-CBC", "SHA256", "SHA1" },
	{ 0xc014, 0, BLOCK_CBC, 32, 20, 0, "AES-256-CBC", "SHA256", "SHA1" },
	/* AES-CBC with HMAC-SHA256/384 (RFC 5246, RFC 5289) */
	{ 0x003c, 0, BLOCK_CBC, 16, 32, 0, "AES-128-CBC", "SHA256", "SHA256" },
	{ 0x003d, 0, BLOCK_CBC, 32, 32, 0, "AES-256-CBC", "SHA256", "SHA256" },
	{ 0x0067, 0, BLOCK_CBC, 16, 32, 0, "AES-128-CBC", "SHA256", "SHA256" },
	{ 0x006b, 0, BLOCK_CBC, 32, 32, 0, "AES-256-CBC", "SHA256", "SHA256" },
	{ 0xc023, 0, BLOCK_CBC, 16, 32, 0, "AES-128-CBC", "SHA256", "SHA256" },
	{ 0xc024, 0, BLOCK_CBC, 32, 48, 0, "AES-256-CBC", "SHA384", "SHA384" },
	{ 0xc027, 0, BLOCK_CBC, 16, 32, 0, "AES-128-CBC", "SHA256", "SHA256" },
	{ 0xc028, 0, BLOCK_CBC, 32, 48, 0, "AES-256-CBC", "SHA384", "SHA384" },
};

static const struct suite *find_suite(uint16_t id)
{
	for (size_t i = 0; i < sizeof suites / sizeof suites[0]; i++)
		if (suites[i].id == id)
			return &suites[i];
	return NULL;
}

/* RFC 8446 4.1.3: a ServerHello with this random is a HelloRetryRequest. */
static const uint8_t hello_retry_random[32] = {
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
	0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
};

/* ---- state ----------------------------------------------------------------- */

enum {
	CLIENT = 0,
	SERVER = 1,
	NONCE_LEN = 12,
	TAG_LEN = 16,
	BLOCK_LEN = 16,
	KEY_MAX = 32,
	MAC_MAX = 48,
	HASH_MAX = 48,
	MASTER_SECRET_LEN = 48,
	/* RFC 8446 5.2: a TLS 1.3 record is at most 2^14 + 256 bytes. */
	TLS13_RECORD_MAX = 16384 + 256,
	/* What a side takes from one feed before reading records, when it holds none. */
	SLICE = TLS_RECORD_HEADER_LEN + TLS_RECORD_MAX,
	BUFFER_FIRST = 4096,
};

/* Why a side's next record waits. */
enum hold { HOLD_NONE, HOLD_KEY, HOLD_PEER };

/* TLS 1.3: which traffic secret protects a side's records. */
enum epoch { EPOCH_HANDSHAKE, EPOCH_APPLICATION };

struct side {
	/* Bytes fed and not read yet: a partial record, or records held. */
	uint8_t *buffer;
	size_t used, size;
	uint8_t seen_header;      /* a valid record header has been read */
	uint8_t hold;             /* enum hold */
	uint8_t hello;            /* this side's ClientHello / ServerHello is read */

	/* Record protection. */
	uint8_t encrypted;        /* TLS <= 1.2: past change_cipher_spec; 1.3: a record was opened */
	uint8_t epoch;            /* enum epoch, TLS 1.3 */
	uint8_t have_keys;
	uint64_t seq;
	uint8_t secret[HASH_MAX]; /* TLS 1.3: the traffic secret in use */
	uint8_t key[KEY_MAX];
	uint8_t iv[BLOCK_LEN];    /* AEAD: the 12-byte IV or TLS 1.2 GCM's 4-byte salt; TLS 1.0 CBC: the next IV */
	uint8_t mac_key[MAC_MAX];
	EVP_CIPHER_CTX *cipher_ctx;
	EVP_MAC_CTX *mac_ctx;

	/* Handshake messages, cut from the records' plaintext. */
	uint8_t message_header[TLS_HANDSHAKE_HEADER_LEN];
	uint8_t message_header_have;
	uint8_t message_keep;     /* the body is read (else only counted past) */
	size_t message_len, message_have;
	uint8_t *message;
	size_t message_size;
};

struct tlsdec {
	tlsdec_key_fn key;
	tlsdec_data_fn data;
	void *context;
	struct tlsdec_info info;
	enum tlsdec_end end;
	const struct suite *suite;
	EVP_CIPHER *cipher;
	EVP_MAC *mac;
	uint8_t client_random[KEYLOG_RANDOM_LEN];
	uint8_t server_random[32];
	uint8_t have_client_random;
	uint8_t hello_retry;
	uint8_t early_data_offered;
	uint8_t encrypt_then_mac;
	struct side side[2];
};

/* Wipes the keys and frees what the decryptor holds; its info stays. */
static void release(struct tlsdec *dec)
{
	for (int s = 0; s < 2; s++) {
		struct side *d = &dec->side[s];
		free(d->buffer);
		d->buffer = NULL;
		d->used = d->size = 0;
		free(d->message);
		d->message = NULL;
		d->message_size = 0;
		EVP_CIPHER_CTX_free(d->cipher_ctx);
		d->cipher_ctx = NULL;
		EVP_MAC_CTX_free(d->mac_ctx);
		d->mac_ctx = NULL;
		d->have_keys = 0;
		d->hold = HOLD_NONE;
		OPENSSL_cleanse(d->secret, sizeof d->secret);
		OPENSSL_cleanse(d->key, sizeof d->key);
		OPENSSL_cleanse(d->iv, sizeof d->iv);
		OPENSSL_cleanse(d->mac_key, sizeof d->mac_key);
	}
	EVP_CIPHER_free(dec->cipher);
	dec->cipher = NULL;
	EVP_MAC_free(dec->mac);
	dec->mac = NULL;
}

/*
 * The outcome is final. The keys go at once; the buffers (which the caller's
 * stack may still point into) when the public call returns.
 */
static void finish(struct tlsdec *dec, enum tlsdec_end end)
{
	if (dec->end != TLSDEC_MORE)
		return;
	dec->end = end;
	for (int s = 0; s < 2; s++) {
		struct side *d = &dec->side[s];
		d->have_keys = 0;
		OPENSSL_cleanse(d->secret, sizeof d->secret);
		OPENSSL_cleanse(d->key, sizeof d->key);
		OPENSSL_cleanse(d->iv, sizeof d->iv);
		OPENSSL_cleanse(d->mac_key, sizeof d->mac_key);
	}
}

struct tlsdec *tlsdec_new(tlsdec_key_fn key, tlsdec_data_fn data, void *context)
{
	struct tlsdec *dec = calloc(1, sizeof *dec);
	if (!dec)
		return NULL;
	dec->key = key;
	dec->data = data;
	dec->context = context;
	dec->end = TLSDEC_MORE;
	return dec;
}

void tlsdec_free(struct tlsdec *dec)
{
	if (!dec)
		return;
	release(dec);
	OPENSSL_cleanse(dec, sizeof *dec);
	free(dec);
}

const struct tlsdec_info *tlsdec_info(const struct tlsdec *dec)
{
	return &dec->info;
}

int tlsdec_waiting(const struct tlsdec *dec)
{
	return dec->end == TLSDEC_MORE &&
	       (dec->side[CLIENT].hold == HOLD_KEY || dec->side[SERVER].hold == HOLD_KEY);
}

/* ---- key derivation ---------------------------------------------------------- */

/* RFC 8446 7.1: HKDF-Expand-Label(secret, label, "", out_len). */
static int expand_label(const char *digest, const uint8_t *secret, size_t secret_len,
			const char *label, uint8_t *out, size_t out_len)
{
	return tls13_expand_label(digest, secret, secret_len, label, out, out_len);
}

/* RFC 8446 7.3: the key and IV of a side's current traffic secret. */
static int traffic_keys(struct tlsdec *dec, struct side *d)
{
	const struct suite *suite = dec->suite;
	if (expand_label(suite->digest, d->secret, suite->hash_len, "key", d->key, suite->key_len) ||
	    expand_label(suite->digest, d->secret, suite->hash_len, "iv", d->iv, NONCE_LEN))
		return -1;
	d->have_keys = 1;
	d->seq = 0;
	return 0;
}

/* TLS 1.0-1.2 fixed IV bytes of the key block: the AEAD salt or nonce, TLS 1.0's CBC IV. */
static size_t fixed_iv_len(const struct tlsdec *dec)
{
	switch (dec->suite->protection) {
	case AEAD_GCM:
		return 4;          /* RFC 5288 3 */
	case AEAD_CHACHA:
		return NONCE_LEN;  /* RFC 7905 2 */
	default:
		return dec->info.version == VERSION_TLS10 ? BLOCK_LEN : 0;
	}
}

/*
 * RFC 5246 6.3: key_block = PRF(master_secret, "key expansion",
 * server_random + client_random), cut into both sides' MAC keys, keys and IVs.
 * TLS 1.0 and 1.1 use the MD5/SHA-1 PRF (RFC 2246 5), "MD5-SHA1" to TLS1-PRF.
 */
static int key_block(struct tlsdec *dec, const uint8_t master[MASTER_SECRET_LEN])
{
	static const char label[] = "key expansion";
	const struct suite *suite = dec->suite;
	size_t mac = suite->mac_len, key = suite->key_len, iv = fixed_iv_len(dec);
	uint8_t block[2 * (MAC_MAX + KEY_MAX + BLOCK_LEN)];
	uint8_t seed[sizeof label - 1 + 32 + KEYLOG_RANDOM_LEN];
	memcpy(seed, label, sizeof label - 1);
	memcpy(seed + sizeof label - 1, dec->server_random, 32);
	memcpy(seed + sizeof label - 1 + 32, dec->client_random, KEYLOG_RANDOM_LEN);
	const char *digest = dec->info.version < VERSION_TLS12 ? "MD5-SHA1" : suite->digest;

	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "TLS1-PRF", NULL);
	EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	OSSL_PARAM params[4], *p = params;
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)digest, 0);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, (void *)master,
						 MASTER_SECRET_LEN);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, seed, sizeof seed);
	*p = OSSL_PARAM_construct_end();
	int ok = ctx && EVP_KDF_derive(ctx, block, 2 * (mac + key + iv), params) == 1;
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	if (ok) {
		const uint8_t *b = block;
		memcpy(dec->side[CLIENT].mac_key, b, mac);
		memcpy(dec->side[SERVER].mac_key, b + mac, mac);
		b += 2 * mac;
		memcpy(dec->side[CLIENT].key, b, key);
		memcpy(dec->side[SERVER].key, b + key, key);
		b += 2 * key;
		memcpy(dec->side[CLIENT].iv, b, iv);
		memcpy(dec->side[SERVER].iv, b + iv, iv);
		dec->side[CLIENT].have_keys = dec->side[SERVER].have_keys = 1;
	}
	OPENSSL_cleanse(block, sizeof block);
	return ok ? 0 : -1;
}

/*
 * Makes side `s`'s current keys ready, from the key log: HOLD_NONE when they
 * are (or the decryptor has ended), else why the record waits.
 */
static enum hold ready_keys(struct tlsdec *dec, int s)
{
	struct side *d = &dec->side[s];
	if (d->have_keys)
		return HOLD_NONE;
	if (!dec->have_client_random || !dec->side[SERVER].hello)
		return HOLD_PEER;
	int tls13 = dec->info.version == VERSION_TLS13;
	enum keylog_label label = KEYLOG_MASTER_SECRET;
	size_t want = MASTER_SECRET_LEN;
	if (tls13) {
		if (d->epoch == EPOCH_HANDSHAKE)
			label = s == SERVER ? KEYLOG_SERVER_HANDSHAKE_TRAFFIC_SECRET
					    : KEYLOG_CLIENT_HANDSHAKE_TRAFFIC_SECRET;
		else
			label = s == SERVER ? KEYLOG_SERVER_TRAFFIC_SECRET_0
					    : KEYLOG_CLIENT_TRAFFIC_SECRET_0;
		want = dec->suite->hash_len;
	}
	uint8_t secret[KEYLOG_SECRET_MAX];
	size_t n = dec->key ? dec->key(dec->context, dec->client_random, label, secret) : 0;
	if (n == 0)
		return HOLD_KEY;
	int ok = 0;
	if (n == want) {
		if (tls13) {
			memcpy(d->secret, secret, n);
			ok = traffic_keys(dec, d) == 0;
		} else {
			ok = key_block(dec, secret) == 0;
		}
	}
	OPENSSL_cleanse(secret, sizeof secret);
	/* A secret of another length belongs to another suite: it will not do. */
	if (!ok)
		finish(dec, n == want ? TLSDEC_END_NO_MEMORY : TLSDEC_END_NO_KEY);
	return HOLD_NONE;
}

/* RFC 8446 4.6.3, 7.2: the next generation of a side's application traffic secret. */
static int key_update(struct tlsdec *dec, struct side *d)
{
	const struct suite *suite = dec->suite;
	uint8_t next[HASH_MAX];
	int ok = expand_label(suite->digest, d->secret, suite->hash_len, "traffic upd", next,
			      suite->hash_len) == 0;
	if (ok) {
		memcpy(d->secret, next, suite->hash_len);
		ok = traffic_keys(dec, d) == 0;
	}
	OPENSSL_cleanse(next, sizeof next);
	return ok ? 0 : -1;
}

/* ---- opening records ------------------------------------------------------- */

/* RFC 8446 5.3, RFC 7905 2: the IV with the sequence number XORed into its last 8 bytes. */
static void xor_nonce(const struct side *d, uint8_t nonce[NONCE_LEN])
{
	memcpy(nonce, d->iv, NONCE_LEN);
	for (int i = 0; i < 8; i++)
		nonce[NONCE_LEN - 1 - i] ^= (uint8_t)(d->seq >> (8 * i));
}

/*
 * An AEAD record body opened in place: `len` bytes at `data`, then the tag.
 * 0, or -1 when it does not authenticate.
 */
static int aead_open(const struct tlsdec *dec, struct side *d, const uint8_t nonce[NONCE_LEN],
		     const uint8_t *aad, size_t aad_len, uint8_t *data, size_t len,
		     const uint8_t *tag_in)
{
	EVP_CIPHER_CTX *ctx = d->cipher_ctx;
	int ccm = dec->suite->protection == AEAD_CCM;
	uint8_t tag[TAG_LEN];
	int written;
	memcpy(tag, tag_in, TAG_LEN);
	if (EVP_DecryptInit_ex(ctx, dec->cipher, NULL, NULL, NULL) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_IVLEN, NONCE_LEN, NULL) != 1)
		return -1;
	/* CCM wants its tag and the length before anything else (EVP_EncryptInit(3)). */
	if (ccm && EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, TAG_LEN, tag) != 1)
		return -1;
	if (EVP_DecryptInit_ex(ctx, NULL, NULL, d->key, nonce) != 1)
		return -1;
	if (ccm && EVP_DecryptUpdate(ctx, NULL, &written, NULL, (int)len) != 1)
		return -1;
	if (EVP_DecryptUpdate(ctx, NULL, &written, aad, (int)aad_len) != 1)
		return -1;
	/* CCM checks the tag here. */
	if ((len > 0 || ccm) && EVP_DecryptUpdate(ctx, data, &written, data, (int)len) != 1)
		return -1;
	if (ccm)
		return 0;
	if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, TAG_LEN, tag) != 1)
		return -1;
	return EVP_DecryptFinal_ex(ctx, data + len, &written) == 1 ? 0 : -1;
}

/* The result of opening a record: its content, in place. */
struct opened {
	uint8_t *data;
	size_t len;
};

/*
 * RFC 8446 5.2: a TLS 1.3 record. On success `*out` is the content and
 * `*type` the true content type, the zero padding gone.
 */
static enum tlsdec_end open_tls13(struct tlsdec *dec, struct side *d, const uint8_t *header,
				  uint8_t *body, size_t len, uint8_t *type, struct opened *out)
{
	if (len < TAG_LEN + 1 || len > TLS13_RECORD_MAX)
		return TLSDEC_END_BAD_RECORD;
	uint8_t nonce[NONCE_LEN];
	xor_nonce(d, nonce);
	size_t plain_len = len - TAG_LEN;
	if (aead_open(dec, d, nonce, header, TLS_RECORD_HEADER_LEN, body, plain_len,
		      body + plain_len) != 0)
		return TLSDEC_END_AUTH_FAILED;
	d->seq++;
	while (plain_len > 0 && body[plain_len - 1] == 0)
		plain_len--;
	if (plain_len == 0)
		return TLSDEC_END_BAD_RECORD; /* all padding, no type (RFC 8446 5.4) */
	*type = body[plain_len - 1];
	out->data = body;
	out->len = plain_len - 1;
	return TLSDEC_MORE;
}

/* RFC 5246 6.2.3.1: HMAC(mac_key, seq || type || version || length || data). */
static int record_mac(const struct tlsdec *dec, struct side *d, const uint8_t *header,
		      size_t length, const uint8_t *data, uint8_t out[MAC_MAX])
{
	uint8_t head[13];
	for (int i = 0; i < 8; i++)
		head[i] = (uint8_t)(d->seq >> (56 - 8 * i));
	memcpy(head + 8, header, 3);
	head[11] = (uint8_t)(length >> 8);
	head[12] = (uint8_t)length;
	OSSL_PARAM params[2];
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						     (char *)dec->suite->mac_digest, 0);
	params[1] = OSSL_PARAM_construct_end();
	size_t out_len = 0;
	if (EVP_MAC_init(d->mac_ctx, d->mac_key, dec->suite->mac_len, params) != 1 ||
	    EVP_MAC_update(d->mac_ctx, head, sizeof head) != 1 ||
	    EVP_MAC_update(d->mac_ctx, data, length) != 1 ||
	    EVP_MAC_final(d->mac_ctx, out, &out_len, MAC_MAX) != 1 ||
	    out_len != dec->suite->mac_len)
		return -1;
	return 0;
}

/*
 * RFC 5246 6.2.3.2 (TLS 1.1+: an explicit IV first; TLS 1.0: the last
 * block of the previous record), MAC-then-encrypt or RFC 7366's
 * encrypt-then-MAC. Padding and MAC are checked; nothing is read outside
 * the record whatever its padding byte says.
 */
static enum tlsdec_end open_cbc(struct tlsdec *dec, struct side *d, const uint8_t *header,
				uint8_t *body, size_t len, struct opened *out)
{
	size_t mac_len = dec->suite->mac_len;
	size_t iv_len = dec->info.version >= VERSION_TLS11 ? BLOCK_LEN : 0;
	int etm = dec->encrypt_then_mac;
	uint8_t mac[MAC_MAX];
	size_t cipher_len;
	if (etm) {
		if (len < iv_len + BLOCK_LEN + mac_len)
			return TLSDEC_END_BAD_RECORD;
		cipher_len = len - mac_len - iv_len;
		if (cipher_len % BLOCK_LEN != 0)
			return TLSDEC_END_BAD_RECORD;
		if (record_mac(dec, d, header, len - mac_len, body, mac) != 0 ||
		    CRYPTO_memcmp(mac, body + len - mac_len, mac_len) != 0)
			return TLSDEC_END_AUTH_FAILED;
	} else {
		if (len < iv_len + BLOCK_LEN || (len - iv_len) % BLOCK_LEN != 0)
			return TLSDEC_END_BAD_RECORD;
		cipher_len = len - iv_len;
	}
	uint8_t *cipher = body + iv_len;
	uint8_t iv[BLOCK_LEN], next_iv[BLOCK_LEN];
	memcpy(iv, iv_len ? body : d->iv, BLOCK_LEN);
	memcpy(next_iv, cipher + cipher_len - BLOCK_LEN, BLOCK_LEN);
	int written = 0, final_len = 0;
	if (EVP_DecryptInit_ex(d->cipher_ctx, dec->cipher, NULL, d->key, iv) != 1 ||
	    EVP_CIPHER_CTX_set_padding(d->cipher_ctx, 0) != 1 ||
	    EVP_DecryptUpdate(d->cipher_ctx, cipher, &written, cipher, (int)cipher_len) != 1 ||
	    EVP_DecryptFinal_ex(d->cipher_ctx, cipher + written, &final_len) != 1 ||
	    (size_t)written + (size_t)final_len != cipher_len)
		return TLSDEC_END_AUTH_FAILED;
	if (!iv_len)
		memcpy(d->iv, next_iv, BLOCK_LEN);

	size_t pad = cipher[cipher_len - 1];
	size_t trailer = pad + 1 + (etm ? 0 : mac_len);
	if (trailer > cipher_len)
		return TLSDEC_END_AUTH_FAILED;
	for (size_t i = cipher_len - 1 - pad; i < cipher_len - 1; i++)
		if (cipher[i] != pad)
			return TLSDEC_END_AUTH_FAILED;
	size_t content_len = cipher_len - trailer;
	if (!etm && (record_mac(dec, d, header, content_len, cipher, mac) != 0 ||
		     CRYPTO_memcmp(mac, cipher + content_len, mac_len) != 0))
		return TLSDEC_END_AUTH_FAILED;
	d->seq++;
	out->data = cipher;
	out->len = content_len;
	return TLSDEC_MORE;
}

/* RFC 5288 3 (GCM: salt || explicit nonce), RFC 7905 2 (ChaCha20-Poly1305: IV XOR seq). */
static enum tlsdec_end open_tls12_aead(struct tlsdec *dec, struct side *d, const uint8_t *header,
				       uint8_t *body, size_t len, struct opened *out)
{
	size_t explicit_len = dec->suite->protection == AEAD_GCM ? 8 : 0;
	if (len < explicit_len + TAG_LEN)
		return TLSDEC_END_BAD_RECORD;
	size_t plain_len = len - explicit_len - TAG_LEN;
	uint8_t nonce[NONCE_LEN];
	if (explicit_len) {
		memcpy(nonce, d->iv, 4);
		memcpy(nonce + 4, body, 8);
	} else {
		xor_nonce(d, nonce);
	}
	uint8_t aad[13];
	for (int i = 0; i < 8; i++)
		aad[i] = (uint8_t)(d->seq >> (56 - 8 * i));
	memcpy(aad + 8, header, 3);
	aad[11] = (uint8_t)(plain_len >> 8);
	aad[12] = (uint8_t)plain_len;
	uint8_t *data = body + explicit_len;
	if (aead_open(dec, d, nonce, aad, sizeof aad, data, plain_len, data + plain_len) != 0)
		return TLSDEC_END_AUTH_FAILED;
	d->seq++;
	out->data = data;
	out->len = plain_len;
	return TLSDEC_MORE;
}

/* ---- the hellos and the messages we read ------------------------------------- */

/*
 * ALPN (RFC 7301 3.1) of a ServerHello or EncryptedExtensions: a list of
 * exactly one name. A malformed one says nothing (the connection goes on).
 */
static void read_alpn(struct tlsdec *dec, struct cursor data)
{
	struct cursor list, name;
	if (get_vector(&data, 2, &list) != 0 || data.left != 0 ||
	    get_vector(&list, 1, &name) != 0 || list.left != 0 || name.left == 0 ||
	    name.left >= TLSDEC_ALPN_MAX || memchr(name.p, '\0', name.left))
		return;
	memcpy(dec->info.alpn, name.p, name.left);
	dec->info.alpn[name.left] = '\0';
}

/* RFC 8446 4.1.2, RFC 5246 7.4.1.2: the client random, and whether early data is offered. */
static void read_client_hello(struct tlsdec *dec, struct cursor c)
{
	struct cursor session, suites_offered, compression, block, data;
	const uint8_t *random;
	uint16_t version, type;
	if (get16(&c, &version) != 0 || get_bytes(&c, KEYLOG_RANDOM_LEN, &random) != 0 ||
	    get_vector(&c, 1, &session) != 0 || session.left > 32 ||
	    get_vector(&c, 2, &suites_offered) != 0 || get_vector(&c, 1, &compression) != 0)
		goto bad;
	if (c.left > 0) {
		if (get_vector(&c, 2, &block) != 0 || c.left != 0)
			goto bad;
		while (block.left > 0) {
			if (get16(&block, &type) != 0 || get_vector(&block, 2, &data) != 0)
				goto bad;
			if (type == EXT_EARLY_DATA)
				dec->early_data_offered = 1;
		}
	}
	memcpy(dec->client_random, random, KEYLOG_RANDOM_LEN);
	dec->have_client_random = 1;
	dec->side[CLIENT].hello = 1;
	return;
bad:
	finish(dec, TLSDEC_END_BAD_RECORD);
}

/* The suite's cipher (and MAC) from the provider, a context for each side. */
static int ready_cipher(struct tlsdec *dec)
{
	dec->cipher = EVP_CIPHER_fetch(NULL, dec->suite->cipher, NULL);
	if (!dec->cipher)
		return -1;
	if (dec->suite->protection == BLOCK_CBC) {
		dec->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
		if (!dec->mac)
			return -1;
	}
	for (int s = 0; s < 2; s++) {
		dec->side[s].cipher_ctx = EVP_CIPHER_CTX_new();
		if (!dec->side[s].cipher_ctx)
			return -1;
		if (dec->mac) {
			dec->side[s].mac_ctx = EVP_MAC_CTX_new(dec->mac);
			if (!dec->side[s].mac_ctx)
				return -1;
		}
	}
	return 0;
}

/*
 * RFC 8446 4.1.3, RFC 5246 7.4.1.3: the version (supported_versions, else
 * the legacy field), the suite, the server random, encrypt_then_mac and, up
 * to TLS 1.2, ALPN. A HelloRetryRequest only says that the real one follows.
 */
static void read_server_hello(struct tlsdec *dec, struct cursor c)
{
	struct cursor session, block, data;
	const uint8_t *random;
	uint16_t legacy_version, suite_id, selected = 0, type;
	uint8_t compression;
	int etm = 0, have_alpn = 0;
	struct cursor alpn = { NULL, 0 };
	if (get16(&c, &legacy_version) != 0 || get_bytes(&c, 32, &random) != 0 ||
	    get_vector(&c, 1, &session) != 0 || session.left > 32 || get16(&c, &suite_id) != 0 ||
	    get8(&c, &compression) != 0)
		goto bad;
	if (c.left > 0) {
		if (get_vector(&c, 2, &block) != 0 || c.left != 0)
			goto bad;
		while (block.left > 0) {
			if (get16(&block, &type) != 0 || get_vector(&block, 2, &data) != 0)
				goto bad;
			if (type == TLS_EXT_SUPPORTED_VERSIONS) {
				if (get16(&data, &selected) != 0 || data.left != 0)
					goto bad;
			} else if (type == EXT_ENCRYPT_THEN_MAC) {
				etm = 1;
			} else if (type == TLS_EXT_ALPN) {
				alpn = data;
				have_alpn = 1;
			}
		}
	}
	if (memcmp(random, hello_retry_random, 32) == 0) {
		/* RFC 8446 4.1.4: a second HelloRetryRequest is an error. */
		if (dec->hello_retry)
			goto bad;
		dec->hello_retry = 1;
		return;
	}
	memcpy(dec->server_random, random, 32);
	dec->side[SERVER].hello = 1;
	dec->info.version = selected ? selected : legacy_version;
	dec->info.cipher_suite = suite_id;
	dec->encrypt_then_mac = (uint8_t)etm;
	/* Only TLS 1.3 has a HelloRetryRequest (and the client's records after
	 * it were read as TLS 1.3's). */
	if (dec->hello_retry && dec->info.version != VERSION_TLS13)
		goto bad;

	uint16_t version = dec->info.version;
	const struct suite *suite = find_suite(suite_id);
	/* TLS compression (RFC 3749) would have us give DEFLATE's output: not read. */
	int fits = suite && compression == 0 && (version == VERSION_TLS13 ? suite->tls13
				: version >= VERSION_TLS10 && version <= VERSION_TLS12 &&
				  !suite->tls13 &&
				  (version == VERSION_TLS12 || (suite->protection == BLOCK_CBC &&
								suite->mac_len == 20)));
	if (!fits) {
		finish(dec, TLSDEC_END_UNSUPPORTED);
		return;
	}
	dec->suite = suite;
	if (version != VERSION_TLS13 && have_alpn)
		read_alpn(dec, alpn);
	if (ready_cipher(dec) != 0)
		finish(dec, TLSDEC_END_NO_MEMORY);
	return;
bad:
	finish(dec, TLSDEC_END_BAD_RECORD);
}

/* RFC 8446 4.3.1: EncryptedExtensions, for ALPN. */
static void read_encrypted_extensions(struct tlsdec *dec, struct cursor c)
{
	struct cursor block, data;
	uint16_t type;
	if (get_vector(&c, 2, &block) != 0 || c.left != 0)
		goto bad;
	while (block.left > 0) {
		if (get16(&block, &type) != 0 || get_vector(&block, 2, &data) != 0)
			goto bad;
		if (type == TLS_EXT_ALPN)
			read_alpn(dec, data);
	}
	return;
bad:
	finish(dec, TLSDEC_END_BAD_RECORD);
}

/* Whether a message's body is read (else only its length is counted past). */
static int message_wanted(const struct tlsdec *dec, int s, uint8_t type, int encrypted)
{
	const struct side *d = &dec->side[s];
	if (!encrypted)
		return !d->hello && type == (s == SERVER ? HANDSHAKE_SERVER_HELLO
							 : HANDSHAKE_CLIENT_HELLO);
	if (dec->info.version != VERSION_TLS13)
		return 0;
	if (d->epoch == EPOCH_HANDSHAKE)
		return s == SERVER && type == HANDSHAKE_ENCRYPTED_EXTENSIONS;
	return type == HANDSHAKE_KEY_UPDATE;
}

/*
 * A whole handshake message (`body` NULL when it was not kept). `last` says
 * whether it ends its record: a message after which the keys change must
 * (RFC 8446 5.1).
 */
static void handle_message(struct tlsdec *dec, int s, uint8_t type, const uint8_t *body,
			   size_t len, int encrypted, int last)
{
	struct side *d = &dec->side[s];
	struct cursor c = { body, body ? len : 0 };
	if (!encrypted) {
		if (d->hello) {
			/* A second ClientHello (after a HelloRetryRequest) keeps the random; the
			 * rest of a TLS 1.2 handshake in the clear is not ours to read. */
			if (s == SERVER && type == HANDSHAKE_SERVER_HELLO)
				finish(dec, TLSDEC_END_BAD_RECORD);
			return;
		}
		if (s == SERVER && type == HANDSHAKE_SERVER_HELLO)
			read_server_hello(dec, c);
		else if (s == CLIENT && type == HANDSHAKE_CLIENT_HELLO)
			read_client_hello(dec, c);
		else
			finish(dec, TLSDEC_END_BAD_RECORD); /* a side begins with its hello */
		return;
	}
	if (dec->info.version != VERSION_TLS13)
		return; /* Finished, HelloRequest: nothing for us */
	if (d->epoch == EPOCH_HANDSHAKE) {
		if (type == HANDSHAKE_ENCRYPTED_EXTENSIONS && s == SERVER) {
			read_encrypted_extensions(dec, c);
		} else if (type == HANDSHAKE_FINISHED) {
			/* RFC 8446 7.2: application traffic secret 0 from the next record. */
			if (!last) {
				finish(dec, TLSDEC_END_BAD_RECORD);
				return;
			}
			d->epoch = EPOCH_APPLICATION;
			d->have_keys = 0;
			d->seq = 0;
			OPENSSL_cleanse(d->secret, sizeof d->secret);
		}
		return;
	}
	if (type == HANDSHAKE_KEY_UPDATE) {
		uint8_t request;
		if (get8(&c, &request) != 0 || c.left != 0 || request > 1 || !last) {
			finish(dec, TLSDEC_END_BAD_RECORD);
			return;
		}
		if (key_update(dec, d) != 0) {
			finish(dec, TLSDEC_END_NO_MEMORY);
			return;
		}
		dec->info.key_updates[s]++;
	}
	/* NewSessionTicket and post-handshake authentication: skipped. */
}

static size_t get24(const uint8_t *p)
{
	return (size_t)p[0] << 16 | (size_t)p[1] << 8 | p[2];
}

/* Handshake bytes of one record: cut into messages, across records. */
static void handshake_bytes(struct tlsdec *dec, int s, const uint8_t *data, size_t len,
			    int encrypted)
{
	struct side *d = &dec->side[s];
	size_t pos = 0;
	while (pos < len && dec->end == TLSDEC_MORE) {
		if (d->message_header_have < TLS_HANDSHAKE_HEADER_LEN) {
			size_t n = TLS_HANDSHAKE_HEADER_LEN - d->message_header_have;
			if (n > len - pos)
				n = len - pos;
			memcpy(d->message_header + d->message_header_have, data + pos, n);
			d->message_header_have = (uint8_t)(d->message_header_have + n);
			pos += n;
			if (d->message_header_have < TLS_HANDSHAKE_HEADER_LEN)
				return;
			d->message_len = get24(d->message_header + 1);
			d->message_have = 0;
			d->message_keep = (uint8_t)message_wanted(dec, s, d->message_header[0],
								  encrypted);
			if (d->message_keep &&
			    d->message_len > TLS_HANDSHAKE_MAX - TLS_HANDSHAKE_HEADER_LEN) {
				finish(dec, TLSDEC_END_BAD_RECORD);
				return;
			}
		}
		size_t n = d->message_len - d->message_have;
		if (n > len - pos)
			n = len - pos;
		if (d->message_keep && n > 0) {
			/* Room for what came, not for what the header claims. */
			if (d->message_have + n > d->message_size) {
				size_t size = d->message_size * 2;
				if (size < BUFFER_FIRST)
					size = BUFFER_FIRST;
				if (size < d->message_have + n)
					size = d->message_have + n;
				if (size > d->message_len)
					size = d->message_len;
				uint8_t *grown = realloc(d->message, size);
				if (!grown) {
					finish(dec, TLSDEC_END_NO_MEMORY);
					return;
				}
				d->message = grown;
				d->message_size = size;
			}
			memcpy(d->message + d->message_have, data + pos, n);
		}
		d->message_have += n;
		pos += n;
		if (d->message_have < d->message_len)
			return;
		d->message_header_have = 0;
		handle_message(dec, s, d->message_header[0], d->message_keep ? d->message : NULL,
			       d->message_len, encrypted, pos == len);
		if (d->message_keep) {
			free(d->message);
			d->message = NULL;
			d->message_size = 0;
		}
	}
}

/* ---- records ------------------------------------------------------------------ */

/* What an opened record holds, by its true type. */
static void record_content(struct tlsdec *dec, int s, uint8_t type, struct opened content)
{
	struct side *d = &dec->side[s];
	int tls13 = dec->info.version == VERSION_TLS13;
	dec->info.records_decrypted[s]++;
	switch (type) {
	case TLS_CONTENT_APPLICATION_DATA:
		/* TLS 1.3: none under the handshake keys (0-RTT is not read, see below). */
		if (tls13 && d->epoch == EPOCH_HANDSHAKE) {
			finish(dec, TLSDEC_END_BAD_RECORD);
			return;
		}
		dec->info.plaintext_bytes[s] += content.len;
		if (content.len > 0 && dec->data)
			dec->data(dec->context, s, content.data, content.len);
		return;
	case TLS_CONTENT_HANDSHAKE:
		if (content.len == 0) {
			finish(dec, TLSDEC_END_BAD_RECORD);
			return;
		}
		handshake_bytes(dec, s, content.data, content.len, 1);
		return;
	case TLS_CONTENT_ALERT:
		return;
	case TLS_CONTENT_CHANGE_CIPHER_SPEC:
		/* TLS 1.2: a protected one changes to a renegotiated handshake's keys. */
		finish(dec, tls13 ? TLSDEC_END_BAD_RECORD : TLSDEC_END_UNSUPPORTED);
		return;
	default:
		if (tls13)
			finish(dec, TLSDEC_END_BAD_RECORD);
		return; /* TLS 1.2 heartbeat */
	}
}

/*
 * One whole record of side `s` (header and body in its buffer). Returns
 * HOLD_NONE once it is read (or the decryptor has ended), else why it must
 * wait (it is read again later).
 */
static enum hold read_record(struct tlsdec *dec, int s, const uint8_t *header, uint8_t *body,
			     size_t len)
{
	struct side *d = &dec->side[s];
	uint8_t type = header[0];
	int partial_message = d->message_header_have > 0;

	if (!d->hello) {
		/* A side begins with its hello. A server may warn first (RFC 6066 3), and
		 * send change_cipher_spec after a HelloRetryRequest (RFC 8446 D.4). */
		int skipped = s == SERVER && (type == TLS_CONTENT_ALERT ||
					      (type == TLS_CONTENT_CHANGE_CIPHER_SPEC &&
					       dec->hello_retry));
		if (type == TLS_CONTENT_HANDSHAKE && len > 0)
			handshake_bytes(dec, s, body, len, 0);
		else if (!skipped)
			finish(dec, TLSDEC_END_BAD_RECORD);
		return HOLD_NONE;
	}
	if (dec->info.version == 0) {
		/* The client, before the ServerHello: what comes after the handshake
		 * messages in the clear depends on the version. */
		if (type == TLS_CONTENT_HANDSHAKE && len > 0) {
			handshake_bytes(dec, s, body, len, 0);
			return HOLD_NONE;
		}
		if (type == TLS_CONTENT_ALERT)
			return HOLD_NONE;
		if (type == TLS_CONTENT_CHANGE_CIPHER_SPEC && dec->hello_retry)
			return HOLD_NONE;
		return HOLD_PEER;
	}

	struct opened content;
	enum tlsdec_end end;
	if (dec->info.version == VERSION_TLS13) {
		switch (type) {
		case TLS_CONTENT_CHANGE_CIPHER_SPEC:  /* middlebox compatibility, in the clear */
		case TLS_CONTENT_ALERT:               /* an alert in the clear */
		case TLS_CONTENT_HEARTBEAT:
			return HOLD_NONE;
		case TLS_CONTENT_HANDSHAKE:
			/* In the clear only before this side's first protected record. */
			if (d->encrypted || len == 0)
				finish(dec, TLSDEC_END_BAD_RECORD);
			else
				handshake_bytes(dec, s, body, len, 0);
			return HOLD_NONE;
		default:
			break;
		}
		/* A message in the clear does not run on under protection (RFC 8446 5.1). */
		if (!d->encrypted && partial_message) {
			finish(dec, TLSDEC_END_BAD_RECORD);
			return HOLD_NONE;
		}
		enum hold hold = ready_keys(dec, s);
		if (hold != HOLD_NONE || dec->end != TLSDEC_MORE)
			return hold;
		uint8_t inner;
		end = open_tls13(dec, d, header, body, len, &inner, &content);
		if (end == TLSDEC_END_AUTH_FAILED && s == CLIENT && !d->encrypted &&
		    dec->early_data_offered)
			/*
			 * 0-RTT data (RFC 8446 4.2.10), under the early traffic secret,
			 * comes before the first record under the client's handshake
			 * secret: it is passed over, not read.
			 */
			return HOLD_NONE;
		if (end != TLSDEC_MORE) {
			finish(dec, end);
			return HOLD_NONE;
		}
		d->encrypted = 1;
		record_content(dec, s, inner, content);
		return HOLD_NONE;
	}

	if (!d->encrypted) {
		switch (type) {
		case TLS_CONTENT_CHANGE_CIPHER_SPEC:
			/* RFC 5246 7.1: between messages; the next record is protected. */
			if (len != 1 || body[0] != 1 || partial_message)
				finish(dec, TLSDEC_END_BAD_RECORD);
			d->encrypted = 1;
			d->seq = 0;
			return HOLD_NONE;
		case TLS_CONTENT_HANDSHAKE:
			if (len == 0)
				finish(dec, TLSDEC_END_BAD_RECORD);
			else
				handshake_bytes(dec, s, body, len, 0);
			return HOLD_NONE;
		case TLS_CONTENT_APPLICATION_DATA:
			finish(dec, TLSDEC_END_BAD_RECORD);
			return HOLD_NONE;
		default:
			return HOLD_NONE; /* alert, heartbeat */
		}
	}
	enum hold hold = ready_keys(dec, s);
	if (hold != HOLD_NONE || dec->end != TLSDEC_MORE)
		return hold;
	if (dec->suite->protection == BLOCK_CBC)
		end = open_cbc(dec, d, header, body, len, &content);
	else
		end = open_tls12_aead(dec, d, header, body, len, &content);
	if (end != TLSDEC_MORE) {
		finish(dec, end);
		return HOLD_NONE;
	}
	record_content(dec, s, type, content);
	return HOLD_NONE;
}

/*
 * Reads the whole records at the front of side `s`'s buffer while it can.
 * Returns 1 if it read any.
 */
static int read_side(struct tlsdec *dec, int s)
{
	struct side *d = &dec->side[s];
	size_t pos = 0;
	int progress = 0;
	d->hold = HOLD_NONE;
	while (dec->end == TLSDEC_MORE && d->used - pos >= TLS_RECORD_HEADER_LEN) {
		uint8_t *header = d->buffer + pos;
		size_t length = (size_t)header[3] << 8 | header[4];
		/* The first header tells whether this is TLS at all (as tls.c reads it). */
		if (header[0] < TLS_CONTENT_CHANGE_CIPHER_SPEC || header[0] > TLS_CONTENT_HEARTBEAT ||
		    header[1] != 3) {
			finish(dec, d->seen_header ? TLSDEC_END_BAD_RECORD : TLSDEC_END_NOT_TLS);
			return progress;
		}
		if (length > TLS_RECORD_MAX) {
			finish(dec, TLSDEC_END_BAD_RECORD);
			return progress;
		}
		d->seen_header = 1;
		if (d->used - pos - TLS_RECORD_HEADER_LEN < length)
			break;
		enum hold hold = read_record(dec, s, header, header + TLS_RECORD_HEADER_LEN, length);
		if (dec->end != TLSDEC_MORE)
			return progress;
		if (hold != HOLD_NONE) {
			d->hold = (uint8_t)hold;
			break;
		}
		pos += TLS_RECORD_HEADER_LEN + length;
		progress = 1;
	}
	if (pos > 0) {
		memmove(d->buffer, d->buffer + pos, d->used - pos);
		d->used -= pos;
		/* A buffer that grew while records were held goes back to its usual size. */
		if (d->size > 2 * SLICE && d->used <= SLICE) {
			uint8_t *smaller = realloc(d->buffer, 2 * SLICE);
			if (smaller) {
				d->buffer = smaller;
				d->size = 2 * SLICE;
			}
		}
	}
	return progress;
}

/*
 * Reads both sides until neither moves: what one side reads (a hello, a
 * key) may let the other's held records go.
 */
static void pump(struct tlsdec *dec)
{
	int progress;
	do {
		progress = 0;
		for (int s = 0; s < 2 && dec->end == TLSDEC_MORE; s++)
			if (dec->side[s].hold == HOLD_NONE)
				progress |= read_side(dec, s);
		if (progress)
			dec->side[CLIENT].hold = dec->side[SERVER].hold = HOLD_NONE;
	} while (progress && dec->end == TLSDEC_MORE);
}

static int append(struct side *d, const uint8_t *data, size_t len)
{
	if (d->used + len > d->size) {
		size_t size = d->size ? d->size : BUFFER_FIRST;
		while (size < d->used + len)
			size *= 2;
		if (size > TLSDEC_HOLD_MAX)
			size = TLSDEC_HOLD_MAX;
		uint8_t *grown = realloc(d->buffer, size);
		if (!grown)
			return -1;
		d->buffer = grown;
		d->size = size;
	}
	memcpy(d->buffer + d->used, data, len);
	d->used += len;
	return 0;
}

/* The end of a public call: a final outcome lets everything go. */
static enum tlsdec_end settle(struct tlsdec *dec)
{
	if (dec->end != TLSDEC_MORE)
		release(dec);
	return dec->end;
}

enum tlsdec_end tlsdec_feed(struct tlsdec *dec, int from_server, const uint8_t *data, size_t len)
{
	if (dec->end != TLSDEC_MORE)
		return dec->end;
	int s = from_server != 0;
	struct side *d = &dec->side[s];
	/* Whatever waited may go now: the key log may have grown since. */
	dec->side[CLIENT].hold = dec->side[SERVER].hold = HOLD_NONE;
	if (len == 0)
		pump(dec);
	size_t pos = 0;
	while (pos < len && dec->end == TLSDEC_MORE) {
		size_t limit = d->hold == HOLD_PEER ? TLSDEC_PEER_HOLD_MAX : TLSDEC_HOLD_MAX;
		size_t room = limit > d->used ? limit - d->used : 0;
		if (room == 0) {
			finish(dec, TLSDEC_END_NO_KEY);
			break;
		}
		/* A side that holds nothing takes a record's worth at a time, so that
		 * its buffer stays small; a side that holds takes up to the bound. */
		size_t n = len - pos;
		if (n > room)
			n = room;
		if (d->hold == HOLD_NONE && n > SLICE)
			n = SLICE;
		if (append(d, data + pos, n) != 0) {
			finish(dec, TLSDEC_END_NO_MEMORY);
			break;
		}
		pos += n;
		pump(dec);
	}
	return settle(dec);
}

enum tlsdec_end tlsdec_retry(struct tlsdec *dec)
{
	if (dec->end != TLSDEC_MORE)
		return dec->end;
	dec->side[CLIENT].hold = dec->side[SERVER].hold = HOLD_NONE;
	pump(dec);
	return settle(dec);
}
