/* The end-of-run summary on stderr: each unit with its peak, its limit and its verdict. */
#ifndef WCMEM_REPORT_SUMMARY_H
#define WCMEM_REPORT_SUMMARY_H

#include <stddef.h>
#include <stdio.h>

#include "report/log.h"
#include "report/record.h"

/* How many of the tests, biggest peak first, the summary lists. */
#define REP_SUMMARY_BIGGEST 10

/* Writes the summary of n units and the session to f; s->tests_dropped more tests ended
 * normally and were smaller than the biggest shown (they count, but have no line).
 * Returns 0, or -errno. */
int rep_summary_write(FILE *f, const struct rep_unit *units, size_t n,
		      const struct rep_session *s);

#endif
