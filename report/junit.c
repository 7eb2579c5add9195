/* The JUnit XML report:
 *
 *   <testsuites name="wcmem-sandbox" tests="2" failures="1" errors="0" time="1.234">
 *     <testsuite name="wcmem-sandbox --profile ci" ... timestamp="2026-11-25T17:53:48">
 *       <properties> the sandbox: cgroup, backend, limits, peak, log; the command </properties>
 *       <testcase classname="tests.test_a.TestB" name="test_c[x::y]" time="0.812">
 *         <failure type="oom" message="OOM-killed: exceeded its own limit 64.0 MB; peak 64.0 MB">
 *         ...the test's own text, then the figures...</failure>
 *         <system-out>peak 64.0 MB, limit 64.0 MB, cgroup wcmem-42/u2</system-out>
 *
 * A test's classname and name are pytest's own --junitxml's, so that CI pages match the two;
 * the command that ran the tests is the suite's properties, not a test.
 * Times are UTC. The figures are the log's ("64.0 MB"): people read JUnit in CI pages; programs
 * read the JSON report. */
#include "report/junit.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report/utf8.h"
#include "report/verdict.h"

int rep_outcome_parse(const char *word)
{
	/* pytest's outcomes, in enum rep_outcome's order */
	static const char *const pytest[] = { "passed", "failed", "error", "skipped" };

	for (int i = 0; word && i < 4; i++)
		if (strcmp(word, pytest[i]) == 0)
			return i;
	return -EINVAL;
}

enum rep_outcome rep_outcome(const struct rep_unit *u)
{
	int known = rep_outcome_parse(u->outcome);

	if (u->oom != REP_OOM_NONE)
		return REP_FAILED;  /* even when the main process survived: a process was lost */
	if (known >= 0)
		return (enum rep_outcome)known;
	switch (u->end) {
	case REP_END_EXITED:
		return u->code == 0 ? REP_PASSED : REP_FAILED;
	case REP_END_SIGNALED:
		return REP_FAILED;
	default:
		return REP_ERROR;  /* never started, or ended without an exit status */
	}
}

/* The failure's or error's type attribute. */
static const char *kind_of_failure(const struct rep_unit *u)
{
	if (u->oom != REP_OOM_NONE)
		return "oom";
	if (u->timed_out)
		return "timeout";
	if (u->outcome)
		return u->outcome;  /* pytest's: "failed", "error" */
	switch (u->end) {
	case REP_END_EXITED: return "exit";
	case REP_END_SIGNALED: return "signal";
	case REP_END_NOT_RUN: return "not_run";
	default: return "lost";
	}
}

void rep_xml_escape(FILE *f, const char *text)
{
	static const char *const named[128] = {
		['&'] = "&amp;", ['<'] = "&lt;", ['>'] = "&gt;", ['"'] = "&quot;",
		['\''] = "&apos;", ['\t'] = "&#9;", ['\n'] = "&#10;", ['\r'] = "&#13;",
	};
	uint32_t cp;
	size_t len;

	for (const char *p = text ? text : ""; *p; p += len) {
		unsigned char c = (unsigned char)*p;

		len = rep_utf8_next(p, &cp);
		if (len == 0)
			len = 1;  /* not UTF-8: this byte alone */
		if (c < 128 && named[c])
			fputs(named[c], f);
		else if (len == 1 && c >= 0x80)
			fprintf(f, "\\x%02x", c);
		else if (cp < 0x20 || cp == 0x7f || cp == 0xfffe || cp == 0xffff)
			for (size_t i = 0; i < len; i++)  /* not an XML character */
				fprintf(f, "\\x%02x", (unsigned char)p[i]);
		else if (rep_utf8_unsafe(cp))  /* C1, bidi: the same text, never raw */
			fprintf(f, "&#x%x;", (unsigned)cp);
		else
			fwrite(p, 1, len, f);
	}
}

/* A limit as the log writes it: "64.0 MB", or "max". */
static const char *mb(uint64_t bytes, char *buf, size_t size)
{
	rep_format_mb(bytes, buf, size);
	return buf;
}

/* A measured figure: "64.0 MB", or "unknown" (REP_UNKNOWN is also REP_UNLIMITED). */
static const char *measured(uint64_t bytes, char *buf, size_t size)
{
	if (bytes == REP_UNKNOWN)
		snprintf(buf, size, "unknown");
	else
		rep_format_mb(bytes, buf, size);
	return buf;
}

static void property(FILE *f, const char *name, const char *value)
{
	fprintf(f, "      <property name=\"%s\" value=\"", name);
	rep_xml_escape(f, value);
	fputs("\"/>\n", f);
}

