"""Stands in for pytest-memray: with --memray it registers its manager under the name
pytest-memray uses ("memray_manager"), and enforces nothing itself."""


def pytest_addoption(parser):
    parser.addoption("--memray", action="store_true")


class Manager:
    pass


def pytest_configure(config):
    if config.getoption("memray"):
        config.pluginmanager.register(Manager(), "memray_manager")
