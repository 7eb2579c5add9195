"""Where users are: on a desktop, a blow-up must take a test, never the editor around it."""
import contextlib
import json
import os
import re
import subprocess

import pytest

from conftest import BACKEND, MOUNT, allocate, wait_for

from test_profiles import env, wcmem, write_ini

# The command prints its own oom_score_adj, its child's, and its parent's (the runner's).
SHOW_ADJ = ("cat /proc/self/oom_score_adj; sh -c 'cat /proc/self/oom_score_adj'; "
            "cat /proc/$PPID/oom_score_adj")


def own_adj():
    with open("/proc/self/oom_score_adj") as f:
        return f.read().strip()


def adjs(run):
    assert run.rc == 0, run.stderr
    return run.stdout.split()


def test_every_process_in_the_sandbox_is_picked_first_by_a_global_oom(sandbox):
    # The command and what it starts have the most oom_score_adj; the runner keeps its own.
    run = sandbox.run("-q", "--limit", "64M", "--", "sh", "-c", SHOW_ADJ, sandbox.marker)
    assert adjs(run) == ["1000", "1000", own_adj()]
    assert "warning" not in run.stderr


def test_no_oom_score_adj_leaves_it_as_it_was(sandbox):
    run = sandbox.run("-q", "--limit", "64M", "--no-oom-score-adj", "--", "sh", "-c",
                      SHOW_ADJ, sandbox.marker)
    assert adjs(run) == [own_adj()] * 3


def test_profile_turns_it_off_and_the_command_line_back_on(sandbox):
    path = write_ini(sandbox, "[defaults]\noom_score_adj = no\n")
    off = wcmem(sandbox, "-q", "--config", path, "--limit", "64M", "--", "sh", "-c",
                SHOW_ADJ, sandbox.marker)
    assert adjs(off) == [own_adj()] * 3
    on = wcmem(sandbox, "-q", "--config", path, "--oom-score-adj", "--limit", "64M", "--",
               "sh", "-c", SHOW_ADJ, sandbox.marker)
    assert adjs(on) == ["1000", "1000", own_adj()]
    shown = wcmem(sandbox, "config", "--config", path)
    assert re.search(rf"^oom_score_adj = no +; \[defaults\] {re.escape(path)}:2$", shown.stdout,
                     re.M), shown.stdout


def test_oom_score_adj_takes_yes_or_no(sandbox):
    path = write_ini(sandbox, "[defaults]\noom_score_adj = 500\n")
    run = wcmem(sandbox, "--config", path, "--", "true")
    assert run.rc == 125
    assert f"{os.path.basename(path)}:2: oom_score_adj: invalid value '500' (yes or no)" \
        in run.stderr, run.stderr


# The built-in limit: what is free when the run starts, less a reserve.

MIB = 1 << 20


