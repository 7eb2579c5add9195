#include "runner/session/loop.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

int run_loop_init(struct run_loop *l, struct wc_error *e)
{
	l->done = false;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	return l->epfd < 0 ? wc_fail(e, errno, "epoll_create1") : 0;
}

void run_loop_close(struct run_loop *l)
{
	if (l->epfd >= 0)
		close(l->epfd);
	l->epfd = -1;
}

int run_loop_add(struct run_loop *l, struct run_watch *w, struct wc_error *e)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = w };

	if (w->fd < 0)
		return 0;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, w->fd, &ev) < 0)
		return wc_fail(e, errno, "epoll_ctl");
	return 0;
}

void run_loop_del(struct run_loop *l, struct run_watch *w)
{
	if (w->fd >= 0)
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, w->fd, NULL);
}

int run_loop_run(struct run_loop *l, struct wc_error *e)
{
	while (!l->done) {
		struct epoll_event ev;
		/* One event per wait: a handler may remove other watches (a connection that
		 * closes), so no event is ever used after its watch could be gone. */
		int n = epoll_wait(l->epfd, &ev, 1, -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return wc_fail(e, errno, "epoll_wait");
		if (n == 1) {
			struct run_watch *w = ev.data.ptr;

			w->fn(l, w, ev.events);
		}
	}
	return 0;
}

int run_timer_arm(int fd, uint64_t ns, bool periodic)
{
	struct itimerspec it;

	memset(&it, 0, sizeof(it));
	it.it_value.tv_sec = (time_t)(ns / 1000000000u);
	it.it_value.tv_nsec = (long)(ns % 1000000000u);
	if (periodic)
		it.it_interval = it.it_value;
	return timerfd_settime(fd, 0, &it, NULL) < 0 ? -errno : 0;
}

int run_signalfd_open(sigset_t *old, struct wc_error *e)
{
	sigset_t mask;
	int fd;

	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &mask, old) < 0)
		return wc_fail(e, errno, "sigprocmask");
	fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	return fd < 0 ? wc_fail(e, errno, "signalfd") : fd;
}
