/* `wcmem-sandbox merge`: the reports of one run's shards as one report. Our JSON reports
 * (schema wcmem-sandbox-report/1) become one object of schema wcmem-sandbox-merged/1; JUnit
 * XML files (ours, or pytest's --junitxml) become one <testsuites> holding every input's
 * <testsuite> elements, their counts summed.
 *
 * The inputs are untrusted text, read whole (at most REP_MERGE_FILE_MAX bytes each) and
 * checked before a byte of them is copied: JSON by a parser of our own (nesting at most
 * REP_MERGE_DEPTH_MAX deep), XML by expat, with no DOCTYPE (so no entity can expand) and the
 * same nesting bound. What is copied is the inputs' own text of whole elements, so the
 * output is as well-formed as they were checked to be. */
#ifndef WCMEM_REPORT_MERGE_H
#define WCMEM_REPORT_MERGE_H

#include <stddef.h>
#include <stdio.h>

#include "cgroup/error.h"
#include "report/shards.h"

#define REP_MERGE_FILE_MAX (UINT64_C(1) << 30)  /* bytes of one input */
#define REP_MERGE_DEPTH_MAX 64

struct rep_merge_input {
	const char *path;     /* for messages and the merged JSON's "reports" */
	const char *text;     /* the whole file */
	size_t len;
};

/* What the inputs held: the tests that were in two of them (tests.dup: first and again are
 * inputs, from 1), and the shards their sessions said (JSON only). */
struct rep_merge_result {
	struct rep_shards tests;
	struct rep_shards shards;
	unsigned long units;
};

/* Checks every JSON input, then writes the merged object to out. Returns 0, or -EINVAL with
 * e "PATH: offset N: what is wrong" (nothing written), or -errno. */
int rep_merge_json(const struct rep_merge_input *in, size_t n, FILE *out,
		   struct rep_merge_result *res, struct wc_error *e);

/* The same for JUnit XML inputs. */
int rep_merge_junit(const struct rep_merge_input *in, size_t n, FILE *out,
		    struct rep_merge_result *res, struct wc_error *e);

void rep_merge_result_free(struct rep_merge_result *res);

#endif
