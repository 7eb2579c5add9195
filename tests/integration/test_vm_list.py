"""tests/vm/tests.txt names the tests the pure cgroup v2 VM runs: each must be a test that is
collected here, or pytest in the VM collects none (pytest-xdist's workers stop at the first
id not found) and the VM's pass says only "collected no tests"."""
import os
import subprocess

import pytest

pytestmark = pytest.mark.no_cgroup

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def listed():
    ids = []
    with open(os.path.join(ROOT, "tests", "vm", "tests.txt")) as f:
        for line in f:
            line = line.split("#", 1)[0].strip()
            if line:
                ids.append("tests/integration/" + line)
    return ids


def test_every_test_the_vm_runs_is_collected_here():
    ids = listed()
    assert ids
    out = subprocess.run(["/usr/bin/python3", "-m", "pytest", "-p", "no:cacheprovider",
                          "--collect-only", "-q", *ids], cwd=ROOT, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr
    collected = out.stdout.splitlines()
    for nodeid in ids:  # a function's id stands for each of its parameters
        assert any(c == nodeid or c.startswith(nodeid + "[") for c in collected), nodeid
