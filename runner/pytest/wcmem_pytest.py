"""wcmem-sandbox's pytest plugin: every test in a cgroup of its own.

wcmem-sandbox loads it into pytest by itself (PYTEST_PLUGINS and PYTHONPATH), so a project
needs no change. Around each test (setup, call and teardown) it runs the test in a unit of
its own: a fresh cgroup with the test's memory limit, which the runner made and kept for it
while the test before ran; the test moves itself in and tells the runner, which logs what
the test used. The protocol is runner/control/PROTOCOL.md.

After an OOM kill the runner starts pytest again and names, in WCMEM_SANDBOX_RESUME, the
tests that are done (with their reports) and the one that was killed: this plugin leaves
them out of the run and replays their reports, so that the terminal summary and
--junitxml list every test once. Without WCMEM_SANDBOX_SOCKET it does nothing.
"""
import base64
import gc
import hashlib
import json
import os
import re
import resource
import select
import signal
import socket
import sys
import time
import urllib.parse
import weakref

import pytest

PROTOCOL_VERSION = 1
LINE_MAX = 65536
# What one line may carry, so that START and END always fit LINE_MAX (the runner refuses
# longer names and extras): a name and its where (percent-encoded: up to 3 bytes a byte),
# the extras, and the reports; 12 + 3 + 12 + 32 KiB.
NAME_MAX = 4096      # bytes of a test id, UTF-8; a longer one is cut (short_id)
WHERE_MAX = 1024     # bytes of "path:line"
EXTRAS_MAX = 4096    # characters of the extras...
EXTRAS_SENT_MAX = 12288  # ...and bytes of them encoded
REPORTS_MAX = LINE_MAX // 2
_SAFE = "-_.:/[]=,()@+"


# surrogateescape both ways: a node ID from a file name that is not UTF-8 goes to the runner
# as its bytes and comes back (resume file, verdicts) as the same string.
def _enc(text):
    if text.isascii():  # most of what is sent, and quote() costs microseconds a field
        return text.translate(_ASCII_QUOTED)
    return urllib.parse.quote(text, safe=_SAFE, errors="surrogateescape")


# quote()'s own answer for each ASCII character it changes: the fast path says the same.
_ASCII_QUOTED = {c: urllib.parse.quote(chr(c), safe=_SAFE) for c in range(128)
                 if urllib.parse.quote(chr(c), safe=_SAFE) != chr(c)}


def _dec(text):
    return urllib.parse.unquote(text, errors="surrogateescape")


def short_id(nodeid):
    """The test id as the runner knows it: unchanged up to NAME_MAX bytes; a longer one is
    its first 4000 bytes (whole characters), then " ...[N bytes, sha256 HEX12]". The same
    id always gives the same name, so a resumed run still finds the test."""
    raw = nodeid.encode("utf-8", "surrogateescape")
    if len(raw) <= NAME_MAX:
        return nodeid
    head = raw[:4000].decode("utf-8", "ignore")
    digest = hashlib.sha256(raw).hexdigest()[:12]
    return f"{head} ...[{len(raw)} bytes, sha256 {digest}]"


def _cut(text, limit):
    """At most limit characters: a longer text keeps its head and says it was cut."""
    if text is None or len(text) <= limit:
        return text
    return text[:limit - 40].rsplit("\n", 1)[0] + f"\n(cut: {len(text)} characters)"


class KilledText(str):
    """The runner's verdict on a killed test, as a failure's text: pytest's short summary
    and junit's message take its reprcrash's message ("FAILED id - OOM-killed: ...")."""

    @property
    def reprcrash(self):
        return self

    @property
    def message(self):
        return str(self)


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


class RunnerError(Exception):
    """The runner refused a line (verb: the line's verb), or closed the connection."""

    def __init__(self, verb, text, closed=False, last_taken=False):
        super().__init__(f"{verb}: {text}")
        self.verb, self.closed = verb, closed
        self.last_taken = last_taken  # the last line waited for was taken all the same


