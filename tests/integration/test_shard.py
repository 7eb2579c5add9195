"""Shards: N runs with --shard I/N execute every collected test exactly once, through OOM
kills and resumes and under pytest-xdist; the engine's index (Slurm, Kubernetes, GitLab)
is taken without typing it; a bad shard is refused with the value and where it came from."""
import os
import subprocess

import pytest

import memlog
from conftest import BIN  # noqa: F401  (the binary under test)
from test_plugin import PYTEST, suite, units_of

XDIST = ["-p", "xdist", "-n", "2"]


def collected(path):
    """The node ids pytest collects from path, unsharded (collection allocates nothing)."""
    out = subprocess.run([*PYTEST, "--collect-only", path], capture_output=True, text=True,
                         check=True, cwd=os.path.dirname(path)).stdout
    return sorted(line for line in out.splitlines() if "::" in line)


def env_without_engines(sandbox, **extra):
    env = {k: v for k, v in sandbox.env.items() if not k.startswith(
        ("SLURM_", "JOB_COMPLETION_INDEX", "CI_NODE_", "WCMEM_SANDBOX_SHARD"))}
    env.update(extra)
    return env


def ran(run):
    """The tests a run ended (TEST_END of kind test), each name as often as it ended."""
    return [e.name for e in run.entries if e.event == "TEST_END" and e.name in units_of(run)]


def test_three_shards_run_every_test_once_through_oom_kills(sandbox, tmp_path):
    # Ten hogs among fifty tests: each shard's pytest is killed and resumed, and the resumed
    # pytest keeps its shard, or a test would run in two shards, or in none.
    path = suite("hogs/test_hogs.py")
    everything = collected(path)
    assert len(everything) == 50
    seen = []
    for i in (1, 2, 3):
        run, _ = shard_run(sandbox, tmp_path, i, 3, path)
        assert run.rc == 1, run.stdout + run.stderr
        names = ran(run)
        assert 0 < len(names) < 50, names
        assert f"wcmem-sandbox: shard {i}/3: {len(names)} of 50 collected tests" in \
            run.stdout, run.stdout
        assert f"wcmem-sandbox: shard {i}/3 (--shard)" in run.stderr, run.stderr
        assert f"  Shard: {i}/3 (--shard)" in run.log_text
        seen += names
    assert sorted(seen) == everything


def test_shards_agree_under_xdist(sandbox, tmp_path):
    # Every worker selects the same share, so xdist's check that workers collect alike
    # holds, and the controller's summary counts what its workers selected.
    pytest.importorskip("xdist")
    path = suite("many/test_many.py")
    everything = collected(path)
    seen = []
    for i in (1, 2):
        run, _ = shard_run(sandbox, tmp_path, i, 2, path, *XDIST, limit="128M")
        assert run.rc == 0, run.stdout + run.stderr
        names = ran(run)
        assert f"wcmem-sandbox: shard {i}/2: {len(names)} of {len(everything)} collected" \
            in run.stdout, run.stdout
        seen += names
    assert sorted(seen) == everything


def test_a_history_balances_the_shards_by_duration(sandbox, tmp_path):
    # An earlier log says one test took 10 s and the others 1 s: longest first, the long
    # one has a shard to itself and the others share the other two, the same every time.
    path = suite("many/test_many.py")
    everything = collected(path)
    history = tmp_path / "history.log"
    entries = []
    for n, nodeid in enumerate(everything):
        seconds = 10.0 if n == 0 else 1.0
        entries.append(f"[2026-12-01T10:00:00.000000] TEST_END: {nodeid}\n"
                       f"  Elapsed: 1.0s\n  Peak memory: 3.0 MB\n  Duration: {seconds}s\n")
    history.write_text("".join(entries))
    counts = []
    for i in (1, 2, 3):
        run, _ = shard_run(sandbox, tmp_path, i, 3, path, "--shard-log", str(history),
                           limit="128M")
        assert run.rc == 0, run.stdout + run.stderr
        names = ran(run)
        counts.append(len(names))
        if everything[0] in names:
            assert names == [everything[0]], names
        assert "durations of" in run.stdout and f"({len(everything)} of " in run.stdout
    assert sorted(counts) == [1, 7, 8], counts


