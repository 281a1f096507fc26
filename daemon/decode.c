/*
 * decode: link layer to transport layer, for the link types a sensor meets
 * (Ethernet with VLAN tags, Linux cooked capture v1/v2 as written by
 * `tcpdump -i any`, raw IP, BSD loopback). The frame is read with explicit
 * bounds at every step; the only state is the output struct.
 */
#include "decode.h"

#include <string.h>

static const char *const result_names[DECODE_RESULT_COUNT] = {
	[DECODE_OK] = "ok",
	[DECODE_SKIP_NOT_IP] = "not_ip",
	[DECODE_SKIP_FRAGMENT] = "ip_fragment",
	[DECODE_SKIP_OTHER_L4] = "other_l4",
	[DECODE_SKIP_LINKTYPE] = "unsupported_linktype",
	[DECODE_BAD_L2] = "truncated_link_header",
	[DECODE_BAD_VLAN] = "bad_vlan",
	[DECODE_BAD_PPPOE] = "bad_pppoe",
	[DECODE_BAD_IP_VERSION] = "bad_ip_version",
	[DECODE_BAD_IPV4_HEADER] = "bad_ipv4_header",
	[DECODE_BAD_IPV4_LENGTH] = "bad_ipv4_length",
	[DECODE_BAD_IPV6_HEADER] = "bad_ipv6_header",
	[DECODE_BAD_IPV6_LENGTH] = "bad_ipv6_length",
	[DECODE_BAD_IPV6_EXTENSION] = "bad_ipv6_extension",
	[DECODE_BAD_TCP_HEADER] = "bad_tcp_header",
	[DECODE_BAD_UDP_HEADER] = "bad_udp_header",
};

const char *decode_result_name(enum decode_result result)
{
	if ((unsigned)result >= DECODE_RESULT_COUNT)
		return "unknown";
	return result_names[result];
}

static inline uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

enum {
	ETHERTYPE_IPV4 = 0x0800,
	ETHERTYPE_IPV6 = 0x86dd,
	ETHERTYPE_VLAN = 0x8100,
	ETHERTYPE_QINQ = 0x88a8,
	ETHERTYPE_QINQ_OLD = 0x9100,
	ETHERTYPE_PPPOE_SESSION = 0x8864,
	PPP_IPV4 = 0x0021,
	PPP_IPV6 = 0x0057,
	ARPHRD_ETHER_VALUE = 1,
	IPPROTO_TCP_VALUE = 6,
	IPPROTO_UDP_VALUE = 17,
};

int decode_linktype_supported(int dlt)
{
	switch (dlt) {
	case DECODE_DLT_NULL:
	case DECODE_DLT_EN10MB:
	case DECODE_DLT_RAW:
	case DECODE_DLT_RAW_BSD:
	case DECODE_DLT_LOOP:
	case DECODE_DLT_LINUX_SLL:
	case DECODE_DLT_IPV4:
	case DECODE_DLT_IPV6:
	case DECODE_DLT_LINUX_SLL2:
		return 1;
	default:
		return 0;
	}
}

/*
 * Transport layer. `len` is the IP payload length as the IP header states it,
 * bounded by what was captured; `snapped` says the capture cut this datagram
 * short (not merely the frame's padding), in which case length fields may
 * rightly exceed what we hold.
 */
static enum decode_result decode_l4(const uint8_t *p, size_t len, int snapped,
				    struct decoded_packet *out)
{
	if (out->l4_proto == IPPROTO_TCP_VALUE) {
		if (len < 20)
			return DECODE_BAD_TCP_HEADER;
		size_t header_len = (size_t)(p[12] >> 4) * 4;
		if (header_len < 20 || header_len > len)
			return DECODE_BAD_TCP_HEADER;
		out->src_port = get_be16(p);
		out->dst_port = get_be16(p + 2);
		out->tcp_seq = get_be32(p + 4);
		out->tcp_flags = p[13];
		out->payload = p + header_len;
		out->payload_len = len - header_len;
		return DECODE_OK;
	}
	if (out->l4_proto == IPPROTO_UDP_VALUE) {
		if (len < 8)
			return DECODE_BAD_UDP_HEADER;
		size_t udp_len = get_be16(p + 4);
		/*
		 * A UDP length of 0 is legal only for IPv6 jumbograms; otherwise it
		 * must cover the header and fit in the IP payload.
		 */
		if (udp_len < 8 || (udp_len > len && !snapped))
			return DECODE_BAD_UDP_HEADER;
		if (udp_len > len)
			udp_len = len;
		out->src_port = get_be16(p);
		out->dst_port = get_be16(p + 2);
		out->payload = p + 8;
		out->payload_len = udp_len - 8;
		return DECODE_OK;
	}
	return DECODE_SKIP_OTHER_L4;
}

