/* The JUnit XML report, as CI systems read it: one <testsuite> for the session, one
 * <testcase> a unit (a test named as pytest's own --junitxml names it; the command that ran
 * tests is the suite's properties instead); a unit that did not end well (OOM-killed,
 * killed, exited non-zero, or a failed test) is a <failure> with pytest's own text when it
 * sent one, its verdict and peak, one that never ran an <error>. Schema: etc/reports.md. */
#ifndef WCMEM_REPORT_JUNIT_H
#define WCMEM_REPORT_JUNIT_H

#include <stddef.h>
#include <stdio.h>

#include "report/log.h"
#include "report/record.h"

/* How a unit counts in the report (the JSON report's "outcome" says the same). */
enum rep_outcome { REP_PASSED, REP_FAILED, REP_ERROR, REP_SKIPPED };

/* pytest's word ("passed", "failed", "error", "skipped") as an enum rep_outcome; -EINVAL for
 * any other text (or NULL). */
int rep_outcome_parse(const char *word);

/* Failed: OOM-killed (even when the main process survived it); else pytest's outcome when the
 * plugin gave one; else killed by a signal or exited non-zero. Error: never started, or
 * ended without an exit status. Else passed. */
enum rep_outcome rep_outcome(const struct rep_unit *u);

/* Where a test's node ID splits into classname and name: its last "::" before the first
 * "[" (a parameter's id may hold "::" of its own: "t.py::test_x[a::b]"); NULL when none. */
const char *rep_junit_split(const char *nodeid);

/* Writes the report of n units and the session s to f. Returns 0, or -errno. */
int rep_junit_write(FILE *f, const struct rep_unit *units, size_t n, const struct rep_session *s);

/* Writes text to f escaped for XML 1.0 attribute values and text: & < > " ' as entities, tab,
 * newline and carriage return as character references; control characters, which XML 1.0
 * cannot carry at all, U+FFFE, U+FFFF and bytes that are not UTF-8 as the text \xHH. */
void rep_xml_escape(FILE *f, const char *text);

#endif
