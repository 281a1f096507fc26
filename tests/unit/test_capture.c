/*
 * Unit tests for daemon/capture.c's reading of mapped files and for
 * daemon/filemap.c: files built byte by byte (every edge of the pcap format
 * a record can hit), read once by libpcap alone and once from the mapping;
 * libpcap is the oracle: the frames, their times and lengths, the error and
 * the packet it names must be the same. Also: the hash of a mapped file
 * against OpenSSL's of its bytes, and a file that shrinks while mapped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <signal.h>
#include <pthread.h>
#include <openssl/evp.h>

#include "../../daemon/capture.h"
#include "../../daemon/filemap.h"

/* ---- files ---------------------------------------------------------------- */

struct file {
	uint8_t *data;
	size_t len, cap;
	int big_endian;
};

static void put(struct file *f, const void *p, size_t n)
{
	if (f->len + n > f->cap) {
		f->cap = (f->len + n) * 2 + 64;
		f->data = realloc(f->data, f->cap);
		assert_non_null(f->data);
	}
	memcpy(f->data + f->len, p, n);
	f->len += n;
}

static void put32(struct file *f, uint32_t v)
{
	uint8_t b[4];
	for (int i = 0; i < 4; i++)
		b[i] = (uint8_t)(f->big_endian ? v >> (24 - 8 * i) : v >> (8 * i));
	put(f, b, 4);
}

static void put16(struct file *f, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(f->big_endian ? v >> 8 : v), (uint8_t)(f->big_endian ? v : v >> 8) };
	put(f, b, 2);
}

static void file_header(struct file *f, uint32_t magic, uint16_t major, uint16_t minor, uint32_t snaplen)
{
	put32(f, magic);
	put16(f, major);
	put16(f, minor);
	put32(f, 0);
	put32(f, 0);
	put32(f, snaplen);
	put32(f, 1); /* Ethernet */
}

/* An Ethernet frame carrying IPv4/UDP, `len` bytes (at least 42), with `seed` in its payload. */
static void frame_bytes(uint8_t *out, size_t len, unsigned seed)
{
	memset(out, 0, len);
	memcpy(out, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02\x08\x00", 14);
	uint8_t *ip = out + 14;
	ip[0] = 0x45;
	ip[2] = (uint8_t)((len - 14) >> 8);
	ip[3] = (uint8_t)(len - 14);
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, "\xc0\x00\x02\x01\xc6\x33\x64\x07", 8);
	uint8_t *udp = ip + 20;
	udp[0] = 0xc0;
	udp[1] = (uint8_t)seed;
	udp[3] = 53;
	udp[4] = (uint8_t)((len - 34) >> 8);
	udp[5] = (uint8_t)(len - 34);
	for (size_t i = 42; i < len; i++)
		out[i] = (uint8_t)(seed * 31 + i);
}

static void record(struct file *f, uint32_t sec, uint32_t frac, uint32_t caplen, uint32_t len, unsigned seed)
{
	put32(f, sec);
	put32(f, frac);
	put32(f, caplen);
	put32(f, len);
	uint8_t *bytes = malloc(caplen ? caplen : 1);
	assert_non_null(bytes);
	if (caplen >= 42)
		frame_bytes(bytes, caplen, seed);
	else
		memset(bytes, (int)seed, caplen);
	put(f, bytes, caplen);
	free(bytes);
}

static char *write_file(const struct file *f)
{
	char *path = strdup("/tmp/test_capture.XXXXXX");
	assert_non_null(path);
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, f->data, f->len), (ssize_t)f->len);
	close(fd);
	return path;
}

/* ---- reading both ways ---------------------------------------------------- */

struct seen {
	char text[1 << 16];
	size_t len;
	unsigned frames;
};

static void on_frame(void *context, int dlt, uint64_t ts_us, const uint8_t *frame, size_t caplen,
		     size_t wirelen)
{
	struct seen *s = context;
	uint64_t sum = 1469598103934665603ULL;
	for (size_t i = 0; i < caplen; i++)
		sum = (sum ^ frame[i]) * 1099511628211ULL;
	int n = snprintf(s->text + s->len, sizeof s->text - s->len, "%d %llu %zu %zu %016llx\n", dlt,
			 (unsigned long long)ts_us, caplen, wirelen, (unsigned long long)sum);
	assert_true(n > 0 && (size_t)n < sizeof s->text - s->len);
	s->len += (size_t)n;
	s->frames++;
}

