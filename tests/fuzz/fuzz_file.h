/* For harnesses of loaders that read a file by name: the input as a temporary file. */
#ifndef TRACKWATCH_FUZZ_FILE_H
#define TRACKWATCH_FUZZ_FILE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
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

/* A loader's error must read "path:line: reason" (the file was read); aborts otherwise. */
static inline void fuzz_check_file_error(const char *err, size_t err_size, const char *path)
{
	size_t plen = strlen(path);
	if (!memchr(err, '\0', err_size) || strncmp(err, path, plen) != 0 || err[plen] != ':')
		abort();
	char *end = NULL;
	strtoul(err + plen + 1, &end, 10);
	if (end == err + plen + 1 || end[0] != ':' || end[1] != ' ' || end[2] == '\0')
		abort();
}

#endif
