/* analyze's log reader (report/logread.c) and the analysis it feeds (report/analyze.c):
 * the input is a memory log. It is read twice: line by line through rep_logread_line, NULs
 * and all, checking each entry (a name, a stamp, a kind and a location within their fields,
 * without control characters; headers in the order of their lines); and as analyze reads a
 * file (rep_analysis_read), then printed as text, JSON and HTML, as `wcmem-sandbox analyze`
 * does. */
#include <errno.h>

#include "report/analyze.h"
#include "report/logread.h"
#include "fuzz.h"

/* A field copied from the log: NUL-terminated inside its array, no control character. */
static void check_text(const char *s, size_t size)
{
	size_t n = strnlen(s, size);

	FUZZ_CHECK(n < size);
	for (size_t i = 0; i < n; i++)
		FUZZ_CHECK((unsigned char)s[i] >= 0x20 && s[i] != 0x7f);
}

static void check_entry(const struct rep_entry *e, unsigned long *last_line)
{
	check_text(e->stamp, sizeof(e->stamp));
	check_text(e->name, sizeof(e->name));
	check_text(e->kind, sizeof(e->kind));
	check_text(e->location, sizeof(e->location));
	FUZZ_CHECK(e->line > *last_line);
	*last_line = e->line;
	FUZZ_CHECK(e->elapsed == -1 || e->elapsed >= 0);
	FUZZ_CHECK(e->duration == -1 || e->duration >= 0);
	FUZZ_CHECK(e->vm_rss_kb >= -1 && e->xarray >= -1 && e->pid >= -1 && e->oom_kills >= -1);
}

/* The input's lines fed one by one, as they are (a NUL inside stays in the line). */
static void by_lines(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	unsigned long last = 0;
	struct rep_logread r;
	struct rep_entry e;

	rep_logread_init(&r);
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (rep_logread_line(&r, p, len, nl != NULL, &e))
			check_entry(&e, &last);
		p += len + 1;
	}
	if (rep_logread_finish(&r, &e))
		check_entry(&e, &last);
	FUZZ_CHECK(rep_logread_finish(&r, &e) == 0);
}

static void analyzed(const uint8_t *data, size_t size, FILE *sink)
{
	static struct rep_analysis a;  /* large: not on the stack */
	struct rep_an_options opt = { .top = 10, .spike_factor = 3, .spike_floor = 1 << 20 };
	FILE *f = size ? fmemopen((void *)data, size, "r") : NULL;

	if (!f)
		return;
	FUZZ_CHECK(rep_analysis_init(&a, &opt) == 0);
	FUZZ_CHECK(rep_analysis_read(&a, f, "fuzz.log") == 0);
	rep_analysis_end(&a);
	FUZZ_CHECK(a.running.n <= a.running.cap && a.oom.n <= a.oom.cap);
	FUZZ_CHECK(a.biggest.n <= a.biggest.cap && a.left.n <= a.left.cap);
	rep_analysis_print(sink, &a);
	rep_analysis_json(sink, &a);
	rep_analysis_html(sink, &a);
	rep_analysis_free(&a);
	fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *sink;

	if (!sink)
		FUZZ_CHECK((sink = fopen("/dev/null", "we")) != NULL);
	by_lines(data, size);
	analyzed(data, size, sink);
	return 0;
}
