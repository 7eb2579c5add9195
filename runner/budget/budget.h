/* Memory budgets per test: the budget file (an INI file inih reads), the memory log's peaks
 * it is made from, and the lines `wcmem-sandbox budget` writes. Pure but for budget_load
 * and budget_main.
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

/* Reads and parses the file. Returns 0 or -errno. */
int budget_load(const char *path, struct budget_file *bf, struct wc_error *e);

/* The budget of the test name, or NULL. */
struct budget *budget_find(const struct budget_file *bf, const char *name);

void budget_free(struct budget_file *bf);

/* One line on f naming the budgets no unit used (tests renamed, removed or deselected):
 * "wcmem-sandbox: wcmem-budgets.ini: 2 budgeted tests did not run: a, b"; nothing when
 * every budget was used. */
void budget_write_unused(FILE *f, const struct budget_file *bf);

/* One test's peak in a memory log (its TEST_END entry). */
struct budget_peak {
	char *name;        /* as the log writes it */
	uint64_t peak;     /* the larger of "Peak memory:" and the cgroup's memory.peak */
	char date[11];     /* YYYY-MM-DD of its TEST_END */
	char run[64];      /* the session's cgroup, "wcmem-4242": which run it came from */
	bool killed;       /* OOM-killed: its peak is its limit, not what it needed */
	char *fixtures;    /* broader fixtures: "+BYTES KEY\n" set up here, "=KEY\n" shared */
	uint64_t shared;   /* what the fixtures it shared charged where they were set up */
};

/* The TEST_END entries of a memory log's text, appended to *v (*n of them, growing);
 * a test seen again keeps its larger peak. Returns 0 or -ENOMEM. */
int budget_log_peaks(const char *text, size_t len, struct budget_peak **v, size_t *n);

void budget_peaks_free(struct budget_peak *v, size_t n);

#define BUDGET_FIXTURE_LINE_MAX 4096  /* the plugin's extras are no longer */

/* A TEST_END line naming a fixture broader than a function (fixtures.c): "Fixture set up:
 * BYTES KEY" or "Fixture shared: KEY", appended to *acc once. Returns 1 when it was one, 0
 * when not, -ENOMEM. */
int budget_fixture_line(const char *line, size_t len, char **acc);

/* Appends the lines of from (budget_fixture_line's) that into lacks. Returns 0, -ENOMEM. */
int budget_merge_fixtures(char **into, const char *from);

/* Each test's shared: the largest setup charge, in any test of v, of every fixture it
 * shared and did not set up itself. Returns 0, or -ENOMEM. */
int budget_add_shared(struct budget_peak *v, size_t n);

/* What a test needs whatever ran before it: its peak and what its shared fixtures charged. */
uint64_t budget_need(const struct budget_peak *p);

/* " + shared fixtures 60.0 MB" for the line's comment, or "" when it shared none. */
void budget_shared_text(const struct budget_peak *p, char *buf, size_t size);

/* The budget for a peak: peak + margin percent, rounded up to a whole MiB, at least floor. */
uint64_t budget_from_peak(uint64_t peak, unsigned margin_pct, uint64_t floor);

/* The file's line for one test, with its comment when the line still fits
 * BUDGET_LINE_MAX. Returns the length, or -E2BIG when even the bare line does not fit. */
int budget_line(const struct budget_peak *p, uint64_t bytes, char *buf, size_t size);

/* `wcmem-sandbox budget [OPTION]... LOG...`: argv[0] is "budget". Returns the exit status. */
int budget_main(int argc, char **argv);

#endif
