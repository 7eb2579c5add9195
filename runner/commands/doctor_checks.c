/* Judging what `doctor` found (doctor.h): pure, so that every verdict is tested on facts. */
#include "runner/commands/doctor_checks.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define V2_TODO "cgroup v2: boot with systemd.unified_cgroup_hierarchy=1"

struct kernel_feature {
	const char *name;
	int major, minor;           /* the first kernel that has it */
	const char *without;        /* what the runner does without it */
	const char *v1;             /* what it does on cgroup v1 */
};

static const struct kernel_feature peak = { "memory.peak", 5, 19,
	"peaks are sampled from memory.current every --interval, so a short spike can be "
	"missed", NULL };
static const struct kernel_feature events_local = { "memory.events.local", 5, 2,
	"the verdict reads memory.events, which counts the OOM kills of child cgroups too",
	"the verdict reads memory.oom_control and memory.failcnt" };
static const struct kernel_feature kill = { "cgroup.kill", 5, 14,
	"the sandbox is ended by a kill loop over cgroup.procs",
	"the sandbox is ended by a kill loop over cgroup.procs" };
static const struct kernel_feature clone_into = { "clone3(CLONE_INTO_CGROUP)", 5, 7,
	"the command is forked, held at a gate, moved into its cgroup, then run",
	"the command is forked, held at a gate, moved into its cgroup, then run" };

