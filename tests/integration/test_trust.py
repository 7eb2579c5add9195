"""What a root runner reads and writes where other users can put things: a config file the
search finds is obeyed only when it is ours or root's and no one else may write it; a file
named on the command line must be a regular file (a FIFO is refused, never waited on); every
file the tool writes, analyze's page and the log put back after another writer emptied it
included, goes through one open that follows no planted link; and the run's own HTML page
is made from its records, so that a FIFO log or a full disk still gives every unit."""
import json
import os
import re
import subprocess

import pytest

from conftest import BIN
# A suite of n small tests, one of them failing (pytest exits 1); a 24 KiB tmpfs.
from test_files import FifoReader, _suite, small_disk  # noqa: F401  (small_disk: a fixture)

PYTEST = ["/usr/bin/python3", "-m", "pytest", "-p", "no:cacheprovider", "-q"]
NOBODY = 65534
INI = "wcmem-sandbox.ini"


def env(sandbox, **extra):
    """The sandbox's environment with no user's config file of its own (XDG_CONFIG_HOME in the
    test's folder) and no $WCMEM_SANDBOX_CONFIG."""
    e = dict(sandbox.env, XDG_CONFIG_HOME=str(sandbox.tmp / "xdg"))
    e.pop("WCMEM_SANDBOX_CONFIG", None)
    e.update(extra)
    return e


@pytest.fixture
def shared(tmp_path):
    """A folder like /tmp (world-writable, sticky) with a project folder of ours below it,
    and a root-only file that a planted config would make the runner overwrite."""
    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(0o1777)
    (folder / "proj").mkdir()
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    victim.chmod(0o600)
    return folder, victim


def planted_ini(sandbox, folder, victim):
    """Another user's config file in folder: its log is the victim, its suite leaves a mark."""
    ini = folder / INI
    ini.write_text(f"[defaults]\nlog = {victim}\nlimit = 111M\n\n"
                   f"[profile p]\n\n[suite s]\ncommand = touch {sandbox.tmp}/suite-ran\n")
    os.chown(ini, NOBODY, NOBODY)
    return ini


def warnings(run):
    return [l for l in run.stderr.splitlines() if l.startswith("wcmem-sandbox: warning:")]


# ---- the search ----

def test_another_users_config_in_a_parent_folder_is_not_obeyed(sandbox, shared):
    folder, victim = shared
    ini = planted_ini(sandbox, folder, victim)
    run = sandbox.run("--", "true", cwd=folder / "proj", env=env(sandbox), timeout=60)
    assert run.rc == 0, run.stderr
    assert victim.read_text() == "precious\n"  # its `log =` was not obeyed
    assert run.entry("SESSION_START").value("memory.max") != "111.0 MB"
    (warning,) = warnings(run)  # one warning, naming it and why
    assert warning == (f"wcmem-sandbox: warning: {ini} is not read: it belongs to user "
                       f"{NOBODY}, neither you nor root"), run.stderr
    assert "name it with --config" in run.stderr  # what to do
    # Its profile is not there either: its suite never runs.
    prof = sandbox.run("--profile", "p", cwd=folder / "proj", env=env(sandbox), timeout=60)
    assert prof.rc == 125
    assert not (sandbox.tmp / "suite-ran").exists()
    assert victim.read_text() == "precious\n"


@pytest.mark.no_cgroup
@pytest.mark.parametrize("mode, group, why", [
    (0o666, None, "anyone may write it (mode 666)"),
    (0o664, NOBODY, f"group {NOBODY}, not yours, may write it (mode 664)"),
])
def test_a_config_others_may_write_is_not_read(sandbox, tmp_path, mode, group, why):
    ini = tmp_path / INI
    ini.write_text("[defaults]\nlimit = 111M\n")
    ini.chmod(mode)
    if group is not None:
        os.chown(ini, -1, group)
    out = sandbox.run("config", cwd=tmp_path, env=env(sandbox), timeout=60)
    assert out.rc == 0, out.stderr
    assert out.stdout.startswith("; config file: none"), out.stdout
    assert warnings(out) == [f"wcmem-sandbox: warning: {ini} is not read: {why}"]


