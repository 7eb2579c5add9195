/* The post-mortem of memory logs (analyze.h): entries in, one answer out, constant memory. */
#include "report/analyze.h"
#include "report/analyze_chart.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int list_init(struct rep_an_list *l, size_t cap)
{
	l->u = calloc(cap, sizeof(*l->u));
	l->cap = cap;
	return l->u ? 0 : -ENOMEM;
}

int rep_analysis_init(struct rep_analysis *a, const struct rep_an_options *opt)
{
	memset(a, 0, sizeof(*a));
	a->opt = *opt;
	if (a->opt.top < 1 || a->opt.top > REP_AN_LIST_MAX)
		a->opt.top = 10;
	if (list_init(&a->running, REP_AN_LIST_MAX) < 0 || list_init(&a->oom, REP_AN_LIST_MAX) < 0 ||
	    list_init(&a->biggest, REP_AN_LIST_MAX) < 0 ||
	    list_init(&a->left, (size_t)a->opt.top) < 0 ||
	    list_init(&a->leaks, REP_AN_LIST_MAX) < 0 ||
	    list_init(&a->xarray, REP_AN_LIST_MAX) < 0 ||
	    !(a->bands = calloc(REP_AN_BANDS_MAX, sizeof(*a->bands))) ||
	    !(a->points = calloc(REP_AN_POINTS_MAX, sizeof(*a->points)))) {
		rep_analysis_free(a);
		return -ENOMEM;
	}
	return 0;
}

void rep_analysis_free(struct rep_analysis *a)
{
	free(a->running.u);
	free(a->oom.u);
	free(a->biggest.u);
	free(a->left.u);
	free(a->leaks.u);
	free(a->xarray.u);
	free(a->bands);
	free(a->points);
	rep_shards_free(&a->shards);
	a->bands = NULL;
	a->points = NULL;
	a->running.u = a->oom.u = a->biggest.u = a->left.u = a->leaks.u = a->xarray.u = NULL;
}

/* ---- the tables ---- */

/* Appends in order while there is room; the count goes on. */
static void list_append(struct rep_an_list *l, const struct rep_an_unit *u)
{
	l->count++;
	if (l->n < l->cap)
		l->u[l->n++] = *u;
}

/* Keeps the cap largest by key, largest first (ties: the earlier stays ahead). */
static void list_rank(struct rep_an_list *l, const struct rep_an_unit *u,
		      uint64_t (*key)(const struct rep_an_unit *))
{
	uint64_t k = key(u);
	size_t i;

	l->count++;
	if (l->n == l->cap && key(&l->u[l->n - 1]) >= k)
		return;
	if (l->n < l->cap)
		l->n++;
	for (i = l->n - 1; i > 0 && key(&l->u[i - 1]) < k; i--)
		l->u[i] = l->u[i - 1];
	l->u[i] = *u;
}

static uint64_t by_peak(const struct rep_an_unit *u)
{
	return u->peak;
}

static uint64_t by_left(const struct rep_an_unit *u)
{
	return u->left;
}

/* What a run keeps: the middle repeat, not the mean. One repeat can be charged a step of
 * the allocator's heap or the kernel's (4 MB once, seen beside 40 KB twice for a test that
 * keeps 8 KB a run), which the mean would spread over every run and call a leak. */
uint64_t rep_analysis_leak_per_run(const struct rep_an_unit *u)
{
	if (u->leak_repeats < 1 || u->leak_median <= 0)
		return 0;
	return (uint64_t)u->leak_median;
}

/* CPython's regrtest -R rule (every repeat added some) and a floor that the middle repeat
 * must reach. */
bool rep_analysis_is_leak(const struct rep_analysis *a, const struct rep_an_unit *u)
{
	return u->leak_repeats > 0 && u->leak_least > 0 &&
	       rep_analysis_leak_per_run(u) >= a->opt.leak_floor;
}

/* ---- where a finding points ---- */

/* The test's own file and line when the writer logged it; else the file of a pytest node ID
 * ("tests/test_x.py::test_y", line 1); else the entry in the log itself. */
