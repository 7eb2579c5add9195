"""The soak: 5,000 tests under a unit each, 20 of them OOM-killed by their own small limit
(each kill ends pytest, and the runner resumes it without the tests that are done). Prints
the wall time and the runner's peak RSS, and checks that every test is accounted for, once,
in the memory log, the JSON report and pytest's JUnit XML.

    make bench    (or: /usr/bin/python3 tests/bench/soak.py ./wcmem-sandbox [tests] [kills])
"""
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from bench_pytest import runner_hwm_kb  # noqa: E402
spec = importlib.util.spec_from_file_location(
    "memlog", os.path.join(HERE, "..", "integration", "memlog.py"))
memlog = importlib.util.module_from_spec(spec)
spec.loader.exec_module(memlog)

TEST_LIMIT_MB = 64   # each test's own limit; a killed test allocates twice that


def write_suite(tmp, ntests, kills):
    every = ntests // kills
    path = os.path.join(tmp, "test_soak.py")
    with open(path, "w") as f:
        f.write(f"import pytest\n\n\n@pytest.mark.parametrize('i', range({ntests}))\n"
                f"def test_soak(i):\n"
                f"    if i % {every} == {every - 1}:\n"
                f"        b = bytearray({2 * TEST_LIMIT_MB} << 20)  # zero-filled: touched\n"
                f"    assert i >= 0\n")
    return path, {f"test_soak[{i}]" for i in range(ntests) if i % every == every - 1}


def run(binary, tmp, suite):
    files = {k: os.path.join(tmp, k) for k in ("memory.log", "report.json", "junit.xml")}
    argv = [binary, "-q", "--limit", "1G", "--test-limit", f"{TEST_LIMIT_MB}M",
            "--log", files["memory.log"], "--json", files["report.json"], "--",
            "/usr/bin/python3", "-m", "pytest", "-q", "-p", "no:cacheprovider", suite,
            f"--junitxml={files['junit.xml']}"]
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    hwm = 0
    while p.poll() is None:
        hwm = max(hwm, runner_hwm_kb(p.pid))
        time.sleep(0.05)
    err = p.communicate()[1].decode()
    return p.returncode, err, time.perf_counter() - t0, hwm, files


def short(name):
    return name.split("::")[-1]


def account(files, ntests, killed):
    """What each record holds, by test; a list of what is wrong (empty: all is well)."""
    wrong = []
    entries = memlog.parse(open(files["memory.log"]).read())
    starts = [e for e in entries if e.event == "TEST_START" and e.value("Kind") == "test"]
    ends = {}
    for e in entries:
        if e.event == "TEST_END":
            ends.setdefault(short(e.name), []).append(e)
    log_killed = {short(e.name) for e in starts
                  if any("killed" in (x.value("OOM") or "") for x in ends.get(short(e.name), []))}
    if len(starts) != ntests or len({short(e.name) for e in starts}) != ntests:
        wrong.append(f"log: {len(starts)} TEST_START of tests, want {ntests} distinct")
    if log_killed != killed:
        wrong.append(f"log: OOM-killed {sorted(log_killed ^ killed)[:5]} differ")
    units = [u for u in json.load(open(files["report.json"]))["units"] if u["kind"] == "test"]
    if len({short(u["name"]) for u in units}) != ntests or len(units) != ntests:
        wrong.append(f"json: {len(units)} test units, want {ntests} distinct")
    json_killed = {short(u["name"]) for u in units if u["oom"] == "own"}
    if json_killed != killed:
        wrong.append(f"json: OOM-killed (own limit) {sorted(json_killed ^ killed)[:5]} differ")
    cases = list(ET.parse(files["junit.xml"]).getroot().iter("testcase"))
    failed = {c.get("name") for c in cases if c.find("failure") is not None}
    if len({c.get("name") for c in cases}) != ntests or len(cases) != ntests:
        wrong.append(f"junit: {len(cases)} testcases, want {ntests} distinct")
    if failed != killed:
        wrong.append(f"junit: failures {sorted(failed ^ killed)[:5]} differ")
    return wrong, len(starts), len(log_killed), len(units), len(cases), len(failed)


def main():
    binary = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "wcmem-sandbox")
    ntests = int(sys.argv[2]) if len(sys.argv) > 2 else 5000
    kills = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    with tempfile.TemporaryDirectory(prefix="wcmem-soak-") as tmp:
        suite, killed = write_suite(tmp, ntests, kills)
        rc, err, wall, hwm, files = run(binary, tmp, suite)
        if rc != 1:  # pytest's own status: tests failed (the killed ones)
            sys.exit(f"soak: exit status {rc}, want 1 (pytest's: tests failed):\n{err}")
        wrong, nlog, nkilled, njson, njunit, nfailed = account(files, ntests, killed)
    print(f"soak: {ntests} tests, {kills} OOM-killed by their own {TEST_LIMIT_MB} MB limit")
    print(f"  wall time          {wall:8.1f} s   ({wall / ntests * 1000:.2f} ms a test, "
          f"{kills} resumes included)")
    print(f"  runner peak RSS    {hwm / 1024:8.1f} MB")
    print(f"  accounted for      log {nlog} ({nkilled} OOM-killed), JSON {njson}, "
          f"JUnit {njunit} ({nfailed} failed)")
    if wrong:
        sys.exit("soak: not every test is accounted for:\n  " + "\n  ".join(wrong))
    print("  every test is in the log, the JSON report and the JUnit XML once, "
          "each killed one as killed")


if __name__ == "__main__":
    main()
