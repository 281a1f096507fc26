/*
 * trackwatch status and trackwatch reload: the live daemon through its
 * control socket (daemon/control.h has the protocol); and the paths the
 * configuration gives the other commands.
 */
#include "control.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../daemon/config.h"
#include "../daemon/control.h"
#include "commands.h"
#include "db.h"

#define DEFAULT_CONFIG "/etc/trackwatch/trackwatch.yaml"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };
enum { ANSWER_MAX = 1 << 20, ANSWER_TIMEOUT_MS = 10000 };

int cli_paths(const char *config_path, const char *command, const char **db_path,
	      const char **socket_path)
{
	static struct daemon_config config;
	static int loaded;
	if (!loaded) {
		config_defaults(&config);
		struct stat st;
		if (!config_path && stat(DEFAULT_CONFIG, &st) == 0)
			config_path = DEFAULT_CONFIG;
		char err[512];
		if (config_path && config_load(&config, config_path, err, sizeof err) != 0) {
			fprintf(stderr, "%s: %s\n", command, err);
			return -1;
		}
		loaded = 1;
	}
	if (db_path)
		*db_path = config.db_path ? config.db_path : DB_DEFAULT_PATH;
	if (socket_path)
		*socket_path = config.control_socket ? config.control_socket : CONFIG_DEFAULT_SOCKET;
	return 0;
}

