/* Opening and closing one run of wcmem-sandbox (its state: state.h). */
#ifndef WCMEM_RUNNER_SESSION_SESSION_H
#define WCMEM_RUNNER_SESSION_SESSION_H

#include "cgroup/error.h"
#include "runner/config/options.h"
#include "runner/session/state.h"

/* Every descriptor closed, nothing made, the clock started: run_session_close is safe from
 * here on, whatever fails next. */
void run_session_init(struct run_session *s);

/* Blocks the signals the event loop reads and opens the signalfd. Returns 0 or -errno. */
int run_signals_setup(struct run_session *s, struct wc_error *e);

/* Discovers cgroups, sweeps stale ones, leaves the base (v2), builds sandbox and harness with
 * their limits read back, and opens the log; the caller opens the control socket after. Warnings go to stderr. Returns 0 or -errno. */
int run_session_open(struct run_session *s, const struct run_options *o, struct wc_error *e);

/* Applies --limit, --swap and --high (s->opt) to the sandbox, each read back. What the kernel
 * cannot do (no swap accounting, no memory.high) is a warning; --swap max there needs none.
 * Returns 0, or -errno with e filled (the inner hint kept). */
int run_session_limits(struct run_session *s, struct wc_error *e);

/* Kills what is left in the sandbox, reaps it, removes every cgroup, writes SESSION_END and
 * closes the log. Safe after a partial run_session_open. The caller closes the control socket
 * (control.h) first: its open units end as lost. Returns 0 or -errno. */
int run_session_close(struct run_session *s, int exit_status, struct wc_error *e);

/* Counts a resume of the command in the summary's figures (s->info, this module's): what it
 * cost in seconds, and whether the collected copy that stood by went on (standby). */
void run_session_count_resume(struct run_session *s, double seconds, bool standby);

/* Frees the unit records (after the reports are written). */
void run_session_free(struct run_session *s);

#endif
