/*
 * capture: libpcap for files and interfaces. Files are read with microsecond
 * timestamps whatever their own precision (pcapng may carry nanoseconds).
 */
#include "capture.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <pcap/pcap.h>

#include "decode.h"
#include "sharedfile.h"

#ifndef CAPTURE_DIRECT_PIECE
#define CAPTURE_DIRECT_PIECE (256 << 10)
#endif

struct capture {
	pcap_t *pcap;
	char *name;
	int live;
	int dlt;
	uint64_t frames;
	char *read_buffer; /* stdio buffer of the file; freed after pcap_close() */
	volatile sig_atomic_t stop;
	/*
	 * A classic pcap file read directly (capture_open_shared()): pieces of
	 * the file are read (pread(), libpcap's descriptor) into `buf`, and each
	 * record in it is checked and given on from there. A record libpcap
	 * might read differently (longer than the snapshot length, or captured
	 * longer than sent, or cut short by the file's end) is left to libpcap,
	 * which reads on from there: the direct reading only ever gives what
	 * libpcap would.
	 */
	struct sharedfile *shared; /* NULL: libpcap reads */
	int fd;
	size_t direct_at;          /* the next record's offset */
	int direct_nsec;
	uint32_t direct_limit;     /* longest record read here: the snapshot length, at most MAX_FRAME */
	uint8_t *buf;              /* the file's bytes [buf_from, buf_from + buf_len) */
	size_t buf_size, buf_from, buf_len;
	struct bpf_program filter;
	int has_filter;
};

enum {
	READ_BUFFER_SIZE = 1 << 20,
	/* libpcap's stdio buffer when the records are read directly (it reads the header only). */
	DIRECT_READ_BUFFER_SIZE = 16 << 10,
	/*
	 * What the direct reading reads at a time: it stays in the core's cache
	 * while read. The fuzzing build makes it small (CAPTURE_DIRECT_PIECE),
	 * so that its inputs' records cross pieces too.
	 */
	DIRECT_PIECE = CAPTURE_DIRECT_PIECE,
	MAX_FRAME = 262144,
	PCAP_FILE_HEADER = 24,
	PCAP_RECORD_HEADER = 16,
};

static struct capture *capture_wrap(pcap_t *pcap, const char *name, int live)
{
	struct capture *capture = calloc(1, sizeof *capture);
	if (!capture)
		return NULL;
	capture->name = strdup(name);
	if (!capture->name) {
		free(capture);
		return NULL;
	}
	capture->pcap = pcap;
	capture->live = live;
	capture->dlt = pcap_datalink(pcap);
	return capture;
}

/* Sets the filter; its program is kept in *kept (when not NULL) for direct reading, else freed. */
static int apply_filter(pcap_t *pcap, const char *name, const char *filter, char *error,
			size_t error_len, struct bpf_program *kept, int *has_kept)
{
	if (!filter || !*filter)
		return 0;
	struct bpf_program program;
	if (pcap_compile(pcap, &program, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		snprintf(error, error_len, "%s: bad filter '%s': %s", name, filter,
			 pcap_geterr(pcap));
		return -1;
	}
	int rc = pcap_setfilter(pcap, &program);
	if (rc != 0)
		snprintf(error, error_len, "%s: cannot set filter: %s", name, pcap_geterr(pcap));
	if (rc == 0 && kept) {
		*kept = program;
		*has_kept = 1;
	} else {
		pcap_freecode(&program);
	}
	return rc == 0 ? 0 : -1;
}

static int check_linktype(pcap_t *pcap, const char *name, char *error, size_t error_len)
{
	int dlt = pcap_datalink(pcap);
	if (decode_linktype_supported(dlt))
		return 0;
	const char *dlt_name = pcap_datalink_val_to_name(dlt);
	snprintf(error, error_len, "%s: link type %s (%d) is not supported", name,
		 dlt_name ? dlt_name : "unknown", dlt);
	return -1;
}

/* 16 or 32 bits of a header read directly, in our byte order. */
static uint32_t get32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof v);
	return v;
}

static uint16_t get16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, sizeof v);
	return v;
}

