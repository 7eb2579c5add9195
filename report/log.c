/* The memory log (etc/log-format.md): pure formatters (the writer is log_file.c). */
#include "report/log.h"
#include "report/utf8.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "report/verdict.h"

/* ---- escaping ---- */

/* The escaped form of the character at p into tmp (at most 6 characters + NUL); *used
 * gets the bytes it took. UTF-8 passes as it is (test names are UTF-8), but not a byte
 * that is not UTF-8, nor a code point rep_utf8_unsafe names: they are written \xHH and
 * \uHHHH, so nothing from outside reaches a terminal or starts a line. A backslash passes:
 * a name reads as pytest prints it (its ids already escape what is not printable), and only
 * a line break could forge an entry. */
size_t rep_log_escape_char(const char *p, char tmp[8], size_t *used)
{
	unsigned char c = (unsigned char)*p;
	uint32_t cp;
	size_t len = rep_utf8_next(p, &cp);

	*used = len ? len : 1;
	switch (c) {
	case '\n': return (size_t)snprintf(tmp, 8, "\\n");
	case '\r': return (size_t)snprintf(tmp, 8, "\\r");
	case '\t': return (size_t)snprintf(tmp, 8, "\\t");
	}
	if (len == 0 || (len == 1 && rep_utf8_unsafe(cp)))
		return (size_t)snprintf(tmp, 8, "\\x%02x", c);
	if (rep_utf8_unsafe(cp))
		return (size_t)snprintf(tmp, 8, "\\u%04x", (unsigned)cp);
	memcpy(tmp, p, len);
	tmp[len] = '\0';
	return len;
}

size_t rep_log_escape(const char *name, char *out, size_t size)
{
	size_t len = 0, used;

	if (size == 0)
		return 0;
	for (const char *p = name ? name : ""; *p; p += used) {
		char tmp[8];
		size_t n = rep_log_escape_char(p, tmp, &used);

		if (len + n >= size)
			break;  /* never cut an escape, or a character, in half */
		memcpy(out + len, tmp, n);
		len += n;
	}
	out[len] = '\0';
	return len;
}

int rep_log_escape_lines(FILE *f, const char *text)
{
	const char *p = text;
	size_t used;

	while (*p) {
		for (; *p && *p != '\n'; p += used) {
			char tmp[8];

			rep_log_escape_char(p, tmp, &used);
			fputs(tmp, f);
		}
		if (*p == '\n')
			fputc(*p++, f);
	}
	return ferror(f) ? -EIO : 0;
}

/* ---- formatting ---- */

/* An entry under construction; once it overflows, it stays full and the entry is -ENOSPC. */
struct out {
	char *buf;
	size_t size;
	size_t len;
	bool full;
};

__attribute__((format(printf, 2, 3)))
static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->full)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->size - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->size - o->len)
		o->full = true;
	else
		o->len += (size_t)n;
}

static void put_escaped(struct out *o, const char *s)
{
	size_t used;

	for (const char *p = s ? s : ""; *p && !o->full; p += used) {
		char tmp[8];
		size_t n = rep_log_escape_char(p, tmp, &used);

		if (n >= o->size - o->len) {
			o->full = true;
			return;
		}
		memcpy(o->buf + o->len, tmp, n + 1);
		o->len += n;
	}
}

static int finish(struct out *o)
{
	if (o->full || o->len > INT_MAX)
		return -ENOSPC;
	return (int)o->len;
}

