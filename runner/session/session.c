/* Building and tearing down the sandbox around a run. */
#include "runner/session/session.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "report/verdict.h"
#include "runner/session/entry.h"
#include "runner/session/reap.h"
#include "runner/session/records.h"
#include "runner/session/say.h"
#include "runner/session/scope.h"
#include "runner/config/keys.h"
#include "runner/config/size.h"
#include "runner/session/unit.h"
#include "runner/session/warm.h"

void run_session_init(struct run_session *s)
{
	memset(s, 0, sizeof(*s));
	s->sigfd = -1;
	s->loop.epfd = -1;
	s->log.fd = -1;
	run_logsync_init(&s->logsync);
	s->timeline.fd = -1;
	s->warm.watch.fd = s->warm.procs_fd = -1;
	cg_group_init(&s->leaf, &s->hier);
	cg_group_init(&s->sandbox, &s->hier);
	cg_group_init(&s->harness, &s->hier);
	cg_pids_init(&s->pids);
	s->ns = CG_NS_NONE;
	cg_group_init(&s->spare, &s->hier);
	cg_group_init(&s->standby, &s->hier);
	clock_gettime(CLOCK_MONOTONIC, &s->mono_start);
}

int run_signals_setup(struct run_session *s, struct wc_error *e)
{
	int fd = run_signalfd_open(&s->child_mask, e);

	if (fd < 0)
		return fd;
	s->sigfd = fd;
	/* A closed stderr must not kill us before the sandbox is torn down. */
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

/* States the limits really in force when the asked ones cannot all hold. */
static void run_check_limits(struct run_session *s)
{
	const struct run_options *o = s->opt;
	uint64_t phys = cfg_physical_memory(), above;
	char a[32], b[32];
	struct wc_error e;

	if (cg_base_limit(&s->hier, &above, NULL, &e) == 0 && above != CG_UNLIMITED &&
	    o->limit > above) {
		rep_format_size(o->limit, a, sizeof(a));
		rep_format_size(above, b, sizeof(b));
		run_warn("--limit %s is above the %s limit of the enclosing cgroup %s: "
			 "at most %s is in force", a, b, s->hier.base, b);
	} else if (phys && o->limit != CFG_SIZE_MAX && o->limit > phys) {
		rep_format_size(o->limit, a, sizeof(a));
		rep_format_size(phys, b, sizeof(b));
		run_warn("--limit %s is above this machine's memory (%s): the system runs out "
			 "first", a, b);
	}
	if (o->test_limit > o->limit) {
		rep_format_size(o->test_limit, a, sizeof(a));
		rep_format_size(o->limit, b, sizeof(b));
		run_warn("--test-limit %s is above --limit %s: units are held to %s", a, b, b);
	}
}

/* The default pids.max: a quarter of what the kernel can hand out (the smaller of
 * kernel.pid_max and kernel.threads-max: each thread takes a pid), so that a fork bomb
 * leaves the machine three quarters of its pids; never under 4096, well above what a suite
 * uses itself (pytest-xdist workers and their thread pools: hundreds). */
static uint64_t default_pids_max(void)
{
	static const char *const files[] = { "/proc/sys/kernel/pid_max",
					     "/proc/sys/kernel/threads-max" };
	uint64_t least = UINT64_MAX;

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		unsigned long long v;
		FILE *f = fopen(files[i], "re");

		if (f && fscanf(f, "%llu", &v) == 1 && v < least)
			least = v;
		if (f)
			fclose(f);
	}
	return least == UINT64_MAX || least / 4 < 4096 ? 4096 : least / 4;
}

/* pids.max on the sandbox. Not having it is no reason to refuse the run (the memory caps
 * are what it is for): a warning when it was asked for, or when it failed for a reason
 * other than its absence. */
