/* The error record that library code fills and only the runner's top level prints.
 *
 * Library functions never print: they return -errno and describe what they were doing
 * here ("write /sys/fs/cgroup/.../memory.max"), so the runner prints one line and tests
 * can check the text. */
#ifndef WCMEM_REPORT_ERROR_H
#define WCMEM_REPORT_ERROR_H

struct rep_error {
	int err;        /* positive errno, 0 when nothing failed */
	char msg[512];  /* what was being done, without the strerror part */
	char hint[512]; /* what the user can do about it, or "" */
};

/* Fills e (when not NULL) and returns -err. err is a positive errno. */
int rep_fail(struct rep_error *e, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Adds what the user can do to an error rep_fail filled. Returns -e->err. */
int rep_hint(struct rep_error *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Formats "msg: strerror(err)" (or msg alone when err is 0), and the hint on a line of its
 * own when there is one, into buf. Returns buf. */
const char *rep_error_text(const struct rep_error *e, char *buf, unsigned long size);

#endif
