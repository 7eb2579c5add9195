"""A sandboxed test is untrusted code: what it sends over the control socket, or does to
the processes around it, must never reach outside the sandbox, grow the runner without
bound, or make the records wrong."""
import contextlib
import json
import os
import shutil
import subprocess
import time

import pytest

from conftest import BACKEND, BIN, CLIENT_PRELUDE as ASK, MOUNT, sandboxes



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


def test_a_nested_call_with_an_impossible_test_limit_is_an_error(sandbox):
    inner = (f"{BIN} --name big --test-limit 9223372036854771712 -- true; "
             f"echo inner=$? {sandbox.marker}")
    run = sandbox.run("--limit", "256M", "--no-plugin", "--", "sh", "-c", inner)
    assert run.rc == 0 and "inner=125" in run.stdout, run.stdout + run.stderr
    assert "join the enclosing sandbox" in run.stderr, run.stderr
    end = next(e for e in run.entries if e.event == "TEST_END" and e.name == "big")
    assert end.value("Exit") == "not started (code 125)", run.log_text


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
    release = tmp_path / "release"
    p = subprocess.Popen([str(copy), "-q", "--", *sandbox.python(
        "import os, time\nprint('ready', flush=True)\n"
        f"while not os.path.exists({str(release)!r}): time.sleep(0.02)\nprint('done')")],
        env=sandbox.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        **sandbox._kw({}))
    sandbox.runners.append(p.pid)
    try:
        assert p.stdout.readline().strip() == "ready"
        assert f"wcmem-{p.pid}" in sandboxes(sandbox.base())
        run = second_run(sandbox, "-q", "--", "true")
        assert run.rc == 0, run.stderr
        assert f"wcmem-{p.pid}" in sandboxes(sandbox.base())
        release.touch()
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
    alive = subprocess.Popen([str(fake), "60"])  # ended by pid below
    dead = subprocess.Popen(["true"])
    dead.wait()
    base = sandbox.base()
    made = [os.path.join(base, f"wcmem-{pid}") for pid in (alive.pid, dead.pid)]
    try:
        for path in made:
            os.mkdir(path)
        time.sleep(0.1)
        # No help: a dead pid's group is swept however new (another run on the machine
        # may sweep it first: also fine).
        with contextlib.suppress(FileNotFoundError):
            os.utime(made[1])
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


