/* The sandbox's limit on processes (pids.h). */
#include "cgroup/pids.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cgroup/fs.h"

#define PIDS_RMDIR_TRIES 50  /* 10 ms apart: the killed processes exit first */

void cg_pids_init(struct cg_pids *p)
{
	memset(p, 0, sizeof(*p));
	p->procs_fd = -1;
}

/* Whether the comma-separated list [c, end) holds the word "pids". */
static bool lists_pids(const char *c, const char *end)
{
	while (c < end) {
		const char *comma = memchr(c, ',', (size_t)(end - c));
		const char *stop = comma ? comma : end;

		if (stop - c == 4 && memcmp(c, "pids", 4) == 0)
			return true;
		c = stop + 1;
	}
	return false;
}

int cg_parse_proc_pids(const char *text, char *out, size_t size)
{
	const char *line = text;

	while (*line) {
		const char *nl = strchr(line, '\n'), *ctrl = strchr(line, ':'), *path;
		const char *end = nl ? nl : line + strlen(line);
		size_t n;

		path = ctrl && ctrl < end ? memchr(ctrl + 1, ':', (size_t)(end - ctrl - 1)) : NULL;
		if (path && lists_pids(ctrl + 1, path)) {
			n = (size_t)(end - path - 1);
			if (n >= size)
				return -ENAMETOOLONG;
			memcpy(out, path + 1, n);
			out[n] = '\0';
			return 0;
		}
		if (!nl)
			break;
		line = nl + 1;
	}
	return -ENOENT;
}

/* Writes max to dir/pids.max and reads it back. */
static int write_max(const char *dir, uint64_t max, struct wc_error *e)
{
	char want[32], got[32];
	int dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC), r;

	if (dirfd < 0)
		return wc_fail(e, errno, "open %s", dir);
	if (max == CG_UNLIMITED)
		snprintf(want, sizeof(want), "max");
	else
		snprintf(want, sizeof(want), "%" PRIu64, max);
	r = cg_fs_write_at(dirfd, "pids.max", want);
	if (r == 0)
		r = cg_fs_read_at(dirfd, "pids.max", got, sizeof(got));
	close(dirfd);
	if (r < 0)
		return wc_fail(e, -r, "set %s/pids.max to %s", dir, want);
	got[strcspn(got, "\n")] = '\0';
	if (strcmp(got, want) != 0)
		return wc_fail(e, EIO, "set %s/pids.max to %s: it reads back %s", dir, want, got);
	return 0;
}

/* v2: the pids controller handed down from the sandbox's parent (the base). */
static int v2_limit(struct cg_pids *p, const char *parent, struct cg_group *sandbox,
		    uint64_t max, struct wc_error *e)
{
	char buf[512];
	int dirfd = open(parent, O_PATH | O_DIRECTORY | O_CLOEXEC), r;

	if (dirfd < 0)
		return wc_fail(e, errno, "open %s", parent);
	r = cg_fs_read_at(dirfd, "cgroup.subtree_control", buf, sizeof(buf));
	if (r >= 0 && !strstr(buf, "pids")) {
		r = cg_fs_read_at(dirfd, "cgroup.controllers", buf, sizeof(buf));
		if (r >= 0 && !strstr(buf, "pids")) {
			close(dirfd);
			return wc_fail(e, EOPNOTSUPP, "the pids controller is not available in %s "
					"(not in its cgroup.controllers)", parent);
		}
		r = cg_fs_write_at(dirfd, "cgroup.subtree_control", "+pids");
		p->enabled_parent = r == 0;
		snprintf(p->parent, sizeof(p->parent), "%s", parent);
	}
	close(dirfd);
	if (r < 0)
		return wc_fail(e, r == -EBUSY ? EOPNOTSUPP : -r,
			       "enable pids in %s/cgroup.subtree_control", parent);
	/* Handed down to the units too: while this sandbox lives, the -pids of another run
	 * in the same parent fails (EBUSY) rather than take this limit away. */
	cg_fs_write_at(sandbox->dirfd, "cgroup.subtree_control", "+pids");
	return write_max(sandbox->path, max, e);
}

/* v1: a cgroup of the run's own in the pids hierarchy, beside the memory one. */
static int v1_limit(struct cg_pids *p, const struct cg_hier *h, const char *name, uint64_t max,
		    struct wc_error *e)
{
	char text[8192], own[4096], mount[300];
	const char *slash = strrchr(h->mount, '/');
	int fd = open("/proc/self/cgroup", O_RDONLY | O_CLOEXEC), r;

