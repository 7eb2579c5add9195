/* The cgroup text parsers against captures from real kernels (tests/unit/fixtures). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>

#include "cgroup/cgroup.h"
#include "cgroup/pids.h"
#include "unit.h"

/* v2 memory.events of a unit that hit its own limit (6.1 format). */
static void test_events_v2_all_fields(void **state)
{
	char *text = unit_fixture("fixtures/v2/memory.events");
	struct cg_events ev;

	(void)state;
	assert_int_equal(cg_parse_events(text, &ev), 0);
	assert_int_equal(ev.low, 0);
	assert_int_equal(ev.high, 0);
	assert_int_equal(ev.max, 12);
	assert_int_equal(ev.oom, 1);
	assert_int_equal(ev.oom_kill, 1);
	assert_int_equal(ev.oom_group_kill, 0);
	free(text);
}

/* memory.events.local has the same format. */
static void test_events_v2_local(void **state)
{
	char *text = unit_fixture("fixtures/v2/memory.events.local");
	struct cg_events ev;

	(void)state;
	assert_int_equal(cg_parse_events(text, &ev), 0);
	assert_int_equal(ev.oom_kill, 1);
	assert_int_equal(ev.max, 12);
	free(text);
}

/* Older kernels lack oom_group_kill (before 5.17); newer ones add keys: both are fine. */
static void test_events_missing_and_unknown_keys(void **state)
{
	struct cg_events ev;

	(void)state;
	assert_int_equal(cg_parse_events("low 1\nhigh 2\nmax 3\noom 4\noom_kill 5\n", &ev), 0);
	assert_int_equal(ev.low, 1);
	assert_int_equal(ev.oom_kill, 5);
	assert_int_equal(ev.oom_group_kill, 0);
	assert_int_equal(cg_parse_events("max 3\nsock_throttled 9\noom_kill 2\n", &ev), 0);
	assert_int_equal(ev.max, 3);
	assert_int_equal(ev.oom_kill, 2);
	assert_int_equal(ev.low, 0);
}

/* Counters are 64-bit: a value past 2^32 survives. */
static void test_events_large_counter(void **state)
{
	struct cg_events ev;

	(void)state;
	assert_int_equal(cg_parse_events("max 18446744073709551615\n", &ev), 0);
	assert_true(ev.max == UINT64_MAX);
	assert_int_equal(cg_parse_events("max 18446744073709551616\n", &ev), -ERANGE);
}

/* Text that is not a memory.events file is refused. */
static void test_events_malformed(void **state)
{
	struct cg_events ev;

	(void)state;
	assert_int_equal(cg_parse_events("", &ev), -ENODATA);
	assert_int_equal(cg_parse_events("populated 1\n", &ev), -ENODATA);
	assert_int_equal(cg_parse_events("max\n", &ev), -EINVAL);
	assert_int_equal(cg_parse_events("max -1\n", &ev), -EINVAL);
	assert_int_equal(cg_parse_events("max 1x\n", &ev), -EINVAL);
	assert_int_equal(cg_parse_events("max  1\n", &ev), -EINVAL);
	assert_int_equal(cg_parse_events(" 1\n", &ev), -EINVAL);
}

/* v1 memory.oom_control of a cgroup whose hog was OOM-killed. */
static void test_oom_control_v1_killed(void **state)
{
	char *text = unit_fixture("fixtures/v1/memory.oom_control");
	uint64_t kills = 99;

	(void)state;
	assert_int_equal(cg_parse_oom_control(text, &kills), 0);
	assert_int_equal(kills, 1);
	free(text);
}

/* v1 memory.oom_control of a cgroup that never hit OOM. */
static void test_oom_control_v1_idle(void **state)
{
	char *text = unit_fixture("fixtures/v1/memory.oom_control.idle");
	uint64_t kills = 99;

	(void)state;
	assert_int_equal(cg_parse_oom_control(text, &kills), 0);
	assert_int_equal(kills, 0);
	free(text);
}

/* Before 4.13 there is no oom_kill line; oom_kill_disable must not be taken for it. */
static void test_oom_control_without_oom_kill(void **state)
{
	uint64_t kills = 99;

	(void)state;
	assert_int_equal(cg_parse_oom_control("oom_kill_disable 0\nunder_oom 0\n", &kills),
			 -ENODATA);
	assert_int_equal(kills, 99);
	assert_int_equal(cg_parse_oom_control("oom_kill_disable 1\noom_kill x\n", &kills),
			 -EINVAL);
}

/* Single values from real v1 files, "max", and the v1 "unlimited" number kept as is. */
static void test_u64_fixtures(void **state)
{
	static const struct { const char *path; uint64_t want; } cases[] = {
		{ "fixtures/v1/memory.failcnt", 3784 },
		{ "fixtures/v1/memory.max_usage_in_bytes", 52428800 },
		{ "fixtures/v1/memory.limit_in_bytes", 52428800 },
		{ "fixtures/v1/memory.memsw.limit_in_bytes", UINT64_C(9223372036854771712) },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *text = unit_fixture(cases[i].path);
		uint64_t val = 0;

		assert_int_equal(cg_parse_u64(text, &val), 0);
		assert_int_equal(val, cases[i].want);
		free(text);
	}
}

