/*
 * tlsdec: decryption of one TLS connection (both directions) with secrets
 * from a key log (dissectors/keylog.h), for the dissect stage (issue 8).
 *
 * It is fed each direction's bytes as TCP reassembly delivers them, from the
 * first byte of the connection (chunks of any size), reads the records
 * itself (across segments), the ClientHello (client random, offered
 * versions), the ServerHello (version, cipher suite, server random, the
 * encrypt_then_mac extension, ALPN of TLS <= 1.2) and, once it can decrypt,
 * the handshake messages it needs (TLS 1.3: EncryptedExtensions' ALPN,
 * Finished, KeyUpdate), and gives the application data of each direction,
 * in order, to a callback.
 *
 * TLS 1.3 (RFC 8446): handshake and application traffic secrets from the
 * key log, HKDF-Expand-Label for key and IV, KeyUpdate (next generation of
 * the secret), resumption (PSK: the key log has the same labels).
 * AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305; AES-128-CCM (0x1304) too if
 * OpenSSL's EVP does it. TLS 1.2 and 1.1 (RFC 5246): the key block from the
 * master secret with the TLS PRF (P_SHA256, or P_SHA384 for SHA384 suites),
 * AES-GCM, ChaCha20-Poly1305 (RFC 7905), AES-CBC with HMAC-SHA1/256/384 in
 * MAC-then-encrypt and encrypt-then-MAC (RFC 7366), TLS 1.0's implicit IV
 * included. Left out (TLSDEC_END_UNSUPPORTED): CCM_8, TLS 1.2 CCM, 3DES, RC4,
 * CAMELLIA, ARIA, NULL suites, SSL 3.0, compression, TLS 1.2 renegotiation;
 * TLS 1.3 0-RTT data is skipped. All cryptography through
 * OpenSSL 3's EVP interfaces (EVP_CIPHER, EVP_MAC or HMAC via EVP, EVP_KDF
 * "HKDF"/"TLS1-PRF"), none written by hand.
 *
 * Keys may come after the records they open (a browser writes its key log
 * as it connects; live capture reads it a little later): records that
 * cannot be decrypted yet are held, at most TLSDEC_HOLD_MAX bytes a
 * direction, and decrypted by the next tlsdec_feed() or tlsdec_retry() once
 * the key is there. Records held for the other side's hello (the server has
 * not answered yet) are bounded lower, TLSDEC_PEER_HOLD_MAX: a client talking
 * on to nobody is no connection to wait for. Past a bound, or when the
 * connection is not TLS, the decryptor ends (a final state, NO_KEY) and holds
 * nothing.
 *
 * A record that fails authentication (or padding/MAC in CBC) ends decryption
 * of the connection: counted, never a crash, nothing more is given. A
 * connection whose start was not seen (its first record is no hello) ends
 * as TLSDEC_END_BAD_RECORD; a secret of the wrong length as NO_KEY.
 *
 * Callbacks must not call back into the same decryptor. The data callback
 * may be called for the direction not being fed (records held for the other
 * side's hello or for a key, released); the key callback is asked again on
 * every feed or retry while a key is missing. When both sides waited, the
 * client's records are given first: in TLS 1.3 its first data may come
 * before the server's EncryptedExtensions is read (alpn still ""). Every
 * length from the wire is checked; derived keys are wiped (OPENSSL_cleanse)
 * when the connection's decryptor is freed or ends.
 */
#ifndef TRACKWATCH_TLSDEC_H
#define TRACKWATCH_TLSDEC_H

#include <stddef.h>
#include <stdint.h>

#include "keylog.h"

enum {
	TLSDEC_HOLD_MAX = 256 << 10,     /* bytes held a direction while a key is awaited */
	TLSDEC_PEER_HOLD_MAX = 64 << 10, /* bytes held while the other side's hello is awaited */
	TLSDEC_ALPN_MAX = 256,
};

/* Where a decryptor stands; keep tlsdec_end_name() in step. Anything but MORE is final. */
enum tlsdec_end {
	TLSDEC_MORE = 0,          /* reading (or holding records until a key comes) */
	TLSDEC_END_NOT_TLS,       /* the stream is not TLS records */
	TLSDEC_END_NO_KEY,        /* the key never came within the hold bound */
	TLSDEC_END_UNSUPPORTED,   /* a version or cipher suite not decrypted (named in stats) */
	TLSDEC_END_AUTH_FAILED,   /* a record failed authentication (tag, MAC or padding) */
	TLSDEC_END_BAD_RECORD,    /* a record or handshake message that does not parse */
	TLSDEC_END_NO_MEMORY,
	TLSDEC_END_COUNT,
};
const char *tlsdec_end_name(enum tlsdec_end end);

/*
 * Finds a secret: copies it to `out` and returns its length, or 0 when the
 * key log has none (yet). Usually keylog_lookup() on the pipeline's store.
 */
typedef size_t (*tlsdec_key_fn)(void *context, const uint8_t client_random[KEYLOG_RANDOM_LEN],
				enum keylog_label label, uint8_t out[KEYLOG_SECRET_MAX]);

/*
 * Application data, in order: `from_server` 1 for the server's direction.
 * Called from within tlsdec_feed()/tlsdec_retry(); the bytes are valid
 * during the call only.
 */
typedef void (*tlsdec_data_fn)(void *context, int from_server, const uint8_t *data, size_t len);

struct tlsdec_info {
	uint16_t version;             /* negotiated: 0x0303 TLS 1.2, 0x0304 TLS 1.3 ... (0: not yet) */
	uint16_t cipher_suite;
	char alpn[TLSDEC_ALPN_MAX];   /* negotiated protocol, "" when none or not yet known */
	uint64_t records_decrypted[2];/* [from_server] */
	uint64_t plaintext_bytes[2];
	uint64_t key_updates[2];
};

struct tlsdec;

struct tlsdec *tlsdec_new(tlsdec_key_fn key, tlsdec_data_fn data, void *context);
/* Wipes the keys, frees. NULL is fine. */
void tlsdec_free(struct tlsdec *dec);

/* The next bytes of one direction. Returns where the decryptor stands. */
enum tlsdec_end tlsdec_feed(struct tlsdec *dec, int from_server, const uint8_t *data, size_t len);

/* The key log has new secrets: try the held records again. */
enum tlsdec_end tlsdec_retry(struct tlsdec *dec);

/* Whether records are held waiting for a key (so that the caller knows to call tlsdec_retry). */
int tlsdec_waiting(const struct tlsdec *dec);

const struct tlsdec_info *tlsdec_info(const struct tlsdec *dec);

#endif
