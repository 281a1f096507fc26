/*
 * matcher: the compiled form of every loaded list (see matcher.h for what
 * decides). Built once by the parsers, then read by any number of threads.
 *
 * Host lookups are the hot path (every DNS name, SNI and Host header), so
 * the domains live in one open-addressed table keyed by a hash computed
 * over the name from its last byte to its first: one pass over a name then
 * gives the hash of each of its suffixes at every label boundary
 * ("net", "doubleclick.net", "ad.doubleclick.net"), and each costs a single
 * probe. Everything a list says of a domain hangs off that domain's node.
 */
#include "matcher.h"
#include "../daemon/thread.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stddef.h>
#include <limits.h>
#include <pthread.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include <libpsl.h>

#define NONE UINT32_MAX
enum { NAME_MAX_LEN = 255, URL_MAX_LEN = 8192, MAX_LABELS = 128 };
/* Name buffers carry this many zero bytes after the name, so that labels
   can be read a word at a time (label_hash). */
enum { NAME_PAD = 8, NAME_BUF = NAME_MAX_LEN + 1 + NAME_PAD };

/* ---- Storage: a string arena and growable arrays ---- */

struct arena_chunk {
	struct arena_chunk *next;
	size_t used, size;
	char data[];
};

struct vec {
	void *items;
	size_t count, cap, size;
	bool aligned;              /* items start on cache lines (size a multiple of 64) */
};

static void *vec_push(struct vec *v)
{
	if (v->count == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 64;
		void *items;
		if (v->aligned) {
			items = aligned_alloc(64, cap * v->size);
			if (items && v->count)
				memcpy(items, v->items, v->count * v->size);
			if (items)
				free(v->items);
		} else {
			items = realloc(v->items, cap * v->size);
		}
		if (!items)
			return NULL;
		v->items = items;
		v->cap = cap;
	}
	void *item = (char *)v->items + v->count * v->size;
	memset(item, 0, v->size);
	v->count++;
	return item;
}

#define VEC_AT(v, type, i) (&((type *)(v).items)[i])

/* A domain every rule and entry for it hangs from. */
enum { DOM_KEY = 16 };

/* One cache line: a lookup that finds a domain reads this line and, for
   names longer than DOM_KEY, the rest of the name. */
struct dom {
	uint32_t len;
	/* The name's first DOM_KEY bytes (zero-padded), beside its length: a
	   probe that hits compares most names without another cache miss. */
	char key[DOM_KEY];
	uint32_t host_rules;                    /* struct host_rule chain, load order */
	const char *name;
	const char *cname;                      /* TDS: alias of this name */
	uint32_t url_rules;                     /* struct url_rule chain */
	uint32_t regex_rules;                   /* struct regex_rule chain */
	uint32_t entities;                      /* struct entity chain */
	uint32_t host_patterns;                 /* struct host_pattern chain */
	int16_t cname_list;
	char pad[6];
};
_Static_assert(sizeof(struct dom) == 64, "a dom is one cache line");

/* While building: where each dom's chains end, to append in load order. */
struct dom_tails {
	uint32_t host_rules, url_rules, regex_rules;
	uint64_t hash;             /* name_hash() of the dom, for rehashing */
};

/* What host and URL rules share: filled by rule_head_init(), read by rule_applies(). */
#define RULE_HEAD_FIELDS \
	uint32_t next;           /* the next rule of the same chain */ \
	uint16_t list; \
	uint16_t flags; \
	uint8_t party; \
	uint32_t types; \
	uint32_t domopt_first, domopt_count; \
	const char *text;
struct rule_head {
	RULE_HEAD_FIELDS
};

struct host_rule {
	union {
		struct rule_head head;
		struct { RULE_HEAD_FIELDS };
	};
};

struct url_rule {
	union {
		struct rule_head head;
		struct { RULE_HEAD_FIELDS };
	};
	const char *pattern;     /* after the anchor host when anchored to a dom */
	uint32_t pattern_len;
};

struct regex_rule {
	uint32_t next;
	uint16_t list;
	uint16_t flags;
	uint32_t types, except_types;
	uint32_t domopt_first, domopt_count;
	uint32_t except_first, except_count;  /* exception sites, as domopts */
	regex_t re;
	const char *text;
};

struct host_pattern {
	uint32_t rule;             /* index in url_rules */
	uint32_t next;             /* chain from a dom's host_patterns */
	bool on_dom;               /* in a dom's chain, not keyed by label */
	char first;                /* the pattern's first byte when literal (lower case), else 0 */
	uint64_t label_hash;       /* of the literal first label; 0 when none */
};

struct entity {
	uint32_t next;
	uint16_t list;
	int8_t verdict;            /* 1, 0, -1: the strongest given */
	const char *name;
	uint32_t categories;       /* struct category chain */
};

struct category {
	uint32_t next;
	int8_t verdict;
	const char *name;
};

struct domopt {
	const char *name;
	uint32_t len;
	bool exclude;
	bool any_tld;              /* "example.*" */
};

struct matcher {
	struct arena_chunk *arena;
	size_t arena_bytes;
	struct list_info lists[MATCHER_MAX_LISTS];
	int list_count;

	struct vec doms, host_rules, url_rules, regex_rules, entities, categories, domopts;
	struct vec dom_tails;      /* struct dom_tails, parallel to doms; freed when finished */
	struct vec generic_rules;  /* uint32_t indexes of url_rules with no dom */
	/*
	 * The generic rules by token, made by matcher_finish(), as uBlock
	 * Origin indexes its filters: a rule whose pattern holds a whole word
	 * ("/ads/" holds "ads") can only match a URL that holds that word, so a
	 * URL lookup tries only the rules of its own words, plus the few rules
	 * with no such word (token_fallback).
	 */
	struct token_rule {
		uint64_t token;
		uint32_t rule;
	} *token_rules;            /* sorted by token */
	size_t token_rule_count;
	uint32_t *token_fallback;
	size_t token_fallback_count;
	/*
	 * Generic rules that constrain only the host ("||adservice.google.",
	 * "||cdn*.example.com^") also decide bare-name lookups. One that ends in
	 * whole labels ("*.example.com") hangs from that domain's node and is
	 * tried only for names under it. Otherwise one whose first label is
	 * literal ("adservice.") is found by that label's hash, behind a bitmap
	 * so that a lookup of an unrelated name costs one bit test per label;
	 * the rest (none in EasyList or EasyPrivacy) are tried at every label.
	 */
	struct vec host_patterns;  /* struct host_pattern */
	uint64_t host_pattern_bits[64];
	uint32_t *keyed_patterns;  /* by matcher_finish(): host_patterns by label hash */
	size_t keyed_count;
	uint32_t *unkeyed_patterns;
	size_t unkeyed_count;
	struct vec cookies;        /* struct cookie_info */

	uint64_t *slots;           /* tag << 32 | dom index + 1 */
	size_t slot_mask;
	/*
	 * A bit per hash of every domain (one hash function, about 20 bits per
	 * domain), made by matcher_finish(): most suffixes of a looked-up name
	 * are in no list, and the bitmap, small enough for the core's cache,
	 * answers them without touching the table.
	 */
	uint64_t *filter;
	size_t filter_mask;        /* in bits */
	/* Interned short strings (entities, categories, list names). */
	const char **interned;
	size_t interned_mask, interned_count;
	/* Cookies: exact names in a table, prefixes longest first. */
	uint32_t *cookie_slots;
	size_t cookie_mask;
	uint32_t *cookie_prefixes;
	size_t cookie_prefix_count;
	bool finished;
	/* A matcher read from a snapshot: everything above lives in this one block. */
	void *block;
};

static void *arena_alloc(struct matcher *m, size_t size)
{
	size = (size + 7) & ~(size_t)7;
	struct arena_chunk *c = m->arena;
	if (!c || c->size - c->used < size) {
		size_t chunk = size > 60000 ? size : 60000;
		c = malloc(sizeof *c + chunk);
		if (!c)
			return NULL;
		c->next = m->arena;
		c->used = 0;
		c->size = chunk;
		m->arena = c;
		m->arena_bytes += sizeof *c + chunk;
	}
	void *p = c->data + c->used;
	c->used += size;
	return p;
}

static char *arena_strndup(struct matcher *m, const char *s, size_t len)
{
	char *p = arena_alloc(m, len + 1);
	if (!p)
		return NULL;
	memcpy(p, s, len);
	/* The NUL, and zeros up to the next string: a snapshot copies whole chunks. */
	memset(p + len, 0, ((len + 1 + 7) & ~(size_t)7) - len);
	return p;
}

static uint64_t mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

static uint64_t hash_bytes(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
	return mix64(h);
}

/* An interned copy of a NUL-terminated string: equal strings share one pointer. */
static const char *intern(struct matcher *m, const char *s)
{
	if (!s)
		return NULL;
	size_t len = strlen(s);
	if (m->interned_count * 2 >= m->interned_mask) {
		size_t size = m->interned_mask ? (m->interned_mask + 1) * 2 : 1024;
		const char **table = calloc(size, sizeof *table);
		if (!table)
			return NULL;
		for (size_t i = 0; m->interned && i <= m->interned_mask; i++) {
			if (!m->interned[i])
				continue;
			size_t j = hash_bytes(m->interned[i], strlen(m->interned[i])) & (size - 1);
			while (table[j])
				j = (j + 1) & (size - 1);
			table[j] = m->interned[i];
		}
		free(m->interned);
		m->interned = table;
		m->interned_mask = size - 1;
	}
	size_t j = hash_bytes(s, len) & m->interned_mask;
	while (m->interned[j]) {
		if (strcmp(m->interned[j], s) == 0)
			return m->interned[j];
		j = (j + 1) & m->interned_mask;
	}
	const char *copy = arena_strndup(m, s, len);
	if (!copy)
		return NULL;
	m->interned[j] = copy;
	m->interned_count++;
	return copy;
}

/* ---- Names ---- */

static const char *const format_names[LIST_FORMAT_COUNT] = {
	[LIST_HOSTS] = "hosts", [LIST_DOMAINS] = "domains", [LIST_ABP] = "abp",
	[LIST_DISCONNECT] = "disconnect", [LIST_TDS] = "tds", [LIST_COOKIEDB] = "cookiedb",
};

const char *list_format_name(enum list_format format)
{
	return (unsigned)format < LIST_FORMAT_COUNT ? format_names[format] : "?";
}

int list_format_from_name(const char *name)
{
	for (int i = 0; i < LIST_FORMAT_COUNT; i++)
		if (strcmp(name, format_names[i]) == 0)
			return i;
	return -1;
}

uint32_t resource_type_from_name(const char *name, size_t len)
{
	static const struct {
		const char *name;
		uint32_t type;
	} types[] = {
		{ "script", RT_SCRIPT }, { "image", RT_IMAGE }, { "stylesheet", RT_STYLESHEET },
		{ "css", RT_STYLESHEET }, { "xmlhttprequest", RT_XHR }, { "xhr", RT_XHR },
		{ "subdocument", RT_SUBDOCUMENT }, { "frame", RT_SUBDOCUMENT },
		{ "ping", RT_PING }, { "beacon", RT_PING }, { "media", RT_MEDIA },
		{ "font", RT_FONT }, { "object", RT_OBJECT }, { "websocket", RT_WEBSOCKET },
		{ "other", RT_OTHER }, { "document", RT_DOCUMENT }, { "doc", RT_DOCUMENT },
		{ "popup", RT_POPUP }, { "all", RT_ALL },
		/* The TDS names some types its own way. */
		{ "main_frame", RT_DOCUMENT }, { "sub_frame", RT_SUBDOCUMENT },
	};
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		if (strlen(types[i].name) == len && strncasecmp(types[i].name, name, len) == 0)
			return types[i].type;
	return 0;
}

/*
 * A host name in canonical form: lower case, no trailing dot, no ":port",
 * no brackets around an IPv6 literal. Returns its length, or 0 when it is
 * empty or longer than NAME_MAX_LEN.
 */
static size_t canonical_name(const char *in, size_t len, char out[NAME_BUF])
{
	if (len > 0 && in[0] == '[') {
		const char *end = memchr(in, ']', len);
		if (!end)
			return 0;
		in++;
		len = (size_t)(end - in);
	} else {
		const char *colon = memchr(in, ':', len);
		/* One colon is a port; more is an IPv6 address without brackets. */
		if (colon && !memchr(colon + 1, ':', len - (size_t)(colon - in) - 1))
			len = (size_t)(colon - in);
	}
	while (len > 0 && in[len - 1] == '.')
		len--;
	if (len == 0 || len > NAME_MAX_LEN)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];
		out[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	memset(out + len, 0, NAME_PAD + 1);
	return len;
}

/* ---- The domain table ---- */

/*
 * The hash of one label, a word (8 bytes) at a time: `label` must be in a
 * buffer with NAME_PAD zero bytes after the name (canonical_name() makes
 * one), so the last word may be read whole and masked.
 */
static uint64_t label_hash(const char *label, size_t len)
{
	uint64_t h = (uint64_t)len * 0x9e3779b97f4a7c15ULL;
	size_t i = 0;
	for (;; i += 8) {
		uint64_t word;
		memcpy(&word, label + i, 8);
		if (len - i < 8) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
			word &= len - i ? ~0ULL >> (8 * (8 - (len - i))) : 0;
#else
			word = 0;
			memcpy(&word, label + i, len - i);
#endif
			return mix64(h ^ word) | 1;
		}
		h = (h ^ word) * 0xff51afd7ed558ccdULL;
		h ^= h >> 31;
	}
}

/*
 * The hashes of every suffix of a name at a label boundary, shortest first
 * ("net", "doubleclick.net", "ad.doubleclick.net"): each is its label's
 * hash folded into the hash of the suffix after it, so one pass over the
 * name gives them all and each costs a single table probe. `name` as for
 * label_hash(). Fills hashes[] and starts[] (where each suffix begins) and,
 * when `labels` is not NULL, the label hashes left to right; returns the
 * number of suffixes (at most MAX_LABELS).
 */
static size_t suffix_hashes(const char *name, size_t len, uint64_t *hashes, size_t *starts, uint64_t *labels)
{
	size_t n = 0, start = 0;
	uint64_t lh[MAX_LABELS];
	/* The labels, left to right, then folded right to left. A name of
	   more labels (empty ones: "a......b.com") keeps its last MAX_LABELS:
	   the suffixes that can be in a list are at its end. */
	while (start <= len) {
		if (n == MAX_LABELS) {
			memmove(lh, lh + 1, (n - 1) * sizeof *lh);
			memmove(starts, starts + 1, (n - 1) * sizeof *starts);
			n--;
		}
		const char *dot = memchr(name + start, '.', len - start);
		size_t end = dot ? (size_t)(dot - name) : len;
		lh[n] = label_hash(name + start, end - start);
		starts[n++] = start;
		if (!dot)
			break;
		start = end + 1;
	}
	if (labels)
		memcpy(labels, lh, n * sizeof *lh);
	/* The suffix hashes, shortest first: reverse the starts as we go. */
	size_t left[MAX_LABELS];
	memcpy(left, starts, n * sizeof *left);
	uint64_t h = 0x84222325cbf29ce4ULL;
	for (size_t k = 0; k < n; k++) {
		size_t label = n - 1 - k;
		h = mix64((h + lh[label]) * 0x100000001b3ULL);
		hashes[k] = h;
		starts[k] = left[label];
	}
	return n;
}

