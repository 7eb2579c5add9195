/* The table of settings, and the parsing and formatting of their values. The command line
 * and INI files both go through cfg_parse_typed, so a value means the same, and is refused
 * with the same words, wherever it is given. */
#include "runner/config/keys.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "runner/config/shard.h"
#include "runner/config/size.h"

#define DEFAULT_INTERVAL_NS (100ULL * 1000 * 1000)
#define DEFAULT_KILL_AFTER_NS (10ULL * 1000 * 1000 * 1000)
#define FRAMES_MAX 65535  /* the most allocation lines --tracemalloc N logs per test */

#define KEY(ini, opt, type, field) { ini, opt, type, offsetof(struct run_options, field) }

const struct cfg_key_info cfg_keys[CFG_NKEYS] = {
	[CFG_LIMIT]       = KEY("limit",       "--limit",       CFG_T_SIZE,     limit),
	[CFG_TEST_LIMIT]  = KEY("test_limit",  "--test-limit",  CFG_T_SIZE,     test_limit),
	[CFG_SWAP]        = KEY("swap",        "--swap",        CFG_T_SWAP,     swap),
	[CFG_HIGH]        = KEY("high",        "--high",        CFG_T_SIZE,     high),
	[CFG_LOG]         = KEY("log",         "--log",         CFG_T_PATH,     log_path),
	[CFG_APPEND]      = KEY("append",      "--append",      CFG_T_BOOL,     append),
	[CFG_INTERVAL]    = KEY("interval",    "--interval",    CFG_T_INTERVAL, interval_ns),
	[CFG_KILL_AFTER]  = KEY("kill_after",  "--kill-after",  CFG_T_DURATION, kill_after_ns),
	[CFG_QUIET]       = KEY("quiet",       "--quiet",       CFG_T_BOOL,     quiet),
	[CFG_PLUGIN]      = KEY("plugin",      "--no-plugin",   CFG_T_BOOL,     plugin),
	[CFG_STOP_ON_OOM] = KEY("stop_on_oom", "--stop-on-oom", CFG_T_BOOL,     stop_on_oom),
	[CFG_TRACEMALLOC] = KEY("tracemalloc", "--tracemalloc", CFG_T_FRAMES,   tracemalloc),
	[CFG_JUNIT_XML]   = KEY("junit_xml",   "--junit-xml",   CFG_T_PATH,     junit_xml),
	[CFG_JSON]        = KEY("json",        "--json",        CFG_T_PATH,     json),
	[CFG_HTML]        = KEY("html",        "--html",        CFG_T_PATH,     html),
	[CFG_OOM_SCORE_ADJ] = KEY("oom_score_adj", "--no-oom-score-adj", CFG_T_BOOL, oom_score_adj),
	[CFG_BUDGETS]     = KEY("budgets",     "--budgets",     CFG_T_PATH,     budgets),
	[CFG_PIDS_MAX]    = KEY("pids_max",    "--pids-max",    CFG_T_COUNT,    pids_max),
	[CFG_SHARD]       = KEY("shard",       "--shard",       CFG_T_SHARD,    shard),
	[CFG_SHARD_LOG]   = KEY("shard_log",   "--shard-log",   CFG_T_PATH,     shard_log),
	[CFG_EXPECT]      = KEY("expect",      "--expect",      CFG_T_PATH,     expect),
};

int cfg_key_find(const char *name)
{
	for (int k = 0; k < CFG_NKEYS; k++)
		if (strcmp(cfg_keys[k].ini, name) == 0)
			return k;
	return -ENOENT;
}

void cfg_defaults(struct run_options *o, uint64_t phys)
{
	memset(o, 0, sizeof(*o));
	o->limit = phys ? phys / 100 * CFG_DEFAULT_LIMIT_PERCENT : CFG_SIZE_MAX;
	o->test_limit = o->limit;
	o->swap = 0;
	o->high = CFG_SIZE_MAX;
	o->interval_ns = DEFAULT_INTERVAL_NS;
	o->kill_after_ns = DEFAULT_KILL_AFTER_NS;
	o->plugin = true;
	o->oom_score_adj = true;
}

/* "LABEL: invalid value 'TEXT' (what)", or "out of range:" for -ERANGE. Returns r. */
static int bad_value(struct wc_error *e, const char *label, const char *text, int r,
		     const char *what)
{
	wc_fail(e, 0, "%s: %s '%s' %s", label,
		 r == -ERANGE ? "out of range:" : "invalid value", text, what);
	return r == -ERANGE ? -ERANGE : -EINVAL;
}

