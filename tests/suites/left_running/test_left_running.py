"""A process the first test leaves running grows while the second runs, until the sandbox
total stops it: the OOM kill happens outside every unit, in the harness."""
import os
import subprocess
import sys
import tempfile
import time

GO = os.path.join(tempfile.mkdtemp(prefix="wcmem-left-running."), "go")
GROW = f"""
import os, sys, time
while not os.path.exists({GO!r}):
    time.sleep(0.01)
held = []
while True:
    held.append(b"x" * (16 << 20))
    time.sleep(0.01)
"""
CHILD = []


def test_leaves_a_process_running():
    CHILD.append(subprocess.Popen([sys.executable, "-c", GROW]))


def test_runs_while_it_grows():
    open(GO, "w").close()  # the child grows from now on, in the harness
    deadline = time.monotonic() + 60
    while CHILD[0].poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert CHILD[0].returncode == -9
