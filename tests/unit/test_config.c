/* The INI loader (every error with its exact FILE:LINE message), precedence, inherit, the
 * suites a profile runs, the word splitter, the search order, and `config`'s output. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "runner/commands/run_args.h"
#include "runner/config/config.h"
#include "runner/config/shared.h"
#include "runner/config/size.h"
#include "unit.h"

#define MIB UINT64_C(1048576)
#define GIB (MIB * 1024)
#define PHYS (16 * GIB)
#define FULL "fixtures/ini/full.ini"

/* Loads path, failing the test with the loader's message when it refuses. */
static void load(const char *path, struct cfg_file *f)
{
	struct wc_error e = { 0 };

	if (cfg_load(path, CFG_FOUND_OPTION, PHYS, f, &e) < 0)
		fail_msg("cfg_load(%s): %s", path, e.msg);
}

/* The effective settings of full.ini under args ("--limit", "3G", ...; no command). */
static void merged(struct cfg_file *f, const char *profile, char **args, int nargs,
		   struct run_options *o, struct cfg_origin *origin)
{
	char *argv[16] = { "wcmem-sandbox" };
	struct run_options cli;
	struct wc_error e = { 0 };

	for (int i = 0; i < nargs; i++)
		argv[i + 1] = args[i];
	assert_int_equal(cfg_parse_args(nargs + 1, argv, PHYS, &cli, &e), CFG_RUN);
	if (cfg_merge(f, profile, &cli, o, origin, &e) < 0)
		fail_msg("cfg_merge(%s): %s", profile ? profile : "(none)", e.msg);
}

/* ---- errors: each fixture holds one mistake ---- */

static const struct { const char *file, *msg; } errors[] = {
	{ "err_unknown_section", "1: unknown section [defualts]; sections are [defaults], "
	  "[profile NAME] and [suite NAME]" },
	{ "err_unknown_key", "3: unknown key 'limt' in [profile ci]; did you mean 'limit'?" },
	{ "err_unknown_suite_key", "3: unknown key 'memory' in [suite a]; it takes: command, "
	  "shell, limit, test_limit, env, workdir, timeout" },
	{ "err_bad_size", "4: test_limit: invalid value '4X' (a size: bytes, 512M, 1.5G, 50% or "
	  "max; more than 0, under 8 EiB)" },
	{ "err_bad_bool", "2: quiet: invalid value 'maybe' (yes or no)" },
	{ "err_bad_frames", "2: tracemalloc: out of range: '70000' (frames per allocation, 0 to "
	  "65535; 0: off)" },
	{ "err_bad_duration", "3: timeout: invalid value '2d' (a duration: 100ms, 2s, 1m; more "
	  "than 0, at most 1 day)" },
	{ "err_empty_path", "2: log: invalid value '' (a file name)" },
	{ "err_duplicate_suite", "4: duplicate [suite unit]: first defined at line 1" },
	{ "err_duplicate_profile", "4: duplicate [profile ci]: first defined at line 1" },
	{ "err_duplicate_defaults", "2: duplicate [defaults]: first at line 1" },
	{ "err_duplicate_key", "3: duplicate key 'limit' in [profile ci]: first set at line 2" },
	{ "err_inherit_cycle", "2: inherit cycle: a -> b -> c -> a; break it by removing one "
	  "inherit" },
	{ "err_inherit_self", "2: inherit cycle: a -> a; break it by removing one inherit" },
	{ "err_inherit_missing", "2: profile 'ci' inherits 'bse', which is not defined "
	  "(profiles: ci, base)" },
	{ "err_inherit_missing_deep", "5: profile 'b' inherits 'c', which is not defined "
	  "(profiles: a, b)" },
	{ "err_unknown_suite", "2: profile 'ci' names suite 'memry', which is not defined "
	  "(suites: unit, memory)" },
	{ "err_empty_suites", "2: suites is empty: name at least one, or leave the key out" },
	{ "err_suites_in_defaults", "2: 'suites' belongs in a [profile NAME] section, not in "
	  "[defaults]" },
	{ "err_outside_section", "2: 'limit' comes before any section: put it under [defaults] "
	  "or [profile NAME]" },
	{ "err_syntax", "2: 'limit 1G' is not 'key = value', a [section] or a comment" },
	{ "err_header", "1: '[profile ci': a section header needs its closing ']'" },
	{ "err_bad_name", "1: [profile my ci]: a name is up to 64 letters, digits, '_', '.' and "
	  "'-'" },
	{ "err_no_name", "1: [profile] needs a name: [profile NAME]" },
	{ "err_no_command", "1: [suite a] has no command: add command = ..." },
	{ "err_unterminated_quote", "2: command: the \" at column 12 is never closed" },
	{ "err_shell_syntax", "2: command: unquoted '|' at column 11 is shell syntax; set shell = "
	  "yes to run the command through sh -c, or quote it" },
	{ "err_bad_env", "3: env: '2B=x' is not NAME=VALUE (NAME: letters, digits and '_')" },
	{ "err_env_dollar", "3: env: unquoted '$' at column 6 is shell syntax; quote it: nothing "
	  "is expanded in env" },
	{ "err_long_line", "2: line of 315 characters: inih reads at most 197; shorten it (e.g. "
	  "move a long command into a script)" },
	{ "err_nul", "3: a NUL byte: this is not a text file" },
};