/* The hash of a whole name (any buffer: it is copied into a padded one). */
static uint64_t name_hash(const char *name, size_t len)
{
	char padded[NAME_BUF];
	uint64_t hashes[MAX_LABELS], labels[MAX_LABELS];
	size_t starts[MAX_LABELS];
	if (len > NAME_MAX_LEN)
		len = NAME_MAX_LEN;
	memcpy(padded, name, len);
	memset(padded + len, 0, NAME_PAD + 1);
	size_t n = suffix_hashes(padded, len, hashes, starts, labels);
	return n ? hashes[n - 1] : 0;
}

static uint32_t table_find(const struct matcher *m, uint64_t h, const char *name, size_t len)
{
	if (!m->slots)
		return NONE;
	uint64_t mixed = mix64(h);
	uint32_t tag = (uint32_t)(mixed >> 32);
	for (size_t i = mixed & m->slot_mask;; i = (i + 1) & m->slot_mask) {
		uint64_t slot = m->slots[i];
		if (slot == 0)
			return NONE;
		if ((uint32_t)(slot >> 32) != tag)
			continue;
		uint32_t index = (uint32_t)slot - 1;
		const struct dom *d = VEC_AT(m->doms, const struct dom, index);
		if (d->len == len && memcmp(d->key, name, len < DOM_KEY ? len : DOM_KEY) == 0 &&
		    (len <= DOM_KEY || memcmp(d->name + DOM_KEY, name + DOM_KEY, len - DOM_KEY) == 0))
			return index;
	}
}

static int table_grow(struct matcher *m)
{
	/* Lists have thousands of domains: begin big enough for a small list's. */
	size_t size = m->slots ? (m->slot_mask + 1) * 2 : 65536;
	uint64_t *slots = calloc(size, sizeof *slots);
	if (!slots)
		return -1;
	for (size_t i = 0; i < m->doms.count; i++) {
		uint64_t mixed = mix64(VEC_AT(m->dom_tails, const struct dom_tails, i)->hash);
		size_t j = mixed & (size - 1);
		while (slots[j])
			j = (j + 1) & (size - 1);
		slots[j] = (mixed >> 32) << 32 | (i + 1);
	}
	free(m->slots);
	m->slots = slots;
	m->slot_mask = size - 1;
	return 0;
}

/* The node for a domain, made when new; NONE on a bad name or out of memory. */
static uint32_t dom_get(struct matcher *m, const char *raw, size_t raw_len)
{
	char name[NAME_BUF];
	size_t len = canonical_name(raw, raw_len, name);
	if (len == 0)
		return NONE;
	uint64_t h = name_hash(name, len);
	uint32_t index = table_find(m, h, name, len);
	if (index != NONE)
		return index;
	if ((m->doms.count + 1) * 2 > (m->slots ? m->slot_mask + 1 : 0) && table_grow(m) < 0)
		return NONE;
	const char *copy = arena_strndup(m, name, len);
	struct dom *d = copy ? vec_push(&m->doms) : NULL;
	if (!d)
		return NONE;
	d->name = copy;
	d->len = (uint32_t)len;
	memcpy(d->key, name, len < DOM_KEY ? len : DOM_KEY);
	d->host_rules = d->url_rules = d->regex_rules = d->entities = d->host_patterns = NONE;
	d->cname_list = -1;
	struct dom_tails *t = vec_push(&m->dom_tails);
	if (!t) {
		m->doms.count--;
		return NONE;
	}
	t->host_rules = t->url_rules = t->regex_rules = NONE;
	t->hash = h;
	index = (uint32_t)m->doms.count - 1;
	uint64_t mixed = mix64(h);
	size_t j = mixed & m->slot_mask;
	while (m->slots[j])
		j = (j + 1) & m->slot_mask;
	m->slots[j] = (mixed >> 32) << 32 | (index + 1);
	return index;
}

/* ---- Building ---- */

struct matcher *matcher_new(void)
{
	struct matcher *m = calloc(1, sizeof *m);
	if (!m)
		return NULL;
	m->doms.size = sizeof(struct dom);
	m->doms.aligned = true;
	m->dom_tails.size = sizeof(struct dom_tails);
	m->host_rules.size = sizeof(struct host_rule);
	m->url_rules.size = sizeof(struct url_rule);
	m->regex_rules.size = sizeof(struct regex_rule);
	m->entities.size = sizeof(struct entity);
	m->categories.size = sizeof(struct category);
	m->domopts.size = sizeof(struct domopt);
	m->generic_rules.size = sizeof(uint32_t);
	m->host_patterns.size = sizeof(struct host_pattern);
	m->cookies.size = sizeof(struct cookie_info);
	return m;
}

void matcher_free(struct matcher *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->regex_rules.count; i++)
		regfree(&VEC_AT(m->regex_rules, struct regex_rule, i)->re);
	if (m->block) {
		free(m->block);
		free(m);
		return;
	}
	struct vec *vecs[] = { &m->doms, &m->host_rules, &m->url_rules, &m->regex_rules,
			       &m->entities, &m->categories, &m->domopts, &m->generic_rules,
			       &m->cookies, &m->host_patterns };
	for (size_t i = 0; i < sizeof vecs / sizeof vecs[0]; i++)
		free(vecs[i]->items);
	free(m->dom_tails.items);
	free(m->token_rules);
	free(m->token_fallback);
	free(m->slots);
	free(m->filter);
	free(m->keyed_patterns);
	free(m->unkeyed_patterns);
	free(m->interned);
	free(m->cookie_slots);
	free(m->cookie_prefixes);
	while (m->arena) {
		struct arena_chunk *next = m->arena->next;
		free(m->arena);
		m->arena = next;
	}
	free(m);
}

int matcher_add_list(struct matcher *m, const char *name, const char *path,
		     enum list_format format, const char *category)
{
	if (m->finished || m->list_count >= MATCHER_MAX_LISTS)
		return -1;
	struct list_info *l = &m->lists[m->list_count];
	memset(l, 0, sizeof *l);
	l->name = intern(m, name ? name : "");
	l->path = intern(m, path ? path : "");
	l->format = format;
	l->category = category ? intern(m, category) : NULL;
	if (!l->name || !l->path || (category && !l->category))
		return -1;
	return m->list_count++;
}

struct list_info *matcher_list(struct matcher *m, int list)
{
	return list >= 0 && list < m->list_count ? &m->lists[list] : NULL;
}

const struct list_info *matcher_list_info(const struct matcher *m, int list)
{
	return list >= 0 && list < m->list_count ? &m->lists[list] : NULL;
}

int matcher_list_count(const struct matcher *m)
{
	return m->list_count;
}

void matcher_skip(struct matcher *m, int list, const char *reason, unsigned line)
{
	struct list_info *l = matcher_list(m, list);
	if (!l)
		return;
	l->skipped++;
	for (unsigned i = 0; i < l->skip_reasons; i++) {
		if (strcmp(l->skips[i].reason, reason) == 0) {
			l->skips[i].count++;
			return;
		}
	}
	unsigned last = sizeof l->skips / sizeof l->skips[0] - 1, i = l->skip_reasons;
	if (i >= last) {
		/* The last slot gathers every reason beyond the first ones. */
		if (l->skip_reasons == last) {
			l->skips[last] = (struct list_skip){ "other reasons", 0, line };
			l->skip_reasons++;
		}
		l->skips[last].count++;
		return;
	}
	const char *copy = intern(m, reason);
	l->skips[i].reason = copy ? copy : "other reasons";
	l->skips[i].count = 1;
	l->skips[i].first_line = line;
	l->skip_reasons++;
}

/* Parses "a.com|~b.com|c.*" into domopts; returns 0 or -1. */
static int add_domopts(struct matcher *m, const char *s, size_t len, uint32_t *first, uint32_t *count)
{
	*first = (uint32_t)m->domopts.count;
	*count = 0;
	if (!s)
		return 0;
	size_t i = 0;
	while (i < len) {
		size_t end = i;
		while (end < len && s[end] != '|')
			end++;
		bool exclude = end > i && s[i] == '~';
		size_t start = i + exclude;
		char name[NAME_BUF];
		size_t name_len = canonical_name(s + start, end - start, name);
		if (name_len > 0) {
			bool any_tld = name_len > 2 && name[name_len - 1] == '*' && name[name_len - 2] == '.';
			if (any_tld)
				name_len -= 2;
			struct domopt *o = vec_push(&m->domopts);
			const char *copy = o ? arena_strndup(m, name, name_len) : NULL;
			if (!copy)
				return -1;
			o->name = copy;
			o->len = (uint32_t)name_len;
			o->exclude = exclude;
			o->any_tld = any_tld;
			(*count)++;
		}
		i = end + 1;
	}
	return 0;
}

static struct list_info *list_for_rule(struct matcher *m, int list)
{
	if (m->finished)
		return NULL;
	return matcher_list(m, list);
}

/*
 * Appends rule `index` of `rules` to a domain's chain (first rule *head,
 * last *tail), keeping load order. Every rule struct begins with its `next`.
 */
_Static_assert(offsetof(struct host_rule, next) == 0 && offsetof(struct url_rule, next) == 0 &&
	       offsetof(struct regex_rule, next) == 0, "rule chains link through a first member");
static void chain_append(struct vec *rules, uint32_t *head, uint32_t *tail, uint32_t index)
{
	if (*tail == NONE)
		*head = index;
	else
		memcpy((char *)rules->items + (size_t)*tail * rules->size, &index, sizeof index);
	*tail = index;
}

static int rule_head_init(struct matcher *m, struct rule_head *h, int list,
			  const struct rule_options *options, const char *text, size_t text_len)
{
	h->next = NONE;
	h->list = (uint16_t)list;
	h->flags = (uint16_t)options->flags;
	h->party = (uint8_t)options->party;
	h->types = options->types & RT_ALL;
	h->text = arena_strndup(m, text, text_len);
	if (!h->text)
		return -1;
	return add_domopts(m, options->domains, options->domains_len, &h->domopt_first, &h->domopt_count);
}

int matcher_add_host_rule(struct matcher *m, int list, const char *host, size_t host_len,
			  const struct rule_options *options, const char *text, size_t text_len)
{
	struct list_info *l = list_for_rule(m, list);
	if (!l)
		return -1;
	uint32_t d = dom_get(m, host, host_len);
	if (d == NONE)
		return -1;
	struct host_rule *r = vec_push(&m->host_rules);
	if (!r || rule_head_init(m, &r->head, list, options, text, text_len) < 0)
		return -1;
	uint32_t index = (uint32_t)m->host_rules.count - 1;
	chain_append(&m->host_rules, &VEC_AT(m->doms, struct dom, d)->host_rules,
		     &VEC_AT(m->dom_tails, struct dom_tails, d)->host_rules, index);
	l->rules++;
	return 0;
}

/* ASCII letters in lower case, other bytes as they are (URLs compare so, whatever the locale). */
static inline unsigned char fold_ascii(unsigned char c)
{
	return (unsigned char)((unsigned)c - 'A' < 26u ? c + ('a' - 'A') : c);
}

/*
 * Whether a generic pattern constrains only the host: "||" then name
 * characters and '*', ending at most with one '^' or '|'.
 */
static bool host_pattern_only(const char *p, size_t len)
{
	if (len < 3 || p[0] != '|' || p[1] != '|')
		return false;
	if (p[len - 1] == '^' || p[len - 1] == '|')
		len--;
	for (size_t i = 2; i < len; i++) {
		unsigned char c = (unsigned char)p[i];
		if (!(isalnum(c) || c == '.' || c == '-' || c == '_' || c == '*'))
			return false;
	}
	return len > 2;
}

int matcher_add_url_rule(struct matcher *m, int list, const char *anchor_host, size_t anchor_len,
			 const char *pattern, size_t pattern_len,
			 const struct rule_options *options, const char *text, size_t text_len)
{
	struct list_info *l = list_for_rule(m, list);
	if (!l || pattern_len > UINT32_MAX)
		return -1;
	uint32_t d = NONE;
	if (anchor_host) {
		d = dom_get(m, anchor_host, anchor_len);
		if (d == NONE)
			return -1;
	}
	struct url_rule *r = vec_push(&m->url_rules);
	if (!r || rule_head_init(m, &r->head, list, options, text, text_len) < 0)
		return -1;
	uint32_t index = (uint32_t)m->url_rules.count - 1;
	char *folded = arena_strndup(m, pattern, pattern_len);
	if (!folded)
		return -1;
	/* Patterns that ignore case are kept in lower case: a lookup folds the URL once. */
	for (size_t i = 0; !(r->flags & RULE_MATCH_CASE) && i < pattern_len; i++)
		folded[i] = (char)fold_ascii((unsigned char)folded[i]);
	r->pattern = folded;
	r->pattern_len = (uint32_t)pattern_len;
	if (d == NONE) {
		uint32_t *g = vec_push(&m->generic_rules);
		if (!g)
			return -1;
		*g = index;
		if (host_pattern_only(pattern, pattern_len)) {
			/* Its last whole labels: after the last '*', from the first '.' on. */
			size_t end = pattern_len - (pattern[pattern_len - 1] == '^' || pattern[pattern_len - 1] == '|');
			size_t star = end;
			while (star > 2 && pattern[star - 1] != '*')
				star--;
			const char *dot = star > 2 ? memchr(pattern + star, '.', end - star) : NULL;
			uint32_t tail = NONE;
			if (dot && dot + 1 < pattern + end && pattern[end - 1] != '.')
				tail = dom_get(m, dot + 1, (size_t)(pattern + end - dot - 1));
			struct host_pattern *hp = vec_push(&m->host_patterns);
			if (!hp)
				return -1;
			hp->rule = index;
			hp->first = pattern[2] != '*' && pattern[2] != '^' ? (char)fold_ascii((unsigned char)pattern[2]) : 0;
			hp->next = NONE;
			if (tail != NONE) {
				struct dom *node = VEC_AT(m->doms, struct dom, tail);
				hp->on_dom = true;
				hp->next = node->host_patterns;
				node->host_patterns = (uint32_t)m->host_patterns.count - 1;
				l->rules++;
				return 0;
			}
			size_t label = 2;
			while (label < pattern_len && pattern[label] != '.' && pattern[label] != '*' &&
			       pattern[label] != '^' && pattern[label] != '|')
				label++;
			/* A whole literal first label: ends at '.', or at a final '^' or '|'. */
			if (label > 2 && label < pattern_len &&
			    (pattern[label] == '.' || label + 1 == pattern_len)) {
				char lower[NAME_BUF];
				size_t n = canonical_name(pattern + 2, label - 2, lower);
				hp->label_hash = n ? label_hash(lower, n) : 0;
			}
			if (hp->label_hash)
				m->host_pattern_bits[(hp->label_hash >> 6) & 63] |= 1ULL << (hp->label_hash & 63);
		}
	} else {
		chain_append(&m->url_rules, &VEC_AT(m->doms, struct dom, d)->url_rules,
			     &VEC_AT(m->dom_tails, struct dom_tails, d)->url_rules, index);
	}
	l->rules++;
	return 0;
}

