/*
 * keylog: the store of TLS secrets that the dissect stage decrypts with
 * (issue 8). Lines of an NSS key log come in from text, a whole file, a file
 * followed while a browser writes it, or the Decryption Secrets Blocks of a
 * pcapng file; the secrets they carry are kept by client random until
 * tlsdec asks for one with keylog_lookup().
 *
 * What a line must be (stricter than the format's page in the digits, more
 * lenient in the spaces, as Wireshark is):
 *  - LF ends a line; one CR before it is dropped (a key log copied through
 *    Windows). Spaces and tabs around the line and between its fields are
 *    allowed, in any number (trailing spaces are easy to get from an editor
 *    or a script, and cost nothing to accept).
 *  - blank lines and lines whose first non-blank byte is '#' are comments.
 *  - otherwise exactly three fields: a label of upper-case letters, digits
 *    and '_'; a client random of 64 hex digits; a secret of an even number
 *    of hex digits, 2 to 128 (1 to KEYLOG_SECRET_MAX bytes), either case.
 *    CLIENT_RANDOM's secret is the TLS 1.2 master secret: 48 bytes, no other
 *    length. Labels we do not use (EXPORTER_SECRET, RSA, ECH_SECRET ...) are
 *    only checked for two even-length hex fields (RSA's second field is 8
 *    bytes of encrypted premaster, not a client random; ECH_CONFIG's third
 *    can be longer than any secret) and counted as skipped.
 *  - a line longer than KEYLOG_LINE_MAX bytes (its newline and CR not
 *    counted) or holding a NUL byte is bad, whatever else it holds.
 * A bad line is counted; the first one's "source:line: reason" is kept. No
 * reason ever quotes a secret.
 *
 * A line that repeats a stored secret stores nothing and is not counted. A
 * line with another secret for the same client random and label replaces the
 * old one (wiped) and counts as a secret stored: the newer line is what the
 * writer means now (a key log rewritten from another session), and the
 * caller uses the count to know that something new may open held records.
 *
 * The store is a chained hash table of client randoms, each entry holding
 * one slot a label. Entries are allocated one by one (never moved by a
 * realloc, which would leave copies of secrets behind unwiped) and kept on a
 * list in the order they were made: at KEYLOG_ENTRIES_MAX the oldest client
 * random goes, with all its secrets. A full store is about 29 MB
 * (KEYLOG_ENTRIES_MAX * sizeof(struct entry)). Client randoms come from the
 * key log's writer (a browser's CSPRNG), not from the network, so the hash
 * need not resist chosen inputs; a lookup of a random from the wire only
 * walks a chain of entries the key log made.
 */
#include "keylog.h"
#include "../daemon/text.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

enum {
	RANDOM_HEX_LEN = 2 * KEYLOG_RANDOM_LEN,
	SECRET_HEX_MAX = 2 * KEYLOG_SECRET_MAX,
	MASTER_SECRET_LEN = 48,
	BUCKETS_MIN = 256,
	/* Load factor at most 1 up to a full store. */
	BUCKETS_MAX = KEYLOG_ENTRIES_MAX,
	READ_CHUNK = 64 << 10,
	/* keylog_follow_poll() reads at most this much a call: a poll in the
	   capture thread must not stall it on a key log of hundreds of MB. */
	FOLLOW_READ_MAX = 1 << 20,
	REASON_MAX = 160,
};

static const char *const label_names[KEYLOG_LABEL_COUNT] = {
	[KEYLOG_MASTER_SECRET] = "CLIENT_RANDOM",
	[KEYLOG_CLIENT_EARLY_TRAFFIC_SECRET] = "CLIENT_EARLY_TRAFFIC_SECRET",
	[KEYLOG_CLIENT_HANDSHAKE_TRAFFIC_SECRET] = "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
	[KEYLOG_SERVER_HANDSHAKE_TRAFFIC_SECRET] = "SERVER_HANDSHAKE_TRAFFIC_SECRET",
	[KEYLOG_CLIENT_TRAFFIC_SECRET_0] = "CLIENT_TRAFFIC_SECRET_0",
	[KEYLOG_SERVER_TRAFFIC_SECRET_0] = "SERVER_TRAFFIC_SECRET_0",
};

const char *keylog_label_name(enum keylog_label label)
{
	if ((unsigned)label >= KEYLOG_LABEL_COUNT)
		return "(unknown)";
	return label_names[label];
}

/* ---- the store ----------------------------------------------------------- */

struct entry {
	struct entry *next;      /* in its bucket */
	struct entry *newer;     /* made after this one: the eviction order */
	uint8_t random[KEYLOG_RANDOM_LEN];
	uint8_t secret_len[KEYLOG_LABEL_COUNT]; /* 0: none for this label */
	uint8_t secret[KEYLOG_LABEL_COUNT][KEYLOG_SECRET_MAX];
};

