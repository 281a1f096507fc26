/*
 * Unit tests for daemon/consent.c with the shipped rules,
 * etc/consent-signals.yaml (CONSENT_RULES names another file): every
 * example value of the rules' first draft (shared/lists/consent-signals.yaml)
 * encoded as its cookie is sent, each with its decision; the consent cookies
 * and URLs of the project's browser captures (accept and reject); the TC
 * strings of tests/data/tcf-vectors.tsv; loader errors with file, line and
 * message; hostile values. No signal's detail or source may carry an
 * identifier of its input (consent id, stamp, user id, token, TC string).
 *
 * Cookie headers go through cookie_parse_list() (dissectors/cookie.c), as
 * the daemon's pipeline does; every value is evaluated from a heap copy of
 * exactly its length, so that ASan sees a read past its end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "../../daemon/consent.h"
#include "../../dissectors/cookie.h"

static struct consent_rules *rules;

static const char *rules_path(void)
{
	const char *path = getenv("CONSENT_RULES");
	return path ? path : "etc/consent-signals.yaml";
}

static int setup(void **state)
{
	(void)state;
	char err[CONSENT_ERROR_MAX] = "";
	rules = consent_rules_load(rules_path(), err, sizeof err);
	if (!rules)
		fprintf(stderr, "%s\n", err);
	return rules ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	consent_rules_free(rules);
	return 0;
}

/* ---- evaluating ---- */

enum { MAX_SIGNALS = 16 };

struct result {
	struct consent_signal s[MAX_SIGNALS];
	size_t n;
};

/* Every byte of a signal's texts printable, each text terminated. */
static void check_texts(const struct consent_signal *s)
{
	assert_non_null(memchr(s->source, '\0', sizeof s->source));
	assert_non_null(memchr(s->detail, '\0', sizeof s->detail));
	for (const char *p = s->source; *p; p++)
		assert_true(*p >= 0x20 && *p < 0x7f);
	for (const char *p = s->detail; *p; p++)
		assert_true(*p >= 0x20 && *p < 0x7f);
	assert_non_null(strchr(s->source, ':'));
	assert_non_null(consent_decision_name(s->decision));
}

/* The signals of a request: host, target and one Cookie header, all from heap copies. */
static struct result request(const char *host, const char *target, const char *cookie_header)
{
	struct result r;
	memset(&r, 0xa5, sizeof r);
	char *h = strdup(host ? host : ""), *t = strdup(target ? target : "/");
	size_t clen = cookie_header ? strlen(cookie_header) : 0;
	char *c = malloc(clen ? clen : 1);
	assert_non_null(h);
	assert_non_null(t);
	assert_non_null(c);
	memcpy(c, cookie_header ? cookie_header : "", clen);
	struct cookie_span header = { c, clen };
	struct cookie_pair pairs[64];
	size_t n = cookie_header ? cookie_parse_list(&header, 1, pairs, 64, NULL, NULL) : 0;
	struct consent_request q = { h, strlen(h), t, strlen(t), pairs, n };
	r.n = consent_evaluate_request(rules, &q, r.s, MAX_SIGNALS);
	assert_true(r.n <= MAX_SIGNALS);
	for (size_t i = 0; i < r.n; i++)
		check_texts(&r.s[i]);
	free(h);
	free(t);
	free(c);
	return r;
}

static struct result cookies(const char *cookie_header)
{
	return request("www.example.com", "/", cookie_header);
}

static struct result url(const char *host, const char *target)
{
	return request(host, target, NULL);
}

static const struct consent_signal *find(const struct result *r, const char *source)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->s[i].source, source) == 0)
			return &r->s[i];
	return NULL;
}

static void dump(const struct result *r)
{
	for (size_t i = 0; i < r->n; i++)
		print_message("  %s %s | %s\n", consent_decision_name(r->s[i].decision), r->s[i].source,
			      r->s[i].detail);
}

/* The signal from `source`, with `decision`; returns it for more checks. */
static const struct consent_signal *expect(const struct result *r, const char *source,
					   enum consent_decision decision)
{
	const struct consent_signal *s = find(r, source);
	if (!s) {
		dump(r);
		fail_msg("no signal from %s", source);
	}
	if (s->decision != decision) {
		dump(r);
		fail_msg("%s: %s, want %s (%s)", source, consent_decision_name(s->decision),
			 consent_decision_name(decision), s->detail);
	}
	return s;
}

/* Exactly one signal, from `source`, with `decision`. */
static const struct consent_signal *only(const struct result *r, const char *source,
					 enum consent_decision decision)
{
	if (r->n != 1) {
		dump(r);
		fail_msg("%zu signals, want one from %s", r->n, source);
	}
	return expect(r, source, decision);
}

static void none(const struct result *r)
{
	if (r->n) {
		dump(r);
		fail_msg("%zu signals, want none", r->n);
	}
}

/* No text of any signal contains `secret` (an identifier of the input). */
static void clean(const struct result *r, const char *secret)
{
	for (size_t i = 0; i < r->n; i++)
		if (strstr(r->s[i].detail, secret) || strstr(r->s[i].source, secret))
			fail_msg("signal %s carries '%s': %s", r->s[i].source, secret, r->s[i].detail);
}

/* ---- encoding values as cookies are sent ---- */

/* Percent-encoding as encodeURIComponent does it. */
static char *uri_encode(const char *s)
{
	char *out = malloc(strlen(s) * 3 + 1), *o = out;
	assert_non_null(out);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		    strchr("-_.!~*'()", c))
			*o++ = (char)c;
		else
			o += sprintf(o, "%%%02X", c);
	}
	*o = '\0';
	return out;
}

/* Standard base64, padded (EVP_EncodeBlock). */
static char *base64(const char *s)
{
	size_t n = strlen(s);
	char *out = malloc(4 * ((n + 2) / 3) + 1);
	assert_non_null(out);
	EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, (int)n);
	return out;
}

/* "name=value" in a buffer of its own. */
static char *crumb(const char *name, const char *value)
{
	size_t n = strlen(name) + strlen(value) + 2;
	char *out = malloc(n);
	assert_non_null(out);
	snprintf(out, n, "%s=%s", name, value);
	return out;
}

/* ---- the words ---- */

static void test_decision_words(void **state)
{
	(void)state;
	const char *words[] = { "accept", "reject", "partial", "no_decision" };
	enum consent_decision decisions[] = { CONSENT_ACCEPT, CONSENT_REJECT, CONSENT_PARTIAL,
					      CONSENT_NO_DECISION };
	for (size_t i = 0; i < 4; i++) {
		assert_string_equal(consent_decision_name(decisions[i]), words[i]);
		assert_int_equal(consent_decision_parse(words[i]), decisions[i]);
	}
	assert_null(consent_decision_name(CONSENT_NONE));
	assert_null(consent_decision_name((enum consent_decision)42));
	assert_int_equal(consent_decision_parse("accept_all"), CONSENT_NONE);
	assert_int_equal(consent_decision_parse("Accept"), CONSENT_NONE);
	assert_int_equal(consent_decision_parse(""), CONSENT_NONE);
	assert_int_equal(consent_decision_parse(NULL), CONSENT_NONE);
}

static void test_rules_file(void **state)
{
	(void)state;
	assert_true(consent_rules_count(rules) >= 20);
	const char *consent[] = { "OptanonConsent", "OptanonAlertBoxClosed", "euconsent-v2", "CookieConsent",
				  "didomi_token", "cookieyes-consent", "cmplz_marketing", "cmplz_banner-status",
				  "notice_gdpr_prefs", "klaro", "axeptio_cookies", "_iub_cs-50053366",
				  "_iub_cs-s123", "borlabs-cookie", "tarteaucitron",
				  "_sp_enable_dfp_personalized_ads", "cookieconsent_status" };
	for (size_t i = 0; i < sizeof consent / sizeof consent[0]; i++)
		if (!consent_is_consent_cookie(rules, consent[i], strlen(consent[i])))
			fail_msg("%s is not a consent cookie", consent[i]);
	const char *other[] = { "_ga", "sessionid", "OptanonConsen", "OptanonConsentX", "_iub_cs-123-uspr",
				"cmplz_marketingx", "" };
	for (size_t i = 0; i < sizeof other / sizeof other[0]; i++)
		if (consent_is_consent_cookie(rules, other[i], strlen(other[i])))
			fail_msg("%s is a consent cookie", other[i]);
	/* the length counts, not a NUL */
	assert_false(consent_is_consent_cookie(rules, "klaro\0x", 7));
	assert_true(consent_is_consent_cookie(rules, "klarox", 5));
	assert_false(consent_is_consent_cookie(NULL, "klaro", 5));
	assert_int_equal(consent_rules_count(NULL), 0);
	consent_rules_free(NULL);
}

/* ---- the project's captures ---- */

/*
 * tests/data/browser-accept-http.pcap, frame 354 (1795927237.482924, the
 * first request after the click at 1795927233.343 that carries the consent
 * cookies), its Cookie header as
 *   tshark -r tests/data/browser-accept-http.pcap \
 *     -Y 'http.cookie contains "Optanon"' -T fields -e frame.time_epoch -e http.host -e http.cookie
 * prints it (news.example /article/2.html).
 */
static const char accept_capture_cookie[] =
	"sessionid=221f6f8774001b07e8e4e929e31bbc5e; "
	"_ga=GA1.1.161761967.1795927229; "
	"_ga_NEWS0001=GS1.1.1795927229.1.1.1795927229.0.0.0; "
	"_ttp=sfcvolaa92jj296ozm7re; "
	"_tt_enable_cookie=1; "
	"__qca=P0-1461260186-1795927229165; "
	"s_vi=[CS]v1|0C39538326CF3906-B8B5D593F4DA0495[CE]; "
	"_fbp=fb.1.1795927229210.3447532729; "
	"_uetsid=0.08331354666147062|1a2b3c|2|fq6|0|1890; "
	"_uetvid=0.801874259051069|4d5e6f|1795927229221|1|1|bat.bing.com/p/insights/c/l; "
	"OptanonAlertBoxClosed=2026-11-29T04:40:33.377Z; "
	"OptanonConsent=isGpcEnabled=0&datestamp=Sun%20Nov%2029%202026%2004%3A40%3A33%20GMT%2B0000%20(Coo"
	"rdinated%20Universal%20Time)&version=202409.1.0&browserGpcFlag=0&isIABGlobal=false&hosts=&consen"
	"tId=9894671753164742&interactionCount=1&isAnonUser=1&landingPath=NotLandingPage&groups=C0001%3A1"
	"%2CC0002%3A1%2CC0003%3A1%2CC0004%3A1&intType=1&geolocation=DE%3BBY&AwaitingReconsent=false; "
	"euconsent-v2=CQudL-OQudL-OAcABBENBZEoAP_gAEPgAAYgIzAAgAAEAAAAAAAAAIAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAgAAAAAAAAAAAAAA"
	"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAABBGYAEAAAgAAAAAAAABAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAEAAAAAAAAAAAAAAAA"
	"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAIAAA; "
	"_hjSessionUser_3456=eyJpZCI6IjAuOTA5NTI1MTQzMjA2ODcwMiIsImNyZWF0ZWQiOjE3OTU5MjcyMzM0MDAsImV4aXN0"
	"aW5nIjpmYWxzZX0=; "
	"_hjSession_3456=eyJpZCI6IjAuOTA5NTI1MTQzMjA2ODcwMiIsImMiOjE3OTU5MjcyMzM0MDEsInMiOjAsInIiOjAsInNi"
	"IjowLCJzciI6MCwic2UiOjAsImZzIjoxLCJzcCI6MH0=";