/* yes/no and the spellings configparser and systemd accept. Returns 0 or -EINVAL. */
static int parse_bool(const char *text, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(text, yes[i]) == 0 || strcasecmp(text, no[i]) == 0) {
			*out = strcasecmp(text, yes[i]) == 0;
			return 0;
		}
	}
	return -EINVAL;
}

/* A decimal from 0 to FRAMES_MAX, digits only. Returns 0, -EINVAL or -ERANGE. */
static int parse_frames(const char *text, unsigned *out)
{
	unsigned long v = 0;

	if (!*text || strspn(text, "0123456789") != strlen(text))
		return -EINVAL;
	for (const char *p = text; *p; p++) {
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > FRAMES_MAX)
			return -ERANGE;
	}
	*out = (unsigned)v;
	return 0;
}

/* "max", or a count from 1 to 4194304 (the kernel's largest pid_max): pids.max. */
static int parse_count(const char *text, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (strcmp(text, "max") == 0) {
		*out = UINT64_MAX;
		return 0;
	}
	if (*text < '0' || *text > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(text, &end, 10);
	if (*end)
		return -EINVAL;
	if (errno || v < 1 || v > 4194304)
		return -ERANGE;
	*out = v;
	return 0;
}

/* A memory size the kernel can hold: a limit is counted in pages, and one under a page fails
 * only when the kernel is asked (or holds nothing at all). Returns 0 or -ERANGE with e. */
static int at_least_a_page(const char *label, const char *text, uint64_t bytes,
			   struct wc_error *e)
{
	long page = sysconf(_SC_PAGESIZE);
	char what[96];

	if (page <= 0 || bytes >= (uint64_t)page)
		return 0;
	snprintf(what, sizeof(what), "(under a page: a size is at least %ld bytes; e.g. 64M)",
		 page);
	return bad_value(e, label, text, -ERANGE, what);
}

int cfg_parse_typed(enum cfg_type type, const char *label, const char *text, uint64_t phys,
		    void *field, struct wc_error *e)
{
	char what[96];
	int r = 0;

	switch (type) {
	case CFG_T_SWAP:
		/* 0 is a real swap size (and the default), unlike a memory limit. */
		if (strcmp(text, "0") == 0) {
			*(uint64_t *)field = 0;
			return 0;
		}
		r = cfg_parse_size(text, phys, field);
		if (r < 0)
			return bad_value(e, label, text, r, "(a size: 0, bytes, 512M, 1.5G, 50% or "
					 "max; under 8 EiB)");
		return at_least_a_page(label, text, *(uint64_t *)field, e);
	case CFG_T_SIZE:
		r = cfg_parse_size(text, phys, field);
		if (r < 0)
			return bad_value(e, label, text, r, "(a size: bytes, 512M, 1.5G, 50% or max; "
					 "more than 0, under 8 EiB)");
		return at_least_a_page(label, text, *(uint64_t *)field, e);
	case CFG_T_DURATION:
		r = cfg_parse_duration(text, field);
		return r < 0 ? bad_value(e, label, text, r, "(a duration: 100ms, 2s, 1m; more than "
					 "0, at most 1 day)") : 0;
	case CFG_T_INTERVAL:
		r = cfg_parse_duration(text, field);
		if (r == 0 && *(uint64_t *)field < CFG_INTERVAL_MIN_NS)
			r = -ERANGE;
		snprintf(what, sizeof(what), "(a sampling period: %llums to 1 day, e.g. 100ms, 1s)",
			 CFG_INTERVAL_MIN_NS / 1000000);
		return r < 0 ? bad_value(e, label, text, r, what) : 0;
	case CFG_T_BOOL:
		r = parse_bool(text, field);
		return r < 0 ? bad_value(e, label, text, r, "(yes or no)") : 0;
	case CFG_T_FRAMES:
		r = parse_frames(text, field);
		return r < 0 ? bad_value(e, label, text, r, "(frames per allocation, 0 to 65535; "
					 "0: off)") : 0;
	case CFG_T_COUNT:
		r = parse_count(text, field);
		return r < 0 ? bad_value(e, label, text, r, "(a number of processes, 1 to "
					 "4194304, or max)") : 0;
	case CFG_T_SHARD:
		r = cfg_shard_parse(text, field);
		snprintf(what, sizeof(what), "(a shard I/N with 1 <= I <= N <= %u, e.g. 2/3; or "
			 "auto, auto/N)", CFG_SHARD_MAX);
		return r < 0 ? bad_value(e, label, text, r, what) : 0;
	case CFG_T_PATH:
		if (!*text)
			return bad_value(e, label, text, -EINVAL, "(a file name)");
		*(const char **)field = text;
		return 0;
	}
	return bad_value(e, label, text, -EINVAL, "");
}

int cfg_parse_value(struct run_options *o, enum cfg_key k, const char *label, const char *text,
		    uint64_t phys, struct wc_error *e)
{
	int r = cfg_parse_typed(cfg_keys[k].type, label, text, phys,
				(char *)o + cfg_keys[k].offset, e);

	if (r == 0)
		o->set |= CFG_BIT(k);
	return r;
}

void cfg_copy_value(struct run_options *dst, const struct run_options *src, enum cfg_key k)
{
	size_t off = cfg_keys[k].offset;
	void *to = (char *)dst + off;
	const void *from = (const char *)src + off;

	switch (cfg_keys[k].type) {
	case CFG_T_SIZE:
	case CFG_T_SWAP:
	case CFG_T_DURATION:
	case CFG_T_INTERVAL:
	case CFG_T_COUNT:
		*(uint64_t *)to = *(const uint64_t *)from;
		break;
	case CFG_T_BOOL:
		*(bool *)to = *(const bool *)from;
		break;
	case CFG_T_FRAMES:
		*(unsigned *)to = *(const unsigned *)from;
		break;
	case CFG_T_SHARD:
		*(struct run_shard *)to = *(const struct run_shard *)from;
		break;
	case CFG_T_PATH:
		*(const char **)to = *(const char *const *)from;
		break;
	}
}

void cfg_format_size(uint64_t bytes, char *buf, size_t size)
{
	static const char units[] = "KMGT";
	int u = -1;

	if (bytes == CFG_SIZE_MAX) {
		snprintf(buf, size, "max");
		return;
	}
	while (u < 3 && bytes != 0 && bytes % 1024 == 0) {
		bytes /= 1024;
		u++;
	}
	if (u < 0)
		snprintf(buf, size, "%" PRIu64, bytes);
	else
		snprintf(buf, size, "%" PRIu64 "%c", bytes, units[u]);
}

void cfg_format_duration(uint64_t ns, char *buf, size_t size)
{
	static const struct { const char *unit; uint64_t ns; } units[] = {
		{ "h", UINT64_C(3600000000000) }, { "m", UINT64_C(60000000000) },
		{ "s", UINT64_C(1000000000) }, { "ms", UINT64_C(1000000) },
	};

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (ns != 0 && ns % units[i].ns == 0) {
			snprintf(buf, size, "%" PRIu64 "%s", ns / units[i].ns, units[i].unit);
			return;
		}
	}
	snprintf(buf, size, "%" PRIu64 ".%09" PRIu64 "s", ns / UINT64_C(1000000000),
		 ns % UINT64_C(1000000000));
}

