/*
 * control: the control socket; see control.h.
 */
#include "control.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

struct client {
	int fd;                  /* -1: free */
	size_t len;
	uint64_t deadline_ms;
	char buf[CONTROL_REQUEST_MAX];
};

struct control {
	int fd;
	char *path;
	struct client clients[CONTROL_CLIENTS_MAX];
	uint64_t accept_after_ms; /* out of descriptors: accept again from then on */
	/* Where each descriptor given to poll went: -1 the listener, else a client. */
	int slot_of[1 + CONTROL_CLIENTS_MAX];
};

static uint64_t monotonic_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* A string member of at most `size` - 1 bytes, with no NUL and no control character. */
static int text_member(const json_t *request, const char *name, int required, char *out,
		       size_t size, char *error, size_t error_len)
{
	out[0] = '\0';
	const json_t *v = json_object_get(request, name);
	if (!v) {
		if (required)
			snprintf(error, error_len, "'%s' is missing", name);
		return required ? -1 : 0;
	}
	size_t len = json_is_string(v) ? json_string_length(v) : 0;
	const char *s = json_is_string(v) ? json_string_value(v) : NULL;
	if (!s || len == 0 || len >= size) {
		snprintf(error, error_len, "'%s' must be a string of 1 to %zu bytes", name, size - 1);
		return -1;
	}
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
			snprintf(error, error_len, "'%s' holds a control character", name);
			return -1;
		}
	memcpy(out, s, len + 1);
	return 0;
}

int control_parse_request(const char *text, size_t len, struct control_request *request,
			  char *error, size_t error_len)
{
	memset(request, 0, sizeof *request);
	request->at_us = -1;
	while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		len--;
	if (len == 0) {
		snprintf(error, error_len, "%s", "empty request");
		return -1;
	}
	/* The bare words, for a person with socat. */
	if ((len == 6 && memcmp(text, "status", 6) == 0) || (len == 6 && memcmp(text, "reload", 6) == 0)) {
		request->command = text[0] == 's' ? CONTROL_STATUS : CONTROL_RELOAD;
		return 0;
	}
	json_error_t jerr;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		snprintf(error, error_len, "not JSON (column %d: %s)", jerr.column, jerr.text);
		return -1;
	}
	int rc = -1;
	const json_t *command = json_object_get(root, "command");
	const char *name = json_string_value(command);
	if (!json_is_object(root)) {
		snprintf(error, error_len, "%s", "a request is a JSON object");
		goto done;
	}
	if (!name) {
		snprintf(error, error_len, "%s", "'command' must be a string: status, reload or consent-mark");
		goto done;
	}
	if (strcmp(name, "status") == 0 || strcmp(name, "reload") == 0) {
		request->command = name[0] == 's' ? CONTROL_STATUS : CONTROL_RELOAD;
		if (json_object_size(root) != 1) {
			snprintf(error, error_len, "'%s' takes no arguments", name);
			goto done;
		}
		rc = 0;
		goto done;
	}
	if (strcmp(name, "consent-mark") != 0) {
		snprintf(error, error_len, "unknown command '%.64s' (known: status, reload, consent-mark)",
			 name);
		goto done;
	}
	request->command = CONTROL_CONSENT_MARK;
	const char *key;
	json_t *value;
	json_object_foreach(root, key, value) {
		if (strcmp(key, "command") != 0 && strcmp(key, "decision") != 0 &&
		    strcmp(key, "device") != 0 && strcmp(key, "site") != 0 && strcmp(key, "at_us") != 0) {
			snprintf(error, error_len, "consent-mark: unknown member '%.64s'", key);
			goto done;
		}
	}
	if (text_member(root, "decision", 1, request->decision, sizeof request->decision, error,
			error_len) != 0 ||
	    text_member(root, "device", 1, request->device, sizeof request->device, error,
			error_len) != 0 ||
	    text_member(root, "site", 0, request->site, sizeof request->site, error, error_len) != 0)
		goto done;
	if (strcmp(request->decision, "accept") != 0 && strcmp(request->decision, "reject") != 0 &&
	    strcmp(request->decision, "partial") != 0) {
		snprintf(error, error_len, "%s", "'decision' must be accept, reject or partial");
		goto done;
	}
	const json_t *at = json_object_get(root, "at_us");
	if (at) {
		/* From 1970 to the year 9999, as `trackwatch consent mark --at` allows. */
		if (!json_is_integer(at) || json_integer_value(at) < 0 ||
		    json_integer_value(at) > 253402300799LL * 1000000) {
			snprintf(error, error_len, "%s",
				 "'at_us' must be microseconds since the epoch, up to the year 9999");
			goto done;
		}
		request->at_us = json_integer_value(at);
	}
	rc = 0;