int matcher_add_entity(struct matcher *m, int list, const char *domain, size_t domain_len,
		       const char *entity, const char *category, int verdict)
{
	struct list_info *l = list_for_rule(m, list);
	if (!l)
		return -1;
	uint32_t d = dom_get(m, domain, domain_len);
	if (d == NONE)
		return -1;
	struct dom *node = VEC_AT(m->doms, struct dom, d);
	uint32_t e = node->entities;
	struct entity *ent = NULL;
	for (; e != NONE; e = ent->next) {
		ent = VEC_AT(m->entities, struct entity, e);
		if (ent->list == list)
			break;
	}
	if (e == NONE) {
		ent = vec_push(&m->entities);
		if (!ent)
			return -1;
		e = (uint32_t)m->entities.count - 1;
		ent->list = (uint16_t)list;
		ent->verdict = -1;
		ent->categories = NONE;
		ent->name = entity ? intern(m, entity) : NULL;
		if (entity && !ent->name)
			return -1;
		/* Keep the chain in load order: append. */
		node = VEC_AT(m->doms, struct dom, d);
		if (node->entities == NONE) {
			node->entities = e;
		} else {
			struct entity *last = VEC_AT(m->entities, struct entity, node->entities);
			while (last->next != NONE)
				last = VEC_AT(m->entities, struct entity, last->next);
			last->next = e;
		}
		ent->next = NONE;
		l->rules++;
	} else if (!ent->name && entity) {
		ent->name = intern(m, entity);
	}
	if (verdict > ent->verdict)
		ent->verdict = (int8_t)verdict;
	if (category && *category) {
		const char *name = intern(m, category);
		if (!name)
			return -1;
		uint32_t c = ent->categories, last = NONE, count = 0;
		for (; c != NONE; last = c, c = VEC_AT(m->categories, struct category, c)->next, count++) {
			struct category *cat = VEC_AT(m->categories, struct category, c);
			if (cat->name == name) {
				if (verdict > cat->verdict)
					cat->verdict = (int8_t)verdict;
				return 0;
			}
		}
		/* A lookup reports at most MATCH_MAX_CATEGORIES: more would only cost. */
		if (count >= MATCH_MAX_CATEGORIES) {
			matcher_skip(m, list, "more than 16 categories for a domain", 0);
			return 0;
		}
		struct category *cat = vec_push(&m->categories);
		if (!cat)
			return -1;
		cat->next = NONE;
		cat->name = name;
		cat->verdict = (int8_t)verdict;
		c = (uint32_t)m->categories.count - 1;
		ent = VEC_AT(m->entities, struct entity, e);
		if (last == NONE)
			ent->categories = c;
		else
			VEC_AT(m->categories, struct category, last)->next = c;
	}
	return 0;
}

int matcher_add_cname(struct matcher *m, int list, const char *name, size_t name_len,
		      const char *target, size_t target_len)
{
	struct list_info *l = list_for_rule(m, list);
	if (!l)
		return -1;
	char canon[NAME_BUF];
	size_t len = canonical_name(target, target_len, canon);
	uint32_t d = len ? dom_get(m, name, name_len) : NONE;
	if (d == NONE)
		return -1;
	struct dom *node = VEC_AT(m->doms, struct dom, d);
	if (node->cname)
		return 0;   /* the first list to alias a name keeps it */
	node->cname = arena_strndup(m, canon, len);
	node->cname_list = (int16_t)list;
	if (!node->cname)
		return -1;
	l->rules++;
	return 0;
}

/*
 * Whether a rule's expression may be compiled and run: no back-reference
 * ("(.*)\\1" makes glibc's matcher exponential in the URL's length; the TDS
 * has none) and a cost matcher_regex_cost() accepts. The same test when a
 * snapshot is read back.
 */
static bool regex_acceptable(const char *regex)
{
	for (const char *b = strchr(regex, '\\'); b; b = strchr(b + 2, '\\')) {
		if (b[1] >= '1' && b[1] <= '9')
			return false;
		if (!b[1])
			break;
	}
	return matcher_regex_cost(regex, strlen(regex)) > 0;
}

int matcher_add_regex_rule(struct matcher *m, int list, const char *domain, size_t domain_len,
			   const char *regex, const struct rule_options *options,
			   const char *except_domains, size_t except_domains_len, uint32_t except_types)
{
	struct list_info *l = list_for_rule(m, list);
	if (!l)
		return -1;
	uint32_t d = dom_get(m, domain, domain_len);
	if (d == NONE)
		return -1;
	/* Left out like one that does not compile: see regex_acceptable(). */
	if (!regex_acceptable(regex))
		return 1;
	struct regex_rule *r = vec_push(&m->regex_rules);
	if (!r)
		return -1;
	if (regcomp(&r->re, regex, REG_EXTENDED | REG_ICASE | REG_NOSUB) != 0) {
		m->regex_rules.count--;
		return 1;
	}
	uint32_t index = (uint32_t)m->regex_rules.count - 1;
	r->next = NONE;
	r->list = (uint16_t)list;
	r->flags = (uint16_t)options->flags;
	r->types = options->types & RT_ALL;
	r->except_types = except_types & RT_ALL;
	r->text = arena_strndup(m, regex, strlen(regex));
	if (!r->text ||
	    add_domopts(m, options->domains, options->domains_len, &r->domopt_first, &r->domopt_count) < 0 ||
	    add_domopts(m, except_domains, except_domains_len, &r->except_first, &r->except_count) < 0)
		return -1;
	chain_append(&m->regex_rules, &VEC_AT(m->doms, struct dom, d)->regex_rules,
		     &VEC_AT(m->dom_tails, struct dom_tails, d)->regex_rules, index);
	l->rules++;
	return 0;
}

int matcher_add_cookie(struct matcher *m, int list, const struct cookie_info *cookie)
{
	struct list_info *l = list_for_rule(m, list);
	if (!l || !cookie->name || !*cookie->name)
		return -1;
	struct cookie_info *c = vec_push(&m->cookies);
	if (!c)
		return -1;
	c->name = arena_strndup(m, cookie->name, strlen(cookie->name));
	c->prefix = cookie->prefix;
	c->platform = intern(m, cookie->platform ? cookie->platform : "");
	c->category = intern(m, cookie->category ? cookie->category : "");
	c->domain = intern(m, cookie->domain ? cookie->domain : "");
	c->retention = intern(m, cookie->retention ? cookie->retention : "");
	c->controller = intern(m, cookie->controller ? cookie->controller : "");
	c->list = list;
	if (!c->name || !c->platform || !c->category || !c->domain || !c->retention || !c->controller)
		return -1;
	l->rules++;
	return 0;
}

static int prefix_longer_first(const void *a, const void *b, void *arg)
{
	const struct matcher *m = arg;
	const struct cookie_info *x = VEC_AT(m->cookies, const struct cookie_info, *(const uint32_t *)a);
	const struct cookie_info *y = VEC_AT(m->cookies, const struct cookie_info, *(const uint32_t *)b);
	size_t lx = strlen(x->name), ly = strlen(y->name);
	if (lx != ly)
		return lx > ly ? -1 : 1;
	return x < y ? -1 : x > y;
}

static int index_generic_rules(struct matcher *m);

static int by_label_hash(const void *a, const void *b, void *arg)
{
	const struct matcher *m = arg;
	uint64_t x = VEC_AT(m->host_patterns, const struct host_pattern, *(const uint32_t *)a)->label_hash;
	uint64_t y = VEC_AT(m->host_patterns, const struct host_pattern, *(const uint32_t *)b)->label_hash;
	if (x != y)
		return x < y ? -1 : 1;
	/* Load order within a label, so the first list's rule is met first. */
	return *(const uint32_t *)a < *(const uint32_t *)b ? -1 : 1;
}

int matcher_finish(struct matcher *m)
{
	if (m->finished)
		return 0;
	/* Cookies: an exact-name table (first list wins) and the prefixes, longest first. */
	size_t size = 64;
	while (size < m->cookies.count * 2)
		size *= 2;
	m->cookie_slots = calloc(size, sizeof *m->cookie_slots);
	m->cookie_prefixes = calloc(m->cookies.count + 1, sizeof *m->cookie_prefixes);
	if (!m->cookie_slots || !m->cookie_prefixes)
		return -1;
	m->cookie_mask = size - 1;
	for (size_t i = 0; i < m->cookies.count; i++) {
		const struct cookie_info *c = VEC_AT(m->cookies, const struct cookie_info, i);
		if (c->prefix) {
			m->cookie_prefixes[m->cookie_prefix_count++] = (uint32_t)i;
			continue;
		}
		size_t j = hash_bytes(c->name, strlen(c->name)) & m->cookie_mask;
		bool seen = false;
		for (; m->cookie_slots[j]; j = (j + 1) & m->cookie_mask) {
			const struct cookie_info *o =
				VEC_AT(m->cookies, const struct cookie_info, m->cookie_slots[j] - 1);
			if (strcmp(o->name, c->name) == 0) {
				seen = true;
				break;
			}
		}
		if (!seen)
			m->cookie_slots[j] = (uint32_t)i + 1;
	}
	qsort_r(m->cookie_prefixes, m->cookie_prefix_count, sizeof *m->cookie_prefixes,
		prefix_longer_first, m);
	m->keyed_patterns = calloc(m->host_patterns.count + 1, sizeof *m->keyed_patterns);
	m->unkeyed_patterns = calloc(m->host_patterns.count + 1, sizeof *m->unkeyed_patterns);
	if (!m->keyed_patterns || !m->unkeyed_patterns)
		return -1;
	for (size_t i = 0; i < m->host_patterns.count; i++) {
		const struct host_pattern *hp = VEC_AT(m->host_patterns, const struct host_pattern, i);
		if (hp->on_dom)
			continue;
		if (hp->label_hash)
			m->keyed_patterns[m->keyed_count++] = (uint32_t)i;
		else
			m->unkeyed_patterns[m->unkeyed_count++] = (uint32_t)i;
	}
	qsort_r(m->keyed_patterns, m->keyed_count, sizeof *m->keyed_patterns, by_label_hash, m);
	if (index_generic_rules(m) < 0)
		return -1;
	size_t bits = 1u << 16;
	while (bits < m->doms.count * 20 && bits < (1u << 26))
		bits *= 2;
	m->filter = calloc(bits / 64, sizeof *m->filter);
	if (!m->filter)
		return -1;
	m->filter_mask = bits - 1;
	for (size_t i = 0; i < m->doms.count; i++) {
		uint64_t bit = (mix64(VEC_AT(m->dom_tails, const struct dom_tails, i)->hash) >> 7) & m->filter_mask;
		m->filter[bit / 64] |= 1ULL << (bit % 64);
	}
	/* Each entity's categories side by side, in their order: a lookup then
	   reads them from one or two cache lines rather than one each. */
	if (m->categories.count > 0) {
		struct category *packed = malloc(m->categories.count * sizeof *packed);
		if (!packed)
			return -1;
		uint32_t n = 0;
		for (size_t e = 0; e < m->entities.count; e++) {
			struct entity *ent = VEC_AT(m->entities, struct entity, e);
			uint32_t c = ent->categories;
			if (c == NONE)
				continue;
			ent->categories = n;
			while (c != NONE) {
				packed[n] = *VEC_AT(m->categories, struct category, c);
				c = packed[n].next;
				packed[n].next = c == NONE ? NONE : n + 1;
				n++;
			}
		}
		free(m->categories.items);
		m->categories.items = packed;
		m->categories.cap = m->categories.count;
	}

	/* No more rules will come: the tails go, and the arrays give back what they grew beyond. */
	free(m->dom_tails.items);
	m->dom_tails = (struct vec){ .size = sizeof(struct dom_tails) };
	struct vec *vecs[] = { &m->doms, &m->host_rules, &m->url_rules, &m->regex_rules,
			       &m->entities, &m->categories, &m->domopts, &m->generic_rules,
			       &m->cookies, &m->host_patterns };
	for (size_t i = 0; i < sizeof vecs / sizeof vecs[0]; i++) {
		if (vecs[i]->count == 0 || vecs[i]->count == vecs[i]->cap || vecs[i]->aligned)
			continue;
		void *items = realloc(vecs[i]->items, vecs[i]->count * vecs[i]->size);
		if (items) {
			vecs[i]->items = items;
			vecs[i]->cap = vecs[i]->count;
		}
	}
	m->finished = true;
	return 0;
}

/* ---- Lookups ---- */

static pthread_once_t psl_once = PTHREAD_ONCE_INIT;
static psl_ctx_t *psl;

static void psl_init(void)
{
	/* The newest of libpsl's built-in list and the system's (publicsuffix package). */
	psl = psl_latest(NULL);
	if (!psl)
		psl = (psl_ctx_t *)psl_builtin();
}

/*
 * libpsl answers in about a microsecond, and the same few sites and hosts
 * are asked again and again: each thread keeps the last answers for short
 * names, direct-mapped by hash (offset of the registrable domain, or -1).
 */
enum { PSL_CACHE = 512, PSL_CACHE_NAME = 64 };
struct psl_cached {
	char name[PSL_CACHE_NAME];
	int16_t offset;
};

/*
 * Whether `suffix` is a public suffix (libpsl, ICANN and private rules),
 * remembered per thread: a few thousand suffixes ("com", "co.uk",
 * "google-analytics.com") answer most names.
 */
enum { SUFFIX_CACHE = 4096, SUFFIX_CACHE_NAME = 56 };
struct suffix_cached {
	char name[SUFFIX_CACHE_NAME];
	int8_t is_public;          /* 1, 0; the entry is empty when name[0] is 0 */
};

/*
 * A thread's two caches (260 KiB), made at its first lookup and freed when
 * it ends: as thread-local arrays, every thread of the program (the capture,
 * the file hash, nDPI's start) had them zeroed at its start. NULL when they
 * cannot be made: every lookup then asks libpsl.
 */
struct psl_caches {
	struct psl_cached psl[PSL_CACHE];
	struct suffix_cached suffix[SUFFIX_CACHE];
};
static _Thread_local struct psl_caches *thread_caches;

static void caches_free(void *caches)
{
	free(caches);
	thread_caches = NULL;
}

static struct thread_table caches_tables = THREAD_TABLE_INIT(caches_free);

static struct psl_caches *caches(void)
{
	if (!thread_caches)
		thread_caches = thread_table_make(&caches_tables, sizeof *thread_caches);
	return thread_caches;
}

static bool public_suffix(const char *suffix)
{
	size_t len = strlen(suffix);
	struct psl_caches *caches_now = caches();
	if (len >= SUFFIX_CACHE_NAME || !caches_now)
		return psl_is_public_suffix2(psl, suffix, PSL_TYPE_ANY) != 0;
	struct suffix_cached *c = &caches_now->suffix[hash_bytes(suffix, len) & (SUFFIX_CACHE - 1)];
	if (memcmp(c->name, suffix, len + 1) != 0) {
		c->is_public = psl_is_public_suffix2(psl, suffix, PSL_TYPE_ANY) != 0;
		memcpy(c->name, suffix, len + 1);
	}
	return c->is_public;
}

/*
 * psl_registrable_domain()'s walk, with public_suffix() for its test: from
 * the left, the name before the first suffix (longest) that is public. From
 * the left, because the list is not closed under suffixes
 * ("s3.amazonaws.com" is public, "amazonaws.com" is not).
 */
