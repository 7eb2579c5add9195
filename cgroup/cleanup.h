/* Cleanup on every return by construction: a local declared with one of these attributes is
 * freed (closed) when it goes out of scope, whichever return is taken, so a function with
 * several early returns needs no hand-written close before each, nor an exit label.
 * gcc and clang both have __attribute__((cleanup)); crun and systemd use it the same way.
 *
 *     _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
 *     if (fd < 0)
 *             return wc_fail(e, errno, "open %s", path);
 *     ...
 *     *out = steal_fd(&fd);   (ownership moves to the caller: nothing is closed)
 *
 * The variable must be initialised where it is declared (NULL, -1 or the resource). A
 * return's value is computed before the cleanup runs, and the cleanup keeps errno, so
 * `return -errno;` and `wc_fail(e, errno, ...)` see the failure's own. It lives in cgroup/,
 * the bottom layer, so that every folder may use it. */
#ifndef WCMEM_CGROUP_CLEANUP_H
#define WCMEM_CGROUP_CLEANUP_H

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static inline void wc_freep(void *p)
{
	free(*(void **)p);
}

/* close(2) once, never retried on EINTR (Linux has closed the descriptor by then). */
static inline void wc_closep(int *fd)
{
	int saved = errno;

	if (*fd >= 0)
		close(*fd);
	errno = saved;
}

static inline void wc_fclosep(FILE **f)
{
	int saved = errno;

	if (*f)
		fclose(*f);
	errno = saved;
}

static inline void wc_closedirp(DIR **d)
{
	int saved = errno;

	if (*d)
		closedir(*d);
	errno = saved;
}

#define _cleanup_free_ __attribute__((cleanup(wc_freep)))
#define _cleanup_close_ __attribute__((cleanup(wc_closep)))
#define _cleanup_fclose_ __attribute__((cleanup(wc_fclosep)))
#define _cleanup_closedir_ __attribute__((cleanup(wc_closedirp)))

/* Hands the descriptor out of a _cleanup_close_ local, which then holds -1. */
static inline int steal_fd(int *fd)
{
	int out = *fd;

	*fd = -1;
	return out;
}

/* Hands the pointer out of a _cleanup_free_ (_fclose_, _closedir_) local, which then holds
 * NULL. */
#define steal_pointer(pp) \
	({ __typeof__(*(pp)) steal_out_ = *(pp); *(pp) = NULL; steal_out_; })

#endif
