/* Our JSON reports into one: a parser of our own that checks the whole of each input and
 * keeps where its session and its units are, then the merged object from those spans. */
#include "report/merge.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "report/json.h"
#include "report/logread.h"

#define REPORT_SCHEMA "wcmem-sandbox-report/1"

struct span {
	size_t at, end;  /* [at, end) of the text; end 0: none */
};

struct jscan {
	const struct rep_merge_input *in;
	size_t pos;
	struct wc_error *e;
};

/* The members of an object that are kept: the spans of their string values. */
struct wanted {
	const char *const *keys;
	struct span *found;
	size_t n;
};

__attribute__((format(printf, 2, 3)))
static int bad(struct jscan *j, const char *fmt, ...)
{
	char what[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	wc_fail(j->e, 0, "%s: byte %zu: %s", j->in->path, j->pos + 1, what);
	wc_hint(j->e, "give the JSON report a run wrote (--json FILE)");
	return -EINVAL;
}

static char peek(const struct jscan *j)
{
	return j->pos < j->in->len ? j->in->text[j->pos] : '\0';
}

static void ws(struct jscan *j)
{
	while (j->pos < j->in->len && strchr(" \t\n\r", j->in->text[j->pos]) &&
	       j->in->text[j->pos])
		j->pos++;
}

static int expect(struct jscan *j, char c)
{
	ws(j);
	if (peek(j) != c)
		return bad(j, "'%c' expected", c);
	j->pos++;
	return 0;
}

/* A string; *s gets its text between the quotes, as written (escapes kept). */
static int string(struct jscan *j, struct span *s)
{
	const char *t = j->in->text;

	if (expect(j, '"') < 0)
		return -EINVAL;
	s->at = j->pos;
	while (j->pos < j->in->len && t[j->pos] != '"') {
		unsigned char c = (unsigned char)t[j->pos];

		if (c < 0x20)
			return bad(j, "a control character in a string");
		if (c == '\\') {
			j->pos++;
			if (j->pos >= j->in->len || !strchr("\"\\/bfnrtu", t[j->pos]) || !t[j->pos])
				return bad(j, "an escape JSON does not have");
			if (t[j->pos] == 'u') {
				for (int k = 1; k <= 4; k++)
					if (j->pos + k >= j->in->len ||
					    !strchr("0123456789abcdefABCDEF", t[j->pos + k]) ||
					    !t[j->pos + k])
						return bad(j, "\\u without four hex digits");
				j->pos += 4;
			}
		}
		j->pos++;
	}
	if (j->pos >= j->in->len)
		return bad(j, "a string that does not end");
	s->end = j->pos++;
	return 0;
}

static size_t digits(struct jscan *j)
{
	size_t n = 0;

	while (peek(j) >= '0' && peek(j) <= '9') {
		j->pos++;
		n++;
	}
	return n;
}

/* A number as JSON writes one: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int number(struct jscan *j)
{
	if (peek(j) == '-')
		j->pos++;
	if (peek(j) == '0')
		j->pos++;
	else if (!digits(j))
		return bad(j, "a value expected");
	if (peek(j) == '.') {
		j->pos++;
		if (!digits(j))
			return bad(j, "digits expected after '.'");
	}
	if (peek(j) == 'e' || peek(j) == 'E') {
		j->pos++;
		if (peek(j) == '+' || peek(j) == '-')
			j->pos++;
		if (!digits(j))
			return bad(j, "digits expected in an exponent");
	}
	return 0;
}

static int value(struct jscan *j, int depth, const struct wanted *w);

/* open, items separated by ',', close: each item read by item(j, ctx). */
static int items(struct jscan *j, char open, char close, int (*item)(struct jscan *, void *),
		 void *ctx)
{
	if (expect(j, open) < 0)
		return -EINVAL;
	ws(j);
	if (peek(j) == close) {
		j->pos++;
		return 0;
	}
	for (;;) {
		if (item(j, ctx) < 0)
			return -EINVAL;
		ws(j);
		if (peek(j) == close) {
			j->pos++;
			return 0;
		}
		if (expect(j, ',') < 0)
			return -EINVAL;
	}
}

struct level {
	int depth;
	const struct wanted *w;
};

/* Whether the key span is k. */
static bool key_is(const struct jscan *j, struct span key, const char *k)
{
	return key.end - key.at == strlen(k) && memcmp(j->in->text + key.at, k, strlen(k)) == 0;
}

/* "key": value, the value kept when the wanted list names the key and it is a string. */
static int member(struct jscan *j, void *ctx)
{
	const struct level *l = ctx;
	struct span key, *into = NULL;

	if (string(j, &key) < 0 || expect(j, ':') < 0)
		return -EINVAL;
	for (size_t i = 0; l->w && i < l->w->n; i++)
		if (key_is(j, key, l->w->keys[i]))
			into = &l->w->found[i];
	ws(j);
	if (into && peek(j) == '"')
		return string(j, into);
	return value(j, l->depth + 1, NULL);
}

static int element(struct jscan *j, void *ctx)
{
	return value(j, *(int *)ctx + 1, NULL);
}

/* An object; the string members w names (may be NULL) get their spans. */
static int object(struct jscan *j, int depth, const struct wanted *w)
{
	struct level l = { depth, w };

	if (depth > REP_MERGE_DEPTH_MAX)
		return bad(j, "nested more than %d deep", REP_MERGE_DEPTH_MAX);
	return items(j, '{', '}', member, &l);
}

static int array(struct jscan *j, int depth)
{
	if (depth > REP_MERGE_DEPTH_MAX)
		return bad(j, "nested more than %d deep", REP_MERGE_DEPTH_MAX);
	return items(j, '[', ']', element, &depth);
}

static int word(struct jscan *j, const char *w)
{
	size_t n = strlen(w);

	if (j->in->len - j->pos < n || memcmp(j->in->text + j->pos, w, n) != 0)
		return bad(j, "a value expected");
	j->pos += n;
	return 0;
}

static int value(struct jscan *j, int depth, const struct wanted *w)
{
	struct span s;

	ws(j);
	switch (peek(j)) {
	case '{': return object(j, depth, w);
	case '[': return array(j, depth);
	case '"': return string(j, &s);
	case 't': return word(j, "true");
	case 'f': return word(j, "false");
	case 'n': return word(j, "null");
	default: return number(j);
	}
}

/* One input, checked: its session's span and shard, its units' spans, names and kinds. */
struct report {
	struct span session, shard;
	struct span *units, *names, *kinds;
	size_t nunits, cap;
};

static void report_free(struct report *r)
{
	free(r->units);
	free(r->names);
	free(r->kinds);
}

static int add_unit(struct jscan *j, struct report *r, struct span at, struct span name,
		    struct span kind)
{
	if (r->nunits == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 64;
		struct span *u = realloc(r->units, cap * sizeof(*u)), *nm, *k;

		if (u)
			r->units = u;
		nm = u ? realloc(r->names, cap * sizeof(*nm)) : NULL;
		if (nm)
			r->names = nm;
		k = nm ? realloc(r->kinds, cap * sizeof(*k)) : NULL;
		if (!k)
			return wc_fail(j->e, ENOMEM, "%s", j->in->path);
		r->kinds = k;
		r->cap = cap;
	}
	r->units[r->nunits] = at;
	r->names[r->nunits] = name;
	r->kinds[r->nunits++] = kind;
	return 0;
}

/* A unit: an object, its span and its name and kind kept. */
static int unit(struct jscan *j, void *ctx)
{
	static const char *const keys[] = { "name", "kind" };
	struct span found[2] = { { 0, 0 }, { 0, 0 } }, at;
	struct wanted w = { keys, found, 2 };

	ws(j);
	at.at = j->pos;
	if (peek(j) != '{')
		return bad(j, "a unit (an object) expected");
	if (object(j, 2, &w) < 0)
		return -EINVAL;
	at.end = j->pos;
	return add_unit(j, ctx, at, found[0], found[1]);
}

struct top_state {
	struct report *r;
	struct span schema;
	bool have_units;
};

/* A member of the top object: the schema, the session (its span and shard), the units. */
static int top_member(struct jscan *j, void *ctx)
{
	static const char *const keys[] = { "shard" };
	struct top_state *t = ctx;
	struct span key;
	int r;

	if (string(j, &key) < 0 || expect(j, ':') < 0)
		return -EINVAL;
	ws(j);
	if (key_is(j, key, "schema") && peek(j) == '"')
		return string(j, &t->schema);
	if (key_is(j, key, "session") && peek(j) == '{') {
		struct wanted w = { keys, &t->r->shard, 1 };

		t->r->session.at = j->pos;
		r = object(j, 1, &w);
		t->r->session.end = j->pos;
		return r;
	}
	if (key_is(j, key, "units") && peek(j) == '[') {
		t->have_units = true;
		return items(j, '[', ']', unit, t->r);
	}
	return value(j, 1, NULL);
}

/* The top: {"schema": REPORT_SCHEMA, "session": {...}, "units": [...], ...}. */
static int top(struct jscan *j, struct report *r)
{
	struct top_state t = { r, { 0, 0 }, false };

	if (items(j, '{', '}', top_member, &t) < 0)
		return -EINVAL;
	ws(j);
	if (j->pos != j->in->len)
		return bad(j, "more after the report's object");
	if (!key_is(j, t.schema, REPORT_SCHEMA) || !r->session.end || !t.have_units) {
		j->pos = 0;
		return bad(j, "not a report of schema %s (with its session and units)",
			   REPORT_SCHEMA);
	}
	return 0;
}

/* The text of s, NUL-terminated and cut to fit buf. */
static const char *text_of(const struct rep_merge_input *in, struct span s, char *buf,
			   size_t size)
{
	size_t n = s.end > s.at ? s.end - s.at : 0;

	snprintf(buf, size, "%.*s", (int)(n < size ? n : size - 1), in->text + s.at);
	return buf;
}

/* The tests of input i for the check that none is in two inputs, and its shard. */
static void note(const struct rep_merge_input *in, size_t i, size_t n, const struct report *r,
		 struct rep_merge_result *res)
{
	char name[REP_LOGREAD_NAME_MAX], kind[16], shard[32];
	uint32_t index, count;

	rep_shards_session(&res->tests, (uint32_t)i + 1, (uint32_t)n);
	for (size_t u = 0; u < r->nunits; u++) {
		if (strcmp(text_of(&in[i], r->kinds[u], kind, sizeof(kind)), "test") == 0)
			rep_shards_test(&res->tests, text_of(&in[i], r->names[u], name,
							     sizeof(name)), in[i].path);
	}
	res->units += r->nunits;
	if (r->shard.end && rep_logread_shard(text_of(&in[i], r->shard, shard, sizeof(shard)),
					      &index, &count) == 0)
		rep_shards_session(&res->shards, index, count);
}

/* A unit's object with "report": N first (N: its input, from 1). */
static void put_unit(FILE *out, const struct rep_merge_input *in, size_t i, struct span u)
{
	const char *t = in[i].text;
	size_t at = u.at + 1;  /* past its '{' */

	while (at < u.end && strchr(" \t\n\r", t[at]))
		at++;
	fprintf(out, "    {\"report\": %zu%s%.*s", i + 1, t[at] == '}' ? "" : ", ",
		(int)(u.end - at), t + at);
}

static void put(FILE *out, const struct rep_merge_input *in, size_t n,
		const struct report *r)
{
	const char *sep = "";

	fputs("{\n  \"schema\": \"wcmem-sandbox-merged/1\",\n  \"reports\": [", out);
	for (size_t i = 0; i < n; i++) {
		fputs(i ? ", " : "", out);
		rep_json_string(out, in[i].path);
	}
	fputs("],\n  \"sessions\": [\n", out);
	for (size_t i = 0; i < n; i++)
		fprintf(out, "    %.*s%s\n", (int)(r[i].session.end - r[i].session.at),
			in[i].text + r[i].session.at, i + 1 < n ? "," : "");
	fputs("  ],\n  \"units\": [", out);
	for (size_t i = 0; i < n; i++)
		for (size_t u = 0; u < r[i].nunits; u++) {
			fputs(*sep ? ",\n" : "\n", out);
			put_unit(out, in, i, r[i].units[u]);
			sep = ",";
		}
	fputs(*sep ? "\n  ]\n}\n" : "]\n}\n", out);
}

int rep_merge_json(const struct rep_merge_input *in, size_t n, FILE *out,
		   struct rep_merge_result *res, struct wc_error *e)
{
	struct report *r = calloc(n ? n : 1, sizeof(*r));
	int ret = 0;

	if (!r)
		return wc_fail(e, ENOMEM, "merge");
	for (size_t i = 0; i < n && ret == 0; i++) {
		struct jscan j = { &in[i], 0, e };

		ret = top(&j, &r[i]);
		if (ret == 0)
			note(in, i, n, &r[i], res);
	}
	if (ret == 0) {
		put(out, in, n, r);
		if (fflush(out) != 0 || ferror(out))
			ret = wc_fail(e, errno ? errno : EIO, "write the merged report");
	}
	for (size_t i = 0; i < n; i++)
		report_free(&r[i]);
	free(r);
	return ret;
}

void rep_merge_result_free(struct rep_merge_result *res)
{
	rep_shards_free(&res->tests);
	rep_shards_free(&res->shards);
}
