/*
 * Unit tests for blocklists/parse_data.c: the Disconnect, DuckDuckGo TDS and
 * Open Cookie Database readers, each on small inline documents (normal
 * entries, the verdicts their categories or defaults give, companies, rules,
 * CNAMEs, malformed parts counted as skips, and files that are not of the
 * format at all), then on the excerpts of the real lists in tests/data/lists.
 * Everything is checked through the matcher's public lookups after
 * matcher_finish(). Every input is fed from a heap copy of exactly its length,
 * with no NUL after it, so that ASan sees any read past the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../blocklists/matcher.h"
#include "../../blocklists/parsers.h"

/* ---- helpers -------------------------------------------------------------- */

/* A heap copy of exactly `len` bytes (NULL stays NULL). */
static char *copy_of(const char *s, size_t len)
{
	if (!s)
		return NULL;
	char *p = malloc(len ? len : 1);
	assert_non_null(p);
	memcpy(p, s, len);
	return p;
}

static struct matcher *new_matcher(enum list_format format, int *list)
{
	struct matcher *m = matcher_new();
	assert_non_null(m);
	*list = matcher_add_list(m, list_format_name(format), "test", format, NULL);
	assert_int_equal(*list, 0);
	return m;
}

static int disconnect_n(struct matcher *m, int list, const char *services, size_t slen,
			const char *entities, size_t elen, const char *const *not_tracking,
			struct parse_error *err)
{
	char *s = copy_of(services, slen), *e = copy_of(entities, elen);
	memset(err, 0, sizeof *err);
	int rc = parse_disconnect(m, list, s, slen, e, elen, not_tracking, err);
	free(s);
	free(e);
	return rc;
}

static int disconnect(struct matcher *m, int list, const char *services, const char *entities,
		      const char *const *not_tracking, struct parse_error *err)
{
	return disconnect_n(m, list, services, strlen(services), entities,
			    entities ? strlen(entities) : 0, not_tracking, err);
}

typedef int (*parser)(struct matcher *, int, const char *, size_t, struct parse_error *);

static int parse_n(parser parse, struct matcher *m, int list, const char *doc, size_t len,
		   struct parse_error *err)
{
	char *p = copy_of(doc, len);
	memset(err, 0, sizeof *err);
	int rc = parse(m, list, p, len, err);
	free(p);
	return rc;
}

static int parse(parser parse, struct matcher *m, int list, const char *doc, struct parse_error *err)
{
	return parse_n(parse, m, list, doc, strlen(doc), err);
}

/* Parses into a matcher of its own, freed after: for errors, whose skips must not add up. */
static int parse_alone(parser p, enum list_format format, const char *doc, size_t len,
		       struct parse_error *err)
{
	int l;
	struct matcher *m = new_matcher(format, &l);
	int rc = parse_n(p, m, l, doc, len, err);
	if (rc < 0)
		assert_int_equal(matcher_list_info(m, l)->rules, 0);
	matcher_free(m);
	return rc;
}

static void host(const struct matcher *m, const char *name, struct match *out)
{
	matcher_lookup_host(m, name, strlen(name), NULL, out);
}

static void url(const struct matcher *m, const char *u, const char *site, uint32_t type,
		struct match *out)
{
	matcher_lookup_url(m, u, strlen(u), site, type, out);
}

static bool has_category(const struct match *mt, const char *category)
{
	for (unsigned i = 0; i < mt->category_count; i++)
		if (strcmp(mt->categories[i], category) == 0)
			return true;
	return false;
}

/* The entity of `name`, or "" when none. */
static const char *entity_of(const struct matcher *m, const char *name)
{
	struct match mt;
	host(m, name, &mt);
	return mt.entity ? mt.entity : "";
}

static bool tracker(const struct matcher *m, const char *name)
{
	struct match mt;
	host(m, name, &mt);
	return mt.tracker;
}

static const struct list_skip *skip_of(const struct matcher *m, int list, const char *reason)
{
	const struct list_info *info = matcher_list_info(m, list);
	for (unsigned i = 0; i < info->skip_reasons; i++)
		if (strcmp(info->skips[i].reason, reason) == 0)
			return &info->skips[i];
	return NULL;
}

static uint32_t skips(const struct matcher *m, int list, const char *reason)
{
	const struct list_skip *s = skip_of(m, list, reason);
	return s ? s->count : 0;
}

static void assert_error(int rc, const struct parse_error *err, const char *words)
{
	assert_int_equal(rc, -1);
	if (!strstr(err->reason, words))
		fail_msg("error \"%s\" does not say \"%s\"", err->reason, words);
}

/* ---- Disconnect ------------------------------------------------------------ */

static const char dc_services[] =
	"{\"license\": \"test\", \"categories\": {\n"
	" \"Email\": [{\"Google\": {\"http://www.google.com/\": [\"doubleclick.net\", \"google-analytics.com\"]}}],\n"
	" \"Advertising\": [\n"
	"  {\"Google\": {\"http://www.google.com/\": [\"doubleclick.net\", \"2mdn.net\"]}},\n"
	"  {\"Meta\": {\"https://www.meta.com/\": [\"facebook.net\"], \"performance\": \"true\"}}],\n"
	" \"Analytics\": [{\"Google\": {\"http://www.google.com/\": [\"google-analytics.com\"]}}],\n"
	" \"Content\": [{\"Google\": {\"http://www.google.com/\": [\"youtube.com\"]}}],\n"
	" \"ConsentManagers\": [{\"OneTrust\": {\"https://onetrust.com\": [\"cookielaw.org\", \"onetrust.io\"]}}],\n"
	" \"Social\": [{\"Meta\": {\"https://www.meta.com/\": [\"facebook.net\"], \"dnt\": \"eff\"}}]\n"
	"}}\n";

