/* Resuming after an OOM kill: what is done and what was killed, for the plugin of the
 * command's next run (the resume file of runner/control/PROTOCOL.md). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "runner/control/internal.h"
#include "runner/config/field.h"

/* The resume file and its copies live in memory (memfd, 3.17), not in the private folder:
 * a test can fill that folder's file system (/tmp, $XDG_RUNTIME_DIR), and a resume file that
 * cannot be written ended the run with the tests after the kill never run. The command reads
 * the copy as /proc/RUNNER/fd/N, a path that stays the copy's while the runner lives. */

/* Opens the resume file, once. Returns 0 or -errno. */
static int resume_open(struct run_control *c)
{
	int fd;

	if (c->resume)
		return 0;
	fd = memfd_create("wcmem-resume", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	c->resume = fdopen(fd, "w+");
	if (!c->resume) {
		close(fd);
		return -ENOMEM;
	}
	snprintf(c->resume_path, sizeof(c->resume_path), "/proc/%d/fd/%d", (int)getpid(), fd);
	return 0;
}

/* text field-encoded into a new string (free it), or NULL without memory. */
static char *encoded(const char *text)
{
	size_t need = strlen(text) * 3 + 1;
	char *out = malloc(need);

	if (out)
		cfg_field_encode(text, out, need);
	return out;
}

/* One line of the resume file: "DONE NAME SECONDS REPORTS" (the reports are base64 already)
 * or "KILLED NAME SECONDS TEXT". Returns 0 or -errno. */
static int resume_line(FILE *f, const char *name, const char *text, double duration,
		       bool killed)
{
	char *ename = encoded(name), *etext = killed ? encoded(text) : NULL;
	int r = -ENOMEM;

	if (ename && (etext || !killed))
		r = fprintf(f, "%s %s %.6f %s\n", killed ? "KILLED" : "DONE", ename, duration,
			    killed ? etext : text) < 0 ? -EIO : 0;
	free(ename);
	free(etext);
	return r;
}

/* Appends the line, and keeps a killed test for the loop check. Returns 0 or -errno. */
static int resume_record(struct run_control *c, const char *name, const char *text,
			 double duration, bool killed)
{
	struct resume_entry *n;
	int r = resume_open(c);

	if (r == 0)
		r = resume_line(c->resume, name, text, duration, killed);
	if (r < 0 || !killed)
		return r;
	n = realloc(c->entries, (size_t)(c->nentries + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	c->entries = n;
	n = &c->entries[c->nentries];
	n->name = strdup(name);
	n->attempt = c->attempt;
	if (!n->name)
		return -ENOMEM;
	c->nentries++;
	return 0;
}

/* The resume file is written as tests end, through stdio's buffer, so that the runner holds
 * nothing a test: a resume only flushes it. Killed tests are also kept in memory, for the
 * loop check (run_control_killed_again). */
void run_resume_add(struct run_control *c, const char *name, const char *text,
		    double duration, bool killed)
{
	int r = resume_record(c, name, text, duration, killed);

	if (r < 0 && !c->resume_warned) {
		c->resume_warned = true;
		run_warn("%s: %s: after an OOM kill this run cannot resume", c->resume_path,
			 strerror(-r));
	}
}

/* The descriptor of the copy the command reads (its number is in snap_path), or -1. */
static int snap_fd(const struct run_control *c)
{
	const char *slash = strrchr(c->snap_path, '/');

	return c->snap_path[0] && slash ? atoi(slash + 1) : -1;
}

void run_resume_free(struct run_control *c)
{
	for (int i = 0; i < c->nentries; i++)
		free(c->entries[i].name);
	free(c->entries);
	c->entries = NULL;
	c->nentries = 0;
	if (c->resume)
		fclose(c->resume);
	c->resume = NULL;
	if (snap_fd(c) >= 0)
		close(snap_fd(c));
	c->resume_path[0] = c->snap_path[0] = '\0';
}

void run_control_begin_attempt(struct run_control *c)
{
	if (!c)
		return;
	c->attempt++;
	c->started = 0;
	c->killed_top = 0;
}

int run_control_started(const struct run_control *c)
{
	return c ? c->started : 0;
}

int run_control_first_start(const struct run_control *c, struct timespec *at)
{
	if (!run_control_started(c))
		return 0;
	*at = c->first_start;
	return 1;
}

int run_control_killed(const struct run_control *c)
{
	int n = 0;

	for (int i = 0; c && i < c->nentries; i++)
		n += c->entries[i].attempt == c->attempt;
	return n;
}

int run_control_killed_top(const struct run_control *c)
{
	return c ? c->killed_top : 0;
}

int run_control_killed_again(const struct run_control *c)
{
	for (int i = 0; c && i < c->nentries; i++) {
		const struct resume_entry *now = &c->entries[i];

		if (now->attempt != c->attempt)
			continue;
		for (int j = 0; j < c->nentries; j++)
			if (c->entries[j].attempt < c->attempt &&
			    strcmp(c->entries[j].name, now->name) == 0)
				return 1;
	}
	return 0;
}

/* Copies the resume file as it is now into a new sealed memfd, which then takes the place
 * of the copy before (dup3 onto its number: the path the command has names the newest copy,
 * whole, never one half written). Returns 0 or -errno. */
static int snapshot(struct run_control *c)
{
	char buf[65536];
	int in = fileno(c->resume), out, old = snap_fd(c), r = 0;
	off_t off = 0;
	ssize_t n;

	out = memfd_create("wcmem-resume-copy", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (out < 0)
		return -errno;
	while (r == 0 && (n = pread(in, buf, sizeof(buf), off)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		errno = EIO;  /* a short write to memory: out of it */
		if (write(out, buf, (size_t)n) != n)
			r = -errno;
		off += n;
	}
	/* Sealed: it stays as it is while the command reads it. */
	if (r == 0 && fcntl(out, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE |
			    F_SEAL_SEAL) < 0)
		r = -errno;
	if (r == 0 && old >= 0 && dup3(out, old, O_CLOEXEC) < 0)
		r = -errno;
	if (r < 0 || old >= 0) {
		close(out);
		return r;
	}
	snprintf(c->snap_path, sizeof(c->snap_path), "/proc/%d/fd/%d", (int)getpid(), out);
	return 0;
}

/* A client in a user namespace of its own (the command's, on cgroup v2 under an unprivileged
 * runner: cg_ns_make) may not open /proc/RUNNER/fd/N: the kernel keeps a process's
 * descriptors from one in a user namespace below it. It asks, and gets the copy as a
 * descriptor of its own: opened afresh (read-only, from the start; one description per
 * client, so that no two share a file offset). The copy is sealed: it stays as it is. */
void run_control_send_resume(struct run_control *c, struct conn *k)
{
	int fd = snap_fd(c) >= 0 ? open(c->snap_path, O_RDONLY | O_CLOEXEC) : -1;

	if (fd < 0) {
		run_conn_reply(k, "ERR 404 no resume file: this run did not resume");
		return;
	}
	run_conn_send_fd(k, "OK\n", fd);
	close(fd);
}

int run_control_write_resume(struct run_control *c, const char **path, struct wc_error *e)
{
	int r = resume_open(c);  /* nothing ended yet: an empty file */

	if (r < 0)
		return wc_fail(e, -r, "write %s", c->resume_path);
	if (fflush(c->resume) != 0 || ferror(c->resume))
		return wc_fail(e, errno ? errno : EIO, "write %s", c->resume_path);
	/* The command gets a copy that stays as it is: tests keep ending while it runs, and a
	 * worker that pytest-xdist starts later must leave out what the first ones did, not
	 * what has ended since (nor read a line half written). */
	r = snapshot(c);
	if (r < 0)
		return wc_fail(e, -r, "copy %s", c->resume_path);
	*path = c->snap_path;
	return 0;
}
