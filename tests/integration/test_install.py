"""`make install` into a DESTDIR: the installed binary finds its pytest plugin, the package
installed beside it (PREFIX/share/wcmem-sandbox/wcmem_pytest/), and runs each test in a unit
of its own; the documents go to PREFIX/share/doc/wcmem-sandbox; `make uninstall` takes it
all back; a binary with no plugin beside it says so, and runs the tests all the same."""
import os
import shutil
import subprocess

import pytest

from conftest import BIN

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PACKAGE = os.path.join(ROOT, "runner", "pytest", "wcmem_pytest")
PYTEST = ["/usr/bin/python3", "-m", "pytest", "-p", "no:cacheprovider", "-q"]
SUITE = "def test_one():\n    pass\n\n\ndef test_two():\n    pass\n"
NOT_INSTALLED = "the pytest plugin (the package wcmem_pytest/) is not installed beside the binary"

# What make and the folders do, not the cgroup backend: the cgroup v2 VM leaves it out.
pytestmark = pytest.mark.backend_neutral


def run_suite(sandbox, tmp_path, binary):
    sandbox.cmd = lambda *args: [binary, *args]
    (tmp_path / "test_two.py").write_text(SUITE)
    run = sandbox.run("--limit", "1G", "--", *PYTEST, str(tmp_path / "test_two.py"))
    assert run.rc == 0, run.stderr
    return run, [e.name for e in run.entries
                 if e.event == "TEST_START" and e.value("Kind") == "test"]


def test_make_install_into_a_destdir_gives_a_working_install(sandbox, tmp_path):
    dest = tmp_path / "dest"
    # The binary under test as it is (-o: make never rebuilds it here).
    done = subprocess.run(["make", "-s", "-C", ROOT, "install", f"DESTDIR={dest}",
                           "PREFIX=/usr", f"BIN={BIN}", "-o", BIN],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    installed = dest / "usr" / "share" / "wcmem-sandbox" / "wcmem_pytest"
    assert sorted(p.name for p in installed.iterdir()) == \
        sorted(f for f in os.listdir(PACKAGE) if f.endswith(".py"))
    docs = dest / "usr" / "share" / "doc" / "wcmem-sandbox"
    assert {"README.md", "log-format.md", "analyze.md", "reports.md"} <= \
        {p.name for p in docs.iterdir()}
    run, tests = run_suite(sandbox, tmp_path, str(dest / "usr" / "bin" / "wcmem-sandbox"))
    assert NOT_INSTALLED not in run.stderr
    assert [t.rsplit("::", 1)[-1] for t in tests] == ["test_one", "test_two"], run.log_text
    # make uninstall, with the same PREFIX and DESTDIR, leaves no file of ours (the python
    # that ran the plugin may have left its __pycache__ there too).
    gone = subprocess.run(["make", "-s", "-C", ROOT, "uninstall", f"DESTDIR={dest}",
                           "PREFIX=/usr"], capture_output=True, text=True, timeout=120)
    assert gone.returncode == 0, gone.stderr
    left = [str(p.relative_to(dest)) for p in dest.rglob("*") if not p.is_dir()]
    assert left == [], left
    assert not (dest / "usr" / "share" / "wcmem-sandbox").exists()


def test_a_binary_without_its_plugin_says_so(sandbox, tmp_path):
    alone = tmp_path / "bin" / "wcmem-sandbox"
    alone.parent.mkdir()
    shutil.copy2(BIN, alone)
    run, tests = run_suite(sandbox, tmp_path, str(alone))
    assert NOT_INSTALLED in run.stderr
    assert tests == [], run.log_text
