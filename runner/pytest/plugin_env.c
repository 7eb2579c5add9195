#include "runner/pytest/plugin_env.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report/log.h"

#include "runner/config/options.h"
#include "runner/config/size.h"
#include "runner/control/control.h"
#include "runner/session/say.h"
#include "runner/session/state.h"

/* A package: pytest imports its __init__.py by the folder's name. */
#define PLUGIN_FILE "wcmem_pytest/__init__.py"
#define PLUGIN_MODULE "wcmem_pytest"

int run_plugin_dir(char *out, size_t size)
{
	static const char *const beside[] = { "runner/pytest", "../runner/pytest", "../share/wcmem-sandbox" };
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

/* The job's own value of key (its last "KEY=..." entry), else the runner's. */
static const char *job_getenv(char *const *job_env, const char *key)
{
	const char *found = getenv(key);
	size_t n = strlen(key);

	for (char *const *p = job_env; p && *p; p++)
		if (strncmp(*p, key, n) == 0 && (*p)[n] == '=')
			found = *p + n + 1;
	return found;
}

/* Whether the command's in-process diagnostics (WeatherCop's plugin: its log is
 * $WEATHERCOP_DIR/test_memory.log, else ~/.weathercop/test_memory.log) would write the file
 * our log is: that writer truncates it when its session starts, and again when the runner
 * starts pytest after an OOM kill, erasing what the runner wrote. */
static bool log_shared(const struct run_session *s, char *const *job_env)
{
	const char *off = job_getenv(job_env, "WEATHERCOP_DISABLE_DIAGNOSTICS");
	char theirs[4096];
	struct stat a, b;

	if (s->log.fd < 0 || (off && strcmp(off, "1") == 0))
		return false;
	if (rep_log_default_path(theirs, sizeof(theirs), job_getenv(job_env, "WEATHERCOP_DIR"),
				 job_getenv(job_env, "HOME")) < 0)
		return false;
	return fstat(s->log.fd, &a) == 0 && stat(theirs, &b) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* Switches the in-process writer off for the command when it shares our log, and tells our
 * plugin to log the same figures in its stead (WCMEM_SANDBOX_DIAGNOSTICS). The plugin says
 * so in pytest's header when it finds that writer among pytest's plugins: a project without
 * one hears nothing of it. */
static int take_over_log(struct run_session *s, char *const *job_env, char ***env, size_t *n)
{
	int r;

	if (!log_shared(s, job_env))
		return 0;
	r = push(env, n, strdup("WEATHERCOP_DISABLE_DIAGNOSTICS=1"));
	return r < 0 ? r : push(env, n, strdup("WCMEM_SANDBOX_DIAGNOSTICS=1"));
}

/* WCMEM_SANDBOX_STARTED: when the session started (seconds since the epoch), so that a
 * pytest started again after an OOM kill gives the run's whole time, not its own. */
static int push_started(const struct run_session *s, char ***env, size_t *n)
{
	char *kv;

	if (asprintf(&kv, "WCMEM_SANDBOX_STARTED=%lld.%06ld", (long long)s->info.start.tv_sec,
		     s->info.start.tv_nsec / 1000) < 0)
		return -ENOMEM;
	return push(env, n, kv);
}

/* WCMEM_SANDBOX_CWD: the folder the runner was started in. The plugin gives each test's
 * file relative to it, so that the summary's "FILE:LINE:" opens in an editor there, wherever
 * the command runs pytest from (make -C, tox). None when it cannot be told. */
static int push_cwd(char ***env, size_t *n)
{
	char *cwd = getcwd(NULL, 0), *kv = NULL;
	int r = 0;

	if (cwd && asprintf(&kv, "WCMEM_SANDBOX_CWD=%s", cwd) < 0)
		r = -ENOMEM;
	else if (kv)
		r = push(env, n, kv);
	free(cwd);
	return r;
}

/* "KEY=PATH" with PATH absolute: the command may run in another folder (a suite's workdir).
 * Nothing when path is NULL. */
static int push_path(char ***env, size_t *n, const char *key, const char *path)
{
	char *cwd = NULL, *kv = NULL;
	int r;

	if (!path)
		return 0;
	if (*path != '/' && !(cwd = getcwd(NULL, 0)))
		return -errno;
	r = asprintf(&kv, "%s=%s%s%s", key, cwd ? cwd : "", cwd ? "/" : "", path) < 0 ?
		-ENOMEM : push(env, n, kv);
	free(cwd);
	return r;
}

/* The shard the plugin selects (WCMEM_SANDBOX_SHARD=I/N), where it came from, and what
 * balances it: the durations of an earlier log and the budget file's sizes (and the total,
 * WCMEM_SANDBOX_LIMIT, which every plugin reads). */
static int push_shard(const struct run_options *o, char ***env, size_t *n)
{
	char *kv = NULL;
	int r;

	if (!o->shard.count)
		return 0;
	if (asprintf(&kv, "WCMEM_SANDBOX_SHARD=%u/%u", o->shard.index, o->shard.count) < 0)
		return -ENOMEM;
	r = push(env, n, kv);
	if (r == 0)
		r = push(env, n, asprintf(&kv, "WCMEM_SANDBOX_SHARD_FROM=%s", o->shard_origin) < 0 ?
			 NULL : kv);
	if (r == 0)
		r = push_path(env, n, "WCMEM_SANDBOX_SHARD_LOG", o->shard_log);
	if (r == 0)
		r = push_path(env, n, "WCMEM_SANDBOX_SHARD_BUDGETS", o->budgets);
	return r;
}

int run_plugin_env(struct run_session *s, const char *plugin_dir, char *const *job_env,
		   const char *resume, char ***out, struct wc_error *e)
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
		if (r == 0)
			r = push_cwd(&env, &n);
		if (r == 0)
			r = push_started(s, &env, &n);
	}
	if (r == 0 && s->ns.cgroup_fd >= 0)
		r = asprintf(&kv, "WCMEM_SANDBOX_CGROUPNS=%s", s->sandbox.path) < 0 ? -ENOMEM :
			push(&env, &n, kv);
	if (r == 0)
		r = take_over_log(s, job_env, &env, &n);
	/* The sandbox total, for the plugin's -n auto (its workers must fit in it). */
	if (r == 0 && plugin_dir && s->opt->limit != CFG_SIZE_MAX) {
		r = asprintf(&kv, "WCMEM_SANDBOX_LIMIT=%" PRIu64, s->opt->limit) < 0 ? -ENOMEM : 0;
		if (r == 0)
			r = push(&env, &n, kv);
	}
	if (r == 0 && s->opt->tracemalloc) {
		r = asprintf(&kv, "WCMEM_SANDBOX_TRACEMALLOC=%u", s->opt->tracemalloc) < 0 ? -ENOMEM : 0;
		if (r == 0)
			r = push(&env, &n, kv);
	}
	if (r == 0 && plugin_dir)
		r = push_shard(s->opt, &env, &n);
	if (r == 0 && resume) {
		r = asprintf(&kv, "WCMEM_SANDBOX_RESUME=%s", resume) < 0 ? -ENOMEM : 0;
		if (r == 0)
			r = push(&env, &n, kv);
	}
	if (r < 0) {
		run_env_free(env);
		return wc_fail(e, -r, "build the command's environment");
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
