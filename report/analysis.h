/* What an analysis of memory logs holds (the state of report/analyze.c, drawn by
 * analyze_chart.c, printed by analyze_print.c and html.c). Types only. */
#ifndef WCMEM_REPORT_ANALYSIS_H
#define WCMEM_REPORT_ANALYSIS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "report/logread.h"
#include "report/shards.h"

#define REP_AN_LIST_MAX   100   /* the most entries any list keeps (--top is at most this) */
#define REP_AN_OPEN_MAX   64    /* units open at once in one log (xdist workers share one) */
#define REP_AN_STEPS_MAX  100   /* xarray steps kept per log */
#define REP_AN_HIST       (64 * 16)  /* peak histogram: 16 buckets per power of two */

#define REP_AN_BANDS_MAX  2048  /* tests on the chart's time axis; neighbours merge past it */
#define REP_AN_POINTS_MAX 4096  /* timeline samples on the chart; neighbours merge past it */
#define REP_AN_SESSIONS_MAX 256 /* sessions placed on the time axis, one after another */

/* The thresholds, from the command line. */
struct rep_an_options {
	int top;                  /* how many biggest tests, and most left behind, to list */
	double spike_factor;      /* a spike's peak is at least this times the typical peak */
	uint64_t spike_floor;     /* ... and at least this many bytes */
	uint64_t leak_floor;      /* a test left memory behind when at least this much */
};

/* Tests on the chart's time axis (seconds from the first session's start, sessions laid
 * end to end). Once there are too many to see, neighbours merge into one band: its time
 * span, the largest peak and left-behind, the biggest test's name, how many. */
struct rep_an_band {
	double t0, t1;
	uint64_t peak, left, limit;  /* REP_UNKNOWN; limit 0: unknown */
	unsigned long n;
	bool oom;                    /* one of them was OOM-killed */
	char name[160];              /* the biggest (or the killed) one's, cut */
};

/* A timeline sample on the chart: the sandbox's memory.current, the largest of the merged. */
struct rep_an_point {
	double t;
	uint64_t sandbox;
};

/* One unit as the analysis keeps it. */
struct rep_an_unit {
	char name[REP_LOGREAD_NAME_MAX];
	char where[REP_LOGREAD_NAME_MAX + 32]; /* "path:LINE" of the finding (see where_of) */
	const char *log;         /* the log it came from (the caller's string) */
	unsigned long line;      /* its TEST_END (or TEST_START) line in that log */
	double start_elapsed;    /* seconds into its session, -1 */
	double chart_start;      /* the same from the stamps where they agree (the chart's) */
	double duration;         /* seconds, -1 */
	uint64_t peak;           /* bytes, or REP_UNKNOWN */
	uint64_t limit;          /* bytes, REP_UNLIMITED, or 0 when the log does not say */
	uint64_t left;           /* memory it left behind, bytes, or REP_UNKNOWN */
	enum rep_oom oom;
	bool oom_seen;
	long xarray_from, xarray_to; /* for an xarray step: the count before and after it */
	int leak_repeats;        /* the leak check's repeats of its call, 0: not checked */
	int64_t leak_least;      /* the least one repeat added, bytes */
	int64_t leak_total;      /* what they added in all, bytes */
	int64_t leak_median;     /* the middle repeat's figure: what a run keeps */
};

/* A fixed-size table of units, largest first by a key; count is every unit offered. */
struct rep_an_list {
	struct rep_an_unit *u;
	size_t n, cap;
	unsigned long count;
};

struct rep_an_open {
	struct rep_an_unit u;
	long vm_rss_kb;          /* at TEST_START, for the guide writer's left-behind (VmRSS END - START) */
	bool command;            /* the enclosing command (pytest itself), not a test */
};

/* The trend of the memory held after each test, as running sums (least squares). */
struct rep_an_trend {
	double n, sx, sy, sxy, sxx;  /* the current process's: a restart frees what it held */
	long pid;                    /* that process, -1 when the log does not say */
	double pooled_sxy, pooled_sxx;
	unsigned long points;
	uint64_t first, last;        /* of the first and the last log with points */
	bool sandbox;                /* the figure is the sandbox's memory.current (else VmRSS) */
};

struct rep_analysis {
	struct rep_an_options opt;
	/* the log being read */
	const char *log;
	bool in_session;             /* an entry of a session was seen in this log */
	double session_stamp;        /* its SESSION_START's stamp in seconds, -1 */
	struct rep_an_open open[REP_AN_OPEN_MAX];
	size_t nopen;
	struct rep_an_unit steps[REP_AN_STEPS_MAX];  /* xarray levels still up, lowest first */
	size_t nsteps;
	/* the answer */
	unsigned long logs, sessions, tests, units, cut;
	struct rep_an_list running;  /* what was running when a log stops, in log order */
	struct rep_an_list oom;      /* OOM-killed, in log order */
	struct rep_an_list biggest;  /* by peak */
	struct rep_an_list left;     /* by memory left behind (tests without a leak check) */
	struct rep_an_list leaks;    /* growth that repeats, by what a repeat added */
	unsigned long leak_checked;  /* tests with a leak check's figures */
	struct rep_an_list xarray;   /* steps that stayed up, in log order */
	struct rep_an_unit cut_at;   /* where the last cut-off entry was */
	unsigned long hist[REP_AN_HIST];
	unsigned long peaks;         /* tests with a peak, in hist */
	uint64_t sandbox_limit;      /* the largest SESSION_START memory.max, or 0 */
	struct rep_an_trend trend;
	struct rep_shards shards;    /* the logs of one run's shards (--shard) */
	/* the chart (--html): fixed-size, merging, so memory stays constant */
	struct rep_an_band *bands;
	size_t nbands;
	struct rep_an_point *points;
	size_t npoints;
	double session_start[REP_AN_SESSIONS_MAX]; /* each session's place on the time axis */
	double first_test[REP_AN_SESSIONS_MAX];    /* where its first test started, -1: none */
	double tests_end[REP_AN_SESSIONS_MAX];     /* where its last test ended, -1: none */
	double end;                  /* the latest time on the axis so far */
	double offset;               /* the current session's start on the axis */
};

#endif
