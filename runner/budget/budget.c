/* The budget file: read line by line, each line through inih.
 *
 * inih's handler cannot be relied on for a line number (runner/config/load.c says why), so each
 * line goes to ini_parse_string on its own: inih keeps its rules for comments, blanks and
 * `key = value`, and the line's number is ours. The one section is tracked here. */
#include "runner/budget/budget.h"

#include <errno.h>
#include <fcntl.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup/cleanup.h"
#include "report/log.h"
#include "runner/config/field.h"
#include "runner/config/size.h"

struct reader {
	const char *path;
	int line;
	bool in_section;
	struct budget_file *bf;
	size_t cap;
	struct wc_error *e;
	int r;  /* the first error */
};

__attribute__((format(printf, 3, 4)))
static int fail_at(struct reader *rd, const char *hint, const char *fmt, ...)
{
	char msg[sizeof(rd->e->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	wc_fail(rd->e, 0, "%s:%d: %s", rd->path, rd->line, msg);
	wc_hint(rd->e, "%s", hint);
	rd->r = -EINVAL;
	return 0;  /* inih: stop */
}

static int out_of_memory(struct reader *rd)
{
	rd->r = wc_fail(rd->e, ENOMEM, "read %s", rd->path);
	return 0;
}

#define HINT_LINE "a budget line reads `test = SIZE NODEID` in [budgets]; " \
		  "`wcmem-sandbox budget` writes one"

/* "210M tests/a.py::test_x" into rd's next budget. */
static int add(struct reader *rd, const char *value)
{
	const char *sp = strchr(value, ' ');
	char size[64], *name;
	struct budget *b;
	uint64_t bytes;

	if (!sp || sp - value >= (long)sizeof(size) || !sp[1])
		return fail_at(rd, HINT_LINE, "expected 'SIZE NODEID', got '%.80s'", value);
	memcpy(size, value, (size_t)(sp - value));
	size[sp - value] = '\0';
	if (cfg_parse_marker_size(size, &bytes) < 0)
		return fail_at(rd, "write it as 210M or 1.5G", "bad SIZE '%s' for %.80s", size,
			       sp + 1);
	if (rd->bf->n == rd->cap) {
		size_t cap = rd->cap ? rd->cap * 2 : 64;
		struct budget *v = realloc(rd->bf->v, cap * sizeof(*v));

		if (!v)
			return out_of_memory(rd);
		rd->bf->v = v;
		rd->cap = cap;
	}
	name = strdup(sp + 1);
	if (!name)
		return out_of_memory(rd);
	if (cfg_field_decode(name) < 0) {
		free(name);
		return fail_at(rd, "write '%' as %25", "bad %%-escape in '%.80s'", sp + 1);
	}
	b = &rd->bf->v[rd->bf->n++];
	*b = (struct budget){ .name = name, .bytes = bytes, .line = rd->line };
	return 1;
}

static int handler(void *user, const char *section, const char *key, const char *value)
{
	struct reader *rd = user;

	(void)section;  /* each line is parsed alone: the section is ours to track */
	if (!rd->in_section)
		return fail_at(rd, "put the budgets after a [budgets] line",
			       "'%.40s' outside [budgets]", key);
	if (strcmp(key, "test") != 0)
		return fail_at(rd, HINT_LINE, "unknown key '%.40s' in [budgets]", key);
	return add(rd, value);
}

/* One line, its end already cut off. */
static void parse_line(struct reader *rd, char *s)
{
	int r;

	s += strspn(s, " \t");
	if (strlen(s) > BUDGET_LINE_MAX) {
		fail_at(rd, "inih reads no more of a line; a node ID that long cannot be budgeted",
			"line of %zu characters: inih reads at most %d", strlen(s), BUDGET_LINE_MAX);
		return;
	}
	if (*s == '[') {
		if (strncmp(s, "[budgets]", strlen("[budgets]")) != 0)
			fail_at(rd, "the file has one section, [budgets]", "unknown section '%.40s'", s);
		rd->in_section = true;
		return;
	}
	r = ini_parse_string(s, handler, rd);
	if (r > 0 && rd->r == 0)
		fail_at(rd, HINT_LINE, "'%.80s' is not 'key = value', a [section] or a comment", s);
	if (r < 0 && rd->r == 0)
		out_of_memory(rd);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct budget *)a)->name, ((const struct budget *)b)->name);
}

/* Sorted, with a name given twice refused at its second line. */
static int sort_check(struct reader *rd)
{
	struct budget *v = rd->bf->v;

	if (rd->bf->n > 1)  /* an empty file has no array: qsort takes none */
		qsort(v, rd->bf->n, sizeof(*v), by_name);
	for (size_t i = 1; i < rd->bf->n; i++) {
		if (strcmp(v[i - 1].name, v[i].name) != 0)
			continue;
		rd->line = v[i].line > v[i - 1].line ? v[i].line : v[i - 1].line;
		fail_at(rd, "keep one line per test", "a second budget for '%.80s' (first at "
			"line %d)", v[i].name, v[i].line < v[i - 1].line ? v[i].line : v[i - 1].line);
		return rd->r;
	}
	return 0;
}

int budget_parse(const char *path, const char *text, size_t len, struct budget_file *bf,
		 struct wc_error *e)
{
	struct reader rd = { .path = path, .bf = bf, .e = e };
	char *copy = strndup(text, len), *line, *next;

