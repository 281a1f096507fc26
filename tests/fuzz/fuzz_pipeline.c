/*
 * libFuzzer harness for the whole pipeline (decode, flow table, nDPI,
 * observations to a null sink): the input is a series of frames, each a
 * 2-byte length and that many bytes of raw IP, all on one flow table so that
 * flows build up across frames as on the wire.
 *
 * Identifiers are hashed with a fixed key, as the daemon does by default
 * (without --keep-identifiers). The sink reads every string an observation
 * carries, so that ASan sees one that points at freed or cut memory (a value
 * with a length in text_len[] to its length, which must hold a NUL and end
 * at one: it aborts otherwise). After every flow has ended, no out-of-order
 * segment may still be charged to the reassembly's bound (it aborts otherwise).
 *
 * The readers' bound is 6 KiB and the waiting segments' 4 KiB (32 MiB each
 * in the daemon), so that inputs reach them; frames are 1 ms apart, and an
 * empty frame stands for 1.1 s of silence, after which idle readers may be
 * given up for room.
 *
 * The pipeline, its DNS cache and its nDPI engine outlive one input (making
 * them is slow): a name cached from one input's DNS answer may attribute a
 * later input's flows (the cache's placement is seeded, the same in every run).
 *
 * TLS decryption is on (a key log of one connection, as if still growing):
 * after every flow has ended, every decryptor made has been counted as ended
 * (it aborts otherwise).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../daemon/decrypt.h"
#include "../../daemon/identifiers.h"
#include "../../daemon/pipeline.h"
#include "../../dissectors/keylog.h"

/*
 * A key log of one connection (tests/data/keylog/illustrated-tls13.keys, MIT),
 * taken as if it were still growing, as live capture does: every TLS flow gets
 * a decryptor; one whose client random is this one is decrypted (the seed
 * illustrated-tls13 is that connection as raw IP frames), the others wait for
 * a key and are given up.
 */
static const char fuzz_keys[] =
	"SERVER_HANDSHAKE_TRAFFIC_SECRET 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f 23323da031634b241dd37d61032b62a4f450584d1f7f47983ba2f7cc0cdcc39a68f481f2b019f9403a3051908a5d1622\n"
	"CLIENT_HANDSHAKE_TRAFFIC_SECRET 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f db89d2d6df0e84fed74a2288f8fd4d0959f790ff23946cdf4c26d85e51bebd42ae184501972f8d30c4a3e4a3693d0ef0\n"
	"EXPORTER_SECRET 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f 5da16dd8325dd8279e4535363384d9ad0dbe370538fc3ad74e53d533b77ac35ee072d56c90871344e6857ccb2efc9e14\n"
	"SERVER_TRAFFIC_SECRET_0 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f 86c967fd7747a36a0685b4ed8d0e6b4c02b4ddaf3cd294aa44e9f6b0183bf911e89a189ba5dfd71fccffb5cc164901f8\n"
	"CLIENT_TRAFFIC_SECRET_0 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f 9e47af27cb60d818a9ea7d233cb5ed4cc525fcd74614fb24b0ee59acb8e5aa7ff8d88b89792114208fec291a6fa96bad\n"
;

static void touch(const char *s, volatile size_t *n)
{
	if (s)
		*n += strlen(s);
}

