/* The one place the version is set; the Makefile reads it for tarballs and man pages. */
#ifndef TRACKWATCH_VERSION_H
#define TRACKWATCH_VERSION_H
#define TRACKWATCH_VERSION "0.1.0"
#endif
