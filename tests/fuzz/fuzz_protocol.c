/* The control protocol's line parser (runner/control/protocol.c): a sandboxed test sends these, so
 * every line is hostile. Any line is a message or a refusal with a reason; decoded fields
 * (which may hold any byte but NUL: the log escapes them) never run past the line; encoding
 * and decoding are each other's inverse. */
#include <errno.h>

#include "runner/config/field.h"
#include "runner/control/protocol.h"
#include "fuzz.h"

static void check_field(const char *line, size_t len, const char *field)
{
	if (!field)
		return;
	FUZZ_CHECK(field >= line && field <= line + len);
	FUZZ_CHECK(strlen(field) <= len);
}

/* encode then decode gives the text back, whatever its bytes. */
static void round_trip(const char *text)
{
	size_t need = cfg_field_encode(text, NULL, 0);
	char *enc = malloc(need + 1);

	FUZZ_CHECK(enc != NULL);
	FUZZ_CHECK(cfg_field_encode(text, enc, need + 1) == need);
	FUZZ_CHECK(strlen(enc) == need && !strpbrk(enc, " \n"));
	FUZZ_CHECK(cfg_field_decode(enc) == 0);
	FUZZ_CHECK(strcmp(enc, text) == 0);
	free(enc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = fuzz_string(data, size), *copy = strdup(line);
	size_t len = strlen(line);
	struct wc_error e = { 0 };
	struct run_msg m;
	int r;

	FUZZ_CHECK(copy != NULL);
	r = run_msg_parse(line, &m, &e);
	FUZZ_CHECK(r == 0 || r == -EINVAL);
	if (r == 0) {
		FUZZ_CHECK(m.verb <= RUN_MSG_STANDBY);
		check_field(line, len, m.name);
		FUZZ_CHECK(!strcmp(m.kind, "test") || !strcmp(m.kind, "command"));
		check_field(line, len, m.outcome);
		check_field(line, len, m.extras);
		check_field(line, len, m.where);
		check_field(line, len, m.reports);
		/* The verbs that take no name; every other one has a name that is not empty. */
		FUZZ_CHECK(m.verb == RUN_MSG_HELLO || m.verb == RUN_MSG_STANDBY ||
			   m.verb == RUN_MSG_RESUME || (m.name && *m.name));
		FUZZ_CHECK(m.status >= -1 && m.status <= 255);
	} else {
		FUZZ_CHECK(e.msg[0] != '\0');
	}
	round_trip(copy);
	free(copy);
	free(line);
	return 0;
}
