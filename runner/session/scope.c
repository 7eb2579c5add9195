/* The runner's own delegated scope, from the user's systemd manager (scope.h): the
 * StartTransientUnit call of `systemd-run --user --scope -p Delegate=yes`, through sd-bus. */
#include "runner/session/scope.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <systemd/sd-bus.h>

#include "cgroup/room.h"

#define SCOPE_TIMEOUT_US (25ULL * 1000 * 1000)  /* sd-bus's own default for a call */
#define SYSTEMD_DEST "org.freedesktop.systemd1"
#define SYSTEMD_PATH "/org/freedesktop/systemd1"
#define SYSTEMD_MANAGER "org.freedesktop.systemd1.Manager"

const char *run_scope_reason(bool v2, uid_t uid, bool base_given, bool writable, bool shared)
{
	/* Root builds where it is; cgroup v1 has no delegation; a base the user chose is kept. */
	if (!v2 || uid == 0 || base_given)
		return NULL;
	if (!writable)
		return "the cgroup it started in is not yours to write";
	if (shared)
		return "the cgroup it started in holds other processes, so it cannot hand memory down";
	return NULL;
}

/* The facts of run_scope_reason for h, read from cgroupfs. Returns the reason or NULL. */
static const char *run_scope_needed(const struct cg_hier *h, bool base_given)
{
	int writable = 1, shared = 0;

	if (h->version == CG_V2 && geteuid() != 0 && !base_given) {
		writable = cg_base_writable(h);
		if (writable < 0)
			return NULL;  /* a read-only mount: no scope is writable there either */
		shared = writable ? cg_base_shared(h) > 0 : 0;
	}
	return run_scope_reason(h->version == CG_V2, geteuid(), base_given, writable, shared);
}

void run_scope_name(char *buf, size_t size, pid_t pid)
{
	snprintf(buf, size, "wcmem-sandbox-%d.scope", (int)pid);
}

int run_scope_address(char *buf, size_t size, const char *path)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = (size_t)snprintf(buf, size, "unix:path=");

	/* The D-Bus spec's escaping: these bytes as they are, every other one as %XX. */
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		bool plain = (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') ||
			     (*p >= 'A' && *p <= 'Z') || strchr("-_/.\\*", *p);

		if (n + 4 > size)
			return -ENAMETOOLONG;
		if (plain) {
			buf[n++] = (char)*p;
		} else {
			buf[n++] = '%';
			buf[n++] = hex[*p >> 4];
			buf[n++] = hex[*p & 15];
		}
	}
	buf[n] = '\0';
	return 0;
}

/* The manager's private socket, as systemctl --user talks to it: no D-Bus daemon needed.
 * $XDG_RUNTIME_DIR/systemd/private, else where logind puts it (doctor looks there too).
 * Returns 0 or -errno. */
static int scope_connect_private(sd_bus **bus)
{
	const char *runtime = getenv("XDG_RUNTIME_DIR");
	char path[4096], addr[4200];
	int r;

	if (runtime && *runtime)
		snprintf(path, sizeof(path), "%s/systemd/private", runtime);
	else
		snprintf(path, sizeof(path), "/run/user/%d/systemd/private", (int)geteuid());
	r = run_scope_address(addr, sizeof(addr), path);
	if (r < 0)
		return r;
	r = sd_bus_new(bus);
	if (r < 0)
		return r;
	r = sd_bus_set_address(*bus, addr);
	if (r >= 0)
		r = sd_bus_start(*bus);
	if (r < 0)
		*bus = sd_bus_flush_close_unref(*bus);
	return r;
}

static int scope_connect(sd_bus **bus, struct wc_error *e)
{
	const char *runtime = getenv("XDG_RUNTIME_DIR"), *address;
	int r = scope_connect_private(bus);

	if (r >= 0)
		return 0;
	/* What a login session sets; without either (su, sudo -u, cron) nothing says where. */
	address = getenv("DBUS_SESSION_BUS_ADDRESS");
	if ((!runtime || !*runtime) && (!address || !*address))
		return wc_fail(e, ENOENT, "no systemd user manager to ask: neither "
				"XDG_RUNTIME_DIR nor DBUS_SESSION_BUS_ADDRESS is set");
	/* Else the session bus ($DBUS_SESSION_BUS_ADDRESS, $XDG_RUNTIME_DIR/bus), where the
	 * manager is org.freedesktop.systemd1. */
	r = sd_bus_open_user(bus);
	if (r < 0)
		return wc_fail(e, -r, "no systemd user manager: sd_bus_open_user");
	return 0;
}

/* What JobRemoved said of the job that starts the scope. */
struct scope_job {
	const char *path;   /* the job's object path, once the call has answered */
	char result[32];    /* "done" when the scope runs */
	bool removed;
};

static int scope_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret)
{
	struct scope_job *job = userdata;
	const char *path, *unit, *result;
	uint32_t id;

	(void)ret;
	if (sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) < 0)
		return 0;
	if (job->path && strcmp(path, job->path) == 0) {
		snprintf(job->result, sizeof(job->result), "%s", result);
		job->removed = true;
	}
	return 0;
}

/* StartTransientUnit(name, "fail", properties, no auxiliary units). The scope takes our pid;
 * Delegate=yes hands its cgroup to us; CollectMode unloads it once it stopped, failed or
 * not, so that nothing of it stays in the manager. */
