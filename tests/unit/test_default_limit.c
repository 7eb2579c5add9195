/* The built-in --limit: MemAvailable and the enclosing cgroups' headroom less a reserve, at
 * most 80% of physical memory; and where the figure came from. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>

#include "runner/config/default_limit.h"
#include "runner/config/size.h"
#include "unit.h"

#define KIB UINT64_C(1024)
#define MIB (KIB * 1024)
#define GIB (MIB * 1024)

/* MemAvailable of a fixture, which must have it. */
static uint64_t available_of(const char *fixture)
{
	char *text = unit_fixture(fixture);
	uint64_t bytes = 0;
	int r = cfg_meminfo_field(text, "MemAvailable", &bytes);

	free(text);
	if (r != 0)
		fail_msg("%s: cfg_meminfo_field(MemAvailable) = %d, want 0", fixture, r);
	return bytes;
}

/* The default and its text, compared with what is wanted; prints both when they differ. */
static void expect_default(uint64_t physical, uint64_t available, uint64_t headroom,
			   uint64_t want, const char *want_text)
{
	struct cfg_default_limit d;
	char text[200];

	cfg_default_limit(physical, available, headroom, &d);
	cfg_default_limit_text(&d, text, sizeof(text));
	if (d.bytes != want || strcmp(text, want_text) != 0)
		fail_msg("default %llu bytes \"%s\", want %llu \"%s\"", (unsigned long long)d.bytes,
			 text, (unsigned long long)want, want_text);
}

/* Fields of a captured /proc/meminfo, in bytes; a key is matched whole. */
static void test_meminfo_fields_of_a_capture(void **state)
{
	char *text = unit_fixture("fixtures/meminfo/host-24g");
	uint64_t v = 0;

	(void)state;
	assert_int_equal(cfg_meminfo_field(text, "MemTotal", &v), 0);
	assert_int_equal(v, UINT64_C(24684084) * KIB);
	assert_int_equal(cfg_meminfo_field(text, "MemAvailable", &v), 0);
	assert_int_equal(v, UINT64_C(23651072) * KIB);
	assert_int_equal(cfg_meminfo_field(text, "Mem", &v), -ENOENT);
	assert_int_equal(cfg_meminfo_field(text, "Available", &v), -ENOENT);
	free(text);
}

/* Kernels before 3.14 have no MemAvailable; a line that is not "N kB" is refused. */
static void test_meminfo_missing_and_malformed(void **state)
{
	char *text = unit_fixture("fixtures/meminfo/before-3.14");
	uint64_t v = 7;

	(void)state;
	assert_int_equal(cfg_meminfo_field(text, "MemAvailable", &v), -ENOENT);
	assert_int_equal(v, 7);
	free(text);
	assert_int_equal(cfg_meminfo_field("MemAvailable: lots\n", "MemAvailable", &v), -EINVAL);
	assert_int_equal(cfg_meminfo_field("MemAvailable: 12 MB\n", "MemAvailable", &v), -EINVAL);
	assert_int_equal(cfg_meminfo_field("MemAvailable: 99999999999999999999 kB\n",
					   "MemAvailable", &v), -EINVAL);
	assert_int_equal(cfg_meminfo_field("", "MemAvailable", &v), -ENOENT);
}

/* A 16 GB desktop with 6 GB in use: what is available less a 1 GiB reserve, not 12.8 GB. */
static void test_default_leaves_the_desktop_room(void **state)
{
	(void)state;
	expect_default(16 * GIB, available_of("fixtures/meminfo/laptop-16g-6g-used"),
		       CFG_SIZE_MAX, 9 * GIB,
		       "MemAvailable 10.0 GiB less a 1.0 GiB reserve");
}

/* An idle machine: 80% of physical memory caps what is available less the reserve. */
static void test_default_is_at_most_80_percent_of_physical(void **state)
{
	uint64_t phys = UINT64_C(24684084) * KIB;

	(void)state;
	expect_default(phys, available_of("fixtures/meminfo/host-24g"), CFG_SIZE_MAX,
		       phys / 100 * 80, "80% of physical memory 23.5 GiB, as MemAvailable "
		       "22.6 GiB less a 1.0 GiB reserve is more");
}

/* A tighter enclosing cgroup (a user slice's MemoryMax, a container) wins over the machine. */
static void test_default_within_the_enclosing_cgroup(void **state)
{
	(void)state;
	expect_default(16 * GIB, 10 * GIB, 3 * GIB + 5 * KIB, 2 * GIB,
		       "the enclosing cgroup's headroom 3.0 GiB less a 1.0 GiB reserve");
	/* Its headroom above MemAvailable: the machine is what bounds the run. */
	expect_default(16 * GIB, 10 * GIB, 12 * GIB, 9 * GIB,
		       "MemAvailable 10.0 GiB less a 1.0 GiB reserve");
}

/* The reserve is 10% of physical memory on a small machine; with no more than that free,
 * half of what is free (a cap, not a run that cannot start). */
static void test_default_on_a_small_or_full_machine(void **state)
{
	(void)state;
	expect_default(2 * GIB, 1 * GIB, CFG_SIZE_MAX, 819 * MIB,
		       "MemAvailable 1.0 GiB less a 204.8 MiB reserve");
	expect_default(2 * GIB, 150 * MIB, CFG_SIZE_MAX, 75 * MIB,
		       "half of MemAvailable 150.0 MiB, no more than the 204.8 MiB reserve");
	expect_default(2 * GIB, 1 * GIB, 0, 1 * MIB,
		       "half of the enclosing cgroup's headroom 0.0 KiB, no more than the 204.8 MiB "
		       "reserve");
}

/* Without MemAvailable (before 3.14) it is 80% of physical memory, as it always was; with
 * nothing known at all, no limit. */
static void test_default_when_little_is_known(void **state)
{
	(void)state;
	expect_default(16 * GIB, 0, CFG_SIZE_MAX, 16 * GIB / 100 * 80,
		       "80% of physical memory 16.0 GiB (MemAvailable unknown)");
	expect_default(16 * GIB, 0, 4 * GIB, 3 * GIB,
		       "the enclosing cgroup's headroom 4.0 GiB less a 1.0 GiB reserve");
	expect_default(0, 0, CFG_SIZE_MAX, CFG_SIZE_MAX,
		       "no limit: neither physical memory nor MemAvailable is known");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_meminfo_fields_of_a_capture),
		cmocka_unit_test(test_meminfo_missing_and_malformed),
		cmocka_unit_test(test_default_leaves_the_desktop_room),
		cmocka_unit_test(test_default_is_at_most_80_percent_of_physical),
		cmocka_unit_test(test_default_within_the_enclosing_cgroup),
		cmocka_unit_test(test_default_on_a_small_or_full_machine),
		cmocka_unit_test(test_default_when_little_is_known),
	};

	return cmocka_run_group_tests_name("default_limit", tests, NULL, NULL);
}
