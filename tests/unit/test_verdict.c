/* rep_verdict_oom, rep_verdict_text and rep_verdict_said, rep_format_mb and rep_format_size. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <string.h>

#include "report/verdict.h"

#define MIB UINT64_C(1048576)

/* A unit with a 512 MB own limit inside a 200 MB sandbox, ended by SIGKILL. */
static struct rep_unit killed_unit(bool v1)
{
	struct rep_unit u = {
		.name = "t", .kind = "test", .v1 = v1,
		.limit = 512 * MIB, .sandbox_limit = 200 * MIB,
		.end = REP_END_SIGNALED, .code = SIGKILL,
	};

	u.events.oom_kill = 1;
	return u;
}

/* Sets u->oom from the counters and returns the verdict's text. */
static const char *verdict(struct rep_unit *u)
{
	static char buf[256];

	u->oom = rep_verdict_oom(u);
	rep_verdict_text(u, buf, sizeof(buf));
	return buf;
}

/* A unit whose limit a budget file's line set: the verdict names the budget and the line,
 * distinct from its own limit; other limits read as before. */
static void test_verdict_budget_names_its_line(void **state)
{
	struct rep_unit u = killed_unit(false);
	char reason[REP_VERDICT_MAX];

	(void)state;
	u.events.oom = 1;
	u.limit = 210 * MIB;
	u.budget = "wcmem-budgets.ini:12";
	u.oom = rep_verdict_oom(&u);
	assert_string_equal(verdict(&u),
			    "OOM-killed: exceeded its budget 210 MB (wcmem-budgets.ini:12)");
	u.limit = 210 * MIB + 1;
	rep_verdict_reason(&u, reason, sizeof(reason));
	assert_string_equal(reason, "exceeded its budget 210.0 MB (wcmem-budgets.ini:12)");
	u.events.oom = 0;  /* the sandbox's total struck first: no budget's doing */
	u.sandbox_events.oom = 1;
	u.peak = 100 * MIB;
	assert_string_equal(verdict(&u), "OOM-killed: the sandbox total 200.0 MB was reached");
}

/* v2: oom_kill with the unit's own oom counter means its own limit. */
static void test_verdict_v2_own_limit(void **state)
{
	struct rep_unit u = killed_unit(false);

	(void)state;
	u.events.oom = 1;
	u.sandbox_events.oom = 1;  /* an ancestor's count includes ours: own wins */
	assert_string_equal(verdict(&u), "OOM-killed: exceeded its own limit 512.0 MB");
	assert_int_equal(u.oom, REP_OOM_OWN);
}

/* v2: oom_kill without an own oom, with the sandbox's oom: the sandbox total. */
static void test_verdict_v2_sandbox_total(void **state)
{
	struct rep_unit u = killed_unit(false);

	(void)state;
	u.sandbox_events.oom = 2;
	assert_string_equal(verdict(&u), "OOM-killed: the sandbox total 200.0 MB was reached");
	assert_int_equal(u.oom, REP_OOM_SANDBOX);
}

/* v2: a unit whose limit equals the sandbox's is OOM-killed at the sandbox (its kernel
 * memory is charged there): its peak at its own limit still makes the limit its own. */
static void test_verdict_v2_equal_limits_own(void **state)
{
	struct rep_unit u = killed_unit(false);

	(void)state;
	u.limit = u.sandbox_limit = 256 * MIB;
	u.peak = 256 * MIB;
	u.sandbox_events.oom = 1;
	assert_string_equal(verdict(&u), "OOM-killed: exceeded its own limit 256.0 MB");
	u.peak = 200 * MIB;  /* another unit held the rest: the total it is */
	assert_string_equal(verdict(&u), "OOM-killed: the sandbox total 256.0 MB was reached");
}

/* v2: oom_kill with no oom anywhere in the sandbox: a limit outside it, or the machine. */
static void test_verdict_v2_system(void **state)
{
	struct rep_unit u = killed_unit(false);

	(void)state;
	u.events.max = 5;  /* hitting max is not an OOM */
	assert_string_equal(verdict(&u), "OOM-killed: by the system (a limit outside the "
			    "sandbox, or the machine ran out)");
	assert_int_equal(u.oom, REP_OOM_SYSTEM);
}

