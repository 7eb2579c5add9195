"""Completeness after OOM kills: every collected test runs or is reported, with and without
pytest-xdist, and the end says what the kills and the resumes cost."""
import re

import pytest

from conftest import CLIENT_PRELUDE
from test_plugin import PYTEST, junit_cases, suite, units_of

XDIST = ["-p", "xdist", "-n", "2"]
# A test limit the hogs exceed and the other tests, under xdist too, stay well within.
XDIST_LIMIT = "160M"


def hogs_run(sandbox, tmp_path, *extra, test_limit="64M", timeout=600):
    junit = tmp_path / "junit.xml"
    run = sandbox.run("--limit", "1G", "--test-limit", test_limit, "--", *PYTEST, *extra,
                      f"--junitxml={junit}", suite("hogs"), timeout=timeout)
    return run, junit_cases(junit)


def test_xdist_replaces_every_worker_an_oom_kill_takes(sandbox, tmp_path):
    # Ten kills among fifty tests, more than xdist's default four restarts a worker: every
    # test still runs, and junit lists each once, the hogs failed with the runner's verdict.
    pytest.importorskip("xdist")
    run, cases = hogs_run(sandbox, tmp_path, *XDIST, test_limit=XDIST_LIMIT)
    assert run.rc == 1, run.stdout + run.stderr
    assert "maximum crashed workers" not in run.stdout
    assert "10 failed, 40 passed" in run.stdout, run.stdout
    assert len(cases) == 50, sorted(cases)
    hogs = {n: c for n, c in cases.items() if n.startswith("test_hog")}
    assert len(hogs) == 10
    for name, case in hogs.items():
        failure = case.find("failure")
        assert failure is not None and "OOM-killed" in failure.get("message"), name
    killed = [u for u in units_of(run).values() if (u.value("OOM") or "").startswith("killed")]
    assert len(killed) == 10


def test_xdist_names_the_tests_that_did_not_run(sandbox, tmp_path):
    # The user's own --max-worker-restart stands: xdist stops early, and the summary says
    # how many collected tests did not run and which; the exit status is not 0.
    pytest.importorskip("xdist")
    run, cases = hogs_run(sandbox, tmp_path, *XDIST, "--max-worker-restart", "0",
                          test_limit=XDIST_LIMIT)
    assert run.rc not in (0, None), run.stdout + run.stderr
    reported = set(cases)
    lost = 50 - len(reported)
    assert lost > 0, run.stdout
    assert f"wcmem-sandbox: {lost} of 50 collected tests did not run" in run.stdout, run.stdout
    lines = run.stdout.splitlines()
    head = next(i for i, line in enumerate(lines) if "collected tests did not run" in line)
    named = [line.strip() for line in lines[head + 1:head + 1 + min(lost, 20)]]
    assert all("::test_" in n and n.split("::")[-1] not in reported for n in named), named


def test_resumed_run_is_complete_and_says_what_resuming_cost(sandbox, tmp_path):
    # Without xdist each kill takes pytest with it: the runner runs it again ten times, the
    # junit and pytest's own summary list every test once, and the end says what it cost.
    run, cases = hogs_run(sandbox, tmp_path)
    assert run.rc == 1, run.stdout + run.stderr
    assert len(cases) == 50, sorted(cases)
    assert "10 failed, 40 passed" in run.stdout, run.stdout
    failed = sorted(n for n, c in cases.items() if c.find("failure") is not None)
    assert failed == sorted(f"test_hog[{n}]" for n in range(10))
    line = next(x for x in run.stderr.splitlines() if "resuming took" in x)
    head, cost = line.split("; resuming took ")
    assert head.startswith("wcmem-sandbox: 10 tests OOM-killed, 10 resumes ("), line
    total, each = float(cost.split(" s in all")[0]), float(cost.split("(")[1].split(" s")[0])
    assert 0 < total and abs(total / 10 - each) <= 0.051, line


def resumes_line(run):
    return next(x for x in run.stderr.splitlines() if "resuming took" in x)


def test_a_kill_wakes_the_collected_copy_instead_of_a_restart(sandbox, tmp_path):
    # Each kill wakes the copy that stood by; pytest is never started again, and the junit
    # and the summary are as complete as after a restart.
    run, cases = hogs_run(sandbox, tmp_path)
    assert run.rc == 1, run.stdout + run.stderr
    assert len(cases) == 50 and "10 failed, 40 passed" in run.stdout, run.stdout
    assert "10 resumes (10 by the collected copy, 0 restarts)" in resumes_line(run)
    assert run.stdout.count("test session starts") <= 1  # one header: one pytest start


def test_without_its_copy_the_run_starts_pytest_again(sandbox, tmp_path):
    junit = tmp_path / "junit.xml"
    run = sandbox.run("--limit", "1G", "--test-limit", "64M", "--", *PYTEST,
                      f"--junitxml={junit}", suite("standby_gone"), timeout=300)
    assert run.rc == 1, run.stdout + run.stderr
    assert "1 resume (0 by the collected copy, 1 restart)" in resumes_line(run)
    cases = junit_cases(junit)
    assert sorted(cases) == ["test_after", "test_before", "test_ends_the_standby", "test_hog"]
    assert cases["test_hog"].find("failure") is not None
    assert "1 failed, 3 passed" in run.stdout, run.stdout


