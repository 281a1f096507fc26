/*
 * observation: writers for observations, as JSON lines (jansson does the
 * escaping) or as one line of text per observation for people, with every
 * byte from the wire that is not printable ASCII shown as \xNN.
 */
#include "observation.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

static const char *const kind_names[OBS_KIND_COUNT] = {
	[OBS_DNS_QUERY] = "dns_query",
	[OBS_DNS_ANSWER] = "dns_answer",
	[OBS_MDNS_QUERY] = "mdns_query",
	[OBS_MDNS_ANSWER] = "mdns_answer",
	[OBS_LLMNR_QUERY] = "llmnr_query",
	[OBS_LLMNR_ANSWER] = "llmnr_answer",
	[OBS_TLS_SNI] = "tls_sni",
	[OBS_DTLS_SNI] = "dtls_sni",
	[OBS_QUIC_SNI] = "quic_sni",
	[OBS_HTTP_REQUEST] = "http_request",
	[OBS_HTTP_RESPONSE] = "http_response",
	[OBS_COOKIE_SENT] = "cookie_sent",
	[OBS_COOKIE_SET] = "cookie_set",
	[OBS_TLS_SERVER_HELLO] = "tls_server_hello",
	[OBS_CONNECTION] = "connection",
	[OBS_DHCP_HOSTNAME] = "dhcp_hostname",
	[OBS_NETBIOS_NAME] = "netbios_name",
	[OBS_STUN_REALM] = "stun_realm",
	[OBS_OTHER_NAME] = "other_name",
	[OBS_RESUMED] = "resumed",
	[OBS_CONSENT] = "consent",
};

/* enum consent_decision's words (daemon/consent.h), for the writers. */
static const char *const decision_names[] = { "", "accept", "reject", "partial", "no_decision" };
enum { DECISION_NAMES = sizeof decision_names / sizeof decision_names[0] };

const char *observation_decision_name(unsigned decision)
{
	return decision > 0 && decision < DECISION_NAMES ? decision_names[decision] : NULL;
}

/* enum cookie_same_site's attribute values (dissectors/cookie.h). */
static const char *const same_site_names[] = { "", "None", "Lax", "Strict", "invalid" };
enum { SAME_SITE_NAMES = sizeof same_site_names / sizeof same_site_names[0] };

const char *observation_same_site_name(unsigned same_site)
{
	return same_site > 0 && same_site < SAME_SITE_NAMES ? same_site_names[same_site] : NULL;
}

/*
 * Packed layout: the struct, the answer records, the chain, then the strings.
 * Pointers are stored as offsets into the block, plus one (0 stays NULL).
 */
static size_t round8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

static size_t string_size(const char *s)
{
	return s ? strlen(s) + 1 : 0;
}

/* The observation's own string fields, packed and unpacked alike, with their text_len[] index. */
static const struct { size_t offset; int text; } string_fields[] = {
	{ offsetof(struct observation, http_method), -1 },
	{ offsetof(struct observation, http_path), OBS_TEXT_PATH },
	{ offsetof(struct observation, tls_alpn), -1 },
	{ offsetof(struct observation, http_referer), OBS_TEXT_REFERER },
	{ offsetof(struct observation, http_origin), OBS_TEXT_ORIGIN },
	{ offsetof(struct observation, http_user_agent), OBS_TEXT_USER_AGENT },
	{ offsetof(struct observation, http_content_type), OBS_TEXT_CONTENT_TYPE },
	{ offsetof(struct observation, cookie), OBS_TEXT_COOKIE },
	{ offsetof(struct observation, resolved), -1 },
	{ offsetof(struct observation, cookie_name), OBS_TEXT_COOKIE_NAME },
	{ offsetof(struct observation, cookie_domain), -1 },
	{ offsetof(struct observation, cookie_path), -1 },
	{ offsetof(struct observation, consent_source), -1 },
	{ offsetof(struct observation, consent_detail), -1 },
};
enum { STRING_FIELDS = sizeof string_fields / sizeof string_fields[0] };

/* A string field's length: text_len[] when it holds NUL bytes, else strlen(). */
static size_t text_length(const struct observation *obs, const char *text, int index)
{
	if (index >= 0 && obs->text_len[index])
		return obs->text_len[index];
	return strlen(text);
}

static const char **string_field(struct observation *obs, size_t i)
{
	return (const char **)(void *)((char *)obs + string_fields[i].offset);
}

static const char *string_field_of(const struct observation *obs, size_t i)
{
	return *(const char *const *)(const void *)((const char *)obs + string_fields[i].offset);
}

static size_t string_field_size(const struct observation *obs, size_t i)
{
	const char *text = string_field_of(obs, i);
	return text ? text_length(obs, text, string_fields[i].text) + 1 : 0;
}

