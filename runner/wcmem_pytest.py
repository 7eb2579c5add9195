"""wcmem-sandbox's pytest plugin: every test in a cgroup of its own.

wcmem-sandbox loads it into pytest by itself (PYTEST_PLUGINS and PYTHONPATH), so a project
needs no change. Around each test (setup, call and teardown) it asks the runner for a unit:
the runner moves this process into a fresh cgroup with the test's memory limit, and out
again after, and logs what the test used. The protocol is runner/PROTOCOL.md.

After an OOM kill the runner starts pytest again and names, in WCMEM_SANDBOX_RESUME, the
tests that are done (with their reports) and the one that was killed: this plugin leaves
them out of the run and replays their reports, so that the terminal summary and
--junitxml list every test once. Without WCMEM_SANDBOX_SOCKET it does nothing.
"""
import base64
import gc
import json
import os
import socket
import sys
import time
import urllib.parse
import weakref

import pytest

PROTOCOL_VERSION = 1
LINE_MAX = 65536
_SAFE = "-_.:/[]=,()@+"


def _enc(text):
    return urllib.parse.quote(text, safe=_SAFE)


def _dec(text):
    return urllib.parse.unquote(text)


class RunnerError(Exception):
    pass


class Runner:
    """The connection to wcmem-sandbox: one line out, one answer back."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.answers = self.sock.makefile("rb")
        self.pending = []
        self.call("HELLO", str(PROTOCOL_VERSION))

    def send(self, verb, *fields, **options):
        """Sends a line without waiting for its answer (read before the next call's): the
        runner ends one test while pytest moves on to the next."""
        words = [verb, *fields]
        words += [f"{key}={_enc(value)}" for key, value in options.items() if value is not None]
        self.sock.sendall((" ".join(words) + "\n").encode())
        self.pending.append(verb)

    def call(self, verb, *fields, **options):
        self.send(verb, *fields, **options)
        return self.wait()

    def wait(self):
        """Reads the answers owed; returns the last one's text."""
        text = ""
        while self.pending:
            verb = self.pending.pop(0)
            answer = self.answers.readline().decode("utf-8", "replace").rstrip("\n")
            if answer != "OK" and not answer.startswith("OK "):
                self.pending.clear()
                raise RunnerError(f"{verb}: {answer or 'no answer'}")
            text = answer[3:]
        return text


class Resume:
    """The resume file: tests done (with their serialized reports) and tests killed."""

    def __init__(self, path):
        self.done = {}
        self.killed = {}
        with open(path, encoding="utf-8") as f:
            for line in f:
                kind, name, seconds, text = line.rstrip("\n").split(" ", 3)
                if kind == "DONE":
                    self.done[_dec(name)] = (float(seconds), text)
                elif kind == "KILLED":
                    self.killed[_dec(name)] = (float(seconds), _dec(text))


class XarrayTracker:
    """Live xarray datasets, held weakly: counted only once xarray is imported."""

    def __init__(self):
        self.live = weakref.WeakSet()
        self.patched = False

    def watch(self):
        xr = sys.modules.get("xarray")
        if xr is None or self.patched:
            return
        self.patched = True
        original = xr.Dataset.__init__
        live = self.live

        def init(ds, *args, **kwargs):
            original(ds, *args, **kwargs)
            try:
                live.add(ds)
            except TypeError:  # no __weakref__ slot in this xarray
                pass

        xr.Dataset.__init__ = init

    def count(self):
        return len(self.live)


def _gc_line():
    stats = gc.get_stats()
    return (f"GC: collections={sum(s['collections'] for s in stats)}, "
            f"uncollectable={sum(s['uncollectable'] for s in stats)}")


def _outcome(reports):
    for rep in reports:
        if rep.failed:
            return "failed" if rep.when == "call" else "error"
    if any(rep.skipped for rep in reports):
        return "skipped"
    return "passed"


class WcmemPlugin:
    def __init__(self, config, runner):
        self.config = config
        self.runner = runner
        self.diagnostics = os.environ.get("WEATHERCOP_DISABLE_DIAGNOSTICS") != "1"
        top = os.environ.get("WCMEM_SANDBOX_TRACEMALLOC", "0")
        self.tracemalloc_top = int(top) if self.diagnostics and top.isdigit() else 0
        resume = os.environ.get("WCMEM_SANDBOX_RESUME")
        self.resume = Resume(resume) if resume else None
        self.xarray = XarrayTracker()
        self.reports = []
        self.current = None
        self.removed = {}

    # -- resuming after an OOM kill --------------------------------------------------------

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items):
        if not self.resume:
            return
        keep = []
        for item in items:
            if item.nodeid in self.resume.done or item.nodeid in self.resume.killed:
                self.removed[item.nodeid] = item  # reported by the replay, not run again
            else:
                keep.append(item)
        items[:] = keep

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtestloop(self, session):
        if not self.resume:
            yield
            return
        # pytest's own loop refuses to start when tests failed before it ("errors during
        # collection"): the replayed failures are counted back in only after it ran.
        failed = session.testsfailed
        session.testscollected += len(self.resume.done) + len(self.resume.killed)
        self._replay()
        replayed_failures = session.testsfailed - failed
        session.testsfailed = failed
        yield
        session.testsfailed += replayed_failures

    def _replay(self):
        hook = self.config.hook
        for nodeid, (seconds, blob) in self.resume.done.items():
            if blob == "-":  # it passed: its reports were not worth a round trip's bytes
                reports = [self._report(nodeid, "passed", None, when, seconds if when == "call"
                                        else 0.0) for when in ("setup", "call", "teardown")]
            else:
                datas = json.loads(base64.b64decode(blob))
                reports = [hook.pytest_report_from_serializable(config=self.config, data=d)
                           for d in datas]
            self._log(nodeid, reports)
        for nodeid, (seconds, text) in self.resume.killed.items():
            self._log(nodeid, [self._report(nodeid, "failed", text, "call", seconds)])

    def _report(self, nodeid, outcome, longrepr, when, seconds):
        item = self.removed.get(nodeid)
        location = item.location if item else (nodeid.split("::")[0], None, nodeid)
        keywords = {k: 1 for k in item.keywords} if item else {}
        return pytest.TestReport(nodeid, location, keywords, outcome, longrepr, when,
                                 duration=seconds)

    def _log(self, nodeid, reports):
        hook = self.config.hook
        location = reports[0].location
        hook.pytest_runtest_logstart(nodeid=nodeid, location=location)
        for report in reports:
            hook.pytest_runtest_logreport(report=report)
        hook.pytest_runtest_logfinish(nodeid=nodeid, location=location)

    # -- one unit per test -------------------------------------------------------------------

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(self, item, nextitem):
        if self.current is not None:  # a pytest run inside a test (pytester): not ours
            yield
            return
        self.current = item.nodeid
        self.reports = []
        fspath, lineno, _ = item.location
        where = f"{fspath}:{lineno + 1}" if lineno is not None else fspath
        name = _enc(item.nodeid)
        # The answer comes once the test is in its unit and TEST_START is on disk.
        self.runner.call("START", name, kind="test", where=where, extras=self._start_extras())
        try:
            yield
        finally:
            self.current = None
            outcome = _outcome(self.reports)
            self.runner.send("END", name, outcome=outcome, extras=self._end_extras(),
                             reports=None if outcome == "passed" else self._reports_blob())

    def pytest_unconfigure(self, config):
        self.runner.wait()  # the last END's answer: the runner has ended the last unit

    def pytest_runtest_logreport(self, report):
        if self.current is not None and report.nodeid == self.current:
            self.reports.append(report)

    def _reports_blob(self):
        """pytest's own serialization of this test's reports, base64 (fast, and one word)."""
        datas = [self.config.hook.pytest_report_to_serializable(config=self.config, report=r)
                 for r in self.reports]
        blob = base64.b64encode(json.dumps(datas).encode()).decode()
        if len(blob) > LINE_MAX // 2:
            # A huge traceback would not fit a line: keep its last lines as text.
            for d, r in zip(datas, self.reports):
                d["longrepr"] = str(r.longrepr)[-4000:] if r.longrepr is not None else None
                d["sections"] = []
            blob = base64.b64encode(json.dumps(datas).encode()).decode()
        return blob if len(blob) <= LINE_MAX // 2 else None

    # -- the seed's Python-level extras --------------------------------------------------------

    def _start_extras(self):
        if not self.diagnostics:
            return None
        self.xarray.watch()
        if self.tracemalloc_top:
            import tracemalloc
            if not tracemalloc.is_tracing():
                tracemalloc.start()
            tracemalloc.clear_traces()
        return _gc_line()

    def _end_extras(self):
        if not self.diagnostics:
            return None
        lines = []
        if self.tracemalloc_top:
            import tracemalloc
            lines.append("Top tracemalloc allocations:")
            stats = tracemalloc.take_snapshot().statistics("lineno")[:self.tracemalloc_top]
            for stat in stats:
                frame = stat.traceback[0]
                lines.append(f"  {frame.filename}:{frame.lineno}: {stat.size / 1048576:.1f} MB")
            if not stats:
                lines.append("  (nothing allocated)")
        lines.append(_gc_line())
        self.xarray.watch()
        if self.xarray.count():
            lines.append(f"Open xarray datasets: {self.xarray.count()}")
        return "\n".join(lines)

    # -- pytest-xdist: a worker killed in a test ------------------------------------------------

    @pytest.hookimpl(optionalhook=True)
    def pytest_handlecrashitem(self, crashitem, report, sched):
        verdict = self._verdict(crashitem)
        if verdict:
            report.longrepr = f"{report.longrepr}: {verdict}"


    def _verdict(self, nodeid):
        # The worker's death reaches the runner and xdist in either order: ask a few times.
        for _ in range(20):
            try:
                return _dec(self.runner.call("VERDICT", _enc(nodeid)))
            except RunnerError:
                time.sleep(0.05)
        return None


def pytest_configure(config):
    path = os.environ.get("WCMEM_SANDBOX_SOCKET")
    if not path or config.pluginmanager.has_plugin("wcmem-sandbox"):
        return
    try:
        runner = Runner(path)
    except (OSError, RunnerError) as err:
        sys.stderr.write(f"wcmem-sandbox plugin: not in a sandbox ({err}): tests run without "
                         "units of their own\n")
        return
    config.pluginmanager.register(WcmemPlugin(config, runner), "wcmem-sandbox")
