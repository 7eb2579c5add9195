/* The unit records of a session: where they are kept, and which are let go.
 *
 * Every record is kept when a JSON, JUnit or HTML report is asked for: the reports list
 * every unit (the HTML is made from the records, not from the log). Otherwise only what the
 * summary shows is kept (commands, suites, every test that did not end normally, and the
 * REP_SUMMARY_BIGGEST biggest of the others), each with its name and where= cut
 * (run_record_cut) and no plugin lines, so that the runner's memory grows by a few hundred
 * bytes a unit at most, whatever the client sends. Let-go slots are reused; a unit in flight
 * keeps its slot until it has ended. */
#ifndef WCMEM_RUNNER_SESSION_RECORDS_H
#define WCMEM_RUNNER_SESSION_RECORDS_H

#include "runner/session/say.h"
#include "runner/session/state.h"

/* A zeroed record with the next seq, in a free slot or a new one. Returns its index, or
 * -ENOMEM. Pointers into s->units are valid until the next call. */
int run_record_new(struct run_session *s);

/* The unit of the record at idx has ended and nothing will read its record again: let the
 * record go when neither the summary nor a report will show it. */
void run_record_settle(struct run_session *s, int idx);

/* Whether u is the record of the unit called name, whole or cut by run_record_cut. */
bool run_record_named(const struct rep_unit *u, const char *name);

/* The kept records in the order their units began, for the summary and the reports: the
 * slots themselves when none was let go (they are in order then), else a sorted copy that
 * *copy owns (free it, not the records). Without memory for the copy, the slots as they are
 * (every record still there; only the order may differ). */
const struct rep_unit *run_records_in_order(const struct run_session *s, size_t *n,
					    struct rep_unit **copy);

/* Frees every record. */
void run_records_free(struct run_session *s);

#endif
