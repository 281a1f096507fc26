/*
 * The daemon's configuration sections (daemon/config.h): device names by
 * MAC or address in their canonical forms, the settings of the table and
 * their bounds, errors naming file, line and key, --dump-config's text read
 * back to the same values, and every key of the table in the dump and in
 * trackwatch.yaml(5) (run from the top of the tree, as `make unit` does).
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

#include "../../blocklists/yamlfile.h"
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
	BAD("store:\n  batch_rows: ~\n", 2, "'batch_rows' must be a whole number");
	BAD("store: 5\n", 1, "'store' must be a mapping (path, max_days, batch_rows, batch_ms, queue_mb)");
	BAD("consent:\n  rules: [a]\n", 2, "consent: 'rules' must be a file name");
	BAD("consent:\n  colour: x\n", 2, "consent: unknown key 'colour' (known: rules)");
	BAD("capture:\n  interface: \"\"\n", 2, "capture: 'interface' must be a name or a list of names");
	BAD("capture:\n  interface: {eth0: x}\n", 2, "capture: 'interface' must be a name or a list of names");
	BAD("capture:\n  interface: [eth0, \"\"]\n", 2, "capture: 'interface' must be a list of non-empty names");
	BAD("capture:\n  interface: [eth0, [eth1]]\n", 2, "capture: 'interface' must be a list of non-empty names");
	BAD("capture:\n  interface:\n    - eth0\n    - eth0\n", 4, "capture: 'interface' names 'eth0' twice");
	BAD("log:\n  level: loud\n", 2, "log: 'level' must be one of error, warning, notice, info, debug");
	BAD("log:\n  level: [debug]\n", 2, "log: 'level' must be one of");
	BAD("log:\n  colour: x\n", 2, "log: unknown key 'colour' (known: level)");
	BAD("daemon:\n  user: \"\"\n", 2, "daemon: 'user' must be a non-empty string");
	BAD("control:\n  socket: [a]\n", 2, "control: 'socket' must be a file name");
	BAD("control:\n  mode: 0600\n", 2, "control: unknown key 'mode' (known: socket, group)");
	BAD("store:\n  queue_mb: 0\n", 2, "store: 'queue_mb' must be a whole number from 1 to 4096");
	BAD("capture:\n  interfaces: [eth0]\n", 2, "capture: unknown key 'interfaces' (known: interface, filter)");
	BAD("capture:\n  filter: \"port port\"\n", 2, "capture: 'filter' does not compile: ");
	BAD("capture: [eth0]\n", 1, "'capture' must be a mapping (interface, filter)");
	BAD("flows:\n  max: 0\n", 2, "flows: 'max' must be a whole number from 1 to 268435456");
	BAD("flows:\n  max: 268435457\n", 2, "flows: 'max'");
	BAD("flows:\n  tcp_timeout: 86401\n", 2, "flows: 'tcp_timeout' must be a whole number from 1 to 86400");
	BAD("flows:\n  udp_timeout: 0\n", 2, "flows: 'udp_timeout'");
	BAD("flows:\n  udp_timeout: 18446744073709551616\n", 2, "flows: 'udp_timeout'");
	BAD("identifiers:\n  keep: yes\n", 2, "identifiers: 'keep' must be true or false");
	BAD("identifiers:\n  keep: true\n  key: /etc/k\n", 3, "'keep' and 'key' cannot both be set");
	BAD("capture:\n  interface: eth0\ncolour: blue\n", 3,
	    "unknown key 'colour' (this version knows: lists, devices, capture, flows, identifiers, store,"
	    " consent, tls, control, daemon, log)");
	BAD("devices:\n  \"10.0.0.1\\0junk\": x\n", 2, "neither a MAC");
#undef BAD
	struct daemon_config c;
	char err[512] = "";
	config_defaults(&c);
	assert_int_equal(config_load(&c, "/nonexistent/trackwatch.yaml", err, sizeof err), -1);
	assert_non_null(strstr(err, "/nonexistent/trackwatch.yaml: "));
	config_free(&c);
}

static void test_settings(void **state)
{
	(void)state;
	struct daemon_config c;
	char err[512] = "";
	config_defaults(&c);
	assert_int_equal(c.interfaces.count, 0);
	assert_null(c.filter);
	assert_int_equal(c.log_level, LOG_LEVEL_NOTICE);
	assert_int_equal(c.queue_mb, 16);
	assert_null(c.control_socket);
	assert_null(c.user);
	assert_int_equal(c.max_flows, 65536);
	assert_int_equal(c.tcp_timeout, 300);
	assert_int_equal(c.udp_timeout, 60);
	assert_false(c.keep_identifiers);
	assert_null(c.identifier_key);
	/* The table's store defaults are the store's own. */
	struct store_options defaults;
	store_options_defaults(&defaults);
	assert_memory_equal(&c.store, &defaults, sizeof defaults);
	int rc = load(&c,
		      "capture:\n  interface: eth1\n  filter: \"port 53 or port 443\"\n"
		      "flows: {max: 1, tcp_timeout: 86400, udp_timeout: 1}\n"
		      "identifiers:\n  keep: true\n  key: ~\n"
		      "consent:\n  rules: rules.yaml\n", err, sizeof err);
	if (rc != 0)
		fail_msg("%s", err);
	assert_int_equal(c.interfaces.count, 1);
	assert_string_equal(c.interfaces.items[0], "eth1");
	assert_string_equal(c.filter, "port 53 or port 443");
	assert_int_equal(c.max_flows, 1);
	assert_int_equal(c.tcp_timeout, 86400);
	assert_int_equal(c.udp_timeout, 1);
	assert_true(c.keep_identifiers);
	assert_null(c.identifier_key);
	assert_string_equal(c.consent_rules, "rules.yaml");
	config_free(&c);
	/* A section left empty (its settings commented out) sets nothing. */
	rc = load(&c, "devices:\n  # 10.0.0.1: x\ncapture:\n  # interface: eth0\nflows: ~\n", err,
		  sizeof err);
	if (rc != 0)
		fail_msg("%s", err);
	assert_int_equal(c.interfaces.count, 0);
	assert_int_equal(c.device_count, 0);
	assert_int_equal(c.max_flows, 65536);
	config_free(&c);
	/* A plain null unsets what has no default; the last value given holds. */
	/* A list of interfaces, the log level, the daemon's user and socket. */
	rc = load(&c, "capture:\n  interface: [eth1, \"wlan 0\"]\nlog: {level: debug}\n"
		  "daemon: {user: tw}\ncontrol: {socket: /tmp/s, group: adm}\n", err, sizeof err);
	if (rc != 0)
		fail_msg("%s", err);
	assert_int_equal(c.interfaces.count, 2);
	assert_string_equal(c.interfaces.items[1], "wlan 0");
	assert_int_equal(c.log_level, LOG_LEVEL_DEBUG);
	assert_string_equal(c.user, "tw");
	assert_string_equal(c.control_socket, "/tmp/s");
	assert_string_equal(c.control_group, "adm");
	config_free(&c);
	/* 64 interfaces at most. */
	char many[2048] = "capture:\n  interface: [";
	for (int i = 0; i < 65; i++)
		snprintf(many + strlen(many), sizeof many - strlen(many), "%se%d", i ? ", " : "", i);
	strcat(many, "]\n");
	assert_int_equal(load(&c, many, err, sizeof err), -1);
	assert_non_null(strstr(err, "has more than 64 names"));
	config_free(&c);
	rc = load(&c, "store:\n  path: /a.db\n  path:\nidentifiers:\n  key: /k\n  keep: false\n", err,
		  sizeof err);
	if (rc != 0)
		fail_msg("%s", err);
	assert_null(c.db_path);
	assert_string_equal(c.identifier_key, "/k");
	config_free(&c);
}

