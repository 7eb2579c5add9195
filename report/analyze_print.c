/* The answer of an analysis, as text for people and editors, and as JSON for tools. */
#include "report/analyze.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "report/json.h"
#include "report/verdict.h"

/* "256.0 MiB", "max" (people's sizes). */
static const char *mb(uint64_t bytes, char buf[32])
{
	rep_format_size(bytes, buf, 32);
	return buf;
}

static const char *measured(uint64_t bytes, char buf[32])
{
	if (bytes == REP_UNKNOWN) {
		snprintf(buf, 32, "unknown");
		return buf;
	}
	return mb(bytes, buf);
}

/* Which limit the kernel enforced, as the summary words it. */
static void oom_text(const struct rep_an_unit *u, const struct rep_analysis *a, char *buf,
		     size_t size)
{
	rep_oom_reason_said(u->oom == REP_OOM_NONE ? REP_OOM_SYSTEM : u->oom, u->limit, NULL,
			    a->sandbox_limit, buf, size);
}

static const char *oom_word(const struct rep_an_unit *u)
{
	if (!u->oom_seen)
		return NULL;
	return u->oom == REP_OOM_OWN ? "own" : u->oom == REP_OOM_SANDBOX ? "sandbox" : "system";
}

static void print_running(FILE *f, const struct rep_analysis *a)
{
	if (a->running.count == 0)
		return;
	fprintf(f, "== running when the log stops (a TEST_START without its TEST_END): %lu\n",
		a->running.count);
	for (size_t i = 0; i < a->running.n; i++) {
		const struct rep_an_unit *u = &a->running.u[i];

		fprintf(f, "%s: %s was running when the log stopped (TEST_START at %s:%lu",
			u->where, u->name, u->log, u->line);
		if (u->start_elapsed >= 0)
			fprintf(f, ", %.1fs into its session", u->start_elapsed);
		fputs(")\n", f);
	}
}

static void print_oom(FILE *f, const struct rep_analysis *a)
{
	char text[256], p[32];

	if (a->oom.count == 0)
		return;
	fprintf(f, "== OOM-killed: %lu\n", a->oom.count);
	for (size_t i = 0; i < a->oom.n; i++) {
		const struct rep_an_unit *u = &a->oom.u[i];

		oom_text(u, a, text, sizeof(text));
		fprintf(f, "%s: %s OOM-killed: %s (peak %s)\n", u->where, u->name, text,
			measured(u->peak, p));
	}
}

static void print_biggest(FILE *f, const struct rep_analysis *a, uint64_t typical)
{
	size_t n = a->biggest.n < (size_t)a->opt.top ? a->biggest.n : (size_t)a->opt.top;
	char p[32], l[32], t[32];

	if (n == 0)
		return;
	fprintf(f, "== the %zu biggest of %lu tests by peak (typical test: %s)\n", n,
		a->biggest.count, mb(typical, t));
	for (size_t i = 0; i < n; i++) {
		const struct rep_an_unit *u = &a->biggest.u[i];

		fprintf(f, "%s: %s peak %s, limit %s%s\n", u->where, u->name, mb(u->peak, p),
			u->limit == 0 ? "unknown" : mb(u->limit, l),
			u->oom_seen ? ", OOM-killed" : "");
	}
}

static void print_spikes(FILE *f, const struct rep_analysis *a, uint64_t typical)
{
	size_t n = 0;
	char t[32], fl[32], p[32];

	for (size_t i = 0; i < a->biggest.n; i++)
		n += rep_analysis_is_spike(a, &a->biggest.u[i]);
	if (n == 0)
		return;
	fprintf(f, "== sudden spikes (peak at least %g x the typical %s, and at least %s): %zu%s\n",
		a->opt.spike_factor, mb(typical, t), mb(a->opt.spike_floor, fl), n,
		n == a->biggest.n && a->biggest.n < a->biggest.count ? " or more" : "");
	for (size_t i = 0; i < a->biggest.n; i++) {
		const struct rep_an_unit *u = &a->biggest.u[i];

		if (!rep_analysis_is_spike(a, u))
			continue;
		fprintf(f, "%s: %s spiked to %s", u->where, u->name, mb(u->peak, p));
		if (typical > 0)
			fprintf(f, ", %.0f x the typical test", (double)u->peak / (double)typical);
		fputc('\n', f);
	}
}

