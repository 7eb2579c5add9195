/* Control clients by pidfd (peer.h). */
#include "runner/control/peer.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <dirent.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>
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

/* The nth number after the comm of /proc/PID/stat text: ") S ppid pgrp session tty_nr
 * tpgid flags", the ppid is the 2nd, the flags the 7th. Returns 0, or -EINVAL. */
static int stat_field(const char *text, int nth, unsigned long *value)
{
	const char *p = strrchr(text, ')');  /* the comm may hold anything, ')' too */
	char *end;

	for (int field = 0; p && field < nth; field++)
		p = strchr(p + 1, ' ');
	if (!p)
		return -EINVAL;
	errno = 0;
	*value = strtoul(p + 1, &end, 10);
	return end == p + 1 || errno || (*end != ' ' && *end != '\n' && *end) ? -EINVAL : 0;
}

int run_stat_flags(const char *text, unsigned long *flags)
{
	return stat_field(text, 7, flags);
}

int run_stat_ppid(const char *text, pid_t *ppid)
{
	unsigned long v;
	int r = stat_field(text, 2, &v);

	if (r == 0 && v > INT_MAX)
		r = -EINVAL;
	if (r == 0)
		*ppid = (pid_t)v;
	return r;
}

/* /proc/PID/stat into text. Returns 0, or -errno (-ESRCH: no such process). */
static int read_stat(pid_t pid, char *text, size_t size)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	n = read(fd, text, size - 1);
	close(fd);
	if (n <= 0)
		return n < 0 ? -errno : -ESRCH;
	text[n] = '\0';
	return 0;
}

int run_peer_parent(pid_t pid, int pidfd, pid_t *ppid)
{
	char text[1024];
	int r = read_stat(pid, text, sizeof(text));

	if (r == 0)
		r = run_stat_ppid(text, ppid);
	/* Read of our process only when it still lives afterwards. */
	return r == 0 && !run_peer_alive(pidfd) ? -ESRCH : r;
}

#define PF_EXITING 0x4  /* include/linux/sched.h */

bool run_peer_exiting(pid_t pid, int pidfd)
{
	char text[1024];
	unsigned long flags;

	if (read_stat(pid, text, sizeof(text)) < 0)
		return true;
	/* Read of our process only when it still lives afterwards. */
	return run_stat_flags(text, &flags) < 0 || (flags & PF_EXITING) || !run_peer_alive(pidfd);
}

int run_peer_socket(int fd, unsigned long *ino)
{
	struct {
		struct nlmsghdr nlh;
		struct unix_diag_req req;
	} ask = {
		.nlh = { .nlmsg_len = sizeof(ask), .nlmsg_type = SOCK_DIAG_BY_FAMILY,
			 .nlmsg_flags = NLM_F_REQUEST },
		.req = { .sdiag_family = AF_UNIX, .udiag_states = ~0u,
			 .udiag_show = UDIAG_SHOW_PEER, .udiag_cookie = { ~0u, ~0u } },
	};
	union {
		struct nlmsghdr nlh;
		char buf[512];
	} got;
	struct unix_diag_msg *msg;
	struct rtattr *a;
	struct stat st;
	ssize_t n;
	int nl, len;

	if (fstat(fd, &st) < 0)
		return -errno;
	ask.req.udiag_ino = (unsigned)st.st_ino;
	nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (nl < 0)
		return -errno;
	n = send(nl, &ask, sizeof(ask), 0) < 0 ? -1 : recv(nl, &got, sizeof(got), 0);
	len = (int)n;
	close(nl);
	if (n < 0)
		return -errno;
	if (!NLMSG_OK(&got.nlh, (unsigned)len) || got.nlh.nlmsg_type != SOCK_DIAG_BY_FAMILY)
		return -ENOENT;  /* NLMSG_ERROR: the kernel knows no such socket, or no diag */
	msg = NLMSG_DATA(&got.nlh);
	len = (int)got.nlh.nlmsg_len - NLMSG_LENGTH(sizeof(*msg));
	for (a = (struct rtattr *)(msg + 1); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == UNIX_DIAG_PEER && RTA_PAYLOAD(a) >= sizeof(uint32_t)) {
			*ino = *(uint32_t *)RTA_DATA(a);
			return 0;
		}
	}
	return -ENOENT;  /* no peer: the other end is closed */
}

/* Whether /proc/PID/fd/FD is the socket ino. */
static bool fd_is(pid_t pid, const char *fd, const char *want)
{
	char path[64], link[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/fd/%s", (int)pid, fd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return false;
	link[n] = '\0';
	return strcmp(link, want) == 0;
}

int run_peer_holds(pid_t pid, int pidfd, unsigned long ino, int *hint)
{
	char want[40], path[64], num[16];
	struct dirent *de;
	bool held = false;
	DIR *d;

	snprintf(want, sizeof(want), "socket:[%lu]", ino);
	snprintf(num, sizeof(num), "%d", *hint);
	if (*hint >= 0 && fd_is(pid, num, want))
		return run_peer_alive(pidfd) ? 1 : -ESRCH;
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	if (!d)
		return -errno;
	while (!held && (de = readdir(d))) {
		if (de->d_name[0] != '.' && fd_is(pid, de->d_name, want)) {
			held = true;
			*hint = atoi(de->d_name);
		}
	}
	closedir(d);
	/* Read of this process only if it still lives: its pid is not another's yet. */
	if (!run_peer_alive(pidfd))
		return -ESRCH;
	return held;
}
