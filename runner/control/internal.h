/* The control socket's insides, shared by control*.c and resume.c only. */
#ifndef WCMEM_RUNNER_CONTROL_INTERNAL_H
#define WCMEM_RUNNER_CONTROL_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "runner/control/control.h"
#include "runner/session/loop.h"
#include "runner/session/say.h"
#include "runner/session/state.h"
#include "runner/control/protocol.h"
#include "runner/session/unit.h"

/* What a sandbox may make the runner hold, whatever its tests do. */
#define RUN_CONN_MAX 256               /* connections at once */
#define RUN_CONN_FDS 16                /* descriptors a connection may hold, at most */
#define RUN_CONN_BUF_MIN 4096          /* a connection's buffer to start with */
#define RUN_CONN_BUFFERED (4u << 20)   /* unfinished lines of all connections together */
#define RUN_REPLY_MAX 4096             /* an answer's line, its newline included */

/* Where a connection is in the protocol. run_conn_enter (conn.c), the one function that
 * moves it on, holds the transitions:
 *
 *   GREETING --HELLO--> IDLE --START--> IN_UNIT --END, or its process left or died--> IDLE
 *   IN_UNIT --closed while its process, the command's main one, dies--> CLOSED_IN_UNIT
 *   CLOSED_IN_UNIT --the unit ends: the wait status, or the process connects again--> IDLE,
 *     and the connection is freed
 *
 * A unit's END is refused in every state but IN_UNIT, a START but in IDLE, and every line
 * but HELLO in GREETING. */
enum conn_state {
	CONN_GREETING,        /* proven at accept, no HELLO yet (calloc's 0) */
	CONN_IDLE,            /* no unit open; it may still sit in its last test's (has_last) */
	CONN_IN_UNIT,         /* a unit is open: its START taken, its END not yet */
	CONN_CLOSED_IN_UNIT,  /* its socket closed with the unit open: the unit waits for the */
	                      /* command's wait status, which says how it died */
};

/* One client connection. */
struct conn {
	struct run_control *ctl;
	struct run_watch w;
	pid_t pid;            /* from SO_PEERCRED: a number, proven only with pidfd */
	int pidfd;            /* the process that connected (peer.h) */
	int cgroup_fd;        /* its /proc/PID/cgroup, and its /proc/PID/status, kept open: */
	int status_fd;        /* one pread a reading, and never another process's (-1: none) */
	enum conn_state state;
	bool worker;          /* its parent is a client: a pytest-xdist worker, which its */
	                      /* controller replaces when it dies */
	bool broken;          /* to be closed after this read */
	bool discarding;      /* sent a line too long: read and dropped until it closes */
	int warnings;
	char *buf;            /* cap bytes, grown up to RUN_LINE_MAX while a line is long */
	size_t cap;
	size_t len;
	bool unit_is_test;    /* kind=test: lives in the harness between units */
	uint64_t leaks;       /* the open unit's START leaks= (limit_leaks), UINT64_MAX: none */
	struct run_unit unit;  /* the open unit (IN_UNIT, CLOSED_IN_UNIT) */
	char out[2 * RUN_REPLY_MAX]; /* answers not sent yet (run_conn_flush) */
	size_t out_len;
	bool has_last;        /* the client still sits in its last test's unit, last: */
	struct run_unit last; /* it leaves at its next START, one migration a test, not two */
	struct cg_group kept; /* START keep=1: the unit its next START takes (moved=1) */
	char *origin;         /* kind=command: the cgroup it came from, to go back to */
	unsigned long peer_ino; /* the client's end of the connection (0: unknown, peer.h) */
	int peer_fd;          /* the descriptor the client was last seen holding it at, or -1 */
	bool left;            /* its unit ends because it left it: not sent home from elsewhere */
	bool held;            /* its START waits for room (admit.c): its lines wait in buf */
	struct timespec held_since; /* CLOCK_MONOTONIC of the START's first wait */
	uint64_t expect;      /* the open unit's expected peak (its budget), 0: unknown; or
			       * the reserved test's (below) */
	bool reserved;        /* ROOM said its test starts now: counted as running until its
			       * START comes (or RUN_ADMIT_FAIR_S), so that two clients asking
			       * at once are not both told the same room is theirs */
	struct timespec reserved_since;
	bool alone;           /* its START (held or open) is a test's run again: alone */
	struct conn *next;
};