size_t observation_packed_size(const struct observation *obs)
{
	size_t size = round8(sizeof *obs);
	size += round8(obs->dns_answer_count * sizeof *obs->dns_answers);
	size += round8(obs->dns_chain_count * sizeof *obs->dns_chain);
	size += round8(obs->tls_version_count * sizeof *obs->tls_versions);
	size_t strings = 0;
	for (size_t i = 0; i < STRING_FIELDS; i++)
		strings += string_field_size(obs, i);
	for (size_t i = 0; i < obs->dns_answer_count; i++)
		strings += string_size(obs->dns_answers[i].name) + string_size(obs->dns_answers[i].data);
	for (size_t i = 0; i < obs->dns_chain_count; i++)
		strings += string_size(obs->dns_chain[i]);
	return size + round8(strings);
}

/* Copies a string (`len` bytes with its NUL) to the block's string area; returns its offset plus one, or 0. */
static uintptr_t pack_bytes(uint8_t *base, size_t *at, const char *s, size_t len)
{
	if (!s)
		return 0;
	memcpy(base + *at, s, len);
	uintptr_t offset = *at + 1;
	*at += len;
	return offset;
}

static uintptr_t pack_string(uint8_t *base, size_t *at, const char *s)
{
	return pack_bytes(base, at, s, string_size(s));
}

void observation_pack(const struct observation *obs, void *out)
{
	uint8_t *base = out;
	struct observation *copy = out;
	*copy = *obs;
	size_t answers_at = round8(sizeof *obs);
	size_t chain_at = answers_at + round8(obs->dns_answer_count * sizeof *obs->dns_answers);
	size_t versions_at = chain_at + round8(obs->dns_chain_count * sizeof *obs->dns_chain);
	size_t at = versions_at + round8(obs->tls_version_count * sizeof *obs->tls_versions);
	if (obs->tls_version_count)
		memcpy(base + versions_at, obs->tls_versions,
		       obs->tls_version_count * sizeof *obs->tls_versions);
	struct observation_dns_record *records = (void *)(base + answers_at);
	uintptr_t *chain = (void *)(base + chain_at);
	for (size_t i = 0; i < obs->dns_answer_count; i++) {
		records[i] = obs->dns_answers[i];
		records[i].name = (const char *)pack_string(base, &at, obs->dns_answers[i].name);
		records[i].data = (const char *)pack_string(base, &at, obs->dns_answers[i].data);
	}
	for (size_t i = 0; i < obs->dns_chain_count; i++)
		chain[i] = pack_string(base, &at, obs->dns_chain[i]);
	for (size_t i = 0; i < STRING_FIELDS; i++)
		*string_field(copy, i) = (const char *)pack_bytes(base, &at, string_field_of(obs, i),
								  string_field_size(obs, i));
	copy->tls_versions = obs->tls_version_count ? (const void *)(uintptr_t)(versions_at + 1)
						    : NULL;
	copy->dns_answers = obs->dns_answer_count ? (const void *)(uintptr_t)(answers_at + 1) : NULL;
	copy->dns_chain = obs->dns_chain_count ? (const void *)(uintptr_t)(chain_at + 1) : NULL;
}

static const char *unpack_pointer(uint8_t *base, const void *offset)
{
	uintptr_t value = (uintptr_t)offset;
	return value ? (const char *)(base + value - 1) : NULL;
}

const struct observation *observation_unpack(void *packed)
{
	uint8_t *base = packed;
	struct observation *obs = packed;
	for (size_t i = 0; i < STRING_FIELDS; i++)
		*string_field(obs, i) = unpack_pointer(base, *string_field(obs, i));
	obs->tls_versions = (const void *)unpack_pointer(base, obs->tls_versions);
	struct observation_dns_record *records = (void *)unpack_pointer(base, obs->dns_answers);
	for (size_t i = 0; records && i < obs->dns_answer_count; i++) {
		records[i].name = unpack_pointer(base, records[i].name);
		records[i].data = unpack_pointer(base, records[i].data);
	}
	obs->dns_answers = records;
	const char **chain = (const char **)(void *)unpack_pointer(base, obs->dns_chain);
	for (size_t i = 0; chain && i < obs->dns_chain_count; i++)
		chain[i] = unpack_pointer(base, chain[i]);
	obs->dns_chain = chain;
	return obs;
}

const char *observation_kind_name(enum observation_kind kind)
{
	if ((unsigned)kind >= OBS_KIND_COUNT)
		return "unknown";
	return kind_names[kind];
}

/*
 * The JSON object is made once and its values updated in place for each
 * observation: no allocation per field, and jansson still does all the
 * encoding. Optional fields come last so that their presence does not move
 * the others.
 */
/* Optional fields, in the order they are written after the fixed ones. */
enum optional_field {
	OPT_CLIENT_MAC, OPT_QTYPE, OPT_RCODE, OPT_ANSWERS, OPT_CHAIN, OPT_ALPN, OPT_TLS_VERSIONS,
	OPT_ECH, OPT_METHOD, OPT_PATH, OPT_STATUS, OPT_REFERER, OPT_ORIGIN, OPT_USER_AGENT,
	OPT_CONTENT_TYPE, OPT_COOKIE_NAME, OPT_COOKIE, OPT_COOKIE_DOMAIN, OPT_COOKIE_PATH,
	OPT_COOKIE_LIFETIME, OPT_COOKIE_ATTRIBUTES, OPT_COOKIE_ID, OPT_TLS_VERSION, OPT_CIPHER,
	OPT_RESOLVED, OPT_DECISION, OPT_SOURCE, OPT_DETAIL, OPT_DECRYPTED, OPT_COUNT
};

