/* The session's own steps that need no cgroup: closing a session that never opened, and
 * applying the sandbox's limits where the kernel lacks a feature (cg_set_limit mocked). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "runner/config/options.h"
#include "runner/config/size.h"
#include "runner/session/session.h"

/* cg_set_limit: MAX holds; SWAP and HIGH answer what the test says. */
static int swap_answer, high_answer;
static int limit_calls;

int __wrap_cg_set_limit(struct cg_group *g, enum cg_limit which, uint64_t bytes,
			uint64_t *applied, struct wc_error *e);
int __wrap_cg_set_limit(struct cg_group *g, enum cg_limit which, uint64_t bytes,
			uint64_t *applied, struct wc_error *e)
{
	int answer = which == CG_LIMIT_SWAP ? swap_answer : which == CG_LIMIT_HIGH ? high_answer : 0;

	(void)bytes;
	(void)applied;
	limit_calls++;
	if (answer == 0)
		return 0;
	wc_fail(e, -answer, "write %s/%s", g->path, which == CG_LIMIT_SWAP ? "memory.swap.max" :
		"memory.high");
	return wc_hint(e, "the hint of the cgroup layer");
}

/* run_session_init, then run_session_close as main does when run_signals_setup fails: fd 0
 * (here a pipe) must neither be written to nor closed. */
static void test_close_after_init_touches_no_descriptor(void **state)
{
	struct run_session s;
	struct wc_error e;
	int p[2], saved = dup(0);
	char c;

	(void)state;
	assert_int_equal(pipe(p), 0);
	assert_int_equal(dup2(p[0], 0), 0);
	run_session_init(&s);
	assert_int_equal(run_session_close(&s, 125, &e), 0);
	run_session_free(&s);
	assert_true(fcntl(0, F_GETFD) >= 0);  /* still open */
	close(p[1]);
	assert_int_equal(read(p[0], &c, 1), 0);  /* and nothing was written into it */
	dup2(saved, 0);
	close(saved);
	close(p[0]);
}

/* A session with --limit 100M, --swap swap and no --high, whose cgroup layer answers
 * swap_ans to the swap limit and high_ans to memory.high. */
static void session(struct run_session *s, struct run_options *o, uint64_t swap, int swap_ans,
		    int high_ans)
{
	run_session_init(s);
	memset(o, 0, sizeof(*o));
	o->limit = 100 << 20;
	o->swap = swap;
	o->high = CFG_SIZE_MAX;
	s->opt = o;
	swap_answer = swap_ans;
	high_answer = high_ans;
}

/* The man page: without swap accounting a cap is a warning; --swap max asks for no cap,
 * which is what there is: the run goes on. */
static void test_swap_without_accounting_is_not_an_error(void **state)
{
	struct run_options o;
	struct run_session s;
	struct wc_error e;

	(void)state;
	session(&s, &o, CFG_SIZE_MAX, -EOPNOTSUPP, 0);
	assert_int_equal(run_session_limits(&s, &e), 0);
	session(&s, &o, 0, -EOPNOTSUPP, 0);
	assert_int_equal(run_session_limits(&s, &e), 0);
}

/* Any other failure stops the run, with the cgroup layer's hint kept. */
static void test_a_limit_that_fails_keeps_its_hint(void **state)
{
	struct run_options o;
	struct run_session s;
	struct wc_error e;

	(void)state;
	session(&s, &o, 0, -EACCES, 0);
	assert_int_equal(run_session_limits(&s, &e), -EACCES);
	assert_int_equal(e.err, EACCES);
	assert_string_equal(e.hint, "the hint of the cgroup layer");
	session(&s, &o, 0, 0, -EIO);
	o.high = 50 << 20;
	assert_int_equal(run_session_limits(&s, &e), -EIO);
	assert_string_equal(e.hint, "the hint of the cgroup layer");
}

/* A warning said once is said the first time of its kind only, whoever comes upon it, and
 * one kind said leaves the others unsaid. */
static void test_once_is_true_the_first_time_of_each_kind(void **state)
{
	struct run_session s;

	(void)state;
	run_session_init(&s);
	assert_true(run_once(&s.once, RUN_ONCE_TAMPERED));
	assert_false(run_once(&s.once, RUN_ONCE_TAMPERED));
	assert_false(run_once(&s.once, RUN_ONCE_TAMPERED));
	for (int k = 0; k < RUN_ONCE_N; k++)
		if (k != RUN_ONCE_TAMPERED)
			assert_true(run_once(&s.once, (enum run_once_what)k));
}

/* The summary's resume figures add up, standby resumes counted among them. */
static void test_resumes_are_counted_for_the_summary(void **state)
{
	struct run_session s;

	(void)state;
	run_session_init(&s);
	run_session_count_resume(&s, 1.5, false);
	run_session_count_resume(&s, 0.25, true);
	assert_int_equal(s.info.resumes, 2);
	assert_int_equal(s.info.standby_resumes, 1);
	assert_true(s.info.resume_seconds > 1.74 && s.info.resume_seconds < 1.76);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_close_after_init_touches_no_descriptor),
		cmocka_unit_test(test_once_is_true_the_first_time_of_each_kind),
		cmocka_unit_test(test_resumes_are_counted_for_the_summary),
		cmocka_unit_test(test_swap_without_accounting_is_not_an_error),
		cmocka_unit_test(test_a_limit_that_fails_keeps_its_hint),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