/* A test that was OOM-killed, for the loop check (the resume file has the rest). */
struct resume_entry {
	char *name;
	int attempt;          /* the attempt it was killed in */
};

/* A test to run again (admit.c); its name is matched by the next START of it. */
struct rerun {
	char *name;
	bool started;         /* it has run again: never a third time */
};

struct run_control {
	struct run_session *s;
	struct run_watch lw;
	char dir[4096];
	int dir_lock;             /* locked while dir lives: the runner is alive (rundir.h) */
	char path[4200];
	char env[4300];
	pid_t main_pid;
	struct conn *conns;
	int nconns;           /* dead ones too: each holds a unit */
	int max_conns;
	size_t buffered;      /* the bytes of every connection's buffer */
	int reserve_fd;       /* given up to accept a client when out of descriptors */
	int refused;          /* clients refused (said on stderr once) */
	int warnings;         /* about clients, all together */
	struct conn *standby; /* the command's copy that waits to resume it, or NULL */
	struct resume_entry *entries; /* the killed tests */
	int nentries;
	FILE *resume;         /* the resume file, written as tests end (resume.c) */
	bool resume_warned;   /* it could not be written: said once */
	int attempt;
	int started;          /* START messages in this attempt */
	int killed_top;       /* tests killed in this attempt that took a client that is no */
	                      /* worker (run_control_killed_top) */
	struct timespec first_start; /* CLOCK_MONOTONIC of its first, when started > 0 */
	int verdict_at;           /* the record the last VERDICT found: the next search's start */
	struct rerun *reruns; /* tests to run again, alone: the sandbox total killed them */
	int nreruns;          /* beside other tests (VERDICT requeue=1, admit.c) */
	bool no_pressure;     /* the sandbox's memory.pressure cannot be read (v1): not tried */
	bool pressured;       /* it showed pressure at the last sample (admit.c) */
	char resume_path[4300];
	char snap_path[4300];     /* the copy the command's current run reads */
};

/* Handles one line. Returns 1 when it is a START that waits for room (admit.c), which
 * only one that may_wait does: the caller then hands the line again, as it came, once
 * there may be room (server.c, at each END, death and sample); else 0. */
int run_conn_line(struct run_control *c, struct conn *k, char *line, bool may_wait);

/* Admission (admit.c). Whether k's START m waits: a test to run again waits until no other
 * unit is open, and any START while one runs; a test whose budget the sandbox's headroom
 * (its limit less what is charged now and what open units are expected to take still)
 * cannot hold waits, and on v2 any START while the sandbox is under memory pressure;
 * none when no other unit is open. Never a START that moved itself in. */
bool run_admit_waits(struct run_control *c, struct conn *k, const struct run_msg *m);

/* The START k held is taken now: how long it waited goes to its record and the session. */
void run_admit_started(struct run_control *c, struct conn *k);

/* VERDICT requeue=1 for rec: 1 (and it is to run again, alone) when the sandbox total
 * killed it while another unit was open, and it is not a rerun itself; else 0. */
int run_admit_requeue(struct run_control *c, struct rep_unit *rec);

/* ROOM: whether k's START of name would be taken now rather than wait (k has no unit
 * open). Reads only: a START later may still wait, room taken meanwhile. */
bool run_admit_room(struct run_control *c, struct conn *k, const char *name);

/* Whether STARTs wait for memory the tests are expected to take (a total, and what an
 * earlier run measured): HELLO's answer says room=1, and a client may ask ROOM. */
bool run_admit_by_memory(const struct run_control *c);

/* At each sample: whether the sandbox is under memory pressure (v2 PSI), which holds
 * every START while other tests run. */
void run_admit_sample(struct run_control *c);

