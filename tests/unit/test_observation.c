/*
 * Unit tests for daemon/observation.c: kind names, escaping of wire bytes, and
 * the JSON lines and text writers, whose output is read back (JSON with jansson).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "../../daemon/observation.h"

/* ---- observations ------------------------------------------------------------ */

#define TS_US 1795927190343123ULL /* 2026-11-29T04:39:50.343123Z */

static const uint8_t V4_CLIENT[16] = { 10, 0, 0, 2 };
static const uint8_t V4_SERVER[16] = { 93, 184, 216, 34 };
static const uint8_t V6_CLIENT[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };
static const uint8_t V6_SERVER[16] = { 0x20, 0x01, 0x0d, 0xb8, [14] = 0x10, [15] = 1 };
static const uint8_t MAC[6] = { 0x02, 0x00, 0x5e, 0xaa, 0xbb, 0x0c };

/* A TLS SNI observation over IPv4, with a client MAC. */
static struct observation tls_obs(void)
{
	struct observation o;
	memset(&o, 0, sizeof o);
	o.ts_us = TS_US;
	o.kind = OBS_TLS_SNI;
	o.flow_id = 42;
	strcpy(o.host, "www.example.com");
	o.ip_version = 4;
	o.l4_proto = 6;
	memcpy(o.client_addr, V4_CLIENT, 16);
	memcpy(o.server_addr, V4_SERVER, 16);
	o.client_port = 51000;
	o.server_port = 443;
	o.has_client_mac = 1;
	memcpy(o.client_mac, MAC, 6);
	strcpy(o.app, "TLS.Google");
	return o;
}

/* A DNS query over IPv6, without a client MAC. */
static struct observation dns_obs(void)
{
	struct observation o;
	memset(&o, 0, sizeof o);
	o.ts_us = TS_US + 1;
	o.kind = OBS_DNS_QUERY;
	o.flow_id = 7;
	strcpy(o.host, "tracker.example.net");
	o.ip_version = 6;
	o.l4_proto = 17;
	memcpy(o.client_addr, V6_CLIENT, 16);
	memcpy(o.server_addr, V6_SERVER, 16);
	o.client_port = 40123;
	o.server_port = 53;
	strcpy(o.app, "DNS");
	o.dns_qtype = 28;
	return o;
}

static struct observation http_obs(void)
{
	struct observation o = tls_obs();
	o.kind = OBS_HTTP_REQUEST;
	o.flow_id = 43;
	strcpy(o.host, "news.example");
	o.server_port = 80;
	strcpy(o.app, "HTTP");
	o.http_method = "GET";
	o.http_path = "/index.html?q=1";
	return o;
}

/* ---- writing and reading back ---------------------------------------------- */

/* Writes observations with a writer on a temporary file; returns the file's text. */
static char *write_all(enum observation_format format, const struct observation *obs, size_t n)
{
	char path[] = "/tmp/test_observation.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	struct observation_writer *w = observation_writer_open(path, format, 0);
	assert_non_null(w);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(observation_write(w, &obs[i]), 0);
	assert_int_equal(observation_writer_close(w), 0);

	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	char *text = malloc(1 << 16);
	assert_non_null(text);
	size_t len = fread(text, 1, (1 << 16) - 1, f);
	assert_true(len < (1 << 16) - 1);
	text[len] = '\0';
	fclose(f);
	unlink(path);
	return text;
}

/* Splits text into lines, asserting there are exactly `n`, each ended by a newline. */
static void split_lines(char *text, char **lines, size_t n)
{
	size_t count = 0;
	char *p = text;
	while (*p) {
		char *end = strchr(p, '\n');
		assert_non_null(end); /* the last line is ended too */
		*end = '\0';
		assert_true(count < n);
		lines[count++] = p;
		p = end + 1;
	}
	assert_int_equal(count, n);
}

static json_t *parse_line(const char *line)
{
	json_error_t error;
	json_t *json = json_loads(line, 0, &error);
	if (!json)
		fail_msg("not JSON (%s): %s", error.text, line);
	assert_true(json_is_object(json));
	return json;
}

