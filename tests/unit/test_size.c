/* cfg_parse_size, cfg_parse_duration, cfg_physical_memory. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>

#include "runner/config/size.h"

#define KIB UINT64_C(1024)
#define MIB (KIB * 1024)
#define GIB (MIB * 1024)
#define TIB (GIB * 1024)
#define PHYS (16 * GIB)

/* Parses text and checks the byte count; prints the text when the parser refuses it. */
static void expect_size(const char *text, uint64_t want)
{
	uint64_t got = 0;
	int r = cfg_parse_size(text, PHYS, &got);

	if (r != 0)
		fail_msg("cfg_parse_size(\"%s\") = %d, want 0", text, r);
	if (got != want)
		fail_msg("cfg_parse_size(\"%s\") gave %llu bytes, want %llu", text,
			 (unsigned long long)got, (unsigned long long)want);
}

/* Checks that text is refused with err and leaves the output alone. */
static void expect_size_error(const char *text, uint64_t physical, int err)
{
	uint64_t got = 12345;
	int r = cfg_parse_size(text, physical, &got);

	if (r != err)
		fail_msg("cfg_parse_size(\"%s\") = %d, want %d", text, r, err);
	assert_int_equal(got, 12345);
}

static void expect_duration(const char *text, uint64_t want)
{
	uint64_t got = 0;
	int r = cfg_parse_duration(text, &got);

	if (r != 0)
		fail_msg("cfg_parse_duration(\"%s\") = %d, want 0", text, r);
	if (got != want)
		fail_msg("cfg_parse_duration(\"%s\") gave %llu ns, want %llu", text,
			 (unsigned long long)got, (unsigned long long)want);
}

static void expect_duration_error(const char *text, int err)
{
	uint64_t got = 12345;
	int r = cfg_parse_duration(text, &got);

	if (r != err)
		fail_msg("cfg_parse_duration(\"%s\") = %d, want %d", text, r, err);
	assert_int_equal(got, 12345);
}

/* Plain byte counts, up to the last value below 2^63. */
static void test_size_bytes(void **state)
{
	(void)state;
	expect_size("1", 1);
	expect_size("1048576", MIB);
	expect_size("10B", 10);
	expect_size("9223372036854775807", INT64_MAX);
}

/* K/M/G/T suffixes are powers of 1024, in any case, with an optional B or iB. */
static void test_size_suffixes(void **state)
{
	(void)state;
	expect_size("4G", 4 * GIB);
	expect_size("4g", 4 * GIB);
	expect_size("512mib", 512 * MIB);
	expect_size("512MiB", 512 * MIB);
	expect_size("512MB", 512 * MIB);
	expect_size("10kB", 10 * KIB);
	expect_size("10K", 10 * KIB);
	expect_size("2T", 2 * TIB);
	expect_size("8388607T", 8388607 * TIB);
}

/* Decimals are computed exactly in integers. */
static void test_size_decimals_exact(void **state)
{
	(void)state;
	expect_size("1.5G", 1610612736);
	expect_size("1.5g", 1610612736);
	expect_size("0.5K", 512);
	expect_size("0.1K", 102);  /* 102.4 bytes, rounded down */
	expect_size("2.25M", 2 * MIB + MIB / 4);
	expect_size("0.000000001T", 1099);  /* 1099.51 bytes */
	/* Digits past the ninth weigh less than a byte per KiB and are only checked. */
	expect_size("1.0000000000000000000001G", GIB);
	expect_size("8388607.999999999T", 8388607 * TIB + 1099511626676);
}

/* "N%" is a share of physical memory, at most 100%. */
static void test_size_percent(void **state)
{
	(void)state;
	expect_size("50%", 8 * GIB);
	expect_size("100%", PHYS);
	expect_size("12.5%", 2 * GIB);
	expect_size("100.0%", PHYS);
	expect_size_error("101%", PHYS, -ERANGE);
	expect_size_error("100.5%", PHYS, -ERANGE);
	expect_size_error("0%", PHYS, -ERANGE);
	expect_size_error("99999999999999999999999%", PHYS, -ERANGE);
}

/* A percentage of an unknown machine size cannot be turned into bytes. */
static void test_size_percent_without_physical(void **state)
{
	(void)state;
	expect_size_error("50%", 0, -EINVAL);
}

/* A percentage of a huge machine is computed without overflow. */
static void test_size_percent_of_huge_machine(void **state)
{
	uint64_t got = 0;

	(void)state;
	assert_int_equal(cfg_parse_size("60%", UINT64_MAX, &got), -ERANGE);
	assert_int_equal(cfg_parse_size("33.333333333%", UINT64_MAX, &got), 0);
	assert_int_equal(got, UINT64_C(6148914691175028058));
	assert_int_equal(cfg_parse_size("33.333333333%", INT64_MAX, &got), 0);
	assert_int_equal(got, UINT64_C(3074457345587514028));
}

/* "max" is no limit. */
static void test_size_max(void **state)
{
	uint64_t got = 0;

	(void)state;
	assert_int_equal(cfg_parse_size("max", PHYS, &got), 0);
	assert_true(got == CFG_SIZE_MAX);
}

