/*
 * fetch: libcurl downloads of tracker lists into a temp file beside the
 * final path, renamed into place only once the caller has verified it
 * (see fetch.h for the rules and the thread notes).
 */
#include "fetch.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

__attribute__((format(printf, 3, 4)))
static void set_err(char *err, size_t err_len, const char *fmt, ...)
{
	if (err == NULL || err_len == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(err, err_len, fmt, ap);
	va_end(ap);
	if (n < 0)
		snprintf(err, err_len, "error message could not be formatted");
}

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;
static bool global_done;

static void global_init_once(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
	global_done = global_rc == CURLE_OK;
}

int fetch_global_init(char *err, size_t err_len)
{
	int rc = pthread_once(&global_once, global_init_once);
	if (rc != 0) {
		set_err(err, err_len, "libcurl setup: %s", strerror(rc));
		return -1;
	}
	if (global_rc != CURLE_OK) {
		set_err(err, err_len, "libcurl setup: %s", curl_easy_strerror(global_rc));
		return -1;
	}
	return 0;
}

void fetch_global_cleanup(void)
{
	if (global_done) {
		curl_global_cleanup();
		global_done = false;
	}
}

/* Where the body goes, and why writing stopped. */
struct sink {
	CURL *h;
	int fd;
	uint64_t bytes;
	uint64_t max;
	long bad_status;    /* a final status other than 200 seen in the body callback */
	bool too_big;
	int write_errno;
	bool getinfo_failed;
};

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct sink *s = userdata;
	size_t total = size * nmemb;
	if (total == 0)
		return 0;

	long status = 0;
	if (curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK) {
		s->getinfo_failed = true;
		return 0;
	}
	if (status >= 300 && status < 400)
		return total;   /* the body of a redirect being followed: not ours */
	if (status != 200) {
		s->bad_status = status;
		return 0;
	}
	if (total > s->max - s->bytes) {
		s->too_big = true;
		return 0;
	}
	for (size_t off = 0; off < total;) {
		ssize_t n = write(s->fd, ptr + off, total - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			s->write_errno = errno;
			return 0;
		}
		off += (size_t)n;
	}
	s->bytes += total;
	return total;
}

/* "dir" of "dir/name"; "." for "name", "/" for "/name". The caller frees. */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (slash == NULL)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, (size_t)(slash - path));
}

#define SETOPT(opt, val) do { \
	CURLcode setopt_rc_ = curl_easy_setopt(h, opt, val); \
	if (setopt_rc_ != CURLE_OK) { \
		set_err(err, err_len, "%s: setting " #opt ": %s", req->url, \
			curl_easy_strerror(setopt_rc_)); \
		goto fail; \
	} \
} while (0)

