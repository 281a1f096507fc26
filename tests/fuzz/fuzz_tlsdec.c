/*
 * libFuzzer harness for dissectors/tlsdec.c. The input is a flags byte, then
 * chunks, each "H LEN_HI LEN_LO BYTES": bit 7 of H says the server sent it;
 * bit 6 says the harness seals it first as a TLS 1.3 record
 * (TLS_AES_128_GCM_SHA256) under a made-up secret, so that the fuzzer reaches
 * what is read after a record opens: BYTES is the inner plaintext (content,
 * type, zeros), bits 0-2 of H the secret (0: the side's handshake secret, k:
 * its application secret after k-1 key updates), each with its own sequence
 * number. Flags: bits 0-1 how keys come (0: there from the start; 1: only
 * after everything is fed, then a retry; 2: never; 3: every other lookup
 * misses, with a retry after each chunk), bit 2 every secret of a wrong
 * length, bit 3 every chunk not sealed fed REPEAT times over (so that a
 * short input can pass the hold bound).
 *
 * The key callback gives the real secrets of the connections seeded from
 * tests/data/tls (tests/integration/make-tls-streams.py --seeds) and the
 * made-up ones for any other client random. Besides ASan's and UBSan's
 * checks, it aborts if what tlsdec.h promises breaks: an outcome in range
 * that sticks, nothing given after it, counts that add up, an ALPN that ends
 * within its array; and, when the connection is read to the end without an
 * outcome, the same plaintext whether the chunks come interleaved as given,
 * each side whole the client's first, or the server's first.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "../../dissectors/tlsdec.h"

/* The seeded connections' secrets (their key logs, the lines of their client random). */
static const char seed_keys[] =
	/* illustrated-tls12 */
	"CLIENT_RANDOM 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f 916abf9da55973e13614ae0a3f5d3f37b023ba129aee02cc9134338127cd7049781c8e19fc1eb2a7387ac06ae237344c\n"
	/* illustrated-tls13 (the same client random, TLS 1.3 labels) */
	"SERVER_HANDSHAKE_TRAFFIC_SECRET 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f 23323da031634b241dd37d61032b62a4f450584d1f7f47983ba2f7cc0cdcc39a68f481f2b019f9403a3051908a5d1622\n"
	"CLIENT_HANDSHAKE_TRAFFIC_SECRET 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f db89d2d6df0e84fed74a2288f8fd4d0959f790ff23946cdf4c26d85e51bebd42ae184501972f8d30c4a3e4a3693d0ef0\n"
	"SERVER_TRAFFIC_SECRET_0 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f 86c967fd7747a36a0685b4ed8d0e6b4c02b4ddaf3cd294aa44e9f6b0183bf911e89a189ba5dfd71fccffb5cc164901f8\n"
	"CLIENT_TRAFFIC_SECRET_0 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f 9e47af27cb60d818a9ea7d233cb5ed4cc525fcd74614fb24b0ee59acb8e5aa7ff8d88b89792114208fec291a6fa96bad\n"
	/* zeek_tls12-decryption (AES-256-GCM, ALPN in the ServerHello) */
	"CLIENT_RANDOM 4d98940fb40a244b48e42eac287144b1b7393057caa131f961a78e38b0e77c1e bd01e589d105199e9ab5fc9bd758b5f288db28fd80aa02261e4765ac1357d007fd08c7bdab45450e015a01d08e5e7ca6\n"
	/* snet_TLS1_ECDHE-RSA-AES128-SHA (TLS 1.0, CBC, encrypt-then-MAC) */
	"CLIENT_RANDOM 0a23a6ce7ca4cde48e92e0321e12f27527aab6251353423b9d2b4edc45d83721 979b71725bec4910f2c0c3f98038348d6aa16e71a60635ea605e5c55afd9146a29bcabc98f6c607255ddf8415b61b980\n"
	/* snet_TLS1_2_ECDHE-RSA-AES256-SHA384_auth (CBC, SHA-384, encrypt-then-MAC) */
	"CLIENT_RANDOM 0bad80836cf90c3bef0b959f028953e5d64b8a92ff62aa79f15b2ab6fc945451 5768aa03d7dff72460eeb564bde4ffa1ed07a7d8efaa25f9ed5a55c30ad1e3fffe125865452d5353655d26c18d9ca6f1\n"
	/* snet_TLS1_2_ECDHE-ECDSA-CHACHA20-POLY1305_auth */
	"CLIENT_RANDOM 4f13f11fb9106d56fcdccd7839c61a393e5a93589aaf3938ce8d70c449b91259 6168f902c72b31db2db127ed679f95cf50781566b1ebb9e568d43c1526e8dab79532c5c607d3242d449e3264d55e0f7f\n"
	/* snet_TLS1_3_TLS_AES_128_CCM_SHA256 */
	"SERVER_HANDSHAKE_TRAFFIC_SECRET 2377643642e19315c4752ad37013cf373194b834fdc58d9aa6ffb12020d02ab9 198d13da2e5339c89b7eca29d36abd60930d4f944802ca9c855d75e29826977f\n"
	"CLIENT_HANDSHAKE_TRAFFIC_SECRET 2377643642e19315c4752ad37013cf373194b834fdc58d9aa6ffb12020d02ab9 70bfc56acc98c68c6d69c621af6f6c50e2ae8782f8c79e8521739f642f0624bc\n"
	"SERVER_TRAFFIC_SECRET_0 2377643642e19315c4752ad37013cf373194b834fdc58d9aa6ffb12020d02ab9 c65ad301a5c9120f209654441fc10728d904b4523b341169fa141c68909c1502\n"
	"CLIENT_TRAFFIC_SECRET_0 2377643642e19315c4752ad37013cf373194b834fdc58d9aa6ffb12020d02ab9 7cab210345fef7796174176a282e46a2a701d915605c0584ab7fee96787415de\n"
	/* snet_tls1.3_keyupdates_aes256 */
	"SERVER_HANDSHAKE_TRAFFIC_SECRET 172f0e36bede6f9f78157e8e338ee8b5d501a0c264a7c248d4d2092283badd19 574e234b9ed1fe38053194bd7641126bde6e0e005ce33162d5743ab34a99327fce670b1fa134caf943dfbc0a5d686ecc\n"
	"CLIENT_HANDSHAKE_TRAFFIC_SECRET 172f0e36bede6f9f78157e8e338ee8b5d501a0c264a7c248d4d2092283badd19 838049b240d1ae3a80ff4ff0268e248588ec6913f4caae68dfeaf4ea03f330bcab4606d1bee74d299be6c800b2671595\n"
	"SERVER_TRAFFIC_SECRET_0 172f0e36bede6f9f78157e8e338ee8b5d501a0c264a7c248d4d2092283badd19 da4c9bb2d82ce66a35ec5899a9f7bf67e2f24e2b190f9cabc94dd56bfdbf39f54d001da93120554293f711972f03fb16\n"
	"CLIENT_TRAFFIC_SECRET_0 172f0e36bede6f9f78157e8e338ee8b5d501a0c264a7c248d4d2092283badd19 f7f968b5b7eee2b521cda8575822bfdb2887913764a08e35648a26ab4ff98aad230b192ae6b376701395575a372c1c3e\n";

