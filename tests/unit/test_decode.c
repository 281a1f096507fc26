/*
 * Unit tests for daemon/decode.c: frames built byte by byte for every link type
 * decode_packet() knows, the fields it gives, and the result for each malformed case.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define WIRE_BUF_SIZE 1024
#include "wire_buf.h"

#include "../../daemon/decode.h"

/* ---- building frames ---------------------------------------------------- */

static void set16(struct buf *b, size_t offset, uint16_t v)
{
	b->data[offset] = (uint8_t)(v >> 8);
	b->data[offset + 1] = (uint8_t)v;
}

static const uint8_t MAC_DST[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x01 };
static const uint8_t MAC_SRC[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x02 };
/* 16-byte forms, as decode gives them: IPv4 in the first 4, rest zero. */
static const uint8_t V4_SRC[16] = { 192, 0, 2, 1 };
static const uint8_t V4_DST[16] = { 198, 51, 100, 7 };
static const uint8_t V6_SRC[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x01 };
static const uint8_t V6_DST[16] = { 0x20, 0x01, 0x0d, 0xb8, [14] = 0xab, [15] = 0x02 };
static const uint8_t PAYLOAD[] = "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n";

enum {
	TCP_SPORT = 51000, TCP_DPORT = 443,
	UDP_SPORT = 53001, UDP_DPORT = 53,
	TCP_SEQ = 0x11223344,
	TCP_FLAGS = DECODE_TCP_PSH | DECODE_TCP_ACK,
	PAYLOAD_LEN = 12, /* what the default packets carry */
	IPPROTO_ICMP_ = 1, IPPROTO_TCP_ = 6, IPPROTO_UDP_ = 17, IPPROTO_ICMPV6_ = 58,
	EXT_HOP = 0, EXT_ROUTING = 43, EXT_FRAGMENT = 44, EXT_DSTOPTS = 60,
};

/* An IP packet, with the offsets of its transport header and payload. */
struct ip_packet {
	struct buf b;
	size_t l4, payload;
};

/* A transport segment carrying `payload_len` bytes of PAYLOAD. */
static size_t put_l4(struct buf *b, uint8_t proto, size_t payload_len)
{
	assert_true(payload_len < sizeof PAYLOAD);
	size_t header;
	if (proto == IPPROTO_TCP_) {
		put16(b, TCP_SPORT);
		put16(b, TCP_DPORT);
		put32(b, TCP_SEQ);
		put32(b, 0x55667788); /* ack */
		put8(b, 5 << 4);      /* data offset 5 */
		put8(b, TCP_FLAGS);
		put16(b, 65535);      /* window */
		put32(b, 0);          /* checksum, urgent pointer */
		header = 20;
	} else if (proto == IPPROTO_UDP_) {
		put16(b, UDP_SPORT);
		put16(b, UDP_DPORT);
		put16(b, (uint16_t)(8 + payload_len));
		put16(b, 0);
		header = 8;
	} else { /* ICMP echo request, or anything else */
		put32(b, 0x08000000);
		put32(b, 0x00010001);
		header = 8;
	}
	put_mem(b, PAYLOAD, payload_len);
	return header;
}

/* IPv4 with `option_words` words of options (NOPs), DF set, total length right. */
static void make_ipv4_opts(struct ip_packet *ip, uint8_t proto, size_t payload_len,
			   unsigned option_words)
{
	struct buf l4 = { .len = 0 };
	size_t l4_header = put_l4(&l4, proto, payload_len);
	size_t header = 20 + 4 * option_words;
	memset(ip, 0, sizeof *ip);
	put8(&ip->b, (uint8_t)(0x40 | (header / 4)));
	put8(&ip->b, 0);
	put16(&ip->b, (uint16_t)(header + l4.len));
	put16(&ip->b, 0x1234); /* id */
	put16(&ip->b, 0x4000); /* DF: not a fragment */
	put8(&ip->b, 64);
	put8(&ip->b, proto);
	put16(&ip->b, 0);
	put_mem(&ip->b, V4_SRC, 4);
	put_mem(&ip->b, V4_DST, 4);
	for (unsigned i = 0; i < 4 * option_words; i++)
		put8(&ip->b, 1);
	ip->l4 = ip->b.len;
	ip->payload = ip->l4 + l4_header;
	put_mem(&ip->b, l4.data, l4.len);
}

static void make_ipv4(struct ip_packet *ip, uint8_t proto, size_t payload_len)
{
	make_ipv4_opts(ip, proto, payload_len, 0);
}

/* An IPv6 extension header: hop-by-hop, routing, destination options or fragment. */
struct ipv6_ext {
	uint8_t type;
	uint8_t len8;  /* header extension length, in 8 octets past the first 8 */
	uint16_t frag; /* fragment offset and flags, for EXT_FRAGMENT */
};

static void make_ipv6_ext(struct ip_packet *ip, const struct ipv6_ext *ext, size_t n,
			  uint8_t proto, size_t payload_len)
{
	struct buf l4 = { .len = 0 }, exts = { .len = 0 };
	size_t l4_header = put_l4(&l4, proto, payload_len);
	for (size_t i = 0; i < n; i++) {
		put8(&exts, i + 1 < n ? ext[i + 1].type : proto);
		if (ext[i].type == EXT_FRAGMENT) {
			put8(&exts, 0);
			put16(&exts, ext[i].frag);
			put32(&exts, 0xcafe0001); /* identification */
		} else {
			put8(&exts, ext[i].len8);
			put_zeros(&exts, (size_t)(ext[i].len8 + 1) * 8 - 2); /* Pad1 options */
		}
	}
	memset(ip, 0, sizeof *ip);
	put32(&ip->b, 0x60012345); /* version 6, flow label */
	put16(&ip->b, (uint16_t)(exts.len + l4.len));
	put8(&ip->b, n ? ext[0].type : proto);
	put8(&ip->b, 64);
	put_mem(&ip->b, V6_SRC, 16);
	put_mem(&ip->b, V6_DST, 16);
	put_mem(&ip->b, exts.data, exts.len);
	ip->l4 = ip->b.len;
	ip->payload = ip->l4 + l4_header;
	put_mem(&ip->b, l4.data, l4.len);
}

static void make_ipv6(struct ip_packet *ip, uint8_t proto, size_t payload_len)
{
	make_ipv6_ext(ip, NULL, 0, proto, payload_len);
}

/* A whole frame, with the offsets of its layers. */
struct frame {
	struct buf b;
	size_t l3, l4, payload, ip_len;
};

static void put_ip(struct frame *f, const struct ip_packet *ip)
{
	f->l3 = f->b.len;
	f->l4 = f->l3 + ip->l4;
	f->payload = f->l3 + ip->payload;
	f->ip_len = ip->b.len;
	put_mem(&f->b, ip->b.data, ip->b.len);
}

static uint16_t ethertype_of(const struct ip_packet *ip)
{
	return (ip->b.data[0] >> 4) == 6 ? 0x86dd : 0x0800;
}

static void put_eth(struct buf *b, uint16_t ethertype)
{
	put_mem(b, MAC_DST, 6);
	put_mem(b, MAC_SRC, 6);
	put16(b, ethertype);
}

/* A VLAN tag: its TCI (priority, DEI, id), then the next ethertype. */
static void put_vlan(struct buf *b, uint16_t tci, uint16_t next)
{
	put16(b, tci);
	put16(b, next);
}

/* PPPoE session header (ver 1 type 1, code 0) and the PPP protocol. */
static void put_pppoe(struct buf *b, uint16_t ppp_proto, size_t ip_len)
{
	put8(b, 0x11);
	put8(b, 0x00);
	put16(b, 0x0042); /* session id */
	put16(b, (uint16_t)(ip_len + 2));
	put16(b, ppp_proto);
}

/* Linux cooked v1: packet type, ARPHRD, address length, 8-byte address, protocol. */
static void put_sll(struct buf *b, uint16_t arphrd, uint16_t addr_len, uint16_t proto)
{
	put16(b, 4); /* sent by us */
	put16(b, arphrd);
	put16(b, addr_len);
	put_mem(b, MAC_SRC, 6);
	put16(b, 0);
	put16(b, proto);
}

/* Linux cooked v2: protocol, reserved, ifindex, ARPHRD, packet type, address length, address. */
static void put_sll2(struct buf *b, uint16_t proto, uint16_t arphrd, uint8_t addr_len)
{
	put16(b, proto);
	put16(b, 0);
	put32(b, 3);
	put16(b, arphrd);
	put8(b, 0);
	put8(b, addr_len);
	put_mem(b, MAC_SRC, 6);
	put16(b, 0);
}

/* The link layers of the tests, each around an IP packet. */
enum link {
	LINK_ETH, LINK_VLAN, LINK_QINQ, LINK_PPPOE, LINK_SLL, LINK_SLL2,
	LINK_RAW, LINK_RAW_BSD, LINK_IPV4_OR_6, LINK_NULL_LE, LINK_NULL_BE, LINK_LOOP,
	LINK_COUNT
};