/*
 * The file's time resolution if its records can be read directly: classic
 * pcap, version 2.4, of our byte order (a file of the other is libpcap's: it
 * also swaps fields inside some link types' frames); 1 for microseconds, 2
 * for nanoseconds, else 0.
 */
static int direct_kind(struct sharedfile *shared, int fd)
{
	uint8_t header[PCAP_FILE_HEADER];
	if (sharedfile_size(shared) < PCAP_FILE_HEADER ||
	    sharedfile_pread(fd, header, sizeof header, 0, sizeof header) < 0 || get16(header + 4) != 2 ||
	    get16(header + 6) != 4)
		return 0;
	uint32_t magic = get32(header);
	return magic == 0xa1b2c3d4 ? 1 : magic == 0xa1b23c4d ? 2 : 0;
}

/*
 * Reads the records directly (struct capture) when the file allows it
 * (`kind`, from direct_kind()) and libpcap agrees; else tells the shared
 * file that the capture will not read it.
 */
static void use_direct(struct capture *capture, struct sharedfile *shared, int fd, int kind)
{
	if (!kind || pcap_major_version(capture->pcap) != 2 || pcap_minor_version(capture->pcap) != 4 ||
	    pcap_is_swapped(capture->pcap)) {
		sharedfile_capture_done(shared);
		return;
	}
	int snap = pcap_snapshot(capture->pcap);
	uint32_t limit = snap > 0 && snap < MAX_FRAME ? (uint32_t)snap : MAX_FRAME;
	/* A piece, and room for a whole record carried over from the one before. */
	capture->buf_size = DIRECT_PIECE + PCAP_RECORD_HEADER + limit;
	capture->buf = malloc(capture->buf_size);
	if (!capture->buf) {
		sharedfile_capture_done(shared);
		return;
	}
	capture->shared = shared;
	capture->fd = fd;
	capture->direct_at = PCAP_FILE_HEADER;
	capture->direct_nsec = kind == 2;
	capture->direct_limit = limit;
	capture->buf_from = PCAP_FILE_HEADER;
	capture->buf_len = 0;
}

static struct capture *open_file(const char *path, struct sharedfile *shared, const char *filter,
				 char *error, size_t error_len)
{
	char pcap_error[PCAP_ERRBUF_SIZE] = "";
	int is_stdin = strcmp(path, "-") == 0;
	const char *name = is_stdin ? "(standard input)" : path;
	FILE *file = is_stdin ? stdin : fopen(path, "rb");
	if (!file) {
		snprintf(error, error_len, "%s: cannot read capture: %s", name, strerror(errno));
		return NULL;
	}
	/* The file opened when the run began, not one renamed over it since (its hash is that one's). */
	if (shared && !sharedfile_same_file(shared, fileno(file))) {
		snprintf(error, error_len, "%s: cannot read capture: the file was replaced since the run began",
			 name);
		fclose(file);
		sharedfile_capture_done(shared);
		return NULL;
	}
	/*
	 * stdio's default 4 KiB buffer costs a system call every few packets;
	 * glibc ignores a size given without a buffer, so we give both. When the
	 * records are read directly, libpcap reads only the header.
	 */
	int kind = shared ? direct_kind(shared, fileno(file)) : 0;
	size_t buffer_size = kind ? DIRECT_READ_BUFFER_SIZE : READ_BUFFER_SIZE;
	char *buffer = malloc(buffer_size);
	if (buffer)
		setvbuf(file, buffer, _IOFBF, buffer_size);
	pcap_t *pcap = pcap_fopen_offline_with_tstamp_precision(file, PCAP_TSTAMP_PRECISION_MICRO,
								pcap_error);
	if (!pcap) {
		snprintf(error, error_len, "%s: cannot read capture: %s", name, pcap_error);
		if (!is_stdin)
			fclose(file);
		free(buffer);
		if (shared)
			sharedfile_capture_done(shared);
		return NULL;
	}
	struct capture *capture = NULL;
	struct bpf_program program;
	int has_program = 0;
	if (check_linktype(pcap, name, error, error_len) == 0 &&
	    apply_filter(pcap, name, filter, error, error_len, shared ? &program : NULL, &has_program) == 0) {
		capture = capture_wrap(pcap, name, 0);
		if (!capture)
			snprintf(error, error_len, "%s: out of memory", name);
	}
	if (!capture) {
		if (has_program)
			pcap_freecode(&program);
		pcap_close(pcap);
		free(buffer);
		if (shared)
			sharedfile_capture_done(shared);
		return NULL;
	}
	capture->read_buffer = buffer;
	if (has_program) {
		capture->filter = program;
		capture->has_filter = 1;
	}
	if (shared)
		use_direct(capture, shared, fileno(file), kind);
	return capture;
}

