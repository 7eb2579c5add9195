/* rep_analysis: the post-mortem of memory logs, on a captured run of the example suite, a
 * log in the guide's format written by hand from its example, and a cut-off log. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>

#include "report/analyze.h"
#include "report/analyze_chart.h"
#include "report/analyze_records.h"
#include "report_units.h"
#include "unit.h"

static const struct rep_an_options defaults = {
	.top = 10, .spike_factor = 10, .spike_floor = 100 << 20, .leak_floor = 1 << 20,
};

static struct rep_analysis *analysis(void)
{
	struct rep_analysis *a = malloc(sizeof(*a));

	assert_non_null(a);
	assert_int_equal(rep_analysis_init(a, &defaults), 0);
	return a;
}

static void read_fixture(struct rep_analysis *a, const char *path)
{
	FILE *f = fopen(path, "re");

	if (!f)
		fail_msg("cannot read fixture %s (run from tests/unit)", path);
	assert_int_equal(rep_analysis_read(a, f, path), 0);
	fclose(f);
}

static void done(struct rep_analysis *a)
{
	rep_analysis_free(a);
	free(a);
}

/* The answer, printed as text (json false) or JSON, as a string to free. */
static char *printed(const struct rep_analysis *a, bool json)
{
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);

	assert_non_null(f);
	assert_int_equal(json ? rep_analysis_json(f, a) : rep_analysis_print(f, a), 0);
	assert_int_equal(fclose(f), 0);
	return text;
}

static bool named(const struct rep_an_unit *u, const char *suffix)
{
	size_t n = strlen(u->name), k = strlen(suffix);

	return n >= k && strcmp(u->name + n - k, suffix) == 0;
}

/* The example suite's run: the OOM-killed test with its verdict, the biggest tests, the
 * spike, and the test that leaks, each pointing at its own file and line. */
static void test_analyze_example_run(void **state)
{
	struct rep_analysis *a = analysis();
	char *text;

	(void)state;
	read_fixture(a, "fixtures/logs/example_v1.log");
	rep_analysis_end(a);
	assert_int_equal(a->tests, 7);          /* the enclosing command is not a test */
	assert_int_equal(a->oom.count, 1);
	assert_true(named(&a->oom.u[0], "::test_ensemble_blowup"));
	assert_int_equal(a->oom.u[0].oom, REP_OOM_OWN);
	assert_string_equal(a->oom.u[0].where, "etc/example/test_weather.py:31");
	assert_true(named(&a->biggest.u[0], "::test_ensemble_blowup"));
	assert_true(named(&a->biggest.u[1], "::test_resampling"));
	assert_int_equal(a->left.count, 1);
	assert_true(named(&a->left.u[0], "::test_leaks_station_cache"));
	assert_true(rep_analysis_is_spike(a, &a->biggest.u[0]));
	assert_false(rep_analysis_is_spike(a, &a->biggest.u[1]));
	assert_int_equal(a->running.count, 0);
	text = printed(a, false);
	unit_assert_golden(text, "golden/analyze_example.txt");
	free(text);
	done(a);
}

/* The guide's format, written by another tool: the test running when the log stops, the
 * spike, VmRSS left behind, and only the xarray step that stayed up. */
static void test_analyze_guide_format(void **state)
{
	struct rep_analysis *a = analysis();
	char *text;

	(void)state;
	read_fixture(a, "fixtures/logs/guide.log");
	rep_analysis_end(a);
	assert_int_equal(a->tests, 5);
	assert_int_equal(a->running.count, 1);
	assert_true(named(&a->running.u[0], "::Test::test_ensemble"));
	assert_string_equal(a->running.u[0].where, "src/weathercop/tests/test_multisite.py:1");
	assert_int_equal(a->oom.count, 0);
	assert_true(named(&a->biggest.u[0], "::Test::test_name"));
	assert_true(rep_analysis_is_spike(a, &a->biggest.u[0]));
	assert_false(rep_analysis_is_spike(a, &a->biggest.u[1]));
	/* VmRSS END - START: 500 MB, 378.9 MB, 3.9 MB; test_name gave memory back */
	assert_int_equal(a->left.count, 3);
	assert_true(named(&a->left.u[0], "::test_open_dataset"));
	assert_int_equal(a->left.u[0].left, 512000ULL << 10);
	/* 0 -> 2 (test_open_dataset) fell back to 0 after test_name; 0 -> 3 stayed */
	assert_int_equal(a->xarray.count, 1);
	assert_true(named(&a->xarray.u[0], "::Test::test_sim"));
	assert_int_equal(a->xarray.u[0].xarray_from, 0);
	assert_int_equal(a->xarray.u[0].xarray_to, 3);
	text = printed(a, false);
	unit_assert_golden(text, "golden/analyze_guide.txt");
	free(text);
	text = printed(a, true);
	unit_assert_golden(text, "golden/analyze_guide.json");
	free(text);
	done(a);
}