static const char *const link_names[LINK_COUNT] = {
	"ethernet", "802.1q", "qinq", "pppoe", "sll", "sll2", "raw12", "raw14",
	"dlt228/229", "null-le", "null-be", "loop",
};

/* Builds `link` around `ip` into `f`; returns the DLT to decode it with. */
static int wrap(struct frame *f, enum link link, const struct ip_packet *ip)
{
	int v6 = (ip->b.data[0] >> 4) == 6;
	uint16_t ethertype = ethertype_of(ip);
	int dlt = -1;
	memset(f, 0, sizeof *f);
	switch (link) {
	case LINK_ETH:
		put_eth(&f->b, ethertype);
		dlt = DECODE_DLT_EN10MB;
		break;
	case LINK_VLAN:
		put_eth(&f->b, 0x8100);
		put_vlan(&f->b, 0xa064, ethertype); /* priority 5, id 100 */
		dlt = DECODE_DLT_EN10MB;
		break;
	case LINK_QINQ:
		put_eth(&f->b, 0x88a8);
		put_vlan(&f->b, 0x000a, 0x8100);
		put_vlan(&f->b, 0x1014, ethertype); /* DEI set, id 20 */
		dlt = DECODE_DLT_EN10MB;
		break;
	case LINK_PPPOE:
		put_eth(&f->b, 0x8864);
		put_pppoe(&f->b, v6 ? 0x0057 : 0x0021, ip->b.len);
		dlt = DECODE_DLT_EN10MB;
		break;
	case LINK_SLL:
		put_sll(&f->b, 1, 6, ethertype);
		dlt = DECODE_DLT_LINUX_SLL;
		break;
	case LINK_SLL2:
		put_sll2(&f->b, ethertype, 1, 6);
		dlt = DECODE_DLT_LINUX_SLL2;
		break;
	case LINK_RAW:
		dlt = DECODE_DLT_RAW;
		break;
	case LINK_RAW_BSD:
		dlt = DECODE_DLT_RAW_BSD;
		break;
	case LINK_IPV4_OR_6:
		dlt = v6 ? DECODE_DLT_IPV6 : DECODE_DLT_IPV4;
		break;
	case LINK_NULL_LE:
		put_le32(&f->b, v6 ? 30 : 2);
		dlt = DECODE_DLT_NULL;
		break;
	case LINK_NULL_BE:
		put32(&f->b, v6 ? 28 : 2);
		dlt = DECODE_DLT_NULL;
		break;
	case LINK_LOOP:
		put32(&f->b, v6 ? 24 : 2);
		dlt = DECODE_DLT_LOOP;
		break;
	case LINK_COUNT:
		fail();
	}
	put_ip(f, ip);
	return dlt;
}

/* Decodes a whole frame, not snapped. */
static enum decode_result decode_frame(int dlt, const struct frame *f, struct decoded_packet *d)
{
	return decode_packet(dlt, f->b.data, f->b.len, f->b.len, d);
}

/* Decodes the first `caplen` bytes of a frame whose wire length is `wirelen`. */
static enum decode_result decode_cut(int dlt, const struct frame *f, size_t caplen,
				     size_t wirelen, struct decoded_packet *d)
{
	assert_true(caplen <= f->b.len);
	return decode_packet(dlt, f->b.data, caplen, wirelen, d);
}

/* Asserts the IP and transport fields of a frame built from the default packets. */
static void assert_ip_l4(const struct decoded_packet *d, const struct frame *f, int version,
			 uint8_t proto, size_t payload_len)
{
	assert_int_equal(d->ip_version, version);
	assert_int_equal(d->l4_proto, proto);
	assert_ptr_equal(d->l3, f->b.data + f->l3);
	assert_int_equal(d->l3_len, f->ip_len);
	assert_memory_equal(d->src_addr, version == 4 ? V4_SRC : V6_SRC, 16);
	assert_memory_equal(d->dst_addr, version == 4 ? V4_DST : V6_DST, 16);
	assert_ptr_equal(d->payload, f->b.data + f->payload);
	assert_int_equal(d->payload_len, payload_len);
	assert_memory_equal(d->payload, PAYLOAD, payload_len);
	assert_int_equal(d->payload_truncated, 0);
	if (proto == IPPROTO_TCP_) {
		assert_int_equal(d->src_port, TCP_SPORT);
		assert_int_equal(d->dst_port, TCP_DPORT);
		assert_int_equal(d->tcp_seq, TCP_SEQ);
		assert_int_equal(d->tcp_flags, TCP_FLAGS);
	} else {
		assert_int_equal(d->src_port, UDP_SPORT);
		assert_int_equal(d->dst_port, UDP_DPORT);
		assert_int_equal(d->tcp_flags, 0);
	}
}

static void assert_no_macs(const struct decoded_packet *d)
{
	assert_int_equal(d->has_src_mac, 0);
	assert_int_equal(d->has_dst_mac, 0);
}

static void assert_ethernet_macs(const struct decoded_packet *d)
{
	assert_int_equal(d->has_src_mac, 1);
	assert_int_equal(d->has_dst_mac, 1);
	assert_memory_equal(d->src_mac, MAC_SRC, 6);
	assert_memory_equal(d->dst_mac, MAC_DST, 6);
}

/* ---- well-formed frames ------------------------------------------------- */

static void test_ethernet_ipv4_tcp(void **state)
{
	(void)state;
	struct ip_packet ip;
	struct frame f;
	struct decoded_packet d;
	make_ipv4(&ip, IPPROTO_TCP_, PAYLOAD_LEN);
	int dlt = wrap(&f, LINK_ETH, &ip);
	assert_int_equal(decode_frame(dlt, &f, &d), DECODE_OK);
	assert_ip_l4(&d, &f, 4, IPPROTO_TCP_, PAYLOAD_LEN);
	assert_ethernet_macs(&d);
	assert_int_equal(d.vlan_count, 0);
	assert_int_equal(f.l3, 14);
}

static void test_ethernet_ipv4_udp(void **state)
{
	(void)state;
	struct ip_packet ip;
	struct frame f;
	struct decoded_packet d;
	make_ipv4(&ip, IPPROTO_UDP_, PAYLOAD_LEN);
	int dlt = wrap(&f, LINK_ETH, &ip);
	assert_int_equal(decode_frame(dlt, &f, &d), DECODE_OK);
	assert_ip_l4(&d, &f, 4, IPPROTO_UDP_, PAYLOAD_LEN);
	assert_ethernet_macs(&d);
}

static void test_ethernet_ipv6_tcp(void **state)
{
	(void)state;
	struct ip_packet ip;
	struct frame f;
	struct decoded_packet d;
	make_ipv6(&ip, IPPROTO_TCP_, PAYLOAD_LEN);
	int dlt = wrap(&f, LINK_ETH, &ip);
	assert_int_equal(decode_frame(dlt, &f, &d), DECODE_OK);
	assert_ip_l4(&d, &f, 6, IPPROTO_TCP_, PAYLOAD_LEN);
	assert_ethernet_macs(&d);
}

static void test_ethernet_ipv6_udp(void **state)
{
	(void)state;
	struct ip_packet ip;
	struct frame f;
	struct decoded_packet d;
	make_ipv6(&ip, IPPROTO_UDP_, PAYLOAD_LEN);
	int dlt = wrap(&f, LINK_ETH, &ip);
	assert_int_equal(decode_frame(dlt, &f, &d), DECODE_OK);
	assert_ip_l4(&d, &f, 6, IPPROTO_UDP_, PAYLOAD_LEN);
}

/* Short frames are padded to 60 bytes: lengths come from IP, not the frame. */
static void test_ethernet_padding(void **state)
{
	(void)state;
	struct ip_packet ip;
	struct frame f;
	struct decoded_packet d;

	make_ipv4(&ip, IPPROTO_UDP_, 4); /* 14 + 32 bytes */
	int dlt = wrap(&f, LINK_ETH, &ip);
	put_zeros(&f.b, 60 - f.b.len);
	assert_int_equal(decode_frame(dlt, &f, &d), DECODE_OK);
	assert_int_equal(d.l3_len, 32);
	assert_ip_l4(&d, &f, 4, IPPROTO_UDP_, 4);

	make_ipv4(&ip, IPPROTO_TCP_, 0); /* a bare ACK: 14 + 40 bytes */
	dlt = wrap(&f, LINK_ETH, &ip);
	put_zeros(&f.b, 60 - f.b.len);
	assert_int_equal(decode_frame(dlt, &f, &d), DECODE_OK);
	assert_int_equal(d.l3_len, 40);
	assert_int_equal(d.payload_len, 0);
	assert_ip_l4(&d, &f, 4, IPPROTO_TCP_, 0);

	make_ipv6(&ip, IPPROTO_UDP_, 0); /* 14 + 48 bytes, padded by a sloppy sender */
	dlt = wrap(&f, LINK_ETH, &ip);
	put_zeros(&f.b, 8);
	assert_int_equal(decode_frame(dlt, &f, &d), DECODE_OK);
	assert_int_equal(d.l3_len, 48);
	assert_int_equal(d.payload_len, 0);
}

