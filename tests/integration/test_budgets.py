"""Memory budgets per test: `wcmem-sandbox budget` makes a budget file from a run's memory
log, `--budgets FILE` (or a profile's `budgets`) runs each listed test under its budget."""
import json
import os
import re
import subprocess

import pytest

from conftest import BIN

SUITES = os.path.join(os.path.dirname(__file__), "..", "suites")
SUITE = os.path.abspath(os.path.join(SUITES, "budgets"))
# Node ids, which the budget file holds, start at pytest's rootdir: pinned to the suite, so
# that they do not depend on where the clone lies and where the run starts.
PYTEST = ["/usr/bin/python3", "-m", "pytest", "-p", "no:cacheprovider", "-q", "--rootdir", SUITE]
HOLDS_60 = "test_budgets.py::test_holds[60]"


def budget(*args, cwd=None, timeout=300):
    return subprocess.run([BIN, "budget", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd)


def lines_of(path):
    with open(path) as f:
        return f.read().splitlines()


def budget_lines(path):
    """{node id: (MiB, line number)} of the file's test lines."""
    found = {}
    for no, line in enumerate(lines_of(path), 1):
        m = re.match(r"test = (\d+)M (\S+)", line)
        if m:
            found[m.group(2)] = (int(m.group(1)), no)
    return found


@pytest.fixture
def first_run(sandbox):
    run = sandbox.run("--limit", "512M", "--test-limit", "256M", "--", *PYTEST, SUITE,
                      cwd=SUITE)
    assert run.rc == 0, run.stdout + run.stderr
    return run


def test_budget_writes_a_line_per_test_from_its_peak(first_run, tmp_path):
    out = tmp_path / "wcmem-budgets.ini"
    r = budget("--margin", "20", "--floor", "16M", "-o", str(out), first_run.log_path)
    assert r.returncode == 0, r.stderr
    assert "0 tests updated, 3 added" in r.stderr
    found = budget_lines(out)
    assert set(found) == {"test_budgets.py::test_holds[40]", HOLDS_60,
                          "test_budgets.py::test_small"}, lines_of(out)
    # peak + 20 %, rounded up to a MiB: 60 MB held, a little over for the interpreter.
    assert 72 <= found[HOLDS_60][0] <= 76, lines_of(out)
    assert found["test_budgets.py::test_small"][0] == 16  # the floor
    line = lines_of(out)[found[HOLDS_60][1] - 1]
    run_id = first_run.entry("SESSION_START").value("cgroup").split()[0]
    assert re.search(r"; peak 6\d\.\d MB, \d{4}-\d\d-\d\d, run " + run_id + "$", line), line


def test_budget_update_rewrites_only_the_tests_that_ran(sandbox, first_run, tmp_path):
    out = tmp_path / "b.ini"
    assert budget("-o", str(out), first_run.log_path).returncode == 0
    # A reviewer's file: comments, an order of its own, a test that no longer exists.
    text = ("; our budgets\n[budgets]\n; the small one\n"
            "test = 99M test_budgets.py::test_small\n"
            "test = 5M test_budgets.py::test_gone   ; kept as is\n"
            "test = 1M " + HOLDS_60 + "\n")
    out.write_text(text)
    out.chmod(0o640)
    run = sandbox.run("--limit", "512M", "--", *PYTEST, SUITE, "-k", "small or 60",
                      cwd=SUITE)
    r = budget("--update", "-o", str(out), run.log_path)
    assert r.returncode == 0, r.stderr
    assert "2 tests updated, 0 added" in r.stderr, r.stderr
    new = lines_of(out)
    assert new[:3] == ["; our budgets", "[budgets]", "; the small one"]
    assert new[3].startswith("test = 16M test_budgets.py::test_small   ; peak ")
    assert new[4] == "test = 5M test_budgets.py::test_gone   ; kept as is"
    assert new[5].startswith(f"test = 7") and HOLDS_60 in new[5]
    assert len(new) == 6  # test_holds[40] did not run: not added
    assert out.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("b.ini")] == ["b.ini"]


