/*
 * parse_text: the line-based list formats: hosts files, plain domain lists
 * and Adblock Plus filter syntax (EasyPrivacy, EasyList). Each line becomes
 * a rule of the matcher or a skip counted by reason; a file that is not
 * text, or holds no rule at all, is an error and leaves the caller's old
 * lists in place.
 */
#include "parsers.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

int parse_fail(struct parse_error *err, unsigned line, const char *fmt, ...)
{
	if (err) {
		err->line = line;
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err->reason, sizeof err->reason, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* A line of the buffer, without its line end and surrounding blanks. */
struct line {
	const char *text;
	size_t len;
	unsigned number;
	bool too_long;
};

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Steps to the next line; false at the end of the buffer. */
static bool next_line(const char *buf, size_t len, size_t *pos, struct line *line)
{
	if (*pos >= len)
		return false;
	const char *start = buf + *pos;
	const char *nl = memchr(start, '\n', len - *pos);
	size_t n = nl ? (size_t)(nl - start) : len - *pos;
	*pos += n + (nl != NULL);
	line->number++;
	line->too_long = n > LIST_MAX_LINE;
	while (n > 0 && blank(start[0])) {
		start++;
		n--;
	}
	while (n > 0 && blank(start[n - 1]))
		n--;
	line->text = start;
	line->len = n;
	return true;
}

/* A text list holds no NUL byte; returns the line of the first one, or 0. */
static unsigned nul_line(const char *buf, size_t len)
{
	const char *nul = memchr(buf, '\0', len);
	if (!nul)
		return 0;
	unsigned line = 1;
	for (const char *p = buf; p < nul; p++)
		line += *p == '\n';
	return line;
}

static int check_text(const char *buf, size_t len, struct parse_error *err)
{
	if (len == 0)
		return parse_fail(err, 0, "empty file");
	unsigned line = nul_line(buf, len);
	if (line)
		return parse_fail(err, line, "binary data (a NUL byte): not a text list");
	return 0;
}

/* After the last line: a list with no rule is an error, not an empty matcher. */
static int check_rules(struct matcher *m, int list, unsigned lines, struct parse_error *err)
{
	const struct list_info *info = matcher_list_info(m, list);
	if (info && info->rules > 0)
		return 0;
	if (info && info->skip_reasons > 0)
		return parse_fail(err, info->skips[0].first_line,
				  "no usable rule in %u lines (%u skipped, first: %s)", lines,
				  info->skipped, info->skips[0].reason);
	return parse_fail(err, 0, "no rules (%u lines, all comments or blank)", lines);
}

/* A host name as lists write it: letters, digits, '-', '_', dots; labels 1-63 bytes. */
static bool valid_host(const char *s, size_t len)
{
	if (len == 0 || len > 253 || s[0] == '.')
		return false;
	size_t label = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return false;
		if (++label > 63)
			return false;
	}
	return true;
}

static bool local_name(const char *s, size_t len)
{
	static const char *const names[] = {
		"localhost", "localhost.localdomain", "local", "broadcasthost", "ip6-localhost",
		"ip6-loopback", "ip6-localnet", "ip6-mcastprefix", "ip6-allnodes",
		"ip6-allrouters", "ip6-allhosts", "0.0.0.0",
	};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strlen(names[i]) == len && strncasecmp(names[i], s, len) == 0)
			return true;
	return false;
}

static bool is_address(const char *s, size_t len)
{
	char text[INET6_ADDRSTRLEN + 8];
	if (len >= sizeof text)
		return false;
	memcpy(text, s, len);
	text[len] = '\0';
	/* "fe80::1%lo0" in some hosts files */
	char *zone = strchr(text, '%');
	if (zone)
		*zone = '\0';
	unsigned char addr[16];
	return inet_pton(AF_INET, text, addr) == 1 || inet_pton(AF_INET6, text, addr) == 1;
}

static const struct rule_options no_options = { 0 };

