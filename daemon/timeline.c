/* timeline: see timeline.h. */
#include "timeline.h"

#include "hash.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "version.h"

enum { DEVICE_SLOTS = 1 << 12, DEVICE_MAX = DEVICE_SLOTS / 2, CNAME_SLOTS = 1 << 14,
       SET_CACHE = 256, KEY_MAX = 48 };
#define DNS_REPEAT_US 1000000ULL
/*
 * A cookie sent again (same device, host, name and value) within a second of
 * the one stored is the same event: a page's burst of requests carries the
 * same cookies on each. Once per second at most, not once: the phases of a
 * report are decided afterwards and need the cookie on each side of a
 * decision. The entry holds the exact bytes compared (a hash could be made
 * to collide from the wire and hide a cookie); longer ones are always stored.
 */
#define COOKIE_REPEAT_US 1000000ULL
enum { COOKIE_SLOTS = 4096, COOKIE_KEY_MAX = 240 };

struct cookie_seen {
	uint64_t ts;
	uint16_t len;
	char key[COOKIE_KEY_MAX];
};

/*
 * The matcher's answers for the names (and sites) asked lately: the same
 * few hundred hosts come again and again, and an answer depends on the
 * name, the site and the matcher only. Direct-mapped; names longer than
 * MATCH_KEY_MAX are looked up each time.
 */
enum { MATCH_SLOTS = 2048, MATCH_KEY_MAX = 112 };

struct match_cached {
	uint64_t generation;        /* the matcher's it was asked of; 0: empty */
	uint64_t hash;
	uint8_t has_site;
	char host[MATCH_KEY_MAX], site[MATCH_KEY_MAX];
	struct match match;
};

/*
 * matcher_lookup_url() of request URLs asked lately, by two independent
 * 64-bit hashes of the URL and site (requests repeat: beacons, polling).
 */
enum { URL_MATCH_SLOTS = 4096 };

struct url_match_cached {
	uint64_t generation;        /* 0: empty */
	uint64_t hash, check;
	struct match match;
};

/* The Open Cookie Database's entry for cookie names asked lately (NULL: none). */
enum { COOKIE_INFO_SLOTS = 1024, COOKIE_NAME_MAX = 64 };

struct cookie_info_cached {
	uint64_t generation;
	char name[COOKIE_NAME_MAX];
	const struct cookie_info *info;
};

/* What the timeline knows of a device between observations. */
struct device_state {
	char key[KEY_MAX];          /* "" when the slot is empty */
	uint64_t hash;
	int64_t visit;              /* the visit it is on, 0 for none */
	char site[OBS_HOST_MAX];
	uint64_t last_contact_us;   /* its latest contact (0: none yet) */
	uint64_t query_hash[2];     /* its latest DNS query's and answer's names, and when */
	uint64_t query_us[2];
	const char *name;           /* configured */
	/* The site its latest request named (Referer, Origin) with no visit: for
	   that request's cookies and consent signals, which follow it. */
	char request_site[OBS_HOST_MAX];
	uint64_t request_flow, request_us;
};

/*
 * CNAME chains from DNS answers, by the name asked: direct-mapped, a new
 * chain replaces whatever was in its slot (bounded under floods).
 */
struct cname_entry {
	uint64_t hash;
	char *name;                 /* the name asked */
	char *chain;                /* the names after it, each ending in NUL */
	uint8_t count;
};

/* JSON arrays of names, kept by what they were made from. */
struct set_entry {
	uint64_t key;
	uint64_t generation;
	char *json;
};

/* Address text, kept for the bytes it was made from: the same few come again and again. */
struct addr_text {
	uint8_t valid, ip_version, has_mac;
	uint8_t addr[16], mac[6];
	char text[48], mac_text[18];
};

struct timeline {
	struct addr_text client, server;
	struct store *store;
	const struct daemon_config *config;
	struct timeline_options options;
	const struct matcher *matcher;
	uint64_t generation;        /* of the matcher: cached sets are for one matcher */
	struct device_state *devices;
	size_t device_count;
	struct cname_entry *cnames;
	struct set_entry lists_sets[SET_CACHE], category_sets[SET_CACHE];
	struct cookie_seen *cookies_seen;  /* COOKIE_SLOTS */
	struct match_cached *matches;      /* MATCH_SLOTS */
	struct url_match_cached *url_matches; /* URL_MATCH_SLOTS */
	struct cookie_info_cached *cookie_infos; /* COOKIE_INFO_SLOTS */
	struct device_state *last_device;  /* the latest device_state() found: rows come in runs of one device */
};