static void where_of(struct rep_an_unit *u, const struct rep_entry *e, const char *log)
{
	const char *sep = strstr(e->name, "::");

	if (e->location[0])
		snprintf(u->where, sizeof(u->where), "%s", e->location);
	else if (sep && sep - e->name > 3 && memcmp(sep - 3, ".py", 3) == 0)
		snprintf(u->where, sizeof(u->where), "%.*s:1", (int)(sep - e->name), e->name);
	else
		snprintf(u->where, sizeof(u->where), "%s:%lu", log, e->line);
}

static void unit_from(struct rep_an_unit *u, const struct rep_entry *e, const char *log)
{
	memset(u, 0, sizeof(*u));
	memcpy(u->name, e->name, sizeof(u->name));
	where_of(u, e, log);
	u->log = log;
	u->line = e->line;
	u->start_elapsed = e->elapsed;
	u->duration = -1;
	u->peak = REP_UNKNOWN;
	u->limit = e->limit;
	u->left = REP_UNKNOWN;
	u->xarray_from = u->xarray_to = -1;
}

/* ---- one log ---- */

static void trend_flush(struct rep_an_trend *t)
{
	if (t->n >= 2) {
		t->pooled_sxy += t->sxy - t->sx * t->sy / t->n;
		t->pooled_sxx += t->sxx - t->sx * t->sx / t->n;
	}
	t->n = t->sx = t->sy = t->sxy = t->sxx = 0;
}

static void trend_add(struct rep_an_trend *t, uint64_t bytes, bool sandbox, long pid)
{
	double x, y = (double)bytes;

	if (pid != t->pid)  /* pytest started again after an OOM kill: a new series */
		trend_flush(t);
	t->pid = pid;
	x = t->n;
	if (t->n == 0 && t->points == 0) {
		t->first = bytes;
		t->sandbox = sandbox;
	}
	t->n++;
	t->sx += x;
	t->sy += y;
	t->sxy += x * y;
	t->sxx += x * x;
	t->points++;
	t->last = bytes;
}

/* What is still open was running when the log stopped; xarray levels still up stayed up. */
static void end_log(struct rep_analysis *a)
{
	for (size_t i = 0; i < a->nopen; i++)
		list_append(&a->running, &a->open[i].u);
	for (size_t i = 0; i < a->nsteps; i++)
		list_append(&a->xarray, &a->steps[i]);
	a->nopen = a->nsteps = 0;
	trend_flush(&a->trend);
}

void rep_analysis_begin_log(struct rep_analysis *a, const char *log)
{
	if (a->log)
		end_log(a);
	a->log = log;
	a->in_session = false;
	a->shards.current = 0;  /* a log without SESSION_START is no shard's */
	a->session_stamp = -1;
	a->logs++;
}

void rep_analysis_end(struct rep_analysis *a)
{
	if (a->log)
		end_log(a);
	a->log = NULL;
}

static void on_start(struct rep_analysis *a, const struct rep_entry *e)
{
	struct rep_an_open *o;

	if (a->nopen == REP_AN_OPEN_MAX) {  /* starts that never end: the oldest is let go */
		memmove(&a->open[0], &a->open[1], (REP_AN_OPEN_MAX - 1) * sizeof(a->open[0]));
		a->nopen--;
	}
	o = &a->open[a->nopen++];
	unit_from(&o->u, e, a->log);
	o->u.chart_start = rep_chart_start(a, e);
	o->vm_rss_kb = e->vm_rss_kb;
	o->command = strcmp(e->kind, "command") == 0;
}

/* The open unit of that name (the latest), removed from the open ones into *out.
 * Returns 1, or 0 when its start is not in the log. */
static int take_open(struct rep_analysis *a, const char *name, struct rep_an_open *out)
{
	for (size_t i = a->nopen; i-- > 0;) {
		if (strcmp(a->open[i].u.name, name) != 0)
			continue;
		*out = a->open[i];
		memmove(&a->open[i], &a->open[i + 1], (a->nopen - i - 1) * sizeof(a->open[0]));
		a->nopen--;
		return 1;
	}
	return 0;
}

