"""Per-test units for pytest: the plugin the runner loads by itself, a unit per test, and
the run carrying on after a test is OOM-killed."""
import json
import os
import socket
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

import memlog
from conftest import BIN, CLIENT_PRELUDE, OWN_CGROUP, marker_processes, wait_for

SUITES = os.path.join(os.path.dirname(__file__), "..", "suites")
PYTEST = ["/usr/bin/python3", "-m", "pytest", "-p", "no:cacheprovider", "-q"]


def suite(name):
    return os.path.abspath(os.path.join(SUITES, name))


def units_of(run):
    """TEST_END entries of kind test, by node ID."""
    ends = {e.name: e for e in run.entries if e.event == "TEST_END"}
    starts = [e for e in run.entries if e.event == "TEST_START" and e.value("Kind") == "test"]
    return {s.name: ends[s.name] for s in starts if s.name in ends}


def junit_cases(path):
    root = ET.parse(path).getroot()
    return {c.get("name"): c for c in root.iter("testcase")}


def test_each_test_gets_its_own_unit_and_its_own_peak(sandbox):
    # Tests holding 60, 100 and 150 MB read that as their peak (within 10 % or 8 MB).
    run = sandbox.run("--limit", "1G", "--", *PYTEST, suite("peaks"))
    assert run.rc == 0, run.stdout + run.stderr
    tests = units_of(run)
    assert len(tests) == 3, tests
    cgroups = set()
    for mb in (60, 100, 150):
        end = next(e for n, e in tests.items() if n.endswith(f"[{mb}]"))
        peak = memlog.peak_mb(end)
        assert abs(peak - mb) <= max(0.1 * mb, 8), f"{end.name}: peak {peak} MB for {mb} MB"
        cgroups.add(end.value("cgroup"))
        assert end.value("GC").startswith("collections=")
    assert len(cgroups) == 3  # one cgroup each


def biggest_listed(stderr):
    """The test names of the summary's "biggest" rows, in order."""
    lines = stderr.split("\n")
    at = next(i for i, line in enumerate(lines) if "biggest of" in line)
    return [line.split()[0] for line in lines[at + 1:] if line.startswith("    ")]


@pytest.mark.backend_neutral
def test_the_summary_lists_the_biggest_of_many_tests_and_counts_all(sandbox, tmp_path):
    # Without a JSON or JUnit report the runner keeps only the records the summary shows;
    # with one, every record. Either way the summary lists the 10 biggest by the peaks the
    # run measured (the log's, to 0.1 MB; the JSON's, to the byte) and counts every test.
    # pytest's own memory section left out: the runner's summary lists them itself.
    own = [*PYTEST, "-p", "no:wcmem-sandbox-memory"]
    run = sandbox.run("--limit", "1G", "--", *own, suite("many"))
    assert run.rc == 0, run.stdout + run.stderr
    assert "the 10 biggest of 16 tests by peak:" in run.stderr
    assert "wcmem-sandbox: 17 units, 0 OOM-killed;" in run.stderr
    peaks = {name: memlog.peak_mb(end) for name, end in units_of(run).items()}
    assert len(peaks) == 16  # the log has every test
    listed = biggest_listed(run.stderr)
    shown = [peaks[n] for n in listed]
    others = [p for n, p in peaks.items() if n not in listed]
    assert len(listed) == 10 and shown == sorted(shown, reverse=True), (listed, peaks)
    assert min(shown) >= max(others), (listed, peaks)
    assert {n.split("[")[1] for n in listed} >= {"32]", "30]"}, peaks  # the two biggest

    report = tmp_path / "report.json"
    full = sandbox.run("--limit", "1G", "--json", str(report), "--", *own, suite("many"))
    assert full.rc == 0, full.stderr
    units = json.loads(report.read_text())["units"]
    assert len(units) == 17 and units[0]["kind"] == "command"
    assert [u["name"].split("[")[1] for u in units[1:]] == \
        [f"{mb}]" for mb in [(5 * i) % 16 * 2 + 2 for i in range(16)]]  # in the order run
    biggest = sorted(units[1:], key=lambda u: -u["peak"])[:10]  # stable: ties keep run order
    assert biggest_listed(full.stderr) == [u["name"] for u in biggest], \
        [(u["name"], u["peak"]) for u in units]


