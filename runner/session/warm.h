/* Keeping the kernel's cgroup-migration lock warm while a test runs.
 *
 * Every move into a cgroup takes cgroup_threadgroup_rwsem for writing, and the first writer
 * after a quiet spell waits for an RCU grace period (rcu_sync_enter: 8 to 15 ms here) that a
 * writer following another within a grace period or two does not. Trivial tests follow each
 * other fast enough; a test of 100 ms makes the next START wait, 10 % of that test. So while a
 * test is young the runner moves itself into the cgroup it is already in, every
 * RUN_WARM_PERIOD_MS: nothing moves, but the lock stays warm and the next START's move is
 * quick. Only for the test's first RUN_WARM_WINDOW_MS: past it a grace period is under 1.5 %
 * of the test, and the writes (each one holds up forks and exits on the machine for some
 * microseconds) stop. On a host with cgroup's favordynmods the lock never cools: the writes
 * are cheap and change nothing. */
#ifndef WCMEM_RUNNER_SESSION_WARM_H
#define WCMEM_RUNNER_SESSION_WARM_H

#include <stdbool.h>
#include <stdint.h>

#include "runner/session/state.h"

#define RUN_WARM_PERIOD_MS 8     /* idle, the lock cools within 10 to 20 ms */
#define RUN_WARM_WINDOW_MS 1000

/* What a tick does at now (ns, CLOCK_MONOTONIC), given the last write on the lock (a move,
 * real or not) and the end of the window: move or not, and when to tick again (ns from now;
 * 0: not again until the next START). */
struct run_warm_step {
	bool move;
	uint64_t next_ns;
};
struct run_warm_step run_warm_plan(uint64_t now, uint64_t last, uint64_t until);

/* Makes the timer (best effort: without one the lock is left to cool, as before). */
void run_warm_open(struct run_session *s);

/* A unit's process was just moved into its cgroup: a window starts. */
void run_warm_moved(struct run_session *s);

void run_warm_close(struct run_session *s);

#endif
