/* --expect LOG: what admission expects each test to take, from the peaks an earlier run's
 * memory log measured (runner/control/admit.c asks). The log is read as `wcmem-sandbox
 * budget` reads it (log.c): each test's largest peak, a test killed and run again included. */
#include "runner/budget/budget.h"

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>

#include "report/log.h"

#define WHAT "memory log of --expect"
#define HINT_LOG "name the memory log an earlier run wrote (its --log FILE, by default " \
		 "$WEATHERCOP_DIR/test_memory.log), or leave --expect out"

/* Whether f holds any byte: an empty log (a run that wrote nothing) is no mistake. */
static bool has_bytes(FILE *f)
{
	struct stat st;

	return fstat(fileno(f), &st) < 0 || st.st_size > 0;
}

int budget_expect_load(const char *path, struct budget_peaks *t, struct wc_error *e)
{
	FILE *f;
	bool some;
	int r;

	budget_peaks_init(t);
	r = budget_open(path, WHAT, &f, e);
	if (r == -ENOENT)
		return 1;
	if (r < 0)
		return e->hint[0] ? r : wc_hint(e, HINT_LOG);
	some = has_bytes(f);
	t->log = path;
	r = budget_peaks_read(t, f);
	t->log = NULL;
	fclose(f);
	if (r < 0)
		return wc_fail(e, -r, "%s: cannot read the " WHAT, path);
	if (t->heads == 0 && some) {
		/* A budget file, a report, a pytest output: peaks from it would be guesses. */
		wc_fail(e, 0, "%s: not a memory log: it holds no SESSION_START or TEST_END entry",
			path);
		return wc_hint(e, "%s (a budget file goes to --budgets)", HINT_LOG);
	}
	return 0;
}

uint64_t budget_expected(const struct budget_peaks *t, const char *name)
{
	/* Room past the longest name the log's peaks keep whole: a longer one has none. */
	char escaped[BUDGET_NAME_MAX + 16];
	const struct budget_peak *p;
	size_t len;

	if (!t || t->n == 0)
		return 0;
	len = rep_log_escape(name, escaped, sizeof(escaped));
	if (len > BUDGET_NAME_MAX)
		return 0;
	p = budget_peaks_find(t, escaped);
	return p && !p->cut ? p->peak : 0;
}