static const char *registrable_uncached(const char *host)
{
	/* An address is no domain: libpsl would make "3.4" of "10.0.3.4". */
	unsigned char addr[16];
	if (inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1)
		return NULL;
	pthread_once(&psl_once, psl_init);
	if (!psl || *host == '.')
		return NULL;
	const char *regdom = NULL, *domain = host, *dot;
	while (!public_suffix(domain)) {
		if (!(dot = strchr(domain, '.')))
			break;
		regdom = domain;
		domain = dot + 1;
	}
	return regdom;
}

const char *matcher_registrable_domain(const char *host)
{
	size_t len = strlen(host);
	struct psl_caches *caches_now = len == 0 || len >= PSL_CACHE_NAME ? NULL : caches();
	if (!caches_now)
		return registrable_uncached(host);
	struct psl_cached *c = &caches_now->psl[hash_bytes(host, len) & (PSL_CACHE - 1)];
	if (memcmp(c->name, host, len + 1) != 0) {
		const char *reg = registrable_uncached(host);
		memcpy(c->name, host, len + 1);
		c->offset = reg ? (int16_t)(reg - host) : -1;
	}
	return c->offset < 0 ? NULL : host + c->offset;
}

/* What a lookup knows of its context. */
struct context {
	const char *host;          /* canonical */
	size_t host_len;
	const char *site;          /* canonical, or NULL */
	size_t site_len;
	int third_party;           /* -2 until first needed */
	uint32_t type;             /* RT_ bit or 0 */
	uint64_t labels[MAX_LABELS]; /* label_hash() of each label of host, left to right */
	size_t label_count;
	const char *url_folded;    /* a URL lookup's URL in lower case (ASCII), else NULL */
};

/* Whether `name` is `domain` or under it. */
static bool name_under(const char *name, size_t len, const char *domain, size_t domain_len)
{
	if (len < domain_len || memcmp(name + len - domain_len, domain, domain_len) != 0)
		return false;
	return len == domain_len || name[len - domain_len - 1] == '.';
}

static int third_party(struct context *ctx)
{
	if (ctx->third_party != -2)
		return ctx->third_party;
	if (!ctx->site) {
		ctx->third_party = -1;
		return -1;
	}
	const char *a = matcher_registrable_domain(ctx->host);
	const char *b = matcher_registrable_domain(ctx->site);
	if (!a)
		a = ctx->host;
	if (!b)
		b = ctx->site;
	ctx->third_party = strcmp(a, b) != 0;
	return ctx->third_party;
}

/* "$domain=" conditions: the site must match an included name (when any) and no excluded one. */
static bool domopts_allow(const struct matcher *m, uint32_t first, uint32_t count, const struct context *ctx)
{
	if (count == 0)
		return true;
	bool any_include = false, included = false;
	for (uint32_t i = 0; i < count; i++) {
		const struct domopt *o = VEC_AT(m->domopts, const struct domopt, first + i);
		if (!o->exclude)
			any_include = true;
		if (!ctx->site)
			continue;
		bool hit;
		if (o->any_tld) {
			/* "example.*": the site's registrable domain begins with "example." */
			const char *reg = matcher_registrable_domain(ctx->site);
			if (!reg)
				reg = ctx->site;
			hit = strncmp(reg, o->name, o->len) == 0 && reg[o->len] == '.';
		} else {
			hit = name_under(ctx->site, ctx->site_len, o->name, o->len);
		}
		if (hit && o->exclude)
			return false;
		if (hit)
			included = true;
	}
	return !any_include || included;
}

static bool party_allows(uint8_t party, struct context *ctx)
{
	if (party == PARTY_ANY)
		return true;
	int third = third_party(ctx);
	if (third < 0)
		return true;   /* no site: the contact counts (see matcher.h) */
	return party == PARTY_THIRD ? third == 1 : third == 0;
}

/* ABP separator: anything but a letter, digit, or one of "_-.%". */
static bool abp_separator(unsigned char c)
{
	return !(isalnum(c) || c == '_' || c == '-' || c == '.' || c == '%');
}

/*
 * Where the literal byte c next occurs in t[from, tlen), comparing t folded
 * to lower case when `fold`; tlen when nowhere.
 */
static size_t glob_seek(unsigned char c, const char *t, size_t from, size_t tlen, bool fold)
{
	if (!fold) {
		const char *at = from < tlen ? memchr(t + from, c, tlen - from) : NULL;
		return at ? (size_t)(at - t) : tlen;
	}
	while (from < tlen && fold_ascii((unsigned char)t[from]) != c)
		from++;
	return from;
}

/*
 * Whether pattern p (with '*' and '^', no anchors) matches text t from its
 * start: all of t when `to_end`, else any prefix of it. Iterative, with the
 * usual back-tracking to the last '*' only, so at worst O(|p| x |t|); after
 * a '*' the text is skipped to where the next literal byte of the pattern
 * occurs (memchr), which is where nearly all the time would go otherwise.
 * A pattern that ignores case is in lower case already (matcher_add_url_rule)
 * and URL lookups fold the URL once; `fold` folds both as they are read (host
 * patterns, whose $match-case rules are kept as written, against a name).
 * `star_p` 0 acts as a '*' before the pattern (a match anywhere in t);
 * SIZE_MAX for none.
 */
static bool abp_glob_from(const char *p, size_t plen, const char *t, size_t tlen, bool to_end,
			  bool fold, size_t star_p)
{
	size_t pi = 0, ti = 0, star_t = 0;
	if (star_p == 0 && plen > 0 && p[0] != '*' && p[0] != '^') {
		unsigned char c = (unsigned char)p[0];
		ti = star_t = glob_seek(fold ? fold_ascii(c) : c, t, 0, tlen, fold);
		if (ti == tlen)
			return false;
	}
	for (;;) {
		if (pi == plen && (!to_end || ti == tlen))
			return true;
		if (pi < plen && p[pi] == '*') {
			star_p = ++pi;
			star_t = ti;
			continue;
		}
		if (pi < plen && ti < tlen) {
			unsigned char pc = (unsigned char)p[pi], tc = (unsigned char)t[ti];
			bool ok;
			if (pc == '^')
				ok = abp_separator(tc);
			else
				ok = fold ? fold_ascii(pc) == fold_ascii(tc) : pc == tc;
			if (ok) {
				pi++;
				ti++;
				continue;
			}
		} else if (pi < plen && ti == tlen && p[pi] == '^') {
			/* '^' also matches the end of the URL. */
			pi++;
			continue;
		}
		if (star_p == SIZE_MAX || star_t >= tlen)
			return false;
		pi = star_p;
		ti = ++star_t;
		if (pi < plen && p[pi] != '*' && p[pi] != '^') {
			/* The text after the '*' must begin with this byte. */
			unsigned char c = (unsigned char)p[pi];
			ti = star_t = glob_seek(fold ? fold_ascii(c) : c, t, star_t, tlen, fold);
			if (ti == tlen)
				return false;
		}
	}
}

static bool abp_glob(const char *p, size_t plen, const char *t, size_t tlen, bool to_end, bool fold)
{
	return abp_glob_from(p, plen, t, tlen, to_end, fold, SIZE_MAX);
}

/*
 * A whole ABP pattern (with its anchors) against a URL whose host spans
 * [host_start, host_end).
 */
static bool abp_match(const char *p, size_t plen, const char *url, size_t ulen,
		      size_t host_start, size_t host_end)
{
	bool end_anchor = plen > 0 && p[plen - 1] == '|' && !(plen >= 2 && p[plen - 2] == '|' && plen == 2);
	if (end_anchor)
		plen--;
	if (plen >= 2 && p[0] == '|' && p[1] == '|') {
		/* At the start of the host or of any of its labels. */
		for (size_t s = host_start; s < host_end; s++) {
			if (s != host_start && url[s - 1] != '.')
				continue;
			if (abp_glob(p + 2, plen - 2, url + s, ulen - s, end_anchor, false))
				return true;
		}
		return false;
	}
	if (plen >= 1 && p[0] == '|')
		return abp_glob(p + 1, plen - 1, url, ulen, end_anchor, false);
	/* Anywhere in the URL: one pass, as if the pattern began with '*'. */
	return abp_glob_from(p, plen, url, ulen, end_anchor, false, 0);
}

/* The state of one lookup as it walks the matched domains, most specific first. */
struct verdicts {
	const struct host_rule *block, *exception;
	/* A block with $important, which no exception clears (as in uBlock Origin). */
	const struct rule_head *important;
	const char *important_domain;
	bool important_host_only;
	const struct url_rule *url_block, *url_exception;
	bool url_block_host_only;
	const struct dom *block_dom, *exception_dom;
	bool block_host_only;
	uint64_t lists;
	uint64_t entity_lists_seen;       /* lists whose verdict is taken */
	const struct entity *tracking, *not_tracking;
	const struct dom *tracking_dom, *not_tracking_dom;
	const struct entity *entity;      /* the company's entry */
	const struct regex_rule *regex_hit;
	const struct dom *regex_dom;
	bool regex_ignore;         /* the hit allows: action "ignore" or an exception */
};

/*
 * Whether a rule's conditions hold for this lookup. A rule for some types
 * only, asked about a request of unknown type (a bare name), holds with
 * *host_only set: the type could not be checked.
 */
static bool rule_applies(const struct matcher *m, const struct rule_head *r, struct context *ctx,
			 bool *host_only)
{
	*host_only = false;
	if (r->types != 0) {
		if (ctx->type != 0) {
			if (!(r->types & ctx->type))
				return false;
		} else {
			*host_only = true;
		}
	}
	if (!domopts_allow(m, r->domopt_first, r->domopt_count, ctx))
		return false;
	return party_allows(r->party, ctx);
}

/*
 * Whether URL rule `a` is reported before `b` (NULL: none yet): the earlier
 * list; in one list a rule for every type before one for some types only;
 * then the rule loaded first, so the answer does not depend on the order in
 * which the index offers rules.
 */
static bool url_rule_first(const struct matcher *m, const struct url_rule *a, bool a_host_only,
			   const struct url_rule *b, bool b_host_only)
{
	if (!b || a->list != b->list)
		return !b || a->list < b->list;
	if (a_host_only != b_host_only)
		return !a_host_only;
	const struct url_rule *base = m->url_rules.items;
	return a - base < b - base;
}

/* Remembers a block rule with $important (the first list's). */
static void note_important(struct verdicts *v, const struct rule_head *r, const char *domain, bool host_only)
{
	if (!(r->flags & RULE_IMPORTANT) || (r->flags & RULE_EXCEPTION))
		return;
	if (!v->important || r->list < v->important->list) {
		v->important = r;
		v->important_domain = domain;
		v->important_host_only = host_only;
	}
}

static void consider_host_rules(const struct matcher *m, const struct dom *d, struct context *ctx,
				struct verdicts *v)
{
	for (uint32_t i = d->host_rules; i != NONE;) {
		const struct host_rule *r = VEC_AT(m->host_rules, const struct host_rule, i);
		i = r->next;
		bool host_only;
		if (!rule_applies(m, &r->head, ctx, &host_only))
			continue;
		if (r->flags & RULE_EXCEPTION) {
			/* An exception for some types only does not clear a bare name:
			   the contact may well have been of another type. */
			if (host_only)
				continue;
			v->lists |= 1ULL << r->list;
			if (!v->exception || r->list < v->exception->list) {
				v->exception = r;
				v->exception_dom = d;
			}
			continue;
		}
		v->lists |= 1ULL << r->list;
		if (!v->block || r->list < v->block->list ||
		    (r->list == v->block->list && v->block_host_only && !host_only)) {
			v->block = r;
			v->block_dom = d;
			v->block_host_only = host_only;
		}
		note_important(v, &r->head, d->name, host_only);
	}
}

static void consider_url_rule(const struct matcher *m, const struct url_rule *r, const struct dom *d,
			      struct context *ctx, const char *url, size_t ulen, size_t host_start,
			      size_t host_end, struct verdicts *v)
{
	bool host_only;
	if (!rule_applies(m, &r->head, ctx, &host_only))
		return;
	/* A pattern for some types only, not tied to a host ("$ping,third-party",
	   "/pixel.$image"), says nothing of a request of unknown type. */
	if (host_only && !d)
		return;
	/* The URL as it is for $match-case, else folded as the pattern is (lookup()). */
	const char *text = (r->flags & RULE_MATCH_CASE) ? url : ctx->url_folded;
	bool hit;
	if (d) {
		/* Anchored at the label where the domain begins: the rest of
		   the pattern must match right after the host's end. */
		size_t plen = r->pattern_len;
		bool end_anchor = plen > 0 && r->pattern[plen - 1] == '|';
		hit = abp_glob(r->pattern, plen - end_anchor, text + host_end, ulen - host_end,
			       end_anchor, false);
	} else {
		hit = abp_match(r->pattern, r->pattern_len, text, ulen, host_start, host_end);
	}
	if (!hit)
		return;
	/* As for host rules: an exception for some types only does not clear
	   a request of unknown type, and a block for some types is host-only. */
	if ((r->flags & RULE_EXCEPTION) && host_only)
		return;
	v->lists |= 1ULL << r->list;
	if (r->flags & RULE_EXCEPTION) {
		if (url_rule_first(m, r, false, v->url_exception, false))
			v->url_exception = r;
	} else if (url_rule_first(m, r, host_only, v->url_block, v->url_block_host_only)) {
		v->url_block = r;
		v->url_block_host_only = host_only;
	}
	note_important(v, &r->head, d ? d->name : NULL, host_only);
}

static void consider_entities(const struct matcher *m, const struct dom *d, struct verdicts *v)
{
	for (uint32_t i = d->entities; i != NONE;) {
		const struct entity *e = VEC_AT(m->entities, const struct entity, i);
		i = e->next;
		v->lists |= 1ULL << e->list;
		if (!v->entity && e->name)
			v->entity = e;
		if (e->verdict < 0 || (v->entity_lists_seen & (1ULL << e->list)))
			continue;
		/* The most specific entry of each list gives that list's verdict. */
		v->entity_lists_seen |= 1ULL << e->list;
		if (e->verdict == 1 && (!v->tracking || e->list < v->tracking->list)) {
			v->tracking = e;
			v->tracking_dom = d;
		} else if (e->verdict == 0 && (!v->not_tracking || e->list < v->not_tracking->list)) {
			v->not_tracking = e;
			v->not_tracking_dom = d;
		}
	}
}

/*
 * TDS rules of a tracker domain, in order; the first that matches decides
 * for its list. A rule is for the sites and types of its "options" (an
 * unknown type passes); a request matching its "exceptions" (the sites, if
 * any, and the types, if any, both) is allowed. An exception that needs a
 * site or type the lookup does not know is not taken: the request counts.
 */