static const char dc_entities[] =
	"{\"license\": \"test\", \"entities\": {\n"
	" \"Google\": {\"properties\": [\"google.com\", \"youtube.com\"],\n"
	"            \"resources\": [\"doubleclick.net\", \"gstatic.com\"]},\n"
	" \"OneTrust\": {\"properties\": [\"onetrust.com\"], \"resources\": [\"cookielaw.org\"]}}}\n";

static void test_disconnect_entries(void **state)
{
	(void)state;
	int l;
	struct matcher *m = new_matcher(LIST_DISCONNECT, &l);
	struct parse_error err;
	assert_int_equal(disconnect(m, l, dc_services, NULL, NULL, &err), 0);
	assert_int_equal(matcher_finish(m), 0);

	struct match mt;
	host(m, "doubleclick.net", &mt);
	assert_true(mt.tracker);
	assert_string_equal(mt.entity, "Google");
	assert_string_equal(mt.category, "Advertising");
	assert_int_equal(mt.decided.list, l);
	host(m, "Stats.G.DoubleClick.net.", &mt);
	assert_true(mt.tracker);
	assert_string_equal(mt.entity, "Google");

	/* One domain in two tracking categories: both. */
	host(m, "connect.facebook.net", &mt);
	assert_true(mt.tracker);
	assert_string_equal(mt.entity, "Meta");
	assert_true(has_category(&mt, "Advertising"));
	assert_true(has_category(&mt, "Social"));

	/* Disconnect lists "Email" first; the telling category comes first all the same. */
	host(m, "www.google-analytics.com", &mt);
	assert_true(mt.tracker);
	assert_string_equal(mt.category, "Analytics");
	assert_true(has_category(&mt, "Email"));
	assert_true(tracker(m, "2mdn.net"));

	/* Content and ConsentManagers: company and category, not a tracker. */
	host(m, "www.youtube.com", &mt);
	assert_false(mt.tracker);
	assert_string_equal(mt.entity, "Google");
	assert_string_equal(mt.category, "Content");
	host(m, "cdn.cookielaw.org", &mt);
	assert_false(mt.tracker);
	assert_string_equal(mt.entity, "OneTrust");
	assert_string_equal(mt.category, "ConsentManagers");

	host(m, "example.com", &mt);
	assert_false(mt.tracker);
	assert_null(mt.entity);
	assert_int_equal(mt.decided.list, -1);

	const struct list_info *info = matcher_list_info(m, l);
	assert_int_equal(info->skipped, 0);
	assert_int_equal(info->rules, 7);   /* facebook.net once */
	matcher_free(m);
}

static void test_disconnect_not_tracking(void **state)
{
	(void)state;
	int l;
	struct matcher *m = new_matcher(LIST_DISCONNECT, &l);
	struct parse_error err;
	static const char *const not_tracking[] = { "Advertising", "Email", NULL };
	assert_int_equal(disconnect(m, l, dc_services, NULL, not_tracking, &err), 0);
	assert_int_equal(matcher_finish(m), 0);
	assert_false(tracker(m, "doubleclick.net"));
	assert_string_equal(entity_of(m, "doubleclick.net"), "Google");
	assert_true(tracker(m, "youtube.com"));       /* Content tracks now */
	assert_true(tracker(m, "cookielaw.org"));
	assert_true(tracker(m, "facebook.net"));      /* Social still */
	matcher_free(m);
}

static void test_disconnect_entities(void **state)
{
	(void)state;
	int l;
	struct matcher *m = new_matcher(LIST_DISCONNECT, &l);
	struct parse_error err;
	assert_int_equal(disconnect(m, l, dc_services, dc_entities, NULL, &err), 0);
	assert_int_equal(matcher_finish(m), 0);

	/* A company's own site: its name, no verdict. */
	struct match mt;
	host(m, "www.google.com", &mt);
	assert_false(mt.tracker);
	assert_string_equal(mt.entity, "Google");
	assert_int_equal(mt.decided.list, -1);
	assert_true(mt.lists & 1);
	host(m, "fonts.gstatic.com", &mt);
	assert_false(mt.tracker);
	assert_string_equal(mt.entity, "Google");
	assert_string_equal(entity_of(m, "onetrust.com"), "OneTrust");
	/* The services' verdicts stand. */
	assert_true(tracker(m, "doubleclick.net"));
	assert_false(tracker(m, "cookielaw.org"));
	assert_false(tracker(m, "youtube.com"));
	matcher_free(m);
}

static void test_disconnect_malformed_parts(void **state)
{
	(void)state;
	static const char doc[] =
		"{\"categories\": {\n"
		" \"Advertising\": [42, {\"Bad\": \"x\"},\n"
		"   {\"Good\": {\"https://good/\": [\"Good.Example.\", 7, \"has.example/path\", \"\",\n"
		"                               \"sp ace.example\", \"a..b\"], \"dnt\": \"eff\"}},\n"
		"   {\"Num\": {\"https://n/\": 5}}],\n"
		" \"Analytics\": {\"not\": \"an array\"}}}";
	int l;
	struct matcher *m = new_matcher(LIST_DISCONNECT, &l);
	struct parse_error err;
	assert_int_equal(disconnect(m, l, doc, NULL, NULL, &err), 0);
	assert_int_equal(matcher_finish(m), 0);
	assert_true(tracker(m, "good.example"));
	assert_string_equal(entity_of(m, "x.good.example"), "Good");
	assert_int_equal(skips(m, l, "entry not an object"), 1);
	assert_int_equal(skips(m, l, "entity not an object"), 1);
	assert_int_equal(skips(m, l, "domain not a string"), 1);
	assert_int_equal(skips(m, l, "domain with a path"), 1);
	assert_int_equal(skips(m, l, "empty domain"), 1);
	assert_int_equal(skips(m, l, "not a domain"), 2);
	assert_int_equal(skips(m, l, "malformed entity"), 1);
	assert_int_equal(skips(m, l, "category not an array"), 1);
	assert_int_equal(matcher_list_info(m, l)->skipped, 9);
	assert_int_equal(matcher_list_info(m, l)->rules, 1);
	matcher_free(m);
}