void timeline_options_defaults(struct timeline_options *options)
{
	options->visit_pause_us = 2ULL * 1000000;
	options->visit_timeout_us = 30ULL * 60 * 1000000;
}

static uint64_t hash_bytes(const void *p, size_t len, uint64_t h)
{
	const unsigned char *b = p;
	for (size_t i = 0; i < len; i++) {
		h ^= b[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static uint64_t hash_text(const char *s)
{
	uint64_t h = hash_bytes(s, strlen(s), 1469598103934665603ULL);
	return h ? h : 1;
}

struct timeline *timeline_new(struct store *store, const struct daemon_config *config,
			      const struct timeline_options *options)
{
	struct timeline *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	t->devices = calloc(DEVICE_SLOTS, sizeof *t->devices);
	t->cnames = calloc(CNAME_SLOTS, sizeof *t->cnames);
	t->cookies_seen = calloc(COOKIE_SLOTS, sizeof *t->cookies_seen);
	t->matches = calloc(MATCH_SLOTS, sizeof *t->matches);
	t->url_matches = calloc(URL_MATCH_SLOTS, sizeof *t->url_matches);
	t->cookie_infos = calloc(COOKIE_INFO_SLOTS, sizeof *t->cookie_infos);
	if (!t->devices || !t->cnames || !t->cookies_seen || !t->matches || !t->url_matches ||
	    !t->cookie_infos) {
		timeline_free(t);
		return NULL;
	}
	t->store = store;
	t->config = config;
	t->options = *options;
	return t;
}

void timeline_set_matcher(struct timeline *t, const struct matcher *m)
{
	t->matcher = m;
	t->generation++;
}

void timeline_free(struct timeline *t)
{
	if (!t)
		return;
	for (size_t i = 0; t->cnames && i < CNAME_SLOTS; i++) {
		free(t->cnames[i].name);
		free(t->cnames[i].chain);
	}
	for (size_t i = 0; i < SET_CACHE; i++) {
		free(t->lists_sets[i].json);
		free(t->category_sets[i].json);
	}
	free(t->cnames);
	free(t->cookies_seen);
	free(t->matches);
	free(t->url_matches);
	free(t->cookie_infos);
	free(t->devices);
	free(t);
}

/* matcher_lookup_url() of a URL (and site), remembered (see struct url_match_cached). */
static void lookup_url(struct timeline *t, const char *url, size_t url_len, const char *site,
		       struct match *out)
{
	if (!t->url_matches) {
		matcher_lookup_url(t->matcher, url, url_len, site, 0, out);
		return;
	}
	uint64_t h = hash_words(url, url_len, 1469598103934665603ULL);
	uint64_t check = hash_words(url, url_len, 0x9e3779b97f4a7c15ULL);
	if (site) {
		h = hash_words(site, strlen(site), h + 0x51ed27);
		check = hash_words(site, strlen(site), check ^ 0x2545f4914f6cdd1dULL);
	}
	struct url_match_cached *e = &t->url_matches[h % URL_MATCH_SLOTS];
	if (e->generation == t->generation && e->hash == h && e->check == check) {
		*out = e->match;
		return;
	}
	matcher_lookup_url(t->matcher, url, url_len, site, 0, out);
	e->generation = t->generation;
	e->hash = h;
	e->check = check;
	e->match = *out;
}

/* matcher_lookup_host() of a name (and site), remembered (see struct match_cached). */
static void lookup_host(struct timeline *t, const char *host, const char *site, struct match *out)
{
	size_t host_len = strlen(host), site_len = site ? strlen(site) : 0;
	if (host_len >= MATCH_KEY_MAX || site_len >= MATCH_KEY_MAX) {
		matcher_lookup_host(t->matcher, host, host_len, site, out);
		return;
	}
	uint64_t h = hash_words(host, host_len, 1469598103934665603ULL);
	if (site)
		h = hash_words(site, site_len, h + 0x51ed27);
	struct match_cached *e = &t->matches[h % MATCH_SLOTS];
	if (e->generation == t->generation && e->hash == h && e->has_site == (site != NULL) &&
	    memcmp(e->host, host, host_len + 1) == 0 && (!site || memcmp(e->site, site, site_len + 1) == 0)) {
		*out = e->match;
		return;
	}
	matcher_lookup_host(t->matcher, host, host_len, site, out);
	e->generation = t->generation;
	e->hash = h;
	e->has_site = site != NULL;
	memcpy(e->host, host, host_len + 1);
	if (site)
		memcpy(e->site, site, site_len + 1);
	e->match = *out;
}

/* matcher_lookup_cookie() of a cookie name, remembered. */
static const struct cookie_info *lookup_cookie(struct timeline *t, const char *name)
{
	size_t len = strlen(name);
	if (len >= COOKIE_NAME_MAX)
		return matcher_lookup_cookie(t->matcher, name, len);
	struct cookie_info_cached *e =
		&t->cookie_infos[hash_words(name, len, 1469598103934665603ULL) % COOKIE_INFO_SLOTS];
	if (e->generation != t->generation || memcmp(e->name, name, len + 1) != 0) {
		e->generation = t->generation;
		memcpy(e->name, name, len + 1);
		e->info = matcher_lookup_cookie(t->matcher, name, len);
	}
	return e->info;
}

/* A copy of a string into a buffer of `size`, cut to fit (as snprintf "%s" does). */
static void copy_text(char *dst, size_t size, const char *src)
{
	size_t len = strnlen(src, size - 1);
	memcpy(dst, src, len);
	dst[len] = '\0';
}

/* ---- Devices ---- */

static struct device_state *device_state_find(struct timeline *t, const char *key, const char *mac,
					      const char *address);

static struct device_state *device_state(struct timeline *t, const char *key, const char *mac,
					 const char *address)
{
	struct device_state *last = t->last_device;
	if (last && last->key[0] && strcmp(last->key, key) == 0) {
		if (!last->name && t->config->device_count)
			last->name = config_device_name(t->config, mac, address);
		return last;
	}
	t->last_device = device_state_find(t, key, mac, address);
	return t->last_device;
}

static struct device_state *device_state_find(struct timeline *t, const char *key, const char *mac,
					      const char *address)
{
	uint64_t h = hash_text(key);
	size_t i = h & (DEVICE_SLOTS - 1);
	for (; t->devices[i].key[0]; i = (i + 1) & (DEVICE_SLOTS - 1)) {
		struct device_state *d = &t->devices[i];
		if (d->hash == h && strcmp(d->key, key) == 0) {
			/* Named by an address it had not used when first seen (DHCP from 0.0.0.0, IPv6 first). */
			if (!d->name && t->config->device_count)
				d->name = config_device_name(t->config, mac, address);
			return d;
		}
	}
	if (t->device_count >= DEVICE_MAX) {
		/* A flood of spoofed addresses: forget them all (their visits end). */
		memset(t->devices, 0, DEVICE_SLOTS * sizeof *t->devices);
		t->device_count = 0;
		i = h & (DEVICE_SLOTS - 1);
	}
	struct device_state *d = &t->devices[i];
	copy_text(d->key, sizeof d->key, key);
	d->hash = h;
	d->name = config_device_name(t->config, mac, address);
	t->device_count++;
	return d;
}

/* ---- CNAME chains ---- */

static void cname_learn(struct timeline *t, const struct observation *obs)
{
	if (obs->dns_chain_count < 2 || !obs->host[0])
		return;
	size_t len = 0;
	for (unsigned i = 1; i < obs->dns_chain_count; i++)
		len += strlen(obs->dns_chain[i]) + 1;
	uint64_t h = hash_text(obs->host);
	struct cname_entry *e = &t->cnames[h & (CNAME_SLOTS - 1)];
	char *name = strdup(obs->host), *chain = malloc(len);
	if (!name || !chain) {
		free(name);
		free(chain);
		return;
	}
	char *p = chain;
	for (unsigned i = 1; i < obs->dns_chain_count; i++) {
		size_t n = strlen(obs->dns_chain[i]) + 1;
		memcpy(p, obs->dns_chain[i], n);
		p += n;
	}
	free(e->name);
	free(e->chain);
	e->hash = h;
	e->name = name;
	e->chain = chain;
	e->count = (uint8_t)(obs->dns_chain_count - 1);
}

static const struct cname_entry *cname_find(const struct timeline *t, const char *host)
{
	uint64_t h = hash_text(host);
	const struct cname_entry *e = &t->cnames[h & (CNAME_SLOTS - 1)];
	return e->name && e->hash == h && strcmp(e->name, host) == 0 ? e : NULL;
}

/* ---- Sets of names as JSON arrays ---- */

/* A JSON string for a name from a list (names are escaped as wire bytes are, should one not be UTF-8). */
static json_t *name_string(const char *name)
{
	json_t *s = json_string(name);
	if (s)
		return s;
	size_t len = strlen(name);
	char *escaped = malloc(4 * len + 1);
	if (!escaped)
		return NULL;
	observation_escape_into(name, len, escaped, 1);
	s = json_string(escaped);
	free(escaped);
	return s;
}

static const char *set_json(struct timeline *t, struct set_entry *cache, uint64_t key,
			    const char *const *names, unsigned count)
{
	struct set_entry *e = &cache[hash_bytes(&key, sizeof key, 1469598103934665603ULL) % SET_CACHE];
	if (e->json && e->key == key && e->generation == t->generation)
		return e->json;
	json_t *array = json_array();
	for (unsigned i = 0; array && i < count; i++)
		json_array_append_new(array, name_string(names[i]));
	char *json = array ? json_dumps(array, JSON_COMPACT) : NULL;
	json_decref(array);
	if (!json)
		return "[]";
	free(e->json);
	e->json = json;
	e->key = key;
	e->generation = t->generation;
	return json;
}

static const char *lists_json(struct timeline *t, uint64_t lists)
{
	const char *names[MATCHER_MAX_LISTS];
	unsigned count = 0;
	for (int i = 0; i < matcher_list_count(t->matcher) && i < MATCHER_MAX_LISTS; i++)
		if (lists & (1ULL << i))
			names[count++] = matcher_list_info(t->matcher, i)->name;
	return set_json(t, t->lists_sets, lists, names, count);
}

static const char *categories_json(struct timeline *t, const struct match *m)
{
	/* The names point into the matcher: their addresses say which set it is. */
	uint64_t key = hash_bytes(m->categories, m->category_count * sizeof m->categories[0],
				  1469598103934665603ULL);
	return set_json(t, t->category_sets, key, m->categories, m->category_count);
}

/* ---- Observations ---- */

static int stored_kind(enum observation_kind kind, const struct observation *obs)
{
	switch (kind) {
	case OBS_DNS_QUERY:
	case OBS_TLS_SNI:
	case OBS_DTLS_SNI:
	case OBS_QUIC_SNI:
	case OBS_HTTP_REQUEST:
	case OBS_COOKIE_SENT:
	case OBS_COOKIE_SET:
	case OBS_CONSENT:
	case OBS_CONNECTION:
	case OBS_STUN_REALM:
	case OBS_OTHER_NAME:
	case OBS_RESUMED:
		return 1;
	case OBS_DNS_ANSWER:
		return obs->dns_chain_count > 1;
	default:
		return 0;
	}
}

/* A contact: the device reached out to the host (what visits are made of). */
static int is_contact(enum observation_kind kind)
{
	return kind == OBS_TLS_SNI || kind == OBS_DTLS_SNI || kind == OBS_QUIC_SNI ||
	       kind == OBS_HTTP_REQUEST || kind == OBS_RESUMED || kind == OBS_CONNECTION;
}

static char ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

/*
 * The site of a Referer or Origin value ("scheme://host[:port]/..."): its
 * host's registrable domain, else the host (an address); the host, lower
 * case without its port, in `host`. 0 for a value without "scheme://"
 * (Origin "null", sent by sandboxed frames and file: pages, names no site).
 */
static int header_site(const char *value, char *site, size_t size, char host[OBS_HOST_MAX])
{
	if (!value)
		return 0;
	const char *scheme_end = strstr(value, "://");
	if (!scheme_end || scheme_end == value)
		return 0;
	for (const char *p = value; p < scheme_end; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '+' || *p == '-' || *p == '.'))
			return 0;
	size_t len = strlen(value), host_len = 0;
	size_t at = matcher_url_host(value, len, &host_len);
	if (!host_len || host_len >= OBS_HOST_MAX || at + host_len > len)
		return 0;
	size_t n = 0;
	if (value[at] == '[') { /* an IPv6 literal: an address, its own site */
		for (size_t i = 1; i < host_len && value[at + i] != ']'; i++)
			host[n++] = ascii_lower(value[at + i]);
		host[n] = '\0';
		if (!n)
			return 0;
		copy_text(site, size, host);
		return 1;
	}
	for (size_t i = 0; i < host_len && value[at + i] != ':'; i++)
		host[n++] = ascii_lower(value[at + i]);
	host[n] = '\0';
	if (!n)
		return 0;
	const char *domain = matcher_registrable_domain(host);
	copy_text(site, size, domain ? domain : host);
	return 1;
}

/* Time from `then` to `now`; 0 when packet times go backwards. */
static uint64_t since(uint64_t now, uint64_t then)
{
	return now > then ? now - then : 0;
}

/* Whether a name could be a first party a visit is to: a name (not an address) with a registrable domain. */
static const char *site_of_host(const char *host)
{
	return matcher_registrable_domain(host);
}

int timeline_wants(const struct observation *obs)
{
	/* A DNS answer counts for its CNAME chain (cname_learn()) only: one without is not stored either. */
	return obs->kind == OBS_DHCP_HOSTNAME ||
	       (obs->kind == OBS_DNS_ANSWER && obs->dns_chain_count >= 2) ||
	       stored_kind(obs->kind, obs);
}

static void addr_text(struct addr_text *c, uint8_t ip_version, const uint8_t addr[16],
		      int has_mac, const uint8_t mac[6])
{
	if (c->valid && c->ip_version == ip_version && c->has_mac == has_mac &&
	    memcmp(c->addr, addr, 16) == 0 && (!has_mac || memcmp(c->mac, mac, 6) == 0))
		return;
	c->valid = 1;
	c->ip_version = ip_version;
	c->has_mac = (uint8_t)has_mac;
	memcpy(c->addr, addr, 16);
	observation_addr_text(ip_version, addr, c->text, sizeof c->text);
	c->mac_text[0] = '\0';
	if (has_mac) {
		memcpy(c->mac, mac, 6);
		observation_mac_text(mac, c->mac_text, sizeof c->mac_text);
	}
}

_Static_assert((int)OBS_COOKIE_SECURE == STORE_COOKIE_SECURE &&
	       (int)OBS_COOKIE_HTTP_ONLY == STORE_COOKIE_HTTP_ONLY &&
	       (int)OBS_COOKIE_PARTITIONED == STORE_COOKIE_PARTITIONED &&
	       (int)OBS_COOKIE_IDENTIFIER_LIKE == STORE_COOKIE_IDENTIFIER_LIKE &&
	       (int)OBS_COOKIE_CONSENT == STORE_COOKIE_CONSENT, "cookie flags are stored as they are");

/*
 * A cookie's row, with what the sensor makes of it: its Open Cookie Database
 * entry, and whether it is an identifier cookie (trackwatchd(8), COOKIES):
 * a value that looks like an identifier, in a cookie that is no consent
 * record and lives longer than a day (when it is set; a cookie sent does not
 * say), sent to or set by a tracker host, or third-party to the site, or one
 * the Open Cookie Database puts in Marketing or Analytics.
 */
static void cookie_row(struct timeline *t, const struct observation *obs, const char *host,
		       const char *site, const struct match *m, struct store_cookie *c)
{
	memset(c, 0, sizeof *c);
	c->name = obs->cookie_name;
	c->value = obs->cookie;
	c->value_len = obs->cookie_value_len;
	c->is_set = obs->kind == OBS_COOKIE_SET;
	c->domain = obs->cookie_domain;
	c->path = obs->cookie_path;
	c->lifetime = obs->cookie_lifetime;
	c->same_site = observation_same_site_name(obs->cookie_same_site);
	c->flags = obs->cookie_flags & (OBS_COOKIE_SECURE | OBS_COOKIE_HTTP_ONLY |
					OBS_COOKIE_PARTITIONED | OBS_COOKIE_IDENTIFIER_LIKE |
					OBS_COOKIE_CONSENT);
	const struct cookie_info *known = t->matcher && obs->cookie_name
		? lookup_cookie(t, obs->cookie_name)
		: NULL;
	if (known) {
		c->platform = known->platform;
		c->category = known->category;
	}
	int tracking_category = known && known->category &&
				(strcmp(known->category, "Marketing") == 0 ||
				 strcmp(known->category, "Analytics") == 0);
	const char *own = site_of_host(host);
	int third_party = site && strcmp(own ? own : host, site) != 0;
	int lasting = !c->is_set || c->lifetime > 86400;
	if ((c->flags & STORE_COOKIE_IDENTIFIER_LIKE) && !(c->flags & STORE_COOKIE_CONSENT) && lasting &&
	    (m->tracker || third_party || tracking_category))
		c->flags |= STORE_COOKIE_IDENTIFIER;
}

/*
 * The parameters of a request target's query (to its '#'), as the
 * observation carries them (values hashed unless identifiers are kept),
 * those with a name and a value, consent parameters left out; at most
 * STORE_PARAMS_MAX. The spans point into `target`.
 */
static size_t query_params(const char *target, struct store_param out[STORE_PARAMS_MAX])
{
	static const char *const consent[] = { "gdpr", "gdpr_consent", "gcs", "gcd" };
	const char *q = strchr(target, '?');
	size_t n = 0;
	if (!q)
		return 0;
	const char *end = q + 1 + strcspn(q + 1, "#");
	for (const char *p = q + 1; p < end && n < STORE_PARAMS_MAX;) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *stop = amp ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(stop - p));
		if (eq && eq > p && eq + 1 < stop) {
			size_t name_len = (size_t)(eq - p);
			int is_consent = 0;
			for (size_t k = 0; k < sizeof consent / sizeof consent[0]; k++)
				is_consent |= strlen(consent[k]) == name_len &&
					      memcmp(consent[k], p, name_len) == 0;
			if (!is_consent)
				out[n++] = (struct store_param){ p, eq + 1, name_len,
								 (size_t)(stop - eq - 1) };
		}
		p = stop + 1;
	}
	return n;
}

