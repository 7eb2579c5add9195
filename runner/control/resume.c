/* Resuming after an OOM kill: what is done and what was killed, for the plugin of the
 * command's next run (the resume file of runner/control/PROTOCOL.md). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runner/control/internal.h"
#include "runner/control/protocol.h"

/* Opens the resume file in the control's private folder, once. Returns 0 or -errno. */
static int resume_open(struct run_control *c)
{
	if (c->resume)
		return 0;
	snprintf(c->resume_path, sizeof(c->resume_path), "%s/resume", c->dir);
	c->resume = fopen(c->resume_path, "we");
	return c->resume ? 0 : -errno;
}

/* text field-encoded into a new string (free it), or NULL without memory. */
static char *encoded(const char *text)
{
	size_t need = strlen(text) * 3 + 1;
	char *out = malloc(need);

	if (out)
		run_field_encode(text, out, need);
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
	if (c->resume_path[0])
		unlink(c->resume_path);
	if (c->snap_path[0])
		unlink(c->snap_path);
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

/* Copies the resume file as it is now into c->snap_path (through a temporary name, so a
 * reader sees a whole copy or none). Returns 0 or -errno. */
static int snapshot(struct run_control *c)
{
	char tmp[sizeof(c->snap_path) + 8], buf[65536];
	int in, out, r = 0;
	ssize_t n;

	snprintf(c->snap_path, sizeof(c->snap_path), "%s/resume.snap", c->dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", c->snap_path);
	in = open(c->resume_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (in < 0)
		return -errno;
	out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (out < 0) {
		r = -errno;
		close(in);
		return r;
	}
	while (r == 0 && (n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || write(out, buf, (size_t)n) != n)
			r = errno ? -errno : -EIO;
	}
	close(in);
	if (close(out) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, c->snap_path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
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
