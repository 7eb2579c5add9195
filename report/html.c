/* The analysis as one self-contained HTML file (analyze.h, rep_analysis_html): an SVG chart
 * of memory over time (html_chart.h) and the analysis' tables under it. No script, no
 * external file, no font: it opens anywhere, offline, and is safe to mail. */
#include "report/analyze.h"

#include <errno.h>
#include <string.h>

#include "report/html_chart.h"
#include "report/verdict.h"

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
		rep_html_esc(f, u->where);
		fputs("</td><td>", f);
		rep_html_esc(f, u->name);
		fprintf(f, "</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>\n",
			rep_html_mb(u->peak, p), u->limit ? rep_html_mb(u->limit, lim) : "unknown", rep_html_mb(u->left, left),
			!u->oom_seen ? "" : u->oom == REP_OOM_OWN ? "own limit" :
			u->oom == REP_OOM_SANDBOX ? "sandbox total" : "system");
	}
	fputs("</table>\n", f);
}

int rep_analysis_html(FILE *f, const struct rep_analysis *a)
{
	int r;

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
	r = rep_html_chart(f, a);
	if (r < 0)
		return r;
	fputs("<p>Bands: tests at the height of their peak (red: OOM-killed); line: the sandbox's "
	      "memory.current (the timeline); dashed: the limits. Under the time axis: each "
	      "session's phases (shaded on the plot: start-up and collection, until the first "
	      "test), and the tests, a box each in the order they started (at least 4 px wide: "
	      "tests that started together stand side by side or one above the other). Hover a "
	      "band or a box for its test.</p>\n", f);
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