/* Every kind of mistake is refused with "FILE:LINE: message", and leaves nothing loaded. */
static void test_load_errors_name_file_and_line(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
		struct cfg_file f;
		struct wc_error e = { 0 };
		char path[256], want[512];

		snprintf(path, sizeof(path), "fixtures/ini/%s.ini", errors[i].file);
		snprintf(want, sizeof(want), "%s:%s", path, errors[i].msg);
		if (cfg_load(path, CFG_FOUND_OPTION, PHYS, &f, &e) == 0)
			fail_msg("%s loaded, want the error \"%s\"", path, want);
		assert_string_equal(e.msg, want);
		assert_int_equal(e.err, 0);  /* no strerror part after the message */
		assert_null(f.path);
		assert_int_equal(f.nprofiles + f.nsuites, 0);
	}
}

/* A file that cannot be read names the file and the system's reason. */
static void test_load_unreadable_file(void **state)
{
	struct cfg_file f;
	struct wc_error e = { 0 };

	(void)state;
	assert_int_equal(cfg_load("fixtures/ini/no-such.ini", CFG_FOUND_OPTION, PHYS, &f, &e), -ENOENT);
	assert_string_equal(e.msg, "fixtures/ini/no-such.ini: cannot read the config file");
	assert_int_equal(e.err, ENOENT);
	assert_int_equal(cfg_load("fixtures/ini", CFG_FOUND_OPTION, PHYS, &f, &e), -EISDIR);
}

/* Writes n profiles, each inheriting the next, and n suites into path. */
static void write_many_sections(const char *path, int n)
{
	FILE *f = fopen(path, "we");

	assert_non_null(f);
	for (int i = 0; i < n; i++)
		fprintf(f, "[profile p%d]\n%s%d\nlimit = 1G\n", i,
			i + 1 < n ? "inherit = p" : "; last", i + 1);
	for (int i = 0; i < n; i++)
		fprintf(f, "[suite s%d]\ncommand = true\n", i);
	assert_int_equal(fclose(f), 0);
}

/* Loading is linear in the number of sections and the length of inherit chains: 100,000
 * profiles in one chain and 100,000 suites load at once (quadratic lookups took minutes;
 * the bound is only there to catch that, not to time the loader). */
static void test_load_many_sections_in_linear_time(void **state)
{
	char path[] = "/tmp/wcmem-test-many-XXXXXX";
	struct timespec t0, t1;
	struct cfg_file f;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	write_many_sections(path, 100000);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	load(path, &f);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	unlink(path);
	assert_int_equal(f.nprofiles, 100000);
	assert_int_equal(f.nsuites, 100000);
	assert_string_equal(cfg_profile_find(&f, "p99999")->name, "p99999");
	assert_string_equal(cfg_suite_find(&f, "s4242")->name, "s4242");
	assert_null(cfg_profile_find(&f, "p100000"));
	if (t1.tv_sec - t0.tv_sec > 20)
		fail_msg("loading 200,000 sections took %lld s, want well under 20 s",
			 (long long)(t1.tv_sec - t0.tv_sec));
	cfg_free(&f);
}

/* ---- what a good file holds ---- */

/* Sections, lines, and suites: words split by shell rules, indented keys taken as keys,
 * relative paths resolved against the file's folder. */
static void test_load_full_file(void **state)
{
	const struct cfg_suite *fast, *slow;
	struct cfg_file f;
	char dir[PATH_MAX], want[PATH_MAX + 32];

	(void)state;
	load(FULL, &f);
	assert_non_null(getcwd(dir, sizeof(dir)));
	snprintf(want, sizeof(want), "%s/fixtures/ini", dir);
	assert_string_equal(f.dir, want);
	assert_int_equal(f.defaults_line, 2);
	assert_int_equal(f.nprofiles, 3);
	assert_int_equal(f.nsuites, 2);

	fast = cfg_suite_find(&f, "fast");
	assert_non_null(fast);
	assert_int_equal(fast->line, 24);
	assert_string_equal(fast->argv[0], "python3");
	assert_string_equal(fast->argv[2], "print('hi there')");
	assert_string_equal(fast->argv[3], "a b");
	assert_string_equal(fast->argv[4], "c d");
	assert_null(fast->argv[5]);
	assert_string_equal(fast->env[0], "A=1");
	assert_string_equal(fast->env[1], "B=x y");
	assert_int_equal(fast->timeout_ns, UINT64_C(90000000000));
	assert_string_equal(fast->workdir, want);  /* default: the file's folder */

	slow = cfg_suite_find(&f, "slow");
	assert_non_null(slow);
	assert_string_equal(slow->argv[0], "sh");
	assert_string_equal(slow->argv[1], "-c");
	assert_string_equal(slow->argv[2], "sleep 1 | cat");
	assert_int_equal(slow->limit, 100 * MIB);
	assert_int_equal(slow->test_limit, 50 * MIB);
	assert_int_equal(slow->key_line[CFG_S_WORKDIR], 35);
	snprintf(want, sizeof(want), "%s/fixtures/ini/sub", dir);
	assert_string_equal(slow->workdir, want);
	cfg_free(&f);
	cfg_free(&f);  /* safe twice */
}

