/*
 * libFuzzer harness for matcher_from_snapshot(), the reader of the lists'
 * cache (blocklists/lists.c reads a cache file's payload into a block and
 * hands it over once its header and checksum check).
 *
 * A snapshot's layout is this build's, so the harness makes its own at the
 * start: a matcher from small lists of every kind the cache holds (host
 * rules, URL rules with options, a host pattern, TDS regular expressions
 * with site options, a tracker with no owner, entities, a CNAME, cookies
 * and a cookie prefix). The input then says how to damage it: a
 * size to cut or pad it to, then patches (offset, length, bytes) written
 * over it, so that the fuzzer reaches past the header into every array.
 * Whatever it makes, matcher_from_snapshot() must refuse it or give a
 * matcher whose lookups stay inside the block; the undamaged snapshot must
 * load and answer as the matcher it was made from did. The seeds are such
 * patches against this build's snapshot: after a change to its layout they
 * still run, only damaging other fields.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../blocklists/matcher.h"
#include "../../blocklists/parsers.h"

static void *snapshot;
static size_t snapshot_size;
static struct match want_host, want_url;
static const struct cookie_info *want_cookie;

static const char *const hosts[] = { "www.google-analytics.com", "ads.example.com", "a.tracker.test",
				     "cdn.tracker.test", "example.org", "x.y.z.cloak.test" };
static const char *const urls[] = { "https://example.org/pixel.gif?id=1", "http://ads.example.com/tr/",
				    "https://news.example/collect?tid=UA-1", "https://cdn.tracker.test/a.js" };
static const char *const cookies[] = { "_ga", "_ga_ABC123", "_fbp", "session", "" };

static void add(struct matcher *m, const char *name, enum list_format format,
		int (*parse)(struct matcher *, int, const char *, size_t, struct parse_error *),
		const char *text)
{
	int list = matcher_add_list(m, name, "fuzz", format, "Tracking");
	struct parse_error err = { .line = 0 };
	if (list < 0 || parse(m, list, text, strlen(text), &err) != 0) {
		fprintf(stderr, "fuzz_snapshot: %s: %s\n", name, err.reason);
		abort();
	}
}

static void lookups(const struct matcher *m, struct match *host_out, struct match *url_out,
		    const struct cookie_info **cookie_out)
{
	struct match out;
	for (size_t i = 0; i < sizeof hosts / sizeof hosts[0]; i++) {
		matcher_lookup_host(m, hosts[i], strlen(hosts[i]), i % 2 ? "news.example" : NULL, &out);
		if (out.decided.text)
			(void)strlen(out.decided.text);
		if (out.entity)
			(void)strlen(out.entity);
		if (i == 0 && host_out)
			*host_out = out;
	}
	for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
		matcher_lookup_url(m, urls[i], strlen(urls[i]), "news.example", 0, &out);
		if (out.decided.text)
			(void)strlen(out.decided.text);
		if (i == 1 && url_out)
			*url_out = out;
	}
	for (size_t i = 0; i < sizeof cookies / sizeof cookies[0]; i++) {
		const struct cookie_info *c = matcher_lookup_cookie(m, cookies[i], strlen(cookies[i]));
		if (c && c->name)
			(void)strlen(c->name);
		if (i == 0 && cookie_out)
			*cookie_out = c;
	}
	struct matcher_stats stats;
	matcher_stats(m, &stats);
	for (int l = 0; l < matcher_list_count(m); l++) {
		const struct list_info *info = matcher_list_info(m, l);
		if (info && info->name)
			(void)strlen(info->name);
	}
}

/* A block of exactly `size` bytes (as lists.c reads it), so that ASan sees a read past it. */
static void *block_of(const void *data, size_t size)
{
	void *block = NULL;
	if (posix_memalign(&block, 64, size ? size : 1) != 0)
		abort();
	memcpy(block, data, size);
	return block;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	struct matcher *m = matcher_new();
	if (!m)
		abort();
	add(m, "hosts", LIST_HOSTS, parse_hosts,
	    "0.0.0.0 www.google-analytics.com\n0.0.0.0 a.tracker.test\n");
	add(m, "abp", LIST_ABP, parse_abp,
	    "||ads.example.com^\n||example.org/pixel.gif$image,third-party\n"
	    "/collect?tid=$domain=news.example|~other.example\n@@||cdn.tracker.test/a.js\n"
	    "||cdn*.tracker.test^$third-party\n*$script,domain=news.example\n");
	add(m, "tds", LIST_TDS, parse_tds,
	    "{\"trackers\": {\"tracker.test\": {\"domain\": \"tracker.test\", \"default\": \"ignore\","
	    " \"rules\": [{\"rule\": \"tracker\\\\.test/tr/[a-z]+\", \"options\": {\"domains\": [\"news.example\"]}},"
	    " {\"rule\": \"tracker\\\\.test/px\", \"exceptions\": {\"domains\": [\"other.example\"]}}]}},"
	    " \"entities\": {}, \"domains\": {}}");
	add(m, "cookies", LIST_COOKIEDB, parse_cookiedb,
	    "ID,Platform,Category,Cookie / Data Key name,Domain,Description,Retention period,"
	    "Data Controller,User Privacy & GDPR Rights Portals,Wildcard match\n"
	    "1,Google Analytics,Analytics,_ga,google-analytics.com,Id,2 years,Google,https://x,0\n"
	    "2,Google Analytics,Analytics,_ga_,google-analytics.com,Id,2 years,Google,https://x,1\n"
	    "3,Meta,Marketing,_fbp,facebook.com,Id,3 months,Meta,https://y,0\n");
	int list = matcher_add_list(m, "entities", "fuzz", LIST_DISCONNECT, NULL);
	if (list < 0 || matcher_add_entity(m, list, "tracker.test", 12, "Tracker Inc.", "Analytics", 1) != 0 ||
	    matcher_add_cname(m, list, "x.y.z.cloak.test", 16, "a.tracker.test", 14) != 0 ||
	    matcher_finish(m) != 0)
		abort();
	struct matcher_stats stats;
	matcher_stats(m, &stats);
	if (stats.regex_rules != 2 || stats.entities < 2 || stats.cnames != 1 || stats.cookies != 3)
		abort(); /* the lists above did not give what the harness means to damage */
	lookups(m, &want_host, &want_url, NULL);
	want_cookie = matcher_lookup_cookie(m, "_ga", 3);
	snapshot_size = matcher_snapshot(m, &snapshot);
	if (!snapshot_size)
		abort();
	/* The undamaged snapshot loads, and answers as its matcher did. */
	struct matcher *back = matcher_from_snapshot(block_of(snapshot, snapshot_size), snapshot_size);
	struct match host, url;
	const struct cookie_info *cookie = NULL;
	if (!back)
		abort();
	lookups(back, &host, &url, &cookie);
	if (host.tracker != want_host.tracker || url.tracker != want_url.tracker ||
	    host.lists != want_host.lists || url.lists != want_url.lists || !cookie != !want_cookie ||
	    (cookie && strcmp(cookie->name, want_cookie->name) != 0) || !want_host.tracker)
		abort();
	matcher_free(back);
	matcher_free(m);
	return 0;
}