def shard_run(sandbox, tmp_path, index, count, path, *extra, limit="64M", env=None):
    """Runs pytest on path as shard index/count, logging to shard-INDEX.log; --shard-log
    and its value among extra are ours, the rest pytest's. Returns the run and the log."""
    ours = [a for a in extra if a.startswith("--shard-log")] + \
        [extra[i + 1] for i, a in enumerate(extra) if a == "--shard-log"]
    theirs = [a for a in extra if a not in ours]
    log = str(tmp_path / f"shard-{index}.log")
    run = sandbox.run("--limit", "1G", "--test-limit", limit, "--log", log, "--shard",
                      f"{index}/{count}", *ours, "--", *PYTEST, *theirs, path,
                      env=env or env_without_engines(sandbox), cwd=os.path.dirname(path),
                      timeout=600)
    with open(log) as f:
        run.log_text = f.read()
    run.entries = memlog.parse(run.log_text)
    return run, log


@pytest.mark.parametrize("value, says", [
    ("3/2", "out of range: '3/2'"), ("0/3", "out of range: '0/3'"),
    ("a/b", "invalid value 'a/b'"), ("2", "invalid value '2'")])
def test_a_bad_shard_is_refused_with_its_value(sandbox, value, says):
    run = sandbox.run("--shard", value, "--", "true", env=env_without_engines(sandbox))
    assert run.rc == 125
    assert f"wcmem-sandbox: --shard: {says}" in run.stderr, run.stderr
    assert run.log_text is None  # refused before anything ran


def test_a_bad_shard_in_a_profile_names_its_file_and_line(sandbox, tmp_path):
    ini = tmp_path / "wcmem-sandbox.ini"
    ini.write_text("[profile ci]\nlimit = 1G\nshard = 4/3\n")
    run = sandbox.run("--config", str(ini), "--profile", "ci", "--", "true",
                      env=env_without_engines(sandbox))
    assert run.rc == 125
    assert f"{ini}:3: shard: out of range: '4/3'" in run.stderr, run.stderr


@pytest.mark.parametrize("variables, shard, origin", [
    ({"SLURM_ARRAY_TASK_ID": "7", "SLURM_ARRAY_TASK_COUNT": "3", "SLURM_ARRAY_TASK_MIN": "5",
      "SLURM_ARRAY_TASK_STEP": "1"}, "3/3", "SLURM_ARRAY_TASK_ID=7 of SLURM_ARRAY_TASK_COUNT=3"),
    ({"JOB_COMPLETION_INDEX": "0", "WCMEM_SANDBOX_SHARD_COUNT": "2"}, "1/2",
     "JOB_COMPLETION_INDEX=0 of 2"),
    ({"CI_NODE_INDEX": "2", "CI_NODE_TOTAL": "4"}, "2/4", "CI_NODE_INDEX=2 of CI_NODE_TOTAL=4"),
])
def test_auto_takes_the_engines_index_and_says_which(sandbox, tmp_path, variables, shard,
                                                     origin):
    path = suite("many/test_many.py")
    env = env_without_engines(sandbox, **variables)
    log = str(tmp_path / "auto.log")
    run = sandbox.run("--limit", "1G", "--log", log, "--shard", "auto", "--", *PYTEST, path,
                      env=env, cwd=os.path.dirname(path))
    assert run.rc == 0, run.stdout + run.stderr
    assert f"wcmem-sandbox: shard {shard} ({origin}" in run.stderr, run.stderr
    assert f"wcmem-sandbox: shard {shard} ({origin}" in run.stdout, run.stdout


@pytest.mark.parametrize("variables, says", [
    ({}, "no engine's index is set"),
    ({"SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_COUNT": "3"}, "gives shard 4/3"),
    ({"JOB_COMPLETION_INDEX": "1"}, "the count of shards is not known"),
    ({"CI_NODE_INDEX": "x", "CI_NODE_TOTAL": "3"}, "CI_NODE_INDEX=x is not a number"),
])
def test_auto_without_a_usable_index_is_refused(sandbox, variables, says):
    run = sandbox.run("--shard", "auto", "--", "true",
                      env=env_without_engines(sandbox, **variables))
    assert run.rc == 125
    assert says in run.stderr, run.stderr
    assert run.log_text is None
