/*
 * The control socket: requests parsed (control_parse_request) and served
 * (control_listen, control_pollfds, control_service) over a real socket in a
 * temporary directory, as trackwatch status talks to the daemon.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../daemon/control.h"

static int parse(const char *text, struct control_request *r, char *err)
{
	return control_parse_request(text, strlen(text), r, err, CONTROL_ERROR_MAX);
}

#define BAD(text, reason)                                                              \
	do {                                                                           \
		char err_[CONTROL_ERROR_MAX] = "";                                     \
		struct control_request r_;                                             \
		assert_int_equal(parse(text, &r_, err_), -1);                          \
		if (!strstr(err_, reason))                                             \
			fail_msg("'%s': '%s' is not '%s'", text, err_, reason);       \
	} while (0)

static void test_requests(void **state)
{
	(void)state;
	struct control_request r;
	char err[CONTROL_ERROR_MAX];
	assert_int_equal(parse("{\"command\":\"status\"}\n", &r, err), 0);
	assert_int_equal(r.command, CONTROL_STATUS);
	assert_int_equal(parse("status", &r, err), 0);
	assert_int_equal(r.command, CONTROL_STATUS);
	assert_int_equal(parse("reload\r\n", &r, err), 0);
	assert_int_equal(r.command, CONTROL_RELOAD);
	assert_int_equal(parse("{\"command\": \"reload\"}", &r, err), 0);
	assert_int_equal(r.command, CONTROL_RELOAD);
	assert_int_equal(parse("{\"command\":\"consent-mark\",\"decision\":\"reject\","
			       "\"device\":\"aa:bb:cc:dd:ee:ff\",\"site\":\"news.example\","
			       "\"at_us\":1795927193990000}", &r, err), 0);
	assert_int_equal(r.command, CONTROL_CONSENT_MARK);
	assert_string_equal(r.decision, "reject");
	assert_string_equal(r.device, "aa:bb:cc:dd:ee:ff");
	assert_string_equal(r.site, "news.example");
	assert_int_equal(r.at_us, 1795927193990000LL);
	/* Site and time may be left out: "" and -1 (now). */
	assert_int_equal(parse("{\"command\":\"consent-mark\",\"decision\":\"partial\",\"device\":\"k\"}",
			       &r, err), 0);
	assert_string_equal(r.site, "");
	assert_int_equal(r.at_us, -1);
	/* UTF-8 in a name is kept as it is. */
	assert_int_equal(parse("{\"command\":\"consent-mark\",\"decision\":\"accept\",\"device\":\"k\\u00fcche\"}",
			       &r, err), 0);
	assert_string_equal(r.device, "k\xc3\xbc" "che");
	/* 255 bytes fit, 256 do not. */
	char big[400];
	snprintf(big, sizeof big, "{\"command\":\"consent-mark\",\"decision\":\"accept\",\"device\":\"%0255d\"}", 0);
	assert_int_equal(parse(big, &r, err), 0);
	assert_int_equal(strlen(r.device), 255);
	snprintf(big, sizeof big, "{\"command\":\"consent-mark\",\"decision\":\"accept\",\"device\":\"%0256d\"}", 0);
	BAD(big, "'device' must be a string of 1 to 255 bytes");

	BAD("", "empty request");
	BAD("\n", "empty request");
	BAD("statusx", "not JSON");
	BAD("STATUS", "not JSON");
	BAD("[\"status\"]", "a request is a JSON object");
	BAD("\"status\"", "not JSON");
	BAD("{}", "'command' must be a string");
	BAD("{\"command\": null}", "'command' must be a string");
	BAD("{\"command\":\"status\",\"command\":\"reload\"}", "not JSON");  /* duplicate key */
	BAD("{\"command\":\"halt\"}", "unknown command 'halt' (known: status, reload, consent-mark)");
	BAD("{\"command\":\"status\",\"verbose\":true}", "'status' takes no arguments");
	BAD("{\"command\":\"status\"} {}", "not JSON");
	BAD("{\"command\":\"consent-mark\",\"device\":\"x\"}", "'decision' is missing");
	BAD("{\"command\":\"consent-mark\",\"decision\":\"accept\"}", "'device' is missing");
	BAD("{\"command\":\"consent-mark\",\"decision\":\"yes\",\"device\":\"x\"}",
	    "'decision' must be accept, reject or partial");
	BAD("{\"command\":\"consent-mark\",\"decision\":\"accept\",\"device\":\"\"}", "'device' must be a string");
	BAD("{\"command\":\"consent-mark\",\"decision\":\"accept\",\"device\":5}", "'device' must be a string");
	BAD("{\"command\":\"consent-mark\",\"decision\":\"accept\",\"device\":\"a\\nb\"}",
	    "'device' holds a control character");
	BAD("{\"command\":\"consent-mark\",\"decision\":\"accept\",\"device\":\"a\\u0000b\"}",
	    "\\u0000 is not allowed");
	BAD("{\"command\":\"consent-mark\",\"decision\":\"accept\",\"device\":\"x\",\"site\":\"\\u007f\"}",
	    "'site' holds a control character");
	BAD("{\"command\":\"consent-mark\",\"decision\":\"accept\",\"device\":\"x\",\"at_us\":-1}", "'at_us' must be");
	BAD("{\"command\":\"consent-mark\",\"decision\":\"accept\",\"device\":\"x\",\"at_us\":1.5}", "'at_us' must be");
	BAD("{\"command\":\"consent-mark\",\"decision\":\"accept\",\"device\":\"x\",\"at_us\":253402300800000000}",
	    "'at_us' must be");
	BAD("{\"command\":\"consent-mark\",\"decision\":\"accept\",\"device\":\"x\",\"by\":\"me\"}",
	    "consent-mark: unknown member 'by'");
	/* Bytes that are not UTF-8, and a NUL inside the request. */
	BAD("{\"command\":\"\xff\"}", "not JSON");
	char nul[] = "{\"command\":\"status\"}\0junk";
	assert_int_equal(control_parse_request(nul, sizeof nul - 1, &r, err, sizeof err), -1);
}

