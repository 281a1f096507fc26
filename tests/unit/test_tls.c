/*
 * Unit tests for dissectors/tls.c. Real hellos from tests/data, whose fields
 * are checked against tshark's dissection of the same packets, fed whole, in
 * two chunks split at every offset, one byte at a time, cut short at every
 * byte and re-wrapped in other records; then hellos built byte by byte for
 * each malformed or unusual case. Every chunk is fed from a heap copy of
 * exactly its length, so that ASan sees any read past it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define WIRE_BUF_SIZE 8192
#include "wire_buf.h"

#include "../../dissectors/tls.h"

/* ---- real hellos ---------------------------------------------------------- */

/*
 * One direction of a TCP connection from its first byte to the end of the
 * record that completes its hello, as tshark reassembles it:
 *     tests/fuzz/make-tls-seeds.py --c tests/data/CAPTURE STREAM client|server
 * (which reads `tshark -r tests/data/CAPTURE -q -z follow,tcp,raw,STREAM`).
 */

/* tls_alert.pcap, stream 0, client: the ClientHello of frame 4. */
static const uint8_t ALERT_CLIENT[] = {
	0x16, 0x03, 0x01, 0x00, 0xc2, 0x01, 0x00, 0x00, 0xbe, 0x03, 0x01, 0x52, 0xdb, 0x35, 0xf3, 0xea,
	0xa1, 0x18, 0x8b, 0xf1, 0xe1, 0x93, 0xfc, 0xcf, 0x33, 0x3e, 0x58, 0x73, 0xf4, 0x35, 0xbb, 0xdc,
	0x1c, 0x48, 0x18, 0x17, 0x85, 0x3f, 0x54, 0x76, 0x25, 0x6a, 0x3a, 0x00, 0x00, 0x12, 0x00, 0x2f,
	0x00, 0x33, 0x00, 0x35, 0x00, 0x39, 0xc0, 0x09, 0xc0, 0x0a, 0xc0, 0x13, 0xc0, 0x14, 0x56, 0x00,
	0x01, 0x00, 0x00, 0x83, 0xff, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x1d, 0x00, 0x1b, 0x00,
	0x00, 0x18, 0x77, 0x77, 0x77, 0x2e, 0x67, 0x6f, 0x6f, 0x67, 0x6c, 0x65, 0x2d, 0x61, 0x6e, 0x61,
	0x6c, 0x79, 0x74, 0x69, 0x63, 0x73, 0x2e, 0x63, 0x6f, 0x6d, 0x00, 0x17, 0x00, 0x00, 0x00, 0x05,
	0x00, 0x05, 0x01, 0x00, 0x00, 0x00, 0x00, 0x33, 0x74, 0x00, 0x00, 0x00, 0x12, 0x00, 0x00, 0x00,
	0x10, 0x00, 0x30, 0x00, 0x2e, 0x02, 0x68, 0x32, 0x05, 0x68, 0x32, 0x2d, 0x31, 0x36, 0x05, 0x68,
	0x32, 0x2d, 0x31, 0x35, 0x05, 0x68, 0x32, 0x2d, 0x31, 0x34, 0x08, 0x73, 0x70, 0x64, 0x79, 0x2f,
	0x33, 0x2e, 0x31, 0x06, 0x73, 0x70, 0x64, 0x79, 0x2f, 0x33, 0x08, 0x68, 0x74, 0x74, 0x70, 0x2f,
	0x31, 0x2e, 0x31, 0x00, 0x0b, 0x00, 0x02, 0x01, 0x00, 0x00, 0x0a, 0x00, 0x0a, 0x00, 0x08, 0x00,
	0x1d, 0x00, 0x17, 0x00, 0x18, 0x00, 0x19,
};

/* tls_alert.pcap, stream 0, server: an alert (protocol_version), frame 6. */
static const uint8_t ALERT_SERVER[] = { 0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x46 };

/*
 * browser-accept-http.pcap, stream 2, client: Chromium's post-quantum
 * ClientHello, one 1920-byte record over two TCP segments (frames 60 and
 * 62, 1448 and 477 bytes).
 */
