"""A test that leaves a process running behind it, as a forgotten server would."""
import os
import subprocess
import sys


def test_leaves_a_process():
    marker = os.environ.get("LEFTOVER_MARKER", "leftover")
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", marker])


def test_next():
    assert True
