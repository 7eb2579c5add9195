/* The budget file (budget_parse), the peaks of a memory log (budget_peaks_read, on a
 * captured log and on broken ones) and the lines `wcmem-sandbox budget` writes. */
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

#define MIB (UINT64_C(1) << 20)

/* "16.3 MB" as the log writes it, in bytes: 16.3 MiB, rounded down. */
#define LOG_MB(whole, tenths) ((uint64_t)(whole) * MIB + (uint64_t)(tenths) * MIB / 10)

static struct budget_peak *find_peak(struct budget_peaks *t, const char *name)
{
	struct budget_peak *p = budget_peaks_find(t, name);

	if (!p)
		fail_msg("no peak for '%s' among %zu", name, t->n);
	return p;
}

/* Reads a log's text as `wcmem-sandbox budget` reads its file, into t. */
static void read_text(struct budget_peaks *t, const char *text, size_t len)
{
	FILE *f = fmemopen((void *)text, len, "r");

	assert_non_null(f);
	assert_int_equal(budget_peaks_read(t, f), 0);
	fclose(f);
}

static void read_log(struct budget_peaks *t, const char *text)
{
	read_text(t, text, strlen(text));
}

/* A captured log (tests/suites/markers, one test OOM-killed and pytest resumed): every
 * TEST_END once, its peak, its date and run; the killed one is marked. */
static void test_log_peaks_capture(void **state)
{
	struct budget_peaks t;
	struct budget_peak *p;
	struct wc_error e;
	size_t len;
	char *text;

	(void)state;
	budget_peaks_init(&t);
	assert_int_equal(budget_read_text("fixtures/budget/markers.log", "log", &text, &len, &e),
			 0);
	read_text(&t, text, len);
	assert_int_equal(t.n, 6);
	p = find_peak(&t, "test_markers.py::test_within_its_limit");
	assert_int_equal(p->peak, LOG_MB(16, 3));
	assert_false(p->killed);
	assert_string_equal(p->date, "2026-11-30");
	assert_string_equal(budget_peak_run(p), "wcmem-23376");
	p = find_peak(&t, "test_markers.py::test_over_its_limit");
	assert_true(p->killed);
	assert_int_equal(p->peak, 24 * MIB);
	assert_int_equal(find_peak(&t, "test_markers.py::test_unmarked")->peak, LOG_MB(0, 3));
	budget_peaks_free(&t);
	free(text);
}

/* A test the sandbox total killed beside others, at the very peak its run again alone then
 * reached and passed at, has that passing run's peak: it is no longer marked killed (which
 * would give it no budget). A later run killed at the same peak does not undo it. */
static void test_log_peaks_killed_then_passed_at_the_same_peak(void **state)
{
	struct budget_peaks t;
	struct budget_peak *p;

	(void)state;
	budget_peaks_init(&t);
	read_log(&t, "[2026-11-01T10:00:01.000001] TEST_END: t.py::heavy\n"
		     "  Peak memory: 120.5 MB\n"
		     "  OOM: killed (the sandbox total 560.0 MB was reached)\n"
		     "[2026-11-01T10:00:05.000001] TEST_END: t.py::heavy\n"
		     "  Peak memory: 120.5 MB\n"
		     "  Exit: code 0\n"
		     "[2026-11-01T10:00:09.000001] TEST_END: t.py::heavy\n"
		     "  Peak memory: 120.5 MB\n"
		     "  OOM: killed (the sandbox total 560.0 MB was reached)\n");
	p = find_peak(&t, "t.py::heavy");
	assert_int_equal(p->peak, LOG_MB(120, 5));
	assert_false(p->killed);
	budget_peaks_free(&t);
}

/* The cgroup's "bytes:" line gives the exact peak, over both rounded lines (32.3 MB
 * would read back as 33869005 bytes); one after the events line is a test's and counts
 * for nothing; without one, the rounded text as before. */
