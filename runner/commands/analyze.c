/* `wcmem-sandbox analyze`: options, the logs read one after another into one analysis, and
 * the answer on stdout. Only this file prints; report/analyze.c is pure. */
#include "runner/commands/analyze.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report/analyze.h"
#include "report/analyze_chart.h"
#include "report/analyze_records.h"
#include "report/file.h"
#include "report/log.h"
#include "cgroup/error.h"
#include "runner/commands/cli.h"
#include "runner/config/size.h"

struct an_args {
	struct rep_an_options opt;
	const char *json;  /* --json FILE ("-": standard output), or NULL */
	const char *html;  /* --html FILE, or NULL */
	char **logs;     /* NULL-terminated; "-" is stdin */
	char default_log[4096];  /* no LOG given: the default log, logs names it */
	char *default_logs[2];
};

enum { OPT_JSON = 256, OPT_HTML, OPT_SPIKE_FACTOR, OPT_SPIKE_FLOOR, OPT_LEAK_FLOOR };

static const struct rep_an_options defaults = {
	.top = 10, .spike_factor = 10, .spike_floor = 100 << 20, .leak_floor = 1 << 20,
};

static const struct option longopts[] = {
	{ "top",          required_argument, NULL, 'N' },
	{ "spike-factor", required_argument, NULL, OPT_SPIKE_FACTOR },
	{ "spike-floor",  required_argument, NULL, OPT_SPIKE_FLOOR },
	{ "leak-floor",   required_argument, NULL, OPT_LEAK_FLOOR },
	{ "json",         optional_argument, NULL, OPT_JSON },  /* FILE: json_file() */
	{ "html",         required_argument, NULL, OPT_HTML },
	RUN_CLI_LONGOPTS_COMMON,
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *out)
{
	fputs(
"Usage: wcmem-sandbox analyze [OPTION]... [LOG]...\n"
"Read memory logs (ours, or any in the Memory Diagnostics Guide's format) and say what\n"
"was running when a log stops, which tests were OOM-killed and by which limit, the\n"
"biggest tests and the sudden spikes, and the gradual growth: tests that left memory\n"
"behind, the trend, and rising counts of open xarray datasets. Several logs (xdist\n"
"workers, CI shards) make one answer; LOG '-' is standard input (a FIFO named as LOG\n"
"is refused: pipe it into '-'); no LOG: the default log ($WEATHERCOP_DIR/test_memory.log,\n"
"else ~/.weathercop/test_memory.log). Each finding is a FILE:LINE: line, the test's own\n"
"file where the log names it.\n"
"\n"
"  -N, --top N               list the N biggest tests, and the N that left most behind\n"
"                            (1 to 100; default 10)\n"
"      --spike-factor X      a sudden spike peaks at X times the typical (median) test\n"
"                            or more (default 10)\n"
"      --spike-floor SIZE    ... and at SIZE or more (default 100M)\n"
"      --leak-floor SIZE     a test left memory behind when it still held SIZE or more\n"
"                            at its end, and leaks when every repeat of its leak check\n"
"                            added some and the middle one SIZE or more (default 1M)\n"
"      --json FILE           write every figure as JSON to FILE ('-': standard output,\n"
"                            instead of the text; schema wcmem-sandbox-analysis/1)\n"
"      --html FILE           also write FILE: one self-contained HTML page, a chart of\n"
"                            memory over time (LOG.timeline when there is one) with a\n"
"                            band a test, OOM kills in red, and the tables; FILE '-':\n"
"                            the page on standard output, instead of the text\n"
"  -h, --help                show this help and exit\n"
"  -V, --version             show the version and exit\n"
"\n"
"The logs of one run's shards (--shard I/N) are read as that run; a test that ran in\n"
"two shards is an error, named.\n"
"\n"
"Exit status: 0 when every log was read (findings are not failures); 1 when the logs\n"
"are shards that do not add up to one run (a test in two shards, shards of two counts);\n"
"125 on a usage error or a log that cannot be read. etc/analyze.md has the details.\n", out);
}

#define ANALYZE_SHARDS_BROKEN 1  /* the exit status when the shards do not add up */

/* A usage error: a value the option does not take. Returns -EINVAL. */
static int bad(struct wc_error *e, const char *option, const char *value, const char *want)
{
	return run_cli_usage_error(e, "invalid value '%s' for %s: %s", value, option, want);
}

static int parse_number(const char *text, double lo, double hi, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(text, &end);
	return end == text || *end || errno || *out < lo || *out > hi ? -EINVAL : 0;
}

/* No LOG: the default memory log, where a run writes it without --log. Returns 1, or
 * -ENOENT with e filled when it cannot be named. */
static int default_log(struct an_args *a, struct wc_error *e)
{
	if (rep_log_default_path(a->default_log, sizeof(a->default_log), getenv("WEATHERCOP_DIR"),
				 getenv("HOME")) < 0)
		return run_cli_usage_error(e, "no LOG given, and no default log (set WEATHERCOP_DIR "
					   "or HOME, or give the memory log of a run)");
	a->default_logs[0] = a->default_log;
	a->default_logs[1] = NULL;
	a->logs = a->default_logs;
	return 1;
}

