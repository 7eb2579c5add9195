/* The memory log: entry formats against golden files, escaping, and the writer.
 * write(2) is wrapped (test_log.wrap) to inject EINTR, short writes and errors. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report/log.h"
#include "report/status.h"
#include "report/verdict.h"
#include "unit.h"

#define MIB UINT64_C(1048576)
#define GIB (MIB * 1024)

/* ---- write(2) under test control ---- */

ssize_t __real_write(int fd, const void *buf, size_t n);

static enum {
	WRITE_REAL, WRITE_INTERRUPTED_THEN_SHORT, WRITE_NO_SPACE, WRITE_SHORT_THEN_NO_SPACE,
} write_mode;
static int write_calls;

ssize_t __wrap_write(int fd, const void *buf, size_t n);
ssize_t __wrap_write(int fd, const void *buf, size_t n)
{
	write_calls++;
	switch (write_mode) {
	case WRITE_REAL:
		break;
	case WRITE_INTERRUPTED_THEN_SHORT:
		if (write_calls == 1) {
			errno = EINTR;
			return -1;
		}
		return __real_write(fd, buf, n < 3 ? n : 3);  /* three bytes at a time */
	case WRITE_NO_SPACE:
		errno = ENOSPC;
		return -1;
	case WRITE_SHORT_THEN_NO_SPACE:  /* a disk that fills up inside the entry */
		if (write_calls == 1)
			return __real_write(fd, buf, n < 5 ? n : 5);
		errno = ENOSPC;
		return -1;
	}
	return __real_write(fd, buf, n);
}

/* ---- records for the golden files ---- */

/* 2025-10-24T12:34:56.789012 UTC, plus seconds. */
static struct timespec stamp(double plus)
{
	long long ns = 789012000LL + (long long)(plus * 1e9 + 0.5);
	struct timespec ts = { 1761309296 + ns / 1000000000, ns % 1000000000 };

	return ts;
}

static const struct rep_status status_fresh = { 3060, 3060, 1696, 1696 };
static const struct rep_status status_big = { 2113544, 2113544, 524800, 524288 };
static const struct rep_status status_none = { -1, -1, -1, -1 };

/* The entries formatted so far, as the log file would hold them. */
static char logbuf[32768];
static size_t loglen;

static void add(int r)
{
	if (r < 0)
		fail_msg("formatting an entry failed: %d", r);
	loglen += (size_t)r;
}

#define AT_END (logbuf + loglen), (sizeof(logbuf) - loglen)

static int setup_log(void **state)
{
	(void)state;
	loglen = 0;
	logbuf[0] = '\0';
	write_mode = WRITE_REAL;
	write_calls = 0;
	return 0;
}

/* Every head line splits into a known event and a name the way upstream readers split
 * it, every other line is indented, and every Peak memory value reads as a float. */
static void check_reader_view(const char *text)
{
	static const char *const events[] = { "SESSION_START", "TEST_START", "TEST_END",
					      "SESSION_END", "COMMAND_START", "COMMAND_END",
					      "UNIT_REFUSED" };

	for (const char *line = text; *line; ) {
		const char *nl = strchr(line, '\n');
		char copy[1024];

		assert_non_null(nl);
		snprintf(copy, sizeof(copy), "%.*s", (int)(nl - line), line);
		if (copy[0] == '[') {
			char *event = strchr(copy, ']'), *colon;
			bool known = false;

			assert_non_null(event);
			event += 2;
			colon = strchr(event, ':');
			assert_non_null(colon);
			*colon = '\0';
			for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++)
				known |= strcmp(event, events[i]) == 0;
			if (!known)
				fail_msg("head line with unknown event: %s", line);
		} else if (strncmp(copy, "  ", 2) != 0) {
			fail_msg("continuation line not indented: %s", copy);
		}
		if (strstr(copy, "Peak memory:")) {
			char *end, *value = strrchr(copy, ':') + 1;

			strtod(value, &end);
			if (end == value || strcmp(end, " MB") != 0)
				fail_msg("Peak memory does not read as a float: %s", copy);
		}
		line = nl + 1;
	}
}

/* The names of the TEST_END entries, one a line: the tests a reader that knows only the
 * guide's format sees (it skips every other event, etc/log-format.md). */
