/* The event loop: one thread, epoll over descriptors that each name their handler.
 * No sleeping and no busy polling anywhere in the runner. */
#ifndef WCMEM_RUNNER_SESSION_LOOP_H
#define WCMEM_RUNNER_SESSION_LOOP_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "cgroup/error.h"

struct run_loop;

struct run_watch {
	int fd;
	void (*fn)(struct run_loop *l, struct run_watch *w, uint32_t events);
	void *obj;
};

struct run_loop {
	int epfd;
	bool done;  /* a handler sets it to end run_loop_run */
};

/* Returns 0 or -errno. */
int run_loop_init(struct run_loop *l, struct wc_error *e);
void run_loop_close(struct run_loop *l);

/* Watches w->fd for input (and hang-up). w must live until run_loop_del. Returns 0 or -errno. */
int run_loop_add(struct run_loop *l, struct run_watch *w, struct wc_error *e);
void run_loop_del(struct run_loop *l, struct run_watch *w);

/* Dispatches events until a handler sets l->done. Returns 0 or -errno. */
int run_loop_run(struct run_loop *l, struct wc_error *e);

/* Blocks SIGCHLD, SIGINT, SIGTERM and SIGHUP and opens a signalfd that reads them, so that
 * a loop sees them as input; *old gets the mask before (the one a child starts with).
 * Returns the descriptor, or -errno with e filled. */
int run_signalfd_open(sigset_t *old, struct wc_error *e);

/* Arms a timerfd: once after ns, or every ns when periodic; ns 0 disarms. Returns 0 or
 * -errno. */
int run_timer_arm(int fd, uint64_t ns, bool periodic);

#endif
