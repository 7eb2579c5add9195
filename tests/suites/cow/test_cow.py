"""A garbage collection writes to every object, those made at collection too: the test
must not be charged for pages the process shared with the copy forked to stand by."""
import gc


def test_collects():
    gc.collect()


def test_small():
    assert bytearray(1 << 20)
