"""Datasets left open by a test show in the log; closed ones do not."""
import sys

KEPT = []


def test_leaves_two_open():
    xr = sys.modules["xarray"]
    KEPT.extend([xr.Dataset("a"), xr.Dataset("b")])


def test_closes_its_own():
    xr = sys.modules["xarray"]
    ds = xr.Dataset("c")
    del ds
