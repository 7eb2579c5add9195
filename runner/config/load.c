/* Loading the INI file with inih: lines, sections, and the checks that need the whole file.
 * A shared file (shared.h: pytest.ini, tox.ini, setup.cfg) is read the same way, but the
 * reader hands inih an empty line for each line of another tool's section, so that only our
 * sections are checked and every line keeps its number.
 *
 * inih's handler cannot be relied on for a line number. INI_HANDLER_LINENO is a compile-time
 * choice of the library's build, and nothing tells us at build or run time which was made:
 * Debian 12's libinih1 (r55) happens to pass the number (its handler calls load it into the
 * 5th argument register), yet its installed ini.h declares the 4-argument handler; a build
 * without it would hand a 5-argument handler garbage. inih also keeps sections to itself
 * (INI_CALL_HANDLER_ON_NEW_SECTION is off), so an empty section would go unseen, and cuts
 * section names at 50 bytes. Hence the robust way: we read the file ourselves and feed inih
 * through ini_parse_stream with a reader that hands over one line per call. inih processes
 * each line completely before it asks for the next, so the reader's count is the current line
 * when the handler runs, and the reader sees every [section] header first-hand. It also
 *  - strips leading blanks: inih takes an indented line for the continuation of the previous
 *    value (multi-line values are compiled in), which would silently glue an indented
 *    `limit = 1G` onto the line above; we want indented keys to be keys;
 *  - refuses a line longer than inih's line buffer, which inih would split silently into
 *    two lines (and count wrong). */
#include "runner/config/check.h"
#include "runner/config/section.h"
#include "runner/config/shared.h"
#include "runner/config/source.h"
#include "runner/config/text.h"
#include "runner/config/trust.h"

#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


/* ---- the file and its folder ---- */

/* The file's folder, canonical, so relative paths in it do not depend on where we run. */
static int file_dir(struct cfg_file *f, struct wc_error *e)
{
	char *copy = strdup(f->path), *slash;

	if (!copy)
		return wc_fail(e, ENOMEM, "load %s", f->path);
	slash = strrchr(copy, '/');
	if (slash == copy)
		slash[1] = '\0';   /* a file in / */
	else if (slash)
		*slash = '\0';
	f->dir = realpath(slash ? copy : ".", NULL);
	free(copy);
	if (!f->dir)
		return wc_fail(e, errno, "%s: find its folder", f->path);
	return 0;
}

/* ---- section headers ---- */

static int check_name(struct cfg_loader *ld, const char *kind, const char *name)
{
	if (!*name)
		return cfg_fail_at(ld, ld->line, 0, "[%s] needs a name: [%s NAME]", kind, kind);
	if (strlen(name) > CFG_NAME_MAX_LEN || strspn(name, CFG_NAME_CHARS) != strlen(name))
		return cfg_fail_at(ld, ld->line, 0, "[%s %s]: a name is up to %d letters, digits, "
				   "'_', '.' and '-'", kind, name, CFG_NAME_MAX_LEN);
	return 0;
}

/* The array arr of n entries with room for one more: the room doubles, so that adding n
 * sections costs linear time. Returns the array (moved or not), or NULL (arr unchanged). */
static void *grow_array(void *arr, size_t *cap, size_t n, size_t elem)
{
	size_t want = *cap ? *cap * 2 : 8;
	void *v;

	if (n < *cap)
		return arr;
	v = reallocarray(arr, want, elem);
	if (v)
		*cap = want;
	return v;
}

static int new_profile(struct cfg_loader *ld, const char *name)
{
	struct cfg_file *f = ld->f;
	const struct cfg_profile *old = cfg_profile_find(f, name);
	struct cfg_profile *v;

	if (old)
		return cfg_fail_at(ld, ld->line, 0, "duplicate [profile %s]: first defined at "
				   "line %d", name, old->line);
	v = grow_array(f->profiles, &f->profiles_cap, f->nprofiles, sizeof(*v));
	if (!v)
		return cfg_fail_at(ld, ld->line, ENOMEM, "[profile %s]", name);
	f->profiles = v;
	memset(&v[f->nprofiles], 0, sizeof(*v));
	v[f->nprofiles].line = ld->line;
	v[f->nprofiles].name = strdup(name);
	ld->idx = f->nprofiles++;
	ld->sec = CFG_SEC_PROFILE;
	if (!v[ld->idx].name || cfg_names_add(&f->profile_names, v, sizeof(*v), ld->idx) < 0)
		return cfg_fail_at(ld, ld->line, ENOMEM, "[profile %s]", name);
	return 0;
}