def test_the_summary_gives_a_command_that_kills_the_test_again_alone(sandbox, tmp_path):
    # Started from a folder of its own, with the suite given relative to it: the printed
    # command reruns the killed test alone, under the same limits, from that folder.
    start = tmp_path / "start"
    start.mkdir()
    rel = os.path.relpath(suite("blowup"), start)
    run = sandbox.run("--limit", "1G", "--test-limit", "200M", "--", *PYTEST, rel,
                      cwd=str(start))
    (line,) = [l for l in run.stderr.splitlines() if l.startswith("  rerun alone: ")]
    command = line[len("  rerun alone: "):]
    assert command == (f"{BIN} --limit 1G --test-limit 200M -- /usr/bin/python3 -m pytest "
                       f"{rel}/test_blowup.py::test_blowup"), command
    again = subprocess.run(["sh", "-c", command], cwd=start, env=sandbox.env,
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 1, again.stdout + again.stderr
    assert "1 failed" in again.stdout and "passed" not in again.stdout, again.stdout
    assert "test_blowup OOM-killed (peak 200.0 MiB, limit 200.0 MiB, own limit)" in again.stderr


def test_blowup_is_killed_named_and_the_run_carries_on(sandbox, tmp_path):
    junit = tmp_path / "junit.xml"
    run = sandbox.run("--limit", "1G", "--test-limit", "200M", "--", *PYTEST,
                      suite("blowup"), f"--junitxml={junit}")
    assert run.rc == 1, run.stdout + run.stderr  # pytest's own: a test failed
    tests = units_of(run)
    blowup = [e for n, e in tests.items() if n.endswith("test_blowup")]
    assert len(blowup) == 1
    assert blowup[0].value("OOM") == "killed (exceeded its own limit 200.0 MB)"
    # The tests after it ran, in the resumed pytest.
    assert any(n.endswith("test_after_two") for n in tests)
    # pytest's own summary and the JUnit file list every test exactly once.
    assert "1 failed, 3 passed" in run.stdout, run.stdout
    cases = junit_cases(junit)
    assert len(cases) == 4, list(cases)
    failure = cases["test_blowup"].find("failure")
    assert failure is not None
    assert "OOM-killed: peak 200.0 MiB, limit 200.0 MiB (own limit)" in failure.get("message")
    # The summary names it the way editors jump to it.
    assert "test_blowup.py:8: test_blowup OOM-killed (peak 200.0 MiB, limit 200.0 MiB, own limit)" \
        in run.stderr, run.stderr


def test_stop_on_oom_does_not_resume(sandbox):
    run = sandbox.run("--limit", "1G", "--test-limit", "200M", "--stop-on-oom", "--",
                      *PYTEST, suite("blowup"))
    assert run.rc == 137
    assert not any(n.endswith("test_after_two") for n in units_of(run))


def test_child_process_memory_counts_for_the_test(sandbox):
    run = sandbox.run("--limit", "1G", "--", *PYTEST, suite("child"))
    assert run.rc == 0, run.stdout + run.stderr
    (end,) = units_of(run).values()
    assert 120 <= memlog.peak_mb(end) <= 140, end.lines


def test_process_left_behind_is_reported(sandbox):
    env = dict(sandbox.env, LEFTOVER_MARKER=sandbox.marker)
    run = sandbox.run("--limit", "1G", "--", *PYTEST, suite("leftover"), env=env)
    assert run.rc == 0, run.stdout + run.stderr
    tests = units_of(run)
    left = tests[next(n for n in tests if n.endswith("test_leaves_a_process"))]
    assert left.value("Left behind") == "1 process, moved to the harness"
    # and it does not outlive the run: the fixture checks for the marker


def test_no_plugin_runs_the_command_as_one_unit(sandbox):
    run = sandbox.run("--limit", "1G", "--no-plugin", "--", *PYTEST, suite("peaks"))
    assert run.rc == 0
    assert units_of(run) == {}
    assert [e.event for e in run.entries].count("TEST_START") == 0
    assert [e.event for e in run.entries].count("COMMAND_START") == 1


def test_users_pythonpath_and_plugins_are_kept(sandbox, tmp_path):
    (tmp_path / "myplug.py").write_text("def pytest_configure(config):\n    print('MYPLUG')\n")
    env = dict(sandbox.env, PYTHONPATH=str(tmp_path), PYTEST_PLUGINS="myplug")
    run = sandbox.run("--limit", "1G", "--", *PYTEST, "-s", suite("peaks"), env=env)
    assert run.rc == 0, run.stderr
    assert "MYPLUG" in run.stdout
    assert len(units_of(run)) == 3


def test_diagnostics_off_sends_no_extras(sandbox, tmp_path):
    env = dict(sandbox.env, WEATHERCOP_DISABLE_DIAGNOSTICS="1")
    log = tmp_path / "forced.log"
    run = sandbox.run("--limit", "1G", "--log", str(log), "--", *PYTEST, suite("peaks"), env=env)
    assert run.rc == 0
    assert not log.exists()  # the log is off too; the units were still made:
    assert "wcmem-sandbox: memory, the 3 biggest of 3 tests by peak" in run.stdout, run.stdout


def test_tracemalloc_top_allocations(sandbox):
    run = sandbox.run("--limit", "1G", "--tracemalloc", "3", "--", *PYTEST, suite("keeps"))
    assert run.rc == 0, run.stderr
    (end,) = units_of(run).values()
    lines = [line.strip() for line in end.lines]
    top = lines.index("Top tracemalloc allocations:")
    assert lines[top + 1].endswith("test_keeps.py:6: 5.0 MB"), lines


def test_xdist_workers_get_units_and_a_killed_worker_is_marked(sandbox):
    pytest.importorskip("xdist")
    run = sandbox.run("--limit", "1G", "--test-limit", "200M", "--", *PYTEST, "-n", "2",
                      "-p", "xdist", suite("blowup"), timeout=300)
    assert run.rc == 1, run.stdout + run.stderr
    tests = units_of(run)
    assert {n.rsplit("::", 1)[1] for n in tests} >= {"test_before", "test_blowup",
                                                     "test_after_one", "test_after_two"}
    blowup = tests[next(n for n in tests if n.endswith("test_blowup"))]
    assert blowup.value("OOM") == "killed (exceeded its own limit 200.0 MB)"
    assert "OOM-killed: exceeded its own limit 200.0 MiB" in run.stdout  # xdist's crash report
    assert "1 failed, 3 passed" in run.stdout


def test_nested_call_is_a_unit_of_the_enclosing_session(sandbox):
    inner = (f"{sandbox.cmd()[0]} --name inner-make --test-limit 100M -- "
             f"/usr/bin/python3 -c 'b = bytearray(300 << 20)' {sandbox.marker}; echo inner=$?")
    run = sandbox.run("--limit", "1G", "--no-plugin", "--", "sh", "-c", inner)
    assert run.rc == 0, run.stderr
    assert "inner=137" in run.stdout
    end = next(e for e in run.entries if e.event == "TEST_END" and e.name == "inner-make")
    assert end.value("OOM") == "killed (exceeded its own limit 100.0 MB)"
    assert end.value("Exit") == "signal 9 (SIGKILL)"
    assert end.value("memory.max") == "100.0 MB"


CLIENT = CLIENT_PRELUDE + r"""
print(ask(b"START x\n"))               # before HELLO
print(ask(b"HELLO 2\n"))               # a version we do not speak
print(ask(b"HELLO 1\n"))
print(ask(b"FROB\n"))
print(ask(b"START a%zz\n"))
print(ask(b"END nothing-open\n"))
print(ask(b"START t1 limit=104857600\n"))
print(ask(b"START t2\n"))              # one open at a time
print(ask(b"END t2\n"))                # not the open one
print(ask(b"END t1 outcome=passed\n"))
try:                                   # 1 MB line: refused, connection closed
    s.sendall(b"X" * (1 << 20) + b"\n")
except BrokenPipeError:
    pass
print(f.readline().decode().strip())
print(repr(f.readline()))
"""


def test_protocol_abuse_gets_errors_not_a_crash(sandbox):
    run = sandbox.run("--limit", "512M", "--", "/usr/bin/python3", "-c", CLIENT, sandbox.marker)
    assert run.rc == 0, run.stderr
    answers = run.stdout.splitlines()
    assert answers[0] == "ERR 409 HELLO first"
    assert answers[1].startswith("ERR 505")
    assert answers[2] == "OK 1"
    assert answers[3] == "ERR 400 unknown verb 'FROB'"
    assert answers[4].startswith("ERR 400 bad name")
    assert answers[5].startswith("ERR 409")
    assert answers[6].startswith("OK ") and answers[6].endswith("/u2")
    assert answers[7].startswith("ERR 409")
    assert answers[8].startswith("ERR 409")
    assert answers[9] == "OK"
    assert answers[10].startswith("ERR 413")
    assert answers[11] == "b''"
    t1 = next(e for e in run.entries if e.event == "TEST_END" and e.name == "t1")
    assert t1.value("memory.max") == "100.0 MB"
    assert "bad line" in run.stderr or "unknown verb" in run.stderr  # a line on stderr


ROOM_CLIENT = CLIENT_PRELUDE + r"""
print(ask(b"HELLO 1\n"))
print(ask(b"ROOM t1 x\n"))             # one field only
print(ask(b"START t1\n"))
print(ask(b"ROOM t2\n"))               # a unit is open: END it first
print(ask(b"END t1 outcome=passed\n"))
print(ask(b"ROOM t2\n"))               # nothing else runs: it would start
"""


def test_room_is_asked_between_tests_and_answers_whether_a_test_would_start(sandbox):
    run = sandbox.run("--limit", "512M", "--", "/usr/bin/python3", "-c", ROOM_CLIENT,
                      sandbox.marker)
    assert run.rc == 0, run.stderr
    answers = run.stdout.splitlines()
    assert answers[0] == "OK 1"  # no room=1: no admission by memory without budgets
    assert answers[1] == "ERR 400 ROOM takes one field"
    assert answers[2].startswith("OK ")
    assert answers[3] == "ERR 409 ROOM with a unit open: END it first"
    assert answers[4] == "OK"
    assert answers[5] == "OK 1"


def test_a_client_outside_the_sandbox_is_refused(sandbox):
    code = ("import os, time\nprint(os.environ['WCMEM_SANDBOX_SOCKET'], flush=True)\n"
            "time.sleep(30)")
    p = sandbox.start("--limit", "256M", "--", "/usr/bin/python3", "-c", code, sandbox.marker)
    path = p.stdout.readline().strip()
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)  # from this test: outside the sandbox
    answer = s.makefile("rb").readline().decode()
    assert answer.startswith("ERR 403"), answer
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    assert oct(os.stat(os.path.dirname(path)).st_mode & 0o777) == "0o700"
    p.terminate()
    sandbox.finish(p)
    assert not os.path.exists(path)


