/* merge's readers (report/merge_json.c, report/merge_junit.c): the input is a report, merged
 * with itself, as JSON when it starts with '{', else as JUnit XML. A merged JUnit file must
 * merge again (its own <testsuite> elements, the counts summed twice); a test in both
 * copies is counted by the check, never more often than the inputs hold tests. */
#include <errno.h>
#include <stdlib.h>

#include "report/merge.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rep_merge_input in[2] = { { "a", (const char *)data, size },
					 { "b", (const char *)data, size } };
	struct rep_merge_result res = { 0 }, again = { 0 };
	struct wc_error e = { 0 };
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	bool json = size > 0 && data[0] == '{';
	int r;

	if (!f)
		return 0;
	r = json ? rep_merge_json(in, 2, f, &res, &e) : rep_merge_junit(in, 2, f, &res, &e);
	fclose(f);
	FUZZ_CHECK(r == 0 || r == -EINVAL || r == -ENOMEM);
	if (r == 0 && !json) {
		struct rep_merge_input merged = { "merged", out, len };
		FILE *sink = fopen("/dev/null", "w");

		FUZZ_CHECK(sink != NULL);
		FUZZ_CHECK(rep_merge_junit(&merged, 1, sink, &again, &e) == 0);
		fclose(sink);
	}
	rep_merge_result_free(&res);
	rep_merge_result_free(&again);
	free(out);
	return 0;
}
