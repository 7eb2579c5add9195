/* A command that could not be run: its exit status and what the runner says of it. */
#ifndef WCMEM_RUNNER_EXEC_STATUS_H
#define WCMEM_RUNNER_EXEC_STATUS_H

/* The exit status for err, the errno chdir or execvp failed with, as timeout(1) and env(1)
 * give it: 127 when a file was not there (ENOENT), else 126; 125 for a negative err (-errno:
 * the child could not enter the sandbox's cgroup namespace). Async-signal-safe: a forked
 * child calls it before _exit. */
int run_exec_status(int err);

/* Says "wcmem-sandbox: ARGV0: strerror(err)" on stderr (for a negative err, that the
 * command could not enter the sandbox's cgroup namespace). */
void run_exec_say(const char *argv0, int err);

#endif
