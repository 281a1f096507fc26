/*
 * libFuzzer harness for dissectors/keylog.c. The first two bytes choose a
 * split point, the rest is the input, read four ways:
 *   1. keylog_add_text() on all of it: the reference store;
 *   2. in two calls cut at the last line end before the split point, the
 *      second numbered from where the first stopped: the same store;
 *   3. written to a file in two pieces cut at the split point itself
 *      (mid-line, between CR and LF ...), keylog_follow_poll() after each:
 *      the same store as keylog_add_text() on the input up to its last LF
 *      (a partial last line waits; one too long is counted at once);
 *   4. the input as a file for keylog_read_pcapng_secrets().
 * Besides ASan's and UBSan's checks, it aborts when a result breaks what
 * keylog.h promises: stats that do not add up (a line is at most one of
 * stored, skipped, bad; randoms kept and evicted no more than secrets
 * stored; a first error exactly when there is a bad line, naming its
 * source), a return value other than the secrets counted, a lookup whose
 * length is not 0 or 1..64 (48 for CLIENT_RANDOM), a secret that is not in
 * the input, an error message without the file's name; and when two of
 * the ways disagree, for every label of every 64-hex-digit word of the input.
 *
 * Seeds (tests/fuzz/seeds/keylog/): two split bytes, then the key logs of
 * tests/data/keylog, the first section of illustrated-tls12.dsb.pcapng
 * (SHB and one DSB), and made-up lines for CRLF, comments, NULs, bad hex
 * and lengths, unknown labels, overlong lines.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../dissectors/keylog.h"
#include "fuzz_file.h"

static void check(int ok)
{
	if (!ok)
		abort();
}

static void check_stats(const struct keylog *k, const char *source)
{
	const struct keylog_stats *s = keylog_stats(k);
	check(s->secrets + s->skipped + s->bad <= s->lines);
	check(keylog_count(k) <= KEYLOG_ENTRIES_MAX);
	check(keylog_count(k) + s->evicted <= s->secrets);
	check(memchr(s->first_error, '\0', sizeof s->first_error) != NULL);
	check((s->first_error[0] != '\0') == (s->bad > 0));
	if (s->bad > 0 && source) {
		size_t n = strlen(source);
		check(strncmp(s->first_error, source, n) == 0 && s->first_error[n] == ':');
	}
}

static int same_stats(const struct keylog *a, const struct keylog *b)
{
	const struct keylog_stats *x = keylog_stats(a), *y = keylog_stats(b);
	return x->lines == y->lines && x->secrets == y->secrets && x->skipped == y->skipped &&
	       x->bad == y->bad && x->evicted == y->evicted &&
	       strcmp(x->first_error, y->first_error) == 0 && keylog_count(a) == keylog_count(b);
}

static int hex_value(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int is_separator(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Every lookup of `a` is well-formed and its secret in the input; with `b`, the same. */
static void check_lookups(const struct keylog *a, const struct keylog *b, const uint8_t *data,
			  size_t size, const char *lower)
{
	size_t i = 0;
	while (i < size) {
		while (i < size && is_separator(data[i]))
			i++;
		size_t start = i;
		while (i < size && !is_separator(data[i]))
			i++;
		if (i - start != 2 * KEYLOG_RANDOM_LEN)
			continue;
		uint8_t random[KEYLOG_RANDOM_LEN];
		int hex = 1;
		for (size_t j = 0; j < KEYLOG_RANDOM_LEN && hex; j++) {
			int hi = hex_value(data[start + 2 * j]), lo = hex_value(data[start + 2 * j + 1]);
			hex = hi >= 0 && lo >= 0;
			random[j] = hex ? (uint8_t)(hi << 4 | lo) : 0;
		}
		if (!hex)
			continue;
		for (int label = 0; label < KEYLOG_LABEL_COUNT; label++) {
			uint8_t x[KEYLOG_SECRET_MAX], y[KEYLOG_SECRET_MAX];
			size_t nx = keylog_lookup(a, random, (enum keylog_label)label, x);
			check(nx <= KEYLOG_SECRET_MAX);
			if (label == KEYLOG_MASTER_SECRET)
				check(nx == 0 || nx == 48);
			if (nx > 0) {
				char hexed[2 * KEYLOG_SECRET_MAX + 1];
				for (size_t j = 0; j < nx; j++)
					snprintf(hexed + 2 * j, 3, "%02x", x[j]);
				check(memmem(lower, size, hexed, 2 * nx) != NULL);
			}
			if (b) {
				size_t ny = keylog_lookup(b, random, (enum keylog_label)label, y);
				check(nx == ny && memcmp(x, y, nx) == 0);
			}
		}
	}
}

static size_t add(struct keylog *k, const uint8_t *data, size_t len, const char *source,
		  uint64_t first_line)
{
	/* A heap copy of exactly its length, so that ASan sees a read past it. */
	char *copy = malloc(len ? len : 1);
	check(copy != NULL);
	if (len)
		memcpy(copy, data, len);
	uint64_t before = keylog_stats(k)->secrets;
	size_t stored = keylog_add_text(k, copy, len, source, first_line);
	free(copy);
	check(keylog_stats(k)->secrets - before == stored);
	check_stats(k, source);
	return stored;
}

static void append(const char *path, const uint8_t *data, size_t len, int truncate)
{
	int fd = open(path, O_WRONLY | O_APPEND | (truncate ? O_TRUNC : 0));
	check(fd >= 0);
	size_t done = 0;
	while (done < len) {
		ssize_t n = write(fd, data + done, len - done);
		check(n > 0);
		done += (size_t)n;
	}
	close(fd);
}