/* 16 buckets per power of two: the median within 1/16 of it, in 8 KB whatever the count. */
static size_t bucket_of(uint64_t bytes)
{
	int e;

	if (bytes < 2)
		return 0;
	e = 63 - __builtin_clzll(bytes);
	return (size_t)e * 16 + (size_t)(e >= 4 ? (bytes >> (e - 4)) & 15 : (bytes << (4 - e)) & 15);
}

static uint64_t bucket_bytes(size_t b)
{
	size_t e = b / 16, f = b % 16;

	return e >= 4 ? (uint64_t)(16 + f) << (e - 4) : (uint64_t)(16 + f) >> (4 - e);
}

static void histogram_add(struct rep_analysis *a, uint64_t peak)
{
	a->hist[bucket_of(peak)]++;
	a->peaks++;
}

/* A step up of the open xarray datasets that stays up until a lower count pops it. */
static void xarray_count(struct rep_analysis *a, const struct rep_an_unit *u, long count)
{
	long below;

	while (a->nsteps && a->steps[a->nsteps - 1].xarray_to > count)
		a->nsteps--;
	below = a->nsteps ? a->steps[a->nsteps - 1].xarray_to : 0;
	if (count <= below)
		return;
	if (a->nsteps == REP_AN_STEPS_MAX) {  /* the highest step takes the rise */
		a->steps[a->nsteps - 1].xarray_to = count;
		return;
	}
	a->steps[a->nsteps] = *u;
	a->steps[a->nsteps].xarray_from = below;
	a->steps[a->nsteps].xarray_to = count;
	a->nsteps++;
}

static void on_end(struct rep_analysis *a, const struct rep_entry *e)
{
	struct rep_an_open o;
	struct rep_an_unit u;
	char where[REP_LOGREAD_NAME_MAX + 32];
	bool started = take_open(a, e->name, &o);

	if (started) {
		u = o.u;
	} else {
		unit_from(&u, e, a->log);
		u.chart_start = rep_chart_start(a, e);
		o.command = strcmp(e->kind, "command") == 0;
	}
	u.line = e->line;
	u.duration = e->duration;
	if (u.duration < 0 && u.start_elapsed >= 0 && e->elapsed >= u.start_elapsed)
		u.duration = e->elapsed - u.start_elapsed;  /* the guide's writer logs no Duration */
	u.peak = e->peak;
	if (e->limit != 0)
		u.limit = e->limit;
	u.oom = e->oom;
	u.oom_seen = e->oom_seen;
	u.leak_repeats = e->leak_repeats;
	u.leak_least = e->leak_least;
	u.leak_total = e->leak_total;
	u.leak_median = e->leak_median;
	if (e->current != REP_UNKNOWN)
		u.left = e->current;   /* the unit's own cgroup: what it allocated and still holds */
	else if (started && o.vm_rss_kb >= 0 && e->vm_rss_kb > o.vm_rss_kb)
		u.left = (uint64_t)(e->vm_rss_kb - o.vm_rss_kb) << 10;
	a->units++;
	if (u.oom_seen)
		list_append(&a->oom, &u);
	if (o.command)
		return;  /* the enclosing command's peak is its own, not a test's */
	rep_chart_test(a, &u);
	a->tests++;
	snprintf(where, sizeof(where), "%s:%lu", a->log, e->line);
	rep_shards_test(&a->shards, e->name, where);
	if (u.peak != REP_UNKNOWN) {
		list_rank(&a->biggest, &u, by_peak);
		histogram_add(a, u.peak);
	}
	/* A leak check answers for its test: the repeats tell a leak from memory kept once. */
	if (u.leak_repeats > 0) {
		a->leak_checked++;
		if (rep_analysis_is_leak(a, &u))
			list_rank(&a->leaks, &u, rep_analysis_leak_per_run);
	} else if (u.left != REP_UNKNOWN && u.left >= a->opt.leak_floor) {
		list_rank(&a->left, &u, by_left);
	}
	if (u.oom_seen)
		;  /* its process died with it: what it held is gone, not released */
	else if (e->sandbox_current != REP_UNKNOWN)
		trend_add(&a->trend, e->sandbox_current, true, e->pid);
	else if (e->vm_rss_kb >= 0)
		trend_add(&a->trend, (uint64_t)e->vm_rss_kb << 10, false, e->pid);
	if (e->xarray >= 0)
		xarray_count(a, &u, e->xarray);
}