static void test_log_peaks_exact_bytes(void **state)
{
	struct budget_peaks t;

	(void)state;
	budget_peaks_init(&t);
	read_log(&t, "[2026-11-01T10:00:01.000001] TEST_END: t.py::a\n"
		     "  Peak memory: 32.3 MB\n"
		     "  cgroup: wcmem-1/u2\n"
		     "    memory.peak: 32.3 MB\n"
		     "    bytes: max=67108864 peak=33869004 current=0\n"
		     "    memory.events (v1): failcnt=0 oom_kill=0\n"
		     "[2026-11-01T10:00:02.000001] TEST_END: t.py::forged\n"
		     "  Peak memory: 32.3 MB\n"
		     "  cgroup: wcmem-1/u3\n"
		     "    memory.events (v1): failcnt=0 oom_kill=0\n"
		     "    bytes: peak=1\n");
	assert_int_equal(t.n, 2);
	assert_int_equal(find_peak(&t, "t.py::a")->peak, 33869004);
	assert_int_equal(find_peak(&t, "t.py::forged")->peak, LOG_MB(32, 3));
	budget_peaks_free(&t);
}

/* A test in two logs keeps its larger peak, with that run's date; the cgroup's memory.peak
 * counts when it is above "Peak memory"; an entry without a peak budgets nothing, one of
 * "0.0 MB" gets the floor. The tests stay in the order the logs first name them. */
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
		"  Peak memory: 40.0 MB\n"
		"[2026-11-02T10:00:01.000001] TEST_END: t.py::b\n"
		"  Peak memory: 40.0 MB\n";
	struct budget_peaks t;

	(void)state;
	budget_peaks_init(&t);
	read_log(&t, one);
	read_log(&t, two);
	assert_int_equal(t.n, 3);
	assert_string_equal(t.first->name, "t.py::a");
	assert_int_equal(t.first->peak, LOG_MB(52, 5));
	assert_string_equal(t.first->after->name, "t.py::tiny");  /* under 0.05 MB is a peak */
	assert_int_equal(t.first->after->peak, 0);
	assert_string_equal(t.first->after->after->name, "t.py::b");
	assert_string_equal(budget_peak_run(t.first->after->after), "wcmem-2");
	assert_string_equal(t.first->date, "2026-11-01");
	assert_string_equal(budget_peak_run(t.first), "wcmem-1");
	assert_null(budget_peaks_find(&t, "t.py::no_peak"));
	budget_peaks_free(&t);
}

/* A head whose ']' is not followed by a blank (two lines once crashed the reader: the
 * name was looked for with strstr past the line), then a valid entry: the valid one is read
 * as it is, the broken one is no entry, and its lines are no part of another. */
static void test_log_malformed_head(void **state)
{
	static const char log[] =
		"[x]!TEST_END: a\n"
		"  Peak memory: 5.0 MB\n"
		"[2026-01-01T00:00:00.0] TEST_END: b\n"
		"  Peak memory: 7.0 MB\n"
		"[2026-01-01T00:00:00.0]TEST_END: c\n"
		"  Peak memory: 9.0 MB\n"
		"[2026-01-01T00:00:00.0] TEST_END:\n"
		"  Peak memory: 9.0 MB\n"
		"[nodate] TEST_END: d\n"
		"  Peak memory: 1.0 MB\n";
	struct budget_peaks t;

	(void)state;
	budget_peaks_init(&t);
	read_text(&t, log, 30);  /* the first two lines alone */
	assert_int_equal(t.n, 0);
	read_log(&t, log);
	assert_int_equal(t.n, 2);
	assert_string_equal(t.first->name, "b");
	assert_int_equal(t.first->peak, 7 * MIB);
	assert_string_equal(t.first->after->name, "d");
	assert_string_equal(t.first->after->date, "");  /* not a date: none in the comment */
	budget_peaks_free(&t);
}

/* A NUL (a log's zero-filled tail after a crash) ends the entry it is in; a line longer
 * than the reader's buffer is read for its first bytes; a name past a budget line's length
 * is kept cut, marked, never taken for the test named by its first bytes. */
