"""pytest-memray's marker options the kernel's count cannot follow, and a test the OOM
killer takes while tracemalloc traces it."""
import time

import pytest


def everything(stack):
    return True


@pytest.mark.limit_leaks("1 MB", filter_fn=everything)
def test_leaks_with_a_filter():
    pass


@pytest.mark.limit_leaks(location_limit="1 MB", filter_fn=everything)
def test_leaks_with_a_filter_by_keyword():
    pass


@pytest.mark.limit_leaks("1 MB", colour="red")
def test_leaks_with_an_unknown_option():
    pass


def grow_until_killed():
    held = []
    while True:
        held.append(b"x" * (8 << 20))  # the biggest allocation site of the test
        time.sleep(0.05)


def test_killed_while_traced():
    grow_until_killed()


def test_after():
    pass
