/* --expect LOG (runner/budget/expect.c): the peaks admission expects, read from a memory
 * log as `wcmem-sandbox budget` reads it; a log not there, one that is no memory log. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "runner/budget/budget.h"
#include "unit.h"

#define MIB (UINT64_C(1) << 20)

struct dir {
	char path[64];
	char file[128];
};

static int setup(void **state)
{
	struct dir *d = calloc(1, sizeof(*d));

	if (!d)
		return -1;
	strcpy(d->path, "/tmp/wcmem-expect.XXXXXX");
	if (!mkdtemp(d->path)) {
		free(d);
		return -1;
	}
	snprintf(d->file, sizeof(d->file), "%s/test_memory.log", d->path);
	*state = d;
	return 0;
}

static int teardown(void **state)
{
	struct dir *d = *state;

	unit_remove_tree(d->path);
	free(d);
	return 0;
}

static const char *write_file(struct dir *d, const char *text)
{
	FILE *f = fopen(d->file, "we");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
	return d->file;
}

/* A captured log: each test's peak, the one its own limit killed at that limit; a test the
 * log does not name, and no log at all, expect nothing. */
static void test_expect_capture(void **state)
{
	struct budget_peaks t;
	struct wc_error e = { 0 };

	(void)state;
	assert_int_equal(budget_expect_load("fixtures/budget/markers.log", &t, &e), 0);
	assert_int_equal(t.n, 6);
	assert_int_equal(budget_expected(&t, "test_markers.py::test_within_its_limit"),
			 (uint64_t)16 * MIB + 3 * MIB / 10);
	assert_int_equal(budget_expected(&t, "test_markers.py::test_over_its_limit"), 24 * MIB);
	assert_int_equal(budget_expected(&t, "test_markers.py::nowhere"), 0);
	assert_int_equal(budget_expected(NULL, "test_markers.py::test_over_its_limit"), 0);
	budget_peaks_free(&t);
}

/* A test the sandbox total killed and that ran again alone: the larger peak, the one it
 * needed, whichever entry came first; entries of every run in the log (--append). */
static void test_expect_largest_of_every_entry(void **state)
{
	struct budget_peaks t;
	struct wc_error e = { 0 };
	const char *log = write_file(*state,
		"[2026-12-01T10:00:00.000001] SESSION_START: pytest -n 4\n"
		"  cgroup: wcmem-1 (cgroup v1)\n"
		"[2026-12-01T10:00:01.000001] TEST_END: t.py::heavy\n"
		"  Peak memory: 112.0 MB\n"
		"  OOM: killed (the sandbox total 560.0 MB was reached)\n"
		"[2026-12-01T10:00:02.000001] TEST_END: t.py::heavy\n"
		"  Peak memory: 120.3 MB\n"
		"[2026-12-01T10:00:03.000001] SESSION_START: pytest -n 4\n"
		"  cgroup: wcmem-2 (cgroup v1)\n"
		"[2026-12-01T10:00:04.000001] TEST_END: t.py::heavy\n"
		"  Peak memory: 118.0 MB\n"
		"[2026-12-01T10:00:05.000001] TEST_END: t.py::light\n"
		"  cgroup: wcmem-2/u3\n"
		"    memory.peak: 2.0 MB\n"
		"    bytes: max=314572800 peak=2200000 current=0\n");

	assert_int_equal(budget_expect_load(log, &t, &e), 0);
	assert_int_equal(t.n, 2);
	assert_int_equal(budget_expected(&t, "t.py::heavy"), 120 * MIB + 3 * MIB / 10);
	assert_int_equal(budget_expected(&t, "t.py::light"), 2200000);  /* the exact bytes */
	budget_peaks_free(&t);
}

/* The plugin sends the name as pytest has it; the log escapes what is not printable: the
 * name is looked up as the log writes it. One longer than a kept name expects nothing,
 * never the peak of another that starts alike. */
static void test_expect_escaped_and_long_names(void **state)
{
	char log[4096], name[BUDGET_NAME_MAX + 8], head[BUDGET_NAME_MAX + 8];
	struct budget_peaks t;
	struct wc_error e = { 0 };

	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	memcpy(head, name, BUDGET_NAME_MAX);
	head[BUDGET_NAME_MAX] = '\0';
	snprintf(log, sizeof(log),
		 "[2026-12-01T10:00:01.000001] TEST_END: t.py::x[a\\nb]\n"
		 "  Peak memory: 5.0 MB\n"
		 "[2026-12-01T10:00:01.000001] TEST_END: %s\n"
		 "  Peak memory: 6.0 MB\n"
		 "[2026-12-01T10:00:01.000001] TEST_END: %s\n"
		 "  Peak memory: 7.0 MB\n", name, head);
	assert_int_equal(budget_expect_load(write_file(*state, log), &t, &e), 0);
	assert_int_equal(budget_expected(&t, "t.py::x[a\nb]"), 5 * MIB);
	assert_int_equal(budget_expected(&t, head), 7 * MIB);
	assert_int_equal(budget_expected(&t, name), 0);
	budget_peaks_free(&t);
}

/* No such file: 1, nothing read (a first run). An empty file, or a log whose run ended no
 * test, is a log: 0, no peaks. */
static void test_expect_missing_and_empty(void **state)
{
	struct dir *d = *state;
	struct budget_peaks t;
	struct wc_error e = { 0 };

	assert_int_equal(budget_expect_load(d->file, &t, &e), 1);
	assert_int_equal(t.n, 0);
	budget_peaks_free(&t);
	assert_int_equal(budget_expect_load(write_file(d, ""), &t, &e), 0);
	assert_int_equal(t.n, 0);
	budget_peaks_free(&t);
	write_file(d, "[2026-12-01T10:00:00.000001] SESSION_START: pytest\n  Elapsed: 0.0s\n");
	assert_int_equal(budget_expect_load(d->file, &t, &e), 0);
	assert_int_equal(t.n, 0);
	assert_int_equal(budget_expected(&t, "pytest"), 0);
	budget_peaks_free(&t);
}

/* A file that holds no entry of a memory log (a budget file named by mistake) and one
 * that is no regular file are refused, naming the file and saying what to give. */
static void test_expect_refused(void **state)
{
	struct dir *d = *state;
	struct budget_peaks t;
	struct wc_error e = { 0 };
	char want[256];

	write_file(d, "[budgets]\ntest = 210M t.py::heavy\n");
	assert_int_equal(budget_expect_load(d->file, &t, &e), -EINVAL);
	snprintf(want, sizeof(want), "%s: not a memory log: it holds no SESSION_START or "
		 "TEST_END entry", d->file);
	assert_string_equal(e.msg, want);
	assert_non_null(strstr(e.hint, "its --log FILE"));
	assert_non_null(strstr(e.hint, "a budget file goes to --budgets"));
	budget_peaks_free(&t);

	e = (struct wc_error){ 0 };
	assert_int_equal(budget_expect_load(d->path, &t, &e), -EINVAL);
	snprintf(want, sizeof(want), "%s: cannot read the memory log of --expect: it is a "
		 "directory", d->path);
	assert_string_equal(e.msg, want);
	assert_non_null(strstr(e.hint, "a regular file"));
	budget_peaks_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expect_capture),
		cmocka_unit_test_setup_teardown(test_expect_largest_of_every_entry, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_expect_escaped_and_long_names, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_expect_missing_and_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expect_refused, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