static void print_leaks(FILE *f, const struct rep_analysis *a)
{
	char m[32], least[32], fl[32];

	if (a->leak_checked == 0)
		return;
	fprintf(f, "== leaks (memory that grows with each run: every repeat of the call added "
		"some, and the middle repeat at least %s): %lu of %lu test%s checked\n",
		mb(a->opt.leak_floor, fl), a->leaks.count, a->leak_checked,
		a->leak_checked == 1 ? "" : "s");
	for (size_t i = 0; i < a->leaks.n; i++) {
		const struct rep_an_unit *u = &a->leaks.u[i];

		fprintf(f, "%s: %s leaks %s a run (%d repeats, each added at least %s)\n", u->where,
			u->name, mb(rep_analysis_leak_per_run(u), m), u->leak_repeats,
			mb((uint64_t)u->leak_least, least));
	}
}

static void print_growth(FILE *f, const struct rep_analysis *a)
{
	char m[32], m2[32], fl[32];
	double per_test = rep_analysis_trend(a);

	print_leaks(f, a);
	if (a->left.count) {
		fprintf(f, "== left memory behind (still held at the test's end, at least %s: a "
			"leak, or a cache or an import kept once; WCMEM_SANDBOX_LEAK_CHECK=N tells "
			"which): %lu test%s\n", mb(a->opt.leak_floor, fl), a->left.count,
			a->left.count == 1 ? "" : "s");
		for (size_t i = 0; i < a->left.n; i++)
			fprintf(f, "%s: %s left %s behind\n", a->left.u[i].where, a->left.u[i].name,
				mb(a->left.u[i].left, m));
	}
	if (a->trend.points >= 3)
		fprintf(f, "== trend: the memory held after each test went from %s to %s over %lu "
			"tests, %s%s a test (%s)\n", mb(a->trend.first, m), mb(a->trend.last, m2),
			a->trend.points, per_test >= 0 ? "+" : "-",
			mb((uint64_t)(per_test >= 0 ? per_test : -per_test), fl),
			a->trend.sandbox ? "the sandbox's memory.current" : "VmRSS");
	if (a->xarray.count == 0)
		return;
	fprintf(f, "== open xarray datasets: %lu step%s up that stayed up\n", a->xarray.count,
		a->xarray.count == 1 ? "" : "s");
	for (size_t i = 0; i < a->xarray.n; i++) {
		const struct rep_an_unit *u = &a->xarray.u[i];

		fprintf(f, "%s: %s left %ld more xarray dataset%s open (%ld -> %ld), and the count "
			"stayed up\n", u->where, u->name, u->xarray_to - u->xarray_from,
			u->xarray_to - u->xarray_from == 1 ? "" : "s", u->xarray_from, u->xarray_to);
	}
}

int rep_analysis_print(FILE *f, const struct rep_analysis *a)
{
	uint64_t typical = rep_analysis_typical_peak(a);

	fprintf(f, "wcmem-sandbox analyze: %lu log%s, %lu session%s, %lu test%s\n", a->logs,
		a->logs == 1 ? "" : "s", a->sessions, a->sessions == 1 ? "" : "s", a->tests,
		a->tests == 1 ? "" : "s");
	rep_shards_print(f, "analyze", &a->shards);
	if (a->cut)
		fprintf(f, "%s: the log is cut off inside this entry (as after a power cut or a "
			"full disk); read up to there\n", a->cut_at.where);
	print_running(f, a);
	print_oom(f, a);
	print_biggest(f, a, typical);
	print_spikes(f, a, typical);
	print_growth(f, a);
	return ferror(f) ? -EIO : 0;
}

/* ---- JSON ---- */

static void json_bytes(FILE *f, const char *key, uint64_t bytes)
{
	if (bytes == REP_UNKNOWN)
		fprintf(f, "\"%s\": null", key);
	else
		fprintf(f, "\"%s\": %llu", key, (unsigned long long)bytes);
}

/* A number JSON can hold: inf and nan are not JSON (a foreign log may lead to them). */
static void json_number(FILE *f, const char *key, const char *format, double v)
{
	fprintf(f, "\"%s\": ", key);
	if (isfinite(v))
		fprintf(f, format, v);
	else
		fputs("null", f);
}

static void json_seconds(FILE *f, const char *key, double s)
{
	json_number(f, key, "%.3f", s < 0 ? NAN : s);
}

