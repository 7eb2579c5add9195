"""Differential: after OOM kills, pytest's report is the one plain pytest gives.

A suite with every outcome pytest has (tests/suites/outcomes) and three hogs among its tests
runs plain, without the hogs, and under the sandbox, where the test limit kills each hog and
the run resumes: by the collected copy, by a new start, and under pytest-xdist. pytest's
counts, its -rA lines and its junit XML, test by test, must be the same but for the hogs,
with the plugins people install loaded (pytest-rerunfailures, pytest-timeout,
pytest-asyncio, pytest-subtests, pytest-cov)."""
import collections
import os
import re
import subprocess
import xml.etree.ElementTree as ET

import pytest

from conftest import LOCALHOST
from test_plugin import suite

if not LOCALHOST:
    pytest.skip("localhost does not resolve here: pytest-rerunfailures' xdist workers cannot "
                "reach their controller", allow_module_level=True)
for _module in ("pytest_rerunfailures", "pytest_timeout", "pytest_asyncio",
                "pytest_subtests", "pytest_cov", "xdist"):
    pytest.importorskip(_module)

PY = "/usr/bin/python3"
# What the suite's tests ask for: the hogs are the only ones over the test limit.
ARGS = ["-p", "no:cacheprovider", "-p", "no:randomly", "-rA", "-o", "junit_logging=all",
        "-o", "junit_family=xunit1", "-W", "default"]
LIMITS = ["--limit", "1G", "--test-limit", "160M"]
HOGS = ("test_hog_before", "test_hog_between", "test_hog_after")
# Without the hogs, in the order they run: what the xdist runs compare, as a set.
COUNTS = re.compile(r"(\d+) (failed|passed|skipped|deselected|xfailed|xpassed|warnings?|"
                    r"errors?|rerun|subtests passed|subtests failed)\b")


def plain(tmp_path, *extra):
    """pytest alone, outside the sandbox, without the hogs: (stdout, junit path)."""
    junit = tmp_path / "plain.xml"
    run = subprocess.run([PY, "-m", "pytest", *ARGS, *extra, "-k", "not test_hog",
                          f"--junitxml={junit}", suite("outcomes")],
                         capture_output=True, text=True, timeout=600,
                         cwd=tmp_path, env=_env())
    assert run.returncode == 1, run.stdout + run.stderr
    return run.stdout, junit


def sandboxed(sandbox, tmp_path, *extra, shell=False):
    junit = tmp_path / "sandboxed.xml"
    cmd = [PY, "-m", "pytest", *ARGS, *extra, f"--junitxml={junit}", suite("outcomes")]
    if shell:  # pytest is not the command's own process: no copy can stand by
        cmd = ["/bin/sh", "-c", '"$@"; exit $?', "sh", *cmd]
    run = sandbox.run(*LIMITS, "--", *cmd, env=_env(sandbox.env), cwd=tmp_path,
                      timeout=900)
    assert run.rc == 1, run.stdout + run.stderr
    return run, junit


def _env(base=None):
    env = dict(base or os.environ)
    env.pop("PYTEST_ADDOPTS", None)
    env["COLUMNS"] = "200"  # the short summary's lines are not cut to a terminal's width
    return env


def counts(stdout):
    """pytest's last line as {word: count}, deselected left out."""
    last = [line for line in stdout.splitlines() if " in " in line and COUNTS.search(line)][-1]
    found = {word.rstrip("s") if word in ("warnings", "errors") else word: int(n)
             for n, word in COUNTS.findall(last)}
    found.pop("deselected", None)
    return found


def summary_lines(stdout):
    """The lines of the short test summary (-rA), in order."""
    lines = stdout.splitlines()
    at = next(i for i, line in enumerate(lines) if "short test summary info" in line)
    return [line for line in lines[at + 1:] if not COUNTS.search(line) or "::" in line]


# An object's address in a traceback's locals differs from one process to the next.
ADDRESS = re.compile(r"0x[0-9a-f]+")


# The properties the sandbox adds to each test (its peak and verdict): all that differs.
OURS = ("wcmem_peak", "wcmem_verdict")


def junit(path, sandboxed=False):
    """{(classname, name): what the case says}, its time and the sandbox's properties left
    out; sandboxed: each test must have them."""
    cases = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        said = [(child.tag, child.get("message"), child.get("type"),
                 ADDRESS.sub("0x?", (child.text or "").strip()))
                for child in case if child.tag != "properties"]
        every = [(p.get("name"), p.get("value")) for p in case.iter("property")]
        props = [(name, value) for name, value in every if name not in OURS]
        if sandboxed:  # every test has them; a module's collection (no classname) none
            names = [name for name, _ in every if name in OURS]
            want = sorted(OURS) if case.get("classname") else []
            assert sorted(names) == want, (case.get("name"), every)
        key = (case.get("classname"), case.get("name"))
        cases.setdefault(key, []).append((sorted(said), props, case.get("file"),
                                          case.get("line")))
    return cases


