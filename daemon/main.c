/*
 * trackwatchd: the sensor. Reads capture files or a live interface, runs the
 * pipeline, and writes observations as JSON lines or text. Exit status: 0 on
 * success, 1 on a runtime error (a file that could not be read in full, a
 * write error), 2 on a usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "../dissectors/dns.h"
#include "../dissectors/http1.h"
#include "../dissectors/keylog.h"
#include "decrypt.h"
#include "../dissectors/ndpi_glue.h"
#include "../dissectors/quic.h"
#include "../dissectors/tls.h"
#include "../blocklists/lists.h"
#include "capture.h"
#include "sharedfile.h"
#include "config.h"
#include "consent.h"
#include "control.h"
#include "live.h"
#include "log.h"
#include "observation.h"
#include "identifiers.h"
#include "pipeline.h"
#include "privileges.h"
#include "progress.h"
#include "queue.h"
#include "store.h"
#include "thread.h"
#include "timeline.h"
#include "version.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <sqlite3.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2 };
#define DEFAULT_CONFIG "/etc/trackwatch/trackwatch.yaml"
enum { MAX_FILES = 1024 };

static const char *program = "trackwatchd";

static void usage(FILE *out)
{
	fprintf(out,
"Usage: trackwatchd [OPTION]... -r FILE [-r FILE]...\n"
"       trackwatchd [OPTION]... [-i INTERFACE]...\n"
"       trackwatchd [OPTION]... -n | --dump-config\n"
"Watch traffic for the names devices contact (DNS, TLS and QUIC SNI, HTTP Host)\n"
"and the cookies they carry, and write one observation per fact seen.\n"
"\n"
"Input:\n"
"  -r, --read=FILE          read a pcap or pcapng file; '-' reads standard input;\n"
"                           repeat for several files, read in order as one stream\n"
"  -i, --interface=IFACE    capture live on IFACE, in promiscuous mode; repeat\n"
"                           for several (default capture.interface); a live\n"
"                           daemon serves its control socket (control.socket),\n"
"                           runs as daemon.user, reloads on SIGHUP\n"
"  -f, --filter=EXPR        only packets matching the BPF filter EXPR\n"
"\n"
"Output:\n"
"      --db=PATH            append to the timeline database at PATH (SQLite):\n"
"                           each observation matched against the tracker lists\n"
"      --force              read a file again that the database already holds\n"
"      --jsonl=PATH         write observations as JSON lines to PATH ('-' for\n"
"                           standard output); without it or --db, text goes to\n"
"                           standard output\n"
"  -q, --quiet              no statistics at the end, and no progress line\n"
"                           while files are read on a terminal\n"
"  -d, --debug              log to standard error at the debug level (a live\n"
"                           daemon logs to syslog unless that is a terminal)\n"
"\n"
"TLS decryption (see trackwatchd(8), DECRYPTION):\n"
"  -k, --keylog=FILE        an NSS key log (SSLKEYLOGFILE) to decrypt TLS with;\n"
"                           repeat for several (default tls.keylog); a file run\n"
"                           reads it whole, live capture follows it as it grows;\n"
"                           pcapng Decryption Secrets Blocks are read too\n"
"      --dump-tls=DIR       debug: write each decrypted stream direction to DIR\n"
"\n"
"Identifiers (cookie values, URL query values) are written as keyed hashes:\n"
"      --identifier-key=FILE  hash with the key in FILE (16 to 1024 bytes), so\n"
"                           that hashes agree across runs; by default a random\n"
"                           key is made for each run\n"
"      --keep-identifiers   write cookie and query values as they are (a lab)\n"
"\n"
"Configuration (see trackwatch.yaml(5); these options override the file):\n"
"  -c, --config=FILE        read FILE (default " DEFAULT_CONFIG " when it\n"
"                           exists): lists, devices, capture, flows, store, ...\n"
"  -n, --check              check the configuration, the lists and consent rules\n"
"                           it names and the identifier key, say so, and exit\n"
"                           (no capture: the interface is not opened)\n"
"      --dump-config        print the effective configuration as YAML that -c\n"
"                           reads back, each key after its help, and exit\n"
"\n"
"Limits:\n"
"      --max-flows=N        flows tracked at once; the least recently used is\n"
"                           evicted beyond this (default 65536)\n"
"      --tcp-timeout=SECS   idle time before a TCP flow ends (default 300)\n"
"      --udp-timeout=SECS   idle time before a UDP flow ends (default 60)\n"
"\n"
"  -h, --help               show this help and exit\n"
"  -V, --version            show version information and exit\n"
"\n"
"Exit status: 0 on success, 1 if input could not be read in full, output\n"
"could not be written or the configuration is bad, 2 on a usage error.\n"
"See trackwatchd(8).\n");
}

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "%s: ", program);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'trackwatchd --help' for more information.\n");
	return EXIT_USAGE;
}

/* Parses a positive integer option within [min, max]. */
static int parse_number(const char *text, unsigned long long min, unsigned long long max,
			unsigned long long *out)
{
	char *end;
	errno = 0;
	if (!*text || *text == '-')
		return -1;
	unsigned long long value = strtoull(text, &end, 10);
	if (errno || *end || value < min || value > max)
		return -1;
	*out = value;
	return 0;
}

/* A filter that does not compile is a usage error, found before any input is read. */
static int filter_compiles(const char *filter)
{
	char reason[PCAP_ERRBUF_SIZE + 64];
	if (config_filter_check(filter, reason, sizeof reason) == 0)
		return 1;
	fprintf(stderr, "%s: bad filter '%s': %s\n", program, filter, reason);
	return 0;
}

/* Replaces a string setting with a command-line value (NULL clears it); 0 or -1. */
static int override_text(char **at, const char *value)
{
	char *copy = value ? strdup(value) : NULL;
	if (value && !copy)
		return -1;
	free(*at);
	*at = copy;
	return 0;
}

/* The `lists:` section for --dump-config: the set in use, as lists.c reads it. */
static void dump_lists(FILE *out, const char *section, void *context)
{
	const struct list_set *set = context;
	(void)section;
	if (!set->count) {
		fputs("lists: []\n", out);
		return;
	}
	fputs("lists:\n", out);
	for (int i = 0; i < set->count; i++) {
		const struct list_source *src = &set->lists[i];
		const struct { const char *key, *value; } fields[] = {
			{ "path", src->path }, { "entities", src->entities }, { "url", src->url },
			{ "entities_url", src->entities_url }, { "category", src->category },
		};
		fputs("  - name: ", out);
		config_write_quoted(out, src->name);
		fprintf(out, "\n    format: %s\n", list_format_name(src->format));
		for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++) {
			if (!fields[f].value)
				continue;
			fprintf(out, "    %s: ", fields[f].key);
			config_write_quoted(out, fields[f].value);
			fputc('\n', out);
		}
		if (src->not_tracking_set) {
			fputs("    not_tracking: [", out);
			for (size_t k = 0; src->not_tracking[k]; k++) {
				fputs(k ? ", " : "", out);
				config_write_quoted(out, src->not_tracking[k]);
			}
			fputs("]\n", out);
		}
	}
}

/*
 * The SHA-256 of the files read, in order, as one stream: the run's
 * evidence, and how a file read before is known again. On a thread of its
 * own, beside the capture, when it is needed only for the record.
 */
struct file_hash {
	const char *const *files;
	size_t count;
	struct sharedfile *const *shared; /* per file, or NULL: read beside the capture (sharedfile.h) */
	char hex[65];
	int64_t bytes;
	int ok;
	double cpu_s;                /* the thread's CPU time for it */
	pthread_t thread;
};

/* CPU time the calling thread has used, in seconds (for -d's account of a file run). */
static double thread_cpu_s(void)
{
	struct timespec t;
	return clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t) == 0 ? (double)t.tv_sec + (double)t.tv_nsec / 1e9
							       : 0;
}

/* A file not read beside the capture (standard input's is not hashed) is hashed in pieces this size. */
enum { HASH_CHUNK = SHAREDFILE_CHUNK };

/*
 * Observations go to the writer through a queue, and the writer formats and
 * writes them on a thread of its own: formatting JSON costs about as much as
 * finding what to write, and a slow disk or pipe must not hold up capture.
 */
enum { OUTPUT_QUEUE_BYTES = 4 << 20, STORE_QUEUE_BYTES = 16 << 20 };

/*
 * The command-line options that override the configuration, applied again
 * to the file a reload reads.
 */
struct overrides {
	struct config_list interfaces, keylogs;
	const char *filter, *key_file;
	unsigned max_flows, tcp_timeout, udp_timeout;
	int keep_identifiers;
};

/*
 * What the capture thread hands the writer thread while running: new lists
 * and device names after a reload, consent marks from the control socket.
 * The writer takes it between two observations.
 */
enum { MAILBOX_MARKS = 32 };
struct pending_mark {
	int64_t at_us, created_us;
	char decision[8], device[CONTROL_TEXT_MAX], site[CONTROL_TEXT_MAX];
};
struct mailbox {
	pthread_mutex_t lock;
	atomic_int pending;
	struct matcher *matcher;
	struct daemon_config *config;
	struct pending_mark marks[MAILBOX_MARKS];
	size_t mark_count;
	int lock_ready;
};

