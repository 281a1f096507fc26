/*
 * Unit tests for blocklists/lists.c: the `lists:` section of the YAML
 * configuration (a valid one, every kind of mistake, each reported as
 * "file:line: reason", and files without the section, which give the
 * defaults), then lists_build() on small lists written to a temporary
 * directory: rule counts, the SHA-256 of each file (against values computed
 * with sha256sum, not by the code under test) and the error for a missing or
 * broken list. TRACKWATCH_DATADIR points at the temporary directory before
 * anything asks for lists_data_dir(), which caches its answer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <sys/stat.h>
#include <unistd.h>

#include "../../blocklists/lists.h"
#include "../../blocklists/matcher.h"

static char dir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/tw-test-lists-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	return setenv("TRACKWATCH_DATADIR", dir, 1);
}

static const char *const files[] = {
	"config.yaml", "hosts.txt", "list.txt", "broken.txt", "empty.txt", "other.yaml",
};

static int teardown(void **state)
{
	(void)state;
	char path[128];
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, files[i]);
		unlink(path);
	}
	snprintf(path, sizeof path, "%s/subdir", dir);
	rmdir(path);
	return rmdir(dir);
}

/* Writes `text` to dir/name; returns the path in a static buffer of its own per name slot. */
static const char *write_file(const char *name, const char *text)
{
	static char paths[sizeof files / sizeof files[0]][128];
	size_t slot = 0;
	while (slot < sizeof files / sizeof files[0] && strcmp(files[slot], name) != 0)
		slot++;
	assert_true(slot < sizeof files / sizeof files[0]);
	snprintf(paths[slot], sizeof paths[slot], "%s/%s", dir, name);
	FILE *f = fopen(paths[slot], "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
	return paths[slot];
}

/* Loads `yaml` as the configuration, which must fail with "path:line: ..." containing `what`. */
static void config_error(const char *yaml, unsigned line, const char *what)
{
	const char *path = write_file("config.yaml", yaml);
	struct list_set set;
	char err[512] = "";
	assert_int_equal(lists_load_config(&set, path, err, sizeof err), -1);
	char prefix[160];
	snprintf(prefix, sizeof prefix, "%s:%u: ", path, line);
	if (strncmp(err, prefix, strlen(prefix)) != 0 || !strstr(err, what))
		fail_msg("for\n%s\nthe error is \"%s\", not \"%s...%s...\"", yaml, err, prefix, what);
	/* Nothing is left to free. */
	assert_int_equal(set.count, 0);
	assert_null(set.config_path);
	lists_free(&set);
}

/* ---- the configuration ---------------------------------------------------- */

/* A key given twice replaces the first value whole (a review found the old entries kept). */
static void test_config_repeated_key(void **state)
{
	(void)state;
	const char *path = write_file("config.yaml",
		"lists:\n"
		"  - name: dis\n"
		"    format: disconnect\n"
		"    path: services.json\n"
		"    not_tracking: [Advertising, Analytics, Social]\n"
		"    not_tracking: [Content]\n");
	struct list_set set;
	char err[512] = "";
	assert_int_equal(lists_load_config(&set, path, err, sizeof err), 0);
	assert_string_equal(set.lists[0].not_tracking[0], "Content");
	assert_null(set.lists[0].not_tracking[1]);
	lists_free(&set);
}

static void test_config_valid(void **state)
{
	(void)state;
	const char *path = write_file("config.yaml",
		"# trackwatch lists\n"                           /* 1 */
		"lists:\n"                                       /* 2 */
		"  - name: myhosts\n"                            /* 3 */
		"    format: hosts\n"                            /* 4 */
		"    path: hosts.txt\n"                          /* 5 */
		"    category: Tracking\n"                       /* 6 */
		"    url: https://example.com/hosts.txt\n"       /* 7 */
		"\n"                                             /* 8 */
		"  - name: dis\n"                                /* 9 */
		"    format: disconnect\n"                       /* 10 */
		"    path: /abs/services.json\n"                 /* 11 */
		"    entities: entities.json\n"                  /* 12 */
		"    entities_url: https://x.example/e.json\n"   /* 13 */
		"    not_tracking: [Content, \"Social\"]\n");    /* 14 */
	struct list_set set;
	char err[512] = "";
	if (lists_load_config(&set, path, err, sizeof err) != 0)
		fail_msg("%s", err);
	assert_int_equal(set.count, 2);
	assert_string_equal(set.config_path, path);

	const struct list_source *a = &set.lists[0];
	assert_string_equal(a->name, "myhosts");
	assert_int_equal(a->format, LIST_HOSTS);
	assert_string_equal(a->path, "hosts.txt");
	assert_string_equal(a->category, "Tracking");
	assert_string_equal(a->url, "https://example.com/hosts.txt");
	assert_null(a->entities);
	assert_null(a->entities_url);
	assert_false(a->not_tracking_set);
	assert_null(a->not_tracking[0]);
	assert_int_equal(a->config_line, 3);

	const struct list_source *b = &set.lists[1];
	assert_string_equal(b->name, "dis");
	assert_int_equal(b->format, LIST_DISCONNECT);
	assert_string_equal(b->path, "/abs/services.json");
	assert_string_equal(b->entities, "entities.json");
	assert_string_equal(b->entities_url, "https://x.example/e.json");
	assert_null(b->url);
	assert_null(b->category);
	assert_true(b->not_tracking_set);
	assert_string_equal(b->not_tracking[0], "Content");
	assert_string_equal(b->not_tracking[1], "Social");
	assert_null(b->not_tracking[2]);
	assert_int_equal(b->config_line, 9);

	/* Relative paths are under the data directory, absolute ones as they are. */
	assert_string_equal(lists_data_dir(), dir);
	char resolved[LISTS_PATH_MAX], expect[LISTS_PATH_MAX];
	lists_resolve(a->path, resolved);
	snprintf(expect, sizeof expect, "%s/hosts.txt", dir);
	assert_string_equal(resolved, expect);
	lists_resolve(b->path, resolved);
	assert_string_equal(resolved, "/abs/services.json");
	lists_resolve(NULL, resolved);
	assert_string_equal(resolved, "");
	lists_free(&set);
	assert_int_equal(set.count, 0);
	lists_free(&set);   /* twice: harmless */

	/* Flow style, and an empty `lists`: no list at all. */
	path = write_file("other.yaml", "{lists: [{name: x, format: abp, path: x.txt}]}\n");
	assert_int_equal(lists_load_config(&set, path, err, sizeof err), 0);
	assert_int_equal(set.count, 1);
	assert_int_equal(set.lists[0].format, LIST_ABP);
	assert_int_equal(set.lists[0].config_line, 1);
	lists_free(&set);
	path = write_file("other.yaml", "lists: []\n");
	assert_int_equal(lists_load_config(&set, path, err, sizeof err), 0);
	assert_int_equal(set.count, 0);
	assert_non_null(set.config_path);
	lists_free(&set);
}

static void test_config_defaults(void **state)
{
	(void)state;
	static const char *const texts[] = { "", "# only a comment\n", "---\n", "\n\n" };
	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		const char *path = write_file("config.yaml", texts[i]);
		struct list_set set;
		char err[512] = "";
		if (lists_load_config(&set, path, err, sizeof err) != 0)
			fail_msg("\"%s\": %s", texts[i], err);
		assert_int_equal(set.count, 5);
		assert_string_equal(set.config_path, path);
		assert_string_equal(set.lists[0].name, "easyprivacy");
		assert_int_equal(set.lists[0].format, LIST_ABP);
		assert_string_equal(set.lists[0].category, "Tracking");
		assert_string_equal(set.lists[1].name, "easylist");
		assert_int_equal(set.lists[1].format, LIST_ABP);
		assert_string_equal(set.lists[1].category, "Advertising");
		assert_string_equal(set.lists[2].name, "disconnect");
		assert_int_equal(set.lists[2].format, LIST_DISCONNECT);
		assert_non_null(set.lists[2].entities);
		assert_string_equal(set.lists[3].name, "cookiedb");
		assert_int_equal(set.lists[3].format, LIST_COOKIEDB);
		assert_string_equal(set.lists[4].name, "duckduckgo-entities");
		assert_int_equal(set.lists[4].format, LIST_TDS);
		for (int k = 0; k < 5; k++)
			assert_int_equal(set.lists[k].config_line, 0);
		lists_free(&set);
	}
	struct list_set set;
	assert_int_equal(lists_default(&set), 0);
	assert_int_equal(set.count, 5);
	assert_null(set.config_path);
	assert_true(set.lists[0].path[0] == '/');
	assert_true(set.lists[2].path[0] != '/');
	lists_free(&set);
}

