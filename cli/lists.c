/*
 * trackwatch lists: check, test and update the tracker lists the sensor
 * loads (blocklists/lists.h). `test` answers, for a name (or URL) and the
 * site it was contacted from, what the matcher decides and why, one JSON
 * object per input line, as `pihole -q` does for a name.
 */
#include "commands.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "../blocklists/fetch.h"
#include "../blocklists/lists.h"
#include "../blocklists/matcher.h"
#include "../daemon/observation.h"
#include "../daemon/version.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

#define DEFAULT_CONFIG "/etc/trackwatch/trackwatch.yaml"

static void lists_usage(FILE *out)
{
	fprintf(out,
"Usage: trackwatch [-c FILE] lists check [--list SPEC]...\n"
"       trackwatch [-c FILE] lists test [--list SPEC]... [--type TYPE] < NAMES\n"
"       trackwatch [-c FILE] lists cookie [--list SPEC]... < COOKIE-NAMES\n"
"       trackwatch [-c FILE] lists update [--ca-file FILE] [NAME]...\n"
"\n"
"  check    parse every configured list; print its source, SHA-256, rules and\n"
"           rules skipped by reason; exit 1 if any list fails to load\n"
"  test     read 'HOST [SITE]' or 'URL [SITE]' lines on standard input and print\n"
"           one JSON object per line: what the lists decide and why\n"
"  cookie   read cookie names on standard input; print the Open Cookie Database\n"
"           entry of each, one JSON object per line\n"
"  update   download the lists that have a 'url' over HTTPS, check that each\n"
"           parses, and move it into place; unchanged lists are not fetched\n"
"\n"
"Options:\n"
"  -c, --config FILE   configuration file (default " DEFAULT_CONFIG ";\n"
"                      without it, the built-in default lists)\n"
"  -l, --list SPEC     use this list instead of the configured ones (repeatable):\n"
"                      [NAME=]FORMAT:PATH, FORMAT one of hosts, domains, abp,\n"
"                      disconnect (PATH,ENTITIES-PATH), tds, cookiedb\n"
"  -t, --type TYPE     resource type of the URLs tested (script, image, xhr, ...)\n"
"      --ca-file FILE  trust these CA certificates for update (default: the system's)\n"
"  -h, --help          show this help and exit\n"
"\n"
"See trackwatch(1), section LISTS, for what decides.\n");
}

/* "[name=]format:path[,entities]" into a list source. */
static int add_spec(struct list_set *set, const char *spec)
{
	const char *colon = strchr(spec, ':');
	if (!colon || set->count >= MATCHER_MAX_LISTS)
		return -1;
	const char *eq = memchr(spec, '=', (size_t)(colon - spec));
	const char *format_start = eq ? eq + 1 : spec;
	char format[32];
	size_t flen = (size_t)(colon - format_start);
	if (flen == 0 || flen >= sizeof format)
		return -1;
	memcpy(format, format_start, flen);
	format[flen] = '\0';
	int f = list_format_from_name(format);
	if (f < 0 || colon[1] == '\0')
		return -1;
	struct list_source *s = &set->lists[set->count++];
	memset(s, 0, sizeof *s);
	s->format = (enum list_format)f;
	s->name = eq ? strndup(spec, (size_t)(eq - spec)) : strdup(format);
	char *path = strdup(colon + 1);
	char *comma = f == LIST_DISCONNECT && path ? strchr(path, ',') : NULL;
	if (comma) {
		*comma = '\0';
		s->entities = strdup(comma + 1);
	}
	s->path = path;
	return s->name && s->path ? 0 : -1;
}

