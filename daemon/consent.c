/*
 * consent: the consent-signal rules engine (see consent.h). A rules file
 * (etc/consent-signals.yaml; the format is in trackwatchd(8), CONSENT
 * SIGNALS) is compiled once into a read-only table: regular expressions
 * compiled, decode pipelines and decision steps checked. Evaluation runs in
 * the `consent` stage on one request's cookies and URL, or one Set-Cookie,
 * and hands back decisions with a detail that carries no identifier from
 * the value.
 *
 * Every value is hostile: raw values and every decoded value are capped at
 * VALUE_MAX bytes, JSON nesting at JSON_DEPTH_MAX, split items at ITEMS_MAX;
 * a value that breaks a bound or does not decode gives no signal.
 */
#include "consent.h"
#include "text.h"

#include <ctype.h>
#include <regex.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <yaml.h>

#include "../blocklists/yamlfile.h"
#include "../dissectors/tcf.h"

enum {
	VALUE_MAX = 8192,        /* a raw value, and every value a decode op makes */
	JSON_DEPTH_MAX = 16,     /* nesting of JSON (and JS object) values */
	ITEMS_MAX = 256,         /* pairs of a kv op, items of a list op */
	CATEGORIES_MAX = 256,    /* categories one step reads */
	COOKIES_MAX = 64,        /* cookies a `cookies` signal reads together */
	NAME_MAX_LEN = 256,      /* a cookie name or host matched by a regex */
	/* Bounds of a rules file: they also bound the work of a YAML file
	   whose aliases repeat one node many times. */
	RULES_MAX = 128,
	SIGNALS_MAX = 512,       /* in all */
	SIGNALS_PER_RULE = 16,
	OPS_MAX = 12,
	STEPS_MAX = 24,
	CONDITIONS_MAX = 4,
	LIST_MAX = 64,           /* entries of a list in a rule (keys, values) */
	LETTERS_MAX = 8,
	TEXT_MAX = 512,          /* a string in a rule: a name, a pattern, a path */
	INTERVAL_PRODUCT_MAX = 256,
	ID_MAX = 40,
};

/* ---- names ---- */

static const char *const decision_words[] = {
	[CONSENT_ACCEPT] = "accept",
	[CONSENT_REJECT] = "reject",
	[CONSENT_PARTIAL] = "partial",
	[CONSENT_NO_DECISION] = "no_decision",
};

const char *consent_decision_name(enum consent_decision decision)
{
	if (decision <= CONSENT_NONE || decision > CONSENT_NO_DECISION)
		return NULL;
	return decision_words[decision];
}

enum consent_decision consent_decision_parse(const char *word)
{
	for (int d = CONSENT_ACCEPT; word && d <= CONSENT_NO_DECISION; d++)
		if (strcmp(word, decision_words[d]) == 0)
			return (enum consent_decision)d;
	return CONSENT_NONE;
}

/* ---- the compiled rules ---- */

struct strset {
	char **items;
	size_t n;
};

struct regex {
	regex_t re;
	bool compiled;
	/* What every match begins with, when the pattern is anchored ("^cmplz_"):
	   checked first, it spares regexec() nearly every call. */
	char prefix[32];
	uint8_t prefix_len;
};

enum subject { SUBJECT_VALUE, SUBJECT_COOKIE, SUBJECT_PARAM };
enum predicate { PRED_ALWAYS, PRED_MISSING, PRED_PRESENT, PRED_EMPTY, PRED_EQUALS, PRED_REGEX, PRED_ALL_IN };

struct condition {
	enum subject subject;
	char *name;              /* the path (SUBJECT_VALUE; NULL: the value), cookie or parameter */
	size_t name_len;         /* strlen(name), 0 without one */
	enum predicate pred;
	char *literal;           /* PRED_EQUALS */
	struct regex re;         /* PRED_REGEX */
	struct strset set;       /* PRED_ALL_IN */
};

struct categories {
	struct strset at, granted_in, denied_in;   /* paths */
	struct strset keys, granted, denied, necessary;
	bool all_keys, absent_denied, nonempty;
	struct regex necessary_re, ignore_re;
	char *label;
};

enum step_kind { STEP_TEST, STEP_CATEGORIES, STEP_TCF };

struct step {
	enum step_kind kind;
	struct condition cond[CONDITIONS_MAX];  /* STEP_TEST: all must hold */
	size_t cond_n;
	enum consent_decision then;             /* CONSENT_NONE: `none`, no signal */
	char *detail;
	struct categories cat;
	uint32_t accept_purposes, accept_purposes_v2_2;
};

enum op_kind { OP_URL_DECODE, OP_BASE64, OP_JSON, OP_JS_OBJECT, OP_KV, OP_LIST, OP_QUERY, OP_LETTERS, OP_TCF };

struct decode_op {
	enum op_kind kind;
	char *at;                /* a path inside the value, or NULL for the value */
	char *sep, *kvsep;
	bool url_decode;
	char *letter_names[LETTERS_MAX];
	unsigned letter_pos[LETTERS_MAX];
	size_t letter_n;
};

enum signal_kind { KIND_COOKIE, KIND_COOKIES, KIND_URL_PARAM, KIND_URL };
enum name_match { MATCH_EXACT, MATCH_PREFIX, MATCH_REGEX };

struct signal_rule {
	const char *rule_id;     /* owned by consent_rules.ids */
	enum signal_kind kind;
	char *name;
	size_t name_len;         /* strlen(name) */
	enum name_match match;
	struct regex name_re, host_re, path_re;
	char *param;
	char *label;
	struct decode_op ops[OPS_MAX];
	size_t op_n;
	struct step *steps;
	size_t step_n;
	const struct categories *summary;  /* a categories step, shown with a no_decision */
};

/* A cookie name a rule reads (consent_is_consent_cookie()), gathered once at load. */
struct cookie_matcher {
	const char *name;        /* the rule's or the condition's */
	size_t len;
	enum name_match match;
	size_t signal;           /* the signal it is of: its name_re, for MATCH_REGEX */
};

struct consent_rules {
	char **ids;
	size_t id_n;
	struct signal_rule *signals;
	size_t signal_n;
	struct cookie_matcher *cookie_names;
	size_t cookie_name_n;
};

static void regex_free(struct regex *r)
{
	if (r->compiled)
		regfree(&r->re);
	r->compiled = false;
}

static void strset_free(struct strset *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->items[i]);
	free(s->items);
	s->items = NULL;
	s->n = 0;
}

static void categories_free(struct categories *c)
{
	strset_free(&c->at);
	strset_free(&c->granted_in);
	strset_free(&c->denied_in);
	strset_free(&c->keys);
	strset_free(&c->granted);
	strset_free(&c->denied);
	strset_free(&c->necessary);
	regex_free(&c->necessary_re);
	regex_free(&c->ignore_re);
	free(c->label);
}

static void signal_free(struct signal_rule *s)
{
	free(s->name);
	free(s->param);
	free(s->label);
	regex_free(&s->name_re);
	regex_free(&s->host_re);
	regex_free(&s->path_re);
	for (size_t i = 0; i < s->op_n; i++) {
		free(s->ops[i].at);
		free(s->ops[i].sep);
		free(s->ops[i].kvsep);
		for (size_t j = 0; j < s->ops[i].letter_n; j++)
			free(s->ops[i].letter_names[j]);
	}
	for (size_t i = 0; i < s->step_n; i++) {
		struct step *st = &s->steps[i];
		for (size_t j = 0; j < st->cond_n; j++) {
			free(st->cond[j].name);
			free(st->cond[j].literal);
			regex_free(&st->cond[j].re);
			strset_free(&st->cond[j].set);
		}
		free(st->detail);
		categories_free(&st->cat);
	}
	free(s->steps);
}

static void tcf_memo_clear(void);

void consent_rules_free(struct consent_rules *rules)
{
	tcf_memo_clear();
	if (!rules)
		return;
	for (size_t i = 0; i < rules->signal_n; i++)
		signal_free(&rules->signals[i]);
	free(rules->signals);
	free(rules->cookie_names);
	for (size_t i = 0; i < rules->id_n; i++)
		free(rules->ids[i]);
	free(rules->ids);
	free(rules);
}

size_t consent_rules_count(const struct consent_rules *rules)
{
	return rules ? rules->signal_n : 0;
}

/* ---- the loader ---- */

struct loader {
	struct yaml_file *y;
	struct consent_rules *rules;
	char where[128];   /* "rule 'onetrust', signal 1", for messages */
};

/* "file:line: <where>: reason"; returns -1. */
static int fail(struct loader *l, const yaml_node_t *node, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct loader *l, const yaml_node_t *node, const char *fmt, ...)
{
	char reason[280], text[420];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof reason, fmt, ap);
	va_end(ap);
	if (l->where[0])
		snprintf(text, sizeof text, "%s: %s", l->where, reason);
	else
		snprintf(text, sizeof text, "%s", reason);
	return yaml_file_fail(l->y, node, "%s", text);
}

/* A scalar from the rules, quoted for a message (cut short, control bytes shown as '?'). */
static const char *shown(const char *s, char buf[48])
{
	size_t i = 0;
	for (; s && s[i] && i < 40; i++)
		buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	buf[i] = '\0';
	if (s && s[i])
		strcpy(buf + i, "...");
	return s ? buf : "?";
}

/*
 * Reads mapping `node` (`what` names it in messages): its keys must be among
 * known[0..n), each once; their values go to out[] (NULL when absent).
 */
static int read_map(struct loader *l, const yaml_node_t *node, const char *what,
		    const char *const known[], size_t n, yaml_node_t *out[])
{
	for (size_t i = 0; i < n; i++)
		out[i] = NULL;
	if (!node || node->type != YAML_MAPPING_NODE)
		return fail(l, node, "%s must be a mapping", what);
	for (yaml_node_pair_t *p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_file_node(l->y, p->key);
		const char *key = yaml_scalar(k);
		size_t i = 0;
		while (key && i < n && strcmp(key, known[i]) != 0)
			i++;
		if (!key || i == n) {
			char list[200] = "", b[48];
			for (size_t j = 0; j < n; j++)
				snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", j ? ", " : "",
					 known[j]);
			return fail(l, k, "unknown key '%s' in %s (known: %s)", shown(key, b), what, list);
		}
		if (out[i])
			return fail(l, k, "key '%s' given twice in %s", key, what);
		out[i] = yaml_file_node(l->y, p->value);
	}
	return 0;
}

/* A string value of `key`: at most TEXT_MAX bytes, and not empty when `nonempty`. */
static int get_text(struct loader *l, const yaml_node_t *node, const char *key, bool nonempty, char **out)
{
	const char *s = yaml_scalar(node);
	if (!s || (nonempty && !*s) || strlen(s) > TEXT_MAX)
		return fail(l, node, "'%s' must be a%s string of at most %d bytes", key,
			    nonempty ? " non-empty" : "", TEXT_MAX);
	free(*out);
	*out = strdup(s);
	return *out ? 0 : fail(l, node, "out of memory");
}

