/* `wcmem-sandbox budget`: a budget file from memory logs, or one brought up to date. The
 * engine (the file, the peaks, the lines) is runner/budget/. */
#include "runner/commands/budget.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report/verdict.h"
#include "runner/budget/budget.h"
#include "runner/commands/cli.h"
#include "runner/config/size.h"

#define DEFAULT_OUTPUT "wcmem-budgets.ini"

struct budget_opts {
	unsigned margin;     /* percent over the peak */
	uint64_t floor;      /* the least budget */
	const char *output;
	bool update;
	char **logs;
	int nlogs;
};

struct plan {
	struct budget_opts o;
	struct budget_peaks peaks;  /* per test seen: its largest peak */
	unsigned lines, unmeasured; /* budgets written, and those no measured run gave */
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: wcmem-sandbox budget [OPTION]... LOG...\n"
		"Write a budget file from memory logs: a line per test, its memory.max under\n"
		"--budgets FILE (or budgets = FILE in a profile), from the largest peak the\n"
		"logs show, plus the margin, rounded up to a whole MiB.\n"
		"\n"
		"  -m, --margin PCT     over the peak, in percent (default 20)\n"
		"  -f, --floor SIZE     the least budget (default 16M)\n"
		"  -o, --output FILE    the budget file (default " DEFAULT_OUTPUT ")\n"
		"  -u, --update         rewrite only the lines of tests the logs show, keeping\n"
		"                       every other line, comment and the order; add new tests\n"
		"  -h, --help           show this help and exit\n"
		"  -V, --version        show the version and exit\n"
		"\n"
		"A budget is what a test needs whatever ran before it. From a run with\n"
		"WCMEM_SANDBOX_MEASURE=1 (each test alone, in a fork of the collected pytest)\n"
		"it fits any order; from an ordinary run it covers the fixtures a test shares,\n"
		"not what an earlier test's body left (a cache it filled), and budget says so.\n"
		"A test the OOM killer stopped gets no budget: its peak is its limit, not what it\n"
		"needs. The logs of one run's shards (--shard I/N) are that run; a test that ran in two\n"
		"shards is named. Exit status: 0; 1 when the logs are shards that do not add up to\n"
		"one run (the file is written all the same); 125 on a usage error or when the budget\n"
		"file could not be written.\n");
}

/* "20" or "20%": 0 to 1000. */
static int parse_margin(const char *text, unsigned *pct)
{
	char *end;
	unsigned long v;

	if (*text < '0' || *text > '9')
		return -EINVAL;
	v = strtoul(text, &end, 10);
	if ((*end && strcmp(end, "%") != 0) || v > 1000)
		return -EINVAL;
	*pct = (unsigned)v;
	return 0;
}

