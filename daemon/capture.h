/*
 * capture: the first stage. Takes a capture file (pcap or pcapng, "-" for
 * standard input) or a live interface, gives frames with their timestamps
 * and link type, numbered from 1 so that errors can name the packet.
 */
#ifndef TRACKWATCH_CAPTURE_H
#define TRACKWATCH_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

struct capture;

typedef void (*capture_frame_fn)(void *context, int dlt, uint64_t ts_us, const uint8_t *frame,
				 size_t caplen, size_t wirelen);
/* Called about twice a second in live capture, with the wall clock. */
typedef void (*capture_idle_fn)(void *context, uint64_t now_us);

enum { CAPTURE_ERROR_MAX = 512 };

/*
 * Opens a capture file. On failure returns NULL with a message in `error`.
 * `filter` (may be NULL) is a BPF expression applied as in tcpdump -r.
 */
struct capture *capture_open_file(const char *path, const char *filter, char *error,
				  size_t error_len);
/*
 * The same, with the file also opened for the hash (daemon/sharedfile.h): a
 * classic pcap file's records are then read directly, a piece of the file at
 * a time (capture_reads_direct() says so), exactly as libpcap would give
 * them, at the hash's pace; libpcap reads the rest (a pcapng file, or from a
 * record it might read differently). The shared file must outlive the
 * capture, which tells it (sharedfile_capture_done()) when it reads no more
 * of it: failing to open, leaving the file to libpcap, capture_close().
 */
struct sharedfile;
struct capture *capture_open_shared(const char *path, struct sharedfile *shared,
				    const char *filter, char *error, size_t error_len);
int capture_reads_direct(const struct capture *capture);
/*
 * Opens an interface in promiscuous mode. A warning pcap gives (the
 * interface is up but ...) is put in `warning` (may be NULL), "" when none.
 */
struct capture *capture_open_live(const char *interface, const char *filter, char *error,
				  size_t error_len, char *warning, size_t warning_len);
void capture_close(struct capture *capture);

/*
 * Reads frames until the end of the file, an error, or capture_stop().
 * Returns 0 at the end or on stop, -1 on a read error with a message naming
 * the source and the packet number in `error`.
 */
int capture_run(struct capture *capture, capture_frame_fn on_frame, capture_idle_fn on_idle,
		void *context, char *error, size_t error_len);

/*
 * Live capture driven by the caller's own poll() (several interfaces, a
 * control socket): capture_fd() makes the capture non-blocking and gives the
 * descriptor to poll, or -1 with a message. capture_dispatch() reads what is
 * there, at most `max` frames, without waiting: returns how many, or -1 on
 * an error (the interface went away) with a message naming the interface.
 */
int capture_fd(struct capture *capture, char *error, size_t error_len);
int capture_dispatch(struct capture *capture, int max, capture_frame_fn on_frame, void *context,
		     char *error, size_t error_len);

/* Async-signal-safe: makes capture_run() return soon. */
void capture_stop(struct capture *capture);

const char *capture_name(const struct capture *capture);
int capture_linktype(const struct capture *capture);
/* How many bytes of a capture file have been read (0 for live capture or when not known). */
uint64_t capture_position(struct capture *capture);
uint64_t capture_frames(const struct capture *capture);

/* Kernel counters of a live capture; returns -1 for files. */
int capture_drops(struct capture *capture, uint64_t *received, uint64_t *dropped,
		  uint64_t *if_dropped);

#endif
