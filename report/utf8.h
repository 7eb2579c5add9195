/* UTF-8 checking for the sinks whose formats demand valid text (XML, JSON): names come from
 * test IDs and command lines, which are bytes. */
#ifndef WCMEM_REPORT_UTF8_H
#define WCMEM_REPORT_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The length (1 to 4) of the well-formed UTF-8 sequence at s, with its code point in *cp;
 * 0 when the bytes at s are not one (a stray continuation byte, an overlong form, a
 * surrogate, past U+10FFFF, or cut short by the NUL). s is NUL-terminated, *s not NUL. */
size_t rep_utf8_next(const char *s, uint32_t *cp);

/* Whether code point cp must never reach a terminal or a report as it is: C0 controls and
 * DEL, C1 controls (U+0080-U+009F: CSI and OSC to a terminal), the bidi marks, embeddings,
 * overrides and isolates that reorder what is shown (U+061C, U+200E-F, U+202A-E,
 * U+2066-9), and the line and paragraph separators U+2028-9. Every sink escapes these. */
bool rep_utf8_unsafe(uint32_t cp);

/* The length, at most max, of the longest head of s that ends between two characters: a
 * text cut there never splits a UTF-8 sequence (a byte that is not UTF-8 counts as one
 * character). s is NUL-terminated. */
size_t rep_utf8_cut(const char *s, size_t max);

#endif
