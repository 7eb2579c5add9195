/* A job: one command run as one unit of the session (the command line's command, or a
 * suite of a profile). */
#ifndef WCMEM_RUNNER_EXEC_JOB_H
#define WCMEM_RUNNER_EXEC_JOB_H

#include <stdbool.h>
#include <stdint.h>

#include "cgroup/error.h"
#include "report/record.h"
#include "runner/config/job_spec.h"

struct run_session;

/* Runs the job as one unit and writes its log entries. Returns the exit status a wrapper
 * gives (the command's own, 128+signal, 126/127 when it could not be started), or -errno
 * when the runner itself failed. */
int run_job(struct run_session *s, const struct run_job *job, struct wc_error *e);

#endif
