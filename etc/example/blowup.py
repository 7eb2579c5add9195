"""A memory blow-up: takes 32 MiB more every 50 ms, as a runaway test does, and says how far
it got. Under `wcmem-sandbox --limit 256M` it is OOM-killed at the limit, every time, and
nothing else on the machine notices."""
import sys
import time

chunks = []
while True:
    chunks.append(bytearray(32 << 20))  # zero-filled: every page is really used
    print(f"blowup: holding {32 * len(chunks)} MiB", flush=True)
    if len(chunks) * 32 > int(sys.argv[1] if len(sys.argv) > 1 else 4096):
        print("blowup: never stopped: no limit held", flush=True)
        sys.exit(1)
    time.sleep(0.05)
