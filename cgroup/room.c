/* Can the base take the sandbox? Asked of the kernel's own permission checks and of
 * cgroup.procs, changing nothing. */
#include "cgroup/room.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup/fs.h"

int cg_base_writable(const struct cg_hier *h)
{
	/* AT_EACCESS: the effective ids are the ones mkdir is checked against. */
	if (faccessat(AT_FDCWD, h->base, W_OK | X_OK, AT_EACCESS) == 0)
		return 1;
	if (errno == EACCES || errno == EPERM)
		return 0;
	return -errno;
}

int cg_base_shared(const struct cg_hier *h)
{
	char buf[8192], *p, *end;
	pid_t me = getpid();
	int dirfd, r;

	if (strcmp(h->base, h->own) != 0)
		return 0;
	dirfd = open(h->own, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return -errno;
	/* The root cgroup has no cgroup.type: it is exempt from the rule. */
	r = cg_fs_read_at(dirfd, "cgroup.type", buf, sizeof(buf));
	if (r >= 0)
		r = cg_fs_read_at(dirfd, "cgroup.procs", buf, sizeof(buf));
	close(dirfd);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	/* A full buffer may cut the last pid short: the others are there all the same. */
	for (p = buf; *p; p = end) {
		long pid = strtol(p, &end, 10);

		if (end == p)
			break;
		if (pid != me)
			return 1;
	}
	return 0;
}