static void assert_string_field(json_t *o, const char *key, const char *expected)
{
	json_t *v = json_object_get(o, key);
	if (!v)
		fail_msg("no field %s", key);
	assert_true(json_is_string(v));
	assert_string_equal(json_string_value(v), expected);
}

static void assert_integer_field(json_t *o, const char *key, json_int_t expected)
{
	json_t *v = json_object_get(o, key);
	if (!v)
		fail_msg("no field %s", key);
	assert_true(json_is_integer(v));
	assert_int_equal(json_integer_value(v), expected);
}

static int is_query_kind(enum observation_kind kind)
{
	return kind == OBS_DNS_QUERY || kind == OBS_MDNS_QUERY || kind == OBS_LLMNR_QUERY;
}

static int is_answer_kind(enum observation_kind kind)
{
	return kind == OBS_DNS_ANSWER || kind == OBS_MDNS_ANSWER || kind == OBS_LLMNR_ANSWER;
}

/* What JSON output holds for wire bytes: as observation_escape(), but spaces stay. */
static char *json_escaped(const char *in)
{
	char *out = malloc(strlen(in) * 4 + 1), *o = out;
	assert_non_null(out);
	for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
		if (*p >= 0x20 && *p < 0x7f && *p != '\\')
			*o++ = (char)*p;
		else
			o += sprintf(o, "\\x%02x", *p);
	}
	*o = '\0';
	return out;
}

/*
 * Checks one parsed line against the observation it came from: every fixed
 * field, and exactly the optional fields the observation calls for.
 */
