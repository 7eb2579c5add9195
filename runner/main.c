/* wcmem-sandbox: run a command, or a profile's suites, in a memory-capped cgroup sandbox.
 *
 *   command line -> config file (found, loaded, checked) -> effective settings
 *     `config`: print them and where each came from; done
 *   (`analyze`, `doctor`, `budget` are commands of their own: runner/commands/commands.h)
 *   -> the jobs: the command, or the profile's suites -> the report files, opened
 *   (every mistake so far exits 125 before any cgroup or log exists)
 *   -> one session: each job run as a unit, one after another -> summary, reports. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sys/stat.h>

#include "report/file.h"
#include "report/json.h"
#include "report/log.h"
#include "report/junit.h"
#include "report/shell.h"
#include "report/summary.h"
#include "runner/commands/analyze.h"
#include "runner/commands/cli.h"
#include "runner/commands/commands.h"
#include "runner/budget/budget.h"
#include "runner/config/config.h"
#include "runner/config/keys.h"
#include "runner/config/shard.h"
#include "runner/config/default_limit.h"
#include "runner/exec/job.h"
#include "runner/control/control.h"
#include "runner/exec/nested.h"
#include "runner/commands/rerun.h"
#include "runner/commands/run_args.h"
#include "runner/config/options.h"
#include "runner/session/records.h"
#include "runner/session/session.h"
#include "runner/config/size.h"

/* The session's own failure status is the one every command shares. */
_Static_assert(RUN_EXIT_FAILURE == RUN_CLI_FAILURE, "one exit status for our own failures");

static void print_error(const struct wc_error *e)
{
	run_cli_error(stderr, NULL, e);
}

/* The command as a shell would take it back: words quoted only where needed. */
static char *join_command(char *const argv[])
{
	size_t size = 1;
	char *out;

	for (int i = 0; argv[i]; i++)
		size += strlen(argv[i]) * 4 + 4;  /* " $'" ... "'" with \xHH for each byte */
	out = malloc(size);
	if (!out)
		return NULL;
	*out = '\0';
	for (int i = 0; argv[i]; i++)
		if (!rep_shell_append(out, size, argv[i])) {
			free(out);
			return NULL;
		}
	return out;
}

/* What one invocation runs. */
struct plan {
	struct run_options o;           /* the effective settings */
	struct cfg_origin origin[CFG_NKEYS];
	struct cfg_file file;           /* o points into it */
	bool have_file;
	struct run_job *jobs;
	size_t njobs;
	bool suites;                    /* the jobs are a profile's suites */
	char *command_line;             /* the session's name in the log and the summary */
	FILE *junit, *json, *html;      /* the report files, opened before the run */
	struct budget_file budgets;     /* --budgets, read before the run */
	struct budget_peaks expect;     /* --expect, read before the run */
	bool expect_tried, expect_read; /* its log was looked for; it was there and read */
	bool usage;                     /* the error was one of usage: point to --help */
};

/* A usage error: fills e (no errno part) and marks it. Returns -EINVAL. */
static int usage_error(struct plan *p, struct wc_error *e, const char *what)
{
	p->usage = true;
	return run_cli_usage_error(e, "%s", what);
}

static void plan_free(struct plan *p)
{
	if (p->junit)
		fclose(p->junit);
	if (p->json)
		fclose(p->json);
	if (p->html)
		fclose(p->html);
	free(p->jobs);
	free(p->command_line);
	cfg_free(&p->file);
	budget_free(&p->budgets);
	budget_peaks_free(&p->expect);
}

/* --shard-log must be a regular file, and not the log this run writes: emptied at the
 * start, or growing while the run goes on, it would balance a resumed pytest's shard by
 * other durations, and the shards would no longer add up to the whole collection.
 * Returns 0 or -EINVAL. */