/* A log cut off inside its last entry (a tail of NULs, no newline) is read up to there, the
 * cut reported, and the test whose end was lost counted as running. */
static void test_analyze_cut_off(void **state)
{
	struct rep_analysis *a = analysis();

	(void)state;
	read_fixture(a, "fixtures/logs/cut.log");
	rep_analysis_end(a);
	assert_int_equal(a->cut, 1);
	assert_string_equal(a->cut_at.where, "fixtures/logs/cut.log:44");
	assert_int_equal(a->tests, 2);
	assert_int_equal(a->running.count, 1);
	assert_true(named(&a->running.u[0], "::test_resample"));
	done(a);
}

/* A captured run of tests/suites/leaks with WCMEM_SANDBOX_LEAK_CHECK=3: the three tests
 * that keep 8 MB more on each run are the leaks, and nothing else is (the cache filled once,
 * the first import of numpy, the 20 MB freed that glibc would keep, the trivial tests); no
 * test is left in the "left memory behind" list, whose figures the repeats answered. */
static void test_analyze_leak_check(void **state)
{
	struct rep_analysis *a = analysis();
	char *text, *json;

	(void)state;
	read_fixture(a, "fixtures/logs/leak_check_v1.log");
	rep_analysis_end(a);
	assert_int_equal(a->tests, 18);
	assert_int_equal(a->leak_checked, 18);
	assert_int_equal(a->leaks.count, 3);
	for (size_t i = 0; i < a->leaks.n; i++) {
		assert_non_null(strstr(a->leaks.u[i].name, "::test_leaks["));
		assert_int_equal(a->leaks.u[i].leak_repeats, 3);
		assert_true(a->leaks.u[i].leak_least > (7 << 20));
		assert_true(rep_analysis_leak_per_run(&a->leaks.u[i]) < (9 << 20));
	}
	assert_int_equal(a->left.count, 0);
	text = printed(a, false);
	assert_non_null(strstr(text, "== leaks (memory that grows with each run: every repeat of "
				     "the call added some, and the middle repeat at least 1.0 MiB): 3 of "
				     "18 tests checked\n"));
	assert_non_null(strstr(text, "test_leaks.py:12: test_leaks.py::test_leaks[1] leaks 8.0 MiB "
				     "a run (3 repeats, each added at least 8.0 MiB)\n"));
	assert_null(strstr(text, "left memory behind"));
	json = printed(a, true);
	assert_non_null(strstr(json, "\"leaks_count\": 3"));
	assert_non_null(strstr(json, "\"leak_checked\": 18"));
	assert_non_null(strstr(json, "\"leak_repeats\": 3, \"leak_least\": "));
	free(json);
	free(text);
	done(a);
}

/* The rule on its own: growth in every repeat, the middle one at least the floor. A cache
 * filled in the first run (later repeats add nothing), one repeat that gave back, growth
 * under the floor, and one repeat charged a step of the heap are no leak. */
static void test_analyze_leak_rule(void **state)
{
	struct rep_analysis *a = analysis();
	struct rep_an_unit u = { .leak_repeats = 3, .leak_least = 1 << 20,
				 .leak_median = 1 << 20, .leak_total = 3 << 20 };

	(void)state;
	assert_true(rep_analysis_is_leak(a, &u));
	assert_int_equal(rep_analysis_leak_per_run(&u), 1 << 20);
	u.leak_least = 0;            /* one repeat kept nothing: filled once, then found */
	assert_false(rep_analysis_is_leak(a, &u));
	u.leak_least = -4096;
	assert_false(rep_analysis_is_leak(a, &u));
	u.leak_least = 4096;
	u.leak_median = (1 << 20) - 1;  /* under the floor */
	assert_false(rep_analysis_is_leak(a, &u));
	/* seen in a VM: a test keeping 8 KB a run, one repeat charged 4 MB of heap */
	u.leak_least = u.leak_median = 40960;
	u.leak_total = 40960 * 2 + 4218880;
	assert_false(rep_analysis_is_leak(a, &u));
	u.leak_repeats = 0;
	assert_false(rep_analysis_is_leak(a, &u));
	assert_int_equal(rep_analysis_leak_per_run(&u), 0);
	done(a);
}

/* Several logs make one answer: the lists span them, and an open test of the first log is
 * not closed by a test of the same name in the next. */