static void test_disconnect_errors(void **state)
{
	(void)state;
	struct parse_error err;
	int l;
	struct matcher *m = new_matcher(LIST_DISCONNECT, &l);

	/* Truncated: jansson's line and text. */
	size_t half = strlen(dc_services) / 2;
	int rc = disconnect_n(m, l, dc_services, half, NULL, 0, NULL, &err);
	assert_error(rc, &err, "services.json: not JSON");
	assert_true(err.line >= 3);
	/* Every prefix of the document is an error, never a crash. */
	for (size_t n = 0; n < strlen(dc_services) - 2; n++)
		assert_int_equal(disconnect_n(m, l, dc_services, n, NULL, 0, NULL, &err), -1);

	static const char binary[] = "\x7f" "ELF\x02\x01\x01\0\0\0\xff\xfe{\"categories\"";
	assert_error(disconnect_n(m, l, binary, sizeof binary - 1, NULL, 0, NULL, &err), &err, "not JSON");
	assert_error(disconnect_n(m, l, NULL, 0, NULL, 0, NULL, &err), &err, "empty file");
	assert_error(disconnect(m, l, " \n\t\r\n", NULL, NULL, &err), &err, "empty file");
	assert_error(disconnect(m, l, "[{\"categories\": {}}]", NULL, NULL, &err), &err, "not a JSON object");
	assert_error(disconnect(m, l, "\"categories\"", NULL, NULL, &err), &err, "not JSON");
	assert_error(disconnect(m, l, "{\"license\": \"x\"}", NULL, NULL, &err), &err, "no \"categories\"");
	assert_error(disconnect(m, l, "{\"categories\": []}", NULL, NULL, &err), &err, "no \"categories\"");
	assert_error(disconnect(m, l, "{\"categories\": {}}", NULL, NULL, &err), &err, "no entries");
	assert_error(disconnect(m, l, "{\"a\": 1} {\"b\": 2}", NULL, NULL, &err), &err, "not JSON");
	/* A bad entities.json fails the whole list, before anything was added. */
	assert_error(disconnect(m, l, dc_services, "{\"entities\": {\"Google\": ", NULL, &err), &err,
		     "entities.json: not JSON");
	assert_error(disconnect(m, l, dc_services, "{\"license\": \"x\"}", NULL, &err), &err,
		     "entities.json: no \"entities\"");
	assert_error(disconnect_n(m, l, dc_services, strlen(dc_services), "", 0, NULL, &err), &err,
		     "entities.json: empty file");
	assert_int_equal(matcher_list_info(m, l)->rules, 0);
	matcher_free(m);
}

/* ---- DuckDuckGo Tracker Data Set ---------------------------------------------- */

static const char tds_doc[] =
	"{\"_builtWith\": {}, \"readme\": \"test\",\n"
	" \"trackers\": {\n"
	"  \"google-analytics.com\": {\"domain\": \"google-analytics.com\",\n"
	"    \"owner\": {\"name\": \"Google Analytics\", \"displayName\": \"Google Analytics (Google)\",\n"
	"              \"ownedBy\": \"Google LLC\"},\n"
	"    \"categories\": [\"Analytics\", \"Advertising\"], \"default\": \"block\",\n"
	"    \"rules\": [{\"rule\": \"google-analytics\\\\.com/analytics\\\\.js\",\n"
	"                \"exceptions\": {\"domains\": [\"raspberrypi.org\"]}}]},\n"
	"  \"facebook.net\": {\"domain\": \"facebook.net\",\n"
	"    \"owner\": {\"name\": \"Facebook, Inc.\", \"displayName\": \"Facebook\"},\n"
	"    \"categories\": [\"Social Network\"], \"default\": \"ignore\",\n"
	"    \"rules\": [{\"rule\": \"facebook\\\\.net/.*/fbevents\\\\.js\", \"fingerprinting\": 2},\n"
	"              {\"rule\": \"facebook\\\\.net/[a-z_A-Z]+/sdk\\\\.js\", \"action\": \"block-ctl-fb\"},\n"
	"              {\"rule\": \"facebook\\\\.net/signals/(\", \"comment\": \"does not compile\"},\n"
	"              {\"rule\": \"facebook\\\\.net/tr/\",\n"
	"               \"exceptions\": {\"domains\": [\"shop.example\"], \"types\": [\"image\"]}},\n"
	"              {\"rule\": \"facebook\\\\.net/only/\", \"options\": {\"domains\": [\"news.example\"]}}]},\n"
	"  \"tiktok.com\": {\"domain\": \"tiktok.com\",\n"
	"    \"owner\": {\"name\": \"ByteDance Ltd.\", \"displayName\": \"ByteDance\"},\n"
	"    \"categories\": [], \"default\": \"block\",\n"
	"    \"rules\": [{\"rule\": \"www\\\\.tiktok\\\\.com/embed\", \"action\": \"ignore\"}]},\n"
	"  \"omtrdc.net\": {\"domain\": \"omtrdc.net\", \"owner\": {\"name\": \"Adobe Inc.\",\n"
	"    \"displayName\": \"Adobe\"}, \"default\": \"block\"},\n"
	"  \"smallco.example\": {\"owner\": {\"name\": \"Small Co\"}, \"default\": \"block\"}\n"
	" },\n"
	" \"entities\": {\n"
	"  \"Google LLC\": {\"domains\": [\"google.com\"], \"displayName\": \"Google\"},\n"
	"  \"Google Analytics\": {\"domains\": [\"google-analytics.com\"],\n"
	"                        \"displayName\": \"Google Analytics (Google)\"},\n"
	"  \"Facebook, Inc.\": {\"domains\": [\"facebook.com\", \"facebook.net\"], \"displayName\": \"Facebook\"}\n"
	" },\n"
	" \"domains\": {\"google.com\": \"Google LLC\", \"google-analytics.com\": \"Google Analytics\",\n"
	"             \"analytics.google.com\": \"Google Analytics\",\n"
	"             \"facebook.com\": \"Facebook, Inc.\", \"nobody.example\": \"Unknown Entity\"},\n"
	" \"cnames\": {\"metrics.shop.example\": \"shop.example.sc.omtrdc.net\",\n"
	"            \"stats.news.example\": \"news.example.ssl.d1.sc.omtrdc.net\"}\n"
	"}\n";

