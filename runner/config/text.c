#include "runner/config/text.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "report/file.h"

int cfg_read_text_fd(int fd, const char *path, const char *what, char **text, size_t *len,
		     struct wc_error *e)
{
	FILE *f = fdopen(fd, "r");
	const char *nul;
	size_t size = 0;
	ssize_t n;
	int r = 0;

	*text = NULL;
	if (!f) {
		r = wc_fail(e, errno, "%s: cannot read the %s", path, what);
		close(fd);
		return r;
	}
	n = getdelim(text, &size, '\0', f);  /* the whole file, unless it holds a NUL */
	if (n < 0 && ferror(f))
		r = wc_fail(e, errno, "%s: cannot read the %s", path, what);
	else if (n > 0 && (nul = memchr(*text, '\0', (size_t)n))) {
		int line = 1;

		for (const char *p = *text; p < nul; p++)
			line += *p == '\n';
		wc_fail(e, 0, "%s:%d: a NUL byte: this is not a text file", path, line);
		r = -EINVAL;
	}
	fclose(f);
	if (r == 0 && n < 0) {
		free(*text);
		*text = strdup("");  /* an empty file */
		n = 0;
		if (!*text)
			r = wc_fail(e, ENOMEM, "read %s", path);
	}
	if (r < 0) {
		free(*text);
		*text = NULL;
		return r;
	}
	*len = (size_t)n;
	return 0;
}

int cfg_read_text(const char *path, const char *what, char **text, size_t *len,
		  struct wc_error *e)
{
	int fd = rep_file_open_read(path, what, e);

	*text = NULL;
	return fd < 0 ? fd : cfg_read_text_fd(fd, path, what, text, len, e);
}