struct keylog {
	struct entry **buckets;
	size_t bucket_count;     /* a power of two */
	size_t count;
	struct entry *oldest, *newest;
	struct keylog_stats stats;
};

/* FNV-1a over the whole random: see the file's comment on why no key. */
static size_t hash_random(const uint8_t random[KEYLOG_RANDOM_LEN])
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);
	for (size_t i = 0; i < KEYLOG_RANDOM_LEN; i++) {
		h ^= random[i];
		h *= UINT64_C(0x100000001b3);
	}
	return (size_t)(h ^ h >> 32);
}

static struct entry **bucket_of(const struct keylog *keylog, const uint8_t random[KEYLOG_RANDOM_LEN])
{
	return &keylog->buckets[hash_random(random) & (keylog->bucket_count - 1)];
}

static struct entry *find(const struct keylog *keylog, const uint8_t random[KEYLOG_RANDOM_LEN])
{
	for (struct entry *e = *bucket_of(keylog, random); e; e = e->next)
		if (memcmp(e->random, random, KEYLOG_RANDOM_LEN) == 0)
			return e;
	return NULL;
}

static void wipe_free(struct entry *e)
{
	OPENSSL_cleanse(e, sizeof *e);
	free(e);
}

struct keylog *keylog_new(void)
{
	struct keylog *keylog = calloc(1, sizeof *keylog);
	if (!keylog)
		return NULL;
	keylog->buckets = calloc(BUCKETS_MIN, sizeof *keylog->buckets);
	if (!keylog->buckets) {
		free(keylog);
		return NULL;
	}
	keylog->bucket_count = BUCKETS_MIN;
	return keylog;
}

void keylog_free(struct keylog *keylog)
{
	if (!keylog)
		return;
	struct entry *e = keylog->oldest;
	while (e) {
		struct entry *newer = e->newer;
		wipe_free(e);
		e = newer;
	}
	free(keylog->buckets);
	free(keylog);
}

const struct keylog_stats *keylog_stats(const struct keylog *keylog)
{
	static const struct keylog_stats none;
	return keylog ? &keylog->stats : &none;
}

size_t keylog_count(const struct keylog *keylog)
{
	return keylog ? keylog->count : 0;
}

/* Twice the buckets when entries outnumber them; on no memory, longer chains. */
static void grow(struct keylog *keylog)
{
	if (keylog->count <= keylog->bucket_count || keylog->bucket_count >= BUCKETS_MAX)
		return;
	size_t count = keylog->bucket_count * 2;
	struct entry **buckets = calloc(count, sizeof *buckets);
	if (!buckets)
		return;
	free(keylog->buckets);
	keylog->buckets = buckets;
	keylog->bucket_count = count;
	for (struct entry *e = keylog->oldest; e; e = e->newer) {
		struct entry **b = bucket_of(keylog, e->random);
		e->next = *b;
		*b = e;
	}
}

/* Drops the oldest client random and its secrets, to make room. */
static void evict_oldest(struct keylog *keylog)
{
	struct entry *e = keylog->oldest;
	struct entry **link = bucket_of(keylog, e->random);
	while (*link != e)
		link = &(*link)->next;
	*link = e->next;
	keylog->oldest = e->newer;
	if (!keylog->oldest)
		keylog->newest = NULL;
	keylog->count--;
	keylog->stats.evicted++;
	wipe_free(e);
}

/* 1: stored (new, or replacing another secret); 0: the same secret was there; -1: no memory. */
static int store_secret(struct keylog *keylog, const uint8_t random[KEYLOG_RANDOM_LEN],
			enum keylog_label label, const uint8_t *secret, size_t len)
{
	struct entry *e = find(keylog, random);
	if (e) {
		if (e->secret_len[label] == len && CRYPTO_memcmp(e->secret[label], secret, len) == 0)
			return 0;
		OPENSSL_cleanse(e->secret[label], sizeof e->secret[label]);
		memcpy(e->secret[label], secret, len);
		e->secret_len[label] = (uint8_t)len;
		return 1;
	}
	/* Allocated before anything is evicted, so that no memory loses nothing. */
	e = calloc(1, sizeof *e);
	if (!e)
		return -1;
	if (keylog->count >= KEYLOG_ENTRIES_MAX)
		evict_oldest(keylog);
	memcpy(e->random, random, KEYLOG_RANDOM_LEN);
	memcpy(e->secret[label], secret, len);
	e->secret_len[label] = (uint8_t)len;
	struct entry **b = bucket_of(keylog, random);
	e->next = *b;
	*b = e;
	if (keylog->newest)
		keylog->newest->newer = e;
	else
		keylog->oldest = e;
	keylog->newest = e;
	keylog->count++;
	grow(keylog);
	return 1;
}

