/* UTF-8 checking for the sinks whose formats demand valid text (XML, JSON): names come from
 * test IDs and command lines, which are bytes. */
#ifndef WCMEM_REPORT_UTF8_H
#define WCMEM_REPORT_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* The length (1 to 4) of the well-formed UTF-8 sequence at s, with its code point in *cp;
 * 0 when the bytes at s are not one (a stray continuation byte, an overlong form, a
 * surrogate, past U+10FFFF, or cut short by the NUL). s is NUL-terminated, *s not NUL. */
size_t rep_utf8_next(const char *s, uint32_t *cp);

#endif