struct run {
	struct observation_writer *writer;  /* NULL when only the store is written */
	struct pipeline *pipeline;
	struct queue *queue;
	pthread_t writer_thread;
	int wait_when_full;      /* reading files: wait; live: drop and count */
	int write_failed;        /* set by the writer thread */
	int write_errno;
	/* The store, and what the writer thread needs to begin its run. */
	struct store *store;
	struct timeline *timeline;
	struct list_set lists;
	struct matcher *matcher; /* built before capture (live), else by the writer thread */
	/* A file run's lists, built on a thread of their own from the start (lists_start()). */
	pthread_t lists_thread;
	int lists_loading;       /* lists_thread runs, or is not joined yet */
	struct matcher *lists_built;
	struct list_load_error lists_error;
	double lists_cpu_s, writer_cpu_s;  /* those threads' CPU time (-d) */
	struct store_run begin;
	int store_failed;        /* set by the writer thread; the message is printed there */
	struct file_hash *hash;  /* to take beside the capture, or NULL */
	int hashing;             /* started beside the capture: join hash->thread */
	/* Reading files on a terminal: the progress line. */
	struct progress progress;
	uint64_t frames, files_done_bytes;
	/* Live capture: the interfaces, the control socket, what a reload needs. */
	struct live live;
	struct control *control;
	uint64_t started_us;
	const char *config_path;
	const struct overrides *overrides;
	struct daemon_config *config;          /* the capture thread's */
	struct daemon_config *writer_config;   /* the timeline's, the writer thread's */
	struct consent_rules *rules;           /* the pipeline's */
	char *lists_json;                      /* the lists in use, for status */
	const char *db_path;
	unsigned reloads;
	int debug;                             /* -d: the log level stays debug */
	/* TLS secrets: read whole (files), or followed as browsers write them (live). */
	struct keylog *keylog;
	struct keylog_follow *follows[LIVE_SOURCES_MAX];
	size_t follow_count;
	uint64_t next_key_poll_us;
	char key_error[KEYLOG_ERROR_MAX];     /* the last error logged, so as not to repeat it */
	struct mailbox mail;
	/* What the writer has stored so far, for status (written by it, read by capture). */
	atomic_uint_least64_t stored_rows, stored_hits;
};

/* The list evidence of a run: [{name, format, path, sha256}], for runs.lists. */
static char *lists_evidence(const struct matcher *m)
{
	json_t *array = json_array();
	for (int i = 0; array && m && i < matcher_list_count(m); i++) {
		const struct list_info *info = matcher_list_info(m, i);
		json_t *o = json_pack("{s:s?, s:s, s:s?, s:s}", "name", info->name, "format",
				      list_format_name(info->format), "path", info->path, "sha256",
				      info->sha256);
		if (o)
			json_array_append_new(array, o);
	}
	char *text = array ? json_dumps(array, JSON_COMPACT) : NULL;
	json_decref(array);
	return text;
}

/*
 * The consent rules shipped with trackwatch: etc/consent-signals.yaml in the
 * build tree the program runs from, else consent-signals.yaml beside the
 * installed lists (DATADIR).
 */
static void shipped_consent_rules(char *out, size_t size)
{
	char dir[LISTS_PATH_MAX];
	snprintf(dir, sizeof dir, "%s", lists_data_dir());
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	size_t len = strlen(dir);
	const char *tree = "/blocklists";
	if (len >= strlen(tree) && strcmp(dir + len - strlen(tree), tree) == 0) {
		dir[len - strlen(tree)] = '\0';
		snprintf(out, size, "%s/etc/consent-signals.yaml", dir);
	} else {
		snprintf(out, size, "%s/consent-signals.yaml", dir);
	}
}

static void stop_capture(void);
static void *hash_files(void *context);

/* The capture reads none of these files (any more): see sharedfile_capture_done(). */
static void shared_done(struct sharedfile *const *shared, size_t count)
{
	for (size_t i = 0; i < count; i++)
		if (shared[i])
			sharedfile_capture_done(shared[i]);
}

/*
 * Whether what a run used is freed piece by piece before the process ends:
 * only in a build with a leak checker (AddressSanitizer, as the tests run),
 * which then shows that all of it can be. Otherwise the process's end gives
 * it back at once; freeing the flows, lists, tables and nDPI's engine one by
 * one (some 40 MB after a file run) made the run's end ~5 ms longer.
 * Files and sockets are closed, and secrets wiped, either way.
 */
#if defined(__SANITIZE_ADDRESS__)
#define FREE_AT_EXIT 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FREE_AT_EXIT 1
#endif
#endif
#ifndef FREE_AT_EXIT
#define FREE_AT_EXIT 0
#endif

static void *lists_main(void *context)
{
	struct run *run = context;
	run->lists_built = lists_build(&run->lists, -1, &run->lists_error);
	run->lists_cpu_s = thread_cpu_s();
	return NULL;
}

/*
 * A file run's lists begin to load as soon as their configuration is
 * known, beside the rest of the start (the key, the consent rules, the
 * database); the writer thread takes them (lists_join()).
 */
static void lists_start(struct run *run)
{
	run->lists_loading = thread_start_quiet(&run->lists_thread, lists_main, run);
}

/* The lists lists_start() built, or NULL (the reason in *error); the thread is joined. */
static struct matcher *lists_join(struct run *run, struct list_load_error *error)
{
	if (!run->lists_loading)
		return NULL;
	pthread_join(run->lists_thread, NULL);
	run->lists_loading = 0;
	*error = run->lists_error;
	struct matcher *m = run->lists_built;
	run->lists_built = NULL;
	return m;
}

/* A run that ends before its writer took the lists: they are waited for and let go. */
static void lists_abandon(struct run *run)
{
	struct list_load_error ignored;
	matcher_free(lists_join(run, &ignored));
}

/* The writer thread's start with a store: the lists (when not built yet), then the run's row. */
static int store_start(struct run *run)
{
	if (!run->matcher) {
		struct list_load_error error;
		run->matcher = run->lists_loading ? lists_join(run, &error)
						  : lists_build(&run->lists, -1, &error);
		if (!run->matcher) {
			if (error.line)
				fprintf(stderr, "%s: %s:%u: %s\n", program, error.file, error.line,
					error.reason);
			else
				fprintf(stderr, "%s: %s: %s\n", program, error.file, error.reason);
			return -1;
		}
	}
	timeline_set_matcher(run->timeline, run->matcher);
	char *evidence = lists_evidence(run->matcher);
	run->begin.lists_json = evidence;
	char error[STORE_ERROR_MAX];
	int rc = store_run_begin(run->store, &run->begin, error, sizeof error);
	run->begin.lists_json = NULL;
	free(evidence);
	if (rc != 0)
		fprintf(stderr, "%s: %s\n", program, error);
	return rc;
}

static int sink(void *context, const struct observation *obs)
{
	struct run *run = context;
	if (!run->writer && !timeline_wants(obs))
		return 0; /* the store alone keeps no such row: not worth the queue */
	size_t size = observation_packed_size(obs);
	void *slot = queue_push_reserve(run->queue, size, run->wait_when_full);
	if (!slot)
		return -1; /* counted by the queue */
	observation_pack(obs, slot);
	queue_push_commit(run->queue);
	return 0;
}

static uint64_t wall_clock_us(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (uint64_t)tv.tv_sec * 1000000 + (uint64_t)tv.tv_usec;
}

/* A configuration the capture thread or the writer is done with (the first is main's own). */
static struct daemon_config *initial_config;
static void retire_config(struct daemon_config *config)
{
	if (config && config != initial_config) {
		config_free(config);
		free(config);
	}
}

/* The writer's side of the mailbox: new lists and names, consent marks. */
static void writer_take_mail(struct run *run)
{
	static struct pending_mark marks[MAILBOX_MARKS];
	pthread_mutex_lock(&run->mail.lock);
	struct matcher *matcher = run->mail.matcher;
	struct daemon_config *config = run->mail.config;
	size_t count = run->mail.mark_count;
	memcpy(marks, run->mail.marks, count * sizeof *marks);
	run->mail.matcher = NULL;
	run->mail.config = NULL;
	run->mail.mark_count = 0;
	atomic_store(&run->mail.pending, 0);
	pthread_mutex_unlock(&run->mail.lock);
	if (matcher) {
		timeline_set_matcher(run->timeline, matcher);
		matcher_free(run->matcher);
		run->matcher = matcher;
	}
	if (config) {
		timeline_set_config(run->timeline, config);
		retire_config(run->writer_config);
		run->writer_config = config;
	}
	for (size_t i = 0; i < count && run->store && !run->store_failed; i++) {
		if (store_add_consent_mark(run->store, marks[i].at_us, marks[i].device, marks[i].site,
					   marks[i].decision, marks[i].created_us) != 0) {
			log_error("%s", store_error(run->store));
			run->store_failed = 1;
			stop_capture();
		}
	}
}

static void *writer_main(void *context)
{
	struct run *run = context;
	size_t size;
	void *entry;
	pthread_setname_np(pthread_self(), "tw-writer");
	if (run->store && store_start(run) != 0) {
		run->store_failed = 1;
		stop_capture();
	}
	uint64_t entries = 0;
	for (;;) {
		int timed_out = 0;
		if (atomic_load_explicit(&run->mail.pending, memory_order_acquire))
			writer_take_mail(run);
		/* Quiet traffic still commits its batch in time, and retention runs. */
		entry = queue_pop_timed(run->queue, &size, run->store ? 200 : -1, &timed_out);
		if (!entry && !timed_out) {
			/* The end: what the capture thread posted last (a consent mark) is kept too. */
			if (atomic_load_explicit(&run->mail.pending, memory_order_acquire))
				writer_take_mail(run);
			break;
		}
		if (run->store && (timed_out || (++entries & 1023) == 0)) {
			const struct store_stats *ss = store_stats(run->store);
			atomic_store_explicit(&run->stored_rows, ss->rows, memory_order_relaxed);
			atomic_store_explicit(&run->stored_hits, ss->hits, memory_order_relaxed);
		}
		if (entry) {
			const struct observation *obs = observation_unpack(entry);
			if (run->writer && !run->write_failed && observation_write(run->writer, obs) != 0) {
				run->write_errno = errno;
				run->write_failed = 1;
			}
			if (run->store && !run->store_failed && timeline_observe(run->timeline, obs) != 0) {
				fprintf(stderr, "%s: %s\n", program, store_error(run->store));
				run->store_failed = 1;
				stop_capture();
			}
			queue_pop_release(run->queue);
		} else if (run->store && !run->store_failed &&
			   (store_commit(run->store, 0) != 0 ||
			    store_retain(run->store, wall_clock_us(), 0) != 0)) {
			fprintf(stderr, "%s: %s\n", program, store_error(run->store));
			run->store_failed = 1;
			stop_capture();
		}
	}
	run->writer_cpu_s = thread_cpu_s();
	return NULL;
}

static struct capture *volatile current_capture;

/*
 * Set by the writer thread when the store fails: the capture thread stops
 * its own capture when it sees it (the writer never touches the capture,
 * which the capture thread may be closing).
 */