static void test_tds_trackers(void **state)
{
	(void)state;
	int l;
	struct matcher *m = new_matcher(LIST_TDS, &l);
	struct parse_error err;
	assert_int_equal(parse(parse_tds, m, l, tds_doc, &err), 0);
	assert_int_equal(matcher_finish(m), 0);

	/* ownedBy, then the entities' displayName. */
	struct match mt;
	host(m, "www.google-analytics.com", &mt);
	assert_true(mt.tracker);
	assert_string_equal(mt.entity, "Google");
	assert_true(has_category(&mt, "Analytics"));
	assert_true(has_category(&mt, "Advertising"));
	/* default "ignore": a company, not a tracker by name. */
	host(m, "connect.facebook.net", &mt);
	assert_false(mt.tracker);
	assert_string_equal(mt.entity, "Facebook");
	assert_int_equal(mt.decided.list, l);
	/* No entity entry: the owner's displayName; no displayName: the name. */
	host(m, "www.tiktok.com", &mt);
	assert_true(mt.tracker);
	assert_string_equal(mt.entity, "ByteDance");
	assert_string_equal(entity_of(m, "smallco.example"), "Small Co");
	assert_true(tracker(m, "smallco.example"));

	/* "domains": company only; an owner that has an owner maps to it. */
	host(m, "mail.google.com", &mt);
	assert_false(mt.tracker);
	assert_string_equal(mt.entity, "Google");
	assert_int_equal(mt.decided.list, -1);
	assert_string_equal(entity_of(m, "analytics.google.com"), "Google");
	assert_string_equal(entity_of(m, "facebook.com"), "Facebook");
	assert_string_equal(entity_of(m, "nobody.example"), "Unknown Entity");
	assert_false(tracker(m, "nobody.example"));

	/* CNAMEs: the name takes what its target is. */
	host(m, "metrics.shop.example", &mt);
	assert_true(mt.tracker);
	assert_non_null(mt.cname);
	assert_string_equal(mt.cname, "shop.example.sc.omtrdc.net");
	assert_string_equal(mt.entity, "Adobe");
	assert_true(tracker(m, "stats.news.example"));
	assert_false(tracker(m, "shop.example"));

	struct matcher_stats st;
	matcher_stats(m, &st);
	assert_int_equal(st.cnames, 2);
	assert_int_equal(st.regex_rules, 6);
	assert_int_equal(skips(m, l, "regex does not compile"), 1);
	assert_int_equal(matcher_list_info(m, l)->skipped, 1);
	matcher_free(m);
}

static void test_tds_rules(void **state)
{
	(void)state;
	int l;
	struct matcher *m = new_matcher(LIST_TDS, &l);
	struct parse_error err;
	assert_int_equal(parse(parse_tds, m, l, tds_doc, &err), 0);
	assert_int_equal(matcher_finish(m), 0);

	struct match mt;
	/* A default-ignore tracker: its rules block. */
	url(m, "https://connect.facebook.net/en_US/fbevents.js", "news.example", RT_SCRIPT, &mt);
	assert_true(mt.tracker);
	assert_string_equal(mt.decided.text, "facebook\\.net/.*/fbevents\\.js");
	assert_string_equal(mt.entity, "Facebook");
	url(m, "https://connect.facebook.net/en_US/other.js", "news.example", RT_SCRIPT, &mt);
	assert_false(mt.tracker);
	/* Click-to-load blocks. */
	url(m, "https://connect.facebook.net/en_US/sdk.js", "news.example", RT_SCRIPT, &mt);
	assert_true(mt.tracker);
	/* Exceptions: the rule does not apply on the excepted site and type. */
	url(m, "https://www.facebook.net/tr/?id=1", "news.example", RT_SCRIPT, &mt);
	assert_true(mt.tracker);
	url(m, "https://www.facebook.net/tr/?id=1", "shop.example", RT_IMAGE, &mt);
	assert_false(mt.tracker);
	url(m, "https://www.facebook.net/tr/?id=1", "www.shop.example", RT_IMAGE, &mt);
	assert_false(mt.tracker);
	/* Options: only on the sites named. */
	url(m, "https://www.facebook.net/only/x.js", "news.example", RT_SCRIPT, &mt);
	assert_true(mt.tracker);
	url(m, "https://www.facebook.net/only/x.js", "other.example", RT_SCRIPT, &mt);
	assert_false(mt.tracker);
	/* action "ignore" on a default-block tracker. */
	url(m, "https://www.tiktok.com/embed/v2/123", "news.example", RT_SUBDOCUMENT, &mt);
	assert_false(mt.tracker);
	assert_string_equal(mt.entity, "ByteDance");
	url(m, "https://www.tiktok.com/api/x", "news.example", RT_XHR, &mt);
	assert_true(mt.tracker);
	url(m, "https://www.google-analytics.com/analytics.js", "news.example", RT_SCRIPT, &mt);
	assert_true(mt.tracker);
	matcher_free(m);
}

