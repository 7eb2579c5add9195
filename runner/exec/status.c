#include "runner/exec/status.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "runner/session/say.h"

int run_exec_status(int err)
{
	if (err < 0)
		return 125;  /* not the command's failure: it could not be put in place */
	return err == ENOENT ? 127 : 126;
}

void run_exec_say(const char *argv0, int err)
{
	char text[4200];

	/* argv0 comes from the command line or a profile: run_say escapes it. */
	if (err < 0)
		snprintf(text, sizeof(text), "enter the sandbox's cgroup namespace: %s",
			 strerror(-err));
	else
		snprintf(text, sizeof(text), "%s: %s", argv0, strerror(err));
	run_say("", text);
}
