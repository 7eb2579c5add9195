/* What each control message does (runner/control/PROTOCOL.md). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "report/verdict.h"
#include "runner/budget/budget.h"
#include "runner/control/internal.h"
#include "runner/control/peer.h"
#include "runner/config/field.h"
#include "runner/control/protocol.h"
#include "runner/session/records.h"
#include "runner/session/warm.h"

/* The cgroup a process is in, relative to the controller's mount ("/a/wcmem-1/u3"). */
static char *cgroup_of(struct run_session *s, pid_t pid)
{
	char rel[4096];
	struct wc_error e;

	return cg_pid_cgroup(&s->hier, pid, rel, sizeof(rel), &e) < 0 ? NULL : strdup(rel);
}

static void send_home(struct run_control *c, struct conn *k)
{
	struct wc_error e;

	if (run_conn_proven(c, k) <= 0)
		return;  /* gone, or its pid now names another process: nothing of ours to move */
	if (!k->unit_is_test && k->origin && cg_attach_path(&c->s->hier, k->origin, k->pid, &e) == 0)
		return;
	cg_attach(&c->s->harness, k->pid, &e);  /* a test's home; else the origin is gone */
}

/* "OOM-killed: peak 512.0 MiB, limit 512.0 MiB (own limit)", or "OOM-killed: exceeded its
 * budget 210 MiB (wcmem-budgets.ini:12); peak 210.0 MiB": the failure a resumed plugin
 * reports for the test that was killed, in people's words. */
static void killed_text(const struct rep_unit *u, char *buf, size_t size)
{
	char peak[32] = "unknown", limit[32];

	if (u->peak != REP_UNKNOWN)
		rep_format_size(u->peak, peak, sizeof(peak));
	if (u->oom == REP_OOM_OWN && u->budget) {  /* the budget file's line, for review */
		char reason[REP_VERDICT_MAX];

		rep_verdict_reason_said(u, reason, sizeof(reason));
		snprintf(buf, size, "OOM-killed: %s; peak %s", reason, peak);
		return;
	}
	rep_format_size(u->oom == REP_OOM_SANDBOX ? u->sandbox_limit : u->limit, limit, sizeof(limit));
	snprintf(buf, size, "OOM-killed: peak %s, limit %s (%s)", peak, limit,
		 rep_oom_to_string(u->oom));
}

void run_conn_end_unit(struct run_control *c, struct conn *k, int wait_status, bool lost,
		       const struct rusage *ru, const char *reports)
{
	struct run_session *s = c->s;
	struct wc_error e;
	struct rep_unit *rec;

	/* A live test client stays in the unit until its next START moves it straight into
	 * the next one: each migration may wait for an RCU grace period (milliseconds once
	 * tests are far apart), so one a test, not two. The counters are read now. */
	bool alive = !lost || run_peer_alive(k->pidfd), stay = alive && !lost && k->unit_is_test;

	run_unit_measure(s, &k->unit);
	if (alive && !stay && !k->left)
		send_home(c, k);
	run_unit_evict(s, &k->unit, stay ? k->pid : 0, true, &e);
	if (run_unit_finish(s, &k->unit, wait_status, 0, lost, ru, NULL, &e) < 0)
		run_warn("%s: %s", k->unit.cg.rel, e.msg);
	rec = run_unit_rec(s, &k->unit);
	if (rec->end != REP_END_EXITED && rec->oom != REP_OOM_NONE) {
		char text[REP_VERDICT_MAX];

		killed_text(rec, text, sizeof(text));
		run_resume_add(c, rec->name, text, rec->duration, true);
		c->killed_top += k->unit_is_test && !k->worker;  /* a pytest, not a nested run */
	}
	if (reports)
		run_resume_add(c, rec->name, reports, rec->duration, false);
	/* Its record was read for the last time above: however the unit ended (END, EOF, the
	 * client's death), what is kept of it is bounded. */
	run_record_settle(s, k->unit.idx);
	run_conn_enter(k, CONN_IDLE);
	k->alone = false;
	k->expect = 0;
	if (stay) {
		k->last = k->unit;  /* the descriptors move with it */
		k->has_last = true;
	} else if (run_unit_close(&k->unit, &e) < 0) {
		run_warn("%s", e.msg);
	}
}

