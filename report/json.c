/* The JSON report, one object:
 *
 *   { "schema": "wcmem-sandbox-report/1",
 *     "session": { "command": ..., "cgroup": ..., "start": ..., "limit": ..., ...,
 *                  "not_run": [ suite names ], "not_run_reason": ... },
 *     "units": [ { "name": ..., "kind": ..., "peak": ..., "exit": {...}, "verdict": ... } ] }
 *
 * Written by hand (no library): the records are flat, and the escaping is the only subtle
 * part. Times are UTC; sizes are bytes, null when unlimited or unknown. */
#include "report/json.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "report/junit.h"
#include "report/utf8.h"
#include "report/verdict.h"

void rep_json_string(FILE *f, const char *text)
{
	uint32_t cp;
	size_t len;

	if (!text) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (const char *p = text; *p; p += len) {
		unsigned char c = (unsigned char)*p;

		len = rep_utf8_next(p, &cp);
		if (len == 0) {
			fprintf(f, "\\\\x%02x", c);  /* the text \xHH */
			len = 1;
		} else if (c == '"' || c == '\\') {
			fprintf(f, "\\%c", c);
		} else if (c == '\n') {
			fputs("\\n", f);
		} else if (c == '\r') {
			fputs("\\r", f);
		} else if (c == '\t') {
			fputs("\\t", f);
		} else if (rep_utf8_unsafe(cp)) {  /* C0, C1, bidi: never raw in a report */
			fprintf(f, "\\u%04x", (unsigned)cp);
		} else {
			fwrite(p, 1, len, f);
		}
	}
	fputc('"', f);
}

/* Bytes, or null for REP_UNLIMITED / REP_UNKNOWN (the same value). */
static void bytes(FILE *f, uint64_t v)
{
	if (v == REP_UNKNOWN)
		fputs("null", f);
	else
		fprintf(f, "%" PRIu64, v);
}

