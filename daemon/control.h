/*
 * control: the live daemon's control socket, a Unix socket in the file
 * system (abstract sockets do not cross network namespaces), mode 0660.
 *
 * The protocol: a client connects, writes one request of at most
 * CONTROL_REQUEST_MAX bytes ending with a newline (or the end of its
 * writing), and reads one answer, a JSON object on one line, after which the
 * daemon closes the connection. A request is a JSON object:
 *
 *   {"command": "status"}
 *   {"command": "reload"}
 *   {"command": "consent-mark", "decision": "accept"|"reject"|"partial",
 *    "device": "...", "site": "..." (optional), "at_us": 1795927193990000 (optional)}
 *
 * or, for people at a terminal (socat - UNIX-CONNECT:PATH), the bare words
 * `status` and `reload`. Every answer has "ok" (true or false); a false one
 * has "error". A malformed request gets an error answer, never more.
 *
 * The daemon serves the socket from its capture thread's poll(), without
 * blocking: at most CONTROL_CLIENTS_MAX connections at once, each closed
 * after CONTROL_TIMEOUT_MS.
 */
#ifndef TRACKWATCH_CONTROL_H
#define TRACKWATCH_CONTROL_H

#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum {
	CONTROL_REQUEST_MAX = 4096,
	CONTROL_CLIENTS_MAX = 16,
	CONTROL_TIMEOUT_MS = 5000,
	CONTROL_TEXT_MAX = 256,   /* device and site, bytes with the terminating NUL */
	CONTROL_ERROR_MAX = 512,
};

enum control_command { CONTROL_STATUS, CONTROL_RELOAD, CONTROL_CONSENT_MARK };

struct control_request {
	enum control_command command;
	char decision[8];                /* accept, reject, partial */
	char device[CONTROL_TEXT_MAX];
	char site[CONTROL_TEXT_MAX];     /* "" when not given */
	int64_t at_us;                   /* -1 when not given: now */
};

/*
 * Reads one request (`len` bytes, no NUL needed; a trailing newline is
 * ignored). 0, or -1 with the reason in `error`.
 */
int control_parse_request(const char *text, size_t len, struct control_request *request,
			  char *error, size_t error_len);

/* The answer to a request: a JSON object (malloc'd, no newline), or NULL for out of memory. */
typedef char *(*control_handler_fn)(void *context, const struct control_request *request);

struct control;

/*
 * Listens on `path`: a stale socket left by a daemon that died is replaced;
 * a socket someone answers on, or a file that is no socket, is an error.
 * The socket is made mode 0660, of group `gid` unless it is (gid_t)-1.
 */
struct control *control_listen(const char *path, gid_t gid, char *error, size_t error_len);

/* Adds the descriptors to poll to `fds` (room for 1 + CONTROL_CLIENTS_MAX); returns how many. */
size_t control_pollfds(struct control *control, struct pollfd *fds);

/* Serves what poll() found on those descriptors (the same `fds`, `count` from control_pollfds). */
void control_service(struct control *control, const struct pollfd *fds, size_t count,
		     control_handler_fn handler, void *context);

const char *control_path(const struct control *control);

/* Closes every connection and the socket, and removes it from the file system. */
void control_close(struct control *control);

#endif
