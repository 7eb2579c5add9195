/* `wcmem-sandbox config`: the settings in effect, each with where it came from, in a form
 * that reads like the INI file (values as a file would give them, origins as ; comments). */
#include "runner/config/config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "report/log.h"
#include "report/verdict.h"
#include "runner/config/shared.h"
#include "runner/config/size.h"

static const char *found_text(const struct cfg_file *f)
{
	switch (f->found) {
	case CFG_FOUND_OPTION: return "given by --config";
	case CFG_FOUND_ENV: return "given by $WCMEM_SANDBOX_CONFIG";
	case CFG_FOUND_NEAREST:
		return f->shared ? "its [" CFG_SHARED_SECTION "] sections; found in the current "
				   "folder or the nearest parent, up to the project's root" :
				   "found in the current folder or the nearest parent, up to the "
				   "project's root";
	case CFG_FOUND_XDG: return "the user's $XDG_CONFIG_HOME/wcmem-sandbox/config.ini";
	case CFG_FOUND_SYSTEM: return "the system's " CFG_SYSTEM_PATH;
	case CFG_FOUND_NONE: break;
	}
	return "none";
}

/* "built in", "[defaults] FILE:LINE", "[profile X] FILE:LINE" (as a shared file names
 * them: shared.h) or "command line". */
static void origin_text(const struct cfg_file *f, const struct cfg_origin *o, char *buf,
			size_t size)
{
	char label[128];

	switch (o->source) {
	case CFG_SRC_BUILTIN:
		snprintf(buf, size, "built in");
		return;
	case CFG_SRC_DEFAULTS:
		snprintf(buf, size, "%s %s:%d", cfg_section_label(f->shared, "defaults", "", label,
			 sizeof(label)), f->path, o->line);
		return;
	case CFG_SRC_PROFILE:
		snprintf(buf, size, "%s %s:%d", cfg_section_label(f->shared, "profile", o->profile,
			 label, sizeof(label)), f->path, o->line);
		return;
	case CFG_SRC_CMDLINE:
		snprintf(buf, size, "command line");
		return;
	}
}

static void show_file(FILE *out, const struct cfg_file *f, const char *profile)
{
	if (!f) {
		fprintf(out, "; config file: none; looked for --config FILE, $WCMEM_SANDBOX_CONFIG, "
			"%s and [%s] in pytest.ini, tox.ini, setup.cfg\n;   here and in each "
			"parent folder up to the project's root (.git or .hg),\n;   "
			"$XDG_CONFIG_HOME/wcmem-sandbox/config.ini (else ~/.config/...), %s\n",
			CFG_NEAREST_NAME, CFG_SHARED_SECTION, CFG_SYSTEM_PATH);
		return;
	}
	fprintf(out, "; config file: %s (%s)\n", f->path, found_text(f));
	if (profile)
		fprintf(out, "; profile: %s\n", profile);
	else
		fprintf(out, "; profile: none ([defaults] and the command line only)\n");
	fprintf(out, "; profiles:");
	for (size_t i = 0; i < f->nprofiles; i++)
		fprintf(out, " %s", f->profiles[i].name);
	fprintf(out, "%s\n; suites:", f->nprofiles ? "" : " none");
	for (size_t i = 0; i < f->nsuites; i++)
		fprintf(out, " %s", f->suites[i].name);
	fprintf(out, "%s\n", f->nsuites ? "" : " none");
}

/* The log when no one set it: the default path, or off. */
static void default_log(char *value, size_t vsize, char *from, size_t fsize)
{
	const char *off = getenv("WEATHERCOP_DISABLE_DIAGNOSTICS");

	if (off && strcmp(off, "1") == 0) {
		snprintf(value, vsize, "(off)");
		snprintf(from, fsize, "WEATHERCOP_DISABLE_DIAGNOSTICS=1");
	} else if (rep_log_default_path(value, vsize, getenv("WEATHERCOP_DIR"),
				       getenv("HOME")) == 0) {
		snprintf(from, fsize, "built in: $WEATHERCOP_DIR, else ~/.weathercop");
	} else {
		snprintf(value, vsize, "(none)");
		snprintf(from, fsize, "built in, but neither WEATHERCOP_DIR nor HOME is set");
	}
}

/* Values longer than this push their own line's comment out rather than every line's. */
#define VALUE_COLUMN_MAX 24

/* The value of key k as shown: as a file would give it, but a size that is no whole
 * number of MiB, GiB or TiB (50% of memory, the default limit) as people read it
 * ("18.8 GiB"), its bytes then in exact (the comment says them). */
static void show_value(const struct run_options *o, int k, char *value, size_t size,
		       uint64_t *exact)
{
	uint64_t bytes;

	*exact = 0;
	cfg_format_value(o, (enum cfg_key)k, value, size);
	if ((cfg_keys[k].type != CFG_T_SIZE && cfg_keys[k].type != CFG_T_SWAP) ||
	    strspn(value, "0123456789") < strlen(value) - (value[0] && strchr(value, 'K')))
		return;
	bytes = *(const uint64_t *)((const char *)o + cfg_keys[k].offset);
	if (bytes < (1u << 20))
		return;
	*exact = bytes;
	rep_format_size(bytes, value, size);
}

