/*
 * privileges: see privileges.h. The switch is made step by step with
 * libcap-ng's sets rather than with capng_change_id(), which calls setresgid
 * before setgroups: here the order is that of OpenBSD's daemons (setgroups,
 * setresgid, setresuid), every step is checked, and the result is read back
 * from the kernel before the daemon goes on.
 */
#include "privileges.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <cap-ng.h>

/* What a live capture needs: a packet socket, and to reopen an interface that went away. */
static const unsigned capture_caps[] = { CAP_NET_ADMIN, CAP_NET_RAW };
enum { CAPTURE_CAP_COUNT = sizeof capture_caps / sizeof capture_caps[0] };

/* NGROUPS_MAX of Linux: setgroups refuses more. */
enum { MAX_GROUPS = 65536, MAX_PASSWD_BUFFER = 1 << 20 };

static void set_error(char *error, size_t len, const char *fmt, ...)
{
	if (!error || !len)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(error, len, fmt, ap);
	va_end(ap);
}

struct user_ids {
	uid_t uid;
	gid_t gid;
	gid_t *groups; /* getgrouplist: the user's group and its supplementary ones */
	int group_count;
};

/* Looks up `user`; its groups too when `groups` (free ids->groups after). */
static int look_up_user(const char *user, bool groups, struct user_ids *ids, char *error,
			size_t len)
{
	memset(ids, 0, sizeof *ids);
	if (!user || !*user) {
		set_error(error, len, "no user to switch to (daemon.user is empty)");
		return -1;
	}
	long hint = sysconf(_SC_GETPW_R_SIZE_MAX);
	size_t size = hint > 0 ? (size_t)hint : 1024;
	for (;;) {
		char *buffer = malloc(size);
		if (!buffer) {
			set_error(error, len, "user '%s': out of memory", user);
			return -1;
		}
		struct passwd pw, *found = NULL;
		int rc = getpwnam_r(user, &pw, buffer, size, &found);
		if (rc == ERANGE && size < MAX_PASSWD_BUFFER) {
			free(buffer);
			size *= 2;
			continue;
		}
		if (found) {
			ids->uid = pw.pw_uid;
			ids->gid = pw.pw_gid;
		}
		free(buffer);
		if (rc != 0) {
			set_error(error, len, "user '%s': getpwnam_r: %s", user, strerror(rc));
			return -1;
		}
		if (!found) {
			set_error(error, len, "user '%s' does not exist", user);
			return -1;
		}
		break;
	}
	if (!groups)
		return 0;
	/* glibc's getgrouplist says how many there are when the array was too small. */
	int capacity = 16;
	for (;;) {
		gid_t *list = calloc((size_t)capacity, sizeof *list);
		if (!list) {
			set_error(error, len, "user '%s': out of memory", user);
			return -1;
		}
		int count = capacity;
		if (getgrouplist(user, ids->gid, list, &count) >= 0) {
			ids->groups = list;
			ids->group_count = count;
			return 0;
		}
		free(list);
		int wanted = count > capacity ? count : capacity * 2;
		if (wanted > MAX_GROUPS) {
			set_error(error, len, "user '%s': getgrouplist: more than %d groups", user,
				  MAX_GROUPS);
			return -1;
		}
		capacity = wanted;
	}
}

/* The highest capability the kernel knows (libcap-ng's headers may know fewer). */
static unsigned last_capability(void)
{
	unsigned last = CAP_LAST_CAP;
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	if (f) {
		unsigned value;
		if (fscanf(f, "%u", &value) == 1 && value < 64)
			last = value;
		fclose(f);
	}
	return last;
}

static bool is_capture_cap(unsigned cap)
{
	for (size_t i = 0; i < CAPTURE_CAP_COUNT; i++)
		if (capture_caps[i] == cap)
			return true;
	return false;
}

static void capability_name(unsigned cap, char *out, size_t len)
{
	const char *name = capng_capability_to_name(cap);
	if (name)
		snprintf(out, len, "cap_%s", name);
	else
		snprintf(out, len, "cap_%u", cap);
}

/* libcap-ng returns its own codes; errno is worth showing only when the kernel set it. */
static void capng_error(char *error, size_t len, const char *prefix, const char *step, int rc,
			int saved_errno)
{
	if (saved_errno)
		set_error(error, len, "%s%s: %s", prefix, step, strerror(saved_errno));
	else
		set_error(error, len, "%s%s: libcap-ng error %d", prefix, step, rc);
}

