/* text: small helpers on ASCII bytes, shared by the readers of the wire and of files. */
#ifndef TRACKWATCH_TEXT_H
#define TRACKWATCH_TEXT_H

/* The value of a hexadecimal digit, in either case; -1 for any other byte. */
static inline int hex_digit_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

#endif
