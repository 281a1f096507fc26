/*
 * Unit tests for dissectors/keylog.c. Real key logs first: the files of
 * tests/data/keylog (OpenSSL's and the illustrated-* sessions'), with the
 * counts awk gives for them (tests/data/keylog/README.md has the commands)
 * and every secret checked against the file as this test reads it itself,
 * with sscanf; then the same secrets from the Decryption Secrets Blocks
 * that editcap wrote into pcapng files, and those of a pcapng from nDPI's
 * tests read by another DSB reader. Then the edges of each part: line
 * endings, comments, spaces, bad lines one by one with their reasons,
 * labels we skip, repeated and replaced secrets, eviction past
 * KEYLOG_ENTRIES_MAX; following a file as it is created, appended in
 * pieces, truncated, replaced, removed, made a directory; pcapng files cut
 * at every byte, corrupted field by field, in either byte order and in
 * several sections.
 *
 * Run from the top of the tree (KEYLOG_TEST_DATA names another data dir).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../dissectors/keylog.h"

/* ---- helpers ------------------------------------------------------------ */

static const char *data_dir(void)
{
	const char *dir = getenv("KEYLOG_TEST_DATA");
	return dir ? dir : "tests/data/keylog";
}

static const char *data_path(const char *name)
{
	static char path[4][512];
	static unsigned next;
	char *p = path[next++ % 4];
	snprintf(p, sizeof path[0], "%s/%s", data_dir(), name);
	return p;
}

/* A scratch directory for each test that writes files. */
static char tmp_dir[64];

