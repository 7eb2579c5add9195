/* run_msg_parse, cfg_field_encode and cfg_field_decode: the control protocol's lines. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "runner/config/field.h"
#include "runner/control/protocol.h"

static int parse(const char *text, struct run_msg *m, struct wc_error *e)
{
	static char line[4096];

	snprintf(line, sizeof(line), "%s", text);
	return run_msg_parse(line, m, e);
}

/* HELLO carries the protocol version and nothing else. */
static void test_msg_hello(void **state)
{
	struct run_msg m;
	struct wc_error e;

	(void)state;
	assert_int_equal(parse("HELLO 1", &m, &e), 0);
	assert_int_equal(m.verb, RUN_MSG_HELLO);
	assert_int_equal(m.version, 1);
	assert_int_equal(parse("HELLO x", &m, &e), -EINVAL);
	assert_string_equal(e.msg, "bad version 'x'");
	assert_int_equal(parse("HELLO 1 2", &m, &e), -EINVAL);
	assert_false(m.records);
	assert_int_equal(parse("HELLO 1 records=1", &m, &e), 0);
	assert_true(m.records);
	assert_int_equal(parse("HELLO 1 records=2", &m, &e), -EINVAL);
	assert_int_equal(parse("HELLO 1 extras=x", &m, &e), -EINVAL);
	assert_string_equal(e.msg, "unknown field 'extras'");
}

/* STANDBY and RESUME are the verb alone. */
static void test_msg_standby(void **state)
{
	struct run_msg m;
	struct wc_error e;

	(void)state;
	assert_int_equal(parse("STANDBY", &m, &e), 0);
	assert_int_equal(m.verb, RUN_MSG_STANDBY);
	assert_int_equal(parse("RESUME", &m, &e), 0);
	assert_int_equal(m.verb, RUN_MSG_RESUME);
	assert_null(m.name);
}

/* TOP takes a rank, a number and nothing else. */
static void test_msg_top(void **state)
{
	struct run_msg m;
	struct wc_error e;

	(void)state;
	assert_int_equal(parse("TOP 0", &m, &e), 0);
	assert_int_equal(m.verb, RUN_MSG_TOP);
	assert_int_equal(m.rank, 0);
	assert_int_equal(parse("TOP 12", &m, &e), 0);
	assert_int_equal(m.rank, 12);
}

/* START decodes the node ID and its options; defaults when absent. */
static void test_msg_start_fields(void **state)
{
	struct run_msg m;
	struct wc_error e;

	(void)state;
	assert_int_equal(parse("START tests/t.py::test_a%5B1%202%5D", &m, &e), 0);
	assert_string_equal(m.name, "tests/t.py::test_a[1 2]");
	assert_string_equal(m.kind, "test");
	assert_true(m.limit == UINT64_MAX);
	assert_null(m.extras);
	assert_int_equal(parse("START n kind=command limit=1048576 extras=GC:%20x%0Ay", &m, &e), 0);
	assert_string_equal(m.kind, "command");
	assert_true(m.limit == 1048576);
	assert_string_equal(m.extras, "GC: x\ny");
	/* A marker's limit_memory("24 MB") as the plugin sends it. */
	assert_int_equal(parse("START n limit=24%20MB leaks=1.5%20KiB", &m, &e), 0);
	assert_true(m.limit == 24 << 20);
	assert_true(m.leaks == 1536);
	assert_int_equal(parse("USAGE n", &m, &e), 0);
	assert_int_equal(m.verb, RUN_MSG_USAGE);
	assert_string_equal(m.name, "n");
	/* ROOM: whether a test would start now, by its name alone. */
	assert_int_equal(parse("ROOM t%20x", &m, &e), 0);
	assert_int_equal(m.verb, RUN_MSG_ROOM);
	assert_string_equal(m.name, "t x");
	/* NOTE: the open unit's latest lines (a sample of its top allocations). */
	assert_int_equal(parse("NOTE n extras=Top%0A%20%20t.py:3:%201.0%20MB", &m, &e), 0);
	assert_int_equal(m.verb, RUN_MSG_NOTE);
	assert_string_equal(m.name, "n");
	assert_string_equal(m.extras, "Top\n  t.py:3: 1.0 MB");
}

/* END carries outcome and status; status is an exit status. */
/* keep=1 asks for a unit kept for the next START; moved=1 says the client moved itself in.
 * Both are flags: only 1, only on START. */
