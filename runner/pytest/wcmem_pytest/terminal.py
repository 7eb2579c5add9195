"""pytest's own terminal summary shows memory: a "wcmem-sandbox: memory" section, as
--durations and pytest-memray add theirs, with the biggest tests by peak and every test the
OOM killer took, in pytest's colours (--color).

The figures are the runner's (TOP, runner/control/PROTOCOL.md): it has read every unit's
counters, of every attempt of a resumed run and of every pytest-xdist worker, so the one
pytest that prints the summary (the controller under xdist) asks it, a test a line. Once
asked, the runner's own summary on stderr leaves its list of the biggest tests out.
"""
from .client import RunnerError
from .protocol import decode


class Top:
    """One line of TOP's answer: a test, its peak and limit, its verdict."""

    def __init__(self, text):
        fields = text.split(" ")
        if len(fields) != 8:
            raise ValueError(f"TOP: {len(fields)} fields, not 8")
        self.tests, self.nkilled = int(fields[0]), int(fields[1])
        self.killed = fields[2] == "killed"
        self.bytes = int(fields[3])
        self.peak, self.limit, self.name, self.verdict = (decode(f) for f in fields[4:])


def _ask(runner, rank):
    """The test of that rank, or None past the last."""
    try:
        return Top(runner.call("TOP", str(rank)))
    except RunnerError as err:
        if err.closed or "ERR 404" not in str(err):
            raise
        return None


def _killed_reported(tr):
    """Whether pytest reported a test as OOM-killed: the replay's, or a crashed xdist
    worker's with the runner's verdict."""
    return any("OOM-killed" in str(getattr(r, "longrepr", ""))
               for r in tr.stats.get("failed", ()))


class MemorySummary:
    """The section, by pytest's verbosity: -qq names only the tests killed (and shows
    nothing when none was), -q the 3 biggest, the default the 5 biggest, -v the 10 the
    runner keeps, with their limits and verdicts."""

    BIGGEST = {-1: 3, 0: 5}
    BIGGEST_VERBOSE = 10  # the runner's summary keeps as many (REP_SUMMARY_BIGGEST)
    KILLED_LISTED = 20    # killed tests named; the runner's summary names them all

    def __init__(self, config, wcmem):
        self.config, self.wcmem = config, wcmem

    def pytest_terminal_summary(self, terminalreporter):
        runner = self.wcmem.runner
        if runner is None:
            return
        verbose = self.config.option.verbose
        if verbose <= -2 and not _killed_reported(terminalreporter):
            return  # nothing to say, and the runner's own summary keeps its list
        try:
            killed, biggest = self._gather(runner, self._biggest_count(verbose))
        except (RunnerError, OSError, ValueError) as err:
            terminalreporter.write_line(f"wcmem-sandbox: no memory figures ({err})",
                                        yellow=True)
            return
        if not killed and not biggest:
            return
        self._write(terminalreporter, killed, biggest, verbose)

    def _biggest_count(self, verbose):
        if verbose <= -2:
            return 0
        return self.BIGGEST_VERBOSE if verbose > 0 else self.BIGGEST[verbose]

    def _gather(self, runner, count):
        """The killed tests (the runner ranks them first) and the count biggest of all."""
        first = _ask(runner, 0)
        if first is None:
            return [], []
        killed = [first] if first.killed else []
        for rank in range(1, min(first.nkilled, self.KILLED_LISTED)):
            top = _ask(runner, rank)
            if top is None:
                break
            killed.append(top)
        rest = []
        for rank in range(first.nkilled, first.nkilled + count):
            top = first if rank == 0 else _ask(runner, rank)
            if top is None:
                break
            rest.append(top)
        # Stable: a killed test before a test of the same peak, as in the runner's summary.
        biggest = sorted(killed + rest, key=lambda t: -t.bytes)[:count]
        self.tests, self.nkilled = first.tests, first.nkilled
        return killed, biggest

    def _write(self, tr, killed, biggest, verbose):
        if biggest:
            tr.write_sep("=", f"wcmem-sandbox: memory, the {len(biggest)} biggest of "
                         f"{self.tests} test{'s' if self.tests != 1 else ''} by peak")
        else:
            tr.write_sep("=", "wcmem-sandbox: memory", red=True)
        width = max((len(t.peak) for t in biggest), default=0)
        lwidth = max((len(t.limit) for t in biggest), default=0)
        for t in biggest:
            if verbose > 0:
                line = f"{t.peak:>{width}} of {t.limit:>{lwidth}}  {t.name}  {t.verdict}"
            else:
                line = f"{t.peak:>{width}}  {t.name}" + ("  OOM-killed" if t.killed else "")
            tr.write_line(line, red=t.killed)
        for t in killed:
            tr.write_line(f"KILLED {t.name} - {t.verdict}", red=True, bold=True)
        if self.nkilled > len(killed):
            tr.write_line(f"... and {self.nkilled - len(killed)} more killed (wcmem-sandbox's "
                          "summary names them all)", red=True)
