"""`wcmem-sandbox analyze`: the guide's post-mortem done by the tool, on logs of real runs
(the example suite, under our limits) and on logs in the guide's format by another writer."""
import json
import os
import re
import shutil
import subprocess

from conftest import BIN

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
SUITES = os.path.join(TOP, "tests", "suites")
GUIDE_LOG = os.path.join(TOP, "tests", "unit", "fixtures", "logs", "guide.log")
PYTEST = ["/usr/bin/python3", "-m", "pytest", "-p", "no:cacheprovider", "-q"]


def analyze(*args, stdin=None, cwd=TOP):
    return subprocess.run([BIN, "analyze", *args], input=stdin, capture_output=True,
                          text=True, timeout=120, cwd=cwd)


def example_run(sandbox):
    """The example suite under its demo limits, from the top folder (node IDs and locations
    relative to it, as a user sees them). Returns the log's path."""
    run = sandbox.run("--limit", "512M", "--test-limit", "256M", "--", *PYTEST,
                      "etc/example", cwd=TOP)
    assert run.rc == 1, run.stdout + run.stderr  # the blow-up fails, the rest pass
    return sandbox.log


def test_example_run_names_the_oom_the_biggest_and_the_leak(sandbox):
    out = analyze(example_run(sandbox))
    assert out.returncode == 0, out.stderr
    text = out.stdout
    # The killed test, its verdict, at its own file and line (where the def is).
    assert re.search(r"^etc/example/test_weather\.py:31: etc/example/test_weather\.py::"
                     r"test_ensemble_blowup OOM-killed: exceeded its own limit 256\.0 MiB",
                     text, re.M), text
    # The biggest first: the blow-up, then the 32 MB scratch buffer.
    biggest = text.split("== the ")[1].splitlines()[1:3]
    assert "test_ensemble_blowup peak 256.0 MiB" in biggest[0], text
    assert "test_resampling peak 3" in biggest[1], text
    # The test that keeps 8 MB after it ends, and nothing else above 1 MB.
    left = re.findall(r"^(etc/example/test_weather\.py:\d+): \S+::(\w+) left ([\d.]+) MiB "
                      r"behind$", text, re.M)
    assert [name for _, name, _ in left] == ["test_leaks_station_cache"], text
    assert 7.5 <= float(left[0][2]) <= 12, text
    with open(os.path.join(TOP, left[0][0].split(":")[0])) as f:
        line = f.read().splitlines()[int(left[0][0].split(":")[1]) - 1]
    assert line.startswith("def test_leaks_station_cache"), line
    assert "spiked to 256.0 MiB" in text


def test_json_has_every_figure(sandbox):
    out = analyze("--json", "-", example_run(sandbox))
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["schema"] == "wcmem-sandbox-analysis/1"
    assert doc["tests"] == 7 and doc["sessions"] == 1
    assert doc["sandbox_limit"] == 512 << 20
    (oom,) = doc["oom_killed"]
    assert oom["name"].endswith("::test_ensemble_blowup")
    assert oom["oom"] == "own" and oom["peak"] == 256 << 20 and oom["limit"] == 256 << 20
    assert oom["where"] == "etc/example/test_weather.py:31"
    assert doc["biggest"][0]["name"] == oom["name"]
    assert [u["name"] for u in doc["spikes"]] == [oom["name"]]
    (leak,) = doc["left_behind"]
    assert leak["name"].endswith("::test_leaks_station_cache")
    assert leak["left_behind"] >= 7 << 20
    assert doc["running"] == [] and doc["cut"] is None


def test_open_xarray_datasets_that_stay_open(sandbox):
    # Debian's real xarray; the suite's last test closes what the first kept: left out.
    run = sandbox.run("--limit", "1G", "--", *PYTEST, os.path.join(SUITES, "xarray"),
                      "-k", "not test_closes_the_kept")
    assert run.rc == 0, run.stdout + run.stderr
    out = analyze(sandbox.log)
    assert out.returncode == 0, out.stderr
    assert re.search(r"::test_keeps_two_open left 2 more xarray datasets open \(0 -> 2\), "
                     r"and the count stayed up$", out.stdout, re.M), out.stdout


