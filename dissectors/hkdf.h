/*
 * hkdf: the two HKDF steps TLS 1.3 and QUIC derive their keys with (RFC
 * 5869, RFC 8446 7.1), through OpenSSL's EVP_KDF "HKDF", shared by the QUIC
 * reader (Initial keys) and the TLS decryptor (traffic keys).
 */
#ifndef TRACKWATCH_HKDF_H
#define TRACKWATCH_HKDF_H

#include <stddef.h>
#include <stdint.h>

/* HKDF-Extract(salt, key) with `digest` ("SHA256", "SHA384"): out_len bytes. 0 or -1. */
int hkdf_extract(const char *digest, const uint8_t *salt, size_t salt_len, const uint8_t *key,
		 size_t key_len, uint8_t *out, size_t out_len);

/*
 * HKDF-Expand-Label(secret, label, "", out_len) of RFC 8446 7.1: `label`
 * without its "tls13 " prefix, an empty context. 0 or -1.
 */
int tls13_expand_label(const char *digest, const uint8_t *secret, size_t secret_len,
		       const char *label, uint8_t *out, size_t out_len);

#endif