static int scope_call(sd_bus *bus, const char *name, sd_bus_message **reply,
		      sd_bus_error *error)
{
	sd_bus_message *m = NULL;
	int r;

	r = sd_bus_message_new_method_call(bus, &m, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER,
					   "StartTransientUnit");
	if (r >= 0)
		r = sd_bus_message_append(m, "ss", name, "fail");
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "(sv)");
	if (r >= 0)
		r = sd_bus_message_append(m, "(sv)(sv)(sv)(sv)",
					  "Description", "s", "wcmem-sandbox: a memory-capped run",
					  "Delegate", "b", 1,
					  "CollectMode", "s", "inactive-or-failed",
					  "PIDs", "au", 1, (uint32_t)getpid());
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	if (r >= 0)
		r = sd_bus_message_append(m, "a(sa(sv))", 0);
	if (r >= 0)
		r = sd_bus_call(bus, m, SCOPE_TIMEOUT_US, error, reply);
	sd_bus_message_unref(m);
	return r;
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Waits (bounded) for the JobRemoved of job->path. Returns 0 or -errno. */
static int scope_wait(sd_bus *bus, struct scope_job *job)
{
	uint64_t deadline = now_us() + SCOPE_TIMEOUT_US;
	int r;

	while (!job->removed) {
		r = sd_bus_process(bus, NULL);
		if (r < 0)
			return r;
		if (r > 0)
			continue;
		if (now_us() >= deadline)
			return -ETIMEDOUT;
		r = sd_bus_wait(bus, deadline - now_us());
		if (r < 0 && r != -EINTR)
			return r;
	}
	return 0;
}

static int scope_start(sd_bus *bus, const char *name, struct wc_error *e)
{
	/* sd-bus's own cleanup helpers (sd-bus.h) free these on every return. */
	__attribute__((cleanup(sd_bus_error_free))) sd_bus_error error = SD_BUS_ERROR_NULL;
	__attribute__((cleanup(sd_bus_message_unrefp))) sd_bus_message *reply = NULL;
	__attribute__((cleanup(sd_bus_slot_unrefp))) sd_bus_slot *slot = NULL;
	struct scope_job job = { 0 };
	int r;

	/* Matched before the call, as systemd-run does: the job may end before its answer is
	 * read. A direct connection has no sender names, so match on the sender only on a bus. */
	r = sd_bus_match_signal(bus, &slot, sd_bus_is_bus_client(bus) ? SYSTEMD_DEST : NULL,
				SYSTEMD_PATH, SYSTEMD_MANAGER, "JobRemoved", scope_job_removed,
				&job);
	if (r < 0) {
		wc_fail(e, -r, "the systemd user manager: watch for JobRemoved");
		return r;
	}
	r = scope_call(bus, name, &reply, &error);
	if (r < 0) {
		wc_fail(e, -r, "the systemd user manager refused the scope %s: "
			 "StartTransientUnit%s%s", name, error.message ? ": " : "",
			 error.message ? error.message : "");
		return r;
	}
	r = sd_bus_message_read(reply, "o", &job.path);
	if (r >= 0)
		r = scope_wait(bus, &job);
	if (r < 0) {
		wc_fail(e, -r, "the systemd user manager: wait for the job starting %s", name);
		return r;
	}
	if (strcmp(job.result, "done") != 0)
		return wc_fail(e, EIO, "the systemd user manager could not start %s (its job "
			       "ended '%s')", name, job.result);
	return 0;
}

/* Asks the user's systemd manager (its private socket $XDG_RUNTIME_DIR/systemd/private,
 * else the session bus) for the delegated scope `name` holding this process, and waits until
 * the job that starts it is done: the process then runs in the scope's cgroup. Returns 0, or
 * -errno with e saying what failed ("no systemd user manager: sd_bus_open_user"). */
static int run_scope_enter(const char *name, struct wc_error *e)
{
	sd_bus *bus = NULL;
	int r;

	r = scope_connect(&bus, e);
	if (r < 0)
		return r;
	r = scope_start(bus, name, e);
	sd_bus_flush_close_unref(bus);
	return r;
}

int run_scope_join(struct cg_hier *h, bool quiet, char *why, size_t size, struct wc_error *e)
{
	const char *base = getenv("WCMEM_CGROUP_BASE");
	const char *reason = run_scope_needed(h, base && *base);
	struct wc_error se = { 0 };
	char name[64];
	int r;

	*why = '\0';
	if (!reason)
		return 0;
	run_scope_name(name, sizeof(name), getpid());
	if (run_scope_enter(name, &se) < 0)
		wc_error_text(&se, why, size);
	/* The manager moved us: /proc/self/cgroup now names the scope, our new base. Read
	 * after a failure too, in case the scope had taken us before it failed. */
	r = cg_discover(h, base, e);
	if (r < 0 || *why)
		return r;
	if (strcmp(strrchr(h->own, '/') + 1, name) != 0) {
		snprintf(why, size, "the systemd user manager started %s, but this process is in "
			 "%s", name, h->own);
		return 0;
	}
	if (!quiet)
		fprintf(stderr, "wcmem-sandbox: running in a delegated systemd scope, %s of your "
			"systemd user manager: %s\n", name, reason);
	return 0;
}

int run_scope_explain(struct wc_error *e, int r, const char *why)
{
	size_t n = strlen(e->hint);

	if (*why)
		snprintf(e->hint + n, sizeof(e->hint) - n, "%sno delegated systemd scope either: %s",
			 n ? "; " : "", why);
	return r;
}
