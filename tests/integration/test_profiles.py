"""Profiles: the INI file's suites run one after another in one session; settings by
precedence; `config`; the JUnit and JSON reports; every mistake in a file exits 125 with
FILE:LINE before anything runs."""
import json
import os
import signal
import subprocess
import xml.etree.ElementTree as ET

import pytest

from conftest import BIN, bin_for_others, wait_for_signal  # noqa: F401  (BIN: the binary under test)

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
FIXTURES = os.path.join(TOP, "tests", "unit", "fixtures", "ini")
GOLDEN = os.path.join(TOP, "tests", "unit", "golden")
MIB = 1 << 20


def write_ini(sandbox, text, name="wcmem-sandbox.ini"):
    path = sandbox.tmp / name
    path.write_text(text)
    return str(path)


def env(sandbox, **extra):
    """The sandbox's environment without the user's config file (XDG_CONFIG_HOME points into
    the test's folder) or a $WCMEM_SANDBOX_CONFIG, unless extra gives one."""
    e = dict(sandbox.env, XDG_CONFIG_HOME=str(sandbox.tmp / "xdg"))
    e.pop("WCMEM_SANDBOX_CONFIG", None)
    e.update(extra)
    return e


def wcmem(sandbox, *args, **kw):
    """sandbox.run from the test's folder (so no wcmem-sandbox.ini above the repository is
    found by chance) with env(sandbox)."""
    kw.setdefault("env", env(sandbox))
    kw.setdefault("cwd", sandbox.tmp)
    return sandbox.run(*args, **kw)


def two_suites(sandbox, extra=""):
    """A profile whose first suite blows past a 64 MiB limit and whose second passes."""
    py = "/usr/bin/python3"
    return f"""
[profile ci]
limit = 512M
test_limit = 256M
junit_xml = out/junit.xml
json = out/report.json
{extra}
suites = blowup small

[suite small]
command = {py} -c "print('small ran')" {sandbox.marker}

[suite blowup]
command = {py} -c "b = bytearray(400 << 20)" {sandbox.marker}
limit = 64M
"""


def test_profile_runs_every_suite_in_one_session(sandbox):
    # The first suite is OOM-killed under its own limit; the second still runs. One log and
    # one summary cover both; the exit status is the failing suite's; both reports say so.
    ini = write_ini(sandbox, two_suites(sandbox))
    run = wcmem(sandbox, "--config", ini, "--profile", "ci")
    assert run.rc == 137, run.stderr
    assert "small ran" in run.stdout
    assert len([e for e in run.entries if e.event == "SESSION_START"]) == 1
    ends = [e for e in run.entries if e.event == "TEST_END"]
    assert [e.name for e in ends] == ["blowup", "small"], run.log_text
    assert ends[0].value("OOM") == "killed (exceeded its own limit 64.0 MB)"
    assert ends[0].value("memory.max") == "64.0 MB"
    assert ends[1].value("memory.max") == "256.0 MB"  # the profile's test_limit
    assert "blowup" in run.stderr and "small" in run.stderr  # one summary, both suites

    junit = ET.parse(sandbox.tmp / "out" / "junit.xml").getroot()
    assert junit.get("tests") == "2" and junit.get("failures") == "1"
    cases = {c.get("name"): c for c in junit.iter("testcase")}
    assert set(cases) == {"blowup", "small"}
    failure = cases["blowup"].find("failure")
    assert failure.get("type") == "oom"
    assert failure.get("message").startswith("OOM-killed: exceeded its own limit 64.0 MB; peak ")
    assert cases["small"].find("failure") is None
    assert cases["small"].get("classname") == "suite"

    report = json.loads((sandbox.tmp / "out" / "report.json").read_text())
    assert report["schema"] == "wcmem-sandbox-report/1"
    assert report["session"]["exit_status"] == 137
    assert report["session"]["limit"] == 512 * MIB
    assert report["session"]["oom_killed"] == 1
    units = {u["name"]: u for u in report["units"]}
    assert [u["name"] for u in report["units"]] == ["blowup", "small"]
    assert {u["kind"] for u in units.values()} == {"suite"}
    blowup, small = units["blowup"], units["small"]
    assert blowup["oom"] == "own" and blowup["outcome"] == "failed"
    assert blowup["limit"] == 64 * MIB and 40 * MIB <= blowup["peak"] <= 64 * MIB
    assert blowup["exit"] == {"end": "signaled", "code": 9, "signal": "SIGKILL", "status": 137}
    assert blowup["events"]["oom_kill"] >= 1
    assert blowup["verdict"] == "OOM-killed: exceeded its own limit 64.0 MB"
    assert small["oom"] is None and small["outcome"] == "passed"
    assert small["exit"]["status"] == 0 and small["limit"] == 256 * MIB
    assert small["cgroup"].startswith(report["session"]["cgroup"] + "/")
    assert small["duration"] > 0 and small["start"].endswith("Z")


