"""--shard I/N: this run's share of the collected tests.

The runner names the shard in WCMEM_SANDBOX_SHARD ("2/3", 1-based). N runs of the same
collection, each with its own I, run every test exactly once: the share is a function of
the test ids alone, never of the order or the process (Python's hash() is salted per
process: a sha256 of the id instead). Under pytest-xdist each worker collects the same and
selects the same, so that xdist's check that the workers agree holds; a resumed pytest gets
the same variable and selects the same again.

With what an earlier run measured (WCMEM_SANDBOX_SHARD_LOG: a memory log's Duration and
Peak memory of each test; WCMEM_SANDBOX_SHARD_BUDGETS: the budget file's sizes), the shares
are balanced by duration instead: longest first over the ids in sorted order, each to the
shard with the least time so far whose estimated peak (the sum of its largest peaks, one a
worker) stays under the limit (WCMEM_SANDBOX_LIMIT), else to the one with the least
time. A test the history does not know counts the mean duration of those it does.
"""
import hashlib
import os
import re

import pytest

from .protocol import decode, short_id

LINE_MAX = 8192          # a history line's bytes read; the rest is skipped
TESTS_MAX = 1_000_000    # tests kept from a history
TEST_COST_MIN = 0.01      # seconds: what a test costs at least (its unit, its reports)
UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def parse_shard(text):
    """(index, count) of "I/N", or None."""
    m = re.fullmatch(r"([0-9]{1,9})/([0-9]{1,9})", text or "")
    if not m:
        return None
    index, count = int(m.group(1)), int(m.group(2))
    return (index, count) if 1 <= index <= count else None


def stable_bucket(nodeid, count):
    """The shard (0-based) of a test without history: the same in every process."""
    digest = hashlib.sha256(nodeid.encode("utf-8", "surrogateescape")).digest()
    return int.from_bytes(digest[:8], "big") % count


def _lines(path):
    """The lines of a file, each cut to LINE_MAX bytes; nothing when it cannot be read or
    is not a regular file (a FIFO would block)."""
    try:
        f = open(path, "rb")
    except OSError:
        return
    with f:
        if not os.path.isfile(path):
            return
        while True:
            line = f.readline(LINE_MAX)
            if not line:
                return
            if not line.endswith(b"\n"):
                while True:  # the rest of a long line
                    rest = f.readline(LINE_MAX)
                    if not rest or rest.endswith(b"\n"):
                        break
            yield line.rstrip(b"\n").decode("utf-8", "surrogateescape")


def read_log(path, durations, peaks):
    """The Duration and Peak memory of each TEST_END entry (the largest of each, over the
    runs the log holds)."""
    name = None
    for line in _lines(path):
        if line.startswith("["):
            head = re.match(r"\[[^\]]*\] TEST_END: (.*)", line)
            name = head.group(1) if head else None
            if name is not None and name not in durations and len(durations) >= TESTS_MAX:
                name = None
            continue
        if name is None:
            continue
        m = re.match(r"  Duration: ([0-9.]+)s$", line)
        if m:
            durations[name] = max(durations.get(name, 0.0), float(m.group(1)))
        m = re.match(r"  Peak memory: ([0-9.]+) MB$", line)
        if m:
            peaks[name] = max(peaks.get(name, 0), int(float(m.group(1)) * (1 << 20)))


def read_budgets(path, peaks):
    """The budget file's size of each test: what it may use, when no log says more."""
    for line in _lines(path):
        m = re.match(r"\s*test\s*=\s*([0-9]+)([KMGT]?)\s+(.*?)\s*(;.*)?$", line)
        if m and len(peaks) < TESTS_MAX:
            name = decode(m.group(3))
            peaks.setdefault(name, int(m.group(1)) * UNITS[m.group(2)])


