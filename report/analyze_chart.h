/* The chart's data of an analysis: tests and samples on one time axis. */
#ifndef WCMEM_REPORT_ANALYZE_CHART_H
#define WCMEM_REPORT_ANALYZE_CHART_H

#include <stdio.h>

#include "report/analysis.h"

/* Chart data (analyze_chart.c): a new session starts at the end of the time axis; an ended
 * test becomes a band there. */
void rep_chart_session(struct rep_analysis *a);
void rep_chart_test(struct rep_analysis *a, const struct rep_an_unit *u);

/* A log's stamp ("2026-12-07T03:48:46.189522") in seconds, its local time counted as UTC
 * (only differences are used), or -1 when it is not one. */
double rep_chart_stamp(const char *stamp);

/* Where the entry e (a unit's start) is in its session, in seconds: from the stamps, to the
 * microsecond, where they agree with its Elapsed (a tenth of a second; not across a change
 * of the clock, nor in a log whose Elapsed was written another way); else its Elapsed. */
double rep_chart_start(const struct rep_analysis *a, const struct rep_entry *e);

/* Reads a timeline (report/timeline.h) whose first session is the analysis' session
 * first_session (0-based, in the order the logs were read), streaming. Returns 0, or -errno
 * of the read. */
int rep_analysis_read_timeline(struct rep_analysis *a, FILE *f, unsigned long first_session);

#endif
