/* Admission: which START waits for room in the sandbox, and the tests run again after the
 * sandbox total killed them beside others (runner/control/PROTOCOL.md, "Room"). A START
 * that waits is answered later: the client already waits for its answer. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runner/budget/budget.h"
#include "runner/config/options.h"
#include "runner/config/size.h"
#include "runner/control/internal.h"
#include "runner/session/clock.h"

/* Tests run again, at most: past it, a test the sandbox total killed fails as before. */
#define RUN_RERUN_MAX 1024

/* A START that has waited this long lets no younger one pass it: a test that needs much
 * room is not starved by lighter ones that keep taking what frees up. Not a timing of a
 * test: it only orders starts. */
#define RUN_ADMIT_FAIR_S 10.0

/* The sandbox's tasks stalled on memory at least this part of the last 10 s (v2 PSI, in
 * hundredths of a percent): the kernel reclaims hard, and the next test waits. */
#define RUN_ADMIT_PRESSURE 1000

static struct rerun *rerun_of(const struct run_control *c, const char *name)
{
	for (int i = 0; i < c->nreruns; i++)
		if (strcmp(c->reruns[i].name, name) == 0)
			return &c->reruns[i];
	return NULL;
}

/* Whether a test waits to run again: then each START waits for its answer (and the
 * rerun's runs alone). */
static bool rerun_waiting(const struct run_control *c)
{
	for (int i = 0; i < c->nreruns; i++)
		if (!c->reruns[i].started)
			return true;
	return false;
}

/* The test's expected peak: its budget (the limit it runs under: it cannot go past it),
 * else the largest peak --expect's log measured, or 0 when nothing was measured. */
static uint64_t expected(const struct run_session *s, const char *name)
{
	struct budget *b = s->budgets ? budget_find(s->budgets, name) : NULL;

	return b ? b->bytes : budget_expected(s->expect, name);
}

/* Whether o's ROOM answered 1 for a test whose START has not come yet, lately. */
static bool reserved(const struct conn *o)
{
	return o->reserved && !run_conn_has_unit(o) &&
	       run_seconds_since(&o->reserved_since) <= RUN_ADMIT_FAIR_S;
}

/* What the open units are expected to take still, beyond what they hold now, and the
 * tests ROOM promised room to, whole. */
static uint64_t still_expected(struct run_control *c, const struct conn *k)
{
	uint64_t sum = 0, cur;

	for (struct conn *o = c->conns; o; o = o->next) {
		if (o != k && reserved(o))
			sum += o->expect;
		if (!run_conn_has_unit(o) || !o->expect)
			continue;
		if (cg_read_current(&o->unit.cg, &cur, NULL) < 0)
			cur = 0;  /* gone meanwhile: counted whole, the safe side */
		if (cur < o->expect)
			sum += o->expect - cur;
	}
	return sum;
}

/* Whether the sandbox holds need more now: its limit less what it holds and what its open
 * units are still expected to take. */
static bool has_room(struct run_control *c, const struct conn *k, uint64_t need)
{
	struct run_session *s = c->s;
	uint64_t limit = s->opt->limit, cur;

	if (limit == CFG_SIZE_MAX || cg_read_current(&s->sandbox, &cur, NULL) < 0)
		return true;  /* no total to fit in, or none to read: as without admission */
	cur += still_expected(c, k);
	return cur < limit && need <= limit - cur;
}

/* v2 only: v1 has no pressure per cgroup, nor a kernel without PSI (not asked again). */
void run_admit_sample(struct run_control *c)
{
	unsigned avg10;

	if (c->no_pressure)
		return;
	if (cg_read_pressure(&c->s->sandbox, &avg10, NULL) < 0) {
		c->no_pressure = true;
		c->pressured = false;
		return;
	}
	c->pressured = avg10 >= RUN_ADMIT_PRESSURE;
}

bool run_admit_may_keep(const struct run_control *c)
{
	return !c->s->budgets && !c->s->expect && !c->pressured && !rerun_waiting(c);
}

/* Whether a START of name by k would wait now, and (alone) whether it is a test to run
 * again, which runs alone. Reads only. */