# Runs as pid 1 of a pid namespace of the test's own, where it can choose the next pid
# (ns_last_pid): the runner, a client inside its sandbox, and an outside process that takes
# the pid of the client's helper once that has exited.
PID_REUSE = r"""
import json, os, subprocess, sys, time
bin_, marker, tmp, procs = sys.argv[1:5]
CLIENT = r'''
import os, socket, sys, time
s = socket.socket(socket.AF_UNIX)
r, w = os.pipe()
helper = os.fork()
if helper == 0:  # connects, is accepted, and exits: the socket stays with its parent
    s.connect(os.environ["WCMEM_SANDBOX_SOCKET"])
    s.sendall(b"HELLO 1\n")
    os.write(w, s.recv(100))
    os._exit(0)
os.waitpid(helper, 0)
print(helper, os.read(r, 100).decode().strip(), flush=True)
while not os.path.exists(sys.argv[2] + "/go"):
    time.sleep(0.01)
f = s.makefile("rb")
s.sendall(b"START stolen\n")
print(f.readline().decode().strip(), flush=True)
while not os.path.exists(sys.argv[2] + "/done"):
    time.sleep(0.01)
'''
def into_cgroup():
    if procs != "-":
        open(procs, "w").write("0")
runner = subprocess.Popen([bin_, "-q", "--limit", "256M", "--", "/usr/bin/python3", "-c",
                           CLIENT, marker, tmp], stdout=subprocess.PIPE, text=True,
                          preexec_fn=into_cgroup)
helper, hello = runner.stdout.readline().split(None, 1)
with open("/proc/sys/kernel/ns_last_pid", "w") as f:
    f.write(str(int(helper) - 1))
outsider = os.fork()
if outsider == 0:
    os.execv("/usr/bin/python3", ["/usr/bin/python3", "-c", "import time; time.sleep(600)",
                                  marker])
home = open(f"/proc/{outsider}/cgroup").read()
open(tmp + "/go", "w").close()
answer = runner.stdout.readline().strip()
during = open(f"/proc/{outsider}/cgroup").read()
open(tmp + "/done", "w").close()
rc = runner.wait(timeout=120)
time.sleep(0.2)
alive = os.waitpid(outsider, os.WNOHANG) == (0, 0)
after = open(f"/proc/{outsider}/cgroup").read() if alive else None
if alive:
    os.kill(outsider, 9)
    os.waitpid(outsider, 0)
print(json.dumps(dict(helper=int(helper), hello=hello, outsider=outsider, answer=answer,
                      moved=during != home, alive=alive, home_after=after == home, rc=rc)))
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="choosing the next pid (ns_last_pid) in a pid "
                    "namespace of the test's own needs root")
def test_a_reused_pid_never_moves_or_kills_an_outside_process(sandbox, tmp_path):
    # A client's helper connects and exits; an outside process takes its pid; START on the
    # helper's connection must not move that process into the sandbox, nor kill it.
    procs = os.path.join(sandbox.cgroup, "cgroup.procs") if sandbox.cgroup else "-"
    # A proc of the new pid namespace's own, over a /proc made private first (not "/": that
    # fails where "/" is no mount point, a chroot), so the host's /proc is untouched.
    p = subprocess.run(["unshare", "--pid", "--fork", "--mount", "--propagation", "unchanged",
                        "sh", "-c", 'mount --make-rprivate /proc && mount -t proc proc /proc && '
                        'exec "$@"', "sh", "/usr/bin/python3",
                        "-c", PID_REUSE, BIN, sandbox.marker, str(tmp_path), procs],
                       env=sandbox.env, capture_output=True, text=True, timeout=180)
    assert p.returncode == 0, p.stdout + p.stderr
    r = json.loads(p.stdout.splitlines()[-1])
    assert r["hello"].strip() == "OK 1", r
    assert r["outsider"] == r["helper"], f"the pid was not reused: {r}"
    assert r["answer"].startswith("ERR 403 "), r
    assert not r["moved"], f"an outside process was moved into the sandbox: {r}"
    assert r["alive"] and r["home_after"], f"the outside process was touched: {r}"
    assert r["rc"] == 0, (r, p.stderr)


# Opens thousands of hostile connections to the runner (its parent) and prints what that did
# to the runner: peak RSS in kB, and fds open, before and after each wave.
FLOOD = r"""
import os, socket
import json, resource, time
runner = os.getppid()
path = os.environ["WCMEM_SANDBOX_SOCKET"]
hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
resource.setrlimit(resource.RLIMIT_NOFILE, (min(8192, hard), hard))
def figures():
    time.sleep(0.3)  # the runner handles what is in flight
    status = open(f"/proc/{runner}/status").read()
    hwm = int(status.split("VmHWM:")[1].split()[0])
    rss = int(status.split("VmRSS:")[1].split()[0])
    return dict(hwm=hwm, rss=rss, fds=len(os.listdir(f"/proc/{runner}/fd")))
def connect():
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    return s
def answer(s):
    s.settimeout(30)
    got = b""
    while not got.endswith(b"\n"):
        chunk = s.recv(200)
        if not chunk:
            break
        got += chunk
    return got.decode().strip()
out = dict(before=figures(), runner_nofile=resource.prlimit(runner, resource.RLIMIT_NOFILE)[0])
# 1. 2,000 connections each holding 64 KiB less one, no newline, all open at once.
held, refused = [], {}
for i in range(2000):
    try:
        s = connect()
        s.setblocking(False)
        try:
            s.send(b"HELLO 1\n" + b"x" * 65000)
        except OSError:
            pass
        held.append(s)
    except OSError as e:
        refused[str(e.errno)] = refused.get(str(e.errno), 0) + 1
out["held"] = figures()
codes = {}
for s in held:
    s.setblocking(True)
    s.settimeout(5)
    try:
        first = s.recv(400).decode().split("\n")
    except OSError:
        first = [""]
    for line in first:
        if line.startswith("ERR"):
            code = line.split()[1]
            codes[code] = codes.get(code, 0) + 1
    s.close()
out["held_codes"] = codes
out["after_held"] = figures()
# 2. 1,000 connections that START a unit and close at once, one after another.
for i in range(1000):
    s = connect()
    s.sendall(b"HELLO 1\nSTART flood-%d kind=command\n" % i)
    s.recv(200)
    s.close()
