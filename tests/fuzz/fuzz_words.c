/* The shell-like word splitter of `command` and `env` (runner/config/words.c): any text is
 * words or a refusal that says where, never a crash; words never hold a NUL and are never
 * longer than the text. */
#include <errno.h>

#include "runner/config/config.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_string(data, size), **words = NULL;
	struct wc_error e = { 0 };
	int n = cfg_split_words(text, "quote it", &words, &e);

	FUZZ_CHECK(n >= 0 || n == -EINVAL || n == -ENOMEM);
	if (n >= 0) {
		FUZZ_CHECK(words != NULL && words[n] == NULL);
		for (int i = 0; i < n; i++)
			FUZZ_CHECK(strlen(words[i]) <= strlen(text));
	} else {
		FUZZ_CHECK(e.msg[0] != '\0');
	}
	cfg_words_free(words);
	free(text);
	return 0;
}
