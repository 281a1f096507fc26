/*
 * quic: our own reader of the client's first flight of a QUIC connection, for
 * the dissect stage. Takes the UDP datagrams a client sends on one flow, one
 * at a time, and gives the hello they carry: the TLS ClientHello of IETF QUIC
 * (v1, v2, drafts 27-34, mvfst, Google's T050/T051), read from the CRYPTO
 * frames of the Initial packets once they are decrypted and reassembled, or
 * the server name of a Google QUIC CHLO (Q024-Q046 in the clear, Q050
 * decrypted). nDPI 4.2 reads one packet and misses a ClientHello that spans
 * two Initials, as Chrome's post-quantum one does.
 *
 * Hostile input: every length is checked against what holds it (varints, CID
 * lengths of at most 20, the token, the Length field against the datagram,
 * the header protection sample), every Initial is authenticated before a
 * byte of it is used, and the reassembled CRYPTO data is at most
 * TLS_HANDSHAKE_MAX bytes, buffered only as it arrives.
 */
#ifndef TRACKWATCH_QUIC_H
#define TRACKWATCH_QUIC_H

#include <stddef.h>
#include <stdint.h>

#include "tls.h"

enum {
	QUIC_CID_MAX = 20,               /* RFC 9000 17.2: version 1 CIDs are at most 20 bytes */
	/* A reader that has seen this many datagrams without a whole hello gives up. */
	QUIC_DATAGRAMS_MAX = 64,
};

/* Versions we read (the Version field, big-endian); gQUIC's are ASCII "Qnnn". */
enum {
	QUIC_VERSION_NEGOTIATION = 0x00000000,
	QUIC_VERSION_1 = 0x00000001,          /* RFC 9000 */
	QUIC_VERSION_2 = 0x6b3343cf,          /* RFC 9369 */
	QUIC_VERSION_DRAFT_27 = 0xff00001b,   /* ... through draft-34, 0xff000022 */
	QUIC_VERSION_DRAFT_34 = 0xff000022,
	QUIC_VERSION_MVFST_22 = 0xfaceb001,   /* Facebook mvfst, draft-22 keys */
	QUIC_VERSION_MVFST_27 = 0xfaceb002,   /* Facebook mvfst, draft-27 keys */
	QUIC_VERSION_MVFST_EXP = 0xfaceb00e,  /* Facebook mvfst experimental, draft-27 keys */
	QUIC_VERSION_Q046 = 0x51303436,       /* "Q046" */
	QUIC_VERSION_Q050 = 0x51303530,       /* "Q050" */
	QUIC_VERSION_T050 = 0x54303530,       /* "T050" */
	QUIC_VERSION_T051 = 0x54303531,       /* "T051" */
};

/*
 * Where a reader stands; keep quic_end_name() in step. Anything but QUIC_MORE
 * is final: the reader reads nothing more, and every later quic_reader_feed()
 * returns the same value without touching its `out`.
 */
enum quic_end {
	QUIC_MORE = 0,                /* wants more datagrams */
	QUIC_DONE,                    /* the hello is read: *out is filled */
	QUIC_END_NOT_QUIC,            /* the first datagram is neither a long header nor a
				       * gQUIC public header with a version */
	QUIC_END_VERSION_NEGOTIATION, /* a Version Negotiation packet (a server's, so the
				       * wrong direction) */
	QUIC_END_UNKNOWN_VERSION,     /* a long header of a version we cannot decrypt */
	QUIC_END_BAD_PACKET,          /* a header that does not hold together: a CID over 20
				       * bytes, a varint or token cut short, a Length past the
				       * datagram or too short for the header protection sample */
	QUIC_END_DECRYPT_FAILED,      /* an Initial that no key of this connection authenticates */
	QUIC_END_BAD_FRAME,           /* a frame cut short, or a type an Initial must not carry
				       * (RFC 9000 12.4: a protocol violation), or no frame */
	QUIC_END_CONNECTION_CLOSE,    /* the client closed the connection before its hello */
	QUIC_END_TOO_LONG,            /* CRYPTO data past TLS_HANDSHAKE_MAX, or a hello that
				       * says it is longer */
	QUIC_END_BAD_HELLO,           /* the first handshake message is not a ClientHello (or
				       * CHLO), or is malformed: *out has what was parsed */
	QUIC_END_NO_HELLO,            /* QUIC_DATAGRAMS_MAX datagrams and still no whole hello */
	QUIC_END_NO_MEMORY,           /* the CRYPTO buffer could not be allocated */
	QUIC_END_CRYPTO_ERROR,        /* libcrypto failed: not the packet's fault */
};

