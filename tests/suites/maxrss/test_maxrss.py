"""What a test reads of its own process: after a 200 MB test, ru_maxrss and VmHWM must be
what they are without the sandbox. The figures go to $MAXRSS_OUT."""
import os
import resource


def test_a_200mb():
    block = bytearray(200 << 20)  # zero-filled: every page touched
    assert len(block) == 200 << 20


def test_b_reads_its_high_water_mark():
    with open("/proc/self/status") as f:
        hwm = next(line.split()[1] for line in f if line.startswith("VmHWM:"))
    with open(os.environ["MAXRSS_OUT"], "w") as f:
        f.write(f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss} {hwm}\n")
