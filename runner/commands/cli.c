/* The command-line scaffold every front end shares (cli.h). */
#include "runner/commands/cli.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "report/log.h"

void run_cli_start(struct run_cli *c, int argc, char **argv)
{
	c->argc = argc;
	c->argv = argv;
	c->word = 1;
	opterr = 0;  /* the mistakes are ours to word (run_cli_other) */
	optind = 0;  /* glibc: start afresh, also after a parse that stopped inside a cluster */
}

int run_cli_next(struct run_cli *c)
{
	int opt;

	c->word = optind ? optind : 1;
	opt = getopt_long(c->argc, c->argv, c->optstring, c->longopts, NULL);
	/* The option getopt returns stands in the word it began the call at (a cluster -qZ
	 * stays one word while getopt walks it), or, without "+", in the first option word
	 * after it: getopt skips operands, and moves them only at its next call. */
	while (c->word < c->argc && (c->argv[c->word][0] != '-' || !c->argv[c->word][1]))
		c->word++;
	return opt;
}

/* The option getopt refused in the word arg: "--name" of a long option (without "=VALUE"),
 * else the short option optopt ("-Z" of "-qZ": never the whole word, nor the program). */
static void refused_option(const char *arg, char *buf, size_t size)
{
	if (strncmp(arg, "--", 2) == 0)
		snprintf(buf, size, "%.*s", (int)strcspn(arg, "="), arg);
	else if (optopt > 0x20 && optopt < 0x7f)
		snprintf(buf, size, "-%c", optopt);
	else
		snprintf(buf, size, "-\\x%02x", (unsigned)optopt & 0xff);
}

int run_cli_other(struct run_cli *c, int opt, struct wc_error *e)
{
	const char *arg = c->word < c->argc ? c->argv[c->word] : "";
	char name[64];

	switch (opt) {
	case 'h':
		c->usage(stdout);
		return 0;
	case 'V':
		printf("wcmem-sandbox %s\n", WCMEM_VERSION);
		return 0;
	}
	refused_option(arg, name, sizeof(name));
	if (opt == ':')
		return run_cli_usage_error(e, "option '%s' needs a value", name);
	/* getopt sets optopt to a known option's value when it refused the "=VALUE" given. */
	if (optopt && strncmp(arg, "--", 2) == 0 && strchr(arg, '='))
		return run_cli_usage_error(e, "option '%s' takes no value", name);
	return run_cli_usage_error(e, "unknown option '%s'", name);
}

int run_cli_usage_error(struct wc_error *e, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = wc_failv(e, 0, fmt, ap);
	va_end(ap);
	return r;
}

/* "wcmem-sandbox: [NAME: ]" and text, escaped: one line, whatever bytes text holds. */
static void say(FILE *f, const char *name, const char *text)
{
	char out[2048 * 4];

	rep_log_escape(text, out, sizeof(out));
	fprintf(f, "wcmem-sandbox: %s%s%s", name ? name : "", name ? ": " : "", out);
}

/* The layout of wc_error_text, with the message and the hint escaped each on its own. */
void run_cli_error(FILE *f, const char *name, const struct wc_error *e)
{
	char hint[sizeof(e->hint) * 4];

	say(f, name, e->msg);
	if (e->err)
		fprintf(f, ": %s", strerror(e->err));
	fputc('\n', f);
	if (e->hint[0]) {
		rep_log_escape(e->hint, hint, sizeof(hint));
		fprintf(f, "  %s\n", hint);
	}
}

void run_cli_try_help(FILE *f, const char *name)
{
	fprintf(f, "Try 'wcmem-sandbox%s%s --help' for more information.\n", name ? " " : "",
		name ? name : "");
}

int run_cli_exit(const char *name, int r, const struct wc_error *e)
{
	if (r == 0)
		return RUN_CLI_OK;
	run_cli_error(stderr, name, e);
	run_cli_try_help(stderr, name);
	return RUN_CLI_FAILURE;
}

void run_cli_say(const char *name, const char *fmt, ...)
{
	char text[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	say(stderr, name, text);
	fputc('\n', stderr);
}
