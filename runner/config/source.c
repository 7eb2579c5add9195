#include "runner/config/source.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cfg_fail_at(struct cfg_loader *ld, int line, int err, const char *fmt, ...)
{
	char msg[sizeof(ld->e->msg)];
	va_list ap;

	if (ld->fail_line)
		return -EINVAL;  /* keep the first error */
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ld->fail_line = line;
	wc_fail(ld->e, err, "%s:%d: %s", ld->f->path, line, msg);
	return err ? -err : -EINVAL;
}

int cfg_wrap_at(struct cfg_loader *ld, int line, const struct wc_error *inner, const char *what)
{
	int r = cfg_fail_at(ld, line, inner->err == ENOMEM ? ENOMEM : 0, "%s%s%s",
			    what ? what : "", what ? ": " : "", inner->msg);

	if (ld->fail_line == line && inner->hint[0] && !ld->e->hint[0])
		wc_hint(ld->e, "%s", inner->hint);
	return r;
}

char *cfg_resolve_path(const struct cfg_loader *ld, const char *path)
{
	size_t dir_len = strlen(ld->f->dir);
	char *out;

	if (path[0] == '/')
		return strdup(path);
	/* The folder is canonical (no symlinks), so a leading ../ is its parent: take it off
	 * here, and "etc/../build/x" reads "build/x". Later ".." stay: they may follow a link. */
	for (;;) {
		if (strcmp(path, ".") == 0 || strncmp(path, "./", 2) == 0) {
			path += path[1] ? 2 : 1;
		} else if (strcmp(path, "..") == 0 || strncmp(path, "../", 3) == 0) {
			while (dir_len > 1 && ld->f->dir[dir_len - 1] != '/')
				dir_len--;
			if (dir_len > 1)
				dir_len--;  /* the slash, unless it is the root's */
			path += path[2] ? 3 : 2;
		} else {
			break;
		}
	}
	if (asprintf(&out, "%.*s%s%s", (int)dir_len, ld->f->dir,
		     dir_len == 1 || !*path ? "" : "/", path) < 0)
		return NULL;
	return out;
}
