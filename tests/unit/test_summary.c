/* The end-of-run summary, against golden text captured with open_memstream. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>

#include "report/summary.h"
#include "report/verdict.h"
#include "report_units.h"
#include "unit.h"

#define MIB UINT64_C(1048576)
#define GIB (MIB * 1024)

/* Runs rep_summary_write into memory and returns the text (free it). */
static char *summary(const struct rep_unit *units, size_t n, const struct rep_session *s)
{
	return ru_write(rep_summary_write, units, n, s);
}

/* One command, OOM-killed by its own limit on cgroup v1, log off. */
static void test_summary_single_command_oom(void **state)
{
	const char *cmd = "python3 -c 'b = bytearray(2 << 30)'";
	struct rep_unit u = {
		.name = (char *)cmd, .kind = "command", .v1 = true,
		.limit = 512 * MIB, .sandbox_limit = 512 * MIB, .peak = 512 * MIB,
		.end = REP_END_SIGNALED, .code = SIGKILL,
	};
	struct rep_session s = {
		.command = cmd, .backend = "cgroup v1", .limit = 512 * MIB,
		.peak = 537198592, .units = 1, .oom_killed = 1, .log_path = NULL,
	};
	char *text;

	(void)state;
	u.events.max = 3784;
	u.events.oom_kill = 1;
	u.oom = rep_verdict_oom(&u);
	text = summary(&u, 1, &s);
	unit_assert_golden(text, "golden/summary_single.txt");
	free(text);
}

/* Several units: one aligned line each; escaped names; unknown and unlimited figures. */
static void test_summary_table_of_units(void **state)
{
	struct rep_unit units[4] = {
		{ .name = "pytest -q tests", .kind = "command", .limit = REP_UNLIMITED,
		  .peak = 130 * MIB, .end = REP_END_EXITED, .code = 1 },
		{ .name = "tests/test_a.py::test_small", .kind = "test", .limit = 3 * GIB,
		  .peak = 210239488, .end = REP_END_EXITED, .code = 0 },
		{ .name = "tests/test_a.py::test_big[\x1b[2J]", .kind = "test",
		  .limit = 3 * GIB, .sandbox_limit = 4 * GIB, .peak = 3000 * MIB,
		  .end = REP_END_SIGNALED, .code = SIGKILL, .location = "tests/test_a.py:12" },
		{ .name = "tests/test_b.py::test_killed", .kind = "test", .limit = 3 * GIB,
		  .peak = REP_UNKNOWN, .end = REP_END_SIGNALED, .code = SIGKILL },
	};
	struct rep_session s = {
		.command = "pytest -q tests", .backend = "cgroup v2", .limit = 4 * GIB,
		.peak = 4 * GIB, .units = 4, .oom_killed = 1,
		.log_path = "/home/ada/.weathercop/test_memory.log",
	};
	char *text;

	(void)state;
	units[2].events.oom_kill = 1;
	units[2].sandbox_events.oom = 1;
	for (size_t i = 0; i < 4; i++)
		units[i].oom = rep_verdict_oom(&units[i]);
	text = summary(units, 4, &s);
	unit_assert_golden(text, "golden/summary_table.txt");
	assert_null(strchr(text, '\x1b'));
	free(text);
}

/* Of many tests only the biggest are listed, biggest first; a killed one among the rest
 * still gets its line for the editors. */
static void test_summary_lists_biggest_tests_only(void **state)
{
	struct rep_unit units[REP_SUMMARY_BIGGEST + 3];
	struct rep_session s = { .command = "pytest", .limit = 4 * GIB, .peak = GIB };
	char names[REP_SUMMARY_BIGGEST + 3][32], *text;
	size_t n = REP_SUMMARY_BIGGEST + 3;

	(void)state;
	memset(units, 0, sizeof(units));
	for (size_t i = 0; i < n; i++) {
		snprintf(names[i], sizeof(names[i]), "t.py::test_%02zu", i);
		units[i] = (struct rep_unit){ .name = names[i], .kind = "test", .limit = GIB,
					      .peak = (i + 1) * MIB, .outcome = "passed" };
	}
	units[0].end = REP_END_SIGNALED;  /* the smallest, and killed: not in the top list */
	units[0].code = SIGKILL;
	units[0].outcome = NULL;
	units[0].events.oom_kill = 1;
	units[0].location = "t.py:3";
	units[0].oom = rep_verdict_oom(&units[0]);
	text = summary(units, n, &s);
	assert_non_null(strstr(text, "the 10 biggest of 13 tests by peak:"));
	assert_true(strstr(text, "test_12") < strstr(text, "test_03"));  /* biggest first */
	assert_null(strstr(text, "test_01 "));
	assert_null(strstr(text, "test_02 "));
	assert_non_null(strstr(text, "\nt.py:3: test_00 OOM-killed (peak 1.0 MiB, limit 1.0 GiB, by the system)\n"));
	free(text);
}

