/* rep_logread: the streaming parser of memory logs, on a captured log of ours, the guide's
 * own example entries, and logs cut off or holding what a reader must skip. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>

#include "report/logread.h"
#include "unit.h"

/* Feeds text line by line; keeps at most max entries in out. Returns how many ended. */
static size_t feed(const char *text, struct rep_entry *out, size_t max)
{
	struct rep_logread r;
	struct rep_entry e;
	size_t n = 0;

	rep_logread_init(&r);
	while (*text) {
		const char *nl = strchr(text, '\n');
		size_t len = nl ? (size_t)(nl - text) : strlen(text);

		if (rep_logread_line(&r, text, len, nl != NULL, &e) && n < max)
			out[n++] = e;
		text += len + (nl != NULL);
	}
	if (rep_logread_finish(&r, &e) && n < max)
		out[n++] = e;
	return n;
}

/* The guide's two example entries, as its text has them, give every figure they hold. */
static void test_logread_guide_example(void **state)
{
	static const char guide[] =
		"[2025-10-24T12:34:56.789] TEST_START: test_name\n"
		"  Elapsed: 12.3s\n"
		"  /proc/self/status:\n"
		"    VmRSS: 2048000 kB\n"
		"    VmPeak: 2560000 kB\n"
		"  Top tracemalloc allocations:\n"
		"    script.py:100: 512.3 MB\n"
		"  GC: collections=42, uncollectable=0\n"
		"\n"
		"[2025-10-24T12:35:00.123] TEST_END: test_name\n"
		"  Elapsed: 16.5s\n"
		"  /proc/self/status:\n"
		"    VmRSS: 512000 kB\n"
		"    VmPeak: 2560000 kB\n"
		"  Top tracemalloc allocations:\n"
		"    (tracemalloc not active)\n"
		"  Peak memory: 2500.0 MB\n"
		"  GC: collections=45, uncollectable=0\n"
		"  Open xarray datasets: 0\n";
	struct rep_entry e[3];

	(void)state;
	assert_int_equal(feed(guide, e, 3), 2);
	assert_int_equal(e[0].event, REP_EV_TEST_START);
	assert_string_equal(e[0].name, "test_name");
	assert_string_equal(e[0].stamp, "2025-10-24T12:34:56.789");
	assert_int_equal(e[0].line, 1);
	assert_int_equal(e[0].vm_rss_kb, 2048000);
	assert_true(e[0].elapsed > 12.29 && e[0].elapsed < 12.31);
	assert_true(e[0].peak == REP_UNKNOWN);  /* the tracemalloc line is not the peak */
	assert_int_equal(e[0].xarray, -1);
	assert_int_equal(e[1].event, REP_EV_TEST_END);
	assert_int_equal(e[1].line, 10);
	assert_int_equal(e[1].vm_rss_kb, 512000);
	assert_int_equal(e[1].peak, 2500ULL << 20);
	assert_int_equal(e[1].xarray, 0);
	assert_int_equal(e[1].pid, -1);  /* /proc/self */
	assert_false(e[1].cut);
	assert_false(e[1].oom_seen);
}

/* Our own log, captured from the example suite: the unit's cgroup figures, the sandbox's,
 * the kind and location, and the OOM verdict of the killed test. */
static void test_logread_captured_run(void **state)
{
	char *text = unit_fixture("fixtures/logs/example_v1.log");
	struct rep_entry e[32];
	size_t n = feed(text, e, 32);
	const struct rep_entry *blowup = NULL, *leak = NULL;

	(void)state;
	assert_int_equal(n, 18);  /* 2 of the session, 2 of the command, 2 for each of 7 tests */
	assert_int_equal(e[0].event, REP_EV_SESSION_START);
	assert_int_equal(e[0].sandbox_limit, 512ULL << 20);
	assert_string_equal(e[1].kind, "command");
	for (size_t i = 0; i < n; i++) {
		if (e[i].event == REP_EV_TEST_END && strstr(e[i].name, "test_ensemble_blowup"))
			blowup = &e[i];
		if (e[i].event == REP_EV_TEST_END && strstr(e[i].name, "test_leaks_station_cache"))
			leak = &e[i];
	}
	assert_non_null(blowup);
	assert_true(blowup->oom_seen);
	assert_int_equal(blowup->oom, REP_OOM_OWN);
	assert_int_equal(blowup->peak, 256ULL << 20);
	assert_int_equal(blowup->limit, 256ULL << 20);
	assert_true(blowup->pid > 0);
	assert_non_null(leak);
	assert_true(leak->current >= 8ULL << 20);          /* the 8 MB it keeps */
	assert_true(leak->sandbox_current != REP_UNKNOWN);
	assert_int_equal(e[n - 1].event, REP_EV_SESSION_END);
	free(text);
}

