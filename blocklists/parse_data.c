/*
 * parse_data: the readers of the three lists that are data sets rather than
 * filter rules: Disconnect's services.json (+ entities.json), DuckDuckGo's
 * Tracker Data Set (v6 JSON) and the Open Cookie Database (CSV). See
 * parsers.h. The JSON documents are read whole with jansson (json_loadb: the
 * buffer is not NUL-terminated), the CSV by hand, within `len`, since no CSV
 * library is among our dependencies. A file whose overall shape is wrong is
 * an error; a part that is malformed (a number where a domain should be, a
 * row with too few fields) is counted with matcher_skip() and left out, so
 * that one bad entry in a list of thousands does not cost the whole list.
 */
#include "parsers.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

/* The longest name we take (RFC 1035: 253 characters without the final dot). */
enum { DATA_DOMAIN_MAX = 253 };

/* ---- shared helpers ----------------------------------------------------- */

static bool data_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Skips a UTF-8 byte order mark. */
static void data_skip_bom(const char **buf, size_t *len)
{
	if (*len >= 3 && memcmp(*buf, "\xef\xbb\xbf", 3) == 0) {
		*buf += 3;
		*len -= 3;
	}
}

/*
 * A domain as a list writes it, checked and copied in lower case into `out`
 * without a trailing dot. Returns its length, or 0 with `why` set to the
 * reason to skip it (a static string for matcher_skip()).
 */
static size_t data_domain(const char *s, size_t len, char out[DATA_DOMAIN_MAX + 1], const char **why)
{
	if (len > 0 && s[len - 1] == '.')
		len--;
	if (len == 0) {
		*why = "empty domain";
		return 0;
	}
	if (len > DATA_DOMAIN_MAX) {
		*why = "domain too long";
		return 0;
	}
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c == '/') {
			*why = "domain with a path";
			return 0;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		      (c == '.' && i > 0 && s[i - 1] != '.'))) {
			*why = "not a domain";
			return 0;
		}
		out[i] = c;
	}
	/* One label ("com") would make a whole top-level domain a tracker. */
	if (!memchr(s, '.', len)) {
		*why = "single-label domain";
		return 0;
	}
	out[len] = '\0';
	return len;
}

/* A growing byte buffer. */
struct data_buf {
	char *p;
	size_t len, cap;
};

