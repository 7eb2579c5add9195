"""The memory log: shape, truncation, escaping, durability."""
import os

import memlog


def test_log_holds_session_and_unit_entries_in_order(sandbox):
    run = sandbox.run("--limit", "256M", "--", "sh", "-c", "exit 0")
    # The command is no test: COMMAND_*, which readers of the guide's format skip.
    assert [e.event for e in run.entries] == ["SESSION_START", "COMMAND_START", "COMMAND_END",
                                              "SESSION_END"]
    start, end = run.entry("COMMAND_START"), run.entry("COMMAND_END")
    assert start.name == end.name == "sh -c 'exit 0'"
    for key in ("VmPeak", "VmSize", "VmHWM", "VmRSS"):
        assert start.value(key).endswith(" kB"), key
    assert end.value("cgroup").startswith("wcmem-") and end.value("cgroup").endswith("/u1")
    assert end.value("memory.max") == "256.0 MB"
    assert end.value("Exit") == "code 0"
    assert memlog.peak_mb(end) is not None
    assert float(end.value("Elapsed").rstrip("s")) >= float(start.value("Elapsed").rstrip("s"))


def test_log_starts_afresh_unless_appending(sandbox):
    sandbox.run("-q", "--", "true")
    run = sandbox.run("-q", "--", "true")
    assert [e.event for e in run.entries].count("SESSION_START") == 1
    run = sandbox.run("-q", "--append", "--", "true")
    assert [e.event for e in run.entries].count("SESSION_START") == 2


def test_log_option_and_missing_folder_is_created(sandbox, tmp_path):
    path = tmp_path / "deep" / "mem.log"
    run = sandbox.run("-q", "--log", str(path), "--", "true")
    assert run.rc == 0
    assert memlog.parse(path.read_text())[0].event == "SESSION_START"


def test_default_log_is_under_home_without_weathercop_dir(sandbox, tmp_path):
    (tmp_path / "home").mkdir()
    env = dict(sandbox.env, HOME=str(tmp_path / "home"))
    env.pop("WEATHERCOP_DIR")
    run = sandbox.run("-q", "--", "true", env=env)
    assert run.rc == 0
    assert (tmp_path / "home" / ".weathercop" / "test_memory.log").exists()


def test_unwritable_log_is_a_clear_error(sandbox, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    run = sandbox.run("--log", str(blocker / "sub" / "x.log"), "--", "true")
    assert run.rc == 125
    assert str(blocker) in run.stderr


def test_a_name_can_never_forge_an_entry(sandbox):
    name = "evil\n[2025-01-01T00:00:00.000000] TEST_END: forged\x1b[31m\\"
    run = sandbox.run("-q", "--name", name, "--", "true")
    assert run.rc == 0
    events = [e.event for e in run.entries]
    assert events == ["SESSION_START", "COMMAND_START", "COMMAND_END", "SESSION_END"]
    assert run.entry("COMMAND_START").name == \
        "evil\\n[2025-01-01T00:00:00.000000] TEST_END: forged\\x1b[31m\\"


def test_test_start_is_on_disk_while_the_unit_runs(sandbox):
    # The command reads the log while it runs: its COMMAND_START entry is already there.
    code = f"print(open({sandbox.log!r}).read())"
    run = sandbox.run("-q", "--", *sandbox.python(code))
    assert "COMMAND_START: " in run.stdout
    assert "COMMAND_END" not in run.stdout


def test_log_lines_have_no_colon_after_a_number(sandbox):
    run = sandbox.run("-q", "--", "true")
    for e in run.entries:
        for line in e.lines:
            key, _, value = line.strip().partition(":")
            assert ":" not in value, line
    assert os.path.getsize(run.log_path) > 0