static int make_tmp_dir(void **state)
{
	(void)state;
	snprintf(tmp_dir, sizeof tmp_dir, "/tmp/tw-keylog-XXXXXX");
	assert_non_null(mkdtemp(tmp_dir));
	return 0;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int remove_tmp_dir(void **state)
{
	(void)state;
	nftw(tmp_dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

static const char *tmp_path(const char *name)
{
	static char path[4][128];
	static unsigned next;
	char *p = path[next++ % 4];
	snprintf(p, sizeof path[0], "%s/%s", tmp_dir, name);
	return p;
}

static void write_bytes(const char *path, const char *mode, const void *data, size_t len)
{
	FILE *f = fopen(path, mode);
	assert_non_null(f);
	if (len)
		assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void write_text(const char *path, const char *mode, const char *text)
{
	write_bytes(path, mode, text, strlen(text));
}

static uint8_t *read_whole(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	long size = ftell(f);
	assert_true(size >= 0);
	rewind(f);
	uint8_t *p = malloc((size_t)size + 1);
	assert_non_null(p);
	assert_int_equal(fread(p, 1, (size_t)size, f), (size_t)size);
	fclose(f);
	*len = (size_t)size;
	return p;
}

static void unhex(const char *hex, uint8_t *out, size_t *len)
{
	size_t n = strlen(hex);
	assert_int_equal(n % 2, 0);
	for (size_t i = 0; i < n; i += 2) {
		unsigned v;
		assert_int_equal(sscanf(hex + i, "%2x", &v), 1);
		out[i / 2] = (uint8_t)v;
	}
	*len = n / 2;
}

/* The test's own names of the labels kept, not keylog_label_name()'s. */
static const char *const kept_labels[KEYLOG_LABEL_COUNT] = {
	"CLIENT_RANDOM",
	"CLIENT_EARLY_TRAFFIC_SECRET",
	"CLIENT_HANDSHAKE_TRAFFIC_SECRET",
	"SERVER_HANDSHAKE_TRAFFIC_SECRET",
	"CLIENT_TRAFFIC_SECRET_0",
	"SERVER_TRAFFIC_SECRET_0",
};

static int kept_label(const char *name)
{
	for (int i = 0; i < KEYLOG_LABEL_COUNT; i++)
		if (strcmp(kept_labels[i], name) == 0)
			return i;
	return -1;
}

/*
 * Every line of a key log file with a label we keep: its secret is the
 * one the store gives. Returns how many such lines there were.
 */
static size_t assert_store_has_file(const struct keylog *keylog, const char *path)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char line[1024], label[128], random_hex[128], secret_hex[512];
	size_t checked = 0;
	while (fgets(line, sizeof line, f)) {
		if (line[0] == '#')
			continue;
		assert_int_equal(sscanf(line, "%127s %127s %511s", label, random_hex, secret_hex), 3);
		int k = kept_label(label);
		if (k < 0)
			continue;
		uint8_t random[KEYLOG_RANDOM_LEN], secret[KEYLOG_SECRET_MAX], got[KEYLOG_SECRET_MAX];
		size_t random_len, secret_len;
		unhex(random_hex, random, &random_len);
		assert_int_equal(random_len, KEYLOG_RANDOM_LEN);
		unhex(secret_hex, secret, &secret_len);
		assert_int_equal(keylog_lookup(keylog, random, (enum keylog_label)k, got), secret_len);
		assert_memory_equal(got, secret, secret_len);
		checked++;
	}
	fclose(f);
	return checked;
}

/* Both stores give the same for every client random and label of the file. */
static void assert_same_for_file(const struct keylog *a, const struct keylog *b, const char *path)
{
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	char line[1024], label[128], random_hex[128], secret_hex[512];
	while (fgets(line, sizeof line, f)) {
		if (line[0] == '#' || sscanf(line, "%127s %127s %511s", label, random_hex, secret_hex) != 3)
			continue;
		uint8_t random[KEYLOG_RANDOM_LEN];
		size_t random_len;
		unhex(random_hex, random, &random_len);
		for (int k = 0; k < KEYLOG_LABEL_COUNT; k++) {
			uint8_t x[KEYLOG_SECRET_MAX], y[KEYLOG_SECRET_MAX];
			size_t nx = keylog_lookup(a, random, (enum keylog_label)k, x);
			size_t ny = keylog_lookup(b, random, (enum keylog_label)k, y);
			assert_int_equal(nx, ny);
			assert_memory_equal(x, y, nx);
		}
	}
	fclose(f);
}

static struct keylog *new_store(void)
{
	struct keylog *k = keylog_new();
	assert_non_null(k);
	return k;
}

/* A heap copy of exactly the text, so that ASan sees a read past it. */
static size_t add(struct keylog *k, const char *text, size_t len, const char *source,
		  uint64_t first_line)
{
	char *copy = malloc(len ? len : 1);
	assert_non_null(copy);
	memcpy(copy, text, len);
	size_t n = keylog_add_text(k, copy, len, source, first_line);
	free(copy);
	return n;
}

static size_t add_str(struct keylog *k, const char *text)
{
	return add(k, text, strlen(text), "t", 1);
}

/* Known values for made-up lines. */
#define RANDOM_A "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define RANDOM_B "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"
#define SECRET_48 "916abf9da55973e13614ae0a3f5d3f37b023ba129aee02cc9134338127cd7049781c8e19fc1eb2a7387ac06ae237344c"
#define SECRET_32 "b8902ab5f9fe52fdec3aea54e9293e4b8eabf955fcd88536bf44b8b584f14982"
#define SECRET_32_OTHER "88ad8d3b0986a71965a28d108b0f40ffffe629284a6028c80ddc5dc083b3f5d1"

static const uint8_t random_a[KEYLOG_RANDOM_LEN] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
	0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
};

static void assert_secret(const struct keylog *k, const uint8_t *random, enum keylog_label label,
			  const char *hex)
{
	uint8_t want[KEYLOG_SECRET_MAX], got[KEYLOG_SECRET_MAX];
	size_t len;
	unhex(hex, want, &len);
	assert_int_equal(keylog_lookup(k, random, label, got), len);
	assert_memory_equal(got, want, len);
}

static void assert_no_secret(const struct keylog *k, const uint8_t *random, enum keylog_label label)
{
	uint8_t got[KEYLOG_SECRET_MAX];
	assert_int_equal(keylog_lookup(k, random, label, got), 0);
}

/* ---- labels --------------------------------------------------------------- */

static void test_label_names(void **state)
{
	(void)state;
	for (int i = 0; i < KEYLOG_LABEL_COUNT; i++)
		assert_string_equal(keylog_label_name((enum keylog_label)i), kept_labels[i]);
	assert_non_null(keylog_label_name(KEYLOG_LABEL_COUNT));
	assert_string_equal(keylog_label_name(KEYLOG_LABEL_COUNT), "(unknown)");
}

/* ---- real key logs ----------------------------------------------------------- */

/*
 * From awk over each file (README.md): lines, lines of labels kept, of
 * labels skipped (EXPORTER_SECRET here), client randoms.
 */
static const struct {
	const char *name;
	uint64_t lines, secrets, skipped;
	size_t randoms;
} corpus[] = {
	{ "illustrated-tls12.keys", 1, 1, 0, 1 },
	{ "illustrated-tls13.keys", 5, 4, 1, 1 },
	{ "illustrated-quic.keys", 5, 4, 1, 1 },
	{ "snet_tls1.3_session_resumption.keys", 41, 33, 8, 9 },
	{ "snet_TLS1_3_TLS_AES_256_GCM_SHA384.keys", 11, 8, 2, 2 },
	{ "snet_TLS1_2_ECDHE-RSA-AES128-GCM-SHA256_auth.keys", 2, 1, 0, 1 },
};

static void test_corpus_files(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof corpus / sizeof corpus[0]; i++) {
		struct keylog *k = new_store();
		char error[256] = "x";
		const char *path = data_path(corpus[i].name);
		assert_int_equal(keylog_read_file(k, path, error, sizeof error), 0);
		assert_string_equal(error, "");
		const struct keylog_stats *s = keylog_stats(k);
		assert_int_equal(s->lines, corpus[i].lines);
		assert_int_equal(s->secrets, corpus[i].secrets);
		assert_int_equal(s->skipped, corpus[i].skipped);
		assert_int_equal(s->bad, 0);
		assert_int_equal(s->evicted, 0);
		assert_string_equal(s->first_error, "");
		assert_int_equal(keylog_count(k), corpus[i].randoms);
		assert_int_equal(assert_store_has_file(k, path), corpus[i].secrets);

		/* The same text through keylog_add_text(): the same store. */
		size_t len;
		uint8_t *text = read_whole(path, &len);
		struct keylog *t = new_store();
		assert_int_equal(add(t, (const char *)text, len, path, 1), corpus[i].secrets);
		assert_int_equal(keylog_stats(t)->lines, corpus[i].lines);
		assert_same_for_file(k, t, path);
		free(text);
		keylog_free(t);
		keylog_free(k);
	}
}

/* The three illustrated sessions share a client random (00 01 .. 1f). */
static void test_corpus_replacement(void **state)
{
	(void)state;
	struct keylog *k = new_store();
	char error[256];
	assert_int_equal(keylog_read_file(k, data_path("illustrated-tls12.keys"), error, sizeof error), 0);
	assert_int_equal(keylog_read_file(k, data_path("illustrated-tls13.keys"), error, sizeof error), 0);
	assert_int_equal(keylog_count(k), 1);
	assert_int_equal(keylog_stats(k)->secrets, 5);
	assert_store_has_file(k, data_path("illustrated-tls13.keys"));
	assert_store_has_file(k, data_path("illustrated-tls12.keys"));

	/* QUIC's 32-byte secrets replace TLS 1.3's 48-byte ones: counted as stored. */
	assert_int_equal(keylog_read_file(k, data_path("illustrated-quic.keys"), error, sizeof error), 0);
	assert_int_equal(keylog_stats(k)->secrets, 9);
	assert_int_equal(keylog_count(k), 1);
	assert_store_has_file(k, data_path("illustrated-quic.keys"));
	assert_store_has_file(k, data_path("illustrated-tls12.keys"));

	/* And back. */
	assert_int_equal(keylog_read_file(k, data_path("illustrated-tls13.keys"), error, sizeof error), 0);
	assert_int_equal(keylog_stats(k)->secrets, 13);
	assert_store_has_file(k, data_path("illustrated-tls13.keys"));

	/* The same file again: nothing new. */
	assert_int_equal(keylog_read_file(k, data_path("illustrated-tls13.keys"), error, sizeof error), 0);
	assert_int_equal(keylog_stats(k)->secrets, 13);
	assert_int_equal(keylog_stats(k)->lines, 1 + 5 + 5 + 5 + 5);
	assert_int_equal(keylog_stats(k)->skipped, 4);
	keylog_free(k);
}

/* ---- lines ---------------------------------------------------------------------- */

static void test_repeated_lines(void **state)
{
	(void)state;
	struct keylog *k = new_store();
	const char *text = "CLIENT_RANDOM " RANDOM_A " " SECRET_48 "\n"
			   "CLIENT_RANDOM " RANDOM_A " " SECRET_48 "\n";
	assert_int_equal(add_str(k, text), 1);
	assert_int_equal(add_str(k, text), 0);
	const struct keylog_stats *s = keylog_stats(k);
	assert_int_equal(s->lines, 4);
	assert_int_equal(s->secrets, 1);
	assert_int_equal(s->bad + s->skipped, 0);
	/* Upper-case digits are the same secret. */
	char upper[256];
	snprintf(upper, sizeof upper, "CLIENT_RANDOM %s %s\n", RANDOM_A, SECRET_48);
	for (char *p = upper + 14; *p; p++)
		if (*p >= 'a' && *p <= 'f')
			*p = (char)(*p - 32);
	assert_int_equal(add_str(k, upper), 0);
	assert_secret(k, random_a, KEYLOG_MASTER_SECRET, SECRET_48);
	keylog_free(k);
}

static void test_replaced_secret(void **state)
{
	(void)state;
	struct keylog *k = new_store();
	assert_int_equal(add_str(k, "CLIENT_TRAFFIC_SECRET_0 " RANDOM_A " " SECRET_32 "\n"), 1);
	assert_int_equal(add_str(k, "CLIENT_TRAFFIC_SECRET_0 " RANDOM_A " " SECRET_32_OTHER "\n"), 1);
	assert_secret(k, random_a, KEYLOG_CLIENT_TRAFFIC_SECRET_0, SECRET_32_OTHER);
	/* A longer one, then a shorter one: the length follows. */
	assert_int_equal(add_str(k, "CLIENT_TRAFFIC_SECRET_0 " RANDOM_A " " SECRET_48 "\n"), 1);
	assert_secret(k, random_a, KEYLOG_CLIENT_TRAFFIC_SECRET_0, SECRET_48);
	assert_int_equal(add_str(k, "CLIENT_TRAFFIC_SECRET_0 " RANDOM_A " " SECRET_32 "\n"), 1);
	assert_secret(k, random_a, KEYLOG_CLIENT_TRAFFIC_SECRET_0, SECRET_32);
	assert_int_equal(keylog_stats(k)->secrets, 4);
	assert_int_equal(keylog_count(k), 1);
	/* The other labels are untouched. */
	assert_no_secret(k, random_a, KEYLOG_SERVER_TRAFFIC_SECRET_0);
	keylog_free(k);
}

static void test_line_forms(void **state)
{
	(void)state;
	struct keylog *k = new_store();
	/* Each a form that stores the same CLIENT_HANDSHAKE_TRAFFIC_SECRET: only the first counts. */
	static const char *const forms[] = {
		"CLIENT_HANDSHAKE_TRAFFIC_SECRET " RANDOM_A " " SECRET_32 "\n",
		"CLIENT_HANDSHAKE_TRAFFIC_SECRET " RANDOM_A " " SECRET_32 "\r\n",
		"CLIENT_HANDSHAKE_TRAFFIC_SECRET " RANDOM_A " " SECRET_32,
		"CLIENT_HANDSHAKE_TRAFFIC_SECRET " RANDOM_A " " SECRET_32 "\r",
		"   CLIENT_HANDSHAKE_TRAFFIC_SECRET " RANDOM_A " " SECRET_32 "\n",
		"\tCLIENT_HANDSHAKE_TRAFFIC_SECRET\t" RANDOM_A "  \t " SECRET_32 " \t\r\n",
	};
	for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
		assert_int_equal(add_str(k, forms[i]), i == 0);
		assert_int_equal(keylog_stats(k)->lines, i + 1);
		assert_int_equal(keylog_stats(k)->bad, 0);
	}
	assert_secret(k, random_a, KEYLOG_CLIENT_HANDSHAKE_TRAFFIC_SECRET, SECRET_32);

	/* Comments and blank lines: lines read, nothing else. */
	struct keylog *c = new_store();
	const char *comments = "# SSL/TLS secrets log file, generated by OpenSSL\n"
			       "\n"
			       "\r\n"
			       "   \t \n"
			       "  # indented comment CLIENT_RANDOM " RANDOM_A " " SECRET_48 "\n"
			       "#CLIENT_RANDOM " RANDOM_A " " SECRET_48 "\r\n"
			       "#";
	assert_int_equal(add_str(c, comments), 0);
	const struct keylog_stats *s = keylog_stats(c);
	assert_int_equal(s->lines, 7);
	assert_int_equal(s->secrets + s->bad + s->skipped, 0);
	assert_int_equal(keylog_count(c), 0);
	/* No text, no line. */
	assert_int_equal(add(c, "", 0, "t", 1), 0);
	assert_int_equal(keylog_stats(c)->lines, 7);
	/* Lines counted as the text has them: "\n\n" is two empty lines. */
	assert_int_equal(add_str(c, "\n\n"), 0);
	assert_int_equal(keylog_stats(c)->lines, 9);
	keylog_free(c);
	keylog_free(k);
}

/* The longest line is KEYLOG_LINE_MAX bytes without its CR and LF. */
static void test_line_length(void **state)
{
	(void)state;
	const char *line = "CLIENT_RANDOM " RANDOM_A " " SECRET_48;
	size_t line_len = strlen(line);
	char text[KEYLOG_LINE_MAX + 8];
	for (size_t extra = 0; extra <= 2; extra++) {
		for (int crlf = 0; crlf <= 1; crlf++) {
			size_t pad = KEYLOG_LINE_MAX - line_len + extra; /* spaces in front */
			memset(text, ' ', pad);
			memcpy(text + pad, line, line_len);
			size_t len = pad + line_len;
			if (crlf)
				text[len++] = '\r';
			text[len++] = '\n';
			struct keylog *k = new_store();
			size_t stored = add(k, text, len, "long", 3);
			if (extra == 0) {
				assert_int_equal(stored, 1);
				assert_int_equal(keylog_stats(k)->bad, 0);
			} else {
				assert_int_equal(stored, 0);
				assert_int_equal(keylog_stats(k)->bad, 1);
				assert_string_equal(keylog_stats(k)->first_error,
						    "long:3: longer than 1024 bytes");
			}
			keylog_free(k);
		}
	}
	/* A very long line between two good ones. */
	size_t big = 100000;
	char *huge = malloc(big + 400);
	assert_non_null(huge);
	size_t n = (size_t)sprintf(huge, "CLIENT_RANDOM %s %s\n", RANDOM_A, SECRET_48);
	memset(huge + n, 'A', big);
	n += big;
	huge[n++] = '\n';
	n += (size_t)sprintf(huge + n, "CLIENT_RANDOM %s %s\n", RANDOM_B, SECRET_48);
	struct keylog *k = new_store();
	assert_int_equal(add(k, huge, n, "huge", 1), 2);
	assert_int_equal(keylog_stats(k)->lines, 3);
	assert_string_equal(keylog_stats(k)->first_error, "huge:2: longer than 1024 bytes");
	free(huge);
	keylog_free(k);
}