size_t keylog_lookup(const struct keylog *keylog, const uint8_t client_random[KEYLOG_RANDOM_LEN],
		     enum keylog_label label, uint8_t out[KEYLOG_SECRET_MAX])
{
	if (!keylog || !client_random || (unsigned)label >= KEYLOG_LABEL_COUNT)
		return 0;
	const struct entry *e = find(keylog, client_random);
	if (!e || e->secret_len[label] == 0)
		return 0;
	memcpy(out, e->secret[label], e->secret_len[label]);
	return e->secret_len[label];
}

/* ---- lines --------------------------------------------------------------- */

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool all_hex(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (hex_digit_value((unsigned char)p[i]) < 0)
			return false;
	return true;
}

/* `len` is even and every digit checked. */
static void hex_decode(const char *p, size_t len, uint8_t *out)
{
	for (size_t i = 0; i < len; i += 2)
		out[i / 2] = (uint8_t)(hex_digit_value((unsigned char)p[i]) << 4 | hex_digit_value((unsigned char)p[i + 1]));
}

static bool is_label_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

struct field {
	const char *p;
	size_t len;
};

enum line_kind { LINE_COMMENT, LINE_SECRET, LINE_REPEATED, LINE_SKIPPED, LINE_BAD };

/* Why a field is not hex, or "" when it is (of an even length, at least 2). */
static const char *hex_problem(struct field f)
{
	if (!all_hex(f.p, f.len))
		return "is not hexadecimal";
	if (f.len % 2)
		return "has an odd number of hex digits";
	return "";
}

static enum line_kind parse_line(struct keylog *keylog, const char *p, size_t len, char *reason)
{
	if (len > 0 && p[len - 1] == '\r')
		len--;
	if (len > KEYLOG_LINE_MAX) {
		snprintf(reason, REASON_MAX, "longer than %d bytes", KEYLOG_LINE_MAX);
		return LINE_BAD;
	}
	if (memchr(p, '\0', len)) {
		snprintf(reason, REASON_MAX, "a NUL byte");
		return LINE_BAD;
	}
	while (len > 0 && is_blank(p[0])) {
		p++;
		len--;
	}
	while (len > 0 && is_blank(p[len - 1]))
		len--;
	if (len == 0 || p[0] == '#')
		return LINE_COMMENT;

	struct field fields[3];
	size_t count = 0, i = 0;
	while (i < len) {
		size_t start = i;
		while (i < len && !is_blank(p[i]))
			i++;
		if (count < 3)
			fields[count] = (struct field){ p + start, i - start };
		count++;
		while (i < len && is_blank(p[i]))
			i++;
	}
	if (count != 3) {
		snprintf(reason, REASON_MAX, "%zu field%s, expected 3 (label, client random, secret)",
			 count, count == 1 ? "" : "s");
		return LINE_BAD;
	}
	struct field label = fields[0], random = fields[1], secret = fields[2];
	for (size_t j = 0; j < label.len; j++) {
		if (!is_label_char(label.p[j])) {
			snprintf(reason, REASON_MAX, "the label is not upper-case letters, digits and '_'");
			return LINE_BAD;
		}
	}
	/* The label is printable now, but may be long: quoted cut to 40 bytes. */
	int shown = label.len > 40 ? 40 : (int)label.len;

	int known = -1;
	for (int k = 0; k < KEYLOG_LABEL_COUNT; k++) {
		if (strlen(label_names[k]) == label.len && memcmp(label_names[k], label.p, label.len) == 0)
			known = k;
	}
	const char *problem = hex_problem(random);
	if (*problem) {
		snprintf(reason, REASON_MAX, "%.*s: the client random %s", shown, label.p, problem);
		return LINE_BAD;
	}
	problem = hex_problem(secret);
	if (*problem) {
		snprintf(reason, REASON_MAX, "%.*s: the secret %s", shown, label.p, problem);
		return LINE_BAD;
	}
	if (known < 0)
		return LINE_SKIPPED;

