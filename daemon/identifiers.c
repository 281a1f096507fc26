/*
 * identifiers: HMAC-SHA256 through OpenSSL 3's EVP_MAC, and the three
 * redactors that put its texts in place of the values of Cookie, Set-Cookie
 * and request-target strings. This runs for every HTTP request the sensor
 * sees, so a hash allocates nothing of ours: each thread keeps one keyed
 * context and re-initialises it per value (about 3 times cheaper than
 * duplicating the key's context per value), and the redactors write into
 * the caller's buffer.
 */
#include "identifiers.h"
#include "hash.h"
#include "thread.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

enum { MAC_BYTES_KEPT = IDENT_HASH_HEX / 2 };

/* ---- keys --------------------------------------------------------------- */

static atomic_uint_fast64_t last_key_id;

int ident_key_set(struct ident_key *key, const void *secret, size_t len)
{
	memset(key, 0, sizeof *key);
	if (!secret || len == 0 || len > IDENT_KEY_MAX)
		return -1;
	static char digest[] = "SHA256";
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
		OSSL_PARAM_construct_end(),
	};
	/* The context holds its own reference to the MAC; fetched once per key. */
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *keyed = mac ? EVP_MAC_CTX_new(mac) : NULL;
	EVP_MAC_free(mac);
	if (!keyed || !EVP_MAC_init(keyed, secret, len, params)) {
		EVP_MAC_CTX_free(keyed);
		return -1;
	}
	key->keyed = keyed;
	key->id = atomic_fetch_add(&last_key_id, 1) + 1;
	return 0;
}

