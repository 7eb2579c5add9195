/* Finding the memory controller, our own cgroup, and the limits already in force above us. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <libcgroup.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>

#include "cgroup/backend.h"
#include "cgroup/cleanup.h"
#include "cgroup/fs.h"

/* libcgroup knows where each controller is mounted, on v2 and on v1 alike. */
static int cg_find_memory_mount(char *out, size_t size, struct wc_error *e)
{
	char *mp = NULL;
	int r = cgroup_init();

	if (r)
		return wc_fail(e, ENOENT, "find the cgroup filesystem (libcgroup: %s); "
				"mount cgroup2 on /sys/fs/cgroup", cgroup_strerror(r));
	r = cgroup_get_subsys_mount_point("memory", &mp);
	if (r || !mp)
		return wc_fail(e, ENOENT, "find the memory controller (libcgroup: %s); the "
				"kernel needs CONFIG_MEMCG and a cgroup mount that has it",
				cgroup_strerror(r));
	snprintf(out, size, "%s", mp);
	free(mp);
	return 0;
}

static int cg_join(char *out, size_t size, const char *mount, const char *rel)
{
	if (strcmp(rel, "/") == 0)
		rel = "";
	if ((size_t)snprintf(out, size, "%s%s", mount, rel) >= size)
		return -ENAMETOOLONG;
	return 0;
}

/* Our cgroup's folder. /proc/self/cgroup names it from our cgroup namespace's root; when
 * the mount shows more than that root (its root, as mountinfo gives it, climbs out with
 * "/.."), the folder of that root must be known: an enclosing runner exports it
 * (WCMEM_SANDBOX_CGROUPNS) to the command it put in such a namespace. */
static int own_path(struct cg_hier *h, const char *rel, struct wc_error *e)
{
	struct cg_mountinfo *m = malloc(sizeof(*m));
	const char *ns_root = getenv("WCMEM_SANDBOX_CGROUPNS");
	bool outside = m && cg_mount_find(h->mount, m) == 0 && strncmp(m->root, "/..", 3) == 0;
	const char *top = h->mount;
	size_t mlen = strlen(h->mount);

	free(m);
	if (outside && (!ns_root || strncmp(ns_root, h->mount, mlen) != 0 ||
			(ns_root[mlen] != '/' && ns_root[mlen] != '\0')))
		return wc_fail(e, ENOENT, "find our cgroup: we are in a cgroup namespace that "
			       "the cgroup mount at %s does not start at; mount cgroup2 inside the "
			       "namespace, as container runtimes do", h->mount);
	if (outside)
		top = ns_root;
	if (cg_join(h->own, sizeof(h->own), top, rel) < 0)
		return wc_fail(e, ENAMETOOLONG, "cgroup path %s%s", top, rel);
	return 0;
}

/* The base as given into h->base: an absolute cgroupfs path, or a cgroup as
 * /proc/PID/cgroup shows it ("0::/a/b" on v2, "N:memory:/a/b" or "N:cpu,memory:/a/b" on v1),
 * which lies under the memory controller's mount. Returns 0, or -errno with e. */
static int cg_base_given(struct cg_hier *h, const char *given, struct wc_error *e)
{
	char rel[4096];

	if (given[0] == '/') {
		if ((size_t)snprintf(h->base, sizeof(h->base), "%s", given) >= sizeof(h->base))
			return wc_fail(e, ENAMETOOLONG, "cgroup base %s", given);
		return 0;
	}
	if (cg_parse_proc_cgroup(given, h->version, rel, sizeof(rel)) < 0 || rel[0] != '/') {
		wc_fail(e, EINVAL, "WCMEM_CGROUP_BASE=%s: not a cgroup", given);
		return wc_hint(e, "give an absolute path under %s, or the cgroup as "
			       "/proc/PID/cgroup shows it (%s)", h->mount, h->version == CG_V2 ?
			       "0::/PATH" : "N:memory:/PATH, the memory controller's line");
	}
	if (cg_join(h->base, sizeof(h->base), h->mount, rel) < 0)
		return wc_fail(e, ENAMETOOLONG, "cgroup path %s%s", h->mount, rel);
	return 0;
}

