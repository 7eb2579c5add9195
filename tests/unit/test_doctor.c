/* `doctor`'s verdicts on probe facts: what passes, warns and fails, and what it says to do. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>

#include "runner/commands/doctor.h"
#include "unit.h"

/* A v2 machine where everything is there: root, a recent kernel, a writable cgroup. */
static void modern_v2(struct run_doctor_facts *f)
{
	memset(f, 0, sizeof(*f));
	f->found = 1;
	f->cg.hier.version = CG_V2;
	snprintf(f->cg.hier.mount, sizeof(f->cg.hier.mount), "/sys/fs/cgroup");
	snprintf(f->cg.hier.base, sizeof(f->cg.hier.base), "/sys/fs/cgroup/user.slice/x.scope");
	f->cg.base_writable = true;
	f->cg.memory_in_base = true;
	f->cg.peak = f->cg.events_local = f->cg.kill = f->cg.swap = CG_HAVE;
	f->cg.clone_into = CG_HAVE;
	f->cg.favordynmods = true;
	f->cg.nsdelegate = true;
	f->cg.cgroupns = CG_MISSING;
	f->kernel_major = 6;
	f->kernel_minor = 1;
	f->psi = CG_HAVE;
}

/* This development host: the memory controller on v1 (hybrid), root. */
static void hybrid_v1(struct run_doctor_facts *f)
{
	modern_v2(f);
	f->cg.hier.version = CG_V1;
	snprintf(f->cg.hier.mount, sizeof(f->cg.hier.mount), "/sys/fs/cgroup/memory");
	snprintf(f->cg.hier.base, sizeof(f->cg.hier.base), "/sys/fs/cgroup/memory/ci");
	f->cg.events_local = f->cg.kill = f->cg.clone_into = CG_MISSING;
	f->cg.favordynmods = f->cg.nsdelegate = false;
}

/* The check called name; fails the test when there is none. */
static const struct run_check *find(const struct run_check *c, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(c[i].name, name) == 0)
			return &c[i];
	fail_msg("no check called %s among %zu", name, n);
	return NULL;
}

/* The check is status, and found and todo hold the given words (NULL: todo is empty). */
static void expect(const struct run_check *c, size_t n, const char *name,
		   enum run_check_status status, const char *found, const char *todo)
{
	const struct run_check *k = find(c, n, name);

	if (k->status != status || !strstr(k->found, found) ||
	    (todo ? !strstr(k->todo, todo) : *k->todo != '\0'))
		fail_msg("%s: %d \"%s\" (to do \"%s\"), want %d with \"%s\" (to do \"%s\")", name,
			 (int)k->status, k->found, k->todo, (int)status, found, todo ? todo : "");
}

/* Every check passes on a recent pure v2 machine. */
static void test_doctor_all_pass_on_modern_v2(void **state)
{
	struct run_check c[RUN_DOCTOR_MAX];
	struct run_doctor_facts f;
	size_t n;

	(void)state;
	modern_v2(&f);
	n = run_doctor_evaluate(&f, c);
	assert_int_equal(n, 15);
	for (size_t i = 0; i < n; i++)
		if (c[i].status != RUN_PASS)
			fail_msg("%s: %s", c[i].name, c[i].found);
	assert_true(run_doctor_ok(c, n));
}

/* On v1 a run works, and each v2 feature it lacks is a warning by name (golden text). */
static void test_doctor_names_what_v1_cannot(void **state)
{
	struct run_check c[RUN_DOCTOR_MAX];
	struct run_doctor_facts f;
	char *text = NULL;
	size_t n, len = 0;
	FILE *out;

	(void)state;
	hybrid_v1(&f);
	n = run_doctor_evaluate(&f, c);
	assert_true(run_doctor_ok(c, n));
	expect(c, n, "cgroup version", RUN_WARN, "cgroup v1", "unified_cgroup_hierarchy=1");
	expect(c, n, "memory.peak", RUN_PASS, "max_usage_in_bytes", NULL);
	expect(c, n, "memory.events.local", RUN_WARN, "cgroup v1 has none", "cgroup v2");
	expect(c, n, "cgroup.kill", RUN_WARN, "cgroup v1 has none", "cgroup v2");
	expect(c, n, "clone3(CLONE_INTO_CGROUP)", RUN_WARN, "cgroup v1 has none", "cgroup v2");
	expect(c, n, "memory.high", RUN_WARN, "--high is not in force", "cgroup v2");
	expect(c, n, "memory.pressure", RUN_WARN, "cgroup v1 has none", "cgroup v2");
	expect(c, n, "favordynmods", RUN_WARN, "cgroup v1 has none", "cgroup v2");
	expect(c, n, "test boundary", RUN_WARN, "cgroup v1: a test may move itself", "cgroup v2");
	out = open_memstream(&text, &len);
	assert_int_equal(run_doctor_write_text(out, c, n), 0);
	fclose(out);
	unit_assert_golden(text, "golden/doctor_v1.txt");
	free(text);
}

