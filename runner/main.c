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
#include "runner/spawn.h"
#include "runner/supervise.h"
#include "runner/unit.h"

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

/* The exit status of a wrapper: the command's own, 128+signal, or 126/127 when not run. */
static int exit_status_of(const struct rep_unit *u)
{
	switch (u->end) {
	case REP_END_SIGNALED:
		return 128 + u->code;
	case REP_END_NOT_RUN:
	case REP_END_EXITED:
		break;
	}
	return u->code;
}

/* Runs the command as one unit. Returns its exit status, or -errno. */
static int run_command(struct run_session *s, const struct run_options *o, struct rep_error *e)
{
	struct run_unit u;
	struct run_child c = { .pid = -1, .pidfd = -1, .gate_fd = -1, .err_fd = -1 };
	struct rusage ru;
	int r, status = 0, exec_err;

	r = run_unit_open(s, &u, o->name ? o->name : s->command_line, "command", o->test_limit, e);
	if (r < 0)
		goto out;
	r = run_spawn(&c, o->argv, &u.cg, &s->child_mask, e);
	if (r < 0)
		goto out;
	r = run_unit_start(s, &u, c.pid, e);
	if (r < 0)
		goto out;  /* the gate stays shut: the child never runs, and is killed below */
	exec_err = run_release(&c);
	if (exec_err)
		fprintf(stderr, "wcmem-sandbox: %s: %s\n", o->argv[0], strerror(exec_err));
	r = run_supervise(s, &u, &c, &status, &ru, e);
	if (r < 0)
		goto out;
	r = run_unit_finish(s, &u, status, exec_err ? (exec_err == ENOENT ? 127 : 126) : 0, &ru, e);
	if (r == 0)
		r = exit_status_of(u.rec);
out:
	if (c.pid > 0 && r < 0) {
		struct rep_error ignored;

		cg_kill(&u.cg, &ignored);
	}
	run_child_close(&c);
	if (u.rec) {
		struct rep_error err2;

		if (run_unit_close(&u, &err2) < 0 && r >= 0)
			r = rep_fail(e, err2.err, "%s", err2.msg);
	}
	return r;
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
	if (r == 0)
		r = run_command(&s, &o, &e);
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