def without_hogs(lines):
    return [line for line in lines if not any(h in line for h in HOGS)]


def assert_same(plain_out, plain_junit, run, sb_junit, ordered=True):
    out = run.stdout
    expected = counts(plain_out)
    got = counts(out)
    got["failed"] -= len(HOGS)  # the hogs, OOM-killed: in no plain run
    assert got == expected, out + run.stderr
    ours, theirs = without_hogs(summary_lines(out)), summary_lines(plain_out)
    if not ordered:
        ours, theirs = sorted(ours), sorted(theirs)
    assert ours == theirs, out
    cases, expected_cases = junit(sb_junit, sandboxed=True), junit(plain_junit)
    for hog in HOGS:
        (said, _, _, _), = cases.pop(("test_a_outcomes", hog))
        assert said[0][0] == "failure" and "OOM-killed" in said[0][1], said
    assert cases == expected_cases
    killed = [line for line in summary_lines(out) if any(h in line for h in HOGS)]
    assert len(killed) == 3 and all("OOM-killed: " in x for x in killed), killed


def test_resumed_by_the_copy_the_report_is_plain_pytests(sandbox, tmp_path):
    expected, expected_junit = plain(tmp_path)
    run, got_junit = sandboxed(sandbox, tmp_path)
    assert "3 resumes (3 by the collected copy, 0 restarts)" in run.stderr, run.stderr
    assert "no copy of pytest stands by" not in run.stderr
    assert_same(expected, expected_junit, run, got_junit)


def test_resumed_by_a_new_start_the_report_is_plain_pytests(sandbox, tmp_path):
    expected, expected_junit = plain(tmp_path)
    run, got_junit = sandboxed(sandbox, tmp_path, shell=True)
    assert "3 resumes (0 by the collected copy, 3 restarts)" in run.stderr, run.stderr
    # Why, once: the shell is the command's process, not pytest.
    assert run.stderr.count("no copy of pytest stands by") == 1, run.stderr
    assert_same(expected, expected_junit, run, got_junit)


@pytest.mark.backend_neutral
def test_under_xdist_the_report_is_plain_pytests(sandbox, tmp_path):
    expected, expected_junit = plain(tmp_path, "-p", "xdist", "-n", "2")
    run, got_junit = sandboxed(sandbox, tmp_path, "-p", "xdist", "-n", "2")
    assert_same(expected, expected_junit, run, got_junit, ordered=False)


@pytest.mark.backend_neutral
def test_with_coverage_the_report_is_plain_pytests(sandbox, tmp_path):
    cov = ["--cov", suite("outcomes"), "--cov-report="]
    expected, expected_junit = plain(tmp_path, *cov)
    run, got_junit = sandboxed(sandbox, tmp_path, *cov)
    assert_same(expected, expected_junit, run, got_junit)


def test_process_dependent_ids_run_once_after_a_new_start(sandbox, tmp_path):
    # ids=repr of objects: a pytest started again collects the tests that ended under other
    # ids. Each still runs once: two before the hog, two after it.
    cmd = ["/bin/sh", "-c", '"$@"; exit $?', "sh", PY, "-m", "pytest", *ARGS, "-s",
           suite("process_ids")]
    run = sandbox.run(*LIMITS, "--", *cmd, timeout=600)
    assert run.rc == 1, run.stdout + run.stderr
    assert "1 restart" in run.stderr, run.stderr
    for n in (1, 2, 3, 4):
        assert run.stdout.count(f"ran {'before' if n < 3 else 'after'} {n}") == 1, run.stdout
    assert counts(run.stdout) == {"failed": 1, "passed": 4}, run.stdout


SEVEN = """
import pytest


def hog():
    blocks = []
    while True:
        blocks.append(bytearray(16 << 20))


@pytest.mark.parametrize("n", range(7))
def test_seven(n):
    if n == 1:
        hog()
    assert n != 4, "the second failure"
"""


def seven(tmp_path, make_args=""):
    """A suite of seven tests whose second is a hog, run by make (which exits 2 when pytest
    fails): (the folder, the make command)."""
    (tmp_path / "test_seven.py").write_text(SEVEN)
    (tmp_path / "Makefile").write_text(
        f"check:\n\t{PY} -m pytest -p no:cacheprovider -rA {make_args} test_seven.py\n")
    return ["make", "-s", "-C", str(tmp_path), "check"]


def test_a_pytest_under_make_is_resumed_after_a_kill(sandbox, tmp_path):
    # make exits 2 when its pytest dies: the run still resumes, and every test runs.
    run = sandbox.run(*LIMITS, "--", *seven(tmp_path), timeout=600)
    assert run.rc == 2, run.stdout + run.stderr
    assert "1 resume (0 by the collected copy, 1 restart)" in run.stderr, run.stderr
    assert counts(run.stdout.split("Killed")[-1]) == {"failed": 2, "passed": 5}, run.stdout


