/*
 * The matcher in use and its reload (blocklists/lists.h, lists_live): a
 * reload swaps in a new matcher, a failed one keeps the old, and readers
 * holding a reference keep theirs while others swap (the sanitizers watch
 * for a matcher freed under a lookup).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../blocklists/lists.h"

static char dir[] = "/tmp/tw-live-XXXXXX";
static char path_a[64], path_b[64], path_bad[64];

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static int setup(void **state)
{
	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path_a, sizeof path_a, "%s/a.txt", dir);
	snprintf(path_b, sizeof path_b, "%s/b.txt", dir);
	snprintf(path_bad, sizeof path_bad, "%s/bad.txt", dir);
	write_file(path_a, "a.example\n");
	write_file(path_b, "b.example\n");
	write_file(path_bad, "# comments only\n#\n");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path_a);
	unlink(path_b);
	unlink(path_bad);
	rmdir(dir);
	return 0;
}

static void one_list(struct list_set *set, const char *path)
{
	memset(set, 0, sizeof *set);
	set->count = 1;
	set->lists[0].name = strdup("test");
	set->lists[0].format = LIST_DOMAINS;
	set->lists[0].path = strdup(path);
	assert_non_null(set->lists[0].name);
	assert_non_null(set->lists[0].path);
}

static bool tracker(const struct lists_ref *ref, const char *host)
{
	struct match r;
	matcher_lookup_host(lists_ref_matcher(ref), host, strlen(host), NULL, &r);
	return r.tracker;
}

static void test_reload_swaps_and_keeps(void **state)
{
	(void)state;
	struct list_set a, b, bad;
	one_list(&a, path_a);
	one_list(&b, path_b);
	one_list(&bad, path_bad);
	struct list_load_error e;

	struct lists_live *live = lists_live_new(NULL);
	assert_non_null(live);
	assert_null(lists_acquire(live));   /* nothing loaded yet */

	unsigned gen = 0;
	assert_int_equal(lists_reload(live, &a, &e, &gen), 0);
	assert_int_equal(gen, 1);
	const struct lists_ref *held = lists_acquire(live);
	assert_non_null(held);
	assert_true(tracker(held, "x.a.example"));

	assert_int_equal(lists_reload(live, &b, &e, &gen), 0);
	assert_int_equal(gen, 2);
	/* The reference taken before the swap still answers from list a. */
	assert_true(tracker(held, "x.a.example"));
	assert_false(tracker(held, "x.b.example"));
	const struct lists_ref *now = lists_acquire(live);
	assert_true(tracker(now, "x.b.example"));
	assert_false(tracker(now, "x.a.example"));
	lists_release(held);   /* frees matcher a */

	/* A list that does not load: an error naming it, and b stays. */
	assert_int_equal(lists_reload(live, &bad, &e, &gen), -1);
	assert_string_equal(e.file, path_bad);
	assert_non_null(strstr(e.reason, "no rules"));
	assert_int_equal(gen, 2);
	const struct lists_ref *after = lists_acquire(live);
	assert_ptr_equal(lists_ref_matcher(after), lists_ref_matcher(now));
	assert_true(tracker(after, "x.b.example"));
	lists_release(after);

	/* A missing file, likewise. */
	free(bad.lists[0].path);
	bad.lists[0].path = strdup("/nonexistent/trackwatch/list");
	assert_int_equal(lists_reload(live, &bad, &e, NULL), -1);
	assert_string_equal(e.file, "/nonexistent/trackwatch/list");

	/* The holder may go first: `now` keeps its matcher until released. */
	lists_live_free(live);
	assert_true(tracker(now, "x.b.example"));
	lists_release(now);
	lists_free(&a);
	lists_free(&b);
	lists_free(&bad);
}

struct reader {
	struct lists_live *live;
	atomic_bool *stop;
	long lookups, wrong;
};

/* Looks up in whatever matcher is in use: exactly one of the two names is a tracker in each. */
static void *read_loop(void *arg)
{
	struct reader *r = arg;
	while (!atomic_load(r->stop)) {
		const struct lists_ref *ref = lists_acquire(r->live);
		for (int i = 0; i < 50; i++) {
			bool a = tracker(ref, "t.a.example"), b = tracker(ref, "t.b.example");
			r->wrong += a == b;
			r->lookups++;
		}
		lists_release(ref);
	}
	return NULL;
}

static void test_swaps_under_readers(void **state)
{
	(void)state;
	struct list_set a, b;
	one_list(&a, path_a);
	one_list(&b, path_b);
	struct list_load_error e;
	struct lists_live *live = lists_live_new(NULL);
	assert_non_null(live);
	assert_int_equal(lists_reload(live, &a, &e, NULL), 0);

	atomic_bool stop;
	atomic_init(&stop, false);
	struct reader readers[3];
	pthread_t threads[3];
	for (int i = 0; i < 3; i++) {
		readers[i] = (struct reader){ .live = live, .stop = &stop };
		assert_int_equal(pthread_create(&threads[i], NULL, read_loop, &readers[i]), 0);
	}
	unsigned gen = 0;
	for (int i = 0; i < 60; i++)
		assert_int_equal(lists_reload(live, i % 2 ? &a : &b, &e, &gen), 0);
	atomic_store(&stop, true);
	long lookups = 0;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(pthread_join(threads[i], NULL), 0);
		assert_int_equal(readers[i].wrong, 0);
		lookups += readers[i].lookups;
	}
	assert_int_equal(gen, 61);
	assert_true(lookups > 0);
	lists_live_free(live);
	lists_free(&a);
	lists_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reload_swaps_and_keeps),
		cmocka_unit_test(test_swaps_under_readers),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
