/*
 * matcher: every loaded tracker list compiled into one immutable structure
 * that answers "is this name (or URL, or cookie) a tracker, whose, and why".
 * It sits after the dissectors in the pipeline (DESIGN.md, "match"): the
 * parsers in blocklists/ fill a matcher with matcher_add_*(), then
 * matcher_finish() freezes it; from then on any number of threads may look
 * up in it without locks, and a reload builds a new one beside it (see
 * listset.h for the swap).
 *
 * What decides (documented for users in trackwatch(1), "LISTS"):
 *  - Filter rules (hosts files, domain lists, Adblock Plus syntax) form one
 *    engine, as all of uBlock Origin's lists do: a host is blocked when a
 *    block rule matches it or one of its parent domains, unless an exception
 *    rule (@@) matches; exceptions win, except over a block with
 *    $important. The rule reported is that of the list loaded first among
 *    those that decided; within a list, the rule for the most specific
 *    domain (a rule for every type before one for some types only).
 *  - Disconnect and DuckDuckGo's Tracker Data Set are separate sources: a
 *    domain in a tracking category of Disconnect, or a TDS tracker whose
 *    default is "block" (or whose first matching URL rule blocks), is a
 *    tracker; filter exceptions do not override them. The company (entity)
 *    comes from the most specific domain that any list names, at equal
 *    length from the list loaded first.
 *  - The host is a tracker if any source says so.
 */
#ifndef TRACKWATCH_MATCHER_H
#define TRACKWATCH_MATCHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct matcher;

enum list_format {
	LIST_HOSTS,        /* hosts file: "0.0.0.0 name", "127.0.0.1 name" */
	LIST_DOMAINS,      /* one domain per line */
	LIST_ABP,          /* Adblock Plus / EasyList syntax */
	LIST_DISCONNECT,   /* Disconnect services.json (+ entities.json) */
	LIST_TDS,          /* DuckDuckGo Tracker Data Set (v6 JSON) */
	LIST_COOKIEDB,     /* Open Cookie Database CSV */
	LIST_FORMAT_COUNT
};

/* "hosts", "domains", "abp", "disconnect", "tds", "cookiedb" */
const char *list_format_name(enum list_format format);
/* The format named `name`, or -1. */
int list_format_from_name(const char *name);

/* Resource types (Adblock Plus option names in comments). */
enum {
	RT_SCRIPT = 1u << 0,       /* script */
	RT_IMAGE = 1u << 1,        /* image */
	RT_STYLESHEET = 1u << 2,   /* stylesheet, css */
	RT_XHR = 1u << 3,          /* xmlhttprequest, xhr */
	RT_SUBDOCUMENT = 1u << 4,  /* subdocument, frame */
	RT_PING = 1u << 5,         /* ping, beacon */
	RT_MEDIA = 1u << 6,        /* media */
	RT_FONT = 1u << 7,         /* font */
	RT_OBJECT = 1u << 8,       /* object */
	RT_WEBSOCKET = 1u << 9,    /* websocket */
	RT_OTHER = 1u << 10,       /* other */
	RT_DOCUMENT = 1u << 11,    /* document (a navigation) */
	RT_POPUP = 1u << 12,       /* popup */
	RT_ALL = (1u << 13) - 1,
};
/* The RT_ bit for an option name such as "script" or "xhr", or 0. */
uint32_t resource_type_from_name(const char *name, size_t len);

enum party { PARTY_ANY = 0, PARTY_THIRD = 1, PARTY_FIRST = 2 };

enum {
	RULE_EXCEPTION = 1u << 0,  /* @@: allows what block rules would block */
	RULE_IMPORTANT = 1u << 1,  /* $important (kept for the record) */
	RULE_MATCH_CASE = 1u << 2, /* $match-case: URL patterns compare case */
	RULE_IGNORE = 1u << 3,     /* TDS rule with action "ignore" */
};

/* The conditions of a rule beyond its host or pattern. */
struct rule_options {
	unsigned flags;           /* RULE_ */
	enum party party;
	uint32_t types;           /* RT_ bits the rule applies to; 0 = every type */
	/* "$domain=": sites separated by '|', a leading '~' excludes; NULL = any site */
	const char *domains;
	size_t domains_len;
};

