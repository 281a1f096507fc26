/*
 * config: see config.h. The table below is the one place a setting is
 * described; the loader, the dump and (by hand, checked by test_config)
 * trackwatch.yaml(5) follow it.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <pcap/pcap.h>

#include "../blocklists/yamlfile.h"

#define AT(member) offsetof(struct daemon_config, member)

/*
 * In the order of the dump and the manual; the settings of a section are
 * together. Bounds and defaults are those of the command-line options
 * (--max-flows, --tcp-timeout, --udp-timeout) and of store_options_defaults().
 */
const char *const config_log_levels[] = { "error", "warning", "notice", "info", "debug", NULL };

const struct config_setting config_settings[] = {
	{ "lists", CONFIG_ELSEWHERE, 0, 0, 0, 0, "the built-in lists",
	  "tracker lists in precedence order, read by the lists loader (see trackwatch(1), LISTS)", NULL },
	{ "devices", CONFIG_MAP, 0, 0, 0, 0, "none",
	  "names for devices: a MAC (aa:bb:cc:dd:ee:ff) or an IP address, to a name of 1 to 64 characters", NULL },
	{ "capture.interface", CONFIG_LIST, AT(interfaces), 0, 0, 0, "none",
	  "the interfaces to capture on live: one name or a list of up to 64, as -i gives them", NULL },
	{ "capture.filter", CONFIG_STRING, AT(filter), 0, 0, 0, "every packet",
	  "a BPF filter (pcap-filter(7)) for live capture and files alike, as -f gives it", NULL },
	{ "flows.max", CONFIG_UNSIGNED, AT(max_flows), 1, 1UL << 28, 65536, NULL,
	  "flows tracked at once; beyond it the least recently used is evicted (--max-flows)", NULL },
	{ "flows.tcp_timeout", CONFIG_UNSIGNED, AT(tcp_timeout), 1, 86400, 300, NULL,
	  "seconds a TCP flow may stay idle before it ends (--tcp-timeout)", NULL },
	{ "flows.udp_timeout", CONFIG_UNSIGNED, AT(udp_timeout), 1, 86400, 60, NULL,
	  "seconds a UDP flow may stay idle before it ends (--udp-timeout)", NULL },
	{ "identifiers.keep", CONFIG_BOOL, AT(keep_identifiers), 0, 0, 0, NULL,
	  "write cookie and query values as they are, not hashed: for a lab (--keep-identifiers)", NULL },
	{ "identifiers.key", CONFIG_PATH, AT(identifier_key), 0, 0, 0, "the database's key, else a random one",
	  "a file of 16 to 1024 bytes to hash identifiers with (--identifier-key)", NULL },
	{ "store.path", CONFIG_PATH, AT(db_path), 0, 0, 0, "none",
	  "the timeline database of live capture; a file run writes one only with --db", NULL },
	{ "store.max_days", CONFIG_UNSIGNED, AT(store.max_days), 0, 36500, 0, NULL,
	  "retention: rows older than this many days are deleted; 0 keeps everything", NULL },
	{ "store.batch_rows", CONFIG_UNSIGNED, AT(store.batch_rows), 1, 1000000, 16384, NULL,
	  "rows written to the database in one transaction at most", NULL },
	{ "store.batch_ms", CONFIG_UNSIGNED, AT(store.batch_ms), 1, 3600000, 1000, NULL,
	  "milliseconds after a batch's first row before it is committed", NULL },
	{ "store.queue_mb", CONFIG_UNSIGNED, AT(queue_mb), 1, 4096, 16, NULL,
	  "MiB of observations waiting for the writer at most; beyond it live capture drops and counts them", NULL },
	{ "consent.rules", CONFIG_PATH, AT(consent_rules), 0, 0, 0, "the shipped rules",
	  "the consent rules file (trackwatchd(8), CONSENT SIGNALS); a relative name is from the current directory", NULL },
	{ "tls.keylog", CONFIG_LIST, AT(keylogs), 0, 0, 0, "none",
	  "NSS key log files (SSLKEYLOGFILE) to decrypt TLS with; live capture follows them as they grow (-k)", NULL },
	{ "control.socket", CONFIG_PATH, AT(control_socket), 0, 0, 0, CONFIG_DEFAULT_SOCKET,
	  "the live daemon's control socket (trackwatch status, reload, consent mark); \"none\" for no socket", NULL },
	{ "control.group", CONFIG_STRING, AT(control_group), 0, 0, 0, "the daemon user's group",
	  "the group that may use the control socket (mode 0660)", NULL },
	{ "daemon.user", CONFIG_STRING, AT(user), 0, 0, 0, CONFIG_DEFAULT_USER,
	  "the user live capture runs as once its capture, database and socket are open as root", NULL },
	{ "log.level", CONFIG_ENUM, AT(log_level), 0, 0, LOG_LEVEL_NOTICE, NULL,
	  "the least important messages logged: error, warning, notice, info or debug (-d: debug)",
	  config_log_levels },
};
const size_t config_setting_count = sizeof config_settings / sizeof config_settings[0];

