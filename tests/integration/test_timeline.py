"""The memory timeline (LOG.timeline): what the runner samples every --interval, kept, as
it goes, in a compact form (report/timeline.h, etc/analyze.md)."""
import os
import subprocess

from conftest import wait_for

PYTEST = ["/usr/bin/python3", "-m", "pytest", "-p", "no:cacheprovider", "-q"]
SUITES = os.path.join(os.path.dirname(__file__), "..", "suites")


def parse(path):
    """(header lines, samples): each sample (ms since the start, sandbox MB, {unit: MB})."""
    head, samples, names, t = [], [], [], 0
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("#"):
                head.append(line)
            elif line.startswith("@"):
                names = line.split()[1:]
            else:
                dt, sandbox, *units = line.split()
                assert len(units) == len(names), (line, names)
                t += int(dt)
                samples.append((t, float(sandbox), {
                    n: None if v == "?" else float(v) for n, v in zip(names, units)}))
    return head, samples


def test_samples_of_the_sandbox_and_the_unit_are_written_as_it_goes(sandbox):
    # 60 MB, then (once the test has seen them on disk) 120 MB for a while.
    code = ("import sys, time\na = bytearray(60 << 20)\nprint('ready', flush=True)\n"
            "sys.stdin.readline()\nb = bytearray(60 << 20)\ntime.sleep(0.6)\n")
    p = sandbox.start("-q", "--limit", "512M", "--interval", "50ms", "--",
                      *sandbox.python(code), stdin=subprocess.PIPE)
    timeline = sandbox.log + ".timeline"
    assert p.stdout.readline().strip() == "ready"
    # Written while the run goes on, not at its end: a crash keeps what was sampled.
    assert wait_for(lambda: os.path.exists(timeline) and
                    any(s[1] >= 55 for s in parse(timeline)[1]), timeout=60)
    assert p.poll() is None
    p.stdin.write("go\n")
    p.stdin.flush()  # communicate() closes it
    run = sandbox.finish(p, timeout=120)
    assert run.rc == 0, run.stderr
    head, samples = parse(timeline)
    assert head[0].startswith("# wcmem-sandbox timeline 1: ")
    assert "limit 512.0 MB interval 50 ms" in head[1]
    top = max(s[1] for s in samples)
    assert 115 <= top <= 160, samples
    # The unit (u1: the command) holds it all; the sandbox a little more at most.
    assert all(list(s[2]) == ["u1"] for s in samples), samples
    assert max(s[2]["u1"] for s in samples) >= 115
    # The unit is inside the sandbox. Its column and the sandbox's are two reads, not one:
    # what the test allocates between them (a slow host: a little) may show the unit a
    # little above, and memory freed between them (at the command's exit) far above, once.
    above = [s for s in samples
             if s[2]["u1"] is not None and s[2]["u1"] > s[1] + max(1.0, s[1] * 0.05)]
    assert len(above) <= 1, samples
    # Every interval, give or take a slow host: the 0.6 s at 120 MB holds several samples.
    assert len([s for s in samples if s[1] >= 115]) >= 4, samples
    assert samples[-1][0] >= 600


def test_each_test_unit_has_its_column(sandbox):
    run = sandbox.run("--limit", "1G", "--interval", "20ms", "--", *PYTEST,
                      os.path.join(SUITES, "keeps"), os.path.join(SUITES, "peaks"))
    assert run.rc == 0, run.stdout + run.stderr
    head, samples = parse(sandbox.log + ".timeline")
    units = {n for s in samples for n in s[2]}
    assert "u1" in units and len(units) >= 2, units  # the command, and tests' own units
    # No more than the command and one test at a time (no xdist here).
    assert all(len(s[2]) <= 2 for s in samples)


def test_no_log_no_timeline_and_append_keeps_sessions(sandbox, tmp_path):
    env = dict(sandbox.env, WEATHERCOP_DISABLE_DIAGNOSTICS="1")
    run = sandbox.run("-q", "--", "true", env=env)
    assert run.rc == 0
    assert not os.path.exists(sandbox.log + ".timeline")
    log = str(tmp_path / "x.log")
    for _ in range(2):
        code = "import time; time.sleep(0.3)"
        run = sandbox.run("-q", "--append", "--log", log, "--interval", "50ms", "--",
                          *sandbox.python(code))
        assert run.rc == 0, run.stderr
    head, samples = parse(log + ".timeline")
    assert len([h for h in head if h.startswith("# session ")]) == 2, head


def test_an_hour_at_100ms_stays_under_1mb(sandbox, tmp_path):
    # The size as written by the real runner for a few seconds of a pytest run, scaled to
    # an hour: bytes a sample times 36,000.
    run = sandbox.run("--limit", "1G", "--interval", "10ms", "--", *PYTEST,
                      os.path.join(SUITES, "keeps"), os.path.join(SUITES, "peaks"))
    assert run.rc == 0, run.stdout + run.stderr
    path = sandbox.log + ".timeline"
    head, samples = parse(path)
    per_sample = os.path.getsize(path) / len(samples)
    assert per_sample * 36000 < 1 << 20, (per_sample, len(samples))
