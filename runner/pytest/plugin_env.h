/* The environment that makes pytest load the plugin by itself: no change to the user's
 * project or configuration. */
#ifndef WCMEM_RUNNER_PYTEST_PLUGIN_ENV_H
#define WCMEM_RUNNER_PYTEST_PLUGIN_ENV_H

#include <stddef.h>

#include "cgroup/error.h"

struct run_session;

/* The folder that holds the plugin, the package wcmem_pytest/: beside the binary
 * (runner/pytest/ in the build tree, or ../runner/pytest for build-san/), or
 * PREFIX/share/wcmem-sandbox when installed.
 * Returns 0, or -ENOENT. */
int run_plugin_dir(char *out, size_t size);

/* Builds the "KEY=VALUE" list for the command: the job's own entries, then
 * WCMEM_SANDBOX_SOCKET, PYTHONPATH and PYTEST_PLUGINS (the user's values kept after ours),
 * WCMEM_SANDBOX_TRACEMALLOC, the shard (WCMEM_SANDBOX_SHARD, _SHARD_FROM, _SHARD_LOG,
 * _SHARD_BUDGETS) and, when resume is not NULL, WCMEM_SANDBOX_RESUME. When the
 * command's in-process diagnostics would write our log file, WEATHERCOP_DISABLE_DIAGNOSTICS=1
 * and WCMEM_SANDBOX_DIAGNOSTICS=1 (our plugin logs in their stead), said once on stderr.
 * *out is NULL-terminated; free it with run_env_free. Returns 0 or -errno. */
int run_plugin_env(struct run_session *s, const char *plugin_dir, char *const *job_env,
		   const char *resume, char ***out, struct wc_error *e);

void run_env_free(char **env);

#endif
