/* rep_status_parse and rep_status_read against real /proc/PID/status files. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <unistd.h>

#include "report/status.h"
#include "unit.h"

/* A live process has all four fields, in kB as the kernel prints them. */
static void test_status_parse_live_process(void **state)
{
	char *text = unit_fixture("fixtures/v1/proc_self_status");
	struct rep_status s;

	(void)state;
	assert_int_equal(rep_status_parse(text, &s), 4);
	assert_int_equal(s.vm_peak, 3060);
	assert_int_equal(s.vm_size, 3060);
	assert_int_equal(s.vm_hwm, 1696);
	assert_int_equal(s.vm_rss, 1696);
	free(text);
}

/* A zombie and a kernel thread have no Vm lines: all fields stay -1. */
static void test_status_parse_no_vm_lines(void **state)
{
	static const char *const paths[] = {
		"fixtures/v1/proc_zombie_status",
		"fixtures/v1/proc_kthread_status",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		char *text = unit_fixture(paths[i]);
		struct rep_status s = { 1, 2, 3, 4 };

		assert_int_equal(rep_status_parse(text, &s), 0);
		assert_int_equal(s.vm_peak, -1);
		assert_int_equal(s.vm_size, -1);
		assert_int_equal(s.vm_hwm, -1);
		assert_int_equal(s.vm_rss, -1);
		free(text);
	}
}

/* Only the fields present are set; similar keys (VmPin, VmRSSx) are not taken. */
static void test_status_parse_partial(void **state)
{
	struct rep_status s;

	(void)state;
	assert_int_equal(rep_status_parse("Name:\tx\nVmPin:\t 7 kB\nVmRSS:\t  2048 kB\n", &s), 1);
	assert_int_equal(s.vm_rss, 2048);
	assert_int_equal(s.vm_peak, -1);
	assert_int_equal(rep_status_parse("VmRSSx:\t 5 kB\nVmHWM:\t9 kB", &s), 1);
	assert_int_equal(s.vm_rss, -1);
	assert_int_equal(s.vm_hwm, 9);
}

/* Values that are not numbers are treated as absent. */
static void test_status_parse_garbage(void **state)
{
	struct rep_status s;

	(void)state;
	assert_int_equal(rep_status_parse("VmPeak:\t -5 kB\nVmSize:\tlots kB\nVmHWM:\t12x\n", &s),
			 0);
	assert_int_equal(s.vm_peak, -1);
	assert_int_equal(s.vm_size, -1);
	assert_int_equal(s.vm_hwm, -1);
	assert_int_equal(rep_status_parse("", &s), 0);
}

/* The clear helper marks every field unknown. */
static void test_status_clear_all_unknown(void **state)
{
	struct rep_status s = { 1, 2, 3, 4 };

	(void)state;
	rep_status_clear(&s);
	assert_int_equal(s.vm_peak, -1);
	assert_int_equal(s.vm_size, -1);
	assert_int_equal(s.vm_hwm, -1);
	assert_int_equal(s.vm_rss, -1);
}

/* Our own process reads back four plausible values (peak >= size, HWM >= RSS). */
static void test_status_read_self(void **state)
{
	struct rep_status s;

	(void)state;
	assert_int_equal(rep_status_read(getpid(), &s), 4);
	assert_true(s.vm_rss > 0);
	assert_true(s.vm_peak >= s.vm_size);
	assert_true(s.vm_hwm >= s.vm_rss);
}

/* A process that does not exist is -ENOENT, with the fields cleared. */
static void test_status_read_missing_process(void **state)
{
	struct rep_status s = { 1, 2, 3, 4 };

	(void)state;
	/* Above the kernel's PID_MAX_LIMIT (2^22), so no process can have it. */
	assert_int_equal(rep_status_read(1 << 23, &s), -ENOENT);
	assert_int_equal(s.vm_rss, -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_parse_live_process),
		cmocka_unit_test(test_status_parse_no_vm_lines),
		cmocka_unit_test(test_status_parse_partial),
		cmocka_unit_test(test_status_parse_garbage),
		cmocka_unit_test(test_status_clear_all_unknown),
		cmocka_unit_test(test_status_read_self),
		cmocka_unit_test(test_status_read_missing_process),
	};

	return cmocka_run_group_tests_name("status", tests, NULL, NULL);
}
