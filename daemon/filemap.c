/*
 * filemap: a capture file mapped for the capture and the hash (see
 * filemap.h).
 */
#include "filemap.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

/* The hash reads this much at a time: it stays in the core's cache while hashed. */
enum { DIGEST_CHUNK = 256 << 10 };

struct filemap {
	const uint8_t *data;
	size_t size;
	dev_t dev;
	ino_t ino;
	pthread_mutex_t lock;
	pthread_cond_t moved;       /* the capture moved on (the hash may wait for it) */
	pthread_cond_t hash_moved;  /* the hash moved on (the capture may wait for it) */
	/* Under the lock. */
	size_t capture_at;          /* SIZE_MAX once done */
	size_t hash_at;             /* SIZE_MAX once done, or when there is no hash */
	size_t released;            /* [0, released) is let go */
	bool hash_begun;            /* the hash reads: the capture keeps within FILEMAP_LEAD of it */
	bool capture_waits;
	/* The capture's own: the next offset at which it takes the lock. */
	size_t capture_mark;
};

/* ---- SIGBUS: an access past the end of a file that shrank ---------------- */

/* Where the thread's guarded access jumps back to, or NULL outside one. */
static _Thread_local sigjmp_buf *volatile bus_return;
static struct sigaction bus_previous;

static void on_bus(int sig, siginfo_t *info, void *ucontext)
{
	(void)ucontext;
	sigjmp_buf *back = bus_return;
	/* A fault (si_code > 0) in a guarded access; not a SIGBUS sent by kill(). */
	if (back && info->si_code > 0) {
		bus_return = NULL;
		siglongjmp(*back, 1);
	}
	/*
	 * Not ours: as it would have been. A fault happens again on return, a
	 * signal sent is sent again; the previous handler then takes it (by
	 * default, the end of the process), and stays until filemap_open().
	 */
	sigaction(sig, &bus_previous, NULL);
	if (info->si_code <= 0)
		raise(sig);
}

/* Ours, unless it is already (a handler set since, such as a test harness's, is kept as the one to restore). */
static void install_bus_handler(void)
{
	struct sigaction current;
	if (sigaction(SIGBUS, NULL, &current) == 0 && (current.sa_flags & SA_SIGINFO) &&
	    current.sa_sigaction == on_bus)
		return;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_bus;
	/* Not blocked in the handler: the jump back does not restore the mask. */
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, &bus_previous);
}

int filemap_copy(const struct filemap *map, size_t offset, void *out, size_t len)
{
	sigjmp_buf back;
	if (sigsetjmp(back, 0))
		return -1;
	bus_return = &back;
	/* The loads stay between the two stores (what the handler sees). */
	atomic_signal_fence(memory_order_seq_cst);
	memcpy(out, map->data + offset, len);
	atomic_signal_fence(memory_order_seq_cst);
	bus_return = NULL;
	return 0;
}

void filemap_copy_guarded(const struct filemap *map, size_t offset, void *out, size_t len,
			  sigjmp_buf *guard)
{
	bus_return = guard;
	atomic_signal_fence(memory_order_seq_cst);
	memcpy(out, map->data + offset, len);
	atomic_signal_fence(memory_order_seq_cst);
	bus_return = NULL;
}

/* EVP_DigestUpdate() of mapped bytes, guarded as filemap_copy(). */
static int digest_mapped(EVP_MD_CTX *md, const uint8_t *data, size_t len)
{
	sigjmp_buf back;
	if (sigsetjmp(back, 0))
		return -1;
	bus_return = &back;
	atomic_signal_fence(memory_order_seq_cst);
	int ok = EVP_DigestUpdate(md, data, len);
	atomic_signal_fence(memory_order_seq_cst);
	bus_return = NULL;
	return ok ? 0 : -1;
}

/* ---- Opening -------------------------------------------------------------- */

struct filemap *filemap_open(const char *path, int hashed)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return NULL;
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
	    (uint64_t)st.st_size > SIZE_MAX / 2) {
		close(fd);
		errno = EINVAL;
		return NULL;
	}
	struct filemap *map = calloc(1, sizeof *map);
	if (!map) {
		close(fd);
		return NULL;
	}
	map->size = (size_t)st.st_size;
	map->dev = st.st_dev;
	map->ino = st.st_ino;
	void *data = mmap(NULL, map->size, PROT_READ, MAP_SHARED, fd, 0);
	int saved = errno;
	close(fd);
	if (data == MAP_FAILED) {
		free(map);
		errno = saved;
		return NULL;
	}
	map->data = data;
	madvise(data, map->size, MADV_SEQUENTIAL);
	install_bus_handler();
	map->hash_at = hashed ? 0 : SIZE_MAX;
	map->capture_mark = FILEMAP_STEP;
	pthread_mutex_init(&map->lock, NULL);
	pthread_cond_init(&map->moved, NULL);
	pthread_cond_init(&map->hash_moved, NULL);
	return map;
}