static size_t count_lf(const uint8_t *data, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		n += data[i] == '\n';
	return n;
}

static void fuzz_follow(const uint8_t *data, size_t size, size_t split, const char *lower)
{
	char path[] = "/tmp/fuzz-keylog-follow.XXXXXX";
	fuzz_write_temp(path, data, 0);
	struct keylog_follow *f = keylog_follow_new(path);
	struct keylog *k = keylog_new();
	check(f && k);
	char error[256];
	ssize_t stored = 0, n;
	append(path, data, split, 1);
	n = keylog_follow_poll(f, k, error, sizeof error);
	check(n >= 0 && error[0] == '\0');
	stored += n;
	append(path, data + split, size - split, 0);
	n = keylog_follow_poll(f, k, error, sizeof error);
	check(n >= 0 && error[0] == '\0');
	stored += n;
	check(keylog_follow_poll(f, k, error, sizeof error) == 0);
	check_stats(k, path);
	check((uint64_t)stored == keylog_stats(k)->secrets);

	/* The reference: the complete lines only. */
	const uint8_t *last = memrchr(data, '\n', size);
	size_t complete = last ? (size_t)(last - data) + 1 : 0;
	struct keylog *ref = keylog_new();
	check(ref != NULL);
	add(ref, data, complete, path, 1);
	const struct keylog_stats *s = keylog_stats(k), *r = keylog_stats(ref);
	if (size - complete > KEYLOG_LINE_MAX + 1) {
		/* A partial last line already too long: counted, bad, as soon as seen. */
		check(s->lines == r->lines + 1 && s->bad == r->bad + 1);
		check(s->secrets == r->secrets && s->skipped == r->skipped);
		if (r->bad == 0) {
			char expected[KEYLOG_ERROR_MAX];
			snprintf(expected, sizeof expected, "%s:%llu: longer than %d bytes", path,
				 (unsigned long long)r->lines + 1, KEYLOG_LINE_MAX);
			check(strcmp(s->first_error, expected) == 0);
		} else {
			check(strcmp(s->first_error, r->first_error) == 0);
		}
	} else {
		check(same_stats(k, ref));
		check(s->lines == count_lf(data, size));
	}
	check_lookups(k, ref, data, size, lower);
	keylog_free(ref);
	keylog_free(k);
	keylog_follow_free(f);
	unlink(path);
}

static void fuzz_pcapng(const uint8_t *data, size_t size, const char *lower)
{
	char path[] = "/tmp/fuzz-keylog-pcapng.XXXXXX";
	fuzz_write_temp(path, data, size);
	struct keylog *k = keylog_new();
	check(k != NULL);
	char error[512];
	ssize_t rc = keylog_read_pcapng_secrets(k, path, error, sizeof error);
	check(rc >= -1);
	check(memchr(error, '\0', sizeof error) != NULL);
	if (rc < 0) {
		size_t n = strlen(path);
		check(strncmp(error, path, n) == 0 && error[n] == ':' && error[n + 1] == ' ' &&
		      error[n + 2] != '\0');
	} else {
		check(error[0] == '\0');
		check((uint64_t)rc == keylog_stats(k)->secrets);
	}
	/* Whatever was read, succeeding or not; a bad line is named by its block. */
	check_stats(k, NULL);
	char prefix[64];
	snprintf(prefix, sizeof prefix, "%s (decryption secrets block at offset ", path);
	check(keylog_stats(k)->bad == 0 ||
	      strncmp(keylog_stats(k)->first_error, prefix, strlen(prefix)) == 0);
	check_lookups(k, NULL, data, size, lower);
	/* Read again into the same store: the same outcome, no more stored. */
	ssize_t again = keylog_read_pcapng_secrets(k, path, error, sizeof error);
	check(rc < 0 ? again == -1 : again >= 0 && again <= rc);
	check_stats(k, NULL);
	keylog_free(k);
	unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	size_t split = (size_t)(data[0] | data[1] << 8);
	data += 2;
	size -= 2;
	split %= size + 1;

	char *lower = malloc(size ? size : 1);
	check(lower != NULL);
	for (size_t i = 0; i < size; i++)
		lower[i] = (char)(data[i] >= 'A' && data[i] <= 'F' ? data[i] + 32 : data[i]);

	/* 1 and 2: at once, then in two calls at a line end. */
	struct keylog *whole = keylog_new(), *two = keylog_new();
	check(whole && two);
	size_t stored = add(whole, data, size, "fuzz", 1);
	const uint8_t *last = split ? memrchr(data, '\n', split) : NULL;
	size_t cut = last ? (size_t)(last - data) + 1 : 0;
	size_t stored_two = add(two, data, cut, "fuzz", 1);
	stored_two += add(two, data + cut, size - cut, "fuzz", 1 + count_lf(data, cut));
	check(stored == stored_two);
	check(same_stats(whole, two));
	check_lookups(whole, two, data, size, lower);
	/* Again into the same store: every line read again; stored only what
	   a later line of the input had replaced (no more than the first time). */
	struct keylog_stats before = *keylog_stats(whole);
	check(add(whole, data, size, "fuzz", 1) <= stored);
	check(keylog_stats(whole)->lines == 2 * before.lines);
	check(keylog_stats(whole)->bad == 2 * before.bad);
	check(keylog_stats(whole)->skipped == 2 * before.skipped);
	check(strcmp(keylog_stats(whole)->first_error, before.first_error) == 0);
	keylog_free(whole);
	keylog_free(two);

	fuzz_follow(data, size, split, lower);
	fuzz_pcapng(data, size, lower);
	free(lower);
	return 0;
}
