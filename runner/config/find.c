/* Finding the config file: the first of --config FILE, $WCMEM_SANDBOX_CONFIG,
 * wcmem-sandbox.ini here or in the nearest parent (a project's file, as with .editorconfig or
 * setup.cfg), the user's $XDG_CONFIG_HOME/wcmem-sandbox/config.ini, /etc/wcmem-sandbox.ini.
 * A file the search finds is read only when it may be trusted (trust.h); one that may not
 * is passed over with a warning, as if it were not there. */
#include "runner/config/config.h"
#include "runner/config/trust.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Whether the searched-for path is the config file: 1 when it is there and may be read
 * (trust.h), 0 when it is not there, or is not read (then warn says why, and the search
 * goes on as if it were not there), -errno with e when we cannot tell. A file we cannot
 * read is found (that is an error worth showing, not a reason to look further). */
static int found_here(const char *path, cfg_warn_fn *warn, struct wc_error *e)
{
	struct wc_error why = { 0 };
	int fd = cfg_open_trusted(path, &why);

	if (fd >= 0) {
		close(fd);
		return 1;
	}
	if (fd == -ENOENT)
		return 0;
	if (fd == -EPERM) {
		if (warn)
			warn(&why);
		return 0;
	}
	if (fd == -EACCES)
		return 1;  /* cfg_load says so */
	*e = why;
	return fd;
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

/* wcmem-sandbox.ini in the current folder or the nearest parent that has one we read. */
static int nearest(char *buf, size_t size, cfg_warn_fn *warn, struct wc_error *e)
{
	char dir[PATH_MAX], *slash;
	int r;

	if (!getcwd(dir, sizeof(dir)))
		return wc_fail(e, errno, "find %s: getcwd", CFG_NEAREST_NAME);
	for (;;) {
		if (snprintf(buf, size, "%s/%s", strcmp(dir, "/") ? dir : "", CFG_NEAREST_NAME) >=
		    (int)size)
			return wc_fail(e, ENAMETOOLONG, "find %s", CFG_NEAREST_NAME);
		r = found_here(buf, warn, e);
		if (r != 0)
			return r;
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

int cfg_find(const char *option_path, const char *system_path, cfg_warn_fn *warn, char **path,
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
	r = nearest(buf, sizeof(buf), warn, e);
	if (r != 0)
		return r < 0 ? r : found_at(buf, CFG_FOUND_NEAREST, path, found, e);
	if (xdg_path(buf, sizeof(buf))) {
		r = found_here(buf, warn, e);
		if (r != 0)
			return r < 0 ? r : found_at(buf, CFG_FOUND_XDG, path, found, e);
	}
	r = system_path ? found_here(system_path, warn, e) : 0;
	if (r != 0)
		return r < 0 ? r : found_at(system_path, CFG_FOUND_SYSTEM, path, found, e);
	return 0;
}