static const uint8_t BROWSER_CLIENT[] = {
	0x16, 0x03, 0x01, 0x07, 0x80, 0x01, 0x00, 0x07, 0x7c, 0x03, 0x03, 0xe8, 0x96, 0xc6, 0xce, 0xc9,
	0xb0, 0x75, 0x94, 0x7d, 0x5b, 0x10, 0x7b, 0x78, 0xe1, 0x3c, 0x81, 0x88, 0x17, 0xc8, 0x41, 0x7f,
	0x0a, 0x5c, 0x72, 0x34, 0xb8, 0xc0, 0x82, 0x8b, 0xa1, 0xd1, 0xf0, 0x20, 0xdd, 0x9e, 0x00, 0x59,
	0x02, 0x65, 0xdb, 0xad, 0x3d, 0xd2, 0x8d, 0x6d, 0x92, 0x85, 0x04, 0x39, 0x54, 0x01, 0x48, 0xd0,
	0xa6, 0xb2, 0x48, 0x39, 0xbd, 0xb2, 0xa3, 0x27, 0xec, 0x82, 0xc1, 0x79, 0x00, 0x20, 0xca, 0xca,
	0x13, 0x01, 0x13, 0x02, 0x13, 0x03, 0xc0, 0x2b, 0xc0, 0x2f, 0xc0, 0x2c, 0xc0, 0x30, 0xcc, 0xa9,
	0xcc, 0xa8, 0xc0, 0x13, 0xc0, 0x14, 0x00, 0x9c, 0x00, 0x9d, 0x00, 0x2f, 0x00, 0x35, 0x01, 0x00,
	0x07, 0x13, 0x2a, 0x2a, 0x00, 0x00, 0x00, 0x0b, 0x00, 0x02, 0x01, 0x00, 0x00, 0x1b, 0x00, 0x03,
	0x02, 0x00, 0x02, 0xfe, 0x0d, 0x00, 0xba, 0x00, 0x00, 0x01, 0x00, 0x01, 0xf0, 0x00, 0x20, 0x24,
	0xf2, 0x16, 0x10, 0x53, 0x73, 0x36, 0x64, 0xf8, 0x4a, 0x1d, 0xd9, 0x5e, 0x1c, 0xb5, 0x9b, 0x19,
	0x00, 0x0c, 0xb9, 0x95, 0x08, 0xa7, 0x52, 0xd5, 0xf9, 0x92, 0x86, 0x9d, 0xe1, 0xc7, 0x25, 0x00,
	0x90, 0xd9, 0x0a, 0xcb, 0x2b, 0x1b, 0xd2, 0x7d, 0xff, 0x49, 0x67, 0xdf, 0x3c, 0xfa, 0x74, 0x48,
	0x2d, 0x73, 0x4f, 0x58, 0x5c, 0x73, 0x1c, 0x96, 0x1b, 0x40, 0x0c, 0x59, 0xe4, 0x1a, 0xea, 0x91,
	0x76, 0x57, 0x4f, 0x11, 0x18, 0xbd, 0x5d, 0x09, 0x5e, 0xec, 0xe3, 0xab, 0xff, 0xc2, 0x61, 0xaa,
	0xb8, 0x23, 0x75, 0x34, 0x0d, 0xc2, 0xc0, 0x9a, 0xfa, 0xe3, 0x44, 0xf9, 0x2f, 0x4a, 0x75, 0x02,
	0xae, 0xd9, 0x99, 0xdf, 0xce, 0x25, 0xf1, 0xf0, 0x19, 0x4c, 0xa4, 0x77, 0x6f, 0x0f, 0xfe, 0x7f,
	0x48, 0xcb, 0x03, 0x59, 0x47, 0x0c, 0x02, 0x28, 0xf9, 0x1e, 0xeb, 0x30, 0x83, 0x24, 0xc7, 0x69,
	0x98, 0x4e, 0x54, 0xf1, 0xed, 0xda, 0x32, 0xa8, 0x66, 0x9c, 0x6a, 0x04, 0x25, 0x1a, 0x09, 0xd5,
	0x2f, 0xee, 0x0d, 0xc5, 0xf4, 0xa6, 0xef, 0x1f, 0x1b, 0xb4, 0x9f, 0x7f, 0x02, 0x51, 0x2f, 0x28,
	0x7b, 0xfe, 0x29, 0x56, 0x42, 0x16, 0xe3, 0x2c, 0xdf, 0xdd, 0x7a, 0x29, 0x97, 0x8f, 0x25, 0x00,
	0x47, 0x00, 0x10, 0x00, 0x0e, 0x00, 0x0c, 0x02, 0x68, 0x32, 0x08, 0x68, 0x74, 0x74, 0x70, 0x2f,
	0x31, 0x2e, 0x31, 0x00, 0x33, 0x04, 0xef, 0x04, 0xed, 0xea, 0xea, 0x00, 0x01, 0x00, 0x11, 0xec,
	0x04, 0xc0, 0x33, 0xac, 0x59, 0x75, 0x97, 0x01, 0x29, 0x37, 0x75, 0x62, 0xb1, 0x05, 0x3e, 0x28,
	0xc9, 0xd3, 0xdc, 0x0d, 0x32, 0x70, 0x8d, 0x9a, 0x1c, 0xac, 0xfc, 0xb9, 0xb2, 0x47, 0xaa, 0x47,
	0x5e, 0xc0, 0x28, 0x0c, 0xf4, 0x28, 0xa3, 0x83, 0x5b, 0xc0, 0x28, 0x66, 0xd4, 0xe1, 0x36, 0xd9,
	0x8a, 0x94, 0x34, 0xa9, 0xa0, 0x52, 0x54, 0x1e, 0xfd, 0xf0, 0xad, 0x78, 0x78, 0x18, 0x9d, 0xa3,
	0x51, 0x6a, 0xb3, 0x03, 0x7b, 0x24, 0xca, 0x87, 0x79, 0x8c, 0x17, 0x79, 0x7c, 0xeb, 0xb3, 0x6a,
	0xf3, 0x7c, 0x75, 0x94, 0x29, 0xb1, 0x41, 0xa5, 0x6d, 0xf0, 0xf1, 0xc0, 0xc2, 0xe1, 0xb5, 0x30,
	0x18, 0x5f, 0x8c, 0x20, 0x8d, 0x87, 0x61, 0x6c, 0x7e, 0x80, 0x6b, 0x03, 0x83, 0xcf, 0xea, 0x98,
	0xa8, 0xde, 0x89, 0x68, 0xd2, 0x3a, 0xaa, 0x54, 0xaa, 0xc5, 0x58, 0x37, 0x29, 0x24, 0x2b, 0xa7,
	0x55, 0x23, 0xac, 0x44, 0x06, 0x32, 0xce, 0xe6, 0x39, 0xf7, 0x11, 0x09, 0xae, 0xb2, 0x6b, 0x21,
	0x46, 0x7f, 0x13, 0xa7, 0x51, 0xd1, 0x17, 0x3b, 0x92, 0xa0, 0x03, 0x2e, 0x86, 0xb2, 0x60, 0xfc,
	0x49, 0x48, 0x01, 0x7a, 0x62, 0xa3, 0x43, 0x3c, 0xbb, 0x4b, 0x20, 0x19, 0x77, 0x44, 0x04, 0xbe,
	0x10, 0xd4, 0x09, 0xa7, 0x18, 0x2d, 0x26, 0xb8, 0x11, 0xa1, 0xc3, 0x88, 0x5a, 0xf1, 0xa0, 0x8b,
	0x46, 0xc0, 0xf2, 0x94, 0x00, 0x49, 0x66, 0x30, 0xe3, 0x00, 0x7e, 0x4a, 0xbb, 0x59, 0x0a, 0x33,
	0x37, 0x01, 0x5a, 0xc9, 0x65, 0x29, 0x47, 0x03, 0x66, 0x30, 0xae, 0x21, 0xc8, 0x85, 0x20, 0xc5,
	0xe2, 0x2c, 0x4f, 0xd4, 0x40, 0x98, 0x64, 0x92, 0x1c, 0x99, 0x39, 0xbc, 0xa2, 0x63, 0xc9, 0xc9,
	0xf8, 0x16, 0x76, 0x61, 0x92, 0xbf, 0xb9, 0xc0, 0x3f, 0xab, 0x2c, 0x7a, 0xab, 0x75, 0x17, 0x7c,
	0x5f, 0x19, 0x47, 0x56, 0x06, 0x88, 0x70, 0xb8, 0x91, 0x6c, 0xe6, 0x55, 0x9e, 0x0f, 0xa8, 0x4b,
	0x6c, 0x29, 0xac, 0xd6, 0x62, 0x6b, 0xf2, 0xf5, 0xcb, 0xcb, 0xa3, 0x2b, 0x04, 0xa6, 0x10, 0xd6,
	0xc4, 0xce, 0xbd, 0xb3, 0x41, 0x89, 0x69, 0x0d, 0x6e, 0x25, 0xbf, 0x91, 0x97, 0x36, 0x08, 0xf6,
	0x0f, 0xbd, 0x6c, 0x56, 0xec, 0x7c, 0x88, 0x0d, 0x05, 0x1b, 0xcf, 0x38, 0x7d, 0x5d, 0xd0, 0xa7,
	0xcf, 0x51, 0x41, 0x98, 0xac, 0x4c, 0xd1, 0x34, 0x0a, 0x13, 0x80, 0x29, 0x33, 0x82, 0x6b, 0xc8,
	0xa3, 0x02, 0x95, 0x41, 0x51, 0xe5, 0xa7, 0x6b, 0x8e, 0x40, 0x7e, 0xc3, 0x3b, 0x29, 0x9e, 0x9b,
	0xca, 0xe6, 0xd7, 0x62, 0x88, 0x79, 0x0d, 0xd8, 0x7b, 0x22, 0xf3, 0xd9, 0xa3, 0x16, 0x88, 0xcc,
	0xaa, 0x39, 0x35, 0x77, 0xbc, 0x7c, 0x37, 0x33, 0x3f, 0x3c, 0xe7, 0x37, 0x0f, 0xc6, 0xb5, 0x4b,
	0x95, 0x02, 0x90, 0x1c, 0xab, 0x57, 0x2c, 0xaf, 0xb5, 0x60, 0x58, 0x3e, 0xe7, 0x48, 0x57, 0x78,
	0x55, 0x65, 0x09, 0x6a, 0x1f, 0x85, 0x29, 0x2b, 0xba, 0x20, 0xe9, 0xd0, 0xb1, 0x71, 0x58, 0x6f,
	0xad, 0x7b, 0x2e, 0xd5, 0x43, 0xc2, 0x31, 0x77, 0x35, 0xb1, 0x57, 0x75, 0x3c, 0xb9, 0xc5, 0xab,
	0x51, 0xa1, 0x57, 0x95, 0x86, 0xe1, 0x96, 0xb6, 0x47, 0x40, 0xba, 0xac, 0x21, 0x6f, 0x28, 0xa8,
	0xb1, 0x89, 0x6b, 0x1d, 0x2d, 0xc6, 0x51, 0x05, 0x7c, 0x4c, 0xe0, 0x9c, 0x45, 0x83, 0x21, 0x9e,
	0x2e, 0xfc, 0x4f, 0xfe, 0x00, 0x6b, 0x28, 0x35, 0x74, 0xec, 0x54, 0xa6, 0x9f, 0xfb, 0x67, 0xcc,
	0x49, 0x8f, 0xdd, 0x3c, 0xaa, 0x74, 0x19, 0x97, 0xef, 0x7c, 0x58, 0x8c, 0xdc, 0x1a, 0xf6, 0x50,
	0x91, 0x2a, 0x49, 0xa1, 0x76, 0x02, 0xba, 0xc8, 0x37, 0xbe, 0x1a, 0x9b, 0x13, 0x14, 0xc1, 0x95,
	0x0a, 0x35, 0x5e, 0xa4, 0x67, 0x0a, 0x6a, 0xd2, 0x61, 0xfb, 0xf4, 0x3f, 0xeb, 0x25, 0x01, 0x0b,
	0x36, 0x97, 0x44, 0x03, 0xbc, 0x36, 0x95, 0x17, 0xd9, 0x71, 0x8b, 0x1d, 0x11, 0x0e, 0xf0, 0xf9,
	0xb2, 0x4d, 0x39, 0x85, 0xad, 0x76, 0xbb, 0xfe, 0x6a, 0xbb, 0x8d, 0xb7, 0xc8, 0x37, 0x09, 0x09,
	0x55, 0x0b, 0x05, 0xbc, 0xb5, 0x43, 0x78, 0xbb, 0x84, 0xe3, 0xf5, 0x0e, 0x26, 0xa4, 0xa1, 0x12,
	0x6a, 0x03, 0x50, 0x63, 0x20, 0xef, 0x54, 0x4c, 0xcd, 0x42, 0x76, 0x39, 0x8c, 0xa4, 0x7a, 0x28,
	0x1c, 0x38, 0xd5, 0xa4, 0x49, 0xe6, 0x32, 0x96, 0x29, 0x3c, 0xf6, 0xe7, 0xbe, 0xfe, 0xc1, 0x58,
	0xb4, 0x15, 0x60, 0xb4, 0x57, 0x82, 0x75, 0xe3, 0x88, 0x35, 0x29, 0x06, 0x84, 0x48, 0x5f, 0x33,
	0x85, 0xbc, 0xea, 0xd3, 0x4c, 0xfe, 0x02, 0x0f, 0x63, 0xeb, 0x0a, 0x65, 0xe9, 0x25, 0xd7, 0x21,
	0x11, 0xc8, 0x18, 0x99, 0x97, 0xec, 0x7d, 0x98, 0x90, 0xc5, 0xd4, 0x42, 0x80, 0x99, 0xea, 0xa1,
	0x9b, 0x91, 0x32, 0x65, 0x40, 0x93, 0xdd, 0x86, 0xa8, 0xae, 0xc7, 0x6d, 0x25, 0x5a, 0x07, 0xe9,
	0xe0, 0x4a, 0x91, 0x22, 0x4d, 0xe1, 0x89, 0x07, 0x2f, 0x01, 0x41, 0x4e, 0xd8, 0x24, 0x9a, 0x74,
	0x0a, 0x02, 0xf5, 0x9a, 0xee, 0xf4, 0x5d, 0xea, 0x78, 0x0a, 0x0a, 0xdc, 0xad, 0x76, 0xf5, 0x05,
	0x53, 0xc8, 0x3c, 0x99, 0x65, 0x54, 0xab, 0xf3, 0x91, 0xfb, 0xca, 0x8e, 0xe4, 0x30, 0x62, 0x18,
	0x75, 0xa7, 0x0b, 0x37, 0x2d, 0x15, 0x6c, 0x18, 0xb7, 0x32, 0x21, 0x99, 0xb4, 0x0e, 0xc8, 0x05,
	0x06, 0x09, 0xc3, 0x8f, 0xbe, 0x25, 0xb6, 0xe0, 0x79, 0xc4, 0xb2, 0x9a, 0x19, 0x5b, 0xac, 0x8c,
	0x8c, 0x33, 0x4e, 0x60, 0x90, 0x92, 0xab, 0xd2, 0xa6, 0x28, 0x12, 0x09, 0xed, 0x15, 0xa3, 0xa5,
	0x2b, 0xaa, 0xa9, 0x4b, 0x06, 0x87, 0xd9, 0x93, 0xa9, 0xb9, 0xb9, 0xad, 0x15, 0x94, 0xa0, 0xd4,
	0x9a, 0x3a, 0xda, 0x2f, 0x7c, 0x91, 0x6d, 0xe9, 0x80, 0x43, 0xab, 0x37, 0x05, 0x3a, 0x2a, 0x28,
	0x11, 0x95, 0x38, 0x01, 0x73, 0xad, 0x3a, 0xb4, 0x7d, 0x2d, 0x75, 0x8b, 0x03, 0x50, 0xaa, 0xf5,
	0xd8, 0x85, 0x9f, 0x57, 0x50, 0x8c, 0x56, 0x24, 0xd7, 0xf9, 0x25, 0x45, 0x56, 0x0d, 0xd7, 0x9c,
	0xbb, 0x2d, 0xf6, 0x5d, 0xe8, 0x13, 0x09, 0xa4, 0x60, 0xb8, 0xf9, 0x0a, 0x57, 0x52, 0xf1, 0x3f,
	0xc5, 0x61, 0x80, 0x7a, 0xe3, 0x37, 0xe6, 0xa3, 0x7a, 0x18, 0x05, 0x31, 0x8e, 0x3c, 0x45, 0x85,
	0xda, 0xb1, 0x8e, 0x7c, 0x94, 0xdd, 0x48, 0x61, 0x3c, 0x67, 0xc9, 0xa9, 0x66, 0x3e, 0x40, 0xe6,
	0x45, 0x98, 0x7b, 0x00, 0x4a, 0x20, 0x10, 0x0b, 0x54, 0x96, 0xfb, 0x43, 0xab, 0x7a, 0x17, 0x85,
	0xdc, 0xf1, 0x99, 0x21, 0xf6, 0xbd, 0xde, 0x99, 0xa9, 0x8c, 0xb3, 0xb6, 0xea, 0x7a, 0x94, 0xfd,
	0x91, 0x60, 0x0d, 0xc0, 0x48, 0xf6, 0xb7, 0x53, 0xe4, 0x33, 0x82, 0xae, 0xc1, 0x91, 0xee, 0x94,
	0x01, 0xb5, 0x8c, 0xa3, 0x09, 0xf7, 0xc9, 0xb2, 0x62, 0x48, 0x25, 0xc7, 0xb5, 0xe2, 0x07, 0xcf,
	0x72, 0xf7, 0x68, 0xd0, 0xaa, 0x2c, 0x08, 0xbb, 0x91, 0x04, 0x88, 0xb6, 0x19, 0xe1, 0x68, 0xd5,
	0x61, 0xb1, 0x0d, 0x09, 0xa1, 0x87, 0x37, 0x79, 0x99, 0xf8, 0x19, 0x8b, 0x83, 0xc8, 0x8b, 0x49,
	0x9e, 0x0a, 0xca, 0x21, 0x5e, 0x92, 0x8d, 0xf7, 0xc7, 0x85, 0xfb, 0xf4, 0xc9, 0x96, 0x35, 0xbe,
	0xc4, 0xa9, 0x75, 0x15, 0x32, 0x97, 0xbf, 0x28, 0xc9, 0x8c, 0x14, 0x63, 0x00, 0x8d, 0x85, 0x83,
	0x91, 0x77, 0x5f, 0xe2, 0x29, 0x54, 0x34, 0x3f, 0xc3, 0x8b, 0x6d, 0x57, 0x67, 0xbf, 0x17, 0x20,
	0x22, 0x7d, 0x10, 0x61, 0x47, 0x13, 0xa3, 0xe3, 0xb5, 0x58, 0x9f, 0x7b, 0x95, 0x8a, 0x89, 0xab,
	0x32, 0x2c, 0x7d, 0xe3, 0xe0, 0xb9, 0xf8, 0xfa, 0xb7, 0xc9, 0x67, 0xa0, 0x0f, 0x51, 0x92, 0x8d,
	0xe1, 0x2f, 0x25, 0x93, 0xaa, 0x05, 0x57, 0x06, 0x50, 0xd2, 0x01, 0xf1, 0x38, 0x04, 0x0c, 0x4c,
	0xac, 0x24, 0x86, 0x98, 0x71, 0x86, 0x53, 0x73, 0xe5, 0xac, 0x1e, 0x30, 0x5f, 0xfd, 0x49, 0x2e,
	0x1a, 0xdb, 0x1d, 0xe9, 0x3b, 0x15, 0xed, 0xec, 0x9e, 0xa4, 0x56, 0x00, 0xff, 0x7b, 0x2c, 0xb5,
	0xf9, 0x5a, 0x2c, 0x66, 0x9d, 0xaa, 0xb5, 0x5e, 0x9e, 0xa3, 0x29, 0xd2, 0xc0, 0x80, 0x89, 0x97,
	0x2b, 0xc3, 0x54, 0x30, 0x0d, 0xa6, 0x12, 0x48, 0x47, 0x4f, 0x00, 0x9c, 0x88, 0xf2, 0x55, 0xb3,
	0x78, 0xc5, 0x8e, 0x93, 0xfb, 0x9e, 0xf8, 0x01, 0xca, 0xfd, 0x5a, 0x29, 0x67, 0xa6, 0x4a, 0xc5,
	0x1a, 0xb9, 0xc3, 0xe5, 0x58, 0x62, 0xea, 0xc1, 0xc4, 0x87, 0xa6, 0xe9, 0xdc, 0xfa, 0x30, 0xe9,
	0x7f, 0x29, 0x9e, 0x21, 0x29, 0x34, 0xf8, 0xb1, 0xa0, 0xb7, 0xaf, 0x45, 0x90, 0x0e, 0xbb, 0xfc,
	0x81, 0x09, 0x24, 0x77, 0xe9, 0xfc, 0x2d, 0x3e, 0x6d, 0xae, 0x88, 0xab, 0x0f, 0x4e, 0x1e, 0xae,
	0xa4, 0xf3, 0xd0, 0x46, 0x60, 0xd0, 0x9b, 0x08, 0x7f, 0xf6, 0xa6, 0x56, 0xc1, 0x56, 0x47, 0xc0,
	0x60, 0x7a, 0x00, 0x1d, 0x00, 0x20, 0xa4, 0xa7, 0xe4, 0xdc, 0x08, 0x48, 0x32, 0x17, 0xcc, 0x1c,
	0x7f, 0x18, 0x1c, 0xbd, 0x66, 0xd7, 0xfe, 0x7d, 0x25, 0x63, 0x7f, 0x90, 0x57, 0x10, 0x5c, 0x47,
	0xd3, 0x18, 0xd1, 0x1f, 0xa6, 0x16, 0x00, 0x17, 0x00, 0x00, 0x00, 0x05, 0x00, 0x05, 0x01, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x2b, 0x00, 0x07, 0x06, 0x2a, 0x2a, 0x03, 0x04, 0x03, 0x03, 0x00, 0x00,
	0x00, 0x16, 0x00, 0x14, 0x00, 0x00, 0x11, 0x63, 0x64, 0x6e, 0x2e, 0x63, 0x6f, 0x6f, 0x6b, 0x69,
	0x65, 0x6c, 0x61, 0x77, 0x2e, 0x6f, 0x72, 0x67, 0x00, 0x0d, 0x00, 0x1a, 0x00, 0x18, 0xca, 0xca,
	0x09, 0x04, 0x09, 0x05, 0x09, 0x06, 0x04, 0x03, 0x08, 0x04, 0x04, 0x01, 0x05, 0x03, 0x08, 0x05,
	0x05, 0x01, 0x08, 0x06, 0x06, 0x01, 0x00, 0x0a, 0x00, 0x0c, 0x00, 0x0a, 0xea, 0xea, 0x11, 0xec,
	0x00, 0x1d, 0x00, 0x17, 0x00, 0x18, 0xff, 0x01, 0x00, 0x01, 0x00, 0x00, 0x2d, 0x00, 0x02, 0x01,
	0x01, 0xca, 0x34, 0x00, 0xba, 0x00, 0xb8, 0x05, 0x82, 0xdf, 0x13, 0x02, 0x01, 0x05, 0x82, 0xdf,
	0x13, 0x02, 0x06, 0x05, 0x82, 0xdf, 0x13, 0x02, 0x0d, 0x05, 0x82, 0xdf, 0x13, 0x02, 0x0e, 0x05,
	0x82, 0xdf, 0x13, 0x02, 0x0f, 0x05, 0x82, 0xdf, 0x13, 0x02, 0x12, 0x05, 0x82, 0xdf, 0x13, 0x02,
	0x13, 0x05, 0x82, 0xdf, 0x13, 0x02, 0x14, 0x08, 0x83, 0x9a, 0x64, 0x8c, 0x9b, 0x2d, 0x01, 0x07,
	0x08, 0x83, 0x9a, 0x64, 0x8c, 0x9b, 0x2d, 0x01, 0x08, 0x08, 0x83, 0x9a, 0x64, 0x8c, 0x9b, 0x2d,
	0x01, 0x09, 0x08, 0x83, 0x9a, 0x64, 0x8c, 0x9b, 0x2d, 0x01, 0x0a, 0x08, 0x83, 0x9a, 0x64, 0x8c,
	0x9b, 0x2d, 0x01, 0x0b, 0x08, 0x83, 0x9a, 0x64, 0x8c, 0x9b, 0x2d, 0x01, 0x0c, 0x08, 0x83, 0x9a,
	0x64, 0x8c, 0x9b, 0x2d, 0x01, 0x0d, 0x08, 0x83, 0x9a, 0x64, 0x8c, 0x9b, 0x2d, 0x01, 0x12, 0x08,
	0x83, 0x9a, 0x64, 0x8c, 0x9b, 0x2d, 0x01, 0x13, 0x04, 0xd6, 0x79, 0x09, 0x01, 0x04, 0xd6, 0x79,
	0x09, 0x04, 0x04, 0xd6, 0x79, 0x09, 0x05, 0x04, 0xd6, 0x79, 0x09, 0x06, 0x04, 0xd6, 0x79, 0x09,
	0x07, 0x04, 0xd6, 0x79, 0x09, 0x08, 0x04, 0xd6, 0x79, 0x09, 0x0a, 0x04, 0xd6, 0x79, 0x09, 0x0b,
	0x04, 0xd6, 0x79, 0x09, 0x0c, 0x04, 0xd6, 0x79, 0x09, 0x0d, 0x04, 0xd6, 0x79, 0x09, 0x0f, 0x00,
	0x23, 0x00, 0x00, 0x00, 0x12, 0x00, 0x00, 0x44, 0xcd, 0x00, 0x05, 0x00, 0x03, 0x02, 0x68, 0x32,
	0x3a, 0x3a, 0x00, 0x01, 0x00,
};