def test_the_migration_lock_is_kept_warm_while_a_test_is_young_and_no_longer(sandbox, tmp_path):
    # A test of 2.5 s: the runner writes on the migration lock about once every 8 ms in the
    # test's first second (runner/session/warm.h), then stops: well under the 312 writes that
    # 2.5 s would take without the window, and at least some even on a slow machine (a late
    # timer writes less often, never more).
    (tmp_path / "test_long.py").write_text(
        "import time\n\n\ndef test_long():\n    time.sleep(2.5)\n")
    report = tmp_path / "report.json"
    run = sandbox.run("--limit", "1G", "--json", str(report), "--", *PYTEST,
                      str(tmp_path / "test_long.py"))
    assert run.rc == 0, run.stdout + run.stderr
    moves = json.loads(report.read_text())["session"]["warm_moves"]
    assert 20 <= moves <= 1000 // 8 + 5, moves
    # Without per-test units no process moves after the command's start: nothing to keep warm.
    plain = sandbox.run("--limit", "1G", "--no-plugin", "--json", str(report), "--", *PYTEST,
                        str(tmp_path / "test_long.py"))
    assert plain.rc == 0, plain.stderr
    assert json.loads(report.read_text())["session"]["warm_moves"] == 0


# Each test writes where it is, read at its first instruction: the cgroup of its own unit,
# whether it moved itself in (the runner kept the unit for it) or the runner moved it.
WHERE_SUITE = OWN_CGROUP + r'''
import pytest


def here():
    return own_cgroup()


@pytest.mark.parametrize("i", range(40))
def test_where(i, request):
    with open(OUT, "a") as f:
        f.write(f"{request.node.nodeid} {here()}\n")
'''


