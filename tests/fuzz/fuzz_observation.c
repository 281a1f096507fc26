/*
 * libFuzzer harness for daemon/observation.c: the writers (JSON lines and
 * text) and the packing that hands an observation to the writer thread.
 * The input makes one observation: its first bytes pick the kind, flags and
 * numbers; the rest is cut into its strings at 0xff bytes (any other byte,
 * NUL included, is string content: a string holding a NUL gets its length
 * in text_len[] where the observation has one). DNS answer records and
 * chain names come from the same pieces.
 *
 * The text writer writes it to /dev/null; the JSON writer writes it, and its
 * packed and unpacked copy, to a file that is read back (the writers open a
 * path): the copy's line must equal the original's, and each must be one
 * line that parses as one JSON object (jansson), or the harness aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "../../daemon/observation.h"

enum { PIECES_MAX = 24, RECORDS_MAX = 8 };

struct pieces {
	char *text[PIECES_MAX];
	size_t len[PIECES_MAX];
	size_t count;
};

/* Cuts `data` at 0xff bytes into NUL-terminated heap copies. */
static void cut(const uint8_t *data, size_t size, struct pieces *p)
{
	p->count = 0;
	size_t start = 0;
	for (size_t i = 0; i <= size && p->count < PIECES_MAX; i++) {
		if (i < size && data[i] != 0xff)
			continue;
		size_t len = i - start;
		char *copy = malloc(len + 1);
		if (!copy)
			abort();
		memcpy(copy, data + start, len);
		copy[len] = '\0';
		p->text[p->count] = copy;
		p->len[p->count] = len;
		p->count++;
		start = i + 1;
	}
}

/* The i-th piece, or NULL when there are fewer. */
static const char *piece(const struct pieces *p, size_t i)
{
	return i < p->count ? p->text[i] : NULL;
}

/* Sets a header value and, when it holds a NUL, its length. */
static const char *text_piece(const struct pieces *p, size_t i, struct observation *obs,
			      enum observation_text field)
{
	if (i >= p->count)
		return NULL;
	if (memchr(p->text[i], '\0', p->len[i]))
		obs->text_len[field] = (uint32_t)p->len[i];
	return p->text[i];
}

/* Writes one JSON line to `path` and reads it back; the caller frees it. */
static char *json_line(const char *path, const struct observation *obs)
{
	struct observation_writer *w = observation_writer_open(path, OBS_FORMAT_JSONL, 0);
	if (!w)
		abort();
	if (observation_write(w, obs) != 0 || observation_writer_close(w) != 0)
		abort();
	FILE *f = fopen(path, "rb");
	if (!f)
		abort();
	char *line = NULL;
	size_t cap = 0;
	ssize_t len = getline(&line, &cap, f);
	if (len <= 0 || line[len - 1] != '\n' || getc(f) != EOF)
		abort(); /* one line, ended */
	fclose(f);
	unlink(path); /* nothing is left behind, however the run ends */
	json_error_t error;
	json_t *parsed = json_loads(line, 0, &error);
	if (!json_is_object(parsed))
		abort();
	json_decref(parsed);
	return line;
}

