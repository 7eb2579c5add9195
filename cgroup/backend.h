/* What differs between cgroup v2 and the v1 memory controller (private to cgroup/).
 * group.c holds what is common and calls through this table. */
#ifndef WCMEM_CGROUP_BACKEND_H
#define WCMEM_CGROUP_BACKEND_H

#include "cgroup/cgroup.h"

struct cg_backend {
	const char *current_file;  /* memory.current | memory.usage_in_bytes */
	const char *peak_file;     /* memory.peak | memory.max_usage_in_bytes */
	const char *limit_file;    /* memory.max | memory.limit_in_bytes */
	/* Opens the event counters of a new group. */
	int (*open_events)(struct cg_group *g, struct wc_error *e);
	/* Opens g->watch_fd, readable after a memory event. */
	int (*open_watch)(struct cg_group *g, struct wc_error *e);
	int (*read_events)(struct cg_group *g, struct cg_events *ev, struct wc_error *e);
	int (*set_limit)(struct cg_group *g, enum cg_limit which, uint64_t bytes,
			 uint64_t *applied, struct wc_error *e);
	/* SIGKILL to every process of g and below, once. */
	int (*kill)(struct cg_group *g, struct wc_error *e);
	int (*populated)(struct cg_group *g, struct wc_error *e);
	/* Makes the memory controller available to the children of path (v2 subtree_control). */
	int (*enable_memory)(const char *path, struct wc_error *e);
};

extern const struct cg_backend cg_v1_backend;
extern const struct cg_backend cg_v2_backend;

static inline const struct cg_backend *cg_backend_of(const struct cg_hier *h)
{
	return h->version == CG_V2 ? &cg_v2_backend : &cg_v1_backend;
}

/* v1 reads "no limit" back as a page-rounded 2^63-1; any value this large is unlimited. */
#define CG_V1_UNLIMITED_FROM (UINT64_C(1) << 62)


/* Writes "max" or the number to dirfd/name and reads it back into *applied (v1's huge value
 * and "max" both as CG_UNLIMITED). -EIO with e filled when it reads back other than written. */
int cg_write_limit_checked(struct cg_group *g, const char *name, uint64_t bytes,
			   const char *unlimited_text, uint64_t *applied, struct wc_error *e);

/* "create cgroup PATH" with errno, and for a permission error a hint of what to do on h's
 * cgroup version. */
int cg_fail_create(struct wc_error *e, int err, const char *path, const struct cg_hier *h);

/* Sends SIGKILL to every process listed in path/cgroup.procs and its descendants' that is
 * proven still there (by pidfd). Returns the number of pids listed, or -errno. (The v1 kill
 * loop; v2 before 5.14.) */
int cg_kill_listed(const struct cg_hier *h, const char *path, struct wc_error *e);

/* Counts the pids listed in path/cgroup.procs and below. Returns the count or -errno. */
int cg_count_listed(const struct cg_hier *h, const char *path, struct wc_error *e);

#endif