	r = fd < 0 ? -errno : cg_fs_pread(fd, text, sizeof(text));
	if (fd >= 0)
		close(fd);
	if (r < 0)
		return wc_fail(e, -r, "read /proc/self/cgroup");
	if (!slash || cg_parse_proc_pids(text, own, sizeof(own)) < 0)
		return wc_fail(e, EOPNOTSUPP, "no pids hierarchy (cgroup v1 mounts each "
				"controller apart; pids is not mounted here)");
	snprintf(mount, sizeof(mount), "%.*s/pids", (int)(slash - h->mount), h->mount);
	snprintf(p->path, sizeof(p->path), "%s%s/%s", mount, strcmp(own, "/") ? own : "", name);
	/* One of this name already is a runner's that was killed before it could remove it
	 * (nothing sweeps the pids hierarchy), or a live one's in another PID namespace. Empty,
	 * it is the first: removed and made again. In use (EBUSY), the second: left alone. */
	if (mkdir(p->path, 0755) < 0 && (errno != EEXIST || rmdir(p->path) < 0 ||
					 mkdir(p->path, 0755) < 0))
		return wc_fail(e, errno == ENOENT ? EOPNOTSUPP : errno == EBUSY ? EEXIST : errno,
			       "create cgroup %s", p->path);
	p->created = true;
	r = write_max(p->path, max, e);
	if (r < 0)
		return r;
	snprintf(text, sizeof(text), "%s/cgroup.procs", p->path);
	p->procs_fd = open(text, O_WRONLY | O_CLOEXEC);
	return p->procs_fd < 0 ? wc_fail(e, errno, "open %s", text) : 0;
}

int cg_pids_limit(struct cg_pids *p, const struct cg_hier *h, struct cg_group *sandbox,
		  const char *name, uint64_t max, struct wc_error *e)
{
	return h->version == CG_V2 ? v2_limit(p, h->base, sandbox, max, e) :
	       v1_limit(p, h, name, max, e);
}

int cg_pids_attach(const struct cg_pids *p, pid_t pid, struct wc_error *e)
{
	char buf[32];
	int r;

	if (p->procs_fd < 0)
		return 0;
	snprintf(buf, sizeof(buf), "%d", (int)pid);
	r = cg_fs_write_fd(p->procs_fd, buf);
	return r < 0 ? wc_fail(e, -r, "move process %d into %s", (int)pid, p->path) : 0;
}

/* Kills what is listed in the v1 pids cgroup, each by a pidfd taken before its cgroup is
 * read again, so that a pid reused since it was listed is left alone. */
static void v1_kill_listed(const struct cg_pids *p)
{
	char file[4200], text[8192], own[4096];
	long pid;
	FILE *f;

	snprintf(file, sizeof(file), "%s/cgroup.procs", p->path);
	f = fopen(file, "re");
	while (f && fscanf(f, "%ld", &pid) == 1) {
		int pidfd = (int)syscall(SYS_pidfd_open, (pid_t)pid, 0), fd;
		ssize_t n = -1;

		if (pidfd < 0)
			continue;
		snprintf(file, sizeof(file), "/proc/%ld/cgroup", pid);
		fd = open(file, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			n = read(fd, text, sizeof(text) - 1);
			close(fd);
		}
		if (n > 0) {
			text[n] = '\0';
			if (cg_parse_proc_pids(text, own, sizeof(own)) == 0 &&
			    strlen(own) <= strlen(p->path) &&
			    strcmp(p->path + strlen(p->path) - strlen(own), own) == 0)
				syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
		}
		close(pidfd);
	}
	if (f)
		fclose(f);
}

int cg_pids_close(struct cg_pids *p, struct wc_error *e)
{
	const struct timespec pause = { 0, 10 * 1000 * 1000 };
	int r = 0;

	if (p->enabled_parent) {
		int dirfd = open(p->parent, O_PATH | O_DIRECTORY | O_CLOEXEC);

		if (dirfd >= 0) {
			cg_fs_write_at(dirfd, "cgroup.subtree_control", "-pids");
			close(dirfd);
		}
		p->enabled_parent = false;
	}
	cg_fs_close(&p->procs_fd);
	for (int i = 0; p->created && i < PIDS_RMDIR_TRIES; i++) {
		if (rmdir(p->path) == 0 || errno == ENOENT) {
			p->created = false;
			break;
		}
		if (errno != EBUSY)
			break;
		v1_kill_listed(p);
		nanosleep(&pause, NULL);
	}
	if (p->created)
		r = wc_fail(e, errno, "remove cgroup %s", p->path);
	return r;
}