static bool would_wait(struct run_control *c, struct conn *k, const char *name, bool *alone)
{
	bool others = false, others_alone = false, starved = false;
	struct rerun *again = rerun_of(c, name);
	uint64_t need;

	for (struct conn *o = c->conns; o; o = o->next) {
		if (o == k)
			continue;
		others |= run_conn_has_unit(o) || reserved(o);
		/* Not while it waits: the others go on until none runs (or it is starved),
		 * rather than every worker idling until the sandbox drains. */
		others_alone |= o->alone && run_conn_has_unit(o);
		starved |= o->held && run_seconds_since(&o->held_since) > RUN_ADMIT_FAIR_S &&
			   (!k->held || run_seconds_since(&k->held_since) <
			    run_seconds_since(&o->held_since));
	}
	*alone = again && !again->started;
	if (!others)
		return false;  /* nothing else runs: it starts, whatever it needs */
	if (*alone || others_alone || starved || c->pressured)
		return true;
	need = expected(c->s, name);
	return need && !has_room(c, k, need);
}

bool run_admit_waits(struct run_control *c, struct conn *k, const struct run_msg *m)
{
	bool alone, waits;

	/* One that moved itself into its kept unit runs already; one whose kept unit went
	 * (drop_kept) waits for its answer where it was, and may wait for room too. */
	if ((m->moved && k->kept.created) || k->state != CONN_IDLE)
		return false;
	waits = would_wait(c, k, m->name, &alone);
	k->alone = alone;
	return waits;
}

bool run_admit_room(struct run_control *c, struct conn *k, const char *name)
{
	bool alone;

	k->reserved = false;
	if (would_wait(c, k, name, &alone))
		return false;
	k->reserved = true;
	k->expect = expected(c->s, name);
	clock_gettime(CLOCK_MONOTONIC, &k->reserved_since);
	return true;
}

bool run_admit_by_memory(const struct run_control *c)
{
	return (c->s->budgets || c->s->expect) && c->s->opt->limit != CFG_SIZE_MAX;
}

void run_admit_started(struct run_control *c, struct conn *k)
{
	struct run_session *s = c->s;
	struct rep_unit *rec = run_unit_rec(s, &k->unit);
	struct rerun *again = rerun_of(c, rec->name);
	double waited;

	k->expect = expected(s, rec->name);
	k->reserved = false;
	if (again)
		again->started = true;
	/* Whatever ran beside whatever: a kill by the sandbox total is only then not the
	 * test's own doing. */
	for (struct conn *o = c->conns; o; o = o->next) {
		if (o == k || !run_conn_has_unit(o))
			continue;
		run_unit_rec(s, &o->unit)->beside = true;
		rec->beside = true;
	}
	if (!k->held)
		return;
	k->held = false;
	waited = run_seconds_since(&k->held_since);
	rec->waited = waited;
	s->info.waited++;
	s->info.wait_seconds += waited;
	if (waited > s->info.wait_longest)
		s->info.wait_longest = waited;
}

/* The kept units not yet moved into go: a client then waits for its START's answer, which
 * may wait for room. One a client already moved into (its START on its way) stays. */
static void drop_kept(struct run_control *c)
{
	for (struct conn *o = c->conns; o; o = o->next)
		if (o->kept.created)
			cg_remove_empty(&o->kept);
}

int run_admit_requeue(struct run_control *c, struct rep_unit *rec)
{
	struct rerun *more;

	if (rec->rerun)
		return 1;  /* asked again: the same answer */
	if (rec->oom != REP_OOM_SANDBOX || !rec->beside || rerun_of(c, rec->name) ||
	    c->nreruns >= RUN_RERUN_MAX)
		return 0;
	more = realloc(c->reruns, (size_t)(c->nreruns + 1) * sizeof(*more));
	if (!more)
		return 0;
	c->reruns = more;
	more[c->nreruns].name = strdup(rec->name);
	if (!more[c->nreruns].name)
		return 0;
	more[c->nreruns++].started = false;
	rec->rerun = true;
	c->s->info.reruns++;
	drop_kept(c);
	return 1;
}

void run_admit_free(struct run_control *c)
{
	for (int i = 0; i < c->nreruns; i++)
		free(c->reruns[i].name);
	free(c->reruns);
	c->reruns = NULL;
	c->nreruns = 0;
}
