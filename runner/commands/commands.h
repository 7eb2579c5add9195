/* The subcommands: the first word of the command line picks one, or else the command line
 * is a run (runner/main.c). One table, for the dispatch and for `wcmem-sandbox --help`. */
#ifndef WCMEM_RUNNER_COMMANDS_COMMANDS_H
#define WCMEM_RUNNER_COMMANDS_COMMANDS_H

#include <stdio.h>

#include "runner/commands/cli.h"

/* The subcommand named word, or NULL (word may be NULL). A subcommand is one only as the
 * first word: `wcmem-sandbox -- doctor` runs a program of that name. */
const struct run_command *run_command_find(const char *word);

/* A usage line a subcommand: "       wcmem-sandbox NAME SYNOPSIS". */
void run_commands_synopsis(FILE *out);

/* A line a subcommand, its name and its summary, for the run command's --help. */
void run_commands_summary(FILE *out);

#endif
