/* TOP: the tests of the run, one a line, for pytest's own terminal summary (the plugin's
 * "memory" section): the tests OOM-killed first, in the order they ran, then the others by
 * peak, biggest first. The runner's records hold every attempt of a resumed run and every
 * pytest-xdist worker's tests, so the one pytest that asks sees them all. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/utf8.h"
#include "report/verdict.h"
#include "runner/config/field.h"
#include "runner/control/internal.h"

/* What an answer carries of a name and of a verdict, so that it fits RUN_REPLY_MAX once
 * encoded (3 bytes a byte at most): the runner's summary has the rest. */
#define TOP_NAME_MAX 800
#define TOP_VERDICT_MAX 400

static bool is_test(const struct rep_unit *u)
{
	/* ended: a unit still open has no duration yet (as VERDICT counts them) */
	return u->name && u->kind && strcmp(u->kind, "test") == 0 && u->duration > 0;
}

static bool killed(const struct rep_unit *u)
{
	return u->oom != REP_OOM_NONE && u->end != REP_END_EXITED;
}

static int by_rank(const void *a, const void *b)
{
	const struct rep_unit *x = *(const struct rep_unit *const *)a;
	const struct rep_unit *y = *(const struct rep_unit *const *)b;
	uint64_t px = x->peak == REP_UNKNOWN ? 0 : x->peak, py = y->peak == REP_UNKNOWN ? 0 : y->peak;

	if (killed(x) != killed(y))
		return killed(x) ? -1 : 1;
	if (!killed(x) && px != py)
		return px < py ? 1 : -1;
	return (x->seq > y->seq) - (x->seq < y->seq);
}

/* text cut to max bytes (whole characters), then encoded into enc. */
static void encode_cut(const char *text, size_t max, char *enc, size_t size)
{
	char cut[TOP_NAME_MAX + 4];
	size_t len = strlen(text) <= max ? strlen(text) : rep_utf8_cut(text, max);

	snprintf(cut, sizeof(cut), "%.*s%s", (int)len, text, text[len] ? "..." : "");
	cfg_field_encode(cut, enc, size);
}

/* "OK TESTS KILLED FLAG BYTES PEAK LIMIT NAME VERDICT" for the test of that rank: its peak
 * in bytes (0 when unknown), to sort by, then the sizes in people's words, as the summary
 * has them ("256.0%20MiB", "unknown", "max"). */
static void answer(struct conn *k, const struct rep_unit *u, size_t tests, size_t nkilled)
{
	char name[3 * (TOP_NAME_MAX + 4) + 1], verdict[REP_VERDICT_MAX];
	char said[3 * (TOP_VERDICT_MAX + 4) + 1], peak[32] = "unknown", limit[32] = "max";
	char peak_enc[96], limit_enc[96];

	if (u->peak != REP_UNKNOWN)
		rep_format_size(u->peak, peak, sizeof(peak));
	if (u->limit != REP_UNLIMITED)
		rep_format_size(u->limit, limit, sizeof(limit));
	cfg_field_encode(peak, peak_enc, sizeof(peak_enc));
	cfg_field_encode(limit, limit_enc, sizeof(limit_enc));
	rep_verdict_said(u, verdict, sizeof(verdict));
	encode_cut(u->name, TOP_NAME_MAX, name, sizeof(name));
	encode_cut(verdict, TOP_VERDICT_MAX, said, sizeof(said));
	run_conn_reply(k, "OK %zu %zu %s %llu %s %s %s %s", tests, nkilled,
		       killed(u) ? "killed" : "-",
		       (unsigned long long)(u->peak == REP_UNKNOWN ? 0 : u->peak), peak_enc,
		       limit_enc, name, said);
}

void run_control_top(struct run_control *c, struct conn *k, int rank)
{
	struct run_session *s = c->s;
	const struct rep_unit **tests = calloc((size_t)s->nunits + 1, sizeof(*tests));
	size_t n = 0, nkilled = 0;

	if (!tests) {
		run_conn_reply(k, "ERR 503 the runner is out of memory");
		return;
	}
	for (int i = 0; i < s->nunits; i++) {
		if (!is_test(&s->units[i]))
			continue;
		tests[n++] = &s->units[i];
		nkilled += killed(&s->units[i]);
	}
	qsort(tests, n, sizeof(*tests), by_rank);
	/* Its summary leaves the list to pytest's, which shows it now: said once, not twice. */
	s->info.tests_shown = true;
	if ((size_t)rank < n)
		answer(k, tests[rank], n + (size_t)s->info.tests_dropped, nkilled);
	else
		run_conn_reply(k, "ERR 404 %zu tests", n + (size_t)s->info.tests_dropped);
	free(tests);
}
