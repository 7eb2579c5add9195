/* Our sections in other tools' INI files: a project that keeps its tools' settings in
 * pytest.ini, tox.ini or setup.cfg may keep ours there too, as tox and setuptools name theirs
 * ([testenv:NAME], [tool:pytest]): [wcmem-sandbox] is [defaults],
 * [wcmem-sandbox:profile NAME] and [wcmem-sandbox:suite NAME] are [profile NAME] and
 * [suite NAME]. Every other section of such a file is the other tools' and is not read. */
#ifndef WCMEM_RUNNER_CONFIG_SHARED_H
#define WCMEM_RUNNER_CONFIG_SHARED_H

#include <stdbool.h>
#include <stddef.h>

#define CFG_SHARED_SECTION "wcmem-sandbox"

/* The shared files, in the order a folder is searched (pytest's order for its rootdir),
 * NULL-terminated. */
extern const char *const cfg_shared_names[];

/* Whether path's last component is one of cfg_shared_names: 1 or 0. */
int cfg_is_shared(const char *path);

/* Whether a line (len bytes, leading blanks gone) heads one of our sections in a shared
 * file: "[wcmem-sandbox]" or "[wcmem-sandbox:...". Returns 1 or 0. */
int cfg_shared_header(const char *line, size_t len);

/* Whether text holds one of our section headers at the start of a line (an indented one
 * is the continuation of another tool's value). Returns 1 or 0. */
int cfg_shared_has_section(const char *text, size_t len);

/* A section as the file names it, for messages: kind "defaults", "profile" or "suite" with
 * its name ("" for defaults), in a shared file or not: "[profile ci]", "[wcmem-sandbox]",
 * "[wcmem-sandbox:suite unit]". Returns buf (cut to fit, NUL-terminated). */
char *cfg_section_label(bool shared, const char *kind, const char *name, char *buf,
			size_t size);

#endif