static void test_tds_malformed_parts(void **state)
{
	(void)state;
	static const char doc[] =
		"{\"trackers\": {\n"
		"  \"x.example\": 5,\n"
		"  \"y.example\": {\"default\": \"maybe\"},\n"
		"  \"bad key!\": {\"default\": \"block\"},\n"
		"  \"z.example\": {\"default\": \"block\", \"owner\": \"a string\", \"categories\": [1, \"Ads\"],\n"
		"    \"rules\": [3, {\"rule\": 4}, {\"rule\": \"z\\\\.example/a\", \"action\": \"redirect\"},\n"
		"      {\"rule\": \"z\\\\.example/b\", \"exceptions\": {\"types\": [\"nosuchtype\", \"script\"],\n"
		"                                      \"domains\": [1, \"bad domain\", \"ok.example\"]}}]}},\n"
		" \"entities\": [],\n"
		" \"domains\": {\"d.example\": 5},\n"
		" \"cnames\": {\"c.example\": 6, \"e.example\": \"target.z.example\"}}";
	int l;
	struct matcher *m = new_matcher(LIST_TDS, &l);
	struct parse_error err;
	assert_int_equal(parse(parse_tds, m, l, doc, &err), 0);
	assert_int_equal(matcher_finish(m), 0);
	struct match mt;
	host(m, "z.example", &mt);
	assert_true(mt.tracker);
	assert_null(mt.entity);
	assert_true(has_category(&mt, "Ads"));
	assert_true(tracker(m, "e.example"));
	assert_false(tracker(m, "x.example"));
	assert_false(tracker(m, "y.example"));
	assert_int_equal(skips(m, l, "tracker not an object"), 1);
	assert_int_equal(skips(m, l, "tracker without default"), 1);
	assert_int_equal(skips(m, l, "not a domain"), 2);
	assert_int_equal(skips(m, l, "category not a string"), 1);
	assert_int_equal(skips(m, l, "malformed rule"), 2);
	assert_int_equal(skips(m, l, "unsupported rule action"), 1);
	assert_int_equal(skips(m, l, "unknown resource type"), 1);
	assert_int_equal(skips(m, l, "domain not a string"), 1);
	assert_int_equal(skips(m, l, "entity not a string"), 1);
	assert_int_equal(skips(m, l, "cname target not a string"), 1);
	assert_int_equal(skips(m, l, "malformed top-level object"), 1);
	/* The rule with half-usable exceptions is kept. */
	struct matcher_stats st;
	matcher_stats(m, &st);
	assert_int_equal(st.regex_rules, 1);
	url(m, "https://z.example/b", "ok.example", RT_IMAGE, &mt);
	assert_true(mt.tracker);
	matcher_free(m);
}

/* Appends to a heap string. */
static void append(char **s, size_t *len, const char *text)
{
	size_t n = strlen(text);
	*s = realloc(*s, *len + n + 1);
	assert_non_null(*s);
	memcpy(*s + *len, text, n + 1);
	*len += n;
}

/* Expressions that would make regcomp() take too much memory are left out. */
static void test_tds_regex_limits(void **state)
{
	(void)state;
	char *doc = NULL;
	size_t len = 0;
	append(&doc, &len, "{\"trackers\": {\"r.example\": {\"default\": \"ignore\", \"rules\": [\n");
	append(&doc, &len, "{\"rule\": \"r\\\\.example/a{1,3}b+[a-z]*(x|y)?\"},\n");  /* fine */
	append(&doc, &len, "{\"rule\": \"s");          /* a repeated repetition: > 2 GB */
	for (int i = 0; i < 100; i++)
		append(&doc, &len, "+");
	append(&doc, &len, "\"},\n{\"rule\": \"a{1,256}\"},\n");      /* 0.6 MB */
	append(&doc, &len, "{\"rule\": \"");                            /* 8 MB */
	for (int i = 0; i < 1000; i++)
		append(&doc, &len, "a?");
	append(&doc, &len, "\"},\n{\"rule\": \"((((((((((a))))))))))\"},\n");
	append(&doc, &len, "{\"rule\": \"((a{0,16}){0,16}){0,16}\"},\n");
	append(&doc, &len, "{\"rule\": \"[a-z\"},\n");
	append(&doc, &len, "{\"rule\": \"");
	for (int i = 0; i < 2100; i++)
		append(&doc, &len, "x");
	append(&doc, &len, "\"}]},\n");
	/* Then more than the budget, in long plain expressions. */
	append(&doc, &len, "\"big.example\": {\"default\": \"ignore\", \"rules\": [");
	char rule[2000 + 16];
	memset(rule, 'z', sizeof rule);
	memcpy(rule, "{\"rule\": \"", 10);
	memcpy(rule + 10 + 1990, "\"},", 4);
	for (int i = 0; i < 300; i++)
		append(&doc, &len, rule);
	append(&doc, &len, "{\"rule\": \"last\"}]}}}");

	int l;
	struct matcher *m = new_matcher(LIST_TDS, &l);
	struct parse_error err;
	assert_int_equal(parse(parse_tds, m, l, doc, &err), 0);
	free(doc);
	assert_int_equal(matcher_finish(m), 0);
	assert_int_equal(skips(m, l, "regex too complex"), 7);
	struct match mt;
	/* About 512 KiB of the 600 KB of long expressions fit; a short one after them still does. */
	uint32_t over = skips(m, l, "regex budget exceeded");
	assert_in_range(over, 30, 45);
	struct matcher_stats st;
	matcher_stats(m, &st);
	assert_int_equal(st.regex_rules + over, 1 + 301);
	url(m, "https://big.example/last", NULL, 0, &mt);
	assert_true(mt.tracker);
	url(m, "https://r.example/aab", NULL, 0, &mt);
	assert_true(mt.tracker);
	matcher_free(m);
}

