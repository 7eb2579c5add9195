/* Writing a limit and proving it applied: shared by both backends. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

#include "cgroup/backend.h"
#include "cgroup/fs.h"

uint64_t cg_limit_applied(uint64_t bytes)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);

	if (bytes == CG_UNLIMITED)
		return bytes;
	return bytes / page * page;
}

int cg_write_limit_checked(struct cg_group *g, const char *name, uint64_t bytes,
			   const char *unlimited_text, uint64_t *applied, struct wc_error *e)
{
	char buf[64];
	uint64_t got, want = cg_limit_applied(bytes);
	int r, fd;

	if (bytes == CG_UNLIMITED)
		snprintf(buf, sizeof(buf), "%s", unlimited_text);
	else
		snprintf(buf, sizeof(buf), "%" PRIu64, bytes);
	fd = cg_fs_open_at(g->dirfd, name, O_RDWR);  /* one open for both: per test */
	if (fd == -ENOENT)
		return wc_fail(e, EOPNOTSUPP, "write %s/%s (the kernel has no %s here)",
				g->path, name, name);
	if (fd < 0)
		return wc_fail(e, -fd, "open %s/%s", g->path, name);
	r = cg_fs_write_fd(fd, buf);
	if (r < 0) {
		close(fd);
		return wc_fail(e, -r, "write %s to %s/%s", buf, g->path, name);
	}

	/* Read back: a limit that did not apply must never become a silent unlimited run. */
	r = cg_fs_pread(fd, buf, sizeof(buf));
	close(fd);
	if (r < 0)
		return wc_fail(e, -r, "read back %s/%s", g->path, name);
	if (cg_parse_u64(buf, &got) < 0)
		return wc_fail(e, EIO, "read back %s/%s: unexpected \"%s\"", g->path, name, buf);
	if (got >= CG_V1_UNLIMITED_FROM)
		got = CG_UNLIMITED;
	if (applied)
		*applied = got;
	if (got != want)
		return wc_fail(e, EIO, "%s/%s reads %" PRIu64 " after writing %" PRIu64
				": the limit did not apply", g->path, name, got, want);
	return 0;
}
