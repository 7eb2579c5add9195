#include "runner/session/say.h"

#include <stdarg.h>
#include <stdio.h>

#include "report/log.h"

void run_warn(const char *fmt, ...)
{
	char text[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	run_say("warning: ", text);
}

bool run_once(struct run_once *o, enum run_once_what what)
{
	bool first = !o->said[what];

	o->said[what] = true;
	return first;
}

void run_say(const char *what, const char *text)
{
	/* Messages carry text from outside (test names, client lines, INI values): escaped. */
	fprintf(stderr, "wcmem-sandbox: %s", what);
	rep_log_escape_lines(stderr, text);
	fputc('\n', stderr);
}
