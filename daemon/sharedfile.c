/*
 * sharedfile: a capture file read by the capture and the hash (see
 * sharedfile.h).
 */
#include "sharedfile.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

struct sharedfile {
	int fd; /* the hash's */
	size_t size;
	dev_t dev;
	ino_t ino;
	size_t window;
	size_t step; /* each reader tells the other where it is once per step */
	pthread_mutex_t lock;
	pthread_cond_t moved;      /* the capture moved on (the hash may wait for it) */
	pthread_cond_t hash_moved; /* the hash moved on (the capture may wait for it) */
	/* Under the lock. */
	size_t capture_at; /* SIZE_MAX once done */
	size_t hash_at;    /* SIZE_MAX once done, or when there is no hash */
	bool hash_begun;   /* the hash reads: the capture keeps within the window of it */
	bool capture_waits;
	bool hash_waits;
	/* The capture's own: the next offset at which it takes the lock. */
	size_t capture_mark;
};

static size_t min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

struct sharedfile *sharedfile_open(const char *path, int hashed, size_t window)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return NULL;
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    (uint64_t)st.st_size > SIZE_MAX / 2 || window < 4 * (size_t)SHAREDFILE_CHUNK) {
		close(fd);
		errno = EINVAL;
		return NULL;
	}
	struct sharedfile *file = calloc(1, sizeof *file);
	if (!file) {
		close(fd);
		return NULL;
	}
	/* Read once from start to end: the kernel may read ahead further. */
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	file->fd = fd;
	file->size = (size_t)st.st_size;
	file->dev = st.st_dev;
	file->ino = st.st_ino;
	file->window = window;
	file->step = min_size(1 << 20, window / 4);
	file->hash_at = hashed ? 0 : SIZE_MAX;
	file->capture_mark = file->step;
	pthread_mutex_init(&file->lock, NULL);
	pthread_cond_init(&file->moved, NULL);
	pthread_cond_init(&file->hash_moved, NULL);
	return file;
}

void sharedfile_close(struct sharedfile *file)
{
	if (!file)
		return;
	close(file->fd);
	pthread_cond_destroy(&file->moved);
	pthread_cond_destroy(&file->hash_moved);
	pthread_mutex_destroy(&file->lock);
	free(file);
}

size_t sharedfile_size(const struct sharedfile *file)
{
	return file->size;
}

int sharedfile_same_file(const struct sharedfile *file, int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 && st.st_dev == file->dev && st.st_ino == file->ino;
}

ssize_t sharedfile_pread(int fd, void *out, size_t len, size_t offset, size_t least)
{
	uint8_t *p = out;
	size_t got = 0;
	while (got < len) {
		ssize_t n = pread(fd, p + got, len - got, (off_t)(offset + got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got < least) {
		errno = 0; /* the file ends sooner than it did */
		return -1;
	}
	return (ssize_t)got;
}

/* ---- The pace between the two ------------------------------------------- */

void sharedfile_capture_at(struct sharedfile *file, size_t offset)
{
	if (offset < file->capture_mark)
		return;
	file->capture_mark = offset + file->step;
	pthread_mutex_lock(&file->lock);
	file->capture_at = offset;
	if (file->hash_waits)
		pthread_cond_signal(&file->moved);
	/* hash_at is SIZE_MAX once the hash is done: no wait then. */
	if (file->hash_begun && file->hash_at != SIZE_MAX && offset > file->hash_at + file->window) {
		file->capture_waits = true;
		while (file->hash_at != SIZE_MAX && offset > file->hash_at + file->window / 2)
			pthread_cond_wait(&file->hash_moved, &file->lock);
		file->capture_waits = false;
	}
	pthread_mutex_unlock(&file->lock);
}

void sharedfile_capture_done(struct sharedfile *file)
{
	pthread_mutex_lock(&file->lock);
	file->capture_at = SIZE_MAX;
	file->capture_mark = SIZE_MAX;
	pthread_cond_signal(&file->moved);
	pthread_mutex_unlock(&file->lock);
}

int sharedfile_digest(struct sharedfile *file, EVP_MD_CTX *md)
{
	uint8_t *buf = malloc(SHAREDFILE_CHUNK);
	int rc = buf ? 0 : -1;
	pthread_mutex_lock(&file->lock);
	file->hash_begun = true;
	pthread_mutex_unlock(&file->lock);
	size_t mark = 0;
	for (size_t at = 0; at < file->size && rc == 0;) {
		size_t len = min_size(SHAREDFILE_CHUNK, file->size - at);
		/* No further than the window ahead of the capture. */
		if (at + len > mark) {
			pthread_mutex_lock(&file->lock);
			file->hash_at = at;
			if (file->capture_waits)
				pthread_cond_signal(&file->hash_moved);
			while (file->capture_at != SIZE_MAX && at + len > file->capture_at + file->window) {
				file->hash_waits = true;
				pthread_cond_wait(&file->moved, &file->lock);
			}
			file->hash_waits = false;
			pthread_mutex_unlock(&file->lock);
			mark = at + file->step;
		}
		if (sharedfile_pread(file->fd, buf, len, at, len) < 0 || !EVP_DigestUpdate(md, buf, len))
			rc = -1;
		at += len;
	}
	free(buf);
	sharedfile_hash_done(file);
	return rc;
}

void sharedfile_hash_done(struct sharedfile *file)
{
	pthread_mutex_lock(&file->lock);
	file->hash_at = SIZE_MAX;
	pthread_cond_signal(&file->hash_moved);
	pthread_mutex_unlock(&file->lock);
}