class Runner:
    """The connection to wcmem-sandbox: one line out, one answer back."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.buf = bytearray()
        self.held = b""
        self.unsent = 0  # lines held, the last of self.pending
        self.pending = []
        # The cgroup.procs of the unit the runner keeps for our next START (keep=1), from
        # the last START's answer: that test moves itself in and does not wait.
        self.kept = None
        self.call("HELLO", str(PROTOCOL_VERSION))

    def send(self, verb, *fields, hold=False, **options):
        """Sends a line without waiting for its answer (read before the next call's): the
        runner ends one test while pytest moves on to the next. A line held goes with the
        next one: one write, and one wake of the runner, for both."""
        words = [verb, *fields]
        words += [f"{key}={_enc(value)}" for key, value in options.items() if value is not None]
        line = (" ".join(words) + "\n").encode()
        self.pending.append(verb)
        if hold:
            self.held += line
            self.unsent += 1
            return
        line, self.held, self.unsent = self.held + line, b"", 0
        self.sock.sendall(line)

    def flush(self):
        """Sends the line held back, if any."""
        if self.held:
            line, self.held, self.unsent = self.held, b"", 0
            self.sock.sendall(line)

    def call(self, verb, *fields, **options):
        """Sends a line and returns its answer's text. Raises RunnerError when the runner
        refuses it, or an earlier line sent without waiting (the first such error), and
        OSError when the connection is gone."""
        self.send(verb, *fields, **options)
        return self.wait()

    def line(self, block=True):
        """The runner's next line with its newline; b"" once it closed the connection;
        None when block is False and no whole line has come yet."""
        while True:
            end = self.buf.find(b"\n")
            if end >= 0:
                line = bytes(self.buf[:end + 1])
                del self.buf[:end + 1]
                return line
            if not block and not select.select([self.sock], [], [], 0)[0]:
                return None  # cheaper than recv's BlockingIOError, each test
            got = self.sock.recv(4096)
            if not got:
                return b""
            self.buf += got

    def take_fd(self, verb):
        """Sends verb and returns the descriptor its answer carries (SCM_RIGHTS). Raises
        RunnerError when the runner refuses it or sends none, OSError when it is gone."""
        self.wait()
        self.sock.sendall(verb.encode() + b"\n")
        fds = []
        try:
            while b"\n" not in self.buf:
                got, new, _, _ = socket.recv_fds(self.sock, 4096, 1)
                fds += new
                if not got:
                    raise RunnerError(verb, "the runner closed the connection", closed=True)
                self.buf += got
            answer = self.line().decode("utf-8", "replace").rstrip("\n")
            if answer != "OK" or not fds:
                raise RunnerError(verb, answer if answer != "OK" else "no descriptor came")
            return fds.pop(0)
        finally:
            for fd in fds:
                os.close(fd)

    def wait(self, block=True):
        """Reads every answer owed, in order, so that none is left to be taken for the
        next line's; returns the last one's text, or raises the first refusal. With block
        False, only the answers that have come (and a line held back stays so)."""
        if block:
            self.flush()
        text, refused, taken = "", None, False
        while len(self.pending) > self.unsent:
            raw = self.line(block)
            if raw is None:
                break
            verb = self.pending.pop(0)
            if not raw:
                self.pending.clear()
                self.held, self.unsent, self.kept = b"", 0, None
                raise RunnerError(verb, "the runner closed the connection", closed=True)
            answer = raw.decode("utf-8", "replace").rstrip("\n")
            taken = answer == "OK" or answer.startswith("OK ")
            if not taken:
                refused = refused or RunnerError(verb, answer)
            text = answer[3:]
            if verb == "START":
                text, _, kept = text.partition(" next=")
                self.kept = (_dec(kept) if "%" in kept else kept) if taken and kept else None
        if refused:
            refused.last_taken = taken
            raise refused
        return text


class Resume:
    """The resume file: tests done (with their serialized reports) and tests killed."""

    def __init__(self, path, runner=None):
        self.done = {}
        self.killed = {}
        self.order = []  # every name, in the order the tests ended
        seen = set()
        with self._open(path, runner) as f:
            for line in f:
                fields = line.rstrip("\n").split(" ", 3)
                if not line.endswith("\n") or len(fields) != 4:
                    continue  # not a whole line: the runner's copy has none, but be sure
                kind, name, seconds, text = fields
                name = _dec(name) if "%" in name else name
                if kind == "DONE":
                    self.done[name] = (float(seconds), text)
                elif kind == "KILLED":
                    self.killed[name] = (float(seconds), _dec(text))
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


class XarrayTracker:
    """xarray datasets that are alive and not closed, counted once xarray is imported.

    A Dataset is not hashable (its __hash__ is None), so no WeakSet: each is kept by its
    id() with a weak reference whose callback drops it when the dataset dies. Datasets are
    made by Dataset.__init__ and, for most derived ones (open_dataset's, copy, isel),
    by Dataset._construct_direct, which skips __init__: both are watched. close() drops
    one too, so a closed dataset still referenced is not counted."""

    def __init__(self):
        self.live = {}
        self.patched = False

    def _add(self, ds):
        key, live = id(ds), self.live

        def gone(ref):
            if live.get(key) is ref:
                del live[key]

        try:
            live[key] = weakref.ref(ds, gone)
        except TypeError:  # an xarray without a __weakref__ slot: not counted
            pass

    def watch(self):
        xr = sys.modules.get("xarray")
        if xr is None or self.patched or not hasattr(xr, "Dataset"):
            return
        self.patched = True
        cls, add, live = xr.Dataset, self._add, self.live
        init, close = cls.__init__, getattr(cls, "close", None)

        def tracked_init(ds, *args, **kwargs):
            init(ds, *args, **kwargs)
            add(ds)

        cls.__init__ = tracked_init
        direct = cls.__dict__.get("_construct_direct")
        if isinstance(direct, classmethod):
            def tracked_direct(klass, *args, **kwargs):
                ds = direct.__func__(klass, *args, **kwargs)
                add(ds)
                return ds

            cls._construct_direct = classmethod(tracked_direct)
        if close is not None:
            def tracked_close(ds, *args, **kwargs):
                live.pop(id(ds), None)
                return close(ds, *args, **kwargs)

            cls.close = tracked_close

    def count(self):
        return sum(1 for ref in list(self.live.values()) if ref() is not None)


def _release():
    """gc.collect(), then glibc's malloc_trim(0): memory the test freed but the allocator
    kept for reuse (its heap grows past a freed block's size) is no leak of the test's."""
    gc.collect()
    _trim()


def _trim():
    """glibc's malloc_trim(0): the free pages of every heap back to the kernel."""
    try:
        import ctypes
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


def _faults():
    """Pages this process has touched for the first time so far (minor faults): one system
    call, so every test can afford it."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


class UnitMemory:
    """The memory counters of the cgroup this process is in, read from cgroupfs: its
    memory.current and its peak (cgroup v2's memory.peak, Linux 5.19, else the current;
    v1's usage_in_bytes and max_usage_in_bytes). Opening cgroup files costs some 0.1 ms, so
    only what is opt-in or rare (a broader fixture's setup) reads them."""

    def __init__(self):
        self.mounts = None  # {"v1": (root, mount point), "v2": (...)}

    def _mounts(self):
        if self.mounts is None:
            self.mounts = {}
            for kind in ("v1", "v2"):
                found = _memory_mount(kind == "v1")
                if found:
                    self.mounts[kind] = (found[1], found[0])
        return self.mounts

    def folder(self):
        """("v1" or "v2", the folder of our memory cgroup), or None."""
        mounts = self._mounts()
        with open("/proc/self/cgroup") as f:
            lines = [line.rstrip("\n").split(":", 2) for line in f]
        for hid, ctrls, path in lines:
            kind = "v1" if "memory" in ctrls.split(",") else "v2" if hid == "0" else None
            if kind == "v2" and "v1" in mounts:
                continue  # v1-hybrid: memory is the v1 hierarchy's
            if kind and kind in mounts:
                root, point = mounts[kind]
                ns_root = os.environ.get("WCMEM_SANDBOX_CGROUPNS", "")
                if root.startswith("/..") and ns_root.startswith(point + "/"):
                    # In the sandbox's cgroup namespace (cgroup v2): path starts at the
                    # sandbox, whose folder the runner names; the mount shows the whole tree.
                    root, point = "/", ns_root
                if root != "/":
                    if not (path == root or path.startswith(root + "/")):
                        return None  # not below what this mount shows
                    path = path[len(root):]
                return kind, point + path if path not in ("", "/") else point
        return None

    def read(self):
        """(current, peak) in bytes, or None when it cannot be read."""
        try:
            kind, folder = self.folder()
            names = (("memory.usage_in_bytes", "memory.max_usage_in_bytes") if kind == "v1"
                     else ("memory.current", "memory.peak"))
            values = []
            for name in names:
                try:
                    with open(os.path.join(folder, name), "rb") as f:
                        values.append(int(f.read()))
                except FileNotFoundError:  # memory.peak before Linux 5.19
                    values.append(values[0])
            return values[0], max(values)
        except (OSError, ValueError, TypeError):
            return None


class EndFigures:
    """What a test's END adds to its log entry, for `budget` and `analyze` (README, "Memory
    budgets" and "After the run"):

    - "Fixture set up: BYTES KEY": a fixture broader than a function (session, package,
      module, class) set up in this test's unit, and the memory its setup charged there (the
      rise of the unit's peak, else of what it holds). Memory is charged to the unit that
      first touches it: a test that uses such a fixture set up elsewhere needs that much
      more when it runs alone or first.
    - "Fixture shared: KEY": a broader fixture this test uses that another test set up.
    - After a test that touched a MiB or more of new pages, a young-generation
      gc.collect(1) and malloc_trim(0) before its END: the unit's memory.current, which the
      runner logs, is then what the test still holds, not what glibc kept of what it freed.
    - With WCMEM_SANDBOX_LEAK_CHECK=N, LeakCheck's "Leak check: N repeats added B1 ... BN
      bytes": growth that repeats is a leak; what the first run alone kept (a cache filled
      once, a first import) is not (CPython's regrtest -R)."""

    RELEASE_FAULTS = 256  # pages: a test that touched a MiB of new ones may have freed it

    def __init__(self, wcmem):
        self.wcmem = wcmem
        self.unit = UnitMemory()
        self.item = None
        self.faults = 0  # minor faults at the last test's end
        self.set_up = {}
        self.lines = []
        self.closures = {}  # id(fixture info): (it, the keys of its broader fixtures)

    @staticmethod
    def _key(fixturedef):
        base = getattr(fixturedef, "baseid", "") or ""
        return f"{base}::{fixturedef.argname}" if base else fixturedef.argname

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item):
        if self.wcmem.current == item.nodeid:
            self.item, self.set_up, self.lines = item, {}, []

    @pytest.hookimpl(hookwrapper=True)
    def pytest_fixture_setup(self, fixturedef, request):
        if self.item is None or getattr(fixturedef, "scope", "function") == "function":
            yield
            return
        before = self.unit.read()
        yield
        after = self.unit.read()
        if before and after:
            rose = after[1] > before[1]
            charged = (after[1] if rose else after[0]) - before[0]
            key = self._key(fixturedef)
            self.set_up[key] = max(self.set_up.get(key, 0), charged, 0)

    def pytest_runtest_logfinish(self, nodeid):
        item = self.item
        if item is None or item.nodeid != nodeid:
            return
        self.item = None
        # Counted from the test before's end: one system call a test, and what pytest
        # touched in between is little.
        faults = _faults()
        if faults - self.faults >= self.RELEASE_FAULTS:
            gc.collect(1)
            _trim()
        self.faults = faults
        for key, charged in self.set_up.items():
            self.lines.append(f"Fixture set up: {charged} {key}")
        self.lines += self._shared(item)

    def _shared(self, item):
        return [f"Fixture shared: {key}" for key in self._broader(item)
                if key not in self.set_up]

    def _broader(self, item):
        """The keys of the broader fixtures in the item's closure: the same for every item
        of one function (they share their fixture info), so found once for them all."""
        info = getattr(item, "_fixtureinfo", None)
        known = self.closures.get(id(info))
        if known is not None and known[0] is info:
            return known[1]
        defs = getattr(info, "name2fixturedefs", {})
        keys = []
        for name in getattr(item, "fixturenames", ()):
            found = defs.get(name)
            if found and getattr(found[-1], "scope", "function") != "function":
                keys.append(self._key(found[-1]))
        if info is not None:
            self.closures[id(info)] = (info, keys)  # the info kept: its id stays its own
        return keys

    def take(self):
        """The lines for this test's END, once."""
        lines, self.lines = self.lines, []
        return lines


class LeakCheck:
    """WCMEM_SANDBOX_LEAK_CHECK=N (opt-in, N from 1 to 20): after a test's call passed, it
    runs N more times in the test's unit, and "Leak check:" says what each repeat added to
    what the unit holds, after a full gc.collect() and malloc_trim(0) (EndFigures)."""

    def __init__(self, figures, repeats):
        self.figures, self.repeats = figures, repeats

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item):
        outcome = yield
        if self.figures.item is item and outcome.excinfo is None:
            self.figures.lines.append(self._check(item))

    def _check(self, item):
        added, last = [], self._released()
        for i in range(self.repeats):
            try:
                item.runtest()
            except Exception as err:  # noqa: BLE001 -- a test that cannot run twice
                return (f"Leak check: repeat {i + 1} of {self.repeats} failed "
                        f"({type(err).__name__}); no figure")
            now = self._released()
            if now is None or last is None:
                return "Leak check: the unit's memory could not be read; no figure"
            added.append(now - last)
            last = now
        return f"Leak check: {self.repeats} repeats added {' '.join(map(str, added))} bytes"

    def _released(self):
        _release()
        usage = self.figures.unit.read()
        return usage[0] if usage else None


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


def _tail(text, limit):
    """At most about limit characters of text: a longer one keeps its end."""
    if text is None or len(text) <= limit:
        return text
    return f"(cut: {len(text)} characters)\n" + text[-limit:]


def _blob(reports, warnings):
    return base64.b64encode(json.dumps({"reports": reports, "warnings": warnings})
                            .encode()).decode()


def _warning_to(message):
    """A warnings.WarningMessage as JSON can carry it."""
    category = message.category
    return [category.__module__, category.__qualname__, message.filename, message.lineno,
            str(message.message), message.line]


_categories = {}


def _warning_from(fields):
    """The WarningMessage that _warning_to took apart: its category the class of that name
    where it can be imported without running anything new, else one made with its name
    (all pytest prints of a category)."""
    module, qualname, filename, lineno, text, line = fields
    key = (module, qualname)
    if key not in _categories:
        found = sys.modules.get(module)
        for part in qualname.split("."):
            found = getattr(found, part, None)
        if not (isinstance(found, type) and issubclass(found, Warning)):
            found = type(qualname.rsplit(".", 1)[-1], (Warning,), {"__module__": module})
        _categories[key] = found
    import warnings
    return warnings.WarningMessage(text, _categories[key], filename, lineno, line=line)


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
        # The runner says whether the extras are wanted when it has switched the project's
        # own in-process diagnostics off (WEATHERCOP_DISABLE_DIAGNOSTICS) to keep the log.
        ours = os.environ.get("WCMEM_SANDBOX_DIAGNOSTICS")
        self.diagnostics = (ours == "1" if ours is not None else
                            os.environ.get("WEATHERCOP_DISABLE_DIAGNOSTICS") != "1")
        top = os.environ.get("WCMEM_SANDBOX_TRACEMALLOC", "0")
        self.tracemalloc_top = int(top) if self.diagnostics and top.isdigit() else 0
        self.sampler = TopSampler(os.environ.get("WCMEM_SANDBOX_SOCKET"), self._sample)
        self.forkserver = Forkserver()
        resume = os.environ.get("WCMEM_SANDBOX_RESUME")
        self.resume = Resume(resume, runner) if resume else None
        self.xarray = XarrayTracker()
        self.reports = []
        self.current = None
        self.removed = {}
        self.warned = {}  # by kind: refused (False), gone (True)
        self.ignored_said = set()  # (marker, option) ignored, said once
        self.to_warn = []  # warnings about the test's markers, said as its setup starts
        self.memray = None  # pytest-memray active: found at the first test
        self.move_in = True  # a test moves itself into its kept unit (until that fails)
        self.bad_marker = {}  # node id: why its marker's size fails it
        self.leaks = None  # the test's limit_leaks SIZE, when its unit has it
        self.warnings = []  # the test's warnings, as _warning_to makes them
        self.paths = {}  # a test file as pytest says it: (as _where shows it, its path)
        self.replayed_failures = 0  # counted in pytest's session as the first test starts
        self.leak_base = None  # _usage() as the test's call began
        self.figures = None  # EndFigures, with the diagnostics on

    # -- resuming after an OOM kill --------------------------------------------------------

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items):
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
        self._replay()
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
                self._log(nodeid, *self._deserialize(blob))

    def _deserialize(self, blob):
        """The reports and warnings of _reports_blob, as pytest objects."""
        data = json.loads(base64.b64decode(blob))
        hook = self.config.hook
        reports = []
        for d in data["reports"]:
            # JSON has no tuples: a skip's (path, line, reason) comes back a list, which
            # pytest's terminal and junitxml take for something else (and assert).
            if isinstance(d.get("longrepr"), list):
                d["longrepr"] = tuple(d["longrepr"])
            reports.append(hook.pytest_report_from_serializable(config=self.config, data=d))
        return reports, [_warning_from(w) for w in data.get("warnings", ())]

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
        for report in reports:
            if item is not None:
                report.nodeid = nodeid  # an id that depends on the process: this one's
            hook.pytest_runtest_logreport(report=report)
        for message in warnings:
            hook.pytest_warning_recorded.call_historic(kwargs=dict(
                warning_message=message, when="runtest", nodeid=nodeid, location=None))
        hook.pytest_runtest_logfinish(nodeid=nodeid, location=location)

    # -- one unit per test -------------------------------------------------------------------

    # Around every other wrapper (pytest's warnings plugin's among them): the warnings a
    # test raised are recorded by the time its END goes.
    @pytest.hookimpl(hookwrapper=True, tryfirst=True)
    def pytest_runtest_protocol(self, item, nextitem):
        if self.current is not None:  # a pytest run inside a test (pytester): not ours
            yield
            return
        if self.replayed_failures:
            self._count_replayed_failures(item.session)
        self.current = item.nodeid
        self.reports, self.warnings = [], []
        where = self._where(item)
        name = _enc(short_id(item.nodeid))
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
                self._tell("END", name, item.nodeid, outcome=_outcome(self.reports),
                           extras=self._extras(self._end_extras),
                           reports=None if self._plain_pass() else self._reports_blob(),
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
                                 keep="1", **sizes)
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
        elif _forkserver_pid() is None and self._move_in(name, item.nodeid, where, extras):
            return True
        return self._ask("START", name, item.nodeid, kind="test", where=where, extras=extras,
                         keep="1")

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
                          keep="1", moved="1"):
            return False
        try:
            fd = os.open(procs, os.O_WRONLY | os.O_CLOEXEC)
            try:
                os.write(fd, str(os.getpid()).encode())
            finally:
                os.close(fd)
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

    # -- pytest-memray's markers, enforced by the kernel --------------------------------------

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
            _release()
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
        _release()
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
            answer = self.runner.call("USAGE", _enc(short_id(item.nodeid)))
            return tuple(int(word) for word in answer.split())
        except RunnerError as err:
            self._degrade(item.nodeid, err, err.closed)
        except (OSError, ValueError) as err:
            self._degrade(item.nodeid, err, True)
        return None

    # A runner that refuses a unit (or is gone) must never end the session: the test runs
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
            self.warnings.append(_warning_to(warning_message))

    def _plain_pass(self):
        """True when a resumed run can say all of this test with "passed": setup, call and
        teardown passed, with no output captured, no warning, no rerun, no xpass and no
        property. Anything else is sent whole (pytest's -rA, -rP and junit show it)."""
        return (len(self.reports) == 3 and not self.warnings
                and all(r.outcome == "passed" and not r.sections and not r.user_properties
                        and not hasattr(r, "wasxfail") for r in self.reports))

    def _reports_blob(self):
        """pytest's own serialization of this test's reports and its warnings, base64 (fast,
        and one word). What does not fit a line keeps the end of each text (where a
        traceback says what failed) and says it was cut."""
        datas = [self.config.hook.pytest_report_to_serializable(config=self.config, report=r)
                 for r in self.reports]
        blob = _blob(datas, self.warnings)
        for keep in (4000, 1000, 200):
            if len(blob) <= REPORTS_MAX:
                break
            for d, r in zip(datas, self.reports):
                d["sections"] = [(title, _tail(text, keep)) for title, text in r.sections]
                if r.longrepr is not None and not isinstance(r.longrepr, tuple):
                    d["longrepr"] = _tail(str(r.longrepr), keep)
            blob = _blob(datas, [w[:4] + [_tail(w[4], keep), w[5]] for w in self.warnings][:20])
        return blob if len(blob) <= REPORTS_MAX else None

    # -- the guide's Python-level figures -----------------------------------------------------

    def _extras(self, make):
        """The extras, bounded; a diagnostic that fails is a line, never a failed session."""
        if not self.diagnostics:
            return None
        try:
            text, limit = make(), EXTRAS_MAX
            cut = _cut(text, limit)
            if cut.isascii():  # 3 bytes a character at most: EXTRAS_MAX of them always fit
                return cut
            while len(_enc(cut)) > EXTRAS_SENT_MAX:  # non-ASCII encodes long
                limit = limit * 2 // 3
                cut = _cut(text, limit)
            return cut
        except Exception as err:  # noqa: BLE001 -- test code can break anything we read
            return f"Diagnostics failed: {type(err).__name__}: {err}"[:EXTRAS_MAX]

    def _start_extras(self):
        self.xarray.watch()
        if self.tracemalloc_top:
            import tracemalloc
            if not tracemalloc.is_tracing():
                tracemalloc.start()
            tracemalloc.clear_traces()
        return _gc_line()

    def _end_extras(self):
        # The figures first: budget and analyze read them, and a long tracemalloc list is cut.
        lines = self.figures.take() if self.figures is not None else []
        if self.tracemalloc_top:
            lines += self._tracemalloc_lines()
        lines.append(_gc_line())
        self.xarray.watch()
        if self.xarray.patched:  # as the guide's plugin: 0 too, once xarray is in use
            lines.append(f"Open xarray datasets: {self.xarray.count()}")
        return "\n".join(lines)

    def _sample(self, seconds):
        """The lines of a sample of the test's top allocations, seconds into it."""
        return self._extras(lambda: "\n".join(self._tracemalloc_lines(
            f"Top tracemalloc allocations (last sample, {seconds:.1f}s into the test):")))

    def _tracemalloc_lines(self, head="Top tracemalloc allocations:"):
        import tracemalloc
        lines = [head]
        if not tracemalloc.is_tracing():  # the test, or a fixture, stopped it
            return lines + ["  (tracemalloc not active)"]
        stats = tracemalloc.take_snapshot().statistics("lineno")
        # The extras hold EXTRAS_MAX characters: with a big N, what fits (_extras cuts).
        for stat in stats[:self.tracemalloc_top]:
            frame = stat.traceback[0]
            lines.append(f"  {frame.filename}:{frame.lineno}: {stat.size / 1048576:.1f} MB")
        if not stats:
            lines.append("  (nothing allocated)")
        return lines

    # -- pytest-xdist: a worker killed in a test ------------------------------------------------

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
                return _dec(self.runner.call("VERDICT", _enc(short_id(nodeid))))
            except RunnerError as err:
                if err.closed:
                    return None
                time.sleep(0.05)
            except OSError:
                return None
        return None


class TopSampler:
    """With --tracemalloc N, the test's top allocations sent to the runner every so often
    (NOTE), so that a test the OOM killer takes before its END still has its biggest
    allocation sites in its entry: the runner keeps the last sample for it. A thread and a
    connection of its own, so that the test's connection stays the main thread's; the
    thread runs only while a test does (none runs when pytest forks its copy, Standby).
    The first sample comes 0.1 s into the test; each wait doubles up to 2 s, and is at
    least ten times what the last sample took, so that sampling costs at most a tenth."""

    FIRST, LONGEST, COST_FACTOR = 0.1, 2.0, 10

    def __init__(self, path, sample):
        self.path, self.sample = path, sample
        self.runner = None  # made at the first sample
        self.thread = self.done = None
        self.gone = path is None

    def start(self, name):
        if self.gone:
            return
        import threading
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(name, self.done),
                                       name="wcmem-sandbox-tracemalloc", daemon=True)
        self.thread.start()

    def stop(self):
        if self.thread is not None:
            self.done.set()
            self.thread.join()
            self.thread = None

    def _run(self, name, done):
        began, wait = time.monotonic(), self.FIRST
        while not done.wait(wait):
            now = time.monotonic()
            text = self.sample(now - began)
            if done.is_set():
                return  # the test ended meanwhile: its END says more
            try:
                if self.runner is None:
                    self.runner = Runner(self.path)
                self.runner.call("NOTE", name, extras=text)
            except RunnerError as err:
                if err.closed:
                    self._give_up()
                    return
            except OSError:
                self._give_up()
                return
            cost = time.monotonic() - now
            wait = max(min(wait * 2, self.LONGEST), cost * self.COST_FACTOR)

    def _give_up(self):
        """The runner is gone or will not take a connection: no more samples."""
        self.gone = True
        if self.runner is not None:
            self.runner.sock.close()
            self.runner = None