static int get_bool(struct loader *l, const yaml_node_t *node, const char *key, bool *out)
{
	const char *s = yaml_scalar(node);
	if (s && strcmp(s, "true") == 0)
		*out = true;
	else if (s && strcmp(s, "false") == 0)
		*out = false;
	else
		return fail(l, node, "'%s' must be true or false", key);
	return 0;
}

/* A string or a sequence of strings, into `set`. */
static int get_set(struct loader *l, const yaml_node_t *node, const char *key, struct strset *set)
{
	strset_free(set);
	if (node && node->type == YAML_SCALAR_NODE) {
		set->items = calloc(1, sizeof *set->items);
		if (!set->items)
			return fail(l, node, "out of memory");
		set->n = 1;
		return get_text(l, node, key, true, &set->items[0]);
	}
	if (!node || node->type != YAML_SEQUENCE_NODE)
		return fail(l, node, "'%s' must be a string or a list of strings", key);
	size_t n = (size_t)(node->data.sequence.items.top - node->data.sequence.items.start);
	if (n > LIST_MAX)
		return fail(l, node, "'%s' has more than %d entries", key, LIST_MAX);
	set->items = calloc(n ? n : 1, sizeof *set->items);
	if (!set->items)
		return fail(l, node, "out of memory");
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *item = yaml_file_node(l->y, node->data.sequence.items.start[i]);
		set->n = i + 1;
		if (get_text(l, item, key, false, &set->items[i]) != 0)
			return -1;
	}
	return 0;
}

static bool set_has(const struct strset *set, const char *s, size_t len)
{
	for (size_t i = 0; i < set->n; i++)
		if (strlen(set->items[i]) == len && memcmp(set->items[i], s, len) == 0)
			return true;
	return false;
}

/*
 * Whether a pattern is one we compile: bounded length, no back-references
 * (glibc takes them in ERE, and they make matching exponential), and
 * interval expressions whose bounds multiply to at most INTERVAL_PRODUCT_MAX
 * (glibc expands intervals into copies: "((a{100}){100}){100}" is 10^6).
 */
static const char *pattern_problem(const char *p)
{
	size_t product = 1;
	for (size_t i = 0; p[i]; i++) {
		if (p[i] == '\\') {
			if (p[i + 1] >= '1' && p[i + 1] <= '9')
				return "back-references are not allowed";
			if (p[i + 1])
				i++;
		} else if (p[i] == '[') {
			/* a bracket expression: ']' first is a member; [:class:] inside */
			i++;
			if (p[i] == '^')
				i++;
			if (p[i] == ']')
				i++;
			while (p[i] && p[i] != ']') {
				if (p[i] == '[' && (p[i + 1] == ':' || p[i + 1] == '.' || p[i + 1] == '=')) {
					char close = p[i + 1];
					const char *end = p + i + 2;
					while (*end && !(end[0] == close && end[1] == ']'))
						end++;
					if (!*end)
						return NULL;   /* regcomp says what is wrong */
					i = (size_t)(end - p) + 2;
					continue;
				}
				i++;
			}
			if (!p[i])
				return NULL;
		} else if (p[i] == '{') {
			unsigned long bound = 0;
			size_t j = i + 1;
			while (p[j] >= '0' && p[j] <= '9' && bound <= INTERVAL_PRODUCT_MAX)
				bound = bound * 10 + (unsigned long)(p[j++] - '0');
			if (p[j] == ',') {
				j++;
				unsigned long upper = 0;
				bool has_upper = false;
				while (p[j] >= '0' && p[j] <= '9' && upper <= INTERVAL_PRODUCT_MAX) {
					upper = upper * 10 + (unsigned long)(p[j++] - '0');
					has_upper = true;
				}
				if (has_upper && upper > bound)
					bound = upper;
			}
			product *= bound + 1;
			if (bound > INTERVAL_PRODUCT_MAX || product > INTERVAL_PRODUCT_MAX)
				return "interval bounds too large (their product must be at most 256)";
		}
	}
	return NULL;
}

/*
 * The literal text a match of `pattern` must begin with: after a leading '^',
 * the characters up to the first that is not a literal ("\\." is one),
 * less the last when a quantifier follows it. None when the pattern has a
 * '|' outside brackets and parentheses ("^a|b" matches "b" too).
 */
static void regex_prefix(const char *pattern, struct regex *out)
{
	out->prefix_len = 0;
	int depth = 0;
	for (const char *p = pattern; *p; p++) {
		if (*p == '\\' && p[1]) {
			p++;
		} else if (*p == '[') {
			/* A bracket expression as regcomp() reads it: ']' first is a member; [:class:] [.x.] [=x=] inside. */
			p++;
			if (*p == '^')
				p++;
			if (*p == ']')
				p++;
			while (*p && *p != ']') {
				if (*p == '[' && (p[1] == ':' || p[1] == '.' || p[1] == '=')) {
					char close = p[1];
					const char *e = p + 2;
					while (*e && !(e[0] == close && e[1] == ']'))
						e++;
					if (!*e)
						return;
					p = e + 2;
					continue;
				}
				p++;
			}
			if (!*p)
				return;
		} else if (*p == '(') {
			depth++;
		} else if (*p == ')') {
			if (depth > 0) /* an unmatched ')' is an ordinary character in glibc's ERE */
				depth--;
		} else if (*p == '|' && depth == 0) {
			return;
		}
	}
	if (pattern[0] != '^')
		return;
	size_t n = 0;
	const char *p = pattern + 1;
	while (*p && n < sizeof out->prefix) {
		char c = *p;
		if (c == '\\' && p[1] && strchr(".^$|()[]{}*+?\\/-", p[1])) {
			c = p[1];
			p += 2;
		} else if (strchr(".[]()*+?{}|^$\\", c)) {
			break;
		} else {
			p++;
		}
		out->prefix[n++] = c;
	}
	/* Quantifiers stack in ERE ("b+?" is "(b+)?"): any of them makes the last literal optional. */
	if (n && *p && strchr("*+?{", *p))
		n--;
	/* Cut at the buffer's end: what is left is still a prefix of every match. */
	out->prefix_len = (uint8_t)n;
}

static int get_regex(struct loader *l, const yaml_node_t *node, const char *key, struct regex *out)
{
	const char *s = yaml_scalar(node);
	if (!s || !*s || strlen(s) > TEXT_MAX)
		return fail(l, node, "'%s' must be a regular expression of 1 to %d bytes", key, TEXT_MAX);
	const char *problem = pattern_problem(s);
	if (problem)
		return fail(l, node, "'%s': %s", key, problem);
	regex_free(out);
	int rc = regcomp(&out->re, s, REG_EXTENDED | REG_NOSUB);
	if (rc != 0) {
		char msg[120];
		regerror(rc, &out->re, msg, sizeof msg);
		return fail(l, node, "'%s': bad regular expression: %s", key, msg);
	}
	out->compiled = true;
	regex_prefix(s, out);
	return 0;
}

static int get_decision(struct loader *l, const yaml_node_t *node, const char *key,
			enum consent_decision *out)
{
	const char *s = yaml_scalar(node);
	char b[48];
	if (s && strcmp(s, "none") == 0) {
		*out = CONSENT_NONE;
		return 0;
	}
	*out = consent_decision_parse(s);
	if (*out == CONSENT_NONE)
		return fail(l, node, "'%s': unknown decision '%s' (known: accept, reject, partial, no_decision, none)",
			    key, shown(s, b));
	return 0;
}

/* "1-10", "1-10,11", "1,3,5": purposes 1..24 into a bit set (bit i-1 for purpose i). */
static int get_purposes(struct loader *l, const yaml_node_t *node, const char *key, uint32_t *out)
{
	const char *s = yaml_scalar(node);
	uint32_t set = 0;
	bool ok = s && *s;
	while (ok && *s) {
		char *end;
		unsigned long a = 0, b = 0;
		ok = isdigit((unsigned char)*s);
		if (ok) {
			a = b = strtoul(s, &end, 10);
			s = end;
		}
		if (ok && *s == '-') {
			ok = isdigit((unsigned char)s[1]);
			if (ok) {
				b = strtoul(s + 1, &end, 10);
				s = end;
			}
		}
		ok = ok && a >= 1 && b <= TCF_PURPOSES && a <= b && (*s == '\0' || (*s == ',' && s[1]));
		for (unsigned long i = a; ok && i <= b; i++)
			set |= 1u << (i - 1);
		if (ok && *s == ',')
			s++;
	}
	if (ok) {
		*out = set;
		return 0;
	}
	return fail(l, node, "'%s' must list purposes 1 to %d, as in \"1-10\" or \"1-10,11\"", key,
		    TCF_PURPOSES);
}

/* A path: keys joined by '.', or "." for the value itself (stored as NULL). */
static int get_path(struct loader *l, const yaml_node_t *node, const char *key, char **out)
{
	if (get_text(l, node, key, true, out) != 0)
		return -1;
	const char *p = *out;
	if (strcmp(p, ".") == 0) {
		free(*out);
		*out = NULL;
		return 0;
	}
	if (p[0] == '.' || p[strlen(p) - 1] == '.' || strstr(p, ".."))
		return fail(l, node, "'%s': a path is keys joined by '.' (or '.' for the value itself)", key);
	return 0;
}

/* A separator of kv or list: 1 to 4 bytes. */
static int get_sep(struct loader *l, const yaml_node_t *node, const yaml_node_t *args, const char *key,
		   char **out)
{
	if (!node)
		return fail(l, args, "'%s' is missing", key);
	if (get_text(l, node, key, true, out) != 0)
		return -1;
	if (strlen(*out) > 4)
		return fail(l, node, "'%s' must be 1 to 4 bytes", key);
	return 0;
}

static const char *const op_names[] = {
	[OP_URL_DECODE] = "url_decode", [OP_BASE64] = "base64", [OP_JSON] = "json",
	[OP_JS_OBJECT] = "js_object", [OP_KV] = "kv", [OP_LIST] = "list", [OP_QUERY] = "query",
	[OP_LETTERS] = "letters", [OP_TCF] = "tcf",
};