enum {
	SEEDED_MAX = 32,
	GENERATIONS = 8,      /* secret ids 0..7 */
	HASH_LEN = 32,        /* the made-up secrets: SHA-256 sized */
	KEY_LEN = 16,
	IV_LEN = 12,
	TAG_LEN = 16,
	SEALED_MAX = 16384 + 1,
	WRONG_LENGTH = 20,
	REPEAT = 48,
};

static const char *const label_names[KEYLOG_LABEL_COUNT] = {
	"CLIENT_RANDOM", "CLIENT_EARLY_TRAFFIC_SECRET", "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
	"SERVER_HANDSHAKE_TRAFFIC_SECRET", "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0",
};

struct seeded {
	int label;
	uint8_t random[KEYLOG_RANDOM_LEN];
	uint8_t secret[KEYLOG_SECRET_MAX];
	size_t len;
};

static struct seeded seeded[SEEDED_MAX];
static size_t seeded_count;

static size_t unhex(const char *hex, uint8_t *out, size_t max)
{
	size_t n = 0;
	while (n < max && hex[2 * n] && hex[2 * n] != ' ' && hex[2 * n] != '\n') {
		unsigned v;
		if (sscanf(hex + 2 * n, "%2x", &v) != 1)
			abort();
		out[n++] = (uint8_t)v;
	}
	return n;
}

