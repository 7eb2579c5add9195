#include "runner/session/unit.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <unistd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "report/status.h"
#include "report/verdict.h"
#include "runner/session/entry.h"
#include "runner/session/records.h"
#include "runner/session/say.h"

/* A unit cgroup uN in the sandbox with memory.max = limit (read back), the session's swap and
 * memory.oom.group (v2). Named by sequence, never by test name: node IDs carry '/', '[',
 * spaces, unicode. */
static int run_unit_cgroup(struct run_session *s, struct cg_group *g, uint64_t limit,
			   struct wc_error *e)
{
	struct wc_error w;
	char cgname[32];
	int r;

	snprintf(cgname, sizeof(cgname), "u%d", ++s->cgroups_made);
	r = cg_create(g, &s->hier, &s->sandbox, cgname, e);
	if (r < 0)
		return r;
	r = cg_set_limit(g, CG_LIMIT_MAX, limit, NULL, e);
	if (r < 0)
		return r;
	r = cg_set_limit(g, CG_LIMIT_SWAP, s->opt->swap, NULL, &w);
	if (r < 0 && r != -EOPNOTSUPP)  /* no swap accounting: warned about for the sandbox */
		return wc_wrap(e, &w, NULL);
	r = cg_set_oom_group(g, &w);
	if (r < 0 && r != -EOPNOTSUPP)  /* v1 has none: the unit is killed whole at its end */
		return wc_wrap(e, &w, NULL);
	return 0;
}

void run_unit_prepare(struct run_session *s, uint64_t limit)
{
	if (s->spare.created)
		return;
	if (run_unit_cgroup(s, &s->spare, limit, NULL) < 0)
		cg_destroy(&s->spare, NULL);  /* then the next unit is made when it starts */
}

struct eviction {
	struct run_session *s;
	pid_t keep;
	int moved;
};

static void evict_one(pid_t pid, void *arg)
{
	struct eviction *ev = arg;

	if (pid != ev->keep && cg_attach(&ev->s->harness, pid, NULL) == 0)
		ev->moved++;
}

static void count_one(pid_t pid, void *arg)
{
	(void)pid;
	(*(int *)arg)++;
}

/* Whether a prepared cgroup (made ahead of time) is still as it was made. Its path is a
 * sibling of every test's own unit: a test may have moved processes into it, whose memory
 * would then count as the next test's (and OOM-kill it). Nothing in it but keep (the client
 * that moved itself in, or 0), nothing below it, and, when it should be empty, no memory.
 * cgroup.procs is read afresh, never through procs_fd: v1 keeps the list a descriptor read
 * for a second, and the END of this very unit would then see it as it is now. */
static bool untouched(struct cg_group *g, pid_t keep)
{
	int others = 0, listed = cg_for_each_proc(g, keep, count_one, &others, NULL);
	uint64_t cur;

	if (listed < 0 || others > 0)
		return false;
	if (keep > 0)
		return true;  /* the client's own charges since it moved in are its test's */
	return listed == 0 && cg_populated(g, NULL) == 0 &&
	       cg_read_current(g, &cur, NULL) == 0 && cur == 0;
}

/* A prepared cgroup that a test tampered with: what is in it goes to the harness
 * (the test's own processes, left behind, as any other), and it is removed. The client it
 * was kept for may be moving itself in meanwhile (START moved=1 goes first): it is moved out
 * again, never killed, unless processes keep coming back (a test that fights the runner). */
static void discard_prepared(struct run_session *s, struct cg_group *prepared)
{
	struct eviction ev = { s, 0, 0 };
	struct wc_error e;
	int r = -EBUSY;

	for (int i = 0; i < 10 && r == -EBUSY; i++) {
		cg_for_each_proc(prepared, 0, evict_one, &ev, NULL);
		r = cg_remove_empty(prepared);
	}
	if (run_once(&s->once, RUN_ONCE_TAMPERED))
		run_warn("%s was not as the runner made it (%d process%s or memory in it): a "
			 "test moved them there; they went to the harness, and the next unit is a "
			 "new cgroup", prepared->rel, ev.moved, ev.moved == 1 ? "" : "es");
	if (r < 0 && cg_destroy(prepared, &e) < 0)
		run_warn("%s", e.msg);
}

/* Moves a prepared cgroup, one made ahead of time (the spare, a kept unit), into *dst when
 * it was made with this limit and holds nothing but keep (a pid, or 0 for nothing). */
static bool take_prepared(struct run_session *s, struct cg_group *dst,
			  struct cg_group *prepared, uint64_t limit, pid_t keep)
{
	if (!prepared || !prepared->created || prepared->limit != cg_limit_applied(limit))
		return false;
	if (!untouched(prepared, keep)) {
		discard_prepared(s, prepared);
		return false;
	}
	*dst = *prepared;  /* the descriptors move with it */
	cg_group_init(prepared, &s->hier);
	return true;
}

