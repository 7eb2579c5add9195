"""--expect LOG: admission by the peaks an earlier run's memory log measured, without a
budget file (runner/control/PROTOCOL.md, "Room"). The usual LOG is the run's own log, read
before the run empties it; one not there yet lets the run go on without expected peaks, and
one that is no memory log stops it before anything runs. Real cgroups, Debian's
pytest-xdist, the shared_cap suite of test_schedule.py."""
import pytest

from conftest import BIN
from test_schedule import HEAVY, LIMITS, PYTEST, killed


def run_xdist(sandbox, *args):
    return sandbox.run(*LIMITS, *args, "--", *PYTEST, env=dict(sandbox.env, **HEAVY),
                       timeout=300)


def test_last_times_peaks_from_the_runs_own_log_kill_nothing(sandbox):
    pytest.importorskip("xdist")
    first = run_xdist(sandbox)
    assert first.rc == 0, first.stdout + first.stderr
    heavy = [e for e in first.entries if e.event == "TEST_END"]
    assert len({e.name for e in heavy}) == 4, first.log_text
    # The same log the run writes: read first, then emptied and written anew.
    second = run_xdist(sandbox, "--expect", first.log_path)
    assert second.rc == 0, second.stdout + second.stderr
    assert "4 passed" in second.stdout
    assert not killed(second), second.log_text
    assert "run again" not in second.stderr
    assert f"wcmem-sandbox: admission: expected peaks of 4 tests from {first.log_path}\n" \
        in second.stderr, second.stderr
    # The fourth could not start beside the other three: it waited.
    assert "waited for room in the sandbox" in second.stderr, second.stderr
    assert [e.event for e in second.entries].count("SESSION_START") == 1, second.log_text
    # No budget: each test ran under the --test-limit, as without --expect.
    for end in (e for e in second.entries if e.event == "TEST_START"):
        assert end.value("memory.max") == "300.0 MB", end.lines


def test_a_log_not_there_yet_is_said_and_the_run_goes_on(sandbox, tmp_path):
    """A CI job's first run: the profile's `expect` names the log it is about to write."""
    ini = tmp_path / "wcmem-sandbox.ini"
    ini.write_text("[profile ci]\nexpect = wc/test_memory.log\n")
    log = tmp_path / "wc" / "test_memory.log"
    shown = sandbox.run("config", "--config", str(ini), "--profile", "ci", timeout=60)
    assert shown.rc == 0, shown.stderr
    assert f"expect        = {log} ; [profile ci] {ini}:2" in shown.stdout, shown.stdout
    run = sandbox.run("--config", str(ini), "--profile", "ci", "--limit", "100M", "--",
                      "true", timeout=60)
    assert run.rc == 0, run.stderr
    said = [line for line in run.stderr.splitlines() if "--expect" in line]
    assert said == [f"wcmem-sandbox: --expect {log}: no such file: this run expects no "
                    "peaks, tests start as without --expect"], run.stderr
    assert "admission:" not in run.stderr  # nothing was read
    assert run.entry("SESSION_START")  # it ran and wrote its log, the next run's figures


@pytest.mark.no_cgroup
@pytest.mark.parametrize("what", ["budget file", "folder"])
def test_what_is_no_memory_log_stops_the_run(sandbox, tmp_path, what):
    if what == "folder":
        given = tmp_path / "logs"
        given.mkdir()
        message = f"{given}: cannot read the memory log of --expect: it is a directory"
    else:
        given = tmp_path / "wcmem-budgets.ini"
        given.write_text("[budgets]\ntest = 130M test_shared_cap.py::test_heavy[0]\n")
        message = (f"{given}: not a memory log: it holds no SESSION_START or TEST_END "
                   "entry\n  name the memory log an earlier run wrote (its --log FILE")
    ran = tmp_path / "ran"
    run = sandbox.run("--limit", "100M", "--expect", str(given), "--", "touch", str(ran),
                      timeout=60)
    assert run.rc == 125, run.stderr
    assert message in run.stderr, run.stderr
    assert not ran.exists()
    assert run.log_text is None  # refused before the log was opened


def test_a_nested_call_leaves_the_log_to_its_session(sandbox, tmp_path):
    """Inside a session a call is one unit of it, admitted there: its --expect (from a
    profile's [defaults], say) is not read, however large the log; with no session that
    answers, the call runs its own and reads it."""
    folder = tmp_path / "logs"
    folder.mkdir()
    nested = [BIN, "--expect", str(folder), "--", "true"]
    run = sandbox.run("--limit", "100M", "--", *nested, timeout=60)
    assert run.rc == 0, run.stderr
    assert "--expect" not in run.stderr.replace(" ".join(nested), ""), run.stderr
    alone = sandbox.run("--limit", "100M", "--expect", str(folder), "--", "true", timeout=60,
                        env=dict(sandbox.env, WCMEM_SANDBOX_SOCKET=str(tmp_path / "none")))
    assert alone.rc == 125, alone.stderr
    assert f"{folder}: cannot read the memory log of --expect: it is a directory" \
        in alone.stderr
