#!/bin/bash
# Runs the project's integration tests on pure cgroup v2, in a qemu VM (TCG) that boots Debian's
# linux-image-amd64 with a busybox initramfs built here, sees the host's tree read-only over 9p,
# and writes its results into a second, writable 9p share. See tests/vm/README.md.
set -euo pipefail

usage() {
	cat <<'EOF'
Usage: tests/vm/run-vm.sh [OPTIONS] BIN [-- PYTEST_ARGS...]
       tests/vm/run-vm.sh --smoke-only [OPTIONS]

Boots a qemu VM with pure cgroup v2 and runs, as root in the root cgroup and then as uid 1000
in a delegated cgroup: tests/vm/smoke.sh, then the integration tests that tests/vm/tests.txt
lists (what a cgroup backend changes) with WCMEM_BIN=BIN (an absolute path on this host),
WCMEM_BACKEND=v2 and WCMEM_VM_PASS=root|user.

  --all              every integration test that makes a cgroup, not only tests.txt's
  --smoke-only       run only the smoke test in both passes (BIN is not needed)
  --results DIR      copy the VM's results (logs, junit xml, dmesg) into DIR
  --capture DIR      copy the smoke cgroup's v2 files (user pass) into DIR, as fixtures
  -h, --help         this text

Time limits catch hangs, not slow hosts (defaults several times the measured times):
  WCMEM_VM_TEST_TIMEOUT=300  seconds one test may take (pytest-timeout fails it by name)
  WCMEM_VM_SILENCE=600       seconds the VM may print nothing before it is called hung
  WCMEM_VM_TIMEOUT=2400      seconds for the whole VM, a last resort
  WCMEM_VM_ACCEL=kvm|tcg     skip the probe (default: KVM when a short probe boot works)
  WCMEM_VM_KERNEL            a version in /lib/modules (default: the newest *-amd64)
Exit status: 0 when every step of both passes passed; 1 when a test failed or a result is
missing (hang, kernel panic); 2 on a usage error or a missing package.
EOF
}

me=run-vm.sh
die() { echo "$me: $*" >&2; exit 2; }

VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
PROJECT=$(cd "$VM_DIR/../.." && pwd -P)
VM_TIMEOUT=${WCMEM_VM_TIMEOUT:-2400}
SILENCE=${WCMEM_VM_SILENCE:-600}
TEST_TIMEOUT=${WCMEM_VM_TEST_TIMEOUT:-300}
ACCEL=${WCMEM_VM_ACCEL:-}
PROBE_SECONDS=15
# The 9p modules and the order to insmod them in follow from modules.dep. unix_diag: the
# runner asks sock_diag who holds the other end of a control connection (a distribution
# kernel loads it on demand through modprobe, which the VM has not).
MODULES=(virtio_pci 9pnet_virtio 9p unix_diag)

mode=full all=0 bin="" results="" capture="" extra=()
while [ $# -gt 0 ]; do
	case $1 in
	--smoke-only) mode=smoke ;;
	--all) all=1 ;;
	--results | --capture)
		[ $# -ge 2 ] || die "$1 needs a directory"
		if [ "$1" = --results ]; then results=$2; else capture=$2; fi
		shift
		;;
	--results=*) results=${1#*=} ;;
	--capture=*) capture=${1#*=} ;;
	-h | --help) usage; exit 0 ;;
	--) shift; extra=("$@"); break ;;
	-*) die "unknown option $1 (try --help)" ;;
	*) [ -z "$bin" ] || die "one BIN only (try --help)"; bin=$1 ;;
	esac
	shift
