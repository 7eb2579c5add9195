/* The error record that every layer fills and only the runner's top level prints.
 *
 * Library functions never print: they return -errno and describe what they were doing
 * here ("write /sys/fs/cgroup/.../memory.max"), so the runner prints one line and tests
 * can check the text. It lives in cgroup/, the bottom layer, so that the cgroup code and
 * everything above it speak of failure in the same words.
 *
 * wc_fail and wc_wrap take a NULL e, fill nothing and return the same -errno; so does a
 * function that only hands e to them (all of cgroup/, the session's units), and a caller
 * that ignores the text passes NULL. A function that reads e back (its errno, its text)
 * says so and wants a record. */
#ifndef WCMEM_CGROUP_ERROR_H
#define WCMEM_CGROUP_ERROR_H

#include <stdarg.h>

struct wc_error {
	int err;        /* positive errno, 0 for a bad input (no strerror part) */
	char msg[512];  /* what was being done, without the strerror part */
	char hint[512]; /* what the user can do about it, or "" */
};

/* Fills e (when not NULL) with err, the message and no hint. err is a positive errno, or 0
 * for a bad input. Returns -err, or -EINVAL when err is 0. */
int wc_fail(struct wc_error *e, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int wc_failv(struct wc_error *e, int err, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

/* Adds what the user can do to an error wc_fail filled. Returns -e->err (-EINVAL for 0). */
int wc_hint(struct wc_error *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Hands an inner error up with the context of the caller, as crun_error_wrap does:
 * e gets "context: inner's message" (inner's message alone when fmt is NULL), inner's errno
 * and inner's hint, which would otherwise be lost. e may be inner itself. When e is NULL
 * nothing is filled. Returns what wc_fail returns for inner's errno. */
int wc_wrap(struct wc_error *e, const struct wc_error *inner, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Formats "msg: strerror(err)" (or msg alone when err is 0), and the hint on a line of its
 * own when there is one, into buf. Returns buf. */
const char *wc_error_text(const struct wc_error *e, char *buf, unsigned long size);

#endif
