/*
 * Unit tests for dissectors/dns.c: DNS messages built byte by byte (header,
 * names in wire form, compression pointers, questions, records), the fields
 * dns_parse() gives for each question and record, and the error for each
 * malformed case. Every message is parsed from a heap copy of exactly its
 * length, so that ASan sees any read past its end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wire_buf.h"

#include "../../dissectors/dns.h"

/* ---- building messages -------------------------------------------------- */

static void set16(struct buf *b, size_t offset, uint16_t v)
{
	b->data[offset] = (uint8_t)(v >> 8);
	b->data[offset + 1] = (uint8_t)v;
}

enum {
	CLASS_IN = 1,
	FLAG_QR = 0x8000,
	FLAG_AA = 0x0400,
	FLAG_TC = 0x0200,
	FLAG_RD = 0x0100,
	FLAG_RA = 0x0080,
	MDNS_CACHE_FLUSH = 0x8000,
	SVC_ALPN = 1,
	SVC_PORT = 3,
	SVC_IPV4HINT = 4,
	SVC_ECH = 5,
	SVC_IPV6HINT = 6,
};

static void put_header(struct buf *b, uint16_t id, uint16_t flags, uint16_t qd, uint16_t an,
		       uint16_t ns, uint16_t ar)
{
	b->len = 0;
	put16(b, id);
	put16(b, flags);
	put16(b, qd);
	put16(b, an);
	put16(b, ns);
	put16(b, ar);
}

/* One label of `n` raw bytes (any bytes: dots, zeros...). */
static void put_label(struct buf *b, const void *bytes, size_t n)
{
	assert_true(n >= 1 && n <= 63);
	put8(b, (uint8_t)n);
	put_mem(b, bytes, n);
}

/* The labels of a dotted name, without the final zero; returns where they start. */
static size_t put_labels(struct buf *b, const char *dotted)
{
	size_t start = b->len;
	while (*dotted) {
		size_t n = strcspn(dotted, ".");
		put_label(b, dotted, n);
		dotted += n;
		if (*dotted == '.')
			dotted++;
	}
	return start;
}

/* A whole name in wire form ("" is the root); returns where it starts. */
static size_t put_name(struct buf *b, const char *dotted)
{
	size_t start = put_labels(b, dotted);
	put8(b, 0);
	return start;
}

/* A compression pointer to `target`; returns where the pointer is. */
static size_t put_pointer(struct buf *b, size_t target)
{
	assert_true(target < 0x4000);
	size_t at = b->len;
	put16(b, (uint16_t)(0xc000 | target));
	return at;
}

/* A question's type and class, after its name. */
static void put_question(struct buf *b, uint16_t type, uint16_t class)
{
	put16(b, type);
	put16(b, class);
}

/*
 * A record's fixed part after its name, with an rdlength to be filled in by
 * end_rdata(); returns where the rdlength is.
 */
static size_t begin_rr(struct buf *b, uint16_t type, uint16_t class, uint32_t ttl)
{
	put16(b, type);
	put16(b, class);
	put32(b, ttl);
	size_t at = b->len;
	put16(b, 0);
	return at;
}

/* Sets the rdlength at `at` to what was written since. */
static void end_rdata(struct buf *b, size_t at)
{
	set16(b, at, (uint16_t)(b->len - at - 2));
}

/* A whole record with the given rdata, after its name. */
static void put_rr(struct buf *b, uint16_t type, uint16_t class, uint32_t ttl, const void *rdata,
		   size_t rdlen)
{
	put16(b, type);
	put16(b, class);
	put32(b, ttl);
	put16(b, (uint16_t)rdlen);
	put_mem(b, rdata, rdlen);
}

/* An SVCB parameter. */
static void put_svc_param(struct buf *b, uint16_t key, const void *value, size_t n)
{
	put16(b, key);
	put16(b, (uint16_t)n);
	put_mem(b, value, n);
}

static const uint8_t V4_A[4] = { 192, 0, 2, 10 };
static const uint8_t V4_B[4] = { 198, 51, 100, 7 };
static const uint8_t V6_A[16] = { 0x20, 0x01, 0x0d, 0xb8, [14] = 0xab, [15] = 0x01 };
static const uint8_t ALPN_H2_H3[] = { 2, 'h', '2', 2, 'h', '3' };
static const uint8_t ECH_CONFIG[] = { 0x00, 0x45, 0xfe, 0x0d, 0x00, 0x41, 0x2b, 0x00, 0x20 };

/* ---- parsing ------------------------------------------------------------ */

enum { MAX_SEEN = 96 };

/* What the callback was given, record by record. */
struct seen {
	size_t count;
	size_t stop_after;              /* stop after this many; 0: never */
	struct dns_header header;       /* as the last callback saw it */
	struct dns_record records[MAX_SEEN];
};

static struct seen *new_seen(void)
{
	struct seen *s = calloc(1, sizeof *s);
	assert_non_null(s);
	return s;
}

static int collect(void *context, const struct dns_header *header,
		   const struct dns_record *record)
{
	struct seen *s = context;
	assert_true(s->count < MAX_SEEN);
	/* Both texts end within their arrays, whatever the message. */
	assert_non_null(memchr(record->name, '\0', DNS_NAME_TEXT_MAX));
	assert_non_null(memchr(record->target, '\0', DNS_NAME_TEXT_MAX));
	assert_true(record->addr_len == 0 || record->addr_len == 4 || record->addr_len == 16);
	assert_true(record->section >= DNS_QUESTION && record->section <= DNS_ADDITIONAL);
	s->header = *header;
	s->records[s->count++] = *record;
	return s->stop_after != 0 && s->count >= s->stop_after;
}

/*
 * dns_parse() on a heap copy of exactly `len` bytes of `data`, with scratch
 * space full of garbage (so a field it forgets to set shows); `s` may be NULL.
 */
static enum dns_error parse_bytes(const uint8_t *data, size_t len, struct dns_header *header,
				  struct seen *s)
{
	uint8_t *copy = malloc(len ? len : 1);
	assert_non_null(copy);
	memcpy(copy, data, len);
	struct dns_record *scratch = malloc(sizeof *scratch);
	assert_non_null(scratch);
	memset(scratch, 0xa5, sizeof *scratch);
	memset(header, 0xa5, sizeof *header);
	enum dns_error error = dns_parse(copy, len, header, scratch, collect, s);
	free(scratch);
	free(copy);
	return error;
}

static enum dns_error parse(const struct buf *b, struct dns_header *header, struct seen *s)
{
	return parse_bytes(b->data, b->len, header, s);
}

/* dns_read_name() on a heap copy of exactly the message. */
static enum dns_error read_name(const struct buf *b, size_t offset, char *text, size_t *next)
{
	uint8_t *copy = malloc(b->len ? b->len : 1);
	assert_non_null(copy);
	memcpy(copy, b->data, b->len);
	*next = (size_t)-1;
	enum dns_error error = dns_read_name(copy, b->len, offset, text, next);
	free(copy);
	return error;
}

static void assert_name_reads(const struct buf *b, size_t offset, const char *expected,
			      size_t expected_next)
{
	char text[DNS_NAME_TEXT_MAX];
	size_t next;
	enum dns_error error = read_name(b, offset, text, &next);
	if (error != DNS_OK)
		fail_msg("name at %zu: %s", offset, dns_error_name(error));
	assert_string_equal(text, expected);
	assert_int_equal(next, expected_next);
}

static void assert_name_error(const struct buf *b, size_t offset, enum dns_error expected)
{
	char text[DNS_NAME_TEXT_MAX];
	size_t next;
	enum dns_error error = read_name(b, offset, text, &next);
	if (error != expected)
		fail_msg("name at %zu: %s, expected %s", offset, dns_error_name(error),
			 dns_error_name(expected));
}

static void assert_result(enum dns_error actual, enum dns_error expected)
{
	if (actual != expected)
		fail_msg("dns_parse: %s (%d), expected %s (%d)", dns_error_name(actual), actual,
			 dns_error_name(expected), expected);
}

