/* The memory log's entries of a session: formatted into one buffer the session keeps, and
 * written whole, each with one write(2). */
#ifndef WCMEM_RUNNER_SESSION_ENTRY_H
#define WCMEM_RUNNER_SESSION_ENTRY_H

#include <stdbool.h>

#include "cgroup/error.h"
#include "report/record.h"
#include "runner/session/state.h"

enum run_entry {
	RUN_ENTRY_SESSION_START,
	RUN_ENTRY_SESSION_END,
	RUN_ENTRY_UNIT_START,
	RUN_ENTRY_UNIT_END,
	RUN_ENTRY_REFUSED,
};

/* Formats one log entry and writes it with one write(2), fdatasync'd when sync (and the
 * file type has durability). A log that is off accepts and drops. A log that cannot take
 * the entry (a full disk) is closed with one warning naming the entry and the errno, and
 * the run goes on. Returns 0, or -errno when the entry cannot even be formatted. */
int run_log_entry(struct run_session *s, enum run_entry kind, const struct rep_unit *u,
		  bool sync, struct wc_error *e);

/* Makes every entry written so far durable (fdatasync) on the log's sync thread, and
 * returns at once: for an entry written without sync, once the answer it owed has gone. A
 * sync that failed is found at the next call: the log is then closed with one warning, as
 * for a failed write, and the run goes on. */
void run_log_sync(struct run_session *s);

/* Waits for the syncs asked for, then closes the log. */
void run_log_close(struct run_session *s);

/* Writes a UNIT_REFUSED entry: the runner answered a client's verb for name with answer.
 * Returns 0, or -errno with e filled. */
int run_log_refused(struct run_session *s, const char *verb, const char *name,
		    const char *answer, struct wc_error *e);

#endif