/* "max" (with or without newline) is UINT64_MAX; anything but digits is refused. */
static void test_u64_text(void **state)
{
	uint64_t val = 0;

	(void)state;
	assert_int_equal(cg_parse_u64("max\n", &val), 0);
	assert_true(val == UINT64_MAX);
	assert_int_equal(cg_parse_u64("max", &val), 0);
	assert_int_equal(cg_parse_u64("0\n", &val), 0);
	assert_int_equal(val, 0);
	assert_int_equal(cg_parse_u64("", &val), -EINVAL);
	assert_int_equal(cg_parse_u64("\n", &val), -EINVAL);
	assert_int_equal(cg_parse_u64("12 \n", &val), -EINVAL);
	assert_int_equal(cg_parse_u64("12\n\n", &val), -EINVAL);
	assert_int_equal(cg_parse_u64("-1\n", &val), -EINVAL);
	assert_int_equal(cg_parse_u64("maximum\n", &val), -EINVAL);
	assert_int_equal(cg_parse_u64("18446744073709551616\n", &val), -ERANGE);
}

/* On this v1-hybrid machine the memory line names our cgroup; "0::" is the empty v2 root. */
/* memory.pressure (PSI): the "some" line's avg10 in hundredths of a percent; never the
 * "full" line's, and text that is not PSI's is refused. */
static void test_pressure(void **state)
{
	static const struct { const char *text; int r; unsigned avg10; } cases[] = {
		{ "some avg10=0.00 avg60=0.02 avg300=0.01 total=32157587\n", 0, 0 },
		{ "some avg10=100.00 avg60=0.00 avg300=0.00 total=1\n", 0, 10000 },
		{ "some avg10=7.50\n", 0, 750 },
		{ "full avg10=11.02 avg60=2.77 avg300=0.55 total=4410203\n", -EINVAL, 0 },
		{ "xsome avg10=1.00 avg60=0.00\n", -EINVAL, 0 },
		{ "some avg10=1.5 avg60=0.00\n", -EINVAL, 0 },
		{ "some avg10=101.00 avg60=0.00\n", -EINVAL, 0 },
		{ "some avg10=1.000 avg60=0.00\n", -EINVAL, 0 },
		{ "some avg10=.50 avg60=0.00\n", -EINVAL, 0 },
		{ "some avg10=1.5", -EINVAL, 0 },
		{ "", -EINVAL, 0 },
	};
	char *text = unit_fixture("fixtures/v2/memory.pressure");
	unsigned avg10 = 0;

	(void)state;
	assert_int_equal(cg_parse_pressure(text, &avg10), 0);
	assert_int_equal(avg10, 1234);
	free(text);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		avg10 = 0;
		assert_int_equal(cg_parse_pressure(cases[i].text, &avg10), cases[i].r);
		assert_int_equal(avg10, cases[i].avg10);
	}
}

static void test_proc_cgroup_v1_hybrid(void **state)
{
	char *text = unit_fixture("fixtures/v1/proc_self_cgroup");
	char path[256];

	(void)state;
	assert_int_equal(cg_parse_proc_cgroup(text, CG_V1, path, sizeof(path)), 0);
	assert_string_equal(path, "/process_api/f64a5c62197adc94712bb52641c3a072");
	assert_int_equal(cg_parse_proc_cgroup(text, CG_V2, path, sizeof(path)), 0);
	assert_string_equal(path, "/");
	free(text);
}

/* On pure v2 there is only the "0::" line; asking for v1 finds nothing. */
static void test_proc_cgroup_pure_v2(void **state)
{
	char *text = unit_fixture("fixtures/v2/proc_self_cgroup");
	char path[256] = "unchanged";

	(void)state;
	assert_int_equal(cg_parse_proc_cgroup(text, CG_V2, path, sizeof(path)), 0);
	assert_string_equal(path,
		"/user.slice/user-1000.slice/user@1000.service/app.slice/app-emacs.scope");
	assert_int_equal(cg_parse_proc_cgroup(text, CG_V1, path, sizeof(path)), -ENOENT);
	free(text);
}

/* mountinfo lines, captured: the second from inside a cgroup namespace made two levels
 * below the mount's root, the third with an escaped blank (\040) in its mount point. */