	if (random.len != RANDOM_HEX_LEN) {
		snprintf(reason, REASON_MAX, "%s: the client random has %zu hex digits, not %d",
			 label_names[known], random.len, RANDOM_HEX_LEN);
		return LINE_BAD;
	}
	if (secret.len > SECRET_HEX_MAX) {
		snprintf(reason, REASON_MAX, "%s: the secret has %zu hex digits, more than %d",
			 label_names[known], secret.len, SECRET_HEX_MAX);
		return LINE_BAD;
	}
	if (known == KEYLOG_MASTER_SECRET && secret.len != 2 * MASTER_SECRET_LEN) {
		snprintf(reason, REASON_MAX, "CLIENT_RANDOM: the master secret is %zu bytes, not %d",
			 secret.len / 2, MASTER_SECRET_LEN);
		return LINE_BAD;
	}
	uint8_t client_random[KEYLOG_RANDOM_LEN], value[KEYLOG_SECRET_MAX];
	hex_decode(random.p, random.len, client_random);
	hex_decode(secret.p, secret.len, value);
	int stored = store_secret(keylog, client_random, (enum keylog_label)known, value,
				  secret.len / 2);
	OPENSSL_cleanse(value, sizeof value);
	if (stored < 0) {
		snprintf(reason, REASON_MAX, "out of memory");
		return LINE_BAD;
	}
	return stored ? LINE_SECRET : LINE_REPEATED;
}

static void note_bad(struct keylog *keylog, const char *source, uint64_t line, const char *reason)
{
	keylog->stats.bad++;
	if (keylog->stats.first_error[0] == '\0')
		snprintf(keylog->stats.first_error, sizeof keylog->stats.first_error,
			 "%s:%" PRIu64 ": %s", source ? source : "(text)", line, reason);
}

/* One line, without its LF. 1 when it stored a secret. */
static size_t read_line(struct keylog *keylog, const char *p, size_t len, const char *source,
			uint64_t line)
{
	char reason[REASON_MAX];
	keylog->stats.lines++;
	switch (parse_line(keylog, p, len, reason)) {
	case LINE_SECRET:
		keylog->stats.secrets++;
		return 1;
	case LINE_SKIPPED:
		keylog->stats.skipped++;
		break;
	case LINE_BAD:
		note_bad(keylog, source, line, reason);
		break;
	case LINE_COMMENT:
	case LINE_REPEATED:
		break;
	}
	return 0;
}

/* Every line of `text`, the last one with or without its LF; *lines_read: how many. */
static size_t read_lines(struct keylog *keylog, const char *text, size_t len, const char *source,
			 uint64_t first_line, uint64_t *lines_read)
{
	size_t stored = 0, pos = 0;
	uint64_t line = first_line;
	while (pos < len) {
		const char *newline = memchr(text + pos, '\n', len - pos);
		size_t end = newline ? (size_t)(newline - text) : len;
		stored += read_line(keylog, text + pos, end - pos, source, line++);
		pos = newline ? end + 1 : len;
	}
	if (lines_read)
		*lines_read = line - first_line;
	return stored;
}

size_t keylog_add_text(struct keylog *keylog, const char *text, size_t len, const char *source,
		       uint64_t first_line)
{
	if (!keylog || !text)
		return 0;
	return read_lines(keylog, text, len, source, first_line, NULL);
}

/* ---- lines from chunks ----------------------------------------------------- */

/*
 * Lines cut across the chunks of a file: the start of a line whose LF has
 * not come yet is kept (at most a line's worth: a longer one is counted bad
 * as soon as it is too long, and skipped to its LF without keeping any of
 * it). The lines read are the same, and numbered the same, as
 * keylog_add_text() on the whole text would read them.
 */
struct line_reader {
	char pending[KEYLOG_LINE_MAX + 1]; /* +1: the CR of a CRLF line of the longest length */
	size_t pending_len;
	bool overlong;                      /* in a line already counted as too long */
	uint64_t next_line;
};

static void reader_reset(struct line_reader *r)
{
	OPENSSL_cleanse(r->pending, r->pending_len);
	r->pending_len = 0;
	r->overlong = false;
	r->next_line = 1;
}

static size_t reader_feed(struct line_reader *r, struct keylog *keylog, const char *source,
			  const char *data, size_t n)
{
	size_t stored = 0;
	while (n > 0) {
		const char *newline = memchr(data, '\n', n);
		size_t before = newline ? (size_t)(newline - data) : n;
		if (r->overlong) {
			if (!newline)
				return stored;
			r->overlong = false;
			r->next_line++;
		} else if (r->pending_len == 0 && newline) {
			/* Every complete line of the chunk at once, read in place. */
			const char *last = memrchr(data, '\n', n);
			size_t block = (size_t)(last - data) + 1;
			uint64_t lines;
			stored += read_lines(keylog, data, block, source, r->next_line, &lines);
			r->next_line += lines;
			data += block;
			n -= block;
			continue;
		} else if (before > sizeof r->pending - r->pending_len) {
			char reason[REASON_MAX];
			snprintf(reason, sizeof reason, "longer than %d bytes", KEYLOG_LINE_MAX);
			keylog->stats.lines++;
			note_bad(keylog, source, r->next_line, reason);
			OPENSSL_cleanse(r->pending, r->pending_len);
			r->pending_len = 0;
			if (!newline) {
				r->overlong = true;
				return stored;
			}
			r->next_line++;
		} else {
			memcpy(r->pending + r->pending_len, data, before);
			r->pending_len += before;
			if (!newline)
				return stored;
			stored += read_line(keylog, r->pending, r->pending_len, source, r->next_line++);
			OPENSSL_cleanse(r->pending, r->pending_len);
			r->pending_len = 0;
		}
		data += before + 1;
		n -= before + 1;
	}
	return stored;
}