def test_guide_format_log_by_another_writer():
    # Written by hand from the guide's example entries: no sessions, no cgroups, /proc/self.
    out = analyze(GUIDE_LOG)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    # What was running when the log stops comes first: after a freeze, it is the answer.
    assert lines[1].startswith("== running when the log stops"), out.stdout
    assert lines[2].startswith("src/weathercop/tests/test_multisite.py:1: "
                               "src/weathercop/tests/test_multisite.py::Test::test_ensemble "
                               "was running when the log stopped"), out.stdout
    assert "::Test::test_name spiked to 2.4 GiB" in out.stdout
    assert "::test_open_dataset left 500.0 MiB behind" in out.stdout
    assert "::Test::test_sim left 3 more xarray datasets open (0 -> 3)" in out.stdout


def test_a_run_killed_mid_test_names_what_was_running(sandbox, tmp_path):
    # SIGKILL of the whole tree (as a hard freeze or a global OOM kill would leave it): the
    # log ends with the TEST_START of the test that was running.
    run = sandbox.run("--limit", "1G", "--", *PYTEST, "-x", os.path.join(SUITES, "keeps"))
    assert run.rc == 0, run.stdout + run.stderr
    text = open(sandbox.log).read()
    last_start = text.rindex("TEST_START: ")
    cut = tmp_path / "frozen.log"
    cut.write_text(text[:text.index("\n[", last_start) + 1])
    name = text[last_start:].split("\n")[0][len("TEST_START: "):]
    out = analyze(str(cut))
    assert out.returncode == 0, out.stderr
    assert f"{name} was running when the log stopped" in out.stdout, out.stdout


def test_several_logs_and_stdin_make_one_answer(sandbox):
    log = example_run(sandbox)
    with open(GUIDE_LOG) as f:
        out = analyze("--top", "3", log, "-", stdin=f.read())
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("wcmem-sandbox analyze: 2 logs, 2 sessions, 12 tests\n")
    assert "== the 3 biggest of 12 tests by peak" in out.stdout
    assert "<stdin>:89" in out.stdout  # the guide log's open test, read from stdin


def test_a_cut_off_log_is_reported_not_an_error(tmp_path):
    with open(GUIDE_LOG, "rb") as f:
        data = f.read()
    cut = tmp_path / "cut.log"
    cut.write_bytes(data[:data.index(b"Peak memory: 2500")] + b"\0" * 100)
    out = analyze(str(cut))
    assert out.returncode == 0, out.stderr
    assert f"{cut}:62: the log is cut off inside this entry" in out.stdout, out.stdout
    assert "::Test::test_name was running when the log stopped" in out.stdout


def test_mistakes_get_clear_errors(tmp_path):
    cases = [
        (("--top", "0", "x"), "invalid value '0' for --top: a whole number from 1 to 100"),
        (("--spike-floor", "lots", "x"), "invalid value 'lots' for --spike-floor"),
        (("--spike-factor",), "option '--spike-factor' needs a value"),
        (("--frobnicate", "x"), "unknown option '--frobnicate'"),
    ]
    for args, message in cases:
        out = analyze(*args)
        assert out.returncode == 125, (args, out.stdout, out.stderr)
        assert message in out.stderr, (args, out.stderr)
        assert "Try 'wcmem-sandbox analyze --help'" in out.stderr
    missing = tmp_path / "nope.log"
    out = analyze(str(missing))
    assert out.returncode == 125
    assert f"analyze: open {missing}: No such file or directory" in out.stderr
    assert "--log FILE" in out.stderr  # what to give instead
    out = analyze(str(tmp_path))
    assert out.returncode == 125
    assert f"analyze: read {tmp_path}: Is a directory" in out.stderr
    # Not a memory log at all: said, and still an answer (nothing in it).
    other = tmp_path / "notes.txt"
    other.write_text("hello\n")
    out = analyze(str(other))
    assert out.returncode == 0
    assert "no TEST_START, TEST_END or SESSION entry in it" in out.stderr