static int load_op(struct loader *l, const yaml_node_t *node, struct decode_op *op)
{
	const char *name = yaml_scalar(node);
	yaml_node_t *args = NULL, *name_node = (yaml_node_t *)node;
	if (node && node->type == YAML_MAPPING_NODE &&
	    node->data.mapping.pairs.top - node->data.mapping.pairs.start == 1) {
		name_node = yaml_file_node(l->y, node->data.mapping.pairs.start->key);
		name = yaml_scalar(name_node);
		args = yaml_file_node(l->y, node->data.mapping.pairs.start->value);
	} else if (!name) {
		return fail(l, node, "a decode op is a name (url_decode) or a mapping of one name to its "
				     "arguments ({kv: {sep: \"&\", kvsep: \"=\"}})");
	}
	size_t k = 0;
	while (name && k < sizeof op_names / sizeof op_names[0] && strcmp(name, op_names[k]) != 0)
		k++;
	if (name && strcmp(name, "base64url") == 0)
		k = OP_BASE64;
	char b[48];
	if (!name || k == sizeof op_names / sizeof op_names[0])
		return fail(l, name_node, "unknown decode op '%s' (known: url_decode, base64, base64url, json, "
					  "js_object, kv, list, query, letters, tcf)", shown(name, b));
	op->kind = (enum op_kind)k;
	const char *s = yaml_scalar(args);
	if (args && !(s && !*s) && args->type != YAML_MAPPING_NODE)
		return fail(l, args, "the arguments of '%s' must be a mapping", name);
	bool has_args = args && args->type == YAML_MAPPING_NODE;
	char what[64];
	snprintf(what, sizeof what, "decode op '%s'", name);
	yaml_node_t *v[5];
	switch (op->kind) {
	case OP_URL_DECODE:
	case OP_BASE64:
	case OP_JSON:
	case OP_JS_OBJECT: {
		static const char *const known[] = { "at" };
		if (has_args && (read_map(l, args, what, known, 1, v) != 0 ||
				 (v[0] && get_path(l, v[0], "at", &op->at) != 0)))
			return -1;
		return 0;
	}
	case OP_KV: {
		static const char *const known[] = { "sep", "kvsep", "url_decode", "at" };
		if (!has_args)
			return fail(l, name_node, "'kv' needs its arguments (sep, kvsep)");
		if (read_map(l, args, what, known, 4, v) != 0 || get_sep(l, v[0], args, "sep", &op->sep) != 0 ||
		    get_sep(l, v[1], args, "kvsep", &op->kvsep) != 0 ||
		    (v[2] && get_bool(l, v[2], "url_decode", &op->url_decode) != 0) ||
		    (v[3] && get_path(l, v[3], "at", &op->at) != 0))
			return -1;
		return 0;
	}
	case OP_LIST: {
		static const char *const known[] = { "sep", "at" };
		if (!has_args)
			return fail(l, name_node, "'list' needs its arguments (sep)");
		if (read_map(l, args, what, known, 2, v) != 0 || get_sep(l, v[0], args, "sep", &op->sep) != 0 ||
		    (v[1] && get_path(l, v[1], "at", &op->at) != 0))
			return -1;
		return 0;
	}
	case OP_LETTERS: {
		static const char *const known[] = { "positions", "at" };
		if (!has_args || read_map(l, args, what, known, 2, v) != 0)
			return has_args ? -1 : fail(l, name_node, "'letters' needs 'positions'");
		if (v[1] && get_path(l, v[1], "at", &op->at) != 0)
			return -1;
		if (!v[0] || v[0]->type != YAML_MAPPING_NODE)
			return fail(l, v[0] ? v[0] : args,
				    "'positions' must be a mapping of names to character positions (0-based)");
		for (yaml_node_pair_t *p = v[0]->data.mapping.pairs.start; p < v[0]->data.mapping.pairs.top; p++) {
			yaml_node_t *kn = yaml_file_node(l->y, p->key), *vn = yaml_file_node(l->y, p->value);
			const char *pos = yaml_scalar(vn);
			char *end = NULL;
			unsigned long at = pos && isdigit((unsigned char)*pos) ? strtoul(pos, &end, 10) : 0;
			if (op->letter_n == LETTERS_MAX)
				return fail(l, kn, "'positions' has more than %d names", LETTERS_MAX);
			if (get_text(l, kn, "positions", true, &op->letter_names[op->letter_n]) != 0)
				return -1;
			for (size_t i = 0; i < op->letter_n; i++)
				if (strcmp(op->letter_names[i], op->letter_names[op->letter_n]) == 0) {
					op->letter_n++;
					return fail(l, kn, "'positions': '%s' given twice", op->letter_names[i]);
				}
			op->letter_n++;
			if (!end || *end || at > 64)
				return fail(l, vn, "'positions': a position is a number from 0 to 64");
			op->letter_pos[op->letter_n - 1] = (unsigned)at;
		}
		if (!op->letter_n)
			return fail(l, v[0], "'positions' is empty");
		return 0;
	}
	case OP_QUERY:
	case OP_TCF:
		if (has_args)
			return fail(l, args, "'%s' takes no arguments", name);
		return 0;
	}
	return 0;
}

static const char *const predicate_names[] = {
	[PRED_MISSING] = "missing", [PRED_PRESENT] = "present", [PRED_EMPTY] = "empty",
	[PRED_EQUALS] = "equals", [PRED_REGEX] = "regex", [PRED_ALL_IN] = "all_in",
};

/* One condition, from the keys of a step or of an `all:` entry (v: at, cookie, param, predicates...). */
static int load_condition(struct loader *l, const yaml_node_t *node, yaml_node_t *const v[], struct condition *c)
{
	/* v[0..2]: at, cookie, param; v[3..8]: the predicates in predicate_names order */
	int subjects = !!v[0] + !!v[1] + !!v[2];
	if (subjects > 1)
		return fail(l, node, "a condition reads one of 'at', 'cookie' or 'param'");
	c->subject = v[1] ? SUBJECT_COOKIE : v[2] ? SUBJECT_PARAM : SUBJECT_VALUE;
	if (v[0] && get_path(l, v[0], "at", &c->name) != 0)
		return -1;
	if ((v[1] && get_text(l, v[1], "cookie", true, &c->name) != 0) ||
	    (v[2] && get_text(l, v[2], "param", true, &c->name) != 0))
		return -1;
	c->name_len = c->name ? strlen(c->name) : 0;
	c->pred = PRED_ALWAYS;
	for (int p = PRED_MISSING; p <= PRED_ALL_IN; p++) {
		yaml_node_t *n = v[3 + p - PRED_MISSING];
		if (!n)
			continue;
		if (c->pred != PRED_ALWAYS)
			return fail(l, n, "a condition has one test (missing, present, empty, equals, regex "
					  "or all_in)");
		c->pred = (enum predicate)p;
		bool yes = false;
		switch (c->pred) {
		case PRED_MISSING:
		case PRED_PRESENT:
		case PRED_EMPTY:
			if (get_bool(l, n, predicate_names[p], &yes) != 0)
				return -1;
			if (!yes)
				return fail(l, n, "'%s' can only be true", predicate_names[p]);
			break;
		case PRED_EQUALS:
			if (get_text(l, n, "equals", false, &c->literal) != 0)
				return -1;
			break;
		case PRED_REGEX:
			if (get_regex(l, n, "regex", &c->re) != 0)
				return -1;
			break;
		case PRED_ALL_IN:
			if (get_set(l, n, "all_in", &c->set) != 0)
				return -1;
			if (!c->set.n)
				return fail(l, n, "'all_in' is empty");
			break;
		case PRED_ALWAYS:
			break;
		}
	}
	if ((c->subject != SUBJECT_VALUE || c->name) && c->pred == PRED_ALWAYS)
		return fail(l, node, "a condition on '%s' needs a test (missing, present, empty, equals, "
				     "regex or all_in)", c->name ? c->name : "?");
	return 0;
}

static int load_categories(struct loader *l, const yaml_node_t *node, struct categories *c)
{
	static const char *const known[] = {
		"at", "granted_in", "denied_in", "keys", "all_keys", "absent", "granted", "denied",
		"nonempty", "necessary", "necessary_regex", "ignore", "label",
	};
	yaml_node_t *v[13];
	if (read_map(l, node, "'categories'", known, 13, v) != 0)
		return -1;
	if ((v[0] && get_set(l, v[0], "at", &c->at) != 0) ||
	    (v[1] && get_set(l, v[1], "granted_in", &c->granted_in) != 0) ||
	    (v[2] && get_set(l, v[2], "denied_in", &c->denied_in) != 0) ||
	    (v[3] && get_set(l, v[3], "keys", &c->keys) != 0) ||
	    (v[6] && get_set(l, v[6], "granted", &c->granted) != 0) ||
	    (v[7] && get_set(l, v[7], "denied", &c->denied) != 0) ||
	    (v[9] && get_set(l, v[9], "necessary", &c->necessary) != 0) ||
	    (v[10] && get_regex(l, v[10], "necessary_regex", &c->necessary_re) != 0) ||
	    (v[11] && get_regex(l, v[11], "ignore", &c->ignore_re) != 0) ||
	    (v[12] && get_text(l, v[12], "label", true, &c->label) != 0))
		return -1;
	struct strset *paths[] = { &c->at, &c->granted_in, &c->denied_in };
	for (size_t i = 0; i < 3; i++)
		for (size_t j = 0; j < paths[i]->n; j++) {
			const char *p = paths[i]->items[j];
			bool bad = p[0] == '.' ? strcmp(p, ".") != 0 : p[strlen(p) - 1] == '.' || strstr(p, "..");
			if (bad)
				return fail(l, v[i], "'%s': a path is keys joined by '.' (or '.' for the value "
						     "itself)", known[i]);
		}
	c->all_keys = c->keys.n == 0;
	if (v[4] && get_bool(l, v[4], "all_keys", &c->all_keys) != 0)
		return -1;
	const char *absent = yaml_scalar(v[5]);
	if (v[5] && !(absent && (strcmp(absent, "denied") == 0 || strcmp(absent, "ignore") == 0)))
		return fail(l, v[5], "'absent' must be denied or ignore");
	c->absent_denied = absent && strcmp(absent, "denied") == 0;
	if (v[8] && get_bool(l, v[8], "nonempty", &c->nonempty) != 0)
		return -1;
	if (!c->at.n && !c->granted_in.n && !c->denied_in.n) {
		/* the value itself is the object of categories */
		c->at.items = calloc(1, sizeof *c->at.items);
		if (!c->at.items || !(c->at.items[0] = strdup(".")))
			return fail(l, node, "out of memory");
		c->at.n = 1;
	}
	if (!c->nonempty && !c->granted.n && !c->denied.n && (c->at.n || c->keys.n))
		return fail(l, node, "'categories' needs 'granted' and 'denied' values (or 'nonempty: true')");
	if (c->nonempty && (c->granted.n || c->denied.n))
		return fail(l, node, "'categories': 'nonempty' and 'granted'/'denied' exclude each other");
	return 0;
}

