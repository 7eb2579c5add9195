#include "runner/exec/spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runner/exec/status.h"

static bool clone3_unsupported;  /* cached: probed once */

/* The child: wait at the gate, then become the command. Runs only async-signal-safe code. */
static void run_child_main(int gate_rd, int err_wr, const struct run_job *job,
			   const struct cg_ns *ns, const sigset_t *mask)
{
	char byte;
	int err;
	ssize_t n;

	/* Die with the runner: the sandbox is killed on its exit paths, but not if it is
	 * SIGKILLed itself. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	do
		n = read(gate_rd, &byte, 1);
	while (n < 0 && errno == EINTR);
	if (n != 0)  /* the gate is opened by closing it; data or an error means abort */
		_exit(125);
	err = cg_ns_enter(ns);
	if (err < 0) {  /* negative: not the command's own failure (run_release) */
		n = write(err_wr, &err, sizeof(err));
		(void)n;
		_exit(run_exec_status(err));
	}
	prctl(PR_SET_PDEATHSIG, SIGKILL);  /* new credentials may have cleared it */
	signal(SIGPIPE, SIG_DFL);
	sigprocmask(SIG_SETMASK, mask, NULL);
	for (char *const *kv = job->env; kv && *kv; kv++)
		putenv(*kv);  /* the child's own copy of the environment */
	if (job->workdir && chdir(job->workdir) < 0) {
		err = errno;
		n = write(err_wr, &err, sizeof(err));
		(void)n;
		_exit(run_exec_status(err));
	}
	execvp(job->argv[0], job->argv);
	err = errno;
	n = write(err_wr, &err, sizeof(err));
	(void)n;
	_exit(run_exec_status(err));
}

int run_spawn(struct run_child *c, const struct run_job *job, struct cg_group *unit,
	      const struct cg_pids *pids, const struct cg_ns *ns, const sigset_t *child_mask,
	      struct wc_error *e)
{
	int gate[2] = { -1, -1 }, err[2] = { -1, -1 };
	pid_t pid = -1;
	bool cloned = false;
	int r;

	memset(c, 0, sizeof(*c));
	c->pidfd = c->gate_fd = c->err_fd = -1;
	if (pipe2(gate, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) {
		r = wc_fail(e, errno, "pipe2");
		goto fail;
	}

	if (unit->hier->version == CG_V2 && !clone3_unsupported) {
		pid = cg_clone_into(unit->dirfd, &c->pidfd);
		cloned = pid >= 0;
		if (pid < 0 && (errno == ENOSYS || errno == E2BIG || errno == EINVAL))
			clone3_unsupported = true;  /* before 5.7: fork and move below */
		else if (pid < 0) {
			r = wc_fail(e, errno, "clone3 into %s", unit->path);
			goto fail;
		}
	}
	if (pid < 0) {
		pid = fork();
		if (pid < 0) {
			r = wc_fail(e, errno, "fork");
			goto fail;
		}
		if (pid > 0) {
			r = cg_attach(unit, pid, e);
			if (r == 0)
				r = cg_pids_attach(pids, pid, e);  /* v1: its own hierarchy */
			if (r < 0) {
				kill(pid, SIGKILL);
				waitpid(pid, NULL, 0);
				goto fail;
			}
			c->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);  /* 5.3; -1 is fine */
		}
	}
	if (pid == 0) {
		close(gate[1]);
		close(err[0]);
		run_child_main(gate[0], err[1], job, ns, child_mask);
	}
	close(gate[0]);
	close(err[1]);
	c->how = cloned ? "clone3(CLONE_INTO_CGROUP)" : "fork, moved into the cgroup before exec";
	c->pid = pid;
	c->gate_fd = gate[1];
	c->err_fd = err[0];
	return 0;
fail:
	for (int i = 0; i < 2; i++) {
		if (gate[i] >= 0)
			close(gate[i]);
		if (err[i] >= 0)
			close(err[i]);
	}
	return r;
}

/* Done by the runner while the child waits at the gate, not by the child itself: the child
 * runs only async-signal-safe code and has no way to report a failure but its exit. */
int run_raise_oom_score(const struct run_child *c, struct wc_error *e)
{
	char path[64], value[16];
	int fd, len, r = 0;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", (int)c->pid);
	len = snprintf(value, sizeof(value), "%d\n", RUN_OOM_SCORE_ADJ);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return wc_fail(e, errno, "open %s", path);
	do
		n = write(fd, value, (size_t)len);
	while (n < 0 && errno == EINTR);
	if (n != len)
		r = wc_fail(e, n < 0 ? errno : EIO, "write %d to %s", RUN_OOM_SCORE_ADJ, path);
	close(fd);
	return r;
}

int run_release(struct run_child *c)
{
	int err = 0;
	ssize_t n;

	close(c->gate_fd);
	c->gate_fd = -1;
	do
		n = read(c->err_fd, &err, sizeof(err));
	while (n < 0 && errno == EINTR);
	close(c->err_fd);
	c->err_fd = -1;
	return n == (ssize_t)sizeof(err) ? err : 0;
}

void run_child_close(struct run_child *c)
{
	if (c->pidfd >= 0)
		close(c->pidfd);
	if (c->gate_fd >= 0) {
		ssize_t n = write(c->gate_fd, "x", 1);  /* data at the gate: exit, don't exec */

		(void)n;
		close(c->gate_fd);
	}
	if (c->err_fd >= 0)
		close(c->err_fd);
	c->pidfd = c->gate_fd = c->err_fd = -1;
}
