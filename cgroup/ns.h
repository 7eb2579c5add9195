/* The cgroup namespace the command runs in, on cgroup v2: rooted at the sandbox. With the
 * cgroup2 mount's nsdelegate option the kernel then refuses any move of the command's
 * processes to a cgroup outside the sandbox, even one their user owns (a delegated base):
 * the sandbox is a boundary for a test, not only an account. */
#ifndef WCMEM_CGROUP_NS_H
#define WCMEM_CGROUP_NS_H

#include "cgroup/cgroup.h"

struct cg_ns {
	int cgroup_fd;  /* the namespace (an nsfs descriptor), or -1: the command shares ours */
	int user_fd;    /* the user namespace it needed (an unprivileged runner), or -1 */
};

#define CG_NS_NONE ((struct cg_ns){ .cgroup_fd = -1, .user_fd = -1 })

/* Makes the namespace rooted at sandbox, which must hold no process and hand no controller
 * down yet (a process is in it for that moment: cgroup v2 roots a namespace at the cgroup
 * of the process that makes it). Without CAP_SYS_ADMIN it comes with a user namespace that
 * maps the runner's own uid and gid to themselves, as an unprivileged process must.
 * Returns 0; -EOPNOTSUPP when it would be no boundary (cgroup v1, or no nsdelegate), or
 * -errno when the kernel refused it; e says why. */
int cg_ns_make(struct cg_ns *ns, const struct cg_hier *h, struct cg_group *sandbox,
	       struct wc_error *e);

/* Enters ns (a child before it execs; async-signal-safe). Returns 0, or -errno. */
int cg_ns_enter(const struct cg_ns *ns);

void cg_ns_close(struct cg_ns *ns);

/* Creates a child process straight into the cgroup dirfd names (clone3(CLONE_INTO_CGROUP),
 * Linux 5.7, cgroup v2), with a pidfd when pidfd is not NULL. Returns as fork does: the
 * pid, 0 in the child, or -1 with errno (ENOSYS, E2BIG or EINVAL: no such call). */
pid_t cg_clone_into(int dirfd, int *pidfd);

#endif
