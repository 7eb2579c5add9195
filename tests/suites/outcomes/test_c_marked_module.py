"""A module whose tests are all skipped by a module-level mark, and one more after them."""
import pytest

pytestmark = pytest.mark.skip(reason="the whole module")


def test_one():
    pass


def test_two():
    pass
