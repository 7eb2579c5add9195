/* The command-line scaffold (runner/commands/cli.h): the common cases of every front end's
 * getopt loop, the error line and its escaping, the "Try" line, the subcommand table. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "runner/commands/cli.h"
#include "runner/commands/commands.h"
#include "unit.h"

static const struct option longopts[] = {
	{ "margin", required_argument, NULL, 'm' },
	{ "update", no_argument,       NULL, 'u' },
	RUN_CLI_LONGOPTS_COMMON,
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *out)
{
	fputs("Usage: wcmem-sandbox test [OPTION]... LOG...\n", out);
}

/* Parses args (without argv[0]) as a front end does: its own options taken, the rest handed
 * to run_cli_other. Returns 1 after the last option, or what run_cli_other returned. */
static int parse(const char *optstring, const char *const *args, struct wc_error *e)
{
	static char *argv[16];
	struct run_cli cli = { .name = "test", .optstring = optstring, .longopts = longopts,
			       .usage = usage };
	int argc = 1, c;

	argv[0] = "wcmem-sandbox";
	for (; args[argc - 1]; argc++)
		argv[argc] = (char *)args[argc - 1];
	argv[argc] = NULL;
	memset(e, 0, sizeof(*e));
	run_cli_start(&cli, argc, argv);
	while ((c = run_cli_next(&cli)) != -1)
		if (c != 'm' && c != 'u')
			return run_cli_other(&cli, c, e);
	return 1;
}

static void expect_error(const char *optstring, const char *const *args, const char *msg)
{
	struct wc_error e;

	assert_int_equal(parse(optstring, args, &e), -EINVAL);
	assert_int_equal(e.err, 0);
	assert_string_equal(e.msg, msg);
}

/* What fd (1 or 2) receives while fn runs with arg: read back from a temporary file. */
static char *capture(int fd, void (*fn)(void *), void *arg)
{
	char path[] = "/tmp/wcmem-test-cli-XXXXXX";
	int tmp = mkstemp(path), saved = dup(fd);
	char *text;

	assert_true(tmp >= 0 && saved >= 0);
	fflush(fd == 1 ? stdout : stderr);
	dup2(tmp, fd);
	fn(arg);
	fflush(fd == 1 ? stdout : stderr);
	dup2(saved, fd);
	close(saved);
	close(tmp);
	text = unit_read_file(path);
	unlink(path);
	assert_non_null(text);
	return text;
}

/* An option the table does not have: named as given, the long one without its value, the
 * short one alone (not its cluster), with "+" and without (options after an operand). */
static void test_cli_unknown_option(void **state)
{
	(void)state;
	expect_error("+:m:uhV", (const char *[]){ "--bogus", "x", NULL },
		     "unknown option '--bogus'");
	expect_error("+:m:uhV", (const char *[]){ "--bogus=1", NULL }, "unknown option '--bogus'");
	expect_error("+:m:uhV", (const char *[]){ "-uZ", NULL }, "unknown option '-Z'");
	expect_error("+:m:uhV", (const char *[]){ "-Zu", NULL }, "unknown option '-Z'");
	expect_error("+:m:uhV", (const char *[]){ "-\x01", NULL }, "unknown option '-\\x01'");
	expect_error(":m:uhV", (const char *[]){ "log", "-m", "5", "other", "--bogus", NULL },
		     "unknown option '--bogus'");
	expect_error(":m:uhV", (const char *[]){ "log", "--update", "x", "-uZ", NULL },
		     "unknown option '-Z'");
	expect_error(":m:uhV", (const char *[]){ "--update=yes", NULL },
		     "option '--update' takes no value");
}

/* An option without its value: named as given, also in a cluster and after operands. */
static void test_cli_missing_argument(void **state)
{
	(void)state;
	expect_error("+:m:uhV", (const char *[]){ "--margin", NULL },
		     "option '--margin' needs a value");
	expect_error("+:m:uhV", (const char *[]){ "-um", NULL }, "option '-m' needs a value");
	expect_error(":m:uhV", (const char *[]){ "log", "--margin", NULL },
		     "option '--margin' needs a value");
}