static const char *const optional_keys[OPT_COUNT] = {
	[OPT_CLIENT_MAC] = "client_mac", [OPT_QTYPE] = "qtype", [OPT_RCODE] = "rcode",
	[OPT_ANSWERS] = "answers", [OPT_CHAIN] = "chain", [OPT_ALPN] = "alpn",
	[OPT_TLS_VERSIONS] = "tls_versions", [OPT_ECH] = "ech", [OPT_METHOD] = "method",
	[OPT_PATH] = "path", [OPT_STATUS] = "status", [OPT_REFERER] = "referer",
	[OPT_ORIGIN] = "origin", [OPT_USER_AGENT] = "user_agent",
	[OPT_CONTENT_TYPE] = "content_type", [OPT_COOKIE_NAME] = "cookie_name",
	[OPT_COOKIE] = "cookie_value", [OPT_COOKIE_DOMAIN] = "cookie_domain",
	[OPT_COOKIE_PATH] = "cookie_path", [OPT_COOKIE_LIFETIME] = "cookie_lifetime",
	[OPT_COOKIE_ATTRIBUTES] = "cookie_attributes", [OPT_COOKIE_ID] = "identifier_like",
	[OPT_TLS_VERSION] = "tls_version", [OPT_CIPHER] = "cipher", [OPT_RESOLVED] = "resolved",
	[OPT_DECISION] = "decision", [OPT_SOURCE] = "source", [OPT_DETAIL] = "detail",
	[OPT_DECRYPTED] = "decrypted",
};

/* One element of "answers", kept and reused like the fields of the object. */
struct answer_json {
	json_t *object, *name, *type, *ttl, *data;
	int has_ech;
};

/*
 * One object per set of optional fields ("shape"), made once and kept, the
 * values shared among them: an observation of another kind picks its shape
 * instead of deleting and adding fields (jansson allocates for each).
 */
enum { FIXED_FIELDS = 10, SHAPES_MAX = 24 };

struct json_shape {
	unsigned want;               /* bit i: optional field i is in the object */
	json_t *object;
	uint64_t used;               /* when it was last used, for replacement */
};

struct json_fields {
	json_t *object;              /* the shape in use */
	json_t *ts, *kind, *host, *client, *server, *proto, *sport, *dport, *app, *flow;
	const char *fixed_keys[FIXED_FIELDS];
	json_t *fixed[FIXED_FIELDS]; /* the same values as above, in order */
	json_t *optional[OPT_COUNT]; /* owned here, lent to the shapes that have them */
	struct json_shape shapes[SHAPES_MAX];
	size_t shape_count;
	uint64_t uses;
	struct answer_json *answers; /* pool for the "answers" array */
	size_t answers_made;
};

struct observation_writer {
	FILE *out;
	int owned; /* we opened it, we close it */
	enum observation_format format;
	int line_buffered;
	int failed;
	struct json_fields json;
	char *line;       /* one JSON line, reused: one write per observation */
	size_t line_cap;
	char *escaped;    /* escape buffer, reused */
	size_t escaped_cap;
};

static int json_fields_init(struct json_fields *f)
{
	struct { const char *key; json_t **value; json_t *initial; } fixed[FIXED_FIELDS] = {
		{ "ts", &f->ts, json_real(0) },
		{ "kind", &f->kind, json_string("") },
		{ "host", &f->host, json_string("") },
		{ "client", &f->client, json_string("") },
		{ "server", &f->server, json_string("") },
		{ "proto", &f->proto, json_string("") },
		{ "sport", &f->sport, json_integer(0) },
		{ "dport", &f->dport, json_integer(0) },
		{ "app", &f->app, json_string("") },
		{ "flow", &f->flow, json_integer(0) },
	};
	int rc = 0;
	for (size_t i = 0; i < FIXED_FIELDS; i++) {
		*fixed[i].value = fixed[i].initial;
		f->fixed[i] = fixed[i].initial;
		f->fixed_keys[i] = fixed[i].key;
		if (!fixed[i].initial)
			rc = -1;
	}
	for (int i = 0; i < OPT_COUNT; i++) {
		f->optional[i] = i == OPT_ECH || i == OPT_COOKIE_ID || i == OPT_DECRYPTED ? json_true()
			       : i == OPT_ANSWERS || i == OPT_CHAIN || i == OPT_TLS_VERSIONS ||
					 i == OPT_COOKIE_ATTRIBUTES ? json_array()
			       : i == OPT_QTYPE || i == OPT_RCODE || i == OPT_STATUS ||
					 i == OPT_COOKIE_LIFETIME ? json_integer(0)
			       : json_string("");
		if (!f->optional[i])
			rc = -1;
	}
	return rc;
}

