/* The command line, parsed into one validated options struct. */
#ifndef WCMEM_RUNNER_OPTIONS_H
#define WCMEM_RUNNER_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "report/error.h"

struct run_options {
	uint64_t limit;          /* the sandbox total, bytes or CFG_SIZE_MAX */
	uint64_t test_limit;     /* each unit's memory.max (default: limit) */
	uint64_t swap;           /* default 0 */
	uint64_t high;           /* memory.high of the sandbox; CFG_SIZE_MAX when unset */
	uint64_t interval_ns;    /* memory.current sampling period */
	uint64_t kill_after_ns;  /* grace after a forwarded signal before the sandbox is killed */
	const char *log_path;    /* NULL: the default path */
	const char *name;        /* the unit's name; NULL: the command line */
	bool append;
	bool quiet;
	char **argv;             /* the command, NULL-terminated */
};

enum cfg_parsed { CFG_RUN = 0, CFG_EXIT_OK = 1 };

/* Parses argv. Returns CFG_RUN, CFG_EXIT_OK (--help or --version was printed to stdout), or
 * -EINVAL with e naming the option and the value. physical_bytes resolves N% sizes. */
int cfg_parse_args(int argc, char **argv, uint64_t physical_bytes, struct run_options *o,
		   struct rep_error *e);

#endif