void run_conn_check_moved_on(struct run_control *c, struct conn *k)
{
	struct wc_error e;
	int inside, holds = 1;

	if (k->state != CONN_IN_UNIT)
		return;
	inside = k->cgroup_fd >= 0 ? cg_fd_inside(&k->unit.cg, k->cgroup_fd, &e) :
		 cg_pid_inside(&k->unit.cg, k->pid, &e);
	if (k->peer_ino)
		holds = run_peer_holds(k->pid, k->pidfd, k->peer_ino, &k->peer_fd);
	/* After the readings: they were of the client only if it still lives on. A dying one
	 * (an OOM kill) closes its descriptors first: its death ends the unit, by its EOF or
	 * its wait status, once its memory is given back. */
	if ((inside != 0 && holds != 0) || run_peer_exiting(k->pid, k->pidfd))
		return;
	/* Moved into the unit kept for its next test (START keep=1): its END and that START
	 * are on their way, written before the move; they end this unit. */
	if (inside == 0 && holds != 0 && k->kept.created &&
	    (k->cgroup_fd >= 0 ? cg_fd_inside(&k->kept, k->cgroup_fd, &e) :
	     cg_pid_inside(&k->kept, k->pid, &e)) > 0)
		return;
	run_conn_warn(k, holds == 0 ? "its process no longer holds its connection (another "
		      "process keeps a copy): its unit ends now" :
		      "its process left its unit: the unit ends now");
	k->left = inside == 0;  /* then it stays where it went */
	run_conn_end_unit(c, k, 0, true, NULL, NULL);
	k->left = false;
}

void run_conn_drop_last(struct run_control *c, struct conn *k)
{
	struct wc_error e;

	if (!k->has_last)
		return;
	if (cg_remove_empty(&k->last.cg) == 0) {  /* the usual case: the client moved on */
		k->has_last = false;
		return;
	}
	/* Whatever is still there (the client, when it did not move on) goes to the harness
	 * first: removing a busy group would kill it. */
	run_unit_evict(c->s, &k->last, 0, false, &e);
	if (run_unit_close(&k->last, &e) < 0)
		run_warn("%s", e.msg);
	k->has_last = false;
}

/* Answers a START or END with an error and puts it in the log (UNIT_REFUSED): the client
 * runs its test anyway, without a unit, and the log must say which one that was. */
__attribute__((format(printf, 4, 5)))
static void refuse(struct run_control *c, struct conn *k, const struct run_msg *m,
		   const char *fmt, ...)
{
	char answer[1024];
	struct wc_error e;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(answer, sizeof(answer), fmt, ap);
	va_end(ap);
	run_conn_reply(k, "%s", answer);
	if (run_log_refused(c->s, m->verb == RUN_MSG_START ? "START" : "END", m->name, answer,
			    &e) < 0)
		run_warn("%s", e.msg);
}

/* A unit that could not be set up is recorded as not started, with the reason: never as a
 * unit that ran and passed. */
static void start_failed(struct run_session *s, struct run_unit *u, const struct wc_error *why)
{
	struct wc_error e;
	char text[1024];

	if (u->idx >= 0 && u->idx < s->nunits && run_unit_rec(s, u)->name) {
		struct rep_unit *rec = run_unit_rec(s, u);

		wc_error_text(why, text, sizeof(text));
		rec->error = strdup(text);
		clock_gettime(CLOCK_REALTIME, &rec->start);
		clock_gettime(CLOCK_MONOTONIC, &u->mono0);
		rec->start_elapsed = run_elapsed(s);
		if (run_unit_finish(s, u, 0, 125, false, NULL, NULL, &e) < 0)
			run_warn("%s", e.msg);
		run_record_settle(s, u->idx);
	}
	run_unit_close(u, &e);
}

/* The unit's limit: its START's own (a limit_memory marker), else the test's budget, else
 * the job's test limit. *budget is the budget applied, or NULL. */