@pytest.mark.backend_neutral
@pytest.mark.parametrize("args, message", [
    ([], "budget: name a memory log (LOG) to make the budgets from"),
    (["--margin", "x", "l"], "budget: --margin: 'x' is not a percentage from 0 to 1000"),
    (["--floor", "lots", "l"], "budget: --floor: 'lots' is not a SIZE (e.g. 16M)"),
    (["--bogus", "l"], "budget: unknown option '--bogus'"),
    (["l", "--margin"], "budget: option '--margin' needs a value"),
    (["no-such.log"], "budget: no-such.log: cannot read the memory log: No such file"),
    (["--update", "-o", "no-such.ini", "LOG"], "no-such.ini: cannot read the budget file"),
])
def test_budget_mistakes_are_clear(tmp_path, args, message):
    (tmp_path / "LOG").write_text("")
    r = budget(*args, cwd=tmp_path)
    assert r.returncode == 125
    assert message in r.stderr, r.stderr
    assert not list(tmp_path.glob("*.ini*"))  # nothing half-written


@pytest.mark.backend_neutral
def test_budget_refuses_to_update_a_broken_file(tmp_path):
    (tmp_path / "LOG").write_text("")
    (tmp_path / "b.ini").write_text("[budgets]\ntest = 1Q x::y\n")
    r = budget("--update", "-o", "b.ini", "LOG", cwd=tmp_path)
    assert r.returncode == 125
    assert "budget: b.ini:2: bad SIZE '1Q' for x::y" in r.stderr, r.stderr
    assert (tmp_path / "b.ini").read_text() == "[budgets]\ntest = 1Q x::y\n"


def make_budgets(first_run, path):
    r = budget("-o", str(path), first_run.log_path)
    assert r.returncode == 0, r.stderr
    return budget_lines(path)


def test_budgets_from_a_run_fail_exactly_the_test_that_grew(sandbox, first_run, tmp_path):
    # The CI recipe: a profile with `budgets = wcmem-budgets.ini`, the file made by
    # `budget` from a run; then test_holds[60] holds 30% more.
    found = make_budgets(first_run, tmp_path / "wcmem-budgets.ini")
    (tmp_path / "wcmem-sandbox.ini").write_text(
        "[profile ci]\nlimit = 512M\ntest_limit = 256M\nbudgets = wcmem-budgets.ini\n")
    env = dict(sandbox.env, BUDGET_SUITE_GROW="test_holds[60]")
    run = sandbox.run("--profile", "ci", "--", *PYTEST, "-rA", SUITE, cwd=tmp_path, env=env)
    assert run.rc == 1, run.stdout + run.stderr
    mib, line = found[HOLDS_60]
    verdict = f"exceeded its budget {mib} MiB (wcmem-budgets.ini:{line})"
    assert "1 failed, 2 passed" in run.stdout, run.stdout
    assert f"OOM-killed: {verdict}; peak" in run.stdout
    assert f"KILLED {HOLDS_60} - OOM-killed: {verdict}" in run.stdout, run.stdout
    assert f"OOM-killed (peak {mib}.0 MiB, limit {mib}.0 MiB, budget wcmem-budgets.ini:{line})" \
        in run.stderr, run.stderr
    ends = {e.name: e for e in run.entries if e.event == "TEST_END"}
    # the log keeps its own words (MB: MiB, as the guide's readers take them)
    assert ends[HOLDS_60].value("OOM") == f"killed ({verdict.replace('MiB', 'MB')})"
    # The others ran under their budgets, and passed.
    assert f"memory.max: {found['test_budgets.py::test_small'][0]}.0 MB" in \
        "\n".join(ends["test_budgets.py::test_small"].lines)
    assert "did not run" not in run.stderr
    # The summary's lists: over the budget, and under half of it (the floor's 16 MB).
    small_mib, small_line = found["test_budgets.py::test_small"]
    assert (f"  over their budget (1 test):\n    {HOLDS_60}  peak {mib}.0 MiB  budget {mib} MiB "
            f"(wcmem-budgets.ini:{line})\n"
            "  under half their budget, candidates to tighten (1 test):\n"
            "    test_budgets.py::test_small  peak ") in run.stderr, run.stderr
    assert f"  budget {small_mib} MiB (wcmem-budgets.ini:{small_line})\n" in run.stderr


