/*
 * Unit tests for daemon/identifiers.c. The hash against RFC 4231's
 * HMAC-SHA256 test vectors (their first 128 bits), its stability, its key
 * dependence and its use from several threads; then the three redactors on
 * edge cases, each checked at every cap from 0 to past its full length:
 * every output is a NUL-terminated prefix of the full one, cut only at a
 * boundary, with as many parts as fit, and holds no secret value. Outputs go
 * to heap buffers of exactly `cap` bytes, so that ASan sees any write past
 * them. Last, key files: missing, empty, too short, too long.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "../../daemon/identifiers.h"

typedef struct ident_redaction (*redactor)(const struct ident_key *key, const char *in, size_t len,
					   char *out, size_t cap);

static const char test_secret[] = "trackwatch unit-test key, 32 b.";
static struct ident_key key;

static int setup(void **state)
{
	(void)state;
	return ident_key_set(&key, test_secret, sizeof test_secret - 1);
}

static int teardown(void **state)
{
	(void)state;
	ident_key_free(&key);
	return 0;
}

static void hash_text(const struct ident_key *k, const char *value, size_t len,
		      char out[IDENT_HASH_TEXT])
{
	assert_int_equal(ident_hash(k, value, len, out), 0);
}

/*
 * The expected output from a template: "{v}" stands for the hash text of the
 * bytes v (no braces in test values). Returns its length.
 */
static size_t expand(const char *template, char *out, size_t cap)
{
	size_t len = 0;
	for (const char *p = template; *p;) {
		if (*p == '{') {
			const char *close = strchr(p, '}');
			assert_non_null(close);
			char text[IDENT_HASH_TEXT];
			hash_text(&key, p + 1, (size_t)(close - p - 1), text);
			size_t n = strlen(text);
			assert_true(len + n < cap);
			memcpy(out + len, text, n);
			len += n;
			p = close + 1;
		} else {
			assert_true(len + 1 < cap);
			out[len++] = *p++;
		}
	}
	out[len] = '\0';
	return len;
}

static int contains(const char *hay, size_t hay_len, const char *needle)
{
	size_t n = strlen(needle);
	if (n == 0 || n > hay_len)
		return 0;
	for (size_t i = 0; i + n <= hay_len; i++)
		if (memcmp(hay + i, needle, n) == 0)
			return 1;
	return 0;
}

/* Where a redactor may cut: before these bytes. */
static const char *boundaries(redactor redact)
{
	return redact == ident_redact_query ? "?&;#" : ";";
}

/*
 * Runs `redact` on `len` bytes of `in` and compares with `template`
 * expanded; then every cap from 0 to the full length + 1. `secrets` (NULL
 * ended, may be NULL) must appear in no output.
 */
static void check_bytes(redactor redact, const char *in, size_t len, const char *template,
			const char *const *secrets)
{
	char expected[65536];
	size_t expected_len = expand(template, expected, sizeof expected);

	/* Exactly `len` bytes on the heap, so that reads past them are seen. */
	char *input = malloc(len ? len : 1);
	assert_non_null(input);
	if (len)
		memcpy(input, in, len);

	size_t max = ident_redact_max(len);
	assert_true(max > expected_len);
	char *full = malloc(max);
	assert_non_null(full);
	struct ident_redaction r = redact(&key, input, len, full, max);
	assert_int_equal(r.status, IDENT_COMPLETE);
	if (r.len != expected_len || memcmp(full, expected, expected_len) != 0)
		fail_msg("redacting \"%.*s\":\n got      \"%.*s\"\n expected \"%s\"", (int)len, in,
			 (int)r.len, full, expected);
	assert_int_equal(full[r.len], '\0');

	/* Where the plain path of a target ends: before it, any byte is a boundary. */
	size_t path_end = 0;
	if (redact == ident_redact_query) {
		while (path_end < len && !strchr("?;#", in[path_end]))
			path_end++;
	}
	const char *cuts = boundaries(redact);
	for (size_t cap = 0; cap <= expected_len + 1; cap++) {
		char *out = cap ? malloc(cap) : NULL;
		if (cap)
			assert_non_null(out);
		r = redact(&key, input, len, out, cap);
		if (cap == 0) {
			assert_int_equal(r.len, 0);
			assert_int_equal(r.status, IDENT_TRUNCATED);
			continue;
		}
		assert_true(r.len < cap);
		assert_int_equal(out[r.len], '\0');
		assert_memory_equal(out, expected, r.len);
		if (cap > expected_len) {
			assert_int_equal(r.status, IDENT_COMPLETE);
			assert_int_equal(r.len, expected_len);
		} else {
			assert_int_equal(r.status, IDENT_TRUNCATED);
			/* At a boundary (the start is one)... */
			int in_path = r.len < path_end;
			assert_true(in_path || r.len == 0 || strchr(cuts, expected[r.len]));
			/* ...with as much as fits: the next part would not have. */
			size_t next = r.len + 1;
			while (next < expected_len && !strchr(cuts, expected[next]))
				next++;
			if (!in_path)
				assert_true(next > cap - 1);
			else
				assert_int_equal(r.len, cap - 1);
		}
		for (size_t i = 0; secrets && secrets[i]; i++)
			assert_false(contains(out, r.len, secrets[i]));
		free(out);
	}
	for (size_t i = 0; secrets && secrets[i]; i++)
		assert_false(contains(full, expected_len, secrets[i]));
	free(full);
	free(input);
}

