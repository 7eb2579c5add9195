/* The memory log of etc/log-format.md.
 *
 * Formatting is pure (rep_log_format_*: records in, text out) so the format is tested
 * against golden files; writing is one write(2) per entry on an O_APPEND descriptor, so
 * tail -f sees whole entries and a killed process never leaves a torn one. */
#ifndef WCMEM_REPORT_LOG_H
#define WCMEM_REPORT_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <stdio.h>
#include <time.h>

#include "cgroup/error.h"
#include "report/record.h"

/* What the SESSION_START and SESSION_END entries say. */
struct rep_session {
	struct timespec start;   /* CLOCK_REALTIME */
	double elapsed;          /* seconds since start, for SESSION_END */
	const char *command;     /* the command line, unescaped */
	const char *rerun;       /* the summary's command to rerun a killed test, up to the
				  * test (shell words), or NULL */
	const char *cgroup;      /* the sandbox, e.g. "wcmem-4242" */
	const char *backend;     /* "cgroup v2" or "cgroup v1" */
	uint64_t limit;          /* the sandbox total, bytes or REP_UNLIMITED */
	const char *limit_origin; /* how the built-in limit was found; NULL: it was given */
	const char *shard;       /* this run's share of the tests, "2/3"; NULL: all of them */
	const char *shard_origin; /* where its index came from: "--shard", an engine's variables */
	uint64_t test_limit;     /* each unit's limit, bytes or REP_UNLIMITED */
	uint64_t swap;           /* bytes or REP_UNLIMITED */
	uint64_t peak;           /* the sandbox's peak at the end, bytes or REP_UNKNOWN */
	int units;               /* units run, for SESSION_END */
	bool tests_shown;        /* pytest's terminal summary listed the tests (TOP) */
	bool colour;             /* the summary's verdicts in colour (a terminal, no NO_COLOR) */
	int tests_dropped;       /* of them, tests whose records were let go: they ended
				  * normally and were too small for the summary's biggest */
	int oom_killed;          /* units OOM-killed and processes killed outside every unit */
	int outside_kills;       /* of them, processes outside every unit (harness, standby) */
	int resumes;             /* times the command was run again after an OOM kill */
	int standby_resumes;     /* of them, by waking its collected copy, not restarting */
	unsigned long warm_moves; /* moves of nothing that kept the migration lock warm */
	double resume_seconds;   /* what they cost: from each death of the command to the
				  * first test of its next run (start, import, collection) */
	int reruns;              /* tests run again: the sandbox total killed them beside others */
	int waited;              /* tests whose START waited for room (admission) */
	double wait_seconds;     /* how long they waited, in all */
	double wait_longest;     /* the longest wait of one */
	const char *expect;      /* --expect's log, when it was read; NULL: none */
	size_t expect_tests;     /* the tests it gave a peak for */
	int exit_status;         /* the runner's exit status, for SESSION_END */
	const char *log_path;    /* the memory log, NULL when it is off (for the summary) */
	/* Suites of a profile that never started (after an OOM kill with stop_on_oom, or an
	 * interrupt), and why: the reports list them, so that nothing vanishes from CI. */
	const char *const *not_run;
	size_t n_not_run;
	const char *not_run_why;
};

struct rep_log {
	int fd;           /* -1 when the log is off */
	bool can_sync;    /* a file or a block device: fdatasync means something */
	bool shared;      /* another live session writes the file: it was not emptied */
	/* Another writer of the same file (a project's own diagnostics) may empty it when its
	 * session starts. What we wrote is kept in an unnamed file beside the log, and our first
	 * bytes are checked where they landed before each entry: gone, a new file with all of it
	 * takes the log's place. Regular files only. */
	int copy;         /* -1: no copy (nothing to put back) */
	int reader;       /* reads the log back (fd is write-only) */
	char path[4096];  /* the log's, for messages */
	int folder;       /* O_PATH: the log's folder as it was opened, where a new file takes
			   * the log's place (not its path: that may be a link by then) */
	const char *base; /* the log's name in folder (points into path) */
	off_t copy_len;
	off_t at;         /* where our first entry is in the log */
	char head[64];    /* its first bytes (a time stamp to the microsecond) */
	size_t head_len;  /* 0 until the first entry */
	unsigned restored;/* times everything was put back */
};

