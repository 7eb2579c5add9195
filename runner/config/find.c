/* Finding the config file: the first of --config FILE, $WCMEM_SANDBOX_CONFIG,
 * wcmem-sandbox.ini (else our section of pytest.ini, tox.ini or setup.cfg: shared.h) here or
 * in the nearest parent up to the project's root (a project's file, as with .editorconfig or
 * setup.cfg), the user's $XDG_CONFIG_HOME/wcmem-sandbox/config.ini, /etc/wcmem-sandbox.ini.
 * A file the search finds is read only when it may be trusted (trust.h); one that may not
 * is passed over with a warning, as if it were not there. */
#include "runner/config/config.h"
#include "runner/config/shared.h"
#include "runner/config/trust.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

/* The most of a shared file looked through for our section: such files are small, and one
 * that another user may write must not make us read without end. */
#define PEEK_MAX (1 << 20)

/* Whether the regular file open on fd holds one of our sections (shared.h) in its first
 * PEEK_MAX bytes. Returns 1 or 0, or -errno with e; fd is closed. */
static int peek_section(int fd, const char *path, struct wc_error *e)
{
	struct stat st;
	size_t size, n = 0;
	ssize_t got;
	char *buf = NULL;
	int r = 0;

	if (fstat(fd, &st) < 0)
		r = -errno;
	else if (!S_ISREG(st.st_mode))  /* a FIFO put there since lstat */
		r = -EINVAL;
	if (r < 0) {
		wc_fail(e, -r, "%s: look for [%s]", path, CFG_SHARED_SECTION);
		goto out;
	}
	size = st.st_size < PEEK_MAX ? (size_t)st.st_size : PEEK_MAX;
	buf = malloc(size + 1);
	if (!buf) {
		r = wc_fail(e, ENOMEM, "%s: look for [%s]", path, CFG_SHARED_SECTION);
		goto out;
	}
	while (n < size && (got = read(fd, buf + n, size - n)) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			r = wc_fail(e, errno, "%s: look for [%s]", path, CFG_SHARED_SECTION);
			goto out;
		}
		n += (size_t)got;
	}
	r = cfg_shared_has_section(buf, n);
out:
	free(buf);
	close(fd);
	return r;
}

/* A shared file that may not be trusted is worth a warning only when it holds our section:
 * another user's tox.ini is no concern of ours. One we cannot safely look into (a link, not
 * a regular file) is named all the same. Returns 1 (warn) or 0. */
static int untrusted_is_ours(const char *path)
{
	struct wc_error ignored = { 0 };
	struct stat st;
	int fd;

	if (lstat(path, &st) < 0)
		return 0;
	if (!S_ISREG(st.st_mode))
		return 1;  /* never opened: a device's open may act */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return errno != ENOENT;
	return peek_section(fd, path, &ignored) != 0;
}

/* found_here for a shared file: 1 when it may be read and holds our section, 0 when it is
 * not there, not ours, or not read (warn says why when it holds our section), -errno with
 * e when we cannot tell. One we may not read is another tool's business, not ours. */
static int shared_here(const char *path, cfg_warn_fn *warn, struct wc_error *e)
{
	struct wc_error why = { 0 };
	int fd = cfg_open_trusted(path, &why);

	if (fd == -ENOENT || fd == -EACCES)
		return 0;
	if (fd == -EPERM) {
		if (warn && untrusted_is_ours(path))
			warn(&why);
		return 0;
	}
	if (fd < 0) {
		*e = why;
		return fd;
	}
	return peek_section(fd, path, e);
}

/* Whether dir is a project's root: it holds .git (a folder; a file in a worktree or a
 * submodule) or .hg. The search stops there, as editorconfig's `root = true` and pytest's
 * rootdir do: a file above the project (a stray one in HOME or /tmp) is not the project's. */
static bool project_root(const char *dir)
{
	static const char *const marks[] = { ".git", ".hg" };
	char path[PATH_MAX];
	struct stat st;

	for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
		if (snprintf(path, sizeof(path), "%s/%s", strcmp(dir, "/") ? dir : "", marks[i]) <
		    (int)sizeof(path) && lstat(path, &st) == 0)
			return true;
	}
	return false;
}

/* dir/name into buf. Returns 0, or -ENAMETOOLONG with e. */
static int in_dir(char *buf, size_t size, const char *dir, const char *name,
		  struct wc_error *e)
{
	if (snprintf(buf, size, "%s/%s", strcmp(dir, "/") ? dir : "", name) >= (int)size)
		return wc_fail(e, ENAMETOOLONG, "find %s in %s", name, dir);
	return 0;
}

/* The config file of the folder dir, into buf: its wcmem-sandbox.ini, else the first of its
 * shared files (shared.h) that holds our section. Returns 1, 0 when none, or -errno. */
static int in_folder(char *buf, size_t size, const char *dir, cfg_warn_fn *warn,
		     struct wc_error *e)
{
	int r = in_dir(buf, size, dir, CFG_NEAREST_NAME, e);

	if (r == 0)
		r = found_here(buf, warn, e);
	for (const char *const *n = cfg_shared_names; r == 0 && *n; n++) {
		r = in_dir(buf, size, dir, *n, e);
		if (r == 0)
			r = shared_here(buf, warn, e);
	}
	return r;
}

/* The config file of the current folder or the nearest parent that has one we read, up to
 * the project's root at most. */
static int nearest(char *buf, size_t size, cfg_warn_fn *warn, struct wc_error *e)
{
	char dir[PATH_MAX], *slash;
	int r;

	if (!getcwd(dir, sizeof(dir)))
		return wc_fail(e, errno, "find %s: getcwd", CFG_NEAREST_NAME);
	for (;;) {
		r = in_folder(buf, size, dir, warn, e);
		if (r != 0)
			return r;
		if (strcmp(dir, "/") == 0 || project_root(dir))
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