static void test_config_errors(void **state)
{
	(void)state;
	config_error("lists: []\nfoo: 1\n", 2, "unknown key 'foo'");
	config_error("foo: 1\n", 1, "unknown key 'foo'");
	config_error("lists:\n"
		     "  - name: a\n"
		     "    format: hosts\n"
		     "    path: a.txt\n"
		     "    colour: red\n", 5, "unknown key 'colour' in a list");
	config_error("lists:\n"
		     "  - format: hosts\n"
		     "    path: a.txt\n", 2, "needs a 'name'");
	config_error("lists:\n"
		     "  - name: a\n"
		     "    path: a.txt\n", 2, "list 'a' needs a 'format'");
	config_error("lists:\n"
		     "  - name: a\n"
		     "    format: hosts\n", 2, "list 'a' needs a 'path'");
	config_error("lists:\n"
		     "  - name: a\n"
		     "    format: csv\n"
		     "    path: a.txt\n", 2, "unknown format 'csv'");
	config_error("lists:\n"
		     "  - name: a\n"
		     "    format: hosts\n"
		     "    path: a.txt\n"
		     "  - name: a\n"
		     "    format: abp\n"
		     "    path: b.txt\n", 5, "list name 'a' is used twice");
	config_error("lists:\n"
		     "  - name: a\n"
		     "    format: abp\n"
		     "    path: a.txt\n"
		     "    entities: e.json\n", 2, "'entities' is for the disconnect format only");
	config_error("lists:\n"
		     "  - name: a\n"
		     "    format: tds\n"
		     "    path: a.txt\n"
		     "    entities_url: https://x/e.json\n", 2, "'entities' is for the disconnect format only");
	config_error("- a\n- b\n", 1, "must be a mapping");
	config_error("just words\n", 1, "must be a mapping");
	config_error("lists:\n  - foo\n", 2, "each list must be a mapping");
	config_error("lists: foo\n", 1, "'lists' must be a sequence");
	config_error("lists:\n", 1, "'lists' must be a sequence");
	config_error("lists:\n"
		     "  - name: ''\n"
		     "    format: hosts\n"
		     "    path: a.txt\n", 2, "'name' must be a non-empty string");
	config_error("lists:\n"
		     "  - name: {x: 1}\n"
		     "    format: hosts\n"
		     "    path: a.txt\n", 2, "'name' must be a non-empty string");
	config_error("lists:\n"
		     "  - name: a\n"
		     "    format: [hosts]\n"
		     "    path: a.txt\n", 3, "'format' must be a non-empty string");
	config_error("lists:\n"
		     "  - name: a\n"
		     "    format: disconnect\n"
		     "    path: a.txt\n"
		     "    not_tracking: Content\n", 5, "'not_tracking' must be a list");
	config_error("lists:\n"
		     "  - name: a\n"
		     "    format: disconnect\n"
		     "    path: a.txt\n"
		     "    not_tracking: [a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p]\n", 5,
		     "more than 15 names");
	config_error("lists:\n"
		     "  - name: a\n"
		     "    format: disconnect\n"
		     "    path: a.txt\n"
		     "    not_tracking: [a, [b]]\n", 5, "'not_tracking' must be a non-empty string");
	config_error("lists:\n"
		     "  - {? [a]: b}\n", 2, "a key must be a string");

	/* YAML syntax errors: where the parser stopped. */
	config_error("lists:\n"
		     "  - name: [unclosed\n"
		     "    format: hosts\n", 3, "did not find expected");
	config_error("lists:\n"
		     "  - name: a\n"
		     "   format: hosts\n", 3, "");
	config_error("lists: *nowhere\n", 1, "");
	config_error("a: 1\n\tb: 2\n", 2, "");

	/* More lists than a matcher takes. */
	char big[8192] = "lists:\n";
	size_t n = strlen(big);
	for (int i = 0; i < MATCHER_MAX_LISTS + 1; i++)
		n += (size_t)snprintf(big + n, sizeof big - n, "  - {name: l%d, format: hosts, path: p}\n", i);
	config_error(big, MATCHER_MAX_LISTS + 2, "more than 64 lists");

	/* No such file. */
	struct list_set set;
	char err[512] = "";
	char path[128];
	snprintf(path, sizeof path, "%s/no-such.yaml", dir);
	assert_int_equal(lists_load_config(&set, path, err, sizeof err), -1);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "No such file"));
	assert_int_equal(set.count, 0);
	/* An error cut to a small buffer. */
	write_file("config.yaml", "foo: 1\n");
	snprintf(path, sizeof path, "%s/config.yaml", dir);
	char small[8];
	assert_int_equal(lists_load_config(&set, path, small, sizeof small), -1);
	assert_int_equal(strlen(small), sizeof small - 1);
}