/* One name of a hosts or domains line; returns -1 only when out of memory. */
static int add_name(struct matcher *m, int list, const char *name, size_t len, const struct line *line)
{
	/* "localhost." is localhost: the checks see the name without its final dot. */
	size_t bare = len > 1 && name[len - 1] == '.' ? len - 1 : len;
	if (local_name(name, bare)) {
		matcher_skip(m, list, "local name", line->number);
		return 0;
	}
	if (is_address(name, bare)) {
		matcher_skip(m, list, "address, not a name", line->number);
		return 0;
	}
	if (!valid_host(name, len)) {
		matcher_skip(m, list, "not a host name", line->number);
		return 0;
	}
	/* "0.0.0.0 com" would make every .com name a tracker: a hosts file
	   means a host, so a name of one label is left out. */
	if (!memchr(name, '.', len - (name[len - 1] == '.'))) {
		matcher_skip(m, list, "single-label name", line->number);
		return 0;
	}
	return matcher_add_host_rule(m, list, name, len, &no_options, line->text, line->len);
}

/* The next blank-separated field of s[0..len) from *at; false when none is left. */
static bool next_field(const char *s, size_t len, size_t *at, const char **field, size_t *field_len)
{
	size_t i = *at;
	while (i < len && blank(s[i]))
		i++;
	size_t start = i;
	while (i < len && !blank(s[i]))
		i++;
	*at = i;
	*field = s + start;
	*field_len = i - start;
	return i > start;
}

/*
 * The frame of every line-based format: the file must be text, each line
 * (but an over-long one, counted) goes to `one`, and a file that gave no
 * rule is an error. `one` returns -1 only when out of memory.
 */
static int parse_lines(struct matcher *m, int list, const char *buf, size_t len, struct parse_error *err,
		       int (*one)(struct matcher *m, int list, struct line *line, bool hosts), bool hosts)
{
	if (check_text(buf, len, err) < 0)
		return -1;
	size_t pos = 0;
	struct line line = { 0 };
	while (next_line(buf, len, &pos, &line)) {
		if (line.too_long)
			matcher_skip(m, list, "line too long", line.number);
		else if (one(m, list, &line, hosts) < 0)
			return parse_fail(err, line.number, "out of memory");
	}
	return check_rules(m, list, line.number, err);
}

/* A line of a hosts file (`hosts`) or of a domain list. */
static int names_line(struct matcher *m, int list, struct line *line_in, bool hosts)
{
	struct line line = *line_in;
	const char *hash = memchr(line.text, '#', line.len);
	size_t n = hash ? (size_t)(hash - line.text) : line.len;
	while (n > 0 && blank(line.text[n - 1]))
		n--;
	if (n == 0 || line.text[0] == '!')
		return 0;
	line.len = n;
	/* Fields separated by blanks (any number of names): the first two decide the form. */
	const char *first, *name;
	size_t first_len, name_len, at = 0;
	next_field(line.text, n, &at, &first, &first_len);
	size_t names_at = at;
	bool more = next_field(line.text, n, &at, &name, &name_len);
	if (hosts && more && !is_address(first, first_len)) {
		matcher_skip(m, list, "no address before the names", line.number);
		return 0;
	}
	if (!hosts && more) {
		matcher_skip(m, list, "more than one field", line.number);
		return 0;
	}
	at = hosts && more ? names_at : 0;
	while (next_field(line.text, n, &at, &name, &name_len)) {
		/* Domain lists may write "*.example.com" for everything under it. */
		if (!hosts && name_len > 2 && name[0] == '*' && name[1] == '.') {
			name += 2;
			name_len -= 2;
		}
		if (add_name(m, list, name, name_len, &line) < 0)
			return -1;
	}
	return 0;
}

int parse_hosts(struct matcher *m, int list, const char *buf, size_t len, struct parse_error *err)
{
	return parse_lines(m, list, buf, len, err, names_line, true);
}

int parse_domains(struct matcher *m, int list, const char *buf, size_t len, struct parse_error *err)
{
	return parse_lines(m, list, buf, len, err, names_line, false);
}

/* ---- Adblock Plus ---- */

