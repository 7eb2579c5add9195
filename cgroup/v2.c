/* cgroup v2: memory.max, memory.swap.max, memory.high, memory.events(.local), cgroup.kill,
 * cgroup.events. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "cgroup/backend.h"
#include "cgroup/cleanup.h"
#include "cgroup/fs.h"

static int v2_open_events(struct cg_group *g, struct wc_error *e)
{
	/* memory.events.local (5.2) counts this group alone; memory.events adds descendants. */
	const char *name = "memory.events.local";
	int fd = cg_fs_open_at(g->dirfd, name, O_RDONLY);

	if (fd == -ENOENT) {
		name = "memory.events";
		fd = cg_fs_open_at(g->dirfd, name, O_RDONLY);
	}
	if (fd < 0)
		return wc_fail(e, -fd, "open %s/%s", g->path, name);
	g->events_fd = fd;
	return 0;
}

/* The kernel raises IN_MODIFY on memory.events when a counter changes. */
static int v2_open_watch(struct cg_group *g, struct wc_error *e)
{
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	char path[4200];

	if (fd < 0)
		return wc_fail(e, errno, "inotify_init1");
	snprintf(path, sizeof(path), "%s/memory.events", g->path);
	if (inotify_add_watch(fd, path, IN_MODIFY) < 0) {
		int err = errno;

		close(fd);  /* a watch on nothing would pass for a working one */
		return wc_fail(e, err, "inotify_add_watch %s", path);
	}
	g->watch_fd = fd;
	return 0;
}

static int v2_read_events(struct cg_group *g, struct cg_events *ev, struct wc_error *e)
{
	char buf[512];
	int r = cg_fs_pread(g->events_fd, buf, sizeof(buf));

	if (r < 0)
		return wc_fail(e, -r, "read %s/memory.events", g->path);
	return cg_parse_events(buf, ev) < 0 ? wc_fail(e, EINVAL, "parse %s/memory.events", g->path) : 0;
}

static int v2_set_limit(struct cg_group *g, enum cg_limit which, uint64_t bytes,
			uint64_t *applied, struct wc_error *e)
{
	static const char *const file[] = {
		[CG_LIMIT_MAX] = "memory.max",
		[CG_LIMIT_SWAP] = "memory.swap.max",
		[CG_LIMIT_HIGH] = "memory.high",
	};

	return cg_write_limit_checked(g, file[which], bytes, "max", applied, e);
}

/* cgroup.kill (5.14) kills the whole subtree at once; before it, the kill loop. */
static int v2_kill(struct cg_group *g, struct wc_error *e)
{
	int r = cg_fs_write_at(g->dirfd, "cgroup.kill", "1");

	if (r == -ENOENT)
		return cg_kill_listed(g->hier, g->path, e);
	if (r < 0)
		return wc_fail(e, -r, "write %s/cgroup.kill", g->path);
	return 0;
}

static int v2_populated(struct cg_group *g, struct wc_error *e)
{
	char buf[256];
	const char *p;
	int r = cg_fs_read_at(g->dirfd, "cgroup.events", buf, sizeof(buf));

	if (r < 0)
		return wc_fail(e, -r, "read %s/cgroup.events", g->path);
	p = strstr(buf, "populated ");
	if (!p)
		return wc_fail(e, EINVAL, "read %s/cgroup.events: no populated line", g->path);
	return p[10] == '1';
}

/* The memory controller must be on in the parent's subtree_control before a child can have
 * memory.max. Written only when missing: a delegated parent may already have it. */
static int v2_enable_memory(const char *path, struct wc_error *e)
{
	char file[4200], buf[512];
	_cleanup_close_ int dirfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	int r;

	if (dirfd < 0)
		return wc_fail(e, errno, "open %s", path);
	r = cg_fs_read_at(dirfd, "cgroup.subtree_control", buf, sizeof(buf));
	if (r >= 0 && !strstr(buf, "memory")) {
		r = cg_fs_read_at(dirfd, "cgroup.controllers", buf, sizeof(buf));
		if (r >= 0 && !strstr(buf, "memory"))
			return wc_fail(e, EOPNOTSUPP,
					"the memory controller is not available in %s (not in its "
					"cgroup.controllers): its parent does not delegate it", path);
		r = cg_fs_write_at(dirfd, "cgroup.subtree_control", "+memory");
		if (r == -EBUSY)
			return wc_fail(e, EBUSY,
					"enable memory in %s/cgroup.subtree_control: other processes "
					"live in %s, and cgroup v2 allows no processes in a cgroup that "
					"hands controllers down; start wcmem-sandbox in a cgroup of its "
					"own (systemd-run --user --scope -p Delegate=yes wcmem-sandbox ...) "
					"or set WCMEM_CGROUP_BASE to an empty cgroup you own", path, path);
	}
	snprintf(file, sizeof(file), "%s/cgroup.subtree_control", path);
	return r < 0 ? wc_fail(e, -r, "enable memory in %s", file) : 0;
}

const struct cg_backend cg_v2_backend = {
	.current_file = "memory.current",
	.peak_file = "memory.peak",
	.limit_file = "memory.max",
	.open_events = v2_open_events,
	.open_watch = v2_open_watch,
	.read_events = v2_read_events,
	.set_limit = v2_set_limit,
	.kill = v2_kill,
	.populated = v2_populated,
	.enable_memory = v2_enable_memory,
};
