/* Words as a shell takes them back, for the lines a user copies into one (the summary's
 * command that reruns a killed test). */
#ifndef WCMEM_REPORT_SHELL_H
#define WCMEM_REPORT_SHELL_H

#include <stdbool.h>
#include <stddef.h>

/* Appends word to out (a NUL-terminated string of capacity size), after a blank when out is
 * not empty: as it is when it holds only characters no shell treats specially, else in
 * single quotes ('\'' for a quote), and when it holds a byte that must not reach a terminal
 * (rep_utf8_unsafe, or one that is not UTF-8) in $'...' with \xHH escapes (bash, zsh, ksh).
 * Returns false, with out unchanged, when it does not fit. */
bool rep_shell_append(char *out, size_t size, const char *word);

#endif