static int load_step(struct loader *l, const yaml_node_t *node, struct signal_rule *s, struct step *st)
{
	static const char *const known[] = {
		"at", "cookie", "param", "missing", "present", "empty", "equals", "regex", "all_in",
		"then", "detail", "all", "categories", "tcf",
	};
	yaml_node_t *v[14];
	if (read_map(l, node, "a decide step", known, 14, v) != 0)
		return -1;
	bool tcf_value = s->op_n && s->ops[s->op_n - 1].kind == OP_TCF;
	if (v[12] || v[13]) {
		for (size_t i = 0; i < 12; i++)
			if (v[i])
				return fail(l, v[i], "a '%s' step has no other keys", v[12] ? "categories" : "tcf");
		if (v[12] && v[13])
			return fail(l, node, "a step is a test, 'categories' or 'tcf'");
	}
	if (v[12]) {
		st->kind = STEP_CATEGORIES;
		if (tcf_value)
			return fail(l, v[12], "after the 'tcf' decode op, decide with a 'tcf' step");
		if (load_categories(l, v[12], &st->cat) != 0)
			return -1;
		if (!s->summary)
			s->summary = &st->cat;
		return 0;
	}
	if (v[13]) {
		static const char *const tcf_known[] = { "accept_purposes", "accept_purposes_v2_2" };
		yaml_node_t *t[2];
		st->kind = STEP_TCF;
		if (!tcf_value)
			return fail(l, v[13], "a 'tcf' step needs the 'tcf' decode op last in 'decode'");
		if (read_map(l, v[13], "'tcf'", tcf_known, 2, t) != 0)
			return -1;
		if (!t[0])
			return fail(l, v[13], "'tcf' needs 'accept_purposes'");
		if (get_purposes(l, t[0], "accept_purposes", &st->accept_purposes) != 0)
			return -1;
		st->accept_purposes_v2_2 = st->accept_purposes;
		if (t[1] && get_purposes(l, t[1], "accept_purposes_v2_2", &st->accept_purposes_v2_2) != 0)
			return -1;
		return 0;
	}
	st->kind = STEP_TEST;
	if (!v[9])
		return fail(l, node, "a test step needs 'then' (accept, reject, partial, no_decision or none)");
	if (get_decision(l, v[9], "then", &st->then) != 0)
		return -1;
	if (v[10] && get_text(l, v[10], "detail", true, &st->detail) != 0)
		return -1;
	if (v[10] && strlen(st->detail) > 120)
		return fail(l, v[10], "'detail' is longer than 120 bytes");
	if (v[11]) {
		for (size_t i = 0; i < 9; i++)
			if (v[i])
				return fail(l, v[i], "a step with 'all' has its tests inside 'all'");
		if (v[11]->type != YAML_SEQUENCE_NODE)
			return fail(l, v[11], "'all' must be a list of conditions");
		size_t n = (size_t)(v[11]->data.sequence.items.top - v[11]->data.sequence.items.start);
		if (n < 1 || n > CONDITIONS_MAX)
			return fail(l, v[11], "'all' must list 1 to %d conditions", CONDITIONS_MAX);
		for (size_t i = 0; i < n; i++) {
			yaml_node_t *item = yaml_file_node(l->y, v[11]->data.sequence.items.start[i]);
			yaml_node_t *c[9];
			if (read_map(l, item, "a condition", known, 9, c) != 0)
				return -1;
			st->cond_n = i + 1;
			if (load_condition(l, item, c, &st->cond[i]) != 0)
				return -1;
		}
	} else {
		st->cond_n = 1;
		if (load_condition(l, node, v, &st->cond[0]) != 0)
			return -1;
	}
	for (size_t i = 0; i < st->cond_n; i++)
		if (tcf_value && st->cond[i].subject == SUBJECT_VALUE && st->cond[i].pred != PRED_ALWAYS)
			return fail(l, node, "after the 'tcf' decode op, tests read only 'cookie' or 'param'");
	return 0;
}

static int load_signal(struct loader *l, const yaml_node_t *node, struct signal_rule *s)
{
	static const char *const known[] = {
		"kind", "name", "match", "param", "host", "path", "label", "decode", "decide",
		"note", "source", "confidence",
	};
	yaml_node_t *v[12];
	if (read_map(l, node, "a signal", known, 12, v) != 0)
		return -1;
	const char *kind = yaml_scalar(v[0]);
	char b[48];
	if (!v[0])
		return fail(l, node, "a signal needs 'kind' (cookie, cookies, url_param or url)");
	if (strcmp(kind ? kind : "", "cookie") == 0)
		s->kind = KIND_COOKIE;
	else if (strcmp(kind ? kind : "", "cookies") == 0)
		s->kind = KIND_COOKIES;
	else if (strcmp(kind ? kind : "", "url_param") == 0)
		s->kind = KIND_URL_PARAM;
	else if (strcmp(kind ? kind : "", "url") == 0)
		s->kind = KIND_URL;
	else
		return fail(l, v[0], "unknown kind '%s' (known: cookie, cookies, url_param, url)", shown(kind, b));
	bool cookie = s->kind == KIND_COOKIE || s->kind == KIND_COOKIES;
	/* keys that do not belong to the kind */
	const int foreign[] = { cookie ? 3 : 1, cookie ? 5 : 2, s->kind == KIND_URL ? 3 : -1,
				s->kind == KIND_URL_PARAM ? 5 : -1 };
	for (size_t i = 0; i < 4; i++)
		if (foreign[i] >= 0 && v[foreign[i]])
			return fail(l, v[foreign[i]], "'%s' does not apply to a signal of kind %s",
				    known[foreign[i]], kind);
	for (size_t i = 9; i < 12; i++)
		if (v[i] && !yaml_scalar(v[i]))
			return fail(l, v[i], "'%s' must be a string", known[i]);
	if (cookie) {
		if (!v[1])
			return fail(l, node, "a %s signal needs 'name'", kind);
		if (get_text(l, v[1], "name", true, &s->name) != 0)
			return -1;
		s->name_len = strlen(s->name);
		const char *match = v[2] ? yaml_scalar(v[2]) : "exact";
		if (match && strcmp(match, "exact") == 0)
			s->match = MATCH_EXACT;
		else if (match && strcmp(match, "prefix") == 0)
			s->match = MATCH_PREFIX;
		else if (match && strcmp(match, "regex") == 0)
			s->match = MATCH_REGEX;
		else
			return fail(l, v[2], "unknown match '%s' (known: exact, prefix, regex)", shown(match, b));
		if (s->match == MATCH_REGEX && get_regex(l, v[1], "name", &s->name_re) != 0)
			return -1;
	} else if (s->kind == KIND_URL_PARAM) {
		if (!v[3])
			return fail(l, node, "a url_param signal needs 'param'");
		if (get_text(l, v[3], "param", true, &s->param) != 0)
			return -1;
	}
	if (v[4] && get_regex(l, v[4], "host", &s->host_re) != 0)
		return -1;
	if (v[5] && get_regex(l, v[5], "path", &s->path_re) != 0)
		return -1;
	if (s->kind == KIND_URL && !v[4] && !v[5])
		return fail(l, node, "a url signal needs 'host' or 'path'");
	if (v[6] && get_text(l, v[6], "label", true, &s->label) != 0)
		return -1;
	if ((s->kind == KIND_URL || s->kind == KIND_COOKIES) && !s->label)
		return fail(l, node, "a %s signal needs 'label' (it names the signal's source)", kind);
	if (v[6] && strlen(s->label) > 48)
		return fail(l, v[6], "'label' is longer than 48 bytes");
	if (v[7]) {
		if (v[7]->type != YAML_SEQUENCE_NODE)
			return fail(l, v[7], "'decode' must be a list of ops");
		size_t n = (size_t)(v[7]->data.sequence.items.top - v[7]->data.sequence.items.start);
		if (n > OPS_MAX)
			return fail(l, v[7], "'decode' has more than %d ops", OPS_MAX);
		for (size_t i = 0; i < n; i++) {
			yaml_node_t *item = yaml_file_node(l->y, v[7]->data.sequence.items.start[i]);
			s->op_n = i + 1;
			if (load_op(l, item, &s->ops[i]) != 0)
				return -1;
			if (s->ops[i].kind == OP_TCF && i + 1 != n)
				return fail(l, item, "'tcf' must be the last decode op");
			if (s->ops[i].kind == OP_QUERY && s->kind != KIND_URL)
				return fail(l, item, "'query' reads the URL of a url signal");
		}
	}
	if (!v[8] || v[8]->type != YAML_SEQUENCE_NODE)
		return fail(l, v[8] ? v[8] : node, "a signal needs 'decide', a list of steps");
	size_t n = (size_t)(v[8]->data.sequence.items.top - v[8]->data.sequence.items.start);
	if (n < 1 || n > STEPS_MAX)
		return fail(l, v[8], "'decide' must have 1 to %d steps", STEPS_MAX);
	s->steps = calloc(n, sizeof *s->steps);
	if (!s->steps)
		return fail(l, v[8], "out of memory");
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *item = yaml_file_node(l->y, v[8]->data.sequence.items.start[i]);
		s->step_n = i + 1;
		if (load_step(l, item, s, &s->steps[i]) != 0)
			return -1;
	}
	return 0;
}

static int load_rule(struct loader *l, const yaml_node_t *node, size_t index)
{
	static const char *const known[] = { "id", "name", "confidence", "draft", "source", "note", "signals" };
	yaml_node_t *v[7];
	snprintf(l->where, sizeof l->where, "rule %zu", index + 1);
	if (read_map(l, node, "a rule", known, 7, v) != 0)
		return -1;
	struct consent_rules *r = l->rules;
	const char *id = yaml_scalar(v[0]);
	bool ok = id && *id && strlen(id) <= ID_MAX;
	for (const char *p = id; ok && *p; p++)
		ok = islower((unsigned char)*p) || isdigit((unsigned char)*p) || (*p == '-' && p != id);
	if (!ok)
		return fail(l, v[0] ? v[0] : node, "a rule needs 'id': 1 to %d of a-z, 0-9 and '-'", ID_MAX);
	for (size_t i = 0; i < r->id_n; i++)
		if (strcmp(r->ids[i], id) == 0)
			return fail(l, v[0], "rule id '%s' is used twice", id);
	snprintf(l->where, sizeof l->where, "rule '%s'", id);
	for (size_t i = 1; i < 6; i++)
		if (v[i] && !yaml_scalar(v[i]))
			return fail(l, v[i], "'%s' must be a string", known[i]);
	const char *confidence = yaml_scalar(v[2]);
	if (confidence && strcmp(confidence, "high") != 0 && strcmp(confidence, "medium") != 0 &&
	    strcmp(confidence, "low") != 0)
		return fail(l, v[2], "'confidence' must be high, medium or low");
	const char *draft = yaml_scalar(v[3]);
	if (draft && strcmp(draft, "kept") != 0 && strcmp(draft, "changed") != 0 && strcmp(draft, "new") != 0)
		return fail(l, v[3], "'draft' must be kept, changed or new");
	if (r->id_n == RULES_MAX)
		return fail(l, node, "more than %d rules", RULES_MAX);
	char *copy = strdup(id);
	if (!copy)
		return fail(l, node, "out of memory");
	r->ids[r->id_n++] = copy;
	if (!v[6] || v[6]->type != YAML_SEQUENCE_NODE)
		return fail(l, v[6] ? v[6] : node, "a rule needs 'signals', a list");
	size_t n = (size_t)(v[6]->data.sequence.items.top - v[6]->data.sequence.items.start);
	if (n < 1 || n > SIGNALS_PER_RULE)
		return fail(l, v[6], "'signals' must have 1 to %d entries", SIGNALS_PER_RULE);
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *item = yaml_file_node(l->y, v[6]->data.sequence.items.start[i]);
		if (r->signal_n == SIGNALS_MAX)
			return fail(l, item, "more than %d signals in all", SIGNALS_MAX);
		struct signal_rule *s = &r->signals[r->signal_n++];
		memset(s, 0, sizeof *s);
		s->rule_id = copy;
		snprintf(l->where, sizeof l->where, "rule '%s', signal %zu", id, i + 1);
		if (load_signal(l, item, s) != 0)
			return -1;
	}
	return 0;
}