const char *config_type_name(enum config_type type)
{
	switch (type) {
	case CONFIG_BOOL: return "bool";
	case CONFIG_UNSIGNED: return "unsigned";
	case CONFIG_STRING: return "string";
	case CONFIG_PATH: return "path";
	case CONFIG_LIST: return "list";
	case CONFIG_ENUM: return "enum";
	case CONFIG_MAP: return "map";
	case CONFIG_ELSEWHERE: return "section";
	}
	return "?";
}

static unsigned *unsigned_at(struct daemon_config *config, const struct config_setting *s)
{
	return (unsigned *)((char *)config + s->offset);
}

static bool *bool_at(struct daemon_config *config, const struct config_setting *s)
{
	return (bool *)((char *)config + s->offset);
}

static char **text_at(struct daemon_config *config, const struct config_setting *s)
{
	return (char **)((char *)config + s->offset);
}

static struct config_list *list_at(struct daemon_config *config, const struct config_setting *s)
{
	return (struct config_list *)((char *)config + s->offset);
}

int config_list_add(struct config_list *list, const char *item)
{
	char *copy = strdup(item);
	char **grown = copy ? realloc(list->items, (list->count + 1) * sizeof *grown) : NULL;
	if (!grown) {
		free(copy);
		return -1;
	}
	list->items = grown;
	list->items[list->count++] = copy;
	return 0;
}

void config_list_clear(struct config_list *list)
{
	for (size_t i = 0; i < list->count; i++)
		free(list->items[i]);
	free(list->items);
	list->items = NULL;
	list->count = 0;
}

char *config_list_join(const struct config_list *list, char *out, size_t size)
{
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; i < list->count && used < size; i++)
		used += (size_t)snprintf(out + used, size - used, "%s%s", i ? ", " : "", list->items[i]);
	return out;
}

int config_list_equal(const struct config_list *a, const struct config_list *b)
{
	if (a->count != b->count)
		return 0;
	for (size_t i = 0; i < a->count; i++)
		if (strcmp(a->items[i], b->items[i]) != 0)
			return 0;
	return 1;
}

void config_defaults(struct daemon_config *config)
{
	memset(config, 0, sizeof *config);
	for (size_t i = 0; i < config_setting_count; i++) {
		const struct config_setting *s = &config_settings[i];
		if (s->type == CONFIG_UNSIGNED || s->type == CONFIG_ENUM)
			*unsigned_at(config, s) = (unsigned)s->default_number;
		else if (s->type == CONFIG_BOOL)
			*bool_at(config, s) = s->default_number != 0;
	}
}

void config_free(struct daemon_config *config)
{
	for (size_t i = 0; i < config->device_count; i++) {
		free(config->devices[i].match);
		free(config->devices[i].name);
	}
	free(config->devices);
	for (size_t i = 0; i < config_setting_count; i++)
		if (config_settings[i].type == CONFIG_STRING || config_settings[i].type == CONFIG_PATH)
			free(*text_at(config, &config_settings[i]));
		else if (config_settings[i].type == CONFIG_LIST)
			config_list_clear(list_at(config, &config_settings[i]));
	free(config->path);
	config_defaults(config);
}

/* A MAC in any case with ':' or '-' into "aa:bb:cc:dd:ee:ff"; 0 or -1. */
static int mac_text(const char *in, char out[18])
{
	unsigned v[6];
	char sep[5];
	if (strlen(in) != 17)
		return -1;
	for (int i = 0; i < 6; i++) {
		if (!isxdigit((unsigned char)in[3 * i]) || !isxdigit((unsigned char)in[3 * i + 1]))
			return -1;
		if (i < 5)
			sep[i] = in[3 * i + 2];
		char hex[3] = { in[3 * i], in[3 * i + 1], 0 };
		v[i] = (unsigned)strtoul(hex, NULL, 16);
	}
	for (int i = 0; i < 5; i++)
		if (sep[i] != sep[0] || (sep[0] != ':' && sep[0] != '-'))
			return -1;
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", v[0], v[1], v[2], v[3], v[4], v[5]);
	return 0;
}

