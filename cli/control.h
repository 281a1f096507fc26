/*
 * The CLI's side of the configuration and the control socket: where the
 * daemon's database and socket are (the -c file, else the default one when
 * it exists, else the built-in paths), and one request to the daemon.
 */
#ifndef TRACKWATCH_CLI_CONTROL_H
#define TRACKWATCH_CLI_CONTROL_H

#include <jansson.h>

/*
 * The paths the configuration gives: a file named with -c must load; the
 * default one is read when it exists. Returns 0, or -1 with the error
 * printed (prefixed with `command`). The strings stay valid until exit.
 */
int cli_paths(const char *config_path, const char *command, const char **db_path,
	      const char **socket_path);

enum { CLI_DAEMON_DOWN = -2 };

/*
 * Sends `request` to the daemon's socket and reads its one-line answer.
 * Returns 0 with *answer (a JSON object, the caller's), CLI_DAEMON_DOWN
 * when no daemon listens there (no socket, or a stale one), else -1; the
 * reason is in `error`.
 */
int cli_control_request(const char *socket_path, const json_t *request, json_t **answer,
			char *error, size_t error_len);

#endif
