"""The overhead benchmark of one sandboxed command: wall time of `true` run bare and under
wcmem-sandbox, interleaved in the same run, and the runner's peak RSS (VmHWM, read while it
supervises a command that sleeps).

    make bench            (or: /usr/bin/python3 tests/bench/bench.py ./wcmem-sandbox [reps])
"""
import os
import statistics
import sys
import tempfile
import time


def run(argv, env):
    t0 = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, env)
    _, status = os.waitpid(pid, 0)
    elapsed = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"bench: {argv} failed with {status}")
    return elapsed


def runner_rss_kb(binary, env):
    """The runner's VmHWM while its command sleeps: what it costs to keep it around."""
    argv = [binary, "-q", "--limit", "1G", "--", "/bin/sleep", "0.5"]
    pid = os.posix_spawn(argv[0], argv, env)
    time.sleep(0.3)
    hwm = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                hwm = int(line.split()[1])
    os.waitpid(pid, 0)
    return hwm


def main():
    binary = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "wcmem-sandbox")
    reps = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    true = "/bin/true"
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, WEATHERCOP_DIR=tmp)
        cases = {
            "bare": [true],
            "sandbox": [binary, "-q", "--limit", "1G", "--", true],
            "sandbox, no log": [binary, "-q", "--limit", "1G", "--", true],
        }
        envs = {"bare": env, "sandbox": env,
                "sandbox, no log": dict(env, WEATHERCOP_DISABLE_DIAGNOSTICS="1")}
        times = {k: [] for k in cases}
        for _ in range(reps):  # interleaved: machine noise hits every case alike
            for name, argv in cases.items():
                times[name].append(run(argv, envs[name]))
        rss = runner_rss_kb(binary, env)
    base = statistics.median(times["bare"])
    print(f"wcmem-sandbox overhead, {reps} runs each, interleaved ({os.cpu_count()} cores)")
    print(f"{'case':<18}{'median ms':>10}{'p90 ms':>9}{'added ms':>10}")
    for name, ts in times.items():
        ts.sort()
        med, p90 = statistics.median(ts), ts[int(len(ts) * 0.9)]
        print(f"{name:<18}{med * 1e3:>10.2f}{p90 * 1e3:>9.2f}{(med - base) * 1e3:>10.2f}")
    print(f"runner peak RSS (VmHWM): {rss} kB")


if __name__ == "__main__":
    main()