static int shard_log_apart(const struct run_options *o, struct wc_error *e)
{
	char path[4096];
	struct stat a, b;

	if (!o->shard_log)
		return 0;
	/* Read by the plugin, which would fall back to the hash without a word. */
	if (stat(o->shard_log, &a) < 0) {
		wc_fail(e, errno, "--shard-log %s", o->shard_log);
		return wc_hint(e, "give the memory log of an earlier run (its --log FILE)");
	}
	if (!S_ISREG(a.st_mode)) {
		wc_fail(e, 0, "--shard-log %s: not a regular file", o->shard_log);
		return -EINVAL;
	}
	if (!o->log_path && rep_log_default_path(path, sizeof(path), getenv("WEATHERCOP_DIR"),
						  getenv("HOME")) < 0)
		return 0;
	if (stat(o->log_path ? o->log_path : path, &b) < 0 || a.st_dev != b.st_dev ||
	    a.st_ino != b.st_ino)
		return 0;
	wc_fail(e, 0, "--shard-log %s is the log this run writes: copy it first (cp %s "
		"history.log; --shard-log history.log), so that every shard and every resume "
		"balances by the same durations", o->shard_log, o->shard_log);
	return -EINVAL;
}

/* Whether the run may be a call nested in an enclosing session (nested, below). */
static bool may_nest(const struct plan *p)
{
	return !p->suites && getenv("WCMEM_SANDBOX_SOCKET");
}

/* --expect LOG, read before the session opens its own log, which may be LOG (the usual
 * case: last time's figures) and is emptied then. A LOG not there yet (a CI job's first
 * run) is said in one line, and the run goes on without expected peaks; one that cannot be
 * read, or is no memory log, stops the run before anything runs. Returns 0 or -errno. */
static int read_expect(struct plan *p, struct wc_error *e)
{
	char text[4200];
	int r = budget_expect_load(p->o.expect, &p->expect, e);

	if (r == 1 && !p->o.quiet) {
		snprintf(text, sizeof(text), "%s: no such file: this run expects no peaks, tests "
			 "start as without --expect", p->o.expect);
		run_say("--expect ", text);
	}
	p->expect_tried = true;
	p->expect_read = r == 0;
	return r < 0 ? r : 0;
}

/* getenv, as the shard's lookup takes it. */
static const char *run_getenv(const char *name)
{
	return getenv(name);
}

/* A config file the search found and did not read: one warning, with what to do. */
static void warn_passed_over(const struct wc_error *w)
{
	char buf[1100];

	run_say("warning: ", wc_error_text(w, buf, sizeof(buf)));
}

/* Finds and loads the config file, and merges it under the command line. */
static int settings(const struct run_options *cli, struct plan *p, struct wc_error *e)
{
	enum cfg_found found;
	char *path = NULL;
	int r;

	r = cfg_find(cli->config, CFG_SYSTEM_PATH, warn_passed_over, &path, &found, e);
	if (r > 0) {
		r = cfg_load(path, found, cfg_physical_memory(), &p->file, e);
		p->have_file = r == 0;
	}
	free(path);
	if (r < 0)
		return r;
	r = cfg_merge(p->have_file ? &p->file : NULL, cli->profile, cli, &p->o, p->origin, e);
	if (r == 0)
		cfg_apply_default_limit(&p->o, p->origin);
	return r;
}

/* The jobs: the command line's command (the profile then only gives settings), or else the
 * profile's suites, each a unit of kind "suite". */
static int jobs(struct plan *p, char **argv, struct wc_error *e)
{
	const struct cfg_suite **suites = NULL;
	char *rest;
	int n;

	if (p->o.argv) {
		p->command_line = join_command(p->o.argv);
		p->jobs = calloc(1, sizeof(*p->jobs));
		if (!p->command_line || !p->jobs)
			return wc_fail(e, ENOMEM, "plan the run");
		/* The command's own unit (imports, collection, pytest-xdist's workers before
		 * their first test) is held by --limit alone; --test-limit is each test's. */
		p->jobs[0] = (struct run_job){ .name = p->o.name ? p->o.name : p->command_line,
			.kind = "command", .argv = p->o.argv, .limit = p->o.limit };
		p->njobs = 1;
		return 0;
	}
	if (!p->o.profile)
		return usage_error(p, e, "no command given (or --profile NAME to run a profile's "
				   "suites)");
	n = cfg_profile_suites(&p->file, cfg_profile_find(&p->file, p->o.profile), &suites);
	if (n < 0)
		return wc_fail(e, -n, "plan the run");
	if (n == 0) {
		free(suites);
		wc_fail(e, 0, "%s: [profile %s] has no suites to run: define [suite NAME] "
			 "sections, or give a command", p->file.path, p->o.profile);
		return -ENOENT;
	}
	p->jobs = calloc((size_t)n, sizeof(*p->jobs));
	for (int i = 0; p->jobs && i < n; i++)
		cfg_suite_job(suites[i], &p->o, &p->jobs[i]);
	free(suites);
	p->njobs = (size_t)n;
	p->suites = true;
	/* The session is named after the invocation: "wcmem-sandbox --profile ci". */
	rest = join_command(argv + 1);
	if (rest && asprintf(&p->command_line, "wcmem-sandbox %s", rest) < 0)
		p->command_line = NULL;
	free(rest);
	if (!p->jobs || !p->command_line)
		return wc_fail(e, ENOMEM, "plan the run");
	return 0;
}