/* Reads `path` with libpcap alone (map NULL) or from `map`: the frames, then "rc error". */
static void read_with(const char *path, struct filemap *map, const char *filter, struct seen *s,
		      int *mapped)
{
	memset(s, 0, sizeof *s);
	char error[CAPTURE_ERROR_MAX] = "";
	struct capture *c = map ? capture_open_mapped(path, map, filter, error, sizeof error)
				: capture_open_file(path, filter, error, sizeof error);
	if (mapped)
		*mapped = c && capture_mapped(c);
	int rc = -2;
	if (c) {
		rc = capture_run(c, on_frame, NULL, s, error, sizeof error);
		capture_close(c);
	}
	if (map)
		filemap_capture_done(map);
	snprintf(s->text + s->len, sizeof s->text - s->len, "rc %d %s\n", rc, rc ? error : "");
	s->len += strlen(s->text + s->len);
}

/* Both ways give the same; returns whether the mapping was used, and the frame count. */
static int same_both_ways(const struct file *f, const char *filter, unsigned *frames)
{
	char *path = write_file(f);
	static struct seen plain, mapped_seen;
	read_with(path, NULL, filter, &plain, NULL);
	struct filemap *map = filemap_open(path, 0);
	assert_non_null(map);
	int mapped = 0;
	read_with(path, map, filter, &mapped_seen, &mapped);
	filemap_close(map);
	if (strcmp(plain.text, mapped_seen.text) != 0)
		print_error("libpcap:\n%s\nmapped:\n%s\n", plain.text, mapped_seen.text);
	assert_string_equal(plain.text, mapped_seen.text);
	if (frames)
		*frames = plain.frames;
	unlink(path);
	free(path);
	return mapped;
}

/* ---- tests ---------------------------------------------------------------- */

static void test_plain_records(void **state)
{
	(void)state;
	struct file f = { 0 };
	file_header(&f, 0xa1b2c3d4, 2, 4, 65535);
	record(&f, 1700000000, 1, 60, 60, 1);
	record(&f, 1700000000, 999999, 1514, 1514, 2);
	record(&f, 1700000001, 0, 42, 1500, 3); /* cut short by the snapshot (caplen < len) */
	record(&f, 1700000002, 5, 0, 0, 4);     /* an empty record */
	unsigned frames = 0;
	assert_true(same_both_ways(&f, NULL, &frames));
	assert_int_equal(frames, 4);
	/* A filter: the mapped reading applies it as libpcap does. */
	assert_true(same_both_ways(&f, "udp and len > 100", &frames));
	assert_int_equal(frames, 2);
	assert_true(same_both_ways(&f, "ip", &frames));
	assert_int_equal(frames, 3);
	free(f.data);
}

static void test_times(void **state)
{
	(void)state;
	/* Nanoseconds, cut to microseconds; a time past 2038 that libpcap reads as negative; a fraction past a second. */
	struct file f = { 0 };
	file_header(&f, 0xa1b23c4d, 2, 4, 65535);
	record(&f, 1700000000, 123456789, 60, 60, 1);
	record(&f, 0x80000001u, 5, 60, 60, 2);
	record(&f, 1, 2999999999u, 60, 60, 3);
	record(&f, 0, 0, 60, 60, 4);
	unsigned frames = 0;
	assert_true(same_both_ways(&f, NULL, &frames));
	assert_int_equal(frames, 4);
	struct file u = { 0 };
	file_header(&u, 0xa1b2c3d4, 2, 4, 65535);
	record(&u, 0xffffffffu, 0xffffffffu, 60, 60, 1);
	record(&u, 1700000000, 2000000, 60, 60, 2);
	assert_true(same_both_ways(&u, NULL, &frames));
	assert_int_equal(frames, 2);
	free(f.data);
	free(u.data);
}

