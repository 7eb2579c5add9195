/* The unit records of a session: without a JSON or JUnit report, tests that ended normally
 * are let go unless they are among the biggest; slots are reused; order survives. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner/session/records.h"
#include "unit.h"

#define MIB UINT64_C(1048576)

/* A session with only what records.c reads. */
static void session_init(struct run_session *s, struct run_options *o, bool json)
{
	memset(s, 0, sizeof(*s));
	memset(o, 0, sizeof(*o));
	o->json = json ? "report.json" : NULL;
	s->opt = o;
}

/* A unit that ran and ended: a test of peak mb MiB (exit 0), unless kind or oom say more. */
static int ended(struct run_session *s, const char *kind, const char *name, uint64_t mb,
		 enum rep_oom oom)
{
	int idx = run_record_new(s);
	struct rep_unit *u;

	assert_true(idx >= 0);
	u = &s->units[idx];
	u->name = strdup(name);
	u->cgroup = strdup("wcmem-1/u");
	u->kind = kind;
	u->peak = mb * MIB;
	u->oom = oom;
	u->end = oom ? REP_END_SIGNALED : REP_END_EXITED;
	run_record_settle(s, idx);
	return idx;
}

static char *name(int i)
{
	static char buf[32];

	snprintf(buf, sizeof(buf), "t[%d]", i);
	return buf;
}

/* 40 tests with peaks 5, 12, 19, ... (mod 41, all different), one killed, one command:
 * the kept records are the command, the killed test and the 10 biggest others, in the
 * order they began; the slots stay few. */
static void test_records_keep_what_the_summary_shows(void **state)
{
	struct run_session s;
	struct run_options o;
	const struct rep_unit *kept;
	struct rep_unit *copy;
	size_t n;
	int biggest[10], nb = 0;

	(void)state;
	session_init(&s, &o, false);
	ended(&s, "command", "pytest", 30, REP_OOM_NONE);
	for (int i = 0; i < 40; i++)
		ended(&s, "test", name(i), (uint64_t)(5 + 7 * i) % 41 + 1,
		      i == 17 ? REP_OOM_OWN : REP_OOM_NONE);
	for (int mb = 41; mb > 0 && nb < 10; mb--)  /* the 10 biggest, but t[17] was killed */
		for (int i = 0; i < 40; i++)
			if (i != 17 && (5 + 7 * i) % 41 + 1 == mb)
				biggest[nb++] = i;

	kept = run_records_in_order(&s, &n, &copy);
	assert_non_null(kept);
	assert_int_equal(n, 12);
	assert_int_equal(s.info.tests_dropped, 29);
	assert_true(s.nunits <= 14);  /* slots were reused: not one a unit */
	assert_string_equal(kept[0].name, "pytest");
	for (size_t i = 1; i < n; i++) {
		int t = atoi(kept[i].name + 2);
		bool listed = t == 17;

		assert_true(kept[i].seq > kept[i - 1].seq);
		for (int j = 0; j < 10; j++)
			listed |= biggest[j] == t;
		assert_true(listed);
	}
	free(copy);
	run_records_free(&s);
}

/* Equal peaks: the earlier tests stay, as the summary's stable sort would show them. */
static void test_records_equal_peaks_keep_the_earliest(void **state)
{
	struct run_session s;
	struct run_options o;
	const struct rep_unit *kept;
	struct rep_unit *copy;
	size_t n;

	(void)state;
	session_init(&s, &o, false);
	for (int i = 0; i < 25; i++)
		ended(&s, "test", name(i), 1, REP_OOM_NONE);
	kept = run_records_in_order(&s, &n, &copy);
	assert_int_equal(n, 10);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(kept[i].name, name((int)i));
	free(copy);
	run_records_free(&s);
}

/* A report that lists every unit keeps every record, in order. */
static void test_records_a_report_keeps_all(void **state)
{
	struct run_session s;
	struct run_options o;
	const struct rep_unit *kept;
	struct rep_unit *copy;
	size_t n;

	(void)state;
	session_init(&s, &o, true);
	for (int i = 0; i < 100; i++)
		ended(&s, "test", name(i), (uint64_t)i % 7, REP_OOM_NONE);
	kept = run_records_in_order(&s, &n, &copy);
	assert_int_equal(n, 100);
	assert_int_equal(s.info.tests_dropped, 0);
	assert_ptr_equal(kept, s.units);  /* in order already: no copy */
	assert_null(copy);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(kept[i].name, name((int)i));
	free(copy);
	run_records_free(&s);
}

/* A settled command keeps its name up to 200 bytes, longer ones as a head of whole
 * characters and a tag; the cut record is still found by the whole name. */
static void test_records_a_long_name_is_kept_cut(void **state)
{
	struct run_session s;
	struct run_options o;
	char long_name[8002], other[8002];
	const char *kept;
	int idx;

	(void)state;
	session_init(&s, &o, false);
	memset(long_name, 0, sizeof(long_name));
	long_name[0] = 'a';
	for (int i = 1; i + 2 < (int)sizeof(long_name); i += 2)
		memcpy(long_name + i, "\xc3\xa9", 2);  /* U+00E9 from an odd start */
	idx = ended(&s, "command", long_name, 1, REP_OOM_NONE);
	kept = s.units[idx].name;
	assert_true(strlen(kept) < 260);
	assert_memory_equal(kept, long_name, 199);  /* "a" and 99 whole characters */
	assert_string_equal(kept + 199, strstr(kept, " ...[8001 bytes, hash "));
	assert_true(run_record_named(&s.units[idx], long_name));
	memcpy(other, long_name, sizeof(other));
	other[8000] = 'b';
	assert_false(run_record_named(&s.units[idx], other));  /* the same head, not the same */
	idx = ended(&s, "command", "short", 1, REP_OOM_NONE);
	assert_string_equal(s.units[idx].name, "short");
	run_records_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_records_keep_what_the_summary_shows),
		cmocka_unit_test(test_records_equal_peaks_keep_the_earliest),
		cmocka_unit_test(test_records_a_report_keeps_all),
		cmocka_unit_test(test_records_a_long_name_is_kept_cut),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
