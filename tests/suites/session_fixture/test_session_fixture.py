"""A session-scoped fixture is set up in the process it is used in: after an OOM kill the
run goes on in a copy forked before any test, which sets it up again (its pid tells)."""
import os

import pytest


@pytest.fixture(scope="session")
def where():
    print(f"session fixture set up in {os.getpid()}")
    return os.getpid()


def test_first(where):
    assert where == os.getpid()


def test_hog(where):
    hog = []
    while True:
        hog.append(bytearray(16 << 20))


def test_last(where):
    assert where == os.getpid()
