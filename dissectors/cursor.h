/*
 * cursor: bounds-checked reading of wire bytes whose length is known, shared
 * by the TLS and QUIC readers. Every function reads nothing and returns -1
 * when fewer bytes are left than it needs; else it moves past what it read
 * and returns 0.
 */
#ifndef TRACKWATCH_CURSOR_H
#define TRACKWATCH_CURSOR_H

#include <stddef.h>
#include <stdint.h>

/* The bytes not yet read of something whose length is known. */
struct cursor {
	const uint8_t *p;
	size_t left;
};

static inline int get_bytes(struct cursor *c, size_t n, const uint8_t **bytes)
{
	if (c->left < n)
		return -1;
	*bytes = c->p;
	c->p += n;
	c->left -= n;
	return 0;
}

static inline int skip(struct cursor *c, size_t n)
{
	const uint8_t *ignored;
	return get_bytes(c, n, &ignored);
}

static inline int get8(struct cursor *c, uint8_t *value)
{
	const uint8_t *p;
	if (get_bytes(c, 1, &p) != 0)
		return -1;
	*value = p[0];
	return 0;
}

/* Big-endian, as TLS and QUIC send them. */
static inline int get16(struct cursor *c, uint16_t *value)
{
	const uint8_t *p;
	if (get_bytes(c, 2, &p) != 0)
		return -1;
	*value = (uint16_t)((uint16_t)p[0] << 8 | p[1]);
	return 0;
}

/* A vector with a 1- or 2-byte length (RFC 8446 3.4): *inner is its contents. */
static inline int get_vector(struct cursor *c, int length_bytes, struct cursor *inner)
{
	size_t n;
	if (length_bytes == 1) {
		uint8_t n8;
		if (get8(c, &n8) != 0)
			return -1;
		n = n8;
	} else {
		uint16_t n16;
		if (get16(c, &n16) != 0)
			return -1;
		n = n16;
	}
	const uint8_t *p;
	if (get_bytes(c, n, &p) != 0)
		return -1;
	inner->p = p;
	inner->left = n;
	return 0;
}

#endif
