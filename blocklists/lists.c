/*
 * lists: the configured set of tracker lists (lists.h), read from the YAML
 * configuration with libyaml, and loaded file by file into a new matcher.
 * Each file is read whole (at most LISTS_MAX_FILE bytes), hashed (SHA-256,
 * the evidence of which list version decided) and handed to its parser.
 */
#include "lists.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "parsers.h"
#include "yamlfile.h"

#ifndef TW_DATADIR
#define TW_DATADIR "/usr/local/share/trackwatch"
#endif

#define UBLOCK_ASSETS "/usr/share/mozilla/extensions/{ec8030f7-c20a-464f-9b0e-13a3a9e97384}/" \
	"uBlock0@raymondhill.net/assets/thirdparties"

/* The largest list file read: the biggest real lists are a few MB. */
#define LISTS_MAX_FILE ((size_t)512 << 20)

static char data_dir[LISTS_PATH_MAX];

static bool is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/*
 * In order: $TRACKWATCH_DATADIR; beside the running program, the build
 * tree's blocklists/data (build/trackwatch, build/asan/trackwatch) or an
 * installed tree's share/trackwatch/lists (bin/trackwatch, so a staged or
 * moved installation finds its own lists); else the directory compiled in.
 */
const char *lists_data_dir(void)
{
	if (data_dir[0])
		return data_dir;
	const char *env = getenv("TRACKWATCH_DATADIR");
	if (env && *env) {
		snprintf(data_dir, sizeof data_dir, "%s", env);
		return data_dir;
	}
	char exe[LISTS_PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n > 0) {
		exe[n] = '\0';
		for (int up = 0; up < 3; up++) {
			char *slash = strrchr(exe, '/');
			if (!slash)
				break;
			*slash = '\0';
			char probe[LISTS_PATH_MAX + 64];
			snprintf(probe, sizeof probe, "%s/blocklists/data", exe);
			if (!is_dir(probe))
				snprintf(probe, sizeof probe, "%s/share/trackwatch/lists", exe);
			if (is_dir(probe) && strlen(probe) < sizeof data_dir) {
				memcpy(data_dir, probe, strlen(probe) + 1);
				return data_dir;
			}
		}
	}
	snprintf(data_dir, sizeof data_dir, "%s/lists", TW_DATADIR);
	return data_dir;
}

void lists_resolve(const char *configured, char out[LISTS_PATH_MAX])
{
	if (!configured)
		out[0] = '\0';
	else if (configured[0] == '/')
		snprintf(out, LISTS_PATH_MAX, "%s", configured);
	else
		snprintf(out, LISTS_PATH_MAX, "%s/%s", lists_data_dir(), configured);
}

static int add_source(struct list_set *set, const char *name, enum list_format format, const char *path,
		      const char *entities, const char *category)
{
	if (set->count >= MATCHER_MAX_LISTS)
		return -1;
	struct list_source *s = &set->lists[set->count];
	memset(s, 0, sizeof *s);
	s->name = strdup(name);
	s->format = format;
	s->path = strdup(path);
	s->entities = entities ? strdup(entities) : NULL;
	s->category = category ? strdup(category) : NULL;
	set->count++;
	if (!s->name || !s->path || (entities && !s->entities) || (category && !s->category))
		return -1;
	return 0;
}

int lists_default(struct list_set *set)
{
	memset(set, 0, sizeof *set);
	if (add_source(set, "easyprivacy", LIST_ABP, UBLOCK_ASSETS "/easylist/easyprivacy.txt", NULL, "Tracking") < 0 ||
	    add_source(set, "easylist", LIST_ABP, UBLOCK_ASSETS "/easylist/easylist.txt", NULL, "Advertising") < 0 ||
	    add_source(set, "disconnect", LIST_DISCONNECT, "disconnect/services.json",
		       "disconnect/entities.json", NULL) < 0 ||
	    add_source(set, "cookiedb", LIST_COOKIEDB, "open-cookie-database/open-cookie-database.csv",
		       NULL, NULL) < 0 ||
	    add_source(set, "duckduckgo-entities", LIST_TDS, "duckduckgo/entities.json", NULL,
		       NULL) < 0) {
		lists_free(set);
		return -1;
	}
	return 0;
}

void lists_free(struct list_set *set)
{
	for (int i = 0; i < set->count; i++) {
		struct list_source *s = &set->lists[i];
		free(s->name);
		free(s->path);
		free(s->entities);
		free(s->url);
		free(s->entities_url);
		free(s->category);
		for (size_t k = 0; k < sizeof s->not_tracking / sizeof s->not_tracking[0]; k++)
			free(s->not_tracking[k]);
	}
	free(set->config_path);
	memset(set, 0, sizeof *set);
}

