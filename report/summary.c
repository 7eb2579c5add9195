/* The summary a human reads on stderr when the run ends:
 *
 *   wcmem-sandbox: python3 -c 'b = bytearray(2 << 30)'
 *     peak 512.0 MiB, limit 512.0 MiB, OOM-killed: exceeded its own limit 512.0 MiB
 *   wcmem-sandbox: 1 unit, 1 OOM-killed; sandbox peak 512.3 MiB of 512.0 MiB (cgroup v1); log: off
 *
 * With more units, one aligned line each: name, peak, limit, verdict. Names are escaped
 * as in the log, so a test name cannot send escape sequences to the terminal. */
#include "report/summary.h"

#include <errno.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>

#include "report/shell.h"
#include "report/verdict.h"

#define NAME_COLUMN_MAX 60  /* longer names push their line out rather than every line */

/* SGR sequences, as pytest's terminal has them: red for a unit killed or failed, green for
 * one that passed or exited 0, yellow for a skip; nothing for the rest. */
#define SGR_RESET "\033[0m"

static const char *colour_of(const struct rep_unit *u, const struct rep_session *s)
{
	if (!s->colour)
		return NULL;
	if (u->oom != REP_OOM_NONE || u->end != REP_END_EXITED)
		return "\033[1;31m";
	if (u->outcome && strcmp(u->outcome, "skipped") == 0)
		return "\033[33m";
	if ((u->outcome && strcmp(u->outcome, "passed") == 0) || (!u->outcome && u->code == 0))
		return "\033[32m";
	return "\033[31m";
}

/* The verdict, in its colour when the summary has colours. */
static void put_verdict(FILE *f, const struct rep_unit *u, const struct rep_session *s,
			const char *verdict)
{
	const char *sgr = colour_of(u, s);

	fprintf(f, "%s%s%s", sgr ? sgr : "", verdict, sgr ? SGR_RESET : "");
}

/* A measured figure: "512.0 MiB" or "unknown". */
static void measured(uint64_t bytes, char *buf, size_t size)
{
	if (bytes == REP_UNKNOWN)
		snprintf(buf, size, "unknown");
	else
		rep_format_size(bytes, buf, size);
}

/* A limit: "512.0 MiB" or "none". */
static void limit(uint64_t bytes, char *buf, size_t size)
{
	if (bytes == REP_UNLIMITED)
		snprintf(buf, size, "none");
	else
		rep_format_size(bytes, buf, size);
}

/* The one-unit form: the unit's name on the first line, its figures below. */
static void write_single(FILE *f, const struct rep_unit *u, const struct rep_session *s)
{
	char name[4096], peak[32], lim[32], verdict[REP_VERDICT_MAX];

	rep_log_escape(u->name, name, sizeof(name));
	measured(u->peak, peak, sizeof(peak));
	limit(u->limit, lim, sizeof(lim));
	rep_verdict_said(u, verdict, sizeof(verdict));
	fprintf(f, "wcmem-sandbox: %s\n", name);
	fprintf(f, "  peak %s, limit %s, ", peak, lim);
	put_verdict(f, u, s, verdict);
	fputc('\n', f);
}

/* Column widths over the units write_rows will show. */
struct widths {
	int name, peak, lim;
};

static bool shown_as_test(const struct rep_unit *u)
{
	return u->kind && strcmp(u->kind, "test") == 0;
}

static void widen(struct widths *w, const struct rep_unit *u)
{
	char name[4096], peak[32], lim[32];
	int n = (int)rep_log_escape(u->name, name, sizeof(name));

	measured(u->peak, peak, sizeof(peak));
	limit(u->limit, lim, sizeof(lim));
	if (n > w->name)
		w->name = n < NAME_COLUMN_MAX ? n : NAME_COLUMN_MAX;
	if ((int)strlen(peak) > w->peak)
		w->peak = (int)strlen(peak);
	if ((int)strlen(lim) > w->lim)
		w->lim = (int)strlen(lim);
}

