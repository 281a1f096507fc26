/* yamlfile: see yamlfile.h. */
#include "yamlfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

enum { YAML_FILE_MAX = 16 << 20 };

const char *yaml_scalar(const yaml_node_t *node)
{
	if (!node || node->type != YAML_SCALAR_NODE)
		return NULL;
	const char *text = (const char *)node->data.scalar.value;
	return strlen(text) == node->data.scalar.length ? text : NULL;
}

int yaml_file_fail(struct yaml_file *y, const yaml_node_t *node, const char *fmt, const char *arg)
{
	char reason[300];
	snprintf(reason, sizeof reason, fmt, arg);
	snprintf(y->err, y->err_len, "%s:%lu: %s", y->path,
		 node ? (unsigned long)node->start_mark.line + 1 : 0UL, reason);
	return -1;
}

/* The configuration's sections; tests/unit/test_config.c checks them against config_settings[]. */
const char *const yaml_file_sections[] = { "lists", "devices", "capture", "flows", "identifiers",
					   "store", "consent", "tls", "control", "daemon", "log", NULL };

const char *yaml_file_top_key(struct yaml_file *y, const yaml_node_t *key_node)
{
	const char *key = yaml_scalar(key_node);
	char names[200];
	size_t used = 0;
	names[0] = '\0';
	for (size_t i = 0; yaml_file_sections[i]; i++) {
		if (key && strcmp(key, yaml_file_sections[i]) == 0)
			return key;
		if (used < sizeof names)
			used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", i ? ", " : "",
						 yaml_file_sections[i]);
	}
	char fmt[300];
	snprintf(fmt, sizeof fmt, "unknown key '%%s' (this version knows: %s)", names);
	yaml_file_fail(y, key_node, fmt, key ? key : "?");
	return NULL;
}

yaml_node_t *yaml_file_node(struct yaml_file *y, int id)
{
	return yaml_document_get_node(&y->doc, id);
}

/* The whole file in memory (a configuration is small: at most YAML_FILE_MAX). */
static unsigned char *read_all(const char *path, size_t *len, char *err, size_t err_len)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, err_len, "%s: %s", path, strerror(errno));
		return NULL;
	}
	size_t cap = 4096, n = 0, got;
	unsigned char *buf = malloc(cap);
	while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap) {
			unsigned char *grown = cap < YAML_FILE_MAX ? realloc(buf, cap * 2) : NULL;
			if (!grown) {
				snprintf(err, err_len, "%s: %s", path,
					 cap < YAML_FILE_MAX ? "out of memory" : "too large for a configuration");
				free(buf);
				fclose(f);
				return NULL;
			}
			buf = grown;
			cap *= 2;
		}
	}
	if (!buf || ferror(f)) {
		snprintf(err, err_len, "%s: %s", path, buf ? "cannot read" : "out of memory");
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	*len = n;
	return buf;
}

static void yaml_file_init(struct yaml_file *y, const char *name, char *err, size_t err_len)
{
	memset(y, 0, sizeof *y);
	y->path = name;
	y->err = err;
	y->err_len = err_len;
}

int yaml_file_parse(struct yaml_file *y, const char *text, size_t len, const char *name, char *err,
		    size_t err_len)
{
	yaml_file_init(y, name, err, err_len);
	if (!text) {
		snprintf(err, err_len, "%s: no text", name);
		return -1;
	}
	/* The configuration's hash: part of a run's evidence. */
	unsigned char digest[32];
	unsigned dlen = 0;
	if (!EVP_Digest(text, len, digest, &dlen, EVP_sha256(), NULL)) {
		snprintf(err, err_len, "%s: cannot hash", name);
		return -1;
	}
	for (unsigned i = 0; i < dlen; i++)
		snprintf(y->sha256 + 2 * i, 3, "%02x", digest[i]);
	yaml_parser_t parser;
	if (!yaml_parser_initialize(&parser)) {
		snprintf(err, err_len, "%s: out of memory", name);
		return -1;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	int loaded = yaml_parser_load(&parser, &y->doc);
	if (!loaded)
		snprintf(err, err_len, "%s:%lu: %s", name, (unsigned long)parser.problem_mark.line + 1,
			 parser.problem ? parser.problem : "YAML error");
	yaml_parser_delete(&parser);
	if (!loaded)
		return -1;
	yaml_node_t *root = yaml_document_get_root_node(&y->doc);
	const char *s = yaml_scalar(root);
	if (root && root->type == YAML_MAPPING_NODE) {
		y->root = root;
	} else if (root && !(s && !*s)) {
		yaml_file_fail(y, root, "%s", "the configuration must be a mapping of keys");
		yaml_document_delete(&y->doc);
		return -1;
	}
	return 0;
}

int yaml_file_load(struct yaml_file *y, const char *path, char *err, size_t err_len)
{
	yaml_file_init(y, path, err, err_len);
	size_t len = 0;
	unsigned char *text = read_all(path, &len, err, err_len);
	if (!text)
		return -1;
	int rc = yaml_file_parse(y, (const char *)text, len, path, err, err_len);
	free(text);
	return rc;
}

void yaml_file_free(struct yaml_file *y)
{
	yaml_document_delete(&y->doc);
}