/*
 * Every cookie name the rules read, in one array: a cookie of every request
 * is checked against it (consent_is_consent_cookie()), not against each
 * rule's steps and conditions in turn.
 */
static int gather_cookie_names(struct consent_rules *r)
{
	size_t n = 0;
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < r->signal_n; i++) {
			const struct signal_rule *s = &r->signals[i];
			if ((s->kind == KIND_COOKIE || s->kind == KIND_COOKIES) && s->name) {
				if (pass)
					r->cookie_names[r->cookie_name_n++] =
						(struct cookie_matcher){ s->name, s->name_len, s->match, i };
				else
					n++;
			}
			for (size_t j = 0; j < s->step_n; j++)
				for (size_t k = 0; k < s->steps[j].cond_n; k++) {
					const struct condition *c = &s->steps[j].cond[k];
					if (c->subject != SUBJECT_COOKIE || !c->name)
						continue;
					if (pass)
						r->cookie_names[r->cookie_name_n++] =
							(struct cookie_matcher){ c->name, c->name_len, MATCH_EXACT, i };
					else
						n++;
				}
		}
		if (!pass && n && !(r->cookie_names = calloc(n, sizeof *r->cookie_names)))
			return -1;
	}
	return 0;
}

static struct consent_rules *load_document(struct yaml_file *y)
{
	struct loader l = { .y = y };
	yaml_node_t *root = y->root;
	if (!root) {
		snprintf(y->err, y->err_len, "%s:1: the rules file is empty (it needs 'version: 1' and 'rules')",
			 y->path);
		return NULL;
	}
	static const char *const known[] = { "version", "rules" };
	yaml_node_t *v[2];
	if (read_map(&l, root, "the rules file", known, 2, v) != 0)
		return NULL;
	const char *version = yaml_scalar(v[0]);
	if (!version || strcmp(version, "1") != 0) {
		fail(&l, v[0] ? v[0] : root, "'version' must be 1 (the format this engine reads)");
		return NULL;
	}
	if (!v[1] || v[1]->type != YAML_SEQUENCE_NODE) {
		fail(&l, v[1] ? v[1] : root, "'rules' must be a list of rules");
		return NULL;
	}
	size_t n = (size_t)(v[1]->data.sequence.items.top - v[1]->data.sequence.items.start);
	if (n > RULES_MAX) {
		fail(&l, v[1], "more than %d rules", RULES_MAX);
		return NULL;
	}
	l.rules = calloc(1, sizeof *l.rules);
	if (l.rules) {
		l.rules->ids = calloc(RULES_MAX, sizeof *l.rules->ids);
		l.rules->signals = calloc(SIGNALS_MAX, sizeof *l.rules->signals);
	}
	if (!l.rules || !l.rules->ids || !l.rules->signals) {
		consent_rules_free(l.rules);
		yaml_file_fail(y, root, "%s", "out of memory");
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *item = yaml_file_node(y, v[1]->data.sequence.items.start[i]);
		if (load_rule(&l, item, i) != 0) {
			consent_rules_free(l.rules);
			return NULL;
		}
	}
	/* keep what was used (the summaries point into steps, which do not move) */
	struct signal_rule *fit = realloc(l.rules->signals, (l.rules->signal_n ? l.rules->signal_n : 1) * sizeof *fit);
	if (fit)
		l.rules->signals = fit;
	if (gather_cookie_names(l.rules) != 0) {
		consent_rules_free(l.rules);
		yaml_file_fail(y, root, "%s", "out of memory");
		return NULL;
	}
	return l.rules;
}

struct consent_rules *consent_rules_load(const char *path, char *error, size_t error_len)
{
	struct yaml_file y;
	if (yaml_file_load(&y, path, error, error_len) != 0)
		return NULL;
	struct consent_rules *rules = load_document(&y);
	yaml_file_free(&y);
	return rules;
}

struct consent_rules *consent_rules_parse(const char *text, size_t len, const char *name,
					  char *error, size_t error_len)
{
	struct yaml_file y;
	if (yaml_file_parse(&y, text, len, name, error, error_len) != 0)
		return NULL;
	struct consent_rules *rules = load_document(&y);
	yaml_file_free(&y);
	return rules;
}

/* ---- decoding values ---- */

/* %XX into its byte; a '%' not followed by two hex digits is kept; '+' stays '+'. */
static size_t percent_decode(const char *s, size_t n, char *out)
{
	size_t j = 0;
	for (size_t i = 0; i < n; i++) {
		int hi = s[i] == '%' && i + 2 < n ? hex_digit_value((unsigned char)s[i + 1]) : -1;
		int lo = hi >= 0 ? hex_digit_value((unsigned char)s[i + 2]) : -1;
		if (lo >= 0) {
			out[j++] = (char)(hi << 4 | lo);
			i += 2;
		} else {
			out[j++] = s[i];
		}
	}
	return j;
}

static json_t *op_url_decode(const char *s, size_t n)
{
	char *buf = malloc(n + 1);
	if (!buf)
		return NULL;
	json_t *v = json_stringn_nocheck(buf, percent_decode(s, n, buf));
	free(buf);
	return v;
}

/* Standard or URL-safe base64, padded or not, through EVP_DecodeBlock. */
static json_t *op_base64(const char *s, size_t n)
{
	while (n && s[n - 1] == '=')
		n--;
	if (n % 4 == 1 || n > VALUE_MAX)
		return NULL;
	size_t padded = (n + 3) / 4 * 4, pad = padded - n;
	unsigned char *in = malloc(padded + 1), *out = malloc(padded / 4 * 3 + 1);
	json_t *v = NULL;
	if (!in || !out)
		goto done;
	for (size_t i = 0; i < n; i++) {
		char c = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
		if (!isalnum((unsigned char)c) && c != '+' && c != '/')
			goto done;
		in[i] = (unsigned char)c;
	}
	memset(in + n, '=', pad);
	in[padded] = '\0';
	int got = EVP_DecodeBlock(out, in, (int)padded);
	if (got >= 0 && (size_t)got >= pad)
		v = json_stringn_nocheck((const char *)out, (size_t)got - pad);
done:
	free(in);
	free(out);
	return v;
}

/* JSON nesting of the text, counted outside strings. */
static bool json_depth_ok(const char *s, size_t n)
{
	int depth = 0;
	bool in_string = false;
	for (size_t i = 0; i < n; i++) {
		if (in_string) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == '"')
				in_string = false;
		} else if (s[i] == '"') {
			in_string = true;
		} else if (s[i] == '[' || s[i] == '{') {
			if (++depth > JSON_DEPTH_MAX)
				return false;
		} else if (s[i] == ']' || s[i] == '}') {
			depth--;
		}
	}
	return true;
}

static json_t *op_json(const char *s, size_t n)
{
	if (n > VALUE_MAX || !json_depth_ok(s, n))
		return NULL;
	return json_loadb(s, n, JSON_REJECT_DUPLICATES, NULL);
}

struct out_buf {
	char *p;
	size_t len, cap;
};

static bool put(struct out_buf *b, const char *s, size_t n)
{
	if (n > b->cap - b->len)
		return false;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	return true;
}

/*
 * A JavaScript object literal as Cookiebot writes it ({stamp:'x',necessary:true,
 * utc:1745622155764}) into JSON for jansson: bare keys quoted, single-quoted
 * strings double-quoted. Only the rewriting; the parsing is jansson's.
 */
static json_t *op_js_object(const char *s, size_t n)
{
	struct out_buf b = { malloc(VALUE_MAX), 0, VALUE_MAX };
	json_t *v = NULL;
	if (!b.p)
		return NULL;
	size_t i = 0;
	while (i < n) {
		char c = s[i];
		if (c == '\'' || c == '"') {
			if (!put(&b, "\"", 1))
				goto done;
			for (i++; i < n && s[i] != c; i++) {
				bool ok;
				if (s[i] == '\\' && i + 1 < n) {
					if (s[i + 1] == '\'')
						ok = put(&b, "'", 1);
					else
						ok = put(&b, s + i, 2);
					i++;
				} else if (s[i] == '"') {
					ok = put(&b, "\\\"", 2);
				} else {
					ok = put(&b, s + i, 1);
				}
				if (!ok)
					goto done;
			}
			if (i == n || !put(&b, "\"", 1))
				goto done;
			i++;
		} else if (isalpha((unsigned char)c) || c == '_' || c == '$') {
			size_t j = i;
			while (j < n && (isalnum((unsigned char)s[j]) || s[j] == '_' || s[j] == '$'))
				j++;
			size_t n_id = j - i;
			bool literal = (n_id == 4 && (memcmp(s + i, "true", 4) == 0 || memcmp(s + i, "null", 4) == 0)) ||
				       (n_id == 5 && memcmp(s + i, "false", 5) == 0);
			if (!(literal ? put(&b, s + i, j - i)
				      : put(&b, "\"", 1) && put(&b, s + i, j - i) && put(&b, "\"", 1)))
				goto done;
			i = j;
		} else {
			if (!put(&b, s + i, 1))
				goto done;
			i++;
		}
	}
	v = op_json(b.p, b.len);
done:
	free(b.p);
	return v;
}

/*
 * Splits on `sep`, then each piece at its first `kvsep`, into an object of
 * strings (a piece without kvsep: the key, with an empty value). Empty
 * pieces and empty keys are skipped. A key given twice: the value fails
 * when `dup_fail` (which of the two does the platform read?), else the
 * first is kept (URL parameters).
 */
