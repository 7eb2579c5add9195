/* rep_shell_append (words a shell takes back, safe for a terminal) and run_rerun_prefix. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "report/shell.h"
#include "runner/commands/rerun.h"
#include "runner/config/size.h"

#define MIB (UINT64_C(1) << 20)

static const char *joined(const char *const *words)
{
	static char out[512];

	out[0] = '\0';
	for (; *words; words++)
		assert_true(rep_shell_append(out, sizeof(out), *words));
	return out;
}

/* Plain words as they are; a blank or a quote in single quotes; an empty word quoted. */
static void test_shell_words(void **state)
{
	(void)state;
	assert_string_equal(joined((const char *[]){ "pytest", "tests/a.py::t[1-x]", NULL }),
			    "pytest 'tests/a.py::t[1-x]'");
	assert_string_equal(joined((const char *[]){ "a b", "it's", "", NULL }),
			    "'a b' 'it'\\''s' ''");
	assert_string_equal(joined((const char *[]){ "t[é]", NULL }), "'t[é]'");
}

/* A byte a terminal must not get raw (ESC, U+202E, not UTF-8) goes out as \xHH in $'...'. */
static void test_shell_escapes_what_a_terminal_must_not_get(void **state)
{
	(void)state;
	assert_string_equal(joined((const char *[]){ "t[\x1b[2J]", NULL }), "$'t[\\x1b[2J]'");
	assert_string_equal(joined((const char *[]){ "a\xe2\x80\xae'b", NULL }),
			    "$'a\\xe2\\x80\\xae\\'b'");
	assert_string_equal(joined((const char *[]){ "\xff\\", NULL }), "$'\\xff\\\\'");
}

/* A word that does not fit leaves the string as it was. */
static void test_shell_word_that_does_not_fit(void **state)
{
	char out[12] = "pytest";

	(void)state;
	assert_false(rep_shell_append(out, sizeof(out), "a b c d e"));
	assert_string_equal(out, "pytest");
	assert_true(rep_shell_append(out, sizeof(out), "-x"));
	assert_string_equal(out, "pytest -x");
}

/* The limits in the command line's exact form, and the command's own way to run pytest. */
static void test_rerun_prefix(void **state)
{
	char *pytest[] = { "/usr/bin/pytest", "-x", "tests", NULL };
	char *module[] = { "/usr/bin/python3", "-m", "pytest", "-q", NULL };
	char *other[] = { "make", "check", NULL };
	struct run_options o = { .limit = 1536 * MIB, .test_limit = 200 * MIB, .argv = pytest };
	char out[512];

	(void)state;
	assert_int_equal(run_rerun_prefix("./wcmem-sandbox", &o, out, sizeof(out)), 0);
	assert_string_equal(out, "./wcmem-sandbox --limit 1536M --test-limit 200M -- "
			    "/usr/bin/pytest");
	o.argv = module;
	o.swap = 64 * MIB + 1;
	o.budgets = "my budgets.ini";
	assert_int_equal(run_rerun_prefix("wcmem-sandbox", &o, out, sizeof(out)), 0);
	assert_string_equal(out, "wcmem-sandbox --limit 1536M --test-limit 200M --swap 67108865 "
			    "--budgets 'my budgets.ini' -- /usr/bin/python3 -m pytest");
	o = (struct run_options){ .limit = CFG_SIZE_MAX, .argv = other };
	assert_int_equal(run_rerun_prefix("w", &o, out, sizeof(out)), 0);
	assert_string_equal(out, "w --limit max -- python3 -m pytest");
	assert_int_equal(run_rerun_prefix("w", &o, out, 8), -ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shell_words),
		cmocka_unit_test(test_shell_escapes_what_a_terminal_must_not_get),
		cmocka_unit_test(test_shell_word_that_does_not_fit),
		cmocka_unit_test(test_rerun_prefix),
	};

	return cmocka_run_group_tests_name("rerun", tests, NULL, NULL);
}