/* Malformed text is -EINVAL, whatever the number's size. */
static void test_size_malformed(void **state)
{
	static const char *const bad[] = {
		"", " 4G", "4G ", "4 G", "4X", "8E", "4P", "-1", "+1", "1e999", "1e3", "inf",
		"nan", "0x10", ".5G", "1.G", "1..5G", "G", "iB", "4GiBB", "4Gi", "1.5", "1.5B",
		"4%%", "%", "MAX", "max ", "1,5G",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_size_error(bad[i], PHYS, -EINVAL);
	expect_size_error(NULL, PHYS, -EINVAL);
}

/* Zero and anything at or past 2^63 bytes are -ERANGE. */
static void test_size_out_of_range(void **state)
{
	(void)state;
	expect_size_error("0", PHYS, -ERANGE);
	expect_size_error("0G", PHYS, -ERANGE);
	expect_size_error("0.0G", PHYS, -ERANGE);
	expect_size_error("0.0000000001K", PHYS, -ERANGE);  /* below one byte */
	expect_size_error("9223372036854775808", PHYS, -ERANGE);
	expect_size_error("18446744073709551616", PHYS, -ERANGE);
	expect_size_error("99999999999999999999999999", PHYS, -ERANGE);
	expect_size_error("8388608T", PHYS, -ERANGE);
}

/* Durations: seconds by default, ms/s/m/h units, decimals exact to the nanosecond. */
static void test_duration_units(void **state)
{
	(void)state;
	expect_duration("1", 1000000000);
	expect_duration("100ms", 100000000);
	expect_duration("0.5s", 500000000);
	expect_duration("2m", 120000000000);
	expect_duration("1.5h", UINT64_C(5400000000000));
	expect_duration("0.000001ms", 1);
	expect_duration("86400", UINT64_C(86400000000000));
	expect_duration("24h", UINT64_C(86400000000000));
	expect_duration("1440m", UINT64_C(86400000000000));
}

/* Malformed durations are -EINVAL. */
static void test_duration_malformed(void **state)
{
	static const char *const bad[] = {
		"", " 1s", "1s ", "-1", "1e3", "inf", "nan", "0x10", "1d", "1S", "1 s", "s",
		".5s", "1.s", "1ms5",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_duration_error(bad[i], -EINVAL);
	expect_duration_error(NULL, -EINVAL);
}

/* Zero, below a nanosecond, and over a day are -ERANGE. */
static void test_duration_out_of_range(void **state)
{
	(void)state;
	expect_duration_error("0", -ERANGE);
	expect_duration_error("0ms", -ERANGE);
	expect_duration_error("0.0000000001s", -ERANGE);
	expect_duration_error("86400.000000001", -ERANGE);
	expect_duration_error("25h", -ERANGE);
	expect_duration_error("1441m", -ERANGE);
	expect_duration_error("99999999999999999999999h", -ERANGE);
}

/* The machine's memory is known and plausible (more than 64 MiB). */
static void test_physical_memory_known(void **state)
{
	(void)state;
	assert_true(cfg_physical_memory() > 64 * MIB);
}

/* A marker's SIZE: parses text, or checks that it is refused with err. */
static void expect_marker(const char *text, int err, uint64_t want)
{
	uint64_t got = 12345;
	int r = cfg_parse_marker_size(text, &got);

	if (r != err)
		fail_msg("cfg_parse_marker_size(\"%s\") = %d, want %d", text, r, err);
	if (got != (err ? 12345 : want))
		fail_msg("cfg_parse_marker_size(\"%s\") gave %llu bytes, want %llu", text,
			 (unsigned long long)got, (unsigned long long)want);
}

/* pytest-memray's spellings (its own test table) and ours are accepted, in powers of 1024. */
static void test_marker_size_memray_spelling(void **state)
{
	(void)state;
	expect_marker("100 B", 0, 100);
	expect_marker("100   B", 0, 100);
	expect_marker("+100 KB", 0, 100 * KIB);
	expect_marker("3 Mb", 0, 3 * MIB);
	expect_marker("24 MB", 0, 24 * MIB);
	expect_marker("3.0 gb", 0, 3 * GIB);
	expect_marker("60.0 TB", 0, 60 * TIB);
	expect_marker("1 PB", 0, 1024 * TIB);
	expect_marker("1.5 GiB", 0, 3 * GIB / 2);
	expect_marker("1.5\tGiB", 0, 3 * GIB / 2);
	expect_marker("512M", 0, 512 * MIB);
	expect_marker("1048576", 0, MIB);
}

/* Anything else is refused, never taken for a smaller or unlimited size. */
static void test_marker_size_refused(void **state)
{
	(void)state;
	expect_marker("", -EINVAL, 0);
	expect_marker(" 24 MB", -EINVAL, 0);
	expect_marker("24 MB ", -EINVAL, 0);
	expect_marker("24 XB", -EINVAL, 0);
	expect_marker("2 4MB", -EINVAL, 0);
	expect_marker("-24 MB", -EINVAL, 0);
	expect_marker("++24 MB", -EINVAL, 0);
	expect_marker("max", -EINVAL, 0);
	expect_marker("50%", -EINVAL, 0);
	expect_marker("24 MB; rm", -EINVAL, 0);
	expect_marker("0 MB", -ERANGE, 0);
	expect_marker("9000000 TB", -ERANGE, 0);
	expect_marker("8192 PB", -ERANGE, 0);
	expect_marker("1.5 B", -EINVAL, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_size_bytes),
		cmocka_unit_test(test_size_suffixes),
		cmocka_unit_test(test_size_decimals_exact),
		cmocka_unit_test(test_size_percent),
		cmocka_unit_test(test_size_percent_without_physical),
		cmocka_unit_test(test_size_percent_of_huge_machine),
		cmocka_unit_test(test_size_max),
		cmocka_unit_test(test_size_malformed),
		cmocka_unit_test(test_size_out_of_range),
		cmocka_unit_test(test_duration_units),
		cmocka_unit_test(test_duration_malformed),
		cmocka_unit_test(test_duration_out_of_range),
		cmocka_unit_test(test_physical_memory_known),
		cmocka_unit_test(test_marker_size_memray_spelling),
		cmocka_unit_test(test_marker_size_refused),
	};

	return cmocka_run_group_tests_name("size", tests, NULL, NULL);
}
