/* `wcmem-sandbox analyze [OPTION]... LOG...`: the post-mortem of memory logs
 * (report/analyze.h), from the command line. */
#ifndef WCMEM_RUNNER_COMMANDS_ANALYZE_H
#define WCMEM_RUNNER_COMMANDS_ANALYZE_H

/* Runs the subcommand; argv[0] is "analyze". Prints the answer on stdout and errors on
 * stderr. Returns the exit status: 0, or 125 (RUN_CLI_FAILURE) on a usage error or a log
 * that cannot be read. */
int run_analyze_main(int argc, char **argv);

#include <stddef.h>
#include <stdio.h>

#include "cgroup/error.h"
#include "report/log.h"
#include "report/record.h"

/* The HTML page of one run's analysis (as `analyze --html` with the default thresholds),
 * from its records units[0..n) and session (not from its log, which may be a FIFO or cut
 * short by a full disk), with the chart's line from timeline (a descriptor reading the
 * run's LOG.timeline, taken over and closed; -1: none), written to f.
 * Returns 0, or -errno with e filled. */
int run_analyze_html(FILE *f, const struct rep_unit *units, size_t n,
		     const struct rep_session *session, int timeline, struct wc_error *e);

#endif