def assert_each_test_started_in_its_own_unit(run, seen_file, n):
    assert run.rc == 0, run.stdout + run.stderr
    seen = dict(line.split(" ", 1) for line in seen_file.read_text().splitlines())
    starts = {e.name: e.value("cgroup") for e in run.entries
              if e.event == "TEST_START" and e.value("Kind") == "test"}
    assert len(seen) == n and len(starts) == n, (seen, starts)
    assert len(set(starts.values())) == n  # a unit each
    for name, path in seen.items():
        assert path.endswith("/" + starts[name]), (name, path, starts[name])


def test_every_test_runs_in_its_own_unit_from_its_first_instruction(sandbox, tmp_path):
    out = tmp_path / "seen.txt"
    (tmp_path / "test_where.py").write_text(f"OUT = {str(out)!r}\n" + WHERE_SUITE)
    run = sandbox.run("--limit", "1G", "--", *PYTEST, str(tmp_path / "test_where.py"))
    assert_each_test_started_in_its_own_unit(run, out, 40)


def test_a_test_that_cannot_move_itself_waits_to_be_moved(sandbox, tmp_path):
    # A runner of another user, without delegation: the kept unit's cgroup.procs is not the
    # test's to write. Here the plugin's own open() is refused, as the kernel would refuse it.
    out, refused = tmp_path / "seen.txt", tmp_path / "refused.txt"
    (tmp_path / "test_where.py").write_text(f"OUT = {str(out)!r}\n" + WHERE_SUITE)
    (tmp_path / "conftest.py").write_text(
        "import os\nimport wcmem_pytest.units\n\n_open = os.open\n\n\n"
        "def refuse(path, *args, **kwargs):\n"
        "    if str(path).endswith('/cgroup.procs'):\n"
        f"        os.close(_open({str(refused)!r}, os.O_WRONLY | os.O_CREAT))\n"
        "        raise PermissionError(13, 'Permission denied', path)\n"
        "    return _open(path, *args, **kwargs)\n\n\n"
        "wcmem_pytest.units.os = type('os', (), {**vars(os), 'open': staticmethod(refuse)})\n")
    run = sandbox.run("--limit", "1G", "--", *PYTEST, str(tmp_path / "test_where.py"))
    assert refused.exists(), "the move was never tried"
    assert_each_test_started_in_its_own_unit(run, out, 40)


