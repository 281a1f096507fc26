/*
 * Drives blocklists/fetch.c against tests/integration/fetch-server.py (run
 * by fetch.sh): a good list lands whole and dated, an unchanged one is not
 * downloaded again, and every failure (status, size, protocol, redirects,
 * certificate, timeout, short body) names the URL, leaves no temp file and
 * leaves the list in place alone.
 *   fetch_test HTTPS_PORT CA_FILE HTTP_PORT
 * Its files go in a new directory under $TMPDIR, which fetch.sh removes.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../blocklists/fetch.h"

static const char OK_BODY[] = "# trackwatch test list\n0.0.0.0 tracker.example\n0.0.0.0 ads.example\n";
static const time_t OK_MTIME = 1735689600;
static const uint64_t SMALL_LIMIT = 1 << 20;   /* fetch.sh serves /big at 2 MiB */

static int https_port, http_port;
static const char *ca_file;
static char dir[256];
static int failures;
static int case_failed;

__attribute__((format(printf, 3, 4)))
static void check(int ok, int line, const char *fmt, ...)
{
	if (ok)
		return;
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "  FAIL (line %d): ", line);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	case_failed = 1;
}
#define CHECK(cond, ...) check((cond), __LINE__, __VA_ARGS__)

static void url(char *buf, size_t len, const char *scheme, const char *path)
{
	int n = snprintf(buf, len, "%s://127.0.0.1:%d%s", scheme,
			 strcmp(scheme, "https") == 0 ? https_port : http_port, path);
	if (n < 0 || (size_t)n >= len) {
		fprintf(stderr, "fetch_test: URL too long\n");
		exit(2);
	}
}

static void path_in_dir(char *buf, size_t len, const char *name)
{
	int n = snprintf(buf, len, "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= len) {
		fprintf(stderr, "fetch_test: path too long\n");
		exit(2);
	}
}