/* Reads n bytes of the input as a little-endian number (0 past its end). */
static uint64_t take(const uint8_t **p, const uint8_t *end, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n && *p < end; i++, (*p)++)
		v |= (uint64_t)**p << (8 * i);
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;
	/* The first two bytes: 0 keeps the size; else a cut (below) or a padding (above). */
	uint64_t resize = take(&p, end, 2);
	size_t len = snapshot_size;
	if (resize & 0x8000)
		len = snapshot_size + (resize & 0x7fff);
	else if (resize)
		len = (size_t)resize < snapshot_size ? (size_t)resize : snapshot_size;
	uint8_t *copy = calloc(1, len ? len : 1);
	if (!copy)
		abort();
	memcpy(copy, snapshot, len < snapshot_size ? len : snapshot_size);
	/* Patches: a 3-byte offset (modulo the size), a length byte, then that many bytes. */
	while (p < end && len) {
		size_t at = (size_t)take(&p, end, 3) % len;
		size_t n = (size_t)take(&p, end, 1);
		for (size_t i = 0; i < n && p < end; i++, p++)
			copy[(at + i) % len] = *p;
	}
	struct matcher *m = matcher_from_snapshot(block_of(copy, len), len);
	free(copy);
	if (m) {
		lookups(m, NULL, NULL, NULL);
		matcher_free(m);
	}
	return 0;
}