/* browser-accept-http.pcap, stream 2, server: the TLS 1.3 ServerHello of frame 64. */
static const uint8_t BROWSER_SERVER[] = {
	0x16, 0x03, 0x03, 0x00, 0x7a, 0x02, 0x00, 0x00, 0x76, 0x03, 0x03, 0x20, 0xf7, 0x67, 0x48, 0x9e,
	0x8a, 0xbf, 0xcc, 0x8f, 0x6c, 0xf0, 0x84, 0x02, 0x11, 0x02, 0xb6, 0x24, 0x94, 0x9d, 0xcd, 0x1f,
	0x45, 0xdc, 0xa8, 0x05, 0xc6, 0x06, 0x40, 0x1b, 0xf4, 0x17, 0xd1, 0x20, 0xdd, 0x9e, 0x00, 0x59,
	0x02, 0x65, 0xdb, 0xad, 0x3d, 0xd2, 0x8d, 0x6d, 0x92, 0x85, 0x04, 0x39, 0x54, 0x01, 0x48, 0xd0,
	0xa6, 0xb2, 0x48, 0x39, 0xbd, 0xb2, 0xa3, 0x27, 0xec, 0x82, 0xc1, 0x79, 0x13, 0x01, 0x00, 0x00,
	0x2e, 0x00, 0x2b, 0x00, 0x02, 0x03, 0x04, 0x00, 0x33, 0x00, 0x24, 0x00, 0x1d, 0x00, 0x20, 0xa6,
	0xf0, 0xa1, 0x0d, 0xdd, 0x43, 0xd0, 0x13, 0xdd, 0x23, 0xc4, 0x54, 0x5f, 0x80, 0x6c, 0x6c, 0x6b,
	0xa6, 0x17, 0xd5, 0xf5, 0xc2, 0x84, 0x2f, 0x6f, 0xec, 0x9e, 0x63, 0x7d, 0x9e, 0x0e, 0x15,
};

/* KakaoTalk_chat.pcap, stream 7, client: the ClientHello of frame 103. */
static const uint8_t KAKAO_CLIENT[] = {
	0x16, 0x03, 0x01, 0x02, 0x2e, 0x01, 0x00, 0x02, 0x2a, 0x03, 0x03, 0xbe, 0x9a, 0xea, 0xad, 0x32,
	0xa6, 0x0d, 0xdb, 0x6b, 0xe3, 0x96, 0x59, 0x51, 0x7b, 0x83, 0x28, 0xc8, 0x58, 0x4d, 0xe5, 0x3e,
	0xf2, 0x94, 0x24, 0x13, 0x15, 0xe8, 0x85, 0x27, 0x94, 0x64, 0x21, 0x20, 0x2d, 0x54, 0xe3, 0x94,
	0x54, 0x2c, 0xb3, 0xcc, 0x94, 0xab, 0xd3, 0x02, 0x56, 0x21, 0xe4, 0xdf, 0xb3, 0x86, 0xfe, 0xb3,
	0x33, 0xe0, 0x04, 0x01, 0x54, 0xf8, 0x80, 0x8e, 0x9f, 0x95, 0xe5, 0x59, 0x00, 0x96, 0xc0, 0x30,
	0xc0, 0x2c, 0xc0, 0x28, 0xc0, 0x24, 0xc0, 0x14, 0xc0, 0x0a, 0x00, 0xa5, 0x00, 0xa3, 0x00, 0xa1,
	0x00, 0x9f, 0x00, 0x6b, 0x00, 0x6a, 0x00, 0x69, 0x00, 0x68, 0x00, 0x39, 0x00, 0x38, 0x00, 0x37,
	0x00, 0x36, 0xc0, 0x32, 0xc0, 0x2e, 0xc0, 0x2a, 0xc0, 0x26, 0xc0, 0x0f, 0xc0, 0x05, 0x00, 0x9d,
	0x00, 0x3d, 0x00, 0x35, 0xc0, 0x2f, 0xc0, 0x2b, 0xc0, 0x27, 0xc0, 0x23, 0xc0, 0x13, 0xc0, 0x09,
	0x00, 0xa4, 0x00, 0xa2, 0x00, 0xa0, 0x00, 0x9e, 0x00, 0x67, 0x00, 0x40, 0x00, 0x3f, 0x00, 0x3e,
	0x00, 0x33, 0x00, 0x32, 0x00, 0x31, 0x00, 0x30, 0xc0, 0x31, 0xc0, 0x2d, 0xc0, 0x29, 0xc0, 0x25,
	0xc0, 0x0e, 0xc0, 0x04, 0x00, 0x9c, 0x00, 0x3c, 0x00, 0x2f, 0xc0, 0x11, 0xc0, 0x07, 0xc0, 0x0c,
	0xc0, 0x02, 0x00, 0x05, 0x00, 0x04, 0xc0, 0x12, 0xc0, 0x08, 0x00, 0x16, 0x00, 0x13, 0x00, 0x10,
	0x00, 0x0d, 0xc0, 0x0d, 0xc0, 0x03, 0x00, 0x0a, 0x00, 0x15, 0x00, 0x12, 0x00, 0x0f, 0x00, 0x0c,
	0x00, 0x09, 0x00, 0xff, 0x01, 0x00, 0x01, 0x4b, 0x00, 0x00, 0x00, 0x15, 0x00, 0x13, 0x00, 0x00,
	0x10, 0x61, 0x70, 0x69, 0x2e, 0x66, 0x61, 0x63, 0x65, 0x62, 0x6f, 0x6f, 0x6b, 0x2e, 0x63, 0x6f,
	0x6d, 0x00, 0x0b, 0x00, 0x04, 0x03, 0x00, 0x01, 0x02, 0x00, 0x0a, 0x00, 0x3a, 0x00, 0x38, 0x00,
	0x0e, 0x00, 0x0d, 0x00, 0x19, 0x00, 0x1c, 0x00, 0x0b, 0x00, 0x0c, 0x00, 0x1b, 0x00, 0x18, 0x00,
	0x09, 0x00, 0x0a, 0x00, 0x1a, 0x00, 0x16, 0x00, 0x17, 0x00, 0x08, 0x00, 0x06, 0x00, 0x07, 0x00,
	0x14, 0x00, 0x15, 0x00, 0x04, 0x00, 0x05, 0x00, 0x12, 0x00, 0x13, 0x00, 0x01, 0x00, 0x02, 0x00,
	0x03, 0x00, 0x0f, 0x00, 0x10, 0x00, 0x11, 0x00, 0x23, 0x00, 0xc0, 0x29, 0xd2, 0x62, 0x44, 0x8b,
	0x5d, 0x83, 0x57, 0xbe, 0xf4, 0x18, 0x7c, 0x98, 0xe0, 0xd3, 0x9a, 0x1b, 0x8d, 0x4d, 0x5a, 0xc0,
	0xab, 0x32, 0x7d, 0x91, 0xe0, 0x99, 0x4b, 0xb4, 0xee, 0x65, 0x18, 0xaf, 0x1c, 0x23, 0xf7, 0xd3,
	0x82, 0xe5, 0x3e, 0x17, 0xbe, 0x0e, 0x3b, 0x34, 0xca, 0xea, 0xc4, 0x3e, 0x07, 0x6e, 0x9a, 0xe9,
	0x19, 0xe2, 0x8e, 0xb3, 0x86, 0x96, 0xbd, 0xec, 0x23, 0x1d, 0x85, 0x96, 0xc3, 0x6c, 0x63, 0xe2,
	0xff, 0x5a, 0x28, 0xd3, 0x11, 0xec, 0x3b, 0x31, 0xc9, 0xc6, 0xef, 0xe5, 0xfb, 0xc1, 0xa6, 0xc8,
	0x0c, 0x28, 0x54, 0x4a, 0xd4, 0x04, 0xe6, 0xd5, 0xc7, 0xf0, 0x16, 0x2d, 0x6e, 0x7b, 0xf5, 0x53,
	0x82, 0x75, 0xfe, 0xb9, 0x9c, 0x27, 0x35, 0x79, 0x27, 0x9e, 0x7f, 0x6b, 0x9e, 0x3f, 0xdf, 0xb5,
	0xa8, 0x34, 0x48, 0x6c, 0x62, 0x78, 0x9e, 0xd2, 0x96, 0x7b, 0xc5, 0x3b, 0xa1, 0xd0, 0xb2, 0x7c,
	0x7b, 0x5a, 0xd1, 0x79, 0xee, 0x7f, 0xf2, 0xb9, 0x60, 0x28, 0x11, 0x0c, 0xcc, 0xd3, 0x5a, 0x5e,
	0x25, 0xc1, 0x75, 0x7f, 0xa5, 0x5a, 0x9f, 0x76, 0xd0, 0x91, 0x0a, 0xc8, 0x89, 0xce, 0x9e, 0x51,
	0x5e, 0x3e, 0x62, 0xc0, 0xdc, 0x8f, 0xcf, 0x99, 0x19, 0xf8, 0x6a, 0x01, 0x06, 0x1a, 0x7e, 0x9f,
	0x93, 0x1d, 0x9e, 0x94, 0xe8, 0x63, 0x77, 0x31, 0xbe, 0x1c, 0x47, 0x00, 0x0d, 0x00, 0x20, 0x00,
	0x1e, 0x06, 0x01, 0x06, 0x02, 0x06, 0x03, 0x05, 0x01, 0x05, 0x02, 0x05, 0x03, 0x04, 0x01, 0x04,
	0x02, 0x04, 0x03, 0x03, 0x01, 0x03, 0x02, 0x03, 0x03, 0x02, 0x01, 0x02, 0x02, 0x02, 0x03, 0x33,
	0x74, 0x00, 0x00,
};

