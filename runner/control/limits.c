/* What a sandbox may make the runner hold (runner/control/PROTOCOL.md, "Limits"): connections,
 * buffered bytes, and the answer to a client the runner cannot take. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "runner/control/internal.h"
#include "runner/control/protocol.h"

/* Connections at once: RUN_CONN_MAX, fewer when the descriptor limit would run out first
 * (a connection may hold its socket, its pidfd, a unit's and its last test's unit's). */
int run_conn_max(void)
{
	struct rlimit rl;
	rlim_t n;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
		return RUN_CONN_MAX;
	n = rl.rlim_cur > 64 ? (rl.rlim_cur - 64) / RUN_CONN_FDS : 0;
	return n < 4 ? 4 : n > RUN_CONN_MAX ? RUN_CONN_MAX : (int)n;
}

/* Room to read into: the buffer grows by doubling up to a line's length, while all the
 * connections together hold at most RUN_CONN_BUFFERED. Returns 0, or -ENOBUFS, -ENOMEM. */
int run_conn_room(struct run_control *c, struct conn *k)
{
	size_t cap = k->cap ? k->cap * 2 : RUN_CONN_BUF_MIN;
	char *buf;

	if (k->len < k->cap || k->cap >= RUN_LINE_MAX)
		return 0;
	if (cap > RUN_LINE_MAX)
		cap = RUN_LINE_MAX;
	if (c->buffered + cap - k->cap > RUN_CONN_BUFFERED)
		return -ENOBUFS;
	buf = realloc(k->buf, cap);
	if (!buf)
		return -ENOMEM;
	c->buffered += cap - k->cap;
	k->buf = buf;
	k->cap = cap;
	return 0;
}

/* A long line is done with: its room goes back to the pool. */
void run_conn_shrink(struct run_control *c, struct conn *k)
{
	if (k->len > 0 || k->cap <= RUN_CONN_BUF_MIN)
		return;
	c->buffered -= k->cap;
	free(k->buf);
	k->buf = NULL;
	k->cap = 0;
}

/* Answers a client the runner will not serve, and closes it. Said on stderr once a run. */
void run_control_refuse(struct run_control *c, int fd, const char *line)
{
	ssize_t n = send(fd, line, strlen(line), MSG_NOSIGNAL | MSG_DONTWAIT);

	(void)n;
	close(fd);
	if (c->refused++ == 0)
		run_warn("control: refused a client: %.*s", (int)strcspn(line, "\n"), line);
}

/* Out of descriptors, the client would wait in the backlog and the socket stay readable
 * for ever: a descriptor kept in reserve lets the runner accept it to say why. */
void run_control_refuse_without_fds(struct run_control *c, int lfd)
{
	int fd;

	if (c->reserve_fd >= 0)
		close(c->reserve_fd);
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd >= 0)
		run_control_refuse(c, fd, "ERR 503 the runner is out of file descriptors: close some "
		       "connections, or raise its limit (ulimit -n)\n");
	c->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}
