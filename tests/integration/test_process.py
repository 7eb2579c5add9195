"""Supervision: exit statuses, signals passed on, nothing left behind on any exit path."""
import signal
import time

from conftest import BACKEND, BIN, marker_processes, sandboxes, wait_for, wait_for_signal

READY = "import time\nprint('ready', flush=True)\n"


def test_exit_status_is_the_commands_own(sandbox):
    run = sandbox.run("-q", "--", "sh", "-c", "exit 42")
    assert run.rc == 42


def test_missing_command_exits_127(sandbox):
    run = sandbox.run("--", "no-such-command-" + sandbox.marker)
    assert run.rc == 127
    assert "No such file or directory" in run.stderr
    assert run.entry("COMMAND_END").value("Exit") == "not started (code 127)"


def test_command_not_executable_exits_126(sandbox, tmp_path):
    script = tmp_path / "not-executable.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    run = sandbox.run("--", str(script))
    assert run.rc == 126
    assert "Permission denied" in run.stderr


def nested_end(run, name):
    return next(e for e in run.entries if e.event == "TEST_END" and e.name == name)


def test_a_nested_call_of_a_missing_command_exits_127(sandbox):
    # The exit status of a command that could not be run is the same in a nested call.
    script = f"{BIN} --name gone -- no-such-command-{sandbox.marker}; echo inner=$?"
    run = sandbox.run("--no-plugin", "--", "sh", "-c", script)
    assert "inner=127" in run.stdout, run.stdout + run.stderr
    assert f"no-such-command-{sandbox.marker}: No such file or directory" in run.stderr
    assert nested_end(run, "gone").value("Exit") == "code 127", run.log_text


def test_a_nested_call_passes_sigterm_on_and_ends_as_its_command(sandbox, tmp_path):
    # A nested call supervises its command as the runner does its own: SIGTERM passed on,
    # the command's exit code handed back and logged as the unit's.
    out, code = tmp_path / "out", tmp_path / "inner.py"
    code.write_text(wait_for_signal(signal.SIGTERM))
    script = (f"{BIN} --name inner -- /usr/bin/python3 {code} {sandbox.marker} > {out} & p=$!; "
              f"i=0; until grep -q ready {out} || [ $i -gt 1200 ]; do sleep 0.05; "
              f"i=$((i+1)); done; kill -TERM $p; wait $p; echo inner=$?")
    run = sandbox.run("-q", "--no-plugin", "--", "sh", "-c", script)
    assert "inner=7" in run.stdout, run.stdout + run.stderr
    assert nested_end(run, "inner").value("Exit") == "code 7", run.log_text


def test_sigterm_is_passed_on(sandbox):
    # The runner passes SIGTERM to the command and exits as the command did (128 + 15).
    p = sandbox.start("--", *sandbox.python(READY + "time.sleep(60)"))
    assert p.stdout.readline().strip() == "ready"
    p.send_signal(signal.SIGTERM)
    run = sandbox.finish(p)
    assert run.rc == 128 + signal.SIGTERM, run.stderr
    assert run.entry("COMMAND_END").value("Exit").startswith("signal 15")
    assert run.entry("SESSION_END").value("Exit status") == "143"


def test_sigint_and_sighup_are_passed_on(sandbox):
    for sig in (signal.SIGINT, signal.SIGHUP):
        p = sandbox.start("-q", "--", *sandbox.python(wait_for_signal(sig)))
        assert p.stdout.readline().strip() == "ready"
        p.send_signal(sig)
        run = sandbox.finish(p)
        assert run.rc == 7, f"{sig!r}: {run.stderr}"


def test_command_ignoring_sigterm_is_killed_after_grace(sandbox):
    # --kill-after bounds how long a command may ignore the signal; then the sandbox dies.
    code = "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nprint('ready', flush=True)\ntime.sleep(60)"
    p = sandbox.start("-q", "--kill-after", "300ms", "--", *sandbox.python(code))
    assert p.stdout.readline().strip() == "ready"
    t0 = time.monotonic()
    p.send_signal(signal.SIGTERM)
    run = sandbox.finish(p)
    assert run.rc == 137
    assert time.monotonic() - t0 < 5


