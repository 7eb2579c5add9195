"""pytest-xdist's -n auto under the sandbox: no more workers than the sandbox total holds.

xdist counts CPUs only. Each worker is a pytest of its own that holds, once it collected,
what pytest holds here before collection (its plugins, the conftest files) and the test
modules it imported: counted as twice this process's resident memory now, a figure measured
on this machine, not a guess. The count is xdist's, or fewer when the total holds fewer
such workers beside the tests themselves (which wait for room at START, the runner's
admission), never more."""
import os
import sys

FOOTPRINT_FACTOR = 2  # a worker after collection, against pytest before it


def people(size):
    """Bytes as the runner writes them for people: MiB, or GiB from 1 GiB on."""
    return f"{size / (1 << 30):.1f} GiB" if size >= 1 << 30 else f"{size / (1 << 20):.1f} MiB"


def resident_bytes():
    """This process's VmRSS, or None."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def choose(cpus, limit, own, footprint):
    """(workers, why): at most cpus, at most what limit holds of footprint each beside
    this pytest's own memory, at least 1."""
    fit = max(1, (limit - own) // footprint)
    held = (f"the limit {people(limit)} less this pytest's {people(own)} holds "
            f"{fit} of {people(footprint)} each (twice what pytest holds before "
            "collection)")
    if fit >= cpus:
        return cpus, f"{cpus} by CPUs (pytest-xdist's choice); {held}"
    return fit, f"{held}, fewer than the {cpus} CPUs pytest-xdist would take"


def auto_workers(config):
    """The worker count for -n auto, said on stderr with why; None to leave it to xdist
    (no total, or PYTEST_XDIST_AUTO_NUM_WORKERS set)."""
    try:
        limit = int(os.environ.get("WCMEM_SANDBOX_LIMIT", ""))
    except ValueError:
        return None
    rss = resident_bytes()
    if limit <= 0 or not rss or os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None
    try:
        from xdist.plugin import pytest_xdist_auto_num_workers as by_cpus
    except ImportError:
        return None
    workers, why = choose(int(by_cpus(config)), limit, rss, rss * FOOTPRINT_FACTOR)
    sys.stderr.write(f"wcmem-sandbox: -n auto: {workers} worker{'s' if workers > 1 else ''}: "
                     f"{why}\n")
    return workers
