/* `wcmem-sandbox merge`: one report from the reports of a run's shards. Every input is read
 * and checked before the output is opened, so a bad input leaves no half-written file. */
#include "runner/commands/merge.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "report/file.h"
#include "report/merge.h"
#include "runner/budget/budget.h"
#include "runner/commands/cli.h"

#define MERGE_IN_TWO 1  /* the exit status when a test is in two reports */

struct merge_opts {
	const char *output;  /* "-": standard output */
	char **reports;
	int nreports;
};

static void usage(FILE *out)
{
	fputs(
"Usage: wcmem-sandbox merge [-o FILE] REPORT...\n"
"\n"
"Merge the reports of one run's shards (--shard I/N) into one: JSON reports (--json)\n"
"into one object of schema wcmem-sandbox-merged/1 (every session, every unit with the\n"
"report it came from), or JUnit XML files (--junit-xml, or pytest's --junitxml) into one\n"
"<testsuites> holding each file's <testsuite> elements, their counts summed. The\n"
"reports must be all JSON or all XML. A test in two of them (its shards' collections\n"
"differed) is named; a shard no report is of is said.\n"
"\n"
"  -o, --output FILE   write the merged report to FILE (default: standard output)\n"
"  -h, --help          show this help and exit\n"
"  -V, --version       show the version and exit\n"
"\n"
"Exit status: 0; 1 when a test is in two reports (the merged report is written all the\n"
"same); 125 on a usage error, or a REPORT that cannot be read or is not a report.\n", out);
}

/* Returns 1 to go on, 0 when done (--help, --version), or -EINVAL with e filled. */
static int parse_args(int argc, char **argv, struct merge_opts *o, struct wc_error *e)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		RUN_CLI_LONGOPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	struct run_cli cli = { .name = "merge", .optstring = ":o:hV", .longopts = longopts,
			       .usage = usage };
	int c;

	*o = (struct merge_opts){ .output = "-" };
	run_cli_start(&cli, argc, argv);
	while ((c = run_cli_next(&cli)) != -1) {
		if (c != 'o')
			return run_cli_other(&cli, c, e);
		if (!*optarg)
			return run_cli_usage_error(e, "--output: invalid value '' (a file name, or "
						   "- for standard output)");
		o->output = optarg;
	}
	if (optind == argc)
		return run_cli_usage_error(e, "name the reports (REPORT...) to merge");
	o->reports = argv + optind;
	o->nreports = argc - optind;
	return 1;
}

/* The first byte that is not a blank: '{' for JSON, '<' for XML. */
static char kind_of(const struct rep_merge_input *in)
{
	size_t i = strspn(in->text, " \t\r\n");

	return i < in->len ? in->text[i] : '\0';
}

/* Reads every report whole, each at most REP_MERGE_FILE_MAX bytes. Returns 0 or -errno. */
static int read_all(const struct merge_opts *o, struct rep_merge_input *in,
		    struct wc_error *e)
{
	for (int i = 0; i < o->nreports; i++) {
		struct stat st;
		char *text = NULL;
		int r;

		in[i].path = o->reports[i];
		if (stat(o->reports[i], &st) == 0 && (uint64_t)st.st_size > REP_MERGE_FILE_MAX) {
			wc_fail(e, 0, "%s: larger than a report can be (%llu bytes at most)",
				o->reports[i], (unsigned long long)REP_MERGE_FILE_MAX);
			return -EFBIG;
		}
		r = budget_read_text(o->reports[i], "report", &text, &in[i].len, e);
		if (r < 0)
			return r;
		in[i].text = text;
		if (in[i].len > REP_MERGE_FILE_MAX) {
			wc_fail(e, 0, "%s: larger than a report can be", o->reports[i]);
			return -EFBIG;
		}
		if (kind_of(&in[i]) != '{' && kind_of(&in[i]) != '<') {
			wc_fail(e, 0, "%s: neither a JSON report nor a JUnit XML file", in[i].path);
			return wc_hint(e, "give the files a run wrote with --json or --junit-xml");
		}
		if (kind_of(&in[i]) != kind_of(&in[0])) {
			wc_fail(e, 0, "%s is %s, %s is not: merge reports of one kind", in[0].path,
				kind_of(&in[0]) == '{' ? "JSON" : "XML", in[i].path);
			return -EINVAL;
		}
	}
	return 0;
}

/* Each test in two reports, on stderr: "wcmem-sandbox merge: B: error: NAME is in A too". */
static void say_twice(const struct rep_merge_input *in, const struct rep_shards *t)
{
	for (unsigned long i = 0; i < t->dups && i < REP_SHARDS_DUPS_MAX; i++)
		fprintf(stderr, "wcmem-sandbox merge: %s: error: %s is in %s too: the shards' "
			"collections differ (run every shard on the same tests and version)\n",
			in[t->dup[i].again - 1].path, t->dup[i].name, in[t->dup[i].first - 1].path);
	if (t->dups > REP_SHARDS_DUPS_MAX)
		fprintf(stderr, "wcmem-sandbox merge: error: and %lu more tests are in two "
			"reports\n", t->dups - REP_SHARDS_DUPS_MAX);
}

/* Opens the output, merges into it, and closes it. Returns 0 or -errno. */
static int merge(const struct merge_opts *o, const struct rep_merge_input *in,
		 struct rep_merge_result *res, struct wc_error *e)
{
	FILE *out;
	int r = rep_file_open_report(o->output, REP_DIRS_ALL, &out, e);  /* "-": stdout */

	if (r < 0)
		return r;
	r = kind_of(&in[0]) == '{' ? rep_merge_json(in, (size_t)o->nreports, out, res, e) :
	     rep_merge_junit(in, (size_t)o->nreports, out, res, e);
	if (fclose(out) != 0 && r == 0)
		r = wc_fail(e, errno, "write %s", o->output);
	return r;
}

int run_merge_main(int argc, char **argv)
{
	struct rep_merge_input *in = NULL;
	struct rep_merge_result res = { 0 };
	struct wc_error e = { 0 };
	struct merge_opts o;
	int r = parse_args(argc, argv, &o, &e);
	bool twice = false;

	if (r <= 0)
		return run_cli_exit("merge", r, &e);
	in = calloc((size_t)o.nreports, sizeof(*in));
	r = in ? read_all(&o, in, &e) : wc_fail(&e, ENOMEM, "merge");
	if (r == 0)
		r = merge(&o, in, &res, &e);
	if (r < 0) {
		run_cli_error(stderr, "merge", &e);
	} else {
		say_twice(in, &res.tests);
		rep_shards_print(stderr, "merge", &res.shards);
		twice = res.tests.dups > 0;
	}
	for (int i = 0; in && i < o.nreports; i++)
		free((char *)in[i].text);
	free(in);
	rep_merge_result_free(&res);
	return r < 0 ? RUN_CLI_FAILURE : twice ? MERGE_IN_TWO : RUN_CLI_OK;
}
