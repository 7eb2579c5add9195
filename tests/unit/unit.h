/* Helpers shared by the unit tests: fixture files and golden files.
 * Include after <cmocka.h>. Paths are relative to tests/unit (make check-unit runs there). */
#ifndef WCMEM_TESTS_UNIT_H
#define WCMEM_TESTS_UNIT_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The whole file as a NUL-terminated string (free it), or NULL when it cannot be read. */
static inline char *unit_read_file(const char *path)
{
	FILE *f = fopen(path, "re");
	char *text = NULL;
	size_t len = 0;

	if (!f)
		return NULL;
	if (getdelim(&text, &len, '\0', f) < 0) {
		free(text);
		text = strdup("");  /* an empty file */
	}
	fclose(f);
	return text;
}

static inline int unit_remove_entry(const char *path, const struct stat *st, int flag,
				    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Removes the folder dir and all it holds, links as links. Returns 0 or -1. */
static inline int unit_remove_tree(const char *dir)
{
	return nftw(dir, unit_remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* A fixture's text; fails the test, naming the file, when it is missing. */
static inline char *unit_fixture(const char *path)
{
	char *text = unit_read_file(path);

	if (!text)
		fail_msg("cannot read fixture %s (run from tests/unit)", path);
	return text;
}

/* Compares actual with the golden file. WCMEM_UPDATE_GOLDEN=1 rewrites the file instead
 * (then review the diff before committing it). */
static inline void unit_assert_golden(const char *actual, const char *path)
{
	char *expected;

	if (getenv("WCMEM_UPDATE_GOLDEN")) {
		FILE *f = fopen(path, "we");

		assert_non_null(f);
		fputs(actual, f);
		assert_int_equal(fclose(f), 0);
		return;
	}
	expected = unit_read_file(path);
	if (!expected)
		fail_msg("cannot read golden file %s (WCMEM_UPDATE_GOLDEN=1 writes it)", path);
	assert_string_equal(actual, expected);
	free(expected);
}

#endif
