#!/bin/bash
# Smoke test of cgroup v2 in the VM; guest.sh runs it first in each pass (as root in the root
# cgroup, and as the test user in a delegated cgroup).
# In a child of our own cgroup with memory.max=50M, python3 allocating 200 MiB must be
# OOM-killed (exit 137) and counted there (memory.events: oom_kill 1).
# With WCMEM_VM_CAPTURE=DIR it also copies that cgroup's files into DIR (unit-test fixtures).
# Exit 0 when all holds; 1 with the reason on stdout otherwise.
set -euo pipefail

CG=/sys/fs/cgroup
own=$(sed -n 's/^0:://p' /proc/self/cgroup)
base=$CG${own%/}
leaf=""
enabled=0
hog=$base/smoke-oom

say() { printf 'smoke: %s\n' "$*"; }
fail() { say "FAILED: $*"; exit 1; }

cleanup() {
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		[ -d "$hog" ] || break
		rmdir "$hog" 2>/dev/null || sleep 0.1
	done
	[ ! -d "$hog" ] || say "warning: could not remove $hog"
	if [ "$enabled" = 1 ]; then
		echo -memory >"$base/cgroup.subtree_control" || say "warning: could not disable memory in $base"
	fi
	if [ -n "$leaf" ]; then
		echo $$ >"$base/cgroup.procs" || say "warning: could not move back to $base"
		rmdir "$leaf" || say "warning: could not remove $leaf"
	fi
}

[ "$(stat -f -c %T "$CG")" = cgroup2fs ] || fail "$CG is not cgroup2"
[ -z "$(awk '$3 == "cgroup"' /proc/mounts)" ] || fail "cgroup v1 hierarchies are mounted"
[ "$(wc -l </proc/self/cgroup)" = 1 ] || fail "/proc/self/cgroup has more than the v2 line"
say "uid $(id -u), cgroup $own, controllers: $(cat "$base/cgroup.controllers")"

trap cleanup EXIT
# v2 forbids processes in a non-root cgroup that enables controllers for its children:
# leave our own cgroup for a leaf first (the root cgroup is exempt).
if [ "$own" != / ]; then
	leaf=$base/smoke-self
	mkdir "$leaf"
	echo $$ >"$leaf/cgroup.procs"
fi
if ! grep -qw memory "$base/cgroup.subtree_control"; then
	echo +memory >"$base/cgroup.subtree_control"
	enabled=1
fi

mkdir "$hog"
echo 50M >"$hog/memory.max"
[ "$(cat "$hog/memory.max")" = 52428800 ] || fail "memory.max reads $(cat "$hog/memory.max")"
echo 0 >"$hog/memory.swap.max"

# python3's own stderr goes to a file: the shell's "Killed" note on stderr is noise here.
err=$(mktemp)
rc=$({
	bash -c 'echo $$ >"$1/cgroup.procs" && exec /usr/bin/python3 -c "b=bytearray(200<<20)" 2>"$2"' \
		_ "$hog" "$err"
	echo $?
} 2>/dev/null)
[ ! -s "$err" ] || { say "python3 said:"; cat "$err"; }
rm -f "$err"
events=$(tr '\n' ' ' <"$hog/memory.events")
say "python3 bytearray(200 MiB) under memory.max=50M: exit $rc; memory.events: $events"
say "memory.peak $(cat "$hog/memory.peak"), memory.current $(cat "$hog/memory.current")"

if [ -n "${WCMEM_VM_CAPTURE:-}" ]; then
	for f in memory.events memory.events.local memory.max memory.peak memory.current \
		memory.swap.max cgroup.events; do
		cat "$hog/$f" >"$WCMEM_VM_CAPTURE/$f"
	done
	bash -c 'echo $$ >"$1/cgroup.procs" && exec cat /proc/self/cgroup' _ "$hog" \
		>"$WCMEM_VM_CAPTURE/proc_self_cgroup"
	say "captured $hog into $WCMEM_VM_CAPTURE"
fi

[ "$rc" = 137 ] || fail "python3 exited $rc, want 137 (SIGKILL by the OOM killer)"
grep -qx 'oom_kill 1' "$hog/memory.events" || fail "memory.events has no 'oom_kill 1'"
say "ok"
