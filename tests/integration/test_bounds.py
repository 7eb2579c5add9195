"""A test cannot bend what the runner keeps, prints or records: what it sends is bounded and
escaped, the units it leaves behind are checked before another test uses them, and the
processes it may start are counted."""
import json
import os
import re
import subprocess

import pytest

from conftest import BACKEND, BIN, CLIENT_PRELUDE as ASK, MOUNT


# Ends `count` units of one kind with 8 KB names over one connection, then prints the
# runner's (its parent's) VmHWM before and after, in kB.
GROW = ASK + r"""
import json
runner, kind, count = os.getppid(), sys.argv[2], int(sys.argv[3])
def hwm():
    status = open(f"/proc/{runner}/status").read()
    return int(status.split("VmHWM:")[1].split()[0])
assert ask(b"HELLO 1\n") == "OK 1"
before, pad = hwm(), b"\xc3\xa9" * 4000
end = {"command": b"", "signal": b" outcome=failed signal=9"}[kind]
start = b" kind=command" if kind == "command" else b""
for i in range(count):
    name = b"%d-" % i + pad
    a = ask(b"START " + name + start + b"\n")
    b = ask(b"END " + name + end + b"\n")
    assert a.startswith("OK ") and b == "OK", (a, b)
cut = b"%d-" % (count - 1) + pad
print(json.dumps(dict(before=before, after=hwm(),
                      verdict=ask(b"VERDICT " + cut + b"\n"))), flush=True)
"""


@pytest.mark.parametrize("kind", ["command", "signal"])
def test_20000_long_named_units_keep_the_runner_small(sandbox, kind):
    # Units the summary keeps (commands, tests ended by a signal) keep a bounded record:
    # 20,000 of them with 8 KB names grew the runner by 8 KB each.
    env = dict(sandbox.env, ASAN_OPTIONS="quarantine_size_mb=0:" +
               sandbox.env.get("ASAN_OPTIONS", ""))
    p = subprocess.run(sandbox.cmd("--limit", "256M", "--", *sandbox.python(GROW), kind,
                                   "20000"), env=env, capture_output=True, timeout=600,
                       **sandbox._kw({}))
    assert p.returncode == 0, p.stderr[-3000:]
    r = json.loads(p.stdout.splitlines()[-1])
    print(kind, r)
    # Under 32 MB in all from the runner's 4 MB: growth, so that AddressSanitizer's own
    # (make check-integration SAN=1) does not count.
    assert r["after"] - r["before"] < 28 << 10, f"the runner grew to {r['after']} kB: {r}"
    assert r["verdict"].startswith("OK "), r  # a cut name is still found
    # The summary names each unit by its head, whole characters, and says it was cut.
    rows = [line for line in p.stderr.decode().splitlines() if "\u00e9" in line]
    assert rows and all(len(row) < 400 for row in rows), rows[:3]
    assert re.search(r"\u00e9 \.\.\.\[800\d+ bytes, hash [0-9a-f]{16}\]", rows[-1]), rows[-1]


RAW = [b"\x1b", b"\x9b", b"\xc2\x9b", b"\xe2\x80\xae", b"\xe2\x81\xa6", b"\x07"]


def assert_no_raw(where, data):
    for bad in RAW:
        assert bad not in data, f"{where} holds {bad!r} raw: {data[:2000]!r}"


def test_an_outcome_other_than_pytests_words_is_refused(sandbox, tmp_path):
    # outcome= is the summary's verdict of a test: a word with escapes, U+202E and a line
    # break that forges a log entry never reaches the terminal; the END is refused (400),
    # and an END with one of pytest's words ends the unit.
    forged = b"%1B[2J%E2%80%AEdeliaf%0A[2026-01-01T00:00:00.000] TEST_END: forged"
    code = ASK + ("print(ask(b'HELLO 1\\n'))\n"
                  "print(ask(b'START t\\n'))\n"
                  f"print(ask(b'END t outcome={forged.decode()}\\n'))\n"
                  "print(ask(b'END t outcome=skipped\\n'))\n")
    report = tmp_path / "r.json"
    p = subprocess.run(sandbox.cmd("--limit", "256M", "--json", str(report), "--",
                                   *sandbox.python(code)),
                       env=sandbox.env, capture_output=True, timeout=120, **sandbox._kw({}))
    assert p.returncode == 0, p.stderr
    answers = p.stdout.decode().splitlines()
    assert answers[2].startswith("ERR 400 outcome must be passed, failed, skipped or error"), answers
    assert answers[3] == "OK", answers
    assert_no_raw("stderr", p.stderr)
    assert not any(line.startswith(b"[") for line in p.stderr.splitlines()), p.stderr
    assert b"\\u202e" in p.stderr, p.stderr  # the warning names what was sent, escaped
    (row,) = [line for line in p.stderr.decode().splitlines() if line.startswith("    t ")]
    assert row.endswith("  skipped"), row
    unit = next(u for u in json.loads(report.read_text())["units"] if u["name"] == "t")
    assert unit["pytest_outcome"] == "skipped", unit


