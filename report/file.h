/* Opening the files the tool writes (the memory log and its timeline, the JUnit, JSON and
 * HTML reports, analyze's page) where others can plant links: the runner is often root,
 * and /tmp is everyone's; and the files it reads whole, which must be regular files.
 *
 * The path is walked a folder at a time with openat: a folder that is missing is created
 * (0755) when asked; a link on the way is followed only when it could not have been planted
 * (the kernel's fs.protected_symlinks rule, which need not be on: not a link in a sticky
 * world-writable folder, or one made by us or the folder's owner); the file itself is never
 * a link (O_NOFOLLOW), and an existing file in a sticky world-writable folder must be ours
 * (or the folder owner's) and have one name (no hard link to another file). Nothing is
 * truncated here: the caller decides, once it knows what it opened. */
#ifndef WCMEM_REPORT_FILE_H
#define WCMEM_REPORT_FILE_H

#include <stdio.h>

#include "cgroup/error.h"

/* Which missing folders rep_file_open creates. */
enum rep_dirs {
	REP_DIRS_NONE,    /* none: every folder must exist */
	REP_DIRS_PARENT,  /* the file's own folder only (~/.weathercop on a first run) */
	REP_DIRS_ALL,     /* every missing folder, as mkdir -p */
};

/* Opens path for writing (O_WRONLY | extra, e.g. O_APPEND), creating it (0644) when missing.
 * A FIFO without a reader is an error (ENXIO), never a wait. Returns the descriptor
 * (O_CLOEXEC, blocking), or -errno with e saying what and where, and a hint. */
int rep_file_open(const char *path, int extra, enum rep_dirs dirs, struct wc_error *e);

/* rep_file_open that also hands back, in *folder, an O_PATH descriptor of the file's folder
 * as it was walked (close it): a file later made beside it with openat and renameat lands
 * there, even if the folder's path has since been swapped for a link. */
int rep_file_open_at(const char *path, int extra, enum rep_dirs dirs, int *folder,
		     struct wc_error *e);

/* A report file (JSON, JUnit, HTML) opened with rep_file_open, emptied when it is a regular
 * file (only once it is known to be ours), as a stdio stream in *f; path "-" is standard
 * output (a stream of its own: closing it leaves standard output open).
 * Returns 0, or -errno with e. */
int rep_file_open_report(const char *path, enum rep_dirs dirs, FILE **f, struct wc_error *e);

/* Opens path to be read whole (a config file, a log): a regular file only. A FIFO, a device
 * or a socket is refused at once (its reader could wait forever), never waited on; a folder
 * is EISDIR. Errors read "PATH: cannot read the WHAT" (what: "config file"), with a hint
 * for a file of the wrong kind (e->err 0 then). Returns the descriptor (O_CLOEXEC,
 * blocking), or -errno with e. */
int rep_file_open_read(const char *path, const char *what, struct wc_error *e);

#endif