/* Returns 1 to go on, 0 when done (--help, --version), or -EINVAL with e filled. */
static int parse_args(int argc, char **argv, struct budget_opts *o, struct wc_error *e)
{
	static const struct option longopts[] = {
		{ "margin", required_argument, NULL, 'm' },
		{ "floor",  required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "update", no_argument,       NULL, 'u' },
		RUN_CLI_LONGOPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	/* No "+": no command follows, so options may come after the logs too. */
	struct run_cli cli = { .name = "budget", .optstring = ":m:f:o:uhV",
			       .longopts = longopts, .usage = usage };
	int c;

	*o = (struct budget_opts){ .margin = 20, .floor = 16 << 20, .output = DEFAULT_OUTPUT };
	run_cli_start(&cli, argc, argv);
	while ((c = run_cli_next(&cli)) != -1) {
		switch (c) {
		case 'm':
			if (parse_margin(optarg, &o->margin) < 0)
				return run_cli_usage_error(e, "--margin: '%s' is not a percentage "
							   "from 0 to 1000 (e.g. 20)", optarg);
			break;
		case 'f':
			if (cfg_parse_marker_size(optarg, &o->floor) < 0)
				return run_cli_usage_error(e, "--floor: '%s' is not a SIZE (e.g. "
							   "16M)", optarg);
			break;
		case 'o':
			o->output = optarg;
			break;
		case 'u':
			o->update = true;
			break;
		default:
			return run_cli_other(&cli, c, e);
		}
	}
	if (optind == argc)
		return run_cli_usage_error(e, "name a memory log (LOG) to make the budgets from");
	o->logs = argv + optind;
	o->nlogs = argc - optind;
	return 1;
}

/* Each log in turn, one line at a time: memory grows with the tests, not the entries. */
static int read_logs(struct plan *p, struct wc_error *e)
{
	for (int i = 0; i < p->o.nlogs; i++) {
		FILE *f;
		int r = budget_open(p->o.logs[i], "memory log", &f, e);

		if (r < 0)
			return e->hint[0] ? r : wc_hint(e, "give the memory log of a run (its --log "
							"FILE)");
		p->peaks.log = p->o.logs[i];
		r = budget_peaks_read(&p->peaks, f);
		p->peaks.log = NULL;
		fclose(f);
		if (r < 0)
			return wc_fail(e, -r, "read %s", p->o.logs[i]);
	}
	return 0;
}

__attribute__((format(printf, 2, 3)))
static void warn(const struct budget_peak *k, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	/* A foreign log's name, escaped by the printer; a cut one's first bytes, then "...". */
	run_cli_say("budget", "warning: %.*s%s%s; no budget", BUDGET_NAME_MAX,
		    k->name[0] ? k->name : "''", k->cut ? "..." : "", what);
}

/* The line for test k into buf; 0 when it gets none (a warning says why). */
static int line_for(struct plan *p, struct budget_peak *k, char *buf, size_t size)
{
	uint64_t bytes = budget_from_peak(budget_need(k), p->o.margin, p->o.floor);
	char peak[32];

	k->written = true;  /* handled: never appended */
	if (k->killed) {
		warn(k, " was OOM-killed: its peak is its limit, not what it needs");
		return 0;
	}
	if (!k->name[0]) {
		warn(k, ": a TEST_END without a name");
		return 0;
	}
	if (bytes == 0) {
		rep_format_mb(k->peak, peak, sizeof(peak));
		if (k->peak == BUDGET_PEAK_HUGE)
			warn(k, ": its peak is past the largest SIZE (8 EiB)");
		else
			warn(k, ": a peak of %s%s with its margin is past the largest SIZE "
			     "(8 EiB)", peak, budget_shared(k) ? " and its shared fixtures" : "");
		return 0;
	}
	if (k->cut || budget_line(k, bytes, buf, size) < 0) {
		warn(k, ": a node ID this long does not fit an INI line (%d characters)",
		     BUDGET_LINE_MAX);
		return 0;
	}
	p->lines++;
	p->unmeasured += !k->measured;
	return 1;
}

/* Says when budgets come from runs that measured no test alone: each is then what its
 * test touched first in that order, which another order may exceed. */
static void say_unmeasured(const struct plan *p)
{
	if (p->unmeasured == 0)
		return;
	run_cli_say("budget", "%s: %u of the %u budgets written come from runs of every test "
		    "in one process, where a test pays only for memory it touched first: alone "
		    "or in another order it may need more (a cache an earlier test filled); "
		    "WCMEM_SANDBOX_MEASURE=1 measures each test alone, for budgets that fit any "
		    "order", p->o.output, p->unmeasured, p->lines);
}

/* The budgets of the old file in the order of their lines, for write_updated. */
static int by_line(const void *a, const void *b)
{
	const struct budget *x = *(const struct budget *const *)a;
	const struct budget *y = *(const struct budget *const *)b;

	return (x->line > y->line) - (x->line < y->line);
}

/* --update: every line of the old file as it was, but those of tests that ran. */
static int write_updated(struct plan *p, FILE *out, const char *text, size_t len,
			 const struct budget_file *bf, unsigned *updated)
{
	char buf[BUDGET_LINE_MAX * 4];
	const char *line = text, *end = text + len;
	const struct budget **order = calloc(bf->n + 1, sizeof(*order));
	size_t next = 0;
	int n = 0;

	if (!order)
		return -ENOMEM;
	for (size_t i = 0; i < bf->n; i++)
		order[i] = &bf->v[i];
	qsort(order, bf->n, sizeof(*order), by_line);
	while (line < end) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		size_t l = nl ? (size_t)(nl - line) : (size_t)(end - line);
		const struct budget *b = next < bf->n && order[next]->line == ++n ? order[next++]
										      : NULL;
		struct budget_peak *k = b ? budget_peaks_find(&p->peaks, b->name) : NULL;

		if (k && !k->written && line_for(p, k, buf, sizeof(buf))) {
			fprintf(out, "%s\n", buf);
			(*updated)++;
		} else {
			fprintf(out, "%.*s\n", (int)l, line);
		}
		line += l + 1;
	}
	free(order);
	return 0;
}

