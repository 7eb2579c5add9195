"""WCMEM_SANDBOX_MEASURE=1: each test in a fork of the collected pytest, so that its peak is
what it needs whatever ran before it (a budget made from it fits any order)."""
import gc
import os
import sys
import time

import pytest

from .client import Runner, RunnerError
from .libc import end_child, malloc_trim
from .reports import KilledText, reports_blob, reports_from_blob


def measuring():
    """WCMEM_SANDBOX_MEASURE: "1" measures, "0" or unset does not; else a warning."""
    text = os.environ.get("WCMEM_SANDBOX_MEASURE", "0")
    if text not in ("0", "1", ""):
        sys.stderr.write(f"wcmem-sandbox plugin: WCMEM_SANDBOX_MEASURE={text!r} is not 0 or "
                         "1: tests run one after another in one process, as without it\n")
    return text == "1"


class Measure:
    """Each test runs in a child forked from the collected pytest, alone in its unit.

    In one process a test pays only for the memory it is the first to touch: a module's
    cache or an lru_cache filled by an earlier test's body, pymalloc's arenas or glibc's
    heap an earlier test left resident, a session fixture another test set up are charged
    to that test. Run alone or in another order, the same test pays for them. Here every
    test starts from the state collection left, with nothing set up: its peak holds all it
    needs, whatever runs before it. The child opens a connection of its own (the runner
    takes it as a worker of this pytest: a kill ends the child, not the run), runs the
    test's setup, call and teardown (every fixture torn down with it), sends its END and
    hands its reports to this process through a memfd; this process reports them as if
    the test had run here. The garbage collector leaves the collected objects alone
    (gc.freeze): else a collection in each child would copy every page that holds one,
    and charge it to the test."""

    def __init__(self, wcmem, path):
        self.wcmem, self.path = wcmem, path
        self.in_child = False
        self.frozen = False
        wcmem.measuring = True  # this process opens no unit: its children do

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_protocol(self, item, nextitem):
        if self.in_child or self.wcmem.runner is None:
            return None  # the child's own run of the test, or no runner: as without us
        if not self.frozen:
            malloc_trim()  # imports ctypes here, once, not in every child
            gc.collect()
            gc.freeze()
            self.frozen = True
        # What a child would otherwise work out anew each time: the test file's path as
        # the summary shows it, and the regular expression that finds its def line.
        self.wcmem._where(item)
        self._flush()
        out = os.memfd_create("wcmem-reports", os.MFD_CLOEXEC)
        try:
            began = time.perf_counter()
            pid = os.fork()
            if pid == 0:
                self._child(item, out)  # never returns
            try:
                _, status = os.waitpid(pid, 0)
            except BaseException:  # Ctrl-C: the child is ended and waited for too
                end_child(pid)
                raise
            seconds = time.perf_counter() - began
            os.lseek(out, 0, os.SEEK_SET)
            with os.fdopen(os.dup(out), "rb") as f:
                blob = f.read()
        finally:
            os.close(out)
        self._report(item, blob, status, seconds)
        return True

    def _flush(self):
        reporter = self.wcmem.config.pluginmanager.getplugin("terminalreporter")
        for f in (getattr(reporter, "_tw", None), sys.stdout, sys.stderr):
            if f is not None:
                f.flush()  # or both would write it

    def _child(self, item, out):
        """In the child: the test in its unit, its reports into out, then exit."""
        try:
            self.in_child = True
            wcmem, config = self.wcmem, self.wcmem.config
            wcmem.runner.sock.close()  # the parent's connection: ours only closes here
            try:
                wcmem.runner = Runner(self.path)
            except (OSError, RunnerError) as err:  # too many connections, say
                wcmem._degrade(item.nodeid, err, True)  # it runs, without a unit
            wcmem.measuring, wcmem.alone = False, True
            wcmem.keep_next = None  # no next test to keep a unit for
            # The parent reports the test; the child says nothing on the terminal.
            reporter = config.pluginmanager.getplugin("terminalreporter")
            if reporter is not None:
                config.pluginmanager.unregister(reporter)
            item.ihook.pytest_runtest_protocol(item=item, nextitem=None)
            if wcmem.runner is not None:
                wcmem.runner.wait()  # END taken: the unit's entry is written
            blob = reports_blob(config, wcmem.reports, wcmem.warnings, limit=None)
            view = memoryview(blob.encode())
            while view:
                view = view[os.write(out, view):]
        except BaseException:  # noqa: BLE001 -- the parent reports a child without reports
            os._exit(1)
        os._exit(0)

    def _report(self, item, blob, status, seconds):
        """The child's reports, or a failure naming why there are none (the runner's
        verdict on an OOM kill)."""
        hook = item.ihook
        reports, warnings = None, ()
        if blob:
            try:
                reports, warnings = reports_from_blob(self.wcmem.config, blob.decode())
            except (ValueError, KeyError, TypeError):  # the test wrote over them
                pass
        if reports is None:
            verdict = self.wcmem._verdict(item.nodeid)[0] if os.WIFSIGNALED(status) else None
            how = (f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else
                   f"exit status {os.WEXITSTATUS(status)}")
            text = verdict or f"the test's process ended ({how}) without its reports"
            reports = [pytest.TestReport(item.nodeid, item.location,
                                         {k: 1 for k in item.keywords}, "failed",
                                         KilledText(text), "call", duration=seconds)]
        hook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
        for report in reports:
            hook.pytest_runtest_logreport(report=report)
        for message in warnings:
            hook.pytest_warning_recorded.call_historic(kwargs=dict(
                warning_message=message, when="runtest", nodeid=item.nodeid, location=None))
        hook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)

