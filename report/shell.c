#include "report/shell.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "report/utf8.h"

#define PLAIN "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_@%+=:,./-"

/* Whether word holds a byte a terminal must not get as it is. */
static bool needs_escapes(const char *word)
{
	for (const char *p = word; *p; ) {
		uint32_t cp;
		size_t n = rep_utf8_next(p, &cp);

		if (n == 0 || rep_utf8_unsafe(cp))
			return true;
		p += n;
	}
	return false;
}

/* $'...': printable ASCII as it is (\\ and \' escaped), every other byte as \xHH. */
static size_t ansi_c_quoted(const char *word, char *out, size_t room)
{
	size_t n = 0;

	n += (size_t)snprintf(out, room, "$'");
	for (const unsigned char *p = (const unsigned char *)word; *p && n < room; p++) {
		if (*p == '\\' || *p == '\'')
			n += (size_t)snprintf(out + n, room - n, "\\%c", *p);
		else if (*p >= 0x20 && *p < 0x7f)
			n += (size_t)snprintf(out + n, room - n, "%c", *p);
		else
			n += (size_t)snprintf(out + n, room - n, "\\x%02x", *p);
	}
	if (n < room)
		n += (size_t)snprintf(out + n, room - n, "'");
	return n;
}

static size_t single_quoted(const char *word, char *out, size_t room)
{
	size_t n = (size_t)snprintf(out, room, "'");

	for (const char *p = word; *p && n < room; p++)
		n += (size_t)snprintf(out + n, room - n, *p == '\'' ? "'\\''" : "%c", *p);
	if (n < room)
		n += (size_t)snprintf(out + n, room - n, "'");
	return n;
}

bool rep_shell_append(char *out, size_t size, const char *word)
{
	size_t used = strlen(out), n, room;

	if (used + 2 > size)
		return false;
	room = size - used;
	n = used ? (size_t)snprintf(out + used, room, " ") : 0;
	if (*word && strspn(word, PLAIN) == strlen(word))
		n += (size_t)snprintf(out + used + n, room - n, "%s", word);
	else if (needs_escapes(word))
		n += ansi_c_quoted(word, out + used + n, room - n);
	else
		n += single_quoted(word, out + used + n, room - n);
	if (n >= room) {
		out[used] = '\0';
		return false;
	}
	return true;
}