/* ---- Serving over a real socket ---- */

static char dir[] = "/tmp/test_control.XXXXXX";
static char path[100];

static char *answer_with(void *context, const struct control_request *request)
{
	int *served = context;
	(*served)++;
	char *text = malloc(64);
	snprintf(text, 64, "{\"ok\":true,\"command\":%d}", (int)request->command);
	return text;
}

static int client(const char *request, size_t len, int shut)
{
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path);
	assert_int_equal(connect(fd, (struct sockaddr *)&addr, sizeof addr), 0);
	if (len)
		assert_int_equal(send(fd, request, len, 0), (ssize_t)len);
	if (shut)
		shutdown(fd, SHUT_WR);
	return fd;
}

/* Polls and serves until every client has its answer (or 50 rounds). */
static void serve(struct control *control, int *served)
{
	for (int round = 0; round < 50; round++) {
		struct pollfd fds[1 + CONTROL_CLIENTS_MAX];
		size_t n = control_pollfds(control, fds);
		if (poll(fds, n, 20) > 0)
			control_service(control, fds, n, answer_with, served);
	}
}

static void read_answer(int fd, char *out, size_t size)
{
	size_t got = 0;
	ssize_t n;
	while (got + 1 < size && (n = recv(fd, out + got, size - 1 - got, 0)) > 0)
		got += (size_t)n;
	out[got] = '\0';
	close(fd);
}

static void test_serving(void **state)
{
	(void)state;
	char err[CONTROL_ERROR_MAX];
	int served = 0;
	struct control *control = control_listen(path, (gid_t)-1, err, sizeof err);
	if (!control)
		fail_msg("%s", err);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0660);
	/* Another daemon on the same socket is refused. */
	assert_null(control_listen(path, (gid_t)-1, err, sizeof err));
	assert_non_null(strstr(err, "another trackwatchd is listening there"));

	/* A request, a bare word with the client's end of writing and no newline, garbage. */
	int a = client("{\"command\":\"reload\"}\n", 21, 0);
	int b = client("status", 6, 1);
	int c = client("nonsense\n", 9, 0);
	int d = client("", 0, 1);   /* says nothing: closed */
	char big[CONTROL_REQUEST_MAX + 100];
	memset(big, 'x', sizeof big);
	int e = client(big, sizeof big, 0);
	serve(control, &served);
	char out[1024];
	read_answer(a, out, sizeof out);
	assert_string_equal(out, "{\"ok\":true,\"command\":1}\n");
	read_answer(b, out, sizeof out);
	assert_string_equal(out, "{\"ok\":true,\"command\":0}\n");
	read_answer(c, out, sizeof out);
	assert_non_null(strstr(out, "\"ok\":false"));
	assert_non_null(strstr(out, "not JSON"));
	read_answer(d, out, sizeof out);
	assert_string_equal(out, "");
	read_answer(e, out, sizeof out);
	assert_non_null(strstr(out, "request longer than 4095 bytes"));
	assert_int_equal(served, 2);

	/* More clients than it serves at once: the one too many is told so. */
	int fds[CONTROL_CLIENTS_MAX + 1];
	for (int i = 0; i <= CONTROL_CLIENTS_MAX; i++)
		fds[i] = client("{\"comm", 6, 0);
	serve(control, &served);
	int busy = 0;
	for (int i = 0; i <= CONTROL_CLIENTS_MAX; i++) {
		char small[256] = "";
		if (recv(fds[i], small, sizeof small - 1, MSG_DONTWAIT) > 0 && strstr(small, "busy"))
			busy++;
	}
	assert_int_equal(busy, 1);
	for (int i = 0; i <= CONTROL_CLIENTS_MAX; i++)
		close(fds[i]);
	serve(control, &served);
	control_close(control);
	assert_int_equal(stat(path, &st), -1);
	assert_int_equal(errno, ENOENT);
}

static void test_stale_and_wrong(void **state)
{
	(void)state;
	char err[CONTROL_ERROR_MAX];
	/* A socket left by a daemon that died is replaced. */
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path);
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof addr), 0);
	close(fd);
	struct control *control = control_listen(path, (gid_t)-1, err, sizeof err);
	if (!control)
		fail_msg("%s", err);
	control_close(control);
	/* A file that is no socket is left alone. */
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	assert_null(control_listen(path, (gid_t)-1, err, sizeof err));
	assert_non_null(strstr(err, "exists and is not a socket"));
	unlink(path);
	/* A name too long for a socket, and a directory that is not there. */
	char longname[200];
	memset(longname, 'a', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	assert_null(control_listen(longname, (gid_t)-1, err, sizeof err));
	assert_non_null(strstr(err, "a socket's name is at most 107 bytes"));
	assert_null(control_listen("/nonexistent/dir/s.sock", (gid_t)-1, err, sizeof err));
	assert_non_null(strstr(err, "/nonexistent/dir/s.sock: cannot listen: No such file or directory"));
}

int main(void)
{
	if (!mkdtemp(dir))
		return 1;
	snprintf(path, sizeof path, "%s/s.sock", dir);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_requests),
		cmocka_unit_test(test_serving),
		cmocka_unit_test(test_stale_and_wrong),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);
	unlink(path);
	rmdir(dir);
	return failed;
}
