"""What the figures mean: which limit holds the command's own unit, the exact bytes behind
the log's rounded sizes, a forkserver's children charged to the test that asked for them,
and the markers' figures of a test that was OOM-killed."""
import memlog
from test_plugin import PYTEST, suite, units_of


def test_a_big_conftest_is_held_by_the_limit_and_a_hog_by_the_test_limit(sandbox):
    # 120 MB at import, 64M a test: collection runs in the command's own unit, under
    # --limit alone; each test under --test-limit, and the hog is killed by it.
    run = sandbox.run("--limit", "512M", "--test-limit", "64M", "--", *PYTEST,
                      suite("big_conftest"))
    assert run.rc == 1, run.stdout + run.stderr  # pytest's own: the hog failed
    assert "1 failed, 2 passed" in run.stdout, run.stdout
    command = run.entry("COMMAND_END")
    assert command.value("memory.max") == "512.0 MB"
    assert memlog.peak_mb(command) >= 120, run.log_text
    assert "OOM" not in [line.split(":")[0].strip() for line in command.lines]
    tests = {name.split("::")[-1]: end for name, end in units_of(run).items()}
    assert set(tests) == {"test_small", "test_hog", "test_after"}, tests
    assert tests["test_hog"].value("OOM") == "killed (exceeded its own limit 64.0 MB)"
    for name in ("test_small", "test_after"):
        assert tests[name].value("memory.max") == "64.0 MB"
        assert tests[name].value("OOM") is None, tests[name].lines
