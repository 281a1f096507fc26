/* progress: see progress.h. */
#include "progress.h"

#include <string.h>
#include <time.h>
#include <unistd.h>

enum { REDRAW_US = 250000, FIRST_US = 1000000, LINE_WIDTH = 79 };

static uint64_t monotonic_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

void progress_init(struct progress *p, FILE *out, uint64_t total_bytes)
{
	memset(p, 0, sizeof *p);
	if (!out || !isatty(fileno(out)))
		return;
	p->out = out;
	p->total_bytes = total_bytes;
	p->started_us = monotonic_us();
	p->next_us = p->started_us + FIRST_US;
}

/* "1.5 GB", "336.7 MB", "812 kB", "97 B": decimal units, as dd and curl print. */
static void size_text(char *out, size_t size, uint64_t bytes)
{
	static const char *const units[] = { "B", "kB", "MB", "GB", "TB", "PB" };
	double v = (double)bytes;
	int u = 0;
	while (v >= 1000 && u < 5) {
		v /= 1000;
		u++;
	}
	snprintf(out, size, u ? "%.1f %s" : "%.0f %s", v, units[u]);
}

void progress_format(char *out, size_t size, uint64_t bytes, uint64_t total_bytes,
		     uint64_t packets, uint64_t elapsed_us)
{
	char done[16], total[16], left[32] = "";
	size_text(done, sizeof done, bytes);
	double seconds = elapsed_us ? (double)elapsed_us / 1e6 : 1e-6;
	double rate = (double)packets / seconds;
	if (total_bytes && bytes <= total_bytes) {
		size_text(total, sizeof total, total_bytes);
		unsigned percent = (unsigned)(bytes * 100 / total_bytes);
		if (bytes) {
			uint64_t rest = (uint64_t)((double)(total_bytes - bytes) * seconds / (double)bytes);
			snprintf(left, sizeof left, ", %llu:%02llu left", (unsigned long long)(rest / 60),
				 (unsigned long long)(rest % 60));
		}
		snprintf(out, size, "%3u%% %s of %s, %.0f packets/s%s", percent, done, total, rate, left);
	} else {
		snprintf(out, size, "%s, %.0f packets/s", done, rate);
	}
}

void progress_update(struct progress *p, uint64_t bytes, uint64_t packets)
{
	if (!p->out)
		return;
	uint64_t now = monotonic_us();
	if (now < p->next_us)
		return;
	p->next_us = now + REDRAW_US;
	char line[LINE_WIDTH + 1];
	progress_format(line, sizeof line, bytes, p->total_bytes, packets, now - p->started_us);
	fprintf(p->out, "\r%-*s", LINE_WIDTH, line);
	fflush(p->out);
	p->drawn = true;
}

void progress_end(struct progress *p)
{
	if (p->out && p->drawn) {
		fprintf(p->out, "\r%*s\r", LINE_WIDTH, "");
		fflush(p->out);
	}
	p->drawn = false;
	p->out = NULL;
}