/* ---- building ------------------------------------------------------------- */

static const char hosts_text[] = "# test hosts\n0.0.0.0 a.example b.example\n127.0.0.1 localhost\n";
static const char hosts_sha[] = "86df455e9b15fafbb5c2665732ecc822329aaaefa36865fbb9f1b3f8c6554f23";
static const char abp_text[] = "[Adblock Plus 2.0]\n||c.example^\n##.ad\n||d.example/px$image\n";
static const char abp_sha[] = "a5237598e85734d5b95d06dc4b56189ae9e4e3df86b7e542b0dfc9fb43df5601";

/* A configuration of the hosts list (relative path) and `second` (absolute path). */
static void load_two(struct list_set *set, const char *second)
{
	write_file("hosts.txt", hosts_text);
	char yaml[1024];
	snprintf(yaml, sizeof yaml,
		 "lists:\n"
		 "  - name: myhosts\n"
		 "    format: hosts\n"
		 "    path: hosts.txt\n"
		 "  - name: myabp\n"
		 "    format: abp\n"
		 "    path: %s/%s\n"
		 "    category: Advertising\n", dir, second);
	const char *path = write_file("config.yaml", yaml);
	char err[512] = "";
	if (lists_load_config(set, path, err, sizeof err) != 0)
		fail_msg("%s", err);
}

