/* What a budget covers beyond a test's own peak: the fixtures it shares with other tests.
 *
 * Memory is charged to the cgroup that first touches it. A session-, package-, module- or
 * class-scoped fixture is set up in the unit of whichever test asks for it first, so in a
 * full run its memory is in that test's peak and in no other's; run alone, first, or on
 * another xdist worker, a test that uses it pays for its setup too. The plugin logs both
 * sides (etc/log-format.md): "Fixture set up: BYTES KEY" where a unit set one up, and
 * "Fixture shared: KEY" where a test used one set up elsewhere. A test's budget is then
 * made from its peak plus the largest setup charge of each fixture it shared: enough
 * whatever ran before it.
 *
 * Read one line at a time as the peaks are: an entry's fixture lines wait in the table's
 * fixed buffer until the entry is recorded; each distinct key is then kept once (a hash
 * table of them, with its largest charge), and each test links to at most
 * BUDGET_FIXTURES_MAX of them. */
#include "runner/budget/budget.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SETUP "Fixture set up: "
#define SHARED "Fixture shared: "
#define FIXTURE_BYTES_MAX (UINT64_C(1) << 50)  /* more than any machine: a claim past it is cut */

struct budget_fixture {
	uint64_t charge;  /* the largest setup charge any log shows; 0 when none sets it up */
	uint32_t hash;
	uint16_t len;
	char key[];
};

/* The text after "KEY" on an indented line, its length in *len; NULL when not that line. */
static const char *after(const char *line, size_t *len, const char *key)
{
	size_t indent = strspn(line, " "), klen = strlen(key);

	if (indent == 0 || indent + klen > *len || strncmp(line + indent, key, klen) != 0)
		return NULL;
	*len -= indent + klen;
	return line + indent + klen;
}

/* "BYTES KEY": the bytes, saturated at FIXTURE_BYTES_MAX; the key in *rest, *len. */
static bool charge_of(const char **rest, size_t *len, uint64_t *bytes)
{
	size_t i = 0;

	*bytes = 0;
	for (; i < *len && (*rest)[i] >= '0' && (*rest)[i] <= '9'; i++) {
		*bytes = *bytes * 10 + (uint64_t)((*rest)[i] - '0');
		if (*bytes > FIXTURE_BYTES_MAX)
			*bytes = FIXTURE_BYTES_MAX;
	}
	if (i == 0 || i >= *len || (*rest)[i] != ' ')
		return false;
	*rest += i + 1;
	*len -= i + 1;
	return true;
}

int budget_fixture_line(struct budget_peaks *t, const char *line, size_t len)
{
	size_t rest_len = len;
	const char *rest = after(line, &rest_len, SETUP);
	struct budget_fixture_line *l;
	uint64_t bytes = 0;
	bool set_up = rest != NULL;

	if (!rest) {
		rest_len = len;
		rest = after(line, &rest_len, SHARED);
	}
	if (!rest || (set_up && !charge_of(&rest, &rest_len, &bytes)))
		return 0;
	if (rest_len == 0 || rest_len > BUDGET_FIXTURE_KEY_MAX || t->nlines == BUDGET_FIXTURES_MAX)
		return 1;  /* longer than the plugin's, or past the count kept: dropped */
	l = &t->lines[t->nlines++];
	l->bytes = bytes;
	l->set_up = set_up;
	l->len = (uint16_t)rest_len;
	memcpy(l->key, rest, rest_len);
	return 1;
}

/* ---- the keys: each once ---- */

static struct budget_fixture **fixture_slot(const struct budget_peaks *t, const char *key,
					    size_t len, uint32_t h)
{
	size_t mask = t->nfslots - 1;

	for (size_t i = h & mask;; i = (i + 1) & mask) {
		struct budget_fixture *f = t->fslot[i];

		if (!f || (f->hash == h && f->len == len && memcmp(f->key, key, len) == 0))
			return &t->fslot[i];
	}
}

/* Doubles the keys' table when it is half full. */
static int fixtures_grow(struct budget_peaks *t)
{
	size_t nslots = t->nfslots ? t->nfslots * 2 : 64, n = t->nfslots;
	struct budget_fixture **old = t->fslot;

	t->fslot = calloc(nslots, sizeof(*t->fslot));
	if (!t->fslot) {
		t->fslot = old;
		return -ENOMEM;
	}
	t->nfslots = nslots;
	for (size_t i = 0; i < n; i++)
		if (old[i])
			*fixture_slot(t, old[i]->key, old[i]->len, old[i]->hash) = old[i];
	free(old);
	return 0;
}

/* The fixture of the line's key, added when new; NULL when out of memory. */
static struct budget_fixture *fixture_of(struct budget_peaks *t,
					 const struct budget_fixture_line *l)
{
	uint32_t h = budget_hash(l->key, l->len);
	struct budget_fixture **s, *f;

	if (t->nfixtures * 2 >= t->nfslots && fixtures_grow(t) < 0)
		return NULL;
	s = fixture_slot(t, l->key, l->len, h);
	if (*s)
		return *s;
	f = budget_arena_alloc(&t->arena, sizeof(*f) + l->len);
	if (!f)
		return NULL;
	f->charge = 0;
	f->hash = h;
	f->len = l->len;
	memcpy(f->key, l->key, l->len);
	t->nfixtures++;
	return *s = f;
}

/* The link from p to f, added when new and p has room; NULL when it has none or out of
 * memory (*nomem). */
static struct budget_use *use_of(struct budget_peaks *t, struct budget_peak *p,
				 struct budget_fixture *f, bool *nomem)
{
	struct budget_use *u;

	for (u = p->uses; u; u = u->next)
		if (u->fixture == f)
			return u;
	if (p->nuses == BUDGET_FIXTURES_MAX)
		return NULL;
	u = budget_arena_alloc(&t->arena, sizeof(*u));
	if (!u) {
		*nomem = true;
		return NULL;
	}
	*u = (struct budget_use){ .next = p->uses, .fixture = f };
	p->uses = u;
	p->nuses++;
	return u;
}

int budget_fixtures_record(struct budget_peaks *t, struct budget_peak *p)
{
	for (size_t i = 0; i < t->nlines; i++) {
		const struct budget_fixture_line *l = &t->lines[i];
		struct budget_fixture *f = fixture_of(t, l);
		struct budget_use *u;
		bool nomem = false;

		if (!f)
			return -ENOMEM;
		if (l->set_up && l->bytes > f->charge)
			f->charge = l->bytes;
		u = use_of(t, p, f, &nomem);
		if (nomem)
			return -ENOMEM;
		if (u && l->set_up)
			u->set_up = true;
		else if (u)
			u->shared = true;
	}
	return 0;
}

void budget_fixtures_free(struct budget_peaks *t)
{
	free(t->fslot);  /* the fixtures are in the arena */
	t->fslot = NULL;
	t->nfslots = t->nfixtures = 0;
}

static uint64_t add_capped(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

uint64_t budget_shared(const struct budget_peak *p)
{
	uint64_t sum = 0;

	for (const struct budget_use *u = p->uses; u; u = u->next)
		if (u->shared && !u->set_up)
			sum = add_capped(sum, u->fixture->charge);
	return sum;
}

uint64_t budget_need(const struct budget_peak *p)
{
	return add_capped(p->peak, budget_shared(p));
}