void cfg_format_value(const struct run_options *o, enum cfg_key k, char *buf, size_t size)
{
	const void *field = (const char *)o + cfg_keys[k].offset;
	const char *path;
	uint64_t v;

	switch (cfg_keys[k].type) {
	case CFG_T_SIZE:
	case CFG_T_SWAP:
		v = *(const uint64_t *)field;
		cfg_format_size(v, buf, size);
		return;
	case CFG_T_DURATION:
	case CFG_T_INTERVAL:
		v = *(const uint64_t *)field;
		cfg_format_duration(v, buf, size);
		return;
	case CFG_T_BOOL:
		snprintf(buf, size, "%s", *(const bool *)field ? "yes" : "no");
		return;
	case CFG_T_FRAMES:
		snprintf(buf, size, "%u", *(const unsigned *)field);
		return;
	case CFG_T_COUNT:
		v = *(const uint64_t *)field;
		if (v == 0)
			snprintf(buf, size, "auto");  /* the default: derived from the kernel's */
		else if (v == UINT64_MAX)
			snprintf(buf, size, "max");
		else
			snprintf(buf, size, "%" PRIu64, v);
		return;
	case CFG_T_SHARD:
		cfg_shard_format(field, buf, size);
		return;
	case CFG_T_PATH:
		path = *(const char *const *)field;
		snprintf(buf, size, "%s", path ? path : "");
		return;
	}
}
