"""Every outcome pytest has, with three hogs among them (before, between, after) that the
test limit OOM-kills: a run under the sandbox must report every other test as plain pytest
does (tests/integration/test_faithful.py). The hogs' names start with test_hog."""
import asyncio
import sys
import warnings

import pytest


def hog():
    blocks = []
    while True:
        blocks.append(bytearray(16 << 20))


def test_hog_before():
    hog()


def test_pass():
    assert True


def test_pass_prints(capsys):
    print("out of a test that passes")
    sys.stderr.write("err of a test that passes\n")


def test_fail():
    assert [1, 2, 3] == [1, 2, 4], "lists differ"


@pytest.fixture
def broken_setup():
    raise RuntimeError("setup broke")


@pytest.fixture
def broken_teardown():
    yield
    raise RuntimeError("teardown broke")


def test_error_in_setup(broken_setup):
    pass


def test_error_in_teardown(broken_teardown):
    print("the call passed")


@pytest.mark.skip(reason="skipped by its marker")
def test_skip_marker():
    pass


@pytest.mark.skipif(sys.platform == "linux", reason="not on Linux")
def test_skipif():
    pass


def test_skip_at_run_time():
    pytest.skip("skipped at run time")


@pytest.mark.xfail(reason="a known bug")
def test_xfail():
    assert False


@pytest.mark.xfail(reason="fixed since")
def test_xpass():
    pass


@pytest.mark.xfail(strict=True, reason="must fail")
def test_xpass_strict():
    pass


def test_warns():
    warnings.warn("a user warning", UserWarning)


def test_deprecated():
    warnings.warn("an old API", DeprecationWarning)


RUNS = {"flaky": 0}


@pytest.mark.flaky(reruns=2)
def test_flaky_passes_on_a_rerun():
    RUNS["flaky"] += 1
    assert RUNS["flaky"] >= 2, "fails the first time"


@pytest.mark.flaky(reruns=1)
def test_flaky_fails_every_time():
    assert False, "always"


def test_hog_between():
    hog()


@pytest.mark.parametrize("n", [1, 2, 3])
def test_param(n):
    assert n != 2


def test_subtests(subtests):
    for i in range(3):
        with subtests.test(msg="part", i=i):
            assert i != 1


def test_property(record_property):
    record_property("answer", 42)


@pytest.mark.asyncio
async def test_async():
    await asyncio.sleep(0)


@pytest.mark.timeout(60)
def test_with_timeout():
    print("under a timeout")


def test_logs(caplog):
    import logging
    logging.getLogger("outcomes").warning("a logged warning")


def test_hog_after():
    hog()
