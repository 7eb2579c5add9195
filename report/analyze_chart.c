/* What the chart of an analysis shows (analyze.h): tests as bands on one time axis, and the
 * timeline's samples, each in a fixed-size table whose neighbours merge two by two when it
 * is full, so that a log of any length fits and what is too narrow to see is merged. */
#include "report/analyze_chart.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "report/utf8.h"

void rep_chart_session(struct rep_analysis *a)
{
	if (a->sessions < REP_AN_SESSIONS_MAX) {
		a->session_start[a->sessions] = a->end;
		a->first_test[a->sessions] = -1;
		a->tests_end[a->sessions] = -1;
	}
	a->offset = a->end;
}

static void band_merge(struct rep_an_band *into, const struct rep_an_band *b)
{
	bool bigger = b->peak != REP_UNKNOWN && (into->peak == REP_UNKNOWN || b->peak > into->peak);

	/* the name shown is the killed test's, else the biggest one's */
	if ((b->oom && !into->oom) || (bigger && b->oom == into->oom))
		memcpy(into->name, b->name, sizeof(into->name));
	if (bigger)
		into->peak = b->peak;
	if (b->left != REP_UNKNOWN && (into->left == REP_UNKNOWN || b->left > into->left))
		into->left = b->left;
	if (b->limit > into->limit)
		into->limit = b->limit;
	into->t0 = into->t0 < b->t0 ? into->t0 : b->t0;
	into->t1 = into->t1 > b->t1 ? into->t1 : b->t1;
	into->n += b->n;
	into->oom |= b->oom;
}

void rep_chart_test(struct rep_analysis *a, const struct rep_an_unit *u)
{
	struct rep_an_band *b;

	if (a->nbands == REP_AN_BANDS_MAX) {
		for (size_t i = 0; i < REP_AN_BANDS_MAX / 2; i++) {
			a->bands[i] = a->bands[2 * i];
			band_merge(&a->bands[i], &a->bands[2 * i + 1]);
		}
		a->nbands = REP_AN_BANDS_MAX / 2;
	}
	b = &a->bands[a->nbands++];
	b->t0 = a->offset + (u->start_elapsed > 0 ? u->start_elapsed : 0);
	b->t1 = b->t0 + (u->duration > 0 ? u->duration : 0);
	/* the session's phases: start-up (and collection) until its first test's start, its
	 * tests until the last one's end */
	if (a->sessions && a->sessions <= REP_AN_SESSIONS_MAX) {
		size_t s = a->sessions - 1;

		if (a->first_test[s] < 0 || b->t0 < a->first_test[s])
			a->first_test[s] = b->t0;
		if (b->t1 > a->tests_end[s])
			a->tests_end[s] = b->t1;
	}
	b->peak = u->peak;
	b->left = u->left;
	b->limit = u->limit == REP_UNLIMITED ? 0 : u->limit;
	b->n = 1;
	b->oom = u->oom_seen;
	/* cut between two characters: the HTML shows it */
	snprintf(b->name, sizeof(b->name), "%.*s",
		 (int)rep_utf8_cut(u->name, sizeof(b->name) - 1), u->name);
	if (b->t1 > a->end)
		a->end = b->t1;
}

static void point_add(struct rep_analysis *a, double t, uint64_t sandbox)
{
	if (a->npoints == REP_AN_POINTS_MAX) {
		for (size_t i = 0; i < REP_AN_POINTS_MAX / 2; i++) {
			struct rep_an_point p = a->points[2 * i], q = a->points[2 * i + 1];

			a->points[i] = p.sandbox >= q.sandbox ? p : q;  /* a peak is never lost */
		}
		a->npoints = REP_AN_POINTS_MAX / 2;
	}
	a->points[a->npoints++] = (struct rep_an_point){ t, sandbox };
	if (t > a->end)
		a->end = t;
}

int rep_analysis_read_timeline(struct rep_analysis *a, FILE *f, unsigned long first_session)
{
	unsigned long session = first_session;
	double base = a->end, t = 0;
	bool first = true;
	char line[4096];

	while (fgets(line, sizeof(line), f)) {
		char *end;
		unsigned long dt;
		double mb;

		if (strncmp(line, "# session ", 10) == 0) {
			if (!first)
				session++;
			first = false;
			base = session < a->sessions && session < REP_AN_SESSIONS_MAX ?
			       a->session_start[session] : a->end;
			t = 0;
			continue;
		}
		if (line[0] < '0' || line[0] > '9')
			continue;  /* "@" lines, comments, anything a later version adds */
		dt = strtoul(line, &end, 10);
		if (*end != ' ')
			continue;
		t += (double)dt / 1000;
		mb = strtod(end + 1, &end);
		if (end > line && (*end == ' ' || *end == '\n') && mb >= 0 && mb < 1e9)
			point_add(a, base + t, (uint64_t)(mb * 1048576.0));
	}
	return ferror(f) ? -(errno ? errno : EIO) : 0;
}
