/* Reaping the sandbox's processes: we are their subreaper. */
#ifndef WCMEM_RUNNER_SESSION_REAP_H
#define WCMEM_RUNNER_SESSION_REAP_H

#include <sys/resource.h>
#include <sys/types.h>

#include "cgroup/cgroup.h"

/* Reaps every exited child without blocking; *main_status gets the wait status of pid when it
 * is among them (and *ru its rusage). Returns 1 when pid was reaped, else 0. */
int run_reap(pid_t pid, int *main_status, struct rusage *ru);

/* Kills every process in g and reaps those that were ours, boundedly. */
void run_reap_group(struct cg_group *g);

#endif