static void run_session_pids(struct run_session *s)
{
	const struct run_options *o = s->opt;
	bool asked = o->set & CFG_BIT(CFG_PIDS_MAX);
	uint64_t max = o->pids_max ? o->pids_max : default_pids_max();
	char name[64], buf[600];
	struct wc_error w;
	int r;

	r = cg_pids_limit(&s->pids, &s->hier, &s->sandbox,
			  cg_sandbox_name(getpid(), CG_PART_SANDBOX, name, sizeof(name)),
			  max == UINT64_MAX ? CG_UNLIMITED : max, &w);
	if (r < 0 && (asked || (r != -EOPNOTSUPP && r != -EACCES && r != -EPERM)))
		run_warn("no limit on the sandbox's processes (--pids-max): %s",
			 wc_error_text(&w, buf, sizeof(buf)));
	if (r < 0)
		cg_pids_close(&s->pids, &w);
}

/* The command's cgroup namespace. Where it would be no boundary (v1, no nsdelegate) the
 * command runs without one; that is news only to a runner that is not root (root's tests
 * can leave any cgroup anyway, README's Security model), and then said once. */
static void run_session_namespace(struct run_session *s)
{
	struct wc_error w;
	char buf[1100];
	int r = cg_ns_make(&s->ns, &s->hier, &s->sandbox, &w);

	if (r == -EOPNOTSUPP && (s->hier.version != CG_V2 || geteuid() == 0))
		return;
	if (r < 0 && !s->opt->quiet)
		run_warn("a test may move its processes out of the sandbox and its limits: %s",
			 wc_error_text(&w, buf, sizeof(buf)));
}

int run_session_limits(struct run_session *s, struct wc_error *e)
{
	const struct run_options *o = s->opt;
	struct wc_error w;
	char buf[600];
	int r;

	r = cg_set_limit(&s->sandbox, CG_LIMIT_MAX, o->limit, NULL, e);
	if (r < 0)
		return r;
	r = cg_set_limit(&s->sandbox, CG_LIMIT_SWAP, o->swap, NULL, &w);
	if (r == -EOPNOTSUPP) {
		/* No swap accounting: a cap cannot hold, said; "max" asked for none. */
		if (o->swap != CFG_SIZE_MAX)
			run_warn("%s; the limits count memory only, and swap is not capped",
				 wc_error_text(&w, buf, sizeof(buf)));
	} else if (r < 0)
		return wc_wrap(e, &w, NULL);
	run_session_pids(s);
	if (o->high != CFG_SIZE_MAX) {
		r = cg_set_limit(&s->sandbox, CG_LIMIT_HIGH, o->high, NULL, &w);
		if (r == -EOPNOTSUPP)
			run_warn("--high is not in force: %s", w.msg);
		else if (r < 0)
			return wc_wrap(e, &w, NULL);
	}
	return 0;
}

static int run_log_open(struct run_session *s, struct wc_error *e)
{
	const char *off = getenv("WEATHERCOP_DISABLE_DIAGNOSTICS");
	int r;

	s->log.fd = -1;
	s->log_path[0] = '\0';
	if (off && strcmp(off, "1") == 0)
		return 0;  /* diagnostics off: no log; the limits stay */
	if (s->opt->log_path)
		snprintf(s->log_path, sizeof(s->log_path), "%s", s->opt->log_path);
	else if (rep_log_default_path(s->log_path, sizeof(s->log_path), getenv("WEATHERCOP_DIR"),
				      getenv("HOME")) < 0)
		return wc_fail(e, ENOENT, "find the log's folder: set WEATHERCOP_DIR or HOME, "
				"or give --log FILE");
	r = rep_log_open(&s->log, s->log_path, s->opt->append, e);
	if (r == 0 && s->log.shared)
		run_warn("the memory log %s is being written by another running session: "
			 "appending to it instead of starting it afresh", s->log_path);
	return r;
}

