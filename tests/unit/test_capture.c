/*
 * Unit tests for daemon/capture.c's direct reading of pcap files and for
 * daemon/sharedfile.c: files built byte by byte (every edge of the pcap
 * format a record can hit, records across the pieces the file is read in),
 * read once by libpcap alone and once directly; libpcap is the oracle: the
 * frames, their times and lengths, the error and the packet it names must
 * be the same. Also: the hash of a shared file against OpenSSL's of its
 * bytes, the pace between the hash and the capture, and a file that shrinks
 * while it is read.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdatomic.h>
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
#include "../../daemon/sharedfile.h"

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

/* Reads `path` with libpcap alone (shared NULL) or directly: the frames, then "rc error". */
static void read_with(const char *path, struct sharedfile *shared, const char *filter, struct seen *s,
		      int *direct)
{
	memset(s, 0, sizeof *s);
	char error[CAPTURE_ERROR_MAX] = "";
	struct capture *c = shared ? capture_open_shared(path, shared, filter, error, sizeof error)
				   : capture_open_file(path, filter, error, sizeof error);
	if (direct)
		*direct = c && capture_reads_direct(c);
	int rc = -2;
	if (c) {
		rc = capture_run(c, on_frame, NULL, s, error, sizeof error);
		capture_close(c);
	}
	if (shared)
		sharedfile_capture_done(shared);
	snprintf(s->text + s->len, sizeof s->text - s->len, "rc %d %s\n", rc, rc ? error : "");
	s->len += strlen(s->text + s->len);
}

