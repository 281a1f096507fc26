/*
 * Unit tests for dissectors/tlsdec.c. The truth is tshark's: every TCP stream
 * of the captures in tests/data/tls (see its README.md), each side's bytes as
 * tshark reassembles them, is fed to the decryptor with the capture's key log
 * (read here by a small reader of our own, not keylog.c), and each side's
 * application data must have the byte count and SHA-256 that tshark's
 * "follow,tls" gave (NAME.plain.tsv), the version, suite and ALPN that tshark
 * shows (streams.tsv). The streams are fed whole side by side in both orders,
 * segment by segment as they came, one byte at a time, with the keys late, and
 * with the keys coming in stages; every chunk from a heap copy of exactly its
 * length, so that ASan sees a read past it. Then: tampered records, keys that
 * never come, keys of the wrong length, suites and versions we leave out,
 * streams that are not TLS, and broken records; a HelloRetryRequest and 0-RTT
 * records (made from a real connection); and what is read inside protected
 * records (KeyUpdate, EncryptedExtensions, padding, content types), in a TLS
 * 1.3 connection made up here and sealed with OpenSSL's EVP_PKEY HKDF and
 * AES-GCM.
 *
 * Run from the top of the tree (make unit); TLSDEC_DATA names another data
 * directory.
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

#include "../../dissectors/tlsdec.h"

enum {
	STREAMS_MAX = 64,
	SECRETS_MAX = 256,
	PATH_MAX_LEN = 512,
	RECORD_HEADER = 5,
};

static const char *data_dir(void)
{
	const char *dir = getenv("TLSDEC_DATA");
	return dir ? dir : "tests/data/tls";
}

static uint8_t *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
	uint8_t *data = NULL;
	size_t size = 0, used = 0;
	for (;;) {
		if (used == size) {
			size = size ? size * 2 : 4096;
			data = realloc(data, size + 1);
			assert_non_null(data);
		}
		size_t n = fread(data + used, 1, size - used, f);
		used += n;
		if (n == 0)
			break;
	}
	fclose(f);
	data[used] = '\0';
	*len = used;
	return data;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Hex digits to bytes: the number of bytes, or 0 if it is not all hex or too long. */
static size_t from_hex(const char *hex, size_t hex_len, uint8_t *out, size_t out_max)
{
	if (hex_len % 2 != 0 || hex_len / 2 > out_max)
		return 0;
	for (size_t i = 0; i < hex_len / 2; i++) {
		int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return 0;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return hex_len / 2;
}

/* ---- the key log ------------------------------------------------------------ */

static const char *const label_names[KEYLOG_LABEL_COUNT] = {
	[KEYLOG_MASTER_SECRET] = "CLIENT_RANDOM",
	[KEYLOG_CLIENT_EARLY_TRAFFIC_SECRET] = "CLIENT_EARLY_TRAFFIC_SECRET",
	[KEYLOG_CLIENT_HANDSHAKE_TRAFFIC_SECRET] = "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
	[KEYLOG_SERVER_HANDSHAKE_TRAFFIC_SECRET] = "SERVER_HANDSHAKE_TRAFFIC_SECRET",
	[KEYLOG_CLIENT_TRAFFIC_SECRET_0] = "CLIENT_TRAFFIC_SECRET_0",
	[KEYLOG_SERVER_TRAFFIC_SECRET_0] = "SERVER_TRAFFIC_SECRET_0",
};

struct secret {
	enum keylog_label label;
	uint8_t random[KEYLOG_RANDOM_LEN];
	uint8_t bytes[KEYLOG_SECRET_MAX];
	size_t len;
};

struct keys {
	struct secret list[SECRETS_MAX];
	size_t count;
};

/* "LABEL RANDOM SECRET" lines; other labels (EXPORTER_SECRET ...) and comments skipped. */
static void read_keys(const char *path, struct keys *keys)
{
	size_t len;
	char *text = (char *)read_file(path, &len);
	keys->count = 0;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		char label[64], random[80], secret[160];
		if (line[0] == '#' || sscanf(line, "%63s %79s %159s", label, random, secret) != 3)
			continue;
		for (int l = 0; l < KEYLOG_LABEL_COUNT; l++) {
			if (strcmp(label, label_names[l]) != 0)
				continue;
			assert_true(keys->count < SECRETS_MAX);
			struct secret *s = &keys->list[keys->count];
			s->label = (enum keylog_label)l;
			s->len = from_hex(secret, strlen(secret), s->bytes, sizeof s->bytes);
			if (from_hex(random, strlen(random), s->random, sizeof s->random) ==
				    KEYLOG_RANDOM_LEN &&
			    s->len > 0)
				keys->count++;
		}
	}
	free(text);
}

/* ---- one run of the decryptor, and what it gave -------------------------------- */

struct run {
	const struct keys *keys;
	unsigned available;          /* a bit per enum keylog_label: what the key log has now */
	size_t wrong_length;         /* if not 0: every secret is given with this length */
	unsigned lookups;
	struct tlsdec *dec;
	int ended;                   /* the test saw a final state */
	unsigned given_after_end;
	EVP_MD_CTX *sha[2];
	uint64_t bytes[2];
};

static size_t lookup(void *context, const uint8_t client_random[KEYLOG_RANDOM_LEN],
		     enum keylog_label label, uint8_t out[KEYLOG_SECRET_MAX])
{
	struct run *run = context;
	run->lookups++;
	assert_true((unsigned)label < KEYLOG_LABEL_COUNT);
	if (!(run->available & (1u << label)) || !run->keys)
		return 0;
	for (size_t i = 0; i < run->keys->count; i++) {
		const struct secret *s = &run->keys->list[i];
		if (s->label == label && memcmp(s->random, client_random, KEYLOG_RANDOM_LEN) == 0) {
			memcpy(out, s->bytes, s->len);
			return run->wrong_length ? run->wrong_length : s->len;
		}
	}
	return 0;
}

static void given(void *context, int from_server, const uint8_t *data, size_t len)
{
	struct run *run = context;
	assert_true(from_server == 0 || from_server == 1);
	assert_true(len > 0);
	if (run->ended)
		run->given_after_end++;
	/* Touch every byte, for ASan. */
	assert_int_equal(EVP_DigestUpdate(run->sha[from_server], data, len), 1);
	run->bytes[from_server] += len;
}

static void run_start(struct run *run, const struct keys *keys)
{
	memset(run, 0, sizeof *run);
	run->keys = keys;
	run->available = (1u << KEYLOG_LABEL_COUNT) - 1;
	for (int s = 0; s < 2; s++) {
		run->sha[s] = EVP_MD_CTX_new();
		assert_non_null(run->sha[s]);
		assert_int_equal(EVP_DigestInit_ex(run->sha[s], EVP_sha256(), NULL), 1);
	}
	run->dec = tlsdec_new(lookup, given, run);
	assert_non_null(run->dec);
}

/* The SHA-256 of each side's data as hex, "-" for none (as plain.tsv writes it). */
static void run_finish(struct run *run, char sha[2][65])
{
	for (int s = 0; s < 2; s++) {
		uint8_t digest[32];
		unsigned n = 0;
		assert_int_equal(EVP_DigestFinal_ex(run->sha[s], digest, &n), 1);
		EVP_MD_CTX_free(run->sha[s]);
		if (run->bytes[s] == 0) {
			strcpy(sha[s], "-");
			continue;
		}
		for (unsigned i = 0; i < n; i++)
			sprintf(sha[s] + 2 * i, "%02x", digest[i]);
	}
	tlsdec_free(run->dec);
	run->dec = NULL;
}

