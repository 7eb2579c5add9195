#include "runner/session/warm.h"

#include <stdint.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define MS 1000000ull

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

struct run_warm_step run_warm_plan(uint64_t now, uint64_t last, uint64_t until)
{
	const uint64_t period = RUN_WARM_PERIOD_MS * MS;
	/* A timer fires late, never early; a write 1 ms early costs less than a cold lock. */
	struct run_warm_step step = { now >= last + period - MS, 0 };

	if (step.move)
		last = now;
	if (now < until)
		step.next_ns = last + period > now ? last + period - now : period;
	return step;
}

static void tick(struct run_loop *l, struct run_watch *w, uint32_t events)
{
	struct run_session *s = w->obj;
	struct run_warm_step step;
	uint64_t expirations;

	(void)l;
	(void)events;
	if (read(w->fd, &expirations, sizeof(expirations)) < 0)
		return;  /* EAGAIN: a START re-armed it since */
	step = run_warm_plan(now_ns(), s->warm.last, s->warm.until);
	s->warm.armed = false;
	if (step.move) {
		/* The runner into its own cgroup: a move of nothing, but a writer on the lock. */
		if (cg_touch_migration_lock(s->warm.procs_fd) < 0) {
			run_warm_close(s);  /* cannot: leave the lock to cool, as without us */
			return;
		}
		s->warm.last = now_ns();
		s->info.warm_moves++;
	}
	if (step.next_ns && run_timer_arm(w->fd, step.next_ns, false) == 0)
		s->warm.armed = true;
}

void run_warm_open(struct run_session *s)
{
	s->warm.watch = (struct run_watch){ -1, tick, s };
	s->warm.procs_fd = cg_self_procs_open(&s->hier, NULL);
	if (s->warm.procs_fd < 0)
		return;
	s->warm.watch.fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (s->warm.watch.fd < 0 || run_loop_add(&s->loop, &s->warm.watch, NULL) < 0)
		run_warm_close(s);
}

void run_warm_moved(struct run_session *s)
{
	if (s->warm.watch.fd < 0)
		return;
	s->warm.last = now_ns();
	s->warm.until = s->warm.last + RUN_WARM_WINDOW_MS * MS;
	if (!s->warm.armed && run_timer_arm(s->warm.watch.fd, RUN_WARM_PERIOD_MS * MS, false) == 0)
		s->warm.armed = true;
}

void run_warm_close(struct run_session *s)
{
	if (s->warm.watch.fd >= 0) {
		run_loop_del(&s->loop, &s->warm.watch);
		close(s->warm.watch.fd);
	}
	if (s->warm.procs_fd >= 0)
		close(s->warm.procs_fd);
	s->warm.watch.fd = s->warm.procs_fd = -1;
	s->warm.armed = false;
}
