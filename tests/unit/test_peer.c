/* Control clients by pidfd (runner/control/peer.c), on the fallback path of kernels before 6.5:
 * getsockopt is wrapped to refuse SO_PEERPIDFD as such a kernel does. The direct path runs
 * in the integration tests on any newer kernel. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runner/control/peer.h"

static int peerpidfd_asked;

int __real_getsockopt(int fd, int level, int name, void *val, socklen_t *len);
int __wrap_getsockopt(int fd, int level, int name, void *val, socklen_t *len);
int __wrap_getsockopt(int fd, int level, int name, void *val, socklen_t *len)
{
	if (level == SOL_SOCKET && name == 77) {  /* SO_PEERPIDFD: unknown before 6.5 */
		peerpidfd_asked++;
		errno = ENOPROTOOPT;
		return -1;
	}
	return __real_getsockopt(fd, level, name, val, len);
}

/* Without SO_PEERPIDFD the peer is pinned by pidfd_open; the probe is made once. */
static void test_peer_fallback_pins_a_live_peer(void **state)
{
	int sv[2], pidfd;
	pid_t pid = 0;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	pidfd = run_peer_open(sv[0], &pid);
	assert_true(pidfd >= 0);
	assert_int_equal(pid, getpid());
	assert_true(run_peer_alive(pidfd));
	close(pidfd);
	pidfd = run_peer_open(sv[1], &pid);
	assert_true(pidfd >= 0);
	close(pidfd);
	assert_int_equal(peerpidfd_asked, 1);  /* the answer of the probe is kept */
	close(sv[0]);
	close(sv[1]);
}

/* A peer that connected and is gone is never proven, whatever has its pid now. */
static void test_peer_fallback_refuses_a_peer_that_exited(void **state)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int lfd, cfd, pidfd;
	pid_t child, pid = 0;

	(void)state;
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(lfd >= 0);
	/* an abstract address: nothing to clean up */
	snprintf(addr.sun_path + 1, sizeof(addr.sun_path) - 1, "wcmem-test-peer-%d", getpid());
	assert_int_equal(bind(lfd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);

		_exit(connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0 ? 0 : 1);
	}
	assert_int_equal(waitpid(child, NULL, 0), child);
	cfd = accept(lfd, NULL, NULL);
	assert_true(cfd >= 0);
	pidfd = run_peer_open(cfd, &pid);
	assert_int_equal(pid, child);
	/* The pid is free (nothing on this machine forked that many meanwhile): no pidfd. A
	 * process that took it would be pinned instead, and refused by the membership check
	 * the caller makes (test_hostile.py proves that end to end). */
	assert_int_equal(pidfd, -ESRCH);
	close(cfd);
	close(lfd);
}

/* The flags of /proc/PID/stat, past a comm that holds spaces and parentheses. */
static void test_stat_flags(void **state)
{
	unsigned long flags = 0;

	(void)state;
	assert_int_equal(run_stat_flags("42 (a) b) S 1 42 42 0 -1 4194560 97 0 0\n", &flags), 0);
	assert_int_equal(flags, 4194560);
	assert_int_equal(run_stat_flags("7 (x) R 1 7 7 0 -1 4194308 1", &flags), 0);
	assert_true(flags & 0x4);  /* PF_EXITING */
	assert_int_equal(run_stat_flags("7 (x) R 1 7", &flags), -EINVAL);
	assert_int_equal(run_stat_flags("7 x R 1 7 7 0 -1 4 1", &flags), -EINVAL);
	assert_int_equal(run_stat_flags("7 (x) R 1 7 7 0 -1 z 1", &flags), -EINVAL);
}

/* The parent's pid of /proc/PID/stat, past a comm that holds spaces and parentheses. */
static void test_stat_ppid(void **state)
{
	pid_t ppid = 0;

	(void)state;
	assert_int_equal(run_stat_ppid("42 (a) b) S 17 42 42 0 -1 4194560 97\n", &ppid), 0);
	assert_int_equal(ppid, 17);
	assert_int_equal(run_stat_ppid("7 (x) R", &ppid), -EINVAL);
	assert_int_equal(run_stat_ppid("7 (x) R z 7", &ppid), -EINVAL);
	assert_int_equal(run_stat_ppid("7 (x) R 99999999999 7", &ppid), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_peer_fallback_pins_a_live_peer),
		cmocka_unit_test(test_peer_fallback_refuses_a_peer_that_exited),
		cmocka_unit_test(test_stat_flags),
		cmocka_unit_test(test_stat_ppid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