/* Feeds from a heap copy of exactly the chunk; checks what the API promises. */
static enum tlsdec_end feed(struct run *run, int from_server, const uint8_t *data, size_t len)
{
	uint8_t *copy = NULL;
	if (len > 0) {
		copy = malloc(len);
		assert_non_null(copy);
		memcpy(copy, data, len);
	}
	enum tlsdec_end end = tlsdec_feed(run->dec, from_server, copy, len);
	free(copy);
	assert_true((unsigned)end < TLSDEC_END_COUNT);
	const struct tlsdec_info *info = tlsdec_info(run->dec);
	assert_non_null(memchr(info->alpn, '\0', sizeof info->alpn));
	assert_true(info->plaintext_bytes[0] == run->bytes[0]);
	assert_true(info->plaintext_bytes[1] == run->bytes[1]);
	if (end != TLSDEC_MORE) {
		assert_false(tlsdec_waiting(run->dec));
		run->ended = 1;
	}
	return end;
}

/* ---- the streams -------------------------------------------------------------- */

struct segment {
	int from_server;
	size_t len;
};

struct stream {
	char capture[128];
	int number;
	uint16_t version, suite;
	char alpn[TLSDEC_ALPN_MAX];
	uint8_t *bin[2];
	size_t len[2];
	struct segment *segments;
	size_t segment_count;
	uint64_t expect_bytes[2];
	char expect_sha[2][65];
	struct keys keys;
};

static struct stream streams[STREAMS_MAX];
static size_t stream_count;

static void read_plain(struct stream *st)
{
	char path[PATH_MAX_LEN];
	snprintf(path, sizeof path, "%s/%s.plain.tsv", data_dir(), st->capture);
	size_t len;
	char *text = (char *)read_file(path, &len);
	int found = 0;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		int number;
		char direction[16], sha[80];
		unsigned long long bytes;
		if (sscanf(line, "%d\t%15s\t%llu\t%79s", &number, direction, &bytes, sha) != 4 ||
		    number != st->number)
			continue;
		int s = strcmp(direction, "server") == 0;
		st->expect_bytes[s] = bytes;
		assert_true(strlen(sha) < sizeof st->expect_sha[s]);
		strcpy(st->expect_sha[s], sha);
		found++;
	}
	free(text);
	assert_int_equal(found, 2);
}

static void read_order(struct stream *st)
{
	char path[PATH_MAX_LEN];
	snprintf(path, sizeof path, "%s/%s.stream%d.order", data_dir(), st->capture, st->number);
	size_t len;
	char *text = (char *)read_file(path, &len);
	size_t lines = 0;
	for (size_t i = 0; i < len; i++)
		lines += text[i] == '\n';
	st->segments = calloc(lines + 1, sizeof *st->segments);
	assert_non_null(st->segments);
	size_t total[2] = { 0, 0 };
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		char who[16];
		size_t n;
		assert_int_equal(sscanf(line, "%15s %zu", who, &n), 2);
		struct segment *seg = &st->segments[st->segment_count++];
		seg->from_server = strcmp(who, "server") == 0;
		seg->len = n;
		total[seg->from_server] += n;
	}
	free(text);
	assert_true(total[0] == st->len[0] && total[1] == st->len[1]);
}

static int load_streams(void **state)
{
	(void)state;
	char path[PATH_MAX_LEN];
	snprintf(path, sizeof path, "%s/streams.tsv", data_dir());
	size_t len;
	char *text = (char *)read_file(path, &len);
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#' || strncmp(line, "capture\t", 8) == 0)
			continue;
		assert_true(stream_count < STREAMS_MAX);
		struct stream *st = &streams[stream_count];
		unsigned version, suite;
		assert_int_equal(sscanf(line, "%127s\t%d\t%x\t%x\t%255s", st->capture, &st->number,
					&version, &suite, st->alpn),
				 5);
		st->version = (uint16_t)version;
		st->suite = (uint16_t)suite;
		if (strcmp(st->alpn, "-") == 0)
			st->alpn[0] = '\0';
		for (int s = 0; s < 2; s++) {
			snprintf(path, sizeof path, "%s/%s.stream%d.%s.bin", data_dir(), st->capture,
				 st->number, s ? "server" : "client");
			st->bin[s] = read_file(path, &st->len[s]);
		}
		read_order(st);
		read_plain(st);
		snprintf(path, sizeof path, "%s/%s.keys", data_dir(), st->capture);
		read_keys(path, &st->keys);
		stream_count++;
	}
	free(text);
	assert_true(stream_count > 0);
	return 0;
}

static int free_streams(void **state)
{
	(void)state;
	for (size_t i = 0; i < stream_count; i++) {
		free(streams[i].bin[0]);
		free(streams[i].bin[1]);
		free(streams[i].segments);
	}
	stream_count = 0;
	return 0;
}

/* ---- feeding a whole stream ----------------------------------------------------- */

enum plan {
	PLAN_CLIENT_FIRST,   /* each side whole: the client's, then the server's */
	PLAN_SERVER_FIRST,   /* the server's first: its records wait for the client random */
	PLAN_SEGMENTS,       /* segment by segment, as they came */
	PLAN_BYTES,          /* one byte at a time, segments as they came */
	PLAN_LATE_KEYS,      /* as they came, with no key; then all keys and a retry */
	PLAN_STAGED_KEYS,    /* as they came, with no key; then one label at a time, a retry each */
	PLAN_COUNT,
};

static const char *const plan_names[PLAN_COUNT] = {
	"client-first", "server-first", "segments", "bytes", "late-keys", "staged-keys",
};

static enum tlsdec_end feed_segments(struct run *run, const struct stream *st, int bytewise)
{
	size_t at[2] = { 0, 0 };
	enum tlsdec_end end = TLSDEC_MORE;
	for (size_t i = 0; i < st->segment_count; i++) {
		const struct segment *seg = &st->segments[i];
		int s = seg->from_server;
		size_t step = bytewise ? 1 : seg->len;
		for (size_t done = 0; done < seg->len; done += step)
			end = feed(run, s, st->bin[s] + at[s] + done, step);
		at[s] += seg->len;
	}
	return end;
}