/* An address in its canonical text (inet_ntop), so "::0001" finds "::1"; 0 or -1. */
static int address_text(const char *in, char out[INET6_ADDRSTRLEN])
{
	unsigned char buf[16];
	if (inet_pton(AF_INET, in, buf) == 1)
		return inet_ntop(AF_INET, buf, out, INET6_ADDRSTRLEN) ? 0 : -1;
	if (inet_pton(AF_INET6, in, buf) == 1)
		return inet_ntop(AF_INET6, buf, out, INET6_ADDRSTRLEN) ? 0 : -1;
	return -1;
}

static int load_devices(struct yaml_file *c, struct daemon_config *config, yaml_node_t *v)
{
	if (v->type != YAML_MAPPING_NODE)
		return yaml_file_fail(c, v, "%s", "'devices' must be a mapping of MAC or IP address to a name");
	for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_file_node(c, p->key);
		yaml_node_t *n = yaml_file_node(c, p->value);
		const char *key = yaml_scalar(k), *name = yaml_scalar(n);
		char canon[INET6_ADDRSTRLEN];
		if (!key || (mac_text(key, canon) != 0 && address_text(key, canon) != 0))
			return yaml_file_fail(c, k, "devices: '%s' is neither a MAC (aa:bb:cc:dd:ee:ff) nor an IP address",
				    key ? key : "?");
		if (!name || !*name || strlen(name) > 64)
			return yaml_file_fail(c, n, "devices: the name of '%s' must be a string of 1 to 64 characters", key);
		if (config->device_count == CONFIG_DEVICES_MAX)
			return yaml_file_fail(c, k, "devices: more than %s names", "4096");
		for (size_t i = 0; i < config->device_count; i++)
			if (strcmp(config->devices[i].match, canon) == 0)
				return yaml_file_fail(c, k, "devices: '%s' is named twice", key);
		struct device_name *grown = realloc(config->devices,
						    (config->device_count + 1) * sizeof *grown);
		if (!grown)
			return yaml_file_fail(c, k, "%s", "out of memory");
		config->devices = grown;
		struct device_name *d = &config->devices[config->device_count];
		d->match = strdup(canon);
		d->name = strdup(name);
		if (!d->match || !d->name) {
			free(d->match);
			free(d->name);
			return yaml_file_fail(c, k, "%s", "out of memory");
		}
		config->device_count++;
	}
	return 0;
}

/* The part of a dotted key after its section: "max_days" of "store.max_days". */
static const char *leaf(const char *key)
{
	const char *dot = strchr(key, '.');
	return dot ? dot + 1 : key;
}

/* Whether `key` is in section `section` (or is that section). */
static bool in_section(const char *key, const char *section)
{
	size_t n = strlen(section);
	return strncmp(key, section, n) == 0 && (key[n] == '\0' || key[n] == '.');
}

/* The settings of `section`'s names, ", "-separated, into out (for messages). */
static void section_names(const char *section, char *out, size_t size)
{
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; i < config_setting_count && used < size; i++)
		if (in_section(config_settings[i].key, section) && strchr(config_settings[i].key, '.'))
			used += (size_t)snprintf(out + used, size - used, "%s%s", used ? ", " : "",
						 leaf(config_settings[i].key));
}

/* The top-level sections, ", "-separated. */
static void top_names(char *out, size_t size)
{
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; i < config_setting_count && used < size; i++) {
		const char *key = config_settings[i].key;
		size_t n = strcspn(key, ".");
		if (i > 0 && strncmp(config_settings[i - 1].key, key, n) == 0 &&
		    strcspn(config_settings[i - 1].key, ".") == n)
			continue;
		used += (size_t)snprintf(out + used, size - used, "%s%.*s", used ? ", " : "", (int)n, key);
	}
}

/* A plain null (`key:`, `key: ~`, `key: null`): a setting without a default is left unset. */
static bool is_null(const yaml_node_t *node)
{
	const char *s = yaml_scalar(node);
	return s && node->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       (!*s || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 || strcmp(s, "Null") == 0 ||
		strcmp(s, "NULL") == 0);
}