# Stops the runner (by its pid: the client is its child) until a helper lets it go on half a
# second later, after what the client does next: the runner then learns of that late.
STOP_RUNNER = r"""
import signal, time
runner = os.getppid()
os.kill(runner, signal.SIGSTOP)
if os.fork() == 0:
    time.sleep(0.5)
    os.kill(runner, signal.SIGCONT)
    os._exit(0)
"""

KEPT_CLIENT = CLIENT_PRELUDE + OWN_CGROUP + "STOP_RUNNER = " + repr(STOP_RUNNER) + r"""
print(ask(b"HELLO 1\n"))
first = ask(b"START t1 keep=1\n")
print(first)
procs = first.split(" next=", 1)[1]
print(ask(b"END t1 outcome=passed\n"), flush=True)
if sys.argv[-1] == "die":
    # Killed in the kept unit before the runner reads START.
    exec(STOP_RUNNER)
s.sendall(b"START t2 keep=1 moved=1\n")   # START first, then the move: no answer awaited
with open(procs, "w") as p:
    p.write(str(os.getpid()))
if sys.argv[-1] == "die":
    os.kill(os.getpid(), signal.SIGKILL)
print(own_cgroup())
print(f.readline().decode().strip())
print(ask(b"END t2 outcome=passed\n"))
"""


