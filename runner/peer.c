/* Control clients by pidfd (peer.h). */
#include "runner/peer.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77  /* 6.5 */
#endif

/* 0: not probed yet; 1: the kernel has SO_PEERPIDFD; -1: it has not. */
static int peerpidfd_works;

static int peer_pidfd_direct(int fd)
{
	int pidfd = -1;
	socklen_t len = sizeof(pidfd);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) < 0)
		return -errno;
	return pidfd;
}

int run_peer_open(int fd, pid_t *pid)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int pidfd;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return -errno;
	if (cred.pid <= 0)
		return -ESRCH;
	*pid = cred.pid;
	if (peerpidfd_works >= 0) {
		pidfd = peer_pidfd_direct(fd);
		if (pidfd != -ENOPROTOOPT && pidfd != -EINVAL) {
			peerpidfd_works = 1;
			return pidfd;  /* the process that connected, or -ESRCH: it is gone */
		}
		peerpidfd_works = -1;
	}
	/* Before 6.5: the pid SO_PEERCRED kept may have been reused since connect(). The pidfd
	 * pins whichever process has it now; the caller checks that one is inside the sandbox
	 * (an outside process that took the number is refused). */
	pidfd = (int)syscall(SYS_pidfd_open, *pid, 0);
	return pidfd < 0 ? -errno : pidfd;
}

bool run_peer_alive(int pidfd)
{
	return pidfd >= 0 && syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) == 0;
}

int run_stat_flags(const char *text, unsigned long *flags)
{
	const char *p = strrchr(text, ')');  /* the comm may hold anything, ')' too */
	char *end;

	/* ") S ppid pgrp session tty_nr tpgid flags": the flags are the 7th field after it */
	for (int field = 0; p && field < 7; field++)
		p = strchr(p + 1, ' ');
	if (!p)
		return -EINVAL;
	errno = 0;
	*flags = strtoul(p + 1, &end, 10);
	return end == p + 1 || errno || (*end != ' ' && *end != '\n' && *end) ? -EINVAL : 0;
}

#define PF_EXITING 0x4  /* include/linux/sched.h */

bool run_peer_exiting(pid_t pid, int pidfd)
{
	char path[64], text[1024];
	unsigned long flags;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return true;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return true;
	text[n] = '\0';
	/* Read of our process only when it still lives afterwards. */
	return run_stat_flags(text, &flags) < 0 || (flags & PF_EXITING) || !run_peer_alive(pidfd);
}
