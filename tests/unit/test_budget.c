/* The budget file (budget_parse), the peaks of a memory log (budget_log_peaks, on a
 * captured log) and the lines `wcmem-sandbox budget` writes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "runner/budget/budget.h"
#include "runner/config/config.h"
#include "runner/config/text.h"

#define MIB (UINT64_C(1) << 20)

/* "16.3 MB" as the log writes it, in bytes: 16.3 MiB, rounded down. */
#define LOG_MB(whole, tenths) ((uint64_t)(whole) * MIB + (uint64_t)(tenths) * MIB / 10)

static struct budget_peak *find_peak(struct budget_peak *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0)
			return &v[i];
	fail_msg("no peak for '%s' among %zu", name, n);
	return NULL;
}

/* A captured log (tests/suites/markers, one test OOM-killed and pytest resumed): every
 * TEST_END once, its peak, its date and run; the killed one is marked. */
static void test_log_peaks_capture(void **state)
{
	struct budget_peak *v = NULL, *p;
	struct wc_error e;
	size_t n = 0, len;
	char *text;

	(void)state;
	assert_int_equal(cfg_read_text("fixtures/budget/markers.log", "log", &text, &len, &e), 0);
	assert_int_equal(budget_log_peaks(text, len, &v, &n), 0);
	assert_int_equal(n, 6);
	p = find_peak(v, n, "test_markers.py::test_within_its_limit");
	assert_int_equal(p->peak, LOG_MB(16, 3));
	assert_false(p->killed);
	assert_string_equal(p->date, "2026-11-30");
	assert_string_equal(p->run, "wcmem-23376");
	p = find_peak(v, n, "test_markers.py::test_over_its_limit");
	assert_true(p->killed);
	assert_int_equal(p->peak, 24 * MIB);
	assert_int_equal(find_peak(v, n, "test_markers.py::test_unmarked")->peak, LOG_MB(0, 3));
	budget_peaks_free(v, n);
	free(text);
}

/* A test in two logs keeps its larger peak, with that run's date; the cgroup's memory.peak
 * counts when it is above "Peak memory"; an entry without a peak budgets nothing, one of
 * "0.0 MB" gets the floor. */