static void test_analyze_merges_logs(void **state)
{
	struct rep_analysis *a = analysis();

	(void)state;
	read_fixture(a, "fixtures/logs/guide.log");
	read_fixture(a, "fixtures/logs/example_v1.log");
	rep_analysis_end(a);
	assert_int_equal(a->logs, 2);
	assert_int_equal(a->tests, 12);
	assert_true(named(&a->biggest.u[0], "::Test::test_name"));
	assert_true(named(&a->biggest.u[1], "::test_ensemble_blowup"));
	assert_int_equal(a->running.count, 1);
	assert_int_equal(a->oom.count, 1);
	done(a);
}

/* Feeds the TEST_START of synthetic test i, and leaves e as its TEST_END to fill in. */
static void start_test(struct rep_analysis *a, struct rep_entry *e, unsigned long i,
		       double elapsed, double duration)
{
	memset(e, 0, sizeof(*e));
	e->elapsed = elapsed;
	e->duration = duration;
	e->current = e->sandbox_current = REP_UNKNOWN;
	e->vm_rss_kb = e->xarray = e->pid = -1;
	snprintf(e->name, sizeof(e->name), "tests/test_s.py::test_%lu", i);
	e->event = REP_EV_TEST_START;
	rep_analysis_entry(a, e);
	e->event = REP_EV_TEST_END;
}

/* A long run keeps fixed-size lists: the biggest are the biggest of all, the counts are
 * whole, and the typical peak is the median within 1/16 of its power of two. */
static void test_analyze_constant_memory(void **state)
{
	struct rep_analysis *a = analysis();
	struct rep_entry e;

	(void)state;
	rep_analysis_begin_log(a, "synthetic.log");
	for (unsigned long i = 0; i < 100000; i++) {
		start_test(a, &e, i, -1, -1);
		e.peak = (i % 1000 + 1) << 20;   /* 1 MB to 1000 MB; median about 500 MB */
		rep_analysis_entry(a, &e);
	}
	rep_analysis_end(a);
	assert_int_equal(a->tests, 100000);
	assert_int_equal(a->biggest.count, 100000);
	assert_int_equal(a->biggest.n, REP_AN_LIST_MAX);
	assert_int_equal(a->biggest.u[0].peak, 1000ULL << 20);
	assert_int_equal(a->biggest.u[REP_AN_LIST_MAX - 1].peak, 1000ULL << 20);
	assert_in_range(rep_analysis_typical_peak(a), 470ULL << 20, 500ULL << 20);
	assert_int_equal(a->running.count, 0);
	done(a);
}

/* The HTML page of the guide's log: the chart's bands, the tables, nothing external. */
static void test_analyze_html(void **state)
{
	struct rep_analysis *a = analysis();
	char *html = NULL;
	size_t size = 0;
	FILE *f;

	(void)state;
	read_fixture(a, "fixtures/logs/guide.log");
	rep_analysis_end(a);
	f = open_memstream(&html, &size);
	assert_non_null(f);
	assert_int_equal(rep_analysis_html(f, a), 0);
	assert_int_equal(fclose(f), 0);
	assert_null(strstr(html, "<script"));
	unit_assert_golden(html, "golden/analyze_guide.html");
	free(html);
	done(a);
}

/* The chart places a test by the stamps, to the microsecond, where they agree with its
 * Elapsed (a tenth of a second); else, and without a session's stamp, by its Elapsed. */
static void test_analyze_chart_start_from_stamps(void **state)
{
	struct rep_analysis a = { .session_stamp = -1 };
	struct rep_entry e = { .elapsed = 2.4 };

	(void)state;
	assert_true(rep_chart_stamp("2026-12-07T03:48:46.1895") < 0);        /* 4 digits */
	assert_true(rep_chart_stamp("2026-13-07T03:48:46.189522") < 0);      /* month 13 */
	assert_true(rep_chart_stamp("@1796615326.189522") < 0);
	assert_true(rep_chart_stamp("2026-12-07T03:48:46.189522 ") < 0);
	assert_true(rep_chart_stamp("1970-01-02T00:00:01.500000") == 86401.5);
	snprintf(e.stamp, sizeof(e.stamp), "2026-12-07T03:48:48.545549");
	assert_true(rep_chart_start(&a, &e) == 2.4);                          /* no session stamp */
	a.session_stamp = rep_chart_stamp("2026-12-07T03:48:46.189522");
	assert_in_range((long)(rep_chart_start(&a, &e) * 1e6), 2356026, 2356028);
	e.elapsed = 1.0;  /* an Elapsed the stamps do not agree with: a rewritten log */
	assert_true(rep_chart_start(&a, &e) == 1.0);
	snprintf(e.stamp, sizeof(e.stamp), "2026-12-08T03:48:47.189522");     /* a day later */
	assert_true(rep_chart_start(&a, &e) == 1.0);
}