static void consider_regex_rules(const struct matcher *m, const struct dom *d, struct context *ctx,
				 const char *url_z, struct verdicts *v)
{
	for (uint32_t i = d->regex_rules; i != NONE;) {
		const struct regex_rule *r = VEC_AT(m->regex_rules, const struct regex_rule, i);
		i = r->next;
		if (r->types && ctx->type && !(r->types & ctx->type))
			continue;
		if (r->domopt_count && !domopts_allow(m, r->domopt_first, r->domopt_count, ctx))
			continue;
		if (regexec(&r->re, url_z, 0, NULL, 0) != 0)
			continue;
		bool excepted = false;
		if (r->except_count || r->except_types) {
			bool site_ok = !r->except_count;
			for (uint32_t k = 0; k < r->except_count && ctx->site; k++) {
				const struct domopt *o = VEC_AT(m->domopts, const struct domopt, r->except_first + k);
				site_ok |= name_under(ctx->site, ctx->site_len, o->name, o->len);
			}
			bool type_ok = !r->except_types || (ctx->type && (r->except_types & ctx->type));
			excepted = site_ok && type_ok;
		}
		v->lists |= 1ULL << r->list;
		v->regex_hit = r;
		v->regex_dom = d;
		v->regex_ignore = excepted || (r->flags & RULE_IGNORE);
		return;
	}
}

/* One host-only pattern against a bare name, at each label from the first up to `last_start`. */
static void consider_host_pattern(const struct matcher *m, const struct host_pattern *hp, struct context *ctx,
				  size_t first_start, size_t last_start, struct verdicts *v)
{
	const struct url_rule *r = VEC_AT(m->url_rules, const struct url_rule, hp->rule);
	const char *host = ctx->host;
	size_t len = ctx->host_len;
	const char *p = r->pattern + 2;
	size_t plen = r->pattern_len - 2;
	bool end_anchor = plen > 0 && p[plen - 1] == '|';
	bool host_only;
	if (!rule_applies(m, &r->head, ctx, &host_only))
		return;
	bool hit = false;
	/* Most tries fail on the first byte: check it before the glob. */
	unsigned char first = plen > 0 && p[0] != '*' && p[0] != '^' ? fold_ascii((unsigned char)p[0]) : 0;
	for (size_t s = first_start; s <= last_start && s < len && !hit; s++)
		if ((s == 0 || host[s - 1] == '.') && (!first || (unsigned char)host[s] == first))
			hit = abp_glob(p, plen - end_anchor, host + s, len - s, end_anchor, true);
	if (!hit)
		return;
	v->lists |= 1ULL << r->list;
	if (r->flags & RULE_EXCEPTION) {
		if (!host_only && url_rule_first(m, r, false, v->url_exception, false))
			v->url_exception = r;
	} else if (url_rule_first(m, r, host_only, v->url_block, v->url_block_host_only)) {
		v->url_block = r;
		v->url_block_host_only = host_only;
	}
	note_important(v, &r->head, NULL, host_only);
}

/* Host-only patterns keyed by their first label (see struct matcher), at each label of the name. */
static void consider_keyed_host_patterns(const struct matcher *m, struct context *ctx, struct verdicts *v)
{
	const char *host = ctx->host;
	size_t len = ctx->host_len;
	size_t label = 0, start = 0;
	if (ctx->label_count == MAX_LABELS) {
		/* suffix_hashes() kept the last MAX_LABELS labels: begin where they do. */
		size_t total = 1;
		for (size_t i = 0; i < len; i++)
			total += host[i] == '.';
		for (size_t skip = total - MAX_LABELS; skip > 0; skip--)
			start = (size_t)((const char *)memchr(host + start, '.', len - start) - host) + 1;
	}
	for (; start < len && label < ctx->label_count; label++) {
		size_t end = start;
		while (end < len && host[end] != '.')
			end++;
		uint64_t h = ctx->labels[label];
		if (m->host_pattern_bits[(h >> 6) & 63] & (1ULL << (h & 63))) {
			/* keyed_patterns is sorted by label hash: the first equal one, then its run. */
			size_t lo = 0, hi = m->keyed_count;
			while (lo < hi) {
				size_t mid = lo + (hi - lo) / 2;
				if (VEC_AT(m->host_patterns, const struct host_pattern, m->keyed_patterns[mid])->label_hash < h)
					lo = mid + 1;
				else
					hi = mid;
			}
			for (size_t i = lo; i < m->keyed_count; i++) {
				const struct host_pattern *hp =
					VEC_AT(m->host_patterns, const struct host_pattern, m->keyed_patterns[i]);
				if (hp->label_hash != h)
					break;
				consider_host_pattern(m, hp, ctx, start, start, v);
			}
		}
		for (size_t i = 0; i < m->unkeyed_count; i++)
			consider_host_pattern(m, VEC_AT(m->host_patterns, const struct host_pattern,
							m->unkeyed_patterns[i]), ctx, start, start, v);
		start = end + 1;
	}
}

/* A token: a run of letters and digits, compared in lower case. */
static bool token_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* The next run of token characters in s[*at..len): its start in *start and length, or 0 at the end. */
static size_t next_token(const char *s, size_t len, size_t *at, size_t *start)
{
	size_t i = *at;
	while (i < len && !token_char((unsigned char)s[i]))
		i++;
	*start = i;
	while (i < len && token_char((unsigned char)s[i]))
		i++;
	*at = i;
	return i - *start;
}

static uint64_t token_hash(const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)tolower((unsigned char)s[i])) * 0x100000001b3ULL;
	return mix64(h) | 1;
}

/*
 * The token a URL must hold whole for a pattern to match it, or 0: the
 * longest run of token characters in the pattern that cannot continue into
 * more token characters of the URL on either side (it is bounded by a
 * literal non-token character, a '^', or an anchor), leaving out words
 * nearly every URL holds.
 */
static uint64_t pattern_token(const char *p, size_t len)
{
	static const char *const common[] = { "http", "https", "www", "com", "net", "org", "js", "html",
					      "php", "png", "gif", "jpg", "css" };
	bool start_anchor = len >= 1 && p[0] == '|';
	size_t begin = start_anchor ? (len >= 2 && p[1] == '|' ? 2 : 1) : 0;
	bool end_anchor = len > begin && p[len - 1] == '|';
	size_t end = len - end_anchor;
	size_t best_len = 0;
	uint64_t best = 0;
	size_t at = begin, i, n;
	while ((n = next_token(p, end, &at, &i)) > 0) {
		size_t j = i + n;
		bool left = i > begin ? p[i - 1] != '*' : start_anchor;
		bool right = j < end ? p[j] != '*' : end_anchor;
		bool usual = false;
		for (size_t k = 0; k < sizeof common / sizeof common[0]; k++)
			usual |= strlen(common[k]) == j - i && strncasecmp(common[k], p + i, j - i) == 0;
		if (left && right && !usual && n > best_len) {
			best_len = n;
			best = token_hash(p + i, n);
		}
	}
	return best;
}

static int by_token(const void *a, const void *b)
{
	const struct token_rule *x = a, *y = b;
	if (x->token != y->token)
		return x->token < y->token ? -1 : 1;
	return x->rule < y->rule ? -1 : x->rule > y->rule;
}

/* Builds the token index of the generic rules (struct matcher). */
static int index_generic_rules(struct matcher *m)
{
	size_t n = m->generic_rules.count;
	m->token_rules = calloc(n + 1, sizeof *m->token_rules);
	m->token_fallback = calloc(n + 1, sizeof *m->token_fallback);
	if (!m->token_rules || !m->token_fallback)
		return -1;
	for (size_t i = 0; i < n; i++) {
		uint32_t r = *VEC_AT(m->generic_rules, const uint32_t, i);
		const struct url_rule *rule = VEC_AT(m->url_rules, const struct url_rule, r);
		uint64_t token = pattern_token(rule->pattern, rule->pattern_len);
		if (token)
			m->token_rules[m->token_rule_count++] = (struct token_rule){ token, r };
		else
			m->token_fallback[m->token_fallback_count++] = r;
	}
	qsort(m->token_rules, m->token_rule_count, sizeof *m->token_rules, by_token);
	return 0;
}

/* The generic rules that can match this URL: those of each of its tokens (once each), and the fallback. */
static void consider_generic_rules(const struct matcher *m, struct context *ctx, const char *url, size_t url_len,
				   size_t host_start, size_t host_end, struct verdicts *v)
{
#ifdef MATCHER_LINEAR_GENERIC
	/* For checking the index (bench/check-token-index.sh): every generic rule, in turn. */
	for (size_t i = 0; i < m->generic_rules.count; i++)
		consider_url_rule(m, VEC_AT(m->url_rules, const struct url_rule,
					    *VEC_AT(m->generic_rules, const uint32_t, i)),
				  NULL, ctx, url, url_len, host_start, host_end, v);
	return;
#endif
	for (size_t i = 0; i < m->token_fallback_count; i++)
		consider_url_rule(m, VEC_AT(m->url_rules, const struct url_rule, m->token_fallback[i]), NULL, ctx,
				  url, url_len, host_start, host_end, v);
	if (m->token_rule_count == 0)
		return;
	uint64_t seen[64];
	size_t seen_count = 0;
	size_t at = 0, start, n;
	while ((n = next_token(url, url_len, &at, &start)) > 0) {
		uint64_t h = token_hash(url + start, n);
		bool again = false;
		for (size_t k = 0; k < seen_count && !again; k++)
			again = seen[k] == h;
		if (again)
			continue;
		if (seen_count < sizeof seen / sizeof seen[0])
			seen[seen_count++] = h;
		size_t lo = 0, hi = m->token_rule_count;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (m->token_rules[mid].token < h)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (; lo < m->token_rule_count && m->token_rules[lo].token == h; lo++)
			consider_url_rule(m, VEC_AT(m->url_rules, const struct url_rule, m->token_rules[lo].rule),
					  NULL, ctx, url, url_len, host_start, host_end, v);
	}
}

/* The domains of the table that `name` is or is under, most specific first. */
static size_t matched_doms(const struct matcher *m, const char *name, size_t len,
			   const struct dom **out, size_t max, uint64_t *labels, size_t *label_count)
{
	/* First every suffix's hash, past the filter; their table slots are
	   fetched from memory together (prefetch), then probed in turn. */
	uint64_t hashes[MAX_LABELS];
	size_t starts[MAX_LABELS];
	size_t probes = suffix_hashes(name, len, hashes, starts, labels);
	if (label_count)
		*label_count = probes;
	size_t kept = 0;
	for (size_t i = 0; i < probes; i++) {
		uint64_t bit = (mix64(hashes[i]) >> 7) & m->filter_mask;
		if (m->filter && !(m->filter[bit / 64] & (1ULL << (bit % 64))))
			continue;
		hashes[kept] = hashes[i];
		starts[kept++] = starts[i];
		if (m->slots)
			__builtin_prefetch(&m->slots[mix64(hashes[i]) & m->slot_mask]);
	}
	uint32_t found[MAX_LABELS];
	size_t n = 0;
	for (size_t i = 0; i < kept; i++) {
		uint32_t d = table_find(m, hashes[i], name + starts[i], len - starts[i]);
		if (d != NONE)
			found[n++] = d;
	}
	size_t count = 0;
	while (n > 0 && count < max)
		out[count++] = VEC_AT(m->doms, const struct dom, found[--n]);
	return count;
}

/* An entry's first category, or with `tracking` its first tracking one (NULL when it has none). */
static const char *category_text(const struct matcher *m, const struct entity *e, bool tracking)
{
	for (uint32_t c = e->categories; c != NONE;) {
		const struct category *cat = VEC_AT(m->categories, const struct category, c);
		c = cat->next;
		if (!tracking || cat->verdict == 1)
			return cat->name;
	}
	return NULL;
}

static void add_category(struct match *out, const char *name)
{
	if (!name)
		return;
	for (unsigned i = 0; i < out->category_count; i++)
		if (out->categories[i] == name)   /* interned: one pointer per text */
			return;
	if (out->category_count < MATCH_MAX_CATEGORIES)
		out->categories[out->category_count++] = name;
}

static void lookup(const struct matcher *m, const char *host_in, size_t host_len, const char *site_in,
		   const char *url, size_t url_len, size_t host_start, size_t host_end, uint32_t type,
		   struct match *out)
{
	/* Field by field: the categories array need not be cleared. */
	out->tracker = false;
	out->decided = (struct match_rule){ .list = -1 };
	out->host_only = false;
	out->lists = 0;
	out->entity = out->category = out->cname = NULL;
	out->category_count = 0;
	out->third_party = -1;
	char host[NAME_BUF], site[NAME_BUF];
	size_t len = canonical_name(host_in, host_len, host);
	if (len == 0)
		return;
	/* Field by field: the label array is filled as needed, not cleared. */
	struct context ctx;
	ctx.host = host;
	ctx.host_len = len;
	ctx.site = NULL;
	ctx.site_len = 0;
	ctx.third_party = -2;
	ctx.type = type;
	ctx.label_count = 0;
	if (site_in) {
		ctx.site_len = canonical_name(site_in, strlen(site_in), site);
		ctx.site = ctx.site_len ? site : NULL;
	}

	const struct dom *doms[MAX_LABELS * 2];
	size_t n = matched_doms(m, host, len, doms, MAX_LABELS, ctx.labels, &ctx.label_count);
	/* A TDS CNAME: the target's domains count as the name's own, after them. */
	for (size_t i = 0; i < n; i++) {
		if (doms[i]->cname && doms[i]->len == len) {
			out->cname = doms[i]->cname;
			out->lists |= 1ULL << doms[i]->cname_list;
			char target[NAME_BUF];
			size_t target_len = canonical_name(out->cname, strlen(out->cname), target);
			n += matched_doms(m, target, target_len, doms + n, MAX_LABELS, NULL, NULL);
			break;
		}
	}

	char url_z[URL_MAX_LEN + 1], url_folded[URL_MAX_LEN + 1];
	ctx.url_folded = NULL;
	if (url) {
		size_t copy = url_len < URL_MAX_LEN ? url_len : URL_MAX_LEN;
		memcpy(url_z, url, copy);
		url_z[copy] = '\0';
		for (size_t i = 0; i < copy; i++)
			url_folded[i] = (char)fold_ascii((unsigned char)url[i]);
		url_folded[copy] = '\0';
		ctx.url_folded = url_folded;
	}
	struct verdicts v = { 0 };
	for (size_t i = 0; i < n; i++) {
		consider_host_rules(m, doms[i], &ctx, &v);
		consider_entities(m, doms[i], &v);
		if (!url) {
			/* "*.example.com" patterns: only where the name is under the domain. */
			if (doms[i]->host_patterns == NONE || doms[i]->len >= len ||
			    !name_under(host, len, doms[i]->name, doms[i]->len))
				continue;
			size_t last = len - doms[i]->len - 1;
			for (uint32_t p = doms[i]->host_patterns; p != NONE;) {
				const struct host_pattern *hp = VEC_AT(m->host_patterns, const struct host_pattern, p);
				p = hp->next;
				/* Most fail on the first byte at every label: checked here, from the pattern's record alone. */
				bool maybe = !hp->first;
				for (size_t k = 0; k <= last && !maybe; k++)
					maybe = (k == 0 || host[k - 1] == '.') && host[k] == hp->first;
				if (maybe)
					consider_host_pattern(m, hp, &ctx, 0, last, &v);
			}
			continue;
		}
		for (uint32_t r = doms[i]->url_rules; r != NONE;) {
			const struct url_rule *rule = VEC_AT(m->url_rules, const struct url_rule, r);
			r = rule->next;
			/* Only a rule anchored at the host itself or a parent of it
			   (not at a CNAME target) can match this URL's text. */
			if (doms[i]->len <= len && name_under(host, len, doms[i]->name, doms[i]->len))
				consider_url_rule(m, rule, doms[i], &ctx, url, url_len, host_start,
						  host_end, &v);
		}
		if (!v.regex_hit)
			consider_regex_rules(m, doms[i], &ctx, url_z, &v);
	}
	if (!url && (m->keyed_count > 0 || m->unkeyed_count > 0))
		consider_keyed_host_patterns(m, &ctx, &v);
	if (url)
		consider_generic_rules(m, &ctx, url, url_len, host_start, host_end, &v);