static atomic_int writer_stop;

static void stats_if_asked(struct run *run);

static void on_frame(void *context, int dlt, uint64_t ts_us, const uint8_t *frame,
		     size_t caplen, size_t wirelen)
{
	struct run *run = context;
	if (atomic_load_explicit(&writer_stop, memory_order_relaxed) && current_capture)
		capture_stop(current_capture);
	pipeline_packet(run->pipeline, dlt, ts_us, frame, caplen, wirelen);
	if ((++run->frames & 4095) == 0) {
		stats_if_asked(run);
		if (run->progress.out && current_capture)
			progress_update(&run->progress,
					run->files_done_bytes + capture_position(current_capture),
					run->frames);
	}
}

static void on_signal(int sig)
{
	(void)sig;
	struct capture *capture = current_capture;
	if (capture)
		capture_stop(capture);
}

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t stats_requested; /* SIGUSR1 */

static void on_usr1(int sig)
{
	(void)sig;
	stats_requested = 1;
}

static void print_stats(const struct pipeline *pipeline);

/* SIGUSR1 while files are read: the statistics so far, as at the end, and carry on. */
static void stats_if_asked(struct run *run)
{
	if (!stats_requested)
		return;
	stats_requested = 0;
	progress_end(&run->progress);
	print_stats(run->pipeline);
}

static void on_signal_between(int sig)
{
	stop_requested = 1;
	on_signal(sig);
}

/* The writer thread stops the run on a store error. */
static void stop_capture(void)
{
	atomic_store(&writer_stop, 1);
}

static void *hash_files(void *context)
{
	struct file_hash *h = context;
	double cpu_start = thread_cpu_s();
	pthread_setname_np(pthread_self(), "tw-hash");
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char digest[32];
	unsigned len = 0;
	unsigned char *buf = malloc(HASH_CHUNK);
	int ok = md && buf && EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	h->bytes = 0;
	for (size_t i = 0; ok && i < h->count; i++) {
		if (h->shared && h->shared[i]) {
			ok = sharedfile_digest(h->shared[i], md) == 0;
			h->bytes += (int64_t)sharedfile_size(h->shared[i]);
			continue;
		}
		int fd = open(h->files[i], O_RDONLY | O_CLOEXEC);
		ok = fd >= 0;
		if (ok)
			posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
		ssize_t n;
		while (ok && (n = read(fd, buf, HASH_CHUNK)) != 0) {
			if (n < 0) {
				ok = errno == EINTR;
				continue;
			}
			ok = EVP_DigestUpdate(md, buf, (size_t)n);
			h->bytes += n;
		}
		if (fd >= 0)
			close(fd);
	}
	ok = ok && EVP_DigestFinal_ex(md, digest, &len);
	for (unsigned i = 0; ok && i < len; i++)
		snprintf(h->hex + 2 * i, 3, "%02x", digest[i]);
	h->ok = ok;
	EVP_MD_CTX_free(md);
	free(buf);
	h->cpu_s = thread_cpu_s() - cpu_start;
	return NULL;
}

/* Where print_stats() writes: standard error, or a buffer that goes to the log. */
static FILE *stats_out;

static void print_counts(const char *title, const uint64_t *counts, int first, int last,
			 const char *(*name)(int))
{
	int any = 0;
	fprintf(stats_out, "%s: %s:", program, title);
	for (int i = first; i < last; i++) {
		if (!counts[i])
			continue;
		fprintf(stats_out, "%s %s %" PRIu64, any ? "," : "", name(i), counts[i]);
		any = 1;
	}
	fprintf(stats_out, "%s\n", any ? "" : " none");
}

static const char *decode_name(int i)
{
	return decode_result_name((enum decode_result)i);
}

static const char *dns_error_text(int i)
{
	return dns_error_name((enum dns_error)-i);
}

static const char *tls_end_text(int i)
{
	return i == TLS_MORE ? "unfinished" : tls_end_name((enum tls_end)i);
}

static const char *quic_end_text(int i)
{
	return i == QUIC_MORE ? "unfinished" : quic_end_name((enum quic_end)i);
}

static const char *http_end_text(int i)
{
	return http1_end_name((enum http1_end)i);
}

static const char *tlsdec_end_text(int i)
{
	/* The flow ended while decryption was still reading: "open", not "more". */
	return i == TLSDEC_MORE ? "open" : tlsdec_end_name((enum tlsdec_end)i);
}

static const char *http2_end_text(int i)
{
	return http2_end_name((enum http2_end)i);
}

static const char *kind_name(int i)
{
	return observation_kind_name((enum observation_kind)i);
}

static void print_stats(const struct pipeline *pipeline)
{
	const struct pipeline_stats *s = pipeline_stats(pipeline);
	const struct flow_table_stats *f = pipeline_flow_stats(pipeline);
	fprintf(stats_out, "%s: packets %" PRIu64 ", bytes %" PRIu64 "\n", program, s->packets,
		s->bytes);
	fprintf(stats_out,
		"%s: flows %" PRIu64 " (peak %zu at once; ended: idle %" PRIu64 ", closed %" PRIu64
		", evicted %" PRIu64 ", at end %" PRIu64 ")\n",
		program, f->created, f->peak_active, f->expired, f->closed, f->evicted, f->flushed);
	fprintf(stats_out, "%s: nDPI: %" PRIu64 " flows, %" PRIu64 " packets, %" PRIu64
		" flows given up unfinished\n", program, s->dpi_flows, s->dpi_packets, s->dpi_giveups);
	fprintf(stats_out, "%s: nDPI: %" PRIu64 " flows taken over by our own readers\n", program,
		s->dpi_handovers);
	const struct tcp_reassembly_stats *r = pipeline_reassembly_stats(pipeline);
	fprintf(stats_out, "%s: TCP streams: %" PRIu64 " bytes in order, %" PRIu64
		" retransmitted, %" PRIu64 " segments out of order, %" PRIu64 " gaps (%" PRIu64
		" bytes), bound reached %" PRIu64 ", dropped %" PRIu64 ", implausible %" PRIu64
		"\n", program, r->delivered, r->retransmitted, r->out_of_order, r->gaps, r->gap_bytes,
		r->pending_full, r->dropped, r->implausible);
	fprintf(stats_out, "%s: stream readers given up for memory: %" PRIu64 "\n", program,
		s->reader_memory_full);
	fprintf(stats_out, "%s: DNS messages %" PRIu64 " (questions past 32 dropped: %" PRIu64 ")\n",
		program, s->dns_messages, s->dns_questions_dropped);
	const struct dns_cache_stats *c = pipeline_dns_cache_stats(pipeline);
	fprintf(stats_out, "%s: resolved names: %" PRIu64 " addresses learnt, %" PRIu64
		" looked up (%" PRIu64 " found), %" PRIu64 " replaced for room\n", program, c->puts,
		c->hits + c->misses, c->hits, c->replaced);
	print_counts("DNS errors", s->dns_errors, 1, 8, dns_error_text);
	print_counts("TLS client streams", s->tls_ends, 0, 16, tls_end_text);
	print_counts("TLS server streams", s->tls_server_ends, 0, 16, tls_end_text);
	print_counts("QUIC client flows", s->quic_ends, 0, 16, quic_end_text);
	print_counts("HTTP/1 client streams ended", s->http_ends, 1, 16, http_end_text);
	print_counts("HTTP/1 server streams ended", s->http_response_ends, 1, 16, http_end_text);
	fprintf(stats_out, "%s: HTTP/1 streams read again at a later message: %" PRIu64 "\n", program,
		s->http_resyncs);
	print_counts("malformed", s->decode, DECODE_MALFORMED_FIRST, DECODE_RESULT_COUNT,
		     decode_name);
	print_counts("skipped", s->decode, DECODE_OK + 1, DECODE_MALFORMED_FIRST, decode_name);
	fprintf(stats_out, "%s: cookies: %" PRIu64 " malformed parts, %" PRIu64 " past %d in a request,"
		" %" PRIu64 " Set-Cookie headers a browser ignores, %" PRIu64 " Cookie or Set-Cookie"
		" headers past %d in a message\n", program, s->cookies_malformed, s->cookies_dropped,
		PIPELINE_COOKIES_MAX, s->set_cookies_ignored, s->cookie_headers_dropped,
		HTTP1_MAX_COOKIES);
	fprintf(stats_out, "%s: HTTP/1 header fields past %d in a message, not read: %" PRIu64 "\n",
		program, HTTP1_MAX_HEADERS, s->header_fields_dropped);
	const struct decrypt_stats *t = pipeline_decrypt_stats(pipeline);
	if (t->connections) {
		fprintf(stats_out, "%s: TLS decryption: %" PRIu64 " connections, %" PRIu64 " decrypted (%"
			PRIu64 " bytes; HTTP/1 %" PRIu64 ", HTTP/2 %" PRIu64 ", %" PRIu64 " messages)\n",
			program, t->connections, t->decrypted, t->bytes, t->http1, t->http2, t->messages);
		print_counts("TLS decryption ended", t->ends, 0, TLSDEC_END_COUNT, tlsdec_end_text);
		print_counts("HTTP/2 connections ended", t->http2_ends, 1, HTTP2_END_COUNT, http2_end_text);
	}
	print_counts("observations", s->observations, 0, OBS_KIND_COUNT, kind_name);
	if (s->out_of_memory)
		fprintf(stats_out, "%s: packets dropped for lack of memory: %" PRIu64 "\n", program,
			s->out_of_memory);
}

/* The lists of the configuration (or the defaults); 0, or -1 with the error printed. */
static int load_list_set(struct list_set *set, const char *config_path)
{
	char lerr[512];
	if (config_path ? lists_load_config(set, config_path, lerr, sizeof lerr) != 0
			: lists_default(set) != 0) {
		fprintf(stderr, "%s: %s\n", program, config_path ? lerr : "out of memory");
		return -1;
	}
	return 0;
}

/*
 * -n: everything a run would load before capture, loaded and let go: the
 * lists (each file parsed), the consent rules, the identifier key. The
 * interface is not opened and the database not touched.
 */