static void guide_tests(const char *text, char *out, size_t size)
{
	size_t len = 0;

	out[0] = '\0';
	for (const char *line = text; *line; line = strchr(line, '\n') + 1) {
		const char *nl = strchr(line, '\n'), *event = strstr(line, "] ");

		if (line[0] != '[' || !event || event > nl || strncmp(event + 2, "TEST_END: ", 10))
			continue;
		len += (size_t)snprintf(out + len, size - len, "%.*s\n", (int)(nl - event - 12),
					event + 12);
		assert_true(len < size);
	}
}

/* A single command on cgroup v1, OOM-killed by its own limit: the whole log. */
static void test_log_golden_command_v1_oom(void **state)
{
	const char *cmd = "python3 -c 'b = bytearray(2 << 30)'";
	struct rep_session s = {
		.start = stamp(0), .elapsed = 4.3, .command = cmd, .cgroup = "wcmem-4242",
		.backend = "cgroup v1", .limit = 512 * MIB, .test_limit = 512 * MIB, .swap = 0,
		.peak = 537198592, .units = 1, .oom_killed = 1, .exit_status = 137,
	};
	struct rep_unit u = {
		.name = (char *)cmd, .kind = "command", .enclosing = true, .cgroup = "wcmem-4242/u1", .v1 = true,
		.start = stamp(0.001), .start_elapsed = 0.0, .duration = 4.2,
		.limit = 512 * MIB, .sandbox_limit = 512 * MIB,
		.peak = 536870912, .current = 1179648, .pid = 4243,
		.status_start = status_fresh, .status_end = status_big,
		.end = REP_END_SIGNALED, .code = SIGKILL,
	};
	struct timespec end = stamp(4.201), last = stamp(4.3);
	char names[256];

	(void)state;
	u.events.max = 3784;
	u.events.oom_kill = 1;
	u.oom = rep_verdict_oom(&u);
	add(rep_log_format_session_start(AT_END, &s));
	add(rep_log_format_unit_start(AT_END, &u));
	add(rep_log_format_unit_end(AT_END, &u, &end, 4.2));
	add(rep_log_format_session_end(AT_END, &s, &last));
	check_reader_view(logbuf);
	guide_tests(logbuf, names, sizeof(names));
	assert_string_equal(names, "");  /* no test ran: the command is no test */
	unit_assert_golden(logbuf, "golden/command_v1_oom.log");
}

/* A pytest run on cgroup v2: a passing test, one killed by the sandbox total, one by the
 * system with a forging name and no /proc figures, then the command itself. */
