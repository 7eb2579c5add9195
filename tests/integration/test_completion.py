"""The bash completion (etc/wcmem-sandbox.bash), driven as bash drives it: COMP_WORDS and
COMP_CWORD set, the function called, COMPREPLY read. No cgroup is involved."""
import os
import re
import subprocess

import pytest

from conftest import BIN

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(os.path.dirname(os.path.dirname(HERE)), "etc", "wcmem-sandbox.bash")

pytestmark = pytest.mark.no_cgroup


def complete(*words, cwd=None, env=None):
    """What bash offers for the last word of `BIN words...`."""
    script = ('source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); '
              '_wcmem_sandbox; printf "%s\\n" "${COMPREPLY[@]}"')
    out = subprocess.run(["bash", "--norc", "-c", script, "bash", SCRIPT, BIN, *words],
                         capture_output=True, text=True, cwd=cwd, env=env, check=True)
    return [w for w in out.stdout.split("\n") if w]


def test_options_come_from_the_help():
    assert complete("--no-") == ["--no-append", "--no-oom-score-adj", "--no-plugin", "--no-quiet",
                                 "--no-stop-on-oom", "--no-systemd-scope"]
    assert complete("--test") == ["--test-limit"]
    assert complete("config", "--pro") == ["--profile"]


def test_profiles_come_from_the_config_file(tmp_path):
    ini = tmp_path / "profiles.ini"
    ini.write_text("[profile ci]\n[profile laptop]\ninherit = ci\n")
    assert complete("--config", str(ini), "--profile", "") == ["ci", "laptop"]
    assert complete("--config", str(ini), "-p", "l") == ["laptop"]
    (tmp_path / "wcmem-sandbox.ini").write_text("[profile nearby]\n")
    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp_path / "none"))
    env.pop("WCMEM_SANDBOX_CONFIG", None)
    assert complete("--profile", "", cwd=tmp_path, env=env) == ["nearby"]


def test_values_and_files():
    assert "4G" in complete("--limit", "") and "max" in complete("--test-limit", "")
    assert complete("--json", SCRIPT[:-2]) == [SCRIPT]
    assert complete("--name", "") == []


def test_budgets_and_the_budget_subcommand():
    assert complete("--budgets", SCRIPT[:-2]) == [SCRIPT]
    assert complete("--budg") == ["--budgets"]
    assert complete("budg") == ["budget"]
    assert complete("budget", "--up") == ["--update"]
    assert complete("budget", "--margin", "") == []
    assert complete("budget", "-o", "x", SCRIPT[:-2]) == [SCRIPT]


def test_the_command_and_its_arguments():
    assert "sh" in complete("--", "s")
    assert "sh" in complete("-q", "--limit", "1G", "s")  # a value is not the command
    assert complete("config") == ["config"]
    assert complete("docto") == ["doctor"]
    assert complete("doctor", "--j") == ["--json"]
    assert complete("sh", SCRIPT[:-2]) == [SCRIPT]  # the command's argument: a file


def test_each_subcommand_offers_the_options_of_its_help():
    assert complete("analyze", "--sp") == ["--spike-factor", "--spike-floor"]
    assert complete("analyze", "--top", "") == []  # a number, not a file
    assert complete("analyze", "-N", "") == []
    assert complete("analyze", SCRIPT[:-2]) == [SCRIPT]  # a memory log
    assert complete("doctor", "--v") == ["--version"]
    assert complete("doctor", "") == []  # doctor takes no arguments
    assert complete("budget", "--vers") == ["--version"]
    assert "analyze" in complete("ana") and "config" in complete("conf")


def help_options(*sub):
    """The long options of `BIN [sub] --help`, read from its option lines."""
    out = subprocess.run([BIN, *sub, "--help"], capture_output=True, text=True, check=True)
    found = set()
    for line in out.stdout.splitlines():
        if re.match(r" +-", line):
            column = re.split(r" [a-z(]", line.strip() + " ", maxsplit=1)[0]
            found |= set(re.findall(r"--[a-z][a-z-]*", column))
    return sorted(found)


@pytest.mark.parametrize("sub", [(), ("config",), ("analyze",), ("budget",), ("doctor",),
                                 ("merge",)])
def test_each_subcommand_completes_exactly_the_options_of_its_help(sub):
    # Compared with the help itself: the options a help mentions in its prose (budget's
    # "--budgets FILE of a run") are not offered, and none of its own is missing.
    assert sorted(complete(*sub, "--")) == help_options(*(sub if sub != ("config",) else ()))
    assert "--budgets" not in complete("budget", "--")
    assert sorted(complete("analyze", "--")) == ["--help", "--html", "--json", "--leak-floor",
                                         "--spike-factor", "--spike-floor", "--top",
                                         "--version"]


def test_the_value_an_option_takes_comes_from_the_help():
    # "-N, --top N": a number, not a file; "--json FILE": files; a run's "-n, --name
    # NAME" is a value, so the word after it is not the command.
    assert complete("analyze", "-N", "") == []
    assert complete("analyze", "--json", SCRIPT[:-2]) == [SCRIPT]
    assert complete("budget", "-f", "") == ["512M", "1G", "2G", "4G", "8G", "50%", "max"]
    assert complete("-k", "") == ["100ms", "1s", "10s", "1m"]
    assert complete("-n", "x", "--", "s") == complete("--", "s")
    assert complete("--pids-max", "m") == ["max"]
