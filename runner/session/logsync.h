/* The log's fdatasync on a thread of its own. A test's TEST_START is made durable while the
 * runner reads its next lines: a disk that takes milliseconds to sync (a busy one, every
 * few hundred entries on a quiet one) holds up no test, where a sync in the runner's loop
 * held up every test that moved itself in behind it. */
#ifndef WCMEM_RUNNER_SESSION_LOGSYNC_H
#define WCMEM_RUNNER_SESSION_LOGSYNC_H

#include <pthread.h>
#include <stdbool.h>

struct run_logsync {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int fd;               /* the syncer's own dup of the log's descriptor; -1: no thread */
	int of;               /* the descriptor it is a dup of: a new one (a restored log) */
	unsigned long asked;  /*   ...restarts the thread */
	unsigned long done;
	int err;              /* the first failed sync's errno, not yet said; 0 */
	bool stop;
};

void run_logsync_init(struct run_logsync *ls);

/* Asks for all that was written to fd so far to be made durable, and returns at once: the
 * thread starts on the first ask. Without a thread (it could not start) the sync is done
 * here. Returns 0, or -errno of a sync that failed since the last ask. */
int run_logsync_ask(struct run_logsync *ls, int fd);

/* Waits for the syncs asked for, and ends the thread (before the log is closed). Returns 0,
 * or -errno of a failed sync not yet returned. */
int run_logsync_stop(struct run_logsync *ls);

#endif
