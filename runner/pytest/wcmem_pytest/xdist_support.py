"""pytest-xdist: the runner's verdict on a worker killed in a test, every collected test
run or reported, and schedulers that do not hang after a worker crashed."""
import time

import pytest

from .client import RunnerError
from .protocol import encode, short_id, verdict_of
from .reports import KilledText


class XdistVerdict:
    """WcmemPlugin's hook on the controller: a crashed worker's test gets the runner's
    verdict. Uses the plugin's runner."""

    @pytest.hookimpl(optionalhook=True)
    def pytest_handlecrashitem(self, crashitem, report, sched):
        verdict = self._verdict(crashitem)
        if verdict:
            report.longrepr = KilledText(f"{report.longrepr}: {verdict}")
            # A failure in the test's call, as in a run without xdist (junit: <failure>,
            # not the <error> of xdist's unknown phase "???").
            report.when = "call"

    def _verdict(self, nodeid):
        # The worker's death reaches the runner and xdist in either order: ask a few times.
        for _ in range(20):
            if self.runner is None:
                return None
            try:
                return verdict_of(self.runner.call("VERDICT", encode(short_id(nodeid))))[0]
            except RunnerError as err:
                if err.closed:
                    return None
                time.sleep(0.05)
            except OSError:
                return None
        return None


class XdistCompleteness:
    """pytest-xdist's controller: every collected test runs or is reported.

    xdist replaces a crashed worker and hands the tests it had not run to the others, but
    after --max-worker-restart crashes (by default 4 a worker) it stops, and the tests not
    yet run are left out of every report. A test that the runner's limit OOM-killed is not
    the crashing collection that bound guards against: each such kill raises it by one,
    unless the user chose the bound. Whatever still did not run is named at the end, and
    the exit status is not 0."""

    LISTED = 20  # names listed at the end without -v

    def __init__(self, config, wcmem):
        self.config = config
        self.wcmem = wcmem
        self.collected = None
        self.reported = set()
        self.missing = []

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node, ids):
        if self.collected is None:  # every worker collects the same ids, or xdist stops
            self.collected = list(ids)

    def pytest_runtest_logreport(self, report):
        self.reported.add(report.nodeid)

    @pytest.hookimpl(trylast=True, optionalhook=True)
    def pytest_handlecrashitem(self, crashitem, report, sched):
        # WcmemPlugin has added the runner's verdict to the crash report by now.
        if ": OOM-killed" not in str(report.longrepr):
            return
        dsession = self.config.pluginmanager.getplugin("dsession")
        bound = getattr(dsession, "_max_worker_restart", None)
        if self.config.getoption("maxworkerrestart", None) is None and bound is not None:
            dsession._max_worker_restart = bound + 1

    @pytest.hookimpl(hookwrapper=True, optionalhook=True)
    def pytest_xdist_make_scheduler(self, config, log):
        outcome = yield
        _keep_crashed_out(outcome.get_result())

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session):
        self.missing = [n for n in self.collected or () if n not in self.reported]
        if self.missing and session.exitstatus == 0:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter):
        if not self.missing:
            return
        tr, count = terminalreporter, len(self.missing)
        # A resumed run's workers collect what is left: the replayed tests were collected too.
        total = len(self.collected) + self.wcmem.replayed()
        tr.write_line(f"wcmem-sandbox: {count} of {total} collected tests "
                      "did not run (pytest-xdist stopped replacing crashed workers):",
                      red=True)
        shown = self.missing if self.config.option.verbose > 0 else \
            self.missing[:self.LISTED]
        for nodeid in shown:
            tr.write_line(f"  {nodeid}")
        if len(shown) < count:
            tr.write_line(f"  ... and {count - len(shown)} more (-v lists them all)")


def _keep_crashed_out(sched):
    """Two ways pytest-xdist 3.1's --dist loadscope, loadfile and loadgroup hang after a
    worker crashes, which under the sandbox is every OOM kill:
    - the crashed worker's scope goes back to the queue with the test that crashed in it:
      the next worker runs that test again and crashes again, until xdist stops replacing
      workers. The test that crashed is marked done first: xdist reports its crash once,
      and the rest of its scope runs on another worker.
    - the worker that replaces it is given one scope; when that holds one test, the worker
      waits for a second (it runs a test once it knows the next) and the scheduler for the
      first to end. A worker is given scopes until it holds two tests, and told to finish
      when none is left."""
    try:
        from xdist.scheduler import LoadScopeScheduling
    except ImportError:
        return
    if not isinstance(sched, LoadScopeScheduling) or not all(
            hasattr(sched, name) for name in ("_reschedule", "_pending_of",
                                              "_assign_work_unit", "assigned_work")):
        return
    remove, reschedule = sched.remove_node, sched._reschedule

    def _reschedule(node):
        reschedule(node)
        if node.shutting_down or node not in sched.assigned_work:
            return
        while sched.workqueue and sched._pending_of(sched.assigned_work[node]) < 2:
            sched._assign_work_unit(node)
        if not sched.workqueue and sched._pending_of(sched.assigned_work[node]) < 2:
            node.shutdown()

    sched._reschedule = _reschedule

    def remove_node(node):
        crashed = None
        for unit in sched.assigned_work.get(node, {}).values():
            crashed = next((nodeid for nodeid, done in unit.items() if not done), None)
            if crashed is not None:
                unit[crashed] = True
                break
        remove(node)
        return crashed

    sched.remove_node = remove_node


def in_xdist(config):
    return getattr(config.option, "dist", "no") != "no" or hasattr(config, "workerinput")


def is_xdist_controller(config):
    return (getattr(config.option, "dist", "no") != "no"
            and not hasattr(config, "workerinput"))