/* The end of the text: a last line without its LF is read too. */
static size_t reader_finish(struct line_reader *r, struct keylog *keylog, const char *source)
{
	size_t stored = 0;
	if (r->pending_len > 0 && !r->overlong)
		stored = read_line(keylog, r->pending, r->pending_len, source, r->next_line++);
	reader_reset(r);
	return stored;
}

/* ---- errors ----------------------------------------------------------------- */

static int fail(char *error, size_t error_len, const char *format, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *error, size_t error_len, const char *format, ...)
{
	if (error && error_len > 0) {
		va_list ap;
		va_start(ap, format);
		vsnprintf(error, error_len, format, ap);
		va_end(ap);
	}
	return -1;
}

static void clear_error(char *error, size_t error_len)
{
	if (error && error_len > 0)
		error[0] = '\0';
}

/* ---- a whole file ------------------------------------------------------------ */

int keylog_read_file(struct keylog *keylog, const char *path, char *error, size_t error_len)
{
	clear_error(error, error_len);
	if (!keylog || !path)
		return fail(error, error_len, "keylog_read_file: no store or no path");
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return fail(error, error_len, "%s: %s", path, strerror(errno));
	struct stat st;
	int err = fstat(fd, &st) != 0 ? errno : S_ISDIR(st.st_mode) ? EISDIR : 0;
	if (err) {
		close(fd);
		return fail(error, error_len, "%s: %s", path, strerror(err));
	}
	char *buffer = malloc(READ_CHUNK);
	struct line_reader *reader = malloc(sizeof *reader);
	if (!buffer || !reader) {
		free(buffer);
		free(reader);
		close(fd);
		return fail(error, error_len, "%s: out of memory", path);
	}
	reader->pending_len = 0;
	reader_reset(reader);
	int rc = 0;
	size_t used = 0;
	for (;;) {
		ssize_t n = read(fd, buffer, READ_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = fail(error, error_len, "%s: %s", path, strerror(errno));
			break;
		}
		if (n == 0)
			break;
		if ((size_t)n > used)
			used = (size_t)n;
		reader_feed(reader, keylog, path, buffer, (size_t)n);
	}
	/* On an error, the lines before it are kept: the last partial one is not read. */
	if (rc == 0)
		reader_finish(reader, keylog, path);
	reader_reset(reader);
	OPENSSL_cleanse(buffer, used);
	free(buffer);
	free(reader);
	close(fd);
	return rc;
}

/* ---- a file followed by name --------------------------------------------------- */

struct keylog_follow {
	char *path;
	int fd;                  /* the file being read, or -1 (absent) */
	dev_t dev;               /* which file fd is */
	ino_t ino;
	uint64_t offset;         /* bytes of it read */
	char *buffer;            /* READ_CHUNK bytes, from the first read on */
	struct line_reader reader;
};

struct keylog_follow *keylog_follow_new(const char *path)
{
	if (!path)
		return NULL;
	struct keylog_follow *f = calloc(1, sizeof *f);
	if (!f)
		return NULL;
	f->path = strdup(path);
	if (!f->path) {
		free(f);
		return NULL;
	}
	f->fd = -1;
	reader_reset(&f->reader);
	return f;
}

const char *keylog_follow_path(const struct keylog_follow *follow)
{
	return follow ? follow->path : NULL;
}

/*
 * Forgets the file being read: the next one is read from its start. A line
 * the writer never finished is dropped with it.
 */
static void follow_close(struct keylog_follow *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
	f->offset = 0;
	reader_reset(&f->reader);
}

/*
 * Reads from the open file until its end or until `budget` runs out. 1 at
 * the end of the file, 0 when the budget ran out first, -1 on a read error.
 */
static int follow_read(struct keylog_follow *f, struct keylog *keylog, size_t *budget,
		       size_t *stored, char *error, size_t error_len)
{
	if (!f->buffer) {
		f->buffer = malloc(READ_CHUNK);
		if (!f->buffer)
			return fail(error, error_len, "%s: out of memory", f->path);
	}
	int rc = 0;
	size_t used = 0;
	while (*budget > 0) {
		size_t want = *budget < READ_CHUNK ? *budget : READ_CHUNK;
		ssize_t n = pread(f->fd, f->buffer, want, (off_t)f->offset);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = fail(error, error_len, "%s: %s", f->path, strerror(errno));
			break;
		}
		if (n == 0) {
			rc = 1;
			break;
		}
		if ((size_t)n > used)
			used = (size_t)n;
		f->offset += (uint64_t)n;
		*budget -= (size_t)n;
		*stored += reader_feed(&f->reader, keylog, f->path, f->buffer, (size_t)n);
	}
	OPENSSL_cleanse(f->buffer, used);
	return rc;
}

