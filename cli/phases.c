/*
 * phases: consent phases from the store's consent signals and marks (see
 * phases.h). Decisions are few (a handful per device and site), so they are
 * all read at once and kept in arrays; events look theirs up by scanning.
 */
#include "phases.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

static const char *const phase_names[PHASE_COUNT] = {
	"before_consent", "after_accept", "after_reject", "after_partial",
};
static const char *const phase_text[PHASE_COUNT] = {
	"before any consent", "after accept", "after reject", "after partial consent",
};

bool phases_is_contact(const char *kind, size_t len)
{
	static const char *const contacts[] = { "tls_sni", "dtls_sni", "quic_sni", "http_request",
						"resumed", "connection" };
	for (size_t i = 0; kind && i < sizeof contacts / sizeof contacts[0]; i++)
		if (strlen(contacts[i]) == len && memcmp(contacts[i], kind, len) == 0)
			return true;
	return false;
}

const char *phase_name(enum phase phase)
{
	return (unsigned)phase < PHASE_COUNT ? phase_names[phase] : "before_consent";
}

const char *phase_words(enum phase phase)
{
	return (unsigned)phase < PHASE_COUNT ? phase_text[phase] : phase_text[PHASE_BEFORE];
}

/* One entry of a site's consent: a decision, or the first no_decision of a source. */
struct decision {
	int64_t evidence_us;     /* the signal's time, or the mark's */
	int64_t effective_us;    /* when it takes effect */
	int64_t last_without_us; /* the device's last request to `host` before the evidence, or -1 */
	enum phase phase;        /* PHASE_BEFORE for a no_decision entry */
	bool is_decision, is_mark;
	char *source, *detail, *host;
};

struct site_decisions {
	int64_t device;
	char *site;              /* NULL: every site of the device (a mark without one) */
	struct decision *d;
	size_t count, cap;
	bool decided;            /* while loading: a decision has been read */
};

/*
 * A visit ends after this long without a contact (daemon/timeline.c's
 * default): a mark without a site falls on a visit only while it lasts.
 */
#define VISIT_TIMEOUT_US (30LL * 60 * 1000000)

struct phases {
	int64_t settle_us;
	struct site_decisions *sites;
	size_t count, cap;
	json_t *sets;            /* phases_collect(): "<device>\t<site>" -> phase -> set -> names */
	sqlite3 *db;             /* for phases_contact() */
	/*
	 * The first contact of each host by each device on each site
	 * (contact_key() -> time), read in one pass when phases_contact() first
	 * needs it, rather than asked of the database for each row.
	 */
	json_t *first_contacts;
	bool first_contacts_failed;
	json_t *index;           /* site_key() -> index in sites */
};

static bool same_site(const char *a, const char *b)
{
	return a && b ? strcmp(a, b) == 0 : a == b;
}

/*
 * The index key of a device's site: "<device>\t<site>", "<device>\t" for
 * every site. A site name holds no NUL (it is stored text); the tab keeps
 * device and site apart.
 */
static int site_key(char *out, size_t size, int64_t device, const char *site)
{
	int n = snprintf(out, size, "%lld\t%s%s", (long long)device, site ? "=" : "", site ? site : "");
	return n > 0 && (size_t)n < size ? 0 : -1;
}

static struct site_decisions *find(const struct phases *p, int64_t device, const char *site)
{
	char key[600];
	if (!p->index || site_key(key, sizeof key, device, site) < 0) {
		/* A site name too long for the key: looked for the slow way. */
		for (size_t i = 0; i < p->count; i++)
			if (p->sites[i].device == device && same_site(p->sites[i].site, site))
				return &p->sites[i];
		return NULL;
	}
	json_t *at = json_object_getn(p->index, key, strlen(key));
	return at ? &p->sites[json_integer_value(at)] : NULL;
}

static struct site_decisions *get(struct phases *p, int64_t device, const char *site)
{
	struct site_decisions *s = find(p, device, site);
	if (s)
		return s;
	if (p->count == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 8;
		struct site_decisions *grown = realloc(p->sites, cap * sizeof *grown);
		if (!grown)
			return NULL;
		p->sites = grown;
		p->cap = cap;
	}
	s = &p->sites[p->count];
	memset(s, 0, sizeof *s);
	s->device = device;
	if (site && !(s->site = strdup(site)))
		return NULL;
	char key[600];
	if (p->index && site_key(key, sizeof key, device, site) == 0 &&
	    json_object_setn_new_nocheck(p->index, key, strlen(key), json_integer((json_int_t)p->count)) != 0)
		return NULL;
	p->count++;
	return s;
}

