/* The checks that need the whole file, lookups, and freeing. A file is checked whole, every
 * profile and suite, used or not, so a mistake shows on the first run, not on the day someone
 * picks the broken profile. */
#include "runner/config/check.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SHELL_HINT "set shell = yes to run the command through sh -c, or quote it"

const struct cfg_profile *cfg_profile_find(const struct cfg_file *f, const char *name)
{
	long i = f ? cfg_names_find(&f->profile_names, f->profiles, sizeof(*f->profiles),
				    name) : -1;

	return i < 0 ? NULL : &f->profiles[i];
}

const struct cfg_suite *cfg_suite_find(const struct cfg_file *f, const char *name)
{
	long i = f ? cfg_names_find(&f->suite_names, f->suites, sizeof(*f->suites), name) : -1;

	return i < 0 ? NULL : &f->suites[i];
}

/* " (profiles: a, b)" or " (suites: ...)", or " (there are no [KIND NAME] sections)". */
static void name_list(const struct cfg_file *f, bool profiles, char *buf, size_t size)
{
	size_t n = profiles ? f->nprofiles : f->nsuites, len = 0;

	if (n == 0) {
		snprintf(buf, size, " (there are no [%s NAME] sections)",
			 profiles ? "profile" : "suite");
		return;
	}
	len += (size_t)snprintf(buf, size, " (%s: ", profiles ? "profiles" : "suites");
	for (size_t i = 0; i < n && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? ", " : "",
					profiles ? f->profiles[i].name : f->suites[i].name);
	if (len < size)
		snprintf(buf + len, size - len, ")");
}

/* A suite's argv: sh -c COMMAND, or the command's words; env and workdir defaults. */
static int finish_suite(struct cfg_loader *ld, struct cfg_suite *s)
{
	struct wc_error we;
	int n;

	if (!s->command)
		return cfg_fail_at(ld, s->line, 0, "[suite %s] has no command: add command = ...",
				   s->name);
	if (s->shell) {
		s->argv = calloc(4, sizeof(*s->argv));
		if (s->argv) {
			s->argv[0] = strdup("sh");
			s->argv[1] = strdup("-c");
			s->argv[2] = strdup(s->command);
		}
		if (!s->argv || !s->argv[0] || !s->argv[1] || !s->argv[2])
			return cfg_fail_at(ld, s->line, ENOMEM, "[suite %s]", s->name);
	} else {
		int line = s->key_line[CFG_S_COMMAND];

		n = cfg_split_words(s->command, SHELL_HINT, &s->argv, &we);
		if (n < 0)
			return cfg_wrap_at(ld, line, &we, "command");
		if (n == 0)
			return cfg_fail_at(ld, line, 0, "command has no words");
	}
	if (!s->env)
		s->env = calloc(1, sizeof(*s->env));
	if (!s->workdir)
		s->workdir = strdup(ld->f->dir);  /* suites start beside their file */
	if (!s->env || !s->workdir)
		return cfg_fail_at(ld, s->line, ENOMEM, "[suite %s]", s->name);
	return 0;
}

/* The profile's inherit names a profile. */
static int check_inherit_defined(struct cfg_loader *ld, const struct cfg_profile *p)
{
	char names[300];

	if (!p->inherit || cfg_profile_find(ld->f, p->inherit))
		return 0;
	name_list(ld->f, true, names, sizeof(names));
	return cfg_fail_at(ld, p->inherit_line, 0, "profile '%s' inherits '%s', which is not "
			   "defined%s", p->name, p->inherit, names);
}

const struct cfg_profile *cfg_profile_parent(const struct cfg_file *f,
					     const struct cfg_profile *p)
{
	return p->inherit ? cfg_profile_find(f, p->inherit) : NULL;
}

/* Following inherit from profile i never comes back round. walk[j] is the number (from 1) of
 * the walk that first met profile j, so every profile is visited once over all walks: linear
 * in the number of profiles, however long the chains. Every inherit names a profile. */
static int check_inherit_cycle(struct cfg_loader *ld, size_t i, size_t *walk)
{
	const struct cfg_file *f = ld->f;
	const struct cfg_profile *q, *start;
	char chain[400];
	size_t len;

	for (q = &f->profiles[i]; q && !walk[q - f->profiles]; q = cfg_profile_parent(f, q))
		walk[q - f->profiles] = i + 1;
	if (!q || walk[q - f->profiles] != i + 1)
		return 0;  /* the end of the chain, or a profile an earlier walk cleared */
	start = q;     /* this walk came back to q: the cycle starts there */
	len = (size_t)snprintf(chain, sizeof(chain), "%s", start->name);
	do {
		q = cfg_profile_parent(f, q);
		if (len < sizeof(chain))
			len += (size_t)snprintf(chain + len, sizeof(chain) - len, " -> %s", q->name);
	} while (q != start);
	return cfg_fail_at(ld, start->inherit_line, 0, "inherit cycle: %s; break it by removing "
			   "one inherit", chain);
}

static int check_suites(struct cfg_loader *ld, const struct cfg_profile *p)
{
	char names[300];

	for (size_t i = 0; p->suites && p->suites[i]; i++) {
		if (cfg_suite_find(ld->f, p->suites[i]))
			continue;
		name_list(ld->f, false, names, sizeof(names));
		return cfg_fail_at(ld, p->suites_line, 0, "profile '%s' names suite '%s', which is "
				   "not defined%s", p->name, p->suites[i], names);
	}
	return 0;
}

int cfg_finish(struct cfg_loader *ld)
{
	struct cfg_file *f = ld->f;
	int r = 0;

	for (size_t i = 0; i < f->nsuites && r == 0; i++)
		r = finish_suite(ld, &f->suites[i]);
	for (size_t i = 0; i < f->nprofiles && r == 0; i++) {
		r = check_inherit_defined(ld, &f->profiles[i]);
		if (r == 0)
			r = check_suites(ld, &f->profiles[i]);
	}
	if (r == 0 && f->nprofiles) {
		size_t *walk = calloc(f->nprofiles, sizeof(*walk));

		if (!walk)
			return cfg_fail_at(ld, 1, ENOMEM, "check inherit chains");
		for (size_t i = 0; i < f->nprofiles && r == 0; i++)
			r = check_inherit_cycle(ld, i, walk);
		free(walk);
	}
	return r;
}

/* Frees the strings a layer owns (its paths). */
static void free_layer(struct cfg_layer *l)
{
	for (int k = 0; k < CFG_NKEYS; k++)
		if (cfg_keys[k].type == CFG_T_PATH)
			free(*(char **)((char *)&l->v + cfg_keys[k].offset));
}

void cfg_free(struct cfg_file *f)
{
	for (size_t i = 0; i < f->nprofiles; i++) {
		free(f->profiles[i].name);
		free(f->profiles[i].inherit);
		cfg_words_free(f->profiles[i].suites);
		free_layer(&f->profiles[i].layer);
	}
	for (size_t i = 0; i < f->nsuites; i++) {
		free(f->suites[i].name);
		free(f->suites[i].command);
		cfg_words_free(f->suites[i].argv);
		cfg_words_free(f->suites[i].env);
		free(f->suites[i].workdir);
	}
	free_layer(&f->defaults);
	free(f->profiles);
	free(f->suites);
	cfg_names_free(&f->profile_names);
	cfg_names_free(&f->suite_names);
	free(f->path);
	free(f->dir);
	memset(f, 0, sizeof(*f));
}