static void assert_question(const struct dns_record *r, const char *name, uint16_t type,
			    uint16_t class)
{
	assert_int_equal(r->section, DNS_QUESTION);
	assert_string_equal(r->name, name);
	assert_int_equal(r->type, type);
	assert_int_equal(r->class, class);
	assert_int_equal(r->ttl, 0);
	assert_int_equal(r->rdata_len, 0);
	assert_int_equal(r->addr_len, 0);
	assert_string_equal(r->target, "");
}

static void assert_record(const struct dns_record *r, enum dns_section section, const char *name,
			  uint16_t type, uint16_t class, uint32_t ttl, uint16_t rdata_len)
{
	assert_int_equal(r->section, section);
	assert_string_equal(r->name, name);
	assert_int_equal(r->type, type);
	assert_int_equal(r->class, class);
	assert_int_equal(r->ttl, ttl);
	assert_int_equal(r->rdata_len, rdata_len);
}

static void assert_no_svc(const struct dns_record *r)
{
	assert_int_equal(r->svc_priority, 0);
	assert_int_equal(r->svc_has_alpn, 0);
	assert_int_equal(r->svc_has_ech, 0);
}

/* ---- well-formed messages ----------------------------------------------- */

static void test_query(void **state)
{
	(void)state;
	struct buf b;
	put_header(&b, 0x86ed, FLAG_RD, 1, 0, 0, 0);
	put_name(&b, "auth.kakao.com");
	put_question(&b, DNS_TYPE_A, CLASS_IN);
	struct seen *s = new_seen();
	struct dns_header h;
	assert_result(parse(&b, &h, s), DNS_OK);
	assert_int_equal(h.id, 0x86ed);
	assert_int_equal(h.is_response, 0);
	assert_int_equal(h.opcode, 0);
	assert_int_equal(h.rcode, 0);
	assert_int_equal(h.truncated, 0);
	assert_int_equal(h.counts[0], 1);
	assert_int_equal(h.counts[1], 0);
	assert_int_equal(h.counts[2], 0);
	assert_int_equal(h.counts[3], 0);
	assert_int_equal(s->count, 1);
	assert_memory_equal(&s->header, &h, sizeof h);
	assert_question(&s->records[0], "auth.kakao.com", DNS_TYPE_A, CLASS_IN);
	assert_no_svc(&s->records[0]);
	free(s);
}

/* Every header field at a value other than zero, each on its own bit. */
static void test_header_fields(void **state)
{
	(void)state;
	struct buf b;
	/* QR, opcode 5 (UPDATE), TC, rcode 3 (NXDOMAIN); counts that are all different. */
	put_header(&b, 0xfedc, FLAG_QR | 5 << 11 | FLAG_TC | FLAG_RD | 3, 0x0102, 0x0304, 0x0506,
		   0x0708);
	struct dns_header h;
	assert_result(parse(&b, &h, NULL), DNS_ERR_TRUNCATED);
	assert_int_equal(h.id, 0xfedc);
	assert_int_equal(h.is_response, 1);
	assert_int_equal(h.opcode, 5);
	assert_int_equal(h.truncated, 1);
	assert_int_equal(h.rcode, 3);
	assert_int_equal(h.counts[0], 0x0102);
	assert_int_equal(h.counts[1], 0x0304);
	assert_int_equal(h.counts[2], 0x0506);
	assert_int_equal(h.counts[3], 0x0708);

	/* AA, RD, RA, Z, AD, CD set: none of them leaks into opcode or rcode. */
	put_header(&b, 1, FLAG_AA | FLAG_RD | FLAG_RA | 0x0070, 0, 0, 0, 0);
	assert_result(parse(&b, &h, NULL), DNS_OK);
	assert_int_equal(h.is_response, 0);
	assert_int_equal(h.opcode, 0);
	assert_int_equal(h.truncated, 0);
	assert_int_equal(h.rcode, 0);

	/* Opcode 15, rcode 15. */
	put_header(&b, 2, 0x7800 | 0x000f, 0, 0, 0, 0);
	assert_result(parse(&b, &h, NULL), DNS_OK);
	assert_int_equal(h.opcode, 15);
	assert_int_equal(h.rcode, 15);
	assert_int_equal(h.is_response, 0);
}

/*
 * The answer to www.example.com A: a CNAME chain with names compressed into
 * the question and into earlier targets, A and AAAA at its end, an NS in
 * authority and glue in additional. `ends` gets where each question and
 * record ends.
 */
static size_t build_response(struct buf *b, size_t *ends)
{
	size_t n = 0;
	put_header(b, 0x697a, FLAG_QR | FLAG_RD | FLAG_RA, 1, 5, 1, 2);
	size_t qname = put_name(b, "www.example.com"); /* 12 */
	put_question(b, DNS_TYPE_A, CLASS_IN);
	ends[n++] = b->len;

	/* www.example.com CNAME web.example.com: "web" then a pointer to example.com. */
	put_pointer(b, qname);
	size_t rd = begin_rr(b, DNS_TYPE_CNAME, CLASS_IN, 3600);
	size_t web = put_labels(b, "web");
	put_pointer(b, qname + 4);
	end_rdata(b, rd);
	ends[n++] = b->len;

	/* web.example.com CNAME edge.cdn.example.net: owner a pointer to the last target. */
	put_pointer(b, web);
	rd = begin_rr(b, DNS_TYPE_CNAME, CLASS_IN, 300);
	size_t edge = put_name(b, "edge.cdn.example.net");
	end_rdata(b, rd);
	ends[n++] = b->len;

	/* edge.cdn.example.net A 192.0.2.10 and 198.51.100.7, AAAA 2001:db8::ab01. */
	put_pointer(b, edge);
	put_rr(b, DNS_TYPE_A, CLASS_IN, 20, V4_A, 4);
	ends[n++] = b->len;
	put_pointer(b, edge);
	put_rr(b, DNS_TYPE_A, CLASS_IN, 20, V4_B, 4);
	ends[n++] = b->len;
	put_pointer(b, edge);
	put_rr(b, DNS_TYPE_AAAA, CLASS_IN, 0x7fffffff, V6_A, 16);
	ends[n++] = b->len;

	/* cdn.example.net NS ns1.cdn.example.net, in authority. */
	put_pointer(b, edge + 5);
	rd = begin_rr(b, DNS_TYPE_NS, CLASS_IN, 172800);
	size_t ns1 = put_labels(b, "ns1");
	put_pointer(b, edge + 5);
	end_rdata(b, rd);
	ends[n++] = b->len;

	/* ns1.cdn.example.net A, and an OPT pseudo-record, in additional. */
	put_pointer(b, ns1);
	put_rr(b, DNS_TYPE_A, CLASS_IN, 172800, V4_B, 4);
	ends[n++] = b->len;
	put_name(b, "");
	put_rr(b, DNS_TYPE_OPT, 1232, 0, NULL, 0);
	ends[n++] = b->len;
	return n;
}