static void write_row(FILE *f, const char *indent, const struct widths *w,
		      const struct rep_unit *u, const struct rep_session *s)
{
	char name[4096], peak[32], lim[32], verdict[REP_VERDICT_MAX];

	rep_log_escape(u->name, name, sizeof(name));
	measured(u->peak, peak, sizeof(peak));
	limit(u->limit, lim, sizeof(lim));
	rep_verdict_said(u, verdict, sizeof(verdict));
	fprintf(f, "%s%-*s  peak %*s  limit %*s  ", indent, w->name, name, w->peak, peak,
		w->lim, lim);
	put_verdict(f, u, s, verdict);
	fputc('\n', f);
}

/* Tests by peak, biggest first (stable: equal peaks keep their order). */
static int by_peak(const void *a, const void *b)
{
	const struct rep_unit *x = *(const struct rep_unit *const *)a;
	const struct rep_unit *y = *(const struct rep_unit *const *)b;
	uint64_t px = x->peak == REP_UNKNOWN ? 0 : x->peak, py = y->peak == REP_UNKNOWN ? 0 : y->peak;

	if (px != py)
		return px < py ? 1 : -1;
	return x < y ? -1 : x > y;
}

/* "  rerun alone: wcmem-sandbox --limit 1G --test-limit 300M -- pytest 'tests/test_x.py::
 * test_blowup'": the killed test's file (location's, relative to where the run started) and
 * its name in it, after the session's prefix; nothing when a word does not fit. */
static void write_rerun(FILE *f, const struct rep_unit *u, const struct rep_session *s)
{
	const char *inner = strstr(u->name, "::"), *colon = strrchr(u->location, ':');
	char cmd[12288], test[8192];
	size_t file_len = colon ? (size_t)(colon - u->location) : strlen(u->location);

	if (!s->rerun || !inner || file_len + strlen(inner) >= sizeof(test))
		return;
	snprintf(test, sizeof(test), "%.*s%s", (int)file_len, u->location, inner);
	snprintf(cmd, sizeof(cmd), "%s", s->rerun);
	if (rep_shell_append(cmd, sizeof(cmd), test))
		fprintf(f, "  rerun alone: %s\n", cmd);
}

/* "tests/test_x.py:12: test_blowup OOM-killed (peak 300.0 MiB, limit 300.0 MiB)": at the start
 * of a line, as compilers print, so Emacs' compilation mode and other editors jump to it. */
static void write_killed(FILE *f, const struct rep_unit *u, const struct rep_session *s)
{
	char name[4096], where[4096], budget[4096], peak[32], lim[32];
	const char *short_name = strstr(u->name, "::");

	if (u->oom == REP_OOM_NONE || u->end == REP_END_EXITED || !u->location)
		return;  /* a suite or command has no line to jump to: its row says it all */
	rep_log_escape(short_name ? short_name + 2 : u->name, name, sizeof(name));
	rep_log_escape(u->location, where, sizeof(where));
	measured(u->peak, peak, sizeof(peak));
	limit(u->oom == REP_OOM_SANDBOX ? u->sandbox_limit : u->limit, lim, sizeof(lim));
	rep_log_escape(u->budget ? u->budget : "", budget, sizeof(budget));
	fprintf(f, "%s: %s ", where, name);
	put_verdict(f, u, s, "OOM-killed");
	fprintf(f, " (peak %s, limit %s, %s%s)\n", peak, lim,
		u->oom == REP_OOM_OWN && u->budget ? "budget " : rep_oom_to_string(u->oom),
		u->oom == REP_OOM_OWN && u->budget ? budget : "");
	if (u->rerun)  /* not its own doing: its rerun's entry has its outcome */
		fprintf(f, "  run again, alone: the sandbox total was reached while other tests "
			"ran\n");
	else
		write_rerun(f, u, s);
}

/* "wcmem-sandbox: 1 process left running outside every unit was OOM-killed while
 * tests/test_x.py::test_b ran": a kill no unit's verdict has, named with the unit that ran. */
static void write_outside(FILE *f, const struct rep_unit *u)
{
	char name[4096];

	if (u->outside_kills <= 0)
		return;
	rep_log_escape(u->name, name, sizeof(name));
	fprintf(f, "wcmem-sandbox: %d process%s left running outside every unit %s OOM-killed "
		"while %s ran\n", u->outside_kills, u->outside_kills == 1 ? "" : "es",
		u->outside_kills == 1 ? "was" : "were", name);
}

