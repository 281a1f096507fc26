/*
 * libFuzzer harness for daemon/consent.c, two ways by the low bit of the
 * input's first byte:
 *
 *   even ("R..."): the rest, up to a NUL, is a rules file. It is parsed
 *   from memory (consent_rules_parse) and loaded from a temporary file
 *   (consent_rules_load, removed after each run): both must agree, and an
 *   error must read "name:line: reason". Rules that load are then run on a
 *   few fixed requests (the project's capture cookies, Google and TCF URLs)
 *   and on the request after the NUL, if any (read as below).
 *
 *   odd ("E..."): the rest is one request, lines split at '\n': the host,
 *   the request target, a Cookie header (through cookie_parse_list), then
 *   any number of raw "name\x1fvalue" cookies (bytes as they come, NULs
 *   too), evaluated against the shipped rules (etc/consent-signals.yaml, or
 *   $CONSENT_RULES; found beside the binary's ../../etc otherwise), and each
 *   raw cookie as a Set-Cookie.
 *
 * Besides ASan's, UBSan's and LeakSanitizer's checks, it aborts when a signal
 * breaks what consent.h promises: a decision of the four, a "rule:what"
 * source and a detail, both terminated and printable; no more signals than
 * asked for; the same signals on a second evaluation, and their prefix with
 * a smaller max; and no identifier-shaped cookie value of more than 40 bytes
 * (longer than any category name shown) copied whole into a detail.
 *
 * Seeds (tests/fuzz/seeds/consent/): the shipped rules and small rule files
 * ("R"), the draft's example values and the captures' requests ("E").
 */
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../daemon/consent.h"
#include "../../dissectors/cookie.h"
#include "fuzz_file.h"

enum { MAX_SIGNALS = 8, MAX_COOKIES = 32, MAX_PARTS = 12 };

static struct consent_rules *shipped;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char error[CONSENT_ERROR_MAX], beside[4096];
	const char *path = getenv("CONSENT_RULES");
	if (!path && access("etc/consent-signals.yaml", R_OK) == 0)
		path = "etc/consent-signals.yaml";
	if (!path && argc && *argc > 0) {
		char copy[4096];
		snprintf(copy, sizeof copy, "%s", (*argv)[0]);
		snprintf(beside, sizeof beside, "%s/../../etc/consent-signals.yaml", dirname(copy));
		path = beside;
	}
	shipped = path ? consent_rules_load(path, error, sizeof error) : NULL;
	if (!shipped) {
		fprintf(stderr, "fuzz_consent: no rules (%s); set CONSENT_RULES\n",
			path ? error : "etc/consent-signals.yaml not found");
		abort();
	}
	return 0;
}

static void check_text(const char *text, size_t size, bool need_colon)
{
	const char *end = memchr(text, '\0', size);
	if (!end || (need_colon && (!strchr(text, ':') || text[0] == ':')))
		abort();
	for (const char *p = text; p < end; p++)
		if (*p < 0x20 || *p >= 0x7f)
			abort();
}

static void check_signals(const struct consent_signal *s, size_t n, size_t max)
{
	if (n > max)
		abort();
	for (size_t i = 0; i < n; i++) {
		if (!consent_decision_name(s[i].decision))
			abort();
		if (consent_decision_parse(consent_decision_name(s[i].decision)) != s[i].decision)
			abort();
		check_text(s[i].source, sizeof s[i].source, true);
		check_text(s[i].detail, sizeof s[i].detail, false);
	}
}

/*
 * No identifier-shaped value (longer than any name a detail may show, and
 * without the spaces, ':' and ',' that the texts of details hold) is copied
 * whole into one.
 */
static void check_no_leak(const struct consent_signal *s, size_t n, const char *value, size_t len)
{
	if (len <= 40 || len >= CONSENT_DETAIL_MAX || memchr(value, '\0', len) || memchr(value, ' ', len) ||
	    memchr(value, ':', len) || memchr(value, ',', len))
		return;
	for (size_t i = 0; i < n; i++)
		if (memmem(s[i].detail, strlen(s[i].detail), value, len))
			abort();
}

