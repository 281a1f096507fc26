/*
 * The privilege drop (daemon/privileges.c). The switch changes the whole
 * process for good, so each case runs in a forked child that reports back
 * through a pipe; the child ends with _exit(), so that LeakSanitizer's check
 * at exit, which ptrace()s the process, never runs in a process that is no
 * longer root. The switch itself needs root (CI runs as root): the cases
 * that need it are skipped otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <cap-ng.h>

#include "../../daemon/privileges.h"

static const uint64_t CAPTURE_CAPS = (1ULL << CAP_NET_ADMIN) | (1ULL << CAP_NET_RAW);

/* What a child saw after privileges_drop: plain data, copied through the pipe. */
struct report {
	int rc;
	int outcome;
	char error[PRIVILEGES_ERROR_MAX];
	uid_t ruid, euid, suid;
	gid_t rgid, egid, sgid;
	uint64_t cap_eff, cap_prm, cap_bnd, cap_inh, cap_amb;
	int status_read;     /* the Cap* lines of /proc/self/status were all there */
	int no_new_privs;
	int group_count;
	int group_zero;      /* group 0 among the supplementary groups */
	int second_rc, second_outcome;
	char describe[128];
	int kept_fd_written; /* a file opened as root before the switch, written after */
	int reopen_errno;    /* opening it again after the switch */
	int setuid_root_errno;
};

typedef void (*child_fn)(struct report *report, void *arg);

/* Runs `fn` in a child and returns what it reported; fails the test if the child died. */
static void run_in_child(child_fn fn, void *arg, struct report *report)
{
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		struct report r;
		memset(&r, 0, sizeof r);
		r.rc = -2;
		fn(&r, arg);
		ssize_t n = write(fds[1], &r, sizeof r);
		_exit(n == (ssize_t)sizeof r ? 0 : 3);
	}
	close(fds[1]);
	memset(report, 0, sizeof *report);
	size_t got = 0;
	while (got < sizeof *report) {
		ssize_t n = read(fds[0], (char *)report + got, sizeof *report - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fds[0]);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(got, sizeof *report);
}

/* The process's own view, from the kernel: ids, capability sets, groups. */
static void observe(struct report *r)
{
	getresuid(&r->ruid, &r->euid, &r->suid);
	getresgid(&r->rgid, &r->egid, &r->sgid);
	FILE *f = fopen("/proc/self/status", "re");
	if (!f)
		return;
	char line[4096];
	int seen = 0;
	while (fgets(line, sizeof line, f)) {
		unsigned long long value;
		if (sscanf(line, "CapEff: %llx", &value) == 1)
			r->cap_eff = value, seen++;
		else if (sscanf(line, "CapPrm: %llx", &value) == 1)
			r->cap_prm = value, seen++;
		else if (sscanf(line, "CapBnd: %llx", &value) == 1)
			r->cap_bnd = value, seen++;
		else if (sscanf(line, "CapInh: %llx", &value) == 1)
			r->cap_inh = value, seen++;
		else if (sscanf(line, "CapAmb: %llx", &value) == 1)
			r->cap_amb = value, seen++;
		else if (sscanf(line, "NoNewPrivs: %d", &r->no_new_privs) == 1)
			seen++;
		else if (strncmp(line, "Groups:", 7) == 0) {
			char *p = line + 7;
			for (;;) {
				char *end;
				unsigned long g = strtoul(p, &end, 10);
				if (end == p)
					break;
				r->group_count++;
				if (g == 0)
					r->group_zero = 1;
				p = end;
			}
		}
	}
	fclose(f);
	r->status_read = seen == 6;
	privileges_describe(r->describe, sizeof r->describe);
}

struct switch_arg {
	const char *user;
	const char *kept_path; /* a root-only file opened before the switch */
};

