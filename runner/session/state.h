/* What one run of wcmem-sandbox holds: the cgroup tree, the log, the units, the command.
 * Types only (and the time since the start): every part of the runner reads the session,
 * session.c opens and closes it. Each part has one writer, which the others ask: the
 * cgroups, the log, the records and the summary's figures (info) are session/'s
 * (session.h: run_session_count_resume; unit.h; records.h), the warnings said once
 * say.c's (run_once), the control socket control/'s, the stop signals exec/'s. */
#ifndef WCMEM_RUNNER_SESSION_STATE_H
#define WCMEM_RUNNER_SESSION_STATE_H

#include <signal.h>
#include <stdbool.h>
#include <sys/resource.h>

#include "cgroup/cgroup.h"
#include "cgroup/ns.h"
#include "cgroup/pids.h"
#include "report/log.h"
#include "runner/session/logsync.h"
#include "report/record.h"
#include "report/summary.h"
#include "report/timeline.h"
#include "runner/session/clock.h"
#include "runner/session/loop.h"
#include "runner/session/say.h"
#include "runner/config/options.h"

/* Our own failures (bad usage, no cgroup to work in), as timeout(1) and env(1) do it. */
#define RUN_EXIT_FAILURE 125

struct run_control;
struct budget_file;
struct budget_peaks;

/* The migration lock kept warm while a test is young (warm.h). */
struct run_warm {
	struct run_watch watch;   /* a timerfd; fd -1: off */
	int procs_fd;             /* the runner's own cgroup.procs */
	uint64_t last;            /* ns (CLOCK_MONOTONIC) of the last write on the lock */
	uint64_t until;           /* the window's end */
	bool armed;
};

struct run_session {
	const struct run_options *opt;
	struct cg_hier hier;
	struct cg_group leaf;     /* v2: where the runner waits, outside every limit */
	struct cg_group sandbox;  /* wcmem-PID: memory.max = --limit */
	struct cg_group harness;  /* the command's processes between units */
	struct cg_pids pids;      /* the sandbox's pids.max (v1: a pids cgroup of its own) */
	struct cg_ns ns;          /* v2: the command's cgroup namespace, rooted at the sandbox */
	struct cg_group spare;    /* the next test's cgroup, made while no test waits for it */
	struct cg_group standby;  /* the command's copy that waits to resume it (control.h) */
	int cgroups_made;         /* unit cgroups are u1, u2, ... in the order they are made */
	struct rep_log log;
	struct run_logsync logsync; /* the log's fdatasync, off the runner's loop */
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
	const struct budget_peaks *expect; /* --expect: the peaks a test is expected to take
					    * (admission), or NULL when it gave none */
	struct run_once once;     /* the warnings said once a run (say.h: run_once) */
	char scope_why[600];      /* why no delegated systemd scope was had, "" (scope.h) */
	struct run_loop loop;     /* the one event loop */
	struct run_warm warm;
	struct run_control *control; /* the control socket, when the plugin is on */
	char *command_line;       /* argv joined, shell-quoted where needed */
	const char *rerun_prefix; /* the command that reruns a killed test, but the test (main) */
	char shard_text[32];      /* "2/3": info.shard points here */
	/* The unit records (records.c): slots, some free for reuse when no report needs every
	 * record; units in flight address theirs by index. */
	struct rep_unit *units;
	int nunits;               /* slots in use or free */
	int units_cap;            /* slots allocated */
	int *free_slots;
	int nfree, free_cap;
	int biggest[REP_SUMMARY_BIGGEST]; /* the kept tests that compete for the summary */
	int nbiggest;
	bool keep_records;        /* a client writes pytest's own JUnit XML (HELLO records=1):
				   * VERDICT answers for every test, up to RUN_RECORDS_KEPT_MAX */
	int records_kept;         /* records kept for it that the summary alone would drop */
	unsigned long units_made; /* records made: the next one's seq */
	int oom_units;            /* records with an OOM verdict */
	uint64_t outside_seen;    /* oom_kill of the harness and standby cgroups, read so far */
	unsigned long log_entries; /* entries written to the log */
	char *entry;              /* the log entry being formatted, reused */
	size_t entry_size;
};

/* Seconds since the session started (run_session_init). */
static inline double run_elapsed(const struct run_session *s)
{
	return run_seconds_since(&s->mono_start);
}

#endif
