/* What a job is: a command with its limits, environment and folder, as the command line or a
 * profile's suite gives it: config/ builds it from the options (so it lives here, below
 * exec/), exec/spawn.c starts it and exec/job.c runs it. */
#ifndef WCMEM_RUNNER_CONFIG_JOB_SPEC_H
#define WCMEM_RUNNER_CONFIG_JOB_SPEC_H

#include <stdint.h>

struct run_job {
	const char *name;     /* the unit's name in the log (unescaped) */
	const char *kind;     /* "command" or "suite" */
	char *const *argv;    /* the command, NULL-terminated */
	uint64_t limit;       /* the unit's memory.max, bytes or CFG_SIZE_MAX */
	uint64_t test_limit;  /* memory.max of each test inside it (plugin); 0: --test-limit */
	char *const *env;     /* "KEY=VALUE" entries added to the environment, or NULL */
	const char *workdir;  /* where the command starts; NULL: here */
	uint64_t timeout_ns;  /* the unit is killed after this long; 0: never */
};

#endif
