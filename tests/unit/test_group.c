/* The cgroup layer's own bookkeeping, on a plain directory standing in for cgroupfs:
 * enabling memory once per parent, and watches that failed not passing for working ones.
 * cgroupfs files the kernel would make are /dev/null here (cg_fs_open_at mocked), and
 * cgroup.subtree_control reads are counted (cg_fs_read_at mocked). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "cgroup/fs.h"

static bool fake_files;      /* cg_fs_open_at gives /dev/null */
static int subtree_reads;    /* cgroup.subtree_control reads */

int __real_cg_fs_open_at(int dirfd, const char *name, int flags);
int __wrap_cg_fs_open_at(int dirfd, const char *name, int flags);
int __wrap_cg_fs_open_at(int dirfd, const char *name, int flags)
{
	if (!fake_files)
		return __real_cg_fs_open_at(dirfd, name, flags);
	return open("/dev/null", (flags & O_ACCMODE) | O_CLOEXEC);
}

int __real_cg_fs_read_at(int dirfd, const char *name, char *buf, size_t size);
int __wrap_cg_fs_read_at(int dirfd, const char *name, char *buf, size_t size);
int __wrap_cg_fs_read_at(int dirfd, const char *name, char *buf, size_t size)
{
	if (strcmp(name, "cgroup.subtree_control") != 0)
		return __real_cg_fs_read_at(dirfd, name, buf, size);
	subtree_reads++;
	return snprintf(buf, size, "memory\n");
}

static char tmp[64];

static int setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof(tmp), "/tmp/wcmem-test-group.XXXXXX");
	return mkdtemp(tmp) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	return rmdir(tmp);
}

static void hier(struct cg_hier *h, enum cg_version v)
{
	memset(h, 0, sizeof(*h));
	h->version = v;
	snprintf(h->mount, sizeof(h->mount), "%s", tmp);
	snprintf(h->base, sizeof(h->base), "%s", tmp);
	snprintf(h->own, sizeof(h->own), "%s", tmp);
}

/* A unit is made per test: its parent's subtree_control is read for the first one only. */
static void test_create_enables_memory_once_per_parent(void **state)
{
	struct cg_group parent, u[3];
	struct wc_error e;
	struct cg_hier h;

	(void)state;
	hier(&h, CG_V2);
	cg_group_init(&parent, &h);
	snprintf(parent.path, sizeof(parent.path), "%s", tmp);
	parent.dirfd = open(tmp, O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(parent.dirfd >= 0);
	fake_files = true;
	subtree_reads = 0;
	for (int i = 0; i < 3; i++) {
		char name[8];

		snprintf(name, sizeof(name), "u%d", i);
		if (cg_create(&u[i], &h, &parent, name, &e) < 0)
			fail_msg("cg_create %s: %s", name, e.msg);
	}
	fake_files = false;
	assert_int_equal(subtree_reads, 1);
	for (int i = 0; i < 3; i++)
		assert_int_equal(cg_destroy(&u[i], &e), 0);
	close(parent.dirfd);
}

/* v2: memory.events that cannot be watched leaves no inotify descriptor behind. */
static void test_v2_failed_watch_is_no_watch(void **state)
{
	struct cg_group g;
	struct wc_error e;
	struct cg_hier h;

	(void)state;
	hier(&h, CG_V2);
	cg_group_init(&g, &h);
	g.created = true;
	snprintf(g.path, sizeof(g.path), "%s/not-there", tmp);
	assert_true(cg_watch_open(&g, &e) < 0);
	assert_int_equal(g.watch_fd, -1);
}

/* v1: an eventfd that was never registered is no watch either, and says so. */
static void test_v1_unregistered_watch_is_no_watch(void **state)
{
	char path[128];
	struct cg_group g;
	struct wc_error e;
	struct cg_hier h;
	int fd;

	(void)state;
	hier(&h, CG_V1);
	cg_group_init(&g, &h);
	g.created = true;
	snprintf(g.path, sizeof(g.path), "%s", tmp);
	g.dirfd = open(tmp, O_PATH | O_DIRECTORY | O_CLOEXEC);
	/* No memory.oom_control at all. */
	assert_true(cg_watch_open(&g, &e) < 0);
	assert_int_equal(g.watch_fd, -1);
	/* memory.oom_control, but no cgroup.event_control to register with. */
	snprintf(path, sizeof(path), "%s/memory.oom_control", tmp);
	fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_true(cg_watch_open(&g, &e) < 0);
	assert_int_equal(g.watch_fd, -1);
	assert_int_equal(g.watch_aux_fd, -1);
	unlink(path);
	close(g.dirfd);
}

/* The one place a sandbox's name is made and read back (the sweep reads it). */
static void test_sandbox_name_round_trip(void **state)
{
	char buf[64];

	(void)state;
	assert_string_equal(cg_sandbox_name(4242, CG_PART_SANDBOX, buf, sizeof(buf)), "wcmem-4242");
	assert_int_equal(cg_sandbox_owner(buf), 4242);
	assert_string_equal(cg_sandbox_name(77, CG_PART_LEAF, buf, sizeof(buf)), "wcmem-77-sup");
	assert_int_equal(cg_sandbox_owner(buf), 77);
	assert_int_equal(cg_sandbox_owner("wcmem-"), 0);
	assert_int_equal(cg_sandbox_owner("wcmem-12x"), 0);
	assert_int_equal(cg_sandbox_owner("wcmem-0"), 0);
	assert_int_equal(cg_sandbox_owner("wcmem-99999999999"), 0);
	assert_int_equal(cg_sandbox_owner("other-12"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sandbox_name_round_trip),
		cmocka_unit_test_setup_teardown(test_create_enables_memory_once_per_parent, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_v2_failed_watch_is_no_watch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_v1_unregistered_watch_is_no_watch, setup,
						teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