done:
	json_decref(root);
	return rc;
}

struct control *control_listen(const char *path, gid_t gid, char *error, size_t error_len)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof addr.sun_path) {
		snprintf(error, error_len, "%s: a socket's name is at most %zu bytes", path,
			 sizeof addr.sun_path - 1);
		return NULL;
	}
	memcpy(addr.sun_path, path, strlen(path) + 1);
	struct stat st;
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(error, error_len, "%s: exists and is not a socket", path);
			return NULL;
		}
		/* A socket someone answers on is another daemon's; else a stale one to replace. */
		int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (probe >= 0 && connect(probe, (struct sockaddr *)&addr, sizeof addr) == 0) {
			close(probe);
			snprintf(error, error_len, "%s: another trackwatchd is listening there", path);
			return NULL;
		}
		if (probe >= 0)
			close(probe);
		if (unlink(path) != 0) {
			snprintf(error, error_len, "%s: cannot remove the stale socket: %s", path,
				 strerror(errno));
			return NULL;
		}
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(error, error_len, "%s: socket: %s", path, strerror(errno));
		return NULL;
	}
	/* Made 0660 from the start: no moment when others could connect. */
	mode_t old = umask(0117);
	int bound = bind(fd, (struct sockaddr *)&addr, sizeof addr);
	int bind_errno = errno;
	umask(old);
	if (bound != 0) {
		snprintf(error, error_len, "%s: cannot listen: %s", path, strerror(bind_errno));
		close(fd);
		return NULL;
	}
	/*
	 * The umask made it 0660. The group is set by name, so without following
	 * a symbolic link that another user might have put in its place.
	 */
	if ((gid != (gid_t)-1 && lchown(path, (uid_t)-1, gid) != 0) ||
	    listen(fd, CONTROL_CLIENTS_MAX) != 0) {
		snprintf(error, error_len, "%s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return NULL;
	}
	struct control *control = calloc(1, sizeof *control);
	if (!control || !(control->path = strdup(path))) {
		snprintf(error, error_len, "%s: out of memory", path);
		free(control);
		close(fd);
		unlink(path);
		return NULL;
	}
	control->fd = fd;
	for (int i = 0; i < CONTROL_CLIENTS_MAX; i++)
		control->clients[i].fd = -1;
	return control;
}

const char *control_path(const struct control *control)
{
	return control->path;
}

static void drop_client(struct client *client)
{
	close(client->fd);
	client->fd = -1;
	client->len = 0;
}

/* Writes the answer and a newline; a client too slow to take it loses it. */
static void answer(struct client *client, const char *text)
{
	size_t len = strlen(text);
	char *line = malloc(len + 1);
	if (line) {
		memcpy(line, text, len);
		line[len] = '\n';
		size_t done = 0;
		while (done < len + 1) {
			ssize_t n = send(client->fd, line + done, len + 1 - done, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n <= 0)
				break;
			done += (size_t)n;
		}
		free(line);
	}
	/*
	 * What the client sent beyond its request is read and let go: closing
	 * with unread bytes would reset the connection and lose the answer.
	 */
	char sink[4096];
	for (int i = 0; i < 16 && recv(client->fd, sink, sizeof sink, MSG_DONTWAIT) > 0; i++)
		;
	drop_client(client);
}

