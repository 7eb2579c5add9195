/* The runner's private folder, and removing those of runners that died (rundir.h). */
#include "runner/control/rundir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup/cleanup.h"

#define LOCK_NAME "lock"
#define LOCK_TEMP "lock.new"

/* What a runner leaves in its folder: the lock goes last, so that a sweep interrupted
 * half way still finds the folder unlocked the next time. */
static const char *const contents[] = { "control", "resume", LOCK_TEMP, LOCK_NAME };

int run_dir_create(const char *parent, char *dir, size_t size, int *lockfd,
		   struct wc_error *e)
{
	_cleanup_close_ int dirfd = -1, fd = -1;

	*lockfd = -1;
	if ((size_t)snprintf(dir, size, "%s/" RUN_DIR_PREFIX "XXXXXX", parent) >= size)
		return wc_fail(e, ENAMETOOLONG, "create a private folder in %s", parent);
	if (!mkdtemp(dir))
		return wc_fail(e, errno, "create a private folder in %s", parent);
	dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return wc_fail(e, errno, "open %s", dir);
	fd = openat(dirfd, LOCK_TEMP, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX) < 0 || renameat(dirfd, LOCK_TEMP, dirfd, LOCK_NAME) < 0)
		return wc_fail(e, errno, "lock %s", dir);
	*lockfd = steal_fd(&fd);  /* the caller holds the lock while the runner lives */
	return 0;
}

void run_dir_remove(const char *dir, int lockfd)
{
	int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		unlinkat(fd, LOCK_NAME, 0);
		close(fd);
	}
	rmdir(dir);
	if (lockfd >= 0)
		close(lockfd);
}

/* Whether the folder fd (name in parent) is ours, and its runner is dead: we could take
 * its lock. Leaves the lock taken (in *lock) when so. */
static bool dead_runner(int fd, int *lock)
{
	struct stat st;

	*lock = -1;
	if (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 07777) != 0700)
		return false;
	*lock = openat(fd, LOCK_NAME, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (*lock < 0)
		return false;  /* no lock: an older runner's, or one being made */
	if (flock(*lock, LOCK_EX | LOCK_NB) == 0)
		return true;
	close(*lock);
	*lock = -1;
	return false;
}

/* Removes the folder name of parent when its runner is dead. Returns 1 when removed. */
static int sweep_one(int parentfd, const char *name)
{
	_cleanup_close_ int fd = openat(parentfd, name,
					O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	_cleanup_close_ int lock = -1;

	if (fd < 0 || !dead_runner(fd, &lock))
		return 0;
	for (size_t i = 0; i < sizeof(contents) / sizeof(contents[0]); i++)
		unlinkat(fd, contents[i], 0);  /* ENOENT: it never had one */
	return unlinkat(parentfd, name, AT_REMOVEDIR) == 0;  /* not empty: left as is */
}

int run_dir_sweep(const char *parent)
{
	DIR *d = opendir(parent);
	struct dirent *de;
	int n = 0;

	if (!d)
		return 0;
	while ((de = readdir(d)))
		if (strncmp(de->d_name, RUN_DIR_PREFIX, strlen(RUN_DIR_PREFIX)) == 0)
			n += sweep_one(dirfd(d), de->d_name);
	closedir(d);
	return n;
}
