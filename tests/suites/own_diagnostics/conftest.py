"""An in-process diagnostics plugin of the project's own, written as the Memory Diagnostics
Guide describes WeatherCop's: it truncates the default log ($WEATHERCOP_DIR/test_memory.log,
else ~/.weathercop/test_memory.log) when its session starts and writes TEST_START and
TEST_END entries around each test; WEATHERCOP_DISABLE_DIAGNOSTICS=1 turns it off, unless
OWN_DIAGNOSTICS_IGNORE_SWITCH=1 makes it a writer that ignores the switch."""
import datetime
import os

LOG = None


def _path():
    folder = os.environ.get("WEATHERCOP_DIR") or os.path.expanduser("~/.weathercop")
    return os.path.join(folder, "test_memory.log")


def _entry(event, name):
    if LOG is None:
        return
    stamp = datetime.datetime.now().isoformat(timespec="microseconds")
    LOG.write(f"[{stamp}] {event}: {name}\n  Peak memory: 1.0 MB\n")
    LOG.flush()
    os.fsync(LOG.fileno())


def pytest_sessionstart(session):
    global LOG
    if (os.environ.get("WEATHERCOP_DISABLE_DIAGNOSTICS") == "1" and
            os.environ.get("OWN_DIAGNOSTICS_IGNORE_SWITCH") != "1"):
        return
    os.makedirs(os.path.dirname(_path()), exist_ok=True)
    LOG = open(_path(), "w")  # "w": truncated at every session start, as the guide's


def pytest_runtest_setup(item):
    _entry("TEST_START", item.nodeid)


def pytest_runtest_teardown(item):
    _entry("TEST_END", item.nodeid)