def test_a_client_moves_itself_into_the_unit_kept_for_it(sandbox):
    run = sandbox.run("--limit", "512M", "--", "/usr/bin/python3", "-c", KEPT_CLIENT,
                      sandbox.marker, "live")
    assert run.rc == 0, run.stdout + run.stderr
    hello, first, end1, where, second, end2 = run.stdout.splitlines()
    assert (hello, end1, end2) == ("OK 1", "OK", "OK")
    unit1, _, procs = first[3:].partition(" next=")
    assert procs.endswith("/cgroup.procs"), first
    kept = os.path.dirname(procs)
    assert where.endswith(kept[kept.index("/wcmem-"):]), (where, kept)
    unit2 = second[3:].split(" next=")[0]
    assert kept.endswith("/" + unit2) and unit2 != unit1, (second, kept)
    assert second.split(" next=")[1] != procs  # a new unit kept for the next START
    t2 = next(e for e in run.entries if e.event == "TEST_START" and e.name == "t2")
    assert t2.value("cgroup") == unit2


def test_a_client_killed_in_its_kept_unit_before_its_start_was_read_is_named(sandbox):
    # The client sends START, moves itself in and is killed while the runner is stopped: the
    # runner reads the START after the death. The unit is still the test's, and its end says
    # how it died.
    run = sandbox.run("--limit", "512M", "--", "/usr/bin/python3", "-c", KEPT_CLIENT,
                      sandbox.marker, "die")
    assert run.rc != 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    kept = os.path.dirname(lines[1].split(" next=", 1)[1])
    start = next(e for e in run.entries if e.event == "TEST_START" and e.name == "t2")
    end = next(e for e in run.entries if e.event == "TEST_END" and e.name == "t2")
    assert kept.endswith("/" + start.value("cgroup")), (kept, start.value("cgroup"))
    assert end.value("Exit") == "signal 9 (SIGKILL)", end


HELD_END_CLIENT = CLIENT_PRELUDE + "STOP_RUNNER = " + repr(STOP_RUNNER) + r"""
print(ask(b"HELLO 1\n"))
procs = ask(b"START t1 keep=1\n").split(" next=", 1)[1]
# Then the runner learns of the exit and reads the lines in either order.
exec(STOP_RUNNER)
s.sendall(b"END t1 outcome=passed\nSTART t2 keep=1 moved=1\n")  # as the plugin: one write
with open(procs, "w") as p:
    p.write(str(os.getpid()))
os._exit(0)  # the test calls os._exit(0)
"""


def test_a_test_that_exits_right_after_the_last_end_is_recorded(sandbox):
    # The END of t1 and the START of t2 go in one write; t2 exits at once. Whichever the
    # runner sees first, the exit or the lines, both tests are in the log, t2 with its exit.
    for _ in range(5):
        run = sandbox.run("--limit", "512M", "--", "/usr/bin/python3", "-c", HELD_END_CLIENT,
                          sandbox.marker)
        assert run.rc == 0, run.stdout + run.stderr
        ends = {e.name: e for e in run.entries if e.event == "TEST_END"}
        assert set(ends) >= {"t1", "t2"}, run.log_text
        assert ends["t1"].value("Outcome") in (None, "passed") and \
            ends["t2"].value("Exit") == "code 0", run.log_text
