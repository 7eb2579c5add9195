"""pytest-memray's markers, enforced by the kernel on each test's own cgroup."""
import pytest

KEPT = []


def touched(mb):
    return b"x" * (mb << 20)  # every page written: charged to the test's cgroup


@pytest.mark.limit_memory("24 MB")
def test_over_its_limit():
    block = touched(64)
    assert len(block) == 64 << 20


@pytest.mark.limit_memory("1.5 GiB")
def test_within_its_limit():
    assert len(touched(16)) == 16 << 20


@pytest.mark.limit_leaks("1 MB")
def test_keeps_10_mb():
    KEPT.append(touched(10))


@pytest.mark.limit_leaks("1 MB")
def test_frees_what_it_used():
    block = touched(10)
    del block


@pytest.mark.limit_memory("24 XB")
def test_bad_size():
    pass


def test_unmarked():
    pass