void filemap_close(struct filemap *map)
{
	if (!map)
		return;
	munmap((void *)map->data, map->size);
	pthread_cond_destroy(&map->moved);
	pthread_cond_destroy(&map->hash_moved);
	pthread_mutex_destroy(&map->lock);
	free(map);
}

size_t filemap_size(const struct filemap *map)
{
	return map->size;
}

int filemap_same_file(const struct filemap *map, int fd)
{
	struct stat st;
	return fstat(fd, &st) == 0 && st.st_dev == map->dev && st.st_ino == map->ino;
}

/* ---- Letting pages go ----------------------------------------------------- */

static size_t min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

/*
 * Lets go of the pages below where both readers are, and below FILEMAP_LAG
 * behind the capture whatever the hash's place (it maps them again). Once
 * the capture is done, of what the hash has not come to yet too: of the
 * whole file when the hash has not begun it (or is done, or never comes).
 * Locked.
 */
static void release(struct filemap *map)
{
	size_t low;
	if (map->capture_at == SIZE_MAX) {
		low = map->hash_at == 0 || map->hash_at == SIZE_MAX ? map->size
								      : map->hash_at / FILEMAP_STEP * FILEMAP_STEP;
	} else {
		low = min_size(map->capture_at, map->hash_at);
		if (map->capture_at > FILEMAP_LAG && map->capture_at - FILEMAP_LAG > low)
			low = map->capture_at - FILEMAP_LAG;
		low = min_size(low, map->size) / FILEMAP_STEP * FILEMAP_STEP;
	}
	if (low <= map->released)
		return;
	/* From a page's start (STEP is a multiple of any page size); the end is rounded up to a page. */
	madvise((void *)(map->data + map->released), low - map->released, MADV_DONTNEED);
	map->released = low;
}

void filemap_capture_at(struct filemap *map, size_t offset)
{
	if (offset < map->capture_mark)
		return;
	map->capture_mark = offset + FILEMAP_STEP;
	pthread_mutex_lock(&map->lock);
	map->capture_at = offset;
	release(map);
	pthread_cond_signal(&map->moved);
	/* hash_at is SIZE_MAX once the hash is done: no wait then. */
	if (map->hash_begun && map->hash_at != SIZE_MAX && offset > map->hash_at + FILEMAP_LEAD) {
		map->capture_waits = true;
		while (map->hash_at != SIZE_MAX && offset > map->hash_at + FILEMAP_LEAD / 2)
			pthread_cond_wait(&map->hash_moved, &map->lock);
		map->capture_waits = false;
	}
	pthread_mutex_unlock(&map->lock);
}

void filemap_capture_done(struct filemap *map)
{
	pthread_mutex_lock(&map->lock);
	map->capture_at = SIZE_MAX;
	map->capture_mark = SIZE_MAX;
	release(map);
	pthread_cond_signal(&map->moved);
	pthread_mutex_unlock(&map->lock);
}

int filemap_digest(struct filemap *map, EVP_MD_CTX *md)
{
	int rc = 0;
	/* Pages let go before the hash read them (it was behind): mapped again by it, let go again. */
	size_t again_from = 0, again_to = 0;
	pthread_mutex_lock(&map->lock);
	map->hash_begun = true;
	pthread_mutex_unlock(&map->lock);
	for (size_t at = 0; at < map->size && rc == 0;) {
		size_t len = min_size(DIGEST_CHUNK, map->size - at);
		/* No further than FILEMAP_LAG ahead of the capture. */
		pthread_mutex_lock(&map->lock);
		while (map->capture_at != SIZE_MAX && at + len > map->capture_at + FILEMAP_LAG)
			pthread_cond_wait(&map->moved, &map->lock);
		pthread_mutex_unlock(&map->lock);
		rc = digest_mapped(md, map->data + at, len);
		/* What of the chunk was let go before or while it was read: mapped again here. */
		pthread_mutex_lock(&map->lock);
		size_t released = map->released;
		pthread_mutex_unlock(&map->lock);
		bool behind = released > at;
		if (behind) {
			if (again_to != at)
				again_from = at;
			again_to = min_size(at + len, released);
		}
		at += len;
		/* A step at a time: each madvise() interrupts the other threads' cores. */
		if (again_to > again_from && (again_to - again_from >= FILEMAP_STEP || at == map->size || !behind)) {
			madvise((void *)(map->data + again_from), again_to - again_from, MADV_DONTNEED);
			again_from = again_to;
		}
		pthread_mutex_lock(&map->lock);
		map->hash_at = at;
		release(map);
		if (map->capture_waits)
			pthread_cond_signal(&map->hash_moved);
		pthread_mutex_unlock(&map->lock);
	}
	filemap_hash_done(map);
	return rc;
}

void filemap_hash_done(struct filemap *map)
{
	pthread_mutex_lock(&map->lock);
	map->hash_at = SIZE_MAX;
	release(map);
	pthread_cond_signal(&map->hash_moved);
	pthread_mutex_unlock(&map->lock);
}
