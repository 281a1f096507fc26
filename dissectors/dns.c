/*
 * dns: DNS messages, read with a bound on every step. Names are decoded to
 * text with compression pointers that must each point before the previous
 * one (so a chain always ends), at most DNS_MAX_POINTERS of them, and at most
 * 255 octets in all (RFC 1035 3.1). A label byte that would make the text
 * ambiguous (a dot, a backslash) or that is not printable is written \DDD.
 */
#include "dns.h"

#include <stdlib.h>
#include <string.h>

static const char *const error_names[] = {
	"ok", "short_header", "truncated", "bad_label", "bad_pointer", "pointer_loop",
	"name_too_long", "bad_rdata",
};

const char *dns_error_name(enum dns_error error)
{
	unsigned index = (unsigned)-error;
	if (error > 0 || index >= sizeof error_names / sizeof error_names[0])
		return "unknown";
	return error_names[index];
}

const char *dns_type_name(uint16_t type)
{
	switch (type) {
	case DNS_TYPE_A: return "A";
	case DNS_TYPE_NS: return "NS";
	case DNS_TYPE_CNAME: return "CNAME";
	case 6: return "SOA";
	case DNS_TYPE_PTR: return "PTR";
	case 15: return "MX";
	case 16: return "TXT";
	case DNS_TYPE_AAAA: return "AAAA";
	case 33: return "SRV";
	case DNS_TYPE_OPT: return "OPT";
	case DNS_TYPE_SVCB: return "SVCB";
	case DNS_TYPE_HTTPS: return "HTTPS";
	case 255: return "ANY";
	default: return NULL;
	}
}

static inline uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static enum dns_error read_name(const uint8_t *message, size_t len, size_t offset, char *text,
				 size_t *next)
{
	char *out = text;
	char *const out_end = text + DNS_NAME_TEXT_MAX - 1;
	size_t pos = offset;
	size_t pointer_limit = offset; /* the next pointer must point before this */
	size_t wire_len = 0;
	int pointers = 0;
	int jumped = 0;

	*text = '\0';
	for (;;) {
		if (pos >= len)
			return DNS_ERR_TRUNCATED;
		uint8_t label = message[pos];
		if ((label & 0xc0) == 0xc0) {
			if (pos + 1 >= len)
				return DNS_ERR_TRUNCATED;
			size_t target = (size_t)(label & 0x3f) << 8 | message[pos + 1];
			if (!jumped) {
				*next = pos + 2;
				jumped = 1;
			}
			if (target >= pointer_limit)
				return DNS_ERR_BAD_POINTER;
			if (++pointers > DNS_MAX_POINTERS)
				return DNS_ERR_POINTER_LOOP;
			pointer_limit = target;
			pos = target;
			continue;
		}
		if (label & 0xc0)
			return DNS_ERR_BAD_LABEL;
		if (label == 0) {
			if (!jumped)
				*next = pos + 1;
			break;
		}
		/* The wire form, counting length octets and the final zero, is at most 255. */
		wire_len += (size_t)label + 1;
		if (wire_len + 1 > 255)
			return DNS_ERR_NAME_TOO_LONG;
		if (label > len - pos - 1)
			return DNS_ERR_TRUNCATED;
		if (out != text)
			*out++ = '.';
		for (size_t i = 1; i <= label; i++) {
			uint8_t c = message[pos + i];
			/* 4 * 255 < DNS_NAME_TEXT_MAX: the checks below never fire on valid bounds. */
			if (c > 0x20 && c < 0x7f && c != '.' && c != '\\') {
				if (out >= out_end)
					return DNS_ERR_NAME_TOO_LONG;
				*out++ = (char)c;
			} else {
				if (out_end - out < 4)
					return DNS_ERR_NAME_TOO_LONG;
				*out++ = '\\';
				*out++ = (char)('0' + c / 100);
				*out++ = (char)('0' + c / 10 % 10);
				*out++ = (char)('0' + c % 10);
			}
		}
		pos += (size_t)label + 1;
	}
	*out = '\0';
	return DNS_OK;
}

enum dns_error dns_read_name(const uint8_t *message, size_t len, size_t offset, char *text,
			     size_t *next)
{
	enum dns_error error = read_name(message, len, offset, text, next);
	if (error != DNS_OK)
		*text = '\0'; /* no half names */
	return error;
}

/*
 * SVCB/HTTPS record data (RFC 9460 2.2): priority, target name, then
 * key-value parameters in increasing key order. Key 1 is alpn, key 5 ech.
 */
static enum dns_error parse_svcb(const uint8_t *message, size_t len, size_t start,
				 size_t end, struct dns_record *record)
{
	if (end - start < 3)
		return DNS_ERR_BAD_RDATA;
	record->svc_priority = get_be16(message + start);
	size_t pos;
	enum dns_error error = dns_read_name(message, len, start + 2, record->target, &pos);
	if (error != DNS_OK)
		return error;
	if (pos > end)
		return DNS_ERR_BAD_RDATA;
	while (pos < end) {
		if (end - pos < 4)
			return DNS_ERR_BAD_RDATA;
		uint16_t key = get_be16(message + pos);
		size_t value_len = get_be16(message + pos + 2);
		if (value_len > end - pos - 4)
			return DNS_ERR_BAD_RDATA;
		if (key == 1)
			record->svc_has_alpn = 1;
		else if (key == 5)
			record->svc_has_ech = 1;
		pos += 4 + value_len;
	}
	return DNS_OK;
}