static void test_log_golden_pytest_v2(void **state)
{
	const char *cmd = "pytest -q tests/suites/basic";
	struct rep_session s = {
		.start = stamp(0), .elapsed = 30.25, .command = cmd, .cgroup = "wcmem-5151",
		.backend = "cgroup v2", .limit = 4 * GIB, .test_limit = 3 * GIB, .swap = 0,
		.peak = 4 * GIB, .units = 4, .oom_killed = 2, .exit_status = 1,
	};
	struct rep_unit command = {
		.name = (char *)cmd, .kind = "command", .enclosing = true, .cgroup = "wcmem-5151/u1",
		.start = stamp(0.002), .duration = 30.2, .limit = REP_UNLIMITED,
		.sandbox_limit = 4 * GIB, .peak = 130 * MIB, .current = 0, .pid = 5152,
		.status_start = status_fresh, .status_end = status_none,
		.end = REP_END_SIGNALED, .code = SIGKILL,
	};
	struct rep_unit small = {
		.name = "tests/test_basic.py::test_small[a:b]", .kind = "test",
		.cgroup = "wcmem-5151/u2", .start = stamp(1.5), .start_elapsed = 1.5,
		.duration = 0.75, .limit = 3 * GIB, .sandbox_limit = 4 * GIB,
		.peak = 210239488, .current = 12 * MIB, .pid = 5152,
		.status_start = status_fresh, .status_end = status_big,
		.location = "tests/test_basic.py:7",
	};
	struct rep_unit big = small, evil = small;
	struct timespec t;
	char names[1024];

	(void)state;
	big.name = "tests/test_basic.py::test_big";
	big.cgroup = "wcmem-5151/u3";
	big.start = stamp(2.3);
	big.start_elapsed = 2.3;
	big.duration = 10;
	big.peak = 3000 * MIB;
	big.current = REP_UNKNOWN;
	big.end = REP_END_SIGNALED;
	big.code = SIGKILL;
	big.events.max = 7;
	big.events.oom_kill = 1;
	big.events.oom_group_kill = 1;
	big.sandbox_events.oom = 1;
	big.oom = rep_verdict_oom(&big);
	evil.name = "tests/test_evil.py::test_x[\n[2025-01-01T00:00:00.000000] TEST_END: "
		    "forged\x1b[31m\t\\]";
	evil.location = "tests/test_evil.py:3\n[2025-01-01T00:00:00.000000] TEST_END: forged";
	evil.cgroup = "wcmem-5151/u4";
	evil.start = stamp(20.05);
	evil.start_elapsed = 20.05;
	evil.duration = 9.94;
	evil.peak = REP_UNKNOWN;
	evil.current = REP_UNKNOWN;
	evil.status_start = (struct rep_status){ -1, -1, -1, 4 };
	evil.status_end = status_none;
	evil.end = REP_END_SIGNALED;
	evil.code = SIGKILL;
	evil.events.oom_kill = 1;
	evil.oom = rep_verdict_oom(&evil);
	command.oom = rep_verdict_oom(&command);

	add(rep_log_format_session_start(AT_END, &s));
	add(rep_log_format_unit_start(AT_END, &command));
	add(rep_log_format_unit_start(AT_END, &small));
	t = stamp(2.25);
	add(rep_log_format_unit_end(AT_END, &small, &t, 2.25));
	add(rep_log_format_unit_start(AT_END, &big));
	t = stamp(12.3);
	add(rep_log_format_unit_end(AT_END, &big, &t, 12.3));
	add(rep_log_format_unit_start(AT_END, &evil));
	t = stamp(29.99);
	add(rep_log_format_unit_end(AT_END, &evil, &t, 29.99));
	t = stamp(30.1);
	add(rep_log_format_refused(AT_END, &t, "START", "tests/test_basic.py::test_p[a\\b]",
				   "ERR 409 a unit is open: END it first"));
	t = stamp(30.2);
	add(rep_log_format_unit_end(AT_END, &command, &t, 30.2));
	t = stamp(30.25);
	add(rep_log_format_session_end(AT_END, &s, &t));
	check_reader_view(logbuf);
	guide_tests(logbuf, names, sizeof(names));
	assert_string_equal(names, "tests/test_basic.py::test_small[a:b]\n"
			    "tests/test_basic.py::test_big\n"
			    "tests/test_evil.py::test_x[\\n[2025-01-01T00:00:00.000000] TEST_END: "
			    "forged\\x1b[31m\\t\\]\n");
	unit_assert_golden(logbuf, "golden/pytest_v2.log");
}

/* A command that could not be started, with no limits at all and unknown peaks. */
static void test_log_golden_not_started(void **state)
{
	const char *cmd = "no-such-command --flag";
	struct rep_session s = {
		.start = stamp(0), .elapsed = 0.01, .command = cmd, .cgroup = "wcmem-77",
		.backend = "cgroup v2", .limit = REP_UNLIMITED, .test_limit = REP_UNLIMITED,
		.swap = REP_UNLIMITED, .peak = REP_UNKNOWN, .units = 1, .exit_status = 127,
	};
	struct rep_unit u = {
		.name = (char *)cmd, .kind = "command", .enclosing = true, .cgroup = "wcmem-77/u1",
		.start = stamp(0.001), .duration = 0.004, .limit = REP_UNLIMITED,
		.sandbox_limit = REP_UNLIMITED, .peak = REP_UNKNOWN, .current = REP_UNKNOWN,
		.pid = 78, .status_start = status_none, .status_end = status_none,
		.end = REP_END_NOT_RUN, .code = 127,
	};
	struct timespec end = stamp(0.005), last = stamp(0.01);

	(void)state;
	add(rep_log_format_session_start(AT_END, &s));
	add(rep_log_format_unit_start(AT_END, &u));
	add(rep_log_format_unit_end(AT_END, &u, &end, 0.005));
	add(rep_log_format_session_end(AT_END, &s, &last));
	check_reader_view(logbuf);
	unit_assert_golden(logbuf, "golden/not_started.log");
}

