#!/bin/sh
# The main job on the bundled example: a memory blow-up run under a 256 MiB cap.
# Expected: the blow-up is OOM-killed at the cap (exit 137), the summary names the verdict,
# and the memory log shows it. Exits 0 when that is what happened.
set -u
bin=${1:-./wcmem-sandbox}
here=$(dirname "$0")
log=${DEMO_LOG:-build/example-memory.log}

echo "\$ wcmem-sandbox --limit 256M --log $log -- python3 $here/blowup.py"
"$bin" --limit 256M --log "$log" -- python3 "$here/blowup.py"
rc=$?
echo
echo "exit status: $rc (137 = killed by SIGKILL: the OOM killer, inside the sandbox)"
echo "--- the memory log ($log), last entries:"
tail -n 24 "$log"
[ "$rc" -eq 137 ]