/* The same capture, frame 267 (before the click): cookies, but none of a consent platform. */
static const char accept_capture_before_click[] =
	"sessionid=221f6f8774001b07e8e4e929e31bbc5e; _ga=GA1.1.161761967.1795927229; "
	"_ga_NEWS0001=GS1.1.1795927229.1.1.1795927229.0.0.0; _ttp=sfcvolaa92jj296ozm7re; "
	"_tt_enable_cookie=1; __qca=P0-1461260186-1795927229165; "
	"s_vi=[CS]v1|0C39538326CF3906-B8B5D593F4DA0495[CE]; _fbp=fb.1.1795927229210.3447532729; "
	"_uetsid=0.08331354666147062|1a2b3c|2|fq6|0|1890; "
	"_uetvid=0.801874259051069|4d5e6f|1795927229221|1|1|bat.bing.com/p/insights/c/l";

/* The same capture, frame 315: the TC string in a Google Ads pixel (googleads.g.doubleclick.net). */
static const char accept_capture_pixel[] =
	"/pagead/viewthroughconversion/987654321/?random=4107973747&cv=11&fst=1795927233381&num=1&guid=ON"
	"&u_w=1280&u_h=800&url=http%3A%2F%2Fnews.example%2F&gdpr=1&gdpr_consent=CQudL-OQudL-OAcABBENBZEoA"
	"P_gAEPgAAYgIzAAgAAEAAAAAAAAAIAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	"AAAAAAAABBGYAEAAAgAAAAAAAABAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	"AAAAAAAIAAA";

static void test_capture_accept(void **state)
{
	(void)state;
	struct result r = request("news.example", "/favicon.ico", accept_capture_before_click);
	none(&r);
	r = request("news.example", "/article/2.html", accept_capture_cookie);
	assert_int_equal(r.n, 2);
	const struct consent_signal *s = expect(&r, "onetrust:OptanonConsent", CONSENT_ACCEPT);
	assert_string_equal(s->detail, "groups C0001:1,C0002:1,C0003:1,C0004:1");
	s = expect(&r, "tcf:euconsent-v2", CONSENT_ACCEPT);
	assert_string_equal(s->detail, "cmp 28, policy 4, purposes 1-11, 5 vendors, special features 1, "
				       "LI purposes 2,7-11, 5 LI vendors");
	clean(&r, "9894671753164742");
	clean(&r, "CQudL-OQudL");
	clean(&r, "2026-11-29T04");
	/* the TC string of the ad pixel */
	r = url("googleads.g.doubleclick.net", accept_capture_pixel);
	s = only(&r, "tcf:gdpr_consent", CONSENT_ACCEPT);
	assert_string_equal(s->detail, "cmp 28, policy 4, purposes 1-11, 5 vendors, special features 1, "
				       "LI purposes 2,7-11, 5 LI vendors");
	clean(&r, "CQudL");
}

/*
 * From /work/shared/corpus/browser/scenario-reject-http.pcap (the same file
 * as tests/data/browser-reject-http.pcap), frame 293 (1795927252.667394,
 * news.example /px/sync?vendor=xandr&uid=...), the first request carrying
 * OptanonConsent and OptanonAlertBoxClosed after the reject click, and
 * frame 287 (ib.adnxs.com /getuid?...): the header strings, as tshark prints
 * them (the non-consent cookies left out).
 */
static const char reject_capture_cookie[] =
	"sessionid=cf92974e28090da53c42821139f6db8b; _ga=GA1.1.205333256.1795927248; "
	"OptanonAlertBoxClosed=2026-11-29T04:40:52.648Z; "
	"OptanonConsent=isGpcEnabled=0&datestamp=Sun%20Nov%2029%202026%2004%3A40%3A52%20GMT%2B0000%20"
	"(Coordinated%20Universal%20Time)&version=202409.1.0&browserGpcFlag=0&isIABGlobal=false&hosts=&"
	"consentId=009866079806046701&interactionCount=1&isAnonUser=1&landingPath=NotLandingPage&"
	"groups=C0001%3A1%2CC0002%3A0%2CC0003%3A0%2CC0004%3A0&intType=2&geolocation=DE%3BBY&"
	"AwaitingReconsent=false; "
	"euconsent-v2=CQudMBOQudMBOAcABBENBZEgAAAAAAAAAAYgAAAAAAAA";
static const char reject_capture_getuid[] =
	"/getuid?http%3A%2F%2Fnews.example%2Fpx%2Fsync%3Fvendor%3Dxandr%26uid%3D%24UID&gdpr=1&"
	"gdpr_consent=CQudMBOQudMBOAcABBENBZEgAAAAAAAAAAYgAAAAAAAA";

static void test_capture_reject(void **state)
{
	(void)state;
	struct result r = request("news.example", "/px/sync?vendor=xandr&uid=3400336412483737628",
				  reject_capture_cookie);
	assert_int_equal(r.n, 2);
	const struct consent_signal *s = expect(&r, "onetrust:OptanonConsent", CONSENT_REJECT);
	assert_string_equal(s->detail, "groups C0001:1,C0002:0,C0003:0,C0004:0");
	s = expect(&r, "tcf:euconsent-v2", CONSENT_REJECT);
	assert_string_equal(s->detail, "cmp 28, policy 4, purposes none, 0 vendors");
	clean(&r, "009866079806046701");
	clean(&r, "3400336412483737628");
	r = url("ib.adnxs.com", reject_capture_getuid);
	only(&r, "tcf:gdpr_consent", CONSENT_REJECT);
}

/* ---- OneTrust ---- */

/* The draft's examples (consentId shortened to "0c737b02-..." there). */
static const char onetrust_accept[] =
	"isGpcEnabled=0&datestamp=Tue+Oct+19+2021+11%3A31%3A41+GMT%2B0800&version=6.20.0&isIABGlobal=false&"
	"hosts=&consentId=0c737b02-...&interactionCount=1&landingPath=NotLandingPage&"
	"groups=C0001%3A1%2CC0003%3A1%2CC0002%3A1%2CC0004%3A1&geolocation=TW%3BTPE&AwaitingReconsent=false";
static const char onetrust_reject[] =
	"isGpcEnabled=0&datestamp=Sun+Apr+06+2025+...&version=202312.1.0&browserGpcFlag=0&isIABGlobal=false&"
	"consentId=6f525989-...&interactionCount=18&hosts=&landingPath=NotLandingPage&"
	"groups=C0001%3A1%2CC0002%3A0%2CC0003%3A0%2CC0004%3A0%2CC0005%3A0%2CV2STACK42%3A0%2CC0015%3A0%2C"
	"C0035%3A0&genVendors=V2%3A0%2CV1%3A0%2C";

static void onetrust(const char *value, const char *closed, enum consent_decision want, const char *detail)
{
	char header[2048];
	snprintf(header, sizeof header, "a=1; %s%s%sOptanonConsent=%s", closed ? "OptanonAlertBoxClosed=" : "",
		 closed ? closed : "", closed ? "; " : "", value);
	struct result r = cookies(header);
	const struct consent_signal *s = only(&r, "onetrust:OptanonConsent", want);
	if (detail)
		assert_string_equal(s->detail, detail);
	clean(&r, "0c737b02");
	clean(&r, "6f525989");
}

static void test_onetrust(void **state)
{
	(void)state;
	const char *closed = "2021-10-19T03:31:41.236Z";
	onetrust(onetrust_accept, closed, CONSENT_ACCEPT, "groups C0001:1,C0003:1,C0002:1,C0004:1");
	onetrust(onetrust_reject, closed, CONSENT_REJECT,
		 "groups C0001:1,C0002:0,C0003:0,C0004:0,C0005:0,V2STACK42:0,C0015:0,C0035:0");
	/* without OptanonAlertBoxClosed in the same request: nobody answered, whatever it holds */
	onetrust(onetrust_accept, NULL, CONSENT_NO_DECISION,
		 "banner not closed (no OptanonAlertBoxClosed); groups C0001:1,C0003:1,C0002:1,C0004:1");
	onetrust(onetrust_reject, NULL, CONSENT_NO_DECISION, NULL);
	onetrust(onetrust_accept, "", CONSENT_NO_DECISION, NULL);
	/* interactionCount 0 or missing: the defaults of a first page view */
	onetrust("interactionCount=0&groups=C0001%3A1%2CC0002%3A1", closed, CONSENT_NO_DECISION,
		 "interactionCount=0; groups C0001:1,C0002:1");
	onetrust("landingPath=%2F&groups=C0001%3A1%2CC0002%3A0", closed, CONSENT_NO_DECISION,
		 "interactionCount missing; groups C0001:1,C0002:0");
	/* a mix */
	onetrust("interactionCount=2&groups=C0001%3A1%2CC0002%3A1%2CC0004%3A0", closed, CONSENT_PARTIAL,
		 "groups C0001:1,C0002:1,C0004:0");
	/* legacy numeric groups: 1 is strictly necessary */
	onetrust("interactionCount=1&groups=1%3A1%2C2%3A0%2C3%3A0", closed, CONSENT_REJECT, NULL);
	/* ':' and ',' not encoded work too (the value is a query string) */
	onetrust("interactionCount=1&groups=C0001:1,C0002:1", closed, CONSENT_ACCEPT, NULL);
	/* only the necessary group, or no groups: no decision to read */
	struct result r = cookies("OptanonAlertBoxClosed=x; OptanonConsent=interactionCount=1&groups=C0001%3A1");
	none(&r);
	r = cookies("OptanonAlertBoxClosed=x; OptanonConsent=interactionCount=1&groups=");
	none(&r);
	r = cookies("OptanonAlertBoxClosed=2021-10-19T03:31:41.236Z");
	none(&r);
	/* a key given twice: which one does OneTrust read? no signal */
	r = cookies("OptanonAlertBoxClosed=x; OptanonConsent=interactionCount=1&groups=C0002%3A1&groups=C0002%3A0");
	none(&r);
	/* quoted as some servers send it */
	r = cookies("OptanonAlertBoxClosed=x; OptanonConsent=\"interactionCount=1&groups=C0002%3A0\"");
	only(&r, "onetrust:OptanonConsent", CONSENT_REJECT);
}

/* ---- Set-Cookie ---- */

static struct result set_cookie(const char *host, const char *name, const char *value, bool delete)
{
	struct result r;
	char *n = strdup(name), *v = strdup(value);
	assert_non_null(n);
	assert_non_null(v);
	struct set_cookie sc;
	memset(&sc, 0, sizeof sc);
	sc.name = (struct cookie_span){ n, strlen(n) };
	sc.value = (struct cookie_span){ v, strlen(v) };
	sc.has_max_age = delete;
	sc.max_age = 0;
	r.n = consent_evaluate_set_cookie(rules, host, strlen(host), &sc, r.s, MAX_SIGNALS);
	for (size_t i = 0; i < r.n; i++)
		check_texts(&r.s[i]);
	free(n);
	free(v);
	return r;
}

