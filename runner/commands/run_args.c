/* getopt_long over the command line: "+" stops at the command, so
 * `wcmem-sandbox --limit 4G pytest -x` leaves -x to pytest. Values go through the same
 * parsers as INI files (keys.c), and each setting given is marked in o->set, so that
 * the command line wins over profiles (merge.c). */
#include "runner/commands/run_args.h"

#include <errno.h>
#include <stdio.h>

#include "runner/commands/cli.h"
#include "runner/commands/commands.h"
#include "runner/config/keys.h"
#include "runner/config/size.h"

enum {
	OPT_HIGH = 256, OPT_APPEND, OPT_CONFIG, OPT_NO_PLUGIN, OPT_STOP_ON_OOM, OPT_TRACEMALLOC,
	OPT_JUNIT_XML, OPT_JSON, OPT_HTML, OPT_BUDGETS, OPT_PIDS_MAX, OPT_SHARD, OPT_SHARD_LOG,
	OPT_EXPECT,
	/* The opposites: a yes or no of a profile can always be undone on the command line. */
	OPT_NO_APPEND, OPT_NO_QUIET, OPT_PLUGIN, OPT_NO_STOP_ON_OOM,
	OPT_OOM_SCORE_ADJ, OPT_NO_OOM_SCORE_ADJ, OPT_NO_SYSTEMD_SCOPE,
};