/* A list as loaded: where from and what came of it. */
struct list_info {
	const char *name;         /* as configured ("easyprivacy") */
	const char *path;
	enum list_format format;
	const char *category;     /* category its filter rules give, or NULL */
	char sha256[65];          /* of the file's bytes, hex */
	uint64_t bytes;
	uint32_t rules;           /* rules and entries taken in */
	uint32_t skipped;         /* rules left out, by reason in `skips` */
	struct list_skip {
		const char *reason;
		uint32_t count;
		uint32_t first_line;  /* where the first of them was */
	} skips[16];
	unsigned skip_reasons;
};

/* An empty matcher to fill; NULL when out of memory. */
struct matcher *matcher_new(void);
void matcher_free(struct matcher *m);

/*
 * Registers a list; the parsers then add its rules under the returned index
 * (0, 1, ... in load order, which is also the precedence order), or -1 when
 * out of memory or at MATCHER_MAX_LISTS. Strings are copied.
 */
enum { MATCHER_MAX_LISTS = 64 };
int matcher_add_list(struct matcher *m, const char *name, const char *path,
		     enum list_format format, const char *category);
/* The list's record, for the parser to fill sha256/bytes; NULL if no such list. */
struct list_info *matcher_list(struct matcher *m, int list);
const struct list_info *matcher_list_info(const struct matcher *m, int list);
int matcher_list_count(const struct matcher *m);

/*
 * Counts a rule left out, by reason ("cosmetic", "regular expression",
 * "option csp", ...; copied), remembering the first line. The first 15
 * reasons are kept apart; any more are counted together as "other reasons".
 */
void matcher_skip(struct matcher *m, int list, const char *reason, unsigned line);

/*
 * A filter rule for a host and everything under it ("||host^", a hosts file
 * line). `text` is the rule as written, for reports. Host names are stored
 * in lower case; a trailing dot is dropped. Returns 0, or -1 (out of memory
 * or an empty or over-long name).
 */
int matcher_add_host_rule(struct matcher *m, int list, const char *host, size_t host_len,
			  const struct rule_options *options, const char *text, size_t text_len);

/*
 * A URL filter rule (Adblock Plus pattern) that needs a URL to decide:
 * "||host/path", "/fp_204?", "|https://x/". `anchor_host` is the host of a
 * "||host..." pattern (NULL when the pattern is not host-anchored); the
 * pattern is stored as written, with its anchors.
 */
int matcher_add_url_rule(struct matcher *m, int list, const char *anchor_host, size_t anchor_len,
			 const char *pattern, size_t pattern_len,
			 const struct rule_options *options, const char *text, size_t text_len);

/*
 * What a list knows of a domain and every name under it: its company, a
 * category (may be NULL; calls accumulate categories), and a verdict:
 * 1 tracker, 0 not a tracker, -1 no opinion (a company's own site).
 */
int matcher_add_entity(struct matcher *m, int list, const char *domain, size_t domain_len,
		       const char *entity, const char *category, int verdict);

/* A TDS CNAME: `name` (a first-party subdomain) is an alias of `target`. */
int matcher_add_cname(struct matcher *m, int list, const char *name, size_t name_len,
		      const char *target, size_t target_len);

/*
 * A TDS rule of tracker `domain`: a regular expression (POSIX extended,
 * case-insensitive; the TDS's are simple enough) matched against the whole
 * URL. `options`: RULE_IGNORE for action "ignore"; `domains` and `types`
 * from the rule's "options" (the sites and types it is for). Its
 * "exceptions": sites `except_domains` ("a.com|b.com", NULL for none) and
 * types `except_types` (0 for none); a request that matches the rule and
 * every exception part given is allowed ("ignore"), as DuckDuckGo's own
 * matching does. The first rule of a tracker that matches decides; with
 * none, its default does. Returns 0, 1 when the expression does not
 * compile (skip it), or -1.
 */
int matcher_add_regex_rule(struct matcher *m, int list, const char *domain, size_t domain_len,
			   const char *regex, const struct rule_options *options,
			   const char *except_domains, size_t except_domains_len, uint32_t except_types);

/* A cookie name (or prefix) from the Open Cookie Database. */
struct cookie_info {
	const char *name;
	bool prefix;               /* name is a prefix ("_ga_") */
	const char *platform;      /* "Google Analytics" */
	const char *category;      /* "Analytics", "Marketing", "Functional", ... */
	const char *domain;        /* as the database writes it, may be "" */
	const char *retention;     /* "2 years", "session" */
	const char *controller;    /* "Google" */
	int list;
};
int matcher_add_cookie(struct matcher *m, int list, const struct cookie_info *cookie);

