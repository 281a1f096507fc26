/*
 * log: standard error or syslog; see log.h.
 */
#include "log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <syslog.h>

static const char *log_ident = "trackwatchd";
static atomic_bool use_stderr = true;
static atomic_uint current_level = LOG_LEVEL_NOTICE;

void log_open(const char *ident, bool to_stderr, unsigned level)
{
	log_ident = ident;
	atomic_store(&current_level, level);
	atomic_store(&use_stderr, to_stderr);
	if (!to_stderr)
		openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void log_set_level(unsigned level)
{
	atomic_store(&current_level, level);
}

unsigned log_level(void)
{
	return atomic_load(&current_level);
}

bool log_to_stderr(void)
{
	return atomic_load(&use_stderr);
}

void log_close(void)
{
	if (!atomic_load(&use_stderr))
		closelog();
}

void log_msg(unsigned level, const char *fmt, ...)
{
	static const int priority[] = { LOG_ERR, LOG_WARNING, LOG_NOTICE, LOG_INFO, LOG_DEBUG };
	if (level > atomic_load(&current_level) || level > LOG_LEVEL_DEBUG)
		return;
	char line[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	if (atomic_load(&use_stderr))
		/* One write per line, so lines of two threads do not interleave. */
		fprintf(stderr, "%s: %s\n", log_ident, line);
	else
		syslog(priority[level], "%s", line);
}
