/* The summary a human reads on stderr when the run ends:
 *
 *   wcmem-sandbox: python3 -c 'b = bytearray(2 << 30)'
 *     peak 512.0 MB, limit 512.0 MB, OOM-killed: exceeded its own limit 512.0 MB
 *   wcmem-sandbox: 1 unit, 1 OOM-killed; sandbox peak 512.3 MB of 512.0 MB (cgroup v1); log: off
 *
 * With more units, one aligned line each: name, peak, limit, verdict. Names are escaped
 * as in the log, so a test name cannot send escape sequences to the terminal. */
#include "report/summary.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "report/verdict.h"

#define NAME_COLUMN_MAX 60  /* longer names push their line out rather than every line */

/* A measured figure: "512.0 MB" or "unknown". */
static void measured(uint64_t bytes, char *buf, size_t size)
{
	if (bytes == REP_UNKNOWN)
		snprintf(buf, size, "unknown");
	else
		rep_format_mb(bytes, buf, size);
}

/* A limit: "512.0 MB" or "none". */
static void limit(uint64_t bytes, char *buf, size_t size)
{
	if (bytes == REP_UNLIMITED)
		snprintf(buf, size, "none");
	else
		rep_format_mb(bytes, buf, size);
}

/* The one-unit form: the unit's name on the first line, its figures below. */
static void write_single(FILE *f, const struct rep_unit *u)
{
	char name[4096], peak[32], lim[32], verdict[256];

	rep_log_escape(u->name, name, sizeof(name));
	measured(u->peak, peak, sizeof(peak));
	limit(u->limit, lim, sizeof(lim));
	rep_verdict_text(u, verdict, sizeof(verdict));
	fprintf(f, "wcmem-sandbox: %s\n", name);
	fprintf(f, "  peak %s, limit %s, %s\n", peak, lim, verdict);
}

/* The table form: widths from a first pass, then one line per unit. */
static void write_table(FILE *f, const struct rep_unit *units, size_t n,
			const struct rep_session *s)
{
	char name[4096], peak[32], lim[32], verdict[256];
	int name_w = 0, peak_w = 0, lim_w = 0;

	for (size_t i = 0; i < n; i++) {
		int w = (int)rep_log_escape(units[i].name, name, sizeof(name));

		if (w > name_w)
			name_w = w < NAME_COLUMN_MAX ? w : NAME_COLUMN_MAX;
		measured(units[i].peak, peak, sizeof(peak));
		limit(units[i].limit, lim, sizeof(lim));
		if ((int)strlen(peak) > peak_w)
			peak_w = (int)strlen(peak);
		if ((int)strlen(lim) > lim_w)
			lim_w = (int)strlen(lim);
	}
	rep_log_escape(s->command, name, sizeof(name));
	fprintf(f, "wcmem-sandbox: %s\n", name);
	for (size_t i = 0; i < n; i++) {
		rep_log_escape(units[i].name, name, sizeof(name));
		measured(units[i].peak, peak, sizeof(peak));
		limit(units[i].limit, lim, sizeof(lim));
		rep_verdict_text(&units[i], verdict, sizeof(verdict));
		fprintf(f, "  %-*s  peak %*s  limit %*s  %s\n", name_w, name, peak_w, peak,
			lim_w, lim, verdict);
	}
}

/* "1 unit, 1 OOM-killed; sandbox peak 512.3 MB of 512.0 MB (cgroup v1); log: PATH" */
static void write_footer(FILE *f, const struct rep_unit *units, size_t n,
			 const struct rep_session *s)
{
	char peak[32], lim[32], path[4096];
	size_t oom = 0;

	/* Counted from the records shown, so the footer agrees with the lines above it. */
	for (size_t i = 0; i < n; i++)
		if (units[i].oom != REP_OOM_NONE)
			oom++;
	measured(s->peak, peak, sizeof(peak));
	fprintf(f, "wcmem-sandbox: %zu unit%s, %zu OOM-killed; sandbox peak %s", n,
		n == 1 ? "" : "s", oom, peak);
	if (s->limit == REP_UNLIMITED) {
		fprintf(f, ", no limit");
	} else {
		rep_format_mb(s->limit, lim, sizeof(lim));
		fprintf(f, " of %s", lim);
	}
	if (s->backend)
		fprintf(f, " (%s)", s->backend);
	if (s->log_path)
		rep_log_escape(s->log_path, path, sizeof(path));
	fprintf(f, "; log: %s\n", s->log_path ? path : "off");
}

int rep_summary_write(FILE *f, const struct rep_unit *units, size_t n,
		      const struct rep_session *s)
{
	if (n == 1)
		write_single(f, &units[0]);
	else if (n > 1)
		write_table(f, units, n, s);
	write_footer(f, units, n, s);
	if (fflush(f) == EOF)
		return -errno;
	if (ferror(f))
		return -EIO;
	return 0;
}