	/* Most names are in no list: nothing more to say (but the party, when a rule needed it). */
	if (v.lists == 0 && !v.entity) {
		out->third_party = ctx.third_party >= 0 ? ctx.third_party : -1;
		return;
	}

	/* Filter rules: exceptions win, URL rules and host rules alike. */
	const char *block_text = NULL, *block_domain = NULL;
	int block_list = -1;
	bool host_only = false;
	if (v.url_block && (!v.block || v.url_block->list < v.block->list)) {
		block_text = v.url_block->text;
		block_list = v.url_block->list;
		host_only = v.url_block_host_only;
	} else if (v.block) {
		block_text = v.block->text;
		block_list = v.block->list;
		block_domain = v.block_dom->name;
		host_only = v.block_host_only;
	}
	const char *exception_text = NULL, *exception_domain = NULL;
	int exception_list = -1;
	if (v.url_exception && (!v.exception || v.url_exception->list < v.exception->list)) {
		exception_text = v.url_exception->text;
		exception_list = v.url_exception->list;
	} else if (v.exception) {
		exception_text = v.exception->text;
		exception_list = v.exception->list;
		exception_domain = v.exception_dom->name;
	}
	bool filter_blocks = block_text && !exception_text;
	if (exception_text && v.important) {
		filter_blocks = true;
		block_text = v.important->text;
		block_list = v.important->list;
		block_domain = v.important_domain;
		host_only = v.important_host_only;
	}

	/* TDS URL rules: the first that matches replaces the tracker's default. */
	const struct entity *tracking = v.tracking, *not_tracking = v.not_tracking;
	const struct dom *tracking_dom = v.tracking_dom;
	bool regex_decides = false;
	if (v.regex_hit) {
		if (v.regex_ignore) {
			if (tracking && tracking->list == v.regex_hit->list)
				tracking = NULL;
		} else {
			regex_decides = !tracking || v.regex_hit->list <= tracking->list;
		}
	}

	out->lists |= v.lists;
	out->tracker = filter_blocks || tracking || regex_decides;
	int best = INT_MAX;
	if (out->tracker) {
		if (filter_blocks && block_list < best) {
			best = block_list;
			out->decided = (struct match_rule){ block_list, block_text, block_domain, false };
			out->host_only = host_only;
		}
		if (regex_decides && v.regex_hit->list < best) {
			best = v.regex_hit->list;
			out->decided = (struct match_rule){ v.regex_hit->list, v.regex_hit->text,
							    v.regex_dom->name, false };
			out->host_only = false;
		}
		if (tracking && tracking->list < best) {
			/* An entry, not a rule: its text is its domain. */
			out->decided = (struct match_rule){ tracking->list, tracking_dom->name, tracking_dom->name, false };
			out->host_only = false;
		}
	} else if (exception_text) {
		out->decided = (struct match_rule){ exception_list, exception_text, exception_domain, true };
	} else if (v.regex_hit && v.regex_ignore) {
		out->decided = (struct match_rule){ v.regex_hit->list, v.regex_hit->text, v.regex_dom->name, true };
	} else if (not_tracking) {
		out->decided = (struct match_rule){ not_tracking->list, v.not_tracking_dom->name,
						    v.not_tracking_dom->name, false };
	}

	/*
	 * Company: the most specific entry that names one. Primary category:
	 * for a tracker, the first tracking category of the entry that decided,
	 * else of the company's entry, else the category of the filter list
	 * that blocked; for a non-tracker, the deciding entry's first category.
	 * Then every other category any matched entry or list gives.
	 */
	if (v.entity)
		out->entity = v.entity->name;
	const struct entity *deciding = out->tracker ? tracking : not_tracking;
	if (deciding)
		add_category(out, category_text(m, deciding, out->tracker));
	if (v.entity && out->tracker)
		add_category(out, category_text(m, v.entity, true));
	if (block_list >= 0 && filter_blocks)
		add_category(out, m->lists[block_list].category);
	for (size_t i = 0; i < n; i++) {
		for (uint32_t e = doms[i]->entities; e != NONE;) {
			const struct entity *ent = VEC_AT(m->entities, const struct entity, e);
			e = ent->next;
			for (uint32_t c = ent->categories; c != NONE;) {
				const struct category *cat = VEC_AT(m->categories, const struct category, c);
				c = cat->next;
				add_category(out, cat->name);
			}
		}
	}
	for (int l = 0; l < m->list_count; l++)
		if ((v.lists & (1ULL << l)) && m->lists[l].category)
			add_category(out, m->lists[l].category);
	out->category = out->category_count ? out->categories[0] : NULL;
	out->third_party = ctx.third_party >= 0 ? ctx.third_party : -1;
}

int matcher_third_party(const char *host_in, size_t host_len, const char *site_in)
{
	char host[NAME_BUF], site[NAME_BUF];
	struct context ctx = { .host = host, .third_party = -2, .site = site };
	ctx.host_len = canonical_name(host_in, host_len, host);
	ctx.site_len = site_in ? canonical_name(site_in, strlen(site_in), site) : 0;
	if (ctx.host_len == 0 || ctx.site_len == 0)
		return -1;
	return third_party(&ctx);
}

void matcher_lookup_host(const struct matcher *m, const char *host, size_t host_len,
			 const char *site, struct match *out)
{
	lookup(m, host, host_len, site, NULL, 0, 0, 0, 0, out);
}

size_t matcher_url_host(const char *url, size_t url_len, size_t *host_len)
{
	/* scheme://[userinfo@]host[:port]/...: the scheme must lead, so a
	   "://" further on (in a query) is not taken for one. */
	size_t i = 0;
	while (i < url_len && (isalnum((unsigned char)url[i]) || url[i] == '+' || url[i] == '-' || url[i] == '.'))
		i++;
	size_t host_start = i > 0 && i + 3 <= url_len && memcmp(url + i, "://", 3) == 0 ? i + 3 : 0;
	size_t host_end = host_start;
	while (host_end < url_len && url[host_end] != '/' && url[host_end] != '?' && url[host_end] != '#')
		host_end++;
	for (i = host_start; i < host_end; i++)
		if (url[i] == '@')
			host_start = i + 1;
	*host_len = host_end - host_start;
	return host_start;
}

void matcher_lookup_url(const struct matcher *m, const char *url, size_t url_len,
			const char *site, uint32_t type, struct match *out)
{
	/* Longer URLs are matched on their first URL_MAX_LEN bytes (documented). */
	if (url_len > URL_MAX_LEN)
		url_len = URL_MAX_LEN;
	size_t host_len;
	size_t host_start = matcher_url_host(url, url_len, &host_len);
	size_t host_end = host_start + host_len;
	/* The host without its port, for anchoring. */
	size_t name_end = host_end;
	if (host_start < host_end && url[host_start] != '[') {
		const char *colon = memchr(url + host_start, ':', host_end - host_start);
		if (colon)
			name_end = (size_t)(colon - url);
	}
	lookup(m, url + host_start, host_len, site, url, url_len, host_start, name_end, type, out);
}

const struct cookie_info *matcher_lookup_cookie(const struct matcher *m, const char *name, size_t len)
{
	if (!m->finished || len == 0)
		return NULL;
	for (size_t j = hash_bytes(name, len) & m->cookie_mask; m->cookie_slots[j];
	     j = (j + 1) & m->cookie_mask) {
		const struct cookie_info *c =
			VEC_AT(m->cookies, const struct cookie_info, m->cookie_slots[j] - 1);
		if (strlen(c->name) == len && memcmp(c->name, name, len) == 0)
			return c;
	}
	for (size_t i = 0; i < m->cookie_prefix_count; i++) {
		const struct cookie_info *c =
			VEC_AT(m->cookies, const struct cookie_info, m->cookie_prefixes[i]);
		size_t plen = strlen(c->name);
		if (plen <= len && memcmp(c->name, name, plen) == 0)
			return c;
	}
	return NULL;
}

void matcher_stats(const struct matcher *m, struct matcher_stats *out)
{
	memset(out, 0, sizeof *out);
	out->domains = (uint32_t)m->doms.count;
	out->host_rules = (uint32_t)m->host_rules.count;
	out->url_rules = (uint32_t)m->url_rules.count;
	out->regex_rules = (uint32_t)m->regex_rules.count;
	out->entities = (uint32_t)m->entities.count;
	out->cookies = (uint32_t)m->cookies.count;
	for (size_t i = 0; i < m->doms.count; i++)
		out->cnames += VEC_AT(m->doms, const struct dom, i)->cname != NULL;
	const struct vec *vecs[] = { &m->doms, &m->host_rules, &m->url_rules, &m->regex_rules,
				     &m->entities, &m->categories, &m->domopts, &m->generic_rules,
				     &m->cookies, &m->host_patterns };
	out->bytes = m->arena_bytes + (m->slot_mask + 1) * sizeof *m->slots;
	for (size_t i = 0; i < sizeof vecs / sizeof vecs[0]; i++)
		out->bytes += vecs[i]->cap * vecs[i]->size;
}

/* ---- Regular expressions' cost (TDS rules) ---- */

/*
 * glibc's regcomp() copies a subexpression once per repetition that an
 * interval implies, and its epsilon closures grow with the square of the
 * optional parts in a row: "a{1,256}" takes 0.6 MB, "a?" 1000 times 8 MB,
 * "s+" with 100 '+' more than 2 GB (found by fuzz_tds). The real TDS's
 * 1,985 rules have at most 2 repetitions each, no interval, no group and at
 * most 928 characters; so an expression is refused when it is longer than
 * REGEX_MAX_LEN, repeats a repetition, nests groups deeper than
 * REGEX_MAX_DEPTH, has more than REGEX_MAX_REPEATS repetitions or an
 * interval bound above REGEX_MAX_BOUND, or when its estimated size
 * (characters, times the repetitions of what holds them) passes
 * REGEX_MAX_COST. And a list compiles at most MATCHER_REGEX_BUDGET of
 * that size in all (the real TDS: about 83,000), bounding the memory a hostile
 * file can make the matcher take.
 */
enum {
	REGEX_MAX_LEN = 2048,
	REGEX_MAX_DEPTH = 8,
	REGEX_MAX_REPEATS = 16,
	REGEX_MAX_BOUND = 16,
	REGEX_MAX_COST = 4096,
};

size_t matcher_regex_cost(const char *re, size_t len)
{
	if (len == 0 || len > REGEX_MAX_LEN)
		return 0;
	/* Per nesting level: the size so far, and that of its last atom. */
	size_t size[REGEX_MAX_DEPTH + 1] = { 0 }, last[REGEX_MAX_DEPTH + 1] = { 0 };
	unsigned depth = 0, repeats = 0;
	bool after_repeat = false;
	for (size_t i = 0; i < len; i++) {
		char c = re[i];
		size_t atom = 1;
		if (c == '\\') {
			i++;
		} else if (c == '[') {
			/* A bracket expression: "[]a]", "[^]a]", "[[:alpha:]]" are one atom. */
			size_t j = i + 1;
			if (j < len && re[j] == '^')
				j++;
			if (j < len && re[j] == ']')
				j++;
			while (j < len && re[j] != ']') {
				if (re[j] == '[' && j + 1 < len && (re[j + 1] == ':' || re[j + 1] == '.' ||
								   re[j + 1] == '=')) {
					char close = re[j + 1];
					j += 2;
					while (j + 1 < len && !(re[j] == close && re[j + 1] == ']'))
						j++;
					j++;
				}
				j++;
			}
			if (j >= len)
				return 0;   /* unterminated: regcomp() would refuse it */
			i = j;
		} else if (c == '(') {
			if (depth == REGEX_MAX_DEPTH)
				return 0;
			depth++;
			size[depth] = last[depth] = 0;
			after_repeat = false;
			continue;
		} else if (c == ')' && depth > 0) {
			atom = size[depth] + 1;
			depth--;
		} else if (c == '*' || c == '+' || c == '?' || c == '{') {
			size_t times = 2;
			if (c == '{') {
				/* "{m}", "{m,}", "{m,n}": the bound that counts is the largest given. */
				size_t j = i + 1, bound = 0, n = 0;
				for (; j < len && (re[j] == ',' || (re[j] >= '0' && re[j] <= '9')); j++) {
					if (re[j] == ',') {
						n = 0;
						continue;
					}
					n = n * 10 + (size_t)(re[j] - '0');
					if (n > REGEX_MAX_BOUND)
						return 0;
					if (n > bound)
						bound = n;
				}
				if (j >= len || re[j] != '}')
					return 0;
				times = bound + 1;
				i = j;
			}
			if (after_repeat || ++repeats > REGEX_MAX_REPEATS)
				return 0;
			after_repeat = true;
			size[depth] += last[depth] * (times - 1);
			last[depth] *= times;
			if (size[depth] > REGEX_MAX_COST)
				return 0;
			continue;
		}
		after_repeat = false;
		size[depth] += atom;
		last[depth] = atom;
		if (size[depth] > REGEX_MAX_COST)
			return 0;
	}
	size_t total = 0;
	for (unsigned d = 0; d <= depth; d++)
		total += size[d];
	return total > REGEX_MAX_COST ? 0 : total + 1;
}

/* ---- Snapshots ---- */

/*
 * A finished matcher as one block of bytes (matcher_snapshot()), to be read
 * back as it is (matcher_from_snapshot()): the header below, then each
 * array at a 64-byte boundary, then the strings (the arena's chunks one
 * after the other). In the arrays, a string is its offset in the strings
 * plus one (0 for NULL); compiled regular expressions are compiled again
 * from their text. Only the program that wrote a snapshot may read it: the
 * layout is this build's (lists.c keys its cache by the build).
 */
enum { SNAP_VECS = 10 };
#define SNAP_MAGIC 0x31746e7370616e73ULL /* "snapsnt1" */

struct snap_array {
	uint64_t offset;           /* 0: the array is NULL */
	uint64_t count, cap;
};

struct snap_header {
	uint64_t magic, size;
	uint64_t arena_bytes;
	int64_t list_count;
	struct snap_array vecs[SNAP_VECS];
	struct snap_array token_rules, token_fallback, keyed, unkeyed, slots, filter,
		cookie_slots, cookie_prefixes, strings;
	uint64_t slot_mask, filter_mask, cookie_mask;
	uint64_t host_pattern_bits[64];
	struct list_info lists[MATCHER_MAX_LISTS];
};

static struct vec *snap_vecs(struct matcher *m, struct vec **vecs)
{
	struct vec *all[SNAP_VECS] = { &m->doms, &m->host_rules, &m->url_rules, &m->regex_rules,
				       &m->entities, &m->categories, &m->domopts, &m->generic_rules,
				       &m->cookies, &m->host_patterns };
	memcpy(vecs, all, sizeof all);
	return vecs[0];
}

