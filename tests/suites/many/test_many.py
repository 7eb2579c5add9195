"""16 tests that hold 2, 4, ... 32 MB, in a shuffled order: more than the summary lists."""
import pytest

SIZES = [(5 * i) % 16 * 2 + 2 for i in range(16)]  # 5 and 16 are coprime: all different


@pytest.mark.parametrize("mb", SIZES)
def test_holds(mb):
    block = bytearray(mb << 20)
    assert len(block) == mb << 20
