#include "runner/exec/supervise.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "runner/control/control.h"
#include "runner/session/loop.h"
#include "runner/session/reap.h"

/* One child watched until it is reaped: the command of a run (s and u set), or a nested
 * call's command (s NULL: no sandbox, no unit, no timers of ours). */
struct super {
	struct run_session *s;
	struct run_unit *u;
	const struct run_child *c;
	int *wait_status;
	struct rusage *ru;
	struct run_watch sig, pid, mem, tick, kill, timeout;
};

static void kill_sandbox(struct run_session *s)
{
	cg_kill(&s->sandbox, NULL);
}

static void reap(struct run_loop *l, struct super *x)
{
	if (run_reap(x->c->pid, x->wait_status, x->ru))
		l->done = true;
}

/* A signal typed at the terminal (si_code SI_KERNEL) already reached the command, which
 * shares our process group: passing it on again would deliver it twice. A nested call's
 * command gets every other one passed on: the enclosing runner owns the sandbox. */
static void on_stop_signal(struct super *x, const struct signalfd_siginfo *si)
{
	if (x->s && ++x->s->forwarded > 1) {
		kill_sandbox(x->s);
		return;
	}
	if (si->ssi_code != SI_KERNEL)
		kill(x->c->pid, (int)si->ssi_signo);
	if (x->s)
		run_timer_arm(x->kill.fd, x->s->opt->kill_after_ns, false);
}

static void on_signal(struct run_loop *l, struct run_watch *w, uint32_t events)
{
	struct super *x = w->obj;
	struct signalfd_siginfo si;

	(void)events;
	while (read(w->fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGCHLD)
			reap(l, x);
		else
			on_stop_signal(x, &si);
	}
}

static void on_pidfd(struct run_loop *l, struct run_watch *w, uint32_t events)
{
	(void)events;
	reap(l, w->obj);
}

static void on_memory_event(struct run_loop *l, struct run_watch *w, uint32_t events)
{
	struct super *x = w->obj;

	(void)l;
	(void)events;
	cg_watch_drain(&x->u->cg);
}

static bool timer_fired(int fd)
{
	uint64_t ticks;

	return read(fd, &ticks, sizeof(ticks)) == (ssize_t)sizeof(ticks);
}

static void on_tick(struct run_loop *l, struct run_watch *w, uint32_t events)
{
	struct super *x = w->obj;
	struct rep_tl_unit units[REP_TL_UNITS_MAX];
	uint64_t cur;
	size_t n;

	(void)l;
	(void)events;
	if (!timer_fired(w->fd))
		return;
	units[0] = (struct rep_tl_unit){ run_unit_short_name(x->u), run_unit_sample(x->s, x->u) };
	n = 1 + run_control_sample(x->s->control, units + 1, REP_TL_UNITS_MAX - 1);
	/* also the sampled peak, before 5.19 */
	if (cg_read_current(&x->s->sandbox, &cur, NULL) < 0)
		cur = REP_UNKNOWN;
	run_timeline_sample(x->s, cur, units, n);
}

static void on_kill_after(struct run_loop *l, struct run_watch *w, uint32_t events)
{
	(void)l;
	(void)events;
	if (timer_fired(w->fd))
		kill_sandbox(((struct super *)w->obj)->s);
}

static void on_timeout(struct run_loop *l, struct run_watch *w, uint32_t events)
{
	struct super *x = w->obj;

	(void)l;
	(void)events;
	if (!timer_fired(w->fd))
		return;
	run_unit_rec(x->s, x->u)->timed_out = true;
	cg_kill(&x->u->cg, NULL);
}

static int timer_watch(struct run_watch *w, void (*fn)(struct run_loop *, struct run_watch *,
							  uint32_t), struct super *x)
{
	w->fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	w->fn = fn;
	w->obj = x;
	return w->fd < 0 ? -errno : 0;
}

static void watch_close(struct run_loop *l, struct run_watch *w, bool owned)
{
	run_loop_del(l, w);
	if (owned && w->fd >= 0)
		close(w->fd);
	w->fd = -1;
}

/* The one path every child of ours ends by: its pidfd and the signalfd (SIGCHLD; the stop
 * signals passed on) on l, beside what else l watches, until the child is reaped.
 * Returns 0, or -errno. */
static int watch_child(struct run_loop *l, struct super *x, int sigfd, struct wc_error *e)
{
	int r;

	x->sig = (struct run_watch){ sigfd, on_signal, x };
	x->pid = (struct run_watch){ x->c->pidfd, on_pidfd, x };
	if ((r = run_loop_add(l, &x->sig, e)) < 0 || (r = run_loop_add(l, &x->pid, e)) < 0)
		return r;
	l->done = false;
	reap(l, x);  /* SIGCHLD may be queued already (a command that exits at once) */
	return run_loop_run(l, e);
}

int run_supervise(struct run_session *s, struct run_unit *u, const struct run_child *c,
		  uint64_t timeout_ns, int *wait_status, struct rusage *ru, struct wc_error *e)
{
	struct super x = {
		.s = s, .u = u, .c = c, .wait_status = wait_status, .ru = ru,
		.sig.fd = -1, .pid.fd = -1,
		.mem = { u->cg.watch_fd, on_memory_event, &x },
	};
	struct run_loop *l = &s->loop;
	int r;

	x.tick.fd = x.kill.fd = x.timeout.fd = -1;
	if (cg_watch_open(&u->cg, e) == 0)  /* no notice is no harm: counters are read after */
		x.mem.fd = u->cg.watch_fd;
	if (timer_watch(&x.tick, on_tick, &x) < 0 || timer_watch(&x.kill, on_kill_after, &x) < 0 ||
	    timer_watch(&x.timeout, on_timeout, &x) < 0) {
		r = wc_fail(e, errno, "timerfd_create");
		goto out;
	}
	if ((r = run_loop_add(l, &x.mem, e)) < 0 || (r = run_loop_add(l, &x.tick, e)) < 0 ||
	    (r = run_loop_add(l, &x.kill, e)) < 0 || (r = run_loop_add(l, &x.timeout, e)) < 0)
		goto out;
	run_timer_arm(x.tick.fd, s->opt->interval_ns, true);
	if (timeout_ns)
		run_timer_arm(x.timeout.fd, timeout_ns, false);
	r = watch_child(l, &x, s->sigfd, e);
out:
	watch_close(l, &x.sig, false);
	watch_close(l, &x.pid, false);
	watch_close(l, &x.mem, false);
	watch_close(l, &x.tick, true);
	watch_close(l, &x.kill, true);
	watch_close(l, &x.timeout, true);
	return r;
}

int run_wait_child(const struct run_child *c, int sigfd, int *wait_status, struct wc_error *e)
{
	struct super x = { .c = c, .wait_status = wait_status, .sig.fd = -1, .pid.fd = -1 };
	struct run_loop l;
	int r = run_loop_init(&l, e);

	if (r < 0)
		return r;
	r = watch_child(&l, &x, sigfd, e);
	watch_close(&l, &x.sig, false);
	watch_close(&l, &x.pid, false);
	run_loop_close(&l);
	return r;
}