static void check(redactor redact, const char *in, const char *template)
{
	check_bytes(redact, in, strlen(in), template, NULL);
}

static void check_secrets(redactor redact, const char *in, const char *template,
			  const char *const *secrets)
{
	check_bytes(redact, in, strlen(in), template, secrets);
}

/* ---- the hash ----------------------------------------------------------- */

static void test_rfc4231(void **state)
{
	(void)state;
	static const char case7[] =
		"This is a test using a larger than block-size key and a larger than block-size "
		"data. The key needs to be hashed before being used by the HMAC algorithm.";
	struct {
		int number;
		uint8_t key_byte;       /* repeated key_len times; 0: the bytes 1, 2, ... */
		size_t key_len;
		const char *key_text;   /* or this */
		uint8_t data_byte;      /* repeated data_len times, or */
		size_t data_len;
		const char *data;       /* this */
		const char *hmac128;
	} cases[] = {
		{ 1, 0x0b, 20, NULL, 0, 0, "Hi There", "b0344c61d8db38535ca8afceaf0bf12b" },
		{ 2, 0, 0, "Jefe", 0, 0, "what do ya want for nothing?",
		  "5bdcc146bf60754e6a042426089575c7" },
		{ 3, 0xaa, 20, NULL, 0xdd, 50, NULL, "773ea91e36800e46854db8ebd09181a7" },
		{ 4, 0, 25, NULL, 0xcd, 50, NULL, "82558a389a443c0ea4cc819899f2083a" },
		/* Case 5 is RFC 4231's own truncation to 128 bits: our format exactly. */
		{ 5, 0x0c, 20, NULL, 0, 0, "Test With Truncation", "a3b6167473100ee06e0c796c2955552b" },
		{ 6, 0xaa, 131, NULL, 0, 0, "Test Using Larger Than Block-Size Key - Hash Key First",
		  "60e431591ee0b67f0d8a26aacbf5b77f" },
		{ 7, 0xaa, 131, NULL, 0, 0, case7, "9b09ffa71b942fcb27635fbcd5b0e944" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		uint8_t secret[256], data[256];
		size_t secret_len, data_len;
		if (cases[i].key_text) {
			secret_len = strlen(cases[i].key_text);
			memcpy(secret, cases[i].key_text, secret_len);
		} else {
			secret_len = cases[i].key_len;
			for (size_t j = 0; j < secret_len; j++)
				secret[j] = cases[i].key_byte ? cases[i].key_byte : (uint8_t)(j + 1);
		}
		if (cases[i].data) {
			data_len = strlen(cases[i].data);
			memcpy(data, cases[i].data, data_len);
		} else {
			data_len = cases[i].data_len;
			memset(data, cases[i].data_byte, data_len);
		}
		struct ident_key k;
		assert_int_equal(ident_key_set(&k, secret, secret_len), 0);
		char text[IDENT_HASH_TEXT];
		assert_int_equal(ident_hash(&k, data, data_len, text), 0);
		if (strcmp(text, cases[i].hmac128) != 0)
			fail_msg("RFC 4231 case %d: %s, expected %s", cases[i].number, text,
				 cases[i].hmac128);
		/* Again, from the thread's kept context. */
		assert_int_equal(ident_hash(&k, data, data_len, text), 0);
		assert_string_equal(text, cases[i].hmac128);
		ident_key_free(&k);
	}
}

static void test_hash_stable_and_keyed(void **state)
{
	(void)state;
	char a[IDENT_HASH_TEXT], b[IDENT_HASH_TEXT], c[IDENT_HASH_TEXT];
	hash_text(&key, "abc", 3, a);
	assert_int_equal(strlen(a), IDENT_HASH_HEX);
	for (size_t i = 0; i < IDENT_HASH_HEX; i++)
		assert_non_null(strchr("0123456789abcdef", a[i]));

	/* The same bytes with another key object made from the same secret: the same text. */
	struct ident_key same, other;
	assert_int_equal(ident_key_set(&same, test_secret, sizeof test_secret - 1), 0);
	assert_int_equal(ident_key_set(&other, "another key, same length, 32 b.", 31), 0);
	hash_text(&same, "abc", 3, b);
	assert_string_equal(a, b);
	hash_text(&other, "abc", 3, c);
	assert_string_not_equal(a, c);
	/* Switching keys back and forth in one thread. */
	hash_text(&key, "abc", 3, b);
	assert_string_equal(a, b);
	hash_text(&other, "abc", 3, b);
	assert_string_equal(b, c);

	/* Values that differ by a byte, by length, by a NUL. */
	hash_text(&key, "abd", 3, b);
	assert_string_not_equal(a, b);
	hash_text(&key, "abc\0", 4, b);
	assert_string_not_equal(a, b);
	hash_text(&key, "ab", 2, b);
	assert_string_not_equal(a, b);

	/* A key of the secret plus one byte is another key. */
	char longer[64];
	memcpy(longer, test_secret, sizeof test_secret - 1);
	longer[sizeof test_secret - 1] = '\n';
	struct ident_key newline;
	assert_int_equal(ident_key_set(&newline, longer, sizeof test_secret), 0);
	hash_text(&newline, "abc", 3, b);
	assert_string_not_equal(a, b);

	/* Random keys differ from each other. */
	struct ident_key r1, r2;
	assert_int_equal(ident_key_random(&r1), 0);
	assert_int_equal(ident_key_random(&r2), 0);
	hash_text(&r1, "abc", 3, b);
	hash_text(&r2, "abc", 3, c);
	assert_string_not_equal(b, c);

	ident_key_free(&same);
	ident_key_free(&other);
	ident_key_free(&newline);
	ident_key_free(&r1);
	ident_key_free(&r2);
	ident_key_free(&r1); /* twice: harmless */
}

/* HMAC-SHA256 of `data` with the test secret, by OpenSSL's one-shot call: its first 128 bits in hex. */
static void reference_hmac(const void *data, size_t len, char out[IDENT_HASH_TEXT])
{
	unsigned char mac[EVP_MAX_MD_SIZE];
	size_t mac_len = 0;
	assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, test_secret,
				  sizeof test_secret - 1, data, len, mac, sizeof mac, &mac_len));
	for (size_t i = 0; i < IDENT_HASH_HEX / 2; i++)
		snprintf(out + 2 * i, 3, "%02x", mac[i]);
}