/* Bad lines, one at a time, and the reason each gives (line 7 of "src"). */
static void test_bad_lines(void **state)
{
	(void)state;
	static const struct {
		const char *line;
		const char *reason;
	} cases[] = {
		{ "CLIENT_RANDOM " RANDOM_A, "2 fields, expected 3 (label, client random, secret)" },
		{ "CLIENT_RANDOM", "1 field, expected 3 (label, client random, secret)" },
		{ "CLIENT_RANDOM " RANDOM_A " " SECRET_48 " extra",
		  "4 fields, expected 3 (label, client random, secret)" },
		{ "client_random " RANDOM_A " " SECRET_48,
		  "the label is not upper-case letters, digits and '_'" },
		{ "CLIENT-RANDOM " RANDOM_A " " SECRET_48,
		  "the label is not upper-case letters, digits and '_'" },
		{ "CLIENT_RANDOM 0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f " SECRET_48,
		  "CLIENT_RANDOM: the client random has 62 hex digits, not 64" },
		{ "CLIENT_RANDOM 00" RANDOM_A " " SECRET_48,
		  "CLIENT_RANDOM: the client random has 66 hex digits, not 64" },
		{ "CLIENT_RANDOM 0" RANDOM_A " " SECRET_48,
		  "CLIENT_RANDOM: the client random has an odd number of hex digits" },
		{ "CLIENT_RANDOM 0g0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f " SECRET_48,
		  "CLIENT_RANDOM: the client random is not hexadecimal" },
		{ "CLIENT_RANDOM " RANDOM_A " 0x" SECRET_48, "CLIENT_RANDOM: the secret is not hexadecimal" },
		{ "CLIENT_RANDOM " RANDOM_A " 0" SECRET_48,
		  "CLIENT_RANDOM: the secret has an odd number of hex digits" },
		{ "CLIENT_RANDOM " RANDOM_A " " SECRET_32,
		  "CLIENT_RANDOM: the master secret is 32 bytes, not 48" },
		{ "CLIENT_RANDOM " RANDOM_A " " SECRET_48 "00",
		  "CLIENT_RANDOM: the master secret is 49 bytes, not 48" },
		{ "SERVER_TRAFFIC_SECRET_0 " RANDOM_A " " SECRET_32 SECRET_32 "00",
		  "SERVER_TRAFFIC_SECRET_0: the secret has 130 hex digits, more than 128" },
		{ "EXPORTER_SECRET " RANDOM_A " xyz", "EXPORTER_SECRET: the secret is not hexadecimal" },
		{ "RSA 0011223344556677 0" SECRET_48, "RSA: the secret has an odd number of hex digits" },
		{ "CLIENT_RANDOM " RANDOM_A "\r" SECRET_48, "2 fields, expected 3 (label, client random, secret)" },
		{ "CLIENT_RANDOM " RANDOM_A " " SECRET_48 "\r\r", "CLIENT_RANDOM: the secret is not hexadecimal" },
		{ "\xef\xbb\xbf" "CLIENT_RANDOM " RANDOM_A " " SECRET_48,
		  "the label is not upper-case letters, digits and '_'" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct keylog *k = new_store();
		assert_int_equal(add_str(k, "# first\n"), 0);
		char expected[KEYLOG_ERROR_MAX];
		snprintf(expected, sizeof expected, "src:7: %s", cases[i].reason);
		assert_int_equal(add(k, cases[i].line, strlen(cases[i].line), "src", 7), 0);
		const struct keylog_stats *s = keylog_stats(k);
		if (strcmp(s->first_error, expected) != 0)
			fail_msg("case %zu: \"%s\", expected \"%s\"", i, s->first_error, expected);
		assert_int_equal(s->bad, 1);
		assert_int_equal(s->lines, 2);
		assert_int_equal(s->secrets + s->skipped, 0);
		assert_int_equal(keylog_count(k), 0);
		keylog_free(k);
	}
}

/* "NUL bytes make a line bad": any line, a comment too; the next line is read. */
static void test_nul_bytes(void **state)
{
	(void)state;
	static const char text[] = "CLIENT_RANDOM " RANDOM_A " " SECRET_48 "\0\n"
				   "# a comment \0 with a NUL\n"
				   "\0\n"
				   "CLIENT_RANDOM " RANDOM_B " " SECRET_48 "\n";
	struct keylog *k = new_store();
	assert_int_equal(add(k, text, sizeof text - 1, "nul", 1), 1);
	const struct keylog_stats *s = keylog_stats(k);
	assert_int_equal(s->lines, 4);
	assert_int_equal(s->bad, 3);
	assert_string_equal(s->first_error, "nul:1: a NUL byte");
	assert_no_secret(k, random_a, KEYLOG_MASTER_SECRET);
	keylog_free(k);
}

/* Well-formed lines of labels not used: skipped, counted, nothing stored. */
static void test_unknown_labels(void **state)
{
	(void)state;
	char ech_config[2 * 300 + 1];
	for (size_t i = 0; i < 300; i++)
		snprintf(ech_config + 2 * i, 3, "%02x", (unsigned)(i & 0xff));
	char text[2048];
	snprintf(text, sizeof text,
		 "EXPORTER_SECRET " RANDOM_A " " SECRET_32 "\n"
		 "EARLY_EXPORTER_SECRET " RANDOM_A " " SECRET_48 "\n"
		 "RSA 0011223344556677 " SECRET_48 "\n"
		 "ECH_SECRET " RANDOM_A " " SECRET_32 "\n"
		 "ECH_CONFIG " RANDOM_A " %s\n"
		 "CLIENT_TRAFFIC_SECRET_1 " RANDOM_A " " SECRET_32 "\n",
		 ech_config);
	struct keylog *k = new_store();
	assert_int_equal(add_str(k, text), 0);
	const struct keylog_stats *s = keylog_stats(k);
	assert_int_equal(s->lines, 6);
	assert_int_equal(s->skipped, 6);
	assert_int_equal(s->bad + s->secrets, 0);
	assert_int_equal(keylog_count(k), 0);
	keylog_free(k);
}

/* Any even length from 2 to 128 digits for a TLS 1.3 label. */
static void test_secret_lengths(void **state)
{
	(void)state;
	struct keylog *k = new_store();
	char hex[2 * KEYLOG_SECRET_MAX + 1], line[512];
	for (size_t len = 1; len <= KEYLOG_SECRET_MAX; len++) {
		for (size_t i = 0; i < len; i++)
			snprintf(hex + 2 * i, 3, "%02x", (unsigned)(len + i) & 0xff);
		snprintf(line, sizeof line, "SERVER_HANDSHAKE_TRAFFIC_SECRET %s %s\n", RANDOM_A, hex);
		assert_int_equal(add_str(k, line), 1);
		assert_secret(k, random_a, KEYLOG_SERVER_HANDSHAKE_TRAFFIC_SECRET, hex);
	}
	assert_int_equal(keylog_stats(k)->secrets, KEYLOG_SECRET_MAX);
	assert_int_equal(keylog_stats(k)->bad, 0);
	keylog_free(k);
}

static void test_first_error(void **state)
{
	(void)state;
	struct keylog *k = new_store();
	assert_int_equal(add_str(k, "CLIENT_RANDOM " RANDOM_A " " SECRET_48 "\n"), 1);
	/* Numbered from first_line; the first bad line is kept. */
	const char *text = "# ok\nbad one\nCLIENT_RANDOM\n";
	assert_int_equal(add(k, text, strlen(text), "keys.txt", 40), 0);
	assert_string_equal(keylog_stats(k)->first_error,
			    "keys.txt:41: 2 fields, expected 3 (label, client random, secret)");
	assert_int_equal(add(k, "x", 1, "other", 1), 0);
	assert_string_equal(keylog_stats(k)->first_error,
			    "keys.txt:41: 2 fields, expected 3 (label, client random, secret)");
	assert_int_equal(keylog_stats(k)->bad, 3);
	/* No source: still a source. */
	struct keylog *n = new_store();
	assert_int_equal(keylog_add_text(n, "x\n", 2, NULL, 1), 0);
	assert_string_equal(keylog_stats(n)->first_error,
			    "(text):1: 1 field, expected 3 (label, client random, secret)");
	/* A long source is cut, never overflows. */
	char source[2000];
	memset(source, 's', sizeof source - 1);
	source[sizeof source - 1] = '\0';
	struct keylog *l = new_store();
	assert_int_equal(add(l, "x", 1, source, 1), 0);
	assert_int_equal(strlen(keylog_stats(l)->first_error), KEYLOG_ERROR_MAX - 1);
	keylog_free(l);
	keylog_free(n);
	keylog_free(k);
}

static void test_lookup_misses(void **state)
{
	(void)state;
	struct keylog *k = new_store();
	uint8_t out[KEYLOG_SECRET_MAX], other[KEYLOG_RANDOM_LEN];
	assert_int_equal(keylog_count(k), 0);
	assert_no_secret(k, random_a, KEYLOG_MASTER_SECRET);
	assert_int_equal(add_str(k, "CLIENT_HANDSHAKE_TRAFFIC_SECRET " RANDOM_A " " SECRET_32 "\n"), 1);
	assert_no_secret(k, random_a, KEYLOG_MASTER_SECRET);
	assert_no_secret(k, random_a, KEYLOG_CLIENT_EARLY_TRAFFIC_SECRET);
	assert_int_equal(keylog_lookup(k, random_a, KEYLOG_LABEL_COUNT, out), 0);
	assert_int_equal(keylog_lookup(k, random_a, (enum keylog_label)-1, out), 0);
	memcpy(other, random_a, sizeof other);
	other[31] ^= 1;
	assert_no_secret(k, other, KEYLOG_CLIENT_HANDSHAKE_TRAFFIC_SECRET);
	assert_int_equal(keylog_lookup(NULL, random_a, KEYLOG_MASTER_SECRET, out), 0);
	assert_int_equal(keylog_count(NULL), 0);
	assert_int_equal(keylog_add_text(NULL, "x", 1, "t", 1), 0);
	assert_int_equal(keylog_add_text(k, NULL, 5, "t", 1), 0);
	keylog_free(NULL);
	keylog_free(k);
}

/* ---- eviction -------------------------------------------------------------------- */

static void numbered_random(uint32_t i, uint8_t random[KEYLOG_RANDOM_LEN])
{
	for (size_t j = 0; j < KEYLOG_RANDOM_LEN; j++)
		random[j] = (uint8_t)(0x5a ^ j);
	random[0] = (uint8_t)(i >> 24);
	random[1] = (uint8_t)(i >> 16);
	random[2] = (uint8_t)(i >> 8);
	random[3] = (uint8_t)i;
}

static size_t numbered_line(uint32_t i, char *out)
{
	uint8_t random[KEYLOG_RANDOM_LEN];
	numbered_random(i, random);
	size_t n = (size_t)sprintf(out, "CLIENT_RANDOM ");
	for (size_t j = 0; j < KEYLOG_RANDOM_LEN; j++)
		n += (size_t)sprintf(out + n, "%02x", random[j]);
	/* The secret: the number, then a fixed pattern. */
	n += (size_t)sprintf(out + n, " %08x", (unsigned)i);
	for (size_t j = 4; j < 48; j++)
		n += (size_t)sprintf(out + n, "%02x", (unsigned)(j * 7) & 0xff);
	out[n++] = '\n';
	return n;
}

static void assert_numbered(const struct keylog *k, uint32_t i, bool present)
{
	uint8_t random[KEYLOG_RANDOM_LEN], out[KEYLOG_SECRET_MAX];
	numbered_random(i, random);
	size_t len = keylog_lookup(k, random, KEYLOG_MASTER_SECRET, out);
	if (!present) {
		assert_int_equal(len, 0);
		return;
	}
	assert_int_equal(len, 48);
	assert_int_equal((uint32_t)out[0] << 24 | (uint32_t)out[1] << 16 | (uint32_t)out[2] << 8 | out[3], i);
}

static void test_eviction(void **state)
{
	(void)state;
	const uint32_t extra = 100, total = KEYLOG_ENTRIES_MAX + extra;
	char *text = malloc((size_t)total * 200);
	assert_non_null(text);
	size_t len = 0;
	for (uint32_t i = 0; i < total; i++)
		len += numbered_line(i, text + len);
	struct keylog *k = new_store();
	assert_int_equal(add(k, text, len, "many", 1), total);
	const struct keylog_stats *s = keylog_stats(k);
	assert_int_equal(keylog_count(k), KEYLOG_ENTRIES_MAX);
	assert_int_equal(s->evicted, extra);
	assert_int_equal(s->secrets, total);
	for (uint32_t i = 0; i < total; i++)
		assert_numbered(k, i, i >= extra);

	/* A second label for a random kept: no eviction. */
	uint8_t random[KEYLOG_RANDOM_LEN];
	numbered_random(extra, random);
	char line[300];
	int n = snprintf(line, sizeof line, "SERVER_TRAFFIC_SECRET_0 ");
	for (size_t j = 0; j < KEYLOG_RANDOM_LEN; j++)
		n += snprintf(line + n, sizeof line - (size_t)n, "%02x", random[j]);
	snprintf(line + n, sizeof line - (size_t)n, " %s\n", SECRET_32);
	assert_int_equal(add_str(k, line), 1);
	assert_int_equal(s->evicted, extra);
	assert_int_equal(keylog_count(k), KEYLOG_ENTRIES_MAX);
	assert_secret(k, random, KEYLOG_SERVER_TRAFFIC_SECRET_0, SECRET_32);

	/* An evicted random again: the oldest goes, the one just given a new label,
	   since age is when a random was first stored. */
	len = numbered_line(0, text);
	assert_int_equal(add(k, text, len, "again", 1), 1);
	assert_int_equal(s->evicted, extra + 1);
	assert_numbered(k, 0, true);
	assert_numbered(k, extra, false);
	assert_no_secret(k, random, KEYLOG_SERVER_TRAFFIC_SECRET_0);
	assert_numbered(k, extra + 1, true);
	assert_int_equal(keylog_count(k), KEYLOG_ENTRIES_MAX);
	free(text);
	keylog_free(k);
}

/* ---- a whole file -------------------------------------------------------------------- */

static void test_read_file_errors(void **state)
{
	(void)state;
	struct keylog *k = new_store();
	char error[256];
	const char *missing = tmp_path("missing.keys");
	assert_int_equal(keylog_read_file(k, missing, error, sizeof error), -1);
	char expected[256];
	snprintf(expected, sizeof expected, "%s: No such file or directory", missing);
	assert_string_equal(error, expected);
	assert_int_equal(keylog_read_file(k, tmp_dir, error, sizeof error), -1);
	snprintf(expected, sizeof expected, "%s: Is a directory", tmp_dir);
	assert_string_equal(error, expected);
	/* A small error buffer is cut, not overrun; none at all is fine. */
	char small[8];
	assert_int_equal(keylog_read_file(k, missing, small, sizeof small), -1);
	assert_int_equal(strlen(small), sizeof small - 1);
	assert_int_equal(keylog_read_file(k, missing, NULL, 0), -1);
	assert_int_equal(keylog_stats(k)->lines, 0);
	keylog_free(k);
}

/* A file of many chunks, lines across their edges, CRLF, no last LF. */
static void test_read_file_large(void **state)
{
	(void)state;
	const uint32_t count = 3000;
	char *text = malloc((size_t)count * 210 + 64);
	assert_non_null(text);
	size_t len = 0;
	for (uint32_t i = 0; i < count; i++) {
		len += numbered_line(i, text + len);
		if (i % 3 == 0) { /* CRLF */
			text[len - 1] = '\r';
			text[len++] = '\n';
		}
		if (i % 100 == 0)
			len += (size_t)sprintf(text + len, "# comment %u\n", (unsigned)i);
	}
	len--; /* the last LF */
	const char *path = tmp_path("large.keys");
	write_bytes(path, "w", text, len);
	struct keylog *k = new_store(), *t = new_store();
	char error[256];
	assert_int_equal(keylog_read_file(k, path, error, sizeof error), 0);
	assert_int_equal(add(t, text, len, path, 1), count);
	const struct keylog_stats *a = keylog_stats(k), *b = keylog_stats(t);
	assert_int_equal(a->secrets, count);
	assert_int_equal(a->lines, b->lines);
	assert_int_equal(a->lines, count + 30);
	assert_int_equal(a->bad, 0);
	for (uint32_t i = 0; i < count; i++)
		assert_numbered(k, i, true);
	free(text);
	keylog_free(k);
	keylog_free(t);
}

/* ---- following a file ------------------------------------------------------------------ */

static struct keylog_follow *new_follow(const char *path)
{
	struct keylog_follow *f = keylog_follow_new(path);
	assert_non_null(f);
	assert_string_equal(keylog_follow_path(f), path);
	return f;
}

static ssize_t poll_ok(struct keylog_follow *f, struct keylog *k)
{
	char error[256] = "x";
	ssize_t n = keylog_follow_poll(f, k, error, sizeof error);
	if (n < 0)
		fail_msg("poll: %s", error);
	assert_string_equal(error, "");
	return n;
}

#define LINE_A "CLIENT_RANDOM " RANDOM_A " " SECRET_48 "\n"
#define LINE_B "CLIENT_RANDOM " RANDOM_B " " SECRET_48 "\n"
#define LINE_A13 "SERVER_TRAFFIC_SECRET_0 " RANDOM_A " " SECRET_32 "\n"

static const uint8_t random_b[KEYLOG_RANDOM_LEN] = {
	0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x99, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0x00,
	0xff, 0xee, 0xdd, 0xcc, 0xbb, 0xaa, 0x99, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0x00,
};

static void test_follow_absent_then_created(void **state)
{
	(void)state;
	const char *path = tmp_path("sslkeylog.txt");
	struct keylog_follow *f = new_follow(path);
	struct keylog *k = new_store();
	assert_int_equal(poll_ok(f, k), 0);
	assert_int_equal(poll_ok(f, k), 0);
	write_text(path, "w", "");
	assert_int_equal(poll_ok(f, k), 0);
	write_text(path, "a", "# SSL/TLS secrets log file\n" LINE_A);
	assert_int_equal(poll_ok(f, k), 1);
	assert_int_equal(poll_ok(f, k), 0); /* unchanged */
	write_text(path, "a", LINE_B);
	assert_int_equal(poll_ok(f, k), 1);
	assert_secret(k, random_a, KEYLOG_MASTER_SECRET, SECRET_48);
	assert_secret(k, random_b, KEYLOG_MASTER_SECRET, SECRET_48);
	assert_int_equal(keylog_stats(k)->lines, 3);
	keylog_follow_free(f);
	keylog_follow_free(NULL);
	keylog_free(k);
}

/* Written a few bytes at a time, polled after each: the same store as the whole text. */
static void test_follow_pieces(void **state)
{
	(void)state;
	const char text[] = "# comment\r\n" LINE_A "bad line\r\n" LINE_A13 "\n" LINE_B
			    "CLIENT_EARLY_TRAFFIC_SECRET " RANDOM_B " " SECRET_32 "\r\n";
	size_t len = sizeof text - 1;
	for (size_t step = 1; step <= 70; step += 23) {
		const char *path = tmp_path("pieces.keys");
		unlink(path);
		struct keylog_follow *f = new_follow(path);
		struct keylog *k = new_store();
		size_t stored = 0;
		for (size_t at = 0; at < len; at += step) {
			size_t n = len - at < step ? len - at : step;
			write_bytes(path, "a", text + at, n);
			ssize_t got = poll_ok(f, k);
			/* A line is read when its LF is there, not before. */
			size_t lines = 0;
			for (size_t i = 0; i < at + n; i++)
				lines += text[i] == '\n';
			assert_int_equal(keylog_stats(k)->lines, lines);
			stored += (size_t)got;
		}
		assert_int_equal(stored, 4);
		struct keylog *whole = new_store();
		assert_int_equal(add(whole, text, len, path, 1), 4);
		const struct keylog_stats *a = keylog_stats(k), *b = keylog_stats(whole);
		assert_int_equal(a->lines, b->lines);
		assert_int_equal(a->secrets, b->secrets);
		assert_int_equal(a->bad, 1);
		assert_string_equal(a->first_error, b->first_error);
		assert_secret(k, random_a, KEYLOG_MASTER_SECRET, SECRET_48);
		assert_secret(k, random_a, KEYLOG_SERVER_TRAFFIC_SECRET_0, SECRET_32);
		assert_secret(k, random_b, KEYLOG_CLIENT_EARLY_TRAFFIC_SECRET, SECRET_32);
		keylog_free(whole);
		keylog_free(k);
		keylog_follow_free(f);
	}
}

/* A partial last line waits, however many polls. */
static void test_follow_partial_line(void **state)
{
	(void)state;
	const char *path = tmp_path("partial.keys");
	write_text(path, "w", LINE_A "CLIENT_RANDOM " RANDOM_B " ");
	struct keylog_follow *f = new_follow(path);
	struct keylog *k = new_store();
	assert_int_equal(poll_ok(f, k), 1);
	assert_int_equal(poll_ok(f, k), 0);
	assert_int_equal(keylog_stats(k)->lines, 1);
	write_text(path, "a", SECRET_48);
	assert_int_equal(poll_ok(f, k), 0);
	assert_no_secret(k, random_b, KEYLOG_MASTER_SECRET);
	write_text(path, "a", "\r");
	assert_int_equal(poll_ok(f, k), 0);
	write_text(path, "a", "\n");
	assert_int_equal(poll_ok(f, k), 1);
	assert_secret(k, random_b, KEYLOG_MASTER_SECRET, SECRET_48);
	assert_int_equal(keylog_stats(k)->lines, 2);
	assert_int_equal(keylog_stats(k)->bad, 0);
	keylog_follow_free(f);
	keylog_free(k);
}

/* A line too long, written across polls: counted bad once, as soon as it is too long. */
static void test_follow_overlong_line(void **state)
{
	(void)state;
	const char *path = tmp_path("long.keys");
	struct keylog_follow *f = new_follow(path);
	struct keylog *k = new_store();
	write_text(path, "w", LINE_A);
	assert_int_equal(poll_ok(f, k), 1);
	char chunk[700];
	memset(chunk, 'x', sizeof chunk);
	write_bytes(path, "a", chunk, sizeof chunk);
	assert_int_equal(poll_ok(f, k), 0);
	assert_int_equal(keylog_stats(k)->bad, 0);
	write_bytes(path, "a", chunk, sizeof chunk);
	assert_int_equal(poll_ok(f, k), 0);
	assert_int_equal(keylog_stats(k)->bad, 1);
	assert_int_equal(keylog_stats(k)->lines, 2);
	char expected[512];
	snprintf(expected, sizeof expected, "%s:2: longer than 1024 bytes", path);
	assert_string_equal(keylog_stats(k)->first_error, expected);
	write_bytes(path, "a", chunk, sizeof chunk);
	write_text(path, "a", "\n" LINE_B);
	assert_int_equal(poll_ok(f, k), 1);
	assert_int_equal(keylog_stats(k)->bad, 1);
	assert_int_equal(keylog_stats(k)->lines, 3);
	/* The next bad line is numbered after it. */
	write_text(path, "a", "oops\n");
	struct keylog *k2 = new_store();
	struct keylog_follow *f2 = new_follow(path);
	assert_int_equal(poll_ok(f2, k2), 2);
	assert_int_equal(keylog_stats(k2)->bad, 2);
	assert_int_equal(keylog_stats(k2)->lines, 4);
	keylog_follow_free(f2);
	keylog_free(k2);
	keylog_follow_free(f);
	keylog_free(k);

	/* The longest line with its CR, held across polls: read; a byte more: bad. */
	for (size_t extra = 0; extra <= 1; extra++) {
		const char *line = "CLIENT_RANDOM " RANDOM_A " " SECRET_48;
		size_t line_len = strlen(line), pad = KEYLOG_LINE_MAX - line_len + extra;
		char text[KEYLOG_LINE_MAX + 4];
		memset(text, ' ', pad);
		memcpy(text + pad, line, line_len);
		text[pad + line_len] = '\r';
		const char *edge = tmp_path("edge.keys");
		write_bytes(edge, "w", text, pad + line_len + 1);
		struct keylog_follow *e = new_follow(edge);
		struct keylog *ke = new_store();
		assert_int_equal(poll_ok(e, ke), 0);
		write_text(edge, "a", "\n");
		assert_int_equal(poll_ok(e, ke), extra == 0);
		assert_int_equal(keylog_stats(ke)->bad, extra);
		assert_int_equal(keylog_stats(ke)->lines, 1);
		keylog_follow_free(e);
		keylog_free(ke);
	}
}

static void test_follow_truncated(void **state)
{
	(void)state;
	const char *path = tmp_path("trunc.keys");
	write_text(path, "w", LINE_A LINE_B LINE_A13);
	struct keylog_follow *f = new_follow(path);
	struct keylog *k = new_store();
	assert_int_equal(poll_ok(f, k), 3);
	/* Rewritten shorter: read again from the start (numbered from 1). */
	write_text(path, "w", "bad\n");
	assert_int_equal(poll_ok(f, k), 0);
	char expected[512];
	snprintf(expected, sizeof expected, "%s:1: 1 field, expected 3 (label, client random, secret)",
		 path);
	assert_string_equal(keylog_stats(k)->first_error, expected);
	assert_int_equal(keylog_stats(k)->lines, 4);
	/* Emptied, then written: from the start again. */
	write_text(path, "w", "");
	assert_int_equal(poll_ok(f, k), 0);
	write_text(path, "a", "CLIENT_HANDSHAKE_TRAFFIC_SECRET " RANDOM_B " " SECRET_32 "\n");
	assert_int_equal(poll_ok(f, k), 1);
	assert_secret(k, random_b, KEYLOG_CLIENT_HANDSHAKE_TRAFFIC_SECRET, SECRET_32);
	/* A partial line when the file is truncated is dropped with it. */
	write_text(path, "a", "CLIENT_RANDOM " RANDOM_A);
	assert_int_equal(poll_ok(f, k), 0);
	write_text(path, "w", " " SECRET_48 "\n");
	assert_int_equal(poll_ok(f, k), 0);
	assert_int_equal(keylog_stats(k)->bad, 2); /* " secret" alone: 1 field */
	/* The secrets read before are kept: the store is not the file. */
	assert_secret(k, random_a, KEYLOG_MASTER_SECRET, SECRET_48);
	keylog_follow_free(f);
	keylog_free(k);
}

/* Replaced by rename (another inode): the old file's last lines, then the new one from its start. */
static void test_follow_replaced(void **state)
{
	(void)state;
	const char *path = tmp_path("sslkeylog");
	const char *next = tmp_path("sslkeylog.new");
	write_text(path, "w", LINE_A);
	struct keylog_follow *f = new_follow(path);
	struct keylog *k = new_store();
	assert_int_equal(poll_ok(f, k), 1);
	write_text(path, "a", LINE_A13);  /* not polled before the rename */
	write_text(next, "w", "# new\n" LINE_B);
	assert_int_equal(rename(next, path), 0);
	assert_int_equal(poll_ok(f, k), 2);
	assert_secret(k, random_a, KEYLOG_SERVER_TRAFFIC_SECRET_0, SECRET_32);
	assert_secret(k, random_b, KEYLOG_MASTER_SECRET, SECRET_48);
	assert_int_equal(keylog_stats(k)->lines, 4);
	/* The new file is followed: appended to, it is read on. */
	write_text(path, "a", "CLIENT_EARLY_TRAFFIC_SECRET " RANDOM_B " " SECRET_32 "\n");
	assert_int_equal(poll_ok(f, k), 1);
	/* Replaced by a larger file: still read from its start. */
	write_text(next, "w", "# 1\n# 2\n# 3\n# 4\n# 5\n# 6\n# 7\n# 8\n# 9\n" LINE_A LINE_B LINE_A13 "x\n");
	assert_int_equal(rename(next, path), 0);
	assert_int_equal(poll_ok(f, k), 0);
	assert_int_equal(keylog_stats(k)->lines, 5 + 13);
	char expected[512];
	snprintf(expected, sizeof expected, "%s:13: 1 field, expected 3 (label, client random, secret)",
		 path);
	assert_string_equal(keylog_stats(k)->first_error, expected);
	keylog_follow_free(f);
	keylog_free(k);
}

/* Removed: its last lines read, then waited for; made again: from its start. */
static void test_follow_removed(void **state)
{
	(void)state;
	const char *path = tmp_path("gone.keys");
	write_text(path, "w", LINE_A);
	struct keylog_follow *f = new_follow(path);
	struct keylog *k = new_store();
	assert_int_equal(poll_ok(f, k), 1);
	write_text(path, "a", LINE_A13 "CLIENT_RANDOM " RANDOM_B);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(poll_ok(f, k), 1);
	assert_no_secret(k, random_b, KEYLOG_MASTER_SECRET); /* never finished: dropped */
	assert_int_equal(poll_ok(f, k), 0);
	assert_int_equal(keylog_stats(k)->lines, 2);
	write_text(path, "w", LINE_B);
	assert_int_equal(poll_ok(f, k), 1);
	assert_secret(k, random_b, KEYLOG_MASTER_SECRET, SECRET_48);
	keylog_follow_free(f);
	keylog_free(k);
}

/* A directory where the file should be is an error, not absence; a file there again is read. */
static void test_follow_directory(void **state)
{
	(void)state;
	const char *path = tmp_path("keys");
	struct keylog_follow *f = new_follow(path);
	struct keylog *k = new_store();
	write_text(path, "w", LINE_A);
	assert_int_equal(poll_ok(f, k), 1);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkdir(path, 0700), 0);
	char error[512], expected[512];
	assert_int_equal(keylog_follow_poll(f, k, error, sizeof error), -1);
	snprintf(expected, sizeof expected, "%s: Is a directory", path);
	assert_string_equal(error, expected);
	assert_int_equal(keylog_follow_poll(f, k, error, sizeof error), -1);
	assert_int_equal(rmdir(path), 0);
	write_text(path, "w", LINE_B);
	assert_int_equal(poll_ok(f, k), 1);
	/* A directory from the start. */
	struct keylog_follow *d = new_follow(tmp_dir);
	assert_int_equal(keylog_follow_poll(d, k, error, sizeof error), -1);
	snprintf(expected, sizeof expected, "%s: Is a directory", tmp_dir);
	assert_string_equal(error, expected);
	/* A path through a file. */
	char through[256];
	snprintf(through, sizeof through, "%s/inside", path);
	struct keylog_follow *t = new_follow(through);
	assert_int_equal(keylog_follow_poll(t, k, error, sizeof error), -1);
	snprintf(expected, sizeof expected, "%s: Not a directory", through);
	assert_string_equal(error, expected);
	/* A FIFO: not a regular file (and never waited on). */
	const char *fifo = tmp_path("fifo");
	assert_int_equal(mkfifo(fifo, 0600), 0);
	struct keylog_follow *p = new_follow(fifo);
	assert_int_equal(keylog_follow_poll(p, k, error, sizeof error), -1);
	snprintf(expected, sizeof expected, "%s: not a regular file", fifo);
	assert_string_equal(error, expected);
	assert_int_equal(keylog_follow_poll(NULL, k, error, sizeof error), -1);
	assert_int_equal(keylog_follow_poll(f, NULL, error, sizeof error), -1);
	assert_null(keylog_follow_new(NULL));
	keylog_follow_free(p);
	keylog_follow_free(t);
	keylog_follow_free(d);
	keylog_follow_free(f);
	keylog_free(k);
}