/* An old v2 kernel: missing files are warnings naming the version that has them; with no
 * cgroup but the root to look in, the kernel's version decides. */
static void test_doctor_old_kernel_features(void **state)
{
	struct run_check c[RUN_DOCTOR_MAX];
	struct run_doctor_facts f;
	size_t n;

	(void)state;
	modern_v2(&f);
	f.kernel_major = 5;
	f.kernel_minor = 10;
	f.cg.peak = CG_MISSING;
	f.cg.kill = CG_UNKNOWN;
	f.cg.events_local = CG_UNKNOWN;
	f.cg.favordynmods = false;
	n = run_doctor_evaluate(&f, c);
	assert_true(run_doctor_ok(c, n));
	expect(c, n, "memory.peak", RUN_WARN, "missing (Linux 5.19)", "a kernel 5.19 or later");
	expect(c, n, "cgroup.kill", RUN_WARN, "missing (Linux 5.14): the sandbox is ended by a "
	       "kill loop", "5.14");
	expect(c, n, "memory.events.local", RUN_PASS, "by the kernel's version", NULL);
	expect(c, n, "favordynmods", RUN_WARN, "not set", "remount,favordynmods");
	f.cg.nsdelegate = false;
	n = run_doctor_evaluate(&f, c);
	expect(c, n, "test boundary", RUN_WARN, "no nsdelegate on /sys/fs/cgroup: a test may "
	       "move itself", "remount,nsdelegate");
	f.kernel_major = 0;  /* not even the version known */
	n = run_doctor_evaluate(&f, c);
	expect(c, n, "cgroup.kill", RUN_WARN, "cannot tell", "5.14");
}

/* A user without a cgroup of their own: the run would fail, and doctor says how to get one;
 * a delegated cgroup passes and says so. */
/* v2 without PSI: the pressure hold is off, and what to do depends on the kernel. */
static void test_doctor_pressure_without_psi(void **state)
{
	struct run_check c[RUN_DOCTOR_MAX];
	struct run_doctor_facts f;
	size_t n;

	(void)state;
	modern_v2(&f);
	f.psi = CG_MISSING;
	n = run_doctor_evaluate(&f, c);
	assert_true(run_doctor_ok(c, n));
	expect(c, n, "memory.pressure", RUN_WARN, "the kernel keeps no PSI", "boot with psi=1");
	f.kernel_major = 4;
	f.kernel_minor = 19;
	n = run_doctor_evaluate(&f, c);
	expect(c, n, "memory.pressure", RUN_WARN, "budgets alone", "a kernel 4.20 or later");
	f.psi = CG_UNKNOWN;
	f.kernel_major = 6;
	n = run_doctor_evaluate(&f, c);
	expect(c, n, "memory.pressure", RUN_WARN, "cannot tell", "psi=1");
}

static void test_doctor_user_without_and_with_delegation(void **state)
{
	struct run_check c[RUN_DOCTOR_MAX];
	struct run_doctor_facts f;
	size_t n;

	(void)state;
	modern_v2(&f);
	f.uid = 1000;
	f.cg.base_writable = false;
	n = run_doctor_evaluate(&f, c);
	assert_false(run_doctor_ok(c, n));
	expect(c, n, "cgroup to build in", RUN_FAIL, "is not yours to write",
	       "systemd-run --user --scope -p Delegate=yes");
	expect(c, n, "systemd user manager", RUN_WARN, "none found", "enable-linger");
	/* With a manager to ask, the run gets a scope of its own. */
	snprintf(f.user_manager, sizeof(f.user_manager), "/run/user/1000/systemd/private");
	n = run_doctor_evaluate(&f, c);
	assert_true(run_doctor_ok(c, n));
	expect(c, n, "cgroup to build in", RUN_WARN, "asks your systemd user manager for a "
	       "delegated scope", NULL);
	f.base_given = true;  /* WCMEM_CGROUP_BASE: built there or nowhere */
	n = run_doctor_evaluate(&f, c);
	expect(c, n, "cgroup to build in", RUN_FAIL, "is not yours to write", "systemd-run");
	f.base_given = false;
	f.cg.base_writable = true;
	f.cg.base_owner = 1000;
	n = run_doctor_evaluate(&f, c);
	assert_true(run_doctor_ok(c, n));
	expect(c, n, "cgroup to build in", RUN_PASS, "delegated to you (uid 1000)", NULL);
	expect(c, n, "systemd user manager", RUN_PASS, "/run/user/1000/systemd/private", NULL);
}