/* Once pytest's own summary listed the tests (TOP), ours names where, not them again; the
 * killed test keeps its line. In colour, the verdicts are red, green, yellow. */
static void test_summary_leaves_the_list_to_pytest_and_colours(void **state)
{
	struct rep_unit units[3] = {
		{ .name = "pytest", .kind = "command", .limit = GIB, .peak = 60 * MIB, .code = 1 },
		{ .name = "t.py::test_big", .kind = "test", .limit = GIB, .peak = GIB,
		  .end = REP_END_SIGNALED, .code = SIGKILL, .location = "t.py:3" },
		{ .name = "t.py::test_ok", .kind = "test", .limit = GIB, .peak = 2 * MIB,
		  .outcome = "passed" },
	};
	struct rep_session s = { .command = "pytest", .limit = 4 * GIB, .peak = GIB,
				 .tests_shown = true, .colour = true };
	char *text;

	(void)state;
	units[1].events.oom_kill = 1;
	units[1].events.max = 1;
	units[1].oom = rep_verdict_oom(&units[1]);
	text = summary(units, 3, &s);
	assert_non_null(strstr(text, "\n  2 tests: the biggest by peak in pytest's summary above"));
	assert_null(strstr(text, "biggest of"));
	assert_null(strstr(text, "test_ok"));
	assert_non_null(strstr(text, "\nt.py:3: test_big \033[1;31mOOM-killed\033[0m (peak"));
	assert_non_null(strstr(text, "limit 1.0 GiB  \033[31mexited 1\033[0m\n"));
	free(text);
}

/* Tests whose records were let go (smaller than those shown) still count. */
static void test_summary_counts_tests_let_go(void **state)
{
	struct rep_unit units[2] = {
		{ .name = "pytest", .kind = "command", .limit = GIB, .peak = 9 * MIB },
		{ .name = "t.py::test_a", .kind = "test", .limit = GIB, .peak = 5 * MIB,
		  .outcome = "passed" },
	};
	struct rep_session s = { .command = "pytest", .limit = GIB, .peak = GIB,
				 .tests_dropped = 1998 };
	char *text;

	(void)state;
	text = summary(units, 2, &s);
	assert_non_null(strstr(text, "the 1 biggest of 1999 tests by peak:"));
	assert_non_null(strstr(text, "wcmem-sandbox: 2000 units, 0 OOM-killed;"));
	free(text);
}

/* A process outside every unit that the OOM killer took counts among the kills, and is
 * named with the unit that ran then; none, and the footer reads as before. */
static void test_summary_counts_kills_outside_units(void **state)
{
	struct rep_unit units[3] = {
		{ .name = "pytest", .kind = "command", .limit = GIB, .peak = 9 * MIB },
		{ .name = "t.py::test_a", .kind = "test", .limit = GIB, .peak = 5 * MIB,
		  .outcome = "passed" },
		{ .name = "t.py::test_b", .kind = "test", .limit = GIB, .peak = 5 * MIB,
		  .outcome = "passed", .outside_kills = 2 },
	};
	struct rep_session s = { .command = "pytest", .limit = GIB, .peak = GIB,
				 .outside_kills = 2 };
	char *text;

	(void)state;
	text = summary(units, 3, &s);
	assert_non_null(strstr(text, "wcmem-sandbox: 3 units, 2 OOM-killed (2 outside every "
			       "unit: left running by a test); sandbox peak"));
	assert_non_null(strstr(text, "wcmem-sandbox: 2 processes left running outside every "
			       "unit were OOM-killed while t.py::test_b ran\n"));
	free(text);
	units[2].outside_kills = s.outside_kills = 0;
	text = summary(units, 3, &s);
	assert_non_null(strstr(text, "wcmem-sandbox: 3 units, 0 OOM-killed; sandbox peak"));
	assert_null(strstr(text, "outside every unit"));
	free(text);
}

/* With budgets: the tests that went over theirs and those under half of theirs, each with
 * the file's line; a test without a budget, or at more than half, is in neither list. */