static void read_seed_keys(void)
{
	const char *line = seed_keys;
	while (*line) {
		char label[64];
		int offset = 0;
		if (sscanf(line, "%63s %n", label, &offset) != 1 || seeded_count >= SEEDED_MAX)
			abort();
		struct seeded *s = &seeded[seeded_count++];
		s->label = -1;
		for (int l = 0; l < KEYLOG_LABEL_COUNT; l++)
			if (strcmp(label, label_names[l]) == 0)
				s->label = l;
		const char *random = line + offset;
		if (s->label < 0 || unhex(random, s->random, KEYLOG_RANDOM_LEN) != KEYLOG_RANDOM_LEN)
			abort();
		s->len = unhex(random + 2 * KEYLOG_RANDOM_LEN + 1, s->secret, KEYLOG_SECRET_MAX);
		line = strchr(line, '\n') + 1;
	}
}

/* ---- the made-up TLS 1.3 secrets, and sealing with them -------------------------- */

static void expand_label(const uint8_t *secret, const char *label, uint8_t *out, size_t out_len)
{
	uint8_t info[64];
	size_t label_len = strlen(label), n = 0;
	info[n++] = (uint8_t)(out_len >> 8);
	info[n++] = (uint8_t)out_len;
	info[n++] = (uint8_t)(6 + label_len);
	memcpy(info + n, "tls13 ", 6);
	n += 6;
	memcpy(info + n, label, label_len);
	n += label_len;
	info[n++] = 0;
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
	OSSL_PARAM params[5], *p = params;
	*p++ = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)secret, HASH_LEN);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, n);
	*p = OSSL_PARAM_construct_end();
	if (!ctx || EVP_KDF_derive(ctx, out, out_len, params) != 1)
		abort();
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
}

/* The made-up secret of a label (any client random not seeded), by its byte pattern. */
static size_t made_up_secret(enum keylog_label label, uint8_t out[KEYLOG_SECRET_MAX])
{
	size_t len = label == KEYLOG_MASTER_SECRET ? 48 : HASH_LEN;
	memset(out, 0x11 * (1 + (int)label), len);
	return len;
}

/* The secret a sealed chunk uses: side's handshake secret (id 0) or application secret id-1 updates on. */
static void sealing_secret(int server, int id, uint8_t secret[HASH_LEN])
{
	uint8_t buf[KEYLOG_SECRET_MAX];
	if (id == 0) {
		made_up_secret(server ? KEYLOG_SERVER_HANDSHAKE_TRAFFIC_SECRET
				      : KEYLOG_CLIENT_HANDSHAKE_TRAFFIC_SECRET, buf);
		memcpy(secret, buf, HASH_LEN);
		return;
	}
	made_up_secret(server ? KEYLOG_SERVER_TRAFFIC_SECRET_0 : KEYLOG_CLIENT_TRAFFIC_SECRET_0, buf);
	memcpy(secret, buf, HASH_LEN);
	for (int k = 1; k < id; k++) {
		uint8_t next[HASH_LEN];
		expand_label(secret, "traffic upd", next, HASH_LEN);
		memcpy(secret, next, HASH_LEN);
	}
}

/* A TLS 1.3 record of `plain` under that secret, with its next sequence number; its length. */
static size_t seal(int server, int id, uint64_t seq, const uint8_t *plain, size_t len,
		   uint8_t *out)
{
	uint8_t secret[HASH_LEN], key[KEY_LEN], nonce[IV_LEN];
	sealing_secret(server, id, secret);
	expand_label(secret, "key", key, KEY_LEN);
	expand_label(secret, "iv", nonce, IV_LEN);
	for (int i = 0; i < 8; i++)
		nonce[IV_LEN - 1 - i] ^= (uint8_t)(seq >> (8 * i));
	size_t body = len + TAG_LEN;
	out[0] = 23, out[1] = 3, out[2] = 3, out[3] = (uint8_t)(body >> 8), out[4] = (uint8_t)body;
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n;
	if (!ctx || EVP_EncryptInit_ex(ctx, EVP_aes_128_gcm(), NULL, key, nonce) != 1 ||
	    EVP_EncryptUpdate(ctx, NULL, &n, out, 5) != 1 ||
	    (len > 0 && EVP_EncryptUpdate(ctx, out + 5, &n, plain, (int)len) != 1) ||
	    EVP_EncryptFinal_ex(ctx, out + 5 + len, &n) != 1 ||
	    EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, TAG_LEN, out + 5 + len) != 1)
		abort();
	EVP_CIPHER_CTX_free(ctx);
	return 5 + body;
}