static void test_left_to_libpcap(void **state)
{
	(void)state;
	unsigned frames = 0;
	/* Longer than the snapshot length: from that record on, libpcap reads. */
	struct file f = { 0 };
	file_header(&f, 0xa1b2c3d4, 2, 4, 100);
	record(&f, 1, 0, 60, 60, 1);
	record(&f, 2, 0, 200, 200, 2);
	record(&f, 3, 0, 60, 60, 3);
	assert_true(same_both_ways(&f, NULL, &frames));
	free(f.data);
	/* Captured longer than it was on the wire. */
	struct file g = { 0 };
	file_header(&g, 0xa1b2c3d4, 2, 4, 65535);
	record(&g, 1, 0, 60, 60, 1);
	record(&g, 2, 0, 80, 70, 2);
	record(&g, 3, 0, 60, 60, 3);
	assert_true(same_both_ways(&g, NULL, &frames));
	assert_int_equal(frames, 3);
	free(g.data);
	/* Past the largest frame libpcap takes. */
	struct file h = { 0 };
	file_header(&h, 0xa1b2c3d4, 2, 4, 0x7fffffff);
	record(&h, 1, 0, 60, 60, 1);
	record(&h, 2, 0, 262145, 262145, 2);
	assert_true(same_both_ways(&h, NULL, &frames));
	free(h.data);
}

static void test_truncated(void **state)
{
	(void)state;
	unsigned frames = 0;
	struct file f = { 0 };
	file_header(&f, 0xa1b2c3d4, 2, 4, 65535);
	record(&f, 1, 0, 60, 60, 1);
	record(&f, 2, 0, 100, 100, 2);
	size_t whole = f.len;
	/* Cut in the last record's bytes, then in its header, then right after the file header. */
	f.len = whole - 30;
	assert_true(same_both_ways(&f, NULL, &frames));
	assert_int_equal(frames, 1);
	f.len = whole - 100 - 7;
	assert_true(same_both_ways(&f, NULL, &frames));
	assert_int_equal(frames, 1);
	f.len = 24;
	assert_true(same_both_ways(&f, NULL, &frames));
	assert_int_equal(frames, 0);
	f.len = 30;
	assert_true(same_both_ways(&f, NULL, &frames));
	assert_int_equal(frames, 0);
	free(f.data);
}

static void test_not_mapped(void **state)
{
	(void)state;
	unsigned frames = 0;
	/* The other byte order, an older version, a header libpcap refuses: libpcap reads them all. */
	struct file f = { .big_endian = 1 };
	file_header(&f, 0xa1b2c3d4, 2, 4, 65535);
	record(&f, 1, 0, 60, 60, 1);
	assert_false(same_both_ways(&f, NULL, &frames));
	assert_int_equal(frames, 1);
	free(f.data);
	struct file g = { 0 };
	file_header(&g, 0xa1b2c3d4, 2, 3, 65535);
	record(&g, 1, 0, 60, 60, 1);
	assert_false(same_both_ways(&g, NULL, &frames));
	free(g.data);
	struct file h = { 0 };
	file_header(&h, 0x12345678, 2, 4, 65535);
	assert_false(same_both_ways(&h, NULL, &frames));
	free(h.data);
}

struct digest_job {
	struct filemap *map;
	EVP_MD_CTX *md;
	int rc;
};

static void *digest_thread(void *context)
{
	struct digest_job *job = context;
	job->rc = filemap_digest(job->map, job->md);
	return NULL;
}

/*
 * The hash on a thread of its own beside the capture, which jumps ahead of
 * it by more than FILEMAP_LEAD: the capture waits until the hash is back
 * within half of that (without a deadlock: alarm() ends a hung test), and
 * the digest is the file's.
 */
