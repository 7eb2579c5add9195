"""Integration tests: the built binary on this machine's real cgroups (v1-hybrid on the
development machines, pure v2 in the test VM). Every test checks afterwards that no sandbox
cgroup and no process of its own is left behind."""
import os
import signal
import subprocess
import time
import uuid

import pytest

import memlog

BIN = os.environ.get("WCMEM_BIN") or os.path.join(
    os.path.dirname(__file__), "..", "..", "wcmem-sandbox")
BIN = os.path.abspath(BIN)


def reachable_by_others(path):
    """True when a user with no rights of ours may execute `path`: every folder on the way
    searchable by others, the file executable by others."""
    path = os.path.realpath(path)
    if not os.stat(path).st_mode & 0o001:
        return False
    d = os.path.dirname(path)
    while True:
        if not os.stat(d).st_mode & 0o001:
            return False
        if d == "/":
            return True
        d = os.path.dirname(d)


_shared_bin = None


def bin_for_others():
    """The binary as another user (nobody) can run it. A clone may lie below a folder only
    its owner may enter (a home folder, `mktemp -d`): then a copy in a world-searchable
    temporary folder, made once per test session and removed at its end."""
    global _shared_bin
    if reachable_by_others(BIN):
        return BIN
    if _shared_bin is None:
        import atexit
        import shutil
        import tempfile
        d = tempfile.mkdtemp(prefix="wcmem-test-bin.")
        os.chmod(d, 0o755)
        _shared_bin = os.path.join(d, "wcmem-sandbox")
        shutil.copy2(BIN, _shared_bin)
        os.chmod(_shared_bin, 0o755)
        atexit.register(shutil.rmtree, d, True)
    return _shared_bin


def memory_hierarchy():
    """('v1', mount, own path) or ('v2', mount, own path) for this process."""
    with open("/proc/self/cgroup") as f:
        lines = [line.rstrip("\n").split(":", 2) for line in f]
    for _, ctrls, path in lines:
        if "memory" in ctrls.split(","):
            return "v1", "/sys/fs/cgroup/memory", path
    for hid, ctrls, path in lines:
        if hid == "0":
            return "v2", "/sys/fs/cgroup", path
    raise RuntimeError("no memory cgroup found")


def _localhost_resolves():
    import socket
    try:
        socket.getaddrinfo("localhost", 0)
        return True
    except OSError:
        return False


# pytest-rerunfailures (10.2) has every xdist worker connect to its controller at
# "localhost": where that name does not resolve (a bare chroot without /etc/hosts), every
# xdist run fails in the plugin itself. Our tests then run pytest without it, as a user
# would with -p no: (test_faithful.py, which needs it, says why it skips).
LOCALHOST = _localhost_resolves()
if not LOCALHOST:
    os.environ["PYTEST_ADDOPTS"] = " ".join(
        filter(None, [os.environ.get("PYTEST_ADDOPTS"), "-p no:rerunfailures"]))

BACKEND, MOUNT, OWN = memory_hierarchy()
# A pytest-xdist worker starts where its controller moved itself (below): same base.
if os.path.basename(OWN) == "wcmemtest-pytest":
    OWN = os.path.dirname(OWN)
BASE = os.path.join(MOUNT, OWN.lstrip("/")) if OWN != "/" else MOUNT


def _write(path, text):
    with open(path, "w") as f:
        f.write(text)


def _v2_prepare():
    """cgroup v2 allows no processes in a cgroup that hands a controller down. As
    `systemd-run --scope -p Delegate=yes` would, each test gives its runners a cgroup of their
    own beside a leaf that pytest itself moves into; the runner then has to leave that
    cgroup for a leaf of its own, which is the case the tests must cover."""
    if OWN != "/":
        leaf = os.path.join(BASE, "wcmemtest-pytest")
        os.makedirs(leaf, exist_ok=True)
        _write(os.path.join(leaf, "cgroup.procs"), str(os.getpid()))
    with open(os.path.join(BASE, "cgroup.subtree_control")) as f:
        enabled = f.read().split()
    with open(os.path.join(BASE, "cgroup.controllers")) as f:
        available = f.read().split()
    # memory always (a missing one is the error the tests are to see); pids where there is
    # one, as systemd hands it down, for the sandbox's pids.max
    for ctrl in ("memory", "pids"):
        if ctrl not in enabled and (ctrl == "memory" or ctrl in available):
            _write(os.path.join(BASE, "cgroup.subtree_control"), "+" + ctrl)


if BACKEND == "v2":
    _v2_prepare()


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "no_cgroup: exits before any cgroup is made (usage and file errors), so "
        "it is the same on every backend; the cgroup v2 VM leaves it out")
    config.addinivalue_line(
        "markers", "backend_neutral: checks what no cgroup backend changes (which records "
        "the summary keeps, the command line over a profile) with several slow pytest runs; "
        "the host covers it, and the cgroup v2 VM leaves it out to stay within its time")


def sandboxes(base=BASE):
    return sorted(e for e in os.listdir(base) if e.startswith("wcmem-"))


def marker_processes(marker):
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if marker.encode() in f.read():
                    found.append(int(pid))
        except OSError:
            pass
    return found


class Run:
    """What one run of the binary left: exit status, stderr, the parsed log."""

    def __init__(self, proc, log_path):
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.log_path = log_path
        self.log_text = open(log_path).read() if os.path.exists(log_path) else None
        self.entries = memlog.parse(self.log_text) if self.log_text is not None else []

    def entry(self, event):
        found = [e for e in self.entries if e.event == event]
        assert len(found) == 1, f"{event}: {found} in\n{self.log_text}"
        return found[0]