/* ---- runs -------------------------------------------------------------------------- */

struct chunk {
	int server;
	uint8_t *data;
	size_t len;
};

struct run {
	int key_mode;
	int wrong_length;
	int keys_now;               /* for key mode 1: the key log has them */
	unsigned lookups;
	int ended;
	uint64_t given[2];
	uint64_t hash[2];
};

static size_t lookup(void *context, const uint8_t client_random[KEYLOG_RANDOM_LEN],
		     enum keylog_label label, uint8_t out[KEYLOG_SECRET_MAX])
{
	struct run *run = context;
	if ((unsigned)label >= KEYLOG_LABEL_COUNT)
		abort();
	run->lookups++;
	if (run->key_mode == 2 || (run->key_mode == 1 && !run->keys_now) ||
	    (run->key_mode == 3 && run->lookups % 2))
		return 0;
	size_t len = 0;
	int known = 0;
	for (size_t i = 0; i < seeded_count; i++) {
		if (memcmp(seeded[i].random, client_random, KEYLOG_RANDOM_LEN) != 0)
			continue;
		known = 1;
		if (seeded[i].label == (int)label) {
			memcpy(out, seeded[i].secret, seeded[i].len);
			len = seeded[i].len;
		}
	}
	if (!known)
		len = made_up_secret(label, out);
	return len && run->wrong_length ? WRONG_LENGTH : len;
}

static void given(void *context, int from_server, const uint8_t *data, size_t len)
{
	struct run *run = context;
	if (run->ended || (from_server != 0 && from_server != 1) || len == 0)
		abort();
	uint64_t h = run->hash[from_server];
	for (size_t i = 0; i < len; i++)
		h = (h ^ data[i]) * 0x100000001b3ull;
	run->hash[from_server] = h;
	run->given[from_server] += len;
}

static void check_info(const struct tlsdec *dec, const struct run *run)
{
	const struct tlsdec_info *info = tlsdec_info(dec);
	if (!memchr(info->alpn, '\0', sizeof info->alpn))
		abort();
	for (int s = 0; s < 2; s++) {
		if (info->plaintext_bytes[s] != run->given[s])
			abort();
		/* Every byte given and every key update came in a record that opened. */
		if ((run->given[s] || info->key_updates[s]) && !info->records_decrypted[s])
			abort();
		if (info->key_updates[s] > info->records_decrypted[s])
			abort();
		if (info->records_decrypted[s] && (info->version == 0 || info->cipher_suite == 0))
			abort();
	}
	if (info->alpn[0] && info->version == 0)
		abort();
}

static enum tlsdec_end feed(struct tlsdec *dec, struct run *run, int server, const uint8_t *data,
			    size_t len, enum tlsdec_end before)
{
	uint8_t *copy = len ? malloc(len) : NULL;
	if (len && !copy)
		abort();
	if (len)
		memcpy(copy, data, len);
	enum tlsdec_end end = tlsdec_feed(dec, server, copy, len);
	free(copy);
	if ((unsigned)end >= TLSDEC_END_COUNT || (before != TLSDEC_MORE && end != before))
		abort();
	if (end != TLSDEC_MORE) {
		if (tlsdec_waiting(dec))
			abort();
		run->ended = 1;
	}
	check_info(dec, run);
	return end;
}

enum order { AS_GIVEN, CLIENT_FIRST, SERVER_FIRST };