static void test_tds_errors(void **state)
{
	(void)state;
	struct parse_error err;
	int l;
	struct matcher *m = new_matcher(LIST_TDS, &l);
	size_t len = strlen(tds_doc);
	assert_error(parse_n(parse_tds, m, l, tds_doc, len - 3, &err), &err, "not JSON");
	assert_true(err.line > 1);
	for (size_t n = 0; n < len - 2; n += 7)
		assert_int_equal(parse_n(parse_tds, m, l, tds_doc, n, &err), -1);
	static const char binary[] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
	assert_error(parse_n(parse_tds, m, l, binary, sizeof binary - 1, &err), &err, "not JSON");
	assert_error(parse_n(parse_tds, m, l, NULL, 0, &err), &err, "empty file");
	assert_error(parse(parse_tds, m, l, "\n\n  ", &err), &err, "empty file");
	assert_error(parse(parse_tds, m, l, "[]", &err), &err, "not a JSON object");
	assert_error(parse(parse_tds, m, l, "42", &err), &err, "not JSON");
	assert_error(parse(parse_tds, m, l, "{\"entities\": {}}", &err), &err, "no \"trackers\"");
	assert_error(parse(parse_tds, m, l, "{\"trackers\": []}", &err), &err, "no \"trackers\"");
	assert_error(parse(parse_tds, m, l, "{\"trackers\": {}}", &err), &err, "no entries");
	assert_error(parse(parse_tds, m, l, "{\"trackers\": {\"a.example\": 1}}", &err), &err,
		     "no usable entry");
	/* A BOM is taken; a NUL in a string is not JSON. */
	static const char nul[] = "{\"trackers\": {\"a\\u0000b\": {\"default\": \"block\"}}}";
	assert_error(parse(parse_tds, m, l, nul, &err), &err, "not JSON");
	assert_int_equal(matcher_list_info(m, l)->rules, 0);
	assert_int_equal(parse(parse_tds, m, l, "\xef\xbb\xbf{\"trackers\": {\"a.example\": {\"default\": \"block\"}}}",
			       &err), 0);
	assert_int_equal(matcher_finish(m), 0);
	assert_true(tracker(m, "a.example"));
	matcher_free(m);
}

/* ---- Open Cookie Database ------------------------------------------------------- */

#define OCD_HEADER "ID,Platform,Category,Cookie / Data Key name,Domain,Description,Retention period," \
	"Data Controller,User Privacy & GDPR Rights Portals,Wildcard match"

static const char ocd_doc[] =
	OCD_HEADER "\n"                                                                   /* 1 */
	"1,Google Analytics,Analytics,_ga,,ID used to identify users,2 years,Google,https://g/,0\n"
	"2,Google Analytics,Analytics,_ga_,,ID used to identify users,2 years,Google,https://g/,1\n"
	"3,\"Acme, Inc.\",Marketing,acme_id,acme.example (3rd party),\"Line one\n"       /* 4 */
	"line two, with \"\"quotes\"\"\",\"1\n"                                           /* 5 */
	"year\",\"The \"\"Big\"\" Co\",,0\n"                                              /* 6 */
	"4,Short,Row\n"                                                                   /* 7 */
	"5,Empty,Functional,,,,,,,0\n"                                                    /* 8 */
	"6,Crazy Egg,Analytics,ce_need_secure_cookie\t,,,1 second,Crazy Egg,,0\n"         /* 9 */
	"7,X,Functional,bad_wild,,,,,,yes\n"                                              /* 10 */
	"8,Q,Functional,\"quoted\"junk,,,,,,0\n"                                          /* 11 */
	"9,Last,Marketing,last_one,,,,,,0\n"                                              /* 12 */
	"\n"                                                                              /* 13 */
	"10,Too,Many,fields,,,,,,0,extra\n"                                               /* 14 */
	"11,Unterminated,Marketing,\"oops,,,,,,0\n"                                       /* 15 */
	"12,Swallowed,Marketing,swallowed,,,,,,0\n";

static void test_cookiedb_rows(void **state)
{
	(void)state;
	int l;
	struct matcher *m = new_matcher(LIST_COOKIEDB, &l);
	struct parse_error err;
	assert_int_equal(parse(parse_cookiedb, m, l, ocd_doc, &err), 0);
	assert_int_equal(matcher_finish(m), 0);

	const struct cookie_info *c = matcher_lookup_cookie(m, "_ga", 3);
	assert_non_null(c);
	assert_string_equal(c->name, "_ga");
	assert_false(c->prefix);
	assert_string_equal(c->platform, "Google Analytics");
	assert_string_equal(c->category, "Analytics");
	assert_string_equal(c->domain, "");
	assert_string_equal(c->retention, "2 years");
	assert_string_equal(c->controller, "Google");
	assert_int_equal(c->list, l);
	c = matcher_lookup_cookie(m, "_ga_ABC123", 10);
	assert_non_null(c);
	assert_string_equal(c->name, "_ga_");
	assert_true(c->prefix);
	assert_null(matcher_lookup_cookie(m, "_gaX", 4));

	/* Quoted fields: commas, line ends and "" inside. */
	c = matcher_lookup_cookie(m, "acme_id", 7);
	assert_non_null(c);
	assert_string_equal(c->platform, "Acme, Inc.");
	assert_string_equal(c->domain, "acme.example (3rd party)");
	assert_string_equal(c->retention, "1\nyear");
	assert_string_equal(c->controller, "The \"Big\" Co");

	/* White space around a name is not part of it. */
	assert_non_null(matcher_lookup_cookie(m, "ce_need_secure_cookie", 21));
	assert_non_null(matcher_lookup_cookie(m, "last_one", 8));
	assert_null(matcher_lookup_cookie(m, "oops", 4));
	assert_null(matcher_lookup_cookie(m, "swallowed", 9));

	const struct list_info *info = matcher_list_info(m, l);
	assert_int_equal(info->rules, 5);
	assert_int_equal(info->skipped, 6);
	const struct list_skip *s = skip_of(m, l, "wrong number of fields");
	assert_non_null(s);
	assert_int_equal(s->count, 2);
	assert_int_equal(s->first_line, 7);
	assert_int_equal(skip_of(m, l, "empty cookie name")->first_line, 8);
	assert_int_equal(skip_of(m, l, "wildcard match not 0 or 1")->first_line, 10);
	assert_int_equal(skip_of(m, l, "text after a closing quote")->first_line, 11);
	assert_int_equal(skip_of(m, l, "unterminated quote")->first_line, 15);
	matcher_free(m);
}

