/* The doctor's checks, judged from facts gathered beforehand: pure, tested without a
 * machine of each kind. */
#ifndef WCMEM_RUNNER_COMMANDS_DOCTOR_CHECKS_H
#define WCMEM_RUNNER_COMMANDS_DOCTOR_CHECKS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "cgroup/probe.h"

/* What the checks are judged on: the cgroup probe and what lies outside cgroupfs. */
struct run_doctor_facts {
	int found;                  /* a memory controller was found; else why says why not */
	char why[1100];
	bool base_given;            /* WCMEM_CGROUP_BASE chose where to build */
	struct cg_probe cg;
	uid_t uid;                  /* effective */
	int kernel_major, kernel_minor; /* 0.0: unknown */
	char user_manager[256];     /* the systemd user manager's socket, "" when none */
	enum cg_have psi;           /* /proc/pressure/memory: the kernel keeps PSI */
};

enum run_check_status { RUN_PASS, RUN_WARN, RUN_FAIL };

struct run_check {
	const char *name;           /* "cgroup.kill" */
	enum run_check_status status;
	char found[600];            /* what is there */
	char todo[400];             /* what to do about it, "" when nothing */
};

#define RUN_DOCTOR_MAX 16

/* Judges the facts: fills c[0..n) and returns n. Pure. */
size_t run_doctor_evaluate(const struct run_doctor_facts *f, struct run_check *c);

/* 1 when no check failed: a run would work. */
int run_doctor_ok(const struct run_check *c, size_t n);

/* "2.6.32-foo" -> 2, 6. Returns 0, or -EINVAL. Pure. */
int run_parse_kernel_release(const char *release, int *major, int *minor);

#endif
