"""30 tests that hold 2, 4, ... 60 MB, in a shuffled order: more than the summary lists."""
import pytest

SIZES = [(7 * i) % 30 * 2 + 2 for i in range(30)]  # 7 and 30 are coprime: all different


@pytest.mark.parametrize("mb", SIZES)
def test_holds(mb):
    block = bytearray(mb << 20)
    assert len(block) == mb << 20