class Forkserver:
    """multiprocessing's forkserver outlives the test that started it, and forks the
    children later tests ask for: each is charged to the cgroup the forkserver is in when
    it forks. So the forkserver follows the tests: into each test's unit as it starts
    (after this process moved there), and out to the sandbox's harness before its END is
    sent, so that the runner never finds it among what the test left behind, and never
    moves it while the next test moves it in. Only a forkserver that is this process's
    child: its pid cannot name another process until this process reaps it."""

    def __init__(self):
        self.unit = UnitMemory()  # finds this process's memory cgroup
        self.failed = False      # a move was refused: not tried again

    def follow(self):
        self._move(lambda unit: unit)

    def leave(self):
        self._move(lambda unit: os.path.join(os.path.dirname(unit), "harness"))

    def _move(self, where):
        pid = _forkserver_pid()
        if pid is None or self.failed:
            return
        try:
            if not _is_child(pid):
                return
            unit = self._own_cgroup()
            if unit is None:
                return
            fd = os.open(os.path.join(where(unit), "cgroup.procs"), os.O_WRONLY | os.O_CLOEXEC)
            try:
                os.write(fd, str(pid).encode())
            finally:
                os.close(fd)
        except ProcessLookupError:
            pass  # it ended meanwhile: multiprocessing starts another when asked
        except OSError as err:
            self.failed = True
            sys.stderr.write(f"wcmem-sandbox plugin: warning: cannot move multiprocessing's "
                             f"forkserver ({err}): the children it forks are charged to "
                             f"the sandbox's harness, not to their tests\n")

    def _own_cgroup(self):
        """The folder of this process's memory cgroup, or None."""
        found = self.unit.folder()
        return found[1] if found else None


