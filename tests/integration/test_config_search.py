"""Where the config file is found: the search from the current folder up stops at the
project's root (the first folder holding .git or .hg), and in each folder takes
wcmem-sandbox.ini, else our sections of pytest.ini, tox.ini or setup.cfg, which are read
alone (other tools' sections are theirs), trusted as wcmem-sandbox.ini is, and whose errors
name the file and the line."""
import os

import pytest

from conftest import BIN  # noqa: F401  (the binary under test)

NOBODY = 65534


def env(sandbox):
    """The sandbox's environment with no user's config file (XDG_CONFIG_HOME in the test's
    folder) and no $WCMEM_SANDBOX_CONFIG."""
    e = dict(sandbox.env, XDG_CONFIG_HOME=str(sandbox.tmp / "xdg"))
    e.pop("WCMEM_SANDBOX_CONFIG", None)
    return e


def config(sandbox, cwd, *args):
    return sandbox.run("config", *args, cwd=cwd, env=env(sandbox), timeout=60)


def found(run):
    """The config file `config` names: its first line's path and why, or 'none'."""
    first = run.stdout.splitlines()[0]
    assert first.startswith("; config file: "), run.stdout
    return first[len("; config file: "):]


def warnings(run):
    return [l for l in run.stderr.splitlines() if l.startswith("wcmem-sandbox: warning:")]


@pytest.fixture
def project(sandbox):
    """tmp/ with a stray wcmem-sandbox.ini above tmp/proj/, whose sub/ is where we run."""
    (sandbox.tmp / "wcmem-sandbox.ini").write_text("[defaults]\nlimit = 111M\n")
    sub = sandbox.tmp / "proj" / "sub"
    sub.mkdir(parents=True)
    return sandbox.tmp / "proj"


# ---- the project's root ----

@pytest.mark.no_cgroup
@pytest.mark.parametrize("mark, is_dir", [(".git", True), (".git", False), (".hg", True)],
                         ids=["git", "git-worktree-file", "hg"])
def test_the_search_stops_at_the_projects_root(sandbox, project, mark, is_dir):
    # A worktree or a submodule has a .git file ("gitdir: ..."), a checkout a .git folder.
    if is_dir:
        (project / mark).mkdir()
    else:
        (project / mark).write_text("gitdir: /elsewhere/.git/worktrees/proj\n")
    out = config(sandbox, project / "sub")
    assert out.rc == 0, out.stderr
    assert found(out).startswith("none"), out.stdout  # the stray file above is not read
    assert warnings(out) == []


@pytest.mark.no_cgroup
def test_without_a_root_the_search_goes_on_up(sandbox, project):
    out = config(sandbox, project / "sub")
    assert found(out).startswith(str(sandbox.tmp / "wcmem-sandbox.ini")), out.stdout


@pytest.mark.no_cgroup
def test_the_projects_root_file_is_read(sandbox, project):
    (project / ".git").mkdir()
    ini = project / "wcmem-sandbox.ini"
    ini.write_text("[defaults]\nlimit = 222M\n")
    out = config(sandbox, project / "sub")
    assert out.rc == 0, out.stderr
    assert found(out) == (f"{ini} (found in the current folder or the nearest parent, up to "
                          "the project's root)")
    assert f"; [defaults] {ini}:2" in out.stdout


def test_a_run_takes_the_projects_root_file(sandbox, project):
    (project / ".git").mkdir()
    (project / "wcmem-sandbox.ini").write_text("[defaults]\nlimit = 222M\n")
    run = sandbox.run("-q", "--", "true", cwd=project / "sub", env=env(sandbox))
    assert run.rc == 0, run.stderr
    assert run.entry("SESSION_START").value("memory.max") == "222.0 MB"


# ---- our sections in pytest.ini, tox.ini, setup.cfg ----

# Another tool's sections: keys not ours, a value of several indented lines (one of them
# an indented '[...]'), and a line longer than inih's line buffer.
FOREIGN = """\
[metadata]
name = example
description = {long}

[options]
install_requires =
    numpy>=1.20
    xarray
    [not-a-section]

[tool:pytest]
addopts = -x --strict-markers

"""

OURS = """\
[wcmem-sandbox]
limit = 300M

[wcmem-sandbox:profile ci]
test_limit = 64M

[wcmem-sandbox:suite small]
command = /usr/bin/python3 -c "print('suite ran')"

[flake8]
max-line-length = 100
"""


def shared_file(project, name, ours=OURS):
    path = project / name
    path.write_text(FOREIGN.format(long="x" * 500) + ours)
    return path