static uint64_t monotonic_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int cli_control_request(const char *socket_path, const json_t *request, json_t **answer,
			char *error, size_t error_len)
{
	*answer = NULL;
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	if (strcmp(socket_path, "none") == 0) {
		snprintf(error, error_len, "%s", "the configuration has no control socket (control.socket: none)");
		return CLI_DAEMON_DOWN;
	}
	if (strlen(socket_path) >= sizeof addr.sun_path) {
		snprintf(error, error_len, "%s: name too long for a socket", socket_path);
		return -1;
	}
	memcpy(addr.sun_path, socket_path, strlen(socket_path) + 1);
	/* Non-blocking connect: a daemon whose queue of connections is full says so at once. */
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		snprintf(error, error_len, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
		int e = errno;
		snprintf(error, error_len, "%s: %s%s", socket_path, strerror(e),
			 e == ENOENT || e == ECONNREFUSED ? " (is trackwatchd running?)"
			 : e == EAGAIN ? " (the daemon is busy; try again)" : "");
		close(fd);
		return e == ENOENT || e == ECONNREFUSED ? CLI_DAEMON_DOWN : -1;
	}
	int flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
		snprintf(error, error_len, "%s: %s", socket_path, strerror(errno));
		close(fd);
		return -1;
	}
	char *text = json_dumps(request, JSON_COMPACT);
	size_t len = text ? strlen(text) : 0;
	int rc = -1;
	char *buf = malloc(ANSWER_MAX);
	if (!text || !buf) {
		snprintf(error, error_len, "%s", "out of memory");
		goto done;
	}
	text[len] = '\n'; /* json_dumps' NUL becomes the request's end of line */
	if (send(fd, text, len + 1, MSG_NOSIGNAL) != (ssize_t)(len + 1)) {
		snprintf(error, error_len, "%s: cannot send: %s", socket_path, strerror(errno));
		goto done;
	}
	size_t got = 0;
	uint64_t deadline = monotonic_ms() + ANSWER_TIMEOUT_MS;
	while (got < ANSWER_MAX && !memchr(buf, '\n', got)) {
		uint64_t now = monotonic_ms();
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		if (now >= deadline || poll(&pfd, 1, (int)(deadline - now)) <= 0) {
			snprintf(error, error_len, "%s: no answer within %d s", socket_path,
				 ANSWER_TIMEOUT_MS / 1000);
			goto done;
		}
		ssize_t n = recv(fd, buf + got, ANSWER_MAX - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	json_error_t jerr;
	*answer = json_loadb(buf, got, JSON_DISABLE_EOF_CHECK, &jerr);
	if (!json_is_object(*answer)) {
		snprintf(error, error_len, "%s: the daemon's answer is not a JSON object: %s", socket_path,
			 got ? jerr.text : "no answer");
		json_decref(*answer);
		*answer = NULL;
		goto done;
	}
	rc = 0;
done:
	free(text);
	free(buf);
	close(fd);
	return rc;
}

static void status_usage(FILE *out, const char *name)
{
	int status = strcmp(name, "status") == 0;
	fprintf(out, "Usage: trackwatch [-c FILE] %s [OPTION]...\n", name);
	if (status)
		fprintf(out,
"Ask the running trackwatchd how it is doing: uptime, interfaces with their\n"
"packets and drops, flows, observations, tracker hits, the writer's queue, the\n"
"lists in use.\n");
	else
		fprintf(out,
"Make the running trackwatchd read its configuration, lists and consent rules\n"
"again (as SIGHUP does) and say whether that worked; if not, the daemon keeps\n"
"what it had.\n");
	fprintf(out,
"\n"
"Options:\n"
"      --socket PATH      the daemon's control socket (default: control.socket of\n"
"                         the configuration, else " CONFIG_DEFAULT_SOCKET ")\n");
	if (status)
		fprintf(out,
"      --format FORMAT    text (default) or json (the daemon's answer as it is)\n");
	fprintf(out,
"  -h, --help             show this help and exit\n"
"\n"
"Exit status: 0 when the daemon answered yes, 1 when it is not running or\n"
"said no, 2 on a usage error. See trackwatch(1), STATUS.\n");
}

static const char *text_or(const json_t *v, const char *none)
{
	return json_is_string(v) ? json_string_value(v) : none;
}

/* A string from the daemon, printed with what is not printable escaped. */
static void print_safe(struct db_buf *buf, const char *s)
{
	const char *e = db_escape(buf, s, strlen(s), 1);
	fputs(e ? e : "?", stdout);
}

static void print_status(const json_t *a)
{
	struct db_buf buf = { 0 };
	json_int_t up = json_integer_value(json_object_get(a, "uptime_s"));
	printf("trackwatchd %s, pid %" JSON_INTEGER_FORMAT ", up %" JSON_INTEGER_FORMAT " d %02"
	       JSON_INTEGER_FORMAT ":%02" JSON_INTEGER_FORMAT ":%02" JSON_INTEGER_FORMAT ", running as ",
	       text_or(json_object_get(a, "version"), "?"), json_integer_value(json_object_get(a, "pid")),
	       up / 86400, up / 3600 % 24, up / 60 % 60, up % 60);
	print_safe(&buf, text_or(json_object_get(a, "user"), "?"));
	printf("\nconfiguration: ");
	print_safe(&buf, text_or(json_object_get(a, "config"), "built-in defaults"));
	printf(" (reloaded %" JSON_INTEGER_FORMAT " times), log level %s\ndatabase: ",
	       json_integer_value(json_object_get(a, "reloads")), text_or(json_object_get(a, "log_level"), "?"));
	print_safe(&buf, text_or(json_object_get(a, "database"), "none"));
	printf("\n\n%-16s %-10s %12s %12s %10s %10s\n", "interface", "state", "frames", "received",
	       "dropped", "if_dropped");
	size_t i;
	json_t *itf;
	json_array_foreach(json_object_get(a, "interfaces"), i, itf) {
		const char *name = text_or(json_object_get(itf, "name"), "?");
		const char *e = db_escape(&buf, name, strlen(name), 1);
		printf("%-16s %-10s %12" JSON_INTEGER_FORMAT " %12" JSON_INTEGER_FORMAT " %10"
		       JSON_INTEGER_FORMAT " %10" JSON_INTEGER_FORMAT "\n", e ? e : "?",
		       text_or(json_object_get(itf, "state"), "?"),
		       json_integer_value(json_object_get(itf, "frames")),
		       json_integer_value(json_object_get(itf, "received")),
		       json_integer_value(json_object_get(itf, "dropped")),
		       json_integer_value(json_object_get(itf, "if_dropped")));
		if (json_is_string(json_object_get(itf, "error"))) {
			printf("  last error: ");
			print_safe(&buf, json_string_value(json_object_get(itf, "error")));
			putchar('\n');
		}
	}
#define N(key) json_integer_value(json_object_get(a, key))
	printf("\npackets %" JSON_INTEGER_FORMAT " (%" JSON_INTEGER_FORMAT " bytes), dropped %"
	       JSON_INTEGER_FORMAT "\nflows %" JSON_INTEGER_FORMAT " open, %" JSON_INTEGER_FORMAT
	       " in all\nobservations %" JSON_INTEGER_FORMAT ", stored rows %" JSON_INTEGER_FORMAT
	       ", tracker hits %" JSON_INTEGER_FORMAT "\nwriter queue %" JSON_INTEGER_FORMAT
	       " bytes waiting, %" JSON_INTEGER_FORMAT " observations dropped\n",
	       N("packets"), N("bytes"), N("drops"), N("flows"), N("flows_total"), N("observations"),
	       N("rows"), N("hits"), N("queue_depth"), N("queue_dropped"));
#undef N
	printf("\nlists:\n");
	json_t *list;
	json_array_foreach(json_object_get(a, "lists"), i, list) {
		printf("  ");
		print_safe(&buf, text_or(json_object_get(list, "name"), "?"));
		printf(" (%s), sha256 %.16s\n", text_or(json_object_get(list, "format"), "?"),
		       text_or(json_object_get(list, "sha256"), "?"));
	}
	db_buf_free(&buf);
}

/* trackwatch status | reload */
int cmd_control(int argc, char **argv, const char *config_path)
{
	enum { OPT_SOCKET = 0x100, OPT_FORMAT };
	static const struct option options[] = {
		{ "socket", required_argument, NULL, OPT_SOCKET },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *name = argv[0];
	int status_command = strcmp(name, "status") == 0;
	char prog[32];
	snprintf(prog, sizeof prog, "trackwatch %s", name);
	argv[0] = prog;
	const char *socket_path = NULL;
	int json = 0, c;
	optind = 0;
	while ((c = getopt_long(argc, argv, "h", options, NULL)) != -1) {
		switch (c) {
		case OPT_SOCKET:
			socket_path = optarg;
			break;
		case OPT_FORMAT:
			if (!status_command || (strcmp(optarg, "json") != 0 && strcmp(optarg, "text") != 0)) {
				fprintf(stderr, "%s: --format is text or json%s\n", prog,
					status_command ? "" : " (status only)");
				return EXIT_USAGE;
			}
			json = strcmp(optarg, "json") == 0;
			break;
		case 'h':
			status_usage(stdout, name);
			return EXIT_OK;
		default:
			fprintf(stderr, "Try '%s --help' for more information.\n", prog);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\nTry '%s --help' for more information.\n",
			prog, argv[optind], prog);
		return EXIT_USAGE;
	}
	if (!socket_path && cli_paths(config_path, prog, NULL, &socket_path) != 0)
		return EXIT_FAIL;
	json_t *request = json_pack("{s:s}", "command", name), *answer = NULL;
	char error[1024];
	int rc = request ? cli_control_request(socket_path, request, &answer, error, sizeof error) : -1;
	json_decref(request);
	if (rc != 0) {
		fprintf(stderr, "%s: %s\n", prog, request ? error : "out of memory");
		return EXIT_FAIL;
	}
	int ok = json_is_true(json_object_get(answer, "ok"));
	if (!ok) {
		struct db_buf buf = { 0 };
		const char *why = text_or(json_object_get(answer, "error"), "no reason given");
		const char *e = db_escape(&buf, why, strlen(why), 1);
		fprintf(stderr, "%s: the daemon said no: %s\n", prog, e ? e : "?");
		db_buf_free(&buf);
	} else if (json) {
		json_dumpf(answer, stdout, JSON_INDENT(2) | JSON_ENSURE_ASCII);
		putchar('\n');
	} else if (status_command) {
		print_status(answer);
	} else {
		printf("reloaded (%" JSON_INTEGER_FORMAT " reloads since start)\n",
		       json_integer_value(json_object_get(answer, "reloads")));
	}
	json_decref(answer);
	if (fflush(stdout) != 0 || ferror(stdout))
		return EXIT_FAIL;
	return ok ? EXIT_OK : EXIT_FAIL;
}