/*
 * The thread's table of values hashed before: short values (kept in their
 * slot), long ones (kept in a copy), ones too long to keep, values that
 * differ only in their last byte, and more values than the table has slots
 * (so that they displace each other): every hash, first time and again in
 * another order, is HMAC-SHA256's as OpenSSL computes it on its own.
 */
static void test_hash_remembered(void **state)
{
	(void)state;
	enum { VALUES = 3000, LONGEST = 4200 };
	static char value[LONGEST];
	char got[IDENT_HASH_TEXT], want[IDENT_HASH_TEXT];
	for (int round = 0; round < 3; round++) {
		for (unsigned n = 0; n < VALUES; n++) {
			unsigned i = round == 1 ? VALUES - 1 - n : (n * 7919u) % VALUES;
			size_t len = 1 + (i * 37u) % LONGEST;
			for (size_t k = 0; k < len; k++)
				value[k] = (char)('a' + (k + i / 26) % 26);
			value[len - 1] = (char)('A' + i % 26);
			hash_text(&key, value, len, got);
			reference_hmac(value, len, want);
			if (strcmp(got, want) != 0)
				fail_msg("round %d, value %u (%zu bytes): %s, expected %s", round, i, len, got,
					 want);
		}
	}
}

static void test_hash_empty_and_no_key(void **state)
{
	(void)state;
	char text[IDENT_HASH_TEXT];
	memset(text, 'x', sizeof text);
	assert_int_equal(ident_hash(&key, "", 0, text), 0);
	assert_string_equal(text, "");
	assert_int_equal(ident_hash(&key, NULL, 0, text), 0);
	assert_string_equal(text, "");

	/* No key, or a key freed: no hash, and the redactors say so with "". */
	struct ident_key none;
	memset(&none, 0, sizeof none);
	memset(text, 'x', sizeof text);
	assert_int_equal(ident_hash(&none, "abc", 3, text), -1);
	assert_string_equal(text, "");
	char out[64];
	struct ident_redaction r = ident_redact_cookie(&none, "a=1; b=2", 8, out, sizeof out);
	assert_int_equal(r.status, IDENT_FAILED);
	assert_int_equal(r.len, 0);
	assert_string_equal(out, "");
	r = ident_redact_query(&none, "/p?a=1", 6, out, sizeof out);
	assert_int_equal(r.status, IDENT_FAILED);
	assert_string_equal(out, "");
	/* Nothing to hash needs no key. */
	r = ident_redact_cookie(&none, "a=; b=", 6, out, sizeof out);
	assert_int_equal(r.status, IDENT_COMPLETE);
	assert_string_equal(out, "a=; b=");

	struct ident_key freed;
	assert_int_equal(ident_key_set(&freed, test_secret, 20), 0);
	hash_text(&freed, "abc", 3, text);
	ident_key_free(&freed);
	assert_int_equal(ident_hash(&freed, "abc", 3, text), -1);

	/* ident_key_set refuses nothing and too much. */
	static char big[IDENT_KEY_MAX + 1];
	assert_int_equal(ident_key_set(&freed, big, 0), -1);
	assert_int_equal(ident_key_set(&freed, big, sizeof big), -1);
	assert_int_equal(ident_key_set(&freed, big, IDENT_KEY_MAX), 0);
	ident_key_free(&freed);
}

