/*
 * consent: consent signals on the wire. A rules file (YAML, shipped as
 * etc/consent-signals.yaml; the format is in trackwatchd(8), CONSENT
 * SIGNALS) says, for each
 * consent-management platform (OneTrust, Cookiebot, Didomi, the IAB TCF,
 * Google Consent Mode, ...), which cookies and which request URLs carry a
 * user's choice and how to read them. Evaluated on one
 * HTTP request (its URL and its cookies) or one Set-Cookie, the rules give
 * zero or more signals, each a decision with its source.
 *
 * Four decisions, the same words everywhere: accept, reject, partial, and
 * no_decision (the platform wrote its storage, but nobody has answered yet:
 * many write a cookie of defaults on the first page view; that is never
 * consent).
 *
 * Values from the wire are read here in the raw: a signal's `detail` says
 * what was read (groups, purposes, vendor counts) and never carries an
 * identifier from the value (a consent id, a stamp, a uuid, a TC string).
 *
 * Loaded rules are read-only: one set may be shared by threads.
 */
#ifndef TRACKWATCH_CONSENT_H
#define TRACKWATCH_CONSENT_H

#include <stddef.h>
#include <stdint.h>

#include "../dissectors/cookie.h"

enum consent_decision {
	CONSENT_NONE = 0,        /* not a signal (internal; never in an output) */
	CONSENT_ACCEPT,
	CONSENT_REJECT,
	CONSENT_PARTIAL,
	CONSENT_NO_DECISION,
};

/* "accept", "reject", "partial", "no_decision"; NULL for CONSENT_NONE. */
const char *consent_decision_name(enum consent_decision decision);
/* The decision for one of those words (as `trackwatch consent mark` takes them), or CONSENT_NONE. */
enum consent_decision consent_decision_parse(const char *word);

enum { CONSENT_SOURCE_MAX = 96, CONSENT_DETAIL_MAX = 256, CONSENT_ERROR_MAX = 512 };

struct consent_signal {
	enum consent_decision decision;
	/* "<rule id>:<what>", e.g. "onetrust:OptanonConsent", "tcf:euconsent-v2",
	   "tcf:gdpr_consent", "google-consent-mode:gcs", "cookiebot:logconsent" */
	char source[CONSENT_SOURCE_MAX];
	/* What was read, for a person: "groups C0001:1,C0002:0,C0003:0,C0004:0",
	   "cmp 28, purposes 1-11, 4 vendors", "gcs=G100". No identifiers. */
	char detail[CONSENT_DETAIL_MAX];
};

struct consent_rules;

/* Loads rules from the YAML file at `path`; NULL with a message naming file, line and key in `error`. */
struct consent_rules *consent_rules_load(const char *path, char *error, size_t error_len);
/* The same from `len` bytes in memory; `name` stands for the file in messages. */
struct consent_rules *consent_rules_parse(const char *text, size_t len, const char *name,
					  char *error, size_t error_len);
void consent_rules_free(struct consent_rules *rules);
/* How many rules (cookie, URL) were loaded, for the start-up log line: the signals of all platforms. */
size_t consent_rules_count(const struct consent_rules *rules);

/* One HTTP request as the consent rules see it. Raw wire bytes, not NUL-terminated. */
struct consent_request {
	const char *host;              /* lower case, no port */
	size_t host_len;
	const char *target;            /* the request target: path and query, raw */
	size_t target_len;
	const struct cookie_pair *cookies; /* of its Cookie header(s), raw values */
	size_t cookie_count;
};

/*
 * The signals of one request: its cookies (a platform's cookies are read
 * together, so that OneTrust's OptanonConsent without OptanonAlertBoxClosed
 * is no_decision) and its URL (Google Consent Mode's gcs/gcd on Google hosts,
 * gdpr_consent, Cookiebot's logconsent, Sourcepoint's choice). Writes at
 * most `max` into `out` and returns how many.
 */
size_t consent_evaluate_request(const struct consent_rules *rules,
				const struct consent_request *request,
				struct consent_signal *out, size_t max);

/*
 * The signal of one Set-Cookie a server sent from `host`, if its cookie is a
 * consent cookie. A response does not show the browser's other cookies:
 * tests of a companion cookie are skipped, and platforms read from several
 * cookies together (Complianz) give nothing. A Set-Cookie that deletes
 * (Max-Age 0 or less) gives nothing.
 */
size_t consent_evaluate_set_cookie(const struct consent_rules *rules, const char *host,
				   size_t host_len, const struct set_cookie *cookie,
				   struct consent_signal *out, size_t max);

/*
 * Whether a cookie name is one the rules read as a consent cookie, or name
 * as a companion (OptanonAlertBoxClosed): its value then is a consent
 * record, not an identifier, for reports. Some records hold the id of the
 * record (OptanonConsent's consentId, didomi_token's user_id, Cookiebot's
 * stamp): a signal's detail never shows it; the raw value does.
 */
int consent_is_consent_cookie(const struct consent_rules *rules, const char *name, size_t len);

#endif