static void test_set_cookie(void **state)
{
	(void)state;
	/* A Set-Cookie does not show the browser's other cookies: companion tests are skipped. */
	struct result r = set_cookie("news.example", "OptanonConsent", onetrust_reject, false);
	only(&r, "onetrust:OptanonConsent", CONSENT_REJECT);
	r = set_cookie("news.example", "OptanonConsent", "interactionCount=0&groups=C0002%3A1", false);
	only(&r, "onetrust:OptanonConsent", CONSENT_NO_DECISION);
	r = set_cookie("news.example", "euconsent-v2", "CQudMBOQudMBOAcABBENBZEgAAAAAAAAAAYgAAAAAAAA", false);
	only(&r, "tcf:euconsent-v2", CONSENT_REJECT);
	r = set_cookie("shop.example", "cookieconsent_status", "deny", false);
	only(&r, "osano:cookieconsent_status", CONSENT_REJECT);
	/* deleting the cookie says nothing */
	r = set_cookie("news.example", "OptanonConsent", onetrust_reject, true);
	none(&r);
	/* cookies read together (Complianz) need the others: no signal from one */
	r = set_cookie("shop.example", "cmplz_marketing", "allow", false);
	none(&r);
	r = set_cookie("shop.example", "OptanonConsent", "", false);
	none(&r);
	r = set_cookie("shop.example", "_ga", "GA1.1.1.1", false);
	none(&r);
	struct set_cookie empty;
	memset(&empty, 0, sizeof empty);
	assert_int_equal(consent_evaluate_set_cookie(rules, "x", 1, &empty, r.s, MAX_SIGNALS), 0);
	assert_int_equal(consent_evaluate_set_cookie(NULL, "x", 1, &empty, r.s, MAX_SIGNALS), 0);
}

/* ---- Cookiebot ---- */

static void test_cookiebot(void **state)
{
	(void)state;
	/* the draft's examples (stamps shortened there) */
	struct result r = cookies("CookieConsent={stamp:%276cM/oZqc...%27%2Cnecessary:true%2Cpreferences:true%2C"
				  "statistics:true%2Cmarketing:true%2Cmethod:%27explicit%27%2Cver:2%2C"
				  "utc:1745622155764%2Cregion:%27nz%27}");
	const struct consent_signal *s = only(&r, "cookiebot:CookieConsent", CONSENT_ACCEPT);
	assert_string_equal(s->detail, "categories preferences:1,statistics:1,marketing:1");
	clean(&r, "6cM");
	clean(&r, "1745622155764");
	r = cookies("CookieConsent={stamp:%27G+6rYDfr...%27%2Cnecessary:true%2Cpreferences:false%2C"
		    "statistics:false%2Cmarketing:false%2Cmethod:%27explicit%27%2Cver:1%2Cutc:1705162226478%2C"
		    "region:%27ae%27}");
	only(&r, "cookiebot:CookieConsent", CONSENT_REJECT);
	clean(&r, "G+6r");
	/* not required in the visitor's region: no user decision */
	r = cookies("CookieConsent={stamp:%27-1%27%2Cnecessary:true%2Cpreferences:true%2Cstatistics:true%2C"
		    "marketing:true%2Cmethod:%27implied%27%2Cver:1%2Cutc:1695456095624%2Cregion:%27CN%27}");
	s = only(&r, "cookiebot:CookieConsent", CONSENT_NO_DECISION);
	assert_non_null(strstr(s->detail, "stamp -1"));
	/* implied consent with a real stamp: still nobody clicked */
	r = cookies("CookieConsent={stamp:'abcDEF123+/xyz=='%2Cnecessary:true%2Cpreferences:true%2C"
		    "statistics:true%2Cmarketing:true%2Cmethod:'implied'%2Cver:1}");
	only(&r, "cookiebot:CookieConsent", CONSENT_NO_DECISION);
	clean(&r, "abcDEF123");
	r = cookies("CookieConsent={stamp:'x'%2Cnecessary:true%2Cpreferences:true%2Cstatistics:false%2C"
		    "marketing:true%2Cmethod:'explicit'}");
	only(&r, "cookiebot:CookieConsent", CONSENT_PARTIAL);
	/* an iab2 field with quotes and a double quote inside a single-quoted string */
	r = cookies("CookieConsent={stamp:'a\"b'%2Cnecessary:true%2Cpreferences:false%2Cstatistics:false%2C"
		    "marketing:false%2Cmethod:'explicit'%2C"
		    "iab2:'CP5jqEAP5jqEACGABBENAmEgAAAAAAAAAAAAAAAAAAAA.YAAAAAAAAAAA'}");
	only(&r, "cookiebot:CookieConsent", CONSENT_REJECT);
	clean(&r, "CP5jq");
	r = cookies("CookieConsent=-1");
	none(&r);

	/* logconsent.ashx (URLs as they appear in public code) */
	r = url("consent.cookiebot.com", "/logconsent.ashx?action=accept&nocache=1707958113257&dnt=false&clp=true&"
					 "cls=true&clm=true&cbid=9361a0f9-87ea-41a3-aa1f-2e20e0f65fbe&cbt=leveloptin&"
					 "ticket=&bulk=false&hasdata=true&method=strict&usercountry=GB&"
					 "referer=https%3A%2F%2Fwww.example.com&rc=false");
	s = only(&r, "cookiebot:logconsent", CONSENT_ACCEPT);
	assert_string_equal(s->detail, "preferences/statistics/marketing clp:1,cls:1,clm:1");
	clean(&r, "9361a0f9");
	r = url("consent.cookiebot.com", "/logconsent.ashx?action=decline&nocache=1686553543714&"
					 "cbid=07728dca-296d-43fc-9a3b-107a450004d2&cbt=leveloptin&method=strict&"
					 "hasdata=true&usercountry=FR&referer=https%3A%2F%2Fwww.example.fr");
	s = only(&r, "cookiebot:logconsent", CONSENT_REJECT);
	assert_string_equal(s->detail, "action=decline");
	r = url("consent.cookiebot.eu", "/logconsent.ashx?action=accept&clp=false&cls=true&clm=false&method=strict");
	only(&r, "cookiebot:logconsent", CONSENT_PARTIAL);
	r = url("consent.cookiebot.com", "/logconsent.ashx?action=accept&clp=false&cls=false&clm=false");
	only(&r, "cookiebot:logconsent", CONSENT_REJECT);
	r = url("consent.cookiebot.com", "/logconsent.ashx?action=accept&clp=true&cls=true&clm=true&method=implied");
	only(&r, "cookiebot:logconsent", CONSENT_NO_DECISION);
	/* another host, another path */
	r = url("consent.cookiebot.com.evil.example", "/logconsent.ashx?action=decline");
	none(&r);
	r = url("consent.cookiebot.com", "/uc.js?action=decline");
	none(&r);
}

/* ---- Didomi ---- */

/* The draft's decoded tokens (user ids shortened there with "…"; the reject's vendor list too, cut here). */
static const char didomi_accept[] =
	"{\"user_id\":\"192f660e-\xe2\x80\xa6\",\"created\":\"2024-11-04T08:53:20.053Z\","
	"\"updated\":\"2024-11-04T08:53:22.528Z\",\"vendors\":{\"enabled\":[\"google\",\"c:intercom\","
	"\"c:booli-JADyD86e\"]},\"purposes\":{\"enabled\":[\"geolocation_data\",\"prestanda\"]},\"version\":2,"
	"\"ac\":\"CKWAEBEkEUoA.AAAA\"}";
static const char didomi_reject[] =
	"{\"user_id\":\"19192b02-\xe2\x80\xa6\",\"created\":\"2024-08-27T07:15:05.610Z\","
	"\"updated\":\"2024-08-27T07:52:40.352Z\",\"version\":2,\"purposes\":{\"disabled\":[\"geolocation_data\","
	"\"device_characteristics\"]},\"vendors\":{\"disabled\":[\"google\",\"c:linkedin-marketing-solutions\","
	"\"c:mixpanel\"]}}";
static const char didomi_no_decision[] =
	"{\"user_id\":\"17436863-\xe2\x80\xa6\",\"created\":\"2022-03-09T19:20:55.244Z\","
	"\"updated\":\"2022-03-09T19:20:55.244Z\",\"version\":null}";

static void didomi(const char *json, bool url_safe_unpadded, enum consent_decision want)
{
	char *b = base64(json);
	if (url_safe_unpadded) {
		for (char *p = b; *p; p++)
			*p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
		*strchrnul(b, '=') = '\0';
	}
	char *c = crumb("didomi_token", b);
	struct result r = cookies(c);
	only(&r, "didomi:didomi_token", want);
	clean(&r, "192f660e");
	clean(&r, "19192b02");
	clean(&r, "17436863");
	clean(&r, "CKWAEBEkEUoA");
	free(c);
	free(b);
}

static void test_didomi(void **state)
{
	(void)state;
	didomi(didomi_accept, false, CONSENT_ACCEPT);
	didomi(didomi_accept, true, CONSENT_ACCEPT);
	didomi(didomi_reject, false, CONSENT_REJECT);
	didomi(didomi_reject, true, CONSENT_REJECT);
	didomi(didomi_no_decision, false, CONSENT_NO_DECISION);
	didomi("{\"purposes\":{\"enabled\":[\"cookies\"],\"disabled\":[\"ads\"]},\"vendors\":{\"enabled\":[\"google\"]}}",
	       false, CONSENT_PARTIAL);
	char *b = base64(didomi_accept), *padded = malloc(strlen(b) * 3 + 1);
	assert_non_null(padded);
	/* '=' padding sent as %3D */
	char *o = padded;
	for (const char *p = b; *p; p++)
		o += *p == '=' ? sprintf(o, "%%3D") : sprintf(o, "%c", *p);
	char *c = crumb("didomi_token", padded);
	struct result r = cookies(c);
	const struct consent_signal *s = only(&r, "didomi:didomi_token", CONSENT_ACCEPT);
	assert_string_equal(s->detail, "purposes and vendors geolocation_data:1,prestanda:1,google:1,c:intercom:1,"
				       "c:booli-JADyD86e:1");
	free(c);
	free(padded);
	free(b);
}

/* ---- CookieYes ---- */

static void test_cookieyes(void **state)
{
	(void)state;
	struct result r = cookies("cookieyes-consent=consentid:d2JnOWNtWmgyM0pMdEU0ZkZXSGhzdE9BaTkxekF3WEk,consent:yes,"
				  "action:yes,necessary:yes,functional:yes,analytics:yes,performance:yes,"
				  "advertisement:yes,other:yes");
	const struct consent_signal *s = only(&r, "cookieyes:cookieyes-consent", CONSENT_ACCEPT);
	assert_string_equal(s->detail, "categories necessary:1,functional:1,analytics:1,performance:1,"
				       "advertisement:1,other:1");
	clean(&r, "d2JnOWNt");
	r = cookies("cookieyes-consent=consentid:WHRLbHhJZVJlTXR3b0F4MUpUQWNCZDRNbXRpTWNEcmE,consent:no,action:yes,"
		    "necessary:yes,functional:no,analytics:no,performance:no,advertisement:no,other:no");
	only(&r, "cookieyes:cookieyes-consent", CONSENT_REJECT);
	clean(&r, "WHRLbHhJ");
	r = cookies("cookieyes-consent=consentid:a0luUlByM3NGTFp2dkMyQkJXdHoxdHFVeHI2TEM5Yms,consent:no,action:,"
		    "necessary:yes,functional:yes,analytics:no,performance:no,advertisement:no");
	s = only(&r, "cookieyes:cookieyes-consent", CONSENT_NO_DECISION);
	clean(&r, "a0luUlBy");
	assert_non_null(strstr(s->detail, "analytics:0"));
	r = cookies("cookieyes-consent=consentid:x,consent:yes,action:yes,necessary:yes,functional:yes,analytics:no");
	only(&r, "cookieyes:cookieyes-consent", CONSENT_PARTIAL);
}

/* ---- Complianz ---- */