static void test_summary_lists_over_and_under_half_budget(void **state)
{
	struct rep_unit units[5] = {
		{ .name = "pytest", .kind = "command", .limit = GIB, .peak = 90 * MIB },
		{ .name = "t.py::test_grew", .kind = "test", .limit = 210 * MIB, .peak = 210 * MIB,
		  .budget = "b.ini:12", .end = REP_END_SIGNALED, .code = SIGKILL,
		  .events = { .oom = 1, .oom_kill = 1 } },
		{ .name = "t.py::test_slim", .kind = "test", .limit = 64 * MIB, .peak = 10 * MIB,
		  .budget = "b.ini:3", .outcome = "passed" },
		{ .name = "t.py::test_fits", .kind = "test", .limit = 64 * MIB, .peak = 40 * MIB,
		  .budget = "b.ini:4", .outcome = "passed" },
		{ .name = "t.py::test_free", .kind = "test", .limit = GIB, .peak = MIB,
		  .outcome = "passed" },
	};
	struct rep_session s = { .command = "pytest", .limit = GIB, .peak = GIB };
	char *text;

	(void)state;
	for (size_t i = 0; i < 5; i++)
		units[i].oom = rep_verdict_oom(&units[i]);
	text = summary(units, 5, &s);
	if (!strstr(text, "  over their budget (1 test):\n"
			  "    t.py::test_grew  peak 210.0 MiB  budget 210 MiB (b.ini:12)\n"
			  "  under half their budget, candidates to tighten (1 test):\n"
			  "    t.py::test_slim  peak 10.0 MiB  budget 64 MiB (b.ini:3)\n"
			  "wcmem-sandbox: 5 units"))
		fail_msg("the budget lists are missing from:\n%s", text);
	assert_non_null(strstr(text, "OOM-killed: exceeded its budget 210 MiB (b.ini:12)"));
	free(text);
}

/* After resumes the end says how many tests were killed, how many resumes, and their
 * cost; without one it says nothing of resumes. */
static void test_summary_says_what_resuming_cost(void **state)
{
	struct rep_unit units[3] = {
		{ .name = "pytest", .kind = "command", .limit = GIB, .peak = 9 * MIB },
		{ .name = "t.py::test_a", .kind = "test", .limit = GIB, .peak = GIB,
		  .end = REP_END_SIGNALED, .code = SIGKILL },
		{ .name = "t.py::test_b", .kind = "test", .limit = GIB, .peak = GIB,
		  .end = REP_END_SIGNALED, .code = SIGKILL },
	};
	struct rep_session s = { .command = "pytest", .limit = 2 * GIB, .peak = GIB,
				 .resumes = 2, .standby_resumes = 1, .resume_seconds = 3.0 };
	char *text, *line;

	(void)state;
	for (size_t i = 1; i < 3; i++) {
		units[i].events.oom_kill = 1;
		units[i].oom = rep_verdict_oom(&units[i]);
	}
	text = summary(units, 3, &s);
	line = strstr(text, "wcmem-sandbox: 2 tests");
	assert_string_equal(line ? line : text, "wcmem-sandbox: 2 tests OOM-killed, 2 resumes "
			    "(1 by the collected copy, 1 restart); resuming took 3.0 s in all "
			    "(1.5 s a resume)\n");  /* the last line */
	free(text);
	s.resumes = 0;
	text = summary(units, 3, &s);
	assert_null(strstr(text, "resum"));
	free(text);
}

/* A test the sandbox total killed beside others says it runs again, not how to rerun it;
 * the end says how many ran again and how long STARTs waited for room; without either it
 * says neither. */
