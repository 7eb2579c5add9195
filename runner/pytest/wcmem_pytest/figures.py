"""What a test's END adds for `budget` and `analyze`: the broader fixtures it set up or
shared, and with WCMEM_SANDBOX_LEAK_CHECK=N, what repeats of its call added."""
import gc
import os
import resource
import sys

import pytest

from .libc import malloc_trim, release_memory
from .memory import UnitMemory


def _faults():
    """Pages this process has touched for the first time so far (minor faults): one system
    call, so every test can afford it."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def leak_check_repeats():
    """WCMEM_SANDBOX_LEAK_CHECK=N: repeats of each test's call (0: none, at most 20)."""
    text = os.environ.get("WCMEM_SANDBOX_LEAK_CHECK", "0")
    if not text.isdigit() or int(text) > 20:
        sys.stderr.write(f"wcmem-sandbox plugin: WCMEM_SANDBOX_LEAK_CHECK={text!r} is not a "
                         "count from 0 to 20: no leak check\n")
        return 0
    return int(text)


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
            malloc_trim()
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
        release_memory()
        usage = self.figures.unit.read()
        return usage[0] if usage else None