/*
 * Capabilities, securebits and no_new_privs are per thread, while glibc
 * applies setresuid to every thread: with a second thread the switch would
 * leave it with a full bounding set and no no_new_privs. Refuse instead.
 */
static int only_thread(const char *prefix, char *error, size_t len)
{
	FILE *f = fopen("/proc/self/status", "re");
	if (!f) {
		set_error(error, len, "%scounting threads: /proc/self/status: %s", prefix,
			  strerror(errno));
		return -1;
	}
	char line[256];
	long threads = -1;
	while (fgets(line, sizeof line, f))
		if (sscanf(line, "Threads: %ld", &threads) == 1)
			break;
	fclose(f);
	if (threads < 0) {
		set_error(error, len, "%scounting threads: no Threads line in /proc/self/status",
			  prefix);
		return -1;
	}
	if (threads != 1) {
		set_error(error, len,
			  "%sthe process has %ld threads: capabilities belong to each thread, so "
			  "privileges must be dropped before any thread starts", prefix, threads);
		return -1;
	}
	return 0;
}

/*
 * Empties the bounding set but for the two capture capabilities, so that no
 * exec could give more back. Needs CAP_SETPCAP in the effective set; does not
 * change the effective, permitted or inheritable sets.
 */
static int clear_bounding_set(const char *prefix, char *error, size_t len)
{
	capng_clear(CAPNG_SELECT_BOUNDS);
	for (size_t i = 0; i < CAPTURE_CAP_COUNT; i++)
		capng_update(CAPNG_ADD, CAPNG_BOUNDING_SET, capture_caps[i]);
	errno = 0;
	int rc = capng_apply(CAPNG_SELECT_BOUNDS);
	if (rc != 0) {
		capng_error(error, len, prefix, "clearing the bounding set (needs CAP_SETPCAP)", rc,
			    errno);
		return -1;
	}
	return 0;
}

/*
 * Sets the effective and permitted sets to the capture capabilities in
 * `keep`, the inheritable set to those in `inheritable` (none when NULL).
 * Ambient capabilities not in both permitted and inheritable go with them.
 */
static int apply_capture_caps(const bool keep[], const bool inheritable[], const char *prefix,
			      char *error, size_t len)
{
	capng_clear(CAPNG_SELECT_CAPS);
	for (size_t i = 0; i < CAPTURE_CAP_COUNT; i++) {
		if (keep[i])
			capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED, capture_caps[i]);
		if (inheritable && inheritable[i])
			capng_update(CAPNG_ADD, CAPNG_INHERITABLE, capture_caps[i]);
	}
	errno = 0;
	int rc = capng_apply(CAPNG_SELECT_CAPS);
	if (rc != 0) {
		capng_error(error, len, prefix, "setting capabilities (capset)", rc, errno);
		return -1;
	}
	return 0;
}

/*
 * No exec can gain privileges any more (setuid programs, file capabilities).
 * It does not touch the capabilities already held: verify_caps checks that.
 */
static int set_no_new_privs(const char *prefix, char *error, size_t len)
{
	if (prctl(PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L) != 0) {
		set_error(error, len, "%sprctl(PR_SET_NO_NEW_PRIVS): %s", prefix, strerror(errno));
		return -1;
	}
	return 0;
}

struct expected_caps {
	bool keep[CAPTURE_CAP_COUNT];        /* must be effective and permitted */
	bool inheritable[CAPTURE_CAP_COUNT]; /* may stay inheritable and ambient */
	bool bounding_cleared;               /* only the two may remain in the bounding set */
};

