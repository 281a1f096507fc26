/*
 * libFuzzer harness for dns_parse() and dns_read_name(): the input is one DNS
 * message. Besides ASan's and UBSan's checks, it aborts if a delivered record
 * breaks what dns.h promises: texts that end within DNS_NAME_TEXT_MAX, an
 * address length of 0, 4 or 16 that fits the type, a section in range and in
 * order, no more records than the header counts, and a known error.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../dissectors/dns.h"

struct check {
	size_t records;
	enum dns_section last_section;
};

static void check_text(const char *text)
{
	const char *end = memchr(text, '\0', DNS_NAME_TEXT_MAX);
	if (!end)
		abort();
	/* Escapes are whole: every backslash starts a \DDD of digits. */
	for (const char *p = text; p < end; p++) {
		if (*p != '\\')
			continue;
		if (end - p < 4 || p[1] < '0' || p[1] > '2' || p[2] < '0' || p[2] > '9' ||
		    p[3] < '0' || p[3] > '9')
			abort();
		p += 3;
	}
}

static int on_record(void *context, const struct dns_header *header,
		     const struct dns_record *record)
{
	struct check *c = context;
	if (record->section < DNS_QUESTION || record->section > DNS_ADDITIONAL ||
	    record->section < c->last_section)
		abort();
	c->last_section = record->section;
	c->records++;
	unsigned long counted = 0;
	for (int i = 0; i < 4; i++)
		counted += header->counts[i];
	if (c->records > counted)
		abort();
	check_text(record->name);
	check_text(record->target);
	if (record->addr_len != 0 && record->addr_len != 4 && record->addr_len != 16)
		abort();
	if ((record->addr_len == 4 && record->type != DNS_TYPE_A) ||
	    (record->addr_len == 16 && record->type != DNS_TYPE_AAAA))
		abort();
	if (record->class & 0x8000)
		abort();
	if (record->section == DNS_QUESTION &&
	    (record->ttl != 0 || record->rdata_len != 0 || record->addr_len != 0 ||
	     record->target[0] != '\0'))
		abort();
	if (record->svc_has_alpn > 1 || record->svc_has_ech > 1)
		abort();
	/* Touch the whole of both texts so ASan sees them. */
	volatile size_t sum = strlen(record->name) + strlen(record->target);
	(void)sum;
	return 0;
}

struct tcp_total {
	size_t messages;
	size_t bytes;
};

static void on_tcp_message(void *context, const uint8_t *message, size_t len)
{
	struct tcp_total *total = context;
	if (len == 0 || len > 65535)
		abort();
	struct dns_header header;
	static struct dns_record record;
	dns_parse(message, len, &header, &record, NULL, NULL);
	total->messages++;
	total->bytes += len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A copy of exactly `size` bytes, so that ASan sees any read past the message. */
	uint8_t *message = malloc(size ? size : 1);
	static struct dns_record record;
	if (!message)
		return 0;
	memcpy(message, data, size);

	struct dns_header header;
	struct check check = { 0, DNS_QUESTION };
	enum dns_error error = dns_parse(message, size, &header, &record, on_record, &check);
	if (error > DNS_OK || error < DNS_ERR_BAD_RDATA)
		abort();
	if ((error == DNS_ERR_SHORT_HEADER) != (size < DNS_HEADER_LEN))
		abort();
	if (error == DNS_ERR_SHORT_HEADER && check.records != 0)
		abort();
	if (error == DNS_OK) {
		unsigned long counted = 0;
		for (int i = 0; i < 4; i++)
			counted += header.counts[i];
		if (check.records != counted)
			abort();
	}

	if (size > DNS_HEADER_LEN) {
		char text[DNS_NAME_TEXT_MAX];
		size_t next = 0;
		error = dns_read_name(message, size, DNS_HEADER_LEN, text, &next);
		if (error > DNS_OK || error < DNS_ERR_BAD_RDATA || error == DNS_ERR_SHORT_HEADER ||
		    error == DNS_ERR_BAD_RDATA)
			abort();
		if (error == DNS_OK) {
			check_text(text);
			/* Just past the name where it is: at least one byte, at most the message. */
			if (next <= DNS_HEADER_LEN || next > size)
				abort();
		}
	}
	free(message);

	/*
	 * The same bytes as a DNS-over-TCP stream, in two chunks cut where the
	 * first byte says: every message delivered is whole, and parses safely.
	 */
	struct dns_tcp_reader reader;
	dns_tcp_reader_init(&reader);
	size_t cut = size ? data[0] % (size + 1) : 0;
	struct tcp_total total = { 0 };
	if (dns_tcp_reader_feed(&reader, data, cut, on_tcp_message, &total) != 0 ||
	    dns_tcp_reader_feed(&reader, data + cut, size - cut, on_tcp_message, &total) != 0)
		abort();
	/* Each message costs its 2-byte length: never more delivered than was fed. */
	if (total.bytes + 2 * total.messages > size)
		abort();
	dns_tcp_reader_free(&reader);
	return 0;
}
