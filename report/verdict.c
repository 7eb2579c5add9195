/* The verdict: which limit an OOM kill came from, and how to say it. */
#include "report/verdict.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

/* A limit was reached when the peak came within this much of it: a charge that fails
 * leaves usage below the limit by less than one charge (a batch of pages, a huge page). */
#define REP_REACHED_SLACK (4u << 20)

static bool reached(uint64_t peak, uint64_t limit)
{
	return limit != REP_UNLIMITED && peak != REP_UNKNOWN && peak + REP_REACHED_SLACK >= limit;
}

enum rep_oom rep_verdict_oom(const struct rep_unit *u)
{
	if (u->events.oom_kill == 0)
		return REP_OOM_NONE;
	if (u->v1) {
		/* v1 has no "oom" counter. failcnt counts hits on a cgroup's own limit, but recent
		 * kernels count it for the memory counter alone, and with swap accounting the
		 * memory+swap counter is charged (and fails) first: so a peak that reached the
		 * limit says the same. */
		if (u->events.max > 0 || reached(u->peak, u->limit))
			return REP_OOM_OWN;
		if (u->sandbox_events.max > 0 || reached(u->sandbox_peak, u->sandbox_limit))
			return REP_OOM_SANDBOX;
		return REP_OOM_SYSTEM;
	}
	/* The kernel counts "oom" where the limit was hit. A unit whose limit equals the
	 * sandbox's hits the sandbox's first (the unit's own kernel memory is charged to its
	 * parent): a peak that reached the unit's limit says it was the unit's own. */
	if (u->events.oom > 0 || reached(u->peak, u->limit))
		return REP_OOM_OWN;
	if (u->sandbox_events.oom > 0)
		return REP_OOM_SANDBOX;
	return REP_OOM_SYSTEM;
}

/* Bytes in units of 2^shift with one decimal, rounded half up in integers: a double would
 * do, but integers give the same text on every machine. */
static int format_tenths(uint64_t bytes, unsigned shift, const char *unit, char *buf,
			 size_t size)
{
	uint64_t mask = ((uint64_t)1 << shift) - 1, whole = bytes >> shift;
	uint64_t tenths = (uint64_t)(((unsigned __int128)(bytes & mask) * 10 +
				      ((uint64_t)1 << (shift - 1))) >> shift);

	if (tenths == 10) {
		whole++;
		tenths = 0;
	}
	return snprintf(buf, size, "%llu.%llu %s", (unsigned long long)whole,
			(unsigned long long)tenths, unit);
}

/* UINT64_MAX is "max": this formats limits; callers print measured figures that are
 * REP_UNKNOWN themselves. */
int rep_format_mb(uint64_t bytes, char *buf, size_t size)
{
	if (bytes == REP_UNLIMITED)
		return snprintf(buf, size, "max");
	return format_tenths(bytes, 20, "MB", buf, size);
}

/* As free(1) -h and systemctl status do: the unit that keeps the figure under 1024, with
 * the binary names the kernel's documents use (KiB, MiB, GiB). */
static const struct { unsigned shift; const char *name; } size_units[] = {
	{ 60, "EiB" }, { 50, "PiB" }, { 40, "TiB" }, { 30, "GiB" }, { 20, "MiB" }, { 10, "KiB" },
};

static size_t size_unit(uint64_t bytes)
{
	size_t i = 0;

	while (i + 1 < sizeof(size_units) / sizeof(size_units[0]) &&
	       bytes < ((uint64_t)1 << size_units[i].shift))
		i++;
	return i;
}

int rep_format_size(uint64_t bytes, char *buf, size_t size)
{
	size_t i = size_unit(bytes);

	if (bytes == REP_UNLIMITED)
		return snprintf(buf, size, "max");
	return format_tenths(bytes, size_units[i].shift, size_units[i].name, buf, size);
}

bool rep_over_budget(const struct rep_unit *u)
{
	return u->budget && u->oom == REP_OOM_OWN;
}

bool rep_under_half_budget(const struct rep_unit *u)
{
	return u->budget && u->oom == REP_OOM_NONE && u->peak != REP_UNKNOWN &&
	       u->limit != REP_UNLIMITED && u->peak < u->limit / 2;
}

int rep_format_limit(uint64_t bytes, char *buf, size_t size)
{
	if (bytes != REP_UNLIMITED && (bytes & 0xfffff) == 0)
		return snprintf(buf, size, "%llu MB", (unsigned long long)(bytes >> 20));
	return rep_format_mb(bytes, buf, size);
}

int rep_format_size_limit(uint64_t bytes, char *buf, size_t size)
{
	size_t i = size_unit(bytes);
	uint64_t mask = ((uint64_t)1 << size_units[i].shift) - 1;

	if (bytes == REP_UNLIMITED || bytes == 0 || (bytes & mask) != 0)
		return rep_format_size(bytes, buf, size);
	return snprintf(buf, size, "%llu %s", (unsigned long long)(bytes >> size_units[i].shift),
			size_units[i].name);
}

static const char *const oom_table[] = {
	[REP_OOM_NONE] = "not by the OOM killer",
	[REP_OOM_OWN] = "own limit",
	[REP_OOM_SANDBOX] = "the sandbox total",
	[REP_OOM_SYSTEM] = "by the system",
};

const char *rep_oom_to_string(enum rep_oom oom)
{
	return (unsigned)oom < sizeof(oom_table) / sizeof(oom_table[0]) ? oom_table[oom] : "unknown";
}