/* Relative paths start at the file's folder; leading ./ and ../ are taken off (the folder is
 * canonical), later ones stay. */
static void test_load_relative_paths(void **state)
{
	const struct cfg_layer *l;
	struct cfg_file f;
	char dir[PATH_MAX], want[PATH_MAX + 64];

	(void)state;
	load("fixtures/ini/paths.ini", &f);
	assert_non_null(getcwd(dir, sizeof(dir)));
	l = &cfg_profile_find(&f, "p")->layer;
	snprintf(want, sizeof(want), "%s/fixtures/ini/sub/../x.log", dir);
	assert_string_equal(l->v.log_path, want);
	snprintf(want, sizeof(want), "%s/fixtures/ini/out/j.xml", dir);
	assert_string_equal(l->v.junit_xml, want);
	snprintf(want, sizeof(want), "%s/fixtures", dir);
	assert_string_equal(l->v.json, want);
	snprintf(want, sizeof(want), "%s/fixtures/ini", dir);
	assert_string_equal(cfg_suite_find(&f, "s")->workdir, want);
	assert_string_equal(cfg_suite_find(&f, "abs")->workdir, "/tmp");
	cfg_free(&f);
}

/* A UTF-8 byte order mark before the first section does not hide it. */
static void test_load_byte_order_mark(void **state)
{
	struct cfg_file f;

	(void)state;
	load("fixtures/ini/bom.ini", &f);
	assert_int_equal(f.defaults_line, 1);
	assert_int_equal(f.defaults.v.limit, GIB);
	assert_int_equal(f.defaults.line[CFG_LIMIT], 3);
	cfg_free(&f);
}

/* Our sections of a shared file alone are read, at their own lines; other tools' sections,
 * their long lines and indented '[...]' values do not matter. */
static void test_load_shared_file(void **state)
{
	struct cfg_file f;

	(void)state;
	load("fixtures/ini/shared/setup.cfg", &f);
	assert_true(f.shared);
	assert_int_equal(f.defaults_line, 13);
	assert_int_equal(f.defaults.v.limit, 300 * MIB);
	assert_int_equal(f.defaults.line[CFG_LIMIT], 14);
	assert_int_equal(f.nprofiles, 1);
	assert_string_equal(f.profiles[0].name, "ci");
	assert_int_equal(f.profiles[0].line, 16);
	assert_int_equal(f.profiles[0].layer.v.test_limit, 64 * MIB);
	assert_int_equal(f.nsuites, 1);
	assert_string_equal(f.suites[0].name, "small");
	assert_int_equal(f.suites[0].key_line[CFG_S_COMMAND], 20);
	cfg_free(&f);
}

/* Which files are shared, which headers are ours, and how a section is named in each. */
static void test_shared_names_and_headers(void **state)
{
	static const struct { const char *line; int ours; } headers[] = {
		{ "[wcmem-sandbox]", 1 }, { "[wcmem-sandbox:profile ci]", 1 },
		{ "[ wcmem-sandbox ]", 1 }, { "[wcmem-sandbox x]", 1 },   /* ours, and wrong */
		{ "[wcmem-sandbox-extra]", 0 }, { "[wcmem-sandboxes]", 0 }, { "[wcmem-sandbox", 0 },
		{ "[tool:pytest]", 0 }, { "wcmem-sandbox]", 0 }, { "[", 0 }, { "", 0 },
	};
	static const char text[] = "[tool:pytest]\naddopts =\n  [wcmem-sandbox]\n";
	char buf[64];

	(void)state;
	assert_int_equal(cfg_is_shared("/a/b/setup.cfg"), 1);
	assert_int_equal(cfg_is_shared("tox.ini"), 1);
	assert_int_equal(cfg_is_shared("a/pytest.ini"), 1);
	assert_int_equal(cfg_is_shared("a/wcmem-sandbox.ini"), 0);
	assert_int_equal(cfg_is_shared("setup.cfg/x.ini"), 0);
	for (size_t i = 0; i < sizeof(headers) / sizeof(headers[0]); i++)
		if (cfg_shared_header(headers[i].line, strlen(headers[i].line)) != headers[i].ours)
			fail_msg("'%s': want %d", headers[i].line, headers[i].ours);
	/* Indented, it continues another tool's value; at a line's start (a BOM before), ours. */
	assert_int_equal(cfg_shared_has_section(text, strlen(text)), 0);
	assert_int_equal(cfg_shared_has_section("\xef\xbb\xbf[wcmem-sandbox]", 18), 1);
	assert_int_equal(cfg_shared_has_section("x = 1\n[wcmem-sandbox:suite a]", 29), 1);
	/* Cut before the ']': not a header yet. */
	assert_int_equal(cfg_shared_has_section("[wcmem-sandbox]", 14), 0);
	assert_string_equal(cfg_section_label(true, "defaults", "", buf, sizeof(buf)),
			    "[wcmem-sandbox]");
	assert_string_equal(cfg_section_label(true, "suite", "a", buf, sizeof(buf)),
			    "[wcmem-sandbox:suite a]");
	assert_string_equal(cfg_section_label(false, "profile", "ci", buf, sizeof(buf)),
			    "[profile ci]");
	assert_string_equal(cfg_section_label(false, "defaults", "", buf, sizeof(buf)),
			    "[defaults]");
}

