#include "runner/session/entry.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report/log.h"
#include "runner/session/say.h"

/* An entry grows with the name (escaped up to 4 bytes a byte); past this, refuse. */
#define ENTRY_MAX (16u << 20)

/* What a UNIT_REFUSED entry says. */
struct refusal {
	const char *verb, *name, *answer;
};

static int format_entry(struct run_session *s, enum run_entry kind, const struct rep_unit *u,
			const struct refusal *no, const struct timespec *now)
{
	char *buf = s->entry;
	size_t size = s->entry_size;

	switch (kind) {
	case RUN_ENTRY_SESSION_START:
		return rep_log_format_session_start(buf, size, &s->info);
	case RUN_ENTRY_SESSION_END:
		return rep_log_format_session_end(buf, size, &s->info, now);
	case RUN_ENTRY_UNIT_START:
		return rep_log_format_unit_start(buf, size, u);
	case RUN_ENTRY_UNIT_END:
		return rep_log_format_unit_end(buf, size, u, now, run_elapsed(s));
	case RUN_ENTRY_REFUSED:
		return rep_log_format_refused(buf, size, now, no->verb, no->name, no->answer);
	}
	return -EINVAL;
}

/* The log could not take an entry (a full disk, an I/O error). The run goes on: the limits
 * matter more than the log, and the command's exit status is its own. The log ends with the
 * last whole entry (rep_log_write takes a torn one back); this is said once, with the entry
 * it stopped at; the summary and the reports still have every unit. */
static void log_lost(struct run_session *s, enum run_entry kind, const struct rep_unit *u,
		     int err)
{
	static const char *const event[] = {
		[RUN_ENTRY_SESSION_START] = "SESSION_START", [RUN_ENTRY_SESSION_END] = "SESSION_END",
		[RUN_ENTRY_UNIT_START] = "TEST_START",       [RUN_ENTRY_UNIT_END] = "TEST_END",
		[RUN_ENTRY_REFUSED] = "UNIT_REFUSED",
	};
	char name[160];

	rep_log_escape(u ? u->name : s->info.command, name, sizeof(name));
	run_warn("the memory log %s stops before its entry %lu (%s: %s): %s (errno %d); that "
		 "entry and those after it are not written; the summary and the reports have "
		 "every unit", s->log_path, s->log_entries + 1, event[kind], name, strerror(err),
		 err);
	run_log_close(s);
}

static int log_entry(struct run_session *s, enum run_entry kind, const struct rep_unit *u,
		     const struct refusal *no, bool sync, struct wc_error *e)
{
	struct timespec now;
	int n;

	if (s->log.fd < 0)
		return 0;
	clock_gettime(CLOCK_REALTIME, &now);
	/* One buffer for the session, grown to the largest entry so far: no malloc a test. */
	while ((n = s->entry_size ? format_entry(s, kind, u, no, &now) : -ENOSPC) == -ENOSPC) {
		size_t size = s->entry_size ? s->entry_size * 2 : 4096;
		char *buf = size > ENTRY_MAX ? NULL : realloc(s->entry, size);

		if (!buf)
			return wc_fail(e, size > ENTRY_MAX ? ENOSPC : ENOMEM, "format a log entry");
		s->entry = buf;
		s->entry_size = size;
	}
	if (n < 0)
		return wc_fail(e, -n, "format a log entry");
	n = rep_log_write(&s->log, s->entry, (size_t)n, sync);
	if (s->log.restored && run_once(&s->once, RUN_ONCE_LOG_EMPTIED))
		run_warn("another writer emptied the log %s (in-process diagnostics that ignore "
			 "WEATHERCOP_DISABLE_DIAGNOSTICS?): a new file with all of the runner's "
			 "entries took its place; that writer's lines are not in it", s->log_path);
	if (n < 0)
		log_lost(s, kind, u, -n);
	else
		s->log_entries++;
	return 0;
}

int run_log_entry(struct run_session *s, enum run_entry kind, const struct rep_unit *u,
		  bool sync, struct wc_error *e)
{
	return log_entry(s, kind, u, NULL, sync, e);
}

void run_log_sync(struct run_session *s)
{
	int r = s->log.fd >= 0 && s->log.can_sync ? run_logsync_ask(&s->logsync, s->log.fd) : 0;

	if (r < 0) {
		run_warn("the memory log %s could not be made durable (an entry up to its entry "
			 "%lu): %s (errno %d); later entries are not written; the summary and the "
			 "reports have every unit", s->log_path, s->log_entries, strerror(-r), -r);
		run_log_close(s);
	}
}

void run_log_close(struct run_session *s)
{
	run_logsync_stop(&s->logsync);  /* a failure now is the last entries': said by none */
	rep_log_close(&s->log);
}

int run_log_refused(struct run_session *s, const char *verb, const char *name,
		    const char *answer, struct wc_error *e)
{
	const struct refusal no = { verb, name, answer };

	return log_entry(s, RUN_ENTRY_REFUSED, NULL, &no, false, e);
}