struct thread_run {
	const struct ident_key *key;
	char texts[64][IDENT_HASH_TEXT];
};

static void *hash_in_thread(void *arg)
{
	struct thread_run *run = arg;
	for (int round = 0; round < 50; round++)
		for (int i = 0; i < 64; i++) {
			char value[16];
			int n = snprintf(value, sizeof value, "value-%d", i);
			if (ident_hash(run->key, value, (size_t)n, run->texts[i]) != 0)
				run->texts[i][0] = '!';
		}
	return NULL;
}

/* One key shared read-only by threads: each hashes as the main thread does. */
static void test_hash_threads(void **state)
{
	(void)state;
	enum { THREADS = 4 };
	static struct thread_run runs[THREADS];
	pthread_t threads[THREADS];
	for (int t = 0; t < THREADS; t++) {
		runs[t].key = &key;
		assert_int_equal(pthread_create(&threads[t], NULL, hash_in_thread, &runs[t]), 0);
	}
	for (int t = 0; t < THREADS; t++)
		assert_int_equal(pthread_join(threads[t], NULL), 0);
	for (int i = 0; i < 64; i++) {
		char value[16], text[IDENT_HASH_TEXT];
		int n = snprintf(value, sizeof value, "value-%d", i);
		hash_text(&key, value, (size_t)n, text);
		for (int t = 0; t < THREADS; t++)
			assert_string_equal(runs[t].texts[i], text);
	}
}

/* ---- Cookie ------------------------------------------------------------- */

static void test_cookie(void **state)
{
	(void)state;
	redactor c = ident_redact_cookie;
	check(c, "a=1; b=xyz; c", "a={1}; b={xyz}; {c}");
	check(c, "", "");
	check(c, ";", ";");
	check(c, ";;", ";;");
	check(c, " ; ;", " ; ;");
	check(c, "a=1;;b=2;", "a={1};;b={2};");
	/* Spaces and tabs around names and values are kept, and not hashed. */
	check(c, "  a = 1  ;\tb\t=\t2 3\t", "  a = {1}  ;\tb\t=\t{2 3}\t");
	/* The first '=' splits; quotes are part of the value. */
	check(c, "a=x=y==; b==", "a={x=y==}; b={=}");
	check(c, "q=\"quoted value\"; r=\"\"", "q={\"quoted value\"}; r={\"\"}");
	/* Without '=': a value without a name. With an empty name: kept so. */
	check(c, "c", "{c}");
	check(c, "  token123  ", "  {token123}  ");
	check(c, "=v; =; a=", "={v}; =; a=");
	/* Empty values stay empty. */
	check(c, "a=; b=  ; c=\t", "a=; b=  ; c=\t");
	/* Other control bytes are value bytes. */
	check(c, "a=1\r\n; b=\x7f", "a={1\r\n}; b={\x7f}");
	/* A real one. */
	check(c, "_ga=GA1.1.1234567890.1700000000; _gid=GA1.1.987654321.1700000000; "
		 "euconsent-v2=CPxyz; OptanonConsent=isGpcEnabled=0&datestamp=x",
	      "_ga={GA1.1.1234567890.1700000000}; _gid={GA1.1.987654321.1700000000}; "
	      "euconsent-v2={CPxyz}; OptanonConsent={isGpcEnabled=0&datestamp=x}");

	/* A NUL byte inside is a byte like another. */
	static const char nul[] = "a=x\0y; b\0=z";
	char text[IDENT_HASH_TEXT], expected[128], out[128];
	size_t n = 0;
	memcpy(expected, "a=", 2);
	n = 2;
	hash_text(&key, "x\0y", 3, text);
	memcpy(expected + n, text, IDENT_HASH_HEX);
	n += IDENT_HASH_HEX;
	memcpy(expected + n, "; b\0=", 5);
	n += 5;
	hash_text(&key, "z", 1, text);
	memcpy(expected + n, text, IDENT_HASH_HEX);
	n += IDENT_HASH_HEX;
	struct ident_redaction r = ident_redact_cookie(&key, nul, sizeof nul - 1, out, sizeof out);
	assert_int_equal(r.status, IDENT_COMPLETE);
	assert_int_equal(r.len, n);
	assert_memory_equal(out, expected, n);
	assert_int_equal(out[n], '\0');
}