static void test_msg_start_keep_and_moved(void **state)
{
	struct run_msg m;
	struct wc_error e;

	(void)state;
	assert_int_equal(parse("START t.py::test_a", &m, &e), 0);
	assert_false(m.keep);
	assert_false(m.moved);
	assert_int_equal(parse("START t.py::test_a keep=1", &m, &e), 0);
	assert_true(m.keep);
	assert_false(m.moved);
	assert_int_equal(parse("START t.py::test_a keep=1 moved=1", &m, &e), 0);
	assert_true(m.keep);
	assert_true(m.moved);
	assert_int_equal(parse("START t.py::test_a moved=yes", &m, &e), -EINVAL);
	assert_string_equal(e.msg, "keep and moved take 1, got 'yes'");
	assert_int_equal(parse("START t.py::test_a keep=0", &m, &e), -EINVAL);
	assert_int_equal(parse("END t.py::test_a keep=1", &m, &e), -EINVAL);
	assert_string_equal(e.msg, "unknown field 'keep'");
}

/* VERDICT requeue=1: the client can run the test again; only 1, only on VERDICT. */
static void test_msg_verdict_requeue(void **state)
{
	struct run_msg m;
	struct wc_error e;

	(void)state;
	assert_int_equal(parse("VERDICT t.py::test_a", &m, &e), 0);
	assert_false(m.requeue);
	assert_int_equal(parse("VERDICT t.py::test_a requeue=1", &m, &e), 0);
	assert_true(m.requeue);
	assert_string_equal(m.name, "t.py::test_a");
}

static void test_msg_end_fields(void **state)
{
	struct run_msg m;
	struct wc_error e;

	(void)state;
	assert_int_equal(parse("END n outcome=failed status=1", &m, &e), 0);
	assert_string_equal(m.outcome, "failed");
	assert_int_equal(m.status, 1);
	assert_null(m.reports);
	assert_int_equal(parse("END n outcome=failed reports=eyJhIjogMX0=", &m, &e), 0);
	assert_string_equal(m.reports, "eyJhIjogMX0=");
	assert_null(m.message);
	assert_int_equal(parse("END n outcome=failed message=assert%201%20==%202 "
			       "failure=E%20%20assert%0A", &m, &e), 0);
	assert_string_equal(m.message, "assert 1 == 2");
	assert_string_equal(m.failure, "E  assert\n");
	assert_int_equal(parse("START n message=x", &m, &e), -EINVAL);
	assert_int_equal(parse("END n status=256", &m, &e), -EINVAL);
	assert_string_equal(e.msg, "status must be 0-255, got '256'");
}

/* An exit code and a signal are separate fields: 200 stays an exit code. */
static void test_msg_end_status_or_signal(void **state)
{
	struct run_msg m;
	struct wc_error e;

	(void)state;
	assert_int_equal(parse("END n status=200", &m, &e), 0);
	assert_int_equal(m.status, 200);
	assert_int_equal(m.signal, 0);
	assert_int_equal(parse("END n signal=9", &m, &e), 0);
	assert_int_equal(m.signal, 9);
	assert_int_equal(m.status, -1);
	assert_int_equal(parse("END n signal=0", &m, &e), -EINVAL);
	assert_string_equal(e.msg, "signal must be 1-64, got '0'");
	assert_int_equal(parse("END n signal=65", &m, &e), -EINVAL);
	assert_int_equal(parse("START n signal=9", &m, &e), -EINVAL);
}

/* Garbage is refused with a message that says what was wrong. */
static void test_msg_garbage_refused(void **state)
{
	static const struct { const char *line, *msg; } cases[] = {
		{ "", "empty line" },
		{ "FROB x", "unknown verb 'FROB'" },
		{ "START", "missing name" },
		{ "START a%zz", "bad name 'a%zz'" },
		{ "START a%00b", "bad name 'a%00b'" },
		{ "START a limit=0", "limit must be a SIZE (bytes, 24 MB, 1.5 GiB, 512M), got '0'" },
		{ "START a limit=-5", "limit must be a SIZE (bytes, 24 MB, 1.5 GiB, 512M), got '-5'" },
		{ "START a limit=24%20XB", "limit must be a SIZE (bytes, 24 MB, 1.5 GiB, 512M), got '24 XB'" },
		{ "START a limit=max", "limit must be a SIZE (bytes, 24 MB, 1.5 GiB, 512M), got 'max'" },
		{ "USAGE a b", "USAGE takes one field" },
		{ "ROOM a b", "ROOM takes one field" },
		{ "ROOM", "missing name" },
		{ "START a limit=1%0A%20MB", "limit must be a SIZE (bytes, 24 MB, 1.5 GiB, 512M), got '1\\n MB'" },
		{ "START a kind=x%0Dy", "kind must be test or command, got 'x\\ry'" },
		{ "START a leaks=1%20XB", "leaks must be a SIZE (bytes, 24 MB, 1.5 GiB, 512M), got '1 XB'" },
		{ "START a limit=4095", "limit must be at least a page, got '4095'" },
		{ "START a kind=suite", "kind must be test or command, got 'suite'" },
		{ "START a colour=red", "unknown field 'colour'" },
		{ "START a extras", "expected key=value, got 'extras'" },
		{ "END a limit=5", "unknown field 'limit'" },
		{ "END a reports=", "reports must be one word" },
		{ "END a reports=x%20y", "reports must be one word" },
		{ "VERDICT a b", "expected key=value, got 'b'" },
		{ "VERDICT a requeue=2", "requeue takes 1, got '2'" },
		{ "VERDICT a extras=x", "unknown field 'extras'" },
		{ "START a requeue=1", "unknown field 'requeue'" },
		{ "NOTE a limit=5", "unknown field 'limit'" },
		{ "NOTE", "missing name" },
		{ "STANDBY now", "STANDBY takes no field" },
		{ "RESUME all", "RESUME takes no field" },
		{ "TOP", "missing name" },
		{ "TOP x", "TOP needs a rank 'x'" },
		{ "TOP -1", "TOP needs a rank '-1'" },
		{ "TOP 1 2", "TOP takes one field" },
	};
	struct run_msg m;
	struct wc_error e;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(parse(cases[i].line, &m, &e), -EINVAL);
		assert_string_equal(e.msg, cases[i].msg);
	}
}

