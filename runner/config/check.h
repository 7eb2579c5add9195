/* The checks of the INI loader that need the whole file. */
#ifndef WCMEM_RUNNER_CONFIG_CHECK_H
#define WCMEM_RUNNER_CONFIG_CHECK_H

#include "runner/config/source.h"

/* The checks that need the whole file: suites have commands (split into words), inherit
 * chains end, profiles name defined suites. Returns 0 or -errno (cfg_fail_at). */
int cfg_finish(struct cfg_loader *ld);

#endif