def analyze(*args):
    return subprocess.run([BIN, "analyze", *args], capture_output=True, timeout=120)


def foreign_log(path, name, elapsed="inf"):
    path.write_bytes(
        b"[2025-10-24T12:34:50.000] TEST_START: " + name + b"\n"
        b"  Elapsed: 1.0s\n\n"
        b"[2025-10-24T12:34:51.000] TEST_END: " + name + b"\n"
        b"  Elapsed: " + elapsed.encode() + b"s\n"
        b"  Duration: " + elapsed.encode() + b"s\n"
        b"  Peak memory: 120.0 MB\n"
        b"  OOM: killed (exceeded its own limit 100.0 MB)\n\n"
        b"[2025-10-24T12:34:52.000] TEST_START: t/test_b.py::running\xc2\x9b31m\n"
        b"  Elapsed: nans\n\n")


def strict_json(text):
    def no_constant(word):
        raise ValueError(f"not JSON: {word}")
    return json.loads(text, parse_constant=no_constant)


@pytest.mark.parametrize("elapsed", ["inf", "nan", "1e308"])
def test_analyze_escapes_a_foreign_log_and_its_json_is_json(tmp_path, elapsed):
    # A log of another writer: C1 controls, U+202E and ESC in names, an Elapsed of inf.
    log = tmp_path / "foreign.log"
    foreign_log(log, b"t/test_a.py::\x1b[2Jhog\xc2\x9b\xe2\x80\xaeexe.txt", elapsed)
    text = analyze(str(log))
    assert text.returncode == 0, text.stderr
    assert_no_raw("analyze's text", text.stdout + text.stderr)
    assert b"\\x1b[2Jhog\\u009b\\u202eexe.txt OOM-killed" in text.stdout, text.stdout
    out = analyze("--json", "-", str(log))
    assert out.returncode == 0, out.stderr
    doc = strict_json(out.stdout.decode())
    assert doc["oom_killed"][0]["name"] == "t/test_a.py::\\x1b[2Jhog\\u009b\\u202eexe.txt", doc
    html = tmp_path / "a.html"
    out = analyze("--html", str(html), str(log))
    assert out.returncode == 0, out.stderr
    page = html.read_bytes()
    assert_no_raw("the HTML", page)
    assert b"nan" not in page.lower() and b"inf" not in page.replace(b"info", b""), page


def test_a_long_non_ascii_name_is_cut_between_characters(tmp_path):
    # Cut to the reader's 1024 bytes (the text) and the chart's 160 (the HTML) from an odd
    # start: a cut in the middle of a two-byte character is not UTF-8.
    log = tmp_path / "long.log"
    foreign_log(log, b"t/test_a.py::x" + "\u00e9".encode() * 3000, "2.0")
    text = analyze(str(log))
    assert text.returncode == 0, text.stderr
    text.stdout.decode("utf-8")  # strict: raises on a cut character
    assert "\u00e9..." in text.stdout.decode(), text.stdout
    html = tmp_path / "a.html"
    assert analyze("--html", str(html), str(log)).returncode == 0
    html.read_bytes().decode("utf-8")
    strict_json(analyze("--json", "-", str(log)).stdout.decode("utf-8"))


