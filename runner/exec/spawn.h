/* Starting the command inside its unit cgroup, held at a gate until the log says it runs. */
#ifndef WCMEM_RUNNER_EXEC_SPAWN_H
#define WCMEM_RUNNER_EXEC_SPAWN_H

#include <stdbool.h>
#include <sys/types.h>

#include "cgroup/cgroup.h"
#include "cgroup/error.h"
#include "cgroup/ns.h"
#include "cgroup/pids.h"
#include "runner/config/job_spec.h"

struct run_child {
	pid_t pid;
	int pidfd;     /* -1 before Linux 5.3: SIGCHLD alone tells us then */
	int gate_fd;   /* write end: closing it lets the child exec */
	int err_fd;    /* read end: the child's execvp errno, or EOF when exec succeeded */
	const char *how; /* how it got into its cgroup, for the log */
};

/* Creates the child inside unit, stopped at the gate before exec: clone3(CLONE_INTO_CGROUP)
 * (5.7, cgroup v2), else fork and a move into the unit (and on v1 into the pids cgroup of
 * pids) while it waits. Not one instruction of the command runs outside the unit. Past the
 * gate it enters ns (cgroup v2: the namespace rooted at the sandbox) before it execs.
 * Returns 0, or -errno. */
int run_spawn(struct run_child *c, const struct run_job *job, struct cg_group *unit,
	      const struct cg_pids *pids, const struct cg_ns *ns, const sigset_t *child_mask,
	      struct wc_error *e);

/* The oom_score_adj the command starts with: the most, so that when the whole machine runs
 * out of memory the kernel kills in the sandbox before anything outside it (an editor). */
#define RUN_OOM_SCORE_ADJ 1000

/* Raises the oom_score_adj of the child at the gate to RUN_OOM_SCORE_ADJ, which every process
 * it starts inherits. Any process may raise its own, so this needs no privilege.
 * Returns 0, or -errno with e filled. */
int run_raise_oom_score(const struct run_child *c, struct wc_error *e);

/* Opens the gate and waits for the exec. Returns 0 when the command runs, the positive
 * errno chdir or execvp failed with (the child then exits 126 or 127), or -errno when it
 * could not enter the sandbox's cgroup namespace (it exits 125). */
int run_release(struct run_child *c);

/* Closes the child's descriptors; a child still at the gate is told to exit (125). */
void run_child_close(struct run_child *c);

#endif