/* The arena's chunks by address, and where each begins in the strings. */
struct snap_chunk {
	const char *data;
	size_t used;
	size_t at;
};

struct snap_writer {
	char *buf;
	size_t size, cap;
	struct snap_chunk *chunks;
	size_t chunk_count;
	size_t strings;            /* offset of the strings in buf */
	bool failed;
};

static size_t snap_reserve(struct snap_writer *w, size_t bytes, size_t align)
{
	size_t at = (w->size + align - 1) & ~(align - 1);
	if (at + bytes > w->cap) {
		size_t cap = w->cap ? w->cap : 1 << 20;
		while (cap < at + bytes)
			cap *= 2;
		char *buf = realloc(w->buf, cap);
		if (!buf) {
			w->failed = true;
			return 0;
		}
		w->buf = buf;
		w->cap = cap;
	}
	/* The alignment's padding is zeroed; the caller fills the bytes it reserved. */
	memset(w->buf + w->size, 0, at - w->size);
	w->size = at + bytes;
	return at;
}

static int by_chunk_address(const void *a, const void *b)
{
	const struct snap_chunk *x = a, *y = b;
	return x->data < y->data ? -1 : x->data > y->data;
}

/* A string as stored: its offset in the strings plus one; one not in the arena is added. */
static uint64_t snap_string(struct snap_writer *w, const char *p)
{
	if (!p)
		return 0;
	size_t lo = 0, hi = w->chunk_count;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct snap_chunk *c = &w->chunks[mid];
		if (p < c->data)
			hi = mid;
		else if (p >= c->data + c->used)
			lo = mid + 1;
		else
			return c->at + (size_t)(p - c->data) + 1;
	}
	/* Not from the arena (a literal): a copy after the chunks. */
	size_t len = strlen(p) + 1;
	size_t at = snap_reserve(w, len, 1);
	if (w->failed)
		return 0;
	memcpy(w->buf + at, p, len);
	return at - w->strings + 1;
}

#define SNAP_STRING(w, field) \
	do { uint64_t v_ = snap_string(w, (field)); memcpy(&(field), &v_, sizeof v_); } while (0)

_Static_assert(sizeof(const char *) == sizeof(uint64_t), "strings are stored as 64-bit offsets");

static void snap_strings_of(struct snap_writer *w, struct matcher *m, struct snap_header *h)
{
	struct vec *vecs[SNAP_VECS];
	snap_vecs(m, vecs);
	for (int i = 0; i < SNAP_VECS; i++) {
		size_t n = h->vecs[i].count;
		for (size_t k = 0; k < n && !w->failed; k++) {
			/* Re-read the item's place each time: adding a string may move buf. */
			char *item = w->buf + h->vecs[i].offset + k * vecs[i]->size;
			switch (i) {
			case 0: { struct dom *d = (struct dom *)item;
				const char *name = d->name, *cname = d->cname;
				uint64_t a = snap_string(w, name), b = snap_string(w, cname);
				d = (struct dom *)(w->buf + h->vecs[i].offset + k * vecs[i]->size);
				memcpy(&d->name, &a, 8); memcpy(&d->cname, &b, 8);
				break; }
			case 1: case 2: { struct rule_head *r = (struct rule_head *)item;
				const char *text = r->text;
				const char *pattern = i == 2 ? ((struct url_rule *)item)->pattern : NULL;
				uint64_t a = snap_string(w, text), b = snap_string(w, pattern);
				item = w->buf + h->vecs[i].offset + k * vecs[i]->size;
				memcpy(&((struct rule_head *)item)->text, &a, 8);
				if (i == 2)
					memcpy(&((struct url_rule *)item)->pattern, &b, 8);
				break; }
			case 3: { struct regex_rule *r = (struct regex_rule *)item;
				const char *text = r->text;
				uint64_t a = snap_string(w, text);
				r = (struct regex_rule *)(w->buf + h->vecs[i].offset + k * vecs[i]->size);
				memset(&r->re, 0, sizeof r->re);
				memcpy(&r->text, &a, 8);
				break; }
			case 4: { const char *name = ((struct entity *)item)->name;
				uint64_t a = snap_string(w, name);
				memcpy(&((struct entity *)(w->buf + h->vecs[i].offset + k * vecs[i]->size))->name, &a, 8);
				break; }
			case 5: { const char *name = ((struct category *)item)->name;
				uint64_t a = snap_string(w, name);
				memcpy(&((struct category *)(w->buf + h->vecs[i].offset + k * vecs[i]->size))->name, &a, 8);
				break; }
			case 6: { const char *name = ((struct domopt *)item)->name;
				uint64_t a = snap_string(w, name);
				memcpy(&((struct domopt *)(w->buf + h->vecs[i].offset + k * vecs[i]->size))->name, &a, 8);
				break; }
			case 8: { struct cookie_info c = *(struct cookie_info *)item;
				uint64_t v[6] = { snap_string(w, c.name), snap_string(w, c.platform),
						  snap_string(w, c.category), snap_string(w, c.domain),
						  snap_string(w, c.retention), snap_string(w, c.controller) };
				struct cookie_info *o = (struct cookie_info *)(w->buf + h->vecs[i].offset + k * vecs[i]->size);
				memcpy(&o->name, &v[0], 8); memcpy(&o->platform, &v[1], 8);
				memcpy(&o->category, &v[2], 8); memcpy(&o->domain, &v[3], 8);
				memcpy(&o->retention, &v[4], 8); memcpy(&o->controller, &v[5], 8);
				break; }
			default:
				break;
			}
		}
	}
}

size_t matcher_snapshot(const struct matcher *cm, void **out)
{
	struct matcher *m = (struct matcher *)cm;
	*out = NULL;
	if (!m->finished || m->block)
		return 0;
	struct snap_writer w = { 0 };
	struct vec *vecs[SNAP_VECS];
	snap_vecs(m, vecs);
	/* Room for all of it at once (the arrays, the arena, their alignment), grown only for literals. */
	size_t estimate = sizeof(struct snap_header) + m->arena_bytes + 64 * 32 +
			  (m->slots ? (m->slot_mask + 1) * sizeof *m->slots : 0) +
			  (m->filter ? (m->filter_mask + 1) / 8 : 0) +
			  (m->cookie_slots ? (m->cookie_mask + 1) * sizeof *m->cookie_slots : 0) +
			  (m->token_rule_count + 1) * sizeof *m->token_rules +
			  (m->token_fallback_count + 1 + 2 * (m->host_patterns.count + 1) + m->cookies.count + 1) *
				  sizeof(uint32_t);
	for (int i = 0; i < SNAP_VECS; i++)
		estimate += vecs[i]->count * vecs[i]->size;
	w.buf = malloc(estimate);
	w.cap = w.buf ? estimate : 0;
	size_t hdr = snap_reserve(&w, sizeof(struct snap_header), 64);
	struct snap_array arrays[SNAP_VECS];
	for (int i = 0; i < SNAP_VECS && !w.failed; i++) {
		size_t bytes = vecs[i]->count * vecs[i]->size;
		arrays[i] = (struct snap_array){ 0, vecs[i]->count, vecs[i]->cap };
		if (!vecs[i]->items)
			continue;
		arrays[i].offset = snap_reserve(&w, bytes, 64);
		if (!w.failed)
			memcpy(w.buf + arrays[i].offset, vecs[i]->items, bytes);
	}
#define SNAP_PLAIN(dst, ptr, n) \
	do { \
		size_t bytes_ = (n) * sizeof *(ptr); \
		(dst) = (struct snap_array){ 0, (n), (n) }; \
		if ((ptr) && !w.failed) { \
			(dst).offset = snap_reserve(&w, bytes_ ? bytes_ : 1, 64); \
			if (!w.failed && bytes_) \
				memcpy(w.buf + (dst).offset, (ptr), bytes_); \
			else if (!w.failed) \
				w.buf[(dst).offset] = 0; \
		} \
	} while (0)
	struct snap_array token_rules, token_fallback, keyed, unkeyed, slots, filter, cookie_slots,
		cookie_prefixes;
	/* Arrays made with one spare entry keep it: the count is what is used. */
	SNAP_PLAIN(token_rules, m->token_rules, m->token_rule_count + 1);
	SNAP_PLAIN(token_fallback, m->token_fallback, m->token_fallback_count + 1);
	SNAP_PLAIN(keyed, m->keyed_patterns, m->host_patterns.count + 1);
	SNAP_PLAIN(unkeyed, m->unkeyed_patterns, m->host_patterns.count + 1);
	SNAP_PLAIN(slots, m->slots, m->slots ? m->slot_mask + 1 : 0);
	SNAP_PLAIN(filter, m->filter, m->filter ? (m->filter_mask + 1) / 64 : 0);
	SNAP_PLAIN(cookie_slots, m->cookie_slots, m->cookie_slots ? m->cookie_mask + 1 : 0);
	SNAP_PLAIN(cookie_prefixes, m->cookie_prefixes, m->cookies.count + 1);
#undef SNAP_PLAIN
	/* The strings: the arena's chunks, in address order. */
	size_t chunks = 0;
	for (struct arena_chunk *c = m->arena; c; c = c->next)
		chunks++;
	w.chunks = calloc(chunks + 1, sizeof *w.chunks);
	if (!w.chunks)
		w.failed = true;
	for (struct arena_chunk *c = m->arena; c && !w.failed; c = c->next)
		w.chunks[w.chunk_count++] = (struct snap_chunk){ c->data, c->used, 0 };
	qsort(w.chunks, w.chunk_count, sizeof *w.chunks, by_chunk_address);
	size_t total = 0;
	for (size_t i = 0; i < w.chunk_count; i++)
		total += w.chunks[i].used;
	w.strings = snap_reserve(&w, total, 64);
	for (size_t i = 0, at = 0; i < w.chunk_count && !w.failed; i++) {
		w.chunks[i].at = at;
		memcpy(w.buf + w.strings + at, w.chunks[i].data, w.chunks[i].used);
		at += w.chunks[i].used;
	}
	struct snap_header h;
	memset(&h, 0, sizeof h);
	h.magic = SNAP_MAGIC;
	h.arena_bytes = m->arena_bytes;
	h.list_count = m->list_count;
	memcpy(h.vecs, arrays, sizeof arrays);
	h.token_rules = token_rules;
	h.token_fallback = token_fallback;
	h.keyed = keyed;
	h.unkeyed = unkeyed;
	h.slots = slots;
	h.filter = filter;
	h.cookie_slots = cookie_slots;
	h.cookie_prefixes = cookie_prefixes;
	h.slot_mask = m->slot_mask;
	h.filter_mask = m->filter_mask;
	h.cookie_mask = m->cookie_mask;
	memcpy(h.host_pattern_bits, m->host_pattern_bits, sizeof h.host_pattern_bits);
	/* The strings pointed to from the arrays and the lists' records, as offsets. */
	if (!w.failed)
		snap_strings_of(&w, m, &h);
	memcpy(h.lists, m->lists, sizeof h.lists);
	for (int l = 0; l < MATCHER_MAX_LISTS && !w.failed; l++) {
		struct list_info *info = &h.lists[l];
		SNAP_STRING(&w, info->name);
		SNAP_STRING(&w, info->path);
		SNAP_STRING(&w, info->category);
		for (size_t k = 0; k < sizeof info->skips / sizeof info->skips[0]; k++)
			SNAP_STRING(&w, info->skips[k].reason);
	}
	/* The strings end where the last literal copied ends. */
	h.strings = (struct snap_array){ w.strings, w.size - w.strings, w.size - w.strings };
	snap_reserve(&w, 0, 64);
	h.size = w.size;
	free(w.chunks);
	if (w.failed) {
		free(w.buf);
		return 0;
	}
	memcpy(w.buf + hdr, &h, sizeof h);
	*out = w.buf;
	return w.size;
}

/* A stored string back to a pointer into the strings; false when out of range. */
static bool snap_fix(const char **field, const char *strings, size_t len)
{
	uint64_t v;
	memcpy(&v, field, sizeof v);
	if (v == 0) {
		*field = NULL;
		return true;
	}
	if (v - 1 >= len)
		return false;
	*field = strings + (v - 1);
	return true;
}

/* Whether an array lies in the block (of `size` bytes), at a cache line. */
static bool snap_place(const struct snap_array *a, size_t item, size_t size)
{
	if (!a->offset)
		return a->count == 0;
	return a->offset % 64 == 0 && a->offset <= size && a->count <= (size - a->offset) / item;
}

/*
 * What lookups take on trust, checked once a snapshot's arrays and strings
 * are in place: every index in range (chains of rules, entities and
 * categories run forward, a domain's host patterns backward, so that none
 * can loop), every list number below the matcher's count (they are shift
 * counts), every string a lookup reads there, and the hash tables' sizes
 * their arrays' and never full (their probes stop at an empty slot). A
 * cache is checksummed and the user's own, but a reader of bytes from a
 * file does not crash on them whatever they are.
 */
static bool chain_ok(uint32_t next, size_t at, size_t count, bool backward)
{
	return next == NONE || (next < count && (backward ? next < at : next > at));
}

static bool span_ok(uint32_t first, uint32_t n, size_t count)
{
	return first <= count && n <= count - first;
}

static bool rule_head_ok(const struct matcher *m, const struct rule_head *r, size_t at, size_t count)
{
	return chain_ok(r->next, at, count, false) && r->list < m->list_count && r->text &&
	       span_ok(r->domopt_first, r->domopt_count, m->domopts.count);
}

static bool table_ok(const void *slots, size_t item, size_t slots_count, size_t mask)
{
	if (!slots)
		return mask == 0;
	if (mask == SIZE_MAX || (mask & (mask + 1)) != 0 || mask + 1 != slots_count)
		return false;
	for (size_t i = 0; i < slots_count; i++) {
		uint64_t v = 0;
		memcpy(&v, (const char *)slots + i * item, item);
		if (v == 0)
			return true;
	}
	return false; /* full: a probe for a name not there would not stop */
}

/* A bool's byte as the file has it: 0 or 1, or reading it as a bool is undefined. */
static bool byte_bool(const bool *b)
{
	uint8_t v;
	memcpy(&v, b, 1);
	return v <= 1;
}

/* The bools in a snapshot's arrays, checked before anything reads them. */
static bool snap_bools_ok(const struct matcher *m)
{
	for (size_t i = 0; i < m->host_patterns.count; i++)
		if (!byte_bool(&VEC_AT(m->host_patterns, const struct host_pattern, i)->on_dom))
			return false;
	for (size_t i = 0; i < m->cookies.count; i++)
		if (!byte_bool(&VEC_AT(m->cookies, const struct cookie_info, i)->prefix))
			return false;
	for (size_t i = 0; i < m->domopts.count; i++) {
		const struct domopt *o = VEC_AT(m->domopts, const struct domopt, i);
		if (!byte_bool(&o->exclude) || !byte_bool(&o->any_tld))
			return false;
	}
	return true;
}

/* A string of the snapshot's `len` bytes long: they end inside the strings, at its NUL. */
static bool text_ok(const char *text, size_t len, const char *strings, size_t strings_len)
{
	return text && len < strings_len - (size_t)(text - strings) && strnlen(text, len + 1) == len;
}

