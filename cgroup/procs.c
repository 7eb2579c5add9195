/* Walking the processes listed in a cgroup and its descendants: the v1 kill loop, v1's
 * "populated", and v2's kill before cgroup.kill (5.14). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup/backend.h"
#include "cgroup/fs.h"

/* Calls fn for each pid in path/cgroup.procs and below. Returns the number of pids seen. */
static int cg_walk_procs(const char *path, void (*fn)(pid_t), struct rep_error *e)
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
			fn((pid_t)pid);
		n++;
	}
	fclose(f);

	d = opendir(path);
	if (!d)
		return errno == ENOENT ? n : rep_fail(e, errno, "read directory %s", path);
	while ((de = readdir(d))) {
		if (de->d_type != DT_DIR || de->d_name[0] == '.')
			continue;
		snprintf(file, sizeof(file), "%s/%s", path, de->d_name);
		r = cg_walk_procs(file, fn, e);
		if (r < 0) {
			closedir(d);
			return r;
		}
		n += r;
	}
	closedir(d);
	return n;
}

static void cg_sigkill(pid_t pid)
{
	kill(pid, SIGKILL);
}

int cg_kill_listed(const char *path, struct rep_error *e)
{
	return cg_walk_procs(path, cg_sigkill, e);
}

int cg_count_listed(const char *path, struct rep_error *e)
{
	return cg_walk_procs(path, NULL, e);
}
