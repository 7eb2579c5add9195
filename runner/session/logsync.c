#include "runner/session/logsync.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

/* Syncs start at most this often. Each is two or three writes to the disk, and their
 * interrupts land on whatever the machine runs, the tests too: at one sync a trivial test
 * (2,000 a second) they cost a test more than the rest of the runner's work. An entry is
 * still on disk within some milliseconds of being written; a test's limit holds, and a
 * machine that thrashes takes seconds to stop, so a freeze still finds its TEST_START. */
#define SYNC_GAP_NS 5000000L

void run_logsync_init(struct run_logsync *ls)
{
	pthread_condattr_t attr;

	pthread_mutex_init(&ls->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&ls->cond, &attr);
	pthread_condattr_destroy(&attr);
	ls->fd = ls->of = -1;
	ls->asked = ls->done = 0;
	ls->err = 0;
	ls->stop = false;
}

static int sync_fd(int fd)
{
	while (fdatasync(fd) < 0) {
		if (errno != EINTR)
			return errno;
	}
	return 0;
}

/* One fdatasync covers every request made before it began: requests that come while it
 * runs are served by the next one. No allocation, no I/O but the sync: a fork in the main
 * thread never finds a lock of libc's held here. */
static void *syncer(void *arg)
{
	struct run_logsync *ls = arg;
	struct timespec next = { 0, 0 };  /* the earliest start of the next sync */

	pthread_mutex_lock(&ls->lock);
	for (;;) {
		unsigned long target;
		int err;

		while (!ls->stop && ls->done == ls->asked)
			pthread_cond_wait(&ls->cond, &ls->lock);
		if (ls->done == ls->asked)
			break;  /* stopped, nothing owed */
		/* Too soon after the last one: the entries written meanwhile go with this sync. */
		while (!ls->stop && pthread_cond_timedwait(&ls->cond, &ls->lock, &next) == 0)
			;
		target = ls->asked;
		clock_gettime(CLOCK_MONOTONIC, &next);
		next.tv_nsec += SYNC_GAP_NS;
		if (next.tv_nsec >= 1000000000L) {
			next.tv_sec++;
			next.tv_nsec -= 1000000000L;
		}
		pthread_mutex_unlock(&ls->lock);
		err = sync_fd(ls->fd);
		pthread_mutex_lock(&ls->lock);
		if (err && !ls->err)
			ls->err = err;
		ls->done = target;
	}
	pthread_mutex_unlock(&ls->lock);
	return NULL;
}

/* The thread takes no signal: the runner reads them from its signalfd. */
static int start(struct run_logsync *ls, int fd)
{
	sigset_t all, old;
	int r;

	ls->fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	if (ls->fd < 0)
		return -errno;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = pthread_create(&ls->thread, NULL, syncer, ls);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		close(ls->fd);
		ls->fd = -1;
		return -r;
	}
	ls->of = fd;
	return 0;
}

int run_logsync_ask(struct run_logsync *ls, int fd)
{
	int err;

	if (ls->fd >= 0 && ls->of != fd) {
		err = run_logsync_stop(ls);
		if (err < 0)
			return err;
	}
	if (ls->fd < 0 && start(ls, fd) < 0)
		return -sync_fd(fd);  /* no thread (out of descriptors, of memory): as before */
	pthread_mutex_lock(&ls->lock);
	err = ls->err;
	ls->err = 0;
	ls->asked++;
	pthread_cond_signal(&ls->cond);
	pthread_mutex_unlock(&ls->lock);
	return -err;
}

int run_logsync_stop(struct run_logsync *ls)
{
	int err;

	if (ls->fd < 0)
		return 0;
	pthread_mutex_lock(&ls->lock);
	ls->stop = true;
	pthread_cond_signal(&ls->cond);
	pthread_mutex_unlock(&ls->lock);
	pthread_join(ls->thread, NULL);
	close(ls->fd);
	ls->fd = ls->of = -1;
	ls->stop = false;
	ls->asked = ls->done = 0;
	err = ls->err;
	ls->err = 0;
	return -err;
}