static void child_switch(struct report *r, void *arg)
{
	const struct switch_arg *a = arg;
	int fd = -1;
	if (a->kept_path)
		fd = open(a->kept_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	enum privileges_outcome outcome = PRIVILEGES_SWITCHED;
	r->rc = privileges_drop(a->user, &outcome, r->error, sizeof r->error);
	r->outcome = (int)outcome;
	if (r->rc != 0)
		return;
	observe(r);
	if (fd >= 0) {
		r->kept_fd_written = write(fd, "after\n", 6) == 6;
		close(fd);
		int again = open(a->kept_path, O_WRONLY | O_CLOEXEC);
		r->reopen_errno = again < 0 ? errno : 0;
		if (again >= 0)
			close(again);
	}
	r->setuid_root_errno = setuid(0) == 0 ? 0 : errno;
	/* Now unprivileged with the two: a second call has nothing to do. */
	outcome = PRIVILEGES_SWITCHED;
	r->second_rc = privileges_drop(a->user, &outcome, r->error, sizeof r->error);
	r->second_outcome = (int)outcome;
}

static bool running_as_root(void)
{
	return geteuid() == 0;
}

/*
 * The capture capabilities this process holds: both here and in CI, but a
 * container's root may lack CAP_NET_ADMIN (Docker's default), and then only
 * CAP_NET_RAW is kept.
 */
static uint64_t held_capture_caps(void)
{
	struct report start;
	memset(&start, 0, sizeof start);
	observe(&start);
	return start.cap_prm & CAPTURE_CAPS;
}

static const char *describe_caps(uint64_t caps)
{
	if (caps == CAPTURE_CAPS)
		return "cap_net_admin,cap_net_raw";
	if (caps == 1ULL << CAP_NET_RAW)
		return "cap_net_raw";
	if (caps == 1ULL << CAP_NET_ADMIN)
		return "cap_net_admin";
	return "none";
}

static struct passwd nobody_ids(void)
{
	struct passwd *pw = getpwnam("nobody");
	assert_non_null(pw);
	return *pw;
}

static char temp_dir[64];

static int make_temp_dir(void **state)
{
	(void)state;
	snprintf(temp_dir, sizeof temp_dir, "/tmp/test_privileges.XXXXXX");
	return mkdtemp(temp_dir) ? 0 : -1;
}

static int remove_temp_dir(void **state)
{
	(void)state;
	char command[128];
	snprintf(command, sizeof command, "rm -rf '%s'", temp_dir);
	return system(command) == 0 ? 0 : -1;
}

static void test_switch_to_nobody(void **state)
{
	(void)state;
	if (!running_as_root())
		skip();
	struct passwd nobody = nobody_ids();
	uint64_t held = held_capture_caps();
	char kept[128];
	snprintf(kept, sizeof kept, "%s/root-only", temp_dir);
	struct switch_arg arg = { "nobody", kept };
	struct report r;
	run_in_child(child_switch, &arg, &r);
	if (r.rc != 0)
		print_error("privileges_drop: %s\n", r.error);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.outcome, PRIVILEGES_SWITCHED);
	assert_int_equal(r.ruid, nobody.pw_uid);
	assert_int_equal(r.euid, nobody.pw_uid);
	assert_int_equal(r.suid, nobody.pw_uid);
	assert_int_equal(r.rgid, nobody.pw_gid);
	assert_int_equal(r.egid, nobody.pw_gid);
	assert_int_equal(r.sgid, nobody.pw_gid);
	assert_true(r.status_read);
	/* (1 << 12) | (1 << 13) when root had both, as here and in CI. */
	assert_int_equal(r.cap_eff, held);
	assert_int_equal(r.cap_prm, held);
	assert_int_equal(r.cap_bnd & ~CAPTURE_CAPS, 0);
	assert_int_equal(r.cap_inh, 0);
	assert_int_equal(r.cap_amb, 0);
	assert_int_equal(r.no_new_privs, 1);
	assert_true(r.group_count >= 1);
	assert_false(r.group_zero);
	assert_string_equal(r.describe, describe_caps(held));
	/* What root opened before stays usable; opening it again is refused. */
	assert_true(r.kept_fd_written);
	assert_int_equal(r.reopen_errno, EACCES);
	assert_int_equal(r.setuid_root_errno, EPERM);
	assert_int_equal(r.second_rc, 0);
	assert_int_equal(r.second_outcome, PRIVILEGES_ALREADY_UNPRIVILEGED);
}

static void test_unknown_user(void **state)
{
	(void)state;
	if (!running_as_root())
		skip();
	struct switch_arg arg = { "no-such-user-trackwatch", NULL };
	struct report r;
	run_in_child(child_switch, &arg, &r);
	assert_int_equal(r.rc, -1);
	assert_non_null(strstr(r.error, "no-such-user-trackwatch"));
}