static int check_config(const struct daemon_config *dconfig, const char *config_path)
{
	const char *what = config_path ? config_path : "the built-in defaults";
	struct list_set set;
	memset(&set, 0, sizeof set);
	if (load_list_set(&set, config_path) != 0)
		return EXIT_RUNTIME;
	struct list_load_error lerror;
	struct matcher *m = lists_build(&set, -1, &lerror);
	int lists = set.count;
	lists_free(&set);
	if (!m) {
		if (lerror.line)
			fprintf(stderr, "%s: %s:%u: %s\n", program, lerror.file, lerror.line, lerror.reason);
		else
			fprintf(stderr, "%s: %s: %s\n", program, lerror.file, lerror.reason);
		return EXIT_RUNTIME;
	}
	matcher_free(m);
	char rules_path[LISTS_PATH_MAX + 32], rerr[CONSENT_ERROR_MAX];
	if (dconfig->consent_rules)
		snprintf(rules_path, sizeof rules_path, "%s", dconfig->consent_rules);
	else
		shipped_consent_rules(rules_path, sizeof rules_path);
	struct consent_rules *rules = consent_rules_load(rules_path, rerr, sizeof rerr);
	if (!rules && dconfig->consent_rules) {
		fprintf(stderr, "%s: %s\n", program, rerr);
		return EXIT_RUNTIME;
	}
	if (!rules)
		fprintf(stderr, "%s: warning: no consent rules, consent signals would not be read: %s\n",
			program, rerr);
	size_t rule_count = rules ? consent_rules_count(rules) : 0;
	consent_rules_free(rules);
	if (dconfig->identifier_key) {
		struct ident_key key;
		char kerr[512];
		if (ident_key_load(&key, dconfig->identifier_key, kerr, sizeof kerr) != 0) {
			fprintf(stderr, "%s: %s\n", program, kerr);
			return EXIT_RUNTIME;
		}
		ident_key_free(&key);
	}
	char names[1024];
	config_list_join(&dconfig->interfaces, names, sizeof names);
	printf("%s: %s: configuration OK (%d list%s, %zu consent rule%s%s%s)\n", program, what, lists,
	       lists == 1 ? "" : "s", rule_count, rule_count == 1 ? "" : "s",
	       names[0] ? dconfig->interfaces.count > 1 ? "; interfaces not opened: "
							 : "; interface not opened: " : "",
	       names);
	return fflush(stdout) == 0 && !ferror(stdout) ? EXIT_OK : EXIT_RUNTIME;
}

/* --dump-config: the table's settings with their values, and the lists in use. */
static int dump_config(const struct daemon_config *dconfig, const char *config_path)
{
	struct list_set set;
	memset(&set, 0, sizeof set);
	if (load_list_set(&set, config_path) != 0)
		return EXIT_RUNTIME;
	config_dump(dconfig, stdout, dump_lists, &set);
	lists_free(&set);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "%s: cannot write to standard output: %s\n", program, strerror(errno));
		return EXIT_RUNTIME;
	}
	return EXIT_OK;
}

/* ---- Live capture: the loop, reload, the control socket ---- */

static volatile sig_atomic_t reload_requested; /* SIGHUP */

static void on_hup(int sig)
{
	(void)sig;
	reload_requested = 1;
}

/* The statistics, as at the end: to standard error, or line by line to the log. */
static void emit_stats(struct run *run)
{
	if (log_to_stderr()) {
		stats_out = stderr;
		print_stats(run->pipeline);
	} else {
		char *text = NULL;
		size_t len = 0;
		stats_out = open_memstream(&text, &len);
		if (stats_out) {
			print_stats(run->pipeline);
			fclose(stats_out);
			size_t skip = strlen(program) + 2;
			for (char *line = text, *next; line && *line; line = next) {
				next = strchr(line, '\n');
				if (next)
					*next++ = '\0';
				log_notice("%s", strncmp(line, program, skip - 2) == 0 ? line + skip : line);
			}
		}
		free(text);
		stats_out = stderr;
	}
	for (size_t i = 0; i < run->live.count; i++) {
		uint64_t received, dropped, if_dropped;
		live_counters(&run->live, i, &received, &dropped, &if_dropped);
		log_notice("%s: received by filter %" PRIu64 ", dropped by kernel %" PRIu64
			   ", dropped by interface %" PRIu64 "%s", run->live.sources[i].name, received,
			   dropped, if_dropped, run->live.sources[i].capture ? "" : " (not capturing now)");
	}
	if (queue_dropped(run->queue))
		log_notice("observations dropped, the writer too slow: %" PRIu64, queue_dropped(run->queue));
}

static void apply_overrides(struct daemon_config *c, const struct overrides *o, int *oom)
{
	if (o->max_flows)
		c->max_flows = o->max_flows;
	if (o->tcp_timeout)
		c->tcp_timeout = o->tcp_timeout;
	if (o->udp_timeout)
		c->udp_timeout = o->udp_timeout;
	if (o->keep_identifiers)
		c->keep_identifiers = true;
	if ((o->keep_identifiers && override_text(&c->identifier_key, NULL) != 0) ||
	    (o->key_file && override_text(&c->identifier_key, o->key_file) != 0) ||
	    (o->filter && override_text(&c->filter, o->filter) != 0))
		*oom = 1;
	if (o->key_file)
		c->keep_identifiers = false;
	if (o->interfaces.count) {
		config_list_clear(&c->interfaces);
		for (size_t i = 0; i < o->interfaces.count; i++)
			if (config_list_add(&c->interfaces, o->interfaces.items[i]) != 0)
				*oom = 1;
	}
	if (o->keylogs.count) {
		config_list_clear(&c->keylogs);
		for (size_t i = 0; i < o->keylogs.count; i++)
			if (config_list_add(&c->keylogs, o->keylogs.items[i]) != 0)
				*oom = 1;
	}
}

/* The consent rules a configuration names (or the shipped ones); NULL with why in err. */
static struct consent_rules *load_rules(const struct daemon_config *c, char *err, size_t err_len,
					int *required)
{
	char path[LISTS_PATH_MAX + 32];
	if (c->consent_rules)
		snprintf(path, sizeof path, "%s", c->consent_rules);
	else
		shipped_consent_rules(path, sizeof path);
	*required = c->consent_rules != NULL;
	return consent_rules_load(path, err, err_len);
}

static int text_differs(const char *a, const char *b)
{
	return (a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0);
}

/*
 * SIGHUP or `trackwatch reload`: the configuration file, its lists and
 * consent rules, read beside the running ones and put in use together, or
 * not at all: a file that does not load leaves everything as it was. Device
 * names, lists, consent rules and the log level change now; what was opened
 * at start (interfaces, filter, database, socket, user, key, limits) waits
 * for a restart, and the log says so.
 */
static int reload(struct run *run, char *why, size_t why_len)
{
	struct daemon_config *mine = calloc(1, sizeof *mine), *writers = calloc(1, sizeof *writers);
	struct list_set set;
	memset(&set, 0, sizeof set);
	struct matcher *matcher = NULL;
	struct consent_rules *rules = NULL;
	int rc = -1, oom = !mine || !writers;
	if (oom)
		goto done;
	config_defaults(mine);
	config_defaults(writers);
	if (run->config_path) {
		/* Read twice, one for each thread; both must be the same bytes. */
		if (config_load(mine, run->config_path, why, why_len) != 0 ||
		    config_load(writers, run->config_path, why, why_len) != 0)
			goto done;
		if (strcmp(mine->sha256, writers->sha256) != 0) {
			snprintf(why, why_len, "%s: changed while it was read; try again", run->config_path);
			goto done;
		}
	}
	apply_overrides(mine, run->overrides, &oom);
	apply_overrides(writers, run->overrides, &oom);
	if (oom)
		goto done;
	char lerr[512];
	if (run->config_path ? lists_load_config(&set, run->config_path, lerr, sizeof lerr) != 0
			     : lists_default(&set) != 0) {
		snprintf(why, why_len, "%s", run->config_path ? lerr : "out of memory");
		goto done;
	}
	struct list_load_error lerror;
	matcher = lists_build(&set, -1, &lerror);
	if (!matcher) {
		if (lerror.line)
			snprintf(why, why_len, "%.700s:%u: %.250s", lerror.file, lerror.line, lerror.reason);
		else
			snprintf(why, why_len, "%.700s: %.250s", lerror.file, lerror.reason);
		goto done;
	}
	int required;
	char rerr[CONSENT_ERROR_MAX];
	rules = load_rules(mine, rerr, sizeof rerr, &required);
	if (!rules && required) {
		snprintf(why, why_len, "%s", rerr);
		goto done;
	}
	/*
	 * The shipped rules that loaded at start but not now (the daemon's user
	 * cannot read them where they are) are kept: a reload must not quietly
	 * stop the reading of consent signals.
	 */
	int keep_rules = !rules && run->rules;
	if (keep_rules)
		log_warning("reload: the shipped consent rules did not load (%s); the rules in use stay",
			    rerr);
	else if (!rules)
		log_warning("reload: no consent rules, consent signals are not read: %s", rerr);
	char *evidence = lists_evidence(matcher);

	/* All loaded: put in use. */
	const struct daemon_config *old = run->config;
	static const char *const restart_keys[] = { "capture.interface", "capture.filter",
		"flows", "identifiers", "store", "control", "daemon.user", "tls.keylog" };
	int changed[8] = {
		!config_list_equal(&old->interfaces, &mine->interfaces),
		text_differs(old->filter, mine->filter),
		old->max_flows != mine->max_flows || old->tcp_timeout != mine->tcp_timeout ||
			old->udp_timeout != mine->udp_timeout,
		old->keep_identifiers != mine->keep_identifiers ||
			text_differs(old->identifier_key, mine->identifier_key),
		text_differs(old->db_path, mine->db_path) || old->store.max_days != mine->store.max_days ||
			old->store.batch_rows != mine->store.batch_rows ||
			old->store.batch_ms != mine->store.batch_ms || old->queue_mb != mine->queue_mb,
		text_differs(old->control_socket, mine->control_socket) ||
			text_differs(old->control_group, mine->control_group),
		text_differs(old->user, mine->user),
		!config_list_equal(&old->keylogs, &mine->keylogs),
	};
	for (int i = 0; i < 8; i++)
		if (changed[i])
			log_warning("reload: %s changed in %s; that takes effect when trackwatchd restarts",
				    restart_keys[i], run->config_path);
	if (!keep_rules) {
		pipeline_set_consent_rules(run->pipeline, rules);
		consent_rules_free(run->rules);
		run->rules = rules;
		rules = NULL;
	}
	if (!run->debug)
		log_set_level(mine->log_level);
	/* Lists and names are the timeline's: without a database there is none to give them to. */
	if (run->timeline) {
		pthread_mutex_lock(&run->mail.lock);
		matcher_free(run->mail.matcher);  /* a reload the writer had not taken yet */
		retire_config(run->mail.config);
		run->mail.matcher = matcher;
		run->mail.config = writers;
		atomic_store_explicit(&run->mail.pending, 1, memory_order_release);
		pthread_mutex_unlock(&run->mail.lock);
		matcher = NULL;
		writers = NULL;
	}
	retire_config(run->config);
	run->config = mine;
	mine = NULL;
	free(run->lists_json);
	run->lists_json = evidence;
	run->reloads++;
	log_notice("reloaded %s: %d list%s, %zu consent rule%s", run->config_path ?
		   run->config_path : "the built-in defaults", set.count, set.count == 1 ? "" : "s",
		   run->rules ? consent_rules_count(run->rules) : 0,
		   run->rules && consent_rules_count(run->rules) == 1 ? "" : "s");
	rc = 0;
done:
	if (oom)
		snprintf(why, why_len, "%s", "out of memory");
	lists_free(&set);
	matcher_free(matcher);
	consent_rules_free(rules);
	retire_config(mine);
	retire_config(writers);
	return rc;
}

