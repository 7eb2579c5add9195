/* The analysis as one self-contained HTML file (analyze.h, rep_analysis_html): an SVG chart
 * of memory over time (the timeline's samples, a band a test at the height of its peak,
 * the limits, OOM kills in red, a tooltip a band) and the analysis' tables under it. No
 * script, no external file, no font: it opens anywhere, offline, and is safe to mail. */
#include "report/analyze.h"

#include <errno.h>
#include <string.h>

#include "report/verdict.h"

/* The chart's geometry, in SVG user units (CSS pixels at zoom 1). Documented in
 * etc/analyze.md: the browser test finds the OOM marker by it. */
#define SVG_W   1000
#define SVG_H   340
#define PLOT_X0 70
#define PLOT_X1 980
#define PLOT_Y0 20
#define PLOT_Y1 300

static void esc(FILE *f, const char *s)
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

static const char *mb(uint64_t bytes, char buf[32])
{
	if (bytes == REP_UNKNOWN)
		snprintf(buf, 32, "unknown");
	else
		rep_format_mb(bytes, buf, 32);
	return buf;
}

struct scale {
	double t_end;     /* seconds at the right edge */
	double top;       /* bytes at the top edge */
};

static double sx(const struct scale *k, double t)
{
	return PLOT_X0 + (PLOT_X1 - PLOT_X0) * (k->t_end > 0 ? t / k->t_end : 0);
}

static double sy(const struct scale *k, uint64_t bytes)
{
	double v = bytes == REP_UNKNOWN ? 0 : (double)bytes;

	return PLOT_Y1 - (PLOT_Y1 - PLOT_Y0) * (k->top > 0 ? v / k->top : 0);
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
	struct scale k = { a->end > 0 ? a->end : 1, 1 << 20 };
	uint64_t lim = test_limit(a);

	for (size_t i = 0; i < a->nbands; i++)
		if (a->bands[i].peak != REP_UNKNOWN && (double)a->bands[i].peak > k.top)
			k.top = (double)a->bands[i].peak;
	for (size_t i = 0; i < a->npoints; i++)
		if ((double)a->points[i].sandbox > k.top)
			k.top = (double)a->points[i].sandbox;
	if (a->sandbox_limit && a->sandbox_limit != REP_UNLIMITED && (double)a->sandbox_limit > k.top)
		k.top = (double)a->sandbox_limit;
	if (lim && (double)lim > k.top)
		k.top = (double)lim;
	k.top *= 1.08;
	return k;
}

static void axes(FILE *f, const struct scale *k)
{
	char m[32];

	fprintf(f, "<rect class=\"frame\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" "
		"fill=\"#fff\" stroke=\"#999\" shape-rendering=\"crispEdges\"/>\n", PLOT_X0, PLOT_Y0, PLOT_X1 - PLOT_X0, PLOT_Y1 - PLOT_Y0);
	for (int i = 0; i <= 4; i++) {
		double t = k->t_end * i / 4, v = k->top * i / 4;

		fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%.1fs</text>\n",
			sx(k, t), PLOT_Y1 + 16, t);
		fprintf(f, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", PLOT_X0 - 4,
			sy(k, (uint64_t)v) + 4, mb((uint64_t)v, m));
	}
}

static void limit_line(FILE *f, const struct scale *k, uint64_t bytes, const char *what,
		       const char *colour)
{
	char m[32];
	double y;

	if (!bytes || bytes == REP_UNLIMITED)
		return;
	y = sy(k, bytes);
	fprintf(f, "<line class=\"limit\" x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
		"stroke-dasharray=\"6 4\"/><text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" "
		"fill=\"%s\">%s %s</text>\n", PLOT_X0, PLOT_X1, y, y, colour, PLOT_X1 - 4, y - 3,
		colour, what, mb(bytes, m));
}

