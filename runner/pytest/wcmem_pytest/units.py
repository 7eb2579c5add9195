"""One unit per test: the plugin pytest runs, which asks the runner for each test's cgroup
around its setup, call and teardown, and tells it how the test ended.

WcmemPlugin is one pytest plugin made of the concerns below it (the hooks of each in its
own module, sharing this object's state): units here; the replay (resume.py), the
markers (markers.py), the extras (diagnostics.py), an xdist worker's crash
(xdist_support.py).
"""
import os
import re
import sys

import pytest

from .client import RunnerError
from .diagnostics import Diagnostics
from .forkserver import Forkserver, forkserver_pid
from .markers import FailMessage, Markers
from .protocol import WHERE_MAX, encode, short_id
from .reports import failure_of, outcome_of, plain_pass, reports_blob, warning_to
from .resume import Replay
from .xdist_support import XdistVerdict


def _def_line(path, lineno):
    """The 0-based line of the def at or after lineno, which is a decorator's: the first
    line of a decorated function, since Python 3.8. lineno itself otherwise."""
    import linecache
    lines = linecache.getlines(path)
    if lineno >= len(lines) or not lines[lineno].lstrip().startswith("@"):
        return lineno
    for at in range(lineno, min(len(lines), lineno + 200)):
        if re.match(r"\s*(async\s+)?def\s", lines[at]):
            return at
    return lineno