static void reload_and_log(struct run *run, char *why, size_t why_len)
{
	if (reload(run, why, why_len) != 0)
		log_error("reload failed, the running configuration stays: %s", why);
}

/* The key logs followed and the decryption so far (never a secret). */
static json_t *tls_status(struct run *run)
{
	json_t *files = json_array();
	for (size_t i = 0; files && i < run->follow_count; i++)
		json_array_append_new(files, json_string(keylog_follow_path(run->follows[i])));
	const struct decrypt_stats *t = pipeline_decrypt_stats(run->pipeline);
	const struct keylog_stats *k = run->keylog ? keylog_stats(run->keylog) : NULL;
	return json_pack("{s:o, s:I, s:I, s:I, s:I, s:I}", "keylogs", files ? files : json_array(),
			 "secrets", (json_int_t)(k ? k->secrets : 0),
			 "bad_lines", (json_int_t)(k ? k->bad : 0),
			 "connections", (json_int_t)t->connections,
			 "decrypted", (json_int_t)t->decrypted,
			 "messages", (json_int_t)t->messages);
}

/* Seconds, with milliseconds, as status writes times. */
static json_t *status_json(struct run *run)
{
	const struct pipeline_stats *ps = pipeline_stats(run->pipeline);
	const struct flow_table_stats *fs = pipeline_flow_stats(run->pipeline);
	uint64_t now = wall_clock_us(), observations = 0;
	for (int i = 0; i < OBS_KIND_COUNT; i++)
		observations += ps->observations[i];
	json_t *interfaces = json_array();
	uint64_t drops = 0;
	for (size_t i = 0; interfaces && i < run->live.count; i++) {
		const struct live_source *src = &run->live.sources[i];
		uint64_t received, dropped, if_dropped;
		live_counters(&run->live, i, &received, &dropped, &if_dropped);
		drops += dropped + if_dropped;
		json_array_append_new(interfaces,
			json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:s?}", "name", src->name, "state",
				  src->capture ? "capturing" : "retrying", "frames", (json_int_t)src->frames,
				  "received", (json_int_t)received, "dropped", (json_int_t)dropped,
				  "if_dropped", (json_int_t)if_dropped, "error",
				  src->error[0] ? src->error : NULL));
	}
	json_error_t jerr;
	json_t *lists = run->lists_json ? json_loads(run->lists_json, 0, &jerr) : NULL;
	struct passwd *pw = getpwuid(geteuid());
	return json_pack("{s:b, s:s, s:i, s:s?, s:I, s:I, s:s?, s:s?, s:i, s:o, s:I, s:I, s:I, s:I,"
			 " s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:s, s:o}",
			 "ok", 1, "version", TRACKWATCH_VERSION, "pid", (int)getpid(),
			 "user", pw ? pw->pw_name : NULL,
			 "uptime_s", (json_int_t)((now - run->started_us) / 1000000),
			 "started_us", (json_int_t)run->started_us,
			 "config", run->config_path, "database", run->store ? run->db_path : NULL,
			 "reloads", (int)run->reloads,
			 "interfaces", interfaces ? interfaces : json_array(),
			 "packets", (json_int_t)ps->packets, "bytes", (json_int_t)ps->bytes,
			 "drops", (json_int_t)drops,
			 "flows", (json_int_t)fs->active, "flows_total", (json_int_t)fs->created,
			 "observations", (json_int_t)observations,
			 "rows", (json_int_t)atomic_load(&run->stored_rows),
			 "hits", (json_int_t)atomic_load(&run->stored_hits),
			 "queue_depth", (json_int_t)queue_used(run->queue),
			 "queue_dropped", (json_int_t)queue_dropped(run->queue),
			 "lists", lists ? lists : json_array(),
			 "log_level", config_log_levels[log_level()],
			 "tls", tls_status(run));
}

static char *error_answer(const char *reason)
{
	json_t *o = json_pack("{s:b, s:s}", "ok", 0, "error", reason);
	char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return text;
}

/* The control socket's requests, on the capture thread. */
static char *control_request(void *context, const struct control_request *request)
{
	struct run *run = context;
	char why[1024];
	json_t *answer = NULL;
	switch (request->command) {
	case CONTROL_STATUS:
		answer = status_json(run);
		break;
	case CONTROL_RELOAD:
		log_notice("reload asked on the control socket");
		if (reload(run, why, sizeof why) != 0) {
			log_error("reload failed, the running configuration stays: %s", why);
			return error_answer(why);
		}
		answer = json_pack("{s:b, s:i}", "ok", 1, "reloads", (int)run->reloads);
		break;
	case CONTROL_CONSENT_MARK: {
		if (!run->store)
			return error_answer("this daemon writes no database");
		if (run->store_failed)
			return error_answer("the daemon's database failed: the mark cannot be written");
		int64_t now = (int64_t)wall_clock_us();
		pthread_mutex_lock(&run->mail.lock);
		int full = run->mail.mark_count == MAILBOX_MARKS;
		if (!full) {
			struct pending_mark *m = &run->mail.marks[run->mail.mark_count++];
			m->at_us = request->at_us >= 0 ? request->at_us : now;
			m->created_us = now;
			snprintf(m->decision, sizeof m->decision, "%s", request->decision);
			snprintf(m->device, sizeof m->device, "%s", request->device);
			snprintf(m->site, sizeof m->site, "%s", request->site);
			atomic_store_explicit(&run->mail.pending, 1, memory_order_release);
		}
		pthread_mutex_unlock(&run->mail.lock);
		if (full)
			return error_answer("busy: too many marks waiting to be written; try again");
		int64_t at = request->at_us >= 0 ? request->at_us : now;
		log_notice("consent mark: %s for %s%s%s at %" PRId64 ".%06" PRId64, request->decision,
			   request->device, request->site[0] ? " on " : "", request->site,
			   at / 1000000, at % 1000000);
		answer = json_pack("{s:b, s:I, s:s}", "ok", 1, "at_us", (json_int_t)at, "database",
				   run->db_path);
		break;
	}
	}
	char *text = answer ? json_dumps(answer, JSON_COMPACT) : NULL;
	json_decref(answer);
	return text;
}

/*
 * The key logs: read whole for a file run (a missing one is an error), or
 * followed from now on (one not there yet is waited for); then the secrets
 * in pcapng files' Decryption Secrets Blocks. 0, or -1 with the error logged.
 */
static int load_keys(struct run *run, const struct daemon_config *c, int live_run,
		     const char *const *files, size_t file_count)
{
	char error[KEYLOG_ERROR_MAX];
	run->keylog = keylog_new();
	if (!run->keylog) {
		log_error("out of memory");
		return -1;
	}
	for (size_t i = 0; i < c->keylogs.count; i++) {
		const char *path = c->keylogs.items[i];
		if (live_run) {
			if (!(run->follows[run->follow_count] = keylog_follow_new(path))) {
				log_error("out of memory");
				return -1;
			}
			run->follow_count++;
		} else if (keylog_read_file(run->keylog, path, error, sizeof error) != 0) {
			log_error("%s", error);
			return -1;
		}
	}
	for (size_t i = 0; i < file_count; i++) {
		if (strcmp(files[i], "-") == 0)
			continue;
		/* A file that is not pcapng has none; one that breaks is reported again by capture. */
		if (keylog_read_pcapng_secrets(run->keylog, files[i], error, sizeof error) < 0)
			log_warning("no secrets read from it: %s", error);
	}
	const struct keylog_stats *ks = keylog_stats(run->keylog);
	if (ks->bad)
		log_warning("key logs: %" PRIu64 " lines that do not parse, the first: %s", ks->bad,
			    ks->first_error);
	if (!run->follow_count && keylog_count(run->keylog) == 0) {
		keylog_free(run->keylog);
		run->keylog = NULL;
	} else {
		log_info("key logs: %zu connections' secrets%s", keylog_count(run->keylog),
			 run->follow_count ? ", followed for more" : "");
	}
	return 0;
}

/* Live: the key logs followed, at most every 100 ms; new secrets wake the connections waiting. */
static void poll_keys(struct run *run, uint64_t now)
{
	if (!run->follow_count || now < run->next_key_poll_us)
		return;
	run->next_key_poll_us = now + 100000;
	ssize_t added = 0;
	for (size_t i = 0; i < run->follow_count; i++) {
		char error[KEYLOG_ERROR_MAX];
		ssize_t n = keylog_follow_poll(run->follows[i], run->keylog, error, sizeof error);
		if (n < 0 && strcmp(error, run->key_error) != 0) {
			log_error("key log: %s", error);
			snprintf(run->key_error, sizeof run->key_error, "%s", error);
		}
		added += n > 0 ? n : 0;
	}
	if (added)
		pipeline_keys_added(run->pipeline);
}