@pytest.mark.no_cgroup
def test_our_own_config_and_our_own_group_are_read(sandbox, tmp_path):
    ini = tmp_path / INI
    ini.write_text("[defaults]\nlimit = 111M\n")
    ini.chmod(0o664)  # our own group may write it (user private groups, umask 002)
    os.chown(ini, -1, os.getegid())
    link_dir = tmp_path / "linked"
    link_dir.mkdir()
    (link_dir / INI).symlink_to(ini)  # a link of ours: followed
    for cwd, want in ((tmp_path, ini), (link_dir, link_dir / INI)):
        out = sandbox.run("config", cwd=cwd, env=env(sandbox), timeout=60)
        assert out.rc == 0 and not warnings(out), out.stderr
        assert out.stdout.startswith(f"; config file: {want} ("), out.stdout
        assert re.search(r"^limit += 111M ", out.stdout, re.M), out.stdout


@pytest.mark.no_cgroup
def test_the_search_goes_on_past_a_file_it_does_not_read(sandbox, tmp_path, shared):
    folder, victim = shared
    ours = tmp_path / INI
    ours.write_text("[defaults]\nlimit = 222M\n")
    theirs = planted_ini(sandbox, folder, victim)
    out = sandbox.run("config", cwd=folder / "proj", env=env(sandbox), timeout=60)
    assert out.rc == 0, out.stderr
    assert out.stdout.startswith(f"; config file: {ours} ("), out.stdout
    assert len(warnings(out)) == 1 and str(theirs) in out.stderr


@pytest.mark.no_cgroup
def test_a_link_another_user_planted_is_not_followed(sandbox, tmp_path, shared):
    folder, _ = shared
    target = tmp_path / "good.ini"
    target.write_text("[defaults]\nlimit = 111M\n")
    link = folder / INI
    link.symlink_to(target)
    os.lchown(link, NOBODY, NOBODY)
    out = sandbox.run("config", cwd=folder / "proj", env=env(sandbox), timeout=60)
    assert out.rc == 0, out.stderr
    assert out.stdout.startswith("; config file: none"), out.stdout
    assert warnings(out) == [f"wcmem-sandbox: warning: {link} is not read: it is a symbolic "
                             f"link that user {NOBODY} made"]


def test_a_fifo_in_a_parent_folder_does_not_hang_the_run(sandbox, shared):
    folder, _ = shared
    fifo = folder / INI
    os.mkfifo(fifo)
    os.chmod(fifo, 0o644)
    run = sandbox.run("-q", "--", "true", cwd=folder / "proj", env=env(sandbox), timeout=30)
    assert run.rc == 0, run.stderr
    assert warnings(run) == [f"wcmem-sandbox: warning: {fifo} is not read: it is a FIFO, not "
                             "a regular file"]


@pytest.mark.no_cgroup
def test_a_user_config_another_user_owns_is_not_read(sandbox, tmp_path):
    # HOME left in root's environment (sudo -E): that user's ~/.config is not obeyed.
    xdg = tmp_path / "home" / ".config" / "wcmem-sandbox"
    xdg.mkdir(parents=True)
    (xdg / "config.ini").write_text("[defaults]\nlimit = 111M\n")
    os.chown(xdg / "config.ini", NOBODY, NOBODY)
    e = env(sandbox, HOME=str(tmp_path / "home"))
    del e["XDG_CONFIG_HOME"]
    out = sandbox.run("config", cwd=tmp_path, env=e, timeout=60)
    assert out.rc == 0, out.stderr
    assert out.stdout.startswith("; config file: none"), out.stdout
    assert len(warnings(out)) == 1 and "config.ini is not read: it belongs to user" in out.stderr


# ---- files named on the command line ----

@pytest.mark.no_cgroup
def test_a_config_named_on_the_command_line_is_read_whoever_owns_it(sandbox, tmp_path):
    ini = tmp_path / "theirs.ini"
    ini.write_text("[defaults]\nlimit = 111M\n")
    os.chown(ini, NOBODY, NOBODY)
    out = sandbox.run("config", "--config", str(ini), cwd=tmp_path, env=env(sandbox),
                      timeout=60)
    assert out.rc == 0 and not warnings(out), out.stderr
    assert re.search(r"^limit += 111M ", out.stdout, re.M), out.stdout


