/*
 * phases: consent phases, derived from what the store holds when a report
 * or a timeline is made (trackwatch(1), CONSENT AND PHASES), so that a mark
 * added after a run re-phases what is stored.
 *
 * Per device and site, the decisions in time order: each consent signal
 * read on the wire whose decision (accept, reject, partial) differs from the
 * one in effect, and each operator mark (consent_marks). A decision read on
 * the wire takes effect at its first evidence minus the settle window (the
 * requests a click triggers reach the wire a few milliseconds before the
 * first request carrying the new consent cookie); a mark takes effect at its
 * time exactly. A mark without a site applies to the site of the device's
 * visit at its time, else to every site of the device. no_decision signals
 * change no phase: they show a banner nobody has answered yet.
 *
 * Every event then has a phase: before_consent, or after_accept,
 * after_reject, after_partial: that of the last decision in effect at its
 * time for its device and site; events of no known site are before_consent
 * unless a mark for every site applies.
 */
#ifndef TRACKWATCH_CLI_PHASES_H
#define TRACKWATCH_CLI_PHASES_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <sqlite3.h>

/* The kinds a phase counts as contacting a host: not DNS lookups, not cookies. As SQL, and as a test. */
#define PHASES_CONTACT_KINDS_SQL \
	"('tls_sni', 'dtls_sni', 'quic_sni', 'http_request', 'resumed', 'connection')"
bool phases_is_contact(const char *kind, size_t len);

enum phase { PHASE_BEFORE, PHASE_ACCEPT, PHASE_REJECT, PHASE_PARTIAL, PHASE_COUNT };

/* "before_consent", "after_accept", "after_reject", "after_partial". */
const char *phase_name(enum phase phase);
/* "before any consent", "after accept", ... for sentences. */
const char *phase_words(enum phase phase);

enum { PHASES_DEFAULT_SETTLE_US = 1000000 };

struct phases;

/*
 * Loads every decision of the database (signals and marks); `db` must
 * outlive the phases (phases_contact() reads it). NULL on a database error
 * or when out of memory (sqlite3_errmsg() may say which).
 */
struct phases *phases_load(sqlite3 *db, int64_t settle_us);
void phases_free(struct phases *p);

/*
 * The phase of an event of `device` on `site` (NULL: unknown) at `ts_us`;
 * *near (may be NULL) is set when the event lies between a decision's
 * taking effect and its first evidence on the wire (inside the settle window).
 */
enum phase phases_at(const struct phases *p, int64_t device, const char *site, int64_t ts_us,
		     bool *near);

/*
 * The phase of a contact of `host` (a tracker's server name, request, ...):
 * as phases_at(), except that inside a settle window only a host contacted
 * for the first time (by the device, on the site: the database is asked,
 * whatever a query selects) is after the decision (and *near); one contacted
 * before keeps the phase before it.
 */
enum phase phases_contact(struct phases *p, int64_t device, const char *site, const char *host,
			  int64_t ts_us, bool *near);

/*
 * The decisions of `device` on `site` as the report's "consent" array:
 * [{ts, decision, source, detail, effective, host, last_without, first_with}],
 * times in ISO 8601 (trackwatch(1), REPORT). A new reference, or NULL when
 * out of memory.
 */
json_t *phases_consent_json(const struct phases *p, int64_t device, const char *site);

/* How many decisions (not no_decision) `device` has on `site`, and the first's phase and time. */
size_t phases_decision_count(const struct phases *p, int64_t device, const char *site);
bool phases_first_decision(const struct phases *p, int64_t device, const char *site,
			   enum phase *phase, int64_t *effective_us, const char **source);

/* ---- What happened in each phase ---- */

struct db_query;

/*
 * Reads the tracker contacts (TLS, DTLS and QUIC server names, HTTP
 * requests, connections, resumed flows: DNS lookups are not contacts) and
 * the cookies the query selects, and files each under its device, site and
 * phase. 0, or -1 on a database error or when out of memory.
 */
int phases_collect(struct phases *p, sqlite3 *db, const struct db_query *q);

/*
 * The report's "phases" object of `device` on `site`: {"before_consent":
 * {"tracker_hosts", "entities", "cookies_set", "cookies_sent",
 * "identifier_cookies", "near_decision"}, "after_accept": ..., ...}, each a
 * sorted array of strings (cookies as name@domain when set, name->host when
 * sent). A new reference, or NULL when out of memory.
 */
json_t *phases_sets_json(const struct phases *p, int64_t device, const char *site);

/*
 * The verdict for a person: one paragraph, e.g. "news.example: before any
 * consent, 10 tracker hosts of 8 companies were contacted and 9 identifier
 * cookies were set or sent; after accept (from onetrust:OptanonConsent at
 * 04:40:32), 14 tracker hosts of 11 companies were contacted." A string to
 * free(), or NULL when out of memory.
 */
char *phases_verdict(const struct phases *p, int64_t device, const char *site);

#endif
