#include "cgroup/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int ret(int err)
{
	return err ? -err : -EINVAL;
}

int wc_failv(struct wc_error *e, int err, const char *fmt, va_list ap)
{
	if (e) {
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		e->err = err;
		e->hint[0] = '\0';
	}
	return ret(err);
}

int wc_fail(struct wc_error *e, int err, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = wc_failv(e, err, fmt, ap);
	va_end(ap);
	return r;
}

int wc_hint(struct wc_error *e, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return -EIO;
	va_start(ap, fmt);
	vsnprintf(e->hint, sizeof(e->hint), fmt, ap);
	va_end(ap);
	return ret(e->err);
}

int wc_wrap(struct wc_error *e, const struct wc_error *inner, const char *fmt, ...)
{
	char context[sizeof(e->msg)], msg[sizeof(e->msg)], hint[sizeof(e->hint)];
	int err = inner->err;
	va_list ap;

	if (!e)
		return ret(err);
	/* Copies first: e may be inner. */
	snprintf(msg, sizeof(msg), "%s", inner->msg);
	snprintf(hint, sizeof(hint), "%s", inner->hint);
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(context, sizeof(context), fmt, ap);
		va_end(ap);
		snprintf(e->msg, sizeof(e->msg), "%s: %s", context, msg);
	} else {
		snprintf(e->msg, sizeof(e->msg), "%s", msg);
	}
	snprintf(e->hint, sizeof(e->hint), "%s", hint);
	e->err = err;
	return ret(err);
}

const char *wc_error_text(const struct wc_error *e, char *buf, unsigned long size)
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
