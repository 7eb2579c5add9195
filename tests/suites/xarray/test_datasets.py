"""Debian's real xarray (python3-xarray, python3-netcdf4): datasets kept alive and open are
counted at each test's end; closed ones, and ones that died, are not."""
import gc

import numpy as np
import xarray as xr

KEPT = []


def write(path):
    xr.Dataset({"t2m": (("time", "x"), np.arange(12.0).reshape(4, 3))}).to_netcdf(path)
    return path


def test_keeps_two_open(tmp_path):
    KEPT.append(xr.open_dataset(write(tmp_path / "kept.nc")))   # a netCDF file left open
    KEPT.append(xr.Dataset({"p": ("x", np.zeros(3))}))           # one in memory, kept


def test_closes_its_own(tmp_path):
    path = write(tmp_path / "closed.nc")
    with xr.open_dataset(path) as ds:
        assert float(ds.t2m.sum()) == 66.0
    closed = xr.open_dataset(path)
    closed.close()           # still referenced, but closed: not counted
    KEPT.append(closed)
    derived = KEPT[0].isel(x=0)  # made without Dataset.__init__, and let go
    del derived
    gc.collect()


def test_closes_the_kept():
    for ds in KEPT:
        ds.close()
    KEPT.clear()