static void test_ipv4_options(void **state)
{
	(void)state;
	struct ip_packet ip;
	struct frame f;
	struct decoded_packet d;
	make_ipv4_opts(&ip, IPPROTO_TCP_, PAYLOAD_LEN, 2); /* IHL 7 */
	int dlt = wrap(&f, LINK_ETH, &ip);
	assert_int_equal(f.l4, 14 + 28);
	assert_int_equal(decode_frame(dlt, &f, &d), DECODE_OK);
	assert_ip_l4(&d, &f, 4, IPPROTO_TCP_, PAYLOAD_LEN);
}

static void test_tcp_options(void **state)
{
	(void)state;
	struct ip_packet ip;
	struct frame f;
	struct decoded_packet d;
	/* Data offset 8: the first 12 payload bytes are read as options. */
	make_ipv4(&ip, IPPROTO_TCP_, PAYLOAD_LEN);
	ip.b.data[ip.l4 + 12] = 8 << 4;
	int dlt = wrap(&f, LINK_ETH, &ip);
	assert_int_equal(decode_frame(dlt, &f, &d), DECODE_OK);
	assert_ptr_equal(d.payload, f.b.data + f.l4 + 32);
	assert_int_equal(d.payload_len, 0);
}

/* UDP trailing bytes past the UDP length (inside the IP payload) are not payload. */
static void test_udp_length_shorter_than_ip_payload(void **state)
{
	(void)state;
	struct ip_packet ip;
	struct frame f;
	struct decoded_packet d;
	make_ipv4(&ip, IPPROTO_UDP_, PAYLOAD_LEN);
	set16(&ip.b, ip.l4 + 4, 8 + 5);
	int dlt = wrap(&f, LINK_ETH, &ip);
	assert_int_equal(decode_frame(dlt, &f, &d), DECODE_OK);
	assert_int_equal(d.payload_len, 5);
	assert_int_equal(d.l3_len, f.ip_len);
}

static void test_vlan_8021q(void **state)
{
	(void)state;
	struct ip_packet ip;
	struct frame f;
	struct decoded_packet d;
	make_ipv4(&ip, IPPROTO_TCP_, PAYLOAD_LEN);
	int dlt = wrap(&f, LINK_VLAN, &ip);
	assert_int_equal(decode_frame(dlt, &f, &d), DECODE_OK);
	assert_int_equal(d.vlan_count, 1);
	assert_int_equal(d.vlan_ids[0], 100); /* priority bits masked off */
	assert_ip_l4(&d, &f, 4, IPPROTO_TCP_, PAYLOAD_LEN);
	assert_ethernet_macs(&d);
}

static void test_vlan_qinq(void **state)
{
	(void)state;
	struct ip_packet ip;
	struct frame f;
	struct decoded_packet d;
	make_ipv6(&ip, IPPROTO_UDP_, PAYLOAD_LEN);
	int dlt = wrap(&f, LINK_QINQ, &ip);
	assert_int_equal(f.l3, 22);
	assert_int_equal(decode_frame(dlt, &f, &d), DECODE_OK);
	assert_int_equal(d.vlan_count, 2);
	assert_int_equal(d.vlan_ids[0], 10);
	assert_int_equal(d.vlan_ids[1], 20);
	assert_ip_l4(&d, &f, 6, IPPROTO_UDP_, PAYLOAD_LEN);
	assert_ethernet_macs(&d);
}

/* Builds `tags` VLAN tags (ids 1, 2, ...) around an IPv4 TCP packet. */
static int vlan_stack(struct frame *f, unsigned tags)
{
	struct ip_packet ip;
	make_ipv4(&ip, IPPROTO_TCP_, PAYLOAD_LEN);
	memset(f, 0, sizeof *f);
	put_eth(&f->b, 0x88a8);
	for (unsigned i = 1; i <= tags; i++)
		put_vlan(&f->b, (uint16_t)i, i < tags ? 0x8100 : 0x0800);
	put_ip(f, &ip);
	return DECODE_DLT_EN10MB;
}

static void test_vlan_max_tags(void **state)
{
	(void)state;
	struct frame f;
	struct decoded_packet d;
	int dlt = vlan_stack(&f, DECODE_MAX_VLAN_TAGS);
	assert_int_equal(decode_frame(dlt, &f, &d), DECODE_OK);
	assert_int_equal(d.vlan_count, DECODE_MAX_VLAN_TAGS);
	for (unsigned i = 0; i < DECODE_MAX_VLAN_TAGS; i++)
		assert_int_equal(d.vlan_ids[i], i + 1);
	assert_ip_l4(&d, &f, 4, IPPROTO_TCP_, PAYLOAD_LEN);
}

static void test_vlan_too_many_tags(void **state)
{
	(void)state;
	struct frame f;
	struct decoded_packet d;
	int dlt = vlan_stack(&f, DECODE_MAX_VLAN_TAGS + 1);
	assert_int_equal(decode_frame(dlt, &f, &d), DECODE_BAD_VLAN);
}

static void test_pppoe_ipv4(void **state)
{
	(void)state;
	struct ip_packet ip;
	struct frame f;
	struct decoded_packet d;
	make_ipv4(&ip, IPPROTO_TCP_, PAYLOAD_LEN);
	int dlt = wrap(&f, LINK_PPPOE, &ip);
	assert_int_equal(f.l3, 22);
	assert_int_equal(decode_frame(dlt, &f, &d), DECODE_OK);
	assert_ip_l4(&d, &f, 4, IPPROTO_TCP_, PAYLOAD_LEN);
	assert_ethernet_macs(&d);
}

static void test_pppoe_ipv6(void **state)
{
	(void)state;
	struct ip_packet ip;
	struct frame f;
	struct decoded_packet d;
	make_ipv6(&ip, IPPROTO_UDP_, PAYLOAD_LEN);
	int dlt = wrap(&f, LINK_PPPOE, &ip);
	assert_int_equal(decode_frame(dlt, &f, &d), DECODE_OK);
	assert_ip_l4(&d, &f, 6, IPPROTO_UDP_, PAYLOAD_LEN);
}

/* Also behind a VLAN tag, as on many DSL uplinks; padding past the PPPoE length. */
static void test_pppoe_vlan_padded(void **state)
{
	(void)state;
	struct ip_packet ip;
	struct frame f;
	struct decoded_packet d;
	make_ipv4(&ip, IPPROTO_UDP_, 0);
	memset(&f, 0, sizeof f);
	put_eth(&f.b, 0x8100);
	put_vlan(&f.b, 7, 0x8864);
	put_pppoe(&f.b, 0x0021, ip.b.len);
	put_ip(&f, &ip);
	put_zeros(&f.b, 64 - f.b.len);
	assert_int_equal(decode_frame(DECODE_DLT_EN10MB, &f, &d), DECODE_OK);
	assert_int_equal(d.vlan_count, 1);
	assert_int_equal(d.vlan_ids[0], 7);
	assert_int_equal(d.l3_len, 28);
	assert_int_equal(d.payload_len, 0);
}

static void test_pppoe_not_ip(void **state)
{
	(void)state;
	struct frame f;
	struct decoded_packet d;
	memset(&f, 0, sizeof f);
	put_eth(&f.b, 0x8864);
	put_pppoe(&f.b, 0xc021, 8); /* LCP echo request */
	put32(&f.b, 0x09010008);
	put32(&f.b, 0x12345678);
	assert_int_equal(decode_frame(DECODE_DLT_EN10MB, &f, &d), DECODE_SKIP_NOT_IP);
}

static void test_pppoe_bad_header(void **state)
{
	(void)state;
	struct ip_packet ip;
	struct frame f;
	struct decoded_packet d;
	make_ipv4(&ip, IPPROTO_TCP_, PAYLOAD_LEN);
	int dlt = wrap(&f, LINK_PPPOE, &ip);

	f.b.data[14] = 0x12; /* version 1 type 2 */
	assert_int_equal(decode_frame(dlt, &f, &d), DECODE_BAD_PPPOE);
	f.b.data[14] = 0x11;
	f.b.data[15] = 0x09; /* code PADI: not a session packet */
	assert_int_equal(decode_frame(dlt, &f, &d), DECODE_BAD_PPPOE);
	f.b.data[15] = 0x00;
	set16(&f.b, 18, 1); /* length shorter than the PPP protocol */
	assert_int_equal(decode_frame(dlt, &f, &d), DECODE_BAD_PPPOE);
	set16(&f.b, 18, (uint16_t)(ip.b.len + 3)); /* past the frame, not snapped */
	assert_int_equal(decode_frame(dlt, &f, &d), DECODE_BAD_PPPOE);
	set16(&f.b, 18, (uint16_t)(ip.b.len + 2));
	assert_int_equal(decode_frame(dlt, &f, &d), DECODE_OK);
}