/* KakaoTalk_chat.pcap, stream 7, server: the TLS 1.2 ServerHello of frame 111. */
static const uint8_t KAKAO_SERVER[] = {
	0x16, 0x03, 0x03, 0x00, 0x6e, 0x02, 0x00, 0x00, 0x6a, 0x03, 0x03, 0x3e, 0x8f, 0x1a, 0x2a, 0x2b,
	0x6c, 0x31, 0xcc, 0x40, 0x7b, 0x39, 0x88, 0x5b, 0x0e, 0xae, 0x66, 0x86, 0x95, 0xea, 0x8a, 0xa4,
	0x57, 0x04, 0x7c, 0x3b, 0xa6, 0x6e, 0x0b, 0x5f, 0x79, 0x54, 0x0d, 0x00, 0xc0, 0x2b, 0x00, 0x00,
	0x42, 0x00, 0x00, 0x00, 0x00, 0xff, 0x01, 0x00, 0x01, 0x00, 0x00, 0x0b, 0x00, 0x04, 0x03, 0x00,
	0x01, 0x02, 0x00, 0x23, 0x00, 0x00, 0x33, 0x74, 0x00, 0x29, 0x0f, 0x73, 0x70, 0x64, 0x79, 0x2f,
	0x33, 0x2e, 0x31, 0x2d, 0x66, 0x62, 0x2d, 0x30, 0x2e, 0x35, 0x08, 0x73, 0x70, 0x64, 0x79, 0x2f,
	0x33, 0x2e, 0x31, 0x06, 0x73, 0x70, 0x64, 0x79, 0x2f, 0x33, 0x08, 0x68, 0x74, 0x74, 0x70, 0x2f,
	0x31, 0x2e, 0x31,
};

/* KakaoTalk_chat.pcap, stream 18, client: a ClientHello with no extensions, frame 345. */
static const uint8_t KAKAO_NOEXT_CLIENT[] = {
	0x16, 0x03, 0x01, 0x00, 0x49, 0x01, 0x00, 0x00, 0x45, 0x03, 0x01, 0x51, 0x51, 0x51, 0x51, 0x12,
	0x54, 0xf2, 0x95, 0xe4, 0x48, 0xfa, 0x88, 0x4d, 0x1e, 0xf9, 0xbf, 0xce, 0x2b, 0x67, 0xc1, 0x0f,
	0x65, 0xf1, 0x18, 0x57, 0x7e, 0x44, 0x12, 0x40, 0xb5, 0x68, 0x7c, 0x00, 0x00, 0x1e, 0x00, 0x04,
	0x00, 0x05, 0x00, 0x2f, 0x00, 0x33, 0x00, 0x32, 0x00, 0x0a, 0x00, 0x16, 0x00, 0x13, 0x00, 0x09,
	0x00, 0x15, 0x00, 0x12, 0x00, 0x03, 0x00, 0x08, 0x00, 0x14, 0x00, 0x11, 0x01, 0x00,
};

/*
 * What tshark says of each, from
 *     tshark -r tests/data/CAPTURE -o tcp.desegment_tcp_streams:TRUE -Y frame.number==FRAME \
 *         -T fields -E separator='|' -e tls.handshake.version \
 *         -e tls.handshake.extensions_server_name -e tls.handshake.extensions_alpn_str \
 *         -e tls.handshake.extensions.supported_version -e tls.handshake.extension.type \
 *         -e tls.handshake.ciphersuite
 * (TShark 4.0.17), its output quoted per hello. Our versions leave GREASE out;
 * tshark lists it. tshark 4.0 does not decode encrypted_client_hello (65037):
 * its type byte is the first byte of the extension's data in `tshark -V`.
 */
struct expect {
	const char *name;
	const uint8_t *stream;
	size_t len;
	int is_server;
	uint16_t legacy_version;
	uint16_t cipher_suite;
	uint16_t selected_version;
	const char *sni;           /* NULL: none */
	const char *alpn;
	const uint16_t *versions;
	size_t version_count;
	const uint16_t *types;
	size_t type_count;
	int ech_type;              /* -2: not offered */
};

/* 0x0301|www.google-analytics.com|h2,h2-16,h2-15,h2-14,spdy/3.1,spdy/3,http/1.1||
 * 65281,0,23,5,13172,18,16,11,10|... */
static const uint16_t ALERT_CLIENT_TYPES[] = { 65281, 0, 23, 5, 13172, 18, 16, 11, 10 };
/* 0x0303|cdn.cookielaw.org|h2,http/1.1|0x2a2a,0x0304,0x0303|10794,11,27,65037,16,51,23,5,
 * 43,0,13,10,65281,45,51764,35,18,17613,14906|...; ECH data "0000010001f0..." */
static const uint16_t BROWSER_CLIENT_VERSIONS[] = { 0x0304, 0x0303 };
static const uint16_t BROWSER_CLIENT_TYPES[] = {
	10794, 11, 27, 65037, 16, 51, 23, 5, 43, 0, 13, 10, 65281, 45, 51764, 35, 18, 17613, 14906,
};
/* 0x0303|||0x0304|43,51|0x1301 */
static const uint16_t BROWSER_SERVER_TYPES[] = { 43, 51 };
/* 0x0303|api.facebook.com|||0,11,10,35,13,13172|... */
static const uint16_t KAKAO_CLIENT_TYPES[] = { 0, 11, 10, 35, 13, 13172 };
/* 0x0303||||0,65281,11,35,13172|0xc02b */
static const uint16_t KAKAO_SERVER_TYPES[] = { 0, 65281, 11, 35, 13172 };
/* 0x0301|||||0x0004,... */

#define N(a) (sizeof (a) / sizeof (a)[0])

static const struct expect REAL[] = {
	{ "tls_alert.pcap frame 4", ALERT_CLIENT, sizeof ALERT_CLIENT, 0, 0x0301, 0, 0,
	  "www.google-analytics.com", "h2,h2-16,h2-15,h2-14,spdy/3.1,spdy/3,http/1.1", NULL, 0,
	  ALERT_CLIENT_TYPES, N(ALERT_CLIENT_TYPES), -2 },
	{ "browser-accept-http.pcap frame 62", BROWSER_CLIENT, sizeof BROWSER_CLIENT, 0, 0x0303, 0,
	  0, "cdn.cookielaw.org", "h2,http/1.1", BROWSER_CLIENT_VERSIONS,
	  N(BROWSER_CLIENT_VERSIONS), BROWSER_CLIENT_TYPES, N(BROWSER_CLIENT_TYPES), 0 },
	{ "browser-accept-http.pcap frame 64", BROWSER_SERVER, sizeof BROWSER_SERVER, 1, 0x0303,
	  0x1301, 0x0304, NULL, "", NULL, 0, BROWSER_SERVER_TYPES, N(BROWSER_SERVER_TYPES), -2 },
	{ "KakaoTalk_chat.pcap frame 103", KAKAO_CLIENT, sizeof KAKAO_CLIENT, 0, 0x0303, 0, 0,
	  "api.facebook.com", "", NULL, 0, KAKAO_CLIENT_TYPES, N(KAKAO_CLIENT_TYPES), -2 },
	{ "KakaoTalk_chat.pcap frame 111", KAKAO_SERVER, sizeof KAKAO_SERVER, 1, 0x0303, 0xc02b, 0,
	  NULL, "", NULL, 0, KAKAO_SERVER_TYPES, N(KAKAO_SERVER_TYPES), -2 },
	{ "KakaoTalk_chat.pcap frame 345", KAKAO_NOEXT_CLIENT, sizeof KAKAO_NOEXT_CLIENT, 0, 0x0301,
	  0, 0, NULL, "", NULL, 0, NULL, 0, -2 },
};

/* ---- feeding -------------------------------------------------------------- */

/* One feed, from a heap copy of exactly `n` bytes (NULL for none). */
static enum tls_end feed_copy(struct tls_reader *reader, const uint8_t *p, size_t n,
			      struct tls_hello *out)
{
	uint8_t *copy = NULL;
	if (n > 0) {
		copy = malloc(n);
		assert_non_null(copy);
		memcpy(copy, p, n);
	}
	enum tls_end end = tls_reader_feed(reader, copy, n, out);
	free(copy);
	return end;
}

/* tls_parse_hello() on a heap copy of exactly `n` bytes. */
static enum tls_end parse_copy(const uint8_t *p, size_t n, struct tls_hello *out)
{
	uint8_t *copy = malloc(n ? n : 1);
	assert_non_null(copy);
	if (n > 0)
		memcpy(copy, p, n);
	enum tls_end end = tls_parse_hello(copy, n, out);
	free(copy);
	return end;
}

/*
 * Feeds `n` bytes in chunks: `first` bytes, then chunks of `chunk` bytes (0:
 * the rest at once). Returns the first outcome that is not TLS_MORE, and
 * checks that every later feed returns it again without touching *out.
 */
static enum tls_end read_stream(const uint8_t *p, size_t n, int is_server, size_t first,
				size_t chunk, struct tls_hello *out)
{
	struct tls_reader reader;
	tls_reader_init(&reader, is_server);
	enum tls_end end = TLS_MORE;
	struct tls_hello poison;
	memset(&poison, 0xa5, sizeof poison);
	size_t pos = 0, step = first;
	while (pos < n) {
		if (step == 0 || step > n - pos)
			step = n - pos;
		enum tls_end got = feed_copy(&reader, p + pos, step, out);
		if (end == TLS_MORE && got != TLS_MORE) {
			end = got;
			/* From here on *out must stay as it is. */
			*out = poison;
			assert_null(reader.buffer);
		} else {
			assert_int_equal(got, end);
		}
		pos += step;
		step = chunk;
	}
	if (end != TLS_MORE) {
		assert_int_equal(feed_copy(&reader, p, n, out), end);
		assert_int_equal(feed_copy(&reader, NULL, 0, out), end);
		assert_memory_equal(out, &poison, sizeof poison);
		/* The outcome's *out once more, for the caller. */
		struct tls_reader again;
		tls_reader_init(&again, is_server);
		assert_int_equal(feed_copy(&again, p, n, out), end);
		tls_reader_free(&again);
	}
	tls_reader_free(&reader);
	return end;
}

static void assert_hello_equal(const struct tls_hello *a, const struct tls_hello *b)
{
	assert_int_equal(a->is_server, b->is_server);
	assert_int_equal(a->hello_retry, b->hello_retry);
	assert_int_equal(a->legacy_version, b->legacy_version);
	assert_int_equal(a->cipher_suite, b->cipher_suite);
	assert_int_equal(a->selected_version, b->selected_version);
	assert_string_equal(a->sni, b->sni);
	assert_int_equal(a->has_sni, b->has_sni);
	assert_int_equal(a->sni_invalid, b->sni_invalid);
	assert_string_equal(a->alpn, b->alpn);
	assert_int_equal(a->alpn_truncated, b->alpn_truncated);
	assert_int_equal(a->alpn_invalid, b->alpn_invalid);
	assert_int_equal(a->version_count, b->version_count);
	assert_memory_equal(a->versions, b->versions, a->version_count * sizeof a->versions[0]);
	assert_int_equal(a->versions_invalid, b->versions_invalid);
	assert_int_equal(a->ech_offered, b->ech_offered);
	assert_int_equal(a->ech_type, b->ech_type);
	assert_int_equal(a->extension_count, b->extension_count);
	size_t stored = a->extension_count < TLS_EXTENSION_TYPES_MAX ? a->extension_count
								     : TLS_EXTENSION_TYPES_MAX;
	assert_memory_equal(a->extension_types, b->extension_types,
			    stored * sizeof a->extension_types[0]);
}

static void assert_expected(const struct expect *e, const struct tls_hello *h)
{
	assert_int_equal(h->is_server, e->is_server);
	assert_int_equal(h->hello_retry, 0);
	assert_int_equal(h->legacy_version, e->legacy_version);
	assert_int_equal(h->cipher_suite, e->cipher_suite);
	assert_int_equal(h->selected_version, e->selected_version);
	assert_int_equal(h->has_sni, e->sni != NULL);
	assert_string_equal(h->sni, e->sni ? e->sni : "");
	assert_int_equal(h->sni_invalid, 0);
	assert_string_equal(h->alpn, e->alpn);
	assert_int_equal(h->alpn_truncated, 0);
	assert_int_equal(h->alpn_invalid, 0);
	assert_int_equal(h->version_count, e->version_count);
	for (size_t i = 0; i < e->version_count; i++)
		assert_int_equal(h->versions[i], e->versions[i]);
	assert_int_equal(h->versions_invalid, 0);
	assert_int_equal(h->ech_offered, e->ech_type != -2);
	assert_int_equal(h->ech_type, e->ech_type == -2 ? -1 : e->ech_type);
	assert_int_equal(h->extension_count, e->type_count);
	for (size_t i = 0; i < e->type_count; i++)
		assert_int_equal(h->extension_types[i], e->types[i]);
}