static void test_response(void **state)
{
	(void)state;
	struct buf b;
	size_t ends[16];
	size_t n = build_response(&b, ends);
	assert_int_equal(n, 9);
	struct seen *s = new_seen();
	struct dns_header h;
	assert_result(parse(&b, &h, s), DNS_OK);
	assert_int_equal(h.id, 0x697a);
	assert_int_equal(h.is_response, 1);
	assert_int_equal(h.counts[1], 5);
	assert_int_equal(s->count, 9);

	const struct dns_record *r = s->records;
	assert_question(&r[0], "www.example.com", DNS_TYPE_A, CLASS_IN);

	assert_record(&r[1], DNS_ANSWER, "www.example.com", DNS_TYPE_CNAME, CLASS_IN, 3600, 6);
	assert_string_equal(r[1].target, "web.example.com");
	assert_int_equal(r[1].addr_len, 0);
	assert_no_svc(&r[1]);

	assert_record(&r[2], DNS_ANSWER, "web.example.com", DNS_TYPE_CNAME, CLASS_IN, 300, 22);
	assert_string_equal(r[2].target, "edge.cdn.example.net");
	assert_int_equal(r[2].addr_len, 0);

	assert_record(&r[3], DNS_ANSWER, "edge.cdn.example.net", DNS_TYPE_A, CLASS_IN, 20, 4);
	assert_int_equal(r[3].addr_len, 4);
	assert_memory_equal(r[3].addr, V4_A, 4);
	assert_string_equal(r[3].target, "");
	assert_no_svc(&r[3]);

	assert_record(&r[4], DNS_ANSWER, "edge.cdn.example.net", DNS_TYPE_A, CLASS_IN, 20, 4);
	assert_int_equal(r[4].addr_len, 4);
	assert_memory_equal(r[4].addr, V4_B, 4);

	assert_record(&r[5], DNS_ANSWER, "edge.cdn.example.net", DNS_TYPE_AAAA, CLASS_IN,
		      0x7fffffff, 16);
	assert_int_equal(r[5].addr_len, 16);
	assert_memory_equal(r[5].addr, V6_A, 16);
	assert_string_equal(r[5].target, "");

	assert_record(&r[6], DNS_AUTHORITY, "cdn.example.net", DNS_TYPE_NS, CLASS_IN, 172800, 6);
	assert_string_equal(r[6].target, "ns1.cdn.example.net");
	assert_int_equal(r[6].addr_len, 0);

	assert_record(&r[7], DNS_ADDITIONAL, "ns1.cdn.example.net", DNS_TYPE_A, CLASS_IN, 172800,
		      4);
	assert_memory_equal(r[7].addr, V4_B, 4);

	assert_record(&r[8], DNS_ADDITIONAL, "", DNS_TYPE_OPT, 1232, 0, 0);
	assert_int_equal(r[8].addr_len, 0);
	assert_string_equal(r[8].target, "");
	free(s);
}

static void test_ptr(void **state)
{
	(void)state;
	struct buf b;
	put_header(&b, 0xb2a2, FLAG_QR | FLAG_RD | FLAG_RA, 1, 1, 0, 0);
	size_t q = put_name(&b, "2.97.252.173.in-addr.arpa");
	put_question(&b, DNS_TYPE_PTR, CLASS_IN);
	put_pointer(&b, q);
	size_t rd = begin_rr(&b, DNS_TYPE_PTR, CLASS_IN, 1121);
	put_name(&b, "mqtt-shv-14-frc1.facebook.com");
	end_rdata(&b, rd);
	struct seen *s = new_seen();
	struct dns_header h;
	assert_result(parse(&b, &h, s), DNS_OK);
	assert_int_equal(s->count, 2);
	assert_question(&s->records[0], "2.97.252.173.in-addr.arpa", DNS_TYPE_PTR, CLASS_IN);
	assert_record(&s->records[1], DNS_ANSWER, "2.97.252.173.in-addr.arpa", DNS_TYPE_PTR,
		      CLASS_IN, 1121, 31);
	assert_string_equal(s->records[1].target, "mqtt-shv-14-frc1.facebook.com");
	free(s);
}

/* ---- SVCB and HTTPS ----------------------------------------------------- */

static void test_https(void **state)
{
	(void)state;
	struct buf b;
	put_header(&b, 0x7591, FLAG_QR | FLAG_RD | FLAG_RA, 1, 6, 0, 0);
	size_t q = put_name(&b, "example.com");
	put_question(&b, DNS_TYPE_HTTPS, CLASS_IN);

	/* 1 . alpn=h2,h3 ipv4hint ech ipv6hint: both flags, target the root. */
	put_pointer(&b, q);
	size_t rd = begin_rr(&b, DNS_TYPE_HTTPS, CLASS_IN, 300);
	put16(&b, 1);
	put_name(&b, "");
	put_svc_param(&b, SVC_ALPN, ALPN_H2_H3, sizeof ALPN_H2_H3);
	put_svc_param(&b, SVC_IPV4HINT, V4_A, 4);
	put_svc_param(&b, SVC_ECH, ECH_CONFIG, sizeof ECH_CONFIG);
	put_svc_param(&b, SVC_IPV6HINT, V6_A, 16);
	end_rdata(&b, rd);
	size_t len1 = b.len - rd - 2;

	/* 2 svc.example.net port=8443: a target name, neither flag. */
	put_pointer(&b, q);
	rd = begin_rr(&b, DNS_TYPE_HTTPS, CLASS_IN, 300);
	put16(&b, 2);
	put_name(&b, "svc.example.net");
	put_svc_param(&b, SVC_PORT, "\x20\xfb", 2);
	end_rdata(&b, rd);

	/* 0 alias.example.org: alias mode, no parameters. */
	put_pointer(&b, q);
	rd = begin_rr(&b, DNS_TYPE_HTTPS, CLASS_IN, 60);
	put16(&b, 0);
	put_name(&b, "alias.example.org");
	end_rdata(&b, rd);

	/* SVCB 1 . alpn=h3: alpn only. */
	put_pointer(&b, q);
	rd = begin_rr(&b, DNS_TYPE_SVCB, CLASS_IN, 60);
	put16(&b, 1);
	put_name(&b, "");
	put_svc_param(&b, SVC_ALPN, "\x02h3", 3);
	end_rdata(&b, rd);

	/* SVCB 3 . ech=...: ech only, an empty value for a key we do not know. */
	put_pointer(&b, q);
	rd = begin_rr(&b, DNS_TYPE_SVCB, CLASS_IN, 60);
	put16(&b, 3);
	put_name(&b, "");
	put_svc_param(&b, SVC_ECH, ECH_CONFIG, sizeof ECH_CONFIG);
	put_svc_param(&b, 65000, NULL, 0);
	end_rdata(&b, rd);

	/* HTTPS 65535 with the bare minimum: priority and root, 3 bytes. */
	put_pointer(&b, q);
	rd = begin_rr(&b, DNS_TYPE_HTTPS, CLASS_IN, 60);
	put16(&b, 65535);
	put_name(&b, "");
	end_rdata(&b, rd);

	struct seen *s = new_seen();
	struct dns_header h;
	assert_result(parse(&b, &h, s), DNS_OK);
	assert_int_equal(s->count, 7);
	const struct dns_record *r = s->records;
	assert_question(&r[0], "example.com", DNS_TYPE_HTTPS, CLASS_IN);
	assert_no_svc(&r[0]);

	assert_record(&r[1], DNS_ANSWER, "example.com", DNS_TYPE_HTTPS, CLASS_IN, 300,
		      (uint16_t)len1);
	assert_int_equal(r[1].svc_priority, 1);
	assert_string_equal(r[1].target, "");
	assert_int_equal(r[1].svc_has_alpn, 1);
	assert_int_equal(r[1].svc_has_ech, 1);
	assert_int_equal(r[1].addr_len, 0);

	assert_record(&r[2], DNS_ANSWER, "example.com", DNS_TYPE_HTTPS, CLASS_IN, 300,
		      2 + 17 + 6);
	assert_int_equal(r[2].svc_priority, 2);
	assert_string_equal(r[2].target, "svc.example.net");
	assert_int_equal(r[2].svc_has_alpn, 0);
	assert_int_equal(r[2].svc_has_ech, 0);

	assert_record(&r[3], DNS_ANSWER, "example.com", DNS_TYPE_HTTPS, CLASS_IN, 60, 2 + 19);
	assert_int_equal(r[3].svc_priority, 0);
	assert_string_equal(r[3].target, "alias.example.org");
	assert_int_equal(r[3].svc_has_alpn, 0);
	assert_int_equal(r[3].svc_has_ech, 0);

	assert_record(&r[4], DNS_ANSWER, "example.com", DNS_TYPE_SVCB, CLASS_IN, 60, 3 + 7);
	assert_int_equal(r[4].svc_priority, 1);
	assert_string_equal(r[4].target, "");
	assert_int_equal(r[4].svc_has_alpn, 1);
	assert_int_equal(r[4].svc_has_ech, 0);

	assert_record(&r[5], DNS_ANSWER, "example.com", DNS_TYPE_SVCB, CLASS_IN, 60,
		      3 + 4 + sizeof ECH_CONFIG + 4);
	assert_int_equal(r[5].svc_priority, 3);
	assert_int_equal(r[5].svc_has_alpn, 0);
	assert_int_equal(r[5].svc_has_ech, 1);

	assert_record(&r[6], DNS_ANSWER, "example.com", DNS_TYPE_HTTPS, CLASS_IN, 60, 3);
	assert_int_equal(r[6].svc_priority, 65535);
	assert_string_equal(r[6].target, "");
	assert_int_equal(r[6].svc_has_alpn, 0);
	assert_int_equal(r[6].svc_has_ech, 0);
	free(s);
}