static void test_digest_beside(void **state)
{
	(void)state;
	struct file f = { 0 };
	file_header(&f, 0xa1b2c3d4, 2, 4, 65535);
	for (unsigned i = 0; f.len < 4 * (size_t)FILEMAP_LEAD; i++)
		record(&f, i, 0, 1514, 1514, i);
	char *path = write_file(&f);
	unsigned char want[32], got[32];
	unsigned len = 0;
	assert_true(EVP_Digest(f.data, f.len, want, &len, EVP_sha256(), NULL));
	for (int round = 0; round < 2; round++) {
		struct filemap *map = filemap_open(path, 1);
		assert_non_null(map);
		struct digest_job job = { map, EVP_MD_CTX_new(), -2 };
		assert_true(EVP_DigestInit_ex(job.md, EVP_sha256(), NULL));
		pthread_t hash;
		alarm(20);
		assert_int_equal(pthread_create(&hash, NULL, digest_thread, &job), 0);
		if (round == 0) {
			/* Far ahead at once (once the hash has begun, and waits at FILEMAP_LAG), then in steps. */
			usleep(50000);
			filemap_capture_at(map, 3 * (size_t)FILEMAP_LEAD);
			for (size_t at = 3 * (size_t)FILEMAP_LEAD; at < f.len; at += FILEMAP_STEP)
				filemap_capture_at(map, at);
		} else {
			for (size_t at = 0; at < f.len; at += FILEMAP_STEP / 2)
				filemap_capture_at(map, at);
		}
		filemap_capture_done(map);
		pthread_join(hash, NULL);
		alarm(0);
		assert_int_equal(job.rc, 0);
		assert_true(EVP_DigestFinal_ex(job.md, got, &len));
		assert_memory_equal(want, got, 32);
		EVP_MD_CTX_free(job.md);
		filemap_close(map);
	}
	unlink(path);
	free(path);
	free(f.data);
}

static void test_digest(void **state)
{
	(void)state;
	/* Larger than FILEMAP_LAG, so that the hash waits for the capture and pages are let go. */
	struct file f = { 0 };
	file_header(&f, 0xa1b2c3d4, 2, 4, 65535);
	for (unsigned i = 0; f.len < 3 * (size_t)FILEMAP_LAG; i++)
		record(&f, i, 0, 1514, 1514, i);
	char *path = write_file(&f);
	unsigned char want[32], got[32];
	unsigned len = 0;
	assert_true(EVP_Digest(f.data, f.len, want, &len, EVP_sha256(), NULL));

	struct filemap *map = filemap_open(path, 1);
	assert_non_null(map);
	assert_int_equal(filemap_size(map), f.len);
	/* The capture advances beside the hash (here on one thread: capture first, in steps). */
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	assert_true(EVP_DigestInit_ex(md, EVP_sha256(), NULL));
	for (size_t at = 0; at < f.len; at += FILEMAP_STEP)
		filemap_capture_at(map, at);
	filemap_capture_done(map);
	assert_int_equal(filemap_digest(map, md), 0);
	assert_true(EVP_DigestFinal_ex(md, got, &len));
	assert_memory_equal(want, got, 32);
	EVP_MD_CTX_free(md);
	filemap_close(map);

	/* Not a regular file, or empty: not mapped. */
	assert_null(filemap_open("/dev/null", 1));
	assert_null(filemap_open("/nonexistent/file", 0));
	unlink(path);
	free(path);
	free(f.data);
}

static void test_shrinks(void **state)
{
	(void)state;
	struct file f = { 0 };
	file_header(&f, 0xa1b2c3d4, 2, 4, 65535);
	for (unsigned i = 0; f.len < 1 << 20; i++)
		record(&f, i, 0, 1000, 1000, i);
	char *path = write_file(&f);
	struct filemap *map = filemap_open(path, 1);
	assert_non_null(map);
	/* Another program truncates the file: the next access past its end is an error, not SIGBUS. */
	assert_int_equal(truncate(path, 4096), 0);
	uint8_t byte;
	assert_int_equal(filemap_copy(map, 0, &byte, 1), 0);
	assert_int_equal(filemap_copy(map, 512 << 10, &byte, 1), -1);
	assert_int_equal(filemap_copy(map, 8192, &byte, 1), -1);

	static struct seen s;
	int mapped = 0;
	read_with(path, map, NULL, &s, &mapped);
	assert_true(mapped);
	assert_non_null(strstr(s.text, "rc -1 "));
	assert_non_null(strstr(s.text, "the file shrank while it was read"));
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	assert_true(EVP_DigestInit_ex(md, EVP_sha256(), NULL));
	assert_int_equal(filemap_digest(map, md), -1);
	EVP_MD_CTX_free(md);
	filemap_close(map);
	unlink(path);
	free(path);
	free(f.data);
}

