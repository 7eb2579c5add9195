/* Creating, reading, attaching to and removing one cgroup: what both backends share. */
#include "cgroup/cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <libcgroup.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup/backend.h"
#include "cgroup/fs.h"

/* Teardown waits at most this long for a killed group to empty (crun-style bounded tries). */
#define CG_RMDIR_TRIES 500
#define CG_RMDIR_PAUSE_NS (10 * 1000 * 1000)

int cg_fail_create(struct wc_error *e, int err, const char *path, const struct cg_hier *h)
{
	wc_fail(e, err, "create cgroup %s", path);
	if (err == EROFS)  /* a container that was given no cgroup of its own to write */
		wc_hint(e, "the cgroup filesystem is mounted read-only here, as in a container "
			 "without a writable cgroup: run the container with a cgroup namespace and a "
			 "writable cgroup2 mount (docker or podman run --cgroupns=private "
			 "--privileged; a privileged Kubernetes container), or "
			 "wcmem-sandbox outside it");
	else if ((err == EACCES || err == EPERM) && h->version == CG_V2)
		wc_hint(e, "this cgroup is not yours to write: run as root, or in a cgroup delegated "
			 "to you (systemd-run --user --scope -p Delegate=yes wcmem-sandbox ...), or "
			 "set WCMEM_CGROUP_BASE to a cgroup you own");
	else if (err == EACCES || err == EPERM)  /* v1: systemd delegates nothing to users */
		wc_hint(e, "this cgroup is not yours to write, and cgroup v1 has no delegation "
			 "(systemd-run --user cannot help): run as root, or have root make a cgroup "
			 "for you (mkdir %s/NAME; chown -R USER %s/NAME) and set WCMEM_CGROUP_BASE to "
			 "it", h->mount, h->mount);
	return -err;
}

void cg_group_init(struct cg_group *g, const struct cg_hier *h)
{
	memset(g, 0, sizeof(*g));
	g->hier = h;
	g->dirfd = g->procs_fd = g->current_fd = g->peak_fd = -1;
	g->events_fd = g->failcnt_fd = g->watch_fd = g->watch_aux_fd = g->lock_fd = -1;
}

static void cg_close_all(struct cg_group *g)
{
	cg_fs_close(&g->dirfd);
	cg_fs_close(&g->procs_fd);
	cg_fs_close(&g->current_fd);
	cg_fs_close(&g->peak_fd);
	cg_fs_close(&g->events_fd);
	cg_fs_close(&g->failcnt_fd);
	cg_fs_close(&g->watch_fd);
	cg_fs_close(&g->watch_aux_fd);
	cg_fs_close(&g->lock_fd);
}

/* libcgroup creates the directory (and, on v2, enables +memory in the parent). It names
 * groups relative to the controller's mount point. */
static int cg_mkdir_libcgroup(const struct cg_hier *h, const char *path, struct wc_error *e)
{
	const char *rel = path + strlen(h->mount);
	struct cgroup *cg;
	char parent[4096];
	int r;

	/* libcgroup reports a parent we may not write as "requested group parameter does not
	 * exist": ask the kernel first, to say what is wrong and what to do. */
	snprintf(parent, sizeof(parent), "%s", path);
	*strrchr(parent, '/') = '\0';
	if (faccessat(AT_FDCWD, parent, W_OK, AT_EACCESS) < 0)
		return cg_fail_create(e, errno, path, h);
	cg = cgroup_new_cgroup(*rel ? rel : "/");

	if (!cg)
		return wc_fail(e, ENOMEM, "create cgroup %s", path);
	if (!cgroup_add_controller(cg, "memory")) {
		cgroup_free(&cg);
		return wc_fail(e, ENOMEM, "create cgroup %s", path);
	}
	r = cgroup_create_cgroup(cg, 1);
	cgroup_free(&cg);
	if (r == 0)
		return 0;
	if (r == ECGOTHER || r == ECGROUPNOTALLOWED || r == ECGROUPNOTOWNER) {
		int err = cgroup_get_last_errno();

		return cg_fail_create(e, err ? err : EACCES, path, h);
	}
	return wc_fail(e, EIO, "create cgroup %s (libcgroup: %s)", path, cgroup_strerror(r));
}