/* Reads the capabilities back from the kernel: exactly what `expected` says, and no_new_privs. */
static int verify_caps(const struct expected_caps *expected, const char *prefix, char *error,
		       size_t len)
{
	errno = 0;
	int rc = capng_get_caps_process();
	if (rc != 0) {
		capng_error(error, len, prefix, "verifying: reading capabilities", rc, errno);
		return -1;
	}
	unsigned last = last_capability();
	for (unsigned cap = 0; cap <= last; cap++) {
		bool keep = false, inheritable = false;
		for (size_t i = 0; i < CAPTURE_CAP_COUNT; i++)
			if (capture_caps[i] == cap) {
				keep = expected->keep[i];
				inheritable = expected->inheritable[i];
			}
		bool effective = capng_have_capability(CAPNG_EFFECTIVE, cap) == 1;
		bool permitted = capng_have_capability(CAPNG_PERMITTED, cap) == 1;
		bool in_inheritable = capng_have_capability(CAPNG_INHERITABLE, cap) == 1;
		bool bounding = capng_have_capability(CAPNG_BOUNDING_SET, cap) == 1;
		/* Kernels before 4.3 have no ambient set: EINVAL, nothing there. */
		bool ambient = prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, (unsigned long)cap, 0L,
				     0L) == 1;
		const char *problem = NULL;
		if ((effective || permitted) && !keep)
			problem = "is still held";
		else if (keep && !(effective && permitted))
			problem = "was lost";
		else if ((in_inheritable || ambient) && !inheritable)
			problem = "is still inheritable or ambient";
		else if (bounding && expected->bounding_cleared && !is_capture_cap(cap))
			problem = "is still in the bounding set";
		if (problem) {
			char name[48];
			capability_name(cap, name, sizeof name);
			set_error(error, len, "%sverifying: %s %s", prefix, name, problem);
			return -1;
		}
	}
	if (prctl(PR_GET_NO_NEW_PRIVS, 0L, 0L, 0L, 0L) != 1) {
		set_error(error, len, "%sverifying: no_new_privs is not set", prefix);
		return -1;
	}
	return 0;
}

/* The ids the kernel holds are the user's, and root cannot be had back. */
static int verify_ids(const struct user_ids *ids, const char *prefix, char *error, size_t len)
{
	uid_t ruid, euid, suid;
	gid_t rgid, egid, sgid;
	if (getresuid(&ruid, &euid, &suid) != 0 || getresgid(&rgid, &egid, &sgid) != 0) {
		set_error(error, len, "%sverifying: getresuid/getresgid: %s", prefix, strerror(errno));
		return -1;
	}
	if (ruid != ids->uid || euid != ids->uid || suid != ids->uid) {
		set_error(error, len, "%sverifying: uids are %ju, %ju, %ju (real, effective, saved), "
			  "not %ju", prefix, (uintmax_t)ruid, (uintmax_t)euid, (uintmax_t)suid,
			  (uintmax_t)ids->uid);
		return -1;
	}
	if (rgid != ids->gid || egid != ids->gid || sgid != ids->gid) {
		set_error(error, len, "%sverifying: gids are %ju, %ju, %ju (real, effective, saved), "
			  "not %ju", prefix, (uintmax_t)rgid, (uintmax_t)egid, (uintmax_t)sgid,
			  (uintmax_t)ids->gid);
		return -1;
	}
	int count = getgroups(0, NULL);
	gid_t *groups = count > 0 ? calloc((size_t)count, sizeof *groups) : NULL;
	if (count < 0 || (count > 0 && (!groups || getgroups(count, groups) != count))) {
		set_error(error, len, "%sverifying: getgroups: %s", prefix,
			  count > 0 && !groups ? "out of memory" : strerror(errno));
		free(groups);
		return -1;
	}
	for (int i = 0; i < count; i++) {
		bool theirs = false;
		for (int j = 0; j < ids->group_count && !theirs; j++)
			theirs = groups[i] == ids->groups[j];
		if (!theirs) {
			set_error(error, len, "%sverifying: supplementary group %ju is not the user's",
				  prefix, (uintmax_t)groups[i]);
			free(groups);
			return -1;
		}
	}
	free(groups);
	if (setuid(0) != -1) {
		set_error(error, len, "%sverifying: setuid(0) succeeded after the switch", prefix);
		return -1;
	}
	return 0;
}

