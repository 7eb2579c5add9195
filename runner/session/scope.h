/* A delegated systemd scope of the runner's own, for a user whose cgroup cannot hold the
 * sandbox: what `systemd-run --user --scope -p Delegate=yes wcmem-sandbox ...` does, asked
 * of the user's systemd manager over D-Bus (sd-bus) without the user typing it. The scope
 * holds the runner and everything it starts; systemd stops it, and removes its cgroups,
 * once the last of them has exited, also when the runner was killed. */
#ifndef WCMEM_RUNNER_SESSION_SCOPE_H
#define WCMEM_RUNNER_SESSION_SCOPE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "cgroup/cgroup.h"
#include "cgroup/error.h"

/* Why the runner needs a scope, on the facts; NULL when it needs none. Pure.
 * v2: cgroup v2; uid: effective; base_given: WCMEM_CGROUP_BASE chose where to build;
 * writable: the base takes new cgroups (not EACCES or EPERM); shared: other processes live
 * in the base, which is the runner's own, so that it can never hand memory down. */
const char *run_scope_reason(bool v2, uid_t uid, bool base_given, bool writable, bool shared);

/* The scope's unit name for process pid: "wcmem-sandbox-PID.scope". */
void run_scope_name(char *buf, size_t size, pid_t pid);

/* The D-Bus address of a unix socket at path, escaped as the D-Bus spec wants
 * ("unix:path=/run/user/1000/systemd/private"). Returns 0, or -ENAMETOOLONG. */
int run_scope_address(char *buf, size_t size, const char *path);

/* When the runner needs a scope (run_scope_needed; WCMEM_CGROUP_BASE honoured), enters one,
 * discovers h again and says so in one line on stderr unless quiet. When it gets none, why
 * (size bytes) says why not, and the run goes on where it is, to fail with its own error.
 * Returns 0, or -errno when discovering fails. */
int run_scope_join(struct cg_hier *h, bool quiet, char *why, size_t size, struct wc_error *e);

/* Adds to e's hint why the runner got no scope, when why is not "". Returns r, the
 * failure e describes. */
int run_scope_explain(struct wc_error *e, int r, const char *why);

#endif