static const struct option longopts[] = {
	{ "limit",       required_argument, NULL, 'l' },
	{ "test-limit",  required_argument, NULL, 't' },
	{ "swap",        required_argument, NULL, 's' },
	{ "high",        required_argument, NULL, OPT_HIGH },
	{ "log",         required_argument, NULL, 'o' },
	{ "append",      no_argument,       NULL, OPT_APPEND },
	{ "name",        required_argument, NULL, 'n' },
	{ "interval",    required_argument, NULL, 'i' },
	{ "kill-after",  required_argument, NULL, 'k' },
	{ "quiet",       no_argument,       NULL, 'q' },
	{ "profile",     required_argument, NULL, 'p' },
	{ "config",      required_argument, NULL, OPT_CONFIG },
	{ "no-plugin",   no_argument,       NULL, OPT_NO_PLUGIN },
	{ "stop-on-oom", no_argument,       NULL, OPT_STOP_ON_OOM },
	{ "tracemalloc", required_argument, NULL, OPT_TRACEMALLOC },
	{ "junit-xml",   required_argument, NULL, OPT_JUNIT_XML },
	{ "json",        required_argument, NULL, OPT_JSON },
	{ "html",        required_argument, NULL, OPT_HTML },
	{ "budgets",     required_argument, NULL, OPT_BUDGETS },
	{ "pids-max",    required_argument, NULL, OPT_PIDS_MAX },
	{ "shard",       required_argument, NULL, OPT_SHARD },
	{ "shard-log",   required_argument, NULL, OPT_SHARD_LOG },
	{ "expect",      required_argument, NULL, OPT_EXPECT },
	{ "no-append",   no_argument,       NULL, OPT_NO_APPEND },
	{ "no-quiet",    no_argument,       NULL, OPT_NO_QUIET },
	{ "plugin",      no_argument,       NULL, OPT_PLUGIN },
	{ "no-stop-on-oom", no_argument,    NULL, OPT_NO_STOP_ON_OOM },
	{ "oom-score-adj", no_argument,     NULL, OPT_OOM_SCORE_ADJ },
	{ "no-oom-score-adj", no_argument,  NULL, OPT_NO_OOM_SCORE_ADJ },
	{ "no-systemd-scope", no_argument,  NULL, OPT_NO_SYSTEMD_SCOPE },
	RUN_CLI_LONGOPTS_COMMON,
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *out)
{
	fputs(
"Usage: wcmem-sandbox [OPTION]... [--] COMMAND [ARG]...\n"
"       wcmem-sandbox [OPTION]... --profile NAME\n", out);
	run_commands_synopsis(out);
	fputs(
"Run COMMAND in a memory-capped cgroup sandbox, log the memory it used, and say\n"
"whether and why it was OOM-killed. Nothing outside the sandbox can be hurt.\n"
"With --profile and no COMMAND, run the profile's suites one after another.\n"
"\n"
"Commands (each has its --help: wcmem-sandbox analyze --help):\n", out);
	run_commands_summary(out);
	fputs(
"\n"
"Limits:\n"
"  -l, --limit SIZE          cap on the whole run (default: what is free at the\n"
"                            start less a reserve, at most 80% of physical memory)\n"
"  -t, --test-limit SIZE     cap on each test and nested call (default: the --limit);\n"
"                            the command itself is held by --limit alone\n"
"  -s, --swap SIZE           swap the sandbox may use (default: 0)\n"
"      --high SIZE           throttle the sandbox above SIZE (memory.high, cgroup v2)\n"
"      --pids-max N|max      cap on the processes and threads in the sandbox (pids.max;\n"
"                            default: a quarter of what the kernel can hand out, at\n"
"                            least 4096)\n"
"      --no-oom-score-adj    leave the command's oom_score_adj as it is (default:\n"
"                            1000, so that when the whole machine runs out of\n"
"                            memory the kernel kills a test before your editor)\n"
"      --no-systemd-scope    where the cgroup wcmem-sandbox starts in is not yours\n"
"                            to build in (cgroup v2), fail instead of asking your\n"
"                            systemd user manager for a delegated scope to run in\n"
"\n"
"Reporting:\n"
"  -o, --log FILE            memory log (default: $WEATHERCOP_DIR/test_memory.log,\n"
"                            else ~/.weathercop/test_memory.log)\n"
"      --append              append to the log instead of starting it afresh\n"
"  -n, --name NAME           the unit's name in the log (default: the command line)\n"
"  -i, --interval DURATION   how often memory.current is sampled, into LOG.timeline\n"
"                            (at least 10ms; default: 100ms)\n"
"  -q, --quiet               no summary on stderr (errors and warnings still show)\n"
"      --junit-xml FILE      write a JUnit XML report at the end (a testcase a unit)\n"
"      --json FILE           write every unit record as JSON at the end\n"
"      --html FILE           write the run's analysis as an HTML page at the end: a\n"
"                            chart of memory over time and the tables (as analyze)\n"
"                            (FILE '-': standard output, after the command's own; one\n"
"                            report at most)\n"
"\n"
"Profiles (INI file: --config FILE, $WCMEM_SANDBOX_CONFIG, ./wcmem-sandbox.ini or a\n"
"[wcmem-sandbox] section of pytest.ini, tox.ini, setup.cfg, here or in the nearest parent\n"
"up to the project's root (.git, .hg), $XDG_CONFIG_HOME/wcmem-sandbox/config.ini,\n"
"/etc/wcmem-sandbox.ini):\n"
"  -p, --profile NAME        take settings (and suites) from [profile NAME]\n"
"      --config FILE         read FILE instead of searching\n"
"      --no-append, --no-quiet, --plugin, --no-stop-on-oom, --oom-score-adj\n"
"                            undo the profile's append, quiet, plugin = no,\n"
"                            stop_on_oom or oom_score_adj = no\n"
"\n"
"pytest:\n"
"      --no-plugin           do not load the pytest plugin (per-test units)\n"
"      --stop-on-oom         run no further test or suite after an OOM kill\n"
"      --tracemalloc N       log each test's N biggest allocations (tracemalloc)\n"
"      --budgets FILE        run each test FILE lists under its budget (its own\n"
"                            memory.max); `budget` writes FILE from a run's log\n"
"      --expect LOG          hold a test's start until the sandbox can hold the\n"
"                            peak LOG measured for it (an earlier run's log; this\n"
"                            run's own is read before it is emptied)\n"
"      --shard I/N           run the I-th of N shares of the tests (N runs together\n"
"                            run each once); auto, auto/N: I from the engine\n"
"                            (SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX, CI_NODE_INDEX)\n"
"      --shard-log LOG       balance the shards by the durations LOG measured\n"
"\n"
"Supervision:\n"
"  -k, --kill-after DURATION after passing SIGINT, SIGTERM or SIGHUP on to COMMAND,\n"
"                            kill the sandbox if it still runs (default: 10s);\n"
"                            a second such signal kills it at once\n"
"  -h, --help                show this help and exit\n"
"  -V, --version             show the version and exit\n"
"\n"
"SIZE is bytes, or a number with K, M, G or T (powers of 1024, any case, B or iB\n"
"may follow; decimals like 1.5G), or N% of physical memory, or max; at least a\n"
"page (4 KiB).\n"
"DURATION is a number with ms, s, m or h (seconds when none).\n"
"\n"
"Exit status:\n"
"  N      COMMAND's own exit status (suites: the first failing suite's)\n"
"  128+N  COMMAND was killed by signal N (137: SIGKILL, as after an OOM kill)\n"
"  125    wcmem-sandbox itself failed (bad usage or config file, no cgroup to work in)\n"
"  126    COMMAND was found but could not be run\n"
"  127    COMMAND was not found\n"
"\n"
"Environment:\n"
"  WEATHERCOP_DIR                  folder of the default log\n"
"  WEATHERCOP_DISABLE_DIAGNOSTICS  1: write no log (the limits stay on)\n"
"  WCMEM_CGROUP_BASE               the cgroup to build the sandbox in\n"
"                                  (default: the one wcmem-sandbox runs in)\n"
"  WCMEM_SANDBOX_CONFIG            the config file (after --config)\n"
"  WCMEM_SANDBOX_SOCKET            set for COMMAND: inside it, wcmem-sandbox [--name NAME]\n"
"                                  [--test-limit SIZE] -- CMD runs CMD as one unit of\n"
"                                  this session\n"
"\n"
"Examples:\n"
"  wcmem-sandbox --limit 4G pytest -x\n"
"  wcmem-sandbox --profile ci\n", out);
}

