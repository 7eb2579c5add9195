"""`wcmem-sandbox budget` on long logs, beside `analyze` on the same log: logs of 100,000 and
1,000,000 tests (bench_analyze.py's entries), then one of as many entries for 1,000 tests
run again and again (resumed runs). Prints each command's time (best of 3) and peak RSS,
and budget's time as a multiple of analyze's (the goal: at most 3x). budget keeps one
record per distinct test, so its memory follows the tests, not the entries: the last line
shows the same RSS for 1,000 tests whatever the number of entries.

    make bench            (or: /usr/bin/python3 tests/bench/bench_budget.py ./wcmem-sandbox [tests])
"""
import os
import subprocess
import sys
import tempfile
import time

from bench_analyze import write_log


def timed(argv):
    """(seconds, peak RSS kB or None) of one run (GNU time, as bench_analyze.py says)."""
    gnu_time = os.path.exists("/usr/bin/time")
    argv = (["/usr/bin/time", "-f", "%M"] if gnu_time else []) + argv
    t0 = time.perf_counter()
    proc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"bench: {' '.join(argv)} failed ({proc.returncode}): {proc.stderr}")
    return elapsed, int(proc.stderr.split()[-1]) if gnu_time else None


def best(argv):
    """(best seconds of 3, largest peak RSS as text)."""
    runs = [timed(argv) for _ in range(3)]
    rss = runs[0][1] and f"{max(r for _, r in runs)} kB"
    return min(t for t, _ in runs), rss or "unknown (install GNU time)"


def compare(binary, tmp, path, label):
    out = os.path.join(tmp, "budgets.ini")
    a, a_rss = best([binary, "analyze", path])
    b, b_rss = best([binary, "budget", "-o", out, path])
    size = os.path.getsize(path) / 1e6
    print(f"{label} ({size:.0f} MB of log): analyze {a:.3f} s, peak RSS {a_rss}; "
          f"budget {b:.3f} s ({b / a:.2f}x analyze), peak RSS {b_rss}")


def main():
    binary = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "wcmem-sandbox")
    tests = int(sys.argv[2]) if len(sys.argv) > 2 else 100000
    with tempfile.TemporaryDirectory(prefix="wcmem-bench.") as tmp:
        path = os.path.join(tmp, "log")
        for n in (tests, tests * 10):
            write_log(path, n)
            compare(binary, tmp, path, f"{n} tests")
        for n in (tests // 10, tests * 10):
            write_log(path, n, distinct=1000)
            compare(binary, tmp, path, f"{n} entries of 1000 tests")


if __name__ == "__main__":
    main()