/* At most 1 MiB a poll: a large file is read over several. */
static void test_follow_read_bound(void **state)
{
	(void)state;
	const char *path = tmp_path("big.keys");
	/* 64-byte comment lines: 16384 of them to a MiB. */
	char line[65];
	memset(line, 'c', 63);
	line[0] = '#';
	line[63] = '\n';
	line[64] = '\0';
	FILE *out = fopen(path, "w");
	assert_non_null(out);
	for (int i = 0; i < 16384 * 2 + 100; i++)
		fputs(line, out);
	fputs(LINE_A, out);
	assert_int_equal(fclose(out), 0);
	struct keylog_follow *f = new_follow(path);
	struct keylog *k = new_store();
	assert_int_equal(poll_ok(f, k), 0);
	assert_int_equal(keylog_stats(k)->lines, 16384);
	assert_int_equal(poll_ok(f, k), 0);
	assert_int_equal(keylog_stats(k)->lines, 2 * 16384);
	assert_int_equal(poll_ok(f, k), 1);
	assert_int_equal(keylog_stats(k)->lines, 2 * 16384 + 101);
	assert_int_equal(poll_ok(f, k), 0);

	/* Replaced while the old one is not read to its end: the old one is finished first. */
	const char *next = tmp_path("big.new");
	write_text(next, "w", LINE_B);
	struct keylog_follow *g = new_follow(path);
	struct keylog *j = new_store();
	assert_int_equal(poll_ok(g, j), 0);
	assert_int_equal(rename(next, path), 0);
	assert_int_equal(poll_ok(g, j), 0);                /* the second MiB of the old file */
	assert_int_equal(keylog_stats(j)->lines, 2 * 16384);
	assert_int_equal(poll_ok(g, j), 2);                /* its end, then the new file */
	assert_int_equal(keylog_stats(j)->lines, 2 * 16384 + 101 + 1);
	keylog_follow_free(g);
	keylog_free(j);
	keylog_follow_free(f);
	keylog_free(k);
}