static void assert_json_matches(json_t *o, const struct observation *obs, const char *client,
				const char *server)
{
	json_t *ts = json_object_get(o, "ts");
	assert_true(json_is_real(ts));
	double expected_ts = (double)(obs->ts_us / 1000000) + (double)(obs->ts_us % 1000000) / 1e6;
	double diff = json_real_value(ts) - expected_ts;
	assert_true(diff < 1e-6 && diff > -1e-6);

	assert_string_field(o, "kind", observation_kind_name(obs->kind));
	char *host = observation_escape(obs->host);
	assert_string_field(o, "host", host);
	free(host);
	assert_string_field(o, "client", client);
	assert_string_field(o, "server", server);
	assert_string_field(o, "proto", obs->l4_proto == 6 ? "tcp" : "udp");
	assert_integer_field(o, "sport", obs->client_port);
	assert_integer_field(o, "dport", obs->server_port);
	assert_string_field(o, "app", obs->app);
	assert_integer_field(o, "flow", (json_int_t)obs->flow_id);
	size_t fields = 10;

	if (obs->has_client_mac) {
		char mac[18];
		observation_mac_text(obs->client_mac, mac, sizeof mac);
		assert_string_field(o, "client_mac", mac);
		fields++;
	} else {
		assert_null(json_object_get(o, "client_mac"));
	}
	if (is_query_kind(obs->kind)) {
		assert_integer_field(o, "qtype", obs->dns_qtype);
		fields++;
	} else {
		assert_null(json_object_get(o, "qtype"));
	}
	if (is_answer_kind(obs->kind)) {
		assert_integer_field(o, "rcode", obs->dns_rcode);
		json_t *answers = json_object_get(o, "answers");
		assert_true(json_is_array(answers));
		assert_int_equal(json_array_size(answers), obs->dns_answer_count);
		for (size_t i = 0; i < obs->dns_answer_count; i++) {
			const struct observation_dns_record *r = &obs->dns_answers[i];
			json_t *a = json_array_get(answers, i);
			char *name = observation_escape(r->name), *data = observation_escape(r->data);
			assert_string_field(a, "name", name);
			assert_string_field(a, "data", data);
			free(name);
			free(data);
			assert_integer_field(a, "type", r->type);
			assert_integer_field(a, "ttl", r->ttl);
			if (r->ech)
				assert_true(json_is_true(json_object_get(a, "ech")));
			else
				assert_null(json_object_get(a, "ech"));
			assert_int_equal(json_object_size(a), 4 + (r->ech ? 1 : 0));
		}
		fields += 2;
		json_t *chain = json_object_get(o, "chain");
		if (obs->dns_chain_count) {
			assert_int_equal(json_array_size(chain), obs->dns_chain_count);
			for (size_t i = 0; i < obs->dns_chain_count; i++)
				assert_string_equal(json_string_value(json_array_get(chain, i)),
						    obs->dns_chain[i]);
			fields++;
		} else {
			assert_null(chain);
		}
	} else {
		assert_null(json_object_get(o, "answers"));
		assert_null(json_object_get(o, "rcode"));
	}
	int http = obs->kind == OBS_HTTP_REQUEST;
	if (http && obs->http_method) {
		assert_string_field(o, "method", obs->http_method);
		fields++;
	} else {
		assert_null(json_object_get(o, "method"));
	}
	if (http && obs->http_path) {
		char *path = observation_escape(obs->http_path);
		assert_string_field(o, "path", path);
		free(path);
		fields++;
	} else {
		assert_null(json_object_get(o, "path"));
	}
	/* The fields any kind may carry, present exactly when set. */
	const struct { const char *key; const char *value; } strings[] = {
		{ "referer", obs->http_referer }, { "origin", obs->http_origin },
		{ "user_agent", obs->http_user_agent }, { "content_type", obs->http_content_type },
		{ "cookie_name", obs->cookie_name }, { "cookie_value", obs->cookie },
		{ "cookie_domain", obs->cookie_domain }, { "cookie_path", obs->cookie_path },
		{ "resolved", obs->resolved }, { "source", obs->consent_source },
		{ "detail", obs->consent_detail },
	};
	for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++) {
		if (strings[i].value) {
			char *want = json_escaped(strings[i].value);
			assert_string_field(o, strings[i].key, want);
			free(want);
			fields++;
		} else {
			assert_null(json_object_get(o, strings[i].key));
		}
	}
	if (obs->http_status) {
		assert_integer_field(o, "status", obs->http_status);
		fields++;
	} else {
		assert_null(json_object_get(o, "status"));
	}
	if (obs->kind == OBS_TLS_SERVER_HELLO) {
		assert_non_null(json_object_get(o, "tls_version"));
		assert_non_null(json_object_get(o, "cipher"));
		fields += 2;
	} else {
		assert_null(json_object_get(o, "tls_version"));
		assert_null(json_object_get(o, "cipher"));
	}
	if (obs->kind == OBS_COOKIE_SET) {
		assert_integer_field(o, "cookie_lifetime", obs->cookie_lifetime);
		assert_true(json_is_array(json_object_get(o, "cookie_attributes")));
		fields += 2;
	} else {
		assert_null(json_object_get(o, "cookie_lifetime"));
		assert_null(json_object_get(o, "cookie_attributes"));
	}
	if (obs->cookie_flags & OBS_COOKIE_IDENTIFIER_LIKE) {
		assert_true(json_is_true(json_object_get(o, "identifier_like")));
		fields++;
	} else {
		assert_null(json_object_get(o, "identifier_like"));
	}
	if (obs->kind == OBS_CONSENT) {
		assert_string_field(o, "decision", observation_decision_name(obs->consent_decision));
		fields++;
	} else {
		assert_null(json_object_get(o, "decision"));
	}
	assert_int_equal(json_object_size(o), fields);
}

/* Writes one observation as JSON and checks its line. */
static void check_one_jsonl(const struct observation *obs, const char *client, const char *server)
{
	char *text = write_all(OBS_FORMAT_JSONL, obs, 1);
	char *line;
	split_lines(text, &line, 1);
	json_t *o = parse_line(line);
	assert_json_matches(o, obs, client, server);
	json_decref(o);
	free(text);
}

/* ---- names and escaping ------------------------------------------------------ */

