/* rep_axis: the chart's ticks at round numbers. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "report/axis.h"

#define MIB 1048576.0

/* Every step is 1, 2 or 5 times a power of ten, and cuts the span into about the parts
 * asked for (Heckbert's rounding keeps it within a factor of 2.5 either way). */
static void test_axis_step_is_round(void **state)
{
	(void)state;
	for (double span = 0.0013; span < 1e7; span *= 1.37) {
		double step = rep_axis_step(span, 5), m = step;
		char text[64];

		while (m >= 10)
			m /= 10;
		while (m < 1)
			m *= 10;
		snprintf(text, sizeof(text), "%.6f", m);
		if (strcmp(text, "1.000000") && strcmp(text, "2.000000") && strcmp(text, "5.000000"))
			fail_msg("span %g: step %g is not 1, 2 or 5 times a power of ten", span, step);
		if (span / step < 5 / 2.5 || span / step > 5 * 2.5)
			fail_msg("span %g: step %g cuts it into %g parts, not about 5", span, step,
				 span / step);
	}
}

struct bytes_case {
	double max;
	const char *unit;
	double step, top;
	const char *label1;  /* tick 1's */
};

/* Sizes: MB below 2 GiB, GB above; the top is a tick above the largest figure. */
static void test_axis_bytes(void **state)
{
	static const struct bytes_case cases[] = {
		{ 512 * MIB, "MB", 100, 600, "100 MB" },      /* a limit on a tick: room above */
		{ 1024 * MIB, "MB", 200, 1200, "200 MB" },
		{ 256 * MIB, "MB", 50, 300, "50 MB" },
		{ 330 * MIB, "MB", 50, 350, "50 MB" },
		{ 1 * MIB, "MB", 0.2, 1.2, "0.2 MB" },
		{ 3072 * MIB, "GB", 0.5, 3.5, "0.5 GB" },
		{ 24 * 1024 * MIB, "GB", 5, 25, "5 GB" },
	};
	char label[32];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rep_axis x = rep_axis_bytes(cases[i].max);

		assert_string_equal(x.unit, cases[i].unit);
		assert_true(x.step > cases[i].step * 0.999 && x.step < cases[i].step * 1.001);
		assert_true(x.top > cases[i].top * 0.999 && x.top < cases[i].top * 1.001);
		assert_string_equal(rep_axis_label(&x, 1, label, sizeof(label)), cases[i].label1);
	}
}

/* Times: s, then min past 2 minutes, h past 2 hours; labels print the step's decimals
 * exactly (0.3, never 0.30000000000000004). */
static void test_axis_seconds(void **state)
{
	char label[32];
	struct rep_axis x;

	(void)state;
	x = rep_axis_seconds(4.8);
	assert_string_equal(rep_axis_label(&x, 9, label, sizeof(label)), "4.5 s");
	x = rep_axis_seconds(0.8);
	assert_string_equal(rep_axis_label(&x, 3, label, sizeof(label)), "0.3 s");
	x = rep_axis_seconds(3600);
	assert_string_equal(rep_axis_label(&x, 2, label, sizeof(label)), "20 min");
	x = rep_axis_seconds(3 * 3600);
	assert_string_equal(rep_axis_label(&x, 1, label, sizeof(label)), "0.5 h");
	assert_true(x.top > 2.999 && x.top < 3.001);  /* the run's own end, not a tick's */
	x = rep_axis_seconds(0);
	assert_string_equal(rep_axis_label(&x, 1, label, sizeof(label)), "0.1 s");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_axis_step_is_round),
		cmocka_unit_test(test_axis_bytes),
		cmocka_unit_test(test_axis_seconds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