static enum decode_result decode_ipv4(const uint8_t *p, size_t len, int snapped,
				      struct decoded_packet *out)
{
	if (len < 20)
		return DECODE_BAD_IPV4_HEADER;
	if ((p[0] >> 4) != 4)
		return DECODE_BAD_IP_VERSION;
	size_t header_len = (size_t)(p[0] & 0x0f) * 4;
	if (header_len < 20 || header_len > len)
		return DECODE_BAD_IPV4_HEADER;
	size_t total_len = get_be16(p + 2);
	if (total_len < header_len)
		return DECODE_BAD_IPV4_LENGTH;
	if (total_len > len) {
		if (!snapped)
			return DECODE_BAD_IPV4_LENGTH;
		total_len = len; /* cut by the snap length: keep what we have */
		out->payload_truncated = 1;
	}
	/* Ethernet pads short frames: the IP total length is the truth. */
	out->ip_version = 4;
	out->l3 = p;
	out->l3_len = total_len;
	memset(out->src_addr, 0, sizeof out->src_addr);
	memset(out->dst_addr, 0, sizeof out->dst_addr);
	memcpy(out->src_addr, p + 12, 4);
	memcpy(out->dst_addr, p + 16, 4);
	out->l4_proto = p[9];
	uint16_t fragment = get_be16(p + 6);
	if ((fragment & 0x1fff) != 0 || (fragment & 0x2000) != 0)
		return DECODE_SKIP_FRAGMENT;
	return decode_l4(p + header_len, total_len - header_len, out->payload_truncated, out);
}

static enum decode_result decode_ipv6(const uint8_t *p, size_t len, int snapped,
				      struct decoded_packet *out)
{
	if (len < 40)
		return DECODE_BAD_IPV6_HEADER;
	if ((p[0] >> 4) != 6)
		return DECODE_BAD_IP_VERSION;
	size_t payload_len = get_be16(p + 4);
	size_t total_len = 40 + payload_len;
	if (total_len > len) {
		if (!snapped)
			return DECODE_BAD_IPV6_LENGTH;
		total_len = len;
		out->payload_truncated = 1;
	}
	out->ip_version = 6;
	out->l3 = p;
	out->l3_len = total_len;
	memcpy(out->src_addr, p + 8, 16);
	memcpy(out->dst_addr, p + 24, 16);

	uint8_t next = p[6];
	size_t offset = 40;
	for (int count = 0;; count++) {
		switch (next) {
		case 0:   /* hop-by-hop options */
		case 43:  /* routing */
		case 60:  /* destination options */
		case 135: /* mobility */
			if (count >= DECODE_MAX_IPV6_EXTENSIONS || total_len - offset < 8)
				return DECODE_BAD_IPV6_EXTENSION;
			{
				size_t ext_len = ((size_t)p[offset + 1] + 1) * 8;
				if (ext_len > total_len - offset)
					return DECODE_BAD_IPV6_EXTENSION;
				next = p[offset];
				offset += ext_len;
			}
			break;
		case 44: /* fragment */
			if (count >= DECODE_MAX_IPV6_EXTENSIONS || total_len - offset < 8)
				return DECODE_BAD_IPV6_EXTENSION;
			{
				uint16_t frag = get_be16(p + offset + 2);
				out->l4_proto = p[offset];
				/* An atomic fragment (offset 0, no more) is a whole packet. */
				if ((frag & 0xfff8) != 0 || (frag & 1) != 0)
					return DECODE_SKIP_FRAGMENT;
				next = p[offset];
				offset += 8;
			}
			break;
		case 51: /* authentication header: length in 4-octet units, minus 2 */
			if (count >= DECODE_MAX_IPV6_EXTENSIONS || total_len - offset < 8)
				return DECODE_BAD_IPV6_EXTENSION;
			{
				size_t ext_len = ((size_t)p[offset + 1] + 2) * 4;
				if (ext_len > total_len - offset)
					return DECODE_BAD_IPV6_EXTENSION;
				next = p[offset];
				offset += ext_len;
			}
			break;
		default:
			out->l4_proto = next;
			return decode_l4(p + offset, total_len - offset, out->payload_truncated, out);
		}
	}
}

/* Dispatches on the IP version nibble, for link types that carry bare IP. */
static enum decode_result decode_ip_any(const uint8_t *p, size_t len, int snapped,
					struct decoded_packet *out)
{
	if (len < 1)
		return DECODE_BAD_L2;
	switch (p[0] >> 4) {
	case 4:
		return decode_ipv4(p, len, snapped, out);
	case 6:
		return decode_ipv6(p, len, snapped, out);
	default:
		return DECODE_BAD_IP_VERSION;
	}
}

/*
 * PPPoE session (RFC 2516), as on the WAN side of home routers: a 6-byte
 * header whose length covers the 2-byte PPP protocol and what follows.
 */
static enum decode_result decode_pppoe(const uint8_t *p, size_t len, int snapped,
				       struct decoded_packet *out)
{
	if (len < 8 || p[0] != 0x11 || p[1] != 0x00)
		return DECODE_BAD_PPPOE;
	size_t pppoe_len = get_be16(p + 4);
	if (pppoe_len < 2 || (pppoe_len > len - 6 && !snapped))
		return DECODE_BAD_PPPOE;
	if (pppoe_len > len - 6)
		pppoe_len = len - 6;
	switch (get_be16(p + 6)) {
	case PPP_IPV4:
		return decode_ipv4(p + 8, pppoe_len - 2, snapped, out);
	case PPP_IPV6:
		return decode_ipv6(p + 8, pppoe_len - 2, snapped, out);
	default:
		return DECODE_SKIP_NOT_IP; /* LCP, IPCP, ... */
	}
}

