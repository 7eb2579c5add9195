#include "runner/exec/status.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "runner/session/say.h"

int run_exec_status(int err)
{
	return err == ENOENT ? 127 : 126;
}

void run_exec_say(const char *argv0, int err)
{
	char text[4200];

	/* argv0 comes from the command line or a profile: run_say escapes it. */
	snprintf(text, sizeof(text), "%s: %s", argv0, strerror(err));
	run_say("", text);
}
