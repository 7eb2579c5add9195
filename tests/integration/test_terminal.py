"""What people read at a terminal: pytest's own summary shows memory (its "wcmem-sandbox:
memory" section, by -q/-v and --color, after a resume and under pytest-xdist), sizes in
MiB and GiB, `config` in columns, verdicts in colour at a terminal only, and one progress
line with the run's real time after a resume."""
import os
import pty
import re
import select
import subprocess
import time

import pytest

from conftest import BIN, Sandbox
from test_plugin import PYTEST, suite

LIMITS = ("--limit", "512M", "--test-limit", "256M")
EXAMPLE = os.path.join(os.path.dirname(__file__), "..", "..", "etc", "example")
LOUD = [w for w in PYTEST if w != "-q"]  # pytest at its default verbosity
SECTION = "wcmem-sandbox: memory"
SGR = re.compile(r"\x1b\[[0-9;]*m")


def section(stdout):
    """The lines of pytest's memory section, up to the next === line."""
    lines = stdout.splitlines()
    at = [i for i, line in enumerate(lines) if SECTION in line]
    assert len(at) == 1, stdout  # once: the controller's, not a worker's too
    end = next((i for i in range(at[0] + 1, len(lines)) if lines[i].startswith("===")),
               len(lines))
    return lines[at[0]], lines[at[0] + 1:end]


def example(sandbox, *pytest_args, env=None):
    return sandbox.run(*LIMITS, "--", *LOUD, *pytest_args, os.path.abspath(EXAMPLE),
                       env=env, timeout=300)


@pytest.fixture(scope="module")
def example_runs(tmp_path_factory):
    """The example suite (7 tests, the 4th OOM-killed, then resumed) at -qq, -q, the
    default and -v: the same run four times, shared by the tests below."""
    box = Sandbox(tmp_path_factory.mktemp("example"))
    return {v: example(box, *([v] if v else [])) for v in ("-qq", "-q", "", "-v")}


def test_pytest_shows_the_biggest_tests_and_the_killed_one(example_runs):
    run = example_runs[""]
    assert run.rc == 1, run.stdout + run.stderr
    head, lines = section(run.stdout)
    assert "the 5 biggest of 7 tests by peak" in head, head
    rows = [l for l in lines if not l.startswith("KILLED")]
    assert len(rows) == 5, lines
    assert re.fullmatch(r"256\.0 MiB  \S+::test_ensemble_blowup  OOM-killed", rows[0]), rows
    peaks = [float(r.split()[0]) * (1 if r.split()[1] == "MiB" else 1 / 1024) for r in rows]
    assert peaks == sorted(peaks, reverse=True), rows
    assert any(l.startswith("KILLED ") and "test_ensemble_blowup - OOM-killed: exceeded its "
               "own limit 256.0 MiB" in l for l in lines), lines
    # Said once: the runner's summary leaves the list to pytest's, and keeps its own lines.
    assert "biggest by peak in pytest's summary above" in run.stderr, run.stderr
    assert "the 7 biggest" not in run.stderr and "test_resampling" not in run.stderr
    assert "rerun alone:" in run.stderr and "sandbox peak" in run.stderr


def test_after_a_resume_every_test_is_in_it_with_the_runners_figures(example_runs):
    # -v: every test (7 of the 10 the runner keeps), the ones replayed after the kill
    # among them, each with its limit and verdict.
    run = example_runs["-v"]
    head, lines = section(run.stdout)
    assert "the 7 biggest of 7 tests by peak" in head, head
    rows = [l for l in lines if not l.startswith("KILLED")]
    names = {re.search(r"  (\S+::\S+)  ", r).group(1).rsplit("::", 1)[1] for r in rows}
    assert names == {"test_annual_cycle", "test_station_network[10]",
                     "test_station_network[200]", "test_ensemble_blowup",
                     "test_after_the_blowup_still_runs", "test_resampling",
                     "test_leaks_station_cache"}, rows
    assert all(re.search(r" of 256\.0 MiB  \S+  (passed|OOM-killed: .*)$", r) for r in rows), rows
    log_peaks = {e.name.rsplit("::", 1)[1]: e.value("Peak memory") for e in run.entries
                 if e.event == "TEST_END"}
    resampling = next(r for r in rows if "test_resampling" in r)
    assert resampling.lstrip().startswith(log_peaks["test_resampling"].replace("MB", "MiB")), \
        (resampling, log_peaks)