def test_stop_on_oom_runs_no_further_suite(sandbox):
    ini = write_ini(sandbox, two_suites(sandbox, "stop_on_oom = yes"))
    run = wcmem(sandbox, "--config", ini, "--profile", "ci")
    assert run.rc == 137
    assert "small ran" not in run.stdout
    assert "stopping after an OOM kill (stop_on_oom): 1 suite not run: small" in run.stderr
    assert [e.name for e in run.entries if e.event == "TEST_END"] == ["blowup"]
    # the suite never started is in both reports, not lost
    junit = ET.parse(sandbox.tmp / "out" / "junit.xml").getroot()
    suite = junit.find("testsuite")
    assert (suite.get("tests"), suite.get("skipped")) == ("2", "1")
    small = [c for c in suite.iter("testcase") if c.get("name") == "small"]
    assert small[0].find("skipped").get("message") == \
        "not run: stopping after an OOM kill (stop_on_oom)"
    report = json.loads((sandbox.tmp / "out" / "report.json").read_text())
    assert report["session"]["not_run"] == ["small"]
    assert report["session"]["not_run_reason"] == "stopping after an OOM kill (stop_on_oom)"
    assert [u["name"] for u in report["units"]] == ["blowup"]


@pytest.mark.backend_neutral
def test_command_line_undoes_a_profiles_yes_and_no(sandbox):
    ini = write_ini(sandbox, two_suites(sandbox, "stop_on_oom = yes\nquiet = yes\nplugin = no"))
    run = wcmem(sandbox, "--config", ini, "--profile", "ci", "--no-stop-on-oom", "--no-quiet")
    assert run.rc == 137, run.stderr
    assert "small ran" in run.stdout  # the suite after the OOM kill ran
    assert "OOM-killed: exceeded its own limit 64.0 MiB" in run.stderr  # the summary is back
    # plugin = no, undone: a pytest command gets a unit per test again
    keeps = os.path.join(TOP, "tests", "suites", "keeps")
    run = wcmem(sandbox, "--config", ini, "--profile", "ci", "--plugin", "--",
                "/usr/bin/python3", "-m", "pytest", "-p", "no:cacheprovider", "-q", keeps)
    assert run.rc == 0, run.stderr
    ends = [e.name for e in run.entries if e.event == "TEST_END"]
    assert any(n.endswith("test_keeps.py::test_keeps_a_block") for n in ends), run.log_text
    assert run.stderr == ""  # quiet = yes still holds: only what was undone changed


def test_an_interrupt_runs_no_further_suite(sandbox):
    # SIGTERM reaches the running suite, which exits 7 on its own terms (as pytest does on an
    # interrupt); the runner then starts no further suite.
    ini = write_ini(sandbox, f"""
[profile p]
[suite one]
command = /usr/bin/python3 -c "{wait_for_signal(signal.SIGTERM)}" {sandbox.marker}
[suite two]
command = touch {sandbox.tmp / 'ran'}
""")
    p = sandbox.start("--config", ini, "--profile", "p", env=env(sandbox), cwd=sandbox.tmp)
    assert p.stdout.readline().strip() == "ready"
    p.send_signal(signal.SIGTERM)
    run = sandbox.finish(p)
    assert run.rc == 7, run.stderr
    assert "interrupted: 1 suite not run: two" in run.stderr
    assert not (sandbox.tmp / "ran").exists()


def test_suites_pass_and_take_env_workdir_shell(sandbox):
    (sandbox.tmp / "sub").mkdir()
    ini = write_ini(sandbox, f"""
[profile all]
; no `suites`: every suite, in file order

[suite words]
command = /usr/bin/python3 -c "import os, sys; print(sys.argv[1:], os.environ['B'], os.getcwd())" 'a b' c\\ d {sandbox.marker}
env = A=1 B="x y"
workdir = sub

[suite piped]
command = echo piped-$A | tr a-z A-Z
env = A=1
shell = yes
""")
    run = wcmem(sandbox, "--config", ini, "--profile", "all")
    assert run.rc == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0] == f"['a b', 'c d', '{sandbox.marker}'] x y {sandbox.tmp / 'sub'}"
    assert lines[1] == "PIPED-1"
    assert [e.name for e in run.entries if e.event == "TEST_END"] == ["words", "piped"]


