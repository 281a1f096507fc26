/*
 * store_bench: how many timeline rows per second the writer sustains. It
 * reads a capture through the pipeline into memory first (the capture
 * thread's share, not timed), then times the writer's share alone: each
 * observation matched against the default lists and appended to a new
 * database, batches committed as trackwatchd commits them. Run by
 * bench/store.sh; not a test.
 *
 *   store_bench RUNS CAPTURE DATABASE
 *
 * Prints per run the rows written, the seconds and rows per second, then
 * the median. The lists are loaded once, before the runs (not timed).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "../blocklists/lists.h"
#include "../daemon/config.h"
#include "../daemon/observation.h"
#include "../daemon/pipeline.h"
#include "../daemon/store.h"
#include "../daemon/timeline.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* The observations, packed one after another (each 8-aligned, its size first). */
struct tape {
	unsigned char *p;
	size_t used, size, count;
};

static int record(void *context, const struct observation *obs)
{
	struct tape *t = context;
	if (!timeline_wants(obs))
		return 0;
	size_t need = observation_packed_size(obs) + 8;
	if (t->used + need > t->size) {
		size_t size = t->size ? t->size * 2 : 1 << 24;
		while (size < t->used + need)
			size *= 2;
		unsigned char *p = realloc(t->p, size);
		if (!p)
			return -1;
		t->p = p;
		t->size = size;
	}
	*(uint64_t *)(void *)(t->p + t->used) = need - 8;
	observation_pack(obs, t->p + t->used + 8);
	t->used += need;
	t->count++;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: store_bench RUNS CAPTURE DATABASE\n");
		return 2;
	}
	int runs = atoi(argv[1]);
	if (runs < 1 || runs > 99)
		runs = 5;
	char err[PCAP_ERRBUF_SIZE];
	pcap_t *pcap = pcap_open_offline(argv[2], err);
	if (!pcap) {
		fprintf(stderr, "store_bench: %s\n", err);
		return 1;
	}
	struct tape tape = { 0 };
	struct pipeline_config config;
	pipeline_config_defaults(&config);
	config.dns_cache_seed = 1;
	struct pipeline *pipeline = pipeline_new(&config, record, &tape);
	struct pcap_pkthdr *h;
	const u_char *data;
	int dlt = pcap_datalink(pcap);
	while (pcap_next_ex(pcap, &h, &data) == 1)
		pipeline_packet(pipeline, dlt, (uint64_t)h->ts.tv_sec * 1000000 + (uint64_t)h->ts.tv_usec,
				data, h->caplen, h->len);
	pipeline_flush(pipeline);
	pipeline_free(pipeline);
	pcap_close(pcap);

	struct list_set set;
	struct list_load_error lerr;
	struct matcher *m = lists_default(&set) == 0 ? lists_build(&set, -1, &lerr) : NULL;
	if (!m) {
		fprintf(stderr, "store_bench: lists: %s: %s\n", lerr.file, lerr.reason);
		return 1;
	}
	/* Unpacked once: observation_unpack() makes a block usable in place. */
	const struct observation **obs = calloc(tape.count ? tape.count : 1, sizeof *obs);
	size_t n = 0;
	for (size_t at = 0; obs && at < tape.used; n++) {
		uint64_t size = *(uint64_t *)(void *)(tape.p + at);
		obs[n] = observation_unpack(tape.p + at + 8);
		at += 8 + size;
	}
	struct daemon_config dconfig;
	config_defaults(&dconfig);
	double *rates = calloc((size_t)runs, sizeof *rates);
	printf("%zu observations for the store, from %s\n", tape.count, argv[2]);
	for (int r = 0; r < runs; r++) {
		char path[4096];
		snprintf(path, sizeof path, "%s", argv[3]);
		unlink(path);
		char wal[4200];
		snprintf(wal, sizeof wal, "%s-wal", path);
		unlink(wal);
		snprintf(wal, sizeof wal, "%s-shm", path);
		unlink(wal);
		char serr[STORE_ERROR_MAX];
		double t0 = now();
		struct store *store = store_open(path, &dconfig.store, serr, sizeof serr);
		struct store_run run = { .source = argv[2], .version = "bench", .file_bytes = -1 };
		if (!store || store_run_begin(store, &run, serr, sizeof serr) != 0) {
			fprintf(stderr, "store_bench: %s\n", serr);
			return 1;
		}
		struct timeline_options topt;
		timeline_options_defaults(&topt);
		struct timeline *tl = timeline_new(store, &dconfig, &topt);
		timeline_set_matcher(tl, m);
		for (size_t i = 0; i < n; i++) {
			if (timeline_observe(tl, obs[i]) != 0) {
				fprintf(stderr, "store_bench: %s\n", store_error(store));
				return 1;
			}
		}
		struct store_run_end end = { .status = "complete", .file_bytes = -1 };
		store_run_end(store, &end);
		uint64_t rows = store_stats(store)->rows;
		timeline_free(tl);
		store_close(store);
		double t = now() - t0;
		rates[r] = (double)rows / t;
		printf("run %d: %llu rows in %.3f s: %.0f rows/s\n", r + 1, (unsigned long long)rows, t,
		       rates[r]);
	}
	qsort(rates, (size_t)runs, sizeof *rates, by_value);
	printf("median of %d runs: %.0f rows/s (goal: 200000)\n", runs,
	       runs % 2 ? rates[runs / 2] : (rates[runs / 2 - 1] + rates[runs / 2]) / 2);
	matcher_free(m);
	lists_free(&set);
	free(rates);
	free(obs);
	free(tape.p);
	return 0;
}
