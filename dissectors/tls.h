/*
 * tls: our own reader of the first TLS handshake message of a connection
 * (RFC 8446, RFC 5246), for the dissect stage. Takes one direction of a TCP
 * connection as reassembled bytes, in chunks of any size (one byte at a time
 * works as well as whole segments), and gives the ClientHello (client
 * direction) or the ServerHello (server direction): server name, ALPN,
 * supported versions, ECH, the list of extension types. nDPI sees one TCP
 * segment at a time and misses a hello that spans two, as a post-quantum
 * ClientHello (~1800 bytes) does; this reads across segments and records.
 *
 * Hostile input: every length is checked against what holds it (record,
 * message, extension block, extension), a record is at most TLS_RECORD_MAX
 * bytes and a handshake message at most TLS_HANDSHAKE_MAX, and the reader
 * buffers nothing until it needs to (an idle reader costs its struct).
 */
#ifndef TRACKWATCH_TLS_H
#define TRACKWATCH_TLS_H

#include <stddef.h>
#include <stdint.h>

enum {
	TLS_RECORD_HEADER_LEN = 5,
	TLS_HANDSHAKE_HEADER_LEN = 4,
	/* RFC 5246 6.2.3: a record body is at most 2^14 + 2048 bytes. */
	TLS_RECORD_MAX = 16384 + 2048,
	/* The most a reader buffers: one whole handshake message, header included. */
	TLS_HANDSHAKE_MAX = 65536,
	TLS_SNI_MAX = 256,               /* 255 octets (RFC 6066 3, DNS) and a NUL */
	TLS_ALPN_TEXT_MAX = 256,
	TLS_VERSIONS_MAX = 32,
	TLS_EXTENSION_TYPES_MAX = 64,
};

/* Record content types and handshake message types (RFC 8446 5.1, 4). */
enum {
	TLS_CONTENT_CHANGE_CIPHER_SPEC = 20,
	TLS_CONTENT_ALERT = 21,
	TLS_CONTENT_HANDSHAKE = 22,
	TLS_CONTENT_APPLICATION_DATA = 23,
	TLS_CONTENT_HEARTBEAT = 24,
	TLS_HANDSHAKE_CLIENT_HELLO = 1,
	TLS_HANDSHAKE_SERVER_HELLO = 2,
};

/* Extension types we decode; the others are only listed. */
enum {
	TLS_EXT_SERVER_NAME = 0,
	TLS_EXT_ALPN = 16,
	TLS_EXT_SUPPORTED_VERSIONS = 43,
	TLS_EXT_ECH = 0xfe0d,
};

/*
 * Where a reader stands; keep tls_end_name() in step. Anything but TLS_MORE
 * is final: the reader reads nothing more, and every later tls_reader_feed()
 * returns the same value without touching its `out`.
 */
enum tls_end {
	TLS_MORE = 0,            /* wants more bytes */
	TLS_DONE,                /* the hello is parsed: *out is filled */
	TLS_END_NOT_TLS,         /* the first record header is not TLS (type 20-24, version 3.x) */
	TLS_END_NOT_HANDSHAKE,   /* a record other than handshake came before the hello (but a
				  * change_cipher_spec after a HelloRetryRequest, and a
				  * server's warning alert, are skipped) */
	TLS_END_BAD_RECORD,      /* a record longer than TLS_RECORD_MAX, empty, or not TLS after the first */
	TLS_END_BAD_HELLO,       /* the hello is malformed (*out has what was parsed before the
				  * fault), or another message came where it should be, or a
				  * second HelloRetryRequest */
	TLS_END_TOO_LONG,        /* the hello is longer than TLS_HANDSHAKE_MAX */
	TLS_END_SSLV2,           /* the first byte has its high bit set: an SSLv2 record header */
	TLS_END_NO_MEMORY,       /* the message buffer could not be allocated */
};

const char *tls_end_name(enum tls_end end);

/*
 * A ClientHello or ServerHello. Strings are always NUL-terminated; counts
 * never exceed their array. Fields a message does not have are 0 or "".
 */
struct tls_hello {
	uint8_t is_server;            /* ServerHello */
	uint8_t hello_retry;          /* ServerHello: a HelloRetryRequest (one-shot parse),
				       * or one came before this ServerHello (reader) */
	uint16_t legacy_version;
	uint16_t cipher_suite;        /* ServerHello */
	uint16_t selected_version;    /* ServerHello supported_versions, 0 if none */