def test_a_failing_suite_sets_the_status_and_the_rest_still_run(sandbox):
    ini = write_ini(sandbox, """
[profile p]
[suite one]
command = sh -c "exit 3"
[suite two]
command = sh -c "exit 5"
[suite three]
command = true
""")
    run = wcmem(sandbox, "--config", ini, "--profile", "p")
    assert run.rc == 3  # the first failing suite's status
    assert [e.name for e in run.entries if e.event == "TEST_END"] == ["one", "two", "three"]


def test_suite_timeout_kills_it(sandbox):
    ini = write_ini(sandbox, f"""
[profile p]
[suite sleepy]
command = /usr/bin/python3 -c "import time; time.sleep(60)" {sandbox.marker}
timeout = 300ms
""")
    run = wcmem(sandbox, "--config", ini, "--profile", "p", "--json", "r.json",
                      cwd=sandbox.tmp)
    assert run.rc == 137
    unit = json.loads((sandbox.tmp / "r.json").read_text())["units"][0]
    assert unit["timed_out"] is True
    assert unit["verdict"] == "killed by SIGKILL at its time limit"


def test_with_a_command_the_profile_gives_settings_only(sandbox):
    ini = write_ini(sandbox, two_suites(sandbox))
    run = wcmem(sandbox, "--config", ini, "--profile", "ci", "--", "sh", "-c", "echo cmd",
                      cwd=sandbox.tmp)
    assert run.rc == 0, run.stderr
    assert run.stdout == "cmd\n"
    start = run.entry("SESSION_START")
    assert start.value("memory.max") == "512.0 MB"
    assert run.entry("COMMAND_END").value("memory.max") == "512.0 MB"  # the limit
    # the profile's reports are written for the command too (relative to the file)
    report = json.loads((sandbox.tmp / "out" / "report.json").read_text())
    assert report["units"][0]["kind"] == "command"


def test_command_line_wins_over_profile_over_defaults(sandbox):
    ini = write_ini(sandbox, """
[defaults]
limit = 300M
test_limit = 100M

[profile small]
limit = 200M
""")
    e = env(sandbox, WCMEM_SANDBOX_CONFIG=ini)
    run = wcmem(sandbox, "-q", "--", "true", env=e)  # no --profile: [defaults] applies
    assert run.entry("SESSION_START").value("memory.max") == "300.0 MB"
    run = wcmem(sandbox, "-q", "--profile", "small", "--", "true", env=e)
    assert run.entry("SESSION_START").value("memory.max") == "200.0 MB"
    assert run.entry("SESSION_START").value("test limit") == "100.0 MB"  # from [defaults]
    assert run.entry("COMMAND_END").value("memory.max") == "200.0 MB"  # the command: --limit
    run = wcmem(sandbox, "-q", "--profile", "small", "--limit", "150M", "--", "true", env=e)
    assert run.entry("SESSION_START").value("memory.max") == "150.0 MB"


def test_nearest_parent_file_is_found(sandbox):
    ini = write_ini(sandbox, "[defaults]\nlimit = 222M\n")
    deep = sandbox.tmp / "a" / "b"
    deep.mkdir(parents=True)
    run = wcmem(sandbox, "-q", "--", "true", cwd=deep)
    assert run.rc == 0, run.stderr
    assert run.entry("SESSION_START").value("memory.max") == "222.0 MB"
    out = wcmem(sandbox, "config", cwd=deep)
    assert f"; config file: {ini} (found in the current folder or the nearest parent, up " \
           "to the project's root)" in out.stdout


@pytest.mark.no_cgroup
def test_config_shows_values_and_origins(sandbox):
    ini = write_ini(sandbox, """
[defaults]
interval = 50ms

[profile base]
test_limit = 128M

[profile ci]
inherit = base
limit = 1G
junit_xml = out/j.xml

[suite s]
command = true
""")
    run = wcmem(sandbox, "config", "--config", ini, "--profile", "ci", "--swap", "16M")
    assert run.rc == 0, run.stderr
    lines = run.stdout.split("\n[suite")[0].splitlines()  # the settings, not the suites'

    def line(key):
        found = [l for l in lines if l.startswith(key + " ")]
        assert len(found) == 1, (key, run.stdout)
        return found[0]

    assert line("limit").split(";")[1].strip() == f"[profile ci] {ini}:10"
    assert line("limit").split("=")[1].split(";")[0].strip() == "1G"
    assert line("test_limit").endswith(f"; [profile base] {ini}:6")
    assert line("interval").endswith(f"; [defaults] {ini}:3")
    assert line("swap").endswith("; command line")
    assert line("high").endswith("; built in")
    assert line("junit_xml").split("=")[1].split(";")[0].strip() == str(sandbox.tmp / "out" / "j.xml")
    assert "[suite s]" in run.stdout
    assert run.log_text is None  # `config` runs nothing


