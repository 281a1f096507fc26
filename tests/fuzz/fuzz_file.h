/* For harnesses of loaders that read a file by name: the input as a temporary file. */
#ifndef TRACKWATCH_FUZZ_FILE_H
#define TRACKWATCH_FUZZ_FILE_H

#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

/* Writes the input to a new file named from `path` ("/tmp/name.XXXXXX", changed in place); aborts on failure. */
static inline void fuzz_write_temp(char *path, const uint8_t *data, size_t size)
{
	int fd = mkstemp(path);
	if (fd < 0)
		abort();
	size_t done = 0;
	while (done < size) {
		ssize_t n = write(fd, data + done, size - done);
		if (n <= 0)
			abort();
		done += (size_t)n;
	}
	close(fd);
}

#endif
