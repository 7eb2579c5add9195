/* cgroup v2's no-internal-process rule: a cgroup that hands the memory controller down to
 * children may hold no processes itself (the root excepted). The runner is started in its
 * base, so before the sandbox can get memory.max the runner moves itself to a leaf beside
 * the sandbox (as nsjail, cgmemtime, BenchExec and Slurm do), and back at the end. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup/backend.h"
#include "cgroup/fs.h"

static int cg_move_self(const char *path, struct wc_error *e)
{
	char file[4200], pid[32];
	int dirfd, r;

	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	dirfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return wc_fail(e, errno, "open %s", path);
	r = cg_fs_write_at(dirfd, "cgroup.procs", pid);
	close(dirfd);
	snprintf(file, sizeof(file), "%s/cgroup.procs", path);
	return r < 0 ? wc_fail(e, -r, "move wcmem-sandbox itself into %s", file) : 0;
}

/* Only the real root cgroup is exempt from the rule. The root of a cgroup namespace (a
 * container's "/", the mount's root after a fresh cgroup2 mount there) is an ordinary cgroup
 * and has the files the real root lacks, cgroup.type among them. */
static bool cg_is_real_root(const char *path)
{
	char file[4200];

	snprintf(file, sizeof(file), "%s/cgroup.type", path);
	return access(file, F_OK) < 0 && errno == ENOENT;
}

static bool cg_memory_enabled(const char *path)
{
	char buf[512];
	int dirfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	int r = dirfd < 0 ? -1 : cg_fs_read_at(dirfd, "cgroup.subtree_control", buf, sizeof(buf));

	if (dirfd >= 0)
		close(dirfd);
	return r >= 0 && strstr(buf, "memory");
}

int cg_leave_base(struct cg_group *g, const struct cg_hier *h, const char *name,
		  struct wc_error *e)
{
	int r;

	cg_group_init(g, h);
	if (h->version != CG_V2 || cg_is_real_root(h->base) || strcmp(h->base, h->own) != 0)
		return 0;  /* v1, the root (exempt), or we are not in the base at all */

	snprintf(g->path, sizeof(g->path), "%s/%s", h->base, name);
	snprintf(g->rel, sizeof(g->rel), "%s", name);
	/* A plain mkdir: the leaf needs no controller, and enabling one in the base is exactly
	 * what cannot happen while we are still in it. */
	if (mkdir(g->path, 0755) < 0)
		return cg_fail_create(e, errno, g->path, h);
	g->created = true;
	r = cg_move_self(g->path, e);
	if (r < 0) {
		rmdir(g->path);
		g->created = false;
		return r;
	}
	g->enabled_parent_memory = !cg_memory_enabled(h->base);
	r = cg_backend_of(h)->enable_memory(h->base, e);
	if (r < 0) {
		g->enabled_parent_memory = false;
		cg_return_home(g, NULL);
	}
	return r;
}

int cg_return_home(struct cg_group *g, struct wc_error *e)
{
	int dirfd, r = 0;

	if (!g->created)
		return 0;
	/* A cgroup with controllers in subtree_control takes no processes: undo ours first. */
	if (g->enabled_parent_memory) {
		dirfd = open(g->hier->base, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (dirfd >= 0) {
			cg_fs_write_at(dirfd, "cgroup.subtree_control", "-memory");
			close(dirfd);
		}
	}
	r = cg_move_self(g->hier->own, e);
	if (r < 0)
		return r;  /* the empty leaf stays; the next run's sweep removes it */
	cg_fs_close(&g->lock_fd);  /* the lock goes with the group; a late sweep may take it */
	if (rmdir(g->path) < 0 && errno != ENOENT)
		return wc_fail(e, errno, "remove cgroup %s", g->path);
	g->created = false;
	return 0;
}
