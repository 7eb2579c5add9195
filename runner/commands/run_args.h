/* The run command's front end: its command line parsed into run_options
 * (runner/config/options.h), on the scaffold every subcommand shares (cli.h). */
#ifndef WCMEM_RUNNER_COMMANDS_RUN_ARGS_H
#define WCMEM_RUNNER_COMMANDS_RUN_ARGS_H

#include "runner/config/options.h"

enum cfg_parsed { CFG_RUN = 0, CFG_EXIT_OK = 1 };

/* Parses argv into built-in defaults plus what the command line gives, and sets o->set.
 * A missing command is not an error here (a profile may supply suites): o->argv is NULL.
 * Returns CFG_RUN, CFG_EXIT_OK (--help or --version was printed to stdout), or -EINVAL with
 * e naming the option and the value. physical_bytes resolves N% sizes. */
int cfg_parse_args(int argc, char **argv, uint64_t physical_bytes, struct run_options *o,
		   struct wc_error *e);

#endif