int ident_key_random(struct ident_key *key)
{
	unsigned char secret[IDENT_KEY_RANDOM];
	size_t got = 0;
	memset(key, 0, sizeof *key);
	while (got < sizeof secret) {
		ssize_t n = getrandom(secret + got, sizeof secret - got, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		got += (size_t)n;
	}
	int rc = ident_key_set(key, secret, sizeof secret);
	OPENSSL_cleanse(secret, sizeof secret);
	return rc;
}

static void set_error(char *err, size_t err_len, const char *format, ...)
{
	if (!err || err_len == 0)
		return;
	va_list ap;
	va_start(ap, format);
	vsnprintf(err, err_len, format, ap);
	va_end(ap);
}

/* Reads a key from `fd` (closed here); `path` names it in messages. */
static int key_from_fd(struct ident_key *key, int fd, const char *path, char *err, size_t err_len)
{
	/* One byte more than a key may have, to tell a file that is too long. */
	unsigned char secret[IDENT_KEY_MAX + 1];
	size_t got = 0;
	while (got < sizeof secret) {
		ssize_t n = read(fd, secret + got, sizeof secret - got);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int saved = errno;
			close(fd);
			OPENSSL_cleanse(secret, sizeof secret);
			set_error(err, err_len, "key file %s: %s", path, strerror(saved));
			return -1;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	int rc = -1;
	if (got == 0)
		set_error(err, err_len,
			  "key file %s is empty (make one with: head -c 32 /dev/urandom > %s)",
			  path, path);
	else if (got < IDENT_KEY_MIN)
		set_error(err, err_len, "key file %s holds %zu bytes: a key needs %d to %d", path,
			  got, IDENT_KEY_MIN, IDENT_KEY_MAX);
	else if (got > IDENT_KEY_MAX)
		set_error(err, err_len, "key file %s holds more than %d bytes: a key needs %d to %d",
			  path, IDENT_KEY_MAX, IDENT_KEY_MIN, IDENT_KEY_MAX);
	else if ((rc = ident_key_set(key, secret, got)) != 0)
		set_error(err, err_len, "key file %s: cannot set up HMAC-SHA256 (OpenSSL)", path);
	OPENSSL_cleanse(secret, sizeof secret);
	return rc;
}

int ident_key_load(struct ident_key *key, const char *path, char *err, size_t err_len)
{
	memset(key, 0, sizeof *key);
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		set_error(err, err_len, "key file %s: %s", path, strerror(errno));
		return -1;
	}
	return key_from_fd(key, fd, path, err, err_len);
}

int ident_key_for_database(struct ident_key *key, const char *db_path, uid_t daemon_uid, char *err,
			   size_t err_len)
{
	char path[4096];
	memset(key, 0, sizeof *key);
	if ((size_t)snprintf(path, sizeof path, "%s.key", db_path) >= sizeof path) {
		set_error(err, err_len, "%s.key: path too long", db_path);
		return -1;
	}
	for (int attempt = 0; attempt < 2; attempt++) {
		/* The file read is the file checked: one descriptor, no link followed, no FIFO waited on. */
		int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK);
		if (fd >= 0) {
			struct stat st = { 0 };
			const char *problem = fstat(fd, &st) != 0 ? strerror(errno)
					      : !S_ISREG(st.st_mode) ? "not a regular file"
					      : st.st_uid != geteuid() &&
							(daemon_uid == (uid_t)-1 || st.st_uid != daemon_uid)
						? "owned by another user"
					      : (st.st_mode & 077) ? "open to others"
					      : NULL;
			if (problem) {
				close(fd);
				set_error(err, err_len, "key file %s: %s (mode %03o, uid %u; it must be a"
					  " regular file of this user, mode 600)", path, problem,
					  (unsigned)(st.st_mode & 0777), (unsigned)st.st_uid);
				return -1;
			}
			return key_from_fd(key, fd, path, err, err_len);
		}
		if (errno != ENOENT || attempt) {
			set_error(err, err_len, "key file %s: %s%s", path, strerror(errno),
				  errno == ELOOP ? " (a symbolic link: the key file must be the file itself)"
						 : "");
			return -1;
		}
		/* None yet: written whole under a temporary name, then linked in, never partial. */
		unsigned char secret[IDENT_KEY_RANDOM];
		size_t got = 0;
		while (got < sizeof secret) {
			ssize_t n = getrandom(secret + got, sizeof secret - got, 0);
			if (n < 0 && errno != EINTR) {
				set_error(err, err_len, "key file %s: no random bytes: %s", path,
					  strerror(errno));
				return -1;
			}
			got += n > 0 ? (size_t)n : 0;
		}
		char tmp[4096 + 16];
		snprintf(tmp, sizeof tmp, "%s.XXXXXX", path);
		int out = mkstemp(tmp);
		int ok = out >= 0 && fchmod(out, 0600) == 0 &&
			 write(out, secret, sizeof secret) == (ssize_t)sizeof secret && fsync(out) == 0;
		int saved = errno;
		OPENSSL_cleanse(secret, sizeof secret);
		if (out >= 0 && close(out) != 0 && ok) {
			ok = 0;
			saved = errno;
		}
		/* link() fails when another process made the key first: then theirs is read, checked. */
		if (ok && link(tmp, path) != 0 && errno != EEXIST) {
			ok = 0;
			saved = errno;
		}
		if (out >= 0)
			unlink(tmp);
		if (!ok) {
			set_error(err, err_len, "key file %s: cannot create it: %s", path, strerror(saved));
			return -1;
		}
		/* The new name survives a crash: hashes stored from now on need this key. */
		char dir[4096];
		snprintf(dir, sizeof dir, "%s", path);
		char *slash = strrchr(dir, '/');
		if (slash)
			*(slash == dir ? slash + 1 : slash) = '\0';
		int dfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
	}
	set_error(err, err_len, "key file %s: not found after it was made", path);
	return -1;
}

/*
 * Each thread's copy of the last key it hashed with. The pthread key frees
 * it when the thread exits; ident_key_free() frees the calling thread's.
 */
static _Thread_local EVP_MAC_CTX *thread_context;
static _Thread_local uint64_t thread_key_id;
static pthread_key_t thread_context_owner;
static pthread_once_t thread_context_once = PTHREAD_ONCE_INIT;
static int thread_context_owner_ok;

static void thread_context_free(void *context)
{
	EVP_MAC_CTX_free(context);
}

static void thread_context_setup(void)
{
	thread_context_owner_ok = pthread_key_create(&thread_context_owner, thread_context_free) == 0;
}

static void thread_context_drop(void)
{
	if (!thread_context)
		return;
	pthread_setspecific(thread_context_owner, NULL);
	EVP_MAC_CTX_free(thread_context);
	thread_context = NULL;
	thread_key_id = 0;
}

static EVP_MAC_CTX *context_for(const struct ident_key *key)
{
	if (thread_context && thread_key_id == key->id)
		return thread_context;
	if (!key->keyed || key->id == 0)
		return NULL;
	pthread_once(&thread_context_once, thread_context_setup);
	if (!thread_context_owner_ok)
		return NULL;
	EVP_MAC_CTX *copy = EVP_MAC_CTX_dup(key->keyed);
	if (!copy)
		return NULL;
	thread_context_drop();
	if (pthread_setspecific(thread_context_owner, copy) != 0) {
		EVP_MAC_CTX_free(copy);
		return NULL;
	}
	thread_context = copy;
	thread_key_id = key->id;
	return copy;
}

