/* The memory log's file: where it is, and a writer that puts each entry on disk with one
 * write(2), and puts back what another writer of the same file erased. */
#include "report/log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report/file.h"

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

/* An unnamed file beside the log (O_TMPFILE, 3.11) that keeps a copy of what the runner
 * wrote, on disk rather than in the runner's memory, and a descriptor that reads the log
 * (the one we write with is write-only: a FIFO must not count us as its reader). -1 for
 * either where the system has none: the log is then written as before, with nothing to put
 * back. */
static void open_copy(struct rep_log *log, const char *path)
{
	char self[64];
	const char *slash = strrchr(path, '/');

	log->copy = log->reader = -1;
	if (strlen(path) >= sizeof(log->path) || log->folder < 0)
		return;
	snprintf(self, sizeof(self), "/proc/self/fd/%d", log->fd);
	log->reader = open(self, O_RDONLY | O_CLOEXEC);  /* the very file we opened */
	if (log->reader < 0)
		return;
	log->copy = openat(log->folder, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (log->copy < 0) {
		close(log->reader);
		log->reader = -1;
		return;
	}
	strcpy(log->path, path);
	log->base = slash ? log->path + (slash - path) + 1 : log->path;
}

/* Whether the log is written by another live session: each holds a shared flock on it from
 * open to close. Taking the exclusive lock proves that no other session holds one. flock
 * then turns it into a shared one, dropping it for a moment: a session that slips in there
 * and empties the file finds it empty still, as this one writes only after it is open.
 * Where the file system has no locks (some network ones), the file is taken as ours alone,
 * as before there were locks; so are sessions of a binary without them. */
static void lock_log(int fd, bool try_exclusive, bool *alone)
{
	*alone = true;
	if (try_exclusive && flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK)
		*alone = false;
	while (flock(fd, LOCK_SH) < 0 && errno == EINTR)
		;
}

int rep_log_open(struct rep_log *log, const char *path, bool append, struct wc_error *e)
{
	struct stat st;
	bool alone;
	int fd, r;

	memset(log, 0, sizeof(*log));
	log->fd = log->copy = log->reader = log->folder = -1;
	/* O_APPEND: every write lands at the end, even with another writer (tail -f, another
	 * session) on the same file. */
	fd = rep_file_open_at(path, O_APPEND, REP_DIRS_PARENT, &log->folder, e);
	if (fd < 0)
		return fd;
	log->fd = fd;
	if (fstat(fd, &st) < 0) {
		r = wc_fail(e, errno, "open %s", path);
		rep_log_close(log);
		return r;
	}
	/* A device or a FIFO (/dev/null, a reader's pipe) has nothing to empty, lock, sync or
	 * put back. */
	if (S_ISREG(st.st_mode)) {
		lock_log(fd, !append, &alone);
		if (!append && alone && ftruncate(fd, 0) < 0) {
			r = wc_fail(e, errno, "empty %s", path);
			rep_log_close(log);
			return r;
		}
		log->shared = !append && !alone;
		open_copy(log, path);
	}
	log->can_sync = S_ISREG(st.st_mode) || S_ISBLK(st.st_mode);
	return 0;
}

void rep_log_close(struct rep_log *log)
{
	if (log->fd >= 0) {  /* rep_log_open set copy and reader */
		if (log->copy >= 0)
			close(log->copy);
		if (log->reader >= 0)
			close(log->reader);
		if (log->folder >= 0)
			close(log->folder);
		close(log->fd);
	}
	log->fd = log->copy = log->reader = log->folder = -1;
}

/* After a write that failed part way (a full disk: the kernel writes what fits, then says
 * ENOSPC), takes the torn entry's written part back off the end, so that readers never see
 * half an entry. Only when the file still ends where this write ended: a later writer's
 * entry is never cut. */
static void take_back(int fd, size_t written)
{
	struct stat st;
	off_t end = lseek(fd, 0, SEEK_CUR);  /* O_APPEND: the end of what we wrote */

	if (written == 0 || end < (off_t)written || fstat(fd, &st) < 0 ||
	    !S_ISREG(st.st_mode) || st.st_size != end)
		return;
	while (ftruncate(fd, end - (off_t)written) < 0 && errno == EINTR)
		;
}

/* write(2) until all of it is written; EINTR and short writes are retried. A write that
 * fails part way is taken back (take_back). Returns 0, or -errno. */
static int write_all(int fd, const char *buf, size_t len)
{
	size_t written = 0;

	while (written < len) {
		ssize_t n = write(fd, buf + written, len - written);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int err = n < 0 ? errno : EIO;

			take_back(fd, written);
			return -err;
		}
		written += (size_t)n;
	}
	return 0;
}

/* Our first bytes are still where they landed: no one emptied or overwrote the file. */
static bool ours_intact(const struct rep_log *log)
{
	char now[sizeof(log->head)];

	return pread(log->reader, now, log->head_len, log->at) == (ssize_t)log->head_len &&
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
 * one, and what it writes there is no longer in the log. The new file is made in the
 * folder the log was opened in, through its descriptor: a folder on the log's path swapped
 * for a link since then (a test may do that) does not send it elsewhere. */
static int put_back(struct rep_log *log)
{
	char tmp[NAME_MAX + 1];
	int fd, r;

	if (snprintf(tmp, sizeof(tmp), "%s.wcmem-%d", log->base, (int)getpid()) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = openat(log->folder, tmp, O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	r = copy_into(log, fd);
	if (r == 0 && renameat(log->folder, tmp, log->folder, log->base) < 0)
		r = -errno;
	if (r < 0) {
		unlinkat(log->folder, tmp, 0);
		close(fd);
		return r;
	}
	while (flock(fd, LOCK_SH) < 0 && errno == EINTR)
		;
	close(log->fd);
	close(log->reader);
	log->fd = fd;
	log->reader = dup(fd);  /* ours, made here: reading it back needs no other descriptor */
	if (log->reader < 0) {
		close(log->copy);
		log->copy = -1;
	}
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

/* fdatasync()s what was written so far, when the file has durability (retried on EINTR).
 * A closed log, or one without durability (a pipe, a terminal), returns 0. Returns 0 or
 * -errno. */
static int rep_log_sync(struct rep_log *log)
{
	if (!log || log->fd < 0 || !log->can_sync)
		return 0;
	while (fdatasync(log->fd) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
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
	return sync ? rep_log_sync(log) : 0;
}
