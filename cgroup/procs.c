/* Walking the processes listed in a cgroup and its descendants: the v1 kill loop, v1's
 * "populated", and v2's kill before cgroup.kill (5.14). */
#include <dirent.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup/backend.h"
#include "cgroup/fs.h"

/* Calls fn for each pid in path/cgroup.procs (and below, when deep). Returns the number of
 * pids seen. */
static int cg_walk_procs(const char *path, bool deep, void (*fn)(pid_t, void *), void *arg,
			 struct rep_error *e)
{
	char file[4200];
	FILE *f;
	DIR *d;
	struct dirent *de;
	long pid;
	int n = 0, r;

	snprintf(file, sizeof(file), "%s/cgroup.procs", path);
	f = fopen(file, "re");
	if (!f)
		return errno == ENOENT ? 0 : rep_fail(e, errno, "read %s", file);
	while (fscanf(f, "%ld", &pid) == 1) {
		if (fn)
			fn((pid_t)pid, arg);
		n++;
	}
	fclose(f);
	if (!deep)
		return n;

	d = opendir(path);
	if (!d)
		return errno == ENOENT ? n : rep_fail(e, errno, "read directory %s", path);
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		snprintf(file, sizeof(file), "%s/%s", path, de->d_name);
		r = cg_walk_procs(file, true, fn, arg, e);
		if (r < 0) {
			closedir(d);
			return r;
		}
		n += r;
	}
	closedir(d);
	return n;
}

static void cg_sigkill(pid_t pid, void *arg)
{
	(void)arg;
	kill(pid, SIGKILL);
}

int cg_kill_listed(const char *path, struct rep_error *e)
{
	return cg_walk_procs(path, true, cg_sigkill, NULL, e);
}

int cg_count_listed(const char *path, struct rep_error *e)
{
	return cg_walk_procs(path, true, NULL, NULL, e);
}

int cg_for_each_proc(struct cg_group *g, void (*fn)(pid_t, void *), void *arg,
		     struct rep_error *e)
{
	if (!g->created)
		return 0;
	return cg_walk_procs(g->path, false, fn, arg, e);
}

int cg_pid_cgroup(const struct cg_hier *h, pid_t pid, char *rel, size_t size,
		  struct rep_error *e)
{
	char file[64], text[8192];
	int r;

	snprintf(file, sizeof(file), "/proc/%d/cgroup", (int)pid);
	r = cg_fs_read_at(-1, file, text, sizeof(text));
	if (r < 0)
		return rep_fail(e, -r, "read %s", file);
	if (cg_parse_proc_cgroup(text, h->version, rel, size) < 0)
		return rep_fail(e, ENOENT, "find the memory cgroup in %s", file);
	return 0;
}

int cg_pid_inside(const struct cg_group *g, pid_t pid, struct rep_error *e)
{
	char rel[4096];
	const char *want = g->path + strlen(g->hier->mount);
	size_t n = strlen(want);
	int r = cg_pid_cgroup(g->hier, pid, rel, sizeof(rel), e);

	if (r < 0)
		return r;
	return strncmp(rel, want, n) == 0 && (rel[n] == '/' || rel[n] == '\0');
}

int cg_attach_path(const struct cg_hier *h, const char *rel, pid_t pid, struct rep_error *e)
{
	char dir[4200], buf[32];
	int dirfd, r;

	snprintf(dir, sizeof(dir), "%s%s", h->mount, rel);
	dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return rep_fail(e, errno, "open %s", dir);
	snprintf(buf, sizeof(buf), "%d", (int)pid);
	r = cg_fs_write_at(dirfd, "cgroup.procs", buf);
	close(dirfd);
	return r < 0 ? rep_fail(e, -r, "move process %d into %s", (int)pid, dir) : 0;
}