/* The OOM line names the limit; "a process" when the main process was not the victim. */
static void test_log_oom_line_wording(void **state)
{
	struct rep_unit u = {
		.name = "t", .limit = 512 * MIB, .sandbox_limit = 200 * MIB,
		.peak = REP_UNKNOWN, .current = REP_UNKNOWN, .status_end = status_none,
		.end = REP_END_SIGNALED, .code = SIGKILL, .oom = REP_OOM_SANDBOX,
	};
	struct timespec t = stamp(1);
	char buf[1024];

	(void)state;
	assert_true(rep_log_format_unit_end(buf, sizeof(buf), &u, &t, 1) > 0);
	assert_non_null(strstr(buf, "\n  OOM: killed (the sandbox total 200.0 MB was reached)\n"));
	u.oom = REP_OOM_SYSTEM;
	assert_true(rep_log_format_unit_end(buf, sizeof(buf), &u, &t, 1) > 0);
	assert_non_null(strstr(buf, "\n  OOM: killed (by the system: a limit outside the "
			       "sandbox, or the machine ran out)\n"));
	u.oom = REP_OOM_OWN;
	u.end = REP_END_EXITED;
	u.code = 0;
	assert_true(rep_log_format_unit_end(buf, sizeof(buf), &u, &t, 1) > 0);
	assert_non_null(strstr(buf, "\n  Exit: code 0\n  OOM: a process was killed "
			       "(exceeded its own limit 512.0 MB)\n"));
	u.oom = REP_OOM_NONE;
	assert_true(rep_log_format_unit_end(buf, sizeof(buf), &u, &t, 1) > 0);
	assert_null(strstr(buf, "OOM"));
}

/* Kills outside every unit: a line of the unit that ran then, never an "OOM:" line (its
 * own verdict's), and SESSION_END's count of them; without any, neither line. */
static void test_log_outside_kills(void **state)
{
	struct rep_unit u = {
		.name = "t", .limit = 512 * MIB, .peak = REP_UNKNOWN, .current = REP_UNKNOWN,
		.status_end = status_none, .end = REP_END_EXITED, .outside_kills = 1,
	};
	struct rep_session s = { .command = "pytest", .peak = REP_UNKNOWN, .units = 3,
				 .oom_killed = 1, .outside_kills = 1 };
	struct timespec t = stamp(1);
	char buf[1024];

	(void)state;
	assert_true(rep_log_format_unit_end(buf, sizeof(buf), &u, &t, 1) > 0);
	assert_non_null(strstr(buf, "\n  Outside every unit, OOM-killed meanwhile: 1 process "
			       "(left running, in the harness or standing by)\n"));
	assert_null(strstr(buf, "OOM:"));
	assert_true(rep_log_format_session_end(buf, sizeof(buf), &s, &t) > 0);
	assert_non_null(strstr(buf, "\n  OOM-killed: 1\n  OOM-killed outside every unit: 1\n"));
	u.outside_kills = s.outside_kills = 0;
	assert_true(rep_log_format_unit_end(buf, sizeof(buf), &u, &t, 1) > 0);
	assert_null(strstr(buf, "Outside"));
	assert_true(rep_log_format_session_end(buf, sizeof(buf), &s, &t) > 0);
	assert_null(strstr(buf, "outside"));
}

/* Every size short of the entry is -ENOSPC; the exact size plus the NUL succeeds. */
static void test_log_format_too_small_is_enospc(void **state)
{
	struct rep_unit u = {
		.name = "tests/x.py::t\n", .kind = "test", .cgroup = "wcmem-1/u1",
		.start = stamp(0), .limit = GIB, .peak = GIB, .current = 0,
		.status_start = status_fresh, .status_end = status_big,
	};
	struct rep_session s = { .start = stamp(0), .command = "c\x1b", .cgroup = "w",
				 .backend = "cgroup v2", .peak = 1 };
	struct timespec t = stamp(1);
	char full[2048], small[2048];
	int len;

	(void)state;
	len = rep_log_format_unit_end(full, sizeof(full), &u, &t, 1);
	assert_true(len > 0);
	for (int size = 0; size <= len; size++)
		assert_int_equal(rep_log_format_unit_end(small, (size_t)size, &u, &t, 1),
				 -ENOSPC);
	assert_int_equal(rep_log_format_unit_end(small, (size_t)len + 1, &u, &t, 1), len);
	assert_string_equal(small, full);

	len = rep_log_format_unit_start(full, sizeof(full), &u);
	for (int size = 0; size <= len; size++)
		assert_int_equal(rep_log_format_unit_start(small, (size_t)size, &u), -ENOSPC);
	len = rep_log_format_session_start(full, sizeof(full), &s);
	for (int size = 0; size <= len; size++)
		assert_int_equal(rep_log_format_session_start(small, (size_t)size, &s), -ENOSPC);
	len = rep_log_format_session_end(full, sizeof(full), &s, &t);
	for (int size = 0; size <= len; size++)
		assert_int_equal(rep_log_format_session_end(small, (size_t)size, &s, &t),
				 -ENOSPC);
}

