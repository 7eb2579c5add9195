/* The built-in --limit, from what is free when the run starts (default_limit.h). */
#include "runner/config/default_limit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "report/verdict.h"
#include "runner/config/size.h"

#define MIB (UINT64_C(1) << 20)

int cfg_meminfo_field(const char *text, const char *key, uint64_t *bytes)
{
	size_t klen = strlen(key);
	unsigned long long kb;
	char unit[4];

	for (const char *line = text, *nl; *line; line = nl + 1) {
		nl = strchrnul(line, '\n');
		if (strncmp(line, key, klen) != 0 || line[klen] != ':') {
			if (!*nl)
				break;
			continue;
		}
		/* "MemAvailable:   24148340 kB": the kernel states every size in kB. */
		if (sscanf(line + klen + 1, " %llu %3s", &kb, unit) != 2 || strcmp(unit, "kB") != 0 ||
		    kb > UINT64_MAX / 1024)
			return -EINVAL;
		*bytes = (uint64_t)kb * 1024;
		return 0;
	}
	return -ENOENT;
}

void cfg_default_limit(uint64_t physical, uint64_t available, uint64_t headroom,
		       struct cfg_default_limit *d)
{
	uint64_t cap = physical ? physical / 100 * CFG_DEFAULT_LIMIT_PERCENT : CFG_SIZE_MAX;
	uint64_t want;

	memset(d, 0, sizeof(*d));
	d->physical = physical;
	d->reserve = physical / 100 * CFG_RESERVE_PERCENT;
	if (d->reserve > CFG_RESERVE_MAX)
		d->reserve = CFG_RESERVE_MAX;
	d->free = available;
	d->free_from = CFG_BASIS_AVAILABLE;
	if (headroom != CFG_SIZE_MAX && (available == 0 || headroom < available)) {
		d->free = headroom;
		d->free_from = CFG_BASIS_CGROUP;
	}
	d->bytes = cap;
	d->basis = CFG_BASIS_PHYSICAL;
	if (d->free == 0 && d->free_from == CFG_BASIS_AVAILABLE)
		return;  /* nothing known but physical memory: as before MemAvailable (3.14) */
	/* With less than the reserve free, half of it: a cap, not a guaranteed failure. */
	d->scarce = d->free <= d->reserve;
	want = d->scarce ? d->free / 2 : d->free - d->reserve;
	want -= want % MIB;  /* a figure people read, and whole pages */
	if (want < MIB)
		want = MIB;
	if (want < cap) {
		d->bytes = want;
		d->basis = d->free_from;
	}
}

void cfg_default_limit_text(const struct cfg_default_limit *d, char *buf, size_t size)
{
	char phys[32], avail[32], reserve[32];
	const char *what = d->free_from == CFG_BASIS_CGROUP ?
		"the enclosing cgroup's headroom" : "MemAvailable";
	int n = 0;

	rep_format_size(d->physical, phys, sizeof(phys));
	rep_format_size(d->free, avail, sizeof(avail));
	rep_format_size(d->reserve, reserve, sizeof(reserve));
	if (d->bytes == CFG_SIZE_MAX) {
		snprintf(buf, size, "no limit: neither physical memory nor MemAvailable is known");
		return;
	}
	if (d->basis == CFG_BASIS_PHYSICAL)
		n = snprintf(buf, size, "%d%% of physical memory %s", CFG_DEFAULT_LIMIT_PERCENT,
			     phys);
	if (d->basis == CFG_BASIS_PHYSICAL && d->free == 0 && d->free_from != CFG_BASIS_CGROUP)
		snprintf(buf + n, size - (size_t)n, " (MemAvailable unknown)");
	else if (d->basis == CFG_BASIS_PHYSICAL)
		snprintf(buf + n, size - (size_t)n, ", as %s %s less a %s reserve is more", what,
			 avail, reserve);
	else if (d->scarce)
		snprintf(buf, size, "half of %s %s, no more than the %s reserve", what, avail,
			 reserve);
	else
		snprintf(buf, size, "%s %s less a %s reserve", what, avail, reserve);
}

/* MemAvailable in bytes, or 0 when /proc/meminfo cannot say. */
static uint64_t mem_available(void)
{
	char text[8192];
	uint64_t bytes = 0;
	ssize_t n = -1;
	int fd = open("/proc/meminfo", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		do
			n = read(fd, text, sizeof(text) - 1);  /* MemAvailable is in the first lines */
		while (n < 0 && errno == EINTR);
		close(fd);
	}
	if (n <= 0)
		return 0;
	text[n] = '\0';
	return cfg_meminfo_field(text, "MemAvailable", &bytes) == 0 ? bytes : 0;
}

void cfg_default_limit_probe(struct cfg_default_limit *d)
{
	uint64_t limit, headroom = CFG_SIZE_MAX;
	struct wc_error ignored;
	struct cg_hier h;

	/* No cgroup to read is no headroom known: the run itself says what is wrong. */
	if (cg_discover(&h, getenv("WCMEM_CGROUP_BASE"), &ignored) < 0 ||
	    cg_base_limit(&h, &limit, &headroom, &ignored) < 0)
		headroom = CFG_SIZE_MAX;
	cfg_default_limit(cfg_physical_memory(), mem_available(), headroom, d);
}

void cfg_apply_default_limit(struct run_options *o, const struct cfg_origin origin[CFG_NKEYS])
{
	struct cfg_default_limit d;

	if (origin[CFG_LIMIT].source != CFG_SRC_BUILTIN)
		return;
	cfg_default_limit_probe(&d);
	o->limit = d.bytes;
	if (origin[CFG_TEST_LIMIT].source == CFG_SRC_BUILTIN)
		o->test_limit = d.bytes;
	cfg_default_limit_text(&d, o->limit_origin, sizeof(o->limit_origin));
}
