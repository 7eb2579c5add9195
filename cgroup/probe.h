/* What the machine's cgroups offer, found by looking and by trying, for `wcmem-sandbox doctor`.
 * Nothing here changes the machine: no cgroup is made, no limit written, nothing moved. */
#ifndef WCMEM_CGROUP_PROBE_H
#define WCMEM_CGROUP_PROBE_H

#include <stdbool.h>
#include <sys/types.h>

#include "cgroup/cgroup.h"

/* A feature: there, missing, or not to be told from here (then the kernel version decides). */
enum cg_have { CG_UNKNOWN = -1, CG_MISSING = 0, CG_HAVE = 1 };

struct cg_probe {
	struct cg_hier hier;        /* as cg_discover finds it (WCMEM_CGROUP_BASE honoured) */
	bool read_only;             /* the memory controller's mount is read-only (a container) */
	bool base_writable;         /* we may make cgroups in the base */
	uid_t base_owner;           /* of the base's folder: ours when it was delegated to us */
	bool memory_in_base;        /* v2: "memory" in the base's cgroup.controllers; v1: true */
	enum cg_have peak;          /* memory.peak (5.19) */
	enum cg_have events_local;  /* memory.events.local (5.2) */
	enum cg_have kill;          /* cgroup.kill (5.14) */
	enum cg_have swap;          /* memory.swap.max, v1 memory.memsw.limit_in_bytes */
	enum cg_have clone_into;    /* clone3(CLONE_INTO_CGROUP) (5.7) */
	bool favordynmods;          /* cgroup2 mount option (6.0): cheaper moves between cgroups */
	bool nsdelegate;            /* cgroup2 mount option (4.13): a cgroup namespace is a
				     * boundary no process in it can move across */
	enum cg_have cgroupns;      /* CG_HAVE: in a cgroup namespace of its own (a container) */
};

/* Fills p. Returns 0, or -errno with e filled when no memory controller can be found
 * (then only p->read_only and p->cgroupns are set). */
int cg_probe(struct cg_probe *p, const char *base_override, struct wc_error *e);

#endif
