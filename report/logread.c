/* Reading a memory log back, one line at a time (logread.h). */
#include "report/logread.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/log.h"

void rep_logread_init(struct rep_logread *r)
{
	memset(r, 0, sizeof(*r));
}

static void entry_reset(struct rep_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->elapsed = e->duration = -1;
	e->peak = e->current = e->sandbox_current = REP_UNKNOWN;
	e->limit = e->sandbox_limit = 0;  /* REP_UNLIMITED is "max": 0 is "not in the entry" */
	e->vm_rss_kb = e->xarray = e->pid = e->oom_kills = -1;
}

/* Copies n bytes of text into out (size bytes), escaped as the log escapes (control
 * characters C0, DEL and C1, bidi controls, bytes that are not UTF-8): a foreign writer's
 * name must not send escape sequences to the terminal that prints it. A text too long ends
 * in "..." after its last whole character or escape. Our own log's text is escaped already
 * and passes unchanged. */
static void copy_text(char *out, size_t size, const char *text, size_t n)
{
	size_t len = 0, keep = 0, used;

	for (size_t i = 0; i < n; i += used) {
		char tmp[8];
		size_t k = rep_log_escape_char(text + i, tmp, &used);

		if (i + used > n) {  /* a sequence cut by the end of the field: a byte alone */
			k = (size_t)snprintf(tmp, sizeof(tmp), "\\x%02x", (unsigned char)text[i]);
			used = 1;
		}
		if (len + k > size - 1) {
			memcpy(out + keep, "...", 4);
			return;
		}
		memcpy(out + len, tmp, k);
		len += k;
		if (len <= size - 4)
			keep = len;  /* where "..." goes if what follows does not fit */
	}
	out[len] = '\0';
}

int rep_logread_mb(const char *text, uint64_t *bytes)
{
	char *end;
	double v;

	if (strcmp(text, "max") == 0) {
		*bytes = REP_UNLIMITED;
		return 0;
	}
	errno = 0;
	v = strtod(text, &end);
	if (end == text || errno || !(v >= 0 && v <= 1e12))  /* nan fails both */
		return -EINVAL;
	if (strcmp(end, " MB") == 0)
		*bytes = (uint64_t)(v * 1048576.0 + 0.5);
	else if (strcmp(end, " kB") == 0)
		*bytes = (uint64_t)(v * 1024.0 + 0.5);
	else
		return -EINVAL;
	return 0;
}

int rep_logread_bytes(const char *value, const char *key, uint64_t *bytes)
{
	size_t klen = strlen(key);
	const char *p = value;
	char *end;
	unsigned long long v;

	for (;; p++) {
		p = strstr(p, key);
		if (!p)
			return -ENOENT;
		if ((p == value || p[-1] == ' ') && p[klen] == '=')
			break;
	}
	p += klen + 1;
	if (strncmp(p, "max", 3) == 0 && (p[3] == ' ' || p[3] == '\0')) {
		*bytes = REP_UNLIMITED;
		return 0;
	}
	if (*p < '0' || *p > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(p, &end, 10);
	if (errno || (*end != ' ' && *end != '\0') || v >= REP_UNKNOWN)
		return -EINVAL;
	*bytes = v;
	return 0;
}

/* The exact figures of "bytes: max=N peak=N current=N" over the rounded lines above it. */
static void set_bytes(struct rep_entry *e, const char *value)
{
	uint64_t b;

	if (rep_logread_bytes(value, "max", &b) == 0) {
		if (e->event == REP_EV_SESSION_START)
			e->sandbox_limit = b;
		else
			e->limit = b;
	}
	if (rep_logread_bytes(value, "peak", &b) == 0 && b != REP_UNLIMITED)
		e->peak = b;
	if (rep_logread_bytes(value, "current", &b) == 0 && b != REP_UNLIMITED)
		e->current = b;
}

static void set_mb(uint64_t *field, const char *value)
{
	uint64_t b;

	if (rep_logread_mb(value, &b) == 0)
		*field = b;
}

static void set_kb(long *field, const char *value)
{
	uint64_t b;

	if (rep_logread_mb(value, &b) == 0)
		*field = (long)(b >> 10);
}

static void set_long(long *field, const char *value)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(value, &end, 10);
	if (end != value && !errno && v >= 0 && (*end == '\0' || *end == ' ' || *end == '/'))
		*field = v;
}