/* Each item, once its strings are in place (matcher_from_snapshot() checks it as it fixes them). */
static bool dom_ok(const struct matcher *m, const struct dom *d, const char *strings, size_t strings_len)
{
	return text_ok(d->name, d->len, strings, strings_len) && d->cname_list >= (d->cname ? 0 : -1) &&
	       d->cname_list < m->list_count &&
	       (d->host_rules == NONE || d->host_rules < m->host_rules.count) &&
	       (d->url_rules == NONE || d->url_rules < m->url_rules.count) &&
	       (d->regex_rules == NONE || d->regex_rules < m->regex_rules.count) &&
	       (d->entities == NONE || d->entities < m->entities.count) &&
	       (d->host_patterns == NONE || d->host_patterns < m->host_patterns.count);
}

static bool url_rule_ok(const struct matcher *m, const struct url_rule *r, size_t at, const char *strings,
			size_t strings_len)
{
	return rule_head_ok(m, &r->head, at, m->url_rules.count) &&
	       (r->pattern ? text_ok(r->pattern, r->pattern_len, strings, strings_len) : !r->pattern_len);
}

static bool entity_ok(const struct matcher *m, const struct entity *e, size_t at)
{
	/* A name may be NULL: a TDS tracker with no owner, an empty Disconnect company. */
	return chain_ok(e->next, at, m->entities.count, false) && e->list < m->list_count &&
	       (e->categories == NONE || e->categories < m->categories.count);
}

static bool domopt_ok(const struct domopt *o, const char *strings, size_t strings_len)
{
	return text_ok(o->name, o->len, strings, strings_len);
}

static bool cookie_ok(const struct matcher *m, const struct cookie_info *c)
{
	return c->name && c->list >= 0 && c->list < m->list_count;
}

/* The rest, once every string is in place: the arrays that hold only numbers, and the tables. */
/* Where one array of a snapshot lies, for snap_apart(). */
struct snap_span {
	uint64_t from, to;
};

static int by_from(const void *a, const void *b)
{
	const struct snap_span *x = a, *y = b;
	return x->from < y->from ? -1 : x->from > y->from;
}

/*
 * Whether a snapshot's arrays and strings lie apart, after its header, as
 * matcher_snapshot() lays them out: the reader writes into some of them
 * (pointers to strings, compiled expressions), which must not change what
 * it has checked in others. Empty arrays take no room.
 */
static bool snap_apart(const struct snap_header *h, const struct matcher *m)
{
	struct vec *vecs[SNAP_VECS];
	snap_vecs((struct matcher *)m, vecs);
	struct snap_span spans[SNAP_VECS + 9];
	size_t n = 0;
	for (int i = 0; i < SNAP_VECS; i++)
		spans[n++] = (struct snap_span){ h->vecs[i].offset, h->vecs[i].offset + h->vecs[i].count * vecs[i]->size };
	const struct {
		const struct snap_array *a;
		size_t item;
	} plain[] = { { &h->token_rules, sizeof(struct token_rule) }, { &h->token_fallback, 4 },
		      { &h->keyed, 4 }, { &h->unkeyed, 4 }, { &h->slots, 8 }, { &h->filter, 8 },
		      { &h->cookie_slots, 4 }, { &h->cookie_prefixes, 4 }, { &h->strings, 1 } };
	for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++)
		spans[n++] = (struct snap_span){ plain[i].a->offset, plain[i].a->offset + plain[i].a->count * plain[i].item };
	qsort(spans, n, sizeof spans[0], by_from);
	uint64_t end = sizeof *h;
	for (size_t i = 0; i < n; i++) {
		if (spans[i].to == spans[i].from)
			continue;
		if (spans[i].from < end)
			return false;
		end = spans[i].to;
	}
	return true;
}

static bool snap_valid(const struct matcher *m, const struct snap_header *h)
{
	size_t doms = m->doms.count, urls = m->url_rules.count, patterns = m->host_patterns.count;
	for (int l = 0; l < m->list_count; l++) {
		const struct list_info *info = &m->lists[l];
		size_t skips = sizeof info->skips / sizeof info->skips[0];
		if (!info->name || !info->path || info->sha256[sizeof info->sha256 - 1] != '\0' ||
		    info->skip_reasons > skips)
			return false;
		for (size_t k = 0; k < info->skip_reasons; k++)
			if (!info->skips[k].reason)
				return false;
	}
	for (size_t i = 0; i < m->regex_rules.count; i++) {
		const struct regex_rule *r = VEC_AT(m->regex_rules, const struct regex_rule, i);
		if (!chain_ok(r->next, i, m->regex_rules.count, false) || r->list >= m->list_count ||
		    !span_ok(r->domopt_first, r->domopt_count, m->domopts.count) ||
		    !span_ok(r->except_first, r->except_count, m->domopts.count))
			return false;
	}
	for (size_t i = 0; i < m->categories.count; i++) {
		const struct category *c = VEC_AT(m->categories, const struct category, i);
		if (!chain_ok(c->next, i, m->categories.count, false) || !c->name)
			return false;
	}
	for (size_t i = 0; i < m->generic_rules.count; i++)
		if (*VEC_AT(m->generic_rules, const uint32_t, i) >= urls)
			return false;
	for (size_t i = 0; i < patterns; i++) {
		const struct host_pattern *p = VEC_AT(m->host_patterns, const struct host_pattern, i);
		/* Its rule's pattern begins "||" (host_pattern_only()). */
		if (p->rule >= urls || !chain_ok(p->next, i, patterns, true) ||
		    VEC_AT(m->url_rules, const struct url_rule, p->rule)->pattern_len < 2)
			return false;
	}
	/* The arrays made beside the vectors: what their counts say is used, in range. */
	if (m->keyed_count > h->keyed.count || m->unkeyed_count > h->unkeyed.count ||
	    (m->keyed_count && !m->keyed_patterns) || (m->unkeyed_count && !m->unkeyed_patterns) ||
	    (m->token_rule_count && !m->token_rules) || (m->token_fallback_count && !m->token_fallback) ||
	    m->cookie_prefix_count > h->cookie_prefixes.count || (m->cookie_prefix_count && !m->cookie_prefixes))
		return false;
	for (size_t i = 0; i < m->keyed_count; i++)
		if (m->keyed_patterns[i] >= patterns)
			return false;
	for (size_t i = 0; i < m->unkeyed_count; i++)
		if (m->unkeyed_patterns[i] >= patterns)
			return false;
	for (size_t i = 0; i < m->token_rule_count; i++)
		if (m->token_rules[i].rule >= urls)
			return false;
	for (size_t i = 0; i < m->token_fallback_count; i++)
		if (m->token_fallback[i] >= urls)
			return false;
	for (size_t i = 0; i < m->cookie_prefix_count; i++)
		if (m->cookie_prefixes[i] >= m->cookies.count)
			return false;
	if (!table_ok(m->slots, sizeof *m->slots, h->slots.count, m->slot_mask) ||
	    !m->cookie_slots ||
	    !table_ok(m->cookie_slots, sizeof *m->cookie_slots, h->cookie_slots.count, m->cookie_mask))
		return false;
	for (size_t i = 0; m->slots && i <= m->slot_mask; i++)
		if (m->slots[i] && ((uint32_t)m->slots[i] == 0 || (uint32_t)m->slots[i] > doms))
			return false;
	for (size_t i = 0; m->cookie_slots && i <= m->cookie_mask; i++)
		if (m->cookie_slots[i] > m->cookies.count)
			return false;
	/* The filter: a power of two of bits, all in its array. */
	return m->filter ? m->filter_mask != SIZE_MAX && (m->filter_mask & (m->filter_mask + 1)) == 0 &&
				   m->filter_mask >= 63 && (m->filter_mask + 1) / 64 == h->filter.count
			 : m->filter_mask == 0;
}

struct matcher *matcher_from_snapshot(void *block, size_t size)
{
	struct snap_header h;
	if (size < sizeof h) {
		free(block);
		return NULL;
	}
	memcpy(&h, block, sizeof h);
	struct matcher *m = matcher_new();
	if (!m || h.magic != SNAP_MAGIC || h.size != size || h.list_count < 0 ||
	    h.list_count > MATCHER_MAX_LISTS) {
		free(m);
		free(block);
		return NULL;
	}
	char *base = block;
	bool ok = true;
	struct vec *vecs[SNAP_VECS];
	snap_vecs(m, vecs);
	for (int i = 0; i < SNAP_VECS && ok; i++) {
		ok = snap_place(&h.vecs[i], vecs[i]->size, size) && h.vecs[i].cap >= h.vecs[i].count;
		vecs[i]->items = ok && h.vecs[i].offset ? base + h.vecs[i].offset : NULL;
		vecs[i]->count = h.vecs[i].count;
		vecs[i]->cap = h.vecs[i].cap;
	}
	ok = ok && snap_place(&h.strings, 1, size);
	const char *strings = ok ? base + h.strings.offset : NULL;
	size_t strings_len = h.strings.count;
	/* Every string ends inside the strings: the last byte is a NUL. */
	ok = ok && strings_len > 0 && strings[strings_len - 1] == '\0';
#define SNAP_TAKE(field, a, type) \
	do { \
		ok = ok && snap_place(&(a), sizeof(type), size); \
		(field) = ok && (a).offset ? (type *)(void *)(base + (a).offset) : NULL; \
	} while (0)
	SNAP_TAKE(m->token_rules, h.token_rules, struct token_rule);
	SNAP_TAKE(m->token_fallback, h.token_fallback, uint32_t);
	SNAP_TAKE(m->keyed_patterns, h.keyed, uint32_t);
	SNAP_TAKE(m->unkeyed_patterns, h.unkeyed, uint32_t);
	SNAP_TAKE(m->slots, h.slots, uint64_t);
	SNAP_TAKE(m->filter, h.filter, uint64_t);
	SNAP_TAKE(m->cookie_slots, h.cookie_slots, uint32_t);
	SNAP_TAKE(m->cookie_prefixes, h.cookie_prefixes, uint32_t);
#undef SNAP_TAKE
	ok = ok && snap_apart(&h, m) && snap_bools_ok(m);
	if (!ok) {
		free(m); /* its arrays are in the block */
		free(block);
		return NULL;
	}
	/* Counts of what is used in the arrays made with a spare entry. */
	m->token_rule_count = h.token_rules.count ? h.token_rules.count - 1 : 0;
	m->token_fallback_count = h.token_fallback.count ? h.token_fallback.count - 1 : 0;
	m->slot_mask = h.slot_mask;
	m->filter_mask = h.filter_mask;
	m->cookie_mask = h.cookie_mask;
	memcpy(m->host_pattern_bits, h.host_pattern_bits, sizeof m->host_pattern_bits);
	m->arena_bytes = h.arena_bytes;
	m->list_count = (int)h.list_count;
	memcpy(m->lists, h.lists, sizeof m->lists);
	/* keyed_count, unkeyed_count, cookie_prefix_count: as matcher_finish() counts them. */
	for (size_t i = 0; i < m->host_patterns.count; i++) {
		const struct host_pattern *hp = VEC_AT(m->host_patterns, const struct host_pattern, i);
		if (!hp->on_dom)
			hp->label_hash ? m->keyed_count++ : m->unkeyed_count++;
	}
	for (size_t i = 0; i < m->cookies.count; i++)
		m->cookie_prefix_count += VEC_AT(m->cookies, const struct cookie_info, i)->prefix;
	/* The strings. */
	/* The strings, and each item checked as its strings are fixed (snap_valid() does the rest). */
	for (size_t k = 0; ok && k < m->doms.count; k++) {
		struct dom *d = VEC_AT(m->doms, struct dom, k);
		ok = snap_fix(&d->name, strings, strings_len) && snap_fix(&d->cname, strings, strings_len) &&
		     dom_ok(m, d, strings, strings_len);
	}
	for (size_t k = 0; ok && k < m->host_rules.count; k++) {
		struct host_rule *r = VEC_AT(m->host_rules, struct host_rule, k);
		ok = snap_fix(&r->text, strings, strings_len) && rule_head_ok(m, &r->head, k, m->host_rules.count);
	}
	for (size_t k = 0; ok && k < m->url_rules.count; k++) {
		struct url_rule *r = VEC_AT(m->url_rules, struct url_rule, k);
		ok = snap_fix(&r->text, strings, strings_len) && snap_fix(&r->pattern, strings, strings_len) &&
		     url_rule_ok(m, r, k, strings, strings_len);
	}
	for (size_t k = 0; ok && k < m->entities.count; k++) {
		struct entity *e = VEC_AT(m->entities, struct entity, k);
		ok = snap_fix(&e->name, strings, strings_len) && entity_ok(m, e, k);
	}
	for (size_t k = 0; ok && k < m->categories.count; k++)
		ok = snap_fix(&VEC_AT(m->categories, struct category, k)->name, strings, strings_len);
	for (size_t k = 0; ok && k < m->domopts.count; k++) {
		struct domopt *o = VEC_AT(m->domopts, struct domopt, k);
		ok = snap_fix(&o->name, strings, strings_len) && domopt_ok(o, strings, strings_len);
	}
	for (size_t k = 0; ok && k < m->cookies.count; k++) {
		struct cookie_info *c = VEC_AT(m->cookies, struct cookie_info, k);
		ok = snap_fix(&c->name, strings, strings_len) && snap_fix(&c->platform, strings, strings_len) &&
		     snap_fix(&c->category, strings, strings_len) && snap_fix(&c->domain, strings, strings_len) &&
		     snap_fix(&c->retention, strings, strings_len) &&
		     snap_fix(&c->controller, strings, strings_len) && cookie_ok(m, c);
	}
	for (int l = 0; ok && l < MATCHER_MAX_LISTS; l++) {
		struct list_info *info = &m->lists[l];
		ok = snap_fix(&info->name, strings, strings_len) && snap_fix(&info->path, strings, strings_len) &&
		     snap_fix(&info->category, strings, strings_len);
		for (size_t k = 0; ok && k < sizeof info->skips / sizeof info->skips[0]; k++)
			ok = snap_fix(&info->skips[k].reason, strings, strings_len);
	}
	ok = ok && snap_valid(m, &h);
	/*
	 * The regular expressions, compiled again (they compiled when the lists
	 * were read): only what matcher_add_regex_rule() takes, within a list's
	 * budget, as a hostile file could otherwise make regcomp() take gigabytes.
	 */
	size_t compiled = 0, cost[MATCHER_MAX_LISTS] = { 0 };
	for (; ok && compiled < m->regex_rules.count; compiled++) {
		struct regex_rule *r = VEC_AT(m->regex_rules, struct regex_rule, compiled);
		ok = snap_fix(&r->text, strings, strings_len) && r->text && regex_acceptable(r->text) &&
		     (cost[r->list] += matcher_regex_cost(r->text, strlen(r->text))) <= MATCHER_REGEX_BUDGET &&
		     regcomp(&r->re, r->text, REG_EXTENDED | REG_ICASE | REG_NOSUB) == 0;
		if (!ok)
			break;
	}
	m->regex_rules.count = compiled;
	m->finished = true;
	m->block = block;
	if (!ok) {
		matcher_free(m);
		return NULL;
	}
	return m;
}
