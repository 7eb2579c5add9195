"""The clients users have: code under test that stops tracemalloc, a project's own in-process
diagnostics writing the same log, the readers of WeatherCop's Memory Diagnostics Guide
format, what a test reads of its own process, hostile tests that make the runner refuse,
and test ids or tracemalloc lists too long for a protocol line."""
import math
import os
import re

import pytest

import guide_reader
from test_plugin import PYTEST, suite, units_of
from test_profiles import two_suites, wcmem, write_ini

# What the plugin and the log do is the same on every backend: the host covers it, the
# cgroup v2 VM runs only the in-process writer's case (an OOM kill and a resume).
neutral = pytest.mark.backend_neutral


def by_test(run):
    """TEST_END entries of tests by the name after the last '::'."""
    return {n.rsplit("::", 1)[-1]: e for n, e in units_of(run).items()}


def no_internal_error(run):
    assert "INTERNALERROR" not in run.stdout + run.stderr, run.stdout + run.stderr


@neutral
def test_a_test_that_stops_tracemalloc_passes(sandbox):
    run = sandbox.run("--limit", "1G", "--tracemalloc", "3", "--", *PYTEST,
                      suite("tracemalloc_stop"))
    no_internal_error(run)
    assert run.rc == 0, run.stdout + run.stderr
    assert "2 passed" in run.stdout
    tests = by_test(run)
    stopped = [line.strip() for line in tests["test_stops_tracemalloc"].lines]
    at = stopped.index("Top tracemalloc allocations:")
    assert stopped[at + 1] == "(tracemalloc not active)", stopped
    after = [line.strip() for line in tests["test_after_it"].lines]
    at = after.index("Top tracemalloc allocations:")
    assert after[at + 1].endswith("test_stops.py:14: 3.0 MB"), after  # tracing again


def summary_peaks(stderr, indent):
    """{name: peak in MiB, to a tenth} of the summary's rows at that indent."""
    rows = re.findall(rf"^ {{{indent}}}(\S+)\s+peak\s+([\d.]+) ([KMG])iB", stderr, re.M)
    scale = {"K": 1 / 1024, "M": 1, "G": 1024}
    # to a tenth, half up, as the log rounds (round() would take 0.25 to 0.2)
    return {name: math.floor(float(n) * scale[unit] * 10 + 0.5) / 10 for name, n, unit in rows}


@neutral
def test_a_guide_reader_sees_exactly_the_tests_of_a_pytest_run(sandbox):
    # Four tests, one OOM-killed and pytest started again: each test once, none more (not
    # the pytest command), with the peaks the summary shows.
    # pytest's own memory section left out, so that the runner's summary lists the tests.
    run = sandbox.run("--limit", "1G", "--test-limit", "200M", "--", *PYTEST,
                      "-p", "no:wcmem-sandbox-memory", suite("blowup"))
    assert run.rc == 1, run.stdout + run.stderr
    assert "wcmem-sandbox: memory" not in run.stdout, run.stdout
    seen = guide_reader.tests(run.log_text)
    names = [name.rsplit("::", 1)[1] for name, _ in seen]
    assert names == ["test_before", "test_blowup", "test_after_one", "test_after_two"], seen
    assert dict(seen) == summary_peaks(run.stderr, 4), run.stderr


@neutral
def test_a_guide_reader_sees_exactly_the_suites_of_a_profile_run(sandbox):
    run = wcmem(sandbox, "--config", write_ini(sandbox, two_suites(sandbox)), "--profile", "ci")
    assert run.rc == 137, run.stderr
    seen = guide_reader.tests(run.log_text)
    assert [name for name, _ in seen] == ["blowup", "small"], seen
    assert dict(seen) == summary_peaks(run.stderr, 2), run.stderr


RUNNER_ENTRIES = [
    ("SESSION_START", None), ("COMMAND_START", None),
    ("TEST_START", "test_before"), ("TEST_END", "test_before"),
    ("TEST_START", "test_blowup"), ("TEST_END", "test_blowup"),
    ("TEST_START", "test_after"), ("TEST_END", "test_after"),
    ("COMMAND_END", None), ("SESSION_END", None)]


