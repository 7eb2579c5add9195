/* A nested call: `wcmem-sandbox [--name NAME] [--test-limit SIZE] -- CMD` inside a sandbox
 * runs CMD as one unit of the enclosing session, through its control socket. */
#ifndef WCMEM_RUNNER_EXEC_NESTED_H
#define WCMEM_RUNNER_EXEC_NESTED_H

#include <stdint.h>

#include "cgroup/error.h"

/* Runs argv as a unit named name with memory.max limit (UINT64_MAX: the session's test
 * limit) of the sandbox named by WCMEM_SANDBOX_SOCKET. Returns CMD's exit status (128+N when
 * killed by signal N, 126/127 when it could not be run), -ENOENT when there is no enclosing
 * sandbox to join (the caller then runs a session of its own), or another -errno. */
int run_nested(const char *name, char *const argv[], uint64_t limit, struct wc_error *e);

#endif
