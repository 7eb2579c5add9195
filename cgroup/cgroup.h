/* One backend-neutral cgroup API over cgroup v2 and the v1-hybrid layout (memory controller
 * on v1). The only code that touches cgroupfs or libcgroup lives in this folder.
 *
 * All functions return 0 (or a count) on success and -errno on failure, with e filled; a
 * caller with no use for the text (a best-effort step: kill, remove, a read for a sample)
 * passes NULL for e. */
#ifndef WCMEM_CGROUP_CGROUP_H
#define WCMEM_CGROUP_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cgroup/error.h"
#include "cgroup/events.h"

#define CG_UNLIMITED UINT64_MAX

enum cg_version { CG_V1 = 1, CG_V2 = 2 };

/* The memory hierarchy and where we may build: found once per run. */
struct cg_hier {
	enum cg_version version;
	char mount[256];  /* the memory controller's mount, e.g. /sys/fs/cgroup or .../memory */
	char base[4096];  /* absolute path of the cgroup we build under */
	char own[4096];   /* absolute path of the cgroup the runner was started in */
	bool swap_accounting; /* v2 memory.swap.max / v1 memory.memsw.* exist */
};

/* One cgroup of ours, with the descriptors its hot reads go through. */
struct cg_group {
	const struct cg_hier *hier;
	char path[4096];  /* absolute */
	char rel[512];    /* relative to hier->base, for the log: "wcmem-4242/u1" */
	int dirfd;        /* O_PATH|O_DIRECTORY: CLONE_INTO_CGROUP on v2, openat on both */
	int procs_fd;     /* cgroup.procs, for attaching */
	int current_fd;   /* memory.current / memory.usage_in_bytes */
	int peak_fd;      /* memory.peak / memory.max_usage_in_bytes; -1 before 5.19 */
	int events_fd;    /* memory.events.local (else memory.events) / memory.oom_control */
	int failcnt_fd;   /* v1 memory.failcnt; -1 on v2 */
	int watch_fd;     /* readable after a memory event: inotify (v2) or eventfd (v1) */
	int watch_aux_fd; /* v1: the memory.oom_control fd registered with the eventfd */
	int lock_fd;      /* the directory, flock'd shared while its runner lives (cg_hold) */
	bool created;     /* we made it, so we remove it */
	uint64_t limit;   /* memory.max as read back by cg_set_limit; 0 before it */
	bool enabled_parent_memory; /* cg_leave_base turned +memory on in the base */
	bool hands_memory_down; /* +memory is in its cgroup.subtree_control (cg_create) */
	uint64_t peak_sampled; /* fallback peak from memory.current samples (no memory.peak) */
};

/* Finds the memory controller and our own cgroup; base_override (an absolute cgroupfs
 * path, or NULL) is where to build instead of our own cgroup. */
int cg_discover(struct cg_hier *h, const char *base_override, struct wc_error *e);

/* Sets g to an unopened group (all fds -1). */
void cg_group_init(struct cg_group *g, const struct cg_hier *h);

/* Creates parent/name (parent NULL: the base) and opens its descriptors.
 * On v2 also enables +memory in the parent's cgroup.subtree_control, once per parent: a unit
 * is made per test, and the parent then is known to hand memory down. */
int cg_create(struct cg_group *g, const struct cg_hier *h, struct cg_group *parent,
	      const char *name, struct wc_error *e);

/* Kills every process in g and below, waits (bounded) until it is empty, removes it and
 * closes its descriptors. Safe on a group never created. ENOENT counts as success. */
int cg_destroy(struct cg_group *g, struct wc_error *e);

/* Removes g if it is empty and closes its descriptors, killing nothing. Returns 0, or
 * -EBUSY (processes in it: g stays as it was) or -errno. */
int cg_remove_empty(struct cg_group *g);

/* Sends SIGKILL to every process in g and below: cgroup.kill (5.14), else a kill loop. */
int cg_kill(struct cg_group *g, struct wc_error *e);

/* 1 when g or a descendant has a process, 0 when empty, -errno. */
int cg_populated(struct cg_group *g, struct wc_error *e);

enum cg_limit { CG_LIMIT_MAX, CG_LIMIT_SWAP, CG_LIMIT_HIGH };

