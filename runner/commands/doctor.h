/* `wcmem-sandbox doctor`: would a run work here, and what would it do without? One check a
 * line, each PASS, WARN or FAIL with what to do; --json for programs. */
#ifndef WCMEM_RUNNER_COMMANDS_DOCTOR_H
#define WCMEM_RUNNER_COMMANDS_DOCTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "runner/commands/doctor_checks.h"

/* The checks as lines ("PASS  name  found; to do: ..."), or as JSON. Return 0 or -errno. */
int run_doctor_write_text(FILE *out, const struct run_check *c, size_t n);
int run_doctor_write_json(FILE *out, const struct run_check *c, size_t n);

/* The subcommand: argv[0] is "doctor". Returns the exit status: 0 when a run would work,
 * 1 when it would not, 125 on a usage error. */
int run_doctor(int argc, char **argv);

#endif
