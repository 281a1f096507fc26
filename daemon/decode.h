/*
 * decode: the second stage of the pipeline. Takes one captured frame and its
 * link type, gives the addresses, ports and payload of its IPv4/IPv6 TCP or
 * UDP packet. Nothing from the wire is trusted: every length is checked
 * against the bytes captured, and a frame that cannot be decoded gets a
 * reason that the caller counts.
 */
#ifndef TRACKWATCH_DECODE_H
#define TRACKWATCH_DECODE_H

#include <stddef.h>
#include <stdint.h>

/* Link types we decode, as libpcap's DLT_ values (pcap/dlt.h). */
enum {
	DECODE_DLT_NULL = 0,       /* BSD loopback, host-order family */
	DECODE_DLT_EN10MB = 1,     /* Ethernet, with 802.1Q / QinQ tags and PPPoE */
	DECODE_DLT_RAW = 12,       /* raw IP (Linux value of DLT_RAW) */
	DECODE_DLT_RAW_BSD = 14,   /* raw IP (BSD value of DLT_RAW) */
	DECODE_DLT_LOOP = 108,     /* OpenBSD loopback, network-order family */
	DECODE_DLT_LINUX_SLL = 113,
	DECODE_DLT_IPV4 = 228,
	DECODE_DLT_IPV6 = 229,
	DECODE_DLT_LINUX_SLL2 = 276,
};

/*
 * The outcome of decoding one frame. DECODE_OK is a TCP or UDP packet. The
 * "skipped" results are well-formed frames we do not look into; the
 * "malformed" results are frames whose lengths or fields are impossible.
 * Keep decode_result_name() in step with this list.
 */
enum decode_result {
	DECODE_OK = 0,
	/* skipped, not an error */
	DECODE_SKIP_NOT_IP,        /* ARP, LLDP, other ethertypes */
	DECODE_SKIP_FRAGMENT,      /* IP fragment: not reassembled */
	DECODE_SKIP_OTHER_L4,      /* ICMP, ESP, SCTP, ... */
	DECODE_SKIP_LINKTYPE,      /* a link type we do not decode */
	/* malformed */
	DECODE_MALFORMED_FIRST,
	DECODE_BAD_L2 = DECODE_MALFORMED_FIRST, /* link header cut short */
	DECODE_BAD_VLAN,           /* too many or truncated VLAN tags */
	DECODE_BAD_PPPOE,          /* PPPoE session header cut short or wrong */
	DECODE_BAD_IP_VERSION,     /* version field disagrees with the link */
	DECODE_BAD_IPV4_HEADER,    /* truncated, or IHL < 5 */
	DECODE_BAD_IPV4_LENGTH,    /* total length < header, or > frame */
	DECODE_BAD_IPV6_HEADER,    /* truncated fixed header */
	DECODE_BAD_IPV6_LENGTH,    /* payload length > frame */
	DECODE_BAD_IPV6_EXTENSION, /* extension header chain cut short or too long */
	DECODE_BAD_TCP_HEADER,     /* truncated, or data offset < 5 or past the end */
	DECODE_BAD_UDP_HEADER,     /* truncated, or length field impossible */
	DECODE_RESULT_COUNT
};

const char *decode_result_name(enum decode_result result);

static inline int decode_result_is_malformed(enum decode_result result)
{
	return result >= DECODE_MALFORMED_FIRST && result < DECODE_RESULT_COUNT;
}

/* TCP flag bits as on the wire. */
enum {
	DECODE_TCP_FIN = 0x01,
	DECODE_TCP_SYN = 0x02,
	DECODE_TCP_RST = 0x04,
	DECODE_TCP_PSH = 0x08,
	DECODE_TCP_ACK = 0x10,
};

enum { DECODE_MAX_VLAN_TAGS = 4, DECODE_MAX_IPV6_EXTENSIONS = 8 };

/*
 * A decoded packet. Pointers point into the caller's frame and are valid as
 * long as it is. Addresses are kept as 16 bytes; an IPv4 address uses the
 * first 4 and the rest are zero, so keys compare with memcmp.
 */
struct decoded_packet {
	const uint8_t *l3;         /* IP header: what nDPI takes */
	size_t l3_len;             /* IP header to end of IP payload */
	const uint8_t *payload;    /* L4 payload */
	size_t payload_len;        /* bytes of payload captured */
	int payload_truncated;     /* the capture's snap length cut the payload */
	uint8_t ip_version;        /* 4 or 6 */
	uint8_t l4_proto;          /* 6 TCP, 17 UDP */
	uint8_t tcp_flags;
	uint8_t has_src_mac, has_dst_mac;
	uint8_t vlan_count;
	uint16_t vlan_ids[DECODE_MAX_VLAN_TAGS];
	uint8_t src_mac[6], dst_mac[6];
	uint8_t src_addr[16], dst_addr[16];
	uint16_t src_port, dst_port; /* host byte order */
	uint32_t tcp_seq;
};

/*
 * Decodes one frame of `caplen` captured bytes (`wirelen` on the wire) of link
 * type `dlt` into `out`. Returns DECODE_OK or the reason it did not.
 */
enum decode_result decode_packet(int dlt, const uint8_t *frame, size_t caplen,
				 size_t wirelen, struct decoded_packet *out);

/* Whether decode_packet() knows this link type. */
int decode_linktype_supported(int dlt);

#endif