/* Writes a limit (CG_UNLIMITED for "max") and reads it back; a value that did not apply is
 * an error (-EIO), never a silent unlimited run. v1: CG_LIMIT_SWAP sets memsw to the memory
 * limit plus bytes; CG_LIMIT_HIGH is -EOPNOTSUPP. *applied gets what the kernel holds. */
int cg_set_limit(struct cg_group *g, enum cg_limit which, uint64_t bytes, uint64_t *applied,
		 struct wc_error *e);

/* What memory.max reads back after writing bytes: whole pages, CG_UNLIMITED kept. */
uint64_t cg_limit_applied(uint64_t bytes);

/* Kills the whole group when one process of it is OOM-killed (v2 memory.oom.group, 4.19).
 * -EOPNOTSUPP on v1. */
int cg_set_oom_group(struct cg_group *g, struct wc_error *e);

/* Moves a process (all its threads) into g. */
int cg_attach(struct cg_group *g, pid_t pid, struct wc_error *e);

/* Calls fn for each process in g itself (not in its children) that is proven still in g,
 * pinned by a pidfd while fn acts on it; skip (0: none) is listed but neither pinned nor
 * passed to fn. Returns the number listed, or -errno. */
int cg_for_each_proc(struct cg_group *g, pid_t skip, void (*fn)(pid_t pid, void *arg), void *arg,
		     struct wc_error *e);

/* The memory cgroup of process pid, relative to the mount ("/a/wcmem-1/u3"). 0 or -errno. */
int cg_pid_cgroup(const struct cg_hier *h, pid_t pid, char *rel, size_t size,
		  struct wc_error *e);

/* The cgroup.procs of the cgroup the caller is in now, open for writing, for
 * cg_touch_migration_lock. Returns the fd or -errno. */
int cg_self_procs_open(const struct cg_hier *h, struct wc_error *e);

/* Moves the caller into the cgroup it is in (self_procs_fd: cg_self_procs_open): nothing
 * moves, but the write takes the kernel's migration lock (cgroup_threadgroup_rwsem) as every
 * move does, and so keeps it warm: a move within a grace period or two of the last one does
 * not wait for a new RCU grace period. Returns 0 or -errno. */
int cg_touch_migration_lock(int self_procs_fd);

/* Moves process pid into the cgroup at rel (as cg_pid_cgroup gives it). 0 or -errno. */
int cg_attach_path(const struct cg_hier *h, const char *rel, pid_t pid, struct wc_error *e);

/* 1 when process pid is in g or below, 0 when not, -errno when it cannot be told. */
int cg_pid_inside(const struct cg_group *g, pid_t pid, struct wc_error *e);

/* /proc/PID/cgroup opened (O_RDONLY|O_CLOEXEC) for cg_fd_inside: the fd or -errno. */
int cg_pid_cgroup_open(pid_t pid);

/* cg_pid_inside through that descriptor: one pread(2), and always the process it was
 * opened for (-ESRCH in e once it is gone, whoever has its pid now). */
int cg_fd_inside(const struct cg_group *g, int proc_cgroup_fd, struct wc_error *e);

/* 1 when g holds no process or keep alone, 0 when it holds another, -errno when it cannot
 * be told (one pread of cgroup.procs: the usual END, a test that left nothing behind). */
int cg_holds_only(struct cg_group *g, pid_t keep);

/* How long g's tasks stalled on memory in the last 10 s (v2 memory.pressure, PSI, Linux
 * 4.20), in hundredths of a percent. -EOPNOTSUPP on v1, which has no pressure per cgroup;
 * -ENOENT or -EOPNOTSUPP from a kernel without PSI (psi=0). */
int cg_read_pressure(struct cg_group *g, unsigned *avg10_centi, struct wc_error *e);

/* Hot reads through the descriptors opened at creation. */
int cg_read_current(struct cg_group *g, uint64_t *bytes, struct wc_error *e);
int cg_read_peak(struct cg_group *g, uint64_t *bytes, struct wc_error *e);
int cg_read_events(struct cg_group *g, struct cg_events *ev, struct wc_error *e);

/* Opens g->watch_fd, which becomes readable after a memory event in g (an OOM kill):
 * inotify on memory.events (v2), an eventfd on memory.oom_control (v1). Not opened by
 * cg_create: units of tests do without. Returns 0 or -errno. */
