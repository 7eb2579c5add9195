/* The log's sync thread (runner/session/logsync.h): asked, it syncs; stopped, it has synced
 * all that was asked; a sync that fails is said once; a new descriptor gets a new thread. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "runner/session/logsync.h"

static int temp_file(void)
{
	char path[] = "/tmp/wcmem-logsync-XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(write(fd, "entry\n", 6), 6);
	return fd;
}

static void test_an_ask_returns_and_the_stop_waits_for_the_sync(void **state)
{
	struct run_logsync ls;
	int fd = temp_file();

	(void)state;
	run_logsync_init(&ls);
	assert_int_equal(run_logsync_stop(&ls), 0);  /* never started: nothing to wait for */
	for (int i = 0; i < 20; i++)
		assert_int_equal(run_logsync_ask(&ls, fd), 0);
	assert_true(ls.fd >= 0);
	assert_int_equal(ls.of, fd);
	assert_int_equal(run_logsync_stop(&ls), 0);
	assert_int_equal(ls.fd, -1);  /* joined, its descriptor closed; the log's is not */
	assert_true(fcntl(fd, F_GETFD) >= 0);
	close(fd);
}

/* A file that cannot be synced (here /dev/null: EINVAL) fails on the thread; the failure
 * comes back once, at the next ask or at the stop. */
static void test_a_failed_sync_is_said_once(void **state)
{
	struct run_logsync ls;
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	int r;

	(void)state;
	run_logsync_init(&ls);
	assert_int_equal(run_logsync_ask(&ls, fd), 0);
	assert_int_equal(run_logsync_stop(&ls), -EINVAL);
	assert_int_equal(run_logsync_stop(&ls), 0);
	/* Again, with a second ask after the failed sync: that ask says it, the stop does not. */
	assert_int_equal(run_logsync_ask(&ls, fd), 0);
	r = 0;
	for (int i = 0; i < 60000 && r == 0; i++) {  /* a minute: a hang, not slowness */
		usleep(1000);
		r = run_logsync_ask(&ls, fd);
	}
	assert_int_equal(r, -EINVAL);
	r = run_logsync_stop(&ls);
	assert_true(r == 0 || r == -EINVAL);  /* the last ask's own sync may have failed too */
	close(fd);
}

/* A log restored in a new file has a new descriptor: the thread syncs that one from then. */
static void test_a_new_descriptor_gets_a_new_thread(void **state)
{
	struct run_logsync ls;
	int a = temp_file(), b = temp_file();

	(void)state;
	run_logsync_init(&ls);
	assert_int_equal(run_logsync_ask(&ls, a), 0);
	assert_int_equal(ls.of, a);
	assert_int_equal(run_logsync_ask(&ls, b), 0);
	assert_int_equal(ls.of, b);
	assert_int_equal(run_logsync_stop(&ls), 0);
	close(a);
	close(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_an_ask_returns_and_the_stop_waits_for_the_sync),
		cmocka_unit_test(test_a_failed_sync_is_said_once),
		cmocka_unit_test(test_a_new_descriptor_gets_a_new_thread),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