static void test_log_nul_and_long_lines(void **state)
{
	static const char nul[] =
		"[2026-01-01T00:00:00.0] TEST_END: a\n"
		"  Peak\0memory: 5.0 MB\n"
		"  Peak memory: 6.0 MB\n"
		"[2026-01-01T00:00:00.0] TEST_END: b\n"
		"  Peak memory: 7.0 MB\n";
	char *log = malloc(40000), whole[BUDGET_NAME_MAX + 1];
	struct budget_peaks t;
	int n;

	(void)state;
	budget_peaks_init(&t);
	read_text(&t, nul, sizeof(nul) - 1);
	assert_int_equal(t.n, 1);
	assert_string_equal(t.first->name, "b");
	memset(whole, 'w', BUDGET_NAME_MAX);
	whole[BUDGET_NAME_MAX] = '\0';
	n = sprintf(log, "[2026-01-01T00:00:00.0] TEST_END: %s\n  Peak memory: 1.0 MB\n"
		    "[2026-01-01T00:00:00.0] TEST_END: %s", whole, whole);
	memset(log + n, 'x', 20000);
	strcpy(log + n + 20000, "\n  Peak memory: 2.0 MB\n");
	read_log(&t, log);
	assert_int_equal(t.n, 3);
	assert_int_equal(find_peak(&t, whole)->peak, MIB);
	assert_false(find_peak(&t, whole)->cut);
	assert_true(t.last->cut);
	assert_int_equal(strlen(t.last->name), BUDGET_NAME_MAX + 1);
	assert_int_equal(t.last->peak, 2 * MIB);
	/* The rest of a long line is dropped, never read as a line: it would forge a head. */
	memcpy(log, "  x\0", 4);
	memset(log + 4, 'y', 9000);
	n = sprintf(log + 9004, "[2026-01-01T00:00:00.0] TEST_END: forged\n  Peak memory: 3.0 MB\n");
	read_text(&t, log, (size_t)n + 9004);
	assert_int_equal(t.n, 3);
	assert_null(budget_peaks_find(&t, "forged"));
	free(log);
	budget_peaks_free(&t);
}

/* Many tests: each found again, in the order first seen (the table grows under them). */
static void test_log_many_tests(void **state)
{
	char line[128], name[64];
	struct budget_peaks t;
	size_t i = 0;

	(void)state;
	budget_peaks_init(&t);
	for (int pass = 0; pass < 2; pass++) {
		for (int k = 0; k < 5000; k++) {
			snprintf(line, sizeof(line), "[2026-01-01T00:00:00.0] TEST_END: t.py::x[%d]",
				 k);
			assert_int_equal(budget_peaks_line(&t, line, strlen(line)), 0);
			snprintf(line, sizeof(line), "  Peak memory: %d.0 MB", k + pass);
			assert_int_equal(budget_peaks_line(&t, line, strlen(line)), 0);
		}
	}
	assert_int_equal(budget_peaks_end(&t), 0);
	assert_int_equal(t.n, 5000);
	for (struct budget_peak *p = t.first; p; p = p->after, i++) {
		snprintf(name, sizeof(name), "t.py::x[%zu]", i);
		assert_string_equal(p->name, name);
		assert_int_equal(p->peak, (uint64_t)(i + 1) * MIB);
		assert_ptr_equal(budget_peaks_find(&t, name), p);
	}
	assert_int_equal(i, 5000);
	budget_peaks_free(&t);
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
		"  Fixture set up: 12\n"
		"[2026-11-01T10:00:05.000001] TEST_END: t.py::nopeak\n"
		"  Fixture set up: 999999999999 table\n";
	/* Reversed: b sets the table up, with a larger charge; a shares it. */
	static const char two[] =
		"[2026-11-02T10:00:01.000001] TEST_END: t.py::b\n"
		"  Peak memory: 130.0 MB\n"
		"  Fixture set up: 136314880 table\n"
		"[2026-11-02T10:00:02.000001] TEST_END: t.py::a\n"
		"  Peak memory: 1.0 MB\n"
		"  Fixture shared: table\n";
	struct budget_peaks t;

	(void)state;
	budget_peaks_init(&t);
	read_log(&t, one);
	assert_int_equal(budget_shared(find_peak(&t, "t.py::a")), 0);
	assert_int_equal(budget_shared(find_peak(&t, "t.py::b")), 120 * MIB);
	assert_int_equal(budget_shared(find_peak(&t, "t.py::c")), 120 * MIB);
	assert_int_equal(budget_shared(find_peak(&t, "t.py::d")), 160 * MIB);
	assert_int_equal(budget_need(find_peak(&t, "t.py::d")), 168 * MIB);
	assert_int_equal(find_peak(&t, "t.py::b")->nuses, 1);
	assert_int_equal(find_peak(&t, "t.py::d")->nuses, 2);
	read_log(&t, two);
	/* a set the table up in one run and shared it in the other: its peak of 120 MB holds
	 * it; b's larger peak of the second run holds it too; c now adds the larger charge */
	assert_int_equal(budget_shared(find_peak(&t, "t.py::a")), 0);
	assert_int_equal(budget_shared(find_peak(&t, "t.py::b")), 0);
	assert_int_equal(budget_shared(find_peak(&t, "t.py::c")), 130 * MIB);
	assert_int_equal(t.nfixtures, 3);  /* table, gone, t.py::index: each once */
	budget_peaks_free(&t);
}