int cg_watch_open(struct cg_group *g, struct wc_error *e);

/* After watch_fd became readable: consumes the notification. */
void cg_watch_drain(struct cg_group *g);

/* The tightest memory limit in force at the base, from the base up to the root
 * (CG_UNLIMITED when none); headroom (may be NULL) gets the least that any of those levels
 * has left (its limit less its usage), CG_UNLIMITED when none has a limit. */
int cg_base_limit(const struct cg_hier *h, uint64_t *bytes, uint64_t *headroom,
		  struct wc_error *e);

/* cgroup v2's no-internal-process rule: before +memory can be enabled in the base's
 * subtree_control, the runner must leave the base. Moves the runner into base/name
 * (created) when the base is not the root and the version is 2; a no-op on v1.
 * g is left unopened when nothing was needed. */
int cg_leave_base(struct cg_group *g, const struct cg_hier *h, const char *name,
		  struct wc_error *e);

/* Undoes cg_leave_base: moves the runner back to where it started and removes g. */
int cg_return_home(struct cg_group *g, struct wc_error *e);

/* Proves to other runners' sweeps that g's runner is alive: a shared flock on g's directory,
 * held until cg_destroy (the kernel drops it when the runner dies, however it dies). A name
 * or a comm can be copied; a lock cannot be held by a dead process. Returns 0 or -errno. */
int cg_hold(struct cg_group *g, struct wc_error *e);

/* Removes wcmem-PID* groups in the base whose runner is dead: not held (cg_hold) and, for
 * groups of runners that predate the lock, no live wcmem-sandbox with that pid. Returns the
 * number removed. */
int cg_sweep_stale(const struct cg_hier *h, struct wc_error *e);

/* A runner's cgroups are named after it: "wcmem-PID" (the sandbox) and "wcmem-PID-sup" (the
 * leaf it waits in, v2), so that a sweep knows whose they are. */
enum cg_sandbox_part { CG_PART_SANDBOX, CG_PART_LEAF };
const char *cg_sandbox_name(pid_t pid, enum cg_sandbox_part part, char *buf, size_t size);

/* The runner's pid from such a name, or 0 when it is not one. */
pid_t cg_sandbox_owner(const char *name);

/* Text parsers, pure (tested against fixtures from real kernels). */
int cg_parse_events(const char *text, struct cg_events *ev);      /* v2 memory.events */
int cg_parse_oom_control(const char *text, uint64_t *oom_kill);    /* v1 memory.oom_control */
int cg_parse_u64(const char *text, uint64_t *val);                  /* "123\n" or "max\n" */
/* v2 memory.pressure (PSI): the "some" line's avg10, in hundredths of a percent ("some
 * avg10=12.34 ..." gives 1234). Returns 0, or -EINVAL. */
int cg_parse_pressure(const char *text, unsigned *avg10_centi);
/* The path of our cgroup in /proc/self/cgroup text: v2 the "0::" line, v1 the line
 * whose controller list holds "memory". Returns 0, or -ENOENT. */
int cg_parse_proc_cgroup(const char *text, enum cg_version v, char *out, size_t size);

/* One line of /proc/PID/mountinfo, its escapes undone. root is the mounted folder as the
 * reader's namespaces see it: for a cgroup mount made outside the reader's cgroup
 * namespace it starts with "/.." (the mount shows more than the namespace's root). */
struct cg_mountinfo {
	char root[4096];
	char point[4096];
	char type[64];
	char super_opts[512];  /* "rw,nsdelegate,memory_recursiveprot" */
};

/* Parses one mountinfo line. Returns 0, -EINVAL (not a mountinfo line) or -ENAMETOOLONG. */
int cg_parse_mountinfo_line(const char *line, struct cg_mountinfo *m);

/* name among the comma-separated options opts ("name" or "name=value"). */
bool cg_option_has(const char *opts, const char *name);

/* The mountinfo line of the mount at point (the last one there: it hides the others).
 * Returns 0, -ENOENT, or -errno. */
int cg_mount_find(const char *point, struct cg_mountinfo *m);

/* option among the super options of the mount at point (cg_mount_find's), e.g. nsdelegate;
 * false when there is no such mount or it cannot be read. */
bool cg_mount_has_option(const char *point, const char *option);

#endif