static enum decode_result decode_ethertype(uint16_t ethertype, const uint8_t *p, size_t len,
					   int snapped, struct decoded_packet *out)
{
	switch (ethertype) {
	case ETHERTYPE_IPV4:
		return decode_ipv4(p, len, snapped, out);
	case ETHERTYPE_IPV6:
		return decode_ipv6(p, len, snapped, out);
	case ETHERTYPE_PPPOE_SESSION:
		return decode_pppoe(p, len, snapped, out);
	default:
		return DECODE_SKIP_NOT_IP;
	}
}

static enum decode_result decode_ethernet(const uint8_t *p, size_t len, int snapped,
					  struct decoded_packet *out)
{
	if (len < 14)
		return DECODE_BAD_L2;
	memcpy(out->dst_mac, p, 6);
	memcpy(out->src_mac, p + 6, 6);
	out->has_src_mac = out->has_dst_mac = 1;
	uint16_t ethertype = get_be16(p + 12);
	size_t offset = 14;
	while (ethertype == ETHERTYPE_VLAN || ethertype == ETHERTYPE_QINQ ||
	       ethertype == ETHERTYPE_QINQ_OLD) {
		if (out->vlan_count >= DECODE_MAX_VLAN_TAGS || len - offset < 4)
			return DECODE_BAD_VLAN;
		out->vlan_ids[out->vlan_count++] = get_be16(p + offset) & 0x0fff;
		ethertype = get_be16(p + offset + 2);
		offset += 4;
	}
	return decode_ethertype(ethertype, p + offset, len - offset, snapped, out);
}

/* Linux cooked capture: only the sender's address is recorded. */
static void cooked_source_mac(uint16_t arphrd, size_t addr_len, const uint8_t *addr,
			      struct decoded_packet *out)
{
	if (arphrd == ARPHRD_ETHER_VALUE && addr_len == 6) {
		memcpy(out->src_mac, addr, 6);
		out->has_src_mac = 1;
	}
}

static enum decode_result decode_sll(const uint8_t *p, size_t len, int snapped,
				     struct decoded_packet *out)
{
	if (len < 16)
		return DECODE_BAD_L2;
	cooked_source_mac(get_be16(p + 2), get_be16(p + 4), p + 6, out);
	return decode_ethertype(get_be16(p + 14), p + 16, len - 16, snapped, out);
}

static enum decode_result decode_sll2(const uint8_t *p, size_t len, int snapped,
				      struct decoded_packet *out)
{
	if (len < 20)
		return DECODE_BAD_L2;
	cooked_source_mac(get_be16(p + 8), p[11], p + 12, out);
	return decode_ethertype(get_be16(p), p + 20, len - 20, snapped, out);
}

/*
 * BSD loopback: a 4-byte address family, in the capturing host's byte order
 * for DLT_NULL and in network order for DLT_LOOP. AF_INET is 2 everywhere;
 * AF_INET6 is 24, 28 or 30 depending on the BSD, 10 on Linux.
 */
static enum decode_result decode_loopback(const uint8_t *p, size_t len, int snapped,
					  int network_order, struct decoded_packet *out)
{
	if (len < 4)
		return DECODE_BAD_L2;
	uint32_t family = get_be32(p);
	if (!network_order && (family & 0xffff) == 0)
		family = (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
	switch (family) {
	case 2:
		return decode_ipv4(p + 4, len - 4, snapped, out);
	case 10:
	case 24:
	case 28:
	case 30:
		return decode_ipv6(p + 4, len - 4, snapped, out);
	default:
		return DECODE_SKIP_NOT_IP;
	}
}

enum decode_result decode_packet(int dlt, const uint8_t *frame, size_t caplen,
				 size_t wirelen, struct decoded_packet *out)
{
	memset(out, 0, sizeof *out);
	int snapped = wirelen > caplen;
	switch (dlt) {
	case DECODE_DLT_EN10MB:
		return decode_ethernet(frame, caplen, snapped, out);
	case DECODE_DLT_LINUX_SLL:
		return decode_sll(frame, caplen, snapped, out);
	case DECODE_DLT_LINUX_SLL2:
		return decode_sll2(frame, caplen, snapped, out);
	case DECODE_DLT_RAW:
	case DECODE_DLT_RAW_BSD:
		return decode_ip_any(frame, caplen, snapped, out);
	case DECODE_DLT_IPV4:
		return decode_ipv4(frame, caplen, snapped, out);
	case DECODE_DLT_IPV6:
		return decode_ipv6(frame, caplen, snapped, out);
	case DECODE_DLT_NULL:
		return decode_loopback(frame, caplen, snapped, 0, out);
	case DECODE_DLT_LOOP:
		return decode_loopback(frame, caplen, snapped, 1, out);
	default:
		return DECODE_SKIP_LINKTYPE;
	}
}
