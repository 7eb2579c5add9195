#!/bin/sh
# The main job on the bundled example: its pytest suite under a 512 MiB sandbox with a
# 256 MiB limit per test. Expected: test_ensemble_blowup is OOM-killed in its own cgroup
# and named, the tests after it still run, and pytest reports 1 failed and 6 passed (exit 1).
# Then `analyze` reads the log: the killed test, the biggest, and the one that leaks.
# Exits 0 when that is what happened.
set -u
bin=${1:-./wcmem-sandbox}
here=$(dirname "$0")
log=${DEMO_LOG:-build/example-memory.log}

echo "\$ wcmem-sandbox --limit 512M --test-limit 256M --log $log -- python3 -m pytest -q $here"
"$bin" --limit 512M --test-limit 256M --log "$log" -- \
	/usr/bin/python3 -m pytest -q -p no:cacheprovider "$here"
rc=$?
echo
echo "exit status: $rc (pytest's own: 1 = a test failed; the killed one is reported as failed)"
echo "--- the memory log ($log), the killed test's end:"
grep -A 20 "TEST_END: .*test_ensemble_blowup" "$log" | sed '/^\[.*TEST_START/,$d'
echo
echo "\$ wcmem-sandbox analyze $log"
"$bin" analyze "$log" || exit 1
[ "$rc" -eq 1 ] && grep -q "OOM: killed (exceeded its own limit 256.0 MB)" "$log"