int run_unit_keep(struct run_session *s, struct cg_group *kept, struct wc_error *e)
{
	int r;

	if (kept->created || take_prepared(s, kept, &s->spare, s->test_limit, 0))
		return 0;
	r = run_unit_cgroup(s, kept, s->test_limit, e);
	if (r < 0)
		cg_destroy(kept, NULL);
	return r;
}

int run_unit_open(struct run_session *s, struct run_unit *u, const char *name,
		  const char *kind, uint64_t limit, struct wc_error *e)
{
	return run_unit_open_from(s, u, name, kind, limit, NULL, 0, e);
}

int run_unit_open_from(struct run_session *s, struct run_unit *u, const char *name,
		       const char *kind, uint64_t limit, struct cg_group *from, pid_t client,
		       struct wc_error *e)
{
	struct rep_unit *rec;
	int r;

	memset(u, 0, sizeof(*u));
	cg_group_init(&u->cg, &s->hier);
	u->pid = u->status_fd = -1;
	u->idx = run_record_new(s);
	if (u->idx < 0)
		return wc_fail(e, ENOMEM, "record a unit");
	rec = run_unit_rec(s, u);
	rec->name = strdup(name);
	rec->kind = kind;
	rec->v1 = s->hier.version == CG_V1;
	rec->limit = limit;
	rec->sandbox_limit = s->opt->limit;
	rec->peak = rec->current = rec->sandbox_peak = rec->sandbox_current = REP_UNKNOWN;
	rec->pid = -1;
	/* Until it ends, a unit has not run: a command that never starts (the runner failed
	 * first) is never reported as having exited 0. */
	rec->end = REP_END_NOT_RUN;
	rec->code = RUN_EXIT_FAILURE;
	rep_status_clear(&rec->status_start);
	rep_status_clear(&rec->status_end);

	if (!take_prepared(s, &u->cg, from, limit, client) &&
	    !take_prepared(s, &u->cg, &s->spare, limit, 0)) {
		r = run_unit_cgroup(s, &u->cg, limit, e);
		if (r < 0)
			return r;
	}
	rec->cgroup = strdup(u->cg.rel);
	if (!rec->name || !rec->cgroup)
		return wc_fail(e, ENOMEM, "record a unit");
	return 0;
}

int run_unit_start(struct run_session *s, struct run_unit *u, pid_t pid, const char *extras,
		   bool sync, struct wc_error *e)
{
	struct rep_unit *rec = run_unit_rec(s, u);

	cg_read_events(&s->sandbox, &u->sandbox_ev0, NULL);
	clock_gettime(CLOCK_REALTIME, &rec->start);
	clock_gettime(CLOCK_MONOTONIC, &u->mono0);
	rec->start_elapsed = run_elapsed(s);
	rec->pid = u->pid = pid;
	if (extras && !(rec->extras_start = strdup(extras)))
		return wc_fail(e, ENOMEM, "record a unit");
	/* VmHWM is read, never reset (clear_refs): the test's own getrusage() and VmHWM must
	 * stay what they would be without the sandbox. Its peak comes from the cgroup. */
	if (u->status_fd >= 0)  /* the client's own, never another's with its pid */
		rep_status_read_fd(u->status_fd, &rec->status_start);
	else
		rep_status_read(pid, &rec->status_start);
	rec->status_end = rec->status_start;
	return run_log_entry(s, RUN_ENTRY_UNIT_START, rec, sync, e);
}

/* Only a live process has Vm* lines: keep the last full snapshot for TEST_END. */
static void snapshot_status(struct run_session *s, struct run_unit *u)
{
	struct rep_status st;

	if (u->pid <= 0)
		return;
	if (u->status_fd >= 0 ? rep_status_read_fd(u->status_fd, &st) == 4 :
	    rep_status_read(u->pid, &st) == 4)
		run_unit_rec(s, u)->status_end = st;
}

uint64_t run_unit_sample(struct run_session *s, struct run_unit *u)
{
	uint64_t cur;

	/* also the sampled peak, before memory.peak */
	if (cg_read_current(&u->cg, &cur, NULL) < 0)
		cur = REP_UNKNOWN;
	snapshot_status(s, u);
	return cur;
}

const char *run_unit_short_name(const struct run_unit *u)
{
	const char *slash = strrchr(u->cg.rel, '/');

	return slash ? slash + 1 : u->cg.rel;
}

static uint64_t delta(uint64_t now, uint64_t then)
{
	return now >= then ? now - then : 0;
}

