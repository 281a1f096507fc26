/*
 * libFuzzer harness for decode_packet(): the first byte picks a link type,
 * the second says whether the capture was snapped, the rest is the frame.
 * Besides ASan's checks, it aborts if a decoded packet points outside the frame.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../daemon/decode.h"

static const int linktypes[] = {
	DECODE_DLT_EN10MB, DECODE_DLT_LINUX_SLL, DECODE_DLT_LINUX_SLL2, DECODE_DLT_RAW,
	DECODE_DLT_RAW_BSD, DECODE_DLT_IPV4, DECODE_DLT_IPV6, DECODE_DLT_NULL, DECODE_DLT_LOOP,
	147, /* a link type we do not decode */
};

static int inside(const uint8_t *p, size_t len, const uint8_t *base, size_t base_len)
{
	return p >= base && p <= base + base_len && len <= (size_t)(base + base_len - p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	int dlt = linktypes[data[0] % (sizeof linktypes / sizeof linktypes[0])];
	size_t extra = data[1] & 0x80 ? (size_t)(data[1] & 0x7f) + 1 : 0;
	size_t caplen = size - 2;
	/* A copy of exactly caplen bytes, so ASan sees any read past the frame. */
	uint8_t *frame = malloc(caplen ? caplen : 1);
	if (!frame)
		return 0;
	memcpy(frame, data + 2, caplen);
	struct decoded_packet packet;
	enum decode_result result = decode_packet(dlt, frame, caplen, caplen + extra, &packet);
	if ((unsigned)result >= DECODE_RESULT_COUNT)
		abort();
	if (result == DECODE_OK) {
		if (!inside(packet.l3, packet.l3_len, frame, caplen) ||
		    !inside(packet.payload, packet.payload_len, packet.l3, packet.l3_len) ||
		    (packet.ip_version != 4 && packet.ip_version != 6) ||
		    (packet.l4_proto != 6 && packet.l4_proto != 17))
			abort();
		volatile uint8_t sum = 0;
		for (size_t i = 0; i < packet.payload_len; i++)
			sum ^= packet.payload[i];
		(void)sum;
	}
	free(frame);
	return 0;
}
