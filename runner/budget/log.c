/* A budget file's lines from memory logs: each test's peak (etc/log-format.md: its TEST_END
 * entry's `Peak memory:` and its cgroup's `memory.peak:`), and the line that budgets it. */
#include "runner/budget/budget.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/verdict.h"
#include "runner/config/size.h"

/* "174.9 MB" (the log's sizes: MiB, one decimal) in bytes. Returns 0, or -EINVAL when it
 * is none ("unknown"). "0.0 MB" is a peak: a test that took less than 0.05 MB. */
static int log_size(const char *text, size_t len, uint64_t *bytes)
{
	char buf[32];
	int r;

	if (len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, text, len);
	buf[len] = '\0';
	r = cfg_parse_marker_size(buf, bytes);
	if (r == -ERANGE && strcmp(buf + strspn(buf, "0."), " MB") == 0) {
		*bytes = 0;
		return 0;
	}
	return r < 0 ? -EINVAL : 0;
}

/* The value of "  KEY: VALUE" (any indent) in line, with its length; NULL when line is not. */
static const char *field(const char *line, size_t len, const char *key, size_t *vlen)
{
	size_t indent = strspn(line, " "), klen = strlen(key);

	if (indent == 0 || indent + klen + 2 > len || strncmp(line + indent, key, klen) != 0 ||
	    line[indent + klen] != ':' || line[indent + klen + 1] != ' ')
		return NULL;
	*vlen = len - indent - klen - 2;
	return line + indent + klen + 2;
}

/* The entry of name in v, added when it is new (*fresh). NULL when out of memory. */
static struct budget_peak *entry(struct budget_peak **v, size_t *n, const char *name,
				 size_t len, bool *fresh)
{
	struct budget_peak *grown;

	*fresh = false;
	for (size_t i = *n; i-- > 0;)  /* a resumed run logs a test again near its end */
		if (strlen((*v)[i].name) == len && strncmp((*v)[i].name, name, len) == 0)
			return &(*v)[i];
	*fresh = true;
	grown = realloc(*v, (*n + 1) * sizeof(**v));
	if (!grown)
		return NULL;
	*v = grown;
	memset(&grown[*n], 0, sizeof(grown[*n]));
	grown[*n].name = strndup(name, len);
	if (!grown[*n].name)
		return NULL;
	return &grown[(*n)++];
}

/* What one TEST_END entry says: the larger peak, whether it was OOM-killed. */
struct end_figures {
	uint64_t peak;
	bool has_peak;
	bool killed;
	char *fixtures;  /* budget_fixture_line's, owned */
	bool nomem;
};

static void end_line(const char *line, size_t len, struct end_figures *f)
{
	const char *val;
	size_t vlen;
	uint64_t b;

	if ((val = field(line, len, "Peak memory", &vlen)) ||
	    (val = field(line, len, "memory.peak", &vlen))) {
		if (log_size(val, vlen, &b) < 0)
			return;
		if (b > f->peak || !f->has_peak)
			f->peak = b;
		f->has_peak = true;
	} else if ((val = field(line, len, "OOM", &vlen)) && vlen >= 6 &&
		   strncmp(val, "killed", 6) == 0) {
		f->killed = true;
	} else if (budget_fixture_line(line, len, &f->fixtures) < 0) {
		f->nomem = true;
	}
}

/* Whether [p, end) starts with word. */
static bool starts(const char *p, const char *end, const char *word)
{
	size_t len = strlen(word);

	return (size_t)(end - p) >= len && strncmp(p, word, len) == 0;
}

/* Records a TEST_END entry whose head is [head, head_len) and whose figures are f. */
static int record(struct budget_peak **v, size_t *n, const char *head, size_t head_len,
		  const struct end_figures *f, const char *run)
{
	const char *name = strstr(head, "] TEST_END: ") + strlen("] TEST_END: ");
	struct budget_peak *p;
	bool fresh;

	if (f->nomem)
		return -ENOMEM;
	if (!f->has_peak)
		return 0;  /* no peak could be read: nothing to budget */
	p = entry(v, n, name, head_len - (size_t)(name - head), &fresh);
	if (!p)
		return -ENOMEM;
	if (budget_merge_fixtures(&p->fixtures, f->fixtures) < 0)  /* every run's */
		return -ENOMEM;
	if (fresh || f->peak > p->peak) {  /* the run that needed most */
		p->killed = f->killed;
		p->peak = f->peak;
		memcpy(p->date, head + 1, 10);
		p->date[10] = '\0';
		snprintf(p->run, sizeof(p->run), "%s", run);
	}
	return 0;
}

