/* The command line (runner/config/args.c): NUL-separated words as argv. Any words are settings,
 * a usage error that names the bad option (never the program's own path), or --help. */
#include <errno.h>

#include "runner/commands/run_args.h"
#include "runner/config/options.h"
#include "fuzz.h"

#define PHYS (UINT64_C(16) << 30)
#define MAX_WORDS 64
#define ARGV0 "/never/an/option/wcmem-sandbox-Qz7"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *quiet;
	char *text = malloc(size + 1), *argv[MAX_WORDS + 2] = { ARGV0 };
	struct run_options o;
	struct wc_error e = { 0 };
	int argc = 1, r;

	FUZZ_CHECK(text != NULL);
	memcpy(text, data, size);
	text[size] = '\0';
	for (char *p = text; p <= text + size && argc <= MAX_WORDS;) {
		argv[argc++] = p;
		p += strlen(p) + 1;
	}
	argv[argc] = NULL;
	if (!quiet)  /* --help and --version print to stdout */
		FUZZ_CHECK((quiet = freopen("/dev/null", "w", stdout)) != NULL);
	r = cfg_parse_args(argc, argv, PHYS, &o, &e);
	FUZZ_CHECK(r == CFG_RUN || r == CFG_EXIT_OK || r == -EINVAL || r == -ERANGE);
	if (r < 0)  /* the program's name only where a word holds it */
		FUZZ_CHECK(e.msg[0] && (memmem(data, size, "Qz7", 3) || !strstr(e.msg, ARGV0)));
	free(text);
	return 0;
}