/* Fails with "section: 'leaf' " and the rest, at node. */
static int fail_setting(struct yaml_file *c, const yaml_node_t *node, const struct config_setting *s,
			const char *what)
{
	char reason[300];
	snprintf(reason, sizeof reason, "%.*s: '%s' %s", (int)strcspn(s->key, "."), s->key, leaf(s->key),
		 what);
	return yaml_file_fail(c, node, "%s", reason);
}

int config_filter_check(const char *filter, char *err, size_t err_len)
{
	pcap_t *dead = pcap_open_dead(DLT_EN10MB, 262144);
	if (!dead) {
		snprintf(err, err_len, "%s", "out of memory");
		return -1;
	}
	struct bpf_program code;
	int rc = pcap_compile(dead, &code, filter, 1, PCAP_NETMASK_UNKNOWN) == 0 ? 0 : -1;
	if (rc == 0)
		pcap_freecode(&code);
	else
		snprintf(err, err_len, "%s", pcap_geterr(dead));
	pcap_close(dead);
	return rc;
}

static int load_value(struct yaml_file *c, struct daemon_config *config, const struct config_setting *s,
		      yaml_node_t *v)
{
	const char *text = yaml_scalar(v);
	char what[300];
	switch (s->type) {
	case CONFIG_BOOL:
		if (text && strcmp(text, "true") == 0)
			*bool_at(config, s) = true;
		else if (text && strcmp(text, "false") == 0)
			*bool_at(config, s) = false;
		else
			return fail_setting(c, v, s, "must be true or false");
		return 0;
	case CONFIG_UNSIGNED: {
		char *end = NULL;
		errno = 0;
		unsigned long n = text && *text && *text != '-' ? strtoul(text, &end, 10) : 0;
		if (!text || !*text || *text == '-' || errno || *end || n < s->min || n > s->max) {
			snprintf(what, sizeof what, "must be a whole number from %lu to %lu", s->min, s->max);
			return fail_setting(c, v, s, what);
		}
		*unsigned_at(config, s) = (unsigned)n;
		return 0;
	}
	case CONFIG_STRING:
	case CONFIG_PATH: {
		char **at = text_at(config, s);
		if (is_null(v)) {
			free(*at);
			*at = NULL;
			return 0;
		}
		if (!text || !*text)
			return fail_setting(c, v, s, s->type == CONFIG_PATH ? "must be a file name"
									   : "must be a non-empty string");
		char reason[256];
		if (s->offset == AT(filter) && config_filter_check(text, reason, sizeof reason) != 0) {
			snprintf(what, sizeof what, "does not compile: %s", reason);
			return fail_setting(c, v, s, what);
		}
		char *copy = strdup(text);
		if (!copy)
			return yaml_file_fail(c, v, "%s", "out of memory");
		free(*at);
		*at = copy;
		return 0;
	}
	case CONFIG_ENUM: {
		for (unsigned i = 0; text && s->choices[i]; i++)
			if (strcmp(text, s->choices[i]) == 0) {
				*unsigned_at(config, s) = i;
				return 0;
			}
		size_t used = (size_t)snprintf(what, sizeof what, "must be one of");
		for (unsigned i = 0; s->choices[i] && used < sizeof what; i++)
			used += (size_t)snprintf(what + used, sizeof what - used, "%s %s",
						 i ? "," : "", s->choices[i]);
		return fail_setting(c, v, s, what);
	}
	case CONFIG_LIST: {
		/* One name, or a sequence of names; the file's list replaces the default. */
		struct config_list *list = list_at(config, s);
		config_list_clear(list);
		if (is_null(v))
			return 0;
		yaml_node_item_t *first = NULL, *last = NULL;
		if (v->type == YAML_SEQUENCE_NODE) {
			first = v->data.sequence.items.start;
			last = v->data.sequence.items.top;
		}
		if (v->type == YAML_SCALAR_NODE) {
			if (!text || !*text)
				return fail_setting(c, v, s, "must be a name or a list of names");
			return config_list_add(list, text) == 0 ? 0 : yaml_file_fail(c, v, "%s", "out of memory");
		}
		if (!first && v->type != YAML_SEQUENCE_NODE)
			return fail_setting(c, v, s, "must be a name or a list of names");
		if (last - first > CONFIG_LIST_MAX) {
			snprintf(what, sizeof what, "has more than %d names", CONFIG_LIST_MAX);
			return fail_setting(c, v, s, what);
		}
		for (yaml_node_item_t *it = first; it < last; it++) {
			yaml_node_t *item = yaml_file_node(c, *it);
			const char *name = yaml_scalar(item);
			if (!name || !*name)
				return fail_setting(c, item ? item : v, s, "must be a list of non-empty names");
			for (size_t i = 0; i < list->count; i++)
				if (strcmp(list->items[i], name) == 0) {
					snprintf(what, sizeof what, "names '%.64s' twice", name);
					return fail_setting(c, item, s, what);
				}
			if (config_list_add(list, name) != 0)
				return yaml_file_fail(c, item, "%s", "out of memory");
		}
		return 0;
	}
	case CONFIG_MAP:
	case CONFIG_ELSEWHERE:
		break;
	}
	return yaml_file_fail(c, v, "%s", "internal error: no loader for this setting");
}