/* ---- pcapng ---------------------------------------------------------------------------- */

/* The secrets of a pcapng's DSBs are those of the key log editcap was given. */
static void test_pcapng_dsb(void **state)
{
	(void)state;
	char error[512] = "x";
	struct keylog *dsb = new_store(), *keys = new_store();
	const char *pcapng = data_path("snet_tls1.3_session_resumption.dsb.pcapng");
	const char *keyfile = data_path("snet_tls1.3_session_resumption.keys");
	assert_int_equal(keylog_read_pcapng_secrets(dsb, pcapng, error, sizeof error), 33);
	assert_string_equal(error, "");
	assert_int_equal(keylog_read_file(keys, keyfile, error, sizeof error), 0);
	assert_int_equal(assert_store_has_file(dsb, keyfile), 33);
	assert_same_for_file(dsb, keys, keyfile);
	const struct keylog_stats *s = keylog_stats(dsb);
	assert_int_equal(s->lines, 41);
	assert_int_equal(s->skipped, 8);
	assert_int_equal(s->bad, 0);
	assert_int_equal(keylog_count(dsb), 9);
	keylog_free(dsb);
	keylog_free(keys);

	/* Two DSBs: the TLS 1.2 key log, then the TLS 1.3 one (the same client random). */
	struct keylog *two = new_store();
	assert_int_equal(keylog_read_pcapng_secrets(two, data_path("illustrated-tls12.dsb.pcapng"), error,
						    sizeof error),
			 5);
	assert_store_has_file(two, data_path("illustrated-tls12.keys"));
	assert_store_has_file(two, data_path("illustrated-tls13.keys"));
	assert_int_equal(keylog_count(two), 1);
	assert_int_equal(keylog_stats(two)->lines, 6);
	/* Read again: nothing new. */
	assert_int_equal(keylog_read_pcapng_secrets(two, data_path("illustrated-tls12.dsb.pcapng"), error,
						    sizeof error),
			 0);
	keylog_free(two);
}