static void write_header(const struct plan *p, FILE *out)
{
	char floor[32];

	rep_format_mb(p->o.floor, floor, sizeof(floor));
	fprintf(out, "; Memory budgets per test: each test's memory.max under wcmem-sandbox "
		"--budgets FILE\n"
		"; (or budgets = FILE in a profile). Made by `wcmem-sandbox budget` from the "
		"peaks\n"
		"; of a run, +%u%%, at least %s; `budget --update` rewrites the tests that ran.\n"
		"[budgets]\n", p->o.margin, floor);
}

/* Writes the file beside its place and renames it over: a reader sees old or new. */
static int write_file(struct plan *p, const char *old, size_t old_len,
		      const struct budget_file *bf, struct wc_error *e)
{
	char tmp[4096], buf[BUDGET_LINE_MAX * 4];
	unsigned updated = 0, added = 0;
	struct stat st;
	FILE *out;
	int r = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp%d", p->o.output, (int)getpid()) >= (int)sizeof(tmp))
		return wc_fail(e, ENAMETOOLONG, "write %s", p->o.output);
	out = fopen(tmp, "wxe");
	if (!out)
		return wc_fail(e, errno, "write %s", tmp);
	if (old && stat(p->o.output, &st) == 0)  /* an update keeps the file's mode */
		fchmod(fileno(out), st.st_mode & 07777);
	if (old)
		r = write_updated(p, out, old, old_len, bf, &updated);
	else
		write_header(p, out);
	for (struct budget_peak *k = p->peaks.first; k; k = k->after) {
		if (!k->written && line_for(p, k, buf, sizeof(buf))) {
			fprintf(out, "%s\n", buf);
			added++;
		}
	}
	if (r < 0 || fflush(out) != 0 || ferror(out) || fsync(fileno(out)) < 0) {
		int err = r < 0 ? -r : errno ? errno : EIO;

		fclose(out);
		unlink(tmp);
		return wc_fail(e, err, "write %s", tmp);
	}
	fclose(out);
	if (rename(tmp, p->o.output) < 0) {
		int err = errno;

		unlink(tmp);
		return wc_fail(e, err, "rename %s to %s", tmp, p->o.output);
	}
	run_cli_say("budget", "%s: %u tests updated, %u added", p->o.output, updated, added);
	say_unmeasured(p);
	return 0;
}

static int run(struct plan *p, struct wc_error *e)
{
	struct budget_file bf = { 0 };
	char *old = NULL;
	size_t old_len = 0;
	int r;

	r = read_logs(p, e);
	if (r == 0 && p->o.update) {
		r = budget_read_text(p->o.output, "budget file (--update)", &old, &old_len, e);
		if (r == 0)
			r = budget_parse(p->o.output, old, old_len, &bf, e);
	}
	if (r == 0)
		r = write_file(p, old, old_len, &bf, e);
	budget_free(&bf);
	free(old);
	return r;
}

int run_budget_main(int argc, char **argv)
{
	struct plan p = { 0 };
	struct wc_error e = { 0 };
	int r = parse_args(argc, argv, &p.o, &e);
	bool broken;

	if (r <= 0)
		return run_cli_exit("budget", r, &e);
	budget_peaks_init(&p.peaks);
	r = run(&p, &e);
	if (r < 0)
		run_cli_error(stderr, "budget", &e);
	/* The budgets hold (each test's largest peak in any log); shards that do not add up
	 * to one run are said, and fail, as analyze does. */
	if (r >= 0 && p.peaks.shards.count)
		rep_shards_print(stderr, "budget", &p.peaks.shards);
	broken = r >= 0 && rep_shards_broken(&p.peaks.shards);
	budget_peaks_free(&p.peaks);
	return r < 0 ? RUN_CLI_FAILURE : broken ? 1 : RUN_CLI_OK;
}
