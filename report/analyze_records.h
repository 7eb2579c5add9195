/* The analysis of a run from its unit records, as the run ends: what `analyze` would find in
 * the run's log, without reading the log back. The log may be a FIFO (gone with its
 * reader), a device, or cut short by a full disk; the records hold every unit. */
#ifndef WCMEM_REPORT_ANALYZE_RECORDS_H
#define WCMEM_REPORT_ANALYZE_RECORDS_H

#include <stddef.h>

#include "report/analysis.h"
#include "report/log.h"
#include "report/record.h"

/* Feeds the session s and its units[0..n) (in the order they began) into a as one log
 * named log (kept, not copied): the entries the memory log has for them, in the order it
 * has them (each unit's start and end in time order), formatted by report/log.h and read
 * back by report/logread.h, so that the answer is the one `analyze` gives on a whole log.
 * Returns 0, or -ENOMEM. */
int rep_analysis_records(struct rep_analysis *a, const struct rep_unit *units, size_t n,
			 const struct rep_session *s, const char *log);

#endif
