/* Supervising one run of a command until its main process ends. */
#ifndef WCMEM_RUNNER_EXEC_SUPERVISE_H
#define WCMEM_RUNNER_EXEC_SUPERVISE_H

#include <sys/resource.h>

#include "runner/session/say.h"
#include "runner/session/state.h"
#include "runner/exec/spawn.h"
#include "runner/session/unit.h"

/* Runs the session's event loop until the command's main process has ended, meanwhile
 *  - sampling memory.current and /proc/PID/status every --interval (timerfd),
 *  - draining the unit's memory-event notices (inotify on v2, eventfd on v1),
 *  - passing SIGINT, SIGTERM and SIGHUP on to the command (signalfd); after --kill-after,
 *    or at a second such signal, the whole sandbox is killed,
 *  - killing the unit after timeout_ns (0: never),
 *  - serving the control socket (units of tests, when the plugin is on),
 *  - reaping every child (we are the sandbox's subreaper).
 * Returns 0 with *wait_status and *ru set, or -errno. */
int run_supervise(struct run_session *s, struct run_unit *u, const struct run_child *c,
		  uint64_t timeout_ns, int *wait_status, struct rusage *ru, struct wc_error *e);

/* Waits for c, a nested call's command (no sandbox of ours around it), on a loop of its own
 * through the same path: its pidfd, and sigfd (run_signalfd_open) for SIGCHLD and for
 * SIGINT, SIGTERM and SIGHUP, each passed on. Returns 0 with *wait_status set, or -errno. */
int run_wait_child(const struct run_child *c, int sigfd, int *wait_status, struct wc_error *e);

#endif
