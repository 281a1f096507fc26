/*
 * log: the daemon's messages, one line per event, never one per packet.
 * To standard error (prefixed "trackwatchd: ") when that is a terminal, when
 * -d asks for it, and always for a run over files (a batch run's errors
 * belong to whoever started it); otherwise to syslog (journald), facility
 * daemon, with the level as syslog's priority.
 *
 * Messages below the configured level (log.level) are not written. Safe to
 * call from any thread; not from a signal handler.
 */
#ifndef TRACKWATCH_LOG_H
#define TRACKWATCH_LOG_H

#include <stdbool.h>

#include "config.h"

/* `to_stderr`: false sends to syslog. `level`: enum config_log_level. */
void log_open(const char *ident, bool to_stderr, unsigned level);
void log_set_level(unsigned level);
unsigned log_level(void);
bool log_to_stderr(void);
void log_close(void);

void log_msg(unsigned level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_LEVEL_WARNING, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_LEVEL_NOTICE, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif
