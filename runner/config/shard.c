/* The shard a run executes: its text, and the index an engine gives it. Each engine says
 * the index its own way; every one of them ends here as a 1-based I of N. */
#include "runner/config/shard.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Fills e with a message of ours (no errno text: the value is what is wrong). Returns
 * -EINVAL. */
__attribute__((format(printf, 2, 3)))
static int bad(struct wc_error *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	wc_failv(e, 0, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* A decimal of digits only, at most max. Returns 0, -EINVAL or -ERANGE. */
static int parse_number(const char *text, size_t len, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (len == 0)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (text[i] < '0' || text[i] > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(text[i] - '0');
		if (v > max)
			return -ERANGE;
	}
	*out = v;
	return 0;
}

int cfg_shard_parse(const char *text, struct run_shard *out)
{
	const char *slash = strchr(text, '/');
	size_t ilen = slash ? (size_t)(slash - text) : strlen(text);
	uint64_t index = 0, count = 0;
	int r;
	bool is_auto = ilen == 4 && strncmp(text, "auto", 4) == 0;

	if (!is_auto) {
		if (!slash)
			return -EINVAL;
		r = parse_number(text, ilen, UINT32_MAX, &index);
		if (r < 0)
			return r;
	}
	if (slash) {
		r = parse_number(slash + 1, strlen(slash + 1), UINT32_MAX, &count);
		if (r < 0)
			return r;
		if (count < 1 || count > CFG_SHARD_MAX || (!is_auto && index < 1) ||
		    index > count)
			return -ERANGE;
	}
	out->index = (uint32_t)index;
	out->count = (uint32_t)count;
	out->is_auto = is_auto;
	return 0;
}

void cfg_shard_format(const struct run_shard *s, char *buf, size_t size)
{
	if (s->index && s->count)
		snprintf(buf, size, "%u/%u", s->index, s->count);
	else if (s->count)
		snprintf(buf, size, "auto/%u", s->count);
	else if (s->is_auto)
		snprintf(buf, size, "auto");
	else if (size)
		*buf = '\0';
}

/* The variable name as a number, into *v. Returns 1, 0 when unset, or -EINVAL with e. */
static int number_var(cfg_getenv_fn *get, const char *name, uint64_t *v, struct wc_error *e)
{
	const char *text = get(name);

	if (!text || !*text)
		return 0;
	if (parse_number(text, strlen(text), UINT32_MAX, v) < 0)
		return bad(e, "--shard auto: %s=%s is not a number of 0 to %u "
			       "(unset it, or give the shard as I/N)", name, text, UINT32_MAX);
	return 1;
}

/* Checks index of count (from the engine, said in from) and fills out. */
static int engine_shard(uint64_t index, uint64_t count, const char *from,
			struct run_shard *out, struct wc_error *e)
{
	if (count < 1 || count > CFG_SHARD_MAX || index < 1 || index > count)
		return bad(e, "--shard auto: %s gives shard %llu/%llu, which is not "
			       "one of 1/N to N/N with N at most %u (give the shard as I/N)", from,
			       (unsigned long long)index, (unsigned long long)count, CFG_SHARD_MAX);
	out->index = (uint32_t)index;
	out->count = (uint32_t)count;
	return 0;
}

/* A Slurm job array: task ids from SLURM_ARRAY_TASK_MIN up by SLURM_ARRAY_TASK_STEP
 * (sbatch --array=2-6:2 gives 2, 4, 6), SLURM_ARRAY_TASK_COUNT of them. A list with gaps
 * (--array=1,5,9) has no step Slurm says: its ids cannot be told apart from a range's, so
 * such an array gives its shard as I/N. Returns 1 (found), 0, or -EINVAL. */
static int slurm(cfg_getenv_fn *get, struct run_shard *out, char *from, size_t size,
		 struct wc_error *e)
{
	uint64_t id = 0, count = 0, min = 0, step = 1;
	int r = number_var(get, "SLURM_ARRAY_TASK_ID", &id, e);

	if (r <= 0)
		return r;
	if ((r = number_var(get, "SLURM_ARRAY_TASK_COUNT", &count, e)) < 0 ||
	    (r == 0 && bad(e, "--shard auto: SLURM_ARRAY_TASK_ID=%llu without "
			       "SLURM_ARRAY_TASK_COUNT (Slurm sets both in a job array; give the "
			       "shard as I/N)", (unsigned long long)id) < 0) ||
	    number_var(get, "SLURM_ARRAY_TASK_MIN", &min, e) < 0 ||
	    number_var(get, "SLURM_ARRAY_TASK_STEP", &step, e) < 0)
		return -EINVAL;
	snprintf(from, size, "SLURM_ARRAY_TASK_ID=%llu of SLURM_ARRAY_TASK_COUNT=%llu "
		 "(SLURM_ARRAY_TASK_MIN=%llu, SLURM_ARRAY_TASK_STEP=%llu)", (unsigned long long)id,
		 (unsigned long long)count, (unsigned long long)min, (unsigned long long)step);
	if (step == 0 || id < min || (id - min) % step)
		return bad(e, "--shard auto: %s: the task is not min + k * step "
			       "(give the shard as I/N)", from);
	return engine_shard((id - min) / step + 1, count, from, out, e) < 0 ? -EINVAL : 1;
}

/* A Kubernetes Indexed Job: JOB_COMPLETION_INDEX from 0; the job's completions are not in
 * the pod's environment, so the count comes from "auto/N" or WCMEM_SANDBOX_SHARD_COUNT. */
static int kubernetes(cfg_getenv_fn *get, uint32_t given, struct run_shard *out, char *from,
		      size_t size, struct wc_error *e)
{
	uint64_t index = 0, count = given;
	int r = number_var(get, "JOB_COMPLETION_INDEX", &index, e);

	if (r <= 0)
		return r;
	if (!given) {
		r = number_var(get, "WCMEM_SANDBOX_SHARD_COUNT", &count, e);
		if (r < 0)
			return r;
		if (r == 0)
			return bad(e, "--shard auto: JOB_COMPLETION_INDEX=%llu, but the "
				       "count of shards is not known (give --shard auto/N with N the "
				       "Job's completions, or set WCMEM_SANDBOX_SHARD_COUNT)",
				       (unsigned long long)index);
	}
	snprintf(from, size, "JOB_COMPLETION_INDEX=%llu of %llu%s", (unsigned long long)index,
		 (unsigned long long)count, given ? "" : " (WCMEM_SANDBOX_SHARD_COUNT)");
	return engine_shard(index + 1, count, from, out, e) < 0 ? -EINVAL : 1;
}

/* GitLab's parallel: CI_NODE_INDEX of CI_NODE_TOTAL, both 1-based. */
static int gitlab(cfg_getenv_fn *get, struct run_shard *out, char *from, size_t size,
		  struct wc_error *e)
{
	uint64_t index = 0, total = 0;
	int r = number_var(get, "CI_NODE_INDEX", &index, e);

	if (r <= 0)
		return r;
	r = number_var(get, "CI_NODE_TOTAL", &total, e);
	if (r < 0)
		return r;
	snprintf(from, size, "CI_NODE_INDEX=%llu of CI_NODE_TOTAL=%llu",
		 (unsigned long long)index, (unsigned long long)total);
	return engine_shard(index, total, from, out, e) < 0 ? -EINVAL : 1;
}

int cfg_shard_resolve(const struct run_shard *in, cfg_getenv_fn *get, struct run_shard *out,
		      char *from, size_t size, struct wc_error *e)
{
	struct run_shard given = *in;  /* in may be out */
	int r;

	in = &given;
	memset(out, 0, sizeof(*out));
	if (size)
		*from = '\0';
	if (in->index) {
		*out = *in;
		snprintf(from, size, "--shard");
		return 0;
	}
	if (!in->count && !in->is_auto)
		return 0;
	r = slurm(get, out, from, size, e);
	if (r == 0)
		r = kubernetes(get, in->count, out, from, size, e);
	if (r == 0)
		r = gitlab(get, out, from, size, e);
	if (r < 0)
		return r;
	if (r == 1 && in->count && out->count != in->count)
		return bad(e, "--shard auto/%u: %s says %u shards, not %u (give the "
			       "count the engine starts)", in->count, from, out->count, in->count);
	if (r == 0)
		return bad(e, "--shard auto: no engine's index is set "
			       "(SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX, CI_NODE_INDEX); give "
			       "the shard as I/N, e.g. --shard 1/3");
	return 0;
}