static uint64_t start_limit(struct run_session *s, const struct run_msg *m,
			    struct budget **budget)
{
	*budget = NULL;
	if (m->limit != UINT64_MAX)
		return m->limit;
	*budget = budget_find(s->budgets, m->name);
	return *budget ? (*budget)->bytes : s->test_limit;
}

/* "wcmem-budgets.ini:12" on the record: the verdict then names the line. */
static void mark_budget(struct run_session *s, struct rep_unit *rec, struct budget *b)
{
	if (!b)
		return;
	b->used = true;
	if (asprintf(&rec->budget, "%s:%d", s->budgets->path, b->line) < 0)
		rec->budget = NULL;  /* out of memory: the verdict says "its own limit" */
}

/* keep=1: " next=PATH", the cgroup.procs of a unit kept for the client's next START, or
 * "" (none kept: under --budgets a test's limit is known only from its START; under either
 * --budgets or --expect its START may wait for room). */
static void keep_next(struct run_session *s, struct conn *k, const struct run_msg *m,
		      bool gone, char *out, size_t size)
{
	char procs[sizeof(k->kept.path) + 16];

	out[0] = '\0';
	if (!m->keep || gone || !k->unit_is_test || s->budgets || s->expect ||
	    run_admit_pending(k->ctl) || run_unit_keep(s, &k->kept, NULL) < 0)
		return;
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", k->kept.path);
	if (cfg_field_encode(procs, out + 6, size - 6) < size - 6)
		memcpy(out, " next=", 6);
	else
		out[0] = '\0';  /* too long to say: the client waits for its answers */
}

/* Another connection's process may have moved on from its unit (into this one's, say):
 * that unit ends before this one's START or END reads memory that is not its. */
static void check_others(struct run_control *c, struct conn *k)
{
	for (struct conn *o = c->conns; o; o = o->next)
		if (o != k)
			run_conn_check_moved_on(c, o);
}

static int on_start(struct run_control *c, struct conn *k, const struct run_msg *m)
{
	struct run_session *s = c->s;
	struct budget *budget;
	uint64_t limit = start_limit(s, m, &budget);
	struct rep_unit *rec;
	struct wc_error e;
	char next[RUN_REPLY_MAX / 2];
	bool gone;
	int r;

	if (run_conn_has_unit(k)) {
		refuse(c, k, m, "ERR 409 a unit is open: END it first");
		return -EBUSY;
	}
	check_others(c, k);
	/* Proven now, not at accept: the process that connected may have exited since, and
	 * its pid been taken by a process outside the sandbox. */
	r = run_conn_proven(c, k);
	if (r < 0) {
		run_conn_reply(k, "ERR 503 the runner cannot tell who the client is now: %s",
			       strerror(-r));
		return r;
	}
	/* A client that moved itself into its kept unit and died there before this line was
	 * read (an OOM kill in its first instructions) is recorded as dying in that unit: dead,
	 * or dying (a zombie's pidfd still takes signal 0). */
	gone = r == 0 && m->moved && k->kept.created && run_peer_exiting(k->pid, k->pidfd);
	if (r == 0 && !gone) {
		run_conn_reply(k, "ERR 403 the process that connected has exited or left this "
			       "sandbox");
		run_conn_warn(k, "refused START: the process that connected is not there");
		return -ESRCH;
	}
	k->unit_is_test = strcmp(m->kind, "test") == 0;
	free(k->origin);
	k->origin = k->unit_is_test ? NULL : cgroup_of(s, k->pid);
	/* The record keeps kind for good: a static string, not the line it came in. */
	/* moved=1: the client is in its kept unit, or on its way (it sends START first): the
	 * move is the same either way, and whoever is second moves nothing. */
	if (run_unit_open_from(s, &k->unit, m->name, k->unit_is_test ? "test" : "command", limit,
			       m->moved ? &k->kept : NULL, k->pid, &e) < 0 ||
	    (!gone && cg_attach(&k->unit.cg, k->pid, &e) < 0)) {
		refuse(c, k, m, "ERR 500 %s", e.msg);
		start_failed(s, &k->unit, &e);
		return -EIO;
	}
	run_warm_moved(s);
	k->unit.status_fd = k->status_fd;
	run_conn_enter(k, CONN_IN_UNIT);
	k->leaks = m->leaks;
	rec = run_unit_rec(s, &k->unit);
	if (m->where)
		rec->location = strdup(m->where);
	mark_budget(s, rec, budget);
	run_admit_started(c, k);
	if (run_unit_start(s, &k->unit, k->pid, m->extras, false, &e) < 0)
		run_warn("%s", e.msg);
	if (c->started++ == 0)  /* what a resume cost ends here (job.c) */
		clock_gettime(CLOCK_MONOTONIC, &c->first_start);
	keep_next(s, k, m, gone, next, sizeof(next));
	run_conn_reply(k, "OK %s%s", k->unit.cg.rel, next);
	/* Sent now, not after the handler: a test that waits for this answer (the first, one
	 * with markers) waits not for the removal of its last unit nor the making of the next
	 * one. Nor for the disk: its TEST_START is made durable by the log's sync thread
	 * (logsync.h), within milliseconds. A test cannot freeze the machine in that time: its
	 * limit holds, and a thrashing machine takes seconds to stop. */
	run_conn_flush(k);
	run_log_sync(s);
	run_conn_drop_last(c, k);  /* the client has moved on: its last unit is empty now */
	/* The next test's unit is made while this one runs, not after its END: pytest sends
	 * its next START a moment after END, and would wait for the mkdir. */
	if (k->unit_is_test)
		run_unit_prepare(s, s->test_limit);
	return 0;
}

