/*
 * libFuzzer harness for config_load(): the input is a trackwatch.yaml (the
 * daemon's sections of the settings table; `lists:` is skipped here),
 * written to a temporary file (removed after each run) and loaded over
 * config_defaults(). Besides ASan's and UBSan's checks (and LeakSanitizer's,
 * for libyaml's documents and the names kept), it aborts if the call
 * returns anything but 0 or -1, fails without a "file:line: reason" error,
 * or succeeds with a configuration that breaks what config.h promises: at
 * most CONFIG_DEVICES_MAX device names, each matching a canonical MAC or an
 * address, named with 1 to 64 characters, found again by
 * config_device_name(); every unsigned setting within the table's bounds,
 * every string setting NULL or non-empty, a filter that compiles, not both
 * identifiers.keep and identifiers.key; the path read; the SHA-256 of the
 * file's bytes in lower-case hex; and config_dump()'s text read back to the
 * same settings.
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
	for (size_t i = 0; i < config_setting_count; i++) {
		const struct config_setting *s = &config_settings[i];
		const char *at = (const char *)c + s->offset;
		if (s->type == CONFIG_UNSIGNED) {
			unsigned v = *(const unsigned *)at;
			if (v < s->min || v > s->max)
				abort();
		} else if (s->type == CONFIG_STRING || s->type == CONFIG_PATH) {
			const char *text = *(char *const *)at;
			if (text && !*text)
				abort();
		}
	}
	char reason[512];
	if (c->filter && config_filter_check(c->filter, reason, sizeof reason) != 0)
		abort();
	if (c->keep_identifiers && c->identifier_key)
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

static int same_text(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* The dump of c, loaded again, gives the same settings. */
static void check_dump(const struct daemon_config *c)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	if (!out)
		abort();
	config_dump(c, out, NULL, NULL);
	if (fclose(out) != 0)
		abort();
	char path[] = "/tmp/fuzz_daemon_config_dump.XXXXXX";
	fuzz_write_temp(path, (const uint8_t *)text, len);
	struct daemon_config back;
	config_defaults(&back);
	char err[512] = "";
	int rc = config_load(&back, path, err, sizeof err);
	unlink(path);
	if (rc != 0) {
		fprintf(stderr, "dump does not load: %s\n%s\n", err, text);
		abort();
	}
	if (back.device_count != c->device_count)
		abort();
	for (size_t i = 0; i < c->device_count; i++)
		if (strcmp(back.devices[i].match, c->devices[i].match) != 0 ||
		    strcmp(back.devices[i].name, c->devices[i].name) != 0)
			abort();
	for (size_t i = 0; i < config_setting_count; i++) {
		const struct config_setting *s = &config_settings[i];
		const char *a = (const char *)c + s->offset, *b = (const char *)&back + s->offset;
		if ((s->type == CONFIG_UNSIGNED && *(const unsigned *)a != *(const unsigned *)b) ||
		    (s->type == CONFIG_BOOL && *(const bool *)a != *(const bool *)b) ||
		    ((s->type == CONFIG_STRING || s->type == CONFIG_PATH) &&
		     !same_text(*(char *const *)a, *(char *const *)b)))
			abort();
		if (s->type == CONFIG_ENUM && *(const unsigned *)a != *(const unsigned *)b)
			abort();
		if (s->type == CONFIG_LIST &&
		    !config_list_equal((const struct config_list *)a, (const struct config_list *)b))
			abort();
	}
	config_free(&back);
	free(text);
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
		fuzz_check_file_error(err, sizeof err, path);
	} else {
		check_config(&config, path, data, size);
		check_dump(&config);
	}
	config_free(&config);
	/* config_free() leaves the defaults, ready for another load. */
	if (config.devices || config.device_count || config.path || config.db_path ||
	    config.interfaces.count || config.interfaces.items || config.filter ||
	    config.identifier_key || config.consent_rules || config.control_socket ||
	    config.control_group || config.user)
		abort();
	return 0;
}