/* Control characters are escaped; backslashes (pytest's own escapes in ids) and other
 * bytes (UTF-8) pass as they are. */
static void test_log_escape_control_characters(void **state)
{
	char out[128];

	(void)state;
	assert_int_equal(rep_log_escape("a\nb", out, sizeof(out)), 4);
	assert_string_equal(out, "a\\nb");
	rep_log_escape("\x1b[31mred", out, sizeof(out));
	assert_string_equal(out, "\\x1b[31mred");
	rep_log_escape("test_p[a\\b]", out, sizeof(out));
	assert_string_equal(out, "test_p[a\\b]");
	rep_log_escape("tab\there\r", out, sizeof(out));
	assert_string_equal(out, "tab\\there\\r");
	rep_log_escape("\x01\x7f", out, sizeof(out));
	assert_string_equal(out, "\\x01\\x7f");
	rep_log_escape("t[π::ü]", out, sizeof(out));
	assert_string_equal(out, "t[π::ü]");
	rep_log_escape(NULL, out, sizeof(out));
	assert_string_equal(out, "");
}

/* C1 controls, bidi controls and bytes that are not UTF-8 never pass raw: a terminal would
 * take \xc2\x9b for CSI, and U+202E turns what is shown around. */
static void test_log_escape_c1_bidi_and_bad_bytes(void **state)
{
	char out[128];

	(void)state;
	rep_log_escape("a\xc2\x9b" "31mb", out, sizeof(out));
	assert_string_equal(out, "a\\u009b31mb");
	rep_log_escape("\x9b" "31m", out, sizeof(out));  /* a lone C1 byte: not UTF-8 */
	assert_string_equal(out, "\\x9b31m");
	rep_log_escape("evil\xe2\x80\xaetxt.exe", out, sizeof(out));  /* U+202E */
	assert_string_equal(out, "evil\\u202etxt.exe");
	rep_log_escape("\xe2\x81\xa6x\xe2\x81\xa9\xd8\x9c\xe2\x80\x8f", out, sizeof(out));
	assert_string_equal(out, "\\u2066x\\u2069\\u061c\\u200f");
	rep_log_escape("line\xe2\x80\xa8sep", out, sizeof(out));  /* U+2028 */
	assert_string_equal(out, "line\\u2028sep");
	rep_log_escape("\xff\xc3", out, sizeof(out));
	assert_string_equal(out, "\\xff\\xc3");
	rep_log_escape("\xe2\x80\x94 \xe2\x80\x99", out, sizeof(out));  /* dashes, quotes pass */
	assert_string_equal(out, "\xe2\x80\x94 \xe2\x80\x99");
}

/* A short buffer truncates between escapes, never inside one, and stays terminated. */
static void test_log_escape_truncates_whole_escapes(void **state)
{
	char out[5] = "xxxx";

	(void)state;
	assert_int_equal(rep_log_escape("ab\x1b", out, sizeof(out)), 2);
	assert_string_equal(out, "ab");
	assert_int_equal(rep_log_escape("a\nbc", out, sizeof(out)), 4);
	assert_string_equal(out, "a\\nb");
	assert_int_equal(rep_log_escape("abc", out, 0), 0);
	assert_int_equal(rep_log_escape("abc", out, 1), 0);
	assert_string_equal(out, "");
}