static void on_live_frame(void *context, int dlt, uint64_t ts_us, const uint8_t *frame,
			  size_t caplen, size_t wirelen)
{
	struct run *run = context;
	pipeline_packet(run->pipeline, dlt, ts_us, frame, caplen, wirelen);
}

/*
 * The live loop, on the capture thread: one poll() over every interface and
 * the control socket. Signals are blocked but inside ppoll(), so that a
 * signal can only land while the loop waits, never in the middle of a packet.
 */
static int live_loop(struct run *run)
{
	sigset_t blocked, waiting;
	sigemptyset(&blocked);
	sigaddset(&blocked, SIGINT);
	sigaddset(&blocked, SIGTERM);
	sigaddset(&blocked, SIGHUP);
	sigaddset(&blocked, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &blocked, &waiting);
	sigdelset(&waiting, SIGINT);
	sigdelset(&waiting, SIGTERM);
	sigdelset(&waiting, SIGHUP);
	sigdelset(&waiting, SIGUSR1);
	struct pollfd fds[LIVE_SOURCES_MAX + 1 + CONTROL_CLIENTS_MAX];
	uint64_t next_idle = wall_clock_us() + 500000, next_retry = 0;
	int busy = 0;
	char why[1024];
	while (!stop_requested && !atomic_load(&writer_stop)) {
		uint64_t now = wall_clock_us();
		if (now >= next_retry) {
			live_open_due(&run->live, now);
			next_retry = live_next_retry(&run->live);
		}
		size_t n = live_pollfds(&run->live, fds);
		size_t c = run->control ? control_pollfds(run->control, fds + n) : 0;
		uint64_t wake = next_idle < next_retry ? next_idle : next_retry;
		uint64_t wait_us = busy ? 0 : wake > now ? wake - now : 0;
		struct timespec timeout = { (time_t)(wait_us / 1000000), (long)(wait_us % 1000000) * 1000 };
		int ready = ppoll(fds, n + c, &timeout, &waiting);
		if (ready < 0 && errno != EINTR) {
			log_error("poll: %s", strerror(errno));
			return -1;
		}
		now = wall_clock_us();
		poll_keys(run, now);
		if (reload_requested) {
			reload_requested = 0;
			log_notice("SIGHUP: reloading");
			reload_and_log(run, why, sizeof why);
		}
		if (stats_requested) {
			stats_requested = 0;
			emit_stats(run);
		}
		if (ready <= 0) {
			busy = 0;
		} else {
			/* A full batch from any interface: more is waiting, poll again without a wait. */
			size_t frames = live_dispatch(&run->live, fds, n, on_live_frame, run, now);
			busy = frames >= LIVE_BATCH;
			if (live_next_retry(&run->live) < next_retry)
				next_retry = live_next_retry(&run->live);
			if (run->control)
				control_service(run->control, fds + n, c, control_request, run);
		}
		/* A wall clock stepped back must not stop the idle work until it catches up. */
		if (now >= next_idle || next_idle > now + 1000000) {
			pipeline_tick(run->pipeline, now);
			live_sample(&run->live);
			next_idle = now + 500000;
		}
	}
	/* What the kernel took in before the stop is read, not lost. */
	size_t drained = live_drain(&run->live, on_live_frame, run);
	if (drained)
		log_info("read %zu packets the kernel held at the stop", drained);
	return 0;
}