# Each fixture of the unit tests with the line its error is on.
ERRORS = {
    "err_unknown_section": 1, "err_unknown_key": 3, "err_unknown_suite_key": 3,
    "err_bad_size": 4, "err_bad_bool": 2, "err_bad_frames": 2, "err_bad_duration": 3,
    "err_empty_path": 2, "err_duplicate_suite": 4, "err_duplicate_profile": 4,
    "err_duplicate_defaults": 2, "err_duplicate_key": 3, "err_inherit_cycle": 2,
    "err_inherit_self": 2, "err_inherit_missing": 2, "err_inherit_missing_deep": 5,
    "err_unknown_suite": 2,
    "err_empty_suites": 2, "err_suites_in_defaults": 2, "err_outside_section": 2,
    "err_syntax": 2, "err_header": 1, "err_bad_name": 1, "err_no_name": 1,
    "err_no_command": 1, "err_unterminated_quote": 2, "err_shell_syntax": 2,
    "err_bad_env": 3, "err_env_dollar": 3, "err_long_line": 2, "err_nul": 3,
}


@pytest.mark.no_cgroup
@pytest.mark.parametrize("name", sorted(ERRORS))
def test_every_file_error_exits_125_with_file_and_line(sandbox, name):
    path = os.path.join(FIXTURES, name + ".ini")
    run = wcmem(sandbox, "--config", path, "--", "touch", str(sandbox.tmp / "ran"))
    assert run.rc == 125
    assert run.stderr.startswith(f"wcmem-sandbox: {path}:{ERRORS[name]}: "), run.stderr
    assert len(run.stderr.splitlines()) == 1, run.stderr  # one clear line, no --help hint
    assert not (sandbox.tmp / "ran").exists()  # nothing ran
    assert run.log_text is None                # no log was written
    assert wcmem(sandbox, "config", "--config", path).rc == 125


@pytest.mark.no_cgroup
def test_errors_in_a_file_stop_everything_even_unused_parts(sandbox):
    # A broken profile that is not asked for still stops the run: a mistake shows at once.
    ini = write_ini(sandbox, f"""
[profile good]
[suite ok]
command = touch {sandbox.tmp / 'ran'}

[profile broken]
suites = ok missing
""")
    run = wcmem(sandbox, "--config", ini, "--profile", "good")
    assert run.rc == 125
    assert f"{ini}:7: profile 'broken' names suite 'missing', which is not defined " \
           "(suites: ok)" in run.stderr
    assert not (sandbox.tmp / "ran").exists()
    assert run.log_text is None


@pytest.mark.no_cgroup
@pytest.mark.parametrize("args,extra_env,words", [
    (["--config", "/nonexistent/x.ini", "--", "true"], {},
     "/nonexistent/x.ini: cannot read the config file: No such file or directory"),
    (["--", "true"], {"WCMEM_SANDBOX_CONFIG": "/nonexistent/y.ini"},
     "/nonexistent/y.ini: cannot read the config file: No such file or directory"),
    (["--profile", "nope"], {"WCMEM_SANDBOX_CONFIG": os.path.join(FIXTURES, "full.ini")},
     f"{FIXTURES}/full.ini: no [profile nope]; profiles: base, ci, all"),
    (["--junit-xml", "/proc/no/such/dir/j.xml", "--", "true"], {}, "create folder /proc/no"),
])
def test_other_errors_exit_125_before_anything_runs(sandbox, args, extra_env, words):
    run = wcmem(sandbox, *args, env=env(sandbox, **extra_env))
    assert run.rc == 125
    assert words in run.stderr, run.stderr
    assert run.log_text is None


@pytest.mark.no_cgroup
def test_missing_profile_without_any_file(sandbox):
    run = wcmem(sandbox, "--profile", "ci", cwd="/")
    assert run.rc == 125
    assert "--profile ci: no config file found" in run.stderr


@pytest.mark.no_cgroup
def test_profile_without_suites_needs_a_command(sandbox):
    ini = write_ini(sandbox, "[profile empty]\nlimit = 100M\n")
    run = wcmem(sandbox, "--config", ini, "--profile", "empty")
    assert run.rc == 125
    assert f"{ini}: [profile empty] has no suites to run" in run.stderr
    assert run.log_text is None