static void test_build(void **state)
{
	(void)state;
	write_file("list.txt", abp_text);
	struct list_set set;
	load_two(&set, "list.txt");
	struct list_load_error e;
	struct matcher *m = lists_build(&set, -1, &e);
	if (!m)
		fail_msg("%s:%u: %s", e.file, e.line, e.reason);
	assert_int_equal(matcher_list_count(m), 2);

	const struct list_info *h = matcher_list_info(m, 0);
	char expect[LISTS_PATH_MAX];
	snprintf(expect, sizeof expect, "%s/hosts.txt", dir);
	assert_string_equal(h->name, "myhosts");
	assert_string_equal(h->path, expect);
	assert_int_equal(h->format, LIST_HOSTS);
	assert_null(h->category);
	assert_int_equal(h->rules, 2);
	assert_int_equal(h->skipped, 1);
	assert_string_equal(h->skips[0].reason, "local name");
	assert_int_equal(h->skips[0].first_line, 3);
	assert_int_equal(h->bytes, sizeof hosts_text - 1);
	assert_string_equal(h->sha256, hosts_sha);

	const struct list_info *a = matcher_list_info(m, 1);
	snprintf(expect, sizeof expect, "%s/list.txt", dir);
	assert_string_equal(a->name, "myabp");
	assert_string_equal(a->path, expect);
	assert_string_equal(a->category, "Advertising");
	assert_int_equal(a->rules, 2);
	assert_int_equal(a->skipped, 1);
	assert_int_equal(a->bytes, sizeof abp_text - 1);
	assert_string_equal(a->sha256, abp_sha);

	struct match r;
	matcher_lookup_host(m, "x.a.example", 11, NULL, &r);
	assert_true(r.tracker);
	assert_int_equal(r.decided.list, 0);
	matcher_lookup_host(m, "c.example", 9, NULL, &r);
	assert_true(r.tracker);
	assert_int_equal(r.decided.list, 1);
	assert_string_equal(r.category, "Advertising");
	matcher_lookup_url(m, "https://d.example/px", 20, NULL, RT_IMAGE, &r);
	assert_true(r.tracker);
	/* Finished: nothing more can be added. */
	assert_int_equal(matcher_add_list(m, "late", "p", LIST_ABP, NULL), -1);
	matcher_free(m);

	/* One list alone. */
	m = lists_build(&set, 1, &e);
	assert_non_null(m);
	assert_int_equal(matcher_list_count(m), 1);
	assert_string_equal(matcher_list_info(m, 0)->name, "myabp");
	matcher_lookup_host(m, "a.example", 9, NULL, &r);
	assert_false(r.tracker);
	matcher_free(m);
	lists_free(&set);
}

