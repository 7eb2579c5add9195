"""Code under test that stops tracemalloc, as a project's own memory-profile fixture does:
the diagnostics say so and the session goes on."""
import tracemalloc

KEEP = []


def test_stops_tracemalloc():
    KEEP.append(bytearray(1 << 20))
    tracemalloc.stop()


def test_after_it():
    KEEP.append(bytearray(3 << 20))