/* Runs one plan on one stream; returns the number of mismatches (printed). */
static int check_stream(const struct stream *st, enum plan plan)
{
	struct run run;
	run_start(&run, &st->keys);
	enum tlsdec_end end = TLSDEC_MORE;
	int bad = 0;
	switch (plan) {
	case PLAN_CLIENT_FIRST:
		end = feed(&run, 0, st->bin[0], st->len[0]);
		end = feed(&run, 1, st->bin[1], st->len[1]);
		break;
	case PLAN_SERVER_FIRST:
		end = feed(&run, 1, st->bin[1], st->len[1]);
		end = feed(&run, 0, st->bin[0], st->len[0]);
		break;
	case PLAN_SEGMENTS:
		end = feed_segments(&run, st, 0);
		break;
	case PLAN_BYTES:
		end = feed_segments(&run, st, 1);
		break;
	case PLAN_LATE_KEYS:
	case PLAN_STAGED_KEYS:
		run.available = 0;
		end = feed_segments(&run, st, 0);
		/* Nothing can be opened without a key: all held, nothing given. */
		if (end != TLSDEC_MORE || !tlsdec_waiting(run.dec) || run.bytes[0] || run.bytes[1]) {
			printf("  %s: no key: %s, waiting %d\n", st->capture, tlsdec_end_name(end),
			       tlsdec_waiting(run.dec));
			bad++;
		}
		if (plan == PLAN_LATE_KEYS) {
			run.available = (1u << KEYLOG_LABEL_COUNT) - 1;
			end = tlsdec_retry(run.dec);
			break;
		}
		for (int label = 0; label < KEYLOG_LABEL_COUNT; label++) {
			run.available |= 1u << label;
			end = tlsdec_retry(run.dec);
			assert_true(end == TLSDEC_MORE);
		}
		break;
	default:
		fail();
	}
	const struct tlsdec_info *info = tlsdec_info(run.dec);
	if (end != TLSDEC_MORE || tlsdec_waiting(run.dec)) {
		printf("  %s stream %d, %s: ended %s, waiting %d\n", st->capture, st->number,
		       plan_names[plan], tlsdec_end_name(end), tlsdec_waiting(run.dec));
		bad++;
	}
	if (info->version != st->version || info->cipher_suite != st->suite ||
	    strcmp(info->alpn, st->alpn) != 0) {
		printf("  %s, %s: version %04x suite %04x alpn \"%s\", tshark %04x %04x \"%s\"\n",
		       st->capture, plan_names[plan], info->version, info->cipher_suite, info->alpn,
		       st->version, st->suite, st->alpn);
		bad++;
	}
	/* The key updates capture has one a side; no other has any. */
	int updates = strstr(st->capture, "keyupdate") != NULL;
	for (int s = 0; s < 2; s++)
		if ((updates && info->key_updates[s] == 0) || (!updates && info->key_updates[s]) ||
		    info->records_decrypted[s] == 0) {
			printf("  %s, %s: side %d: %llu key updates, %llu records\n", st->capture,
			       plan_names[plan], s, (unsigned long long)info->key_updates[s],
			       (unsigned long long)info->records_decrypted[s]);
			bad++;
		}
	uint64_t bytes[2] = { run.bytes[0], run.bytes[1] };
	char sha[2][65];
	run_finish(&run, sha);
	for (int s = 0; s < 2; s++)
		if (bytes[s] != st->expect_bytes[s] || strcmp(sha[s], st->expect_sha[s]) != 0) {
			printf("  %s stream %d %s, %s: %llu bytes sha256 %s; tshark %llu %s\n",
			       st->capture, st->number, s ? "server" : "client", plan_names[plan],
			       (unsigned long long)bytes[s], sha[s],
			       (unsigned long long)st->expect_bytes[s], st->expect_sha[s]);
			bad++;
		}
	return bad;
}

static void check_plan(enum plan plan)
{
	int bad = 0, sides = 0;
	for (size_t i = 0; i < stream_count; i++) {
		int b = check_stream(&streams[i], plan);
		bad += b;
		sides += 2;
	}
	printf("  %s: %zu streams, %d sides: %d mismatches\n", plan_names[plan], stream_count,
	       sides, bad);
	assert_int_equal(bad, 0);
}

static void test_client_first(void **state)
{
	(void)state;
	/* Every stream on its own line, once: what the report counts. */
	for (size_t i = 0; i < stream_count; i++) {
		const struct stream *st = &streams[i];
		int bad = check_stream(st, PLAN_CLIENT_FIRST);
		printf("  %-48s %04x %04x %-8s client %5llu B, server %5llu B: %s\n", st->capture,
		       st->version, st->suite, st->alpn[0] ? st->alpn : "-",
		       (unsigned long long)st->expect_bytes[0],
		       (unsigned long long)st->expect_bytes[1], bad ? "MISMATCH" : "= tshark");
	}
	check_plan(PLAN_CLIENT_FIRST);
}

static void test_server_first(void **state)
{
	(void)state;
	check_plan(PLAN_SERVER_FIRST);
}

static void test_segments(void **state)
{
	(void)state;
	check_plan(PLAN_SEGMENTS);
}

static void test_bytes(void **state)
{
	(void)state;
	check_plan(PLAN_BYTES);
}

static void test_late_keys(void **state)
{
	(void)state;
	check_plan(PLAN_LATE_KEYS);
}

static void test_staged_keys(void **state)
{
	(void)state;
	check_plan(PLAN_STAGED_KEYS);
}

/* ---- records, found by walking a side's bytes ------------------------------------ */

static const struct stream *find_stream(const char *capture)
{
	for (size_t i = 0; i < stream_count; i++)
		if (strcmp(streams[i].capture, capture) == 0)
			return &streams[i];
	fail_msg("no stream of %s in %s", capture, data_dir());
	return NULL;
}

/* The offset of record `index` of a side (0 first; -1 the last). */
static size_t record_at(const uint8_t *data, size_t len, int index)
{
	size_t pos = 0, last = 0;
	for (int i = 0; pos + RECORD_HEADER <= len; i++) {
		if (i == index)
			return pos;
		last = pos;
		pos += RECORD_HEADER + ((size_t)data[pos + 3] << 8 | data[pos + 4]);
	}
	assert_true(index < 0 && pos == len);
	return last;
}

/* The offset of the first record of this type at or after `from`. */
static size_t record_of_type(const uint8_t *data, size_t len, size_t from, uint8_t type)
{
	size_t pos = 0;
	while (pos + RECORD_HEADER <= len) {
		if (pos >= from && data[pos] == type)
			return pos;
		pos += RECORD_HEADER + ((size_t)data[pos + 3] << 8 | data[pos + 4]);
	}
	fail_msg("no record of type %u", type);
	return 0;
}

static size_t record_len(const uint8_t *data, size_t at)
{
	return RECORD_HEADER + ((size_t)data[at + 3] << 8 | data[at + 4]);
}

/* Feeds a stream (as it came) with one byte of one side changed. */
static enum tlsdec_end feed_tampered(struct run *run, const struct stream *st, int side,
				     size_t offset)
{
	uint8_t *copy = malloc(st->len[side]);
	assert_non_null(copy);
	memcpy(copy, st->bin[side], st->len[side]);
	copy[offset] ^= 0x01;
	struct stream tampered = *st;
	tampered.bin[side] = copy;
	enum tlsdec_end end = feed_segments(run, &tampered, 0);
	/* Sticky, and nothing more given. */
	assert_int_equal(feed(run, 0, st->bin[0], st->len[0]), end);
	assert_int_equal(feed(run, 1, st->bin[1], st->len[1]), end);
	assert_int_equal(tlsdec_retry(run->dec), end);
	assert_int_equal(feed(run, 0, NULL, 0), end);
	free(copy);
	return end;
}

/*
 * A changed bit in a protected record, for every suite: the tag, MAC or
 * padding fails, the decryptor ends and gives nothing more. First in the
 * client's last record (its close_notify alert or its last data), then in
 * the middle of the server's first protected record (nothing of the server
 * is given).
 */
