/* cfg_parse_args (the command line), and the value parsers and formatters it shares with
 * INI files (runner/config/keys.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "runner/config/keys.h"
#include "runner/commands/run_args.h"
#include "runner/config/options.h"
#include "runner/config/size.h"

#define MIB UINT64_C(1048576)
#define GIB (MIB * 1024)
#define PHYS (16 * GIB)
#define S UINT64_C(1000000000)

/* Parses a NULL-terminated argument list (without argv[0]) and expects want. */
static int parse(struct run_options *o, struct wc_error *e, const char *const *args)
{
	char *argv[32] = { "wcmem-sandbox" };
	int argc = 1;

	for (; args[argc - 1]; argc++)
		argv[argc] = (char *)args[argc - 1];
	memset(e, 0, sizeof(*e));
	return cfg_parse_args(argc, argv, PHYS, o, e);
}

static void expect_usage_error(const char *const *args, const char *msg)
{
	struct run_options o;
	struct wc_error e;

	assert_int_equal(parse(&o, &e, args), -EINVAL);
	assert_string_equal(e.msg, msg);
}

/* No options: the built-in defaults, nothing marked as given, no command. */
static void test_options_defaults(void **state)
{
	struct run_options o;
	struct wc_error e;

	(void)state;
	assert_int_equal(parse(&o, &e, (const char *[]){ NULL }), CFG_RUN);
	assert_int_equal(o.limit, PHYS / 100 * 80);
	assert_int_equal(o.test_limit, o.limit);
	assert_int_equal(o.swap, 0);
	assert_int_equal(o.high, CFG_SIZE_MAX);
	assert_int_equal(o.interval_ns, S / 10);
	assert_int_equal(o.kill_after_ns, 10 * S);
	assert_true(o.plugin);
	assert_false(o.stop_on_oom);
	assert_true(o.oom_score_adj);
	assert_int_equal(o.tracemalloc, 0);
	assert_null(o.junit_xml);
	assert_null(o.json);
	assert_null(o.profile);
	assert_null(o.config);
	assert_int_equal(o.set, 0);
	assert_null(o.argv);
}

/* Every setting given is parsed and marked in o->set, so that it wins over profiles. */
static void test_options_new_options_are_marked(void **state)
{
	struct run_options o;
	struct wc_error e;

	(void)state;
	assert_int_equal(parse(&o, &e, (const char *[]){ "--no-plugin", "--stop-on-oom",
		"--tracemalloc", "25", "--junit-xml", "out/j.xml", "--json", "r.json", "-p", "ci",
		"--config", "x.ini", "--test-limit", "1G", "-q", NULL }), CFG_RUN);
	assert_false(o.plugin);
	assert_true(o.stop_on_oom);
	assert_int_equal(o.tracemalloc, 25);
	assert_string_equal(o.junit_xml, "out/j.xml");
	assert_string_equal(o.json, "r.json");
	assert_string_equal(o.profile, "ci");
	assert_string_equal(o.config, "x.ini");
	assert_int_equal(o.test_limit, GIB);
	assert_int_equal(o.set, CFG_BIT(CFG_PLUGIN) | CFG_BIT(CFG_STOP_ON_OOM) |
			 CFG_BIT(CFG_TRACEMALLOC) | CFG_BIT(CFG_JUNIT_XML) | CFG_BIT(CFG_JSON) |
			 CFG_BIT(CFG_TEST_LIMIT) | CFG_BIT(CFG_QUIET));
	assert_null(o.argv);
}

/* Each yes/no has its opposite, so that a profile's choice can be undone; the last one
 * given wins, and either marks the setting as given. */
static void test_options_opposites_undo_and_are_marked(void **state)
{
	struct run_options o;
	struct wc_error e;

	(void)state;
	assert_int_equal(parse(&o, &e, (const char *[]){ "--no-append", "--no-quiet", "--plugin",
		"--no-stop-on-oom", "--oom-score-adj", NULL }), CFG_RUN);
	assert_false(o.append);
	assert_false(o.quiet);
	assert_true(o.plugin);
	assert_false(o.stop_on_oom);
	assert_true(o.oom_score_adj);
	assert_int_equal(o.set, CFG_BIT(CFG_APPEND) | CFG_BIT(CFG_QUIET) | CFG_BIT(CFG_PLUGIN) |
			 CFG_BIT(CFG_STOP_ON_OOM) | CFG_BIT(CFG_OOM_SCORE_ADJ));
	assert_int_equal(parse(&o, &e, (const char *[]){ "--plugin", "--no-plugin", "-q",
		"--no-quiet", "--stop-on-oom", "--append", "--no-oom-score-adj", NULL }), CFG_RUN);
	assert_false(o.plugin);
	assert_false(o.quiet);
	assert_true(o.stop_on_oom);
	assert_true(o.append);
	assert_false(o.oom_score_adj);
	assert_true(o.set & CFG_BIT(CFG_OOM_SCORE_ADJ));
}

/* "+": parsing stops at the command; the test limit follows a given limit. */
static void test_options_stop_at_the_command(void **state)
{
	struct run_options o;
	struct wc_error e;

	(void)state;
	assert_int_equal(parse(&o, &e, (const char *[]){ "--limit", "2G", "pytest", "-x",
							 "--json", "y", NULL }), CFG_RUN);
	assert_int_equal(o.limit, 2 * GIB);
	assert_int_equal(o.test_limit, 2 * GIB);
	assert_int_equal(o.set, CFG_BIT(CFG_LIMIT));
	assert_string_equal(o.argv[0], "pytest");
	assert_string_equal(o.argv[2], "--json");
	assert_null(o.json);
}

/* Bad values name the option and the value, with what it takes. */
static void test_options_bad_values(void **state)
{
	(void)state;
	expect_usage_error((const char *[]){ "--tracemalloc", "-1", NULL },
			   "--tracemalloc: invalid value '-1' (frames per allocation, 0 to 65535; "
			   "0: off)");
	expect_usage_error((const char *[]){ "--tracemalloc", "65536", NULL },
			   "--tracemalloc: out of range: '65536' (frames per allocation, 0 to "
			   "65535; 0: off)");
	expect_usage_error((const char *[]){ "--json", "", NULL },
			   "--json: invalid value '' (a file name)");
	expect_usage_error((const char *[]){ "--profile", "", NULL },
			   "--profile: invalid value '' (must not be empty)");
	expect_usage_error((const char *[]){ "--swap", "12Q", NULL },
			   "--swap: invalid value '12Q' (a size: 0, bytes, 512M, 1.5G, 50% or max; "
			   "under 8 EiB)");
	expect_usage_error((const char *[]){ "--no-plugin=x", NULL },
			   "option '--no-plugin' takes no value");
	expect_usage_error((const char *[]){ "--no-such", NULL }, "unknown option '--no-such'");
	expect_usage_error((const char *[]){ "--junit-xml", NULL },
			   "option '--junit-xml' needs a value");
}

/* An error names the option that is wrong: "-Z" of the cluster "-Zq" or "-qZ", "-l" of
 * "-ql" at the end, never the whole word or the program's own path. */
static void test_options_errors_name_the_bad_option(void **state)
{
	(void)state;
	expect_usage_error((const char *[]){ "-Zq", "true", NULL }, "unknown option '-Z'");
	expect_usage_error((const char *[]){ "-qZ", "true", NULL }, "unknown option '-Z'");
	expect_usage_error((const char *[]){ "-q", "-Z", NULL }, "unknown option '-Z'");
	expect_usage_error((const char *[]){ "-\x01", NULL }, "unknown option '-\\x01'");
	expect_usage_error((const char *[]){ "-ql", NULL }, "option '-l' needs a value");
	expect_usage_error((const char *[]){ "--quiet=1", NULL }, "option '--quiet' takes no value");
	expect_usage_error((const char *[]){ "--bogus=1", NULL }, "unknown option '--bogus'");
}

/* A sampling period under 10 ms (it would burn a core) and a memory size under a page (the
 * kernel counts pages) are refused when parsed, with the bounds; at the bound they pass. */
static void test_options_interval_and_size_minimums(void **state)
{
	struct run_options o;
	struct wc_error e;

	(void)state;
	expect_usage_error((const char *[]){ "--interval", "1ns", NULL },
			   "--interval: invalid value '1ns' (a sampling period: 10ms to 1 day, e.g. "
			   "100ms, 1s)");
	expect_usage_error((const char *[]){ "-i", "9ms", NULL },
			   "--interval: out of range: '9ms' (a sampling period: 10ms to 1 day, e.g. "
			   "100ms, 1s)");
	expect_usage_error((const char *[]){ "--limit", "100", NULL },
			   "--limit: out of range: '100' (under a page: a size is at least 4096 "
			   "bytes; e.g. 64M)");
	expect_usage_error((const char *[]){ "--swap", "1", NULL },
			   "--swap: out of range: '1' (under a page: a size is at least 4096 bytes; "
			   "e.g. 64M)");
	expect_usage_error((const char *[]){ "--test-limit", "0.00000001%", NULL },
			   "--test-limit: out of range: '0.00000001%' (under a page: a size is at "
			   "least 4096 bytes; e.g. 64M)");
	assert_int_equal(parse(&o, &e, (const char *[]){ "-i", "10ms", "--limit", "4096",
							 "--swap", "0", "true", NULL }), CFG_RUN);
	assert_int_equal(o.interval_ns, S / 100);
	assert_int_equal(o.limit, 4096);
	assert_int_equal(o.swap, 0);
}

/* The INI spellings of yes and no; 0 is a swap size but not a limit. */
static void test_options_typed_values(void **state)
{
	struct wc_error e;
	uint64_t bytes = 1;
	unsigned frames = 9;
	bool b = false;

	(void)state;
	for (const char *const *y = (const char *[]){ "yes", "True", "ON", "1", NULL }; *y; y++) {
		b = false;
		assert_int_equal(cfg_parse_typed(CFG_T_BOOL, "k", *y, PHYS, &b, &e), 0);
		assert_true(b);
	}
	for (const char *const *n = (const char *[]){ "no", "false", "Off", "0", NULL }; *n; n++) {
		b = true;
		assert_int_equal(cfg_parse_typed(CFG_T_BOOL, "k", *n, PHYS, &b, &e), 0);
		assert_false(b);
	}
	assert_int_equal(cfg_parse_typed(CFG_T_BOOL, "k", "", PHYS, &b, &e), -EINVAL);
	assert_int_equal(cfg_parse_typed(CFG_T_SWAP, "swap", "0", PHYS, &bytes, &e), 0);
	assert_int_equal(bytes, 0);
	assert_int_equal(cfg_parse_typed(CFG_T_SIZE, "limit", "0", PHYS, &bytes, &e), -ERANGE);
	assert_string_equal(e.msg, "limit: out of range: '0' (a size: bytes, 512M, 1.5G, 50% or "
			    "max; more than 0, under 8 EiB)");
	assert_int_equal(cfg_parse_typed(CFG_T_FRAMES, "t", "0", PHYS, &frames, &e), 0);
	assert_int_equal(frames, 0);
	assert_int_equal(cfg_parse_typed(CFG_T_FRAMES, "t", "65535", PHYS, &frames, &e), 0);
	assert_int_equal(frames, 65535);
	assert_int_equal(cfg_parse_typed(CFG_T_FRAMES, "t", "+1", PHYS, &frames, &e), -EINVAL);
}

static void expect_size_text(uint64_t bytes, const char *want)
{
	char buf[32];

	cfg_format_size(bytes, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

static void expect_duration_text(uint64_t ns, const char *want)
{
	char buf[40];

	cfg_format_duration(ns, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

/* Values are shown exactly, in the largest unit that states them, and read back the same. */
static void test_options_format_round_trips(void **state)
{
	uint64_t back;

	(void)state;
	expect_size_text(4 * GIB, "4G");
	expect_size_text(1536 * MIB, "1536M");
	expect_size_text(3 * 1024 * GIB, "3T");
	expect_size_text(12345, "12345");
	expect_size_text(0, "0");
	expect_size_text(CFG_SIZE_MAX, "max");
	expect_duration_text(100 * 1000 * 1000, "100ms");
	expect_duration_text(90 * S, "90s");
	expect_duration_text(120 * S, "2m");
	expect_duration_text(7200 * S, "2h");
	expect_duration_text(1500, "0.000001500s");
	assert_int_equal(cfg_parse_duration("0.000001500s", &back), 0);
	assert_int_equal(back, 1500);
	assert_int_equal(cfg_parse_size("1536M", PHYS, &back), 0);
	assert_int_equal(back, 1536 * MIB);
}

/* Each INI key finds its table entry, and nothing else does. */
static void test_options_key_table(void **state)
{
	(void)state;
	for (int k = 0; k < CFG_NKEYS; k++) {
		assert_non_null(cfg_keys[k].ini);
		assert_int_equal(cfg_key_find(cfg_keys[k].ini), k);
	}
	assert_int_equal(cfg_key_find("test-limit"), -ENOENT);
	assert_int_equal(cfg_key_find("inherit"), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_options_defaults),
		cmocka_unit_test(test_options_new_options_are_marked),
		cmocka_unit_test(test_options_opposites_undo_and_are_marked),
		cmocka_unit_test(test_options_stop_at_the_command),
		cmocka_unit_test(test_options_bad_values),
		cmocka_unit_test(test_options_errors_name_the_bad_option),
		cmocka_unit_test(test_options_interval_and_size_minimums),
		cmocka_unit_test(test_options_typed_values),
		cmocka_unit_test(test_options_format_round_trips),
		cmocka_unit_test(test_options_key_table),
	};

	return cmocka_run_group_tests_name("options", tests, NULL, NULL);
}
