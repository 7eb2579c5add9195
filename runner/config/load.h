/* Inside the INI loader: the state shared by the line reader and section handling
 * (config_load.c) and the key handlers (config_section.c). Not for other modules. */
#ifndef WCMEM_RUNNER_CONFIG_LOAD_H
#define WCMEM_RUNNER_CONFIG_LOAD_H

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
	struct rep_error *e;
};

/* Records the first error as "FILE:LINE: message" (e->err = err, 0 for none) and stops the
 * reader. Returns -err, or -EINVAL when err is 0. */
int cfg_fail_at(struct cfg_loader *ld, int line, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Handles one `key = value` of the current section. Returns 0 or -errno (cfg_fail_at). */
int cfg_section_key(struct cfg_loader *ld, const char *key, const char *value);

/* The checks that need the whole file: suites have commands (split into words), inherit
 * chains end, profiles name defined suites. Returns 0 or -errno (cfg_fail_at). */
int cfg_finish(struct cfg_loader *ld);

/* path made absolute against the config file's folder (malloc'd), or NULL when out of memory. */
char *cfg_resolve_path(const struct cfg_loader *ld, const char *path);

#endif