/* ---- real hellos: against tshark, and however they are cut ----------------- */

static void test_real_hellos(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(REAL); i++) {
		const struct expect *e = &REAL[i];
		struct tls_hello hello, one_shot;
		print_message("  %s\n", e->name);
		assert_int_equal(read_stream(e->stream, e->len, e->is_server, 0, 0, &hello), TLS_DONE);
		assert_expected(e, &hello);
		/* Each is one record: the one-shot parser on its body says the same. */
		assert_int_equal((size_t)(e->stream[3] << 8 | e->stream[4]), e->len - 5);
		assert_int_equal(parse_copy(e->stream + 5, e->len - 5, &one_shot), TLS_DONE);
		assert_hello_equal(&hello, &one_shot);
	}
}

static void test_browser_segments(void **state)
{
	(void)state;
	/* As the two TCP segments carried it: 1448 bytes, then 477. */
	struct tls_reader reader;
	struct tls_hello hello;
	tls_reader_init(&reader, 0);
	assert_int_equal(feed_copy(&reader, BROWSER_CLIENT, 1448, &hello), TLS_MORE);
	assert_non_null(reader.buffer);
	assert_int_equal(feed_copy(&reader, BROWSER_CLIENT + 1448, 477, &hello), TLS_DONE);
	assert_expected(&REAL[1], &hello);
	tls_reader_free(&reader);
}

static void test_every_split(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(REAL); i++) {
		const struct expect *e = &REAL[i];
		struct tls_hello whole, hello;
		assert_int_equal(read_stream(e->stream, e->len, e->is_server, 0, 0, &whole), TLS_DONE);
		for (size_t at = 0; at <= e->len; at++) {
			assert_int_equal(read_stream(e->stream, e->len, e->is_server, at, 0, &hello),
					 TLS_DONE);
			assert_hello_equal(&whole, &hello);
		}
		for (size_t chunk = 1; chunk <= 7; chunk++) {
			assert_int_equal(read_stream(e->stream, e->len, e->is_server, chunk, chunk,
						     &hello),
					 TLS_DONE);
			assert_hello_equal(&whole, &hello);
		}
	}
}

static void test_every_prefix(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(REAL); i++) {
		const struct expect *e = &REAL[i];
		for (size_t n = 0; n < e->len; n++) {
			struct tls_reader reader;
			struct tls_hello hello;
			memset(&hello, 0x5a, sizeof hello);
			struct tls_hello untouched = hello;
			tls_reader_init(&reader, e->is_server);
			assert_int_equal(feed_copy(&reader, e->stream, n, &hello), TLS_MORE);
			assert_memory_equal(&hello, &untouched, sizeof hello);
			tls_reader_free(&reader);
			/* And the one-shot parser on a cut message. */
			if (n >= 5)
				assert_int_equal(parse_copy(e->stream + 5, n - 5, &hello), TLS_MORE);
		}
	}
}

/*
 * A message cut into records: the first of `first` bytes (0: `fragment`),
 * the others of `fragment` bytes.
 */
static size_t rewrap_at(const uint8_t *message, size_t len, size_t first, size_t fragment,
			uint8_t *out)
{
	size_t n = 0;
	for (size_t pos = 0; pos < len;) {
		size_t part = pos == 0 && first ? first : fragment;
		if (part > len - pos)
			part = len - pos;
		out[n++] = 22;
		out[n++] = 3;
		out[n++] = 3;
		out[n++] = (uint8_t)(part >> 8);
		out[n++] = (uint8_t)part;
		memcpy(out + n, message + pos, part);
		n += part;
		pos += part;
	}
	return n;
}

static size_t rewrap(const uint8_t *message, size_t len, size_t fragment, uint8_t *out)
{
	return rewrap_at(message, len, 0, fragment, out);
}

static void test_hello_over_records(void **state)
{
	(void)state;
	const uint8_t *message = BROWSER_CLIENT + 5;
	size_t len = sizeof BROWSER_CLIENT - 5;
	uint8_t *stream = malloc(len * 6);
	assert_non_null(stream);
	/* Two records, cut at the header, inside it, and all through the body. */
	static const size_t cuts[] = { 1, 2, 3, 4, 5, 38, 100, 1000, 1448, 1919 };
	struct tls_hello hello;
	for (size_t i = 0; i < N(cuts); i++) {
		size_t n = rewrap_at(message, len, cuts[i], len, stream);
		assert_int_equal(n, len + 10);
		assert_int_equal(read_stream(stream, n, 0, 0, 0, &hello), TLS_DONE);
		assert_expected(&REAL[1], &hello);
		assert_int_equal(read_stream(stream, n, 0, 1, 1, &hello), TLS_DONE);
		assert_expected(&REAL[1], &hello);
	}
	/* Many records, down to one byte each. */
	for (size_t fragment = 1; fragment <= 200; fragment += fragment < 8 ? 1 : 61) {
		size_t n = rewrap(message, len, fragment, stream);
		assert_int_equal(read_stream(stream, n, 0, 0, 0, &hello), TLS_DONE);
		assert_expected(&REAL[1], &hello);
		assert_int_equal(read_stream(stream, n, 0, 3, 3, &hello), TLS_DONE);
		assert_expected(&REAL[1], &hello);
	}
	free(stream);
}

static void test_bytes_after_hello(void **state)
{
	(void)state;
	/* The hello, then its connection's later records, then junk: none is read. */
	uint8_t stream[sizeof KAKAO_SERVER + 64];
	memcpy(stream, KAKAO_SERVER, sizeof KAKAO_SERVER);
	memset(stream + sizeof KAKAO_SERVER, 0xff, 64);
	struct tls_hello hello;
	assert_int_equal(read_stream(stream, sizeof stream, 1, 0, 0, &hello), TLS_DONE);
	assert_expected(&REAL[4], &hello);
	assert_int_equal(read_stream(stream, sizeof stream, 1, 1, 1, &hello), TLS_DONE);
	assert_expected(&REAL[4], &hello);
}

/* ---- building hellos ------------------------------------------------------ */

/* A length of `bytes` bytes, filled in by end_length(); returns where it is. */
static size_t begin_length(struct buf *b, int bytes)
{
	size_t at = b->len;
	put_fill(b, 0, (size_t)bytes);
	return at;
}

static void end_length(struct buf *b, size_t at, int bytes)
{
	size_t n = b->len - at - (size_t)bytes;
	for (int i = bytes - 1; i >= 0; i--, n >>= 8)
		b->data[at + (size_t)i] = (uint8_t)n;
}

static const uint8_t HELLO_RETRY_RANDOM[32] = {
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
	0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
};

/* A hello being built: the message, and where its lengths go. */
struct hello {
	struct buf m;
	size_t message_at;
	size_t block_at;
};

/*
 * A ClientHello up to its extension block, which is opened, with a session
 * id, cipher suite list and compression list of the given lengths in bytes.
 */
static void client_begin_fields(struct hello *h, uint8_t session_len, uint16_t suites_len,
				uint8_t compression_len)
{
	h->m.len = 0;
	put8(&h->m, TLS_HANDSHAKE_CLIENT_HELLO);
	h->message_at = begin_length(&h->m, 3);
	put16(&h->m, 0x0303);
	put_fill(&h->m, 0x11, 32);       /* random */
	put8(&h->m, session_len);
	put_fill(&h->m, 0x22, session_len);
	put16(&h->m, suites_len);
	for (uint16_t i = 0; i < suites_len; i++)
		put8(&h->m, i % 2 ? 0x01 : 0x13);
	put8(&h->m, compression_len);
	put_fill(&h->m, 0, compression_len);
	h->block_at = begin_length(&h->m, 2);
}

static void client_begin(struct hello *h)
{
	client_begin_fields(h, 32, 4, 1);
}

/* A ServerHello (a HelloRetryRequest with that random) up to its extension block. */
static void server_begin(struct hello *h, const uint8_t random[32], uint16_t cipher_suite)
{
	h->m.len = 0;
	put8(&h->m, TLS_HANDSHAKE_SERVER_HELLO);
	h->message_at = begin_length(&h->m, 3);
	put16(&h->m, 0x0303);
	put_mem(&h->m, random, 32);
	put8(&h->m, 0);
	put16(&h->m, cipher_suite);
	put8(&h->m, 0);
	h->block_at = begin_length(&h->m, 2);
}

static void put_ext(struct hello *h, uint16_t type, const void *data, size_t n)
{
	put16(&h->m, type);
	put16(&h->m, (uint16_t)n);
	put_mem(&h->m, data, n);
}

/* server_name with one host_name. */
static void put_sni(struct hello *h, const void *name, size_t n)
{
	put16(&h->m, TLS_EXT_SERVER_NAME);
	size_t ext = begin_length(&h->m, 2);
	size_t list = begin_length(&h->m, 2);
	put8(&h->m, 0);
	put16(&h->m, (uint16_t)n);
	put_mem(&h->m, name, n);
	end_length(&h->m, list, 2);
	end_length(&h->m, ext, 2);
}

/* ALPN with `count` names, a NULL-terminated list. */
static void put_alpn(struct hello *h, const char *const *names)
{
	put16(&h->m, TLS_EXT_ALPN);
	size_t ext = begin_length(&h->m, 2);
	size_t list = begin_length(&h->m, 2);
	for (; *names; names++) {
		put8(&h->m, (uint8_t)strlen(*names));
		put_mem(&h->m, *names, strlen(*names));
	}
	end_length(&h->m, list, 2);
	end_length(&h->m, ext, 2);
}

static void client_versions(struct hello *h, const uint16_t *versions, size_t n)
{
	put16(&h->m, TLS_EXT_SUPPORTED_VERSIONS);
	put16(&h->m, (uint16_t)(1 + 2 * n));
	put8(&h->m, (uint8_t)(2 * n));
	for (size_t i = 0; i < n; i++)
		put16(&h->m, versions[i]);
}

/* Closes the block and the message. */
static void hello_end(struct hello *h)
{
	end_length(&h->m, h->block_at, 2);
	end_length(&h->m, h->message_at, 3);
}

/* The message in one handshake record, appended to `stream`. */
static void put_record(struct buf *stream, uint8_t type, const void *body, size_t n)
{
	put8(stream, type);
	put16(stream, 0x0303);
	put16(stream, (uint16_t)n);
	put_mem(stream, body, n);
}

/* Parses a built hello one-shot and as a stream (whole and byte by byte); both must agree. */
static enum tls_end parse_built(const struct hello *h, struct tls_hello *out)
{
	enum tls_end end = parse_copy(h->m.data, h->m.len, out);

	static struct buf stream;
	stream.len = 0;
	put_record(&stream, 22, h->m.data, h->m.len);
	int is_server = h->m.data[0] == TLS_HANDSHAKE_SERVER_HELLO;
	struct tls_hello streamed;
	assert_int_equal(read_stream(stream.data, stream.len, is_server, 0, 0, &streamed), end);
	if (end == TLS_DONE || end == TLS_END_BAD_HELLO)
		assert_hello_equal(out, &streamed);
	assert_int_equal(read_stream(stream.data, stream.len, is_server, 1, 1, &streamed), end);
	if (end == TLS_DONE || end == TLS_END_BAD_HELLO)
		assert_hello_equal(out, &streamed);
	return end;
}

/* ---- record layer --------------------------------------------------------- */

static enum tls_end read_bytes(const void *p, size_t n, int is_server)
{
	struct tls_hello hello;
	enum tls_end end = read_stream(p, n, is_server, 0, 0, &hello);
	assert_int_equal(read_stream(p, n, is_server, 1, 1, &hello), end);
	return end;
}