/*
 * A parameter whose length runs past the rdata (but not past the message):
 * the record is delivered without its data, the parse ends with bad_rdata,
 * and the records after it are still read.
 */
static void test_https_param_past_rdata(void **state)
{
	(void)state;
	struct buf b;
	put_header(&b, 0x3125, FLAG_QR | FLAG_RD | FLAG_RA, 1, 3, 0, 0);
	size_t q = put_name(&b, "news.example");
	put_question(&b, DNS_TYPE_HTTPS, CLASS_IN);

	put_pointer(&b, q);
	size_t rd = begin_rr(&b, DNS_TYPE_HTTPS, CLASS_IN, 300);
	put16(&b, 1);
	put_name(&b, "svc.news.example");
	put_svc_param(&b, SVC_ALPN, ALPN_H2_H3, sizeof ALPN_H2_H3);
	put16(&b, SVC_ECH);
	put16(&b, 200); /* 200 bytes claimed, 4 in the rdata */
	put32(&b, 0xfe0d0041);
	end_rdata(&b, rd);

	/* Then a parameter header cut short: key, and one byte of length. */
	put_pointer(&b, q);
	rd = begin_rr(&b, DNS_TYPE_SVCB, CLASS_IN, 300);
	put16(&b, 1);
	put_name(&b, "");
	put16(&b, SVC_ALPN);
	put8(&b, 0);
	end_rdata(&b, rd);

	put_pointer(&b, q);
	put_rr(&b, DNS_TYPE_A, CLASS_IN, 300, V4_A, 4);
	/* Room for the 200 bytes the parameter claims: only the rdata bounds it. */
	for (int i = 0; i < 220; i++)
		put8(&b, 0);

	struct seen *s = new_seen();
	struct dns_header h;
	assert_result(parse(&b, &h, s), DNS_ERR_BAD_RDATA);
	assert_int_equal(s->count, 4);
	const struct dns_record *r = s->records;
	assert_record(&r[1], DNS_ANSWER, "news.example", DNS_TYPE_HTTPS, CLASS_IN, 300,
		      2 + 18 + 4 + sizeof ALPN_H2_H3 + 8);
	assert_string_equal(r[1].target, "");
	assert_int_equal(r[1].addr_len, 0);
	assert_record(&r[2], DNS_ANSWER, "news.example", DNS_TYPE_SVCB, CLASS_IN, 300, 6);
	assert_string_equal(r[2].target, "");
	assert_record(&r[3], DNS_ANSWER, "news.example", DNS_TYPE_A, CLASS_IN, 300, 4);
	assert_int_equal(r[3].addr_len, 4);
	assert_memory_equal(r[3].addr, V4_A, 4);
	assert_no_svc(&r[3]);
	free(s);
}

/* SVCB rdata shorter than priority and a root name, or a target past the rdata. */
static void test_svcb_short_rdata(void **state)
{
	(void)state;
	struct buf b;
	put_header(&b, 7, FLAG_QR, 0, 3, 0, 0);
	put_name(&b, "a.example");
	put_rr(&b, DNS_TYPE_SVCB, CLASS_IN, 1, "\x00\x01", 2);
	put_name(&b, "b.example");
	size_t rd = begin_rr(&b, DNS_TYPE_HTTPS, CLASS_IN, 1);
	put16(&b, 1);
	put_labels(&b, "svc"); /* the name's rest is the next record's owner */
	end_rdata(&b, rd);
	put_name(&b, "c");
	put_rr(&b, DNS_TYPE_A, CLASS_IN, 1, V4_B, 4);
	struct seen *s = new_seen();
	struct dns_header h;
	assert_result(parse(&b, &h, s), DNS_ERR_BAD_RDATA);
	assert_int_equal(s->count, 3);
	assert_string_equal(s->records[0].name, "a.example");
	assert_string_equal(s->records[0].target, "");
	assert_string_equal(s->records[1].name, "b.example");
	assert_string_equal(s->records[1].target, "");
	assert_string_equal(s->records[2].name, "c");
	assert_int_equal(s->records[2].addr_len, 4);

	/* Three bytes of a parameter, not the four of its key and length, then a record. */
	put_header(&b, 8, FLAG_QR, 0, 2, 0, 0);
	put_name(&b, "d");
	size_t rd2 = begin_rr(&b, DNS_TYPE_SVCB, CLASS_IN, 1);
	put16(&b, 1);
	put_name(&b, "");
	put16(&b, SVC_ECH);
	put8(&b, 0);
	end_rdata(&b, rd2);
	put_pointer(&b, 12);
	put_rr(&b, DNS_TYPE_A, CLASS_IN, 1, V4_B, 4);
	s->count = 0;
	assert_result(parse(&b, &h, s), DNS_ERR_BAD_RDATA);
	assert_int_equal(s->count, 2);
	assert_int_equal(s->records[0].rdata_len, 6);
	assert_int_equal(s->records[1].addr_len, 4);
	free(s);
}

/* ---- mDNS --------------------------------------------------------------- */

static void test_mdns_cache_flush(void **state)
{
	(void)state;
	struct buf b;
	put_header(&b, 0, FLAG_QR | FLAG_AA, 1, 2, 0, 1);
	/* A question asking for a unicast response (QU, the same bit). */
	size_t q = put_name(&b, "_googlecast._tcp.local");
	put_question(&b, DNS_TYPE_PTR, MDNS_CACHE_FLUSH | CLASS_IN);
	/* A shared PTR record (no cache-flush) and a unique A record (cache-flush). */
	put_pointer(&b, q);
	size_t rd = begin_rr(&b, DNS_TYPE_PTR, CLASS_IN, 120);
	size_t instance = put_labels(&b, "Living Room TV");
	put_pointer(&b, q);
	end_rdata(&b, rd);
	size_t host = put_labels(&b, "tv-1234");
	put_pointer(&b, q + 17); /* "local" */
	put_rr(&b, DNS_TYPE_A, MDNS_CACHE_FLUSH | CLASS_IN, 120, V4_A, 4);
	put_pointer(&b, host);
	put_rr(&b, DNS_TYPE_AAAA, MDNS_CACHE_FLUSH | CLASS_IN, 120, V6_A, 16);
	(void)instance;

	struct seen *s = new_seen();
	struct dns_header h;
	assert_result(parse(&b, &h, s), DNS_OK);
	assert_int_equal(h.id, 0);
	assert_int_equal(s->count, 4);
	const struct dns_record *r = s->records;
	assert_question(&r[0], "_googlecast._tcp.local", DNS_TYPE_PTR, CLASS_IN);
	assert_record(&r[1], DNS_ANSWER, "_googlecast._tcp.local", DNS_TYPE_PTR, CLASS_IN, 120,
		      17);
	assert_string_equal(r[1].target, "Living\\032Room\\032TV._googlecast._tcp.local");
	assert_record(&r[2], DNS_ANSWER, "tv-1234.local", DNS_TYPE_A, CLASS_IN, 120, 4);
	assert_memory_equal(r[2].addr, V4_A, 4);
	assert_record(&r[3], DNS_ADDITIONAL, "tv-1234.local", DNS_TYPE_AAAA, CLASS_IN, 120, 16);
	assert_memory_equal(r[3].addr, V6_A, 16);
	free(s);
}

/* ---- names -------------------------------------------------------------- */