/* A "Measured:" line marks the entry's test as measured alone, in any log read; its
 * comment says "alone" when the peak kept is such an entry's. Not indented, or in
 * another entry, it marks nothing; a key that only starts the same is no mark. */
static void test_log_measured_alone(void **state)
{
	static const char plain[] =
		"[2026-11-01T10:00:01.000001] TEST_END: t.py::a\n"
		"  Peak memory: 2.0 MB\n"
		"[2026-11-01T10:00:02.000001] TEST_END: t.py::b\n"
		"  Peak memory: 90.0 MB\n"
		"Measured: alone, from the collected state\n"
		"  Measuredx: alone\n"
		"[2026-11-01T10:00:03.000001] TEST_END: t.py::c\n"
		"  Peak memory: 5.0 MB\n";
	static const char alone[] =
		"[2026-11-02T10:00:01.000001] TEST_END: t.py::a\n"
		"  Peak memory: 70.0 MB\n"
		"  Measured: alone, from the collected state\n"
		"[2026-11-02T10:00:02.000001] TEST_END: t.py::b\n"
		"  Measured: alone, from the collected state\n"
		"  Peak memory: 60.0 MB\n";
	struct budget_peaks t;
	struct budget_peak *p;
	char buf[BUDGET_LINE_MAX + 1];

	(void)state;
	budget_peaks_init(&t);
	read_log(&t, plain);
	assert_false(find_peak(&t, "t.py::a")->measured);
	assert_false(find_peak(&t, "t.py::b")->measured);
	read_log(&t, alone);
	p = find_peak(&t, "t.py::a");
	assert_true(p->measured && p->peak_alone);
	assert_int_equal(p->peak, 70 * MIB);
	assert_true(budget_line(p, 84 * MIB, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "; peak 70.0 MB alone, 2026-11-02"));
	/* b's larger peak is the plain run's: measured, but that peak was not */
	p = find_peak(&t, "t.py::b");
	assert_true(p->measured);
	assert_false(p->peak_alone);
	assert_int_equal(p->peak, 90 * MIB);
	assert_true(budget_line(p, 108 * MIB, buf, sizeof(buf)) > 0);
	assert_non_null(strstr(buf, "; peak 90.0 MB, 2026-11-01"));
	assert_false(find_peak(&t, "t.py::c")->measured);
	budget_peaks_free(&t);
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
	struct budget_peaks t;
	struct budget_peak *b;
	char line[400];

	(void)state;
	budget_peaks_init(&t);
	read_log(&t, log);
	b = find_peak(&t, "t.py::b");
	assert_int_equal(budget_shared(b), UINT64_C(2) << 50);
	assert_true(budget_need(b) > budget_shared(b));
	assert_true(budget_line(b, 20 * MIB, line, sizeof(line)) > 0);
	assert_non_null(strstr(line, "; peak 4.0 MB + shared fixtures "));
	budget_peaks_free(&t);
}

/* What a record keeps of its fixtures is bounded: BUDGET_FIXTURES_MAX keys a test, each
 * at most BUDGET_FIXTURE_KEY_MAX bytes (a longer one is dropped), and entries that repeat
 * a key add nothing. */