static struct run_check *check(struct run_check *c, const char *name,
			       enum run_check_status status, const char *todo,
			       const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static struct run_check *check(struct run_check *c, const char *name,
			       enum run_check_status status, const char *todo,
			       const char *fmt, ...)
{
	va_list ap;

	c->name = name;
	c->status = status;
	va_start(ap, fmt);
	vsnprintf(c->found, sizeof(c->found), fmt, ap);
	va_end(ap);
	snprintf(c->todo, sizeof(c->todo), "%s", todo ? todo : "");
	return c + 1;
}

/* A feature of cgroup v2: its file where the runner builds, else the kernel's version. */
static struct run_check *feature(struct run_check *c, const struct run_doctor_facts *f,
				 const struct kernel_feature *k, enum cg_have have)
{
	char todo[200];
	bool by_version = have == CG_UNKNOWN && f->kernel_major > 0;

	if (f->cg.hier.version != CG_V2)
		return check(c, k->name, RUN_WARN, V2_TODO, "cgroup v1 has none: %s", k->v1);
	if (by_version)
		have = f->kernel_major > k->major ||
		       (f->kernel_major == k->major && f->kernel_minor >= k->minor) ?
		       CG_HAVE : CG_MISSING;
	if (have == CG_HAVE)
		return check(c, k->name, RUN_PASS, NULL, "there%s", by_version ?
			     " (by the kernel's version: no cgroup here to look in)" : "");
	snprintf(todo, sizeof(todo), "a kernel %d.%d or later", k->major, k->minor);
	if (have == CG_MISSING)
		return check(c, k->name, RUN_WARN, todo, "missing (Linux %d.%d): %s", k->major,
			     k->minor, k->without);
	return check(c, k->name, RUN_WARN, todo, "cannot tell: %s without it", k->without);
}

static struct run_check *version(struct run_check *c, const struct run_doctor_facts *f)
{
	const struct cg_hier *h = &f->cg.hier;

	if (h->version == CG_V2)
		return check(c, "cgroup version", RUN_PASS, NULL, "cgroup v2 at %s", h->mount);
	return check(c, "cgroup version", RUN_WARN, V2_TODO, "the memory controller is on "
		     "cgroup v1 at %s: runs work, without what v2 adds (the WARN lines below)",
		     h->mount);
}

static struct run_check *mount(struct run_check *c, const struct run_doctor_facts *f)
{
	if (!f->cg.read_only)
		return check(c, "cgroup mount", RUN_PASS, NULL, "%s is writable", f->cg.hier.mount);
	return check(c, "cgroup mount", RUN_FAIL,
		     "give the container a cgroup namespace and a writable cgroup2 mount: "
		     "docker or podman run --cgroupns=private --privileged; a privileged "
		     "Kubernetes container",
		     "%s is mounted read-only (a container)", f->cg.hier.mount);
}

static struct run_check *base(struct run_check *c, const struct run_doctor_facts *f)
{
	const struct cg_probe *p = &f->cg;

	if (p->base_writable && f->uid != 0 && p->base_owner == f->uid)
		return check(c, "cgroup to build in", RUN_PASS, NULL, "%s, delegated to you "
			     "(uid %d)", p->hier.base, (int)f->uid);
	if (p->base_writable)
		return check(c, "cgroup to build in", RUN_PASS, NULL, "%s, writable",
			     p->hier.base);
	/* The runner asks the manager for a scope by itself (scope.h): a run works. */
	if (p->hier.version == CG_V2 && f->uid != 0 && !f->base_given && !p->read_only &&
	    *f->user_manager)
		return check(c, "cgroup to build in", RUN_WARN, NULL, "%s is not yours to write: "
			     "a run asks your systemd user manager for a delegated scope and "
			     "builds there", p->hier.base);
	return check(c, "cgroup to build in", RUN_FAIL, p->hier.version == CG_V2 ?
		     "systemd-run --user --scope -p Delegate=yes -- wcmem-sandbox ..., or run as "
		     "root, or set WCMEM_CGROUP_BASE to a cgroup of yours" :
		     "cgroup v1 has no delegation (systemd-run --user cannot help): run as root, "
		     "or have root make a cgroup for you (mkdir, chown -R) and set "
		     "WCMEM_CGROUP_BASE to it",
		     "%s is not yours to write%s", p->hier.base,
		     p->read_only ? " (read-only mount)" : "");
}

static struct run_check *controller(struct run_check *c, const struct run_doctor_facts *f)
{
	const struct cg_hier *h = &f->cg.hier;

	if (h->version != CG_V2)
		return check(c, "memory controller", RUN_PASS, NULL, "the v1 memory hierarchy");
	if (f->cg.memory_in_base)
		return check(c, "memory controller", RUN_PASS, NULL, "enabled for %s", h->base);
	return check(c, "memory controller", RUN_FAIL,
		     "echo +memory > PARENT/cgroup.subtree_control as its owner, or "
		     "systemd-run -p Delegate=yes, which does it",
		     "not in %s/cgroup.controllers: the parent does not hand it down", h->base);
}

static struct run_check *memory_peak(struct run_check *c, const struct run_doctor_facts *f)
{
	if (f->cg.hier.version == CG_V2)
		return feature(c, f, &peak, f->cg.peak);
	return check(c, "memory.peak", RUN_PASS, NULL, "cgroup v1's memory.max_usage_in_bytes "
		     "serves");
}

static struct run_check *high(struct run_check *c, const struct run_doctor_facts *f)
{
	if (f->cg.hier.version == CG_V2)
		return check(c, "memory.high", RUN_PASS, NULL, "--high throttles the sandbox");
	return check(c, "memory.high", RUN_WARN, V2_TODO, "cgroup v1 has none: --high is not in "
		     "force");
}

/* Admission's pressure hold (runner/control/admit.c): the sandbox's memory.pressure. */
static struct run_check *pressure(struct run_check *c, const struct run_doctor_facts *f)
{
	static const char without[] = "a test waits for room by what the sandbox holds and the "
		"budgets alone, not while the kernel reclaims hard";
	bool old = f->kernel_major > 0 && (f->kernel_major < 4 ||
					   (f->kernel_major == 4 && f->kernel_minor < 20));

	if (f->cg.hier.version != CG_V2)
		return check(c, "memory.pressure", RUN_WARN, V2_TODO, "cgroup v1 has none: %s",
			     without);
	if (f->psi == CG_HAVE)
		return check(c, "memory.pressure", RUN_PASS, NULL, "a test waits for room while "
			     "the sandbox stalls on memory (PSI)");
	return check(c, "memory.pressure", RUN_WARN, old ? "a kernel 4.20 or later" :
		     "boot with psi=1 (a kernel built with CONFIG_PSI)", "%s: %s",
		     f->psi == CG_MISSING ? "the kernel keeps no PSI" : "cannot tell", without);
}

static struct run_check *swap(struct run_check *c, const struct run_doctor_facts *f)
{
	if (f->cg.swap == CG_HAVE)
		return check(c, "swap accounting", RUN_PASS, NULL, "--swap caps swap (0 by default)");
	return check(c, "swap accounting", RUN_WARN, f->cg.hier.version == CG_V2 ?
		     "a kernel with CONFIG_MEMCG_SWAP" : "boot with swapaccount=1",
		     "%s: the limits count memory only, and a blow-up may swap",
		     f->cg.swap == CG_MISSING ? "off" : "cannot tell");
}

static struct run_check *dynmods(struct run_check *c, const struct run_doctor_facts *f)
{
	if (f->cg.hier.version != CG_V2)
		return check(c, "favordynmods", RUN_WARN, V2_TODO, "cgroup v1 has none: a "
			     "test that starts over a second after the last one waits some "
			     "milliseconds to move into its cgroup");
	if (f->cg.favordynmods)
		return check(c, "favordynmods", RUN_PASS, NULL, "set on %s", f->cg.hier.mount);
	return check(c, "favordynmods", RUN_WARN, "mount -o remount,favordynmods /sys/fs/cgroup "
		     "(Linux 6.0), as root", "not set: a test that starts over a second after "
		     "the last one waits some milliseconds to move into its cgroup");
}

/* Whether a test of the runner's own user can move itself out of the sandbox (README,
 * Security model): on v2 the kernel refuses it across the command's cgroup namespace when
 * the mount has nsdelegate. */
static struct run_check *boundary(struct run_check *c, const struct run_doctor_facts *f)
{
	if (f->cg.hier.version != CG_V2)
		return check(c, "test boundary", RUN_WARN, V2_TODO, "cgroup v1: a test may move "
			     "itself into any memory cgroup its user may write, out of the "
			     "sandbox's limits");
	if (f->cg.nsdelegate)
		return check(c, "test boundary", RUN_PASS, NULL, "nsdelegate on %s: no test "
			     "can move out of its cgroup namespace, the sandbox", f->cg.hier.mount);
	return check(c, "test boundary", RUN_WARN, "mount -o remount,nsdelegate /sys/fs/cgroup, "
		     "as root (systemd mounts it so)", "no nsdelegate on %s: a test may move "
		     "itself into any cgroup its user may write, out of the sandbox's limits",
		     f->cg.hier.mount);
}

static struct run_check *manager(struct run_check *c, const struct run_doctor_facts *f)
{
	if (*f->user_manager)
		return check(c, "systemd user manager", RUN_PASS, NULL, "at %s: it gives a "
			     "delegated scope to a run that needs one", f->user_manager);
	if (f->cg.base_writable)
		return check(c, "systemd user manager", RUN_PASS, NULL, "none found; not needed "
			     "here, the cgroup is writable");
	return check(c, "systemd user manager", RUN_WARN, "log in through systemd-logind (a "
		     "desktop or ssh session), or loginctl enable-linger", "none found "
		     "($XDG_RUNTIME_DIR/systemd/private): no one can delegate a cgroup to you");
}

static struct run_check *namespace(struct run_check *c, const struct run_doctor_facts *f)
{
	if (f->cg.cgroupns == CG_HAVE)
		return check(c, "cgroup namespace", RUN_PASS, NULL, "inside one (a container): "
			     "its cgroup tree is the one to build in");
	if (f->cg.cgroupns == CG_MISSING)
		return check(c, "cgroup namespace", RUN_PASS, NULL, "the host's (none of its own)");
	return check(c, "cgroup namespace", RUN_WARN, NULL, "cannot tell (Linux 4.6 has them)");
}

size_t run_doctor_evaluate(const struct run_doctor_facts *f, struct run_check *c)
{
	struct run_check *end = c;

	if (!f->found) {
		end = check(end, "cgroup", RUN_FAIL, f->base_given ?
			    "set WCMEM_CGROUP_BASE to a cgroup folder below the memory "
			    "controller's mount, or unset it" : "mount cgroup2 on /sys/fs/cgroup "
			    "(a container: give it a cgroup namespace, e.g. --cgroupns=private)",
			    "%s", f->why);
		return (size_t)(namespace(end, f) - c);
	}
	end = version(end, f);
	end = mount(end, f);
	end = base(end, f);
	end = controller(end, f);
	end = memory_peak(end, f);
	end = feature(end, f, &events_local, f->cg.events_local);
	end = feature(end, f, &kill, f->cg.kill);
	end = feature(end, f, &clone_into, f->cg.clone_into);
	end = high(end, f);
	end = pressure(end, f);
	end = swap(end, f);
	end = dynmods(end, f);
	end = boundary(end, f);
	end = manager(end, f);
	end = namespace(end, f);
	return (size_t)(end - c);
}

int run_doctor_ok(const struct run_check *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (c[i].status == RUN_FAIL)
			return 0;
	return 1;
}

int run_parse_kernel_release(const char *release, int *major, int *minor)
{
	int n = 0;

	if (sscanf(release, "%d.%d%n", major, minor, &n) != 2 || n == 0 || *major <= 0 ||
	    *minor < 0)
		return -EINVAL;
	return 0;
}