	/*
	 * ClientHello server_name (a server's is empty: it is only listed):
	 * the first host_name entry, its bytes as they are, which a writer
	 * must escape. An extension that is malformed, or whose name is empty,
	 * longer than 255 or holds a NUL byte, leaves sni "" and sets sni_invalid.
	 */
	char sni[TLS_SNI_MAX];
	uint8_t has_sni;
	uint8_t sni_invalid;

	/*
	 * ALPN: the protocol names joined with ',' (in a TLS 1.2 ServerHello,
	 * the one the server chose), their bytes as they are (a name may hold
	 * a ','). A name that does not fit with its comma is left out with all
	 * the names after it, and alpn_truncated is set. A malformed extension,
	 * or a name holding a NUL byte, leaves alpn "" and sets alpn_invalid.
	 */
	char alpn[TLS_ALPN_TEXT_MAX];
	uint8_t alpn_truncated;
	uint8_t alpn_invalid;

	/* ClientHello supported_versions, in order, GREASE values left out; the
	 * first TLS_VERSIONS_MAX. A malformed extension sets versions_invalid
	 * (and, in a ServerHello, leaves selected_version 0). */
	uint16_t versions[TLS_VERSIONS_MAX];
	uint8_t version_count;
	uint8_t versions_invalid;

	/* ClientHello encrypted_client_hello: its type byte (0 outer, 1 inner,
	 * others as they are) or -1 when the extension is empty or absent. */
	uint8_t ech_offered;
	int16_t ech_type;

	/* Every extension type in order, GREASE included, for fingerprints: the
	 * first TLS_EXTENSION_TYPES_MAX of extension_count. An extension that
	 * runs past the block is not counted. */
	uint16_t extension_types[TLS_EXTENSION_TYPES_MAX];
	uint16_t extension_count;
};

/* One direction of one connection. Fields are the reader's own. */
struct tls_reader {
	uint8_t is_server;
	uint8_t end;                  /* enum tls_end: TLS_MORE while reading */
	uint8_t started;              /* a byte has been seen */
	uint8_t records;              /* a whole record header has been seen */
	uint8_t saw_retry;            /* a HelloRetryRequest has been read */
	uint8_t record[TLS_RECORD_HEADER_LEN];
	uint8_t record_have;          /* header bytes in record[] */
	uint16_t record_left;         /* body bytes of the current record still to come */
	uint8_t message_header[TLS_HANDSHAKE_HEADER_LEN];
	uint8_t message_header_have;
	size_t message_len;           /* header included, once the header is in */
	size_t message_have;          /* bytes of the message in buffer[] */
	uint8_t *buffer;              /* NULL until a message header is in; freed at the end */
	size_t buffer_size;
};

/* Readies a reader for the client (is_server_direction 0) or server side. */
void tls_reader_init(struct tls_reader *reader, int is_server_direction);

/*
 * Reads `len` more bytes of the stream (`data` may be NULL when `len` is 0).
 * Returns TLS_MORE while the hello is incomplete, then the outcome: TLS_DONE
 * with *out filled, or the reason it gave up (*out filled as far as parsed
 * for TLS_END_BAD_HELLO, else untouched). The outcome is sticky: later feeds
 * read nothing, return it again and leave *out alone, so *out is filled once;
 * a caller stops feeding at the first value that is not TLS_MORE. No byte
 * past the hello is read. The message buffer is freed with the outcome.
 */
enum tls_end tls_reader_feed(struct tls_reader *reader, const uint8_t *data, size_t len,
			     struct tls_hello *out);

/* Frees the message buffer; the reader may be initialised again. */
void tls_reader_free(struct tls_reader *reader);

/*
 * Parses one complete handshake message, header included (bytes past its
 * length are ignored): a ClientHello or ServerHello. Returns TLS_DONE,
 * TLS_MORE if `len` is shorter than the message, TLS_END_TOO_LONG, or
 * TLS_END_BAD_HELLO (another message type, or malformed; *out has what was
 * parsed before the fault). *out is written for TLS_DONE and TLS_END_BAD_HELLO.
 */
enum tls_end tls_parse_hello(const uint8_t *message, size_t len, struct tls_hello *out);

/* GREASE values (RFC 8701): 0x0a0a, 0x1a1a, ... 0xfafa. */
int tls_is_grease(uint16_t value);

#endif