int run_session_open(struct run_session *s, const struct run_options *o, struct wc_error *e)
{
	char name[64];
	int r;

	s->opt = o;
	clock_gettime(CLOCK_REALTIME, &s->info.start);
	clock_gettime(CLOCK_MONOTONIC, &s->mono_start);

	r = run_loop_init(&s->loop, e);
	if (r < 0)
		return r;
	r = cg_discover(&s->hier, getenv("WCMEM_CGROUP_BASE"), e);
	if (r == 0 && !o->no_systemd_scope)
		r = run_scope_join(&s->hier, o->quiet, s->scope_why, sizeof(s->scope_why), e);
	if (r < 0)
		return r;
	r = cg_sweep_stale(&s->hier, e);
	if (r < 0)
		return r;
	if (r > 0 && !o->quiet)
		fprintf(stderr, "wcmem-sandbox: removed %d cgroup%s left by runners that died\n",
			r, r == 1 ? "" : "s");
	run_check_limits(s);

	r = cg_leave_base(&s->leaf, &s->hier,
			  cg_sandbox_name(getpid(), CG_PART_LEAF, name, sizeof(name)), e);
	if (r == 0)
		r = cg_hold(&s->leaf, e);
	if (r < 0)
		return run_scope_explain(e, r, s->scope_why);
	r = cg_create(&s->sandbox, &s->hier, NULL,
		      cg_sandbox_name(getpid(), CG_PART_SANDBOX, name, sizeof(name)), e);
	if (r == 0)
		r = cg_hold(&s->sandbox, e);
	if (r < 0)
		return run_scope_explain(e, r, s->scope_why);
	run_session_namespace(s);  /* while the sandbox hands no controller down */
	r = run_session_limits(s, e);
	if (r < 0)
		return r;
	r = cg_create(&s->harness, &s->hier, &s->sandbox, "harness", e);
	if (r < 0)
		return r;
	r = run_log_open(s, e);
	if (r < 0)
		return r;
	run_timeline_open(s);
	run_warm_open(s);

	s->info.command = s->command_line;
	s->info.rerun = s->rerun_prefix;
	s->info.cgroup = s->sandbox.rel;
	s->info.backend = s->hier.version == CG_V2 ? "cgroup v2" : "cgroup v1";
	s->info.limit = o->limit;
	s->info.limit_origin = *o->limit_origin ? o->limit_origin : NULL;
	if (o->shard.count) {
		snprintf(s->shard_text, sizeof(s->shard_text), "%u/%u", o->shard.index,
			 o->shard.count);
		s->info.shard = s->shard_text;
		s->info.shard_origin = o->shard_origin;
	}
	s->info.test_limit = o->test_limit;
	s->info.swap = o->swap;
	s->info.peak = REP_UNKNOWN;
	s->info.log_path = s->log.fd >= 0 ? s->log_path : NULL;
	return run_log_entry(s, RUN_ENTRY_SESSION_START, NULL, false, e);
}

void run_session_count_resume(struct run_session *s, double seconds, bool standby)
{
	s->info.resumes++;
	s->info.resume_seconds += seconds;
	s->info.standby_resumes += standby;
}

void run_session_free(struct run_session *s)
{
	run_records_free(s);
	free(s->entry);
	s->entry = NULL;
	s->entry_size = 0;
}

int run_session_close(struct run_session *s, int exit_status, struct wc_error *e)
{
	struct wc_error err2;
	uint64_t peak;
	int r = 0;

	if (s->sandbox.created && cg_read_peak(&s->sandbox, &peak, &err2) == 0)
		s->info.peak = peak;
	run_warm_close(s);
	run_reap_group(&s->sandbox);
	if (cg_destroy(&s->spare, &err2) < 0 && r == 0)
		r = wc_wrap(e, &err2, NULL);
	if (cg_destroy(&s->standby, &err2) < 0 && r == 0)
		r = wc_wrap(e, &err2, NULL);
	if (cg_destroy(&s->harness, &err2) < 0 && r == 0)
		r = wc_wrap(e, &err2, NULL);
	if (cg_destroy(&s->sandbox, &err2) < 0 && r == 0)
		r = wc_wrap(e, &err2, NULL);
	if (cg_pids_close(&s->pids, &err2) < 0 && r == 0)  /* before -pids: the base empty */
		r = wc_wrap(e, &err2, NULL);
	cg_ns_close(&s->ns);
	if (cg_return_home(&s->leaf, &err2) < 0 && r == 0)
		r = wc_wrap(e, &err2, NULL);

	if (s->log.fd >= 0) {
		s->info.elapsed = run_elapsed(s);
		s->info.exit_status = exit_status;
		run_log_entry(s, RUN_ENTRY_SESSION_END, NULL, false, &err2);
	}
	run_log_close(s);
	rep_log_close(&s->timeline);
	if (s->sigfd >= 0)
		close(s->sigfd);
	s->sigfd = -1;
	run_loop_close(&s->loop);
	return r;
}
