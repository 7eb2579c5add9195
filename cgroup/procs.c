/* Walking the processes listed in a cgroup and its descendants: the v1 kill loop, v1's
 * "populated", and v2's kill before cgroup.kill (5.14). A listed pid is acted on only once
 * it is pinned by a pidfd and found still in the cgroup: a process that exited after the
 * listing may have left its number to a process outside. */
#include <dirent.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgroup/backend.h"
#include "cgroup/cleanup.h"
#include "cgroup/fs.h"

/* 1 when rel (a /proc/PID/cgroup path) is want or below it. */
static bool cg_rel_below(const char *rel, const char *want)
{
	size_t n = strlen(want);

	return strncmp(rel, want, n) == 0 && (rel[n] == '/' || rel[n] == '\0');
}

/* A pidfd for pid when it is in the cgroup at path or below: pinned first, checked after,
 * and still alive after the check, so the check was of that process and not of one that
 * took its number since it was listed. -ENOSYS when there are no pidfds (before 5.3): the
 * check is made on the pid alone. -ESRCH when it is gone or elsewhere: leave it alone. */
static int cg_pin_below(const struct cg_hier *h, const char *path, pid_t pid)
{
	char rel[4096];
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);

	if (pidfd < 0 && errno != ENOSYS)
		return -ESRCH;
	if (cg_pid_cgroup(h, pid, rel, sizeof(rel), NULL) < 0 ||
	    !cg_rel_below(rel, path + strlen(h->mount)) ||
	    (pidfd >= 0 && syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0)) {
		if (pidfd >= 0)
			close(pidfd);
		return -ESRCH;
	}
	return pidfd < 0 ? -ENOSYS : pidfd;
}

struct cg_walk {
	const struct cg_hier *h;
	void (*fn)(pid_t pid, int pidfd, void *arg);  /* NULL: count only */
	void *arg;
	pid_t skip;  /* counted, not pinned nor passed to fn; 0: none */
};

/* Calls w->fn for each pid in path/cgroup.procs (and below, when deep) that is proven to
 * be there (cg_pin_below). Returns the number of pids listed. */
static int cg_walk_procs(const struct cg_walk *w, const char *path, bool deep,
			 struct wc_error *e)
{
	char file[4200];
	_cleanup_closedir_ DIR *d = NULL;
	FILE *f;
	struct dirent *de;
	long pid;
	int n = 0, r, pidfd;

	snprintf(file, sizeof(file), "%s/cgroup.procs", path);
	f = fopen(file, "re");
	if (!f)
		return errno == ENOENT ? 0 : wc_fail(e, errno, "read %s", file);
	while (fscanf(f, "%ld", &pid) == 1) {
		n++;
		if (!w->fn || pid == w->skip ||
		    (pidfd = cg_pin_below(w->h, path, (pid_t)pid)) == -ESRCH)
			continue;
		w->fn((pid_t)pid, pidfd, w->arg);
		if (pidfd >= 0)
			close(pidfd);
	}
	fclose(f);
	if (!deep)
		return n;

	d = opendir(path);
	if (!d)
		return errno == ENOENT ? n : wc_fail(e, errno, "read directory %s", path);
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		snprintf(file, sizeof(file), "%s/%s", path, de->d_name);
		r = cg_walk_procs(w, file, true, e);
		if (r < 0)
			return r;
		n += r;
	}
	return n;
}

/* By pidfd where there is one: the signal reaches the process that was checked. */
static void cg_sigkill(pid_t pid, int pidfd, void *arg)
{
	(void)arg;
	if (pidfd >= 0)
		syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
	else
		kill(pid, SIGKILL);
}

int cg_kill_listed(const struct cg_hier *h, const char *path, struct wc_error *e)
{
	const struct cg_walk w = { h, cg_sigkill, NULL, 0 };

	return cg_walk_procs(&w, path, true, e);
}