static void test_root_name(void **state)
{
	(void)state;
	struct buf b;
	put_header(&b, 0x1111, FLAG_RD, 1, 0, 0, 0);
	put_name(&b, "");
	put_question(&b, DNS_TYPE_NS, CLASS_IN);
	assert_name_reads(&b, 12, "", 13);
	struct seen *s = new_seen();
	struct dns_header h;
	assert_result(parse(&b, &h, s), DNS_OK);
	assert_int_equal(s->count, 1);
	assert_question(&s->records[0], "", DNS_TYPE_NS, CLASS_IN);
	free(s);
}

static void test_escaped_labels(void **state)
{
	(void)state;
	struct buf b;
	put_header(&b, 1, 0, 1, 0, 0, 0);
	put_label(&b, "a.b", 3);
	put_label(&b, "x\\y", 3);
	put_label(&b, "sp ace", 6);
	put_label(&b, "\0", 1);
	put_label(&b, "\xff", 1);
	put_label(&b, "\x7f\x1f!~", 4);
	put_name(&b, "com");
	put_question(&b, DNS_TYPE_A, CLASS_IN);
	static const char expected[] =
		"a\\046b.x\\092y.sp\\032ace.\\000.\\255.\\127\\031!~.com";
	assert_name_reads(&b, 12, expected, b.len - 4);
	struct seen *s = new_seen();
	struct dns_header h;
	assert_result(parse(&b, &h, s), DNS_OK);
	assert_int_equal(s->count, 1);
	assert_string_equal(s->records[0].name, expected);

	/* A single label that is only a dot. */
	put_header(&b, 1, 0, 0, 0, 0, 0);
	put_label(&b, ".", 1);
	put8(&b, 0);
	assert_name_reads(&b, 12, "\\046", 15);
	free(s);
}

/* Labels of these lengths, in that order, then the root; each label is all 'a'. */
static size_t put_long_name(struct buf *b, const size_t *lengths, size_t count, int terminate)
{
	static const char as[64] = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
	size_t start = b->len;
	for (size_t i = 0; i < count; i++)
		put_label(b, as, lengths[i]);
	if (terminate)
		put8(b, 0);
	return start;
}

static void test_name_length_limit(void **state)
{
	(void)state;
	struct buf b;
	char text[DNS_NAME_TEXT_MAX];
	size_t next;

	/* 64 + 64 + 64 + 62 + 1 = 255 wire octets: the longest name. */
	static const size_t max[] = { 63, 63, 63, 61 };
	put_header(&b, 1, 0, 1, 0, 0, 0);
	put_long_name(&b, max, 4, 1);
	assert_int_equal(b.len - 12, 255);
	put_question(&b, DNS_TYPE_A, CLASS_IN);
	assert_result(read_name(&b, 12, text, &next), DNS_OK);
	assert_int_equal(strlen(text), 63 * 3 + 61 + 3);
	assert_int_equal(next, 12 + 255);
	struct seen *s = new_seen();
	struct dns_header h;
	assert_result(parse(&b, &h, s), DNS_OK);
	assert_int_equal(s->count, 1);
	assert_int_equal(strlen(s->records[0].name), 63 * 3 + 61 + 3);

	/* 256 octets. */
	static const size_t over[] = { 63, 63, 63, 62 };
	put_header(&b, 1, 0, 1, 0, 0, 0);
	put_long_name(&b, over, 4, 1);
	assert_int_equal(b.len - 12, 256);
	put_question(&b, DNS_TYPE_A, CLASS_IN);
	assert_name_error(&b, 12, DNS_ERR_NAME_TOO_LONG);
	s->count = 0;
	assert_result(parse(&b, &h, s), DNS_ERR_NAME_TOO_LONG);
	assert_int_equal(s->count, 0);

	/* 127 one-byte labels: 255 octets, and each escaped as \DDD is still within bounds. */
	put_header(&b, 1, 0, 0, 0, 0, 0);
	for (int i = 0; i < 127; i++)
		put_label(&b, "\xff", 1);
	put8(&b, 0);
	assert_int_equal(b.len - 12, 255);
	assert_result(read_name(&b, 12, text, &next), DNS_OK);
	assert_int_equal(strlen(text), 127 * 4 + 126);
	/* 128 of them (257 octets). */
	b.len--;
	put_label(&b, "\xff", 1);
	put8(&b, 0);
	assert_name_error(&b, 12, DNS_ERR_NAME_TOO_LONG);

	/*
	 * The limit counts the octets pointed to: 203 here, plus 52 in a label
	 * before a pointer to them is 255, plus 53 is 256.
	 */
	static const size_t first[] = { 63, 63, 63, 9 };
	static const size_t second_ok[] = { 51 };
	static const size_t second[] = { 52 };
	put_header(&b, 1, 0, 0, 0, 0, 0);
	size_t base = put_long_name(&b, first, 4, 1); /* 64 * 3 + 10 + 1 = 203 */
	assert_int_equal(b.len - base, 203);
	size_t ok = put_long_name(&b, second_ok, 1, 0);
	put_pointer(&b, base);
	size_t too_long = put_long_name(&b, second, 1, 0);
	put_pointer(&b, base);
	assert_result(read_name(&b, ok, text, &next), DNS_OK);
	assert_int_equal(strlen(text), 51 + 1 + 63 * 3 + 9 + 3);
	assert_int_equal(next, ok + 52 + 2);
	assert_name_error(&b, too_long, DNS_ERR_NAME_TOO_LONG);
	free(s);
}

static void test_bad_label_types(void **state)
{
	(void)state;
	struct buf b;
	for (unsigned type = 0x40; type <= 0x80; type += 0x40) {
		/* At the start of a name, and after a label. */
		put_header(&b, 1, 0, 1, 0, 0, 0);
		put8(&b, (uint8_t)(type | 3));
		put_mem(&b, "abc", 3);
		put8(&b, 0);
		put_question(&b, DNS_TYPE_A, CLASS_IN);
		assert_name_error(&b, 12, DNS_ERR_BAD_LABEL);
		struct dns_header h;
		struct seen *s = new_seen();
		assert_result(parse(&b, &h, s), DNS_ERR_BAD_LABEL);
		assert_int_equal(s->count, 0);
		free(s);

		put_header(&b, 1, 0, 0, 0, 0, 0);
		put_labels(&b, "www");
		put8(&b, (uint8_t)type);
		put8(&b, 0);
		assert_name_error(&b, 12, DNS_ERR_BAD_LABEL);
	}
}

static void test_bad_pointers(void **state)
{
	(void)state;
	struct buf b;

	/* A pointer to itself. */
	put_header(&b, 1, 0, 1, 0, 0, 0);
	put_pointer(&b, 12);
	put_question(&b, DNS_TYPE_A, CLASS_IN);
	assert_name_error(&b, 12, DNS_ERR_BAD_POINTER);
	struct seen *s = new_seen();
	struct dns_header h;
	assert_result(parse(&b, &h, s), DNS_ERR_BAD_POINTER);
	assert_int_equal(s->count, 0);

	/* A pointer to the start of its own name, after a label. */
	put_header(&b, 1, 0, 0, 0, 0, 0);
	put_labels(&b, "abc");
	put_pointer(&b, 12);
	assert_name_error(&b, 12, DNS_ERR_BAD_POINTER);
	/* ... or into the middle of it. */
	put_header(&b, 1, 0, 0, 0, 0, 0);
	put_labels(&b, "abc");
	put_labels(&b, "de");
	put_pointer(&b, 16);
	assert_name_error(&b, 12, DNS_ERR_BAD_POINTER);

	/* A forward pointer, to a name that is fine. */
	put_header(&b, 1, 0, 0, 0, 0, 0);
	put_pointer(&b, 14);
	put_name(&b, "example");
	assert_name_error(&b, 12, DNS_ERR_BAD_POINTER);
	assert_name_reads(&b, 14, "example", 23);

	/* Two pointers pointing at each other, read from either. */
	put_header(&b, 1, 0, 0, 0, 0, 0);
	put_pointer(&b, 14);
	put_pointer(&b, 12);
	assert_name_error(&b, 12, DNS_ERR_BAD_POINTER);
	assert_name_error(&b, 14, DNS_ERR_BAD_POINTER);

	/*
	 * A second pointer that points back, but not before the first one's
	 * target: from 20, to 12 ("x" then a pointer at 14), which points to 13.
	 */
	put_header(&b, 1, 0, 0, 0, 0, 0);
	put_labels(&b, "x");    /* 12 */
	put_pointer(&b, 13);    /* 14: into "x", after 12 */
	put_name(&b, "abc");    /* 16 */
	put_pointer(&b, 12);    /* 21 */
	assert_name_error(&b, 21, DNS_ERR_BAD_POINTER);
	/* ... and one to exactly the previous target. */
	put_header(&b, 1, 0, 0, 0, 0, 0);
	put_labels(&b, "x");    /* 12 */
	put_pointer(&b, 12);    /* 14 */
	put_pointer(&b, 12);    /* 16 */
	assert_name_error(&b, 16, DNS_ERR_BAD_POINTER);

	/* A pointer in a record's owner name that points at itself, after good records. */
	put_header(&b, 1, FLAG_QR, 1, 2, 0, 0);
	size_t q = put_name(&b, "example.com");
	put_question(&b, DNS_TYPE_A, CLASS_IN);
	put_pointer(&b, q);
	put_rr(&b, DNS_TYPE_A, CLASS_IN, 5, V4_A, 4);
	put_pointer(&b, b.len);
	put_rr(&b, DNS_TYPE_A, CLASS_IN, 5, V4_B, 4);
	s->count = 0;
	assert_result(parse(&b, &h, s), DNS_ERR_BAD_POINTER);
	assert_int_equal(s->count, 2);
	free(s);
}

