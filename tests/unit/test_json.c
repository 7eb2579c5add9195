/* The JSON report, against a golden file; string escaping on its own. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>

#include "report/json.h"
#include "report_units.h"
#include "unit.h"

/* rep_json_string into memory (free the result). */
static char *quoted(const char *text)
{
	return ru_capture(rep_json_string, text);
}

/* Every field of every record; null for unlimited and unknown figures. (The integration
 * tests parse a real report with Python's json.) */
static void test_json_golden(void **state)
{
	char *text = ru_report(rep_json_write);

	(void)state;
	unit_assert_golden(text, "golden/report.json");
	free(text);
}

/* No units: still a whole document. */
static void test_json_no_units(void **state)
{
	struct rep_session s = { .command = "true", .peak = REP_UNKNOWN, .limit = REP_UNLIMITED };
	char *text;

	(void)state;
	text = ru_write(rep_json_write, NULL, 0, &s);
	assert_non_null(strstr(text, "\"units\": []\n}\n"));
	assert_non_null(strstr(text, "\"limit\": null"));
	assert_non_null(strstr(text, "\"cgroup\": null"));
	free(text);
}

/* Quotes, backslashes and control characters (DEL, C1 and bidi too) escaped; UTF-8 kept;
 * other bytes as \xHH. */
static void test_json_string_escape(void **state)
{
	char *t;

	(void)state;
	t = quoted("a\"b\\c/\n\r\t\x01\x1b\x7f");
	assert_string_equal(t, "\"a\\\"b\\\\c/\\n\\r\\t\\u0001\\u001b\\u007f\"");
	free(t);
	t = quoted("\xc3\xa9\xf0\x9f\x98\x80|\xff|\xc3");
	assert_string_equal(t, "\"\xc3\xa9\xf0\x9f\x98\x80|\\\\xff|\\\\xc3\"");
	free(t);
	t = quoted(NULL);
	assert_string_equal(t, "null");
	free(t);
}

static void test_json_write_error(void **state)
{
	(void)state;
	ru_assert_write_error(rep_json_write);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_golden),
		cmocka_unit_test(test_json_no_units),
		cmocka_unit_test(test_json_string_escape),
		cmocka_unit_test(test_json_write_error),
	};

	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
