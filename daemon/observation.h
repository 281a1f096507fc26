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
	OBS_COOKIE_SENT,        /* one per cookie of a request's Cookie header(s) */
	OBS_COOKIE_SET,         /* one per Set-Cookie header of a response */
	OBS_TLS_SERVER_HELLO,   /* the version and cipher suite a server chose */
	OBS_CONNECTION,         /* a flow that named nothing: host "", resolved says whom */
	OBS_DHCP_HOSTNAME,  /* the name a client gives itself: names a device */
	OBS_NETBIOS_NAME,
	OBS_STUN_REALM,
	OBS_OTHER_NAME,     /* a name nDPI found in another protocol */
	OBS_RESUMED,        /* a named flow's client sends again after a pause: contacted again */
	OBS_CONSENT,        /* a consent signal in a request (daemon/consent.h): host is the request's */
	OBS_KIND_COUNT
};

const char *observation_kind_name(enum observation_kind kind);
/* consent_decision's word for an OBS_CONSENT (daemon/consent.h), or NULL for none. */
const char *observation_decision_name(unsigned decision);
/* A Set-Cookie's SameSite value as written ("None", "Lax", "Strict", "invalid"), or NULL for none. */
const char *observation_same_site_name(unsigned same_site);

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
	uint8_t decrypted;         /* read inside TLS, decrypted with a key log (HTTP kinds) */
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
	uint16_t http_status;      /* OBS_HTTP_RESPONSE, OBS_COOKIE_SET */
	/*
	 * OBS_COOKIE_SENT, OBS_COOKIE_SET: one cookie. Its value is a keyed
	 * hash unless the operator keeps identifiers; what the raw value looked
	 * like is kept in cookie_value_len and OBS_COOKIE_IDENTIFIER_LIKE.
	 */
	const char *cookie_name;
	const char *cookie;        /* the value */
	const char *cookie_domain; /* set: the Domain attribute as sent, or NULL (host only) */
	const char *cookie_path;   /* set: the Path attribute, or NULL */
	int64_t cookie_lifetime;   /* set: seconds from ts (-1 a session cookie, 0 deletes it) */
	uint32_t cookie_value_len; /* bytes of the raw value */
	uint8_t cookie_flags;      /* enum observation_cookie_flag */
	uint8_t cookie_same_site;  /* set: enum cookie_same_site (dissectors/cookie.h) */
	uint8_t cookie_malformed;  /* parts of its header that did not parse (to 255) */
	/* OBS_CONSENT: enum consent_decision, the rule that read it, and what it read. */
	uint8_t consent_decision;
	const char *consent_source, *consent_detail;
	/*
	 * Header values may hold NUL bytes from the wire: for one that does, its
	 * length in bytes (NUL of its end not counted); 0 for one that does not,
	 * which ends at its first NUL. By enum observation_text.
	 */
	uint32_t text_len[7];
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
	OBS_TEXT_CONTENT_TYPE, OBS_TEXT_COOKIE, OBS_TEXT_COOKIE_NAME, OBS_TEXT_COUNT
};

enum observation_cookie_flag {
	OBS_COOKIE_SECURE = 1,
	OBS_COOKIE_HTTP_ONLY = 2,
	OBS_COOKIE_PARTITIONED = 4,
	OBS_COOKIE_IDENTIFIER_LIKE = 8, /* the raw value looks like an identifier (cookie_value_identifier_like()) */
	OBS_COOKIE_CONSENT = 16,        /* the consent rules read this cookie's name as a consent cookie */
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
