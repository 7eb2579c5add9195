/* One run in shards (`--shard I/N`): the logs of its N runs read as one run. Which shards
 * were seen, and the tests that ran in two of them (the shards' collections differed: such
 * a test ran twice, and another may not have run at all).
 *
 * A test is kept as a 64-bit hash of its name and the shard it ran in, 16 bytes a distinct
 * test, at most REP_SHARDS_TESTS_MAX of them (past that the check stops and says so). */
#ifndef WCMEM_REPORT_SHARDS_H
#define WCMEM_REPORT_SHARDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "report/logread.h"

#define REP_SHARDS_TESTS_MAX (UINT64_C(1) << 22)  /* distinct tests checked: 64 MiB at most */
#define REP_SHARDS_DUPS_MAX 20                     /* tests in two shards named */
#define REP_SHARDS_COUNT_MAX 100000                /* as --shard takes */

struct rep_shard_slot {
	uint64_t hash;   /* 0: empty (a name hashing to 0 is stored as 1) */
	uint32_t shard;  /* 1-based */
};

struct rep_shard_dup {
	char name[REP_LOGREAD_NAME_MAX];
	char where[REP_LOGREAD_NAME_MAX + 32];  /* "LOG:LINE" of its second TEST_END */
	uint32_t first, again;                   /* the shards it ran in */
};

struct rep_shards {
	uint32_t count;              /* N of the first sharded session; 0: none seen */
	uint32_t other_count;        /* an N that differs from it, 0: none */
	uint32_t current;            /* the shard of the session being read; 0: not one */
	uint32_t nseen;              /* distinct shards seen */
	unsigned char *seen;         /* a bit a shard, count bits */
	struct rep_shard_slot *slot; /* open addressing, a power of two */
	size_t nslots, n;
	bool full;                   /* REP_SHARDS_TESTS_MAX reached: no more checked */
	bool nomem;                  /* out of memory: no more checked */
	unsigned long dups;          /* tests that ran in two shards */
	struct rep_shard_dup dup[REP_SHARDS_DUPS_MAX];
};

/* A session starts: shard index of count (both 0: not a sharded run). */
void rep_shards_session(struct rep_shards *s, uint32_t index, uint32_t count);

/* A test of the current session ended (name as the log has it, where: "LOG:LINE"). */
void rep_shards_test(struct rep_shards *s, const char *name, const char *where);

/* Whether the shards do not add up: a test in two of them, or shards of two counts. */
bool rep_shards_broken(const struct rep_shards *s);

/* Writes the shards' lines of the answer of command (analyze, budget): "one run in 3 shards", the shards missing,
 * each test that ran in two, a count that differs. Nothing when no session was a shard. */
void rep_shards_print(FILE *f, const char *command, const struct rep_shards *s);

/* The "shards" member of analyze's JSON (null when no session was a shard). */
void rep_shards_json(FILE *f, const struct rep_shards *s);

/* Frees what the check holds; the struct may be zeroed again after. */
void rep_shards_free(struct rep_shards *s);

#endif
