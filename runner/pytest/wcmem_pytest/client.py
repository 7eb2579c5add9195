"""The connection to the runner: one line out, one answer back (runner/control/PROTOCOL.md)."""
import os
import select
import socket

from .protocol import NEXT, OPTIONS, ROOM, RUN_PROTOCOL_VERSION, decode, encode


class RunnerError(Exception):
    """The runner refused a line (verb: the line's verb), or closed the connection."""

    def __init__(self, verb, text, closed=False, last_taken=False):
        super().__init__(f"{verb}: {text}")
        self.verb, self.closed = verb, closed
        self.last_taken = last_taken  # the last line waited for was taken all the same


class Runner:
    """The connection to wcmem-sandbox: one line out, one answer back."""

    def __init__(self, path, records=False):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.buf = bytearray()
        self.held = b""
        self.unsent = 0  # lines held, the last of self.pending
        self.pending = []
        # The cgroup.procs of the unit the runner keeps for our next START (keep=1), from
        # the last START's answer: that test moves itself in and does not wait.
        self.kept = None
        # records: pytest writes its own JUnit XML, which gets every test's VERDICT
        hello = self.call("HELLO", str(RUN_PROTOCOL_VERSION), records="1" if records else None)
        # STARTs wait for room by what the tests are expected to take: a client with tests
        # to choose from may ask ROOM which would start now.
        self.room = ROOM in hello.split()

    def send(self, verb, *fields, hold=False, **options):
        """Sends a line without waiting for its answer (read before the next call's): the
        runner ends one test while pytest moves on to the next. A line held goes with the
        next one: one write, and one wake of the runner, for both. A verb or a field the
        protocol does not have is the plugin's own mistake: ValueError, before anything
        goes out."""
        allowed = OPTIONS.get(verb)
        if allowed is None or not all(key in allowed for key in options):
            raise ValueError(f"{verb} with {sorted(options)}: not a line of the protocol")
        words = [verb, *fields]
        words += [f"{key}={encode(value)}" for key, value in options.items() if value is not None]
        line = (" ".join(words) + "\n").encode()
        self.pending.append(verb)
        if hold:
            self.held += line
            self.unsent += 1
            return
        line, self.held, self.unsent = self.held + line, b"", 0
        self.sock.sendall(line)

    def flush(self):
        """Sends the line held back, if any."""
        if self.held:
            line, self.held, self.unsent = self.held, b"", 0
            self.sock.sendall(line)

    def call(self, verb, *fields, **options):
        """Sends a line and returns its answer's text. Raises RunnerError when the runner
        refuses it, or an earlier line sent without waiting (the first such error), and
        OSError when the connection is gone."""
        self.send(verb, *fields, **options)
        return self.wait()

    def line(self, block=True):
        """The runner's next line with its newline; b"" once it closed the connection;
        None when block is False and no whole line has come yet."""
        while True:
            end = self.buf.find(b"\n")
            if end >= 0:
                line = bytes(self.buf[:end + 1])
                del self.buf[:end + 1]
                return line
            if not block and not select.select([self.sock], [], [], 0)[0]:
                return None  # cheaper than recv's BlockingIOError, each test
            got = self.sock.recv(4096)
            if not got:
                return b""
            self.buf += got

    def take_fd(self, verb):
        """Sends verb and returns the descriptor its answer carries (SCM_RIGHTS). Raises
        RunnerError when the runner refuses it or sends none, OSError when it is gone."""
        self.wait()
        self.send(verb)
        self.pending.pop()  # answered here, with its descriptor, not by wait()
        fds = []
        try:
            while b"\n" not in self.buf:
                got, new, _, _ = socket.recv_fds(self.sock, 4096, 1)
                fds += new
                if not got:
                    raise RunnerError(verb, "the runner closed the connection", closed=True)
                self.buf += got
            answer = self.line().decode("utf-8", "replace").rstrip("\n")
            if answer != "OK" or not fds:
                raise RunnerError(verb, answer if answer != "OK" else "no descriptor came")
            return fds.pop(0)
        finally:
            for fd in fds:
                os.close(fd)

    def wait(self, block=True):
        """Reads every answer owed, in order, so that none is left to be taken for the
        next line's; returns the last one's text, or raises the first refusal. With block
        False, only the answers that have come (and a line held back stays so)."""
        if block:
            self.flush()
        text, refused, taken = "", None, False
        while len(self.pending) > self.unsent:
            raw = self.line(block)
            if raw is None:
                break
            verb = self.pending.pop(0)
            if not raw:
                self.pending.clear()
                self.held, self.unsent, self.kept = b"", 0, None
                raise RunnerError(verb, "the runner closed the connection", closed=True)
            answer = raw.decode("utf-8", "replace").rstrip("\n")
            taken = answer == "OK" or answer.startswith("OK ")
            if not taken:
                refused = refused or RunnerError(verb, answer)
            text = answer[3:]
            if verb == "START":
                text, _, kept = text.partition(NEXT)
                self.kept = (decode(kept) if "%" in kept else kept) if taken and kept else None
        if refused:
            refused.last_taken = taken
            raise refused
        return text