/* v1 has no oom counter: failcnt (events.max) tells whose limit was hit. */
static void test_verdict_v1_uses_failcnt(void **state)
{
	struct rep_unit own = killed_unit(true), sandbox = killed_unit(true);
	struct rep_unit sys = killed_unit(true);

	(void)state;
	own.events.max = 3784;
	assert_int_equal(rep_verdict_oom(&own), REP_OOM_OWN);
	sandbox.sandbox_events.max = 1;
	assert_int_equal(rep_verdict_oom(&sandbox), REP_OOM_SANDBOX);
	sys.events.oom = 1;  /* not a v1 counter: ignored */
	assert_int_equal(rep_verdict_oom(&sys), REP_OOM_SYSTEM);
}

/* v1 with swap accounting counts no failcnt (memsw fails first, untracked): a peak that
 * reached a limit tells whose it was; one 4 MiB short of it still counts, 5 MiB does not. */
static void test_verdict_v1_peak_at_limit(void **state)
{
	struct rep_unit own = killed_unit(true), sandbox = killed_unit(true);
	struct rep_unit sys = killed_unit(true);

	(void)state;
	own.peak = 512 * MIB - 4 * MIB;
	own.sandbox_peak = 200 * MIB;  /* both reached: the unit's own limit is charged first */
	assert_int_equal(rep_verdict_oom(&own), REP_OOM_OWN);
	sandbox.peak = 199 * MIB;
	sandbox.sandbox_peak = 200 * MIB;
	assert_int_equal(rep_verdict_oom(&sandbox), REP_OOM_SANDBOX);
	sys.peak = 100 * MIB;
	sys.sandbox_peak = 195 * MIB - 1;
	assert_int_equal(rep_verdict_oom(&sys), REP_OOM_SYSTEM);
}

/* A unit the runner killed at its time limit says so, unless the OOM killer came first. */
static void test_verdict_timed_out(void **state)
{
	struct rep_unit u = killed_unit(false);

	(void)state;
	u.events.oom_kill = 0;
	u.timed_out = true;
	assert_string_equal(verdict(&u), "killed by SIGKILL at its time limit");
}

/* No oom_kill in the unit: no OOM verdict, whatever else was counted. */
static void test_verdict_no_oom_kill(void **state)
{
	struct rep_unit u = killed_unit(false);

	(void)state;
	u.events.oom_kill = 0;
	u.events.oom = 1;
	u.events.max = 9;
	u.sandbox_events.oom_kill = 1;
	assert_int_equal(rep_verdict_oom(&u), REP_OOM_NONE);
	assert_string_equal(verdict(&u), "killed by SIGKILL, not by the OOM killer");
}

/* Ordinary ends: exit codes and other signals. */
static void test_verdict_text_ordinary_ends(void **state)
{
	struct rep_unit u = { .name = "t", .limit = REP_UNLIMITED };

	(void)state;
	assert_string_equal(verdict(&u), "exited 0");
	u.code = 3;
	assert_string_equal(verdict(&u), "exited 3");
	u.end = REP_END_SIGNALED;
	u.code = SIGTERM;
	assert_string_equal(verdict(&u), "killed by SIGTERM");
	u.code = 100;  /* no name */
	assert_string_equal(verdict(&u), "killed by signal 100");
}

/* A command that could not start says why, from its 126/127 code, or 125 when the runner
 * failed before it could start it. */
static void test_verdict_text_not_started(void **state)
{
	struct rep_unit u = { .name = "t", .end = REP_END_NOT_RUN, .code = 127 };

	(void)state;
	assert_string_equal(verdict(&u), "not started: command not found");
	u.code = 126;
	assert_string_equal(verdict(&u), "not started: command not executable");
	u.code = 125;
	assert_string_equal(verdict(&u), "not started: wcmem-sandbox failed first");
	u.code = 3;
	assert_string_equal(verdict(&u), "not started (code 3)");
}

/* The main process survived (or died of another signal) while a process was OOM-killed. */
static void test_verdict_text_process_oom_killed(void **state)
{
	struct rep_unit u = killed_unit(false);

	(void)state;
	u.events.oom = 1;
	u.end = REP_END_EXITED;
	u.code = 0;
	assert_string_equal(verdict(&u),
			    "exited 0; a process was OOM-killed: exceeded its own limit 512.0 MB");
	u.end = REP_END_SIGNALED;
	u.code = SIGABRT;
	assert_string_equal(verdict(&u), "killed by SIGABRT; a process was OOM-killed: "
			    "exceeded its own limit 512.0 MB");
}