static void test_cookiedb_crlf_bom(void **state)
{
	(void)state;
	/* Columns in another order, the optional ones missing, CRLF, a BOM, no final line end. */
	static const char doc[] =
		"\xef\xbb\xbf" "Wildcard match,Platform,Category,Cookie / Data Key name\r\n"
		"0,Meta,Marketing,_fbp\r\n"
		"1,\"Multi\r\nLine\",Functional,crlf_\r\n"
		"\r\n"
		"0,Short\r\n"
		"0,OneTrust,Functional,OptanonConsent";
	int l;
	struct matcher *m = new_matcher(LIST_COOKIEDB, &l);
	struct parse_error err;
	assert_int_equal(parse(parse_cookiedb, m, l, doc, &err), 0);
	assert_int_equal(matcher_finish(m), 0);
	const struct cookie_info *c = matcher_lookup_cookie(m, "_fbp", 4);
	assert_non_null(c);
	assert_string_equal(c->platform, "Meta");
	assert_string_equal(c->domain, "");
	c = matcher_lookup_cookie(m, "crlf_x", 6);
	assert_non_null(c);
	assert_true(c->prefix);
	assert_string_equal(c->platform, "Multi\r\nLine");
	c = matcher_lookup_cookie(m, "OptanonConsent", 14);
	assert_non_null(c);
	assert_string_equal(c->category, "Functional");
	assert_int_equal(skip_of(m, l, "wrong number of fields")->first_line, 6);
	assert_int_equal(matcher_list_info(m, l)->rules, 3);

	/* A lone CR ends a record too. */
	matcher_free(m);
	m = new_matcher(LIST_COOKIEDB, &l);
	assert_int_equal(parse(parse_cookiedb, m, l,
			       "Platform,Category,Cookie / Data Key name,Wildcard match\r"
			       "P,C,old_mac,0\r", &err), 0);
	assert_int_equal(matcher_finish(m), 0);
	assert_non_null(matcher_lookup_cookie(m, "old_mac", 7));
	matcher_free(m);
}

static int csv_alone(const char *doc, size_t len, struct parse_error *err)
{
	return parse_alone(parse_cookiedb, LIST_COOKIEDB, doc, len, err);
}

static int csv(const char *doc, struct parse_error *err)
{
	return csv_alone(doc, strlen(doc), err);
}

static void test_cookiedb_errors(void **state)
{
	(void)state;
	struct parse_error err;
	assert_error(csv_alone(NULL, 0, &err), &err, "no header");
	assert_error(csv("\xef\xbb\xbf", &err), &err, "no header");
	assert_error(csv("\r\n\n\n", &err), &err, "no header");
	assert_error(csv("ID,Platform,Category,Cookie / Data Key name,Domain\n1,P,C,name,\n", &err), &err,
		     "\"Wildcard match\"");
	assert_int_equal(err.line, 1);
	assert_error(csv("\n\nPlatform,Category,Wildcard match\n", &err), &err, "\"Cookie / Data Key name\"");
	assert_int_equal(err.line, 3);
	assert_error(csv("\"Platform,Category,Cookie / Data Key name,Wildcard match\n", &err), &err,
		     "no header");
	assert_error(csv(OCD_HEADER "\n", &err), &err, "no entries");
	/* Unterminated quote at the end of the file: the row is left out. */
	assert_error(csv(OCD_HEADER "\n1,P,C,\"abc", &err), &err, "unterminated quote");
	assert_int_equal(err.line, 2);
	assert_error(csv(OCD_HEADER "\n1,P\n2,P,C\n", &err), &err, "wrong number of fields");
	assert_int_equal(err.line, 2);
	static const char binary[] = "\x1f\x8b\x08\0\0\0\0\0\0\x03,,,\n";
	assert_error(csv_alone(binary, sizeof binary - 1, &err), &err, "binary");
	static const char nul[] = OCD_HEADER "\n1,P,C,a\0b,,,,,,0\n";
	assert_error(csv_alone(nul, sizeof nul - 1, &err), &err, "binary");
	assert_int_equal(err.line, 2);

	/* Every prefix of a valid file: an error or a list, never a crash. */
	for (size_t n = 0; n < strlen(ocd_doc); n++)
		csv_alone(ocd_doc, n, &err);
}

/* ---- the real lists' excerpts --------------------------------------------------- */

static const char *data_dir(void)
{
	const char *dir = getenv("LISTS_TEST_DATA");
	return dir ? dir : "tests/data/lists";
}

static char *read_data(const char *name, size_t *len)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", data_dir(), name);
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s (run from the top of the source tree, or set LISTS_TEST_DATA)",
			 path);
	char *buf = NULL;
	size_t cap = 0;
	*len = 0;
	for (;;) {
		if (*len == cap) {
			cap = cap ? cap * 2 : 65536;
			buf = realloc(buf, cap);
			assert_non_null(buf);
		}
		size_t n = fread(buf + *len, 1, cap - *len, f);
		if (n == 0)
			break;
		*len += n;
	}
	fclose(f);
	/* Exactly `len` bytes, so that ASan sees a read past them. */
	char *exact = copy_of(buf, *len);
	free(buf);
	return exact;
}