struct capture *capture_open_file(const char *path, const char *filter, char *error,
				  size_t error_len)
{
	return open_file(path, NULL, filter, error, error_len);
}

struct capture *capture_open_shared(const char *path, struct sharedfile *shared,
				    const char *filter, char *error, size_t error_len)
{
	return open_file(path, shared, filter, error, error_len);
}

int capture_reads_direct(const struct capture *capture)
{
	return capture->shared != NULL;
}

struct capture *capture_open_live(const char *interface, const char *filter, char *error,
				  size_t error_len, char *warning, size_t warning_len)
{
	if (warning && warning_len)
		warning[0] = '\0';
	char pcap_error[PCAP_ERRBUF_SIZE] = "";
	pcap_t *pcap = pcap_create(interface, pcap_error);
	if (!pcap) {
		snprintf(error, error_len, "%s: %s", interface, pcap_error);
		return NULL;
	}
	/* Whole frames, a 16 MiB kernel buffer, and a timeout so idle flows expire. */
	pcap_set_snaplen(pcap, 262144);
	pcap_set_promisc(pcap, 1);
	pcap_set_timeout(pcap, 500);
	pcap_set_buffer_size(pcap, 16 << 20);
	int rc = pcap_activate(pcap);
	if (rc < 0) {
		snprintf(error, error_len, "%s: cannot capture: %s", interface,
			 rc == PCAP_ERROR ? pcap_geterr(pcap) : pcap_statustostr(rc));
		pcap_close(pcap);
		return NULL;
	}
	if (rc > 0 && warning && warning_len)
		snprintf(warning, warning_len, "%s: %s", interface,
			 rc == PCAP_WARNING ? pcap_geterr(pcap) : pcap_statustostr(rc));
	if (check_linktype(pcap, interface, error, error_len) != 0 ||
	    apply_filter(pcap, interface, filter, error, error_len, NULL, NULL) != 0) {
		pcap_close(pcap);
		return NULL;
	}
	struct capture *capture = capture_wrap(pcap, interface, 1);
	if (!capture) {
		snprintf(error, error_len, "%s: out of memory", interface);
		pcap_close(pcap);
	}
	return capture;
}

void capture_close(struct capture *capture)
{
	if (!capture)
		return;
	pcap_close(capture->pcap);
	free(capture->read_buffer);
	if (capture->shared)
		sharedfile_capture_done(capture->shared);
	if (capture->has_filter)
		pcap_freecode(&capture->filter);
	free(capture->buf);
	free(capture->name);
	free(capture);
}

static uint64_t wall_clock_us(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (uint64_t)tv.tv_sec * 1000000 + (uint64_t)tv.tv_usec;
}

/*
 * Makes the file's bytes [at, at + need) be in the buffer, reading on from
 * where it ends (what it holds from `at` on is moved to its start first):
 * 0, or -1 when the file no longer has them (it shrank) or a read failed.
 * `need` is within the file's size when opened, and the buffer's.
 */
static int direct_refill(struct capture *capture, size_t at, size_t need)
{
	size_t end = capture->buf_from + capture->buf_len;
	size_t keep = 0;
	if (at >= capture->buf_from && at < end) {
		keep = end - at;
		memmove(capture->buf, capture->buf + (at - capture->buf_from), keep);
	}
	capture->buf_from = at;
	capture->buf_len = keep;
	/* A piece, or the rest of the record when that is more (the buffer holds both). */
	size_t left = sharedfile_size(capture->shared) - (at + keep);
	size_t want = need - keep > DIRECT_PIECE ? need - keep : DIRECT_PIECE;
	if (want > left)
		want = left;
	/* What the file still has, so long as it is the record's whole. */
	ssize_t got = sharedfile_pread(capture->fd, capture->buf + keep, want, at + keep, need - keep);
	if (got < 0)
		return -1;
	capture->buf_len = keep + (size_t)got;
	return 0;
}

