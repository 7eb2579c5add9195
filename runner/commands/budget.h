/* `wcmem-sandbox budget [OPTION]... LOG...`: a budget file from memory logs, or one brought
 * up to date; the front end of runner/budget/. */
#ifndef WCMEM_RUNNER_COMMANDS_BUDGET_H
#define WCMEM_RUNNER_COMMANDS_BUDGET_H

/* Runs the subcommand; argv[0] is "budget". Returns the exit status: 0, or 125
 * (RUN_CLI_FAILURE) on a usage error or when the budget file could not be written. */
int run_budget_main(int argc, char **argv);

#endif