static void test_log_peaks_larger_wins(void **state)
{
	static const char one[] =
		"[2026-11-01T10:00:00.000001] SESSION_START: pytest\n"
		"  cgroup: wcmem-1 (cgroup v2)\n"
		"[2026-11-01T10:00:01.000001] TEST_END: t.py::a\n"
		"  Peak memory: 50.0 MB\n"
		"  cgroup: wcmem-1/u2\n"
		"    memory.peak: 52.5 MB\n"
		"[2026-11-01T10:00:02.000001] TEST_END: t.py::no_peak\n"
		"  Exit: code 0\n"
		"[2026-11-01T10:00:03.000001] TEST_END: t.py::tiny\n"
		"  Peak memory: 0.0 MB\n";
	static const char two[] =
		"[2026-11-02T10:00:00.000001] SESSION_START: pytest\n"
		"  cgroup: wcmem-2 (cgroup v2)\n"
		"[2026-11-02T10:00:01.000001] TEST_END: t.py::a\n"
		"  Peak memory: 40.0 MB\n";
	struct budget_peak *v = NULL;
	size_t n = 0;

	(void)state;
	assert_int_equal(budget_log_peaks(one, strlen(one), &v, &n), 0);
	assert_int_equal(budget_log_peaks(two, strlen(two), &v, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(v[0].peak, LOG_MB(52, 5));
	assert_string_equal(v[1].name, "t.py::tiny");  /* a peak under 0.05 MB is a peak */
	assert_int_equal(v[1].peak, 0);
	assert_string_equal(v[0].date, "2026-11-01");
	assert_string_equal(v[0].run, "wcmem-1");
	budget_peaks_free(v, n);
}

/* A test that shares a broader fixture set up in another test's unit needs that setup's
 * charge too (the largest of any run); one that set the fixture up itself does not (its
 * peak holds it), nor does a shared fixture no log saw set up. Lines repeat once. */
static void test_shared_fixtures_add_their_setup(void **state)
{
	static const char one[] =
		"[2026-11-01T10:00:01.000001] TEST_END: t.py::a\n"
		"  Peak memory: 120.0 MB\n"
		"  Fixture set up: 125829120 table\n"
		"  Fixture shared: gone\n"
		"[2026-11-01T10:00:02.000001] TEST_END: t.py::b\n"
		"  Peak memory: 4.0 MB\n"
		"  Fixture shared: table\n"
		"  Fixture shared: table\n"
		"[2026-11-01T10:00:03.000001] TEST_END: t.py::c\n"
		"  Peak memory: 40.0 MB\n"
		"  Fixture set up: 41943040 t.py::index\n"
		"  Fixture shared: table\n"
		"[2026-11-01T10:00:04.000001] TEST_END: t.py::d\n"
		"  Peak memory: 8.0 MB\n"
		"  Fixture shared: table\n"
		"  Fixture shared: t.py::index\n"
		"  Fixture set up: -5 bad\n"
		"  Fixture set up: 12\n";
	/* Reversed: b sets the table up, with a larger charge; a shares it. */
	static const char two[] =
		"[2026-11-02T10:00:01.000001] TEST_END: t.py::b\n"
		"  Peak memory: 130.0 MB\n"
		"  Fixture set up: 136314880 table\n"
		"[2026-11-02T10:00:02.000001] TEST_END: t.py::a\n"
		"  Peak memory: 1.0 MB\n"
		"  Fixture shared: table\n";
	struct budget_peak *v = NULL;
	size_t n = 0;

	(void)state;
	assert_int_equal(budget_log_peaks(one, strlen(one), &v, &n), 0);
	assert_int_equal(budget_add_shared(v, n), 0);
	assert_int_equal(find_peak(v, n, "t.py::a")->shared, 0);
	assert_int_equal(find_peak(v, n, "t.py::b")->shared, 120 * MIB);
	assert_int_equal(find_peak(v, n, "t.py::c")->shared, 120 * MIB);
	assert_int_equal(find_peak(v, n, "t.py::d")->shared, 160 * MIB);
	assert_int_equal(budget_need(find_peak(v, n, "t.py::d")), 168 * MIB);
	assert_string_equal(find_peak(v, n, "t.py::b")->fixtures, "=table\n");
	assert_int_equal(budget_log_peaks(two, strlen(two), &v, &n), 0);
	assert_int_equal(budget_add_shared(v, n), 0);
	/* a set the table up in one run and shared it in the other: its peak of 120 MB holds
	 * it; b's larger peak of the second run holds it too; c now adds the larger charge */
	assert_int_equal(find_peak(v, n, "t.py::a")->shared, 0);
	assert_int_equal(find_peak(v, n, "t.py::b")->shared, 0);
	assert_int_equal(find_peak(v, n, "t.py::c")->shared, 130 * MIB);
	budget_peaks_free(v, n);
}

/* A hostile charge cannot wrap the sum: it saturates, and the line says what was added. */
static void test_shared_fixtures_capped(void **state)
{
	static const char log[] =
		"[2026-11-01T10:00:01.000001] TEST_END: t.py::a\n"
		"  Peak memory: 1.0 MB\n"
		"  Fixture set up: 99999999999999999999999 x\n"
		"  Fixture set up: 18446744073709551615 y\n"
		"[2026-11-01T10:00:02.000001] TEST_END: t.py::b\n"
		"  Peak memory: 4.0 MB\n"
		"  Fixture shared: x\n"
		"  Fixture shared: y\n";
	struct budget_peak *v = NULL, *b;
	char line[400];
	size_t n = 0;

	(void)state;
	assert_int_equal(budget_log_peaks(log, strlen(log), &v, &n), 0);
	assert_int_equal(budget_add_shared(v, n), 0);
	b = find_peak(v, n, "t.py::b");
	assert_int_equal(b->shared, UINT64_C(2) << 50);
	assert_true(budget_need(b) > b->shared);
	strcpy(b->date, "2026-11-01");
	assert_true(budget_line(b, 20 * MIB, line, sizeof(line)) > 0);
	assert_non_null(strstr(line, "; peak 4.0 MB + shared fixtures "));
	budget_peaks_free(v, n);
}

/* The peak plus the margin, rounded up to a whole MiB, never under the floor. */
static void test_budget_from_peak(void **state)
{
	(void)state;
	assert_int_equal(budget_from_peak(LOG_MB(174, 9), 20, 16 * MIB), 210 * MIB);
	assert_int_equal(budget_from_peak(100 * MIB, 0, 16 * MIB), 100 * MIB);
	assert_int_equal(budget_from_peak(100 * MIB + 1, 0, 16 * MIB), 101 * MIB);
	assert_int_equal(budget_from_peak(LOG_MB(0, 3), 20, 16 * MIB), 16 * MIB);
	assert_int_equal(budget_from_peak(10 * MIB, 100, 0), 20 * MIB);
}

static void parse_ok(const char *text, struct budget_file *bf)
{
	struct wc_error e = { 0 };
	int r = budget_parse("b.ini", text, strlen(text), bf, &e);

	if (r != 0)
		fail_msg("budget_parse: %d: %s (%s)", r, e.msg, e.hint);
}

/* What budget_line writes, budget_parse reads back: the name whole (';', '%', '#' and blanks
 * at its ends encoded), the size, the line. */
static void test_line_round_trip(void **state)
{
	struct budget_peak p = { .name = "t.py::test_x[a; b #1 100%] ", .peak = 100 * MIB,
				 .date = "2026-11-30", .run = "wcmem-42" };
	char text[1024] = "; made by hand\n[budgets]\n";
	struct budget_file bf;
	struct budget *b;

	(void)state;
	assert_true(budget_line(&p, 120 * MIB, text + strlen(text), 400) > 0);
	assert_non_null(strstr(text, "test = 120M t.py::test_x[a%3B b %231 100%25]%20   ; "
				     "peak 100.0 MB, 2026-11-30, run wcmem-42"));
	strcat(text, "\n");
	parse_ok(text, &bf);
	assert_int_equal(bf.n, 1);
	b = budget_find(&bf, "t.py::test_x[a; b #1 100%] ");
	assert_non_null(b);
	assert_int_equal(b->bytes, 120 * MIB);
	assert_int_equal(b->line, 3);
	assert_string_equal(bf.path, "b.ini");
	assert_null(budget_find(&bf, "t.py::test_x"));
	budget_free(&bf);
}

/* A line that would not fit inih's buffer drops its comment, then is refused. */
static void test_line_too_long(void **state)
{
	char name[300], buf[1024];
	struct budget_peak p = { .name = name, .peak = MIB, .date = "2026-11-30", .run = "r" };

	(void)state;
	memset(name, 'a', sizeof(name));
	name[170] = '\0';
	buf[0] = '\0';
	assert_true(budget_line(&p, MIB, buf, sizeof(buf)) > 0);
	assert_null(strchr(buf, ';'));
	assert_true(strlen(buf) <= BUDGET_LINE_MAX);
	name[170] = 'a';
	name[299] = '\0';
	assert_int_equal(budget_line(&p, MIB, buf, sizeof(buf)), -E2BIG);
}

/* Every mistake is refused at its line, with what to do. */
static void test_parse_errors(void **state)
{
	static const struct { const char *text, *msg; } cases[] = {
		{ "test = 1M a\n", "b.ini:1: 'test' outside [budgets]" },
		{ "[budgets]\nlimit = 1M a\n", "b.ini:2: unknown key 'limit' in [budgets]" },
		{ "[budget]\n", "b.ini:1: unknown section '[budget]'" },
		{ "[budgets]\ntest = 1M\n", "b.ini:2: expected 'SIZE NODEID', got '1M'" },
		{ "[budgets]\ntest = 1Q a::b\n", "b.ini:2: bad SIZE '1Q' for a::b" },
		{ "[budgets]\ntest = max a::b\n", "b.ini:2: bad SIZE 'max' for a::b" },
		{ "[budgets]\ntest = 1M a%zz\n", "b.ini:2: bad %-escape in 'a%zz'" },
		{ "[budgets]\n; c\ntest = 1M a\n\ntest = 2M a\n",
		  "b.ini:5: a second budget for 'a' (first at line 3)" },
		{ "[budgets]\nnot a line\n", "b.ini:2: 'not a line' is not 'key = value'" },
	};
	struct budget_file bf;
	struct wc_error e;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&e, 0, sizeof(e));
		assert_int_equal(budget_parse("b.ini", cases[i].text, strlen(cases[i].text), &bf,
					      &e), -EINVAL);
		if (strncmp(e.msg, cases[i].msg, strlen(cases[i].msg)) != 0)
			fail_msg("case %zu: got '%s', want '%s...'", i, e.msg, cases[i].msg);
		assert_true(e.hint[0] != '\0');
		assert_int_equal(bf.n, 0);
	}
}

/* A line longer than inih reads is refused, never split. */
static void test_parse_long_line(void **state)
{
	char text[400] = "[budgets]\ntest = 1M ";
	struct budget_file bf;
	struct wc_error e;

	(void)state;
	memset(text + strlen(text), 'a', 250);
	assert_int_equal(budget_parse("b.ini", text, strlen(text), &bf, &e), -EINVAL);
	if (!strstr(e.msg, "b.ini:2: line of 260 characters: inih reads at most 197"))
		fail_msg("got '%s'", e.msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_log_peaks_capture),
		cmocka_unit_test(test_log_peaks_larger_wins),
		cmocka_unit_test(test_shared_fixtures_add_their_setup),
		cmocka_unit_test(test_shared_fixtures_capped),
		cmocka_unit_test(test_budget_from_peak),
		cmocka_unit_test(test_line_round_trip),
		cmocka_unit_test(test_line_too_long),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_parse_long_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