static void json_unit(FILE *f, const struct rep_an_unit *u)
{
	const char *oom = oom_word(u);

	fputs("{\"name\": ", f);
	rep_json_string(f, u->name);
	fputs(", \"where\": ", f);
	rep_json_string(f, u->where);
	fputs(", \"log\": ", f);
	rep_json_string(f, u->log);
	fprintf(f, ", \"line\": %lu, ", u->line);
	json_seconds(f, "start_elapsed", u->start_elapsed);
	fputs(", ", f);
	json_seconds(f, "duration", u->duration);
	fputs(", ", f);
	json_bytes(f, "peak", u->peak);
	fputs(", ", f);
	/* null: unlimited or unknown alike, as in the run's own report */
	json_bytes(f, "limit", u->limit == 0 ? REP_UNKNOWN : u->limit);
	fputs(", ", f);
	json_bytes(f, "left_behind", u->left);
	fprintf(f, ", \"oom\": %s%s%s", oom ? "\"" : "", oom ? oom : "null", oom ? "\"" : "");
	if (u->xarray_to >= 0)
		fprintf(f, ", \"xarray_from\": %ld, \"xarray_to\": %ld", u->xarray_from,
			u->xarray_to);
	if (u->leak_repeats > 0)
		fprintf(f, ", \"leak_repeats\": %d, \"leak_least\": %lld, \"leak_median\": %lld, "
			"\"leak_total\": %lld", u->leak_repeats, (long long)u->leak_least,
			(long long)u->leak_median, (long long)u->leak_total);
	fputc('}', f);
}

static void json_list(FILE *f, const char *key, const struct rep_an_list *l, size_t n,
		      const struct rep_analysis *a, bool spikes)
{
	const char *sep = "";

	fprintf(f, ",\n  \"%s\": [", key);
	for (size_t i = 0; i < n && i < l->n; i++) {
		if (spikes && !rep_analysis_is_spike(a, &l->u[i]))
			continue;
		fprintf(f, "%s\n    ", sep);
		json_unit(f, &l->u[i]);
		sep = ",";
	}
	fputs(*sep ? "\n  ]" : "]", f);
	if (!spikes)
		fprintf(f, ",\n  \"%s_count\": %lu", key, l->count);
}

int rep_analysis_json(FILE *f, const struct rep_analysis *a)
{
	fprintf(f, "{\n  \"schema\": \"wcmem-sandbox-analysis/1\",\n");
	fprintf(f, "  \"logs\": %lu, \"sessions\": %lu, \"tests\": %lu, \"units\": %lu,\n",
		a->logs, a->sessions, a->tests, a->units);
	fputs("  \"shards\": ", f);
	rep_shards_json(f, &a->shards);
	fputs(",\n  ", f);
	json_bytes(f, "typical_peak", rep_analysis_typical_peak(a));
	fputs(", ", f);
	json_bytes(f, "sandbox_limit", a->sandbox_limit == 0 ? REP_UNKNOWN : a->sandbox_limit);
	fprintf(f, ",\n  \"options\": {\"top\": %d, ", a->opt.top);
	json_number(f, "spike_factor", "%g", a->opt.spike_factor);
	fputs(", ", f);
	json_bytes(f, "spike_floor", a->opt.spike_floor);
	fputs(", ", f);
	json_bytes(f, "leak_floor", a->opt.leak_floor);
	fputs("},\n  \"cut\": ", f);
	if (a->cut)
		json_unit(f, &a->cut_at);
	else
		fputs("null", f);
	json_list(f, "running", &a->running, a->running.n, a, false);
	json_list(f, "oom_killed", &a->oom, a->oom.n, a, false);
	json_list(f, "biggest", &a->biggest, (size_t)a->opt.top, a, false);
	json_list(f, "spikes", &a->biggest, a->biggest.n, a, true);
	json_list(f, "left_behind", &a->left, a->left.n, a, false);
	json_list(f, "leaks", &a->leaks, a->leaks.n, a, false);
	fprintf(f, ",\n  \"leak_checked\": %lu", a->leak_checked);
	json_list(f, "xarray_steps", &a->xarray, a->xarray.n, a, false);
	fputs(",\n  ", f);
	json_seconds(f, "time_end", a->end);
	fputs(",\n  \"trend\": {", f);
	json_number(f, "bytes_per_test", "%.0f", rep_analysis_trend(a));
	fprintf(f, ", \"points\": %lu, ", a->trend.points);
	json_bytes(f, "first", a->trend.points ? a->trend.first : REP_UNKNOWN);
	fputs(", ", f);
	json_bytes(f, "last", a->trend.points ? a->trend.last : REP_UNKNOWN);
	fprintf(f, ", \"figure\": \"%s\"}\n}\n", a->trend.sandbox ? "sandbox_current" : "vm_rss");
	return ferror(f) ? -EIO : 0;
}
