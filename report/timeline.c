/* The memory timeline's lines (timeline.h). */
#include "report/timeline.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "report/verdict.h"

/* Appends with snprintf; *len grows, and stays past size once the buffer is full. */
static void add(char *buf, size_t size, size_t *len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void add(char *buf, size_t size, size_t *len, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*len >= size) {
		*len = size;
		return;
	}
	va_start(ap, fmt);
	n = vsnprintf(buf + *len, size - *len, fmt, ap);
	va_end(ap);
	*len = n < 0 || (size_t)n >= size - *len ? size : *len + (size_t)n;
}

/* MiB with one decimal, as the log has it, without the unit: "20.4", or "?". */
static void add_mb(char *buf, size_t size, size_t *len, uint64_t bytes)
{
	char mb[32];

	if (bytes == REP_UNKNOWN) {
		add(buf, size, len, " ?");
		return;
	}
	rep_format_mb(bytes, mb, sizeof(mb));
	mb[strcspn(mb, " ")] = '\0';
	add(buf, size, len, " %s", mb);
}

int rep_timeline_format_head(char *buf, size_t size, const struct rep_session *s,
			     uint64_t interval_ns)
{
	char stamp[32], limit[32];
	size_t len = 0;
	struct tm tm;

	if (!localtime_r(&s->start.tv_sec, &tm) ||
	    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		snprintf(stamp, sizeof(stamp), "@%lld", (long long)s->start.tv_sec);
	rep_format_mb(s->limit, limit, sizeof(limit));
	add(buf, size, &len, "# wcmem-sandbox timeline 1: DT_MS SANDBOX_MB UNIT_MB...; "
	    "\"@ uN...\" names the units\n");
	add(buf, size, &len, "# session %s.%06ld limit %s interval %llu ms\n", stamp,
	    s->start.tv_nsec / 1000, limit, (unsigned long long)(interval_ns / 1000000));
	return len >= size ? -ENOSPC : (int)len;
}

static bool same_units(const struct rep_tl_state *st, const struct rep_tl_unit *units,
		       size_t n)
{
	if (!st->written || st->n != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (strncmp(st->names[i], units[i].name, REP_TL_NAME_MAX) != 0)
			return false;
	return true;
}

int rep_timeline_format_sample(char *buf, size_t size, struct rep_tl_state *st,
			       unsigned long dt_ms, uint64_t sandbox,
			       const struct rep_tl_unit *units, size_t n)
{
	bool changed;
	size_t len = 0;

	if (n > REP_TL_UNITS_MAX)
		n = REP_TL_UNITS_MAX;
	changed = !same_units(st, units, n);
	if (changed) {
		add(buf, size, &len, "@");
		for (size_t i = 0; i < n; i++)
			add(buf, size, &len, " %.*s", REP_TL_NAME_MAX - 1, units[i].name);
		add(buf, size, &len, "\n");
	}
	add(buf, size, &len, "%lu", dt_ms);
	add_mb(buf, size, &len, sandbox);
	for (size_t i = 0; i < n; i++)
		add_mb(buf, size, &len, units[i].current);
	add(buf, size, &len, "\n");
	if (len >= size)
		return -ENOSPC;
	if (changed) {
		for (size_t i = 0; i < n; i++)
			snprintf(st->names[i], REP_TL_NAME_MAX, "%s", units[i].name);
		st->n = n;
		st->written = 1;
	}
	return (int)len;
}
