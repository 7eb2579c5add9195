"""Known leakers among tests that only look like them: each leaker keeps 8 MB more in a
module-level list every time it runs; a cache is filled once (later runs keep nothing); a
test frees 20 MB of small objects that the allocator would keep; a test imports a module for
the first time; the rest are trivial."""
import functools

import pytest

KEPT = []


@pytest.mark.parametrize("n", [1, 2, 3])
def test_leaks(n):
    KEPT.append(bytearray(b"k" * (8 << 20)))  # every page written


@functools.lru_cache(maxsize=None)
def table(n):
    return bytes(range(256)) * (n << 12)  # n MiB


@pytest.mark.parametrize("n", [1, 2])
def test_cache(n):
    assert len(table(8)) == 8 << 20  # filled by the first, found by the second


SMALL = []


@pytest.mark.parametrize("n", [1, 2])
def test_frees_what_it_allocates(n):
    # 20 MB, freed, twice: glibc serves the second from its heap once the first, mapped on
    # its own, was freed (its mmap threshold rises to the freed size), and keeps that heap
    # when it is freed; a small block allocated after it and kept holds the heap's top
    for _ in range(2):
        big = b"f" * (20 << 20)
        SMALL.append(bytes(4000))
        del big
    assert SMALL[-1] == bytes(4000)


def test_first_import():
    numpy = pytest.importorskip("numpy")  # some 10 MB of code and tables, once
    assert numpy.arange(4).sum() == 6


@pytest.mark.parametrize("n", range(10))
def test_trivial(n):
    assert n * 2 == n + n