static int cg_open_files(struct cg_group *g, struct wc_error *e)
{
	const struct cg_backend *b = cg_backend_of(g->hier);
	int fd;

	fd = open(g->path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return wc_fail(e, errno, "open %s", g->path);
	g->dirfd = fd;

	/* Read and write: a move, and the listing of what is left at a unit's end. */
	fd = cg_fs_open_at(g->dirfd, "cgroup.procs", O_RDWR);
	if (fd < 0)
		return wc_fail(e, -fd, "open %s/cgroup.procs", g->path);
	g->procs_fd = fd;

	fd = cg_fs_open_at(g->dirfd, b->current_file, O_RDONLY);
	if (fd < 0)
		return wc_fail(e, -fd, "open %s/%s", g->path, b->current_file);
	g->current_fd = fd;

	/* memory.peak exists since 5.19; without it the peak is the highest sample. */
	fd = cg_fs_open_at(g->dirfd, b->peak_file, O_RDONLY);
	if (fd < 0 && fd != -ENOENT)
		return wc_fail(e, -fd, "open %s/%s", g->path, b->peak_file);
	g->peak_fd = fd;

	return b->open_events(g, e);
}

int cg_create(struct cg_group *g, const struct cg_hier *h, struct cg_group *parent,
	      const char *name, struct wc_error *e)
{
	const struct cg_backend *b = cg_backend_of(h);
	const char *ppath = parent ? parent->path : h->base;
	int r;

	cg_group_init(g, h);
	if ((size_t)snprintf(g->path, sizeof(g->path), "%s/%s", ppath, name) >= sizeof(g->path))
		return wc_fail(e, ENAMETOOLONG, "cgroup path %s/%s", ppath, name);
	if (parent)
		snprintf(g->rel, sizeof(g->rel), "%s/%s", parent->rel, name);
	else
		snprintf(g->rel, sizeof(g->rel), "%s", name);

	if (!parent || !parent->hands_memory_down) {
		r = b->enable_memory(ppath, e);
		if (r < 0)
			return r;
		if (parent)
			parent->hands_memory_down = true;
	}
	/* The sandbox goes through libcgroup. Groups inside it are made once per test, on the
	 * hot path: a plain mkdirat on the parent's descriptor, where libcgroup would try mkdir
	 * on every level of the path and stat each (measured: 8 mkdirs a unit). */
	if (parent && mkdirat(parent->dirfd, name, 0755) < 0)
		return cg_fail_create(e, errno, g->path, h);
	if (!parent) {
		r = cg_mkdir_libcgroup(h, g->path, e);
		if (r < 0)
			return r;
	}
	g->created = true;
	r = cg_open_files(g, e);
	if (r < 0) {
		cg_destroy(g, NULL);
		return r;
	}
	return 0;
}

int cg_kill(struct cg_group *g, struct wc_error *e)
{
	if (!g->created)
		return 0;
	return cg_backend_of(g->hier)->kill(g, e);
}

int cg_populated(struct cg_group *g, struct wc_error *e)
{
	if (!g->created)
		return 0;
	return cg_backend_of(g->hier)->populated(g, e);
}

/* Removes a killed group. Its processes may take a moment to exit and uncharge, so EBUSY is
 * retried, boundedly, killing again each time (a process may have forked meanwhile).
 * libcgroup's delete is not used: it moves leftover tasks to the parent, which would let a
 * sandboxed process escape its limits. */
static int cg_rmdir_bounded(struct cg_group *g, struct wc_error *e)
{
	const struct timespec brief = { 0, CG_RMDIR_PAUSE_NS / 10 };
	const struct timespec pause = { 0, CG_RMDIR_PAUSE_NS };

	/* Most groups are empty by now (a test's unit): rmdir first, kill only when busy. */
	for (int i = 0; i < CG_RMDIR_TRIES; i++) {
		if (rmdir(g->path) == 0 || errno == ENOENT)
			return 0;
		if (errno != EBUSY && errno != EINTR)
			return wc_fail(e, errno, "remove cgroup %s", g->path);
		cg_backend_of(g->hier)->kill(g, NULL);
		nanosleep(i < 10 ? &brief : &pause, NULL);
	}
	return wc_fail(e, EBUSY, "remove cgroup %s (still busy after %d s)", g->path,
			CG_RMDIR_TRIES * (CG_RMDIR_PAUSE_NS / 1000000) / 1000);
}

int cg_destroy(struct cg_group *g, struct wc_error *e)
{
	int r = 0;

	if (g->created) {
		r = cg_rmdir_bounded(g, e);  /* an open descriptor does not pin a cgroup */
		g->created = false;
	}
	cg_close_all(g);
	return r;
}

int cg_remove_empty(struct cg_group *g)
{
	if (g->created && rmdir(g->path) < 0 && errno != ENOENT)
		return -errno;
	g->created = false;
	cg_close_all(g);
	return 0;
}

int cg_attach(struct cg_group *g, pid_t pid, struct wc_error *e)
{
	char buf[32];
	int r;

	/* Written straight to cgroup.procs through the descriptor opened at creation: this is
	 * per test on the hot path, and libcgroup's attach writes "tasks" (one thread) on v1. */
	snprintf(buf, sizeof(buf), "%d", (int)pid);
	r = cg_fs_write_fd(g->procs_fd, buf);
	if (r < 0)
		return wc_fail(e, -r, "move process %d into %s", (int)pid, g->path);
	return 0;
}

int cg_holds_only(struct cg_group *g, pid_t keep)
{
	char buf[64], mine[32];
	int r = cg_fs_pread(g->procs_fd, buf, sizeof(buf));

	if (r < 0)
		return r;
	if (buf[0] == '\0')
		return 1;
	snprintf(mine, sizeof(mine), "%d\n", (int)keep);
	return keep > 0 && strcmp(buf, mine) == 0;
}

static int cg_read_u64_fd(struct cg_group *g, int fd, const char *what, uint64_t *val,
			  struct wc_error *e)
{
	char buf[64];
	int r = cg_fs_pread(fd, buf, sizeof(buf));

	if (r < 0)
		return wc_fail(e, -r, "read %s/%s", g->path, what);
	if (cg_parse_u64(buf, val) < 0)
		return wc_fail(e, EINVAL, "read %s/%s: unexpected \"%s\"", g->path, what, buf);
	return 0;
}

int cg_read_current(struct cg_group *g, uint64_t *bytes, struct wc_error *e)
{
	int r = cg_read_u64_fd(g, g->current_fd, cg_backend_of(g->hier)->current_file, bytes, e);

	if (r == 0 && *bytes > g->peak_sampled)
		g->peak_sampled = *bytes;
	return r;
}

int cg_read_pressure(struct cg_group *g, unsigned *avg10_centi, struct wc_error *e)
{
	char buf[512];
	int n;

	if (g->hier->version != CG_V2)
		return wc_fail(e, EOPNOTSUPP, "%s: cgroup v1 has no memory pressure per cgroup",
				g->path);
	n = cg_fs_read_at(g->dirfd, "memory.pressure", buf, sizeof(buf));
	if (n < 0)
		return wc_fail(e, -n, "read %s/memory.pressure", g->path);
	if (cg_parse_pressure(buf, avg10_centi) < 0)
		return wc_fail(e, EINVAL, "%s/memory.pressure: no \"some avg10=\" line", g->path);
	return 0;
}

int cg_read_peak(struct cg_group *g, uint64_t *bytes, struct wc_error *e)
{
	if (g->peak_fd < 0) {
		uint64_t now;
		int r = cg_read_current(g, &now, e);

		*bytes = g->peak_sampled;
		return r;
	}
	return cg_read_u64_fd(g, g->peak_fd, cg_backend_of(g->hier)->peak_file, bytes, e);
}

int cg_read_events(struct cg_group *g, struct cg_events *ev, struct wc_error *e)
{
	memset(ev, 0, sizeof(*ev));
	return cg_backend_of(g->hier)->read_events(g, ev, e);
}

int cg_watch_open(struct cg_group *g, struct wc_error *e)
{
	if (g->watch_fd >= 0)
		return 0;
	return cg_backend_of(g->hier)->open_watch(g, e);
}

void cg_watch_drain(struct cg_group *g)
{
	char buf[4096];

	while (g->watch_fd >= 0 && read(g->watch_fd, buf, sizeof(buf)) > 0)
		;
}

int cg_set_limit(struct cg_group *g, enum cg_limit which, uint64_t bytes, uint64_t *applied,
		 struct wc_error *e)
{
	uint64_t got;
	int r = cg_backend_of(g->hier)->set_limit(g, which, bytes, &got, e);

	if (r == 0 && which == CG_LIMIT_MAX)
		g->limit = got;
	if (applied)
		*applied = got;
	return r;
}

int cg_set_oom_group(struct cg_group *g, struct wc_error *e)
{
	int r;

	if (g->hier->version != CG_V2)
		return wc_fail(e, EOPNOTSUPP, "memory.oom.group (cgroup v2 only)");
	r = cg_fs_write_at(g->dirfd, "memory.oom.group", "1");
	if (r < 0)
		return wc_fail(e, -r, "write %s/memory.oom.group", g->path);
	return 0;
}
