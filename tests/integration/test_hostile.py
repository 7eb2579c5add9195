"""A sandboxed test is untrusted code: what it sends over the control socket, or does to
the processes around it, must never reach outside the sandbox, grow the runner without
bound, or make the records wrong."""
import json
import os
import shutil
import subprocess
import time

from conftest import BACKEND, BIN, CLIENT_PRELUDE as ASK, sandboxes



def test_a_unit_whose_setup_failed_is_an_error_with_the_reason(sandbox, tmp_path):
    # A limit the kernel will not hold (v1 clamps it, v2 reads it back as max): the unit
    # cannot be set up. It is recorded as not started, with why, never as exited 0.
    code = ASK + ("print(ask(b'HELLO 1\\n'))\n"
                  "print(ask(b'START big limit=9223372036854771712 kind=command\\n'))\n")
    report = tmp_path / "r.json"
    run = sandbox.run("--limit", "256M", "--json", str(report), "--",
                      *sandbox.python(code))
    assert run.rc == 0, run.stderr
    assert run.stdout.splitlines()[1].startswith("ERR 500 "), run.stdout
    end = next(e for e in run.entries if e.event == "TEST_END" and e.name == "big")
    assert end.value("Exit") == "not started (code 125)", run.log_text
    assert "the limit did not apply" in end.value("Error"), run.log_text
    unit = next(u for u in json.loads(report.read_text())["units"] if u["name"] == "big")
    assert unit["exit"]["end"] == "not_run" and unit["outcome"] != "passed", unit
    assert unit["verdict"].startswith("not started: "), unit
    (row,) = [line for line in run.stderr.splitlines() if line.startswith("  big ")]
    assert "not started: " in row and "exited" not in row, run.stderr


def test_a_nested_exit_code_is_never_taken_for_a_signal(sandbox):
    inner = (f"{BIN} --name e255 -- sh -c 'exit 255'; {BIN} --name e200 -- sh -c 'exit 200'; "
             f"{BIN} --name k15 -- sh -c 'kill -TERM $$'; true {sandbox.marker}")
    run = sandbox.run("--limit", "256M", "--no-plugin", "--", "sh", "-c", inner)
    assert run.rc == 0, run.stderr
    ends = {e.name: e for e in run.entries if e.event == "TEST_END"}
    assert ends["e255"].value("Exit") == "code 255"
    assert ends["e200"].value("Exit") == "code 200"
    assert ends["k15"].value("Exit") == "signal 15 (SIGTERM)"


def second_run(sandbox, *args):
    """Another run that sweeps the base the sandbox's runners build in (v2: from a cgroup of
    its own, as in test_runner_killed_hard_is_swept_by_the_next_run)."""
    if BACKEND == "v2":
        env = dict(sandbox.env, WCMEM_CGROUP_BASE=sandbox.base())
        return sandbox.run(*args, env=env, cgroup=sandbox.fresh_cgroup())
    return sandbox.run(*args)


def test_a_live_runner_under_another_name_is_not_swept(sandbox, tmp_path):
    # Liveness is a lock the runner holds, not its name: a copy of the binary called
    # something else keeps its sandbox while it runs.
    copy = tmp_path / "renamed-tool"
    shutil.copy(BIN, copy)
    p = subprocess.Popen([str(copy), "-q", "--", *sandbox.python(
        "import time\nprint('ready', flush=True)\ntime.sleep(3)\nprint('done')")],
        env=sandbox.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        **sandbox._kw({}))
    sandbox.runners.append(p.pid)
    try:
        assert p.stdout.readline().strip() == "ready"
        assert f"wcmem-{p.pid}" in sandboxes(sandbox.base())
        run = second_run(sandbox, "-q", "--", "true")
        assert run.rc == 0, run.stderr
        assert f"wcmem-{p.pid}" in sandboxes(sandbox.base())
        out, err = p.communicate(timeout=60)
    finally:
        p.kill()
        p.wait()
    assert p.returncode == 0, err
    assert out.strip() == "done"


def test_groups_without_the_lock_are_judged_as_before(sandbox, tmp_path):
    # Groups that an older runner made carry no lock: a live wcmem-sandbox with that pid
    # keeps them, a dead pid does not.
    fake = tmp_path / "wcmem-sandbox"
    shutil.copy("/bin/sleep", fake)
    alive = subprocess.Popen([str(fake), "60", sandbox.marker])
    dead = subprocess.Popen(["true"])
    dead.wait()
    base = sandbox.base()
    made = [os.path.join(base, f"wcmem-{pid}") for pid in (alive.pid, dead.pid)]
    try:
        for path in made:
            os.mkdir(path)
        time.sleep(0.1)
        os.utime(made[1])  # no help: a dead pid's group is swept however new
        run = second_run(sandbox, "--", "true")
        assert run.rc == 0, run.stderr
        assert os.path.exists(made[0]), "a live old runner's sandbox was swept"
        assert not os.path.exists(made[1]), "a dead runner's sandbox was kept"
    finally:
        alive.kill()
        alive.wait()
        for path in made:
            if os.path.exists(path):
                os.rmdir(path)