static int on_end(struct run_control *c, struct conn *k, const struct run_msg *m)
{
	struct run_session *s = c->s;
	struct rep_unit *rec;
	int code;

	check_others(c, k);
	if (!run_conn_has_unit(k) || strcmp(run_unit_rec(s, &k->unit)->name, m->name) != 0) {
		refuse(c, k, m, "ERR 409 no unit of that name is open");
		return -ENOENT;
	}
	rec = run_unit_rec(s, &k->unit);
	if (m->outcome)
		rec->outcome = strdup(m->outcome);
	code = m->status >= 0 ? m->status :
	       m->outcome && (!strcmp(m->outcome, "failed") || !strcmp(m->outcome, "error"));
	free(rec->extras_end);  /* a NOTE's sample: the END's own lines say more */
	rec->extras_end = m->extras ? strdup(m->extras) : NULL;
	/* The test's own failure text, for the JUnit report only: a few KiB a failed test. */
	if (s->opt->junit_xml) {
		free(rec->message);
		free(rec->failure);
		rec->message = m->message ? strdup(m->message) : NULL;
		rec->failure = m->failure ? strdup(m->failure) : NULL;
	}
	/* An exit code is only ever one: `exit 200` is code 200, never "signal 72". */
	run_conn_end_unit(c, k, m->signal ? m->signal : W_EXITCODE(code, 0), false, NULL,
			  m->reports ? m->reports : "-");
	run_conn_reply(k, "OK");
	return 0;
}

/* The ended record of that name, from the one after the last found, wrapping: pytest's own
 * JUnit XML asks for every test as its session ends, in the order they ran, and a search
 * from one end each time would cost O(tests^2) in all. A record run again (admit.c) is
 * taken only when its later run has not ended: the later run is the test's answer. -1: none. */
static int find_ended(const struct run_session *s, const char *name, int after)
{
	int superseded = -1;

	for (int n = 0; n < s->nunits; n++) {
		int i = (after + 1 + n) % s->nunits;

		if (!run_record_named(&s->units[i], name) || s->units[i].duration <= 0)
			continue;
		if (!s->units[i].rerun)
			return i;
		superseded = i;
	}
	return superseded;
}

/* VERDICT: the ended unit's verdict, with its peak in bytes (for the plugin's properties in
 * pytest's own JUnit XML); with requeue=1 (the client can run the test again), " again=1"
 * when the sandbox total killed it while other units ran: the test is then run again,
 * alone (admit.c), and not reported failed. */
