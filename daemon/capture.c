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

struct capture {
	pcap_t *pcap;
	char *name;
	int live;
	int dlt;
	uint64_t frames;
	char *read_buffer; /* stdio buffer of the file; freed after pcap_close() */
	volatile sig_atomic_t stop;
};

enum { READ_BUFFER_SIZE = 1 << 20 };

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

static int apply_filter(pcap_t *pcap, const char *name, const char *filter, char *error,
			size_t error_len)
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
	pcap_freecode(&program);
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

struct capture *capture_open_file(const char *path, const char *filter, char *error,
				  size_t error_len)
{
	char pcap_error[PCAP_ERRBUF_SIZE] = "";
	int is_stdin = strcmp(path, "-") == 0;
	const char *name = is_stdin ? "(standard input)" : path;
	FILE *file = is_stdin ? stdin : fopen(path, "rb");
	if (!file) {
		snprintf(error, error_len, "%s: cannot read capture: %s", name, strerror(errno));
		return NULL;
	}
	/*
	 * stdio's default 4 KiB buffer costs a system call every few packets;
	 * glibc ignores a size given without a buffer, so we give both.
	 */
	char *buffer = malloc(READ_BUFFER_SIZE);
	if (buffer)
		setvbuf(file, buffer, _IOFBF, READ_BUFFER_SIZE);
	pcap_t *pcap = pcap_fopen_offline_with_tstamp_precision(file, PCAP_TSTAMP_PRECISION_MICRO,
								pcap_error);
	if (!pcap) {
		snprintf(error, error_len, "%s: cannot read capture: %s", name, pcap_error);
		if (!is_stdin)
			fclose(file);
		free(buffer);
		return NULL;
	}
	struct capture *capture = NULL;
	if (check_linktype(pcap, name, error, error_len) == 0 &&
	    apply_filter(pcap, name, filter, error, error_len) == 0) {
		capture = capture_wrap(pcap, name, 0);
		if (!capture)
			snprintf(error, error_len, "%s: out of memory", name);
	}
	if (!capture) {
		pcap_close(pcap);
		free(buffer);
		return NULL;
	}
	capture->read_buffer = buffer;
	return capture;
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
	    apply_filter(pcap, interface, filter, error, error_len) != 0) {
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
	free(capture->name);
	free(capture);
}

static uint64_t wall_clock_us(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (uint64_t)tv.tv_sec * 1000000 + (uint64_t)tv.tv_usec;
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
