#include "cgroup/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int rep_fail(struct rep_error *e, int err, const char *fmt, ...)
{
	if (e) {
		va_list ap;

		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
		e->err = err;
		e->hint[0] = '\0';
	}
	return -err;
}

int rep_hint(struct rep_error *e, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return -EIO;
	va_start(ap, fmt);
	vsnprintf(e->hint, sizeof(e->hint), fmt, ap);
	va_end(ap);
	return -e->err;
}

const char *rep_error_text(const struct rep_error *e, char *buf, unsigned long size)
{
	int n;

	if (e->err)
		n = snprintf(buf, size, "%s: %s", e->msg, strerror(e->err));
	else
		n = snprintf(buf, size, "%s", e->msg);
	if (e->hint[0] && n >= 0 && (size_t)n < size)
		snprintf(buf + n, size - (size_t)n, "\n  %s", e->hint);
	return buf;
}