class Sandbox:
    def __init__(self, tmp_path):
        self.tmp = tmp_path
        self.log = str(tmp_path / "wc" / "test_memory.log")
        self.marker = "wcmem-test-" + uuid.uuid4().hex[:12]
        self.env = dict(os.environ, WEATHERCOP_DIR=str(tmp_path / "wc"))
        self.env.pop("WEATHERCOP_DISABLE_DIAGNOSTICS", None)
        self.cgroups = []
        self.runners = []
        self.popens = []
        self.cgroup = self.fresh_cgroup() if BACKEND == "v2" else None

    def fresh_cgroup(self):
        """v2: a new empty cgroup for runners to start in (the runner's base)."""
        path = os.path.join(BASE, f"wcmemtest-{self.marker}-{len(self.cgroups)}")
        os.mkdir(path)
        self.cgroups.append(path)
        return path

    def base(self):
        return self.cgroup or BASE

    def cmd(self, *args):
        return [BIN, *args]

    def _kw(self, kw):
        cgroup = kw.pop("cgroup", self.cgroup)
        uid = kw.pop("uid", None)
        procs = os.path.join(cgroup, "cgroup.procs") if cgroup else None

        def preexec():
            if procs:
                _write(procs, "0")
            if uid is not None:
                os.setgid(uid)
                os.setuid(uid)

        if procs or uid is not None:
            kw["preexec_fn"] = preexec
        return kw

    def run(self, *args, env=None, timeout=120, **kw):
        p = self.start(*args, env=env, **kw)
        try:
            return self.finish(p, timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            raise

    def start(self, *args, env=None, **kw):
        argv = self.cmd(*args)
        if kw.get("uid") is not None and argv[0] == BIN:
            argv[0] = bin_for_others()
        p = subprocess.Popen(argv, env=env or self.env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, **self._kw(kw))
        self.runners.append(p.pid)
        self.popens.append(p)
        return p

    def leftovers(self):
        """Cgroups of this test's runners still there (wcmem-PID, wcmem-PID-sup): other
        runs on the machine, tests of a parallel worker among them, are not ours to judge."""
        ours = {f"wcmem-{pid}" for pid in self.runners}
        ours |= {name + "-sup" for name in ours}
        return [f"{base}/{name}" for base in {BASE, *self.cgroups}
                for name in sandboxes(base) if name in ours]

    def finish(self, popen, timeout=60):
        out, err = popen.communicate(timeout=timeout)
        popen.stdout, popen.stderr = out, err
        return Run(popen, self.log)

    def python(self, code):
        """argv for a python3 command tagged with this test's marker."""
        return ["/usr/bin/python3", "-c", code, self.marker]


@pytest.fixture
def sandbox(tmp_path):
    sb = Sandbox(tmp_path)
    yield sb
    # A test that failed half-way (an assertion, a timeout) may leave its runners running:
    # end them as a user would, so that they remove their own cgroups, and say so.
    running = [p for p in sb.popens if p.poll() is None]
    for p in running:
        p.terminate()
    for p in running:
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    # Nothing of the run may be left: no process carrying the marker, no sandbox cgroup.
    deadline = time.monotonic() + 5
    while marker_processes(sb.marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = marker_processes(sb.marker)
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    assert not left, f"processes left behind: {left}"
    assert not sb.leftovers(), f"cgroups left behind: {sb.leftovers()}"
    for cg in sb.cgroups:
        assert not sandboxes(cg), f"cgroups left behind in {cg}: {sandboxes(cg)}"
        os.rmdir(cg)  # fails when the runner left anything in it


def wait_for(predicate, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def wait_for_signal(sig):
    """One line of Python that prints 'ready', waits for sig and exits 7. The signal is
    blocked before 'ready' and taken with sigwait: a Python handler would lose a signal that
    lands between print() and time.sleep(), since the interpreter checks for signals only
    between some bytecodes and the sleep would then run its whole length."""
    return (f"import signal, sys; signal.pthread_sigmask(signal.SIG_BLOCK, [{int(sig)}]); "
            f"print('ready', flush=True); signal.sigwait([{int(sig)}]); sys.exit(7)")


# The start of a Python control client run inside a sandbox: ask(line) sends one line and
# returns the runner's answer.
# own_cgroup(), for a script run in a sandbox: its memory cgroup as a path below the mount.
# On cgroup v2 the command runs in a cgroup namespace that starts at the sandbox, so
# /proc/self/cgroup names the cgroup from there; the runner names the sandbox's folder.
OWN_CGROUP = r"""
def own_cgroup():
    import os
    with open("/proc/self/cgroup") as f:
        lines = [line.rstrip("\n").split(":", 2) for line in f]
    v1 = [path for _, ctrls, path in lines if "memory" in ctrls.split(",")]
    if v1:
        return v1[0]
    path = next(path for hid, _, path in lines if hid == "0")
    ns = os.environ.get("WCMEM_SANDBOX_CGROUPNS")
    return ns[len("/sys/fs/cgroup"):] + (path if path != "/" else "") if ns else path
"""

CLIENT_PRELUDE = r"""
import os, socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(os.environ["WCMEM_SANDBOX_SOCKET"])
f = s.makefile("rb")
def ask(line):
    s.sendall(line)
    return f.readline().decode().strip()
"""


def allocate(mb, then=""):
    """Python code that allocates mb MiB (bytearray zero-fills, so every page is touched),
    then runs `then`."""
    return f"b = bytearray({mb} << 20)\n{then}"