static bool has(const char *s, size_t len, const char *what)
{
	return memmem(s, len, what, strlen(what)) != NULL;
}

static bool is_cosmetic(const char *s, size_t len)
{
	if (!memchr(s, '#', len))
		return false;
	static const char *const marks[] = { "##", "#@#", "#?#", "#$#", "#%#", "#@$#", "#@?#", "#@%#" };
	for (size_t i = 0; i < sizeof marks / sizeof marks[0]; i++)
		if (has(s, len, marks[i]))
			return true;
	return false;
}

/* Options that change what a rule does rather than when it applies: rules with them are left out. */
static const char *const modifier_options[] = {
	"csp", "removeparam", "rewrite", "header", "permissions", "replace", "urltransform",
	"uritransform", "redirect-rule", "badfilter", "method", "denyallow", "to", "ipaddress",
	"generichide", "ghide", "elemhide", "ehide", "specifichide", "shide", "genericblock",
	"inline-script", "inline-font", "empty", "mp4", "webrtc", "cname", "strict1p", "strict3p",
	"stealth", "content", "jsinject", "urlblock", "extension", "sitekey",
};

struct abp_options {
	struct rule_options rule;
	uint32_t types_not;
	const char *skip;          /* why the rule is left out, or NULL */
	char skip_text[48];
};

/* Parses "opt1,~opt2,domain=a.com|~b.com"; sets o->skip for rules left out. */
static void parse_abp_options(const char *s, size_t len, struct abp_options *o)
{
	size_t i = 0;
	while (i < len && !o->skip) {
		size_t end = i;
		while (end < len && s[end] != ',')
			end++;
		const char *opt = s + i;
		size_t opt_len = end - i;
		i = end + 1;
		if (opt_len == 0)
			continue;
		bool negated = opt[0] == '~';
		const char *name = opt + negated;
		size_t name_len = opt_len - negated;
		const char *eq = memchr(name, '=', name_len);
		size_t key_len = eq ? (size_t)(eq - name) : name_len;
#define IS(word) (key_len == strlen(word) && strncasecmp(name, word, key_len) == 0)
		if (IS("third-party") || IS("3p")) {
			o->rule.party = negated ? PARTY_FIRST : PARTY_THIRD;
		} else if (IS("first-party") || IS("1p")) {
			o->rule.party = negated ? PARTY_THIRD : PARTY_FIRST;
		} else if ((IS("domain") || IS("from")) && eq && !negated) {
			o->rule.domains = eq + 1;
			o->rule.domains_len = name_len - key_len - 1;
		} else if (IS("important")) {
			o->rule.flags |= RULE_IMPORTANT;
		} else if (IS("match-case")) {
			o->rule.flags |= RULE_MATCH_CASE;
		} else if (IS("redirect") && eq) {
			/* uBlock: block, then serve a neutered resource: still a block */
		} else if (IS("_") || IS("noop")) {
		} else {
			uint32_t type = eq ? 0 : resource_type_from_name(name, name_len);
			if (type && negated) {
				o->types_not |= type;
				continue;
			}
			if (type) {
				o->rule.types |= type;
				continue;
			}
			bool modifier = false;
			for (size_t k = 0; k < sizeof modifier_options / sizeof modifier_options[0]; k++) {
				const char *w = modifier_options[k];
				if (key_len == strlen(w) && strncasecmp(name, w, key_len) == 0)
					modifier = true;
			}
			if (modifier) {
				snprintf(o->skip_text, sizeof o->skip_text, "option %.*s", (int)(key_len > 30 ? 30 : key_len), name);
				o->skip = o->skip_text;
			} else {
				o->skip = "unknown option";
			}
		}
#undef IS
	}
	if (o->types_not) {
		uint32_t base = o->rule.types ? o->rule.types : RT_ALL;
		o->rule.types = base & ~o->types_not;
		if (o->rule.types == 0)
			o->skip = "no resource type left";
	}
	/* "$all" (every type) restricts nothing. */
	if (o->rule.types == RT_ALL)
		o->rule.types = 0;
	/* "$domain=" naming no site at all would widen the rule to every site. */
	if (o->rule.domains && !o->skip) {
		bool any = false;
		for (size_t k = 0; k < o->rule.domains_len && !any; k++)
			any = o->rule.domains[k] != '|' && o->rule.domains[k] != '~';
		if (!any)
			o->skip = "empty domain option";
	}
}

