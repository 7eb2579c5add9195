/* The memory the records of `wcmem-sandbox budget` live in, and the hash that finds them:
 * shared by the tests' table (log.c) and the fixtures' (fixtures.c). */
#include "runner/budget/budget.h"

#include <stddef.h>
#include <stdlib.h>

#define ARENA_FIRST (16 << 10)
#define ARENA_CHUNK (1 << 20)

/* Records are never freed one by one: they live in chunks freed together at the end. */
struct budget_arena {
	struct budget_arena *prev;
	size_t used, size;
	max_align_t data[];
};

void *budget_arena_alloc(struct budget_arena **a, size_t size)
{
	struct budget_arena *chunk = *a;
	void *p;

	size = (size + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
	if (!chunk || chunk->size - chunk->used < size) {
		/* From 16 KB, doubling to 1 MB: a short log takes little, a long one few mallocs. */
		size_t bytes = chunk ? chunk->size * 2 : ARENA_FIRST;

		if (bytes > ARENA_CHUNK)
			bytes = ARENA_CHUNK;
		if (bytes < size)
			bytes = size;

		chunk = malloc(sizeof(*chunk) + bytes);
		if (!chunk)
			return NULL;
		chunk->prev = *a;
		chunk->used = 0;
		chunk->size = bytes;
		*a = chunk;
	}
	p = (char *)chunk->data + chunk->used;
	chunk->used += size;
	return p;
}

void budget_arena_free(struct budget_arena **a)
{
	while (*a) {
		struct budget_arena *prev = (*a)->prev;

		free(*a);
		*a = prev;
	}
}

/* FNV-1a: names differ in their last characters ("test_x[1]", "test_x[2]"). */
uint32_t budget_hash(const char *s, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}
