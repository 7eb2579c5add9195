"""Shards: N runs with --shard I/N execute every collected test exactly once, through OOM
kills and resumes and under pytest-xdist; the engine's index (Slurm, Kubernetes, GitLab)
is taken without typing it; a bad shard is refused with the value and where it came from."""
import json
import os
import subprocess
import xml.etree.ElementTree as ET

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
    seen, logs = [], []
    for i in (1, 2, 3):
        run, log = shard_run(sandbox, tmp_path, i, 3, path)
        logs.append(log)
        assert run.rc == 1, run.stdout + run.stderr
        names = ran(run)
        assert 0 < len(names) < 50, names
        assert f"wcmem-sandbox: shard {i}/3: {len(names)} of 50 collected tests" in \
            run.stdout, run.stdout
        assert f"wcmem-sandbox: shard {i}/3 (--shard)" in run.stderr, run.stderr
        assert f"  Shard: {i}/3 (--shard)" in run.log_text
        seen += names
    assert sorted(seen) == everything
    # analyze reads the three logs as the one run they are: 50 tests, the 10 kills.
    answer = subprocess.run([BIN, "analyze", *logs], capture_output=True, text=True)
    assert answer.returncode == 0, answer.stdout + answer.stderr
    assert "3 logs, 3 sessions, 50 tests" in answer.stdout, answer.stdout
    assert "one run in 3 shards: 3 of them read\n" in answer.stdout, answer.stdout
    assert "ran in shard" not in answer.stdout
    assert "== OOM-killed: 10\n" in answer.stdout, answer.stdout
    # merge makes one report of the three, JSON and JUnit (ours and pytest's): every test once.
    merged = tmp_path / "merged.json"
    run = subprocess.run([BIN, "merge", "-o", str(merged),
                          *(str(tmp_path / f"shard-{i}.json") for i in (1, 2, 3))],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "one run in 3 shards: 3 of them read" in run.stderr, run.stderr
    report = json.loads(merged.read_text())
    assert report["schema"] == "wcmem-sandbox-merged/1"
    assert [s["shard"] for s in report["sessions"]] == ["1/3", "2/3", "3/3"]
    tests = [u["name"] for u in report["units"] if u["kind"] == "test"]
    assert sorted(tests) == everything
    assert sum(1 for u in report["units"] if u["oom"]) == 10
    for flavour in ("shard", "pytest"):
        xml = subprocess.run([BIN, "merge", *(str(tmp_path / f"{flavour}-{i}.xml")
                                              for i in (1, 2, 3))],
                             capture_output=True, text=True)
        assert xml.returncode == 0, xml.stderr
        root = ET.fromstring(xml.stdout)
        cases = [c for c in root.iter("testcase") if c.get("classname") != "command"]
        assert len(cases) == 50, (flavour, len(cases))
        assert root.get("tests") == str(sum(len(s.findall("testcase"))
                                            for s in root.iter("testsuite")))
        assert int(root.get("failures")) >= 10


def test_a_test_in_two_shards_is_an_error_naming_it(sandbox, tmp_path):
    # Shard 1/2 split by the ids' hash, shard 2/2 by durations: the two splits differ, so
    # some test ran in both; analyze names it, and fails.
    path = suite("many/test_many.py")
    everything = collected(path)
    history = tmp_path / "history.log"
    history.write_text("".join(
        f"[2026-12-01T10:00:00.000000] TEST_END: {nodeid}\n  Duration: {n + 1}.0s\n"
        for n, nodeid in enumerate(everything)))
    first, log1 = shard_run(sandbox, tmp_path, 1, 2, path, limit="128M")
    second, log2 = shard_run(sandbox, tmp_path, 2, 2, path, "--shard-log", str(history),
                             limit="128M")
    both = set(ran(first)) & set(ran(second))
    assert both, (ran(first), ran(second))
    answer = subprocess.run([BIN, "analyze", log1, log2], capture_output=True, text=True)
    assert answer.returncode == 1, answer.stdout + answer.stderr
    for name in both:
        assert f"error: {name} ran in shard 1/2 and again in shard 2/2" in answer.stdout, \
            answer.stdout
    budget = subprocess.run([BIN, "budget", "-o", str(tmp_path / "b.ini"), log1, log2],
                            capture_output=True, text=True)
    assert budget.returncode == 1, budget.stdout + budget.stderr
    for name in both:
        assert f"error: {name} ran in shard 1/2 and again in shard 2/2" in budget.stderr
        missing = subprocess.run([BIN, "analyze", log1], capture_output=True, text=True)
    assert missing.returncode == 0
    assert "one run in 2 shards: 1 of them read" in missing.stdout
    assert "shard 2/2: not among those read" in missing.stdout


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
    reports = ["--json", str(tmp_path / f"shard-{index}.json"), "--junit-xml",
               str(tmp_path / f"shard-{index}.xml")]
    theirs = [f"--junitxml={tmp_path / f'pytest-{index}.xml'}", *theirs]
    run = sandbox.run("--limit", "1G", "--test-limit", limit, "--log", log, "--shard",
                      f"{index}/{count}", *reports, *ours, "--", *PYTEST, *theirs, path,
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


def merge(tmp_path, name, text, *more):
    path = tmp_path / name
    path.write_text(text)
    return subprocess.run([BIN, "merge", str(path), *more], capture_output=True, text=True)


REPORT = ('{"schema": "wcmem-sandbox-report/1", "session": {"shard": "1/2"}, "units": '
          '[{"name": "t.py::a", "kind": "test"}]}')


@pytest.mark.parametrize("name, text, says", [
    ("doctype.xml", '<?xml version="1.0"?>\n<!DOCTYPE t [<!ENTITY a "aaaa">]>\n<testsuites/>',
     "doctype.xml:2:"),
    ("laughs.xml", "<testsuites>" + "<a>" * 100 + "</a>" * 100 + "</testsuites>",
     "elements nested too deep"),
    ("other.xml", "<html/>", "the root is neither <testsuites> nor <testsuite>"),
    ("count.xml", '<testsuite tests="-1"/>', "count or time that is not a number"),
    ("torn.xml", "<testsuites><testsuite>", "torn.xml:1:"),
    ("deep.json", '{"a":' * 1000, "nested more than 64 deep"),
    ("schema.json", '{"schema": "other/1", "session": {}, "units": []}',
     "not a report of schema wcmem-sandbox-report/1"),
    ("ctrl.json", '{"schema": "wcmem-sandbox-report/1\x01"}', "a control character"),
    ("tail.json", REPORT + "{}", "more after the report's object"),
    ("text.txt", "hello", "neither a JSON report nor a JUnit XML file"),
])
def test_merge_refuses_what_is_no_report(tmp_path, name, text, says):
    run = merge(tmp_path, name, text)
    assert run.returncode == 125, run.stdout + run.stderr
    assert says in run.stderr, run.stderr
    assert run.stdout == ""  # nothing written before every input was checked


def test_merge_refuses_a_pipe_and_mixed_kinds(tmp_path):
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    run = subprocess.run([BIN, "merge", str(fifo)], capture_output=True, text=True,
                         timeout=30)
    assert run.returncode == 125 and "regular file" in run.stderr, run.stderr
    (tmp_path / "a.xml").write_text("<testsuites/>")
    run = merge(tmp_path, "a.json", REPORT, str(tmp_path / "a.xml"))
    assert run.returncode == 125 and "merge reports of one kind" in run.stderr, run.stderr


def test_merge_names_a_test_in_two_reports(tmp_path):
    (tmp_path / "b.json").write_text(REPORT.replace("1/2", "2/2"))
    run = merge(tmp_path, "a.json", REPORT, str(tmp_path / "b.json"))
    assert run.returncode == 1, run.stderr
    assert f"{tmp_path / 'b.json'}: error: t.py::a is in {tmp_path / 'a.json'} too" in \
        run.stderr, run.stderr
    assert len(json.loads(run.stdout)["units"]) == 2  # written all the same


def test_a_shard_the_hash_gives_no_test_passes(sandbox, tmp_path):
    # One test, two shards: one of them runs nothing, which is its whole share: exit 0, not
    # pytest's "no tests collected" (5), and it says 0 of 1.
    path = tmp_path / "test_one.py"
    path.write_text("def test_one():\n    pass\n")
    outcomes = []
    for i in (1, 2):
        run, _ = shard_run(sandbox, tmp_path, i, 2, str(path), limit="128M")
        assert run.rc == 0, run.stdout + run.stderr
        outcomes.append(len(ran(run)))
        assert f"wcmem-sandbox: shard {i}/2: {outcomes[-1]} of 1 collected tests" in run.stdout
    assert sorted(outcomes) == [0, 1]


def plugin_shard_module():
    import importlib
    import sys
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "runner", "pytest"))
    return importlib.import_module("wcmem_pytest.shard")


