/* The memory log's entry builder (report/log.c) with hostile names and plugin lines, the
 * reports and the summary made from the same records, and the parsers of what the kernel
 * writes that the log shows (/proc/PID/status, memory.events, memory.oom_control,
 * /proc/self/cgroup). What every reader of the log relies on (scripts, and analyze's and
 * budget's readers, fuzzed in fuzz_logread and fuzz_budget) is checked here: an entry is one
 * head line "[stamp] EVENT: name" and indented lines, so no name or extra line can ever
 * start, or forge, an entry. */
#include <errno.h>

#include "cgroup/cgroup.h"
#include "report/json.h"
#include "report/junit.h"
#include "report/log.h"
#include "report/status.h"
#include "report/summary.h"
#include "fuzz.h"

/* The NUL-separated part i of the input (a new string; free it). */
static char *part(const uint8_t *data, size_t size, int i)
{
	const uint8_t *p = data, *end = data + size;

	for (; i > 0 && p < end; i--) {
		const uint8_t *nul = memchr(p, '\0', (size_t)(end - p));

		p = nul ? nul + 1 : end;
	}
	return fuzz_string(p, (size_t)(end - p));
}

/* One entry: a head line, then only indented lines; it ends with a newline. */
static void check_entry(const char *text, int len, const char *event)
{
	char head[64];

	FUZZ_CHECK(len > 0 && (size_t)len == strlen(text) && text[len - 1] == '\n');
	snprintf(head, sizeof(head), "] %s: ", event);
	FUZZ_CHECK(text[0] == '[' && strstr(text, head) != NULL);
	FUZZ_CHECK(strstr(text, head) < strchr(text, '\n'));
	for (const char *nl = strchr(text, '\n'); nl && nl[1]; nl = strchr(nl + 1, '\n'))
		FUZZ_CHECK(nl[1] == ' ');
}

static void entries(struct rep_unit *u, struct rep_session *s)
{
	static char buf[1 << 20];
	struct timespec now = { 1761309296, 0 };
	int n;

	n = rep_log_format_unit_start(buf, sizeof(buf), u);
	if (n != -ENOSPC)
		check_entry(buf, n, "TEST_START");
	n = rep_log_format_unit_end(buf, sizeof(buf), u, &now, 1.5);
	if (n != -ENOSPC)
		check_entry(buf, n, "TEST_END");
	n = rep_log_format_session_start(buf, sizeof(buf), s);
	if (n != -ENOSPC)
		check_entry(buf, n, "SESSION_START");
	FUZZ_CHECK(rep_log_format_unit_start(buf, 16, u) == -ENOSPC);  /* never cut short */
}

static void kernel_files(const char *text)
{
	struct rep_status st;
	struct cg_events ev;
	uint64_t v;
	char rel[256];

	FUZZ_CHECK(rep_status_parse(text, &st) <= 4);
	cg_parse_events(text, &ev);
	cg_parse_oom_control(text, &v);
	cg_parse_u64(text, &v);
	if (cg_parse_proc_cgroup(text, CG_V1, rel, sizeof(rel)) == 0)
		FUZZ_CHECK(strlen(rel) < sizeof(rel));
	if (cg_parse_proc_cgroup(text, CG_V2, rel, sizeof(rel)) == 0)
		FUZZ_CHECK(strlen(rel) < sizeof(rel));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *sink;
	char *name = part(data, size, 0), *extras = part(data, size, 1);
	char *more = part(data, size, 2), *outcome = part(data, size, 3);
	uint8_t b = size ? data[size - 1] : 0;
	struct rep_unit u = {
		.name = name, .kind = "test", .cgroup = name, .v1 = b & 1,
		.start = { 1761309296, 789012000 }, .limit = UINT64_C(1) << 28,
		.sandbox_limit = UINT64_C(1) << 30, .peak = UINT64_C(1) << 27,
		.current = REP_UNKNOWN, .sandbox_peak = REP_UNKNOWN, .sandbox_current = b,
		.left_behind = b & 3, .outcome = *outcome ? outcome : NULL, .location = more,
		.extras_start = extras, .extras_end = more, .pid = 42,
		.status_start = { b, -1, b, -1 }, .status_end = { -1, -1, -1, -1 },
		.end = (enum rep_end)(b % 4), .code = (int)(b >> 2), .oom = (enum rep_oom)(b % 4),
		.timed_out = b & 8,
	};
	struct rep_session s = {
		.start = u.start, .command = name, .cgroup = "wcmem-1", .backend = "cgroup v1",
		.limit = u.sandbox_limit, .test_limit = u.limit, .peak = REP_UNKNOWN, .units = 1,
		.log_path = more,
	};

	if (!sink)
		FUZZ_CHECK((sink = fopen("/dev/null", "we")) != NULL);
	entries(&u, &s);
	rep_json_write(sink, &u, 1, &s);
	rep_junit_write(sink, &u, 1, &s);
	rep_summary_write(sink, &u, 1, &s);
	kernel_files(extras);
	free(name);
	free(extras);
	free(more);
	free(outcome);
	return 0;
}