/* ---- The YAML section ---- */

static int string_value(struct yaml_file *y, const char *key, const yaml_node_t *value, char **out)
{
	const char *s = yaml_scalar(value);
	if (!s || !*s)
		return yaml_file_fail(y, value, "'%s' must be a non-empty string", key);
	if (strlen(s) >= LISTS_PATH_MAX)
		return yaml_file_fail(y, value, "'%s' is too long", key);
	free(*out);
	*out = strdup(s);
	return *out ? 0 : yaml_file_fail(y, value, "%s: out of memory", key);
}

static int load_source(struct yaml_file *y, struct list_set *set, yaml_node_t *item)
{
	if (item->type != YAML_MAPPING_NODE)
		return yaml_file_fail(y, item, "%s", "each list must be a mapping (name, format, path, ...)");
	if (set->count >= MATCHER_MAX_LISTS)
		return yaml_file_fail(y, item, "more than %s lists", "64");
	struct list_source *s = &set->lists[set->count++];
	memset(s, 0, sizeof *s);
	s->config_line = (unsigned)item->start_mark.line + 1;
	char *format = NULL;
	int rc = 0;
	for (yaml_node_pair_t *p = item->data.mapping.pairs.start; rc == 0 && p < item->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_file_node(y, p->key);
		yaml_node_t *v = yaml_file_node(y, p->value);
		const char *key = yaml_scalar(k);
		if (!key)
			rc = yaml_file_fail(y, k, "%s", "a key must be a string");
		else if (strcmp(key, "name") == 0)
			rc = string_value(y, key, v, &s->name);
		else if (strcmp(key, "format") == 0)
			rc = string_value(y, key, v, &format);
		else if (strcmp(key, "path") == 0)
			rc = string_value(y, key, v, &s->path);
		else if (strcmp(key, "entities") == 0)
			rc = string_value(y, key, v, &s->entities);
		else if (strcmp(key, "url") == 0)
			rc = string_value(y, key, v, &s->url);
		else if (strcmp(key, "entities_url") == 0)
			rc = string_value(y, key, v, &s->entities_url);
		else if (strcmp(key, "category") == 0)
			rc = string_value(y, key, v, &s->category);
		else if (strcmp(key, "not_tracking") == 0) {
			if (!v || v->type != YAML_SEQUENCE_NODE) {
				rc = yaml_file_fail(y, v, "%s", "'not_tracking' must be a list of category names");
				break;
			}
			/* A key given twice: the second replaces the first whole. */
			for (size_t k = 0; k < sizeof s->not_tracking / sizeof s->not_tracking[0]; k++) {
				free(s->not_tracking[k]);
				s->not_tracking[k] = NULL;
			}
			s->not_tracking_set = true;
			size_t n = 0;
			for (yaml_node_item_t *i = v->data.sequence.items.start; rc == 0 && i < v->data.sequence.items.top; i++) {
				if (n + 1 >= sizeof s->not_tracking / sizeof s->not_tracking[0])
					rc = yaml_file_fail(y, v, "%s", "'not_tracking' has more than 15 names");
				else
					rc = string_value(y, key, yaml_file_node(y, *i), &s->not_tracking[n++]);
			}
		} else {
			rc = yaml_file_fail(y, k, "unknown key '%s' in a list (known: name, format, path, entities, url, entities_url, category, not_tracking)", key);
		}
	}
	if (rc == 0 && !s->name)
		rc = yaml_file_fail(y, item, "%s", "a list needs a 'name'");
	if (rc == 0 && !format)
		rc = yaml_file_fail(y, item, "list '%s' needs a 'format' (hosts, domains, abp, disconnect, tds, cookiedb)", s->name);
	if (rc == 0 && !s->path)
		rc = yaml_file_fail(y, item, "list '%s' needs a 'path'", s->name);
	if (rc == 0) {
		int f = list_format_from_name(format);
		if (f < 0)
			rc = yaml_file_fail(y, item, "unknown format '%s' (hosts, domains, abp, disconnect, tds, cookiedb)", format);
		s->format = (enum list_format)f;
	}
	if (rc == 0 && (s->entities || s->entities_url) && s->format != LIST_DISCONNECT)
		rc = yaml_file_fail(y, item, "list '%s': 'entities' is for the disconnect format only", s->name);
	for (int i = 0; rc == 0 && i < set->count - 1; i++)
		if (strcmp(set->lists[i].name, s->name) == 0)
			rc = yaml_file_fail(y, item, "list name '%s' is used twice", s->name);
	free(format);
	return rc;
}