/* Events and lines a reader does not know (another writer's, pytest's own output mixed in)
 * are skipped: they neither end nor change a test's entry. */
static void test_logread_skips_unknown(void **state)
{
	static const char log[] =
		"some banner a tool printed\n"
		"[2026-01-01T00:00:00.000000] COMMAND_START: pytest -x\n"
		"  Elapsed: 0.0s\n"
		"  Peak memory: 999.0 MB\n"
		"[not a stamp TEST_END: x\n"
		"[2026-01-01T00:00:01.000000] TEST_START: t\n"
		"  Frobnication: 12\n"
		"  Peak memory: garbage\n"
		"garbage at column 0\n"
		"  Kind: test\n"
		"[2026-01-01T00:00:01.000000] lower_case: t\n"
		"  Location: tests/test_t.py:7\n";
	struct rep_entry e[4];

	(void)state;
	assert_int_equal(feed(log, e, 4), 2);
	assert_int_equal(e[0].event, REP_EV_OTHER);
	assert_int_equal(e[1].event, REP_EV_TEST_START);
	assert_string_equal(e[1].name, "t");
	assert_string_equal(e[1].kind, "test");
	assert_string_equal(e[1].location, "tests/test_t.py:7");
	assert_true(e[1].peak == REP_UNKNOWN);
}

/* A log cut off in the middle of an entry (no last newline; the fixture's tail of NULs, as
 * a power cut leaves it, ends the text here and is read by test_analyze): the entries
 * before are whole, the last one is marked cut. */
static void test_logread_cut_off(void **state)
{
	char *text = unit_fixture("fixtures/logs/cut.log");
	struct rep_entry e[8];
	size_t n = feed(text, e, 8);

	(void)state;
	assert_int_equal(n, 6);
	for (size_t i = 0; i < 5; i++)
		assert_false(e[i].cut);
	assert_int_equal(e[5].event, REP_EV_TEST_END);
	assert_true(e[5].cut);
	assert_true(e[5].peak == REP_UNKNOWN);
	free(text);
}

/* Names and lines longer than the buffers are cut, marked, and never overflow; a control
 * character (C0, C1, bidi) in a foreign writer's name cannot reach the terminal. */
static void test_logread_long_and_hostile_names(void **state)
{
	size_t size = 3 * REP_LOGREAD_LINE_MAX;
	char *line = malloc(size);
	struct rep_logread r;
	struct rep_entry e;

	(void)state;
	assert_non_null(line);
	memset(line, 'a', size);
	memcpy(line, "[s] TEST_START: \x1b[2J\xc2\x9b\xe2\x80\xae", 25);
	rep_logread_init(&r);
	assert_int_equal(rep_logread_line(&r, line, size, true, &e), 0);
	assert_int_equal(rep_logread_finish(&r, &e), 1);
	assert_int_equal(strlen(e.name), REP_LOGREAD_NAME_MAX - 1);
	/* escaped as the log escapes: C0, C1 and bidi controls alike */
	assert_memory_equal(e.name, "\\x1b[2J\\u009b\\u202e", 19);
	assert_string_equal(e.name + REP_LOGREAD_NAME_MAX - 4, "...");
	free(line);
}

