"""Memory pressure in the sandbox (cgroup v2 PSI), made on purpose: test_stall sets its own
unit's memory.high a few MB above what it holds and keeps allocating, so the kernel
throttles it (the sleeps count as memory stalls, the sandbox's memory.pressure rises)
for STALL_SECONDS, then lifts the high again. The light tests, on another pytest-xdist
worker, each take LIGHT_HOLD seconds: while the pressure lasts, their STARTs wait."""
import os
import time

import pytest

STALL = float(os.environ.get("STALL_SECONDS", "5"))
LIGHT = int(os.environ.get("PRESSURE_LIGHT", "12"))
LIGHT_HOLD = float(os.environ.get("PRESSURE_LIGHT_HOLD", "0.5"))


def own_unit():
    """The folder of this process's cgroup, as the plugin finds it (the sandbox's cgroup
    namespace included)."""
    from wcmem_pytest.memory import UnitMemory
    found = UnitMemory().folder()
    assert found and found[0] == "v2", f"not a cgroup v2 unit: {found}"
    return found[1]


def test_stall():
    unit = own_unit()
    with open(os.path.join(unit, "memory.current")) as f:
        current = int(f.read())
    high = os.path.join(unit, "memory.high")
    with open(high, "w") as f:
        f.write(str(current + (4 << 20)))
    held, t0, said = [], time.monotonic(), []
    try:
        while time.monotonic() - t0 < STALL:
            # Each page written is charged over the high; the kernel throttles on the way
            # back to user space, up to 2 s a page: four pages keep the overrun short.
            held.append(b"x" * (16 << 10))
            said.append(pressure(unit))
    finally:
        with open(high, "w") as f:
            f.write("max")
    note = os.environ.get("PRESSURE_NOTE")
    if note:  # what the kernel said, for the test that reads this suite's run
        with open(note, "w") as f:
            f.write(f"{len(held)} allocations of 16 KiB in {STALL} s; pressure seen:\n")
            f.writelines(f"  {line}\n" for line in said[-20:])
    assert held


def pressure(unit):
    """The "some" lines of this unit's and the sandbox's memory.pressure, with the time."""
    lines = [f"{time.monotonic():.1f}"]
    for folder in (unit, os.path.dirname(unit)):
        try:
            with open(os.path.join(folder, "memory.pressure")) as f:
                lines.append(f.readline().strip())
        except OSError as err:
            lines.append(str(err))
    return " | ".join(lines)


@pytest.mark.parametrize("i", range(LIGHT))
def test_light(i):
    time.sleep(LIGHT_HOLD)
