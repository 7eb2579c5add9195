/* The chart of the analysis' HTML page (html.c): memory over time as SVG. */
#ifndef WCMEM_REPORT_HTML_CHART_H
#define WCMEM_REPORT_HTML_CHART_H

#include <stdint.h>
#include <stdio.h>

#include "report/analysis.h"

/* Writes s with HTML's five special characters escaped. */
void rep_html_esc(FILE *f, const char *s);

/* "256.0 MB", or "unknown" for REP_UNKNOWN. Returns buf. */
const char *rep_html_mb(uint64_t bytes, char buf[32]);

/* Writes the chart: the memory plot (round ticks, the limits labelled beside it), the
 * phases of each session under its time axis, and the tests' track (a box a test, never
 * narrower than a few pixels, named where it has room). Returns 0, or -ENOMEM. */
int rep_html_chart(FILE *f, const struct rep_analysis *a);

#endif
