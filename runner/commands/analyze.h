/* `wcmem-sandbox analyze [OPTION]... LOG...`: the post-mortem of memory logs
 * (report/analyze.h), from the command line. */
#ifndef WCMEM_RUNNER_COMMANDS_ANALYZE_H
#define WCMEM_RUNNER_COMMANDS_ANALYZE_H

/* Runs the subcommand; argv[0] is "analyze". Prints the answer on stdout and errors on
 * stderr. Returns the exit status: 0, or 125 (RUN_EXIT_FAILURE) on a usage error or a log
 * that cannot be read. */
int run_analyze_main(int argc, char **argv);

#include <stdio.h>

#include "cgroup/error.h"

/* The HTML page of one run's analysis (as `analyze --html` with the default thresholds),
 * from its log (and LOG.timeline beside it), written to f; NULL log: the log was off, an
 * empty page. Returns 0, or -errno with e filled. */
int run_analyze_html(FILE *f, const char *log, struct wc_error *e);

#endif
