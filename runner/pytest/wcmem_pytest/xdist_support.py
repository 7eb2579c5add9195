"""pytest-xdist: the runner's verdict on a worker killed in a test, a test the sandbox total
killed beside others run again, every collected test run or reported, and schedulers that do
not hang after a worker crashed."""
import time

import pytest

from .client import RunnerError
from .protocol import encode, short_id, verdict_of
from .reports import KilledText
from .room import ROOM_FIRST, follow_starts


class XdistVerdict:
    """WcmemPlugin's hook on the controller: a crashed worker's test gets the runner's
    verdict. Uses the plugin's runner."""

    @pytest.hookimpl(optionalhook=True)
    def pytest_handlecrashitem(self, crashitem, report, sched):
        verdict = self._verdict(crashitem)[0]
        if verdict:
            report.longrepr = KilledText(f"{report.longrepr}: {verdict}")
            # A failure in the test's call, as in a run without xdist (junit: <failure>,
            # not the <error> of xdist's unknown phase "???").
            report.when = "call"

    def _verdict(self, nodeid, requeue=False):
        """(the runner's verdict or None, whether to run the test again): with requeue,
        the runner says again=1 when the sandbox total killed the test while other tests
        ran, and then runs it alone. The answer is kept: a crash is asked about once."""
        kept = getattr(self, "_verdicts", None)
        if kept is None:
            kept = self._verdicts = {}
        if nodeid not in kept:
            kept[nodeid] = self._ask_verdict(nodeid, requeue)
        return kept[nodeid]

    def _ask_verdict(self, nodeid, requeue):
        # The worker's death reaches the runner and xdist in either order: ask a few times.
        for _ in range(20):
            if self.runner is None:
                return None, False
            try:
                verdict, _, again = verdict_of(self.runner.call(
                    "VERDICT", encode(short_id(nodeid)), requeue="1" if requeue else None))
                return verdict, again
            except RunnerError as err:
                if err.closed:
                    return None, False
                time.sleep(0.05)
            except OSError:
                return None, False
        return None, False


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
        self.again = []  # tests run again: the sandbox total killed them beside others

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
        self._one_more_restart()

    def _one_more_restart(self):
        dsession = self.config.pluginmanager.getplugin("dsession")
        bound = getattr(dsession, "_max_worker_restart", None)
        if self.config.getoption("maxworkerrestart", None) is None and bound is not None:
            dsession._max_worker_restart = bound + 1

    def _room_first(self):
        """Whether workers run first a test with room (room.py): under admission by memory
        (the runner said room=1), with --dist load, whose queues allow it."""
        runner = self.wcmem.runner
        return runner is not None and runner.room and \
            getattr(self.config.option, "dist", "no") == "load"

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node):
        if self._room_first():
            node.workerinput[ROOM_FIRST] = True

    @pytest.hookimpl(hookwrapper=True, optionalhook=True)
    def pytest_xdist_make_scheduler(self, config, log):
        outcome = yield
        sched = outcome.get_result()
        _keep_crashed_out(sched)
        self._run_again(sched)
        if self._room_first():
            follow_starts(self.config.pluginmanager.getplugin("dsession"), sched)

    def _run_again(self, sched):
        """A worker the sandbox total killed while other tests ran did nothing wrong: its
        test goes back to the queue instead of being reported failed, once (the runner
        says so, VERDICT requeue=1, and runs it alone). pytest-xdist's --dist load only,
        whose queue is one list of tests: the scopes of loadscope, loadfile and loadgroup
        go to a worker whole."""
        dsession = self.config.pluginmanager.getplugin("dsession")
        if (dsession is None or not hasattr(dsession, "handle_crashitem")
                or not isinstance(getattr(sched, "pending", None), list)
                or not hasattr(sched, "collection")
                or hasattr(sched, "workqueue")):
            return
        handle = dsession.handle_crashitem

        def handle_crashitem(nodeid, worker):
            again = self.wcmem.runner is not None and nodeid in (sched.collection or ()) and \
                self.wcmem._verdict(nodeid, requeue=True)[1]
            if not again:
                handle(nodeid, worker)
                return
            self.again.append(nodeid)
            sched.pending.append(sched.collection.index(nodeid))
            self._one_more_restart()  # the replacement worker is not a crash's
            dsession.report_line(f"wcmem-sandbox: {nodeid} runs again, alone: the sandbox "
                                 "total was reached while other tests ran")

        dsession.handle_crashitem = handle_crashitem

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session):
        self.missing = [n for n in self.collected or () if n not in self.reported]
        if self.missing and session.exitstatus == 0:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter):
        if self.again:
            terminalreporter.write_line(
                f"wcmem-sandbox: {len(self.again)} test{'s' if len(self.again) > 1 else ''} "
                "run again, alone: the sandbox total was reached while other tests ran "
                "(not their own limit):", yellow=True)
            for nodeid in self.again[:self.LISTED]:
                terminalreporter.write_line(f"  {nodeid}")
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