static int make_absolute(char **path)
{
	if (!*path || (*path)[0] == '/')
		return 0;
	char cwd[LISTS_PATH_MAX];
	if (!getcwd(cwd, sizeof cwd))
		return -1;
	char *abs = malloc(strlen(cwd) + strlen(*path) + 2);
	if (!abs)
		return -1;
	sprintf(abs, "%s/%s", cwd, *path);
	free(*path);
	*path = abs;
	return 0;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* "file:line: reason" (no line when there is none). */
static void print_error_line(FILE *out, const struct list_load_error *e)
{
	if (e->line)
		fprintf(out, "%s:%u: %s\n", e->file, e->line, e->reason);
	else
		fprintf(out, "%s: %s\n", e->file, e->reason);
}

static void print_error(const struct list_load_error *e)
{
	fprintf(stderr, "trackwatch: ");
	print_error_line(stderr, e);
}

static int cmd_check(const struct list_set *set)
{
	int failures = 0;
	for (int i = 0; i < set->count; i++) {
		const struct list_source *src = &set->lists[i];
		char path[LISTS_PATH_MAX];
		lists_resolve(src->path, path);
		struct list_load_error e;
		double t0 = now_ms();
		struct matcher *m = lists_build(set, i, &e);
		double ms = now_ms() - t0;
		printf("%s (%s) %s\n", src->name, list_format_name(src->format), path);
		if (src->entities) {
			char entities[LISTS_PATH_MAX];
			lists_resolve(src->entities, entities);
			printf("  entities %s\n", entities);
		}
		if (src->url)
			printf("  url %s\n", src->url);
		if (src->entities_url)
			printf("  entities url %s\n", src->entities_url);
		if (!m) {
			if (e.line)
				printf("  error: %s:%u: %s\n", e.file, e.line, e.reason);
			else
				printf("  error: %s: %s\n", e.file, e.reason);
			print_error(&e);
			failures++;
			continue;
		}
		const struct list_info *info = matcher_list_info(m, 0);
		printf("  sha256 %s, %llu bytes, %u rules, %u skipped, %.1f ms\n", info->sha256,
		       (unsigned long long)info->bytes, info->rules, info->skipped, ms);
		for (unsigned k = 0; k < info->skip_reasons; k++)
			printf("  skipped %u: %s (first at line %u)\n", info->skips[k].count,
			       info->skips[k].reason, info->skips[k].first_line);
		matcher_free(m);
	}
	/* And all of them together, as the sensor loads them. */
	struct list_load_error e;
	double t0 = now_ms();
	struct matcher *all = failures ? NULL : lists_build(set, -1, &e);
	if (all) {
		struct matcher_stats st;
		matcher_stats(all, &st);
		printf("all %d lists: %u domains, %u host rules, %u URL rules, %u TDS rules, %u entities, "
		       "%u CNAMEs, %u cookies, %.1f MiB, loaded in %.1f ms\n",
		       set->count, st.domains, st.host_rules, st.url_rules, st.regex_rules, st.entities,
		       st.cnames, st.cookies, st.bytes / 1048576.0, now_ms() - t0);
		matcher_free(all);
	}
	if (failures)
		fprintf(stderr, "trackwatch: %d of %d lists failed to load\n", failures, set->count);
	return failures ? EXIT_FAIL : EXIT_OK;
}

/*
 * A JSON string for bytes that came from outside (the names and URLs read,
 * which may come from the wire), escaped as the sensor escapes wire bytes
 * (\xNN, daemon/observation.c), so both print a name alike.
 */
static json_t *escaped_json(const char *s, size_t len)
{
	char *out = malloc(len * 4 + 1);
	if (!out)
		return json_null();
	size_t n = observation_escape_into(s, len, out, 1);
	json_t *j = json_stringn(out, n);
	free(out);
	return j ? j : json_null();
}

/* A JSON string for text from a list (a rule, a company): kept as written when it is UTF-8, else escaped. */
static json_t *text_json(const char *s, size_t len)
{
	json_t *j = json_stringn(s, len);
	return j ? j : escaped_json(s, len);
}

static json_t *str_or_null(const char *s)
{
	return s ? text_json(s, strlen(s)) : json_null();
}

/* The next line of standard input without its line end (NUL-terminated there); its length, or -1 at the end. */
static ssize_t read_line(char **line, size_t *cap)
{
	ssize_t n = getline(line, cap, stdin);
	if (n < 0)
		return -1;
	while (n > 0 && ((*line)[n - 1] == '\n' || (*line)[n - 1] == '\r'))
		n--;
	(*line)[n] = '\0';
	return n;
}

/* One object on a line of its own, then freed. */
static void print_json(json_t *o)
{
	char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (text)
		puts(text);
	free(text);
	json_decref(o);
}

static int cmd_test(const struct matcher *m, uint32_t type)
{
	char *line = NULL;
	size_t cap = 0;
	while (read_line(&line, &cap) >= 0) {
		char *save = NULL;
		char *target = strtok_r(line, " \t", &save);
		if (!target || target[0] == '#')
			continue;
		char *site = strtok_r(NULL, " \t", &save);
		struct match r;
		bool url = strstr(target, "://") != NULL;
		if (url)
			matcher_lookup_url(m, target, strlen(target), site, type, &r);
		else
			matcher_lookup_host(m, target, strlen(target), site, &r);
		json_t *o = json_object();
		json_object_set_new(o, url ? "url" : "host", escaped_json(target, strlen(target)));
		json_object_set_new(o, "site", site ? escaped_json(site, strlen(site)) : json_null());
		json_object_set_new(o, "tracker", json_boolean(r.tracker));
		const struct list_info *decided = matcher_list_info(m, r.decided.list);
		json_object_set_new(o, "rule", decided ? str_or_null(r.decided.text) : json_null());
		json_object_set_new(o, "list", decided ? str_or_null(decided->name) : json_null());
		if (decided && r.decided.exception)
			json_object_set_new(o, "exception", json_true());
		json_t *lists = json_array();
		for (int l = 0; l < matcher_list_count(m); l++)
			if (r.lists & (1ULL << l))
				json_array_append_new(lists, str_or_null(matcher_list_info(m, l)->name));
		json_object_set_new(o, "lists", lists);
		json_object_set_new(o, "entity", str_or_null(r.entity));
		json_object_set_new(o, "category", str_or_null(r.category));
		json_t *cats = json_array();
		for (unsigned c = 0; c < r.category_count; c++)
			json_array_append_new(cats, str_or_null(r.categories[c]));
		json_object_set_new(o, "categories", cats);
		size_t host_len = strlen(target), host_at = url ? matcher_url_host(target, host_len, &host_len) : 0;
		int third = site ? matcher_third_party(target + host_at, host_len, site) : -1;
		json_object_set_new(o, "third_party", third < 0 ? json_null() : json_boolean(third));
		json_object_set_new(o, "host_only", json_boolean(r.host_only));
		if (r.cname)
			json_object_set_new(o, "cname", str_or_null(r.cname));
		print_json(o);
	}
	free(line);
	return ferror(stdout) ? EXIT_FAIL : EXIT_OK;
}

static int cmd_cookie(const struct matcher *m)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	while ((n = read_line(&line, &cap)) >= 0) {
		size_t len = (size_t)n;
		if (len == 0)
			continue;
		const struct cookie_info *c = matcher_lookup_cookie(m, line, len);
		json_t *o = json_object();
		json_object_set_new(o, "cookie", escaped_json(line, len));
		json_object_set_new(o, "known", json_boolean(c != NULL));
		json_object_set_new(o, "name", c ? str_or_null(c->name) : json_null());
		json_object_set_new(o, "prefix", json_boolean(c && c->prefix));
		json_object_set_new(o, "platform", c ? str_or_null(c->platform) : json_null());
		json_object_set_new(o, "category", c ? str_or_null(c->category) : json_null());
		json_object_set_new(o, "retention", c ? str_or_null(c->retention) : json_null());
		json_object_set_new(o, "controller", c ? str_or_null(c->controller) : json_null());
		json_object_set_new(o, "list", c ? str_or_null(matcher_list_info(m, c->list)->name) : json_null());
		print_json(o);
	}
	free(line);
	return ferror(stdout) ? EXIT_FAIL : EXIT_OK;
}