static void json_fields_free(struct json_fields *f)
{
	for (size_t i = 0; i < f->shape_count; i++)
		json_decref(f->shapes[i].object);
	for (size_t i = 0; i < FIXED_FIELDS; i++)
		json_decref(f->fixed[i]);
	for (int i = 0; i < OPT_COUNT; i++)
		json_decref(f->optional[i]);
	for (size_t i = 0; i < f->answers_made; i++)
		json_decref(f->answers[i].object);
	free(f->answers);
}

/* The i-th pooled answer object, made on first use. */
static struct answer_json *answer_json_get(struct json_fields *f, size_t i)
{
	if (i < f->answers_made)
		return &f->answers[i];
	struct answer_json *pool = realloc(f->answers, (i + 1) * sizeof *pool);
	if (!pool)
		return NULL;
	f->answers = pool;
	struct answer_json *a = &pool[i];
	memset(a, 0, sizeof *a);
	a->object = json_object();
	a->name = json_string("");
	a->type = json_integer(0);
	a->ttl = json_integer(0);
	a->data = json_string("");
	if (!a->object || !a->name || !a->type || !a->ttl || !a->data ||
	    json_object_set_new(a->object, "name", a->name) ||
	    json_object_set_new(a->object, "type", a->type) ||
	    json_object_set_new(a->object, "ttl", a->ttl) ||
	    json_object_set_new(a->object, "data", a->data)) {
		json_decref(a->object);
		return NULL;
	}
	f->answers_made = i + 1;
	return a;
}

/* Puts exactly the optional fields in `want` into the object, in a fixed order. */
/* Makes the object of the shape `want`: the fixed fields, then the optional ones, in order. */
static json_t *shape_make(struct json_fields *f, unsigned want)
{
	json_t *object = json_object();
	if (!object)
		return NULL;
	for (size_t i = 0; i < FIXED_FIELDS; i++)
		if (json_object_set(object, f->fixed_keys[i], f->fixed[i]) != 0)
			goto fail;
	for (int i = 0; i < OPT_COUNT; i++)
		if ((want & (1u << i)) && json_object_set(object, optional_keys[i], f->optional[i]) != 0)
			goto fail;
	return object;
fail:
	json_decref(object);
	return NULL;
}

/* Uses the object that has exactly the optional fields in `want`. */
static int json_fields_optional(struct json_fields *f, unsigned want)
{
	struct json_shape *shape = NULL;
	for (size_t i = 0; i < f->shape_count && !shape; i++)
		if (f->shapes[i].want == want)
			shape = &f->shapes[i];
	if (!shape) {
		json_t *object = shape_make(f, want);
		if (!object)
			return -1;
		if (f->shape_count < SHAPES_MAX) {
			shape = &f->shapes[f->shape_count++];
		} else {
			shape = &f->shapes[0];
			for (size_t i = 1; i < SHAPES_MAX; i++)
				if (f->shapes[i].used < shape->used)
					shape = &f->shapes[i];
			json_decref(shape->object);
		}
		shape->want = want;
		shape->object = object;
	}
	shape->used = ++f->uses;
	f->object = shape->object;
	return 0;
}

struct observation_writer *observation_writer_open(const char *path,
						   enum observation_format format,
						   int line_buffered)
{
	struct observation_writer *writer = calloc(1, sizeof *writer);
	if (!writer)
		return NULL;
	if (format == OBS_FORMAT_JSONL && json_fields_init(&writer->json) != 0) {
		json_fields_free(&writer->json);
		free(writer);
		errno = ENOMEM;
		return NULL;
	}
	if (strcmp(path, "-") == 0) {
		writer->out = stdout;
	} else {
		writer->out = fopen(path, "w");
		if (!writer->out) {
			int saved = errno;
			json_fields_free(&writer->json);
			free(writer);
			errno = saved;
			return NULL;
		}
		writer->owned = 1;
	}
	writer->format = format;
	writer->line_buffered = line_buffered;
	return writer;
}

void observation_addr_text(uint8_t ip_version, const uint8_t addr[16], char *buf, size_t len)
{
	if (ip_version == 4 && len >= INET_ADDRSTRLEN) {
		/* inet_ntop goes through printf; this is most of the addresses we write. */
		char *o = buf;
		for (int i = 0; i < 4; i++) {
			unsigned v = addr[i];
			if (v >= 100)
				*o++ = (char)('0' + v / 100);
			if (v >= 10)
				*o++ = (char)('0' + v / 10 % 10);
			*o++ = (char)('0' + v % 10);
			*o++ = i < 3 ? '.' : '\0';
		}
		return;
	}
	if (!inet_ntop(ip_version == 6 ? AF_INET6 : AF_INET, addr, buf, (socklen_t)len))
		snprintf(buf, len, "?");
}

static const char hex_digits[] = "0123456789abcdef";