/* The dump of `c` read back by config_load(), into `back`. */
static void dump_and_load(const struct daemon_config *c, struct daemon_config *back, char **text)
{
	size_t len = 0;
	FILE *out = open_memstream(text, &len);
	assert_non_null(out);
	config_dump(c, out, NULL, NULL);
	assert_int_equal(fclose(out), 0);
	char err[512] = "";
	config_defaults(back);
	if (config_load(back, write_config(*text, len), err, sizeof err) != 0)
		fail_msg("the dump does not load: %s\n%s", err, *text);
}

static void test_dump(void **state)
{
	(void)state;
	struct daemon_config c, back;
	char err[512] = "";
	char *text = NULL;
	/* The defaults, and then a value in every setting, each read back the same. */
	config_defaults(&c);
	dump_and_load(&c, &back, &text);
	assert_int_equal(back.interfaces.count, 0);
	assert_null(back.db_path);
	assert_int_equal(back.log_level, LOG_LEVEL_NOTICE);
	assert_int_equal(back.max_flows, c.max_flows);
	assert_int_equal(back.device_count, 0);
	config_free(&back);
	free(text);
	int rc = load(&c,
		      "devices:\n  \"AA:BB:CC:DD:EE:FF\": \"kitchen \\\"tablet\\\" \\\\ \\t \\u00e9\"\n"
		      "  \"::1\": \"#not a comment: [x]\"\n"
		      "capture: {interface: [\"br-lan\", \"wl,an\"], filter: \"tcp port 443\"}\n"
		      "log: {level: warning}\ndaemon: {user: \"null\"}\n"
		      "flows: {max: 7, tcp_timeout: 8, udp_timeout: 9}\n"
		      "identifiers: {key: \"/etc/a key: \\\"x\\\"\"}\n"
		      "store: {path: \"~\", max_days: 36500, batch_rows: 2, batch_ms: 3}\n"
		      "consent: {rules: \"null\"}\n", err, sizeof err);
	if (rc != 0)
		fail_msg("%s", err);
	dump_and_load(&c, &back, &text);
	assert_int_equal(back.device_count, 2);
	for (size_t i = 0; i < 2; i++) {
		assert_string_equal(back.devices[i].match, c.devices[i].match);
		assert_string_equal(back.devices[i].name, c.devices[i].name);
	}
	assert_string_equal(back.devices[0].name, "kitchen \"tablet\" \\ \t \xc3\xa9");
	assert_int_equal(back.interfaces.count, 2);
	assert_string_equal(back.interfaces.items[0], "br-lan");
	assert_string_equal(back.interfaces.items[1], "wl,an");
	assert_int_equal(back.log_level, LOG_LEVEL_WARNING);
	assert_string_equal(back.user, "null");
	assert_string_equal(back.filter, "tcp port 443");
	assert_int_equal(back.max_flows, 7);
	assert_int_equal(back.tcp_timeout, 8);
	assert_int_equal(back.udp_timeout, 9);
	assert_false(back.keep_identifiers);
	assert_string_equal(back.identifier_key, "/etc/a key: \"x\"");
	/* Texts that would read as null when plain are quoted. */
	assert_string_equal(back.db_path, "~");
	assert_string_equal(back.consent_rules, "null");
	assert_int_equal(back.store.max_days, 36500);
	assert_int_equal(back.store.batch_rows, 2);
	assert_int_equal(back.store.batch_ms, 3);
	config_free(&back);
	free(text);
	config_free(&c);

	/*
	 * Characters YAML reads as line breaks (NEL, LS, PS), which a reader
	 * folds into a space inside quotes, and the byte order mark: escaped in
	 * the dump, so read back as they were (found by fuzz_daemon_config).
	 */
	rc = load(&c, "daemon: {user: \"a\\Nb\\Lc\\Pd\\uFEFFe\\\\\\Nf\"}\n", err, sizeof err);
	if (rc != 0)
		fail_msg("%s", err);
	assert_string_equal(c.user, "a\xc2\x85" "b\xe2\x80\xa8" "c\xe2\x80\xa9" "d\xef\xbb\xbf" "e\\\xc2\x85" "f");
	dump_and_load(&c, &back, &text);
	assert_string_equal(back.user, c.user);
	config_free(&back);
	free(text);
	config_free(&c);
}

