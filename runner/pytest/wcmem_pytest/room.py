"""pytest-xdist under admission by memory (the runner's HELLO said room=1): a worker whose
next test would wait for room in the sandbox runs a test behind it in its queue first, one
that starts now, rather than idle (runner/control/PROTOCOL.md, "Room").

xdist's --dist load allows it: a worker's queue is its own list, and the controller marks a
test done by its index, in any order. Two things still hold the order:
  - pytest tore the last test down for the test that was next (its nextitem): another may
    go first only if it needs no collector that teardown let go (the same module and class,
    as a rule);
  - the controller takes the first test a crashed worker held for the one it was running:
    it moves each test a worker starts to the front of that worker's list, so that an OOM
    kill still names the test that ran."""
import time

import pytest

from .client import RunnerError
from .protocol import encode, short_id

ROOM_FIRST = "wcmem_room_first"  # in a worker's workerinput: the controller's choice
LOOKAHEAD = 8  # tests of the queue asked about: one round trip each, only when the first waits
# A test passed over this long goes first anyway, and waits at its START: there the runner
# lets no younger START pass one held as long (RUN_ADMIT_FAIR_S), so a heavy test is not
# put off for ever by lighter ones that keep coming.
FAIR_S = 10.0


def _interactor(config):
    """xdist's WorkerInteractor in this worker (registered without a name), or None."""
    for plugin in config.pluginmanager.get_plugins():
        if type(plugin).__name__ == "WorkerInteractor" and hasattr(plugin, "run_one_test"):
            return plugin
    return None


def may_go_first(last, nextitem, candidate):
    """Whether candidate may run in nextitem's place after last: pytest kept set up, of
    last's collectors, those nextitem needs, and setting up candidate must need them all."""
    if last is None:
        return True
    kept = set(last.listchain()) & set(nextitem.listchain())
    return kept <= set(candidate.listchain())


class RoomFirst:
    """In a worker: before each test, the first of its queue that has room goes first."""

    def __init__(self, plugin):
        self.plugin = plugin
        self.last = None  # the item run last: pytest's teardown kept what its nextitem needs
        self.passed_over = {}  # item index: when another first went ahead of it

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session):
        worker = _interactor(session.config)
        if worker is None:
            return
        run_one_test = worker.run_one_test

        def reordered(torun):
            if len(torun) >= 2:
                self._first_with_room(session.items, torun)
            self.passed_over.pop(torun[0], None)
            self.last = session.items[torun[0]]
            run_one_test(torun)

        worker.run_one_test = reordered

    def _first_with_room(self, items, torun):
        front = items[torun[0]]
        since = self.passed_over.get(torun[0])
        if since is not None and time.monotonic() - since > FAIR_S:
            return
        for at in range(min(len(torun), LOOKAHEAD)):
            candidate = items[torun[at]]
            if at and not may_go_first(self.last, front, candidate):
                continue
            room = self._room(candidate)
            if room is None:
                return  # no answer: the queue's order, as without the runner
            if room:
                if at:
                    self.passed_over.setdefault(torun[0], time.monotonic())
                    torun.insert(0, torun.pop(at))
                return

    def _room(self, item):
        """True when the runner would start item now, False when it would wait, None when
        it cannot say."""
        runner = self.plugin.runner
        if runner is None:
            return None
        try:
            return runner.call("ROOM", encode(short_id(item.nodeid))).strip() == "1"
        except RunnerError as err:  # the last test's END refused, or the runner gone
            self.plugin._degrade(item.nodeid, err, err.closed)
        except OSError as err:
            self.plugin._degrade(item.nodeid, err, True)
        return None


def follow_starts(dsession, sched):
    """On the controller: each test a worker starts goes to the front of the worker's list
    in xdist's --dist load scheduler, where a crash takes the first as the test that ran."""
    pending_of = getattr(sched, "node2pending", None)
    logstart = getattr(dsession, "worker_logstart", None)
    if not isinstance(pending_of, dict) or logstart is None:
        return
    index = {}

    def worker_logstart(node, nodeid, location):
        pending = pending_of.get(node)
        if pending and sched.collection:
            if not index:
                index.update((n, i) for i, n in enumerate(sched.collection))
            at = index.get(nodeid)
            if at is not None and pending[0] != at and at in pending:
                pending.remove(at)
                pending.insert(0, at)
        logstart(node, nodeid, location)

    dsession.worker_logstart = worker_logstart
