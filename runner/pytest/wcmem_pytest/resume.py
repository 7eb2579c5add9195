"""Resuming after an OOM kill: the resume file, and the replay of the tests it names.

The runner names the file in WCMEM_SANDBOX_RESUME (or sends it to a copy standing by): the
tests done, with their reports, and the one killed. They are left out of the run, and their
reports are replayed, so that the terminal summary and --junitxml list every test once.
"""
import io
import os

import pytest

from .client import RunnerError
from .protocol import RESUME_DONE, RESUME_KILLED, decode, short_id
from .reports import KilledText, reports_from_blob


class Resume:
    """The resume file: tests done (with their serialized reports) and tests killed."""

    def __init__(self, path, runner=None):
        self.done = {}
        self.killed = {}
        self.order = []  # every name, in the order the tests ended
        self.last_killed = None  # the test the latest attempt died in
        seen = set()
        with self._open(path, runner) as f:
            for line in f:
                fields = line.rstrip("\n").split(" ", 3)
                if not line.endswith("\n") or len(fields) != 4:
                    continue  # not a whole line: the runner's copy has none, but be sure
                kind, name, seconds, text = fields
                name = decode(name) if "%" in name else name
                if kind == RESUME_DONE:
                    self.done[name] = (float(seconds), text)
                elif kind == RESUME_KILLED:
                    self.killed[name] = (float(seconds), decode(text))
                    self.last_killed = name
                else:
                    continue
                if name not in seen:  # a name twice (a test killed again)
                    seen.add(name)
                    self.order.append(name)

    def __contains__(self, name):
        return name in self.done or name in self.killed

    @staticmethod
    def _open(path, runner):
        """The runner's copy, asked for as a descriptor of our own (RESUME): path names it
        in the runner's /proc, which a command in a user namespace of its own (cgroup v2,
        an unprivileged runner) may not open. path when there is no connection."""
        if runner is not None:
            try:
                return os.fdopen(runner.take_fd("RESUME"), encoding="utf-8")
            except RunnerError as err:
                if err.closed:
                    raise
        return open(path, encoding="utf-8")


