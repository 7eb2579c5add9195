/* The analysis of a run from its records (analyze_records.h). */
#include "report/analyze_records.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "report/analyze.h"
#include "report/logread.h"

/* An entry grows with the name (escaped up to 4 bytes a byte); the log's writer refuses
 * past this too. */
#define ENTRY_MAX (16u << 20)

/* One entry of the log to be: a unit's start or end, at seconds since the session began. */
struct event {
	double at;
	size_t unit;
	bool end;
};

/* Time order. At the same time: a unit's start before its own end; one unit's end before
 * another's start (suites one after another); starts in the order units began, ends in the
 * reverse (a test ends before the command around it). */
static int by_time(const void *pa, const void *pb)
{
	const struct event *a = pa, *b = pb;
	int order = (a->unit > b->unit) - (a->unit < b->unit);

	if (a->at != b->at)
		return a->at < b->at ? -1 : 1;
	if (a->unit == b->unit)
		return a->end - b->end;
	if (a->end != b->end)
		return a->end ? -1 : 1;
	return a->end ? -order : order;
}

/* What the formatting and reading share: a buffer that grows to the largest entry, and
 * the reader. */
struct feed {
	struct rep_analysis *a;
	struct rep_logread r;
	struct rep_entry e;
	char *buf;
	size_t size;
};

/* The end's wall-clock time, for its stamp. */
static struct timespec end_time(const struct rep_unit *u)
{
	struct timespec t = u->start;
	double d = u->duration > 0 ? u->duration : 0;
	long long ns = (long long)t.tv_nsec + (long long)((d - (double)(long long)d) * 1e9);

	t.tv_sec += (time_t)d + (time_t)(ns / 1000000000);
	t.tv_nsec = (long)(ns % 1000000000);
	return t;
}

/* Formats one entry (the unit's start or end, or the session's when u is NULL) into the
 * buffer. Returns its length, or -ENOMEM. */
static int format(struct feed *fe, const struct rep_session *s, const struct rep_unit *u,
		  bool end)
{
	for (;;) {
		struct timespec now;
		int n = -ENOSPC;

		if (fe->size && !u) {
			now = s->start;
			now.tv_sec += (time_t)s->elapsed;
			n = end ? rep_log_format_session_end(fe->buf, fe->size, s, &now) :
				  rep_log_format_session_start(fe->buf, fe->size, s);
		} else if (fe->size) {
			now = end_time(u);
			n = end ? rep_log_format_unit_end(fe->buf, fe->size, u, &now,
							 u->start_elapsed + u->duration) :
				  rep_log_format_unit_start(fe->buf, fe->size, u);
		}
		if (n != -ENOSPC)
			return n < 0 ? -ENOMEM : n;
		/* Entries are bounded by what the records keep: the buffer stays small. */
		size_t size = fe->size ? fe->size * 2 : 8192;
		char *buf = size <= ENTRY_MAX ? realloc(fe->buf, size) : NULL;

		if (!buf)
			return -ENOMEM;
		fe->buf = buf;
		fe->size = size;
	}
}

/* Reads the entry in the buffer back, line by line, into the analysis. */
static void read_back(struct feed *fe, size_t len)
{
	const char *p = fe->buf, *end = fe->buf + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (rep_logread_line(&fe->r, p, n, nl != NULL, &fe->e))
			rep_analysis_entry(fe->a, &fe->e);
		p += n + (nl ? 1 : 0);
	}
}

static int entry(struct feed *fe, const struct rep_session *s, const struct rep_unit *u,
		 bool end)
{
	int n = format(fe, s, u, end);

	if (n < 0)
		return n;
	read_back(fe, (size_t)n);
	return 0;
}

int rep_analysis_records(struct rep_analysis *a, const struct rep_unit *units, size_t n,
			 const struct rep_session *s, const char *log)
{
	struct event *ev = n ? calloc(2 * n, sizeof(*ev)) : NULL;
	struct feed fe = { .a = a };
	int r;

	if (n && !ev)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		ev[2 * i] = (struct event){ units[i].start_elapsed, i, false };
		ev[2 * i + 1] = (struct event){ units[i].start_elapsed + units[i].duration, i,
						 true };
	}
	if (n)
		qsort(ev, 2 * n, sizeof(*ev), by_time);
	rep_analysis_begin_log(a, log);
	rep_logread_init(&fe.r);
	r = entry(&fe, s, NULL, false);
	for (size_t i = 0; r == 0 && i < 2 * n; i++)
		r = entry(&fe, s, &units[ev[i].unit], ev[i].end);
	if (r == 0)
		r = entry(&fe, s, NULL, true);
	if (r == 0 && rep_logread_finish(&fe.r, &fe.e))
		rep_analysis_entry(a, &fe.e);
	free(fe.buf);
	free(ev);
	return r;
}
