"""pytest-xdist under a shared total, without memory markers, against the two-phase recipe it
replaces. The suite (tests/suites/shared_cap): 16 light tests and 6 heavy ones, sized so
that three heavy tests fit the total at once but not four (the README's case of 700 MB
under 2G, scaled to this machine: HEAVY_MB under LIMIT, four workers).

  - two-phase, as projects run it by hand: `pytest -n 4 -m "not memory_intensive"`, then
    `pytest -n 1 -m memory_intensive` (under the same total, without units: the limit only
    keeps the machine safe);
  - `-n 4` under the sandbox, first run: no budgets; a heavy test the total kills beside
    others runs again, alone; nothing lost;
  - `-n 4` under the sandbox with `--expect` on its own log (the first run's peaks, read
    before the run empties the log): admission without budgets;
  - `-n 4` under the sandbox with the budgets `wcmem-sandbox budget` makes of the run before:
    a worker's next test waits for room; no OOM kill.

Then a suite of mixed real tests (Debian's xarray and numpy: test_dataarray.py and
test_numeric.py, some 1,800 tests) at `-n auto`: plain pytest, and under the sandbox with a
total that holds xdist's CPU count of workers and with one that holds fewer: the worker count
the plugin chose and why, pytest's counts (equal to plain pytest's), OOM kills (none) and
the sandbox's peak against its total.

One bench run measures all four in turn, REPS times (this machine is shared and noisy:
each case sees the same noise); the median of each is shown, with its ratio to two-phase.

    make bench    (or: /usr/bin/python3 tests/bench/bench_schedule.py ./wcmem-sandbox [reps])
"""
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

SUITE = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "suites", "shared_cap"))
PYTEST = ["/usr/bin/python3", "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "xdist",
          "--rootdir", SUITE, SUITE]
LIMIT, HEAVY_MB = "1536M", 420  # 3 x 420 MB and four workers fit; 4 x 420 MB do not
SIZES = {"SHARED_HEAVY": "6", "SHARED_HEAVY_MB": str(HEAVY_MB), "SHARED_HOLD": "3",
         "SHARED_LIGHT": "16", "SHARED_LIGHT_HOLD": "0.3"}


def run(binary, args, env):
    t0 = time.perf_counter()
    p = subprocess.run([binary, *args], env=env, capture_output=True, text=True, timeout=900)
    elapsed = time.perf_counter() - t0
    passed = sum(int(n) for n in re.findall(r"(\d+) passed", p.stdout))
    failed = sum(int(n) for n in re.findall(r"(\d+) failed", p.stdout))
    kills = re.search(r"units?, (\d+) OOM-killed", p.stderr)
    again = re.search(r"(\d+) tests? run again", p.stderr)
    waited = re.search(r"waited for room in the sandbox, ([0-9.]+) s", p.stderr)
    return {"s": elapsed, "stdout": p.stdout, "passed": passed, "failed": failed, "rc": p.returncode,
            "kills": int(kills.group(1)) if kills else 0, "again": int(again.group(1)) if again else 0,
            "waited": float(waited.group(1)) if waited else 0.0, "stderr": p.stderr}


def once(binary, tmp, i):
    env = dict(os.environ, **SIZES, WEATHERCOP_DIR=os.path.join(tmp, f"wc{i}"))
    log = os.path.join(tmp, f"wc{i}", "test_memory.log")
    two = [run(binary, ["-q", "--limit", LIMIT, "--no-plugin", "--", *PYTEST, "-n", "4",
                        "-m", "not memory_intensive"], env),
           run(binary, ["-q", "--limit", LIMIT, "--no-plugin", "--", *PYTEST, "-n", "1",
                        "-m", "memory_intensive"], env)]
    first = run(binary, ["--limit", LIMIT, "--", *PYTEST, "-n", "4"], env)
    expect = run(binary, ["--limit", LIMIT, "--expect", log, "--", *PYTEST, "-n", "4"], env)
    budgets = os.path.join(tmp, f"budgets{i}.ini")
    subprocess.run([binary, "budget", "--margin", "5", "-o", budgets, log], check=True, capture_output=True)
    second = run(binary, ["--limit", LIMIT, "--budgets", budgets, "--", *PYTEST, "-n", "4"],
                 env)
    if second["kills"]:  # the run that must have none: say what the runner saw
        sys.stderr.write(f"bench_schedule: run {i} with budgets had an OOM kill:\n"
                         f"{second['stderr']}\n")
        keep = os.environ.get("BENCH_KEEP")  # a folder: the log and timeline, to read later
        if keep:
            import shutil
            shutil.copytree(os.path.dirname(log), os.path.join(keep, f"killed{i}"),
                            dirs_exist_ok=True)
            shutil.copy(budgets, os.path.join(keep, f"killed{i}"))
    phases = {"s": sum(r["s"] for r in two), "passed": sum(r["passed"] for r in two),
              "failed": sum(r["failed"] for r in two), "kills": 0, "again": 0, "waited": 0.0}
    return phases, first, expect, second