static void on_verdict(struct run_control *c, struct conn *k, const struct run_msg *m)
{
	struct run_session *s = c->s;
	char text[REP_VERDICT_MAX], enc[3 * REP_VERDICT_MAX], peak[32] = "";
	int i = find_ended(s, m->name, c->verdict_at);

	if (i < 0) {
		run_conn_reply(k, "ERR 409 no ended unit of that name");
		return;
	}
	c->verdict_at = i;
	rep_verdict_said(&s->units[i], text, sizeof(text));
	cfg_field_encode(text, enc, sizeof(enc));
	if (s->units[i].peak != REP_UNKNOWN)
		snprintf(peak, sizeof(peak), " peak=%" PRIu64, s->units[i].peak);
	run_conn_reply(k, "OK %s%s%s", enc, peak,
		       m->requeue && run_admit_requeue(c, &s->units[i]) ? " again=1" : "");
}

/* What the open unit holds now, and what its START's leaks= allows: a limit_leaks marker
 * asks as its test's call begins and ends. */
static void on_usage(struct run_session *s, struct conn *k, const struct run_msg *m)
{
	struct wc_error e;
	uint64_t current;

	if (!run_conn_has_unit(k) || strcmp(run_unit_rec(s, &k->unit)->name, m->name) != 0) {
		run_conn_reply(k, "ERR 409 no unit of that name is open");
		return;
	}
	if (cg_read_current(&k->unit.cg, &current, &e) < 0) {
		run_conn_reply(k, "ERR 500 %s", e.msg);
		return;
	}
	if (k->leaks == UINT64_MAX)
		run_conn_reply(k, "OK %" PRIu64, current);
	else
		run_conn_reply(k, "OK %" PRIu64 " %" PRIu64, current, k->leaks);
}

/* NOTE: lines for an open unit's TEST_END, kept in case its END never comes (an OOM kill
 * takes the test first): the plugin's sampler sends its latest top allocations on a
 * connection of its own, so the unit may be another connection's of the same process. */
static void on_note(struct run_control *c, struct conn *k, const struct run_msg *m)
{
	struct run_session *s = c->s;
	struct rep_unit *rec;

	for (struct conn *o = c->conns; o; o = o->next) {
		if (o->pid != k->pid || o->state != CONN_IN_UNIT)
			continue;
		rec = run_unit_rec(s, &o->unit);
		if (strcmp(rec->name, m->name) != 0)
			continue;
		free(rec->extras_end);
		rec->extras_end = m->extras ? strdup(m->extras) : NULL;
		run_conn_reply(k, "OK");
		return;
	}
	run_conn_reply(k, "ERR 409 no unit of that name is open");
}

/* STANDBY: a copy of the command, forked by its main process once the tests are collected,
 * waits outside every unit to take over after an OOM kill (run_control_wake). One at a
 * time, from a child of the main process, before the run's first test: a test cannot
 * leave its unit this way. */
static void on_standby(struct run_control *c, struct conn *k)
{
	struct run_session *s = c->s;
	struct wc_error e;
	pid_t ppid = 0;
	int r;

	if (c->standby || c->started || run_conn_has_unit(k)) {
		run_conn_reply(k, "ERR 409 a copy stands by already, or tests have started");
		return;
	}
	r = run_conn_proven(c, k);
	if (r > 0)
		r = run_peer_parent(k->pid, k->pidfd, &ppid) < 0 ? 0 : 1;
	if (r <= 0 || ppid != c->main_pid) {
		run_conn_reply(k, "ERR 403 only a child of the command's main process stands by");
		return;
	}
	r = s->standby.created ? 0 : cg_create(&s->standby, &s->hier, &s->sandbox, "standby", &e);
	if (r == 0)
		r = cg_attach(&s->standby, k->pid, &e);
	if (r < 0) {
		run_conn_reply(k, "ERR 500 %s", e.msg);
		return;
	}
	c->standby = k;
	run_conn_reply(k, "OK");
}

