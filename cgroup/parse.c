/* Parsers for the text of cgroup files and /proc/self/cgroup: pure, no I/O, so they are
 * tested against captures from real kernels (tests/unit/fixtures). */
#include "cgroup/cgroup.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

/* Parses a decimal u64 from [p, end), all of it digits. */
static int parse_digits(const char *p, const char *end, uint64_t *val)
{
	uint64_t v = 0;

	if (p == end)
		return -EINVAL;
	for (; p < end; p++) {
		unsigned digit;

		if (*p < '0' || *p > '9')
			return -EINVAL;
		digit = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - digit) / 10)
			return -ERANGE;
		v = v * 10 + digit;
	}
	*val = v;
	return 0;
}

/* The end of the line starting at p (its '\n' or the final NUL). */
static const char *line_end(const char *p)
{
	const char *nl = strchr(p, '\n');

	return nl ? nl : p + strlen(p);
}

typedef void (*kv_fn)(const char *key, size_t key_len, uint64_t val, void *arg);

/* Calls fn for each "key value" line of a flat-keyed file (memory.events,
 * memory.oom_control). Returns 0, -EINVAL on a line without a number, -ERANGE. */
static int parse_flat_keyed(const char *text, kv_fn fn, void *arg)
{
	for (const char *p = text; *p; ) {
		const char *end = line_end(p), *sp;
		uint64_t val;
		int r;

		if (end == p) {  /* tolerate an empty line */
			p++;
			continue;
		}
		sp = memchr(p, ' ', (size_t)(end - p));
		if (!sp || sp == p)
			return -EINVAL;
		r = parse_digits(sp + 1, end, &val);
		if (r < 0)
			return r;
		fn(p, (size_t)(sp - p), val, arg);
		p = *end ? end + 1 : end;
	}
	return 0;
}

static bool key_is(const char *key, size_t len, const char *name)
{
	return strlen(name) == len && memcmp(key, name, len) == 0;
}

struct events_arg {
	struct cg_events *ev;
	int found;
};

static void events_kv(const char *key, size_t len, uint64_t val, void *arg)
{
	struct events_arg *a = arg;
	static const struct { const char *name; size_t off; } fields[] = {
		{ "low",            offsetof(struct cg_events, low) },
		{ "high",           offsetof(struct cg_events, high) },
		{ "max",            offsetof(struct cg_events, max) },
		{ "oom",            offsetof(struct cg_events, oom) },
		{ "oom_kill",       offsetof(struct cg_events, oom_kill) },
		{ "oom_group_kill", offsetof(struct cg_events, oom_group_kill) },
	};

	/* Keys we do not know (newer kernels add some, e.g. sock_throttled) are skipped. */
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (key_is(key, len, fields[i].name)) {
			*(uint64_t *)((char *)a->ev + fields[i].off) = val;
			a->found++;
		}
	}
}

/* Returns 0; -EINVAL on a malformed line, -ERANGE on a number past 2^64, -ENODATA when the
 * text holds none of the counters (not a memory.events file). Absent counters are 0
 * (oom_group_kill is missing before 5.17). */
int cg_parse_events(const char *text, struct cg_events *ev)
{
	struct events_arg a = { .ev = ev, .found = 0 };
	int r;

	memset(ev, 0, sizeof(*ev));
	r = parse_flat_keyed(text, events_kv, &a);
	if (r < 0)
		return r;
	return a.found ? 0 : -ENODATA;
}

struct oom_arg {
	uint64_t oom_kill;
	bool found;
};

static void oom_kv(const char *key, size_t len, uint64_t val, void *arg)
{
	struct oom_arg *a = arg;

	if (key_is(key, len, "oom_kill")) {
		a->oom_kill = val;
		a->found = true;
	}
}

/* Returns 0; -EINVAL / -ERANGE on malformed text; -ENODATA when there is no oom_kill line
 * (kernels before 4.13 do not count OOM kills in memory.oom_control). */
int cg_parse_oom_control(const char *text, uint64_t *oom_kill)
{
	struct oom_arg a = { 0 };
	int r;

	r = parse_flat_keyed(text, oom_kv, &a);
	if (r < 0)
		return r;
	if (!a.found)
		return -ENODATA;
	*oom_kill = a.oom_kill;
	return 0;
}

/* One value, as the kernel prints it: digits or "max", then at most one newline.
 * Returns 0, -EINVAL or -ERANGE. */
int cg_parse_u64(const char *text, uint64_t *val)
{
	size_t len = strlen(text);

	if (len && text[len - 1] == '\n')
		len--;
	if (len == 3 && memcmp(text, "max", 3) == 0) {
		*val = UINT64_MAX;
		return 0;
	}
	return parse_digits(text, text + len, val);
}