static void test_kind_names(void **state)
{
	(void)state;
	for (int i = 0; i < OBS_KIND_COUNT; i++) {
		const char *name = observation_kind_name((enum observation_kind)i);
		assert_non_null(name);
		assert_true(name[0] != '\0');
		assert_string_not_equal(name, "unknown");
		for (int j = 0; j < i; j++)
			assert_string_not_equal(name, observation_kind_name((enum observation_kind)j));
	}
	assert_string_equal(observation_kind_name(OBS_KIND_COUNT), "unknown");
	assert_string_equal(observation_kind_name(OBS_TLS_SNI), "tls_sni");
	assert_string_equal(observation_kind_name(OBS_HTTP_REQUEST), "http_request");
}

static void test_escape_printable_unchanged(void **state)
{
	(void)state;
	char in[128];
	size_t n = 0;
	for (int c = 0x21; c < 0x7f; c++)
		if (c != '\\')
			in[n++] = (char)c;
	in[n] = '\0';
	char *out = observation_escape(in);
	assert_non_null(out);
	assert_string_equal(out, in);
	free(out);
	out = observation_escape("");
	assert_string_equal(out, "");
	free(out);
}

static void test_escape_non_printable(void **state)
{
	(void)state;
	/* Every byte that is not printable ASCII, and the backslash. */
	for (int c = 1; c < 256; c++) {
		if (c >= 0x21 && c < 0x7f && c != '\\')
			continue;
		char in[2] = { (char)c, '\0' }, expected[5];
		snprintf(expected, sizeof expected, "\\x%02x", c);
		char *out = observation_escape(in);
		assert_non_null(out);
		assert_string_equal(out, expected);
		free(out);
	}
	char *out = observation_escape("a b\\c\n\x7f\xc3\xa9\"");
	assert_string_equal(out, "a\\x20b\\x5cc\\x0a\\x7f\\xc3\\xa9\"");
	free(out);
}

static void test_addr_and_mac_text(void **state)
{
	(void)state;
	char buf[64];
	observation_addr_text(4, V4_CLIENT, buf, sizeof buf);
	assert_string_equal(buf, "10.0.0.2");
	static const uint8_t edge[16] = { 255, 0, 100, 9 };
	observation_addr_text(4, edge, buf, sizeof buf);
	assert_string_equal(buf, "255.0.100.9");
	observation_addr_text(6, V6_SERVER, buf, sizeof buf);
	assert_string_equal(buf, "2001:db8::1001");
	observation_mac_text(MAC, buf, sizeof buf);
	assert_string_equal(buf, "02:00:5e:aa:bb:0c");
}

/* ---- JSON lines ------------------------------------------------------------- */

static void test_jsonl_tls_ipv4(void **state)
{
	(void)state;
	struct observation obs = tls_obs();
	check_one_jsonl(&obs, "10.0.0.2", "93.184.216.34");
}

static void test_jsonl_dns_ipv6(void **state)
{
	(void)state;
	struct observation obs = dns_obs();
	check_one_jsonl(&obs, "2001:db8::2", "2001:db8::1001");
}

static void test_jsonl_http_request(void **state)
{
	(void)state;
	struct observation obs = http_obs();
	check_one_jsonl(&obs, "10.0.0.2", "93.184.216.34");
	obs.http_path = NULL; /* a method without a path */
	check_one_jsonl(&obs, "10.0.0.2", "93.184.216.34");
}

/* Method and path belong to HTTP requests only, whatever the struct holds. */
static void test_jsonl_method_only_for_http(void **state)
{
	(void)state;
	struct observation obs = tls_obs();
	obs.http_method = "POST";
	obs.http_path = "/collect";
	obs.dns_qtype = 1;
	check_one_jsonl(&obs, "10.0.0.2", "93.184.216.34");
}