/* Resident KiB of the mapping that holds `p` (/proc/self/smaps), or -1. */
static long resident_kib(const void *p)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	if (!f)
		return -1;
	char line[512];
	int in = 0;
	long rss = -1;
	while (fgets(line, sizeof line, f)) {
		unsigned long lo, hi;
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' ')) {
			in = (uintptr_t)p >= lo && (uintptr_t)p < hi;
			continue;
		}
		if (in && sscanf(line, "Rss: %ld kB", &rss) == 1)
			break;
	}
	fclose(f);
	return rss;
}

static void test_memory_let_go(void **state)
{
	(void)state;
	/* A file read by the capture while the hash never comes: nothing of it stays mapped. */
	struct file f = { 0 };
	file_header(&f, 0xa1b2c3d4, 2, 4, 65535);
	for (unsigned i = 0; f.len < 20u << 20; i++)
		record(&f, i, 0, 1514, 1514, i);
	char *path = write_file(&f);
	struct filemap *map = filemap_open(path, 1);
	assert_non_null(map);
	static struct seen s;
	int mapped = 0;
	/* Every record read, none given on (too many to list). */
	read_with(path, map, "len < 10", &s, &mapped);
	assert_true(mapped);
	assert_string_equal(s.text, "rc 0 \n");
	uint8_t byte;
	/* Where the mapping is (filemap has no accessor for its address): by the file's name. */
	const void *inside = NULL;
	{
		FILE *maps = fopen("/proc/self/maps", "r");
		char line[1024];
		unsigned long lo;
		while (maps && fgets(line, sizeof line, maps))
			if (strstr(line, path) && sscanf(line, "%lx-", &lo) == 1)
				inside = (const void *)lo;
		if (maps)
			fclose(maps);
	}
	assert_non_null(inside);
	long rss = resident_kib(inside);
	assert_true(rss >= 0 && rss <= 64);
	/* Read again (the hash would fault it back in): still a copy of the file. */
	assert_int_equal(filemap_copy(map, 10u << 20, &byte, 1), 0);
	assert_int_equal(byte, f.data[10u << 20]);
	filemap_close(map);
	unlink(path);
	free(path);
	free(f.data);
}

static void test_replaced(void **state)
{
	(void)state;
	/* A file renamed over the one mapped when the run began is not read (its hash would be the old one's). */
	struct file f = { 0 };
	file_header(&f, 0xa1b2c3d4, 2, 4, 65535);
	record(&f, 1, 0, 60, 60, 1);
	char *path = write_file(&f);
	char *other = write_file(&f);
	struct filemap *map = filemap_open(path, 0);
	assert_non_null(map);
	assert_int_equal(rename(other, path), 0);
	static struct seen s;
	int mapped = 1;
	read_with(path, map, NULL, &s, &mapped);
	assert_false(mapped);
	assert_non_null(strstr(s.text, "the file was replaced since the run began"));
	filemap_close(map);
	unlink(path);
	free(path);
	free(other);
	free(f.data);
}

static void test_other_sigbus(void **state)
{
	(void)state;
	/* A SIGBUS sent to the process, not a fault in a guarded copy, still ends it. */
	struct file f = { 0 };
	file_header(&f, 0xa1b2c3d4, 2, 4, 65535);
	char *path = write_file(&f);
	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		signal(SIGBUS, SIG_DFL);
		struct filemap *map = filemap_open(path, 0);
		if (!map)
			_exit(2);
		raise(SIGBUS);
		_exit(0);
	}
	int status = 0;
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGBUS);
	unlink(path);
	free(path);
	free(f.data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_records),
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_left_to_libpcap),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_not_mapped),
		cmocka_unit_test(test_digest),
		cmocka_unit_test(test_digest_beside),
		cmocka_unit_test(test_shrinks),
		cmocka_unit_test(test_memory_let_go),
		cmocka_unit_test(test_replaced),
		cmocka_unit_test(test_other_sigbus),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