const char *quic_end_name(enum quic_end end);

/* The Initial keys of one (version, Destination Connection ID). */
struct quic_initial_keys {
	uint32_t version;
	uint8_t valid;
	uint8_t dcid_len;
	uint8_t dcid[QUIC_CID_MAX];
	uint8_t key[16];              /* AEAD_AES_128_GCM */
	uint8_t iv[12];
	uint8_t hp[16];               /* AES-128-ECB header protection */
};

/*
 * The client direction of one UDP flow. Fields are the reader's own; read
 * them through the functions below. An idle reader holds no memory besides
 * its struct; the CRYPTO buffer is allocated when data comes, grown as it
 * comes, and freed with the outcome.
 */
struct quic_reader {
	uint8_t end;                  /* enum quic_end: QUIC_MORE while reading */
	uint8_t kind;                 /* what the first datagram was (quic.c) */
	uint8_t gquic_hello;          /* the hello is a gQUIC CHLO, not TLS */
	uint16_t datagrams;           /* fed so far, up to QUIC_DATAGRAMS_MAX */
	uint32_t version;             /* of the first packet read, 0 until then */
	int64_t largest_pn;           /* Initial packet number space, -1 before the first */
	/* Keys from the DCID of the client's first Initial (RFC 9001 5.2), and the
	 * last other set tried (a Retry or a compatible version change). */
	struct quic_initial_keys keys[2];

	/* The CRYPTO stream (gQUIC: stream 1) from offset 0. */
	uint8_t *buffer;              /* buffer_size bytes, then one bit per byte: arrived */
	size_t buffer_size;
	size_t contiguous;            /* bytes 0..contiguous-1 have all arrived */
	size_t message_len;           /* the hello's whole length once its header is in, else 0 */
};

/* Readies a reader. */
void quic_reader_init(struct quic_reader *reader);

/*
 * Reads one UDP datagram (its payload) the client sent (`datagram` may be
 * NULL when `len` is 0: an empty datagram carries nothing and is skipped).
 * Every packet of the datagram is read in turn: Initial packets are
 * decrypted and their frames read; a 0-RTT, Handshake or short-header packet
 * ends the datagram (RFC 9000 12.2: the Initial comes first). Returns
 * QUIC_MORE while the hello is incomplete, then the outcome: QUIC_DONE with
 * *out filled, or the reason it gave up (*out filled as far as parsed for
 * QUIC_END_BAD_HELLO, else untouched). The outcome is sticky, as with
 * tls_reader_feed(): later feeds read nothing, return it again and leave *out
 * alone. The CRYPTO buffer is freed with the outcome.
 *
 * For a gQUIC CHLO (quic_reader_is_gquic()), *out holds only the server
 * name: sni, has_sni and sni_invalid, checked as a TLS server_name is (not
 * empty, at most 255 bytes, no NUL); its other fields are 0, "" or -1.
 */
enum quic_end quic_reader_feed(struct quic_reader *reader, const uint8_t *datagram, size_t len,
			       struct tls_hello *out);

/* The bytes the reader holds on the heap now (0 when idle or ended), so a
 * caller can bound the total over its flows. */
size_t quic_reader_held(const struct quic_reader *reader);

/* The version of the packets read (as on the wire: 0x00000001, 0x6b3343cf,
 * 0x51303433 for "Q043"...), 0 before the first. */
uint32_t quic_reader_version(const struct quic_reader *reader);

/* 1 when the hello came from a gQUIC CHLO (Q0xx, Q050) rather than TLS. */
int quic_reader_is_gquic(const struct quic_reader *reader);

/* Frees the CRYPTO buffer; the reader may be initialised again. */
void quic_reader_free(struct quic_reader *reader);

/*
 * Derives the client's Initial keys for `version` from a Destination
 * Connection ID of at most QUIC_CID_MAX bytes (RFC 9001 5.2, RFC 9369 3.3).
 * Returns 0, or -1 for a version that has no Initial keys we know or a
 * libcrypto failure. For tests and tools that build packets: the reader
 * derives its own.
 */
int quic_initial_keys_derive(uint32_t version, const uint8_t *dcid, size_t dcid_len,
			     struct quic_initial_keys *keys);

/*
 * A cheap look at a flow's first client datagram, to decide whether to make
 * a reader: 1 for a long header with the fixed bit set and a version we read
 * (of any packet type: a 0-RTT packet can overtake the Initial), or a gQUIC
 * public header with the version and 8-byte CID flags and a version "Q02x" to
 * "Q04x"; else 0. Decrypts nothing.
 */
int quic_looks_like_initial(const uint8_t *datagram, size_t len);

#endif