static void test_cookie_secrets(void **state)
{
	(void)state;
	static const char *const secrets[] = { "SECRETVALUE", "s3cr3t", "unnamedsecret", NULL };
	check_secrets(ident_redact_cookie, "id=SECRETVALUE; x=s3cr3t; unnamedsecret; long=SECRETVALUEs3cr3t",
		    "id={SECRETVALUE}; x={s3cr3t}; {unnamedsecret}; long={SECRETVALUEs3cr3t}",
		    secrets);
}

static void test_cookie_many_pairs(void **state)
{
	(void)state;
	static char in[8192], template[8192];
	size_t in_len = 0, template_len = 0;
	for (int i = 0; i < 200; i++) {
		in_len += (size_t)snprintf(in + in_len, sizeof in - in_len, "%sname%d=value%d",
					   i ? "; " : "", i, i);
		template_len += (size_t)snprintf(template + template_len,
						 sizeof template - template_len, "%sname%d={value%d}",
						 i ? "; " : "", i, i);
	}
	static const char *const secrets[] = { "value1", "value19", "value199", NULL };
	check_bytes(ident_redact_cookie, in, in_len, template, secrets);
}

/* The full output with its NUL exactly fills the buffer; a byte less cuts a pair. */
static void test_cookie_exact_cap(void **state)
{
	(void)state;
	const char *in = "a=1; b=2";
	size_t full = 2 + IDENT_HASH_HEX + 4 + IDENT_HASH_HEX;
	char *out = malloc(full + 1);
	assert_non_null(out);
	struct ident_redaction r = ident_redact_cookie(&key, in, strlen(in), out, full + 1);
	assert_int_equal(r.status, IDENT_COMPLETE);
	assert_int_equal(r.len, full);
	assert_int_equal(out[full], '\0');
	r = ident_redact_cookie(&key, in, strlen(in), out, full);
	assert_int_equal(r.status, IDENT_TRUNCATED);
	assert_int_equal(r.len, 2 + IDENT_HASH_HEX);
	assert_int_equal(out[r.len], '\0');
	free(out);

	/* cap 1: only the NUL; cap 0: nothing at all (out may be NULL). */
	char one[1] = { 'x' };
	r = ident_redact_cookie(&key, in, strlen(in), one, 1);
	assert_int_equal(r.status, IDENT_TRUNCATED);
	assert_int_equal(r.len, 0);
	assert_int_equal(one[0], '\0');
	r = ident_redact_cookie(&key, "", 0, one, 1);
	assert_int_equal(r.status, IDENT_COMPLETE);
	assert_int_equal(one[0], '\0');
	r = ident_redact_cookie(&key, in, strlen(in), NULL, 0);
	assert_int_equal(r.status, IDENT_TRUNCATED);
	assert_int_equal(r.len, 0);
	r = ident_redact_set_cookie(&key, in, strlen(in), NULL, 0);
	assert_int_equal(r.status, IDENT_TRUNCATED);
	r = ident_redact_query(&key, in, strlen(in), NULL, 0);
	assert_int_equal(r.status, IDENT_TRUNCATED);
}

/* ---- Set-Cookie ----------------------------------------------------------- */