/*
 * Whether this cookie_sent repeats one stored less than COOKIE_REPEAT_US ago
 * (the same device, host, name and value); records it when not. The slot is
 * chosen by device, host and name only: the value is a keyed hash whose key
 * may be new each run, and a slot that depended on it would make which
 * cookies collide, and so which rows are kept, differ from run to run.
 */
static int cookie_repeated(struct timeline *t, const char *device, const char *host,
			   const struct observation *obs, uint64_t now)
{
	char key[COOKIE_KEY_MAX];
	const char *parts[] = { device, host, obs->cookie_name ? obs->cookie_name : "",
				obs->cookie ? obs->cookie : "" };
	size_t len = 0, named = 0;
	for (size_t i = 0; i < 4; i++) {
		size_t n = strlen(parts[i]) + 1; /* with its NUL: a separator that no part holds */
		if (len + n > sizeof key)
			return 0;
		memcpy(key + len, parts[i], n);
		len += n;
		if (i == 2)
			named = len;
	}
	struct cookie_seen *e = &t->cookies_seen[hash_bytes(key, named, 1469598103934665603ULL) %
						 COOKIE_SLOTS];
	if (e->len == len && memcmp(e->key, key, len) == 0 && since(now, e->ts) < COOKIE_REPEAT_US &&
	    now >= e->ts)
		return 1;
	e->ts = now;
	e->len = (uint16_t)len;
	memcpy(e->key, key, len);
	return 0;
}