/* Sizes as the log writes them. */
static void test_logread_mb(void **state)
{
	uint64_t b;

	(void)state;
	assert_int_equal(rep_logread_mb("256.0 MB", &b), 0);
	assert_int_equal(b, 256ULL << 20);
	assert_int_equal(rep_logread_mb("0.5 MB", &b), 0);
	assert_int_equal(b, 512ULL << 10);
	assert_int_equal(rep_logread_mb("2048 kB", &b), 0);
	assert_int_equal(b, 2ULL << 20);
	assert_int_equal(rep_logread_mb("max", &b), 0);
	assert_true(b == REP_UNLIMITED);
	assert_int_equal(rep_logread_mb("unknown", &b), -EINVAL);
	assert_int_equal(rep_logread_mb("12 GB", &b), -EINVAL);
	assert_int_equal(rep_logread_mb("-1.0 MB", &b), -EINVAL);
	assert_int_equal(rep_logread_mb("1e300 MB", &b), -EINVAL);
}

/* The "bytes:" line's figures, one by key; a key is a whole word. */
static void test_logread_bytes_fields(void **state)
{
	uint64_t b;

	(void)state;
	assert_int_equal(rep_logread_bytes("max=268435456 peak=33869004 current=659456", "peak",
					   &b), 0);
	assert_int_equal(b, 33869004);
	assert_int_equal(rep_logread_bytes("max=max peak=1", "max", &b), 0);
	assert_true(b == REP_UNLIMITED);
	assert_int_equal(rep_logread_bytes("max=5 peak=1", "current", &b), -ENOENT);
	assert_int_equal(rep_logread_bytes("xpeak=7 peak=8", "peak", &b), 0);
	assert_int_equal(b, 8);
	assert_int_equal(rep_logread_bytes("peak=12MB", "peak", &b), -EINVAL);
	assert_int_equal(rep_logread_bytes("peak=", "peak", &b), -EINVAL);
	assert_int_equal(rep_logread_bytes("peak=-1", "peak", &b), -EINVAL);
	assert_int_equal(rep_logread_bytes("peak=99999999999999999999999", "peak", &b), -EINVAL);
}

/* An entry with a "bytes:" line: its exact figures, not the rounded text (32.3 MB would
 * read back as 33869005); one after the events line is a test's and changes nothing; a log
 * without one reads as before. */
static void test_logread_exact_bytes(void **state)
{
	static const char log[] =
		"[2026-01-01T00:00:00.000000] SESSION_START: pytest\n"
		"  cgroup: wcmem-1 (cgroup v1)\n"
		"    memory.max: 1000.0 MB\n"
		"    bytes: max=1048575999\n"
		"[2026-01-01T00:00:02.000000] TEST_END: t\n"
		"  Peak memory: 32.3 MB\n"
		"  cgroup: wcmem-1/u2\n"
		"    memory.max: 64.0 MB\n"
		"    memory.peak: 32.3 MB\n"
		"    memory.current: 0.6 MB\n"
		"    bytes: max=67108864 peak=33869004 current=659456\n"
		"    memory.events (v1): failcnt=0 oom_kill=0\n"
		"    bytes: peak=1 current=1\n"
		"[2026-01-01T00:00:03.000000] TEST_END: forged\n"
		"  Peak memory: 32.3 MB\n"
		"  cgroup: wcmem-1/u3\n"
		"    memory.max: 64.0 MB\n"
		"    memory.current: 0.6 MB\n"
		"    memory.events (v1): failcnt=0 oom_kill=0\n"
		"    bytes: peak=1 current=1\n";
	struct rep_entry e[3];

	(void)state;
	assert_int_equal(feed(log, e, 3), 3);
	assert_int_equal(e[0].sandbox_limit, 1048575999);
	assert_int_equal(e[1].peak, 33869004);
	assert_int_equal(e[1].limit, 64ULL << 20);
	assert_int_equal(e[1].current, 659456);
	assert_int_equal(e[2].peak, 33869005);  /* the rounded text: no line of the runner's */
	assert_int_equal(e[2].current, 629146);
}

/* A test writes lines into its own entry (the plugin's extras, indented by the runner):
 * they cannot restate the runner's figures, and an "OOM:" line counts only when the cgroup's
 * events counted a kill. */
