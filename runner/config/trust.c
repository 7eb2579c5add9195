/* Refusing config files that others could have planted or changed (trust.h). */
#include "runner/config/trust.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

/* The owner of a file we obey: ourselves or root (who could change it anyway). */
static bool trusted_owner(uid_t uid)
{
	return uid == geteuid() || uid == 0;
}

/* A file found but not read, and why. Returns -EPERM with e. */
static int refuse(struct wc_error *e, const char *path, const char *why)
{
	wc_fail(e, 0, "%s is not read: %s", path, why);  /* no errno: the reason is all */
	wc_hint(e, "a config file found by the search is read only when it is a regular file "
		"of yours or root's that no one else may write; fix it, or name it with --config");
	return -EPERM;
}

/* The file st, opened as path: may we obey it? Returns 0, or -EPERM with e. */
static int check_file(const struct stat *st, const char *path, struct wc_error *e)
{
	char why[128];

	if (S_ISFIFO(st->st_mode))
		return refuse(e, path, "it is a FIFO, not a regular file");
	if (!S_ISREG(st->st_mode))
		return refuse(e, path, "it is not a regular file");
	if (!trusted_owner(st->st_uid)) {
		snprintf(why, sizeof(why), "it belongs to user %u, neither you nor root",
			 (unsigned)st->st_uid);
		return refuse(e, path, why);
	}
	if (st->st_mode & S_IWOTH) {
		snprintf(why, sizeof(why), "anyone may write it (mode %03o)",
			 (unsigned)(st->st_mode & 0777));
		return refuse(e, path, why);
	}
	/* A user's own group (Debian's user private groups, umask 002) is theirs alone. */
	if ((st->st_mode & S_IWGRP) && st->st_gid != getegid()) {
		snprintf(why, sizeof(why), "group %u, not yours, may write it (mode %03o)",
			 (unsigned)st->st_gid, (unsigned)(st->st_mode & 0777));
		return refuse(e, path, why);
	}
	return 0;
}

/* path is a symbolic link (lstat: link): follows it when it is ours or root's, and the
 * link is still that one once the file is open. Returns the descriptor, or -errno with e. */
static int open_link(const char *path, const struct stat *link, struct wc_error *e)
{
	struct stat again;
	char why[128];
	int fd, r;

	if (!trusted_owner(link->st_uid)) {
		snprintf(why, sizeof(why), "it is a symbolic link that user %u made",
			 (unsigned)link->st_uid);
		return refuse(e, path, why);
	}
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ENOENT : wc_fail(e, errno, "open %s", path);
	/* A link's target cannot change, only the link: the same link is the same target. */
	if (lstat(path, &again) < 0 || again.st_dev != link->st_dev ||
	    again.st_ino != link->st_ino) {
		r = refuse(e, path, "it was replaced while it was being opened");
		close(fd);
		return r;
	}
	return fd;
}

int cfg_open_trusted(const char *path, struct wc_error *e)
{
	struct stat st;
	int fd, r;

	/* Looked at first: a device or a FIFO is refused before it is opened. A folder on the
	 * way that we may not search counts as not there: it hides nothing we could read
	 * anyway (HOME=/root left in the environment of another user, as `sudo -u` does). */
	if (lstat(path, &st) < 0)
		return errno == ENOENT || errno == ENOTDIR || errno == EACCES ? -ENOENT :
		       wc_fail(e, errno, "%s", path);
	if (S_ISLNK(st.st_mode)) {
		fd = open_link(path, &st, e);
	} else {
		r = check_file(&st, path, e);
		if (r < 0)
			return r;
		/* O_NOFOLLOW: a link put there since is not followed; O_NONBLOCK: nor is a
		 * FIFO waited on. What was opened is checked again below. */
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
		if (fd < 0)
			return errno == ELOOP ? refuse(e, path, "it was replaced by a symbolic link")
					      : wc_fail(e, errno, "%s: cannot read the config file", path);
	}
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0)
		r = wc_fail(e, errno, "%s", path);
	else
		r = check_file(&st, path, e);
	if (r == 0 && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0)
		r = wc_fail(e, errno, "%s", path);
	if (r < 0) {
		close(fd);
		return r;
	}
	return fd;
}