/* The whole file into buf (NUL-terminated); its length, or -1. */
static long slurp(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t len = 0;
	for (;;) {
		if (len + 1 >= cap) {
			close(fd);
			return -1;
		}
		ssize_t n = read(fd, buf + len, cap - 1 - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	if (close(fd) != 0)
		return -1;
	return (long)len;
}

static int write_file(const char *path, const char *text, time_t mtime)
{
	FILE *f = fopen(path, "w");
	if (f == NULL)
		return -1;
	int rc = fputs(text, f) < 0 ? -1 : 0;
	if (fclose(f) != 0)
		rc = -1;
	struct timespec ts[2] = { { .tv_sec = mtime }, { .tv_sec = mtime } };
	if (rc == 0 && utimensat(AT_FDCWD, path, ts, 0) != 0)
		rc = -1;
	return rc;
}

/* Entries of dir named "<name>.<something>": temp files of dest `name`. */
static int count_temps(const char *name)
{
	DIR *d = opendir(dir);
	if (d == NULL)
		return -1;
	size_t nlen = strlen(name);
	int count = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		if (strncmp(e->d_name, name, nlen) == 0 && e->d_name[nlen] == '.')
			count++;
	if (closedir(d) != 0)
		return -1;
	return count;
}

static struct fetch_request request(const char *u, const char *dest)
{
	return (struct fetch_request){
		.url = u, .dest_path = dest, .timeout_seconds = 20, .ca_file = ca_file,
		.user_agent = "trackwatch/test", .max_bytes = SMALL_LIMIT,
	};
}

/* A fetch that must fail: its message names the URL and `needle`; no temp file is left. */
static void expect_error(struct fetch_request req, const char *name, const char *needle)
{
	struct fetch_result res;
	char err[512] = "";
	int rc = fetch_to_file(&req, &res, err, sizeof(err));
	printf("  %s -> %s\n", req.url, rc < 0 ? err : "(no error)");
	CHECK(rc == -1, "%s: expected an error", req.url);
	CHECK(res.tmp_path == NULL, "a failed fetch returned a temp path");
	CHECK(strstr(err, req.url) != NULL, "error does not name the URL: %s", err);
	CHECK(needle == NULL || strstr(err, needle) != NULL, "error does not say \"%s\": %s",
	      needle, err);
	CHECK(count_temps(name) == 0, "a temp file was left beside %s", name);
	if (rc == 0)
		fetch_discard(&res);
}

static void case_ok_and_not_modified(void)
{
	char u[256], dest[512], buf[4096];
	url(u, sizeof(u), "https", "/ok.txt");
	path_in_dir(dest, sizeof(dest), "ok.txt");
	struct fetch_request req = request(u, dest);
	struct fetch_result res;
	char err[512] = "";

	int rc = fetch_to_file(&req, &res, err, sizeof(err));
	CHECK(rc == 0, "first fetch: %s", err);
	if (rc != 0)
		return;
	CHECK(!res.not_modified, "first fetch said not modified");
	CHECK(res.http_status == 200, "status %ld", res.http_status);
	CHECK(res.bytes == sizeof(OK_BODY) - 1, "bytes %llu", (unsigned long long)res.bytes);
	CHECK(res.last_modified == OK_MTIME, "last_modified %lld", (long long)res.last_modified);
	CHECK(res.tmp_path != NULL && strncmp(res.tmp_path, dest, strlen(dest)) == 0 &&
	      res.tmp_path[strlen(dest)] == '.', "temp file %s is not <dest>.XXXXXX", res.tmp_path);
	struct stat st = { 0 };
	CHECK(stat(res.tmp_path, &st) == 0 && (st.st_mode & 07777) == 0644,
	      "temp file mode %o", (unsigned)(st.st_mode & 07777));
	CHECK(slurp(res.tmp_path, buf, sizeof(buf)) >= 0 && strcmp(buf, OK_BODY) == 0,
	      "temp file body: %s", buf);
	CHECK(access(dest, F_OK) != 0, "dest exists before commit");

	char *tmp = strdup(res.tmp_path);
	rc = fetch_commit(&res, dest, err, sizeof(err));
	CHECK(rc == 0, "commit: %s", err);
	CHECK(res.tmp_path == NULL, "commit left tmp_path set");
	CHECK(tmp != NULL && access(tmp, F_OK) != 0, "temp file still there after commit");
	free(tmp);
	CHECK(slurp(dest, buf, sizeof(buf)) >= 0 && strcmp(buf, OK_BODY) == 0, "dest body: %s", buf);
	CHECK(stat(dest, &st) == 0 && st.st_mtime == OK_MTIME, "dest mtime %lld",
	      (long long)st.st_mtime);
	CHECK(count_temps("ok.txt") == 0, "temp files left");

	/* Unchanged on the server: If-Modified-Since from dest's mtime, 304. */
	rc = fetch_to_file(&req, &res, err, sizeof(err));
	CHECK(rc == 0, "second fetch: %s", err);
	CHECK(res.not_modified, "second fetch was not 'not modified' (status %ld)", res.http_status);
	CHECK(res.http_status == 304, "second fetch status %ld", res.http_status);
	CHECK(res.tmp_path == NULL, "not modified, yet a temp path");
	CHECK(count_temps("ok.txt") == 0, "temp files left after 304");
	fetch_discard(&res);   /* harmless without a temp file */

	/* A list older than the server's is downloaded again. */
	CHECK(write_file(dest, "old\n", OK_MTIME - 3600) == 0, "writing %s", dest);
	rc = fetch_to_file(&req, &res, err, sizeof(err));
	CHECK(rc == 0 && !res.not_modified && res.tmp_path != NULL, "refetch of a stale list: %s",
	      err);
	if (rc == 0)
		fetch_discard(&res);
	CHECK(slurp(dest, buf, sizeof(buf)) >= 0 && strcmp(buf, "old\n") == 0,
	      "discard touched dest: %s", buf);
}

static void case_404(void)
{
	char u[256], dest[512];
	url(u, sizeof(u), "https", "/404");
	path_in_dir(dest, sizeof(dest), "404.txt");
	expect_error(request(u, dest), "404.txt", "404");
	CHECK(access(dest, F_OK) != 0, "a 404 created dest");
}

static void case_big(const char *path)
{
	char u[256], dest[512], buf[64];
	url(u, sizeof(u), "https", path);
	path_in_dir(dest, sizeof(dest), "big.txt");
	CHECK(write_file(dest, "old\n", 1000000000) == 0, "writing %s", dest);
	expect_error(request(u, dest), "big.txt", "limit of 1048576 bytes");
	struct stat st = { 0 };
	CHECK(slurp(dest, buf, sizeof(buf)) >= 0 && strcmp(buf, "old\n") == 0,
	      "the existing list changed: %s", buf);
	CHECK(stat(dest, &st) == 0 && st.st_mtime == 1000000000, "the existing list's mtime changed");
}

static void case_redirect_and_discard(void)
{
	char u[256], dest[512], buf[4096];
	url(u, sizeof(u), "https", "/redirect");
	path_in_dir(dest, sizeof(dest), "redirect.txt");
	struct fetch_request req = request(u, dest);
	struct fetch_result res;
	char err[512] = "";
	int rc = fetch_to_file(&req, &res, err, sizeof(err));
	CHECK(rc == 0, "redirect: %s", err);
	if (rc != 0)
		return;
	CHECK(res.http_status == 200, "status %ld", res.http_status);
	CHECK(slurp(res.tmp_path, buf, sizeof(buf)) >= 0 && strcmp(buf, OK_BODY) == 0,
	      "redirected body: %s", buf);
	CHECK(count_temps("redirect.txt") == 1, "expected one temp file");
	fetch_discard(&res);
	CHECK(res.tmp_path == NULL, "discard left tmp_path set");
	CHECK(count_temps("redirect.txt") == 0, "discard left the temp file");
	CHECK(access(dest, F_OK) != 0, "discard created dest");
}

static void case_http(void)
{
	char u[256], dest[512], buf[4096];
	url(u, sizeof(u), "http", "/ok.txt");
	path_in_dir(dest, sizeof(dest), "http.txt");
	expect_error(request(u, dest), "http.txt", "https only");

	/* Nor through a redirect from https. */
	char target[256], via[512];
	url(target, sizeof(target), "http", "/ok.txt");
	int n = snprintf(via, sizeof(via), "https://127.0.0.1:%d/goto?%s", https_port, target);
	CHECK(n > 0 && (size_t)n < sizeof(via), "URL too long");
	expect_error(request(via, dest), "http.txt", NULL);

	/* allow_http is the test server's way in. */
	struct fetch_request req = request(u, dest);
	req.allow_http = true;
	struct fetch_result res;
	char err[512] = "";
	int rc = fetch_to_file(&req, &res, err, sizeof(err));
	CHECK(rc == 0, "http with allow_http: %s", err);
	if (rc != 0)
		return;
	CHECK(slurp(res.tmp_path, buf, sizeof(buf)) >= 0 && strcmp(buf, OK_BODY) == 0,
	      "http body: %s", buf);
	fetch_discard(&res);
}

static void case_user_agent(void)
{
	char u[256], dest[512], buf[256];
	url(u, sizeof(u), "https", "/ua");
	path_in_dir(dest, sizeof(dest), "ua.txt");
	struct fetch_request req = request(u, dest);
	struct fetch_result res;
	char err[512] = "";
	int rc = fetch_to_file(&req, &res, err, sizeof(err));
	CHECK(rc == 0, "ua: %s", err);
	if (rc != 0)
		return;
	CHECK(slurp(res.tmp_path, buf, sizeof(buf)) >= 0 && strcmp(buf, "trackwatch/test") == 0,
	      "User-Agent seen by the server: %s", buf);
	fetch_discard(&res);
}

static void case_untrusted_certificate(void)
{
	char u[256], dest[512];
	url(u, sizeof(u), "https", "/ok.txt");
	path_in_dir(dest, sizeof(dest), "untrusted.txt");
	struct fetch_request req = request(u, dest);
	req.ca_file = NULL;   /* the system's CAs do not know the test's certificate */
	expect_error(req, "untrusted.txt", "certificate");
}

static void case_slow(void)
{
	char u[256], dest[512];
	url(u, sizeof(u), "https", "/slow");
	path_in_dir(dest, sizeof(dest), "slow.txt");
	struct fetch_request req = request(u, dest);
	req.timeout_seconds = 2;
	struct timespec t0, t1;
	CHECK(clock_gettime(CLOCK_MONOTONIC, &t0) == 0, "clock");
	expect_error(req, "slow.txt", "timed out");
	CHECK(clock_gettime(CLOCK_MONOTONIC, &t1) == 0, "clock");
	double took = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	CHECK(took >= 1.5 && took < 6, "the 2 s timeout took %.1f s", took);
}

static void case_simple_error(const char *path, const char *name, const char *needle)
{
	char u[256], dest[512];
	url(u, sizeof(u), "https", path);
	path_in_dir(dest, sizeof(dest), name);
	expect_error(request(u, dest), name, needle);
}

static void case_missing_directory(void)
{
	char u[256], dest[512];
	url(u, sizeof(u), "https", "/ok.txt");
	path_in_dir(dest, sizeof(dest), "no-such-dir/list.txt");
	expect_error(request(u, dest), "no-such-dir", "no-such-dir");
}

static void run(const char *name, void (*fn)(void), int *passed)
{
	printf("== %s\n", name);
	fflush(stdout);
	case_failed = 0;
	fn();
	if (case_failed)
		failures++;
	else
		(*passed)++;
}

static void case_big_length(void) { case_big("/big"); }
static void case_big_nolength(void) { case_big("/big-nolength"); }
static void case_truncated(void) { case_simple_error("/truncated", "truncated.txt", NULL); }
static void case_loop(void) { case_simple_error("/loop", "loop.txt", "edirect"); }

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: fetch_test HTTPS_PORT CA_FILE HTTP_PORT\n");
		return 2;
	}
	https_port = atoi(argv[1]);
	ca_file = argv[2];
	http_port = atoi(argv[3]);
	if (https_port <= 0 || http_port <= 0) {
		fprintf(stderr, "fetch_test: bad port\n");
		return 2;
	}
	const char *base = getenv("TMPDIR");
	int n = snprintf(dir, sizeof(dir), "%s/fetch_test.XXXXXX", base && *base ? base : "/tmp");
	if (n < 0 || (size_t)n >= sizeof(dir) || mkdtemp(dir) == NULL) {
		fprintf(stderr, "fetch_test: mkdtemp: %s\n", strerror(errno));
		return 2;
	}
	char err[256];
	if (fetch_global_init(err, sizeof(err)) != 0) {
		fprintf(stderr, "fetch_test: %s\n", err);
		return 2;
	}

	int passed = 0;
	run("ok, commit, not modified", case_ok_and_not_modified, &passed);
	run("404", case_404, &passed);
	run("big (Content-Length)", case_big_length, &passed);
	run("big (no Content-Length)", case_big_nolength, &passed);
	run("redirect, discard", case_redirect_and_discard, &passed);
	run("http refused unless allow_http", case_http, &passed);
	run("user agent", case_user_agent, &passed);
	run("untrusted certificate", case_untrusted_certificate, &passed);
	run("redirect loop", case_loop, &passed);
	run("truncated", case_truncated, &passed);
	run("slow, 2 s timeout", case_slow, &passed);
	run("missing directory", case_missing_directory, &passed);
	fetch_global_cleanup();

	printf("fetch: %d passed, %d failed\n", passed, failures);
	return failures ? 1 : 0;
}
