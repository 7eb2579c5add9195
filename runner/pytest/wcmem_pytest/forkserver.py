"""multiprocessing's forkserver, moved along with the tests it forks children for."""
import os
import sys

from .memory import UnitMemory


class Forkserver:
    """multiprocessing's forkserver outlives the test that started it, and forks the
    children later tests ask for: each is charged to the cgroup the forkserver is in when
    it forks. So the forkserver follows the tests: into each test's unit as it starts
    (after this process moved there), and out to the sandbox's harness before its END is
    sent, so that the runner never finds it among what the test left behind, and never
    moves it while the next test moves it in. Only a forkserver that is this process's
    child: its pid cannot name another process until this process reaps it."""

    def __init__(self):
        self.unit = UnitMemory()  # finds this process's memory cgroup
        self.failed = False      # a move was refused: not tried again

    def follow(self):
        self._move(lambda unit: unit)

    def leave(self):
        self._move(lambda unit: os.path.join(os.path.dirname(unit), "harness"))

    def _move(self, where):
        pid = forkserver_pid()
        if pid is None or self.failed:
            return
        try:
            if not _is_child(pid):
                return
            unit = self._own_cgroup()
            if unit is None:
                return
            fd = os.open(os.path.join(where(unit), "cgroup.procs"), os.O_WRONLY | os.O_CLOEXEC)
            try:
                os.write(fd, str(pid).encode())
            finally:
                os.close(fd)
        except ProcessLookupError:
            pass  # it ended meanwhile: multiprocessing starts another when asked
        except OSError as err:
            self.failed = True
            sys.stderr.write(f"wcmem-sandbox plugin: warning: cannot move multiprocessing's "
                             f"forkserver ({err}): the children it forks are charged to "
                             f"the sandbox's harness, not to their tests\n")

    def _own_cgroup(self):
        """The folder of this process's memory cgroup, or None."""
        found = self.unit.folder()
        return found[1] if found else None


def forkserver_pid():
    """The pid of multiprocessing's forkserver of this process, None when it runs none."""
    module = sys.modules.get("multiprocessing.forkserver")
    server = getattr(module, "_forkserver", None)
    pid = getattr(server, "_forkserver_pid", None)
    return pid if isinstance(pid, int) and pid > 0 else None


def _is_child(pid):
    """Whether pid is a child of this process (alive, or a zombie not yet reaped)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rpartition(b")")[2].split()
    except OSError:
        return False
    return len(fields) > 1 and fields[1] == str(os.getpid()).encode()
