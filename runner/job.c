/* Running one job as one unit: spawn it into its cgroup, supervise it, record it. */
#include "runner/job.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "runner/session.h"
#include "runner/spawn.h"
#include "runner/supervise.h"
#include "runner/unit.h"

int run_exit_status(const struct rep_unit *u)
{
	switch (u->end) {
	case REP_END_SIGNALED:
		return 128 + u->code;
	case REP_END_NOT_RUN:
	case REP_END_EXITED:
		break;
	}
	return u->code;
}

int run_job(struct run_session *s, const struct run_job *job, struct rep_error *e)
{
	struct run_unit u;
	struct run_child c = { .pid = -1, .pidfd = -1, .gate_fd = -1, .err_fd = -1 };
	struct rusage ru;
	int r, status = 0, exec_err;

	r = run_unit_open(s, &u, job->name, job->kind, job->limit, e);
	if (r < 0)
		goto out;
	r = run_spawn(&c, job, &u.cg, &s->child_mask, e);
	if (r < 0)
		goto out;
	r = run_unit_start(s, &u, c.pid, e);
	if (r < 0)
		goto out;  /* the gate stays shut: the child never runs, and is killed below */
	exec_err = run_release(&c);
	if (exec_err)
		fprintf(stderr, "wcmem-sandbox: %s: %s\n", job->argv[0], strerror(exec_err));
	r = run_supervise(s, &u, &c, job->timeout_ns, &status, &ru, e);
	if (r < 0)
		goto out;
	r = run_unit_finish(s, &u, status, exec_err ? (exec_err == ENOENT ? 127 : 126) : 0, &ru, e);
	if (r == 0)
		r = run_exit_status(u.rec);
out:
	if (c.pid > 0 && r < 0) {
		struct rep_error ignored;

		cg_kill(&u.cg, &ignored);
	}
	run_child_close(&c);
	if (u.rec) {
		struct rep_error err2;

		if (run_unit_close(&u, &err2) < 0 && r >= 0)
			r = rep_fail(e, err2.err, "%s", err2.msg);
	}
	return r;
}