static void test_root_user_refused(void **state)
{
	(void)state;
	if (!running_as_root())
		skip();
	struct switch_arg arg = { "root", NULL };
	struct report r;
	run_in_child(child_switch, &arg, &r);
	assert_int_equal(r.rc, -1);
	assert_non_null(strstr(r.error, "'root'"));
}

static void *wait_for_close(void *arg)
{
	char c;
	while (read(*(int *)arg, &c, 1) < 0 && errno == EINTR)
		;
	return NULL;
}

/* A second thread would keep its own capabilities: refused, with nothing changed. */
static void child_with_thread(struct report *r, void *arg)
{
	(void)arg;
	int fds[2];
	pthread_t thread;
	if (pipe(fds) != 0 || pthread_create(&thread, NULL, wait_for_close, &fds[0]) != 0)
		return;
	enum privileges_outcome outcome;
	r->rc = privileges_drop("nobody", &outcome, r->error, sizeof r->error);
	close(fds[1]);
	pthread_join(thread, NULL);
	observe(r);
}

static void test_thread_refused(void **state)
{
	(void)state;
	if (!running_as_root())
		skip();
	struct report r;
	run_in_child(child_with_thread, NULL, &r);
	assert_int_equal(r.rc, -1);
	assert_non_null(strstr(r.error, "threads"));
	assert_int_equal(r.euid, 0);
}

/*
 * As systemd starts the service (User=, AmbientCapabilities=), with more
 * capabilities than the two: here CAP_CHOWN, CAP_DAC_OVERRIDE and, in the
 * permitted set only, CAP_SETPCAP. As root the child makes that state itself.
 */
static void become_nobody_with_extra_caps(const struct passwd *nobody, uint64_t held)
{
	gid_t group = nobody->pw_gid;
	if (setgroups(1, &group) != 0 || setresgid(group, group, group) != 0 ||
	    prctl(PR_SET_KEEPCAPS, 1L, 0L, 0L, 0L) != 0 ||
	    setresuid(nobody->pw_uid, nobody->pw_uid, nobody->pw_uid) != 0 ||
	    prctl(PR_SET_KEEPCAPS, 0L, 0L, 0L, 0L) != 0)
		_exit(4);
	capng_clear(CAPNG_SELECT_CAPS);
	capng_updatev(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED | CAPNG_INHERITABLE,
		      CAP_CHOWN, CAP_DAC_OVERRIDE, (unsigned)-1);
	for (unsigned cap = 0; cap < 64; cap++)
		if (held & (1ULL << cap))
			capng_update(CAPNG_ADD,
				     CAPNG_EFFECTIVE | CAPNG_PERMITTED | CAPNG_INHERITABLE, cap);
	capng_update(CAPNG_ADD, CAPNG_PERMITTED, CAP_SETPCAP);
	if (capng_apply(CAPNG_SELECT_CAPS) != 0)
		_exit(5);
	/* Ambient, as systemd gives them: kept across exec, and needing inheritable. */
	if (((held & (1ULL << CAP_NET_RAW)) &&
	     prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, (unsigned long)CAP_NET_RAW, 0L, 0L) != 0) ||
	    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, (unsigned long)CAP_CHOWN, 0L, 0L) != 0)
		_exit(6);
}

static void child_unprivileged(struct report *r, void *arg)
{
	const uint64_t *held = arg;
	if (geteuid() == 0) {
		struct passwd *pw = getpwnam("nobody");
		if (!pw)
			_exit(7);
		become_nobody_with_extra_caps(pw, *held);
	}
	enum privileges_outcome outcome = PRIVILEGES_SWITCHED;
	r->rc = privileges_drop("trackwatch-user-not-looked-up", &outcome, r->error,
				sizeof r->error);
	r->outcome = (int)outcome;
	observe(r);
}

