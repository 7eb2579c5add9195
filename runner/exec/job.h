/* A job: one command run as one unit of the session (the command line's command, or a
 * suite of a profile). */
#ifndef WCMEM_RUNNER_JOB_H
#define WCMEM_RUNNER_JOB_H

#include <stdbool.h>
#include <stdint.h>

#include "cgroup/error.h"
#include "report/record.h"

struct run_session;

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

/* Runs the job as one unit and writes its log entries. Returns the exit status a wrapper
 * gives (the command's own, 128+signal, 126/127 when it could not be started), or -errno
 * when the runner itself failed. */
int run_job(struct run_session *s, const struct run_job *job, struct wc_error *e);

/* The exit status of a wrapper for a finished unit: its own, 128+signal, or 126/127. */
int run_exit_status(const struct rep_unit *u);

#endif
