"""Debian's real xarray and netCDF4 (python3-xarray, python3-netcdf4; `make deps` installs
them), never a stand-in: a Dataset is not hashable, and most datasets are made without
Dataset.__init__, which a stand-in would not show."""
import pytest

from test_plugin import PYTEST, suite, units_of

pytest.importorskip("xarray", reason="python3-xarray is not installed (make deps)")
pytest.importorskip("netCDF4", reason="python3-netcdf4 is not installed (make deps)")


@pytest.mark.backend_neutral  # pure Python, and slow to import under the VM's emulation
def test_open_datasets_are_counted_and_closed_ones_are_not(sandbox):
    run = sandbox.run("--limit", "1G", "--", *PYTEST, "-p", "no:warnings", suite("xarray"))
    assert run.rc == 0, run.stdout + run.stderr
    assert "3 passed" in run.stdout
    tests = units_of(run)
    count = {n.rsplit("::", 1)[1]: e.value("Open xarray datasets") for n, e in tests.items()}
    # Kept alive: a netCDF file left open, and one in memory.
    assert count["test_keeps_two_open"] == "2", run.log_text
    # Its own were closed (with, close()) or died: only the two of before remain.
    assert count["test_closes_its_own"] == "2", run.log_text
    assert count["test_closes_the_kept"] == "0", run.log_text