/* command line > profile > inherited profile > [defaults] > built in, with origins. */
static void test_merge_precedence(void **state)
{
	char *args[] = { "--limit", "3G", "--quiet" };
	struct cfg_origin at[CFG_NKEYS];
	struct run_options o;
	struct cfg_file f;

	(void)state;
	load(FULL, &f);
	merged(&f, "ci", args, 3, &o, at);
	assert_int_equal(o.limit, 3 * GIB);             /* command line over ci's 1G */
	assert_int_equal(at[CFG_LIMIT].source, CFG_SRC_CMDLINE);
	assert_int_equal(o.test_limit, 512 * MIB);      /* inherited from base */
	assert_int_equal(at[CFG_TEST_LIMIT].source, CFG_SRC_PROFILE);
	assert_string_equal(at[CFG_TEST_LIMIT].profile, "base");
	assert_int_equal(at[CFG_TEST_LIMIT].line, 8);
	assert_false(o.plugin);                         /* ci */
	assert_true(o.stop_on_oom);
	assert_string_equal(at[CFG_PLUGIN].profile, "ci");
	assert_int_equal(o.tracemalloc, 5);
	assert_int_equal(o.interval_ns, 50 * 1000 * 1000);  /* [defaults] */
	assert_int_equal(at[CFG_INTERVAL].source, CFG_SRC_DEFAULTS);
	assert_int_equal(at[CFG_INTERVAL].line, 4);
	assert_true(o.quiet);
	assert_int_equal(at[CFG_QUIET].source, CFG_SRC_CMDLINE);  /* given both: the command line */
	assert_int_equal(o.kill_after_ns, UINT64_C(10000000000));  /* built in */
	assert_int_equal(at[CFG_KILL_AFTER].source, CFG_SRC_BUILTIN);
	assert_non_null(strstr(o.junit_xml, "/fixtures/ini/out/junit.xml"));
	assert_null(o.json);
	cfg_free(&f);
}

/* Without --profile, [defaults] still applies; test_limit follows the limit that won. */
static void test_merge_defaults_without_profile(void **state)
{
	struct cfg_origin at[CFG_NKEYS];
	struct run_options o;
	struct cfg_file f;

	(void)state;
	load(FULL, &f);
	merged(&f, NULL, NULL, 0, &o, at);
	assert_int_equal(o.limit, 2 * GIB);
	assert_int_equal(o.test_limit, 2 * GIB);
	assert_int_equal(at[CFG_TEST_LIMIT].source, CFG_SRC_BUILTIN);
	assert_int_equal(o.swap, 0);
	merged(NULL, NULL, NULL, 0, &o, at);  /* no file at all: built in */
	assert_int_equal(o.limit, PHYS / 100 * 80);
	assert_int_equal(at[CFG_LIMIT].source, CFG_SRC_BUILTIN);
	cfg_free(&f);
}

/* A profile that is not in the file, or no file at all, is an error naming what exists. */
static void test_merge_missing_profile(void **state)
{
	struct run_options cli, o;
	struct wc_error e = { 0 };
	struct cfg_file f;

	(void)state;
	load(FULL, &f);
	cfg_defaults(&cli, PHYS);
	assert_int_equal(cfg_merge(&f, "cj", &cli, &o, NULL, &e), -ENOENT);
	assert_string_equal(e.msg, "fixtures/ini/full.ini: no [profile cj]; profiles: base, ci, all");
	assert_int_equal(cfg_merge(NULL, "ci", &cli, &o, NULL, &e), -ENOENT);
	assert_non_null(strstr(e.msg, "--profile ci: no config file found"));
	cfg_free(&f);
}

/* A profile runs the suites it (or a profile it inherits) names, else all in file order;
 * each suite's job has its own limit or else the profile's test_limit. */
