/* What a budget covers beyond a test's own peak: the fixtures it shares with other tests.
 *
 * Memory is charged to the cgroup that first touches it. A session-, package-, module- or
 * class-scoped fixture is set up in the unit of whichever test asks for it first, so in a
 * full run its memory is in that test's peak and in no other's; run alone, first, or on
 * another xdist worker, a test that uses it pays for its setup too. The plugin logs both
 * sides (etc/log-format.md): "Fixture set up: BYTES KEY" where a unit set one up, and
 * "Fixture shared: KEY" where a test used one set up elsewhere. A test's budget is then
 * made from its peak plus the largest setup charge of each fixture it shared: enough
 * whatever ran before it. */
#include "runner/budget/budget.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "report/verdict.h"

#define SETUP "Fixture set up: "
#define SHARED "Fixture shared: "
#define FIXTURE_BYTES_MAX (UINT64_C(1) << 50)  /* more than any machine: a claim past it is cut */

/* The text after "KEY" on an indented line, its length in *len; NULL when not that line. */
static const char *after(const char *line, size_t *len, const char *key)
{
	size_t indent = strspn(line, " "), klen = strlen(key);

	if (indent == 0 || indent + klen > *len || strncmp(line + indent, key, klen) != 0)
		return NULL;
	*len -= indent + klen;
	return line + indent + klen;
}

/* Whether acc already holds the line [s, s + len) (with its newline). */
static bool holds(const char *acc, const char *s, size_t len)
{
	for (const char *p = acc; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, s, len) == 0 && p[len] == '\n')
			return true;
	return false;
}

/* Appends "TAG REST\n" to *acc unless it is there. Returns 0, or -ENOMEM. */
static int append(char **acc, char tag, const char *rest, size_t len)
{
	size_t old = *acc ? strlen(*acc) : 0;
	char line[BUDGET_FIXTURE_LINE_MAX + 2], *grown;

	if (len == 0 || len > BUDGET_FIXTURE_LINE_MAX || memchr(rest, '\n', len))
		return 0;  /* nothing, or longer than the plugin writes: not ours */
	line[0] = tag;
	memcpy(line + 1, rest, len);
	if (holds(*acc, line, len + 1))
		return 0;
	grown = realloc(*acc, old + len + 3);
	if (!grown)
		return -ENOMEM;
	memcpy(grown + old, line, len + 1);
	grown[old + len + 1] = '\n';
	grown[old + len + 2] = '\0';
	*acc = grown;
	return 0;
}

int budget_fixture_line(const char *line, size_t len, char **acc)
{
	size_t rest_len = len;
	const char *rest = after(line, &rest_len, SETUP);

	if (rest) {
		char *end;
		unsigned long long bytes = strtoull(rest, &end, 10);

		if (end == rest || *end != ' ' || (size_t)(end - rest) >= rest_len || *rest == '-')
			return 0;
		(void)bytes;  /* checked here, read again by budget_add_shared */
		return append(acc, '+', rest, rest_len) < 0 ? -ENOMEM : 1;
	}
	rest_len = len;
	rest = after(line, &rest_len, SHARED);
	if (!rest)
		return 0;
	return append(acc, '=', rest, rest_len) < 0 ? -ENOMEM : 1;
}

int budget_merge_fixtures(char **into, const char *from)
{
	for (const char *p = from; p && *p; p = strchr(p, '\n') + 1)
		if (append(into, p[0], p + 1, strcspn(p + 1, "\n")) < 0)
			return -ENOMEM;
	return 0;
}

/* One fixture's largest setup charge. */
struct charge {
	const char *key;  /* into a test's fixtures text, up to its newline */
	size_t len;
	uint64_t bytes;
};

static int by_key(const void *a, const void *b)
{
	const struct charge *x = a, *y = b;
	int c = strncmp(x->key, y->key, x->len < y->len ? x->len : y->len);

	return c ? c : (x->len > y->len) - (x->len < y->len);
}

static uint64_t add_capped(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* Every "+BYTES KEY" line of every test, sorted by key, each key once with its largest. */
static int collect(const struct budget_peak *v, size_t n, struct charge **out, size_t *nout)
{
	struct charge *c = NULL;
	size_t k = 0, cap = 0;

	for (size_t i = 0; i < n; i++) {
		for (const char *p = v[i].fixtures; p && *p; p = strchr(p, '\n') + 1) {
			char *end;
			uint64_t bytes;

			if (*p != '+')
				continue;
			if (k == cap) {
				struct charge *g = realloc(c, (cap = cap ? cap * 2 : 16) * sizeof(*c));

				if (!g) {
					free(c);
					return -ENOMEM;
				}
				c = g;
			}
			bytes = strtoull(p + 1, &end, 10);
			c[k].key = end + 1;
			c[k].len = strcspn(end + 1, "\n");
			c[k++].bytes = bytes < FIXTURE_BYTES_MAX ? bytes : FIXTURE_BYTES_MAX;
		}
	}
	if (k)
		qsort(c, k, sizeof(*c), by_key);
	*nout = 0;
	for (size_t i = 0; i < k; i++) {  /* one per key, the largest: sorted, so neighbours */
		if (*nout && by_key(&c[*nout - 1], &c[i]) == 0) {
			if (c[i].bytes > c[*nout - 1].bytes)
				c[*nout - 1].bytes = c[i].bytes;
			continue;
		}
		c[(*nout)++] = c[i];
	}
	*out = c;
	return 0;
}

/* Whether test p set the fixture [key, key + len) up itself (its peak holds it then). */
static bool set_up_here(const struct budget_peak *p, const char *key, size_t len)
{
	for (const char *q = p->fixtures; q && *q; q = strchr(q, '\n') + 1) {
		const char *k = q[0] == '+' ? strchr(q, ' ') : NULL;

		if (k && strncmp(k + 1, key, len) == 0 && k[1 + len] == '\n')
			return true;
	}
	return false;
}

int budget_add_shared(struct budget_peak *v, size_t n)
{
	struct charge *c = NULL, key;
	size_t nc = 0;
	int r = collect(v, n, &c, &nc);

	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		v[i].shared = 0;
		for (const char *p = v[i].fixtures; p && *p; p = strchr(p, '\n') + 1) {
			const struct charge *found;

			if (*p != '=')
				continue;
			key.key = p + 1;
			key.len = strcspn(p + 1, "\n");
			if (set_up_here(&v[i], key.key, key.len))
				continue;
			found = nc ? bsearch(&key, c, nc, sizeof(*c), by_key) : NULL;
			if (found)
				v[i].shared = add_capped(v[i].shared, found->bytes);
		}
	}
	free(c);
	return 0;
}

uint64_t budget_need(const struct budget_peak *p)
{
	return add_capped(p->peak, p->shared);
}

void budget_shared_text(const struct budget_peak *p, char *buf, size_t size)
{
	char mb[32];

	if (p->shared == 0) {
		snprintf(buf, size, "%s", "");
		return;
	}
	rep_format_mb(p->shared, mb, sizeof(mb));
	snprintf(buf, size, " + shared fixtures %s", mb);
}
