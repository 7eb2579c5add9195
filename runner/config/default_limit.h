/* The built-in --limit: what the machine (and every cgroup around the run) has free when the
 * run starts, less a reserve for the desktop, at most 80% of physical memory. A sandbox
 * sized to all of physical memory would still starve an editor that already holds some. */
#ifndef WCMEM_RUNNER_CONFIG_DEFAULT_LIMIT_H
#define WCMEM_RUNNER_CONFIG_DEFAULT_LIMIT_H

#include <stddef.h>
#include <stdint.h>

#include "runner/config/config.h"

#define CFG_RESERVE_PERCENT 10                 /* of physical memory kept free... */
#define CFG_RESERVE_MAX (UINT64_C(1) << 30)    /* ...but at most 1 GiB */

/* What bounded the default. */
enum cfg_limit_basis {
	CFG_BASIS_PHYSICAL,   /* CFG_DEFAULT_LIMIT_PERCENT of physical memory */
	CFG_BASIS_AVAILABLE,  /* MemAvailable less the reserve */
	CFG_BASIS_CGROUP,     /* an enclosing cgroup's headroom (limit less usage) less it */
};

struct cfg_default_limit {
	uint64_t bytes;             /* the limit (CFG_SIZE_MAX when nothing is known) */
	enum cfg_limit_basis basis;
	uint64_t physical;          /* bytes; 0: unknown */
	uint64_t free;              /* the least of MemAvailable and the headroom; 0: unknown */
	enum cfg_limit_basis free_from; /* which of the two that was */
	uint64_t reserve;
	int scarce;                 /* no more than the reserve was free: half of it is used */
};

/* The value of key ("MemAvailable") in /proc/meminfo text, in bytes.
 * Returns 0, or -ENOENT when the key is missing (MemAvailable: before Linux 3.14), -EINVAL
 * when its line is malformed. */
int cfg_meminfo_field(const char *text, const char *key, uint64_t *bytes);

/* Computes the default from physical memory, MemAvailable (0: unknown) and the enclosing
 * cgroups' headroom (CFG_SIZE_MAX: no limit there). Pure. */
void cfg_default_limit(uint64_t physical, uint64_t available, uint64_t headroom,
		       struct cfg_default_limit *d);

/* Where the figure came from, for the summary and `config`:
 * "MemAvailable 10240.0 MB less a 1024.0 MB reserve". */
void cfg_default_limit_text(const struct cfg_default_limit *d, char *buf, size_t size);

/* Reads /proc/meminfo and the cgroups above the base (WCMEM_CGROUP_BASE, else our own), and
 * computes the default; what cannot be read counts as unknown. */
void cfg_default_limit_probe(struct cfg_default_limit *d);

/* When no one set the limit (origin built in), puts the default in o->limit (and in
 * o->test_limit when that follows it) and its origin in o->limit_origin. */
void cfg_apply_default_limit(struct run_options *o, const struct cfg_origin origin[CFG_NKEYS]);

#endif
