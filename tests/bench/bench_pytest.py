"""The per-test overhead benchmark: 2,000 trivial tests under plain pytest, under
wcmem-sandbox with a unit per test, with each test alone in a fork of the collected pytest
(WCMEM_SANDBOX_MEASURE=1), under wcmem-sandbox with --no-plugin (one unit for the run), and
under pytest --forked; and allocation-heavy tests plain vs per-test units.
Interleaved in the same run, so machine noise hits every case alike.

Beside them, the floor of an isolated, logged test on this machine's own cgroups: mkdir a
cgroup, move a process into it (one migration), rmdir the one before, write a small entry
and fdatasync it. The unit per test's added cost is shown against it. And what one
migration costs back to back (as in the floor, and between trivial tests) and 100 ms after
the last one (as between allocation-heavy tests): then it waits for an RCU grace period.

    make bench    (or: /usr/bin/python3 tests/bench/bench_pytest.py ./wcmem-sandbox [reps] [tests])
"""
import importlib.util
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

SETTLE = 1.0  # seconds after each case, for the kernel's background work to end

PYTEST = ["/usr/bin/python3", "-m", "pytest", "-q", "-p", "no:cacheprovider"]


def write_suites(tmp, ntests):
    trivial = os.path.join(tmp, "test_trivial.py")
    with open(trivial, "w") as f:
        f.write("import pytest\n\n\n@pytest.mark.parametrize('i', range(%d))\n"
                "def test_trivial(i):\n    assert i >= 0\n" % ntests)
    heavy = os.path.join(tmp, "test_heavy.py")
    with open(heavy, "w") as f:
        f.write("import pytest\n\n\n@pytest.mark.parametrize('i', range(20))\n"
                "def test_heavy(i):\n    b = bytearray(200 << 20)\n"
                "    for j in range(0, len(b), 1 << 16):\n        b[j] = 1\n")
    return trivial, heavy


def own_memory_cgroup():
    """This process's memory cgroup directory (v1 memory controller, else v2)."""
    with open("/proc/self/cgroup") as f:
        lines = [line.rstrip("\n").split(":", 2) for line in f]
    for _, ctrls, path in lines:
        if "memory" in ctrls.split(","):
            return "/sys/fs/cgroup/memory" + path
    return "/sys/fs/cgroup" + next(path for hid, _, path in lines if hid == "0")


