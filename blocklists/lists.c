/*
 * lists: the configured set of tracker lists (lists.h), read from the YAML
 * configuration with libyaml, and loaded file by file into a new matcher.
 * Each file is read whole (at most LISTS_MAX_FILE bytes), hashed (SHA-256,
 * the evidence of which list version decided) and handed to its parser.
 */
#include "lists.h"

#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
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
static void find_data_dir(void)
{
	const char *env = getenv("TRACKWATCH_DATADIR");
	if (env && *env) {
		snprintf(data_dir, sizeof data_dir, "%s", env);
		return;
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
				return;
			}
		}
	}
	snprintf(data_dir, sizeof data_dir, "%s/lists", TW_DATADIR);
}

/* Found once, whichever thread asks first (a file run loads its lists on a thread of their own). */
const char *lists_data_dir(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, find_data_dir);
	return data_dir;
}

void lists_resolve(const char *configured, char out[LISTS_PATH_MAX])
{
	if (!configured)
		out[0] = '\0';
	else if (configured[0] == '/')
		snprintf(out, LISTS_PATH_MAX, "%s", configured);
	else if (snprintf(out, LISTS_PATH_MAX, "%s/%s", lists_data_dir(), configured) >= LISTS_PATH_MAX)
		out[LISTS_PATH_MAX - 1] = '\0'; /* cut short: no such file is found, and the error names it */
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

/* A list's files, read (and the first one hashed) before it is parsed. */
struct list_files {
	char path[LISTS_PATH_MAX], entities_path[LISTS_PATH_MAX];
	bool has_entities;
	char *buf, *entities;
	size_t len, entities_len;
	char sha256[65];
};

static void list_files_free(struct list_files *f)
{
	free(f->buf);
	free(f->entities);
	f->buf = f->entities = NULL;
}

/* Reads a list's files; 0, or -1 with the error of the first that could not be read. */
static int list_files_read(const struct list_source *src, const char *path, const char *entities_path,
			   struct list_files *f, struct list_load_error *error)
{
	f->buf = read_file(path, &f->len, error);
	if (!f->buf)
		return -1;
	f->entities = NULL;
	f->entities_len = 0;
	if (src->format == LIST_DISCONNECT && entities_path) {
		f->entities = read_file(entities_path, &f->entities_len, error);
		if (!f->entities) {
			list_files_free(f);
			return -1;
		}
	}
	sha256_hex(f->buf, f->len, f->sha256);
	return 0;
}

/* Parses list `list` (registered) from its files (freed here). */
static int parse_files(struct matcher *m, int list, const struct list_source *src, const char *path,
		       const char *entities_path, struct list_files *f, struct list_load_error *error)
{
	char *buf = f->buf, *entities = f->entities;
	size_t len = f->len, entities_len = f->entities_len;
	f->buf = f->entities = NULL;
	struct list_info *info = matcher_list(m, list);
	if (!info) { /* not one matcher_add_list() gave */
		free(buf);
		free(entities);
		return load_error(error, path, 0, "%s", "no such list in the matcher");
	}
	memcpy(info->sha256, f->sha256, sizeof info->sha256);
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

int lists_parse_file(struct matcher *m, const struct list_source *src, const char *path,
		     const char *entities_path, struct list_load_error *error)
{
	int list = matcher_add_list(m, src->name, path, src->format, src->category);
	if (list < 0)
		return load_error(error, path, 0, "%s", "out of memory");
	struct list_files f;
	if (list_files_read(src, path, entities_path, &f, error) < 0)
		return -1;
	return parse_files(m, list, src, path, entities_path, &f, error);
}

/*
 * Builds the matcher, reading each list's files when it comes to it, or
 * taking them from `files` (by index in the set, already read; each freed
 * as it is parsed, the rest on the way out).
 */
static struct matcher *build(const struct list_set *set, int only, struct list_files *files,
			     struct list_load_error *error)
{
	struct matcher *m = matcher_new();
	if (!m) {
		load_error(error, "", 0, "%s", "out of memory");
		goto fail;
	}
	for (int i = 0; i < set->count; i++) {
		if (only >= 0 && i != only)
			continue;
		const struct list_source *src = &set->lists[i];
		char path[LISTS_PATH_MAX], entities[LISTS_PATH_MAX];
		lists_resolve(src->path, path);
		lists_resolve(src->entities, entities);
		int rc;
		if (files) {
			int list = matcher_add_list(m, src->name, path, src->format, src->category);
			rc = list < 0 ? load_error(error, path, 0, "%s", "out of memory")
				      : parse_files(m, list, src, path, src->entities ? entities : NULL,
						    &files[i], error);
		} else {
			rc = lists_parse_file(m, src, path, src->entities ? entities : NULL, error);
		}
		if (rc < 0)
			goto fail;
	}
	if (matcher_finish(m) < 0) {
		load_error(error, "", 0, "%s", "out of memory");
		goto fail;
	}
	return m;
fail:
	matcher_free(m);
	for (int i = 0; files && i < set->count; i++)
		list_files_free(&files[i]);
	return NULL;
}

/*
 * ---- The cache of built matchers ----
 *
 * Building the matcher of the default lists (5 MB of filter lists and JSON)
 * takes about 90 ms, at every start. A matcher built from a set of at least
 * CACHE_MIN_BYTES is kept as a snapshot (matcher_snapshot()) in the user's
 * cache directory, and read back in a few milliseconds by the next start
 * whose lists and program are the same: its key is the SHA-256 of the
 * program's build id, jansson's version, each list's configuration and the
 * SHA-256 of each of its files' bytes, all read again at every start (they
 * are the run's evidence too). So a list changed in any way, or a program
 * built anew, builds (and keeps) a new one; the result is the same matcher
 * either way. A cache file that is not the user's own, or is writable by
 * others, or does not check (a checksum over it), is not read. One file per
 * program and set of list paths, replaced by the newest.
 *
 * Where: $TRACKWATCH_CACHE_DIR (empty: no cache), else systemd's
 * $CACHE_DIRECTORY, else $XDG_CACHE_HOME/trackwatch, else
 * $HOME/.cache/trackwatch.
 */
enum { CACHE_MIN_BYTES = 1 << 20 };
#define CACHE_MAGIC "TWLISTS1"

struct cache_header {
	char magic[8];
	uint32_t header_size, pad;
	unsigned char key[32];
	uint64_t payload_size;
	uint64_t checksum;
};

static bool make_dir(const char *path)
{
	if (mkdir(path, 0700) == 0 || errno == EEXIST)
		return is_dir(path);
	return false;
}

static bool cache_dir(char out[LISTS_PATH_MAX])
{
	const char *env = getenv("TRACKWATCH_CACHE_DIR");
	int n;
	if (env) {
		if (!*env)
			return false;
		n = snprintf(out, LISTS_PATH_MAX, "%s", env);
	} else if ((env = getenv("CACHE_DIRECTORY")) && env[0] == '/') {
		/* systemd's CacheDirectory=: the first, when it names several. */
		n = snprintf(out, LISTS_PATH_MAX, "%.*s", (int)strcspn(env, ":"), env);
	} else if ((env = getenv("XDG_CACHE_HOME")) && env[0] == '/') {
		n = snprintf(out, LISTS_PATH_MAX, "%s/trackwatch", env);
	} else if ((env = getenv("HOME")) && env[0] == '/') {
		char parent[LISTS_PATH_MAX];
		if (snprintf(parent, sizeof parent, "%s/.cache", env) >= (int)sizeof parent ||
		    !make_dir(parent))
			return false;
		n = snprintf(out, LISTS_PATH_MAX, "%s/trackwatch", parent);
	} else {
		return false;
	}
	return n > 0 && n < LISTS_PATH_MAX - 64 && make_dir(out);
}

/* The GNU build id of the running program: what its code is. */
struct build_id {
	unsigned char bytes[64];
	size_t len;
};

static int find_build_id(struct dl_phdr_info *info, size_t size, void *context)
{
	(void)size;
	struct build_id *id = context;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_NOTE)
			continue;
		const char *p = (const char *)(info->dlpi_addr + ph->p_vaddr), *end = p + ph->p_memsz;
		while (p + sizeof(ElfW(Nhdr)) <= end) {
			const ElfW(Nhdr) *note = (const ElfW(Nhdr) *)(const void *)p;
			const char *name = p + sizeof *note;
			const unsigned char *desc = (const unsigned char *)name + ((note->n_namesz + 3) & ~3u);
			if ((const char *)desc + note->n_descsz > end)
				break;
			if (note->n_type == NT_GNU_BUILD_ID && note->n_namesz == 4 &&
			    memcmp(name, "GNU", 4) == 0 && note->n_descsz <= sizeof id->bytes) {
				memcpy(id->bytes, desc, note->n_descsz);
				id->len = note->n_descsz;
				return 1;
			}
			p = (const char *)desc + ((note->n_descsz + 3) & ~3u);
		}
	}
	return 1; /* the program is the first object: no further */
}