/* 1 when path names a memory log already (its first line an entry's head, "[2026-"), so
 * that `--json LOG` of old scripts reads LOG instead of writing over it. */
static int looks_like_log(const char *path)
{
	struct wc_error ignored = { 0 };
	char head[8] = "";
	int fd = rep_file_open_read(path, "memory log", &ignored);
	ssize_t n;

	if (fd < 0)
		return 0;
	n = read(fd, head, sizeof(head) - 1);
	close(fd);
	return n == 7 && head[0] == '[' && strspn(head + 1, "0123456789") == 4 && head[5] == '-';
}

/* --json's FILE: "--json=FILE", or the next word "--json FILE". --json was a flag (the JSON
 * on standard output), so where the next word cannot be its FILE it still means "-":
 * nothing after it, an option after it, or a word that names a memory log (a LOG). */
static const char *json_file(int argc, char **argv, const char *arg)
{
	const char *next = optind < argc ? argv[optind] : NULL;

	if (arg)
		return arg;
	if (!next || (next[0] == '-' && next[1]) || looks_like_log(next)) {
		run_cli_say("analyze", "--json without FILE writes to standard output; write "
			    "'--json -' (or '--json FILE')");
		return "-";
	}
	optind++;
	return next;
}

/* Returns 1 to analyze, 0 when done (--help, --version), or -EINVAL with e filled. */
static int parse_args(int argc, char **argv, struct an_args *a, struct wc_error *e)
{
	struct run_cli cli = { .name = "analyze", .optstring = "+:N:n:hV", .longopts = longopts,
			       .usage = usage };
	double v;
	int c;

	a->opt = defaults;
	run_cli_start(&cli, argc, argv);
	while ((c = run_cli_next(&cli)) != -1) {
		switch (c) {
		case 'n':  /* was --top's letter; in a run it is --name */
			run_cli_say("analyze", "-n is -N (--top) now, as -n is --name in a run");
			/* fall through */
		case 'N':
			if (parse_number(optarg, 1, REP_AN_LIST_MAX, &v) < 0 || v != (int)v)
				return bad(e, "--top", optarg, "a whole number from 1 to 100");
			a->opt.top = (int)v;
			break;
		case OPT_SPIKE_FACTOR:
			if (parse_number(optarg, 1, 1e6, &v) < 0)
				return bad(e, "--spike-factor", optarg, "a number from 1 to 1000000");
			a->opt.spike_factor = v;
			break;
		case OPT_SPIKE_FLOOR:
		case OPT_LEAK_FLOOR:
			if (cfg_parse_size(optarg, cfg_physical_memory(), c == OPT_SPIKE_FLOOR ?
					   &a->opt.spike_floor : &a->opt.leak_floor) < 0)
				return bad(e, c == OPT_SPIKE_FLOOR ? "--spike-floor" : "--leak-floor",
					   optarg, "a SIZE such as 512K, 100M or 1G");
			break;
		case OPT_JSON:
			a->json = json_file(argc, argv, optarg);
			break;
		case OPT_HTML:
			a->html = optarg;
			break;
		default:
			return run_cli_other(&cli, c, e);
		}
	}
	if (a->json && a->html && strcmp(a->json, "-") == 0 && strcmp(a->html, "-") == 0)
		return run_cli_usage_error(e, "--json - and --html - both write to standard output: "
					   "give one of them a FILE");
	a->logs = argv + optind;
	if (optind >= argc)
		return default_log(a, e);
	return 1;
}

/* The log's timeline (LOG.timeline, written by the runner beside it), when there is one,
 * for the chart. Returns 0, or -errno with e filled. */
static int read_timeline(struct rep_analysis *an, const char *log, unsigned long first,
			 struct wc_error *e)
{
	char path[4200];
	FILE *f;
	int fd, r;

	if (snprintf(path, sizeof(path), "%s.timeline", log) >= (int)sizeof(path))
		return 0;
	fd = rep_file_open_read(path, "memory timeline", e);
	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return fd;
	f = fdopen(fd, "r");
	if (!f) {
		r = wc_fail(e, errno, "read %s", path);
		close(fd);
		return r;
	}
	r = rep_analysis_read_timeline(an, f, first);
	fclose(f);
	return r < 0 ? wc_fail(e, -r, "read %s", path) : 0;
}

/* Writes the HTML page or the JSON to path, opened as the run's reports are (never through
 * a planted link: report/file.h; "-" is standard output). Returns 0, or -errno with e. */
static int write_file(const struct rep_analysis *an, const char *path,
		      int (*write)(FILE *f, const struct rep_analysis *an), struct wc_error *e)
{
	FILE *f;
	int r = rep_file_open_report(path, REP_DIRS_NONE, &f, e);

	if (r < 0)
		return r;
	r = write(f, an);
	if (fclose(f) != 0 && r == 0)
		r = -errno;
	return r < 0 ? wc_fail(e, -r, "write %s", path) : 0;
}

