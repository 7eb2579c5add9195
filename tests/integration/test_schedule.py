"""pytest-xdist under a shared total: a test the sandbox total killed while other tests ran
runs again, alone, and is reported once with its real outcome; with the first run's budgets,
a worker's next test waits for room and nothing is killed (runner/control/PROTOCOL.md,
"Room"). Real cgroups, Debian's pytest-xdist."""
import os
import subprocess

import pytest

from conftest import BACKEND, BIN

SUITE = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "suites", "shared_cap"))

def pytest_n(workers):
    return ["/usr/bin/python3", "-m", "pytest", "-p", "no:cacheprovider", "-q", "--rootdir",
            SUITE, "-p", "xdist", "-n", str(workers), SUITE]


PYTEST = pytest_n(4)
# Four tests of 120 MB and four workers of some 40 MB each do not fit 560 MB together;
# three of them do.
LIMITS = ["--limit", "560M", "--test-limit", "300M"]
HEAVY = {"SHARED_HEAVY": "4", "SHARED_HEAVY_MB": "120", "SHARED_HOLD": "2"}


def units_in_order(run):
    return [e for e in run.entries if e.event in ("TEST_START", "TEST_END")]


def killed(run):
    return [e for e in run.entries if e.event == "TEST_END" and e.value("OOM")]


@pytest.fixture
def first(sandbox):
    pytest.importorskip("xdist")
    run = sandbox.run(*LIMITS, "--", *PYTEST, env=dict(sandbox.env, **HEAVY), timeout=300)
    assert run.rc == 0, run.stdout + run.stderr
    return run


def test_a_test_the_shared_total_killed_runs_again_alone(first):
    assert "4 passed" in first.stdout, first.stdout
    assert "failed" not in first.stdout
    kills = killed(first)
    # All four start together (xdist hands them out once every worker has collected): the
    # total cannot hold them.
    assert kills, f"no test was killed: the suite no longer overfills the total\n{first.log_text}"
    for kill in kills:
        assert kill.value("OOM").startswith("killed (the sandbox total"), kill.lines
        entries = units_in_order(first)
        again = next(e for e in entries[entries.index(kill) + 1:]
                     if e.event == "TEST_START" and e.name == kill.name)
        # Alone: every test that started before it had ended.
        before = entries[:entries.index(again)]
        started = [e.name for e in before if e.event == "TEST_START"]
        ended = [e.name for e in before if e.event == "TEST_END"]
        assert sorted(started) == sorted(ended), f"{kill.name} ran again beside others"
        end = next(e for e in entries[entries.index(again):]
                   if e.event == "TEST_END" and e.name == kill.name)
        assert not end.value("OOM"), end.lines
        assert f"  {kill.name}" in first.stdout  # the plugin's list of tests run again
    assert f"{len(kills)} test{'s' if len(kills) > 1 else ''} run again, alone" in first.stderr


