"""The files the runner writes, where the runner is root and others can plant things: links
are never followed into someone else's file, a full disk loses no whole entry and keeps the
command's exit status, two sessions share a log only by appending, and a log that is not a
regular file (/dev/null, a FIFO, a device) works."""
import json
import os
import stat
import subprocess
import threading
import time
import xml.etree.ElementTree as ET

import pytest

import memlog
from conftest import wait_for

PYTEST = ["/usr/bin/python3", "-m", "pytest", "-p", "no:cacheprovider", "-q"]
NOBODY = 65534


@pytest.fixture
def shared(tmp_path):
    """A folder like /tmp (world-writable, sticky), and a file a planted link points to."""
    folder = tmp_path / "shared"
    folder.mkdir()
    folder.chmod(0o1777)
    target = tmp_path / "target"
    target.write_text("precious\n")
    return folder, target


def _ran(sandbox):
    return sandbox.tmp / "ran"


@pytest.mark.no_cgroup
@pytest.mark.parametrize("option", ["--log", "--json", "--junit-xml"])
def test_a_planted_link_to_a_report_file_is_refused(sandbox, shared, option):
    folder, target = shared
    link = folder / "report"
    link.symlink_to(target)
    os.lchown(link, NOBODY, NOBODY)  # planted by another user
    run = sandbox.run(option, str(link), "--", "touch", str(_ran(sandbox)))
    assert run.rc == 125, run.stderr
    assert f"open {link} (a symbolic link: not followed)" in run.stderr
    assert "name the file itself" in run.stderr  # what to do
    assert target.read_text() == "precious\n"
    assert not _ran(sandbox).exists()


@pytest.mark.no_cgroup
@pytest.mark.parametrize("key", ["log", "json", "junit_xml"])
def test_a_planted_link_named_by_a_profile_is_refused(sandbox, shared, key):
    folder, target = shared
    (folder / "out.txt").symlink_to(target)
    ini = sandbox.tmp / "wcmem-sandbox.ini"
    ini.write_text(f"[profile p]\n{key} = {folder}/out.txt\n")
    run = sandbox.run("--config", str(ini), "--profile", "p", "--", "touch",
                      str(_ran(sandbox)))
    assert run.rc == 125, run.stderr
    assert "(a symbolic link: not followed)" in run.stderr
    assert target.read_text() == "precious\n"
    assert not _ran(sandbox).exists()


@pytest.mark.no_cgroup
def test_a_planted_folder_link_is_not_followed(sandbox, shared, tmp_path):
    folder, _ = shared
    victim = tmp_path / "victim"
    victim.mkdir()
    (folder / "build").symlink_to(victim)
    os.lchown(folder / "build", NOBODY, NOBODY)
    run = sandbox.run("--json", str(folder / "build" / "r.json"), "--", "true")
    assert run.rc == 125, run.stderr
    assert f"follow {folder}/build, a link that user {NOBODY} made" in run.stderr
    assert os.listdir(victim) == []


@pytest.mark.no_cgroup
def test_a_planted_hard_link_is_refused(sandbox, shared):
    folder, target = shared
    os.link(target, folder / "r.xml")
    run = sandbox.run("--junit-xml", str(folder / "r.xml"), "--", "true")
    assert run.rc == 125, run.stderr
    assert "has 2 names (hard links)" in run.stderr
    assert target.read_text() == "precious\n"


def test_report_files_of_our_own_in_a_shared_folder_are_written(sandbox, shared):
    folder, _ = shared
    run = sandbox.run("-q", "--json", str(folder / "new" / "r.json"), "--log",
                      str(folder / "mem.log"), "--", "true")
    assert run.rc == 0, run.stderr
    assert json.loads((folder / "new" / "r.json").read_text())["units"]
    assert "SESSION_END" in (folder / "mem.log").read_text()


def _suite(tmp_path, n):
    """A pytest suite of n small tests, one of them failing."""
    path = tmp_path / "suite"
    path.mkdir()
    (path / "test_many.py").write_text(
        "import pytest\n"
        f"@pytest.mark.parametrize('i', range({n}))\n"
        "def test_small(i):\n"
        "    assert i != 7\n")
    return path


@pytest.fixture
def small_disk(tmp_path):
    """A 24 KiB tmpfs: a log of a few dozen entries fills it."""
    where = tmp_path / "disk"
    where.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24k,mode=0755", "wcmem-test",
                    str(where)], check=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", str(where)], check=True)


