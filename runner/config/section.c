/* The keys of each section: [defaults] and [profile NAME] take the command line's settings
 * (profiles also `inherit` and `suites`); [suite NAME] takes how to run one suite. */
#include "runner/config/section.h"
#include "runner/config/shared.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define SEPARATORS " \t,"  /* between names in a list */
#define ENV_NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_"

static const char *const suite_keys[CFG_S_NKEYS] = {
	[CFG_S_COMMAND] = "command", [CFG_S_SHELL] = "shell", [CFG_S_LIMIT] = "limit",
	[CFG_S_TEST_LIMIT] = "test_limit", [CFG_S_ENV] = "env", [CFG_S_WORKDIR] = "workdir",
	[CFG_S_TIMEOUT] = "timeout",
};

/* Edit distance of two short words, for "did you mean"; large for long ones. */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[33];

	if (la > 32 || lb > 32)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[lb];
}

/* "unknown key 'limt' in [profile ci]; did you mean 'limit'? (keys: ...)" */
static int unknown_key(struct cfg_loader *ld, const char *key, const char *where,
		       const char *const *keys, size_t n)
{
	const char *near = NULL;
	char list[512];

	for (size_t i = 0; i < n && !near; i++)
		if (distance(key, keys[i]) <= 2)
			near = keys[i];
	cfg_join(list, sizeof(list), keys, n, ", ");
	if (near)
		return cfg_fail_at(ld, ld->line, 0, "unknown key '%s' in %s; did you mean '%s'?",
				   key, where, near);
	return cfg_fail_at(ld, ld->line, 0, "unknown key '%s' in %s; it takes: %s", key, where,
			   list);
}

/* A report given as "-", standard output: no path to resolve (the field still owns a copy). */
static bool report_to_stdout(const char *key, const char *value)
{
	return strcmp(value, "-") == 0 && (strcmp(key, "json") == 0 ||
					   strcmp(key, "junit_xml") == 0 || strcmp(key, "html") == 0);
}

/* Parses value into *field as type, resolving a path against the file's folder. */
static int typed(struct cfg_loader *ld, enum cfg_type type, const char *key, const char *value,
		 void *field)
{
	struct wc_error pe;
	char *path = NULL;
	int r;

	if (type == CFG_T_PATH && *value) {
		path = report_to_stdout(key, value) ? strdup(value) : cfg_resolve_path(ld, value);
		if (!path)
			return cfg_fail_at(ld, ld->line, ENOMEM, "%s", key);
	}
	r = cfg_parse_typed(type, key, path ? path : value, ld->phys, field, &pe);
	if (r < 0) {
		free(path);
		return cfg_wrap_at(ld, ld->line, &pe, NULL);
	}
	return 0;  /* a path now belongs to the field: cfg_free frees it */
}

/* A list of names, blank- or comma-separated, each once. */
static int name_list(struct cfg_loader *ld, const char *key, const char *value, char ***out)
{
	char *copy = strdup(value), *save = NULL, **v = NULL;
	size_t n = 0;
	int r = 0;

	if (!copy)
		return cfg_fail_at(ld, ld->line, ENOMEM, "%s", key);
	for (char *w = strtok_r(copy, SEPARATORS, &save); w && r == 0;
	     w = strtok_r(NULL, SEPARATORS, &save)) {
		char **nv = realloc(v, (n + 2) * sizeof(*v));

		if (!nv) {
			r = cfg_fail_at(ld, ld->line, ENOMEM, "%s", key);
			break;
		}
		v = nv;
		v[n] = NULL;
		if (strspn(w, CFG_NAME_CHARS) != strlen(w))
			r = cfg_fail_at(ld, ld->line, 0, "%s: '%s' is not a name", key, w);
		for (size_t i = 0; i < n && r == 0; i++)
			if (strcmp(v[i], w) == 0)
				r = cfg_fail_at(ld, ld->line, 0, "%s: '%s' is named twice", key, w);
		if (r == 0 && !(v[n++] = strdup(w)))
			r = cfg_fail_at(ld, ld->line, ENOMEM, "%s", key);
		v[n] = NULL;
	}
	free(copy);
	if (r == 0 && n == 0)
		r = cfg_fail_at(ld, ld->line, 0, "%s is empty: name at least one, or leave the key "
				"out", key);
	if (r < 0)
		cfg_words_free(v);
	else
		*out = v;
	return r;
}

static int inherit_key(struct cfg_loader *ld, struct cfg_profile *p, const char *value)
{
	if (!*value || strspn(value, CFG_NAME_CHARS) != strlen(value))
		return cfg_fail_at(ld, ld->line, 0, "inherit: '%s' is not a profile name", value);
	p->inherit = strdup(value);
	return p->inherit ? 0 : cfg_fail_at(ld, ld->line, ENOMEM, "inherit");
}