/* "0.3s". Not "infs" nor "nans" (strtod reads both), nor past 30 years: a time that no
 * run takes would turn the chart's axis and the JSON's numbers into inf and nan. */
static void set_seconds(double *field, const char *value)
{
	char *end;
	double v = strtod(value, &end);

	if (end != value && strcmp(end, "s") == 0 && v >= 0 && v < 1e9)
		*field = v;
}

/* "killed (exceeded its own limit 256.0 MB)" and the other texts log.c writes. */
static void set_oom(struct rep_entry *e, const char *value)
{
	e->oom_seen = true;
	if (strstr(value, "(exceeded its own limit"))
		e->oom = REP_OOM_OWN;
	else if (strstr(value, "(the sandbox total"))
		e->oom = REP_OOM_SANDBOX;
	else
		e->oom = REP_OOM_SYSTEM;
}

/* "failcnt=0 oom_kill=1" (v1) or "low=0 ... oom_kill=1 oom_group_kill=0" (v2). */
static void set_oom_kills(struct rep_entry *e, const char *value)
{
	const char *p = strstr(value, "oom_kill=");

	if (p && (p == value || p[-1] == ' '))
		set_long(&e->oom_kills, p + strlen("oom_kill="));
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

/* "3 repeats added 8388608 8392704 -4096 bytes" (the plugin's leak check, exact bytes):
 * every repeat's figure, or nothing (a failed repeat's line says "repeat 2 of 3 failed"). */
static void set_leak(struct rep_entry *e, const char *value)
{
	long long v[REP_LOGREAD_REPEATS_MAX];
	const char *p = value;
	long long total = 0;
	char *end;
	long n;

	errno = 0;
	n = strtol(p, &end, 10);
	if (end == p || errno || n < 1 || n > REP_LOGREAD_REPEATS_MAX ||
	    strncmp(end, " repeats added ", 15) != 0)
		return;
	p = end + 15;
	for (long i = 0; i < n; i++, p = end) {
		v[i] = strtoll(p, &end, 10);
		if (end == p || errno || *end != ' ' || v[i] > INT64_MAX / 64 ||
		    v[i] < -(INT64_MAX / 64))
			return;  /* bounded: the sum of 20 cannot overflow */
		total += v[i];
	}
	if (strcmp(p, " bytes") != 0)
		return;
	qsort(v, (size_t)n, sizeof(v[0]), cmp_ll);
	e->leak_repeats = (int)n;
	e->leak_least = v[0];
	e->leak_median = v[(n - 1) / 2];
	e->leak_total = total;
}

int rep_logread_shard(const char *value, uint32_t *index, uint32_t *count)
{
	unsigned long i, n;
	char *end;

	if (*value < '1' || *value > '9')
		return -EINVAL;
	i = strtoul(value, &end, 10);
	if (*end != '/' || end[1] < '1' || end[1] > '9')
		return -EINVAL;
	n = strtoul(end + 1, &end, 10);
	if ((*end != '\0' && *end != ' ') || i > n || n > UINT32_MAX)
		return -EINVAL;
	*index = (uint32_t)i;
	*count = (uint32_t)n;
	return 0;
}

/* Keys an entry holds once: the first wins. The runner writes its own lines before the
 * lines a test sends (GC, xarray, tracemalloc), which it only indents and escapes, so a test
 * cannot restate its peak, its limit or its place in a later line. */
enum key_bit {
	K_PROC = 1 << 0, K_PEAK = 1 << 1, K_VMRSS = 1 << 2, K_SANDBOX = 1 << 3,
	K_XARRAY = 1 << 4, K_ELAPSED = 1 << 5, K_DURATION = 1 << 6, K_KIND = 1 << 7,
	K_LOCATION = 1 << 8, K_CGROUP = 1 << 9, K_MAX = 1 << 10, K_CURRENT = 1 << 11,
	K_EVENTS = 1 << 12, K_LEAK = 1 << 13, K_BYTES = 1 << 14, K_SHARD = 1 << 15,
};

static bool first(struct rep_logread *r, enum key_bit bit)
{
	bool was = r->seen & bit;

	r->seen |= bit;
	return !was;
}

/* A line of the unit's own "cgroup:" block. */
static void cgroup_line(struct rep_logread *r, const char *key, const char *value)
{
	struct rep_entry *e = &r->cur;

	if (strcmp(key, "memory.max") == 0 && first(r, K_MAX))
		set_mb(e->event == REP_EV_SESSION_START ? &e->sandbox_limit : &e->limit, value);
	else if (strcmp(key, "memory.current") == 0 && first(r, K_CURRENT))
		set_mb(&e->current, value);
	else if (strncmp(key, "memory.events", 13) == 0 && first(r, K_EVENTS))
		set_oom_kills(e, value);
	/* The runner writes it before the events line, and a test's lines come after that
	 * line: one after it is a test's, in a log of a runner that wrote none. */
	else if (strcmp(key, "bytes") == 0 && !(r->seen & K_EVENTS) && first(r, K_BYTES))
		set_bytes(e, value);
}

/* One "Key: value" line of the entry, indent spaces deep. */
static void body_line(struct rep_logread *r, int indent, const char *key, const char *value)
{
	struct rep_entry *e = &r->cur;

	if (indent <= 2)  /* only the first "cgroup:" block is the runner's */
		r->in_cgroup = strcmp(key, "cgroup") == 0 && first(r, K_CGROUP);
	if (r->in_cgroup && indent > 2)
		cgroup_line(r, key, value);
	else if (strncmp(key, "/proc/", 6) == 0 && first(r, K_PROC))
		set_long(&e->pid, key + 6);  /* "/proc/1744/status" */
	else if (strcmp(key, "Peak memory") == 0 && first(r, K_PEAK))
		set_mb(&e->peak, value);
	else if (strcmp(key, "VmRSS") == 0 && first(r, K_VMRSS))
		set_kb(&e->vm_rss_kb, value);
	else if (strcmp(key, "Sandbox memory.current") == 0 && first(r, K_SANDBOX))
		set_mb(&e->sandbox_current, value);
	else if (strcmp(key, "Open xarray datasets") == 0 && first(r, K_XARRAY))
		set_long(&e->xarray, value);
	else if (strcmp(key, "Elapsed") == 0 && first(r, K_ELAPSED))
		set_seconds(&e->elapsed, value);
	else if (strcmp(key, "Duration") == 0 && first(r, K_DURATION))
		set_seconds(&e->duration, value);
	else if (strcmp(key, "OOM") == 0)
		set_oom(e, value);  /* the last: the runner writes its own after a test's lines */
	else if (strcmp(key, "Kind") == 0 && first(r, K_KIND))
		copy_text(e->kind, sizeof(e->kind), value, strlen(value));
	else if (strcmp(key, "Location") == 0 && first(r, K_LOCATION))
		copy_text(e->location, sizeof(e->location), value, strlen(value));
	else if (strcmp(key, "Leak check") == 0 && first(r, K_LEAK))
		set_leak(e, value);
	else if (strcmp(key, "Shard") == 0 && e->event == REP_EV_SESSION_START &&
		 first(r, K_SHARD))
		rep_logread_shard(value, &e->shard_index, &e->shard_count);
}

static enum rep_event event_of(const char *word, size_t n)
{
	static const struct { const char *word; enum rep_event ev; } events[] = {
		{ "TEST_START", REP_EV_TEST_START },       { "TEST_END", REP_EV_TEST_END },
		{ "SESSION_START", REP_EV_SESSION_START }, { "SESSION_END", REP_EV_SESSION_END },
	};

	for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++)
		if (strlen(events[i].word) == n && memcmp(events[i].word, word, n) == 0)
			return events[i].ev;
	return REP_EV_OTHER;
}