/* The writer reuses one JSON object: optional fields must follow each observation. */
static void test_jsonl_optional_fields_per_line(void **state)
{
	(void)state;
	struct observation obs[10];
	obs[0] = http_obs();
	obs[1] = dns_obs();
	obs[2] = tls_obs();
	obs[3] = dns_obs();
	obs[3].kind = OBS_MDNS_QUERY;
	obs[3].has_client_mac = 1;
	memcpy(obs[3].client_mac, MAC, 6);
	obs[4] = http_obs();
	obs[4].has_client_mac = 0;
	obs[4].http_path = NULL;
	obs[5] = tls_obs();
	obs[5].kind = OBS_QUIC_SNI;
	obs[5].l4_proto = 17;
	/* A response through a CNAME to an HTTPS record offering ECH, then an address. */
	static const struct observation_dns_record records[] = {
		{ "smetrics.news.example", "news-example.sc.omtrdc.net", 5, 300, 0 },
		{ "news-example.sc.omtrdc.net", ".", 65, 60, 1 },
		{ "news-example.sc.omtrdc.net", "10.99.0.12", 1, 60, 0 },
	};
	static const char *const chain[] = { "smetrics.news.example", "news-example.sc.omtrdc.net" };
	obs[6] = dns_obs();
	obs[6].kind = OBS_DNS_ANSWER;
	obs[6].dns_qtype = 0;
	obs[6].dns_rcode = 0;
	obs[6].dns_answers = records;
	obs[6].dns_answer_count = 3;
	obs[6].dns_chain = chain;
	obs[6].dns_chain_count = 2;
	obs[7] = dns_obs();
	obs[7].kind = OBS_LLMNR_QUERY;
	obs[8] = tls_obs();
	obs[8].kind = OBS_DHCP_HOSTNAME;
	obs[8].has_client_mac = 0;
	/* An NXDOMAIN answer: no records, no chain, after one that had both. */
	obs[9] = dns_obs();
	obs[9].kind = OBS_MDNS_ANSWER;
	obs[9].dns_rcode = 3;
	char *text = write_all(OBS_FORMAT_JSONL, obs, 10);
	char *lines[10];
	split_lines(text, lines, 10);
	for (size_t i = 0; i < 10; i++) {
		json_t *o = parse_line(lines[i]);
		int v6 = obs[i].ip_version == 6;
		assert_json_matches(o, &obs[i], v6 ? "2001:db8::2" : "10.0.0.2",
				    v6 ? "2001:db8::1001" : "93.184.216.34");
		json_decref(o);
	}
	free(text);
}

static void test_jsonl_ts(void **state)
{
	(void)state;
	struct observation obs = tls_obs();
	char *text = write_all(OBS_FORMAT_JSONL, &obs, 1);
	assert_non_null(strstr(text, "\"ts\":1795927190.343123,"));
	json_t *o = parse_line(text);
	double diff = json_real_value(json_object_get(o, "ts")) - 1795927190.343123;
	assert_true(diff < 1e-6 && diff > -1e-6);
	json_decref(o);
	free(text);

	static const uint64_t times[] = { 0, 1, 999999, 1000000, 1795927190000000ULL,
					  1795927190000001ULL, 1795927190999999ULL };
	for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
		obs.ts_us = times[i];
		check_one_jsonl(&obs, "10.0.0.2", "93.184.216.34");
	}
}

/*
 * A name from the wire with a quote, a newline, a backslash and a byte that is
 * not UTF-8: one valid JSON line, the quote kept (it is printable ASCII) and
 * the others as \xNN.
 */
static void test_jsonl_hostile_host(void **state)
{
	(void)state;
	struct observation obs = http_obs();
	strcpy(obs.host, "a\"b\nc\\d\xff" "e");
	obs.http_path = "/x\ny\xfe\"z";
	char *text = write_all(OBS_FORMAT_JSONL, &obs, 1);
	size_t len = strlen(text);
	assert_true(len > 0 && text[len - 1] == '\n');
	assert_ptr_equal(strchr(text, '\n'), text + len - 1); /* one line */
	for (size_t i = 0; i + 1 < len; i++)
		assert_true(text[i] >= 0x20 && text[i] < 0x7f);
	json_t *o = parse_line(text);
	assert_string_field(o, "host", "a\"b\\x0ac\\x5cd\\xffe");
	assert_string_field(o, "path", "/x\\x0ay\\xfe\"z");
	assert_json_matches(o, &obs, "10.0.0.2", "93.184.216.34");
	json_decref(o);
	free(text);
}

