/* What the chart of an analysis shows (analyze.h): tests as bands on one time axis, and the
 * timeline's samples, each in a fixed-size table whose neighbours merge two by two when it
 * is full, so that a log of any length fits and what is too narrow to see is merged. */
#include "report/analyze_chart.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "report/utf8.h"

/* The days since 1970-01-01 of a date of the proleptic Gregorian calendar (Howard
 * Hinnant's days_from_civil). */
static long days_from_civil(long y, long m, long d)
{
	long era, yoe, doy;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

double rep_chart_stamp(const char *stamp)
{
	int y, mo, d, h, mi, sec, n = 0;
	char frac[8] = "";

	if (sscanf(stamp, "%4d-%2d-%2dT%2d:%2d:%2d.%6[0-9]%n", &y, &mo, &d, &h, &mi, &sec, frac,
		   &n) != 7 || stamp[n] != '\0' || strlen(frac) != 6 || mo < 1 || mo > 12 ||
	    d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60 || h < 0 || mi < 0 || sec < 0)
		return -1;
	return (double)days_from_civil(y, mo, d) * 86400.0 + h * 3600.0 + mi * 60.0 + sec +
	       strtol(frac, NULL, 10) / 1e6;
}

double rep_chart_start(const struct rep_analysis *a, const struct rep_entry *e)
{
	double at = rep_chart_stamp(e->stamp), t = at - a->session_stamp;

	if (a->session_stamp >= 0 && at >= 0 && e->elapsed >= 0 && t >= 0 &&
	    t - e->elapsed <= 0.06 && e->elapsed - t <= 0.06)
		return t;
	return e->elapsed;
}

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
	b->t0 = a->offset + (u->chart_start > 0 ? u->chart_start : 0);
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