def test_session_fixtures_are_set_up_again_in_the_copy(sandbox, tmp_path):
    junit = tmp_path / "junit.xml"
    run = sandbox.run("--limit", "1G", "--test-limit", "64M", "--", *PYTEST, "-s",
                      f"--junitxml={junit}", suite("session_fixture"), timeout=300)
    assert run.rc == 1, run.stdout + run.stderr
    assert "1 resume (1 by the collected copy, 0 restarts)" in resumes_line(run)
    pids = set(re.findall(r"session fixture set up in (\d+)", run.stdout))
    assert len(pids) == 2, run.stdout  # the killed process's, then the copy's
    assert "1 failed, 2 passed" in run.stdout, run.stdout


STANDBY_CLIENT = CLIENT_PRELUDE + r"""
print(ask(b"HELLO 1\n"))
print(ask(b"STANDBY now\n"))
print(ask(b"STANDBY\n"))  # the command's main process itself: no child of it
"""


def test_standby_only_from_a_child_of_the_command(sandbox):
    run = sandbox.run("--limit", "512M", "--", "/usr/bin/python3", "-c", STANDBY_CLIENT,
                      sandbox.marker)
    assert run.rc == 0, run.stderr
    answers = run.stdout.splitlines()
    assert answers[1] == "ERR 400 STANDBY takes no field"
    assert answers[2] == "ERR 403 only a child of the command's main process stands by"


def test_a_test_is_not_charged_for_pages_shared_with_the_copy(sandbox):
    # pytest holds some 40 MB of objects after collection; the collection in the test
    # writes to all of them. Copied before the first test, they are the command's.
    run = sandbox.run("--limit", "1G", "--test-limit", "256M", "--", *PYTEST, suite("cow"))
    assert run.rc == 0, run.stdout + run.stderr
    tests = units_of(run)
    collects = tests[next(n for n in tests if n.endswith("::test_collects"))]
    peak = float(collects.value("Peak memory").split()[0])
    assert peak < 12, collects.lines  # MB; some 40 when charged for the copies


def hogs_failing_controller(tmp_path):
    """The hogs suite with a conftest that makes pytest-xdist's controller fail (exit 3) at
    the first worker an OOM kill takes, once, as xdist does when two workers die at once."""
    hogs = tmp_path / "hogs"
    hogs.mkdir()
    with open(suite("hogs") + "/test_hogs.py") as f:
        (hogs / "test_hogs.py").write_text(f.read())
    once = tmp_path / "failed-once"
    (hogs / "conftest.py").write_text(
        "import os\n"
        "def pytest_testnodedown(node, error):\n"
        f"    if error and not os.path.exists({str(once)!r}):\n"
        f"        open({str(once)!r}, 'w').close()\n"
        "        raise RuntimeError('the controller fails as xdist does when two workers die')\n")
    return hogs


def test_xdist_controller_that_fails_after_a_kill_is_resumed(sandbox, tmp_path):
    # pytest-xdist's controller can fail inside (exit 3) when workers die at once; here a
    # conftest makes it fail so at the first worker an OOM kill takes. The runner resumes
    # the run, and every test is still run or reported.
    pytest.importorskip("xdist")
    hogs = hogs_failing_controller(tmp_path)
    junit = tmp_path / "junit.xml"
    run = sandbox.run("--limit", "1G", "--test-limit", XDIST_LIMIT, "--", *PYTEST, *XDIST,
                      f"--junitxml={junit}", str(hogs), timeout=600)
    cases = junit_cases(junit)
    assert "INTERNALERROR" in run.stdout, run.stdout  # the failure really happened
    assert run.rc == 1, run.stdout + run.stderr
    assert len(cases) == 50, sorted(cases)
    assert "10 failed, 40 passed" in run.stdout, run.stdout
    # Resumed by a restart at least once: xdist's own failure may strike again in the
    # resumed run (two workers dying at once), and is resumed the same way.
    m = re.search(r"(\d+) resumes? \(0 by the collected copy, (\d+) restarts?\)", run.stderr)
    assert m and int(m.group(1)) == int(m.group(2)) >= 1, run.stderr


def test_a_resumed_xdist_run_that_stops_early_counts_every_collected_test(sandbox, tmp_path):
    # The controller fails at the first kill and the run is resumed; in the resumed run the
    # user's --max-worker-restart 0 stops xdist at its first kill. Its workers collected only
    # what was left; the tests it reports from the first attempt were collected too: the end
    # says how many of all 50 did not run.
    pytest.importorskip("xdist")
    hogs = hogs_failing_controller(tmp_path)
    junit = tmp_path / "junit.xml"
    run = sandbox.run("--limit", "1G", "--test-limit", XDIST_LIMIT, "--", *PYTEST, *XDIST,
                      "--max-worker-restart", "0", f"--junitxml={junit}", str(hogs),
                      timeout=600)
    assert "INTERNALERROR" in run.stdout, run.stdout
    assert run.rc not in (0, None), run.stdout + run.stderr
    lost = 50 - len(junit_cases(junit))
    assert lost > 0, run.stdout
    assert f"wcmem-sandbox: {lost} of 50 collected tests did not run" in run.stdout, run.stdout