/* A run of tests: the command that ran them (and ran again after each OOM kill) is not a
 * test of it; its line and how each of its runs ended are the suite's properties. */
static bool is_command_of_tests(const struct rep_unit *u, bool tests)
{
	return tests && u->enclosing;
}

static void command_properties(FILE *f, const struct rep_unit *units, size_t n, bool tests)
{
	char verdict[REP_VERDICT_MAX], peak[32], text[REP_VERDICT_MAX + 64];
	bool named = false;

	for (size_t i = 0; i < n; i++) {
		if (!is_command_of_tests(&units[i], tests))
			continue;
		if (!named)
			property(f, "command", units[i].name);
		named = true;
		rep_verdict_text(&units[i], verdict, sizeof(verdict));
		snprintf(text, sizeof(text), "%s; peak %s", verdict,
			 measured(units[i].peak, peak, sizeof(peak)));
		property(f, "command_verdict", text);
	}
}

static void suite_properties(FILE *f, const struct rep_session *s,
			     const struct rep_unit *units, size_t n, bool tests)
{
	char buf[32];

	fputs("    <properties>\n", f);
	property(f, "cgroup", s->cgroup);
	property(f, "backend", s->backend);
	property(f, "limit", mb(s->limit, buf, sizeof(buf)));
	property(f, "test_limit", mb(s->test_limit, buf, sizeof(buf)));
	property(f, "swap", mb(s->swap, buf, sizeof(buf)));
	property(f, "peak", measured(s->peak, buf, sizeof(buf)));
	property(f, "log", s->log_path ? s->log_path : "off");
	command_properties(f, units, n, tests);
	fputs("    </properties>\n", f);
}

/* "peak 64.0 MB, limit 64.0 MB, cgroup wcmem-42/u2" */
static void figures(FILE *f, const struct rep_unit *u)
{
	char a[32], b[32];

	fprintf(f, "peak %s, limit %s, cgroup ", measured(u->peak, a, sizeof(a)),
		mb(u->limit, b, sizeof(b)));
	rep_xml_escape(f, u->cgroup);
}

static void failure(FILE *f, const struct rep_unit *u, enum rep_outcome o)
{
	const struct cg_events *ev = &u->events;
	char verdict[REP_VERDICT_MAX], peak[32], msg[REP_VERDICT_MAX + 64];

	rep_verdict_text(u, verdict, sizeof(verdict));
	snprintf(msg, sizeof(msg), "%s; peak %s", verdict, measured(u->peak, peak, sizeof(peak)));
	/* pytest's message and text when the test sent them (pytest's own JUnit says the
	 * same), then ours */
	fprintf(f, "      <%s type=\"%s\" message=\"", o == REP_FAILED ? "failure" : "error",
		kind_of_failure(u));
	rep_xml_escape(f, u->message && u->oom == REP_OOM_NONE ? u->message : msg);
	fputs("\">", f);
	if (u->failure) {
		rep_xml_escape(f, u->failure);
		fputs("\n\nwcmem-sandbox: ", f);
	}
	rep_xml_escape(f, verdict);
	fputs("\n", f);
	figures(f, u);
	if (u->v1)
		fprintf(f, "\nmemory events (cgroup v1): failcnt=%llu oom_kill=%llu",
			(unsigned long long)ev->max, (unsigned long long)ev->oom_kill);
	else
		fprintf(f, "\nmemory events: low=%llu high=%llu max=%llu oom=%llu oom_kill=%llu",
			(unsigned long long)ev->low, (unsigned long long)ev->high,
			(unsigned long long)ev->max, (unsigned long long)ev->oom,
			(unsigned long long)ev->oom_kill);
	fprintf(f, "</%s>\n", o == REP_FAILED ? "failure" : "error");
}

const char *rep_junit_split(const char *nodeid)
{
	const char *params = strchr(nodeid, '['), *last = NULL;

	for (const char *p = strstr(nodeid, "::"); p && (!params || p < params);
	     p = strstr(p + 2, "::"))
		last = p;
	return last;
}

/* The classname of a test's node ID as pytest's junitxml makes it (mangle_test_address):
 * the file without ".py", '/' as '.', then its classes, all up to the last "::" before the
 * parameters ("tests/test_a.py::TestB::test_c[x::y]" gives "tests.test_a.TestB"). */
