/*
 * libFuzzer harness for the whole pipeline (decode, flow table, nDPI,
 * observations to a null sink): the input is a series of frames, each a
 * 2-byte length and that many bytes of raw IP, all on one flow table so that
 * flows build up across frames as on the wire.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../daemon/pipeline.h"

static int sink(void *context, const struct observation *obs)
{
	(void)context;
	/* Touch what a writer reads. */
	volatile size_t n = strlen(obs->host) + strlen(obs->app);
	if (obs->http_path)
		n += strlen(obs->http_path);
	(void)n;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pipeline *pipeline;
	if (!pipeline) {
		struct pipeline_config config;
		pipeline_config_defaults(&config);
		config.flows.max_flows = 64;
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
		ts += 1000;
	}
	/* End every flow: nDPI state is freed, names still pending are emitted. */
	pipeline_flush(pipeline);
	return 0;
}
