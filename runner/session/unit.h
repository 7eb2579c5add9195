/* One unit's life: its cgroup, its record, its two log entries. */
#ifndef WCMEM_RUNNER_SESSION_UNIT_H
#define WCMEM_RUNNER_SESSION_UNIT_H

#include <sys/resource.h>

#include "runner/session/say.h"
#include "runner/session/entry.h"
#include "runner/session/state.h"

struct run_unit {
	struct cg_group cg;
	int idx;                       /* its record: s->units[idx] (the array may move) */
	pid_t pid;                     /* its main process */
	int status_fd;                 /* its /proc/PID/status, borrowed from its client; -1 */
	struct cg_events sandbox_ev0; /* the sandbox's counters when the unit began */
	struct timespec mono0;
	bool measured;                 /* run_unit_measure ran */
};

static inline struct rep_unit *run_unit_rec(struct run_session *s, const struct run_unit *u)
{
	return &s->units[u->idx];
}

/* Creates unit cgroup uN in the sandbox with memory.max = limit (read back), the session's
 * swap, and memory.oom.group (v2), and appends its record to s->units. Returns 0 or -errno. */
int run_unit_open(struct run_session *s, struct run_unit *u, const char *name,
		  const char *kind, uint64_t limit, struct wc_error *e);

/* As run_unit_open, taking the cgroup *from (a unit kept for one client) when it was made
 * with this limit and holds no process but client (0: none), else the spare when it is
 * empty and holds no memory, else a new one. One made ahead of time that holds more (a
 * test moved processes there) is emptied into the harness and removed, with one warning. */
int run_unit_open_from(struct run_session *s, struct run_unit *u, const char *name,
		       const char *kind, uint64_t limit, struct cg_group *from, pid_t client,
		       struct wc_error *e);

/* Keeps a unit in *kept for one client's next START: the spare, else a new one, with the
 * job's test limit. Returns 0 (already kept, or kept now) or -errno. */
int run_unit_keep(struct run_session *s, struct cg_group *kept, struct wc_error *e);

/* Makes the next unit's cgroup ahead of time (s->spare), while no test waits for it: a
 * START then only moves the process in. Best effort. */
void run_unit_prepare(struct run_session *s, uint64_t limit);

/* The unit's main process pid is in the unit: snapshot /proc/PID/status and write
 * TEST_START, durable at once when sync (else the caller calls run_log_sync). extras: lines
 * from the plugin, or NULL. Returns 0 or -errno. */
int run_unit_start(struct run_session *s, struct run_unit *u, pid_t pid, const char *extras,
		   bool sync, struct wc_error *e);

/* Samples the unit while it runs: memory.current and /proc/PID/status. Returns its
 * memory.current for the timeline, or REP_UNKNOWN. */
uint64_t run_unit_sample(struct run_session *s, struct run_unit *u);

/* The unit's name in the timeline: its cgroup below the sandbox ("u5"). */
const char *run_unit_short_name(const struct run_unit *u);

/* Opens the timeline beside the log (runner/session/timeline.c). Best effort, with a warning. */
void run_timeline_open(struct run_session *s);

/* Writes one line of the timeline (LOG.timeline): the sandbox's memory.current and the open
 * units'. Best effort: a timeline that cannot be written is turned off with a warning. */
void run_timeline_sample(struct run_session *s, uint64_t sandbox, const struct rep_tl_unit *u,
			 size_t n);

/* Reads the unit's counters and /proc status now (before its process leaves the unit). */
void run_unit_measure(struct run_session *s, struct run_unit *u);

/* The unit ended (wait status; or not_run = 126/127 when exec failed; or lost when the
 * process was not our child): decide the verdict, write TEST_END. Measures first unless
 * run_unit_measure already did. Returns 0 or -errno. */
int run_unit_finish(struct run_session *s, struct run_unit *u, int wait_status, int not_run,
		    bool lost, const struct rusage *ru, const char *extras, struct wc_error *e);

/* Moves the processes still in the unit but keep (0: none) to the harness (they outlive
 * the unit, as a test's leftover server would); when counted, the record reports them.
 * Returns the number moved, or -errno. */
int run_unit_evict(struct run_session *s, struct run_unit *u, pid_t keep, bool counted,
		   struct wc_error *e);

/* Kills what is left in the unit and removes its cgroup. Returns 0 or -errno. */
int run_unit_close(struct run_unit *u, struct wc_error *e);

#endif