/* "[2025-10-24T12:34:56.789012] EVENT: name\n", local time as the upstream writer has it. */
static void put_head(struct out *o, const struct timespec *ts, const char *event,
		     const char *name)
{
	struct tm tm;
	char stamp[32];

	if (!localtime_r(&ts->tv_sec, &tm) ||
	    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
		snprintf(stamp, sizeof(stamp), "@%lld", (long long)ts->tv_sec);
	put(o, "[%s.%06ld] %s: ", stamp, ts->tv_nsec / 1000, event);
	put_escaped(o, name);
	put(o, "\n");
}

/* A limit: "512.0 MB" or "max". */
static void put_limit(struct out *o, const char *indent, const char *label, uint64_t bytes)
{
	char mb[32];

	rep_format_mb(bytes, mb, sizeof(mb));
	put(o, "%s%s: %s\n", indent, label, mb);
}

/* A measured figure: "512.0 MB" or "unknown". */
static void put_measured(struct out *o, const char *indent, const char *label, uint64_t bytes)
{
	char mb[32] = "unknown";

	if (bytes != REP_UNKNOWN)
		rep_format_mb(bytes, mb, sizeof(mb));
	put(o, "%s%s: %s\n", indent, label, mb);
}

/* " KEY=N" (or "=max" for an unlimited limit); nothing for a figure not read. */
static void put_byte_field(struct out *o, const char *key, uint64_t bytes, bool is_limit)
{
	if (is_limit && bytes == REP_UNLIMITED)
		put(o, " %s=max", key);
	else if (bytes != REP_UNKNOWN)
		put(o, " %s=%llu", key, (unsigned long long)bytes);
}

/* "    bytes: max=268435456 peak=33869004 current=659456": the cgroup's figures to the byte,
 * for our own readers (analyze, budget); the lines above round them for people. A line of
 * its own, whose key no guide reader looks for, before the events line (logread.h). */
static void put_bytes(struct out *o, uint64_t limit, uint64_t peak, uint64_t current)
{
	put(o, "    bytes:");
	put_byte_field(o, "max", limit, true);
	put_byte_field(o, "peak", peak, false);
	put_byte_field(o, "current", current, false);
	put(o, "\n");
}

static void put_status(struct out *o, int pid, const struct rep_status *s)
{
	const struct { const char *key; long val; } f[] = {
		{ "VmPeak", s->vm_peak }, { "VmSize", s->vm_size },
		{ "VmHWM", s->vm_hwm },   { "VmRSS", s->vm_rss },
	};

	if (s->vm_peak < 0 && s->vm_size < 0 && s->vm_hwm < 0 && s->vm_rss < 0)
		return;
	put(o, "  /proc/%d/status:\n", pid);
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (f[i].val >= 0)
			put(o, "    %s: %ld kB\n", f[i].key, f[i].val);
}

static void put_events(struct out *o, const struct rep_unit *u)
{
	const struct cg_events *ev = &u->events;

	if (u->v1)
		put(o, "    memory.events (v1): failcnt=%llu oom_kill=%llu\n",
		    (unsigned long long)ev->max, (unsigned long long)ev->oom_kill);
	else
		put(o, "    memory.events: low=%llu high=%llu max=%llu oom=%llu oom_kill=%llu"
		    " oom_group_kill=%llu\n",
		    (unsigned long long)ev->low, (unsigned long long)ev->high,
		    (unsigned long long)ev->max, (unsigned long long)ev->oom,
		    (unsigned long long)ev->oom_kill, (unsigned long long)ev->oom_group_kill);
}

static void put_exit(struct out *o, const struct rep_unit *u)
{
	const char *abbrev;

	switch (u->end) {
	case REP_END_EXITED:
		put(o, "  Exit: code %d\n", u->code);
		break;
	case REP_END_SIGNALED:
		abbrev = sigabbrev_np(u->code);
		if (abbrev)
			put(o, "  Exit: signal %d (SIG%s)\n", u->code, abbrev);
		else
			put(o, "  Exit: signal %d\n", u->code);
		break;
	case REP_END_NOT_RUN:
		put(o, "  Exit: not started (code %d)\n", u->code);
		if (u->error) {
			put(o, "  Error: ");
			put_escaped(o, u->error);
			put(o, "\n");
		}
		break;
	case REP_END_LOST:
		put(o, "  Exit: unknown (the process ended without reporting)\n");
		break;
	}
}

/* Lines the plugin sent, each indented and escaped: a client can never forge an entry. */
static void put_extras(struct out *o, const char *text)
{
	const char *p = text;

	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		char line[1024];

		if (n >= sizeof(line))
			n = sizeof(line) - 1;
		memcpy(line, p, n);
		line[n] = '\0';
		if (n) {
			put(o, "  ");
			put_escaped(o, line);
			put(o, "\n");
		}
		p = nl ? nl + 1 : NULL;
	}
}

/* "OOM: killed (exceeded its own limit 512.0 MB)": which limit the kernel enforced. */
static void put_oom(struct out *o, const struct rep_unit *u)
{
	/* The main process survived (v1, or v2 without oom.group): only another died. */
	const char *who = u->end == REP_END_SIGNALED && u->code == SIGKILL ?
			  "killed" : "a process was killed";
	char why[REP_VERDICT_MAX];

	if (u->oom == REP_OOM_NONE)
		return;
	rep_oom_reason(u->oom, u->limit, u->budget, u->sandbox_limit, true, why, sizeof(why));
	put(o, "  OOM: %s (", who);
	put_escaped(o, why);  /* a budget file's path is the user's text */
	put(o, ")\n");
}

int rep_log_format_session_start(char *buf, size_t size, const struct rep_session *s)
{
	struct out o = { buf, size, 0, size == 0 };

	put_head(&o, &s->start, "SESSION_START", s->command);
	put(&o, "  Elapsed: 0.0s\n");
	put(&o, "  Command: ");
	put_escaped(&o, s->command);
	put(&o, "\n");
	if (s->shard) {  /* analyze takes the logs of a run's shards as one run */
		put(&o, "  Shard: %s (", s->shard);
		put_escaped(&o, s->shard_origin ? s->shard_origin : "--shard");
		put(&o, ")\n");
	}
	if (s->cgroup) {
		put(&o, "  cgroup: ");
		put_escaped(&o, s->cgroup);
		if (s->backend)
			put(&o, " (%s)", s->backend);
		put(&o, "\n");
	}
	put_limit(&o, "    ", "memory.max", s->limit);
	put_limit(&o, "    ", "test limit", s->test_limit);
	put_limit(&o, "    ", "swap", s->swap);
	put_bytes(&o, s->limit, REP_UNKNOWN, REP_UNKNOWN);
	return finish(&o);
}