static char *dup_or_empty(const char *s)
{
	return strdup(s ? s : "");
}

static struct decision *add(struct site_decisions *s)
{
	if (s->count == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 4;
		struct decision *grown = realloc(s->d, cap * sizeof *grown);
		if (!grown)
			return NULL;
		s->d = grown;
		s->cap = cap;
	}
	struct decision *d = &s->d[s->count++];
	memset(d, 0, sizeof *d);
	d->last_without_us = -1;
	return d;
}

static enum phase phase_of(const char *decision)
{
	if (!decision)
		return PHASE_BEFORE;
	if (strcmp(decision, "accept") == 0)
		return PHASE_ACCEPT;
	if (strcmp(decision, "reject") == 0)
		return PHASE_REJECT;
	if (strcmp(decision, "partial") == 0)
		return PHASE_PARTIAL;
	return PHASE_BEFORE;
}

/* How much a decision holds back: accept 1, partial 2, reject 3. */
static int restraint(enum phase phase)
{
	return phase == PHASE_REJECT ? 3 : phase == PHASE_PARTIAL ? 2 : phase == PHASE_ACCEPT;
}

static int compare_decisions(const void *a, const void *b)
{
	const struct decision *x = a, *y = b;
	if (x->effective_us != y->effective_us)
		return x->effective_us < y->effective_us ? -1 : 1;
	/* A mark and a signal at one time: the mark, the operator's, comes last and holds. */
	if (x->is_mark != y->is_mark)
		return (int)x->is_mark - (int)y->is_mark;
	/* Sources that disagree at one time: the one that holds back most comes last and holds. */
	if (restraint(x->phase) != restraint(y->phase))
		return restraint(x->phase) - restraint(y->phase);
	return x->evidence_us < y->evidence_us ? -1 : x->evidence_us > y->evidence_us;
}

/* The consent signals read on the wire, per device and site, in time order. */
static int load_signals(struct phases *p, sqlite3 *db)
{
	sqlite3_stmt *st = NULL, *before = NULL;
	int rc = sqlite3_prepare_v2(db,
		"SELECT o.device_id, s.name, o.ts, c.decision, c.source, c.detail, h.name, o.host_id"
		" FROM consent c JOIN observations o ON o.id = c.observation_id"
		" JOIN hosts h ON h.id = o.host_id"
		" JOIN sites s ON s.id = o.site_id"
		" ORDER BY o.device_id, s.name, o.ts, o.id", -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(db,
			"SELECT max(o.ts) FROM observations o JOIN kinds k ON k.id = o.kind_id"
			" WHERE o.device_id = ?1 AND o.host_id = ?2 AND o.ts < ?3"
			" AND k.name = 'http_request'", -1, &before, NULL);
	if (rc != SQLITE_OK)
		goto fail;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t device = sqlite3_column_int64(st, 0), ts = sqlite3_column_int64(st, 2);
		const char *site = (const char *)sqlite3_column_text(st, 1);
		const char *word = (const char *)sqlite3_column_text(st, 3);
		struct site_decisions *s = get(p, device, site);
		if (!s)
			goto fail;
		enum phase phase = phase_of(word);
		bool is_decision = phase != PHASE_BEFORE;
		const char *source = (const char *)sqlite3_column_text(st, 4);
		if (!is_decision) {
			/* The first no_decision of each source before any decision: a banner seen. */
			bool seen = s->decided;
			for (size_t i = 0; i < s->count && !seen; i++)
				seen = !s->d[i].is_decision && strcmp(s->d[i].source, source ? source : "") == 0;
			if (seen)
				continue;
		} else {
			/*
			 * A decision when its source says something new: each source
			 * (OneTrust's cookie, the TC string, ...) is followed on its own,
			 * so two that disagree on every request make two entries, not one
			 * on each request.
			 */
			enum phase said = PHASE_BEFORE;
			for (size_t i = s->count; i-- > 0 && said == PHASE_BEFORE;)
				if (s->d[i].is_decision && strcmp(s->d[i].source, source ? source : "") == 0)
					said = s->d[i].phase;
			if (phase == said)
				continue;
		}
		struct decision *d = add(s);
		if (!d)
			goto fail;
		d->evidence_us = ts;
		d->effective_us = is_decision ? ts - p->settle_us : ts;
		/* Never before the decision it follows. */
		for (size_t i = 0; i + 1 < s->count; i++)
			if (s->d[i].is_decision && d->effective_us < s->d[i].effective_us)
				d->effective_us = s->d[i].effective_us;
		d->phase = phase;
		d->is_decision = is_decision;
		d->source = dup_or_empty(source);
		d->detail = dup_or_empty((const char *)sqlite3_column_text(st, 5));
		d->host = dup_or_empty((const char *)sqlite3_column_text(st, 6));
		if (!d->source || !d->detail || !d->host)
			goto fail;
		if (is_decision) {
			s->decided = true;
			sqlite3_reset(before);
			sqlite3_bind_int64(before, 1, device);
			sqlite3_bind_int64(before, 2, sqlite3_column_int64(st, 7));
			sqlite3_bind_int64(before, 3, ts);
			if (sqlite3_step(before) == SQLITE_ROW &&
			    sqlite3_column_type(before, 0) != SQLITE_NULL)
				d->last_without_us = sqlite3_column_int64(before, 0);
		}
	}
	sqlite3_finalize(st);
	sqlite3_finalize(before);
	return rc == SQLITE_DONE ? 0 : -1;
fail:
	sqlite3_finalize(st);
	sqlite3_finalize(before);
	return -1;
}

