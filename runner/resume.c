/* Resuming after an OOM kill: what is done and what was killed, for the plugin of the
 * command's next run (the resume file of runner/PROTOCOL.md). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner/control_int.h"
#include "runner/protocol.h"

int run_resume_add(struct run_control *c, const char *name, const char *text, double duration,
		   bool killed)
{
	struct resume_entry *n = realloc(c->entries, (size_t)(c->nentries + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	c->entries = n;
	n = &c->entries[c->nentries];
	n->name = strdup(name);
	n->text = strdup(text);
	n->killed = killed;
	n->duration = duration;
	n->attempt = c->attempt;
	if (!n->name || !n->text) {
		free(n->name);
		free(n->text);
		return -ENOMEM;
	}
	c->nentries++;
	return 0;
}

void run_resume_free(struct run_control *c)
{
	for (int i = 0; i < c->nentries; i++) {
		free(c->entries[i].name);
		free(c->entries[i].text);
	}
	free(c->entries);
	c->entries = NULL;
	c->nentries = 0;
	if (c->resume_path[0])
		unlink(c->resume_path);
}

void run_control_begin_attempt(struct run_control *c)
{
	if (!c)
		return;
	c->attempt++;
	c->started = 0;
}

int run_control_started(const struct run_control *c)
{
	return c ? c->started : 0;
}

int run_control_killed(const struct run_control *c)
{
	int n = 0;

	for (int i = 0; c && i < c->nentries; i++)
		n += c->entries[i].killed && c->entries[i].attempt == c->attempt;
	return n;
}

int run_control_killed_again(const struct run_control *c)
{
	for (int i = 0; c && i < c->nentries; i++) {
		const struct resume_entry *now = &c->entries[i];

		if (!now->killed || now->attempt != c->attempt)
			continue;
		for (int j = 0; j < c->nentries; j++)
			if (c->entries[j].killed && c->entries[j].attempt < c->attempt &&
			    strcmp(c->entries[j].name, now->name) == 0)
				return 1;
	}
	return 0;
}

int run_control_write_resume(struct run_control *c, const char **path, struct rep_error *e)
{
	FILE *f;

	snprintf(c->resume_path, sizeof(c->resume_path), "%s/resume", c->dir);
	f = fopen(c->resume_path, "we");
	if (!f)
		return rep_fail(e, errno, "write %s", c->resume_path);
	for (int i = 0; i < c->nentries; i++) {
		const struct resume_entry *n = &c->entries[i];
		size_t need = strlen(n->name) * 3 + strlen(n->text) * 3 + 1;
		char *name = malloc(need), *text = malloc(need);

		if (name && text) {
			run_field_encode(n->name, name, need);
			if (n->killed)
				run_field_encode(n->text, text, need);
			fprintf(f, "%s %s %.6f %s\n", n->killed ? "KILLED" : "DONE", name,
				n->duration, n->killed ? text : n->text);
		}
		free(name);
		free(text);
	}
	if (fclose(f) != 0)
		return rep_fail(e, errno, "write %s", c->resume_path);
	*path = c->resume_path;
	return 0;
}