/* "2026-11-25T17:53:48.178205Z" */
static void timestamp(FILE *f, const struct timespec *ts)
{
	char buf[32];
	struct tm tm;

	gmtime_r(&ts->tv_sec, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(f, "\"%s.%06ldZ\"", buf, ts->tv_nsec / 1000);
}

static void events(FILE *f, const struct cg_events *e)
{
	fprintf(f, "{\"low\": %" PRIu64 ", \"high\": %" PRIu64 ", \"max\": %" PRIu64
		", \"oom\": %" PRIu64 ", \"oom_kill\": %" PRIu64 ", \"oom_group_kill\": %"
		PRIu64 "}", e->low, e->high, e->max, e->oom, e->oom_kill, e->oom_group_kill);
}

static void kb(FILE *f, const char *name, long v, const char *sep)
{
	if (v < 0)
		fprintf(f, "\"%s\": null%s", name, sep);
	else
		fprintf(f, "\"%s\": %ld%s", name, v, sep);
}

static void status(FILE *f, const struct rep_status *s)
{
	fputc('{', f);
	kb(f, "vm_peak_kb", s->vm_peak, ", ");
	kb(f, "vm_size_kb", s->vm_size, ", ");
	kb(f, "vm_hwm_kb", s->vm_hwm, ", ");
	kb(f, "vm_rss_kb", s->vm_rss, "}");
}

/* {"end": "exited", "code": 3, "signal": null, "status": 3}: status as a wrapper gives it. */
static void exit_info(FILE *f, const struct rep_unit *u)
{
	const char *abbrev = u->end == REP_END_SIGNALED ? sigabbrev_np(u->code) : NULL;

	switch (u->end) {
	case REP_END_EXITED:
		fprintf(f, "{\"end\": \"exited\", \"code\": %d, \"signal\": null, \"status\": %d}",
			u->code, u->code);
		return;
	case REP_END_SIGNALED:
		fprintf(f, "{\"end\": \"signaled\", \"code\": %d, \"signal\": ", u->code);
		if (abbrev)
			fprintf(f, "\"SIG%s\"", abbrev);
		else
			fputs("null", f);
		fprintf(f, ", \"status\": %d}", 128 + u->code);
		return;
	case REP_END_NOT_RUN:
		fprintf(f, "{\"end\": \"not_run\", \"code\": %d, \"signal\": null, \"status\": %d}",
			u->code, u->code);
		return;
	default:
		fputs("{\"end\": \"lost\", \"code\": null, \"signal\": null, \"status\": null}", f);
		return;
	}
}

static const char *oom_name(enum rep_oom oom)
{
	switch (oom) {
	case REP_OOM_OWN: return "\"own\"";
	case REP_OOM_SANDBOX: return "\"sandbox\"";
	case REP_OOM_SYSTEM: return "\"system\"";
	case REP_OOM_NONE: break;
	}
	return "null";
}

/* What the unit was: name, kind, cgroup, when. */
static void unit_identity(FILE *f, const struct rep_unit *u)
{
	fputs("    {\"name\": ", f);
	rep_json_string(f, u->name);
	fputs(", \"kind\": ", f);
	rep_json_string(f, u->kind);
	fputs(", \"cgroup\": ", f);
	rep_json_string(f, u->cgroup);
	fprintf(f, ", \"counters\": \"%s\",\n     \"start\": ", u->v1 ? "cgroup v1" : "cgroup v2");
	timestamp(f, &u->start);
	fprintf(f, ", \"start_elapsed\": %.6f, \"duration\": %.6f,\n", u->start_elapsed,
		u->duration);
}

/* What it used: limits, figures, counters, /proc snapshots. */
static void unit_memory(FILE *f, const struct rep_unit *u)
{
	fputs("     \"limit\": ", f);
	bytes(f, u->limit);
	fputs(", \"sandbox_limit\": ", f);
	bytes(f, u->sandbox_limit);
	fputs(", \"peak\": ", f);
	bytes(f, u->peak);
	fputs(", \"current\": ", f);
	bytes(f, u->current);
	fputs(", \"sandbox_peak\": ", f);
	bytes(f, u->sandbox_peak);
	fputs(", \"sandbox_current\": ", f);
	bytes(f, u->sandbox_current);
	fputs(",\n     \"events\": ", f);
	events(f, &u->events);
	fputs(",\n     \"sandbox_events\": ", f);
	events(f, &u->sandbox_events);
	fprintf(f, ",\n     \"pid\": %d, \"status_start\": ", u->pid);
	status(f, &u->status_start);
	fputs(", \"status_end\": ", f);
	status(f, &u->status_end);
	fputs(",\n", f);
}

/* How it ended: exit, verdict, and what the pytest plugin added. */
static void unit_end(FILE *f, const struct rep_unit *u)
{
	static const char *const outcomes[] = { "passed", "failed", "error", "skipped" };
	char verdict[REP_VERDICT_MAX];

	rep_verdict_text(u, verdict, sizeof(verdict));
	fputs("     \"exit\": ", f);
	exit_info(f, u);
	fprintf(f, ", \"timed_out\": %s, \"left_behind\": %d,\n     \"oom\": %s, "
		"\"outcome\": \"%s\", \"verdict\": ", u->timed_out ? "true" : "false",
		u->left_behind, oom_name(u->oom), outcomes[rep_outcome(u)]);
	rep_json_string(f, verdict);
	fputs(",\n     \"pytest_outcome\": ", f);
	rep_json_string(f, u->outcome);
	fputs(", \"location\": ", f);
	rep_json_string(f, u->location);
	fputs(", \"budget\": ", f);
	rep_json_string(f, u->budget);
	fputs(",\n     \"extras_start\": ", f);
	rep_json_string(f, u->extras_start);
	fputs(", \"extras_end\": ", f);
	rep_json_string(f, u->extras_end);
	fputc('}', f);
}

static void unit(FILE *f, const struct rep_unit *u)
{
	unit_identity(f, u);
	unit_memory(f, u);
	unit_end(f, u);
}

static void session(FILE *f, const struct rep_session *s)
{
	fputs("  \"session\": {\"command\": ", f);
	rep_json_string(f, s->command);
	fputs(", \"cgroup\": ", f);
	rep_json_string(f, s->cgroup);
	fputs(", \"backend\": ", f);
	rep_json_string(f, s->backend);
	fputs(",\n    \"start\": ", f);
	timestamp(f, &s->start);
	fprintf(f, ", \"duration\": %.6f,\n    \"limit\": ", s->elapsed);
	bytes(f, s->limit);
	fputs(", \"limit_origin\": ", f);  /* how the default was found; null: it was given */
	rep_json_string(f, s->limit_origin);
	if (s->shard) {  /* only in a sharded run's report: merge checks the shards */
		fputs(", \"shard\": ", f);
		rep_json_string(f, s->shard);
		fputs(", \"shard_origin\": ", f);
		rep_json_string(f, s->shard_origin);
	}
	fputs(", \"test_limit\": ", f);
	bytes(f, s->test_limit);
	fputs(", \"swap\": ", f);
	bytes(f, s->swap);
	fputs(", \"peak\": ", f);
	bytes(f, s->peak);
	fprintf(f, ",\n    \"units\": %d, \"oom_killed\": %d, \"exit_status\": %d, "
		"\"warm_moves\": %lu, \"log\": ", s->units, s->oom_killed, s->exit_status,
		s->warm_moves);
	rep_json_string(f, s->log_path);
	fputs(",\n    \"not_run\": [", f);
	for (size_t i = 0; i < s->n_not_run; i++) {
		fputs(i ? ", " : "", f);
		rep_json_string(f, s->not_run[i]);
	}
	fputs("], \"not_run_reason\": ", f);
	rep_json_string(f, s->n_not_run ? s->not_run_why : NULL);
	fputs("},\n", f);
}

int rep_json_write(FILE *f, const struct rep_unit *units, size_t n, const struct rep_session *s)
{
	fputs("{\n  \"schema\": \"" REP_JSON_SCHEMA "\",\n", f);
	session(f, s);
	fputs("  \"units\": [", f);
	for (size_t i = 0; i < n; i++) {
		fputs(i ? ",\n" : "\n", f);
		unit(f, &units[i]);
	}
	fputs(n ? "\n  ]\n}\n" : "]\n}\n", f);
	if (fflush(f) == EOF)
		return -errno;
	return ferror(f) ? -EIO : 0;
}
