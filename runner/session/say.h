/* What the runner says on stderr, escaped: text from outside (test names, client lines,
 * INI values) cannot forge a line of its own. */
#ifndef WCMEM_RUNNER_SESSION_SAY_H
#define WCMEM_RUNNER_SESSION_SAY_H

/* Prints "wcmem-sandbox: warning: ..." to stderr. */
void run_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "wcmem-sandbox: " what, then text escaped line by line (rep_log_escape_lines). */
void run_say(const char *what, const char *text);

#endif