/*
 * "end" at 12, then `count` pointers, each to the one before (the first to
 * 12); returns where the last is, reading from which follows all of them.
 */
static size_t put_pointer_chain(struct buf *b, int count)
{
	size_t previous = put_name(b, "end");
	for (int i = 0; i < count; i++)
		previous = put_pointer(b, previous);
	return previous;
}

static void test_pointer_chain(void **state)
{
	(void)state;
	struct buf b;
	put_header(&b, 1, 0, 0, 0, 0, 0);
	size_t last = put_pointer_chain(&b, DNS_MAX_POINTERS);
	assert_name_reads(&b, last, "end", last + 2);

	put_header(&b, 1, 0, 0, 0, 0, 0);
	last = put_pointer_chain(&b, DNS_MAX_POINTERS + 1);
	assert_name_error(&b, last, DNS_ERR_POINTER_LOOP);
	/* One pointer fewer from the same chain is fine. */
	assert_name_reads(&b, last - 2, "end", last);

	/* In a message: the chain in a TXT record's data, then an owner name pointing into it. */
	put_header(&b, 1, FLAG_QR, 0, 3, 0, 0);
	put_name(&b, "txt");
	size_t rd = begin_rr(&b, 16, CLASS_IN, 1);
	size_t base = put_name(&b, "end");
	size_t previous = base;
	for (int i = 0; i < DNS_MAX_POINTERS + 1; i++)
		previous = put_pointer(&b, previous);
	end_rdata(&b, rd);
	put_pointer(&b, previous - 2); /* 64 + 1 pointers */
	put_rr(&b, DNS_TYPE_A, CLASS_IN, 1, V4_A, 4);
	put_pointer(&b, previous); /* 65 + 1 pointers */
	put_rr(&b, DNS_TYPE_A, CLASS_IN, 1, V4_B, 4);
	struct seen *s = new_seen();
	struct dns_header h;
	assert_result(parse(&b, &h, s), DNS_ERR_POINTER_LOOP);
	assert_int_equal(s->count, 1);
	assert_string_equal(s->records[0].name, "txt");
	assert_int_equal(s->records[0].type, 16);

	/* The same with one pointer fewer in each: both A records come. */
	b.len = 12;
	put_name(&b, "txt");
	rd = begin_rr(&b, 16, CLASS_IN, 1);
	base = put_name(&b, "end");
	previous = base;
	for (int i = 0; i < DNS_MAX_POINTERS - 1; i++)
		previous = put_pointer(&b, previous);
	end_rdata(&b, rd);
	put_pointer(&b, previous - 2);
	put_rr(&b, DNS_TYPE_A, CLASS_IN, 1, V4_A, 4);
	put_pointer(&b, previous);
	put_rr(&b, DNS_TYPE_A, CLASS_IN, 1, V4_B, 4);
	s->count = 0;
	assert_result(parse(&b, &h, s), DNS_OK);
	assert_int_equal(s->count, 3);
	assert_string_equal(s->records[1].name, "end");
	assert_string_equal(s->records[2].name, "end");
	free(s);
}

static void test_read_name_next(void **state)
{
	(void)state;
	struct buf b;
	put_header(&b, 1, 0, 0, 0, 0, 0);
	size_t www = put_name(&b, "www.example.com"); /* 12..28 */
	size_t foo = put_labels(&b, "foo");             /* 29 */
	put_pointer(&b, www + 4);                       /* 33 */
	size_t only = put_pointer(&b, foo);             /* 35: two pointers deep */
	size_t root = put_name(&b, "");                 /* 37 */
	size_t bar = put_labels(&b, "bar");             /* 38 */
	put_pointer(&b, only);                          /* 42: three pointers deep */
	put8(&b, 0xee);                                 /* something after, not part of it */
	assert_name_reads(&b, www, "www.example.com", www + 17);
	assert_name_reads(&b, www + 4, "example.com", www + 17);
	assert_name_reads(&b, foo, "foo.example.com", foo + 6);
	assert_name_reads(&b, only, "foo.example.com", only + 2);
	assert_name_reads(&b, root, "", root + 1);
	assert_name_reads(&b, bar, "bar.foo.example.com", bar + 6);

	/* A name that runs to the end, or a pointer cut after its first byte. */
	put_header(&b, 1, 0, 0, 0, 0, 0);
	put_labels(&b, "www");
	assert_name_error(&b, 12, DNS_ERR_TRUNCATED);
	put8(&b, 0xc0);
	assert_name_error(&b, 12, DNS_ERR_TRUNCATED);
	/* An offset at or past the end. */
	assert_name_error(&b, b.len, DNS_ERR_TRUNCATED);
	assert_name_error(&b, b.len + 10, DNS_ERR_TRUNCATED);
}

/* ---- truncation and counts ---------------------------------------------- */

static int count_records(void *context, const struct dns_header *header,
			 const struct dns_record *record)
{
	(void)header;
	assert_non_null(memchr(record->name, '\0', DNS_NAME_TEXT_MAX));
	assert_non_null(memchr(record->target, '\0', DNS_NAME_TEXT_MAX));
	(*(size_t *)context)++;
	return 0;
}

/* Every prefix of a valid message: no overread, an error, and only the whole records. */
static void check_prefixes(const struct buf *b, const size_t *ends, size_t n)
{
	struct dns_record *scratch = malloc(sizeof *scratch);
	assert_non_null(scratch);
	for (size_t len = 0; len < b->len; len++) {
		uint8_t *message = malloc(len ? len : 1);
		assert_non_null(message);
		memcpy(message, b->data, len);
		struct dns_header h;
		size_t count = 0;
		enum dns_error error = dns_parse(message, len, &h, scratch, count_records, &count);
		free(message);
		size_t expected = 0;
		while (expected < n && ends[expected] <= len)
			expected++;
		enum dns_error expected_error = len < DNS_HEADER_LEN ? DNS_ERR_SHORT_HEADER
								    : DNS_ERR_TRUNCATED;
		if (error != expected_error || count != expected)
			fail_msg("%zu of %zu bytes: %s and %zu records, expected %s and %zu", len,
				 b->len, dns_error_name(error), count,
				 dns_error_name(expected_error), expected);
	}
	free(scratch);
}

