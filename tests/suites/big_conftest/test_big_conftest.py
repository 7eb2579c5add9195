"""Tests that run after a big conftest: the small ones pass under a small test limit, the
hog is OOM-killed by it."""
import conftest


def test_small():
    assert len(conftest.TABLE) == 120 << 20


def test_hog():
    hog = bytearray(100 << 20)
    hog[::4096] = b"\x01" * len(hog[::4096])


def test_after():
    assert bytearray(10 << 20)
