"""pytest-memray's markers under wcmem-sandbox: limit_memory is the test's own cgroup limit,
limit_leaks what its cgroup may still hold after it, both counted by the kernel."""
import os

import pytest

import memlog

SUITES = os.path.join(os.path.dirname(__file__), "..", "suites")
PYTEST = ["/usr/bin/python3", "-m", "pytest", "-p", "no:cacheprovider", "-q", "-rA"]


def suite(name):
    return os.path.abspath(os.path.join(SUITES, name))


def ends(run):
    return {e.name.split("::")[-1]: e for e in run.entries if e.event == "TEST_END"}


@pytest.fixture(scope="module")
def markers_run(tmp_path_factory):
    # One run for the module's checks: the suite is small, and the VM is slow.
    from conftest import Sandbox
    box = Sandbox(tmp_path_factory.mktemp("markers"))
    run = box.run("--limit", "512M", "--test-limit", "256M", "--", *PYTEST, suite("markers"))
    yield run
    assert not box.leftovers(), f"cgroups left behind: {box.leftovers()}"
    for cg in box.cgroups:
        os.rmdir(cg)  # fails when the runner left anything in it


def test_a_marked_test_over_its_limit_is_killed_at_the_markers_size(markers_run):
    run = markers_run
    end = ends(run)["test_over_its_limit"]
    assert end.value("OOM") == "killed (exceeded its own limit 24.0 MB)", end.lines
    assert memlog.peak_mb(end) <= 25
    assert "OOM-killed: peak 24.0 MiB, limit 24.0 MiB (own limit)" in run.stdout
    assert "test_over_its_limit OOM-killed (peak 24.0 MiB, limit 24.0 MiB, own limit)" \
        in run.stderr


def test_the_markers_size_in_memrays_spelling_is_its_limit(markers_run):
    end = ends(markers_run)["test_within_its_limit"]
    assert end.value("cgroup") and "memory.max: 1536.0 MB" in "\n".join(end.lines)
    assert "PASSED tests/suites/markers/test_markers.py::test_within_its_limit" in markers_run.stdout


def test_a_test_that_keeps_10_mb_fails_limit_leaks_with_the_figure(markers_run):
    out = markers_run.stdout
    assert "FAILED tests/suites/markers/test_markers.py::test_keeps_10_mb" in out, out
    line = next(line for line in out.splitlines() if "still holds" in line)
    mb = float(line.split("still holds ")[1].split(" MB")[0])
    assert 9.5 <= mb <= 12, line
    assert "limit_leaks('1 MB')" in line


def test_a_test_that_frees_its_memory_passes_limit_leaks(markers_run):
    assert "PASSED tests/suites/markers/test_markers.py::test_frees_what_it_used" in markers_run.stdout


def test_a_bad_size_fails_that_test_not_the_session(markers_run):
    out = markers_run.stdout
    assert "FAILED tests/suites/markers/test_markers.py::test_bad_size" in out, out
    assert "\nwcmem-sandbox: limit must be a SIZE (bytes, 24 MB, 1.5 GiB, 512M), got '24 XB'\n" \
        in out, out
    assert "PASSED tests/suites/markers/test_markers.py::test_unmarked" in out
    # It still ran in a unit of its own, under the normal limit.
    assert "memory.max: 256.0 MB" in "\n".join(ends(markers_run)["test_bad_size"].lines)


def test_a_strict_markers_project_runs_unchanged(markers_run):
    # The suite's pytest.ini has --strict-markers: an unknown marker would be an error
    # at collection, and no test would run.
    assert "3 failed, 3 passed" in markers_run.stdout, markers_run.stdout


def test_markers_are_left_to_pytest_memray_when_it_is_active(sandbox):
    run = sandbox.run("--limit", "512M", "--test-limit", "256M", "--",
                      *PYTEST, "--memray", suite("markers_memray"))
    assert run.rc == 0, run.stdout + run.stderr
    assert run.stderr.count("pytest-memray is active (--memray)") == 1, run.stderr
    assert "2 passed" in run.stdout
    end = ends(run)["test_over_the_marker"]
    assert "memory.max: 256.0 MB" in "\n".join(end.lines)
    # Without --memray, they are ours again.
    run = sandbox.run("--limit", "512M", "--test-limit", "256M", "--",
                      *PYTEST, suite("markers_memray"))
    assert "pytest-memray" not in run.stderr
    assert "2 failed" in run.stdout, run.stdout


def test_a_client_cannot_abuse_sizes_or_usage(sandbox):
    # A client's START sizes are read by the one size parser (nothing reaches a cgroup
    # unread); USAGE answers only for the unit open on the client's own connection.
    from conftest import CLIENT_PRELUDE
    code = CLIENT_PRELUDE + (
        "print(ask(b'HELLO 1\\n'))\n"
        "print(ask(b'USAGE t\\n'))\n"
        "print(ask(b'START t limit=24%20XB\\n'))\n"
        "print(ask(b'START t limit=1%0A%20MB\\n'))\n"
        "print(ask(b'START t limit=99999999999%20PB\\n'))\n"
        "print(ask(b'START t kind=command limit=64%20MB leaks=1%20MB\\n'))\n"
        "print(ask(b'USAGE other\\n'))\n"
        "print(ask(b'USAGE t\\n'))\n"
        "print(ask(b'END t\\n'))\n")
    run = sandbox.run("--limit", "256M", "--", *sandbox.python(code))
    assert run.rc == 0, run.stderr
    out = run.stdout.splitlines()
    assert out[1] == "ERR 409 no unit of that name is open"
    assert out[2].startswith("ERR 400 limit must be a SIZE") and "'24 XB'" in out[2]
    # A newline in the size is escaped in the answer: it cannot split the answer's line.
    assert out[3].endswith("got '1\\n MB'") and len(out) == 9, out
    assert out[4].startswith("ERR 400 limit must be a SIZE"), out
    assert out[5].startswith("OK "), out
    assert out[6] == "ERR 409 no unit of that name is open"
    current, leaks = out[7].split()[1:]
    assert int(current) >= 0 and int(leaks) == 1 << 20, out
    assert out[8] == "OK"
    end = next(e for e in run.entries if e.event == "TEST_END" and e.name == "t")
    assert "memory.max: 64.0 MB" in "\n".join(end.lines)
