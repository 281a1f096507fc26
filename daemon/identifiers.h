/*
 * identifiers: keyed hashes in place of the identifiers the sensor sees, so
 * that by default none is stored (DESIGN.md, "Privacy of the sensor itself").
 * The pipeline runs every Cookie and Set-Cookie value and every request
 * target (and Referer) through a redactor below before an observation leaves
 * it; with --keep-identifiers it does not, and this module does not know.
 *
 * The hash: HMAC-SHA256 of the value's bytes under the key, its first 128
 * bits as 32 lower-case hex digits ("3a0c...e1", IDENT_HASH_HEX characters).
 * The same key gives the same text for the same bytes in every run and every
 * context (a value in a Cookie and the same bytes in a query string hash
 * alike, so an identifier passed from a cookie into a URL still shows), so
 * captures hashed with one key can be joined; without the key, a guessed
 * value cannot be checked. An empty value is not hashed: it stays empty,
 * since an empty cookie is no identifier and consent analysis wants to see it.
 *
 * A key may be shared read-only by any number of threads: each thread keeps
 * its own copy of the keyed HMAC state, made on its first hash and reused.
 */
#ifndef TRACKWATCH_IDENTIFIERS_H
#define TRACKWATCH_IDENTIFIERS_H

#include <stddef.h>
#include <sys/types.h>
#include <stdint.h>

#include <openssl/types.h>

enum {
	IDENT_KEY_MIN = 16,      /* bytes a key file must hold at least */
	IDENT_KEY_MAX = 1024,    /* and at most */
	IDENT_KEY_RANDOM = 32,   /* bytes of a random key */
	IDENT_HASH_HEX = 32,     /* characters of a hash text: 128 bits in hex */
	IDENT_HASH_TEXT = IDENT_HASH_HEX + 1, /* with its NUL */
};

/* Set by ident_key_random(), ident_key_load() or ident_key_set(); fields are the module's. */
struct ident_key {
	EVP_MAC_CTX *keyed;      /* HMAC-SHA256 with the key; only ever copied */
	uint64_t id;             /* unique per key set up, 0 when none: names the
				    key to the per-thread copies */
};

/* A fresh random key (IDENT_KEY_RANDOM bytes from getrandom(2)): hashes join within the run only. Returns 0 or -1. */
int ident_key_random(struct ident_key *key);

/*
 * The key in the file at `path`: its bytes as they are (a trailing newline
 * is part of the key), IDENT_KEY_MIN to IDENT_KEY_MAX of them; make one with
 * `head -c 32 /dev/urandom > key`. Returns 0, or -1 with a message naming
 * the path in `err` (may be NULL).
 */
int ident_key_load(struct ident_key *key, const char *path, char *err, size_t err_len);

/*
 * The key of the database at `db_path`: the file `db_path`.key, made with
 * IDENT_KEY_RANDOM random bytes and mode 0600 when it does not exist yet, so
 * that every run into one database hashes alike (equal values still compare
 * equal across runs) and the database can be handed on without its key. A
 * key file others may read is refused, and one of another user, but for
 * `daemon_uid` ((uid_t)-1 for none): a root daemon that runs as its own user
 * gave the key to that user on an earlier start. Returns 0, or -1 with a
 * message.
 */
int ident_key_for_database(struct ident_key *key, const char *db_path, uid_t daemon_uid, char *err,
			   size_t err_len);

/*
 * The key from `secret`, 1 to IDENT_KEY_MAX bytes (no minimum: the tests
 * use RFC 4231's keys; a key file has one). Returns 0 or -1.
 */
int ident_key_set(struct ident_key *key, const void *secret, size_t len);

/* Forgets the key (and the calling thread's copy of it); safe on a zeroed key. Other threads' copies go when they hash with another key or exit. */
void ident_key_free(struct ident_key *key);

/*
 * The hash text of `len` bytes at `value` into `out`: 32 hex digits and a
 * NUL, or "" when len is 0. Returns 0, or -1 (out "") when OpenSSL fails.
 */
int ident_hash(const struct ident_key *key, const void *value, size_t len,
	       char out[IDENT_HASH_TEXT]);

