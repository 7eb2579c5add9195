/* cgroup/cleanup.h: what a _cleanup_ local releases on each way out of its scope, what a
 * steal leaves open, and errno kept across the cleanup. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cgroup/cleanup.h"

static bool fd_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

/* Opens /dev/null into a _cleanup_close_ local and returns its number; stolen, the caller
 * gets it open, else it is closed on the way out. */
static int open_and_return(bool steal, bool fail_early)
{
	_cleanup_close_ int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int number = fd;

	if (fail_early)
		return -number;  /* the early return: closed all the same */
	return steal ? steal_fd(&fd) : number;
}

static void test_close_on_every_return_and_not_when_stolen(void **state)
{
	int fd;

	(void)state;
	fd = -open_and_return(false, true);
	assert_true(fd >= 0);
	assert_false(fd_open(fd));
	fd = open_and_return(false, false);
	assert_false(fd_open(fd));
	fd = open_and_return(true, false);
	assert_true(fd_open(fd));
	close(fd);
}

/* A failed call's errno is read after the return's value is made, by the caller: the
 * cleanup that runs in between must not change it, not even when its own close fails
 * (closed is a number no longer open: close(2) says EBADF). */
static int fail_with_errno_kept(int closed)
{
	_cleanup_close_ int fd = closed;
	_cleanup_fclose_ FILE *f = fopen("/dev/null", "re");
	_cleanup_free_ char *text = strdup("x");

	(void)fd;
	(void)f;
	(void)text;
	errno = ENOSPC;
	return -1;
}

static void test_cleanup_keeps_errno(void **state)
{
	int closed = open("/dev/null", O_RDONLY | O_CLOEXEC);

	(void)state;
	assert_true(closed >= 0);
	close(closed);
	errno = 0;
	assert_int_equal(fail_with_errno_kept(closed), -1);
	assert_int_equal(errno, ENOSPC);
}

/* -1 and NULL are nothing to release (fclose and closedir of NULL would crash): a local
 * whose resource never came is harmless. */
static void test_nothing_held_is_nothing_released(void **state)
{
	(void)state;
	{
		_cleanup_close_ int fd = -1;
		_cleanup_fclose_ FILE *f = NULL;
		_cleanup_closedir_ DIR *d = NULL;
		_cleanup_free_ char *p = NULL;

		(void)fd;
		(void)f;
		(void)d;
		(void)p;
	}
}

static void test_steal_pointer_hands_it_out_and_leaves_null(void **state)
{
	_cleanup_free_ char *p = strdup("kept");
	char *out;

	(void)state;
	out = steal_pointer(&p);
	assert_null(p);
	assert_string_equal(out, "kept");
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_close_on_every_return_and_not_when_stolen),
		cmocka_unit_test(test_cleanup_keeps_errno),
		cmocka_unit_test(test_nothing_held_is_nothing_released),
		cmocka_unit_test(test_steal_pointer_hands_it_out_and_leaves_null),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
