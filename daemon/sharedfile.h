/*
 * sharedfile: a capture file read by two threads at once, the capture
 * (daemon/capture.c) and the file's SHA-256 (main.c), each with pread() into
 * a small buffer of its own that stays in its core's cache.
 *
 * Neither maps the file: mapping it cost more than the copy saved (a page
 * fault to map each page, and a system call that interrupts the other core
 * to unmap them again behind the readers to keep memory bounded), and a file
 * that shrank while mapped would be a SIGBUS. A file that shrinks is now a
 * short read, reported as such. Memory stays the two buffers, whatever the
 * file's size.
 *
 * The two keep within a window of each other (SHAREDFILE_WINDOW in a run):
 * the hash waits rather than run more than the window ahead of the capture,
 * and the capture, once the hash has begun, rather than run more than the
 * window ahead of the hash (until it is back within half of it). The window
 * is not memory of ours but of the page cache: a file read from disk is read
 * from it once, the second reader finding its pages still cached. The hash
 * is the faster of the two, so on a file already cached the capture hardly
 * ever waits.
 *
 * A file is read at the size it has when opened: bytes written to it later
 * are not read here.
 */
#ifndef TRACKWATCH_SHAREDFILE_H
#define TRACKWATCH_SHAREDFILE_H

#include <stddef.h>
#include <sys/types.h>

#include <openssl/types.h>

enum {
	SHAREDFILE_WINDOW = 32 << 20,
	/* The hash reads this much at a time. */
	SHAREDFILE_CHUNK = 64 << 10,
};

struct sharedfile;

/*
 * Opens the regular file at `path` for the capture, and for the hash when
 * `hashed`; the two keep within `window` bytes (SHAREDFILE_WINDOW; tests use
 * less, but no less than 4 * SHAREDFILE_CHUNK: the hash reads a chunk at a
 * time). NULL when it cannot (not a regular file, empty, too small a
 * window): the caller reads the file as before; errno is set.
 */
struct sharedfile *sharedfile_open(const char *path, int hashed, size_t window);
void sharedfile_close(struct sharedfile *file);
/* Its size when opened. */
size_t sharedfile_size(const struct sharedfile *file);
/* Whether `fd` is the file opened (the same device and inode): not one renamed over it since. */
int sharedfile_same_file(const struct sharedfile *file, int fd);

/*
 * Reads up to `len` bytes at `offset` of `fd` (the capture's own descriptor
 * of the file, or the hash's) into `out`, and at least `least`: how many it
 * read, or -1 when the file no longer has `least` (it shrank, errno 0) or
 * cannot be read (errno set).
 */
ssize_t sharedfile_pread(int fd, void *out, size_t len, size_t offset, size_t least);

/*
 * The capture has read up to `offset`: the hash may go on; waits while a
 * hash that has begun is more than the window behind. Cheap between steps
 * (it takes a lock once per MiB).
 */
void sharedfile_capture_at(struct sharedfile *file, size_t offset);
/* The capture reads no more of this file (its end, a stop, an error, or another reader). */
void sharedfile_capture_done(struct sharedfile *file);

/*
 * Adds the whole file to `md`, at the capture's pace (see above). Returns 0,
 * or -1 when the file shrank, cannot be read, or the digest failed.
 */
int sharedfile_digest(struct sharedfile *file, EVP_MD_CTX *md);
/* The hash will not read this file (it stopped, or never began). */
void sharedfile_hash_done(struct sharedfile *file);

#endif