static void test_set_cookie(void **state)
{
	(void)state;
	redactor s = ident_redact_set_cookie;
	check(s, "id=abc; Path=/; Domain=.x.com; Expires=Wed, 21 Oct 2026 07:28:00 GMT; "
		 "Max-Age=3600; SameSite=None; Secure; HttpOnly",
	      "id={abc}; Path=/; Domain=.x.com; Expires=Wed, 21 Oct 2026 07:28:00 GMT; "
	      "Max-Age=3600; SameSite=None; Secure; HttpOnly");
	/* Attributes byte for byte, odd spacing, case, empty ones and all. */
	check(s, " id = a b ;path=/;;  SECURE  ;\tmax-age = 0;Partitioned;uid=looks-like-id;",
	      " id = {a b} ;path=/;;  SECURE  ;\tmax-age = 0;Partitioned;uid=looks-like-id;");
	check(s, "", "");
	check(s, "; Path=/", "; Path=/");
	check(s, "id=; Max-Age=0", "id=; Max-Age=0");
	check(s, "=v; Path=/", "={v}; Path=/");
	check(s, "=; Path=/", "=; Path=/");
	/* No '=': browsers ignore it, but it may be an identifier. */
	check(s, "abc123; Path=/", "{abc123}; Path=/");
	check(s, "abc123", "{abc123}");
	check(s, "id=a=b==", "id={a=b==}");
	check(s, "id=\"quoted\"; Secure", "id={\"quoted\"}; Secure");
	/* Several cookies folded with ',' are not split: one value, hashed. */
	check(s, "a=1, b=2; Path=/", "a={1, b=2}; Path=/");

	static const char *const secrets[] = { "SESSIONSECRET", NULL };
	check_secrets(s, "sid=SESSIONSECRET; Domain=.tracker.example; Path=/; Expires=Thu, 01 Jan 2099 "
		       "00:00:00 GMT; SameSite=None; Secure; HttpOnly",
		    "sid={SESSIONSECRET}; Domain=.tracker.example; Path=/; Expires=Thu, 01 Jan 2099 "
		    "00:00:00 GMT; SameSite=None; Secure; HttpOnly",
		    secrets);
}

/* ---- query ---------------------------------------------------------------- */

static void test_query(void **state)
{
	(void)state;
	redactor q = ident_redact_query;
	check(q, "/p/a", "/p/a");
	check(q, "", "");
	check(q, "*", "*");
	check(q, "?", "?");
	check(q, "/p?", "/p?");
	check(q, "/p?&&", "/p?&&");
	check(q, "/p?a=1&&b=2&", "/p?a={1}&&b={2}&");
	check(q, "/p?=x&=", "/p?={x}&=");
	check(q, "/p?a=&b", "/p?a=&{b}");
	/* A bare token may be an identifier. */
	check(q, "/p?debug", "/p?{debug}");
	check(q, "/pixel?abc123", "/pixel?{abc123}");
	/* The first '=' splits; raw bytes hashed, never decoded; ';' is no separator. */
	check(q, "/p?a=b=c&q=a+b%20c&s=1;t=2", "/p?a={b=c}&q={a+b%20c}&s={1;t=2}");
	/* A second '?' is part of the query. */
	check(q, "/p?a=1?b=2", "/p?a={1?b=2}");
	/* The four consent parameters stay raw, exactly those names. */
	check(q, "/t?x=1&uid=abc&gdpr=1&gdpr_consent=CPxyz.AAA-_&gcs=G111&gcd=13l3l3l3l1",
	      "/t?x={1}&uid={abc}&gdpr=1&gdpr_consent=CPxyz.AAA-_&gcs=G111&gcd=13l3l3l3l1");
	check(q, "/t?gdpr_consent2=CO&GDPR=1&Gcs=G100&gdpr%5Fconsent=CO&gcd_=x&gc=1&gdp=1",
	      "/t?gdpr_consent2={CO}&GDPR={1}&Gcs={G100}&gdpr%5Fconsent={CO}&gcd_={x}&gc={1}&gdp={1}");
	check(q, "/t?gdpr&gcs=&gdpr_consent=a=b", "/t?{gdpr}&gcs=&gdpr_consent=a=b");
	/* A fragment is hashed whole; a '?' after '#' is the fragment's. */
	check(q, "/p?a=1#frag", "/p?a={1}#{frag}");
	check(q, "/p#f?x=1&y=2", "/p#{f?x=1&y=2}");
	check(q, "/p?a=1#", "/p?a={1}#");
	check(q, "#", "#");
	/* ';' in the path starts parameters, hashed like the query's. */
	check(q, "/shop;jsessionid=1A2B3C?x=1", "/shop;jsessionid={1A2B3C}?x={1}");
	check(q, "/pixel;r=779352122;a=p-NEWS0123abcd;labels=_fp.event.Default;fpa=P0-1461260186;cm=;ref=",
	      "/pixel;r={779352122};a={p-NEWS0123abcd};labels={_fp.event.Default};fpa={P0-1461260186};cm=;ref=");
	check(q, "/p;x=1/q;y=2;;flag;gdpr=1", "/p;x={1/q};y={2};;{flag};gdpr=1");
	check(q, ";", ";");
	check(q, "/p;#f", "/p;#{f}");
	check(q, "/a;b=c#d;e=f?g=h", "/a;b={c}#{d;e=f?g=h}");
	/* A Referer: an absolute URL. */
	check(q, "https://www.example.com/page?utm_source=x&fbclid=IwAR0abc",
	      "https://www.example.com/page?utm_source={x}&fbclid={IwAR0abc}");

	static const char *const secrets[] = { "USERSECRET", "FRAGSECRET", "FLAGSECRET", NULL };
	check_secrets(q, "/collect?v=2&cid=USERSECRET&gcs=G111&FLAGSECRET&gdpr=0&x=#FRAGSECRET",
		    "/collect?v={2}&cid={USERSECRET}&gcs=G111&{FLAGSECRET}&gdpr=0&x=#{FRAGSECRET}",
		    secrets);
	check_secrets(q, "/p;jsessionid=USERSECRET;FLAGSECRET?q=FRAGSECRET",
		      "/p;jsessionid={USERSECRET};{FLAGSECRET}?q={FRAGSECRET}", secrets);
	/* A path longer than the cap is cut anywhere: it holds no value. */
	check_secrets(q, "/a/very/long/path/indeed?id=USERSECRET",
		    "/a/very/long/path/indeed?id={USERSECRET}", secrets);
}