# A test (conn a) moves a process that holds 100 MB into a unit made ahead of time (the
# spare, or the unit kept for its connection's next START); the next test (b) must not be
# charged with it.
PLANT = ASK + r"""
import signal, time
where = sys.argv[-1]
print(ask(b"HELLO 1\n"))
first = ask(b"START a keep=1\n")
kept = os.path.dirname(first.split(" next=", 1)[1])
target = kept
if where == "spare":
    last = int(os.path.basename(kept)[1:])
    for i in range(500):  # the spare is made after START's answer, the last one made
        if os.path.exists(os.path.dirname(kept) + f"/u{last + 1}"):
            break
        time.sleep(0.01)
    target = os.path.dirname(kept) + f"/u{last + 1}"
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    with open(target + "/cgroup.procs", "w") as p:
        p.write(str(os.getpid()))
    b = bytearray(100 << 20)
    os.write(w, b"1")
    time.sleep(600)
    os._exit(0)
os.read(r, 1)
print(ask(b"END a outcome=passed\n"))
if where == "kept":
    s.sendall(b"START b keep=1 moved=1\n")
    try:  # as the plugin moves itself: the runner may have removed the unit first
        with open(kept + "/cgroup.procs", "w") as p:
            p.write(str(os.getpid()))
    except OSError:
        pass
    print(f.readline().decode().strip())
else:
    print(ask(b"START b\n"))
print(ask(b"END b outcome=passed\n"), flush=True)
os.kill(pid, signal.SIGKILL)
os.waitpid(pid, 0)
"""


@pytest.mark.parametrize("where", ["spare", "kept"])
def test_processes_planted_in_a_unit_made_ahead_are_not_the_next_tests(sandbox, tmp_path,
                                                                        where):
    report = tmp_path / "r.json"
    run = sandbox.run("--limit", "512M", "--test-limit", "256M", "--json", str(report), "--",
                      *sandbox.python(PLANT), where)
    assert run.rc == 0, run.stdout + run.stderr
    hello, end_a, start_b, end_b = run.stdout.splitlines()
    assert (end_a, end_b) == ("OK", "OK") and start_b.startswith("OK "), run.stdout
    units = {u["name"]: u for u in json.loads(report.read_text())["units"]}
    b = units["b"]
    assert b["peak"] < 50 << 20 and b["oom"] is None, (b, run.stderr)
    assert "was not as the runner made it" in run.stderr, run.stderr


# Forks up to 300 sleeping children in at most 30 s, counting the forks the kernel refused.
BOMB = r"""
import json, os, sys, time
made, refused, deadline = [], 0, time.monotonic() + 30
while len(made) + refused < 300 and time.monotonic() < deadline:
    try:
        pid = os.fork()
    except BlockingIOError:
        refused += 1
        continue
    if pid == 0:
        time.sleep(120)
        os._exit(0)
    made.append(pid)
print(json.dumps(dict(made=len(made), refused=refused)), flush=True)
for pid in made:
    os.kill(pid, 9)
for pid in made:
    os.waitpid(pid, 0)
"""


def test_a_fork_bomb_stops_at_pids_max(sandbox):
    run = sandbox.run("--limit", "256M", "--pids-max", "40", "--", *sandbox.python(BOMB))
    assert run.rc == 0, run.stderr
    r = json.loads(run.stdout.splitlines()[-1])
    assert r["made"] < 40 and r["refused"] > 0, r
    # The machine was not: a run without the cap makes all of them.
    run = sandbox.run("--limit", "256M", "--pids-max", "max", "--", *sandbox.python(BOMB))
    assert run.rc == 0, run.stderr
    assert json.loads(run.stdout.splitlines()[-1]) == dict(made=300, refused=0), run.stdout


def own_pids_folder():
    """This process's cgroup in the v1 pids hierarchy, or None."""
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, ctrls, path = line.rstrip("\n").split(":", 2)
            if "pids" in ctrls.split(","):
                folder = "/sys/fs/cgroup/pids" + (path if path != "/" else "")
                return folder if os.path.isdir(folder) else None
    return None


