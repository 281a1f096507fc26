/*
 * lists: which tracker lists to load and where from, and loading them all
 * into one matcher. The set comes from the `lists:` section of
 * trackwatch.yaml or, without one, from the defaults below; a list path that
 * is not absolute is taken under the bundled lists directory
 * (lists_data_dir()), so the same configuration works from the build tree
 * and after `make install`.
 *
 * Defaults (in this precedence order): EasyPrivacy and EasyList as Debian's
 * webext-ublock-origin-firefox ships them, Disconnect (bundled, CC BY-NC-SA
 * 4.0), the Open Cookie Database (bundled, Apache-2.0) and DuckDuckGo's
 * companies of domains and CNAME aliases (bundled, derived from its Tracker
 * Data Set, CC BY-NC-SA 4.0; no tracker verdicts of its own).
 */
#ifndef TRACKWATCH_LISTS_H
#define TRACKWATCH_LISTS_H

#include <stdbool.h>
#include <stddef.h>

#include "matcher.h"

enum { LISTS_PATH_MAX = 4096 };

struct list_source {
	char *name;
	enum list_format format;
	char *path;                /* as configured */
	char *entities;            /* Disconnect: entities.json, or NULL */
	char *url;                 /* for `trackwatch lists update`, or NULL */
	char *entities_url;
	char *category;            /* what the list's filter rules mean, or NULL */
	char *not_tracking[16];    /* Disconnect categories that are no verdict; NULL-terminated */
	bool not_tracking_set;     /* the configuration gave them (else the default) */
	unsigned config_line;      /* where it was configured, 0 for a default */
};

struct list_set {
	struct list_source lists[MATCHER_MAX_LISTS];
	int count;
	char *config_path;         /* NULL for the built-in defaults */
};

/* Where the bundled lists are: $TRACKWATCH_DATADIR, else blocklists/data beside the build tree's program, else the installed directory. */
const char *lists_data_dir(void);

/* The path a source's `path` (or entities) names: absolute as is, else under lists_data_dir(). */
void lists_resolve(const char *configured, char out[LISTS_PATH_MAX]);

/* The built-in default set. Returns 0 or -1 (out of memory). */
int lists_default(struct list_set *set);

/*
 * The `lists:` section of the YAML file at `path` (other top-level keys are
 * errors until the daemon's configuration knows them). A file without a
 * `lists:` key gives the defaults. Returns 0, or -1 with "file:line: reason"
 * in err.
 */
int lists_load_config(struct list_set *set, const char *path, char *err, size_t err_len);

void lists_free(struct list_set *set);

/* What loading one list gave: the matcher's list_info, or an error. */
struct list_load_error {
	char file[LISTS_PATH_MAX];
	unsigned line;
	char reason[256];
};

/*
 * Reads and parses every list of the set into a new matcher and finishes it.
 * On success returns the matcher; on the first list that fails returns NULL
 * with that list's error (the caller keeps its old matcher). `only` >= 0
 * loads that one list alone (to check a download).
 */
struct matcher *lists_build(const struct list_set *set, int only, struct list_load_error *error);

/* Parses one list from a file at `path` (not the configured one) into m: used to check a download. */
int lists_parse_file(struct matcher *m, const struct list_source *src, const char *path,
		     const char *entities_path, struct list_load_error *error);

/*
 * The matcher in use, shared by the threads that look up in it and replaced
 * whole on a reload: lists_reload() builds a new matcher beside the old one
 * and swaps a pointer; a list that fails to load leaves the old matcher in
 * place. A reader takes a reference (lists_acquire), looks up as long as it
 * likes without locks, and gives it back (lists_release); the matcher it
 * held is freed when the last reference goes, so a swap never pulls a
 * matcher from under a lookup.
 */
struct lists_live;

/* A holder with `first` in use (may be NULL: no lists yet); NULL when out of memory. Takes `first`. */
struct lists_live *lists_live_new(struct matcher *first);
/* Frees the holder; matchers still acquired are freed when released. */
void lists_live_free(struct lists_live *live);

struct lists_ref;   /* a reference to one matcher */
/* The matcher in use now, referenced; release it when done. NULL when there is none. */
const struct lists_ref *lists_acquire(struct lists_live *live);
const struct matcher *lists_ref_matcher(const struct lists_ref *ref);
void lists_release(const struct lists_ref *ref);

/*
 * Builds the lists of `set` into a new matcher and puts it in use. Returns
 * 0, or -1 with the failing list's file, line and reason in `error`; the
 * matcher in use then stays. `generation` (may be NULL) counts swaps.
 */
int lists_reload(struct lists_live *live, const struct list_set *set, struct list_load_error *error,
		 unsigned *generation);

#endif
