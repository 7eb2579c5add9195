/* JUnit XML files into one: expat checks each input whole (no DOCTYPE, so no entity; the
 * nesting bounded) and says where its <testsuite> elements are; the merged file holds them
 * as they were written, under one <testsuites> whose counts are their sums. */
#include "report/merge.h"

#include <errno.h>
#include <expat.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "report/logread.h"

struct span {
	size_t at, end;
};

struct counts {
	unsigned long tests, failures, errors, skipped;
	double time;
};

struct junit {
	XML_Parser p;
	const struct rep_merge_input *in;
	struct rep_merge_result *res;
	int depth;
	int suite_depth;          /* the depth of the <testsuite> being read; 0: none */
	bool root_suites;         /* the root is <testsuites> */
	char why[160];            /* what stopped the parser, "" when expat did */
	struct span *suites;
	size_t nsuites, cap;
	struct counts sum;
};

static void stop(struct junit *j, const char *why)
{
	if (!*j->why)
		snprintf(j->why, sizeof(j->why), "%s", why);
	XML_StopParser(j->p, XML_FALSE);
}

static void on_doctype(void *data, const XML_Char *name, const XML_Char *sysid,
		       const XML_Char *pubid, int has_internal_subset)
{
	(void)name, (void)sysid, (void)pubid, (void)has_internal_subset;
	stop(data, "a DOCTYPE (a JUnit report has none; its entities are not read)");
}

static const char *attr(const XML_Char **attrs, const char *name)
{
	for (size_t i = 0; attrs[i]; i += 2)
		if (strcmp(attrs[i], name) == 0)
			return attrs[i + 1];
	return NULL;
}

/* A count attribute (absent: 0). Returns 0, or -1 when it is no count. */
static int count_attr(const XML_Char **attrs, const char *name, unsigned long *sum)
{
	const char *v = attr(attrs, name);
	unsigned long long n;
	char *end;

	if (!v)
		return 0;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (*v < '0' || *v > '9' || *end || errno || n > UINT32_MAX)
		return -1;
	*sum += (unsigned long)n;
	return 0;
}

static int time_attr(const XML_Char **attrs, double *sum)
{
	const char *v = attr(attrs, "time");
	char *end;
	double t;

	if (!v)
		return 0;
	t = strtod(v, &end);
	if (end == v || *end || !isfinite(t) || t < 0 || t > 1e9)
		return -1;
	*sum += t;
	return 0;
}

static void suite_start(struct junit *j, const XML_Char **attrs)
{
	if (count_attr(attrs, "tests", &j->sum.tests) < 0 ||
	    count_attr(attrs, "failures", &j->sum.failures) < 0 ||
	    count_attr(attrs, "errors", &j->sum.errors) < 0 ||
	    count_attr(attrs, "skipped", &j->sum.skipped) < 0 || time_attr(attrs, &j->sum.time) < 0)
		return stop(j, "a <testsuite> count or time that is not a number");
	if (j->nsuites == j->cap) {
		size_t cap = j->cap ? j->cap * 2 : 8;
		struct span *s = realloc(j->suites, cap * sizeof(*s));

		if (!s)
			return stop(j, "out of memory");
		j->suites = s;
		j->cap = cap;
	}
	j->suites[j->nsuites].at = (size_t)XML_GetCurrentByteIndex(j->p);
	j->suite_depth = j->depth;
}

/* A test case for the check that none is in two inputs: its classname and name. Our own
 * report's command and suites (classname "command", "suite") are in every shard's. */
static void testcase(struct junit *j, const XML_Char **attrs)
{
	const char *cls = attr(attrs, "classname"), *name = attr(attrs, "name");
	char key[REP_LOGREAD_NAME_MAX];

	if (!name || (cls && (strcmp(cls, "command") == 0 || strcmp(cls, "suite") == 0)))
		return;
	snprintf(key, sizeof(key), "%s%s%s", cls ? cls : "", cls ? "::" : "", name);
	rep_shards_test(&j->res->tests, key, j->in->path);
}

