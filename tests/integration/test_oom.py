"""OOM kills are confined to the sandbox and named with the limit that caused them."""
import pytest

import memlog
from conftest import allocate


def test_oom_own_limit_is_confined_and_named(sandbox):
    # A command that blows past its limit is OOM-killed inside the sandbox: exit 137,
    # verdict "own limit" in the summary and in the log.
    run = sandbox.run("--limit", "256M", "--", *sandbox.python(allocate(1024)))
    assert run.rc == 137, run.stderr
    assert "OOM-killed: exceeded its own limit 256.0 MiB" in run.stderr
    end = run.entry("COMMAND_END")
    assert end.value("OOM") == "killed (exceeded its own limit 256.0 MB)"
    assert end.value("Exit").startswith("signal 9")
    assert 200 <= memlog.peak_mb(end) <= 256.0


def test_oom_sandbox_total_reached_by_a_child(sandbox):
    # The unit (a nested call) may take 1 GiB but the sandbox only 200 MiB: a child
    # process that takes 400 MiB is killed by the sandbox total, and the verdict says so.
    script = (f"{sandbox.cmd()[0]} --name big -- /usr/bin/python3 -c "
              f"'b = bytearray(400 << 20)' {sandbox.marker}; echo rc=$?")
    run = sandbox.run("--limit", "200M", "--test-limit", "1G", "--", "sh", "-c", script)
    assert "units are held to 200.0 MiB" in run.stderr  # the warning states what is in force
    end = run.entry("TEST_END")
    assert end.name == "big"
    assert "the sandbox total 200.0 MB was reached" in end.value("OOM"), run.log_text
    assert "the sandbox total 200.0 MiB was reached" in run.stderr
    # v2 kills the unit whole (memory.oom.group); v1 kills the child alone.
    assert run.rc in (0, 137), run.stderr


def test_under_limit_reports_peak_and_own_status(sandbox):
    # A command under its limit exits with its own status; the peak is what it allocated.
    run = sandbox.run("--limit", "1G", "--", *sandbox.python(allocate(300, "raise SystemExit(3)")))
    assert run.rc == 3, run.stderr
    peak = memlog.peak_mb(run.entry("COMMAND_END"))
    assert 300 <= peak <= 330, f"peak {peak} MB for 300 MB allocated"
    assert "exited 3" in run.stderr
    assert run.entry("COMMAND_END").value("OOM") is None


def test_disabled_diagnostics_still_enforce_the_limit(sandbox):
    # WEATHERCOP_DISABLE_DIAGNOSTICS turns the log off, never the protection.
    env = dict(sandbox.env, WEATHERCOP_DISABLE_DIAGNOSTICS="1")
    run = sandbox.run("--limit", "128M", "--", *sandbox.python(allocate(512)), env=env)
    assert run.rc == 137
    assert run.log_text is None
    assert "OOM-killed: exceeded its own limit 128.0 MiB" in run.stderr


@pytest.mark.parametrize("limit", ["64M", "100M"])
def test_oom_is_reproducible(sandbox, limit):
    # A cap well under the machine's memory makes a blow-up fail fast, the same way each time.
    for _ in range(2):
        run = sandbox.run("--limit", limit, "-q", "--", *sandbox.python(allocate(400)))
        assert run.rc == 137
        assert run.entry("COMMAND_END").value("OOM").startswith("killed (exceeded its own limit")