int lists_load_config(struct list_set *set, const char *path, char *err, size_t err_len)
{
	memset(set, 0, sizeof *set);
	struct yaml_file y;
	if (yaml_file_load(&y, path, err, err_len) != 0)
		return -1;
	int rc = 0;
	bool have_lists = false;
	for (yaml_node_pair_t *p = y.root ? y.root->data.mapping.pairs.start : NULL;
	     rc == 0 && p && p < y.root->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_file_node(&y, p->key);
		yaml_node_t *v = yaml_file_node(&y, p->value);
		const char *key = yaml_file_top_key(&y, k);
		if (!key) {
			rc = -1;
			break;
		}
		if (strcmp(key, "lists") != 0)
			continue; /* the daemon's own sections: daemon/config.c */
		if (!v || v->type != YAML_SEQUENCE_NODE) {
			rc = yaml_file_fail(&y, v, "%s", "'lists' must be a sequence of lists");
			break;
		}
		have_lists = true;
		for (yaml_node_item_t *i = v->data.sequence.items.start; rc == 0 && i < v->data.sequence.items.top; i++)
			rc = load_source(&y, set, yaml_file_node(&y, *i));
	}
	yaml_file_free(&y);
	if (rc == 0 && !have_lists)
		rc = lists_default(set);
	if (rc == 0) {
		set->config_path = strdup(path);
		if (!set->config_path)
			rc = -1;
	}
	if (rc < 0)
		lists_free(set);
	return rc;
}

/* ---- Loading ---- */

static int load_error(struct list_load_error *e, const char *file, unsigned line, const char *fmt, const char *arg)
{
	snprintf(e->file, sizeof e->file, "%s", file);
	e->line = line;
	snprintf(e->reason, sizeof e->reason, fmt, arg);
	return -1;
}

