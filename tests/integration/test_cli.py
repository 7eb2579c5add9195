"""The command line: sizes, durations, usage errors, help, version, warnings."""
import re
import subprocess

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
    assert "warning: --limit 64.0 TiB is above" in run.stderr, run.stderr


def test_quiet_prints_no_summary(sandbox):
    run = sandbox.run("-q", "--", "true")
    assert run.rc == 0
    assert run.stderr == ""


# Each front end as a user starts it: the run command, and each subcommand by its first word.
FRONT_ENDS = [[], ["analyze"], ["budget"], ["doctor"]]


def front_end(words, *args):
    """The binary's stdout, stderr (bytes: what a terminal would get) and exit status."""
    p = subprocess.run([BIN, *words, *args], capture_output=True, timeout=60)
    return p.stdout, p.stderr, p.returncode


@pytest.mark.no_cgroup
@pytest.mark.parametrize("words", FRONT_ENDS, ids=lambda w: w[0] if w else "run")
def test_every_front_end_says_try_help_alike(words):
    # One line for the mistake, then the same "Try" line, naming the subcommand.
    try_line = "Try 'wcmem-sandbox{} --help' for more information.\n".format(
        "".join(" " + w for w in words)).encode()
    for args, said in [(["--bogus"], b"unknown option '--bogus'"),
                       (["-Z"], b"unknown option '-Z'")]:
        out, err, rc = front_end(words, *args)
        assert rc == 125 and out == b"", (args, err)
        prefix = b"wcmem-sandbox: " + b"".join(w.encode() + b": " for w in words)
        assert err == prefix + said + b"\n" + try_line, (args, err)


@pytest.mark.no_cgroup
@pytest.mark.parametrize("words", FRONT_ENDS, ids=lambda w: w[0] if w else "run")
def test_every_front_end_escapes_a_hostile_argument(words):
    # An ESC that would drive the terminal, a byte that is not UTF-8, a newline that would
    # make a line of its own: each shown escaped in the error line, none passed through.
    out, err, rc = front_end(words, b"--x\x1b]0;owned\x07\xff\nwcmem-sandbox: forged")
    assert rc == 125
    assert b"unknown option '--x\\x1b]0;owned\\x07\\xff\\nwcmem-sandbox: forged'" in err, err
    assert not set(err) & {0x1b, 0x07, 0xff}, err
    assert err.count(b"\n") == 2, err  # the error line and the Try line, nothing forged


@pytest.mark.no_cgroup
@pytest.mark.parametrize("words", FRONT_ENDS, ids=lambda w: w[0] if w else "run")
def test_every_front_end_has_help_and_version(words):
    out, err, rc = front_end(words, "--help")
    assert rc == 0 and err == b"", err
    assert out.startswith(b"Usage: wcmem-sandbox" + b"".join(b" " + w.encode() for w in words))
    assert b"--version" in out and b"125" in out
    out, err, rc = front_end(words, "-V")
    assert rc == 0 and err == b"" and out.startswith(b"wcmem-sandbox "), (out, err)


@pytest.mark.no_cgroup
def test_help_lists_each_subcommand_with_its_summary():
    out, _, rc = front_end([], "--help")
    assert rc == 0
    for name in ("config", "analyze", "doctor", "budget"):
        assert f"       wcmem-sandbox {name} ".encode() in out, name  # a usage line
        assert re.search(rb"\n  " + name.encode() + rb" +\w", out), name  # and a summary
    for name in ("analyze", "doctor", "budget"):  # the line is the subcommand's own
        own = front_end([name], "--help")[0].split(b"\n")[0]
        assert b"\n       " + own[len(b"Usage: "):] + b"\n" in out, own


@pytest.mark.no_cgroup
def test_a_bad_value_of_a_subcommand_is_escaped():
    _, err, rc = front_end(["budget"], "--margin", "\x1b[31m", "LOG")
    assert rc == 125 and b"budget: --margin: '\\x1b[31m' is not a percentage" in err, err
    _, err, rc = front_end(["analyze"], "--top", b"\xff")
    assert rc == 125 and b"invalid value '\\xff' for --top" in err, err


def test_a_report_to_standard_output_follows_the_commands_own(sandbox):
    # FILE '-': the report on standard output, after what the command wrote there, so that
    # `... --json - -- CMD | tail` or a CI step can take it; one report at most.
    import json
    import xml.etree.ElementTree as ET

    run = sandbox.run("-q", "--limit", "64M", "--json", "-", "--", "sh", "-c", "echo hello")
    assert run.rc == 0, run.stderr
    first, _, report = run.stdout.partition("\n")
    assert first == "hello"
    assert json.loads(report)["units"][0]["name"] == "sh -c 'echo hello'"
    assert not (sandbox.tmp / "-").exists()
    run = sandbox.run("-q", "--limit", "64M", "--junit-xml", "-", "--", "true")
    assert run.rc == 0, run.stderr
    assert ET.fromstring(run.stdout).find(".//testcase").get("name") == "true"
    run = sandbox.run("--json", "-", "--html", "-", "--", "true")
    assert run.rc == 125
    assert "only one report may go to standard output ('-')" in run.stderr


def test_a_profiles_report_to_standard_output_is_no_file(sandbox):
    # `json = -` in a profile is standard output, not a file called "-" beside the profile.
    ini = sandbox.tmp / "wcmem-sandbox.ini"
    ini.write_text("[profile out]\njson = -\n")
    run = sandbox.run("-q", "--config", str(ini), "--profile", "out", "--limit", "64M", "--",
                      "true", cwd=str(sandbox.tmp))
    assert run.rc == 0, run.stderr
    assert run.stdout.lstrip().startswith("{") and not (sandbox.tmp / "-").exists()
