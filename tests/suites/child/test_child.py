"""Memory a test's child process allocates is the test's."""
import subprocess
import sys


def test_child_allocates():
    code = "b = bytearray(120 << 20); print(len(b))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == str(120 << 20)