static int data_buf_put(struct data_buf *b, const char *s, size_t n)
{
	if (n > SIZE_MAX - b->len - 1)
		return -1;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap = cap > SIZE_MAX / 2 ? b->len + n + 1 : cap * 2;
		char *p = realloc(b->p, cap);
		if (!p)
			return -1;
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

/*
 * Reads a JSON document that must be an object holding the object `key`
 * (set in *member); `what` names it in errors. The root (which the caller
 * frees), or NULL with `err` set.
 */
static json_t *data_load_json(const char *buf, size_t len, const char *what, const char *key,
			      json_t **member, struct parse_error *err)
{
	data_skip_bom(&buf, &len);
	size_t i = 0;
	while (i < len && data_space(buf[i]))
		i++;
	if (i == len) {
		parse_fail(err, 0, "%s: empty file", what);
		return NULL;
	}
	json_error_t jerr;
	json_t *root = json_loadb(buf, len, 0, &jerr);
	if (!root) {
		parse_fail(err, jerr.line > 0 ? (unsigned)jerr.line : 0, "%s: not JSON: %s", what,
			   jerr.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		parse_fail(err, 1, "%s: not a JSON object at the top level", what);
		json_decref(root);
		return NULL;
	}
	*member = json_object_get(root, key);
	if (!json_is_object(*member)) {
		parse_fail(err, 0, "%s: no \"%s\" object", what, key);
		json_decref(root);
		return NULL;
	}
	return root;
}

/*
 * Adds an entity entry for a domain as written in a list; a domain that is
 * not one is counted as skipped. 0, or -1 when the matcher failed.
 */
static int data_add_entity(struct matcher *m, int list, const char *domain, size_t len,
			   const char *entity, const char *category, int verdict)
{
	char name[DATA_DOMAIN_MAX + 1];
	const char *why = NULL;
	size_t n = data_domain(domain, len, name, &why);
	if (n == 0) {
		matcher_skip(m, list, why, 0);
		return 0;
	}
	return matcher_add_entity(m, list, name, n, entity, category, verdict);
}

/*
 * After a whole document: one that gave no entry at all is an error, not an
 * empty list (as for the text formats), so that the caller keeps the old one.
 */
static int data_check_entries(struct matcher *m, int list, uint32_t before, const char *what,
			      struct parse_error *err)
{
	const struct list_info *info = matcher_list_info(m, list);
	if (!info || info->rules > before)
		return 0;
	if (info->skip_reasons > 0)
		return parse_fail(err, info->skips[0].first_line, "%s: no usable entry (%u skipped, first: %s)",
				  what, info->skipped, info->skips[0].reason);
	return parse_fail(err, 0, "%s: no entries", what);
}

static uint32_t data_rules(struct matcher *m, int list)
{
	const struct list_info *info = matcher_list_info(m, list);
	return info ? info->rules : 0;
}

/* ---- Disconnect --------------------------------------------------------- */

static const char *const disconnect_default_not_tracking[] = { "Content", "ConsentManagers", NULL };

/*
 * Categories taken last. services.json lists "Email" first, and the
 * matcher reports a domain's first category as its primary one: without
 * this, google-analytics.com and doubleclick.net would be "Email" trackers
 * (their pixels in mail) rather than "Analytics" and "Advertising".
 */
static const char *const disconnect_late[] = { "Email", "EmailAggressive", NULL };

static bool disconnect_in(const char *const *names, const char *name)
{
	for (; *names; names++)
		if (strcmp(*names, name) == 0)
			return true;
	return false;
}

/* A JSON array of domains, each given `entity`, `category` and `verdict`; anything else in it is counted. */
static int disconnect_domains(struct matcher *m, int list, json_t *array, const char *entity,
			      const char *category, int verdict)
{
	if (!json_is_array(array)) {
		matcher_skip(m, list, "malformed entity", 0);
		return 0;
	}
	size_t i;
	json_t *d;
	json_array_foreach(array, i, d) {
		if (!json_is_string(d)) {
			matcher_skip(m, list, "domain not a string", 0);
			continue;
		}
		if (data_add_entity(m, list, json_string_value(d), json_string_length(d),
				    *entity ? entity : NULL, category, verdict) < 0)
			return -1;
	}
	return 0;
}

/* One {"Entity": {"https://home/": [domains], "dnt": "eff"}} of a category. */
static int disconnect_entry(struct matcher *m, int list, json_t *entry, const char *category,
			    int verdict)
{
	if (!json_is_object(entry)) {
		matcher_skip(m, list, "entry not an object", 0);
		return 0;
	}
	const char *entity;
	json_t *body;
	json_object_foreach(entry, entity, body) {
		if (!json_is_object(body)) {
			matcher_skip(m, list, "entity not an object", 0);
			continue;
		}
		const char *key;
		json_t *value;
		json_object_foreach(body, key, value) {
			/* Flags beside the home page: "performance", "session-replay", "dnt". */
			if (json_is_string(value))
				continue;
			if (disconnect_domains(m, list, value, entity, category, verdict) < 0)
				return -1;
		}
	}
	return 0;
}

/* entities.json: {"entities": {"Entity": {"properties": [...], "resources": [...]}}}. */
static int disconnect_entities(struct matcher *m, int list, json_t *entities)
{
	const char *entity;
	json_t *body;
	json_object_foreach(entities, entity, body) {
		if (!json_is_object(body)) {
			matcher_skip(m, list, "entity not an object", 0);
			continue;
		}
		static const char *const parts[] = { "properties", "resources" };
		for (size_t p = 0; p < 2; p++) {
			json_t *domains = json_object_get(body, parts[p]);
			if (domains && disconnect_domains(m, list, domains, entity, NULL, -1) < 0)
				return -1;
		}
	}
	return 0;
}

int parse_disconnect(struct matcher *m, int list, const char *services, size_t services_len,
		     const char *entities, size_t entities_len, const char *const *not_tracking,
		     struct parse_error *err)
{
	if (!not_tracking)
		not_tracking = disconnect_default_not_tracking;
	uint32_t before = data_rules(m, list);
	/* Both documents are checked before anything is added. */
	json_t *categories;
	json_t *sroot = data_load_json(services, services_len, "services.json", "categories", &categories, err);
	if (!sroot)
		return -1;
	json_t *eroot = NULL, *eentities = NULL;
	if (entities) {
		eroot = data_load_json(entities, entities_len, "entities.json", "entities", &eentities, err);
		if (!eroot) {
			json_decref(sroot);
			return -1;
		}
	}

	int rc = 0;
	for (int late = 0; late < 2; late++) {
		const char *category;
		json_t *entries;
		json_object_foreach(categories, category, entries) {
			if (disconnect_in(disconnect_late, category) != (late == 1))
				continue;
			if (!json_is_array(entries)) {
				matcher_skip(m, list, "category not an array", 0);
				continue;
			}
			int verdict = disconnect_in(not_tracking, category) ? 0 : 1;
			size_t i;
			json_t *entry;
			json_array_foreach(entries, i, entry) {
				if (disconnect_entry(m, list, entry, category, verdict) < 0) {
					rc = -1;
					goto out;
				}
			}
		}
	}
	if (eentities && disconnect_entities(m, list, eentities) < 0)
		rc = -1;
out:
	json_decref(sroot);
	json_decref(eroot);
	if (rc < 0)
		return parse_fail(err, 0, "out of memory");
	return data_check_entries(m, list, before, "services.json", err);
}

/* ---- DuckDuckGo Tracker Data Set ---------------------------------------- */

static const char *tds_string(json_t *object, const char *key)
{
	json_t *v = json_object_get(object, key);
	return json_is_string(v) && json_string_length(v) > 0 ? json_string_value(v) : NULL;
}

/*
 * The company a TDS entity name stands for, in "domains": the company its
 * trackers were given when their owner has an owner ("Google Ads" is owned
 * by "Google LLC", shown as "Google"), else its displayName in "entities",
 * else the name.
 */
static const char *tds_company(json_t *owned, json_t *entities, const char *name)
{
	const char *company = tds_string(owned, name);
	if (!company && json_is_object(entities))
		company = tds_string(json_object_get(entities, name), "displayName");
	return company ? company : name;
}

/*
 * Appends the domains of a JSON array to a "$domain=" text, each with
 * `prefix` ("" or "~"). Domains that are not one are counted as skipped.
 */
static int tds_domains(struct matcher *m, int list, json_t *array, const char *prefix,
		       struct data_buf *out)
{
	if (!array)
		return 0;
	if (!json_is_array(array)) {
		matcher_skip(m, list, "malformed rule", 0);
		return 0;
	}
	size_t i;
	json_t *d;
	json_array_foreach(array, i, d) {
		char name[DATA_DOMAIN_MAX + 1];
		const char *why = "domain not a string";
		size_t n = 0;
		if (json_is_string(d))
			n = data_domain(json_string_value(d), json_string_length(d), name, &why);
		if (n == 0) {
			matcher_skip(m, list, why, 0);
			continue;
		}
		if ((out->len && data_buf_put(out, "|", 1) < 0) ||
		    data_buf_put(out, prefix, strlen(prefix)) < 0 || data_buf_put(out, name, n) < 0)
			return -1;
	}
	return 0;
}

/* The RT_ bits of a JSON array of type names. */
static uint32_t tds_types(struct matcher *m, int list, json_t *array)
{
	uint32_t types = 0;
	if (!array)
		return 0;
	if (!json_is_array(array)) {
		matcher_skip(m, list, "malformed rule", 0);
		return 0;
	}
	size_t i;
	json_t *t;
	json_array_foreach(array, i, t) {
		uint32_t bit = json_is_string(t)
			? resource_type_from_name(json_string_value(t), json_string_length(t)) : 0;
		if (!bit)
			matcher_skip(m, list, "unknown resource type", 0);
		types |= bit;
	}
	return types;
}

/*
 * One of a tracker's "rules": {"rule": regex, "action"?: "ignore",
 * "exceptions"?: {domains, types}, "options"?: {domains, types}}.
 * "options" restricts the rule to the sites and types it names.
 */
static int tds_rule(struct matcher *m, int list, const char *domain, size_t domain_len, json_t *rule,
		    struct data_buf sites[2], size_t *budget)
{
	const char *regex = json_is_object(rule) ? tds_string(rule, "rule") : NULL;
	if (!regex) {
		matcher_skip(m, list, "malformed rule", 0);
		return 0;
	}
	size_t cost = matcher_regex_cost(regex, json_string_length(json_object_get(rule, "rule")));
	if (cost == 0) {
		matcher_skip(m, list, "regex too complex", 0);
		return 0;
	}
	if (cost > *budget) {
		matcher_skip(m, list, "regex budget exceeded", 0);
		return 0;
	}
	struct rule_options opts = { 0 };
	json_t *action = json_object_get(rule, "action");
	if (action) {
		const char *a = json_string_value(action);
		if (a && strcmp(a, "ignore") == 0)
			opts.flags |= RULE_IGNORE;
		else if (!a || (strcmp(a, "block") != 0 && strncmp(a, "block-ctl-", 10) != 0)) {
			/* Click-to-load ("block-ctl-fb") blocks until a click: a block. */
			matcher_skip(m, list, "unsupported rule action", 0);
			return 0;
		}
	}
	/* sites[0]: the sites the rule is for; sites[1]: its exception's sites. */
	for (int k = 0; k < 2; k++) {
		sites[k].len = 0;
		if (sites[k].p)
			sites[k].p[0] = '\0';
	}
	json_t *options = json_object_get(rule, "options");
	json_t *exceptions = json_object_get(rule, "exceptions");
	if ((options && !json_is_object(options)) || (exceptions && !json_is_object(exceptions))) {
		matcher_skip(m, list, "malformed rule", 0);
		return 0;
	}
	uint32_t except_types = 0;
	if (options) {
		if (tds_domains(m, list, json_object_get(options, "domains"), "", &sites[0]) < 0)
			return -1;
		opts.types = tds_types(m, list, json_object_get(options, "types"));
	}
	if (exceptions) {
		if (tds_domains(m, list, json_object_get(exceptions, "domains"), "", &sites[1]) < 0)
			return -1;
		except_types = tds_types(m, list, json_object_get(exceptions, "types"));
	}
	if (sites[0].len) {
		opts.domains = sites[0].p;
		opts.domains_len = sites[0].len;
	}
	int rc = matcher_add_regex_rule(m, list, domain, domain_len, regex, &opts,
					sites[1].len ? sites[1].p : NULL, sites[1].len, except_types);
	if (rc == 1)
		matcher_skip(m, list, "regex does not compile", 0);
	else
		*budget -= cost;
	return rc < 0 ? -1 : 0;
}

/*
 * One tracker. The company is its owner's owner when it has one, shown by
 * its displayName in "entities"; `owned` learns it for the owner's name.
 */
static int tds_tracker(struct matcher *m, int list, const char *key, json_t *tracker, json_t *entities,
		       json_t *owned, struct data_buf sites[2], size_t *budget)
{
	if (!json_is_object(tracker)) {
		matcher_skip(m, list, "tracker not an object", 0);
		return 0;
	}
	char domain[DATA_DOMAIN_MAX + 1];
	const char *why = NULL;
	size_t dlen = data_domain(key, strlen(key), domain, &why);
	if (dlen == 0) {
		matcher_skip(m, list, why, 0);
		return 0;
	}
	const char *def = tds_string(tracker, "default");
	int verdict;
	if (def && strcmp(def, "block") == 0)
		verdict = 1;
	else if (def && strcmp(def, "ignore") == 0)
		verdict = 0;
	else {
		matcher_skip(m, list, "tracker without default", 0);
		return 0;
	}
	json_t *owner = json_object_get(tracker, "owner");
	const char *entity = NULL;
	if (json_is_object(owner)) {
		const char *by = tds_string(owner, "ownedBy");
		const char *name = by ? by : tds_string(owner, "name");
		const char *display = NULL;
		if (name && json_is_object(entities))
			display = tds_string(json_object_get(entities, name), "displayName");
		if (!display)
			display = tds_string(owner, "displayName");
		entity = display ? display : name;
		const char *own_name = tds_string(owner, "name");
		if (by && own_name && entity && !json_object_get(owned, own_name) &&
		    json_object_set_new(owned, own_name, json_string(entity)) < 0)
			return -1;
	}

	json_t *categories = json_object_get(tracker, "categories");
	size_t added = 0;
	if (json_is_array(categories)) {
		size_t i;
		json_t *c;
		json_array_foreach(categories, i, c) {
			if (!json_is_string(c) || json_string_length(c) == 0) {
				matcher_skip(m, list, "category not a string", 0);
				continue;
			}
			if (matcher_add_entity(m, list, domain, dlen, entity, json_string_value(c),
					       verdict) < 0)
				return -1;
			added++;
		}
	} else if (categories && !json_is_null(categories)) {
		matcher_skip(m, list, "category not a string", 0);
	}
	if (added == 0 && matcher_add_entity(m, list, domain, dlen, entity, NULL, verdict) < 0)
		return -1;

	json_t *rules = json_object_get(tracker, "rules");
	if (!rules)
		return 0;
	if (!json_is_array(rules)) {
		matcher_skip(m, list, "malformed rule", 0);
		return 0;
	}
	size_t i;
	json_t *rule;
	json_array_foreach(rules, i, rule) {
		if (tds_rule(m, list, domain, dlen, rule, sites, budget) < 0)
			return -1;
	}
	return 0;
}

int parse_tds(struct matcher *m, int list, const char *buf, size_t len, struct parse_error *err)
{
	uint32_t before = data_rules(m, list);
	json_t *trackers;
	json_t *root = data_load_json(buf, len, "Tracker Data Set", "trackers", &trackers, err);
	if (!root)
		return -1;
	json_t *entities = json_object_get(root, "entities");
	json_t *domains = json_object_get(root, "domains");
	json_t *cnames = json_object_get(root, "cnames");
	/* Only "trackers" is needed; the others, when malformed, are left out. */
	if ((entities && !json_is_object(entities)) || (domains && !json_is_object(domains)) ||
	    (cnames && !json_is_object(cnames)))
		matcher_skip(m, list, "malformed top-level object", 0);

	int rc = 0;
	struct data_buf sites[2] = { { 0 }, { 0 } };
	size_t budget = MATCHER_REGEX_BUDGET;
	json_t *owned = json_object();   /* owner name -> company, for "domains" */
	if (!owned) {
		json_decref(root);
		return parse_fail(err, 0, "out of memory");
	}
	const char *key;
	json_t *value;
	json_object_foreach(trackers, key, value) {
		if (tds_tracker(m, list, key, value, entities, owned, sites, &budget) < 0) {
			rc = -1;
			goto out;
		}
	}
	if (json_is_object(domains)) {
		json_object_foreach(domains, key, value) {
			if (!json_is_string(value) || json_string_length(value) == 0) {
				matcher_skip(m, list, "entity not a string", 0);
				continue;
			}
			const char *entity = tds_company(owned, entities, json_string_value(value));
			if (data_add_entity(m, list, key, strlen(key), entity, NULL, -1) < 0) {
				rc = -1;
				goto out;
			}
		}
	}
	if (json_is_object(cnames)) {
		json_object_foreach(cnames, key, value) {
			char name[DATA_DOMAIN_MAX + 1], target[DATA_DOMAIN_MAX + 1];
			const char *why = NULL;
			size_t nlen = data_domain(key, strlen(key), name, &why), tlen = 0;
			if (nlen && !json_is_string(value))
				why = "cname target not a string";
			else if (nlen)
				tlen = data_domain(json_string_value(value), json_string_length(value),
						   target, &why);
			if (tlen == 0) {
				matcher_skip(m, list, why, 0);
				continue;
			}
			if (matcher_add_cname(m, list, name, nlen, target, tlen) < 0) {
				rc = -1;
				goto out;
			}
		}
	}
out:
	free(sites[0].p);
	free(sites[1].p);
	json_decref(owned);
	json_decref(root);
	if (rc < 0)
		return parse_fail(err, 0, "out of memory");
	return data_check_entries(m, list, before, "Tracker Data Set", err);
}

/* ---- Open Cookie Database ----------------------------------------------- */

/*
 * RFC 4180 records, read one at a time: fields separated by ',', records by
 * CRLF, LF or a lone CR; a field in double quotes may hold commas, line ends
 * and "" for a quote.
 */
enum { COOKIEDB_MAX_FIELDS = 32 };

struct cookiedb_reader {
	const char *buf;
	size_t len, pos;
	unsigned line;                  /* of the next byte */
	struct data_buf text;           /* the record's fields, each NUL-terminated */
	size_t field_at[COOKIEDB_MAX_FIELDS];
	size_t field_len[COOKIEDB_MAX_FIELDS];
	unsigned fields;                /* in the record (may exceed COOKIEDB_MAX_FIELDS) */
};

enum cookiedb_record { CR_END, CR_RECORD, CR_BLANK, CR_BAD, CR_NOMEM };

/* Consumes a line end at pos, if any; true when there was one. */
static bool cookiedb_eol(struct cookiedb_reader *r)
{
	if (r->pos < r->len && r->buf[r->pos] == '\r') {
		r->pos++;
		if (r->pos < r->len && r->buf[r->pos] == '\n')
			r->pos++;
		r->line++;
		return true;
	}
	if (r->pos < r->len && r->buf[r->pos] == '\n') {
		r->pos++;
		r->line++;
		return true;
	}
	return false;
}

static void cookiedb_skip_to_eol(struct cookiedb_reader *r)
{
	while (r->pos < r->len && !cookiedb_eol(r))
		r->pos++;
}

/*
 * Reads the next record. CR_BAD (with `why`) when its quoting is broken:
 * the rest of its line is passed over. `start` is the line it began on.
 */
static enum cookiedb_record cookiedb_next(struct cookiedb_reader *r, unsigned *start, const char **why)
{
	*start = r->line;
	if (r->pos >= r->len)
		return CR_END;
	if (cookiedb_eol(r))
		return CR_BLANK;
	r->text.len = 0;
	r->fields = 0;
	for (;;) {
		/* One field. */
		size_t at = r->text.len;
		if (r->pos < r->len && r->buf[r->pos] == '"') {
			r->pos++;
			for (;;) {
				const char *q = r->pos < r->len ? memchr(r->buf + r->pos, '"', r->len - r->pos) : NULL;
				if (!q) {
					r->pos = r->len;
					*why = "unterminated quote";
					return CR_BAD;
				}
				size_t n = (size_t)(q - (r->buf + r->pos));
				for (size_t i = 0; i < n; i++)
					if (r->buf[r->pos + i] == '\n' ||
					    (r->buf[r->pos + i] == '\r' &&
					     (r->pos + i + 1 >= r->len || r->buf[r->pos + i + 1] != '\n')))
						r->line++;
				if (data_buf_put(&r->text, r->buf + r->pos, n) < 0)
					return CR_NOMEM;
				r->pos += n + 1;
				if (r->pos < r->len && r->buf[r->pos] == '"') {
					if (data_buf_put(&r->text, "\"", 1) < 0)
						return CR_NOMEM;
					r->pos++;
					continue;
				}
				break;
			}
			if (r->pos < r->len && r->buf[r->pos] != ',' && r->buf[r->pos] != '\r' &&
			    r->buf[r->pos] != '\n') {
				cookiedb_skip_to_eol(r);
				*why = "text after a closing quote";
				return CR_BAD;
			}
		} else {
			size_t end = r->pos;
			while (end < r->len && r->buf[end] != ',' && r->buf[end] != '\r' && r->buf[end] != '\n')
				end++;
			if (data_buf_put(&r->text, r->buf + r->pos, end - r->pos) < 0)
				return CR_NOMEM;
			r->pos = end;
		}
		if (data_buf_put(&r->text, "", 1) < 0) /* its NUL */
			return CR_NOMEM;
		if (r->fields < COOKIEDB_MAX_FIELDS) {
			r->field_at[r->fields] = at;
			r->field_len[r->fields] = r->text.len - 1 - at;
		}
		if (r->fields < UINT32_MAX)
			r->fields++;
		if (r->pos < r->len && r->buf[r->pos] == ',') {
			r->pos++;
			continue;
		}
		cookiedb_eol(r);
		return CR_RECORD;
	}
}

/* A field without the white space around it (cut in place); "" for no column. */
static const char *cookiedb_trim(struct cookiedb_reader *r, int column)
{
	if (column < 0)
		return "";
	char *s = r->text.p + r->field_at[column];
	size_t n = r->field_len[column];
	while (n > 0 && data_space(s[n - 1]))
		n--;
	s[n] = '\0';
	while (*s && data_space(*s))
		s++;
	return s;
}

enum { COL_PLATFORM, COL_CATEGORY, COL_NAME, COL_WILDCARD, COL_DOMAIN, COL_RETENTION, COL_CONTROLLER,
       COL_COUNT, COL_REQUIRED = COL_WILDCARD + 1 };

static const char *const cookiedb_columns[COL_COUNT] = {
	"Platform", "Category", "Cookie / Data Key name", "Wildcard match",
	"Domain", "Retention period", "Data Controller",
};

int parse_cookiedb(struct matcher *m, int list, const char *buf, size_t len, struct parse_error *err)
{
	data_skip_bom(&buf, &len);
	const char *nul = len ? memchr(buf, '\0', len) : NULL;
	if (nul) {
		unsigned line = 1;
		for (const char *p = buf; p < nul; p++)
			line += *p == '\n';
		return parse_fail(err, line, "binary data (a NUL byte): not a CSV file");
	}
	uint32_t before = data_rules(m, list);
	struct cookiedb_reader r = { .buf = buf, .len = len, .line = 1 };
	unsigned start;
	const char *why = NULL;
	enum cookiedb_record rec;
	/* The header: the first record that is not a blank line. */
	while ((rec = cookiedb_next(&r, &start, &why)) == CR_BLANK)
		;
	if (rec == CR_NOMEM) {
		free(r.text.p);
		return parse_fail(err, start, "out of memory");
	}
	if (rec != CR_RECORD) {
		free(r.text.p);
		return parse_fail(err, start, "no header");
	}
	int col[COL_COUNT];
	for (int c = 0; c < COL_COUNT; c++)
		col[c] = -1;
	unsigned header_fields = r.fields;
	for (unsigned f = 0; f < r.fields && f < COOKIEDB_MAX_FIELDS; f++) {
		const char *name = cookiedb_trim(&r, (int)f);
		for (int c = 0; c < COL_COUNT; c++)
			if (col[c] < 0 && strcmp(name, cookiedb_columns[c]) == 0)
				col[c] = (int)f;
	}
	for (int c = 0; c < COL_REQUIRED; c++) {
		if (col[c] < 0) {
			free(r.text.p);
			return parse_fail(err, start, "no header: no column \"%s\"", cookiedb_columns[c]);
		}
	}

	int rc = 0;
	while ((rec = cookiedb_next(&r, &start, &why)) != CR_END) {
		if (rec == CR_BLANK)
			continue;
		if (rec == CR_NOMEM) {
			rc = -1;
			break;
		}
		if (rec == CR_BAD) {
			matcher_skip(m, list, why, start);
			continue;
		}
		if (r.fields != header_fields) {
			matcher_skip(m, list, "wrong number of fields", start);
			continue;
		}
		const char *name = cookiedb_trim(&r, col[COL_NAME]);
		if (!*name) {
			matcher_skip(m, list, "empty cookie name", start);
			continue;
		}
		const char *wildcard = cookiedb_trim(&r, col[COL_WILDCARD]);
		if (strcmp(wildcard, "0") != 0 && strcmp(wildcard, "1") != 0 && *wildcard) {
			matcher_skip(m, list, "wildcard match not 0 or 1", start);
			continue;
		}
		struct cookie_info cookie = {
			.name = name,
			.prefix = strcmp(wildcard, "1") == 0,
			.platform = cookiedb_trim(&r, col[COL_PLATFORM]),
			.category = cookiedb_trim(&r, col[COL_CATEGORY]),
			.domain = cookiedb_trim(&r, col[COL_DOMAIN]),
			.retention = cookiedb_trim(&r, col[COL_RETENTION]),
			.controller = cookiedb_trim(&r, col[COL_CONTROLLER]),
			.list = list,
		};
		if (matcher_add_cookie(m, list, &cookie) < 0) {
			rc = -1;
			break;
		}
	}
	free(r.text.p);
	if (rc < 0)
		return parse_fail(err, start, "out of memory");
	return data_check_entries(m, list, before, "cookie database", err);
}