/* 20,000 tests on the chart: neighbours merge (the page stays small), the killed test's red
 * band stays, and a band names the biggest test it holds. */
static void test_analyze_chart_merges_bands(void **state)
{
	struct rep_analysis *a = analysis();
	struct rep_entry e;
	bool oom = false;

	(void)state;
	rep_analysis_begin_log(a, "synthetic.log");
	for (unsigned long i = 0; i < 20000; i++) {
		start_test(a, &e, i, (double)i * 0.01, 0.01);
		e.peak = (i == 12345 ? 900 : i % 7 + 1) << 20;
		e.oom_seen = i == 12345;
		rep_analysis_entry(a, &e);
	}
	rep_analysis_end(a);
	assert_in_range(a->nbands, REP_AN_BANDS_MAX / 2, REP_AN_BANDS_MAX);
	for (size_t i = 0; i < a->nbands; i++) {
		if (!a->bands[i].oom)
			continue;
		oom = true;
		assert_string_equal(a->bands[i].name, "tests/test_s.py::test_12345");
		assert_int_equal(a->bands[i].peak, 900ULL << 20);
		assert_true(a->bands[i].t0 <= 123.45 && a->bands[i].t1 >= 123.46);
	}
	assert_true(oom);
	assert_true(a->end >= 199.99);
	done(a);
}

/* Appends the entry that format wrote into buf (n bytes) to f. */
static void put_entry(FILE *f, const char *buf, int n)
{
	assert_true(n > 0);
	assert_int_equal(fwrite(buf, 1, (size_t)n, f), (size_t)n);
}

/* The run's analysis from its records is the analysis of its log: the entries in the order
 * the log has them (u[3] and u[4] overlap: both start before either ends). */
static void test_analyze_records_as_the_log(void **state)
{
	static const int order[][2] = {  /* unit, end */
		{ 0, 0 }, { 0, 1 }, { 1, 0 }, { 1, 1 }, { 2, 0 }, { 2, 1 }, { 3, 0 }, { 4, 0 },
		{ 3, 1 }, { 4, 1 }, { 5, 0 }, { 5, 1 }, { 6, 0 }, { 6, 1 },
	};
	struct rep_analysis *from_log = analysis(), *from_records = analysis();
	struct rep_unit u[RU_NUNITS];
	struct rep_session s;
	char buf[16384], *log = NULL, *want, *got;
	size_t len = 0;
	FILE *f = open_memstream(&log, &len);

	(void)state;
	ru_units(u, &s);
	assert_non_null(f);
	put_entry(f, buf, rep_log_format_session_start(buf, sizeof(buf), &s));
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		const struct rep_unit *x = &u[order[i][0]];
		struct timespec end = x->start;
		long long ns = end.tv_nsec + (long long)(x->duration * 1e9);

		end.tv_sec += ns / 1000000000;
		end.tv_nsec = ns % 1000000000;
		put_entry(f, buf, order[i][1] ?
			  rep_log_format_unit_end(buf, sizeof(buf), x, &end,
						  x->start_elapsed + x->duration) :
			  rep_log_format_unit_start(buf, sizeof(buf), x));
	}
	{
		struct timespec end = s.start;

		end.tv_sec += (time_t)s.elapsed;
		put_entry(f, buf, rep_log_format_session_end(buf, sizeof(buf), &s, &end));
	}
	assert_int_equal(fclose(f), 0);
	f = fmemopen(log, len, "r");
	assert_non_null(f);
	assert_int_equal(rep_analysis_read(from_log, f, "memory.log"), 0);
	fclose(f);
	assert_int_equal(rep_analysis_records(from_records, u, RU_NUNITS, &s, "memory.log"), 0);
	rep_analysis_end(from_log);
	rep_analysis_end(from_records);
	assert_int_equal(from_records->oom.count, 2);  /* blowup's own limit, children's total */
	want = printed(from_log, true);
	got = printed(from_records, true);
	assert_string_equal(got, want);
	free(want);
	free(got);
	free(log);
	done(from_log);
	done(from_records);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_analyze_example_run),
		cmocka_unit_test(test_analyze_guide_format),
		cmocka_unit_test(test_analyze_cut_off),
		cmocka_unit_test(test_analyze_leak_check),
		cmocka_unit_test(test_analyze_leak_rule),
		cmocka_unit_test(test_analyze_merges_logs),
		cmocka_unit_test(test_analyze_constant_memory),
		cmocka_unit_test(test_analyze_html),
		cmocka_unit_test(test_analyze_chart_merges_bands),
		cmocka_unit_test(test_analyze_chart_start_from_stamps),
		cmocka_unit_test(test_analyze_records_as_the_log),
	};

	return cmocka_run_group_tests_name("analyze", tests, NULL, NULL);
}