/* Returns the snprintf length even when the text is cut. */
static void test_verdict_text_truncates(void **state)
{
	struct rep_unit u = killed_unit(false);
	char buf[8];

	(void)state;
	u.events.oom = 1;
	u.oom = rep_verdict_oom(&u);
	assert_int_equal(rep_verdict_text(&u, buf, sizeof(buf)),
			 strlen("OOM-killed: exceeded its own limit 512.0 MB"));
	assert_string_equal(buf, "OOM-kil");
}

/* MiB with one decimal, rounded half up; UINT64_MAX is "max". */
static void test_format_mb_values(void **state)
{
	static const struct { uint64_t bytes; const char *want; } cases[] = {
		{ 0, "0.0 MB" },
		{ 512 * MIB, "512.0 MB" },
		{ 52428800, "50.0 MB" },
		{ MIB + 52428, "1.0 MB" },         /* 1.049999.. MiB */
		{ MIB + 52429, "1.1 MB" },         /* 1.050000.. MiB */
		{ 2 * MIB - 1, "2.0 MB" },         /* rounds into the next whole MiB */
		{ 537198592, "512.3 MB" },
		{ INT64_MAX, "8796093022208.0 MB" },
		{ UINT64_MAX, "max" },
	};
	char buf[32];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int n = rep_format_mb(cases[i].bytes, buf, sizeof(buf));

		assert_string_equal(buf, cases[i].want);
		assert_int_equal(n, strlen(cases[i].want));
	}
}

/* People's sizes: the binary unit that keeps the figure under 1024, one decimal, rounded
 * half up; a whole limit without its decimal. */
static void test_format_size_values(void **state)
{
	static const struct { uint64_t bytes; const char *want, *limit; } cases[] = {
		{ 0, "0.0 KiB", "0.0 KiB" },
		{ 819 * 1024, "819.0 KiB", "819 KiB" },
		{ MIB - 1, "1024.0 KiB", "1024.0 KiB" },  /* rounds, as free -h does */
		{ 512 * MIB, "512.0 MiB", "512 MiB" },
		{ 537198592, "512.3 MiB", "512.3 MiB" },
		{ 1536 * MIB, "1.5 GiB", "1.5 GiB" },
		{ 4096 * MIB, "4.0 GiB", "4 GiB" },
		{ 102400 * MIB, "100.0 GiB", "100 GiB" },
		{ 64ull << 40, "64.0 TiB", "64 TiB" },
		{ INT64_MAX, "8.0 EiB", "8.0 EiB" },
		{ UINT64_MAX, "max", "max" },
	};
	char buf[32];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int n = rep_format_size(cases[i].bytes, buf, sizeof(buf));

		assert_string_equal(buf, cases[i].want);
		assert_int_equal(n, strlen(cases[i].want));
		rep_format_size_limit(cases[i].bytes, buf, sizeof(buf));
		assert_string_equal(buf, cases[i].limit);
	}
}

/* The same verdict for people (MiB) and for the log (MB, its readers' unit). */
static void test_verdict_said_in_mib_logged_in_mb(void **state)
{
	struct rep_unit u = killed_unit(false);
	char log[REP_VERDICT_MAX], said[REP_VERDICT_MAX];

	(void)state;
	u.events.oom = 1;
	u.oom = rep_verdict_oom(&u);
	rep_verdict_text(&u, log, sizeof(log));
	rep_verdict_said(&u, said, sizeof(said));
	assert_string_equal(log, "OOM-killed: exceeded its own limit 512.0 MB");
	assert_string_equal(said, "OOM-killed: exceeded its own limit 512.0 MiB");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verdict_v2_own_limit),
		cmocka_unit_test(test_verdict_budget_names_its_line),
		cmocka_unit_test(test_verdict_v2_sandbox_total),
		cmocka_unit_test(test_verdict_v2_system),
		cmocka_unit_test(test_verdict_v2_equal_limits_own),
		cmocka_unit_test(test_verdict_v1_uses_failcnt),
		cmocka_unit_test(test_verdict_v1_peak_at_limit),
		cmocka_unit_test(test_verdict_timed_out),
		cmocka_unit_test(test_verdict_no_oom_kill),
		cmocka_unit_test(test_verdict_text_ordinary_ends),
		cmocka_unit_test(test_verdict_text_not_started),
		cmocka_unit_test(test_verdict_text_process_oom_killed),
		cmocka_unit_test(test_verdict_text_truncates),
		cmocka_unit_test(test_format_mb_values),
		cmocka_unit_test(test_format_size_values),
		cmocka_unit_test(test_verdict_said_in_mib_logged_in_mb),
	};

	return cmocka_run_group_tests_name("verdict", tests, NULL, NULL);
}