/* Parses one option of the table, by its INI key's index. Returns 0 or -EINVAL. */
static int value(struct run_options *o, enum cfg_key k, uint64_t phys, struct wc_error *e)
{
	return cfg_parse_value(o, k, cfg_keys[k].option, optarg, phys, e) < 0 ? -EINVAL : 0;
}

/* A flag: sets a bool setting and marks it given. */
static int flag(struct run_options *o, enum cfg_key k, bool on)
{
	*(bool *)((char *)o + cfg_keys[k].offset) = on;
	o->set |= CFG_BIT(k);
	return 0;
}

/* A name that must not be empty (--name, --profile, --config). */
static int text(const char **field, const char *opt, struct wc_error *e)
{
	if (!*optarg)
		return run_cli_usage_error(e, "%s: invalid value '' (must not be empty)", opt);
	*field = optarg;
	return 0;
}

/* Handles option c. Returns 0, CFG_EXIT_OK, or -EINVAL. */
static int one_option(struct run_cli *cli, int c, uint64_t phys, struct run_options *o,
		      struct wc_error *e)
{
	switch (c) {
	case 'l': return value(o, CFG_LIMIT, phys, e);
	case 't': return value(o, CFG_TEST_LIMIT, phys, e);
	case 's': return value(o, CFG_SWAP, phys, e);
	case OPT_HIGH: return value(o, CFG_HIGH, phys, e);
	case 'o': return value(o, CFG_LOG, phys, e);
	case OPT_APPEND: return flag(o, CFG_APPEND, true);
	case OPT_NO_APPEND: return flag(o, CFG_APPEND, false);
	case 'n': return text(&o->name, "--name", e);
	case 'i': return value(o, CFG_INTERVAL, phys, e);
	case 'k': return value(o, CFG_KILL_AFTER, phys, e);
	case 'q': return flag(o, CFG_QUIET, true);
	case OPT_NO_QUIET: return flag(o, CFG_QUIET, false);
	case 'p': return text(&o->profile, "--profile", e);
	case OPT_CONFIG: return text(&o->config, "--config", e);
	case OPT_NO_PLUGIN: return flag(o, CFG_PLUGIN, false);
	case OPT_PLUGIN: return flag(o, CFG_PLUGIN, true);
	case OPT_STOP_ON_OOM: return flag(o, CFG_STOP_ON_OOM, true);
	case OPT_NO_STOP_ON_OOM: return flag(o, CFG_STOP_ON_OOM, false);
	case OPT_OOM_SCORE_ADJ: return flag(o, CFG_OOM_SCORE_ADJ, true);
	case OPT_NO_OOM_SCORE_ADJ: return flag(o, CFG_OOM_SCORE_ADJ, false);
	case OPT_NO_SYSTEMD_SCOPE: o->no_systemd_scope = true; return 0;
	case OPT_TRACEMALLOC: return value(o, CFG_TRACEMALLOC, phys, e);
	case OPT_JUNIT_XML: return value(o, CFG_JUNIT_XML, phys, e);
	case OPT_JSON: return value(o, CFG_JSON, phys, e);
	case OPT_HTML: return value(o, CFG_HTML, phys, e);
	case OPT_BUDGETS: return value(o, CFG_BUDGETS, phys, e);
	case OPT_PIDS_MAX: return value(o, CFG_PIDS_MAX, phys, e);
	case OPT_SHARD: return value(o, CFG_SHARD, phys, e);
	case OPT_SHARD_LOG: return value(o, CFG_SHARD_LOG, phys, e);
	case OPT_EXPECT: return value(o, CFG_EXPECT, phys, e);
	default: return run_cli_other(cli, c, e) == 0 ? CFG_EXIT_OK : -EINVAL;
	}
}

int cfg_parse_args(int argc, char **argv, uint64_t phys, struct run_options *o,
		   struct wc_error *e)
{
	struct run_cli cli = { .name = NULL, .optstring = "+:l:t:s:o:n:i:k:qp:hV",
			       .longopts = longopts, .usage = usage };
	int c, r = 0;

	cfg_defaults(o, phys);
	run_cli_start(&cli, argc, argv);
	while (r == 0 && (c = run_cli_next(&cli)) != -1)
		r = one_option(&cli, c, phys, o, e);
	if (r != 0)
		return r;
	if (!(o->set & CFG_BIT(CFG_TEST_LIMIT)))
		o->test_limit = o->limit;
	o->argv = optind < argc ? argv + optind : NULL;
	return CFG_RUN;
}
