"""Each test holds a known amount of memory: the runner must report that as its peak."""
import pytest


@pytest.mark.parametrize("mb", [60, 100, 150])
def test_holds(mb):
    block = bytearray(mb << 20)  # zero-filled: every page touched
    assert len(block) == mb << 20
