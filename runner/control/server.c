/* The control socket: accepting clients, reading their lines, answering them. What each
 * message does is in handlers.c; a connection's answers and identity in conn.c; the limits in
 * limits.c; the resume file in resume.c. */
#include "runner/control/control.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "runner/control/internal.h"
#include "runner/control/peer.h"
#include "runner/control/protocol.h"
#include "runner/control/rundir.h"

/* The unit kept for the client's next START. A client that moved itself in and left
 * without that START is ended with it: nothing else may hold up its removal. */
static void conn_drop_kept(struct conn *k)
{
	if (cg_remove_empty(&k->kept) < 0) {
		cg_kill(&k->kept, NULL);
		cg_destroy(&k->kept, NULL);
	}
}

static void conn_free(struct run_control *c, struct conn *k)
{
	struct conn **pp;

	for (pp = &c->conns; *pp && *pp != k; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = k->next;
	if (k->w.fd >= 0) {
		run_conn_flush(k);  /* why it is let go */
		run_loop_del(&c->s->loop, &k->w);
		close(k->w.fd);
	}
	run_conn_drop_last(c, k);
	conn_drop_kept(k);
	if (c->standby == k)
		c->standby = NULL;
	if (k->pidfd >= 0)
		close(k->pidfd);
	if (k->cgroup_fd >= 0)
		close(k->cgroup_fd);
	if (k->status_fd >= 0)
		close(k->status_fd);
	c->buffered -= k->cap;
	c->nconns--;
	free(k->buf);
	free(k->origin);
	free(k);
}

static void run_conn_close(struct run_control *c, struct conn *k)
{
	/* A client that vanished with a unit open died in it (an OOM kill takes the whole
	 * process). The command's main process is finished by its wait status instead, when
	 * it is dying; one that lives on and merely closed the connection ends the unit now. */
	if (run_conn_has_unit(k) && k->pid == c->main_pid && run_peer_exiting(k->pid, k->pidfd)) {
		run_conn_flush(k);
		run_loop_del(&c->s->loop, &k->w);
		close(k->w.fd);
		k->w.fd = -1;
		run_conn_enter(k, CONN_CLOSED_IN_UNIT);
		return;
	}
	if (run_conn_has_unit(k))
		run_conn_end_unit(c, k, 0, true, NULL, NULL);
	conn_free(c, k);
}

/* Ends the units of pid's closed connections: it lives (it just connected again), so it
 * did not die in them. */
static void run_conn_release_dead(struct run_control *c, pid_t pid)
{
	struct conn *k, *next;

	for (k = c->conns; k; k = next) {
		next = k->next;
		if (k->state == CONN_CLOSED_IN_UNIT && k->pid == pid) {
			run_conn_end_unit(c, k, 0, true, NULL, NULL);
			conn_free(c, k);
		}
	}
}

/* Handles the complete lines in the buffer; keeps a partial one. Every one, also once an
 * answer could not be sent: a client that died sent its last lines together (the END of a
 * test and the next one's START), and the runner must still learn which test it died in.
 * The buffer bounds that work; the connection is closed after this read. A START that waits
 * for room (admit.c) stops the reading: it stays in the buffer, as it came, with what
 * follows it, until admit_held hands it again. */
static void conn_lines(struct run_control *c, struct conn *k)
{
	size_t start = 0, len;
	char *nl, *line, *copy;

	while ((nl = memchr(k->buf + start, '\n', k->len - start))) {
		line = k->buf + start;
		len = (size_t)(nl - line);
		/* Parsing decodes in place: a START that may wait is kept as it came. Without
		 * the memory for that copy, it does not wait. */
		copy = len > 6 && memcmp(line, "START ", 6) == 0 ? malloc(len) : NULL;
		if (copy)
			memcpy(copy, line, len);
		*nl = '\0';
		if (run_conn_line(c, k, line, copy != NULL) == 1) {
			memcpy(line, copy, len);
			*nl = '\n';
			free(copy);
			break;
		}
		free(copy);
		run_conn_flush(k);  /* the answer, sent here for every handler */
		start = (size_t)(nl - k->buf) + 1;
	}
	memmove(k->buf, k->buf + start, k->len - start);
	k->len -= start;
}

/* Hands a held START its line again, and what came after it. */
static void conn_resume(struct run_control *c, struct conn *k)
{
	conn_lines(c, k);
	run_conn_flush(k);
	run_conn_shrink(c, k);
}

static int by_wait(const void *a, const void *b)
{
	const struct conn *x = *(struct conn *const *)a, *y = *(struct conn *const *)b;

	if (x->held_since.tv_sec != y->held_since.tv_sec)
		return x->held_since.tv_sec < y->held_since.tv_sec ? -1 : 1;
	return (x->held_since.tv_nsec > y->held_since.tv_nsec) -
	       (x->held_since.tv_nsec < y->held_since.tv_nsec);
}

/* Closes the connections that lost an answer while their held STARTs were handed again. */
static void close_broken(struct run_control *c)
{
	struct conn *k, *next;

	for (k = c->conns; k; k = next) {
		next = k->next;
		if (k->broken)
			run_conn_close(c, k);
	}
}

/* Room may have come: the held STARTs are tried again, oldest first (admit.c decides). A
 * connection that lost an answer meanwhile is closed after, not under the loop. */
static void admit_held(struct run_control *c)
{
	struct conn *held[RUN_CONN_MAX];
	size_t n = 0;

	for (struct conn *k = c->conns; k && n < RUN_CONN_MAX; k = k->next)
		if (k->held && !k->broken)
			held[n++] = k;
	if (!n)
		return;
	qsort(held, n, sizeof(held[0]), by_wait);
	for (size_t i = 0; i < n; i++)
		conn_resume(c, held[i]);
	close_broken(c);
}

static void on_conn(struct run_loop *l, struct run_watch *w, uint32_t events)
{
	struct conn *k = w->obj;
	struct run_control *c = k->ctl;
	char scratch[4096];
	ssize_t n;
	int r;

	(void)l;
	(void)events;
	if (!k->discarding && (r = run_conn_room(c, k)) < 0) {
		run_conn_reply(k, "ERR 503 the runner holds %zu KiB of unfinished lines from this "
			       "sandbox, its most: send whole lines, fewer at once", c->buffered >> 10);
		run_conn_warn(k, "refused: too many unfinished lines at once");
		run_conn_close(c, k);
		return;
	}
	if (k->discarding)
		n = read(w->fd, scratch, sizeof(scratch));
	else
		n = read(w->fd, k->buf + k->len, k->cap - k->len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		run_conn_close(c, k);
		admit_held(c);
		return;
	}
	if (k->discarding)
		return;
	k->len += (size_t)n;
	conn_lines(c, k);
	if (!k->broken && k->len == RUN_LINE_MAX) {
		/* Closing now, with the rest of the line unread, would reset the connection
		 * before the client read why: answer, stop answering, and read to its end. */
		run_conn_reply(k, "ERR 413 line longer than %d bytes", RUN_LINE_MAX);
		run_conn_warn(k, "line too long: no more answers on this connection");
		run_conn_flush(k);
		shutdown(w->fd, SHUT_WR);
		k->discarding = true;
		k->len = 0;
		k->held = k->alone = false;  /* its START went with the rest: it holds no one up */
	}
	run_conn_flush(k);
	run_conn_shrink(c, k);
	if (k->broken)
		run_conn_close(c, k);
	admit_held(c);  /* an END, or a death, may have made room */
}

/* Says why the client's process could not be proven, and lets it go. */
static void conn_refuse(struct run_control *c, struct conn *k, int r)
{
	if (r == -EMFILE || r == -ENFILE || r == -ENOMEM)
		run_conn_reply(k, "ERR 503 the runner is out of %s: %s",
			       r == -ENOMEM ? "memory" : "file descriptors", strerror(-r));
	else if (r == -ESRCH || (k->pidfd >= 0 && !run_peer_alive(k->pidfd)))
		run_conn_reply(k, "ERR 403 the process that connected has exited");
	else if (r < 0)
		run_conn_reply(k, "ERR 500 cannot identify the process that connected: %s",
			       strerror(-r));
	else
		run_conn_reply(k, "ERR 403 process %d is not inside this sandbox", (int)k->pid);
	run_conn_warn(k, r == 0 ? "refused: not a process inside this sandbox" :
		      "refused: it could not be identified");
	conn_free(c, k);
}

static void on_accept(struct run_loop *l, struct run_watch *w, uint32_t events)
{
	struct run_control *c = w->obj;
	struct wc_error e;
	struct conn *k;
	int fd, r;

	(void)l;
	(void)events;
	fd = accept4(w->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno == EMFILE || errno == ENFILE)
			run_control_refuse_without_fds(c, w->fd);
		return;
	}
	if (c->nconns >= c->max_conns) {
		char line[160];

		snprintf(line, sizeof(line), "ERR 429 %d control connections are open, this "
			 "sandbox's most: close some\n", c->nconns);
		run_control_refuse(c, fd, line);
		return;
	}
	k = calloc(1, sizeof(*k));
	if (!k) {
		run_control_refuse(c, fd, "ERR 503 the runner is out of memory\n");
		return;
	}
	k->ctl = c;
	k->cgroup_fd = k->status_fd = k->peer_fd = -1;
	cg_group_init(&k->kept, &c->s->hier);
	if (run_peer_socket(fd, &k->peer_ino) < 0)
		k->peer_ino = 0;  /* no sock_diag: an EOF alone ends a unit */
	k->w = (struct run_watch){ fd, on_conn, k };
	k->next = c->conns;
	c->conns = k;
	c->nconns++;
	/* The peer from the kernel, never from a message: a unit is always the client's own
	 * process, and the client must be inside this sandbox. */
	k->pidfd = run_peer_open(fd, &k->pid);
	if (k->pidfd >= 0)
		run_conn_open_proc(k);
	r = k->pidfd < 0 ? k->pidfd : run_conn_proven(c, k);
	if (r <= 0) {
		conn_refuse(c, k, r);
		return;
	}
	run_conn_release_dead(c, k->pid);
	if (run_loop_add(&c->s->loop, &k->w, &e) < 0)
		conn_free(c, k);
}