/* Whether a report's path is "-", standard output. */
static int to_stdout(const char *path)
{
	return path && strcmp(path, "-") == 0;
}

/* Opens a report file now, creating its folders, so that a path that cannot be written is
 * known before anything runs; never through a planted link (report/file.h). A stale report
 * from an earlier run is emptied. */
static int open_report(const char *path, FILE **f, struct wc_error *e)
{
	return path ? rep_file_open_report(path, REP_DIRS_ALL, f, e) : 0;
}

typedef int (*report_writer)(FILE *f, const struct rep_unit *units, size_t n,
			     const struct rep_session *s);

/* Writes one report of the records units[0..n) and closes its file. Returns 0 or -errno. */
static int write_report(FILE **f, const char *path, const struct rep_unit *units, size_t n,
			const struct run_session *s, report_writer format, struct wc_error *e)
{
	int r;

	if (!*f)
		return 0;
	r = format(*f, units, n, &s->info);
	if (fclose(*f) != 0 && r == 0)
		r = -errno;
	*f = NULL;
	return r < 0 ? wc_fail(e, -r, "write %s", path) : 0;
}

/* The run's analysis as an HTML page, from its records (as JSON and JUnit are: the log
 * may be a FIFO, or cut short by a full disk), and closes its file. timeline: a descriptor
 * reading LOG.timeline, or -1 (taken over). Returns 0, or -errno (printed). */
static int write_html(struct plan *p, const struct rep_unit *units, size_t n,
		      const struct run_session *s, int timeline)
{
	struct wc_error e = { 0 };
	int r = run_analyze_html(p->html, units, n, &s->info, timeline, &e);

	if (fclose(p->html) != 0 && r == 0)
		r = wc_fail(&e, errno, "write %s", p->o.html);
	p->html = NULL;
	if (r < 0)
		print_error(&e);
	return r;
}

/* The suites from next on will not run: say so on stderr, and keep them for the reports. */
static void not_run(struct run_session *s, const struct plan *p, size_t next, const char *why)
{
	const char **names = calloc(p->njobs - next, sizeof(*names));

	/* For the reports; without memory they only miss the list, and stderr still has it. */
	if (names) {
		for (size_t i = next; i < p->njobs; i++)
			names[i - next] = p->jobs[i].name;
		s->info.not_run = names;
		s->info.n_not_run = p->njobs - next;
		s->info.not_run_why = why;
	}
	if (p->o.quiet)
		return;
	fprintf(stderr, "wcmem-sandbox: %s: %zu suite%s not run:", why, p->njobs - next,
		p->njobs - next == 1 ? "" : "s");
	for (size_t i = next; i < p->njobs; i++) {
		fputc(' ', stderr);
		rep_log_escape_lines(stderr, p->jobs[i].name);
	}
	fputc('\n', stderr);
}

/* Runs the jobs one after another. Returns the command's exit status; for suites the first
 * failing suite's (or 1 when it failed with status 0: a process of it was OOM-killed); or
 * -errno when the runner failed. */
