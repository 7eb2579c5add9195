/* The INI file of profiles and suites: finding it, loading and checking it, merging its
 * settings under the command line's, and the suites a profile runs. See README.md,
 * "Profiles", for the file's format. Errors read "FILE:LINE: message". */
#ifndef WCMEM_RUNNER_CONFIG_CONFIG_H
#define WCMEM_RUNNER_CONFIG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cgroup/error.h"
#include "runner/config/keys.h"
#include "runner/config/job_spec.h"
#include "runner/config/options.h"

#define CFG_SYSTEM_PATH "/etc/wcmem-sandbox.ini"
#define CFG_NEAREST_NAME "wcmem-sandbox.ini"

/* Where the config file was found, in search order. */
enum cfg_found {
	CFG_FOUND_NONE = 0,
	CFG_FOUND_OPTION,    /* --config FILE */
	CFG_FOUND_ENV,       /* $WCMEM_SANDBOX_CONFIG */
	CFG_FOUND_NEAREST,   /* here or in the nearest parent, up to the project's root */
	CFG_FOUND_XDG,       /* $XDG_CONFIG_HOME/wcmem-sandbox/config.ini (~/.config/...) */
	CFG_FOUND_SYSTEM,    /* /etc/wcmem-sandbox.ini */
};

/* The settings one section gives, and the line of each. */
struct cfg_layer {
	struct run_options v;    /* v.set marks the settings given */
	int line[CFG_NKEYS];
};

/* The keys of a [suite NAME] section. */
enum cfg_suite_key {
	CFG_S_COMMAND, CFG_S_SHELL, CFG_S_LIMIT, CFG_S_TEST_LIMIT, CFG_S_ENV, CFG_S_WORKDIR,
	CFG_S_TIMEOUT, CFG_S_NKEYS
};

struct cfg_suite {
	char *name;
	int line;                  /* of its [suite NAME] header */
	int key_line[CFG_S_NKEYS]; /* 0: not given */
	char *command;             /* as written */
	bool shell;                /* run as sh -c COMMAND */
	char **argv;               /* the command's words (or sh -c COMMAND), NULL-terminated */
	uint64_t limit;            /* the unit's memory.max; 0: the profile's test_limit */
	uint64_t test_limit;       /* each test's limit inside the suite; 0: the profile's */
	char **env;                /* "KEY=VALUE" entries, NULL-terminated (never NULL) */
	char *workdir;             /* absolute; default: the config file's folder */
	uint64_t timeout_ns;       /* 0: none */
};

struct cfg_profile {
	char *name;
	int line;                  /* of its [profile NAME] header */
	struct cfg_layer layer;
	char *inherit;             /* the profile it takes unset settings from, or NULL */
	int inherit_line;
	char **suites;             /* the suites it runs, NULL-terminated; NULL: every suite */
	int suites_line;
};

/* Names to indexes (names.c): finding a section is constant time, so a file of many
 * sections loads in linear time. Slots hold index + 1 (0: empty); size is a power of 2. */
struct cfg_names {
	size_t *slot;
	size_t size;
	size_t used;
};

struct cfg_file {
	char *path;                /* as found */
	char *dir;                 /* its folder, absolute: relative paths in the file start here */
	enum cfg_found found;
	bool shared;               /* pytest.ini, tox.ini or setup.cfg: our sections only (shared.h) */
	int defaults_line;         /* of [defaults]; 0: none */
	struct cfg_layer defaults;
	struct cfg_profile *profiles;
	size_t nprofiles;
	struct cfg_suite *suites;
	size_t nsuites;
	size_t profiles_cap, suites_cap;        /* allocated entries: the arrays grow doubling */
	struct cfg_names profile_names, suite_names;
};

/* Where an effective setting came from, for `wcmem-sandbox config`. */
enum cfg_source { CFG_SRC_BUILTIN, CFG_SRC_DEFAULTS, CFG_SRC_PROFILE, CFG_SRC_CMDLINE };

struct cfg_origin {
	enum cfg_source source;
	const char *profile;       /* CFG_SRC_PROFILE: the profile that set it */
	int line;                  /* CFG_SRC_DEFAULTS, CFG_SRC_PROFILE */
};

/* Told of a config file the search found and passed over (e: which, and why). */
typedef void cfg_warn_fn(const struct wc_error *w);