/* A directory only we can enter, so no one else can reach the socket or race its path;
 * those of runners that died first go (rundir.h). */
static int make_private_dir(struct run_control *c, struct wc_error *e)
{
	const char *tmp = getenv("XDG_RUNTIME_DIR");
	int r;

	if (!tmp || !*tmp || access(tmp, W_OK) < 0)
		tmp = "/tmp";
	run_dir_sweep(tmp);
	r = run_dir_create(tmp, c->dir, sizeof(c->dir), &c->dir_lock, e);
	if (r < 0)
		c->dir[0] = '\0';  /* nothing to remove */
	return r;
}

int run_control_open(struct run_session *s, struct wc_error *e)
{
	struct run_control *c = calloc(1, sizeof(*c));
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	mode_t old;
	int r;

	if (!c)
		return wc_fail(e, ENOMEM, "open the control socket");
	c->s = s;
	c->lw.fd = -1;
	c->max_conns = run_conn_max();
	c->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	c->dir_lock = -1;
	s->control = c;
	r = make_private_dir(c, e);
	if (r < 0)
		return r;
	snprintf(c->path, sizeof(c->path), "%s/control", c->dir);
	if (strlen(c->path) >= sizeof(addr.sun_path))
		return wc_fail(e, ENAMETOOLONG, "socket path %s", c->path);
	strcpy(addr.sun_path, c->path);
	snprintf(c->env, sizeof(c->env), "WCMEM_SANDBOX_SOCKET=%s", c->path);

	c->lw = (struct run_watch){ socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0),
				    on_accept, c };
	if (c->lw.fd < 0)
		return wc_fail(e, errno, "socket");
	old = umask(0177);  /* the socket 0600 */
	r = bind(c->lw.fd, (struct sockaddr *)&addr, sizeof(addr));
	umask(old);
	if (r < 0)
		return wc_fail(e, errno, "bind %s", c->path);
	if (listen(c->lw.fd, 64) < 0)
		return wc_fail(e, errno, "listen %s", c->path);
	return run_loop_add(&s->loop, &c->lw, e);
}

