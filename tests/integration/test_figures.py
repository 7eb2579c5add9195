"""What the figures mean: which limit holds the command's own unit, the exact bytes behind
the log's rounded sizes, a forkserver's children charged to the test that asked for them,
and the markers' figures of a test that was OOM-killed."""
import json
import os
import subprocess

import memlog
from conftest import BIN
from test_plugin import PYTEST, suite, units_of


def test_a_big_conftest_is_held_by_the_limit_and_a_hog_by_the_test_limit(sandbox):
    # 120 MB at import, 64M a test: collection runs in the command's own unit, under
    # --limit alone; each test under --test-limit, and the hog is killed by it.
    run = sandbox.run("--limit", "512M", "--test-limit", "64M", "--", *PYTEST,
                      suite("big_conftest"), timeout=300)
    assert run.rc == 1, run.stdout + run.stderr  # pytest's own: the hog failed
    assert "1 failed, 2 passed" in run.stdout, run.stdout
    command = run.entry("COMMAND_END")
    assert command.value("memory.max") == "512.0 MB"
    assert memlog.peak_mb(command) >= 120, run.log_text
    assert "OOM" not in [line.split(":")[0].strip() for line in command.lines]
    tests = {name.split("::")[-1]: end for name, end in units_of(run).items()}
    assert set(tests) == {"test_small", "test_hog", "test_after"}, tests
    assert tests["test_hog"].value("OOM") == "killed (exceeded its own limit 64.0 MB)"
    for name in ("test_small", "test_after"):
        assert tests[name].value("memory.max") == "64.0 MB"
        assert tests[name].value("OOM") is None, tests[name].lines


