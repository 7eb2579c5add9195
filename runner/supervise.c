#include "runner/supervise.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

enum { EV_SIGNAL, EV_PIDFD, EV_MEMORY, EV_TICK, EV_KILL, EV_TIMEOUT };

struct loop {
	int epfd;
	int tickfd;
	int killfd;
	int timeoutfd;
	int forwarded;  /* SIGINT/SIGTERM/SIGHUP received so far */
};

static int loop_add(struct loop *l, int fd, int tag, struct rep_error *e)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (uint32_t)tag };

	if (fd < 0)
		return 0;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return rep_fail(e, errno, "epoll_ctl");
	return 0;
}

static int timer_arm(int fd, uint64_t ns, bool periodic)
{
	struct itimerspec it;

	memset(&it, 0, sizeof(it));
	it.it_value.tv_sec = (time_t)(ns / 1000000000u);
	it.it_value.tv_nsec = (long)(ns % 1000000000u);
	if (periodic)
		it.it_interval = it.it_value;
	return timerfd_settime(fd, 0, &it, NULL);
}

static void loop_close(struct loop *l)
{
	if (l->epfd >= 0)
		close(l->epfd);
	if (l->tickfd >= 0)
		close(l->tickfd);
	if (l->killfd >= 0)
		close(l->killfd);
	if (l->timeoutfd >= 0)
		close(l->timeoutfd);
}

static void kill_sandbox(struct run_session *s)
{
	struct rep_error ignored;

	cg_kill(&s->sandbox, &ignored);
}

/* A signal typed at the terminal (si_code SI_KERNEL) already reached the command, which
 * shares our process group: passing it on again would deliver it twice. */
static void on_stop_signal(struct run_session *s, struct loop *l, const struct run_child *c,
			   const struct signalfd_siginfo *si)
{
	if (++l->forwarded > 1) {
		kill_sandbox(s);
		return;
	}
	if (si->ssi_code != SI_KERNEL)
		kill(c->pid, (int)si->ssi_signo);
	timer_arm(l->killfd, s->opt->kill_after_ns, false);
}

/* Returns 1 when the main process was reaped. */
static int on_signals(struct run_session *s, struct loop *l, const struct run_child *c,
		      int *wait_status, struct rusage *ru)
{
	struct signalfd_siginfo si;
	int done = 0;

	while (read(s->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGCHLD)
			done |= run_reap(c->pid, wait_status, ru);
		else
			on_stop_signal(s, l, c, &si);
	}
	return done;
}

int run_supervise(struct run_session *s, struct run_unit *u, const struct run_child *c,
		  uint64_t timeout_ns, int *wait_status, struct rusage *ru, struct rep_error *e)
{
	struct loop l = { .epfd = -1, .tickfd = -1, .killfd = -1, .timeoutfd = -1 };
	struct rep_error ignored;
	uint64_t ticks, cur;
	int r, done = 0;

	l.epfd = epoll_create1(EPOLL_CLOEXEC);
	l.tickfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	l.killfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	l.timeoutfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (l.epfd < 0 || l.tickfd < 0 || l.killfd < 0 || l.timeoutfd < 0) {
		r = rep_fail(e, errno, "set up the event loop");
		goto out;
	}
	if ((r = loop_add(&l, s->sigfd, EV_SIGNAL, e)) < 0 ||
	    (r = loop_add(&l, c->pidfd, EV_PIDFD, e)) < 0 ||
	    (r = loop_add(&l, u->cg.watch_fd, EV_MEMORY, e)) < 0 ||
	    (r = loop_add(&l, l.tickfd, EV_TICK, e)) < 0 ||
	    (r = loop_add(&l, l.killfd, EV_KILL, e)) < 0 ||
	    (r = loop_add(&l, l.timeoutfd, EV_TIMEOUT, e)) < 0)
		goto out;
	timer_arm(l.tickfd, s->opt->interval_ns, true);
	if (timeout_ns)
		timer_arm(l.timeoutfd, timeout_ns, false);

	/* SIGCHLD may be queued already (a command that exits at once). */
	done = run_reap(c->pid, wait_status, ru);
	while (!done) {
		struct epoll_event ev[8];
		int n = epoll_wait(l.epfd, ev, 8, -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = rep_fail(e, errno, "epoll_wait");
			goto out;
		}
		for (int i = 0; i < n; i++) {
			switch (ev[i].data.u32) {
			case EV_SIGNAL:
				done |= on_signals(s, &l, c, wait_status, ru);
				break;
			case EV_PIDFD:
				done |= run_reap(c->pid, wait_status, ru);
				break;
			case EV_MEMORY:
				cg_watch_drain(&u->cg);
				break;
			case EV_TICK:
				if (read(l.tickfd, &ticks, sizeof(ticks)) > 0) {
					run_unit_sample(u);
					cg_read_current(&s->sandbox, &cur, &ignored);
				}
				break;
			case EV_KILL:
				if (read(l.killfd, &ticks, sizeof(ticks)) > 0)
					kill_sandbox(s);
				break;
			case EV_TIMEOUT:
				if (read(l.timeoutfd, &ticks, sizeof(ticks)) > 0) {
					u->rec->timed_out = true;
					cg_kill(&u->cg, &ignored);
				}
				break;
			}
		}
	}
	r = 0;
out:
	loop_close(&l);
	return r;
}