/*
 * A pcapng written by another tool: tests/data/quic-v2.pcapng (nDPI's, see
 * tests/data/README.md) holds one TLS key log DSB. The expected values are
 * from an independent reader (shared/corpus/tls/tools/extract_dsb.py) and
 * awk over what it wrote: 69 lines, all of kept labels (5
 * CLIENT_EARLY_TRAFFIC_SECRET), 16 client randoms, no repeats; the first,
 * an early and the last line are checked secret by secret.
 */
static void test_pcapng_other_writer(void **state)
{
	(void)state;
	struct keylog *k = new_store();
	char error[512];
	assert_int_equal(keylog_read_pcapng_secrets(k, data_path("../quic-v2.pcapng"), error, sizeof error), 69);
	const struct keylog_stats *s = keylog_stats(k);
	assert_int_equal(s->lines, 69);
	assert_int_equal(s->skipped + s->bad, 0);
	assert_int_equal(keylog_count(k), 16);
	static const struct {
		enum keylog_label label;
		const char *random, *secret;
	} lines[] = {
		{ KEYLOG_SERVER_HANDSHAKE_TRAFFIC_SECRET,
		  "29ba0cf4ea2b893234e0b5f739069d6a06210d7b688da8977bcfb0c8fd7036a5",
		  "8b9ed0c5c13e9184e955ef20f539e689d6f1f4b94becd83c76692b574263b285" },
		{ KEYLOG_CLIENT_EARLY_TRAFFIC_SECRET,
		  "93c94f3c7907b8fc65e025544c58b8d3c7fc25bbc82f51a9a7bbbbeaa3f0ee53",
		  "00ab55d9d309f16bdaa01c1e12f48130fc82f51e8215713ab71574491e7168ae" },
		{ KEYLOG_CLIENT_TRAFFIC_SECRET_0,
		  "ed7d246300a798f2f2fda6a86e07c9590cc1229e2006788590d94907ded70f74",
		  "fd974c8257bb6bf969c2da8d231aad231e6125a065960ebb920f6d41bdbe6216" },
	};
	for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
		uint8_t random[KEYLOG_RANDOM_LEN];
		size_t len;
		unhex(lines[i].random, random, &len);
		assert_secret(k, random, lines[i].label, lines[i].secret);
	}
	keylog_free(k);
}