@pytest.mark.no_cgroup
@pytest.mark.parametrize("name", ["setup.cfg", "tox.ini", "pytest.ini"])
def test_our_section_of_a_shared_file_is_read(sandbox, project, name):
    (project / ".git").mkdir()
    path = shared_file(project, name)
    out = config(sandbox, project / "sub", "--profile", "ci")
    assert out.rc == 0, out.stderr
    assert found(out) == (f"{path} (its [wcmem-sandbox] sections; found in the current folder "
                          "or the nearest parent, up to the project's root)")
    assert f"; [wcmem-sandbox] {path}:15" in out.stdout
    assert f"; [wcmem-sandbox:profile ci] {path}:18" in out.stdout
    assert f"[wcmem-sandbox:suite small] ; {path}:20" in out.stdout
    assert warnings(out) == []


def test_a_profile_of_setup_cfg_runs_its_suite(sandbox, project):
    (project / ".git").mkdir()
    shared_file(project, "setup.cfg")
    run = sandbox.run("--profile", "ci", cwd=project / "sub", env=env(sandbox))
    assert run.rc == 0, run.stderr
    assert "suite ran" in run.stdout
    assert run.entry("SESSION_START").value("memory.max") == "300.0 MB"
    assert run.entry("TEST_END").value("memory.max") == "64.0 MB"  # the profile's test_limit


@pytest.mark.no_cgroup
@pytest.mark.parametrize("ours, line, message", [
    ("[wcmem-sandbox:profile ci]\nswap = lots\n", 15, "swap: invalid value 'lots'"),
    ("[wcmem-sandbox]\nlimt = 1G\n", 15,
     "unknown key 'limt' in [wcmem-sandbox]; did you mean 'limit'?"),
    ("[wcmem-sandbox:profiles ci]\n", 14, "unknown section [wcmem-sandbox:profiles ci]"),
    ("[wcmem-sandbox]\ncommand = " + "y" * 300 + "\n", 15, "line of 310 characters"),
])
def test_a_mistake_in_our_section_names_the_file_and_line(sandbox, project, ours, line,
                                                          message):
    (project / ".git").mkdir()
    path = shared_file(project, "tox.ini", ours)
    out = config(sandbox, project / "sub")
    assert out.rc == 125
    assert out.stderr.startswith(f"wcmem-sandbox: {path}:{line}: {message}"), out.stderr


@pytest.mark.no_cgroup
def test_a_shared_file_without_our_section_is_not_ours(sandbox, project):
    # setup.cfg of another tool alone: passed over without a word, wcmem-sandbox.ini above
    # it (no root here) is found.
    path = project / "setup.cfg"
    path.write_text(FOREIGN.format(long="x" * 500) + "[wcmem-sandbox-extra]\nlimit = 1\n")
    path.chmod(0o666)  # not even a warning: it is not ours to judge
    out = config(sandbox, project / "sub")
    assert out.rc == 0, out.stderr
    assert found(out).startswith(str(sandbox.tmp / "wcmem-sandbox.ini")), out.stdout
    assert warnings(out) == []


@pytest.mark.no_cgroup
def test_the_nearest_folder_first_then_wcmem_sandbox_ini_then_pytest_tox_setup(sandbox,
                                                                              project):
    (project / ".git").mkdir()
    files = [shared_file(project, n) for n in ("setup.cfg", "tox.ini", "pytest.ini")]
    ini = project / "wcmem-sandbox.ini"
    ini.write_text("[defaults]\n")
    for want in [ini] + files[::-1]:
        out = config(sandbox, project / "sub")
        assert found(out).startswith(f"{want} ("), out.stdout
        want.unlink()
    sub = shared_file(project / "sub", "setup.cfg")  # nearer than the parent's file
    shared_file(project, "pytest.ini")
    assert found(config(sandbox, project / "sub")).startswith(f"{sub} (")


@pytest.mark.no_cgroup
@pytest.mark.parametrize("mode, owner, why", [
    (0o666, None, "anyone may write it (mode 666)"),
    (0o644, NOBODY, f"it belongs to user {NOBODY}, neither you nor root"),
])
def test_a_shared_file_we_may_not_trust_is_not_read(sandbox, project, mode, owner, why):
    if owner is not None and os.getuid() != 0:
        pytest.skip("only root can give a file to another user")
    (project / ".git").mkdir()
    path = shared_file(project, "setup.cfg")
    path.chmod(mode)
    if owner is not None:
        os.chown(path, owner, owner)
    out = config(sandbox, project / "sub")
    assert out.rc == 0, out.stderr
    assert found(out).startswith("none"), out.stdout
    assert warnings(out) == [f"wcmem-sandbox: warning: {path} is not read: {why}"]


@pytest.mark.no_cgroup
def test_a_shared_file_named_with_config_is_read_as_one(sandbox, project):
    path = shared_file(project, "setup.cfg")
    out = config(sandbox, sandbox.tmp, "--config", str(path), "--profile", "ci")
    assert out.rc == 0, out.stderr
    assert f"; [wcmem-sandbox:profile ci] {path}:18" in out.stdout