static void band(FILE *f, const struct scale *k, const struct rep_an_band *b, size_t i)
{
	double x0 = sx(k, b->t0), x1 = sx(k, b->t1), w = x1 - x0 < 2 ? 2 : x1 - x0;
	double y = sy(k, b->peak);
	char p[32], l[32];

	/* An OOM kill: the band in red, and a red marker the plot's height, wide enough to see
	 * however short the test was, and red enough (45 % over white: #ed9e9e) to stay red where
	 * a neighbour's band or the memory line crosses it. */
	if (b->oom)
		fprintf(f, "<rect class=\"oom-marker\" id=\"oom-%zu\" x=\"%.1f\" y=\"%d\" "
			"width=\"%.1f\" height=\"%d\" fill=\"#d62728\" fill-opacity=\"0.45\"/>\n", i,
			x0 + w / 2 - (w < 6 ? 3 : w / 2), PLOT_Y0, w < 6 ? 6 : w, PLOT_Y1 - PLOT_Y0);
	fprintf(f, "<rect class=\"%s\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
		"fill=\"%s\"><title>", b->oom ? "test oom" : "test", x0, y, w, PLOT_Y1 - y,
		b->oom ? "#d62728" : "#6baed6");
	esc(f, b->name);
	if (b->n > 1)
		fprintf(f, " (the biggest of %lu tests here)", b->n);
	fprintf(f, "\npeak %s\n%s\nleft behind %s</title></rect>\n", mb(b->peak, p),
		b->oom ? "OOM-killed" : "not OOM-killed", mb(b->left, l));
}

static void chart(FILE *f, const struct rep_analysis *a)
{
	struct scale k = scale_of(a);

	fprintf(f, "<svg id=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
		"height=\"%d\" viewBox=\"0 0 %d %d\" font-size=\"11\">\n", SVG_W, SVG_H, SVG_W,
		SVG_H);
	axes(f, &k);
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
	limit_line(f, &k, a->sandbox_limit, "sandbox limit", "#e6550d");
	limit_line(f, &k, test_limit(a) != a->sandbox_limit ? test_limit(a) : 0, "test limit",
		   "#756bb1");
	fputs("</svg>\n", f);
}

static void table(FILE *f, const char *title, const struct rep_an_list *l, size_t n,
		  const struct rep_analysis *a, bool spikes)
{
	char p[32], lim[32], left[32];
	size_t shown = 0;

	for (size_t i = 0; i < n && i < l->n; i++)
		shown += !spikes || rep_analysis_is_spike(a, &l->u[i]);
	if (shown == 0)
		return;
	fprintf(f, "<h2>%s</h2>\n<table><tr><th>where</th><th>test</th><th>peak</th>"
		"<th>limit</th><th>left behind</th><th>OOM</th></tr>\n", title);
	for (size_t i = 0; i < n && i < l->n; i++) {
		const struct rep_an_unit *u = &l->u[i];

		if (spikes && !rep_analysis_is_spike(a, u))
			continue;
		fputs("<tr><td>", f);
		esc(f, u->where);
		fputs("</td><td>", f);
		esc(f, u->name);
		fprintf(f, "</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>\n",
			mb(u->peak, p), u->limit ? mb(u->limit, lim) : "unknown", mb(u->left, left),
			!u->oom_seen ? "" : u->oom == REP_OOM_OWN ? "own limit" :
			u->oom == REP_OOM_SANDBOX ? "sandbox total" : "system");
	}
	fputs("</table>\n", f);
}

int rep_analysis_html(FILE *f, const struct rep_analysis *a)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	      "<title>wcmem-sandbox analyze</title>\n<style>\n"
	      "body{font-family:sans-serif;margin:16px;color:#222}\n"
	      "table{border-collapse:collapse;margin-bottom:12px}\n"
	      "td,th{border:1px solid #ccc;padding:2px 6px;text-align:left;font-size:13px}\n"
	      "h2{font-size:16px;margin:16px 0 6px}\n"
	      "</style></head><body>\n", f);
	fprintf(f, "<h1 style=\"font-size:18px\">Memory: %lu log%s, %lu session%s, %lu tests, "
		"%lu OOM-killed</h1>\n", a->logs, a->logs == 1 ? "" : "s", a->sessions,
		a->sessions == 1 ? "" : "s", a->tests, a->oom.count);
	chart(f, a);
	fputs("<p>Bands: tests at the height of their peak (red: OOM-killed); line: the sandbox's "
	      "memory.current (the timeline); dashed: the limits. Hover a band for its test.</p>\n",
	      f);
	table(f, "Running when the log stops", &a->running, a->running.n, a, false);
	table(f, "OOM-killed", &a->oom, a->oom.n, a, false);
	table(f, "Biggest by peak", &a->biggest, (size_t)a->opt.top, a, false);
	table(f, "Sudden spikes", &a->biggest, a->biggest.n, a, true);
	table(f, "Leaks: memory that grows with each repeat (the leak check)", &a->leaks,
	      a->leaks.n, a, false);
	table(f, "Left memory behind (a leak, or a cache or an import kept once)", &a->left,
	      a->left.n, a, false);
	table(f, "Open xarray datasets that stayed up", &a->xarray, a->xarray.n, a, false);
	fputs("</body></html>\n", f);
	return ferror(f) ? -EIO : 0;
}
