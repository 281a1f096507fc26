/*
 * fetch: the download half of `trackwatch lists update`. One tracker list
 * is fetched over HTTPS (libcurl) into a temporary file beside its final
 * path, so that the caller can parse and verify it before fetch_commit()
 * renames it into place; a list that fails to parse never replaces a good
 * one, and a reader never sees half a file.
 *
 * Only https:// is allowed, for the URL and every redirect (at most 5),
 * unless the request sets allow_http (meant for a local test server). TLS
 * peers are always verified. When the final file exists, its mtime is sent
 * as If-Modified-Since and an unchanged list is not downloaded again.
 *
 * Threads: libcurl's global state is set up once, on the first call
 * (pthread_once), or earlier by fetch_global_init(). Each fetch_to_file()
 * uses its own handle and no signals, so threads may fetch at the same time
 * as long as they write to different dest_paths. fetch_global_cleanup() is
 * for the end of the program, once no fetch is running. With no signals,
 * libcurl does not ignore SIGPIPE itself: a program that fetches should.
 */
#ifndef TRACKWATCH_FETCH_H
#define TRACKWATCH_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Used when fetch_request.max_bytes or .timeout_seconds is 0. */
#define FETCH_DEFAULT_MAX_BYTES ((uint64_t)64 << 20)
#define FETCH_DEFAULT_TIMEOUT_SECONDS 300L

struct fetch_request {
	const char *url;
	const char *dest_path;    /* the final path; the temp file goes in its directory */
	uint64_t max_bytes;       /* a larger body is an error (0: FETCH_DEFAULT_MAX_BYTES) */
	long timeout_seconds;     /* for the whole transfer (0: FETCH_DEFAULT_TIMEOUT_SECONDS) */
	const char *ca_file;      /* NULL: the system's CAs; else a PEM bundle (tests) */
	const char *user_agent;   /* "trackwatch/<version>"; NULL: "trackwatch" */
	bool allow_http;          /* also allow http:// (local test servers only) */
};

struct fetch_result {
	bool not_modified;        /* the server said dest_path is current: nothing downloaded */
	char *tmp_path;           /* the downloaded body, "<dest_path>.XXXXXX", mode 0644,
				     fsync'd; NULL when not_modified or on error */
	uint64_t bytes;           /* body bytes written to tmp_path */
	long http_status;         /* the final response's status (0: none) */
	time_t last_modified;     /* the server's Last-Modified; -1 when unknown */
};

/* Optional: set up libcurl's global state now (it is otherwise done on the first fetch). */
int fetch_global_init(char *err, size_t err_len);
/* At exit, after every fetch has ended (and only if a fetch or fetch_global_init ran). */
void fetch_global_cleanup(void);

/*
 * Downloads req->url into a new temporary file beside req->dest_path and
 * fills *res. Returns 0 with res->not_modified set (no temp file), or 0
 * with res->tmp_path set: the caller then verifies the file and calls
 * exactly one of fetch_commit() and fetch_discard(). Returns -1 with a
 * message naming the URL in err (an HTTP status other than 200 or 304, a
 * body over max_bytes, a timeout, a refused protocol, a TLS or network
 * failure, a short body...); nothing is left behind and dest_path is not
 * touched.
 */
int fetch_to_file(const struct fetch_request *req, struct fetch_result *res,
		  char *err, size_t err_len);

/*
 * Sets the temp file's mtime to the server's Last-Modified when known,
 * renames it over dest_path and fsyncs the directory. On failure the temp
 * file is removed, and -1 is returned with a message in err; if only the
 * directory fsync failed, dest_path has already been replaced (the message
 * says so). Either way res->tmp_path is freed and set to NULL.
 */
int fetch_commit(struct fetch_result *res, const char *dest_path, char *err, size_t err_len);

/* Removes the temp file and frees res->tmp_path; safe on a result without one. */
void fetch_discard(struct fetch_result *res);

#endif
