/* `wcmem-sandbox doctor`: the probes outside cgroupfs, the output, the command line. The
 * cgroup probes are cgroup/probe.c; the verdicts doctor_checks.c. */
#include "runner/commands/doctor.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "report/json.h"

static const char *const status_text[] = { "PASS", "WARN", "FAIL" };
static const char *const status_json[] = { "pass", "warn", "fail" };

/* The systemd user manager's private socket: $XDG_RUNTIME_DIR/systemd/private, else
 * /run/user/UID/systemd/private. It is what systemd-run --user talks to. */
static void user_manager(uid_t uid, char *out, size_t size)
{
	const char *runtime = getenv("XDG_RUNTIME_DIR");
	char path[512];
	struct stat st;

	if (runtime && *runtime)
		snprintf(path, sizeof(path), "%s/systemd/private", runtime);
	else
		snprintf(path, sizeof(path), "/run/user/%d/systemd/private", (int)uid);
	*out = '\0';
	if (stat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		snprintf(out, size, "%s", path);
}

static void gather(struct run_doctor_facts *f)
{
	const char *base = getenv("WCMEM_CGROUP_BASE");
	struct wc_error e = { 0 };
	struct utsname u;

	memset(f, 0, sizeof(*f));
	f->uid = geteuid();
	f->base_given = base && *base;
	f->found = cg_probe(&f->cg, base, &e) == 0;
	if (!f->found)
		wc_error_text(&e, f->why, sizeof(f->why));
	if (uname(&u) == 0 &&
	    run_parse_kernel_release(u.release, &f->kernel_major, &f->kernel_minor) < 0)
		f->kernel_major = f->kernel_minor = 0;
	user_manager(f->uid, f->user_manager, sizeof(f->user_manager));
}

static int finish(FILE *out)
{
	if (fflush(out) == EOF || ferror(out))
		return -EIO;
	return 0;
}

int run_doctor_write_text(FILE *out, const struct run_check *c, size_t n)
{
	size_t warn = 0, fail = 0;

	for (size_t i = 0; i < n; i++) {
		fprintf(out, "%s  %-25s  %s", status_text[c[i].status], c[i].name, c[i].found);
		if (*c[i].todo)
			fprintf(out, "; to do: %s", c[i].todo);
		fputc('\n', out);
		warn += c[i].status == RUN_WARN;
		fail += c[i].status == RUN_FAIL;
	}
	if (fail)
		fprintf(out, "wcmem-sandbox doctor: a run would not work here: %zu check%s "
			"failed\n", fail, fail == 1 ? "" : "s");
	else
		fprintf(out, "wcmem-sandbox doctor: a run would work here (%zu warning%s)\n", warn,
			warn == 1 ? "" : "s");
	return finish(out);
}

int run_doctor_write_json(FILE *out, const struct run_check *c, size_t n)
{
	fprintf(out, "{\"schema\": \"wcmem-sandbox-doctor/1\", \"ok\": %s, \"checks\": [",
		run_doctor_ok(c, n) ? "true" : "false");
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "%s\n  {\"name\": ", i ? "," : "");
		rep_json_string(out, c[i].name);
		fprintf(out, ", \"status\": \"%s\", \"found\": ", status_json[c[i].status]);
		rep_json_string(out, c[i].found);
		fputs(", \"todo\": ", out);
		rep_json_string(out, *c[i].todo ? c[i].todo : NULL);
		fputc('}', out);
	}
	fputs("\n]}\n", out);
	return finish(out);
}

static void usage(void)
{
	fputs("Usage: wcmem-sandbox doctor [--json]\n"
	      "Check whether a run would work here, and what it would do without: one line a\n"
	      "check, PASS, WARN or FAIL, with what to do. WCMEM_CGROUP_BASE is honoured.\n"
	      "\n"
	      "      --json     the checks as JSON (schema wcmem-sandbox-doctor/1)\n"
	      "  -h, --help     show this help and exit\n"
	      "\n"
	      "Exit status: 0 when a run would work (warnings or not), 1 when a check failed,\n"
	      "125 on a usage error.\n", stdout);
}

/* Returns 1 for --json, 0 for text, 2 when --help was printed, or -EINVAL (said). */
static int parse(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, json = 0;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		if (c == 'j') {
			json = 1;
		} else if (c == 'h') {
			usage();
			return 2;
		} else {
			fprintf(stderr, "wcmem-sandbox: doctor: unknown option '%s'\n",
				argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "wcmem-sandbox: doctor takes no arguments, not '%s'\n",
			argv[optind]);
		return -EINVAL;
	}
	return json;
}

int run_doctor(int argc, char **argv)
{
	struct run_check checks[RUN_DOCTOR_MAX];
	struct run_doctor_facts facts;
	size_t n;
	int json = parse(argc, argv), r;

	if (json < 0) {
		fputs("Try 'wcmem-sandbox doctor --help' for more information.\n", stderr);
		return 125;
	}
	if (json == 2)
		return 0;
	gather(&facts);
	n = run_doctor_evaluate(&facts, checks);
	r = json ? run_doctor_write_json(stdout, checks, n) : run_doctor_write_text(stdout,
										      checks, n);
	if (r < 0) {
		fprintf(stderr, "wcmem-sandbox: doctor: write the checks: %s\n", strerror(-r));
		return 125;
	}
	return run_doctor_ok(checks, n) ? 0 : 1;
}