/* Where the options begin: the last '$' that is followed by something option-like. */
static const char *find_options(const char *s, size_t len)
{
	for (size_t i = len; i-- > 0;) {
		if (s[i] != '$')
			continue;
		/* "$$" is an HTML filter; a '$' in a regex ("/a$/") is no option. */
		if (i + 1 < len && s[i + 1] != '/' && s[i + 1] != '$' && (i == 0 || s[i - 1] != '$'))
			return s + i;
		return NULL;
	}
	return NULL;
}

static bool host_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.';
}

/* One rule line (not a comment, not cosmetic); returns -1 only when out of memory. */
static int add_abp_rule(struct matcher *m, int list, const struct line *line)
{
	const char *p = line->text;
	size_t n = line->len;
	struct abp_options o = { 0 };
	if (n >= 2 && p[0] == '@' && p[1] == '@') {
		o.rule.flags |= RULE_EXCEPTION;
		p += 2;
		n -= 2;
	}
	const char *dollar = find_options(p, n);
	if (dollar) {
		parse_abp_options(dollar + 1, (size_t)(p + n - dollar - 1), &o);
		n = (size_t)(dollar - p);
	} else if (has(p, n, "$$")) {
		o.skip = "html filter";
	}
	if (!o.skip && n >= 2 && p[0] == '/' && p[n - 1] == '/')
		o.skip = "regular expression";
	if (o.skip) {
		matcher_skip(m, list, o.skip, line->number);
		return 0;
	}
	if (n >= 2 && p[0] == '|' && p[1] == '|') {
		size_t h = 2;
		while (h < n && host_char((unsigned char)p[h]))
			h++;
		const char *host = p + 2;
		size_t host_len = h - 2;
		const char *rest = p + h;
		size_t rest_len = n - h;
		/* "||adservice.google." is a host prefix: any top-level domain
		   follows. It stays a pattern (which bare names are also matched
		   against, see matcher.c). */
		bool prefix = host_len > 0 && host[host_len - 1] == '.';
		bool whole_host = rest_len == 0 || (rest_len == 1 && (rest[0] == '^' || rest[0] == '*' || rest[0] == '|')) ||
				  (rest_len == 2 && rest[0] == '^' && (rest[1] == '|' || rest[1] == '*'));
		bool anchorable = rest_len > 0 && (rest[0] == '/' || rest[0] == '^' || rest[0] == ':' || rest[0] == '?');
		if (!prefix && host_len > 0 && valid_host(host, host_len) && memchr(host, '.', host_len)) {
			if (whole_host)
				return matcher_add_host_rule(m, list, host, host_len, &o.rule, line->text, line->len);
			if (anchorable)
				return matcher_add_url_rule(m, list, host, host_len, rest, rest_len, &o.rule,
							    line->text, line->len);
		}
		/* A wildcard or a partial name in the host: a pattern for URLs. */
	}
	return matcher_add_url_rule(m, list, NULL, 0, p, n, &o.rule, line->text, line->len);
}

/* A line of an Adblock Plus list: comments and the header line, cosmetic rules (counted), or a rule. */
static int abp_line(struct matcher *m, int list, struct line *line, bool unused)
{
	(void)unused;
	if (line->len == 0 || line->text[0] == '!' || line->text[0] == '[')
		return 0;
	if (is_cosmetic(line->text, line->len)) {
		matcher_skip(m, list, has(line->text, line->len, "#@") ? "cosmetic exception" : "cosmetic",
			     line->number);
		return 0;
	}
	return add_abp_rule(m, list, line);
}

int parse_abp(struct matcher *m, int list, const char *buf, size_t len, struct parse_error *err)
{
	return parse_lines(m, list, buf, len, err, abp_line, false);
}