static void test_mountinfo_lines(void **state)
{
	char *text = unit_fixture("fixtures/v2/mountinfo_cgroupns");
	char *second = strchr(text, '\n') + 1, *third = strchr(second, '\n') + 1;
	struct cg_mountinfo *m = malloc(sizeof(*m));

	(void)state;
	assert_int_equal(cg_parse_mountinfo_line(text, m), 0);
	assert_string_equal(m->type, "sysfs");
	assert_int_equal(cg_parse_mountinfo_line(second, m), 0);
	assert_string_equal(m->root, "/../..");
	assert_string_equal(m->point, "/sys/fs/cgroup/unified");
	assert_string_equal(m->type, "cgroup2");
	assert_string_equal(m->super_opts, "rw");
	assert_false(cg_option_has(m->super_opts, "nsdelegate"));
	assert_int_equal(cg_parse_mountinfo_line(third, m), 0);
	assert_string_equal(m->point, "/mnt/with blank");
	assert_true(cg_option_has(m->super_opts, "nsdelegate"));
	assert_true(cg_option_has(m->super_opts, "memory_recursiveprot"));
	assert_false(cg_option_has(m->super_opts, "memory"));  /* a whole word only */
	assert_int_equal(cg_parse_mountinfo_line("40 30 0:37 / /x rw\n", m), -EINVAL);
	assert_int_equal(cg_parse_mountinfo_line("", m), -EINVAL);
	free(m);
	free(text);
}

/* The pids hierarchy's line (v1), a whole word of its list; none on pure v2. */
static void test_proc_cgroup_pids(void **state)
{
	char *text = unit_fixture("fixtures/v2/proc_self_cgroup");
	char path[64] = "unchanged";

	(void)state;
	assert_int_equal(cg_parse_proc_pids("4:memory:/m\n8:pids:/wcmem-7\n", path,
					    sizeof(path)), 0);
	assert_string_equal(path, "/wcmem-7");
	assert_int_equal(cg_parse_proc_pids("3:cpu,pids,x:/a\n", path, sizeof(path)), 0);
	assert_string_equal(path, "/a");
	assert_int_equal(cg_parse_proc_pids("3:cpu,pidsx:/a\n4:pids2:/b\n", path,
					    sizeof(path)), -ENOENT);
	assert_int_equal(cg_parse_proc_pids(text, path, sizeof(path)), -ENOENT);
	assert_int_equal(cg_parse_proc_pids("8:pids:/a-long-path\n", path, 4), -ENAMETOOLONG);
	free(text);
}

/* "memory" must be a whole word of the controller list, which may hold several. */
static void test_proc_cgroup_controller_lists(void **state)
{
	char path[64];

	(void)state;
	assert_int_equal(cg_parse_proc_cgroup("5:cpu,memory,pids:/a:b\n", CG_V1, path,
					      sizeof(path)), 0);
	assert_string_equal(path, "/a:b");
	assert_int_equal(cg_parse_proc_cgroup("5:memory_x:/a\n6:xmemory:/b\n", CG_V1, path,
					      sizeof(path)), -ENOENT);
	assert_int_equal(cg_parse_proc_cgroup("4:memory:/last", CG_V1, path, sizeof(path)), 0);
	assert_string_equal(path, "/last");
	assert_int_equal(cg_parse_proc_cgroup("1:name=systemd:/x\n", CG_V2, path,
					      sizeof(path)), -ENOENT);
	assert_int_equal(cg_parse_proc_cgroup("", CG_V2, path, sizeof(path)), -ENOENT);
}

/* A path longer than the buffer is -ENAMETOOLONG, never truncated. */
static void test_proc_cgroup_small_buffer(void **state)
{
	char path[7];  /* "/abcde" and its NUL */

	(void)state;
	assert_int_equal(cg_parse_proc_cgroup("0::/abcde\n", CG_V2, path, sizeof(path)), 0);
	assert_string_equal(path, "/abcde");
	assert_int_equal(cg_parse_proc_cgroup("0::/abcdef\n", CG_V2, path, sizeof(path)),
			 -ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_events_v2_all_fields),
		cmocka_unit_test(test_events_v2_local),
		cmocka_unit_test(test_events_missing_and_unknown_keys),
		cmocka_unit_test(test_events_large_counter),
		cmocka_unit_test(test_events_malformed),
		cmocka_unit_test(test_oom_control_v1_killed),
		cmocka_unit_test(test_oom_control_v1_idle),
		cmocka_unit_test(test_oom_control_without_oom_kill),
		cmocka_unit_test(test_u64_fixtures),
		cmocka_unit_test(test_u64_text),
		cmocka_unit_test(test_pressure),
		cmocka_unit_test(test_proc_cgroup_v1_hybrid),
		cmocka_unit_test(test_proc_cgroup_pure_v2),
		cmocka_unit_test(test_proc_cgroup_controller_lists),
		cmocka_unit_test(test_proc_cgroup_pids),
		cmocka_unit_test(test_mountinfo_lines),
		cmocka_unit_test(test_proc_cgroup_small_buffer),
	};

	return cmocka_run_group_tests_name("events", tests, NULL, NULL);
}
