/* The error record: wc_fail, wc_hint, wc_wrap, wc_error_text. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "cgroup/error.h"

static void test_fail_clears_the_hint_and_returns_minus_errno(void **state)
{
	struct wc_error e;

	(void)state;
	wc_fail(&e, EACCES, "write %s", "memory.max");
	wc_hint(&e, "run as root");
	assert_int_equal(wc_fail(&e, ENOENT, "open %s", "x"), -ENOENT);
	assert_string_equal(e.msg, "open x");
	assert_string_equal(e.hint, "");
}

/* A bad input has no errno, yet it is an error: -EINVAL, never 0 (which callers read as
 * success). */
static void test_fail_without_errno_is_einval(void **state)
{
	struct wc_error e;

	(void)state;
	assert_int_equal(wc_fail(&e, 0, "bad value '%s'", "x"), -EINVAL);
	assert_int_equal(e.err, 0);
	assert_int_equal(wc_fail(NULL, 0, "nowhere"), -EINVAL);
}

static void test_wrap_keeps_errno_and_hint_and_adds_context(void **state)
{
	struct wc_error inner, outer;
	char buf[1200];

	(void)state;
	wc_fail(&inner, EACCES, "create cgroup %s", "/sys/fs/cgroup/a");
	wc_hint(&inner, "delegate the cgroup to you");
	assert_int_equal(wc_wrap(&outer, &inner, "unit %s", "u3"), -EACCES);
	assert_string_equal(outer.msg, "unit u3: create cgroup /sys/fs/cgroup/a");
	assert_string_equal(outer.hint, "delegate the cgroup to you");
	assert_int_equal(outer.err, EACCES);
	assert_string_equal(wc_error_text(&outer, buf, sizeof(buf)),
			    "unit u3: create cgroup /sys/fs/cgroup/a: Permission denied\n"
			    "  delegate the cgroup to you");
}

static void test_wrap_into_itself_and_without_context(void **state)
{
	struct wc_error e;

	(void)state;
	wc_fail(&e, ENOSPC, "write log");
	wc_hint(&e, "free some disk");
	assert_int_equal(wc_wrap(&e, &e, "session %d", 7), -ENOSPC);
	assert_string_equal(e.msg, "session 7: write log");
	assert_string_equal(e.hint, "free some disk");
	assert_int_equal(wc_wrap(&e, &e, NULL), -ENOSPC);
	assert_string_equal(e.msg, "session 7: write log");
	assert_int_equal(wc_wrap(NULL, &e, "x"), -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fail_clears_the_hint_and_returns_minus_errno),
		cmocka_unit_test(test_fail_without_errno_is_einval),
		cmocka_unit_test(test_wrap_keeps_errno_and_hint_and_adds_context),
		cmocka_unit_test(test_wrap_into_itself_and_without_context),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
