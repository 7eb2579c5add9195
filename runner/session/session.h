/* One run of wcmem-sandbox: the cgroup tree, the log, the units, the command. */
#ifndef WCMEM_RUNNER_SESSION_H
#define WCMEM_RUNNER_SESSION_H

#include <signal.h>
#include <stdbool.h>
#include <sys/resource.h>

#include "cgroup/cgroup.h"
#include "report/log.h"
#include "report/record.h"
#include "report/summary.h"
#include "report/timeline.h"
#include "runner/session/loop.h"
#include "runner/config/options.h"

/* Our own failures (bad usage, no cgroup to work in), as timeout(1) and env(1) do it. */
#define RUN_EXIT_FAILURE 125

struct run_control;
struct budget_file;

struct run_session {
	const struct run_options *opt;
	struct cg_hier hier;
	struct cg_group leaf;     /* v2: where the runner waits, outside every limit */
	struct cg_group sandbox;  /* wcmem-PID: memory.max = --limit */
	struct cg_group harness;  /* the command's processes between units */
	struct cg_group spare;    /* the next test's cgroup, made while no test waits for it */
	struct cg_group standby;  /* the command's copy that waits to resume it (control.h) */
	int cgroups_made;         /* unit cgroups are u1, u2, ... in the order they are made */
	struct rep_log log;
	char log_path[4096];
	struct rep_log timeline;  /* LOG.timeline: the samples (report/timeline.h), fd -1: off */
	struct rep_tl_state tl;
	struct timespec tl_last;  /* CLOCK_MONOTONIC of the last sample written */
	bool tl_head;             /* the session's header lines are written */
	struct rep_session info;
	struct timespec mono_start;
	sigset_t child_mask;      /* the signal mask the command starts with */
	int sigfd;                /* SIGCHLD, SIGINT, SIGTERM, SIGHUP */
	int forwarded;            /* stop signals received and passed on */
	uint64_t test_limit;      /* each test's limit in the job that runs now */
	struct budget_file *budgets; /* --budgets: a test listed runs under its own, or NULL */
	int plugin_warned;        /* the plugin is missing: said once */
	int oom_score_warned;     /* oom_score_adj could not be raised: said once */
	int log_taken_over;       /* jobs whose in-process diagnostics we switched off */
	int log_restore_said;     /* another writer emptied the log: said once */
	struct run_loop loop;     /* the one event loop */
	struct run_control *control; /* the control socket, when the plugin is on */
	char *command_line;       /* argv joined, shell-quoted where needed */
	/* The unit records (records.c): slots, some free for reuse when no report needs every
	 * record; units in flight address theirs by index. */
	struct rep_unit *units;
	int nunits;               /* slots in use or free */
	int units_cap;            /* slots allocated */
	int *free_slots;
	int nfree, free_cap;
	int biggest[REP_SUMMARY_BIGGEST]; /* the kept tests that compete for the summary */
	int nbiggest;
	unsigned long units_made; /* records made: the next one's seq */
	int oom_units;            /* records with an OOM verdict */
	unsigned long log_entries; /* entries written to the log */
	char *entry;              /* the log entry being formatted, reused */
	size_t entry_size;
};

/* Blocks the signals the event loop reads and opens the signalfd. Returns 0 or -errno. */
int run_signals_setup(struct run_session *s, struct wc_error *e);

/* Discovers cgroups, sweeps stale ones, leaves the base (v2), builds sandbox and harness with
 * their limits read back, and opens the log. Warnings go to stderr. Returns 0 or -errno. */
int run_session_open(struct run_session *s, const struct run_options *o, struct wc_error *e);

/* Kills what is left in the sandbox, reaps it, removes every cgroup, writes SESSION_END and
 * closes the log. Safe after a partial run_session_open. Returns 0 or -errno. */
int run_session_close(struct run_session *s, int exit_status, struct wc_error *e);

/* Frees the unit records (after the reports are written). */
void run_session_free(struct run_session *s);

/* Seconds since the session started. */
double run_elapsed(const struct run_session *s);

/* Reaps every exited child without blocking; *main_status gets the wait status of pid when it
 * is among them (and *ru its rusage). Returns 1 when pid was reaped, else 0. */
int run_reap(pid_t pid, int *main_status, struct rusage *ru);

/* Kills every process in g and reaps those that were ours, boundedly. */
void run_reap_group(struct cg_group *g);

/* Prints "wcmem-sandbox: warning: ..." to stderr. */
void run_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "wcmem-sandbox: " what, then text escaped line by line (rep_log_escape_lines). */
void run_say(const char *what, const char *text);

#endif
