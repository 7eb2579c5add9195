/* The chart's data of an analysis: tests and samples on one time axis. */
#ifndef WCMEM_REPORT_ANALYZE_CHART_H
#define WCMEM_REPORT_ANALYZE_CHART_H

#include <stdio.h>

#include "report/analysis.h"

/* Chart data (analyze_chart.c): a new session starts at the end of the time axis; an ended
 * test becomes a band there. */
void rep_chart_session(struct rep_analysis *a);
void rep_chart_test(struct rep_analysis *a, const struct rep_an_unit *u);

/* Reads a timeline (report/timeline.h) whose first session is the analysis' session
 * first_session (0-based, in the order the logs were read), streaming. Returns 0, or -errno
 * of the read. */
int rep_analysis_read_timeline(struct rep_analysis *a, FILE *f, unsigned long first_session);

#endif