static int fail_free(struct end_figures *f)
{
	free(f->fixtures);
	return -ENOMEM;
}

int budget_log_peaks(const char *text, size_t len, struct budget_peak **v, size_t *n)
{
	const char *p = text, *end = text + len, *head = NULL, *val;
	size_t head_len = 0, vlen;
	char run[64] = "";
	struct end_figures f = { 0 };
	bool session = false;

	for (const char *nl; p < end; p = nl + 1) {
		size_t l;

		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		l = (size_t)(nl - p);
		if (l > 0 && p[0] == '[') {  /* a head: "[STAMP] EVENT: NAME" */
			const char *event = memchr(p, ']', l);

			if (head && record(v, n, head, head_len, &f, run) < 0)
				return fail_free(&f);
			head = NULL;
			free(f.fixtures);
			memset(&f, 0, sizeof(f));
			event = event && event + 2 < nl ? event + 2 : nl;
			session = starts(event, nl, "SESSION_START: ");
			if (starts(event, nl, "TEST_END: ")) {
				head = p;
				head_len = l;
			}
		} else if (session && (val = field(p, l, "cgroup", &vlen))) {
			snprintf(run, sizeof(run), "%.*s", (int)strcspn(val, " \n"), val);
		} else if (head) {
			end_line(p, l, &f);
		}
	}
	if (head && record(v, n, head, head_len, &f, run) < 0)
		return fail_free(&f);
	free(f.fixtures);
	return 0;
}

void budget_peaks_free(struct budget_peak *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].fixtures);
	}
	free(v);
}

uint64_t budget_from_peak(uint64_t peak, unsigned margin_pct, uint64_t floor)
{
	const uint64_t mib = UINT64_C(1) << 20;
	uint64_t with_margin = peak + peak / 100 * margin_pct + peak % 100 * margin_pct / 100;
	uint64_t bytes = (with_margin + mib - 1) / mib * mib;

	return bytes < floor ? floor : bytes;
}

/* The node ID as the file holds it: see budget.h. */
static void encode_name(const char *name, char *buf, size_t size)
{
	size_t o = 0, len = strlen(name);

	for (size_t i = 0; i < len && o + 4 < size; i++) {
		unsigned char c = (unsigned char)name[i];
		bool edge = (i == 0 || i == len - 1) && (c == ' ' || c == '\t');

		if (c < 0x20 || c == 0x7f || c == '%' || c == ';' || c == '#' || edge)
			o += (size_t)snprintf(buf + o, size - o, "%%%02X", c);
		else
			buf[o++] = (char)c;
	}
	buf[o] = '\0';
}

int budget_line(const struct budget_peak *p, uint64_t bytes, char *buf, size_t size)
{
	char name[BUDGET_LINE_MAX * 3 + 4], peak[32], shared[64] = "";
	int len;

	if (strlen(p->name) > BUDGET_LINE_MAX)
		return -E2BIG;
	encode_name(p->name, name, sizeof(name));
	rep_format_mb(p->peak, peak, sizeof(peak));
	budget_shared_text(p, shared, sizeof(shared));
	len = snprintf(buf, size, "test = %lluM %s   ; peak %s%s, %s, run %s",
		       (unsigned long long)(bytes >> 20), name, peak, shared, p->date, p->run);
	if (len >= 0 && (size_t)len <= BUDGET_LINE_MAX && (size_t)len < size)
		return len;
	len = snprintf(buf, size, "test = %lluM %s", (unsigned long long)(bytes >> 20), name);
	return len >= 0 && (size_t)len <= BUDGET_LINE_MAX && (size_t)len < size ? len : -E2BIG;
}