static void test_classname(FILE *f, const char *id, const char *last)
{
	size_t file = strcspn(id, ":"), cls;
	char *text;

	while (id[file] && strncmp(id + file, "::", 2) != 0)
		file += 1 + strcspn(id + file + 1, ":");
	cls = (size_t)(last - id);
	if (file > cls)
		file = cls;
	text = strndup(id, cls);
	if (!text) {
		fputs("test", f);
		return;
	}
	for (size_t i = 0; i < file; i++)
		if (text[i] == '/')
			text[i] = '.';
	if (file >= 3 && strncmp(text + file - 3, ".py", 3) == 0) {
		memmove(text + file - 3, text + file, cls - file + 1);
		file -= 3;
	}
	for (char *p = text + file; (p = strstr(p, "::")); p++) {  /* "A::B" is "A.B" */
		*p = '.';
		memmove(p + 1, p + 2, strlen(p + 2) + 1);
	}
	rep_xml_escape(f, text);
	free(text);
}

/* classname and name: a test's as pytest's own JUnit XML has them; a suite or command is
 * classed by its kind. */
static void testcase_names(FILE *f, const struct rep_unit *u)
{
	const char *name = u->name ? u->name : "", *last = NULL;

	if (strcmp(u->kind ? u->kind : "", "test") == 0)
		last = rep_junit_split(name);
	fputs("classname=\"", f);
	if (last) {
		test_classname(f, name, last);
		name = last + 2;
	} else {
		rep_xml_escape(f, u->kind);
	}
	fputs("\" name=\"", f);
	rep_xml_escape(f, name);
	fputs("\"", f);
}

static void testcase(FILE *f, const struct rep_unit *u)
{
	enum rep_outcome o = rep_outcome(u);

	fputs("    <testcase ", f);
	testcase_names(f, u);
	fprintf(f, " time=\"%.3f\">\n", u->duration);
	if (o == REP_SKIPPED && u->message) {  /* pytest's reason */
		fputs("      <skipped message=\"", f);
		rep_xml_escape(f, u->message);
		fputs("\"/>\n", f);
	} else if (o == REP_SKIPPED) {
		fputs("      <skipped/>\n", f);
	}
	else if (o != REP_PASSED)
		failure(f, u, o);
	fputs("      <system-out>", f);
	figures(f, u);
	fputs("</system-out>\n    </testcase>\n", f);
}

/* A suite that never started: skipped, with the reason. */
static void testcase_not_run(FILE *f, const char *name, const char *why)
{
	fputs("    <testcase classname=\"suite\" name=\"", f);
	rep_xml_escape(f, name);
	fputs("\" time=\"0.000\">\n      <skipped message=\"not run: ", f);
	rep_xml_escape(f, why ? why : "");
	fputs("\"/>\n    </testcase>\n", f);
}

int rep_junit_write(FILE *f, const struct rep_unit *units, size_t n, const struct rep_session *s)
{
	size_t failures = 0, errors = 0, skipped = s->n_not_run, tests = s->n_not_run;
	bool of_tests = false;
	char stamp[32];
	struct tm tm;

	for (size_t i = 0; i < n; i++)
		of_tests |= strcmp(units[i].kind ? units[i].kind : "", "test") == 0;
	for (size_t i = 0; i < n; i++) {
		if (is_command_of_tests(&units[i], of_tests))
			continue;  /* counts are the tests' */
		tests++;
		failures += rep_outcome(&units[i]) == REP_FAILED;
		errors += rep_outcome(&units[i]) == REP_ERROR;
		skipped += rep_outcome(&units[i]) == REP_SKIPPED;
	}
	gmtime_r(&s->start.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);

	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", f);
	fprintf(f, "<testsuites name=\"wcmem-sandbox\" tests=\"%zu\" failures=\"%zu\" "
		"errors=\"%zu\" skipped=\"%zu\" time=\"%.3f\">\n", tests, failures, errors, skipped,
		s->elapsed);
	fputs("  <testsuite name=\"", f);
	rep_xml_escape(f, s->command);
	fprintf(f, "\" tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\" "
		"time=\"%.3f\" timestamp=\"%s\">\n", tests, failures, errors, skipped, s->elapsed,
		stamp);
	suite_properties(f, s, units, n, of_tests);
	for (size_t i = 0; i < n; i++)
		if (!is_command_of_tests(&units[i], of_tests))
			testcase(f, &units[i]);
	for (size_t i = 0; i < s->n_not_run; i++)
		testcase_not_run(f, s->not_run[i], s->not_run_why);
	fputs("  </testsuite>\n</testsuites>\n", f);
	if (fflush(f) == EOF)
		return -errno;
	return ferror(f) ? -EIO : 0;
}