static enum tlsdec_end run_chunks(const struct chunk *chunks, size_t count, int key_mode,
				  int wrong_length, enum order order, struct run *run)
{
	memset(run, 0, sizeof *run);
	run->key_mode = key_mode;
	run->wrong_length = wrong_length;
	struct tlsdec *dec = tlsdec_new(lookup, given, run);
	if (!dec)
		return TLSDEC_END_NO_MEMORY;
	enum tlsdec_end end = TLSDEC_MORE;
	for (int pass = 0; pass < (order == AS_GIVEN ? 1 : 2); pass++) {
		int side = order == SERVER_FIRST ? !pass : pass;
		for (size_t i = 0; i < count; i++) {
			if (order != AS_GIVEN && chunks[i].server != side)
				continue;
			end = feed(dec, run, chunks[i].server, chunks[i].data, chunks[i].len, end);
			if (key_mode == 3) {
				enum tlsdec_end again = tlsdec_retry(dec);
				if (end != TLSDEC_MORE ? again != end : (unsigned)again >= TLSDEC_END_COUNT)
					abort();
				if (again != TLSDEC_MORE)
					run->ended = 1;
				end = again;
				check_info(dec, run);
			}
		}
	}
	run->keys_now = 1;
	enum tlsdec_end again = tlsdec_retry(dec);
	if (end != TLSDEC_MORE && again != end)
		abort();
	if (again != TLSDEC_MORE)
		run->ended = 1;
	end = again;
	check_info(dec, run);
	/* An outcome sticks: nothing more is read or given. */
	if (end != TLSDEC_MORE) {
		static const uint8_t more[] = { 23, 3, 3, 0, 1, 0 };
		if (feed(dec, run, 0, more, sizeof more, end) != end ||
		    feed(dec, run, 1, more, sizeof more, end) != end || tlsdec_retry(dec) != end)
			abort();
	}
	tlsdec_free(dec);
	return end;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!seeded_count)
		read_seed_keys();
	if (size < 1)
		return 0;
	int key_mode = data[0] & 3, wrong_length = (data[0] >> 2) & 1, repeat = (data[0] >> 3) & 1;
	struct chunk chunks[256];
	size_t count = 0, pos = 1;
	uint64_t seq[2][GENERATIONS] = { { 0 } };
	while (pos + 3 <= size && count < sizeof chunks / sizeof chunks[0]) {
		uint8_t h = data[pos];
		size_t len = (size_t)data[pos + 1] << 8 | data[pos + 2];
		pos += 3;
		if (len > size - pos)
			len = size - pos;
		struct chunk *c = &chunks[count];
		c->server = h >> 7;
		if (h & 0x40) {
			if (len > SEALED_MAX)
				len = SEALED_MAX;
			int id = h & (GENERATIONS - 1);
			c->data = malloc(5 + len + TAG_LEN);
			if (!c->data)
				abort();
			c->len = seal(c->server, id, seq[c->server][id]++, data + pos, len, c->data);
		} else {
			size_t times = repeat ? REPEAT : 1;
			c->data = malloc(len ? len * times : 1);
			if (!c->data)
				abort();
			for (size_t t = 0; t < times && len; t++)
				memcpy(c->data + t * len, data + pos, len);
			c->len = len * times;
		}
		pos += len;
		count++;
	}

	struct run given_order, client_first, server_first;
	enum tlsdec_end a = run_chunks(chunks, count, key_mode, wrong_length, AS_GIVEN, &given_order);
	if (key_mode != 3) {
		/* Read to the end without an outcome, in any order: the same plaintext. */
		enum tlsdec_end b = run_chunks(chunks, count, key_mode, wrong_length, CLIENT_FIRST,
					       &client_first);
		enum tlsdec_end c = run_chunks(chunks, count, key_mode, wrong_length, SERVER_FIRST,
					       &server_first);
		if (a == TLSDEC_MORE && b == TLSDEC_MORE &&
		    memcmp(given_order.hash, client_first.hash, sizeof given_order.hash) != 0)
			abort();
		if (a == TLSDEC_MORE && c == TLSDEC_MORE &&
		    memcmp(given_order.hash, server_first.hash, sizeof given_order.hash) != 0)
			abort();
	}
	for (size_t i = 0; i < count; i++)
		free(chunks[i].data);
	return 0;
}