static json_t *split_kv(const char *s, size_t n, const char *sep, const char *kvsep, bool decode,
			bool dup_fail)
{
	size_t seplen = strlen(sep), kvlen = strlen(kvsep), items = 0;
	json_t *obj = json_object();
	char *kbuf = malloc(n + 1), *vbuf = malloc(n + 1);
	if (!obj || !kbuf || !vbuf)
		goto fail;
	for (size_t pos = 0; pos < n;) {
		const char *hit = memmem(s + pos, n - pos, sep, seplen);
		size_t end = hit ? (size_t)(hit - s) : n;
		const char *piece = s + pos;
		size_t plen = end - pos;
		pos = hit ? end + seplen : n;
		if (!plen)
			continue;
		if (++items > ITEMS_MAX)
			goto fail;
		const char *eq = memmem(piece, plen, kvsep, kvlen);
		size_t klen = eq ? (size_t)(eq - piece) : plen;
		const char *val = eq ? eq + kvlen : piece + plen;
		size_t vlen = (size_t)(piece + plen - val);
		const char *key = piece;
		if (decode) {
			klen = percent_decode(key, klen, kbuf);
			key = kbuf;
			vlen = percent_decode(val, vlen, vbuf);
			val = vbuf;
		}
		if (!klen || memchr(key, '\0', klen))
			continue;
		if (json_object_getn(obj, key, klen)) {
			if (dup_fail)
				goto fail;
			continue;
		}
		if (json_object_setn_new_nocheck(obj, key, klen, json_stringn_nocheck(val, vlen)) != 0)
			goto fail;
	}
	free(kbuf);
	free(vbuf);
	return obj;
fail:
	free(kbuf);
	free(vbuf);
	json_decref(obj);
	return NULL;
}

static json_t *op_list(const char *s, size_t n, const char *sep)
{
	size_t seplen = strlen(sep), items = 0;
	json_t *arr = json_array();
	for (size_t pos = 0; arr && pos < n;) {
		const char *hit = memmem(s + pos, n - pos, sep, seplen);
		size_t end = hit ? (size_t)(hit - s) : n;
		if (end > pos && (++items > ITEMS_MAX ||
				  json_array_append_new(arr, json_stringn_nocheck(s + pos, end - pos)) != 0)) {
			json_decref(arr);
			return NULL;
		}
		pos = hit ? end + seplen : n;
	}
	return arr;
}

static json_t *op_letters(const struct decode_op *op, const char *s, size_t n)
{
	json_t *obj = json_object();
	for (size_t i = 0; obj && i < op->letter_n; i++) {
		if (op->letter_pos[i] >= n ||
		    json_object_set_new_nocheck(obj, op->letter_names[i],
						json_stringn_nocheck(s + op->letter_pos[i], 1)) != 0) {
			json_decref(obj);
			return NULL;
		}
	}
	return obj;
}

/* The query of a request target ("/p?a=1#f" gives "a=1"). */
static void target_query(const char *target, size_t len, const char **q, size_t *qlen)
{
	const char *mark = target ? memchr(target, '?', len) : NULL;
	*q = mark ? mark + 1 : NULL;
	*qlen = mark ? len - (size_t)(mark + 1 - target) : 0;
	const char *hash = *q ? memchr(*q, '#', *qlen) : NULL;
	if (hash)
		*qlen = (size_t)(hash - *q);
}

/* One op on a string value; NULL when it does not apply or breaks a bound. */
static json_t *apply_op(const struct decode_op *op, const json_t *v)
{
	if (!json_is_string(v))
		return NULL;
	const char *s = json_string_value(v);
	size_t n = json_string_length(v);
	json_t *out = NULL;
	switch (op->kind) {
	case OP_URL_DECODE:
		out = op_url_decode(s, n);
		break;
	case OP_BASE64:
		out = op_base64(s, n);
		break;
	case OP_JSON:
		out = op_json(s, n);
		break;
	case OP_JS_OBJECT:
		out = op_js_object(s, n);
		break;
	case OP_KV:
		out = split_kv(s, n, op->sep, op->kvsep, op->url_decode, true);
		break;
	case OP_LIST:
		out = op_list(s, n, op->sep);
		break;
	case OP_QUERY: {
		const char *q;
		size_t qlen;
		target_query(s, n, &q, &qlen);
		out = split_kv(q ? q : "", qlen, "&", "=", true, false);
		break;
	}
	case OP_LETTERS:
		out = op_letters(op, s, n);
		break;
	case OP_TCF:
		break;
	}
	if (out && json_is_string(out) && json_string_length(out) > VALUE_MAX) {
		json_decref(out);
		out = NULL;
	}
	return out;
}

/* The member at `path` (keys joined by '.'; NULL: the value itself), or NULL. */
static json_t *lookup(json_t *v, const char *path)
{
	if (!path || strcmp(path, ".") == 0)
		return v;
	for (const char *p = path; v;) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		v = json_is_object(v) ? json_object_getn(v, p, n) : NULL;
		if (!dot)
			break;
		p = dot + 1;
	}
	return v;
}

/*
 * The last TC string decoded on this thread, and what it decoded to: the
 * same string rides on every request of a page (a cookie, gdpr_consent), so
 * it is decoded once. The decoded TC string is the memo's: callers borrow it.
 */
static _Thread_local struct {
	char *text;
	size_t len;
	bool ok;
	struct tcf tcf;
} tcf_memo;

static void tcf_memo_clear(void)
{
	if (tcf_memo.ok)
		tcf_free(&tcf_memo.tcf);
	free(tcf_memo.text);
	memset(&tcf_memo, 0, sizeof tcf_memo);
}

/* The TC string of `len` bytes decoded (version 2 only), borrowed from the memo; NULL when it is none. */
static const struct tcf *tcf_decoded(const char *text, size_t len)
{
	if (tcf_memo.text && tcf_memo.len == len && memcmp(tcf_memo.text, text, len) == 0)
		return tcf_memo.ok ? &tcf_memo.tcf : NULL;
	tcf_memo_clear();
	char error[TCF_ERROR_MAX];
	tcf_memo.ok = tcf_decode_counts(text, len, &tcf_memo.tcf, error) == 0;
	if (tcf_memo.ok && tcf_memo.tcf.version != 2) {
		/* TCF v1 strings are void since 2020: not a signal */
		tcf_free(&tcf_memo.tcf);
		tcf_memo.ok = false;
	}
	if ((tcf_memo.text = malloc(len ? len : 1)) != NULL) {
		memcpy(tcf_memo.text, text, len);
		tcf_memo.len = len;
	}
	/* Without room to remember it, the result is still this call's. */
	return tcf_memo.ok ? &tcf_memo.tcf : NULL;
}

/*
 * The signal's decode pipeline on `v` (consumed). Returns the decoded value,
 * or NULL. With a `tcf` op, the TC string is decoded into *tcf (then
 * *have_tcf; a copy of the memo's, not to be freed).
 */
static json_t *run_decode(const struct signal_rule *s, json_t *v, struct tcf *tcf, bool *have_tcf)
{
	*have_tcf = false;
	for (size_t i = 0; v && i < s->op_n; i++) {
		const struct decode_op *op = &s->ops[i];
		if (op->kind == OP_TCF) {
			const struct tcf *decoded =
				json_is_string(v) && json_string_length(v) <= VALUE_MAX
					? tcf_decoded(json_string_value(v), json_string_length(v))
					: NULL;
			bool ok = decoded != NULL;
			if (ok)
				*tcf = *decoded;
			*have_tcf = ok;
			if (!ok) {
				json_decref(v);
				return NULL;
			}
			return v;
		}
		if (!op->at) {
			json_t *out = apply_op(op, v);
			json_decref(v);
			v = out;
			continue;
		}
		/* applied to a member: the member is replaced; a missing one stays missing */
		const char *dot = strrchr(op->at, '.');
		json_t *parent = v;
		if (dot) {
			char parent_path[TEXT_MAX + 1];
			snprintf(parent_path, sizeof parent_path, "%.*s", (int)(dot - op->at), op->at);
			parent = lookup(v, parent_path);
		}
		const char *key = dot ? dot + 1 : op->at;
		json_t *member = json_is_object(parent) ? json_object_get(parent, key) : NULL;
		if (!member)
			continue;
		json_t *out = apply_op(op, member);
		if (!out || json_object_set_new_nocheck(parent, key, out) != 0) {
			json_decref(v);
			return NULL;
		}
	}
	return v;
}

/* ---- evaluating ---- */

struct text {
	const char *p;
	size_t len;
	char buf[32];
};