def test_second_signal_kills_at_once(sandbox):
    code = "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nprint('ready', flush=True)\ntime.sleep(60)"
    p = sandbox.start("-q", "--kill-after", "1h", "--", *sandbox.python(code))
    assert p.stdout.readline().strip() == "ready"
    p.send_signal(signal.SIGTERM)
    time.sleep(0.2)
    p.send_signal(signal.SIGTERM)
    run = sandbox.finish(p, timeout=10)
    assert run.rc == 137


def test_double_forked_daemon_is_not_left_behind(sandbox):
    # A daemon that escaped its parent (setsid, double fork) still dies with the sandbox.
    script = f"(setsid /usr/bin/python3 -c 'import time; time.sleep(600)' {sandbox.marker} &) ; exit 0"
    run = sandbox.run("-q", "--", "sh", "-c", script)
    assert run.rc == 0
    # the fixture asserts that no process with the marker and no cgroup remains


def test_children_left_running_are_killed_at_the_end(sandbox):
    script = f"/usr/bin/python3 -c 'import time; time.sleep(600)' {sandbox.marker} & exit 5"
    run = sandbox.run("-q", "--", "sh", "-c", script)
    assert run.rc == 5


def test_runner_killed_hard_is_swept_by_the_next_run(sandbox):
    # A runner that is SIGKILLed cannot clean up; its command dies with it (PDEATHSIG) and
    # the next run removes the cgroups it left.
    p = sandbox.start("-q", "--", *sandbox.python(READY + "time.sleep(60)"))
    assert p.stdout.readline().strip() == "ready"
    stale = f"wcmem-{p.pid}"
    p.kill()
    p.wait()
    base = sandbox.base()
    assert stale in sandboxes(base)
    assert wait_for(lambda: not marker_processes(sandbox.marker))
    if BACKEND == "v2":
        # The dead runner left its own leaf (wcmem-PID-sup) too, and +memory on in the
        # cgroup it started in, which so takes no new process: the next run builds there
        # from a cgroup of its own.
        env = dict(sandbox.env, WCMEM_CGROUP_BASE=base)
        run = sandbox.run("--", "true", env=env, cgroup=sandbox.fresh_cgroup())
        assert "removed 2 cgroups left by runners that died" in run.stderr
    else:
        run = sandbox.run("--", "true")
        assert "removed 1 cgroup left by runners that died" in run.stderr
    assert run.rc == 0
    assert stale not in sandboxes(base)


def test_runner_is_outside_every_limit(sandbox):
    # The command sees its parent (the runner) outside the sandbox it runs in.
    code = ("import os\n"
            "own = open('/proc/self/cgroup').read()\n"
            # v2: the command's cgroup namespace starts at the sandbox (named by the runner)
            "ns = os.environ.get('WCMEM_SANDBOX_CGROUPNS', '')\n"
            "own = own.replace('0::/', '0::' + ns[len('/sys/fs/cgroup'):] + '/') if ns else own\n"
            "parent = open(f'/proc/{os.getppid()}/cgroup').read()\n"
            "print(own.replace(chr(10), ' | '))\nprint(parent.replace(chr(10), ' | '))")
    run = sandbox.run("-q", "--", *sandbox.python(code))
    own, parent = run.stdout.splitlines()
    assert "/u1" in own and "/wcmem-" in own
    sandbox_name = own.split("/wcmem-")[1].split("/")[0]
    assert f"wcmem-{sandbox_name}/" not in parent, parent
    if BACKEND == "v2":
        # it left the cgroup it was started in for a leaf of its own (no internal process)
        assert parent.rstrip(" |").endswith(f"/wcmem-{sandbox_name}-sup"), parent