static void test_complianz(void **state)
{
	(void)state;
	struct result r = cookies("cmplz_functional=allow; cmplz_marketing=allow; cmplz_statistics=allow; "
				  "cmplz_preferences=allow; cmplz_banner-status=dismissed; cmplz_policy_id=14");
	const struct consent_signal *s = only(&r, "complianz:cmplz_*", CONSENT_ACCEPT);
	assert_string_equal(s->detail, "categories cmplz_functional:1,cmplz_marketing:1,cmplz_statistics:1,"
				       "cmplz_preferences:1");
	r = cookies("cmplz_functional=allow; cmplz_marketing=deny; cmplz_statistics=deny; cmplz_preferences=deny; "
		    "cmplz_banner-status=dismissed");
	only(&r, "complianz:cmplz_*", CONSENT_REJECT);
	r = cookies("cmplz_functional=allow; cmplz_marketing=deny; cmplz_statistics=allow; "
		    "cmplz_banner-status=dismissed");
	only(&r, "complianz:cmplz_*", CONSENT_PARTIAL);
	/* the banner not dismissed: defaults */
	r = cookies("cmplz_functional=allow; cmplz_marketing=deny; cmplz_statistics=deny");
	only(&r, "complianz:cmplz_*", CONSENT_NO_DECISION);
	/* older versions: cmplz_choice and cmplz_stats */
	r = cookies("cmplz_choice=set; cmplz_stats=deny; cmplz_marketing=deny");
	only(&r, "complianz:cmplz_*", CONSENT_REJECT);
	r = cookies("complianz_consent_status=deny");
	only(&r, "complianz:complianz_consent_status", CONSENT_REJECT);
	r = cookies("complianz_consent_status=allow");
	only(&r, "complianz:complianz_consent_status", CONSENT_ACCEPT);
	r = cookies("cmplz_banner-status=dismissed; cmplz_consented_services=");
	none(&r);
}

/* ---- TrustArc ---- */

static void test_trustarc(void **state)
{
	(void)state;
	struct {
		const char *cookie;
		enum consent_decision want;
	} cases[] = {
		{ "notice_gdpr_prefs=0:", CONSENT_REJECT },
		{ "notice_gdpr_prefs=0%3A", CONSENT_REJECT },
		{ "notice_gdpr_prefs=0,1,2:", CONSENT_ACCEPT },
		{ "notice_gdpr_prefs=0,1,2,3:", CONSENT_ACCEPT },
		{ "notice_gdpr_prefs=0,1:", CONSENT_PARTIAL },
		{ "notice_gdpr_prefs=0,2:implied,us", CONSENT_PARTIAL },
		{ "notice_preferences=0:", CONSENT_REJECT },
		{ "notice_preferences=1:", CONSENT_PARTIAL },
		{ "notice_preferences=2:1a8b5c", CONSENT_ACCEPT },
		{ "cmapi_cookie_privacy=permit 1 required", CONSENT_REJECT },
		{ "cmapi_cookie_privacy=permit_1_required", CONSENT_REJECT },
		{ "cmapi_cookie_privacy=permit%201%20required", CONSENT_REJECT },
		{ "cmapi_cookie_privacy=permit 1,2,3", CONSENT_ACCEPT },
		{ "cmapi_cookie_privacy=permit 1,2", CONSENT_PARTIAL },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct result r = cookies(cases[i].cookie);
		char source[64];
		snprintf(source, sizeof source, "trustarc:%.*s", (int)strcspn(cases[i].cookie, "="), cases[i].cookie);
		only(&r, source, cases[i].want);
		clean(&r, "1a8b5c");
	}
	struct result r = cookies("notice_gdpr_prefs=junk; notice_preferences=; cmapi_cookie_privacy=permit 9");
	none(&r);
}

/* ---- Sourcepoint ---- */

static void test_sourcepoint(void **state)
{
	(void)state;
	struct result r = url("cdn.privacy-mgmt.com",
			      "/wrapper/v2/choice/gdpr/11?env=prod&hasCsp=true&scriptType=android");
	const struct consent_signal *s = only(&r, "sourcepoint:choice", CONSENT_ACCEPT);
	assert_string_equal(s->detail, "choice action 11 (accept all)");
	r = url("cmp.publisher.example", "/wrapper/v2/choice/gdpr/13?env=prod");
	only(&r, "sourcepoint:choice", CONSENT_REJECT);
	r = url("cdn.privacy-mgmt.com", "/wrapper/v2/choice/gdpr/13");
	only(&r, "sourcepoint:choice", CONSENT_REJECT);
	/* save and exit (choices in the body), dismiss, other numbers: no signal */
	const char *nothing[] = { "/wrapper/v2/choice/gdpr/1?hasCsp=true&env=prod", "/wrapper/v2/choice/gdpr/15",
				  "/wrapper/v2/choice/gdpr/113", "/wrapper/v2/choice/gdpr/11x",
				  "/wrapper/v2/choice/ccpa/11", "/x/wrapper/v2/choice/gdpr/11" };
	for (size_t i = 0; i < sizeof nothing / sizeof nothing[0]; i++) {
		r = url("cdn.privacy-mgmt.com", nothing[i]);
		none(&r);
	}
	/* observed beside an all-reject TC string (tests/data/tcf-vectors.tsv, obs_sourcepoint_reject) */
	r = cookies("consentUUID=2f9f1b7e-7d3e-4b1e-9c5e-000000000000_23; _sp_enable_dfp_personalized_ads=false; "
		    "euconsent-v2=CQX48QAQX48QAAGABBENB3FgAAAAAAAAAAYgAAAAAAAA.YAAAAAAAAAAA");
	assert_int_equal(r.n, 2);
	expect(&r, "sourcepoint:_sp_enable_dfp_personalized_ads", CONSENT_REJECT);
	s = expect(&r, "tcf:euconsent-v2", CONSENT_REJECT);
	assert_string_equal(s->detail, "cmp 6, policy 5, purposes none, 0 vendors");
	clean(&r, "2f9f1b7e");
	r = cookies("_sp_enable_dfp_personalized_ads=true");
	only(&r, "sourcepoint:_sp_enable_dfp_personalized_ads", CONSENT_ACCEPT);
}

/* ---- Klaro, Axeptio, iubenda, Borlabs, tarteaucitron, Osano ---- */

static void test_klaro(void **state)
{
	(void)state;
	struct result r = cookies("klaro=%7B%22necessary-cookies%22%3Atrue%2C%22preferences%22%3Afalse%2C"
				  "%22google-analytics%22%3Afalse%2C%22google-ads%22%3Afalse%7D");
	const struct consent_signal *s = only(&r, "klaro:klaro", CONSENT_REJECT);
	assert_string_equal(s->detail, "services necessary-cookies:1,preferences:0,google-analytics:0,google-ads:0");
	r = cookies("klaro=%7B%22uniba%22%3Atrue%2C%22youtube%22%3Atrue%2C%22fbpixel%22%3Atrue%2C"
		    "%22googleAnalytics%22%3Atrue%2C%22google%22%3Atrue%7D");
	only(&r, "klaro:klaro", CONSENT_ACCEPT);
	r = cookies("klaro={\"required\":true,\"youtube\":true,\"matomo\":false}");
	only(&r, "klaro:klaro", CONSENT_PARTIAL);
}

static void test_axeptio(void **state)
{
	(void)state;
	struct result r = cookies("axeptio_cookies={%22$$token%22:%22l8j48y0r1honj87phub8o%22%2C%22$$date%22:"
				  "%222022-12-01T08:20:26.864Z%22%2C%22SnapEngage%22:true%2C%22Double_Click%22:true%2C"
				  "%22facebook_pixel%22:true%2C%22ShinyStat%22:true%2C%22$$completed%22:true}");
	const struct consent_signal *s = only(&r, "axeptio:axeptio_cookies", CONSENT_ACCEPT);
	assert_string_equal(s->detail, "vendors SnapEngage:1,Double_Click:1,facebook_pixel:1,ShinyStat:1");
	clean(&r, "l8j48y0r1honj87phub8o");
	/* the draft's reject example, its vendor list cut short there with "…" and closed here */
	r = cookies("axeptio_cookies={%22$$token%22:%22h1gr263utwgrlqk71r2ii%22%2C%22$$date%22:"
		    "%222021-08-08T10:41:59.523Z%22%2C%22$$completed%22:true%2C%22ContentSquare%22:false%2C"
		    "%22google_analytics%22:false}");
	only(&r, "axeptio:axeptio_cookies", CONSENT_REJECT);
	clean(&r, "h1gr263utwgrlqk71r2ii");
	r = cookies("axeptio_cookies={%22$$token%22:%22t%22%2C%22$$date%22:%222021-08-08T10:41:59.523Z%22%2C"
		    "%22$$completed%22:true}");
	only(&r, "axeptio:axeptio_cookies", CONSENT_REJECT);
	r = cookies("axeptio_cookies={%22$$completed%22:false%2C%22ga%22:true}");
	only(&r, "axeptio:axeptio_cookies", CONSENT_NO_DECISION);
	r = cookies("axeptio_authorized_vendors=%2C%2C");
	only(&r, "axeptio:axeptio_authorized_vendors", CONSENT_REJECT);
	r = cookies("axeptio_authorized_vendors=%2Cgoogle_analytics%2C");
	none(&r);
}

static void iubenda(const char *name, const char *json, enum consent_decision want)
{
	char *e = uri_encode(json), *c = crumb(name, e);
	struct result r = cookies(c);
	char source[64];
	snprintf(source, sizeof source, "iubenda:%s", name);
	only(&r, source, want);
	clean(&r, "157518");
	clean(&r, "1438b8");
	free(c);
	free(e);
}

static void test_iubenda(void **state)
{
	(void)state;
	iubenda("_iub_cs-50053366",
		"{\"timestamp\":\"2025-02-05T15:40:00.391Z\",\"version\":\"1.75.1\",\"purposes\":{\"1\":true,\"3\":true,"
		"\"4\":true},\"id\":50053366,\"cons\":{\"rand\":\"157518\"}}",
		CONSENT_PARTIAL);
	iubenda("_iub_cs-71185313",
		"{\"consent\":true,\"timestamp\":\"2023-10-12T16:03:31.031Z\",\"version\":\"1.51.0\",\"id\":71185313,"
		"\"cons\":{\"rand\":\"1438b8\"}}",
		CONSENT_ACCEPT);
	iubenda("_iub_cs-s1", "{\"consent\":false,\"id\":1}", CONSENT_REJECT);
	iubenda("_iub_cs-1", "{\"purposes\":{\"1\":true,\"2\":true,\"3\":true,\"4\":true,\"5\":true},\"id\":1}",
		CONSENT_ACCEPT);
	iubenda("_iub_cs-1", "{\"purposes\":{\"1\":true},\"id\":1}", CONSENT_REJECT);
	iubenda("_iub_cs-1", "{\"purposes\":{\"1\":true,\"2\":false,\"3\":false,\"4\":false,\"5\":false}}",
		CONSENT_REJECT);
	struct result r = cookies("_iub_cs-90483436=%7B%22id%22%3A90483436%7D");
	const struct consent_signal *s = only(&r, "iubenda:_iub_cs-90483436", CONSENT_NO_DECISION);
	assert_string_equal(s->detail, "no purposes and no consent (not answered)");
	r = cookies("_iub_cs-90483436-uspr=%7B%22s%22%3Atrue%7D");
	none(&r);
}

static void borlabs(const char *json, enum consent_decision want)
{
	char *e = uri_encode(json), *c = crumb("borlabs-cookie", e);
	struct result r = cookies(c);
	only(&r, "borlabs:borlabs-cookie", want);
	clean(&r, "wzlxoy59");
	free(c);
	free(e);
}