def test_quiet_shows_less_and_qq_only_the_killed(example_runs):
    head, lines = section(example_runs["-q"].stdout)
    assert "the 3 biggest of 7" in head and len(lines) == 4, lines  # 3 and the KILLED line
    head, lines = section(example_runs["-qq"].stdout)
    assert "biggest" not in head and len(lines) == 1 and lines[0].startswith("KILLED "), lines


def test_qq_shows_nothing_when_nothing_was_killed(sandbox):
    run = sandbox.run("--limit", "1G", "--", *PYTEST, "-q", suite("peaks"), timeout=300)
    assert run.rc == 0, run.stdout + run.stderr
    assert SECTION not in run.stdout, run.stdout
    # pytest showed nothing, so the runner's summary lists them itself
    assert "the 3 biggest of 3 tests by peak:" in run.stderr, run.stderr
    run = sandbox.run("--limit", "1G", "--", *LOUD, suite("peaks"), timeout=300)
    head, lines = section(run.stdout)
    assert "the 3 biggest of 3" in head and lines[0].endswith("test_holds[150]"), lines


def test_pytests_colour_setting_is_the_sections(sandbox):
    yes = example(sandbox, "--color=yes")
    _, lines = section(yes.stdout)
    killed = next(l for l in lines if "KILLED" in l)
    assert "\x1b[31m" in killed or "\x1b[1m\x1b[31m" in killed or "\x1b[31m\x1b[1m" in killed, \
        repr(killed)
    no = example(sandbox, "--color=no")
    assert "\x1b[" not in no.stdout, no.stdout


def test_under_xdist_the_controller_shows_the_workers_tests(sandbox):
    run = sandbox.run("--limit", "1G", "--", *LOUD, "-n", "2", suite("peaks"), timeout=300)
    assert run.rc == 0, run.stdout + run.stderr
    _, lines = section(run.stdout)
    peaks = {l.split("::")[-1]: float(l.split()[0]) for l in lines}
    assert set(peaks) == {"test_holds[60]", "test_holds[100]", "test_holds[150]"}, lines
    for name, mb in (("test_holds[60]", 60), ("test_holds[100]", 100), ("test_holds[150]", 150)):
        assert mb <= peaks[name] < mb + 40, (name, lines)


def test_a_command_that_is_not_pytest_keeps_the_runners_table(sandbox):
    run = sandbox.run("--limit", "256M", "--", "sh", "-c",
                      f"{BIN} --name a -- true; {BIN} --name b -- true")
    assert run.rc == 0, run.stderr
    assert "biggest by peak in pytest's summary" not in run.stderr
    assert re.search(r"^  a +peak +[\d.]+ [KM]iB  limit 256\.0 MiB  exited 0$", run.stderr, re.M), \
        run.stderr


# -- sizes for people, the log's as they were -----------------------------------------------

def test_people_read_mib_and_gib_the_log_keeps_mb(sandbox):
    run = sandbox.run("--limit", "1536M", "--", "true")
    assert run.rc == 0, run.stderr
    assert "sandbox peak" in run.stderr and " of 1.5 GiB (cgroup" in run.stderr, run.stderr
    assert " MB" not in run.stderr, run.stderr
    assert run.entry("SESSION_START").value("memory.max") == "1536.0 MB"  # read by tools


