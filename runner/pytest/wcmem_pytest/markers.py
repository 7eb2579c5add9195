"""pytest-memray's markers, limit_memory and limit_leaks, enforced by the kernel: their
SIZE goes to the runner in START, and limit_leaks compares what the test's unit holds
before and after its call (USAGE)."""
import sys

import pytest

from .client import RunnerError
from .libc import release_memory
from .protocol import encode, short_id


def register(config):
    """pytest-memray's markers, so that --strict-markers projects run unchanged."""
    config.addinivalue_line("markers", "limit_memory(SIZE): the test's own memory limit "
                            "(its cgroup's, under wcmem-sandbox), e.g. \"24 MB\"")
    config.addinivalue_line("markers", "limit_leaks(SIZE): fail the test when it still holds "
                            "more than SIZE at its end (under wcmem-sandbox: its cgroup's)")


# pytest-memray's marker options that the kernel's count of a cgroup cannot follow: they
# are ignored with a warning, and why. The marker's SIZE still holds.
_MARKER_IGNORED = {
    "limit_memory": {"current_thread_only": "the limit is the test's cgroup's, every "
                     "thread and child process of the test counts"},
    "limit_leaks": {"filter_fn": "what the test's cgroup still holds after its call is "
                    "compared whole, with no allocation stacks to filter"},
}


class FailMessage(str):
    """Why a marker fails its test (not a size to send)."""


class Markers:
    """WcmemPlugin's hooks for the markers. Uses the plugin's config, runner and
    _degrade (units.py)."""

    def _init_markers(self):
        self.ignored_said = set()  # (marker, option) ignored, said once
        self.to_warn = []  # warnings about the test's markers, said as its setup starts
        self.memray = None  # pytest-memray active: found at the first test
        self.bad_marker = {}  # node id: why its marker's size fails it
        self.leaks = None  # the test's limit_leaks SIZE, when its unit has it
        self.leak_base = None  # _usage() as the test's call began

    def _memray_active(self):
        """pytest-memray, run with --memray, registers its manager: its markers are its."""
        if self.memray is None:
            self.memray = self.config.pluginmanager.has_plugin("memray_manager")
            if self.memray:
                sys.stderr.write("wcmem-sandbox plugin: pytest-memray is active (--memray): "
                                 "the limit_memory and limit_leaks markers are left to it\n")
        return self.memray

    def _marker_size(self, item, marker_name):
        """The marker's SIZE as written (the runner parses it), None without the marker
        (or under pytest-memray), or a non-str: the message that fails the test."""
        marker = item.get_closest_marker(marker_name)
        if marker is None or self._memray_active():
            return None
        ignored = [k for k in _MARKER_IGNORED[marker_name] if k in marker.kwargs]
        kwargs = {k: v for k, v in marker.kwargs.items() if k not in ignored}
        args = marker.args or tuple(kwargs.values())
        if len(args) != 1 or not isinstance(args[0], str) or (marker.args and kwargs):
            return FailMessage(f"{marker_name}() takes one SIZE as a string, e.g. "
                               f"{marker_name}(\"24 MB\"); got {marker.args!r} {marker.kwargs!r}")
        for key in ignored:
            self._warn_ignored(item, marker_name, key)
        return args[0]

    def _warn_ignored(self, item, marker_name, key):
        """Once a session for each such option, naming the first test that gives it."""
        if (marker_name, key) in self.ignored_said:
            return
        self.ignored_said.add((marker_name, key))
        self.to_warn.append(pytest.PytestWarning(
            f"wcmem-sandbox: {marker_name}({key}=...) is not supported and is ignored: "
            f"{_MARKER_IGNORED[marker_name][key]} (first in {item.nodeid})"))

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item):
        # Warned here, inside pytest's record of the test's warnings: START is sent before
        # (pytest_runtest_protocol wraps the warnings plugin's own wrapper).
        while self.to_warn:
            item.warn(self.to_warn.pop(0))

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_call(self, item):
        why = self.bad_marker.pop(item.nodeid, None)
        if why is not None:
            pytest.fail(f"wcmem-sandbox: {why}", pytrace=False)
        self.leak_base = None
        if self.leaks is not None:
            release_memory()
            self.leak_base = self._usage(item)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        """limit_leaks: what the test's unit holds after its call (and a gc.collect()) over
        what it held as the call began: its fixtures' memory, freed at teardown, is no
        leak. The kernel's count: native pools and child processes too."""
        outcome = yield
        report = outcome.get_result()
        if call.when != "call" or not report.passed or self.leak_base is None:
            return
        release_memory()
        usage = self._usage(item)
        if usage is None or len(usage) != 2:
            return
        kept, allowed = max(usage[0] - self.leak_base[0], 0), usage[1]
        if kept > allowed:
            report.outcome = "failed"
            report.longrepr = (f"wcmem-sandbox: the test still holds {kept / 1048576:.1f} MB "
                               f"after its end (after gc.collect() and malloc_trim), over its "
                               f"limit_leaks({self.leaks!r})")

    def _usage(self, item):
        """The unit's memory.current now and, with a limit_leaks marker, what it allows,
        as a tuple of ints; None when the runner cannot say."""
        if self.runner is None:
            return None
        try:
            answer = self.runner.call("USAGE", encode(short_id(item.nodeid)))
            return tuple(int(word) for word in answer.split())
        except RunnerError as err:
            self._degrade(item.nodeid, err, err.closed)
        except (OSError, ValueError) as err:
            self._degrade(item.nodeid, err, True)
        return None