static void test_sll_source_mac(void **state)
{
	(void)state;
	struct ip_packet ip;
	struct frame f;
	struct decoded_packet d;
	make_ipv4(&ip, IPPROTO_TCP_, PAYLOAD_LEN);
	int dlt = wrap(&f, LINK_SLL, &ip);
	assert_int_equal(f.l3, 16);
	assert_int_equal(dlt, 113);
	assert_int_equal(decode_frame(dlt, &f, &d), DECODE_OK);
	assert_ip_l4(&d, &f, 4, IPPROTO_TCP_, PAYLOAD_LEN);
	assert_int_equal(d.has_src_mac, 1);
	assert_memory_equal(d.src_mac, MAC_SRC, 6);
	assert_int_equal(d.has_dst_mac, 0);
	assert_int_equal(d.vlan_count, 0);
}

static void test_sll_no_mac(void **state)
{
	(void)state;
	struct ip_packet ip;
	struct frame f;
	struct decoded_packet d;
	make_ipv6(&ip, IPPROTO_UDP_, PAYLOAD_LEN);
	static const struct { uint16_t arphrd, addr_len; } cases[] = {
		{ 772, 6 }, /* loopback */
		{ 1, 0 },
		{ 1, 8 },
		{ 65534, 0 }, /* tunnel without a link header */
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		memset(&f, 0, sizeof f);
		put_sll(&f.b, cases[i].arphrd, cases[i].addr_len, 0x86dd);
		put_ip(&f, &ip);
		assert_int_equal(decode_frame(DECODE_DLT_LINUX_SLL, &f, &d), DECODE_OK);
		assert_ip_l4(&d, &f, 6, IPPROTO_UDP_, PAYLOAD_LEN);
		assert_no_macs(&d);
	}
}

static void test_sll2_source_mac(void **state)
{
	(void)state;
	struct ip_packet ip;
	struct frame f;
	struct decoded_packet d;
	make_ipv6(&ip, IPPROTO_TCP_, PAYLOAD_LEN);
	int dlt = wrap(&f, LINK_SLL2, &ip);
	assert_int_equal(f.l3, 20);
	assert_int_equal(dlt, 276);
	assert_int_equal(decode_frame(dlt, &f, &d), DECODE_OK);
	assert_ip_l4(&d, &f, 6, IPPROTO_TCP_, PAYLOAD_LEN);
	assert_int_equal(d.has_src_mac, 1);
	assert_memory_equal(d.src_mac, MAC_SRC, 6);
	assert_int_equal(d.has_dst_mac, 0);
}

static void test_sll2_no_mac(void **state)
{
	(void)state;
	struct ip_packet ip;
	struct frame f;
	struct decoded_packet d;
	make_ipv4(&ip, IPPROTO_UDP_, PAYLOAD_LEN);
	static const struct { uint16_t arphrd; uint8_t addr_len; } cases[] = {
		{ 772, 6 }, { 1, 0 }, { 1, 8 }, { 776, 0 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		memset(&f, 0, sizeof f);
		put_sll2(&f.b, 0x0800, cases[i].arphrd, cases[i].addr_len);
		put_ip(&f, &ip);
		assert_int_equal(decode_frame(DECODE_DLT_LINUX_SLL2, &f, &d), DECODE_OK);
		assert_ip_l4(&d, &f, 4, IPPROTO_UDP_, PAYLOAD_LEN);
		assert_no_macs(&d);
	}
}

static void test_raw_ip(void **state)
{
	(void)state;
	struct ip_packet v4, v6;
	struct frame f;
	struct decoded_packet d;
	make_ipv4(&v4, IPPROTO_TCP_, PAYLOAD_LEN);
	make_ipv6(&v6, IPPROTO_UDP_, PAYLOAD_LEN);
	static const enum link links[] = { LINK_RAW, LINK_RAW_BSD, LINK_IPV4_OR_6 };
	for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
		int dlt = wrap(&f, links[i], &v4);
		assert_int_equal(f.l3, 0);
		assert_int_equal(decode_frame(dlt, &f, &d), DECODE_OK);
		assert_ip_l4(&d, &f, 4, IPPROTO_TCP_, PAYLOAD_LEN);
		assert_no_macs(&d);
		dlt = wrap(&f, links[i], &v6);
		assert_int_equal(decode_frame(dlt, &f, &d), DECODE_OK);
		assert_ip_l4(&d, &f, 6, IPPROTO_UDP_, PAYLOAD_LEN);
		assert_no_macs(&d);
	}
	assert_int_equal(wrap(&f, LINK_IPV4_OR_6, &v4), 228);
	assert_int_equal(wrap(&f, LINK_IPV4_OR_6, &v6), 229);
	assert_int_equal(wrap(&f, LINK_RAW, &v6), 12);
}

/* DLT_NULL: the family in the capturing host's byte order, either one. */
static void test_null_loopback(void **state)
{
	(void)state;
	struct ip_packet v4, v6;
	struct frame f;
	struct decoded_packet d;
	make_ipv4(&v4, IPPROTO_UDP_, PAYLOAD_LEN);
	make_ipv6(&v6, IPPROTO_TCP_, PAYLOAD_LEN);
	static const uint32_t v6_families[] = { 24, 28, 30 };
	for (int big_endian = 0; big_endian < 2; big_endian++) {
		memset(&f, 0, sizeof f);
		if (big_endian)
			put32(&f.b, 2);
		else
			put_le32(&f.b, 2);
		put_ip(&f, &v4);
		assert_int_equal(decode_frame(DECODE_DLT_NULL, &f, &d), DECODE_OK);
		assert_ip_l4(&d, &f, 4, IPPROTO_UDP_, PAYLOAD_LEN);
		assert_no_macs(&d);
		for (size_t i = 0; i < 3; i++) {
			memset(&f, 0, sizeof f);
			if (big_endian)
				put32(&f.b, v6_families[i]);
			else
				put_le32(&f.b, v6_families[i]);
			put_ip(&f, &v6);
			assert_int_equal(decode_frame(DECODE_DLT_NULL, &f, &d), DECODE_OK);
			assert_ip_l4(&d, &f, 6, IPPROTO_TCP_, PAYLOAD_LEN);
		}
		memset(&f, 0, sizeof f);
		if (big_endian)
			put32(&f.b, 7); /* AF_ISO or so: not IP */
		else
			put_le32(&f.b, 7);
		put_ip(&f, &v4);
		assert_int_equal(decode_frame(DECODE_DLT_NULL, &f, &d), DECODE_SKIP_NOT_IP);
	}
}

/* DLT_LOOP: the family in network order only. */
static void test_loop_loopback(void **state)
{
	(void)state;
	struct ip_packet v4, v6;
	struct frame f;
	struct decoded_packet d;
	make_ipv4(&v4, IPPROTO_TCP_, PAYLOAD_LEN);
	make_ipv6(&v6, IPPROTO_UDP_, PAYLOAD_LEN);
	int dlt = wrap(&f, LINK_LOOP, &v4);
	assert_int_equal(dlt, 108);
	assert_int_equal(decode_frame(dlt, &f, &d), DECODE_OK);
	assert_ip_l4(&d, &f, 4, IPPROTO_TCP_, PAYLOAD_LEN);
	static const uint32_t v6_families[] = { 24, 28, 30 };
	for (size_t i = 0; i < 3; i++) {
		memset(&f, 0, sizeof f);
		put32(&f.b, v6_families[i]);
		put_ip(&f, &v6);
		assert_int_equal(decode_frame(DECODE_DLT_LOOP, &f, &d), DECODE_OK);
		assert_ip_l4(&d, &f, 6, IPPROTO_UDP_, PAYLOAD_LEN);
	}
	/* Host order is not network order here. */
	memset(&f, 0, sizeof f);
	put_le32(&f.b, 2);
	put_ip(&f, &v4);
	assert_int_equal(decode_frame(DECODE_DLT_LOOP, &f, &d), DECODE_SKIP_NOT_IP);
}

static void test_ipv6_extension_chain(void **state)
{
	(void)state;
	struct ip_packet ip;
	struct frame f;
	struct decoded_packet d;
	static const struct ipv6_ext chain[] = {
		{ EXT_HOP, 0, 0 },
		{ EXT_DSTOPTS, 1, 0 },
		{ EXT_ROUTING, 0, 0 },
	};
	make_ipv6_ext(&ip, chain, 3, IPPROTO_TCP_, PAYLOAD_LEN);
	assert_int_equal(ip.l4, 40 + 8 + 16 + 8);
	int dlt = wrap(&f, LINK_ETH, &ip);
	assert_int_equal(decode_frame(dlt, &f, &d), DECODE_OK);
	assert_ip_l4(&d, &f, 6, IPPROTO_TCP_, PAYLOAD_LEN);
}

static void test_ipv6_max_extensions(void **state)
{
	(void)state;
	struct ip_packet ip;
	struct frame f;
	struct decoded_packet d;
	struct ipv6_ext chain[DECODE_MAX_IPV6_EXTENSIONS];
	for (size_t i = 0; i < DECODE_MAX_IPV6_EXTENSIONS; i++)
		chain[i] = (struct ipv6_ext){ EXT_DSTOPTS, 0, 0 };
	make_ipv6_ext(&ip, chain, DECODE_MAX_IPV6_EXTENSIONS, IPPROTO_UDP_, PAYLOAD_LEN);
	int dlt = wrap(&f, LINK_ETH, &ip);
	assert_int_equal(decode_frame(dlt, &f, &d), DECODE_OK);
	assert_ip_l4(&d, &f, 6, IPPROTO_UDP_, PAYLOAD_LEN);
}

