/* rep_shards: the logs of one run's shards read together (report/shards.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/shards.h"

/* What print writes, as a string (free it). */
static char *printed(const struct rep_shards *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	rep_shards_print(f, "analyze", s);
	fclose(f);
	return buf;
}

static void expect_in(const char *text, const char *want)
{
	if (!strstr(text, want))
		fail_msg("wanted '%s' in:\n%s", want, text);
}

/* Three shards, each test in one: whole, nothing broken. */
static void test_shards_whole_run(void **state)
{
	struct rep_shards s = { 0 };
	char *text;

	(void)state;
	for (uint32_t i = 1; i <= 3; i++) {
		char name[32];

		rep_shards_session(&s, i, 3);
		snprintf(name, sizeof(name), "t.py::test_%u", i);
		rep_shards_test(&s, name, "log:1");
	}
	assert_false(rep_shards_broken(&s));
	text = printed(&s);
	expect_in(text, "one run in 3 shards: 3 of them read\n");
	assert_null(strstr(text, "error"));
	free(text);
	rep_shards_free(&s);
}

/* A test in shards 1 and 2 is named with both, where it ran again; the same test twice in
 * one shard (a log appended to) is not. */
static void test_shards_test_in_two(void **state)
{
	struct rep_shards s = { 0 };
	char *text;

	(void)state;
	rep_shards_session(&s, 1, 2);
	rep_shards_test(&s, "t.py::a", "one.log:3");
	rep_shards_test(&s, "t.py::a", "one.log:9");
	assert_false(rep_shards_broken(&s));
	rep_shards_session(&s, 2, 2);
	rep_shards_test(&s, "t.py::b", "two.log:3");
	rep_shards_test(&s, "t.py::a", "two.log:7");
	assert_true(rep_shards_broken(&s));
	assert_int_equal(s.dups, 1);
	text = printed(&s);
	expect_in(text, "two.log:7: error: t.py::a ran in shard 1/2 and again in shard 2/2");
	free(text);
	rep_shards_free(&s);
}

/* A shard not read is named; shards of another count are an error; an impossible shard
 * (0, past the count, past the bound) is no shard. */
static void test_shards_missing_and_mixed(void **state)
{
	struct rep_shards s = { 0 };
	char *text;

	(void)state;
	rep_shards_session(&s, 0, 3);
	rep_shards_session(&s, 4, 3);
	rep_shards_session(&s, 1, REP_SHARDS_COUNT_MAX + 1);
	assert_int_equal(s.count, 0);
	rep_shards_session(&s, 2, 3);
	rep_shards_session(&s, 1, 4);
	assert_true(rep_shards_broken(&s));
	text = printed(&s);
	expect_in(text, "one run in 3 shards: 1 of them read");
	expect_in(text, "shard 1/3: not among those read");
	expect_in(text, "shard 3/3: not among those read");
	expect_in(text, "error: the logs are shards of 3 and of 4");
	free(text);
	rep_shards_free(&s);
}

/* Tests outside a sharded session are not checked; the table grows past its first size. */
static void test_shards_many_tests(void **state)
{
	struct rep_shards s = { 0 };
	char name[32];

	(void)state;
	rep_shards_test(&s, "before any session", "log:1");
	assert_int_equal(s.n, 0);
	rep_shards_session(&s, 1, 2);
	for (int i = 0; i < 5000; i++) {
		snprintf(name, sizeof(name), "t.py::test[%d]", i);
		rep_shards_test(&s, name, "log:1");
	}
	assert_int_equal(s.n, 5000);
	rep_shards_session(&s, 2, 2);
	for (int i = 4990; i < 5010; i++) {
		snprintf(name, sizeof(name), "t.py::test[%d]", i);
		rep_shards_test(&s, name, "log:2");
	}
	assert_int_equal(s.dups, 10);
	assert_int_equal(s.n, 5010);
	rep_shards_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shards_whole_run),
		cmocka_unit_test(test_shards_test_in_two),
		cmocka_unit_test(test_shards_missing_and_mixed),
		cmocka_unit_test(test_shards_many_tests),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
