/* Splitting `command` and `env` values into words, with the quoting a shell user already
 * writes but without a shell. Not wordexp(3): it expands variables and runs command
 * substitutions, which a config value must not do behind the user's back. Shell syntax that
 * would mean something else under a shell (a pipe, a redirection, $VAR) is refused rather
 * than passed on as a literal word, so no one is surprised by it. */
#include "runner/config/config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SHELL_SPECIAL "|&;<>()$`"

struct splitter {
	const char *text;
	const char *p;       /* the next character */
	char *word;          /* the word being built (room for all of text) */
	size_t len;
	bool in_word;        /* a word has begun (even an empty "" one) */
	char **v;
	size_t n;
	const char *hint;
	struct wc_error *e;
};

void cfg_words_free(char **words)
{
	for (size_t i = 0; words && words[i]; i++)
		free(words[i]);
	free(words);
}

static int column(const struct splitter *s, const char *at)
{
	return (int)(at - s->text) + 1;
}

/* Ends the current word, if any. Returns 0 or -ENOMEM. */
static int end_word(struct splitter *s)
{
	char **v;

	if (!s->in_word)
		return 0;
	v = realloc(s->v, (s->n + 2) * sizeof(*v));
	if (!v)
		return wc_fail(s->e, ENOMEM, "split words");
	s->v = v;
	s->v[s->n] = strndup(s->word, s->len);
	if (!s->v[s->n])
		return wc_fail(s->e, ENOMEM, "split words");
	s->v[++s->n] = NULL;
	s->len = 0;
	s->in_word = false;
	return 0;
}

static int refuse(struct splitter *s, const char *at, const char *why)
{
	return wc_fail(s->e, EINVAL, "unquoted '%c' at column %d %s; %s", *at, column(s, at),
			why, s->hint);
}

/* '...': everything up to the next ' as is. */
static int single_quoted(struct splitter *s)
{
	const char *open = s->p, *close = strchr(open + 1, '\'');

	if (!close)
		return wc_fail(s->e, EINVAL, "the ' at column %d is never closed",
				column(s, open));
	memcpy(s->word + s->len, open + 1, (size_t)(close - open - 1));
	s->len += (size_t)(close - open - 1);
	s->p = close + 1;
	s->in_word = true;
	return 0;
}

/* "...": a backslash escapes " \ $ ` and stays before anything else, as in sh. */
static int double_quoted(struct splitter *s)
{
	const char *open = s->p;

	for (s->p++; *s->p && *s->p != '"'; s->p++) {
		if (*s->p == '\\' && s->p[1] && strchr("\"\\$`", s->p[1]))
			s->p++;
		else if (*s->p == '$' || *s->p == '`')
			return wc_fail(s->e, EINVAL, "'%c' at column %d would be expanded by a "
					"shell, and nothing is expanded here; write \\%c, or use "
					"'...'", *s->p, column(s, s->p), *s->p);
		s->word[s->len++] = *s->p;
	}
	if (!*s->p)
		return wc_fail(s->e, EINVAL, "the \" at column %d is never closed",
				column(s, open));
	s->p++;
	s->in_word = true;
	return 0;
}

/* One step: a blank, a quote, a backslash, or a plain character. Returns 0 or -errno. */
static int step(struct splitter *s)
{
	char c = *s->p;

	if (c == ' ' || c == '\t') {
		s->p++;
		return end_word(s);
	}
	if (c == '\'')
		return single_quoted(s);
	if (c == '"')
		return double_quoted(s);
	if (c == '\\') {
		if (!s->p[1])
			return wc_fail(s->e, EINVAL, "a backslash at the end escapes nothing");
		s->word[s->len++] = s->p[1];
		s->p += 2;
		s->in_word = true;
		return 0;
	}
	if (strchr(SHELL_SPECIAL, c))
		return refuse(s, s->p, "is shell syntax");
	if (c == '#' && !s->in_word)
		return refuse(s, s->p, "would start a shell comment");
	s->word[s->len++] = c;
	s->p++;
	s->in_word = true;
	return 0;
}

int cfg_split_words(const char *text, const char *hint, char ***words, struct wc_error *e)
{
	struct splitter s = { .text = text, .p = text, .hint = hint, .e = e };
	int r = 0;

	*words = NULL;
	s.word = malloc(strlen(text) + 1);
	s.v = calloc(1, sizeof(*s.v));
	if (!s.word || !s.v)
		r = wc_fail(e, ENOMEM, "split words");
	while (r == 0 && *s.p)
		r = step(&s);
	if (r == 0)
		r = end_word(&s);
	free(s.word);
	if (r < 0) {
		cfg_words_free(s.v);
		return r;
	}
	*words = s.v;
	return (int)s.n;
}

char *cfg_join(char *buf, size_t size, const char *const *items, size_t n, const char *sep)
{
	size_t used = 0;

	if (size == 0)
		return buf;
	buf[0] = '\0';
	/* snprintf says what it would have written: clamp, or the next item lands past buf. */
	for (size_t i = 0; i < n && used < size - 1; i++) {
		int k = snprintf(buf + used, size - used, "%s%s", i ? sep : "", items[i]);

		if (k < 0)
			break;
		used += (size_t)k < size - used ? (size_t)k : size - used - 1;
	}
	return buf;
}