static void test_ipv6_too_many_extensions(void **state)
{
	(void)state;
	struct ip_packet ip;
	struct frame f;
	struct decoded_packet d;
	struct ipv6_ext chain[DECODE_MAX_IPV6_EXTENSIONS + 1];
	for (size_t i = 0; i < DECODE_MAX_IPV6_EXTENSIONS + 1; i++)
		chain[i] = (struct ipv6_ext){ EXT_DSTOPTS, 0, 0 };
	make_ipv6_ext(&ip, chain, DECODE_MAX_IPV6_EXTENSIONS + 1, IPPROTO_UDP_, PAYLOAD_LEN);
	int dlt = wrap(&f, LINK_ETH, &ip);
	assert_int_equal(decode_frame(dlt, &f, &d), DECODE_BAD_IPV6_EXTENSION);
}

/* An extension header whose own length runs past the packet. */
static void test_ipv6_extension_too_long(void **state)
{
	(void)state;
	struct ip_packet ip;
	struct frame f;
	struct decoded_packet d;
	static const struct ipv6_ext chain[] = { { EXT_HOP, 0, 0 } };
	make_ipv6_ext(&ip, chain, 1, IPPROTO_UDP_, PAYLOAD_LEN);
	ip.b.data[41] = 100; /* 808 bytes */
	int dlt = wrap(&f, LINK_ETH, &ip);
	assert_int_equal(decode_frame(dlt, &f, &d), DECODE_BAD_IPV6_EXTENSION);
}

static void test_ipv6_fragment(void **state)
{
	(void)state;
	struct ip_packet ip;
	struct frame f;
	struct decoded_packet d;
	struct ipv6_ext chain[] = { { EXT_FRAGMENT, 0, 0x0001 } }; /* offset 0, M */
	make_ipv6_ext(&ip, chain, 1, IPPROTO_UDP_, PAYLOAD_LEN);
	int dlt = wrap(&f, LINK_ETH, &ip);
	assert_int_equal(decode_frame(dlt, &f, &d), DECODE_SKIP_FRAGMENT);

	chain[0].frag = 0x00b8; /* offset 23, last fragment */
	make_ipv6_ext(&ip, chain, 1, IPPROTO_UDP_, PAYLOAD_LEN);
	dlt = wrap(&f, LINK_ETH, &ip);
	assert_int_equal(decode_frame(dlt, &f, &d), DECODE_SKIP_FRAGMENT);

	/* Behind other extension headers too. */
	struct ipv6_ext longer[] = { { EXT_HOP, 0, 0 }, { EXT_FRAGMENT, 0, 0x0009 } };
	make_ipv6_ext(&ip, longer, 2, IPPROTO_TCP_, PAYLOAD_LEN);
	dlt = wrap(&f, LINK_ETH, &ip);
	assert_int_equal(decode_frame(dlt, &f, &d), DECODE_SKIP_FRAGMENT);
}

static void test_ipv6_atomic_fragment(void **state)
{
	(void)state;
	struct ip_packet ip;
	struct frame f;
	struct decoded_packet d;
	static const struct ipv6_ext chain[] = { { EXT_FRAGMENT, 0, 0x0000 } };
	make_ipv6_ext(&ip, chain, 1, IPPROTO_UDP_, PAYLOAD_LEN);
	int dlt = wrap(&f, LINK_ETH, &ip);
	assert_int_equal(decode_frame(dlt, &f, &d), DECODE_OK);
	assert_ip_l4(&d, &f, 6, IPPROTO_UDP_, PAYLOAD_LEN);
}

static void test_ipv4_fragments(void **state)
{
	(void)state;
	struct ip_packet ip;
	struct frame f;
	struct decoded_packet d;
	static const uint16_t fragments[] = {
		0x2000, /* first fragment: MF */
		0x0010, /* last fragment: offset 16 */
		0x2010, /* middle: both */
		0x6001, /* DF and MF: still a fragment */
		0x1fff,
	};
	for (size_t i = 0; i < sizeof fragments / sizeof fragments[0]; i++) {
		make_ipv4(&ip, IPPROTO_UDP_, PAYLOAD_LEN);
		set16(&ip.b, 6, fragments[i]);
		int dlt = wrap(&f, LINK_ETH, &ip);
		assert_int_equal(decode_frame(dlt, &f, &d), DECODE_SKIP_FRAGMENT);
	}
	/* DF alone, or the reserved bit, is not a fragment. */
	make_ipv4(&ip, IPPROTO_UDP_, PAYLOAD_LEN);
	set16(&ip.b, 6, 0x8000);
	int dlt = wrap(&f, LINK_ETH, &ip);
	assert_int_equal(decode_frame(dlt, &f, &d), DECODE_OK);
}

/* ---- skipped frames ----------------------------------------------------- */

static void test_arp_not_ip(void **state)
{
	(void)state;
	struct frame f;
	struct decoded_packet d;
	memset(&f, 0, sizeof f);
	put_eth(&f.b, 0x0806);
	put32(&f.b, 0x00010800); /* Ethernet, IPv4 */
	put32(&f.b, 0x06040001); /* request */
	put_mem(&f.b, MAC_SRC, 6);
	put_mem(&f.b, V4_SRC, 4);
	put_zeros(&f.b, 6);
	put_mem(&f.b, V4_DST, 4);
	put_zeros(&f.b, 60 - f.b.len);
	assert_int_equal(decode_frame(DECODE_DLT_EN10MB, &f, &d), DECODE_SKIP_NOT_IP);

	/* The same in a cooked capture, and LLDP behind a VLAN tag. */
	struct frame g;
	memset(&g, 0, sizeof g);
	put_sll(&g.b, 1, 6, 0x0806);
	put_mem(&g.b, f.b.data + 14, 28);
	assert_int_equal(decode_frame(DECODE_DLT_LINUX_SLL, &g, &d), DECODE_SKIP_NOT_IP);
	memset(&g, 0, sizeof g);
	put_eth(&g.b, 0x8100);
	put_vlan(&g.b, 5, 0x88cc);
	put_zeros(&g.b, 40);
	assert_int_equal(decode_frame(DECODE_DLT_EN10MB, &g, &d), DECODE_SKIP_NOT_IP);
}

static void test_icmp_other_l4(void **state)
{
	(void)state;
	struct ip_packet ip;
	struct frame f;
	struct decoded_packet d;
	make_ipv4(&ip, IPPROTO_ICMP_, 8);
	int dlt = wrap(&f, LINK_ETH, &ip);
	assert_int_equal(decode_frame(dlt, &f, &d), DECODE_SKIP_OTHER_L4);

	make_ipv6(&ip, IPPROTO_ICMPV6_, 8);
	dlt = wrap(&f, LINK_ETH, &ip);
	assert_int_equal(decode_frame(dlt, &f, &d), DECODE_SKIP_OTHER_L4);

	static const struct ipv6_ext hop[] = { { EXT_HOP, 0, 0 } }; /* MLD report */
	make_ipv6_ext(&ip, hop, 1, IPPROTO_ICMPV6_, 8);
	dlt = wrap(&f, LINK_SLL2, &ip);
	assert_int_equal(decode_frame(dlt, &f, &d), DECODE_SKIP_OTHER_L4);
}

static void test_unknown_linktype(void **state)
{
	(void)state;
	struct ip_packet ip;
	struct frame f;
	struct decoded_packet d;
	make_ipv4(&ip, IPPROTO_TCP_, PAYLOAD_LEN);
	int dlt = wrap(&f, LINK_ETH, &ip);
	(void)dlt;
	static const int unknown[] = { -1, 9 /* PPP */, 105 /* 802.11 */, 127, 147, 1000 };
	for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
		assert_int_equal(decode_frame(unknown[i], &f, &d), DECODE_SKIP_LINKTYPE);
		assert_false(decode_linktype_supported(unknown[i]));
	}
	static const int known[] = { 0, 1, 12, 14, 108, 113, 228, 229, 276 };
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
		assert_true(decode_linktype_supported(known[i]));
}

/* ---- malformed frames --------------------------------------------------- */