static void test_profile_suites_and_jobs(void **state)
{
	const struct cfg_suite **suites;
	struct run_options o;
	struct run_job job;
	struct cfg_file f;

	(void)state;
	load(FULL, &f);
	assert_int_equal(cfg_profile_suites(&f, cfg_profile_find(&f, "ci"), &suites), 1);
	assert_string_equal(suites[0]->name, "fast");  /* named by base, inherited */
	free(suites);
	assert_int_equal(cfg_profile_suites(&f, cfg_profile_find(&f, "all"), &suites), 2);
	assert_string_equal(suites[0]->name, "fast");
	assert_string_equal(suites[1]->name, "slow");
	assert_null(suites[2]);

	merged(&f, "all", NULL, 0, &o, NULL);
	cfg_suite_job(suites[0], &o, &job);
	assert_string_equal(job.kind, "suite");
	assert_string_equal(job.name, "fast");
	assert_int_equal(job.limit, 2 * GIB);  /* all sets no test_limit: the limit */
	assert_string_equal(job.env[1], "B=x y");
	assert_int_equal(job.timeout_ns, UINT64_C(90000000000));
	cfg_suite_job(suites[1], &o, &job);
	assert_int_equal(job.limit, 100 * MIB);  /* its own */
	assert_int_equal(job.timeout_ns, 0);
	free(suites);
	cfg_free(&f);
}

/* ---- the word splitter ---- */

static void expect_words(const char *text, const char *const *want)
{
	struct wc_error e = { 0 };
	char **words;
	int n = cfg_split_words(text, "HINT", &words, &e);
	int i;

	if (n < 0)
		fail_msg("cfg_split_words(%s): %s", text, e.msg);
	for (i = 0; want[i]; i++) {
		if (i >= n)
			fail_msg("cfg_split_words(%s): %d words, want more: '%s'", text, n, want[i]);
		assert_string_equal(words[i], want[i]);
	}
	assert_int_equal(n, i);
	assert_null(words[n]);
	cfg_words_free(words);
}

static void expect_split_error(const char *text, const char *msg)
{
	struct wc_error e = { 0 };
	char **words = (char **)1;

	assert_int_equal(cfg_split_words(text, "HINT", &words, &e), -EINVAL);
	assert_null(words);
	assert_string_equal(e.msg, msg);
}

/* Shell quoting rules, without expansion. */
static void test_split_words_quoting(void **state)
{
	(void)state;
	expect_words("a  b\tc", (const char *[]){ "a", "b", "c", NULL });
	expect_words("  ", (const char *[]){ NULL });
	expect_words("'a \"b\" \\c'", (const char *[]){ "a \"b\" \\c", NULL });
	expect_words("\"a 'b' \\\" \\\\ \\$x \\n\"", (const char *[]){ "a 'b' \" \\ $x \\n", NULL });
	expect_words("a\\ b\\'c", (const char *[]){ "a b'c", NULL });
	expect_words("x'y'\"z\" \"\" ''", (const char *[]){ "xyz", "", "", NULL });
	expect_words("pytest -k 'a or b' tests/x.py::t[1] a#b ~ *.py",
		     (const char *[]){ "pytest", "-k", "a or b", "tests/x.py::t[1]", "a#b", "~",
				       "*.py", NULL });
	expect_words("'|' \"&;<>()\" \\$", (const char *[]){ "|", "&;<>()", "$", NULL });
}

/* What a shell would read differently is refused, with where and the caller's hint. */
static void test_split_words_refuses_shell_syntax(void **state)
{
	(void)state;
	expect_split_error("a 'b", "the ' at column 3 is never closed");
	expect_split_error("a \"b", "the \" at column 3 is never closed");
	expect_split_error("a\\", "a backslash at the end escapes nothing");
	expect_split_error("a > b", "unquoted '>' at column 3 is shell syntax; HINT");
	expect_split_error("a;b", "unquoted ';' at column 2 is shell syntax; HINT");
	expect_split_error("echo $HOME", "unquoted '$' at column 6 is shell syntax; HINT");
	expect_split_error("a `b`", "unquoted '`' at column 3 is shell syntax; HINT");
	expect_split_error("a #b", "unquoted '#' at column 3 would start a shell comment; HINT");
	expect_split_error("\"$HOME\"", "'$' at column 2 would be expanded by a shell, and nothing "
			   "is expanded here; write \\$, or use '...'");
}

/* ---- the search order ---- */

struct tree {
	char root[64];
	int home_fd;  /* where the test started (tests/unit) */
	char *home, *xdg;  /* the environment to restore */
};

/* mkdir -p root/rel */
static int make_dirs(const char *root, const char *rel)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s/", root, rel);
	for (char *p = strchr(path + strlen(root) + 1, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return 0;
}

/* A temporary tree: proj/wcmem-sandbox.ini with proj/a/b below it, xdg/ and home/ config
 * files, a system file and an env file. */
static int tree_setup(void **state)
{
	static struct tree t;
	static const char *const files[] = {
		"proj/wcmem-sandbox.ini", "xdg/wcmem-sandbox/config.ini",
		"home/.config/wcmem-sandbox/config.ini", "system.ini", "env.ini", "option.ini",
	};
	char path[PATH_MAX];

	snprintf(t.root, sizeof(t.root), "/tmp/wcmem-test-config-XXXXXX");
	if (!mkdtemp(t.root))
		return -1;
	t.home_fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	t.home = getenv("HOME") ? strdup(getenv("HOME")) : NULL;
	t.xdg = getenv("XDG_CONFIG_HOME") ? strdup(getenv("XDG_CONFIG_HOME")) : NULL;
	if (make_dirs(t.root, "proj/a/b") < 0 || make_dirs(t.root, "xdg/wcmem-sandbox") < 0 ||
	    make_dirs(t.root, "home/.config/wcmem-sandbox") < 0)
		return -1;
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", t.root, files[i]);
		FILE *f = fopen(path, "we");

		if (!f)
			return -1;
		fputs("[defaults]\n", f);
		fclose(f);
	}
	*state = &t;
	return 0;
}

