/* Inside the INI loader: the state shared by the line reader (load.c), the key handlers
 * (section.c) and the whole-file checks (check.c), and how each names the line it stops at.
 * Not for other modules. */
#ifndef WCMEM_RUNNER_CONFIG_SOURCE_H
#define WCMEM_RUNNER_CONFIG_SOURCE_H

#include "runner/config/config.h"

enum cfg_section { CFG_SEC_NONE, CFG_SEC_DEFAULTS, CFG_SEC_PROFILE, CFG_SEC_SUITE };

struct cfg_loader {
	struct cfg_file *f;
	const char *text;        /* the whole file */
	size_t len;
	size_t pos;              /* where the next line starts */
	int line;                /* the line inih is working on (1-based) */
	uint64_t phys;
	enum cfg_section sec;    /* the section the line is in */
	size_t idx;              /* ...its profile or suite (arrays may move: no pointers) */
	int fail_line;           /* the line of the first error; 0: none yet */
	bool shared;             /* a shared file (shared.h): other tools' sections are skipped */
	bool foreign;            /* ...and the line is in one of theirs: not read at all */
	struct wc_error *e;
};

/* Records the first error as "FILE:LINE: message" (e->err = err, 0 for none) and stops the
 * reader. Returns -err, or -EINVAL when err is 0. */
int cfg_fail_at(struct cfg_loader *ld, int line, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Records the first error as "FILE:LINE: what: inner's message" (what may be NULL), keeping
 * inner's hint; inner's errno only when it is ENOMEM (the rest are bad values, no errno).
 * Returns what cfg_fail_at returns. */
int cfg_wrap_at(struct cfg_loader *ld, int line, const struct wc_error *inner, const char *what);

/* path made absolute against the config file's folder (malloc'd), or NULL when out of memory. */
char *cfg_resolve_path(const struct cfg_loader *ld, const char *path);

/* The characters and length a profile or suite name may have. */
#define CFG_NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-"
#define CFG_NAME_MAX_LEN 64

#endif