static int new_suite(struct cfg_loader *ld, const char *name)
{
	struct cfg_file *f = ld->f;
	const struct cfg_suite *old = cfg_suite_find(f, name);
	struct cfg_suite *v;

	if (old)
		return cfg_fail_at(ld, ld->line, 0, "duplicate [suite %s]: first defined at "
				   "line %d", name, old->line);
	v = grow_array(f->suites, &f->suites_cap, f->nsuites, sizeof(*v));
	if (!v)
		return cfg_fail_at(ld, ld->line, ENOMEM, "[suite %s]", name);
	f->suites = v;
	memset(&v[f->nsuites], 0, sizeof(*v));
	v[f->nsuites].line = ld->line;
	v[f->nsuites].name = strdup(name);
	ld->idx = f->nsuites++;
	ld->sec = CFG_SEC_SUITE;
	if (!v[ld->idx].name || cfg_names_add(&f->suite_names, v, sizeof(*v), ld->idx) < 0)
		return cfg_fail_at(ld, ld->line, ENOMEM, "[suite %s]", name);
	return 0;
}

/* In a shared file, our header's kind (the reader saw it is ours): "wcmem-sandbox" is
 * "defaults", "wcmem-sandbox:profile" and "wcmem-sandbox:suite" are "profile" and "suite".
 * Returns 0 with *kind moved past the prefix, or -EINVAL. */
static int shared_kind(struct cfg_loader *ld, char **kind, const char *name)
{
	char *rest = *kind + strlen(CFG_SHARED_SECTION);

	if (strncmp(*kind, CFG_SHARED_SECTION, strlen(CFG_SHARED_SECTION)) == 0) {
		if (!*rest) {
			*kind = (char *)"defaults";
			return 0;
		}
		if (strcmp(rest, ":profile") == 0 || strcmp(rest, ":suite") == 0) {
			*kind = rest + 1;
			return 0;
		}
	}
	return cfg_fail_at(ld, ld->line, 0, "unknown section [%s%s%s]; ours are [%s], [%s:profile "
			   "NAME] and [%s:suite NAME]", *kind, *name ? " " : "", name,
			   CFG_SHARED_SECTION, CFG_SHARED_SECTION, CFG_SHARED_SECTION);
}

/* A header line "[kind name]" (leading blanks already gone). Returns 0 or -errno. */
static int section_header(struct cfg_loader *ld, const char *line, size_t len)
{
	char inner[256], *kind, *name;
	const char *close = memchr(line, ']', len);
	size_t n;

	if (!close)
		return cfg_fail_at(ld, ld->line, 0, "'%.*s': a section header needs its "
				   "closing ']'", (int)len, line);
	for (const char *p = close + 1; p < line + len && *p != ';' && *p != '#'; p++)
		if (*p != ' ' && *p != '\t' && *p != '\r')
			return cfg_fail_at(ld, ld->line, 0, "text after the section header's ']'");
	n = (size_t)(close - line - 1);
	if (n >= sizeof(inner))
		return cfg_fail_at(ld, ld->line, 0, "section header too long");
	memcpy(inner, line + 1, n);
	inner[n] = '\0';
	kind = inner + strspn(inner, " \t");
	name = kind + strcspn(kind, " \t");
	if (*name)
		*name++ = '\0';
	name += strspn(name, " \t");
	for (char *end = name + strlen(name); end > name && (end[-1] == ' ' || end[-1] == '\t');)
		*--end = '\0';

	if (ld->shared) {
		int r = shared_kind(ld, &kind, name);

		if (r < 0)
			return r;
	}
	if (strcmp(kind, "defaults") == 0) {
		const char *label = ld->shared ? "[" CFG_SHARED_SECTION "]" : "[defaults]";

		if (*name)
			return cfg_fail_at(ld, ld->line, 0, "%s takes no name", label);
		if (ld->f->defaults_line)
			return cfg_fail_at(ld, ld->line, 0, "duplicate %s: first at line %d", label,
					   ld->f->defaults_line);
		ld->f->defaults_line = ld->line;
		ld->sec = CFG_SEC_DEFAULTS;
		return 0;
	}
	if (strcmp(kind, "profile") == 0 || strcmp(kind, "suite") == 0) {
		int r = check_name(ld, kind, name);

		if (r < 0)
			return r;
		return kind[0] == 'p' ? new_profile(ld, name) : new_suite(ld, name);
	}
	return cfg_fail_at(ld, ld->line, 0, "unknown section [%s%s%s]; sections are [defaults], "
			   "[profile NAME] and [suite NAME]", kind, *name ? " " : "", name);
}

/* ---- feeding inih ---- */

