/* When the runner writes on the migration lock to keep it warm (runner/session/warm.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "runner/session/warm.h"

#define MS 1000000ull
#define PERIOD (RUN_WARM_PERIOD_MS * MS)
#define WINDOW (RUN_WARM_WINDOW_MS * MS)

static const uint64_t t0 = 5000 * MS;  /* a START's move */

static void test_a_tick_a_period_after_the_move_writes(void **state)
{
	struct run_warm_step s = run_warm_plan(t0 + PERIOD, t0, t0 + WINDOW);

	(void)state;
	assert_true(s.move);
	assert_int_equal(s.next_ns, PERIOD);
}

static void test_a_late_tick_writes_and_comes_back_a_period_later(void **state)
{
	struct run_warm_step s = run_warm_plan(t0 + 3 * PERIOD, t0, t0 + WINDOW);

	(void)state;
	assert_true(s.move);
	assert_int_equal(s.next_ns, PERIOD);
}

static void test_a_recent_move_needs_no_write_until_its_period_ends(void **state)
{
	/* Short tests: each START's own move keeps the lock warm; the tick only waits. */
	uint64_t last = t0 + 5 * MS;
	struct run_warm_step s = run_warm_plan(t0 + PERIOD, last, last + WINDOW);

	(void)state;
	assert_false(s.move);
	assert_int_equal(s.next_ns, 5 * MS);
}

static void test_a_tick_a_moment_early_still_writes(void **state)
{
	struct run_warm_step s = run_warm_plan(t0 + PERIOD - MS / 2, t0, t0 + WINDOW);

	(void)state;
	assert_true(s.move);
}

static void test_past_the_window_the_last_write_is_made_and_ticks_stop(void **state)
{
	struct run_warm_step s = run_warm_plan(t0 + WINDOW, t0 + WINDOW - PERIOD, t0 + WINDOW);

	(void)state;
	assert_true(s.move);
	assert_int_equal(s.next_ns, 0);
	s = run_warm_plan(t0 + WINDOW + 2 * MS, t0 + WINDOW - MS, t0 + WINDOW);
	assert_false(s.move);
	assert_int_equal(s.next_ns, 0);
}

static void test_the_writes_in_a_window_are_bounded(void **state)
{
	/* A test that runs for ten windows: ticks exactly on time write once a period within
	 * the first window, and never after it. */
	uint64_t now = t0, last = t0, until = t0 + WINDOW;
	int writes = 0, ticks = 0;

	(void)state;
	for (;;) {
		struct run_warm_step s;

		now += PERIOD;
		s = run_warm_plan(now, last, until);
		ticks++;
		if (s.move) {
			writes++;
			last = now;
		}
		if (!s.next_ns)
			break;
		assert_true(ticks < 10 * (int)(WINDOW / PERIOD));
	}
	assert_int_equal(writes, (int)(WINDOW / PERIOD));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a_tick_a_period_after_the_move_writes),
		cmocka_unit_test(test_a_late_tick_writes_and_comes_back_a_period_later),
		cmocka_unit_test(test_a_recent_move_needs_no_write_until_its_period_ends),
		cmocka_unit_test(test_a_tick_a_moment_early_still_writes),
		cmocka_unit_test(test_past_the_window_the_last_write_is_made_and_ticks_stop),
		cmocka_unit_test(test_the_writes_in_a_window_are_bounded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