static int run_jobs(struct run_session *s, const struct plan *p, struct wc_error *e)
{
	int status = 0;

	for (size_t i = 0; i < p->njobs; i++) {
		int ooms = s->oom_units, r = run_job(s, &p->jobs[i], e);
		bool oom = s->oom_units > ooms;  /* the job lost a process to the OOM killer */

		if (r < 0 || !p->suites)
			return r;
		if ((r != 0 || oom) && status == 0)
			status = r ? r : 1;
		if (i + 1 == p->njobs)
			break;
		if (s->forwarded) {
			not_run(s, p, i + 1, "interrupted");
			break;
		}
		if (oom && p->o.stop_on_oom) {
			not_run(s, p, i + 1, "stopping after an OOM kill (stop_on_oom)");
			break;
		}
	}
	return status;
}

/* One session around the jobs: summary on stderr, then the reports. Returns the exit status. */
static int session(struct plan *p)
{
	struct run_session s;
	struct wc_error e = { 0 }, e2 = { 0 };
	char rerun[8192];
	const struct rep_unit *units;
	struct rep_unit *copy;
	int r, status, timeline;
	size_t n;

	run_session_init(&s);
	s.command_line = p->command_line;
	if (run_rerun_prefix(program_invocation_name, &p->o, rerun, sizeof(rerun)) == 0)
		s.rerun_prefix = rerun;
	s.budgets = p->o.budgets ? &p->budgets : NULL;
	s.expect = p->expect.n ? &p->expect : NULL;  /* none: every START as without it */
	if (p->expect_read) {
		s.info.expect = p->o.expect;
		s.info.expect_tests = p->expect.n;
	}
	/* Orphans of the command (a double-forked daemon) are reparented to us, so that we
	 * reap them, and nothing of the run is left behind. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);

	r = run_signals_setup(&s, &e);
	if (r == 0)
		r = run_session_open(&s, &p->o, &e);
	/* Always on, for nested calls too; the plugin is what --no-plugin leaves out. Opened
	 * here, not by the session: the socket's handlers use the session, not the other way. */
	if (r == 0)
		r = run_control_open(&s, &e);
	if (r == 0)
		r = run_jobs(&s, p, &e);
	status = r < 0 ? RUN_EXIT_FAILURE : r;
	if (r < 0)
		print_error(&e);

	/* Records may sit out of order once some were let go (records.h). */
	units = run_records_in_order(&s, &n, &copy);
	s.info.units = (int)n + s.info.tests_dropped;
	s.info.oom_killed = s.oom_units + s.info.outside_kills;
	/* The chart's line, read back through the descriptor the run wrote it with (when the
	 * timeline was opened: a session that failed early has none). */
	timeline = p->html && s.timeline.fd >= 0 && s.timeline.reader >= 0 ?
		   fcntl(s.timeline.reader, F_DUPFD_CLOEXEC, 0) : -1;
	run_control_close(&s);  /* open units end as lost while the sandbox is still there */
	if (run_session_close(&s, status, &e2) < 0) {
		print_error(&e2);
		status = RUN_EXIT_FAILURE;
	}
	/* Colour for people at a terminal; none when piped, or with NO_COLOR set (no-color.org:
	 * any value but the empty string). */
	s.info.colour = isatty(STDERR_FILENO) && !(getenv("NO_COLOR") && *getenv("NO_COLOR"));
	if (!p->o.quiet && n > 0)
		rep_summary_write(stderr, units, n, &s.info);
	if (!p->o.quiet && s.budgets)
		budget_write_unused(stderr, s.budgets);

	s.info.command = p->command_line;  /* also when the session never opened */
	s.info.elapsed = run_elapsed(&s);
	s.info.exit_status = status;
	if (write_report(&p->junit, p->o.junit_xml, units, n, &s, rep_junit_write, &e) < 0 ||
	    write_report(&p->json, p->o.json, units, n, &s, rep_json_write, &e) < 0) {
		print_error(&e);
		status = RUN_EXIT_FAILURE;
	}
	if (p->html && write_html(p, units, n, &s, timeline) < 0)
		status = RUN_EXIT_FAILURE;
	free((void *)s.info.not_run);
	free(copy);
	run_session_free(&s);
	return status;
}

/* Everything before the session; returns 1 to run it, 0 when done (config, --help), or
 * -errno with e filled (and p->usage for a usage error). config: argv[1] is `config`. */
