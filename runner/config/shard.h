/* --shard I/N: which share of the collected tests this run executes, so that N runs together
 * execute every test once. The index is 1-based, as GitLab's CI_NODE_INDEX; "auto" takes it
 * from the engine the run is in (a Slurm job array, a Kubernetes Indexed Job, GitLab's
 * parallel:), "auto/N" takes the index from the engine and the count from the text. */
#ifndef WCMEM_RUNNER_CONFIG_SHARD_H
#define WCMEM_RUNNER_CONFIG_SHARD_H

#include <stddef.h>
#include <stdint.h>

#include "cgroup/error.h"
#include "runner/config/options.h"

#define CFG_SHARD_MAX 100000  /* shards of one suite: more than any engine starts */

/* Parses "I/N" (1 <= I <= N <= CFG_SHARD_MAX), "auto" or "auto/N" into *out (index 0:
 * from the engine; count 0: from the engine). Returns 0, -EINVAL or -ERANGE. */
int cfg_shard_parse(const char *text, struct run_shard *out);

/* The variables a lookup reads; getenv in a run, a table in tests. */
typedef const char *cfg_getenv_fn(const char *name);

/* The shard in force: in->index and in->count when given, else from the engine's variables
 * (SLURM_ARRAY_TASK_ID less SLURM_ARRAY_TASK_MIN over SLURM_ARRAY_TASK_STEP, of
 * SLURM_ARRAY_TASK_COUNT; JOB_COMPLETION_INDEX with the count of "auto/N" or
 * WCMEM_SANDBOX_SHARD_COUNT; CI_NODE_INDEX of CI_NODE_TOTAL). from (size bytes) says where it
 * came from: "--shard", "SLURM_ARRAY_TASK_ID=4 of SLURM_ARRAY_TASK_COUNT=3 (from
 * SLURM_ARRAY_TASK_MIN=2)". Returns 0 (out->count 0: no shard), or -EINVAL with e naming
 * the variables and their values. */
int cfg_shard_resolve(const struct run_shard *in, cfg_getenv_fn *get, struct run_shard *out,
		      char *from, size_t size, struct wc_error *e);

/* "2/3", "auto", "auto/3"; "" when nothing is set. */
void cfg_shard_format(const struct run_shard *s, char *buf, size_t size);

#endif
