/* Whether the cgroup to build in can take the sandbox at all, asked before trying: an
 * unprivileged user may then ask systemd for a cgroup of its own (runner/session/scope.h). */
#ifndef WCMEM_CGROUP_ROOM_H
#define WCMEM_CGROUP_ROOM_H

#include "cgroup/cgroup.h"

/* 1 when we may make cgroups in h->base, 0 when it is not ours to write (EACCES, EPERM),
 * -errno when it cannot be told (a read-only mount is -EROFS: no one can help there). */
int cg_base_writable(const struct cg_hier *h);

/* 1 when other processes than ours live in our own cgroup and it is the base: cgroup v2 then
 * never lets it hand the memory controller down (no internal processes), as in a desktop
 * application's scope that the runner was started from. 0 when not, -errno. */
int cg_base_shared(const struct cg_hier *h);

#endif
