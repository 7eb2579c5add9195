/* Finding a profile or a suite by name in constant time: a file of 100,000 sections must load
 * in linear time, and every header, inherit and suites entry looks a name up. */
#include "runner/config/config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The name of entry i: both cfg_profile and cfg_suite start with their name. */
static const char *name_at(const void *base, size_t stride, size_t i)
{
	return *(char *const *)((const char *)base + i * stride);
}

/* FNV-1a: names are short, and a hostile file gains nothing from collisions but time, which
 * the table's load factor keeps linear on average. */
static size_t hash(const char *s)
{
	size_t h = (size_t)14695981039346656037ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * (size_t)1099511628211ULL;
	return h;
}

/* The slot that holds name, or the empty one where it would go. */
static size_t *probe(const struct cfg_names *t, const void *base, size_t stride,
		     const char *name)
{
	size_t mask = t->size - 1;

	for (size_t i = hash(name) & mask;; i = (i + 1) & mask)
		if (!t->slot[i] || strcmp(name_at(base, stride, t->slot[i] - 1), name) == 0)
			return &t->slot[i];
}

long cfg_names_find(const struct cfg_names *t, const void *base, size_t stride,
		    const char *name)
{
	size_t *s;

	if (!t->size)
		return -1;
	s = probe(t, base, stride, name);
	return *s ? (long)(*s - 1) : -1;
}

/* Doubles the table (at least 16 slots) and puts every entry back. */
static int grow(struct cfg_names *t, const void *base, size_t stride)
{
	struct cfg_names bigger = { NULL, t->size ? t->size * 2 : 16, t->used };

	bigger.slot = calloc(bigger.size, sizeof(*bigger.slot));
	if (!bigger.slot)
		return -ENOMEM;
	for (size_t i = 0; i < t->size; i++)
		if (t->slot[i])
			*probe(&bigger, base, stride, name_at(base, stride, t->slot[i] - 1)) =
				t->slot[i];
	free(t->slot);
	*t = bigger;
	return 0;
}

int cfg_names_add(struct cfg_names *t, const void *base, size_t stride, size_t idx)
{
	size_t *s;

	if ((t->used + 1) * 2 > t->size && grow(t, base, stride) < 0)
		return -ENOMEM;
	s = probe(t, base, stride, name_at(base, stride, idx));
	if (!*s)
		t->used++;
	*s = idx + 1;
	return 0;
}

void cfg_names_free(struct cfg_names *t)
{
	free(t->slot);
	memset(t, 0, sizeof(*t));
}