/* Options and operands that are right pass without an error; with "+" the first operand
 * ends the options. */
static void test_cli_good_options_pass(void **state)
{
	struct wc_error e;

	(void)state;
	assert_int_equal(parse("+:m:uhV", (const char *[]){ "-m", "5", "-u", "log", "--bogus",
							      NULL }, &e), 1);
	assert_int_equal(parse(":m:uhV", (const char *[]){ "log", "--margin=5", NULL }, &e), 1);
}

static void print_hostile(void *arg)
{
	run_cli_error(stdout, "test", arg);
}

/* The error line escapes what came from outside: an ESC that would drive the terminal, a
 * byte that is not UTF-8, a newline that would forge a line of its own; in the hint too. */
static void test_cli_error_escapes_hostile_text(void **state)
{
	struct wc_error e = { 0 };
	char *out;

	(void)state;
	wc_fail(&e, ENOENT, "open %s", "\x1b[2J\xff\nwcmem-sandbox: forged");
	wc_hint(&e, "give %s", "\x1b]0;t\x07");
	out = capture(1, print_hostile, &e);
	assert_string_equal(out, "wcmem-sandbox: test: open \\x1b[2J\\xff\\nwcmem-sandbox: forged: "
			    "No such file or directory\n  give \\x1b]0;t\\x07\n");
	free(out);
}

static void exit_usage_error(void *arg)
{
	*(int *)arg = run_cli_exit("test", -EINVAL, &(struct wc_error){ .msg = "bad \x1b" });
}

/* A usage error: its line, escaped, then the one "Try" line, on stderr; exit status 125. */
static void test_cli_usage_error_says_try_help(void **state)
{
	int status = -1;
	char *err;

	(void)state;
	err = capture(2, exit_usage_error, &status);
	assert_int_equal(status, RUN_CLI_FAILURE);
	assert_int_equal(RUN_CLI_FAILURE, 125);
	assert_string_equal(err, "wcmem-sandbox: test: bad \\x1b\n"
			    "Try 'wcmem-sandbox test --help' for more information.\n");
	free(err);
}

static void parse_help(void *arg)
{
	struct wc_error e;
	int *status = arg;

	*status = run_cli_exit("test", parse("+:m:uhV", (const char *[]){ "-u", "--help", "--bogus",
									    NULL }, &e), &e);
}

static void parse_version(void *arg)
{
	struct wc_error e;

	*(int *)arg = parse(":m:uhV", (const char *[]){ "log", "-V", NULL }, &e);
}

/* --help prints the usage to stdout and ends the parse there (the later --bogus is not
 * looked at), exit status 0; -V the version. */
static void test_cli_help_to_stdout_exit_0(void **state)
{
	int status = -1;
	char *out;

	(void)state;
	out = capture(1, parse_help, &status);
	assert_int_equal(status, RUN_CLI_OK);
	assert_string_equal(out, "Usage: wcmem-sandbox test [OPTION]... LOG...\n");
	free(out);
	out = capture(1, parse_version, &status);
	assert_int_equal(status, 0);
	assert_string_equal(out, "wcmem-sandbox " WCMEM_VERSION "\n");
	free(out);
}

/* The table: each subcommand by its name, with a summary and a synopsis; anything else (a
 * command to run) is none. */
static void test_cli_command_table(void **state)
{
	static const char *const names[] = { "analyze", "budget", "config", "doctor" };

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const struct run_command *c = run_command_find(names[i]);

		assert_non_null(c);
		assert_string_equal(c->name, names[i]);
		assert_true(*c->summary && *c->synopsis);
		assert_true((c->main == NULL) == (strcmp(names[i], "config") == 0));
	}
	assert_null(run_command_find("pytest"));
	assert_null(run_command_find("--help"));
	assert_null(run_command_find(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cli_unknown_option),
		cmocka_unit_test(test_cli_missing_argument),
		cmocka_unit_test(test_cli_good_options_pass),
		cmocka_unit_test(test_cli_error_escapes_hostile_text),
		cmocka_unit_test(test_cli_usage_error_says_try_help),
		cmocka_unit_test(test_cli_help_to_stdout_exit_0),
		cmocka_unit_test(test_cli_command_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
