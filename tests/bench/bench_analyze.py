"""`wcmem-sandbox analyze` on long logs: a log of 100,000 tests in our format (each entry as
the runner writes it, with cgroup figures and GC extras) is read in under a second, in the
same memory as a log of 10,000 (it streams). Prints the time (best of 3) and the peak RSS.
Then `--html` for 20,000 tests: the page's size (under 2 MB) and how long headless
Chromium takes to render it (under 2 s; skipped without Debian's chromium).

    make bench            (or: /usr/bin/python3 tests/bench/bench_analyze.py ./wcmem-sandbox [tests])
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

START = """[2026-11-30T12:00:{s:02d}.{us:06d}] TEST_START: tests/test_big.py::test_case[{i}]
  Elapsed: {el:.1f}s
  /proc/4242/status:
    VmPeak: 236012 kB
    VmSize: 235452 kB
    VmHWM: 130256 kB
    VmRSS: 130256 kB
  Kind: test
  Location: tests/test_big.py:{line}
  cgroup: wcmem-4241/u{u}
    memory.max: 1024.0 MB
  GC: collections=93, uncollectable=0
"""
END = """[2026-11-30T12:00:{s:02d}.{us:06d}] TEST_END: tests/test_big.py::test_case[{i}]
  Elapsed: {el:.1f}s
  /proc/4242/status:
    VmPeak: 236012 kB
    VmSize: 235452 kB
    VmHWM: 130320 kB
    VmRSS: 130320 kB
  Peak memory: {peak:.1f} MB
  Duration: 0.0s
  cgroup: wcmem-4241/u{u}
    memory.max: 1024.0 MB
    memory.peak: {peak:.1f} MB
    memory.current: {cur:.1f} MB
    memory.events (v1): failcnt=0 oom_kill=0
  Sandbox memory.current: {sand:.1f} MB
  GC: collections=93, uncollectable=0
  Open xarray datasets: {xr}
  Exit: code 0
"""


def write_log(path, tests, distinct=None):
    """A log of tests START/END pairs; with distinct, the names repeat after that many (a
    suite run again and again)."""
    with open(path, "w") as f:
        f.write("[2026-11-30T12:00:00.000000] SESSION_START: pytest\n  Elapsed: 0.0s\n"
                "  cgroup: wcmem-4241 (cgroup v1)\n    memory.max: 4096.0 MB\n")
        for i in range(tests):
            fields = dict(i=i % distinct if distinct else i, s=i % 60, us=i % 1000000, el=i * 0.01, line=10 + i % 500,
                          u=i + 2, peak=(i * 7919) % 900 / 3 + 0.3, cur=(i % 97) / 10,
                          sand=20 + i / 1000, xr=i // 1000)
            f.write(START.format(**fields))
            f.write(END.format(**fields))


def analyze(binary, path):
    """(seconds, peak RSS kB) of one run, its output thrown away. The peak RSS is the one
    that GNU time reports (Debian's `time`); a child's own rusage would start from the
    Python process it was spawned from. None when GNU time is not installed."""
    timed = os.path.exists("/usr/bin/time")
    argv = (["/usr/bin/time", "-f", "%M"] if timed else []) + [binary, "analyze", path]
    t0 = time.perf_counter()
    proc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"bench: analyze {path} failed ({proc.returncode}): {proc.stderr}")
    return elapsed, int(proc.stderr.split()[-1]) if timed else None


def main():
    binary = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "wcmem-sandbox")
    tests = int(sys.argv[2]) if len(sys.argv) > 2 else 100000
    with tempfile.TemporaryDirectory(prefix="wcmem-bench.") as tmp:
        for n in (tests // 10, tests):
            path = os.path.join(tmp, f"{n}.log")
            write_log(path, n)
            runs = [analyze(binary, path) for _ in range(3)]
            best = min(t for t, _ in runs)
            rss = runs[0][1] and f"{max(r for _, r in runs)} kB"
            size = os.path.getsize(path) / 1e6
            print(f"analyze: {n} tests ({size:.0f} MB of log) in {best:.3f} s (best of 3), "
                  f"peak RSS {rss or 'unknown (install GNU time)'}")
        html_figures(binary, tmp)


def html_figures(binary, tmp):
    """The page of 20,000 tests: its size, and Chromium's time to render it (best of 3)."""
    log, page = os.path.join(tmp, "20000.log"), os.path.join(tmp, "20000.html")
    write_log(log, 20000)
    subprocess.run([binary, "analyze", "--html", page, log], stdout=subprocess.DEVNULL,
                   check=True)
    size = os.path.getsize(page) / 1e6
    chromium = shutil.which("chromium")
    if not chromium:
        print(f"analyze --html: 20000 tests, {size:.2f} MB; render: skipped (no chromium)")
        return
    times = []
    for i in range(3):
        t0 = time.perf_counter()
        subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                        f"--user-data-dir={tmp}/profile{i}", "--window-size=1100,900",
                        f"--screenshot={tmp}/shot.png", f"file://{page}"],
                       capture_output=True, check=True)
        times.append(time.perf_counter() - t0)
    print(f"analyze --html: 20000 tests, {size:.2f} MB; Chromium starts, renders and "
          f"screenshots it in {min(times):.2f} s (best of 3)")


if __name__ == "__main__":
    main()
