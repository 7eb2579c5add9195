/* Removing what runners that died (SIGKILL, a crash) left behind: wcmem-PID and
 * wcmem-PID-sup groups that no live runner holds. A runner holds its groups with a shared
 * flock on their directories (cg_hold); the sweep tries an exclusive one. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cgroup/backend.h"
#include "cgroup/cleanup.h"
#include "cgroup/fs.h"

#define SWEEP_GRACE_S 10

#define NAME_PREFIX "wcmem-"
#define NAME_SUP "-sup"

const char *cg_sandbox_name(pid_t pid, enum cg_sandbox_part part, char *buf, size_t size)
{
	snprintf(buf, size, NAME_PREFIX "%d%s", (int)pid, part == CG_PART_LEAF ? NAME_SUP : "");
	return buf;
}

pid_t cg_sandbox_owner(const char *name)
{
	const size_t n = sizeof(NAME_PREFIX) - 1;
	char *end;
	long pid;

	if (strncmp(name, NAME_PREFIX, n) != 0)
		return 0;
	pid = strtol(name + n, &end, 10);
	if (end == name + n || pid <= 0 || pid > INT_MAX || (*end && strcmp(end, NAME_SUP) != 0))
		return 0;
	return (pid_t)pid;
}

int cg_hold(struct cg_group *g, struct wc_error *e)
{
	if (!g->created)
		return 0;
	g->lock_fd = open(g->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (g->lock_fd < 0)
		return wc_fail(e, errno, "open %s", g->path);
	if (flock(g->lock_fd, LOCK_SH | LOCK_NB) < 0)
		return wc_fail(e, errno, "lock %s", g->path);
	return 0;
}

/* 1 when someone holds path (cg_hold): its runner lives, whatever it is called. */
static bool cg_held(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), held;

	if (fd < 0)
		return false;
	held = flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK;
	close(fd);  /* drops the lock when we got it */
	return held;
}

/* Runners before cg_hold are known by their comm, as then: else the pid was reused. */
static bool cg_old_runner_alive(pid_t pid)
{
	char path[64], comm[64] = "";
	int fd, n;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = (int)read(fd, comm, sizeof(comm) - 1);
	close(fd);
	comm[n > 0 ? n : 0] = '\0';
	return strncmp(comm, "wcmem-sandbox", 13) == 0;
}

/* A group made in the last seconds by a process that still lives may be a runner between
 * its mkdir and its cg_hold. */
static bool cg_just_made(const char *path, pid_t pid)
{
	struct stat st;

	return kill(pid, 0) == 0 && stat(path, &st) == 0 &&
	       time(NULL) - st.st_ctime < SWEEP_GRACE_S;
}

static bool cg_runner_alive(const char *path, pid_t pid)
{
	return pid == getpid() || cg_held(path) || cg_old_runner_alive(pid) ||
	       cg_just_made(path, pid);
}

/* Children first: a cgroup with child cgroups cannot be removed. */
static int cg_remove_tree(const struct cg_hier *h, const char *path, struct wc_error *e)
{
	struct cg_group g;
	struct dirent *de;
	DIR *d = opendir(path);
	int r = 0;

	if (!d)
		return errno == ENOENT ? 0 : wc_fail(e, errno, "read directory %s", path);
	while ((de = readdir(d)) && r == 0) {
		char child[4200];

		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		snprintf(child, sizeof(child), "%s/%s", path, de->d_name);
		r = cg_remove_tree(h, child, e);
	}
	closedir(d);
	if (r < 0)
		return r;

	cg_group_init(&g, h);
	snprintf(g.path, sizeof(g.path), "%s", path);
	g.dirfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	g.created = true;
	return cg_destroy(&g, e);
}

int cg_sweep_stale(const struct cg_hier *h, struct wc_error *e)
{
	struct dirent *de;
	_cleanup_closedir_ DIR *d = opendir(h->base);
	int n = 0, r;

	if (!d)
		return wc_fail(e, errno, "read directory %s", h->base);
	while ((de = readdir(d))) {
		char path[4200];
		pid_t pid = cg_sandbox_owner(de->d_name);

		if (de->d_type != DT_DIR || !pid)
			continue;
		snprintf(path, sizeof(path), "%s/%s", h->base, de->d_name);
		if (cg_runner_alive(path, pid))
			continue;
		r = cg_remove_tree(h, path, e);
		if (r < 0)
			return r;
		n++;
	}
	return n;
}