void observation_mac_text(const uint8_t mac[6], char *buf, size_t len)
{
	if (len < 18) {
		if (len)
			buf[0] = '\0';
		return;
	}
	for (int i = 0; i < 6; i++) {
		buf[3 * i] = hex_digits[mac[i] >> 4];
		buf[3 * i + 1] = hex_digits[mac[i] & 15];
		buf[3 * i + 2] = i < 5 ? ':' : '\0';
	}
}

/*
 * Bytes from the wire, made safe for a terminal and for JSON: printable ASCII
 * stays, anything else (controls, space unless kept, DEL, bytes of 0x80 and
 * above, and the backslash itself) becomes \xNN, as Zeek writes its logs.
 */
size_t observation_escape_into(const char *in, size_t len, char *out, int keep_space)
{
	char *o = out;
	unsigned char lowest = keep_space ? 0x20 : 0x21;
	const unsigned char *end = (const unsigned char *)in + len;
	for (const unsigned char *p = (const unsigned char *)in; p < end; p++) {
		if (*p >= lowest && *p < 0x7f && *p != '\\') {
			*o++ = (char)*p;
		} else {
			*o++ = '\\';
			*o++ = 'x';
			*o++ = hex_digits[*p >> 4];
			*o++ = hex_digits[*p & 15];
		}
	}
	*o = '\0';
	return (size_t)(o - out);
}

static char *escape_bytes(const char *in, size_t len)
{
	char *out = malloc(len * 4 + 1);
	if (out)
		observation_escape_into(in, len, out, 0);
	return out;
}

char *observation_escape(const char *in)
{
	char *out = malloc(strlen(in) * 4 + 1);
	if (out)
		observation_escape_into(in, strlen(in), out, 0);
	return out;
}

/*
 * Sets a string value, unless it holds that text already: consecutive
 * observations share most of their fields (the kind, the addresses, the
 * label), and jansson copies a string each time it is set. The text is
 * printable ASCII (we made it, or escaped it): no UTF-8 check is needed.
 */
static int set_text(json_t *value, const char *text, size_t len)
{
	if (json_string_length(value) == len && memcmp(json_string_value(value), text, len) == 0)
		return 0;
	return json_string_setn_nocheck(value, text, len);
}

/* Sets a string value to `len` escaped wire bytes; -1 when out of memory. */
static int set_wire_bytes(struct observation_writer *writer, json_t *value, const char *text,
			  size_t len)
{
	size_t need = len * 4 + 1;
	if (need > writer->escaped_cap) {
		char *buf = realloc(writer->escaped, need);
		if (!buf)
			return -1;
		writer->escaped = buf;
		writer->escaped_cap = need;
	}
	size_t escaped = observation_escape_into(text, len, writer->escaped, 1);
	return set_text(value, writer->escaped, escaped);
}

static int set_wire_string(struct observation_writer *writer, json_t *value, const char *text)
{
	return set_wire_bytes(writer, value, text, strlen(text));
}

/* "TLSv1.3", as Wireshark names versions; others as hex. */
static void tls_version_text(uint16_t version, char *buf, size_t size)
{
	static const char *const names[] = { "SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3" };
	if (version >= 0x0300 && version <= 0x0304)
		snprintf(buf, size, "%s", names[version - 0x0300]);
	else
		snprintf(buf, size, "0x%04x", version);
}

/* Strings we make ourselves: ASCII by construction. */
static int set_ascii(json_t *value, const char *text)
{
	return set_text(value, text, strlen(text));
}

/* A Set-Cookie's flag attributes as written: "Secure", "HttpOnly", "SameSite=Lax", "Partitioned". */
static size_t cookie_attributes(const struct observation *obs, char out[4][24])
{
	size_t n = 0;
	if (obs->cookie_flags & OBS_COOKIE_SECURE)
		snprintf(out[n++], sizeof out[0], "Secure");
	if (obs->cookie_flags & OBS_COOKIE_HTTP_ONLY)
		snprintf(out[n++], sizeof out[0], "HttpOnly");
	if (obs->cookie_same_site && obs->cookie_same_site < SAME_SITE_NAMES)
		snprintf(out[n++], sizeof out[0], "SameSite=%s", same_site_names[obs->cookie_same_site]);
	if (obs->cookie_flags & OBS_COOKIE_PARTITIONED)
		snprintf(out[n++], sizeof out[0], "Partitioned");
	return n;
}

