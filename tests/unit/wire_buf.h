/*
 * For the unit tests: a bounded buffer that messages and frames are built in,
 * byte by byte, in network order. Define WIRE_BUF_SIZE before including it
 * for a buffer other than 4 KiB. Include after <cmocka.h>.
 */
#ifndef TRACKWATCH_TEST_WIRE_BUF_H
#define TRACKWATCH_TEST_WIRE_BUF_H

#include <stdint.h>
#include <string.h>

#ifndef WIRE_BUF_SIZE
#define WIRE_BUF_SIZE 4096
#endif

struct buf {
	uint8_t data[WIRE_BUF_SIZE];
	size_t len;
};

static inline void put8(struct buf *b, uint8_t v)
{
	assert_true(b->len < sizeof b->data);
	b->data[b->len++] = v;
}

static inline void put16(struct buf *b, uint16_t v)
{
	put8(b, (uint8_t)(v >> 8));
	put8(b, (uint8_t)v);
}

static inline void put32(struct buf *b, uint32_t v)
{
	put16(b, (uint16_t)(v >> 16));
	put16(b, (uint16_t)v);
}

static inline void put_le32(struct buf *b, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		put8(b, (uint8_t)(v >> (8 * i)));
}

static inline void put_mem(struct buf *b, const void *p, size_t n)
{
	assert_true(n <= sizeof b->data - b->len);
	if (n == 0)
		return;
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

static inline void put_fill(struct buf *b, uint8_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		put8(b, v);
}

static inline void put_zeros(struct buf *b, size_t n)
{
	put_fill(b, 0, n);
}

#endif
