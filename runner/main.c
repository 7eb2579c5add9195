/* wcmem-sandbox: run a command in a memory-capped cgroup sandbox. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "report/summary.h"
#include "runner/options.h"
#include "runner/session.h"
#include "runner/size.h"
#include "runner/job.h"

static void print_error(const struct rep_error *e)
{
	char buf[1024];

	fprintf(stderr, "wcmem-sandbox: %s\n", rep_error_text(e, buf, sizeof(buf)));
}

/* The command as a shell would take it back: words quoted only where needed. */
static char *join_command(char *const argv[])
{
	size_t size = 1;
	char *out, *p;

	for (int i = 0; argv[i]; i++)
		size += strlen(argv[i]) * 4 + 3;
	out = p = malloc(size);
	if (!out)
		return NULL;
	for (int i = 0; argv[i]; i++) {
		const char *a = argv[i];
		bool plain = *a && strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
					  "0123456789_@%+=:,./-") == strlen(a);

		if (i)
			*p++ = ' ';
		if (plain) {
			p = stpcpy(p, a);
			continue;
		}
		*p++ = '\'';
		for (; *a; a++)
			p = *a == '\'' ? stpcpy(p, "'\\''") : (*p++ = *a, p);
		*p++ = '\'';
	}
	*p = '\0';
	return out;
}

int main(int argc, char **argv)
{
	struct run_session s;
	struct run_options o;
	struct rep_error e = { 0 }, e2 = { 0 };
	int r, status;

	r = cfg_parse_args(argc, argv, cfg_physical_memory(), &o, &e);
	if (r == CFG_EXIT_OK)
		return 0;
	if (r < 0) {
		print_error(&e);
		fputs("Try 'wcmem-sandbox --help' for more information.\n", stderr);
		return RUN_EXIT_FAILURE;
	}

	memset(&s, 0, sizeof(s));
	s.sigfd = -1;
	s.command_line = join_command(o.argv);
	if (!s.command_line) {
		fputs("wcmem-sandbox: out of memory\n", stderr);
		return RUN_EXIT_FAILURE;
	}
	/* Orphans of the command (a double-forked daemon) are reparented to us, so that we
	 * reap them, and nothing of the run is left behind. */
	prctl(PR_SET_CHILD_SUBREAPER, 1);

	r = run_signals_setup(&s, &e);
	if (r == 0)
		r = run_session_open(&s, &o, &e);
	if (r == 0) {
		struct run_job job = {
			.name = o.name ? o.name : s.command_line,
			.kind = "command",
			.argv = o.argv,
			.limit = o.test_limit,
		};

		r = run_job(&s, &job, &e);
	}
	status = r < 0 ? RUN_EXIT_FAILURE : r;
	if (r < 0)
		print_error(&e);

	s.info.units = s.nunits;
	for (int i = 0; i < s.nunits; i++)
		s.info.oom_killed += s.units[i].oom != REP_OOM_NONE;
	if (run_session_close(&s, status, &e2) < 0) {
		print_error(&e2);
		status = RUN_EXIT_FAILURE;
	}
	if (!o.quiet && s.nunits > 0)
		rep_summary_write(stderr, s.units, (size_t)s.nunits, &s.info);

	for (int i = 0; i < s.nunits; i++) {
		free(s.units[i].name);
		free(s.units[i].cgroup);
	}
	free(s.units);
	free(s.command_line);
	return status;
}