/*
 * The redactors. Each copies its input into `out` with every value replaced
 * by its hash text and everything else kept byte for byte: names, '=',
 * separators, spaces, attributes (bytes from the wire: the writer escapes
 * them later). A value is hashed as its raw bytes: quotes, '+' and
 * percent-escapes included, never decoded. The '=' is printed exactly when
 * it was on the wire, so a hash without a name and '=' before it is a value
 * sent without a name.
 *
 * `out` holds `cap` bytes and always ends with a NUL (unless cap is 0, when
 * nothing is written and out may be NULL); the result never reaches past
 * out[cap - 1]. When the whole does not fit, the output stops at a boundary
 * (before the ';', '&', '?' or '#' that starts the next part): it is a
 * prefix of the full output, holds whole parts only and never a part of a
 * value (a target's plain path is the one exception, see below).
 * A cap of ident_redact_max(len) always fits.
 *
 * Input may hold any byte (NUL included): use the length, not strlen().
 */
enum ident_status {
	IDENT_COMPLETE = 0,  /* all of it fitted */
	IDENT_TRUNCATED,     /* out holds the parts that fitted, cut at a boundary */
	IDENT_FAILED,        /* a hash failed (OpenSSL): out is "" */
};

struct ident_redaction {
	size_t len;          /* bytes in out before the NUL; always < cap */
	enum ident_status status;
};

/*
 * A Cookie request header value, "a=1; b=xyz; c" (RFC 6265 sections 4.2.1
 * and 5.4), read as browsers and servers do: split on ';'; each piece
 * trimmed of spaces and tabs; its name before the first '=', its value the
 * rest, trimmed ("b=x=y" has the value "x=y", "q=\"v\"" the value "\"v\"");
 * a piece without '=' is a value without a name, as browsers take it.
 * "a=1; b=xyz; c" gives "a=<hash>; b=<hash>; <hash>"; "a=; =v" gives
 * "a=; =<hash>". Empty pieces (";;") are kept as they are.
 */
struct ident_redaction ident_redact_cookie(const struct ident_key *key, const char *in, size_t len,
					   char *out, size_t cap);

/*
 * A Set-Cookie response header value (RFC 6265 section 5.2): the name-value
 * pair before the first ';' is read as a Cookie piece above, its value
 * hashed; the attributes from that ';' on (Path, Domain, Expires, Max-Age,
 * SameSite, Secure, HttpOnly, and any other) are kept byte for byte, since
 * consent analysis reads them. A pair without '=', which browsers ignore, is
 * hashed whole all the same: it may be an identifier. "id=; Max-Age=0" (a
 * deletion) stays as it is.
 */
struct ident_redaction ident_redact_set_cookie(const struct ident_key *key, const char *in,
					       size_t len, char *out, size_t cap);

/*
 * An HTTP request target or a Referer, "/p/a?x=1&uid=abc&gdpr=1#top" (or
 * "http://host/p?..."): the query, from the first '?' to the first '#', is
 * split on '&' only (as the URL standard and browsers do: a ';' there is
 * part of a value, hashed with it); each parameter's value after its first
 * '=' is hashed, and a parameter without '=' ("?abc123") is hashed whole,
 * since a bare token may be an identifier. Empty parameters ("&&", a
 * trailing '&', "?" alone) stay as they are.
 *
 * The path before the query is kept up to its first ';'. From there to the
 * '?' it holds parameters separated by ';', read and hashed as the query's
 * are: servlet session ids ("/a;jsessionid=1A2B") and pixels that put their
 * cookie ids there ("/pixel;r=1;fpa=P0-146...") are identifiers. Their
 * values run to the next ';', '/' included ("/p;x=1/q" hashes "1/q").
 * Identifiers in plain path segments ("/user/12345") are not recognised.
 *
 * Kept raw, because the consent engine reads them: the values of `gdpr`,
 * `gdpr_consent` (IAB TCF), `gcs` and `gcd` (Google Consent Mode): exact
 * names, case as sent; an escaped name ("gdpr%5Fconsent") or a longer one
 * ("gdpr_consent2") is not one of them.
 *
 * A fragment (rare on the wire) is hashed whole: "#top" gives "#<hash>".
 * The path before its first ';' holds no value, so unlike the rest it may
 * be cut at any byte when it alone does not fit.
 */
struct ident_redaction ident_redact_query(const struct ident_key *key, const char *target,
					  size_t len, char *out, size_t cap);

/*
 * A cap with which no redactor truncates an input of `len` bytes (each value
 * of at least 1 byte grows to 32, and values are at least one separator
 * apart); SIZE_MAX when that would overflow.
 */
size_t ident_redact_max(size_t len);

#endif
