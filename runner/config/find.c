/* Finding the config file: the first of --config FILE, $WCMEM_SANDBOX_CONFIG,
 * wcmem-sandbox.ini here or in the nearest parent (a project's file, as with .editorconfig or
 * setup.cfg), the user's $XDG_CONFIG_HOME/wcmem-sandbox/config.ini, /etc/wcmem-sandbox.ini. */
#include "runner/config/config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* 1 when path names something (a file we may then fail to read: that is an error worth
 * showing, not a reason to look further), 0 when not, -errno when we cannot tell.
 * A folder on the way that we may not search counts as not there: it hides nothing we could
 * read anyway (HOME=/root left in the environment of another user, as `sudo -u` does). */
static int exists(const char *path)
{
	if (access(path, F_OK) == 0)
		return 1;
	return errno == ENOENT || errno == ENOTDIR || errno == EACCES ? 0 : -errno;
}

static int found_at(const char *path, enum cfg_found how, char **out, enum cfg_found *found,
		    struct wc_error *e)
{
	*out = strdup(path);
	if (!*out)
		return wc_fail(e, ENOMEM, "find the config file");
	*found = how;
	return 1;
}

/* wcmem-sandbox.ini in the current folder or the nearest parent that has one. */
static int nearest(char *buf, size_t size, struct wc_error *e)
{
	char dir[PATH_MAX], *slash;
	int r;

	if (!getcwd(dir, sizeof(dir)))
		return wc_fail(e, errno, "find %s: getcwd", CFG_NEAREST_NAME);
	for (;;) {
		if (snprintf(buf, size, "%s/%s", strcmp(dir, "/") ? dir : "", CFG_NEAREST_NAME) >=
		    (int)size)
			return wc_fail(e, ENAMETOOLONG, "find %s", CFG_NEAREST_NAME);
		r = exists(buf);
		if (r != 0)
			return r < 0 ? wc_fail(e, -r, "%s", buf) : 1;
		if (strcmp(dir, "/") == 0)
			return 0;
		slash = strrchr(dir, '/');
		slash[slash == dir ? 1 : 0] = '\0';
	}
}

/* $XDG_CONFIG_HOME/wcmem-sandbox/config.ini; a relative XDG_CONFIG_HOME is ignored, as the
 * XDG Base Directory spec says. Returns 1 with buf set, 0 when there is no place to look. */
static int xdg_path(char *buf, size_t size)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	int n;

	if (xdg && xdg[0] == '/')
		n = snprintf(buf, size, "%s/wcmem-sandbox/config.ini", xdg);
	else if (home && *home)
		n = snprintf(buf, size, "%s/.config/wcmem-sandbox/config.ini", home);
	else
		return 0;
	return n > 0 && (size_t)n < size;
}

int cfg_find(const char *option_path, const char *system_path, char **path,
	     enum cfg_found *found, struct wc_error *e)
{
	const char *env = getenv("WCMEM_SANDBOX_CONFIG");
	char buf[PATH_MAX];
	int r;

	*path = NULL;
	*found = CFG_FOUND_NONE;
	/* Named files are taken as named: a missing one is reported by cfg_load. */
	if (option_path)
		return found_at(option_path, CFG_FOUND_OPTION, path, found, e);
	if (env && *env)
		return found_at(env, CFG_FOUND_ENV, path, found, e);
	r = nearest(buf, sizeof(buf), e);
	if (r != 0)
		return r < 0 ? r : found_at(buf, CFG_FOUND_NEAREST, path, found, e);
	if (xdg_path(buf, sizeof(buf))) {
		r = exists(buf);
		if (r < 0)
			return wc_fail(e, -r, "%s", buf);
		if (r > 0)
			return found_at(buf, CFG_FOUND_XDG, path, found, e);
	}
	r = system_path ? exists(system_path) : 0;
	if (r < 0)
		return wc_fail(e, -r, "%s", system_path);
	return r > 0 ? found_at(system_path, CFG_FOUND_SYSTEM, path, found, e) : 0;
}