/* Responses, cookie headers, ServerHellos and resolved names, with their own fields. */
static struct observation response_obs(void)
{
	struct observation o = http_obs();
	o.kind = OBS_HTTP_RESPONSE;
	o.http_method = NULL;
	o.http_path = NULL;
	o.http_status = 200;
	o.http_content_type = "text/html; charset=utf-8";
	return o;
}

static void test_jsonl_http_fields(void **state)
{
	(void)state;
	struct observation obs = http_obs();
	obs.http_referer = "https://news.example/a?x=1";
	obs.http_origin = "https://news.example";
	obs.http_user_agent = "Mozilla/5.0 (X11; Linux x86_64)\x01";
	check_one_jsonl(&obs, "10.0.0.2", "93.184.216.34");
	char *text = write_all(OBS_FORMAT_JSONL, &obs, 1);
	json_t *o = parse_line(text);
	/* Spaces stay in JSON strings; control bytes do not. */
	assert_string_field(o, "user_agent", "Mozilla/5.0 (X11; Linux x86_64)\\x01");
	json_decref(o);
	free(text);

	obs = response_obs();
	check_one_jsonl(&obs, "10.0.0.2", "93.184.216.34");

	obs = response_obs();
	obs.kind = OBS_COOKIE_SET;
	obs.http_content_type = NULL;
	obs.cookie_name = "_ttp";
	obs.cookie = "3a0c";
	obs.cookie_domain = ".tiktok.com";
	obs.cookie_path = "/";
	obs.cookie_lifetime = 33696000;
	obs.cookie_flags = OBS_COOKIE_SECURE | OBS_COOKIE_IDENTIFIER_LIKE;
	obs.cookie_same_site = 2;
	check_one_jsonl(&obs, "10.0.0.2", "93.184.216.34");
	text = write_all(OBS_FORMAT_JSONL, &obs, 1);
	o = parse_line(text);
	json_t *attributes = json_object_get(o, "cookie_attributes");
	assert_int_equal(json_array_size(attributes), 2);
	assert_string_equal(json_string_value(json_array_get(attributes, 0)), "Secure");
	assert_string_equal(json_string_value(json_array_get(attributes, 1)), "SameSite=Lax");
	json_decref(o);
	free(text);
	text = write_all(OBS_FORMAT_TEXT, &obs, 1);
	assert_non_null(strstr(text, " _ttp=3a0c; Domain=.tiktok.com; Path=/; lifetime 33696000s;"
				     " Secure; SameSite=Lax "));
	free(text);

	obs = http_obs();
	obs.kind = OBS_COOKIE_SENT;
	obs.http_method = NULL;
	obs.http_path = NULL;
	obs.cookie_name = "b";
	obs.cookie = "\"q\\\"";
	obs.cookie_lifetime = -1;
	check_one_jsonl(&obs, "10.0.0.2", "93.184.216.34");

	obs = http_obs();
	obs.kind = OBS_CONSENT;
	obs.http_method = NULL;
	obs.http_path = NULL;
	obs.consent_decision = 2;
	obs.consent_source = "onetrust:OptanonConsent";
	obs.consent_detail = "groups C0001:1,C0002:0";
	check_one_jsonl(&obs, "10.0.0.2", "93.184.216.34");
	text = write_all(OBS_FORMAT_TEXT, &obs, 1);
	assert_non_null(strstr(text, " reject by onetrust:OptanonConsent: groups\\x20C0001:1,C0002:0"));
	free(text);

	obs = tls_obs();
	obs.kind = OBS_TLS_SERVER_HELLO;
	obs.tls_version = 0x0304;
	obs.tls_cipher = 0x1301;
	check_one_jsonl(&obs, "10.0.0.2", "93.184.216.34");
	text = write_all(OBS_FORMAT_JSONL, &obs, 1);
	o = parse_line(text);
	assert_string_field(o, "tls_version", "TLSv1.3");
	assert_string_field(o, "cipher", "0x1301");
	json_decref(o);
	free(text);

	obs = tls_obs();
	obs.kind = OBS_CONNECTION;
	obs.host[0] = '\0';
	obs.resolved = "tracker.example";
	check_one_jsonl(&obs, "10.0.0.2", "93.184.216.34");
}

