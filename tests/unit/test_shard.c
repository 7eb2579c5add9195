/* cfg_shard_parse, cfg_shard_resolve (the engines' variables), cfg_shard_format. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "runner/config/shard.h"

/* The variables a test sets: NULL-terminated "NAME=VALUE" entries. */
static const char *const *vars;

static const char *lookup(const char *name)
{
	size_t n = strlen(name);

	for (const char *const *v = vars; v && *v; v++)
		if (strncmp(*v, name, n) == 0 && (*v)[n] == '=')
			return *v + n + 1;
	return NULL;
}

static void expect_parse(const char *text, uint32_t index, uint32_t count, bool is_auto)
{
	struct run_shard s = { 0 };
	int r = cfg_shard_parse(text, &s);

	if (r != 0 || s.index != index || s.count != count || s.is_auto != is_auto)
		fail_msg("cfg_shard_parse(\"%s\") = %d, %u/%u auto %d; want 0, %u/%u auto %d", text,
			 r, s.index, s.count, s.is_auto, index, count, is_auto);
}

static void expect_parse_error(const char *text, int err)
{
	struct run_shard s = { 0 };
	int r = cfg_shard_parse(text, &s);

	if (r != err)
		fail_msg("cfg_shard_parse(\"%s\") = %d, want %d", text, r, err);
}

/* I/N from 1/1 to N/N; auto, and auto with the count. */
static void test_shard_parse_accepts(void **state)
{
	(void)state;
	expect_parse("1/1", 1, 1, false);
	expect_parse("2/3", 2, 3, false);
	expect_parse("100000/100000", 100000, 100000, false);
	expect_parse("auto", 0, 0, true);
	expect_parse("auto/4", 0, 4, true);
}

/* An index out of 1..N, a count of 0 or past the bound: -ERANGE; anything else: -EINVAL. */
static void test_shard_parse_refuses(void **state)
{
	(void)state;
	expect_parse_error("3/2", -ERANGE);
	expect_parse_error("0/3", -ERANGE);
	expect_parse_error("1/0", -ERANGE);
	expect_parse_error("auto/0", -ERANGE);
	expect_parse_error("1/100001", -ERANGE);
	expect_parse_error("99999999999/3", -ERANGE);
	expect_parse_error("a/b", -EINVAL);
	expect_parse_error("2", -EINVAL);
	expect_parse_error("", -EINVAL);
	expect_parse_error("/3", -EINVAL);
	expect_parse_error("1/", -EINVAL);
	expect_parse_error("1/3/4", -EINVAL);
	expect_parse_error(" 1/3", -EINVAL);
	expect_parse_error("-1/3", -EINVAL);
	expect_parse_error("Auto", -EINVAL);
}

/* Resolves text under the variables v; checks the shard and that origin holds want_from. */
static void expect_resolve(const char *text, const char *const *v, uint32_t index,
			   uint32_t count, const char *want_from)
{
	struct run_shard in = { 0 }, out;
	struct wc_error e = { 0 };
	char from[200], buf[600];
	int r;

	vars = v;
	if (text)
		assert_int_equal(cfg_shard_parse(text, &in), 0);
	r = cfg_shard_resolve(&in, lookup, &out, from, sizeof(from), &e);
	if (r != 0)
		fail_msg("%s: %s", text, wc_error_text(&e, buf, sizeof(buf)));
	if (out.index != index || out.count != count || !strstr(from, want_from))
		fail_msg("%s gave %u/%u from '%s'; want %u/%u from '%s'", text, out.index,
			 out.count, from, index, count, want_from);
}

static void expect_resolve_error(const char *text, const char *const *v, const char *says)
{
	struct run_shard in = { 0 }, out;
	struct wc_error e = { 0 };
	char from[200], buf[600];

	vars = v;
	assert_int_equal(cfg_shard_parse(text, &in), 0);
	assert_int_equal(cfg_shard_resolve(&in, lookup, &out, from, sizeof(from), &e), -EINVAL);
	wc_error_text(&e, buf, sizeof(buf));
	if (!strstr(buf, says))
		fail_msg("%s: said '%s', want '%s'", text, buf, says);
}