int cg_count_listed(const struct cg_hier *h, const char *path, struct wc_error *e)
{
	const struct cg_walk w = { h, NULL, NULL, 0 };

	return cg_walk_procs(&w, path, true, e);
}

struct cg_each {
	void (*fn)(pid_t, void *);
	void *arg;
};

static void cg_call_each(pid_t pid, int pidfd, void *arg)
{
	const struct cg_each *each = arg;

	(void)pidfd;  /* held while fn acts on pid */
	each->fn(pid, each->arg);
}

int cg_for_each_proc(struct cg_group *g, pid_t skip, void (*fn)(pid_t, void *), void *arg,
		     struct wc_error *e)
{
	struct cg_each each = { fn, arg };
	const struct cg_walk w = { g->hier, cg_call_each, &each, skip };

	if (!g->created)
		return 0;
	return cg_walk_procs(&w, g->path, false, e);
}

int cg_pid_cgroup_open(pid_t pid)
{
	char file[64];

	snprintf(file, sizeof(file), "/proc/%d/cgroup", (int)pid);
	return cg_fs_open_at(-1, file, O_RDONLY);
}

int cg_fd_inside(const struct cg_group *g, int proc_cgroup_fd, struct wc_error *e)
{
	char text[8192], rel[4096];
	int r = cg_fs_pread(proc_cgroup_fd, text, sizeof(text));

	if (r < 0)
		return wc_fail(e, -r, "read /proc/PID/cgroup");
	if (cg_parse_proc_cgroup(text, g->hier->version, rel, sizeof(rel)) < 0)
		return wc_fail(e, ENOENT, "find the memory cgroup in /proc/PID/cgroup");
	return cg_rel_below(rel, g->path + strlen(g->hier->mount));
}

int cg_pid_cgroup(const struct cg_hier *h, pid_t pid, char *rel, size_t size,
		  struct wc_error *e)
{
	char file[64], text[8192];
	int r;

	snprintf(file, sizeof(file), "/proc/%d/cgroup", (int)pid);
	r = cg_fs_read_at(-1, file, text, sizeof(text));
	if (r < 0)
		return wc_fail(e, -r, "read %s", file);
	if (cg_parse_proc_cgroup(text, h->version, rel, size) < 0)
		return wc_fail(e, ENOENT, "find the memory cgroup in %s", file);
	return 0;
}

int cg_pid_inside(const struct cg_group *g, pid_t pid, struct wc_error *e)
{
	char rel[4096];
	int r = cg_pid_cgroup(g->hier, pid, rel, sizeof(rel), e);

	if (r < 0)
		return r;
	return cg_rel_below(rel, g->path + strlen(g->hier->mount));
}

int cg_self_procs_open(const struct cg_hier *h, struct wc_error *e)
{
	char rel[4096], path[4200];
	int fd, r = cg_pid_cgroup(h, getpid(), rel, sizeof(rel), e);

	if (r < 0)
		return r;
	snprintf(path, sizeof(path), "%s%s/cgroup.procs", h->mount, rel);
	fd = cg_fs_open_at(-1, path, O_WRONLY);
	return fd < 0 ? wc_fail(e, -fd, "open %s", path) : fd;
}

int cg_touch_migration_lock(int self_procs_fd)
{
	/* "0" is the writer itself; the kernel takes the lock before it finds nothing to move. */
	return cg_fs_write_fd(self_procs_fd, "0");
}

int cg_attach_path(const struct cg_hier *h, const char *rel, pid_t pid, struct wc_error *e)
{
	char dir[4200], buf[32];
	int dirfd, r;

	snprintf(dir, sizeof(dir), "%s%s", h->mount, rel);
	dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return wc_fail(e, errno, "open %s", dir);
	snprintf(buf, sizeof(buf), "%d", (int)pid);
	r = cg_fs_write_at(dirfd, "cgroup.procs", buf);
	close(dirfd);
	return r < 0 ? wc_fail(e, -r, "move process %d into %s", (int)pid, dir) : 0;
}
