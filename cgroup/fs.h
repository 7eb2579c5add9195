/* Small cgroupfs file helpers shared by the two backends (private to cgroup/). */
#ifndef WCMEM_CGROUP_FS_H
#define WCMEM_CGROUP_FS_H

#include <stddef.h>
#include <stdint.h>

#include "cgroup/error.h"

/* Reads a whole small file at dirfd/name into buf (NUL-terminated). Returns the length or -errno. */
int cg_fs_read_at(int dirfd, const char *name, char *buf, size_t size);

/* Reads from an open descriptor at offset 0 (pread), NUL-terminated. Returns length or -errno. */
int cg_fs_pread(int fd, char *buf, size_t size);

/* Writes text to dirfd/name in one write(2). Returns 0 or -errno (the kernel's refusal). */
int cg_fs_write_at(int dirfd, const char *name, const char *text);

/* Writes text to an open descriptor in one write(2). Returns 0 or -errno. */
int cg_fs_write_fd(int fd, const char *text);

/* Opens dirfd/name with O_CLOEXEC and flags. Returns the fd or -errno. */
int cg_fs_open_at(int dirfd, const char *name, int flags);

/* Closes *fd when >= 0 and sets it to -1. */
void cg_fs_close(int *fd);

#endif
