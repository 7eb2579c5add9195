/* The event loop's helpers: errors as -errno, like every other function here. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "runner/session/loop.h"

static void test_timer_arm_returns_minus_errno(void **state)
{
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC), p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_true(fd >= 0);
	assert_int_equal(run_timer_arm(fd, 1000000, false), 0);
	assert_int_equal(run_timer_arm(fd, 0, false), 0);
	close(fd);
	assert_int_equal(run_timer_arm(-1, 1000000, false), -EBADF);
	assert_int_equal(run_timer_arm(p[0] /* not a timerfd */, 1000000, true), -EINVAL);
	close(p[0]);
	close(p[1]);
}

static void test_loop_add_reports_the_errno(void **state)
{
	struct run_loop l;
	struct run_watch w = { .fd = 999999, .fn = NULL, .obj = NULL };
	struct wc_error e;

	(void)state;
	assert_int_equal(run_loop_init(&l, &e), 0);
	assert_int_equal(run_loop_add(&l, &w, &e), -EBADF);
	assert_int_equal(e.err, EBADF);
	run_loop_close(&l);
	assert_int_equal(l.epfd, -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timer_arm_returns_minus_errno),
		cmocka_unit_test(test_loop_add_reports_the_errno),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