int main(int argc, char **argv)
{
	enum { OPT_JSONL = 256, OPT_MAX_FLOWS, OPT_TCP_TIMEOUT, OPT_UDP_TIMEOUT, OPT_KEY_FILE,
	       OPT_KEEP_IDENTIFIERS, OPT_DB, OPT_FORCE, OPT_DUMP_CONFIG, OPT_DUMP_TLS };
	static const struct option options[] = {
		{ "read", required_argument, NULL, 'r' },
		{ "interface", required_argument, NULL, 'i' },
		{ "filter", required_argument, NULL, 'f' },
		{ "jsonl", required_argument, NULL, OPT_JSONL },
		{ "db", required_argument, NULL, OPT_DB },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'n' },
		{ "dump-config", no_argument, NULL, OPT_DUMP_CONFIG },
		{ "quiet", no_argument, NULL, 'q' },
		{ "max-flows", required_argument, NULL, OPT_MAX_FLOWS },
		{ "tcp-timeout", required_argument, NULL, OPT_TCP_TIMEOUT },
		{ "udp-timeout", required_argument, NULL, OPT_UDP_TIMEOUT },
		{ "identifier-key", required_argument, NULL, OPT_KEY_FILE },
		{ "keep-identifiers", no_argument, NULL, OPT_KEEP_IDENTIFIERS },
		{ "debug", no_argument, NULL, 'd' },
		{ "keylog", required_argument, NULL, 'k' },
		{ "dump-tls", required_argument, NULL, OPT_DUMP_TLS },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *files[MAX_FILES];
	size_t file_count = 0;
	const char *filter = NULL, *jsonl = NULL;
	const char *key_file = NULL, *db_path = NULL, *config_path = NULL;
	int quiet = 0, keep_identifiers = 0, force = 0, check = 0, dump = 0, debug = 0;
	/* Options that override the configuration file: 0 when not given. */
	static struct overrides over;
	struct pipeline_config config;
	pipeline_config_defaults(&config);

	/*
	 * SQLite keeps no count of its memory here (nothing reads it): each of
	 * its allocations then skips a global mutex and the count (3 % of the
	 * writer's instructions). Before SQLite is first used, as it must be.
	 */
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	int c;
	const char *dump_tls = NULL;
	while ((c = getopt_long(argc, argv, "r:i:f:c:k:ndqhV", options, NULL)) != -1) {
		unsigned long long n;
		switch (c) {
		case 'r':
			if (file_count == MAX_FILES)
				return usage_error("too many files (at most 1024 -r)%s", "");
			files[file_count++] = optarg;
			break;
		case 'i':
			if (over.interfaces.count == LIVE_SOURCES_MAX)
				return usage_error("too many interfaces (at most 64 -i)%s", "");
			for (size_t i = 0; i < over.interfaces.count; i++)
				if (strcmp(over.interfaces.items[i], optarg) == 0)
					return usage_error("-i %s is given twice", optarg);
			if (!*optarg || config_list_add(&over.interfaces, optarg) != 0)
				return usage_error("-i: '%s' is no interface name", optarg);
			break;
		case 'd':
			debug = 1;
			break;
		case 'k':
			if (over.keylogs.count == LIVE_SOURCES_MAX)
				return usage_error("too many key logs (at most 64 -k)%s", "");
			if (!*optarg || config_list_add(&over.keylogs, optarg) != 0)
				return usage_error("-k: '%s' is no file name", optarg);
			break;
		case OPT_DUMP_TLS:
			dump_tls = optarg;
			break;
		case 'f':
			filter = optarg;
			break;
		case OPT_JSONL:
			jsonl = optarg;
			break;
		case OPT_DB:
			db_path = optarg;
			break;
		case OPT_FORCE:
			force = 1;
			break;
		case 'c':
			config_path = optarg;
			break;
		case 'n':
			check = 1;
			break;
		case OPT_DUMP_CONFIG:
			dump = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		case OPT_MAX_FLOWS:
			if (parse_number(optarg, 1, 1ULL << 28, &n) != 0)
				return usage_error("--max-flows: '%s' is not a number from 1 to 268435456",
						   optarg);
			over.max_flows = (unsigned)n;
			break;
		case OPT_TCP_TIMEOUT:
		case OPT_UDP_TIMEOUT:
			if (parse_number(optarg, 1, 86400, &n) != 0)
				return usage_error("timeout: '%s' is not a number of seconds from 1 to 86400",
						   optarg);
			if (c == OPT_TCP_TIMEOUT)
				over.tcp_timeout = (unsigned)n;
			else
				over.udp_timeout = (unsigned)n;
			break;
		case OPT_KEY_FILE:
			key_file = optarg;
			break;
		case OPT_KEEP_IDENTIFIERS:
			keep_identifiers = 1;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'V':
			printf("trackwatchd %s\nnDPI %s\n%s\n", TRACKWATCH_VERSION, dpi_version(),
			       pcap_lib_version());
			return EXIT_OK;
		default:
			fprintf(stderr, "Try 'trackwatchd --help' for more information.\n");
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (file_count && over.interfaces.count)
		return usage_error("-r and -i cannot be used together%s", "");
	if (check && dump)
		return usage_error("-n and --dump-config cannot be used together%s", "");
	if (key_file && keep_identifiers)
		return usage_error("--identifier-key and --keep-identifiers cannot be used together%s",
				   "");
	if (filter && !filter_compiles(filter)) {
		fprintf(stderr, "Try 'trackwatchd --help' for more information.\n");
		return EXIT_USAGE;
	}

	int status = EXIT_OK;
	struct run run = { 0 };
	char error[CAPTURE_ERROR_MAX];

	/*
	 * The configuration: a file named with -c must exist; the default one
	 * is read when it does. Lists come from its `lists:` (or the defaults).
	 */
	static struct daemon_config dconfig;
	config_defaults(&dconfig);
	struct stat config_stat;
	if (!config_path && stat(DEFAULT_CONFIG, &config_stat) == 0)
		config_path = DEFAULT_CONFIG;
	if (config_path) {
		char cerr[512];
		if (config_load(&dconfig, config_path, cerr, sizeof cerr) != 0) {
			fprintf(stderr, "%s: %s\n", program, cerr);
			config_free(&dconfig);
			return EXIT_RUNTIME;
		}
	}
	/* The command line overrides the file. */
	over.filter = filter;
	over.key_file = key_file;
	over.keep_identifiers = keep_identifiers;
	int oom = 0;
	apply_overrides(&dconfig, &over, &oom);
	if (oom) {
		fprintf(stderr, "%s: out of memory\n", program);
		config_free(&dconfig);
		return EXIT_RUNTIME;
	}
	if (check || dump) {
		status = check ? check_config(&dconfig, config_path) : dump_config(&dconfig, config_path);
		config_free(&dconfig);
		return status;
	}
	initial_config = &dconfig;
	/* A file run reads its files; the configured interfaces are for live capture. */
	int live_run = file_count == 0 && dconfig.interfaces.count > 0;
	filter = dconfig.filter;
	keep_identifiers = dconfig.keep_identifiers;
	key_file = dconfig.identifier_key;
	config.flows.max_flows = dconfig.max_flows;
	config.flows.tcp_timeout_us = (uint64_t)dconfig.tcp_timeout * 1000000;
	config.flows.udp_timeout_us = (uint64_t)dconfig.udp_timeout * 1000000;
	if (!file_count && !live_run) {
		config_free(&dconfig);
		return usage_error("nothing to read: give -r FILE or -i INTERFACE%s", "");
	}
	/*
	 * Messages: a file run's go to standard error, for whoever started it;
	 * a live daemon's to syslog, unless standard error is a terminal or -d.
	 */
	log_open(program, !live_run || debug || isatty(STDERR_FILENO),
		 debug ? LOG_LEVEL_DEBUG : dconfig.log_level);
	stats_out = stderr;
	/* Live capture keeps the configured store; a file run writes one only when asked (--db). */
	if (!db_path && live_run)
		db_path = dconfig.db_path;
	if (force && !db_path)
		return usage_error("--force is for --db%s", "");
	/* nDPI's start-up runs beside the rest of a file run's (live capture's starts as it drops privileges). */
	if (!live_run)
		dpi_engine_prestart();
	/* The lists a store matches with; a file run's begin to load now. */
	if (db_path) {
		char lerr[512];
		if (config_path ? lists_load_config(&run.lists, config_path, lerr, sizeof lerr) != 0
				: lists_default(&run.lists) != 0) {
			log_error("%s", config_path ? lerr : "out of memory");
			config_free(&dconfig);
			return EXIT_RUNTIME;
		}
		if (!live_run)
			lists_start(&run);
	}
	/*
	 * The key identifiers are hashed with: the file named, else the
	 * database's own (made beside it on first use), else a random one for
	 * this run. It never leaves this process: not logged, only hashes written.
	 */
	static struct ident_key key;
	uid_t daemon_uid = (uid_t)-1;
	if (live_run && geteuid() == 0) {
		struct passwd *pw = getpwnam(dconfig.user ? dconfig.user : CONFIG_DEFAULT_USER);
		if (pw)
			daemon_uid = pw->pw_uid;
	}
	if (!keep_identifiers) {
		char key_error[512];
		int rc = key_file ? ident_key_load(&key, key_file, key_error, sizeof key_error)
			 : db_path ? ident_key_for_database(&key, db_path, daemon_uid, key_error, sizeof key_error)
				   : ident_key_random(&key);
		if (rc != 0) {
			log_error("%s", key_file || db_path ? key_error : "no random key for identifiers");
			lists_abandon(&run);
			config_free(&dconfig);
			return EXIT_RUNTIME;
		}
		config.identifier_key = &key;
	}
	/* The consent rules: the configured file must load; the shipped one is looked for. */
	char rerr[CONSENT_ERROR_MAX];
	int rules_required;
	struct consent_rules *rules = load_rules(&dconfig, rerr, sizeof rerr, &rules_required);
	if (!rules && rules_required) {
		log_error("%s", rerr);
		lists_abandon(&run);
		config_free(&dconfig);
		return EXIT_RUNTIME;
	}
	if (!rules && !quiet)
		log_warning("no consent rules, consent signals are not read: %s", rerr);
	config.consent_rules = rules;
	run.rules = rules;
	/*
	 * TLS secrets: the key logs named (a file run reads them whole, live
	 * capture follows them), and the Decryption Secrets Blocks of pcapng
	 * files. Without any, TLS is read to its hello only.
	 */
	if (load_keys(&run, &dconfig, live_run, files, file_count) != 0) {
		lists_abandon(&run);
		config_free(&dconfig);
		consent_rules_free(rules);
		keylog_free(run.keylog);
		return EXIT_RUNTIME;
	}
	config.keylog = run.keylog;
	config.keylog_grows = run.follow_count > 0;
	config.tls_dump_dir = dump_tls;
	pthread_mutex_init(&run.mail.lock, NULL);
	run.mail.lock_ready = 1;
	run.config = &dconfig;
	run.writer_config = &dconfig;
	run.config_path = config_path;
	run.overrides = &over;
	run.debug = debug;
	run.db_path = db_path;
	run.started_us = wall_clock_us();

	/* Open live capture before anything else can fail on the way; an interface not there is retried. */
	struct file_hash hash = { .files = files, .count = file_count };
	static struct sharedfile *shared[MAX_FILES];
	char source[4096] = "";
	if (live_run) {
		/* What the run reads, for its record and the log: "interfaces eth0, wlan0". */
		char names[sizeof source - 16];
		snprintf(source, sizeof source, "interface%s %s", dconfig.interfaces.count > 1 ? "s" : "",
			 config_list_join(&dconfig.interfaces, names, sizeof names));
		if (live_init(&run.live, dconfig.interfaces.items, dconfig.interfaces.count, filter) != 0) {
			log_error("out of memory");
			status = EXIT_RUNTIME;
			goto early_exit;
		}
		live_open_due(&run.live, wall_clock_us());
	}

	if (jsonl || !db_path)
		run.writer = observation_writer_open(jsonl ? jsonl : "-",
						     jsonl ? OBS_FORMAT_JSONL : OBS_FORMAT_TEXT,
						     live_run);
	if ((jsonl || !db_path) && !run.writer) {
		log_error("%s: %s", jsonl ? jsonl : "standard output", strerror(errno));
		status = EXIT_RUNTIME;
		goto early_exit;
	}
	if (db_path) {
		char serr[STORE_ERROR_MAX];
		run.store = store_open(db_path, &dconfig.store, serr, sizeof serr);
		if (!run.store) {
			log_error("%s", serr);
			status = EXIT_RUNTIME;
			goto early_exit;
		}
		/*
		 * A file read before is refused (unless --force). Its hash is needed
		 * first only when an earlier run read as many bytes; otherwise it is
		 * taken beside the capture, for the record.
		 */
		int64_t total = 0;
		int hashable = file_count > 0;
		for (size_t i = 0; i < file_count; i++) {
			struct stat fst;
			if (strcmp(files[i], "-") == 0 || stat(files[i], &fst) != 0 || !S_ISREG(fst.st_mode))
				hashable = 0;
			else
				total += fst.st_size;
			size_t used = strlen(source);
			snprintf(source + used, sizeof source - used, "%s%s", i ? " " : "", files[i]);
		}
		if (hashable && store_find_size_run(run.store, total) != 0) {
			hash_files(&hash);
			if (hash.ok) {
				int64_t earlier = store_find_file_run(run.store, hash.hex);
				if (earlier > 0 && !force) {
					log_error("%s: this capture was read before (run %" PRId64
						  " of %s); --force reads it again", source, earlier, db_path);
					status = EXIT_RUNTIME;
					goto early_exit;
				}
				run.begin.file_sha256 = hash.hex;
				run.begin.file_bytes = hash.bytes;
			}
		} else if (hashable) {
			run.hash = &hash;
		}
		run.begin.source = source;
		run.begin.live = live_run;
		if (!run.begin.file_sha256)
			run.begin.file_bytes = hashable ? total : -1;
		run.begin.started_us = wall_clock_us();
		run.begin.version = TRACKWATCH_VERSION;
		run.begin.config_sha256 = dconfig.sha256[0] ? dconfig.sha256 : NULL;
		struct timeline_options topt;
		timeline_options_defaults(&topt);
		run.timeline = timeline_new(run.store, &dconfig, &topt);
		if (!run.timeline) {
			log_error("out of memory");
			status = EXIT_RUNTIME;
			goto early_exit;
		}
		/* Live capture has time to load the lists first; a file's run loads them beside it. */
		if (live_run) {
			struct list_load_error lerror;
			run.matcher = lists_build(&run.lists, -1, &lerror);
			if (!run.matcher) {
				log_error("%s:%u: %s", lerror.file, lerror.line, lerror.reason);
				status = EXIT_RUNTIME;
				goto early_exit;
			}
			run.lists_json = lists_evidence(run.matcher);
		}
	}
	if (live_run) {
		/* The control socket, then the switch to the daemon's user, before any thread starts. */
		const char *user = dconfig.user ? dconfig.user : CONFIG_DEFAULT_USER;
		int switching = geteuid() == 0;
		gid_t gid = (gid_t)-1;
		if (dconfig.control_group) {
			struct group *gr = getgrnam(dconfig.control_group);
			if (!gr) {
				log_error("control.group: no group '%s'", dconfig.control_group);
				status = EXIT_RUNTIME;
				goto early_exit;
			}
			gid = gr->gr_gid;
		} else if (switching) {
			struct passwd *pw = getpwnam(user);
			if (pw)
				gid = pw->pw_gid;
		}
		const char *socket_path = dconfig.control_socket ? dconfig.control_socket
								 : CONFIG_DEFAULT_SOCKET;
		if (strcmp(socket_path, "none") != 0) {
			/*
			 * Its directory (/run/trackwatch) is made when missing, as systemd's
			 * RuntimeDirectory= would: the daemon's user's, so that it can remove
			 * the socket at the end; the socket's group may enter it.
			 */
			char dir[PATH_MAX];
			snprintf(dir, sizeof dir, "%s", socket_path);
			char *slash = strrchr(dir, '/');
			struct stat dst;
			if (slash && slash != dir) {
				*slash = '\0';
				if (stat(dir, &dst) != 0 && errno == ENOENT) {
					struct passwd *pw = switching ? getpwnam(user) : NULL;
					if (mkdir(dir, 0750) != 0 ||
					    (pw && chown(dir, pw->pw_uid, gid != (gid_t)-1 ? gid : pw->pw_gid) != 0)) {
						log_error("control socket: %s: %s", dir, strerror(errno));
						status = EXIT_RUNTIME;
						goto early_exit;
					}
				}
			}
			char cerr[CONTROL_ERROR_MAX];
			run.control = control_listen(socket_path, gid, cerr, sizeof cerr);
			if (!run.control) {
				log_error("control socket: %s", cerr);
				status = EXIT_RUNTIME;
				goto early_exit;
			}
		}
		if (switching && run.store && store_open_files(run.store) != 0) {
			log_error("%s", store_error(run.store));
			status = EXIT_RUNTIME;
			goto early_exit;
		}
		if (switching) {
			char perr[PRIVILEGES_ERROR_MAX], name[PATH_MAX + 8];
			static const char *const suffixes[] = { "", "-wal", "-shm", ".key" };
			for (size_t i = 0; db_path && i < 4; i++) {
				snprintf(name, sizeof name, "%s%s", db_path, suffixes[i]);
				if (privileges_chown_for(user, name, perr, sizeof perr) != 0) {
					log_error("%s", perr);
					status = EXIT_RUNTIME;
					goto early_exit;
				}
			}
		}
		enum privileges_outcome outcome;
		char perr[PRIVILEGES_ERROR_MAX], caps[128];
		if (privileges_drop(user, &outcome, perr, sizeof perr) != 0) {
			log_error("cannot give up privileges: %s", perr);
			status = EXIT_RUNTIME;
			goto early_exit;
		}
		privileges_describe(caps, sizeof caps);
		log_notice("started: %s%s; running as %s with capabilities %s; %s", source,
			   run.store ? "" : " (no database)",
			   outcome == PRIVILEGES_SWITCHED ? user : "the user that started it", caps,
			   run.control ? control_path(run.control) : "no control socket");
	}
	/*
	 * Regular files are read by the capture and the hash side by side, each
	 * with a small buffer of its own, near enough to each other that a file
	 * read from disk is read once (daemon/sharedfile.h). One that cannot be
	 * is read by libpcap as before.
	 */
	for (size_t i = 0; i < file_count; i++)
		if (strcmp(files[i], "-") != 0)
			shared[i] = sharedfile_open(files[i], run.hash != NULL, SHAREDFILE_WINDOW);
	hash.shared = shared;
	/* Files give the same output in every run; live capture keeps its cache's layout secret. */
	if (!live_run)
		config.dns_cache_seed = 0x7472616b77617463ULL;
	run.pipeline = pipeline_new(&config, sink, &run);
	/* With a store, room for what capture finds while the writer loads the lists. */
	run.queue = queue_new(run.store ? (size_t)dconfig.queue_mb << 20 : OUTPUT_QUEUE_BYTES);
	run.wait_when_full = !live_run;
	/*
	 * The writer thread takes no signals: SIGINT and SIGTERM land on the
	 * capture thread, whose handler stops the capture it is reading.
	 */
	sigset_t blocked, previous;
	sigemptyset(&blocked);
	sigaddset(&blocked, SIGINT);
	sigaddset(&blocked, SIGTERM);
	sigaddset(&blocked, SIGUSR1);
	sigaddset(&blocked, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &blocked, &previous);
	int started = run.pipeline && run.queue &&
		      pthread_create(&run.writer_thread, NULL, writer_main, &run) == 0;
	/*
	 * The file's hash is taken beside the capture from the start: the two
	 * keep within a window of each other (daemon/sharedfile.h).
	 */
	if (started && run.hash)
		run.hashing = pthread_create(&run.hash->thread, NULL, hash_files, run.hash) == 0;
	pthread_sigmask(SIG_SETMASK, &previous, NULL);
	if (!started) {
		log_error("cannot start the pipeline: out of memory");
		pipeline_free(run.pipeline);
		queue_free(run.queue);
		run.pipeline = NULL;
		run.queue = NULL;
		status = EXIT_RUNTIME;
		goto early_exit;
	}

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal_between;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = on_usr1;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);
	if (live_run) {
		sa.sa_handler = on_hup;
		sigaction(SIGHUP, &sa, NULL);
	}
	/* A closed output pipe is a write error to report, not a silent death. */
	signal(SIGPIPE, SIG_IGN);

	if (live_run) {
		if (live_loop(&run) != 0)
			status = EXIT_RUNTIME;
		log_notice("stopping: %s", stop_requested ? "asked to" : atomic_load(&writer_stop) ?
			   "the database failed" : "the capture loop failed");
		control_close(run.control);
		run.control = NULL;
	}
	/* Several files are one stream in time order, as when tcpdump -C split a capture. */
	if (file_count && !quiet) {
		uint64_t total = 0;
		for (size_t i = 0; i < file_count; i++) {
			struct stat fst;
			if (strcmp(files[i], "-") == 0 || stat(files[i], &fst) != 0 || !S_ISREG(fst.st_mode)) {
				total = 0;
				break;
			}
			total += (uint64_t)fst.st_size;
		}
		progress_init(&run.progress, stderr, total);
	}
	for (size_t i = 0; i < file_count && !stop_requested && !atomic_load(&writer_stop); i++) {
		struct capture *capture = capture_open_shared(files[i], shared[i], filter, error, sizeof error);
		if (!capture) {
			fprintf(stderr, "%s: %s\n", program, error);
			status = EXIT_RUNTIME;
			continue;
		}
		current_capture = capture;
		if (capture_run(capture, on_frame, NULL, &run, error, sizeof error) != 0) {
			fprintf(stderr, "%s: %s\n", program, error);
			status = EXIT_RUNTIME;
		}
		run.files_done_bytes += capture_position(capture);
		current_capture = NULL;
		capture_close(capture);
	}
	double capture_cpu_s = thread_cpu_s();
	/* Files not read (a stop): the hash, which waits for the capture, goes on alone. */
	shared_done(shared, file_count);
	progress_end(&run.progress);

	/* Ending the flows emits what nDPI found in flows still open. */
	pipeline_flush(run.pipeline);
	queue_close(run.queue);
	pthread_join(run.writer_thread, NULL);
	int close_failed = run.writer && observation_writer_close(run.writer) != 0;
	run.writer = NULL;
	if (run.hashing) {
		pthread_join(hash.thread, NULL);
		run.hashing = 0;
	}
	uint64_t dropped = queue_dropped(run.queue);
	/* Where a file run's time went, thread by thread (the capture's includes the start). */
	if (!live_run)
		log_debug("CPU seconds: capture %.3f, file hash %.3f, writer %.3f, lists %.3f", capture_cpu_s,
			  hash.cpu_s, run.writer_cpu_s, run.lists_cpu_s);
	if (run.store_failed)
		status = EXIT_RUNTIME;
	/* The run's record is closed even after a store error: failed, with what it holds. */
	if (run.store) {
		const struct pipeline_stats *ps = pipeline_stats(run.pipeline);
		struct store_run_end end = {
			/* A live capture ends with a signal: that is its normal end. */
			.status = status != EXIT_OK ? "failed" : stop_requested && !live_run ? "interrupted" : "complete",
			.ended_us = wall_clock_us(),
			.packets = ps->packets,
			.dropped = dropped,
			.file_sha256 = !run.begin.file_sha256 && hash.ok ? hash.hex : NULL,
			.file_bytes = !run.begin.file_sha256 && hash.ok ? hash.bytes : -1,
			.has_capture = live_run,
		};
		for (size_t i = 0; live_run && i < run.live.count; i++) {
			uint64_t received, dropped, if_dropped;
			live_counters(&run.live, i, &received, &dropped, &if_dropped);
			end.capture_received += received;
			end.capture_dropped += dropped + if_dropped;
		}
		if (store_run_end(run.store, &end) != 0 && !run.store_failed) {
			fprintf(stderr, "%s: %s\n", program, store_error(run.store));
			status = EXIT_RUNTIME;
		}
	}
	if (run.write_failed || close_failed) {
		fprintf(stderr, "%s: cannot write observations to %s: %s\n", program,
			jsonl && strcmp(jsonl, "-") != 0 ? jsonl : "standard output",
			strerror(run.write_failed ? run.write_errno : errno));
		status = EXIT_RUNTIME;
	}
	/* Observations first, then the statistics, when both go to one terminal or pipe. */
	if (!quiet) {
		if (live_run) {
			emit_stats(&run);
		} else {
			print_stats(run.pipeline);
			if (dropped)
				log_notice("observations dropped, output too slow: %" PRIu64, dropped);
		}
	}
	if (!quiet && run.store) {
		const struct store_stats *ss = store_stats(run.store);
		log_notice("store %s: %" PRIu64 " rows, %" PRIu64 " tracker hits, %" PRIu64
			   " visits, %" PRIu64 " commits", db_path, ss->rows, ss->hits, ss->visits,
			   ss->commits);
	}
early_exit:
	lists_abandon(&run);
	dpi_engine_prestart_drop();
	shared_done(shared, file_count);
	if (run.hashing)
		pthread_join(hash.thread, NULL);
	for (size_t i = 0; i < file_count; i++)
		sharedfile_close(shared[i]);
	if (run.store && store_close(run.store) != 0 && status == EXIT_OK) {
		fprintf(stderr, "%s: %s: cannot close the database\n", program, db_path);
		status = EXIT_RUNTIME;
	}
	if (run.writer)
		observation_writer_close(run.writer);
	control_close(run.control);
	live_free(&run.live);
	for (size_t i = 0; i < run.follow_count; i++)
		keylog_follow_free(run.follows[i]);
	keylog_free(run.keylog);
	if (FREE_AT_EXIT) {
		timeline_free(run.timeline);
		matcher_free(run.matcher);
		lists_free(&run.lists);
		pipeline_free(run.pipeline);
		consent_rules_free(run.rules);
		queue_free(run.queue);
		if (run.writer_config != run.config)
			retire_config(run.writer_config);
		retire_config(run.config);
		matcher_free(run.mail.matcher);
		retire_config(run.mail.config);
		config_free(&dconfig);
		config_list_clear(&over.interfaces);
		config_list_clear(&over.keylogs);
		free(run.lists_json);
		if (run.mail.lock_ready)
			pthread_mutex_destroy(&run.mail.lock);
	} else {
		pipeline_settle(run.pipeline);
	}
	log_close();
	return status;
}