static void test_summary_says_what_sharing_the_total_cost(void **state)
{
	struct rep_unit units[3] = {
		{ .name = "pytest", .kind = "command", .limit = GIB, .peak = 9 * MIB },
		{ .name = "t.py::test_a", .kind = "test", .limit = GIB, .peak = GIB / 2,
		  .sandbox_limit = GIB, .end = REP_END_SIGNALED, .code = SIGKILL,
		  .location = "t.py:3", .beside = true, .rerun = true },
		{ .name = "t.py::test_a", .kind = "test", .limit = GIB, .peak = GIB / 2,
		  .location = "t.py:3" },
	};
	struct rep_session s = { .command = "pytest", .limit = GIB, .peak = GIB,
				 .rerun = "wcmem-sandbox -- pytest", .reruns = 1, .waited = 3,
				 .wait_seconds = 4.25, .wait_longest = 2.0 };
	char *text, *line;

	(void)state;
	units[1].events.oom_kill = 1;
	units[1].sandbox_events.oom = 1;
	units[1].oom = rep_verdict_oom(&units[1]);
	assert_int_equal(units[1].oom, REP_OOM_SANDBOX);
	text = summary(units, 3, &s);
	assert_non_null(strstr(text, "t.py:3: test_a OOM-killed (peak 512.0 MiB, limit 1.0 GiB, "
			       "the sandbox total)\n  run again, alone: the sandbox total was "
			       "reached while other tests ran\n"));
	assert_null(strstr(text, "rerun alone:"));
	line = strstr(text, "wcmem-sandbox: 1 test run");
	assert_string_equal(line ? line : text, "wcmem-sandbox: 1 test run again, alone: the "
			    "sandbox total killed it while other tests ran\nwcmem-sandbox: 3 tests "
			    "waited for room in the sandbox, 4.2 s in all (longest 2.0 s)\n");
	free(text);
	s.reruns = s.waited = 0;
	units[1].rerun = false;
	text = summary(units, 3, &s);
	assert_null(strstr(text, "run again"));
	assert_null(strstr(text, "waited"));
	assert_non_null(strstr(text, "rerun alone:"));
	free(text);
}

/* --expect: the summary says where admission's expected peaks came from (the path
 * escaped, as every text from outside), before what waiting cost; without it, nothing. */
static void test_summary_names_where_expected_peaks_came_from(void **state)
{
	struct rep_unit u = { .name = "t.py::a", .kind = "test", .limit = GIB, .peak = MIB };
	struct rep_session s = { .command = "pytest", .limit = GIB, .peak = GIB, .waited = 1,
				 .wait_seconds = 1.0, .wait_longest = 1.0,
				 .expect = "wc/test\nmemory.log", .expect_tests = 1 };
	char *text, *line;

	(void)state;
	text = summary(&u, 1, &s);
	line = strstr(text, "wcmem-sandbox: admission:");
	assert_string_equal(line ? line : text, "wcmem-sandbox: admission: expected peaks of 1 "
			    "test from wc/test\\nmemory.log\nwcmem-sandbox: 1 test waited for "
			    "room in the sandbox, 1.0 s in all (longest 1.0 s)\n");
	free(text);
	s.expect_tests = 4;
	text = summary(&u, 1, &s);
	assert_non_null(strstr(text, "expected peaks of 4 tests from"));
	free(text);
	s.expect = NULL;
	text = summary(&u, 1, &s);
	assert_null(strstr(text, "admission"));
	free(text);
}

/* No units (nothing ran) and no limit: only the closing line. */
static void test_summary_no_units_no_limit(void **state)
{
	struct rep_session s = {
		.command = "true", .backend = "cgroup v2", .limit = REP_UNLIMITED,
		.peak = REP_UNKNOWN, .log_path = "log",
	};
	char *text;

	(void)state;
	text = summary(NULL, 0, &s);
	assert_string_equal(text, "wcmem-sandbox: 0 units, 0 OOM-killed; sandbox peak unknown, "
			    "no limit (cgroup v2); log: log\n");
	free(text);
}

/* A stream that cannot be written is reported as an error, not ignored. */
static void test_summary_write_error(void **state)
{
	struct rep_session s = { .command = "true", .peak = REP_UNKNOWN };
	FILE *f = fopen("/dev/full", "we");

	(void)state;
	assert_non_null(f);
	assert_int_equal(rep_summary_write(f, NULL, 0, &s), -ENOSPC);
	fclose(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_summary_single_command_oom),
		cmocka_unit_test(test_summary_table_of_units),
		cmocka_unit_test(test_summary_lists_biggest_tests_only),
		cmocka_unit_test(test_summary_leaves_the_list_to_pytest_and_colours),
		cmocka_unit_test(test_summary_counts_tests_let_go),
		cmocka_unit_test(test_summary_lists_over_and_under_half_budget),
		cmocka_unit_test(test_summary_says_what_resuming_cost),
		cmocka_unit_test(test_summary_says_what_sharing_the_total_cost),
		cmocka_unit_test(test_summary_names_where_expected_peaks_came_from),
		cmocka_unit_test(test_summary_no_units_no_limit),
		cmocka_unit_test(test_summary_counts_kills_outside_units),
		cmocka_unit_test(test_summary_write_error),
	};

	return cmocka_run_group_tests_name("summary", tests, NULL, NULL);
}
