"""--tracemalloc N: samples of the running test's top allocations, sent as NOTE."""
import time

from .client import Runner, RunnerError


class TopSampler:
    """With --tracemalloc N, the test's top allocations sent to the runner every so often
    (NOTE), so that a test the OOM killer takes before its END still has its biggest
    allocation sites in its entry: the runner keeps the last sample for it. A thread and a
    connection of its own, so that the test's connection stays the main thread's; the
    thread runs only while a test does (none runs when pytest forks its copy, Standby).
    The first sample comes 0.1 s into the test; each wait doubles up to 2 s, and is at
    least ten times what the last sample took, so that sampling costs at most a tenth."""

    FIRST, LONGEST, COST_FACTOR = 0.1, 2.0, 10

    def __init__(self, path, sample):
        self.path, self.sample = path, sample
        self.runner = None  # made at the first sample
        self.thread = self.done = None
        self.gone = path is None

    def start(self, name):
        if self.gone:
            return
        import threading
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(name, self.done),
                                       name="wcmem-sandbox-tracemalloc", daemon=True)
        self.thread.start()

    def stop(self):
        if self.thread is not None:
            self.done.set()
            self.thread.join()
            self.thread = None

    def _run(self, name, done):
        began, wait = time.monotonic(), self.FIRST
        while not done.wait(wait):
            now = time.monotonic()
            text = self.sample(now - began)
            if done.is_set():
                return  # the test ended meanwhile: its END says more
            try:
                if self.runner is None:
                    self.runner = Runner(self.path)
                self.runner.call("NOTE", name, extras=text)
            except RunnerError as err:
                if err.closed:
                    self._give_up()
                    return
            except OSError:
                self._give_up()
                return
            cost = time.monotonic() - now
            wait = max(min(wait * 2, self.LONGEST), cost * self.COST_FACTOR)

    def _give_up(self):
        """The runner is gone or will not take a connection: no more samples."""
        self.gone = True
        if self.runner is not None:
            self.runner.sock.close()
            self.runner = None
