/* The chart of the analysis' page (html_chart.h), drawn the way a profiler draws a
 * timeline: memory over time with round ticks; the limits as dashed lines labelled in a
 * column of their own right of the plot, where no test's band can cover them; under the
 * time axis a row of each session's phases (start-up and collection until its first test,
 * then tests), and a track of the tests, a box each, in up to LANES lanes. A box is never
 * narrower than MIN_W: tests that started within the same pixel stand side by side (moved
 * right by at most PUSH_MAX) or in lanes of their own, in alternating shades, each with a
 * tooltip (name, start, duration, peak) and its name written in it where there is room. */
#include "report/html_chart.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "report/axis.h"
#include "report/utf8.h"
#include "report/verdict.h"

/* The geometry, in SVG user units (CSS pixels at zoom 1); etc/analyze.md documents it. */
#define SVG_W    1000
#define PLOT_X0  70
#define PLOT_X1  880
#define PLOT_Y0  20
#define PLOT_Y1  300
#define LABEL_X  (PLOT_X1 + 6)  /* the limits' labels */
#define LABEL_H  26             /* a label's two lines */
#define PHASE_Y  324            /* the phases' row */
#define ROW_H    14
#define TRACK_Y  344            /* the tests' track, LANES rows at most */
#define LANES    4
#define MIN_W    4.0            /* the narrowest box of the track */
#define PUSH_MAX (3 * MIN_W)    /* the most a box moves right of its start to stand apart */
#define CHAR_W   6.5            /* a character of the 10 px font, wide ones included */
#define TICKS_MAX 30            /* an axis has about 5 to 10; a bound all the same */

void rep_html_esc(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*s, f);
		}
	}
}

const char *rep_html_mb(uint64_t bytes, char buf[32])
{
	if (bytes == REP_UNKNOWN)
		snprintf(buf, 32, "unknown");
	else
		rep_format_mb(bytes, buf, 32);
	return buf;
}

struct scale {
	struct rep_axis x, y;
};

static double sx(const struct scale *k, double t)
{
	double end = k->x.top * k->x.scale;

	return PLOT_X0 + (PLOT_X1 - PLOT_X0) * (end > 0 ? t / end : 0);
}

static double sy(const struct scale *k, uint64_t bytes)
{
	double v = bytes == REP_UNKNOWN ? 0 : (double)bytes, top = k->y.top * k->y.scale;

	return PLOT_Y1 - (PLOT_Y1 - PLOT_Y0) * (top > 0 ? v / top : 0);
}

static uint64_t test_limit(const struct rep_analysis *a)
{
	uint64_t lim = 0;

	for (size_t i = 0; i < a->nbands; i++)
		if (a->bands[i].limit > lim)
			lim = a->bands[i].limit;
	return lim;
}

static struct scale scale_of(const struct rep_analysis *a)
{
	double top = 1 << 20;
	uint64_t lim = test_limit(a);
	struct scale k;

	for (size_t i = 0; i < a->nbands; i++)
		if (a->bands[i].peak != REP_UNKNOWN && (double)a->bands[i].peak > top)
			top = (double)a->bands[i].peak;
	for (size_t i = 0; i < a->npoints; i++)
		if ((double)a->points[i].sandbox > top)
			top = (double)a->points[i].sandbox;
	if (a->sandbox_limit && a->sandbox_limit != REP_UNLIMITED && (double)a->sandbox_limit > top)
		top = (double)a->sandbox_limit;
	if (lim && (double)lim > top)
		top = (double)lim;
	k.y = rep_axis_bytes(top);
	k.x = rep_axis_seconds(a->end > 0 ? a->end : 1);
	return k;
}

/* The plot's frame: its ground first, its outline last, over what touches the edges. */
static void frame(FILE *f, bool outline)
{
	fprintf(f, "<rect class=\"%s\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
		"fill=\"%s\" stroke=\"%s\" shape-rendering=\"crispEdges\"/>\n",
		outline ? "frame" : "ground", PLOT_X0, PLOT_Y0, PLOT_X1 - PLOT_X0,
		PLOT_Y1 - PLOT_Y0, outline ? "none" : "#fff", outline ? "#999" : "none");
}

