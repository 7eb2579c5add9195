"""Containers: inside a cgroup namespace with a cgroup2 mount of its own (Podman and Docker with
--cgroupns=private, Kubernetes pods) a run works as on a host; a read-only cgroup mount is a
clear error, exit 125, naming the runtime flags that fix it. Namespaces come from unshare(1);
as a user, a user namespace maps the user to root first, as rootless containers do."""
import os
import shutil
import subprocess

import pytest

from conftest import BACKEND, BIN, MOUNT, allocate

UNSHARE = shutil.which("unshare") or "/usr/bin/unshare"
# The cgroup2 mount a container runtime makes: rooted at the namespace's root. The kernel
# takes no second mount of the same filesystem on the same mount point, so the host's goes;
# a user namespace may not unmount what its parent mounted (a locked mount, as rootless
# runtimes find), so there a tmpfs goes between the two.
FRESH_MOUNT = ('{ umount -l "$1" 2>/dev/null || mount -t tmpfs tmpfs "$1"; } && '
               'mount -t cgroup2 cgroup2 "$1"')


def in_namespaces(sandbox, flags, script, *args):
    """Runs `sh -c script sh args...` in new namespaces, started where the sandbox's runners
    start. unshare and sh exec what follows, so the runner keeps the pid we track."""
    userns = [] if os.geteuid() == 0 else ["--user", "--map-root-user"]
    # `--propagation private` changes "/", which fails where "/" is no mount point (a chroot):
    # the one mount the script changes ($1) is made private instead, so nothing it does there
    # reaches the host.
    argv = [UNSHARE, *userns, *flags, "--propagation", "unchanged", "sh", "-c",
            'mount --make-rprivate "$1" && ' + script, "sh", *args]
    p = subprocess.Popen(argv, env=sandbox.env, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, **sandbox._kw({}))
    sandbox.runners.append(p.pid)
    sandbox.popens.append(p)
    run = sandbox.finish(p, timeout=120)
    if userns and run.rc == 1 and "unshare failed: Operation not permitted" in run.stderr:
        # unshare(2): EPERM for CLONE_NEWUSER in a chroot, which is where the VM's user
        # pass runs; the root pass covers the namespaces there.
        pytest.skip("no user namespace can be made here (a chroot): " + run.stderr.strip())
    return run


@pytest.mark.skipif(BACKEND != "v2", reason="the memory controller is on cgroup v1 here: a "
                    "cgroup2 mount in a cgroup namespace has none")
def test_a_run_inside_a_cgroup_namespace_works_as_on_a_host(sandbox):
    # The namespace's root is the runner's "/", and no real root: the runner leaves it for a
    # leaf of its own, as it leaves any cgroup it starts in.
    script = ('grep -qx "0::/" /proc/self/cgroup || exit 99; ' + FRESH_MOUNT +
              ' && exec "$2" --limit 64M -- /usr/bin/python3 -c "$3" "$4"')
    run = in_namespaces(sandbox, ["--cgroup", "--mount"], script, MOUNT, BIN, allocate(200),
                        sandbox.marker)
    assert run.rc == 137, run.stderr
    assert "OOM-killed: exceeded its own limit 64.0 MiB" in run.stderr, run.stderr
    assert run.entry("COMMAND_END").value("cgroup").endswith("/u1")
    doctor = in_namespaces(sandbox, ["--cgroup", "--mount"],
                           FRESH_MOUNT + ' && exec "$2" doctor', MOUNT, BIN)
    assert doctor.rc == 0, doctor.stdout + doctor.stderr
    assert "PASS  cgroup namespace           inside one (a container)" in doctor.stdout


def test_a_read_only_cgroup_mount_is_a_clear_error(sandbox):
    script = 'mount -o remount,bind,ro "$1" && exec "$2" --limit 64M -- true'
    run = in_namespaces(sandbox, ["--mount"], script, MOUNT, BIN)
    assert run.rc == 125, run.stderr
    assert "Read-only file system" in run.stderr
    assert "the cgroup filesystem is mounted read-only here" in run.stderr
    assert "--cgroupns=private --privileged" in run.stderr
    assert run.log_text is None or "COMMAND_START" not in run.log_text
    doctor = in_namespaces(sandbox, ["--mount"], 'mount -o remount,bind,ro "$1" && '
                           'exec "$2" doctor', MOUNT, BIN)
    assert doctor.rc == 1, doctor.stdout
    assert f"FAIL  cgroup mount               {MOUNT} is mounted read-only" in doctor.stdout