static int write_jsonl(struct observation_writer *writer, const struct observation *obs)
{
	struct json_fields *f = &writer->json;
	char client[INET6_ADDRSTRLEN], server[INET6_ADDRSTRLEN], mac[18];
	observation_addr_text(obs->ip_version, obs->client_addr, client, sizeof client);
	observation_addr_text(obs->ip_version, obs->server_addr, server, sizeof server);
	int is_query = obs->kind == OBS_DNS_QUERY || obs->kind == OBS_MDNS_QUERY ||
		       obs->kind == OBS_LLMNR_QUERY;
	int is_answer = obs->kind == OBS_DNS_ANSWER || obs->kind == OBS_MDNS_ANSWER ||
			obs->kind == OBS_LLMNR_ANSWER;
	int is_http = obs->kind == OBS_HTTP_REQUEST;
	unsigned optional = 0;
	json_t *const *v = f->optional;
	int rc = 0;
	if (obs->has_client_mac) {
		observation_mac_text(obs->client_mac, mac, sizeof mac);
		rc |= set_ascii(v[OPT_CLIENT_MAC], mac);
		optional |= 1u << OPT_CLIENT_MAC;
	}
	if (is_query) {
		rc |= json_integer_set(v[OPT_QTYPE], obs->dns_qtype);
		optional |= 1u << OPT_QTYPE;
	}
	if (is_answer) {
		rc |= json_integer_set(v[OPT_RCODE], obs->dns_rcode);
		rc |= json_array_clear(v[OPT_ANSWERS]);
		for (size_t i = 0; i < obs->dns_answer_count && rc == 0; i++) {
			const struct observation_dns_record *r = &obs->dns_answers[i];
			struct answer_json *a = answer_json_get(f, i);
			if (!a) {
				rc = -1;
				break;
			}
			rc |= set_wire_string(writer, a->name, r->name);
			rc |= json_integer_set(a->type, r->type);
			rc |= json_integer_set(a->ttl, r->ttl);
			rc |= set_wire_string(writer, a->data, r->data);
			if (r->ech != a->has_ech) {
				rc |= r->ech ? json_object_set(a->object, "ech", json_true())
					     : json_object_del(a->object, "ech");
				a->has_ech = r->ech;
			}
			rc |= json_array_append(v[OPT_ANSWERS], a->object);
		}
		optional |= 1u << OPT_RCODE | 1u << OPT_ANSWERS;
		if (obs->dns_chain_count) {
			rc |= json_array_clear(v[OPT_CHAIN]);
			for (size_t i = 0; i < obs->dns_chain_count && rc == 0; i++) {
				json_t *name = json_string("");
				rc |= name ? set_wire_string(writer, name, obs->dns_chain[i]) |
						     json_array_append_new(v[OPT_CHAIN], name)
					   : -1;
			}
			optional |= 1u << OPT_CHAIN;
		}
	}
	int hello = obs->kind == OBS_TLS_SNI || obs->kind == OBS_QUIC_SNI;
	if ((hello || obs->kind == OBS_TLS_SERVER_HELLO) && obs->tls_alpn) {
		rc |= set_wire_string(writer, v[OPT_ALPN], obs->tls_alpn);
		optional |= 1u << OPT_ALPN;
	}
	if (hello && obs->tls_version_count) {
		rc |= json_array_clear(v[OPT_TLS_VERSIONS]);
		for (size_t i = 0; i < obs->tls_version_count && rc == 0; i++) {
			char name[16];
			tls_version_text(obs->tls_versions[i], name, sizeof name);
			rc |= json_array_append_new(v[OPT_TLS_VERSIONS], json_string(name));
		}
		optional |= 1u << OPT_TLS_VERSIONS;
	}
	if (hello && obs->tls_ech)
		optional |= 1u << OPT_ECH;
	if (is_http && obs->http_method) {
		rc |= set_wire_string(writer, v[OPT_METHOD], obs->http_method);
		optional |= 1u << OPT_METHOD;
	}
	if (is_http && obs->http_path) {
		rc |= set_wire_bytes(writer, v[OPT_PATH], obs->http_path,
				     text_length(obs, obs->http_path, OBS_TEXT_PATH));
		optional |= 1u << OPT_PATH;
	}
	if (obs->http_status) {
		rc |= json_integer_set(v[OPT_STATUS], obs->http_status);
		optional |= 1u << OPT_STATUS;
	}
	const struct { int field; const char *text; int index; } wire_strings[] = {
		{ OPT_REFERER, obs->http_referer, OBS_TEXT_REFERER },
		{ OPT_ORIGIN, obs->http_origin, OBS_TEXT_ORIGIN },
		{ OPT_USER_AGENT, obs->http_user_agent, OBS_TEXT_USER_AGENT },
		{ OPT_CONTENT_TYPE, obs->http_content_type, OBS_TEXT_CONTENT_TYPE },
		{ OPT_COOKIE_NAME, obs->cookie_name, OBS_TEXT_COOKIE_NAME },
		{ OPT_COOKIE, obs->cookie, OBS_TEXT_COOKIE },
		{ OPT_COOKIE_DOMAIN, obs->cookie_domain, -1 }, { OPT_COOKIE_PATH, obs->cookie_path, -1 },
		{ OPT_RESOLVED, obs->resolved, -1 },
		{ OPT_SOURCE, obs->consent_source, -1 }, { OPT_DETAIL, obs->consent_detail, -1 },
	};
	for (size_t i = 0; i < sizeof wire_strings / sizeof wire_strings[0]; i++) {
		if (!wire_strings[i].text)
			continue;
		rc |= set_wire_bytes(writer, v[wire_strings[i].field], wire_strings[i].text,
				     text_length(obs, wire_strings[i].text, wire_strings[i].index));
		optional |= 1u << wire_strings[i].field;
	}
	if (obs->kind == OBS_COOKIE_SET) {
		rc |= json_integer_set(v[OPT_COOKIE_LIFETIME], obs->cookie_lifetime);
		char attributes[4][24];
		size_t n = cookie_attributes(obs, attributes);
		rc |= json_array_clear(v[OPT_COOKIE_ATTRIBUTES]);
		for (size_t i = 0; i < n && rc == 0; i++)
			rc |= json_array_append_new(v[OPT_COOKIE_ATTRIBUTES], json_string(attributes[i]));
		optional |= 1u << OPT_COOKIE_LIFETIME | 1u << OPT_COOKIE_ATTRIBUTES;
	}
	if ((obs->kind == OBS_COOKIE_SENT || obs->kind == OBS_COOKIE_SET) &&
	    (obs->cookie_flags & OBS_COOKIE_IDENTIFIER_LIKE))
		optional |= 1u << OPT_COOKIE_ID;
	if (obs->decrypted)
		optional |= 1u << OPT_DECRYPTED;
	if (obs->kind == OBS_CONSENT && obs->consent_decision < DECISION_NAMES) {
		rc |= set_ascii(v[OPT_DECISION], decision_names[obs->consent_decision]);
		optional |= 1u << OPT_DECISION;
	}
	if (obs->kind == OBS_TLS_SERVER_HELLO) {
		char text[16];
		tls_version_text(obs->tls_version, text, sizeof text);
		rc |= set_ascii(v[OPT_TLS_VERSION], text);
		snprintf(text, sizeof text, "0x%04x", obs->tls_cipher);
		rc |= set_ascii(v[OPT_CIPHER], text);
		optional |= 1u << OPT_TLS_VERSION | 1u << OPT_CIPHER;
	}

	/* Microsecond precision: 16 significant digits cover 10 + 6. */
	rc |= json_real_set(f->ts, (double)(obs->ts_us / 1000000) +
				   (double)(obs->ts_us % 1000000) / 1e6);
	rc |= set_ascii(f->kind, observation_kind_name(obs->kind));
	rc |= set_wire_string(writer, f->host, obs->host);
	rc |= set_ascii(f->client, client);
	rc |= set_ascii(f->server, server);
	rc |= set_ascii(f->proto, obs->l4_proto == 6 ? "tcp" : "udp");
	rc |= json_integer_set(f->sport, obs->client_port);
	rc |= json_integer_set(f->dport, obs->server_port);
	rc |= set_wire_string(writer, f->app, obs->app);
	rc |= json_integer_set(f->flow, (json_int_t)obs->flow_id);
	rc |= json_fields_optional(f, optional);
	if (rc != 0)
		return -1;

	const size_t flags = JSON_COMPACT | JSON_REAL_PRECISION(16);
	size_t len = json_dumpb(f->object, writer->line, writer->line_cap, flags);
	if (len == 0)
		return -1;
	if (len + 1 > writer->line_cap) {
		size_t cap = len + 1 > 2 * writer->line_cap ? len + 1 : 2 * writer->line_cap;
		char *line = realloc(writer->line, cap);
		if (!line)
			return -1;
		writer->line = line;
		writer->line_cap = cap;
		len = json_dumpb(f->object, writer->line, writer->line_cap, flags);
		if (len == 0 || len + 1 > writer->line_cap)
			return -1;
	}
	writer->line[len] = '\n';
	return fwrite(writer->line, 1, len + 1, writer->out) == len + 1 ? 0 : -1;
}