/* The operator's marks, each on the devices its device text names. */
static int load_marks(struct phases *p, sqlite3 *db)
{
	sqlite3_stmt *marks = NULL, *devices = NULL, *visit = NULL;
	int rc = sqlite3_prepare_v2(db, "SELECT ts, device, site, decision FROM consent_marks"
				    " ORDER BY ts, id", -1, &marks, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(db,
			"SELECT id FROM devices WHERE key = ?1 OR mac = ?1 OR name = ?1 COLLATE NOCASE"
			" OR id IN (SELECT device_id FROM device_addresses WHERE address = ?1)",
			-1, &devices, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_prepare_v2(db,
			"SELECT s.name FROM visits v JOIN sites s ON s.id = v.site_id"
			" WHERE v.device_id = ?1 AND v.started <= ?2 AND v.last + ?3 >= ?2"
			" ORDER BY v.started DESC LIMIT 1",
			-1, &visit, NULL);
	if (rc != SQLITE_OK)
		goto fail;
	while ((rc = sqlite3_step(marks)) == SQLITE_ROW) {
		int64_t ts = sqlite3_column_int64(marks, 0);
		const char *site = (const char *)sqlite3_column_text(marks, 2);
		enum phase phase = phase_of((const char *)sqlite3_column_text(marks, 3));
		sqlite3_reset(devices);
		sqlite3_bind_text(devices, 1, (const char *)sqlite3_column_text(marks, 1), -1,
				  SQLITE_TRANSIENT);
		int drc;
		while ((drc = sqlite3_step(devices)) == SQLITE_ROW) {
			int64_t device = sqlite3_column_int64(devices, 0);
			const char *on = site;
			if (!on) {
				sqlite3_reset(visit);
				sqlite3_bind_int64(visit, 1, device);
				sqlite3_bind_int64(visit, 2, ts);
				sqlite3_bind_int64(visit, 3, VISIT_TIMEOUT_US);
				if (sqlite3_step(visit) == SQLITE_ROW)
					on = (const char *)sqlite3_column_text(visit, 0);
			}
			struct site_decisions *s = get(p, device, on);
			struct decision *d = s ? add(s) : NULL;
			if (!d)
				goto fail;
			d->evidence_us = d->effective_us = ts;
			d->phase = phase;
			d->is_decision = d->is_mark = true;
			d->source = strdup("operator");
			d->detail = strdup(site ? "marked by the operator"
						: on ? "marked by the operator (the site the device was on)"
						     : "marked by the operator (every site of the device)");
			d->host = strdup("");
			if (!d->source || !d->detail || !d->host)
				goto fail;
		}
		if (drc != SQLITE_DONE)
			rc = drc;
	}
	sqlite3_finalize(marks);
	sqlite3_finalize(devices);
	sqlite3_finalize(visit);
	return rc == SQLITE_DONE ? 0 : -1;
fail:
	sqlite3_finalize(marks);
	sqlite3_finalize(devices);
	sqlite3_finalize(visit);
	return -1;
}

struct phases *phases_load(sqlite3 *db, int64_t settle_us)
{
	struct phases *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	p->settle_us = settle_us;
	p->db = db;
	p->index = json_object();
	if (!p->index || load_signals(p, db) < 0 || load_marks(p, db) < 0) {
		phases_free(p);
		return NULL;
	}
	for (size_t i = 0; i < p->count; i++)
		qsort(p->sites[i].d, p->sites[i].count, sizeof *p->sites[i].d, compare_decisions);
	return p;
}

void phases_free(struct phases *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->count; i++) {
		for (size_t k = 0; k < p->sites[i].count; k++) {
			free(p->sites[i].d[k].source);
			free(p->sites[i].d[k].detail);
			free(p->sites[i].d[k].host);
		}
		free(p->sites[i].d);
		free(p->sites[i].site);
	}
	free(p->sites);
	json_decref(p->sets);
	json_decref(p->first_contacts);
	json_decref(p->index);
	free(p);
}

/*
 * What holds for `device` on `site` at `ts_us`, from the site's decisions and
 * those for every site: the latest mark, unless a source read on the wire
 * said something after it; then, of what each source said last (after that
 * mark), the one that holds back most: two sources that disagree on every
 * request (OneTrust's cookie says accept, the TC string partial) give the
 * stricter phase, whichever came a few milliseconds later. *latest gets the
 * latest decision in effect (for its settle window), NULL when none.
 */
static enum phase holding_at(const struct phases *p, int64_t device, const char *site,
			     int64_t ts_us, const struct decision **latest)
{
	const struct site_decisions *sets[2] = { site ? find(p, device, site) : NULL,
						 find(p, device, NULL) };
	const struct decision *mark = NULL;
	*latest = NULL;
	for (int k = 0; k < 2; k++)
		for (size_t i = 0; sets[k] && i < sets[k]->count; i++) {
			const struct decision *d = &sets[k]->d[i];
			if (!d->is_decision || d->effective_us > ts_us)
				continue;
			if (!*latest || d->effective_us >= (*latest)->effective_us)
				*latest = d;
			if (d->is_mark && (!mark || d->effective_us >= mark->effective_us))
				mark = d;
		}
	if (!*latest)
		return PHASE_BEFORE;
	/* Each wire source's last word after the mark; the strictest of them holds. */
	enum phase held = PHASE_BEFORE;
	for (int k = 0; k < 2; k++)
		for (size_t i = 0; sets[k] && i < sets[k]->count; i++) {
			const struct decision *d = &sets[k]->d[i];
			if (!d->is_decision || d->is_mark || d->effective_us > ts_us ||
			    (mark && d->effective_us <= mark->effective_us))
				continue;
			bool later_word = false; /* does the same source speak again, still in effect? */
			for (int k2 = 0; k2 < 2 && !later_word; k2++)
				for (size_t j = 0; sets[k2] && j < sets[k2]->count && !later_word; j++) {
					const struct decision *e = &sets[k2]->d[j];
					later_word = e != d && e->is_decision && !e->is_mark &&
						     e->effective_us <= ts_us &&
						     (e->effective_us > d->effective_us ||
						      (e->effective_us == d->effective_us && e > d)) &&
						     strcmp(e->source, d->source) == 0;
				}
			if (!later_word && restraint(d->phase) > restraint(held))
				held = d->phase;
		}
	return held != PHASE_BEFORE ? held : mark ? mark->phase : PHASE_BEFORE;
}

enum phase phases_at(const struct phases *p, int64_t device, const char *site, int64_t ts_us,
		     bool *near)
{
	const struct decision *d;
	enum phase phase = holding_at(p, device, site, ts_us, &d);
	if (near)
		*near = d && ts_us < d->evidence_us;
	return phase;
}

/*
 * The key of a device's contacts of a host on a site: the device, the site's
 * length (or '-' for none) and name, then the host; stored text holds no NUL
 * but may hold any other byte, so lengths keep the parts apart.
 */
static size_t contact_key(char *out, size_t size, int64_t device, const char *site,
			  const char *host)
{
	int n = site ? snprintf(out, size, "%lld %zu:%s %s", (long long)device, strlen(site), site, host)
		     : snprintf(out, size, "%lld -%s", (long long)device, host);
	return n > 0 && (size_t)n < size ? (size_t)n : 0;
}

/* Reads every first contact (struct phases) in one pass; false when it cannot. */
static bool load_first_contacts(struct phases *p)
{
	static const char sql[] =
		"SELECT o.device_id, s.name, h.name, min(o.ts) FROM observations o"
		" JOIN hosts h ON h.id = o.host_id JOIN kinds k ON k.id = o.kind_id"
		" LEFT JOIN sites s ON s.id = o.site_id"
		" WHERE k.name IN " PHASES_CONTACT_KINDS_SQL
		" GROUP BY o.device_id, o.site_id, o.host_id";
	sqlite3_stmt *st = NULL;
	p->first_contacts = json_object();
	bool ok = p->first_contacts && sqlite3_prepare_v2(p->db, sql, -1, &st, NULL) == SQLITE_OK;
	int rc;
	char key[1200];
	while (ok && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *site = (const char *)sqlite3_column_text(st, 1);
		const char *host = (const char *)sqlite3_column_text(st, 2);
		size_t len = host ? contact_key(key, sizeof key, sqlite3_column_int64(st, 0), site, host) : 0;
		/* A key too long for the buffer: that host is taken as first contacted now (near). */
		if (len)
			ok = json_object_setn_new_nocheck(p->first_contacts, key, len,
						      json_integer(sqlite3_column_int64(st, 3))) == 0;
	}
	ok = ok && rc == SQLITE_DONE;
	sqlite3_finalize(st);
	if (!ok) {
		json_decref(p->first_contacts);
		p->first_contacts = NULL;
		p->first_contacts_failed = true;
	}
	return ok;
}

/* The time of the device's first contact of `host` on `site` (-1: none); false when it cannot tell. */
static bool first_contact(struct phases *p, int64_t device, const char *site, const char *host,
			  int64_t *first)
{
	if (!p->first_contacts && (p->first_contacts_failed || !load_first_contacts(p)))
		return false;
	char key[1200];
	size_t len = contact_key(key, sizeof key, device, site, host);
	json_t *at = len ? json_object_getn(p->first_contacts, key, len) : NULL;
	*first = at ? json_integer_value(at) : -1;
	return len != 0;
}

enum phase phases_contact(struct phases *p, int64_t device, const char *site, const char *host,
			  int64_t ts_us, bool *near)
{
	const struct decision *d;
	enum phase phase = holding_at(p, device, site, ts_us, &d);
	*near = d && ts_us < d->evidence_us;
	if (!*near)
		return phase;
	/*
	 * Inside the window only a host contacted for the first time moves after
	 * the decision: known from the whole database, whatever the report
	 * selects (--since), so that no option changes a phase.
	 */
	int64_t first;
	if (!first_contact(p, device, site, host, &first))
		return phase; /* cannot tell: after the decision, near it */
	if (first >= 0 && first < d->effective_us) {
		*near = false;
		const struct decision *before;
		return holding_at(p, device, site, d->effective_us - 1, &before);
	}
	return phase;
}

static json_t *json_time(int64_t us)
{
	char text[DB_TIME_MAX];
	db_format_time(us, text);
	return json_string(text);
}

static void append_entries(json_t *array, const struct site_decisions *s, bool *failed)
{
	for (size_t i = 0; s && i < s->count; i++) {
		const struct decision *d = &s->d[i];
		static const char *const words[PHASE_COUNT] = { "no_decision", "accept", "reject",
								"partial" };
		json_t *o = json_object();
		if (!o ||
		    json_object_set_new(o, "ts", json_time(d->evidence_us)) ||
		    json_object_set_new(o, "decision", json_string(words[d->phase])) ||
		    json_object_set_new(o, "source", db_json_wire(d->source, strlen(d->source))) ||
		    json_object_set_new(o, "detail", db_json_wire(d->detail, strlen(d->detail))) ||
		    json_object_set_new(o, "effective",
					d->is_decision ? json_time(d->effective_us) : json_null()) ||
		    json_object_set_new(o, "host", d->host[0] ? db_json_wire(d->host, strlen(d->host))
							       : json_null()) ||
		    json_object_set_new(o, "last_without", d->last_without_us >= 0
							       ? json_time(d->last_without_us)
							       : json_null()) ||
		    json_object_set_new(o, "first_with", d->is_decision && !d->is_mark
							     ? json_time(d->evidence_us)
							     : json_null()) ||
		    json_array_append_new(array, o))
			*failed = true;
	}
}

static int compare_ts(const void *a, const void *b)
{
	const char *x = json_string_value(json_object_get(*(json_t *const *)a, "ts"));
	const char *y = json_string_value(json_object_get(*(json_t *const *)b, "ts"));
	return strcmp(x ? x : "", y ? y : "");
}

json_t *phases_consent_json(const struct phases *p, int64_t device, const char *site)
{
	json_t *array = json_array();
	bool failed = !array;
	if (!failed) {
		append_entries(array, site ? find(p, device, site) : NULL, &failed);
		append_entries(array, find(p, device, NULL), &failed);
	}
	/* In time order (ISO 8601 texts of one form sort as times). */
	size_t n = failed ? 0 : json_array_size(array);
	json_t **items = n ? malloc(n * sizeof *items) : NULL;
	if (n && !items)
		failed = true;
	if (items) {
		for (size_t i = 0; i < n; i++)
			items[i] = json_incref(json_array_get(array, i));
		qsort(items, n, sizeof *items, compare_ts);
		json_array_clear(array);
		for (size_t i = 0; i < n; i++)
			if (json_array_append_new(array, items[i]))
				failed = true;
		free(items);
	}
	if (failed) {
		json_decref(array);
		return NULL;
	}
	return array;
}

size_t phases_decision_count(const struct phases *p, int64_t device, const char *site)
{
	size_t n = 0;
	const struct site_decisions *sets[2] = { site ? find(p, device, site) : NULL,
						 find(p, device, NULL) };
	for (int k = 0; k < 2; k++)
		for (size_t i = 0; sets[k] && i < sets[k]->count; i++)
			n += sets[k]->d[i].is_decision;
	return n;
}

bool phases_first_decision(const struct phases *p, int64_t device, const char *site,
			   enum phase *phase, int64_t *effective_us, const char **source)
{
	const struct decision *first = NULL;
	const struct site_decisions *sets[2] = { site ? find(p, device, site) : NULL,
						 find(p, device, NULL) };
	for (int k = 0; k < 2; k++)
		for (size_t i = 0; sets[k] && i < sets[k]->count; i++)
			/* At one time the last in order holds (compare_decisions()): so it is told. */
			if (sets[k]->d[i].is_decision &&
			    (!first || sets[k]->d[i].effective_us <= first->effective_us))
				first = &sets[k]->d[i];
	if (!first)
		return false;
	*phase = first->phase;
	*effective_us = first->effective_us;
	*source = first->source;
	return true;
}

/* ---- What happened in each phase ---- */

enum set_kind { SET_HOSTS, SET_ENTITIES, SET_COOKIES_SET, SET_COOKIES_SENT, SET_IDENTIFIERS,
		SET_NEAR, SET_KINDS };
static const char *const set_names[SET_KINDS] = {
	"tracker_hosts", "entities", "cookies_set", "cookies_sent", "identifier_cookies",
	"near_decision",
};

/* The key of a device's site in p->sets: "<device>\t<site>" ("" for no site). */
static char *sets_key(int64_t device, const char *site)
{
	char *key = NULL;
	return asprintf(&key, "%lld\t%s", (long long)device, site ? site : "") < 0 ? NULL : key;
}

/* The phase object of `device` on `site` for `phase`, made when new (a borrowed reference). */
static json_t *phase_sets(json_t *all, int64_t device, const char *site, enum phase phase)
{
	char *key = sets_key(device, site);
	if (!key)
		return NULL;
	json_t *site_sets = json_object_getn(all, key, strlen(key));
	if (!site_sets) {
		site_sets = json_object();
		if (!site_sets || json_object_setn_new_nocheck(all, key, strlen(key), site_sets)) {
			free(key);
			return NULL;
		}
	}
	free(key);
	json_t *sets = json_object_get(site_sets, phase_name(phase));
	if (!sets) {
		sets = json_object();
		if (!sets || json_object_set_new(site_sets, phase_name(phase), sets))
			return NULL;
		for (int k = 0; k < SET_KINDS; k++) {
			json_t *set = json_object();
			if (!set || json_object_set_new(sets, set_names[k], set))
				return NULL;
		}
	}
	return sets;
}

/*
 * Adds `text` to the set (a JSON object's keys): wire bytes escaped as the
 * report escapes them; a company's name, from a list, kept when it is UTF-8.
 */
static int set_add(json_t *sets, enum set_kind kind, const char *text, struct db_buf *buf)
{
	json_t *set = json_object_get(sets, set_names[kind]);
	if (kind == SET_ENTITIES && json_object_set_new(set, text, json_true()) == 0)
		return 0;
	const char *escaped = db_escape(buf, text, strlen(text), 1);
	return escaped ? json_object_set_new(set, escaped, json_true()) : -1;
}

static const char collect_sql[] =
	"SELECT o.device_id, s.name, o.ts, k.name, h.name, e.name, cn.name, ck.domain, ck.flags,"
	" t.observation_id IS NOT NULL"
	" FROM observations o JOIN kinds k ON k.id = o.kind_id JOIN hosts h ON h.id = o.host_id"
	" LEFT JOIN sites s ON s.id = o.site_id"
	" LEFT JOIN hits t ON t.observation_id = o.id LEFT JOIN entities e ON e.id = t.entity_id"
	" LEFT JOIN cookies ck ON ck.observation_id = o.id"
	" LEFT JOIN cookie_names cn ON cn.id = ck.name_id"
	" WHERE ((t.observation_id IS NOT NULL AND k.name IN " PHASES_CONTACT_KINDS_SQL ")"
	" OR ck.observation_id IS NOT NULL)";
static const char collect_order[] = " ORDER BY o.ts, o.id";

int phases_collect(struct phases *p, sqlite3 *db, const struct db_query *q)
{
	char sql[2048];
	snprintf(sql, sizeof sql, "%s", collect_sql);
	if (!p->sets && !(p->sets = json_object()))
		return -1;
	if (db_query_where(q, sql, sizeof sql - sizeof collect_order) < 0)
		return -1;
	strcat(sql, collect_order);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (db_query_bind(q, st) < 0) {
		sqlite3_finalize(st);
		return -1;
	}
	struct db_buf buf = { 0 };
	int rc, failed = 0;
	while (!failed && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t device = sqlite3_column_int64(st, 0), ts = sqlite3_column_int64(st, 2);
		const char *site = (const char *)sqlite3_column_text(st, 1);
		const char *kind = (const char *)sqlite3_column_text(st, 3);
		const char *host = (const char *)sqlite3_column_text(st, 4);
		const char *entity = (const char *)sqlite3_column_text(st, 5);
		const char *cookie = (const char *)sqlite3_column_text(st, 6);
		bool near = false;
		enum phase phase = cookie || !host ? phases_at(p, device, site, ts, &near)
						   : phases_contact(p, device, site, host, ts, &near);
		json_t *sets = phase_sets(p->sets, device, site, phase);
		if (!sets || !host || !kind) {
			failed = !sets;
			continue;
		}
		if (!cookie) {
			failed |= set_add(sets, SET_HOSTS, host, &buf) < 0;
			if (entity)
				failed |= set_add(sets, SET_ENTITIES, entity, &buf) < 0;
			if (near)
				failed |= set_add(sets, SET_NEAR, host, &buf) < 0;
			continue;
		}
		bool is_set = strcmp(kind, "cookie_set") == 0;
		const char *domain = (const char *)sqlite3_column_text(st, 7);
		char *text = NULL;
		if (asprintf(&text, "%s%s%s", cookie, is_set ? "@" : "->",
			     is_set && domain ? domain : host) < 0) {
			failed = 1;
			break;
		}
		failed |= set_add(sets, is_set ? SET_COOKIES_SET : SET_COOKIES_SENT, text, &buf) < 0;
		if (sqlite3_column_int64(st, 8) & 32 /* STORE_COOKIE_IDENTIFIER */)
			failed |= set_add(sets, SET_IDENTIFIERS, text, &buf) < 0;
		free(text);
	}
	sqlite3_finalize(st);
	db_buf_free(&buf);
	return !failed && rc == SQLITE_DONE ? 0 : -1;
}

static int compare_strings(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A set's keys as a sorted array of strings. */
static json_t *sorted_keys(json_t *set)
{
	size_t n = json_object_size(set);
	const char **keys = n ? malloc(n * sizeof *keys) : NULL;
	json_t *array = json_array();
	if ((n && !keys) || !array) {
		free(keys);
		json_decref(array);
		return NULL;
	}
	size_t i = 0;
	const char *key;
	json_t *value;
	json_object_foreach(set, key, value)
		keys[i++] = key;
	if (n)
		qsort(keys, n, sizeof *keys, compare_strings);
	for (i = 0; i < n; i++)
		if (json_array_append_new(array, json_string(keys[i]))) {
			json_decref(array);
			array = NULL;
			break;
		}
	free(keys);
	return array;
}

static json_t *site_sets(const struct phases *p, int64_t device, const char *site)
{
	char *key = sets_key(device, site);
	json_t *sets = key && p->sets ? json_object_getn(p->sets, key, strlen(key)) : NULL;
	free(key);
	return sets;
}

json_t *phases_sets_json(const struct phases *p, int64_t device, const char *site)
{
	json_t *out = json_object(), *sets = site_sets(p, device, site);
	if (!out)
		return NULL;
	for (int ph = 0; ph < PHASE_COUNT; ph++) {
		json_t *phase = sets ? json_object_get(sets, phase_name((enum phase)ph)) : NULL;
		json_t *o = json_object();
		if (!o || json_object_set_new(out, phase_name((enum phase)ph), o)) {
			json_decref(out);
			return NULL;
		}
		for (int k = 0; k < SET_KINDS; k++) {
			json_t *empty = json_object();
			json_t *array = sorted_keys(phase ? json_object_get(phase, set_names[k]) : empty);
			json_decref(empty);
			if (!array || json_object_set_new(o, set_names[k], array)) {
				json_decref(out);
				return NULL;
			}
		}
	}
	return out;
}

static size_t set_size(json_t *phase, enum set_kind kind)
{
	return phase ? json_object_size(json_object_get(phase, set_names[kind])) : 0;
}

char *phases_verdict(const struct phases *p, int64_t device, const char *site)
{
	json_t *sets = site_sets(p, device, site);
	char *text = NULL;
	size_t len = 0;
	struct db_buf buf = { 0 };
	FILE *out = open_memstream(&text, &len);
	if (!out)
		return NULL;
	/* The site and the source come from the wire: escaped, as every text output is. */
	const char *shown = site ? db_escape(&buf, site, strlen(site), 1) : "(unknown site)";
	fprintf(out, "%s:", shown ? shown : "?");
	enum phase first;
	int64_t effective;
	const char *source;
	bool decided = phases_first_decision(p, device, site, &first, &effective, &source);
	bool first_told = false;
	int parts = 0;
	for (int ph = 0; ph < PHASE_COUNT; ph++) {
		json_t *phase = sets ? json_object_get(sets, phase_name((enum phase)ph)) : NULL;
		size_t hosts = set_size(phase, SET_HOSTS), companies = set_size(phase, SET_ENTITIES);
		size_t ids = set_size(phase, SET_IDENTIFIERS);
		if (!phase || (ph != PHASE_BEFORE && !hosts && !ids))
			continue;
		fprintf(out, "%s %s", parts ? ";" : "", phase_words((enum phase)ph));
		if (ph != PHASE_BEFORE && decided && (enum phase)ph == first) {
			char when[DB_TIME_MAX];
			db_format_time_text(effective, when);
			const char *from = db_escape(&buf, source, strlen(source), 1);
			fprintf(out, " (from %s, %s UTC)", from ? from : "?", when);
			first_told = true;
		}
		fprintf(out, ", %zu tracker host%s of %zu compan%s %s contacted", hosts,
			hosts == 1 ? "" : "s", companies, companies == 1 ? "y" : "ies",
			hosts == 1 ? "was" : "were");
		if (ids)
			fprintf(out, " and %zu identifier cookie%s %s set or sent", ids,
				ids == 1 ? "" : "s", ids == 1 ? "was" : "were");
		parts++;
	}
	if (!parts)
		fputs(" no tracker host was contacted (DNS lookups are not contacts)", out);
	if (decided && !first_told) {
		char when[DB_TIME_MAX];
		db_format_time_text(effective, when);
		const char *from = db_escape(&buf, source, strlen(source), 1);
		fprintf(out, "; the decision: %s (from %s, %s UTC)", phase_words(first) + 6,
			from ? from : "?", when);
	}
	if (!decided)
		fputs("; no consent decision was seen", out);
	fputc('.', out);
	db_buf_free(&buf);
	if (fclose(out) != 0) {
		free(text);
		return NULL;
	}
	return text;
}