def reserve():
    """10% of physical memory, at most 1 GiB (runner/config/default_limit.h)."""
    physical = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    return min(physical // 100 * 10, 1 << 30)


def enclosing(sandbox, room_mb):
    """A cgroup to build in whose limit leaves room_mb MiB above the reserve."""
    path = sandbox.fresh_cgroup()
    limit = (reserve() + room_mb * MIB + 4095) // 4096 * 4096
    name = "memory.max" if BACKEND == "v2" else "memory.limit_in_bytes"
    with open(os.path.join(path, name), "w") as f:
        f.write(str(limit))
    return path, limit


def mb(n):
    """A size as people read it (report/verdict.c's rep_format_size)."""
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift or unit == "KiB":
            tenths = (n * 10 + (1 << (shift - 1))) >> shift  # half up, in integers
            return f"{tenths // 10}.{tenths % 10} {unit}"


def test_default_limit_is_the_enclosing_headroom_less_a_reserve(sandbox):
    base, limit = enclosing(sandbox, 256)
    e = dict(env(sandbox), WCMEM_CGROUP_BASE=base)
    origin = f"the enclosing cgroup's headroom {mb(limit)} less a {mb(reserve())} reserve"

    shown = wcmem(sandbox, "config", env=e)
    assert re.search(rf"^limit += 256M +; built in: {re.escape(origin)}\n", shown.stdout,
                     re.M), shown.stdout
    assert re.search(r"^test_limit += 256M +; built in: the limit\n", shown.stdout, re.M)

    # The runner starts elsewhere, so that the headroom is the limit's own.
    run = wcmem(sandbox, "--", "true", env=e)
    assert run.rc == 0, run.stderr
    assert run.entry("SESSION_START").value("memory.max") == "256.0 MB"
    assert f"the limit 256.0 MiB is the default: {origin}; --limit SIZE sets another" \
        in run.stderr, run.stderr

    # The JSON report says where the limit came from too, for programs.
    report = sandbox.tmp / "report.json"
    run = wcmem(sandbox, "--json", str(report), "--", "true", env=e)
    assert run.rc == 0, run.stderr
    said = run.stderr.split("is the default: ")[1].split("; --limit SIZE")[0]
    assert said.startswith("the enclosing cgroup's headroom "), run.stderr
    assert json.loads(report.read_text())["session"]["limit_origin"] == said


def test_default_limit_is_enforced(sandbox):
    base, _ = enclosing(sandbox, 128)
    e = dict(env(sandbox), WCMEM_CGROUP_BASE=base)
    run = wcmem(sandbox, "--", *sandbox.python(allocate(400)), env=e)
    assert run.rc == 137, run.stderr
    assert "limit 128.0 MiB" in run.stderr and "is the default" in run.stderr


def test_a_given_limit_is_not_called_the_default(sandbox):
    report = sandbox.tmp / "report.json"
    run = sandbox.run("--limit", "64M", "--json", str(report), "--", "true")
    assert run.rc == 0, run.stderr
    assert "is the default" not in run.stderr
    assert json.loads(report.read_text())["session"]["limit_origin"] is None
    shown = wcmem(sandbox, "config", "--limit", "64M")
    assert re.search(r"^limit += 64M +; command line\n", shown.stdout, re.M), shown.stdout


# A user whose cgroup is not theirs to build in: the runner asks their systemd user manager
# for a delegated scope (runner/session/scope.h), runs there, and leaves nothing of it
# behind. The VM's user pass runs a real systemd --user (tests/vm/guest.sh) and sets
# WCMEM_VM_SYSTEMD=1, so that there a missing manager fails these tests instead of skipping.

def user_manager():
    """The user manager's private socket, or a skip (a fail in the VM) where there is none."""
    if BACKEND != "v2":
        pytest.skip("cgroup v1: no cgroup is delegated, so no scope is asked for")
    if os.geteuid() == 0:
        pytest.skip("root builds where it is; a scope is a user's")
    sock = os.path.join(os.environ.get("XDG_RUNTIME_DIR", "/nonexistent"), "systemd/private")
    if not os.path.exists(sock):
        if os.environ.get("WCMEM_VM_SYSTEMD") == "1":
            pytest.fail(f"the VM's systemd user manager is not running: no {sock}")
        pytest.skip(f"no systemd user manager here ({sock})")
    return sock


@contextlib.contextmanager
def not_writable(path):
    """The runner may be moved into path but make no cgroup in it, as in a desktop session's
    scope (session-N.scope belongs to root): the directory loses its write bits."""
    os.chmod(path, 0o555)
    try:
        yield
    finally:
        os.chmod(path, 0o755)


def unit_state(name):
    """The scope's LoadState and ActiveState as the user manager tells them."""
    out = subprocess.run(["systemctl", "--user", "show", "-p", "LoadState", "-p",
                          "ActiveState", name], capture_output=True, text=True, timeout=60)
    return out.stdout.split()


def gone(name):
    """True when the manager has no unit `name` any more and no cgroup of that name is left."""
    for _, dirs, _ in os.walk(MOUNT):
        if name in dirs:
            return False
    return unit_state(name) == ["LoadState=not-found", "ActiveState=inactive"]


SCOPE_LINE = re.compile(r"wcmem-sandbox: running in a delegated systemd scope, "
                        r"(wcmem-sandbox-(\d+)\.scope) of your systemd user manager: the cgroup "
                        r"it started in is not yours to write\n")


def test_a_user_whose_cgroup_is_not_theirs_runs_in_a_scope_of_their_own(sandbox):
    user_manager()
    with not_writable(sandbox.cgroup):
        p = sandbox.start("--limit", "256M", "--", *sandbox.python(allocate(1024)))
        run = sandbox.finish(p, timeout=120)
    assert run.rc == 137, run.stderr
    assert "OOM-killed: exceeded its own limit 256.0 MiB" in run.stderr, run.stderr
    line = SCOPE_LINE.search(run.stderr)
    assert line and int(line.group(2)) == p.pid, run.stderr
    assert wait_for(lambda: gone(line.group(1)), timeout=30), unit_state(line.group(1))


def test_the_scope_ends_when_its_runner_is_killed(sandbox):
    user_manager()
    with not_writable(sandbox.cgroup):
        p = sandbox.start("--limit", "64M", "--", *sandbox.python(
            "import time; print('ready', flush=True); time.sleep(300)"))
        assert p.stdout.readline() == "ready\n", p.stderr.read()
    name = f"wcmem-sandbox-{p.pid}.scope"
    with open(f"/proc/{p.pid}/cgroup") as f:
        path = f.read().strip().split("::", 1)[1]
    # The runner in its leaf, its sandbox beside it, both inside the scope.
    assert path.endswith(f"/{name}/wcmem-{p.pid}-sup"), path
    scope = os.path.join(MOUNT, os.path.dirname(path).lstrip("/"))
    assert os.path.isdir(os.path.join(scope, f"wcmem-{p.pid}", "u1"))
    assert unit_state(name) == ["LoadState=loaded", "ActiveState=active"]

    p.kill()
    p.wait()
    # The command dies with its runner; systemd then stops the empty scope and removes its
    # cgroup with what the runner had made in it.
    assert wait_for(lambda: gone(name), timeout=30), (unit_state(name), os.path.exists(scope))


def run_without_a_writable_cgroup(sandbox, env):
    if os.geteuid() == 0:  # nobody, in a cgroup of root's
        return sandbox.run("--", "true", env=env, uid=65534)
    with not_writable(sandbox.cgroup):
        return sandbox.run("--", "true", env=env)


def test_without_a_user_manager_the_error_says_why(sandbox):
    if BACKEND != "v2":
        pytest.skip("cgroup v1: no cgroup is delegated, so no scope is asked for")
    # No manager's socket, no session bus: a folder that is not there.
    env = dict(sandbox.env, XDG_RUNTIME_DIR="/nonexistent/wcmem-test")
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    run = run_without_a_writable_cgroup(sandbox, env)
    assert run.rc == 125, run.stderr
    assert "Permission denied" in run.stderr
    assert "systemd-run --user --scope -p Delegate=yes" in run.stderr
    assert ("no delegated systemd scope either: no systemd user manager: sd_bus_open_user: "
            "No such file or directory") in run.stderr, run.stderr

    # Neither variable (su, sudo -u, cron): the manager's usual place is tried, then it says so.
    uid = 65534 if os.geteuid() == 0 else os.geteuid()
    if not os.path.exists(f"/run/user/{uid}/systemd/private"):
        del env["XDG_RUNTIME_DIR"]
        run = run_without_a_writable_cgroup(sandbox, env)
        assert run.rc == 125, run.stderr
        assert ("no delegated systemd scope either: no systemd user manager to ask: neither "
                "XDG_RUNTIME_DIR nor DBUS_SESSION_BUS_ADDRESS is set") in run.stderr, run.stderr


def test_no_systemd_scope_fails_where_it_stands(sandbox):
    user_manager()
    with not_writable(sandbox.cgroup):
        run = sandbox.run("--no-systemd-scope", "--", "true")
    assert run.rc == 125, run.stderr
    assert "Permission denied" in run.stderr and "systemd-run --user" in run.stderr
    assert "scope either" not in run.stderr and "running in" not in run.stderr
