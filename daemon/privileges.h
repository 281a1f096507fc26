/*
 * privileges: the last step of a live capture's start. Once the capture
 * handles, the database and the control socket are open, the daemon gives up
 * root for its user and keeps only CAP_NET_RAW and CAP_NET_ADMIN, so that it
 * can reopen an interface that went away and nothing more. Offline reading
 * (-r) does not come here: it keeps the rights of whoever started it.
 */
#ifndef TRACKWATCH_PRIVILEGES_H
#define TRACKWATCH_PRIVILEGES_H

#include <stddef.h>

enum { PRIVILEGES_ERROR_MAX = 512 };

/* What privileges_drop did, for the log line. */
enum privileges_outcome { PRIVILEGES_SWITCHED, PRIVILEGES_ALREADY_UNPRIVILEGED };

/*
 * Live capture only, called after the capture handles, the database and the
 * control socket are open and before any thread is started: capabilities,
 * the bounding set and no_new_privs belong to a thread, not to the process,
 * so a second thread makes it fail rather than leave that thread privileged.
 *
 * As root (effective uid 0): looks up `user`, then in this order
 * setgroups (the user's groups, getgrouplist), setresgid, setresuid, keeping
 * CAP_NET_RAW and CAP_NET_ADMIN (those of the two the process holds) in the
 * effective and permitted sets, nothing inheritable or ambient, and the
 * bounding set cleared of all others; sets no_new_privs; then checks that
 * the real, effective and saved uids and gids are the user's, that root
 * cannot be regained and that no other capability remains.
 * *outcome = PRIVILEGES_SWITCHED.
 *
 * Not root: started unprivileged (systemd User= with AmbientCapabilities=),
 * so there is no switch and `user` is not looked up; capabilities other than
 * the two are dropped (and the bounding set cleared of them when
 * CAP_SETPCAP allows), no_new_privs set. *outcome =
 * PRIVILEGES_ALREADY_UNPRIVILEGED. A non-root effective uid with a real or
 * saved uid 0 is refused: such a process could become root again.
 *
 * Returns 0, or -1 with a message in `error` naming the step and the reason;
 * after -1 the process may be half switched and must exit.
 */
int privileges_drop(const char *user, enum privileges_outcome *outcome, char *error,
		    size_t error_len);

/*
 * The process's effective capabilities as text, by number, e.g.
 * "cap_net_admin,cap_net_raw", or "none" (for tests and `trackwatch status`).
 */
void privileges_describe(char *out, size_t len);

/*
 * Gives `path` to `user` and the user's group, so that the daemon can still
 * write it after privileges_drop (the database, its -wal and -shm files, the
 * key file: the caller names each). A path that does not exist is skipped
 * (returns 0). Refused with -1 and a message: a symbolic link, anything but
 * a regular file, and a file with more than one hard link (it would give
 * away the other name too). Needs root (CAP_CHOWN); call it before the switch.
 */
int privileges_chown_for(const char *user, const char *path, char *error, size_t len);

#endif
