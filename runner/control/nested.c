#include "runner/control/nested.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runner/control/protocol.h"
#include "runner/session/say.h"
#include "runner/session/state.h"

struct client {
	int fd;
	char answer[512];
};

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

static pid_t child_pid;

static void pass_on(int sig)
{
	if (child_pid > 0)
		kill(child_pid, sig);
}

/* Forks and runs argv; passes SIGINT, SIGTERM and SIGHUP on. Returns the wait status. */
static int run_child(char *const argv[])
{
	struct sigaction sa = { .sa_handler = pass_on };
	int status;

	child_pid = fork();
	if (child_pid < 0)
		return -errno;
	if (child_pid == 0) {
		execvp(argv[0], argv);
		char text[4200];

		snprintf(text, sizeof(text), "%s: %s", argv[0], strerror(errno));
		run_say("", text);
		_exit(errno == ENOENT ? 127 : 126);
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	while (waitpid(child_pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return status;
}

int run_nested(const char *name, char *const argv[], uint64_t limit, struct wc_error *e)
{
	const char *path = getenv("WCMEM_SANDBOX_SOCKET");
	struct client c = { .fd = -1 };
	size_t need = strlen(name) * 3 + 128;
	char *line = malloc(need), *enc = malloc(need);
	int r, status, code;

	if (!line || !enc) {
		r = wc_fail(e, ENOMEM, "nested call");
		goto out;
	}
	if (!path || !*path || connect_runner(&c, path) < 0) {
		r = -ENOENT;  /* no sandbox around us that answers: run one of our own */
		goto out;
	}
	run_field_encode(name, enc, need);
	if (limit == UINT64_MAX)
		snprintf(line, need, "START %s kind=command\n", enc);
	else
		snprintf(line, need, "START %s kind=command limit=%" PRIu64 "\n", enc, limit);
	r = call(&c, line);
	if (r < 0) {
		r = wc_fail(e, r == -EPROTO ? EIO : -r, "join the enclosing sandbox (%s)",
			     r == -EPROTO ? c.answer : "no answer");
		goto out;
	}
	status = run_child(argv);
	if (status < 0) {
		r = wc_fail(e, -status, "run %s", argv[0]);
		goto out;
	}
	code = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		snprintf(line, need, "END %s signal=%d\n", enc, WTERMSIG(status));
	else
		snprintf(line, need, "END %s status=%d\n", enc, code);
	if (call(&c, line) < 0)
		run_warn("the enclosing sandbox did not take the unit's end (%s)", c.answer);
	r = code;
out:
	if (c.fd >= 0)
		close(c.fd);
	free(line);
	free(enc);
	return r;
}