static char path[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!path[0]) {
		snprintf(path, sizeof path, "/tmp/fuzz_observation.%d", (int)getpid());
	}
	if (size < 8)
		return 0;
	struct observation obs;
	memset(&obs, 0, sizeof obs);
	obs.kind = (enum observation_kind)(data[0] % (OBS_KIND_COUNT + 1)); /* one past: "unknown" */
	obs.ts_us = (uint64_t)data[1] << 40 | (uint64_t)data[2] << 8;
	obs.ip_version = data[3] & 1 ? 6 : 4;
	obs.l4_proto = data[3] & 2 ? 6 : 17;
	obs.has_client_mac = (data[3] >> 2) & 1;
	obs.tls_ech = (data[3] >> 3) & 1;
	obs.client_port = (uint16_t)(data[4] << 8 | data[5]);
	obs.server_port = (uint16_t)(data[5] << 8 | data[4]);
	obs.http_status = data[6] & 1 ? (uint16_t)(data[6] * 4) : 0;
	obs.dns_rcode = data[7] & 15;
	obs.tls_version = (uint16_t)(0x0300 + (data[7] >> 4));
	obs.tls_cipher = (uint16_t)(data[6] << 8 | data[7]);
	memset(obs.client_addr, data[4], sizeof obs.client_addr);
	memset(obs.server_addr, data[5], sizeof obs.server_addr);
	memset(obs.client_mac, data[6], sizeof obs.client_mac);

	struct pieces p;
	cut(data + 8, size - 8, &p);
	/* host and app are arrays: cut to fit, always terminated. */
	snprintf(obs.host, sizeof obs.host, "%s", piece(&p, 0) ? piece(&p, 0) : "");
	snprintf(obs.app, sizeof obs.app, "%s", piece(&p, 1) ? piece(&p, 1) : "");
	obs.http_method = piece(&p, 2);
	obs.http_path = text_piece(&p, 3, &obs, OBS_TEXT_PATH);
	obs.http_referer = text_piece(&p, 4, &obs, OBS_TEXT_REFERER);
	obs.http_origin = text_piece(&p, 5, &obs, OBS_TEXT_ORIGIN);
	obs.http_user_agent = text_piece(&p, 6, &obs, OBS_TEXT_USER_AGENT);
	obs.http_content_type = text_piece(&p, 7, &obs, OBS_TEXT_CONTENT_TYPE);
	obs.cookie = text_piece(&p, 8, &obs, OBS_TEXT_COOKIE);
	obs.tls_alpn = piece(&p, 9);
	obs.resolved = piece(&p, 10);
	uint16_t versions[4] = { 0x0304, 0x0303, (uint16_t)(data[1] << 8 | data[2]), 0x7f1c };
	obs.tls_versions = versions;
	obs.tls_version_count = data[1] % 5;
	obs.dns_qtype = (uint16_t)(data[2] << 8 | data[1]);
	struct observation_dns_record records[RECORDS_MAX];
	size_t records_count = 0;
	for (size_t i = 11; i + 1 < p.count && records_count < RECORDS_MAX; i += 2) {
		struct observation_dns_record *r = &records[records_count++];
		r->name = p.text[i];
		r->data = p.text[i + 1];
		r->type = (uint16_t)(p.len[i] * 7);
		r->ttl = (uint32_t)p.len[i + 1] * 1000;
		r->ech = p.len[i] & 1;
	}
	obs.dns_answers = records;
	obs.dns_answer_count = (uint16_t)records_count;
	const char *chain[4] = { piece(&p, 11), piece(&p, 13), piece(&p, 15), piece(&p, 17) };
	size_t chain_count = 0;
	while (chain_count < 4 && chain[chain_count])
		chain_count++;
	obs.dns_chain = chain;
	obs.dns_chain_count = (uint8_t)chain_count;

	/* The text writer, to nowhere: sanitizers watch what it reads. */
	struct observation_writer *text = observation_writer_open("/dev/null", OBS_FORMAT_TEXT, 0);
	if (!text || observation_write(text, &obs) != 0 || observation_writer_close(text) != 0)
		abort();

	/* Packed and unpacked, the observation writes the same line. */
	size_t packed_size = observation_packed_size(&obs);
	if (packed_size % 8)
		abort();
	uint64_t *block = malloc(packed_size);
	if (!block)
		abort();
	memset(block, 0xa5, packed_size);
	observation_pack(&obs, block);
	const struct observation *copy = observation_unpack(block);
	char *want = json_line(path, &obs);
	char *got = json_line(path, copy);
	if (strcmp(want, got) != 0)
		abort();
	free(want);
	free(got);
	free(block);
	for (size_t i = 0; i < p.count; i++)
		free(p.text[i]);
	return 0;
}