/* The whole of a file, NUL-terminated. */
static char *read_text(const char *name)
{
	FILE *f = fopen(name, "rb");
	if (!f)
		fail_msg("%s: cannot open (run from the top of the tree)", name);
	char *text = calloc(1, 1 << 20);
	assert_non_null(text);
	size_t n = fread(text, 1, (1 << 20) - 1, f);
	assert_true(n > 0);
	fclose(f);
	return text;
}

/*
 * The table, the dump and trackwatch.yaml(5) cannot drift: every key is in
 * the dump (its help comment, and its leaf under its section) and in the
 * manual; a section's settings are together; and the sections are the ones
 * the shared YAML reader lets the lists loader pass over.
 */
static void test_table_documented(void **state)
{
	(void)state;
	struct daemon_config c;
	config_defaults(&c);
	char *dump = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&dump, &len);
	assert_non_null(out);
	config_dump(&c, out, NULL, NULL);
	assert_int_equal(fclose(out), 0);
	char *manual = read_text("man/trackwatch.yaml.5");
	char err[512];
	struct yaml_file y;
	assert_int_equal(yaml_file_parse(&y, "{}", 2, "x", err, sizeof err), 0);
	for (size_t i = 0; i < config_setting_count; i++) {
		const struct config_setting *s = &config_settings[i];
		char want[128];
		snprintf(want, sizeof want, "# %s (%s", s->key, config_type_name(s->type));
		if (!strstr(dump, want))
			fail_msg("'%s' is not in --dump-config", want);
		const char *dot = strchr(s->key, '.');
		if (dot) {
			snprintf(want, sizeof want, "\n  %s: ", dot + 1);
			if (!strstr(dump, want))
				fail_msg("'%s' has no value line in --dump-config", s->key);
		}
		snprintf(want, sizeof want, "\n.B %s\n", s->key);
		if (!strstr(manual, want))
			fail_msg("'%s' is not documented in man/trackwatch.yaml.5 (as .B %s)", s->key, s->key);
		assert_true(s->help && *s->help && !strchr(s->help, '\n'));
		/* The section: known to yaml_file_top_key(), and not seen before a gap. */
		size_t n = strcspn(s->key, ".");
		char section[64];
		snprintf(section, sizeof section, "%.*s", (int)n, s->key);
		yaml_node_t key = { .type = YAML_SCALAR_NODE };
		key.data.scalar.value = (yaml_char_t *)section;
		key.data.scalar.length = strlen(section);
		if (!yaml_file_top_key(&y, &key))
			fail_msg("section '%s' is not known to blocklists/yamlfile.c", section);
		for (size_t j = 0; i > 0 && j + 1 < i; j++)
			if (strncmp(config_settings[j].key, section, n) == 0 &&
			    strcspn(config_settings[j].key, ".") == n &&
			    strncmp(config_settings[i - 1].key, section, n) != 0)
				fail_msg("the settings of '%s' are not together in the table", section);
	}
	yaml_file_free(&y);
	free(manual);
	free(dump);
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
		cmocka_unit_test(test_settings),
		cmocka_unit_test(test_dump),
		cmocka_unit_test(test_table_documented),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);
	unlink(path);
	rmdir(dir);
	return failed;
}
