/*
 * libFuzzer harness for control_parse_request(): the input is what a client
 * writes to the control socket, parsed from a heap copy of exactly its
 * length. Besides ASan's and UBSan's checks, it aborts when a request is
 * accepted that breaks what control.h promises (a known command; for a
 * consent mark a known decision, a device of 1 to 255 bytes and a site of at
 * most 255 with no control character, a time within 1970..9999 or -1), or
 * when a refusal leaves an empty or unterminated reason.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../daemon/control.h"

static void check_text(const char *s, size_t size, int may_be_empty)
{
	size_t len = strnlen(s, size);
	if (len == size || (!may_be_empty && len == 0))
		abort();
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	struct control_request r;
	char error[CONTROL_ERROR_MAX];
	memset(error, 'x', sizeof error);
	if (control_parse_request(copy, size, &r, error, sizeof error) == 0) {
		if (r.command != CONTROL_STATUS && r.command != CONTROL_RELOAD &&
		    r.command != CONTROL_CONSENT_MARK)
			abort();
		if (r.command == CONTROL_CONSENT_MARK) {
			if (strcmp(r.decision, "accept") != 0 && strcmp(r.decision, "reject") != 0 &&
			    strcmp(r.decision, "partial") != 0)
				abort();
			check_text(r.device, sizeof r.device, 0);
			check_text(r.site, sizeof r.site, 1);
			if (r.at_us < -1 || r.at_us > 253402300799LL * 1000000)
				abort();
		}
	} else {
		size_t len = strnlen(error, sizeof error);
		if (len == 0 || len == sizeof error)
			abort();
	}
	free(copy);
	return 0;
}