def test_tests_not_listed_run_under_the_test_limit_and_gone_ones_are_named_once(
        sandbox, tmp_path):
    (tmp_path / "b.ini").write_text(
        "[budgets]\ntest = 64M test_budgets.py::test_small\n"
        "test = 8M test_budgets.py::test_renamed\ntest = 8M test_budgets.py::test_removed\n")
    run = sandbox.run("--limit", "512M", "--test-limit", "200M", "--budgets", "b.ini",
                      "--json", "r.json", "--", *PYTEST, SUITE, cwd=tmp_path)
    assert run.rc == 0, run.stdout + run.stderr
    units = {u["name"]: u for u in json.loads((tmp_path / "r.json").read_text())["units"]}
    assert units["test_budgets.py::test_small"]["budget"] == "b.ini:2"
    assert units["test_budgets.py::test_small"]["limit"] == 64 << 20
    assert units[HOLDS_60]["budget"] is None
    ends = {e.name: e for e in run.entries if e.event == "TEST_END"}
    assert "memory.max: 64.0 MB" in "\n".join(ends["test_budgets.py::test_small"].lines)
    assert "memory.max: 200.0 MB" in "\n".join(ends[HOLDS_60].lines)
    said = [line for line in run.stderr.splitlines() if "did not run" in line]
    assert said == ["wcmem-sandbox: b.ini: 2 budgeted tests did not run (renamed, removed or "
                    "deselected): test_budgets.py::test_removed (line 4), "
                    "test_budgets.py::test_renamed (line 3)"], run.stderr


@pytest.mark.backend_neutral
def test_a_broken_budget_file_stops_the_run_before_anything_runs(sandbox, tmp_path):
    (tmp_path / "b.ini").write_text("[budgets]\ntest = 64Q t::a\n")
    run = sandbox.run("--budgets", "b.ini", "--", "true", cwd=tmp_path)
    assert run.rc == 125
    assert "wcmem-sandbox: b.ini:2: bad SIZE '64Q' for t::a" in run.stderr, run.stderr
    assert run.log_text is None
    run = sandbox.run("--budgets", "none.ini", "--", "true", cwd=tmp_path)
    assert run.rc == 125
    assert "none.ini: cannot read the budget file: No such file or directory" in run.stderr


def test_a_small_test_under_half_its_budget_is_listed_among_many(sandbox, tmp_path):
    # Without a JSON or JUnit report the runner lets go of the records of tests too small
    # for the summary's 10 biggest: one under half its budget is kept for its list.
    many = os.path.abspath(os.path.join(SUITES, "many"))
    (tmp_path / "b.ini").write_text("[budgets]\ntest = 200M test_many.py::test_holds[24]\n")
    run = sandbox.run("--limit", "1G", "--budgets", str(tmp_path / "b.ini"), "--",
                      *PYTEST, ".", cwd=many)
    assert run.rc == 0, run.stdout + run.stderr
    assert "16 tests: the biggest by peak in pytest's summary above" in run.stderr, run.stderr
    assert "  under half their budget, candidates to tighten (1 test):\n" \
           "    test_many.py::test_holds[24]  peak " in run.stderr, run.stderr
    assert f"  budget 200 MiB ({tmp_path}/b.ini:2)\n" in run.stderr


# ---- bad and big logs: budget reads any log, and writes only lines its reader reads back

HEAD = "[2026-11-30T10:00:01.000001] TEST_END: "


def end(name, peak="5.0 MB"):
    return f"{HEAD}{name}\n  Peak memory: {peak}\n"