def test_with_the_first_runs_budgets_nothing_is_killed(first, sandbox, tmp_path):
    budgets = tmp_path / "budgets.ini"
    made = subprocess.run([BIN, "budget", "-o", str(budgets), first.log_path],
                          capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    second = sandbox.run(*LIMITS, "--budgets", str(budgets), "--", *PYTEST,
                         env=dict(sandbox.env, **HEAVY), timeout=300)
    assert second.rc == 0, second.stdout + second.stderr
    assert "4 passed" in second.stdout
    assert not killed(second), second.log_text
    assert "run again" not in second.stderr
    # The fourth could not start beside the other three: it waited, and the summary says so.
    assert "waited for room in the sandbox" in second.stderr, second.stderr


def test_a_test_the_total_killed_alone_fails(sandbox):
    pytest.importorskip("xdist")
    alone = {"SHARED_HEAVY": "1", "SHARED_HEAVY_MB": "300", "SHARED_HOLD": "0"}
    run = sandbox.run("--limit", "250M", "--test-limit", "400M", "--", *pytest_n(2),
                      env=dict(sandbox.env, **alone), timeout=300)
    assert run.rc == 1, run.stdout + run.stderr
    assert "1 failed" in run.stdout
    assert "OOM-killed: the sandbox total 250.0 MiB was reached" in run.stdout
    assert "run again" not in run.stdout + run.stderr
    assert len([e for e in run.entries if e.event == "TEST_START"]) == 1


@pytest.mark.parametrize("limit, workers", [("120M", "1 worker: "), ("2G", "by CPUs")])
def test_n_auto_takes_no_more_workers_than_the_total_holds(sandbox, limit, workers):
    """-n auto: xdist's CPU count, or fewer when the total holds fewer workers."""
    pytest.importorskip("xdist")
    small = {"SHARED_HEAVY": "1", "SHARED_HEAVY_MB": "5", "SHARED_HOLD": "0"}
    argv = [a if a != "4" else "auto" for a in PYTEST]
    run = sandbox.run("--limit", limit, "--", *argv, env=dict(sandbox.env, **small),
                      timeout=300)
    assert run.rc == 0, run.stdout + run.stderr
    said = [line for line in run.stderr.splitlines() if "-n auto:" in line]
    assert len(said) == 1 and workers in said[0], run.stderr
    assert "MiB each (twice what pytest holds before collection)" in said[0]


MIXED = dict(HEAVY, SHARED_LIGHT="4", SHARED_LIGHT_HOLD="0.2")


@pytest.fixture
def mixed_budgets(sandbox, tmp_path):
    """Budgets of the suite with light tests: xdist hands each of the four workers a heavy
    test and a light one (the suite alternates them)."""
    pytest.importorskip("xdist")
    run = sandbox.run(*LIMITS, "--", *PYTEST, env=dict(sandbox.env, **MIXED), timeout=300)
    assert run.rc == 0, run.stdout + run.stderr
    budgets = tmp_path / "budgets.ini"
    made = subprocess.run([BIN, "budget", "-o", str(budgets), run.log_path],
                          capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    return budgets


def test_a_worker_runs_a_test_with_room_first(sandbox, mixed_budgets):
    """The fourth heavy test has no room beside three: its worker runs its light test first
    instead of waiting (ROOM), so a light test is among the first four to start."""
    run = sandbox.run(*LIMITS, "--budgets", str(mixed_budgets), "--", *PYTEST,
                      env=dict(sandbox.env, **MIXED), timeout=300)
    assert run.rc == 0, run.stdout + run.stderr
    assert "8 passed" in run.stdout and not killed(run), run.log_text
    first = [e.name for e in units_in_order(run) if e.event == "TEST_START"][:4]
    assert any("test_light" in name for name in first), first


def test_a_test_a_worker_ran_first_is_the_one_its_crash_names(sandbox, mixed_budgets):
    """A light test run ahead of the heavy one before it, and killed by its own budget: the
    failure is the light test's, and the heavy one runs and passes (xdist takes the first
    test a crashed worker held for the one it ran; the controller follows the reorder)."""
    tight = mixed_budgets.read_text().replace("test = 16M test_shared_cap.py::test_light",
                                              "test = 1M test_shared_cap.py::test_light")
    mixed_budgets.write_text(tight)
    run = sandbox.run(*LIMITS, "--budgets", str(mixed_budgets), "--", *PYTEST, "-rA",
                      env=dict(sandbox.env, **MIXED), timeout=300)
    assert run.rc == 1, run.stdout + run.stderr
    failed = [line for line in run.stdout.splitlines() if line.startswith("FAILED ")]
    assert failed and all("test_light" in line for line in failed), run.stdout
    assert len(failed) == 4, run.stdout
    assert len([line for line in run.stdout.splitlines()
                if line.startswith("PASSED ") and "test_heavy" in line]) == 4, run.stdout
    assert "4 passed" in run.stdout, run.stdout


PRESSURE = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "suites", "pressure"))


@pytest.mark.skipif(BACKEND != "v2", reason="memory.pressure is cgroup v2's")
def test_a_test_waits_while_the_sandbox_is_under_memory_pressure(sandbox):
    """One test throttled at its own memory.high stalls the sandbox's tasks on memory: the
    other worker's light tests wait at their START while the sandbox's PSI says so."""
    pytest.importorskip("xdist")
    argv = ["/usr/bin/python3", "-m", "pytest", "-p", "no:cacheprovider", "-q", "--rootdir",
            PRESSURE, "-p", "xdist", "-n", "2", PRESSURE]
    note = sandbox.tmp / "pressure.txt"
    run = sandbox.run("--limit", "512M", "--", *argv, env=dict(sandbox.env, PRESSURE_NOTE=str(note)),
                      timeout=600)
    assert run.rc == 0, run.stdout + run.stderr
    assert "13 passed" in run.stdout, run.stdout
    # No budgets and no kill (nothing to run again): only the pressure holds a START.
    assert not killed(run), run.log_text
    assert "waited for room in the sandbox" in run.stderr, \
        f"{run.stderr}\n{note.read_text() if note.exists() else 'no note'}\n{run.log_text}"