static void test_tampered(void **state)
{
	(void)state;
	for (size_t i = 0; i < stream_count; i++) {
		const struct stream *st = &streams[i];
		struct run run;
		char sha[2][65];

		run_start(&run, &st->keys);
		size_t last = record_at(st->bin[0], st->len[0], -1);
		enum tlsdec_end end = feed_tampered(&run, st, 0, last + record_len(st->bin[0], last) - 1);
		if (end != TLSDEC_END_AUTH_FAILED)
			fail_msg("%s: client's last record changed: %s", st->capture,
				 tlsdec_end_name(end));
		assert_int_equal(run.given_after_end, 0);
		assert_true(run.bytes[0] <= st->expect_bytes[0]);
		run_finish(&run, sha);

		run_start(&run, &st->keys);
		/* The server's first protected record: after its change_cipher_spec (TLS
		 * 1.2) or its first application_data record (TLS 1.3). */
		size_t at = st->version == 0x0304
				    ? record_of_type(st->bin[1], st->len[1], 0, 23)
				    : record_of_type(st->bin[1], st->len[1], 0, 20);
		if (st->version != 0x0304)
			at += record_len(st->bin[1], at);
		end = feed_tampered(&run, st, 1, at + record_len(st->bin[1], at) / 2);
		if (end != TLSDEC_END_AUTH_FAILED)
			fail_msg("%s: server's first protected record changed: %s", st->capture,
				 tlsdec_end_name(end));
		assert_int_equal(run.bytes[1], 0);
		assert_int_equal(run.given_after_end, 0);
		assert_int_equal(tlsdec_info(run.dec)->plaintext_bytes[1], 0);
		run_finish(&run, sha);
	}
}

/* Wrong keys: the secret of another connection (the same length) fails to authenticate. */
static void test_wrong_keys(void **state)
{
	(void)state;
	const struct stream *st12 = find_stream("snet_TLS1_2_ECDHE-RSA-AES128-GCM-SHA256_auth");
	const struct stream *st13 = find_stream("snet_TLS1_3_TLS_AES_128_GCM_SHA256");
	const struct stream *pairs[2][2] = { { st12, find_stream("zeek_tls12-decryption") },
					     { st13, find_stream("illustrated-tls13-archive") } };
	/* record header, handshake header, legacy_version */
	const size_t client_random_at = RECORD_HEADER + 4 + 2;
	for (int p = 0; p < 2; p++) {
		/* The other connection's secrets under this one's client random. */
		struct keys keys = pairs[p][1]->keys;
		for (size_t k = 0; k < keys.count; k++)
			memcpy(keys.list[k].random, pairs[p][0]->bin[0] + client_random_at,
			       KEYLOG_RANDOM_LEN);
		struct run run;
		char sha[2][65];
		run_start(&run, &keys);
		enum tlsdec_end end = feed_segments(&run, pairs[p][0], 0);
		if (end != TLSDEC_END_AUTH_FAILED)
			fail_msg("%s with the secrets of %s: %s, %u lookups", pairs[p][0]->capture,
				 pairs[p][1]->capture, tlsdec_end_name(end), run.lookups);
		assert_int_equal(run.bytes[0] + run.bytes[1], 0);
		run_finish(&run, sha);
	}
}

/* A secret of the wrong length for the suite ends the decryptor: it cannot be used. */
static void test_wrong_secret_length(void **state)
{
	(void)state;
	const char *captures[] = { "illustrated-tls13", "illustrated-tls12" };
	for (int i = 0; i < 2; i++) {
		const struct stream *st = find_stream(captures[i]);
		struct run run;
		char sha[2][65];
		run_start(&run, &st->keys);
		run.wrong_length = 32 + 8;
		assert_int_equal(feed_segments(&run, st, 0), TLSDEC_END_NO_KEY);
		assert_int_equal(run.bytes[0] + run.bytes[1], 0);
		run_finish(&run, sha);
	}
}

/*
 * A key that never comes: records are held up to TLSDEC_HOLD_MAX bytes a
 * side, then the decryptor ends. The hellos of a real connection, then
 * protected records of 16 KiB made up on the server's side.
 */
static void test_no_key(void **state)
{
	(void)state;
	const struct stream *st = find_stream("illustrated-tls13");
	struct run run;
	char sha[2][65];
	run_start(&run, &st->keys);
	run.available = 0;
	assert_int_equal(feed(&run, 0, st->bin[0], record_len(st->bin[0], 0)), TLSDEC_MORE);
	assert_int_equal(feed(&run, 1, st->bin[1], record_len(st->bin[1], 0)), TLSDEC_MORE);
	assert_int_equal(tlsdec_info(run.dec)->version, 0x0304);
	assert_false(tlsdec_waiting(run.dec));

	enum { BODY = 16384 };
	uint8_t *record = malloc(RECORD_HEADER + BODY);
	assert_non_null(record);
	record[0] = 23, record[1] = 3, record[2] = 3, record[3] = BODY >> 8, record[4] = BODY & 0xff;
	for (size_t i = 0; i < BODY; i++)
		record[RECORD_HEADER + i] = (uint8_t)(i * 7);
	size_t held = 0;
	int records = 0;
	while (held + RECORD_HEADER + BODY <= TLSDEC_HOLD_MAX) {
		assert_int_equal(feed(&run, 1, record, RECORD_HEADER + BODY), TLSDEC_MORE);
		assert_true(tlsdec_waiting(run.dec));
		held += RECORD_HEADER + BODY;
		records++;
	}
	assert_int_equal(records, TLSDEC_HOLD_MAX / (RECORD_HEADER + BODY));
	/* A retry with still no key changes nothing. */
	unsigned lookups = run.lookups;
	assert_int_equal(tlsdec_retry(run.dec), TLSDEC_MORE);
	assert_true(run.lookups > lookups);
	assert_true(tlsdec_waiting(run.dec));
	/* One byte more than the bound. */
	size_t fill = TLSDEC_HOLD_MAX - held;
	assert_int_equal(feed(&run, 1, record, fill), TLSDEC_MORE);
	assert_int_equal(feed(&run, 1, record, 1), TLSDEC_END_NO_KEY);
	/* Final: a key now changes nothing. */
	run.available = (1u << KEYLOG_LABEL_COUNT) - 1;
	assert_int_equal(tlsdec_retry(run.dec), TLSDEC_END_NO_KEY);
	assert_int_equal(feed(&run, 0, st->bin[0], st->len[0]), TLSDEC_END_NO_KEY);
	assert_int_equal(run.bytes[0] + run.bytes[1], 0);
	free(record);
	run_finish(&run, sha);
}

/* The client's records wait for the server's hello, within the same bound. */
static void test_hold_for_peer(void **state)
{
	(void)state;
	const struct stream *st = find_stream("illustrated-tls13");
	struct run run;
	char sha[2][65];
	run_start(&run, &st->keys);
	assert_int_equal(feed(&run, 0, st->bin[0], st->len[0]), TLSDEC_MORE);
	/* Waiting, but for the server's hello, not for a key. */
	assert_false(tlsdec_waiting(run.dec));
	assert_int_equal(run.bytes[0], 0);
	assert_int_equal(run.lookups, 0);
	/* The server's hello alone lets the client's records go. */
	assert_int_equal(feed(&run, 1, st->bin[1], record_len(st->bin[1], 0)), TLSDEC_MORE);
	assert_int_equal(run.bytes[0], 4);
	run_finish(&run, sha);

	/*
	 * Without the server, more than the peer bound is too much: the
	 * ClientHello is read (not held), then records of 100 bytes: half of
	 * TLSDEC_PEER_HOLD_MAX is held, the bound and a byte is too much.
	 */
	run_start(&run, &st->keys);
	uint8_t *held = calloc(1, TLSDEC_PEER_HOLD_MAX + 1);
	assert_non_null(held);
	for (size_t pos = 0; pos + RECORD_HEADER <= TLSDEC_PEER_HOLD_MAX; pos += RECORD_HEADER + 100)
		held[pos] = 23, held[pos + 1] = 3, held[pos + 2] = 3, held[pos + 3] = 0,
		held[pos + 4] = 100;
	assert_int_equal(feed(&run, 0, st->bin[0], record_len(st->bin[0], 0)), TLSDEC_MORE);
	assert_int_equal(feed(&run, 0, held, TLSDEC_PEER_HOLD_MAX / 2), TLSDEC_MORE);
	assert_int_equal(feed(&run, 0, held + TLSDEC_PEER_HOLD_MAX / 2, TLSDEC_PEER_HOLD_MAX / 2 + 1),
			 TLSDEC_END_NO_KEY);
	free(held);
	run_finish(&run, sha);
}

