/* The memory counters a unit cgroup keeps, in the words both layers above use. */
#ifndef WCMEM_CGROUP_EVENTS_H
#define WCMEM_CGROUP_EVENTS_H

#include <stdint.h>

/* A unit cgroup's memory event counters, backend-neutral.
 * cgroup v2: the fields of memory.events.local (or memory.events).
 * cgroup v1: max = memory.failcnt, oom_kill = oom_kill of memory.oom_control; the rest 0. */
struct cg_events {
	uint64_t low;
	uint64_t high;
	uint64_t max;
	uint64_t oom;
	uint64_t oom_kill;
	uint64_t oom_group_kill;
};

#endif
