/* `wcmem-sandbox doctor`: the probes outside cgroupfs, the output, the command line. The
 * cgroup probes are cgroup/probe.c; the verdicts doctor_checks.c. */
#include "runner/commands/doctor.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "report/file.h"
#include "report/json.h"
#include "runner/commands/cli.h"

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
	f->psi = access("/proc/pressure/memory", R_OK) == 0 ? CG_HAVE :
		 errno == ENOENT || errno == EOPNOTSUPP ? CG_MISSING : CG_UNKNOWN;
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

static void usage(FILE *out)
{
	fputs("Usage: wcmem-sandbox doctor [--json [FILE]]\n"
	      "Check whether a run would work here, and what it would do without: one line a\n"
	      "check, PASS, WARN or FAIL, with what to do. WCMEM_CGROUP_BASE is honoured.\n"
	      "\n"
	      "      --json FILE    write the checks as JSON to FILE (schema\n"
	      "                     wcmem-sandbox-doctor/1); FILE '-', or none: standard\n"
	      "                     output, instead of the text\n"
	      "  -h, --help         show this help and exit\n"
	      "  -V, --version      show the version and exit\n"
	      "\n"
	      "Exit status: 0 when a run would work (warnings or not), 1 when a check failed,\n"
	      "125 on a usage error.\n", out);
}

/* Returns 1 to run the checks, 0 when done (--help, --version), or -EINVAL with e filled. */
static int parse(int argc, char **argv, const char **json, struct wc_error *e)
{
	static const struct option longopts[] = {
		{ "json", optional_argument, NULL, 'j' },  /* FILE: "--json=FILE", "--json FILE" */
		RUN_CLI_LONGOPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	struct run_cli cli = { .name = "doctor", .optstring = "+:hV", .longopts = longopts,
			       .usage = usage };
	int c;

	run_cli_start(&cli, argc, argv);
	while ((c = run_cli_next(&cli)) != -1) {
		if (c != 'j')
			return run_cli_other(&cli, c, e);
		/* --json was a flag (standard output): alone, or before an option, it still is */
		*json = optarg ? optarg : "-";
		if (!optarg && optind < argc && (argv[optind][0] != '-' || !argv[optind][1]))
			*json = argv[optind++];
	}
	if (optind < argc)
		return run_cli_usage_error(e, "unexpected argument '%s' (doctor takes options "
					   "only)", argv[optind]);
	return 1;
}

int run_doctor(int argc, char **argv)
{
	struct run_check checks[RUN_DOCTOR_MAX];
	struct run_doctor_facts facts;
	struct wc_error e = { 0 };
	const char *json = NULL;
	FILE *f = NULL;
	size_t n;
	int r = parse(argc, argv, &json, &e);

	if (r <= 0)
		return run_cli_exit("doctor", r, &e);
	/* opened before the checks, as a run's reports are: a path that cannot be written
	 * fails at once, never through a planted link */
	if (json && rep_file_open_report(json, REP_DIRS_NONE, &f, &e) < 0) {
		run_cli_error(stderr, "doctor", &e);
		return RUN_CLI_FAILURE;
	}
	gather(&facts);
	n = run_doctor_evaluate(&facts, checks);
	r = json && strcmp(json, "-") == 0 ? 0 : run_doctor_write_text(stdout, checks, n);
	if (r == 0 && f)
		r = run_doctor_write_json(f, checks, n);
	if (f && fclose(f) != 0 && r == 0)
		r = -errno;
	if (r < 0) {
		wc_fail(&e, -r, json ? "write %s" : "write the checks", json);
		run_cli_error(stderr, "doctor", &e);
		return RUN_CLI_FAILURE;
	}
	return run_doctor_ok(checks, n) ? RUN_CLI_OK : 1;
}
