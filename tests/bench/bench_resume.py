"""What an OOM kill costs the run: a suite whose collection takes 3 s (a conftest that sleeps
at import) with 2,000 small tests, run with 10 hogs and without, under wcmem-sandbox:

  - resumed by the copy that stands by (a fork per kill),
  - the same with a thread idle in accept() at collection's end (as pytest-rerunfailures
    starts one wherever pytest-xdist is installed): the copy still stands by,
  - resumed by starting pytest again (the fallback: pytest is not the command's own process,
    here a shell's child), for comparison,
  - under pytest-xdist -n 2: every test reported, the hogs as OOM-killed.

Runs alternate (this machine is shared and noisy: every case sees the same noise); the
median of each is shown. The added wall time per kill is (with hogs - without) / 10.

    make bench    (or: /usr/bin/python3 tests/bench/bench_resume.py ./wcmem-sandbox [reps])
"""
import importlib.util
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

PYTEST = ["/usr/bin/python3", "-m", "pytest", "-q", "-p", "no:cacheprovider"]
SMALL, HOGS, COLLECT_S = 2000, 10, 3
CONFTEST = f"import time\n\ntime.sleep({COLLECT_S})\n"
# A server thread idle in accept() at collection's end.
THREAD = ("import socket, threading\n\n_server = socket.socket()\n_server.bind(('127.0.0.1', 0))\n"
          "_server.listen()\nthreading.Thread(target=_server.accept, daemon=True).start()\n")
# pytest as a shell's child: no copy can stand by, each kill starts pytest again.
SHELL = ["/bin/sh", "-c", '"$@"; exit $?', "sh"]


def write_suite(path, hogs, thread=False):
    os.makedirs(path)
    with open(os.path.join(path, "conftest.py"), "w") as f:
        f.write(CONFTEST + (THREAD if thread else ""))
    with open(os.path.join(path, "test_small.py"), "w") as f:
        f.write(f"import pytest\n\n\n@pytest.mark.parametrize('i', range({SMALL}))\n"
                "def test_small(i):\n    assert i >= 0\n")
    if hogs:
        with open(os.path.join(path, "test_hogs.py"), "w") as f:
            f.write(f"import pytest\n\n\n@pytest.mark.parametrize('i', range({HOGS}))\n"
                    "def test_hog(i):\n    hog = []\n    while True:\n"
                    "        hog.append(bytearray(16 << 20))\n")
    return path


def run(argv, env, junit):
    t0 = time.perf_counter()
    p = subprocess.run(argv + [f"--junitxml={junit}"], env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - t0
    root = ET.parse(junit).getroot()
    cases = list(root.iter("testcase"))
    oom = sum(1 for c in cases for x in c if x.tag in ("failure", "error")
              and "OOM-killed" in (x.get("message") or ""))
    m = re.search(r"resuming took ([0-9.]+) s", p.stderr)
    return elapsed, len(cases), oom, float(m.group(1)) if m else 0.0, p.returncode


def main():
    binary = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "wcmem-sandbox")
    reps = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    xdist = importlib.util.find_spec("xdist") is not None
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, WEATHERCOP_DIR=tmp)
        sandbox = [binary, "--limit", "2G", "--test-limit", "160M", "--"]
        cases = {
            "without hogs": sandbox + PYTEST + [write_suite(f"{tmp}/none", False)],
            "10 hogs, copy woken": sandbox + PYTEST + [write_suite(f"{tmp}/hogs", True)],
            "10 hogs, idle thread": sandbox + PYTEST + [write_suite(f"{tmp}/thr", True, True)],
            "10 hogs, restarted": sandbox + SHELL + PYTEST + [f"{tmp}/hogs"],
        }
        if xdist:
            cases["10 hogs, xdist -n 2"] = (sandbox + PYTEST + ["-p", "xdist", "-n", "2"]
                                            + [f"{tmp}/hogs"])
        got = {k: [] for k in cases}
        for _ in range(reps):  # alternating
            for name, argv in cases.items():
                got[name].append(run(argv, env, f"{tmp}/junit.xml"))
    base = statistics.median(t for t, *_ in got["without hogs"])
    print(f"resume after an OOM kill: {SMALL} small tests, collection {COLLECT_S} s, "
          f"{HOGS} hogs; median of {reps} alternating runs ({os.cpu_count()} cores, shared)")
    print(f"  {'case':<24}{'wall s':>8}{'added s/kill':>14}{'resuming s':>12}"
          f"{'tests':>7}{'OOM':>5}")
    for name, rows in got.items():
        wall = statistics.median(t for t, *_ in rows)
        resumed = statistics.median(r for *_, r, _ in rows)
        tests, oom = min(n for _, n, *_ in rows), min(o for _, _, o, *_ in rows)
        per_kill = (wall - base) / HOGS if name != "without hogs" else 0.0
        print(f"  {name:<24}{wall:>8.2f}{per_kill:>14.3f}{resumed:>12.2f}{tests:>7}{oom:>5}")
    want = SMALL + HOGS
    for name, rows in got.items():
        if name != "without hogs" and any(n != want or o != HOGS for _, n, o, *_ in rows):
            print(f"  {name}: NOT every test reported ({want} wanted, {HOGS} OOM-killed)")


if __name__ == "__main__":
    main()