/* A copy of the server's side with its ServerHello changed by `patch`. */
static uint8_t *server_with(const struct stream *st, void (*patch)(uint8_t *hello, size_t len))
{
	uint8_t *copy = malloc(st->len[1]);
	assert_non_null(copy);
	memcpy(copy, st->bin[1], st->len[1]);
	assert_int_equal(copy[0], 22);
	assert_int_equal(copy[5], 2);
	patch(copy + 9, record_len(copy, 0) - 9);
	return copy;
}

/* ServerHello body: version(2) random(32) session_id<1> suite(2) ... */
static size_t suite_offset(const uint8_t *hello)
{
	return 2 + 32 + 1 + hello[34];
}

static void patch_3des(uint8_t *hello, size_t len)
{
	(void)len;
	hello[suite_offset(hello)] = 0x00, hello[suite_offset(hello) + 1] = 0x0a;
}

static void patch_ccm8(uint8_t *hello, size_t len)
{
	(void)len;
	hello[suite_offset(hello)] = 0x13, hello[suite_offset(hello) + 1] = 0x05;
}

static void patch_ssl3(uint8_t *hello, size_t len)
{
	(void)len;
	hello[1] = 0x00;
}

static void patch_deflate(uint8_t *hello, size_t len)
{
	(void)len;
	hello[suite_offset(hello) + 2] = 1;
}

static void patch_gcm_suite_in_tls11(uint8_t *hello, size_t len)
{
	(void)len;
	hello[1] = 0x02;
	hello[suite_offset(hello)] = 0xc0, hello[suite_offset(hello) + 1] = 0x2f;
}

