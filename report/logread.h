/* Reading a memory log back: the guide's format (TEST_START / TEST_END entries with indented
 * "Key: value" lines) as any writer produces it, ours included.
 *
 * The parser is pure and streams: lines go in one at a time, a whole entry comes out when
 * the next one begins (or at the end), and nothing is kept between entries, so a log of any
 * length is read in constant memory. Unknown events and lines are skipped, never fatal:
 * readers of the guide's format must go on when a writer adds something. */
#ifndef WCMEM_REPORT_LOGREAD_H
#define WCMEM_REPORT_LOGREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "report/record.h"

#define REP_LOGREAD_NAME_MAX 1024  /* longer names are cut (and marked with "...") */
#define REP_LOGREAD_LINE_MAX 8192  /* the rest of a longer line is skipped */
#define REP_LOGREAD_REPEATS_MAX 20 /* a leak check's repeats (the plugin's bound) */

enum rep_event {
	REP_EV_OTHER = 0,      /* an event readers skip (a writer's own, or one we do not know) */
	REP_EV_SESSION_START,
	REP_EV_SESSION_END,
	REP_EV_TEST_START,
	REP_EV_TEST_END,
};

/* One entry, with what analysis needs of it. Figures absent from the entry are REP_UNKNOWN
 * (bytes) or -1. */
struct rep_entry {
	enum rep_event event;
	unsigned long line;             /* the line of its "[stamp] EVENT: name" header */
	char stamp[40];                 /* the time stamp as written, "" when malformed */
	char name[REP_LOGREAD_NAME_MAX];/* as written (escaped, as the log has it) */
	char kind[16];                  /* "test", "suite", "command"; "" when not given */
	char location[REP_LOGREAD_NAME_MAX]; /* "path:LINE" when the writer gave it, else "" */
	double elapsed;                 /* seconds since the session started, -1 */
	double duration;                /* seconds, -1 */
	uint64_t peak;                  /* "Peak memory", bytes: exact from the cgroup's
					 * "bytes:" line when the entry has one */
	uint64_t limit;                 /* the unit's memory.max (REP_UNLIMITED: "max"; 0: absent) */
	uint64_t current;               /* the unit's memory.current at its end */
	uint64_t sandbox_current;       /* "Sandbox memory.current" */
	uint64_t sandbox_limit;         /* SESSION_START's memory.max (0: absent) */
	uint32_t shard_index;           /* SESSION_START's "Shard: I/N", 0/0: not a shard */
	uint32_t shard_count;
	long vm_rss_kb;                 /* VmRSS of the /proc status snapshot, -1 */
	long pid;                       /* the process of "/proc/PID/status:", -1 ("self") */
	long xarray;                    /* "Open xarray datasets: N", -1 */
	long oom_kills;                 /* oom_kill of the cgroup's memory.events line, -1 */
	int leak_repeats;               /* "Leak check: N repeats added ...": N, 0 without */
	int64_t leak_least;             /* the least a repeat added, bytes (may be < 0) */
	int64_t leak_total;             /* what the repeats added in all, bytes */
	int64_t leak_median;            /* the middle repeat's figure (the lower of two) */
	enum rep_oom oom;               /* from "OOM: ... (exceeded its own limit ...)" */
	bool oom_seen;                  /* an "OOM:" line was there (kind unknown: SYSTEM); in
					 * in our entries only when oom_kill > 0 */
	bool cut;                       /* the entry stops mid-line: the log was cut off */
};

struct rep_logread {
	struct rep_entry cur;  /* the entry being read */
	bool have;             /* cur holds a header */
	bool in_cgroup;        /* the lines below "  cgroup:" are the unit's own */
	unsigned seen;         /* keys of the entry read so far: the first of each wins */
	unsigned long lineno;  /* lines seen */
};

/* Starts reading a log. */
void rep_logread_init(struct rep_logread *r);

/* Feeds one line, without its newline (len bytes; it may hold NULs). complete is false
 * when the line had no newline (the last bytes of a cut-off file). Returns 1 when an entry
 * ended and was copied to *out (the line began the next one), 0 otherwise. */
int rep_logread_line(struct rep_logread *r, const char *line, size_t len, bool complete,
		     struct rep_entry *out);

/* Ends the log. Returns 1 with the last entry in *out, or 0 when there is none. */
int rep_logread_finish(struct rep_logread *r, struct rep_entry *out);

/* Parses "256.0 MB" (MiB, as the log writes it), "max" (REP_UNLIMITED) or "N kB".
 * Returns 0, or -EINVAL. */
int rep_logread_mb(const char *text, uint64_t *bytes);

/* The figure KEY of a "bytes:" line's value ("max=268435456 peak=33869004 current=659456"):
 * the exact bytes behind the rounded sizes (etc/log-format.md), "max" as REP_UNLIMITED.
 * Returns 0, -ENOENT when value has no KEY, or -EINVAL. */
int rep_logread_bytes(const char *value, const char *key, uint64_t *bytes);

/* The shard of a SESSION_START's "Shard: 2/3 (where from)" value. Returns 0, or -EINVAL
 * (then index and count are left alone). */
int rep_logread_shard(const char *value, uint32_t *index, uint32_t *count);

#endif