static void test_logread_test_lines_cannot_forge(void **state)
{
	static const char log[] =
		"[2026-01-01T00:00:01.000000] TEST_START: t\n"
		"  Kind: test\n"
		"  Location: tests/test_t.py:7\n"
		"  Kind: command\n"
		"  Location: /etc/passwd:1\n"
		"[2026-01-01T00:00:02.000000] TEST_END: t\n"
		"  Peak memory: 300.0 MB\n"
		"  cgroup: wcmem-1/u2\n"
		"    memory.max: 256.0 MB\n"
		"    memory.peak: 300.0 MB\n"
		"    memory.current: 8.0 MB\n"
		"    memory.events (v1): failcnt=0 oom_kill=0\n"
		"  Sandbox memory.current: 20.0 MB\n"
		"  Peak memory: 1.0 MB\n"
		"  cgroup: forged\n"
		"    memory.current: 0.0 MB\n"
		"    memory.events (v1): failcnt=9 oom_kill=9\n"
		"  Sandbox memory.current: 0.0 MB\n"
		"  OOM: killed (the sandbox total 1.0 MB was reached)\n"
		"  Exit: code 0\n";
	struct rep_entry e[2];

	(void)state;
	assert_int_equal(feed(log, e, 2), 2);
	assert_string_equal(e[0].kind, "test");
	assert_string_equal(e[0].location, "tests/test_t.py:7");
	assert_int_equal(e[1].peak, 300ULL << 20);
	assert_int_equal(e[1].current, 8ULL << 20);
	assert_int_equal(e[1].sandbox_current, 20ULL << 20);
	assert_int_equal(e[1].oom_kills, 0);
	assert_false(e[1].oom_seen);
	assert_int_equal(e[1].oom, REP_OOM_NONE);
}

/* The leak check's line: each repeat's bytes, exact; a line that does not hold as many
 * figures as it says, more repeats than the plugin runs, or figures past the bound is no
 * figure; only the first line of an entry counts. */
static void test_logread_leak_check(void **state)
{
	static const char log[] =
		"[2026-01-01T00:00:01.000000] TEST_END: a\n"
		"  Leak check: 3 repeats added 8388608 -4096 8392704 bytes\n"
		"  Leak check: 1 repeats added 0 bytes\n"
		"[2026-01-01T00:00:02.000000] TEST_END: b\n"
		"  Leak check: 3 repeats added 1 2 bytes\n"
		"[2026-01-01T00:00:03.000000] TEST_END: c\n"
		"  Leak check: 21 repeats added 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 bytes\n"
		"[2026-01-01T00:00:04.000000] TEST_END: d\n"
		"  Leak check: 2 repeats added 99999999999999999999 1 bytes\n"
		"[2026-01-01T00:00:05.000000] TEST_END: e\n"
		"  Leak check: repeat 2 of 3 failed (AssertionError); no figure\n"
		"[2026-01-01T00:00:06.000000] TEST_END: f\n"
		"  Leak check: 2 repeats added 5 6 bytes and more\n";
	struct rep_entry e[6];

	(void)state;
	assert_int_equal(feed(log, e, 6), 6);
	assert_int_equal(e[0].leak_repeats, 3);
	assert_int_equal(e[0].leak_least, -4096);
	assert_int_equal(e[0].leak_total, 16777216);
	assert_int_equal(e[0].leak_median, 8388608);
	for (int i = 1; i < 6; i++)
		assert_int_equal(e[i].leak_repeats, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_logread_guide_example),
		cmocka_unit_test(test_logread_captured_run),
		cmocka_unit_test(test_logread_skips_unknown),
		cmocka_unit_test(test_logread_cut_off),
		cmocka_unit_test(test_logread_long_and_hostile_names),
		cmocka_unit_test(test_logread_mb),
		cmocka_unit_test(test_logread_bytes_fields),
		cmocka_unit_test(test_logread_exact_bytes),
		cmocka_unit_test(test_logread_test_lines_cannot_forge),
		cmocka_unit_test(test_logread_leak_check),
	};

	return cmocka_run_group_tests_name("logread", tests, NULL, NULL);
}
