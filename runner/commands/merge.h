/* `wcmem-sandbox merge [-o FILE] REPORT...`: the JSON reports, or the JUnit XML files, of one
 * run's shards as one report (report/merge.h). */
#ifndef WCMEM_RUNNER_COMMANDS_MERGE_H
#define WCMEM_RUNNER_COMMANDS_MERGE_H

/* Runs the subcommand; argv[0] is "merge". Returns the exit status: 0; 1 when a test is in
 * two of the reports (the merged one is written all the same); 125 (RUN_CLI_FAILURE) on a
 * usage error, or a report that cannot be read or is not one. */
int run_merge_main(int argc, char **argv);

#endif