int rep_log_format_session_end(char *buf, size_t size, const struct rep_session *s,
			       const struct timespec *now)
{
	struct out o = { buf, size, 0, size == 0 };

	put_head(&o, now, "SESSION_END", s->command);
	put(&o, "  Elapsed: %.1fs\n", s->elapsed);
	put(&o, "  Units: %d\n", s->units);
	put(&o, "  OOM-killed: %d\n", s->oom_killed);
	if (s->outside_kills > 0)
		put(&o, "  OOM-killed outside every unit: %d\n", s->outside_kills);
	if (s->peak != REP_UNKNOWN)
		put_measured(&o, "  ", "Peak memory", s->peak);
	put(&o, "  Exit status: %d\n", s->exit_status);
	return finish(&o);
}

/* The enclosing command is no test: the guide's readers count TEST_* entries as tests,
 * and skip events they do not know. */
static const char *event(const struct rep_unit *u, bool start)
{
	if (u->enclosing)
		return start ? "COMMAND_START" : "COMMAND_END";
	return start ? "TEST_START" : "TEST_END";
}

int rep_log_format_unit_start(char *buf, size_t size, const struct rep_unit *u)
{
	struct out o = { buf, size, 0, size == 0 };

	put_head(&o, &u->start, event(u, true), u->name);
	put(&o, "  Elapsed: %.1fs\n", u->start_elapsed);
	put_status(&o, u->pid, &u->status_start);
	if (u->kind)
		put(&o, "  Kind: %s\n", u->kind);
	if (u->started)
		put(&o, "  Started: %s\n", u->started);
	/* For `analyze`: its findings point at the test's own file and line. */
	if (u->location) {
		put(&o, "  Location: ");
		put_escaped(&o, u->location);
		put(&o, "\n");
	}
	if (u->cgroup) {
		put(&o, "  cgroup: ");
		put_escaped(&o, u->cgroup);
		put(&o, "\n");
		put_limit(&o, "    ", "memory.max", u->limit);
	}
	put_extras(&o, u->extras_start);
	return finish(&o);
}

int rep_log_format_unit_end(char *buf, size_t size, const struct rep_unit *u,
			    const struct timespec *now, double elapsed)
{
	struct out o = { buf, size, 0, size == 0 };

	put_head(&o, now, event(u, false), u->name);
	put(&o, "  Elapsed: %.1fs\n", elapsed);
	put_status(&o, u->pid, &u->status_end);
	/* Readers take the first word after the last ':' as a float: never "unknown". */
	if (u->peak != REP_UNKNOWN)
		put_measured(&o, "  ", "Peak memory", u->peak);
	put(&o, "  Duration: %.1fs\n", u->duration);
	if (u->cgroup) {
		put(&o, "  cgroup: ");
		put_escaped(&o, u->cgroup);
		put(&o, "\n");
		put_limit(&o, "    ", "memory.max", u->limit);
		put_measured(&o, "    ", "memory.peak", u->peak);
		put_measured(&o, "    ", "memory.current", u->current);
		put_bytes(&o, u->limit, u->peak, u->current);
		put_events(&o, u);
	}
	if (u->sandbox_current != REP_UNKNOWN && u->sandbox_current != 0)
		put_measured(&o, "  ", "Sandbox memory.current", u->sandbox_current);
	if (u->left_behind > 0)
		put(&o, "  Left behind: %d process%s, moved to the harness\n", u->left_behind,
		    u->left_behind == 1 ? "" : "es");
	/* Not "OOM:": that line is the unit's own verdict, which readers take it for. */
	if (u->outside_kills > 0)
		put(&o, "  Outside every unit, OOM-killed meanwhile: %d process%s (left running, "
		    "in the harness or standing by)\n", u->outside_kills,
		    u->outside_kills == 1 ? "" : "es");
	put_extras(&o, u->extras_end);
	put_exit(&o, u);
	put_oom(&o, u);
	return finish(&o);
}

int rep_log_format_refused(char *buf, size_t size, const struct timespec *now, const char *verb,
			   const char *name, const char *answer)
{
	struct out o = { buf, size, 0, size == 0 };

	put_head(&o, now, "UNIT_REFUSED", name);
	put(&o, "  Request: %s\n", verb);
	put(&o, "  Answer: ");
	put_escaped(&o, answer);
	put(&o, "\n");
	return finish(&o);
}