/*
 * The file the descriptor still holds was replaced or removed: its last
 * complete lines are read before it is let go (a browser may have written
 * them just before). True when it has been let go.
 */
static int follow_finish_old(struct keylog_follow *f, struct keylog *keylog, size_t *budget,
			     size_t *stored, char *error, size_t error_len)
{
	int rc = follow_read(f, keylog, budget, stored, error, error_len);
	if (rc == 1)
		follow_close(f);
	return rc;
}

ssize_t keylog_follow_poll(struct keylog_follow *follow, struct keylog *keylog, char *error,
			   size_t error_len)
{
	clear_error(error, error_len);
	if (!follow || !keylog)
		return fail(error, error_len, "keylog_follow_poll: no follow or no store");
	struct keylog_follow *f = follow;
	size_t budget = FOLLOW_READ_MAX, stored = 0;
	struct stat st;
	if (stat(f->path, &st) != 0) {
		if (errno != ENOENT)
			return fail(error, error_len, "%s: %s", f->path, strerror(errno));
		/* Absent: waited for. What the old file still had is read first. */
		if (f->fd >= 0 &&
		    follow_finish_old(f, keylog, &budget, &stored, error, error_len) < 0)
			return -1;
		return (ssize_t)stored;
	}
	if (S_ISDIR(st.st_mode))
		return fail(error, error_len, "%s: %s", f->path, strerror(EISDIR));
	if (!S_ISREG(st.st_mode))
		return fail(error, error_len, "%s: not a regular file", f->path);

	/*
	 * Replaced (renamed over, or removed and made again): another inode.
	 * Holding the old file open keeps its inode number from being given
	 * to the new one, so a change is always seen.
	 */
	if (f->fd >= 0 && (st.st_dev != f->dev || st.st_ino != f->ino)) {
		int rc = follow_finish_old(f, keylog, &budget, &stored, error, error_len);
		if (rc <= 0)
			return rc < 0 ? -1 : (ssize_t)stored;
	}
	if (f->fd < 0) {
		/* O_NONBLOCK: were a FIFO put there since the stat, open must not wait for a writer. */
		int fd = open(f->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		if (fd < 0) {
			if (errno == ENOENT)
				return (ssize_t)stored;
			return fail(error, error_len, "%s: %s", f->path, strerror(errno));
		}
		const char *problem = fstat(fd, &st) != 0 ? strerror(errno)
				      : S_ISDIR(st.st_mode)    ? strerror(EISDIR)
				      : !S_ISREG(st.st_mode)   ? "not a regular file"
							       : NULL;
		if (problem) {
			close(fd);
			return fail(error, error_len, "%s: %s", f->path, problem);
		}
		f->fd = fd;
		f->dev = st.st_dev;
		f->ino = st.st_ino;
		f->offset = 0;
		reader_reset(&f->reader);
	} else if ((uint64_t)st.st_size < f->offset) {
		/* Truncated: what is there now is read from its start. A rewrite to
		   the same size or longer between two polls cannot be told from an
		   append (tail -F cannot either). */
		f->offset = 0;
		reader_reset(&f->reader);
	} else if ((uint64_t)st.st_size == f->offset) {
		return (ssize_t)stored;
	}
	if (follow_read(f, keylog, &budget, &stored, error, error_len) < 0)
		return -1;
	return (ssize_t)stored;
}

void keylog_follow_free(struct keylog_follow *follow)
{
	if (!follow)
		return;
	follow_close(follow);
	free(follow->buffer); /* wiped after each read */
	free(follow->path);
	free(follow);
}

/* ---- pcapng Decryption Secrets Blocks ------------------------------------------ */

/*
 * The pcapng reader reads blocks through a window of the file, so that a
 * capture of millions of packets costs one read per window, not per block.
 * It reads only the block headers and trailers, and the DSBs' bodies.
 */
enum {
	PCAPNG_SHB = 0x0A0D0D0A,
	PCAPNG_DSB = 0x0000000A,
	PCAPNG_BYTE_ORDER_MAGIC = 0x1A2B3C4D,
	SECRETS_TYPE_TLS = 0x544c534b, /* "TLSK" */
	WINDOW = 64 << 10,
	BLOCK_MIN = 12,                 /* type, total length, total length */
	SHB_MIN = 28,
};

struct pcapng {
	int fd;
	const char *path;
	uint64_t size;
	bool big_endian;          /* the current section's byte order */
	uint8_t *window;
	uint64_t window_start;
	size_t window_len;
	char *error;
	size_t error_len;
};

/* `len` bytes (at most WINDOW) at `offset`, known to lie within the file. 0 or -1. */
static int pcapng_read(struct pcapng *r, uint64_t offset, void *out, size_t len)
{
	if (offset >= r->window_start && len <= r->window_len &&
	    offset - r->window_start <= r->window_len - len) {
		memcpy(out, r->window + (offset - r->window_start), len);
		return 0;
	}
	OPENSSL_cleanse(r->window, r->window_len);
	r->window_start = offset;
	r->window_len = 0;
	while (r->window_len < len) {
		ssize_t n = pread(r->fd, r->window + r->window_len, WINDOW - r->window_len,
				  (off_t)(offset + r->window_len));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fail(r->error, r->error_len, "%s: offset %" PRIu64 ": %s", r->path,
				    offset, strerror(errno));
		if (n == 0)
			return fail(r->error, r->error_len,
				    "%s: offset %" PRIu64 ": the file ended while being read", r->path,
				    offset);
		r->window_len += (size_t)n;
	}
	memcpy(out, r->window, len);
	return 0;
}

static uint32_t get32(const uint8_t *p, bool big_endian)
{
	if (big_endian)
		return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

static uint16_t get16(const uint8_t *p, bool big_endian)
{
	return big_endian ? (uint16_t)(p[0] << 8 | p[1]) : (uint16_t)(p[1] << 8 | p[0]);
}

/* The TLS key log of the DSB at `offset` (total length `total`, checked), into the store. */
static int read_dsb(struct pcapng *r, struct keylog *keylog, uint64_t offset, uint32_t total,
		    size_t *stored)
{
	uint8_t head[8];
	uint32_t body = total - BLOCK_MIN;
	if (body < 8)
		return fail(r->error, r->error_len,
			    "%s: decryption secrets block at offset %" PRIu64
			    ": total length %" PRIu32 " leaves no room for its type and length",
			    r->path, offset, total);
	if (pcapng_read(r, offset + 8, head, sizeof head) < 0)
		return -1;
	uint32_t type = get32(head, r->big_endian), len = get32(head + 4, r->big_endian);
	/* The data is padded to 32 bits within the block. */
	if ((uint64_t)len + 3 - ((uint64_t)len + 3) % 4 > body - 8)
		return fail(r->error, r->error_len,
			    "%s: decryption secrets block at offset %" PRIu64
			    ": secrets length %" PRIu32 " is more than the block holds (%" PRIu32 ")",
			    r->path, offset, len, body - 8);
	if (type != SECRETS_TYPE_TLS)
		return 0;

	char source[64 + 4096];
	snprintf(source, sizeof source, "%s (decryption secrets block at offset %" PRIu64 ")",
		 r->path, offset);
	struct line_reader *reader = malloc(sizeof *reader);
	char *chunk = malloc(READ_CHUNK);
	int rc = 0;
	if (!reader || !chunk) {
		rc = fail(r->error, r->error_len, "%s: out of memory", r->path);
		goto out;
	}
	reader->pending_len = 0;
	reader_reset(reader);
	uint64_t at = offset + 16, end = at + len;
	size_t used = 0;
	while (at < end) {
		size_t n = end - at < READ_CHUNK ? (size_t)(end - at) : READ_CHUNK;
		if (n > used)
			used = n;
		if (pcapng_read(r, at, chunk, n) < 0) {
			rc = -1;
			break;
		}
		*stored += reader_feed(reader, keylog, source, chunk, n);
		at += n;
	}
	if (rc == 0)
		*stored += reader_finish(reader, keylog, source);
	reader_reset(reader);
	OPENSSL_cleanse(chunk, used);
out:
	free(chunk);
	free(reader);
	return rc;
}

static bool is_pcap_magic(const uint8_t m[4])
{
	static const uint8_t magics[][4] = {
		{ 0xa1, 0xb2, 0xc3, 0xd4 }, /* microseconds */
		{ 0xa1, 0xb2, 0x3c, 0x4d }, /* nanoseconds */
		{ 0xa1, 0xb2, 0xcd, 0x34 }, /* Kuznetzov's modified pcap, which libpcap reads */
	};
	for (size_t i = 0; i < sizeof magics / sizeof magics[0]; i++) {
		const uint8_t *x = magics[i];
		if (memcmp(m, x, 4) == 0)
			return true;
		uint8_t swapped[4] = { x[3], x[2], x[1], x[0] };
		if (memcmp(m, swapped, 4) == 0)
			return true;
	}
	return false;
}

static int read_blocks(struct pcapng *r, struct keylog *keylog, size_t *stored)
{
	uint8_t magic[4];
	if (r->size < 4)
		return fail(r->error, r->error_len,
			    "%s: offset 0: %" PRIu64 " bytes, too short for pcap or pcapng", r->path,
			    r->size);
	if (pcapng_read(r, 0, magic, 4) < 0)
		return -1;
	if (is_pcap_magic(magic))
		return 0;
	if (get32(magic, false) != PCAPNG_SHB)
		return fail(r->error, r->error_len, "%s: offset 0: neither pcap nor pcapng", r->path);

	uint64_t offset = 0;
	while (offset < r->size) {
		uint8_t head[12], tail[4];
		if (r->size - offset < BLOCK_MIN)
			return fail(r->error, r->error_len,
				    "%s: block at offset %" PRIu64 ": truncated (%" PRIu64
				    " bytes left, a block is at least %d)",
				    r->path, offset, r->size - offset, BLOCK_MIN);
		if (pcapng_read(r, offset, head, sizeof head) < 0)
			return -1;
		uint32_t type = get32(head, r->big_endian);
		if (get32(head, false) == PCAPNG_SHB) {
			/* A new section, with its own byte order (the type reads the same in both). */
			uint32_t order = get32(head + 8, false);
			if (order == PCAPNG_BYTE_ORDER_MAGIC)
				r->big_endian = false;
			else if (get32(head + 8, true) == PCAPNG_BYTE_ORDER_MAGIC)
				r->big_endian = true;
			else
				return fail(r->error, r->error_len,
					    "%s: section header at offset %" PRIu64
					    ": no byte-order magic",
					    r->path, offset);
			type = PCAPNG_SHB;
		}
		uint32_t total = get32(head + 4, r->big_endian);
		if (total < BLOCK_MIN || total % 4 != 0)
			return fail(r->error, r->error_len,
				    "%s: block at offset %" PRIu64 ": total length %" PRIu32
				    " is not a multiple of 4 of at least %d",
				    r->path, offset, total, BLOCK_MIN);
		if (total > r->size - offset)
			return fail(r->error, r->error_len,
				    "%s: block at offset %" PRIu64 ": truncated (total length %" PRIu32
				    ", %" PRIu64 " bytes left)",
				    r->path, offset, total, r->size - offset);
		if (pcapng_read(r, offset + total - 4, tail, sizeof tail) < 0)
			return -1;
		uint32_t trailer = get32(tail, r->big_endian);
		if (trailer != total)
			return fail(r->error, r->error_len,
				    "%s: block at offset %" PRIu64 ": total length %" PRIu32
				    " at its start, %" PRIu32 " at its end",
				    r->path, offset, total, trailer);
		if (type == PCAPNG_SHB) {
			uint8_t version[2];
			if (total < SHB_MIN)
				return fail(r->error, r->error_len,
					    "%s: section header at offset %" PRIu64
					    ": total length %" PRIu32 ", less than %d",
					    r->path, offset, total, SHB_MIN);
			if (pcapng_read(r, offset + 12, version, sizeof version) < 0)
				return -1;
			uint16_t major = get16(version, r->big_endian);
			if (major != 1)
				return fail(r->error, r->error_len,
					    "%s: section header at offset %" PRIu64
					    ": major version %u, not 1",
					    r->path, offset, major);
		} else if (type == PCAPNG_DSB) {
			if (read_dsb(r, keylog, offset, total, stored) < 0)
				return -1;
		}
		offset += total;
	}
	return 0;
}

ssize_t keylog_read_pcapng_secrets(struct keylog *keylog, const char *path, char *error,
				   size_t error_len)
{
	clear_error(error, error_len);
	if (!keylog || !path)
		return fail(error, error_len, "keylog_read_pcapng_secrets: no store or no path");
	struct pcapng r = { .path = path, .error = error, .error_len = error_len };
	r.fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (r.fd < 0)
		return fail(error, error_len, "%s: %s", path, strerror(errno));
	struct stat st;
	const char *problem = fstat(r.fd, &st) != 0 ? strerror(errno)
			      : S_ISDIR(st.st_mode)    ? strerror(EISDIR)
			      : !S_ISREG(st.st_mode)   ? "not a regular file"
						       : NULL;
	if (problem) {
		close(r.fd);
		return fail(error, error_len, "%s: %s", path, problem);
	}
	r.size = (uint64_t)st.st_size;
	r.window = malloc(WINDOW);
	if (!r.window) {
		close(r.fd);
		return fail(error, error_len, "%s: out of memory", path);
	}
	size_t stored = 0;
	int rc = read_blocks(&r, keylog, &stored);
	OPENSSL_cleanse(r.window, r.window_len);
	free(r.window);
	close(r.fd);
	return rc < 0 ? -1 : (ssize_t)stored;
}
