/*
 * The daemon's configuration sections (daemon/config.h): device names by
 * MAC or address in their canonical forms, the store's settings and their
 * bounds, and errors naming file, line and key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../daemon/config.h"

static char dir[] = "/tmp/tw-config-XXXXXX";
static char path[128];

static const char *write_config(const char *text, size_t len)
{
	snprintf(path, sizeof path, "%s/trackwatch.yaml", dir);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	return path;
}

static int load(struct daemon_config *c, const char *text, char *err, size_t err_len)
{
	config_defaults(c);
	return config_load(c, write_config(text, strlen(text)), err, err_len);
}

static void test_devices(void **state)
{
	(void)state;
	struct daemon_config c;
	char err[512] = "";
	int rc = load(&c,
		      "lists: []\n"
		      "devices:\n"
		      "  \"AA-BB-CC-DD-EE-0F\": tablet\n"
		      "  10.99.0.2: laptop\n"
		      "  \"2001:DB8::0001\": phone\n", err, sizeof err);
	if (rc != 0)
		fail_msg("%s", err);
	assert_int_equal(c.device_count, 3);
	/* Found by the texts the sensor writes: lower-case MACs, canonical addresses. */
	assert_string_equal(config_device_name(&c, "aa:bb:cc:dd:ee:0f", NULL), "tablet");
	assert_string_equal(config_device_name(&c, NULL, "10.99.0.2"), "laptop");
	assert_string_equal(config_device_name(&c, NULL, "2001:db8::1"), "phone");
	/* The MAC first, then the address. */
	assert_string_equal(config_device_name(&c, "aa:bb:cc:dd:ee:0f", "10.99.0.2"), "tablet");
	assert_string_equal(config_device_name(&c, "02:00:00:00:00:01", "10.99.0.2"), "laptop");
	assert_null(config_device_name(&c, "02:00:00:00:00:01", "10.99.0.3"));
	assert_int_equal(strlen(c.sha256), 64);
	assert_string_equal(c.path, path);
	config_free(&c);
}

static void test_store(void **state)
{
	(void)state;
	struct daemon_config c;
	char err[512] = "";
	config_defaults(&c);
	assert_int_equal(c.store.batch_rows, 16384);
	assert_int_equal(c.store.batch_ms, 1000);
	assert_int_equal(c.store.max_days, 0);
	assert_null(c.db_path);
	int rc = load(&c, "store:\n  path: /var/lib/tw.db\n  max_days: 90\n  batch_rows: 1\n"
			  "  batch_ms: 3600000\n", err, sizeof err);
	if (rc != 0)
		fail_msg("%s", err);
	assert_string_equal(c.db_path, "/var/lib/tw.db");
	assert_int_equal(c.store.max_days, 90);
	assert_int_equal(c.store.batch_rows, 1);
	assert_int_equal(c.store.batch_ms, 3600000);
	config_free(&c);
	/* An empty file is the defaults. */
	assert_int_equal(load(&c, "", err, sizeof err), 0);
	assert_int_equal(c.device_count, 0);
	config_free(&c);
}

/* A bad file: an error naming the file and line, and the text given. */
static void bad(const char *text, size_t len, unsigned line, const char *reason)
{
	struct daemon_config c;
	char err[512] = "";
	config_defaults(&c);
	if (config_load(&c, write_config(text, len), err, sizeof err) == 0)
		fail_msg("accepted: %s", text);
	char where[160];
	snprintf(where, sizeof where, "%s:%u: ", path, line);
	if (strncmp(err, where, strlen(where)) != 0 || !strstr(err, reason))
		fail_msg("'%s' for %s (want %s... %s)", err, text, where, reason);
	config_free(&c);
}

static void test_errors(void **state)
{
	(void)state;
#define BAD(text, line, reason) bad(text, sizeof text - 1, line, reason)
	BAD("devices:\n  not-a-mac: x\n", 2, "neither a MAC");
	BAD("devices:\n  \"aa:bb:cc:dd:ee\": x\n", 2, "neither a MAC");
	BAD("devices:\n  \"aa:bb-cc:dd:ee:ff\": x\n", 2, "neither a MAC");
	BAD("devices:\n  10.0.0.256: x\n", 2, "neither a MAC");
	BAD("devices:\n  10.0.0.1: \"\"\n", 2, "1 to 64 characters");
	BAD("devices:\n  \"AA:BB:CC:DD:EE:FF\": x\n  \"aa-bb-cc-dd-ee-ff\": y\n", 3, "named twice");
	BAD("devices:\n  \"::1\": x\n  \"0::0001\": y\n", 3, "named twice");
	BAD("devices:\n  - 10.0.0.1\n", 2, "must be a mapping");
	BAD("store:\n  batch_rows: 0\n", 2, "'batch_rows' must be a whole number from 1");
	BAD("store:\n  batch_ms: 3600001\n", 2, "'batch_ms'");
	BAD("store:\n  max_days: -1\n", 2, "'max_days'");
	BAD("store:\n  max_days: 3x\n", 2, "'max_days'");
	BAD("store:\n  colour: blue\n", 2, "unknown key 'colour'");
	BAD("store:\n  path: \"\"\n", 2, "'path'");
	BAD("storage: {}\n", 1, "unknown key 'storage'");
	BAD("- a\n- b\n", 1, "must be a mapping of keys");
	BAD("store: [\n", 2, "");
	/* A NUL inside a value is not cut short to what comes before it. */
	BAD("store:\n  batch_rows: \"5\\0 rows\"\n", 2, "'batch_rows'");
	BAD("devices:\n  \"10.0.0.1\\0junk\": x\n", 2, "neither a MAC");
#undef BAD
	struct daemon_config c;
	char err[512] = "";
	config_defaults(&c);
	assert_int_equal(config_load(&c, "/nonexistent/trackwatch.yaml", err, sizeof err), -1);
	assert_non_null(strstr(err, "/nonexistent/trackwatch.yaml: "));
	config_free(&c);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_devices),
		cmocka_unit_test(test_store),
		cmocka_unit_test(test_errors),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);
	unlink(path);
	rmdir(dir);
	return failed;
}
