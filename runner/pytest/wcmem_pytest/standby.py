"""After an OOM kill, a fork of the collected pytest instead of a new start (STANDBY)."""
import os
import select
import sys
import time

import pytest

from .client import Runner, RunnerError
from .libc import end_child, own_pages
from .protocol import WAKE, decode
from .resume import Resume


class Standby:
    """After an OOM kill, a fork instead of a new start, import and collection.

    Once the tests are collected, this pytest forks a copy that tells the runner it stands
    by (STANDBY) and waits, outside every unit, touching nothing. When a test takes this
    process with it, the runner wakes the copy (WAKE and the resume file): it leaves out
    what is done, replays its reports, forks its own copy and goes on. What this process
    set up (session- and module-scoped fixtures) is not in the copy, which sets it up
    again, as a restarted pytest would. No copy stands by when threads run besides this one
    (a fork copies only the one that forks) or under xdist; then, or when the copy cannot
    take over, the runner starts pytest again."""

    READY_WAIT = 30  # seconds for the copy to stand by, then the run goes on without it
    told = False  # why no copy stands by, said once (a copy inherits it)

    def __init__(self, wcmem, path):
        self.wcmem, self.path = wcmem, path
        self.pid = None  # the copy standing by for this process

    @pytest.hookimpl(hookwrapper=True, tryfirst=True)
    def pytest_runtestloop(self, session):
        # A woken copy is the run from here on: it stands a copy of its own by, then runs.
        while self._can_stand_by(session):
            resume = self._fork(session)
            if resume is None:
                break
            self._take_over(session, resume)
        yield

    def _can_stand_by(self, session):
        if self.wcmem.runner is None or self.wcmem.current is not None or not session.items:
            return False
        busy = _busy_thread()
        if busy:
            self._cannot(busy)
        return busy is None

    def _cannot(self, why):
        """Says once why no copy stands by: each kill then costs a new start."""
        if Standby.told or self.wcmem.resume is not None:  # a run started again: said
            return
        Standby.told = True
        text = (f"wcmem-sandbox plugin: no copy of pytest stands by ({why}): after an OOM "
                "kill pytest starts again, with its imports and collection\n")
        capman = self.wcmem.config.pluginmanager.getplugin("capturemanager")
        if capman is None:
            sys.stderr.write(text)
            return
        with capman.global_and_fixture_disabled():
            sys.stderr.write(text)
            sys.stderr.flush()

    def _fork(self, session):
        """Forks the copy. Returns None in this process; in the copy, once woken, the
        resume file's path (a copy not woken exits)."""
        reporter = self.wcmem.config.pluginmanager.getplugin("terminalreporter")
        for f in (getattr(reporter, "_tw", None), sys.stdout, sys.stderr):
            if f is not None:
                f.flush()  # or both would write it
        ready, told = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(ready)
            return self._stand_by(told)
        os.close(told)
        # Still in the command's unit, before any test; done while the copy connects and
        # is moved, not after (a copy refused leaves these pages to this process alone).
        own_pages()
        try:
            seen, _, _ = select.select([ready], [], [], self.READY_WAIT)
            said = os.read(ready, 1024) if seen else b"0it did not answer in time"
        finally:
            os.close(ready)
        if said == b"1":
            self.pid = pid
        else:
            end_child(pid)
            self._cannot(said[1:].decode("utf-8", "replace") or "it ended")
        return None

    def _stand_by(self, told):
        """In the copy: waits to be woken; exits when it is not (a normal end, a kill)."""
        try:
            old = self.wcmem.runner
            old.sock.close()  # the parent's connection: ours only closes here
            try:
                runner = Runner(self.path)
                runner.call("STANDBY")
            except (OSError, RunnerError) as err:
                os.write(told, b"0" + f"the runner: {err}".encode()[:1000])
                raise
            os.write(told, b"1")
            os.close(told)
            line = runner.line().decode("utf-8", "replace").rstrip("\n")
            if not line.startswith(WAKE):
                os._exit(0)
            self.wcmem.runner, self.pid = runner, None
            return decode(line[len(WAKE):])
        except BaseException:  # noqa: BLE001 -- refused, or interrupted: never run on
            os._exit(0)

    def _take_over(self, session, resume):
        wcmem = self.wcmem
        wcmem.resume = Resume(resume, wcmem.runner)
        session.items[:] = wcmem._deselect(session.items)
        # As a run started again counts: the tests it runs; the replay adds the rest.
        session.testscollected = len(session.items)

    def pytest_unconfigure(self, config):
        if self.pid is not None:
            end_child(self.pid)
            self.pid = None


# The system calls a thread idle between events waits in, by machine (x86_64; the generic
# table of aarch64 and riscv64): a read or accept on a socket, select, poll, epoll, a
# futex (a lock, an Event, a Queue), a sleep, a wait for a child or a signal.
_IDLE_CALLS = {
    "x86_64": {0, 7, 23, 34, 35, 43, 45, 47, 61, 128, 130, 202, 230, 232, 247, 270, 271,
               281, 288, 299, 441, 449},
    "generic": {22, 63, 72, 73, 95, 98, 101, 115, 133, 137, 202, 207, 212, 242, 243, 260,
                441, 449},
}
_IDLE_CALLS["aarch64"] = _IDLE_CALLS["riscv64"] = _IDLE_CALLS["generic"]


def _thread_state(tid):
    """(state letter, CPU ticks, system call number or -1) of one of our threads, from
    /proc; None when it is gone."""
    try:
        with open(f"/proc/self/task/{tid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        with open(f"/proc/self/task/{tid}/syscall") as f:
            call = f.read().split()
    except OSError:
        return None
    number = int(call[0]) if call and call[0].lstrip("-").isdigit() else -1
    return fields[0], int(fields[11]) + int(fields[12]), number


def _busy_thread():
    """None when no thread but this one runs: each waits in the kernel for an event (a
    server's accept, a timer's wait) and holds nothing a fork would leave locked in the
    copy, where it does not exist. Else why not, naming a thread that does run."""
    threading = sys.modules.get("threading")
    if threading is None or threading.active_count() == 1:
        return None
    me = threading.get_ident()
    others = [t for t in threading.enumerate() if t.ident != me and t.native_id]
    import platform
    idle = _IDLE_CALLS.get(platform.machine())
    time.sleep(0.002)  # lets go of the GIL: a thread waiting for it goes on to its wait
    before = {t.native_id: _thread_state(t.native_id) for t in others}
    time.sleep(0.002)
    for t in others:
        now = _thread_state(t.native_id)
        if now is None:
            continue  # it ended
        if now[0] != "S" or now != before[t.native_id] or (idle and now[2] not in idle):
            return f"thread {t.name!r} is running, not waiting for an event"
    return None