int fetch_to_file(const struct fetch_request *req, struct fetch_result *res,
		  char *err, size_t err_len)
{
	memset(res, 0, sizeof(*res));
	res->last_modified = -1;
	if (req->url == NULL || req->dest_path == NULL || req->dest_path[0] == '\0') {
		set_err(err, err_len, "fetch: a URL and a destination path are needed");
		return -1;
	}
	if (fetch_global_init(err, err_len) < 0)
		return -1;

	CURL *h = NULL;
	char *tmp = NULL;
	int fd = -1;
	char errbuf[CURL_ERROR_SIZE];
	errbuf[0] = '\0';

	/* If-Modified-Since from the list we have. */
	struct stat st;
	bool have_dest = false;
	if (stat(req->dest_path, &st) == 0) {
		have_dest = true;
	} else if (errno != ENOENT) {
		set_err(err, err_len, "%s: %s: %s", req->url, req->dest_path, strerror(errno));
		return -1;
	}

	size_t dlen = strlen(req->dest_path);
	tmp = malloc(dlen + sizeof(".XXXXXX"));
	if (tmp == NULL) {
		set_err(err, err_len, "%s: out of memory", req->url);
		return -1;
	}
	memcpy(tmp, req->dest_path, dlen);
	memcpy(tmp + dlen, ".XXXXXX", sizeof(".XXXXXX"));
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		set_err(err, err_len, "%s: creating a temporary file beside %s: %s", req->url,
			req->dest_path, strerror(errno));
		free(tmp);
		return -1;
	}
	if (fchmod(fd, 0644) != 0) {
		set_err(err, err_len, "%s: chmod %s: %s", req->url, tmp, strerror(errno));
		goto fail;
	}

	h = curl_easy_init();
	if (h == NULL) {
		set_err(err, err_len, "%s: libcurl could not make a handle", req->url);
		goto fail;
	}
	struct sink sink = {
		.h = h, .fd = fd,
		.max = req->max_bytes ? req->max_bytes : FETCH_DEFAULT_MAX_BYTES,
	};
	long timeout = req->timeout_seconds > 0 ? req->timeout_seconds : FETCH_DEFAULT_TIMEOUT_SECONDS;
	const char *protocols = req->allow_http ? "http,https" : "https";

	SETOPT(CURLOPT_ERRORBUFFER, errbuf);
	SETOPT(CURLOPT_URL, req->url);
	SETOPT(CURLOPT_PROTOCOLS_STR, protocols);
	SETOPT(CURLOPT_REDIR_PROTOCOLS_STR, protocols);
	SETOPT(CURLOPT_FOLLOWLOCATION, 1L);
	SETOPT(CURLOPT_MAXREDIRS, 5L);
	SETOPT(CURLOPT_NOSIGNAL, 1L);
	SETOPT(CURLOPT_TIMEOUT, timeout);
	SETOPT(CURLOPT_CONNECTTIMEOUT, timeout < 30 ? timeout : 30L);
	SETOPT(CURLOPT_USERAGENT, req->user_agent ? req->user_agent : "trackwatch");
	/* Lists compress well; the limit applies to the decoded body (on_body). */
	SETOPT(CURLOPT_ACCEPT_ENCODING, "");
	/* Refuses at once a body whose Content-Length is over the limit. */
	SETOPT(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)(sink.max > INT64_MAX ? INT64_MAX : sink.max));
	SETOPT(CURLOPT_FILETIME, 1L);
	SETOPT(CURLOPT_WRITEFUNCTION, on_body);
	SETOPT(CURLOPT_WRITEDATA, &sink);
	if (req->ca_file != NULL)
		SETOPT(CURLOPT_CAINFO, req->ca_file);
	if (have_dest) {
		SETOPT(CURLOPT_TIMECONDITION, (long)CURL_TIMECOND_IFMODSINCE);
		SETOPT(CURLOPT_TIMEVALUE_LARGE, (curl_off_t)st.st_mtime);
	}

	CURLcode rc = curl_easy_perform(h);

	long status = 0;
	if (curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK)
		status = 0;
	res->http_status = status;
	char *eff = NULL;
	if (curl_easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &eff) != CURLE_OK)
		eff = NULL;
	bool redirected = eff != NULL && strcmp(eff, req->url) != 0;

	if (rc != CURLE_OK) {
		long bad = sink.bad_status ? sink.bad_status : (status >= 400 ? status : 0);
		if (bad != 0)
			set_err(err, err_len, "%s: HTTP status %ld%s%s%s", req->url, bad,
				redirected ? " (from " : "", redirected ? eff : "", redirected ? ")" : "");
		else if (sink.too_big || rc == CURLE_FILESIZE_EXCEEDED)
			set_err(err, err_len, "%s: larger than the limit of %llu bytes", req->url,
				(unsigned long long)sink.max);
		else if (sink.write_errno != 0)
			set_err(err, err_len, "%s: writing %s: %s", req->url, tmp,
				strerror(sink.write_errno));
		else if (sink.getinfo_failed)
			set_err(err, err_len, "%s: libcurl could not tell the response status", req->url);
		else
			set_err(err, err_len, "%s: %s%s", req->url,
				errbuf[0] ? errbuf : curl_easy_strerror(rc),
				rc == CURLE_UNSUPPORTED_PROTOCOL && !req->allow_http
					? " (lists are fetched over https only)" : "");
		goto fail;
	}

	long unmet = 0;
	if (curl_easy_getinfo(h, CURLINFO_CONDITION_UNMET, &unmet) != CURLE_OK) {
		set_err(err, err_len, "%s: libcurl could not tell whether the list changed", req->url);
		goto fail;
	}
	if (unmet) {
		res->not_modified = true;
		curl_easy_cleanup(h);
		if (close(fd) != 0 || unlink(tmp) != 0) {
			set_err(err, err_len, "%s: removing %s: %s", req->url, tmp, strerror(errno));
			fd = -1;
			h = NULL;
			goto fail;
		}
		free(tmp);
		return 0;
	}
	if (status != 200) {
		set_err(err, err_len, "%s: HTTP status %ld%s%s%s", req->url, status,
			redirected ? " (from " : "", redirected ? eff : "", redirected ? ")" : "");
		goto fail;
	}
	curl_off_t filetime = -1;
	if (curl_easy_getinfo(h, CURLINFO_FILETIME_T, &filetime) != CURLE_OK)
		filetime = -1;
	res->last_modified = filetime >= 0 ? (time_t)filetime : -1;
	res->bytes = sink.bytes;
	curl_easy_cleanup(h);
	h = NULL;

	if (fsync(fd) != 0) {
		set_err(err, err_len, "%s: fsync %s: %s", req->url, tmp, strerror(errno));
		goto fail;
	}
	int cfd = fd;
	fd = -1;
	if (close(cfd) != 0) {
		set_err(err, err_len, "%s: close %s: %s", req->url, tmp, strerror(errno));
		goto fail;
	}
	res->tmp_path = tmp;
	return 0;