/* "[STAMP] EVENT: name" (the name may be empty). Returns 1 and fills e, or 0 when the line
 * is not a header. */
static int header(const char *line, struct rep_entry *e)
{
	const char *close, *word, *p;

	if (line[0] != '[')  /* most lines: checked before anything else */
		return 0;
	close = strchr(line, ']');
	if (!close || close[1] != ' ')
		return 0;
	word = p = close + 2;
	while ((*p >= 'A' && *p <= 'Z') || *p == '_')
		p++;
	if (p == word || *p != ':' || (p[1] != ' ' && p[1] != '\0'))
		return 0;
	entry_reset(e);
	copy_text(e->stamp, sizeof(e->stamp), line + 1, (size_t)(close - line - 1));
	e->event = event_of(word, (size_t)(p - word));
	p += p[1] ? 2 : 1;
	copy_text(e->name, sizeof(e->name), p, strlen(p));
	return 1;
}

/* Whether an indented line may hold a key body_line reads, by its first letter: most of an
 * entry's nested lines (VmPeak, VmSize, tracemalloc) is skipped without a look at its key. */
static bool wanted(const char *line)
{
	const char *p = line;

	while (*p == ' ')
		p++;
	if (p - line <= 2)
		return true;  /* a line of the entry's own level ends the block before it */
	line = p;
	switch (*line) {
	case 'c': case 'm': case 'P': case 'V': case 'S': case 'O': case 'E': case 'D':
	case 'K': case 'L': case '/': case 'b':
		return line[0] != 'V' || line[2] == 'R';  /* of the Vm lines only VmRSS */
	default:
		return false;
	}
}