/* Fetches one file of a list into place after checking the whole list parses with it. */
static int update_one(const struct list_set *set, int i, const char *ca_file, bool *changed)
{
	const struct list_source *src = &set->lists[i];
	char path[LISTS_PATH_MAX], entities[LISTS_PATH_MAX];
	lists_resolve(src->path, path);
	lists_resolve(src->entities, entities);
	const char *urls[2] = { src->url, src->entities_url };
	const char *dests[2] = { path, entities };
	struct fetch_result res[2] = { { 0 }, { 0 } };
	char err[512];
	int rc = 0;
	for (int k = 0; k < 2 && rc == 0; k++) {
		if (!urls[k])
			continue;
		struct fetch_request req = {
			.url = urls[k], .dest_path = dests[k], .ca_file = ca_file,
			.user_agent = "trackwatch/" TRACKWATCH_VERSION,
		};
		if (fetch_to_file(&req, &res[k], err, sizeof err) < 0) {
			fprintf(stderr, "trackwatch: %s: %s\n", src->name, err);
			rc = -1;
		}
	}
	bool fresh = res[0].tmp_path || res[1].tmp_path;
	if (rc == 0 && fresh) {
		/* Parse the list as it would be after the swap. */
		struct matcher *m = matcher_new();
		struct list_load_error e = { 0 };
		if (!m || lists_parse_file(m, src, res[0].tmp_path ? res[0].tmp_path : path,
					   src->entities ? (res[1].tmp_path ? res[1].tmp_path : entities) : NULL,
					   &e) < 0) {
			fprintf(stderr, "trackwatch: %s: the download does not parse, keeping the old list: ",
				src->name);
			print_error_line(stderr, &e);
			rc = -1;
		} else {
			const struct list_info *info = matcher_list_info(m, 0);
			printf("%s: updated, %u rules, sha256 %s\n", src->name, info->rules, info->sha256);
		}
		matcher_free(m);
	}
	for (int k = 0; k < 2; k++) {
		if (!res[k].tmp_path)
			continue;
		if (rc == 0) {
			if (fetch_commit(&res[k], dests[k], err, sizeof err) < 0) {
				fprintf(stderr, "trackwatch: %s: %s\n", src->name, err);
				rc = -1;
			}
		} else {
			fetch_discard(&res[k]);
		}
	}
	if (rc == 0 && !fresh)
		printf("%s: not modified\n", src->name);
	*changed = rc == 0 && fresh;
	return rc;
}

