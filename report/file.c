/* Report files opened without following what others planted (file.h). */
#include "report/file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup/cleanup.h"

/* A folder anyone may create names in, where only a name's owner may remove it: /tmp. */
static bool shared_folder(const struct stat *dir)
{
	return (dir->st_mode & S_ISVTX) && (dir->st_mode & S_IWOTH);
}

/* Whether st, found in the folder dir, could have been put there by someone else: in a
 * shared folder, made neither by us nor by the folder's owner (fs.protected_symlinks and
 * protected_regular say the same). */
static bool planted(const struct stat *dir, const struct stat *st)
{
	return shared_folder(dir) && st->st_uid != geteuid() && st->st_uid != dir->st_uid;
}

/* Opens the folder name in dirfd (the folder at dirpath), creating it when allowed, and
 * following a link only when it cannot have been planted. Returns a new O_PATH descriptor,
 * or -errno with e. */
static int open_folder(int dirfd, const char *name, bool create, const char *dirpath,
		       struct wc_error *e)
{
	const int flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
	struct stat dir, st;
	int fd = openat(dirfd, name, flags | O_NOFOLLOW), r;

	if (fd >= 0)
		return fd;
	if (errno == ENOENT && create) {
		if (mkdirat(dirfd, name, 0755) < 0 && errno != EEXIST)
			return wc_fail(e, errno, "create folder %s", dirpath);
		fd = openat(dirfd, name, flags | O_NOFOLLOW);  /* what we made: no link */
		return fd >= 0 ? fd : wc_fail(e, errno, "open folder %s", dirpath);
	}
	if (errno == ENOENT)
		return wc_fail(e, errno, "create folder %s", dirpath);  /* not ours to create */
	if (errno != ENOTDIR && errno != ELOOP)
		return wc_fail(e, errno, "open folder %s", dirpath);
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || fstat(dirfd, &dir) < 0)
		return wc_fail(e, errno, "open folder %s", dirpath);
	if (!S_ISLNK(st.st_mode))
		return wc_fail(e, ENOTDIR, "open folder %s", dirpath);
	if (planted(&dir, &st)) {
		r = wc_fail(e, EPERM, "follow %s, a link that user %u made in a world-writable "
			     "sticky folder", dirpath, (unsigned)st.st_uid);
		wc_hint(e, "name the real folder, or one that is not shared");
		return r;
	}
	fd = openat(dirfd, name, flags);
	return fd >= 0 ? fd : wc_fail(e, errno, "open folder %s", dirpath);
}

/* Walks path's folders from / or the current folder. Returns an O_PATH descriptor of the
 * file's folder with *base set to the file's name in it, or -errno with e. */