def test_balance_keeps_a_shards_estimated_peak_under_the_limit():
    # Two workers a shard, a 1 GiB limit. Longest first: a to shard 0, b and c to shard 1
    # (less time so far). d would go to shard 0, the one with less time, but a (600 MB) and
    # d (500 MB) at once pass the limit there; shard 1's two largest with d are 500 + 500:
    # d goes there. Without a limit, it goes to shard 0. The same input, the same split.
    shard = plugin_shard_module()
    mib = 1 << 20
    durations = {"a": 10.0, "b": 9.0, "c": 2.0, "d": 1.0}
    peaks = {"a": 600 * mib, "b": 100 * mib, "c": 500 * mib, "d": 500 * mib}
    ids = sorted(durations)
    assert shard.balance(ids, 2, durations, peaks, None, 2) == \
        {"a": 0, "b": 1, "c": 1, "d": 0}
    assert shard.balance(ids, 2, durations, peaks, 1 << 30, 2) == \
        {"a": 0, "b": 1, "c": 1, "d": 1}
    # One worker: one test at a time, each under the limit anywhere: time alone decides.
    assert shard.balance(ids, 2, durations, peaks, 1 << 30, 1) == \
        {"a": 0, "b": 1, "c": 1, "d": 0}
    # Where no shard has room, the least time wins.
    assert shard.balance(ids, 2, durations, {**peaks, "d": 900 * mib}, 1 << 30, 2)["d"] == 0
    assert shard.balance(list(reversed(ids)), 2, durations, peaks, 1 << 30, 2) == \
        shard.balance(ids, 2, durations, peaks, 1 << 30, 2)