@pytest.mark.skipif(BACKEND != "v1", reason="the v1 pids hierarchy")
def test_a_pids_cgroup_a_killed_runner_left_is_taken_over(sandbox):
    """A runner killed before it removed its pids cgroup leaves wcmem-PID behind; a later
    runner with that pid (another PID namespace, a wrapped pid) removes the empty one and
    makes its own, rather than run without pids.max."""
    folder = own_pids_folder()
    if folder is None or not os.access(folder, os.W_OK):
        pytest.skip("no writable v1 pids hierarchy")
    # The shell makes the leftover under its own pid, then becomes the runner (exec).
    argv = ["sh", "-c", 'mkdir "$0/wcmem-$$" || exit 99; echo "$$" >&2; exec "$@"', folder,
            BIN, "--limit", "256M", "--pids-max", "40", "--", *sandbox.python(BOMB)]
    run = subprocess.run(argv, env=sandbox.env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    pid = run.stderr.splitlines()[0]
    assert "warning" not in run.stderr, run.stderr
    assert json.loads(run.stdout.splitlines()[-1])["made"] < 40, run.stdout
    assert not os.path.exists(os.path.join(folder, f"wcmem-{pid}"))


def test_pids_max_is_an_option_and_a_setting(sandbox, tmp_path):
    shown = sandbox.run("config", "--pids-max", "100")
    assert shown.rc == 0 and re.search(r"^pids_max\s+= 100\b", shown.stdout, re.M), shown.stdout
    shown = sandbox.run("config")
    assert re.search(r"^pids_max\s+= auto\b", shown.stdout, re.M), shown.stdout
    for bad in ("0", "-1", "1k", "4194305"):
        run = sandbox.run("--pids-max", bad, "--", "true")
        assert run.rc == 125 and "--pids-max" in run.stderr, (bad, run.stderr)
    ini = tmp_path / "wcmem-sandbox.ini"
    ini.write_text("[profile p]\npids_max = 30\n")
    run = sandbox.run("--config", str(ini), "--profile", "p", "--limit", "256M", "--",
                      *sandbox.python(BOMB))
    assert run.rc == 0, run.stderr
    assert json.loads(run.stdout.splitlines()[-1])["made"] < 30, run.stdout


HANDOVER = r'''
import os, time

def own_cgroup():
    with open("/proc/self/cgroup") as f:
        return [l for l in f if ":memory:" in l or l.startswith("0::")][0].split(":", 2)[2]

def test_a_hands_its_socket_over(tmp_path_factory):
    if os.fork() == 0:  # keeps every descriptor pytest has, the runner's socket among them
        parent = os.getppid()
        while os.getppid() == parent:
            time.sleep(0.05)
        os._exit(0)
    null = os.open("/dev/null", os.O_RDWR)
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}").startswith("socket:"):
                os.dup2(null, int(fd))
        except OSError:
            pass
    os.environ["UNIT_A"] = own_cgroup()

def test_b_allocates():
    # Once the runner has seen that this process moved on (no time is assumed: 20 s at
    # most, then the allocation lands wherever the process is).
    deadline = time.monotonic() + 20
    while own_cgroup() == os.environ["UNIT_A"] and time.monotonic() < deadline:
        time.sleep(0.02)
    b = bytearray(100 << 20)
'''


def test_a_test_that_hands_its_connection_over_has_its_unit_ended(sandbox, tmp_path):
    (tmp_path / "test_handover.py").write_text(HANDOVER)
    run = sandbox.run("--limit", "512M", "--", "/usr/bin/python3", "-m", "pytest",
                      "-p", "no:cacheprovider", "-q", str(tmp_path / "test_handover.py"))
    assert run.rc == 0, run.stdout + run.stderr
    end = next(e for e in run.entries if e.event == "TEST_END" and e.name.endswith("test_a_hands_its_socket_over"))
    peak = float(end.value("Peak memory").split()[0])
    assert peak < 50, f"the next test's memory was recorded in this one: {run.log_text}"
    assert "no longer holds its connection" in run.stderr, run.stderr


# One process, two connections: it leaves x's unit for y's; y's END ends x (the process is
# no longer in it), so x's END finds no unit, and x's record holds none of y's memory.
TWO = ASK + r"""
s2 = socket.socket(socket.AF_UNIX)
s2.connect(os.environ["WCMEM_SANDBOX_SOCKET"])
f2 = s2.makefile("rb")
ask2 = lambda line: s2.sendall(line) or f2.readline().decode().strip()
print(ask(b"HELLO 1\n"), ask2(b"HELLO 1\n"))
print(ask(b"START x\n"))
print(ask2(b"START y\n"))
b = bytearray(100 << 20)
print(ask2(b"END y outcome=passed\n"))
print(ask(b"END x outcome=passed\n"), flush=True)
"""


def test_a_client_that_moved_on_to_another_unit_has_its_unit_ended(sandbox):
    run = sandbox.run("--limit", "512M", "--", *sandbox.python(TWO))
    assert run.rc == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    assert lines[3] == "OK" and lines[4].startswith("ERR 409 "), lines
    x = next(e for e in run.entries if e.event == "TEST_END" and e.name == "x")
    assert float(x.value("Peak memory").split()[0]) < 50, run.log_text
    assert "left its unit" in run.stderr, run.stderr