/* Suites and versions we do not decrypt end the decryptor, named in the info. */
static void test_unsupported(void **state)
{
	(void)state;
	const struct {
		const char *capture;
		void (*patch)(uint8_t *, size_t);
		uint16_t version, suite;
	} cases[] = {
		{ "illustrated-tls12", patch_3des, 0x0303, 0x000a },
		{ "illustrated-tls13", patch_ccm8, 0x0304, 0x1305 },
		{ "illustrated-tls12", patch_ssl3, 0x0300, 0xc013 },
		{ "illustrated-tls12", patch_gcm_suite_in_tls11, 0x0302, 0xc02f },
		{ "illustrated-tls12", patch_deflate, 0x0303, 0xc013 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct stream *st = find_stream(cases[i].capture);
		uint8_t *server = server_with(st, cases[i].patch);
		struct run run;
		char sha[2][65];
		run_start(&run, &st->keys);
		assert_int_equal(feed(&run, 0, st->bin[0], st->len[0]), TLSDEC_MORE);
		assert_int_equal(feed(&run, 1, server, st->len[1]), TLSDEC_END_UNSUPPORTED);
		assert_int_equal(tlsdec_info(run.dec)->version, cases[i].version);
		assert_int_equal(tlsdec_info(run.dec)->cipher_suite, cases[i].suite);
		assert_int_equal(run.bytes[0] + run.bytes[1], 0);
		assert_int_equal(run.given_after_end, 0);
		free(server);
		run_finish(&run, sha);
	}
}

static enum tlsdec_end feed_text(const char *text, size_t len, int from_server)
{
	struct run run;
	char sha[2][65];
	run_start(&run, NULL);
	enum tlsdec_end end = feed(&run, from_server, (const uint8_t *)text, len);
	run_finish(&run, sha);
	return end;
}

#define FEED_TEXT(text, from_server) feed_text(text, sizeof text - 1, from_server)

static void test_not_tls(void **state)
{
	(void)state;
	assert_int_equal(FEED_TEXT("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n", 0),
			 TLSDEC_END_NOT_TLS);
	assert_int_equal(FEED_TEXT("HTTP/1.1 200 OK\r\n", 1), TLSDEC_END_NOT_TLS);
	assert_int_equal(FEED_TEXT("SSH-2.0-OpenSSH_9.2\r\n", 1), TLSDEC_END_NOT_TLS);
	/* SSLv2's record header (high bit of the length set) */
	assert_int_equal(FEED_TEXT("\x80\x2e\x01\x00\x02", 0), TLSDEC_END_NOT_TLS);
	/* A 3.x header of a type TLS does not have */
	assert_int_equal(FEED_TEXT("\x19\x03\x03\x00\x01", 0), TLSDEC_END_NOT_TLS);
	/* Too few bytes to say: more. */
	assert_int_equal(FEED_TEXT("\x16\x03", 0), TLSDEC_MORE);
}

static enum tlsdec_end feed_bytes(int from_server, const uint8_t *data, size_t len,
				  const struct stream *st)
{
	struct run run;
	char sha[2][65];
	run_start(&run, st ? &st->keys : NULL);
	if (st)
		assert_int_equal(feed(&run, 0, st->bin[0], record_len(st->bin[0], 0)), TLSDEC_MORE);
	enum tlsdec_end end = feed(&run, from_server, data, len);
	run_finish(&run, sha);
	return end;
}

static void test_bad_records(void **state)
{
	(void)state;
	const struct stream *st = find_stream("illustrated-tls13");
	size_t hello = record_len(st->bin[0], 0);

	/* A record longer than 2^14 + 2048 */
	const uint8_t too_long[] = { 22, 3, 1, 0x48, 0x01 };
	assert_int_equal(feed_bytes(0, too_long, sizeof too_long, NULL), TLSDEC_END_BAD_RECORD);
	/* After a good record, a header that is not TLS */
	const uint8_t get[] = { 'G', 'E', 'T', ' ', '/' };
	assert_int_equal(feed_bytes(0, get, sizeof get, st), TLSDEC_END_BAD_RECORD);
	/* A client that does not begin with a ClientHello (a connection seen from its middle) */
	const uint8_t data_first[] = { 23, 3, 3, 0, 3, 1, 2, 3 };
	assert_int_equal(feed_bytes(0, data_first, sizeof data_first, NULL), TLSDEC_END_BAD_RECORD);
	/* ... or with another handshake message */
	const uint8_t finished_first[] = { 22, 3, 3, 0, 5, 20, 0, 0, 1, 0 };
	assert_int_equal(feed_bytes(0, finished_first, sizeof finished_first, NULL),
			 TLSDEC_END_BAD_RECORD);
	/* A server that begins with application data */
	assert_int_equal(feed_bytes(1, data_first, sizeof data_first, st), TLSDEC_END_BAD_RECORD);
	/* An empty handshake record */
	const uint8_t empty[] = { 22, 3, 3, 0, 0 };
	assert_int_equal(feed_bytes(0, empty, sizeof empty, NULL), TLSDEC_END_BAD_RECORD);
	/* A ClientHello cut short inside its own length */
	const uint8_t short_hello[] = { 22, 3, 1, 0, 8, 1, 0, 0, 4, 3, 3, 0, 0 };
	assert_int_equal(feed_bytes(0, short_hello, sizeof short_hello, NULL),
			 TLSDEC_END_BAD_RECORD);
	/* A ClientHello whose header claims more than 64 KiB */
	const uint8_t huge_hello[] = { 22, 3, 1, 0, 4, 1, 0x01, 0x00, 0x00 };
	assert_int_equal(feed_bytes(0, huge_hello, sizeof huge_hello, NULL),
			 TLSDEC_END_BAD_RECORD);
	/* A server's second ServerHello */
	{
		struct run run;
		char sha[2][65];
		run_start(&run, &st->keys);
		size_t sh = record_len(st->bin[1], 0);
		uint8_t *twice = malloc(2 * sh);
		assert_non_null(twice);
		memcpy(twice, st->bin[1], sh);
		memcpy(twice + sh, st->bin[1], sh);
		assert_int_equal(feed(&run, 0, st->bin[0], hello), TLSDEC_MORE);
		assert_int_equal(feed(&run, 1, twice, 2 * sh), TLSDEC_END_BAD_RECORD);
		free(twice);
		run_finish(&run, sha);
	}
}

/* Feeds two sides made up here, whole, the client's first; returns the outcome. */
static enum tlsdec_end feed_made(struct run *run, const uint8_t *client, size_t client_len,
				 const uint8_t *server, size_t server_len)
{
	enum tlsdec_end end = feed(run, 0, client, client_len);
	if (end == TLSDEC_MORE)
		end = feed(run, 1, server, server_len);
	return end;
}

/* Bytes joined: a heap buffer of exactly their length. */
static uint8_t *join(size_t *len, const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len,
		     const uint8_t *c, size_t c_len)
{
	*len = a_len + b_len + c_len;
	uint8_t *out = malloc(*len);
	assert_non_null(out);
	if (a_len)
		memcpy(out, a, a_len);
	if (b_len)
		memcpy(out + a_len, b, b_len);
	if (c_len)
		memcpy(out + a_len + b_len, c, c_len);
	return out;
}

/*
 * RFC 8446 4.1.4: a HelloRetryRequest, then the real ServerHello; the client
 * sends its second ClientHello in the clear. Made from illustrated-tls13 (we
 * check no transcript): the server's ServerHello with the HelloRetryRequest
 * random and a change_cipher_spec before the real one, the client's
 * ClientHello twice. The plaintext is tshark's for the real connection.
 */
static void test_hello_retry(void **state)
{
	(void)state;
	static const uint8_t retry_random[32] = {
		0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
		0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
	};
	static const uint8_t ccs[] = { 20, 3, 3, 0, 1, 1 };
	const struct stream *st = find_stream("illustrated-tls13");
	size_t ch = record_len(st->bin[0], 0), sh = record_len(st->bin[1], 0);
	uint8_t *retry = malloc(sh);
	assert_non_null(retry);
	memcpy(retry, st->bin[1], sh);
	memcpy(retry + RECORD_HEADER + 4 + 2, retry_random, sizeof retry_random);

	size_t client_len, server_len, head_len;
	uint8_t *client = join(&client_len, st->bin[0], ch, st->bin[0], st->len[0], NULL, 0);
	uint8_t *head = join(&head_len, retry, sh, ccs, sizeof ccs, NULL, 0);
	uint8_t *server = join(&server_len, head, head_len, st->bin[1], st->len[1], NULL, 0);
	for (int order = 0; order < 2; order++) {
		struct run run;
		char sha[2][65];
		run_start(&run, &st->keys);
		enum tlsdec_end end = order ? feed_made(&run, client, client_len, server, server_len)
					    : feed(&run, 1, server, server_len);
		if (!order)
			end = feed(&run, 0, client, client_len);
		assert_int_equal(end, TLSDEC_MORE);
		assert_int_equal(tlsdec_info(run.dec)->version, 0x0304);
		run_finish(&run, sha);
		assert_string_equal(sha[0], st->expect_sha[0]);
		assert_string_equal(sha[1], st->expect_sha[1]);
	}
	free(server);

	/* A second HelloRetryRequest is an error. */
	uint8_t *twice = join(&server_len, head, head_len, head, head_len, NULL, 0);
	struct run run;
	char sha[2][65];
	run_start(&run, &st->keys);
	assert_int_equal(feed_made(&run, client, client_len, twice, server_len),
			 TLSDEC_END_BAD_RECORD);
	run_finish(&run, sha);
	free(twice);
	free(head);
	free(client);
	free(retry);
}

/*
 * RFC 8446 4.2.10: 0-RTT records (under the early traffic secret, not read)
 * come between the ClientHello that offers early_data and the client's
 * first record under its handshake secret: passed over. Made from
 * illustrated-tls13: its ClientHello with an early_data extension added, and
 * a made-up protected record after it. Without the offer, the same record
 * fails.
 */
static void test_early_data_passed_over(void **state)
{
	(void)state;
	const struct stream *st = find_stream("illustrated-tls13");
	size_t ch = record_len(st->bin[0], 0);
	const uint8_t *hello = st->bin[0] + RECORD_HEADER + 4;
	size_t at = 2 + 32;
	at += 1 + hello[at];                                      /* session id */
	at += 2 + ((size_t)hello[at] << 8 | hello[at + 1]);       /* cipher suites */
	at += 1 + hello[at];                                      /* compression */
	size_t extensions_at = RECORD_HEADER + 4 + at;            /* the extensions' length */
	assert_int_equal(extensions_at + 2 + ((size_t)st->bin[0][extensions_at] << 8 |
					      st->bin[0][extensions_at + 1]),
			 ch);

	static const uint8_t early_data[] = { 0, 42, 0, 0 };
	size_t offered_len;
	uint8_t *offered = join(&offered_len, st->bin[0], ch, early_data, sizeof early_data, NULL, 0);
	/* Four bytes more in the record, the message and the extensions. */
	size_t lengths[][2] = { { 3, 2 }, { RECORD_HEADER + 1, 3 }, { extensions_at, 2 } };
	for (size_t i = 0; i < 3; i++) {
		size_t value = 0;
		for (size_t b = 0; b < lengths[i][1]; b++)
			value = value << 8 | offered[lengths[i][0] + b];
		value += sizeof early_data;
		for (size_t b = lengths[i][1]; b-- > 0; value >>= 8)
			offered[lengths[i][0] + b] = (uint8_t)value;
	}
	uint8_t zero_rtt[RECORD_HEADER + 40] = { 23, 3, 3, 0, 40 };
	for (size_t i = RECORD_HEADER; i < sizeof zero_rtt; i++)
		zero_rtt[i] = (uint8_t)(i * 13);

	/* Many of them too, held for the server's hello (past the size a side's
	 * buffer goes back to once they are read). */
	enum { MANY = 1000 };
	uint8_t *many = malloc(MANY * sizeof zero_rtt);
	assert_non_null(many);
	for (size_t i = 0; i < MANY; i++)
		memcpy(many + i * sizeof zero_rtt, zero_rtt, sizeof zero_rtt);
	for (int offer = 0; offer < 3; offer++) {
		size_t client_len;
		uint8_t *client = join(&client_len, offer ? offered : st->bin[0],
				       offer ? offered_len : ch, offer == 2 ? many : zero_rtt,
				       offer == 2 ? MANY * sizeof zero_rtt : sizeof zero_rtt,
				       st->bin[0] + ch, st->len[0] - ch);
		struct run run;
		char sha[2][65];
		run_start(&run, &st->keys);
		enum tlsdec_end end = feed_made(&run, client, client_len, st->bin[1], st->len[1]);
		assert_int_equal(end, offer ? TLSDEC_MORE : TLSDEC_END_AUTH_FAILED);
		run_finish(&run, sha);
		if (offer) {
			assert_string_equal(sha[0], st->expect_sha[0]);
			assert_string_equal(sha[1], st->expect_sha[1]);
		}
		free(client);
	}
	free(many);
	free(offered);
}

/* ---- protected messages, made up: TLS 1.3 records sealed here ------------------- */

/*
 * What is read inside protected records, checked message by message: a TLS
 * 1.3 connection (TLS_AES_128_GCM_SHA256) made up here, with secrets of our
 * own in the key log and records sealed with OpenSSL here, in the layout of
 * RFC 8446 5.2. The hellos are the least a ServerHello and ClientHello need.
 */
enum { MADE_SECRET = 32, SERVER_HELLO_LEN = RECORD_HEADER + 50 };

struct made {
	struct keys keys;
	uint64_t seq[2][4];       /* [server][secret: 0 handshake, k application k-1] */
	uint8_t *side[2];
	size_t len[2];
};

static void made_append(struct made *m, int server, const uint8_t *data, size_t len)
{
	m->side[server] = realloc(m->side[server], m->len[server] + len);
	assert_non_null(m->side[server]);
	memcpy(m->side[server] + m->len[server], data, len);
	m->len[server] += len;
}

static void made_expand(const uint8_t *secret, const char *label, uint8_t *out, size_t out_len)
{
	uint8_t info[64];
	size_t n = 0, label_len = strlen(label);
	info[n++] = 0;
	info[n++] = (uint8_t)out_len;
	info[n++] = (uint8_t)(6 + label_len);
	memcpy(info + n, "tls13 ", 6);
	memcpy(info + n + 6, label, label_len);
	n += 6 + label_len;
	info[n++] = 0;
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
	assert_non_null(ctx);
	size_t len = out_len;
	assert_int_equal(EVP_PKEY_derive_init(ctx), 1);
	assert_int_equal(EVP_PKEY_CTX_set_hkdf_mode(ctx, EVP_PKEY_HKDEF_MODE_EXPAND_ONLY), 1);
	assert_int_equal(EVP_PKEY_CTX_set_hkdf_md(ctx, EVP_sha256()), 1);
	assert_int_equal(EVP_PKEY_CTX_set1_hkdf_key(ctx, secret, MADE_SECRET), 1);
	assert_int_equal(EVP_PKEY_CTX_add1_hkdf_info(ctx, info, (int)n), 1);
	assert_int_equal(EVP_PKEY_derive(ctx, out, &len), 1);
	EVP_PKEY_CTX_free(ctx);
}

static void made_secret(int server, int id, uint8_t secret[MADE_SECRET])
{
	memset(secret, id == 0 ? 0x10 + server : 0x20 + server, MADE_SECRET);
	for (int k = 1; k < id; k++) {
		uint8_t next[MADE_SECRET];
		made_expand(secret, "traffic upd", next, MADE_SECRET);
		memcpy(secret, next, MADE_SECRET);
	}
}

/* One protected record of `plain` (content, type, padding) under a side's secret `id`. */
static void made_seal(struct made *m, int server, int id, const uint8_t *plain, size_t len)
{
	uint8_t secret[MADE_SECRET], key[16], nonce[12];
	made_secret(server, id, secret);
	made_expand(secret, "key", key, sizeof key);
	made_expand(secret, "iv", nonce, sizeof nonce);
	uint64_t seq = m->seq[server][id]++;
	for (int i = 0; i < 8; i++)
		nonce[11 - i] ^= (uint8_t)(seq >> (8 * i));
	uint8_t *record = malloc(RECORD_HEADER + len + 16);
	assert_non_null(record);
	size_t body = len + 16;
	record[0] = 23, record[1] = 3, record[2] = 3;
	record[3] = (uint8_t)(body >> 8), record[4] = (uint8_t)body;
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int n;
	assert_non_null(ctx);
	assert_int_equal(EVP_EncryptInit_ex(ctx, EVP_aes_128_gcm(), NULL, key, nonce), 1);
	assert_int_equal(EVP_EncryptUpdate(ctx, NULL, &n, record, RECORD_HEADER), 1);
	if (len > 0)
		assert_int_equal(EVP_EncryptUpdate(ctx, record + RECORD_HEADER, &n, plain, (int)len), 1);
	assert_int_equal(EVP_EncryptFinal_ex(ctx, record + RECORD_HEADER + len, &n), 1);
	assert_int_equal(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, 16,
					     record + RECORD_HEADER + len), 1);
	EVP_CIPHER_CTX_free(ctx);
	made_append(m, server, record, RECORD_HEADER + body);
	free(record);
}