def test_help():
    out = analyze("--help")
    assert out.returncode == 0
    assert out.stdout.startswith("Usage: wcmem-sandbox analyze [OPTION]... [LOG]...")
    for option in ("--top", "--spike-factor", "--spike-floor", "--leak-floor", "--json"):
        assert option in out.stdout


def test_without_a_log_the_default_log_is_read(tmp_path):
    # As a run writes it without --log: $WEATHERCOP_DIR/test_memory.log, else under HOME.
    shutil.copy(GUIDE_LOG, tmp_path / "test_memory.log")
    env = dict(os.environ, WEATHERCOP_DIR=str(tmp_path))
    out = subprocess.run([BIN, "analyze"], capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr
    assert f"{tmp_path}/test_memory.log" in out.stdout, out.stdout
    env = dict(os.environ, WEATHERCOP_DIR=str(tmp_path / "none"))
    out = subprocess.run([BIN, "analyze"], capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 125
    assert f"open {tmp_path}/none/test_memory.log: No such file or directory" in out.stderr


def test_html_to_standard_output_is_the_answer(tmp_path):
    # --html -: the page alone on standard output (pipe it on); with --json, which also
    # writes there, a usage error.
    out = analyze("--html", "-", GUIDE_LOG)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("<!DOCTYPE html>") and out.stdout.rstrip().endswith("</html>")
    out = analyze("--json", "-", "--html", "-", GUIDE_LOG)
    assert out.returncode == 125
    assert "--json - and --html - both write to standard output" in out.stderr


def test_json_takes_a_file_as_a_run_does(tmp_path):
    # --json FILE as in a run: the JSON there, the text answer on standard output.
    report = tmp_path / "a.json"
    out = analyze("-N", "2", "--json", str(report), GUIDE_LOG)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("wcmem-sandbox analyze: ") and out.stderr == "", out.stderr
    doc = json.loads(report.read_text())
    assert doc["options"]["top"] == 2
    out = analyze(f"--json={report}", GUIDE_LOG)
    assert out.returncode == 0 and json.loads(report.read_text())["schema"]


def test_old_json_flag_still_writes_to_standard_output(tmp_path):
    # --json was a flag: where the word after it cannot be its FILE (nothing, an option, a
    # memory log), it is standard output still, with a note; never written over a log.
    log = tmp_path / "run.log"
    shutil.copy(GUIDE_LOG, log)
    before = log.read_bytes()
    for args in (("--json", str(log)), ("--json", "--top", "3", str(log))):
        out = analyze(*args)
        assert out.returncode == 0, (args, out.stderr)
        assert json.loads(out.stdout)["schema"] == "wcmem-sandbox-analysis/1"
        assert "write '--json -'" in out.stderr, out.stderr
        assert log.read_bytes() == before
    env = dict(os.environ, WEATHERCOP_DIR=str(tmp_path))
    shutil.copy(GUIDE_LOG, tmp_path / "test_memory.log")
    out = subprocess.run([BIN, "analyze", "--json"], capture_output=True, text=True,
                         timeout=120, env=env)
    assert out.returncode == 0 and json.loads(out.stdout)["logs"] == 1, out.stderr
    # -n was --top's letter; in a run it is --name: -N now, -n still read, with a note
    out = analyze("-n", "3", "--json", "-", GUIDE_LOG)
    assert out.returncode == 0 and json.loads(out.stdout)["options"]["top"] == 3
    assert "-n is -N (--top) now" in out.stderr
