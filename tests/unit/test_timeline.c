/* rep_timeline: the lines of the memory timeline. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>

#include "report/timeline.h"
#include "unit.h"

#define MIB (1ULL << 20)

/* A session's header, the command alone, a test beside it, an unreadable figure, the test
 * gone: an "@" line only when the open units change. */
static void test_timeline_golden(void **state)
{
	struct rep_session s = { .start = { 1764506350, 644998000 }, .limit = 512 * MIB };
	struct rep_tl_state st = { 0 };
	struct rep_tl_unit cmd = { "u1", 20 * MIB + 400 * 1024 };
	struct rep_tl_unit both[2] = { cmd, { "u5", 255 * MIB } };
	char buf[4096];
	size_t len = 0;
	int n;

	(void)state;
	setenv("TZ", "UTC", 1);
	n = rep_timeline_format_head(buf, sizeof(buf), &s, 100000000);
	assert_true(n > 0);
	len += (size_t)n;
	n = rep_timeline_format_sample(buf + len, sizeof(buf) - len, &st, 125, 21 * MIB, &cmd, 1);
	len += (size_t)n;
	n = rep_timeline_format_sample(buf + len, sizeof(buf) - len, &st, 100, 22 * MIB, &cmd, 1);
	len += (size_t)n;
	n = rep_timeline_format_sample(buf + len, sizeof(buf) - len, &st, 100, 276 * MIB, both, 2);
	len += (size_t)n;
	both[1].current = REP_UNKNOWN;
	n = rep_timeline_format_sample(buf + len, sizeof(buf) - len, &st, 101, REP_UNKNOWN, both, 2);
	len += (size_t)n;
	n = rep_timeline_format_sample(buf + len, sizeof(buf) - len, &st, 99, 21 * MIB, &cmd, 1);
	len += (size_t)n;
	assert_true(n > 0);
	unit_assert_golden(buf, "golden/timeline.txt");
}

/* A buffer too small is -ENOSPC, and the units stay as they were: the "@" line is written
 * with the next sample that fits. */
static void test_timeline_too_small(void **state)
{
	struct rep_tl_state st = { 0 };
	struct rep_tl_unit u = { "u1", MIB };
	char buf[64];

	(void)state;
	assert_int_equal(rep_timeline_format_sample(buf, 8, &st, 100, MIB, &u, 1), -ENOSPC);
	assert_int_equal(st.written, 0);
	assert_int_equal(rep_timeline_format_sample(buf, sizeof(buf), &st, 100, MIB, &u, 1),
			 (int)strlen("@ u1\n100 1.0 1.0\n"));
	assert_string_equal(buf, "@ u1\n100 1.0 1.0\n");
}

/* An hour at 100 ms of a pytest run (the command and a test of up to 4 GB open, a new test
 * every second) is under 1 MB. */
static void test_timeline_an_hour_is_under_1mb(void **state)
{
	struct rep_tl_state st = { 0 };
	char names[2][16], buf[256];
	struct rep_tl_unit u[2] = { { names[0], 300 * MIB }, { names[1], 0 } };
	size_t total = 0;

	(void)state;
	snprintf(names[0], sizeof(names[0]), "u1");
	for (unsigned long i = 0; i < 36000; i++) {
		snprintf(names[1], sizeof(names[1]), "u%lu", 2 + i / 10);
		u[1].current = (i * 7919 % 4096) * MIB;
		total += (size_t)rep_timeline_format_sample(buf, sizeof(buf), &st, 100,
							    u[0].current + u[1].current, u, 2);
	}
	assert_in_range(total, 1, (1 << 20) - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timeline_golden),
		cmocka_unit_test(test_timeline_too_small),
		cmocka_unit_test(test_timeline_an_hour_is_under_1mb),
	};

	return cmocka_run_group_tests_name("timeline", tests, NULL, NULL);
}
