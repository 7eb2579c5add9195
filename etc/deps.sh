#!/bin/sh
# Installs the Debian packages that building and testing wcmem-sandbox needs: as root with
# apt-get; otherwise prints the exact command. Does nothing when all are present.
set -eu

PKGS="gcc make pkg-config libcgroup-dev libinih-dev libcmocka-dev python3 python3-pytest"
# pytest-xdist: the per-worker units test; pytest-forked: what `make bench` compares against.
PKGS="$PKGS python3-pytest-xdist python3-pytest-forked"
# The pure cgroup v2 tests boot a kernel under qemu (tests/vm).
PKGS="$PKGS qemu-system-x86 linux-image-amd64 busybox-static"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
if [ -z "$missing" ]; then
	echo "deps: all packages present"
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing:$missing" >&2
	echo "deps: run as root: apt-get update && apt-get install -y --no-install-recommends$missing" >&2
	exit 1
fi
echo "deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086  # word splitting of the package list is wanted
apt-get install -y -q --no-install-recommends $missing
