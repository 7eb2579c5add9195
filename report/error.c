#include "report/error.h"

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
	}
	return -err;
}

const char *rep_error_text(const struct rep_error *e, char *buf, unsigned long size)
{
	if (e->err)
		snprintf(buf, size, "%s: %s", e->msg, strerror(e->err));
	else
		snprintf(buf, size, "%s", e->msg);
	return buf;
}
