"""What the plugin asks of glibc and the kernel: malloc_trim, the pages a fork shares made
this process's own (mincore, madvise, through ctypes), and a child of ours ended."""
import errno
import gc
import os
import re
import signal


def end_child(pid):
    """Kills a child of ours and waits for it: no zombie left (gone already: nothing)."""
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except OSError:
        pass


def release_memory():
    """gc.collect(), then glibc's malloc_trim(0): memory the test freed but the allocator
    kept for reuse (its heap grows past a freed block's size) is no leak of the test's."""
    gc.collect()
    malloc_trim()


def malloc_trim():
    """glibc's malloc_trim(0): the free pages of every heap back to the kernel."""
    try:
        import ctypes
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass


MADV_POPULATE_WRITE = 23  # Linux 5.14
_RESIDENT = bytes(b & 1 for b in range(256))  # mincore's byte to 1 (resident) or 0


def own_pages():
    """Copies now, while this process is in the command's unit, the pages it shares with
    the copy it just forked. Else each page is copied when first written to (a reference
    count is enough; a garbage collection writes to every object), and charged to the test
    that happens to run then: its peak would be too high, and memory it never allocated
    would seem left behind. Costs a copy of pytest's memory after collection, charged to
    the command's unit; the copy standing by keeps the originals. Only resident pages of
    private writable mappings (mincore), faulted in for writing by madvise
    (MADV_POPULATE_WRITE, Linux 5.14), which fails on a range that is gone instead of
    touching it. Best effort: on an older kernel the tests' figures include those pages."""
    import ctypes
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        page = os.sysconf("SC_PAGE_SIZE")
        with open("/proc/self/maps") as f:
            maps = [line.split()[:2] for line in f]
    except OSError:
        return
    for span, mode in maps:
        if mode != "rw-p":
            continue
        start, end = (int(x, 16) for x in span.split("-"))
        vec = (ctypes.c_ubyte * ((end - start) // page))()
        if libc.mincore(ctypes.c_void_p(start), ctypes.c_size_t(end - start), vec) != 0:
            continue
        # Runs of resident pages (bit 0), found in C: a loop in Python over every page of
        # a big heap takes milliseconds.
        for run in re.finditer(b"\x01+", bytes(vec).translate(_RESIDENT)):
            if libc.madvise(ctypes.c_void_p(start + run.start() * page),
                            ctypes.c_size_t((run.end() - run.start()) * page),
                            MADV_POPULATE_WRITE) != 0:
                if ctypes.get_errno() == errno.EINVAL:  # a kernel before 5.14
                    return