/* $WEATHERCOP_DIR wins, then $HOME/.weathercop; neither is -ENOENT. */
static void test_log_default_path_sources(void **state)
{
	char buf[64];

	(void)state;
	setenv("WEATHERCOP_DIR", "/data/wc", 1);
	setenv("HOME", "/home/ada", 1);
	assert_int_equal(rep_log_default_path(buf, sizeof(buf), getenv("WEATHERCOP_DIR"),
					      getenv("HOME")), 0);
	assert_string_equal(buf, "/data/wc/test_memory.log");
	unsetenv("WEATHERCOP_DIR");
	assert_int_equal(rep_log_default_path(buf, sizeof(buf), getenv("WEATHERCOP_DIR"),
					      getenv("HOME")), 0);
	assert_string_equal(buf, "/home/ada/.weathercop/test_memory.log");
	assert_int_equal(rep_log_default_path(buf, sizeof(buf), "", "/h"), 0);
	assert_string_equal(buf, "/h/.weathercop/test_memory.log");
	assert_int_equal(rep_log_default_path(buf, sizeof(buf), NULL, NULL), -ENOENT);
	assert_int_equal(rep_log_default_path(buf, sizeof(buf), "", ""), -ENOENT);
	assert_int_equal(rep_log_default_path(buf, 10, "/data/wc", NULL), -ENAMETOOLONG);
}

/* ---- the writer, in a fresh temporary folder ---- */

static char tmpdir[64];

