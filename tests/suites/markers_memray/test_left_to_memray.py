"""Markers that pytest-memray, when active, enforces itself."""
import pytest


@pytest.mark.limit_memory("24 MB")
def test_over_the_marker():
    assert len(b"x" * (48 << 20)) == 48 << 20


@pytest.mark.limit_leaks("1 MB")
def test_keeps():
    test_keeps.kept = b"x" * (10 << 20)
