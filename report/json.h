/* The JSON report: the session and every unit record, for programs (CI dashboards, scripts).
 * Schema: etc/reports.md. Sizes are bytes (null: unlimited or unknown), times seconds. */
#ifndef WCMEM_REPORT_JSON_H
#define WCMEM_REPORT_JSON_H

#include <stddef.h>
#include <stdio.h>

#include "report/log.h"
#include "report/record.h"

#define REP_JSON_SCHEMA "wcmem-sandbox-report/1"

/* Writes the report of n units and the session s to f. Returns 0, or -errno. */
int rep_json_write(FILE *f, const struct rep_unit *units, size_t n, const struct rep_session *s);

/* Writes text as a JSON string, quotes included: " and \ escaped, control characters as
 * \n \r \t or \u00XX; bytes that are not UTF-8 as the text \xHH (JSON must be Unicode).
 * NULL is written as null. */
void rep_json_string(FILE *f, const char *text);

#endif
