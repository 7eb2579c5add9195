/* Reading a whole text file: the INI loader's and the budget file's. */
#ifndef WCMEM_RUNNER_CONFIG_TEXT_H
#define WCMEM_RUNNER_CONFIG_TEXT_H

#include <stddef.h>

#include "cgroup/error.h"

/* Reads a whole text file (what: "config file", ...), NUL-terminated; a NUL inside is an
 * error at its line. Returns 0 or -errno with e filled. */
int cfg_read_text(const char *path, const char *what, char **text, size_t *len,
		  struct wc_error *e);

#endif
