/* A budget file's lines from memory logs: each test's peak (etc/log-format.md: its TEST_END
 * entry's `Peak memory:` and its cgroup's `memory.peak:`), and the line that budgets it. */
#include "runner/budget/budget.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/logread.h"
#include "report/verdict.h"
#include "runner/config/size.h"

/* "174.9 MB" (the log's sizes: MiB, one decimal) in bytes. Returns 0, or -EINVAL when it
 * is none ("unknown"). "0.0 MB" is a peak: a test that took less than 0.05 MB; one past
 * 8 EiB is BUDGET_PEAK_HUGE. */
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
	if (r == -ERANGE) {  /* past any SIZE: a peak no budget can hold, and said so */
		*bytes = BUDGET_PEAK_HUGE;
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

/* Whether [p, end) starts with word. */
static bool starts(const char *p, const char *end, const char *word)
{
	size_t len = strlen(word);

	return (size_t)(end - p) >= len && strncmp(p, word, len) == 0;
}

/* ---- the records: in an arena, found through a hash table ---- */

/* A session's cgroup, shared by the records of its tests; freed when none holds it. */
struct budget_run {
	unsigned long refs;
	char name[64];
};

static struct budget_run *run_hold(struct budget_run *r)
{
	if (r)
		r->refs++;
	return r;
}

static void run_drop(struct budget_run *r)
{
	if (r && --r->refs == 0)
		free(r);
}

const char *budget_peak_run(const struct budget_peak *p)
{
	return p->run ? p->run->name : "";
}

/* The slot of name (len bytes): its record, or the empty slot where it goes. */
static struct budget_peak **slot_of(const struct budget_peaks *t, const char *name,
				    size_t len, uint32_t h)
{
	size_t mask = t->nslots - 1;

	for (size_t i = h & mask;; i = (i + 1) & mask) {
		struct budget_peak *p = t->slot[i];

		if (!p || (p->hash == h && strncmp(p->name, name, len) == 0 && !p->name[len]))
			return &t->slot[i];
	}
}

/* Doubles the table when it is half full: probes stay short. */
static int grow(struct budget_peaks *t)
{
	size_t nslots = t->nslots ? t->nslots * 2 : 1024;
	struct budget_peak **old = t->slot, **slot = calloc(nslots, sizeof(*slot));
	size_t n = t->nslots;

	if (!slot)
		return -ENOMEM;
	t->slot = slot;
	t->nslots = nslots;
	for (size_t i = 0; i < n; i++)
		if (old[i])
			*slot_of(t, old[i]->name, strlen(old[i]->name), old[i]->hash) = old[i];
	free(old);
	return 0;
}

/* The record of name (len bytes, at most BUDGET_NAME_MAX + 1), added when it is new (*fresh).
 * NULL when out of memory. */
static struct budget_peak *entry(struct budget_peaks *t, const char *name, size_t len,
				 bool *fresh)
{
	uint32_t h = budget_hash(name, len);
	struct budget_peak **s, *p;

	*fresh = false;
	if (t->n * 2 >= t->nslots && grow(t) < 0)
		return NULL;
	s = slot_of(t, name, len, h);
	if (*s)
		return *s;
	p = budget_arena_alloc(&t->arena, sizeof(*p) + len + 1);
	if (!p)
		return NULL;
	memset(p, 0, sizeof(*p));
	memcpy(p->name, name, len);
	p->name[len] = '\0';
	p->hash = h;
	*s = p;
	if (t->last)
		t->last->after = p;
	else
		t->first = p;
	t->last = p;
	t->n++;
	*fresh = true;
	return p;
}

struct budget_peak *budget_peaks_find(const struct budget_peaks *t, const char *name)
{
	size_t len = strlen(name);

	if (t->n == 0 || len > BUDGET_NAME_MAX + 1)
		return NULL;
	return *slot_of(t, name, len, budget_hash(name, len));
}

void budget_peaks_init(struct budget_peaks *t)
{
	memset(t, 0, sizeof(*t));
}

void budget_peaks_free(struct budget_peaks *t)
{
	for (struct budget_peak *p = t->first; p; p = p->after)
		run_drop(p->run);
	run_drop(t->run);
	budget_fixtures_free(t);
	budget_arena_free(&t->arena);
	free(t->slot);
	rep_shards_free(&t->shards);
	memset(t, 0, sizeof(*t));
}

/* ---- one entry at a time ---- */

/* The peak of a "bytes:" line's value, read by report/'s one reader of it. */
static int exact_peak(const char *val, size_t vlen, uint64_t *b)
{
	char buf[128];

	if (vlen >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, val, vlen);
	buf[vlen] = '\0';
	return rep_logread_bytes(buf, "peak", b);
}

/* One line of a TEST_END entry: the exact peak (its cgroup's "bytes:" line, before the
 * events line: after it, a test's own), else the larger rounded one; whether it was
 * OOM-killed, or measured alone; the broader fixtures it set up or shared (fixtures.c). */
static void end_line(struct budget_peaks *t, const char *line, size_t len)
{
	const char *val;
	size_t vlen;
	uint64_t b;

	if (!t->entry_events && (val = field(line, len, "bytes", &vlen))) {
		if (exact_peak(val, vlen, &b) == 0) {
			t->entry_peak = b;
			t->has_peak = t->entry_exact = true;
		}
	} else if ((val = field(line, len, "Peak memory", &vlen)) ||
	    (val = field(line, len, "memory.peak", &vlen))) {
		if (t->entry_exact || log_size(val, vlen, &b) < 0)
			return;
		if (b > t->entry_peak || !t->has_peak)
			t->entry_peak = b;
		t->has_peak = true;
	} else if (len > 4 && strncmp(line + strspn(line, " "), "memory.events", 13) == 0) {
		t->entry_events = true;
	} else if ((val = field(line, len, "OOM", &vlen)) && vlen >= 6 &&
		   strncmp(val, "killed", 6) == 0) {
		t->entry_killed = true;
	} else if (field(line, len, "Measured", &vlen)) {
		t->entry_measured = true;
	} else {
		budget_fixture_line(t, line, len);
	}
}

/* The test of the TEST_END entry just read, for the check that no test ran in two of a
 * run's shards. */
static void shard_test(struct budget_peaks *t, bool cut)
{
	char name[BUDGET_NAME_MAX + 2];
	size_t n = cut ? BUDGET_NAME_MAX + 1 : t->name_len;

	memcpy(name, t->name, n);
	name[n] = '\0';
	rep_shards_test(&t->shards, name, t->log ? t->log : "<log>");
}

/* A SESSION_START's "Shard: I/N (...)" line: the shard whose tests follow. */
static void session_shard(struct budget_peaks *t, const char *val, size_t vlen)
{
	char text[64];
	uint32_t index = 0, count = 0;

	snprintf(text, sizeof(text), "%.*s", (int)(vlen < sizeof(text) ? vlen : sizeof(text) - 1), val);
	if (rep_logread_shard(text, &index, &count) == 0)
		rep_shards_session(&t->shards, index, count);
}

/* Records the TEST_END entry just read, when it has a peak. */
static int record(struct budget_peaks *t)
{
	struct budget_peak *p;
	bool fresh, cut = t->name_len > BUDGET_NAME_MAX;

	if (!t->in_end)
		return 0;
	shard_test(t, cut);
	if (!t->has_peak)
		return 0;  /* no peak could be read: nothing to budget */
	/* A cut name keeps one byte more than a whole one may have: it is never taken for
	 * the test whose whole name is its first BUDGET_NAME_MAX bytes. */
	p = entry(t, t->name, cut ? BUDGET_NAME_MAX + 1 : t->name_len, &fresh);
	if (!p)
		return -ENOMEM;
	/* The run that needed most; at the same peak, one that ended over one the OOM killer
	 * ended there (the sandbox total took it beside others, and it ran again alone). */
	if (fresh || t->entry_peak > p->peak ||
	    (t->entry_peak == p->peak && p->killed && !t->entry_killed)) {
		p->killed = t->entry_killed;
		p->peak = t->entry_peak;
		p->peak_alone = t->entry_measured;
		memcpy(p->date, t->date, sizeof(p->date));
		run_drop(p->run);
		p->run = run_hold(t->run);
	}
	p->cut = cut;
	p->measured |= t->entry_measured;  /* its budget, at least that peak, fits any order */
	return budget_fixtures_record(t, p);  /* every run's */
}

/* Ends the entry being read: recorded when it is a TEST_END with a peak. */
static int entry_end(struct budget_peaks *t)
{
	int r = record(t);

	t->in_end = t->in_session = t->has_peak = t->entry_killed = t->entry_measured = false;
	t->entry_exact = t->entry_events = false;
	t->entry_peak = 0;
	t->nlines = 0;
	return r;
}

/* "2026-11-30" from the head's stamp, else "": the date goes into the file's comment. */
static void date_of(const char *stamp, size_t len, char date[11])
{
	date[0] = '\0';
	if (len < 10)
		return;
	for (int i = 0; i < 10; i++)
		if (i == 4 || i == 7 ? stamp[i] != '-' : stamp[i] < '0' || stamp[i] > '9')
			return;
	memcpy(date, stamp, 10);
	date[10] = '\0';
}

/* The session's cgroup, "wcmem-4242 (cgroup v1)": its first word, printable ASCII only
 * (it goes into the file's comment). */
static int session_run(struct budget_peaks *t, const char *val, size_t vlen)
{
	struct budget_run *r = calloc(1, sizeof(*r));
	size_t n = 0;

	if (!r)
		return -ENOMEM;
	for (; n < vlen && n < sizeof(r->name) - 1 && val[n] > ' ' && val[n] < 0x7f; n++)
		r->name[n] = val[n];
	r->name[n] = '\0';
	r->refs = 1;
	run_drop(t->run);
	t->run = r;
	return 0;
}

/* "[STAMP] EVENT: NAME": ends the entry before, begins the next. */
static int head_line(struct budget_peaks *t, const char *line, size_t len)
{
	const char *close = memchr(line, ']', len), *end = line + len, *event, *name;
	int r = entry_end(t);

	if (r < 0 || !close || end - close < 2 || close[1] != ' ')
		return r;  /* not a head the runner writes: an entry of no interest */
	event = close + 2;
	if (starts(event, end, "SESSION_START:")) {
		t->heads++;
		t->in_session = true;
		rep_shards_session(&t->shards, 0, 0);  /* no shard until its line says one */
	} else if (starts(event, end, "TEST_END: ")) {
		t->heads++;
		name = event + strlen("TEST_END: ");
		t->in_end = true;
		t->name_len = (size_t)(end - name);
		memcpy(t->name, name, t->name_len > BUDGET_NAME_MAX ? BUDGET_NAME_MAX + 1
							      : t->name_len);
		date_of(line + 1, (size_t)(close - line - 1), t->date);
	}
	return 0;
}

int budget_peaks_line(struct budget_peaks *t, const char *line, size_t len)
{
	const char *val;
	size_t vlen;

	if (memchr(line, '\0', len))
		return entry_end(t);  /* not text: what follows is no part of the entry */
	if (len > 0 && line[0] == '[')
		return head_line(t, line, len);
	if (t->in_session && (val = field(line, len, "cgroup", &vlen)))
		return session_run(t, val, vlen);
	if (t->in_session && (val = field(line, len, "Shard", &vlen))) {
		session_shard(t, val, vlen);
		return 0;
	}
	if (t->in_end)
		end_line(t, line, len);
	return 0;
}

int budget_peaks_end(struct budget_peaks *t)
{
	int r = entry_end(t);

	run_drop(t->run);  /* the next log is another run's */
	t->run = NULL;
	t->shards.current = 0;
	return r;
}

/* The lines of a file, NULs and all: each up to its newline, of which the first
 * REP_LOGREAD_LINE_MAX bytes count (the rest of a longer one is dropped, never read as a
 * line of its own: it could forge a head). */
struct lines {
	FILE *f;
	size_t at, end;
	bool eof;
	bool skipping;  /* dropping the rest of a line past the limit */
	char buf[1 << 16];
};

/* Reads more behind what is left. Returns 0 or -errno. */
static int refill(struct lines *l)
{
	size_t have = l->end - l->at, n;

	memmove(l->buf, l->buf + l->at, have);
	l->at = 0;
	n = fread(l->buf + have, 1, sizeof(l->buf) - have, l->f);
	l->end = have + n;
	if (n == 0 && ferror(l->f))
		return -(errno ? errno : EIO);
	l->eof = n == 0;
	return 0;
}

/* The next line, without its newline, in *line (valid until the next call) and *len.
 * Returns 1, 0 at the end of the file, or -errno. */
static int next_line(struct lines *l, const char **line, size_t *len)
{
	for (;;) {
		char *p = l->buf + l->at, *nl = memchr(p, '\n', l->end - l->at);
		size_t have = l->end - l->at;
		bool skipped = l->skipping;
		int r;

		if (nl) {
			l->at += (size_t)(nl - p) + 1;
			l->skipping = false;
			if (skipped)
				continue;  /* the end of a line already given */
			*line = p;
			*len = (size_t)(nl - p);
			return 1;
		}
		if (l->skipping) {
			l->at = l->end;
		} else if (have >= REP_LOGREAD_LINE_MAX || (l->eof && have)) {
			l->at = l->end;
			l->skipping = !l->eof;
			*line = p;
			*len = have < REP_LOGREAD_LINE_MAX ? have : REP_LOGREAD_LINE_MAX;
			return 1;
		}
		if (l->eof)
			return 0;
		r = refill(l);
		if (r < 0)
			return r;
	}
}

int budget_peaks_read(struct budget_peaks *t, FILE *f)
{
	struct lines *l = malloc(sizeof(*l));
	const char *line;
	size_t len;
	int r;

	if (!l)
		return -ENOMEM;
	*l = (struct lines){ .f = f };
	while ((r = next_line(l, &line, &len)) > 0 && (r = budget_peaks_line(t, line, len)) == 0)
		;
	free(l);
	return r < 0 ? r : budget_peaks_end(t);
}

#define MIB (UINT64_C(1) << 20)
#define BUDGET_BYTES_MAX ((UINT64_C(1) << 63) - MIB)  /* the largest SIZE budget_parse takes */

uint64_t budget_from_peak(uint64_t peak, unsigned margin_pct, uint64_t floor)
{
	uint64_t margin, bytes;

	/* A log may say any peak: what does not fit a SIZE has no budget, never a wrapped one. */
	if (__builtin_mul_overflow(peak / 100, margin_pct, &margin) ||
	    __builtin_add_overflow(margin, peak % 100 * margin_pct / 100, &margin) ||
	    __builtin_add_overflow(peak, margin, &bytes) || bytes > BUDGET_BYTES_MAX ||
	    floor > BUDGET_BYTES_MAX)
		return 0;
	if (bytes < floor)
		bytes = floor;
	bytes = (bytes + MIB - 1) / MIB * MIB;  /* the file holds whole MiB */
	return bytes ? bytes : MIB;
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
	char name[BUDGET_NAME_MAX * 3 + 4], peak[32], mb[32], shared[64] = "", date[16] = "",
	     run[80] = "";
	size_t nlen = strlen(p->name);
	int len;

	if (nlen == 0 || nlen > BUDGET_NAME_MAX || bytes == 0 || bytes % MIB ||
	    bytes > BUDGET_BYTES_MAX)
		return nlen > BUDGET_NAME_MAX ? -E2BIG : -EINVAL;
	encode_name(p->name, name, sizeof(name));
	rep_format_mb(p->peak, peak, sizeof(peak));
	if (budget_shared(p)) {
		rep_format_mb(budget_shared(p), mb, sizeof(mb));
		snprintf(shared, sizeof(shared), " + shared fixtures %s", mb);
	}
	if (p->date[0])
		snprintf(date, sizeof(date), ", %s", p->date);
	if (budget_peak_run(p)[0])
		snprintf(run, sizeof(run), ", run %s", budget_peak_run(p));
	len = snprintf(buf, size, "test = %lluM %s   ; peak %s%s%s%s%s",
		       (unsigned long long)(bytes / MIB), name, peak, p->peak_alone ? " alone" : "",
		       shared, date, run);
	if (len >= 0 && (size_t)len <= BUDGET_LINE_MAX && (size_t)len < size)
		return len;
	len = snprintf(buf, size, "test = %lluM %s", (unsigned long long)(bytes / MIB), name);
	return len >= 0 && (size_t)len <= BUDGET_LINE_MAX && (size_t)len < size ? len : -E2BIG;
}