/* A key of [defaults] (p NULL) or of a profile: a setting, or a profile's inherit/suites. */
static int layer_key(struct cfg_loader *ld, struct cfg_profile *p, const char *key,
		     const char *value)
{
	struct cfg_layer *l = p ? &p->layer : &ld->f->defaults;
	bool inherit = strcmp(key, "inherit") == 0, suites = strcmp(key, "suites") == 0;
	int k = cfg_key_find(key), *line;
	char where[128];

	cfg_section_label(ld->f->shared, p ? "profile" : "defaults", p ? p->name : "", where,
			  sizeof(where));
	if (k < 0 && !inherit && !suites) {
		const char *keys[CFG_NKEYS + 2];

		for (int i = 0; i < CFG_NKEYS; i++)
			keys[i] = cfg_keys[i].ini;
		keys[CFG_NKEYS] = "inherit";
		keys[CFG_NKEYS + 1] = "suites";
		return unknown_key(ld, key, where, keys, p ? CFG_NKEYS + 2 : CFG_NKEYS);
	}
	if (!p && k < 0)
		return cfg_fail_at(ld, ld->line, 0, "'%s' belongs in a %s section, not in %s", key,
				   ld->f->shared ? "[" CFG_SHARED_SECTION ":profile NAME]" :
				   "[profile NAME]", where);
	line = k >= 0 ? &l->line[k] : inherit ? &p->inherit_line : &p->suites_line;
	if (*line)
		return cfg_fail_at(ld, ld->line, 0, "duplicate key '%s' in %s: first set at line %d",
				   key, where, *line);
	*line = ld->line;
	if (inherit)
		return inherit_key(ld, p, value);
	if (suites)
		return name_list(ld, key, value, &p->suites);
	l->v.set |= CFG_BIT(k);
	return typed(ld, cfg_keys[k].type, key, value, (char *)&l->v + cfg_keys[k].offset);
}

/* env = A=1 B="x y": shell words, each NAME=VALUE. */
static int suite_env(struct cfg_loader *ld, struct cfg_suite *s, const char *value)
{
	struct wc_error we;
	int n = cfg_split_words(value, "quote it: nothing is expanded in env", &s->env, &we);

	if (n < 0)
		return cfg_wrap_at(ld, ld->line, &we, "env");
	for (int i = 0; i < n; i++) {
		const char *kv = s->env[i];
		size_t name = strspn(kv, ENV_NAME_CHARS);

		if (name == 0 || kv[name] != '=' || (kv[0] >= '0' && kv[0] <= '9'))
			return cfg_fail_at(ld, ld->line, 0, "env: '%s' is not NAME=VALUE (NAME: "
					   "letters, digits and '_')", kv);
	}
	return 0;
}

static int suite_key(struct cfg_loader *ld, struct cfg_suite *s, const char *key,
		     const char *value)
{
	char where[128];
	int k = -1;

	for (int i = 0; i < CFG_S_NKEYS; i++)
		if (strcmp(key, suite_keys[i]) == 0)
			k = i;
	cfg_section_label(ld->f->shared, "suite", s->name, where, sizeof(where));
	if (k < 0)
		return unknown_key(ld, key, where, suite_keys, CFG_S_NKEYS);
	if (s->key_line[k])
		return cfg_fail_at(ld, ld->line, 0, "duplicate key '%s' in %s: first set at line %d",
				   key, where, s->key_line[k]);
	s->key_line[k] = ld->line;
	switch ((enum cfg_suite_key)k) {
	case CFG_S_COMMAND:
		if (!*value)
			return cfg_fail_at(ld, ld->line, 0, "command is empty");
		s->command = strdup(value);
		return s->command ? 0 : cfg_fail_at(ld, ld->line, ENOMEM, "command");
	case CFG_S_SHELL: return typed(ld, CFG_T_BOOL, key, value, &s->shell);
	case CFG_S_LIMIT: return typed(ld, CFG_T_SIZE, key, value, &s->limit);
	case CFG_S_TEST_LIMIT: return typed(ld, CFG_T_SIZE, key, value, &s->test_limit);
	case CFG_S_ENV: return suite_env(ld, s, value);
	case CFG_S_WORKDIR: return typed(ld, CFG_T_PATH, key, value, &s->workdir);
	case CFG_S_TIMEOUT: return typed(ld, CFG_T_DURATION, key, value, &s->timeout_ns);
	case CFG_S_NKEYS: break;
	}
	return -EINVAL;
}

int cfg_section_key(struct cfg_loader *ld, const char *key, const char *value)
{
	switch (ld->sec) {
	case CFG_SEC_NONE:
		return cfg_fail_at(ld, ld->line, 0, "'%s' comes before any section: put it under "
				   "[defaults] or [profile NAME]", key);
	case CFG_SEC_DEFAULTS:
		return layer_key(ld, NULL, key, value);
	case CFG_SEC_PROFILE:
		return layer_key(ld, &ld->f->profiles[ld->idx], key, value);
	case CFG_SEC_SUITE:
		return suite_key(ld, &ld->f->suites[ld->idx], key, value);
	}
	return -EINVAL;
}