static void test_wrong_ip_version(void **state)
{
	(void)state;
	struct ip_packet v4, v6;
	struct frame f;
	struct decoded_packet d;
	make_ipv4(&v4, IPPROTO_TCP_, PAYLOAD_LEN);
	make_ipv6(&v6, IPPROTO_TCP_, PAYLOAD_LEN);

	memset(&f, 0, sizeof f); /* ethertype IPv4, IPv6 inside */
	put_eth(&f.b, 0x0800);
	put_ip(&f, &v6);
	assert_int_equal(decode_frame(DECODE_DLT_EN10MB, &f, &d), DECODE_BAD_IP_VERSION);

	memset(&f, 0, sizeof f); /* ethertype IPv6, IPv4 inside */
	put_eth(&f.b, 0x86dd);
	put_ip(&f, &v4);
	assert_int_equal(decode_frame(DECODE_DLT_EN10MB, &f, &d), DECODE_BAD_IP_VERSION);

	memset(&f, 0, sizeof f); /* PPP IPv4, IPv6 inside */
	put_eth(&f.b, 0x8864);
	put_pppoe(&f.b, 0x0021, v6.b.len);
	put_ip(&f, &v6);
	assert_int_equal(decode_frame(DECODE_DLT_EN10MB, &f, &d), DECODE_BAD_IP_VERSION);

	memset(&f, 0, sizeof f); /* SLL IPv6, IPv4 inside */
	put_sll(&f.b, 1, 6, 0x86dd);
	put_ip(&f, &v4);
	assert_int_equal(decode_frame(DECODE_DLT_LINUX_SLL, &f, &d), DECODE_BAD_IP_VERSION);

	memset(&f, 0, sizeof f); /* loopback AF_INET, IPv6 inside */
	put32(&f.b, 2);
	put_ip(&f, &v6);
	assert_int_equal(decode_frame(DECODE_DLT_LOOP, &f, &d), DECODE_BAD_IP_VERSION);

	/* DLT_IPV4 and DLT_IPV6 each take one version only. */
	int dlt = wrap(&f, LINK_IPV4_OR_6, &v4);
	assert_int_equal(decode_frame(DECODE_DLT_IPV6, &f, &d), DECODE_BAD_IP_VERSION);
	dlt = wrap(&f, LINK_IPV4_OR_6, &v6);
	assert_int_equal(decode_frame(DECODE_DLT_IPV4, &f, &d), DECODE_BAD_IP_VERSION);

	/* Raw IP: neither 4 nor 6. */
	dlt = wrap(&f, LINK_RAW, &v4);
	f.b.data[0] = 0x55;
	assert_int_equal(decode_frame(dlt, &f, &d), DECODE_BAD_IP_VERSION);
	f.b.data[0] = 0x05;
	assert_int_equal(decode_frame(DECODE_DLT_RAW_BSD, &f, &d), DECODE_BAD_IP_VERSION);
}

static void test_truncated_link_header(void **state)
{
	(void)state;
	struct ip_packet ip;
	struct frame f;
	struct decoded_packet d;
	make_ipv4(&ip, IPPROTO_TCP_, PAYLOAD_LEN);
	static const struct { enum link link; size_t header; } links[] = {
		{ LINK_ETH, 14 }, { LINK_SLL, 16 }, { LINK_SLL2, 20 },
		{ LINK_NULL_LE, 4 }, { LINK_NULL_BE, 4 }, { LINK_LOOP, 4 },
	};
	for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
		int dlt = wrap(&f, links[i].link, &ip);
		assert_int_equal(f.l3, links[i].header);
		for (size_t cut = 1; cut < links[i].header; cut++) {
			assert_int_equal(decode_cut(dlt, &f, cut, cut, &d), DECODE_BAD_L2);
			assert_int_equal(decode_cut(dlt, &f, cut, f.b.len, &d), DECODE_BAD_L2);
		}
	}
}

static void test_truncated_vlan_tag(void **state)
{
	(void)state;
	struct ip_packet ip;
	struct frame f;
	struct decoded_packet d;
	make_ipv4(&ip, IPPROTO_TCP_, PAYLOAD_LEN);
	int dlt = wrap(&f, LINK_VLAN, &ip);
	for (size_t cut = 14; cut < 18; cut++) {
		assert_int_equal(decode_cut(dlt, &f, cut, cut, &d), DECODE_BAD_VLAN);
		assert_int_equal(decode_cut(dlt, &f, cut, f.b.len, &d), DECODE_BAD_VLAN);
	}
	dlt = wrap(&f, LINK_QINQ, &ip); /* inside the inner tag */
	for (size_t cut = 18; cut < 22; cut++)
		assert_int_equal(decode_cut(dlt, &f, cut, f.b.len, &d), DECODE_BAD_VLAN);
}

static void test_truncated_pppoe(void **state)
{
	(void)state;
	struct ip_packet ip;
	struct frame f;
	struct decoded_packet d;
	make_ipv4(&ip, IPPROTO_TCP_, PAYLOAD_LEN);
	int dlt = wrap(&f, LINK_PPPOE, &ip);
	for (size_t cut = 14; cut < 22; cut++) {
		assert_int_equal(decode_cut(dlt, &f, cut, cut, &d), DECODE_BAD_PPPOE);
		assert_int_equal(decode_cut(dlt, &f, cut, f.b.len, &d), DECODE_BAD_PPPOE);
	}
}

static void test_truncated_ipv4_header(void **state)
{
	(void)state;
	struct ip_packet ip;
	struct frame f;
	struct decoded_packet d;
	make_ipv4(&ip, IPPROTO_TCP_, PAYLOAD_LEN);
	int dlt = wrap(&f, LINK_ETH, &ip);
	for (size_t cut = f.l3; cut < f.l3 + 20; cut++) {
		assert_int_equal(decode_cut(dlt, &f, cut, cut, &d), DECODE_BAD_IPV4_HEADER);
		assert_int_equal(decode_cut(dlt, &f, cut, f.b.len, &d), DECODE_BAD_IPV4_HEADER);
	}
	/* Cut inside the options. */
	make_ipv4_opts(&ip, IPPROTO_TCP_, PAYLOAD_LEN, 3);
	dlt = wrap(&f, LINK_SLL, &ip);
	for (size_t cut = f.l3 + 20; cut < f.l4; cut++)
		assert_int_equal(decode_cut(dlt, &f, cut, f.b.len, &d), DECODE_BAD_IPV4_HEADER);
	/* DLT_IPV4 has no link header to fall short of. */
	dlt = wrap(&f, LINK_IPV4_OR_6, &ip);
	assert_int_equal(decode_cut(dlt, &f, 10, 10, &d), DECODE_BAD_IPV4_HEADER);
}

static void test_truncated_ipv6_header(void **state)
{
	(void)state;
	struct ip_packet ip;
	struct frame f;
	struct decoded_packet d;
	make_ipv6(&ip, IPPROTO_TCP_, PAYLOAD_LEN);
	int dlt = wrap(&f, LINK_ETH, &ip);
	for (size_t cut = f.l3; cut < f.l3 + 40; cut++) {
		assert_int_equal(decode_cut(dlt, &f, cut, cut, &d), DECODE_BAD_IPV6_HEADER);
		assert_int_equal(decode_cut(dlt, &f, cut, f.b.len, &d), DECODE_BAD_IPV6_HEADER);
	}
	dlt = wrap(&f, LINK_RAW, &ip);
	assert_int_equal(decode_cut(dlt, &f, 39, f.b.len, &d), DECODE_BAD_IPV6_HEADER);
}

static void test_truncated_ipv6_extension(void **state)
{
	(void)state;
	struct ip_packet ip;
	struct frame f;
	struct decoded_packet d;
	static const struct ipv6_ext chain[] = { { EXT_HOP, 0, 0 }, { EXT_DSTOPTS, 1, 0 } };
	make_ipv6_ext(&ip, chain, 2, IPPROTO_TCP_, PAYLOAD_LEN);
	int dlt = wrap(&f, LINK_ETH, &ip);
	/* Snapped inside either extension header. */
	for (size_t cut = f.l3 + 40; cut < f.l4; cut++)
		assert_int_equal(decode_cut(dlt, &f, cut, f.b.len, &d), DECODE_BAD_IPV6_EXTENSION);
	/* Not snapped: the payload length is the one that cannot be. */
	assert_int_equal(decode_cut(dlt, &f, f.l3 + 44, f.l3 + 44, &d), DECODE_BAD_IPV6_LENGTH);
	/* Whole frame whose payload length ends inside the second extension header. */
	set16(&f.b, f.l3 + 4, 8 + 10);
	assert_int_equal(decode_frame(dlt, &f, &d), DECODE_BAD_IPV6_EXTENSION);
	set16(&f.b, f.l3 + 4, 4);
	assert_int_equal(decode_frame(dlt, &f, &d), DECODE_BAD_IPV6_EXTENSION);
}

static void test_truncated_tcp_header(void **state)
{
	(void)state;
	struct ip_packet ip;
	struct frame f;
	struct decoded_packet d;
	make_ipv4(&ip, IPPROTO_TCP_, PAYLOAD_LEN);
	int dlt = wrap(&f, LINK_ETH, &ip);
	for (size_t cut = f.l4; cut < f.l4 + 20; cut++)
		assert_int_equal(decode_cut(dlt, &f, cut, f.b.len, &d), DECODE_BAD_TCP_HEADER);
	/* An IP total length that leaves too little room for the TCP header. */
	set16(&f.b, f.l3 + 2, 20 + 12);
	assert_int_equal(decode_frame(dlt, &f, &d), DECODE_BAD_TCP_HEADER);

	make_ipv6(&ip, IPPROTO_TCP_, PAYLOAD_LEN);
	dlt = wrap(&f, LINK_SLL2, &ip);
	for (size_t cut = f.l4; cut < f.l4 + 20; cut++)
		assert_int_equal(decode_cut(dlt, &f, cut, f.b.len, &d), DECODE_BAD_TCP_HEADER);
}