/* The tests that went over their budget, or used less than half of it (--budgets). */
static void write_budget_list(FILE *f, const struct rep_unit *units, size_t n,
			      bool (*pick)(const struct rep_unit *), const char *title)
{
	char name[4096], peak[32], budget[32], line[4096];
	size_t count = 0, shown = 0;

	for (size_t i = 0; i < n; i++)
		count += pick(&units[i]);
	if (count == 0)
		return;
	fprintf(f, "  %s (%zu test%s):\n", title, count, count == 1 ? "" : "s");
	for (size_t i = 0; i < n && shown < REP_SUMMARY_BIGGEST; i++) {
		if (!pick(&units[i]))
			continue;
		rep_log_escape(units[i].name, name, sizeof(name));
		rep_log_escape(units[i].budget, line, sizeof(line));
		measured(units[i].peak, peak, sizeof(peak));
		rep_format_size_limit(units[i].limit, budget, sizeof(budget));
		fprintf(f, "    %s  peak %s  budget %s (%s)\n", name, peak, budget, line);
		shown++;
	}
	if (count > shown)
		fprintf(f, "    ... and %zu more\n", count - shown);
}

/* Commands and suites one line each; of the tests, the biggest by peak; then every test
 * that was killed, in the editors' form. */
static void write_table(FILE *f, const struct rep_unit *units, size_t n,
			const struct rep_session *s)
{
	const struct rep_unit **tests = calloc(n, sizeof(*tests));
	struct widths w = { 0 };
	size_t ntests = 0, shown;
	char name[4096];

	for (size_t i = 0; i < n; i++) {
		if (shown_as_test(&units[i]) && tests)
			tests[ntests++] = &units[i];
		else
			widen(&w, &units[i]);
	}
	if (tests)
		qsort(tests, ntests, sizeof(*tests), by_peak);
	shown = ntests < REP_SUMMARY_BIGGEST ? ntests : REP_SUMMARY_BIGGEST;
	if (s->tests_shown)  /* pytest's own summary listed them: not twice */
		shown = 0;
	for (size_t i = 0; i < shown; i++)
		widen(&w, tests[i]);

	rep_log_escape(s->command, name, sizeof(name));
	fprintf(f, "wcmem-sandbox: %s\n", name);
	for (size_t i = 0; i < n; i++)
		if (!shown_as_test(&units[i]) || !tests)
			write_row(f, "  ", &w, &units[i], s);
	ntests += (size_t)s->tests_dropped;  /* let go, as smaller than those shown */
	if (s->tests_shown && ntests)
		fprintf(f, "  %zu test%s: the biggest by peak in pytest's summary above "
			"(wcmem-sandbox: memory)\n", ntests, ntests == 1 ? "" : "s");
	if (shown)
		fprintf(f, "  the %zu biggest of %zu test%s by peak:\n", shown, ntests,
			ntests == 1 ? "" : "s");
	for (size_t i = 0; i < shown; i++)
		write_row(f, "    ", &w, tests[i], s);
	for (size_t i = 0; i < n; i++)
		write_killed(f, &units[i], s);
	for (size_t i = 0; i < n; i++)
		write_outside(f, &units[i]);
	write_budget_list(f, units, n, rep_over_budget, "over their budget");
	write_budget_list(f, units, n, rep_under_half_budget,
			  "under half their budget, candidates to tighten");
	free(tests);
}

/* "3 tests OOM-killed, 3 resumes (2 by the collected copy, 1 restart); resuming took 4.2 s
 * in all (1.4 s a resume)": what going on after OOM kills cost, said once it happened. */
static void write_resumes(FILE *f, const struct rep_unit *units, size_t n,
			  const struct rep_session *s)
{
	size_t killed = 0;
	int restarts;

	if (s->resumes <= 0)
		return;
	for (size_t i = 0; i < n; i++)
		if (units[i].oom != REP_OOM_NONE && units[i].kind &&
		    strcmp(units[i].kind, "test") == 0)
			killed++;
	restarts = s->resumes - s->standby_resumes;
	fprintf(f, "wcmem-sandbox: %zu test%s OOM-killed, %d resume%s (%d by the collected copy, "
		"%d restart%s); resuming took %.1f s in all (%.1f s a resume)\n", killed,
		killed == 1 ? "" : "s", s->resumes, s->resumes == 1 ? "" : "s", s->standby_resumes,
		restarts, restarts == 1 ? "" : "s", s->resume_seconds,
		s->resume_seconds / s->resumes);
}