void run_control_close(struct run_session *s)
{
	struct run_control *c = s->control;

	if (!c)
		return;
	c->main_pid = 0;  /* from here on an open unit is lost, whoever had it */
	while (c->conns)
		run_conn_close(c, c->conns);
	if (c->lw.fd >= 0) {
		run_loop_del(&s->loop, &c->lw);
		close(c->lw.fd);
	}
	if (c->reserve_fd >= 0)
		close(c->reserve_fd);
	if (c->path[0])
		unlink(c->path);
	run_resume_free(c);
	run_admit_free(c);
	if (c->dir[0])
		run_dir_remove(c->dir, c->dir_lock);
	free(c);
	s->control = NULL;
}

const char *run_control_env(const struct run_control *c)
{
	return c->env;
}

void run_control_set_main(struct run_control *c, pid_t pid)
{
	if (c)
		c->main_pid = pid;
}

size_t run_control_sample(struct run_control *c, struct rep_tl_unit *out, size_t max)
{
	size_t n = 0;

	for (struct conn *k = c ? c->conns : NULL; k; k = k->next) {
		uint64_t cur;

		run_conn_check_moved_on(c, k);
		if (!run_conn_has_unit(k))
			continue;
		cur = run_unit_sample(c->s, &k->unit);
		if (n < max)
			out[n++] = (struct rep_tl_unit){ run_unit_short_name(&k->unit), cur };
	}
	if (c) {
		run_admit_sample(c);
		admit_held(c);  /* what the units hold has changed since */
	}
	return n;
}

/* Handles the whole lines the client sent before it died, still in the socket: a test
 * that moved itself into its unit (START moved=1) may die there before the runner read
 * its START, and the END of the test before it goes in the same write. */
static void conn_drain(struct run_control *c, struct conn *k)
{
	ssize_t n;

	while (!k->discarding && k->w.fd >= 0 && run_conn_room(c, k) == 0) {
		n = recv(k->w.fd, k->buf + k->len, k->cap - k->len, MSG_DONTWAIT);
		if (n <= 0)
			return;
		k->len += (size_t)n;
		conn_lines(c, k);
		if (k->len == RUN_LINE_MAX)
			return;  /* a line too long: on_conn says so */
	}
}

int run_control_child_ended(struct run_control *c, int wait_status, const struct rusage *ru)
{
	struct conn *k;

	for (k = c ? c->conns : NULL; k; k = k->next)
		if (k->pid == c->main_pid && k->state != CONN_CLOSED_IN_UNIT)
			conn_drain(c, k);

	for (k = c ? c->conns : NULL; k; k = k->next)
		if (k->pid == c->main_pid && run_conn_has_unit(k))
			break;
	if (!k)
		return 0;
	run_conn_end_unit(c, k, wait_status, false, ru, NULL);
	conn_free(c, k);
	return 1;
}
