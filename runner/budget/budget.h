/* Memory budgets per test: the budget file (an INI file inih reads), the memory log's peaks
 * it is made from, and the lines `wcmem-sandbox budget` writes (runner/commands/budget.c
 * is that subcommand). Pure but for budget_load.
 *
 * The file's one section holds a line per test:
 *
 *     [budgets]
 *     test = 210M tests/test_a.py::test_x   ; peak 174.9 MB, 2026-11-30, run wcmem-4242
 *
 * The node ID is a value, not a key: inih ends a key at its first '=' or ':', and every node
 * ID holds "::". In the ID, '%', ';', '#', control characters and a blank at either end are
 * percent-encoded, so that inih's comments and trimming leave it whole. */
#ifndef WCMEM_RUNNER_BUDGET_BUDGET_H
#define WCMEM_RUNNER_BUDGET_BUDGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cgroup/error.h"
#include "report/shards.h"

#define BUDGET_LINE_MAX 197  /* characters inih reads of a line (its buffer less 3) */

struct budget {
	char *name;      /* the test's node ID, decoded */
	uint64_t bytes;  /* its memory.max */
	int line;        /* where the file says so */
	bool used;       /* a unit of that name ran under it */
};

struct budget_file {
	char *path;          /* as given: the verdict's "(wcmem-budgets.ini:12)" names it */
	struct budget *v;    /* sorted by name, for budget_find */
	size_t n;
};

/* Parses the text of the budget file path into bf. Errors are "PATH:LINE: message" in e,
 * with a hint. Returns 0, -EINVAL or -ENOMEM. */
int budget_parse(const char *path, const char *text, size_t len, struct budget_file *bf,
		 struct wc_error *e);

/* Reads (a regular file only: budget_open) and parses the file. Returns 0 or -errno. */
int budget_load(const char *path, struct budget_file *bf, struct wc_error *e);

/* The budget of the test name, or NULL. */
struct budget *budget_find(const struct budget_file *bf, const char *name);

void budget_free(struct budget_file *bf);

/* One line on f naming the budgets no unit used (tests renamed, removed or deselected):
 * "wcmem-sandbox: wcmem-budgets.ini: 2 budgeted tests did not run: a, b"; nothing when
 * every budget was used. */
void budget_write_unused(FILE *f, const struct budget_file *bf);

/* The largest peak of one test in the memory logs read (its TEST_END entries). Kept per
 * distinct test, whatever the number of entries: a few words and the name. */
#define BUDGET_PEAK_HUGE UINT64_MAX

struct budget_run;
struct budget_fixture;  /* one fixture's key and its largest setup charge (fixtures.c) */

/* A broader fixture a test used, in any run read: set up in its unit, or shared (set up
 * in another test's). At most BUDGET_FIXTURES_MAX a test. */
struct budget_use {
	struct budget_use *next;
	struct budget_fixture *fixture;
	bool set_up;
	bool shared;
};

struct budget_peak {
	struct budget_peak *after;  /* the next test, in the order the logs first name them */
	struct budget_run *run;     /* the session's cgroup, "wcmem-4242": which run it came from */
	uint64_t peak;              /* the larger of "Peak memory:" and the cgroup's memory.peak;
				     * BUDGET_PEAK_HUGE: past any SIZE */
	struct budget_use *uses;    /* its broader fixtures: see budget_shared */
	uint32_t hash;
	uint8_t nuses;
	char date[11];              /* YYYY-MM-DD of its TEST_END, "" when the stamp is not one */
	bool killed;                /* OOM-killed: its peak is its limit, not what it needed */
	bool measured;              /* an entry of it says "Measured:": it ran in a fork of the
				     * collected pytest (WCMEM_SANDBOX_MEASURE=1), so its peak
				     * is what it needs whatever ran before it */
	bool peak_alone;            /* the peak kept is such an entry's */
	bool written;               /* its line is in the output (or it was refused) */
	bool cut;                   /* the name is longer than BUDGET_NAME_MAX: it gets no line */
	char name[];                /* as the log writes it; a longer name than BUDGET_NAME_MAX
				     * is cut to BUDGET_NAME_MAX + 1 bytes (and cut is set) */
};

/* The fixtures a record keeps: so many keys, each so long. The plugin's keys are a
 * fixture's folder or module and its name; a longer key, or one past the count (a test
 * using more broader fixtures than that), is dropped, and the budget holds less of what
 * that fixture charged elsewhere. A record's fixtures take at most this many small
 * links, and each distinct key is kept once: memory stays bounded per distinct test. */
#define BUDGET_FIXTURES_MAX 32
#define BUDGET_FIXTURE_KEY_MAX 255

/* A fixture line of the entry being read, until the entry is recorded. */
struct budget_fixture_line {
	uint64_t bytes;   /* its setup charge ("Fixture set up: BYTES KEY") */
	bool set_up;      /* else "Fixture shared: KEY" */
	uint16_t len;
	char key[BUDGET_FIXTURE_KEY_MAX];
};

/* A name longer than a budget line can hold is kept only this far: it is named in a
 * warning, never budgeted, so more of it would only cost memory. */
#define BUDGET_NAME_MAX BUDGET_LINE_MAX

/* The peaks of memory logs, read one line at a time: a hash table of the tests seen, and
 * the entry being read. Nothing else is kept between lines. */
