/*
 * libFuzzer harness for daemon/capture.c's direct reading of pcap files: the
 * input is a capture file (after a first byte: odd, a classic pcap file
 * header with the snapshot length of the next two bytes is put before the
 * rest, so that the fuzzer works on records), read once by libpcap alone and
 * once directly (daemon/sharedfile.c), in pieces of 512 bytes in this build
 * (CAPTURE_DIRECT_PIECE) so that records cross them. libpcap is the oracle:
 * the frames, their times and lengths, and the result must be the same; any
 * difference aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../daemon/capture.h"
#include "../../daemon/sharedfile.h"
#include "fuzz_file.h"

struct seen {
	char *text;
	size_t len, cap;
};

static void add(struct seen *s, const char *line)
{
	size_t n = strlen(line);
	if (s->len + n + 1 > s->cap) {
		s->cap = (s->len + n + 1) * 2;
		s->text = realloc(s->text, s->cap);
		if (!s->text)
			abort();
	}
	memcpy(s->text + s->len, line, n + 1);
	s->len += n;
}

static void on_frame(void *context, int dlt, uint64_t ts_us, const uint8_t *frame, size_t caplen,
		     size_t wirelen)
{
	uint64_t sum = 1469598103934665603ULL;
	for (size_t i = 0; i < caplen; i++)
		sum = (sum ^ frame[i]) * 1099511628211ULL;
	char line[128];
	snprintf(line, sizeof line, "%d %llu %zu %zu %016llx\n", dlt, (unsigned long long)ts_us, caplen,
		 wirelen, (unsigned long long)sum);
	add(context, line);
}

static void read_with(const char *path, struct sharedfile *shared, struct seen *s)
{
	char error[CAPTURE_ERROR_MAX] = "";
	struct capture *c = shared ? capture_open_shared(path, shared, NULL, error, sizeof error)
				   : capture_open_file(path, NULL, error, sizeof error);
	int rc = -2;
	if (c) {
		rc = capture_run(c, on_frame, NULL, s, error, sizeof error);
		capture_close(c);
	}
	if (shared)
		sharedfile_capture_done(shared);
	char line[CAPTURE_ERROR_MAX + 32];
	snprintf(line, sizeof line, "rc %d %s\n", rc, rc ? error : "");
	add(s, line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t *file = malloc(size + 24);
	if (!file)
		abort();
	size_t len = 0;
	if ((data[0] & 1) && size >= 3) {
		uint32_t snap = (uint32_t)data[1] | (uint32_t)data[2] << 8;
		uint32_t header[6] = { 0xa1b2c3d4, 2 | 4u << 16, 0, 0, snap ? snap : 65535, 1 };
		memcpy(file, header, sizeof header);
		len = sizeof header;
		data += 3;
		size -= 3;
	} else {
		data++;
		size--;
	}
	memcpy(file + len, data, size);
	len += size;
	char path[] = "/tmp/fuzz_capture.XXXXXX";
	fuzz_write_temp(path, file, len);
	free(file);

	struct seen plain = { 0 }, direct = { 0 };
	read_with(path, NULL, &plain);
	struct sharedfile *shared = sharedfile_open(path, 0, SHAREDFILE_WINDOW);
	if (shared) {
		read_with(path, shared, &direct);
		sharedfile_close(shared);
		if (strcmp(plain.text, direct.text) != 0) {
			fprintf(stderr, "libpcap:\n%s\ndirect:\n%s\n", plain.text, direct.text);
			abort();
		}
	}
	unlink(path);
	free(plain.text);
	free(direct.text);
	return 0;
}