/* The ticks at round steps (axis.h), and the sizes' grid lines. */
static void ticks(FILE *f, const struct scale *k)
{
	char m[32];

	for (int i = 0; i <= TICKS_MAX && i * k->y.step <= k->y.top * (1 + 1e-9); i++) {
		double y = sy(k, (uint64_t)(i * k->y.step * k->y.scale + 0.5));

		if (i > 0 && i * k->y.step < k->y.top * (1 - 1e-9))
			fprintf(f, "<line class=\"grid\" x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" "
				"stroke=\"#eee\" shape-rendering=\"crispEdges\"/>\n", PLOT_X0 + 1,
				PLOT_X1 - 1, y, y);
		fprintf(f, "<text class=\"ytick\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
			PLOT_X0 - 4, y + 4, rep_axis_label(&k->y, i, m, sizeof(m)));
	}
	for (int i = 0; i <= TICKS_MAX && i * k->x.step <= k->x.top * (1 + 1e-9); i++) {
		double x = sx(k, i * k->x.step * k->x.scale);

		fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"#999\"/>"
			"<text class=\"xtick\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n",
			x, x, PLOT_Y1, PLOT_Y1 + 4, x, PLOT_Y1 + 15,
			rep_axis_label(&k->x, i, m, sizeof(m)));
	}
}

struct limit {
	uint64_t bytes;
	const char *what, *colour;
	double y;          /* the line's */
	double label_y;    /* the label's middle */
};

static void limit_line(FILE *f, const struct limit *l)
{
	char m[32];

	fprintf(f, "<line class=\"limit\" x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
		"stroke-dasharray=\"6 4\"/>\n<text class=\"limit-label\" x=\"%d\" y=\"%.1f\" "
		"fill=\"%s\"><tspan x=\"%d\">%s</tspan><tspan x=\"%d\" dy=\"12\">%s</tspan></text>\n",
		PLOT_X0, PLOT_X1 + 4, l->y, l->y, l->colour, LABEL_X, l->label_y - 2, l->colour,
		LABEL_X, l->what, LABEL_X, rep_html_mb(l->bytes, m));
}

/* The sandbox's and the tests' limit, each labelled beside the plot at its height; two
 * labels too close to read are moved apart, the higher one up. */
static void limits(FILE *f, const struct scale *k, const struct rep_analysis *a)
{
	struct limit l[2];
	uint64_t t = test_limit(a);
	size_t n = 0;

	if (a->sandbox_limit && a->sandbox_limit != REP_UNLIMITED)
		l[n++] = (struct limit){ a->sandbox_limit, "sandbox limit", "#e6550d", 0, 0 };
	if (t && t != REP_UNLIMITED && t != a->sandbox_limit)
		l[n++] = (struct limit){ t, "test limit", "#756bb1", 0, 0 };
	for (size_t i = 0; i < n; i++)
		l[i].y = l[i].label_y = sy(k, l[i].bytes);
	if (n == 2 && l[1].y - l[0].y < LABEL_H && l[0].y - l[1].y < LABEL_H) {
		size_t hi = l[0].y < l[1].y ? 0 : 1;
		double mid = (l[0].y + l[1].y) / 2;

		l[hi].label_y = mid - LABEL_H / 2;
		l[1 - hi].label_y = mid + LABEL_H / 2;
	}
	for (size_t i = 0; i < n; i++) {
		if (l[i].label_y < PLOT_Y0 - 8)
			l[i].label_y = PLOT_Y0 - 8;
		limit_line(f, &l[i]);
	}
}

static void band(FILE *f, const struct scale *k, const struct rep_an_band *b, size_t i)
{
	double x0 = sx(k, b->t0), x1 = sx(k, b->t1), w = x1 - x0 < 2 ? 2 : x1 - x0;
	double y = sy(k, b->peak), mw = w < 6 ? 6 : w, mx = x0 + w / 2 - mw / 2;
	char p[32], l[32];

	/* inside the plot, however short the test at its edge */
	x0 = x0 + w > PLOT_X1 ? PLOT_X1 - w : x0;
	mx = mx + mw > PLOT_X1 ? PLOT_X1 - mw : mx < PLOT_X0 ? PLOT_X0 : mx;

	/* An OOM kill: the band in red, and a red marker the plot's height, wide enough to see
	 * however short the test was, and red enough (45 % over white: #ed9e9e) to stay red where
	 * a neighbour's band or the memory line crosses it. */
	if (b->oom)
		fprintf(f, "<rect class=\"oom-marker\" id=\"oom-%zu\" x=\"%.1f\" y=\"%d\" "
			"width=\"%.1f\" height=\"%d\" fill=\"#d62728\" fill-opacity=\"0.45\"/>\n", i,
			mx, PLOT_Y0, mw, PLOT_Y1 - PLOT_Y0);
	fprintf(f, "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
		"fill=\"%s\"><title>", b->oom ? "test oom" : "test", x0, y, w, PLOT_Y1 - y,
		b->oom ? "#d62728" : i % 2 ? "#4292c6" : "#6baed6");
	rep_html_esc(f, b->name);
	if (b->n > 1)
		fprintf(f, " (the biggest of %lu tests here)", b->n);
	fprintf(f, "\npeak %s\n%s\nleft behind %s</title></rect>\n", rep_html_mb(b->peak, p),
		b->oom ? "OOM-killed" : "not OOM-killed", rep_html_mb(b->left, l));
}

