/* `wcmem-sandbox budget` end to end, in memory: the input's first two bytes pick the margin
 * and the floor, the rest is a memory log. Its peaks are read (budget_peaks_read, as the
 * command reads a file), a line is made for each, and the whole file is read back with
 * budget_parse: every line written is read back as the same name and the same bytes, and
 * only a name that cannot be budgeted (empty, cut, too long for a line) or a peak past any
 * SIZE goes without a line. A test's bytes are made from its peak and the charge of the
 * fixtures it shared (budget_need); it keeps at most BUDGET_FIXTURES_MAX of them. The input is also given to budget_parse as a budget file: it is
 * read, or refused with "FILE:LINE: message" and a hint. --expect finds each test whose
 * name the log's escaping leaves as it is at its peak (budget_expected). */
#include <errno.h>

#include "report/log.h"
#include "runner/budget/budget.h"
#include "fuzz.h"

#define MIB (UINT64_C(1) << 20)
#define SIZE_LIMIT (UINT64_C(1) << 63)

/* The file budget would write, and how many lines it holds. */
struct out {
	char *text;
	size_t len, cap;
	size_t lines;
};

static void append(struct out *o, const char *s, size_t n)
{
	if (o->len + n + 1 > o->cap) {
		o->cap = (o->len + n + 1) * 2;
		o->text = realloc(o->text, o->cap);
		FUZZ_CHECK(o->text != NULL);
	}
	memcpy(o->text + o->len, s, n);
	o->len += n;
	o->text[o->len] = '\0';
}

/* What budget_from_peak promises: a whole MiB from the larger of peak and floor, or 0 when
 * that is past the largest SIZE. */
static void check_bytes(uint64_t peak, unsigned margin, uint64_t floor, uint64_t bytes)
{
	if (bytes == 0) {
		FUZZ_CHECK(peak >= (SIZE_LIMIT - MIB) / (100 + margin) * 100 ||
			   floor > SIZE_LIMIT - MIB);
		return;
	}
	FUZZ_CHECK(bytes % MIB == 0 && bytes < SIZE_LIMIT && bytes >= peak && bytes >= floor);
	FUZZ_CHECK(bytes - MIB < (peak > floor ? peak : floor) + peak / 100 * margin + margin);
}

static void line_of(const struct budget_peak *p, unsigned margin, uint64_t floor,
		    struct out *o)
{
	char buf[BUDGET_LINE_MAX * 4];
	uint64_t bytes = budget_from_peak(budget_need(p), margin, floor);
	size_t nlen = strlen(p->name);
	int n;

	check_bytes(budget_need(p), margin, floor, bytes);
	n = budget_line(p, bytes ? bytes : MIB, buf, sizeof(buf));
	if (n < 0) {
		/* Only what cannot be budgeted: an empty or cut name, or one too long to fit
		 * once encoded (3 bytes a character at most, 30 for "test = NM "). */
		FUZZ_CHECK(nlen == 0 || p->cut || nlen * 3 + 30 > BUDGET_LINE_MAX);
		FUZZ_CHECK(n == (nlen ? -E2BIG : -EINVAL));
		return;
	}
	FUZZ_CHECK(nlen > 0 && !p->cut);
	FUZZ_CHECK((size_t)n == strlen(buf) && n <= BUDGET_LINE_MAX && !strpbrk(buf, "\r\n"));
	append(o, buf, (size_t)n);
	append(o, "\n", 1);
	o->lines++;
}

/* --expect looks a test up by the name the plugin sends, escaped as the log escapes it:
 * a whole name that escaping leaves as it is names its own test. */
static void expect_finds(const struct budget_peaks *t, const struct budget_peak *p)
{
	char escaped[BUDGET_NAME_MAX * 6 + 8];

	if (p->cut || rep_log_escape(p->name, escaped, sizeof(escaped)) != strlen(p->name) ||
	    strcmp(escaped, p->name) != 0)
		return;
	FUZZ_CHECK(budget_expected(t, p->name) == p->peak);
}

/* Every line written is read back: the name as the log had it, the bytes written. */
static void read_back(const struct budget_peaks *t, unsigned margin, uint64_t floor,
		      const struct out *o)
{
	struct budget_file bf;
	struct wc_error e = { 0 };
	size_t found = 0;

	if (budget_parse("w.ini", o->text, o->len, &bf, &e) != 0) {
		fprintf(stderr, "written:\n%s\nrefused: %s\n", o->text, e.msg);
		FUZZ_CHECK(!"budget_parse reads what budget_line wrote");
	}
	FUZZ_CHECK(bf.n == o->lines);
	for (const struct budget_peak *p = t->first; p; p = p->after) {
		struct budget *b = budget_find(&bf, p->name);
		uint64_t bytes = budget_from_peak(budget_need(p), margin, floor);

		if (!b)
			continue;
		FUZZ_CHECK(b->bytes == (bytes ? bytes : MIB));
		found++;
	}
	FUZZ_CHECK(found == o->lines);
	budget_free(&bf);
}

/* The input as a budget file: read, or refused where it says. */
static void parse_as_file(const uint8_t *data, size_t size)
{
	struct budget_file bf;
	struct wc_error e = { 0 };
	int r = budget_parse("f.ini", (const char *)data, size, &bf, &e);

	if (r == 0) {
		for (size_t i = 0; i < bf.n; i++) {
			FUZZ_CHECK(bf.v[i].bytes > 0 && bf.v[i].bytes < SIZE_LIMIT);
			FUZZ_CHECK(bf.v[i].line >= 1 && bf.v[i].name[0]);
			FUZZ_CHECK(budget_find(&bf, bf.v[i].name) == &bf.v[i]);
		}
		budget_free(&bf);
	} else {
		FUZZ_CHECK(r == -EINVAL || r == -ENOMEM);
		FUZZ_CHECK(strncmp(e.msg, "f.ini", 5) == 0 && e.hint[0]);
		FUZZ_CHECK(bf.n == 0 && bf.v == NULL);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t floors[] = { 1, 100 << 10, 16 * MIB, (UINT64_C(1) << 63) - 1 };
	unsigned margin = size > 0 ? data[0] * 4u : 20;  /* 0 to 1020, past --margin's 1000 */
	uint64_t floor = floors[size > 1 ? data[1] % 4 : 2];
	struct out o = { 0 };
	struct budget_peaks t;
	size_t n = 0, uses = 0;
	FILE *f;

	parse_as_file(data, size);
	budget_peaks_init(&t);
	f = size > 2 ? fmemopen((void *)(data + 2), size - 2, "r") : NULL;
	if (f) {
		FUZZ_CHECK(budget_peaks_read(&t, f) == 0);
		fclose(f);
	}
	append(&o, "[budgets]\n", 10);
	for (const struct budget_peak *p = t.first; p; p = p->after, n++) {
		FUZZ_CHECK(budget_peaks_find(&t, p->name) == p);
		FUZZ_CHECK(p->nuses <= BUDGET_FIXTURES_MAX);
		FUZZ_CHECK(budget_need(p) >= p->peak && budget_need(p) >= budget_shared(p));
		uses += p->nuses;
		expect_finds(&t, p);
		line_of(p, margin, floor, &o);
	}
	FUZZ_CHECK(n == t.n);
	FUZZ_CHECK(t.nfixtures <= uses);  /* a key is kept only for a test that uses it */
	read_back(&t, margin, floor, &o);
	budget_peaks_free(&t);
	free(o.text);
	return 0;
}
