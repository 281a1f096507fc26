/*
 * dns: our own DNS message parser (RFC 1035, with RFC 3596 AAAA and RFC 9460
 * SVCB/HTTPS), for the dissect stage. Takes one DNS message (a UDP payload,
 * or one length-prefixed message from a TCP stream), gives every question
 * and every resource record, one at a time, through a callback. nDPI keeps
 * one name per flow; this keeps them all.
 *
 * Hostile input: every length is checked against the message, compression
 * pointers must point backwards and are followed at most DNS_MAX_POINTERS
 * times, and a name is at most 255 octets on the wire. Records delivered
 * before an error stay delivered.
 */
#ifndef TRACKWATCH_DNS_H
#define TRACKWATCH_DNS_H

#include <stddef.h>
#include <stdint.h>

enum {
	/*
	 * A name as text: at most 255 wire octets, but a label byte that is a dot,
	 * a backslash or not printable is written as \DDD (as dig does), so the
	 * text can be up to four times longer.
	 */
	DNS_NAME_TEXT_MAX = 1024,
	DNS_MAX_POINTERS = 64,
	DNS_HEADER_LEN = 12,
};

/* Record types we decode the data of; others are passed with their type only. */
enum {
	DNS_TYPE_A = 1,
	DNS_TYPE_NS = 2,
	DNS_TYPE_CNAME = 5,
	DNS_TYPE_PTR = 12,
	DNS_TYPE_AAAA = 28,
	DNS_TYPE_OPT = 41,
	DNS_TYPE_SVCB = 64,
	DNS_TYPE_HTTPS = 65,
};

enum dns_section { DNS_QUESTION, DNS_ANSWER, DNS_AUTHORITY, DNS_ADDITIONAL };

/* Why a message could not be read to its end; keep dns_error_name() in step. */
enum dns_error {
	DNS_OK = 0,
	DNS_ERR_SHORT_HEADER = -1,   /* fewer than 12 bytes */
	DNS_ERR_TRUNCATED = -2,      /* a record or name runs past the message */
	DNS_ERR_BAD_LABEL = -3,      /* label type 0x40 or 0x80 (reserved, obsolete) */
	DNS_ERR_BAD_POINTER = -4,    /* a compression pointer that does not point back */
	DNS_ERR_POINTER_LOOP = -5,   /* more than DNS_MAX_POINTERS pointers in one name */
	DNS_ERR_NAME_TOO_LONG = -6,  /* more than 255 octets */
	DNS_ERR_BAD_RDATA = -7,      /* record data that does not fit its type */
};

const char *dns_error_name(enum dns_error error);

struct dns_header {
	uint16_t id;
	uint8_t is_response;
	uint8_t opcode;
	uint8_t rcode;
	uint8_t truncated;       /* TC: the answer did not fit */
	uint16_t counts[4];      /* questions, answers, authority, additional */
};

struct dns_record {
	enum dns_section section;
	char name[DNS_NAME_TEXT_MAX];  /* "" for the root */
	uint16_t type;
	uint16_t class;                 /* mDNS's cache-flush / unicast bit removed */
	uint32_t ttl;                   /* not for questions */
	/* Decoded record data, by type: */
	uint8_t addr_len;               /* A: 4, AAAA: 16, else 0 */
	uint8_t addr[16];
	char target[DNS_NAME_TEXT_MAX]; /* CNAME, NS, PTR, SVCB/HTTPS target; else "" */
	uint16_t svc_priority;          /* SVCB/HTTPS: 0 is alias mode */
	uint8_t svc_has_ech;            /* SVCB/HTTPS: an "ech" parameter (key 5) */
	uint8_t svc_has_alpn;
	uint16_t rdata_len;
};

/* Called for each question and record in order; a nonzero return stops parsing. */
typedef int (*dns_record_fn)(void *context, const struct dns_header *header,
			     const struct dns_record *record);

/*
 * Parses one message. Fills `header` (when the message has one) and calls
 * `on_record` for each question and record. Returns DNS_OK, or the error that
 * stopped it (records before it were delivered), or DNS_ERR_BAD_RDATA if a
 * record's data did not fit its type (that record was delivered with no
 * decoded data, and parsing went on; also when the callback stopped it). `record` is scratch space of
 * the caller's (it is large: keep one per thread, not one per call).
 */
enum dns_error dns_parse(const uint8_t *message, size_t len, struct dns_header *header,
			 struct dns_record *record, dns_record_fn on_record, void *context);

/*
 * Reads the name at `offset` of `message` into `text` (DNS_NAME_TEXT_MAX
 * bytes), following compression pointers. On success sets *next to the
 * offset just past the name where it appears (not where pointers led). On
 * error, `text` is "" and *next is unspecified.
 */
enum dns_error dns_read_name(const uint8_t *message, size_t len, size_t offset, char *text,
			     size_t *next);

/*
 * DNS over TCP (RFC 1035 4.2.2, RFC 7766): the messages of one direction of a
 * stream, each after a 2-byte length, delivered whole whatever the chunks the
 * stream comes in. A message's buffer is made when its length is read (at
 * most 65535 bytes) and freed once it is delivered.
 */
struct dns_tcp_reader {
	uint8_t length[2];
	uint8_t length_have;
	uint16_t message_len;
	uint16_t message_have;
	uint8_t *message;
};

typedef void (*dns_message_fn)(void *context, const uint8_t *message, size_t len);

void dns_tcp_reader_init(struct dns_tcp_reader *reader);
/*
 * Reads `len` more bytes of the stream, calling `on_message` for each message
 * completed. Returns 0, or -1 when a message's buffer could not be had (the
 * reader is then unusable: free it).
 */
int dns_tcp_reader_feed(struct dns_tcp_reader *reader, const uint8_t *data, size_t len,
			dns_message_fn on_message, void *context);
/* Bytes the reader holds now (a partial message). */
size_t dns_tcp_reader_held(const struct dns_tcp_reader *reader);
void dns_tcp_reader_free(struct dns_tcp_reader *reader);

/* The type's mnemonic ("A", "HTTPS"), or NULL for one we do not name. */
const char *dns_type_name(uint16_t type);

#endif
