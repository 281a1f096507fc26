/*
 * libFuzzer harness for lists_load_config(): the input is a trackwatch.yaml,
 * written to a temporary file (removed after each run) and loaded. Besides
 * ASan's and UBSan's checks (and LeakSanitizer's, for libyaml's documents),
 * it aborts if the call returns anything but 0 or -1, fails without a
 * "file:line: reason" error, or succeeds with a set that breaks what
 * lists.h promises: at most MATCHER_MAX_LISTS lists, each with a name,
 * path and known format, names unique, entities only on Disconnect lists.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../blocklists/lists.h"
#include "fuzz_file.h"

static void check_set(const struct list_set *set, const char *path)
{
	if (set->count < 0 || set->count > MATCHER_MAX_LISTS || !set->config_path ||
	    strcmp(set->config_path, path) != 0)
		abort();
	for (int i = 0; i < set->count; i++) {
		const struct list_source *s = &set->lists[i];
		if (!s->name || !*s->name || !s->path || !*s->path)
			abort();
		if ((unsigned)s->format >= LIST_FORMAT_COUNT)
			abort();
		if ((s->entities || s->entities_url) && s->format != LIST_DISCONNECT)
			abort();
		if (s->not_tracking[15])
			abort();
		for (int k = 0; k < i; k++)
			if (strcmp(set->lists[k].name, s->name) == 0)
				abort();
		char resolved[LISTS_PATH_MAX];
		lists_resolve(s->path, resolved);
		if (!memchr(resolved, '\0', sizeof resolved))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[] = "/tmp/fuzz_lists_config.XXXXXX";
	fuzz_write_temp(path, data, size);

	struct list_set set;
	char err[512];
	memset(err, 0, sizeof err);
	int rc = lists_load_config(&set, path, err, sizeof err);
	unlink(path);   /* nothing is left behind, however the run ends */
	if (rc != 0 && rc != -1)
		abort();
	if (rc == -1) {
		/* "path:line: reason" (a YAML or configuration error: the file was read) */
		fuzz_check_file_error(err, sizeof err, path);
		if (set.count != 0 || set.config_path)
			abort();
	} else {
		check_set(&set, path);
	}
	lists_free(&set);
	return 0;
}