def test_analyze_and_budget_read_the_exact_bytes_the_run_measured(sandbox, tmp_path):
    # The log rounds for people (32.3 MB); analyze and budget read the cgroup's bytes
    # line: the same figures, to the byte, as the JSON report of the run.
    report = tmp_path / "report.json"
    run = sandbox.run("--limit", "1G", "--json", str(report), "--", *PYTEST, suite("peaks"))
    assert run.rc == 0, run.stdout + run.stderr
    measured = {u["name"]: (u["peak"], u["limit"], u["current"])
                for u in json.loads(report.read_text())["units"] if u["kind"] == "test"}
    assert len(measured) == 3
    for name, end in units_of(run).items():
        # The guide's reading of the rounded line still works beside it.
        assert abs(memlog.peak_mb(end) - measured[name][0] / 1048576) <= 0.05 + 1e-9
        assert end.value("bytes") == "max=%d peak=%d current=%d" % (
            measured[name][1], measured[name][0], measured[name][2])

    analyzed = subprocess.run([BIN, "analyze", "--json", "-", run.log_path], capture_output=True,
                              text=True, check=True)
    biggest = json.loads(analyzed.stdout)["biggest"]
    assert {u["name"]: u["peak"] for u in biggest} == \
        {name: figures[0] for name, figures in measured.items()}
    assert all(u["limit"] == measured[u["name"]][1] for u in biggest)

    budgets = tmp_path / "budgets.ini"
    subprocess.run([BIN, "budget", "--margin", "0", "--floor", "4K", "-o", str(budgets),
                    run.log_path], capture_output=True, text=True, check=True)
    lines = [line.split() for line in budgets.read_text().splitlines()
             if line.startswith("test = ")]
    assert {words[3]: int(words[2][:-1]) for words in lines} == \
        {name: -(-peak // 1048576) for name, (peak, _, _) in measured.items()}, lines


def test_a_marker_option_that_cannot_hold_is_said_once_and_the_size_holds(sandbox):
    run = sandbox.run("--limit", "1G", "--test-limit", "128M", "--", *PYTEST, "-rw",
                      "-k", "leaks", suite("figures_markers"))
    said = [line for line in run.stdout.splitlines()
            if "limit_leaks(filter_fn=...) is not supported" in line]
    assert len(said) == 1, run.stdout
    assert said[0].endswith("::test_leaks_with_a_filter)"), said
    # Both spellings still run under their SIZE (two USAGE asks: the leaks are measured).
    tests = {name.split("::")[-1]: end for name, end in units_of(run).items()}
    assert set(tests) == {"test_leaks_with_a_filter", "test_leaks_with_a_filter_by_keyword",
                          "test_leaks_with_an_unknown_option"}
    assert "2 passed" in run.stdout and "1 failed" in run.stdout, run.stdout
    assert "limit_leaks() takes one SIZE as a string" in run.stdout  # the unknown option


def test_a_test_killed_while_traced_has_its_biggest_sites_in_its_entry(sandbox):
    run = sandbox.run("--limit", "1G", "--test-limit", "128M", "--tracemalloc", "3", "--",
                      *PYTEST, "-k", "traced or after", suite("figures_markers"))
    assert "1 failed, 1 passed" in run.stdout, run.stdout + run.stderr
    tests = {name.split("::")[-1]: end for name, end in units_of(run).items()}
    killed = tests["test_killed_while_traced"]
    assert killed.value("OOM") == "killed (exceeded its own limit 128.0 MB)"
    lines = [line.strip() for line in killed.lines]
    at = next(i for i, line in enumerate(lines)
              if line.startswith("Top tracemalloc allocations (last sample, "))
    source = os.path.join(suite("figures_markers"), "test_figures_markers.py")
    with open(source) as f:
        site = next(n for n, line in enumerate(f, 1) if "held.append" in line)
    top = lines[at + 1]
    assert top.startswith(f"{source}:{site}: "), lines
    assert float(top.split(": ")[-1].split()[0]) >= 8.0, lines
    # A test that ends has its end's list, not a sample.
    after = [line.strip() for line in tests["test_after"].lines]
    assert "Top tracemalloc allocations:" in after, after
    assert not any("last sample" in line for line in after), after


def test_a_forkserver_child_is_charged_to_the_test_that_asked_for_it(sandbox):
    # The forkserver starts in the first test and outlives it; the 100 MB child it forks
    # for the second test counts in that test's unit, is OOM-killed by its 64M limit, and
    # the kill is counted. v1 kills the child alone; v2 the unit whole (memory.oom.group).
    run = sandbox.run("--limit", "1G", "--test-limit", "64M", "--", *PYTEST,
                      suite("forkserver"), timeout=300)
    assert "1 failed, 2 passed" in run.stdout, run.stdout + run.stderr
    tests = {name.split("::")[-1]: end for name, end in units_of(run).items()}
    grew = tests["test_its_child_goes_over_the_limit"]
    assert "(exceeded its own limit 64.0 MB)" in grew.value("OOM"), grew.lines
    assert memlog.peak_mb(grew) >= 60, grew.lines
    assert "wcmem-sandbox: 4 units, 1 OOM-killed;" in run.stderr, run.stderr
    for name in ("test_starts_the_forkserver", "test_after"):
        assert tests[name].value("OOM") is None, tests[name].lines


def test_an_oom_kill_outside_every_unit_is_counted_and_named(sandbox):
    # The child the first test leaves runs in the harness; when it takes the sandbox to its
    # total, the OOM killer takes it there: the entry of the test that ran then says so,
    # and the summary counts the kill.
    run = sandbox.run("--limit", "256M", "--test-limit", "128M", "--", *PYTEST,
                      suite("left_running"), timeout=300)
    assert "2 passed" in run.stdout, run.stdout + run.stderr
    tests = {name.split("::")[-1]: end for name, end in units_of(run).items()}
    assert tests["test_leaves_a_process_running"].value("Left behind") == \
        "1 process, moved to the harness"
    ran = tests["test_runs_while_it_grows"]
    assert ran.value("Outside every unit, OOM-killed meanwhile") == \
        "1 process (left running, in the harness or standing by)", ran.lines
    assert ran.value("OOM") is None, ran.lines  # the test's own unit lost nothing
    assert "wcmem-sandbox: 3 units, 1 OOM-killed (1 outside every unit: left running by " \
        "a test);" in run.stderr, run.stderr
    assert "wcmem-sandbox: 1 process left running outside every unit was OOM-killed while " \
        f"{ran.name} ran" in run.stderr, run.stderr
    end = run.entry("SESSION_END")
    assert end.value("OOM-killed") == "1"
    assert end.value("OOM-killed outside every unit") == "1"
