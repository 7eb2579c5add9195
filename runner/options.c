/* getopt_long over the command line: "+" stops at the command, so
 * `wcmem-sandbox --limit 4G pytest -x` leaves -x to pytest. */
#include "runner/options.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "runner/size.h"

#define DEFAULT_LIMIT_PERCENT 80
#define DEFAULT_INTERVAL_NS (100ULL * 1000 * 1000)
#define DEFAULT_KILL_AFTER_NS (10ULL * 1000 * 1000 * 1000)

enum { OPT_HIGH = 256, OPT_APPEND };

static const struct option longopts[] = {
	{ "limit",      required_argument, NULL, 'l' },
	{ "test-limit", required_argument, NULL, 't' },
	{ "swap",       required_argument, NULL, 's' },
	{ "high",       required_argument, NULL, OPT_HIGH },
	{ "log",        required_argument, NULL, 'o' },
	{ "append",     no_argument,       NULL, OPT_APPEND },
	{ "name",       required_argument, NULL, 'n' },
	{ "interval",   required_argument, NULL, 'i' },
	{ "kill-after", required_argument, NULL, 'k' },
	{ "quiet",      no_argument,       NULL, 'q' },
	{ "help",       no_argument,       NULL, 'h' },
	{ "version",    no_argument,       NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static void usage(void)
{
	fputs(
"Usage: wcmem-sandbox [OPTION]... [--] COMMAND [ARG]...\n"
"Run COMMAND in a memory-capped cgroup sandbox, log the memory it used, and say\n"
"whether and why it was OOM-killed. Nothing outside the sandbox can be hurt.\n"
"\n"
"Limits:\n"
"  -l, --limit SIZE          cap on the whole run (default: 80% of physical memory)\n"
"  -t, --test-limit SIZE     cap on each unit (default: the --limit)\n"
"  -s, --swap SIZE           swap the sandbox may use (default: 0)\n"
"      --high SIZE           throttle the sandbox above SIZE (memory.high, cgroup v2)\n"
"\n"
"Reporting:\n"
"  -o, --log FILE            memory log (default: $WEATHERCOP_DIR/test_memory.log,\n"
"                            else ~/.weathercop/test_memory.log)\n"
"      --append              append to the log instead of starting it afresh\n"
"  -n, --name NAME           the unit's name in the log (default: the command line)\n"
"  -i, --interval DURATION   how often memory.current is sampled (default: 100ms)\n"
"  -q, --quiet               no summary on stderr (errors and warnings still show)\n"
"\n"
"Supervision:\n"
"  -k, --kill-after DURATION after passing SIGINT, SIGTERM or SIGHUP on to COMMAND,\n"
"                            kill the sandbox if it still runs (default: 10s);\n"
"                            a second such signal kills it at once\n"
"  -h, --help                show this help and exit\n"
"  -V, --version             show the version and exit\n"
"\n"
"SIZE is bytes, or a number with K, M, G or T (powers of 1024, any case, B or iB\n"
"may follow; decimals like 1.5G), or N% of physical memory, or max.\n"
"DURATION is a number with ms, s, m or h (seconds when none).\n"
"\n"
"Exit status:\n"
"  N      COMMAND's own exit status\n"
"  128+N  COMMAND was killed by signal N (137: SIGKILL, as after an OOM kill)\n"
"  125    wcmem-sandbox itself failed (bad usage, no cgroup to work in)\n"
"  126    COMMAND was found but could not be run\n"
"  127    COMMAND was not found\n"
"\n"
"Environment:\n"
"  WEATHERCOP_DIR                  folder of the default log\n"
"  WEATHERCOP_DISABLE_DIAGNOSTICS  1: write no log (the limits stay on)\n"
"  WCMEM_CGROUP_BASE               the cgroup to build the sandbox in\n"
"                                  (default: the one wcmem-sandbox runs in)\n"
"\n"
"Example:\n"
"  wcmem-sandbox --limit 4G pytest -x\n", stdout);
}

/* A usage error: e->msg says what, e->err stays 0 (no strerror part). Returns -EINVAL. */
static int usage_fail(struct rep_error *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int usage_fail(struct rep_error *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	e->err = 0;
	return -EINVAL;
}

static int bad_value(struct rep_error *e, const char *opt, const char *value, int err,
		     const char *what)
{
	return usage_fail(e, "%s: %s '%s' %s", opt,
			  err == -ERANGE ? "out of range:" : "invalid value", value, what);
}

static int parse_size_opt(const char *opt, const char *value, uint64_t phys, uint64_t *out,
			  struct rep_error *e)
{
	int r = cfg_parse_size(value, phys, out);

	if (r < 0)
		return bad_value(e, opt, value, r,
				 "(a size: bytes, 512M, 1.5G, 50% or max; more than 0, under 8 EiB)");
	return 0;
}

static int parse_duration_opt(const char *opt, const char *value, uint64_t *out,
			      struct rep_error *e)
{
	int r = cfg_parse_duration(value, out);

	if (r < 0)
		return bad_value(e, opt, value, r, "(a duration: 100ms, 2s, 1m; more than 0, at most 1 day)");
	return 0;
}

int cfg_parse_args(int argc, char **argv, uint64_t phys, struct run_options *o,
		   struct rep_error *e)
{
	bool test_limit_set = false;
	int c, r = 0;

	memset(o, 0, sizeof(*o));
	o->limit = phys ? phys / 100 * DEFAULT_LIMIT_PERCENT : CFG_SIZE_MAX;
	o->swap = 0;
	o->high = CFG_SIZE_MAX;
	o->interval_ns = DEFAULT_INTERVAL_NS;
	o->kill_after_ns = DEFAULT_KILL_AFTER_NS;

	opterr = 0;
	optind = 1;
	while (r == 0 && (c = getopt_long(argc, argv, "+:l:t:s:o:n:i:k:qhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'l': r = parse_size_opt("--limit", optarg, phys, &o->limit, e); break;
		case 't':
			r = parse_size_opt("--test-limit", optarg, phys, &o->test_limit, e);
			test_limit_set = true;
			break;
		case 's':
			/* 0 is a real swap size (and the default), unlike a memory limit. */
			if (strcmp(optarg, "0") == 0)
				o->swap = 0;
			else
				r = parse_size_opt("--swap", optarg, phys, &o->swap, e);
			break;
		case OPT_HIGH: r = parse_size_opt("--high", optarg, phys, &o->high, e); break;
		case 'o':
			if (!*optarg)
				r = bad_value(e, "--log", optarg, -EINVAL, "(a file name)");
			o->log_path = optarg;
			break;
		case OPT_APPEND: o->append = true; break;
		case 'n': o->name = optarg; break;
		case 'i': r = parse_duration_opt("--interval", optarg, &o->interval_ns, e); break;
		case 'k': r = parse_duration_opt("--kill-after", optarg, &o->kill_after_ns, e); break;
		case 'q': o->quiet = true; break;
		case 'h': usage(); return CFG_EXIT_OK;
		case 'V': printf("wcmem-sandbox %s\n", WCMEM_VERSION); return CFG_EXIT_OK;
		case ':':
			return usage_fail(e, "option '%s' needs a value", argv[optind - 1]);
		default:
			return usage_fail(e, "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (r < 0)
		return r;
	if (optind >= argc)
		return usage_fail(e, "no command given");
	if (!test_limit_set)
		o->test_limit = o->limit;
	o->argv = argv + optind;
	return CFG_RUN;
}
