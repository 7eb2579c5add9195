/* The command's cgroup namespace (ns.h). A short-lived process, the anchor, is made in the
 * empty sandbox and unshares there; the runner keeps the namespace's descriptor, the anchor
 * exits, and each command enters the namespace with setns before it execs. The namespace
 * outlives the anchor: the descriptor holds it. */
#include "cgroup/ns.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* What the anchor reports: how far it got, and the errno it stopped at. */
enum anchor_step { ANCHOR_CGROUPNS, ANCHOR_USERNS, ANCHOR_SETGROUPS, ANCHOR_UID_MAP,
		   ANCHOR_GID_MAP, ANCHOR_CGROUPNS_IN_USERNS };

static const char *const anchor_step_text[] = {
	[ANCHOR_CGROUPNS] = "unshare(CLONE_NEWCGROUP)",
	[ANCHOR_USERNS] = "unshare(CLONE_NEWUSER)",
	[ANCHOR_SETGROUPS] = "write /proc/self/setgroups",
	[ANCHOR_UID_MAP] = "write /proc/self/uid_map",
	[ANCHOR_GID_MAP] = "write /proc/self/gid_map",
	[ANCHOR_CGROUPNS_IN_USERNS] = "unshare(CLONE_NEWCGROUP) in a user namespace",
};

struct anchor_report {
	int step;   /* enum anchor_step: the step that failed, or the last one done */
	int err;    /* 0: done; the namespace is ready */
	int userns; /* a user namespace was made first */
};

/* The maps an unprivileged process may write for itself: its own ids, one each. Formatted
 * before the fork: the anchor runs only async-signal-safe code. */
struct anchor_maps {
	char uid[64], gid[64];
};

pid_t cg_clone_into(int dirfd, int *pidfd)
{
	struct clone_args args;

	memset(&args, 0, sizeof(args));
	args.flags = CLONE_INTO_CGROUP | (pidfd ? CLONE_PIDFD : 0);
	args.pidfd = (uint64_t)(uintptr_t)pidfd;
	args.exit_signal = SIGCHLD;
	args.cgroup = (uint64_t)dirfd;
	return (pid_t)syscall(SYS_clone3, &args, sizeof(args));
}

static int write_self(const char *name, const char *text)
{
	int fd = open(name, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	n = n < 0 ? -errno : 0;
	close(fd);
	return (int)n;
}

/* The anchor's work. Without CAP_SYS_ADMIN a user namespace comes first, in which the
 * process has it; setgroups must be denied before an unprivileged gid_map is written. */
static struct anchor_report anchor_unshare(const struct anchor_maps *maps)
{
	struct anchor_report rep = { ANCHOR_CGROUPNS, 0, 0 };

	if (unshare(CLONE_NEWCGROUP) == 0)
		return rep;
	if (errno != EPERM) {
		rep.err = errno;
		return rep;
	}
	rep.userns = 1;
	if (unshare(CLONE_NEWUSER) < 0)
		return (struct anchor_report){ ANCHOR_USERNS, errno, 1 };
	if ((rep.err = -write_self("/proc/self/setgroups", "deny")) != 0)
		rep.step = ANCHOR_SETGROUPS;
	else if ((rep.err = -write_self("/proc/self/uid_map", maps->uid)) != 0)
		rep.step = ANCHOR_UID_MAP;
	else if ((rep.err = -write_self("/proc/self/gid_map", maps->gid)) != 0)
		rep.step = ANCHOR_GID_MAP;
	else if (unshare(CLONE_NEWCGROUP) < 0)
		rep = (struct anchor_report){ ANCHOR_CGROUPNS_IN_USERNS, errno, 1 };
	return rep;
}

/* Waits for a byte on fd: 1 when one came, 0 at EOF (the runner closed it, or died). */
static int wait_byte(int fd)
{
	char byte;
	ssize_t n;

	do
		n = read(fd, &byte, 1);
	while (n < 0 && errno == EINTR);
	return n == 1;
}

/* The anchor: once in the sandbox (the runner's byte says so), unshares and reports, then
 * waits for the runner to close hold (or to die) and exits. */
static void anchor_main(int report_fd, int hold_fd, const struct anchor_maps *maps)
{
	struct anchor_report rep;
	ssize_t n;

	if (!wait_byte(hold_fd))
		_exit(0);
	rep = anchor_unshare(maps);
	n = write(report_fd, &rep, sizeof(rep));
	(void)n;
	wait_byte(hold_fd);
	_exit(0);
}

/* The anchor, created in the sandbox (clone3), else forked and moved there. */
static pid_t anchor_start(struct cg_group *sandbox, int report_fd, int hold[2],
			  const struct anchor_maps *maps, struct wc_error *e)
{
	pid_t pid = cg_clone_into(sandbox->dirfd, NULL);
	bool inside = pid >= 0;
	int r;

	if (pid < 0 && (errno == ENOSYS || errno == E2BIG || errno == EINVAL))
		pid = fork();  /* before 5.7: moved in below, before it may unshare */
	if (pid == 0) {
		close(hold[1]);
		anchor_main(report_fd, hold[0], maps);
	}
	if (pid < 0)
		return wc_fail(e, errno, "start a process in %s", sandbox->path);
	r = inside ? 0 : cg_attach(sandbox, pid, e);
	if (r < 0) {
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		return r;
	}
	return pid;
}

/* The runner's side once the anchor reported: the namespaces' descriptors. */
static int ns_open(struct cg_ns *ns, pid_t pid, const struct anchor_report *rep,
		   struct wc_error *e)
{
	char path[64];

	if (rep->err)
		return wc_fail(e, rep->err, "make a cgroup namespace for the command: %s",
			       anchor_step_text[rep->step]);
	snprintf(path, sizeof(path), "/proc/%d/ns/cgroup", (int)pid);
	ns->cgroup_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (ns->cgroup_fd < 0)
		return wc_fail(e, errno, "open %s", path);
	if (!rep->userns)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
	ns->user_fd = open(path, O_RDONLY | O_CLOEXEC);
	return ns->user_fd < 0 ? wc_fail(e, errno, "open %s", path) : 0;
}

static int ns_boundary(const struct cg_hier *h, struct wc_error *e)
{
	if (h->version != CG_V2)
		return wc_fail(e, EOPNOTSUPP, "on cgroup v1 a cgroup namespace does not keep "
				"its processes from moving out");
	if (!cg_mount_has_option(h->mount, "nsdelegate")) {
		wc_fail(e, EOPNOTSUPP, "the cgroup2 mount at %s has no nsdelegate option, so a "
			"cgroup namespace does not keep its processes from moving out", h->mount);
		return wc_hint(e, "as root: mount -o remount,nsdelegate %s (systemd mounts it so)",
			       h->mount);
	}
	return 0;
}

/* Reads the anchor's report: the whole record, or EIO when it died before sending it. */
static void read_report(int fd, struct anchor_report *rep)
{
	ssize_t n;

	do
		n = read(fd, rep, sizeof(*rep));
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof(*rep))
		*rep = (struct anchor_report){ ANCHOR_CGROUPNS, EIO, 0 };
}