def _whole_entries(text):
    """The log's entries, checked whole: each TEST_START (COMMAND_START) has its Elapsed line,
    each TEST_END (COMMAND_END) its Exit line, SESSION_START its limits, and the text ends
    with a newline."""
    assert text.endswith("\n"), text[-200:]
    entries = memlog.parse(text)
    for e in entries:
        want = {"TEST_START": "Elapsed", "TEST_END": "Exit", "COMMAND_START": "Elapsed",
                "COMMAND_END": "Exit", "SESSION_START": "swap",
                "SESSION_END": "Exit status"}[e.event]
        assert e.value(want) is not None, f"torn {e}: {e.lines}"
    return entries


def test_a_full_disk_keeps_whole_entries_the_status_and_the_reports(sandbox, tmp_path,
                                                                     small_disk):
    log = small_disk / "mem.log"
    run = sandbox.run("--limit", "512M", "--log", str(log), "--json", str(tmp_path / "r.json"),
                      "--junit-xml", str(tmp_path / "r.xml"), "--", *PYTEST,
                      str(_suite(tmp_path, 120)), timeout=600)
    assert run.rc == 1, run.stdout + run.stderr  # pytest's own: one test failed
    warnings = [l for l in run.stderr.splitlines() if "the memory log" in l]
    assert len(warnings) == 1, run.stderr
    assert "No space left on device (errno 28)" in warnings[0]
    entries = _whole_entries(log.read_text())
    assert f"stops before its entry {len(entries) + 1} (" in warnings[0]
    assert 10 < len(entries) < 240  # the disk filled part way
    report = json.loads((tmp_path / "r.json").read_text())
    assert len([u for u in report["units"] if u["kind"] == "test"]) == 120
    assert report["session"]["exit_status"] == 1
    root = ET.parse(tmp_path / "r.xml").getroot()
    assert len(list(root.iter("testcase"))) == 120  # the tests; the command is a property
    assert [p.get("name") for p in root.iter("property")].count("command") == 1


def test_a_log_device_that_is_always_full_is_a_warning_not_a_failure(sandbox):
    run = sandbox.run("--log", "/dev/full", "--", "sh", "-c", "echo ran; exit 3")
    assert run.rc == 3, run.stderr
    assert "ran" in run.stdout
    warnings = [l for l in run.stderr.splitlines() if "the memory log" in l]
    assert len(warnings) == 1 and "stops before its entry 1 (SESSION_START" in warnings[0]
    assert "exited 3" in run.stderr


def test_two_sessions_on_one_log_append_and_lose_nothing(sandbox, tmp_path):
    log = tmp_path / "shared.log"
    go = tmp_path / "go"
    first = sandbox.start("--limit", "256M", "--log", str(log), "--name", "first", "--", "sh",
                          "-c", f"while [ ! -e {go} ]; do sleep 0.05; done")
    try:
        assert wait_for(lambda: log.exists() and "COMMAND_START: first" in log.read_text(), 60)
        second = sandbox.run("--limit", "256M", "--log", str(log), "--name", "second", "--",
                             "true")
    finally:
        go.touch()
        done = sandbox.finish(first, timeout=120)
    assert done.rc == 0 and second.rc == 0, done.stderr + second.stderr
    assert f"the memory log {log} is being written by another running session: appending" \
        in second.stderr
    entries = _whole_entries(log.read_text())
    assert sorted((e.event, e.name) for e in entries if e.event.startswith("COMMAND")) == [
        ("COMMAND_END", "first"), ("COMMAND_END", "second"),
        ("COMMAND_START", "first"), ("COMMAND_START", "second")]
    assert [e.event for e in entries].count("SESSION_END") == 2
    # Once no session writes it, the next one starts it afresh.
    third = sandbox.run("-q", "--limit", "256M", "--log", str(log), "--name", "third", "--",
                        "true")
    assert third.rc == 0 and "another running session" not in third.stderr
    assert {e.name for e in _whole_entries(log.read_text()) if e.event == "COMMAND_END"} == \
        {"third"}


def test_dev_null_as_the_log(sandbox):
    run = sandbox.run("--limit", "256M", "--log", "/dev/null", "--", "sh", "-c", "echo ran")
    assert run.rc == 0, run.stderr
    assert run.stdout == "ran\n"
    assert "warning" not in run.stderr
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)  # still the device


class FifoReader(threading.Thread):
    """Reads a FIFO whose read end is open before the runner starts (so the runner never
    finds it without a reader): all of it, or up to the first newline, then closes it."""

    def __init__(self, path, first_line_only=False):
        super().__init__(daemon=True)
        self.fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        self.first_line_only = first_line_only
        self.data = b""
        self.start()

    def run(self):
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                chunk = os.read(self.fd, 65536)
            except BlockingIOError:
                chunk = None
            if chunk:
                self.data += chunk
                if self.first_line_only and b"\n" in self.data:
                    break
            elif chunk == b"" and self.data:
                break  # the writer has closed it (before it came, b"" means no writer yet)
            else:
                time.sleep(0.01)
        os.close(self.fd)