def runner_entries(run):
    """(event, test) of the entries the runner wrote (the suite's writer adds only a Peak
    memory line, never an Elapsed one)."""
    return [(e.event, e.name.rsplit("::", 1)[1] if "::" in e.name else None)
            for e in run.entries if e.value("Elapsed") is not None]


def test_an_in_process_writer_of_the_same_log_loses_nothing(sandbox):
    # The suite's conftest, like WeatherCop's plugin, empties the default log when its
    # session starts: once, and again when the runner starts pytest after the OOM kill.
    # Without -q, so that pytest shows its header, where the plugin says what it did.
    loud = [w for w in PYTEST if w != "-q"]
    run = sandbox.run("--limit", "1G", "--test-limit", "150M", "--", *loud,
                      suite("own_diagnostics"))
    assert run.rc == 1, run.stdout + run.stderr
    assert "1 failed, 2 passed" in run.stdout
    assert runner_entries(run) == RUNNER_ENTRIES, run.log_text
    assert by_test(run)["test_blowup"].value("OOM") == "killed (exceeded its own limit 150.0 MB)"
    assert "Peak memory: 1.0 MB" not in run.log_text  # the in-process writer was off
    assert "GC: collections=" in run.log_text         # and ours logged in its stead
    said = [line for line in (run.stdout + run.stderr).splitlines()
            if "in-process diagnostics" in line]
    assert len(said) == 1 and "WEATHERCOP_DISABLE_DIAGNOSTICS=1" in said[0], run.stdout
    assert "own_diagnostics/conftest.py" in said[0], said


def test_the_in_process_writer_is_named_only_where_there_is_one(sandbox):
    # The same default log, a suite with no writer of its own: nothing to say about one.
    loud = [w for w in PYTEST if w != "-q"]
    run = sandbox.run("--limit", "1G", "--", *loud, suite("peaks"))
    assert run.rc == 0, run.stdout + run.stderr
    assert run.log_text and "GC: collections=" in run.log_text, run.log_text
    assert "in-process diagnostics" not in run.stdout + run.stderr, run.stdout + run.stderr


@neutral
def test_a_writer_that_ignores_the_switch_loses_nothing_of_ours_either(sandbox):
    # It empties the file twice (at its session start, and after the OOM kill): each time
    # a new file with all of the runner's entries takes the log's place, and it says so
    # once. The writer goes on in the file it emptied: its lines are not in the log.
    env = dict(sandbox.env, OWN_DIAGNOSTICS_IGNORE_SWITCH="1")
    run = sandbox.run("--limit", "1G", "--test-limit", "150M", "--", *PYTEST,
                      suite("own_diagnostics"), env=env)
    assert run.rc == 1, run.stdout + run.stderr
    assert runner_entries(run) == RUNNER_ENTRIES, run.log_text
    said = [line for line in run.stderr.splitlines() if "another writer emptied" in line]
    assert len(said) == 1, run.stderr
    assert [e.event for e in run.entries] == [ev for ev, _ in RUNNER_ENTRIES], run.log_text
    assert not [f for f in os.listdir(os.path.dirname(sandbox.log)) if ".wcmem-" in f]


@neutral
def test_a_log_elsewhere_leaves_in_process_diagnostics_on(sandbox, tmp_path):
    log = tmp_path / "elsewhere.log"
    run = sandbox.run("--limit", "1G", "--log", str(log), "--", *PYTEST,
                      "-k", "before or after", suite("own_diagnostics"))
    assert run.rc == 0, run.stdout + run.stderr
    assert "in-process diagnostics" not in run.stderr
    assert "Peak memory: 1.0 MB" in open(sandbox.log).read()  # theirs wrote its own file