static void memo_wipe(void);

void ident_key_free(struct ident_key *key)
{
	if (key->id != 0 && thread_key_id == key->id)
		thread_context_drop();
	/* This thread's values hashed with it (and any other): wiped (other threads' go with them). */
	if (key->id != 0)
		memo_wipe();
	EVP_MAC_CTX_free(key->keyed);
	memset(key, 0, sizeof *key);
}

/* ---- the hash ----------------------------------------------------------- */

/*
 * The same values come again and again (a session cookie on every request,
 * a client id in every pixel's URL): each thread remembers the hash texts of
 * the values it hashed, by value and key, in a table made at its first hash
 * (MEMO_SLOTS, about 200 KiB), so that most values cost a lookup rather than
 * an HMAC. A value up to MEMO_INLINE bytes is kept in its slot, a longer one
 * (up to MEMO_VALUE_MAX, as long as a browser keeps a cookie) in a copy of
 * its own: the table and its copies take 8 MiB at most. Only memory of this
 * process holds them, wiped when they go: with the thread, when replaced,
 * and when a key is let go (ident_key_free(), for the calling thread).
 */
enum { MEMO_SLOTS = 2048, MEMO_INLINE = 48, MEMO_VALUE_MAX = 4096 };

struct memo_slot {
	uint64_t key_id; /* 0: empty */
	uint32_t hash;   /* of the value (and key): most other values differ here */
	uint16_t len;
	char *copy;      /* the value when longer than MEMO_INLINE */
	char value[MEMO_INLINE];
	char text[IDENT_HASH_TEXT];
};

static _Thread_local struct memo_slot *memo;

/* Wipes and frees a slot's copy, and the slot (values are identifiers). */
static void memo_clear(struct memo_slot *slot)
{
	if (slot->copy) {
		OPENSSL_cleanse(slot->copy, slot->len);
		free(slot->copy);
	}
	OPENSSL_cleanse(slot, sizeof *slot);
}

static void memo_wipe(void)
{
	for (size_t i = 0; memo && i < MEMO_SLOTS; i++)
		memo_clear(&memo[i]);
}

static void memo_free(void *table)
{
	struct memo_slot *slots = table;
	for (size_t i = 0; i < MEMO_SLOTS; i++)
		memo_clear(&slots[i]);
	free(slots);
	memo = NULL;
}

static struct thread_table memo_tables = THREAD_TABLE_INIT(memo_free);

/* The slot for `value` in this thread's table, or NULL (no table: every value is hashed). */
static struct memo_slot *memo_slot(uint64_t key_id, const void *value, size_t len, uint64_t *hash)
{
	if (!memo && !(memo = thread_table_make(&memo_tables, MEMO_SLOTS * sizeof *memo)))
		return NULL;
	uint64_t h = hash_words(value, len, key_id);
	*hash = h;
	return &memo[h % MEMO_SLOTS];
}

static const char *memo_value(const struct memo_slot *slot)
{
	return slot->len > MEMO_INLINE ? slot->copy : slot->value;
}

/* Keeps `value`'s hash text in `slot` (nothing when a long value's copy cannot be made). */
static void memo_keep(struct memo_slot *slot, uint64_t key_id, uint64_t hash, const void *value,
		      size_t len, const char text[IDENT_HASH_TEXT])
{
	char *copy = NULL;
	if (len > MEMO_INLINE && !(copy = malloc(len))) {
		memo_clear(slot);
		return;
	}
	memo_clear(slot);
	slot->copy = copy;
	memcpy(len > MEMO_INLINE ? copy : slot->value, value, len);
	slot->key_id = key_id;
	slot->hash = (uint32_t)hash;
	slot->len = (uint16_t)len;
	memcpy(slot->text, text, IDENT_HASH_TEXT);
}