def test_config_is_in_columns_with_readable_sizes(sandbox):
    shown = sandbox.run("config", "--limit", "50%")
    assert shown.rc == 0, shown.stderr
    settings = [l for l in shown.stdout.splitlines() if re.match(r"^[a-z_]+ +=", l)]
    limit = next(l for l in settings if l.startswith("limit "))
    assert re.match(r"^limit +=  ?\d+\.\d GiB +; command line \(\d+ bytes\)$", limit), limit
    assert len({l.index(" = ") for l in settings}) == 1, settings
    short = [l for l in settings if len(l.split(" = ")[1].split(" ;")[0].strip()) <= 24]
    assert len({l.index(" ; ") for l in short}) == 1, short
    whole = sandbox.run("config", "--limit", "4G")
    assert re.search(r"^limit +=  ?4G +; command line$", whole.stdout, re.M), whole.stdout


# -- colour on a terminal only -------------------------------------------------------------

def on_a_terminal(sandbox, *args, env=None, timeout=120):
    """Runs the runner with its stdout and stderr on a pty; returns what the terminal got."""
    master, slave = pty.openpty()
    p = subprocess.Popen(sandbox.cmd(*args), env=env or sandbox.env, stdin=subprocess.DEVNULL,
                         stdout=slave, stderr=slave, **sandbox._kw({}))
    sandbox.runners.append(p.pid)
    os.close(slave)
    out, deadline = b"", time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1)
            if not ready:
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: every writer has closed the terminal
                break
            if not chunk:
                break
            out += chunk
    finally:
        os.close(master)
        p.wait(timeout=30)
    return out.decode("utf-8", "replace")


def test_verdicts_in_colour_at_a_terminal_not_with_no_color_or_piped(sandbox):
    args = ("--limit", "64M", "--", "python3", "-c", "b = bytearray(1 << 30)")
    env = {k: v for k, v in sandbox.env.items() if k != "NO_COLOR"}
    tty = on_a_terminal(sandbox, *args, env=env)
    assert "\x1b[1;31mOOM-killed: exceeded its own limit 64.0 MiB\x1b[0m" in tty, repr(tty)
    plain = on_a_terminal(sandbox, *args, env=dict(env, NO_COLOR="1"))
    assert "OOM-killed: exceeded its own limit 64.0 MiB" in plain and "\x1b[" not in plain, \
        repr(plain)
    piped = sandbox.run(*args, env=env)
    assert "OOM-killed" in piped.stderr and "\x1b[" not in piped.stderr, repr(piped.stderr)
    ok = on_a_terminal(sandbox, "--limit", "64M", "--", "true", env=env)
    assert "\x1b[32mexited 0\x1b[0m" in ok, repr(ok)


# -- one progress line, the run's time -----------------------------------------------------

def test_after_a_restart_one_progress_line_and_the_runs_time(sandbox):
    # The copy standing by is gone: pytest starts again after the kill. The terminal shows
    # one header and one progress line; pytest's total time is the run's, resume and all.
    run = sandbox.run("--limit", "1G", "--test-limit", "64M", "--", *LOUD,
                      suite("standby_gone"), timeout=300)
    assert run.rc == 1, run.stdout + run.stderr
    assert run.stdout.count("test session starts") == 1, run.stdout
    progress = [l for l in run.stdout.splitlines() if "test_standby_gone.py " in l]
    assert len(progress) == 1 and re.match(r"^\S+test_standby_gone\.py \.\.F\. +\[100%\]$",
                                           progress[0]), run.stdout
    took = float(re.search(r"resuming took ([\d.]+) s", run.stderr).group(1))
    total = float(re.search(r" in ([\d.]+)s", run.stdout.splitlines()[-1]).group(1))
    assert total >= took, (total, took, run.stdout)


def test_after_a_wake_one_progress_line(sandbox):
    run = example(sandbox)
    progress = [l for l in run.stdout.splitlines() if "test_weather.py " in l]
    assert len(progress) == 1 and re.search(r"test_weather\.py \.\.\.F\.\.\. +\[100%\]$",
                                            progress[0]), run.stdout
    assert "1 by the collected copy" in run.stderr, run.stderr