/* The whole file in a malloc'd buffer (NUL after its end, not counted). */
static char *read_file(const char *path, size_t *len, struct list_load_error *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		load_error(e, path, 0, "%s", strerror(errno));
		return NULL;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		load_error(e, path, 0, "%s", "not a regular file");
		close(fd);
		return NULL;
	}
	if ((uint64_t)st.st_size > LISTS_MAX_FILE) {
		load_error(e, path, 0, "%s", "larger than 512 MiB: not a list");
		close(fd);
		return NULL;
	}
	size_t cap = (size_t)st.st_size + 1, used = 0;
	char *buf = malloc(cap);
	if (!buf) {
		load_error(e, path, 0, "%s", "out of memory");
		close(fd);
		return NULL;
	}
	for (;;) {
		if (used + 1 == cap) {
			/* The file grew while we read: take what fits the limit. */
			if (cap > LISTS_MAX_FILE) {
				free(buf);
				close(fd);
				load_error(e, path, 0, "%s", "larger than 512 MiB: not a list");
				return NULL;
			}
			char *bigger = realloc(buf, cap * 2);
			if (!bigger) {
				free(buf);
				close(fd);
				load_error(e, path, 0, "%s", "out of memory");
				return NULL;
			}
			buf = bigger;
			cap *= 2;
		}
		ssize_t n = read(fd, buf + used, cap - used - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			load_error(e, path, 0, "%s", strerror(errno));
			free(buf);
			close(fd);
			return NULL;
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	close(fd);
	buf[used] = '\0';
	*len = used;
	return buf;
}

static void sha256_hex(const char *buf, size_t len, char out[65])
{
	unsigned char md[32];
	unsigned int md_len = 0;
	out[0] = '\0';
	if (!EVP_Digest(buf, len, md, &md_len, EVP_sha256(), NULL) || md_len != 32)
		return;
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

int lists_parse_file(struct matcher *m, const struct list_source *src, const char *path,
		     const char *entities_path, struct list_load_error *error)
{
	int list = matcher_add_list(m, src->name, path, src->format, src->category);
	if (list < 0)
		return load_error(error, path, 0, "%s", "out of memory");
	size_t len = 0, entities_len = 0;
	char *buf = read_file(path, &len, error);
	if (!buf)
		return -1;
	char *entities = NULL;
	if (src->format == LIST_DISCONNECT && entities_path) {
		entities = read_file(entities_path, &entities_len, error);
		if (!entities) {
			free(buf);
			return -1;
		}
	}
	struct list_info *info = matcher_list(m, list);
	sha256_hex(buf, len, info->sha256);
	info->bytes = len;
	struct parse_error perr = { 0 };
	int rc;
	switch (src->format) {
	case LIST_HOSTS:
		rc = parse_hosts(m, list, buf, len, &perr);
		break;
	case LIST_DOMAINS:
		rc = parse_domains(m, list, buf, len, &perr);
		break;
	case LIST_ABP:
		rc = parse_abp(m, list, buf, len, &perr);
		break;
	case LIST_DISCONNECT:
		rc = parse_disconnect(m, list, buf, len, entities, entities_len,
				      src->not_tracking_set ? (const char *const *)src->not_tracking : NULL, &perr);
		break;
	case LIST_TDS:
		rc = parse_tds(m, list, buf, len, &perr);
		break;
	case LIST_COOKIEDB:
		rc = parse_cookiedb(m, list, buf, len, &perr);
		break;
	default:
		rc = parse_fail(&perr, 0, "unknown format");
		break;
	}
	free(buf);
	free(entities);
	if (rc < 0) {
		/* A Disconnect error may be in either file: the parser says which. */
		load_error(error, path, perr.line, "%s", perr.reason);
		if (entities_path && strncmp(perr.reason, "entities", 8) == 0)
			snprintf(error->file, sizeof error->file, "%s", entities_path);
		return -1;
	}
	return 0;
}

struct matcher *lists_build(const struct list_set *set, int only, struct list_load_error *error)
{
	memset(error, 0, sizeof *error);
	struct matcher *m = matcher_new();
	if (!m) {
		load_error(error, "", 0, "%s", "out of memory");
		return NULL;
	}
	for (int i = 0; i < set->count; i++) {
		if (only >= 0 && i != only)
			continue;
		const struct list_source *src = &set->lists[i];
		char path[LISTS_PATH_MAX], entities[LISTS_PATH_MAX];
		lists_resolve(src->path, path);
		lists_resolve(src->entities, entities);
		if (lists_parse_file(m, src, path, src->entities ? entities : NULL, error) < 0) {
			matcher_free(m);
			return NULL;
		}
	}
	if (matcher_finish(m) < 0) {
		load_error(error, "", 0, "%s", "out of memory");
		matcher_free(m);
		return NULL;
	}
	return m;
}

/* ---- The matcher in use ---- */

struct lists_ref {
	struct matcher *matcher;
	atomic_uint refs;
};

struct lists_live {
	pthread_mutex_t lock;      /* guards `current` while a reference is taken or swapped */
	struct lists_ref *current;
	unsigned generation;
};

static struct lists_ref *ref_new(struct matcher *m)
{
	struct lists_ref *ref = malloc(sizeof *ref);
	if (!ref)
		return NULL;
	ref->matcher = m;
	atomic_init(&ref->refs, 1);   /* the holder's own reference */
	return ref;
}

struct lists_live *lists_live_new(struct matcher *first)
{
	struct lists_live *live = calloc(1, sizeof *live);
	if (!live)
		return NULL;
	if (pthread_mutex_init(&live->lock, NULL) != 0) {
		free(live);
		return NULL;
	}
	if (first && !(live->current = ref_new(first))) {
		pthread_mutex_destroy(&live->lock);
		free(live);
		return NULL;
	}
	return live;
}

void lists_release(const struct lists_ref *cref)
{
	struct lists_ref *ref = (struct lists_ref *)cref;
	if (ref && atomic_fetch_sub(&ref->refs, 1) == 1) {
		matcher_free(ref->matcher);
		free(ref);
	}
}

void lists_live_free(struct lists_live *live)
{
	if (!live)
		return;
	lists_release(live->current);
	pthread_mutex_destroy(&live->lock);
	free(live);
}

const struct lists_ref *lists_acquire(struct lists_live *live)
{
	pthread_mutex_lock(&live->lock);
	struct lists_ref *ref = live->current;
	if (ref)
		atomic_fetch_add(&ref->refs, 1);
	pthread_mutex_unlock(&live->lock);
	return ref;
}

const struct matcher *lists_ref_matcher(const struct lists_ref *ref)
{
	return ref ? ref->matcher : NULL;
}

int lists_reload(struct lists_live *live, const struct list_set *set, struct list_load_error *error,
		 unsigned *generation)
{
	/* Built outside the lock: lookups go on in the old matcher meanwhile. */
	struct matcher *m = lists_build(set, -1, error);
	if (!m)
		return -1;
	struct lists_ref *ref = ref_new(m);
	if (!ref) {
		matcher_free(m);
		load_error(error, "", 0, "%s", "out of memory");
		return -1;
	}
	pthread_mutex_lock(&live->lock);
	struct lists_ref *old = live->current;
	live->current = ref;
	unsigned gen = ++live->generation;
	pthread_mutex_unlock(&live->lock);
	lists_release(old);
	if (generation)
		*generation = gen;
	return 0;
}