static void answer_error(struct client *client, const char *reason)
{
	json_t *o = json_pack("{s:b, s:s}", "ok", 0, "error", reason);
	char *text = o ? json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
	answer(client, text ? text : "{\"ok\":false,\"error\":\"out of memory\"}");
	free(text);
	json_decref(o);
}

static void serve(struct client *client, control_handler_fn handler, void *context)
{
	struct control_request request;
	char error[CONTROL_ERROR_MAX];
	if (control_parse_request(client->buf, client->len, &request, error, sizeof error) != 0) {
		answer_error(client, error);
		return;
	}
	char *text = handler(context, &request);
	if (!text) {
		answer_error(client, "out of memory");
		return;
	}
	answer(client, text);
	free(text);
}

size_t control_pollfds(struct control *control, struct pollfd *fds)
{
	size_t n = 0;
	uint64_t now = monotonic_ms();
	control->slot_of[n] = -1;
	fds[n++] = (struct pollfd){ .fd = control->fd,
				    .events = now >= control->accept_after_ms ? POLLIN : 0 };
	for (int i = 0; i < CONTROL_CLIENTS_MAX; i++) {
		struct client *client = &control->clients[i];
		if (client->fd < 0)
			continue;
		if (now >= client->deadline_ms) {
			answer_error(client, "no complete request in time");
			continue;
		}
		control->slot_of[n] = i;
		fds[n++] = (struct pollfd){ .fd = client->fd, .events = POLLIN };
	}
	return n;
}

void control_service(struct control *control, const struct pollfd *fds, size_t count,
		     control_handler_fn handler, void *context)
{
	for (size_t k = 0; k < count; k++) {
		if (!fds[k].revents)
			continue;
		if (control->slot_of[k] >= 0) {
			struct client *client = &control->clients[control->slot_of[k]];
			if (client->fd != fds[k].fd)
				continue;
			ssize_t n = recv(client->fd, client->buf + client->len,
					 sizeof client->buf - client->len, MSG_DONTWAIT);
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (n < 0) {
				drop_client(client);
				continue;
			}
			client->len += (size_t)n;
			/* A whole line, or the client's end of writing, makes the request. */
			if (memchr(client->buf, '\n', client->len)) {
				client->len = (size_t)((char *)memchr(client->buf, '\n', client->len) - client->buf);
				serve(client, handler, context);
			} else if (n == 0) {
				if (client->len)
					serve(client, handler, context);
				else
					drop_client(client);
			} else if (client->len == sizeof client->buf) {
				char reason[80];
				snprintf(reason, sizeof reason, "request longer than %d bytes",
					 CONTROL_REQUEST_MAX - 1);
				answer_error(client, reason);
			}
			continue;
		}
		/* The listener: take every connection waiting. */
		for (;;) {
			int fd = accept4(control->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
			if (fd < 0) {
				/* Out of descriptors: the listener stays readable; rest a second, not spin. */
				if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
					control->accept_after_ms = monotonic_ms() + 1000;
				break;
			}
			struct client *free_slot = NULL;
			for (int i = 0; !free_slot && i < CONTROL_CLIENTS_MAX; i++)
				if (control->clients[i].fd < 0)
					free_slot = &control->clients[i];
			if (!free_slot) {
				struct client busy = { .fd = fd };
				answer_error(&busy, "busy: too many connections");
				continue;
			}
			free_slot->fd = fd;
			free_slot->len = 0;
			free_slot->deadline_ms = monotonic_ms() + CONTROL_TIMEOUT_MS;
		}
	}
}

void control_close(struct control *control)
{
	if (!control)
		return;
	for (int i = 0; i < CONTROL_CLIENTS_MAX; i++)
		if (control->clients[i].fd >= 0)
			drop_client(&control->clients[i]);
	close(control->fd);
	unlink(control->path);
	free(control->path);
	free(control);
}