def floor_ms(tmp, n=2000):
    """Per test: mkdir a cgroup, one migration into it, rmdir the last one, one small write
    and fdatasync. All of it made below our own cgroup and removed after."""
    parent = os.path.join(own_memory_cgroup(), f"wcmem-floor-{os.getpid()}")
    os.mkdir(parent)
    helper = subprocess.Popen(["/bin/sleep", "600"])
    log = os.open(os.path.join(tmp, "floor.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    entry = b"2026-01-01 00:00:00.000000 TEST_END t.py::test_trivial[0]\n  Peak: 1 MB\n" * 3
    made = []
    try:
        t0 = time.perf_counter()
        for i in range(n):
            made.append(os.path.join(parent, f"u{i}"))
            os.mkdir(made[-1])
            with open(os.path.join(made[-1], "cgroup.procs"), "w") as f:
                f.write(str(helper.pid))
            if len(made) > 1:
                os.rmdir(made.pop(0))
            os.write(log, entry)
            os.fdatasync(log)
        return (time.perf_counter() - t0) * 1e3 / n
    finally:
        helper.kill()
        helper.wait()
        os.close(log)
        for d in made + [parent]:
            for _ in range(100):  # a killed process leaves its cgroup a moment later
                try:
                    os.rmdir(d)
                    break
                except OSError:
                    time.sleep(0.01)


def migration_ms(gap, n=10):
    """The median time of one migration (a write to cgroup.procs) made gap seconds after
    the last one. Back to back they are cheap; after a pause each waits for an RCU grace
    period (the kernel's cgroup_threadgroup_rwsem), as a test does that starts long after
    the one before ended."""
    parent = os.path.join(own_memory_cgroup(), f"wcmem-migrate-{os.getpid()}")
    dirs = [os.path.join(parent, name) for name in ("a", "b")]
    for d in [parent] + dirs:
        os.mkdir(d)
    helper = subprocess.Popen(["/bin/sleep", "600"])
    took = []
    try:
        for i in range(n):
            time.sleep(gap)
            with open(os.path.join(dirs[i % 2], "cgroup.procs"), "w") as f:
                t0 = time.perf_counter()
                f.write(str(helper.pid))
                f.flush()
                took.append((time.perf_counter() - t0) * 1e3)
        return statistics.median(took)
    finally:
        helper.kill()
        helper.wait()
        for d in dirs + [parent]:
            for _ in range(100):
                try:
                    os.rmdir(d)
                    break
                except OSError:
                    time.sleep(0.01)


def wake_us(same_cpu, n=3000):
    """A socketpair's round trip between two processes, in microseconds: what waking the
    runner and being woken by it costs a test that waits for START's answer (the first, one
    with markers), across two cores or on one."""
    a, b = socket.socketpair()
    cpus = sorted(os.sched_getaffinity(0))
    pid = os.fork()
    if pid == 0:
        a.close()
        if same_cpu:
            os.sched_setaffinity(0, cpus[:1])
        while b.recv(1):
            b.send(b"x")
        os._exit(0)
    b.close()
    mask = os.sched_getaffinity(0)
    try:
        if same_cpu:
            os.sched_setaffinity(0, cpus[:1])
        t0 = time.perf_counter()
        for _ in range(n):
            a.send(b"p")
            a.recv(1)
        return (time.perf_counter() - t0) * 1e6 / n
    finally:
        os.sched_setaffinity(0, mask)
        a.close()
        os.waitpid(pid, 0)


def runner_hwm_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def timed(argv, env, watch_runner=False):
    """Wall seconds, and the runner's peak RSS in kB (sampled while it runs)."""
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    hwm = 0
    while watch_runner and p.poll() is None:
        hwm = max(hwm, runner_hwm_kb(p.pid))
        time.sleep(0.02)
    _, err = p.communicate()
    elapsed = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"bench: {' '.join(argv)} exited {p.returncode}:\n{err.decode()}")
    return elapsed, hwm


def main():
    binary = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "wcmem-sandbox")
    reps = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    ntests = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
    forked = importlib.util.find_spec("pytest_forked") is not None
    with tempfile.TemporaryDirectory() as tmp:
        trivial, heavy = write_suites(tmp, ntests)
        env = dict(os.environ, WEATHERCOP_DIR=tmp)
        sandbox = [binary, "-q", "--limit", "4G", "--test-limit", "1G", "--"]
        cases = {
            "plain pytest": (PYTEST + [trivial], False),
            "wcmem-sandbox, unit per test": (sandbox + PYTEST + [trivial], True),
            "wcmem-sandbox --no-plugin": ([binary, "-q", "--limit", "4G", "--no-plugin", "--"]
                                          + PYTEST + [trivial], True),
        }
        # Each test in a fork of the collected pytest, for budgets that fit any order.
        cases["wcmem-sandbox, each test alone"] = (
            ["/usr/bin/env", "WCMEM_SANDBOX_MEASURE=1"] + sandbox + PYTEST + [trivial], True)
        if forked:
            cases["pytest --forked"] = (PYTEST + ["-p", "pytest_forked", "--forked", trivial],
                                        False)
        heavy_cases = {
            "plain pytest, 20 x 200 MB": (PYTEST + [heavy], False),
            "wcmem-sandbox, 20 x 200 MB": (sandbox + PYTEST + [heavy], True),
        }
        times = {k: [] for k in {**cases, **heavy_cases}}
        floors, warm, cold, across, one = [], [], [], [], []
        hwm = 0
        everything = list({**cases, **heavy_cases}.items())
        for rep in range(reps):
            # Each rep in another order, and a pause after anything that removed thousands
            # of cgroups: the kernel frees them in the background for a while after, and
            # whichever case came next paid for it (plain pytest, first in every rep, came
            # out slower than the sandbox without its plugin).
            for name, (argv, watch) in everything[rep:] + everything[:rep]:
                t, h = timed(argv, env, watch)
                times[name].append(t)
                hwm = max(hwm, h)
                time.sleep(SETTLE)
            floors.append(floor_ms(tmp, ntests))
            time.sleep(SETTLE)
            warm.append(migration_ms(0))
            cold.append(migration_ms(0.1))
            across.append(wake_us(False))
            one.append(wake_us(True))

    plain = statistics.median(times["plain pytest"])
    print(f"per-test overhead: {ntests} trivial tests, median of {reps} interleaved runs "
          f"({os.cpu_count()} cores)")
    print(f"  {'case':<32}{'wall s':>8}{'added ms/test':>15}")
    for name in cases:
        med = statistics.median(times[name])
        print(f"  {name:<32}{med:>8.2f}{(med - plain) * 1e3 / ntests:>15.3f}")
    floor = statistics.median(floors)
    unit = (statistics.median(times["wcmem-sandbox, unit per test"]) - plain) * 1e3 / ntests
    # Each run's own ratio too: a run's three cases saw the same load, medians of each
    # case may come from different moments.
    paired = statistics.median(
        (u - p) * 1e3 / ntests / f
        for u, p, f in zip(times["wcmem-sandbox, unit per test"], times["plain pytest"], floors))
    print(f"  floor of an isolated, logged test (mkdir, 1 migration, rmdir, write+fdatasync): "
          f"{floor:.3f} ms; a unit per test adds {unit / floor:.2f}x the floor "
          f"(run by run: {paired:.2f}x)")
    hp = statistics.median(times["plain pytest, 20 x 200 MB"])
    hs = statistics.median(times["wcmem-sandbox, 20 x 200 MB"])
    print("allocation-heavy tests:")
    print(f"  plain {hp:.2f} s, wcmem-sandbox {hs:.2f} s: {hs / hp:.3f}x")
    print(f"  one migration: {statistics.median(warm):.3f} ms back to back, "
          f"{statistics.median(cold):.3f} ms 100 ms after the last (an RCU grace period, "
          f"paid by each test that starts long after the one before)")
    print(f"a round trip between two processes (a test that waits for START's answer pays "
          f"it beside the runner's work): {statistics.median(across):.0f} us across cores, "
          f"{statistics.median(one):.0f} us on one")
    print(f"runner peak RSS: {hwm} kB")


if __name__ == "__main__":
    main()
