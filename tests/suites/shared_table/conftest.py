"""A table that several tests share, built by whichever test asks for it first: its memory is
charged to that test's cgroup. ANSWERS_ORDER=reversed runs the tests last to first."""
import os

import pytest

TABLE_MB = 60


@pytest.fixture(scope="session")
def table():
    return bytearray(b"t" * (TABLE_MB << 20))  # every page written


@pytest.fixture(scope="module")
def index(table):
    return bytearray(b"i" * (20 << 20))


def pytest_collection_modifyitems(items):
    if os.environ.get("ANSWERS_ORDER") == "reversed":
        items.reverse()
