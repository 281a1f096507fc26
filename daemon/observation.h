/*
 * observation: the value the dissect stage hands forward. One observation is
 * one fact seen on the wire: a name asked for in DNS, a server name in a TLS
 * or QUIC handshake, an HTTP request. Writers (JSON lines, text, and later
 * the store) take observations and own nothing of the stage that made them.
 */
#ifndef TRACKWATCH_OBSERVATION_H
#define TRACKWATCH_OBSERVATION_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Keep observation_kind_name() in step. */
enum observation_kind {
	OBS_DNS_QUERY = 0,  /* a question of a DNS query on port 53 */
	OBS_DNS_ANSWER,     /* the answer section of a DNS response on port 53 */
	OBS_MDNS_QUERY,     /* multicast DNS, port 5353 */
	OBS_MDNS_ANSWER,
	OBS_LLMNR_QUERY,    /* link-local multicast name resolution, port 5355 */
	OBS_LLMNR_ANSWER,
	OBS_TLS_SNI,
	OBS_DTLS_SNI,
	OBS_QUIC_SNI,       /* IETF QUIC and Google QUIC */
	OBS_HTTP_REQUEST,
	OBS_HTTP_RESPONSE,      /* a response's status line and headers; host is its request's */
	OBS_COOKIE_HEADER,      /* one per Cookie header of a request */
	OBS_SET_COOKIE_HEADER,  /* one per Set-Cookie header of a response */
	OBS_TLS_SERVER_HELLO,   /* the version and cipher suite a server chose */
	OBS_CONNECTION,         /* a flow that named nothing: host "", resolved says whom */
	OBS_DHCP_HOSTNAME,  /* the name a client gives itself: names a device */
	OBS_NETBIOS_NAME,
	OBS_STUN_REALM,
	OBS_OTHER_NAME,     /* a name nDPI found in another protocol */
	OBS_RESUMED,        /* a named flow's client sends again after a pause: contacted again */
	OBS_KIND_COUNT
};

const char *observation_kind_name(enum observation_kind kind);

enum { OBS_HOST_MAX = 256, OBS_APP_MAX = 64 };

/* One record of a DNS answer section. */
struct observation_dns_record {
	const char *name;
	const char *data;   /* address text, or the CNAME/PTR/HTTPS target; "" otherwise */
	uint16_t type;
	uint32_t ttl;
	uint8_t ech;        /* an HTTPS/SVCB record that offers ECH */
};

struct observation {
	uint64_t ts_us;            /* packet time, microseconds since the epoch */
	enum observation_kind kind;
	uint64_t flow_id;
	char host[OBS_HOST_MAX];   /* lower case; may hold any byte from the wire */
	uint8_t ip_version;
	uint8_t l4_proto;          /* 6 or 17 */
	uint8_t client_addr[16], server_addr[16];
	uint16_t client_port, server_port;
	uint8_t has_client_mac;
	uint8_t client_mac[6];
	char app[OBS_APP_MAX];     /* nDPI's label, "TLS.Google" */
	uint16_t dns_qtype;        /* OBS_*_QUERY: 0 when unknown */
	/* OBS_*_ANSWER: one per response; host is its question, strings valid during the call */
	uint8_t dns_rcode;
	uint16_t dns_answer_count;         /* records in dns_answers */
	uint16_t dns_answers_dropped;      /* records past what one observation holds */
	const struct observation_dns_record *dns_answers;
	uint8_t dns_chain_count;           /* CNAME chain from host, host first; 0 without CNAME */
	const char *const *dns_chain;
	/* OBS_TLS_SNI from trackwatch's own reader (nDPI's have none of these) */
	const char *tls_alpn;      /* the ALPN names joined with ',', or NULL */
	const uint16_t *tls_versions; /* supported_versions, GREASE left out */
	uint8_t tls_version_count;
	uint8_t tls_ech;           /* an encrypted_client_hello extension is offered */
	/*
	 * HTTP. Strings are wire bytes (a writer escapes them), valid during the
	 * emit call only; NULL when the message has no such header. Query values
	 * in path and referer, and cookie values, are keyed hashes unless the
	 * operator keeps identifiers (daemon/identifiers.h).
	 */
	const char *http_method;   /* OBS_HTTP_REQUEST */
	const char *http_path;     /* requests: the target with its query string */
	const char *http_referer, *http_origin, *http_user_agent; /* requests */
	const char *http_content_type; /* responses */
	uint16_t http_status;      /* OBS_HTTP_RESPONSE, OBS_SET_COOKIE_HEADER */
	const char *cookie;        /* OBS_COOKIE_HEADER, OBS_SET_COOKIE_HEADER: the value */
	/*
	 * Header values may hold NUL bytes from the wire: for one that does, its
	 * length in bytes (NUL of its end not counted); 0 for one that does not,
	 * which ends at its first NUL. By enum observation_text.
	 */
	uint32_t text_len[6];
	uint16_t tls_version;      /* OBS_TLS_SERVER_HELLO: the version chosen */
	uint16_t tls_cipher;       /* OBS_TLS_SERVER_HELLO: the cipher suite chosen */
	/*
	 * For an observation with no host of its own: the name a device resolved
	 * the server's address for (the latest DNS answer giving it), when known;
	 * NULL otherwise. A flow that names nothing (a bare address, a protocol
	 * we do not read) is still attributed by it.
	 */
	const char *resolved;
};

/* The header values that carry a length in text_len[]. */
enum observation_text {
	OBS_TEXT_PATH, OBS_TEXT_REFERER, OBS_TEXT_ORIGIN, OBS_TEXT_USER_AGENT,
	OBS_TEXT_CONTENT_TYPE, OBS_TEXT_COOKIE, OBS_TEXT_COUNT
};

/* An observation sink: the writers below, and later the store. */
struct observation_writer;

enum observation_format { OBS_FORMAT_JSONL, OBS_FORMAT_TEXT };

/*
 * Opens a writer on `path` ("-" for standard output). `line_buffered` flushes
 * after each observation, for live capture. Returns NULL with errno set.
 */
struct observation_writer *observation_writer_open(const char *path,
						   enum observation_format format,
						   int line_buffered);
/* Writes one observation; returns 0, or -1 on a write error (errno set). */
int observation_write(struct observation_writer *writer, const struct observation *obs);
/* Flushes and closes; returns 0, or -1 if anything failed to be written. */
int observation_writer_close(struct observation_writer *writer);

/*
 * An observation as one self-contained block of bytes, to hand to another
 * thread: observation_packed_size() says how many bytes (a multiple of 8),
 * observation_pack() writes them to 8-aligned `out`, and observation_unpack()
 * makes the block usable in place again (its pointers point into it).
 */
size_t observation_packed_size(const struct observation *obs);
void observation_pack(const struct observation *obs, void *out);
const struct observation *observation_unpack(void *packed);

/* Text helpers shared by writers. */
void observation_addr_text(uint8_t ip_version, const uint8_t addr[16], char *buf, size_t len);
void observation_mac_text(const uint8_t mac[6], char *buf, size_t len);
/* Wire bytes as printable ASCII, non-printables as \xNN; caller frees. */
char *observation_escape(const char *in);
/*
 * The same into `out`, which holds at least 4 * len + 1 bytes; returns the
 * length written. JSON strings keep their spaces (user agents, cookie
 * attributes): only text output, whose fields are separated by spaces,
 * escapes them (keep_space 0).
 */
size_t observation_escape_into(const char *in, size_t len, char *out, int keep_space);

#endif