/*
 * The estimated size glibc's regcomp() gives a POSIX extended expression of
 * `len` bytes, or 0 when it is refused as too costly to compile or to run
 * (see matcher.c); a list compiles at most MATCHER_REGEX_BUDGET of it.
 */
size_t matcher_regex_cost(const char *re, size_t len);
enum { MATCHER_REGEX_BUDGET = 512 * 1024 };

/* Freezes the matcher; 0, or -1 when out of memory. */
int matcher_finish(struct matcher *m);

/* ---- Lookups (after matcher_finish; thread-safe, no allocation) ---- */

enum { MATCH_MAX_CATEGORIES = 16 };

/* One rule or entry that matched. */
struct match_rule {
	int list;
	const char *text;          /* the rule as written, or the domain of a Disconnect or TDS entry */
	const char *domain;        /* the domain it is attached to */
	bool exception;
};

struct match {
	bool tracker;
	/* The rule that decided: the block rule (tracker), the exception that
	   won, or the entry that said "tracker"; list -1 when nothing matched. */
	struct match_rule decided;
	bool host_only;            /* decided by a rule restricted to resource types
				      that a bare name cannot check */
	uint64_t lists;            /* bit per list that matched anything */
	const char *entity;        /* company, or NULL */
	const char *category;      /* primary category, or NULL */
	const char *categories[MATCH_MAX_CATEGORIES];
	unsigned category_count;
	const char *cname;         /* TDS CNAME target matched in place of the name, or NULL */
	/* 1 or 0 when a party rule needed it; -1 when no site was given or no
	   rule needed it (matcher_third_party() tells, at the cost of the
	   Public Suffix List lookups the match could skip) */
	int third_party;
};

/*
 * Looks up a host name as seen on the wire (DNS, SNI, Host): any case, a
 * trailing dot and a ":port" are ignored. `site` is the first party's host
 * or registrable domain (NULL when unknown: party-restricted rules then
 * apply, "$domain=" rules with sites to include do not).
 */
void matcher_lookup_host(const struct matcher *m, const char *host, size_t host_len,
			 const char *site, struct match *out);

/*
 * Looks up a full URL ("https://host/path?query") requested as resource
 * type `type` (an RT_ bit, 0 when unknown), applying every rule exactly.
 * With type 0, a rule for some types only marks the URL host_only when it
 * is tied to a host ("||x.com/p$script"), and does not apply when it is
 * not ("$ping,third-party" would otherwise mark every URL). At most
 * 8192 bytes of a URL are read.
 */
void matcher_lookup_url(const struct matcher *m, const char *url, size_t url_len,
			const char *site, uint32_t type, struct match *out);

/* Where the host of a URL begins (its offset), and its length (with any ":port") in *host_len. */
size_t matcher_url_host(const char *url, size_t url_len, size_t *host_len);

/* The Open Cookie Database entry for a cookie name: exact first, then the longest prefix; NULL when none. */
const struct cookie_info *matcher_lookup_cookie(const struct matcher *m, const char *name, size_t len);

/*
 * Whether `host` is third party to `site`: their registrable domains differ
 * (a name without one, such as an address, compares whole). Names in any
 * case, with or without a trailing dot or port. 1, 0, or -1 when either is
 * empty or too long.
 */
int matcher_third_party(const char *host, size_t host_len, const char *site);

/* The registrable domain (eTLD+1) of `host` by the Public Suffix List, or NULL (an IP address, a public suffix itself). Thread-safe. */
const char *matcher_registrable_domain(const char *host);

/*
 * A finished matcher as one block of bytes, for the lists' cache (lists.c):
 * *out is malloc'd; returns its size, or 0 (out of memory). Only the same
 * build of the same program may read it back.
 */
size_t matcher_snapshot(const struct matcher *m, void **out);
/*
 * The matcher a snapshot holds; takes `block` (64-byte aligned, from
 * malloc()'s family): freed with the matcher, or at once when NULL is
 * returned: not a whole snapshot, or one whose arrays overlap, or whose
 * strings, indices, list numbers, tables or expressions do not hold
 * together, so that no lookup could read outside the block or run away.
 */
struct matcher *matcher_from_snapshot(void *block, size_t size);

/* Sizes for reports: distinct domains, host rules, URL rules, cookies. */
struct matcher_stats {
	uint32_t domains, host_rules, url_rules, regex_rules, entities, cnames, cookies;
	size_t bytes;
};
void matcher_stats(const struct matcher *m, struct matcher_stats *out);

#endif
