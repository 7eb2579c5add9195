"""A multiprocessing forkserver outlives the test that started it; the children it forks
for later tests are theirs."""
import multiprocessing

FORKSERVER = multiprocessing.get_context("forkserver")


def small():
    pass


def big():
    block = bytearray(100 << 20)
    block[::4096] = b"\x01" * len(block[::4096])  # every page written: charged now


def run(target):
    child = FORKSERVER.Process(target=target)
    child.start()
    child.join()
    return child.exitcode


def test_starts_the_forkserver():
    assert run(small) == 0


def test_its_child_goes_over_the_limit():
    assert run(big) == 0  # -9 when its own limit held it


def test_after():
    assert run(small) == 0