/* Slurm's ids start at SLURM_ARRAY_TASK_MIN and go up by the step: --array=4-8:2 is 3. */
static void test_shard_resolve_slurm(void **state)
{
	static const char *const first[] = { "SLURM_ARRAY_TASK_ID=0",
		"SLURM_ARRAY_TASK_COUNT=3", NULL };
	static const char *const offset[] = { "SLURM_ARRAY_TASK_ID=8", "SLURM_ARRAY_TASK_MIN=4",
		"SLURM_ARRAY_TASK_STEP=2", "SLURM_ARRAY_TASK_COUNT=3", NULL };
	static const char *const between[] = { "SLURM_ARRAY_TASK_ID=5", "SLURM_ARRAY_TASK_MIN=4",
		"SLURM_ARRAY_TASK_STEP=2", "SLURM_ARRAY_TASK_COUNT=3", NULL };
	static const char *const past[] = { "SLURM_ARRAY_TASK_ID=3",
		"SLURM_ARRAY_TASK_COUNT=3", NULL };
	static const char *const no_count[] = { "SLURM_ARRAY_TASK_ID=1", NULL };

	(void)state;
	expect_resolve("auto", first, 1, 3, "SLURM_ARRAY_TASK_ID=0 of SLURM_ARRAY_TASK_COUNT=3");
	expect_resolve("auto", offset, 3, 3, "SLURM_ARRAY_TASK_MIN=4");
	expect_resolve("auto/3", offset, 3, 3, "SLURM_ARRAY_TASK_ID=8");
	expect_resolve_error("auto/4", offset, "says 3 shards, not 4");
	expect_resolve_error("auto", between, "not min + k * step");
	expect_resolve_error("auto", past, "gives shard 4/3");
	expect_resolve_error("auto", no_count, "without SLURM_ARRAY_TASK_COUNT");
}

/* Kubernetes counts from 0, and the count is ours to give; GitLab counts from 1. */
static void test_shard_resolve_kubernetes_and_gitlab(void **state)
{
	static const char *const k8s[] = { "JOB_COMPLETION_INDEX=2", NULL };
	static const char *const k8s_env[] = { "JOB_COMPLETION_INDEX=0",
		"WCMEM_SANDBOX_SHARD_COUNT=4", NULL };
	static const char *const gitlab[] = { "CI_NODE_INDEX=1", "CI_NODE_TOTAL=2", NULL };
	static const char *const gitlab_bad[] = { "CI_NODE_INDEX=0", "CI_NODE_TOTAL=2", NULL };
	static const char *const garbage[] = { "CI_NODE_INDEX=1x", "CI_NODE_TOTAL=2", NULL };

	(void)state;
	expect_resolve("auto/3", k8s, 3, 3, "JOB_COMPLETION_INDEX=2 of 3");
	expect_resolve("auto", k8s_env, 1, 4, "WCMEM_SANDBOX_SHARD_COUNT");
	expect_resolve_error("auto", k8s, "count of shards is not known");
	expect_resolve_error("auto/2", k8s, "gives shard 3/2");
	expect_resolve("auto", gitlab, 1, 2, "CI_NODE_INDEX=1 of CI_NODE_TOTAL=2");
	expect_resolve_error("auto", gitlab_bad, "gives shard 0/2");
	expect_resolve_error("auto", garbage, "CI_NODE_INDEX=1x is not a number");
}

/* A given I/N wins over any engine; no shard and no variables: none; auto and none set:
 * an error naming the variables looked for. */
static void test_shard_resolve_given_none_and_missing(void **state)
{
	static const char *const gitlab[] = { "CI_NODE_INDEX=1", "CI_NODE_TOTAL=2", NULL };
	static const char *const none[] = { NULL };

	(void)state;
	expect_resolve("2/5", gitlab, 2, 5, "--shard");
	expect_resolve(NULL, gitlab, 0, 0, "");
	expect_resolve_error("auto", none, "SLURM_ARRAY_TASK_ID, JOB_COMPLETION_INDEX, "
			     "CI_NODE_INDEX");
}

/* The text `config` prints reads back as the same shard. */
static void test_shard_format_round_trips(void **state)
{
	static const char *const texts[] = { "1/1", "2/3", "auto", "auto/7" };
	char buf[32];

	(void)state;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct run_shard s = { 0 };

		assert_int_equal(cfg_shard_parse(texts[i], &s), 0);
		cfg_shard_format(&s, buf, sizeof(buf));
		assert_string_equal(buf, texts[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shard_parse_accepts),
		cmocka_unit_test(test_shard_parse_refuses),
		cmocka_unit_test(test_shard_resolve_slurm),
		cmocka_unit_test(test_shard_resolve_kubernetes_and_gitlab),
		cmocka_unit_test(test_shard_resolve_given_none_and_missing),
		cmocka_unit_test(test_shard_format_round_trips),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