static void on_start(void *data, const XML_Char *name, const XML_Char **attrs)
{
	struct junit *j = data;

	if (++j->depth > REP_MERGE_DEPTH_MAX)
		return stop(j, "elements nested too deep");
	if (j->depth == 1) {
		j->root_suites = strcmp(name, "testsuites") == 0;
		if (!j->root_suites && strcmp(name, "testsuite") != 0)
			return stop(j, "the root is neither <testsuites> nor <testsuite>");
	}
	if (strcmp(name, "testsuite") == 0 && !j->suite_depth &&
	    j->depth == (j->root_suites ? 2 : 1))
		suite_start(j, attrs);
	else if (strcmp(name, "testcase") == 0 && j->suite_depth)
		testcase(j, attrs);
}

static void on_end(void *data, const XML_Char *name)
{
	struct junit *j = data;

	(void)name;
	if (j->suite_depth && j->depth == j->suite_depth) {
		j->suites[j->nsuites++].end = (size_t)XML_GetCurrentByteIndex(j->p) +
					      (size_t)XML_GetCurrentByteCount(j->p);
		j->suite_depth = 0;
	}
	j->depth--;
}

/* Checks one input whole, into j. Returns 0, or -EINVAL with e saying where and what. */
static int read_one(struct junit *j, struct wc_error *e)
{
	enum XML_Status st;

	/* Read as UTF-8 whatever it declares: its bytes are copied into a UTF-8 file. */
	j->p = XML_ParserCreate("UTF-8");
	if (!j->p)
		return wc_fail(e, ENOMEM, "%s", j->in->path);
	XML_SetUserData(j->p, j);
	XML_SetElementHandler(j->p, on_start, on_end);
	XML_SetStartDoctypeDeclHandler(j->p, on_doctype);
	XML_SetParamEntityParsing(j->p, XML_PARAM_ENTITY_PARSING_NEVER);
	st = j->in->len > INT32_MAX ? XML_STATUS_ERROR :
	     XML_Parse(j->p, j->in->text, (int)j->in->len, XML_TRUE);
	if (st != XML_STATUS_OK || *j->why) {
		wc_fail(e, 0, "%s:%lu:%lu: %s", j->in->path,
			(unsigned long)XML_GetCurrentLineNumber(j->p),
			(unsigned long)XML_GetCurrentColumnNumber(j->p) + 1,
			*j->why ? j->why : XML_ErrorString(XML_GetErrorCode(j->p)));
		wc_hint(e, "give a JUnit XML report (--junit-xml FILE of a run, or pytest's "
			"--junitxml)");
		XML_ParserFree(j->p);
		return -EINVAL;
	}
	XML_ParserFree(j->p);
	return 0;
}

static void put(FILE *out, const struct rep_merge_input *in, const struct junit *j, size_t n)
{
	fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites "
		"name=\"wcmem-sandbox merge\" tests=\"%lu\" failures=\"%lu\" errors=\"%lu\" "
		"skipped=\"%lu\" time=\"%.3f\">\n", j[n].sum.tests, j[n].sum.failures,
		j[n].sum.errors, j[n].sum.skipped, j[n].sum.time);
	for (size_t i = 0; i < n; i++)
		for (size_t s = 0; s < j[i].nsuites; s++)
			fprintf(out, "  %.*s\n", (int)(j[i].suites[s].end - j[i].suites[s].at),
				in[i].text + j[i].suites[s].at);
	fputs("</testsuites>\n", out);
}

int rep_merge_junit(const struct rep_merge_input *in, size_t n, FILE *out,
		    struct rep_merge_result *res, struct wc_error *e)
{
	struct junit *j = calloc(n + 1, sizeof(*j));  /* j[n]: the sums */
	int r = 0;

	if (!j)
		return wc_fail(e, ENOMEM, "merge");
	for (size_t i = 0; i < n && r == 0; i++) {
		j[i].in = &in[i];
		j[i].res = res;
		rep_shards_session(&res->tests, (uint32_t)i + 1, (uint32_t)n);
		r = read_one(&j[i], e);
		j[n].sum.tests += j[i].sum.tests;
		j[n].sum.failures += j[i].sum.failures;
		j[n].sum.errors += j[i].sum.errors;
		j[n].sum.skipped += j[i].sum.skipped;
		j[n].sum.time += j[i].sum.time;
		res->units += j[i].sum.tests;
	}
	if (r == 0) {
		put(out, in, j, n);
		if (fflush(out) != 0 || ferror(out))
			r = wc_fail(e, errno ? errno : EIO, "write the merged report");
	}
	for (size_t i = 0; i < n; i++)
		free(j[i].suites);
	free(j);
	return r;
}