/* A size in the log's words or in people's. */
static int format_in(enum rep_units units, uint64_t bytes, char *buf, size_t size)
{
	return units == REP_UNITS_LOG ? rep_format_mb(bytes, buf, size) :
	       rep_format_size(bytes, buf, size);
}

static int oom_reason(enum rep_oom oom, uint64_t limit, const char *budget,
		      uint64_t sandbox_limit, bool in_parens, enum rep_units units, char *buf,
		      size_t size)
{
	char mb[32];

	switch (oom) {
	case REP_OOM_OWN:
		if (budget) {  /* a budget file's line set it: say which, for review */
			(units == REP_UNITS_LOG ? rep_format_limit : rep_format_size_limit)(
				limit, mb, sizeof(mb));
			return snprintf(buf, size, "exceeded its budget %s (%s)", mb, budget);
		}
		format_in(units, limit, mb, sizeof(mb));
		return snprintf(buf, size, "exceeded its own limit %s", mb);
	case REP_OOM_SANDBOX:
		if (sandbox_limit == 0 || sandbox_limit == REP_UNKNOWN)  /* a log that lacks it */
			return snprintf(buf, size, "the sandbox total was reached");
		format_in(units, sandbox_limit, mb, sizeof(mb));
		return snprintf(buf, size, "the sandbox total %s was reached", mb);
	case REP_OOM_SYSTEM:
		return snprintf(buf, size, in_parens ?
				"by the system: a limit outside the sandbox, or the machine ran out" :
				"by the system (a limit outside the sandbox, or the machine ran out)");
	case REP_OOM_NONE:
		break;
	}
	return snprintf(buf, size, "none");
}

int rep_oom_reason(enum rep_oom oom, uint64_t limit, const char *budget, uint64_t sandbox_limit,
		   bool in_parens, char *buf, size_t size)
{
	return oom_reason(oom, limit, budget, sandbox_limit, in_parens, REP_UNITS_LOG, buf, size);
}

int rep_oom_reason_said(enum rep_oom oom, uint64_t limit, const char *budget,
			uint64_t sandbox_limit, char *buf, size_t size)
{
	return oom_reason(oom, limit, budget, sandbox_limit, false, REP_UNITS_PEOPLE, buf, size);
}

int rep_verdict_reason(const struct rep_unit *u, char *buf, size_t size)
{
	return rep_oom_reason(u->oom, u->limit, u->budget, u->sandbox_limit, false, buf, size);
}

int rep_verdict_reason_said(const struct rep_unit *u, char *buf, size_t size)
{
	return rep_oom_reason_said(u->oom, u->limit, u->budget, u->sandbox_limit, buf, size);
}

/* "SIGKILL", or "signal 70" for a number without a name. */
static void signal_name(int sig, char *buf, size_t size)
{
	const char *abbrev = sigabbrev_np(sig);  /* glibc 2.32 */

	if (abbrev)
		snprintf(buf, size, "SIG%s", abbrev);
	else
		snprintf(buf, size, "signal %d", sig);
}

static int verdict_text(const struct rep_unit *u, enum rep_units units, char *buf, size_t size)
{
	char how[64], why[REP_VERDICT_MAX];

	oom_reason(u->oom, u->limit, u->budget, u->sandbox_limit, false, units, why, sizeof(why));
	switch (u->end) {
	case REP_END_NOT_RUN:
		if (u->code == 127)
			return snprintf(buf, size, "not started: command not found");
		if (u->code == 126)
			return snprintf(buf, size, "not started: command not executable");
		if (u->error)
			return snprintf(buf, size, "not started: %s", u->error);
		if (u->code == 125)
			return snprintf(buf, size, "not started: wcmem-sandbox failed first");
		return snprintf(buf, size, "not started (code %d)", u->code);
	case REP_END_SIGNALED:
		/* The OOM killer always sends SIGKILL: any other signal came from elsewhere. */
		if (u->code == SIGKILL && u->oom != REP_OOM_NONE)
			return snprintf(buf, size, "OOM-killed: %s", why);
		signal_name(u->code, how, sizeof(how));
		if (u->timed_out && u->oom == REP_OOM_NONE)
			return snprintf(buf, size, "killed by %s at its time limit", how);
		if (u->code == SIGKILL && u->oom == REP_OOM_NONE)
			return snprintf(buf, size, "killed by %s, not by the OOM killer", how);
		if (u->oom == REP_OOM_NONE)
			return snprintf(buf, size, "killed by %s", how);
		return snprintf(buf, size, "killed by %s; a process was OOM-killed: %s", how, why);
	case REP_END_LOST:
		if (u->oom != REP_OOM_NONE)
			return snprintf(buf, size, "OOM-killed: %s", why);
		return snprintf(buf, size, "ended without reporting (exit status unknown)");
	case REP_END_EXITED:
		break;
	}
	if (u->oom == REP_OOM_NONE && u->outcome)
		return snprintf(buf, size, "%s", u->outcome);  /* a test: pytest's word */
	if (u->oom == REP_OOM_NONE)
		return snprintf(buf, size, "exited %d", u->code);
	return snprintf(buf, size, "exited %d; a process was OOM-killed: %s", u->code, why);
}

int rep_verdict_text(const struct rep_unit *u, char *buf, size_t size)
{
	return verdict_text(u, REP_UNITS_LOG, buf, size);
}

int rep_verdict_said(const struct rep_unit *u, char *buf, size_t size)
{
	return verdict_text(u, REP_UNITS_PEOPLE, buf, size);
}