/* A header value that holds NUL bytes is written whole, packed or not. */
static void test_nul_in_values(void **state)
{
	(void)state;
	static const char cookie[] = "v\0w; x";
	static const char agent[] = "A\0B";
	struct observation obs = response_obs();
	obs.kind = OBS_COOKIE_SET;
	obs.http_content_type = NULL;
	obs.cookie_name = "id";
	obs.cookie = cookie;
	obs.text_len[OBS_TEXT_COOKIE] = sizeof cookie - 1;
	struct observation req = http_obs();
	req.http_user_agent = agent;
	req.text_len[OBS_TEXT_USER_AGENT] = sizeof agent - 1;
	const struct observation *both[] = { &obs, &req };
	const char *key[] = { "cookie_value", "user_agent" };
	const char *want[] = { "v\\x00w; x", "A\\x00B" };
	for (int i = 0; i < 2; i++) {
		size_t size = observation_packed_size(both[i]);
		uint64_t *block = malloc(size);
		assert_non_null(block);
		memset(block, 0xa5, size);
		observation_pack(both[i], block);
		const struct observation *copy = observation_unpack(block);
		const struct observation *each[] = { both[i], copy };
		for (int j = 0; j < 2; j++) {
			char *text = write_all(OBS_FORMAT_JSONL, each[j], 1);
			json_t *o = parse_line(text);
			assert_string_field(o, key[i], want[i]);
			json_decref(o);
			free(text);
		}
		char *line = write_all(OBS_FORMAT_TEXT, copy, 1);
		if (i == 0)
			assert_non_null(strstr(line, " id=v\\x00w;\\x20x; lifetime 0s "));
		free(line);
		free(block);
	}
}

/* ---- text ------------------------------------------------------------------- */

static void test_text_lines(void **state)
{
	(void)state;
	struct observation obs[4];
	obs[0] = tls_obs();
	obs[1] = dns_obs();
	obs[2] = http_obs();
	obs[3] = tls_obs();
	strcpy(obs[3].host, "evil\nhost\r\x1b[2J");
	char *text = write_all(OBS_FORMAT_TEXT, obs, 4);
	char *lines[4];
	split_lines(text, lines, 4);
	assert_string_equal(lines[0], "2026-11-29T04:39:50.343123Z tls_sni      "
				      "10.0.0.2:51000 > 93.184.216.34:443 tcp www.example.com "
				      "(TLS.Google)");
	assert_string_equal(lines[1], "2026-11-29T04:39:50.343124Z dns_query    "
				      "[2001:db8::2]:40123 > [2001:db8::1001]:53 udp "
				      "tracker.example.net (DNS)");
	assert_string_equal(lines[2], "2026-11-29T04:39:50.343123Z http_request "
				      "10.0.0.2:51000 > 93.184.216.34:80 tcp news.example "
				      "GET /index.html?q=1 (HTTP)");
	assert_non_null(strstr(lines[3], " evil\\x0ahost\\x0d\\x1b[2J (TLS.Google)"));
	free(text);
}

static void test_writer_open_fails(void **state)
{
	(void)state;
	errno = 0;
	assert_null(observation_writer_open("/nonexistent-dir/obs.jsonl", OBS_FORMAT_JSONL, 0));
	assert_int_equal(errno, ENOENT);
	errno = 0;
	assert_null(observation_writer_open("/nonexistent-dir/obs.txt", OBS_FORMAT_TEXT, 1));
	assert_int_equal(errno, ENOENT);
	assert_int_equal(observation_writer_close(NULL), 0);
}

/*
 * Packing for the writer thread: an observation with every pointer field set
 * comes back from its packed copy field for field, and writes the same line.
 */