/* A pcap file has no DSB: 0, no error. */
static void test_pcapng_pcap(void **state)
{
	(void)state;
	char error[512] = "x";
	struct keylog *k = new_store();
	assert_int_equal(keylog_read_pcapng_secrets(k, data_path("illustrated-tls12.pcap"), error, sizeof error), 0);
	assert_string_equal(error, "");
	assert_int_equal(keylog_read_pcapng_secrets(k, data_path("snet_tls1.3_session_resumption.pcap"), error,
						    sizeof error),
			 0);
	/* Every pcap magic, in both byte orders. */
	static const uint8_t magics[][4] = {
		{ 0xa1, 0xb2, 0xc3, 0xd4 }, { 0xd4, 0xc3, 0xb2, 0xa1 }, { 0xa1, 0xb2, 0x3c, 0x4d },
		{ 0x4d, 0x3c, 0xb2, 0xa1 }, { 0xa1, 0xb2, 0xcd, 0x34 }, { 0x34, 0xcd, 0xb2, 0xa1 },
	};
	const char *path = tmp_path("magic.pcap");
	for (size_t i = 0; i < sizeof magics / sizeof magics[0]; i++) {
		write_bytes(path, "w", magics[i], 4);
		assert_int_equal(keylog_read_pcapng_secrets(k, path, error, sizeof error), 0);
	}
	assert_int_equal(keylog_stats(k)->lines, 0);
	keylog_free(k);
}

/* Cut at every byte: a block boundary leaves a shorter pcapng, any other cut names its block. */
static void test_pcapng_truncated(void **state)
{
	(void)state;
	size_t len;
	uint8_t *data = read_whole(data_path("snet_tls1.3_session_resumption.dsb.pcapng"), &len);
	/* The block boundaries, walked here from the little-endian total lengths. */
	size_t boundaries[64], count = 0, at = 0;
	while (at < len) {
		assert_true(count < 64);
		boundaries[count++] = at;
		at += (size_t)data[at + 4] | (size_t)data[at + 5] << 8 | (size_t)data[at + 6] << 16 |
		      (size_t)data[at + 7] << 24;
	}
	assert_int_equal(at, len);
	const char *path = tmp_path("cut.pcapng");
	char error[512], expected[512];
	for (size_t cut = 0; cut < len; cut++) {
		write_bytes(path, "w", data, cut);
		struct keylog *k = new_store();
		ssize_t rc = keylog_read_pcapng_secrets(k, path, error, sizeof error);
		size_t block = 0;
		bool boundary = false;
		for (size_t i = 0; i < count; i++) {
			if (boundaries[i] <= cut)
				block = boundaries[i];
			boundary |= boundaries[i] == cut;
		}
		/* Secrets of blocks before the cut are kept, even when it fails. */
		size_t secrets = cut >= boundaries[2] ? 33 : 0;
		if (cut < 4) {
			assert_int_equal(rc, -1);
			snprintf(expected, sizeof expected,
				 "%s: offset 0: %zu bytes, too short for pcap or pcapng", path, cut);
			assert_string_equal(error, expected);
		} else if (boundary) {
			assert_int_equal(rc, (ssize_t)secrets);
		} else {
			assert_int_equal(rc, -1);
			snprintf(expected, sizeof expected, "%s: block at offset %zu: truncated", path,
				 block);
			if (strncmp(error, expected, strlen(expected)) != 0)
				fail_msg("cut %zu: \"%s\", expected \"%s ...\"", cut, error, expected);
		}
		assert_int_equal(keylog_stats(k)->secrets, secrets);
		keylog_free(k);
	}
	free(data);
}

/* ---- pcapng made here: either byte order, fields corrupted one by one ---- */

struct buf {
	uint8_t *p;
	size_t len, cap;
};