/* Evaluates twice (the same signals both times) and checks the signals. */
static size_t evaluate(const struct consent_rules *rules, const struct consent_request *q,
		       struct consent_signal out[MAX_SIGNALS], size_t max)
{
	struct consent_signal again[MAX_SIGNALS];
	memset(out, 0, MAX_SIGNALS * sizeof *out);
	memset(again, 0, sizeof again);
	size_t n = consent_evaluate_request(rules, q, out, max);
	check_signals(out, n, max);
	if (consent_evaluate_request(rules, q, again, max) != n || memcmp(out, again, n * sizeof *out) != 0)
		abort();
	for (size_t i = 0; i < q->cookie_count; i++)
		check_no_leak(out, n, q->cookies[i].value.p, q->cookies[i].value.len);
	return n;
}

static void evaluate_set_cookie(const struct consent_rules *rules, const struct cookie_pair *pair,
				bool deleting)
{
	struct set_cookie sc;
	struct consent_signal out[MAX_SIGNALS];
	memset(&sc, 0, sizeof sc);
	sc.name = pair->name;
	sc.value = pair->value;
	sc.has_max_age = deleting;
	size_t n = consent_evaluate_set_cookie(rules, "set.example", 11, &sc, out, MAX_SIGNALS);
	check_signals(out, n, MAX_SIGNALS);
	if (deleting && n)
		abort();
	check_no_leak(out, n, pair->value.p, pair->value.len);
}

/* Fixed requests for rules from the fuzzer: the captures' cookies and common URLs. */
static void run_samples(const struct consent_rules *rules)
{
	static const char cookie_header[] =
		"OptanonAlertBoxClosed=2026-11-29T04:40:33.377Z; OptanonConsent=isGpcEnabled=0&consentId=98946717531"
		"64742&interactionCount=1&groups=C0001%3A1%2CC0002%3A1%2CC0003%3A0; "
		"euconsent-v2=CQudMBOQudMBOAcABBENBZEgAAAAAAAAAAYgAAAAAAAA; "
		"CookieConsent={stamp:%27-1%27%2Cnecessary:true%2Cpreferences:true%2Cmethod:%27implied%27}; "
		"cmplz_marketing=allow; cmplz_statistics=deny; cookieyes-consent=consentid:x,action:yes,analytics:no; "
		"klaro=%7B%22a%22%3Atrue%7D; didomi_token=eyJwdXJwb3NlcyI6eyJlbmFibGVkIjpbImEiXX19";
	static const char *const targets[] = {
		"/g/collect?v=2&gcs=G100&gcd=13q3q3q3q5&gdpr=1&gdpr_consent=CQudMBOQudMBOAcABBENBZEgAAAAAAAAAAYgAAAAAAAA",
		"/logconsent.ashx?action=accept&clp=true&cls=false&clm=true",
		"/wrapper/v2/choice/gdpr/11?env=prod",
	};
	struct cookie_span header = { cookie_header, sizeof cookie_header - 1 };
	struct cookie_pair pairs[MAX_COOKIES];
	size_t count = cookie_parse_list(&header, 1, pairs, MAX_COOKIES, NULL, NULL);
	struct consent_signal out[MAX_SIGNALS];
	for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
		struct consent_request q = { "www.google-analytics.com", 24, targets[i], strlen(targets[i]),
					     pairs, count };
		evaluate(rules, &q, out, MAX_SIGNALS);
		q.host = "consent.cookiebot.com";
		q.host_len = 21;
		evaluate(rules, &q, out, 2);
	}
	for (size_t i = 0; i < count; i++) {
		evaluate_set_cookie(rules, &pairs[i], false);
		(void)consent_is_consent_cookie(rules, pairs[i].name.p, pairs[i].name.len);
	}
}

static void fuzz_request(const struct consent_rules *rules, const uint8_t *data, size_t size);

