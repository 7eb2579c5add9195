#include "runner/session/reap.h"

#include <sys/wait.h>
#include <time.h>

/* After the sandbox is killed, its processes get this long to be reaped. */
#define REAP_TRIES 500
#define REAP_PAUSE_NS (10 * 1000 * 1000)

int run_reap(pid_t pid, int *main_status, struct rusage *ru)
{
	struct rusage r;
	int status, found = 0;
	pid_t p;

	while ((p = wait4(-1, &status, WNOHANG, &r)) > 0) {
		if (p == pid) {
			*main_status = status;
			if (ru)
				*ru = r;
			found = 1;
		}
	}
	return found;
}

/* A daemon the command double-forked comes back to us (we are its subreaper), so killing
 * is followed by reaping until the group is empty. */
void run_reap_group(struct cg_group *g)
{
	const struct timespec pause = { 0, REAP_PAUSE_NS };
	int status;

	if (!g->created)
		return;
	for (int i = 0; i < REAP_TRIES; i++) {
		cg_kill(g, NULL);
		run_reap(-1, &status, NULL);
		if (cg_populated(g, NULL) <= 0)
			return;
		nanosleep(&pause, NULL);
	}
}