/* Puts back name's value (unset when it had none). */
static void restore_env(const char *name, char *value)
{
	if (value)
		setenv(name, value, 1);
	else
		unsetenv(name);
	free(value);
}

static int tree_teardown(void **state)
{
	struct tree *t = *state;
	char cmd[128];

	if (fchdir(t->home_fd) < 0)
		return -1;
	close(t->home_fd);
	unsetenv("WCMEM_SANDBOX_CONFIG");
	restore_env("HOME", t->home);
	restore_env("XDG_CONFIG_HOME", t->xdg);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->root);
	return system(cmd) == 0 ? 0 : -1;
}

/* Runs cfg_find and checks which file won ("" when none). */
static void expect_found(const struct tree *t, const char *option, const char *want,
			 enum cfg_found how)
{
	char sys[PATH_MAX], full[PATH_MAX], *path = NULL;
	struct wc_error e = { 0 };
	enum cfg_found found;
	int r;

	snprintf(sys, sizeof(sys), "%s/system.ini", t->root);
	r = cfg_find(option, sys, NULL, &path, &found, &e);
	if (r < 0)
		fail_msg("cfg_find: %s", e.msg);
	if (!*want) {
		assert_int_equal(r, 0);
		assert_null(path);
		return;
	}
	assert_int_equal(r, 1);
	snprintf(full, sizeof(full), "%s/%s", t->root, want);
	assert_string_equal(path, want[0] == '/' ? want : full);
	assert_int_equal(found, how);
	free(path);
}

static void rm(const struct tree *t, const char *file)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", t->root, file);
	assert_int_equal(unlink(path), 0);
}

/* --config, $WCMEM_SANDBOX_CONFIG, the nearest parent's wcmem-sandbox.ini, XDG (else
 * HOME/.config), the system file, none: each wins while those before it are absent. */
static void test_find_search_order(void **state)
{
	const struct tree *t = *state;
	char path[PATH_MAX], option[PATH_MAX];

	snprintf(path, sizeof(path), "%s/proj/a/b", t->root);
	assert_int_equal(chdir(path), 0);  /* two levels below proj/ */
	snprintf(path, sizeof(path), "%s/env.ini", t->root);
	setenv("WCMEM_SANDBOX_CONFIG", path, 1);
	snprintf(path, sizeof(path), "%s/xdg", t->root);
	setenv("XDG_CONFIG_HOME", path, 1);
	snprintf(path, sizeof(path), "%s/home", t->root);
	setenv("HOME", path, 1);
	snprintf(option, sizeof(option), "%s/option.ini", t->root);

	expect_found(t, option, option, CFG_FOUND_OPTION);
	expect_found(t, NULL, "env.ini", CFG_FOUND_ENV);
	setenv("WCMEM_SANDBOX_CONFIG", "", 1);  /* empty: as if unset */
	expect_found(t, NULL, "proj/wcmem-sandbox.ini", CFG_FOUND_NEAREST);
	rm(t, "proj/wcmem-sandbox.ini");
	expect_found(t, NULL, "xdg/wcmem-sandbox/config.ini", CFG_FOUND_XDG);
	setenv("XDG_CONFIG_HOME", "relative/dir", 1);  /* ignored, as the XDG spec says */
	expect_found(t, NULL, "home/.config/wcmem-sandbox/config.ini", CFG_FOUND_XDG);
	rm(t, "home/.config/wcmem-sandbox/config.ini");
	expect_found(t, NULL, "system.ini", CFG_FOUND_SYSTEM);
	rm(t, "system.ini");
	expect_found(t, NULL, "", CFG_FOUND_NONE);
}