/* Both ways give the same; returns whether the file was read directly, and the frame count. */
static int same_both_ways(const struct file *f, const char *filter, unsigned *frames)
{
	char *path = write_file(f);
	static struct seen plain, direct_seen;
	read_with(path, NULL, filter, &plain, NULL);
	struct sharedfile *shared = sharedfile_open(path, 0, SHAREDFILE_WINDOW);
	assert_non_null(shared);
	int direct = 0;
	read_with(path, shared, filter, &direct_seen, &direct);
	sharedfile_close(shared);
	if (strcmp(plain.text, direct_seen.text) != 0)
		print_error("libpcap:\n%s\ndirect:\n%s\n", plain.text, direct_seen.text);
	assert_string_equal(plain.text, direct_seen.text);
	if (frames)
		*frames = plain.frames;
	unlink(path);
	free(path);
	return direct;
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
	/* A filter: the direct reading applies it as libpcap does. */
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

static void test_not_direct(void **state)
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

/*
 * Records of many sizes, the largest a snapshot length allows among them,
 * over several of the pieces the file is read in: records cut by a piece's
 * end, in their header or their bytes, read the same.
 */
static void test_pieces(void **state)
{
	(void)state;
	struct file f = { 0 };
	file_header(&f, 0xa1b2c3d4, 2, 4, 262144);
	static const uint32_t sizes[] = { 60, 1514, 9000, 65535, 7, 42, 262144, 100, 0, 131072, 1 };
	unsigned n = 0;
	for (unsigned i = 0; f.len < (2u << 20) + 12345; i++, n++) {
		uint32_t size = sizes[i % (sizeof sizes / sizeof sizes[0])];
		record(&f, 1700000000 + i, i, size, size, i);
	}
	unsigned frames = 0;
	assert_true(same_both_ways(&f, NULL, &frames));
	assert_int_equal(frames, n);
	/* The same file cut short in its last record: the records before it, then libpcap's error. */
	f.len -= 5;
	assert_true(same_both_ways(&f, NULL, &frames));
	assert_int_equal(frames, n - 1);
	free(f.data);
}

struct digest_job {
	struct sharedfile *shared;
	EVP_MD_CTX *md;
	atomic_int rc;
};

static void *digest_thread(void *context)
{
	struct digest_job *job = context;
	atomic_store(&job->rc, sharedfile_digest(job->shared, job->md));
	return NULL;
}

/* The hash of `shared` begun on a thread of its own (alarm() ends a hung test). */
static pthread_t digest_start(struct digest_job *job, struct sharedfile *shared)
{
	job->shared = shared;
	job->md = EVP_MD_CTX_new();
	atomic_store(&job->rc, -2);
	assert_true(EVP_DigestInit_ex(job->md, EVP_sha256(), NULL));
	pthread_t hash;
	alarm(20);
	assert_int_equal(pthread_create(&hash, NULL, digest_thread, job), 0);
	return hash;
}

/* Once the capture is done: the hash ends, and its digest is `want`. */
static void digest_finish(struct digest_job *job, pthread_t hash, const unsigned char want[32])
{
	sharedfile_capture_done(job->shared);
	pthread_join(hash, NULL);
	alarm(0);
	assert_int_equal(atomic_load(&job->rc), 0);
	unsigned char got[32];
	unsigned len = 0;
	assert_true(EVP_DigestFinal_ex(job->md, got, &len));
	assert_memory_equal(want, got, 32);
	EVP_MD_CTX_free(job->md);
}

/* A file of 1514-byte records, at least `size` bytes, with its SHA-256 in want. */
static char *digest_file(struct file *f, size_t size, unsigned char want[32])
{
	memset(f, 0, sizeof *f);
	file_header(f, 0xa1b2c3d4, 2, 4, 65535);
	for (unsigned i = 0; f->len < size; i++)
		record(f, i, 0, 1514, 1514, i);
	unsigned len = 0;
	assert_true(EVP_Digest(f->data, f->len, want, &len, EVP_sha256(), NULL));
	return write_file(f);
}

/*
 * The hash on a thread of its own beside the capture, which jumps ahead of
 * it by more than the window: the capture waits until the hash is back
 * within half of it (without a deadlock: alarm() ends a hung test), and the
 * digest is the file's.
 */
static void test_digest_beside(void **state)
{
	(void)state;
	enum { WINDOW = 1 << 20 };
	struct file f;
	unsigned char want[32];
	char *path = digest_file(&f, 8 * (size_t)WINDOW, want);
	for (int round = 0; round < 2; round++) {
		struct sharedfile *shared = sharedfile_open(path, 1, WINDOW);
		assert_non_null(shared);
		struct digest_job job;
		pthread_t hash = digest_start(&job, shared);
		if (round == 0) {
			/* Far ahead at once (once the hash has begun, and waits at the window), then in steps. */
			usleep(50000);
			sharedfile_capture_at(shared, 4 * (size_t)WINDOW);
			for (size_t at = 4 * (size_t)WINDOW; at < f.len; at += WINDOW / 8)
				sharedfile_capture_at(shared, at);
		} else {
			for (size_t at = 0; at < f.len; at += WINDOW / 16)
				sharedfile_capture_at(shared, at);
		}
		digest_finish(&job, hash, want);
		sharedfile_close(shared);
	}
	unlink(path);
	free(path);
	free(f.data);
}

/* The hash goes no further than the window ahead of a capture that has not moved; it finishes once the capture is done. */
static void test_hash_waits(void **state)
{
	(void)state;
	enum { WINDOW = 256 << 10 };
	struct file f;
	unsigned char want[32];
	char *path = digest_file(&f, 4 * (size_t)WINDOW, want);
	struct sharedfile *shared = sharedfile_open(path, 1, WINDOW);
	assert_non_null(shared);
	assert_int_equal(sharedfile_size(shared), f.len);
	struct digest_job job;
	pthread_t hash = digest_start(&job, shared);
	usleep(100000);
	assert_int_equal(atomic_load(&job.rc), -2); /* still waiting */
	sharedfile_capture_at(shared, 2 * (size_t)WINDOW);
	usleep(100000);
	assert_int_equal(atomic_load(&job.rc), -2); /* waiting again, further on */
	digest_finish(&job, hash, want);
	sharedfile_close(shared);
	unlink(path);
	free(path);
	free(f.data);
}

static void test_digest(void **state)
{
	(void)state;
	/* The capture done first (here on one thread), then the hash alone. */
	struct file f;
	unsigned char want[32], got[32];
	unsigned len = 0;
	char *path = digest_file(&f, 3 * (size_t)SHAREDFILE_CHUNK + 100, want);
	struct sharedfile *shared = sharedfile_open(path, 1, 1 << 20);
	assert_non_null(shared);
	assert_int_equal(sharedfile_size(shared), f.len);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	assert_true(EVP_DigestInit_ex(md, EVP_sha256(), NULL));
	for (size_t at = 0; at < f.len; at += 4096)
		sharedfile_capture_at(shared, at);
	sharedfile_capture_done(shared);
	assert_int_equal(sharedfile_digest(shared, md), 0);
	assert_true(EVP_DigestFinal_ex(md, got, &len));
	assert_memory_equal(want, got, 32);
	EVP_MD_CTX_free(md);
	sharedfile_close(shared);

	/* Not a regular file, or empty, or not there: not shared. */
	assert_null(sharedfile_open("/dev/null", 1, SHAREDFILE_WINDOW));
	assert_null(sharedfile_open("/nonexistent/file", 0, SHAREDFILE_WINDOW));
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
	struct sharedfile *shared = sharedfile_open(path, 1, SHAREDFILE_WINDOW);
	assert_non_null(shared);
	/* Another program truncates the file: reading past its new end is an error, named as such. */
	assert_int_equal(truncate(path, 4096), 0);
	uint8_t byte;
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	uint8_t bytes[8192];
	assert_int_equal(sharedfile_pread(fd, &byte, 1, 0, 1), 1);
	assert_int_equal(sharedfile_pread(fd, &byte, 1, 8192, 1), -1);
	assert_int_equal(errno, 0);
	/* What there is, when that is at least what is asked for. */
	assert_int_equal(sharedfile_pread(fd, bytes, sizeof bytes, 0, 100), 4096);
	assert_int_equal(sharedfile_pread(fd, bytes, sizeof bytes, 4000, 96), 96);
	assert_int_equal(sharedfile_pread(fd, bytes, sizeof bytes, 4000, 97), -1);
	close(fd);

	static struct seen s;
	int direct = 0;
	read_with(path, shared, NULL, &s, &direct);
	assert_true(direct);
	/* The records before the cut, then the error, with the packet it came at. */
	assert_int_equal(s.frames, (4096 - 24) / 1016);
	assert_non_null(strstr(s.text, "rc -1 "));
	assert_non_null(strstr(s.text, "packet 5: the file shrank while it was read"));
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	assert_true(EVP_DigestInit_ex(md, EVP_sha256(), NULL));
	assert_int_equal(sharedfile_digest(shared, md), -1);
	EVP_MD_CTX_free(md);
	sharedfile_close(shared);
	unlink(path);
	free(path);
	free(f.data);
}

static void test_replaced(void **state)
{
	(void)state;
	/* A file renamed over the one opened when the run began is not read (its hash would be the old one's). */
	struct file f = { 0 };
	file_header(&f, 0xa1b2c3d4, 2, 4, 65535);
	record(&f, 1, 0, 60, 60, 1);
	char *path = write_file(&f);
	char *other = write_file(&f);
	struct sharedfile *shared = sharedfile_open(path, 0, SHAREDFILE_WINDOW);
	assert_non_null(shared);
	assert_int_equal(rename(other, path), 0);
	static struct seen s;
	int direct = 1;
	read_with(path, shared, NULL, &s, &direct);
	assert_false(direct);
	assert_non_null(strstr(s.text, "the file was replaced since the run began"));
	sharedfile_close(shared);
	unlink(path);
	free(path);
	free(other);
	free(f.data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_records),
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_left_to_libpcap),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_not_direct),
		cmocka_unit_test(test_pieces),
		cmocka_unit_test(test_digest),
		cmocka_unit_test(test_digest_beside),
		cmocka_unit_test(test_hash_waits),
		cmocka_unit_test(test_shrinks),
		cmocka_unit_test(test_replaced),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