def _forkserver_pid():
    """The pid of multiprocessing's forkserver of this process, None when it runs none."""
    module = sys.modules.get("multiprocessing.forkserver")
    server = getattr(module, "_forkserver", None)
    pid = getattr(server, "_forkserver_pid", None)
    return pid if isinstance(pid, int) and pid > 0 else None


def _is_child(pid):
    """Whether pid is a child of this process (alive, or a zombie not yet reaped)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rpartition(b")")[2].split()
    except OSError:
        return False
    return len(fields) > 1 and fields[1] == str(os.getpid()).encode()


def _memory_mount(v1):
    """(mount point, root) of the memory controller's hierarchy from /proc/self/mountinfo:
    cgroup v1's memory, else cgroup2. None when there is none."""
    with open("/proc/self/mountinfo") as f:
        for line in f:
            head, _, tail = line.partition(" - ")
            fields, rest = head.split(), tail.split()
            if len(fields) < 5 or len(rest) < 3:
                continue
            if (v1 and rest[0] == "cgroup" and "memory" in rest[2].split(",")) or \
                    (not v1 and rest[0] == "cgroup2"):
                # mountinfo writes a blank in a path as \040
                return fields[4].replace("\\040", " "), fields[3].replace("\\040", " ")
    return None


class Standby:
    """After an OOM kill, a fork instead of a new start, import and collection.

    Once the tests are collected, this pytest forks a copy that tells the runner it stands
    by (STANDBY) and waits, outside every unit, touching nothing. When a test takes this
    process with it, the runner wakes the copy (WAKE and the resume file): it leaves out
    what is done, replays its reports, forks its own copy and goes on. What this process
    set up (session- and module-scoped fixtures) is not in the copy, which sets it up
    again, as a restarted pytest would. No copy stands by when threads run besides this one
    (a fork copies only the one that forks) or under xdist; then, or when the copy cannot
    take over, the runner starts pytest again."""

    READY_WAIT = 30  # seconds for the copy to stand by, then the run goes on without it
    told = False  # why no copy stands by, said once (a copy inherits it)

    def __init__(self, wcmem, path):
        self.wcmem, self.path = wcmem, path
        self.pid = None  # the copy standing by for this process

    @pytest.hookimpl(hookwrapper=True, tryfirst=True)
    def pytest_runtestloop(self, session):
        # A woken copy is the run from here on: it stands a copy of its own by, then runs.
        while self._can_stand_by(session):
            resume = self._fork(session)
            if resume is None:
                break
            self._take_over(session, resume)
        yield

    def _can_stand_by(self, session):
        if self.wcmem.runner is None or self.wcmem.current is not None or not session.items:
            return False
        busy = _busy_thread()
        if busy:
            self._cannot(busy)
        return busy is None

    def _cannot(self, why):
        """Says once why no copy stands by: each kill then costs a new start."""
        if Standby.told or self.wcmem.resume is not None:  # a run started again: said
            return
        Standby.told = True
        text = (f"wcmem-sandbox plugin: no copy of pytest stands by ({why}): after an OOM "
                "kill pytest starts again, with its imports and collection\n")
        capman = self.wcmem.config.pluginmanager.getplugin("capturemanager")
        if capman is None:
            sys.stderr.write(text)
            return
        with capman.global_and_fixture_disabled():
            sys.stderr.write(text)
            sys.stderr.flush()

    def _fork(self, session):
        """Forks the copy. Returns None in this process; in the copy, once woken, the
        resume file's path (a copy not woken exits)."""
        reporter = self.wcmem.config.pluginmanager.getplugin("terminalreporter")
        for f in (getattr(reporter, "_tw", None), sys.stdout, sys.stderr):
            if f is not None:
                f.flush()  # or both would write it
        ready, told = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(ready)
            return self._stand_by(told)
        os.close(told)
        # Still in the command's unit, before any test; done while the copy connects and
        # is moved, not after (a copy refused leaves these pages to this process alone).
        _own_pages()
        try:
            seen, _, _ = select.select([ready], [], [], self.READY_WAIT)
            said = os.read(ready, 1024) if seen else b"0it did not answer in time"
        finally:
            os.close(ready)
        if said == b"1":
            self.pid = pid
        else:
            self._end(pid)
            self._cannot(said[1:].decode("utf-8", "replace") or "it ended")
        return None

    def _stand_by(self, told):
        """In the copy: waits to be woken; exits when it is not (a normal end, a kill)."""
        try:
            old = self.wcmem.runner
            old.sock.close()  # the parent's connection: ours only closes here
            try:
                runner = Runner(self.path)
                runner.call("STANDBY")
            except (OSError, RunnerError) as err:
                os.write(told, b"0" + f"the runner: {err}".encode()[:1000])
                raise
            os.write(told, b"1")
            os.close(told)
            line = runner.line().decode("utf-8", "replace").rstrip("\n")
            if not line.startswith("WAKE "):
                os._exit(0)
            self.wcmem.runner, self.pid = runner, None
            return _dec(line[5:])
        except BaseException:  # noqa: BLE001 -- refused, or interrupted: never run on
            os._exit(0)

    def _take_over(self, session, resume):
        wcmem = self.wcmem
        wcmem.resume = Resume(resume, wcmem.runner)
        session.items[:] = wcmem._deselect(session.items)
        # As a run started again counts: the tests it runs; the replay adds the rest.
        session.testscollected = len(session.items)

    @staticmethod
    def _end(pid):
        try:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        except OSError:
            pass

    def pytest_unconfigure(self, config):
        if self.pid is not None:
            self._end(self.pid)
            self.pid = None