/* The nearest parent wins over one further up, and the folder itself over its parents. */
static void test_find_nearest_parent(void **state)
{
	const struct tree *t = *state;
	char path[PATH_MAX];
	FILE *f;

	unsetenv("WCMEM_SANDBOX_CONFIG");
	snprintf(path, sizeof(path), "%s/proj/a/wcmem-sandbox.ini", t->root);
	f = fopen(path, "we");
	assert_non_null(f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/proj/a/b", t->root);
	assert_int_equal(chdir(path), 0);
	expect_found(t, NULL, "proj/a/wcmem-sandbox.ini", CFG_FOUND_NEAREST);
	snprintf(path, sizeof(path), "%s/proj/a", t->root);
	assert_int_equal(chdir(path), 0);
	expect_found(t, NULL, "proj/a/wcmem-sandbox.ini", CFG_FOUND_NEAREST);
}

/* Writes text into the tree's file. */
static void put(const struct tree *t, const char *file, const char *text)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", t->root, file);
	f = fopen(path, "we");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* The search goes no higher than the first folder holding .git (a folder, or a worktree's
 * file) or .hg; in a folder, wcmem-sandbox.ini, else the first of pytest.ini, tox.ini and
 * setup.cfg that holds our section. */
static void test_find_stops_at_the_projects_root(void **state)
{
	const struct tree *t = *state;
	char path[PATH_MAX];

	unsetenv("WCMEM_SANDBOX_CONFIG");
	snprintf(path, sizeof(path), "%s/xdg", t->root);
	setenv("XDG_CONFIG_HOME", path, 1);
	snprintf(path, sizeof(path), "%s/proj/a/b", t->root);
	assert_int_equal(chdir(path), 0);
	expect_found(t, NULL, "proj/wcmem-sandbox.ini", CFG_FOUND_NEAREST);
	put(t, "proj/a/.git", "gitdir: ../.git/worktrees/a\n");
	expect_found(t, NULL, "xdg/wcmem-sandbox/config.ini", CFG_FOUND_XDG);
	rm(t, "proj/a/.git");
	snprintf(path, sizeof(path), "%s/proj/a/.hg", t->root);
	assert_int_equal(mkdir(path, 0755), 0);
	expect_found(t, NULL, "xdg/wcmem-sandbox/config.ini", CFG_FOUND_XDG);

	put(t, "proj/a/setup.cfg", "[tool:pytest]\naddopts = -x\n");  /* not ours */
	expect_found(t, NULL, "xdg/wcmem-sandbox/config.ini", CFG_FOUND_XDG);
	put(t, "proj/a/setup.cfg", "[tool:pytest]\n[wcmem-sandbox]\n");
	expect_found(t, NULL, "proj/a/setup.cfg", CFG_FOUND_NEAREST);
	put(t, "proj/a/tox.ini", "[wcmem-sandbox:profile x]\n");
	expect_found(t, NULL, "proj/a/tox.ini", CFG_FOUND_NEAREST);
	put(t, "proj/a/pytest.ini", "[wcmem-sandbox]\n");
	expect_found(t, NULL, "proj/a/pytest.ini", CFG_FOUND_NEAREST);
	put(t, "proj/a/wcmem-sandbox.ini", "");
	expect_found(t, NULL, "proj/a/wcmem-sandbox.ini", CFG_FOUND_NEAREST);
}

/* What the search passed over, as cfg_find told it. */
static char passed_over[4][600];
static int npassed_over;

static void note_passed_over(const struct wc_error *w)
{
	if (npassed_over < 4)
		snprintf(passed_over[npassed_over++], sizeof(passed_over[0]), "%s", w->msg);
}

/* cfg_find, telling note_passed_over: which file won, relative to the tree. */
static void expect_found_passing_over(const struct tree *t, const char *want, int passed)
{
	char sys[PATH_MAX], full[PATH_MAX], *path = NULL;
	struct wc_error e = { 0 };
	enum cfg_found found;

	npassed_over = 0;
	snprintf(sys, sizeof(sys), "%s/system.ini", t->root);
	if (cfg_find(NULL, sys, note_passed_over, &path, &found, &e) != 1)
		fail_msg("cfg_find found nothing: %s", e.msg);
	snprintf(full, sizeof(full), "%s/%s", t->root, want);
	assert_string_equal(path, full);
	assert_int_equal(npassed_over, passed);
	free(path);
}

/* A found file that others may write, or that is not a regular file, is passed over with a
 * word each, and the search goes on; named with --config it is read (or refused: a FIFO). */
static void test_find_passes_over_files_it_may_not_trust(void **state)
{
	const struct tree *t = *state;
	char path[PATH_MAX], fifo[PATH_MAX], want[PATH_MAX + 64];
	struct wc_error e = { 0 };
	struct cfg_file f;

	unsetenv("WCMEM_SANDBOX_CONFIG");
	snprintf(path, sizeof(path), "%s/xdg", t->root);
	setenv("XDG_CONFIG_HOME", path, 1);
	snprintf(path, sizeof(path), "%s/proj/a/b", t->root);
	assert_int_equal(chdir(path), 0);
	snprintf(path, sizeof(path), "%s/proj/wcmem-sandbox.ini", t->root);
	assert_int_equal(chmod(path, 0666), 0);
	snprintf(fifo, sizeof(fifo), "%s/proj/a/wcmem-sandbox.ini", t->root);
	assert_int_equal(mkfifo(fifo, 0644), 0);

	expect_found_passing_over(t, "xdg/wcmem-sandbox/config.ini", 2);
	snprintf(want, sizeof(want), "%s is not read: it is a FIFO, not a regular file", fifo);
	assert_string_equal(passed_over[0], want);  /* the nearest first */
	snprintf(want, sizeof(want), "%s is not read: anyone may write it (mode 666)", path);
	assert_string_equal(passed_over[1], want);

	/* Loaded as found, it is checked again; named, it is read. */
	assert_int_equal(cfg_load(path, CFG_FOUND_NEAREST, PHYS, &f, &e), -EPERM);
	assert_string_equal(e.msg, want);
	assert_non_null(strstr(e.hint, "--config"));
	assert_int_equal(cfg_load(path, CFG_FOUND_OPTION, PHYS, &f, &e), 0);
	cfg_free(&f);
	/* A FIFO named is refused at once, never waited on. */
	assert_int_equal(cfg_load(fifo, CFG_FOUND_OPTION, PHYS, &f, &e), -EINVAL);
	snprintf(want, sizeof(want), "%s: cannot read the config file: it is a FIFO, not a "
		 "regular file", fifo);
	assert_string_equal(e.msg, want);
	assert_non_null(strstr(e.hint, "name a regular file"));

	/* Another user's file (root alone can make one). */
	snprintf(path, sizeof(path), "%s/xdg/wcmem-sandbox/config.ini", t->root);
	if (chown(path, 65534, 65534) < 0)
		skip();
	expect_found_passing_over(t, "system.ini", 3);
	snprintf(want, sizeof(want), "%s is not read: it belongs to user 65534, neither you nor "
		 "root", path);
	assert_string_equal(passed_over[2], want);
}

/* ---- `config` ---- */

/* Each setting with its value as a file gives it and its origin; the suites that would run. */
static void test_show_settings_and_origins(void **state)
{
	char *args[] = { "--limit", "3G" }, *text = NULL;
	struct cfg_origin at[CFG_NKEYS];
	struct run_options o;
	struct cfg_file f;
	size_t len = 0;
	FILE *out;

	(void)state;
	load(FULL, &f);
	f.found = CFG_FOUND_OPTION;
	merged(&f, "ci", args, 2, &o, at);
	out = open_memstream(&text, &len);
	assert_non_null(out);
	assert_int_equal(cfg_show(out, &f, "ci", &o, at), 0);
	fclose(out);
	assert_non_null(strstr(text, "; config file: fixtures/ini/full.ini (given by --config)\n"));
	/* keys and values in columns as wide as the widest (a long path has its own) */
	assert_non_null(strstr(text, "\nlimit         = 3G     ; command line\n"));
	assert_non_null(strstr(text, "\ntest_limit    = 512M   ; [profile base] "
			       "fixtures/ini/full.ini:8\n"));
	assert_non_null(strstr(text, "\ninterval      = 50ms   ; [defaults] "
			       "fixtures/ini/full.ini:4\n"));
	assert_non_null(strstr(text, "\nhigh          = max    ; built in\n"));
	assert_non_null(strstr(text, "\noom_score_adj = yes    ; built in\n"));
	assert_non_null(strstr(text, "runs 1 suite, in this order"));
	assert_non_null(strstr(text, "; runs: python3 -c 'print('\\''hi there'\\'')' 'a b' 'c d'\n"));
	free(text);
	cfg_free(&f);
}

/* The list of keys in "unknown key" errors: a list longer than its buffer is cut, never
 * written past it (ASan would stop here). */
static void test_join_cuts_to_fit(void **state)
{
	const char *items[100];
	char small[16], big[64];

	(void)state;
	for (int i = 0; i < 100; i++)
		items[i] = "limit";
	assert_string_equal(cfg_join(small, sizeof(small), items, 100, ", "), "limit, limit, l");
	assert_string_equal(cfg_join(big, sizeof(big), items, 2, ", "), "limit, limit");
	assert_string_equal(cfg_join(big, sizeof(big), items, 0, ", "), "");
	assert_string_equal(cfg_join(big, 1, items, 3, ", "), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load_errors_name_file_and_line),
		cmocka_unit_test(test_load_unreadable_file),
		cmocka_unit_test(test_load_many_sections_in_linear_time),
		cmocka_unit_test(test_load_full_file),
		cmocka_unit_test(test_load_relative_paths),
		cmocka_unit_test(test_load_byte_order_mark),
		cmocka_unit_test(test_load_shared_file),
		cmocka_unit_test(test_shared_names_and_headers),
		cmocka_unit_test(test_merge_precedence),
		cmocka_unit_test(test_merge_defaults_without_profile),
		cmocka_unit_test(test_merge_missing_profile),
		cmocka_unit_test(test_profile_suites_and_jobs),
		cmocka_unit_test(test_join_cuts_to_fit),
		cmocka_unit_test(test_split_words_quoting),
		cmocka_unit_test(test_split_words_refuses_shell_syntax),
		cmocka_unit_test(test_show_settings_and_origins),
		cmocka_unit_test_setup_teardown(test_find_search_order, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_find_nearest_parent, tree_setup, tree_teardown),
		cmocka_unit_test_setup_teardown(test_find_stops_at_the_projects_root, tree_setup,
						tree_teardown),
		cmocka_unit_test_setup_teardown(test_find_passes_over_files_it_may_not_trust,
						tree_setup, tree_teardown),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