static int walk(const char *path, enum rep_dirs dirs, const char **base, struct wc_error *e)
{
	const char *p = path, *slash;
	int dirfd = open(*p == '/' ? "/" : ".", O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (dirfd < 0)
		return wc_fail(e, errno, "open %s", path);
	while ((slash = strchr(p, '/'))) {
		char name[NAME_MAX + 1], dirpath[PATH_MAX];
		size_t n = (size_t)(slash - p);
		int fd;

		if (n == 0 || (n == 1 && *p == '.')) {  /* "//", "/./" and the leading "/" */
			p = slash + 1;
			continue;
		}
		if (n > NAME_MAX || (size_t)(slash - path) >= sizeof(dirpath)) {
			close(dirfd);
			return wc_fail(e, ENAMETOOLONG, "open %s", path);
		}
		memcpy(name, p, n);
		name[n] = '\0';
		memcpy(dirpath, path, (size_t)(slash - path));
		dirpath[slash - path] = '\0';
		p = slash + 1;
		/* Only the file's own folder when REP_DIRS_PARENT: the rest must exist. */
		fd = open_folder(dirfd, name, dirs == REP_DIRS_ALL ||
				 (dirs == REP_DIRS_PARENT && !strchr(p, '/')), dirpath, e);
		close(dirfd);
		if (fd < 0)
			return fd;
		dirfd = fd;
	}
	*base = p;
	return dirfd;
}

/* The file fd, just opened as base in dirfd: refused when someone else may have planted
 * it. Returns 0 or -errno with e. */
static int check_opened(int dirfd, int fd, bool created, const char *path, struct wc_error *e)
{
	struct stat dir, st;
	int r;

	if (fstat(dirfd, &dir) < 0 || fstat(fd, &st) < 0)
		return wc_fail(e, errno, "open %s", path);
	if (created || !shared_folder(&dir))
		return 0;
	if (planted(&dir, &st))
		r = wc_fail(e, EPERM, "write %s, which user %u owns in a world-writable sticky "
			     "folder", path, (unsigned)st.st_uid);
	else if (S_ISREG(st.st_mode) && st.st_nlink > 1)
		r = wc_fail(e, EPERM, "write %s, which has %lu names (hard links) in a "
			     "world-writable sticky folder", path, (unsigned long)st.st_nlink);
	else
		return 0;
	wc_hint(e, "remove it, or name a file in a folder that is not shared");
	return r;
}

int rep_file_open_at(const char *path, int extra, enum rep_dirs dirs, int *folder,
		     struct wc_error *e)
{
	/* O_NONBLOCK: a FIFO nobody reads fails (ENXIO) instead of hanging the run. */
	const int flags = O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | extra;
	const char *base;
	bool created = true;
	_cleanup_close_ int dirfd = -1, fd = -1;
	int r;

	if (!*path)
		return wc_fail(e, ENOENT, "open ''");
	dirfd = walk(path, dirs, &base, e);
	if (dirfd < 0)
		return dirfd;
	if (!*base)
		return wc_fail(e, EISDIR, "open %s", path);
	fd = openat(dirfd, base, flags | O_CREAT | O_EXCL, 0644);
	if (fd < 0 && errno == EEXIST) {
		created = false;
		fd = openat(dirfd, base, flags);
	}
	if (fd < 0) {
		int err = errno;

		r = wc_fail(e, err, err == ELOOP ? "open %s (a symbolic link: not followed)" :
			     "open %s", path);
		if (err == ELOOP)
			wc_hint(e, "report files are never written through a symbolic link (one "
				 "planted in a shared folder could make the runner overwrite any "
				 "file): name the file itself");
		else if (err == ENXIO)
			wc_hint(e, "%s is a FIFO that no process reads: start its reader first",
				 path);
		return r;
	}
	r = check_opened(dirfd, fd, created, path, e);
	if (r == 0 && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0)
		r = wc_fail(e, errno, "open %s", path);
	if (r < 0)
		return r;
	if (folder)
		*folder = steal_fd(&dirfd);  /* the caller's now */
	return steal_fd(&fd);
}

int rep_file_open(const char *path, int extra, enum rep_dirs dirs, struct wc_error *e)
{
	return rep_file_open_at(path, extra, dirs, NULL, e);
}

/* "-": a stream of its own on standard output, which closing it leaves open. */
static int open_stdout(FILE **f, struct wc_error *e)
{
	int fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);

	if (fd < 0)
		return wc_fail(e, errno, "open standard output");
	*f = fdopen(fd, "w");
	if (!*f) {
		close(fd);
		return wc_fail(e, errno, "open standard output");
	}
	return 0;
}

int rep_file_open_report(const char *path, enum rep_dirs dirs, FILE **f, struct wc_error *e)
{
	struct stat st;
	_cleanup_close_ int fd = -1;

	*f = NULL;
	if (strcmp(path, "-") == 0)
		return open_stdout(f, e);
	fd = rep_file_open(path, 0, dirs, e);
	if (fd < 0)
		return fd;
	/* Emptied only now that we know it is a file of ours (truncating at open would have
	 * emptied a planted link's target before the checks). */
	if (fstat(fd, &st) < 0 || (S_ISREG(st.st_mode) && ftruncate(fd, 0) < 0) ||
	    !(*f = fdopen(fd, "w")))
		return wc_fail(e, errno, "open %s", path);
	steal_fd(&fd);  /* *f owns it now */
	return 0;
}

/* What st is, for an error that says why it is not read. */
static const char *file_kind(mode_t mode)
{
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISCHR(mode) || S_ISBLK(mode))
		return "a device";
	if (S_ISSOCK(mode))
		return "a socket";
	return "not a regular file";
}

/* st (of path) is something we read whole: a regular file. Returns 0, or -errno with e. */
static int readable_kind(const struct stat *st, const char *path, const char *what,
			 struct wc_error *e)
{
	if (S_ISREG(st->st_mode))
		return 0;
	if (S_ISDIR(st->st_mode))
		return wc_fail(e, EISDIR, "%s: cannot read the %s", path, what);
	wc_fail(e, 0, "%s: cannot read the %s: it is %s, not a regular file", path, what,
		file_kind(st->st_mode));
	return wc_hint(e, "name a regular file: reading %s could wait forever for a writer",
		       file_kind(st->st_mode));
}

int rep_file_open_read(const char *path, const char *what, struct wc_error *e)
{
	struct stat st;
	int fd, r;

	/* Looked at before it is opened: opening a device may do something (a tape rewinds);
	 * then checked again on what was opened, which is what is read. */
	if (stat(path, &st) < 0)
		return wc_fail(e, errno, "%s: cannot read the %s", path, what);
	r = readable_kind(&st, path, what, e);
	if (r < 0)
		return r;
	/* O_NONBLOCK: a FIFO put there since is opened at once, not waited on, and refused. */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return wc_fail(e, errno, "%s: cannot read the %s", path, what);
	if (fstat(fd, &st) < 0)
		r = wc_fail(e, errno, "%s: cannot read the %s", path, what);
	else
		r = readable_kind(&st, path, what, e);
	if (r == 0 && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0)
		r = wc_fail(e, errno, "%s: cannot read the %s", path, what);
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}
