/* The command the summary gives to run a killed test again, alone, under the same limits. */
#ifndef WCMEM_RUNNER_COMMANDS_RERUN_H
#define WCMEM_RUNNER_COMMANDS_RERUN_H

#include <stddef.h>

#include "runner/config/options.h"

/* "SELF --limit 1G --test-limit 200M -- PYTEST" into out, words quoted for a shell: self is
 * how this program was run (a path, relative to the folder the run started in, works from
 * there), the limits and budget file are o's, and PYTEST is how o's command runs pytest
 * ("pytest", "python3 -m pytest"; else python3 -m pytest). The summary appends the test.
 * Returns 0, or -ENAMETOOLONG. */
int run_rerun_prefix(const char *self, const struct run_options *o, char *out, size_t size);

#endif