def maxrss(sandbox, tmp_path, *options):
    out = tmp_path / ("maxrss" + "".join(options))
    env = dict(sandbox.env, MAXRSS_OUT=str(out))
    run = sandbox.run("--limit", "1G", *options, "--", *PYTEST, suite("maxrss"), env=env)
    assert run.rc == 0, run.stdout + run.stderr
    return [int(v) for v in out.read_text().split()]


@neutral
def test_a_test_reads_its_high_water_mark_as_without_the_sandbox(sandbox, tmp_path):
    # ru_maxrss and VmHWM read in a test after a 200 MB test: plain pytest (one capped
    # cgroup, no plugin) and per-test units agree within 5 %.
    plain_rss, plain_hwm = maxrss(sandbox, tmp_path, "--no-plugin")
    rss, hwm = maxrss(sandbox, tmp_path)
    assert plain_rss > 200 << 10, plain_rss
    assert abs(rss - plain_rss) <= 0.05 * plain_rss, (rss, plain_rss)
    assert abs(hwm - plain_hwm) <= 0.05 * plain_hwm, (hwm, plain_hwm)


@neutral
def test_units_the_runner_refuses_do_not_end_the_session(sandbox):
    run = sandbox.run("--limit", "1G", "--", *PYTEST, suite("refused"))
    no_internal_error(run)
    assert run.rc == 0, run.stdout + run.stderr
    assert "6 passed" in run.stdout
    refused = [(e.name.rsplit("::", 1)[1], e.value("Request"), e.value("Answer"))
               for e in run.entries if e.event == "UNIT_REFUSED"]
    assert refused == [
        ("test_a_hijacks", "END", "ERR 409 no unit of that name is open"),
        ("test_b_runs_refused", "START", "ERR 409 a unit is open: END it first"),
        ("test_c_releases", "START", "ERR 409 a unit is open: END it first")], refused
    assert "test_d_has_a_unit" in by_test(run)  # a unit again once the stolen one ended
    assert "test_f_after_the_cut" not in by_test(run)  # the line was cut: no unit
    warnings = [line for line in run.stderr.splitlines() if "plugin: warning" in line]
    assert len(warnings) == 2, run.stderr  # once refused, once lost
    assert "refused" in warnings[0] and "lost the connection" in warnings[1], warnings


@neutral
def test_long_ids_and_a_big_tracemalloc_do_not_end_the_session(sandbox):
    run = sandbox.run("--limit", "1G", "--test-limit", "150M", "--tracemalloc", "65535",
                      "--", *PYTEST, "-p", "no:warnings", suite("ids"), timeout=300)
    no_internal_error(run)
    assert run.rc == 1, run.stdout[-2000:] + run.stderr[-2000:]
    assert "1 failed, 3 passed" in run.stdout
    names = list(units_of(run))
    cut = re.compile(r"::test_long_(passes|blowup)\[(a+|b+) \.\.\.\[(\d+) bytes, sha256 "
                     r"[0-9a-f]{12}\]$")
    long = [m for m in map(cut.search, names) if m]
    assert [m.group(1) for m in long] == ["passes", "blowup"], names
    assert all(int(m.group(3)) > 70000 for m in long), names  # the whole id's length
    assert all(len(n.encode()) <= 4096 for n in names)
    blowup = units_of(run)[next(n for n in names if "test_long_blowup" in n)]
    assert blowup.value("OOM") == "killed (exceeded its own limit 150.0 MB)"
    many = [line.strip() for line in by_test(run)["test_many_allocating_lines"].lines]
    assert "Top tracemalloc allocations:" in many
    assert sum("generated_allocations.py:" in line for line in many) > 20, many
    assert any(line.startswith("(cut: ") for line in many), many


@neutral
def test_a_backslash_in_a_test_id_is_logged_as_pytest_prints_it(sandbox):
    run = sandbox.run("--limit", "1G", "--", *PYTEST, "-k", "backslash", suite("ids"))
    assert run.rc == 0, run.stdout + run.stderr
    (name,) = units_of(run)
    assert name.endswith("::test_backslash[C:\\\\temp]"), name  # two, as in the node ID