def test_the_hash_is_the_same_in_every_process():
    # sha256, not Python's per-process salted hash(): a fixed answer for a fixed id.
    shard = plugin_shard_module()
    assert [shard.stable_bucket(f"t.py::test[{n}]", 3) for n in range(6)] == \
        [shard.stable_bucket(f"t.py::test[{n}]", 3) for n in range(6)]
    code = ("import sys; sys.path.insert(0, sys.argv[1]); "
            "from wcmem_pytest.shard import stable_bucket; "
            "print([stable_bucket(f't.py::test[{n}]', 3) for n in range(20)])")
    where = os.path.join(os.path.dirname(__file__), "..", "..", "runner", "pytest")
    outs = {subprocess.run(["/usr/bin/python3", "-c", code, where], capture_output=True,
                           text=True, env=dict(os.environ, PYTHONHASHSEED=str(seed))).stdout
            for seed in (1, 2, 3)}
    assert len(outs) == 1 and outs.pop().startswith("[")


def test_a_shard_log_that_is_not_there_or_is_the_runs_own_is_refused(sandbox, tmp_path):
    env = env_without_engines(sandbox)
    run = sandbox.run("--shard", "1/2", "--shard-log", str(tmp_path / "none.log"), "--",
                      "true", env=env)
    assert run.rc == 125 and f"--shard-log {tmp_path / 'none.log'}: No such file" in \
        run.stderr, run.stderr
    run = sandbox.run("--shard", "1/2", "--shard-log", str(tmp_path), "--", "true", env=env)
    assert run.rc == 125 and "not a regular file" in run.stderr, run.stderr
    own = tmp_path / "own.log"
    own.write_text("")
    run = sandbox.run("--log", str(own), "--shard", "1/2", "--shard-log", str(own), "--",
                      "true", env=env)
    assert run.rc == 125 and "is the log this run writes: copy it first" in run.stderr, \
        run.stderr


def test_a_budget_files_encoded_id_is_read_back_as_utf8(tmp_path):
    # budget writes %HH of an id's UTF-8 bytes; the shards' balance must find that id again,
    # not one of Latin-1 characters.
    shard = plugin_shard_module()
    budgets = tmp_path / "b.ini"
    budgets.write_text("[budgets]\ntest = 64M t.py::test_%C3%A9t%C3%A9  ; peak\n")
    peaks = {}
    shard.read_budgets(str(budgets), peaks)
    assert peaks == {"t.py::test_été": 64 << 20}