static void show_settings(FILE *out, const struct cfg_file *f, const struct run_options *o,
			  const struct cfg_origin origin[CFG_NKEYS])
{
	char value[CFG_NKEYS][4200], from[4200];
	uint64_t exact[CFG_NKEYS];
	int kw = 0, vw = 0;

	for (int k = 0; k < CFG_NKEYS; k++) {
		show_value(o, k, value[k], sizeof(value[k]), &exact[k]);
		if (k == CFG_LOG && !o->log_path)
			default_log(value[k], sizeof(value[k]), from, sizeof(from));
		if (!*value[k])
			snprintf(value[k], sizeof(value[k]), "(none)");
		if ((int)strlen(cfg_keys[k].ini) > kw)
			kw = (int)strlen(cfg_keys[k].ini);
		if ((int)strlen(value[k]) > vw && strlen(value[k]) <= VALUE_COLUMN_MAX)
			vw = (int)strlen(value[k]);
	}
	for (int k = 0; k < CFG_NKEYS; k++) {
		origin_text(f, &origin[k], from, sizeof(from));
		if (k == CFG_LIMIT && origin[k].source == CFG_SRC_BUILTIN)
			snprintf(from, sizeof(from), "built in: %s", *o->limit_origin ?
				 o->limit_origin : "80% of physical memory");
		if (k == CFG_TEST_LIMIT && origin[k].source == CFG_SRC_BUILTIN)
			snprintf(from, sizeof(from), "built in: the limit");
		if (k == CFG_LOG && !o->log_path)
			default_log(value[k], sizeof(value[k]), from, sizeof(from));
		fprintf(out, "%-*s = %-*s ; %s", kw, cfg_keys[k].ini, vw, value[k], from);
		if (exact[k])
			fprintf(out, " (%" PRIu64 " bytes)", exact[k]);
		fputc('\n', out);
	}
}

/* A word as sh would need it: bare when safe, else in '...'. */
static void put_word(FILE *out, const char *w)
{
	if (*w && strspn(w, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
			 "_@%+=:,./-") == strlen(w)) {
		fputs(w, out);
		return;
	}
	fputc('\'', out);
	for (; *w; w++) {
		if (*w == '\'')
			fputs("'\\''", out);
		else
			fputc(*w, out);
	}
	fputc('\'', out);
}

static void put_words(FILE *out, char *const *words)
{
	for (char *const *w = words; *w; w++) {
		if (w != words)
			fputc(' ', out);
		put_word(out, *w);
	}
}

/* "; FILE:LINE" for a key the suite gives, else "; fallback". */
static void suite_origin(FILE *out, const struct cfg_file *f, int line, const char *fallback)
{
	if (line)
		fprintf(out, " ; %s:%d\n", f->path, line);
	else
		fprintf(out, " ; %s\n", fallback);
}

static void show_suite(FILE *out, const struct cfg_file *f, const struct cfg_suite *s,
		       const struct run_options *o)
{
	const int *at = s->key_line;
	char buf[32], label[128];

	fprintf(out, "\n%s ; %s:%d\n", cfg_section_label(f->shared, "suite", s->name, label,
		sizeof(label)), f->path, s->line);
	fprintf(out, "%-12s = %s", "command", s->command);
	suite_origin(out, f, at[CFG_S_COMMAND], "");
	fprintf(out, "; runs: ");
	put_words(out, s->argv);
	cfg_format_size(s->limit ? s->limit : o->test_limit, buf, sizeof(buf));
	fprintf(out, "\n%-12s = %-14s", "limit", buf);
	suite_origin(out, f, at[CFG_S_LIMIT], "the profile's test_limit");
	if (s->test_limit) {
		cfg_format_size(s->test_limit, buf, sizeof(buf));
		fprintf(out, "%-12s = %-14s", "test_limit", buf);
		suite_origin(out, f, at[CFG_S_TEST_LIMIT], "");
	}
	if (s->env[0]) {
		fprintf(out, "%-12s = ", "env");
		put_words(out, s->env);
		suite_origin(out, f, at[CFG_S_ENV], "");
	}
	fprintf(out, "%-12s = %-14s", "workdir", s->workdir);
	suite_origin(out, f, at[CFG_S_WORKDIR], "built in: the config file's folder");
	if (s->timeout_ns) {
		cfg_format_duration(s->timeout_ns, buf, sizeof(buf));
		fprintf(out, "%-12s = %-14s", "timeout", buf);
		suite_origin(out, f, at[CFG_S_TIMEOUT], "");
	}
}

static int show_all(FILE *out, const struct cfg_file *f, const char *profile,
		    const struct run_options *o, const struct cfg_origin origin[CFG_NKEYS])
{
	const struct cfg_suite **suites = NULL;
	int n = 0;

	show_file(out, f, profile);
	fputc('\n', out);
	show_settings(out, f, o, origin);
	if (f && profile) {
		n = cfg_profile_suites(f, cfg_profile_find(f, profile), &suites);
		if (n < 0)
			return n;
		fprintf(out, "\n; --profile %s with no command runs %d suite%s, in this order\n",
			profile, n, n == 1 ? "" : "s");
		for (int i = 0; i < n; i++)
			show_suite(out, f, suites[i], o);
		free(suites);
	}
	if (fflush(out) == EOF || ferror(out))
		return -EIO;
	return 0;
}

int cfg_show(FILE *out, const struct cfg_file *f, const char *profile,
	     const struct run_options *o, const struct cfg_origin origin[CFG_NKEYS])
{
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	int r;

	if (!mem)
		return -errno;
	/* Names, paths and commands come from the file: escaped on the way out, all at once. */
	r = show_all(mem, f, profile, o, origin);
	if (fclose(mem) == EOF && r == 0)
		r = -EIO;
	if (r == 0)
		r = rep_log_escape_lines(out, text);
	free(text);
	if (r == 0 && (fflush(out) == EOF || ferror(out)))
		r = -EIO;
	return r;
}
