"""The cgroup tree as the command sees it from inside: limits really applied."""
import os

import pytest

from conftest import BACKEND, MOUNT

MB = 1 << 20

# The command prints its own cgroup's files, read from inside the sandbox.
READ_OWN = r"""
import os, sys
own = [l.split(':', 2) for l in open('/proc/self/cgroup').read().splitlines()]
if sys.argv[1] == 'v1':
    path = next(p for _, c, p in own if 'memory' in c.split(','))
    root = '/sys/fs/cgroup/memory'
else:
    path = next(p for h, _, p in own if h == '0')
    root = '/sys/fs/cgroup'
    # cgroup v2: the command's cgroup namespace starts at the sandbox, whose folder the
    # runner names; the full path is printed all the same.
    ns = os.environ.get('WCMEM_SANDBOX_CGROUPNS')
    if ns:
        path = ns[len(root):] + (path if path != '/' else '')
d = root + path
parent = os.path.dirname(d)
for name in sys.argv[2:]:
    for where, base in (('unit', d), ('sandbox', parent)):
        try:
            print(where, name, open(os.path.join(base, name)).read().strip())
        except OSError as e:
            print(where, name, 'ERR', e.errno)
print('cgroup', path)
"""


def read_own(sandbox, *args, files):
    run = sandbox.run("-q", *args, "--", "/usr/bin/python3", "-c", READ_OWN, BACKEND, *files,
                      sandbox.marker)
    assert run.rc == 0, run.stderr
    seen = {}
    for line in run.stdout.splitlines():
        if line.startswith("cgroup "):
            seen["cgroup"] = line.split(" ", 1)[1]
            continue
        where, name, value = line.split(" ", 2)
        seen[(where, name)] = value
    return seen


def test_command_runs_in_its_unit_inside_the_sandbox(sandbox):
    path = read_own(sandbox, files=[])["cgroup"]
    assert path.endswith("/u1") and "/wcmem-" in path, path


@pytest.mark.skipif(BACKEND != "v1", reason="cgroup v1 files")
def test_v1_limits_are_applied(sandbox):
    seen = read_own(sandbox, "--limit", "300M", "--test-limit", "200M", files=[
        "memory.limit_in_bytes", "memory.memsw.limit_in_bytes"])
    assert int(seen[("sandbox", "memory.limit_in_bytes")]) == 300 * MB
    # The command's own unit is held by --limit alone; --test-limit is each test's.
    assert int(seen[("unit", "memory.limit_in_bytes")]) == 300 * MB
    # --swap 0 (the default): memory+swap equals memory, so nothing can go to swap
    assert int(seen[("unit", "memory.memsw.limit_in_bytes")]) == 300 * MB
    assert int(seen[("sandbox", "memory.memsw.limit_in_bytes")]) == 300 * MB


@pytest.mark.skipif(BACKEND != "v1", reason="cgroup v1 files")
def test_v1_swap_is_added_to_memsw(sandbox):
    seen = read_own(sandbox, "--limit", "300M", "--swap", "100M", files=[
        "memory.memsw.limit_in_bytes"])
    assert int(seen[("sandbox", "memory.memsw.limit_in_bytes")]) == 400 * MB


@pytest.mark.skipif(BACKEND != "v1", reason="cgroup v1 has no memory.high")
def test_v1_high_is_a_warning_not_a_silent_no_op(sandbox):
    run = sandbox.run("--high", "100M", "--", "true")
    assert run.rc == 0
    assert "warning: --high is not in force" in run.stderr


@pytest.mark.skipif(BACKEND != "v2", reason="cgroup v2 files")
def test_v2_limits_are_applied(sandbox):
    seen = read_own(sandbox, "--limit", "300M", "--test-limit", "200M", "--high", "250M",
                    files=["memory.max", "memory.swap.max", "memory.high", "memory.oom.group"])
    assert int(seen[("sandbox", "memory.max")]) == 300 * MB
    # The command's own unit is held by --limit alone; --test-limit is each test's.
    assert int(seen[("unit", "memory.max")]) == 300 * MB
    assert seen[("unit", "memory.swap.max")] == "0"
    assert seen[("sandbox", "memory.swap.max")] == "0"
    assert int(seen[("sandbox", "memory.high")]) == 250 * MB
    assert seen[("unit", "memory.oom.group")] == "1"