/* Finds the config file in the search order: option_path (--config), $WCMEM_SANDBOX_CONFIG,
 * in the current folder or the nearest parent up to the project's root (the first that holds
 * .git or .hg) wcmem-sandbox.ini, else our section of pytest.ini, tox.ini or setup.cfg
 * (runner/config/shared.h),
 * $XDG_CONFIG_HOME/wcmem-sandbox/config.ini (else $HOME/.config/...), system_path.
 * A file named by the option or the variable must exist; the others are looked for, and one
 * found that another user could have put or changed (runner/config/trust.h) is passed over:
 * warn (may be NULL) is told, and the search goes on as if it were not there.
 * Returns 1 with *path (malloc'd) and *found, 0 when there is none, or -errno. */
int cfg_find(const char *option_path, const char *system_path, cfg_warn_fn *warn, char **path,
	     enum cfg_found *found, struct wc_error *e);

/* Reads and checks the whole file (every section, inherit chains, suite names; of a shared
 * file by its name, pytest.ini, tox.ini or setup.cfg, our sections only), found as
 * found says: a file the search found is checked again as cfg_find checks it (on what is
 * read), one named (--config, the variable) need only be a regular file. f->found is set.
 * Returns 0, or -errno with e "FILE:LINE: message" and f left empty. */
int cfg_load(const char *path, enum cfg_found found, uint64_t physical_bytes,
	     struct cfg_file *f, struct wc_error *e);

/* Frees what cfg_load allocated; safe on a zeroed or freed cfg_file. */
void cfg_free(struct cfg_file *f);

/* The entry of the array base (entries of stride bytes, each starting with its char *name)
 * called name: its index, or -1. */
long cfg_names_find(const struct cfg_names *t, const void *base, size_t stride,
		    const char *name);

/* Adds entry idx of base to t (the caller has ruled out a duplicate name). The table keeps
 * indexes only, so base may move (realloc) between calls. Returns 0 or -ENOMEM. */
int cfg_names_add(struct cfg_names *t, const void *base, size_t stride, size_t idx);

/* Frees the table; safe on a zeroed one. */
void cfg_names_free(struct cfg_names *t);

/* The profile called name, or NULL. */
const struct cfg_profile *cfg_profile_find(const struct cfg_file *f, const char *name);

/* The profile p inherits from, or NULL (none, or a name that is not defined: cfg_load
 * refuses that). */
const struct cfg_profile *cfg_profile_parent(const struct cfg_file *f,
					     const struct cfg_profile *p);

/* The suite called name, or NULL. */
const struct cfg_suite *cfg_suite_find(const struct cfg_file *f, const char *name);

/* The effective settings: the command line's (cli, with cli->set) over the profile's (and
 * those it inherits) over [defaults] over the built-in ones. f may be NULL (no file);
 * profile may be NULL. origin (may be NULL) gets each setting's source.
 * Returns 0, or -ENOENT with e when the profile is not in the file (or there is no file). */
int cfg_merge(const struct cfg_file *f, const char *profile, const struct run_options *cli,
	      struct run_options *out, struct cfg_origin origin[CFG_NKEYS], struct wc_error *e);

/* The suites the profile runs, in order, into a malloc'd NULL-terminated array (free it):
 * its `suites` (or an inherited one), else every suite in file order.
 * Returns the count, or -errno. */
int cfg_profile_suites(const struct cfg_file *f, const struct cfg_profile *p,
		       const struct cfg_suite ***out);

/* The job that runs suite s under the effective settings o: kind "suite", its limit or else
 * o's test_limit, its env, workdir and timeout. job points into s. */
void cfg_suite_job(const struct cfg_suite *s, const struct run_options *o, struct run_job *job);

/* Writes what `wcmem-sandbox config` prints: the file, each effective setting with its origin,
 * and the suites the profile would run. f may be NULL. Returns 0, or -errno. */
int cfg_show(FILE *out, const struct cfg_file *f, const char *profile,
	     const struct run_options *o, const struct cfg_origin origin[CFG_NKEYS]);

/* Splits text into words by shell rules: blanks separate; '...' keeps everything; "..."
 * keeps everything but \" \\ \$ \` ; a backslash outside quotes takes the next character as
 * is. Nothing is expanded, so an unquoted | & ; < > ( ) $ ` or a # starting a word (shell
 * syntax that would silently mean something else) is refused, with hint appended.
 * Returns the number of words with *words a malloc'd NULL-terminated array (free with
 * cfg_words_free), or -EINVAL / -ENOMEM with e saying what is wrong and where. */
int cfg_split_words(const char *text, const char *hint, char ***words, struct wc_error *e);

/* Frees a word array (NULL is fine). */
void cfg_words_free(char **words);

/* Joins items with sep into buf, cut to fit (always NUL-terminated when size > 0).
 * Returns buf. */
char *cfg_join(char *buf, size_t size, const char *const *items, size_t n, const char *sep);

#endif