def test_a_fifo_with_a_reader_as_the_log(sandbox, tmp_path):
    fifo = tmp_path / "log.fifo"
    os.mkfifo(fifo)
    reader = FifoReader(fifo)
    run = sandbox.run("--limit", "256M", "--log", str(fifo), "--name", "piped", "--", "true")
    reader.join(120)
    assert run.rc == 0, run.stderr
    events = [(e.event, e.name) for e in _whole_entries(reader.data.decode())]
    assert ("COMMAND_END", "piped") in events and events[-1][0] == "SESSION_END"


@pytest.mark.no_cgroup
def test_a_fifo_without_a_reader_is_a_clear_error_not_a_hang(sandbox, tmp_path):
    fifo = tmp_path / "log.fifo"
    os.mkfifo(fifo)
    run = sandbox.run("--log", str(fifo), "--", "touch", str(_ran(sandbox)), timeout=60)
    assert run.rc == 125
    assert f"open {fifo}: No such device or address" in run.stderr
    assert "no process reads" in run.stderr
    assert "exited 0" not in run.stderr  # the command never started
    assert not _ran(sandbox).exists()


def _private_dirs(run_dir):
    return sorted(p.name for p in run_dir.iterdir() if p.name.startswith("wcmem-sandbox."))


def test_private_folders_of_killed_runners_are_removed_and_no_others(sandbox, tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir(mode=0o700)
    env = dict(sandbox.env, XDG_RUNTIME_DIR=str(run_dir))
    # Left alone: an older runner's folder (no lock file) and one that is not ours.
    old = run_dir / "wcmem-sandbox.Old123"
    old.mkdir(mode=0o700)
    (old / "control").write_text("")
    theirs = run_dir / "wcmem-sandbox.Other1"
    theirs.mkdir(mode=0o700)
    (theirs / "lock").write_text("")
    os.chown(theirs, NOBODY, NOBODY)
    go = tmp_path / "go"
    wait = f"echo $WCMEM_SANDBOX_SOCKET > {tmp_path}/$0; while [ ! -e {go} ]; do sleep 0.05; done"
    killed = sandbox.start("-q", "--limit", "256M", "--", "sh", "-c", wait, "killed", env=env)
    live = sandbox.start("-q", "--limit", "256M", "--", "sh", "-c", wait, "live", env=env)
    try:
        assert wait_for(lambda: (tmp_path / "killed").exists() and (tmp_path / "live").exists()
                        and (tmp_path / "live").read_text(), 60)
        killed_dir = os.path.dirname((tmp_path / "killed").read_text().strip())
        live_dir = os.path.dirname((tmp_path / "live").read_text().strip())
        killed.kill()  # SIGKILL: the runner cannot clean up
        killed.wait(60)
        assert os.path.isdir(killed_dir)
        after = sandbox.run("-q", "--limit", "256M", "--", "true", env=env)
        assert after.rc == 0, after.stderr
        assert not os.path.exists(killed_dir)
        assert os.path.isdir(live_dir)  # its runner lives: kept
        assert sorted(_private_dirs(run_dir)) == sorted(
            [old.name, theirs.name, os.path.basename(live_dir)])
    finally:
        go.touch()
        done = sandbox.finish(live, timeout=120)
        killed.kill()
    assert done.rc == 0, done.stderr  # the live runner's socket and folder were untouched
    assert _private_dirs(run_dir) == [old.name, theirs.name]


def test_a_fifo_reader_that_goes_away_loses_the_log_not_the_run(sandbox, tmp_path):
    # The reader takes the first entry and leaves: the next write gets EPIPE (SIGPIPE is
    # ignored). The command still runs, its status is kept, and it is never said to have
    # exited 0 without running.
    fifo = tmp_path / "log.fifo"
    os.mkfifo(fifo)
    reader = FifoReader(fifo, first_line_only=True)
    go = tmp_path / "go"
    run = sandbox.start("--limit", "256M", "--log", str(fifo), "--", "sh", "-c",
                        f"while [ ! -e {go} ]; do sleep 0.05; done; echo ran; exit 4")
    reader.join(120)
    go.touch()
    run = sandbox.finish(run, timeout=120)
    assert run.rc == 4, run.stderr
    assert run.stdout == "ran\n"
    warnings = [l for l in run.stderr.splitlines() if "the memory log" in l]
    assert len(warnings) == 1 and "Broken pipe (errno 32)" in warnings[0], run.stderr
    assert "exited 4" in run.stderr and "exited 0" not in run.stderr
