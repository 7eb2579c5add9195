/* The shards of one run read together: which were seen, and the tests in two of them. */
#include "report/shards.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/json.h"

/* FNV-1a, 64 bits: stable, and for a million names a collision has odds of 1 in 30 million,
 * which would only hide a test in two shards, never invent one. */
static uint64_t name_hash(const char *name)
{
	uint64_t h = UINT64_C(14695981039346656037);

	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		h ^= *p;
		h *= UINT64_C(1099511628211);
	}
	return h ? h : 1;
}

void rep_shards_session(struct rep_shards *s, uint32_t index, uint32_t count)
{
	s->current = 0;
	if (!count || !index || index > count || count > REP_SHARDS_COUNT_MAX)
		return;
	if (!s->count) {
		s->seen = calloc((count + 7) / 8, 1);
		if (!s->seen) {
			s->nomem = true;
			return;
		}
		s->count = count;
	}
	if (count != s->count) {
		s->other_count = count;  /* the tests of such a session are not checked */
		return;
	}
	s->current = index;
	if (!(s->seen[(index - 1) / 8] & (1u << ((index - 1) % 8)))) {
		s->seen[(index - 1) / 8] |= (unsigned char)(1u << ((index - 1) % 8));
		s->nseen++;
	}
}

/* Doubles the table. Returns 0, or -1 when out of memory. */
static int grow(struct rep_shards *s)
{
	size_t n = s->nslots ? s->nslots * 2 : 1024;
	struct rep_shard_slot *slot = calloc(n, sizeof(*slot));

	if (!slot)
		return -1;
	for (size_t i = 0; i < s->nslots; i++) {
		size_t j;

		if (!s->slot[i].hash)
			continue;
		for (j = s->slot[i].hash & (n - 1); slot[j].hash; j = (j + 1) & (n - 1))
			;
		slot[j] = s->slot[i];
	}
	free(s->slot);
	s->slot = slot;
	s->nslots = n;
	return 0;
}

static void note_dup(struct rep_shards *s, const char *name, const char *where,
		     uint32_t first)
{
	struct rep_shard_dup *d;

	if (s->dups++ >= REP_SHARDS_DUPS_MAX)
		return;
	d = &s->dup[s->dups - 1];
	snprintf(d->name, sizeof(d->name), "%s", name);
	snprintf(d->where, sizeof(d->where), "%s", where);
	d->first = first;
	d->again = s->current;
}

void rep_shards_test(struct rep_shards *s, const char *name, const char *where)
{
	uint64_t h;
	size_t i;

	if (!s->current || s->full || s->nomem)
		return;
	if ((s->n + 1) * 2 > s->nslots) {
		if (s->n >= REP_SHARDS_TESTS_MAX) {
			s->full = true;
			return;
		}
		if (grow(s) < 0) {
			s->nomem = true;
			return;
		}
	}
	h = name_hash(name);
	for (i = h & (s->nslots - 1); s->slot[i].hash; i = (i + 1) & (s->nslots - 1)) {
		if (s->slot[i].hash != h)
			continue;
		/* The same shard again is a session appended to its log (--append), not two. */
		if (s->slot[i].shard != s->current)
			note_dup(s, name, where, s->slot[i].shard);
		return;
	}
	s->slot[i].hash = h;
	s->slot[i].shard = s->current;
	s->n++;
}

bool rep_shards_broken(const struct rep_shards *s)
{
	return s->dups > 0 || s->other_count != 0;
}

void rep_shards_print(FILE *f, const char *command, const struct rep_shards *s)
{
	unsigned long listed = 0;

	if (!s->count)
		return;
	fprintf(f, "wcmem-sandbox %s: one run in %u shard%s: %u of them read%s\n", command, s->count,
		s->count == 1 ? "" : "s", s->nseen, s->nseen == s->count ? "" :
		", the tests of the others are not in this answer");
	for (uint32_t i = 0; i < s->count && s->nseen < s->count && listed < 20; i++) {
		if (s->seen[i / 8] & (1u << (i % 8)))
			continue;
		fprintf(f, "wcmem-sandbox %s: shard %u/%u: not among those read\n", command, i + 1,
			s->count);
		listed++;
	}
	if (s->other_count)
		fprintf(f, "wcmem-sandbox %s: error: the logs are shards of %u and of %u: "
			"not one run (its tests were not checked against the others')\n", command, s->count,
			s->other_count);
	for (unsigned long i = 0; i < s->dups && i < REP_SHARDS_DUPS_MAX; i++)
		fprintf(f, "%s: error: %s ran in shard %u/%u and again in shard %u/%u: the "
			"shards' collections differ (run every shard on the same tests and "
			"version)\n", s->dup[i].where, s->dup[i].name, s->dup[i].first, s->count,
			s->dup[i].again, s->count);
	if (s->dups > REP_SHARDS_DUPS_MAX)
		fprintf(f, "wcmem-sandbox %s: error: and %lu more tests ran in two shards\n",
			command, s->dups - REP_SHARDS_DUPS_MAX);
	if (s->full || s->nomem)
		fprintf(f, "wcmem-sandbox %s: more tests than the check keeps (%s): tests "
			"after that were not checked for a second shard\n", command, s->full ?
			"4194304" : "out of memory");
}

void rep_shards_json(FILE *f, const struct rep_shards *s)
{
	const char *sep = "";

	if (!s->count) {
		fputs("null", f);
		return;
	}
	fprintf(f, "{\"count\": %u, \"read\": %u, \"missing\": [", s->count, s->nseen);
	for (uint32_t i = 0; i < s->count && s->nseen < s->count; i++) {
		if (s->seen[i / 8] & (1u << (i % 8)))
			continue;
		fprintf(f, "%s%u", sep, i + 1);
		sep = ", ";
	}
	fprintf(f, "], \"other_count\": %u, \"in_two_shards_count\": %lu, \"in_two_shards\": [",
		s->other_count, s->dups);
	for (unsigned long i = 0; i < s->dups && i < REP_SHARDS_DUPS_MAX; i++) {
		fputs(i ? ", {\"name\": " : "{\"name\": ", f);
		rep_json_string(f, s->dup[i].name);
		fputs(", \"where\": ", f);
		rep_json_string(f, s->dup[i].where);
		fprintf(f, ", \"shards\": [%u, %u]}", s->dup[i].first, s->dup[i].again);
	}
	fprintf(f, "], \"checked_all\": %s}", s->full || s->nomem ? "false" : "true");
}

void rep_shards_free(struct rep_shards *s)
{
	free(s->seen);
	free(s->slot);
	memset(s, 0, sizeof(*s));
}
