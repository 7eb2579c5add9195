/* The memory log's file: where it is, and a writer that puts each entry on disk with one
 * write(2), and puts back what another writer of the same file erased. */
#include "report/log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int rep_log_default_path(char *buf, size_t size, const char *weathercop_dir, const char *home)
{
	int n;

	if (weathercop_dir && *weathercop_dir)
		n = snprintf(buf, size, "%s/test_memory.log", weathercop_dir);
	else if (home && *home)
		n = snprintf(buf, size, "%s/.weathercop/test_memory.log", home);
	else
		return -ENOENT;
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	return 0;
}

/* The folder that holds path into dir: "." for a bare name. Returns 0, or -ENAMETOOLONG. */
static int parent_of(const char *path, char dir[PATH_MAX])
{
	char *slash;

	if (strlen(path) >= PATH_MAX)
		return -ENAMETOOLONG;
	strcpy(dir, path);
	slash = strrchr(dir, '/');
	if (!slash)
		strcpy(dir, ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	return 0;
}

/* Creates the folder that holds path (one level: ~/.weathercop on a first run). */
static int make_parent(const char *path, struct rep_error *e)
{
	char dir[PATH_MAX];

	if (parent_of(path, dir) < 0)
		return rep_fail(e, ENAMETOOLONG, "open %s", path);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return rep_fail(e, errno, "create folder %s", dir);
	return 0;
}

/* An unnamed file beside the log (O_TMPFILE, 3.11) that keeps a copy of what the runner
 * wrote, on disk rather than in the runner's memory; -1 where the file system has none:
 * the log is then written as before, with nothing to put back. */
static int open_copy(const char *path)
{
	char dir[PATH_MAX];

	if (parent_of(path, dir) < 0)
		return -1;
	return open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
}

int rep_log_open(struct rep_log *log, const char *path, bool append, struct rep_error *e)
{
	/* O_APPEND: every write lands at the end, even with another writer (tail -f, a
	 * nested runner) on the same file. O_RDWR: to see that our entries are still there. */
	int flags = O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | (append ? 0 : O_TRUNC);
	int fd, r;

	memset(log, 0, sizeof(*log));
	log->fd = log->copy = -1;
	fd = open(path, flags, 0644);
	if (fd < 0 && errno == ENOENT) {
		r = make_parent(path, e);
		if (r < 0)
			return r;
		fd = open(path, flags, 0644);
	}
	if (fd < 0)
		return rep_fail(e, errno, "open %s", path);
	log->fd = fd;
	log->copy = strlen(path) < sizeof(log->path) ? open_copy(path) : -1;
	if (log->copy >= 0)
		strcpy(log->path, path);
	return 0;
}

void rep_log_close(struct rep_log *log)
{
	if (log->fd >= 0 && log->copy >= 0)  /* fd >= 0: rep_log_open set copy */
		close(log->copy);
	if (log->fd >= 0)
		close(log->fd);
	log->fd = log->copy = -1;
}

/* write(2) until all of it is written; EINTR and short writes are retried. */
static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Our first bytes are still where they landed: no one emptied or overwrote the file. */
static bool ours_intact(const struct rep_log *log)
{
	char now[sizeof(log->head)];

	return pread(log->fd, now, log->head_len, log->at) == (ssize_t)log->head_len &&
	       memcmp(now, log->head, log->head_len) == 0;
}

/* Copies everything we wrote into fd. Returns 0, or -errno. */
static int copy_into(const struct rep_log *log, int fd)
{
	char buf[65536];
	off_t off = 0;
	int r;

	while (off < log->copy_len) {
		ssize_t n = pread(log->copy, buf, sizeof(buf), off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		r = write_all(fd, buf, (size_t)n);
		if (r < 0)
			return r;
		off += n;
	}
	return 0;
}

/* Another writer emptied or overwrote the log. Putting our entries back into that file
 * would not do: a writer without O_APPEND (Python's "w") goes on writing at its own offset,
 * over them. So the log becomes a new file at the same path holding all we wrote (renamed
 * into place: never a moment without a log); the other writer's descriptor keeps the old
 * one, and what it writes there is no longer in the log. */
static int put_back(struct rep_log *log)
{
	char tmp[PATH_MAX + 32];
	int fd, r;

	if (snprintf(tmp, sizeof(tmp), "%s.wcmem-%d", log->path, (int)getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	r = copy_into(log, fd);
	if (r == 0 && rename(tmp, log->path) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		close(fd);
		return r;
	}
	close(log->fd);
	log->fd = fd;
	log->at = 0;
	log->restored++;
	return 0;
}

/* Keeps the entry in the copy. A copy that fails is dropped: nothing to put back then. */
static void keep(struct rep_log *log, const char *entry, size_t len)
{
	size_t done = 0;

	while (log->copy >= 0 && done < len) {
		ssize_t n = pwrite(log->copy, entry + done, len - done, log->copy_len + (off_t)done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(log->copy);
			log->copy = -1;
			return;
		}
		done += (size_t)n;
	}
	log->copy_len += (off_t)len;
}

int rep_log_write(struct rep_log *log, const char *entry, size_t len, bool sync)
{
	int r;

	if (!log || log->fd < 0)
		return 0;
	if (log->copy >= 0 && log->head_len > 0 && !ours_intact(log)) {
		r = put_back(log);
		if (r < 0)
			return r;
	}
	r = write_all(log->fd, entry, len);
	if (r < 0)
		return r;
	if (log->head_len == 0 && len > 0) {  /* our first entry: where it landed, and how */
		off_t end = lseek(log->fd, 0, SEEK_CUR);

		log->head_len = len < sizeof(log->head) ? len : sizeof(log->head);
		memcpy(log->head, entry, log->head_len);
		log->at = end < 0 ? 0 : end - (off_t)len;
	}
	keep(log, entry, len);
	while (sync && fdatasync(log->fd) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}