int ident_hash(const struct ident_key *key, const void *value, size_t len,
	       char out[IDENT_HASH_TEXT])
{
	static const char hex[] = "0123456789abcdef";
	out[0] = '\0';
	if (len == 0)
		return 0;
	struct memo_slot *slot = NULL;
	uint64_t hash = 0;
	if (len <= MEMO_VALUE_MAX && key->id && (slot = memo_slot(key->id, value, len, &hash)) &&
	    slot->key_id == key->id && slot->hash == (uint32_t)hash && slot->len == len &&
	    memcmp(memo_value(slot), value, len) == 0) {
		memcpy(out, slot->text, IDENT_HASH_TEXT);
		return 0;
	}
	EVP_MAC_CTX *context = context_for(key);
	if (!context)
		return -1;
	unsigned char mac[EVP_MAX_MD_SIZE];
	size_t mac_len = 0;
	/* A NULL key re-initialises with the key already set: no new context. */
	if (!EVP_MAC_init(context, NULL, 0, NULL) || !EVP_MAC_update(context, value, len) ||
	    !EVP_MAC_final(context, mac, &mac_len, sizeof mac) || mac_len < MAC_BYTES_KEPT) {
		/* Its state is unknown now: the next hash starts from a fresh copy. */
		thread_context_drop();
		return -1;
	}
	for (size_t i = 0; i < MAC_BYTES_KEPT; i++) {
		out[2 * i] = hex[mac[i] >> 4];
		out[2 * i + 1] = hex[mac[i] & 0xf];
	}
	out[IDENT_HASH_HEX] = '\0';
	if (slot)
		memo_keep(slot, key->id, hash, value, len, out);
	return 0;
}

/* ---- redaction ------------------------------------------------------------ */

size_t ident_redact_max(size_t len)
{
	/* len + 31 per value, at most (len + 1) / 2 values, and the NUL. */
	size_t values = len / 2 + len % 2;
	if (values > (SIZE_MAX - 1 - len) / (IDENT_HASH_HEX - 1))
		return SIZE_MAX;
	return len + values * (IDENT_HASH_HEX - 1) + 1;
}

/* The caller's buffer; cap counts the NUL. */
struct writer {
	char *out;
	size_t cap;
	size_t len;
	enum ident_status status;
};

/*
 * One part of the input, in[start, end), with the value in[value_start,
 * value_end) inside it replaced by its hash when `hash` is set: written
 * whole or not at all. Returns 0, or -1 once the output is done (it did not
 * fit, or a hash failed: w->status says which), after which nothing more is
 * written.
 */
static int put_part(struct writer *w, const struct ident_key *key, const char *in, size_t start,
		    size_t value_start, size_t value_end, size_t end, int hash)
{
	if (w->status != IDENT_COMPLETE)
		return -1;
	size_t value_len = value_end - value_start;
	if (!hash || value_len == 0) {
		value_start = value_end = end;
		value_len = 0;
	}
	size_t kept = (end - start) - value_len;
	size_t need = kept + (value_len ? IDENT_HASH_HEX : 0);
	/* The NUL always has its byte: w->len < w->cap. */
	if (need > w->cap - 1 - w->len) {
		w->status = IDENT_TRUNCATED;
		return -1;
	}
	char *p = w->out + w->len;
	memcpy(p, in + start, value_start - start);
	p += value_start - start;
	if (value_len) {
		char text[IDENT_HASH_TEXT];
		if (ident_hash(key, in + value_start, value_len, text) != 0) {
			w->status = IDENT_FAILED;
			return -1;
		}
		memcpy(p, text, IDENT_HASH_HEX);
		p += IDENT_HASH_HEX;
	}
	memcpy(p, in + value_end, end - value_end);
	w->len += need;
	return 0;
}

