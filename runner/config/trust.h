/* Whether a config file that the search found may be read: as git does for repositories it
 * does not own, a file that another user could have put or changed there is not obeyed.
 * The runner is often root, and a parent folder (/tmp, a shared project folder) or a HOME
 * left in the environment may hold someone else's wcmem-sandbox.ini, whose suite commands
 * would then run as root and whose paths would be written as root. */
#ifndef WCMEM_RUNNER_CONFIG_TRUST_H
#define WCMEM_RUNNER_CONFIG_TRUST_H

#include "cgroup/error.h"

/* Opens path, found by the search, to read it: a regular file owned by us (the effective
 * user) or root, that no one else may write (neither others nor a group other than our
 * effective one); a symbolic link there must be ours or root's too. Never waits on a FIFO.
 * Returns the descriptor (O_RDONLY, O_CLOEXEC); -ENOENT when there is nothing there;
 * -EPERM with e naming the file and why it is not read (not trusted, or not a regular
 * file); another -errno with e when it cannot be looked at. */
int cfg_open_trusted(const char *path, struct wc_error *e);

#endif
