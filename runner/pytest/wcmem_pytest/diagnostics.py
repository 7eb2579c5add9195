"""The extras: the Python-level figures a test's START and END add to its log entry.

GC counts, open xarray datasets, tracemalloc's top allocations (--tracemalloc N), and what
EndFigures (figures.py) found; bounded to what a line may carry.
"""
import gc
import os
import types

from .protocol import EXTRAS_MAX, EXTRAS_SENT_MAX, encode
from .sampler import TopSampler
from .xarrays import XarrayTracker


def _cut(text, limit):
    """At most limit characters: a longer text keeps its head and says it was cut."""
    if text is None or len(text) <= limit:
        return text
    return text[:limit - 40].rsplit("\n", 1)[0] + f"\n(cut: {len(text)} characters)"


def _gc_line():
    stats = gc.get_stats()
    return (f"GC: collections={sum(s['collections'] for s in stats)}, "
            f"uncollectable={sum(s['uncollectable'] for s in stats)}")


SWITCH = b"WEATHERCOP_DISABLE_DIAGNOSTICS"
SOURCE_READ_MAX = 1 << 20  # bytes of a plugin's source looked through for SWITCH


def _own_writer(config):
    """The module of pytest's plugins (a conftest, an installed plugin) that reads
    WeatherCop's switch: the project's in-process diagnostics. None without one."""
    ours = os.path.dirname(os.path.abspath(__file__))
    for plugin in config.pluginmanager.get_plugins():
        path = getattr(plugin, "__file__", None) if isinstance(plugin, types.ModuleType) \
            else None
        if not path or not path.endswith(".py") or os.path.dirname(path) == ours or \
                f"{os.sep}_pytest{os.sep}" in path:
            continue
        try:
            with open(path, "rb") as f:
                if SWITCH in f.read(SOURCE_READ_MAX):
                    return path
        except OSError:
            continue
    return None


def _default_log():
    folder = os.environ.get("WEATHERCOP_DIR") or os.path.join(os.path.expanduser("~"),
                                                              ".weathercop")
    return os.path.join(folder, "test_memory.log")


class Diagnostics:
    """WcmemPlugin's extras: on unless the runner switched the project's own diagnostics
    off and did not ask for ours (WCMEM_SANDBOX_DIAGNOSTICS)."""

    def _init_diagnostics(self):
        # The runner says whether the extras are wanted when it has switched the project's
        # own in-process diagnostics off (WEATHERCOP_DISABLE_DIAGNOSTICS) to keep the log.
        ours = os.environ.get("WCMEM_SANDBOX_DIAGNOSTICS")
        self.diagnostics = (ours == "1" if ours is not None else
                            os.environ.get("WEATHERCOP_DISABLE_DIAGNOSTICS") != "1")
        top = os.environ.get("WCMEM_SANDBOX_TRACEMALLOC", "0")
        self.tracemalloc_top = int(top) if self.diagnostics and top.isdigit() else 0
        self.sampler = TopSampler(os.environ.get("WCMEM_SANDBOX_SOCKET"), self._sample)
        self.xarray = XarrayTracker()
        self.figures = None  # EndFigures, with the diagnostics on
        self.alone = False  # a child that runs one test from the collected state (measure.py)

    def pytest_report_header(self, config):
        """Said once, in pytest's header, only when the project has a writer of its own
        that the runner switched off (WCMEM_SANDBOX_DIAGNOSTICS: it shares our log)."""
        if os.environ.get("WCMEM_SANDBOX_DIAGNOSTICS") != "1":
            return None
        writer = _own_writer(config)
        if writer is None:
            return None
        return [f"wcmem-sandbox: {_default_log()} is also where the in-process diagnostics "
                f"of {os.path.relpath(writer)} write (WeatherCop's): off for the run "
                "(WEATHERCOP_DISABLE_DIAGNOSTICS=1), so that they cannot erase it; the log "
                "has their figures"]

    def _extras(self, make):
        """The extras, bounded; a diagnostic that fails is a line, never a failed session."""
        if not self.diagnostics:
            return None
        try:
            text, limit = make(), EXTRAS_MAX
            cut = _cut(text, limit)
            if cut.isascii():  # 3 bytes a character at most: EXTRAS_MAX of them always fit
                return cut
            while len(encode(cut)) > EXTRAS_SENT_MAX:  # non-ASCII encodes long
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
        if self.alone:  # measure.py's child: budget reads it
            lines.insert(0, "Measured: alone, from the collected state")
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
