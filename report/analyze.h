/* The post-mortem of memory logs (`wcmem-sandbox analyze`): the guide's "analyze the log",
 * done by the tool. Entries from logread.h go in one at a time, from one log or several
 * (xdist workers, CI shards, appended sessions); what comes out is one answer:
 *
 *   - what was running when a log stops (a TEST_START without its TEST_END);
 *   - the OOM-killed units and which limit killed them;
 *   - the biggest tests by peak, and the sudden spikes (a peak far above the run's typical
 *     test, and above an absolute floor);
 *   - gradual growth: leaks (with the plugin's leak check: memory that grows with each repeat
 *     of a test), tests that left memory behind (held at their end: a leak, or a cache or an
 *     import kept once), the trend of the memory held after each test, and the tests after
 *     which the count of open xarray datasets rose and stayed up.
 *
 * Memory is constant however long the logs: every list is a fixed-size table of the largest,
 * the typical peak comes from a histogram, the trend from running sums. */
#ifndef WCMEM_REPORT_ANALYZE_H
#define WCMEM_REPORT_ANALYZE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "report/analysis.h"
#include "report/logread.h"

/* Sets up an analysis. Returns 0, or -ENOMEM. Free it with rep_analysis_free. */
int rep_analysis_init(struct rep_analysis *a, const struct rep_an_options *opt);
void rep_analysis_free(struct rep_analysis *a);

/* Starts the next log, named log (kept, not copied), and ends the one before. */
void rep_analysis_begin_log(struct rep_analysis *a, const char *log);

/* Takes one entry of the current log. */
void rep_analysis_entry(struct rep_analysis *a, const struct rep_entry *e);

/* Ends the last log: what is still open was running when it stopped. */
void rep_analysis_end(struct rep_analysis *a);

/* The typical (median) peak of the tests, bytes (within 1/16 of a power of two), or 0. */
uint64_t rep_analysis_typical_peak(const struct rep_analysis *a);

/* Whether a unit of the biggest list is a spike by the options. */
bool rep_analysis_is_spike(const struct rep_analysis *a, const struct rep_an_unit *u);

/* Whether a unit's leak check shows growth that repeats: every repeat of its call added
 * memory, and on average at least the leak floor (a cache filled once, a first import or
 * what the allocator keeps adds nothing on a repeat). */
bool rep_analysis_is_leak(const struct rep_analysis *a, const struct rep_an_unit *u);

/* What one repeat of a unit's call added on average, bytes (0 when it gave back). */
uint64_t rep_analysis_leak_per_run(const struct rep_an_unit *u);

/* The trend: bytes a test (least squares over each process's tests, pooled); 0 when there
 * are fewer than 3 points. */
double rep_analysis_trend(const struct rep_analysis *a);

/* The answer as one self-contained HTML file: the chart (SVG: memory over time, the limits,
 * a band a test, OOM kills in red, a tooltip a test) and the tables. Returns 0, or -errno. */
int rep_analysis_html(FILE *f, const struct rep_analysis *a);

/* Reads one log from f (named log, kept) through the analysis, streaming. Returns 0, or
 * -errno of the read. */
int rep_analysis_read(struct rep_analysis *a, FILE *f, const char *log);

/* The answer as text: findings as "FILE:LINE: message" (Emacs' next-error jumps to them).
 * Returns 0, or -errno. */
int rep_analysis_print(FILE *f, const struct rep_analysis *a);

/* The answer as JSON (schema wcmem-sandbox-analysis/1), every figure. Returns 0, or -errno. */
int rep_analysis_json(FILE *f, const struct rep_analysis *a);

#endif