/* A scalar as text: strings as they are, true/false/null, numbers in decimal. */
static bool scalar_text(const json_t *v, struct text *t)
{
	t->p = t->buf;
	switch (json_typeof(v)) {
	case JSON_STRING:
		t->p = json_string_value(v);
		t->len = json_string_length(v);
		return true;
	case JSON_TRUE:
		t->len = (size_t)snprintf(t->buf, sizeof t->buf, "true");
		return true;
	case JSON_FALSE:
		t->len = (size_t)snprintf(t->buf, sizeof t->buf, "false");
		return true;
	case JSON_NULL:
		t->len = (size_t)snprintf(t->buf, sizeof t->buf, "null");
		return true;
	case JSON_INTEGER:
		t->len = (size_t)snprintf(t->buf, sizeof t->buf, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return true;
	case JSON_REAL:
		t->len = (size_t)snprintf(t->buf, sizeof t->buf, "%g", json_real_value(v));
		return true;
	default:
		return false;
	}
}

/* regexec on bytes: NUL-terminated copy; a value holding a NUL, or too long, does not match. */
static bool regex_match(const struct regex *re, const char *s, size_t len)
{
	if (!re->compiled || len > VALUE_MAX || len < re->prefix_len ||
	    memcmp(s, re->prefix, re->prefix_len) != 0 || memchr(s, '\0', len))
		return false;
	char small[NAME_MAX_LEN + 1], *buf = len <= NAME_MAX_LEN ? small : malloc(len + 1);
	if (!buf)
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	bool hit = regexec(&re->re, buf, 0, NULL, 0) == 0;
	if (buf != small)
		free(buf);
	return hit;
}

struct eval {
	const struct consent_request *request;   /* NULL for a Set-Cookie */
	const char *query;
	size_t query_len;
};

/* The value of cookie `name` in the request (the first of that name). */
static bool find_cookie(const struct consent_request *r, const char *name, size_t n, const char **value,
			size_t *len)
{
	for (size_t i = 0; r->cookies && i < r->cookie_count; i++) {
		const struct cookie_pair *c = &r->cookies[i];
		if (c->name.p && c->name.len == n && memcmp(c->name.p, name, n) == 0) {
			*value = c->value.p ? c->value.p : "";
			*len = c->value.p ? c->value.len : 0;
			return true;
		}
	}
	return false;
}

/* The raw value of parameter `name` in a query (the first of that name). */
static bool find_param(const char *q, size_t qlen, const char *name, const char **value, size_t *len)
{
	size_t n = strlen(name);
	for (size_t pos = 0; q && pos < qlen;) {
		const char *amp = memchr(q + pos, '&', qlen - pos);
		size_t end = amp ? (size_t)(amp - q) : qlen;
		if (end - pos >= n && memcmp(q + pos, name, n) == 0 && (end - pos == n || q[pos + n] == '=')) {
			*value = q + pos + (end - pos == n ? n : n + 1);
			*len = end - pos == n ? 0 : end - pos - n - 1;
			return true;
		}
		pos = end + 1;
	}
	return false;
}

static bool text_empty(const json_t *v)
{
	return !v || json_is_null(v) || (json_is_string(v) && !json_string_length(v)) ||
	       (json_is_array(v) && !json_array_size(v)) || (json_is_object(v) && !json_object_size(v));
}

static bool all_in(const struct strset *set, const json_t *v)
{
	struct text t;
	if (scalar_text(v, &t))
		return set_has(set, t.p, t.len);
	size_t n = 0;
	if (json_is_array(v)) {
		size_t i;
		json_t *m;
		json_array_foreach(v, i, m) {
			if (!scalar_text(m, &t) || !set_has(set, t.p, t.len))
				return false;
			n++;
		}
	} else if (json_is_object(v)) {
		const char *k;
		json_t *m;
		json_object_foreach((json_t *)v, k, m) {
			if (!scalar_text(m, &t) || !set_has(set, t.p, t.len))
				return false;
			n++;
		}
	}
	return n > 0;
}

/* 1 when the condition holds, 0 when not, -1 when it cannot be known here (a companion cookie of a Set-Cookie). */
static int condition_holds(const struct eval *e, const struct condition *c, json_t *value)
{
	json_t *v = NULL, *tmp = NULL;
	bool present;
	if (c->subject == SUBJECT_VALUE) {
		v = lookup(value, c->name);
		present = v != NULL;
	} else {
		const char *raw = NULL;
		size_t len = 0;
		if (c->subject == SUBJECT_COOKIE) {
			if (!e->request)
				return -1;
			present = find_cookie(e->request, c->name, c->name_len, &raw, &len);
		} else {
			present = find_param(e->query, e->query_len, c->name, &raw, &len);
		}
		if (present && len > VALUE_MAX)
			return 0;
		if (present && !(v = tmp = json_stringn_nocheck(raw, len)))
			return 0;
	}
	struct text t;
	int holds = 0;
	switch (c->pred) {
	case PRED_ALWAYS:
		holds = 1;
		break;
	case PRED_MISSING:
		holds = !present;
		break;
	case PRED_PRESENT:
		holds = present;
		break;
	case PRED_EMPTY:
		holds = text_empty(v);
		break;
	case PRED_EQUALS:
		holds = v && scalar_text(v, &t) && t.len == strlen(c->literal) && memcmp(t.p, c->literal, t.len) == 0;
		break;
	case PRED_REGEX:
		holds = v && scalar_text(v, &t) && regex_match(&c->re, t.p, t.len);
		break;
	case PRED_ALL_IN:
		holds = v && all_in(&c->set, v);
		break;
	}
	json_decref(tmp);
	return holds;
}

/* ---- details: what was read, for a person, without identifiers ---- */

struct detail {
	char text[CONSENT_DETAIL_MAX];
	size_t len;
};

static void detail_add(struct detail *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void detail_add(struct detail *d, const char *fmt, ...)
{
	if (d->len >= sizeof d->text - 1)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(d->text + d->len, sizeof d->text - d->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		d->len += (size_t)n < sizeof d->text - d->len ? (size_t)n : sizeof d->text - 1 - d->len;
}

/*
 * Whether a category name read from the wire may be shown: a short name of
 * [A-Za-z0-9_.:$-] that does not look like an id (a consent id, a uuid, a
 * hash: many digits, or a long run mixing letters and digits). Category
 * names are a platform's configuration ("C0002", "marketing",
 * "c:linkedin-marketing-solutions"); anything else is shown as '?'.
 */
static bool name_showable(const char *s, size_t n)
{
	if (!n || n > 40)
		return false;
	size_t digits = 0, run = 0, run_digits = 0, run_letters = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!isalnum(c) && c != '_' && c != '.' && c != ':' && c != '-' && c != '$')
			return false;
		if (isalnum(c)) {
			run++;
			run_digits += isdigit(c) != 0;
			run_letters += isalpha(c) != 0;
			if (run >= 12 && run_digits && run_letters)
				return false;
		} else {
			run = run_digits = run_letters = 0;
		}
		digits += isdigit(c) != 0;
	}
	return digits <= 5;
}

struct tally {
	unsigned granted, denied, read;
	struct detail d;
	size_t more;   /* categories not shown for want of room */
};

enum { TALLY_ROOM = CONSENT_DETAIL_MAX - 48 };

static void tally_add(struct tally *t, const struct categories *c, const char *name, size_t n, int state)
{
	if (t->read >= CATEGORIES_MAX || state < 0)
		return;
	if (c->ignore_re.compiled && regex_match(&c->ignore_re, name, n))
		return;
	t->read++;
	bool necessary = set_has(&c->necessary, name, n) ||
			 (c->necessary_re.compiled && regex_match(&c->necessary_re, name, n));
	if (!necessary)
		state ? t->granted++ : t->denied++;
	bool show = name_showable(name, n);
	size_t need = (show ? n : 1) + 3;
	if (t->more || t->d.len + need > TALLY_ROOM) {
		t->more++;
		return;
	}
	detail_add(&t->d, "%s%.*s:%d", t->read > 1 ? "," : "", show ? (int)n : 1, show ? name : "?", state);
}

static int value_state(const struct categories *c, const json_t *v)
{
	if (c->nonempty)
		return !text_empty(v) && !json_is_false(v);
	struct text t;
	if (!v || !scalar_text(v, &t))
		return -1;
	if (set_has(&c->granted, t.p, t.len))
		return 1;
	if (set_has(&c->denied, t.p, t.len))
		return 0;
	return -1;
}

/* The categories of a step: a decision over the non-necessary ones, with the detail. */
static enum consent_decision categories_decide(const struct categories *c, json_t *value, struct detail *out)
{
	struct tally t;
	memset(&t, 0, sizeof t);
	detail_add(&t.d, "%s ", c->label ? c->label : c->at.n == 1 && strcmp(c->at.items[0], ".") != 0
							   ? c->at.items[0] : "categories");
	size_t label_len = t.d.len;
	for (size_t i = 0; i < c->at.n; i++) {
		json_t *obj = lookup(value, c->at.items[i]);
		if (!json_is_object(obj))
			continue;
		for (size_t k = 0; k < c->keys.n; k++) {
			json_t *m = json_object_get(obj, c->keys.items[k]);
			int state = m ? value_state(c, m) : c->absent_denied ? 0 : -1;
			tally_add(&t, c, c->keys.items[k], strlen(c->keys.items[k]), state);
		}
		if (!c->all_keys)
			continue;
		const char *key;
		json_t *m;
		json_object_foreach(obj, key, m) {
			size_t n = strlen(key);
			if (!set_has(&c->keys, key, n))
				tally_add(&t, c, key, n, value_state(c, m));
		}
	}
	const struct strset *lists[] = { &c->granted_in, &c->denied_in };
	for (int g = 0; g < 2; g++)
		for (size_t i = 0; i < lists[g]->n; i++) {
			json_t *arr = lookup(value, lists[g]->items[i]), *m;
			size_t j;
			if (!json_is_array(arr))
				continue;
			json_array_foreach(arr, j, m) {
				struct text x;
				if (scalar_text(m, &x))
					tally_add(&t, c, x.p, x.len, g == 0);
			}
		}
	if (t.d.len == label_len)
		detail_add(&t.d, "none");
	if (t.more)
		detail_add(&t.d, " (+%zu more; %u granted, %u denied)", t.more, t.granted, t.denied);
	*out = t.d;
	if (!t.granted && !t.denied)
		return CONSENT_NONE;
	return !t.denied ? CONSENT_ACCEPT : !t.granted ? CONSENT_REJECT : CONSENT_PARTIAL;
}

/* Ids 1..24 of a bit set as ranges: "1-10,11" is "1-11"; "none" when empty. */
static void add_ranges(struct detail *d, uint32_t set)
{
	if (!set) {
		detail_add(d, "none");
		return;
	}
	bool first = true;
	for (int i = 1; i <= 32; i++) {
		if (!(set & (1u << (i - 1))))
			continue;
		int j = i;
		while (j < 32 && (set & (1u << j)))
			j++;
		detail_add(d, j > i ? "%s%d-%d" : "%s%d", first ? "" : ",", i, j);
		first = false;
		i = j;
	}
}

static enum consent_decision tcf_decide(const struct step *st, const struct tcf *tcf, struct detail *d)
{
	uint32_t need = tcf->tcf_policy_version >= 4 ? st->accept_purposes_v2_2 : st->accept_purposes;
	bool publisher = tcf->has_publisher_tc &&
			 (tcf->publisher_consents || tcf->publisher_custom_consents);
	detail_add(d, "cmp %u, policy %u, purposes ", tcf->cmp_id, tcf->tcf_policy_version);
	add_ranges(d, tcf->purpose_consents);
	detail_add(d, ", %u vendors", tcf->vendor_consents.count);
	if (tcf->special_feature_optins) {
		detail_add(d, ", special features ");
		add_ranges(d, tcf->special_feature_optins);
	}
	if (tcf->purpose_legitimate_interests || tcf->vendor_legitimate_interests.count) {
		detail_add(d, ", LI purposes ");
		add_ranges(d, tcf->purpose_legitimate_interests);
		detail_add(d, ", %u LI vendors", tcf->vendor_legitimate_interests.count);
	}
	if (publisher)
		detail_add(d, ", publisher consents");
	if (!tcf->purpose_consents && !tcf->vendor_consents.count && !publisher)
		return CONSENT_REJECT;
	if ((tcf->purpose_consents & need) == need && tcf->vendor_consents.count)
		return CONSENT_ACCEPT;
	return CONSENT_PARTIAL;
}

/* The automatic detail of a test step that held, when the rule gives none. */
static void test_detail(const struct step *st, const char *shown_name, struct detail *d)
{
	for (size_t i = 0; i < st->cond_n; i++) {
		const struct condition *c = &st->cond[i];
		const char *subject = c->name ? c->name : shown_name;
		if (i)
			detail_add(d, ", ");
		if (c->subject != SUBJECT_VALUE)
			detail_add(d, "%s ", c->subject == SUBJECT_COOKIE ? "cookie" : "param");
		switch (c->pred) {
		case PRED_ALWAYS:
			detail_add(d, "%s read", subject);
			break;
		case PRED_MISSING:
			detail_add(d, "%s missing", subject);
			break;
		case PRED_PRESENT:
			detail_add(d, "%s present", subject);
			break;
		case PRED_EMPTY:
			detail_add(d, "%s empty", subject);
			break;
		case PRED_EQUALS:
			detail_add(d, "%s=%s", subject, c->literal);
			break;
		case PRED_REGEX:
			detail_add(d, "%s matches the rule's pattern", subject);
			break;
		case PRED_ALL_IN:
			detail_add(d, "%s only", subject);
			for (size_t j = 0; j < c->set.n; j++)
				detail_add(d, "%s%s", j ? "," : " ", c->set.items[j]);
			break;
		}
	}
}

/*
 * The decision of signal `s` on `value` (consumed): its decode pipeline,
 * then its steps in order, the first that decides. `shown_name` names the
 * value in details (the cookie or parameter name).
 */
static enum consent_decision decide(const struct eval *e, const struct signal_rule *s, json_t *value,
				    const char *shown_name, struct detail *d)
{
	struct tcf tcf;
	bool have_tcf = false;
	memset(&tcf, 0, sizeof tcf);
	json_t *v = run_decode(s, value, &tcf, &have_tcf);
	enum consent_decision result = CONSENT_NONE;
	memset(d, 0, sizeof *d);
	if (!v)
		return CONSENT_NONE;
	for (size_t i = 0; i < s->step_n; i++) {
		const struct step *st = &s->steps[i];
		if (st->kind == STEP_TCF) {
			if (!have_tcf)
				continue;
			result = tcf_decide(st, &tcf, d);
			break;
		}
		if (st->kind == STEP_CATEGORIES) {
			result = categories_decide(&st->cat, v, d);
			if (result != CONSENT_NONE)
				break;
			memset(d, 0, sizeof *d);
			continue;
		}
		int holds = 1;
		for (size_t j = 0; holds == 1 && j < st->cond_n; j++)
			holds = condition_holds(e, &st->cond[j], v);
		if (holds != 1)
			continue;
		result = st->then;
		if (result == CONSENT_NONE)
			break;
		if (st->detail)
			detail_add(d, "%s", st->detail);
		else
			test_detail(st, shown_name, d);
		if (result == CONSENT_NO_DECISION && s->summary) {
			/* what the defaults say: where tracking before consent hides */
			struct detail summary;
			if (categories_decide(s->summary, v, &summary) != CONSENT_NONE)
				detail_add(d, "; %s", summary.text);
		}
		break;
	}
	json_decref(v); /* the decoded TC string is the memo's */
	return result;
}

/* "<rule id>:<name>", printable ASCII only. */
static void make_source(char out[CONSENT_SOURCE_MAX], const char *rule_id, const char *name, size_t n)
{
	int len = snprintf(out, CONSENT_SOURCE_MAX, "%s:%.*s", rule_id, (int)(n < 64 ? n : 64), name);
	for (int i = 0; i < len && i < CONSENT_SOURCE_MAX - 1; i++)
		if ((unsigned char)out[i] < 0x20 || (unsigned char)out[i] >= 0x7f)
			out[i] = '?';
}

static size_t emit(struct consent_signal *out, size_t n, size_t max, enum consent_decision decision,
		   const struct signal_rule *s, const char *name, size_t name_len, const struct detail *d)
{
	if (decision == CONSENT_NONE || n >= max)
		return n;
	struct consent_signal *sig = &out[n];
	memset(sig, 0, sizeof *sig);
	sig->decision = decision;
	if (s->label)
		make_source(sig->source, s->rule_id, s->label, strlen(s->label));
	else
		make_source(sig->source, s->rule_id, name, name_len);
	snprintf(sig->detail, sizeof sig->detail, "%s", d->text);
	return n + 1;
}

/* Whether `name` is `want` (n bytes) as `match` says; `re` is its regex (MATCH_REGEX). */
static bool name_match(enum name_match match, const char *want, size_t n, const struct regex *re,
		       const char *name, size_t len)
{
	if (!name)
		return false;
	switch (match) {
	case MATCH_EXACT:
		return len == n && memcmp(name, want, n) == 0;
	case MATCH_PREFIX:
		return len >= n && memcmp(name, want, n) == 0;
	case MATCH_REGEX:
		return len <= NAME_MAX_LEN && regex_match(re, name, len);
	}
	return false;
}

static bool name_matches(const struct signal_rule *s, const char *name, size_t len)
{
	return name_match(s->match, s->name, s->name_len, &s->name_re, name, len);
}

static bool host_allowed(const struct signal_rule *s, const char *host, size_t len)
{
	return !s->host_re.compiled || (host && len <= NAME_MAX_LEN && regex_match(&s->host_re, host, len));
}

/* A cookie's value as the rules read it: without the quotes it may be sent in. */
static json_t *cookie_value(const char *p, size_t len)
{
	if (!p || !len || len > VALUE_MAX)
		return NULL;
	if (len >= 2 && p[0] == '"' && p[len - 1] == '"') {
		p++;
		len -= 2;
	}
	return len ? json_stringn_nocheck(p, len) : NULL;
}

/* A name shown in details: printable, at most 64 bytes. */
static void shown_name(char out[72], const char *p, size_t n)
{
	size_t i = 0;
	for (; p && i < n && i < 64; i++)
		out[i] = (unsigned char)p[i] < 0x20 || (unsigned char)p[i] >= 0x7f ? '?' : p[i];
	out[i] = '\0';
}

size_t consent_evaluate_request(const struct consent_rules *rules,
				const struct consent_request *request,
				struct consent_signal *out, size_t max)
{
	if (!rules || !request || !out)
		return 0;
	struct eval e = { .request = request };
	target_query(request->target, request->target_len, &e.query, &e.query_len);
	size_t n = 0;
	for (size_t i = 0; i < rules->signal_n && n < max; i++) {
		const struct signal_rule *s = &rules->signals[i];
		/* The parameter first: most requests have none of them, and the host is a regex. */
		const char *raw = NULL;
		size_t raw_len = 0;
		if (s->kind == KIND_URL_PARAM &&
		    (!find_param(e.query, e.query_len, s->param, &raw, &raw_len) || !raw_len ||
		     raw_len > VALUE_MAX))
			continue;
		if (!host_allowed(s, request->host, request->host_len))
			continue;
		struct detail d;
		char name[72];
		switch (s->kind) {
		case KIND_COOKIE:
			for (size_t c = 0; request->cookies && c < request->cookie_count && n < max; c++) {
				const struct cookie_pair *pair = &request->cookies[c];
				if (!name_matches(s, pair->name.p, pair->name.len))
					continue;
				json_t *v = cookie_value(pair->value.p, pair->value.len);
				if (!v)
					continue;
				shown_name(name, pair->name.p, pair->name.len);
				enum consent_decision got = decide(&e, s, v, name, &d);
				n = emit(out, n, max, got, s, pair->name.p, pair->name.len, &d);
			}
			break;
		case KIND_COOKIES: {
			/* read together: one object of name -> value, made at the first cookie it reads */
			json_t *obj = NULL;
			bool failed = false;
			size_t taken = 0;
			size_t count = request->cookies ? request->cookie_count : 0;
			for (size_t c = 0; !failed && c < count && taken < COOKIES_MAX; c++) {
				const struct cookie_pair *pair = &request->cookies[c];
				if (!name_matches(s, pair->name.p, pair->name.len) ||
				    memchr(pair->name.p, '\0', pair->name.len) ||
				    (obj && json_object_getn(obj, pair->name.p, pair->name.len)))
					continue;
				json_t *v = cookie_value(pair->value.p, pair->value.len);
				if (v && !obj && !(obj = json_object())) {
					json_decref(v);
					failed = true;
					continue;
				}
				if (v && json_object_setn_new_nocheck(obj, pair->name.p, pair->name.len, v) == 0)
					taken++;
			}
			if (obj && taken) {
				enum consent_decision got = decide(&e, s, obj, s->label, &d);
				n = emit(out, n, max, got, s, NULL, 0, &d);
			} else
				json_decref(obj);
			break;
		}
		case KIND_URL_PARAM: {
			json_t *v = json_stringn_nocheck(raw, raw_len);
			if (v) {
				enum consent_decision got = decide(&e, s, v, s->param, &d);
				n = emit(out, n, max, got, s, s->param, strlen(s->param), &d);
			}
			break;
		}
		case KIND_URL: {
			if (!request->target || request->target_len > VALUE_MAX ||
			    (s->path_re.compiled && !regex_match(&s->path_re, request->target, request->target_len)))
				continue;
			json_t *v = json_stringn_nocheck(request->target, request->target_len);
			if (v) {
				enum consent_decision got = decide(&e, s, v, s->label, &d);
				n = emit(out, n, max, got, s, NULL, 0, &d);
			}
			break;
		}
		}
	}
	return n;
}

size_t consent_evaluate_set_cookie(const struct consent_rules *rules, const char *host,
				   size_t host_len, const struct set_cookie *cookie,
				   struct consent_signal *out, size_t max)
{
	if (!rules || !cookie || !out)
		return 0;
	/* A cookie being deleted says nothing of a choice. */
	if (cookie->has_max_age && cookie->max_age <= 0)
		return 0;
	struct eval e = { .request = NULL };
	size_t n = 0;
	for (size_t i = 0; i < rules->signal_n && n < max; i++) {
		const struct signal_rule *s = &rules->signals[i];
		/* `cookies` signals need the browser's other cookies, which a Set-Cookie does not show */
		if (s->kind != KIND_COOKIE || !name_matches(s, cookie->name.p, cookie->name.len) ||
		    !host_allowed(s, host, host_len))
			continue;
		json_t *v = cookie_value(cookie->value.p, cookie->value.len);
		if (!v)
			continue;
		struct detail d;
		char name[72];
		shown_name(name, cookie->name.p, cookie->name.len);
		enum consent_decision got = decide(&e, s, v, name, &d);
		n = emit(out, n, max, got, s, cookie->name.p, cookie->name.len, &d);
	}
	return n;
}

int consent_is_consent_cookie(const struct consent_rules *rules, const char *name, size_t len)
{
	if (!rules || !name)
		return 0;
	for (size_t i = 0; i < rules->cookie_name_n; i++) {
		const struct cookie_matcher *m = &rules->cookie_names[i];
		if (name_match(m->match, m->name, m->len, &rules->signals[m->signal].name_re, name, len))
			return 1;
	}
	return 0;
}
