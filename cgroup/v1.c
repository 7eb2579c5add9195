/* The v1 memory controller (v1-hybrid hosts): memory.limit_in_bytes,
 * memory.memsw.limit_in_bytes, memory.usage_in_bytes, memory.max_usage_in_bytes,
 * memory.failcnt and memory.oom_control. No cgroup.kill, no oom.group, no memory.high. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "cgroup/backend.h"
#include "cgroup/fs.h"

static int v1_open_events(struct cg_group *g, struct wc_error *e)
{
	int fd;

	fd = cg_fs_open_at(g->dirfd, "memory.oom_control", O_RDONLY);
	if (fd < 0)
		return wc_fail(e, -fd, "open %s/memory.oom_control", g->path);
	g->events_fd = fd;
	fd = cg_fs_open_at(g->dirfd, "memory.failcnt", O_RDONLY);
	if (fd < 0)
		return wc_fail(e, -fd, "open %s/memory.failcnt", g->path);
	g->failcnt_fd = fd;
	/* memory.memsw.failcnt is not read: the kernel charges memory+swap first, and recent
	 * kernels count failcnt for the memory counter alone; verdicts use peaks instead. */
	return 0;
}

static int v1_open_watch(struct cg_group *g, struct wc_error *e)
{
	char buf[64];
	int fd, r;

	/* v1 signals an OOM in the group through an eventfd registered in cgroup.event_control
	 * against memory.oom_control. Kernels built without it just get no early notice: the
	 * counters are read after the unit ends either way. */
	fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (fd < 0)
		return wc_fail(e, errno, "eventfd");
	g->watch_fd = fd;
	fd = cg_fs_open_at(g->dirfd, "memory.oom_control", O_RDONLY);
	if (fd < 0) {
		cg_fs_close(&g->watch_fd);  /* an eventfd nobody signals would pass for a watch */
		return wc_fail(e, -fd, "open %s/memory.oom_control", g->path);
	}
	g->watch_aux_fd = fd;
	snprintf(buf, sizeof(buf), "%d %d", g->watch_fd, g->watch_aux_fd);
	r = cg_fs_write_at(g->dirfd, "cgroup.event_control", buf);
	if (r < 0) {
		cg_fs_close(&g->watch_fd);
		cg_fs_close(&g->watch_aux_fd);
		return wc_fail(e, -r, "register an OOM notice in %s/cgroup.event_control", g->path);
	}
	return 0;
}

static int v1_read_events(struct cg_group *g, struct cg_events *ev, struct wc_error *e)
{
	char buf[256];
	int r;

	r = cg_fs_pread(g->events_fd, buf, sizeof(buf));
	if (r < 0)
		return wc_fail(e, -r, "read %s/memory.oom_control", g->path);
	if (cg_parse_oom_control(buf, &ev->oom_kill) < 0)
		return wc_fail(e, EINVAL, "parse %s/memory.oom_control", g->path);
	r = cg_fs_pread(g->failcnt_fd, buf, sizeof(buf));
	if (r < 0)
		return wc_fail(e, -r, "read %s/memory.failcnt", g->path);
	if (cg_parse_u64(buf, &ev->max) < 0)
		return wc_fail(e, EINVAL, "parse %s/memory.failcnt", g->path);
	return 0;
}

/* v1 swap is a combined limit: memsw = memory + swap, so the memory limit goes first. */
static int v1_set_swap(struct cg_group *g, uint64_t swap, uint64_t *applied, struct wc_error *e)
{
	char buf[64];
	uint64_t mem, memsw, got;
	int r;

	mem = g->limit;  /* known when cg_set_limit set it first, as it should */
	if (!mem) {
		r = cg_fs_read_at(g->dirfd, "memory.limit_in_bytes", buf, sizeof(buf));
		if (r < 0 || cg_parse_u64(buf, &mem) < 0)
			return wc_fail(e, r < 0 ? -r : EINVAL, "read %s/memory.limit_in_bytes",
					g->path);
	}
	if (mem >= CG_V1_UNLIMITED_FROM || swap == CG_UNLIMITED)
		memsw = CG_UNLIMITED;
	else
		memsw = mem + swap;
	r = cg_write_limit_checked(g, "memory.memsw.limit_in_bytes", memsw, "-1", &got, e);
	if (r == -EOPNOTSUPP)
		return wc_fail(e, EOPNOTSUPP, "%s has no memory.memsw.limit_in_bytes: the kernel "
				"does not account swap (boot with swapaccount=1)", g->path);
	if (applied)
		*applied = got == CG_UNLIMITED ? CG_UNLIMITED : got - cg_limit_applied(mem);
	return r;
}

static int v1_set_limit(struct cg_group *g, enum cg_limit which, uint64_t bytes,
			uint64_t *applied, struct wc_error *e)
{
	switch (which) {
	case CG_LIMIT_MAX:
		return cg_write_limit_checked(g, "memory.limit_in_bytes", bytes, "-1", applied, e);
	case CG_LIMIT_SWAP:
		return v1_set_swap(g, bytes, applied, e);
	case CG_LIMIT_HIGH:
		break;
	}
	return wc_fail(e, EOPNOTSUPP, "memory.high needs cgroup v2 (the memory controller is on v1 here)");
}

static int v1_kill(struct cg_group *g, struct wc_error *e)
{
	int r = cg_kill_listed(g->hier, g->path, e);

	return r < 0 ? r : 0;
}

static int v1_populated(struct cg_group *g, struct wc_error *e)
{
	int r = cg_count_listed(g->hier, g->path, e);

	return r < 0 ? r : r > 0;
}

static int v1_enable_memory(const char *path, struct wc_error *e)
{
	(void)path;
	(void)e;
	return 0;  /* v1 children always have the controllers of their hierarchy */
}

const struct cg_backend cg_v1_backend = {
	.current_file = "memory.usage_in_bytes",
	.peak_file = "memory.max_usage_in_bytes",
	.limit_file = "memory.limit_in_bytes",
	.open_events = v1_open_events,
	.open_watch = v1_open_watch,
	.read_events = v1_read_events,
	.set_limit = v1_set_limit,
	.kill = v1_kill,
	.populated = v1_populated,
	.enable_memory = v1_enable_memory,
};
