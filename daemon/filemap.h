/*
 * filemap: a capture file mapped into memory and read by two threads at
 * once, the capture (daemon/capture.c) and the file's SHA-256 (main.c), so
 * that its pages come from the page cache once, with no copy by read() and
 * no second pass over memory for the hash.
 *
 * Memory stays bounded: the pages both readers have passed are let go
 * (MADV_DONTNEED), the hash waits rather than run more than FILEMAP_LAG
 * bytes ahead of the capture, and a capture that is further ahead of the
 * hash lets its pages go anyway (the hash maps them again). So what the
 * mapping adds to the resident set is about FILEMAP_LAG, whatever the
 * file's size.
 *
 * The two go at one pace: once the hash has begun, the capture waits
 * rather than run more than FILEMAP_LEAD bytes ahead of it (until it is
 * back within half that). A run ends when both are done, so a hash left
 * behind would be the run's last seconds, on one core; waiting instead
 * gives the hash the capture's core meanwhile, and the pages the hash reads
 * are still mapped.
 *
 * A file that shrinks while mapped (truncated by another program, or a
 * read error of the disk) makes the kernel send SIGBUS on the next access.
 * Reads go through filemap_copy() and filemap_digest(), which turn that
 * into an error return (a SIGBUS handler long-jumps back to them). Any other
 * SIGBUS (a fault elsewhere, or one sent by kill()) is given to the handler
 * there was before, by default the end of the process. A file is mapped at
 * the size it has when opened: bytes written to it later are not read here.
 */
#ifndef TRACKWATCH_FILEMAP_H
#define TRACKWATCH_FILEMAP_H

#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/types.h>

enum { FILEMAP_LAG = 4 << 20, FILEMAP_LEAD = 8 << 20, FILEMAP_STEP = 2 << 20 };

struct filemap;

/*
 * Maps the regular file at `path` for the capture, and for the hash when
 * `hashed`. NULL when it cannot (not a regular file, empty, mmap failed):
 * the caller reads the file as before; errno is set.
 */
struct filemap *filemap_open(const char *path, int hashed);
void filemap_close(struct filemap *map);
size_t filemap_size(const struct filemap *map);
/* Whether `fd` is the file that was mapped (the same device and inode): not one renamed over it since. */
int filemap_same_file(const struct filemap *map, int fd);

/*
 * Copies `len` bytes at `offset` (within the size) to `out`: 0, or -1 when
 * the file no longer has them (it shrank: SIGBUS).
 */
int filemap_copy(const struct filemap *map, size_t offset, void *out, size_t len);
/*
 * The same for a caller that copies many times (the capture, a record at a
 * time): it sets `*guard` once with sigsetjmp(*guard, 0), and a copy from a
 * file that shrank returns there (non-zero) instead of here. The caller's
 * frame must still be active; what it changed since sigsetjmp() must be
 * kept in memory it reads back (not in its local variables). Guarded copies
 * do not nest: each leaves no guard set when it returns.
 */
void filemap_copy_guarded(const struct filemap *map, size_t offset, void *out, size_t len,
			  sigjmp_buf *guard);

/*
 * The capture has read up to `offset`: what both readers passed is let go,
 * the hash may go on; waits while the hash is more than FILEMAP_LEAD behind.
 */
void filemap_capture_at(struct filemap *map, size_t offset);
/* The capture reads no more of this file (its end, a stop, an error, or another reader). */
void filemap_capture_done(struct filemap *map);

/*
 * Adds the whole file to `md`, at the capture's pace (see above). Returns 0,
 * or -1 when the file shrank or the digest failed.
 */
int filemap_digest(struct filemap *map, EVP_MD_CTX *md);
/* The hash will not read this file (it stopped, or never began): nothing is kept for it. */
void filemap_hash_done(struct filemap *map);

#endif
