"""wcmem-sandbox's pytest plugin: every test in a cgroup of its own.

wcmem-sandbox loads it into pytest by itself (PYTEST_PLUGINS=wcmem_pytest, with the folder
that holds this package on PYTHONPATH), so a project needs no change. Around each test
(setup, call and teardown) it runs the test in a unit of its own: a fresh cgroup with the
test's memory limit, which the runner made and kept for it while the test before ran; the
test moves itself in and tells the runner, which logs what the test used. The protocol is
runner/control/PROTOCOL.md.

After an OOM kill the runner starts pytest again and names, in WCMEM_SANDBOX_RESUME, the
tests that are done (with their reports) and the one that was killed: this plugin leaves
them out of the run and replays their reports, so that the terminal summary and
--junitxml list every test once. Without WCMEM_SANDBOX_SOCKET it does nothing.

Its modules, each importing only modules before it in this list (tests/plugin_check.py
fails on an import circle, or on a module over 450 lines):

    protocol       the protocol's constants (checked equal to the runner's), field encoding
    client         the connection to the runner
    libc           malloc_trim, a fork's shared pages made our own (ctypes), a child ended
    memory         the memory counters of this process's cgroup
    reports        a test's reports as one word for END, and back
    shard          --shard I/N: this run's share of the collected tests
    resume         the resume file, and the replay of the tests it names
    xarrays        the xarray datasets left open
    sampler        tracemalloc samples while a test runs (NOTE)
    room           pytest-xdist: a worker runs first a test that has room (ROOM)
    diagnostics    the extras a test's START and END add to its log entry
    figures        fixtures set up and shared, and the leak check, for budget and analyze
    forkserver     multiprocessing's forkserver, moved along with the tests
    markers        limit_memory and limit_leaks, enforced by the kernel
    xdist_support  pytest-xdist: crashed workers' verdicts, completeness, its schedulers
    workers        pytest-xdist's -n auto: no more workers than the sandbox total holds
    terminal       the memory section of pytest's terminal summary (TOP)
    units          WcmemPlugin: one unit per test
    junit          the peak and verdict of each test in pytest's own --junitxml
    measure        WCMEM_SANDBOX_MEASURE: each test in a fork of the collected pytest
    standby        a forked copy of pytest that stands by to resume after an OOM kill
"""
import os
import sys

import pytest

from . import markers
from .client import Runner, RunnerError
from .figures import EndFigures, LeakCheck, leak_check_repeats
from .junit import JunitFigures
from .measure import Measure, measuring
from .room import ROOM_FIRST, RoomFirst
from .shard import Shard
from .standby import Standby
from .terminal import MemorySummary
from .units import WcmemPlugin
from .workers import auto_workers
from .xdist_support import XdistCompleteness, in_xdist, is_xdist_controller


# Here, not on a plugin object: xdist asks before pytest_configure registers those.
@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_xdist_auto_num_workers(config):
    return auto_workers(config) if os.environ.get("WCMEM_SANDBOX_SOCKET") else None


def pytest_configure(config):
    markers.register(config)
    path = os.environ.get("WCMEM_SANDBOX_SOCKET")
    if not path or config.pluginmanager.has_plugin("wcmem-sandbox"):
        return
    try:
        runner = Runner(path, records=bool(getattr(config.option, "xmlpath", None)))
    except (OSError, RunnerError) as err:
        sys.stderr.write(f"wcmem-sandbox plugin: not in a sandbox ({err}): tests run without "
                         "units of their own\n")
        return
    plugin = WcmemPlugin(config, runner)
    config.pluginmanager.register(plugin, "wcmem-sandbox")
    plugin.shard = Shard.from_env()
    if plugin.shard:
        config.pluginmanager.register(plugin.shard, "wcmem-sandbox-shard")
    if plugin.diagnostics:
        plugin.figures = EndFigures(plugin)
        config.pluginmanager.register(plugin.figures, "wcmem-sandbox-figures")
        repeats = leak_check_repeats()
        if repeats:
            config.pluginmanager.register(LeakCheck(plugin.figures, repeats),
                                          "wcmem-sandbox-leak-check")
    if getattr(config.option, "xmlpath", None):
        config.pluginmanager.register(JunitFigures(plugin), "wcmem-sandbox-junit")
    measure = measuring()
    if measure and is_xdist_controller(config):
        sys.stderr.write("wcmem-sandbox plugin: WCMEM_SANDBOX_MEASURE=1 measures no test under "
                         "pytest-xdist (its workers run theirs one after another): run it "
                         "without -n to make budgets\n")
    if measure and not in_xdist(config) and hasattr(os, "fork"):
        # A kill ends a child, never this pytest: no copy needs to stand by.
        config.pluginmanager.register(Measure(plugin, path), "wcmem-sandbox-measure")
    elif not in_xdist(config) and hasattr(os, "fork"):
        config.pluginmanager.register(Standby(plugin, path), "wcmem-sandbox-standby")
    if not hasattr(config, "workerinput"):  # the one pytest that prints its summary
        config.pluginmanager.register(MemorySummary(config, plugin), "wcmem-sandbox-memory")
    if is_xdist_controller(config):
        config.pluginmanager.register(XdistCompleteness(config, plugin),
                                      "wcmem-sandbox-xdist")
    if getattr(config, "workerinput", {}).get(ROOM_FIRST) and runner.room:
        config.pluginmanager.register(RoomFirst(plugin), "wcmem-sandbox-room")
