/*
 * observation: writers for observations, as JSON lines (jansson does the
 * escaping) or as one line of text per observation for people, with every
 * byte from the wire that is not printable ASCII shown as \xNN.
 */
#include "observation.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

static const char *const kind_names[OBS_KIND_COUNT] = {
	[OBS_DNS_QUERY] = "dns_query",
	[OBS_DNS_ANSWER] = "dns_answer",
	[OBS_MDNS_QUERY] = "mdns_query",
	[OBS_LLMNR_QUERY] = "llmnr_query",
	[OBS_TLS_SNI] = "tls_sni",
	[OBS_DTLS_SNI] = "dtls_sni",
	[OBS_QUIC_SNI] = "quic_sni",
	[OBS_HTTP_REQUEST] = "http_request",
	[OBS_DHCP_HOSTNAME] = "dhcp_hostname",
	[OBS_NETBIOS_NAME] = "netbios_name",
	[OBS_STUN_REALM] = "stun_realm",
	[OBS_OTHER_NAME] = "other_name",
};

const char *observation_kind_name(enum observation_kind kind)
{
	if ((unsigned)kind >= OBS_KIND_COUNT)
		return "unknown";
	return kind_names[kind];
}

struct observation_writer {
	FILE *out;
	int owned; /* we opened it, we close it */
	enum observation_format format;
	int line_buffered;
	int failed;
	char *line;       /* one JSON line, reused: one write per observation */
	size_t line_cap;
};

struct observation_writer *observation_writer_open(const char *path,
						   enum observation_format format,
						   int line_buffered)
{
	struct observation_writer *writer = calloc(1, sizeof *writer);
	if (!writer)
		return NULL;
	if (strcmp(path, "-") == 0) {
		writer->out = stdout;
	} else {
		writer->out = fopen(path, "w");
		if (!writer->out) {
			int saved = errno;
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
	if (!inet_ntop(ip_version == 6 ? AF_INET6 : AF_INET, addr, buf, (socklen_t)len))
		snprintf(buf, len, "?");
}

void observation_mac_text(const uint8_t mac[6], char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
		 mac[4], mac[5]);
}

/*
 * Bytes from the wire, made safe for a terminal and for JSON: printable ASCII
 * stays, anything else (controls, space, DEL, bytes of 0x80 and above, and the
 * backslash itself) becomes \xNN, as Zeek writes its logs. Returns a string
 * the caller frees, or NULL when out of memory.
 */
char *observation_escape(const char *in)
{
	size_t len = strlen(in);
	char *out = malloc(len * 4 + 1);
	if (!out)
		return NULL;
	char *o = out;
	for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
		if (*p >= 0x21 && *p < 0x7f && *p != '\\') {
			*o++ = (char)*p;
		} else {
			static const char hex[] = "0123456789abcdef";
			*o++ = '\\';
			*o++ = 'x';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		}
	}
	*o = '\0';
	return out;
}

/* Sets key to the escaped wire string; returns -1 when out of memory. */
static int set_wire_string(json_t *o, const char *key, const char *value)
{
	char *escaped = observation_escape(value);
	if (!escaped)
		return -1;
	int rc = json_object_set_new(o, key, json_string(escaped));
	free(escaped);
	return rc;
}

static int write_jsonl(struct observation_writer *writer, const struct observation *obs)
{
	char client[INET6_ADDRSTRLEN], server[INET6_ADDRSTRLEN], mac[18];
	observation_addr_text(obs->ip_version, obs->client_addr, client, sizeof client);
	observation_addr_text(obs->ip_version, obs->server_addr, server, sizeof server);

	json_t *o = json_object();
	if (!o)
		return -1;
	/* Microsecond precision: 16 significant digits cover 10 + 6. */
	json_object_set_new(o, "ts", json_real((double)(obs->ts_us / 1000000) +
					      (double)(obs->ts_us % 1000000) / 1e6));
	json_object_set_new(o, "kind", json_string(observation_kind_name(obs->kind)));
	int rc = set_wire_string(o, "host", obs->host);
	json_object_set_new(o, "client", json_string(client));
	json_object_set_new(o, "server", json_string(server));
	if (obs->has_client_mac) {
		observation_mac_text(obs->client_mac, mac, sizeof mac);
		json_object_set_new(o, "client_mac", json_string(mac));
	}
	json_object_set_new(o, "proto", json_string(obs->l4_proto == 6 ? "tcp" : "udp"));
	json_object_set_new(o, "sport", json_integer(obs->client_port));
	json_object_set_new(o, "dport", json_integer(obs->server_port));
	json_object_set_new(o, "app", json_string(obs->app));
	json_object_set_new(o, "flow", json_integer((json_int_t)obs->flow_id));
	if (obs->kind == OBS_DNS_QUERY || obs->kind == OBS_DNS_ANSWER || obs->kind == OBS_MDNS_QUERY ||
	    obs->kind == OBS_LLMNR_QUERY)
		json_object_set_new(o, "qtype", json_integer(obs->dns_qtype));
	if (obs->kind == OBS_HTTP_REQUEST) {
		if (obs->http_method)
			json_object_set_new(o, "method", json_string(obs->http_method));
		if (obs->http_path && rc == 0)
			rc = set_wire_string(o, "path", obs->http_path);
	}
	size_t len = 0;
	if (rc == 0) {
		const size_t flags = JSON_COMPACT | JSON_REAL_PRECISION(16);
		len = json_dumpb(o, writer->line, writer->line_cap, flags);
		if (len + 1 > writer->line_cap) {
			size_t cap = len + 1 > 2 * writer->line_cap ? len + 1 : 2 * writer->line_cap;
			char *line = realloc(writer->line, cap);
			if (line) {
				writer->line = line;
				writer->line_cap = cap;
				len = json_dumpb(o, writer->line, writer->line_cap, flags);
			} else {
				rc = -1;
			}
		}
		if (len == 0)
			rc = -1;
	}
	json_decref(o);
	if (rc != 0)
		return -1;
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
	if (obs->kind == OBS_HTTP_REQUEST && obs->http_method) {
		char *path = observation_escape(obs->http_path ? obs->http_path : "-");
		if (!path)
			return -1;
		fprintf(writer->out, " %s %s", obs->http_method, path);
		free(path);
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
	free(writer->line);
	free(writer);
	return rc;
}