class WcmemPlugin(Replay, Markers, Diagnostics, XdistVerdict):
    def __init__(self, config, runner):
        self.config = config
        self.runner = runner
        self._init_diagnostics()
        self.forkserver = Forkserver()
        self.shard = None  # the Shard that selects this run's share (shard.py), or None
        self._init_replay()
        self._init_markers()
        self.reports = []
        self.current = None
        self.warned = {}  # by kind: refused (False), gone (True)
        self.move_in = True  # a test moves itself into its kept unit (until that fails)
        self.warnings = []  # the test's warnings, as warning_to makes them
        self.paths = {}  # a test file as pytest says it: (as _where shows it, its path)
        self.measuring = False  # WCMEM_SANDBOX_MEASURE: tests run in children (measure.py)
        self.keep_next = "1"  # START's keep=: a unit kept for this process's next test

    # -- one unit per test -------------------------------------------------------------------

    # Around every other wrapper (pytest's warnings plugin's among them): the warnings a
    # test raised are recorded by the time its END goes.
    @pytest.hookimpl(hookwrapper=True, tryfirst=True)
    def pytest_runtest_protocol(self, item, nextitem):
        # A pytest run inside a test (pytester) is not ours; nor a test run in a child
        # (measure.py), which opens its own unit.
        if self.current is not None or self.measuring:
            yield
            return
        if self.replayed_failures:
            self._count_replayed_failures(item.session)
        self.current = item.nodeid
        self.reports, self.warnings = [], []
        where = self._where(item)
        name = encode(short_id(item.nodeid))
        where = where if len(where.encode("utf-8", "surrogateescape")) <= WHERE_MAX else None
        self.leaks = self.leak_base = None
        extras = self._extras(self._start_extras)
        # Once this returns, the test is in its unit: moved there by itself (the runner
        # writes TEST_START when it reads START, a moment later), or by the runner before
        # its answer.
        opened = self._start(item, name, where, extras)
        if opened and self.tracemalloc_top:
            self.sampler.start(name)
        if opened:
            self.forkserver.follow()
        try:
            yield
        finally:
            self.current = None
            self.sampler.stop()
            if opened:
                self.forkserver.leave()
                # Held for the next test's START, sent a moment later: one write for both.
                message, failure = failure_of(self.reports)
                self._tell("END", name, item.nodeid, outcome=outcome_of(self.reports),
                           message=message, failure=failure,
                           extras=self._extras(self._end_extras),
                           reports=None if plain_pass(self.reports, self.warnings) else
                           reports_blob(self.config, self.reports, self.warnings),
                           hold=nextitem is not None and self.move_in)

    def _where(self, item):
        """The test's "FILE:LINE" for the summary's line an editor jumps to: the file as
        seen from the folder the runner was started in (pytest's are from its rootdir),
        the line of its def (pytest's is its first decorator's)."""
        path, lineno, _ = item.location
        known = self.paths.get(path)
        if known is None:  # once a file: per test, a dict lookup
            full = os.path.join(str(self.config.rootpath), path)
            shown, cwd = path, os.environ.get("WCMEM_SANDBOX_CWD")
            if cwd:
                try:
                    shown = os.path.relpath(full, cwd)
                except ValueError:
                    pass
            known = self.paths[path] = (shown, full)
        shown, full = known
        if lineno is None:
            return shown
        return f"{shown}:{_def_line(full, lineno) + 1}"

    def _start(self, item, name, where, extras):
        """START, with the sizes of the test's limit_memory and limit_leaks markers as
        written: the runner reads them (bytes, "24 MB", "1.5 GiB"). A size it refuses fails
        this test, not the session, and the test runs in a unit without the markers."""
        sizes = {"limit": self._marker_size(item, "limit_memory"),
                 "leaks": self._marker_size(item, "limit_leaks")}
        bad = next((v for v in sizes.values() if isinstance(v, FailMessage)), None)
        if bad is None and any(sizes.values()) and self.runner is not None:
            try:
                self.runner.call("START", name, kind="test", where=where, extras=extras,
                                 keep=self.keep_next, **sizes)
                self.leaks = sizes["leaks"]
                return True
            except RunnerError as err:
                if err.closed or not str(err).startswith("START: ERR 400 "):
                    self._degrade(item.nodeid, err, err.closed)
                    return err.last_taken
                bad = str(err)[len("START: ERR 400 "):]
            except OSError as err:
                self._degrade(item.nodeid, err, True)
                return False
        # With a forkserver to follow the test, START waits for its answer instead: the
        # runner takes a unit made ahead only with nothing in it but the test, and the
        # forkserver moves in after it.
        if bad is not None:  # fails in its call (pytest_runtest_call)
            self.bad_marker[item.nodeid] = bad
        elif forkserver_pid() is None and self._move_in(name, item.nodeid, where, extras):
            return True
        return self._ask("START", name, item.nodeid, kind="test", where=where, extras=extras,
                         keep=self.keep_next)

    def _move_in(self, name, nodeid, where, extras):
        """START without waiting for its answer: the test moves itself into the unit the
        runner kept for it (keep=1 on the last START), and runs. START goes first, so the
        runner always learns which test is in that unit, even one killed at once; it moves
        the test too if it reads START first (a move into where one is moves nothing).
        False when no unit is kept (the last START's answer has not come, or named none)
        or the move is not ours to make: then START waits for its answer."""
        runner = self.runner
        if runner is None or not self.move_in:
            return False
        try:
            runner.wait(block=False)  # the answers that have come, the last START's first
        except RunnerError as err:
            self._degrade(nodeid, err, err.closed)
        except OSError as err:
            self._degrade(nodeid, err, True)
        runner = self.runner
        procs = runner.kept if runner is not None else None
        if procs is None:
            return False
        runner.kept = None
        if not self._tell("START", name, nodeid, kind="test", where=where, extras=extras,
                          keep=self.keep_next, moved="1"):
            return False
        try:
            fd = os.open(procs, os.O_WRONLY | os.O_CLOEXEC)
            try:
                os.write(fd, str(os.getpid()).encode())
            finally:
                os.close(fd)
        except FileNotFoundError:
            # The runner let the kept unit go: a test to run again waits to run alone, and
            # every START waits for its answer meanwhile.
            return self._ask_owed(nodeid)
        except OSError:
            # Not ours to write (a runner of another user, without delegation): the runner
            # moves the test when it reads START, so wait for that, from now on too.
            self.move_in = False
            return self._ask_owed(nodeid)
        return True

    def _ask_owed(self, nodeid):
        """Waits for the answers owed: True when the last line's was OK."""
        try:
            self.runner.wait()
            return True
        except RunnerError as err:
            self._degrade(nodeid, err, err.closed)
            # An earlier END's refusal does not undo the last line: its answer was read too.
            return err.last_taken
        except OSError as err:
            self._degrade(nodeid, err, True)
            return False

    # where it is, the runner's log has a UNIT_REFUSED entry, and pytest says so once.

    def _ask(self, verb, name, nodeid, **options):
        """Sends verb and waits for its answer. Returns True when the runner took it."""
        return self._tell(verb, name, nodeid, **options) and self._ask_owed(nodeid)

    def _tell(self, verb, name, nodeid, **options):
        """Sends verb; its answer is read with the next line's (RunnerError then). Returns
        True when it was sent."""
        if self.runner is None:
            return False
        try:
            self.runner.send(verb, name, **options)
            return True
        except OSError as err:
            self._degrade(nodeid, err, True)
            return False

    def _degrade(self, nodeid, err, gone):
        """Warns once that the runner refused a request, and once that it is gone."""
        if gone:
            self.runner = None  # every later test runs without a unit
        if self.warned.get(gone):
            return
        self.warned[gone] = True
        what = ("lost the connection to the runner" if gone else "the runner refused a request")
        after = ("later tests run without units of their own, and are not in the log" if gone
                 else "a test it refuses runs without a unit of its own, and the log marks it "
                 "(UNIT_REFUSED)")
        sys.stderr.write(f"wcmem-sandbox plugin: warning: {what} ({err}) at {nodeid}: "
                         f"{after}\n")

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session):
        """The END held for a next test that does not come (-x, --maxfail, Ctrl-C)."""
        if self.runner is None:
            return
        try:
            self.runner.flush()
        except OSError as err:
            self._degrade("the last test", err, True)

    def pytest_unconfigure(self, config):
        if self.runner is None:
            return
        try:
            self.runner.wait()  # the last END's answer: the runner has ended the last unit
        except (RunnerError, OSError) as err:
            self._degrade("the last test", err, getattr(err, "closed", True))

    def pytest_runtest_logreport(self, report):
        if self.current is not None and report.nodeid == self.current:
            self.reports.append(report)

    def pytest_warning_recorded(self, warning_message, when, nodeid, location):
        if self.current is not None and when == "runtest" and nodeid == self.current:
            self.warnings.append(warning_to(warning_message))
