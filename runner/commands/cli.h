/* One command-line scaffold for the run command and every subcommand, as util-linux's tools
 * share include/c.h (errtryhelp, print_version) with a usage() each: the getopt loop's
 * common cases (--help, --version, an unknown option, a missing value), one "Try
 * 'wcmem-sandbox SUB --help'" line, one error printer that escapes what it prints, and the
 * exit statuses of our own.
 *
 * A front end's parse, in this shape:
 *
 *     run_cli_start(&cli, argc, argv);
 *     while ((c = run_cli_next(&cli)) != -1) {
 *             switch (c) {
 *             case 'm': ...; break;
 *             default: return run_cli_other(&cli, c, e);  // --help, --version, mistakes
 *             }
 *     }
 *
 * and its main: r = parse(...); if (r <= 0) return run_cli_exit(cli.name, r, &e); */
#ifndef WCMEM_RUNNER_COMMANDS_CLI_H
#define WCMEM_RUNNER_COMMANDS_CLI_H

#include <getopt.h>
#include <stdio.h>

#include "cgroup/error.h"

/* Our own exit statuses, the same for every subcommand (the man page's EXIT STATUS). 125 as
 * timeout(1) and env(1) have it, so that it is never one of a command's own (pytest's 2 and
 * 4): a usage error, a file that cannot be read, no cgroup to work in. */
enum { RUN_CLI_OK = 0, RUN_CLI_FAILURE = 125 };

/* The long options every front end takes: last in its table, before { NULL, 0, NULL, 0 }.
 * "hV" goes in its option string. */
#define RUN_CLI_LONGOPTS_COMMON \
	{ "help",    no_argument, NULL, 'h' }, \
	{ "version", no_argument, NULL, 'V' }

struct run_cli {
	const char *name;               /* "analyze"; NULL: the run command itself */
	const char *optstring;          /* getopt_long's; starts with ":" ("+:" to stop at the
					 * first operand) so that a missing value is told apart */
	const struct option *longopts;  /* ends with RUN_CLI_LONGOPTS_COMMON */
	void (*usage)(FILE *out);       /* the screenful --help prints */
	int argc;                       /* the rest is run_cli_start's */
	char **argv;
	int word;                       /* the word the last option came from */
};

/* A subcommand: the first word of the command line picks it (commands.h has the table). */
struct run_command {
	const char *name;
	const char *synopsis;           /* what follows the name in a usage line */
	const char *summary;            /* one line for `wcmem-sandbox --help` */
	int (*main)(int argc, char **argv);  /* argv[0] is the name; returns the exit status.
					      * NULL: the run command's parser takes it */
};

/* Starts a parse of argv[1..argc) afresh (also after an earlier parse in this process). */
void run_cli_start(struct run_cli *c, int argc, char **argv);

/* The next option, as getopt_long returns it (optarg set), or -1 after the last one (optind
 * then indexes the first operand). */
int run_cli_next(struct run_cli *c);

/* What the front end's switch does not take: -h prints the usage to stdout and -V the
 * version, and return 0 (the command is done); anything else fills e with a usage error
 * naming the option as given ("unknown option '--bogus'", "option '-l' needs a value",
 * "option '--quiet' takes no value") and returns -EINVAL. */
int run_cli_other(struct run_cli *c, int opt, struct wc_error *e);

/* Fills e with a usage error (no errno part). Returns -EINVAL. */
int run_cli_usage_error(struct wc_error *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Prints "wcmem-sandbox: [NAME: ]message[: strerror]" and the hint on a line of its own,
 * each escaped (rep_log_escape: control characters, bytes that are not UTF-8 and the code
 * points that could drive a terminal become \xHH, \uHHHH): it may hold any byte of argv or of
 * a file. name: the subcommand, or NULL. */
void run_cli_error(FILE *f, const char *name, const struct wc_error *e);

/* Prints "Try 'wcmem-sandbox[ NAME] --help' for more information." */
void run_cli_try_help(FILE *f, const char *name);

/* The exit status after a parse that stopped the command: r 0 (--help or --version was
 * printed) is RUN_CLI_OK; r < 0, a usage error, prints e and the "Try" line to stderr and is
 * RUN_CLI_FAILURE. */
int run_cli_exit(const char *name, int r, const struct wc_error *e);

/* Prints "wcmem-sandbox: [NAME: ]" and the formatted text to stderr, escaped as
 * run_cli_error escapes: for notes and warnings that hold names from outside. */
void run_cli_say(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
