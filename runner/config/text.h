/* Reading a whole text file: the INI loader's and the budget file's. */
#ifndef WCMEM_RUNNER_CONFIG_TEXT_H
#define WCMEM_RUNNER_CONFIG_TEXT_H

#include <stddef.h>

#include "cgroup/error.h"

/* Reads a whole text file (what: "config file", ...), NUL-terminated; a NUL inside is an
 * error at its line. A regular file only: a FIFO or a device is refused at once, never
 * waited on (rep_file_open_read). Returns 0 or -errno with e filled. */
int cfg_read_text(const char *path, const char *what, char **text, size_t *len,
		  struct wc_error *e);

/* cfg_read_text on fd, open on path; fd is closed. */
int cfg_read_text_fd(int fd, const char *path, const char *what, char **text, size_t *len,
		     struct wc_error *e);

#endif
