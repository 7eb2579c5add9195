"""A stand-in for xarray (not needed for the test): the plugin counts live
xarray.Dataset objects once a module named xarray is imported."""
import sys
import types


class Dataset:
    def __init__(self, name):
        self.name = name


sys.modules["xarray"] = types.SimpleNamespace(Dataset=Dataset)