/* A name or extras over their bound is refused (400), at the bound it is taken: the line
 * that carries them may be 64 KiB, but a name is a log line, not a payload. */
static void test_msg_bounds(void **state)
{
	static char line[RUN_LINE_MAX];
	struct run_msg m;
	struct wc_error e;
	int n;

	(void)state;
	n = snprintf(line, sizeof(line), "START ");
	memset(line + n, 'a', RUN_NAME_MAX);
	line[n + RUN_NAME_MAX] = '\0';
	assert_int_equal(run_msg_parse(line, &m, &e), 0);
	assert_int_equal(strlen(m.name), RUN_NAME_MAX);
	n = snprintf(line, sizeof(line), "END ");
	memset(line + n, 'a', RUN_NAME_MAX + 1);
	line[n + RUN_NAME_MAX + 1] = '\0';
	assert_int_equal(run_msg_parse(line, &m, &e), -EINVAL);
	assert_string_equal(e.msg, "name longer than 8192 bytes");
	n = snprintf(line, sizeof(line), "END t extras=");
	memset(line + n, 'x', RUN_EXTRAS_MAX + 1);
	line[n + RUN_EXTRAS_MAX + 1] = '\0';
	assert_int_equal(run_msg_parse(line, &m, &e), -EINVAL);
	assert_string_equal(e.msg, "extras longer than 16384 bytes");
	n = snprintf(line, sizeof(line), "END t failure=");
	memset(line + n, 'x', RUN_FAILURE_MAX + 1);
	line[n + RUN_FAILURE_MAX + 1] = '\0';
	assert_int_equal(run_msg_parse(line, &m, &e), -EINVAL);
	assert_string_equal(e.msg, "message and failure longer than 4096 bytes");
	n = snprintf(line, sizeof(line), "END t extras=");  /* parsing cut the line up */
	memset(line + n, 'x', RUN_EXTRAS_MAX);
	line[n + RUN_EXTRAS_MAX] = '\0';
	assert_int_equal(run_msg_parse(line, &m, &e), 0);
}

/* Encoding leaves readable node IDs readable and round-trips every other byte. */
static void test_field_encode_round_trip(void **state)
{
	char enc[256], all[256];

	(void)state;
	assert_int_equal(cfg_field_encode("t.py::Test::test_x[a-1]", enc, sizeof(enc)), 23);
	assert_string_equal(enc, "t.py::Test::test_x[a-1]");
	cfg_field_encode("a b\n%\x1b", enc, sizeof(enc));
	assert_string_equal(enc, "a%20b%0A%25%1B");
	for (int i = 1; i < 256; i++)
		all[i - 1] = (char)i;
	all[255] = '\0';
	cfg_field_encode(all, enc, sizeof(enc));  /* too small: truncated, still terminated */
	assert_int_equal(strlen(enc), sizeof(enc) - 1);
	{
		char big[1024];

		assert_true(cfg_field_encode(all, big, sizeof(big)) < sizeof(big));
		assert_int_equal(cfg_field_decode(big), 0);
		assert_memory_equal(big, all, 256);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_msg_hello),
		cmocka_unit_test(test_msg_standby),
		cmocka_unit_test(test_msg_top),
		cmocka_unit_test(test_msg_start_fields),
		cmocka_unit_test(test_msg_start_keep_and_moved),
		cmocka_unit_test(test_msg_verdict_requeue),
		cmocka_unit_test(test_msg_end_fields),
		cmocka_unit_test(test_msg_end_status_or_signal),
		cmocka_unit_test(test_msg_garbage_refused),
		cmocka_unit_test(test_msg_bounds),
		cmocka_unit_test(test_field_encode_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