/* A section of settings: each key must be one of the table's. */
static int load_section(struct yaml_file *c, struct daemon_config *config, const char *section,
			yaml_node_t *v, const yaml_node_t **identifiers_node)
{
	char names[300], reason[400];
	section_names(section, names, sizeof names);
	if (v->type != YAML_MAPPING_NODE) {
		snprintf(reason, sizeof reason, "'%s' must be a mapping (%s)", section, names);
		return yaml_file_fail(c, v, "%s", reason);
	}
	for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_file_node(c, p->key);
		yaml_node_t *n = yaml_file_node(c, p->value);
		const char *key = yaml_scalar(k);
		const struct config_setting *s = NULL;
		for (size_t i = 0; key && !s && i < config_setting_count; i++)
			if (in_section(config_settings[i].key, section) &&
			    strchr(config_settings[i].key, '.') && strcmp(leaf(config_settings[i].key), key) == 0)
				s = &config_settings[i];
		if (!s) {
			snprintf(reason, sizeof reason, "%s: unknown key '%%s' (known: %s)", section, names);
			return yaml_file_fail(c, k, reason, key ? key : "?");
		}
		if (load_value(c, config, s, n) != 0)
			return -1;
		if (strcmp(section, "identifiers") == 0)
			*identifiers_node = n;
	}
	return 0;
}

int config_load(struct daemon_config *config, const char *path, char *err, size_t err_len)
{
	struct yaml_file y;
	if (yaml_file_load(&y, path, err, err_len) != 0)
		return -1;
	memcpy(config->sha256, y.sha256, sizeof config->sha256);
	const yaml_node_t *identifiers_node = NULL;
	int rc = 0;
	for (yaml_node_pair_t *p = y.root ? y.root->data.mapping.pairs.start : NULL;
	     rc == 0 && p && p < y.root->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_file_node(&y, p->key);
		yaml_node_t *v = yaml_file_node(&y, p->value);
		const char *key = yaml_scalar(k);
		const struct config_setting *s = NULL;
		for (size_t i = 0; key && !s && i < config_setting_count; i++)
			if (in_section(config_settings[i].key, key))
				s = &config_settings[i];
		if (!s) {
			char names[200], reason[300];
			top_names(names, sizeof names);
			snprintf(reason, sizeof reason, "unknown key '%%s' (this version knows: %s)", names);
			rc = yaml_file_fail(&y, k, reason, key ? key : "?");
		} else if (s->type == CONFIG_ELSEWHERE || is_null(v)) {
			/* another loader's, or a section left empty (its settings commented out) */
		} else if (s->type == CONFIG_MAP) {
			rc = load_devices(&y, config, v);
		} else {
			rc = load_section(&y, config, key, v, &identifiers_node);
		}
	}
	if (rc == 0 && config->keep_identifiers && config->identifier_key)
		rc = yaml_file_fail(&y, identifiers_node, "%s",
				    "identifiers: 'keep' and 'key' cannot both be set (kept values are not hashed)");
	yaml_file_free(&y);
	if (rc == 0) {
		free(config->path);
		config->path = strdup(path);
		if (!config->path) {
			snprintf(err, err_len, "%s: out of memory", path);
			rc = -1;
		}
	}
	return rc;
}

/*
 * A double-quoted YAML scalar that reads back as `s`: besides '"', '\\' and
 * control bytes, the characters YAML takes for line breaks (NEL U+0085,
 * LS U+2028, PS U+2029), which a reader would fold into a space, and the
 * byte order mark are escaped.
 */
