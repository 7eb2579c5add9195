#include "runner/exec/nested.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup/cleanup.h"
#include "runner/config/field.h"
#include "runner/exec/status.h"
#include "runner/exec/supervise.h"
#include "runner/session/loop.h"
#include "runner/session/say.h"

struct client {
	int fd;
	char answer[512];
};

static void client_close(struct client *c)
{
	if (c->fd >= 0)
		close(c->fd);
}

/* Sends one line and reads the one-line answer. Returns 0 for OK, -EPROTO for ERR
 * (c->answer holds it), or -errno. */
static int call(struct client *c, const char *line)
{
	size_t len = strlen(line), got = 0;

	if (send(c->fd, line, len, MSG_NOSIGNAL) != (ssize_t)len)
		return -errno ? -errno : -EIO;
	while (got < sizeof(c->answer) - 1) {
		ssize_t n = read(c->fd, c->answer + got, 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -ECONNRESET;
		if (c->answer[got] == '\n')
			break;
		got++;
	}
	c->answer[got] = '\0';
	return strncmp(c->answer, "OK", 2) == 0 ? 0 : -EPROTO;
}

static int connect_runner(struct client *c, const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };

	if (strlen(path) >= sizeof(addr.sun_path))
		return -ENAMETOOLONG;
	strcpy(addr.sun_path, path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;
	if (connect(c->fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		return -errno;
	return call(c, "HELLO 1\n");
}

/* The child: the signal mask we had, then the command. No cgroup to enter: the enclosing
 * runner moved us into the unit already, and the child inherits it. */
static void exec_child(char *const argv[], const sigset_t *mask)
{
	int err;

	sigprocmask(SIG_SETMASK, mask, NULL);
	execvp(argv[0], argv);
	err = errno;
	run_exec_say(argv[0], err);
	_exit(run_exec_status(err));
}

/* Forks and runs argv, supervised as every child of ours is (supervise.h): SIGINT, SIGTERM
 * and SIGHUP passed on. Returns the wait status, or -errno with e filled. */
static int run_child(char *const argv[], struct wc_error *e)
{
	struct run_child c = { .pid = -1, .pidfd = -1, .gate_fd = -1, .err_fd = -1 };
	sigset_t mask;
	/* before the fork: no signal falls between */
	_cleanup_close_ int sigfd = run_signalfd_open(&mask, e);
	int status = 0, r;

	if (sigfd < 0)
		return sigfd;
	c.pid = fork();
	if (c.pid == 0)
		exec_child(argv, &mask);
	if (c.pid < 0)
		return wc_fail(e, errno, "fork");
	c.pidfd = (int)syscall(SYS_pidfd_open, c.pid, 0);  /* 5.3; -1: SIGCHLD alone tells */
	r = run_wait_child(&c, sigfd, &status, e);
	if (r < 0) {  /* no process left behind */
		kill(c.pid, SIGKILL);
		waitpid(c.pid, NULL, 0);
	}
	if (c.pidfd >= 0)
		close(c.pidfd);
	return r < 0 ? r : status;
}

int run_nested(const char *name, char *const argv[], uint64_t limit, struct wc_error *e)
{
	const char *path = getenv("WCMEM_SANDBOX_SOCKET");
	struct client c __attribute__((cleanup(client_close))) = { .fd = -1 };
	size_t need = strlen(name) * 3 + 128;
	_cleanup_free_ char *line = malloc(need), *enc = malloc(need);
	int r, status, code;

	if (!line || !enc)
		return wc_fail(e, ENOMEM, "nested call");
	if (!path || !*path || connect_runner(&c, path) < 0)
		return -ENOENT;  /* no sandbox around us that answers: run one of our own */
	cfg_field_encode(name, enc, need);
	if (limit == UINT64_MAX)
		snprintf(line, need, "START %s kind=command\n", enc);
	else
		snprintf(line, need, "START %s kind=command limit=%" PRIu64 "\n", enc, limit);
	r = call(&c, line);
	if (r < 0)
		return wc_fail(e, r == -EPROTO ? EIO : -r, "join the enclosing sandbox (%s)",
			       r == -EPROTO ? c.answer : "no answer");
	status = run_child(argv, e);
	if (status < 0)
		return wc_wrap(e, e, "run %s", argv[0]);
	code = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		snprintf(line, need, "END %s signal=%d\n", enc, WTERMSIG(status));
	else
		snprintf(line, need, "END %s status=%d\n", enc, code);
	if (call(&c, line) < 0)
		run_warn("the enclosing sandbox did not take the unit's end (%s)", c.answer);
	return code;
}