/* One phase of a session in the phases' row, labelled with the longest of its names that
 * fits; the session's start-up is also shaded on the plot. */
static void phase(FILE *f, const struct scale *k, double t0, double t1,
		  const char *const names[2], const char *fill, bool shade)
{
	double x0 = sx(k, t0), w = sx(k, t1) - x0;

	if (!(w > 0.05))
		return;
	if (shade)
		fprintf(f, "<rect class=\"startup\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" "
			"fill=\"#fbf1e1\"/>\n", x0, PLOT_Y0 + 1, w, PLOT_Y1 - PLOT_Y0 - 1);
	fprintf(f, "<rect class=\"phase\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" "
		"fill=\"%s\"><title>%s: %.3f s to %.3f s</title></rect>\n", x0, PHASE_Y, w, ROW_H,
		fill, names[0], t0, t1);
	for (int i = 0; i < 2 && names[i]; i++)
		if ((double)strlen(names[i]) * CHAR_W + 6 <= w) {
			fprintf(f, "<text class=\"phase-label\" x=\"%.1f\" y=\"%.1f\" font-size=\"10\">"
				"%s</text>\n", x0 + 3, PHASE_Y + 10.5, names[i]);
			break;
		}
}

/* Each session's phases: until its first test started, the command's start-up and
 * pytest's collection (the log does not say where one ends and the other begins), then
 * its tests, then what runs after the last one (pytest's summary, the exit). */
static void phases(FILE *f, const struct scale *k, const struct rep_analysis *a)
{
	static const char *const startup[2] = { "start-up and collection", "start-up" };
	static const char *const tests[2] = { "tests", NULL };
	static const char *const after[2] = { "after the tests", "after" };
	static const char *const none[2] = { "no tests", NULL };
	size_t n = a->sessions < REP_AN_SESSIONS_MAX ? a->sessions : REP_AN_SESSIONS_MAX;

	for (size_t s = 0; s < n; s++) {
		double t0 = a->session_start[s], t1 = s + 1 < n ? a->session_start[s + 1] : a->end;
		double first = a->first_test[s];

		if (first < 0) {
			phase(f, k, t0, t1, none, "#eeeeee", true);
			continue;
		}
		phase(f, k, t0, first, startup, "#fdd49e", true);
		phase(f, k, first, a->tests_end[s], tests, "#c6dbef", false);
		phase(f, k, a->tests_end[s], t1, after, "#e5f5e0", false);
	}
}

/* A test's box on the track, placed by layout(). */
struct box {
	double t0, x, w;
	size_t band;
	int lane, shade;
};

static int by_start(const void *pa, const void *pb)
{
	const struct box *a = pa, *b = pb;

	if (a->t0 != b->t0)
		return a->t0 < b->t0 ? -1 : 1;
	return (a->band > b->band) - (a->band < b->band);
}

/* The first lane free by x + PUSH_MAX (a box there moves right at most that far), else
 * the one that frees first. */
static int lane_for(const double end[LANES], double x)
{
	int first = 0;

	for (int l = 0; l < LANES; l++) {
		if (end[l] <= x + PUSH_MAX)
			return l;
		if (end[l] < end[first])
			first = l;
	}
	return first;
}

/* Places the boxes in start order: each in the first lane whose last box ends at most
 * PUSH_MAX after its start, right after that box when it ends after the start; else in the
 * lane that frees first, at its start, over what is there. A box that reaches into the next
 * start by no more than the log's rounding of durations is cut there. Returns the lanes
 * used. */
static int layout(const struct scale *k, const struct rep_analysis *a, struct box *bx)
{
	/* a Duration of the log is rounded to a tenth of a second: up to 0.05 s too long */
	double end[LANES], slack = sx(k, 0.05) - sx(k, 0) + 0.01;
	size_t last[LANES];
	int count[LANES] = { 0 }, used = 0;

	for (size_t i = 0; i < a->nbands; i++)
		bx[i] = (struct box){ .t0 = a->bands[i].t0, .band = i };
	if (a->nbands)  /* bx may be NULL then: qsort takes no NULL */
		qsort(bx, a->nbands, sizeof(*bx), by_start);
	for (int l = 0; l < LANES; l++)
		end[l] = -1e9;
	for (size_t i = 0; i < a->nbands; i++) {
		const struct rep_an_band *b = &a->bands[bx[i].band];
		double x0 = sx(k, b->t0), w = sx(k, b->t1) - x0;
		int lane;

		/* a box that reaches past this start by no more than its rounding ends there */
		for (int l = 0; l < LANES; l++)
			if (count[l] && end[l] > x0 && end[l] - x0 <= slack &&
			    bx[last[l]].x + bx[last[l]].w >= end[l] && x0 - bx[last[l]].x >= MIN_W)
				end[l] = x0, bx[last[l]].w = x0 - bx[last[l]].x;
		lane = lane_for(end, x0);
		w = w < MIN_W ? MIN_W : w;
		if (end[lane] > x0 && end[lane] - x0 <= PUSH_MAX)
			x0 = end[lane];
		if (x0 + w > SVG_W)
			x0 = SVG_W - w;  /* past the plot's right edge, never off the chart */
		bx[i].x = x0 < PLOT_X0 ? PLOT_X0 : x0;
		bx[i].w = w;
		bx[i].lane = lane;
		bx[i].shade = count[lane]++ % 2;
		last[lane] = i;
		end[lane] = bx[i].x + w > end[lane] ? bx[i].x + w : end[lane];
		used = lane + 1 > used ? lane + 1 : used;
	}
	return used;
}

