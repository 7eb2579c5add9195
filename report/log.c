/* The memory log (LOG_FORMAT.md): pure formatters, and a writer that puts each entry on
 * disk with one write(2). */
#include "report/log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report/file.h"
#include "report/verdict.h"

/* ---- paths and writing ---- */

int rep_log_default_path(char *buf, size_t size, const char *weathercop_dir, const char *home)
{
	int n;

	if (weathercop_dir && *weathercop_dir)
		n = snprintf(buf, size, "%s/test_memory.log", weathercop_dir);
	else if (home && *home)
		n = snprintf(buf, size, "%s/.weathercop/test_memory.log", home);
	else
		return -ENOENT;
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	return 0;
}

/* Whether the log is written by another live session: each holds a shared flock on it from
 * open to close. Taking the exclusive lock proves that no other session holds one. flock
 * then turns it into a shared one, dropping it for a moment: a session that slips in there
 * and empties the file finds it empty still, as this one writes only after it is open.
 * Where the file system has no locks (some network ones), the file is taken as ours alone,
 * as before there were locks; so are sessions of a binary without them. */
static void lock_log(int fd, bool try_exclusive, bool *alone)
{
	*alone = true;
	if (try_exclusive && flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK)
		*alone = false;
	while (flock(fd, LOCK_SH) < 0 && errno == EINTR)
		;
}

int rep_log_open(struct rep_log *log, const char *path, bool append, struct rep_error *e)
{
	struct stat st;
	bool alone;
	int fd, r;

	log->fd = -1;
	log->can_sync = false;
	log->shared = false;
	/* O_APPEND: every write lands at the end, even with another writer (tail -f, another
	 * session) on the same file. */
	fd = rep_file_open(path, O_APPEND, REP_DIRS_PARENT, e);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0) {
		r = rep_fail(e, errno, "open %s", path);
		close(fd);
		return r;
	}
	/* A device or a FIFO (/dev/null, a reader's pipe) has nothing to empty, lock or sync. */
	if (S_ISREG(st.st_mode)) {
		lock_log(fd, !append, &alone);
		if (!append && alone && ftruncate(fd, 0) < 0) {
			r = rep_fail(e, errno, "empty %s", path);
			close(fd);
			return r;
		}
		log->shared = !append && !alone;
	}
	log->can_sync = S_ISREG(st.st_mode) || S_ISBLK(st.st_mode);
	log->fd = fd;
	return 0;
}

void rep_log_close(struct rep_log *log)
{
	if (log->fd >= 0)
		close(log->fd);
	log->fd = -1;
}

/* After a write that failed part way (a full disk: the kernel writes what fits, then says
 * ENOSPC), takes the torn entry's written part back off the end, so that readers never see
 * half an entry. Only when the file still ends where this write ended: a later writer's
 * entry is never cut. */
static void take_back(int fd, size_t written)
{
	struct stat st;
	off_t end = lseek(fd, 0, SEEK_CUR);  /* O_APPEND: the end of what we wrote */

	if (written == 0 || end < (off_t)written || fstat(fd, &st) < 0 ||
	    !S_ISREG(st.st_mode) || st.st_size != end)
		return;
	while (ftruncate(fd, end - (off_t)written) < 0 && errno == EINTR)
		;
}

int rep_log_write(struct rep_log *log, const char *entry, size_t len, bool sync)
{
	size_t written = 0;

	if (!log || log->fd < 0)
		return 0;
	while (written < len) {
		ssize_t n = write(log->fd, entry + written, len - written);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int err = n < 0 ? errno : EIO;

			take_back(log->fd, written);
			return -err;
		}
		written += (size_t)n;
	}
	while (sync && log->can_sync && fdatasync(log->fd) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

/* ---- escaping ---- */

/* The escaped form of one byte into tmp (at most 4 characters + NUL). Bytes >= 0x80 pass:
 * they are UTF-8 in test names and cannot start a line. */
static size_t escape_byte(unsigned char c, char tmp[5])
{
	switch (c) {
	case '\n': return (size_t)snprintf(tmp, 5, "\\n");
	case '\r': return (size_t)snprintf(tmp, 5, "\\r");
	case '\t': return (size_t)snprintf(tmp, 5, "\\t");
	case '\\': return (size_t)snprintf(tmp, 5, "\\\\");
	}
	if (c < 0x20 || c == 0x7f)
		return (size_t)snprintf(tmp, 5, "\\x%02x", c);
	tmp[0] = (char)c;
	tmp[1] = '\0';
	return 1;
}

size_t rep_log_escape(const char *name, char *out, size_t size)
{
	size_t len = 0;

	if (size == 0)
		return 0;
	for (const char *p = name ? name : ""; *p; p++) {
		char tmp[5];
		size_t n = escape_byte((unsigned char)*p, tmp);

		if (len + n >= size)
			break;  /* never cut an escape in half */
		memcpy(out + len, tmp, n);
		len += n;
	}
	out[len] = '\0';
	return len;
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
	for (const char *p = s ? s : ""; *p && !o->full; p++) {
		char tmp[5];
		size_t n = escape_byte((unsigned char)*p, tmp);

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
	const struct rep_events *ev = &u->events;

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
	char mb[32];

	switch (u->oom) {
	case REP_OOM_NONE:
		break;
	case REP_OOM_OWN:
		rep_format_mb(u->limit, mb, sizeof(mb));
		put(o, "  OOM: %s (exceeded its own limit %s)\n", who, mb);
		break;
	case REP_OOM_SANDBOX:
		rep_format_mb(u->sandbox_limit, mb, sizeof(mb));
		put(o, "  OOM: %s (the sandbox total %s was reached)\n", who, mb);
		break;
	case REP_OOM_SYSTEM:
		put(o, "  OOM: %s (by the system: a limit outside the sandbox, or the machine"
		    " ran out)\n", who);
		break;
	}
}

int rep_log_format_session_start(char *buf, size_t size, const struct rep_session *s)
{
	struct out o = { buf, size, 0, size == 0 };

	put_head(&o, &s->start, "SESSION_START", s->command);
	put(&o, "  Elapsed: 0.0s\n");
	put(&o, "  Command: ");
	put_escaped(&o, s->command);
	put(&o, "\n");
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
	if (s->peak != REP_UNKNOWN)
		put_measured(&o, "  ", "Peak memory", s->peak);
	put(&o, "  Exit status: %d\n", s->exit_status);
	return finish(&o);
}

int rep_log_format_unit_start(char *buf, size_t size, const struct rep_unit *u)
{
	struct out o = { buf, size, 0, size == 0 };

	put_head(&o, &u->start, "TEST_START", u->name);
	put(&o, "  Elapsed: %.1fs\n", u->start_elapsed);
	put_status(&o, u->pid, &u->status_start);
	if (u->kind)
		put(&o, "  Kind: %s\n", u->kind);
	if (u->started)
		put(&o, "  Started: %s\n", u->started);
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

	put_head(&o, now, "TEST_END", u->name);
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
		put_events(&o, u);
	}
	if (u->sandbox_current != REP_UNKNOWN && u->sandbox_current != 0)
		put_measured(&o, "  ", "Sandbox memory.current", u->sandbox_current);
	if (u->left_behind > 0)
		put(&o, "  Left behind: %d process%s, moved to the harness\n", u->left_behind,
		    u->left_behind == 1 ? "" : "es");
	put_extras(&o, u->extras_end);
	put_exit(&o, u);
	put_oom(&o, u);
	return finish(&o);
}