static void test_query_long_target(void **state)
{
	(void)state;
	static char in[16384], template[16384], out[1000];
	size_t in_len = 0, template_len = 0;
	in_len = (size_t)snprintf(in, sizeof in, "/g/collect?gdpr=1");
	template_len = (size_t)snprintf(template, sizeof template, "/g/collect?gdpr=1");
	for (int i = 0; i < 400; i++) {
		in_len += (size_t)snprintf(in + in_len, sizeof in - in_len, "&p%d=SECRET%d", i, i);
		template_len += (size_t)snprintf(template + template_len,
						 sizeof template - template_len, "&p%d={SECRET%d}", i, i);
	}
	static const char *const secrets[] = { "SECRET", NULL };
	check_bytes(ident_redact_query, in, in_len, template, secrets);

	/* And a 1000-byte buffer, as the pipeline might have. */
	struct ident_redaction r = ident_redact_query(&key, in, in_len, out, sizeof out);
	assert_int_equal(r.status, IDENT_TRUNCATED);
	assert_true(r.len < sizeof out);
	assert_true(r.len > sizeof out - 1 - (sizeof "&p399=" + IDENT_HASH_HEX));
	assert_int_equal(out[r.len], '\0');
	assert_false(contains(out, r.len, "SECRET"));
	/* Ends with a whole hash. */
	for (size_t i = r.len - IDENT_HASH_HEX; i < r.len; i++)
		assert_non_null(strchr("0123456789abcdef", out[i]));
	assert_int_equal(out[r.len - IDENT_HASH_HEX - 1], '=');
}

/* ---- bounds --------------------------------------------------------------- */

static void test_redact_max(void **state)
{
	(void)state;
	/* The worst cases: one-byte values, one separator apart. */
	static const struct {
		redactor redact;
		const char *in;
	} worst[] = {
		{ ident_redact_cookie, "a" },       { ident_redact_cookie, "a;a" },
		{ ident_redact_cookie, "a;a;a;a;a" }, { ident_redact_query, "#a" },
		{ ident_redact_query, "?a&a&a&a" }, { ident_redact_query, "?a&a&a#a" },
		{ ident_redact_set_cookie, "a" },
	};
	for (size_t i = 0; i < sizeof worst / sizeof worst[0]; i++) {
		size_t len = strlen(worst[i].in), max = ident_redact_max(len);
		char *out = malloc(max);
		assert_non_null(out);
		struct ident_redaction r = worst[i].redact(&key, worst[i].in, len, out, max);
		assert_int_equal(r.status, IDENT_COMPLETE);
		free(out);
	}
	assert_int_equal(ident_redact_max(0), 1);
	assert_int_equal(ident_redact_max(1), 33);
	assert_int_equal(ident_redact_max(3), 3 + 2 * 31 + 1);
	assert_true(ident_redact_max(SIZE_MAX) == SIZE_MAX);
	assert_true(ident_redact_max(SIZE_MAX / 16) == SIZE_MAX);
	assert_true(ident_redact_max(SIZE_MAX / 17 - 1) < SIZE_MAX);
}