#define SEAL(m, server, id, ...)                                                      \
	do {                                                                          \
		static const uint8_t plain_[] = { __VA_ARGS__ };                      \
		made_seal(m, server, id, plain_, sizeof plain_);                      \
	} while (0)

/* The hellos, the server's EncryptedExtensions (ALPN "h2") and both Finished. */
static void made_start(struct made *m)
{
	memset(m, 0, sizeof *m);
	static const uint8_t client_hello[] = {
		22, 3, 1, 0, 47, 1, 0, 0, 43, 3, 3,
		0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
		0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42,
		0, 0, 2, 0x13, 0x01, 1, 0, 0, 0,
	};
	static const uint8_t server_hello[] = {
		22, 3, 3, 0, 50, 2, 0, 0, 46, 3, 3,
		0x53, 0x53, 0x53, 0x53, 0x53, 0x53, 0x53, 0x53, 0x53, 0x53, 0x53, 0x53, 0x53, 0x53, 0x53, 0x53,
		0x53, 0x53, 0x53, 0x53, 0x53, 0x53, 0x53, 0x53, 0x53, 0x53, 0x53, 0x53, 0x53, 0x53, 0x53, 0x53,
		0, 0x13, 0x01, 0, 0, 6, 0, 43, 0, 2, 3, 4,
	};
	static const enum keylog_label labels[] = {
		KEYLOG_CLIENT_HANDSHAKE_TRAFFIC_SECRET, KEYLOG_SERVER_HANDSHAKE_TRAFFIC_SECRET,
		KEYLOG_CLIENT_TRAFFIC_SECRET_0, KEYLOG_SERVER_TRAFFIC_SECRET_0,
	};
	for (size_t i = 0; i < 4; i++) {
		struct secret *k = &m->keys.list[m->keys.count++];
		k->label = labels[i];
		memset(k->random, 0x42, sizeof k->random);
		made_secret((int)i % 2, i < 2 ? 0 : 1, k->bytes);
		k->len = MADE_SECRET;
	}
	made_append(m, 0, client_hello, sizeof client_hello);
	made_append(m, 1, server_hello, sizeof server_hello);
	/* EncryptedExtensions { ALPN "h2" }, Finished */
	SEAL(m, 1, 0, 8, 0, 0, 11, 0, 9, 0, 16, 0, 5, 0, 3, 2, 'h', '2',
	     20, 0, 0, 4, 0xf1, 0xf1, 0xf1, 0xf1, 22);
	SEAL(m, 0, 0, 20, 0, 0, 4, 0xf0, 0xf0, 0xf0, 0xf0, 22);
}

/* Feeds what was made, the client's side first; returns the outcome, *run kept open. */
static enum tlsdec_end made_feed(struct made *m, struct run *run)
{
	run_start(run, &m->keys);
	enum tlsdec_end end = feed(run, 0, m->side[0], m->len[0]);
	if (end == TLSDEC_MORE)
		end = feed(run, 1, m->side[1], m->len[1]);
	free(m->side[0]);
	free(m->side[1]);
	return end;
}

