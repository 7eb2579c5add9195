/* One client connection: its state, its answers (queued by the handlers, sent by
 * run_conn_flush alone), its warnings, and whether it still is who connected. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "runner/control/internal.h"
#include "runner/control/peer.h"
#include "runner/session/say.h"

#define MAX_WARNINGS_PER_CLIENT 10
#define MAX_WARNINGS 50  /* of all clients together */

void run_conn_enter(struct conn *k, enum conn_state to)
{
	static const char *const name[] = {
		[CONN_GREETING] = "GREETING", [CONN_IDLE] = "IDLE",
		[CONN_IN_UNIT] = "IN_UNIT", [CONN_CLOSED_IN_UNIT] = "CLOSED_IN_UNIT",
	};
	/* The states each state may be entered from (internal.h draws them). */
	static const unsigned from[] = {
		[CONN_GREETING] = 0,
		[CONN_IDLE] = 1u << CONN_GREETING | 1u << CONN_IN_UNIT | 1u << CONN_CLOSED_IN_UNIT,
		[CONN_IN_UNIT] = 1u << CONN_IDLE,
		[CONN_CLOSED_IN_UNIT] = 1u << CONN_IN_UNIT,
	};

	/* A bug of ours, said rather than aborted on: an abort would leave the sandbox and
	 * its processes behind. The connection takes the state the handler asked for. */
	if (!(from[to] & 1u << k->state))
		run_warn("control client %d: a connection in state %s cannot go to %s; please "
			 "report this", (int)k->pid, name[k->state], name[to]);
	k->state = to;
}

void run_conn_reply(struct conn *k, const char *fmt, ...)
{
	char line[RUN_REPLY_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	if (k->out_len + (size_t)n > sizeof(k->out))
		run_conn_flush(k);
	memcpy(k->out + k->out_len, line, (size_t)n);
	k->out_len += (size_t)n;
}

void run_conn_flush(struct conn *k)
{
	size_t len = k->out_len;

	k->out_len = 0;
	if (!len || k->w.fd < 0 || k->broken)
		return;  /* a client that lost an answer gets no later one: it is closed */
	/* Replies are short and the client waits for each: a full socket means a client that
	 * does not read, and it loses its answers, not the runner its loop. */
	if (send(k->w.fd, k->out, len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		k->broken = true;
}

void run_conn_send_fd(struct conn *k, const char *text, int fd)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct iovec iov = { .iov_base = (void *)text, .iov_len = strlen(text) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
			      .msg_controllen = sizeof(u.buf) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	run_conn_flush(k);
	if (k->w.fd < 0 || k->broken)
		return;
	memset(u.buf, 0, sizeof(u.buf));
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	if (sendmsg(k->w.fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)iov.iov_len)
		k->broken = true;
}

void run_conn_warn(struct conn *k, const char *what)
{
	struct run_control *c = k->ctl;

	/* A flood of hostile clients must not flood the terminal too. */
	if (++k->warnings > MAX_WARNINGS_PER_CLIENT || ++c->warnings > MAX_WARNINGS)
		return;
	run_warn("control client %d: %s%s", (int)k->pid, what,
		 c->warnings == MAX_WARNINGS ? " (further control warnings are not shown)" : "");
}

void run_conn_open_proc(struct conn *k)
{
	char path[64];

	/* Opened by number, and proven to be the client's by run_conn_proven's pidfd check
	 * after them, as every reading by number is. Without them (out of descriptors), the
	 * files are opened by number at each reading. */
	k->cgroup_fd = cg_pid_cgroup_open(k->pid);
	snprintf(path, sizeof(path), "/proc/%d/status", (int)k->pid);
	k->status_fd = open(path, O_RDONLY | O_CLOEXEC);
}

int run_conn_proven(struct run_control *c, struct conn *k)
{
	struct wc_error e;
	int inside = k->cgroup_fd >= 0 ? cg_fd_inside(&c->s->sandbox, k->cgroup_fd, &e) :
		     cg_pid_inside(&c->s->sandbox, k->pid, &e);

	/* In this order: what /proc said of the pid was said of our client only if the
	 * client still lives after the reading (its number cannot be reused before). */
	if (inside < 0 && (e.err == EMFILE || e.err == ENFILE || e.err == ENOMEM))
		return -e.err;  /* the runner's shortage, not the client's fault */
	return inside > 0 && run_peer_alive(k->pidfd);
}
