/* The memory timeline (report/timeline.h) as the runner writes it: beside the log, one
 * write(2) a sample, as it goes, so that a crash keeps what was sampled. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "runner/session/unit.h"

/* Opens LOG.timeline beside the log (emptied with it, unless --append). Best effort: the run
 * goes on without a timeline, with a warning. */
void run_timeline_open(struct run_session *s)
{
	char path[sizeof(s->log_path) + 16];
	struct wc_error e;

	s->timeline.fd = -1;
	if (s->log.fd < 0)
		return;
	snprintf(path, sizeof(path), "%s.timeline", s->log_path);
	if (rep_log_open(&s->timeline, path, s->opt->append, &e) < 0)
		run_warn("no memory timeline: %s: %s", e.msg, strerror(e.err));
}

static unsigned long ms_since(const struct timespec *then, const struct timespec *now)
{
	return (unsigned long)((run_ns_between(then, now) + 500000) / 1000000);
}

void run_timeline_sample(struct run_session *s, uint64_t sandbox, const struct rep_tl_unit *u,
			 size_t n)
{
	/* an "@" line of REP_TL_UNITS_MAX names and a sample of as many figures */
	char buf[REP_TL_UNITS_MAX * (REP_TL_NAME_MAX + 16) + 128];
	struct timespec now;
	int len = 0, r;

	if (s->timeline.fd < 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!s->tl_head) {
		len = rep_timeline_format_head(buf, sizeof(buf), &s->info, s->opt->interval_ns);
		if (len < 0)
			len = 0;
		s->tl_last = s->mono_start;
		s->tl_head = true;
	}
	r = rep_timeline_format_sample(buf + len, sizeof(buf) - (size_t)len, &s->tl,
				       ms_since(&s->tl_last, &now), sandbox, u, n);
	if (r < 0)
		return;
	s->tl_last = now;
	r = rep_log_write(&s->timeline, buf, (size_t)len + (size_t)r, false);
	if (r < 0) {
		run_warn("memory timeline: write: %s; no more samples are kept", strerror(-r));
		rep_log_close(&s->timeline);
	}
}