static void test_every_prefix(void **state)
{
	(void)state;
	struct buf b;
	size_t ends[16];
	size_t n = build_response(&b, ends);
	assert_int_equal(ends[n - 1], b.len);
	check_prefixes(&b, ends, n);

	/* And an HTTPS answer, and an mDNS one. */
	put_header(&b, 0x7591, FLAG_QR | FLAG_RD | FLAG_RA, 1, 2, 0, 0);
	size_t q = put_name(&b, "example.com");
	put_question(&b, DNS_TYPE_HTTPS, CLASS_IN);
	n = 0;
	ends[n++] = b.len;
	put_pointer(&b, q);
	size_t rd = begin_rr(&b, DNS_TYPE_HTTPS, CLASS_IN, 300);
	put16(&b, 1);
	put_name(&b, "");
	put_svc_param(&b, SVC_ALPN, ALPN_H2_H3, sizeof ALPN_H2_H3);
	put_svc_param(&b, SVC_ECH, ECH_CONFIG, sizeof ECH_CONFIG);
	end_rdata(&b, rd);
	ends[n++] = b.len;
	put_pointer(&b, q);
	rd = begin_rr(&b, DNS_TYPE_HTTPS, CLASS_IN, 300);
	put16(&b, 2);
	put_labels(&b, "svc");
	put_pointer(&b, q);
	put_svc_param(&b, SVC_PORT, "\x01\xbb", 2);
	end_rdata(&b, rd);
	ends[n++] = b.len;
	check_prefixes(&b, ends, n);

	put_header(&b, 0, FLAG_QR | FLAG_AA, 0, 2, 0, 0);
	n = 0;
	size_t host = put_name(&b, "tv-1234.local");
	put_rr(&b, DNS_TYPE_A, MDNS_CACHE_FLUSH | CLASS_IN, 120, V4_A, 4);
	ends[n++] = b.len;
	put_pointer(&b, host + 8);
	rd = begin_rr(&b, DNS_TYPE_PTR, CLASS_IN, 4500);
	put_pointer(&b, host);
	end_rdata(&b, rd);
	ends[n++] = b.len;
	check_prefixes(&b, ends, n);
}

static void test_counts_beyond_records(void **state)
{
	(void)state;
	struct buf b;
	put_header(&b, 0x4d7b, FLAG_QR | FLAG_RD | FLAG_RA, 1, 5, 0, 3);
	size_t q = put_name(&b, "item.kakao.com");
	put_question(&b, DNS_TYPE_A, CLASS_IN);
	put_pointer(&b, q);
	put_rr(&b, DNS_TYPE_A, CLASS_IN, 212, V4_A, 4);
	put_pointer(&b, q);
	put_rr(&b, DNS_TYPE_A, CLASS_IN, 212, V4_B, 4);
	struct seen *s = new_seen();
	struct dns_header h;
	assert_result(parse(&b, &h, s), DNS_ERR_TRUNCATED);
	assert_int_equal(s->count, 3);
	assert_int_equal(h.counts[1], 5);
	assert_int_equal(h.counts[3], 3);
	assert_memory_equal(s->records[2].addr, V4_B, 4);

	/* Only the additional count is too large. */
	set16(&b, 6, 2);
	set16(&b, 10, 1);
	s->count = 0;
	assert_result(parse(&b, &h, s), DNS_ERR_TRUNCATED);
	assert_int_equal(s->count, 3);

	/* A question count with no question at all. */
	put_header(&b, 1, 0, 1, 0, 0, 0);
	s->count = 0;
	assert_result(parse(&b, &h, s), DNS_ERR_TRUNCATED);
	assert_int_equal(s->count, 0);

	/* Bytes after the last counted record are ignored. */
	put_header(&b, 1, 0, 1, 0, 0, 0);
	put_name(&b, "x");
	put_question(&b, DNS_TYPE_A, CLASS_IN);
	put32(&b, 0xdeadbeef);
	s->count = 0;
	assert_result(parse(&b, &h, s), DNS_OK);
	assert_int_equal(s->count, 1);
	free(s);
}

static void test_short_messages(void **state)
{
	(void)state;
	struct seen *s = new_seen();
	struct dns_header h;
	assert_result(parse_bytes((const uint8_t *)"", 0, &h, s), DNS_ERR_SHORT_HEADER);
	assert_int_equal(s->count, 0);
	/* The header is cleared, not left as it was. */
	assert_int_equal(h.id, 0);
	assert_int_equal(h.is_response, 0);
	assert_int_equal(h.counts[0], 0);
	static const uint8_t eleven[11] = { 0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1 };
	assert_result(parse_bytes(eleven, sizeof eleven, &h, s), DNS_ERR_SHORT_HEADER);
	assert_int_equal(s->count, 0);
	assert_int_equal(h.id, 0);
	/* 12 bytes of header, all counts zero: a complete message. */
	static const uint8_t twelve[12] = { 0x12, 0x34, 0x81, 0x80 };
	assert_result(parse_bytes(twelve, sizeof twelve, &h, s), DNS_OK);
	assert_int_equal(s->count, 0);
	assert_int_equal(h.id, 0x1234);
	/* No callback at all. */
	struct buf b;
	size_t ends[16];
	build_response(&b, ends);
	struct dns_record *scratch = malloc(sizeof *scratch);
	assert_non_null(scratch);
	assert_result(dns_parse(b.data, b.len, &h, scratch, NULL, NULL), DNS_OK);
	free(scratch);
	free(s);
}

static void test_callback_stops(void **state)
{
	(void)state;
	struct buf b;
	size_t ends[16];
	size_t n = build_response(&b, ends);
	for (size_t stop = 1; stop <= n; stop++) {
		struct seen *s = new_seen();
		s->stop_after = stop;
		struct dns_header h;
		assert_result(parse(&b, &h, s), DNS_OK);
		assert_int_equal(s->count, stop);
		free(s);
	}
	/* Stopping before a malformed record: it is never reached. */
	put_header(&b, 1, FLAG_QR, 0, 2, 0, 0);
	put_name(&b, "a");
	put_rr(&b, DNS_TYPE_A, CLASS_IN, 1, V4_A, 4);
	put_pointer(&b, b.len);
	put_rr(&b, DNS_TYPE_A, CLASS_IN, 1, V4_A, 4);
	struct seen *s = new_seen();
	s->stop_after = 1;
	struct dns_header h;
	assert_result(parse(&b, &h, s), DNS_OK);
	assert_int_equal(s->count, 1);
	free(s);
}

/* ---- record data that does not fit its type ----------------------------- */

static void test_bad_address_rdata(void **state)
{
	(void)state;
	struct buf b;
	put_header(&b, 0xc2da, FLAG_QR | FLAG_RD | FLAG_RA, 1, 4, 0, 0);
	size_t q = put_name(&b, "news.example");
	put_question(&b, DNS_TYPE_A, CLASS_IN);
	put_pointer(&b, q);
	put_rr(&b, DNS_TYPE_A, CLASS_IN, 300, V4_A, 3);
	put_pointer(&b, q);
	put_rr(&b, DNS_TYPE_A, CLASS_IN, 300, V4_B, 4);
	put_pointer(&b, q);
	put_rr(&b, DNS_TYPE_AAAA, CLASS_IN, 300, V6_A, 4);
	put_pointer(&b, q);
	put_rr(&b, DNS_TYPE_A, CLASS_IN, 300, V6_A, 16);
	struct seen *s = new_seen();
	struct dns_header h;
	assert_result(parse(&b, &h, s), DNS_ERR_BAD_RDATA);
	assert_int_equal(s->count, 5);
	const struct dns_record *r = s->records;
	assert_record(&r[1], DNS_ANSWER, "news.example", DNS_TYPE_A, CLASS_IN, 300, 3);
	assert_int_equal(r[1].addr_len, 0);
	assert_record(&r[2], DNS_ANSWER, "news.example", DNS_TYPE_A, CLASS_IN, 300, 4);
	assert_int_equal(r[2].addr_len, 4);
	assert_memory_equal(r[2].addr, V4_B, 4);
	assert_record(&r[3], DNS_ANSWER, "news.example", DNS_TYPE_AAAA, CLASS_IN, 300, 4);
	assert_int_equal(r[3].addr_len, 0);
	assert_record(&r[4], DNS_ANSWER, "news.example", DNS_TYPE_A, CLASS_IN, 300, 16);
	assert_int_equal(r[4].addr_len, 0);
	free(s);
}

