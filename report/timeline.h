/* The memory timeline: what the runner samples every --interval, kept (etc/analyze.md,
 * "The timeline"). Beside the memory log, as LOG.timeline, one line a sample:
 *
 *   # wcmem-sandbox timeline 1: DT_MS SANDBOX_MB UNIT_MB...; "@ uN..." names the units
 *   # session 2026-11-30T13:39:10.786957 limit 512.0 MB interval 100 ms
 *   @ u1 u5
 *   100 275.9 20.4 255.1
 *   101 20.7 20.4 ?
 *
 * DT_MS: milliseconds since the sample before (since the session's start for the first);
 * SANDBOX_MB: the sandbox's memory.current; then each open unit's memory.current, in the
 * order of the last "@" line, which is written whenever the open units change ("?": could
 * not be read, as when a unit is being removed). MB are MiB with one decimal, as in the log.
 * About 20 bytes a sample: an hour at 100 ms is under 1 MB.
 *
 * Formatting is pure, so the format is tested without cgroups; the runner writes each
 * sample with one write(2) on an O_APPEND descriptor as it goes, so a crash keeps what was
 * sampled. */
#ifndef WCMEM_REPORT_TIMELINE_H
#define WCMEM_REPORT_TIMELINE_H

#include <stddef.h>
#include <stdint.h>

#include "report/log.h"

#define REP_TL_UNITS_MAX 64   /* units written a sample; more are left out of the line */
#define REP_TL_NAME_MAX  24   /* "u" and a number */

struct rep_tl_unit {
	const char *name;   /* the unit's cgroup below the sandbox: "u5" */
	uint64_t current;   /* bytes, or REP_UNKNOWN */
};

/* The units named by the last "@" line, so that the next one is written only on change. */
struct rep_tl_state {
	char names[REP_TL_UNITS_MAX][REP_TL_NAME_MAX];
	size_t n;
	int written;        /* an "@" line was written */
};

/* The two header lines of a session's timeline. Returns the length, or -ENOSPC. */
int rep_timeline_format_head(char *buf, size_t size, const struct rep_session *s,
			     uint64_t interval_ns);

/* One sample (and the "@" line before it when the units changed, updating st). Returns the
 * length, or -ENOSPC (st unchanged). */
int rep_timeline_format_sample(char *buf, size_t size, struct rep_tl_state *st,
			       unsigned long dt_ms, uint64_t sandbox,
			       const struct rep_tl_unit *units, size_t n);

#endif