static void test_not_handshake_first(void **state)
{
	(void)state;
	/* The real alert of tls_alert.pcap's server, and others made up. */
	assert_int_equal(read_bytes(ALERT_SERVER, sizeof ALERT_SERVER, 1), TLS_END_NOT_HANDSHAKE);
	assert_int_equal(read_bytes(ALERT_SERVER, sizeof ALERT_SERVER, 0), TLS_END_NOT_HANDSHAKE);
	static const uint8_t app_data[] = { 23, 3, 3, 0, 2, 0xab, 0xcd };
	assert_int_equal(read_bytes(app_data, sizeof app_data, 0), TLS_END_NOT_HANDSHAKE);
	/* A change_cipher_spec is only allowed after a HelloRetryRequest. */
	static const uint8_t ccs[] = { 20, 3, 3, 0, 1, 1 };
	assert_int_equal(read_bytes(ccs, sizeof ccs, 1), TLS_END_NOT_HANDSHAKE);
	/* Decided on the header alone: the body need not be there. */
	assert_int_equal(read_bytes(app_data, 5, 0), TLS_END_NOT_HANDSHAKE);

	/*
	 * A server's warning alert before its hello (http_ipv6.pcap frame 94:
	 * unrecognized_name, then the ServerHello in the same segment) is passed
	 * over; a fatal one ends the reader; a client sends none.
	 */
	static struct buf warned;
	warned.len = 0;
	put_record(&warned, 21, "\x01\x70", 2);
	put_mem(&warned, BROWSER_SERVER, sizeof BROWSER_SERVER);
	assert_int_equal(read_bytes(warned.data, warned.len, 1), TLS_DONE);
	struct tls_reader reader;
	struct tls_hello hello;
	tls_reader_init(&reader, 1);
	assert_int_equal(tls_reader_feed(&reader, warned.data, warned.len, &hello), TLS_DONE);
	assert_int_equal(hello.cipher_suite, 0x1301);
	tls_reader_free(&reader);
	assert_int_equal(read_bytes(warned.data, warned.len, 0), TLS_END_NOT_HANDSHAKE);
	static const uint8_t long_alert[] = { 21, 3, 3, 0, 3, 1, 0x70, 0 };
	assert_int_equal(read_bytes(long_alert, sizeof long_alert, 1), TLS_END_NOT_HANDSHAKE);

	/* An alert between two records of one hello. */
	static struct buf stream;
	stream.len = 0;
	put_record(&stream, 22, KAKAO_CLIENT + 5, 100);
	put_record(&stream, 21, "\x02\x28", 2);
	put_record(&stream, 22, KAKAO_CLIENT + 105, sizeof KAKAO_CLIENT - 105);
	assert_int_equal(read_bytes(stream.data, stream.len, 0), TLS_END_NOT_HANDSHAKE);
}

static void test_not_tls(void **state)
{
	(void)state;
	static const char http[] = "GET / HTTP/1.1\r\nHost: news.example\r\n\r\n";
	assert_int_equal(read_bytes(http, sizeof http - 1, 0), TLS_END_NOT_TLS);
	static const uint8_t major2[] = { 22, 2, 0, 0, 4, 1, 0, 0, 0 };
	assert_int_equal(read_bytes(major2, sizeof major2, 0), TLS_END_NOT_TLS);
	static const uint8_t type19[] = { 19, 3, 3, 0, 1, 0 };
	assert_int_equal(read_bytes(type19, sizeof type19, 0), TLS_END_NOT_TLS);
	static const uint8_t type25[] = { 25, 3, 3, 0, 1, 0 };
	assert_int_equal(read_bytes(type25, sizeof type25, 0), TLS_END_NOT_TLS);

	/* After a good first record, a bad header is a broken stream. */
	static struct buf stream;
	stream.len = 0;
	put_record(&stream, 22, KAKAO_CLIENT + 5, 100);
	put_record(&stream, 99, KAKAO_CLIENT + 105, sizeof KAKAO_CLIENT - 105);
	assert_int_equal(read_bytes(stream.data, stream.len, 0), TLS_END_BAD_RECORD);
}

static void test_record_length(void **state)
{
	(void)state;
	/* 2^14 + 2048 is the most; one more is an error, on the header alone. */
	static const uint8_t longest[] = { 22, 3, 1, 0x48, 0x00, 1, 0, 0, 0x20 };
	assert_int_equal(read_bytes(longest, sizeof longest, 0), TLS_MORE);
	static const uint8_t too_long[] = { 22, 3, 1, 0x48, 0x01, 1, 0, 0, 0x20 };
	assert_int_equal(read_bytes(too_long, sizeof too_long, 0), TLS_END_BAD_RECORD);
	static const uint8_t longest_ever[] = { 22, 3, 1, 0xff, 0xff };
	assert_int_equal(read_bytes(longest_ever, sizeof longest_ever, 0), TLS_END_BAD_RECORD);
	/* An over-long alert: the length is checked first. */
	static const uint8_t long_alert[] = { 21, 3, 1, 0x48, 0x01 };
	assert_int_equal(read_bytes(long_alert, sizeof long_alert, 0), TLS_END_BAD_RECORD);
	/* An empty handshake record (RFC 5246 6.2.1). */
	static const uint8_t empty[] = { 22, 3, 1, 0, 0, 22, 3, 1, 0, 4, 1, 0, 0, 0 };
	assert_int_equal(read_bytes(empty, sizeof empty, 0), TLS_END_BAD_RECORD);
}

static void test_sslv2(void **state)
{
	(void)state;
	/* An SSLv2-compatible ClientHello: 2-byte header 0x8000 | length, type 1. */
	static const uint8_t v2[] = { 0x80, 0x2e, 0x01, 0x03, 0x01, 0x00, 0x15 };
	assert_int_equal(read_bytes(v2, sizeof v2, 0), TLS_END_SSLV2);
	assert_int_equal(read_bytes(v2, 1, 0), TLS_END_SSLV2);
	assert_int_equal(read_bytes("\xff", 1, 1), TLS_END_SSLV2);
	/* Only the stream's first byte tells: a high bit later is a record length. */
	static const uint8_t later[] = { 22, 3, 1, 0x00, 0x80 };
	assert_int_equal(read_bytes(later, sizeof later, 0), TLS_MORE);
}

static void test_empty_feed(void **state)
{
	(void)state;
	struct tls_reader reader;
	struct tls_hello hello;
	tls_reader_init(&reader, 0);
	assert_int_equal(tls_reader_feed(&reader, NULL, 0, &hello), TLS_MORE);
	/* A first byte that comes after an empty feed is still the first. */
	assert_int_equal(feed_copy(&reader, (const uint8_t *)"\x80", 1, &hello), TLS_END_SSLV2);
	assert_int_equal(tls_reader_feed(&reader, NULL, 0, &hello), TLS_END_SSLV2);
	tls_reader_free(&reader);
	tls_reader_free(&reader); /* twice is harmless */
}

/* ---- handshake layer ------------------------------------------------------ */

static void test_lazy_buffer(void **state)
{
	(void)state;
	struct tls_reader reader;
	struct tls_hello hello;
	tls_reader_init(&reader, 0);
	/* The record header and three bytes of the message header: nothing allocated. */
	assert_int_equal(feed_copy(&reader, KAKAO_CLIENT, 8, &hello), TLS_MORE);
	assert_null(reader.buffer);
	/* The fourth: a buffer of exactly the message's length. */
	assert_int_equal(feed_copy(&reader, KAKAO_CLIENT + 8, 1, &hello), TLS_MORE);
	assert_non_null(reader.buffer);
	assert_int_equal(reader.buffer_size, sizeof KAKAO_CLIENT - 5);
	assert_int_equal(feed_copy(&reader, KAKAO_CLIENT + 9, sizeof KAKAO_CLIENT - 9, &hello),
			 TLS_DONE);
	/* Freed with the outcome. */
	assert_null(reader.buffer);
	tls_reader_free(&reader);

	/* Freed by tls_reader_free() when the stream stops halfway. */
	tls_reader_init(&reader, 0);
	assert_int_equal(feed_copy(&reader, KAKAO_CLIENT, 100, &hello), TLS_MORE);
	assert_non_null(reader.buffer);
	tls_reader_free(&reader);
	assert_null(reader.buffer);
}

static void test_too_long(void **state)
{
	(void)state;
	/* 4 + 65532 = TLS_HANDSHAKE_MAX is the most: it is buffered. */
	static const uint8_t longest[] = { 22, 3, 1, 0x40, 0x00, 1, 0x00, 0xff, 0xfc };
	struct tls_reader reader;
	struct tls_hello hello;
	tls_reader_init(&reader, 0);
	assert_int_equal(feed_copy(&reader, longest, sizeof longest, &hello), TLS_MORE);
	/* Accepted, but room is made for what arrives, not for what the header claims. */
	assert_int_equal(reader.buffer_size, 4096);
	tls_reader_free(&reader);
	/* One more byte: too long, on the header alone, nothing allocated. */
	static const uint8_t too_long[] = { 22, 3, 1, 0x40, 0x00, 1, 0x00, 0xff, 0xfd };
	tls_reader_init(&reader, 0);
	assert_int_equal(feed_copy(&reader, too_long, sizeof too_long, &hello), TLS_END_TOO_LONG);
	assert_null(reader.buffer);
	tls_reader_free(&reader);
	assert_int_equal(read_bytes(too_long, sizeof too_long, 0), TLS_END_TOO_LONG);
	static const uint8_t longest_ever[] = { 22, 3, 1, 0x40, 0x00, 2, 0xff, 0xff, 0xff };
	assert_int_equal(read_bytes(longest_ever, sizeof longest_ever, 1), TLS_END_TOO_LONG);
	assert_int_equal(tls_parse_hello(too_long + 5, 4, &hello), TLS_END_TOO_LONG);

	/* A whole hello of exactly TLS_HANDSHAKE_MAX over four records is read. */
	size_t body = TLS_HANDSHAKE_MAX - 4;
	uint8_t *message = calloc(1, TLS_HANDSHAKE_MAX);
	uint8_t *stream = malloc(TLS_HANDSHAKE_MAX + 64);
	assert_non_null(message);
	assert_non_null(stream);
	/* The Kakao hello, its extension block padded with one big extension. */
	memcpy(message, KAKAO_CLIENT + 5, sizeof KAKAO_CLIENT - 5);
	size_t end = sizeof KAKAO_CLIENT - 5;
	size_t block_at = end - 2 - 331; /* tshark: extensions_length 331 */
	assert_int_equal(message[block_at] << 8 | message[block_at + 1], 331);
	size_t pad = TLS_HANDSHAKE_MAX - end - 4;
	message[end] = 0x00;
	message[end + 1] = 0x15; /* padding (RFC 7685) */
	message[end + 2] = (uint8_t)(pad >> 8);
	message[end + 3] = (uint8_t)pad;
	size_t block = TLS_HANDSHAKE_MAX - block_at - 2;
	message[block_at] = (uint8_t)(block >> 8);
	message[block_at + 1] = (uint8_t)block;
	message[1] = (uint8_t)(body >> 16);
	message[2] = (uint8_t)(body >> 8);
	message[3] = (uint8_t)body;
	size_t n = rewrap(message, TLS_HANDSHAKE_MAX, 16384, stream);
	assert_int_equal(read_stream(stream, n, 0, 0, 0, &hello), TLS_DONE);
	assert_string_equal(hello.sni, "api.facebook.com");
	assert_int_equal(hello.extension_count, 7);
	assert_int_equal(hello.extension_types[6], 0x15);
	assert_int_equal(read_stream(stream, n, 0, 1000, 1000, &hello), TLS_DONE);
	assert_string_equal(hello.sni, "api.facebook.com");
	free(message);
	free(stream);
}

static void test_wrong_message(void **state)
{
	(void)state;
	struct tls_hello hello;
	/* A ClientHello where the ServerHello should be, and the other way. */
	assert_int_equal(read_stream(KAKAO_CLIENT, sizeof KAKAO_CLIENT, 1, 0, 0, &hello),
			 TLS_END_BAD_HELLO);
	assert_int_equal(hello.is_server, 1);
	assert_string_equal(hello.sni, "");
	assert_int_equal(read_stream(KAKAO_SERVER, sizeof KAKAO_SERVER, 0, 0, 0, &hello),
			 TLS_END_BAD_HELLO);
	assert_int_equal(hello.is_server, 0);
	/* A Certificate (11) first; decided on its header. */
	static const uint8_t certificate[] = { 22, 3, 3, 0, 8, 11, 0, 0, 4 };
	assert_int_equal(read_bytes(certificate, sizeof certificate, 1), TLS_END_BAD_HELLO);
	/* An empty ClientHello. */
	static const uint8_t empty[] = { 22, 3, 3, 0, 4, 1, 0, 0, 0 };
	assert_int_equal(read_bytes(empty, sizeof empty, 0), TLS_END_BAD_HELLO);
	/* The one-shot parser: neither hello. */
	assert_int_equal(tls_parse_hello(certificate + 5, 4, &hello), TLS_END_BAD_HELLO);
	assert_int_equal(tls_parse_hello(certificate + 5, 3, &hello), TLS_MORE);
	assert_int_equal(tls_parse_hello(NULL, 0, &hello), TLS_MORE);
}

/* ---- ClientHello ---------------------------------------------------------- */

