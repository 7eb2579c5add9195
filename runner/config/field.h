/* A field's percent-encoding: the control protocol's names and values and the resume file's
 * (control/), the budget file's names (budget/). Here, below both, since both read it. */
#ifndef WCMEM_RUNNER_CONFIG_FIELD_H
#define WCMEM_RUNNER_CONFIG_FIELD_H

#include <stddef.h>

/* Percent-encodes src into dst (NUL-terminated; truncated to size). Returns the length
 * the whole encoding needs. Letters, digits and -_.:/[]=,()@+ stay as they are. */
size_t cfg_field_encode(const char *src, char *dst, size_t size);

/* Decodes a percent-encoded field in place. Returns 0, or -EINVAL (bad escape, NUL). */
int cfg_field_decode(char *s);

#endif
