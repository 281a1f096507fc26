/*
 * yamlfile: a configuration file read as one YAML document (libyaml), for
 * the loaders of its sections (blocklists/lists.c: `lists:`, daemon/config.c:
 * the other sections) and of the consent rules
 * (daemon/consent.c). Errors are "file:line: reason".
 */
#ifndef TRACKWATCH_YAMLFILE_H
#define TRACKWATCH_YAMLFILE_H

#include <stddef.h>

#include <yaml.h>

struct yaml_file {
	yaml_document_t doc;
	const char *path;
	char *err;
	size_t err_len;
	yaml_node_t *root;    /* the top-level mapping, or NULL for an empty document */
	char sha256[65];      /* of the file's bytes, hex */
};

/*
 * Reads and parses `path`; its top level must be a mapping (or nothing).
 * Returns 0 (free it with yaml_file_free()), or -1 with the reason in err.
 */
int yaml_file_load(struct yaml_file *y, const char *path, char *err, size_t err_len);
/*
 * The same for `len` bytes of YAML in memory (a file's text, a test's or a
 * fuzzer's input), sha256 included; `name` stands for the file in messages
 * and in y->path, so it must outlive y. Fails, and words its errors, as
 * yaml_file_load() does after reading the file.
 */
int yaml_file_parse(struct yaml_file *y, const char *text, size_t len, const char *name, char *err,
		    size_t err_len);
void yaml_file_free(struct yaml_file *y);

/* Writes "file:line: " and the reason (fmt with one %s) to the error; returns -1. */
int yaml_file_fail(struct yaml_file *y, const yaml_node_t *node, const char *fmt, const char *arg);

/* A node of the document by id (a pair's key or value, a sequence item). */
yaml_node_t *yaml_file_node(struct yaml_file *y, int id);

/* The top-level sections of trackwatch.yaml, NULL-terminated. */
extern const char *const yaml_file_sections[];

/*
 * The top-level key of pair `key_node`, when it is one this version knows
 * (lists, devices, capture, flows, identifiers, store, consent: each loader
 * reads its own; daemon/config.c's table is the daemon's list, and
 * test_config checks that this one agrees); NULL, with the error written,
 * for another.
 */
const char *yaml_file_top_key(struct yaml_file *y, const yaml_node_t *key_node);

/* A scalar's text; NULL for another node, or one holding a NUL ("5\0 rows" is not 5). */
const char *yaml_scalar(const yaml_node_t *node);

#endif