def test_json_report_of_a_single_command(sandbox):
    run = wcmem(sandbox, "--json", str(sandbox.tmp / "r.json"), "--junit-xml",
                      str(sandbox.tmp / "j.xml"), "--", "sh", "-c", "exit 4")
    assert run.rc == 4
    report = json.loads((sandbox.tmp / "r.json").read_text())
    unit = report["units"][0]
    assert unit["kind"] == "command" and unit["name"] == "sh -c 'exit 4'"
    assert unit["exit"] == {"end": "exited", "code": 4, "signal": None, "status": 4}
    assert unit["outcome"] == "failed" and report["session"]["exit_status"] == 4
    case = ET.parse(sandbox.tmp / "j.xml").getroot().find("testsuite/testcase")
    assert case.find("failure").get("type") == "exit"
    assert case.find("failure").get("message").startswith("exited 4; peak ")


def test_control_characters_in_names_keep_the_xml_whole(sandbox):
    name = "evil\x1b[2J<&>\"'\x01name"
    run = wcmem(sandbox, "--name", name, "--junit-xml", str(sandbox.tmp / "j.xml"), "--json",
                      str(sandbox.tmp / "r.json"), "--", "true")
    assert run.rc == 0
    case = ET.parse(sandbox.tmp / "j.xml").getroot().find("testsuite/testcase")
    assert case.get("name") == "evil\\x1b[2J<&>\"'\\x01name"
    assert json.loads((sandbox.tmp / "r.json").read_text())["units"][0]["name"] == name


def test_bundled_example_profiles(sandbox):
    # The shipped example loads, and its ci profile runs: the blow-up is OOM-killed at 64 MiB,
    # the passing suite still runs. Reports and log go to the test's folder, not build/.
    example = os.path.join(TOP, "etc", "wcmem-sandbox.ini")
    out = wcmem(sandbox, "config", "--config", example, "--profile", "laptop")
    assert out.rc == 0, out.stderr
    assert "limit        = " in out.stdout and "; [profile laptop]" in out.stdout
    run = wcmem(sandbox, "--config", example, "--profile", "ci", "--log", sandbox.log,
                      "--junit-xml", str(sandbox.tmp / "j.xml"),
                      "--json", str(sandbox.tmp / "r.json"))
    assert run.rc == 137, run.stderr
    assert "small: ok" in run.stdout
    units = json.loads((sandbox.tmp / "r.json").read_text())["units"]
    assert [(u["name"], u["oom"]) for u in units] == [("small", None), ("blowup", "own")]


def test_a_folder_we_may_not_search_hides_no_config(sandbox):
    # HOME=/root left in another user's environment (sudo -u does that): ~/.config cannot be
    # searched, which is "no file there", not an error. As root, become nobody to see it.
    binary = BIN
    if os.getuid() == 0:
        drop = lambda: os.setuid(65534)  # noqa: E731
        binary = bin_for_others()
    elif os.access("/root", os.X_OK):
        pytest.skip("/root is searchable by this user: nothing is hidden from it")
    else:
        drop = None
    e = env(sandbox, HOME="/root")
    del e["XDG_CONFIG_HOME"]
    proc = subprocess.run([binary, "config"], env=e, cwd="/", preexec_fn=drop,
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("; config file: none")


@pytest.mark.no_cgroup
def test_golden_reports_parse():
    # The unit tests' golden files are what the sinks write: they must be well-formed.
    root = ET.parse(os.path.join(GOLDEN, "report.junit.xml")).getroot()
    assert root.get("tests") == str(len(list(root.iter("testcase"))))
    with open(os.path.join(GOLDEN, "report.json")) as f:
        report = json.load(f)
    assert len(report["units"]) == report["session"]["units"]


def test_suite_test_limit_applies_to_its_tests(sandbox):
    # A pytest suite: the suite's own limit caps the whole suite, its test_limit each test.
    suites = os.path.join(TOP, "tests", "suites", "peaks")
    path = write_ini(sandbox, f"""
[profile ci]
limit = 1G
test_limit = 400M

[suite peaks]
command = /usr/bin/python3 -m pytest -q -p no:cacheprovider {suites}
limit = 600M
test_limit = 200M
""")
    run = wcmem(sandbox, "--config", path, "--profile", "ci")
    assert run.rc == 0, run.stdout + run.stderr
    ends = [e for e in run.entries if e.event == "TEST_END"]
    suite = next(e for e in ends if e.name == "peaks")
    tests = [e for e in ends if "test_holds" in e.name]
    assert suite.value("memory.max") == "600.0 MB"
    assert len(tests) == 3 and {t.value("memory.max") for t in tests} == {"200.0 MB"}