static void test_build_errors(void **state)
{
	(void)state;
	struct list_set set;
	struct list_load_error e;
	char expect[LISTS_PATH_MAX];

	/* A missing file. */
	load_two(&set, "missing.txt");
	assert_null(lists_build(&set, -1, &e));
	snprintf(expect, sizeof expect, "%s/missing.txt", dir);
	assert_string_equal(e.file, expect);
	assert_int_equal(e.line, 0);
	assert_non_null(strstr(e.reason, "No such file"));
	/* The first list alone still loads. */
	struct matcher *m = lists_build(&set, 0, &e);
	assert_non_null(m);
	matcher_free(m);
	lists_free(&set);

	/* A broken second list: its file, line and reason. */
	write_file("broken.txt", "||ok.example^\n! fine\nbinary\x01\n||x^");
	snprintf(expect, sizeof expect, "%s/broken.txt", dir);
	FILE *f = fopen(expect, "ab");
	assert_non_null(f);
	assert_int_equal(fwrite("\0\n", 1, 2, f), 2);
	assert_int_equal(fclose(f), 0);
	load_two(&set, "broken.txt");
	assert_null(lists_build(&set, -1, &e));
	assert_string_equal(e.file, expect);
	assert_int_equal(e.line, 4);
	assert_non_null(strstr(e.reason, "NUL"));
	lists_free(&set);

	/* An empty one. */
	write_file("empty.txt", "");
	load_two(&set, "empty.txt");
	assert_null(lists_build(&set, -1, &e));
	snprintf(expect, sizeof expect, "%s/empty.txt", dir);
	assert_string_equal(e.file, expect);
	assert_int_equal(e.line, 0);
	assert_string_equal(e.reason, "empty file");
	lists_free(&set);

	/* One of only comments. */
	write_file("empty.txt", "! nothing\n! here\n");
	load_two(&set, "empty.txt");
	assert_null(lists_build(&set, -1, &e));
	assert_string_equal(e.file, expect);
	assert_non_null(strstr(e.reason, "no rules"));
	lists_free(&set);

	/* A directory. */
	snprintf(expect, sizeof expect, "%s/subdir", dir);
	assert_int_equal(mkdir(expect, 0700), 0);
	load_two(&set, "subdir");
	assert_null(lists_build(&set, -1, &e));
	assert_string_equal(e.file, expect);
	assert_non_null(strstr(e.reason, "not a regular file"));
	lists_free(&set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_valid),
		cmocka_unit_test(test_config_repeated_key),
		cmocka_unit_test(test_config_defaults),
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_build),
		cmocka_unit_test(test_build_errors),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
