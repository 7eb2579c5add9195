"""Hostile test code that takes the plugin's own connection to the runner: the runner then
refuses the plugin's END and STARTs (409). The session must go on: every test runs."""
import socket
import urllib.parse

import pytest


@pytest.fixture
def runner(request):
    return request.config.pluginmanager.get_plugin("wcmem-sandbox").runner


def test_a_hijacks(runner, request):
    runner.call("END", urllib.parse.quote(request.node.nodeid, safe="/:[]"))
    runner.call("START", "hijack")  # the plugin's END for this test is refused, and so


def test_b_runs_refused():         # is this test's START: it runs where it is
    assert bytearray(4 << 20)


def test_c_releases(runner):       # refused too; it ends the stolen unit
    runner.call("END", "hijack")


def test_d_has_a_unit():
    assert bytearray(4 << 20)


def test_e_cuts_the_line(runner):  # the plugin's END fails (OSError): later tests run
    runner.sock.shutdown(socket.SHUT_RDWR)  # without units; the session still ends well


def test_f_after_the_cut():
    assert bytearray(4 << 20)
