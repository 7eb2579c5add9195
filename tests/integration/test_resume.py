"""Completeness after OOM kills: every collected test runs or is reported, with and without
pytest-xdist, and the end says what the kills and the resumes cost."""
import pytest

from test_plugin import PYTEST, junit_cases, suite, units_of

XDIST = ["-p", "xdist", "-n", "2"]


def hogs_run(sandbox, tmp_path, *extra, timeout=600):
    junit = tmp_path / "junit.xml"
    run = sandbox.run("--limit", "1G", "--test-limit", "64M", "--", *PYTEST, *extra,
                      f"--junitxml={junit}", suite("hogs"), timeout=timeout)
    return run, junit_cases(junit)


def test_xdist_replaces_every_worker_an_oom_kill_takes(sandbox, tmp_path):
    # Ten kills among fifty tests, more than xdist's default four restarts a worker: every
    # test still runs, and junit lists each once, the hogs failed with the runner's verdict.
    pytest.importorskip("xdist")
    run, cases = hogs_run(sandbox, tmp_path, *XDIST)
    assert run.rc == 1, run.stdout + run.stderr
    assert "maximum crashed workers" not in run.stdout
    assert "10 failed, 40 passed" in run.stdout, run.stdout
    assert len(cases) == 50, sorted(cases)
    hogs = {n: c for n, c in cases.items() if n.startswith("test_hog")}
    assert len(hogs) == 10
    for name, case in hogs.items():
        failure = case.find("failure")
        assert failure is not None and "OOM-killed" in failure.get("message"), name
    killed = [u for u in units_of(run).values() if (u.value("OOM") or "").startswith("killed")]
    assert len(killed) == 10


def test_xdist_names_the_tests_that_did_not_run(sandbox, tmp_path):
    # The user's own --max-worker-restart stands: xdist stops early, and the summary says
    # how many collected tests did not run and which; the exit status is not 0.
    pytest.importorskip("xdist")
    run, cases = hogs_run(sandbox, tmp_path, *XDIST, "--max-worker-restart", "0")
    assert run.rc not in (0, None), run.stdout + run.stderr
    reported = set(cases)
    lost = 50 - len(reported)
    assert lost > 0, run.stdout
    assert f"wcmem-sandbox: {lost} of 50 collected tests did not run" in run.stdout, run.stdout
    lines = run.stdout.splitlines()
    head = next(i for i, line in enumerate(lines) if "collected tests did not run" in line)
    named = [line.strip() for line in lines[head + 1:head + 1 + min(lost, 20)]]
    assert all("::test_" in n and n.split("::")[-1] not in reported for n in named), named


def test_resumed_run_is_complete_and_says_what_resuming_cost(sandbox, tmp_path):
    # Without xdist each kill takes pytest with it: the runner runs it again ten times, the
    # junit and pytest's own summary list every test once, and the end says what it cost.
    run, cases = hogs_run(sandbox, tmp_path)
    assert run.rc == 1, run.stdout + run.stderr
    assert len(cases) == 50, sorted(cases)
    assert "10 failed, 40 passed" in run.stdout, run.stdout
    failed = sorted(n for n, c in cases.items() if c.find("failure") is not None)
    assert failed == sorted(f"test_hog[{n}]" for n in range(10))
    line = next(x for x in run.stderr.splitlines() if "resuming took" in x)
    head, cost = line.split("; resuming took ")
    assert head == "wcmem-sandbox: 10 tests OOM-killed, 10 resumes", line
    total, each = float(cost.split(" s in all")[0]), float(cost.split("(")[1].split(" s")[0])
    assert 0 < total and abs(total / 10 - each) <= 0.051, line