void rep_analysis_entry(struct rep_analysis *a, const struct rep_entry *e)
{
	if (e->cut) {
		a->cut++;
		unit_from(&a->cut_at, e, a->log);
		snprintf(a->cut_at.where, sizeof(a->cut_at.where), "%s:%lu", a->log, e->line);
	}
	/* A log of the guide's writer has no SESSION_START: it is one session. */
	if (!a->in_session && (e->event == REP_EV_TEST_START || e->event == REP_EV_TEST_END)) {
		a->in_session = true;
		rep_chart_session(a);
		a->sessions++;
	}
	switch (e->event) {
	case REP_EV_SESSION_START:
		a->in_session = true;
		rep_chart_session(a);
		a->session_stamp = rep_chart_stamp(e->stamp);
		a->sessions++;
		/* A new session: the one before ended without closing what it had open. */
		for (size_t i = 0; i < a->nopen; i++)
			list_append(&a->running, &a->open[i].u);
		a->nopen = a->nsteps = 0;
		trend_flush(&a->trend);
		rep_shards_session(&a->shards, e->shard_index, e->shard_count);
		if (e->sandbox_limit > a->sandbox_limit)  /* REP_UNLIMITED wins: it is the largest */
			a->sandbox_limit = e->sandbox_limit;
		break;
	case REP_EV_TEST_START:
		on_start(a, e);
		break;
	case REP_EV_TEST_END:
		/* An END cut off before its figures says less than its START: keep it open. */
		if (e->cut && e->peak == REP_UNKNOWN)
			break;
		on_end(a, e);
		break;
	default:
		break;
	}
}

/* ---- figures ---- */

uint64_t rep_analysis_typical_peak(const struct rep_analysis *a)
{
	unsigned long seen = 0;

	for (size_t b = 0; b < REP_AN_HIST && a->peaks; b++) {
		seen += a->hist[b];
		if (seen * 2 >= a->peaks)
			return b ? bucket_bytes(b) : 0;
	}
	return 0;
}

bool rep_analysis_is_spike(const struct rep_analysis *a, const struct rep_an_unit *u)
{
	double typical = (double)rep_analysis_typical_peak(a);

	return u->peak != REP_UNKNOWN && u->peak >= a->opt.spike_floor &&
	       (double)u->peak >= a->opt.spike_factor * typical;
}

double rep_analysis_trend(const struct rep_analysis *a)
{
	struct rep_an_trend t = a->trend;

	trend_flush(&t);
	if (t.points < 3 || t.pooled_sxx <= 0)
		return 0;
	return t.pooled_sxy / t.pooled_sxx;
}

/* ---- reading ---- */

/* Reads the rest of a line longer than the buffer, dropping it. Returns whether a newline
 * ended it (else the file did). */
static bool skip_rest(FILE *f)
{
	int c;

	while ((c = getc(f)) != EOF)
		if (c == '\n')
			return true;
	return false;
}

int rep_analysis_read(struct rep_analysis *a, FILE *f, const char *log)
{
	char line[REP_LOGREAD_LINE_MAX];
	struct rep_logread r;
	struct rep_entry e;

	rep_analysis_begin_log(a, log);
	rep_logread_init(&r);
	setvbuf(f, NULL, _IOFBF, 1 << 16);  /* fewer read(2)s: a long log is read once, in order */
	/* A fixed buffer, so that one huge line in a hostile log costs nothing: its first
	 * REP_LOGREAD_LINE_MAX bytes are read, the rest skipped. */
	while (fgets(line, sizeof(line), f)) {
		size_t n = strlen(line);
		bool complete = n > 0 && line[n - 1] == '\n';

		if (!complete && n == sizeof(line) - 1)
			complete = skip_rest(f);
		else if (complete)
			n--;
		if (rep_logread_line(&r, line, n, complete, &e))
			rep_analysis_entry(a, &e);
	}
	if (ferror(f))
		return -(errno ? errno : EIO);
	if (rep_logread_finish(&r, &e))
		rep_analysis_entry(a, &e);
	return 0;
}