static void test_bad_name_rdata(void **state)
{
	(void)state;
	struct buf b;
	/*
	 * A CNAME with rdlength 4 ("\3abc"): its name goes on into the next
	 * record's owner (the root), so it ends past the rdata.
	 */
	put_header(&b, 0x1ff1, FLAG_QR, 1, 3, 0, 0);
	size_t q = put_name(&b, "www.example.com");
	put_question(&b, DNS_TYPE_CNAME, CLASS_IN);
	put_pointer(&b, q);
	size_t rd = begin_rr(&b, DNS_TYPE_CNAME, CLASS_IN, 300);
	put_labels(&b, "abc");
	end_rdata(&b, rd);
	put_name(&b, "");
	put_rr(&b, DNS_TYPE_A, CLASS_IN, 300, V4_A, 4);
	/* A PTR whose name has a bad pointer, inside its rdata. */
	put_pointer(&b, q);
	rd = begin_rr(&b, DNS_TYPE_PTR, CLASS_IN, 300);
	put_pointer(&b, b.len);
	end_rdata(&b, rd);
	struct seen *s = new_seen();
	struct dns_header h;
	assert_result(parse(&b, &h, s), DNS_ERR_BAD_RDATA);
	assert_int_equal(s->count, 4);
	const struct dns_record *r = s->records;
	assert_record(&r[1], DNS_ANSWER, "www.example.com", DNS_TYPE_CNAME, CLASS_IN, 300, 4);
	assert_string_equal(r[1].target, "");
	assert_record(&r[2], DNS_ANSWER, "", DNS_TYPE_A, CLASS_IN, 300, 4);
	assert_memory_equal(r[2].addr, V4_A, 4);
	assert_record(&r[3], DNS_ANSWER, "www.example.com", DNS_TYPE_PTR, CLASS_IN, 300, 2);
	assert_string_equal(r[3].target, "");

	/* A CNAME as the last record whose name runs to the end of the message. */
	put_header(&b, 2, FLAG_QR, 0, 1, 0, 0);
	put_name(&b, "a");
	rd = begin_rr(&b, DNS_TYPE_CNAME, CLASS_IN, 1);
	put_labels(&b, "abc");
	end_rdata(&b, rd);
	s->count = 0;
	assert_result(parse(&b, &h, s), DNS_ERR_BAD_RDATA);
	assert_int_equal(s->count, 1);
	assert_string_equal(s->records[0].target, "");
	free(s);
}

/* ---- names of things ---------------------------------------------------- */

static void test_error_names(void **state)
{
	(void)state;
	static const enum dns_error all[] = {
		DNS_OK, DNS_ERR_SHORT_HEADER, DNS_ERR_TRUNCATED, DNS_ERR_BAD_LABEL,
		DNS_ERR_BAD_POINTER, DNS_ERR_POINTER_LOOP, DNS_ERR_NAME_TOO_LONG,
		DNS_ERR_BAD_RDATA,
	};
	size_t n = sizeof all / sizeof all[0];
	for (size_t i = 0; i < n; i++) {
		const char *name = dns_error_name(all[i]);
		assert_non_null(name);
		assert_true(name[0] != '\0');
		assert_string_not_equal(name, "unknown");
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(name, dns_error_name(all[j]));
	}
	assert_string_equal(dns_error_name(DNS_OK), "ok");
	assert_string_equal(dns_error_name((enum dns_error)1), "unknown");
	assert_string_equal(dns_error_name((enum dns_error)-8), "unknown");
}

static void test_type_names(void **state)
{
	(void)state;
	assert_string_equal(dns_type_name(DNS_TYPE_A), "A");
	assert_string_equal(dns_type_name(DNS_TYPE_AAAA), "AAAA");
	assert_string_equal(dns_type_name(DNS_TYPE_CNAME), "CNAME");
	assert_string_equal(dns_type_name(DNS_TYPE_HTTPS), "HTTPS");
	assert_string_equal(dns_type_name(DNS_TYPE_SVCB), "SVCB");
	assert_string_equal(dns_type_name(DNS_TYPE_PTR), "PTR");
	assert_null(dns_type_name(0));
	assert_null(dns_type_name(4242));
	assert_null(dns_type_name(65535));
}

/* ---- DNS over TCP framing ------------------------------------------------ */

struct tcp_messages {
	size_t count;
	size_t total;
	uint8_t first[64];
	size_t first_len;
};

static void on_tcp_message(void *context, const uint8_t *message, size_t len)
{
	struct tcp_messages *m = context;
	if (m->count == 0) {
		m->first_len = len < sizeof m->first ? len : sizeof m->first;
		memcpy(m->first, message, m->first_len);
	}
	m->count++;
	m->total += len;
}

/* Two messages and an empty one in one stream: whole, whatever the chunking. */
static void test_tcp_framing_every_split(void **state)
{
	(void)state;
	static const uint8_t stream[] = {
		0x00, 0x03, 'a', 'b', 'c',       /* a 3-byte message */
		0x00, 0x00,                      /* an empty one: skipped */
		0x00, 0x05, '1', '2', '3', '4', '5',
	};
	for (size_t cut1 = 0; cut1 <= sizeof stream; cut1++) {
		for (size_t cut2 = cut1; cut2 <= sizeof stream; cut2++) {
			struct dns_tcp_reader reader;
			dns_tcp_reader_init(&reader);
			struct tcp_messages m = { 0 };
			assert_int_equal(dns_tcp_reader_feed(&reader, stream, cut1, on_tcp_message, &m), 0);
			assert_int_equal(dns_tcp_reader_feed(&reader, stream + cut1, cut2 - cut1,
							     on_tcp_message, &m), 0);
			assert_int_equal(dns_tcp_reader_feed(&reader, stream + cut2,
							     sizeof stream - cut2, on_tcp_message, &m), 0);
			assert_int_equal(m.count, 2);
			assert_int_equal(m.total, 8);
			assert_int_equal(m.first_len, 3);
			assert_memory_equal(m.first, "abc", 3);
			assert_int_equal(dns_tcp_reader_held(&reader), 0);
			dns_tcp_reader_free(&reader);
		}
	}
}

/* A stream cut inside a message: nothing delivered, the part held until freed. */
static void test_tcp_framing_partial(void **state)
{
	(void)state;
	static const uint8_t stream[] = { 0xff, 0xff, 'x', 'y' }; /* claims 65535 bytes */
	struct dns_tcp_reader reader;
	dns_tcp_reader_init(&reader);
	struct tcp_messages m = { 0 };
	assert_int_equal(dns_tcp_reader_feed(&reader, stream, sizeof stream, on_tcp_message, &m), 0);
	assert_int_equal(m.count, 0);
	assert_int_equal(dns_tcp_reader_held(&reader), 65535);
	dns_tcp_reader_free(&reader);
	assert_int_equal(dns_tcp_reader_held(&reader), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_query),
		cmocka_unit_test(test_tcp_framing_every_split),
		cmocka_unit_test(test_tcp_framing_partial),
		cmocka_unit_test(test_header_fields),
		cmocka_unit_test(test_response),
		cmocka_unit_test(test_ptr),
		cmocka_unit_test(test_https),
		cmocka_unit_test(test_https_param_past_rdata),
		cmocka_unit_test(test_svcb_short_rdata),
		cmocka_unit_test(test_mdns_cache_flush),
		cmocka_unit_test(test_root_name),
		cmocka_unit_test(test_escaped_labels),
		cmocka_unit_test(test_name_length_limit),
		cmocka_unit_test(test_bad_label_types),
		cmocka_unit_test(test_bad_pointers),
		cmocka_unit_test(test_pointer_chain),
		cmocka_unit_test(test_read_name_next),
		cmocka_unit_test(test_every_prefix),
		cmocka_unit_test(test_counts_beyond_records),
		cmocka_unit_test(test_short_messages),
		cmocka_unit_test(test_callback_stops),
		cmocka_unit_test(test_bad_address_rdata),
		cmocka_unit_test(test_bad_name_rdata),
		cmocka_unit_test(test_error_names),
		cmocka_unit_test(test_type_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