static void test_fixtures_bounded(void **state)
{
	size_t size = 64 << 10, o = 0;
	char *log = malloc(size), key[BUDGET_FIXTURE_KEY_MAX + 2];
	struct budget_peaks t;
	struct budget_peak *p;

	(void)state;
	assert_non_null(log);
	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	for (int run = 0; run < 3; run++) {
		o += (size_t)snprintf(log + o, size - o, "[2026-11-01T10:00:01.000001] TEST_END: "
				      "t.py::many\n  Peak memory: 1.0 MB\n"
				      "  Fixture set up: 1048576 %s\n", key);
		for (int i = 0; i < BUDGET_FIXTURES_MAX + 8; i++)
			o += (size_t)snprintf(log + o, size - o, "  Fixture shared: f%d\n", i);
	}
	o += (size_t)snprintf(log + o, size - o, "[2026-11-01T10:00:02.000001] TEST_END: "
			      "t.py::setup\n  Peak memory: 1.0 MB\n");
	for (int i = 0; i < BUDGET_FIXTURES_MAX + 8; i++)
		o += (size_t)snprintf(log + o, size - o, "  Fixture set up: 1048576 f%d\n", i);
	assert_true(o < size - 1);
	budget_peaks_init(&t);
	read_log(&t, log);
	p = find_peak(&t, "t.py::many");
	assert_int_equal(p->nuses, BUDGET_FIXTURES_MAX);
	assert_int_equal(budget_shared(p), BUDGET_FIXTURES_MAX * MIB);
	assert_int_equal(t.nfixtures, BUDGET_FIXTURES_MAX);  /* the long key is none */
	assert_int_equal(find_peak(&t, "t.py::setup")->nuses, BUDGET_FIXTURES_MAX);
	budget_peaks_free(&t);
	free(log);
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
	/* A floor under a MiB is rounded up as a peak is: the file holds whole MiB, never 0M. */
	assert_int_equal(budget_from_peak(0, 20, 100 << 10), MIB);
	assert_int_equal(budget_from_peak(0, 0, 1), MIB);
	/* Past the largest SIZE (2^63 bytes): no budget, never a wrapped one. */
	assert_int_equal(budget_from_peak(UINT64_MAX, 20, MIB), 0);
	assert_int_equal(budget_from_peak(UINT64_C(1) << 62, 1000, MIB), 0);
	assert_int_equal(budget_from_peak((UINT64_C(1) << 63) - MIB, 0, MIB),
			 (UINT64_C(1) << 63) - MIB);
	assert_int_equal(budget_from_peak((UINT64_C(1) << 63) - MIB + 1, 0, MIB), 0);
}

static void parse_ok(const char *text, struct budget_file *bf)
{
	struct wc_error e = { 0 };
	int r = budget_parse("b.ini", text, strlen(text), bf, &e);

	if (r != 0)
		fail_msg("budget_parse: %d: %s (%s)", r, e.msg, e.hint);
}

/* The one test of a log of one run: name's TEST_END with that peak ("100.0 MB"). */
static struct budget_peak *one_peak(struct budget_peaks *t, const char *name, const char *peak)
{
	char log[1024];

	budget_peaks_init(t);
	snprintf(log, sizeof(log), "[2026-11-30T10:00:00.000001] SESSION_START: pytest\n"
		 "  cgroup: wcmem-42 (cgroup v2)\n"
		 "[2026-11-30T10:00:01.000001] TEST_END: %s\n  Peak memory: %s\n", name, peak);
	read_log(t, log);
	assert_int_equal(t->n, 1);
	return t->first;
}

/* budget_line's line, read back by budget_parse: exactly one budget, that name, those
 * bytes. */
static void reads_back(const struct budget_peak *p, uint64_t bytes)
{
	char text[1024] = "[budgets]\n";
	struct budget_file bf;
	int n = budget_line(p, bytes, text + strlen(text), 800);

	assert_true(n > 0 && n <= BUDGET_LINE_MAX);
	strcat(text, "\n");
	parse_ok(text, &bf);
	assert_int_equal(bf.n, 1);
	assert_string_equal(bf.v[0].name, p->name);
	assert_int_equal(bf.v[0].bytes, bytes);
	budget_free(&bf);
}

/* What budget_line writes, budget_parse reads back: the name whole (';', '%', '#' and blanks
 * at its ends encoded), the size, the line. */
static void test_line_round_trip(void **state)
{
	char text[1024] = "; made by hand\n[budgets]\n";
	struct budget_peaks t;
	struct budget_peak *p = one_peak(&t, "t.py::test_x[a; b #1 100%] ", "100.0 MB");
	struct budget_file bf;
	struct budget *b;

	(void)state;
	assert_true(budget_line(p, 120 * MIB, text + strlen(text), 400) > 0);
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
	budget_peaks_free(&t);
}