def budgets_of(path):
    """The budget file read back as --budgets reads it: a run of `true` under it must
    start (a file it refuses stops the run with 125), and its test lines."""
    run = subprocess.run([BIN, "--limit", "64M", "--budgets", str(path), "--", "true"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    return budget_lines(path)


@pytest.mark.backend_neutral
def test_budget_on_a_two_line_malformed_log_writes_an_empty_file(tmp_path):
    # Its ']' is not followed by a blank: the reader once looked for the name past the
    # line and crashed.
    log = tmp_path / "LOG"
    log.write_text("[x]!TEST_END: a\n  Peak memory: 5.0 MB\n")
    r = budget("-o", "b.ini", "LOG", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "0 tests updated, 0 added" in r.stderr
    assert budgets_of(tmp_path / "b.ini") == {}


@pytest.mark.backend_neutral
def test_budget_after_a_malformed_head_writes_the_valid_entry_alone(tmp_path):
    # The next entry's name was once taken for the broken one's: a line of garbage.
    (tmp_path / "LOG").write_text("[x]!TEST_END: a\n  Peak memory: 5.0 MB\n" +
                                  end("t.py::b", "20.0 MB"))
    r = budget("-o", "b.ini", "LOG", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "0 tests updated, 1 added" in r.stderr
    assert budgets_of(tmp_path / "b.ini") == {"t.py::b": (24, 5)}
    assert lines_of(tmp_path / "b.ini")[-1] == "test = 24M t.py::b   ; peak 20.0 MB, 2026-11-30"


@pytest.mark.backend_neutral
def test_budget_gives_no_line_to_an_empty_name_or_a_huge_peak(tmp_path):
    (tmp_path / "LOG").write_text(end("") + end("t.py::huge", "99999999999999.0 MB") +
                                  end("t.py::near", "8796093022207.0 MB") + end("t.py::ok"))
    r = budget("-o", "b.ini", "LOG", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "0 tests updated, 1 added" in r.stderr
    assert "budget: warning: '': a TEST_END without a name; no budget" in r.stderr
    assert "budget: warning: t.py::huge: its peak is past the largest SIZE (8 EiB); " \
           "no budget" in r.stderr
    assert "budget: warning: t.py::near: a peak of 8796093022207.0 MB with its margin is " \
           "past the largest SIZE (8 EiB); no budget" in r.stderr
    assert budgets_of(tmp_path / "b.ini") == {"t.py::ok": (16, 5)}


@pytest.mark.backend_neutral
def test_budget_rounds_a_floor_under_a_mib_up(tmp_path):
    # "0M" would be refused by --budgets: the file holds whole MiB.
    (tmp_path / "LOG").write_text(end("t.py::tiny", "0.0 MB"))
    r = budget("--floor", "100K", "-o", "b.ini", "LOG", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert budgets_of(tmp_path / "b.ini") == {"t.py::tiny": (1, 5)}


@pytest.mark.backend_neutral
def test_budget_names_hostile_characters_so_that_they_read_back(tmp_path):
    names = [" lead", "trail\t", "semi;colon", "hash#mark", "per%cent", "[b]=c:d", "é\x7f",
             "a" * 58]
    (tmp_path / "LOG").write_text("".join(end(n) for n in names) + end("b" * 300))
    r = budget("-o", "b.ini", "LOG", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert f"0 tests updated, {len(names)} added" in r.stderr
    assert "warning: " + "b" * 197 + "...: a node ID this long does not fit" in r.stderr
    budgets_of(tmp_path / "b.ini")  # --budgets takes the file


@pytest.mark.backend_neutral
@pytest.mark.parametrize("which", ["log", "update"])
def test_budget_refuses_a_fifo_rather_than_wait_on_it(tmp_path, which):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    (tmp_path / "LOG").write_text(end("t.py::a"))
    args = ["-o", "b.ini", "fifo"] if which == "log" else ["--update", "-o", "fifo", "LOG"]
    r = budget(*args, cwd=tmp_path, timeout=60)  # no writer comes: a wait would time out
    assert r.returncode == 125
    what = "memory log" if which == "log" else "budget file (--update)"
    assert f"budget: fifo: cannot read the {what}: it is a FIFO: reading it would wait " \
           "for a writer\n  give a regular file" in r.stderr, r.stderr
    assert fifo.exists() and not list(tmp_path.glob("b.ini*"))


@pytest.mark.backend_neutral
def test_budgets_option_refuses_a_fifo_rather_than_wait_on_it(tmp_path):
    os.mkfifo(tmp_path / "fifo")
    run = subprocess.run([BIN, "--budgets", "fifo", "--", "true"], capture_output=True,
                         text=True, timeout=120, cwd=tmp_path)
    assert run.returncode == 125
    assert "fifo: cannot read the budget file: it is a FIFO" in run.stderr, run.stderr
