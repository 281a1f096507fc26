/* config: see config.h. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include "../blocklists/yamlfile.h"

void config_defaults(struct daemon_config *config)
{
	memset(config, 0, sizeof *config);
	store_options_defaults(&config->store);
}

void config_free(struct daemon_config *config)
{
	for (size_t i = 0; i < config->device_count; i++) {
		free(config->devices[i].match);
		free(config->devices[i].name);
	}
	free(config->devices);
	free(config->db_path);
	free(config->consent_rules);
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

static int unsigned_value(struct yaml_file *c, const char *key, yaml_node_t *v, unsigned long min,
			  unsigned long max, unsigned *out)
{
	const char *s = yaml_scalar(v);
	char *end;
	errno = 0;
	unsigned long n = s && *s && *s != '-' ? strtoul(s, &end, 10) : 0;
	if (!s || !*s || *s == '-' || errno || *end || n < min || n > max) {
		char reason[160];
		snprintf(reason, sizeof reason, "store: '%s' must be a whole number from %lu to %lu", key,
			 min, max);
		return yaml_file_fail(c, v, "%s", reason);
	}
	*out = (unsigned)n;
	return 0;
}

static int load_store(struct yaml_file *c, struct daemon_config *config, yaml_node_t *v)
{
	if (v->type != YAML_MAPPING_NODE)
		return yaml_file_fail(c, v, "%s", "'store' must be a mapping (path, max_days, batch_rows, batch_ms)");
	for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_file_node(c, p->key);
		yaml_node_t *n = yaml_file_node(c, p->value);
		const char *key = yaml_scalar(k);
		int rc;
		if (key && strcmp(key, "path") == 0) {
			const char *s = yaml_scalar(n);
			if (!s || !*s)
				return yaml_file_fail(c, n, "%s", "store: 'path' must be a file name");
			free(config->db_path);
			config->db_path = strdup(s);
			rc = config->db_path ? 0 : yaml_file_fail(c, n, "%s", "out of memory");
		} else if (key && strcmp(key, "max_days") == 0) {
			rc = unsigned_value(c, key, n, 0, 36500, &config->store.max_days);
		} else if (key && strcmp(key, "batch_rows") == 0) {
			rc = unsigned_value(c, key, n, 1, 1000000, &config->store.batch_rows);
		} else if (key && strcmp(key, "batch_ms") == 0) {
			rc = unsigned_value(c, key, n, 1, 3600000, &config->store.batch_ms);
		} else {
			rc = yaml_file_fail(c, k, "store: unknown key '%s' (known: path, max_days, batch_rows, batch_ms)",
				  key ? key : "?");
		}
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int load_consent(struct yaml_file *c, struct daemon_config *config, yaml_node_t *v)
{
	if (v->type != YAML_MAPPING_NODE)
		return yaml_file_fail(c, v, "%s", "'consent' must be a mapping (rules)");
	for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_file_node(c, p->key);
		yaml_node_t *n = yaml_file_node(c, p->value);
		const char *key = yaml_scalar(k);
		if (!key || strcmp(key, "rules") != 0)
			return yaml_file_fail(c, k, "consent: unknown key '%s' (known: rules)",
					      key ? key : "?");
		const char *s = yaml_scalar(n);
		if (!s || !*s)
			return yaml_file_fail(c, n, "%s", "consent: 'rules' must be a file name");
		free(config->consent_rules);
		config->consent_rules = strdup(s);
		if (!config->consent_rules)
			return yaml_file_fail(c, n, "%s", "out of memory");
	}
	return 0;
}

int config_load(struct daemon_config *config, const char *path, char *err, size_t err_len)
{
	struct yaml_file y;
	if (yaml_file_load(&y, path, err, err_len) != 0)
		return -1;
	memcpy(config->sha256, y.sha256, sizeof config->sha256);
	int rc = 0;
	for (yaml_node_pair_t *p = y.root ? y.root->data.mapping.pairs.start : NULL;
	     rc == 0 && p && p < y.root->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_file_node(&y, p->key);
		yaml_node_t *v = yaml_file_node(&y, p->value);
		const char *key = yaml_file_top_key(&y, k);
		if (!key)
			rc = -1;
		else if (strcmp(key, "devices") == 0)
			rc = load_devices(&y, config, v);
		else if (strcmp(key, "store") == 0)
			rc = load_store(&y, config, v);
		else if (strcmp(key, "consent") == 0)
			rc = load_consent(&y, config, v);
		/* lists: blocklists/lists.c */
	}
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