static void test_truncated_udp_header(void **state)
{
	(void)state;
	struct ip_packet ip;
	struct frame f;
	struct decoded_packet d;
	make_ipv4(&ip, IPPROTO_UDP_, PAYLOAD_LEN);
	int dlt = wrap(&f, LINK_ETH, &ip);
	for (size_t cut = f.l4; cut < f.l4 + 8; cut++)
		assert_int_equal(decode_cut(dlt, &f, cut, f.b.len, &d), DECODE_BAD_UDP_HEADER);
	set16(&f.b, f.l3 + 2, 20 + 6);
	assert_int_equal(decode_frame(dlt, &f, &d), DECODE_BAD_UDP_HEADER);

	make_ipv6(&ip, IPPROTO_UDP_, PAYLOAD_LEN);
	dlt = wrap(&f, LINK_NULL_LE, &ip);
	for (size_t cut = f.l4; cut < f.l4 + 8; cut++)
		assert_int_equal(decode_cut(dlt, &f, cut, f.b.len, &d), DECODE_BAD_UDP_HEADER);
}

static void test_ipv4_ihl_below_5(void **state)
{
	(void)state;
	struct ip_packet ip;
	struct frame f;
	struct decoded_packet d;
	for (uint8_t ihl = 0; ihl < 5; ihl++) {
		make_ipv4(&ip, IPPROTO_TCP_, PAYLOAD_LEN);
		ip.b.data[0] = (uint8_t)(0x40 | ihl);
		int dlt = wrap(&f, LINK_ETH, &ip);
		assert_int_equal(decode_frame(dlt, &f, &d), DECODE_BAD_IPV4_HEADER);
	}
}

static void test_ipv4_total_length_below_header(void **state)
{
	(void)state;
	struct ip_packet ip;
	struct frame f;
	struct decoded_packet d;
	static const uint16_t lengths[] = { 0, 1, 19 };
	for (size_t i = 0; i < 3; i++) {
		make_ipv4(&ip, IPPROTO_TCP_, PAYLOAD_LEN);
		set16(&ip.b, 2, lengths[i]);
		int dlt = wrap(&f, LINK_ETH, &ip);
		assert_int_equal(decode_frame(dlt, &f, &d), DECODE_BAD_IPV4_LENGTH);
	}
	make_ipv4_opts(&ip, IPPROTO_TCP_, PAYLOAD_LEN, 1); /* header 24, length 22 */
	set16(&ip.b, 2, 22);
	int dlt = wrap(&f, LINK_ETH, &ip);
	assert_int_equal(decode_frame(dlt, &f, &d), DECODE_BAD_IPV4_LENGTH);
}

static void test_ipv4_total_length_beyond_frame(void **state)
{
	(void)state;
	struct ip_packet ip;
	struct frame f;
	struct decoded_packet d;
	make_ipv4(&ip, IPPROTO_TCP_, PAYLOAD_LEN);
	int dlt = wrap(&f, LINK_ETH, &ip);
	/* Not snapped: the frame is all there is, so the length is a lie. */
	assert_int_equal(decode_cut(dlt, &f, f.b.len - 5, f.b.len - 5, &d), DECODE_BAD_IPV4_LENGTH);
	set16(&f.b, f.l3 + 2, (uint16_t)(f.ip_len + 1));
	assert_int_equal(decode_frame(dlt, &f, &d), DECODE_BAD_IPV4_LENGTH);
}

static void test_ipv4_snapped(void **state)
{
	(void)state;
	struct ip_packet ip;
	struct frame f;
	struct decoded_packet d;
	make_ipv4(&ip, IPPROTO_TCP_, PAYLOAD_LEN);
	int dlt = wrap(&f, LINK_ETH, &ip);
	size_t caplen = f.b.len - 5;
	assert_int_equal(decode_cut(dlt, &f, caplen, f.b.len, &d), DECODE_OK);
	assert_int_equal(d.payload_truncated, 1);
	assert_int_equal(d.l3_len, f.ip_len - 5);
	assert_ptr_equal(d.payload, f.b.data + f.payload);
	assert_int_equal(d.payload_len, PAYLOAD_LEN - 5);
	assert_int_equal(d.src_port, TCP_SPORT);
	assert_int_equal(d.tcp_seq, TCP_SEQ);

	make_ipv4(&ip, IPPROTO_UDP_, PAYLOAD_LEN); /* UDP length past the snap */
	dlt = wrap(&f, LINK_SLL, &ip);
	caplen = f.l4 + 8;
	assert_int_equal(decode_cut(dlt, &f, caplen, f.b.len, &d), DECODE_OK);
	assert_int_equal(d.payload_truncated, 1);
	assert_int_equal(d.payload_len, 0);
	assert_int_equal(d.dst_port, UDP_DPORT);
}

static void test_ipv6_length(void **state)
{
	(void)state;
	struct ip_packet ip;
	struct frame f;
	struct decoded_packet d;
	make_ipv6(&ip, IPPROTO_UDP_, PAYLOAD_LEN);
	int dlt = wrap(&f, LINK_ETH, &ip);
	assert_int_equal(decode_cut(dlt, &f, f.b.len - 3, f.b.len - 3, &d), DECODE_BAD_IPV6_LENGTH);
	assert_int_equal(decode_cut(dlt, &f, f.b.len - 3, f.b.len, &d), DECODE_OK);
	assert_int_equal(d.payload_truncated, 1);
	assert_int_equal(d.l3_len, f.ip_len - 3);
	assert_int_equal(d.payload_len, PAYLOAD_LEN - 3);
}

static void test_tcp_data_offset(void **state)
{
	(void)state;
	struct ip_packet ip;
	struct frame f;
	struct decoded_packet d;
	for (uint8_t offset = 0; offset < 5; offset++) {
		make_ipv4(&ip, IPPROTO_TCP_, PAYLOAD_LEN);
		ip.b.data[ip.l4 + 12] = (uint8_t)(offset << 4);
		int dlt = wrap(&f, LINK_ETH, &ip);
		assert_int_equal(decode_frame(dlt, &f, &d), DECODE_BAD_TCP_HEADER);
	}
	/* 32 bytes of segment, data offset 9 (36 bytes) and 15 (60 bytes). */
	static const uint8_t past[] = { 9, 15 };
	for (size_t i = 0; i < 2; i++) {
		make_ipv6(&ip, IPPROTO_TCP_, PAYLOAD_LEN);
		ip.b.data[ip.l4 + 12] = (uint8_t)(past[i] << 4);
		int dlt = wrap(&f, LINK_ETH, &ip);
		assert_int_equal(decode_frame(dlt, &f, &d), DECODE_BAD_TCP_HEADER);
		assert_int_equal(decode_cut(dlt, &f, f.b.len, f.b.len + 100, &d),
				 DECODE_BAD_TCP_HEADER);
	}
}

static void test_udp_length_below_8(void **state)
{
	(void)state;
	struct ip_packet ip;
	struct frame f;
	struct decoded_packet d;
	static const uint16_t lengths[] = { 0, 1, 7 };
	for (size_t i = 0; i < 3; i++) {
		make_ipv4(&ip, IPPROTO_UDP_, PAYLOAD_LEN);
		set16(&ip.b, ip.l4 + 4, lengths[i]);
		int dlt = wrap(&f, LINK_ETH, &ip);
		assert_int_equal(decode_frame(dlt, &f, &d), DECODE_BAD_UDP_HEADER);
		assert_int_equal(decode_cut(dlt, &f, f.b.len, f.b.len + 1, &d),
				 DECODE_BAD_UDP_HEADER);
	}
}

static void test_udp_length_beyond_ip_payload(void **state)
{
	(void)state;
	struct ip_packet ip;
	struct frame f;
	struct decoded_packet d;
	make_ipv4(&ip, IPPROTO_UDP_, PAYLOAD_LEN);
	set16(&ip.b, ip.l4 + 4, 8 + PAYLOAD_LEN + 1);
	int dlt = wrap(&f, LINK_ETH, &ip);
	assert_int_equal(decode_frame(dlt, &f, &d), DECODE_BAD_UDP_HEADER);

	make_ipv6(&ip, IPPROTO_UDP_, PAYLOAD_LEN);
	set16(&ip.b, ip.l4 + 4, 1000);
	dlt = wrap(&f, LINK_SLL2, &ip);
	assert_int_equal(decode_frame(dlt, &f, &d), DECODE_BAD_UDP_HEADER);
}

/*
 * A snapped frame whose IP datagram was captured whole (only Ethernet padding
 * was cut): the UDP length still cannot exceed the IP payload.
 */
