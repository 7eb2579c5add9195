/* The table of subcommands (commands.h). */
#include "runner/commands/commands.h"

#include <string.h>

#include "runner/commands/analyze.h"
#include "runner/commands/budget.h"
#include "runner/commands/doctor.h"
#include "runner/commands/merge.h"

static const struct run_command commands[] = {
	/* config takes the run's options (--config, --profile): the run's parser reads it. */
	{ "config",  "[OPTION]...",      "print the settings in effect and where each came from",
	  NULL },
	{ "analyze", "[OPTION]... [LOG]...", "read memory logs: what ran, what was killed, what grew",
	  run_analyze_main },
	{ "doctor",  "[--json [FILE]]",  "check whether a run would work here, and what to do",
	  run_doctor },
	{ "budget",  "[OPTION]... LOG...", "write a budget file (--budgets) from memory logs",
	  run_budget_main },
	{ "merge",   "[-o FILE] REPORT...", "merge the JSON or JUnit XML reports of a run's shards",
	  run_merge_main },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

const struct run_command *run_command_find(const char *word)
{
	for (size_t i = 0; word && i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, word) == 0)
			return &commands[i];
	return NULL;
}

void run_commands_synopsis(FILE *out)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(out, "       wcmem-sandbox %s %s\n", commands[i].name, commands[i].synopsis);
}

void run_commands_summary(FILE *out)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %-8s  %s\n", commands[i].name, commands[i].summary);
}
