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


LEAKS = os.path.abspath(os.path.join(SUITES, "leaks"))
LEAKS_PYTEST = ["/usr/bin/python3", "-m", "pytest", "-p", "no:cacheprovider", "-q",
                "--rootdir", LEAKS, LEAKS]
LEAKERS = {f"test_leaks.py::test_leaks[{n}]" for n in (1, 2, 3)}


def analyze_json(log):
    out = subprocess.run([BIN, "analyze", "--json", "-", log], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    import json
    return json.loads(out.stdout), out


def test_leak_check_lists_every_leaker_and_nothing_else(sandbox):
    """WCMEM_SANDBOX_LEAK_CHECK=3: each test's call runs three more times in its unit, and
    only growth that repeats is a leak: not the cache filled once, the first import, nor the
    20 MB that glibc would keep."""
    env = dict(sandbox.env, WCMEM_SANDBOX_LEAK_CHECK="3")
    run = sandbox.run("--limit", "1G", "--test-limit", "512M", "--", *LEAKS_PYTEST,
                      cwd=LEAKS, env=env, timeout=300)
    assert run.rc == 0, run.stdout + run.stderr
    ends = ended(run)
    assert all(e.value("Leak check").startswith("3 repeats added ") for e in ends.values()), \
        run.log_text
    doc, out = analyze_json(run.log_path)
    assert {u["name"] for u in doc["leaks"]} == LEAKERS, out.stdout
    assert doc["leak_checked"] == len(ends) == 18
    for leak in doc["leaks"]:
        assert leak["leak_repeats"] == 3
        # Each repeat keeps 8 MB; one repeat may also be charged pages the allocator or the
        # kernel took in passing (seen once in the VM on a loaded host: 31 MB for 3 repeats),
        # which is no reason to doubt the list.
        assert 7 << 20 < leak["leak_least"] and leak["leak_total"] < 3 * (12 << 20), leak
    assert doc["left_behind"] == [], out.stdout


def test_a_default_run_does_not_count_what_the_allocator_kept(sandbox):
    """Without the leak check: a test that freed 20 MB which glibc would keep holds nothing
    at its end (the plugin trimmed the heap before its END); the leakers are listed as
    having left memory behind, and so may the cache and the first import (one run cannot
    tell them from a leak, and the list says so)."""
    run = sandbox.run("--limit", "1G", "--test-limit", "512M", "--", *LEAKS_PYTEST,
                      cwd=LEAKS, timeout=300)
    assert run.rc == 0, run.stdout + run.stderr
    ends = ended(run)
    for n in (1, 2):
        e = ends[f"test_leaks.py::test_frees_what_it_allocates[{n}]"]
        assert e.mb("memory.current") < 1, e.lines
    doc, out = analyze_json(run.log_path)
    left = {u["name"] for u in doc["left_behind"]}
    assert LEAKERS <= left, out.stdout
    assert not any("frees_what_it_allocates" in name or "trivial" in name for name in left), \
        out.stdout
    assert doc["leaks"] == [] and doc["leak_checked"] == 0
    text = subprocess.run([BIN, "analyze", run.log_path], capture_output=True, text=True,
                          timeout=120).stdout
    assert "WCMEM_SANDBOX_LEAK_CHECK=N tells which" in text, text