static int cmd_update(const struct list_set *set, char **names, int name_count, const char *ca_file)
{
	signal(SIGPIPE, SIG_IGN);
	int failures = 0, tried = 0;
	for (int n = 0; n < name_count; n++) {
		bool known = false;
		for (int i = 0; i < set->count; i++)
			known |= strcmp(set->lists[i].name, names[n]) == 0;
		if (!known) {
			fprintf(stderr, "trackwatch: no list named '%s' is configured\n", names[n]);
			return EXIT_USAGE;
		}
	}
	for (int i = 0; i < set->count; i++) {
		const struct list_source *src = &set->lists[i];
		bool wanted = name_count == 0;
		for (int n = 0; n < name_count; n++)
			wanted |= strcmp(src->name, names[n]) == 0;
		if (!wanted)
			continue;
		if (!src->url && !src->entities_url) {
			if (name_count > 0)
				fprintf(stderr, "trackwatch: %s: no 'url' configured, nothing to download\n", src->name);
			continue;
		}
		tried++;
		bool changed;
		if (update_one(set, i, ca_file, &changed) < 0)
			failures++;
	}
	fetch_global_cleanup();
	if (tried == 0)
		printf("no list has a 'url' to update from\n");
	return failures ? EXIT_FAIL : EXIT_OK;
}