static void test_fixed_fields(void **state)
{
	(void)state;
	struct hello h;
	struct tls_hello out;
	/* Each fixed field cut short or out of bounds; each is malformed. */
	static const size_t cuts[] = { 0, 1, 2, 33, 34, 66, 67, 68, 71, 72, 73 };
	client_begin(&h);
	hello_end(&h);
	for (size_t i = 0; i < N(cuts); i++) {
		struct hello cut = h;
		cut.m.len = 4 + cuts[i];
		end_length(&cut.m, cut.message_at, 3);
		assert_int_equal(parse_built(&cut, &out), TLS_END_BAD_HELLO);
	}
	/* No extension block at all (TLS 1.0 allows it): fine. */
	struct hello bare = h;
	bare.m.len = h.block_at;
	end_length(&bare.m, bare.message_at, 3);
	assert_int_equal(parse_built(&bare, &out), TLS_DONE);
	assert_int_equal(out.extension_count, 0);
	assert_int_equal(out.legacy_version, 0x0303);
	/* An empty extension block: fine. */
	assert_int_equal(parse_built(&h, &out), TLS_DONE);
	/* Fields well formed but out of bounds: a session id of 33; no, one or
	 * three bytes of cipher suites; no compression method. And in bounds. */
	static const struct {
		uint8_t session;
		uint16_t suites;
		uint8_t compression;
		enum tls_end end;
	} fields[] = {
		{ 33, 4, 1, TLS_END_BAD_HELLO }, { 32, 0, 1, TLS_END_BAD_HELLO },
		{ 32, 1, 1, TLS_END_BAD_HELLO }, { 32, 3, 1, TLS_END_BAD_HELLO },
		{ 32, 4, 0, TLS_END_BAD_HELLO }, { 0, 2, 1, TLS_DONE },
		{ 32, 300, 255, TLS_DONE },
	};
	struct hello bad;
	for (size_t i = 0; i < N(fields); i++) {
		client_begin_fields(&bad, fields[i].session, fields[i].suites, fields[i].compression);
		put_sni(&bad, "a.example", 9);
		hello_end(&bad);
		assert_int_equal(parse_built(&bad, &out), fields[i].end);
		assert_int_equal(out.legacy_version, 0x0303);
		assert_int_equal(out.has_sni, fields[i].end == TLS_DONE);
	}
	/* An odd cipher suite list, and an empty one. */
	bad = h;
	bad.m.data[4 + 67 + 1] = 3;
	assert_int_equal(parse_built(&bad, &out), TLS_END_BAD_HELLO);
	bad = h;
	bad.m.data[4 + 67 + 1] = 0;
	assert_int_equal(parse_built(&bad, &out), TLS_END_BAD_HELLO);
	/* No compression methods. */
	bad = h;
	bad.m.data[4 + 73] = 0;
	assert_int_equal(parse_built(&bad, &out), TLS_END_BAD_HELLO);
}

static void test_extension_overflow(void **state)
{
	(void)state;
	struct hello h;
	struct tls_hello out;
	static const char *const alpn[] = { "h2", NULL };

	/* The third extension says 100 bytes; 3 are left: the first two stay. */
	client_begin(&h);
	put_sni(&h, "a.example", 9);
	put_alpn(&h, alpn);
	put16(&h.m, TLS_EXT_SUPPORTED_VERSIONS);
	put16(&h.m, 100);
	put_fill(&h.m, 0x03, 3);
	hello_end(&h);
	assert_int_equal(parse_built(&h, &out), TLS_END_BAD_HELLO);
	assert_string_equal(out.sni, "a.example");
	assert_int_equal(out.has_sni, 1);
	assert_string_equal(out.alpn, "h2");
	assert_int_equal(out.extension_count, 2);
	assert_int_equal(out.version_count, 0);

	/* Fewer than 4 bytes at the end of the block. */
	client_begin(&h);
	put_sni(&h, "a.example", 9);
	put_fill(&h.m, 0, 3);
	hello_end(&h);
	assert_int_equal(parse_built(&h, &out), TLS_END_BAD_HELLO);
	assert_string_equal(out.sni, "a.example");
	assert_int_equal(out.extension_count, 1);

	/* The block says more than the message holds: nothing from it. */
	client_begin(&h);
	put_sni(&h, "a.example", 9);
	hello_end(&h);
	h.m.data[h.block_at + 1] = (uint8_t)(h.m.data[h.block_at + 1] + 1);
	assert_int_equal(parse_built(&h, &out), TLS_END_BAD_HELLO);
	assert_int_equal(out.has_sni, 0);
	assert_int_equal(out.extension_count, 0);
	assert_int_equal(out.legacy_version, 0x0303);

	/* Bytes after the block: malformed, but what the block said stays. */
	client_begin(&h);
	put_sni(&h, "a.example", 9);
	end_length(&h.m, h.block_at, 2);
	put8(&h.m, 0);
	end_length(&h.m, h.message_at, 3);
	assert_int_equal(parse_built(&h, &out), TLS_END_BAD_HELLO);
	assert_string_equal(out.sni, "a.example");

	/* An extension that overflows inside a real hello: cut its block short. */
	uint8_t message[sizeof KAKAO_CLIENT - 5];
	memcpy(message, KAKAO_CLIENT + 5, sizeof message);
	/* The last extension (13172, empty) claims one byte. */
	assert_int_equal(message[sizeof message - 4] << 8 | message[sizeof message - 3], 13172);
	message[sizeof message - 1] = 1;
	assert_int_equal(tls_parse_hello(message, sizeof message, &out), TLS_END_BAD_HELLO);
	assert_string_equal(out.sni, "api.facebook.com");
	assert_int_equal(out.extension_count, 5);
}

static void test_sni(void **state)
{
	(void)state;
	struct hello h;
	struct tls_hello out;
	static const char *const alpn[] = { "h2", NULL };

	/* A NUL byte in the name: the extension is invalid, the rest is read. */
	client_begin(&h);
	put_sni(&h, "evil.example\0.good.example", 26);
	put_alpn(&h, alpn);
	hello_end(&h);
	assert_int_equal(parse_built(&h, &out), TLS_DONE);
	assert_int_equal(out.has_sni, 0);
	assert_int_equal(out.sni_invalid, 1);
	assert_string_equal(out.sni, "");
	assert_string_equal(out.alpn, "h2");
	assert_int_equal(out.extension_count, 2);

	/* 255 bytes is the longest; 256 is invalid; bytes other than NUL are kept as they are. */
	char name[300];
	memset(name, 'a', sizeof name);
	name[1] = (char)0xc3;
	name[2] = '\n';
	client_begin(&h);
	put_sni(&h, name, 255);
	hello_end(&h);
	assert_int_equal(parse_built(&h, &out), TLS_DONE);
	assert_int_equal(out.has_sni, 1);
	assert_int_equal(strlen(out.sni), 255);
	assert_memory_equal(out.sni, name, 255);
	client_begin(&h);
	put_sni(&h, name, 256);
	hello_end(&h);
	assert_int_equal(parse_built(&h, &out), TLS_DONE);
	assert_int_equal(out.has_sni, 0);
	assert_int_equal(out.sni_invalid, 1);

	/* An empty name. */
	client_begin(&h);
	put_sni(&h, "", 0);
	hello_end(&h);
	assert_int_equal(parse_built(&h, &out), TLS_DONE);
	assert_int_equal(out.sni_invalid, 1);

	/* An entry of another type first: skipped; the host_name after it is the one. */
	client_begin(&h);
	put16(&h.m, TLS_EXT_SERVER_NAME);
	put16(&h.m, 2 + 3 + 4 + 3 + 9 + 3 + 5);
	put16(&h.m, 3 + 4 + 3 + 9 + 3 + 5);
	put8(&h.m, 7);
	put16(&h.m, 4);
	put_mem(&h.m, "xxxx", 4);
	put8(&h.m, 0);
	put16(&h.m, 9);
	put_mem(&h.m, "a.example", 9);
	put8(&h.m, 0);
	put16(&h.m, 5);
	put_mem(&h.m, "b.com", 5);
	hello_end(&h);
	assert_int_equal(parse_built(&h, &out), TLS_DONE);
	assert_string_equal(out.sni, "a.example");

	/* Only entries of other types: no name, nothing wrong. */
	client_begin(&h);
	put_ext(&h, TLS_EXT_SERVER_NAME, "\x00\x05\x07\x00\x02xy", 7);
	hello_end(&h);
	assert_int_equal(parse_built(&h, &out), TLS_DONE);
	assert_int_equal(out.has_sni, 0);
	assert_int_equal(out.sni_invalid, 0);

	/* The list length disagrees with the extension's; a name past the list;
	 * an empty extension (what a server sends, not a client). */
	static const struct {
		const char *data;
		size_t n;
	} bad[] = {
		{ "\x00\x06\x00\x00\x02xy", 7 },
		{ "\x00\x04\x00\x00\x02xy\x00", 8 },
		{ "\x00\x05\x00\x00\x03xy", 7 },
		{ "\x00\x00", 2 },
		{ "\x00", 1 },
		{ "", 0 },
	};
	for (size_t i = 0; i < N(bad); i++) {
		client_begin(&h);
		put_ext(&h, TLS_EXT_SERVER_NAME, bad[i].data, bad[i].n);
		hello_end(&h);
		assert_int_equal(parse_built(&h, &out), TLS_DONE);
		assert_int_equal(out.has_sni, 0);
		assert_int_equal(out.sni_invalid, 1);
		assert_string_equal(out.sni, "");
	}

	/* A second server_name does not overwrite the first. */
	client_begin(&h);
	put_sni(&h, "first.example", 13);
	put_sni(&h, "second.example", 14);
	hello_end(&h);
	assert_int_equal(parse_built(&h, &out), TLS_DONE);
	assert_string_equal(out.sni, "first.example");
	assert_int_equal(out.extension_count, 2);
}

static void test_alpn(void **state)
{
	(void)state;
	struct hello h;
	struct tls_hello out;
	char a[101], b[101], c[101], d[54];
	memset(a, 'a', 100);
	memset(b, 'b', 100);
	memset(c, 'c', 100);
	memset(d, 'd', 53);
	a[100] = b[100] = c[100] = '\0';
	d[53] = '\0';

	/* 100 + 1 + 100 = 201 fits; the third name would need 302: left out, whole. */
	const char *const three[] = { a, b, c, NULL };
	client_begin(&h);
	put_alpn(&h, three);
	hello_end(&h);
	assert_int_equal(parse_built(&h, &out), TLS_DONE);
	assert_int_equal(strlen(out.alpn), 201);
	assert_int_equal(out.alpn[100], ',');
	assert_int_equal(out.alpn[200], 'b');
	assert_int_equal(out.alpn_truncated, 1);
	assert_int_equal(out.alpn_invalid, 0);

	/* 201 + 1 + 53 = 255 fits exactly: not truncated. */
	const char *const exact[] = { a, b, d, NULL };
	client_begin(&h);
	put_alpn(&h, exact);
	hello_end(&h);
	assert_int_equal(parse_built(&h, &out), TLS_DONE);
	assert_int_equal(strlen(out.alpn), 255);
	assert_int_equal(out.alpn_truncated, 0);

	/* One more byte: the last name goes, and no name after it comes back. */
	d[53] = 'd';
	char e[55];
	memcpy(e, d, 54);
	e[54] = '\0';
	const char *const over[] = { a, b, e, "h2", NULL };
	client_begin(&h);
	put_alpn(&h, over);
	hello_end(&h);
	assert_int_equal(parse_built(&h, &out), TLS_DONE);
	assert_int_equal(strlen(out.alpn), 201);
	assert_int_equal(out.alpn_truncated, 1);

	/* A single 255-byte name fits. */
	char f[256];
	memset(f, 'f', 255);
	f[255] = '\0';
	const char *const one[] = { f, NULL };
	client_begin(&h);
	put_alpn(&h, one);
	hello_end(&h);
	assert_int_equal(parse_built(&h, &out), TLS_DONE);
	assert_string_equal(out.alpn, f);
	assert_int_equal(out.alpn_truncated, 0);

	/* Malformed: a NUL in a name, an empty name, a name past the list, lengths
	 * that disagree, an empty list. Nothing from the extension. */
	static const struct {
		const char *data;
		size_t n;
	} bad[] = {
		{ "\x00\x06\x02h2\x02\x00x", 8 },
		{ "\x00\x04\x02h2\x00", 6 },
		{ "\x00\x04\x02h2\x02", 6 },
		{ "\x00\x03\x02h2\x00", 6 },
		{ "\x00\x00", 2 },
		{ "\x00", 1 },
	};
	for (size_t i = 0; i < N(bad); i++) {
		client_begin(&h);
		put_ext(&h, TLS_EXT_ALPN, bad[i].data, bad[i].n);
		put_sni(&h, "a.example", 9);
		hello_end(&h);
		assert_int_equal(parse_built(&h, &out), TLS_DONE);
		assert_string_equal(out.alpn, "");
		assert_int_equal(out.alpn_invalid, 1);
		assert_string_equal(out.sni, "a.example");
	}
}

