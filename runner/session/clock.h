/* Time differences, on CLOCK_MONOTONIC unless said: one way to compute them. */
#ifndef WCMEM_RUNNER_SESSION_CLOCK_H
#define WCMEM_RUNNER_SESSION_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Seconds from a to b (negative when b is earlier). */
double run_seconds_between(const struct timespec *a, const struct timespec *b);

/* Nanoseconds from a to b, 0 when b is not later. */
uint64_t run_ns_between(const struct timespec *a, const struct timespec *b);

/* Seconds from a (CLOCK_MONOTONIC) to now. */
double run_seconds_since(const struct timespec *a);

#endif