/* ---- key files ------------------------------------------------------------ */

static char key_dir[64];

static void write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void expect_load_error(const char *path, const char *words)
{
	struct ident_key k;
	char err[512] = "";
	assert_int_equal(ident_key_load(&k, path, err, sizeof err), -1);
	if (!strstr(err, path) || !strstr(err, words))
		fail_msg("error for %s: \"%s\" (expected the path and \"%s\")", path, err, words);
	char text[IDENT_HASH_TEXT];
	assert_int_equal(ident_hash(&k, "x", 1, text), -1);
	ident_key_free(&k);
	/* No room for the message: still refused. */
	assert_int_equal(ident_key_load(&k, path, NULL, 0), -1);
}

static void test_key_file(void **state)
{
	(void)state;
	strcpy(key_dir, "/tmp/test_identifiers.XXXXXX");
	assert_non_null(mkdtemp(key_dir));
	char path[128];
	static uint8_t bytes[IDENT_KEY_MAX + 100];
	for (size_t i = 0; i < sizeof bytes; i++)
		bytes[i] = (uint8_t)(i * 7 + 1);

	snprintf(path, sizeof path, "%s/missing", key_dir);
	expect_load_error(path, "No such file");
	expect_load_error(key_dir, "Is a directory");

	snprintf(path, sizeof path, "%s/empty", key_dir);
	write_file(path, "", 0);
	expect_load_error(path, "empty");

	snprintf(path, sizeof path, "%s/short", key_dir);
	write_file(path, bytes, IDENT_KEY_MIN - 1);
	expect_load_error(path, "holds 15 bytes");

	snprintf(path, sizeof path, "%s/long", key_dir);
	write_file(path, bytes, IDENT_KEY_MAX + 1);
	expect_load_error(path, "more than 1024 bytes");
	write_file(path, bytes, sizeof bytes);
	expect_load_error(path, "more than 1024 bytes");
	unlink(path);

	/* The shortest and the longest keys load, and hash as the same bytes set directly. */
	size_t sizes[] = { IDENT_KEY_MIN, IDENT_KEY_RANDOM, IDENT_KEY_MAX };
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		snprintf(path, sizeof path, "%s/key%zu", key_dir, sizes[i]);
		write_file(path, bytes, sizes[i]);
		struct ident_key loaded, direct;
		char err[256] = "";
		assert_int_equal(ident_key_load(&loaded, path, err, sizeof err), 0);
		assert_string_equal(err, "");
		assert_int_equal(ident_key_set(&direct, bytes, sizes[i]), 0);
		char a[IDENT_HASH_TEXT], b[IDENT_HASH_TEXT];
		hash_text(&loaded, "uid", 3, a);
		hash_text(&direct, "uid", 3, b);
		assert_string_equal(a, b);
		/* Loaded twice (as in two runs): the same hashes. */
		ident_key_free(&loaded);
		assert_int_equal(ident_key_load(&loaded, path, NULL, 0), 0);
		hash_text(&loaded, "uid", 3, a);
		assert_string_equal(a, b);
		ident_key_free(&loaded);
		ident_key_free(&direct);
		unlink(path);
	}
	/* Permissions are the operator's business: a world-readable key loads. */
	snprintf(path, sizeof path, "%s/open", key_dir);
	write_file(path, bytes, 32);
	assert_int_equal(chmod(path, 0644), 0);
	struct ident_key k;
	assert_int_equal(ident_key_load(&k, path, NULL, 0), 0);
	ident_key_free(&k);
	unlink(path);

	snprintf(path, sizeof path, "%s/empty", key_dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/short", key_dir);
	unlink(path);
	assert_int_equal(rmdir(key_dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc4231),
		cmocka_unit_test(test_hash_stable_and_keyed),
		cmocka_unit_test(test_hash_empty_and_no_key),
		cmocka_unit_test(test_hash_threads),
		cmocka_unit_test(test_hash_remembered),
		cmocka_unit_test(test_cookie),
		cmocka_unit_test(test_cookie_secrets),
		cmocka_unit_test(test_cookie_many_pairs),
		cmocka_unit_test(test_cookie_exact_cap),
		cmocka_unit_test(test_set_cookie),
		cmocka_unit_test(test_query),
		cmocka_unit_test(test_query_long_target),
		cmocka_unit_test(test_redact_max),
		cmocka_unit_test(test_key_file),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