# The system calls a thread idle between events waits in, by machine (x86_64; the generic
# table of aarch64 and riscv64): a read or accept on a socket, select, poll, epoll, a
# futex (a lock, an Event, a Queue), a sleep, a wait for a child or a signal.
_IDLE_CALLS = {
    "x86_64": {0, 7, 23, 34, 35, 43, 45, 47, 61, 128, 130, 202, 230, 232, 247, 270, 271,
               281, 288, 299, 441, 449},
    "generic": {22, 63, 72, 73, 95, 98, 101, 115, 133, 137, 202, 207, 212, 242, 243, 260,
                441, 449},
}
_IDLE_CALLS["aarch64"] = _IDLE_CALLS["riscv64"] = _IDLE_CALLS["generic"]


def _thread_state(tid):
    """(state letter, CPU ticks, system call number or -1) of one of our threads, from
    /proc; None when it is gone."""
    try:
        with open(f"/proc/self/task/{tid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        with open(f"/proc/self/task/{tid}/syscall") as f:
            call = f.read().split()
    except OSError:
        return None
    number = int(call[0]) if call and call[0].lstrip("-").isdigit() else -1
    return fields[0], int(fields[11]) + int(fields[12]), number


def _busy_thread():
    """None when no thread but this one runs: each waits in the kernel for an event (a
    server's accept, a timer's wait) and holds nothing a fork would leave locked in the
    copy, where it does not exist. Else why not, naming a thread that does run."""
    threading = sys.modules.get("threading")
    if threading is None or threading.active_count() == 1:
        return None
    me = threading.get_ident()
    others = [t for t in threading.enumerate() if t.ident != me and t.native_id]
    import platform
    idle = _IDLE_CALLS.get(platform.machine())
    time.sleep(0.002)  # lets go of the GIL: a thread waiting for it goes on to its wait
    before = {t.native_id: _thread_state(t.native_id) for t in others}
    time.sleep(0.002)
    for t in others:
        now = _thread_state(t.native_id)
        if now is None:
            continue  # it ended
        if now[0] != "S" or now != before[t.native_id] or (idle and now[2] not in idle):
            return f"thread {t.name!r} is running, not waiting for an event"
    return None


MADV_POPULATE_WRITE = 23  # Linux 5.14
_RESIDENT = bytes(b & 1 for b in range(256))  # mincore's byte to 1 (resident) or 0


def _own_pages():
    """Copies now, while this process is in the command's unit, the pages it shares with
    the copy it just forked. Else each page is copied when first written to (a reference
    count is enough; a garbage collection writes to every object), and charged to the test
    that happens to run then: its peak would be too high, and memory it never allocated
    would seem left behind. Costs a copy of pytest's memory after collection, charged to
    the command's unit; the copy standing by keeps the originals. Only resident pages of
    private writable mappings (mincore), faulted in for writing by madvise
    (MADV_POPULATE_WRITE, Linux 5.14), which fails on a range that is gone instead of
    touching it. Best effort: on an older kernel the tests' figures include those pages."""
    import ctypes
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        page = os.sysconf("SC_PAGE_SIZE")
        with open("/proc/self/maps") as f:
            maps = [line.split()[:2] for line in f]
    except OSError:
        return
    for span, mode in maps:
        if mode != "rw-p":
            continue
        start, end = (int(x, 16) for x in span.split("-"))
        vec = (ctypes.c_ubyte * ((end - start) // page))()
        if libc.mincore(ctypes.c_void_p(start), ctypes.c_size_t(end - start), vec) != 0:
            continue
        # Runs of resident pages (bit 0), found in C: a loop in Python over every page of
        # a big heap takes milliseconds.
        for run in re.finditer(b"\x01+", bytes(vec).translate(_RESIDENT)):
            if libc.madvise(ctypes.c_void_p(start + run.start() * page),
                            ctypes.c_size_t((run.end() - run.start()) * page),
                            MADV_POPULATE_WRITE) != 0:
                if ctypes.get_errno() == 22:  # EINVAL: a kernel before 5.14
                    return


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


def _leak_check_repeats():
    """WCMEM_SANDBOX_LEAK_CHECK=N: repeats of each test's call (0: none, at most 20)."""
    text = os.environ.get("WCMEM_SANDBOX_LEAK_CHECK", "0")
    if not text.isdigit() or int(text) > 20:
        sys.stderr.write(f"wcmem-sandbox plugin: WCMEM_SANDBOX_LEAK_CHECK={text!r} is not a "
                         "count from 0 to 20: no leak check\n")
        return 0
    return int(text)


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


def _in_xdist(config):
    return getattr(config.option, "dist", "no") != "no" or hasattr(config, "workerinput")


def _is_xdist_controller(config):
    return (getattr(config.option, "dist", "no") != "no"
            and not hasattr(config, "workerinput"))


def pytest_configure(config):
    # pytest-memray's markers, so that --strict-markers projects run unchanged.
    config.addinivalue_line("markers", "limit_memory(SIZE): the test's own memory limit "
                            "(its cgroup's, under wcmem-sandbox), e.g. \"24 MB\"")
    config.addinivalue_line("markers", "limit_leaks(SIZE): fail the test when it still holds "
                            "more than SIZE at its end (under wcmem-sandbox: its cgroup's)")
    path = os.environ.get("WCMEM_SANDBOX_SOCKET")
    if not path or config.pluginmanager.has_plugin("wcmem-sandbox"):
        return
    try:
        runner = Runner(path)
    except (OSError, RunnerError) as err:
        sys.stderr.write(f"wcmem-sandbox plugin: not in a sandbox ({err}): tests run without "
                         "units of their own\n")
        return
    plugin = WcmemPlugin(config, runner)
    config.pluginmanager.register(plugin, "wcmem-sandbox")
    if plugin.diagnostics:
        plugin.figures = EndFigures(plugin)
        config.pluginmanager.register(plugin.figures, "wcmem-sandbox-figures")
        repeats = _leak_check_repeats()
        if repeats:
            config.pluginmanager.register(LeakCheck(plugin.figures, repeats),
                                          "wcmem-sandbox-leak-check")
    if not _in_xdist(config) and hasattr(os, "fork"):
        config.pluginmanager.register(Standby(plugin, path), "wcmem-sandbox-standby")
    if _is_xdist_controller(config):
        config.pluginmanager.register(XdistCompleteness(config, plugin),
                                      "wcmem-sandbox-xdist")
