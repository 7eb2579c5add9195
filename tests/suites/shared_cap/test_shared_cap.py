"""Heavy tests that fit the sandbox's total three at a time but not four, among light ones,
for pytest-xdist: the sizes come from the environment (the integration tests and the bench
scale them), always under a limit of the runner's.

SHARED_HEAVY tests of SHARED_HEAVY_MB each, held SHARED_HOLD seconds; SHARED_LIGHT tests
that take a few MB for SHARED_LIGHT_HOLD seconds. The heavy ones carry the marker a two-phase
run selects on (`-m memory_intensive`), as projects mark them by hand without the sandbox."""
import os
import time

import pytest

HEAVY = int(os.environ.get("SHARED_HEAVY", "4"))
HEAVY_MB = int(os.environ.get("SHARED_HEAVY_MB", "120"))
HOLD = float(os.environ.get("SHARED_HOLD", "1.5"))
LIGHT = int(os.environ.get("SHARED_LIGHT", "0"))
LIGHT_HOLD = float(os.environ.get("SHARED_LIGHT_HOLD", "0.2"))


def hold(mb, seconds):
    data = b"x" * (mb << 20)  # every page written: charged, not only reserved
    time.sleep(seconds)
    return len(data)


@pytest.mark.memory_intensive  # only the two-phase baseline reads it
@pytest.mark.parametrize("i", range(HEAVY))
def test_heavy(i):
    assert hold(HEAVY_MB, HOLD) == HEAVY_MB << 20


if LIGHT:  # no parameters would be a skip
    @pytest.mark.parametrize("i", range(LIGHT))
    def test_light(i):
        assert hold(2, LIGHT_HOLD) == 2 << 20
