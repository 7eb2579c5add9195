/* The control socket's insides, shared by control.c, control_msg.c and resume.c only. */
#ifndef WCMEM_RUNNER_CONTROL_INT_H
#define WCMEM_RUNNER_CONTROL_INT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "runner/control.h"
#include "runner/loop.h"
#include "runner/session.h"
#include "runner/unit.h"

/* One client connection. */
struct conn {
	struct run_control *ctl;
	struct run_watch w;
	pid_t pid;            /* from SO_PEERCRED */
	bool hello;
	bool broken;          /* to be closed after this read */
	bool dead;            /* closed while its unit was open; the wait status will end it */
	bool discarding;      /* sent a line too long: read and dropped until it closes */
	int warnings;
	char *buf;            /* RUN_LINE_MAX bytes */
	size_t len;
	bool has_unit;
	bool unit_is_test;    /* kind=test: lives in the harness between units */
	struct run_unit unit;
	bool parked;          /* the client still sits in its last test's unit: */
	struct run_unit park; /* it leaves at its next START, one migration a test, not two */
	char *origin;         /* kind=command: the cgroup it came from, to go back to */
	struct conn *next;
};

/* A test that was OOM-killed, for the loop check (the resume file has the rest). */
struct resume_entry {
	char *name;
	int attempt;          /* the attempt it was killed in */
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
	struct resume_entry *entries; /* the killed tests */
	int nentries;
	FILE *resume;         /* the resume file, written as tests end (resume.c) */
	bool resume_warned;   /* it could not be written: said once */
	int attempt;
	int started;          /* START messages in this attempt */
	char resume_path[4300];
};

void run_conn_line(struct run_control *c, struct conn *k, char *line);
void run_conn_reply(struct conn *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void run_conn_warn(struct conn *k, const char *what);
void run_conn_close(struct run_control *c, struct conn *k);

/* Removes the unit the client stayed in after its last test (moving anything left in it to
 * the harness). A no-op when there is none. */
void run_conn_unpark(struct run_control *c, struct conn *k);

/* Ends the client's open unit: measured, client moved out, leftovers evicted, TEST_END
 * written, cgroup removed; recorded for a resume. */
void run_conn_end_unit(struct run_control *c, struct conn *k, int wait_status, bool lost,
		       const struct rusage *ru);

/* Records a finished (or killed) test for a resumed run; warns once when it cannot. */
void run_resume_add(struct run_control *c, const char *name, const char *text,
		    double duration, bool killed);
void run_resume_free(struct run_control *c);

#endif