static struct ident_redaction finish(struct writer *w)
{
	if (w->status == IDENT_FAILED)
		w->len = 0;
	w->out[w->len] = '\0';
	return (struct ident_redaction){ w->len, w->status };
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static const char *find(const char *in, size_t from, size_t to, char c)
{
	return from < to ? memchr(in + from, c, to - from) : NULL;
}

/*
 * A Cookie piece in[start, end): where its value is. Trimmed of blanks; the
 * value follows the first '=', its leading blanks left out; without '=' the
 * whole trimmed piece is the value.
 */
static void cookie_value(const char *in, size_t start, size_t end, size_t *value_start,
			 size_t *value_end)
{
	while (start < end && is_blank(in[start]))
		start++;
	while (end > start && is_blank(in[end - 1]))
		end--;
	const char *eq = find(in, start, end, '=');
	if (eq) {
		start = (size_t)(eq - in) + 1;
		while (start < end && is_blank(in[start]))
			start++;
	}
	*value_start = start;
	*value_end = end;
}

/*
 * Cookie and Set-Cookie: parts split before each ';'. Every piece has a
 * value (Cookie), or only the first (Set-Cookie: the rest are attributes).
 */
static struct ident_redaction redact_pieces(const struct ident_key *key, const char *in,
					    size_t len, char *out, size_t cap, int first_only)
{
	if (cap == 0)
		return (struct ident_redaction){ 0, IDENT_TRUNCATED };
	struct writer w = { out, cap, 0, IDENT_COMPLETE };
	size_t start = 0;
	for (int first = 1;; first = 0) {
		size_t piece = first ? 0 : start + 1;     /* past the ';' */
		const char *semicolon = find(in, piece, len, ';');
		size_t end = semicolon ? (size_t)(semicolon - in) : len;
		size_t value_start = end, value_end = end;
		int hash = first || !first_only;
		if (hash)
			cookie_value(in, piece, end, &value_start, &value_end);
		if (put_part(&w, key, in, start, value_start, value_end, end, hash) != 0 ||
		    end == len)
			break;
		start = end;
	}
	return finish(&w);
}

struct ident_redaction ident_redact_cookie(const struct ident_key *key, const char *in, size_t len,
					   char *out, size_t cap)
{
	return redact_pieces(key, in, len, out, cap, 0);
}

struct ident_redaction ident_redact_set_cookie(const struct ident_key *key, const char *in,
					       size_t len, char *out, size_t cap)
{
	return redact_pieces(key, in, len, out, cap, 1);
}

/* What the consent engine reads raw: IAB TCF (gdpr, gdpr_consent) and Google Consent Mode (gcs, gcd). */
static int is_consent_parameter(const char *name, size_t len)
{
	static const struct {
		const char *name;
		size_t len;
	} kept[] = {
		{ "gdpr", 4 }, { "gdpr_consent", 12 }, { "gcs", 3 }, { "gcd", 3 },
	};
	for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++)
		if (len == kept[i].len && memcmp(name, kept[i].name, len) == 0)
			return 1;
	return 0;
}

/*
 * Parameters from in[start] (the '?' or ';' before the first) to `end`,
 * split before each `separator`: the value after the first '=' hashed, or
 * the whole parameter without '='; the consent parameters' values kept.
 */
static int put_parameters(struct writer *w, const struct ident_key *key, const char *in,
			  size_t start, size_t end, char separator)
{
	for (;;) {
		size_t parameter = start + 1;   /* past the separator */
		const char *next = find(in, parameter, end, separator);
		size_t part_end = next ? (size_t)(next - in) : end;
		const char *eq = find(in, parameter, part_end, '=');
		size_t value_start = eq ? (size_t)(eq - in) + 1 : parameter;
		int hash = !eq || !is_consent_parameter(in + parameter, value_start - 1 - parameter);
		if (put_part(w, key, in, start, value_start, part_end, part_end, hash) != 0)
			return -1;
		if (part_end == end)
			return 0;
		start = part_end;
	}
}

struct ident_redaction ident_redact_query(const struct ident_key *key, const char *in, size_t len,
					  char *out, size_t cap)
{
	if (cap == 0)
		return (struct ident_redaction){ 0, IDENT_TRUNCATED };
	struct writer w = { out, cap, 0, IDENT_COMPLETE };
	const char *hash_sign = find(in, 0, len, '#');
	size_t fragment = hash_sign ? (size_t)(hash_sign - in) : len;
	const char *question = find(in, 0, fragment, '?');
	size_t path_end = question ? (size_t)(question - in) : fragment;
	const char *semicolon = find(in, 0, path_end, ';');
	size_t plain_end = semicolon ? (size_t)(semicolon - in) : path_end;

	/* The path up to its parameters holds no value: what fits of it is shown. */
	if (plain_end > cap - 1) {
		memcpy(out, in, cap - 1);
		w.len = cap - 1;
		w.status = IDENT_TRUNCATED;
		return finish(&w);
	}
	if (plain_end)
		memcpy(out, in, plain_end);
	w.len = plain_end;

	if (semicolon && put_parameters(&w, key, in, plain_end, path_end, ';') != 0)
		return finish(&w);
	if (question && put_parameters(&w, key, in, path_end, fragment, '&') != 0)
		return finish(&w);
	if (fragment < len)
		put_part(&w, key, in, fragment, fragment + 1, len, len, 1);
	return finish(&w);
}