@pytest.mark.backend_neutral
def test_a_pytest_xdist_under_make_is_not_resumed(sandbox, tmp_path):
    # xdist's controller reports its killed worker and runs the rest: nothing to resume.
    run = sandbox.run(*LIMITS, "--", *seven(tmp_path, "-p xdist -n 2"), timeout=600)
    assert run.rc == 2, run.stdout + run.stderr
    assert "a test was OOM-killed; " not in run.stderr, run.stderr
    assert counts(run.stdout) == {"failed": 2, "passed": 5}, run.stdout


@pytest.mark.parametrize("stop, ran", [("-x", 2), ("--maxfail=2", 5)])
def test_x_and_maxfail_stop_where_plain_pytest_does(sandbox, tmp_path, stop, ran):
    # The hog is the first failure: -x stops right after it, --maxfail=2 after the next.
    junit = tmp_path / "junit.xml"
    (tmp_path / "test_seven.py").write_text(SEVEN)
    run = sandbox.run(*LIMITS, "--", PY, "-m", "pytest", "-p", "no:cacheprovider", stop,
                      f"--junitxml={junit}", str(tmp_path / "test_seven.py"), timeout=600)
    assert run.rc == 1, run.stdout + run.stderr
    cases = [c.get("name") for c in ET.parse(junit).getroot().iter("testcase")]
    assert cases == [f"test_seven[{n}]" for n in range(ran)], run.stdout
    assert "stopping after" in run.stdout, run.stdout


DECORATED = """import pytest


@pytest.mark.parametrize("n", [1], ids=["a::b"])
@pytest.mark.filterwarnings("ignore")
def test_hog(n):
    blocks = []
    while True:
        blocks.append(bytearray(16 << 20))
"""


def test_a_killed_test_is_named_where_an_editor_finds_it(sandbox, tmp_path):
    # pytest runs in a folder below the runner's: the summary's FILE:LINE is from the
    # runner's folder, at the def (not the first decorator); our junit names the test as
    # pytest's own does, the "::" in its parameters kept in its name.
    (tmp_path / "proj" / "tests").mkdir(parents=True)
    (tmp_path / "proj" / "tests" / "test_deco.py").write_text(DECORATED)
    junit = tmp_path / "ours.xml"
    run = sandbox.run(*LIMITS, "--junit-xml", str(junit), "--", "/bin/sh", "-c",
                      f"cd proj && exec {PY} -m pytest -p no:cacheprovider tests/test_deco.py",
                      cwd=tmp_path, timeout=600)
    assert run.rc == 1, run.stdout + run.stderr
    assert "\nproj/tests/test_deco.py:6: test_hog[a::b] OOM-killed (" in run.stderr, run.stderr
    case = next(c for c in ET.parse(junit).getroot().iter("testcase")
                if c.get("name") == "test_hog[a::b]")
    assert case.get("classname") == "tests.test_deco"


SCOPED = """
def test_1():
    pass


def test_2():
    if __name__.endswith("test_b"):
        blocks = []
        while True:
            blocks.append(bytearray(16 << 20))


def test_3():
    pass
"""


@pytest.mark.backend_neutral
@pytest.mark.parametrize("dist, failed, passed", [
    ("loadscope", 1, 8), ("loadfile", 1, 8), ("loadgroup", 1, 8), ("load", 1, 8),
    ("each", None, None)])
def test_no_xdist_dist_mode_hangs_after_a_kill(sandbox, tmp_path, dist, failed, passed):
    # pytest-xdist 3.1 hangs in loadscope, loadfile and loadgroup after a worker crash (it
    # runs the crashed test again, or leaves a worker with one test waiting): the run ends,
    # every test reported once, the hog as OOM-killed. Under --dist each, every worker runs
    # every test, and how many a crashed worker's replacement runs is xdist's affair: the
    # run ends, and the hog is reported killed.
    for name in "abc":
        (tmp_path / f"test_{name}.py").write_text(SCOPED)
    run = sandbox.run(*LIMITS, "--", PY, "-m", "pytest", "-p", "no:cacheprovider", "-p",
                      "xdist", "-n", "2", "--dist", dist, "-rA", str(tmp_path), timeout=600,
                      env=_env(sandbox.env))
    assert run.rc == 1, run.stdout + run.stderr
    if failed is None:  # each: the run ends, and the runner names the kill
        assert "test_2 OOM-killed" in run.stderr, run.stdout + run.stderr
        return
    assert counts(run.stdout) == {"failed": failed, "passed": passed}, run.stdout
    assert "test_b.py::test_2 - worker" in run.stdout and "OOM-killed" in run.stdout