int cg_discover(struct cg_hier *h, const char *base_override, struct wc_error *e)
{
	char text[8192], rel[4096];
	struct statfs sfs;
	struct stat st;
	int r;

	memset(h, 0, sizeof(*h));
	r = cg_find_memory_mount(h->mount, sizeof(h->mount), e);
	if (r < 0)
		return r;
	if (statfs(h->mount, &sfs) < 0)
		return wc_fail(e, errno, "statfs %s", h->mount);
	h->version = sfs.f_type == CGROUP2_SUPER_MAGIC ? CG_V2 : CG_V1;

	r = cg_fs_read_at(-1, "/proc/self/cgroup", text, sizeof(text));
	if (r < 0)
		return wc_fail(e, -r, "read /proc/self/cgroup");
	if (cg_parse_proc_cgroup(text, h->version, rel, sizeof(rel)) < 0)
		return wc_fail(e, ENOENT, "find our %s cgroup in /proc/self/cgroup",
				h->version == CG_V2 ? "cgroup v2" : "v1 memory");
	r = own_path(h, rel, e);
	if (r < 0)
		return r;

	if (!base_override || !*base_override) {
		snprintf(h->base, sizeof(h->base), "%s", h->own);
		return 0;
	}
	/* An explicit base must be a cgroup of the same memory hierarchy. */
	r = cg_base_given(h, base_override, e);
	if (r < 0)
		return r;
	if (strncmp(h->base, h->mount, strlen(h->mount)) != 0 ||
	    (h->base[strlen(h->mount)] != '/' && h->base[strlen(h->mount)] != '\0'))
		return wc_fail(e, EINVAL, "cgroup base %s is not under the memory controller's "
				"mount %s", h->base, h->mount);
	if (stat(h->base, &st) < 0)
		return wc_fail(e, errno, "cgroup base %s", h->base);
	if (!S_ISDIR(st.st_mode))
		return wc_fail(e, ENOTDIR, "cgroup base %s", h->base);
	return 0;
}

/* The limit at one level and what it leaves (limit less usage), or -ENOENT when the level
 * has no limit (the root on v2) or cannot be read. */
static int level_limit(int dirfd, const struct cg_backend *b, uint64_t *limit,
		       uint64_t *left)
{
	char buf[64];
	uint64_t used;

	if (cg_fs_read_at(dirfd, b->limit_file, buf, sizeof(buf)) <= 0 ||
	    cg_parse_u64(buf, limit) < 0 || *limit >= CG_V1_UNLIMITED_FROM)
		return -ENOENT;
	/* Usage above the limit (v1 lets a moved-in task's pages stay) leaves nothing. */
	if (cg_fs_read_at(dirfd, b->current_file, buf, sizeof(buf)) > 0 &&
	    cg_parse_u64(buf, &used) == 0)
		*left = used < *limit ? *limit - used : 0;
	else
		*left = *limit;
	return 0;
}

/* Walks from the base up to the mount, keeping the smallest limit and headroom. */
int cg_base_limit(const struct cg_hier *h, uint64_t *bytes, uint64_t *headroom,
		  struct wc_error *e)
{
	const struct cg_backend *b = cg_backend_of(h);
	char path[4096];
	size_t mlen = strlen(h->mount);
	uint64_t limit, left, room = CG_UNLIMITED;

	(void)e;
	*bytes = CG_UNLIMITED;
	snprintf(path, sizeof(path), "%s", h->base);
	for (;;) {
		char *slash;
		int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);

		/* The root has no limit file on v2; an unreadable level is skipped, not fatal. */
		if (fd >= 0 && level_limit(fd, b, &limit, &left) == 0) {
			if (limit < *bytes)
				*bytes = limit;
			if (left < room)
				room = left;
		}
		if (fd >= 0)
			close(fd);
		if (strlen(path) <= mlen)
			break;
		slash = strrchr(path, '/');
		if (!slash || (size_t)(slash - path) < mlen)
			break;
		*slash = '\0';
	}
	if (headroom)
		*headroom = room;
	return 0;
}

int cg_mount_find(const char *point, struct cg_mountinfo *m)
{
	_cleanup_free_ struct cg_mountinfo *line_m = malloc(sizeof(*line_m));
	_cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	int r = -ENOENT;

	if (!f)
		return -errno;
	if (!line_m)
		return -ENOMEM;
	while (getline(&line, &cap, f) > 0)
		if (cg_parse_mountinfo_line(line, line_m) == 0 && strcmp(line_m->point, point) == 0) {
			*m = *line_m;  /* a later mount on the same point hides this one */
			r = 0;
		}
	return r;
}

bool cg_mount_has_option(const char *point, const char *option)
{
	_cleanup_free_ struct cg_mountinfo *m = malloc(sizeof(*m));

	return m && cg_mount_find(point, m) == 0 && cg_option_has(m->super_opts, option);
}