static void hash_text(EVP_MD_CTX *md, const char *text)
{
	EVP_DigestUpdate(md, text ? text : "", text ? strlen(text) + 1 : 1);
	EVP_DigestUpdate(md, text ? "+" : "-", 1);
}

/*
 * The cache file's name (the program's path and the lists' names and
 * formats: a new build, or new list files, replace the file) and its key
 * (those, the program's build, the lists' configuration and the files'
 * bytes).
 */
static bool cache_key(const struct list_set *set, const struct list_files *files, char name[64],
		      unsigned char key[32])
{
	struct build_id id = { .len = 0 };
	dl_iterate_phdr(find_build_id, &id);
	char exe[LISTS_PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (id.len == 0 || n <= 0)
		return false;
	exe[n] = '\0';
	bool ok = true;
	unsigned char digest[32];
	unsigned len = 0;
	for (int pass = 0; pass < 2 && ok; pass++) {
		EVP_MD_CTX *md = EVP_MD_CTX_new();
		ok = md && EVP_DigestInit_ex(md, EVP_sha256(), NULL);
		if (ok) {
			hash_text(md, CACHE_MAGIC);
			if (pass == 0) {
				hash_text(md, exe);
			} else {
				EVP_DigestUpdate(md, id.bytes, id.len);
				hash_text(md, jansson_version_str());
			}
			for (int i = 0; i < set->count; i++) {
				const struct list_source *src = &set->lists[i];
				char format[16];
				snprintf(format, sizeof format, "%d", (int)src->format);
				hash_text(md, src->name);
				hash_text(md, format);
				if (pass == 0)
					continue; /* the name: the program and the lists' names */
				hash_text(md, files[i].path);
				hash_text(md, files[i].has_entities ? files[i].entities_path : NULL);
				hash_text(md, src->category);
				hash_text(md, src->not_tracking_set ? "set" : NULL);
				for (size_t k = 0; src->not_tracking_set && k < sizeof src->not_tracking /
									   sizeof src->not_tracking[0]; k++)
					hash_text(md, src->not_tracking[k]);
				if (pass == 1) {
					hash_text(md, files[i].sha256);
					/* The entities file's bytes (its hash is no evidence, so taken here). */
					unsigned char e[32];
					unsigned elen = 0;
					if (files[i].entities &&
					    !EVP_Digest(files[i].entities, files[i].entities_len, e, &elen,
							EVP_sha256(), NULL))
						ok = false;
					EVP_DigestUpdate(md, e, files[i].entities ? elen : 0);
				}
			}
			ok = ok && EVP_DigestFinal_ex(md, digest, &len) && len == 32;
		}
		EVP_MD_CTX_free(md);
		if (ok && pass == 0) {
			memcpy(name, "matcher-", 8);
			for (int i = 0; i < 16; i++)
				snprintf(name + 8 + 2 * i, 3, "%02x", digest[i]);
		} else if (ok) {
			memcpy(key, digest, 32);
		}
	}
	return ok;
}

/*
 * A checksum of the payload against a file damaged on disk (not against an
 * adversary: the cache directory is the user's own): Fletcher's two sums,
 * over 64-bit words in eight lanes, which the compiler runs as vector adds.
 * Taken piece by piece, as each piece is read (while it is in the cache).
 */
struct checksum {
	uint64_t a[8], b[8];
};

/* Adds `len` bytes (a multiple of 64). */
static void checksum_add(struct checksum *c, const void *data, size_t len)
{
	const unsigned char *p = data;
	for (size_t i = 0; i + 64 <= len; i += 64) {
		uint64_t w[8];
		memcpy(w, p + i, sizeof w);
		for (int k = 0; k < 8; k++) {
			c->a[k] += w[k];
			c->b[k] += c->a[k];
		}
	}
}

static uint64_t checksum_end(const struct checksum *c, size_t len)
{
	uint64_t h = len;
	for (int k = 0; k < 8; k++) {
		h = (h ^ c->a[k]) * 0xff51afd7ed558ccdULL;
		h = (h ^ c->b[k]) * 0xc4ceb9fe1a85ec53ULL;
		h ^= h >> 33;
	}
	return h;
}

static uint64_t checksum(const void *data, size_t len)
{
	struct checksum c = { { 0 }, { 0 } };
	checksum_add(&c, data, len);
	return checksum_end(&c, len);
}

static bool read_all(int fd, void *buf, size_t len)
{
	for (size_t done = 0; done < len;) {
		ssize_t n = read(fd, (char *)buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		done += (size_t)n;
	}
	return true;
}

/* Reads `len` bytes (a multiple of 64) whose checksum must be `sum`. */
static bool read_summed(int fd, void *buf, size_t len, uint64_t sum)
{
	enum { PIECE = 256 << 10 };
	struct checksum c = { { 0 }, { 0 } };
	for (size_t done = 0; done < len; done += PIECE) {
		size_t n = len - done < PIECE ? len - done : PIECE;
		if (!read_all(fd, (char *)buf + done, n))
			return false;
		checksum_add(&c, (char *)buf + done, n);
	}
	return checksum_end(&c, len) == sum;
}

static bool write_all(int fd, const void *buf, size_t len)
{
	for (size_t done = 0; done < len;) {
		ssize_t n = write(fd, (const char *)buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		done += (size_t)n;
	}
	return true;
}

/*
 * The block a snapshot is read into, its pages made at once (20 MB page by
 * page, as read() would fault them in, is 5000 page faults).
 */
static void *block_alloc(size_t size)
{
	void *block = aligned_alloc(64, size);
#ifdef MADV_POPULATE_WRITE
	if (block && size >= (1 << 20)) {
		uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
		uintptr_t start = ((uintptr_t)block + page - 1) & ~(page - 1);
		uintptr_t end = ((uintptr_t)block + size) & ~(page - 1);
		if (end > start)
			madvise((void *)start, end - start, MADV_POPULATE_WRITE);
	}
#endif
	return block;
}

/*
 * At most CACHE_FILES are kept: the least recently used go (their time is
 * brought forward at each use), so that programs run from ever new places (a
 * test's staging directory) do not fill the disk.
 */
enum { CACHE_FILES = 6 };

static void cache_prune(const char *dir, const char *keep)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct {
		char name[64];
		struct timespec mtime;
	} files[CACHE_FILES + 1];
	size_t count = 0;
	struct dirent *e;
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	while ((e = readdir(d))) {
		struct stat st;
		/* A snapshot left half written (its writer killed) an hour ago goes too. */
		if (strncmp(e->d_name, ".matcher-", 9) == 0 &&
		    fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
		    st.st_uid == geteuid() && st.st_mtim.tv_sec + 3600 < now.tv_sec) {
			unlinkat(dirfd(d), e->d_name, 0);
			continue;
		}
		if (strncmp(e->d_name, "matcher-", 8) != 0 || strlen(e->d_name) >= sizeof files[0].name ||
		    strcmp(e->d_name, keep) == 0 || fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(st.st_mode) || st.st_uid != geteuid())
			continue;
		/* Keep the newest CACHE_FILES - 1 (and `keep`) in files[], sorted newest first. */
		size_t at = count;
		while (at > 0 && (files[at - 1].mtime.tv_sec < st.st_mtim.tv_sec ||
				  (files[at - 1].mtime.tv_sec == st.st_mtim.tv_sec &&
				   files[at - 1].mtime.tv_nsec < st.st_mtim.tv_nsec)))
			at--;
		if (at >= CACHE_FILES - 1) {
			unlinkat(dirfd(d), e->d_name, 0);
			continue;
		}
		if (count == CACHE_FILES - 1) {
			unlinkat(dirfd(d), files[count - 1].name, 0);
			count--;
		}
		memmove(&files[at + 1], &files[at], (count - at) * sizeof files[0]);
		memcpy(files[at].name, e->d_name, strlen(e->d_name) + 1); /* shorter than name[], above */
		files[at].mtime = st.st_mtim;
		count++;
	}
	closedir(d);
}

static struct matcher *cache_read(const char *path, const unsigned char key[32])
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return NULL;
	struct stat st;
	struct cache_header h;
	void *block = NULL;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 022) || (uint64_t)st.st_size < sizeof h || !read_all(fd, &h, sizeof h) ||
	    memcmp(h.magic, CACHE_MAGIC, 8) != 0 || h.header_size != sizeof h ||
	    memcmp(h.key, key, 32) != 0 || h.payload_size != (uint64_t)st.st_size - sizeof h ||
	    h.payload_size % 64 != 0 || h.payload_size > LISTS_MAX_FILE ||
	    !(block = block_alloc(h.payload_size)) || !read_summed(fd, block, h.payload_size, h.checksum)) {
		free(block);
		close(fd);
		return NULL;
	}
	futimens(fd, NULL); /* used: kept longest (cache_prune()) */
	close(fd);
	return matcher_from_snapshot(block, h.payload_size);
}