static void test_real_disconnect(void **state)
{
	(void)state;
	size_t slen, elen;
	char *s = read_data("disconnect-services.json", &slen);
	char *e = read_data("disconnect-entities.json", &elen);
	int l;
	struct matcher *m = new_matcher(LIST_DISCONNECT, &l);
	struct parse_error err = { 0 };
	if (parse_disconnect(m, l, s, slen, e, elen, NULL, &err) != 0)
		fail_msg("line %u: %s", err.line, err.reason);
	assert_int_equal(matcher_finish(m), 0);
	free(s);
	free(e);

	struct match mt;
	host(m, "ssl.google-analytics.com", &mt);
	assert_true(mt.tracker);
	assert_string_equal(mt.entity, "Google");
	assert_string_equal(mt.category, "Analytics");
	host(m, "ad.doubleclick.net", &mt);
	assert_true(mt.tracker);
	assert_string_equal(mt.entity, "Google");
	assert_string_equal(mt.category, "Advertising");
	host(m, "connect.facebook.net", &mt);
	assert_true(mt.tracker);
	assert_string_equal(mt.entity, "Meta");
	host(m, "www.tiktok.com", &mt);
	assert_true(mt.tracker);
	assert_string_equal(mt.entity, "Bytedance");
	host(m, "cdn.cookielaw.org", &mt);
	assert_false(mt.tracker);
	assert_string_equal(mt.entity, "OneTrust");
	assert_string_equal(mt.category, "ConsentManagers");
	host(m, "www.youtube.com", &mt);
	assert_false(mt.tracker);
	assert_string_equal(mt.entity, "Google");
	assert_string_equal(mt.category, "Content");
	host(m, "www.instagram.com", &mt);
	assert_false(mt.tracker);
	assert_string_equal(mt.entity, "Meta");
	/* Disconnect's one "domain" with a path in the excerpt is left out. */
	assert_int_equal(skips(m, l, "domain with a path"), 1);
	assert_int_equal(matcher_list_info(m, l)->skipped, 1);
	matcher_free(m);
}

static void test_real_tds(void **state)
{
	(void)state;
	size_t len;
	char *buf = read_data("tds.json", &len);
	int l;
	struct matcher *m = new_matcher(LIST_TDS, &l);
	struct parse_error err = { 0 };
	if (parse_tds(m, l, buf, len, &err) != 0)
		fail_msg("line %u: %s", err.line, err.reason);
	assert_int_equal(matcher_finish(m), 0);
	free(buf);

	struct match mt;
	host(m, "www.google-analytics.com", &mt);
	assert_true(mt.tracker);
	assert_string_equal(mt.entity, "Google");
	host(m, "stats.g.doubleclick.net", &mt);
	assert_true(mt.tracker);
	assert_string_equal(mt.entity, "Google");
	host(m, "connect.facebook.net", &mt);
	assert_false(mt.tracker);     /* default "ignore" */
	assert_string_equal(mt.entity, "Facebook");
	host(m, "www.tiktok.com", &mt);
	assert_true(mt.tracker);
	assert_string_equal(mt.entity, "ByteDance");
	assert_string_equal(entity_of(m, "www.instagram.com"), "Facebook");
	assert_string_equal(entity_of(m, "www.google.com"), "Google");
	assert_false(tracker(m, "www.google.com"));
	host(m, "aa.athome.com", &mt);
	assert_true(mt.tracker);
	assert_string_equal(mt.cname, "athome.com.data.adobedc.net");
	assert_string_equal(mt.entity, "Adobe");

	url(m, "https://connect.facebook.net/en_US/fbevents.js", "shop.example", RT_SCRIPT, &mt);
	assert_true(mt.tracker);
	url(m, "https://www.tiktok.com/embed/v2/1", "shop.example", RT_SUBDOCUMENT, &mt);
	assert_false(mt.tracker);
	struct matcher_stats st;
	matcher_stats(m, &st);
	assert_int_equal(st.cnames, 3);
	assert_true(st.regex_rules > 20);
	assert_int_equal(matcher_list_info(m, l)->skipped, 0);
	matcher_free(m);
}

static void test_real_cookiedb(void **state)
{
	(void)state;
	size_t len;
	char *buf = read_data("open-cookie-database.csv", &len);
	int l;
	struct matcher *m = new_matcher(LIST_COOKIEDB, &l);
	struct parse_error err = { 0 };
	if (parse_cookiedb(m, l, buf, len, &err) != 0)
		fail_msg("line %u: %s", err.line, err.reason);
	assert_int_equal(matcher_finish(m), 0);
	free(buf);

	const struct cookie_info *c = matcher_lookup_cookie(m, "_ga", 3);
	assert_non_null(c);
	assert_string_equal(c->platform, "Google Analytics");
	assert_false(c->prefix);
	c = matcher_lookup_cookie(m, "_ga_Q2W3E4R5T6", 14);
	assert_non_null(c);
	assert_string_equal(c->name, "_ga_");
	assert_true(c->prefix);
	c = matcher_lookup_cookie(m, "_fbp", 4);
	assert_non_null(c);
	assert_string_equal(c->controller, "Facebook");
	assert_string_equal(c->domain, "facebook.com (3rd party)");
	c = matcher_lookup_cookie(m, "OptanonConsent", 14);
	assert_non_null(c);
	assert_string_equal(c->platform, "OneTrust");
	c = matcher_lookup_cookie(m, "euconsent-v2", 12);
	assert_non_null(c);
	assert_string_equal(c->platform, "Didomi");   /* the first of two rows */
	assert_non_null(matcher_lookup_cookie(m, "lu", 2));
	assert_non_null(matcher_lookup_cookie(m, "ce_need_secure_cookie", 21));
	const struct list_info *info = matcher_list_info(m, l);
	assert_int_equal(info->rules, 30);
	assert_int_equal(info->skipped, 0);
	matcher_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_disconnect_entries),
		cmocka_unit_test(test_disconnect_not_tracking),
		cmocka_unit_test(test_disconnect_entities),
		cmocka_unit_test(test_disconnect_malformed_parts),
		cmocka_unit_test(test_disconnect_errors),
		cmocka_unit_test(test_tds_trackers),
		cmocka_unit_test(test_tds_rules),
		cmocka_unit_test(test_tds_malformed_parts),
		cmocka_unit_test(test_tds_regex_limits),
		cmocka_unit_test(test_tds_errors),
		cmocka_unit_test(test_cookiedb_rows),
		cmocka_unit_test(test_cookiedb_crlf_bom),
		cmocka_unit_test(test_cookiedb_errors),
		cmocka_unit_test(test_real_disconnect),
		cmocka_unit_test(test_real_tds),
		cmocka_unit_test(test_real_cookiedb),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
