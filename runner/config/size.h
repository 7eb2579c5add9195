/* The one parser for every SIZE and the one for every DURATION on the command line (and,
 * later, in INI profiles). */
#ifndef WCMEM_RUNNER_CONFIG_SIZE_H
#define WCMEM_RUNNER_CONFIG_SIZE_H

#include <stdint.h>

#define CFG_SIZE_MAX UINT64_MAX  /* "max": no limit */

/* Parses a SIZE: bytes ("1048576"), a K/M/G/T suffix in powers of 1024, any case, with an
 * optional "B" or "iB" ("4G", "512mib", "1.5g", "10kB"), "N%" of physical_bytes ("50%",
 * "12.5%"), or "max" (CFG_SIZE_MAX). Leading/trailing blanks are refused, as are 0, negative
 * values, empty text, exponents, hex, and anything at or past 2^63 bytes.
 * Returns 0, -EINVAL (malformed) or -ERANGE (0, too large). */
int cfg_parse_size(const char *text, uint64_t physical_bytes, uint64_t *bytes);

/* Parses a SIZE as a pytest marker writes it (pytest-memray's limit_memory, limit_leaks):
 * an optional "+", blanks allowed between the number and the unit ("24 MB", "+1.5 GiB",
 * "100kb"), units as cfg_parse_size's and "PB"; "max" and "N%" are refused.
 * Returns 0, -EINVAL or -ERANGE. */
int cfg_parse_marker_size(const char *text, uint64_t *bytes);

/* Parses a DURATION: a decimal number with an optional unit ms, s, m or h ("100ms", "0.5s",
 * "2m"); no unit means seconds. Zero, negative, malformed or over a day (86400 s) are refused.
 * Returns 0 with *ns set, -EINVAL or -ERANGE. */
int cfg_parse_duration(const char *text, uint64_t *ns);

/* Physical memory in bytes (sysconf), 0 when unknown. */
uint64_t cfg_physical_memory(void);

#endif