struct budget_peaks {
	struct budget_peak **slot;  /* open addressing, linear probing; a power of two */
	size_t nslots;
	size_t n;                   /* tests */
	unsigned long heads;        /* SESSION_START and TEST_END entries read: none in a file
				     * that is no memory log */
	struct budget_peak *first, *last;
	struct budget_run *run;     /* the current session's */
	struct budget_arena *arena; /* where the records live */
	struct budget_fixture **fslot;  /* the fixtures' keys, as slot holds the tests' */
	size_t nfslots, nfixtures;
	/* the entry being read */
	bool in_session, in_end, has_peak, entry_killed, entry_measured;
	bool entry_exact;     /* the peak is the cgroup's "bytes:" line's, exact */
	bool entry_events;    /* past the events line: a "bytes:" line now is a test's */
	uint64_t entry_peak;
	size_t name_len;            /* bytes of the head's name (more than BUDGET_NAME_MAX: cut) */
	char name[BUDGET_NAME_MAX + 2];
	char date[11];
	size_t nlines;              /* its fixture lines */
	struct budget_fixture_line lines[BUDGET_FIXTURES_MAX];
	/* the logs of one run's shards: a test in two of them (report/shards.h) */
	struct rep_shards shards;
	const char *log;            /* the log being read, for the shards' messages */
};

void budget_peaks_init(struct budget_peaks *t);
void budget_peaks_free(struct budget_peaks *t);

/* Feeds one line of a log, without its newline (len bytes; a NUL in it ends the entry being
 * read, as a log's zero-filled tail after a crash does). Returns 0 or -ENOMEM. */
int budget_peaks_line(struct budget_peaks *t, const char *line, size_t len);

/* Ends one log: its last entry is taken. Returns 0 or -ENOMEM. */
int budget_peaks_end(struct budget_peaks *t);

/* Reads a whole log from f (any length, in a fixed buffer: a line's first
 * REP_LOGREAD_LINE_MAX bytes count, the rest is dropped), then ends it (budget_peaks_end).
 * Returns 0, -ENOMEM or -errno of the read. */
int budget_peaks_read(struct budget_peaks *t, FILE *f);

/* The test of that name, or NULL. */
struct budget_peak *budget_peaks_find(const struct budget_peaks *t, const char *name);

/* The run a peak came from, "" when its log had no SESSION_START. */
const char *budget_peak_run(const struct budget_peak *p);

/* ---- fixtures.c: what a budget covers of the fixtures a test shares ---- */

/* A line of a TEST_END entry naming a broader fixture, "  Fixture set up: BYTES KEY" or
 * "  Fixture shared: KEY" (not NUL-terminated): kept for the entry. Returns 1 when it is
 * one, else 0. */
int budget_fixture_line(struct budget_peaks *t, const char *line, size_t len);

/* Adds the entry's fixture lines to test p, and their charges to the fixtures' largest.
 * Returns 0 or -ENOMEM. */
int budget_fixtures_record(struct budget_peaks *t, struct budget_peak *p);

void budget_fixtures_free(struct budget_peaks *t);

/* What the fixtures p shared charged where they were set up: for each, the largest setup
 * charge any log shows; none that p set up itself in some run (its peak holds it). */
uint64_t budget_shared(const struct budget_peak *p);

/* What a test needs whatever ran before it: its peak and budget_shared; BUDGET_PEAK_HUGE
 * when that is past it. */
uint64_t budget_need(const struct budget_peak *p);

/* ---- arena.c: where the records live ---- */

/* size bytes, aligned, from the chunks of *a (freed all at once); NULL when out of memory. */
void *budget_arena_alloc(struct budget_arena **a, size_t size);
void budget_arena_free(struct budget_arena **a);

/* The hash of a name or a fixture's key (len bytes). */
uint32_t budget_hash(const char *s, size_t len);

/* The budget for a peak: peak + margin percent, rounded up to a whole MiB, at least floor
 * (itself rounded up), at least 1 MiB. 0 when it is too large for a SIZE (2^63 bytes). */
uint64_t budget_from_peak(uint64_t peak, unsigned margin_pct, uint64_t floor);

/* The file's line for one test (its peak, and its shared fixtures' charge when there is
 * one, in the comment), with its comment when the line still fits
 * BUDGET_LINE_MAX; the line budget_parse reads back as that name and those bytes. Returns
 * the length; -E2BIG when even the bare line does not fit; -EINVAL when the name is empty
 * or cut, or bytes is not a whole number of MiB that budget_parse takes (1M to 2^63 - 1). */
int budget_line(const struct budget_peak *p, uint64_t bytes, char *buf, size_t size);

/* ---- expect.c: --expect LOG, the peaks admission expects ---- */

/* Reads the memory log path (budget_open, budget_peaks_read) into t, initialised here:
 * each test's largest peak, in every run and shard the log holds. Returns 0; 1 when there
 * is no such file (t empty: a first run has no log yet); -errno with e filled (and a hint)
 * when it cannot be read, or is not empty and holds no entry of a memory log. */
int budget_expect_load(const char *path, struct budget_peaks *t, struct wc_error *e);

/* The largest peak t holds for the test name as the plugin sends it (escaped here as the
 * log escapes names), or 0 when t has none: never measured, or a node ID longer than
 * BUDGET_NAME_MAX once escaped. */
uint64_t budget_expected(const struct budget_peaks *t, const char *name);

/* Opens path to read it whole: a regular file, else -EINVAL with e saying why and what to
 * do (a FIFO or a device would block or never end). what: "memory log", ... */
int budget_open(const char *path, const char *what, FILE **f, struct wc_error *e);

/* The whole of a regular file (budget_open), NUL-terminated in *text (free it). Returns 0
 * or -errno with e filled. */
int budget_read_text(const char *path, const char *what, char **text, size_t *len,
		     struct wc_error *e);

#endif