class Replay:
    """WcmemPlugin's hooks that leave out the tests a resume file names and replay their
    reports. Uses the plugin's config."""

    def _init_replay(self):
        resume = os.environ.get("WCMEM_SANDBOX_RESUME")
        self.resume = Resume(resume, self.runner) if resume else None
        self.removed = {}
        self.replayed_failures = 0  # counted in pytest's session as the first test starts
        self.quiet = None  # pytest's terminal, silenced while it says again what it said

    # -- one progress line over every attempt ------------------------------------------------
    # The terminal already shows what the attempts before said: pytest's header, and the
    # progress line up to the test that was killed. A pytest started again says it all once
    # more (a copy standing by, what came after its collection): the terminal's writer is
    # swapped for one that writes nowhere, and given back, with what it would have written
    # on the current line, as the killed test's report comes. pytest's counts and its
    # [NN%] are the same as when it wrote.

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session):
        if self.resume is not None and not hasattr(self.config, "workerinput"):
            self._silence()  # a new start: its header was said by the first

    def _silence(self):
        tr = self.config.pluginmanager.getplugin("terminalreporter")
        tw = getattr(tr, "_tw", None)
        if tw is None or self.quiet is not None or not hasattr(tw, "_current_line"):
            return
        nowhere = type(tw)(file=io.StringIO())
        nowhere.hasmarkup, nowhere.fullwidth = tw.hasmarkup, tw.fullwidth
        nowhere._current_line = tw._current_line
        self.quiet = (tr, tw)
        tr._tw = nowhere

    def _speak(self):
        if self.quiet is None:
            return
        tr, tw = self.quiet
        tw._current_line = tr._tw._current_line  # where the line the terminal shows ends
        tr._tw, self.quiet = tw, None

    def _started_with_the_first(self):
        """pytest's total time is the run's: from the start of the first attempt (the
        runner's WCMEM_SANDBOX_STARTED), as a copy standing by has it already."""
        tr = self.config.pluginmanager.getplugin("terminalreporter")
        try:
            started = float(os.environ.get("WCMEM_SANDBOX_STARTED", ""))
        except ValueError:
            return
        if tr is not None and isinstance(getattr(tr, "_sessionstarttime", None), float):
            tr._sessionstarttime = min(tr._sessionstarttime, started)

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items):
        # The shard first (shard.py), from the whole collection as every shard and every
        # resume of this one sees it; then the tests a resume leaves out.
        if self.shard:
            items[:] = self.shard.select(self.config, items)
        if self.resume:
            items[:] = self._deselect(items)

    def _deselect(self, items):
        """The items still to run: those done or killed are kept aside for the replay."""
        resume, keep = self.resume, []
        for item in items:
            name = short_id(item.nodeid)
            if name in resume:
                self.removed[name] = item  # reported by the replay, not run again
            else:
                keep.append(item)
        if len(self.removed) < len(resume.order):
            paired = self._pair(keep)
            keep = [item for item in keep if id(item) not in paired]
        return keep

    def _pair(self, items):
        """A test whose id depends on the process (a parameter's repr with an address in
        it) has another id in a run started again. Each such name of the resume file is
        paired with a test of the same function whose id matches no name, in order: the
        tests that ended did so in the collection's order. Returns the ids of the items
        paired (kept aside, as those found by name)."""
        left = {}  # function (the id before its parameters): its names not found, in order
        for name in self.resume.order:
            if name not in self.removed:
                left.setdefault(name.split("[", 1)[0], []).append(name)
        paired = set()
        for item in items:
            names = left.get(short_id(item.nodeid).split("[", 1)[0])
            if names and "[" in item.nodeid:
                self.removed[names.pop(0)] = item
                paired.add(id(item))
        return paired

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtestloop(self, session):
        # Under xdist the controller replays, as it reports every test; a worker only leaves
        # the done and killed tests out (its reports would go through xdist's channel, which
        # takes reports of the tests it runs alone).
        if not self.resume or hasattr(self.config, "workerinput"):
            yield
            return
        failed = session.testsfailed
        session.testscollected += len(self.resume.done) + len(self.resume.killed)
        self._silence()  # a copy standing by: said up to its collection; else silent already
        self._started_with_the_first()  # after pytest's own sessionstart, which sets it
        try:
            self._replay()
        finally:
            self._speak()
        # pytest's own loop refuses to start when tests failed before it ("errors during
        # collection"): the replayed failures are counted back in as the first test starts
        # (pytest_runtest_protocol), where -x and --maxfail count them as plain pytest does.
        self.replayed_failures = session.testsfailed - failed
        session.testsfailed = failed
        if session.shouldfail or session.shouldstop:
            # -x or --maxfail was reached by the tests replayed: plain pytest stopped there.
            session.items[:] = []
        yield
        self._count_replayed_failures(session)

    def _count_replayed_failures(self, session):
        session.testsfailed += self.replayed_failures
        self.replayed_failures = 0

    def replayed(self):
        """How many tests this run reports from the resume file instead of running them."""
        return len(self.resume.done) + len(self.resume.killed) if self.resume else 0

    def _replay(self):
        """The reports of the tests that ended, in the order they ended."""
        resume = self.resume
        for nodeid in resume.order:
            if nodeid in resume.killed:
                seconds, text = resume.killed[nodeid]
                self._log(nodeid, [self._report(nodeid, "failed", KilledText(text), "call",
                                                seconds)])
                continue
            seconds, blob = resume.done[nodeid]
            if blob == "-":  # it passed, plainly: its reports were not worth the bytes
                self._log(nodeid, [self._report(nodeid, "passed", None, when,
                                                seconds if when == "call" else 0.0)
                                   for when in ("setup", "call", "teardown")])
            else:
                self._log(nodeid, *reports_from_blob(self.config, blob))

    def _report(self, nodeid, outcome, longrepr, when, seconds):
        item = self.removed.get(nodeid)
        location = item.location if item else (nodeid.split("::")[0], None, nodeid)
        keywords = {k: 1 for k in item.keywords} if item else {}
        return pytest.TestReport(item.nodeid if item else nodeid, location, keywords, outcome,
                                 longrepr, when, duration=seconds)

    def _log(self, name, reports, warnings=()):
        hook = self.config.hook
        item = self.removed.get(name)
        nodeid = item.nodeid if item else name
        location = reports[0].location
        hook.pytest_runtest_logstart(nodeid=nodeid, location=location)
        if name == self.resume.last_killed:
            self._speak()  # the terminal showed up to its start: its outcome is new
        for report in reports:
            if item is not None:
                report.nodeid = nodeid  # an id that depends on the process: this one's
            hook.pytest_runtest_logreport(report=report)
        for message in warnings:
            hook.pytest_warning_recorded.call_historic(kwargs=dict(
                warning_message=message, when="runtest", nodeid=nodeid, location=None))
        hook.pytest_runtest_logfinish(nodeid=nodeid, location=location)
