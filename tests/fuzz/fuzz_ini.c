/* The INI loader (runner/config/load.c and the checks after it), then what the runner does
 * with a loaded file: merge every profile under the command line, list its suites, show the
 * settings. Any file is loaded or refused with "FILE:LINE: message", never a crash; read
 * as our own file and as a shared one (setup.cfg: our sections only, the rest skipped). */
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "runner/commands/run_args.h"
#include "runner/config/config.h"
#include "runner/config/keys.h"
#include "runner/config/options.h"
#include "fuzz.h"

#define PHYS (UINT64_C(16) << 30)

/* The loader reads a path: the input goes into a memory file, named through /proc, and
 * through a link called setup.cfg in a folder of ours (removed at exit). */
static int memfd = -1;
static char path[64], dir[64], shared[96];

static void remove_shared(void)
{
	unlink(shared);
	rmdir(dir);
}

static void merge_every_profile(const struct cfg_file *f, FILE *sink)
{
	char *argv[] = { "wcmem-sandbox", NULL };
	struct cfg_origin origin[CFG_NKEYS];
	struct run_options cli, o;
	struct wc_error e;

	FUZZ_CHECK(cfg_parse_args(1, argv, PHYS, &cli, &e) == CFG_RUN);
	for (size_t i = 0; i < f->nprofiles; i++) {
		const struct cfg_suite **suites = NULL;

		FUZZ_CHECK(cfg_profile_find(f, f->profiles[i].name) == &f->profiles[i]);
		FUZZ_CHECK(cfg_merge(f, f->profiles[i].name, &cli, &o, origin, &e) == 0);
		FUZZ_CHECK(cfg_profile_suites(f, &f->profiles[i], &suites) >= 0);
		free(suites);
		cfg_show(sink, f, f->profiles[i].name, &o, origin);
	}
	for (size_t i = 0; i < f->nsuites; i++)
		FUZZ_CHECK(cfg_suite_find(f, f->suites[i].name) == &f->suites[i]);
}

static void load_as(const char *name, FILE *sink)
{
	struct cfg_file f;
	struct wc_error e = { 0 };

	if (cfg_load(name, CFG_FOUND_OPTION, PHYS, &f, &e) == 0) {
		merge_every_profile(&f, sink);
		cfg_free(&f);
	} else {
		FUZZ_CHECK(strncmp(e.msg, name, strlen(name)) == 0);  /* it says where */
		FUZZ_CHECK(f.path == NULL && f.nprofiles == 0 && f.nsuites == 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *sink;

	if (memfd < 0) {
		memfd = memfd_create("wcmem-fuzz.ini", MFD_CLOEXEC);
		sink = fopen("/dev/null", "we");
		FUZZ_CHECK(memfd >= 0 && sink);
		snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
		snprintf(dir, sizeof(dir), "/tmp/wcmem-fuzz-XXXXXX");
		FUZZ_CHECK(mkdtemp(dir) != NULL);
		snprintf(shared, sizeof(shared), "%s/setup.cfg", dir);
		FUZZ_CHECK(symlink(path, shared) == 0);
		atexit(remove_shared);
	}
	FUZZ_CHECK(ftruncate(memfd, 0) == 0);
	FUZZ_CHECK(pwrite(memfd, data, size, 0) == (ssize_t)size);
	load_as(path, sink);
	load_as(shared, sink);
	return 0;
}