/* Root: everything in privileges.h's order, then the checks. */
static int switch_user(const char *user, char *error, size_t len)
{
	char prefix[160];
	snprintf(prefix, sizeof prefix, "cannot switch to user '%s': ", user ? user : "");
	struct user_ids ids;
	if (look_up_user(user, true, &ids, error, len) != 0)
		return -1;
	int status = -1;
	if (ids.uid == 0) {
		set_error(error, len, "%sit is root: nothing would be dropped", prefix);
		goto out;
	}
	if (only_thread(prefix, error, len) != 0)
		goto out;
	errno = 0;
	int rc = capng_get_caps_process();
	if (rc != 0) {
		capng_error(error, len, prefix, "reading capabilities", rc, errno);
		goto out;
	}
	/* Root without one of the two (a container may withhold CAP_NET_ADMIN) keeps what it has. */
	struct expected_caps expected = { .bounding_cleared = true };
	for (size_t i = 0; i < CAPTURE_CAP_COUNT; i++)
		expected.keep[i] = capng_have_capability(CAPNG_PERMITTED, capture_caps[i]) == 1;

	/* First, while root still has CAP_SETPCAP in its effective set. */
	if (clear_bounding_set(prefix, error, len) != 0)
		goto out;
	if (setgroups((size_t)ids.group_count, ids.groups) != 0) {
		set_error(error, len, "%ssetgroups (%d groups): %s", prefix, ids.group_count,
			  strerror(errno));
		goto out;
	}
	if (setresgid(ids.gid, ids.gid, ids.gid) != 0) {
		set_error(error, len, "%ssetresgid(%ju): %s", prefix, (uintmax_t)ids.gid,
			  strerror(errno));
		goto out;
	}
	/*
	 * When all uids leave 0 the kernel empties the permitted set unless
	 * keep-caps is on; the effective set is emptied either way, and filled
	 * again below with the two from the permitted set.
	 */
	if (prctl(PR_SET_KEEPCAPS, 1L, 0L, 0L, 0L) != 0) {
		set_error(error, len, "%sprctl(PR_SET_KEEPCAPS): %s", prefix, strerror(errno));
		goto out;
	}
	if (setresuid(ids.uid, ids.uid, ids.uid) != 0) {
		set_error(error, len, "%ssetresuid(%ju): %s", prefix, (uintmax_t)ids.uid,
			  strerror(errno));
		goto out;
	}
	if (prctl(PR_SET_KEEPCAPS, 0L, 0L, 0L, 0L) != 0) {
		set_error(error, len, "%sprctl(PR_SET_KEEPCAPS, 0): %s", prefix, strerror(errno));
		goto out;
	}
	if (apply_capture_caps(expected.keep, NULL, prefix, error, len) != 0 ||
	    set_no_new_privs(prefix, error, len) != 0 ||
	    verify_ids(&ids, prefix, error, len) != 0 || verify_caps(&expected, prefix, error, len) != 0)
		goto out;
	status = 0;
out:
	free(ids.groups);
	return status;
}

/*
 * Started unprivileged: no user to become, only capabilities beyond the two
 * to let go of. The two stay as they came, inheritable and ambient included
 * (systemd's AmbientCapabilities= puts them there).
 */
static int drop_other_caps(char *error, size_t len)
{
	const char *prefix = "dropping capabilities: ";
	uid_t ruid, euid, suid;
	if (getresuid(&ruid, &euid, &suid) != 0) {
		set_error(error, len, "%sgetresuid: %s", prefix, strerror(errno));
		return -1;
	}
	if (ruid == 0 || suid == 0) {
		set_error(error, len,
			  "%seffective uid %ju but real or saved uid 0: the process could become root "
			  "again; start trackwatchd as root or as its user", prefix, (uintmax_t)euid);
		return -1;
	}
	errno = 0;
	int rc = capng_get_caps_process();
	if (rc != 0) {
		capng_error(error, len, prefix, "reading capabilities", rc, errno);
		return -1;
	}
	struct expected_caps expected = { .bounding_cleared = true };
	for (size_t i = 0; i < CAPTURE_CAP_COUNT; i++) {
		expected.keep[i] = capng_have_capability(CAPNG_PERMITTED, capture_caps[i]) == 1;
		expected.inheritable[i] =
			capng_have_capability(CAPNG_INHERITABLE, capture_caps[i]) == 1;
	}
	/* A capture capability permitted but not effective is raised: capture needs it effective. */
	bool others = false, other_bounding = false, raise = false;
	for (size_t i = 0; i < CAPTURE_CAP_COUNT; i++)
		if (expected.keep[i] && capng_have_capability(CAPNG_EFFECTIVE, capture_caps[i]) != 1)
			raise = true;
	unsigned last = last_capability();
	for (unsigned cap = 0; cap <= last; cap++) {
		if (is_capture_cap(cap))
			continue;
		if (capng_have_capability(CAPNG_EFFECTIVE, cap) == 1 ||
		    capng_have_capability(CAPNG_PERMITTED, cap) == 1 ||
		    capng_have_capability(CAPNG_INHERITABLE, cap) == 1)
			others = true;
		if (capng_have_capability(CAPNG_BOUNDING_SET, cap) == 1)
			other_bounding = true;
	}
	bool setpcap = capng_have_capability(CAPNG_PERMITTED, CAP_SETPCAP) == 1;
	if (others || raise) {
		if (only_thread(prefix, error, len) != 0)
			return -1;
		/*
		 * The bounding set shrinks only with CAP_SETPCAP effective. Without
		 * it the bounding set stays as it came: no_new_privs keeps an exec
		 * from gaining anything from it.
		 */
		if (other_bounding && setpcap) {
			capng_update(CAPNG_ADD, CAPNG_EFFECTIVE, CAP_SETPCAP);
			errno = 0;
			rc = capng_apply(CAPNG_SELECT_CAPS);
			if (rc != 0) {
				capng_error(error, len, prefix, "raising CAP_SETPCAP", rc, errno);
				return -1;
			}
			if (clear_bounding_set(prefix, error, len) != 0)
				return -1;
		}
		if (apply_capture_caps(expected.keep, expected.inheritable, prefix, error, len) != 0)
			return -1;
	}
	expected.bounding_cleared = !other_bounding || (others && setpcap);
	if (set_no_new_privs(prefix, error, len) != 0)
		return -1;
	return verify_caps(&expected, prefix, error, len);
}

