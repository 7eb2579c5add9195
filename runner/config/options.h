/* The command line, parsed into one options struct; INI profiles fill the same struct
 * (runner/config/config.h), and run_options.set says which settings the command line gave, so
 * that it wins over them. */
#ifndef WCMEM_RUNNER_CONFIG_OPTIONS_H
#define WCMEM_RUNNER_CONFIG_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "cgroup/error.h"

/* --shard: this run's share of the tests (runner/config/shard.h). */
struct run_shard {
	uint32_t index;          /* 1-based; 0: from the engine (auto) */
	uint32_t count;          /* 0: from the engine, or no shard */
	bool is_auto;            /* "auto" or "auto/N" */
};

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
	bool plugin;             /* load the pytest plugin into pytest (default yes) */
	bool stop_on_oom;        /* run no further test or suite after an OOM kill (default no) */
	bool oom_score_adj;      /* the command starts with oom_score_adj 1000 (default yes) */
	bool no_systemd_scope;   /* never ask systemd for a delegated scope (runner/session/scope.h) */
	unsigned tracemalloc;    /* allocation lines logged per test (tracemalloc); 0: off */
	uint64_t pids_max;       /* pids.max of the sandbox; UINT64_MAX: max; 0: the default */
	const char *junit_xml;   /* JUnit XML report written at the end, or NULL */
	const char *json;        /* JSON report written at the end, or NULL */
	const char *html;        /* HTML page of the run's analysis written at the end, or NULL */
	const char *budgets;     /* the budget file: a memory.max per test (budget.h), or NULL */
	struct run_shard shard;  /* as given; no shard when count and is_auto are 0 */
	const char *shard_log;   /* an earlier run's log: its durations balance the shards */
	const char *expect;      /* an earlier run's log: its peaks are what admission expects
				  * of each test (runner/control/admit.c), or NULL */
	const char *config;      /* --config FILE, or NULL: search (config.h) */
	const char *profile;     /* --profile NAME, or NULL */
	uint32_t set;            /* CFG_BIT(k) for each setting k given (keys.h) */
	char limit_origin[160];  /* how the built-in limit was found; "": given, or not yet */
	char shard_origin[200];  /* where the shard's index came from ("--shard", an engine's
				  * variables); "": no shard, or not resolved yet */
	char **argv;             /* the command, NULL-terminated; NULL when none was given */
};

#endif
