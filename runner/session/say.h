/* What the runner says on stderr, escaped: text from outside (test names, client lines,
 * INI values) cannot forge a line of its own. */
#ifndef WCMEM_RUNNER_SESSION_SAY_H
#define WCMEM_RUNNER_SESSION_SAY_H

#include <stdbool.h>

/* Prints "wcmem-sandbox: warning: ..." to stderr. */
void run_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "wcmem-sandbox: " what, then text escaped line by line (rep_log_escape_lines). */
void run_say(const char *what, const char *text);

/* What the runner says at most once a run, however often a job, a unit or a log entry
 * comes upon it again. */
enum run_once_what {
	RUN_ONCE_NO_PLUGIN,    /* the plugin is not installed beside the binary */
	RUN_ONCE_OOM_SCORE,    /* oom_score_adj could not be raised */
	RUN_ONCE_LOG_EMPTIED,  /* another writer emptied the log */
	RUN_ONCE_TAMPERED,     /* a unit made ahead of time was not as made */
	RUN_ONCE_N
};

/* What was said once (the session's part, state.h). Set by run_once alone: the rest asks. */
struct run_once {
	bool said[RUN_ONCE_N];
};

/* Marks what as said. Returns true the first time in the run (the caller says it now),
 * false from then on. */
bool run_once(struct run_once *o, enum run_once_what what);

#endif
