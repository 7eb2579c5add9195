/* The unit records of a session (records.h). */
#include "runner/session/records.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/utf8.h"
#include "report/verdict.h"

/* What a settled record keeps of a name or a where= (up to 8 KiB each from a client):
 * 20,000 commands with long names must not grow the runner by their names. */
#define KEPT_TEXT_MAX 200
/* Records kept for pytest's own JUnit XML (HELLO records=1): at most some 60 MB. */
#define RUN_RECORDS_KEPT_MAX 100000

static void record_clear(struct rep_unit *u)
{
	free(u->name);
	free(u->cgroup);
	free(u->outcome);
	free(u->location);
	free(u->budget);
	free(u->extras_start);
	free(u->extras_end);
	free(u->message);
	free(u->failure);
	free(u->error);
	memset(u, 0, sizeof(*u));
}

int run_record_new(struct run_session *s)
{
	int idx;

	if (s->nfree > 0) {
		idx = s->free_slots[--s->nfree];
	} else {
		if (s->nunits == s->units_cap) {  /* doubling: thousands of tests a run */
			int cap = s->units_cap ? s->units_cap * 2 : 64;
			struct rep_unit *units = realloc(s->units, (size_t)cap * sizeof(*units));

			if (!units)
				return -ENOMEM;
			s->units = units;
			s->units_cap = cap;
		}
		idx = s->nunits++;
	}
	memset(&s->units[idx], 0, sizeof(s->units[idx]));
	s->units[idx].seq = s->units_made++;
	return idx;
}

static void let_go(struct run_session *s, int idx)
{
	if (s->nfree == s->free_cap) {
		int cap = s->free_cap ? s->free_cap * 2 : 8;
		int *slots = realloc(s->free_slots, (size_t)cap * sizeof(*slots));

		if (!slots)
			return;  /* then the record stays: memory, not correctness */
		s->free_slots = slots;
		s->free_cap = cap;
	}
	record_clear(&s->units[idx]);
	s->free_slots[s->nfree++] = idx;
	s->info.tests_dropped++;
}

/* FNV-1a: tells two long names with the same head apart in their cut form. */
static uint64_t text_hash(const char *s)
{
	uint64_t h = 14695981039346656037ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

/* A name or where= as a settled record keeps it: the text itself up to 200 bytes, else its
 * head (whole characters), " ...[N bytes, hash HEX16]". Returns a string to free, or NULL. */
static char *run_record_cut(const char *text)
{
	size_t len = strlen(text), head;
	char *out;

	if (len <= KEPT_TEXT_MAX)
		return strdup(text);
	head = rep_utf8_cut(text, KEPT_TEXT_MAX);
	if (asprintf(&out, "%.*s ...[%zu bytes, hash %016" PRIx64 "]", (int)head, text, len,
		     text_hash(text)) < 0)
		return NULL;
	return out;
}

bool run_record_named(const struct rep_unit *u, const char *name)
{
	char *cut;
	bool same;

	if (!u->name)
		return false;
	if (strcmp(u->name, name) == 0)
		return true;
	if (strlen(name) <= KEPT_TEXT_MAX || !(cut = run_record_cut(name)))
		return false;
	same = strcmp(u->name, cut) == 0;
	free(cut);
	return same;
}

/* Cuts a kept text in place; without memory for the cut, it stays whole. */
static void cut_in_place(char **text)
{
	char *cut;

	if (!*text || strlen(*text) <= KEPT_TEXT_MAX || !(cut = run_record_cut(*text)))
		return;
	free(*text);
	*text = cut;
}

/* A record kept for the summary alone: what the summary prints, bounded (its plugin lines
 * are gone already: run_unit_finish). */
static void keep_for_summary(struct rep_unit *u)
{
	cut_in_place(&u->name);
	cut_in_place(&u->location);
}

/* A test that ended as tests do, so that the summary shows it only among the biggest. */
static bool ordinary_test(const struct rep_unit *u)
{
	return u->kind && strcmp(u->kind, "test") == 0 && u->end == REP_END_EXITED &&
	       u->oom == REP_OOM_NONE && !u->timed_out && u->left_behind == 0 &&
	       u->outside_kills == 0;
}

static uint64_t peak_of(const struct rep_unit *u)
{
	return u->peak == REP_UNKNOWN ? 0 : u->peak;
}

/* Does a sort before b in the summary's biggest (peak, then the earlier first)? */
static bool bigger(const struct rep_unit *a, const struct rep_unit *b)
{
	return peak_of(a) != peak_of(b) ? peak_of(a) > peak_of(b) : a->seq < b->seq;
}

void run_record_settle(struct run_session *s, int idx)
{
	struct rep_unit *u = &s->units[idx];
	int last = 0;

	if (s->opt->json || s->opt->junit_xml || s->opt->html)
		return;  /* the reports list every unit, whole */
	keep_for_summary(u);
	/* Every test's verdict for pytest's own JUnit XML, names cut as above: bounded, since
	 * any client may ask for it. */
	if (s->keep_records && s->records_kept < RUN_RECORDS_KEPT_MAX) {
		s->records_kept++;
		return;
	}
	/* The summary lists tests under half their budget: their records stay. */
	if (!ordinary_test(u) || rep_under_half_budget(u))
		return;
	if (s->nbiggest < REP_SUMMARY_BIGGEST) {
		s->biggest[s->nbiggest++] = idx;
		return;
	}
	for (int i = 1; i < s->nbiggest; i++)  /* the one that sorts last goes */
		if (bigger(&s->units[s->biggest[last]], &s->units[s->biggest[i]]))
			last = i;
	if (bigger(u, &s->units[s->biggest[last]])) {
		int out = s->biggest[last];

		s->biggest[last] = idx;
		let_go(s, out);
	} else {
		let_go(s, idx);
	}
}

static int by_seq(const void *a, const void *b)
{
	const struct rep_unit *x = a, *y = b;

	return (x->seq > y->seq) - (x->seq < y->seq);
}

const struct rep_unit *run_records_in_order(const struct run_session *s, size_t *n,
					    struct rep_unit **copy)
{
	struct rep_unit *out = NULL;

	*copy = NULL;
	*n = (size_t)s->nunits;
	if (s->info.tests_dropped == 0 || !(out = calloc((size_t)s->nunits, sizeof(*out))))
		return s->units;
	*n = 0;
	for (int i = 0; i < s->nunits; i++)
		if (s->units[i].name)  /* a free slot has none */
			out[(*n)++] = s->units[i];
	qsort(out, *n, sizeof(*out), by_seq);
	*copy = out;
	return out;
}

void run_records_free(struct run_session *s)
{
	for (int i = 0; i < s->nunits; i++)
		record_clear(&s->units[i]);
	free(s->units);
	free(s->free_slots);
	s->units = NULL;
	s->free_slots = NULL;
	s->nunits = s->units_cap = s->nfree = s->free_cap = s->nbiggest = 0;
}
