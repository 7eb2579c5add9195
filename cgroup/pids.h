/* The sandbox's limit on processes: pids.max, so that a fork bomb in a test runs out of
 * pids in the sandbox, not on the machine. cgroup v2: the pids controller in the sandbox
 * itself. cgroup v1: a cgroup of its own in the pids hierarchy, which the command joins
 * before exec and every process it starts inherits. */
#ifndef WCMEM_CGROUP_PIDS_H
#define WCMEM_CGROUP_PIDS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroup/cgroup.h"

struct cg_pids {
	char path[4096];      /* v1: the pids cgroup made for the run; "" on v2 */
	char parent[4096];    /* v2: the cgroup whose subtree_control we turned +pids on in */
	bool created;         /* v1: path was made by us */
	bool enabled_parent;  /* v2: we wrote +pids, so we write -pids before we leave */
	int procs_fd;         /* v1: path/cgroup.procs, for the command to join; else -1 */
};

/* Sets p to nothing made (procs_fd -1). */
void cg_pids_init(struct cg_pids *p);

/* Limits the tasks (processes and threads) of sandbox and below to max (CG_UNLIMITED:
 * "max"), read back. v1 makes name in the pids hierarchy beside our own pids cgroup.
 * Returns 0, -EOPNOTSUPP (no pids controller here: e says why), or -errno. */
int cg_pids_limit(struct cg_pids *p, const struct cg_hier *h, struct cg_group *sandbox,
		  const char *name, uint64_t max, struct wc_error *e);

/* v1: moves pid into the run's pids cgroup (a no-op without one). Returns 0 or -errno. */
int cg_pids_attach(const struct cg_pids *p, pid_t pid, struct wc_error *e);

/* Undoes cg_pids_limit after the sandbox is emptied: -pids where we turned it on (v2), the
 * v1 cgroup killed (what left the memory sandbox but not this one) and removed. */
int cg_pids_close(struct cg_pids *p, struct wc_error *e);

/* The pids line of /proc/PID/cgroup text (v1: "8:pids:/a"): the path into out. Returns 0,
 * or -ENOENT (no pids hierarchy). Pure. */
int cg_parse_proc_pids(const char *text, char *out, size_t size);

#endif