/* Keeps a snapshot of `m`: written beside, then renamed over the old one. */
static void cache_write(const char *dir, const char *path, const unsigned char key[32],
			const struct matcher *m)
{
	void *payload = NULL;
	size_t size = matcher_snapshot(m, &payload);
	char tmp[LISTS_PATH_MAX + 64];
	snprintf(tmp, sizeof tmp, "%s/.matcher-XXXXXX", dir);
	int fd = size ? mkstemp(tmp) : -1;
	if (fd >= 0) {
		struct cache_header h;
		memset(&h, 0, sizeof h);
		memcpy(h.magic, CACHE_MAGIC, 8);
		h.header_size = sizeof h;
		memcpy(h.key, key, 32);
		h.payload_size = size;
		h.checksum = checksum(payload, size);
		bool ok = write_all(fd, &h, sizeof h) && write_all(fd, payload, size);
		ok = close(fd) == 0 && ok;
		if (!ok || rename(tmp, path) != 0)
			unlink(tmp);
		else
			cache_prune(dir, strrchr(path, '/') + 1);
	}
	free(payload);
}

struct matcher *lists_build(const struct list_set *set, int only, struct list_load_error *error)
{
	memset(error, 0, sizeof *error);
	char dir[LISTS_PATH_MAX];
	if (only >= 0 || set->count == 0 || !cache_dir(dir))
		return build(set, only, NULL, error);
	/* Every file read (and hashed) first: the key needs their bytes. */
	struct list_files *files = calloc((size_t)set->count, sizeof *files);
	if (!files)
		return build(set, only, NULL, error);
	uint64_t total = 0;
	for (int i = 0; i < set->count; i++) {
		const struct list_source *src = &set->lists[i];
		struct list_files *f = &files[i];
		lists_resolve(src->path, f->path);
		lists_resolve(src->entities, f->entities_path);
		f->has_entities = src->entities != NULL;
		struct list_load_error ignored;
		if (list_files_read(src, f->path, f->has_entities ? f->entities_path : NULL, f,
				    &ignored) < 0) {
			/* Read again as the lists are parsed, to fail where it fails. */
			for (int k = 0; k < i; k++)
				list_files_free(&files[k]);
			free(files);
			return build(set, only, NULL, error);
		}
		total += f->len + f->entities_len;
	}
	char name[64], path[LISTS_PATH_MAX + 64];
	unsigned char key[32];
	struct matcher *m = NULL;
	bool cacheable = total >= CACHE_MIN_BYTES && cache_key(set, files, name, key);
	if (cacheable) {
		snprintf(path, sizeof path, "%s/%s", dir, name);
		m = cache_read(path, key);
	}
	if (m) {
		for (int i = 0; i < set->count; i++)
			list_files_free(&files[i]);
	} else {
		m = build(set, only, files, error);
		if (m && cacheable)
			cache_write(dir, path, key, m);
	}
	free(files);
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
