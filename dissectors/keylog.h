/*
 * keylog: TLS secrets from NSS key log files (the SSLKEYLOGFILE format that
 * Chrome, Firefox, curl and OpenSSL write), for decrypting the connections
 * of a test device (issue 8). Three sources: a file read whole, a file
 * followed by name while it grows (as `tail -F` follows: absent at first,
 * truncated, replaced), and the Decryption Secrets Blocks of a pcapng file.
 *
 * A line is "LABEL <client_random hex, 64 digits> <secret hex>"; '#' lines
 * and blank lines are comments (https://firefox-source-docs.mozilla.org/
 * security/nss/legacy/key_log_format/). Labels read: CLIENT_RANDOM (TLS 1.2
 * and before: the 48-byte master secret) and the TLS 1.3 traffic secrets
 * (1 to 64 bytes: 32 or 48 in practice). Other labels (EXPORTER_SECRET, ECH, RSA ...) are
 * counted and skipped. A line that does not parse is counted, with the
 * first such line's "source:line: reason", never fatal: a key log is
 * written by a browser while we read it.
 *
 * Secrets are indexed by client random. They never leave this module but
 * through keylog_lookup(), are never logged, and are wiped (OPENSSL_cleanse)
 * when the store is freed or an entry is dropped. The store is bounded
 * (KEYLOG_ENTRIES_MAX client randoms; the oldest go first).
 *
 * Not thread-safe: one thread adds and looks up (the capture thread).
 */
#ifndef TRACKWATCH_KEYLOG_H
#define TRACKWATCH_KEYLOG_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum {
	KEYLOG_RANDOM_LEN = 32,
	KEYLOG_SECRET_MAX = 64,          /* the longest secret kept (SHA-512 sized) */
	KEYLOG_LINE_MAX = 1024,          /* a longer line is counted as bad and skipped */
	KEYLOG_ENTRIES_MAX = 1 << 16,    /* client randoms kept at once */
	KEYLOG_ERROR_MAX = 512,
};

enum keylog_label {
	KEYLOG_MASTER_SECRET,               /* CLIENT_RANDOM: TLS <= 1.2, 48 bytes */
	KEYLOG_CLIENT_EARLY_TRAFFIC_SECRET,
	KEYLOG_CLIENT_HANDSHAKE_TRAFFIC_SECRET,
	KEYLOG_SERVER_HANDSHAKE_TRAFFIC_SECRET,
	KEYLOG_CLIENT_TRAFFIC_SECRET_0,
	KEYLOG_SERVER_TRAFFIC_SECRET_0,
	KEYLOG_LABEL_COUNT,
};

/*
 * The label as the file writes it: "CLIENT_RANDOM", "CLIENT_HANDSHAKE_TRAFFIC_SECRET", ...;
 * "(unknown)" out of range.
 */
const char *keylog_label_name(enum keylog_label label);

struct keylog_stats {
	uint64_t lines;          /* lines read, comments included */
	uint64_t secrets;        /* secrets stored (a repeated line counts once; a different
				    secret for the same random and label replaces the old
				    and counts again) */
	uint64_t skipped;        /* well-formed lines of labels not used */
	uint64_t bad;            /* lines that did not parse */
	uint64_t evicted;        /* client randoms dropped for room */
	char first_error[KEYLOG_ERROR_MAX]; /* "source:line: reason" of the first bad line, or "" */
};

struct keylog;

struct keylog *keylog_new(void);
/* Wipes every secret, then frees. NULL is fine. */
void keylog_free(struct keylog *keylog);
const struct keylog_stats *keylog_stats(const struct keylog *keylog);
/* How many client randoms have at least one secret. */
size_t keylog_count(const struct keylog *keylog);

/*
 * Reads the lines in `text` (`len` bytes; NUL bytes make a line bad). A last
 * line without a newline is read too (a file read whole). `source` names
 * where they came from, for the first error; `first_line` is the number of
 * the first line (1 for a file read from its start). Returns the number of
 * secrets stored.
 */
size_t keylog_add_text(struct keylog *keylog, const char *text, size_t len, const char *source,
		       uint64_t first_line);

/*
 * The secret of `label` for this client random: copied to `out`, its length
 * returned (32, 48 ...), or 0 when there is none.
 */
size_t keylog_lookup(const struct keylog *keylog, const uint8_t client_random[KEYLOG_RANDOM_LEN],
		     enum keylog_label label, uint8_t out[KEYLOG_SECRET_MAX]);

/*
 * A whole file at once (-k of a finished capture). 0, or -1 with the reason
 * in `error`; secrets read before an error stay in the store.
 */
int keylog_read_file(struct keylog *keylog, const char *path, char *error, size_t error_len);

/*
 * A key log followed by name while a browser writes it. keylog_follow_new()
 * never fails for a missing file: it is waited for. keylog_follow_poll()
 * reads the complete lines added since the last poll (a partial last line
 * waits for its newline), starts again from the beginning when the file was
 * truncated or replaced (another inode; the old file's remaining complete
 * lines are read first), and returns the number of secrets
 * stored, or -1 with the reason in `error` for an error other than the file
 * being absent (a directory, no permission). Cheap when nothing changed
 * (one stat). As with `tail -F`, a file truncated and written again to at
 * least its old size between two polls is not noticed.
 */
struct keylog_follow;
struct keylog_follow *keylog_follow_new(const char *path);
ssize_t keylog_follow_poll(struct keylog_follow *follow, struct keylog *keylog, char *error,
			   size_t error_len);
const char *keylog_follow_path(const struct keylog_follow *follow);
void keylog_follow_free(struct keylog_follow *follow);

/*
 * The TLS key logs in the Decryption Secrets Blocks (block type 0x0000000A,
 * secrets type 0x544c534b "TLSK") of a pcapng file, read with a small block
 * reader of our own (libpcap does not give them). A pcap file (not pcapng)
 * has none: 0. Secrets of the blocks before a bad one stay in the store. Returns the number of secrets stored, or -1 with the reason
 * (naming the file and the byte offset of the bad block) in `error`.
 */
ssize_t keylog_read_pcapng_secrets(struct keylog *keylog, const char *path, char *error,
				   size_t error_len);

#endif