static void test_already_unprivileged(void **state)
{
	(void)state;
	bool root = running_as_root();
	uint64_t held = held_capture_caps();
	struct report r;
	run_in_child(child_unprivileged, &held, &r);
	if (r.rc != 0)
		print_error("privileges_drop: %s\n", r.error);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.outcome, PRIVILEGES_ALREADY_UNPRIVILEGED);
	assert_true(r.status_read);
	assert_int_equal(r.no_new_privs, 1);
	if (root) {
		/* The others are gone everywhere; the two stay, ambient CAP_NET_RAW too. */
		assert_int_equal(r.cap_eff, held);
		assert_int_equal(r.cap_prm, held);
		assert_int_equal(r.cap_inh, held);
		assert_int_equal(r.cap_amb, held & (1ULL << CAP_NET_RAW));
		/* CAP_SETPCAP was permitted: the bounding set is cleared too. */
		assert_int_equal(r.cap_bnd & ~CAPTURE_CAPS, 0);
		assert_string_equal(r.describe, describe_caps(held));
	} else {
		assert_int_equal(r.cap_prm, held);
	}
}

static void test_describe(void **state)
{
	(void)state;
	char text[512];
	privileges_describe(text, sizeof text);
	if (running_as_root())
		assert_non_null(strstr(text, "cap_net_raw"));
	assert_true(strcmp(text, "none") == 0 || strncmp(text, "cap_", 4) == 0);
	/* A short buffer is cut, never overrun. */
	char small[6];
	privileges_describe(small, sizeof small);
	assert_true(strlen(small) < sizeof small);
}

static void test_chown_file(void **state)
{
	(void)state;
	if (!running_as_root())
		skip();
	struct passwd nobody = nobody_ids();
	char path[128], error[PRIVILEGES_ERROR_MAX] = "";
	snprintf(path, sizeof path, "%s/db", temp_dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(privileges_chown_for("nobody", path, error, sizeof error), 0);
	struct stat st;
	assert_int_equal(lstat(path, &st), 0);
	assert_int_equal(st.st_uid, nobody.pw_uid);
	assert_int_equal(st.st_gid, nobody.pw_gid);
	/* Again: already the user's. */
	assert_int_equal(privileges_chown_for("nobody", path, error, sizeof error), 0);
}

static void test_chown_refuses_links(void **state)
{
	(void)state;
	char target[128], symbolic[128], hard[128], error[PRIVILEGES_ERROR_MAX] = "";
	snprintf(target, sizeof target, "%s/target", temp_dir);
	snprintf(symbolic, sizeof symbolic, "%s/db-wal", temp_dir);
	snprintf(hard, sizeof hard, "%s/db-shm", temp_dir);
	int fd = open(target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	struct stat before, after;
	assert_int_equal(stat(target, &before), 0);
	assert_int_equal(symlink(target, symbolic), 0);
	assert_int_equal(privileges_chown_for("nobody", symbolic, error, sizeof error), -1);
	assert_non_null(strstr(error, "symbolic link"));
	assert_non_null(strstr(error, symbolic));
	/* A second name of a file would give the other one away too. */
	assert_int_equal(link(target, hard), 0);
	assert_int_equal(privileges_chown_for("nobody", hard, error, sizeof error), -1);
	assert_non_null(strstr(error, "hard links"));
	assert_int_equal(stat(target, &after), 0);
	assert_int_equal(after.st_uid, before.st_uid);
	assert_int_equal(after.st_gid, before.st_gid);
	/* Neither a directory. */
	assert_int_equal(privileges_chown_for("nobody", temp_dir, error, sizeof error), -1);
	assert_non_null(strstr(error, "not a regular file"));
}

static void test_chown_skips_missing(void **state)
{
	(void)state;
	char path[128], error[PRIVILEGES_ERROR_MAX] = "";
	snprintf(path, sizeof path, "%s/no-such-file", temp_dir);
	assert_int_equal(privileges_chown_for("nobody", path, error, sizeof error), 0);
	assert_int_equal(privileges_chown_for("no-such-user-trackwatch", path, error, sizeof error),
			 -1);
	assert_non_null(strstr(error, "no-such-user-trackwatch"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_switch_to_nobody),
		cmocka_unit_test(test_unknown_user),
		cmocka_unit_test(test_root_user_refused),
		cmocka_unit_test(test_thread_refused),
		cmocka_unit_test(test_already_unprivileged),
		cmocka_unit_test(test_describe),
		cmocka_unit_test(test_chown_file),
		cmocka_unit_test(test_chown_refuses_links),
		cmocka_unit_test(test_chown_skips_missing),
	};
	return cmocka_run_group_tests(tests, make_temp_dir, remove_temp_dir);
}