/* A line that would not fit inih's buffer drops its comment, then is refused. */
static void test_line_too_long(void **state)
{
	char name[300], buf[1024];
	struct budget_peaks t;
	struct budget_peak *p;

	(void)state;
	memset(name, 'a', sizeof(name));
	name[170] = '\0';
	buf[0] = '\0';
	p = one_peak(&t, name, "1.0 MB");
	assert_true(budget_line(p, MIB, buf, sizeof(buf)) > 0);
	assert_null(strchr(buf, ';'));
	assert_true(strlen(buf) <= BUDGET_LINE_MAX);
	budget_peaks_free(&t);
	name[170] = 'a';
	name[299] = '\0';
	p = one_peak(&t, name, "1.0 MB");
	assert_true(p->cut);
	assert_int_equal(budget_line(p, MIB, buf, sizeof(buf)), -E2BIG);
	budget_peaks_free(&t);
}

/* The writer writes only what its reader reads back: an empty name, a size that is not a
 * whole MiB, or one past the largest SIZE get no line; every byte a name may hold, at its
 * start, middle and end, comes back as it was. */
static void test_line_only_what_reads_back(void **state)
{
	struct budget_peaks t;
	struct budget_peak *p = one_peak(&t, "", "5.0 MB");
	char buf[1024], name[8];

	(void)state;
	assert_int_equal(budget_line(p, 16 * MIB, buf, sizeof(buf)), -EINVAL);
	budget_peaks_free(&t);
	p = one_peak(&t, "t::a", "5.0 MB");
	assert_int_equal(budget_line(p, 0, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(budget_line(p, MIB + 1, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(budget_line(p, UINT64_C(1) << 63, buf, sizeof(buf)), -EINVAL);
	reads_back(p, (UINT64_C(1) << 63) - MIB);
	reads_back(p, MIB);
	budget_peaks_free(&t);
	for (int c = 1; c < 256; c++) {
		if (c == '\n' || c == '\r')
			continue;  /* a log line ends there */
		for (int at = 0; at < 3; at++) {
			snprintf(name, sizeof(name), at == 0 ? "%cab" : at == 1 ? "a%cb" : "ab%c", c);
			p = one_peak(&t, name, "5.0 MB");
			reads_back(p, 16 * MIB);
			budget_peaks_free(&t);
		}
		snprintf(name, sizeof(name), "%c", c);
		p = one_peak(&t, name, "5.0 MB");
		reads_back(p, 16 * MIB);
		budget_peaks_free(&t);
	}
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

/* An empty file holds no budget; a NUL is refused at its line, never taken for the end. */
static void test_parse_empty_and_nul(void **state)
{
	static const char nul[] = "[budgets]\ntest = 1M a\n\0test = 1M b\n";
	struct budget_file bf;
	struct wc_error e;

	(void)state;
	parse_ok("", &bf);
	assert_int_equal(bf.n, 0);
	assert_null(budget_find(&bf, "a"));
	budget_free(&bf);
	assert_int_equal(budget_parse("b.ini", nul, sizeof(nul) - 1, &bf, &e), -EINVAL);
	if (!strstr(e.msg, "b.ini:3: a NUL byte: this is not a text file"))
		fail_msg("got '%s'", e.msg);
	assert_int_equal(bf.n, 0);
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
		cmocka_unit_test(test_log_peaks_killed_then_passed_at_the_same_peak),
		cmocka_unit_test(test_log_peaks_exact_bytes),
		cmocka_unit_test(test_log_peaks_larger_wins),
		cmocka_unit_test(test_log_malformed_head),
		cmocka_unit_test(test_log_nul_and_long_lines),
		cmocka_unit_test(test_log_many_tests),
		cmocka_unit_test(test_shared_fixtures_add_their_setup),
		cmocka_unit_test(test_log_measured_alone),
		cmocka_unit_test(test_shared_fixtures_capped),
		cmocka_unit_test(test_fixtures_bounded),
		cmocka_unit_test(test_budget_from_peak),
		cmocka_unit_test(test_line_round_trip),
		cmocka_unit_test(test_line_too_long),
		cmocka_unit_test(test_line_only_what_reads_back),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_parse_empty_and_nul),
		cmocka_unit_test(test_parse_long_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