void config_write_quoted(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(out, "\\x%02x", *p);
		else if (p[0] == 0xc2 && p[1] == 0x85)
			fputs("\\N", out), p++;
		else if (p[0] == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9))
			fputs(p[2] == 0xa8 ? "\\L" : "\\P", out), p += 2;
		else if (p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf)
			fputs("\\uFEFF", out), p += 2;
		else
			fputc(*p, out);
	}
	fputc('"', out);
}

/* "# store.max_days (unsigned, 0 to 36500, default 0): help" */
static void write_help(FILE *out, const struct config_setting *s, const char *indent)
{
	fprintf(out, "%s# %s (%s", indent, s->key, config_type_name(s->type));
	if (s->type == CONFIG_UNSIGNED)
		fprintf(out, ", %lu to %lu, default %lu", s->min, s->max, s->default_number);
	else if (s->type == CONFIG_ENUM)
		fprintf(out, ", default %s", s->choices[s->default_number]);
	else if (s->type == CONFIG_BOOL)
		fprintf(out, ", default %s", s->default_number ? "true" : "false");
	else if (s->default_text)
		fprintf(out, ", default %s", s->default_text);
	fprintf(out, "):\n%s#   %s\n", indent, s->help);
}

void config_dump(const struct daemon_config *config, FILE *out,
		 void (*write_section)(FILE *out, const char *section, void *context), void *context)
{
	fprintf(out, "# trackwatchd --dump-config: the effective configuration, from %s\n"
		"# and the command line. `trackwatchd -c FILE` reads it back; see trackwatch.yaml(5).\n",
		config->path ? config->path : "the built-in defaults");
	const char *section = NULL;
	size_t section_len = 0;
	for (size_t i = 0; i < config_setting_count; i++) {
		const struct config_setting *s = &config_settings[i];
		size_t n = strcspn(s->key, ".");
		if (s->type == CONFIG_MAP || s->type == CONFIG_ELSEWHERE) {
			fputc('\n', out);
			write_help(out, s, "");
			section = NULL;
			if (s->type == CONFIG_ELSEWHERE) {
				if (write_section)
					write_section(out, s->key, context);
				continue;
			}
			if (!config->device_count)
				fprintf(out, "%s: {}\n", s->key);
			else
				fprintf(out, "%s:\n", s->key);
			for (size_t d = 0; d < config->device_count; d++) {
				fputs("  ", out);
				config_write_quoted(out, config->devices[d].match);
				fputs(": ", out);
				config_write_quoted(out, config->devices[d].name);
				fputc('\n', out);
			}
			continue;
		}
		if (!section || section_len != n || strncmp(section, s->key, n) != 0) {
			section = s->key;
			section_len = n;
			fprintf(out, "\n%.*s:\n", (int)n, s->key);
		}
		write_help(out, s, "  ");
		fprintf(out, "  %s: ", leaf(s->key));
		switch (s->type) {
		case CONFIG_BOOL:
			fputs(*(const bool *)((const char *)config + s->offset) ? "true" : "false", out);
			break;
		case CONFIG_UNSIGNED:
			fprintf(out, "%u", *(const unsigned *)((const char *)config + s->offset));
			break;
		case CONFIG_STRING:
		case CONFIG_PATH: {
			const char *text = *(char *const *)((const char *)config + s->offset);
			if (text)
				config_write_quoted(out, text);
			else
				fputc('~', out);
			break;
		}
		case CONFIG_ENUM:
			fputs(s->choices[*(const unsigned *)((const char *)config + s->offset)], out);
			break;
		case CONFIG_LIST: {
			const struct config_list *list =
				(const struct config_list *)((const char *)config + s->offset);
			fputc('[', out);
			for (size_t i = 0; i < list->count; i++) {
				fputs(i ? ", " : "", out);
				config_write_quoted(out, list->items[i]);
			}
			fputc(']', out);
			break;
		}
		case CONFIG_MAP:
		case CONFIG_ELSEWHERE:
			break;
		}
		fputc('\n', out);
	}
}

const char *config_device_name(const struct daemon_config *config, const char *mac,
			       const char *address)
{
	for (size_t i = 0; mac && i < config->device_count; i++)
		if (strcmp(config->devices[i].match, mac) == 0)
			return config->devices[i].name;
	for (size_t i = 0; address && i < config->device_count; i++)
		if (strcmp(config->devices[i].match, address) == 0)
			return config->devices[i].name;
	return NULL;
}
