/* Running one job as one unit: spawn it into its cgroup, supervise it, record it; and when
 * pytest was OOM-killed in a test, run it again without what is done. */
#include "runner/exec/job.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "runner/control/control.h"
#include "runner/pytest/plugin_env.h"
#include "runner/session/reap.h"
#include "runner/session/say.h"
#include "runner/session/session.h"
#include "runner/session/state.h"
#include "runner/exec/spawn.h"
#include "runner/exec/status.h"
#include "runner/exec/supervise.h"
#include "runner/session/unit.h"

/* A collection that keeps changing under us must not resume forever. */
#define MAX_RESUMES 1000

/* The exit status of a wrapper for a finished unit: its own, 128+signal, or 126/127. */
static int run_exit_status(const struct rep_unit *u)
{
	switch (u->end) {
	case REP_END_SIGNALED:
		return 128 + u->code;
	case REP_END_LOST:
		return 128 + 9;
	case REP_END_NOT_RUN:
	case REP_END_EXITED:
		break;
	}
	return u->code;
}

/* pytest's exit status for an internal error. pytest-xdist's controller ends with it when
 * two workers die at once (it hands the first one's tests to the other, already gone): the
 * tests it had not run would be lost. */
#define PYTEST_INTERNAL_ERROR 3

/* The command died in a test that the OOM killer took, or failed inside after such a kill,
 * or a pytest it runs (under make, tox, a script: whatever their exit status) was killed in
 * a test: run it again, unless asked not to, or it would loop (the same test killed again,
 * or no test started at all). A pytest-xdist worker's kill is its controller's to report. */
static bool should_resume(struct run_session *s, int status, int resumes)
{
	struct run_control *c = s->control;
	bool crashed = WIFSIGNALED(status) || WEXITSTATUS(status) >= 128 ||
		       WEXITSTATUS(status) == PYTEST_INTERNAL_ERROR || run_control_killed_top(c);

	if (!c || s->opt->stop_on_oom || s->forwarded || !crashed || resumes >= MAX_RESUMES)
		return false;
	if (!run_control_killed(c) || !run_control_started(c))
		return false;
	if (run_control_killed_again(c)) {
		run_warn("a test was OOM-killed again after a resume: not resuming");
		return false;
	}
	return true;
}

/* What the resume that followed the command's death at died cost: the time until its
 * first test started (the command's start, imports and collection; the replay), or to its
 * end when it started none. standby: the collected copy went on. */
static void count_resume(struct run_session *s, const struct timespec *died, bool standby)
{
	struct timespec until;

	if (!run_control_first_start(s->control, &until))
		clock_gettime(CLOCK_MONOTONIC, &until);
	run_session_count_resume(s, run_seconds_between(died, &until), standby);
}

/* A failure loses only the protection of what is outside the sandbox: say so, once. */
static void raise_oom_score(struct run_session *s, const struct run_child *c)
{
	struct wc_error w;
	char buf[600];

	if (run_raise_oom_score(c, &w) < 0 && run_once(&s->once, RUN_ONCE_OOM_SCORE))
		run_warn("%s: a global OOM may pick a process outside the sandbox; "
			 "--no-oom-score-adj silences this", wc_error_text(&w, buf, sizeof(buf)));
}

/* Resumes the run with the copy of the command that stands by, woken into its unit: the
 * copy is the main process from here on. Returns 0, or -errno: start it again instead. */
static int wake_standby(struct run_session *s, struct run_unit *u, const char *resume,
			struct run_child *woken)
{
	struct wc_error e;
	int r;

	*woken = (struct run_child){ .pid = -1, .pidfd = -1, .gate_fd = -1, .err_fd = -1 };
	r = run_control_wake(s->control, &u->cg, resume, &woken->pid, &woken->pidfd, &e);
	if (r < 0 && r != -ENOENT)
		run_warn("%s: starting the command again instead", e.msg);
	if (r < 0)
		run_reap_group(&u->cg);  /* a copy that was moved in, and not woken */
	return r;
}

/* One run of the command: started, or the copy woken (woken, when not NULL). Returns 0
 * with *status set, or -errno. */