/* The default log path: $WEATHERCOP_DIR/test_memory.log, else $HOME/.weathercop/test_memory.log.
 * weathercop_dir and home may be NULL or empty. Returns 0, or -ENAMETOOLONG / -ENOENT (no HOME). */
int rep_log_default_path(char *buf, size_t size, const char *weathercop_dir, const char *home);

/* Opens the log (O_WRONLY|O_APPEND|O_CREAT|O_CLOEXEC, 0644) with rep_file_open (never
 * through a planted link), creating its own folder when missing. A regular file is emptied
 * unless append, or another live session writes it (log->shared: then this one appends
 * too: sessions share a file only by appending whole entries); it stays locked (shared)
 * until closed (flock), and gets its copy (none where O_TMPFILE is refused). A device or a
 * FIFO is written as it is. Returns 0, or -errno with e. */
int rep_log_open(struct rep_log *log, const char *path, bool append, struct wc_error *e);

/* Closes the log; safe on a closed or never-opened log (fd -1). */
void rep_log_close(struct rep_log *log);

/* Writes one whole entry with one write(2) (retried on EINTR and short writes), and
 * fdatasync()s it when sync and the file has durability (log->can_sync). When a write fails
 * part way (a full disk), what was written of the entry is taken back off the end: the log
 * never holds a torn entry. When another writer emptied or overwrote the file since the
 * last entry, first puts a new file with everything written before in its place
 * (log->restored counts it; the other writer keeps the old one).
 * A log with fd -1 accepts and drops. Returns 0, or -errno. */
int rep_log_write(struct rep_log *log, const char *entry, size_t len, bool sync);

/* The one escaping of text from outside (test names, client lines, INI values) for the log
 * and the terminal: control characters, bytes that are not UTF-8 and the code points
 * rep_utf8_unsafe names become \n \r \t \xHH \uHHHH, so that text can never forge an entry
 * nor drive a terminal; backslashes pass as they are. Always NUL-terminates; truncates when
 * out is too small, never inside an escape or a character. Returns the length written. */
size_t rep_log_escape(const char *name, char *out, size_t size);

/* The escaped form of the one character at p (as rep_log_escape writes it) into tmp, NUL
 * terminated; *used gets the bytes of p it took (1 to 4). Returns the length written. */
size_t rep_log_escape_char(const char *p, char tmp[8], size_t *used);

/* Writes text to f line by line, each line escaped as rep_log_escape does it but for the
 * backslash (kept, as in a quoted shell word), and the newlines kept: for messages of several lines (an error and its hint, `config`'s output)
 * that hold text from outside. Returns 0, or -EIO. */
int rep_log_escape_lines(FILE *f, const char *text);

/* Each formats one entry into buf, ending with a newline. They return the length, or
 * -ENOSPC when buf is too small (the caller grows it and retries). */
int rep_log_format_session_start(char *buf, size_t size, const struct rep_session *s);
int rep_log_format_session_end(char *buf, size_t size, const struct rep_session *s,
			       const struct timespec *now);
int rep_log_format_unit_start(char *buf, size_t size, const struct rep_unit *u);
int rep_log_format_unit_end(char *buf, size_t size, const struct rep_unit *u,
			    const struct timespec *now, double elapsed);
/* UNIT_REFUSED: the runner refused a client's START or END (verb) for name, with answer. */
int rep_log_format_refused(char *buf, size_t size, const struct timespec *now, const char *verb,
			   const char *name, const char *answer);

#endif