static int setup_tmpdir(void **state)
{
	setup_log(state);
	strcpy(tmpdir, "/tmp/wcmem-test-log-XXXXXX");
	umask(022);
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_tmpdir(void **state)
{
	(void)state;
	return unit_remove_tree(tmpdir);
}

static void write_text(struct rep_log *log, const char *text, bool sync)
{
	assert_int_equal(rep_log_write(log, text, strlen(text), sync), 0);
}

static void expect_file(const char *path, const char *want)
{
	char *text = unit_read_file(path);

	assert_non_null(text);
	assert_string_equal(text, want);
	free(text);
}

/* The first run creates ~/.weathercop (mode 0755) and the log (0644). */
static void test_log_open_creates_parent_folder(void **state)
{
	struct rep_log log = { .fd = -1, .copy = -1, .reader = -1 };
	struct wc_error e = { 0 };
	char path[160], dir[128];
	struct stat st;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/.weathercop", tmpdir);
	snprintf(path, sizeof(path), "%s/test_memory.log", dir);
	assert_int_equal(rep_log_open(&log, path, false, &e), 0);
	assert_true(log.fd >= 0);
	write_text(&log, "entry\n", true);
	rep_log_close(&log);
	assert_int_equal(log.fd, -1);
	rep_log_close(&log);  /* twice is harmless */
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	expect_file(path, "entry\n");
}

/* A new session empties the log; --append keeps what is there. */
static void test_log_open_truncates_unless_append(void **state)
{
	struct rep_log log = { .fd = -1, .copy = -1, .reader = -1 };
	char path[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/test_memory.log", tmpdir);
	assert_int_equal(rep_log_open(&log, path, false, NULL), 0);
	write_text(&log, "old\n", false);
	rep_log_close(&log);
	assert_int_equal(rep_log_open(&log, path, false, NULL), 0);
	expect_file(path, "");
	write_text(&log, "new\n", false);
	rep_log_close(&log);
	assert_int_equal(rep_log_open(&log, path, true, NULL), 0);
	write_text(&log, "more\n", true);
	rep_log_close(&log);
	expect_file(path, "new\nmore\n");
}

/* Only one level is created; a deeper missing folder is an error that says which. */
static void test_log_open_errors_fill_record(void **state)
{
	struct rep_log log = { .fd = 7, .copy = 7, .reader = 7 };
	struct wc_error e = { 0 };
	char path[128], want[160];

	(void)state;
	snprintf(path, sizeof(path), "%s/a/b/test_memory.log", tmpdir);
	assert_int_equal(rep_log_open(&log, path, false, &e), -ENOENT);
	assert_int_equal(log.fd, -1);
	assert_int_equal(e.err, ENOENT);
	snprintf(want, sizeof(want), "create folder %s/a", tmpdir);  /* the first missing */
	assert_string_equal(e.msg, want);

	assert_int_equal(rep_log_open(&log, tmpdir, false, &e), -EISDIR);
	snprintf(want, sizeof(want), "open %s", tmpdir);
	assert_string_equal(e.msg, want);
}

/* EINTR is retried and short writes are continued until the entry is whole. */
static void test_log_write_retries_eintr_and_short_writes(void **state)
{
	struct rep_log log = { .fd = -1, .copy = -1, .reader = -1 };
	char path[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/test_memory.log", tmpdir);
	assert_int_equal(rep_log_open(&log, path, false, NULL), 0);
	write_mode = WRITE_INTERRUPTED_THEN_SHORT;
	write_calls = 0;
	write_text(&log, "[stamp] TEST_START: x\n", true);
	write_mode = WRITE_REAL;
	assert_int_equal(write_calls, 1 + 8);  /* EINTR, then 22 bytes in threes */
	rep_log_close(&log);
	expect_file(path, "[stamp] TEST_START: x\n");
}

/* A write error is returned as -errno; a log that is off drops entries silently. */
static void test_log_write_errors_and_off(void **state)
{
	struct rep_log log = { .fd = -1, .copy = -1, .reader = -1 };
	char path[128];

	(void)state;
	write_calls = 0;
	assert_int_equal(rep_log_write(&log, "x\n", 2, true), 0);
	assert_int_equal(write_calls, 0);
	snprintf(path, sizeof(path), "%s/test_memory.log", tmpdir);
	assert_int_equal(rep_log_open(&log, path, false, NULL), 0);
	write_mode = WRITE_NO_SPACE;
	assert_int_equal(rep_log_write(&log, "x\n", 2, false), -ENOSPC);
	write_mode = WRITE_REAL;
	rep_log_close(&log);
}

/* A disk that fills up inside an entry: the written part is taken back, so the log ends with
 * the last whole entry, and the error is returned. */
static void test_log_write_takes_back_a_torn_entry(void **state)
{
	struct rep_log log = { .fd = -1 };
	char path[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/test_memory.log", tmpdir);
	assert_int_equal(rep_log_open(&log, path, false, NULL), 0);
	write_text(&log, "[stamp] TEST_START: a\n", false);
	write_mode = WRITE_SHORT_THEN_NO_SPACE;
	write_calls = 0;
	assert_int_equal(rep_log_write(&log, "[stamp] TEST_END: a\n", 20, true), -ENOSPC);
	write_mode = WRITE_REAL;
	assert_int_equal(write_calls, 2);
	rep_log_close(&log);
	expect_file(path, "[stamp] TEST_START: a\n");
}

/* A log that is not a regular file: /dev/null takes entries, synced or not (fdatasync would
 * say EINVAL), and is neither emptied nor locked. */
static void test_log_on_a_character_device(void **state)
{
	struct rep_log log = { .fd = -1 };
	struct wc_error e = { 0 };

	(void)state;
	if (rep_log_open(&log, "/dev/null", false, &e) < 0)
		fail_msg("open /dev/null: %s (errno %d)", e.msg, e.err);
	assert_false(log.can_sync);
	assert_false(log.shared);
	write_text(&log, "[stamp] TEST_START: x\n", true);
	rep_log_close(&log);
}

/* Two sessions on one log: the second does not empty what the first is writing (it appends,
 * and says so in log.shared); once the first has closed, a new session starts it afresh. */
static void test_log_open_never_empties_a_log_in_use(void **state)
{
	struct rep_log a = { .fd = -1 }, b = { .fd = -1 }, c = { .fd = -1 };
	char path[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/test_memory.log", tmpdir);
	assert_int_equal(rep_log_open(&a, path, false, NULL), 0);
	assert_false(a.shared);
	assert_true(a.can_sync);
	write_text(&a, "a1\n", false);
	assert_int_equal(rep_log_open(&b, path, false, NULL), 0);
	assert_true(b.shared);
	write_text(&b, "b1\n", false);
	write_text(&a, "a2\n", false);
	rep_log_close(&a);
	rep_log_close(&b);
	expect_file(path, "a1\nb1\na2\n");
	assert_int_equal(rep_log_open(&c, path, false, NULL), 0);
	assert_false(c.shared);
	rep_log_close(&c);
	expect_file(path, "");
}

/* One entry is one write(2): tail -f never sees half an entry. */
static void test_log_write_one_call_per_entry(void **state)
{
	struct rep_log log = { .fd = -1, .copy = -1, .reader = -1 };
	char path[128];
	struct rep_unit u = { .name = "t", .kind = "test", .start = stamp(0),
			      .status_start = status_fresh };
	char entry[512];
	int len = rep_log_format_unit_start(entry, sizeof(entry), &u);

	(void)state;
	assert_true(len > 0);
	snprintf(path, sizeof(path), "%s/test_memory.log", tmpdir);
	assert_int_equal(rep_log_open(&log, path, false, NULL), 0);
	write_calls = 0;
	assert_int_equal(rep_log_write(&log, entry, (size_t)len, true), 0);
	assert_int_equal(write_calls, 1);
	rep_log_close(&log);
	expect_file(path, entry);
}

/* Another writer of the file (text written through its own descriptor). */
static void other_writer(const char *path, int flags, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC | flags);

	assert_true(fd >= 0);
	assert_int_equal(__real_write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* A writer that empties the file (as a project's own diagnostics do when their session
 * starts) loses nothing of ours: at our next entry a new file holding all we wrote takes
 * the log's place (the writer keeps the old one). One that only appends is left alone. */
static void test_log_write_puts_back_what_another_writer_erased(void **state)
{
	struct rep_log log = { .fd = -1, .copy = -1 };
	char path[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/test_memory.log", tmpdir);
	assert_int_equal(rep_log_open(&log, path, false, NULL), 0);
	assert_true(log.copy >= 0);  /* tmpfs and ext4 have O_TMPFILE */
	write_text(&log, "[1] SESSION_START: s\n", false);
	other_writer(path, O_APPEND, "[2] THEIRS: appended\n");
	write_text(&log, "[3] TEST_START: a\n", false);
	assert_int_equal(log.restored, 0);
	other_writer(path, O_TRUNC, "[4] THEIRS: after emptying it, a long line of theirs\n");
	write_text(&log, "[5] TEST_END: a\n", true);
	assert_int_equal(log.restored, 1);
	expect_file(path, "[1] SESSION_START: s\n[3] TEST_START: a\n[5] TEST_END: a\n");
	other_writer(path, O_TRUNC, "");  /* and again: found where it was put back */
	write_text(&log, "[6] SESSION_END: s\n", false);
	assert_int_equal(log.restored, 2);
	rep_log_close(&log);
	expect_file(path, "[1] SESSION_START: s\n[3] TEST_START: a\n[5] TEST_END: a\n"
		    "[6] SESSION_END: s\n");
}

/* With --append, ours start after what the file held: that is not taken for an erasure. */
static void test_log_write_append_is_no_erasure(void **state)
{
	struct rep_log log = { .fd = -1, .copy = -1 };
	char path[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/test_memory.log", tmpdir);
	other_writer(path, O_CREAT, "[0] OLD: run\n");
	assert_int_equal(rep_log_open(&log, path, true, NULL), 0);
	write_text(&log, "[1] SESSION_START: s\n", false);
	write_text(&log, "[2] SESSION_END: s\n", false);
	assert_int_equal(log.restored, 0);
	rep_log_close(&log);
	expect_file(path, "[0] OLD: run\n[1] SESSION_START: s\n[2] SESSION_END: s\n");
}

static int setup_utc(void **state)
{
	(void)state;
	/* Stamps are local time: pin the zone so golden files hold on any machine. */
	setenv("TZ", "UTC", 1);
	tzset();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_log_golden_command_v1_oom, setup_log),
		cmocka_unit_test_setup(test_log_golden_pytest_v2, setup_log),
		cmocka_unit_test_setup(test_log_golden_not_started, setup_log),
		cmocka_unit_test(test_log_oom_line_wording),
		cmocka_unit_test(test_log_outside_kills),
		cmocka_unit_test(test_log_format_too_small_is_enospc),
		cmocka_unit_test(test_log_escape_control_characters),
		cmocka_unit_test(test_log_escape_c1_bidi_and_bad_bytes),
		cmocka_unit_test(test_log_escape_truncates_whole_escapes),
		cmocka_unit_test(test_log_default_path_sources),
		cmocka_unit_test_setup_teardown(test_log_open_creates_parent_folder,
						setup_tmpdir, teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_log_open_truncates_unless_append,
						setup_tmpdir, teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_log_open_errors_fill_record,
						setup_tmpdir, teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_log_write_retries_eintr_and_short_writes,
						setup_tmpdir, teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_log_write_takes_back_a_torn_entry,
						setup_tmpdir, teardown_tmpdir),
		cmocka_unit_test(test_log_on_a_character_device),
		cmocka_unit_test_setup_teardown(test_log_open_never_empties_a_log_in_use,
						setup_tmpdir, teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_log_write_errors_and_off,
						setup_tmpdir, teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_log_write_one_call_per_entry,
						setup_tmpdir, teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_log_write_puts_back_what_another_writer_erased,
						setup_tmpdir, teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_log_write_append_is_no_erasure,
						setup_tmpdir, teardown_tmpdir),
	};

	return cmocka_run_group_tests_name("log", tests, setup_utc, NULL);
}
