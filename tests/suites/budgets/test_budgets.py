"""Tests with steady peaks, for budgets: BUDGET_SUITE_GROW names one (test_holds[60]) that
then holds 30% more, as a change that makes a test hungrier would."""
import os

import pytest


@pytest.mark.parametrize("mb", [40, 60])
def test_holds(mb):
    if os.environ.get("BUDGET_SUITE_GROW") == f"test_holds[{mb}]":
        mb = mb * 13 // 10
    block = b"x" * (mb << 20)  # every page written: charged to the test's cgroup
    assert len(block) == mb << 20


def test_small():
    assert sum(range(1000)) == 499500
