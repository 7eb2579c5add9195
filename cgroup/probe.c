/* Probing the cgroup features `doctor` reports (probe.h): files looked for where the runner
 * would build, clone3(CLONE_INTO_CGROUP) tried for real, mount options and the cgroup
 * namespace read from /proc. */
#include "cgroup/probe.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup/fs.h"
#include "cgroup/ns.h"

/* The inode of the initial cgroup namespace (PROC_CGROUP_INIT_INO, include/linux/proc_ns.h):
 * any other is a namespace of its own. PID 1 is no reference, as in a container it shares
 * the container's namespace. */
#define CGROUP_INIT_INO 0xEFFFFFFBU

static enum cg_have cgroup_namespace(void)
{
	struct stat st;

	if (stat("/proc/self/ns/cgroup", &st) < 0)
		return CG_UNKNOWN;  /* before 4.6 there are no cgroup namespaces */
	return st.st_ino == CGROUP_INIT_INO ? CG_MISSING : CG_HAVE;
}

/* The cgroup whose files tell which features the kernel has: the base, else our own; the
 * root lacks most of them. NULL when both are the root. */
static const char *feature_dir(const struct cg_hier *h)
{
	if (strcmp(h->base, h->mount) != 0)
		return h->base;
	if (strcmp(h->own, h->mount) != 0)
		return h->own;
	return NULL;
}

/* name in dir: there, missing, or unknown when dir is NULL or (for a memory.* file on v2)
 * the memory controller is not enabled there, so that its files cannot be there anyway. */
static enum cg_have file_in(const char *dir, const char *name, bool conclusive)
{
	char path[4300];

	if (!dir)
		return CG_UNKNOWN;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (access(path, F_OK) == 0)
		return CG_HAVE;
	return conclusive ? CG_MISSING : CG_UNKNOWN;
}

/* "memory" among the controllers of dir (cgroup.controllers, v2). */
static bool has_memory(const char *dir)
{
	char buf[512];
	int fd = dir ? open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
	int r = fd < 0 ? -1 : cg_fs_read_at(fd, "cgroup.controllers", buf, sizeof(buf));

	if (fd >= 0)
		close(fd);
	for (char *w = r > 0 ? strtok(buf, " \n") : NULL; w; w = strtok(NULL, " \n"))
		if (strcmp(w, "memory") == 0)
			return true;
	return false;
}

/* Tries clone3(CLONE_INTO_CGROUP) into the cgroup we are in; the child exits at once. A
 * refusal for want of permission or by the no-internal-process rule still proves the call. */
static enum cg_have clone_into(const struct cg_hier *h)
{
	int fd = open(h->own, O_PATH | O_DIRECTORY | O_CLOEXEC), status;
	pid_t pid;

	if (fd < 0)
		return CG_UNKNOWN;
	pid = cg_clone_into(fd, NULL);
	if (pid == 0)
		_exit(0);
	close(fd);
	if (pid > 0) {
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		return CG_HAVE;
	}
	/* ENOSYS: no clone3 (5.3); E2BIG or EINVAL: no CLONE_INTO_CGROUP (5.7). */
	return errno == ENOSYS || errno == E2BIG || errno == EINVAL ? CG_MISSING : CG_HAVE;
}

int cg_probe(struct cg_probe *p, const char *base_override, struct wc_error *e)
{
	const struct cg_hier *h = &p->hier;
	struct statvfs sv;
	struct stat st;
	const char *dir;
	bool v2;
	int r;

	memset(p, 0, sizeof(*p));
	p->cgroupns = cgroup_namespace();
	r = cg_discover(&p->hier, base_override, e);
	if (r < 0)
		return r;
	v2 = h->version == CG_V2;
	p->read_only = statvfs(h->mount, &sv) == 0 && (sv.f_flag & ST_RDONLY);
	p->base_writable = access(h->base, W_OK | X_OK) == 0 && !p->read_only;
	p->base_owner = stat(h->base, &st) == 0 ? st.st_uid : 0;
	p->memory_in_base = !v2 || has_memory(h->base);

	dir = feature_dir(h);
	if (v2) {
		bool memory_files = dir && has_memory(dir);

		p->peak = file_in(dir, "memory.peak", memory_files);
		p->events_local = file_in(dir, "memory.events.local", memory_files);
		p->swap = file_in(dir, "memory.swap.max", memory_files);
		p->kill = file_in(dir, "cgroup.kill", true);
		p->clone_into = clone_into(h);
		p->favordynmods = cg_mount_has_option(h->mount, "favordynmods");
		p->nsdelegate = cg_mount_has_option(h->mount, "nsdelegate");
	} else {
		/* The v1 equivalents are always there, but for swap accounting (swapaccount=1). */
		p->peak = CG_HAVE;
		p->swap = file_in(h->mount, "memory.memsw.limit_in_bytes", true);
		p->events_local = p->kill = p->clone_into = CG_MISSING;
	}
	return 0;
}