def balance(ids, count, durations, peaks, limit, workers):
    """{id: shard (0-based)}: longest first, each to the shard with the least time whose
    estimated peak stays under limit (None: no limit), else the one with the least time."""
    # A test costs at least its unit's setup, and the log's durations are tenths of a
    # second: tests of "0.0s" still spread over the shards.
    cost = {i: max(durations[i], TEST_COST_MIN) for i in ids if i in durations}
    mean = sum(cost.values()) / len(cost) if cost else 1.0
    load = [0.0] * count
    top = [[] for _ in range(count)]  # each shard's largest peaks, one a worker
    out = {}
    for nodeid in sorted(ids, key=lambda i: (-cost.get(i, mean), i)):
        peak = peaks.get(nodeid, 0)
        order = sorted(range(count), key=lambda s: (load[s], s))
        fits = [s for s in order
                if limit is None or sum(sorted(top[s] + [peak])[-workers:]) <= limit]
        shard = fits[0] if fits else order[0]
        out[nodeid] = shard
        load[shard] += cost.get(nodeid, mean)
        top[shard] = sorted(top[shard] + [peak])[-workers:]
    return out


def _workers(config):
    """The tests one shard runs at once: pytest-xdist's workers, else one."""
    workerinput = getattr(config, "workerinput", None)
    if workerinput and str(workerinput.get("workercount", "")).isdigit():
        return max(1, int(workerinput["workercount"]))
    return 1


class Shard:
    """The selection, and the summary's line. Registered as a plugin of its own for the
    summary; WcmemPlugin calls select() from its pytest_collection_modifyitems, before a
    resume's leaving out, so that every run selects from the same whole collection."""

    @classmethod
    def from_env(cls):
        text = os.environ.get("WCMEM_SANDBOX_SHARD")
        parsed = parse_shard(text)
        if text and not parsed:
            raise pytest.UsageError(f"wcmem-sandbox plugin: WCMEM_SANDBOX_SHARD={text!r} is "
                                    "not a shard I/N with 1 <= I <= N")
        return cls(*parsed) if parsed else None

    def __init__(self, index, count):
        self.index, self.count = index, count
        self.origin = os.environ.get("WCMEM_SANDBOX_SHARD_FROM", "")
        self.selected = self.collected = None
        self.how = "a hash of each test's id"
        self.from_workers = []

    def select(self, config, items):
        """The items of this shard, in their order; the others reported deselected."""
        durations, peaks = {}, {}
        log = os.environ.get("WCMEM_SANDBOX_SHARD_LOG")
        budgets = os.environ.get("WCMEM_SANDBOX_SHARD_BUDGETS")
        if log:
            read_log(log, durations, peaks)
        if budgets:
            read_budgets(budgets, peaks)
        ids = {item.nodeid: short_id(item.nodeid) for item in items}
        names = sorted(set(ids.values()))
        if durations:
            limit = os.environ.get("WCMEM_SANDBOX_LIMIT", "")
            shard_of = balance(names, self.count, durations, peaks,
                               int(limit) if limit.isdigit() else None, _workers(config))
            known = sum(1 for n in names if n in durations)
            self.how = f"the durations of {log} ({known} of {len(names)} tests known)"
        else:
            shard_of = {n: stable_bucket(n, self.count) for n in names}
        keep, drop = [], []
        for item in items:
            (keep if shard_of[ids[item.nodeid]] == self.index - 1 else drop).append(item)
        if drop:
            config.hook.pytest_deselected(items=drop)
        self.selected, self.collected = len(keep), len(items)
        workeroutput = getattr(config, "workeroutput", None)
        if workeroutput is not None:
            workeroutput["wcmem_shard"] = (self.selected, self.collected, self.how)
        return keep

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session):
        # A shard the hash gave no test (more shards than tests, or a small suite) ran what
        # it was given, all of it: not pytest's "no tests collected" (5), which would fail
        # its CI job, as -k deselecting everything does.
        if (session.exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED and self.selected == 0
                and self.collected):
            session.exitstatus = pytest.ExitCode.OK

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node, error):
        # pytest-xdist's controller collects nothing: its workers say what they selected.
        said = getattr(node, "workeroutput", {}).get("wcmem_shard")
        if said and self.selected is None:
            self.selected, self.collected, self.how = said

    def pytest_terminal_summary(self, terminalreporter):
        where = f" ({self.origin})" if self.origin and self.origin != "--shard" else ""
        if self.selected is None:
            terminalreporter.write_line(f"wcmem-sandbox: shard {self.index}/{self.count}"
                                        f"{where}: no tests collected")
            return
        terminalreporter.write_line(
            f"wcmem-sandbox: shard {self.index}/{self.count}{where}: {self.selected} of "
            f"{self.collected} collected tests; the other shards run the rest (split by "
            f"{self.how})")