/* Whether the comma-separated list [p, end) holds the word name. */
static bool list_has(const char *p, const char *end, const char *name)
{
	while (p < end) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *word_end = comma ? comma : end;

		if (key_is(p, (size_t)(word_end - p), name))
			return true;
		p = word_end + 1;
	}
	return false;
}

/* Lines are "ID:CONTROLLERS:PATH"; the path is the rest of the line (it may hold ':').
 * Returns 0, -ENOENT when no line matches, -ENAMETOOLONG when out is too small. */
int cg_parse_proc_cgroup(const char *text, enum cg_version v, char *out, size_t size)
{
	for (const char *p = text; *p; ) {
		const char *end = line_end(p);
		const char *c1 = memchr(p, ':', (size_t)(end - p));
		const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(end - c1 - 1)) : NULL;
		bool match;

		if (c2) {
			if (v == CG_V2)
				match = key_is(p, (size_t)(c1 - p), "0") && c2 == c1 + 1;
			else
				match = list_has(c1 + 1, c2, "memory");
			if (match) {
				size_t len = (size_t)(end - c2 - 1);

				if (len + 1 > size)
					return -ENAMETOOLONG;
				memcpy(out, c2 + 1, len);
				out[len] = '\0';
				return 0;
			}
		}
		p = *end ? end + 1 : end;
	}
	return -ENOENT;
}

/* Copies field [p, end) of a mountinfo line into out, undoing the kernel's octal escapes
 * (\040 for a blank, \011, \012, \134). Returns 0, or -ENAMETOOLONG. */
static int mountinfo_field(const char *p, const char *end, char *out, size_t size)
{
	size_t n = 0;

	for (; p < end; n++) {
		char c = *p++;

		if (c == '\\' && end - p >= 3 && p[0] >= '0' && p[0] <= '3' &&
		    p[1] >= '0' && p[1] <= '7' && p[2] >= '0' && p[2] <= '7') {
			c = (char)((p[0] - '0') * 64 + (p[1] - '0') * 8 + (p[2] - '0'));
			p += 3;
		}
		if (n + 1 >= size)
			return -ENAMETOOLONG;
		out[n] = c;
	}
	out[n] = '\0';
	return 0;
}

/* The start of the next blank-separated field after p, or NULL at the line's end. */
static const char *next_field(const char *p, const char *end)
{
	p = memchr(p, ' ', (size_t)(end - p));
	return p ? p + 1 : NULL;
}

int cg_parse_mountinfo_line(const char *line, struct cg_mountinfo *m)
{
	const char *end = line_end(line), *f[5], *sep, *type, *src, *opts;

	f[0] = line;
	for (int i = 1; i < 5; i++)  /* id, parent, major:minor, root, mount point */
		if (!(f[i] = next_field(f[i - 1], end)))
			return -EINVAL;
	sep = strstr(f[4], " - ");
	if (!sep || sep >= end)
		return -EINVAL;
	type = sep + 3;
	src = next_field(type, end);
	opts = src ? next_field(src, end) : NULL;
	if (!opts)
		return -EINVAL;
	if (mountinfo_field(f[3], f[4] - 1, m->root, sizeof(m->root)) < 0 ||
	    mountinfo_field(f[4], memchr(f[4], ' ', (size_t)(end - f[4])), m->point,
			    sizeof(m->point)) < 0 ||
	    mountinfo_field(type, src - 1, m->type, sizeof(m->type)) < 0 ||
	    mountinfo_field(opts, end, m->super_opts, sizeof(m->super_opts)) < 0)
		return -ENAMETOOLONG;
	return 0;
}

bool cg_option_has(const char *opts, const char *name)
{
	size_t len = strlen(name);

	for (const char *p = opts; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
		if (strncmp(p, name, len) == 0 && (p[len] == ',' || p[len] == '\0' ||
						   p[len] == '='))
			return true;
	return false;
}

int cg_parse_pressure(const char *text, unsigned *avg10_centi)
{
	static const char key[] = "some avg10=";
	const char *p = strstr(text, key), *dot;
	uint64_t whole, cents;

	/* The "some" line starts the file, or a line: never "full avg10=". */
	if (!p || (p != text && p[-1] != '\n'))
		return -EINVAL;
	p += sizeof(key) - 1;
	dot = strchr(p, '.');
	if (!dot || parse_digits(p, dot, &whole) < 0 || whole > 100 ||
	    parse_digits(dot + 1, dot + 3, &cents) < 0 || (dot[3] != ' ' && dot[3] != '\n'))
		return -EINVAL;
	*avg10_centi = (unsigned)(whole * 100 + cents);
	return 0;
}