static void put(struct buf *b, const void *data, size_t len)
{
	if (b->len + len > b->cap) {
		b->cap = (b->len + len) * 2 + 64;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
}

static void put32(struct buf *b, uint32_t v, bool be)
{
	uint8_t x[4];
	for (int i = 0; i < 4; i++)
		x[i] = (uint8_t)(be ? v >> (24 - 8 * i) : v >> (8 * i));
	put(b, x, 4);
}

static void put16(struct buf *b, uint16_t v, bool be)
{
	uint8_t x[2] = { (uint8_t)(be ? v >> 8 : v), (uint8_t)(be ? v : v >> 8) };
	put(b, x, 2);
}

static void put_shb(struct buf *b, bool be, uint16_t major)
{
	put32(b, 0x0A0D0D0A, be);
	put32(b, 28, be);
	put32(b, 0x1A2B3C4D, be);
	put16(b, major, be);
	put16(b, 0, be);
	put32(b, 0xffffffff, be); /* section length: not given */
	put32(b, 0xffffffff, be);
	put32(b, 28, be);
}

static void put_dsb(struct buf *b, bool be, uint32_t type, const char *data, size_t len)
{
	size_t padded = (len + 3) / 4 * 4;
	uint32_t total = (uint32_t)(12 + 8 + padded);
	static const uint8_t zeros[4];
	put32(b, 0x0000000A, be);
	put32(b, total, be);
	put32(b, type, be);
	put32(b, (uint32_t)len, be);
	put(b, data, len);
	put(b, zeros, padded - len);
	put32(b, total, be);
}

/* An Interface Description Block: something to skip. */
static void put_idb(struct buf *b, bool be)
{
	put32(b, 1, be);
	put32(b, 20, be);
	put16(b, 1, be);
	put16(b, 0, be);
	put32(b, 0, be);
	put32(b, 20, be);
}

static ssize_t read_made(struct keylog *k, struct buf *b, char *error, size_t error_len)
{
	const char *path = tmp_path("made.pcapng");
	write_bytes(path, "w", b->p, b->len);
	return keylog_read_pcapng_secrets(k, path, error, error_len);
}

#define TLSK 0x544c534b

static void test_pcapng_byte_orders_and_sections(void **state)
{
	(void)state;
	struct buf b = { 0 };
	const char *a = LINE_A;
	const char *c13 = "CLIENT_HANDSHAKE_TRAFFIC_SECRET " RANDOM_B " " SECRET_32; /* no LF, 3 bytes of padding */
	put_shb(&b, true, 1);
	put_idb(&b, true);
	put_dsb(&b, true, TLSK, a, strlen(a));
	put_shb(&b, false, 1);
	put_dsb(&b, false, TLSK, c13, strlen(c13));
	put_dsb(&b, false, 0x57474b4c, "not a key log", 13); /* WireGuard: skipped */
	put_shb(&b, true, 1);
	put_idb(&b, true);
	put_dsb(&b, true, TLSK, LINE_A13, strlen(LINE_A13));
	struct keylog *k = new_store();
	char error[512] = "x";
	assert_int_equal(read_made(k, &b, error, sizeof error), 3);
	assert_string_equal(error, "");
	assert_secret(k, random_a, KEYLOG_MASTER_SECRET, SECRET_48);
	assert_secret(k, random_b, KEYLOG_CLIENT_HANDSHAKE_TRAFFIC_SECRET, SECRET_32);
	assert_secret(k, random_a, KEYLOG_SERVER_TRAFFIC_SECRET_0, SECRET_32);
	assert_int_equal(keylog_stats(k)->lines, 3);
	keylog_free(k);

	/* Two real files one after the other: a pcapng of two sections. */
	size_t l1, l2;
	uint8_t *f1 = read_whole(data_path("snet_tls1.3_session_resumption.dsb.pcapng"), &l1);
	uint8_t *f2 = read_whole(data_path("illustrated-tls12.dsb.pcapng"), &l2);
	struct buf both = { 0 };
	put(&both, f1, l1);
	put(&both, f2, l2);
	k = new_store();
	assert_int_equal(read_made(k, &both, error, sizeof error), 33 + 5);
	assert_store_has_file(k, data_path("snet_tls1.3_session_resumption.keys"));
	assert_store_has_file(k, data_path("illustrated-tls13.keys"));
	assert_int_equal(keylog_count(k), 10);
	keylog_free(k);
	free(both.p);
	free(f1);
	free(f2);

	/* A bad line in a DSB: named by the block, numbered within it. */
	struct buf bad = { 0 };
	put_shb(&bad, false, 1);
	put_dsb(&bad, false, TLSK, "# c\nCLIENT_RANDOM zz\n", 21);
	k = new_store();
	assert_int_equal(read_made(k, &bad, error, sizeof error), 0);
	char expected[512];
	snprintf(expected, sizeof expected,
		 "%s (decryption secrets block at offset 28):2: 2 fields, expected 3 (label, client random, secret)",
		 tmp_path("made.pcapng"));
	assert_string_equal(keylog_stats(k)->first_error, expected);
	keylog_free(k);
	free(bad.p);
	free(b.p);
}

/* Each broken field gives -1 and names the file and the block's offset. */
static void test_pcapng_corrupt(void **state)
{
	(void)state;
	char error[512], expected[512];
	const char *path = tmp_path("made.pcapng");
	struct keylog *k = new_store();
	struct buf b = { 0 };

	/* The total length at the end differs. */
	put_shb(&b, false, 1);
	put_dsb(&b, false, TLSK, LINE_A, strlen(LINE_A));
	b.p[b.len - 1] ^= 0x40;
	assert_int_equal(read_made(k, &b, error, sizeof error), -1);
	snprintf(expected, sizeof expected,
		 "%s: block at offset 28: total length 196 at its start, 1073742020 at its end", path);
	assert_string_equal(error, expected);
	assert_int_equal(keylog_stats(k)->secrets, 0);

	/* Total lengths too small or not a multiple of 4. */
	static const uint32_t lengths[] = { 0, 8, 11, 13, 190 };
	for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
		b.len = 0;
		put_shb(&b, false, 1);
		put_dsb(&b, false, TLSK, LINE_A, strlen(LINE_A));
		for (int j = 0; j < 4; j++) /* the DSB's total length, little-endian */
			b.p[28 + 4 + j] = (uint8_t)(lengths[i] >> (8 * j));
		assert_int_equal(read_made(k, &b, error, sizeof error), -1);
		snprintf(expected, sizeof expected,
			 "%s: block at offset 28: total length %u is not a multiple of 4 of at least 12",
			 path, (unsigned)lengths[i]);
		assert_string_equal(error, expected);
	}

	/* No byte-order magic. */
	b.len = 0;
	put_shb(&b, false, 1);
	b.p[8] = 0;
	assert_int_equal(read_made(k, &b, error, sizeof error), -1);
	snprintf(expected, sizeof expected, "%s: section header at offset 0: no byte-order magic", path);
	assert_string_equal(error, expected);

	/* A version we do not read, in the second section. */
	b.len = 0;
	put_shb(&b, false, 1);
	put_shb(&b, true, 2);
	assert_int_equal(read_made(k, &b, error, sizeof error), -1);
	snprintf(expected, sizeof expected, "%s: section header at offset 28: major version 2, not 1", path);
	assert_string_equal(error, expected);

	/* A section header too short. */
	b.len = 0;
	put32(&b, 0x0A0D0D0A, false);
	put32(&b, 16, false);
	put32(&b, 0x1A2B3C4D, false);
	put32(&b, 16, false);
	assert_int_equal(read_made(k, &b, error, sizeof error), -1);
	snprintf(expected, sizeof expected, "%s: section header at offset 0: total length 16, less than 28",
		 path);
	assert_string_equal(error, expected);

	/* Secrets longer than the block. */
	b.len = 0;
	put_shb(&b, true, 1);
	put_idb(&b, true);
	const char *no_lf = "CLIENT_RANDOM " RANDOM_A " " SECRET_48; /* 175 bytes, padded to 176 */
	put_dsb(&b, true, TLSK, no_lf, strlen(no_lf));
	b.p[28 + 20 + 15] = 177; /* the secrets length's low byte, big-endian */
	assert_int_equal(read_made(k, &b, error, sizeof error), -1);
	snprintf(expected, sizeof expected,
		 "%s: decryption secrets block at offset 48: secrets length 177 is more than the block holds (176)",
		 path);
	assert_string_equal(error, expected);
	/* 176 takes in the padding: read, its NUL makes the line bad. */
	b.p[28 + 20 + 15] = 176;
	assert_int_equal(read_made(k, &b, error, sizeof error), 0);
	assert_int_equal(keylog_stats(k)->bad, 1);

	/* A DSB with no room for its type and length. */
	b.len = 0;
	put_shb(&b, false, 1);
	put32(&b, 0x0000000A, false);
	put32(&b, 16, false);
	put32(&b, TLSK, false);
	put32(&b, 16, false);
	assert_int_equal(read_made(k, &b, error, sizeof error), -1);
	snprintf(expected, sizeof expected,
		 "%s: decryption secrets block at offset 28: total length 16 leaves no room for its type and length",
		 path);
	assert_string_equal(error, expected);

	/* Neither pcap nor pcapng; empty; missing; a directory. */
	b.len = 0;
	put(&b, "hello, world\n", 13);
	assert_int_equal(read_made(k, &b, error, sizeof error), -1);
	snprintf(expected, sizeof expected, "%s: offset 0: neither pcap nor pcapng", path);
	assert_string_equal(error, expected);
	b.len = 0;
	assert_int_equal(read_made(k, &b, error, sizeof error), -1);
	snprintf(expected, sizeof expected, "%s: offset 0: 0 bytes, too short for pcap or pcapng", path);
	assert_string_equal(error, expected);
	assert_int_equal(keylog_read_pcapng_secrets(k, tmp_path("none.pcapng"), error, sizeof error), -1);
	snprintf(expected, sizeof expected, "%s: No such file or directory", tmp_path("none.pcapng"));
	assert_string_equal(error, expected);
	assert_int_equal(keylog_read_pcapng_secrets(k, tmp_dir, error, sizeof error), -1);
	snprintf(expected, sizeof expected, "%s: Is a directory", tmp_dir);
	assert_string_equal(error, expected);
	assert_int_equal(keylog_read_pcapng_secrets(k, tmp_dir, NULL, 0), -1);
	assert_int_equal(keylog_read_pcapng_secrets(NULL, tmp_dir, error, sizeof error), -1);
	free(b.p);
	keylog_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_label_names),
		cmocka_unit_test(test_corpus_files),
		cmocka_unit_test(test_corpus_replacement),
		cmocka_unit_test(test_repeated_lines),
		cmocka_unit_test(test_replaced_secret),
		cmocka_unit_test(test_line_forms),
		cmocka_unit_test(test_line_length),
		cmocka_unit_test(test_bad_lines),
		cmocka_unit_test(test_nul_bytes),
		cmocka_unit_test(test_unknown_labels),
		cmocka_unit_test(test_secret_lengths),
		cmocka_unit_test(test_first_error),
		cmocka_unit_test(test_lookup_misses),
		cmocka_unit_test(test_eviction),
		cmocka_unit_test_setup_teardown(test_read_file_errors, make_tmp_dir, remove_tmp_dir),
		cmocka_unit_test_setup_teardown(test_read_file_large, make_tmp_dir, remove_tmp_dir),
		cmocka_unit_test_setup_teardown(test_follow_absent_then_created, make_tmp_dir, remove_tmp_dir),
		cmocka_unit_test_setup_teardown(test_follow_pieces, make_tmp_dir, remove_tmp_dir),
		cmocka_unit_test_setup_teardown(test_follow_partial_line, make_tmp_dir, remove_tmp_dir),
		cmocka_unit_test_setup_teardown(test_follow_overlong_line, make_tmp_dir, remove_tmp_dir),
		cmocka_unit_test_setup_teardown(test_follow_truncated, make_tmp_dir, remove_tmp_dir),
		cmocka_unit_test_setup_teardown(test_follow_replaced, make_tmp_dir, remove_tmp_dir),
		cmocka_unit_test_setup_teardown(test_follow_removed, make_tmp_dir, remove_tmp_dir),
		cmocka_unit_test_setup_teardown(test_follow_directory, make_tmp_dir, remove_tmp_dir),
		cmocka_unit_test_setup_teardown(test_follow_read_bound, make_tmp_dir, remove_tmp_dir),
		cmocka_unit_test(test_pcapng_dsb),
		cmocka_unit_test(test_pcapng_other_writer),
		cmocka_unit_test_setup_teardown(test_pcapng_pcap, make_tmp_dir, remove_tmp_dir),
		cmocka_unit_test_setup_teardown(test_pcapng_truncated, make_tmp_dir, remove_tmp_dir),
		cmocka_unit_test_setup_teardown(test_pcapng_byte_orders_and_sections, make_tmp_dir,
						remove_tmp_dir),
		cmocka_unit_test_setup_teardown(test_pcapng_corrupt, make_tmp_dir, remove_tmp_dir),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