static int prepare(int argc, char **argv, bool config, struct plan *p, struct wc_error *e)
{
	struct run_options cli;
	char what[300];
	int r;

	/* `config` is a subcommand only as the first word; `wcmem-sandbox -- config` runs a
	 * program of that name. */
	r = cfg_parse_args(argc - config, argv + config, cfg_physical_memory(), &cli, e);
	if (r != CFG_RUN) {
		p->usage = r < 0;
		return r == CFG_EXIT_OK ? 0 : r;
	}
	if (config && cli.argv) {
		snprintf(what, sizeof(what), "config takes options only, not '%s'", cli.argv[0]);
		return usage_error(p, e, what);
	}
	r = settings(&cli, p, e);
	if (r < 0)
		return r;
	if (config) {
		r = cfg_show(stdout, p->have_file ? &p->file : NULL, p->o.profile, &p->o,
			     p->origin);
		return r < 0 ? wc_fail(e, -r, "write the settings") : 0;
	}
	if (to_stdout(p->o.junit_xml) + to_stdout(p->o.json) + to_stdout(p->o.html) > 1)
		return usage_error(p, e, "only one report may go to standard output ('-')");
	r = shard_log_apart(&p->o, e);
	if (r < 0)
		return r;
	/* The engine's index is read once, here: a resumed pytest keeps the shard it had. */
	r = cfg_shard_resolve(&p->o.shard, run_getenv, &p->o.shard, p->o.shard_origin,
			      sizeof(p->o.shard_origin), e);
	if (r == 0)
		r = jobs(p, argv, e);
	if (r == 0 && p->o.budgets)  /* a mistake in it stops the run before anything runs */
		r = budget_load(p->o.budgets, &p->budgets, e);
	/* A call nested in a session is one unit of it, admitted there: the log is read only
	 * when the run is a session of its own (main reads it then, should no session answer). */
	if (r == 0 && p->o.expect && !may_nest(p))
		r = read_expect(p, e);
	if (r == 0)
		r = open_report(p->o.junit_xml, &p->junit, e);
	if (r == 0)
		r = open_report(p->o.json, &p->json, e);
	if (r == 0)
		r = open_report(p->o.html, &p->html, e);
	return r < 0 ? r : 1;
}

/* Inside a sandbox, a command runs as one unit of the enclosing session (per-test units for
 * make check, ctest, shell loops). Returns its exit status, or -ENOENT to run a session of
 * our own (no enclosing sandbox, or a profile's suites). */
static int nested(struct plan *p)
{
	uint64_t limit = p->o.set & CFG_BIT(CFG_TEST_LIMIT) ? p->o.test_limit : UINT64_MAX;
	struct wc_error e = { 0 };
	int r;

	if (!may_nest(p))
		return -ENOENT;
	r = run_nested(p->jobs[0].name, p->o.argv, limit, &e);
	if (r == -ENOENT)
		return r;
	if (r < 0) {
		print_error(&e);
		return RUN_EXIT_FAILURE;
	}
	return r;
}

/* A session of our own, no enclosing one having answered: --expect's log first, when a
 * call that might have nested left it unread. Returns the exit status. */
static int own_session(struct plan *p)
{
	struct wc_error e = { 0 };

	if (p->o.expect && !p->expect_tried && read_expect(p, &e) < 0) {
		print_error(&e);
		return RUN_EXIT_FAILURE;
	}
	return session(p);
}

int main(int argc, char **argv)
{
	const struct run_command *command = run_command_find(argc > 1 ? argv[1] : NULL);
	struct plan p;
	struct wc_error e = { 0 };
	int r, status = 0;

	/* A subcommand with its own front end runs nothing of a run: no settings, no config
	 * file. `config` has none: it takes the run's options. */
	if (command && command->main)
		return command->main(argc - 1, argv + 1);
	memset(&p, 0, sizeof(p));
	r = prepare(argc, argv, command != NULL, &p, &e);
	if (r < 0) {
		print_error(&e);
		if (p.usage)
			run_cli_try_help(stderr, NULL);
		status = RUN_EXIT_FAILURE;
	} else if (r > 0) {
		status = nested(&p);
		if (status == -ENOENT)
			status = own_session(&p);
	}
	plan_free(&p);
	return status;
}