int privileges_drop(const char *user, enum privileges_outcome *outcome, char *error,
		    size_t error_len)
{
	if (geteuid() == 0) {
		if (switch_user(user, error, error_len) != 0)
			return -1;
		*outcome = PRIVILEGES_SWITCHED;
		return 0;
	}
	if (drop_other_caps(error, error_len) != 0)
		return -1;
	*outcome = PRIVILEGES_ALREADY_UNPRIVILEGED;
	return 0;
}

void privileges_describe(char *out, size_t len)
{
	if (!out || !len)
		return;
	out[0] = '\0';
	if (capng_get_caps_process() != 0) {
		snprintf(out, len, "unknown");
		return;
	}
	size_t used = 0;
	bool any = false;
	unsigned last = last_capability();
	for (unsigned cap = 0; cap <= last; cap++) {
		if (capng_have_capability(CAPNG_EFFECTIVE, cap) != 1)
			continue;
		char name[48];
		capability_name(cap, name, sizeof name);
		int n = snprintf(out + used, len - used, "%s%s", any ? "," : "", name);
		any = true;
		if (n < 0 || (size_t)n >= len - used)
			break; /* cut, as snprintf cuts */
		used += (size_t)n;
	}
	if (!any)
		snprintf(out, len, "none");
}

int privileges_chown_for(const char *user, const char *path, char *error, size_t len)
{
	struct user_ids ids;
	if (look_up_user(user, false, &ids, error, len) != 0)
		return -1;
	/*
	 * O_PATH opens without reading (a FIFO or a device put in the file's
	 * place does nothing), O_NOFOLLOW opens a symbolic link itself, so the
	 * checks and the fchownat below are on one and the same file.
	 */
	int fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		set_error(error, len, "%s: %s", path, strerror(errno));
		return -1;
	}
	struct stat st;
	int status = -1;
	if (fstat(fd, &st) != 0) {
		set_error(error, len, "%s: %s", path, strerror(errno));
	} else if (S_ISLNK(st.st_mode)) {
		set_error(error, len, "%s: a symbolic link: not giving it to user '%s'", path, user);
	} else if (!S_ISREG(st.st_mode)) {
		set_error(error, len, "%s: not a regular file: not giving it to user '%s'", path, user);
	} else if (st.st_nlink > 1) {
		/* Another name of it may be a file the user must not own. */
		set_error(error, len, "%s: has %ju hard links: not giving it to user '%s'", path,
			  (uintmax_t)st.st_nlink, user);
	} else if ((st.st_uid != ids.uid || st.st_gid != ids.gid) &&
		   fchownat(fd, "", ids.uid, ids.gid, AT_EMPTY_PATH) != 0) {
		set_error(error, len, "%s: chown to user '%s': %s", path, user, strerror(errno));
	} else {
		status = 0;
	}
	close(fd);
	return status;
}