/* inih's reader: the next line into str (num bytes), or NULL at the end or after an error. */
static char *reader(char *str, int num, void *stream)
{
	struct cfg_loader *ld = stream;
	const char *start, *nl;
	size_t len, content;
	bool indented;

	if (ld->fail_line || ld->pos >= ld->len)
		return NULL;
	start = ld->text + ld->pos;
	nl = memchr(start, '\n', ld->len - ld->pos);
	len = nl ? (size_t)(nl - start) : ld->len - ld->pos;
	ld->pos += len + (nl ? 1 : 0);
	ld->line++;
	if (ld->line == 1 && len >= 3 && memcmp(start, "\xef\xbb\xbf", 3) == 0) {
		start += 3;  /* a UTF-8 byte order mark, as editors on Windows write */
		len -= 3;
	}
	indented = len > 0 && (*start == ' ' || *start == '\t');
	while (len > 0 && (*start == ' ' || *start == '\t')) {
		start++;
		len--;
	}
	/* In a shared file, another tool's section is skipped whole, unread: its keys are its
	 * own, its lines may be long, and an indented '[' there continues its value. */
	if (ld->shared && len > 0 && *start == '[' && !(ld->foreign && indented))
		ld->foreign = !cfg_shared_header(start, len);
	if (ld->foreign) {
		str[0] = '\n';  /* the line is still counted */
		str[1] = '\0';
		return str;
	}
	content = len > 0 && start[len - 1] == '\r' ? len - 1 : len;
	/* inih needs room for the line, '\r', '\n' and '\0' (INI_MAX_LINE's comment). */
	if (num < 3 || content > (size_t)num - 3) {
		cfg_fail_at(ld, ld->line, 0, "line of %zu characters: inih reads at most %d; "
			    "shorten it (e.g. move a long command into a script)", content,
			    num - 3);
		return NULL;
	}
	if (len > 0 && *start == '[' && section_header(ld, start, len) < 0)
		return NULL;
	memcpy(str, start, len);
	str[len] = '\n';
	str[len + 1] = '\0';
	return str;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct cfg_loader *ld = user;

	(void)section;  /* the reader tracks sections; inih's copy is cut at 50 bytes */
	if (!ld->fail_line)
		cfg_section_key(ld, name, value);
	return 1;  /* errors are ours to report: see the reader */
}

/* inih's own complaint about line n: neither a section, a key = value, nor a comment. */
static int syntax_error(struct cfg_loader *ld, int n)
{
	const char *p = ld->text;
	size_t len;

	for (int i = 1; i < n && (p = strchr(p, '\n')); i++)
		p++;
	if (!p)
		p = "";
	p += strspn(p, " \t");
	len = strcspn(p, "\r\n");
	return cfg_fail_at(ld, n, 0, "'%.*s' is not 'key = value', a [section] or a comment",
			   (int)(len > 80 ? 80 : len), p);
}

/* Parses the text into f. Returns 0 or -errno. */
static int parse(struct cfg_loader *ld)
{
	int r = ini_parse_stream(reader, ld, handler, ld);

	if (r == -2)
		return wc_fail(ld->e, ENOMEM, "%s: parse", ld->f->path);
	if (r > 0 && (!ld->fail_line || r < ld->fail_line)) {
		ld->fail_line = 0;  /* an earlier line's error wins */
		return syntax_error(ld, r);
	}
	return ld->fail_line ? -EINVAL : 0;
}

/* Reads the file as found: one the search found is checked again on what is read (it may
 * have changed since cfg_find looked); one named need only be a regular file. */
static int read_found(const char *path, enum cfg_found found, char **text, size_t *len,
		      struct wc_error *e)
{
	int fd;

	if (found == CFG_FOUND_OPTION || found == CFG_FOUND_ENV || found == CFG_FOUND_NONE)
		return cfg_read_text(path, "config file", text, len, e);
	*text = NULL;
	fd = cfg_open_trusted(path, e);
	if (fd == -ENOENT)
		return wc_fail(e, ENOENT, "%s: cannot read the config file", path);
	return fd < 0 ? fd : cfg_read_text_fd(fd, path, "config file", text, len, e);
}

int cfg_load(const char *path, enum cfg_found found, uint64_t phys, struct cfg_file *f,
	     struct wc_error *e)
{
	struct cfg_loader ld = { .f = f, .phys = phys, .e = e };
	char *text = NULL;
	int r;

	memset(f, 0, sizeof(*f));
	f->found = found;
	f->shared = ld.shared = ld.foreign = cfg_is_shared(path);
	f->path = strdup(path);
	if (!f->path)
		return wc_fail(e, ENOMEM, "load %s", path);
	r = read_found(path, found, &text, &ld.len, e);
	if (r == 0)
		r = file_dir(f, e);
	ld.text = text;
	if (r == 0)
		r = parse(&ld);
	if (r == 0)
		r = cfg_finish(&ld);
	free(text);
	if (r < 0)
		cfg_free(f);
	return r;
}
