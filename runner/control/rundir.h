/* The runner's private folder: $XDG_RUNTIME_DIR/wcmem-sandbox.XXXXXX, else /tmp/..., mode
 * 0700, holding the control socket and the resume file.
 *
 * A runner that is killed (SIGKILL) cannot remove it, so the next run does, but only when
 * its runner is proven dead: the folder holds a file "lock" that its runner keeps locked
 * (flock) from the folder's creation to its removal, which no other process can hold for it
 * and the kernel drops when the runner dies. The file gets its name only once locked, so a
 * folder being made is never taken for a dead one. A folder without the file (made by an
 * older runner, or not yet finished) is left alone, as before; so is one not ours (owner,
 * mode), and anything that is not a folder. */
#ifndef WCMEM_RUNNER_CONTROL_RUNDIR_H
#define WCMEM_RUNNER_CONTROL_RUNDIR_H

#include <stddef.h>

#include "cgroup/error.h"

#define RUN_DIR_PREFIX "wcmem-sandbox."

/* Creates the folder in parent (dir: its path, size bytes) and locks it (*lockfd: keep it
 * open while the folder lives; close it after removing the folder). Returns 0 or -errno. */
int run_dir_create(const char *parent, char *dir, size_t size, int *lockfd,
		   struct wc_error *e);

/* Removes the folder dir that run_dir_create made (once its other files are gone), then
 * lets go of its lock: until the folder is gone, it is never taken for a dead runner's. */
void run_dir_remove(const char *dir, int lockfd);

/* Removes the folders in parent of runners that died, leaving every other one. Returns how
 * many were removed. */
int run_dir_sweep(const char *parent);

#endif
