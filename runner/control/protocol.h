/* The control protocol's lines (runner/control/PROTOCOL.md), parsed and formatted. Pure: no I/O. */
#ifndef WCMEM_RUNNER_CONTROL_PROTOCOL_H
#define WCMEM_RUNNER_CONTROL_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cgroup/error.h"

#define RUN_PROTOCOL_VERSION 1
#define RUN_LINE_MAX 65536  /* bytes, the newline included */
#define RUN_NAME_MAX 8192   /* bytes of a decoded name: a longer one is refused (400) */
#define RUN_EXTRAS_MAX 16384 /* bytes of decoded extras: longer ones are refused (400) */
#define RUN_FAILURE_MAX 4096 /* bytes of a decoded message or failure: longer, refused (400) */

/* RUN_MSG_STANDBY stays last: the fuzzer checks that a parsed verb is one of these. */
enum run_verb { RUN_MSG_HELLO, RUN_MSG_START, RUN_MSG_END, RUN_MSG_VERDICT, RUN_MSG_USAGE,
		RUN_MSG_NOTE, RUN_MSG_RESUME, RUN_MSG_TOP, RUN_MSG_ROOM, RUN_MSG_STANDBY };

/* One parsed line. Strings point into the line, decoded in place. */
struct run_msg {
	enum run_verb verb;
	int version;          /* HELLO */
	bool records;         /* HELLO records=1: keep every test's record for VERDICT */
	int rank;             /* TOP: which test, from 0 (killed tests first, then by peak) */
	const char *name;     /* START, END, VERDICT, USAGE, NOTE, ROOM; TOP: the rank, as text */
	const char *kind;     /* START: "test" (default) or "command" */
	uint64_t limit;       /* START: bytes (sent as a SIZE); UINT64_MAX when absent */
	uint64_t leaks;       /* START: what the test may keep (limit_leaks); UINT64_MAX: absent */
	const char *outcome;  /* END: NULL when absent */
	int status;           /* END: an exit code 0-255; -1 when absent */
	int signal;           /* END: the signal that killed it, 1-64; 0 when absent */
	const char *extras;   /* START, END, NOTE: NULL when absent */
	const char *where;    /* START: "path/to/test_x.py:LINE", NULL when absent */
	bool keep;            /* START keep=1: keep a unit for the client's next START */
	bool moved;           /* START moved=1: the client moves itself into the kept unit */
	const char *reports;  /* END: pytest's serialized reports (opaque), NULL when absent */
	const char *message;  /* END: the failure's or skip's one-line message, NULL: absent */
	const char *failure;  /* END: the failure's text (its traceback's end), NULL: absent */
	bool requeue;         /* VERDICT requeue=1: the client can run the test again */
};

/* Parses one line (without its newline), decoding fields in place.
 * Returns 0, or -EINVAL with e->msg saying what is wrong. */
int run_msg_parse(char *line, struct run_msg *m, struct wc_error *e);

#endif
