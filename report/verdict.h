/* The verdict: how a unit ended and, when the OOM killer struck, which limit it enforced.
 * Derived only from the kernel's own counters (README, "What happens"). */
#ifndef WCMEM_REPORT_VERDICT_H
#define WCMEM_REPORT_VERDICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "report/record.h"

/* Whose words a size is in: the memory log's ("512.0 MB", MiB with one decimal: the format
 * WeatherCop's tools and `analyze` read back, kept as it is) or people's ("512.0 MiB",
 * "1.5 GiB", as the kernel and systemd say them). */
enum rep_units { REP_UNITS_LOG, REP_UNITS_PEOPLE };

/* Room for a verdict: a budget file's path (PATH_MAX) and line are in it. */
#define REP_VERDICT_MAX 4400

/* Which limit an OOM kill came from, from the unit's own counters and the sandbox's
 * counters over the unit's life:
 *   v2: unit oom_kill > 0 and unit oom > 0      -> REP_OOM_OWN
 *       unit oom_kill > 0, sandbox oom > 0      -> REP_OOM_SANDBOX
 *       unit oom_kill > 0 otherwise             -> REP_OOM_SYSTEM
 *   v1: unit oom_kill > 0 and unit failcnt > 0  -> REP_OOM_OWN, sandbox failcnt > 0 -> SANDBOX,
 *       else SYSTEM.
 * Returns REP_OOM_NONE when the unit's oom_kill is 0. */
enum rep_oom rep_verdict_oom(const struct rep_unit *u);

/* The verdict as one line of text, no trailing newline, for the summary and the log:
 *   "OOM-killed: exceeded its own limit 512.0 MB"
 *   "OOM-killed: the sandbox total 200.0 MB was reached"
 *   "OOM-killed: by the system (a limit outside the sandbox, or the machine ran out)"
 *   "killed by SIGKILL, not by the OOM killer"      (SIGKILL, no OOM counters)
 *   "killed by SIGKILL at its time limit"           (u->timed_out)
 *   "killed by SIGTERM"  "exited 0"  "exited 3"  "not started: command not found"
 *   "passed" "failed" "skipped" "error"  (a test that ended normally: pytest's outcome)
 * A unit whose main process survived while one of its processes was OOM-killed reads
 *   "exited 0; a process was OOM-killed: exceeded its own limit 512.0 MB".
 * Uses u->oom (set it with rep_verdict_oom first). Returns the length (snprintf). */
int rep_verdict_text(const struct rep_unit *u, char *buf, size_t size);

/* The same verdict with its sizes in people's words ("exceeded its own limit 512.0 MiB"):
 * the summary, pytest's terminal, analyze's text. The log, JSON and JUnit keep the log's. */
int rep_verdict_said(const struct rep_unit *u, char *buf, size_t size);

/* Which limit the kernel enforced, in the words of every report: "exceeded its own limit
 * 512.0 MB", "exceeded its budget 210 MB (wcmem-budgets.ini:12)" (u->budget),
 * "the sandbox total 200.0 MB was reached", "by the system (...)"; "none" without an OOM
 * kill. Returns the length (snprintf). */
int rep_verdict_reason(const struct rep_unit *u, char *buf, size_t size);
int rep_verdict_reason_said(const struct rep_unit *u, char *buf, size_t size);

/* The same words from the figures alone (an analysis of a log has no rep_unit): budget may
 * be NULL, sandbox_limit 0 or REP_UNKNOWN when unknown; in_parens words the system's case
 * without parentheses of its own, for the log's "OOM: killed (...)". */
int rep_oom_reason(enum rep_oom oom, uint64_t limit, const char *budget, uint64_t sandbox_limit,
		   bool in_parens, char *buf, size_t size);

/* rep_oom_reason in people's words ("exceeded its own limit 512.0 MiB"). */
int rep_oom_reason_said(enum rep_oom oom, uint64_t limit, const char *budget,
			uint64_t sandbox_limit, char *buf, size_t size);

/* Which limit, in a word or two: "own limit", "the sandbox total", "by the system" ("not by
 * the OOM killer" for none). */
const char *rep_oom_to_string(enum rep_oom oom);

/* A unit whose limit was its budget (u->budget) and that the OOM killer stopped at it. */
bool rep_over_budget(const struct rep_unit *u);

/* A unit that ran under its budget and peaked below half of it: a budget to tighten. */
bool rep_under_half_budget(const struct rep_unit *u);

/* A limit the way a person wrote it: "210 MB" when it is whole MiB, else as rep_format_mb. */
int rep_format_limit(uint64_t bytes, char *buf, size_t size);

/* Bytes as the log shows them: "512.0 MB" (MiB, one decimal) or "max" / "unknown". */
int rep_format_mb(uint64_t bytes, char *buf, size_t size);

/* Bytes for people, the one place that says them so: "0.6 MiB", "512.0 MiB", "100.0 GiB"
 * (one decimal, in the binary unit that keeps the figure under 1024, from KiB to EiB), or
 * "max". Returns the length (snprintf). */
int rep_format_size(uint64_t bytes, char *buf, size_t size);

/* A limit for people the way a person wrote it: "210 MiB", "4 GiB" when a whole number of
 * the unit rep_format_size picks, else as rep_format_size ("1.5 GiB"). */
int rep_format_size_limit(uint64_t bytes, char *buf, size_t size);

#endif
