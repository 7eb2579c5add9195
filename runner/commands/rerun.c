#include "runner/commands/rerun.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "report/shell.h"
#include "runner/config/size.h"

/* bytes as the command line takes it back, exactly: the largest unit that divides it. */
static void size_word(uint64_t bytes, char *out, size_t size)
{
	static const char units[] = "TGMK";

	if (bytes == CFG_SIZE_MAX) {
		snprintf(out, size, "max");
		return;
	}
	for (int i = 0; units[i]; i++) {
		uint64_t unit = (uint64_t)1 << (10 * (4 - i));

		if (bytes && bytes % unit == 0) {
			snprintf(out, size, "%" PRIu64 "%c", bytes / unit, units[i]);
			return;
		}
	}
	snprintf(out, size, "%" PRIu64, bytes);
}

static bool starts(const char *word, const char *head)
{
	return strncmp(word, head, strlen(head)) == 0;
}

/* How many of argv's first words run pytest (1: pytest; 3: python -m pytest), or 0. */
static int pytest_words(char *const *argv)
{
	const char *base;

	if (!argv || !argv[0])
		return 0;
	base = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	if (starts(base, "pytest") || starts(base, "py.test"))
		return 1;
	if (starts(base, "python") && argv[1] && strcmp(argv[1], "-m") == 0 && argv[2] &&
	    strcmp(argv[2], "pytest") == 0)
		return 3;
	return 0;
}

static bool option(char *out, size_t size, const char *name, uint64_t bytes)
{
	char value[32];

	size_word(bytes, value, sizeof(value));
	return rep_shell_append(out, size, name) && rep_shell_append(out, size, value);
}

int run_rerun_prefix(const char *self, const struct run_options *o, char *out, size_t size)
{
	int words = pytest_words(o->argv);
	bool ok;

	if (size)
		*out = '\0';
	ok = rep_shell_append(out, size, self) && option(out, size, "--limit", o->limit);
	if (ok && o->test_limit)
		ok = option(out, size, "--test-limit", o->test_limit);
	if (ok && o->swap)
		ok = option(out, size, "--swap", o->swap);
	if (ok && o->budgets)
		ok = rep_shell_append(out, size, "--budgets") &&
		     rep_shell_append(out, size, o->budgets);
	ok = ok && rep_shell_append(out, size, "--");
	for (int i = 0; ok && i < words; i++)
		ok = rep_shell_append(out, size, o->argv[i]);
	if (ok && !words)
		ok = rep_shell_append(out, size, "python3") && rep_shell_append(out, size, "-m") &&
		     rep_shell_append(out, size, "pytest");
	return ok ? 0 : -ENAMETOOLONG;
}