static void test_supported_versions(void **state)
{
	(void)state;
	struct hello h;
	struct tls_hello out;
	/* GREASE values are left out, wherever they are. */
	static const uint16_t greased[] = { 0x0a0a, 0x0304, 0x1a1a, 0x0303, 0xfafa };
	client_begin(&h);
	client_versions(&h, greased, N(greased));
	hello_end(&h);
	assert_int_equal(parse_built(&h, &out), TLS_DONE);
	assert_int_equal(out.version_count, 2);
	assert_int_equal(out.versions[0], 0x0304);
	assert_int_equal(out.versions[1], 0x0303);

	/* 40 versions: the first 32 are kept. */
	uint16_t many[40];
	for (size_t i = 0; i < N(many); i++)
		many[i] = (uint16_t)(0x7f00 + i);
	client_begin(&h);
	client_versions(&h, many, N(many));
	hello_end(&h);
	assert_int_equal(parse_built(&h, &out), TLS_DONE);
	assert_int_equal(out.version_count, TLS_VERSIONS_MAX);
	assert_int_equal(out.versions[31], 0x7f1f);

	/* Odd, empty, and disagreeing lists. */
	static const struct {
		const char *data;
		size_t n;
	} bad[] = {
		{ "\x03\x03\x04\x03", 4 },
		{ "\x00", 1 },
		{ "\x04\x03\x04", 3 },
		{ "\x02\x03\x04\x03\x03", 5 },
		{ "", 0 },
	};
	for (size_t i = 0; i < N(bad); i++) {
		client_begin(&h);
		put_ext(&h, TLS_EXT_SUPPORTED_VERSIONS, bad[i].data, bad[i].n);
		hello_end(&h);
		assert_int_equal(parse_built(&h, &out), TLS_DONE);
		assert_int_equal(out.version_count, 0);
		assert_int_equal(out.versions_invalid, 1);
	}

	/* Every GREASE value, and near misses. */
	for (unsigned i = 0; i < 16; i++)
		assert_true(tls_is_grease((uint16_t)(i << 12 | 0x0a00 | i << 4 | 0x0a)));
	assert_false(tls_is_grease(0x0a1a));
	assert_false(tls_is_grease(0x0304));
	assert_false(tls_is_grease(0xaaab));
	assert_false(tls_is_grease(0xca34));
}

static void test_ech(void **state)
{
	(void)state;
	struct hello h;
	struct tls_hello out;
	client_begin(&h);
	put_ext(&h, TLS_EXT_ECH, "\x01", 1);
	hello_end(&h);
	assert_int_equal(parse_built(&h, &out), TLS_DONE);
	assert_int_equal(out.ech_offered, 1);
	assert_int_equal(out.ech_type, 1);

	client_begin(&h);
	put_ext(&h, TLS_EXT_ECH, "", 0);
	hello_end(&h);
	assert_int_equal(parse_built(&h, &out), TLS_DONE);
	assert_int_equal(out.ech_offered, 1);
	assert_int_equal(out.ech_type, -1);

	client_begin(&h);
	hello_end(&h);
	assert_int_equal(parse_built(&h, &out), TLS_DONE);
	assert_int_equal(out.ech_offered, 0);
	assert_int_equal(out.ech_type, -1);
}

static void test_many_extensions(void **state)
{
	(void)state;
	struct hello h;
	struct tls_hello out;
	client_begin(&h);
	for (uint16_t i = 0; i < 70; i++)
		put_ext(&h, (uint16_t)(1000 + i), "", 0);
	hello_end(&h);
	assert_int_equal(parse_built(&h, &out), TLS_DONE);
	assert_int_equal(out.extension_count, 70);
	assert_int_equal(out.extension_types[0], 1000);
	assert_int_equal(out.extension_types[63], 1063);
}

/* ---- ServerHello ---------------------------------------------------------- */

static const uint8_t SERVER_RANDOM[32] = { 0x5e, 0x4d, [31] = 0x01 };

/* A TLS 1.3 ServerHello or HelloRetryRequest: supported_versions and key_share. */
static void tls13_server(struct hello *h, const uint8_t random[32], uint16_t cipher_suite)
{
	server_begin(h, random, cipher_suite);
	put_ext(h, TLS_EXT_SUPPORTED_VERSIONS, "\x03\x04", 2);
	put_ext(h, 51, "\x00\x1d", 2);
	hello_end(h);
}

static void test_server_hello(void **state)
{
	(void)state;
	struct hello h;
	struct tls_hello out;
	tls13_server(&h, SERVER_RANDOM, 0x1302);
	assert_int_equal(parse_built(&h, &out), TLS_DONE);
	assert_int_equal(out.is_server, 1);
	assert_int_equal(out.hello_retry, 0);
	assert_int_equal(out.cipher_suite, 0x1302);
	assert_int_equal(out.selected_version, 0x0304);
	assert_int_equal(out.extension_count, 2);

	/* A selected version that is not 2 bytes. */
	server_begin(&h, SERVER_RANDOM, 0x1302);
	put_ext(&h, TLS_EXT_SUPPORTED_VERSIONS, "\x03\x04\x03", 3);
	hello_end(&h);
	assert_int_equal(parse_built(&h, &out), TLS_DONE);
	assert_int_equal(out.selected_version, 0);
	assert_int_equal(out.versions_invalid, 1);

	/* TLS 1.2 ALPN: the protocol the server chose. */
	static const char *const h2[] = { "h2", NULL };
	server_begin(&h, SERVER_RANDOM, 0xc02f);
	put_alpn(&h, h2);
	hello_end(&h);
	assert_int_equal(parse_built(&h, &out), TLS_DONE);
	assert_string_equal(out.alpn, "h2");

	/* A session id of 33 (well formed otherwise), and a ServerHello cut before
	 * its compression byte. */
	h.m.len = 0;
	put8(&h.m, TLS_HANDSHAKE_SERVER_HELLO);
	h.message_at = begin_length(&h.m, 3);
	put16(&h.m, 0x0303);
	put_mem(&h.m, SERVER_RANDOM, 32);
	put8(&h.m, 33);
	put_fill(&h.m, 0x33, 33);
	put16(&h.m, 0x1302);
	put8(&h.m, 0);
	h.block_at = begin_length(&h.m, 2);
	hello_end(&h);
	assert_int_equal(parse_built(&h, &out), TLS_END_BAD_HELLO);
	h.m.data[4 + 34] = 32; /* the same bytes, a 32-byte id: one byte of junk after the block */
	assert_int_equal(parse_built(&h, &out), TLS_END_BAD_HELLO);
	server_begin(&h, SERVER_RANDOM, 0x1302);
	h.m.len -= 3;
	end_length(&h.m, h.message_at, 3);
	assert_int_equal(parse_built(&h, &out), TLS_END_BAD_HELLO);
}

static void test_hello_retry(void **state)
{
	(void)state;
	struct hello retry, real;
	struct tls_hello out;
	tls13_server(&retry, HELLO_RETRY_RANDOM, 0x1301);
	tls13_server(&real, SERVER_RANDOM, 0x1302);

	/* One-shot, a HelloRetryRequest is what it is. */
	assert_int_equal(tls_parse_hello(retry.m.data, retry.m.len, &out), TLS_DONE);
	assert_int_equal(out.hello_retry, 1);
	assert_int_equal(out.cipher_suite, 0x1301);
	assert_int_equal(out.selected_version, 0x0304);

	/* As a stream: HRR, change_cipher_spec (RFC 8446 D.4), then the ServerHello. */
	static struct buf stream;
	stream.len = 0;
	put_record(&stream, 22, retry.m.data, retry.m.len);
	size_t after_retry = stream.len;
	put_record(&stream, 20, "\x01", 1);
	size_t after_ccs = stream.len;
	put_record(&stream, 22, real.m.data, real.m.len);
	static const size_t chunks[] = { 0, 1, 2, 7, 64 };
	for (size_t i = 0; i < N(chunks); i++) {
		assert_int_equal(read_stream(stream.data, stream.len, 1, chunks[i], chunks[i], &out),
				 TLS_DONE);
		assert_int_equal(out.hello_retry, 1);
		assert_int_equal(out.cipher_suite, 0x1302);
		assert_int_equal(out.selected_version, 0x0304);
	}
	/* The HRR alone, or with the change_cipher_spec: more is wanted. */
	assert_int_equal(read_bytes(stream.data, after_retry, 1), TLS_MORE);
	assert_int_equal(read_bytes(stream.data, after_ccs, 1), TLS_MORE);

	/* The HRR and the ServerHello in one record, without change_cipher_spec. */
	stream.len = 0;
	put8(&stream, 22);
	put16(&stream, 0x0303);
	put16(&stream, (uint16_t)(retry.m.len + real.m.len));
	put_mem(&stream, retry.m.data, retry.m.len);
	put_mem(&stream, real.m.data, real.m.len);
	assert_int_equal(read_bytes(stream.data, stream.len, 1), TLS_DONE);
	assert_int_equal(read_stream(stream.data, stream.len, 1, 0, 0, &out), TLS_DONE);
	assert_int_equal(out.hello_retry, 1);
	assert_int_equal(out.cipher_suite, 0x1302);

	/* A second HelloRetryRequest is an error (RFC 8446 4.1.4). */
	stream.len = 0;
	put_record(&stream, 22, retry.m.data, retry.m.len);
	put_record(&stream, 20, "\x01", 1);
	put_record(&stream, 22, retry.m.data, retry.m.len);
	assert_int_equal(read_stream(stream.data, stream.len, 1, 0, 0, &out), TLS_END_BAD_HELLO);
	assert_int_equal(out.hello_retry, 1);

	/* A change_cipher_spec in the middle of a message is not allowed. */
	stream.len = 0;
	put_record(&stream, 22, retry.m.data, retry.m.len);
	put_record(&stream, 22, real.m.data, 10);
	put_record(&stream, 20, "\x01", 1);
	put_record(&stream, 22, real.m.data + 10, real.m.len - 10);
	assert_int_equal(read_bytes(stream.data, stream.len, 1), TLS_END_NOT_HANDSHAKE);

	/* After the HRR, a message that is not a ServerHello. */
	stream.len = 0;
	put_record(&stream, 22, retry.m.data, retry.m.len);
	put_record(&stream, 22, "\x0b\x00\x00\x00", 4);
	assert_int_equal(read_stream(stream.data, stream.len, 1, 0, 0, &out), TLS_END_BAD_HELLO);
	assert_int_equal(out.hello_retry, 1);

	/* A HelloRetryRequest longer than the ServerHello after it, and shorter. */
	struct hello long_retry;
	server_begin(&long_retry, HELLO_RETRY_RANDOM, 0x1301);
	put_ext(&long_retry, TLS_EXT_SUPPORTED_VERSIONS, "\x03\x04", 2);
	put_ext(&long_retry, 44, "\x00\x40" "0123456789abcdef0123456789abcdef"
			  "0123456789abcdef0123456789abcdef", 66); /* cookie */
	hello_end(&long_retry);
	stream.len = 0;
	put_record(&stream, 22, long_retry.m.data, long_retry.m.len);
	put_record(&stream, 22, real.m.data, real.m.len);
	assert_int_equal(read_stream(stream.data, stream.len, 1, 1, 1, &out), TLS_DONE);
	assert_int_equal(out.cipher_suite, 0x1302);
	assert_int_equal(out.extension_count, 2);
	stream.len = 0;
	put_record(&stream, 22, retry.m.data, retry.m.len);
	put_record(&stream, 22, long_retry.m.data, long_retry.m.len);
	assert_int_equal(read_stream(stream.data, stream.len, 1, 1, 1, &out), TLS_END_BAD_HELLO);
}

static void test_end_names(void **state)
{
	(void)state;
	static const enum tls_end all[] = {
		TLS_MORE, TLS_DONE, TLS_END_NOT_TLS, TLS_END_NOT_HANDSHAKE, TLS_END_BAD_RECORD,
		TLS_END_BAD_HELLO, TLS_END_TOO_LONG, TLS_END_SSLV2, TLS_END_NO_MEMORY,
	};
	for (size_t i = 0; i < N(all); i++) {
		const char *name = tls_end_name(all[i]);
		assert_non_null(name);
		assert_true(name[0] != '\0');
		assert_string_not_equal(name, "unknown");
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(name, tls_end_name(all[j]));
	}
	assert_string_equal(tls_end_name(TLS_DONE), "done");
	assert_string_equal(tls_end_name((enum tls_end)(TLS_END_NO_MEMORY + 1)), "unknown");
	assert_string_equal(tls_end_name((enum tls_end)-1), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_hellos),
		cmocka_unit_test(test_browser_segments),
		cmocka_unit_test(test_every_split),
		cmocka_unit_test(test_every_prefix),
		cmocka_unit_test(test_hello_over_records),
		cmocka_unit_test(test_bytes_after_hello),
		cmocka_unit_test(test_not_handshake_first),
		cmocka_unit_test(test_not_tls),
		cmocka_unit_test(test_record_length),
		cmocka_unit_test(test_sslv2),
		cmocka_unit_test(test_empty_feed),
		cmocka_unit_test(test_lazy_buffer),
		cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_wrong_message),
		cmocka_unit_test(test_fixed_fields),
		cmocka_unit_test(test_extension_overflow),
		cmocka_unit_test(test_sni),
		cmocka_unit_test(test_alpn),
		cmocka_unit_test(test_supported_versions),
		cmocka_unit_test(test_ech),
		cmocka_unit_test(test_many_extensions),
		cmocka_unit_test(test_server_hello),
		cmocka_unit_test(test_hello_retry),
		cmocka_unit_test(test_end_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
