#include "runner/config/shared.h"

#include <stdio.h>
#include <string.h>

const char *const cfg_shared_names[] = { "pytest.ini", "tox.ini", "setup.cfg", NULL };

int cfg_is_shared(const char *path)
{
	const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;

	for (const char *const *n = cfg_shared_names; *n; n++)
		if (strcmp(base, *n) == 0)
			return 1;
	return 0;
}

int cfg_shared_header(const char *line, size_t len)
{
	size_t n = sizeof(CFG_SHARED_SECTION) - 1, i = 1;

	if (len == 0 || line[0] != '[')
		return 0;
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (len - i <= n || memcmp(line + i, CFG_SHARED_SECTION, n) != 0)
		return 0;
	/* "[wcmem-sandbox-extra]" is another tool's; "[wcmem-sandbox foo]" is ours, and wrong. */
	return line[i + n] != '\0' && strchr("]: \t", line[i + n]) != NULL;
}

int cfg_shared_has_section(const char *text, size_t len)
{
	const char *p = text, *end = text + len, *nl;

	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;  /* a UTF-8 byte order mark */
	for (; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		if (cfg_shared_header(p, (size_t)(nl - p)))
			return 1;
	}
	return 0;
}

char *cfg_section_label(bool shared, const char *kind, const char *name, char *buf,
			size_t size)
{
	bool defaults = strcmp(kind, "defaults") == 0;

	if (shared && defaults)
		snprintf(buf, size, "[" CFG_SHARED_SECTION "]");
	else
		snprintf(buf, size, "[%s%s%s%s]", shared ? CFG_SHARED_SECTION ":" : "", kind,
			 *name ? " " : "", name);
	return buf;
}
