/* The JUnit XML report, against a golden file; escaping on its own. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "report/junit.h"
#include "report_units.h"
#include "unit.h"

/* rep_xml_escape into memory (free the result). */
static char *escaped(const char *text)
{
	return ru_capture(rep_xml_escape, text);
}

/* One of each ending: passed, OOM-killed, not run, skipped, failed by pytest, timed out, and
 * a process lost to the sandbox total; then two suites never started (skipped, with the
 * reason); counts, verdicts, peaks, escaped names. */
static void test_junit_golden(void **state)
{
	char *text = ru_report(rep_junit_write);

	(void)state;
	unit_assert_golden(text, "golden/report.junit.xml");
	free(text);
}

/* What XML 1.0 cannot carry never reaches the file; markup characters become entities. */
static void test_junit_escape(void **state)
{
	char *t;

	(void)state;
	t = escaped("a<b>&\"c\"'d'");
	assert_string_equal(t, "a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;");
	free(t);
	t = escaped("\x1b[0m\x01\x7f|\t\n\r|");
	assert_string_equal(t, "\\x1b[0m\\x01\\x7f|&#9;&#10;&#13;|");
	free(t);
	t = escaped("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");  /* é € 😀 pass */
	assert_string_equal(t, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	free(t);
	/* not UTF-8: a lone continuation byte, an overlong '/', a surrogate, a cut sequence,
	 * and U+FFFE (not an XML character) */
	t = escaped("\x80|\xc0\xaf|\xed\xa0\x80|\xe2\x82|\xef\xbf\xbe");
	assert_string_equal(t, "\\x80|\\xc0\\xaf|\\xed\\xa0\\x80|\\xe2\\x82|\\xef\\xbf\\xbe");
	free(t);
	t = escaped(NULL);
	assert_string_equal(t, "");
	free(t);
}

/* A node ID splits at its last "::" before its parameters, whose ids may hold "::". */
static void test_junit_split(void **state)
{
	const char *id = "tests/t.py::TestA::test_b[x::y-[1]]";

	(void)state;
	assert_ptr_equal(rep_junit_split(id), strstr(id, "::test_b"));
	id = "t.py::test_c[a::b]";
	assert_ptr_equal(rep_junit_split(id), id + 4);
	id = "t.py::test_d";
	assert_ptr_equal(rep_junit_split(id), id + 4);
	assert_null(rep_junit_split("t.py"));
	assert_null(rep_junit_split("t.py[::]"));
}

/* The report of a pytest run as pytest's own JUnit XML names its tests: the path dotted
 * without ".py", the classes appended, the parameters (with "::" and "/" in them) left in
 * the name; the command that ran the tests (twice: an OOM kill resumed it) is the suite's
 * properties, and counts as no test. */
static void test_junit_pytest_names(void **state)
{
	struct rep_unit u[4] = {
		{ .name = "python3 -m pytest", .kind = "command", .enclosing = true,
		  .cgroup = "w/u1", .peak = 1 << 20, .limit = REP_UNLIMITED,
		  .end = REP_END_SIGNALED, .code = 9, .oom = REP_OOM_OWN },
		{ .name = "etc/example/test_weather.py::test_rain[a::b/c]", .kind = "test",
		  .cgroup = "w/u2", .peak = 1 << 20, .limit = 1 << 24, .outcome = "passed" },
		{ .name = "pkg/test_mod.py::TestA::TestB::test_x[1]", .kind = "test",
		  .cgroup = "w/u3", .peak = 1 << 20, .limit = 1 << 24, .outcome = "failed" },
		{ .name = "python3 -m pytest", .kind = "command", .enclosing = true,
		  .cgroup = "w/u4", .peak = 1 << 20, .limit = REP_UNLIMITED,
		  .end = REP_END_EXITED, .code = 1 },
	};
	struct rep_session s = { .command = "wcmem-sandbox -- python3 -m pytest", .cgroup = "w",
				 .backend = "cgroup v2", .limit = REP_UNLIMITED,
				 .test_limit = 1 << 24, .peak = 1 << 20 };
	char *out;

	(void)state;
	out = ru_write(rep_junit_write, u, 4, &s);
	assert_non_null(strstr(out, "<testcase classname=\"etc.example.test_weather\" "
				    "name=\"test_rain[a::b/c]\""));
	assert_non_null(strstr(out, "<testcase classname=\"pkg.test_mod.TestA.TestB\" "
				    "name=\"test_x[1]\""));
	assert_non_null(strstr(out, "tests=\"2\" failures=\"1\" errors=\"0\""));
	assert_null(strstr(out, "classname=\"command\""));
	assert_non_null(strstr(out, "<property name=\"command\" value=\"python3 -m pytest\"/>"));
	assert_non_null(strstr(out, "<property name=\"command_verdict\" value=\"exited 1; "));
	assert_non_null(strstr(out, "<property name=\"command_verdict\" value=\"OOM-killed: "));
	free(out);
}

/* A stream that cannot be written is an error, not a silent empty report. */
static void test_junit_write_error(void **state)
{
	(void)state;
	ru_assert_write_error(rep_junit_write);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_junit_golden),
		cmocka_unit_test(test_junit_escape),
		cmocka_unit_test(test_junit_split),
		cmocka_unit_test(test_junit_pytest_names),
		cmocka_unit_test(test_junit_write_error),
	};

	return cmocka_run_group_tests_name("junit", tests, NULL, NULL);
}