/* Decodes the data of the types we know; `start`..`end` bound the rdata. */
static enum dns_error parse_rdata(const uint8_t *message, size_t len, size_t start, size_t end,
				  struct dns_record *record)
{
	size_t rdlen = end - start;
	switch (record->type) {
	case DNS_TYPE_A:
	case DNS_TYPE_AAAA: {
		size_t want = record->type == DNS_TYPE_A ? 4 : 16;
		if (rdlen != want)
			return DNS_ERR_BAD_RDATA;
		memcpy(record->addr, message + start, want);
		record->addr_len = (uint8_t)want;
		return DNS_OK;
	}
	case DNS_TYPE_CNAME:
	case DNS_TYPE_NS:
	case DNS_TYPE_PTR: {
		size_t next;
		enum dns_error error = dns_read_name(message, len, start, record->target, &next);
		if (error != DNS_OK)
			return error;
		return next <= end ? DNS_OK : DNS_ERR_BAD_RDATA;
	}
	case DNS_TYPE_SVCB:
	case DNS_TYPE_HTTPS:
		return parse_svcb(message, len, start, end, record);
	default:
		return DNS_OK;
	}
}

enum dns_error dns_parse(const uint8_t *message, size_t len, struct dns_header *header,
			 struct dns_record *record, dns_record_fn on_record, void *context)
{
	memset(header, 0, sizeof *header);
	if (len < DNS_HEADER_LEN)
		return DNS_ERR_SHORT_HEADER;
	header->id = get_be16(message);
	uint16_t flags = get_be16(message + 2);
	header->is_response = (uint8_t)(flags >> 15);
	header->opcode = (uint8_t)((flags >> 11) & 0x0f);
	header->truncated = (uint8_t)((flags >> 9) & 1);
	header->rcode = (uint8_t)(flags & 0x0f);
	for (int i = 0; i < 4; i++)
		header->counts[i] = get_be16(message + 4 + 2 * i);

	enum dns_error bad_data = DNS_OK; /* reported at the end: later records still count */
	size_t pos = DNS_HEADER_LEN;
	for (int section = DNS_QUESTION; section <= DNS_ADDITIONAL; section++) {
		for (unsigned n = 0; n < header->counts[section]; n++) {
			record->section = (enum dns_section)section;
			enum dns_error error = dns_read_name(message, len, pos, record->name, &pos);
			if (error != DNS_OK)
				return error;
			size_t fixed = section == DNS_QUESTION ? 4 : 10;
			if (len - pos < fixed)
				return DNS_ERR_TRUNCATED;
			record->type = get_be16(message + pos);
			/* mDNS uses the class's top bit for cache-flush / unicast-response. */
			record->class = get_be16(message + pos + 2) & 0x7fff;
			record->ttl = 0;
			record->addr_len = 0;
			record->target[0] = '\0';
			record->svc_priority = 0;
			record->svc_has_ech = record->svc_has_alpn = 0;
			record->rdata_len = 0;
			if (section != DNS_QUESTION) {
				record->ttl = get_be32(message + pos + 4);
				record->rdata_len = get_be16(message + pos + 8);
				size_t start = pos + 10;
				if (record->rdata_len > len - start)
					return DNS_ERR_TRUNCATED;
				size_t end = start + record->rdata_len;
				error = parse_rdata(message, len, start, end, record);
				if (error != DNS_OK) {
					/* Deliver the record with no decoded data rather than half of it. */
					record->addr_len = 0;
					record->target[0] = '\0';
					record->svc_priority = 0;
					record->svc_has_ech = record->svc_has_alpn = 0;
					if (bad_data == DNS_OK)
						bad_data = DNS_ERR_BAD_RDATA;
				}
				pos = end;
			} else {
				pos += fixed;
			}
			if (on_record && on_record(context, header, record) != 0)
				return bad_data;
		}
	}
	return bad_data;
}

void dns_tcp_reader_init(struct dns_tcp_reader *reader)
{
	memset(reader, 0, sizeof *reader);
}

int dns_tcp_reader_feed(struct dns_tcp_reader *reader, const uint8_t *data, size_t len,
			dns_message_fn on_message, void *context)
{
	while (len > 0) {
		if (reader->length_have < 2) {
			reader->length[reader->length_have++] = *data++;
			len--;
			if (reader->length_have < 2)
				continue;
			reader->message_len = (uint16_t)(reader->length[0] << 8 | reader->length[1]);
			reader->message_have = 0;
			if (reader->message_len == 0) {
				reader->length_have = 0; /* an empty message: nothing to read */
				continue;
			}
			reader->message = malloc(reader->message_len);
			if (!reader->message)
				return -1;
		}
		size_t n = (size_t)(reader->message_len - reader->message_have);
		if (n > len)
			n = len;
		memcpy(reader->message + reader->message_have, data, n);
		reader->message_have = (uint16_t)(reader->message_have + n);
		data += n;
		len -= n;
		if (reader->message_have < reader->message_len)
			continue;
		on_message(context, reader->message, reader->message_len);
		free(reader->message);
		reader->message = NULL;
		reader->length_have = 0;
	}
	return 0;
}

size_t dns_tcp_reader_held(const struct dns_tcp_reader *reader)
{
	return reader->message ? reader->message_len : 0;
}

void dns_tcp_reader_free(struct dns_tcp_reader *reader)
{
	free(reader->message);
	reader->message = NULL;
}
