/* The unit records that test_junit.c and test_json.c format: one of each kind of ending, and
 * a test name full of what XML and JSON must escape. Include after <cmocka.h>. */
#ifndef WCMEM_TESTS_REPORT_UNITS_H
#define WCMEM_TESTS_REPORT_UNITS_H

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "report/log.h"
#include "report/record.h"
#include "report/verdict.h"

#define RU_MIB UINT64_C(1048576)
#define RU_NUNITS 7

/* 2025-11-25T17:33:48.134701Z plus s seconds */
static inline struct timespec ru_time(long s, long us)
{
	return (struct timespec){ 1764092028 + s, (134701 + us) * 1000 };
}

static inline void ru_units(struct rep_unit u[RU_NUNITS], struct rep_session *s)
{
	static const char *const not_run[] = { "memory", "slow & <big>" };  /* two suites after */

	static const struct rep_status st = { 15192, 15032, 13356, 12368 };
	static const struct rep_status none = { -1, -1, -1, -1 };

	memset(u, 0, RU_NUNITS * sizeof(*u));
	/* a suite that passed */
	u[0] = (struct rep_unit){ .name = "small", .kind = "suite", .cgroup = "wcmem-42/u1",
		.v1 = true, .start = ru_time(0, 22000), .start_elapsed = 0.022, .duration = 0.115,
		.limit = 256 * RU_MIB, .sandbox_limit = 1024 * RU_MIB, .peak = 7217152,
		.current = 270336, .sandbox_peak = 7479296, .sandbox_current = 532480, .pid = 4243,
		.status_start = st, .status_end = st, .end = REP_END_EXITED, .code = 0 };
	/* a suite OOM-killed by its own limit (cgroup v1 counters) */
	u[1] = (struct rep_unit){ .name = "blowup", .kind = "suite", .cgroup = "wcmem-42/u2",
		.v1 = true, .start = ru_time(0, 140000), .start_elapsed = 0.14, .duration = 0.19,
		.limit = 64 * RU_MIB, .sandbox_limit = 1024 * RU_MIB, .peak = 64 * RU_MIB,
		.current = 0, .sandbox_peak = 67227648, .sandbox_current = 0, .pid = 4250,
		.status_start = st, .status_end = none, .end = REP_END_SIGNALED, .code = SIGKILL };
	u[1].events.max = 3;
	u[1].events.oom_kill = 1;
	/* a command that was not found */
	u[2] = (struct rep_unit){ .name = "nosuch --flag", .kind = "command",
		.cgroup = "wcmem-42/u3", .start = ru_time(0, 400000), .start_elapsed = 0.4,
		.duration = 0.001, .limit = REP_UNLIMITED, .sandbox_limit = REP_UNLIMITED,
		.peak = REP_UNKNOWN, .current = REP_UNKNOWN, .sandbox_peak = REP_UNKNOWN,
		.sandbox_current = REP_UNKNOWN, .pid = 4251, .status_start = none,
		.status_end = none, .end = REP_END_NOT_RUN, .code = 127 };
	/* a skipped test whose name holds what XML and JSON must escape, control characters,
	 * UTF-8 and a byte that is not UTF-8 */
	u[3] = (struct rep_unit){ .name = "tests/test_x.py::TestA::test_b[\x1b[2J<&>\"'\x01\t\xc3\xa9\xff]",
		.kind = "test", .cgroup = "wcmem-42/u4", .start = ru_time(1, 0),
		.start_elapsed = 1.0, .duration = 0.0005, .limit = 256 * RU_MIB,
		.sandbox_limit = 1024 * RU_MIB, .peak = 1 * RU_MIB, .current = 0,
		.sandbox_peak = REP_UNKNOWN, .sandbox_current = REP_UNKNOWN, .pid = 4252,
		.status_start = st, .status_end = st, .end = REP_END_EXITED, .code = 0,
		.outcome = "skipped", .location = "tests/test_x.py:12", .message = "no network" };
	/* a test that pytest failed, with extras from the plugin */
	u[4] = (struct rep_unit){ .name = "tests/test_x.py::test_c", .kind = "test",
		.cgroup = "wcmem-42/u5", .start = ru_time(1, 100), .start_elapsed = 1.0001,
		.duration = 0.25, .limit = 256 * RU_MIB, .sandbox_limit = 1024 * RU_MIB,
		.peak = 30 * RU_MIB, .current = 0, .sandbox_peak = 40 * RU_MIB,
		.sandbox_current = 10 * RU_MIB, .pid = 4252, .status_start = st, .status_end = st,
		.end = REP_END_EXITED, .code = 0, .outcome = "failed",
		.location = "tests/test_x.py:20", .extras_end = "  GC: collections=3\n",
		.message = "assert 1 == 2",
		.failure = "    def test_c():\n>       assert 1 == 2\nE       assert 1 == 2\n\n"
			   "tests/test_x.py:21: AssertionError" };
	/* a suite killed at its time limit */
	u[5] = (struct rep_unit){ .name = "slow", .kind = "suite", .cgroup = "wcmem-42/u6",
		.start = ru_time(2, 0), .start_elapsed = 2.0, .duration = 60.0,
		.limit = 256 * RU_MIB, .sandbox_limit = 1024 * RU_MIB, .peak = 2 * RU_MIB,
		.current = 0, .sandbox_peak = 67227648, .sandbox_current = 0, .pid = 4260,
		.status_start = st, .status_end = st, .end = REP_END_SIGNALED, .code = SIGKILL,
		.timed_out = true, .left_behind = 1 };
	/* a suite that exited 0 though a process of it was killed by the sandbox total (v2) */
	u[6] = (struct rep_unit){ .name = "children", .kind = "suite", .cgroup = "wcmem-42/u7",
		.start = ru_time(62, 0), .start_elapsed = 62.0, .duration = 1.5,
		.limit = 2048 * RU_MIB, .sandbox_limit = 1024 * RU_MIB, .peak = 1000 * RU_MIB,
		.current = 0, .sandbox_peak = 1024 * RU_MIB, .sandbox_current = 0, .pid = 4270,
		.status_start = st, .status_end = st, .end = REP_END_EXITED, .code = 0 };
	u[6].events.oom_kill = 1;
	u[6].events.oom_group_kill = 0;
	u[6].sandbox_events.oom = 1;
	u[6].sandbox_events.max = 12;
	for (int i = 0; i < RU_NUNITS; i++)
		u[i].oom = rep_verdict_oom(&u[i]);

	*s = (struct rep_session){ .start = ru_time(0, 0), .elapsed = 63.75,
		.command = "wcmem-sandbox --profile ci", .cgroup = "wcmem-42",
		.backend = "cgroup v1", .limit = 1024 * RU_MIB, .test_limit = 256 * RU_MIB,
		.swap = 0, .peak = 1024 * RU_MIB, .units = RU_NUNITS, .oom_killed = 2,
		.exit_status = 137, .warm_moves = 42, .log_path = "/tmp/ci/memory.log",
		.not_run = not_run, .n_not_run = 2,
		.not_run_why = "stopping after an OOM kill (stop_on_oom)" };
}

