/* The SIZE and DURATION parsers, and the typed values of every setting (runner/config/size.c,
 * runner/config/keys.c): any text is a value or a clean refusal, never a crash or an
 * overflow, and what is accepted is in range. */
#include <errno.h>

#include "runner/config/keys.h"
#include "runner/config/shard.h"
#include "runner/config/size.h"
#include "fuzz.h"

#define PHYS (UINT64_C(16) << 30)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_string(data, size);
	struct wc_error e;
	uint64_t v;
	int r;

	r = cfg_parse_size(text, PHYS, &v);
	FUZZ_CHECK(r == 0 || r == -EINVAL || r == -ERANGE);
	FUZZ_CHECK(r != 0 || v == CFG_SIZE_MAX || (v > 0 && v < (UINT64_C(1) << 63)));
	r = cfg_parse_duration(text, &v);
	FUZZ_CHECK(r == 0 || r == -EINVAL || r == -ERANGE);
	FUZZ_CHECK(r != 0 || (v > 0 && v <= UINT64_C(86400) * 1000000000));
	for (int k = 0; k < CFG_NKEYS; k++) {
		/* as large as any setting's field: a shard is a struct */
		union {
			uint64_t u64; bool b; unsigned u; const char *s; struct run_shard shard;
		} field;

		r = cfg_parse_typed(cfg_keys[k].type, cfg_keys[k].option, text, PHYS, &field, &e);
		FUZZ_CHECK(r == 0 || r == -EINVAL || r == -ERANGE);
		FUZZ_CHECK(r == 0 || strlen(e.msg) < sizeof(e.msg));
		FUZZ_CHECK(r != 0 || cfg_keys[k].type != CFG_T_INTERVAL ||
			   field.u64 >= CFG_INTERVAL_MIN_NS);
	}
	free(text);
	return 0;
}