int run_control_wake(struct run_control *c, struct cg_group *unit, const char *resume,
		     pid_t *pid, int *pidfd, struct wc_error *e)
{
	struct conn *k = c ? c->standby : NULL;
	char enc[4300 * 3];
	int r;

	if (!k)
		return wc_fail(e, ENOENT, "no copy of the command stands by");
	c->standby = NULL;
	r = run_conn_proven(c, k);
	if (r <= 0)
		return wc_fail(e, r < 0 ? -r : ESRCH, "the copy of the command that stood by");
	*pidfd = fcntl(k->pidfd, F_DUPFD_CLOEXEC, 3);
	if (*pidfd < 0)
		return wc_fail(e, errno, "dup the copy's pidfd");
	r = cg_attach(unit, k->pid, e);
	cfg_field_encode(resume, enc, sizeof(enc));
	if (r == 0) {
		run_conn_reply(k, "WAKE %s", enc);
		run_conn_flush(k);  /* outside the server's loop: the copy waits for this */
	}
	if (r == 0 && k->broken)
		r = wc_fail(e, EPIPE, "wake the copy of the command");
	if (r < 0) {
		close(*pidfd);
		*pidfd = -1;
		return r;
	}
	*pid = k->pid;
	c->main_pid = k->pid;
	return 0;
}

/* Whether k's parent is another client's process: a pytest-xdist worker, whose death its
 * controller reports and recovers from (a kill there is no reason to resume). Only ever
 * used to choose whether to resume: a client that lies about it changes its own run. */
static bool parent_is_client(struct run_control *c, struct conn *k)
{
	pid_t ppid = 0;

	if (run_peer_parent(k->pid, k->pidfd, &ppid) < 0)
		return false;
	for (struct conn *o = c->conns; o; o = o->next)
		if (o != k && o->state != CONN_GREETING && o->pid == ppid)
			return true;
	return false;
}

int run_conn_line(struct run_control *c, struct conn *k, char *line, bool may_wait)
{
	struct run_msg m;
	struct wc_error e;

	if (run_msg_parse(line, &m, &e) < 0) {
		run_conn_reply(k, "ERR 400 %s", e.msg);
		run_conn_warn(k, e.msg);
		return 0;
	}
	if (k->state == CONN_GREETING && m.verb != RUN_MSG_HELLO) {
		run_conn_reply(k, "ERR 409 HELLO first");
		return 0;
	}
	switch (m.verb) {
	case RUN_MSG_HELLO:
		if (m.version != RUN_PROTOCOL_VERSION) {
			run_conn_reply(k, "ERR 505 this runner speaks version %d", RUN_PROTOCOL_VERSION);
			return 0;
		}
		if (k->state == CONN_GREETING)  /* a second HELLO changes nothing */
			run_conn_enter(k, CONN_IDLE);
		k->worker = parent_is_client(c, k);
		c->s->keep_records |= m.records;
		run_conn_reply(k, "OK %d", RUN_PROTOCOL_VERSION);
		return 0;
	case RUN_MSG_START:
		if (may_wait && run_admit_waits(c, k, &m)) {
			if (!k->held)
				clock_gettime(CLOCK_MONOTONIC, &k->held_since);
			k->held = true;
			return 1;
		}
		on_start(c, k, &m);
		k->held = false;  /* taken, or refused: either way it waits no more */
		return 0;
	case RUN_MSG_END:
		on_end(c, k, &m);
		return 0;
	case RUN_MSG_VERDICT:
		on_verdict(c, k, &m);
		return 0;
	case RUN_MSG_USAGE:
		on_usage(c->s, k, &m);
		return 0;
	case RUN_MSG_NOTE:
		on_note(c, k, &m);
		return 0;
	case RUN_MSG_RESUME:
		run_control_send_resume(c, k);
		return 0;
	case RUN_MSG_TOP:
		run_control_top(c, k, m.rank);
		return 0;
	case RUN_MSG_STANDBY:
		on_standby(c, k);
		return 0;
	}
	return 0;
}