/* What put(f, text) prints, as a string (free it). */
static inline char *ru_capture(void (*put)(FILE *f, const char *text), const char *text)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	assert_non_null(f);
	put(f, text);
	assert_int_equal(fclose(f), 0);
	return out;
}

typedef int (*ru_writer)(FILE *f, const struct rep_unit *units, size_t n,
			 const struct rep_session *s);

/* A report writer fed a stream that cannot be written says so: -ENOSPC, not an empty file. */
static inline void ru_assert_write_error(ru_writer write)
{
	struct rep_unit u[RU_NUNITS];
	struct rep_session s;
	FILE *f = fopen("/dev/full", "we");

	assert_non_null(f);
	ru_units(u, &s);
	assert_int_equal(write(f, u, RU_NUNITS, &s), -ENOSPC);
	fclose(f);
}

/* What write prints for the n units and the session s, as a string (free it). */
static inline char *ru_write(ru_writer write, const struct rep_unit *u, size_t n,
			     const struct rep_session *s)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	assert_non_null(f);
	assert_int_equal(write(f, u, n, s), 0);
	assert_int_equal(fclose(f), 0);
	return out;
}

/* What a report writer prints for the records of ru_units, as a string (free it). */
static inline char *ru_report(ru_writer write)
{
	struct rep_unit u[RU_NUNITS];
	struct rep_session s;

	ru_units(u, &s);
	return ru_write(write, u, RU_NUNITS, &s);
}

#endif