/* "3 tests run again, alone: the sandbox total killed them while other tests ran" and "5
 * tests waited for room, 12.3 s in all (longest 4.1 s)": what sharing the total cost; and
 * where admission's expected peaks came from (--expect). */
static void write_schedule(FILE *f, const struct rep_session *s)
{
	char path[4096];

	if (s->expect) {
		rep_log_escape(s->expect, path, sizeof(path));
		fprintf(f, "wcmem-sandbox: admission: expected peaks of %zu test%s from %s\n",
			s->expect_tests, s->expect_tests == 1 ? "" : "s", path);
	}
	if (s->reruns > 0)
		fprintf(f, "wcmem-sandbox: %d test%s run again, alone: the sandbox total killed "
			"%s while other tests ran\n", s->reruns, s->reruns == 1 ? "" : "s",
			s->reruns == 1 ? "it" : "them");
	if (s->waited > 0)
		fprintf(f, "wcmem-sandbox: %d test%s waited for room in the sandbox, %.1f s in all "
			"(longest %.1f s)\n", s->waited, s->waited == 1 ? "" : "s", s->wait_seconds,
			s->wait_longest);
}

/* "1 unit, 1 OOM-killed; sandbox peak 512.3 MiB of 512.0 MiB (cgroup v1); log: PATH" */
static void write_footer(FILE *f, const struct rep_unit *units, size_t n,
			 const struct rep_session *s)
{
	char peak[32], lim[32], path[4096];
	size_t oom = 0;

	/* Counted from the records shown, so the footer agrees with the lines above it; the
	 * tests let go ended normally, so they add to the units, not to the OOM kills. */
	for (size_t i = 0; i < n; i++)
		if (units[i].oom != REP_OOM_NONE)
			oom++;
	n += (size_t)s->tests_dropped;
	measured(s->peak, peak, sizeof(peak));
	fprintf(f, "wcmem-sandbox: %zu unit%s, %zu OOM-killed", n, n == 1 ? "" : "s",
		oom + (size_t)s->outside_kills);
	if (s->outside_kills > 0)  /* the log's entry of the unit that ran then names it */
		fprintf(f, " (%d outside every unit: left running by a test)", s->outside_kills);
	fprintf(f, "; sandbox peak %s", peak);
	if (s->limit == REP_UNLIMITED) {
		fprintf(f, ", no limit");
	} else {
		rep_format_size(s->limit, lim, sizeof(lim));
		fprintf(f, " of %s", lim);
	}
	if (s->backend)
		fprintf(f, " (%s)", s->backend);
	if (s->log_path)
		rep_log_escape(s->log_path, path, sizeof(path));
	fprintf(f, "; log: %s\n", s->log_path ? path : "off");
	if (s->shard)  /* the plugin's line above says how many of the collected tests */
		fprintf(f, "wcmem-sandbox: shard %s (%s): the other shards run the rest of the "
			"tests; `wcmem-sandbox analyze` of their logs together, or `merge` of their "
			"reports, gives the whole run\n", s->shard, s->shard_origin ? s->shard_origin :
			"--shard");
	if (s->limit_origin)  /* no one chose it: say what it is, so that it can be chosen */
		fprintf(f, "wcmem-sandbox: the limit %s is the default: %s; --limit SIZE sets "
			"another\n", lim, s->limit_origin);
}

int rep_summary_write(FILE *f, const struct rep_unit *units, size_t n,
		      const struct rep_session *s)
{
	if (n == 1 && s->tests_dropped == 0)
		write_single(f, &units[0], s);
	else if (n > 1)
		write_table(f, units, n, s);
	write_footer(f, units, n, s);
	write_resumes(f, units, n, s);
	write_schedule(f, s);
	if (fflush(f) == EOF)
		return -errno;
	if (ferror(f))
		return -EIO;
	return 0;
}