/* The runner's entries count OOM kills in the cgroup's events line, before any line a test
 * sends: an "OOM:" line counts only when the kernel counted a kill. A log of another writer
 * has no events line: its "OOM:" line is taken as it is. */
static void settle(struct rep_entry *e)
{
	if (e->oom_kills == 0) {
		e->oom_seen = false;
		e->oom = REP_OOM_NONE;
	}
}

/* Splits "    Key: value" into its indent, key and value (in place). Returns 0, or -1 when
 * the line is not one. */
static int split(char *line, int *indent, char **key, char **value)
{
	char *p = line, *colon;

	while (*p == ' ')
		p++;
	*indent = (int)(p - line);
	colon = strstr(p, ": ");
	if (*indent == 0 || !colon) {
		size_t n = strlen(p);

		if (*indent == 0 || n == 0 || p[n - 1] != ':')
			return -1;
		colon = p + n - 1;  /* "  cgroup:" ... a key that opens a block */
	}
	*colon = '\0';
	*key = p;
	*value = colon[1] ? colon + 2 : colon + 1;
	return 0;
}

int rep_logread_line(struct rep_logread *r, const char *line, size_t len, bool complete,
		     struct rep_entry *out)
{
	char buf[REP_LOGREAD_LINE_MAX];
	size_t n = strnlen(line, len);
	bool cut = !complete || n < len;  /* no newline, or NULs: the file stops here */
	int indent, ended = 0;
	char *key, *value;
	struct rep_entry next;

	r->lineno++;
	if (n >= sizeof(buf))
		n = sizeof(buf) - 1;
	memcpy(buf, line, n);
	buf[n] = '\0';
	if (header(buf, &next)) {
		if (r->have) {
			*out = r->cur;
			settle(out);
			ended = 1;
		}
		r->cur = next;
		r->cur.line = r->lineno;
		r->have = true;
		r->in_cgroup = false;
		r->seen = 0;
	} else if (r->have && buf[0] == ' ' && wanted(buf) &&
		   split(buf, &indent, &key, &value) == 0) {
		body_line(r, indent, key, value);
	}
	if (cut && r->have)
		r->cur.cut = true;
	return ended;
}

int rep_logread_finish(struct rep_logread *r, struct rep_entry *out)
{
	if (!r->have)
		return 0;
	*out = r->cur;
	settle(out);
	r->have = false;
	return 1;
}
