/* The control socket (runner/control/PROTOCOL.md): clients inside the sandbox ask for units of
 * their own, one per test. */
#ifndef WCMEM_RUNNER_CONTROL_CONTROL_H
#define WCMEM_RUNNER_CONTROL_CONTROL_H

#include <stdbool.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <time.h>

#include "cgroup/error.h"
#include "report/timeline.h"

struct cg_group;

struct run_session;
struct run_control;

/* Creates the socket in a private directory (0700; the socket 0600), watches it in the
 * session's loop, and sets s->control. Returns 0 or -errno. */
int run_control_open(struct run_session *s, struct wc_error *e);

/* Ends every unit still open (as lost), closes every connection, removes the socket and its
 * directory, and sets s->control to NULL. Safe when never opened. */
void run_control_close(struct run_session *s);

/* "WCMEM_SANDBOX_SOCKET=PATH", for the command's environment. */
const char *run_control_env(const struct run_control *c);

/* The command's main process: its connection's open unit is finished by
 * run_control_child_ended with the real wait status, not as lost. */
void run_control_set_main(struct run_control *c, pid_t pid);

/* Samples every open unit; the first max go to out for the timeline. Returns how many
 * went there. NULL-safe. */
size_t run_control_sample(struct run_control *c, struct rep_tl_unit *out, size_t max);

/* The main process ended: finishes the unit its connection had open (it died in a test).
 * Returns 1 when there was one, else 0. NULL-safe. */
int run_control_child_ended(struct run_control *c, int wait_status, const struct rusage *ru);

/* What happened since the last run_control_begin_attempt: tests started, and tests whose
 * process died with them while an OOM kill was counted. */
void run_control_begin_attempt(struct run_control *c);
int run_control_started(const struct run_control *c);
/* 1 with *at set to when the attempt's first test started (CLOCK_MONOTONIC), or 0. */
int run_control_first_start(const struct run_control *c, struct timespec *at);
int run_control_killed(const struct run_control *c);
/* 1 when a test killed in this attempt was killed in an earlier one too (it would loop). */
/* Of those, the tests whose client was no pytest-xdist worker: the pytest that runs them was
 * killed, whatever the command (make, tox, a script) then exits with. */
int run_control_killed_top(const struct run_control *c);

int run_control_killed_again(const struct run_control *c);

/* Wakes the copy of the command that stands by (STANDBY, runner/control/PROTOCOL.md) to resume
 * the run with the resume file: moves it into unit (the command's), tells it, and makes it
 * the main process. *pid and *pidfd (the caller's to close) are then its. Returns 0, or
 * -errno with e filled when none stands by or it cannot be woken: start the command again
 * instead (a copy moved into unit dies with it). */
int run_control_wake(struct run_control *c, struct cg_group *unit, const char *resume,
		     pid_t *pid, int *pidfd, struct wc_error *e);

/* Writes the resume file (DONE and KILLED lines) and returns its path in *path (owned by c).
 * Returns 0 or -errno. */
int run_control_write_resume(struct run_control *c, const char **path, struct wc_error *e);

#endif