@pytest.mark.no_cgroup
@pytest.mark.parametrize("how", ["--config", "WCMEM_SANDBOX_CONFIG", "--budgets"])
def test_a_fifo_named_as_a_file_to_read_is_refused_at_once(sandbox, tmp_path, how):
    fifo = tmp_path / "named.fifo"
    os.mkfifo(fifo)
    if how == "WCMEM_SANDBOX_CONFIG":
        args, e = [], env(sandbox, WCMEM_SANDBOX_CONFIG=str(fifo))
    else:
        args, e = [how, str(fifo)], env(sandbox)
    what = "budget file" if how == "--budgets" else "config file"
    run = sandbox.run(*args, "--", "touch", str(tmp_path / "ran"), cwd=tmp_path, env=e,
                      timeout=30)
    assert run.rc == 125, run.stderr
    assert f"{fifo}: cannot read the {what}: it is a FIFO" in run.stderr
    assert "a regular file" in run.stderr.split("it is a FIFO", 1)[1]  # what to do
    assert not (tmp_path / "ran").exists()


@pytest.mark.no_cgroup
def test_analyze_refuses_a_fifo_at_once(sandbox, tmp_path):
    fifo = tmp_path / "log.fifo"
    os.mkfifo(fifo)
    out = subprocess.run([BIN, "analyze", str(fifo)], capture_output=True, text=True,
                         timeout=30)
    assert out.returncode == 125, out.stderr
    assert f"{fifo}: cannot read the memory log: it is a FIFO, not a regular file" in out.stderr
    assert "give '-'" in out.stderr  # how to read a pipe


# ---- files the tool writes ----

LOG = "[2026-01-01 00:00:00.000000] TEST_START: t\n  Elapsed: 0.0s\n"