static int sink(void *context, const struct observation *obs)
{
	(void)context;
	/* Touch what a writer reads. */
	if (!memchr(obs->host, '\0', sizeof obs->host) || !memchr(obs->app, '\0', sizeof obs->app))
		abort(); /* host or app not terminated within its array */
	volatile size_t n = strlen(obs->host) + strlen(obs->app);
	touch(obs->http_method, &n);
	touch(obs->http_path, &n);
	touch(obs->http_referer, &n);
	touch(obs->http_origin, &n);
	touch(obs->http_user_agent, &n);
	touch(obs->http_content_type, &n);
	touch(obs->cookie, &n);
	touch(obs->tls_alpn, &n);
	touch(obs->resolved, &n);
	/* A value with NUL bytes says its length: all of it readable, a NUL after it. */
	const char *texts[OBS_TEXT_COUNT] = {
		[OBS_TEXT_PATH] = obs->http_path, [OBS_TEXT_REFERER] = obs->http_referer,
		[OBS_TEXT_ORIGIN] = obs->http_origin, [OBS_TEXT_USER_AGENT] = obs->http_user_agent,
		[OBS_TEXT_CONTENT_TYPE] = obs->http_content_type, [OBS_TEXT_COOKIE] = obs->cookie,
	};
	for (size_t i = 0; i < OBS_TEXT_COUNT; i++) {
		if (!obs->text_len[i])
			continue;
		if (!texts[i] || texts[i][obs->text_len[i]] != '\0' ||
		    !memchr(texts[i], '\0', obs->text_len[i]))
			abort();
		for (size_t k = 0; k < obs->text_len[i]; k++)
			n += (unsigned char)texts[i][k];
	}
	for (size_t i = 0; i < obs->tls_version_count; i++)
		n += obs->tls_versions[i];
	for (size_t i = 0; i < obs->dns_answer_count; i++) {
		touch(obs->dns_answers[i].name, &n);
		touch(obs->dns_answers[i].data, &n);
	}
	for (size_t i = 0; i < obs->dns_chain_count; i++)
		touch(obs->dns_chain[i], &n);
	(void)n;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pipeline *pipeline;
	static struct ident_key key;
	if (!pipeline) {
		static const char secret[] = "fuzz_pipeline identifier key";
		if (ident_key_set(&key, secret, sizeof secret - 1) != 0)
			abort();
		struct pipeline_config config;
		pipeline_config_defaults(&config);
		config.flows.max_flows = 64;
		config.identifier_key = &key;
		config.dns_cache_seed = 1; /* the same placement in every run */
		/* Bounds an input of 4 KiB can reach: what happens at them is fuzzed too. */
		config.max_reader_bytes = 6 * 1024;
		config.max_pending_bytes = 4 * 1024;
		static struct keylog *keylog;
		keylog = keylog_new();
		if (!keylog || keylog_add_text(keylog, fuzz_keys, sizeof fuzz_keys - 1, "fuzz", 1) == 0)
			abort();
		config.keylog = keylog;
		config.keylog_grows = 1;
		pipeline = pipeline_new(&config, sink, NULL);
		if (!pipeline)
			abort();
	}
	uint64_t ts = 1700000000ULL * 1000000;
	size_t offset = 0;
	while (offset + 2 <= size) {
		size_t len = (size_t)data[offset] << 8 | data[offset + 1];
		offset += 2;
		if (len > size - offset)
			len = size - offset;
		uint8_t *frame = malloc(len ? len : 1);
		if (!frame)
			abort();
		memcpy(frame, data + offset, len);
		pipeline_packet(pipeline, 12 /* raw IP */, ts, frame, len, len);
		free(frame);
		offset += len;
		/* 1 ms between frames; an empty frame is 1.1 s of silence, so readers left
		 * idle can be given up for room (make_room()). */
		ts += len ? 1000 : 1100000;
	}
	/* End every flow: nDPI state is freed, names still pending are emitted. */
	pipeline_flush(pipeline);
	/* With every stream freed, nothing waits out of order (reassembly.h lays the struct out). */
	const struct tcp_reassembly *reassembly =
		(const struct tcp_reassembly *)((const char *)pipeline_reassembly_stats(pipeline) -
						offsetof(struct tcp_reassembly, stats));
	if (reassembly->total_pending != 0)
		abort();
	/* Every decryptor made has ended with its flow (ends[] counts them as they are freed). */
	const struct decrypt_stats *t = pipeline_decrypt_stats(pipeline);
	uint64_t ended = 0;
	for (int i = 0; i < TLSDEC_END_COUNT; i++)
		ended += t->ends[i];
	if (ended != t->connections)
		abort();
	return 0;
}
