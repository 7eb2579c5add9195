/* The settings that both the command line and INI profiles give: one table of them, one
 * parser and one formatter per kind of value (sizes and durations through runner/config/size.h). */
#ifndef WCMEM_RUNNER_CONFIG_KEYS_H
#define WCMEM_RUNNER_CONFIG_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cgroup/error.h"
#include "runner/config/options.h"

/* Index into cfg_keys[]; bit CFG_BIT(k) of run_options.set. */
enum cfg_key {
	CFG_LIMIT,
	CFG_TEST_LIMIT,
	CFG_SWAP,
	CFG_HIGH,
	CFG_LOG,
	CFG_APPEND,
	CFG_INTERVAL,
	CFG_KILL_AFTER,
	CFG_QUIET,
	CFG_PLUGIN,
	CFG_STOP_ON_OOM,
	CFG_TRACEMALLOC,
	CFG_JUNIT_XML,
	CFG_JSON,
	CFG_HTML,
	CFG_OOM_SCORE_ADJ,
	CFG_BUDGETS,
	CFG_PIDS_MAX,
	CFG_SHARD,
	CFG_SHARD_LOG,
	CFG_EXPECT,
	CFG_NKEYS
};

#define CFG_BIT(k) (UINT32_C(1) << (k))

#define CFG_DEFAULT_LIMIT_PERCENT 80  /* the built-in limit: this much of physical memory */

/* What a value is. */
enum cfg_type {
	CFG_T_SIZE,      /* a SIZE > 0, stored as uint64_t bytes */
	CFG_T_SWAP,      /* a SIZE or 0 */
	CFG_T_DURATION,  /* a DURATION, stored as uint64_t ns */
	CFG_T_INTERVAL,  /* a DURATION of at least CFG_INTERVAL_MIN_NS (a sampling period) */
	CFG_T_BOOL,      /* yes/no, stored as bool */
	CFG_T_FRAMES,    /* 0..65535, stored as unsigned */
	CFG_T_PATH,      /* a non-empty file name, stored as const char * */
	CFG_T_COUNT,     /* a count of at least 1, or max (UINT64_MAX), stored as uint64_t */
	CFG_T_SHARD,     /* I/N, auto or auto/N, stored as struct run_shard (shard.h) */
};

/* Sampling more often than this burns a core and measures nothing new: memory.peak and the
 * OOM counters are read from the kernel, not from the samples. */
#define CFG_INTERVAL_MIN_NS (10ULL * 1000 * 1000)

struct cfg_key_info {
	const char *ini;       /* the INI key: "test_limit" */
	const char *option;    /* the command-line option: "--test-limit" */
	enum cfg_type type;
	size_t offset;         /* of the field in struct run_options */
};

extern const struct cfg_key_info cfg_keys[CFG_NKEYS];

/* The setting whose INI key is name. Returns its index, or -ENOENT. */
int cfg_key_find(const char *name);

/* Fills o with the built-in defaults (and clears everything else). */
void cfg_defaults(struct run_options *o, uint64_t physical_bytes);

/* Parses text as a value of type into *field. label names the setting in the error:
 * "LABEL: invalid value 'TEXT' (what it takes)". A CFG_T_PATH field keeps the pointer.
 * Returns 0, or -EINVAL / -ERANGE with e filled. */
int cfg_parse_typed(enum cfg_type type, const char *label, const char *text,
		    uint64_t physical_bytes, void *field, struct wc_error *e);

/* Parses text as setting k into o, and marks it in o->set. Returns as cfg_parse_typed. */
int cfg_parse_value(struct run_options *o, enum cfg_key k, const char *label, const char *text,
		    uint64_t physical_bytes, struct wc_error *e);

/* Copies setting k from src to dst (the pointer for paths). */
void cfg_copy_value(struct run_options *dst, const struct run_options *src, enum cfg_key k);

/* Setting k of o as an INI file would give it: "4G", "0", "max", "100ms", "yes", a path,
 * or "" for a path that is not set. */
void cfg_format_value(const struct run_options *o, enum cfg_key k, char *buf, size_t size);

/* Bytes in the largest unit that states them exactly ("1536M", "4G", "12345"), or "max". */
void cfg_format_size(uint64_t bytes, char *buf, size_t size);

/* Nanoseconds in the largest unit that states them exactly ("100ms", "10s", "2m"). */
void cfg_format_duration(uint64_t ns, char *buf, size_t size);

#endif
