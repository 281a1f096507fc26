/* config: see config.h. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <openssl/evp.h>
#include <yaml.h>

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
	free(config->path);
	config_defaults(config);
}

struct ctx {
	yaml_document_t *doc;
	const char *path;
	char *err;
	size_t err_len;
};

static int fail(struct ctx *c, const yaml_node_t *node, const char *fmt, const char *arg)
{
	char reason[300];
	snprintf(reason, sizeof reason, fmt, arg);
	snprintf(c->err, c->err_len, "%s:%lu: %s", c->path,
		 node ? (unsigned long)node->start_mark.line + 1 : 0UL, reason);
	return -1;
}

/* A scalar's text; NULL for another node, or one holding a NUL ("5\0 rows" is not 5). */
static const char *scalar(const yaml_node_t *node)
{
	if (!node || node->type != YAML_SCALAR_NODE)
		return NULL;
	const char *text = (const char *)node->data.scalar.value;
	return strlen(text) == node->data.scalar.length ? text : NULL;
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

static int load_devices(struct ctx *c, struct daemon_config *config, yaml_node_t *v)
{
	if (v->type != YAML_MAPPING_NODE)
		return fail(c, v, "%s", "'devices' must be a mapping of MAC or IP address to a name");
	for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
		yaml_node_t *n = yaml_document_get_node(c->doc, p->value);
		const char *key = scalar(k), *name = scalar(n);
		char canon[INET6_ADDRSTRLEN];
		if (!key || (mac_text(key, canon) != 0 && address_text(key, canon) != 0))
			return fail(c, k, "devices: '%s' is neither a MAC (aa:bb:cc:dd:ee:ff) nor an IP address",
				    key ? key : "?");
		if (!name || !*name || strlen(name) > 64)
			return fail(c, n, "devices: the name of '%s' must be a string of 1 to 64 characters", key);
		if (config->device_count == CONFIG_DEVICES_MAX)
			return fail(c, k, "devices: more than %s names", "4096");
		for (size_t i = 0; i < config->device_count; i++)
			if (strcmp(config->devices[i].match, canon) == 0)
				return fail(c, k, "devices: '%s' is named twice", key);
		struct device_name *grown = realloc(config->devices,
						    (config->device_count + 1) * sizeof *grown);
		if (!grown)
			return fail(c, k, "%s", "out of memory");
		config->devices = grown;
		struct device_name *d = &config->devices[config->device_count];
		d->match = strdup(canon);
		d->name = strdup(name);
		if (!d->match || !d->name) {
			free(d->match);
			free(d->name);
			return fail(c, k, "%s", "out of memory");
		}
		config->device_count++;
	}
	return 0;
}

static int unsigned_value(struct ctx *c, const char *key, yaml_node_t *v, unsigned long min,
			  unsigned long max, unsigned *out)
{
	const char *s = scalar(v);
	char *end;
	errno = 0;
	unsigned long n = s && *s && *s != '-' ? strtoul(s, &end, 10) : 0;
	if (!s || !*s || *s == '-' || errno || *end || n < min || n > max) {
		char reason[160];
		snprintf(reason, sizeof reason, "store: '%s' must be a whole number from %lu to %lu", key,
			 min, max);
		return fail(c, v, "%s", reason);
	}
	*out = (unsigned)n;
	return 0;
}

static int load_store(struct ctx *c, struct daemon_config *config, yaml_node_t *v)
{
	if (v->type != YAML_MAPPING_NODE)
		return fail(c, v, "%s", "'store' must be a mapping (path, max_days, batch_rows, batch_ms)");
	for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
		yaml_node_t *n = yaml_document_get_node(c->doc, p->value);
		const char *key = scalar(k);
		int rc;
		if (key && strcmp(key, "path") == 0) {
			const char *s = scalar(n);
			if (!s || !*s)
				return fail(c, n, "%s", "store: 'path' must be a file name");
			free(config->db_path);
			config->db_path = strdup(s);
			rc = config->db_path ? 0 : fail(c, n, "%s", "out of memory");
		} else if (key && strcmp(key, "max_days") == 0) {
			rc = unsigned_value(c, key, n, 0, 36500, &config->store.max_days);
		} else if (key && strcmp(key, "batch_rows") == 0) {
			rc = unsigned_value(c, key, n, 1, 1000000, &config->store.batch_rows);
		} else if (key && strcmp(key, "batch_ms") == 0) {
			rc = unsigned_value(c, key, n, 1, 3600000, &config->store.batch_ms);
		} else {
			rc = fail(c, k, "store: unknown key '%s' (known: path, max_days, batch_rows, batch_ms)",
				  key ? key : "?");
		}
		if (rc != 0)
			return rc;
	}
	return 0;
}

/* The file's SHA-256 in hex, for the run's evidence; 0 or -1. */
static int file_sha256(FILE *f, char out[65])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char buf[16384], digest[32];
	unsigned len = 0;
	size_t n;
	int ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	while (ok && (n = fread(buf, 1, sizeof buf, f)) > 0)
		ok = EVP_DigestUpdate(md, buf, n);
	ok = ok && !ferror(f) && EVP_DigestFinal_ex(md, digest, &len);
	EVP_MD_CTX_free(md);
	if (!ok)
		return -1;
	for (unsigned i = 0; i < len; i++)
		snprintf(out + 2 * i, 3, "%02x", digest[i]);
	rewind(f);
	return 0;
}

int config_load(struct daemon_config *config, const char *path, char *err, size_t err_len)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (file_sha256(f, config->sha256) != 0) {
		snprintf(err, err_len, "%s: cannot read", path);
		fclose(f);
		return -1;
	}
	yaml_parser_t parser;
	yaml_document_t doc;
	if (!yaml_parser_initialize(&parser)) {
		fclose(f);
		snprintf(err, err_len, "%s: out of memory", path);
		return -1;
	}
	yaml_parser_set_input_file(&parser, f);
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(err, err_len, "%s:%lu: %s", path, (unsigned long)parser.problem_mark.line + 1,
			 parser.problem ? parser.problem : "YAML error");
		yaml_parser_delete(&parser);
		fclose(f);
		return -1;
	}
	yaml_parser_delete(&parser);
	fclose(f);
	struct ctx c = { .doc = &doc, .path = path, .err = err, .err_len = err_len };
	int rc = 0;
	yaml_node_t *root = yaml_document_get_root_node(&doc);
	if (root && root->type != YAML_MAPPING_NODE && !(root->type == YAML_SCALAR_NODE && scalar(root) && !*scalar(root)))
		rc = fail(&c, root, "%s", "the configuration must be a mapping of keys");
	for (yaml_node_pair_t *p = root && root->type == YAML_MAPPING_NODE ? root->data.mapping.pairs.start : NULL;
	     rc == 0 && p && p < root->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(&doc, p->key);
		yaml_node_t *v = yaml_document_get_node(&doc, p->value);
		const char *key = scalar(k);
		if (key && strcmp(key, "devices") == 0)
			rc = load_devices(&c, config, v);
		else if (key && strcmp(key, "store") == 0)
			rc = load_store(&c, config, v);
		else if (!key || strcmp(key, "lists") != 0) /* lists: blocklists/lists.c */
			rc = fail(&c, k, "unknown key '%s' (this version knows: lists, devices, store)",
				  key ? key : "?");
	}
	yaml_document_delete(&doc);
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
