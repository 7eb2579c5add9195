/* The key handlers of the INI loader, one per section kind. */
#ifndef WCMEM_RUNNER_CONFIG_SECTION_H
#define WCMEM_RUNNER_CONFIG_SECTION_H

#include "runner/config/source.h"

/* Handles one `key = value` of the current section. Returns 0 or -errno (cfg_fail_at). */
int cfg_section_key(struct cfg_loader *ld, const char *key, const char *value);

#endif