/* A container: its namespace is fine, a read-only mount is not, and the flags that fix it
 * are named; no memory controller handed down is a failure too. */
static void test_doctor_containers_and_controllers(void **state)
{
	struct run_check c[RUN_DOCTOR_MAX];
	struct run_doctor_facts f;
	size_t n;

	(void)state;
	modern_v2(&f);
	f.cg.cgroupns = CG_HAVE;
	f.cg.read_only = true;
	f.cg.base_writable = false;
	n = run_doctor_evaluate(&f, c);
	assert_false(run_doctor_ok(c, n));
	expect(c, n, "cgroup namespace", RUN_PASS, "inside one (a container)", NULL);
	expect(c, n, "cgroup mount", RUN_FAIL, "read-only", "--cgroupns=private");
	modern_v2(&f);
	f.cg.memory_in_base = false;
	n = run_doctor_evaluate(&f, c);
	assert_false(run_doctor_ok(c, n));
	expect(c, n, "memory controller", RUN_FAIL, "cgroup.controllers", "+memory");
}

/* No cgroup found at all: one failure saying why, and what to do. */
static void test_doctor_no_cgroup(void **state)
{
	struct run_check c[RUN_DOCTOR_MAX];
	struct run_doctor_facts f;
	size_t n;

	(void)state;
	memset(&f, 0, sizeof(f));
	snprintf(f.why, sizeof(f.why), "find the memory controller");
	n = run_doctor_evaluate(&f, c);
	assert_int_equal(n, 2);
	assert_false(run_doctor_ok(c, n));
	expect(c, n, "cgroup", RUN_FAIL, "find the memory controller", "mount cgroup2");
	f.base_given = true;
	n = run_doctor_evaluate(&f, c);
	expect(c, n, "cgroup", RUN_FAIL, "find the memory controller", "WCMEM_CGROUP_BASE");
}

/* JSON: a schema, ok, and each check; an empty "to do" is null. */
static void test_doctor_json(void **state)
{
	struct run_check c[RUN_DOCTOR_MAX];
	struct run_doctor_facts f;
	char *text = NULL;
	size_t n, len = 0;
	FILE *out;

	(void)state;
	hybrid_v1(&f);
	n = run_doctor_evaluate(&f, c);
	out = open_memstream(&text, &len);
	assert_int_equal(run_doctor_write_json(out, c, n), 0);
	fclose(out);
	assert_non_null(strstr(text, "{\"schema\": \"wcmem-sandbox-doctor/1\", \"ok\": true, "));
	assert_non_null(strstr(text, "{\"name\": \"cgroup.kill\", \"status\": \"warn\", "
			       "\"found\": \"cgroup v1 has none: "));
	assert_non_null(strstr(text, "\"status\": \"pass\", \"found\": \"the v1 memory "
			       "hierarchy\", \"todo\": null}"));
	free(text);
}

/* uname's release: major and minor, whatever follows. */
static void test_doctor_kernel_release(void **state)
{
	int major = 0, minor = 0;

	(void)state;
	assert_int_equal(run_parse_kernel_release("6.18.44-fc-v669", &major, &minor), 0);
	assert_int_equal(major, 6);
	assert_int_equal(minor, 18);
	assert_int_equal(run_parse_kernel_release("5.4.0-150-generic", &major, &minor), 0);
	assert_int_equal(minor, 4);
	assert_int_equal(run_parse_kernel_release("6", &major, &minor), -EINVAL);
	assert_int_equal(run_parse_kernel_release("x.y", &major, &minor), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_doctor_all_pass_on_modern_v2),
		cmocka_unit_test(test_doctor_names_what_v1_cannot),
		cmocka_unit_test(test_doctor_old_kernel_features),
		cmocka_unit_test(test_doctor_pressure_without_psi),
		cmocka_unit_test(test_doctor_user_without_and_with_delegation),
		cmocka_unit_test(test_doctor_containers_and_controllers),
		cmocka_unit_test(test_doctor_no_cgroup),
		cmocka_unit_test(test_doctor_json),
		cmocka_unit_test(test_doctor_kernel_release),
	};

	return cmocka_run_group_tests_name("doctor", tests, NULL, NULL);
}