fail:
	if (h != NULL)
		curl_easy_cleanup(h);
	if (fd >= 0)
		(void)close(fd);   /* the file is being removed: its close status does not matter */
	if (tmp != NULL) {
		(void)unlink(tmp); /* best effort: already reporting the first error */
		free(tmp);
	}
	memset(res, 0, sizeof(*res));
	res->last_modified = -1;
	return -1;
}

int fetch_commit(struct fetch_result *res, const char *dest_path, char *err, size_t err_len)
{
	if (res->tmp_path == NULL) {
		set_err(err, err_len, "%s: nothing downloaded to commit", dest_path);
		return -1;
	}
	char *tmp = res->tmp_path;
	res->tmp_path = NULL;

	if (res->last_modified >= 0) {
		struct timespec ts[2] = {
			{ .tv_sec = res->last_modified, .tv_nsec = 0 },
			{ .tv_sec = res->last_modified, .tv_nsec = 0 },
		};
		if (utimensat(AT_FDCWD, tmp, ts, 0) != 0) {
			set_err(err, err_len, "%s: setting its mtime: %s", tmp, strerror(errno));
			(void)unlink(tmp);   /* best effort: already failing */
			free(tmp);
			return -1;
		}
	}
	if (rename(tmp, dest_path) != 0) {
		set_err(err, err_len, "renaming %s to %s: %s", tmp, dest_path, strerror(errno));
		(void)unlink(tmp);           /* best effort: already failing */
		free(tmp);
		return -1;
	}
	free(tmp);

	char *dir = dir_of(dest_path);
	if (dir == NULL) {
		set_err(err, err_len, "%s replaced, but its directory not synced: out of memory",
			dest_path);
		return -1;
	}
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		set_err(err, err_len, "%s replaced, but its directory %s not synced: %s",
			dest_path, dir, strerror(errno));
		free(dir);
		return -1;
	}
	int rc = 0;
	if (fsync(dfd) != 0) {
		set_err(err, err_len, "%s replaced, but fsync of %s failed: %s", dest_path, dir,
			strerror(errno));
		rc = -1;
	}
	if (close(dfd) != 0 && rc == 0) {
		set_err(err, err_len, "%s replaced, but closing %s failed: %s", dest_path, dir,
			strerror(errno));
		rc = -1;
	}
	free(dir);
	return rc;
}

void fetch_discard(struct fetch_result *res)
{
	if (res->tmp_path == NULL)
		return;
	(void)unlink(res->tmp_path);  /* nothing to do if it is already gone */
	free(res->tmp_path);
	res->tmp_path = NULL;
}
