/*
 * hkdf: HKDF-Extract and HKDF-Expand-Label through EVP_KDF; see hkdf.h.
 */
#include "hkdf.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

static int derive(const char *digest, int mode, const uint8_t *salt, size_t salt_len,
		  const uint8_t *key, size_t key_len, const uint8_t *info, size_t info_len,
		  uint8_t *out, size_t out_len)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *ctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	OSSL_PARAM params[5], *p = params;
	*p++ = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	*p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)digest, 0);
	*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)key, key_len);
	if (mode == EVP_KDF_HKDF_MODE_EXPAND_ONLY)
		*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, info_len);
	else
		*p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, salt_len);
	*p = OSSL_PARAM_construct_end();
	int ok = ctx && EVP_KDF_derive(ctx, out, out_len, params) == 1;
	EVP_KDF_CTX_free(ctx);
	EVP_KDF_free(kdf);
	return ok ? 0 : -1;
}

int hkdf_extract(const char *digest, const uint8_t *salt, size_t salt_len, const uint8_t *key,
		 size_t key_len, uint8_t *out, size_t out_len)
{
	return derive(digest, EVP_KDF_HKDF_MODE_EXTRACT_ONLY, salt, salt_len, key, key_len, NULL, 0,
		      out, out_len);
}

int tls13_expand_label(const char *digest, const uint8_t *secret, size_t secret_len,
		       const char *label, uint8_t *out, size_t out_len)
{
	static const char prefix[] = "tls13 ";
	uint8_t info[2 + 1 + 255 + 1];
	size_t label_len = strlen(label), n = 0;
	if (sizeof prefix - 1 + label_len > 255 || out_len > 0xffff)
		return -1;
	info[n++] = (uint8_t)(out_len >> 8);
	info[n++] = (uint8_t)out_len;
	info[n++] = (uint8_t)(sizeof prefix - 1 + label_len);
	memcpy(info + n, prefix, sizeof prefix - 1);
	n += sizeof prefix - 1;
	memcpy(info + n, label, label_len);
	n += label_len;
	info[n++] = 0; /* an empty context */
	return derive(digest, EVP_KDF_HKDF_MODE_EXPAND_ONLY, NULL, 0, secret, secret_len, info, n,
		      out, out_len);
}
