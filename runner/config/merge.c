/* The effective settings, by precedence: command line > profile (then the profiles it
 * inherits, nearest first) > [defaults] > built in; and the jobs a profile runs. */
#include "runner/config/config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Where setting k comes from below the command line: the profile or one it inherits
 * (nearest first), else [defaults]; NULL: built in. */
static const struct cfg_layer *source(const struct cfg_file *f, const struct cfg_profile *p,
				      enum cfg_key k, struct cfg_origin *o)
{
	for (; p; p = cfg_profile_parent(f, p)) {
		if (p->layer.v.set & CFG_BIT(k)) {
			*o = (struct cfg_origin){ CFG_SRC_PROFILE, p->name, p->layer.line[k] };
			return &p->layer;
		}
	}
	if (f && (f->defaults.v.set & CFG_BIT(k))) {
		*o = (struct cfg_origin){ CFG_SRC_DEFAULTS, NULL, f->defaults.line[k] };
		return &f->defaults;
	}
	*o = (struct cfg_origin){ CFG_SRC_BUILTIN, NULL, 0 };
	return NULL;
}

/* --profile NAME is not in the file. Returns -ENOENT. */
static int no_profile(const struct cfg_file *f, const char *name, struct wc_error *e)
{
	char list[300] = "";
	size_t len = 0;

	if (!f)
		wc_fail(e, 0, "--profile %s: no config file found ('wcmem-sandbox config' shows "
			 "where it is looked for)", name);
	else if (f->nprofiles == 0)
		wc_fail(e, 0, "%s: no [profile %s]: the file defines no profiles", f->path, name);
	else {
		for (size_t i = 0; i < f->nprofiles && len < sizeof(list); i++)
			len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s",
						i ? ", " : "", f->profiles[i].name);
		wc_fail(e, 0, "%s: no [profile %s]; profiles: %s", f->path, name, list);
	}
	return -ENOENT;
}

int cfg_merge(const struct cfg_file *f, const char *profile, const struct run_options *cli,
	      struct run_options *out, struct cfg_origin origin[CFG_NKEYS], struct wc_error *e)
{
	const struct cfg_profile *p = NULL;
	struct cfg_origin o;
	bool test_limit_set = false;

	if (profile) {
		p = cfg_profile_find(f, profile);
		if (!p)
			return no_profile(f, profile, e);
	}
	*out = *cli;  /* the command line's values, and the built-in defaults under them */
	for (int k = 0; k < CFG_NKEYS; k++) {
		const struct cfg_layer *l = NULL;

		if (cli->set & CFG_BIT(k))
			o = (struct cfg_origin){ CFG_SRC_CMDLINE, NULL, 0 };
		else
			l = source(f, p, (enum cfg_key)k, &o);
		if (l) {
			cfg_copy_value(out, &l->v, (enum cfg_key)k);
			out->set |= CFG_BIT(k);
		}
		if (k == CFG_TEST_LIMIT)
			test_limit_set = o.source != CFG_SRC_BUILTIN;
		if (origin)
			origin[k] = o;
	}
	/* Given nowhere, test_limit follows the limit that won. */
	if (!test_limit_set)
		out->test_limit = out->limit;
	return 0;
}

int cfg_profile_suites(const struct cfg_file *f, const struct cfg_profile *p,
		       const struct cfg_suite ***out)
{
	char **names = NULL;
	const struct cfg_suite **v;
	size_t count = 0;

	for (const struct cfg_profile *q = p; q && !names; q = cfg_profile_parent(f, q))
		names = q->suites;  /* the nearest profile that names its suites */
	if (names)
		while (names[count])
			count++;
	else
		count = f->nsuites;
	v = calloc(count + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < count; i++)
		v[i] = names ? cfg_suite_find(f, names[i]) : &f->suites[i];
	*out = v;
	return (int)count;
}

void cfg_suite_job(const struct cfg_suite *s, const struct run_options *o, struct run_job *job)
{
	memset(job, 0, sizeof(*job));
	job->name = s->name;
	job->kind = "suite";
	job->argv = s->argv;
	job->limit = s->limit ? s->limit : o->test_limit;
	job->test_limit = s->test_limit;
	job->env = s->env;
	job->workdir = s->workdir;
	job->timeout_ns = s->timeout_ns;
}