static int write_text(struct observation_writer *writer, const struct observation *obs)
{
	char client[INET6_ADDRSTRLEN], server[INET6_ADDRSTRLEN], when[32];
	observation_addr_text(obs->ip_version, obs->client_addr, client, sizeof client);
	observation_addr_text(obs->ip_version, obs->server_addr, server, sizeof server);
	time_t seconds = (time_t)(obs->ts_us / 1000000);
	struct tm tm;
	gmtime_r(&seconds, &tm);
	strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
	const char *v6l = obs->ip_version == 6 ? "[" : "", *v6r = obs->ip_version == 6 ? "]" : "";
	fprintf(writer->out, "%s.%06uZ %-12s %s%s%s:%u > %s%s%s:%u %s ", when,
		(unsigned)(obs->ts_us % 1000000), observation_kind_name(obs->kind), v6l, client,
		v6r, obs->client_port, v6l, server, v6r, obs->server_port,
		obs->l4_proto == 6 ? "tcp" : "udp");
	char *host = observation_escape(obs->host[0] ? obs->host : "-");
	if (!host)
		return -1;
	fputs(host, writer->out);
	free(host);
	if (obs->kind == OBS_DNS_ANSWER || obs->kind == OBS_MDNS_ANSWER ||
	    obs->kind == OBS_LLMNR_ANSWER) {
		/* The chain, then the addresses and other data the answer gives. */
		fputs(" ->", writer->out);
		for (size_t i = 1; i < obs->dns_chain_count; i++) {
			char *name = observation_escape(obs->dns_chain[i]);
			if (!name)
				return -1;
			fprintf(writer->out, " %s ->", name);
			free(name);
		}
		int any = 0;
		for (size_t i = 0; i < obs->dns_answer_count; i++) {
			const struct observation_dns_record *r = &obs->dns_answers[i];
			if (!r->data[0] || r->type == 5 /* CNAME: in the chain */)
				continue;
			char *data = observation_escape(r->data);
			if (!data)
				return -1;
			fprintf(writer->out, "%s%s%s", any ? "," : " ", data, r->ech ? "[ech]" : "");
			free(data);
			any = 1;
		}
		if (!any)
			fprintf(writer->out, " (rcode %u, %u records)", (unsigned)obs->dns_rcode,
				(unsigned)obs->dns_answer_count);
	}
	if (obs->kind == OBS_HTTP_REQUEST && obs->http_method) {
		char *path = obs->http_path ? escape_bytes(obs->http_path,
						   text_length(obs, obs->http_path, OBS_TEXT_PATH))
					    : observation_escape("-");
		if (!path)
			return -1;
		fprintf(writer->out, " %s %s", obs->http_method, path);
		free(path);
	}
	if (obs->kind == OBS_HTTP_RESPONSE)
		fprintf(writer->out, " %u", (unsigned)obs->http_status);
	if (obs->cookie_name && obs->cookie) {
		/* name=value as sent (the value hashed unless kept), then a Set-Cookie's attributes */
		char *name = escape_bytes(obs->cookie_name,
					  text_length(obs, obs->cookie_name, OBS_TEXT_COOKIE_NAME));
		char *cookie = escape_bytes(obs->cookie, text_length(obs, obs->cookie, OBS_TEXT_COOKIE));
		int ok = name && cookie;
		if (ok)
			fprintf(writer->out, " %s=%s", name, cookie);
		free(name);
		free(cookie);
		if (!ok)
			return -1;
	}
	if (obs->kind == OBS_COOKIE_SET) {
		const char *const attribute_names[] = { "Domain", "Path" };
		const char *const values[] = { obs->cookie_domain, obs->cookie_path };
		for (int i = 0; i < 2; i++) {
			if (!values[i])
				continue;
			char *value = observation_escape(values[i]);
			if (!value)
				return -1;
			fprintf(writer->out, "; %s=%s", attribute_names[i], value);
			free(value);
		}
		if (obs->cookie_lifetime >= 0)
			fprintf(writer->out, "; lifetime %" PRId64 "s", obs->cookie_lifetime);
		char attributes[4][24];
		size_t n = cookie_attributes(obs, attributes);
		for (size_t i = 0; i < n; i++)
			fprintf(writer->out, "; %s", attributes[i]);
	}
	if (obs->decrypted)
		fputs(" (decrypted)", writer->out);
	if (obs->kind == OBS_CONSENT && obs->consent_decision < DECISION_NAMES) {
		char *source = observation_escape(obs->consent_source ? obs->consent_source : "");
		char *detail = observation_escape(obs->consent_detail ? obs->consent_detail : "");
		if (source && detail)
			fprintf(writer->out, " %s by %s: %s", decision_names[obs->consent_decision],
				source, detail);
		free(source);
		free(detail);
		if (!source || !detail)
			return -1;
	}
	if (obs->kind == OBS_TLS_SERVER_HELLO) {
		char version[16];
		tls_version_text(obs->tls_version, version, sizeof version);
		fprintf(writer->out, " %s 0x%04x", version, obs->tls_cipher);
	}
	if (obs->resolved) {
		char *resolved = observation_escape(obs->resolved);
		if (!resolved)
			return -1;
		fprintf(writer->out, " (resolved %s)", resolved);
		free(resolved);
	}
	fprintf(writer->out, " (%s)\n", obs->app);
	return ferror(writer->out) ? -1 : 0;
}

int observation_write(struct observation_writer *writer, const struct observation *obs)
{
	int rc = writer->format == OBS_FORMAT_JSONL ? write_jsonl(writer, obs)
						    : write_text(writer, obs);
	if (rc == 0 && writer->line_buffered && fflush(writer->out) == EOF)
		rc = -1;
	if (rc != 0)
		writer->failed = 1;
	return rc;
}

int observation_writer_close(struct observation_writer *writer)
{
	if (!writer)
		return 0;
	int rc = writer->failed ? -1 : 0;
	if (fflush(writer->out) == EOF || ferror(writer->out))
		rc = -1;
	if (writer->owned && fclose(writer->out) == EOF)
		rc = -1;
	if (writer->format == OBS_FORMAT_JSONL)
		json_fields_free(&writer->json);
	free(writer->line);
	free(writer->escaped);
	free(writer);
	return rc;
}