out["after_start_close"] = figures()
# 3. 300 idle connections at once: past the cap, refused as such.
idle = [connect() for i in range(300)]
out["idle_answers"] = {}
for s in idle:
    try:
        s.sendall(b"HELLO 1\n")
    except OSError:
        pass  # refused and closed: the answer is there to read
    a = answer(s)[:7]
    out["idle_answers"][a] = out["idle_answers"].get(a, 0) + 1
for s in idle:
    s.close()
# 4. The runner out of descriptors: told so, not "not inside this sandbox".
time.sleep(0.3)
soft, hard = resource.prlimit(runner, resource.RLIMIT_NOFILE)
resource.prlimit(runner, resource.RLIMIT_NOFILE, (len(os.listdir(f"/proc/{runner}/fd")), hard))
starved = [connect() for i in range(3)]
out["starved"] = [answer(s) for s in starved]
resource.prlimit(runner, resource.RLIMIT_NOFILE, (soft, hard))
for s in starved:
    s.close()
out["after"] = figures()
print(json.dumps(out), flush=True)
"""


def test_thousands_of_hostile_connections_leave_the_runner_bounded(sandbox):
    # Under AddressSanitizer (make check SAN=1), freed memory waits in a quarantine that
    # would count as the runner's: none, so that RSS measures what the runner holds.
    env = dict(sandbox.env, ASAN_OPTIONS="quarantine_size_mb=0:" +
               sandbox.env.get("ASAN_OPTIONS", ""))
    run = sandbox.run("--limit", "512M", "-q", "--", *sandbox.python(FLOOD), env=env,
                      timeout=600)
    assert run.rc == 0, run.stderr[-3000:]
    r = json.loads(run.stdout.splitlines()[-1])
    print(json.dumps(r, indent=1))
    before = r["before"]
    assert r["held"]["hwm"] - before["hwm"] < 16 << 10, f"RSS grew without bound: {r}"
    assert r["held"]["fds"] < 600, r
    assert set(r["held_codes"]) <= {"429", "503"}, r   # refused truthfully, never 403
    assert r["after_start_close"]["fds"] <= before["fds"] + 20, f"fds not released: {r}"
    assert r["after_start_close"]["rss"] - before["rss"] < 16 << 10, r
    cap = min(256, max(4, (r["runner_nofile"] - 64) // 16))  # PROTOCOL.md, "Limits"
    assert r["idle_answers"] == {"OK 1": cap, "ERR 429": 300 - cap}, r
    assert all(a.startswith("ERR 503 the runner is out of file descriptors") for a in r["starved"]), r
    assert r["after"]["fds"] <= before["fds"] + 2, r


RAW = [b"\x1b", b"\x9b", b"\xc2\x9b", b"\xe2\x80\xae", b"\xe2\x81\xa6", b"\x07"]


def assert_no_raw(where, data):
    for bad in RAW:
        assert bad not in data, f"{where} holds {bad!r} raw: {data[:2000]!r}"


def test_control_bytes_from_clients_never_reach_the_terminal_or_the_reports(sandbox, tmp_path):
    # A test name, a where, extras and garbage, all full of ANSI, C1 and bidi controls.
    name = "%1B%5D0%3Bpwned%07t%C2%9B31m%E2%80%AEexe.txt%E2%81%A6"
    code = ASK + (
        "print(ask(b'HELLO 1\\n'))\n"
        f"print(ask(b'START {name} where=x%1B[2J.py:1 extras=GC:%20%1B[31m%C2%9Bred\\n'))\n"
        f"print(ask(b'END {name} outcome=failed extras=%E2%80%AEend\\n'))\n"
        "print(ask(b'FROB\\x1b[2J\\xc2\\x9b\\xe2\\x80\\xae\\n'))\n")
    report, junit = tmp_path / "r.json", tmp_path / "j.xml"
    p = subprocess.run(sandbox.cmd("--limit", "256M", "--json", str(report), "--junit-xml",
                                   str(junit), "--", *sandbox.python(code)),
                       env=sandbox.env, capture_output=True, timeout=120, **sandbox._kw({}))
    assert p.returncode == 0, p.stderr
    assert b"unknown verb" in p.stderr and b"\\x1b[2J\\u009b\\u202e" in p.stderr, p.stderr
    assert b"\\u202eexe.txt" in p.stderr, p.stderr  # the summary names the unit, escaped
    assert_no_raw("stderr", p.stderr)
    for path in (sandbox.log, report, junit):
        assert_no_raw(str(path), open(path, "rb").read())
    unit = next(u for u in json.loads(report.read_text())["units"] if u["kind"] == "test")
    assert unit["name"] == "\x1b]0;pwned\x07t\x9b31m\u202eexe.txt\u2066"  # the same text


def test_control_bytes_from_an_ini_file_never_reach_the_terminal(sandbox, tmp_path):
    ini = tmp_path / "wcmem-sandbox.ini"
    ini.write_bytes(b"[profile p]\nlimit = 256M\nsuites = s\n\n"
                    b"[suite s]\ncommand = true \x1b[2Jx\xc2\x9b\n"
                    b"workdir = w\xe2\x80\xae\n")
    shown = subprocess.run(sandbox.cmd("config", "--config", str(ini), "--profile", "p"),
                           env=sandbox.env, capture_output=True, timeout=60)
    assert shown.returncode == 0, shown.stderr
    assert b"[suite s]" in shown.stdout and b"\\x1b[2J" in shown.stdout, shown.stdout
    assert_no_raw("config's output", shown.stdout + shown.stderr)
    ini.write_bytes(b"[profile p]\nlimt\x1b[2J\xe2\x80\xae = 1\n")
    bad = subprocess.run(sandbox.cmd("--config", str(ini), "--", "true"), env=sandbox.env,
                         capture_output=True, timeout=60)
    assert bad.returncode == 125 and b"unknown key" in bad.stderr, bad.stderr
    assert_no_raw("the error", bad.stderr)


# A test that tries to leave: it writes its own pid into the cgroup.procs of the cgroup the
# sandbox is built in (on a delegated cgroup, the test's user owns that file), then
# allocates more than the sandbox's limit.
ESCAPE = r'''
import errno, os
ns = os.environ.get("WCMEM_SANDBOX_CGROUPNS")
print("ns", ns)
try:
    with open(os.path.join(os.path.dirname(ns), "cgroup.procs"), "w") as f:
        f.write(str(os.getpid()))
    print("moved")
except OSError as e:
    print("refused", errno.errorcode[e.errno])
print("cgroup", [l for l in open("/proc/self/cgroup").read().splitlines() if l[:3] == "0::"][0])
x = bytearray(200 << 20)
for i in range(0, len(x), 4096):
    x[i] = 1
print("survived", flush=True)
'''


def nsdelegate():
    with open("/proc/self/mountinfo") as f:
        return any(" - cgroup2 " in l and l.split()[4] == MOUNT and
                   "nsdelegate" in l.split(" - ")[1].split()[2].split(",") for l in f)


@pytest.mark.skipif(BACKEND != "v2", reason="cgroup v1: a cgroup namespace does not keep its "
                    "processes from moving out (README, Security model)")
def test_a_test_cannot_move_itself_out_of_the_sandbox(sandbox):
    if not nsdelegate():
        pytest.skip(f"the cgroup2 mount at {MOUNT} has no nsdelegate option")
    run = sandbox.run("--limit", "64M", "--", *sandbox.python(ESCAPE))
    lines = run.stdout.splitlines()
    assert lines[0].startswith("ns " + MOUNT) and "/wcmem-" in lines[0], run.stdout
    # The kernel refuses a move across the namespace's boundary (nsdelegate) with ENOENT.
    assert lines[1] == "refused ENOENT", run.stdout + run.stderr
    # The command sees its cgroup from the sandbox, as a container sees its own.
    assert lines[2] == "cgroup 0::/u1", run.stdout
    assert run.rc == 137 and "survived" not in run.stdout, run.stdout + run.stderr
    assert "OOM-killed" in run.stderr
    assert "may move its processes out of the sandbox" not in run.stderr


def test_resume_before_any_resume_is_refused(sandbox):
    # RESUME hands the resume file's copy over as a descriptor; a run that did not resume
    # has none, and says so.
    code = ASK + "print(ask(b'HELLO 1\\n'))\nprint(ask(b'RESUME\\n'))\nprint(ask(b'RESUME x\\n'))\n"
    run = sandbox.run("--limit", "256M", "--", *sandbox.python(code))
    assert run.rc == 0, run.stderr
    assert run.stdout.splitlines()[1:] == [
        "ERR 404 no resume file: this run did not resume",
        "ERR 400 RESUME takes no field"], run.stdout