@pytest.mark.skipif(BACKEND != "v2", reason="cgroup v2 files")
def test_v2_unlimited_is_max(sandbox):
    seen = read_own(sandbox, "--limit", "max", "--swap", "max", files=["memory.max", "memory.swap.max"])
    assert seen[("sandbox", "memory.max")] == "max"
    assert seen[("sandbox", "memory.swap.max")] == "max"


def test_command_starts_inside_its_cgroup(sandbox):
    # clone3(CLONE_INTO_CGROUP) on v2 (5.7); a fork held at a gate and moved in before exec
    # elsewhere: either way no instruction of the command runs outside its unit.
    run = sandbox.run("-q", "--", "true")
    want = "clone3(CLONE_INTO_CGROUP)" if BACKEND == "v2" else \
        "fork, moved into the cgroup before exec"
    assert run.entry("COMMAND_START").value("Started") == want


def test_no_writable_cgroup_is_a_clear_error(sandbox):
    # A user who may not write the cgroup it runs in: as root, the runner is started as
    # nobody in ours; as a user (the VM's user pass), it is pointed at the root cgroup.
    if os.geteuid() == 0:
        env = dict(sandbox.env, WEATHERCOP_DISABLE_DIAGNOSTICS="1")
        run = sandbox.run("--", "true", env=env, uid=65534)
    else:
        env = dict(sandbox.env, WCMEM_CGROUP_BASE=MOUNT)
        run = sandbox.run("--", "true", env=env)
    assert run.rc == 125, run.stderr
    assert "Permission denied" in run.stderr
    if BACKEND == "v2":
        assert "systemd-run --user --scope -p Delegate=yes" in run.stderr
    else:  # v1 has no delegation: say what can work there
        assert "systemd-run --user --scope" not in run.stderr, run.stderr
        assert "cgroup v1 has no delegation" in run.stderr
        assert f"mkdir {MOUNT}/NAME; chown -R USER {MOUNT}/NAME" in run.stderr
    assert "WCMEM_CGROUP_BASE" in run.stderr
    assert run.log_text is None or "COMMAND_START" not in run.log_text


def test_cgroup_base_as_proc_self_cgroup_shows_it(sandbox):
    # WCMEM_CGROUP_BASE as `cat /proc/self/cgroup` shows a cgroup: "0::/PATH" on v2,
    # "N:memory:/PATH" (the memory controller's line) on v1.
    base = sandbox.fresh_cgroup()
    rel = "/" + os.path.relpath(base, MOUNT)
    given = f"0::{rel}" if BACKEND == "v2" else f"9:memory:{rel}"
    # v2: /proc/self/cgroup starts at the sandbox (the command's cgroup namespace), whose
    # folder the runner names.
    show = 'echo "$WCMEM_SANDBOX_CGROUPNS"; cat /proc/self/cgroup'
    run = sandbox.run("-q", "--", "sh", "-c", show, env=dict(sandbox.env, WCMEM_CGROUP_BASE=given))
    assert run.rc == 0, run.stderr
    ns, *text = run.stdout.splitlines()
    lines = [l.split(":", 2) for l in text]
    own = [p for h, c, p in lines if (h == "0" if BACKEND == "v2" else "memory" in c.split(","))]
    if ns:
        own = [ns[len(MOUNT):] + p for p in own]
    assert len(own) == 1 and own[0].startswith(rel + "/wcmem-"), run.stdout


@pytest.mark.no_cgroup
@pytest.mark.parametrize("given", ["memory:/x", "relative/path", "9:cpu:/x", "1:name=systemd:/x"])
def test_cgroup_base_that_is_no_cgroup_is_refused(sandbox, given):
    run = sandbox.run("--", "true", env=dict(sandbox.env, WCMEM_CGROUP_BASE=given))
    assert run.rc == 125
    assert f"WCMEM_CGROUP_BASE={given}: not a cgroup" in run.stderr, run.stderr
    want = "0::/PATH" if BACKEND == "v2" else "N:memory:/PATH"
    assert want in run.stderr and MOUNT in run.stderr, run.stderr