static void test_protected_messages(void **state)
{
	(void)state;
	struct made m;
	struct run run;
	char sha[2][65];

	/* Data with and without padding, an empty record, a ticket, a KeyUpdate and data after it. */
	made_start(&m);
	SEAL(&m, 1, 1, 4, 0, 0, 5, 0, 0, 0, 1, 0, 22);      /* NewSessionTicket, cut short: not read */
	SEAL(&m, 1, 1, 'o', 'k', 23, 0, 0, 0, 0);
	SEAL(&m, 1, 1, 23);                                 /* empty application data */
	SEAL(&m, 1, 1, 24, 0, 0, 1, 1, 22);                 /* KeyUpdate, update_requested */
	SEAL(&m, 1, 2, '!', 23);
	SEAL(&m, 0, 1, 'h', 'i', 23);
	SEAL(&m, 0, 1, 24, 0, 0, 1, 0, 22);
	SEAL(&m, 0, 2, 24, 0, 0, 1, 0, 22);                 /* and a second */
	SEAL(&m, 0, 3, '?', 23);
	SEAL(&m, 0, 3, 1, 0, 21);                           /* close_notify */
	assert_int_equal(made_feed(&m, &run), TLSDEC_MORE);
	const struct tlsdec_info *info = tlsdec_info(run.dec);
	assert_string_equal(info->alpn, "h2");
	assert_int_equal(info->version, 0x0304);
	assert_int_equal(info->cipher_suite, 0x1301);
	assert_int_equal(info->key_updates[0], 2);
	assert_int_equal(info->key_updates[1], 1);
	assert_int_equal(info->records_decrypted[0], 6);
	assert_int_equal(info->records_decrypted[1], 6);
	assert_int_equal(run.bytes[0], 3);
	assert_int_equal(run.bytes[1], 3);
	run_finish(&run, sha);

	/* Each of these ends the decryptor as a bad record, after what came before it. */
	static const struct {
		const char *what;
		uint8_t plain[12];
		size_t len;
	} bad[] = {
		{ "all padding", { 0, 0, 0 }, 3 },
		{ "no content type at all", { 0 }, 0 },
		{ "an unknown content type", { 'x', 99 }, 2 },
		{ "an empty handshake record", { 22 }, 1 },
		{ "a KeyUpdate with a bad request", { 24, 0, 0, 1, 2, 22 }, 6 },
		{ "a KeyUpdate too long", { 24, 0, 0, 2, 0, 0, 22 }, 7 },
		{ "a KeyUpdate before the record ends", { 24, 0, 0, 1, 0, 4, 0, 22 }, 8 },
		{ "a change_cipher_spec inside", { 1, 20 }, 2 },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		made_start(&m);
		SEAL(&m, 1, 1, 'o', 'k', 23);
		made_seal(&m, 1, 1, bad[i].plain, bad[i].len);
		SEAL(&m, 1, 1, 'n', 'o', 23);
		enum tlsdec_end end = made_feed(&m, &run);
		if (end != TLSDEC_END_BAD_RECORD)
			fail_msg("%s: %s", bad[i].what, tlsdec_end_name(end));
		assert_int_equal(run.bytes[1], 2);
		assert_int_equal(run.given_after_end, 0);
		run_finish(&run, sha);
	}

	/* Application data under the handshake secret; the Finished not at a record's end. */
	made_start(&m);
	m.len[1] = SERVER_HELLO_LEN; /* the server's side back to its ServerHello */
	m.seq[1][0] = 0;
	SEAL(&m, 1, 0, 'e', 'a', 'r', 'l', 'y', 23);
	assert_int_equal(made_feed(&m, &run), TLSDEC_END_BAD_RECORD);
	run_finish(&run, sha);

	made_start(&m);
	m.len[1] = SERVER_HELLO_LEN;
	m.seq[1][0] = 0;
	SEAL(&m, 1, 0, 20, 0, 0, 4, 0xf1, 0xf1, 0xf1, 0xf1, 8, 0, 0, 2, 0, 0, 22);
	assert_int_equal(made_feed(&m, &run), TLSDEC_END_BAD_RECORD);
	run_finish(&run, sha);

	/* A malformed EncryptedExtensions; an ALPN that is malformed says nothing. */
	made_start(&m);
	m.len[1] = SERVER_HELLO_LEN;
	m.seq[1][0] = 0;
	SEAL(&m, 1, 0, 8, 0, 0, 3, 0, 9, 0, 22);
	assert_int_equal(made_feed(&m, &run), TLSDEC_END_BAD_RECORD);
	run_finish(&run, sha);
	made_start(&m);
	m.len[1] = SERVER_HELLO_LEN;
	m.seq[1][0] = 0;
	SEAL(&m, 1, 0, 8, 0, 0, 10, 0, 8, 0, 16, 0, 4, 0, 3, 2, 'h', 22);
	assert_int_equal(made_feed(&m, &run), TLSDEC_MORE);
	assert_string_equal(tlsdec_info(run.dec)->alpn, "");
	run_finish(&run, sha);
}

/* Bytes fed in pieces of every size up to 40 give what one feed gives. */
static void test_chunk_sizes(void **state)
{
	(void)state;
	const char *captures[] = { "illustrated-tls12", "snet_tls1.3_keyupdates_aes256",
				   "snet_TLS1_ECDHE-RSA-AES128-SHA" };
	for (size_t c = 0; c < sizeof captures / sizeof captures[0]; c++) {
		const struct stream *st = find_stream(captures[c]);
		for (size_t size = 2; size <= 40; size++) {
			struct run run;
			char sha[2][65];
			run_start(&run, &st->keys);
			for (int s = 0; s < 2; s++)
				for (size_t pos = 0; pos < st->len[s]; pos += size) {
					size_t n = st->len[s] - pos < size ? st->len[s] - pos : size;
					assert_int_equal(feed(&run, s, st->bin[s] + pos, n), TLSDEC_MORE);
				}
			run_finish(&run, sha);
			for (int s = 0; s < 2; s++)
				assert_string_equal(sha[s], st->expect_sha[s]);
		}
	}
}

static void test_end_names(void **state)
{
	(void)state;
	const char *expect[] = { "more", "not_tls", "no_key", "unsupported", "auth_failed",
				 "bad_record", "no_memory" };
	assert_int_equal(sizeof expect / sizeof expect[0], TLSDEC_END_COUNT);
	for (int e = 0; e < TLSDEC_END_COUNT; e++)
		assert_string_equal(tlsdec_end_name((enum tlsdec_end)e), expect[e]);
	assert_string_equal(tlsdec_end_name(TLSDEC_END_COUNT), "unknown");
	tlsdec_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_client_first),
		cmocka_unit_test(test_server_first),
		cmocka_unit_test(test_segments),
		cmocka_unit_test(test_bytes),
		cmocka_unit_test(test_late_keys),
		cmocka_unit_test(test_staged_keys),
		cmocka_unit_test(test_tampered),
		cmocka_unit_test(test_wrong_keys),
		cmocka_unit_test(test_wrong_secret_length),
		cmocka_unit_test(test_no_key),
		cmocka_unit_test(test_hold_for_peer),
		cmocka_unit_test(test_unsupported),
		cmocka_unit_test(test_not_tls),
		cmocka_unit_test(test_bad_records),
		cmocka_unit_test(test_hello_retry),
		cmocka_unit_test(test_early_data_passed_over),
		cmocka_unit_test(test_protected_messages),
		cmocka_unit_test(test_chunk_sizes),
		cmocka_unit_test(test_end_names),
	};
	return cmocka_run_group_tests(tests, load_streams, free_streams);
}