static void close_pair(int p[2])
{
	for (int i = 0; i < 2; i++)
		if (p[i] >= 0)
			close(p[i]);
}

int cg_ns_make(struct cg_ns *ns, const struct cg_hier *h, struct cg_group *sandbox,
	       struct wc_error *e)
{
	struct anchor_report rep;
	struct anchor_maps maps;
	int report[2] = { -1, -1 }, hold[2] = { -1, -1 }, r;
	pid_t pid;

	*ns = CG_NS_NONE;
	r = ns_boundary(h, e);
	if (r < 0)
		return r;
	snprintf(maps.uid, sizeof(maps.uid), "%u %u 1\n", (unsigned)geteuid(), (unsigned)geteuid());
	snprintf(maps.gid, sizeof(maps.gid), "%u %u 1\n", (unsigned)getegid(), (unsigned)getegid());
	if (pipe2(report, O_CLOEXEC) < 0 || pipe2(hold, O_CLOEXEC) < 0) {
		r = wc_fail(e, errno, "pipe2");
		goto out;
	}
	pid = anchor_start(sandbox, report[1], hold, &maps, e);
	if (pid < 0) {
		r = pid;
		goto out;
	}
	close(report[1]);
	report[1] = -1;
	if (write(hold[1], "g", 1) != 1)  /* in place: go */
		rep.err = EIO;
	read_report(report[0], &rep);
	r = ns_open(ns, pid, &rep, e);
	close(hold[1]);  /* the anchor exits, and leaves the sandbox empty again */
	hold[1] = -1;
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	if (r < 0)
		cg_ns_close(ns);
out:
	close_pair(report);
	close_pair(hold);
	return r;
}

int cg_ns_enter(const struct cg_ns *ns)
{
	if (ns->user_fd >= 0 && setns(ns->user_fd, CLONE_NEWUSER) < 0)
		return -errno;
	if (ns->cgroup_fd >= 0 && setns(ns->cgroup_fd, CLONE_NEWCGROUP) < 0)
		return -errno;
	return 0;
}

void cg_ns_close(struct cg_ns *ns)
{
	if (ns->cgroup_fd >= 0)
		close(ns->cgroup_fd);
	if (ns->user_fd >= 0)
		close(ns->user_fd);
	*ns = CG_NS_NONE;
}
