"""The copy that stands by to resume this run is gone (a test killed it) before a test is
OOM-killed: the runner must start pytest again instead, and lose no test."""
import os
import signal


def test_before():
    assert True


def test_ends_the_standby(request):
    standby = request.config.pluginmanager.getplugin("wcmem-sandbox-standby")
    assert standby is not None and standby.pid
    os.kill(standby.pid, signal.SIGKILL)
    os.waitpid(standby.pid, 0)
    standby.pid = None


def test_hog():
    hog = []
    while True:
        hog.append(bytearray(16 << 20))


def test_after():
    assert "after" in "after the hog"
