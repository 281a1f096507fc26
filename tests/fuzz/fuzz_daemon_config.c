/*
 * libFuzzer harness for config_load(): the input is a trackwatch.yaml (the
 * daemon's `devices:` and `store:` sections; `lists:` is skipped here),
 * written to a temporary file (removed after each run) and loaded over
 * config_defaults(). Besides ASan's and UBSan's checks (and LeakSanitizer's,
 * for libyaml's documents and the names kept), it aborts if the call
 * returns anything but 0 or -1, fails without a "file:line: reason" error,
 * or succeeds with a configuration that breaks what config.h promises: at
 * most CONFIG_DEVICES_MAX device names, each matching a canonical MAC or an
 * address, named with 1 to 64 characters, found again by
 * config_device_name(); store values in their ranges; the path read; and
 * the SHA-256 of the file's bytes in lower-case hex.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <openssl/evp.h>

#include "../../daemon/config.h"
#include "fuzz_file.h"

/* "aa:bb:cc:dd:ee:ff": lower-case hex, colons. */
static int canonical_mac(const char *s)
{
	if (strlen(s) != 17)
		return 0;
	for (int i = 0; i < 17; i++) {
		if (i % 3 == 2) {
			if (s[i] != ':')
				return 0;
		} else if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i])) {
			return 0;
		}
	}
	return 1;
}

static int address(const char *s)
{
	unsigned char buf[16];
	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

static void check_config(const struct daemon_config *c, const char *path, const uint8_t *data,
			 size_t size)
{
	if (!c->path || strcmp(c->path, path) != 0)
		abort();
	if (c->device_count > CONFIG_DEVICES_MAX || (c->device_count && !c->devices))
		abort();
	for (size_t i = 0; i < c->device_count; i++) {
		const struct device_name *d = &c->devices[i];
		if (!d->match || !*d->match || !d->name)
			abort();
		size_t n = strlen(d->name);
		if (n < 1 || n > 64)
			abort();
		int mac = canonical_mac(d->match);
		if (!mac && !address(d->match))
			abort();
		/* Names are unique by match, so the lookup finds this very entry. */
		const char *found = mac ? config_device_name(c, d->match, NULL)
					: config_device_name(c, NULL, d->match);
		if (found != d->name)
			abort();
	}
	if (c->db_path && !*c->db_path)
		abort();
	if (c->store.batch_rows < 1 || c->store.batch_rows > 1000000)
		abort();
	if (c->store.batch_ms < 1 || c->store.batch_ms > 3600000)
		abort();
	if (c->store.max_days > 36500)
		abort();

	/* The SHA-256 of the bytes read, as 64 lower-case hex digits. */
	if (c->sha256[64] != '\0' || strlen(c->sha256) != 64)
		abort();
	unsigned char digest[32];
	unsigned int len = 0;
	if (!EVP_Digest(data, size, digest, &len, EVP_sha256(), NULL) || len != 32)
		abort();
	char hex[65];
	for (unsigned i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", digest[i]);
	if (strcmp(hex, c->sha256) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[] = "/tmp/fuzz_daemon_config.XXXXXX";
	fuzz_write_temp(path, data, size);

	struct daemon_config config;
	config_defaults(&config);
	char err[512];
	memset(err, 0, sizeof err);
	int rc = config_load(&config, path, err, sizeof err);
	unlink(path);   /* nothing is left behind, however the run ends */
	if (rc != 0 && rc != -1)
		abort();
	if (rc == -1) {
		/* "path:line: reason" (a YAML or configuration error: the file was read) */
		size_t plen = strlen(path);
		if (strncmp(err, path, plen) != 0 || err[plen] != ':' || !memchr(err, '\0', sizeof err))
			abort();
		char *end = NULL;
		strtoul(err + plen + 1, &end, 10);
		if (end == err + plen + 1 || end[0] != ':' || end[1] != ' ' || end[2] == '\0')
			abort();
	} else {
		check_config(&config, path, data, size);
	}
	config_free(&config);
	/* config_free() leaves the defaults, ready for another load. */
	if (config.devices || config.device_count || config.path || config.db_path)
		abort();
	return 0;
}
