/*
 * lists_bench: how long the tracker lists take to load, and how many host
 * lookups per second one core does on a given mix of names. Run by
 * bench/lists.sh, which builds the name mix; not a test (nothing here
 * passes or fails).
 *
 *   lists_bench [-u] RUNS NAMES-FILE LOOKUPS [NAME=FORMAT:PATH[,ENTITIES]]...
 *
 * With -u the lines are request URLs ("http://host/path", an optional second
 * field the site) and each lookup is matcher_lookup_url(), as the timeline
 * does for every request it has not seen lately.
 *
 * Prints, for RUNS runs each, the median load time of the given lists (all
 * of them, built into one matcher as the sensor does) and the median rate
 * of LOOKUPS host lookups cycling through the names (one per line; an
 * optional second field is the site), plus the share that were trackers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../blocklists/lists.h"
#include "../blocklists/matcher.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, by_value);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

struct name {
	char *host;
	size_t len;
	char *site;
};

static int add_list(struct list_set *set, const char *spec)
{
	const char *eq = strchr(spec, '='), *colon = eq ? strchr(eq, ':') : NULL;
	if (!eq || !colon || set->count >= MATCHER_MAX_LISTS)
		return -1;
	char format[32];
	snprintf(format, sizeof format, "%.*s", (int)(colon - eq - 1), eq + 1);
	int f = list_format_from_name(format);
	if (f < 0)
		return -1;
	struct list_source *s = &set->lists[set->count++];
	memset(s, 0, sizeof *s);
	s->name = strndup(spec, (size_t)(eq - spec));
	s->format = (enum list_format)f;
	s->path = strdup(colon + 1);
	char *comma = f == LIST_DISCONNECT ? strchr(s->path, ',') : NULL;
	if (comma) {
		*comma = '\0';
		s->entities = strdup(comma + 1);
	}
	return 0;
}

int main(int argc, char **argv)
{
	int urls = argc > 1 && strcmp(argv[1], "-u") == 0;
	argc -= urls;
	argv += urls;
	if (argc < 5) {
		fprintf(stderr, "usage: lists_bench [-u] RUNS NAMES-FILE LOOKUPS NAME=FORMAT:PATH...\n");
		return 2;
	}
	int runs = atoi(argv[1]);
	long lookups = atol(argv[3]);
	if (runs < 1 || runs > 101 || lookups < 1)
		return 2;
	struct list_set set = { 0 };
	for (int i = 4; i < argc; i++) {
		if (add_list(&set, argv[i]) < 0) {
			fprintf(stderr, "bad list '%s'\n", argv[i]);
			return 2;
		}
	}

	double load[101];
	struct matcher *m = NULL;
	for (int r = 0; r < runs; r++) {
		struct list_load_error e;
		double t0 = now();
		struct matcher *built = lists_build(&set, -1, &e);
		load[r] = now() - t0;
		if (!built) {
			fprintf(stderr, "%s:%u: %s\n", e.file, e.line, e.reason);
			return 1;
		}
		matcher_free(m);
		m = built;
	}
	struct matcher_stats st;
	matcher_stats(m, &st);
	printf("load: %d lists, %u domains, %u host rules, %u URL rules, %u entities, %u cookies, "
	       "%.1f MiB; median of %d: %.1f ms\n", set.count, st.domains, st.host_rules, st.url_rules,
	       st.entities, st.cookies, st.bytes / 1048576.0, runs, median(load, runs) * 1e3);

	FILE *f = fopen(argv[2], "r");
	if (!f) {
		perror(argv[2]);
		return 1;
	}
	struct name *names = NULL;
	size_t count = 0, cap = 0, bytes = 0;
	char line[8192];
	while (fgets(line, sizeof line, f)) {
		char *host = strtok(line, " \t\r\n"), *site = strtok(NULL, " \t\r\n");
		if (!host)
			continue;
		if (count == cap) {
			cap = cap ? cap * 2 : 1024;
			names = realloc(names, cap * sizeof *names);
			if (!names)
				return 1;
		}
		names[count].host = strdup(host);
		names[count].len = strlen(host);
		names[count].site = site ? strdup(site) : NULL;
		bytes += names[count].len;
		count++;
	}
	fclose(f);
	if (count == 0) {
		fprintf(stderr, "%s: no names\n", argv[2]);
		return 1;
	}

	double rate[101];
	long trackers = 0;
	for (int r = 0; r < runs; r++) {
		trackers = 0;
		size_t i = 0;
		double t0 = now();
		for (long n = 0; n < lookups; n++) {
			struct match out;
			if (urls)
				matcher_lookup_url(m, names[i].host, names[i].len, names[i].site, 0, &out);
			else
				matcher_lookup_host(m, names[i].host, names[i].len, names[i].site, &out);
			trackers += out.tracker;
			if (++i == count)
				i = 0;
		}
		rate[r] = lookups / (now() - t0);
	}
	printf("%s lookups: %zu distinct %s (mean %.1f bytes), %.1f%% trackers; median of %d runs "
	       "of %ld: %.3f million lookups/s\n", urls ? "URL" : "host", count, urls ? "URLs" : "names",
	       (double)bytes / count,
	       100.0 * trackers / lookups, runs, lookups, median(rate, runs) / 1e6);
	matcher_free(m);
	for (size_t i = 0; i < count; i++) {
		free(names[i].host);
		free(names[i].site);
	}
	free(names);
	lists_free(&set);
	return 0;
}