static void test_borlabs(void **state)
{
	(void)state;
	borlabs("{\"consents\":{\"essential\":[\"borlabs-cookie\"],\"statistics\":[\"google-analytics\"],"
		"\"marketing\":[\"google-adsense\",\"facebook-pixel\"],\"external-media\":[\"facebook\",\"googlemaps\","
		"\"youtube\"]},\"domainPath\":\"kreativ-welt.crnd.de/\",\"expires\":\"Sat, 18 Feb 2023 09:06:19 GMT\","
		"\"uid\":\"\xe2\x80\xa6\"}",
		CONSENT_ACCEPT);
	borlabs("{\"consents\":{\"essential\":[\"borlabs-cookie\"]},\"domainPath\":\"www.hartware.de/\","
		"\"expires\":\"Sun, 11 Jan 2026 08:07:14 GMT\",\"uid\":\"wzlxoy59-\xe2\x80\xa6\",\"v3\":true,"
		"\"version\":1}",
		CONSENT_REJECT);
	borlabs("{\"consents\":{\"essential\":[\"borlabs-cookie\"],\"external-media\":[\"youtube\"]},"
		"\"uid\":\"anonymous\"}",
		CONSENT_PARTIAL);
	borlabs("{\"consents\":{\"essential\":[\"borlabs-cookie\"],\"statistics\":[],\"marketing\":[\"x\"]}}",
		CONSENT_PARTIAL);
	struct result r = cookies("borlabs-cookie=%7B%22uid%22%3A%22anonymous%22%7D");
	none(&r);
}

static void test_others(void **state)
{
	(void)state;
	struct result r = cookies("tarteaucitron=!gtag=true!facebook=false!youtube=true");
	const struct consent_signal *s = only(&r, "tarteaucitron:tarteaucitron", CONSENT_PARTIAL);
	assert_string_equal(s->detail, "services gtag:1,facebook:0,youtube:1");
	r = cookies("tarteaucitron=!gtag=false!facebook=false");
	only(&r, "tarteaucitron:tarteaucitron", CONSENT_REJECT);
	r = cookies("tarteaucitron=!gtag=true!facebook=true");
	only(&r, "tarteaucitron:tarteaucitron", CONSENT_ACCEPT);
	r = cookies("tarteaucitron=!gtag=wait");
	none(&r);
	r = cookies("cookieconsent_status=allow");
	only(&r, "osano:cookieconsent_status", CONSENT_ACCEPT);
	r = cookies("cookieconsent_status=dismiss");
	only(&r, "osano:cookieconsent_status", CONSENT_NO_DECISION);
	r = cookies("cookieconsent_status=maybe");
	none(&r);
	/* left out of the draft: Google's AC string ('1~' is a reject and an accept on a site without ATPs),
	   InMobi's usprivacy, Sourcepoint's record cookies, Osano's opaque cookie */
	r = cookies("addtl_consent=1~; usprivacy=1YN-; consentUUID=2f9f1b7e_23; consentDate=2025-09-17T00:00:00Z; "
		    "_sp_v1_consent=1!0:-1:-1:-1:-1:-1; osano_consentmanager=opaque; CookieConsentBulkTicket=x");
	none(&r);
	r = cookies("addtl_consent=2~~dv.89.1097");
	none(&r);
}

/* ---- IAB TCF ---- */

/* Strings of tests/data/tcf-vectors.tsv (its ids), with the decision these rules give. */
static const struct {
	const char *id, *tc;
	enum consent_decision want;   /* CONSENT_NONE: no signal */
	const char *detail;
} tcf_vectors[] = {
	{ "tcf20_issue201_real",
	  "CO4VGswO4VGswAfZCBDEAzCsAP_AAH_AAAigGUNf_X9fb2vj-_599_t0eY1f9_63t-wzjheMs-8NyZ-X_J4Wv2MyvB34JqQKGRgkunLB"
	  "AQdtHGncTQgBwIlViTLMY02MjzNKJrJEilsbe2dYGH9vn8XT_ZKZ70-_v__7v3___33_5Ayhr_6_r7e18f3_Pvv9ujzGr_v_W9v2Gcc"
	  "Lxln3huTPy_5PC1-xmV4O_BNSBQyMEl05YICDto407iaEAOBEqsSZZjGmxkeZpRNZIkUtjb2zrAw_t8_i6f7JTPen39___d-___--__"
	  "ICgKAOAAcAA4AFAAjgB6AEYALcGACAW0AtoJAHAAOAAcACgARwA9ACMAFuFABALaAW0GgDgAHAAOABQAI4AegBGAC3DgAgFtALaEQB"
	  "wADgAHAAoAEcAPQAjABbiQAQC2gFtCoA4ABwADgAUACOAHoARgAtxYAIBbQC2hkAcAA4ABwAKABHAD0AIwAW40AEAtoBbQ6AOAAcA"
	  "A4AFAAjgB6AEYALceACAW0AtohAHAAOAAcACgARwA9ACMAFuRABALaAW0SgDgAHAAOABQAI4AegBGAC3JgAgFtALaKQBwADgAHAAo"
	  "AEcAPQAjABblQAQC2gFtA",
	  CONSENT_ACCEPT, NULL },
	{ "tcf20_issue220_no_consent", "CO5dPi4O5dPx2B7DvCENA2CgAAAAAAAAAAAAGewAAM8gAAAA.YAAAAAAAAAAA",
	  CONSENT_REJECT, "cmp 123, policy 2, purposes none, 0 vendors" },
	/* the file's hint says partial; by these rules (1-11 consented under policy 5, vendors) it is accept */
	{ "tcf_policy5_2026",
	  "CQd924AQd924AASACCENCNFsAP_gAEIAACiQL6QBAAGAAOANmAcAF9IAIADgAA.IL6AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	  "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.YIAAAAAAAAAA",
	  CONSENT_ACCEPT, "cmp 18, policy 5, purposes 1-11, 4 vendors, special features 1-2, LI purposes 2,7, "
			  "1 LI vendors, publisher consents" },
	{ "spec_example_tcf23", "CQSbk4AQSbk4ANwAAAENAwCgAAAAAAAAAAYgACPAAAAA.IDKQA4AAgAKAGQAygAAA.YAAAAAAAAAAA",
	  CONSENT_PARTIAL, "cmp 880, policy 2, purposes none, 4 vendors" },
	{ "v1_issue156_tcf1",
	  "BOhwdphOxFC7tAHABBFRC--AAAAuhr_7__7-_9_-_f__9uj3Or_v_f__32ccL59v_h_7v-_7fi_20nV4u_1vft9yfk1-5ctDztp507i"
	  "akivXmqdeb9v_nz3_5pxP78k89r7337Ew_v8_v-b7BCON_YxEiA",
	  CONSENT_NONE, NULL },
	{ "v1_issue191_tcf1_range", "BO2e4qiO2e4qiB9ABADEDS-AAAAxKABgACBiQA", CONSENT_NONE, NULL },
	{ "neg_issue142_bad_length",
	  "CLSYjTaOngnCIAOABBENAXCMAGOAABBAAA7IA5n-m7fP6_3fbqVv6E__PoA5Aqff3aJx8tv_1967rfnQEQoAIAAQCrwkAEABAcACABIM"
	  "ACAAuApEVABABUSABgBCAVSAtIoACACIArYQAHACgAFgAVwBJgDcAI7AWgMAAgBiKgAgBMgFfKQAQBRkQAQA4AFiBAAoA-AEVAJl"
	  "AVgAtYcACAJcAr4eABAK8OgBgFzAOmAqwgABAWyA.IFukWSQh",
	  CONSENT_NONE, NULL },
	{ "obs_sourcepoint_reject", "CQX48QAQX48QAAGABBENB3FgAAAAAAAAAAYgAAAAAAAA.YAAAAAAAAAAA", CONSENT_REJECT, NULL },
	/* legitimate interest only: still a reject of consent */
	{ "obs_fandom_reject_li_only", "CPt3fQAPt3fQACNAFAENDLCgAAAAAAAAACiQAAAOCgDAB-AIsAZ8A6QDBAHBAAAA.YAAAAAAAAAAA",
	  CONSENT_REJECT, "cmp 141, policy 2, purposes none, 0 vendors, LI purposes none, 6 LI vendors" },
	{ "obs_cookiebot_iab2_reject", "CP5jqEAP5jqEACGABBENAmEgAAAAAAAAAAAAAAAAAAAA.YAAAAAAAAAAA", CONSENT_REJECT,
	  NULL },
};

static void test_tcf(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof tcf_vectors / sizeof tcf_vectors[0]; i++) {
		char *c = crumb("euconsent-v2", tcf_vectors[i].tc);
		char target[2048];
		snprintf(target, sizeof target, "/pixel?gdpr=1&gdpr_consent=%s&cb=1", tcf_vectors[i].tc);
		struct result by_cookie = cookies(c), by_url = url("ad.example", target);
		free(c);
		char prefix[16];
		snprintf(prefix, sizeof prefix, "%.10s", tcf_vectors[i].tc);
		clean(&by_cookie, prefix);
		clean(&by_url, prefix);
		if (tcf_vectors[i].want == CONSENT_NONE) {
			if (by_cookie.n || by_url.n)
				fail_msg("%s: a signal from a string that is not TCF v2", tcf_vectors[i].id);
			continue;
		}
		print_message("%s\n", tcf_vectors[i].id);
		const struct consent_signal *s = only(&by_cookie, "tcf:euconsent-v2", tcf_vectors[i].want);
		if (tcf_vectors[i].detail)
			assert_string_equal(s->detail, tcf_vectors[i].detail);
		s = only(&by_url, "tcf:gdpr_consent", tcf_vectors[i].want);
		if (tcf_vectors[i].detail)
			assert_string_equal(s->detail, tcf_vectors[i].detail);
	}
	/* gdpr=1 with an empty gdpr_consent: no string yet, no signal */
	struct result r = url("ad.example", "/pixel?gdpr=1&gdpr_consent=&x=1");
	none(&r);
	r = url("ad.example", "/pixel?gdpr=1&gdpr_consent");
	none(&r);
	r = url("ad.example", "/pixel?gdpr=1&gdpr_consent=${GDPR_CONSENT_755}");
	none(&r);
	/* percent-encoded, and only the first of two */
	r = url("ad.example", "/p?gdpr_consent=CQX48QAQX48QAAGABBENB3FgAAAAAAAAAAYgAAAAAAAA%2EYAAAAAAAAAAA&"
			      "gdpr_consent=junk");
	only(&r, "tcf:gdpr_consent", CONSENT_REJECT);
	/* a parameter whose name only ends in gdpr_consent, or the fragment */
	r = url("ad.example", "/p?xgdpr_consent=CQX48QAQX48QAAGABBENB3FgAAAAAAAAAAYgAAAAAAAA");
	none(&r);
	r = url("ad.example", "/p#gdpr_consent=CQX48QAQX48QAAGABBENB3FgAAAAAAAAAAYgAAAAAAAA");
	none(&r);
}

/* ---- Google Consent Mode ---- */