/* Whether a unit may be kept for a client's next START (keep=1): not when STARTs may
 * wait (--budgets, --expect, a test to run again alone, pressure), since a client that moves itself
 * into a kept unit starts without asking. */
bool run_admit_may_keep(const struct run_control *c);

/* Frees the list of tests to run again. */
void run_admit_free(struct run_control *c);


/* Moves k to state to; a transition the diagram above does not have is a bug of ours,
 * warned about. */
void run_conn_enter(struct conn *k, enum conn_state to);

/* Whether k has a unit open: IN_UNIT, or CLOSED_IN_UNIT. */
static inline bool run_conn_has_unit(const struct conn *k)
{
	return k->state == CONN_IN_UNIT || k->state == CONN_CLOSED_IN_UNIT;
}

/* Opens the client's /proc/PID/cgroup and /proc/PID/status (k->cgroup_fd, k->status_fd),
 * right after its pidfd and before its first proof; best effort. */
void run_conn_open_proc(struct conn *k);

/* 1 when the client's pid still is the process that connected and it is inside this
 * sandbox: checked right before each move of it, never trusted from before. 0 when not;
 * -errno when the runner itself lacks what it takes to tell (EMFILE, ENOMEM). */
int run_conn_proven(struct run_control *c, struct conn *k);

/* Connections at once: RUN_CONN_MAX, or fewer under a low descriptor limit. */
int run_conn_max(void);

/* Makes room in k's buffer for the next read: 0, or -ENOBUFS (the sandbox's connections
 * hold RUN_CONN_BUFFERED already) or -ENOMEM. */
int run_conn_room(struct run_control *c, struct conn *k);

/* Gives back the room of a long line once it is handled. */
void run_conn_shrink(struct run_control *c, struct conn *k);

/* Sends line (with its newline) to a client not taken, and closes fd; warns once a run. */
void run_control_refuse(struct run_control *c, int fd, const char *line);

/* accept(2) failed for lack of descriptors: takes the client with the one kept in reserve
 * to tell it so (ERR 503), and keeps one in reserve again. */
void run_control_refuse_without_fds(struct run_control *c, int lfd);

/* Queues an answer line (cut at RUN_REPLY_MAX): the handlers answer, the server sends. */
void run_conn_reply(struct conn *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Sends what is queued, the one place that writes to a client. A client whose socket is full
 * loses its answers and is marked broken. */
void run_conn_flush(struct conn *k);

/* Sends what is queued, then the one line text with descriptor fd (SCM_RIGHTS). */
void run_conn_send_fd(struct conn *k, const char *text, int fd);

/* TOP RANK: the test of that rank (killed first, then by peak), for pytest's terminal
 * (top.c). */
void run_control_top(struct run_control *c, struct conn *k, int rank);

/* RESUME: the resume file's copy as a descriptor of the client's own (resume.c). */
void run_control_send_resume(struct run_control *c, struct conn *k);
void run_conn_warn(struct conn *k, const char *what);

/* Ends the client's open unit when its process has moved on: it no longer holds its end of
 * the connection (another process keeps a copy, so no EOF comes), or it has left the unit.
 * The runner learns of neither from the client: checked at each sample and at each START. */
void run_conn_check_moved_on(struct run_control *c, struct conn *k);

/* Removes the unit the client stayed in after its last test (moving anything left in it to
 * the harness). A no-op when there is none. */
void run_conn_drop_last(struct run_control *c, struct conn *k);

/* Ends the client's open unit: measured, client moved out, leftovers evicted, TEST_END
 * written, cgroup removed; recorded for a resume (a killed test; an END's reports word when
 * reports is not NULL); its record settled. */
void run_conn_end_unit(struct run_control *c, struct conn *k, int wait_status, bool lost,
		       const struct rusage *ru, const char *reports);

/* Records a finished (or killed) test for a resumed run; warns once when it cannot. */
void run_resume_add(struct run_control *c, const char *name, const char *text,
		    double duration, bool killed);
void run_resume_free(struct run_control *c);

#endif
