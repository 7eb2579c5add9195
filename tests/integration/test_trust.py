"""A test cannot bend what the runner keeps, prints or records: what it sends is bounded and
escaped, the units it leaves behind are checked before another test uses them, and the
processes it may start are counted."""
import json
import os
import re
import subprocess

import pytest

from conftest import BACKEND, CLIENT_PRELUDE as ASK, MOUNT


# Ends `count` units of one kind with 8 KB names over one connection, then prints the
# runner's (its parent's) VmHWM before and after, in kB.
GROW = ASK + r"""
import json
runner, kind, count = os.getppid(), sys.argv[2], int(sys.argv[3])
def hwm():
    status = open(f"/proc/{runner}/status").read()
    return int(status.split("VmHWM:")[1].split()[0])
assert ask(b"HELLO 1\n") == "OK 1"
before, pad = hwm(), b"\xc3\xa9" * 4000
end = {"command": b"", "signal": b" outcome=failed signal=9"}[kind]
start = b" kind=command" if kind == "command" else b""
for i in range(count):
    name = b"%d-" % i + pad
    a = ask(b"START " + name + start + b"\n")
    b = ask(b"END " + name + end + b"\n")
    assert a.startswith("OK ") and b == "OK", (a, b)
cut = b"%d-" % (count - 1) + pad
print(json.dumps(dict(before=before, after=hwm(),
                      verdict=ask(b"VERDICT " + cut + b"\n"))), flush=True)
"""


@pytest.mark.parametrize("kind", ["command", "signal"])
def test_20000_long_named_units_keep_the_runner_small(sandbox, kind):
    # Units the summary keeps (commands, tests ended by a signal) keep a bounded record:
    # 20,000 of them with 8 KB names grew the runner by 8 KB each.
    env = dict(sandbox.env, ASAN_OPTIONS="quarantine_size_mb=0:" +
               sandbox.env.get("ASAN_OPTIONS", ""))
    p = subprocess.run(sandbox.cmd("--limit", "256M", "--", *sandbox.python(GROW), kind,
                                   "20000"), env=env, capture_output=True, timeout=600,
                       **sandbox._kw({}))
    assert p.returncode == 0, p.stderr[-3000:]
    r = json.loads(p.stdout.splitlines()[-1])
    print(kind, r)
    assert r["after"] < 32 << 10, f"the runner grew to {r['after']} kB: {r}"
    assert r["verdict"].startswith("OK "), r  # a cut name is still found
    # The summary names each unit by its head, whole characters, and says it was cut.
    rows = [line for line in p.stderr.decode().splitlines() if "\u00e9" in line]
    assert rows and all(len(row) < 400 for row in rows), rows[:3]
    assert re.search(r"\u00e9 \.\.\.\[800\d+ bytes, hash [0-9a-f]{16}\]", rows[-1]), rows[-1]