static void test_udp_length_beyond_whole_ip_payload_in_snapped_frame(void **state)
{
	(void)state;
	struct ip_packet ip;
	struct frame f;
	struct decoded_packet d;
	make_ipv4(&ip, IPPROTO_UDP_, 4); /* 14 + 32 bytes, padded to 60 on the wire */
	set16(&ip.b, ip.l4 + 4, 100);
	int dlt = wrap(&f, LINK_ETH, &ip);
	put_zeros(&f.b, 60 - f.b.len);
	assert_int_equal(decode_cut(dlt, &f, 54, 60, &d), DECODE_BAD_UDP_HEADER);

	make_ipv6(&ip, IPPROTO_UDP_, 4); /* 14 + 52 bytes, 4 bytes of trailer cut */
	set16(&ip.b, ip.l4 + 4, 100);
	dlt = wrap(&f, LINK_ETH, &ip);
	put_zeros(&f.b, 4);
	assert_int_equal(decode_cut(dlt, &f, f.b.len - 4, f.b.len, &d), DECODE_BAD_UDP_HEADER);
}

/* Every supported link type, given no bytes at all, snapped or not. */
static void test_zero_length_frames(void **state)
{
	(void)state;
	static const int dlts[] = { 0, 1, 12, 14, 108, 113, 228, 229, 276 };
	struct decoded_packet d;
	for (size_t i = 0; i < sizeof dlts / sizeof dlts[0]; i++) {
		assert_true(decode_linktype_supported(dlts[i]));
		uint8_t *frame = malloc(0); /* any read is an ASan error */
		uint8_t one;
		const uint8_t *p = frame ? frame : &one;
		enum decode_result r = decode_packet(dlts[i], p, 0, 0, &d);
		assert_true(decode_result_is_malformed(r));
		r = decode_packet(dlts[i], p, 0, 1514, &d);
		assert_true(decode_result_is_malformed(r));
		free(frame);
	}
}

static void test_result_names(void **state)
{
	(void)state;
	for (int i = 0; i < DECODE_RESULT_COUNT; i++) {
		const char *name = decode_result_name((enum decode_result)i);
		assert_non_null(name);
		assert_true(name[0] != '\0');
		assert_string_not_equal(name, "unknown");
		for (int j = 0; j < i; j++)
			assert_string_not_equal(name, decode_result_name((enum decode_result)j));
	}
	assert_string_equal(decode_result_name(DECODE_RESULT_COUNT), "unknown");
	assert_string_equal(decode_result_name((enum decode_result)-1), "unknown");
	assert_false(decode_result_is_malformed(DECODE_OK));
	assert_false(decode_result_is_malformed(DECODE_SKIP_LINKTYPE));
	assert_true(decode_result_is_malformed(DECODE_BAD_L2));
	assert_true(decode_result_is_malformed(DECODE_BAD_UDP_HEADER));
	assert_false(decode_result_is_malformed(DECODE_RESULT_COUNT));
}

/*
 * Every prefix of a valid frame, in a buffer of exactly that size so that ASan
 * sees any read past it; both as a snapped capture and as the whole frame.
 */
static void check_prefixes(enum link link, const struct ip_packet *ip)
{
	struct frame f;
	int dlt = wrap(&f, link, ip);
	size_t payload_len = f.b.len - f.payload;
	for (size_t n = 0; n <= f.b.len; n++) {
		uint8_t *frame = malloc(n);
		assert_true(frame != NULL || n == 0);
		if (n)
			memcpy(frame, f.b.data, n);
		for (int snapped = 0; snapped < 2; snapped++) {
			struct decoded_packet d;
			enum decode_result r = decode_packet(dlt, frame, n, snapped ? f.b.len : n, &d);
			if (n == f.b.len) {
				assert_int_equal(r, DECODE_OK);
				assert_int_equal(d.payload_len, payload_len);
			}
			assert_true((unsigned)r < DECODE_RESULT_COUNT);
			/*
			 * A cut frame is malformed, never skipped (it was TCP or UDP),
			 * and not snapped it contradicts the IP length.
			 */
			if ((r != DECODE_OK && !decode_result_is_malformed(r)) ||
			    (r == DECODE_OK && !snapped && n < f.b.len))
				fail_msg("%s, %zu of %zu bytes%s: %s", link_names[link], n,
					 f.b.len, snapped ? " snapped" : "", decode_result_name(r));
			if (r != DECODE_OK)
				continue;
			assert_true(d.l3 >= frame && d.l3_len <= (size_t)(frame + n - d.l3));
			assert_true(d.payload >= d.l3 &&
				    d.payload_len <= (size_t)(frame + n - d.payload));
			assert_ptr_equal(d.payload, frame + f.payload);
			assert_int_equal(d.payload_len, n - f.payload);
			assert_int_equal(d.payload_truncated, n < f.b.len);
		}
		free(frame);
	}
}

static void test_every_prefix(void **state)
{
	(void)state;
	struct ip_packet v4_tcp, v4_udp, v6_tcp, v6_udp, v6_ext, v6_frag;
	make_ipv4_opts(&v4_tcp, IPPROTO_TCP_, PAYLOAD_LEN, 1);
	make_ipv4(&v4_udp, IPPROTO_UDP_, PAYLOAD_LEN);
	make_ipv6(&v6_tcp, IPPROTO_TCP_, PAYLOAD_LEN);
	make_ipv6(&v6_udp, IPPROTO_UDP_, PAYLOAD_LEN);
	static const struct ipv6_ext chain[] = {
		{ EXT_HOP, 0, 0 }, { EXT_DSTOPTS, 1, 0 }, { EXT_ROUTING, 0, 0 },
	};
	make_ipv6_ext(&v6_ext, chain, 3, IPPROTO_TCP_, PAYLOAD_LEN);
	static const struct ipv6_ext atomic[] = { { EXT_FRAGMENT, 0, 0 } };
	make_ipv6_ext(&v6_frag, atomic, 1, IPPROTO_UDP_, PAYLOAD_LEN);
	const struct ip_packet *packets[] = { &v4_tcp, &v4_udp, &v6_tcp, &v6_udp, &v6_ext, &v6_frag };
	for (int link = 0; link < LINK_COUNT; link++)
		for (size_t i = 0; i < sizeof packets / sizeof packets[0]; i++)
			check_prefixes((enum link)link, packets[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ethernet_ipv4_tcp),
		cmocka_unit_test(test_ethernet_ipv4_udp),
		cmocka_unit_test(test_ethernet_ipv6_tcp),
		cmocka_unit_test(test_ethernet_ipv6_udp),
		cmocka_unit_test(test_ethernet_padding),
		cmocka_unit_test(test_ipv4_options),
		cmocka_unit_test(test_tcp_options),
		cmocka_unit_test(test_udp_length_shorter_than_ip_payload),
		cmocka_unit_test(test_vlan_8021q),
		cmocka_unit_test(test_vlan_qinq),
		cmocka_unit_test(test_vlan_max_tags),
		cmocka_unit_test(test_vlan_too_many_tags),
		cmocka_unit_test(test_pppoe_ipv4),
		cmocka_unit_test(test_pppoe_ipv6),
		cmocka_unit_test(test_pppoe_vlan_padded),
		cmocka_unit_test(test_pppoe_not_ip),
		cmocka_unit_test(test_pppoe_bad_header),
		cmocka_unit_test(test_sll_source_mac),
		cmocka_unit_test(test_sll_no_mac),
		cmocka_unit_test(test_sll2_source_mac),
		cmocka_unit_test(test_sll2_no_mac),
		cmocka_unit_test(test_raw_ip),
		cmocka_unit_test(test_null_loopback),
		cmocka_unit_test(test_loop_loopback),
		cmocka_unit_test(test_ipv6_extension_chain),
		cmocka_unit_test(test_ipv6_max_extensions),
		cmocka_unit_test(test_ipv6_too_many_extensions),
		cmocka_unit_test(test_ipv6_extension_too_long),
		cmocka_unit_test(test_ipv6_fragment),
		cmocka_unit_test(test_ipv6_atomic_fragment),
		cmocka_unit_test(test_ipv4_fragments),
		cmocka_unit_test(test_arp_not_ip),
		cmocka_unit_test(test_icmp_other_l4),
		cmocka_unit_test(test_unknown_linktype),
		cmocka_unit_test(test_wrong_ip_version),
		cmocka_unit_test(test_truncated_link_header),
		cmocka_unit_test(test_truncated_vlan_tag),
		cmocka_unit_test(test_truncated_pppoe),
		cmocka_unit_test(test_truncated_ipv4_header),
		cmocka_unit_test(test_truncated_ipv6_header),
		cmocka_unit_test(test_truncated_ipv6_extension),
		cmocka_unit_test(test_truncated_tcp_header),
		cmocka_unit_test(test_truncated_udp_header),
		cmocka_unit_test(test_ipv4_ihl_below_5),
		cmocka_unit_test(test_ipv4_total_length_below_header),
		cmocka_unit_test(test_ipv4_total_length_beyond_frame),
		cmocka_unit_test(test_ipv4_snapped),
		cmocka_unit_test(test_ipv6_length),
		cmocka_unit_test(test_tcp_data_offset),
		cmocka_unit_test(test_udp_length_below_8),
		cmocka_unit_test(test_udp_length_beyond_ip_payload),
		cmocka_unit_test(test_udp_length_beyond_whole_ip_payload_in_snapped_frame),
		cmocka_unit_test(test_zero_length_frames),
		cmocka_unit_test(test_result_names),
		cmocka_unit_test(test_every_prefix),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