/* Opens a log to read: a regular file only (a FIFO would wait forever for a writer).
 * Returns the stream, or NULL with e filled. */
static FILE *open_log(const char *path, struct wc_error *e)
{
	int fd = rep_file_open_read(path, "memory log", e);
	FILE *f;

	if (fd < 0) {
		if (e->err == EISDIR) {
			wc_fail(e, EISDIR, "read %s", path);
		} else if (e->err) {
			wc_fail(e, e->err, "open %s", path);
			wc_hint(e, "give the memory log of a run (--log FILE of that run, else "
				"$WEATHERCOP_DIR/test_memory.log or ~/.weathercop/test_memory.log)");
		} else {
			wc_hint(e, "give a regular file; to read a pipe, give '-' and redirect the "
				"pipe to standard input");
		}
		return NULL;
	}
	f = fdopen(fd, "r");
	if (!f) {
		wc_fail(e, errno, "open %s", path);
		close(fd);
	}
	return f;
}

/* Reads one log into the analysis. Returns 0, or -errno with e filled. */
static int read_log(struct rep_analysis *an, const char *path, struct wc_error *e)
{
	bool in = strcmp(path, "-") == 0;
	FILE *f = in ? stdin : open_log(path, e);
	unsigned long entries = an->units + an->sessions, first;
	int r;

	if (!f)
		return e->err ? -e->err : -EINVAL;
	first = an->sessions;
	r = rep_analysis_read(an, f, in ? "<stdin>" : path);
	if (!in)
		fclose(f);
	if (r < 0)
		return wc_fail(e, -r, "read %s", path);
	if (!in) {
		r = read_timeline(an, path, first, e);
		if (r < 0)
			return r;
	}
	if (an->units + an->sessions == entries && an->running.count == 0)
		run_cli_say("analyze", "%s: no TEST_START, TEST_END or SESSION entry in it; is "
			    "it a memory log?", path);
	return 0;
}

static bool is_stdout(const char *path)
{
	return path && strcmp(path, "-") == 0;
}

int run_analyze_main(int argc, char **argv)
{
	struct rep_analysis *an = NULL;
	struct wc_error e = { 0 };
	struct an_args a = { 0 };
	bool broken;
	int r;

	r = parse_args(argc, argv, &a, &e);
	if (r <= 0)
		return run_cli_exit("analyze", r, &e);
	/* Large (the open units and the lists): on the heap, not the stack. */
	an = malloc(sizeof(*an));
	if (!an || rep_analysis_init(an, &a.opt) < 0) {
		free(an);
		wc_fail(&e, ENOMEM, "analyze");
		run_cli_error(stderr, NULL, &e);
		return RUN_CLI_FAILURE;
	}
	for (char **log = a.logs; *log && r >= 0; log++)
		r = read_log(an, *log, &e);
	rep_analysis_end(an);
	if (r >= 0 && !is_stdout(a.json) && !is_stdout(a.html)) {
		/* the text answer, unless the JSON or the page is on standard output instead */
		r = rep_analysis_print(stdout, an);
		if (fflush(stdout) != 0 && r == 0)
			r = -errno;
		if (r < 0)
			wc_fail(&e, -r, "write the answer");
	}
	if (r >= 0 && a.json)
		r = write_file(an, a.json, rep_analysis_json, &e);
	if (r >= 0 && a.html)
		r = write_file(an, a.html, rep_analysis_html, &e);
	if (r < 0)
		run_cli_error(stderr, "analyze", &e);
	/* Shards that do not add up to one run are a finding that fails: a test ran twice. */
	broken = r >= 0 && rep_shards_broken(&an->shards);
	rep_analysis_free(an);
	free(an);
	return r < 0 ? RUN_CLI_FAILURE : broken ? ANALYZE_SHARDS_BROKEN : RUN_CLI_OK;
}

int run_analyze_html(FILE *f, const struct rep_unit *units, size_t n,
		     const struct rep_session *session, int timeline, struct wc_error *e)
{
	struct rep_analysis *an = malloc(sizeof(*an));
	FILE *tl = NULL;
	int r;

	if (!an || rep_analysis_init(an, &defaults) < 0) {
		free(an);
		return wc_fail(e, ENOMEM, "analyze the run");
	}
	r = rep_analysis_records(an, units, n, session,
				 session->log_path ? session->log_path : "the run");
	if (r < 0)
		wc_fail(e, -r, "analyze the run");
	/* The timeline through the descriptor the run wrote it with: the very file. A chart
	 * without its line is still worth having: a timeline that cannot be read is skipped. */
	if (r == 0 && timeline >= 0 && lseek(timeline, 0, SEEK_SET) == 0 &&
	    (tl = fdopen(timeline, "r")))
		rep_analysis_read_timeline(an, tl, 0);
	if (tl)
		fclose(tl);
	else if (timeline >= 0)
		close(timeline);
	rep_analysis_end(an);
	if (r == 0 && (r = rep_analysis_html(f, an)) < 0)
		wc_fail(e, -r, "write the HTML page");
	rep_analysis_free(an);
	free(an);
	return r;
}
