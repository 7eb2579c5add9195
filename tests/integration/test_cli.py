"""The command line: sizes, durations, usage errors, help, version, warnings."""
import pytest

from conftest import BIN, Sandbox  # noqa: F401  (BIN: the binary under test)


@pytest.mark.no_cgroup
@pytest.mark.parametrize("value", [
    "4X", "-1", "0", "", "1e999", "9223372036854775808", "8E", "abc", "1.5.5G", " 4G",
    "4G ", "0x10", "inf", "nan", "101%", "0%", "4GG", "16777216T",
])
def test_bad_limit_exits_125_naming_option_and_value(sandbox, value):
    run = sandbox.run("--limit", value, "--", "true")
    assert run.rc == 125
    assert f"--limit: " in run.stderr and f"'{value}'" in run.stderr, run.stderr
    assert "Try 'wcmem-sandbox --help'" in run.stderr
    assert run.log_text is None  # nothing ran


@pytest.mark.no_cgroup
@pytest.mark.parametrize("option", ["--test-limit", "--swap", "--high"])
def test_every_size_option_uses_the_size_parser(sandbox, option):
    run = sandbox.run(option, "12Q", "--", "true")
    assert run.rc == 125
    assert f"{option}: invalid value '12Q'" in run.stderr


@pytest.mark.no_cgroup
@pytest.mark.parametrize("option", ["--interval", "--kill-after"])
@pytest.mark.parametrize("value", ["0", "-1s", "5x", "", "2d"])
def test_bad_duration_exits_125(sandbox, option, value):
    run = sandbox.run(option, value, "--", "true")
    assert run.rc == 125
    assert option in run.stderr and f"'{value}'" in run.stderr, run.stderr


@pytest.mark.no_cgroup
@pytest.mark.parametrize("args,words", [
    ([], "no command given"),
    (["--bogus", "true"], "unknown option '--bogus'"),
    (["--limit"], "option '--limit' needs a value"),
    (["-Zq", "true"], "unknown option '-Z'"),
    (["-ql"], "option '-l' needs a value"),
    (["--interval", "1ns", "true"], "--interval: invalid value '1ns' (a sampling period: 10ms"),
    (["--limit", "512", "true"], "--limit: out of range: '512' (under a page"),
])
def test_usage_errors_exit_125(sandbox, args, words):
    run = sandbox.run(*args)
    assert run.rc == 125
    assert words in run.stderr


@pytest.mark.no_cgroup
def test_help_lists_options_and_exit_status(sandbox):
    run = sandbox.run("--help")
    assert run.rc == 0
    for word in ("--limit", "--test-limit", "--swap", "--high", "--log", "--interval",
                 "--quiet", "--version", "Exit status", "125", "126", "127", "128+N"):
        assert word in run.stdout, word
    assert run.stderr == ""


@pytest.mark.no_cgroup
def test_version(sandbox):
    run = sandbox.run("--version")
    assert run.rc == 0
    assert run.stdout.startswith("wcmem-sandbox ")


def test_options_stop_at_the_command(sandbox):
    # "+" in the option string: -q after the command belongs to the command.
    run = sandbox.run("--limit", "64M", "sh", "-c", "echo $0 $1", "-q", "--limit")
    assert run.rc == 0
    assert run.stdout.strip() == "-q --limit"


def test_sizes_are_understood(sandbox):
    for text, mb in [("1.5G", "1536.0 MB"), ("512mib", "512.0 MB"), ("262144K", "256.0 MB"),
                     ("104857600", "100.0 MB"), ("64MB", "64.0 MB")]:
        run = sandbox.run("--limit", text, "-q", "--", "true")
        assert run.rc == 0
        assert run.entry("SESSION_START").value("memory.max") == mb, text


def test_percent_of_physical_memory(sandbox):
    run = sandbox.run("--limit", "1%", "-q", "--", "true")
    assert run.rc == 0
    total_kb = int(next(l for l in open("/proc/meminfo") if l.startswith("MemTotal")).split()[1])
    want = total_kb / 1024 / 100
    got = run.entry("SESSION_START").mb("memory.max")
    assert abs(got - want) < 1, (got, want)


def test_limit_above_the_machine_warns_and_says_what_holds(sandbox):
    run = sandbox.run("--limit", "64T", "--", "true")
    assert run.rc == 0
    assert "warning: --limit 67108864.0 MB is above" in run.stderr, run.stderr


def test_quiet_prints_no_summary(sandbox):
    run = sandbox.run("-q", "--", "true")
    assert run.rc == 0
    assert run.stderr == ""