int timeline_observe(struct timeline *t, const struct observation *obs)
{
	enum observation_kind kind = obs->kind;
	/* A MAC of zeros (loopback, some tunnels) names no device: the address does. */
	static const uint8_t zero_mac[6];
	int has_mac = obs->has_client_mac && memcmp(obs->client_mac, zero_mac, 6) != 0;
	addr_text(&t->client, obs->ip_version, obs->client_addr, has_mac, obs->client_mac);
	const char *mac = t->client.mac_text, *address = t->client.text;
	const char *key = mac[0] ? mac : address;

	if (kind == OBS_DHCP_HOSTNAME) {
		if (!mac[0] || !obs->host[0])
			return 0;
		struct store_device dev = { key, mac, NULL, config_device_name(t->config, mac, NULL) };
		int64_t id = store_device(t->store, &dev, obs->ts_us);
		return id < 0 ? -1 : store_device_hostname(t->store, id, obs->host);
	}
	if (kind == OBS_DNS_ANSWER)
		cname_learn(t, obs);
	if (!stored_kind(kind, obs))
		return 0;

	addr_text(&t->server, obs->ip_version, obs->server_addr, 0, NULL);
	const char *server = t->server.text;
	const char *host = obs->host[0] ? obs->host : obs->resolved ? obs->resolved : server;

	struct device_state *d = device_state(t, key, mac[0] ? mac : NULL, address);
	struct store_device dev = { key, mac[0] ? mac : NULL, address, d->name };
	int64_t device = store_device(t->store, &dev, obs->ts_us);
	if (device < 0)
		return -1;

	uint64_t now = obs->ts_us;
	/* One lookup is one event: the same name asked (or answered) again within a second, for A, AAAA or HTTPS, is not. */
	if (kind == OBS_DNS_QUERY || kind == OBS_DNS_ANSWER) {
		int i = kind == OBS_DNS_ANSWER;
		uint64_t h = hash_text(host);
		if (h == d->query_hash[i] && now - d->query_us[i] < DNS_REPEAT_US)
			return 0;
		d->query_hash[i] = h;
		d->query_us[i] = now;
	}
	if (kind == OBS_COOKIE_SENT && cookie_repeated(t, key, host, obs, now))
		return 0;
	if (d->visit && since(now, d->last_contact_us) > t->options.visit_timeout_us) {
		d->visit = 0;
		d->site[0] = '\0';
	}
	/* The site a request names in Referer (or Origin) is the site it was made from. */
	char from[OBS_HOST_MAX], begun_by[OBS_HOST_MAX];
	const char *how = NULL;
	if (kind == OBS_HTTP_REQUEST) {
		if (header_site(obs->http_referer, from, sizeof from, begun_by))
			how = "referer";
		else if (header_site(obs->http_origin, from, sizeof from, begun_by))
			how = "origin";
	}
	/*
	 * The header names the page (or stylesheet, or frame) the request came
	 * from. It is the device's page, and so its visit, only when the request
	 * stays on that site and the site is no tracker's (a frame of an ad
	 * server asks its own hosts too); otherwise it is this row's site when
	 * the device has no visit, and the visit's site stays.
	 */
	int header_visit = 0;
	if (how) {
		const char *own = site_of_host(host);
		if (strcmp(own ? own : host, from) == 0) {
			struct match by;
			header_visit = 1;
			if (t->matcher) {
				lookup_host(t, begun_by, from, &by);
				header_visit = !by.tracker;
			}
		}
	}
	if (header_visit && (!d->visit || strcmp(d->site, from) != 0)) {
		d->visit = store_visit(t->store, device, from, begun_by, how, now);
		if (d->visit < 0)
			return -1;
		copy_text(d->site, sizeof d->site, from);
	}
	struct match m;
	memset(&m, 0, sizeof m);
	m.decided.list = -1;
	const char *site = d->visit ? d->site : how ? from : NULL;
	if (kind == OBS_HTTP_REQUEST) {
		copy_text(d->request_site, sizeof d->request_site, !d->visit && how ? from : "");
		d->request_flow = obs->flow_id;
		d->request_us = now;
	} else if (!site && d->request_site[0] && d->request_flow == obs->flow_id &&
		   (((kind == OBS_COOKIE_SENT || kind == OBS_CONSENT) && d->request_us == now) ||
		    kind == OBS_COOKIE_SET)) {
		/* The request's cookies and signals, and its reply's Set-Cookie (and their signals, on the flow). */
		site = d->request_site;
	}
	if (t->matcher)
		lookup_host(t, host, site, &m);
	const char *cname = NULL;
	if (t->matcher && !m.tracker) {
		/* Not listed by its own name: through the chain it resolved to (CNAME cloaking). */
		const struct cname_entry *e = cname_find(t, host);
		const char *name = e ? e->chain : NULL;
		for (unsigned i = 0; e && i < e->count; i++, name += strlen(name) + 1) {
			struct match through;
			lookup_host(t, name, site, &through);
			if (through.tracker) {
				m = through;
				cname = name;
				break;
			}
		}
	}
	/*
	 * A request's URL (plain, or decrypted from HTTPS): the lists' URL rules
	 * apply too (EasyPrivacy's "||facebook.com/tr/"). A URL rule makes a
	 * tracker of a host that neither its name nor its CNAME chain makes one
	 * (the company then stays the name's, if any; the lists that matched are
	 * both's). Matching a URL against every generic rule costs more than
	 * the rest of the row: URLs asked lately are remembered.
	 */
	if (t->matcher && kind == OBS_HTTP_REQUEST && obs->http_path && obs->http_path[0] == '/' &&
	    host[0]) {
		/* "scheme://host/path", cut to the buffer (as snprintf would, without its cost per row). */
		char url[8192];
		size_t n = 0;
		const char *parts[] = { obs->decrypted ? "https://" : "http://", host, obs->http_path };
		for (size_t i = 0; i < 3 && n < sizeof url - 1; i++) {
			size_t len = strnlen(parts[i], sizeof url - 1 - n);
			memcpy(url + n, parts[i], len);
			n += len;
		}
		url[n] = '\0';
		struct match by_url;
		lookup_url(t, url, n, site, &by_url);
		uint64_t lists = m.lists | by_url.lists;
		if (by_url.tracker && !m.tracker) {
			const char *entity = m.entity;
			m = by_url;
			if (!m.entity)
				m.entity = entity;
		}
		m.lists = lists;
	}

	/*
	 * A navigation: a new connection or request (not a connection kept
	 * open) to a host no list calls a tracker or a third-party service,
	 * after a pause.
	 */
	if (!how && is_contact(kind) && kind != OBS_RESUMED && !m.tracker && m.category_count == 0 &&
	    (!d->last_contact_us || since(now, d->last_contact_us) >= t->options.visit_pause_us)) {
		const char *first_party = site_of_host(host);
		if (first_party) {
			d->visit = store_visit(t->store, device, first_party, host, "navigation", now);
			if (d->visit < 0)
				return -1;
			copy_text(d->site, sizeof d->site, first_party);
			site = d->site;
		}
	}
	if (is_contact(kind))
		d->last_contact_us = now;

	struct store_hit hit;
	struct store_cookie cookie;
	struct store_consent consent;
	struct store_row row = {
		.ts_us = now,
		.kind = observation_kind_name(kind),
		.host = host,
		.server = server,
		.sport = obs->client_port,
		.dport = obs->server_port,
		.proto = obs->l4_proto,
		.flow = obs->flow_id,
		.visit = d->visit && site == d->site ? d->visit : 0,
		.site = site,
	};
	if (m.tracker) {
		const struct list_info *decided =
			m.decided.list >= 0 ? matcher_list_info(t->matcher, m.decided.list) : NULL;
		hit = (struct store_hit){
			.entity = m.entity,
			.category = m.category,
			.categories_json = categories_json(t, &m),
			.list = decided ? decided->name : NULL,
			.lists_json = lists_json(t, m.lists),
			.rule = m.decided.text,
			/* Through the device's own DNS, or the lists' CNAME aliases (DuckDuckGo's). */
			.cname = cname ? cname : m.cname,
		};
		row.hit = &hit;
	}
	if (kind == OBS_COOKIE_SENT || kind == OBS_COOKIE_SET) {
		cookie_row(t, obs, host, site, &m, &cookie);
		row.cookie = &cookie;
	}
	struct store_param params[STORE_PARAMS_MAX];
	if (kind == OBS_HTTP_REQUEST && m.tracker && obs->http_path) {
		row.params = params;
		row.param_count = query_params(obs->http_path, params);
	}
	if (kind == OBS_CONSENT) {
		const char *decision = observation_decision_name(obs->consent_decision);
		if (!decision)
			return 0;
		consent = (struct store_consent){ decision, obs->consent_source, obs->consent_detail };
		row.consent = &consent;
	}
	return store_add(t->store, device, &row);
}

void timeline_set_config(struct timeline *t, const struct daemon_config *config)
{
	t->config = config;
	/* The names came from the old configuration: each device looks its name up again. */
	for (size_t i = 0; i < DEVICE_SLOTS; i++)
		t->devices[i].name = NULL;
}