static void test_google_consent_mode(void **state)
{
	(void)state;
	struct result r = url("www.google-analytics.com", "/g/collect?v=2&tid=G-XXXX&gcs=G111&gcd=13r3r3r3r5&cid=1.2");
	assert_int_equal(r.n, 2);
	const struct consent_signal *s = expect(&r, "google-consent-mode:gcs", CONSENT_ACCEPT);
	assert_string_equal(s->detail, "gcs=G111");
	s = expect(&r, "google-consent-mode:gcd", CONSENT_ACCEPT);
	assert_string_equal(s->detail, "gcd ad_storage:1,analytics_storage:1,ad_user_data:1,ad_personalization:1");
	/* G100 without gcd: the default before anyone answers (the browser captures, decrypted) */
	r = url("region1.google-analytics.com", "/g/collect?gcs=G100");
	s = only(&r, "google-consent-mode:gcs", CONSENT_NO_DECISION);
	assert_non_null(strstr(s->detail, "without gcd"));
	r = url("region1.google-analytics.com", "/g/collect?gcs=G100&gcd=13q3q3q3q5");
	s = expect(&r, "google-consent-mode:gcs", CONSENT_REJECT);
	assert_string_equal(s->detail, "gcs=G100");
	r = url("googleads.g.doubleclick.net", "/pagead/1?gcs=G110");
	only(&r, "google-consent-mode:gcs", CONSENT_PARTIAL);
	r = url("www.googletagmanager.com", "/a?gcs=G101");
	only(&r, "google-consent-mode:gcs", CONSENT_PARTIAL);
	r = url("www.google.co.uk", "/pagead/1?gcs=G100&gcd=13q3q3q3q5");
	expect(&r, "google-consent-mode:gcs", CONSENT_REJECT);
	expect(&r, "google-consent-mode:gcd", CONSENT_REJECT);
	/* only default letters: the tags sent before anyone answered (Advanced mode) */
	r = url("www.google-analytics.com", "/g/collect?gcs=G100&gcd=11p1p1p1p5");
	assert_int_equal(r.n, 2);
	expect(&r, "google-consent-mode:gcs", CONSENT_NO_DECISION);
	expect(&r, "google-consent-mode:gcd", CONSENT_NO_DECISION);
	r = url("analytics.google.com", "/g/collect?gcs=G111&gcd=13t3t3t3t5l1");
	expect(&r, "google-consent-mode:gcs", CONSENT_NO_DECISION);
	expect(&r, "google-consent-mode:gcd", CONSENT_NO_DECISION);
	/* all l: Consent Mode not in use */
	r = url("www.google-analytics.com", "/g/collect?gcd=13l3l3l3l1l1");
	none(&r);
	/* an update of some: the defaults still hold for the others */
	r = url("www.google-analytics.com", "/g/collect?gcd=13r3r3p3p5");
	only(&r, "google-consent-mode:gcd", CONSENT_PARTIAL);
	r = url("www.google-analytics.com", "/g/collect?gcd=11m1n1u1v5");
	only(&r, "google-consent-mode:gcd", CONSENT_PARTIAL);
	/* not a Google host, a look-alike, an unknown value, a short gcd */
	r = url("collect.example.com", "/g/collect?gcs=G100&gcd=13q3q3q3q5");
	none(&r);
	r = url("www.google.evil.example", "/g/collect?gcs=G100");
	none(&r);
	r = url("google-analytics.com.evil.example", "/g/collect?gcs=G100");
	none(&r);
	r = url("www.google-analytics.com", "/g/collect?gcs=G1--&gcd=13q3");
	none(&r);
}

