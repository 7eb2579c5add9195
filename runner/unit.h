/* One unit's life: its cgroup, its record, its two log entries. */
#ifndef WCMEM_RUNNER_UNIT_H
#define WCMEM_RUNNER_UNIT_H

#include <sys/resource.h>

#include "runner/session.h"

struct run_unit {
	struct cg_group cg;
	struct rep_unit *rec;          /* in s->units */
	struct rep_events sandbox_ev0; /* the sandbox's counters when the unit began */
	struct timespec mono0;
};

enum run_entry {
	RUN_ENTRY_SESSION_START,
	RUN_ENTRY_SESSION_END,
	RUN_ENTRY_UNIT_START,
	RUN_ENTRY_UNIT_END,
};

/* Formats one log entry and writes it with one write(2), fdatasync'd when sync.
 * A log that is off accepts and drops. Returns 0 or -errno. */
int run_log_entry(struct run_session *s, enum run_entry kind, const struct rep_unit *u,
		  bool sync, struct rep_error *e);

/* Creates unit cgroup uN in the sandbox with memory.max = limit (read back), the session's
 * swap, and memory.oom.group (v2), and appends its record to s->units. Returns 0 or -errno. */
int run_unit_open(struct run_session *s, struct run_unit *u, const char *name,
		  const char *kind, uint64_t limit, struct rep_error *e);

/* The unit's main process pid is in the unit: snapshot /proc, write TEST_START and make it
 * durable before the unit may run. Returns 0 or -errno. */
int run_unit_start(struct run_session *s, struct run_unit *u, pid_t pid, struct rep_error *e);

/* Samples the unit while it runs (the timeline): memory.current and /proc/PID/status. */
void run_unit_sample(struct run_unit *u);

/* The unit ended (wait status, or not_run = 126/127 when exec failed): read its counters,
 * decide the verdict, write TEST_END. Returns 0 or -errno. */
int run_unit_finish(struct run_session *s, struct run_unit *u, int wait_status, int not_run,
		    const struct rusage *ru, struct rep_error *e);

/* Kills what is left in the unit and removes its cgroup. Returns 0 or -errno. */
int run_unit_close(struct run_unit *u, struct rep_error *e);

#endif