/* A box's name: the test's own part of its node ID (after the last "::"), whole, or cut
 * with "..." when 5 characters of it fit; nothing when fewer do. Tests merged into one
 * box (past REP_AN_BANDS_MAX) are named by their count. */
static void box_name(FILE *f, const struct box *x, const struct rep_an_band *b)
{
	const char *tail = b->name, *p;
	int fit = (int)((x->w - 4) / CHAR_W);
	char cut[sizeof(b->name)], count[32];

	while ((p = strstr(tail, "::")) && p[2])
		tail = p + 2;
	if (b->n > 1) {
		snprintf(count, sizeof(count), "%lu tests", b->n);
		tail = count;
	}
	if ((int)strlen(tail) <= fit)
		snprintf(cut, sizeof(cut), "%s", tail);
	else if (fit >= 8)
		snprintf(cut, sizeof(cut), "%.*s...", (int)rep_utf8_cut(tail, (size_t)fit - 3), tail);
	else
		return;
	fprintf(f, "<text class=\"box-name\" x=\"%.1f\" y=\"%.1f\" font-size=\"10\" fill=\"%s\">",
		x->x + 2, TRACK_Y + x->lane * ROW_H + 10.5, b->oom ? "#fff" : "#08306b");
	rep_html_esc(f, cut);
	fputs("</text>\n", f);
}

static void box(FILE *f, const struct box *x, const struct rep_an_band *b)
{
	static const char *const shade[2] = { "#9ecae1", "#6baed6" };
	char p[32];

	fprintf(f, "<rect class=\"box%s\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"%d\" "
		"fill=\"%s\"><title>", b->oom ? " oom" : "", x->x, TRACK_Y + x->lane * ROW_H + 1,
		x->w, ROW_H - 2, b->oom ? "#d62728" : shade[x->shade]);
	rep_html_esc(f, b->name);
	if (b->n > 1)
		fprintf(f, " (the biggest of %lu tests here)", b->n);
	fprintf(f, "\nstarted at %.3f s, ran %.3f s\npeak %s%s</title></rect>\n", b->t0,
		b->t1 - b->t0, rep_html_mb(b->peak, p), b->oom ? "\nOOM-killed" : "");
	box_name(f, x, b);
}

int rep_html_chart(FILE *f, const struct rep_analysis *a)
{
	struct scale k = scale_of(a);
	struct box *bx = a->nbands ? calloc(a->nbands, sizeof(*bx)) : NULL;
	int lanes;

	if (a->nbands && !bx)
		return -ENOMEM;
	lanes = layout(&k, a, bx);
	fprintf(f, "<svg id=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
		"height=\"%d\" viewBox=\"0 0 %d %d\" font-size=\"11\">\n", SVG_W,
		TRACK_Y + (lanes > 0 ? lanes : 1) * ROW_H + 6, SVG_W,
		TRACK_Y + (lanes > 0 ? lanes : 1) * ROW_H + 6);
	frame(f, false);
	phases(f, &k, a);
	ticks(f, &k);
	for (size_t i = 0; i < a->nbands; i++)
		band(f, &k, &a->bands[i], i);
	if (a->npoints) {
		fputs("<polyline class=\"timeline\" fill=\"none\" stroke=\"#222\" "
		      "stroke-width=\"1.2\" points=\"", f);
		for (size_t i = 0; i < a->npoints; i++)
			fprintf(f, "%s%.1f,%.1f", i ? " " : "", sx(&k, a->points[i].t),
				sy(&k, a->points[i].sandbox));
		fputs("\"/>\n", f);
	}
	frame(f, true);
	limits(f, &k, a);
	fprintf(f, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" fill=\"#555\">phases</text>\n"
		"<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" fill=\"#555\">tests</text>\n",
		PLOT_X0 - 4, PHASE_Y + 10.5, PLOT_X0 - 4, TRACK_Y + 10.5);
	for (size_t i = 0; i < a->nbands; i++)
		box(f, &bx[i], &a->bands[bx[i].band]);
	free(bx);
	fputs("</svg>\n", f);
	return 0;
}