void run_unit_measure(struct run_session *s, struct run_unit *u)
{
	struct rep_unit *rec = run_unit_rec(s, u);
	struct cg_events sev;
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	rec->duration = run_seconds_between(&u->mono0, &now);
	if (cg_read_peak(&u->cg, &rec->peak, NULL) < 0)
		rec->peak = REP_UNKNOWN;
	if (cg_read_current(&u->cg, &rec->current, NULL) < 0)
		rec->current = REP_UNKNOWN;
	if (cg_read_peak(&s->sandbox, &rec->sandbox_peak, NULL) < 0)
		rec->sandbox_peak = REP_UNKNOWN;
	if (cg_read_current(&s->sandbox, &rec->sandbox_current, NULL) < 0)
		rec->sandbox_current = REP_UNKNOWN;
	/* The kernel counts oom_kill before it sends SIGKILL: read after the wait, no race. */
	cg_read_events(&u->cg, &rec->events, NULL);
	if (cg_read_events(&s->sandbox, &sev, NULL) == 0) {
		rec->sandbox_events.low = delta(sev.low, u->sandbox_ev0.low);
		rec->sandbox_events.high = delta(sev.high, u->sandbox_ev0.high);
		rec->sandbox_events.max = delta(sev.max, u->sandbox_ev0.max);
		rec->sandbox_events.oom = delta(sev.oom, u->sandbox_ev0.oom);
		rec->sandbox_events.oom_kill = delta(sev.oom_kill, u->sandbox_ev0.oom_kill);
		rec->sandbox_events.oom_group_kill =
			delta(sev.oom_group_kill, u->sandbox_ev0.oom_group_kill);
	}
	snapshot_status(s, u);  /* the last one, while the process still lives */
	u->measured = true;
}

/* OOM kills outside every unit since the last call: a process a test left running (a
 * forkserver's child, a daemon) in the harness, or the copy standing by, taken when the
 * sandbox total was reached. Named with the unit that ends next, which ran then. */
static int outside_kills(struct run_session *s)
{
	struct cg_group *outside[] = { &s->harness, &s->standby };
	struct cg_events ev;
	uint64_t total = 0, seen = s->outside_seen;

	for (size_t i = 0; i < sizeof(outside) / sizeof(outside[0]); i++)
		if (outside[i]->created && cg_read_events(outside[i], &ev, NULL) == 0)
			total += ev.oom_kill;
	if (total <= seen)
		return 0;
	s->outside_seen = total;
	return total - seen > INT_MAX ? INT_MAX : (int)(total - seen);
}

int run_unit_finish(struct run_session *s, struct run_unit *u, int wait_status, int not_run,
		    bool lost, const struct rusage *ru, const char *extras, struct wc_error *e)
{
	struct rep_unit *rec;
	int r;

	if (!u->measured)
		run_unit_measure(s, u);
	rec = run_unit_rec(s, u);
	/* A zombie has no Vm* lines: its high-water mark comes from rusage (ru_maxrss, kB). */
	if (ru && ru->ru_maxrss > rec->status_end.vm_hwm)
		rec->status_end.vm_hwm = ru->ru_maxrss;
	if (extras && !(rec->extras_end = strdup(extras)))
		return wc_fail(e, ENOMEM, "record a unit");

	if (not_run) {
		rec->end = REP_END_NOT_RUN;
		rec->code = not_run;
	} else if (lost) {
		/* The OOM killer always sends SIGKILL: with its counter up, that is the end. */
		rec->end = rec->events.oom_kill ? REP_END_SIGNALED : REP_END_LOST;
		rec->code = rec->events.oom_kill ? SIGKILL : 0;
	} else if (WIFSIGNALED(wait_status)) {
		rec->end = REP_END_SIGNALED;
		rec->code = WTERMSIG(wait_status);
	} else {
		rec->end = REP_END_EXITED;
		rec->code = WEXITSTATUS(wait_status);
	}
	rec->oom = rep_verdict_oom(rec);
	s->oom_units += rec->oom != REP_OOM_NONE;
	rec->outside_kills = outside_kills(s);
	s->info.outside_kills += rec->outside_kills;
	r = run_log_entry(s, RUN_ENTRY_UNIT_END, rec, false, e);
	/* Thousands of tests: the plugin's lines are kept only for a JSON report. */
	if (!s->opt->json) {
		free(rec->extras_start);
		free(rec->extras_end);
		rec->extras_start = rec->extras_end = NULL;
	}
	return r;
}

int run_unit_evict(struct run_session *s, struct run_unit *u, pid_t keep, bool counted,
		   struct wc_error *e)
{
	struct eviction ev = { s, keep, 0 };
	int r;

	if (cg_holds_only(&u->cg, keep) == 1)
		return 0;  /* the usual END: the test left nothing behind */
	/* The one kept (the client, staying in its test's unit) is neither moved nor pinned:
	 * pinning it would cost a pidfd and a read of /proc every test. */
	r = cg_for_each_proc(&u->cg, keep, evict_one, &ev, e);
	if (r < 0)
		return r;
	if (counted)
		run_unit_rec(s, u)->left_behind += ev.moved;
	return ev.moved;
}

int run_unit_close(struct run_unit *u, struct wc_error *e)
{
	return cg_destroy(&u->cg, e);
}