DIST = "/usr/lib/python3/dist-packages"
REAL = [os.path.join(DIST, "xarray", "tests", "test_dataarray.py"),
        os.path.join(DIST, "numpy", "core", "tests", "test_numeric.py")]
REAL_LIMITS = ("4G", "400M")  # xdist's two CPUs fit the first; the second holds fewer


def counts(stdout):
    """pytest's last line of counts, without its time."""
    last = [line for line in stdout.splitlines() if " passed" in line or " failed" in line]
    return re.sub(r" in [0-9.]+s.*", "", last[-1]).strip("= ") if last else "?"


def real_suite(binary, tmp, reps):
    """The real suite at -n auto: plain, then under each total, reps times."""
    if not all(os.path.exists(path) for path in REAL):
        print("bench_schedule: the real suite is not installed (python3-xarray, python3-numpy)")
        return
    argv = ["/usr/bin/python3", "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "xdist",
            "-n", "auto", *REAL]
    rows = {"plain pytest -n auto": []}
    rows.update((f"--limit {limit} -- pytest -n auto", []) for limit in REAL_LIMITS)
    for i in range(reps):
        env = dict(os.environ, WEATHERCOP_DIR=os.path.join(tmp, f"real{i}"))
        t0 = time.perf_counter()
        plain = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=900)
        rows["plain pytest -n auto"].append({"s": time.perf_counter() - t0,
                                             "counts": counts(plain.stdout), "kills": 0,
                                             "workers": "2 by CPUs", "peak": "-"})
        for limit in REAL_LIMITS:
            r = run(binary, ["--limit", limit, "--", *argv], env)
            said = re.search(r"-n auto: (\d+) workers?: (.*)", r["stderr"])
            peak = re.search(r"sandbox peak (.*?) of", r["stderr"])
            r.update(counts=counts(r.get("stdout", "")),
                     workers=(f"{said.group(1)}: " + ("by CPUs" if "by CPUs" in said.group(2)
                                                       else "by memory")) if said else "?",
                     peak=peak.group(1) if peak else "?")
            rows[f"--limit {limit} -- pytest -n auto"].append(r)
    print(f"bench_schedule: {len(REAL)} files of real tests (xarray, numpy) at -n auto, "
          f"{reps} runs, medians")
    print(f"  {'':34} {'wall':>7} {'workers':>13} {'OOM kills':>9} {'sandbox peak':>12}  counts")
    for name, runs in rows.items():
        print(f"  {name:34} {statistics.median(r['s'] for r in runs):6.1f}s "
              f"{runs[-1]['workers']:>13} {max(r['kills'] for r in runs):9} "
              f"{runs[-1]['peak']:>12}  {', '.join(sorted(set(r['counts'] for r in runs)))}")


def main():
    binary = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else "./wcmem-sandbox"
    reps = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    rows = {"two-phase (-n 4 light, then -n 1 heavy)": [], "-n 4, first run": [],
            "-n 4, --expect its own log": [], "-n 4, with its budgets": []}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(reps):
            for name, r in zip(rows, once(binary, tmp, i)):
                rows[name].append(r)
    base = statistics.median(r["s"] for r in rows["two-phase (-n 4 light, then -n 1 heavy)"])
    print(f"bench_schedule: {SIZES['SHARED_LIGHT']} light and {SIZES['SHARED_HEAVY']} heavy "
          f"tests of {HEAVY_MB} MB under --limit {LIMIT}, {reps} runs, medians")
    print(f"  {'':42} {'wall':>7} {'x two-phase':>11} {'passed':>6} {'failed':>6} "
          f"{'OOM kills':>9} {'run again':>9} {'waited':>7}")
    for name, runs in rows.items():
        s = statistics.median(r["s"] for r in runs)
        print(f"  {name:42} {s:6.1f}s {s / base:10.2f}x {min(r['passed'] for r in runs):6} "
              f"{max(r['failed'] for r in runs):6} {max(r['kills'] for r in runs):9} "
              f"{max(r['again'] for r in runs):9} "
              f"{statistics.median(r['waited'] for r in runs):6.1f}s")
    with tempfile.TemporaryDirectory() as tmp:
        real_suite(binary, tmp, reps)


if __name__ == "__main__":
    main()
