/* When the runner asks systemd for a delegated scope, and the D-Bus address it dials. The
 * scope itself is asked of a real systemd user manager: tests/integration/test_desktop.py, in
 * the cgroup v2 VM's user pass. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "runner/session/scope.h"

#define USER 1000

/* Only an unprivileged user on cgroup v2 whose own cgroup cannot take the sandbox asks. */
static void test_scope_reason_only_where_it_helps(void **state)
{
	(void)state;
	assert_string_equal(run_scope_reason(true, USER, false, false, false),
			    "the cgroup it started in is not yours to write");
	assert_non_null(strstr(run_scope_reason(true, USER, false, true, true),
				"holds other processes"));
	assert_null(run_scope_reason(true, USER, false, true, false));   /* delegated already */
	assert_null(run_scope_reason(true, 0, false, false, true));      /* root */
	assert_null(run_scope_reason(false, USER, false, false, true));  /* cgroup v1 */
	assert_null(run_scope_reason(true, USER, true, false, true));    /* WCMEM_CGROUP_BASE */
}

/* The private socket's path is escaped as the D-Bus spec says; too long is an error. */
static void test_scope_address_escapes_the_path(void **state)
{
	char buf[64];

	(void)state;
	assert_int_equal(run_scope_address(buf, sizeof(buf), "/run/user/1000/systemd/private"), 0);
	assert_string_equal(buf, "unix:path=/run/user/1000/systemd/private");
	assert_int_equal(run_scope_address(buf, sizeof(buf), "/tmp/a b,c=d%"), 0);
	assert_string_equal(buf, "unix:path=/tmp/a%20b%2cc%3dd%25");
	assert_int_equal(run_scope_address(buf, 20, "/run/user/1000/systemd/private"),
			 -ENAMETOOLONG);
}

static void test_scope_name_and_explain(void **state)
{
	struct wc_error e = { 0 };
	char name[64];

	(void)state;
	run_scope_name(name, sizeof(name), 4242);
	assert_string_equal(name, "wcmem-sandbox-4242.scope");
	wc_fail(&e, EACCES, "create cgroup /sys/fs/cgroup/x/wcmem-1-sup");
	wc_hint(&e, "run as root");
	assert_int_equal(run_scope_explain(&e, -EACCES, "no systemd user manager: "
					   "sd_bus_open_user: No such file or directory"), -EACCES);
	assert_string_equal(e.hint, "run as root; no delegated systemd scope either: no systemd "
			    "user manager: sd_bus_open_user: No such file or directory");
	assert_int_equal(run_scope_explain(&e, -EACCES, ""), -EACCES);  /* nothing to add */
	assert_non_null(strstr(e.hint, "either: no systemd"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scope_reason_only_where_it_helps),
		cmocka_unit_test(test_scope_address_escapes_the_path),
		cmocka_unit_test(test_scope_name_and_explain),
	};

	return cmocka_run_group_tests_name("scope", tests, NULL, NULL);
}