@pytest.mark.no_cgroup
@pytest.mark.parametrize("planted_by", [NOBODY, None])
def test_analyze_html_never_writes_through_a_link(sandbox, tmp_path, shared, planted_by):
    folder, _ = shared
    target = tmp_path / "target"
    target.write_text("precious\n")
    log = tmp_path / "m.log"
    log.write_text(LOG)
    link = (folder if planted_by else tmp_path) / "page.html"
    link.symlink_to(target)
    if planted_by:
        os.lchown(link, planted_by, planted_by)
    out = subprocess.run([BIN, "analyze", "--html", str(link), str(log)], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 125, out.stderr
    assert f"open {link} (a symbolic link: not followed)" in out.stderr
    assert target.read_text() == "precious\n"
    # The page itself is written where it is asked for.
    page = tmp_path / "page.html"
    page.unlink(missing_ok=True)
    out = subprocess.run([BIN, "analyze", "--html", str(page), str(log)], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert page.read_text().startswith("<!DOCTYPE html>")


def test_the_log_put_back_stays_in_its_folder_when_the_folder_is_swapped(sandbox, tmp_path):
    # A test empties the log (as a second writer of it would), then swaps the log's folder
    # for a link to another folder. The runner puts its entries back in a new file: in the
    # folder it opened, not through the link.
    logs, moved, elsewhere = tmp_path / "logs", tmp_path / "logs.moved", tmp_path / "elsewhere"
    logs.mkdir()
    elsewhere.mkdir()
    log = logs / "m.log"
    swap = f": > {log}; mv {logs} {moved}; ln -s {elsewhere} {logs}"
    run = sandbox.run("--limit", "256M", "--log", str(log), "--", "sh", "-c", swap)
    assert run.rc == 0, run.stderr
    assert "another writer emptied the log" in run.stderr
    assert os.listdir(elsewhere) == [], os.listdir(elsewhere)
    text = (moved / "m.log").read_text()
    assert "COMMAND_END" in text and "SESSION_END" in text, text


# ---- the run's own HTML page ----

def test_a_fifo_log_and_an_html_page_end_the_run(sandbox, tmp_path):
    fifo = tmp_path / "log.fifo"
    os.mkfifo(fifo)
    reader = FifoReader(fifo)
    page = tmp_path / "run.html"
    run = sandbox.run("-q", "--limit", "512M", "--log", str(fifo), "--html", str(page), "--",
                      *PYTEST, str(_suite(tmp_path, 9)), timeout=60)
    reader.join(60)
    assert run.rc == 1, run.stderr
    assert b"SESSION_END" in reader.data
    assert page.read_text().count('<rect class="test') == 9


@pytest.mark.no_cgroup
@pytest.mark.parametrize("stdin", ["pipe", "timeline"])
def test_a_run_that_fails_before_its_session_writes_its_page_from_nothing_else(sandbox,
                                                                               tmp_path, stdin):
    # No sandbox could be made: the page still ends the run, and is made of what there is,
    # never of standard input: a pipe held open (a read of it would never end), or a file
    # that looks like a timeline.
    page = tmp_path / "p.html"
    fake = tmp_path / "fake.timeline"
    fake.write_text("# wcmem-sandbox timeline 1: DT_MS SANDBOX_MB UNIT_MB...\n"
                    "# session 2026-01-01T00:00:00.000000 limit 256.0 MB interval 100 ms\n"
                    "@ u1\n100 5.0 1.0\n100 9.0 2.0\n")
    r, w = os.pipe()
    try:
        with open(fake) as f:
            proc = subprocess.run([BIN, "--html", str(page), "--", "true"],
                                  stdin=r if stdin == "pipe" else f, capture_output=True,
                                  text=True, timeout=60,
                                  env=dict(sandbox.env, WCMEM_CGROUP_BASE="/nonexistent"))
    finally:
        os.close(r)
        os.close(w)
    assert proc.returncode == 125, proc.stderr
    assert "cgroup base /nonexistent" in proc.stderr
    text = page.read_text()
    assert text.startswith("<!DOCTYPE html>") and '<rect class="test' not in text
    assert '<polyline class="timeline"' not in text


def test_the_page_after_a_full_disk_has_every_test(sandbox, tmp_path, small_disk):
    page = tmp_path / "run.html"
    run = sandbox.run("--limit", "512M", "--log", str(small_disk / "m.log"), "--html",
                      str(page), "--", *PYTEST, str(_suite(tmp_path, 120)), timeout=600)
    assert run.rc == 1, run.stderr
    assert "the memory log" in run.stderr  # the log stopped part way
    assert page.read_text().count('<rect class="test') == 120


def test_the_page_from_the_records_is_the_page_of_the_log(sandbox, tmp_path):
    # With the log whole, the page made from the records is the one analyze makes of it.
    page, again = tmp_path / "run.html", tmp_path / "analyzed.html"
    log = tmp_path / "m.log"
    run = sandbox.run("-q", "--limit", "512M", "--log", str(log), "--html", str(page), "--",
                      *PYTEST, str(_suite(tmp_path, 20)), timeout=120)
    assert run.rc == 1, run.stderr
    out = subprocess.run([BIN, "analyze", "--html", str(again), str(log)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert page.read_text() == again.read_text()


# ---- a full disk under the runner's private folder ----

FILL_THEN_HOG = """
import os

def test_a_fill():
    try:
        with open(os.path.join(os.environ["XDG_RUNTIME_DIR"], "filler"), "wb") as f:
            while True:
                f.write(b"x" * 4096)
                f.flush()
    except OSError:
        pass

def test_b_hog():
    b = bytearray(200 << 20)

def test_c_after():
    pass

def test_d_after():
    pass
"""


def test_a_test_that_fills_the_private_folders_disk_does_not_stop_the_resume(sandbox, tmp_path):
    # The private folder ($XDG_RUNTIME_DIR/wcmem-sandbox.*) is on a small tmpfs that the
    # first test fills; the second is OOM-killed. The run is resumed all the same (its resume
    # file is not on that disk) and the tests after the kill run.
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,mode=0700", "wcmem-test",
                    str(runtime)], check=True)
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "test_fill.py").write_text(FILL_THEN_HOG)
    report = tmp_path / "r.json"
    try:
        run = sandbox.run("--limit", "1G", "--test-limit", "64M", "--json", str(report), "--",
                          *PYTEST, str(suite), env=dict(sandbox.env, XDG_RUNTIME_DIR=str(runtime)),
                          timeout=300)
        assert os.path.getsize(runtime / "filler") > 0  # the disk was filled
    finally:
        subprocess.run(["umount", str(runtime)], check=True)
    assert run.rc == 1, run.stdout + run.stderr  # pytest's own: the killed test failed
    assert "1 failed, 3 passed" in run.stdout, run.stdout
    tests = {u["name"].split("::")[-1]: u for u in json.loads(report.read_text())["units"]
             if u["kind"] == "test"}
    assert sorted(tests) == ["test_a_fill", "test_b_hog", "test_c_after", "test_d_after"]
