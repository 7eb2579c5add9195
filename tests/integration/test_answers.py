"""Answers a user can act on: a budget made from a run never kills a test that did not grow,
whatever order it runs in; the leak list holds the tests whose memory grows with each run of
them, and neither caches filled once, first imports, nor what the allocator kept."""
import os
import re
import subprocess

import pytest

from conftest import BIN

SUITES = os.path.join(os.path.dirname(__file__), "..", "suites")
TABLE = os.path.abspath(os.path.join(SUITES, "shared_table"))
TABLE_PYTEST = ["/usr/bin/python3", "-m", "pytest", "-p", "no:cacheprovider", "-q",
                "--rootdir", TABLE, TABLE]


def ended(run):
    return {e.name: e for e in run.entries if e.event == "TEST_END"}


def killed(run):
    return [name for name, e in ended(run).items() if e.value("OOM")]


@pytest.fixture
def table_budgets(sandbox, tmp_path):
    """A budget file from a full run of the shared-table suite: test_a builds the session's
    table (charged to it), the others use it, test_c builds a module fixture on it."""
    run = sandbox.run("--limit", "1G", "--test-limit", "512M", "--", *TABLE_PYTEST,
                      cwd=TABLE)
    assert run.rc == 0, run.stdout + run.stderr
    out = tmp_path / "wcmem-budgets.ini"
    made = subprocess.run([BIN, "budget", "-o", str(out), run.log_path], capture_output=True,
                          text=True, timeout=120)
    assert made.returncode == 0, made.stderr
    return run, out


def test_budget_covers_the_shared_fixtures_a_test_uses(table_budgets):
    run, out = table_budgets
    ends = ended(run)
    # The full run charged the table to test_a alone: test_b's own peak is a few MB.
    assert ends["test_shared_table.py::test_a"].value("Fixture set up").endswith(" table")
    assert ends["test_shared_table.py::test_b"].value("Fixture shared") == "table"
    assert float(ends["test_shared_table.py::test_b"].value("Peak memory").split()[0]) < 16
    lines = {m.group(2): (int(m.group(1)), line) for line in out.read_text().splitlines()
             if (m := re.match(r"test = (\d+)M (\S+)", line))}
    mib, line = lines["test_shared_table.py::test_b"]
    # its peak and the table's setup (60 MB written from a 60 MB bytes: 120 MB at its
    # height), with the margin
    assert mib >= 140, line
    assert re.search(r"; peak \d+\.\d MB \+ shared fixtures 1[12]\d\.\d MB, ", line), line
    # test_d shares the table and the module's index: both setups
    assert lines["test_shared_table.py::test_d"][0] > mib + 40


@pytest.mark.parametrize("order", [["-k", "test_b"], ["-k", "test_c"], ["-k", "test_d"],
                                   "reversed", ["-p", "xdist", "-n", "2"]],
                         ids=["b-alone", "c-alone", "d-alone", "reversed", "xdist"])
def test_budgets_kill_no_test_in_another_order(sandbox, table_budgets, order):
    """Run alone, in reverse, or on two xdist workers, a test that did not grow fits the
    budget its full run gave it, though it now pays for the fixtures it shares."""
    _, out = table_budgets
    env = dict(sandbox.env)
    args = []
    if order == "reversed":
        env["ANSWERS_ORDER"] = "reversed"
    else:
        args = order
    run = sandbox.run("--limit", "1G", "--budgets", str(out), "--", *TABLE_PYTEST, *args,
                      cwd=TABLE, env=env, timeout=300)
    assert run.rc == 0, run.stdout + run.stderr
    assert not killed(run), run.stdout
    assert " 0 OOM-killed" in run.stderr, run.stderr
    ends = ended(run)
    assert ends, run.log_text
    # each ran under its budget, a real limit, and at least one paid for the table itself
    for name, e in ends.items():
        assert e.mb("memory.max") < 512, (name, e.value("memory.max"))
    assert max(float(e.value("Peak memory").split()[0]) for e in ends.values()) > 100