/* Regular expressions are checked by their literal prefix first: the same answers as regexec(). */
static void test_regex_prefix(void **state)
{
	(void)state;
	static const char text[] =
		"version: 1\n"
		"rules:\n"
		"  - id: re\n"
		"    signals:\n"
		"      - {kind: cookie, name: '^ab*c', match: regex, decide: [{then: accept}]}\n"
		"      - {kind: cookie, name: '^x\\.y', match: regex, decide: [{then: accept}]}\n"
		"      - {kind: cookie, name: '^p|q$', match: regex, decide: [{then: accept}]}\n"
		"      - {kind: cookie, name: '^[]a]z', match: regex, decide: [{then: accept}]}\n"
		"      - {kind: cookie, name: '^long(er)?$', match: regex, decide: [{then: accept}]}\n"
		"      - {kind: cookie, name: '^m{2}n', match: regex, decide: [{then: accept}]}\n"
		/* found by a review: stacked quantifiers, an unmatched ')', a class in brackets */
		"      - {kind: cookie, name: '^db+?$', match: regex, decide: [{then: accept}]}\n"
		"      - {kind: cookie, name: '^e)|f1', match: regex, decide: [{then: accept}]}\n"
		"      - {kind: cookie, name: '^g[[:alpha:](]|h1', match: regex, decide: [{then: accept}]}\n";
	char err[CONSENT_ERROR_MAX];
	struct consent_rules *r = consent_rules_parse(text, sizeof text - 1, "re.yaml", err, sizeof err);
	if (!r)
		fail_msg("%s", err);
	static const struct { const char *name; int want; } cases[] = {
		{ "ac", 1 }, { "abbbc", 1 }, { "xac", 0 }, { "a", 0 },
		{ "x.y", 1 }, { "xzy", 0 }, { "x.yz", 1 },
		{ "p1", 1 }, { "q", 1 }, { "zq", 1 }, { "zp", 0 },
		{ "]z", 1 }, { "az", 1 }, { "bz", 0 },
		{ "long", 1 }, { "longer", 1 }, { "lon", 0 }, { "longest", 0 },
		{ "mmn", 1 }, { "mn", 0 },
		{ "d", 1 }, { "dbb", 1 }, { "f1", 1 }, { "e)", 1 }, { "h1", 1 }, { "gx", 1 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		if (consent_is_consent_cookie(r, cases[i].name, strlen(cases[i].name)) != cases[i].want)
			fail_msg("'%s': want %d", cases[i].name, cases[i].want);
	consent_rules_free(r);
}

/* ---- the format's features the shipped rules do not all use ---- */

static const char format_rules[] =
	"version: 1\n"
	"rules:\n"
	"  - id: fmt\n"
	"    signals:\n"
	"      - kind: cookie\n"
	"        name: nested\n"
	"        decode: [url_decode, json, {list: {at: a.l, sep: \",\"}}, {base64: {at: a.b}}, {json: {at: a.b}}]\n"
	"        decide:\n"
	"          - {at: a.l, all_in: [x, y], then: no_decision, detail: \"only x and y\"}\n"
	"          - {at: a.r, equals: \"1.5\", then: partial, detail: \"a real\"}\n"
	"          - {at: a.z, equals: \"null\", then: reject, detail: \"a null\"}\n"
	"          - {at: a.n, equals: \"7\", then: accept}\n"
	"          - {at: a.stop, present: true, then: none}\n"
	"          - categories: {at: [a.b.o, a.b.p], granted_in: a.b.on, denied_in: [a.b.off],\n"
	"                         granted: [\"1\", \"true\"], denied: [\"0\", \"false\"], necessary_regex: '^nec',\n"
	"                         ignore: '^_', label: cats}\n"
	"          - {at: a, present: true, then: no_decision, detail: \"nothing else\"}\n"
	"      - kind: url\n"
	"        label: letters\n"
	"        path: '^/p\\?'\n"
	"        decode: [query, {letters: {at: gcd, positions: {a: 2, b: 4}}}]\n"
	"        decide:\n"
	"          - categories: {at: gcd, granted: [r], denied: [q]}\n"
	"      - kind: cookies\n"
	"        label: \"k_*\"\n"
	"        name: k_\n"
	"        match: prefix\n"
	"        decide: [{categories: {nonempty: true}}]\n";

static void test_format(void **state)
{
	(void)state;
	char err[CONSENT_ERROR_MAX];
	struct consent_rules *shipped = rules;
	rules = consent_rules_parse(format_rules, sizeof format_rules - 1, "format.yaml", err, sizeof err);
	if (!rules) {
		rules = shipped;
		fail_msg("%s", err);
	}
	assert_int_equal(consent_rules_count(rules), 3);
	struct {
		const char *json;
		enum consent_decision want;
		const char *detail;
	} cases[] = {
		{ "{\"a\":{\"l\":\"x,y,,x\"}}", CONSENT_NO_DECISION, "only x and y" },
		{ "{\"a\":{\"r\":1.5}}", CONSENT_PARTIAL, "a real" },
		{ "{\"a\":{\"z\":null}}", CONSENT_REJECT, "a null" },
		{ "{\"a\":{\"n\":7}}", CONSENT_ACCEPT, "a.n=7" },
		{ "{\"a\":{\"stop\":1,\"b\":\"\"}}", CONSENT_NONE, NULL },
		{ "{\"a\":{\"l\":\"x,w\"}}", CONSENT_NO_DECISION, "nothing else" },
		{ "{\"a\":{\"l\":\"\"}}", CONSENT_NO_DECISION, "nothing else" },
		{ "[1]", CONSENT_NONE, NULL },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *e = uri_encode(cases[i].json), *c = crumb("nested", e);
		struct result r = cookies(c);
		if (cases[i].want == CONSENT_NONE) {
			none(&r);
		} else {
			const struct consent_signal *s = only(&r, "fmt:nested", cases[i].want);
			assert_string_equal(s->detail, cases[i].detail);
		}
		free(c);
		free(e);
	}
	/* base64 JSON inside JSON: two objects of states, a list of each, necessary and ignored keys */
	char *inner = base64("{\"o\":{\"x\":1,\"nec\":true,\"_i\":0,\"u\":\"maybe\"},\"p\":{\"y\":false},"
			     "\"on\":[\"q\"],\"off\":[\"r\"]}");
	char json[512];
	snprintf(json, sizeof json, "{\"a\":{\"b\":\"%s\"}}", inner);
	char *e = uri_encode(json), *c = crumb("nested", e);
	struct result r = cookies(c);
	const struct consent_signal *s = only(&r, "fmt:nested", CONSENT_PARTIAL);
	assert_string_equal(s->detail, "cats x:1,nec:1,y:0,q:1,r:0");
	free(c);
	free(e);
	free(inner);

	r = url("h.example", "/p?gcd=11r1q5");
	s = only(&r, "fmt:letters", CONSENT_PARTIAL);
	assert_string_equal(s->detail, "gcd a:1,b:0");
	r = url("h.example", "/p?gcd=11r1r5&gcd=11q1q5");
	only(&r, "fmt:letters", CONSENT_ACCEPT);
	r = url("h.example", "/p?gcd=11r");
	none(&r);
	r = url("h.example", "/q?gcd=11r1r5");
	none(&r);
	r = cookies("k_a=1; k_b=x; k_c=");
	s = only(&r, "fmt:k_*", CONSENT_ACCEPT);
	assert_string_equal(s->detail, "categories k_a:1,k_b:1");
	consent_rules_free(rules);
	rules = shipped;
}

/* ---- the loader ---- */

/* A rules document that must fail: at `line`, with `reason` in the message. */
static void bad_text(const char *text, size_t len, unsigned line, const char *reason)
{
	char err[CONSENT_ERROR_MAX];
	memset(err, 'x', sizeof err);
	char *copy = malloc(len ? len : 1);
	assert_non_null(copy);
	memcpy(copy, text, len);
	struct consent_rules *r = consent_rules_parse(copy, len, "rules.yaml", err, sizeof err);
	free(copy);
	if (r) {
		consent_rules_free(r);
		fail_msg("accepted: %s", text);
	}
	assert_non_null(memchr(err, '\0', sizeof err));
	char where[64];
	snprintf(where, sizeof where, "rules.yaml:%u: ", line);
	if (strncmp(err, where, strlen(where)) != 0 || !strstr(err, reason))
		fail_msg("'%s' for\n%s\n(want %s... %s)", err, text, where, reason);
}

#define HEAD "version: 1\nrules:\n  - id: x\n    signals:\n"
/* One signal of kind cookie, its lines after "name: c", at line 6 on. */
#define SIG(rest) HEAD "      - kind: cookie\n        name: c\n" rest

static void test_loader_errors(void **state)
{
	(void)state;
#define BAD(text, line, reason) bad_text(text, sizeof text - 1, line, reason)
	BAD("", 1, "the rules file is empty");
	BAD("- a\n", 1, "must be a mapping of keys");
	BAD("version: 1\nrules: [\n", 3, "");
	BAD("version: 1\nrules: []\ncolour: blue\n", 3, "unknown key 'colour' in the rules file");
	BAD("version: 2\nrules: []\n", 1, "'version' must be 1");
	BAD("rules: []\n", 1, "'version' must be 1");
	BAD("version: 1\nrules: {}\n", 2, "'rules' must be a list");
	BAD("version: 1\nversion: 1\nrules: []\n", 2, "key 'version' given twice");
	BAD("version: 1\nrules:\n  - id: x\n    colour: blue\n", 4, "rule 1: unknown key 'colour' in a rule");
	BAD("version: 1\nrules:\n  - id: Bad_Id\n    signals: []\n", 3, "a rule needs 'id'");
	BAD("version: 1\nrules:\n  - id: x\n    signals: []\n", 4, "rule 'x': 'signals' must have 1 to 16");
	BAD("version: 1\nrules:\n  - id: x\n    confidence: sure\n", 4, "'confidence' must be high, medium or low");
	BAD(HEAD "      - kind: cookie\n        name: c\n        decide: [{then: accept}]\n"
		 "  - id: x\n    signals: []\n",
	    8, "rule id 'x' is used twice");
	BAD(HEAD "      - kind: header\n", 5, "rule 'x', signal 1: unknown kind 'header'");
	BAD(HEAD "      - name: c\n", 5, "needs 'kind'");
	BAD(HEAD "      - kind: cookie\n        decide: [{then: accept}]\n", 5, "a cookie signal needs 'name'");
	BAD(SIG("        colour: blue\n"), 7, "unknown key 'colour' in a signal");
	BAD(SIG("        param: p\n"), 7, "'param' does not apply to a signal of kind cookie");
	BAD(SIG("        match: glob\n"), 7, "unknown match 'glob'");
	BAD(SIG("        host: '('\n"), 7, "'host': bad regular expression");
	BAD(SIG("        host: '(a)\\1'\n"), 7, "back-references are not allowed");
	BAD(SIG("        host: '((a{16}){16}){16}'\n"), 7, "interval bounds too large");
	BAD(SIG("        host: 'a{1000}'\n"), 7, "interval bounds too large");
	BAD(SIG("        decode: url_decode\n"), 7, "'decode' must be a list of ops");
	BAD(SIG("        decode: [xml]\n"), 7, "unknown decode op 'xml'");
	BAD(SIG("        decode: [{kv: {sep: \"&\"}}]\n"), 7, "'kvsep' is missing");
	BAD(SIG("        decode: [{kv: {sep: \"&&&&&\", kvsep: \"=\"}}]\n"), 7, "'sep' must be 1 to 4 bytes");
	BAD(SIG("        decode: [{kv: {sep: \"&\", kvsep: \"=\", url_decode: maybe}}]\n"), 7,
	    "'url_decode' must be true or false");
	BAD(SIG("        decode: [{list: {sep: \",\", kvsep: \":\"}}]\n"), 7, "unknown key 'kvsep' in decode op 'list'");
	BAD(SIG("        decode: [kv]\n"), 7, "'kv' needs its arguments");
	BAD(SIG("        decode: [{json: {at: \"a..b\"}}]\n"), 7, "a path is keys joined by '.'");
	BAD(SIG("        decode: [tcf, url_decode]\n"), 7, "'tcf' must be the last decode op");
	BAD(SIG("        decode: [query]\n"), 7, "'query' reads the URL of a url signal");
	BAD(SIG("        decode: [{letters: {positions: {a: x}}}]\n"), 7, "a position is a number");
	BAD(SIG(""), 5, "a signal needs 'decide'");
	BAD(SIG("        decide: []\n"), 7, "'decide' must have 1 to 24 steps");
	BAD(SIG("        decide: [{equals: x}]\n"), 7, "a test step needs 'then'");
	BAD(SIG("        decide: [{equals: x, then: accept_all}]\n"), 7, "unknown decision 'accept_all'");
	BAD(SIG("        decide: [{equals: x, regex: y, then: accept}]\n"), 7, "a condition has one test");
	BAD(SIG("        decide: [{at: a, cookie: b, missing: true, then: accept}]\n"), 7,
	    "a condition reads one of 'at', 'cookie' or 'param'");
	BAD(SIG("        decide: [{cookie: b, then: accept}]\n"), 7, "a condition on 'b' needs a test");
	BAD(SIG("        decide: [{missing: false, then: accept}]\n"), 7, "'missing' can only be true");
	BAD(SIG("        decide: [{regex: '[', then: accept}]\n"), 7, "'regex': bad regular expression");
	BAD(SIG("        decide: [{all: [{missing: true}], equals: x, then: accept}]\n"), 7,
	    "a step with 'all' has its tests inside 'all'");
	BAD(SIG("        decide: [{all: [{nope: 1}], then: accept}]\n"), 7, "unknown key 'nope' in a condition");
	BAD(SIG("        decide: [{tcf: {accept_purposes: 1-10}}]\n"), 7, "a 'tcf' step needs the 'tcf' decode op");
	BAD(SIG("        decode: [tcf]\n        decide: [{tcf: {accept_purposes: 0-10}}]\n"), 8,
	    "'accept_purposes' must list purposes 1 to 24");
	BAD(SIG("        decode: [tcf]\n        decide: [{tcf: {accept_purposes: \"1-10,\"}}]\n"), 8,
	    "'accept_purposes' must list purposes");
	BAD(SIG("        decode: [tcf]\n        decide: [{tcf: {accept_purposes: 11-1}}]\n"), 8, "must list purposes");
	BAD(SIG("        decode: [tcf]\n        decide: [{tcf: {accept_purposes: \"25\"}}]\n"), 8, "must list purposes");
	BAD(SIG("        decode: [tcf]\n        decide: [{tcf: {accept_purposes: \"1,,2\"}}]\n"), 8,
	    "must list purposes");
	BAD(SIG("        decode: [tcf]\n        decide: [{tcf: {accept_purposes: \"\"}}]\n"), 8, "must list purposes");
	BAD(SIG("        decode: [tcf]\n        decide: [{tcf: {accept_purposes: 1-10, accept_purposes_v2_2: x}}]\n"), 8,
	    "'accept_purposes_v2_2' must list purposes");
	BAD(SIG("        decode: [tcf]\n        decide: [{tcf: {}}]\n"), 8, "'tcf' needs 'accept_purposes'");
	BAD(SIG("        decode: [tcf]\n        decide: [{equals: x, then: accept}]\n"), 8,
	    "after the 'tcf' decode op, tests read only");
	BAD(SIG("        decode: [tcf]\n        decide: [{categories: {granted: [\"1\"]}}]\n"), 8,
	    "after the 'tcf' decode op, decide with a 'tcf' step");
	BAD(SIG("        decide: [{categories: {at: a}}]\n"), 7, "'categories' needs 'granted' and 'denied'");
	BAD(SIG("        decide: [{categories: {granted: [x], nonempty: true}}]\n"), 7, "exclude each other");
	BAD(SIG("        decide: [{categories: {granted: [x], absent: maybe}}]\n"), 7,
	    "'absent' must be denied or ignore");
	BAD(SIG("        decide: [{categories: {granted: {a: b}}}]\n"), 7, "'granted' must be a string or a list");
	BAD(SIG("        decide: [{categories: {granted: [x]}, then: accept}]\n"), 7,
	    "a 'categories' step has no other keys");
	BAD(HEAD "      - kind: url\n        path: '^/x'\n        decide: [{then: accept}]\n", 5, "needs 'label'");
	BAD(HEAD "      - kind: url\n        label: l\n        decide: [{then: accept}]\n", 5, "needs 'host' or 'path'");
	BAD(HEAD "      - kind: url_param\n        decide: [{then: accept}]\n", 5, "needs 'param'");
	BAD(HEAD "      - kind: url_param\n        param: p\n        name: n\n        decide: [{then: accept}]\n", 7,
	    "'name' does not apply to a signal of kind url_param");
	/* a NUL inside a value is not cut short to what comes before it */
	BAD(SIG("        decide: [{equals: \"a\\0b\", then: accept}]\n"), 7, "'equals' must be a string");
	BAD(HEAD "      - kind: cookie\n        name: \"c\\0d\"\n        decide: [{then: accept}]\n", 6,
	    "'name' must be a non-empty string");
#undef BAD

	/* the good ones of those shapes load */
	char err[CONSENT_ERROR_MAX] = "";
	static const char good[] = SIG("        match: prefix\n        host: '(^|\\.)example\\.com$'\n"
				       "        decode: [url_decode, {kv: {sep: \"&\", kvsep: \"=\"}}]\n"
				       "        decide:\n"
				       "          - {all: [{cookie: z, missing: true}, {at: a, equals: \"1\"}],\n"
				       "             then: partial}\n"
				       "          - {at: b, all_in: [x, y], then: none}\n"
				       "          - categories: {keys: [a, b], granted: [\"1\"], denied: [\"0\"]}\n");
	struct consent_rules *r = consent_rules_parse(good, sizeof good - 1, "good.yaml", err, sizeof err);
	if (!r)
		fail_msg("%s", err);
	assert_int_equal(consent_rules_count(r), 1);
	assert_true(consent_is_consent_cookie(r, "cx", 2));
	assert_true(consent_is_consent_cookie(r, "z", 1));
	struct cookie_pair pairs[] = { { { "cookie", 6 }, { "a=1&b=0", 7 }, true } };
	struct consent_request q = { "www.example.com", 15, "/", 1, pairs, 1 };
	struct consent_signal s[2];
	assert_int_equal(consent_evaluate_request(r, &q, s, 2), 1);
	assert_int_equal(s[0].decision, CONSENT_PARTIAL);
	assert_string_equal(s[0].source, "x:cookie");
	assert_string_equal(s[0].detail, "cookie z missing, a=1");
	q.host = "example.org";
	q.host_len = 11;
	assert_int_equal(consent_evaluate_request(r, &q, s, 2), 0);
	consent_rules_free(r);
	/* purposes as lists and ranges */
	static const char tcf_rules[] = SIG("        decode: [tcf]\n"
					    "        decide: [{tcf: {accept_purposes: \"1,2,3-10\",\n"
					    "                        accept_purposes_v2_2: \"1-10,11\"}}]\n");
	r = consent_rules_parse(tcf_rules, sizeof tcf_rules - 1, "tcf.yaml", err, sizeof err);
	if (!r)
		fail_msg("%s", err);
	consent_rules_free(r);
	r = consent_rules_parse("version: 1\nrules: []\n", 21, "empty.yaml", err, sizeof err);
	assert_non_null(r);
	assert_int_equal(consent_rules_count(r), 0);
	consent_rules_free(r);

	/* from a file: its name in the message */
	char dir[] = "/tmp/tw-consent-XXXXXX", path[64];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/rules.yaml", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("version: 1\nrules:\n  - id: x\n    signals:\n      - kind: cookie\n        name: c\n"
	      "        decide: [{then: accept_all}]\n", f);
	assert_int_equal(fclose(f), 0);
	assert_null(consent_rules_load(path, err, sizeof err));
	char want[128];
	snprintf(want, sizeof want, "%s:7: rule 'x', signal 1: 'then': unknown decision 'accept_all'", path);
	if (strncmp(err, want, strlen(want)) != 0)
		fail_msg("'%s', want '%s...'", err, want);
	unlink(path);
	rmdir(dir);
	assert_null(consent_rules_load("/nonexistent/consent.yaml", err, sizeof err));
	assert_non_null(strstr(err, "/nonexistent/consent.yaml: "));
	/* a small error buffer: cut, terminated */
	char tiny[8];
	assert_null(consent_rules_parse("version: 3\n", 11, "rules.yaml", tiny, sizeof tiny));
	assert_non_null(memchr(tiny, '\0', sizeof tiny));
}

/* A file of aliases that repeat one node many times: the bounds stop it, quickly. */
static void test_loader_aliases(void **state)
{
	(void)state;
	/* a rule of 16 signals, given again by its alias */
	struct consent_rules *r;
	char err[CONSENT_ERROR_MAX];
	static const char bomb[] =
		"version: 1\n"
		"rules:\n"
		"  - &r {id: a, signals: [&s {kind: cookie, name: c, decide: [{then: accept}]}, *s, *s, *s, *s, *s, *s,"
		" *s, *s, *s, *s, *s, *s, *s, *s, *s]}\n"
		"  - *r\n";
	r = consent_rules_parse(bomb, sizeof bomb - 1, "bomb.yaml", err, sizeof err);
	assert_null(r);
	assert_non_null(strstr(err, "rule id 'a' is used twice"));
	static const char many[] =
		"version: 1\n"
		"rules:\n"
		"  - {id: a, signals: [&s {kind: cookie, name: c, decide: [&d {then: accept}, *d, *d, *d, *d, *d, *d, *d,"
		" *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d, *d]}]}\n";
	r = consent_rules_parse(many, sizeof many - 1, "many.yaml", err, sizeof err);
	assert_null(r);
	assert_non_null(strstr(err, "1 to 24 steps"));
}

/* ---- hostile values ---- */

/* Evaluates `value` (len bytes, NULs allowed) as cookie `name` and as parameters; no crash, clean texts. */
static struct result hostile(const char *name, const char *value, size_t len)
{
	struct result r;
	char *v = malloc(len ? len : 1), *n = strdup(name);
	assert_non_null(v);
	assert_non_null(n);
	memcpy(v, value, len);
	struct cookie_pair pairs[] = {
		{ { "OptanonAlertBoxClosed", 21 }, { "x", 1 }, true },
		{ { "cmplz_banner-status", 19 }, { "dismissed", 9 }, true },
		{ { n, strlen(n) }, { v, len }, true },
		{ { "cmplz_marketing", 15 }, { v, len }, true },
	};
	struct consent_request q = { "www.google-analytics.com", 24, v, len, pairs, 4 };
	r.n = consent_evaluate_request(rules, &q, r.s, MAX_SIGNALS);
	for (size_t i = 0; i < r.n; i++)
		check_texts(&r.s[i]);
	struct set_cookie sc;
	memset(&sc, 0, sizeof sc);
	sc.name = pairs[2].name;
	sc.value = pairs[2].value;
	struct consent_signal s[4];
	size_t k = consent_evaluate_set_cookie(rules, "x.example", 9, &sc, s, 4);
	for (size_t i = 0; i < k; i++)
		check_texts(&s[i]);
	free(v);
	free(n);
	return r;
}

static const char *const all_cookie_names[] = {
	"OptanonConsent", "euconsent-v2", "CookieConsent", "didomi_token", "cookieyes-consent", "notice_gdpr_prefs",
	"notice_preferences", "cmapi_cookie_privacy", "klaro", "axeptio_cookies", "axeptio_authorized_vendors",
	"_iub_cs-1", "borlabs-cookie", "tarteaucitron", "cookieconsent_status", "_sp_enable_dfp_personalized_ads",
	"complianz_consent_status",
};

static void test_hostile(void **state)
{
	(void)state;
	size_t big = 64 * 1024;
	char *buf = malloc(big + 1);
	assert_non_null(buf);
	enum { NAMES = sizeof all_cookie_names / sizeof all_cookie_names[0] };

	/* truncated JSON, JS objects, base64 */
	const char *cut[] = { "%7B%22a%22%3Atrue", "{\"consents\":{\"essential\":[\"x\"", "{stamp:'abc",
			      "{\"purposes\":{\"1\":tr", "eyJ1c2VyX2lkIjoi", "{", "[", "\"", "'", "%", "%4", "=", "==",
			      "a=", "&&&", ":::,,,", "!", "{stamp:'a\\", "{\"$$completed\":" };
	for (size_t i = 0; i < sizeof cut / sizeof cut[0]; i++)
		for (size_t j = 0; j < NAMES; j++)
			hostile(all_cookie_names[j], cut[i], strlen(cut[i]));

	/* deep nesting: JSON, JS object, and JSON inside base64 */
	size_t depth = 5000;
	for (size_t i = 0; i < depth; i++)
		buf[i] = '[';
	for (size_t i = 0; i < NAMES; i++)
		hostile(all_cookie_names[i], buf, depth);
	memset(buf, '{', depth);
	hostile("CookieConsent", buf, depth);
	/* 17 levels: one past the bound, no signal; 16 would be read */
	static const char deep17[] = "{\"necessary-cookies\":true,\"a\":[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]}";
	static const char deep16[] = "{\"google-ads\":false,\"a\":[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]}";
	struct result r = hostile("klaro", deep17, sizeof deep17 - 1);
	none(&r);
	r = hostile("klaro", deep16, sizeof deep16 - 1);
	only(&r, "klaro:klaro", CONSENT_REJECT);
	char *b = base64("{\"purposes\":{\"enabled\":[[[[[[[[[[[[[[[[[[[[[[[\"x\"]]]]]]]]]]]]]]]]]]]]]]]}}");
	r = hostile("didomi_token", b, strlen(b));
	none(&r);
	free(b);

	/* huge values: past the 8 KiB bound, no signal and no allocation of their size */
	memset(buf, 'A', big);
	for (size_t i = 0; i < NAMES; i++) {
		r = hostile(all_cookie_names[i], buf, big);
		none(&r);
	}
	/* a base64 didomi_token of 10 KiB: decoded past the bound */
	char *json = malloc(12000);
	assert_non_null(json);
	int len = snprintf(json, 12000, "{\"purposes\":{\"enabled\":[\"%0*d\"]}}", 10000, 7);
	b = base64(json);
	r = hostile("didomi_token", b, strlen(b));
	none(&r);
	free(b);
	/* just under: read, and the long name is not shown */
	len = snprintf(json, 12000, "{\"purposes\":{\"enabled\":[\"%0*d\"]}}", 5000, 7);
	b = base64(json);
	r = hostile("didomi_token", b, strlen(b));
	const struct consent_signal *s = only(&r, "didomi:didomi_token", CONSENT_ACCEPT);
	assert_string_equal(s->detail, "purposes and vendors ?:1");
	free(b);
	free(json);
	(void)len;

	/* invalid UTF-8, control bytes and NULs: no crash, printable texts */
	static const char bytes[] = "interactionCount=1&groups=C0001%3A1%2C\xff\xfe%3A1%2CC\x00\x01%3A0%2C%00%3A0";
	r = hostile("OptanonConsent", bytes, sizeof bytes - 1);
	/* keys holding a NUL are dropped; the others are read, shown as '?' when not printable */
	s = only(&r, "onetrust:OptanonConsent", CONSENT_ACCEPT);
	assert_string_equal(s->detail, "groups C0001:1,?:1");
	static const char klaro_bad[] = "{\"\xff\":true,\"b\":false}";
	r = hostile("klaro", klaro_bad, sizeof klaro_bad - 1);
	none(&r);   /* jansson refuses invalid UTF-8 */
	/* a cookie name holding a NUL is not the name before it */
	struct cookie_pair nul_name[] = { { { "OptanonAlertBoxClosed", 21 }, { "x", 1 }, true },
					  { { "OptanonConsent\0x", 16 },
					    { "interactionCount=1&groups=C0002%3A0", 35 }, true },
					  { { "cmplz_banner-status", 19 }, { "dismissed", 9 }, true },
					  { { "cmplz_marketing\0", 16 }, { "allow", 5 }, true } };
	struct consent_request nq = { "x", 1, "/", 1, nul_name, 4 };
	assert_int_equal(consent_evaluate_request(rules, &nq, r.s, MAX_SIGNALS), 0);
	static const char tc_nul[] = "CQX48QAQX48QAAGABBENB3FgAAAAAAAAAAYgAAAAAAAA\0";
	r = hostile("euconsent-v2", tc_nul, sizeof tc_nul - 1);
	none(&r);
	static const char gcs_nul[] = "/g/collect?gcs=G1\x00\x30\x30";
	r = hostile("x", gcs_nul, sizeof gcs_nul - 1);
	none(&r);

	/* 200 groups: read, the detail cut short with the counts; 300 pairs: past the bound of 256, no signal */
	size_t o = (size_t)sprintf(buf, "interactionCount=1&groups=");
	for (int i = 0; i < 200; i++)
		o += (size_t)sprintf(buf + o, "C%04d%%3A%d%%2C", i, i % 2);
	r = hostile("OptanonConsent", buf, o);
	s = only(&r, "onetrust:OptanonConsent", CONSENT_PARTIAL);
	assert_non_null(strstr(s->detail, " more; 99 granted, 100 denied)"));
	assert_true(strlen(s->detail) < CONSENT_DETAIL_MAX);
	o = (size_t)sprintf(buf, "interactionCount=1&groups=");
	for (int i = 0; i < 300; i++)
		o += (size_t)sprintf(buf + o, "C%04d%%3A%d%%2C", i, i % 2);
	r = hostile("OptanonConsent", buf, o);
	none(&r);
	static const char ids[] = "interactionCount=1&groups=0c737b02-1111-2222-3333-444455556666%3A1%2C"
				  "9894671753164742%3A0%2CaB3dE5gH7jK9mN1p%3A1%2CC0002%3A1";
	r = hostile("OptanonConsent", ids, sizeof ids - 1);
	s = only(&r, "onetrust:OptanonConsent", CONSENT_PARTIAL);
	assert_string_equal(s->detail, "groups ?:1,?:0,?:1,C0002:1");

	/* random bytes under every name, with a fixed seed */
	srand(7);
	for (int round = 0; round < 3000; round++) {
		size_t n = (size_t)(rand() % 300);
		for (size_t i = 0; i < n; i++)
			buf[i] = (char)(rand() % 4 ? "{}[]\"':,=&%!$.01AaGgtrue"[rand() % 24] : rand() % 256);
		hostile(all_cookie_names[round % NAMES], buf, n);
	}

	/* max: at most that many written */
	struct consent_signal one;
	struct cookie_pair pairs[] = { { { "cookieconsent_status", 20 }, { "allow", 5 }, true },
				       { { "complianz_consent_status", 24 }, { "deny", 4 }, true } };
	struct consent_request q = { "x", 1, "/", 1, pairs, 2 };
	assert_int_equal(consent_evaluate_request(rules, &q, &one, 1), 1);
	assert_int_equal(consent_evaluate_request(rules, &q, &one, 0), 0);
	assert_int_equal(consent_evaluate_request(NULL, &q, &one, 1), 0);
	q.cookies = NULL;
	assert_int_equal(consent_evaluate_request(rules, &q, &one, 1), 0);
	q = (struct consent_request){ NULL, 0, NULL, 0, NULL, 0 };
	assert_int_equal(consent_evaluate_request(rules, &q, &one, 1), 0);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decision_words),
		cmocka_unit_test(test_rules_file),
		cmocka_unit_test(test_capture_accept),
		cmocka_unit_test(test_capture_reject),
		cmocka_unit_test(test_onetrust),
		cmocka_unit_test(test_set_cookie),
		cmocka_unit_test(test_cookiebot),
		cmocka_unit_test(test_didomi),
		cmocka_unit_test(test_cookieyes),
		cmocka_unit_test(test_complianz),
		cmocka_unit_test(test_trustarc),
		cmocka_unit_test(test_sourcepoint),
		cmocka_unit_test(test_klaro),
		cmocka_unit_test(test_axeptio),
		cmocka_unit_test(test_iubenda),
		cmocka_unit_test(test_borlabs),
		cmocka_unit_test(test_others),
		cmocka_unit_test(test_tcf),
		cmocka_unit_test(test_google_consent_mode),
		cmocka_unit_test(test_regex_prefix),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_loader_errors),
		cmocka_unit_test(test_loader_aliases),
		cmocka_unit_test(test_hostile),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
