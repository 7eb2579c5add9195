#include "cgroup/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

int cg_fs_open_at(int dirfd, const char *name, int flags)
{
	int fd = openat(dirfd, name, flags | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

void cg_fs_close(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

int cg_fs_pread(int fd, char *buf, size_t size)
{
	ssize_t n;

	do
		n = pread(fd, buf, size - 1, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return (int)n;
}

int cg_fs_read_at(int dirfd, const char *name, char *buf, size_t size)
{
	int fd = cg_fs_open_at(dirfd, name, O_RDONLY);
	int r;

	if (fd < 0)
		return fd;
	r = cg_fs_pread(fd, buf, size);
	close(fd);
	return r;
}

/* cgroupfs takes a value in one write(2) and refuses it whole: a short write never
 * happens, so one call either applied the value or returned why not. */
int cg_fs_write_fd(int fd, const char *text)
{
	size_t len = strlen(text);
	ssize_t n;

	do
		n = write(fd, text, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

int cg_fs_write_at(int dirfd, const char *name, const char *text)
{
	int fd = cg_fs_open_at(dirfd, name, O_WRONLY);
	int r;

	if (fd < 0)
		return fd;
	r = cg_fs_write_fd(fd, text);
	close(fd);
	return r;
}