	memset(bf, 0, sizeof(*bf));
	bf->path = strdup(path);
	if (!copy || !bf->path) {
		free(copy);
		budget_free(bf);
		return wc_fail(e, ENOMEM, "read %s", path);
	}
	if (strlen(copy) < len) {  /* a NUL would end the text early: lines would be lost */
		rd.line = 1;
		for (const char *p = copy; *p; p++)
			rd.line += *p == '\n';
		fail_at(&rd, "give the budget file `wcmem-sandbox budget` wrote",
			"a NUL byte: this is not a text file");
	}
	for (line = copy; line && rd.r == 0; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (!next && !*line)
			break;  /* after the last newline */
		rd.line++;
		line[strcspn(line, "\r")] = '\0';
		parse_line(&rd, line);
	}
	free(copy);
	if (rd.r == 0)
		sort_check(&rd);
	if (rd.r < 0)
		budget_free(bf);
	return rd.r;
}

/* path below the current folder, as the verdicts name it: "wcmem-budgets.ini:12". A
 * profile's path is absolute (resolved against its file's folder). */
static const char *shown_path(const char *path, char *cwd, size_t size)
{
	size_t len;

	if (path[0] != '/' || !getcwd(cwd, size))
		return path;
	len = strlen(cwd);
	if (len > 1 && strncmp(path, cwd, len) == 0 && path[len] == '/' && path[len + 1])
		return path + len + 1;
	return path;
}

/* Why a file that is not a regular one cannot be read whole. */
static const char *kind_of(mode_t mode)
{
	if (S_ISFIFO(mode))
		return "a FIFO: reading it would wait for a writer";
	if (S_ISCHR(mode) || S_ISBLK(mode))
		return "a device, not a file";
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISSOCK(mode))
		return "a socket";
	return "not a regular file";
}

int budget_open(const char *path, const char *what, FILE **f, struct wc_error *e)
{
	/* O_NONBLOCK: opening a FIFO with no writer would wait; it is refused instead. */
	_cleanup_close_ int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	struct stat st;
	int flags;

	*f = NULL;
	if (fd < 0 || fstat(fd, &st) < 0)
		return wc_fail(e, errno, "%s: cannot read the %s", path, what);
	if (!S_ISREG(st.st_mode)) {
		wc_fail(e, 0, "%s: cannot read the %s: it is %s", path, what, kind_of(st.st_mode));
		return wc_hint(e, "give a regular file (to read a pipe, save it to a file first)");
	}
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0 || !(*f = fdopen(fd, "r")))
		return wc_fail(e, errno, "%s: cannot read the %s", path, what);
	steal_fd(&fd);  /* *f owns it now */
	return 0;
}

/* The rest of f into a growing buffer, NUL-terminated. Returns its length, or -errno. */
static long long read_all(FILE *f, char **text)
{
	size_t len = 0, cap = 0;
	char *grown;

	do {
		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 65536;
			grown = realloc(*text, cap);
			if (!grown)
				return -ENOMEM;
			*text = grown;
		}
		len += fread(*text + len, 1, cap - len - 1, f);
	} while (!feof(f) && !ferror(f));
	(*text)[len] = '\0';
	return ferror(f) ? -(errno ? errno : EIO) : (long long)len;
}

int budget_read_text(const char *path, const char *what, char **text, size_t *len,
		     struct wc_error *e)
{
	FILE *f;
	long long n;
	int r = budget_open(path, what, &f, e);

	*text = NULL;
	if (r < 0)
		return r;
	n = read_all(f, text);
	fclose(f);
	if (n < 0) {
		free(*text);
		*text = NULL;
		return wc_fail(e, (int)-n, "%s: cannot read the %s", path, what);
	}
	*len = (size_t)n;
	return 0;
}

int budget_load(const char *path, struct budget_file *bf, struct wc_error *e)
{
	char *text, cwd[4096];
	size_t len;
	int r;

	memset(bf, 0, sizeof(*bf));
	r = budget_read_text(path, "budget file", &text, &len, e);
	if (r < 0)
		return r;
	r = budget_parse(shown_path(path, cwd, sizeof(cwd)), text, len, bf, e);
	free(text);
	return r;
}

struct budget *budget_find(const struct budget_file *bf, const char *name)
{
	struct budget key = { .name = (char *)name };

	if (!bf || bf->n == 0)
		return NULL;
	return bsearch(&key, bf->v, bf->n, sizeof(key), by_name);
}

#define UNUSED_NAMED 3  /* names the line shows; the file has the rest */

void budget_write_unused(FILE *f, const struct budget_file *bf)
{
	char name[1024], path[1024];
	size_t unused = 0, named = 0;

	for (size_t i = 0; i < bf->n; i++)
		unused += !bf->v[i].used;
	if (unused == 0)
		return;
	rep_log_escape(bf->path, path, sizeof(path));
	fprintf(f, "wcmem-sandbox: %s: %zu budgeted test%s did not run (renamed, removed or "
		"deselected):", path, unused, unused == 1 ? "" : "s");
	for (size_t i = 0; i < bf->n && named < UNUSED_NAMED; i++) {
		if (bf->v[i].used)
			continue;
		rep_log_escape(bf->v[i].name, name, sizeof(name));
		fprintf(f, "%s %s (line %d)", named++ ? "," : "", name, bf->v[i].line);
	}
	fprintf(f, "%s\n", unused > named ? ", ..." : "");
}

void budget_free(struct budget_file *bf)
{
	for (size_t i = 0; i < bf->n; i++)
		free(bf->v[i].name);
	free(bf->v);
	free(bf->path);
	memset(bf, 0, sizeof(*bf));
}