static void fuzz_rules(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	const uint8_t *request = nul ? nul + 1 : NULL;
	size_t request_size = nul ? size - (size_t)(nul + 1 - data) : 0;
	if (nul)
		size = (size_t)(nul - data);
	char err_memory[CONSENT_ERROR_MAX], err_file[CONSENT_ERROR_MAX];
	memset(err_memory, 0, sizeof err_memory);
	memset(err_file, 0, sizeof err_file);
	char path[] = "/tmp/fuzz_consent.XXXXXX";
	fuzz_write_temp(path, data, size);
	struct consent_rules *from_file = consent_rules_load(path, err_file, sizeof err_file);
	unlink(path);   /* nothing is left behind, however the run ends */
	struct consent_rules *from_memory = consent_rules_parse((const char *)data, size, path, err_memory,
								 sizeof err_memory);
	if (!from_memory != !from_file)
		abort();
	if (!from_memory) {
		/* "path:line: reason", the same both ways */
		size_t plen = strlen(path);
		if (strncmp(err_memory, path, plen) != 0 || err_memory[plen] != ':')
			abort();
		char *end = NULL;
		strtoul(err_memory + plen + 1, &end, 10);
		if (end == err_memory + plen + 1 || end[0] != ':' || end[1] != ' ' || end[2] == '\0')
			abort();
		if (strcmp(err_memory, err_file) != 0)
			abort();
		return;
	}
	if (consent_rules_count(from_memory) != consent_rules_count(from_file))
		abort();
	run_samples(from_memory);
	if (request)
		fuzz_request(from_memory, request, request_size);
	consent_rules_free(from_memory);
	consent_rules_free(from_file);
}

static void fuzz_request(const struct consent_rules *rules, const uint8_t *data, size_t size)
{
	/* the parts, each a heap copy of exactly its length */
	char *part[MAX_PARTS];
	size_t len[MAX_PARTS], parts = 0, at = 0;
	while (parts < MAX_PARTS && at <= size) {
		const uint8_t *nl = memchr(data + at, '\n', size - at);
		size_t end = nl ? (size_t)(nl - data) : size;
		len[parts] = end - at;
		part[parts] = malloc(len[parts] ? len[parts] : 1);
		if (!part[parts])
			abort();
		memcpy(part[parts], data + at, len[parts]);
		parts++;
		at = end + 1;
		if (!nl)
			break;
	}
	struct cookie_pair pairs[MAX_COOKIES];
	size_t count = 0;
	if (parts > 2) {
		struct cookie_span header = { part[2], len[2] };
		count = cookie_parse_list(&header, 1, pairs, MAX_COOKIES / 2, NULL, NULL);
	}
	for (size_t i = 3; i < parts && count < MAX_COOKIES; i++) {
		const char *sep = memchr(part[i], 0x1f, len[i]);
		size_t nlen = sep ? (size_t)(sep - part[i]) : len[i];
		pairs[count].name = (struct cookie_span){ part[i], nlen };
		pairs[count].value = (struct cookie_span){ sep ? sep + 1 : NULL, sep ? len[i] - nlen - 1 : 0 };
		pairs[count].has_equals = sep != NULL;
		count++;
	}
	struct consent_request q = {
		parts > 0 ? part[0] : NULL, parts > 0 ? len[0] : 0,
		parts > 1 ? part[1] : NULL, parts > 1 ? len[1] : 0,
		pairs, count,
	};
	struct consent_signal out[MAX_SIGNALS];
	size_t n = evaluate(rules, &q, out, MAX_SIGNALS);
	if (n) {
		/* a smaller max: a prefix of the same signals */
		struct consent_signal fewer[MAX_SIGNALS];
		size_t k = evaluate(rules, &q, fewer, n - 1);
		if (k != n - 1 || memcmp(out, fewer, k * sizeof *out) != 0)
			abort();
	}
	for (size_t i = 0; i < count; i++) {
		evaluate_set_cookie(rules, &pairs[i], false);
		evaluate_set_cookie(rules, &pairs[i], true);
		int a = consent_is_consent_cookie(rules, pairs[i].name.p, pairs[i].name.len);
		if (a != 0 && a != 1)
			abort();
	}
	for (size_t i = 0; i < parts; i++)
		free(part[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] & 1)
		fuzz_request(shipped, data + 1, size - 1);
	else
		fuzz_rules(data + 1, size - 1);
	return 0;
}
