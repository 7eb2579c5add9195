/* The unit record: everything known about one unit (a command, a suite or a test) once
 * it has ended. Every report sink (the memory log, the summary, later JSON and JUnit) is a
 * pure function of these records, so sinks are tested without cgroups. */
#ifndef WCMEM_REPORT_RECORD_H
#define WCMEM_REPORT_RECORD_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "cgroup/events.h"

#define REP_UNLIMITED UINT64_MAX  /* a limit of "max" */
#define REP_UNKNOWN   UINT64_MAX  /* a figure that could not be read */

/* The four /proc/PID/status fields the guide's log shows, in kB; -1 when absent
 * (a zombie has no Vm* lines). */
struct rep_status {
	long vm_peak;
	long vm_size;
	long vm_hwm;
	long vm_rss;
};

/* Which limit an OOM kill in a unit came from. */
enum rep_oom {
	REP_OOM_NONE = 0,
	REP_OOM_OWN,      /* the unit exceeded its own memory.max */
	REP_OOM_SANDBOX,  /* the sandbox total (--limit) was reached */
	REP_OOM_SYSTEM,   /* neither: an ancestor outside the sandbox, or the global OOM killer */
};

/* How the unit's main process ended. */
enum rep_end {
	REP_END_EXITED = 0, /* code holds the exit status */
	REP_END_SIGNALED,   /* code holds the signal */
	REP_END_NOT_RUN,    /* not started: code 126 or 127 (exec), 125 (setup failed: error) */
	REP_END_LOST,       /* not our child, and it vanished: no exit status to be had */
};

struct rep_unit {
	char *name;            /* pytest node ID or command line, unescaped */
	const char *kind;      /* "command", "suite" or "test" */
	bool enclosing;        /* the command the session runs, not a test of it: logged as
				* COMMAND_START/COMMAND_END, which the guide's readers skip */
	unsigned long seq;     /* the order units began in (records may be stored out of it) */
	char *cgroup;          /* e.g. "wcmem-4242/u1", relative to the cgroup base */
	bool v1;               /* counters are cgroup v1's (failcnt, oom_control) */

	struct timespec start; /* CLOCK_REALTIME, for the log's time stamps */
	double start_elapsed;  /* seconds since the session started */
	double duration;       /* seconds */

	uint64_t limit;        /* memory.max in force for the unit, bytes or REP_UNLIMITED */
	uint64_t sandbox_limit;/* the sandbox total, bytes or REP_UNLIMITED */
	uint64_t peak;         /* memory.peak (v1 max_usage_in_bytes), bytes or REP_UNKNOWN */
	uint64_t current;      /* memory.current at the end, bytes or REP_UNKNOWN */
	uint64_t sandbox_peak; /* the sandbox's peak at the unit's end, bytes or REP_UNKNOWN */
	uint64_t sandbox_current; /* the sandbox's memory.current after the unit: growth that
				   * no single unit owns (leaks, caches); REP_UNKNOWN */
	int left_behind;       /* processes the unit left running (moved to the harness) */
	int outside_kills;     /* processes outside every unit (the harness, standby) that the
				* OOM killer took since the unit before this one ended: while
				* this one ran, or just before it started */
	char *outcome;         /* pytest's outcome (passed, failed, skipped, error: the protocol
				* refuses any other word, so it is printed as it is), or NULL */
	char *location;        /* "path/to/test_x.py:LINE" of a test, or NULL */
	char *budget;          /* "wcmem-budgets.ini:12": limit is the budget that line gives
				* the test (--budgets), or NULL */
	char *extras_start;    /* lines from the pytest plugin for TEST_START, or NULL */
	char *extras_end;      /* ... for TEST_END (GC, tracemalloc, xarray), or NULL */
	char *message;         /* a failed or skipped test's one-line message, as pytest's
				* JUnit writes it, or NULL (kept only for a JUnit report) */
	char *failure;         /* a failed test's text (its traceback's end), or NULL */
	struct cg_events events;         /* the unit's own counters over its life */
	struct cg_events sandbox_events; /* the sandbox's own counters over the unit's life */

	int pid;                       /* the unit's main process */
	struct rep_status status_start;/* /proc/PID/status when the unit started */
	struct rep_status status_end;  /* the last snapshot before it ended (VmHWM from rusage) */

	enum rep_end end;
	int code;
	enum rep_oom oom;      /* derived by rep_verdict() */
	bool timed_out;        /* killed by the runner at its time limit */
	bool beside;           /* another unit was open at some time in its life */
	bool rerun;            /* killed by the sandbox total beside others: run again */
	double waited;         /* seconds its START waited for room (admission) */
	const char *started;   /* how the command got into its cgroup (static text), or NULL */
	char *error;           /* REP_END_NOT_RUN: why the unit could not be set up, or NULL */
};

#endif