/* The same, as a test inline first: the bytes are mostly there already. */
static inline int direct_fill(struct capture *capture, size_t at, size_t need)
{
	if (at >= capture->buf_from && at + need <= capture->buf_from + capture->buf_len)
		return 0;
	return direct_refill(capture, at, need);
}

/*
 * Records read directly (struct capture) until the end (0), an error (-1),
 * or one to leave to libpcap at capture->direct_at (1).
 */
static int run_direct(struct capture *capture, capture_frame_fn on_frame, void *context,
		      char *error, size_t error_len)
{
	size_t size = sharedfile_size(capture->shared);
	while (!capture->stop) {
		size_t at = capture->direct_at;
		if (at == size)
			return 0;
		if (size - at < PCAP_RECORD_HEADER)
			return 1; /* libpcap names the truncation */
		if (direct_fill(capture, at, PCAP_RECORD_HEADER) != 0)
			goto unread;
		const uint8_t *header = capture->buf + (at - capture->buf_from);
		uint32_t caplen = get32(header + 8), len = get32(header + 12);
		if (caplen > capture->direct_limit || caplen > len ||
		    caplen > size - at - PCAP_RECORD_HEADER)
			return 1;
		if (direct_fill(capture, at, PCAP_RECORD_HEADER + caplen) != 0)
			goto unread;
		header = capture->buf + (at - capture->buf_from);
		const uint8_t *frame = header + PCAP_RECORD_HEADER;
		capture->direct_at = at + PCAP_RECORD_HEADER + caplen;
		sharedfile_capture_at(capture->shared, capture->direct_at);
		if (capture->has_filter) {
			struct pcap_pkthdr h = { .caplen = caplen, .len = len };
			if (!pcap_offline_filter(&capture->filter, &h, frame))
				continue;
		}
		capture->frames++;
		/* As libpcap gives them: signed 32-bit fields, nanoseconds cut to microseconds. */
		long sec = (int32_t)get32(header);
		long usec = (int32_t)get32(header + 4);
		if (capture->direct_nsec)
			usec /= 1000;
		uint64_t ts_us = sec < 0 ? 0 : (uint64_t)sec * 1000000 + (uint64_t)usec;
		on_frame(context, capture->dlt, ts_us, frame, caplen, len);
	}
	return 0;
unread:
	if (errno)
		snprintf(error, error_len, "%s: packet %llu: cannot read: %s", capture->name,
			 (unsigned long long)capture->frames + 1, strerror(errno));
	else
		snprintf(error, error_len, "%s: packet %llu: the file shrank while it was read",
			 capture->name, (unsigned long long)capture->frames + 1);
	return -1;
}

