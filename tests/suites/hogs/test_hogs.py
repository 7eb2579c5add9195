"""Ten hogs among forty small tests: more OOM kills than pytest-xdist's default of 4 worker
restarts a worker. Each hog eats 16 MB at a time until its unit's limit (of the runner's)
kills it; the small tests must all still run."""
import pytest


@pytest.mark.parametrize("n", range(10))
def test_hog(n):
    hog = []
    while True:
        hog.append(bytearray(16 << 20))


@pytest.mark.parametrize("n", range(40))
def test_small(n):
    assert sum(range(n + 1)) == n * (n + 1) // 2
