#include "runner/control/protocol.h"

#include "report/junit.h"
#include "report/log.h"
#include "runner/config/field.h"
#include "runner/config/size.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STR_(x) #x
#define STR(x) STR_(x)

static int bad(struct wc_error *e, const char *what, const char *field)
{
	char head[65], shown[65 * 4];

	/* A decoded field may hold a newline: escaped, it cannot split the answer's line. */
	snprintf(head, sizeof(head), "%s", field ? field : "");
	rep_log_escape(head, shown, sizeof(shown));
	return wc_fail(e, 0, "%s%s%s%s", what, field ? " '" : "", shown, field ? "'" : "");
}

/* Bytes, or a pytest marker's own text ("24 MB"): one parser reads both. */
static int parse_size_field(const char *val, const char *what, uint64_t *bytes,
			    struct wc_error *e)
{
	return cfg_parse_marker_size(val, bytes) < 0 ? bad(e, what, val) : 0;
}

/* Splits off the next space-separated field. */
static char *next_field(char **rest)
{
	char *f = *rest, *sp;

	if (!f || !*f)
		return NULL;
	sp = strchr(f, ' ');
	if (sp) {
		*sp = '\0';
		*rest = sp + 1;
	} else {
		*rest = NULL;
	}
	return f;
}

static int parse_number(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end || errno || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* key=value fields of START, END, NOTE and VERDICT. */
static int parse_option(char *f, struct run_msg *m, struct wc_error *e)
{
	char *eq = strchr(f, '=');
	const char *key = f;
	char *val;
	uint64_t n;

	if (!eq)
		return bad(e, "expected key=value, got", f);
	*eq = '\0';
	val = eq + 1;
	if (cfg_field_decode(val) < 0)
		return bad(e, "bad percent-encoding in", key);
	if (m->verb == RUN_MSG_HELLO && strcmp(key, "records") == 0) {
		if (strcmp(val, "1") != 0)
			return bad(e, "records takes 1, got", val);
		m->records = true;
	} else if (m->verb == RUN_MSG_START && strcmp(key, "kind") == 0) {
		if (strcmp(val, "test") != 0 && strcmp(val, "command") != 0)
			return bad(e, "kind must be test or command, got", val);
		m->kind = val;
	} else if (m->verb == RUN_MSG_START && strcmp(key, "limit") == 0) {
		/* Under a page, the kernel refuses it (or holds nothing): say so now. */
		int r = parse_size_field(val, "limit must be a SIZE (bytes, 24 MB, 1.5 GiB, 512M), got",
					 &m->limit, e);

		if (r < 0)
			return r;
		if (m->limit < (uint64_t)sysconf(_SC_PAGESIZE))
			return bad(e, "limit must be at least a page, got", val);
	} else if (m->verb == RUN_MSG_START && strcmp(key, "leaks") == 0) {
		return parse_size_field(val, "leaks must be a SIZE (bytes, 24 MB, 1.5 GiB, 512M), got",
					&m->leaks, e);
	} else if (m->verb == RUN_MSG_START && strcmp(key, "where") == 0) {
		m->where = val;
	} else if (m->verb == RUN_MSG_START && (strcmp(key, "keep") == 0 ||
						strcmp(key, "moved") == 0)) {
		if (strcmp(val, "1") != 0)
			return bad(e, "keep and moved take 1, got", val);
		*(key[0] == 'k' ? &m->keep : &m->moved) = true;
	} else if (m->verb == RUN_MSG_VERDICT && strcmp(key, "requeue") == 0) {
		if (strcmp(val, "1") != 0)
			return bad(e, "requeue takes 1, got", val);
		m->requeue = true;
	} else if (m->verb == RUN_MSG_END && strcmp(key, "outcome") == 0) {
		/* The summary prints it as the test's verdict: pytest's four words, nothing else. */
		if (rep_outcome_parse(val) < 0)
			return bad(e, "outcome must be passed, failed, skipped or error, got", val);
		m->outcome = val;
	} else if (m->verb == RUN_MSG_END && strcmp(key, "status") == 0) {
		if (parse_number(val, 255, &n) < 0)
			return bad(e, "status must be 0-255, got", val);
		m->status = (int)n;
	} else if (m->verb == RUN_MSG_END && strcmp(key, "signal") == 0) {
		if (parse_number(val, 64, &n) < 0 || n == 0)
			return bad(e, "signal must be 1-64, got", val);
		m->signal = (int)n;
	} else if (m->verb == RUN_MSG_END && strcmp(key, "reports") == 0) {
		if (!*val || strchr(val, ' ') || strchr(val, '\n'))
			return bad(e, "reports must be one word", NULL);
		m->reports = val;
	} else if (m->verb == RUN_MSG_END && (strcmp(key, "message") == 0 ||
					      strcmp(key, "failure") == 0)) {
		/* The test's own words for the JUnit report: a bounded copy is kept a test. */
		if (strlen(val) > RUN_FAILURE_MAX)
			return bad(e, "message and failure longer than " STR(RUN_FAILURE_MAX) " bytes",
				   NULL);
		*(key[0] == 'm' ? &m->message : &m->failure) = val;
	} else if (m->verb != RUN_MSG_HELLO && m->verb != RUN_MSG_VERDICT &&
		   strcmp(key, "extras") == 0) {
		if (strlen(val) > RUN_EXTRAS_MAX)
			return bad(e, "extras longer than " STR(RUN_EXTRAS_MAX) " bytes", NULL);
		m->extras = val;
	} else {
		return bad(e, "unknown field", key);
	}
	return 0;
}

static const struct { const char *word; enum run_verb verb; } verbs[] = {
	{ "HELLO", RUN_MSG_HELLO }, { "START", RUN_MSG_START }, { "END", RUN_MSG_END },
	{ "VERDICT", RUN_MSG_VERDICT }, { "USAGE", RUN_MSG_USAGE }, { "NOTE", RUN_MSG_NOTE },
	{ "RESUME", RUN_MSG_RESUME }, { "TOP", RUN_MSG_TOP }, { "ROOM", RUN_MSG_ROOM },
	{ "STANDBY", RUN_MSG_STANDBY },
};

int run_msg_parse(char *line, struct run_msg *m, struct wc_error *e)
{
	char *rest = line, *f;
	size_t i;
	uint64_t n;
	int r;

	memset(m, 0, sizeof(*m));
	m->limit = UINT64_MAX;
	m->leaks = UINT64_MAX;
	m->status = -1;
	m->kind = "test";
	f = next_field(&rest);
	if (!f)
		return bad(e, "empty line", NULL);
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(f, verbs[i].word) == 0)
			break;
	if (i == sizeof(verbs) / sizeof(verbs[0]))
		return bad(e, "unknown verb", f);
	m->verb = verbs[i].verb;
	if (m->verb == RUN_MSG_STANDBY || m->verb == RUN_MSG_RESUME)
		return rest ? bad(e, m->verb == RUN_MSG_STANDBY ? "STANDBY takes no field" :
				  "RESUME takes no field", NULL) : 0;

	f = next_field(&rest);
	if (!f)
		return bad(e, m->verb == RUN_MSG_HELLO ? "HELLO needs a version" : "missing name", NULL);
	if (m->verb == RUN_MSG_HELLO) {
		if (parse_number(f, 1000000, &n) < 0)
			return bad(e, "bad version", f);
		m->version = (int)n;
		while ((f = next_field(&rest)))
			if ((r = parse_option(f, m, e)) < 0)
				return r;
		return 0;
	}
	if (cfg_field_decode(f) < 0 || !*f)
		return bad(e, "bad name", f);
	if (strlen(f) > RUN_NAME_MAX)
		return bad(e, "name longer than " STR(RUN_NAME_MAX) " bytes", NULL);
	m->name = f;

	if (m->verb == RUN_MSG_TOP) {
		if (parse_number(f, 1000000, &n) < 0)
			return bad(e, "TOP needs a rank", f);
		m->rank = (int)n;
		return rest ? bad(e, "TOP takes one field", NULL) : 0;
	}
	if (m->verb == RUN_MSG_USAGE || m->verb == RUN_MSG_ROOM)
		return rest ? bad(e, m->verb == RUN_MSG_USAGE ? "USAGE takes one field" :
				  "ROOM takes one field", NULL) : 0;
	while ((f = next_field(&rest))) {
		r = parse_option(f, m, e);
		if (r < 0)
			return r;
	}
	return 0;
}