int capture_run(struct capture *capture, capture_frame_fn on_frame, capture_idle_fn on_idle,
		void *context, char *error, size_t error_len)
{
	uint64_t next_idle = capture->live ? wall_clock_us() + 500000 : 0;
	/*
	 * Live: non-blocking reads, and our own poll() of the capture's descriptor
	 * for at most half a second, so that the idle work (expiring flows, a
	 * SIGUSR1) runs when no packet comes at all: with TPACKET_V3 a blocking
	 * read does not return at its timeout until a packet has come.
	 */
	if (capture->shared) {
		int rc = run_direct(capture, on_frame, context, error, error_len);
		if (rc <= 0)
			return rc;
		/* A record to leave to libpcap: it reads on from there. */
		FILE *file = pcap_file(capture->pcap);
		if (!file || fseeko(file, (off_t)capture->direct_at, SEEK_SET) != 0) {
			snprintf(error, error_len, "%s: packet %llu: cannot seek: %s", capture->name,
				 (unsigned long long)capture->frames + 1, strerror(errno));
			return -1;
		}
		sharedfile_capture_done(capture->shared);
		capture->shared = NULL;
	}
	int fd = -1;
	char errbuf[PCAP_ERRBUF_SIZE];
	if (capture->live && pcap_setnonblock(capture->pcap, 1, errbuf) == 0)
		fd = pcap_get_selectable_fd(capture->pcap);
	while (!capture->stop) {
		struct pcap_pkthdr *header;
		const u_char *data;
		int rc = pcap_next_ex(capture->pcap, &header, &data);
		if (rc == 0 && fd >= 0) {
			struct pollfd pfd = { .fd = fd, .events = POLLIN };
			if (poll(&pfd, 1, 500) < 0 && errno != EINTR) {
				snprintf(error, error_len, "%s: poll: %s", capture->name, strerror(errno));
				return -1;
			}
		}
		if (rc == 1) {
			capture->frames++;
			/* A negative time is a broken record; make it 0 rather than huge. */
			uint64_t ts_us = header->ts.tv_sec < 0 ? 0 :
				(uint64_t)header->ts.tv_sec * 1000000 + (uint64_t)header->ts.tv_usec;
			on_frame(context, capture->dlt, ts_us, data, header->caplen, header->len);
		} else if (rc == PCAP_ERROR_BREAK) {
			return 0; /* end of file, or pcap_breakloop() */
		} else if (rc == PCAP_ERROR) {
			snprintf(error, error_len, "%s: packet %llu: %s", capture->name,
				 (unsigned long long)capture->frames + 1, pcap_geterr(capture->pcap));
			return -1;
		}
		/* rc == 0: live timeout with no packet */
		if (capture->live && on_idle) {
			uint64_t now = wall_clock_us();
			if (now >= next_idle) {
				on_idle(context, now);
				next_idle = now + 500000;
			}
		}
	}
	return 0;
}

int capture_fd(struct capture *capture, char *error, size_t error_len)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	if (!capture->live || pcap_setnonblock(capture->pcap, 1, errbuf) != 0) {
		snprintf(error, error_len, "%s: cannot read without blocking: %s", capture->name,
			 capture->live ? errbuf : "not a live capture");
		return -1;
	}
	int fd = pcap_get_selectable_fd(capture->pcap);
	if (fd < 0)
		snprintf(error, error_len, "%s: no descriptor to poll", capture->name);
	return fd;
}

struct dispatch_context {
	struct capture *capture;
	capture_frame_fn on_frame;
	void *context;
};

static void dispatch_one(u_char *user, const struct pcap_pkthdr *header, const u_char *data)
{
	struct dispatch_context *d = (struct dispatch_context *)user;
	d->capture->frames++;
	uint64_t ts_us = header->ts.tv_sec < 0 ? 0 :
		(uint64_t)header->ts.tv_sec * 1000000 + (uint64_t)header->ts.tv_usec;
	d->on_frame(d->context, d->capture->dlt, ts_us, data, header->caplen, header->len);
}

int capture_dispatch(struct capture *capture, int max, capture_frame_fn on_frame, void *context,
		     char *error, size_t error_len)
{
	struct dispatch_context d = { capture, on_frame, context };
	int n = pcap_dispatch(capture->pcap, max, dispatch_one, (u_char *)&d);
	if (n == PCAP_ERROR_BREAK)
		return 0;
	if (n < 0) {
		snprintf(error, error_len, "%s: %s", capture->name, pcap_geterr(capture->pcap));
		return -1;
	}
	return n;
}

void capture_stop(struct capture *capture)
{
	capture->stop = 1;
	pcap_breakloop(capture->pcap);
}

const char *capture_name(const struct capture *capture)
{
	return capture->name;
}

uint64_t capture_position(struct capture *capture)
{
	if (capture->shared)
		return capture->direct_at;
	FILE *file = capture->live ? NULL : pcap_file(capture->pcap);
	long at = file ? ftell(file) : -1;
	return at > 0 ? (uint64_t)at : 0;
}

int capture_linktype(const struct capture *capture)
{
	return capture->dlt;
}

uint64_t capture_frames(const struct capture *capture)
{
	return capture->frames;
}

int capture_drops(struct capture *capture, uint64_t *received, uint64_t *dropped,
		  uint64_t *if_dropped)
{
	if (!capture->live)
		return -1;
	struct pcap_stat st;
	if (pcap_stats(capture->pcap, &st) != 0)
		return -1;
	*received = st.ps_recv;
	*dropped = st.ps_drop;
	*if_dropped = st.ps_ifdrop;
	return 0;
}