static void test_pack_round_trip(void **state)
{
	(void)state;
	static const struct observation_dns_record records[] = {
		{ "a.example", "b.example", 5, 30, 0 },
		{ "b.example", "", 65, 40, 1 },
		{ "b.example", "192.0.2.1", 1, 50, 0 },
	};
	static const char *const chain[] = { "a.example", "b.example" };
	struct observation obs[2];
	obs[0] = dns_obs();
	obs[0].kind = OBS_DNS_ANSWER;
	obs[0].dns_answers = records;
	obs[0].dns_answer_count = 3;
	obs[0].dns_chain = chain;
	obs[0].dns_chain_count = 2;
	obs[1] = http_obs();
	obs[1].http_referer = "https://news.example/";
	obs[1].http_origin = "https://news.example";
	obs[1].http_user_agent = "curl/7.88";
	obs[1].http_content_type = "text/plain";
	obs[1].cookie = "a=1";
	obs[1].resolved = "cdn.example";
	obs[1].tls_alpn = "h2";
	for (int i = 0; i < 2; i++) {
		size_t size = observation_packed_size(&obs[i]);
		assert_int_equal(size % 8, 0);
		uint64_t *block = malloc(size);
		assert_non_null(block);
		/* Poison, so that a byte the packer forgot shows. */
		memset(block, 0xa5, size);
		observation_pack(&obs[i], block);
		const struct observation *copy = observation_unpack(block);
		assert_string_equal(copy->host, obs[i].host);
		assert_int_equal(copy->dns_answer_count, obs[i].dns_answer_count);
		for (size_t r = 0; r < copy->dns_answer_count; r++) {
			assert_ptr_not_equal(copy->dns_answers[r].name, records[r].name);
			assert_string_equal(copy->dns_answers[r].name, records[r].name);
			assert_string_equal(copy->dns_answers[r].data, records[r].data);
			assert_int_equal(copy->dns_answers[r].ech, records[r].ech);
		}
		for (size_t c = 0; c < copy->dns_chain_count; c++)
			assert_string_equal(copy->dns_chain[c], chain[c]);
		if (obs[i].http_path)
			assert_string_equal(copy->http_path, obs[i].http_path);
		const char *const want_strings[] = {
			obs[i].http_referer, obs[i].http_origin, obs[i].http_user_agent,
			obs[i].http_content_type, obs[i].cookie, obs[i].resolved, obs[i].tls_alpn,
		};
		const char *const got_strings[] = {
			copy->http_referer, copy->http_origin, copy->http_user_agent,
			copy->http_content_type, copy->cookie, copy->resolved, copy->tls_alpn,
		};
		for (size_t k = 0; k < sizeof want_strings / sizeof want_strings[0]; k++) {
			if (!want_strings[k]) {
				assert_null(got_strings[k]);
				continue;
			}
			assert_ptr_not_equal(got_strings[k], want_strings[k]);
			assert_string_equal(got_strings[k], want_strings[k]);
		}
		char *want = write_all(OBS_FORMAT_JSONL, &obs[i], 1);
		char *got = write_all(OBS_FORMAT_JSONL, copy, 1);
		assert_string_equal(got, want);
		free(want);
		free(got);
		free(block);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kind_names),
		cmocka_unit_test(test_jsonl_http_fields),
		cmocka_unit_test(test_nul_in_values),
		cmocka_unit_test(test_escape_printable_unchanged),
		cmocka_unit_test(test_escape_non_printable),
		cmocka_unit_test(test_addr_and_mac_text),
		cmocka_unit_test(test_jsonl_tls_ipv4),
		cmocka_unit_test(test_jsonl_dns_ipv6),
		cmocka_unit_test(test_jsonl_http_request),
		cmocka_unit_test(test_jsonl_method_only_for_http),
		cmocka_unit_test(test_jsonl_optional_fields_per_line),
		cmocka_unit_test(test_jsonl_ts),
		cmocka_unit_test(test_jsonl_hostile_host),
		cmocka_unit_test(test_text_lines),
		cmocka_unit_test(test_writer_open_fails),
		cmocka_unit_test(test_pack_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