int cmd_lists(int argc, char **argv, const char *config_path)
{
	static const struct option options[] = {
		{ "list", required_argument, NULL, 'l' },
		{ "type", required_argument, NULL, 't' },
		{ "ca-file", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	if (argc < 2) {
		fprintf(stderr, "trackwatch lists: which one: check, test, cookie or update?\n");
		lists_usage(stderr);
		return EXIT_USAGE;
	}
	const char *sub = argv[1];
	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
		lists_usage(stdout);
		return EXIT_OK;
	}
	struct list_set adhoc = { 0 };
	uint32_t type = 0;
	const char *ca_file = NULL;
	int c, rc = EXIT_OK;
	/* The options after the command: parse argv[1..] afresh ("lists
	   update NAME --ca-file F" too: the "+" of main's options must not
	   carry over, so getopt is reset with optind 0). */
	argc--;
	argv++;
	optind = 0;
	while ((c = getopt_long(argc, argv, "l:t:h", options, NULL)) != -1) {
		switch (c) {
		case 'l':
			/* A relative path on the command line is the user's, not under the data directory. */
			if (add_spec(&adhoc, optarg) < 0 || make_absolute(&adhoc.lists[adhoc.count - 1].path) < 0 ||
			    make_absolute(&adhoc.lists[adhoc.count - 1].entities) < 0) {
				fprintf(stderr, "trackwatch lists: bad --list '%s' (want [NAME=]FORMAT:PATH)\n", optarg);
				lists_free(&adhoc);
				return EXIT_USAGE;
			}
			break;
		case 't':
			type = resource_type_from_name(optarg, strlen(optarg));
			if (!type) {
				fprintf(stderr, "trackwatch lists: unknown resource type '%s'\n", optarg);
				lists_free(&adhoc);
				return EXIT_USAGE;
			}
			break;
		case 'C':
			ca_file = optarg;
			break;
		case 'h':
			lists_usage(stdout);
			lists_free(&adhoc);
			return EXIT_OK;
		default:
			fprintf(stderr, "Try 'trackwatch lists --help' for more information.\n");
			lists_free(&adhoc);
			return EXIT_USAGE;
		}
	}
	bool is_update = strcmp(sub, "update") == 0;
	if (!is_update && optind < argc) {
		fprintf(stderr, "trackwatch lists %s: unexpected argument '%s'\n", sub, argv[optind]);
		lists_free(&adhoc);
		return EXIT_USAGE;
	}
	if (strcmp(sub, "check") != 0 && strcmp(sub, "test") != 0 && strcmp(sub, "cookie") != 0 && !is_update) {
		fprintf(stderr, "trackwatch lists: unknown command '%s'\n", sub);
		lists_free(&adhoc);
		return EXIT_USAGE;
	}

	struct list_set set;
	char err[LISTS_PATH_MAX + 256];
	if (adhoc.count > 0) {
		set = adhoc;
	} else if (config_path) {
		if (lists_load_config(&set, config_path, err, sizeof err) < 0) {
			fprintf(stderr, "trackwatch: %s\n", err);
			return EXIT_FAIL;
		}
	} else if (access(DEFAULT_CONFIG, F_OK) == 0) {
		if (lists_load_config(&set, DEFAULT_CONFIG, err, sizeof err) < 0) {
			fprintf(stderr, "trackwatch: %s\n", err);
			return EXIT_FAIL;
		}
	} else if (lists_default(&set) < 0) {
		fprintf(stderr, "trackwatch: out of memory\n");
		return EXIT_FAIL;
	}

	if (strcmp(sub, "check") == 0) {
		rc = cmd_check(&set);
	} else if (is_update) {
		rc = cmd_update(&set, argv + optind, argc - optind, ca_file);
	} else {
		struct list_load_error e;
		struct matcher *m = lists_build(&set, -1, &e);
		if (!m) {
			print_error(&e);
			rc = EXIT_FAIL;
		} else {
			rc = strcmp(sub, "test") == 0 ? cmd_test(m, type) : cmd_cookie(m);
			matcher_free(m);
		}
	}
	lists_free(&set);
	return rc;
}
