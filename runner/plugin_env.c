#include "runner/plugin_env.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runner/control.h"
#include "runner/session.h"

#define PLUGIN_FILE "wcmem_pytest.py"
#define PLUGIN_MODULE "wcmem_pytest"

int run_plugin_dir(char *out, size_t size)
{
	static const char *const beside[] = { "runner", "../runner", "../share/wcmem-sandbox" };
	char exe[PATH_MAX], file[PATH_MAX + 64];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	if (n <= 0)
		return -ENOENT;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return -ENOENT;
	*slash = '\0';
	for (size_t i = 0; i < sizeof(beside) / sizeof(beside[0]); i++) {
		snprintf(file, sizeof(file), "%s/%s/%s", exe, beside[i], PLUGIN_FILE);
		if (access(file, R_OK) == 0) {
			snprintf(out, size, "%s/%s", exe, beside[i]);
			return 0;
		}
	}
	return -ENOENT;
}

/* "KEY=ours" or "KEY=ours<sep>theirs": the user's own value stays in force. */
static char *prepend(const char *key, const char *ours, const char *sep)
{
	const char *theirs = getenv(key);
	char *kv;

	if (theirs && *theirs) {
		if (asprintf(&kv, "%s=%s%s%s", key, ours, sep, theirs) < 0)
			return NULL;
	} else if (asprintf(&kv, "%s=%s", key, ours) < 0) {
		return NULL;
	}
	return kv;
}

static int push(char ***env, size_t *n, char *kv)
{
	char **grown;

	if (!kv)
		return -ENOMEM;
	grown = realloc(*env, (*n + 2) * sizeof(**env));
	if (!grown) {
		free(kv);
		return -ENOMEM;
	}
	*env = grown;
	grown[(*n)++] = kv;
	grown[*n] = NULL;
	return 0;
}

int run_plugin_env(struct run_session *s, const char *plugin_dir, char *const *job_env,
		   const char *resume, char ***out, struct rep_error *e)
{
	char **env = NULL, *kv;
	size_t n = 0;
	int r = 0;

	for (char *const *p = job_env; r == 0 && p && *p; p++)
		r = push(&env, &n, strdup(*p));
	if (r == 0 && s->control)
		r = push(&env, &n, strdup(run_control_env(s->control)));
	if (r == 0 && plugin_dir) {
		r = push(&env, &n, prepend("PYTHONPATH", plugin_dir, ":"));
		if (r == 0)
			r = push(&env, &n, prepend("PYTEST_PLUGINS", PLUGIN_MODULE, ","));
	}
	if (r == 0 && s->opt->tracemalloc) {
		r = asprintf(&kv, "WCMEM_SANDBOX_TRACEMALLOC=%u", s->opt->tracemalloc) < 0 ? -ENOMEM : 0;
		if (r == 0)
			r = push(&env, &n, kv);
	}
	if (r == 0 && resume) {
		r = asprintf(&kv, "WCMEM_SANDBOX_RESUME=%s", resume) < 0 ? -ENOMEM : 0;
		if (r == 0)
			r = push(&env, &n, kv);
	}
	if (r < 0) {
		run_env_free(env);
		return rep_fail(e, -r, "build the command's environment");
	}
	*out = env;
	return 0;
}

void run_env_free(char **env)
{
	for (char **p = env; p && *p; p++)
		free(*p);
	free(env);
}