done
for v in VM_TIMEOUT SILENCE TEST_TIMEOUT; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "WCMEM_$( [ $v = VM_TIMEOUT ] || echo VM_)$v must be a number of seconds"
done
case $ACCEL in '' | kvm | tcg) ;; *) die "WCMEM_VM_ACCEL must be kvm or tcg" ;; esac
if [ "$mode" = full ]; then
	[ -n "$bin" ] || die "BIN missing (try --help)"
	[[ $bin == /* ]] || die "BIN must be an absolute path: $bin"
	[ -f "$bin" ] && [ -x "$bin" ] || die "BIN is not an executable file: $bin"
	bin=$(realpath "$bin")
fi
for p in "$PROJECT" "$bin"; do
	[[ $p != *$'\n'* ]] || die "paths with a newline are not supported: $p"
done

# Packages: name exactly what is missing.
missing=()
pkg_installed() { [ "$(dpkg-query -W -f '${db:Status-Status}' "$1" 2>/dev/null)" = installed ]; }
have() { local p; p=$(command -v "$1") && [ -x "$p" ]; }
have qemu-system-x86_64 || missing+=(qemu-system-x86)
kver=${WCMEM_VM_KERNEL:-}
if [ -z "$kver" ]; then
	for d in /lib/modules/*-amd64; do
		v=${d##*/}
		[ -f "/boot/vmlinuz-$v" ] && [ -f "$d/modules.dep" ] || continue
		[ -n "$kver" ] && [ "$(printf '%s\n' "$kver" "$v" | sort -V | tail -1)" = "$kver" ] || kver=$v
	done
fi
[ -n "$kver" ] && [ -f "/boot/vmlinuz-$kver" ] || missing+=(linux-image-amd64)
pkg_installed busybox-static && [ -x /bin/busybox ] || missing+=(busybox-static)
if [ "$mode" = full ]; then
	[ -x /usr/bin/python3 ] || missing+=(python3)
	[ ! -x /usr/bin/python3 ] || /usr/bin/python3 -c 'import pytest' 2>/dev/null ||
		missing+=(python3-pytest)
	[ ! -x /usr/bin/python3 ] || /usr/bin/python3 -c 'import pytest_timeout' 2>/dev/null ||
		missing+=(python3-pytest-timeout)
	# The user pass's systemd user manager, and systemctl for the tests that ask it.
	[ -x /lib/systemd/systemd ] && have systemctl || missing+=(systemd)
fi
have setpriv || missing+=(util-linux)
if [ ${#missing[@]} -gt 0 ]; then
	die "missing Debian package(s): ${missing[*]} (install: apt-get install ${missing[*]})"
fi
vmlinuz=/boot/vmlinuz-$kver
[ -r "$vmlinuz" ] || die "cannot read $vmlinuz (run as root)"

tmp="" tee_pid=""
cleanup() {
	local rc=$? f p i
	trap - EXIT INT TERM HUP
	# Only the timeout and qemu this run started: their command lines name our temp dir.
	for f in probe.pid watchdog.pid timeout.pid qemu.pid; do
		[ -n "$tmp" ] && [ -s "$tmp/$f" ] || continue
		p=$(cat "$tmp/$f")
		grep -qF "$tmp" "/proc/$p/cmdline" 2>/dev/null || continue
		kill -TERM "$p" 2>/dev/null || true
		for i in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.5
		done
		kill -KILL "$p" 2>/dev/null || true
	done
	[ -z "$tee_pid" ] || wait "$tee_pid" 2>/dev/null || true
	[ -z "$tmp" ] || rm -rf "$tmp"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
tmp=$(mktemp -d "${TMPDIR:-/tmp}/wcmem-vm.XXXXXX")

# The initramfs: busybox, the 9p modules (decompressed here), init.sh as /init.
initrd=$tmp/initrd
share=$tmp/share
mkdir -p "$initrd"/{bin,dev,proc,sys,host,orig,res,lib/modules} "$share"
cp /bin/busybox "$initrd/bin/busybox"
cp "$VM_DIR/init.sh" "$initrd/init"
chmod 0755 "$initrd/init"

declare -A dep_of=() loaded=()
while IFS=: read -r ko deps; do dep_of[$ko]=$deps; done <"/lib/modules/$kver/modules.dep"
order=()
add_module() { # $1: path of a .ko relative to /lib/modules/$kver; its deps first, in the
	local i d # order modprobe loads them (modules.dep's list from the right)
	read -ra d <<<"${dep_of[$1]:-}"
	[ -z "${loaded[$1]:-}" ] || return 0
	loaded[$1]=1
	for ((i = ${#d[@]} - 1; i >= 0; i--)); do add_module "${d[i]}"; done
	order+=("$1")
}
for m in "${MODULES[@]}"; do
	ko=""
	for k in "${!dep_of[@]}"; do
		case ${k##*/} in "$m".ko | "$m".ko.*) ko=$k ;; esac
	done
	if [ -n "$ko" ]; then
		add_module "$ko"
	elif ! grep -q "/$m\.ko" "/lib/modules/$kver/modules.builtin"; then
		die "kernel $kver has no module $m"
	fi
done
for ko in "${order[@]}"; do
	name=${ko##*/}
	name=${name%%.ko*}
	src=/lib/modules/$kver/$ko
	case $ko in
	*.ko) cp "$src" "$initrd/lib/modules/$name.ko" ;;
	*.ko.xz) busybox xzcat "$src" >"$initrd/lib/modules/$name.ko" ;;
	*.ko.gz) busybox zcat "$src" >"$initrd/lib/modules/$name.ko" ;;
	*.ko.zst)
		have zstd || die "missing Debian package: zstd (modules are .ko.zst)"
		zstd -qdc "$src" >"$initrd/lib/modules/$name.ko"
		;;
	*) die "unknown module format: $src" ;;
	esac
	echo "$name" >>"$initrd/modules"
done
(cd "$initrd" && find . | busybox cpio -o -H newc 2>/dev/null) >"$tmp/initrd.cpio"

# What the VM reads from the results share.
echo "$PROJECT" >"$share/project"
printf '%s\n' "$PROJECT" ${bin:+"$(dirname "$bin")"} >"$share/binds"
{
	printf 'MODE=%q\nPROJECT=%q\nBIN=%q\nALL=%q\n' "$mode" "$PROJECT" "$bin" "$all"
	printf 'TEST_TIMEOUT=%q\n' "$TEST_TIMEOUT"
	printf 'CAPTURE=%q\n' "$([ -n "$capture" ] && echo 1 || echo 0)"
	printf 'EXTRA=('
	[ ${#extra[@]} -eq 0 ] || printf '%q ' "${extra[@]}"
	printf ')\n'
} >"$share/config"

KERNEL_ARGS="console=ttyS0 edd=off loglevel=3 panic=-1"
qemu_args() { # $1: kvm or tcg
	if [ "$1" = kvm ]; then echo "-accel kvm -cpu host"; else echo "-accel tcg -cpu max"; fi
}

# KVM where it works: a probe boot to init.sh, bounded by PROBE_SECONDS (a good KVM gets there
# in about a second; TCG needs about 6). Where /dev/kvm exists but a guest hangs in early boot,
# the probe times out and the run falls back to TCG.
probe_kvm() {
	local rc=0
	[ -c /dev/kvm ] && [ -r /dev/kvm ] && [ -w /dev/kvm ] || return 1
	# shellcheck disable=SC2046 # the accelerator's words
	timeout -k 2 "$PROBE_SECONDS" qemu-system-x86_64 $(qemu_args kvm) -m 256M -smp 1 \
		-nographic -no-reboot -no-user-config -nic none \
		-kernel "$vmlinuz" -initrd "$tmp/initrd.cpio" -append "$KERNEL_ARGS wcmem.probe=1" \
		</dev/null >"$tmp/probe.log" 2>&1 &
	echo $! >"$tmp/probe.pid"
	wait $! || rc=$?
	rm -f "$tmp/probe.pid"
	grep -q 'vm-init: probe ok' "$tmp/probe.log"
}
if [ -z "$ACCEL" ]; then
	probe_start=$SECONDS
	if probe_kvm; then
		ACCEL=kvm
		echo "$me: KVM probe booted in $((SECONDS - probe_start))s: using KVM"
	else
		ACCEL=tcg
		if [ -c /dev/kvm ]; then
			echo "$me: KVM probe did not boot within ${PROBE_SECONDS}s: using TCG"
		fi
	fi
fi

echo "$me: kernel $kver, $ACCEL, $mode run of $PROJECT${bin:+ with $bin}"
echo "$me: a test may take ${TEST_TIMEOUT}s, the console may be silent ${SILENCE}s, the VM may run ${VM_TIMEOUT}s"
start=$SECONDS
# The VM's serial console, live, without carriage returns and the firmware's terminal escapes.
# timeout bounds the whole VM (a last resort); the watchdog below catches a hang sooner.
(
	# shellcheck disable=SC2046 # the accelerator's words
	timeout -k 10 "$VM_TIMEOUT" qemu-system-x86_64 \
		$(qemu_args "$ACCEL") -m 2G -smp 2 -nographic -no-reboot -no-user-config -nic none \
		-pidfile "$tmp/qemu.pid" \
		-kernel "$vmlinuz" -initrd "$tmp/initrd.cpio" \
		-append "$KERNEL_ARGS cgroup_no_v1=all" \
		-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
		-virtfs "local,path=$share,mount_tag=wcmemres,security_model=none" \
		</dev/null 2>&1 &
	echo $! >"$tmp/timeout.pid"
	rc=0
	wait $! || rc=$?
	echo $rc >"$tmp/timeout.rc"
) | sed -u 's/\r//g; s/\x1b\[[0-9;?]*[A-Za-z]//g; s/\x1b[c=>]//g' | tee "$tmp/console.log" &
tee_pid=$!

# The watchdog: a VM whose console says nothing for SILENCE seconds is hung (every test prints
# a line as it ends, and each test is bounded by TEST_TIMEOUT well below SILENCE).
(
	while sleep 5; do
		[ -s "$tmp/timeout.pid" ] || continue
		p=$(cat "$tmp/timeout.pid")
		kill -0 "$p" 2>/dev/null || exit 0
		[ -f "$tmp/console.log" ] || continue
		quiet=$(($(date +%s) - $(stat -c %Y "$tmp/console.log")))
		if [ "$quiet" -ge "$SILENCE" ]; then
			echo "$quiet" >"$tmp/hung"
			kill -TERM "$p" 2>/dev/null
			exit 0
		fi
	done
) &
echo $! >"$tmp/watchdog.pid"
wait "$tee_pid" || true
tee_pid=""
kill "$(cat "$tmp/watchdog.pid")" 2>/dev/null || true
rm -f "$tmp/watchdog.pid"
elapsed=$((SECONDS - start))

# The verdict, from the results share only.
[ -z "$results" ] || { mkdir -p "$results" && cp -r "$share"/. "$results"/; }
passed=0 failed=0 skipped=0 problems=()
junit_counts() { # FILE: "tests failed skipped", a test counted once (a failure in the call
	# and an error in its teardown are one failed test)
	/usr/bin/python3 - "$1" <<'PY' || echo "0 1 0"
import sys
import xml.etree.ElementTree as ET
cases = list(ET.parse(sys.argv[1]).getroot().iter("testcase"))
ids = {(c.get("classname"), c.get("name")) for c in cases}
bad = {(c.get("classname"), c.get("name")) for c in cases if c.find("failure") is not None or c.find("error") is not None}
skip = {(c.get("classname"), c.get("name")) for c in cases if c.find("skipped") is not None} - bad
print(len(ids), len(bad), len(skip))
PY
}
# The pass's slowest tests, and each test that failed or that pytest-timeout stopped, by name.
junit_times() { # PASS FILE
	/usr/bin/python3 - "$@" <<'PY' || true
import sys
import xml.etree.ElementTree as ET
name, path = sys.argv[1:]
cases = list(ET.parse(path).getroot().iter("testcase"))
def nodeid(c):
    return c.get("classname", "").replace(".", "/") + ".py::" + c.get("name", "")
took = {}
for c in cases:  # a test's call and teardown may be two testcases
    took[nodeid(c)] = took.get(nodeid(c), 0) + float(c.get("time") or 0)
slow = sorted(took.items(), key=lambda kv: -kv[1])[:3]
print(f"vm[{name}]: slowest: " + ", ".join(f"{k} {v:.1f}s" for k, v in slow))
# Each failed test by name, with the first line of why: a long log is often cut in the
# middle, and the end is what a reader sees.
for c in cases:
    for f in c.findall("failure") + c.findall("error"):
        why = (f.get("message") or "").strip().splitlines()
        why = why[0][:200] if why else "no message"
        if "Timeout" in why:
            print(f"vm[{name}]: hung: {nodeid(c)} ({why})")
        else:
            print(f"vm[{name}]: failed: {nodeid(c)}: {why}")
PY
}
for pass in root user; do
	r=$share/$pass
	rc=$(cat "$r/smoke.rc" 2>/dev/null || echo none)
	if [ "$rc" = 0 ]; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		problems+=("$pass pass: smoke test $([ "$rc" = none ] && echo 'gave no result' || echo "exit $rc")")
	fi
	[ "$mode" = full ] || continue
	rc=$(cat "$r/pytest.rc" 2>/dev/null || echo none)
	t=0 f=0 s=0
	[ ! -s "$r/junit.xml" ] || read -r t f s < <(junit_counts "$r/junit.xml")
	echo "vm[$pass]: pytest exit $rc; tests $t: passed $((t - f - s)), failed $f, skipped $s;" \
		"$(cat "$r/pytest.seconds" 2>/dev/null || echo ?)s"
	[ ! -s "$r/junit.xml" ] || junit_times "$pass" "$r/junit.xml"
	passed=$((passed + t - f - s)) failed=$((failed + f)) skipped=$((skipped + s))
	case $rc in
	0) ;;
	1) [ "$f" -gt 0 ] || { failed=$((failed + 1)); problems+=("$pass pass: pytest exit 1 without failures in its junit xml"); } ;;
	5) failed=$((failed + 1)); problems+=("$pass pass: pytest collected no tests (exit 5)") ;;
	none) failed=$((failed + 1)); problems+=("$pass pass: pytest gave no result") ;;
	*) failed=$((failed + 1)); problems+=("$pass pass: pytest exit $rc (interrupted, internal or usage error)") ;;
	esac
done
vm_rc=$(cat "$tmp/timeout.rc" 2>/dev/null || echo none)
if [ ! -f "$share/done" ]; then
	if grep -q 'Kernel panic' "$tmp/console.log"; then
		problems+=("the VM's kernel panicked")
	elif [ -f "$tmp/hung" ]; then
		problems+=("hung: the VM printed nothing for $(cat "$tmp/hung")s; its last lines: $(grep -v '^$' "$tmp/console.log" | tail -3 | tr '\n' '|')")
	elif [ "$vm_rc" = 124 ] || [ "$vm_rc" = 137 ]; then
		problems+=("hung: the VM still ran after ${VM_TIMEOUT}s (WCMEM_VM_TIMEOUT)")
	else
		problems+=("the VM stopped before guest.sh finished")
	fi
fi
# Shown, pass or fail (OOM kills print call traces too: those are expected, not shown).
kernel_trouble='BUG:|Oops|WARNING:|general protection|Kernel panic|soft lockup|hung_task'
if [ -s "$share/dmesg.txt" ] && grep -qE "$kernel_trouble" "$share/dmesg.txt"; then
	echo "vm: kernel messages of note (guest dmesg):"
	grep -E -A12 "$kernel_trouble" "$share/dmesg.txt" | head -60
fi
if [ -n "$capture" ]; then
	if [ -s "$share/capture-user/memory.events" ]; then
		mkdir -p "$capture" && cp "$share/capture-user"/* "$capture"/
		echo "vm: captured the user pass's smoke cgroup files into $capture"
	else
		problems+=("nothing captured")
	fi
fi
for p in "${problems[@]}"; do echo "vm: FAILED: $p"; done
# A problem that no test count holds (no result at all, nothing captured) still fails.
[ ${#problems[@]} -eq 0 ] || [ "$failed" -gt 0 ] || failed=1
echo "vm: 2 passes (root, user), $mode run, ${elapsed}s in the VM"
echo "vm: $passed passed, $failed failed$([ "$skipped" = 0 ] || echo ", $skipped skipped")"
[ "$failed" = 0 ] && [ ${#problems[@]} -eq 0 ]