static int run_attempt(struct run_session *s, const struct run_job *job, struct run_unit *u,
		       const char *plugin_dir, const char *resume, bool first,
		       struct run_child *woken, int *status, struct rusage *ru, int *exec_err,
		       struct wc_error *e)
{
	struct run_child c = { .pid = -1, .pidfd = -1, .gate_fd = -1, .err_fd = -1 };
	struct run_job this = *job;
	char **env = NULL;
	int r;

	run_control_begin_attempt(s->control);
	if (woken) {
		c = *woken;  /* the descriptors move with it */
		goto supervise;
	}
	r = run_plugin_env(s, plugin_dir, job->env, resume, &env, e);
	if (r < 0)
		return r;
	this.env = env;
	r = run_spawn(&c, &this, &u->cg, &s->pids, &s->ns, &s->child_mask, e);
	if (r < 0)
		goto out;
	run_control_set_main(s->control, c.pid);
	if (s->opt->oom_score_adj)
		raise_oom_score(s, &c);
	if (first) {
		run_unit_rec(s, u)->started = c.how;
		/* On disk before the command runs: after a hard freeze the log names it. */
		r = run_unit_start(s, u, c.pid, NULL, true, e);
		if (r < 0)
			goto out;  /* the gate stays shut: the child never runs */
	}
	*exec_err = run_release(&c);
	if (*exec_err)
		run_exec_say(job->argv[0], *exec_err);
supervise:
	r = run_supervise(s, u, &c, job->timeout_ns, status, ru, e);
	if (r < 0)
		goto out;
	run_control_child_ended(s->control, *status, ru);
out:
	if (r < 0 && c.pid > 0)
		cg_kill(&u->cg, NULL);
	run_child_close(&c);
	run_env_free(env);
	return r;
}

int run_job(struct run_session *s, const struct run_job *job, struct wc_error *e)
{
	char dirbuf[PATH_MAX];
	const char *plugin_dir = NULL, *resume = NULL;
	struct run_unit u;
	struct rusage ru = { 0 };
	struct timespec died;
	struct run_child woken;
	int r, status = 0, exec_err = 0, resumes = 0;
	bool awake = false;

	s->test_limit = job->test_limit ? job->test_limit : s->opt->test_limit;
	if (s->opt->plugin) {
		if (run_plugin_dir(dirbuf, sizeof(dirbuf)) == 0)
			plugin_dir = dirbuf;
		else if (run_once(&s->once, RUN_ONCE_NO_PLUGIN))
			run_warn("the pytest plugin (the package wcmem_pytest/) is not installed "
				 "beside the binary: tests get no units of their own");
	}
	r = run_unit_open(s, &u, job->name, job->kind, job->limit, e);
	if (r == 0)  /* the command holds the tests; a suite is one, for the guide's readers */
		run_unit_rec(s, &u)->enclosing = strcmp(job->kind, "command") == 0;
	while (r == 0) {
		r = run_attempt(s, job, &u, plugin_dir, resume, resumes == 0,
				awake ? &woken : NULL, &status, &ru, &exec_err, e);
		if (resumes > 0)
			count_resume(s, &died, awake);
		clock_gettime(CLOCK_MONOTONIC, &died);
		if (r < 0 || exec_err || !should_resume(s, status, resumes))
			break;
		r = run_control_write_resume(s->control, &resume, e);
		if (r < 0)
			break;
		run_reap_group(&u.cg);
		run_reap_group(&s->harness);
		/* Nothing said here: pytest's progress line goes on where it stopped (the
		 * plugin), and the summary's last line counts the resumes and how each went. */
		awake = wake_standby(s, &u, resume, &woken) == 0;
		resumes++;
	}
	if (r == 0) {
		r = run_unit_finish(s, &u, status, exec_err ? run_exec_status(exec_err) : 0,
				    false, &ru, NULL, e);
		if (r == 0)
			r = run_exit_status(run_unit_rec(s, &u));
	}
	if (u.idx >= 0) {
		struct wc_error err2;

		if (run_unit_close(&u, &err2) < 0 && r >= 0)
			r = wc_wrap(e, &err2, NULL);
	}
	return r;
}
